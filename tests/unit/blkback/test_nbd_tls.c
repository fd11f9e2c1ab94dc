/* tests/unit/blkback/test_nbd_tls.c: reading a pre-shared key file
 * (nbd_tls_creds_load_psk): QEMU's keys.psk format, its folder form,
 * --tls-user, and the lines that must be refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkback/nbd_tls.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	strcpy(dir, "/tmp/vv-nbd-tls.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys.psk", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static int load(const char *text, const char *file, const char *user)
{
	struct nbd_tls_creds *cr = NULL;
	FILE *f = fopen(path, "w");
	int rc;

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
	rc = nbd_tls_creds_load_psk(file, user, &cr);
	cr_assert_eq(!!cr, rc == 0);
	nbd_tls_creds_destroy(cr);
	return rc;
}

TestSuite(nbd_tls, .init = setup, .fini = teardown);

Test(nbd_tls, good_files)
{
	cr_assert_eq(load("qemu:0123456789abcdefABCDEF00\n", path, NULL), 0);
	cr_assert_eq(load("qemu:00ff\r\n\nalice:1122\n", path, NULL), 0, "CRLF, blank line");
	cr_assert_eq(load("qemu:00ff\nalice:1122", path, "alice"), 0, "no final newline");
	cr_assert_eq(load("qemu:00ff\n", dir, NULL), 0, "a folder means FOLDER/keys.psk");
}

Test(nbd_tls, bad_files)
{
	cr_assert_eq(load("", path, NULL), -EINVAL, "no keys");
	cr_assert_eq(load("\n\n", path, NULL), -EINVAL, "only blank lines");
	cr_assert_eq(load("qemu00ff\n", path, NULL), -EINVAL, "no colon");
	cr_assert_eq(load(":00ff\n", path, NULL), -EINVAL, "no name");
	cr_assert_eq(load("qemu:\n", path, NULL), -EINVAL, "no key");
	cr_assert_eq(load("qemu:00f\n", path, NULL), -EINVAL, "odd hex digits");
	cr_assert_eq(load("qemu:00fg\n", path, NULL), -EINVAL, "not hex");
	cr_assert_eq(load("qemu:00 ff\n", path, NULL), -EINVAL, "a space");
	cr_assert_eq(load("qemu:00ff\nbroken\n", path, NULL), -EINVAL, "a bad second line");
	cr_assert_eq(load("qemu:00ff\n", path, "alice"), -EINVAL, "no key for --tls-user");
	cr_assert_eq(load("qemu:00ff\n", "/nonexistent/keys.psk", NULL), -ENOENT);
}

Test(nbd_tls, key_length_limit)
{
	size_t n = 5 + 2 * 513 + 2;
	char *big = malloc(n);

	cr_assert_not_null(big);
	memcpy(big, "qemu:", 5);
	memset(big + 5, 'a', 2 * 512);
	strcpy(big + 5 + 2 * 512, "\n");
	cr_assert_eq(load(big, path, NULL), 0, "512 bytes");
	memset(big + 5, 'a', 2 * 513);
	strcpy(big + 5 + 2 * 513, "\n");
	cr_assert_eq(load(big, path, NULL), -EINVAL, "513 bytes");
	free(big);
}
