/* Unit tests for common/usock.c usock_listen: what is at the path decides
 * (nothing, a stale socket: claimed; a file, folder, symlink, a live
 * listener: refused and left as it was), the mode is 0600 under any umask,
 * and a path too long for a temporary name beside it still works. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/usock.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/usock.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(usock, .init = setup, .fini = teardown);

static const char *at(const char *name)
{
	static char buf[4][256];
	static int slot;
	char *b = buf[slot++ % 4];

	snprintf(b, 256, "%s/%s", dir, name);
	return b;
}

/* True when a client connects to @path. */
static bool accepts(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), r;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

/* Entries in the test folder (no temporary names left behind). */
static int entries(void)
{
	char cmd[128];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	cr_assert(fscanf(p, "%d", &n) == 1);
	pclose(p);
	return n;
}

Test(usock, fresh_path_is_0600_under_umask_0)
{
	mode_t old = umask(0);
	struct stat st;
	int fd = usock_listen(at("s"), 4, 0);

	umask(old);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert_eq(lstat(at("s"), &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	cr_assert(accepts(at("s")));
	cr_assert_eq(entries(), 1);
	close(fd);
}

Test(usock, file_folder_symlink_are_refused_and_kept)
{
	struct stat st;
	int fd;

	fd = open(at("f"), O_CREAT | O_WRONLY, 0600);
	cr_assert_eq(write(fd, "data", 4), 4);
	close(fd);
	cr_assert_eq(usock_listen(at("f"), 4, 0), -EEXIST);
	cr_assert_eq(stat(at("f"), &st), 0);
	cr_assert(S_ISREG(st.st_mode) && st.st_size == 4);

	cr_assert_eq(mkdir(at("d"), 0700), 0);
	cr_assert_eq(usock_listen(at("d"), 4, 0), -EEXIST);
	cr_assert_eq(symlink(at("f"), at("l")), 0);
	cr_assert_eq(usock_listen(at("l"), 4, 0), -EEXIST);
	cr_assert_eq(lstat(at("l"), &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	cr_assert_eq(symlink(at("nowhere"), at("dangling")), 0);
	cr_assert_eq(usock_listen(at("dangling"), 4, 0), -EEXIST);
	cr_assert_eq(access(at("nowhere"), F_OK), -1);
	cr_assert_eq(entries(), 4);
	cr_assert_str_eq(usock_listen_strerror(-EEXIST),
			 "something that is not a socket is in the way (not replaced)");
}

Test(usock, live_listener_is_refused_stale_socket_replaced)
{
	struct stat st1, st2;
	int fd1 = usock_listen(at("s"), 4, USOCK_NONBLOCK), fd2;

	cr_assert_geq(fd1, 0);
	cr_assert(fcntl(fd1, F_GETFL) & O_NONBLOCK);
	cr_assert_eq(lstat(at("s"), &st1), 0);
	cr_assert_eq(usock_listen(at("s"), 4, 0), -EADDRINUSE);
	cr_assert_eq(lstat(at("s"), &st2), 0);
	cr_assert_eq(st1.st_ino, st2.st_ino);
	cr_assert(accepts(at("s")));
	cr_assert_eq(entries(), 1);

	close(fd1);                   /* the server is gone, its socket stays */
	cr_assert_not(accepts(at("s")));
	fd2 = usock_listen(at("s"), 4, 0);
	cr_assert_geq(fd2, 0, "%s", strerror(-fd2));
	cr_assert(accepts(at("s")));
	cr_assert_eq(entries(), 1);
	close(fd2);
}

Test(usock, path_without_room_for_a_temporary_name)
{
	char name[160];
	struct sockaddr_un sa;
	size_t room = sizeof(sa.sun_path) - 1 - strlen(dir) - 1;
	struct stat st;
	mode_t old;
	int fd;

	memset(name, 'n', room);
	name[room] = '\0';          /* exactly fits sun_path */
	fd = open(at(name), O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(usock_listen(at(name), 4, 0), -EEXIST);
	cr_assert_eq(unlink(at(name)), 0);
	old = umask(0);
	fd = usock_listen(at(name), 4, 0);
	umask(old);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert(accepts(at(name)));
	cr_assert_eq(lstat(at(name), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	close(fd);
	name[room] = 'x';
	name[room + 1] = '\0';
	cr_assert_eq(usock_listen(at(name), 4, 0), -ENAMETOOLONG);
}
