/* tools/vhdvisor/cmd_vm_login.c: `vm set NAME --password PW|- --ssh-key FILE|none`:
 * the guest's root login, handed to it by the NoCloud seed at its next
 * start (images/vmcred.c keeps only a SHA-512 crypt hash, 0600).
 * "--password -" reads the password from the first line of stdin, so it
 * does not show in the process list as an argument does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "images/img_store.h"
#include "images/vmrun.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

#define LOGIN_LINE_MAX (VMREC_KEY_MAX + 2)

/* The first line of @f (without its newline) into @buf; false when empty
 * or too long. */
static bool first_line(FILE *f, char *buf, size_t len)
{
	if (!fgets(buf, (int)len, f))
		return false;
	if (!strchr(buf, '\n') && !feof(f))
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] != '\0';
}

int cmd_vm_login(struct cat *c, const char *name, const char *password, const char *key_file)
{
	static char pw[LOGIN_LINE_MAX], key[LOGIN_LINE_MAX];
	const char *k = NULL;
	int r;

	if (password && !strcmp(password, "-")) {
		if (!first_line(stdin, pw, sizeof(pw))) {
			log_err("--password -: no password on the first line of stdin");
			return CLI_USAGE;
		}
		password = pw;
	}
	if (key_file && !strcmp(key_file, "none")) {
		k = "";
	} else if (key_file) {
		FILE *f = fopen(key_file, "re");

		if (!f) {
			log_err("--ssh-key %s: %s", key_file, strerror(errno));
			return CLI_FAIL;
		}
		if (!first_line(f, key, sizeof(key))) {
			fclose(f);
			log_err("--ssh-key %s: no key on its first line", key_file);
			return CLI_FAIL;
		}
		fclose(f);
		k = key;
	}
	r = vmrec_cred_set(c, name, password, k);
	explicit_bzero(pw, sizeof(pw));
	if (r) {
		log_err("%s", img_last_error());
		return CLI_FAIL;
	}
	return CLI_OK;
}
