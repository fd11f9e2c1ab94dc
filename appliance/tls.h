/* appliance/tls.h: the daemon's TLS identity: a self-signed certificate
 * made at first start, kept in STATE/tls/ (folder 0700, files 0600):
 *   STATE/tls/key.pem    ECDSA P-256 private key
 *   STATE/tls/cert.pem   its certificate (CN and SAN: the host name,
 *                        localhost, 127.0.0.1 and ::1; ten years)
 * Clients pin it by its SHA-256 fingerprint or pass it as their CA. */
#ifndef VV_APPLIANCE_TLS_H
#define VV_APPLIANCE_TLS_H

#include <stddef.h>

#define TLS_FP_LEN 95           /* "AB:CD:..." for 32 bytes */

/* Loads, or makes when missing, the key and certificate of @state_dir:
 * both PEM texts (NUL-terminated, free() them) in *@cert and *@key, and
 * the certificate's SHA-256 fingerprint in @fp. 0 or -errno, with a
 * reason in @err (@errlen bytes). */
int api_tls_ensure(const char *state_dir, char **cert, char **key, char fp[TLS_FP_LEN + 1],
		   char *err, size_t errlen);

/* The fingerprint of STATE/tls/cert.pem, made by api_tls_ensure(), without
 * making one: -ENOENT when the daemon never ran with --listen. */
int api_tls_fingerprint(const char *state_dir, char fp[TLS_FP_LEN + 1]);

#endif
