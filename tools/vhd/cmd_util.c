/* tools/vhd/cmd_util.c: helpers the image subcommands of `vhd` share. */
#include "tools/vhd/cmd_util.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "tools/common/cli.h"
#include "vhd/vhd.h"

static void vt_log_forward(enum vhd_log_level level, const char *msg, void *opaque)
{
	static const enum log_level map[] = {
		[VHD_LOG_ERR] = LOG_LVL_ERR,
		[VHD_LOG_WARN] = LOG_LVL_WARN,
		[VHD_LOG_INFO] = LOG_LVL_INFO,
		[VHD_LOG_DBG] = LOG_LVL_DBG,
	};
	enum log_level l = (unsigned)level < ARRAY_SIZE(map) ? map[level] : LOG_LVL_DBG;

	log_msg(l, "vhdlib", "%s", msg);
}

void vt_init(void)
{
	vhd_set_log(vt_log_forward, NULL);
}

int vt_fail(const char *path, int rc, const char *what)
{
	const char *why = vhd_last_error();

	if (!why || !*why)
		why = strerror(rc < 0 ? -rc : rc);
	if (!strncmp(why, path, strlen(path)) && why[strlen(path)] == ':')
		log_err("%s: %s", what, why);   /* the reason names the file already */
	else
		log_err("%s: %s: %s", path, what, why);
	return CLI_FAIL;
}

int vt_usage(const char *usage)
{
	fprintf(stderr, "usage: vhd %s\n", usage);
	return CLI_USAGE;
}

int vt_plain_args(int *argc, char ***argv, const char *usage)
{
	static const struct option none[] = { { 0 } };

	optind = 1;
	if (cli_getopt(*argc, *argv, "", none) != -1)
		return vt_usage(usage);
	*argc -= optind - 1;
	*argv += optind - 1;
	return 0;
}

int vt_size(const char *s, const char *what, uint64_t *out)
{
	if (size_parse(s, out)) {
		log_err("bad %s '%s' (a number of bytes, or with K/M/G/T)", what, s);
		return -1;
	}
	return 0;
}

int vt_open(const char *path, int rdwr, struct vhd **out)
{
	return vt_open_flags(path, rdwr ? VHD_OPEN_RDWR : 0, out);
}

int vt_open_flags(const char *path, unsigned flags, struct vhd **out)
{
	struct vhd_open_opts o = { .flags = flags };
	int rc = vhd_open(path, &o, out);

	if (rc)
		vt_fail(path, rc, "cannot open");
	return rc;
}

void vt_progress(void *opaque, uint64_t done, uint64_t total)
{
	int *last = opaque;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (pct / 10 != *last / 10)
		log_info("%d%%", pct);
	*last = pct;
}

int vt_range_ok(const char *path, struct vhd *v, uint64_t off, uint64_t len)
{
	uint64_t size = vhd_size(v);

	if (off > size || len > size - off) {
		log_err("%s: range %llu+%llu is past the end of the disk (%llu bytes)", path,
			(unsigned long long)off, (unsigned long long)len,
			(unsigned long long)size);
		return -1;
	}
	return 0;
}

void vt_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

char *vt_time_iso(uint32_t ts, char *buf, size_t len)
{
	time_t t = (time_t)ts + 946684800;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}
