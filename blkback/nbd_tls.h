/* blkback/nbd_tls.h: TLS credentials for the NBD server: a pre-shared key
 * file in the format of GnuTLS's psktool and QEMU's tls-creds-psk
 * ("keys.psk": one "username:hexkey" line per user).
 *
 * With credentials set (nbd_server_set_tls()), the server runs NBD's
 * FORCEDTLS mode: every option before NBD_OPT_STARTTLS except
 * NBD_OPT_ABORT is answered NBD_REP_ERR_TLS_REQD (NBD_OPT_EXPORT_NAME,
 * which cannot be refused, ends the connection), and after STARTTLS the
 * client must prove it knows a key of the file (TLS-PSK).
 */
#ifndef VV_BLKBACK_NBD_TLS_H
#define VV_BLKBACK_NBD_TLS_H

struct nbd_tls_creds;

/* Reads the keys of @path: a file, or a folder holding "keys.psk" (QEMU's
 * dir= layout). Blank lines are skipped; every other line must be
 * NAME:HEX with a non-empty name without ':' and an even number (2..1024)
 * of hex digits. With @user (not NULL), only that user's key is accepted
 * and the file must have it. The file is read once, here. Problems are
 * logged with the line number. 0, -ENOENT/-EACCES/..., -EINVAL (bad
 * line, no key, no such user) or -ENOMEM. */
int nbd_tls_creds_load_psk(const char *path, const char *user, struct nbd_tls_creds **out);
/* Frees @creds (NULL is fine). Only once no server uses them. */
void nbd_tls_creds_destroy(struct nbd_tls_creds *creds);

#endif
