/* blkback/ratelimit_parse.c: "rbps=20M,wiops=500,..." into struct
 * rl_limits (see ratelimit.h). */
#include "blkback/ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rl_num(const char *v, size_t n, uint64_t *out)
{
	char buf[32], *end;
	unsigned long long x;
	unsigned shift = 0;

	if (!n || n >= sizeof(buf) || v[0] < '0' || v[0] > '9')
		return -EINVAL;
	memcpy(buf, v, n);
	buf[n] = 0;
	errno = 0;
	x = strtoull(buf, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -EINVAL;
	}
	if (*end || x > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)x << shift;
	return 0;
}

static uint64_t *rl_field(struct rl_limits *lim, const char *k, size_t n)
{
	static const char *const names[] = {
		"rbps", "riops", "wbps", "wiops",
		"rbps_burst", "riops_burst", "wbps_burst", "wiops_burst",
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct rl_dir_limits *l;

		if (strlen(names[i]) != n || strncmp(names[i], k, n))
			continue;
		l = &lim->dir[names[i][0] == 'r' ? RL_READ : RL_WRITE];
		switch (i) {
		case 0: case 2: return &l->bps;
		case 1: case 3: return &l->iops;
		case 4: case 6: return &l->bps_burst;
		default: return &l->iops_burst;
		}
	}
	return NULL;
}

int rl_parse(const char *s, struct rl_limits *lim, char *err, size_t cap)
{
	struct rl_limits out = *lim;
	const char *p = s;

	if (!*s) {
		snprintf(err, cap, "empty limit list");
		return -EINVAL;
	}
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		uint64_t *f;

		if (!eq) {
			snprintf(err, cap, "'%.*s': expected key=value", (int)len, p);
			return -EINVAL;
		}
		f = rl_field(&out, p, (size_t)(eq - p));
		if (!f) {
			snprintf(err, cap, "'%.*s': unknown limit (rbps, wbps, riops, wiops, "
				 "each also with _burst)", (int)(eq - p), p);
			return -EINVAL;
		}
		if (rl_num(eq + 1, len - (size_t)(eq + 1 - p), f)) {
			snprintf(err, cap, "'%.*s': not a number (suffixes K M G)", (int)len, p);
			return -EINVAL;
		}
		p += len;
		if (*p == ',' && !*++p) {
			snprintf(err, cap, "trailing comma");
			return -EINVAL;
		}
	}
	for (int d = 0; d < RL_NDIRS; d++) {
		const struct rl_dir_limits *l = &out.dir[d];

		if ((l->bps_burst && !l->bps) || (l->iops_burst && !l->iops)) {
			snprintf(err, cap, "a burst needs its rate");
			return -EINVAL;
		}
	}
	*lim = out;
	return 0;
}
