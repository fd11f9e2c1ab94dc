/* netback/dnsmasq.c: starting, finding and stopping a lab's dnsmasq. */
#include "netback/dnsmasq.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/pidfile.h"
#include "common/fsutil.h"
#include "common/spawn.h"

#define DNSM_LEASE_TIME "1h"

int dnsm_start(const struct labnet *net, const char *dir, char *err,
	       size_t errlen)
{
	char a_conf[] = "--conf-file=/dev/null";
	char a_pid[4200], a_iface[64], a_range[128], a_lease[4200], a_log[4200];
	char a_domain[96], a_local[96], a_router[32];
	char first[16], last[16], mask[16], gw[16];
	const char *argv[24];
	int argc = 0, ret;

	ret = fs_mkdir_p(dir);
	if (ret) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-ret));
		return ret;
	}
	ip4_format(net->dhcp_first, first, sizeof(first));
	ip4_format(net->dhcp_last, last, sizeof(last));
	ip4_format(subnet_mask(net->subnet.prefix), mask, sizeof(mask));
	ip4_format(net->gateway, gw, sizeof(gw));
	snprintf(a_pid, sizeof(a_pid), "--pid-file=%s/dnsmasq.pid", dir);
	snprintf(a_iface, sizeof(a_iface), "--interface=%s", net->bridge);
	snprintf(a_range, sizeof(a_range), "--dhcp-range=%s,%s,%s,%s", first,
		 last, mask, DNSM_LEASE_TIME);
	snprintf(a_lease, sizeof(a_lease), "--dhcp-leasefile=%s/leases", dir);
	snprintf(a_log, sizeof(a_log), "--log-facility=%s/dnsmasq.log", dir);
	snprintf(a_domain, sizeof(a_domain), "--domain=%s.lab", net->name);
	snprintf(a_local, sizeof(a_local), "--local=/%s.lab/", net->name);
	/* Without NAT there is nowhere to route to: announce no router. */
	if (net->nat)
		snprintf(a_router, sizeof(a_router), "--dhcp-option=3,%s", gw);
	else
		snprintf(a_router, sizeof(a_router), "--dhcp-option=3");

	argv[argc++] = "dnsmasq";
	argv[argc++] = a_conf;
	argv[argc++] = a_pid;
	argv[argc++] = a_iface;
	argv[argc++] = "--bind-interfaces";
	argv[argc++] = "--except-interface=lo";
	argv[argc++] = a_range;
	argv[argc++] = a_lease;
	argv[argc++] = "--dhcp-authoritative";
	argv[argc++] = a_router;
	argv[argc++] = a_domain;
	argv[argc++] = a_local;
	argv[argc++] = "--expand-hosts";
	argv[argc++] = "--no-hosts";
	if (!net->nat)
		argv[argc++] = "--no-resolv";
	argv[argc++] = a_log;
	argv[argc++] = "--log-dhcp";
	argv[argc] = NULL;

	ret = spawn_run(argv, NULL, err, errlen);
	if (ret < 0) {
		if (ret == -ENOENT)
			snprintf(err, errlen, "dnsmasq is not installed");
		return ret;
	}
	if (ret != 0) {
		if (!err[0])
			snprintf(err, errlen, "dnsmasq exited with status %d", ret);
		return -EIO;
	}
	if (!dnsm_pid(dir)) {
		snprintf(err, errlen, "dnsmasq started but wrote no pidfile in %s", dir);
		return -EIO;
	}
	return 0;
}

/* True when @pid is a live (not zombie) dnsmasq started with @pid_arg. */
static bool dnsm_is_ours(int pid, const char *pid_arg)
{
	char path[64], buf[8192], stat[256];
	ssize_t n;
	int fd;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	p = strrchr(stat, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return false;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (!strstr(buf, "dnsmasq"))
		return false;
	for (ssize_t off = 0; off < n; off += strlen(buf + off) + 1)
		if (!strcmp(buf + off, pid_arg))
			return true;
	return false;
}

int dnsm_pid(const char *dir)
{
	char path[4200], arg[4300];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/dnsmasq.pid", dir);
	snprintf(arg, sizeof(arg), "--pid-file=%s", path);
	pid = pidfile_read(path);
	return pid && dnsm_is_ours(pid, arg) ? (int)pid : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int dnsm_stop(const char *dir)
{
	char path[4200];
	int pid = dnsm_pid(dir);

	if (pid > 0) {
		int i;

		if (kill(pid, SIGTERM) && errno != ESRCH)
			return -errno;
		for (i = 0; i < 300 && dnsm_pid(dir) == pid; i++)
			sleep_ms(10);
		if (dnsm_pid(dir) == pid) {
			kill(pid, SIGKILL);
			for (i = 0; i < 100 && dnsm_pid(dir) == pid; i++)
				sleep_ms(10);
			if (dnsm_pid(dir) == pid)
				return -EBUSY;
		}
	}
	snprintf(path, sizeof(path), "%s/dnsmasq.pid", dir);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int dnsm_leases(const char *dir, struct dnsm_lease **out, size_t *n)
{
	char path[4200], line[512];
	struct dnsm_lease *v = NULL;
	size_t cnt = 0, cap = 0;
	FILE *f;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/leases", dir);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct dnsm_lease l = { 0 };
		char ip[64];

		/* "EXPIRY MAC IP HOSTNAME CLIENTID" */
		if (sscanf(line, "%lld %17s %63s %63s", &l.expiry, l.mac, ip,
			   l.hostname) != 4 || ip4_parse(ip, &l.ip))
			continue;
		if (cnt == cap) {
			struct dnsm_lease *nv;

			cap = cap ? 2 * cap : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = l;
	}
	fclose(f);
	*out = v;
	*n = cnt;
	return 0;
}
