/* netback/labnet.h: lab networks: an isolated bridge per network, with
 * optional DHCP/DNS (dnsmasq) and NAT to the uplink (nftables).
 *
 * A network's record is STATE/networks/NAME.json (written atomically, so
 * every process sees a whole record or none); its run-time files (dnsmasq
 * pidfile, leases, log) are in RUN/net/NAME/. Host objects are named
 * vvbr-... (bridge) and table inet vhdvisor_KEY (nftables). They live in the
 * network namespace of the process that created the network: run every
 * `net` command of one state directory in the same namespace.
 *
 * Addressing: the gateway (the bridge's own address) is the first host
 * address of the subnet; DHCP hands out the upper half of the hosts, so the
 * lower half is free for static addresses.
 *
 * Isolation: for each network, nftables drops everything routed from or to
 * its bridge except, with NAT, bridge -> uplink and the replies; traffic to
 * the host itself from a lab is limited to DHCP, DNS and ping of the
 * gateway. Two lab networks therefore never reach each other, even with
 * IPv4 forwarding on (which --nat turns on, and never off again). */
#ifndef VV_NETBACK_LABNET_H
#define VV_NETBACK_LABNET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "netback/mac.h"
#include "netback/subnet.h"

#define LABNET_NAME_MAX 31
#define LABNET_DEFAULT_POOL "10.213.0.0/16"
#define LABNET_DEFAULT_PREFIX 24

struct labnet {
	char name[LABNET_NAME_MAX + 1];
	char bridge[IF_NAMESIZE];
	struct subnet subnet;
	uint32_t gateway;             /* the bridge's address */
	uint8_t bridge_mac[MAC_LEN];  /* fixed, so it never follows the ports */
	bool dhcp;
	uint32_t dhcp_first, dhcp_last; /* when dhcp */
	bool nat;
	char uplink[IF_NAMESIZE];     /* when nat: the default-route device */
};

/* Where networks live, and the detail of the last error. */
struct labnet_ctx {
	const char *state_dir;  /* records: STATE/networks/ */
	const char *run_dir;    /* pidfiles, leases: RUN/net/NAME/ */
	struct subnet pool;     /* where automatic subnets are taken from */
	char err[256];          /* set by a failing call: what went wrong */
};

struct labnet_opts {
	const char *name;
	const struct subnet *subnet; /* NULL: a free /24 from ctx->pool */
	bool dhcp;
	bool nat;
};

struct labnet_status {
	bool bridge;        /* the bridge exists in this namespace */
	bool bridge_up;
	int dnsmasq_pid;    /* > 0 when our dnsmasq runs, else 0 */
	bool firewall;      /* our nftables table for it exists */
};

/* The default directories: $VHDVISOR_STATE or /var/lib/vhdvisor, and
 * $VHDVISOR_RUN or /run/vhdvisor (ARCHITECTURE.md, "Places on disk"). */
const char *labnet_default_state_dir(void);
const char *labnet_default_run_dir(void);

/* Fills @ctx with the directories (kept by reference; NULL: the defaults
 * above) and the default pool. */
void labnet_ctx_init(struct labnet_ctx *ctx, const char *state_dir,
		     const char *run_dir);

/* True for 1..LABNET_NAME_MAX characters of [a-z0-9-], starting with a
 * letter or digit. */
bool labnet_name_valid(const char *name);

/* The bridge name of network @name: "vvbr-NAME" when that fits IFNAMSIZ,
 * else "vvbr-" + the first 5 characters + 5 hex digits of a hash of the
 * name. */
void labnet_bridge_name(const char *name, char out[IF_NAMESIZE]);

/* Takes the pool of automatic subnets from $VHDVISOR_NET_POOL when set.
 * 0, or -EINVAL (not a CIDR subnet: the pool stays as it was). */
int labnet_pool_env(struct labnet_ctx *ctx);

/* The record's JSON (labnet_to_json) with "status": {bridge, bridge_up,
 * firewall, dnsmasq_pid (with DHCP)} of labnet_status(). NULL on ENOMEM.
 * (netback/labnet_json.c) */
struct json_object *labnet_json(struct labnet_ctx *ctx, const struct labnet *net);

/* --- records (netback/netrec.c) --- */

/* Loads network @name. 0, -ENOENT (no such network), -EINVAL (corrupt
 * record) or -errno. */
int labnet_load(const char *state_dir, const char *name, struct labnet *out);

/* Writes @net's record atomically (temporary file, fsync, rename),
 * creating STATE/networks/ when needed. 0 or -errno. */
int labnet_save(const char *state_dir, const struct labnet *net);

/* Removes @name's record. 0, -ENOENT or -errno. */
int labnet_unlink(const char *state_dir, const char *name);

/* Loads every record, sorted by name, into *out (caller frees) and *n.
 * Corrupt records are skipped. 0 or -errno (none is not an error). */
int labnet_list(const char *state_dir, struct labnet **out, size_t *n);

/* The JSON form of a record (the caller puts the object). NULL on ENOMEM. */
struct json_object *labnet_to_json(const struct labnet *net);

/* Decodes and validates a record. 0 or -EINVAL. */
int labnet_from_json(struct json_object *obj, struct labnet *out);

/* Takes the exclusive lock of STATE/networks/ (creating it). Returns the
 * lock's fd, to be closed to unlock, or -errno. */
int labnet_lock(const char *state_dir);

/* --- lifecycle (netback/labnet.c); each sets ctx->err on failure --- */

/* Creates a network: record, bridge with the gateway address, nftables
 * rules, dnsmasq when @opts->dhcp. Nothing is left behind on failure.
 * Returns 0 and fills *out (may be NULL), or -EINVAL (bad name or subnet),
 * -EEXIST (name taken, or bridge name in use), -EADDRINUSE (given subnet
 * overlaps a route or a network), -ENOSPC (pool exhausted), -ENETUNREACH
 * (--nat without a default route), -EPERM, or -errno. */
int labnet_create(struct labnet_ctx *ctx, const struct labnet_opts *opts,
		  struct labnet *out);

/* Removes network @name: stops dnsmasq, deletes the nftables rules, the
 * bridge (and so detaches its ports) and the record. Parts already gone are
 * not errors. Without @force, refuses with -EBUSY while VM taps (vvtap*)
 * are ports of the bridge. Returns 0, -ENOENT, -EBUSY or -errno (the
 * record stays on failure). */
int labnet_remove(struct labnet_ctx *ctx, const char *name, bool force);

/* Brings a network back to its record: recreates a missing bridge and
 * nftables rules, restarts dnsmasq if it died (this is how dnsmasq is
 * supervised: `net up`, and a `net create` of a name that exists does not
 * do it). Returns 0, -ENOENT or -errno. */
int labnet_up(struct labnet_ctx *ctx, const char *name);

/* The run-time folder of network @name: RUN/net/NAME. */
void labnet_run_dir(const struct labnet_ctx *ctx, const char *name, char *buf,
		    size_t len);

/* What of @net exists now. Never fails: missing parts read as absent. */
void labnet_status(struct labnet_ctx *ctx, const struct labnet *net,
		   struct labnet_status *st);

#endif
