/* common/spawn.h: the one way vhdvisor starts programs.
 *
 * An argv vector, never a shell. The child gets exactly the descriptors
 * asked for (its stdin, stdout, stderr and the extra ones in @fds), every
 * signal at its default disposition and an empty signal mask, whatever the
 * caller blocked or ignored; optionally its own session or process group,
 * a umask, a working folder and a signal when its parent dies. A program
 * that cannot be started is an error return (-ENOENT, -EACCES, ...) from
 * spawn_start(), not an exit code 127 to guess at.
 */
#ifndef VV_COMMON_SPAWN_H
#define VV_COMMON_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* For spawn_opts.in / out / err: a descriptor number, or one of these. */
#define SPAWN_NULL    (-1)      /* /dev/null (the default: 0 in a zeroed struct is stdin!) */
#define SPAWN_INHERIT (-2)      /* the caller's own 0, 1 or 2 */

#define SPAWN_MAX_FDS 16

struct spawn_fd {
	int fd;                 /* the caller's descriptor */
	int child_fd;           /* its number in the child (>= 3, unique) */
};

struct spawn_opts {
	const char *const *argv;        /* argv[0]: a path, or looked up in
					 * $PATH, then /usr/sbin and /sbin */
	const char *const *envp;        /* NULL: the caller's environment */
	int in, out, err;               /* see SPAWN_NULL; set all three */
	const struct spawn_fd *fds;     /* extra descriptors, up to SPAWN_MAX_FDS */
	size_t nfds;
	bool new_session;               /* setsid(): detached from our terminal */
	bool new_pgroup;                /* setpgid(0, 0): signals to our group miss it */
	int deathsig;                   /* sent to it when we die (0: none) */
	bool set_umask;
	mode_t umask;
	const char *cwd;                /* NULL: ours */
};

/* Options with stdin, stdout and stderr on /dev/null and nothing else. */
void spawn_opts_init(struct spawn_opts *o, const char *const argv[]);

struct spawn_child {
	pid_t pid;
	int pidfd;              /* to poll(): readable once it exited */
};

/* Starts the program and returns once it runs (its exec succeeded).
 * 0, or -errno: the program is missing (-ENOENT), not executable
 * (-EACCES), a descriptor is bad (-EBADF), -EINVAL for bad options. */
int spawn_start(const struct spawn_opts *o, struct spawn_child *c);

/* Waits up to @timeout_ms (< 0: forever) for the child to exit and reaps
 * it: its wait status in *@status, the pidfd closed, c->pid set to 0.
 * -ETIMEDOUT when it still runs (then nothing changes). */
int spawn_wait(struct spawn_child *c, int timeout_ms, int *status);

/* Sends @sig, waits up to @grace_ms, then SIGKILL and waits; reaps it.
 * The wait status, or -errno. A reaped child (pid 0): -ECHILD. */
int spawn_stop(struct spawn_child *c, int sig, int grace_ms);

/* An exit code for a wait status: the exit status, or 128 + the signal. */
int spawn_code(int status);

/* "exit 3", "signal 9 (Killed)" into @buf. */
const char *spawn_status_str(int status, char *buf, size_t len);

/* Runs @argv with @input (NULL: nothing) on its stdin and waits for it.
 * Its stdout and stderr go to a memory file, not a pipe, so a daemon that
 * keeps them open cannot block us; up to @outlen - 1 bytes of it, trailing
 * newlines removed, are copied to @out (may be NULL). Returns spawn_code()
 * of its status (0..255, 128 + N for signal N) or -errno when it could not
 * be started. */
int spawn_run(const char *const argv[], const char *input, char *out, size_t outlen);

/* Runs @argv with stdout and stderr appended to @log (created 0600, or
 * /dev/null when NULL) and waits: spawn_code() of its status, or -errno. */
int spawn_run_logged(const char *const argv[], const char *log);

#endif
