/* netback/nl.c: rtnetlink requests over libmnl (links, bridges, addresses,
 * routes). Each request is sent with NLM_F_ACK (or as a dump) and the
 * replies are read until the kernel's acknowledgement or NLMSG_DONE. */
#include "netback/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#define NL_BUF_SIZE 32768

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	char buf[NL_BUF_SIZE];
};

int nl_open(struct nl **out)
{
	struct nl *nl = calloc(1, sizeof(*nl));
	int err;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open(NETLINK_ROUTE);
	if (!nl->sock) {
		err = -errno;
		free(nl);
		return err;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		nl_close(nl);
		return err;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	*out = nl;
	return 0;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

/* Sends @nlh (built in nl->buf) and runs @cb on every reply until the
 * acknowledgement or, for a dump request, NLMSG_DONE. Returns 0 or -errno
 * (the kernel's error for the request). */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int seq = ++nl->seq;

	nlh->nlmsg_seq = seq;
	/* NLM_F_DUMP shares bits with NLM_F_EXCL: test the whole of it. */
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		int ret;

		if (n < 0)
			return -errno;
		ret = mnl_cb_run(nl->buf, n, seq, nl->portid, cb, data);
		if (ret == MNL_CB_ERROR)
			return errno ? -errno : -EIO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static struct ifinfomsg *link_msg(struct nl *nl, uint16_t type, uint16_t flags,
				  struct nlmsghdr **nlh)
{
	struct ifinfomsg *ifi;

	*nlh = mnl_nlmsg_put_header(nl->buf);
	(*nlh)->nlmsg_type = type;
	(*nlh)->nlmsg_flags = NLM_F_REQUEST | flags;
	ifi = mnl_nlmsg_put_extra_header(*nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	return ifi;
}

static int linkinfo_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl_link_info *info = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
		snprintf(info->kind, sizeof(info->kind), "%s",
			 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl_link_info *info = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_MASTER:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			info->master = mnl_attr_get_u32(attr);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == sizeof(info->mac))
			memcpy(info->mac, mnl_attr_get_payload(attr),
			       sizeof(info->mac));
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(attr, linkinfo_attr_cb, info);
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_link_info *info = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	info->index = ifi->ifi_index;
	info->up = ifi->ifi_flags & IFF_UP;
	return mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, info);
}

int nl_link_get(struct nl *nl, const char *ifname, struct nl_link_info *out)
{
	struct nlmsghdr *nlh;
	int err;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	link_msg(nl, RTM_GETLINK, 0, &nlh);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	err = nl_talk(nl, nlh, link_cb, out);
	if (err)
		return err;
	return out->index > 0 ? 0 : -ENODEV;
}

struct port_walk {
	int master;
	char (*names)[IF_NAMESIZE];
	size_t max, count;
};

static int port_attr_cb(const struct nlattr *attr, void *data)
{
	const char **name = data;

	if (mnl_attr_get_type(attr) == IFLA_IFNAME &&
	    mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
		*name = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

static int port_cb(const struct nlmsghdr *nlh, void *data)
{
	struct port_walk *w = data;
	struct nl_link_info info = { 0 };
	const char *name = "";

	if (link_cb(nlh, &info) != MNL_CB_OK || info.master != w->master)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), port_attr_cb, &name);
	if (w->count < w->max)
		snprintf(w->names[w->count], IF_NAMESIZE, "%s", name);
	w->count++;
	return MNL_CB_OK;
}

int nl_link_ports(struct nl *nl, int master, char (*names)[IF_NAMESIZE],
		  size_t max)
{
	struct port_walk w = { .master = master, .names = names, .max = max };
	struct nlmsghdr *nlh;
	int err;

	link_msg(nl, RTM_GETLINK, NLM_F_DUMP, &nlh);
	err = nl_talk(nl, nlh, port_cb, &w);
	return err ? err : (int)w.count;
}

int nl_link_index(struct nl *nl, const char *ifname)
{
	struct nl_link_info info;
	int err = nl_link_get(nl, ifname, &info);

	return err ? err : info.index;
}

int nl_bridge_create(struct nl *nl, const char *ifname, const uint8_t *mac)
{
	struct nlmsghdr *nlh;
	struct nlattr *linkinfo, *infodata;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &nlh);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	infodata = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0);
	mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, 0);
	mnl_attr_nest_end(nlh, infodata);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_delete(struct nl *nl, int ifindex)
{
	struct nlmsghdr *nlh;

	link_msg(nl, RTM_DELLINK, 0, &nlh)->ifi_index = ifindex;
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_set_up(struct nl *nl, int ifindex, bool up)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi = link_msg(nl, RTM_NEWLINK, 0, &nlh);

	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_link_set_master(struct nl *nl, int ifindex, int master)
{
	struct nlmsghdr *nlh;

	link_msg(nl, RTM_NEWLINK, 0, &nlh)->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_MASTER, master);
	return nl_talk(nl, nlh, NULL, NULL);
}

int nl_addr_add(struct nl *nl, int ifindex, uint32_t addr, uint8_t prefix)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	struct ifaddrmsg *ifa;
	uint32_t a = htonl(addr);
	uint32_t brd = htonl(addr | ~subnet_mask(prefix));

	if (prefix > 32)
		return -EINVAL;
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, a);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
	if (prefix < 31)
		mnl_attr_put_u32(nlh, IFA_BROADCAST, brd);
	return nl_talk(nl, nlh, NULL, NULL);
}

struct route {
	uint32_t dst;    /* host byte order */
	uint8_t dst_len;
	uint32_t table;
	uint8_t type;
	int oif;
};

struct route_walk {
	int (*fn)(const struct route *r, void *arg);
	void *arg;
	int err;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	struct route *r = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_DST:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			r->dst = ntohl(mnl_attr_get_u32(attr));
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			r->table = mnl_attr_get_u32(attr);
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			r->oif = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_walk *w = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route r = { 0 };

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET)
		return MNL_CB_OK;
	r.dst_len = rtm->rtm_dst_len;
	r.table = rtm->rtm_table;
	r.type = rtm->rtm_type;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, &r);
	w->err = w->fn(&r, w->arg);
	return w->err ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Calls @fn for every IPv4 route of every table; a non-zero return of @fn
 * stops the walk and is returned. */
static int route_walk(struct nl *nl, int (*fn)(const struct route *, void *),
		      void *arg)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	struct route_walk w = { .fn = fn, .arg = arg };
	struct rtmsg *rtm;
	int err;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	err = nl_talk(nl, nlh, route_cb, &w);
	return w.err ? w.err : err;
}

struct route_list {
	struct subnet *v;
	size_t n, cap;
};

static int route_list_add(const struct route *r, void *arg)
{
	struct route_list *l = arg;

	if (r->dst_len == 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct subnet *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].addr = r->dst & subnet_mask(r->dst_len);
	l->v[l->n].prefix = r->dst_len;
	l->n++;
	return 0;
}

int nl_route_list(struct nl *nl, struct subnet **out, size_t *n)
{
	struct route_list l = { 0 };
	int err = route_walk(nl, route_list_add, &l);

	if (err) {
		free(l.v);
		return err;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

static int default_route_find(const struct route *r, void *arg)
{
	int *oif = arg;

	if (r->dst_len == 0 && r->table == RT_TABLE_MAIN &&
	    r->type == RTN_UNICAST && r->oif > 0 && !*oif)
		*oif = r->oif;
	return 0;
}

int nl_default_route_dev(struct nl *nl, char ifname[IF_NAMESIZE])
{
	int oif = 0;
	int err = route_walk(nl, default_route_find, &oif);

	if (err)
		return err;
	if (!oif)
		return -ENETUNREACH;
	if (!if_indextoname(oif, ifname))
		return -errno;
	return 0;
}
