/* netback/netback.c: guest NIC ports: a tap per NIC, on a lab bridge. */
#include "netback/netback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback/labnet.h"
#include "netback/nl.h"
#include "netback/tap.h"

struct nb_port {
	int fd;
	char ifname[IF_NAMESIZE];
	uint8_t mac[MAC_LEN];
	char mac_str[MAC_STR_LEN];
};

static int __attribute__((format(printf, 4, 5)))
nb_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static bool ifname_valid(const char *s)
{
	size_t len = strlen(s);

	if (!len || len >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

int netback_nic_parse(const char *arg, struct nb_nic_spec *spec,
		      char namebuf[NB_NIC_NAME_MAX + 1], char *err, size_t errlen)
{
	const char *p = arg, *comma;
	size_t len;

	memset(spec, 0, sizeof(*spec));
	if (!strncmp(p, "net=", 4)) {
		spec->kind = NB_NIC_NET;
		p += 4;
	} else if (!strncmp(p, "tap=", 4)) {
		spec->kind = NB_NIC_TAP;
		p += 4;
	} else {
		return nb_fail(err, errlen, -EINVAL,
			       "--nic %s: expected net=NAME[,mac=MAC] or tap=IFNAME[,mac=MAC]", arg);
	}
	comma = strchr(p, ',');
	len = comma ? (size_t)(comma - p) : strlen(p);
	if (len > NB_NIC_NAME_MAX)
		return nb_fail(err, errlen, -EINVAL, "--nic %s: name too long", arg);
	memcpy(namebuf, p, len);
	namebuf[len] = '\0';
	if (spec->kind == NB_NIC_NET ? !labnet_name_valid(namebuf) : !ifname_valid(namebuf))
		return nb_fail(err, errlen, -EINVAL, "--nic %s: bad %s name '%s'", arg,
			       spec->kind == NB_NIC_NET ? "network" : "tap", namebuf);
	spec->name = namebuf;
	if (!comma)
		return 0;
	if (strncmp(comma + 1, "mac=", 4) || mac_parse(comma + 5, spec->mac))
		return nb_fail(err, errlen, -EINVAL,
			       "--nic %s: after the name only mac=xx:xx:xx:xx:xx:xx (unicast) may follow",
			       arg);
	spec->has_mac = true;
	return 0;
}

static int tap_fail(char *err, size_t errlen, int code, const char *name)
{
	switch (code) {
	case -EBUSY:
		return nb_fail(err, errlen, code, "tap %s is in use by another process", name);
	case -EINVAL:
		return nb_fail(err, errlen, code, "%s exists and is not a tap", name);
	case -EPERM:
	case -EACCES:
		return nb_fail(err, errlen, -EPERM,
			       "opening tap %s: permission denied (needs CAP_NET_ADMIN, run as root)",
			       name);
	case -ENOENT:
		return nb_fail(err, errlen, code, "/dev/net/tun is missing");
	default:
		return nb_fail(err, errlen, code, "opening tap %s: %s", name,
			       strerror(-code));
	}
}

/* Opens the tap and connects it: the bridge @master (0: none), up. */
static int port_open(struct nb_port *p, struct nl *nl, const char *name,
		     int master, char *err, size_t errlen)
{
	int idx, ret;

	p->fd = tap_open(name, p->ifname);
	if (p->fd < 0)
		return tap_fail(err, errlen, p->fd, name);
	idx = nl_link_index(nl, p->ifname);
	if (idx < 0)
		return nb_fail(err, errlen, idx, "finding tap %s: %s", p->ifname,
			       strerror(-idx));
	if (master > 0) {
		ret = nl_link_set_master(nl, idx, master);
		if (ret)
			return nb_fail(err, errlen, ret, "adding %s to its bridge: %s",
				       p->ifname, strerror(-ret));
	}
	ret = nl_link_set_up(nl, idx, true);
	if (ret)
		return nb_fail(err, errlen, ret, "bringing %s up: %s", p->ifname,
			       strerror(-ret));
	return 0;
}

int netback_nic_attach(const char *state_dir, const struct nb_nic_spec *spec,
		       const char *vm_name, unsigned int index,
		       struct nb_port **out, char *err, size_t errlen)
{
	struct nb_port *p;
	struct labnet net;
	struct nl *nl = NULL;
	int ret, master = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!spec->name || !*spec->name || !vm_name || !*vm_name)
		return nb_fail(err, errlen, -EINVAL, "a NIC needs a network or tap name and a VM name");
	p = calloc(1, sizeof(*p));
	if (!p)
		return nb_fail(err, errlen, -ENOMEM, "out of memory");
	p->fd = -1;
	if (spec->has_mac)
		memcpy(p->mac, spec->mac, MAC_LEN);
	else
		mac_generate(vm_name, index, p->mac);
	mac_format(p->mac, p->mac_str);

	ret = nl_open(&nl);
	if (ret) {
		nb_fail(err, errlen, ret, "opening rtnetlink: %s", strerror(-ret));
		goto err_free;
	}
	if (spec->kind == NB_NIC_NET) {
		ret = labnet_load(state_dir ? state_dir : labnet_default_state_dir(),
				  spec->name, &net);
		if (ret == -ENOENT) {
			nb_fail(err, errlen, ret, "no network named '%s'", spec->name);
			goto err_free;
		} else if (ret) {
			nb_fail(err, errlen, ret, "reading network '%s': %s",
				spec->name, strerror(-ret));
			goto err_free;
		}
		master = nl_link_index(nl, net.bridge);
		if (master < 0) {
			ret = nb_fail(err, errlen, master,
				      "bridge %s of network '%s' is missing here (run 'vhdvisor net up %s')",
				      net.bridge, spec->name, spec->name);
			goto err_free;
		}
		ret = port_open(p, nl, TAP_NAME_TEMPLATE, master, err, errlen);
	} else {
		struct nl_link_info info;

		ret = nl_link_get(nl, spec->name, &info);
		if (ret == 0 && strcmp(info.kind, "tun"))
			ret = -EINVAL;
		if (ret) {
			tap_fail(err, errlen, ret, spec->name);
			if (ret == -ENODEV)
				nb_fail(err, errlen, ret, "no tap named %s (create it first, e.g. 'ip tuntap add %s mode tap vnet_hdr')",
					spec->name, spec->name);
			goto err_free;
		}
		ret = port_open(p, nl, spec->name, 0, err, errlen);
	}
	if (ret)
		goto err_free;
	nl_close(nl);
	*out = p;
	return 0;

err_free:
	nl_close(nl);
	nb_port_destroy(p);
	return ret;
}

int nb_port_fd(const struct nb_port *port)
{
	return port->fd;
}

const char *nb_port_ifname(const struct nb_port *port)
{
	return port->ifname;
}

const uint8_t *nb_port_mac(const struct nb_port *port)
{
	return port->mac;
}

const char *nb_port_mac_str(const struct nb_port *port)
{
	return port->mac_str;
}

void nb_port_destroy(struct nb_port *port)
{
	if (!port)
		return;
	if (port->fd >= 0)
		close(port->fd);
	free(port);
}

bool netback_vhost_available(void)
{
	int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}
