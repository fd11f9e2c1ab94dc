/* netback/shaper.c: per-NIC rate limits with tc(8); see shaper.h. */
#include "netback/shaper.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/spawn.h"

#define RATE_MIN 8000ULL                        /* 8 kbit/s */
#define RATE_MAX 100000000000ULL                /* 100 Gbit/s */

int shaper_parse_rate(const char *s, uint64_t *bps)
{
	char *end;
	double v, mult = 1;

	if (!s || !*s)
		return -EINVAL;
	if (!strcasecmp(s, "none") || !strcasecmp(s, "off")) {
		*bps = 0;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mult = 1e3; end++; break;
	case 'm': case 'M': mult = 1e6; end++; break;
	case 'g': case 'G': mult = 1e9; end++; break;
	default: break;
	}
	if (*end && strcasecmp(end, "bit") && strcasecmp(end, "bps"))
		return -EINVAL;
	v *= mult;
	if (v == 0) {
		*bps = 0;
		return 0;
	}
	if (v < RATE_MIN || v > RATE_MAX)
		return -EINVAL;
	*bps = (uint64_t)(v + 0.5);
	return 0;
}

const char *shaper_format_rate(uint64_t bps, char *buf, size_t len)
{
	if (!bps)
		snprintf(buf, len, "none");
	else if (bps % 1000000000 == 0)
		snprintf(buf, len, "%" PRIu64 "G", bps / 1000000000);
	else if (bps % 1000000 == 0)
		snprintf(buf, len, "%" PRIu64 "M", bps / 1000000);
	else if (bps % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "K", bps / 1000);
	else
		snprintf(buf, len, "%" PRIu64, bps);
	return buf;
}

/* Runs tc with @argv (argv[0] "tc"). With @absent_ok, a failure saying
 * there was nothing to delete counts as success. */
static int tc_run(const char *const argv[], bool absent_ok, char *err,
		  size_t errlen)
{
	char out[512] = "";
	int r = spawn_run(argv, NULL, out, sizeof(out));

	if (r == -ENOENT) {
		snprintf(err, errlen, "tc is not installed (iproute2)");
		return -ENOENT;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot run tc: %s", strerror(-r));
		return r;
	}
	if (r == 0)
		return 0;
	if (absent_ok && (strstr(out, "handle of zero") ||
			  strstr(out, "Cannot find") ||
			  strstr(out, "Invalid handle") ||
			  strstr(out, "No such file")))
		return 0;
	snprintf(err, errlen, "tc %s %s on %s failed: %s", argv[1], argv[2],
		 argv[4], out[0] ? out : "no message");
	return -EIO;
}

/* Burst of a bucket: 20 ms at the rate, at least 16 KiB (a few full
 * frames; tbf splits larger GSO packets) . */
static uint64_t burst_bytes(uint64_t bps)
{
	uint64_t b = bps / 8 / 50;

	return b < 16384 ? 16384 : b;
}

static int set_rx(const char *ifname, uint64_t bps, char *err, size_t errlen)
{
	char rate[32], burst[32];

	if (!bps) {
		const char *const del[] = { "tc", "qdisc", "del", "dev", ifname,
					    "root", NULL };
		return tc_run(del, true, err, errlen);
	}
	snprintf(rate, sizeof(rate), "%" PRIu64 "bit", bps);
	snprintf(burst, sizeof(burst), "%" PRIu64 "b", burst_bytes(bps));
	const char *const add[] = { "tc", "qdisc", "replace", "dev", ifname,
				    "root", "handle", "1:", "tbf", "rate", rate,
				    "burst", burst, "latency", "100ms", NULL };
	return tc_run(add, false, err, errlen);
}

/* The ifb device that carries @ifname's ingress: "vvifb<ifindex>". */
static void ifb_name(const char *ifname, char buf[IF_NAMESIZE])
{
	snprintf(buf, IF_NAMESIZE, "vvifb%u", if_nametoindex(ifname));
}

static int set_tx(const char *ifname, uint64_t bps, char *err, size_t errlen)
{
	const char *const del[] = { "tc", "qdisc", "del", "dev", ifname,
				    "ingress", NULL };
	char ifb[IF_NAMESIZE];
	int r;

	ifb_name(ifname, ifb);
	/* Always start from a fresh ingress qdisc: its filters go with it. */
	r = tc_run(del, true, err, errlen);
	if (r)
		return r;
	if (!bps) {
		const char *const ldel[] = { "ip", "link", "del", "dev", ifb, NULL };
		/* Gone already (or never made): fine. */
		(void)spawn_run(ldel, NULL, NULL, 0);
		return 0;
	}
	const char *const ladd[] = { "ip", "link", "add", ifb, "type", "ifb", NULL };
	const char *const lup[] = { "ip", "link", "set", "dev", ifb, "up", NULL };
	const char *const qd[] = { "tc", "qdisc", "add", "dev", ifname,
				   "ingress", NULL };
	const char *const flt[] = { "tc", "filter", "add", "dev", ifname,
				    "parent", "ffff:", "pref", "1", "protocol",
				    "all", "u32", "match", "u32", "0", "0",
				    "action", "mirred", "egress", "redirect",
				    "dev", ifb, NULL };
	char out[256] = "";

	if (!if_nametoindex(ifb)) {
		r = spawn_run(ladd, NULL, out, sizeof(out));
		if (r) {
			snprintf(err, errlen, "cannot make %s (ifb): %s", ifb,
				 r == -ENOENT ? "ip is not installed (iproute2)" :
				 out[0] ? out : "ip failed");
			return r < 0 ? r : -EIO;
		}
	}
	r = spawn_run(lup, NULL, out, sizeof(out));
	if (r) {
		snprintf(err, errlen, "cannot bring up %s: %s", ifb, out);
		return r < 0 ? r : -EIO;
	}
	r = set_rx(ifb, bps, err, errlen);
	if (!r)
		r = tc_run(qd, false, err, errlen);
	if (!r)
		r = tc_run(flt, false, err, errlen);
	return r;
}

int shaper_set(const char *ifname, uint64_t rx_bps, uint64_t tx_bps,
	       char *err, size_t errlen)
{
	int r;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
		snprintf(err, errlen, "bad interface name");
		return -EINVAL;
	}
	if (!if_nametoindex(ifname)) {
		snprintf(err, errlen, "no interface %s", ifname);
		return -ENODEV;
	}
	if ((rx_bps && (rx_bps < RATE_MIN || rx_bps > RATE_MAX)) ||
	    (tx_bps && (tx_bps < RATE_MIN || tx_bps > RATE_MAX))) {
		snprintf(err, errlen, "rate out of range (8K to 100G bit/s)");
		return -EINVAL;
	}
	r = set_rx(ifname, rx_bps, err, errlen);
	if (!r)
		r = set_tx(ifname, tx_bps, err, errlen);
	return r;
}

int shaper_clear(const char *ifname, char *err, size_t errlen)
{
	return shaper_set(ifname, 0, 0, err, errlen);
}
