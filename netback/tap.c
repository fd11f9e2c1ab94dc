/* netback/tap.c: opening tap devices through /dev/net/tun. */
#include "netback/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/util.h"

/* Offloads QEMU can take from a virtio-net guest; the kernel refuses
 * offloads it does not know, so fall back to fewer. QEMU sets the final
 * set itself once the guest negotiated its features. */
static const unsigned int tap_offloads[] = {
	TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
	TUN_F_CSUM,
	0,
};

int tap_open(const char *name, char ifname[IF_NAMESIZE])
{
	struct ifreq ifr;
	int hdr_len = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	int fd, err;
	size_t i;

	if (!name || !*name || strlen(name) >= IF_NAMESIZE)
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto err_close;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		goto err_close;
	for (i = 0; i < ARRAY_SIZE(tap_offloads); i++)
		if (ioctl(fd, TUNSETOFFLOAD, tap_offloads[i]) == 0)
			break;
	snprintf(ifname, IF_NAMESIZE, "%s", ifr.ifr_name);
	return fd;

err_close:
	err = -errno;
	close(fd);
	return err;
}
