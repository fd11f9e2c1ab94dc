/* Unit tests for images/vmcred.c: root's login of a VM's guest, kept as a
 * crypt(3) hash in STATE/secrets/<name> (0600 in a 0700 folder). */
#include <criterion/criterion.h>
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/cat_vm.h"
#include "images/vmrun.h"

static char dir[256];
static struct cat *c;

static void setup(void)
{
	struct cat_image img = { 0 };
	struct cat_vm vm = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/vvcred.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(cat_open(dir, &c), 0);
	memset(img.id, '1', CAT_ID_LEN);
	memset(img.file_sha256, '2', CAT_ID_LEN);
	strcpy(img.file, "images/x.vhd");
	cr_assert_eq(cat_image_add(c, &img), 0);
	strcpy(vm.name, "web");
	strcpy(vm.state, CAT_VM_READY);
	strcpy(vm.image, img.id);
	vm.cpus = 1;
	vm.mem = 256 << 20;
	strcpy(vm.mac, "02:00:00:00:00:01");
	strcpy(vm.uuid, "00000000-0000-0000-0000-000000000001");
	strcpy(vm.machine_id, "0123456789abcdef0123456789abcdef");
	cr_assert_eq(cat_vm_add(c, &vm), 0);
}

static void teardown(void)
{
	char cmd[300];

	cat_close(c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(vmcred, .init = setup, .fini = teardown);

static mode_t mode_of(const char *rel)
{
	char path[400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return st.st_mode & 07777;
}

Test(vmcred, password_hash_and_key)
{
	struct vmrec_cred cr;
	struct crypt_data cd = { 0 };
	const char *key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxx me@host";

	cr_assert_eq(vmrec_cred_get(c, "web", &cr), 0);
	cr_assert_str_empty(cr.pw_hash);
	cr_assert_eq(vmrec_cred_set(c, "web", "s3cret pw", NULL), 0);
	cr_assert_eq(mode_of("secrets"), 0700);
	cr_assert_eq(mode_of("secrets/web"), 0600);
	cr_assert_eq(vmrec_cred_get(c, "web", &cr), 0);
	cr_assert_eq(strncmp(cr.pw_hash, "$6$", 3), 0, "%s", cr.pw_hash);
	cr_assert_str_eq(crypt_r("s3cret pw", cr.pw_hash, &cd), cr.pw_hash);
	cr_assert_str_empty(cr.ssh_key);

	cr_assert_eq(vmrec_cred_set(c, "web", NULL, key), 0);
	cr_assert_eq(vmrec_cred_get(c, "web", &cr), 0);
	cr_assert_str_eq(cr.ssh_key, key);
	cr_assert_str_eq(crypt_r("s3cret pw", cr.pw_hash, &cd), cr.pw_hash, "kept");

	cr_assert_eq(vmrec_cred_remove(c, "web"), 0);
	cr_assert_eq(vmrec_cred_get(c, "web", &cr), 0);
	cr_assert_str_empty(cr.pw_hash);
	cr_assert_str_empty(cr.ssh_key);
}

Test(vmcred, refusals)
{
	struct vmrec_cred cr;

	cr_assert_eq(vmrec_cred_set(c, "nosuch", "pw", NULL), -ENOENT);
	cr_assert_eq(vmrec_cred_set(c, "web", "", NULL), -EINVAL);
	cr_assert_eq(vmrec_cred_set(c, "web", "two\nlines", NULL), -EINVAL);
	cr_assert_eq(vmrec_cred_set(c, "web", NULL, "root:x:0:0"), -EINVAL);
	cr_assert_eq(vmrec_cred_set(c, "web", NULL, "ssh-rsa AAAA\" evil"), -EINVAL);
	cr_assert_eq(vmrec_cred_get(c, "web", &cr), 0);
	cr_assert_str_empty(cr.pw_hash, "nothing stored by a refusal");
}
