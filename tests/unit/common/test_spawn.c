/* Unit tests for common/spawn.c: the child gets exactly the descriptors
 * asked for, default signal dispositions and an empty mask whatever the
 * parent set, its own session when asked, and dies with its parent when
 * asked; start failures are errors, not exit codes; waits time out. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/spawn.h"

/* Runs @argv with stdout in a memory-backed string (spawn_run). */
static int run_out(const char *const argv[], char *out, size_t len)
{
	return spawn_run(argv, NULL, out, len);
}

/* The value of "@key:" in /proc/self/status as the child saw it. */
static void status_field(const char *status, const char *key, char *val, size_t len)
{
	const char *p = strstr(status, key);

	cr_assert_not_null(p, "no %s in %s", key, status);
	p += strlen(key);
	while (*p == ' ' || *p == '\t' || *p == ':')
		p++;
	snprintf(val, len, "%.*s", (int)strcspn(p, "\n"), p);
}

Test(spawn, signals_reset_whatever_the_parent_set)
{
	const char *argv[] = { "cat", "/proc/self/status", NULL };
	char out[8192], v[64];
	sigset_t set;

	/* signal 32, which glibc's sigaction() will not touch, ignored with
	 * the system call (as a parent may hand it down) */
	struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; }
		ign = { (void *)SIG_IGN, 0x04000000 /* SA_RESTORER */, NULL, 0 };

	cr_assert_eq(syscall(SYS_rt_sigaction, 32, &ign, NULL, sizeof(ign.mask)), 0);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	cr_assert_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0);

	cr_assert_eq(run_out(argv, out, sizeof(out)), 0);
	status_field(out, "SigBlk", v, sizeof(v));
	cr_expect_str_eq(v, "0000000000000000");
	status_field(out, "SigIgn", v, sizeof(v));
	cr_expect_str_eq(v, "0000000000000000");
}

/* The numbers ls lists in /proc/self/fd, as a string "0 1 2 3 ...": ls
 * itself holds the lowest free number for the folder it reads. */
static void child_fds(const struct spawn_fd *fds, size_t n, char *list, size_t len)
{
	const char *argv[] = { "ls", "-1", "/proc/self/fd", NULL };
	struct spawn_opts o;
	struct spawn_child c;
	char buf[512], *tok, *save = NULL;
	int mem = memfd_create("fds", MFD_CLOEXEC), st;
	ssize_t got;

	cr_assert_geq(mem, 0);
	spawn_opts_init(&o, argv);
	o.out = mem;
	o.fds = fds;
	o.nfds = n;
	cr_assert_eq(spawn_start(&o, &c), 0);
	cr_assert_eq(spawn_wait(&c, 10000, &st), 0);
	cr_assert_eq(spawn_code(st), 0);
	got = pread(mem, buf, sizeof(buf) - 1, 0);
	cr_assert_gt(got, 0);
	buf[got] = '\0';
	close(mem);
	list[0] = '\0';
	for (tok = strtok_r(buf, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(list);

		snprintf(list + l, len - l, "%s%s", l ? " " : "", tok);
	}
}

Test(spawn, only_the_descriptors_asked_for)
{
	char list[256];
	int leak1 = open("/dev/null", O_RDONLY);        /* not close-on-exec */
	int leak2 = dup(leak1), keep = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	struct spawn_fd fds[] = { { keep, 7 } };

	cr_assert(leak1 >= 3 && leak2 >= 3 && keep >= 3);
	/* Nothing extra: 0 1 2, and 3 is ls's own folder. */
	child_fds(NULL, 0, list, sizeof(list));
	cr_expect_str_eq(list, "0 1 2 3");
	/* One asked for, at the number asked for, even from a CLOEXEC source. */
	child_fds(fds, 1, list, sizeof(list));
	cr_expect_str_eq(list, "0 1 2 3 7");
	close(leak1);
	close(leak2);
	close(keep);
}

Test(spawn, fds_may_swap_numbers)
{
	/* The child's a[0] is our b[0] and the other way round: placing one
	 * must not clobber the source of the other. */
	struct spawn_opts o;
	struct spawn_child c;
	int a[2], b[2], out = memfd_create("o", MFD_CLOEXEC), st;
	char script[64], buf[64] = "";

	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	cr_assert_eq(write(a[1], "A", 1), 1);
	cr_assert_eq(write(b[1], "B", 1), 1);
	close(a[1]);
	close(b[1]);
	struct spawn_fd fds[] = { { b[0], a[0] }, { a[0], b[0] } };

	snprintf(script, sizeof(script), "cat <&%d; cat <&%d", a[0], b[0]);
	spawn_opts_init(&o, (const char *[]){ "bash", "-c", script, NULL });
	o.out = out;
	o.fds = fds;
	o.nfds = 2;
	cr_assert_eq(spawn_start(&o, &c), 0);
	cr_assert_eq(spawn_wait(&c, 10000, &st), 0);
	cr_assert_eq(spawn_code(st), 0);
	cr_assert_eq(pread(out, buf, sizeof(buf) - 1, 0), 2);
	cr_expect_str_eq(buf, "BA");
}

Test(spawn, start_failures_are_errors)
{
	const char *missing[] = { "/nonexistent/prog", NULL };
	const char *nopath[] = { "vv-no-such-program-xyz", NULL };
	char plain[] = "/tmp/spawn-plain.XXXXXX";
	int pfd = mkstemp(plain);
	const char *notexec[] = { plain, NULL };
	const char *empty[] = { NULL };
	struct spawn_opts o;
	struct spawn_child c;
	struct spawn_fd dup3[] = { { 0, 5 }, { 1, 5 } }, low[] = { { 0, 2 } };

	spawn_opts_init(&o, missing);
	cr_expect_eq(spawn_start(&o, &c), -ENOENT);
	spawn_opts_init(&o, nopath);
	cr_expect_eq(spawn_start(&o, &c), -ENOENT);
	spawn_opts_init(&o, notexec);
	cr_assert_geq(pfd, 0);
	cr_assert_eq(fchmod(pfd, 0644), 0);
	close(pfd);
	cr_expect_eq(spawn_start(&o, &c), -EACCES);
	unlink(plain);
	spawn_opts_init(&o, empty);
	cr_expect_eq(spawn_start(&o, &c), -EINVAL);
	spawn_opts_init(&o, (const char *[]){ "true", NULL });
	o.fds = dup3;
	o.nfds = 2;
	cr_expect_eq(spawn_start(&o, &c), -EINVAL);
	o.fds = low;
	o.nfds = 1;
	cr_expect_eq(spawn_start(&o, &c), -EINVAL);
	/* A descriptor that is not open: the child's dup fails, reported. */
	o.fds = (struct spawn_fd[]){ { 999, 5 } };
	cr_expect_eq(spawn_start(&o, &c), -EBADF);
	/* A working folder that does not exist. */
	spawn_opts_init(&o, (const char *[]){ "true", NULL });
	o.cwd = "/nonexistent-dir";
	cr_expect_eq(spawn_start(&o, &c), -ENOENT);
	cr_expect_eq(c.pid, 0);
}

Test(spawn, exit_codes_and_signals)
{
	char out[64], s[64];

	cr_expect_eq(spawn_run((const char *[]){ "sh", "-c", "exit 3", NULL }, NULL, NULL, 0), 3);
	cr_expect_eq(spawn_run((const char *[]){ "sh", "-c", "kill -9 $$", NULL }, NULL, NULL, 0),
		     128 + 9);
	cr_expect_eq(spawn_run((const char *[]){ "cat", NULL }, "in\n\n", out, sizeof(out)), 0);
	cr_expect_str_eq(out, "in");
	cr_expect_str_eq(spawn_status_str(3 << 8, s, sizeof(s)), "exit 3");
}

Test(spawn, wait_times_out_and_stop_kills)
{
	struct spawn_opts o;
	struct spawn_child c;
	int st;

	spawn_opts_init(&o, (const char *[]){ "sleep", "30", NULL });
	cr_assert_eq(spawn_start(&o, &c), 0);
	cr_expect_eq(spawn_wait(&c, 50, &st), -ETIMEDOUT);
	cr_expect_gt(c.pid, 0);
	/* sleep dies of SIGTERM at once: no grace period used up. */
	st = spawn_stop(&c, SIGTERM, 5000);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
	cr_expect_eq(c.pid, 0);
	cr_expect_eq(spawn_stop(&c, SIGTERM, 10), -ECHILD);

	/* One that ignores SIGTERM... unless we reset it: spawn resets, so
	 * make the child itself ignore it. */
	spawn_opts_init(&o, (const char *[]){ "sh", "-c", "trap '' TERM; sleep 30", NULL });
	cr_assert_eq(spawn_start(&o, &c), 0);
	usleep(200 * 1000);
	st = spawn_stop(&c, SIGTERM, 200);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
}

static long stat_field(pid_t pid, int field)
{
	char path[64], buf[512], *p;
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');  /* after the command name */
		for (int i = 3; p && i <= field; i++) {
			p = strchr(p + 1, ' ');
			if (p && i == field)
				v = strtol(p + 1, NULL, 10);
		}
	}
	fclose(f);
	return v;
}

Test(spawn, new_session_and_umask)
{
	struct spawn_opts o;
	struct spawn_child c;
	char out[64];
	int st;

	spawn_opts_init(&o, (const char *[]){ "sleep", "30", NULL });
	o.new_session = true;
	cr_assert_eq(spawn_start(&o, &c), 0);
	/* field 6 of /proc/PID/stat: the session id. */
	cr_expect_eq(stat_field(c.pid, 6), c.pid);
	spawn_stop(&c, SIGKILL, 0);

	int mem = memfd_create("u", MFD_CLOEXEC);

	spawn_opts_init(&o, (const char *[]){ "sh", "-c", "umask", NULL });
	o.set_umask = true;
	o.umask = 027;
	o.out = mem;
	cr_assert_eq(spawn_start(&o, &c), 0);
	cr_assert_eq(spawn_wait(&c, 10000, &st), 0);
	memset(out, 0, sizeof(out));
	cr_assert_gt(pread(mem, out, sizeof(out) - 1, 0), 0);
	cr_expect_str_eq(out, "0027\n");
	close(mem);
}

Test(spawn, deathsig_follows_the_parent)
{
	int p[2];
	pid_t mid, grand = 0;

	cr_assert_eq(pipe(p), 0);
	mid = fork();
	cr_assert_geq(mid, 0);
	if (mid == 0) {
		struct spawn_opts o;
		struct spawn_child c;

		spawn_opts_init(&o, (const char *[]){ "sleep", "30", NULL });
		o.deathsig = SIGKILL;
		if (spawn_start(&o, &c))
			_exit(1);
		if (write(p[1], &c.pid, sizeof(c.pid)) != sizeof(c.pid))
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &grand, sizeof(grand)), (ssize_t)sizeof(grand));
	cr_assert_gt(grand, 0);
	kill(mid, SIGKILL);
	waitpid(mid, NULL, 0);
	/* The grandchild was reparented and killed; wait until it is gone
	 * (a zombie of init's counts as gone: state Z). */
	for (int i = 0; i < 500; i++) {
		char path[64], buf[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)grand);
		f = fopen(path, "r");
		if (!f)
			return;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if (strstr(buf, ") Z "))
			return;
		usleep(10 * 1000);
	}
	kill(grand, SIGKILL);
	cr_assert_fail("child %d outlived its parent", (int)grand);
}
