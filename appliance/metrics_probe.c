/* appliance/metrics_probe.c: what the sampler reads from /proc and /sys. */
#include "appliance/metrics_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

void mx_put(struct mx_sample *s, enum mx_kind k, double v, const char *fmt, ...)
{
	va_list ap;

	if (s->n >= MX_MAX_FIELDS)
		return;
	va_start(ap, fmt);
	vsnprintf(s->names[s->n], MX_NAME_MAX, fmt, ap);
	va_end(ap);
	s->kinds[s->n] = k;
	s->v[s->n] = v;
	s->n++;
}

/* The whole (small) file @path into @buf, NUL-terminated. Bytes or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

static double tick_ns(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return 1e9 / (hz > 0 ? (double)hz : 100.0);
}

int mx_proc_read(pid_t pid, double *cpu_ns, double *rss)
{
	char path[64], buf[1024], *p;
	unsigned long long utime, stime;
	long long rss_pages;
	ssize_t n;

	*cpu_ns = *rss = NAN;
	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	/* the command name may hold spaces and ')': fields start after the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
			 "%*d %*d %*d %*d %*d %*d %*u %*u %lld", &utime, &stime, &rss_pages) != 3)
		return -EINVAL;
	*cpu_ns = (double)(utime + stime) * tick_ns();
	*rss = (double)rss_pages * (double)sysconf(_SC_PAGESIZE);
	return 0;
}

static double meminfo_field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);
	unsigned long long kb;

	if (!p || sscanf(p + strlen(key), " %llu", &kb) != 1)
		return NAN;
	return (double)kb * 1024;
}

void mx_host_sample(const char *state_dir, struct mx_sample *s)
{
	unsigned long long v[10] = { 0 };
	double busy = NAN, idle = NAN, l[3] = { NAN, NAN, NAN };
	char buf[8192];
	struct statvfs sv;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (read_small("/proc/stat", buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]) >= 4) {
		/* user nice system idle iowait irq softirq steal (guest time is in user) */
		busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * tick_ns();
		idle = (double)(v[3] + v[4]) * tick_ns();
	}
	mx_put(s, MX_COUNTER, busy, "cpu_busy_ns");
	mx_put(s, MX_COUNTER, idle, "cpu_idle_ns");
	mx_put(s, MX_GAUGE, cpus > 0 ? (double)cpus : NAN, "cpus");
	if (read_small("/proc/meminfo", buf, sizeof(buf)) <= 0)
		buf[0] = '\0';
	mx_put(s, MX_GAUGE, meminfo_field(buf, "MemTotal:"), "mem_total");
	mx_put(s, MX_GAUGE, meminfo_field(buf, "MemFree:"), "mem_free");
	mx_put(s, MX_GAUGE, meminfo_field(buf, "MemAvailable:"), "mem_available");
	if (read_small("/proc/loadavg", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3)
		l[0] = l[1] = l[2] = NAN;
	mx_put(s, MX_GAUGE, l[0], "load1");
	mx_put(s, MX_GAUGE, l[1], "load5");
	mx_put(s, MX_GAUGE, l[2], "load15");
	if (statvfs(state_dir, &sv)) {
		mx_put(s, MX_GAUGE, NAN, "storage_total");
		mx_put(s, MX_GAUGE, NAN, "storage_free");
	} else {
		mx_put(s, MX_GAUGE, (double)sv.f_blocks * (double)sv.f_frsize, "storage_total");
		mx_put(s, MX_GAUGE, (double)sv.f_bavail * (double)sv.f_frsize, "storage_free");
	}
}

double mx_net_counter(const char *ifname, const char *stat)
{
	char path[160], buf[64];

	/* a name from a runtime's reply: never let it leave /sys/class/net */
	if (!ifname[0] || strchr(ifname, '/') || !strcmp(ifname, ".") || !strcmp(ifname, "..") ||
	    strlen(ifname) >= 16)
		return NAN;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, stat);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return NAN;
	return strtod(buf, NULL);
}
