/* images/img_build.c: running a recipe and importing what it built. */
#include "images/recipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/spawn.h"

#define TAIL_LINES 3
#define TAIL_BYTES 300


/* The last TAIL_LINES lines of the log at @path (at most TAIL_BYTES),
 * joined with " | ", into @buf. */
static void log_tail(const char *path, char *buf, size_t len)
{
	char raw[TAIL_BYTES + 1], *p, *lines[TAIL_LINES];
	int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0;
	off_t end;
	ssize_t got;
	size_t used = 0;

	buf[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	got = pread(fd, raw, TAIL_BYTES, end > TAIL_BYTES ? end - TAIL_BYTES : 0);
	close(fd);
	if (got <= 0)
		return;
	raw[got] = '\0';
	while (got > 0 && raw[got - 1] == '\n')
		raw[--got] = '\0';
	while (n < TAIL_LINES && (p = strrchr(raw, '\n'))) {
		*p = '\0';
		lines[n++] = p + 1;
	}
	if (n < TAIL_LINES && end <= TAIL_BYTES)
		lines[n++] = raw;
	while (n-- > 0 && used < len)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " | " : "",
					 lines[n]);
}

/* Runs DIR/build.sh OUT with its output going to @log. 0, or -EIO with the
 * exit status and the end of the log in img_last_error(). */
static int run_build(const struct recipe *rc, const char *out, const char *log)
{
	char prog[PATH_MAX + 16], tail[TAIL_BYTES + 16];
	const char *argv[] = { prog, out, NULL };
	struct spawn_opts so;
	struct spawn_child child;
	int status, r, fd;

	snprintf(prog, sizeof(prog), "%s/build.sh", rc->dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return img_fail(-errno, "%s: %s", log, strerror(errno));
	spawn_opts_init(&so, argv);
	so.out = so.err = fd;
	r = spawn_start(&so, &child);
	close(fd);
	if (r)
		return img_fail(r, "cannot run %s: %s", prog, strerror(-r));
	r = spawn_wait(&child, -1, &status);
	if (r)
		return img_fail(r, "waiting for %s: %s", prog, strerror(-r));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	log_tail(log, tail, sizeof(tail));
	if (WIFSIGNALED(status))
		return img_fail(-EIO, "recipe %s killed by signal %d: %s", rc->name,
				WTERMSIG(status), tail);
	return img_fail(-EIO, "recipe %s failed (exit status %d): %s", rc->name,
			WEXITSTATUS(status), tail);
}

int img_build(struct cat *c, const struct recipe *rc, const struct img_import_opts *o,
	      struct img_import_result *res)
{
	struct img_import_opts opts = *o;
	char outrel[128], logrel[128], out[4300], log[4300], source[CAT_NAME_MAX + 8];
	int r;

	r = img_tmp_name("vhd", outrel, sizeof(outrel));
	if (!r)
		r = img_tmp_name("log", logrel, sizeof(logrel));
	if (!r)
		r = cat_path(c, outrel, out, sizeof(out));
	if (!r)
		r = cat_path(c, logrel, log, sizeof(log));
	if (r)
		return img_fail(r, "temporary names: %s", strerror(-r));
	snprintf(source, sizeof(source), "recipe:%s", rc->name);
	opts.source = source;
	if (!opts.os && rc->os[0])
		opts.os = rc->os;
	if (!opts.arch && rc->arch[0])
		opts.arch = rc->arch;
	if (!opts.boot && rc->boot[0])
		opts.boot = rc->boot;
	if (!opts.min_mem)
		opts.min_mem = rc->min_mem;
	if (!opts.min_disk)
		opts.min_disk = rc->min_disk;
	r = run_build(rc, out, log);
	if (!r && access(out, F_OK))
		r = img_fail(-EIO, "recipe %s exited 0 but wrote no image", rc->name);
	if (!r)
		r = img_import(c, out, &opts, res);
	unlink(out);
	unlink(log);
	return r;
}
