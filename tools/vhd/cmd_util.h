/* tools/vhd/cmd_util.h: helpers the image subcommands of `vhd` share. */
#ifndef VV_TOOLS_VHD_CMD_UTIL_H
#define VV_TOOLS_VHD_CMD_UTIL_H

#include <stdint.h>
#include <stdio.h>

struct vhd;

/* Connects the library's log callback to common/log.h. Idempotent; every
 * command calls it before touching an image. */
void vt_init(void);

/* Logs "PATH: WHAT: reason" where the reason is vhd_last_error() when set,
 * else strerror(-@rc). Returns CLI_FAIL. */
int vt_fail(const char *path, int rc, const char *what);

/* Prints "usage: vhd USAGE" to stderr and returns CLI_USAGE. */
int vt_usage(const char *usage);

/* For commands without options: applies the global options (-q, -v)
 * wherever they are, refuses any other option (usage to stderr), and moves
 * the positional arguments to (*@argv)[1..*@argc - 1]. 0 or CLI_USAGE. */
int vt_plain_args(int *argc, char ***argv, const char *usage);

/* Parses a size (K/M/G/T binary suffixes) or logs "bad WHAT 'S'". 0/-1. */
int vt_size(const char *s, const char *what, uint64_t *out);

/* Opens @path (read-only unless @rdwr) with its chain; logs on failure. */
int vt_open(const char *path, int rdwr, struct vhd **out);

/* vt_open() with VHD_OPEN_* @flags (e.g. VHD_OPEN_FORCE_SHARE for -U). */
int vt_open_flags(const char *path, unsigned flags, struct vhd **out);

/* A progress callback for the library's long operations: logs every 10%
 * at info level. @opaque points to an int holding the last percentage,
 * initially 0. */
void vt_progress(void *opaque, uint64_t done, uint64_t total);

/* 0 when [off, off+len) lies within the virtual disk of @v, else logs
 * "PATH: range ... is past the end of the disk" and returns -1. */
int vt_range_ok(const char *path, struct vhd *v, uint64_t off, uint64_t len);

/* Writes @s as a JSON string literal (quoted, escaped) to @f. */
void vt_json_str(FILE *f, const char *s);

/* Formats @ts (seconds since 2000-01-01 UTC) as ISO 8601 UTC into @buf. */
char *vt_time_iso(uint32_t ts, char *buf, size_t len);

#endif
