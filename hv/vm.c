/* hv/vm.c: the VM object: config validation, boot planning and the run
 * loop that joins the engine's events, the API socket and signals. */
#include "hv/vm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>

#include <linux/if_tun.h>
#include <unistd.h>

#define LOG_TAG "vm"
#include "blkback/bdev.h"
#include "common/log.h"
#include "common/usock.h"
#include "hv/api.h"
#include "hv/boot.h"
#include "hv/hv_int.h"
#include "netback/netback.h"
#include "netback/shaper.h"

enum vm_phase { VM_CREATED, VM_RUNNING, VM_DONE };

struct vm {
	struct vm_config cfg;
	const struct vm_engine_ops *ops;
	struct vm_engine *engine;
	struct vm_boot boot;
	bool use_kvm;
	enum vm_phase phase;
	char run_dir[PATH_MAX];
	struct vm_api *api;
	struct nb_port *ports[VM_MAX_NICS];  /* taps netback opened for us */
	char shaped[VM_MAX_NICS][IF_NAMESIZE];  /* taps with limits set ("": none) */
	bool stop_requested;
	int stop_signo;
	char error[512];
};

static __thread char create_error[512];

const char *vm_error(const struct vm *vm)
{
	return vm ? vm->error : create_error;
}

const struct vm_config *vm_config(const struct vm *vm)
{
	return &vm->cfg;
}

const char *vm_run_dir(const struct vm *vm)
{
	return vm->run_dir;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	vm_api_destroy(vm->api);
	if (vm->engine)
		vm->ops->destroy(vm->engine);
	/* After the engine: QEMU shared the taps' descriptors. */
	for (unsigned i = 0; i < VM_MAX_NICS; i++) {
		char err[256];

		if (vm->shaped[i][0])   /* its ifb outlives the tap otherwise */
			(void)shaper_clear(vm->shaped[i], err, sizeof(err));
		nb_port_destroy(vm->ports[i]);
	}
	hv_run_dir_remove(vm->run_dir);
	free(vm);
}

int vm_create(const struct vm_config *cfg, struct vm **out)
{
	char root[PATH_MAX];
	struct vm_engine_env env;
	struct vm *vm;
	int r;

	create_error[0] = '\0';
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(create_error, sizeof(create_error), "out of memory");
		return -ENOMEM;
	}
	vm->cfg = *cfg;
	vm->ops = &vm_qemu_engine;
	if (!vm->cfg.name[0])
		snprintf(vm->cfg.name, sizeof(vm->cfg.name), "vm-%d", (int)getpid());
	r = vm_config_validate(&vm->cfg, create_error, sizeof(create_error));
	if (r)
		goto err;
	r = hv_accel_resolve(vm->cfg.accel, &vm->use_kvm, create_error, sizeof(create_error));
	if (r)
		goto err;
	if (vm->cfg.run_dir[0])
		snprintf(root, sizeof(root), "%s", vm->cfg.run_dir);
	else
		hv_run_root(root, sizeof(root));
	r = hv_run_dir_create(root, vm->cfg.name, vm->run_dir, sizeof(vm->run_dir));
	if (r) {
		snprintf(create_error, sizeof(create_error), "run folder %.300s/%s: %s", root,
			 vm->cfg.name, r == -EEXIST ? "a VM of that name runs" : strerror(-r));
		vm->run_dir[0] = '\0';
		goto err;
	}
	r = boot_plan(&vm->cfg, vm->run_dir, &vm->boot, create_error, sizeof(create_error));
	if (r)
		goto err;
	env = (struct vm_engine_env){
		.run_dir = vm->run_dir,
		.use_kvm = vm->use_kvm,
	};
	r = vm->ops->create(&vm->cfg, &vm->boot, &env, &vm->engine);
	if (r) {
		snprintf(create_error, sizeof(create_error), "cannot prepare the %s engine: %s",
			 vm->ops->name, strerror(-r));
		goto err;
	}
	log_info("%s: %s boot, %u vCPU, %llu MiB, %s, disks over %s", vm->cfg.name,
		 vm_boot_mode_name(vm->boot.mode), vm->cfg.cpus,
		 (unsigned long long)(vm->cfg.mem >> 20), vm->use_kvm ? "kvm" : "tcg",
		 vm_disk_transport_name(vm->cfg.disk_transport));
	*out = vm;
	return 0;
err:
	vm_destroy(vm);
	return r;
}

/* The tap of NIC @i: netback's, the one behind a caller's fd, or by name. */
static const char *nic_ifname(struct vm *vm, unsigned i, struct ifreq *ifr)
{
	if (vm->ports[i])
		return nb_port_ifname(vm->ports[i]);
	if (vm->cfg.nics[i].tap_fd >= 0 && !ioctl(vm->cfg.nics[i].tap_fd, TUNGETIFF, ifr))
		return ifr->ifr_name;
	if (vm->cfg.nics[i].kind == VM_NIC_TAP)
		return vm->cfg.nics[i].name;
	return NULL;
}

/* Sets (0, 0: removes) the rate limits of NIC @i; see netback/shaper.h. */
static int nic_set_limit(struct vm *vm, unsigned i, uint64_t rx, uint64_t tx, char *err,
			 size_t errlen)
{
	struct ifreq ifr = { 0 };
	const char *tap = nic_ifname(vm, i, &ifr);
	char e[400] = "", a[24], b[24];
	int r;

	if (!rx && !tx && !vm->shaped[i][0])
		return 0;
	if (!tap) {
		snprintf(err, errlen, "nic %u: no tap to limit", i);
		return -ENODEV;
	}
	r = shaper_set(tap, rx, tx, e, sizeof(e));
	if (r) {
		snprintf(err, errlen, "nic %u (%s): rate limit: %s", i, tap, e);
		return r;
	}
	snprintf(vm->shaped[i], IF_NAMESIZE, "%s", rx || tx ? tap : "");
	vm->cfg.nics[i].rate_rx = rx;
	vm->cfg.nics[i].rate_tx = tx;
	log_info("nic %u: %s: rx limit %s, tx limit %s", i, tap,
		 shaper_format_rate(rx, a, sizeof(a)), shaper_format_rate(tx, b, sizeof(b)));
	return 0;
}

/* API "set-nic-limit": {"nic": N, "rate": R} or "rx"/"tx" (rates as
 * shaper_parse_rate() reads them, "none" = no limit; a missing one: none). */
static int api_set_nic_limit(struct vm *vm, struct json_object *req, char *err, size_t errlen)
{
	struct json_object *j;
	uint64_t rate[2] = { 0, 0 };
	static const char *const keys[] = { "rx", "tx" };
	int nic;

	if (!json_object_object_get_ex(req, "nic", &j) || !json_object_is_type(j, json_type_int) ||
	    (nic = json_object_get_int(j)) < 0 || (unsigned)nic >= vm->cfg.nr_nics) {
		snprintf(err, errlen, "set-nic-limit: want \"nic\": an index below %u",
			 vm->cfg.nr_nics);
		return -EINVAL;
	}
	for (int k = 0; k < 2; k++) {
		if (!json_object_object_get_ex(req, keys[k], &j) &&
		    !json_object_object_get_ex(req, "rate", &j))
			continue;
		if (!json_object_is_type(j, json_type_string) ||
		    shaper_parse_rate(json_object_get_string(j), &rate[k])) {
			snprintf(err, errlen, "set-nic-limit: bad rate '%s' (like 10M, "
				 "bit/s, or none)", json_object_get_string(j));
			return -EINVAL;
		}
	}
	return nic_set_limit(vm, (unsigned)nic, rate[0], rate[1], err, errlen);
}

/* Opens through netback the taps of NICs that came without one. */
static int attach_nics(struct vm *vm)
{
	static const uint8_t zero[6];

	for (unsigned i = 0; i < vm->cfg.nr_nics; i++) {
		struct vm_nic *nic = &vm->cfg.nics[i];
		struct nb_nic_spec spec = {
			.kind = nic->kind == VM_NIC_TAP ? NB_NIC_TAP : NB_NIC_NET,
			.name = nic->name,
			.has_mac = memcmp(nic->mac, zero, 6) != 0,
		};
		char err[256] = "";
		int r;

		if (nic->tap_fd >= 0)
			continue;
		memcpy(spec.mac, nic->mac, 6);
		r = netback_nic_attach(NULL, &spec, vm->cfg.name, i, &vm->ports[i], err,
				       sizeof(err));
		if (r) {
			snprintf(vm->error, sizeof(vm->error), "nic %u (%s): %s", i, nic->name,
				 err[0] ? err : strerror(-r));
			return r;
		}
		nic->tap_fd = nb_port_fd(vm->ports[i]);
		memcpy(nic->mac, nb_port_mac(vm->ports[i]), 6);
		log_info("nic %u: %s, MAC %s", i, nb_port_ifname(vm->ports[i]),
			 nb_port_mac_str(vm->ports[i]));
	}
	for (unsigned i = 0; i < vm->cfg.nr_nics; i++) {
		int r = nic_set_limit(vm, i, vm->cfg.nics[i].rate_rx, vm->cfg.nics[i].rate_tx,
				      vm->error, sizeof(vm->error));
		if (r)
			return r;
	}
	return 0;
}

static void host_stop(struct vm *vm, int signo)
{
	if (vm->stop_requested)
		return;
	vm->stop_requested = true;
	vm->stop_signo = signo;
	if (vm->ops->stop(vm->engine))
		log_warn("could not ask the engine to stop");
}

static struct json_object *api_limits_json(const struct rl_limits *lim);

/* {"cmd":"disk-stats"}: each served disk's bdev counters. */
static void api_disk_stats(struct vm *vm, struct json_object *reply)
{
	static const char *const ops[BDEV_NOPS] = {
		[IOQ_READ] = "read", [IOQ_WRITE] = "write", [IOQ_FLUSH] = "flush",
		[IOQ_WRITE_ZEROES] = "write_zeroes", [IOQ_DISCARD] = "discard",
	};
	struct json_object *arr = json_object_new_array();

	for (unsigned i = 0; i < vm->cfg.nr_disks; i++) {
		struct json_object *o, *lat;
		struct bdev_stats st;

		if (!vm->ops->disk_stats || vm->ops->disk_stats(vm->engine, i, &st))
			continue;
		o = json_object_new_object();
		lat = json_object_new_array();
		json_object_object_add(o, "disk", json_object_new_int((int)i));
		for (unsigned k = 0; k < BDEV_NOPS; k++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_ops", ops[k]);
			json_object_object_add(o, key, json_object_new_int64((int64_t)st.ops[k]));
			snprintf(key, sizeof(key), "%s_bytes", ops[k]);
			json_object_object_add(o, key, json_object_new_int64((int64_t)st.bytes[k]));
		}
		json_object_object_add(o, "errors", json_object_new_int64((int64_t)st.errors));
		json_object_object_add(o, "inflight", json_object_new_int64((int64_t)st.inflight));
		for (unsigned k = 0; k < BDEV_LAT_BUCKETS; k++)
			json_object_array_add(lat, json_object_new_int64((int64_t)st.lat[k]));
		json_object_object_add(o, "latency_log2_us", lat);
		json_object_object_add(o, "limits", api_limits_json(&vm->cfg.disks[i].limits));
		json_object_array_add(arr, o);
	}
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "disks", arr);
}

static const struct {
	const char *key;
	size_t dir, field;  /* field: 0 bps, 1 iops, 2 bps_burst, 3 iops_burst */
} api_limit_keys[] = {
	{ "rbps", RL_READ, 0 }, { "riops", RL_READ, 1 },
	{ "wbps", RL_WRITE, 0 }, { "wiops", RL_WRITE, 1 },
	{ "rbps_burst", RL_READ, 2 }, { "riops_burst", RL_READ, 3 },
	{ "wbps_burst", RL_WRITE, 2 }, { "wiops_burst", RL_WRITE, 3 },
};

static uint64_t *api_limit_field(struct rl_limits *lim, unsigned i)
{
	struct rl_dir_limits *l = &lim->dir[api_limit_keys[i].dir];

	switch (api_limit_keys[i].field) {
	case 0: return &l->bps;
	case 1: return &l->iops;
	case 2: return &l->bps_burst;
	default: return &l->iops_burst;
	}
}

/* A disk's limits as {"rbps":..,...} (0 = unlimited / default burst). */
static struct json_object *api_limits_json(const struct rl_limits *lim)
{
	struct json_object *o = json_object_new_object();
	struct rl_limits l = *lim;

	for (unsigned i = 0; i < sizeof(api_limit_keys) / sizeof(api_limit_keys[0]); i++)
		json_object_object_add(o, api_limit_keys[i].key,
				       json_object_new_int64((int64_t)*api_limit_field(&l, i)));
	return o;
}

/* {"cmd":"set-disk-limit","disk":N,"rbps":..,"wiops":..,...}: keys not
 * given keep their value; 0 = unlimited (a burst: the default). */
static int api_set_disk_limit(struct vm *vm, struct json_object *req, char *err, size_t errlen)
{
	struct json_object *jd, *jv;
	struct rl_limits lim;
	bool any = false;
	int64_t d;
	int r;

	if (!json_object_object_get_ex(req, "disk", &jd) ||
	    !json_object_is_type(jd, json_type_int))
		return snprintf(err, errlen, "set-disk-limit needs \"disk\" (a number)"), -EINVAL;
	d = json_object_get_int64(jd);
	if (d < 0 || d >= (int64_t)vm->cfg.nr_disks)
		return snprintf(err, errlen, "the VM has no disk %lld", (long long)d), -ENOENT;
	lim = vm->cfg.disks[d].limits;
	for (unsigned i = 0; i < sizeof(api_limit_keys) / sizeof(api_limit_keys[0]); i++) {
		if (!json_object_object_get_ex(req, api_limit_keys[i].key, &jv))
			continue;
		if (!json_object_is_type(jv, json_type_int) || json_object_get_int64(jv) < 0)
			return snprintf(err, errlen, "\"%s\" must be a number >= 0",
					api_limit_keys[i].key), -EINVAL;
		*api_limit_field(&lim, i) = (uint64_t)json_object_get_int64(jv);
		any = true;
	}
	if (!any)
		return snprintf(err, errlen, "set-disk-limit needs one of rbps, wbps, riops, "
				"wiops (bytes or requests per second, 0 = unlimited) or their "
				"_burst"), -EINVAL;
	if (!vm->ops->disk_limit)
		return snprintf(err, errlen, "the %s engine cannot limit disks", vm->ops->name),
		       -EOPNOTSUPP;
	r = vm->ops->disk_limit(vm->engine, (unsigned)d, &lim);
	if (r == -EINVAL)
		return snprintf(err, errlen, "a burst needs its rate"), r;
	if (r)
		return snprintf(err, errlen, "disk %lld: %s", (long long)d, strerror(-r)), r;
	vm->cfg.disks[d].limits = lim;
	log_info("%s: disk %lld has new rate limits", vm->cfg.name, (long long)d);
	return 0;
}

static void api_status(struct vm *vm, struct json_object *reply)
{
	struct vm_status st;
	int r = vm->ops->status(vm->engine, &st);

	if (r) {
		json_object_object_add(reply, "ok", json_object_new_boolean(0));
		json_object_object_add(reply, "error", json_object_new_string(strerror(-r)));
		return;
	}
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "name", json_object_new_string(vm->cfg.name));
	json_object_object_add(reply, "state", json_object_new_string(st.state));
	json_object_object_add(reply, "running", json_object_new_boolean(st.running));
	json_object_object_add(reply, "engine", json_object_new_string(vm->ops->name));
	json_object_object_add(reply, "engine_pid", json_object_new_int(st.engine_pid));
	json_object_object_add(reply, "cpus", json_object_new_int((int)vm->cfg.cpus));
	json_object_object_add(reply, "memory", json_object_new_int64((int64_t)vm->cfg.mem));
	json_object_object_add(reply, "boot",
			       json_object_new_string(vm_boot_mode_name(vm->boot.mode)));
	json_object_object_add(reply, "accel",
			       json_object_new_string(vm->use_kvm ? "kvm" : "tcg"));
	if (st.console[0])
		json_object_object_add(reply, "console", json_object_new_string(st.console));
}

/* {"cmd":"switch-disk","disk":N,"file":PATH}: see vm_engine_ops.switch_disk */
static int api_switch_disk(struct vm *vm, struct json_object *req, char *err, size_t errlen)
{
	struct json_object *jd, *jf;
	const char *file;
	int64_t d;
	int r;

	if (!json_object_object_get_ex(req, "disk", &jd) ||
	    !json_object_is_type(jd, json_type_int) ||
	    !json_object_object_get_ex(req, "file", &jf) ||
	    !json_object_is_type(jf, json_type_string))
		return snprintf(err, errlen, "switch-disk needs \"disk\" (a number) and"
				" \"file\" (a path)"), -EINVAL;
	d = json_object_get_int64(jd);
	file = json_object_get_string(jf);
	if (d < 0 || d >= (int64_t)vm->cfg.nr_disks)
		return snprintf(err, errlen, "the VM has no disk %lld", (long long)d), -ENOENT;
	if (file[0] != '/' || strlen(file) >= sizeof(vm->cfg.disks[0].path))
		return snprintf(err, errlen, "\"file\" must be an absolute path"), -EINVAL;
	if (vm->cfg.disks[d].read_only || vm->cfg.disks[d].snapshot)
		return snprintf(err, errlen, "disk %lld is %s", (long long)d,
				vm->cfg.disks[d].read_only ? "read-only" : "in snapshot mode"),
		       -EINVAL;
	if (!vm->ops->switch_disk)
		return snprintf(err, errlen, "the %s engine cannot switch disks", vm->ops->name),
		       -EOPNOTSUPP;
	r = vm->ops->switch_disk(vm->engine, (unsigned)d, file, err, errlen);
	if (r)
		return r;
	strcpy(vm->cfg.disks[d].path, file);
	log_info("%s: disk %lld now writes to %s", vm->cfg.name, (long long)d, file);
	return 0;
}

/* {"cmd":"stats"}: what a metrics sampler cannot read from /proc and
 * /sys itself: the runtime's and the engine's pids, the guest's size, the
 * disks' I/O counters (null when the engine cannot count a disk) and the
 * NICs' tap names (null for a NIC without one). */
static void api_stats(struct vm *vm, struct json_object *reply)
{
	struct json_object *disks = json_object_new_array(), *nics = json_object_new_array();
	struct vm_status st;
	unsigned n = vm->cfg.nr_disks;
	int r = vm->ops->status(vm->engine, &st);

	if (r) {
		json_object_put(disks);
		json_object_put(nics);
		json_object_object_add(reply, "ok", json_object_new_boolean(0));
		json_object_object_add(reply, "error", json_object_new_string(strerror(-r)));
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct json_object *d = json_object_new_object();
		struct bdev_stats bs;
		bool valid = vm->ops->disk_stats && !vm->ops->disk_stats(vm->engine, i, &bs);

		json_object_object_add(d, "index", json_object_new_int((int)i));
		json_object_object_add(d, "transport", json_object_new_string(
			vm_disk_transport_name(vm->cfg.disk_transport)));
		json_object_object_add(d, "source", valid ? json_object_new_string("bdev") : NULL);
#define DSTAT(k, v) json_object_object_add(d, k, valid ? \
		json_object_new_int64((int64_t)(v)) : NULL)
		DSTAT("rd_ops", bs.ops[IOQ_READ]);
		DSTAT("rd_bytes", bs.bytes[IOQ_READ]);
		DSTAT("wr_ops", bs.ops[IOQ_WRITE]);
		DSTAT("wr_bytes", bs.bytes[IOQ_WRITE]);
		DSTAT("flush_ops", bs.ops[IOQ_FLUSH]);
#undef DSTAT
		json_object_array_add(disks, d);
	}
	for (unsigned i = 0; i < vm->cfg.nr_nics; i++) {
		struct json_object *o = json_object_new_object();
		struct ifreq ifr = { 0 };
		const char *tap = NULL;

		/* a tap our caller opened (vmrec_start) is known only by its fd */
		if (vm->ports[i])
			tap = nb_port_ifname(vm->ports[i]);
		else if (vm->cfg.nics[i].tap_fd >= 0 &&
			 !ioctl(vm->cfg.nics[i].tap_fd, TUNGETIFF, &ifr))
			tap = ifr.ifr_name;
		else if (vm->cfg.nics[i].kind == VM_NIC_TAP)
			tap = vm->cfg.nics[i].name;

		json_object_object_add(o, "index", json_object_new_int((int)i));
		json_object_object_add(o, "tap", tap ? json_object_new_string(tap) : NULL);
		json_object_array_add(nics, o);
	}
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(reply, "engine_pid", json_object_new_int(st.engine_pid));
	json_object_object_add(reply, "cpus", json_object_new_int((int)vm->cfg.cpus));
	json_object_object_add(reply, "memory", json_object_new_int64((int64_t)vm->cfg.mem));
	json_object_object_add(reply, "disks", disks);
	json_object_object_add(reply, "nics", nics);
}

static void api_handler(struct json_object *req, struct json_object *reply, void *opaque)
{
	char err[512] = "";
	struct vm *vm = opaque;
	struct json_object *jcmd;
	const char *cmd;
	int r;

	if (!json_object_object_get_ex(req, "cmd", &jcmd) ||
	    !json_object_is_type(jcmd, json_type_string)) {
		json_object_object_add(reply, "ok", json_object_new_boolean(0));
		json_object_object_add(reply, "error", json_object_new_string("no \"cmd\""));
		return;
	}
	cmd = json_object_get_string(jcmd);
	if (!strcmp(cmd, "status")) {
		api_status(vm, reply);
		return;
	}
	if (!strcmp(cmd, "stats")) {
		api_stats(vm, reply);
		return;
	}
	if (!strcmp(cmd, "pause"))
		r = vm->ops->pause(vm->engine);
	else if (!strcmp(cmd, "resume"))
		r = vm->ops->resume(vm->engine);
	else if (!strcmp(cmd, "powerdown"))
		r = vm->ops->powerdown(vm->engine);
	else if (!strcmp(cmd, "stop")) {
		host_stop(vm, 0);
		r = 0;
	} else if (!strcmp(cmd, "switch-disk")) {
		r = api_switch_disk(vm, req, err, sizeof(err));
	} else if (!strcmp(cmd, "set-disk-limit")) {
		r = api_set_disk_limit(vm, req, err, sizeof(err));
	} else if (!strcmp(cmd, "disk-stats")) {
		api_disk_stats(vm, reply);
		return;
	} else if (!strcmp(cmd, "set-nic-limit")) {
		r = api_set_nic_limit(vm, req, err, sizeof(err));
	} else {
		json_object_object_add(reply, "ok", json_object_new_boolean(0));
		json_object_object_add(reply, "error", json_object_new_string(
			"unknown cmd (status, stats, pause, resume, powerdown, stop, switch-disk, "
			"disk-stats, set-disk-limit, set-nic-limit)"));
		return;
	}
	json_object_object_add(reply, "ok", json_object_new_boolean(r == 0));
	if (r)
		json_object_object_add(reply, "error",
				       json_object_new_string(err[0] ? err : strerror(-r)));
}

static void on_event(struct vm *vm, const struct vm_event *ev, struct vm_result *res)
{
	switch (ev->type) {
	case VM_EV_STOPPED:
		log_info("%s: paused", vm->cfg.name);
		break;
	case VM_EV_RESUMED:
		log_info("%s: running", vm->cfg.name);
		break;
	case VM_EV_RESET:
		log_info("%s: the guest rebooted", vm->cfg.name);
		break;
	case VM_EV_PANICKED:
		log_info("%s: the guest panicked", vm->cfg.name);
		break;
	case VM_EV_EXIT:
		res->reason = ev->exit;
		res->signo = ev->exit == VM_EXIT_HOST ? vm->stop_signo : 0;
		snprintf(res->detail, sizeof(res->detail), "%s", ev->detail);
		vm->phase = VM_DONE;
		break;
	default:
		break;
	}
}

static int run_loop(struct vm *vm, int sigfd, struct vm_result *res)
{
	struct pollfd p[3];
	struct vm_event ev;
	int n, r;

	while (vm->phase != VM_DONE) {
		/* Drain what the engine already has before sleeping. */
		while ((r = vm->ops->wait(vm->engine, 0, &ev)) > 0) {
			on_event(vm, &ev, res);
			if (vm->phase == VM_DONE)
				return 0;
		}
		if (r < 0)
			return r;
		n = 0;
		p[n++] = (struct pollfd){ .fd = vm->ops->poll_fd(vm->engine), .events = POLLIN };
		if (sigfd >= 0)
			p[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		if (vm->api)
			p[n++] = (struct pollfd){ .fd = vm_api_fd(vm->api), .events = POLLIN };
		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			return -errno;
		for (int i = 1; i < n; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			if (p[i].fd == sigfd) {
				struct signalfd_siginfo si;

				if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
					log_info("%s: signal %u, stopping the guest", vm->cfg.name,
						 si.ssi_signo);
					host_stop(vm, (int)si.ssi_signo);
				}
			} else {
				vm_api_serve(vm->api);
			}
		}
	}
	return 0;
}

int vm_run(struct vm *vm, const struct vm_run_opts *opts, struct vm_result *res)
{
	static const int handled[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old_act[3];
	sigset_t set, old;
	int sigfd = -1, r;

	memset(res, 0, sizeof(*res));
	if (vm->phase != VM_CREATED) {
		snprintf(vm->error, sizeof(vm->error), "vm_run called twice");
		return -EBUSY;
	}
	vm->phase = VM_RUNNING;
	if (opts && opts->handle_signals) {
		sigemptyset(&set);
		for (int i = 0; i < 3; i++)
			sigaddset(&set, handled[i]);
		sigprocmask(SIG_BLOCK, &set, &old);
		/* An ignored signal never reaches a signalfd; a background job
		 * inherits SIGINT ignored, and must still stop cleanly on it. */
		for (int i = 0; i < 3; i++)
			sigaction(handled[i], &dfl, &old_act[i]);
		sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
		if (sigfd < 0) {
			r = -errno;
			snprintf(vm->error, sizeof(vm->error), "signalfd: %s", strerror(-r));
			goto out;
		}
	}
	if (vm->cfg.api_path[0]) {
		r = vm_api_create(vm->cfg.api_path, api_handler, vm, &vm->api);
		if (r) {
			snprintf(vm->error, sizeof(vm->error), "API socket %.300s: %s",
				 vm->cfg.api_path, usock_listen_strerror(r));
			goto out;
		}
	}
	r = attach_nics(vm);
	if (r)
		goto out;
	r = vm->ops->start(vm->engine);
	if (r) {
		snprintf(vm->error, sizeof(vm->error), "the VM did not start: %s", strerror(-r));
		goto out;
	}
	if (opts && opts->started) {
		struct vm_status st;

		if (!vm->ops->status(vm->engine, &st))
			opts->started(vm, &st, opts->opaque);
	}
	r = run_loop(vm, sigfd, res);
	if (r)
		snprintf(vm->error, sizeof(vm->error), "VM loop: %s", strerror(-r));
out:
	vm->phase = VM_DONE;
	vm_api_destroy(vm->api);
	vm->api = NULL;
	if (sigfd >= 0) {
		struct signalfd_siginfo si;

		/* Consume late signals so restoring the mask does not kill us
		 * before vm_destroy() cleaned up. */
		while (read(sigfd, &si, sizeof(si)) == sizeof(si))
			;
		close(sigfd);
	}
	if (opts && opts->handle_signals) {
		for (int i = 0; i < 3; i++)
			sigaction(handled[i], &old_act[i], NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	return r;
}
