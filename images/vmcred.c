/* images/vmcred.c: the login credentials of a VM's guest (a root password
 * hash, an SSH public key), kept apart from the catalog in
 * STATE/secrets/<name> (0600 in a 0700 folder) and handed to the guest by
 * its NoCloud seed (vmseed.c). The plaintext password is never stored. */
#include "images/vmrun.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/cat_vm.h"
#include "images/img_store.h"

#define CRED_DIR       "secrets"
#define CRED_PATH_MAX  4400
#define CRED_PW_MAX    256

static int cred_path(struct cat *c, const char *name, char *buf, size_t len)
{
	char rel[CAT_NAME_MAX + 16];

	snprintf(rel, sizeof(rel), CRED_DIR "/%s", name);
	return cat_path(c, rel, buf, len);
}

/* A field that does not fit (a hand-edited file) reads as unset. */
static void copy_field(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n < len)
		memcpy(dst, src, n + 1);
}

int vmrec_cred_get(struct cat *c, const char *name, struct vmrec_cred *out)
{
	char path[CRED_PATH_MAX], line[VMREC_KEY_MAX + 32];
	FILE *f;

	memset(out, 0, sizeof(*out));
	if (cred_path(c, name, path, sizeof(path)))
		return img_fail(-ENAMETOOLONG, "state directory path too long");
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : img_fail(-errno, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "password_hash=", 14))
			copy_field(out->pw_hash, sizeof(out->pw_hash), line + 14);
		else if (!strncmp(line, "ssh_key=", 8))
			copy_field(out->ssh_key, sizeof(out->ssh_key), line + 8);
	}
	fclose(f);
	return 0;
}

/* Writes @cr as VM @name's credentials (tmp file, fsync, rename), or
 * removes the file when @cr holds nothing. */
static int cred_put(struct cat *c, const char *name, const struct vmrec_cred *cr)
{
	char dir[CRED_PATH_MAX], path[CRED_PATH_MAX], tmp[CRED_PATH_MAX + 8];
	int fd, r = 0;

	if (cat_path(c, CRED_DIR, dir, sizeof(dir)) || cred_path(c, name, path, sizeof(path)))
		return img_fail(-ENAMETOOLONG, "state directory path too long");
	if (!cr->pw_hash[0] && !cr->ssh_key[0])
		return unlink(path) && errno != ENOENT ?
			img_fail(-errno, "%s: %s", path, strerror(errno)) : 0;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return img_fail(-errno, "%s: %s", dir, strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return img_fail(-errno, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, 0600) ||
	    (cr->pw_hash[0] && dprintf(fd, "password_hash=%s\n", cr->pw_hash) < 0) ||
	    (cr->ssh_key[0] && dprintf(fd, "ssh_key=%s\n", cr->ssh_key) < 0) || fsync(fd))
		r = img_fail(-errno ? -errno : -EIO, "%s: %s", tmp, strerror(errno));
	close(fd);
	if (!r && rename(tmp, path))
		r = img_fail(-errno, "%s: %s", path, strerror(errno));
	if (r)
		unlink(tmp);
	return r;
}

/* A SHA-512 crypt(3) hash of @pw with a random salt into @out. */
static int pw_hash(const char *pw, char *out, size_t len)
{
	char rnd[16], salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	const char *h;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return img_fail(-EIO, "no random bytes for a salt");
	if (!crypt_gensalt_rn("$6$", 0, rnd, sizeof(rnd), salt, sizeof(salt)))
		return img_fail(-EINVAL, "crypt_gensalt: %s", strerror(errno));
	memset(&cd, 0, sizeof(cd));
	h = crypt_r(pw, salt, &cd);
	if (!h || h[0] != '$' || strlen(h) >= len)
		return img_fail(-EINVAL, "crypt: cannot hash the password");
	snprintf(out, len, "%s", h);
	explicit_bzero(&cd, sizeof(cd));
	return 0;
}

/* An OpenSSH public key line: "TYPE BASE64 [COMMENT]", printable, without
 * the characters that would need quoting in the seed's YAML. */
static bool ssh_key_valid(const char *k)
{
	static const char *const types[] = { "ssh-", "ecdsa-", "sk-" };
	bool typed = false;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		typed |= !strncmp(k, types[i], strlen(types[i]));
	if (!typed || !strchr(k, ' ') || strlen(k) >= VMREC_KEY_MAX)
		return false;
	for (const char *p = k; *p; p++)
		if (!isprint((unsigned char)*p) || *p == '"' || *p == '\\')
			return false;
	return true;
}

int vmrec_cred_set(struct cat *c, const char *name, const char *password,
		   const char *ssh_key)
{
	struct vmrec_cred cr;
	struct cat_vm vm;
	int r;

	r = cat_vm_get(c, name, &vm);
	if (r)
		return img_fail(r, "no VM '%s'", name);
	if (password && (!password[0] || strlen(password) >= CRED_PW_MAX ||
			 strpbrk(password, "\r\n")))
		return img_fail(-EINVAL, "the password must be 1-%d characters on one line",
				CRED_PW_MAX - 1);
	if (ssh_key && ssh_key[0] && !ssh_key_valid(ssh_key))
		return img_fail(-EINVAL, "not an OpenSSH public key line ('ssh-ed25519 AAAA... "
				"comment')");
	r = vmrec_cred_get(c, name, &cr);
	if (r)
		return r;
	if (password) {
		r = pw_hash(password, cr.pw_hash, sizeof(cr.pw_hash));
		if (r)
			return r;
	}
	if (ssh_key)
		copy_field(cr.ssh_key, sizeof(cr.ssh_key), ssh_key);
	return cred_put(c, name, &cr);
}

int vmrec_cred_remove(struct cat *c, const char *name)
{
	return cred_put(c, name, &(struct vmrec_cred){ 0 });
}
