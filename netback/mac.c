/* netback/mac.c: generated, parsed and printed MAC addresses. */
#include "netback/mac.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "common/util.h"

/* FNV-1a, 64 bits: small, stable across hosts and versions. A MAC must not
 * change when vhdvisor is upgraded, so this function is frozen. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void mac_generate(const char *seed, unsigned int index, uint8_t mac[MAC_LEN])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned char idx[4] = { index >> 24, index >> 16, index >> 8, index };

	h = fnv1a(h, "vhdvisor-mac", 12);
	h = fnv1a(h, seed, strlen(seed) + 1);
	h = fnv1a(h, idx, sizeof(idx));
	/* Fold the high bits in: FNV's low bits mix less well. */
	h ^= h >> 29;
	for (int i = 0; i < MAC_LEN; i++)
		mac[i] = h >> (8 * i);
	mac[0] = (mac[0] & 0xfc) | 0x02; /* unicast, locally administered */
}

int mac_parse(const char *s, uint8_t mac[MAC_LEN])
{
	uint8_t m[MAC_LEN];
	bool zero = true;

	if (!s || strlen(s) != MAC_STR_LEN - 1)
		return -EINVAL;
	for (int i = 0; i < MAC_LEN; i++) {
		const char *p = s + 3 * i;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < MAC_LEN - 1 && p[2] != ':' && p[2] != '-')
			return -EINVAL;
		m[i] = hi << 4 | lo;
		if (m[i])
			zero = false;
	}
	if (zero || (m[0] & 0x01))
		return -EINVAL;
	memcpy(mac, m, MAC_LEN);
	return 0;
}

char *mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STR_LEN])
{
	snprintf(buf, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
