/* appliance/tls.c: making and loading the daemon's self-signed TLS
 * certificate with GnuTLS. */
#include "appliance/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#define PEM_MAX (64 * 1024)

static int read_file(const char *path, char **out)
{
	char *buf = malloc(PEM_MAX + 1);
	ssize_t n, got = 0;
	int fd, r = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	while ((n = read(fd, buf + got, PEM_MAX - (size_t)got)) > 0)
		got += n;
	if (n < 0)
		r = -errno;
	else if (got == PEM_MAX)
		r = -EFBIG;
	close(fd);
	if (r) {
		free(buf);
		return r;
	}
	buf[got] = '\0';
	*out = buf;
	return 0;
}

/* Writes @len bytes to @path (0600) through a temporary file. */
static int write_file(const char *path, const void *data, size_t len)
{
	char tmp[4200];
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd))
		r = -EIO;
	close(fd);
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* Makes a key and a self-signed certificate; PEM into @kp and @cp. */
static int tls_make(gnutls_datum_t *kp, gnutls_datum_t *cp, char *err, size_t errlen)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[16], lo[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	char host[256] = "localhost";
	time_t now = time(NULL);
	int r;

	gethostname(host, sizeof(host) - 1);
	if ((r = gnutls_x509_privkey_init(&key)) ||
	    (r = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) ||
	    (r = gnutls_x509_crt_init(&crt)) ||
	    (r = gnutls_x509_crt_set_version(crt, 3)) ||
	    (r = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))))
		goto out;
	serial[0] &= 0x7f;	/* a positive serial number */
	if ((r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) ||
	    (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) ||
	    (r = gnutls_x509_crt_set_expiration_time(crt, now + 10L * 365 * 86400)) ||
	    (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
					       (unsigned)strlen(host))) ||
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
						      (unsigned)strlen(host), GNUTLS_FSAN_APPEND)) ||
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
						      GNUTLS_FSAN_APPEND)) ||
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, lo, 4,
						      GNUTLS_FSAN_APPEND)) ||
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, lo6, 16,
						      GNUTLS_FSAN_APPEND)) ||
	    /* its own anchor: clients may pass it as their CA file */
	    (r = gnutls_x509_crt_set_basic_constraints(crt, 1, 0)) ||
	    (r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
					       GNUTLS_KEY_KEY_CERT_SIGN)) ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) ||
	    (r = gnutls_x509_crt_set_key(crt, key)) ||
	    (r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) ||
	    (r = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, kp)) ||
	    (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, cp)))
		goto out;
out:
	if (r)
		snprintf(err, errlen, "making the TLS certificate: %s", gnutls_strerror(r));
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return r ? -EIO : 0;
}

static int tls_fingerprint(const char *cert, char fp[TLS_FP_LEN + 1], char *err, size_t errlen)
{
	gnutls_datum_t d = { (unsigned char *)cert, (unsigned)strlen(cert) };
	gnutls_x509_crt_t crt;
	unsigned char md[32];
	size_t len = sizeof(md);
	int r;

	if ((r = gnutls_x509_crt_init(&crt)))
		goto out;
	r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (!r)
		r = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md, &len);
	gnutls_x509_crt_deinit(crt);
out:
	if (r || len != 32) {
		snprintf(err, errlen, "the TLS certificate: %s", gnutls_strerror(r));
		return -EINVAL;
	}
	for (int i = 0; i < 32; i++)
		snprintf(fp + 3 * i, 4, "%02X%s", md[i], i < 31 ? ":" : "");
	return 0;
}

int api_tls_ensure(const char *state_dir, char **cert, char **key, char fp[TLS_FP_LEN + 1],
		   char *err, size_t errlen)
{
	char dir[4100], kpath[4200], cpath[4200];
	gnutls_datum_t kp = { 0 }, cp = { 0 };
	int r;

	*cert = *key = NULL;
	if (snprintf(dir, sizeof(dir), "%s/tls", state_dir) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	snprintf(kpath, sizeof(kpath), "%s/key.pem", dir);
	snprintf(cpath, sizeof(cpath), "%s/cert.pem", dir);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
		return r;
	}
	if (access(kpath, F_OK) || access(cpath, F_OK)) {
		r = tls_make(&kp, &cp, err, errlen);
		/* the key first: a certificate never names a key that is not there */
		if (!r && (r = write_file(kpath, kp.data, kp.size)))
			snprintf(err, errlen, "%s: %s", kpath, strerror(-r));
		if (!r && (r = write_file(cpath, cp.data, cp.size)))
			snprintf(err, errlen, "%s: %s", cpath, strerror(-r));
		gnutls_free(kp.data);
		gnutls_free(cp.data);
		if (r)
			return r;
	}
	if ((r = read_file(kpath, key)) || (r = read_file(cpath, cert))) {
		snprintf(err, errlen, "reading %s: %s", dir, strerror(-r));
		free(*key);
		*key = NULL;
		return r;
	}
	r = tls_fingerprint(*cert, fp, err, errlen);
	if (r) {
		free(*key);
		free(*cert);
		*key = *cert = NULL;
	}
	return r;
}

int api_tls_fingerprint(const char *state_dir, char fp[TLS_FP_LEN + 1])
{
	char path[4200], err[256], *cert;
	int r;

	if (snprintf(path, sizeof(path), "%s/tls/cert.pem", state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = read_file(path, &cert);
	if (r)
		return r;
	r = tls_fingerprint(cert, fp, err, sizeof(err));
	free(cert);
	return r;
}
