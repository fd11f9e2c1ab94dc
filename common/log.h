/* common/log.h: leveled logging for the programs of vhdvisor.
 *
 * Each .c file may define LOG_TAG before including this header; messages
 * are prefixed with it. Output goes to stderr unless log_set_sink() installs
 * another sink. Libraries that must not depend on us (vhd/) take a callback
 * instead; programs connect that callback to log_vmsg().
 */
#ifndef VV_COMMON_LOG_H
#define VV_COMMON_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DBG = 3,
};

#ifndef LOG_TAG
#define LOG_TAG NULL
#endif

/* Messages above @level are dropped. Default: LOG_LVL_WARN, or the value of
 * $VHDVISOR_LOG (err|warn|info|debug) read by log_init(). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Sets the program name printed before each message ("vhd: ..."). Reads
 * $VHDVISOR_LOG. Call once from main(). */
void log_init(const char *progname);

/* Replaces the stderr sink (NULL restores it). Called with the formatted
 * message, without a trailing newline. Thread-safe to call log_* afterwards;
 * not thread-safe against concurrent log_set_sink(). */
void log_set_sink(void (*sink)(enum log_level level, const char *tag,
			       const char *msg, void *opaque),
		  void *opaque);

void log_vmsg(enum log_level level, const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)  log_msg(LOG_LVL_ERR, LOG_TAG, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, LOG_TAG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, LOG_TAG, __VA_ARGS__)
#define log_dbg(...)  log_msg(LOG_LVL_DBG, LOG_TAG, __VA_ARGS__)

#endif
