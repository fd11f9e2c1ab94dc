/* netback/subnet.h: IPv4 networks (CIDR) for lab networks: parsing,
 * overlap tests and picking a free subnet out of a pool. Addresses are
 * uint32_t in host byte order throughout. */
#ifndef VV_NETBACK_SUBNET_H
#define VV_NETBACK_SUBNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUBNET_STR_LEN 19 /* "255.255.255.255/32" + NUL */

struct subnet {
	uint32_t addr;  /* network address, host bits zero */
	uint8_t prefix; /* 0..32 */
};

/* Parses "A.B.C.D/N". With @strict, host bits must be zero (-EINVAL
 * otherwise); without, they are cleared. Returns 0 or -EINVAL. */
int subnet_parse(const char *s, bool strict, struct subnet *out);

/* Parses a dotted quad "A.B.C.D" into @out. Returns 0 or -EINVAL. */
int ip4_parse(const char *s, uint32_t *out);

/* Formats "A.B.C.D/N" / "A.B.C.D" into @buf; returns @buf. */
char *subnet_format(const struct subnet *sn, char *buf, size_t len);
char *ip4_format(uint32_t addr, char *buf, size_t len);

/* The netmask of @prefix (0..32) in host byte order. */
uint32_t subnet_mask(uint8_t prefix);

/* True when @a and @b share at least one address. */
bool subnet_overlaps(const struct subnet *a, const struct subnet *b);

/* The @n-th address of @sn (0 = the network address); n must be below
 * the size of the subnet. */
uint32_t subnet_host(const struct subnet *sn, uint32_t n);

/* Number of usable host addresses (without network and broadcast) of a
 * subnet with @prefix; 0 for prefixes above 30. */
uint32_t subnet_usable(uint8_t prefix);

/* Finds the lowest subnet of length @prefix inside @pool that overlaps none
 * of the @n_taken subnets in @taken. Returns 0 and sets *out, -EINVAL when
 * @prefix is shorter than the pool's, or -ENOSPC when every candidate is
 * taken. */
int subnet_pick(const struct subnet *pool, uint8_t prefix,
		const struct subnet *taken, size_t n_taken, struct subnet *out);

#endif
