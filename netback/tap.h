/* netback/tap.h: tap devices for guest NICs.
 *
 * A tap is opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, a 12-byte
 * virtio-net header (struct virtio_net_hdr_mrg_rxbuf) and checksum/TSO
 * offloads, which is what QEMU's `-netdev tap,fd=N` (it probes the header
 * from the descriptor; vnet_hdr= is refused together with fd=) and
 * vhost-net expect. Taps are not persistent: the device disappears when its
 * last file descriptor is closed. */
#ifndef VV_NETBACK_TAP_H
#define VV_NETBACK_TAP_H

#include <net/if.h>

/* Name template of the taps netback creates; the kernel replaces %d with
 * the lowest free number. */
#define TAP_NAME_TEMPLATE "vvtap%d"

/* Opens (creating it if it does not exist) the tap @name, which may hold a
 * "%d" template, in the caller's network namespace. Writes the actual name
 * into @ifname. Returns the file descriptor (O_CLOEXEC; clear it before
 * handing it to a child) or -errno: -EBUSY when another process holds the
 * tap, -EINVAL when @name is taken by a device that is not a tap,
 * -EPERM without CAP_NET_ADMIN, -ENOENT without /dev/net/tun. */
int tap_open(const char *name, char ifname[IF_NAMESIZE]);

#endif
