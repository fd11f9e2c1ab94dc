/* netback/subnet.c: IPv4 CIDR arithmetic for lab networks. */
#include "netback/subnet.h"

#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t subnet_mask(uint8_t prefix)
{
	return prefix ? 0xffffffffU << (32 - prefix) : 0;
}

int ip4_parse(const char *s, uint32_t *out)
{
	struct in_addr in;

	if (!s || inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*out = ntohl(in.s_addr);
	return 0;
}

int subnet_parse(const char *s, bool strict, struct subnet *out)
{
	char buf[SUBNET_STR_LEN];
	const char *slash;
	char *end;
	uint32_t addr;
	long prefix;

	if (!s || !(slash = strchr(s, '/')) || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	if (ip4_parse(buf, &addr))
		return -EINVAL;
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (!slash[1] || *end || errno || prefix < 0 || prefix > 32)
		return -EINVAL;
	if (strict && (addr & ~subnet_mask(prefix)))
		return -EINVAL;
	out->addr = addr & subnet_mask(prefix);
	out->prefix = prefix;
	return 0;
}

char *ip4_format(uint32_t addr, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
		 (addr >> 8) & 0xff, addr & 0xff);
	return buf;
}

char *subnet_format(const struct subnet *sn, char *buf, size_t len)
{
	char ip[16];

	snprintf(buf, len, "%s/%u", ip4_format(sn->addr, ip, sizeof(ip)),
		 sn->prefix);
	return buf;
}

bool subnet_overlaps(const struct subnet *a, const struct subnet *b)
{
	uint32_t m = subnet_mask(MIN(a->prefix, b->prefix));

	return (a->addr & m) == (b->addr & m);
}

uint32_t subnet_host(const struct subnet *sn, uint32_t n)
{
	return sn->addr + n;
}

uint32_t subnet_usable(uint8_t prefix)
{
	return prefix > 30 ? 0 : (1U << (32 - prefix)) - 2;
}

int subnet_pick(const struct subnet *pool, uint8_t prefix,
		const struct subnet *taken, size_t n_taken, struct subnet *out)
{
	uint64_t step, count;

	if (prefix < pool->prefix || prefix > 32)
		return -EINVAL;
	step = 1ULL << (32 - prefix);
	count = 1ULL << (prefix - pool->prefix);
	for (uint64_t i = 0; i < count; i++) {
		struct subnet c = { .addr = pool->addr + i * step, .prefix = prefix };
		size_t j;

		for (j = 0; j < n_taken; j++)
			if (subnet_overlaps(&c, &taken[j]))
				break;
		if (j == n_taken) {
			*out = c;
			return 0;
		}
	}
	return -ENOSPC;
}
