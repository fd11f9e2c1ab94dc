/* appliance/metrics_int.h: the sampler's pieces (metrics.c) shared with
 * its probes (metrics_probe.c), which read /proc and /sys. */
#ifndef VV_APPLIANCE_METRICS_INT_H
#define VV_APPLIANCE_METRICS_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "appliance/metrics_ring.h"

#define MX_MAX_FIELDS 192
#define MX_NAME_MAX 32

/* One sample being built: fields in the order they were put. */
struct mx_sample {
	unsigned n;
	char names[MX_MAX_FIELDS][MX_NAME_MAX];
	enum mx_kind kinds[MX_MAX_FIELDS];
	double v[MX_MAX_FIELDS];
};

/* Adds field @name (printf format) with @v (NAN: unknown). */
__attribute__((format(printf, 4, 5)))
void mx_put(struct mx_sample *s, enum mx_kind k, double v, const char *fmt, ...);

/* CPU time (user + system, all threads, ns) and RSS (bytes) of @pid from
 * /proc/PID/stat. 0 or -errno (-ENOENT: no such process). */
int mx_proc_read(pid_t pid, double *cpu_ns, double *rss);

/* The host's fields into @s: cpu_busy_ns, cpu_idle_ns (counters, all
 * CPUs), cpus, mem_total, mem_free, mem_available, load1, load5, load15,
 * storage_total, storage_free (of @state_dir's file system). */
void mx_host_sample(const char *state_dir, struct mx_sample *s);

/* Counter @stat ("rx_bytes") of network interface @ifname from
 * /sys/class/net/IF/statistics; NAN when unreadable. */
double mx_net_counter(const char *ifname, const char *stat);

#endif
