/* vhd/error.c: the thread's last error message and the log callback. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "vhd/vhd_int.h"

static __thread char vhd_last_msg[1024];

static pthread_mutex_t vhd_log_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*vhd_log_fn)(enum vhd_log_level, const char *, void *);
static void *vhd_log_opaque;

void vhd_set_log(void (*fn)(enum vhd_log_level level, const char *msg, void *opaque),
		 void *opaque)
{
	pthread_mutex_lock(&vhd_log_lock);
	vhd_log_fn = fn;
	vhd_log_opaque = opaque;
	pthread_mutex_unlock(&vhd_log_lock);
}

const char *vhd_last_error(void)
{
	return vhd_last_msg;
}

int vhd_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vhd_last_msg, sizeof(vhd_last_msg), fmt, ap);
	va_end(ap);
	return err;
}

void vhd_log(enum vhd_log_level level, const char *fmt, ...)
{
	void (*fn)(enum vhd_log_level, const char *, void *);
	void *opaque;
	char msg[1024];
	va_list ap;

	pthread_mutex_lock(&vhd_log_lock);
	fn = vhd_log_fn;
	opaque = vhd_log_opaque;
	pthread_mutex_unlock(&vhd_log_lock);
	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(level, msg, opaque);
}
