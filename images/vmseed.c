/* images/vmseed.c: the NoCloud seed of cloud-init VMs: an ISO9660 volume
 * labelled "cidata" holding meta-data and user-data, made by genisoimage. */
#include "images/vmrun.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/spawn.h"
#include "images/cat_vm.h"
#include "images/img_store.h"

#define SEED_DIR_MAX  4300
#define SEED_PATH_MAX 4400   /* SEED_DIR_MAX and a file name */

/* Writes @text to the file @dir/@name. 0 or -errno. */
static int put_file(const char *dir, const char *name, const char *text)
{
	char path[SEED_PATH_MAX];
	size_t len = strlen(text);
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	if (fchmod(fd, 0600) || write(fd, text, len) != (ssize_t)len)
		r = img_fail(-EIO, "%s: short write", path);
	close(fd);
	return r;
}

/* Runs @argv with its output in @log; 0, -ENOENT (not installed), -EIO. */
static int run_logged(const char *const argv[], const char *log)
{
	struct spawn_opts so;
	struct spawn_child child;
	int status, r, fd;

	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	spawn_opts_init(&so, argv);
	so.out = so.err = fd;
	so.set_umask = true;
	so.umask = 077;		/* the ISO holds the password hash */
	r = spawn_start(&so, &child);
	close(fd);
	if (!r)
		r = spawn_wait(&child, -1, &status);
	if (r)
		return r;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* The users: part of the user-data: root's password hash and SSH key
 * (the tiny template's init reads these two fields back, see
 * scripts/guest/init). The caller checked that neither needs escaping. */
static void user_part(const struct vmrec_cred *cr, char *buf, size_t len)
{
	size_t n;

	buf[0] = '\0';
	if (!cr || (!cr->pw_hash[0] && !cr->ssh_key[0]))
		return;
	n = (size_t)snprintf(buf, len, "disable_root: false\n%s"
			     "users:\n  - default\n  - name: root\n",
			     cr->pw_hash[0] ? "ssh_pwauth: true\n" : "");
	if (cr->pw_hash[0] && n < len)
		n += (size_t)snprintf(buf + n, len - n,
				      "    lock_passwd: false\n    hashed_passwd: \"%s\"\n",
				      cr->pw_hash);
	if (cr->ssh_key[0] && n < len)
		snprintf(buf + n, len - n, "    ssh_authorized_keys:\n      - \"%s\"\n",
			 cr->ssh_key);
}

int vmrec_seed_build(const struct cat_vm *vm, const struct vmrec_cred *cred, char *path,
		     size_t len)
{
	char dir[SEED_DIR_MAX], meta[SEED_PATH_MAX], user[SEED_PATH_MAX];
	char log[SEED_PATH_MAX], tmp[SEED_PATH_MAX], text[VMREC_KEY_MAX + 1024];
	char users[VMREC_KEY_MAX + 512];
	const char *const argv[] = {
		"genisoimage", "-quiet", "-output", tmp, "-V", "cidata", "-r", "-J", meta, user,
		NULL,
	};
	int r;

	if (vmrec_run_path(vm->name, "seed", dir, sizeof(dir)) ||
	    vmrec_run_path(vm->name, "seed.iso", path, len))
		return img_fail(-ENAMETOOLONG, "run directory path too long");
	if ((mkdir(dir, 0700) && errno != EEXIST) || chmod(dir, 0700))
		return img_fail(-errno, "%s: %s", dir, strerror(errno));
	snprintf(text, sizeof(text), "instance-id: %s\nlocal-hostname: %s\n", vm->uuid,
		 vm->name);
	r = put_file(dir, "meta-data", text);
	if (r)
		return r;
	user_part(cred, users, sizeof(users));
	snprintf(text, sizeof(text),
		 "#cloud-config\n"
		 "hostname: %s\n"
		 "write_files:\n"
		 "  - path: /etc/machine-id\n"
		 "    permissions: '0444'\n"
		 "    content: \"%s\\n\"\n"
		 "%s",
		 vm->name, vm->machine_id, users);
	r = put_file(dir, "user-data", text);
	explicit_bzero(text, sizeof(text));
	explicit_bzero(users, sizeof(users));
	if (r)
		return r;
	snprintf(meta, sizeof(meta), "%s/meta-data", dir);
	snprintf(user, sizeof(user), "%s/user-data", dir);
	snprintf(log, sizeof(log), "%s/genisoimage.log", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	r = run_logged(argv, log);
	if (r == -ENOENT)
		return img_fail(r, "cloud-init seed: genisoimage is not installed");
	if (r)
		return img_fail(r, "cloud-init seed: genisoimage failed (see %s)", log);
	if (chmod(tmp, 0600) || rename(tmp, path))
		return img_fail(-errno, "%s: %s", path, strerror(errno));
	unlink(log);
	return 0;
}
