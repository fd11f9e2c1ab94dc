/* netback/fw.h: the nftables rules of a lab network: isolation always,
 * NAT to the uplink with --nat. Each network owns one table,
 * `table inet vhdvisor_KEY` (KEY = the name with '-' as '_'; inet, so that
 * IPv6 is dropped by the same rules as IPv4), so that its
 * rules are added and removed in one atomic nft transaction and cleanup can
 * find exactly ours. Runs nft(8) with an argv vector and the ruleset on
 * its stdin. */
#ifndef VV_NETBACK_FW_H
#define VV_NETBACK_FW_H

#include <stdbool.h>
#include <stddef.h>

#include "netback/labnet.h"

#define FW_TABLE_PREFIX "vhdvisor_"

/* Writes @net's table name into @buf. */
void fw_table_name(const struct labnet *net, char *buf, size_t len);

/* Installs (or replaces, atomically) @net's table:
 * - forward: bridge <-> same bridge accepted (for br_netfilter hosts);
 *   with NAT, bridge -> uplink from the subnet and replies back accepted;
 *   anything else routed from or to the bridge dropped;
 * - input from the bridge: DHCP, DNS and ping of the gateway (IPv4),
 *   replies; everything else, IPv6 included, dropped;
 * - with NAT, masquerade of the subnet out of the uplink.
 * Returns 0, -ENOENT (nft missing) or -EIO with nft's message in @err. */
int fw_apply(const struct labnet *net, char *err, size_t errlen);

/* Removes @net's table; 0 also when it did not exist, else -errno/-EIO. */
int fw_remove(const struct labnet *net, char *err, size_t errlen);

/* True when @net's table exists. */
bool fw_present(const struct labnet *net);

/* Turns IPv4 forwarding on in the caller's network namespace (needed for
 * NAT; never turned off again, since others may rely on it). 0 or -errno. */
int fw_enable_forwarding(void);

#endif
