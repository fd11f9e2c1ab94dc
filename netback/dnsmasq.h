/* netback/dnsmasq.h: the DHCP + DNS server of a lab network: one dnsmasq
 * process per network, bound to its bridge only, with its pidfile, leases
 * and log in a folder of the run directory (RUN/net/NAME/). */
#ifndef VV_NETBACK_DNSMASQ_H
#define VV_NETBACK_DNSMASQ_H

#include <stddef.h>
#include <stdint.h>

#include "netback/labnet.h"

/* Starts dnsmasq for @net (which must have dhcp set and its bridge up with
 * the gateway address), files in @dir (created if needed). dnsmasq
 * daemonizes after it bound its sockets, so a return of 0 means it serves.
 * On failure returns -errno (-ENOENT: dnsmasq not installed, -EIO: it
 * refused to start) and puts dnsmasq's message in @err. */
int dnsm_start(const struct labnet *net, const char *dir, char *err,
	       size_t errlen);

/* The pid of the dnsmasq serving @dir, or 0 when none runs (a stale
 * pidfile or a reused pid reads as 0). */
int dnsm_pid(const char *dir);

/* Stops the dnsmasq of @dir (SIGTERM, then SIGKILL after 3 s) and removes
 * its pidfile. Returns 0 (also when none ran) or -errno. */
int dnsm_stop(const char *dir);

struct dnsm_lease {
	char mac[MAC_STR_LEN];
	uint32_t ip;
	char hostname[64];  /* "*" when the client sent none */
	long long expiry;   /* Unix time */
};

/* Reads the leases dnsmasq handed out for @dir into *out (caller frees)
 * and *n. No lease file means no leases. 0 or -errno. */
int dnsm_leases(const char *dir, struct dnsm_lease **out, size_t *n);

#endif
