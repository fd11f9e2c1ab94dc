/* hv/hv_int.h: helpers shared inside hv/ (not part of its public API). */
#ifndef VV_HV_HV_INT_H
#define VV_HV_HV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One fd the child gets: @fd of ours becomes @child_fd in the child. */
struct hv_fdmap {
	int fd;
	int child_fd;
};

/* Starts @argv (NULL-terminated; argv[0] a path or a name in $PATH) as a
 * child, never through a shell: its own process group (so the terminal's
 * Ctrl-C reaches only us), default signal mask and dispositions, stdin
 * /dev/null, stdout/stderr ours (stdout to /dev/null when @quiet), the
 * fds of @map (may be NULL) at their child numbers, and @deathsig sent to
 * it when this thread dies (0: none). Sets *pid and, when @pidfd is not
 * NULL, a pidfd (pollable; readable once the child exited). The umask of
 * the child is 077. common/spawn.h does the work.
 * Returns 0 or -errno (-ENOENT: the program does not exist). */
int hv_spawn(const char *const argv[], const struct hv_fdmap *map, size_t nmap,
	     bool quiet, int deathsig, pid_t *pid, int *pidfd);

/* Waits up to @timeout_ms for @pid to exit and reaps it. Returns its wait
 * status (>= 0), -ETIMEDOUT, or -errno. */
int hv_reap(pid_t pid, int timeout_ms);

/* The run directory (VHDVISOR_RUN, default /run/vhdvisor) into @buf. */
const char *hv_run_root(char *buf, size_t len);

/* Creates a private (0700) folder "<root>/<name>" for one VM; fails with
 * -EEXIST if a live VM of that name has it. Returns 0 or -errno. */
int hv_run_dir_create(const char *root, const char *name, char *out, size_t outlen);
/* Removes the folder and everything directly in it; accepts "". */
void hv_run_dir_remove(const char *dir);

/* Monotonic milliseconds. */
long long hv_now_ms(void);

#endif
