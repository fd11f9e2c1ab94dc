/* netback/nl.h: the rtnetlink operations netback needs (links, bridges,
 * addresses, routes), over libmnl. Never shells out to ip(8).
 *
 * Every operation acts in the network namespace of the calling thread.
 * Errors are the kernel's -errno: -EPERM without CAP_NET_ADMIN, -ENODEV
 * for a missing link, -EEXIST for a taken name. Not thread-safe: one
 * struct nl per thread. */
#ifndef VV_NETBACK_NL_H
#define VV_NETBACK_NL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netback/subnet.h"

struct nl;

/* Opens a NETLINK_ROUTE socket. Returns 0 or -errno. */
int nl_open(struct nl **out);

/* Closes @nl; accepts NULL. */
void nl_close(struct nl *nl);

/* Returns the ifindex (> 0) of @ifname, or -ENODEV. */
int nl_link_index(struct nl *nl, const char *ifname);

struct nl_link_info {
	int index;
	int master;     /* ifindex of the bridge it is enslaved to, 0 if none */
	bool up;        /* IFF_UP is set */
	char kind[16];  /* "bridge", "tun", "veth"... ("" when unknown) */
	uint8_t mac[6];
};

/* Reads what netback cares about of @ifname. 0, -ENODEV or -errno. */
int nl_link_get(struct nl *nl, const char *ifname, struct nl_link_info *out);

/* Counts the links enslaved to @master and copies up to @max of their names
 * into @names. Returns the count (>= 0) or -errno. */
int nl_link_ports(struct nl *nl, int master, char (*names)[IF_NAMESIZE],
		  size_t max);

/* Creates a bridge @ifname (STP off, so ports forward at once) with the
 * fixed address @mac (NULL: the kernel's choice). The bridge is left down.
 * Returns 0, -EEXIST when the name is taken, or -errno. */
int nl_bridge_create(struct nl *nl, const char *ifname, const uint8_t *mac);

/* Deletes the link @ifindex. Returns 0, -ENODEV or -errno. */
int nl_link_delete(struct nl *nl, int ifindex);

/* Sets or clears IFF_UP on @ifindex. Returns 0 or -errno. */
int nl_link_set_up(struct nl *nl, int ifindex, bool up);

/* Enslaves @ifindex to the bridge @master (0 releases it). 0 or -errno. */
int nl_link_set_master(struct nl *nl, int ifindex, int master);

/* Adds @addr/@prefix (host byte order) to @ifindex, with the broadcast
 * address of the subnet. Returns 0, -EEXIST or -errno. */
int nl_addr_add(struct nl *nl, int ifindex, uint32_t addr, uint8_t prefix);

/* Returns in *out (malloc'd, caller frees) the destinations of every IPv4
 * route of every table except default routes (prefix 0), and their count
 * in *n. Returns 0 or -errno. */
int nl_route_list(struct nl *nl, struct subnet **out, size_t *n);

/* Writes the name of the interface of the IPv4 default route of the main
 * table (the uplink) into @ifname. Returns 0, -ENETUNREACH when there is no
 * default route, or -errno. */
int nl_default_route_dev(struct nl *nl, char ifname[IF_NAMESIZE]);

#endif
