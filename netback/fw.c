/* netback/fw.c: nftables tables of lab networks, through nft(8). */
#include "netback/fw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/spawn.h"

#define FW_SCRIPT_MAX 4096

void fw_table_name(const struct labnet *net, char *buf, size_t len)
{
	snprintf(buf, len, FW_TABLE_PREFIX "%s", net->name);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
}

struct script {
	char buf[FW_SCRIPT_MAX];
	size_t len;
	bool overflow;
};

static void __attribute__((format(printf, 2, 3)))
emit(struct script *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->buf + s->len, sizeof(s->buf) - s->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s->buf) - s->len)
		s->overflow = true;
	else
		s->len += n;
}

/* Runs nft on @script; maps failures to -EIO with its message in @err. */
static int fw_nft(const char *const argv[], const char *script, char *err,
		  size_t errlen)
{
	int ret = spawn_run(argv, script, err, errlen);

	if (ret == -ENOENT)
		snprintf(err, errlen, "nft is not installed");
	if (ret < 0)
		return ret;
	return ret ? -EIO : 0;
}

int fw_apply(const struct labnet *net, char *err, size_t errlen)
{
	static const char *const argv[] = { "nft", "-f", "-", NULL };
	struct script s = { .len = 0 };
	char t[64], sn[SUBNET_STR_LEN], gw[16];
	const char *br = net->bridge, *up = net->uplink;

	fw_table_name(net, t, sizeof(t));
	subnet_format(&net->subnet, sn, sizeof(sn));
	ip4_format(net->gateway, gw, sizeof(gw));

	/* add + delete + add: replaces an old table in the same transaction. */
	emit(&s, "add table inet %s\ndelete table inet %s\ntable inet %s {\n", t, t, t);
	emit(&s, "  chain forward {\n"
		 "    type filter hook forward priority filter; policy accept;\n"
		 "    iifname \"%s\" oifname \"%s\" accept\n", br, br);
	if (net->nat)
		emit(&s, "    iifname \"%s\" oifname \"%s\" ip saddr %s accept\n"
			 "    iifname \"%s\" oifname \"%s\" ct state established,related accept\n",
		     br, up, sn, up, br);
	emit(&s, "    iifname \"%s\" drop\n"
		 "    oifname \"%s\" drop\n"
		 "  }\n", br, br);
	emit(&s, "  chain input {\n"
		 "    type filter hook input priority filter; policy accept;\n"
		 "    iifname \"%s\" ct state established,related accept\n"
		 "    iifname \"%s\" udp dport 67 accept\n"
		 "    iifname \"%s\" ip daddr %s udp dport 53 accept\n"
		 "    iifname \"%s\" ip daddr %s tcp dport 53 accept\n"
		 "    iifname \"%s\" ip daddr %s icmp type echo-request accept\n"
		 "    iifname \"%s\" drop\n"
		 "  }\n", br, br, br, gw, br, gw, br, gw, br);
	if (net->nat)
		emit(&s, "  chain postrouting {\n"
			 "    type nat hook postrouting priority srcnat; policy accept;\n"
			 "    ip saddr %s oifname \"%s\" masquerade\n"
			 "  }\n", sn, up);
	emit(&s, "}\n");
	if (s.overflow) {
		snprintf(err, errlen, "nftables ruleset too long");
		return -E2BIG;
	}
	return fw_nft(argv, s.buf, err, errlen);
}

int fw_remove(const struct labnet *net, char *err, size_t errlen)
{
	static const char *const argv[] = { "nft", "-f", "-", NULL };
	char t[64], script[200];

	fw_table_name(net, t, sizeof(t));
	snprintf(script, sizeof(script), "add table inet %s\ndelete table inet %s\n",
		 t, t);
	return fw_nft(argv, script, err, errlen);
}

bool fw_present(const struct labnet *net)
{
	char t[64];
	const char *argv[] = { "nft", "list", "table", "inet", t, NULL };

	fw_table_name(net, t, sizeof(t));
	return spawn_run(argv, NULL, NULL, 0) == 0;
}

int fw_enable_forwarding(void)
{
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1\n", 2) != 2)
		err = -errno;
	close(fd);
	return err;
}
