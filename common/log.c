/* common/log.c: leveled logging to stderr or a caller's sink. */
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level cur_level = LOG_LVL_WARN;
static const char *prog_name;
static void (*cur_sink)(enum log_level, const char *, const char *, void *);
static void *cur_opaque;

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DBG] = "debug",
};

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

void log_init(const char *progname)
{
	const char *env = getenv("VHDVISOR_LOG");

	prog_name = progname;
	if (!env)
		return;
	if (!strcmp(env, "err") || !strcmp(env, "error"))
		cur_level = LOG_LVL_ERR;
	else if (!strcmp(env, "warn") || !strcmp(env, "warning"))
		cur_level = LOG_LVL_WARN;
	else if (!strcmp(env, "info"))
		cur_level = LOG_LVL_INFO;
	else if (!strcmp(env, "debug") || !strcmp(env, "dbg"))
		cur_level = LOG_LVL_DBG;
}

void log_set_sink(void (*sink)(enum log_level, const char *, const char *, void *),
		  void *opaque)
{
	cur_sink = sink;
	cur_opaque = opaque;
}

void log_vmsg(enum log_level level, const char *tag, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	if (level > cur_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (cur_sink) {
		cur_sink(level, tag, msg, cur_opaque);
		return;
	}
	/* One fprintf per message keeps lines whole across threads. */
	if (level == LOG_LVL_ERR || level == LOG_LVL_WARN)
		fprintf(stderr, "%s%s%s: %s\n", prog_name ? prog_name : "",
			prog_name ? ": " : "", level == LOG_LVL_ERR ? "error" : "warning", msg);
	else
		fprintf(stderr, "%s%s%s%s%s: %s\n", prog_name ? prog_name : "",
			prog_name ? ": " : "", tag ? tag : "", tag ? " " : "",
			level_names[level], msg);
}

void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, tag, fmt, ap);
	va_end(ap);
}
