/* netback/netback.h: the host side of a guest NIC, for hv/.
 *
 * A VM's engine asks for one port per NIC before it starts the guest:
 *
 *	struct nb_nic_spec spec = { .kind = NB_NIC_NET, .name = "lab1" };
 *	struct nb_port *port;
 *	err = netback_nic_attach(state_dir, &spec, vm_name, nic_index, &port);
 *	... -netdev tap,id=nI,fd=<nb_port_fd(port)>[,vhost=on]
 *	    -device virtio-net-pci,netdev=nI,mac=<nb_port_mac_str(port)>
 *	... when the VM has stopped: nb_port_destroy(port);
 *
 * The port owns the tap's file descriptor; the engine passes it to QEMU
 * (clearing FD_CLOEXEC in the child only) and never closes it. The tap is
 * not persistent: it disappears when the last descriptor (ours and QEMU's)
 * is closed, so a crashed VMM leaves nothing behind.
 *
 * Taps are created in the network namespace of the calling thread, which
 * must be the one the lab network's bridge was created in. Needs
 * CAP_NET_ADMIN. Not thread-safe against itself (one caller at a time). */
#ifndef VV_NETBACK_NETBACK_H
#define VV_NETBACK_NETBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netback/mac.h"

enum nb_nic_kind {
	NB_NIC_NET, /* a new tap vvtapN enslaved to lab network @name's bridge */
	NB_NIC_TAP, /* the existing tap @name that the user made */
};

struct nb_nic_spec {
	enum nb_nic_kind kind;
	const char *name;  /* network name (NB_NIC_NET) or tap name (NB_NIC_TAP) */
	bool has_mac;      /* false: generated from the VM name and NIC index */
	uint8_t mac[MAC_LEN];
};

struct nb_port;

/* Longest network or tap name a NIC can name (fits hv's struct vm_nic). */
#define NB_NIC_NAME_MAX 31

/* Parses a `--nic` argument: "net=NAME[,mac=MAC]" (a lab network) or
 * "tap=IFNAME[,mac=MAC]" (an existing tap). Fills @spec, whose name then
 * points into @namebuf. Returns 0, or -EINVAL with the reason in @err. */
int netback_nic_parse(const char *arg, struct nb_nic_spec *spec,
		      char namebuf[NB_NIC_NAME_MAX + 1], char *err, size_t errlen);

/* Opens the tap of one NIC of VM @vm_name (its @index-th NIC, from 0) as
 * described by @spec, up, and enslaved to the network's bridge for
 * NB_NIC_NET. The guest MAC is @spec->mac, or mac_generate(@vm_name,
 * @index): stable for a VM name, different for another name (so two clones
 * of one template differ). @state_dir holds the network records (NULL:
 * $VHDVISOR_STATE or /var/lib/vhdvisor).
 *
 * Returns 0 and *out, or -errno with a message for the user in @err
 * (@errlen bytes, may be 0): -ENOENT no such network, -ENODEV the network's
 * bridge (or, for NB_NIC_TAP, the tap) is missing in this namespace (run
 * `vhdvisor net up NAME`), -EBUSY the tap is taken by another process,
 * -EINVAL the name is not a tap, -EPERM no permission. Nothing is left
 * behind on failure. */
int netback_nic_attach(const char *state_dir, const struct nb_nic_spec *spec,
		       const char *vm_name, unsigned int index,
		       struct nb_port **out, char *err, size_t errlen);

/* The tap's file descriptor (O_CLOEXEC set), owned by @port. */
int nb_port_fd(const struct nb_port *port);

/* The tap's interface name ("vvtap3"), owned by @port. */
const char *nb_port_ifname(const struct nb_port *port);

/* The guest's MAC: raw bytes, and as "xx:xx:xx:xx:xx:xx"; owned by @port. */
const uint8_t *nb_port_mac(const struct nb_port *port);
const char *nb_port_mac_str(const struct nb_port *port);

/* Closes the tap (a vvtapN then disappears; a user's persistent tap stays,
 * released from us) and frees @port. Accepts NULL. Call it after the VMM
 * that shares the descriptor has exited, or the tap lingers until then. */
void nb_port_destroy(struct nb_port *port);

/* True when /dev/vhost-net can be opened, i.e. QEMU may use vhost=on. */
bool netback_vhost_available(void);

#endif
