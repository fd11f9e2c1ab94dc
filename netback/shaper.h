/* netback/shaper.h: per-NIC rate limits with tc(8) on the tap.
 *
 * Directions are named from the guest:
 *   rx  what the guest receives = the tap's egress: a tbf root qdisc
 *       (packets wait in a queue of up to 100 ms, so TCP sees delay, not
 *       loss);
 *   tx  what the guest sends = the tap's ingress: an ingress qdisc whose
 *       u32 match-all filter redirects (mirred) every packet to an ifb
 *       device "vvifb<ifindex of the tap>", which has the same tbf as its
 *       root qdisc. (A police action would need no ifb, but it drops
 *       instead of queueing, which TCP rewards with far less than the
 *       rate, and act_police is often not built.) The ifb is removed with
 *       the tx limit; call shaper_clear() before the tap goes away.
 * Rates are bits per second; 0 means no limit in that direction (its tc
 * part is removed). Everything acts in the caller's network namespace and
 * on any interface (a tap, a veth). tc is run through common/spawn. */
#ifndef VV_NETBACK_SHAPER_H
#define VV_NETBACK_SHAPER_H

#include <stddef.h>
#include <stdint.h>

/* Parses a rate: a whole or decimal number with an optional unit K, M or G
 * (decimal: 10M = 10,000,000 bit/s), optionally followed by "bit" or
 * "bps" (both mean bits per second); no unit: bit/s. "0", "none" and
 * "off" give 0 (no limit). -EINVAL for anything else, a rate below
 * 8 kbit/s (other than 0) or above 100 Gbit/s. */
int shaper_parse_rate(const char *s, uint64_t *bps);

/* "10M", "1.5G", "800K", "12345" (bit/s) into @buf; "none" for 0. */
const char *shaper_format_rate(uint64_t bps, char *buf, size_t len);

/* Sets (replaces) the limits of @ifname: @rx_bps for the guest's receive
 * direction, @tx_bps for its send direction, 0 = unlimited. 0, or -errno
 * with a message in @err: -ENOENT "tc is not installed (iproute2)",
 * -ENODEV when @ifname does not exist, -EIO when tc failed (its words). */
int shaper_set(const char *ifname, uint64_t rx_bps, uint64_t tx_bps,
	       char *err, size_t errlen);

/* Removes both limits: shaper_set(ifname, 0, 0, ...). */
int shaper_clear(const char *ifname, char *err, size_t errlen);

#endif
