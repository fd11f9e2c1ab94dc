/* appliance/install_hw.c: the installer's hardware report: CPU and
 * hardware virtualization, memory, every disk and what is on it (probed
 * with libblkid), every NIC with its MAC and link state. Read only. */
#include "appliance/install.h"

#include <blkid/blkid.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first line of @dir/@name, trailing space removed ("" when none). */
static void read_line(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	out[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	fclose(f);
	for (size_t n = strlen(out); n && isspace((unsigned char)out[n - 1]); n--)
		out[n - 1] = '\0';
}

static long long read_num(const char *dir, const char *name, long long dflt)
{
	char buf[64], *end;
	long long v;

	read_line(dir, name, buf, sizeof(buf));
	if (!buf[0])
		return dflt;
	v = strtoll(buf, &end, 10);
	return *end ? dflt : v;
}

static json_object *cpu_report(const char *proc, const char *dev)
{
	json_object *o = json_object_new_object();
	char path[PATH_MAX], line[4096], model[256] = "";
	bool vmx = false, svm = false;
	int count = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpuinfo", proc);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		if (!strncmp(line, "processor", 9))
			count++;
		else if (!strncmp(line, "model name", 10) && !model[0])
			snprintf(model, sizeof(model), "%s", colon + 2);
		else if (!strncmp(line, "flags", 5)) {
			vmx |= strstr(colon, " vmx") != NULL;
			svm |= strstr(colon, " svm") != NULL;
		}
	}
	if (f)
		fclose(f);
	model[strcspn(model, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s/kvm", dev);
	json_object_object_add(o, "model", json_object_new_string(model));
	json_object_object_add(o, "count", json_object_new_int(count));
	json_object_object_add(o, "virt", json_object_new_string(vmx ? "vmx" : svm ? "svm" : ""));
	json_object_object_add(o, "kvm", json_object_new_boolean(access(path, F_OK) == 0));
	return o;
}

static json_object *mem_report(const char *proc)
{
	json_object *o = json_object_new_object();
	char path[PATH_MAX], line[256];
	unsigned long long kib = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/meminfo", proc);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	json_object_object_add(o, "total", json_object_new_int64((int64_t)(kib * 1024)));
	return o;
}

/* Adds what libblkid finds on @path to @contents: "gpt"/"dos" for a
 * partition table, else the superblock type ("ext4", "LVM2_member",
 * "linux_raid_member", ...). Returns the table type in @ptable. */
static int probe_one(const char *path, char *ptable, size_t ptlen, json_object *contents)
{
	const char *v = NULL;
	blkid_probe pr;
	int r;

	if (ptable)
		ptable[0] = '\0';
	pr = blkid_new_probe_from_filename(path);
	if (!pr)
		return errno ? -errno : -EIO;
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	r = blkid_do_safeprobe(pr);
	if (r == 0) {
		if (!blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL) && v) {
			if (ptable)
				snprintf(ptable, ptlen, "%s", v);
			json_object_array_add(contents, json_object_new_string(v));
		}
		if (!blkid_probe_lookup_value(pr, "TYPE", &v, NULL) && v)
			json_object_array_add(contents, json_object_new_string(v));
	} else if (r == -2) {
		/* Ambivalent: several signatures at once (a wiped-over disk). */
		json_object_array_add(contents, json_object_new_string("ambivalent"));
	}
	blkid_free_probe(pr);
	return r < 0 && r != -2 && r != 1 ? -EIO : 0;
}

int inst_probe_disk(const char *path, char *ptable, size_t ptlen, json_object *contents)
{
	return probe_one(path, ptable, ptlen, contents);
}

/* Partitions of disk @name: the sysfs subfolders with a "partition" file.
 * Each one's contents are probed from @dev/PART. */
static void partitions(const char *sysdir, const char *dev, const char *name, json_object *contents)
{
	DIR *d = opendir(sysdir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char sub[PATH_MAX], path[PATH_MAX];
		json_object *in;

		if (strncmp(e->d_name, name, strlen(name)))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", sysdir, e->d_name) >= sizeof(sub))
			continue;
		if (read_num(sub, "partition", -1) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dev, e->d_name);
		in = json_object_new_array();
		probe_one(path, NULL, 0, in);
		for (size_t i = 0; i < json_object_array_length(in); i++) {
			char what[320];

			snprintf(what, sizeof(what), "%s:%s", e->d_name,
				 json_object_get_string(json_object_array_get_idx(in, i)));
			json_object_array_add(contents, json_object_new_string(what));
		}
		json_object_put(in);
	}
	closedir(d);
}

/* The mount points of @path and of its partitions (PATHn, PATHpn), from
 * @proc/self/mounts, into @out. */
static void mounted(const char *proc, const char *path, json_object *out)
{
	char file[PATH_MAX], line[PATH_MAX * 2 + 64], src[PATH_MAX], dst[PATH_MAX];
	size_t n = strlen(path);
	FILE *f;

	snprintf(file, sizeof(file), "%s/self/mounts", proc);
	f = fopen(file, "re");
	while (f && fgets(line, sizeof(line), f)) {
		const char *rest;

		if (sscanf(line, "%4095s %4095s", src, dst) != 2 || strncmp(src, path, n))
			continue;
		rest = src + n;
		if (*rest == 'p')
			rest++;
		if (*rest && strspn(rest, "0123456789") != strlen(rest))
			continue;
		json_object_array_add(out, json_object_new_string(dst));
	}
	if (f)
		fclose(f);
}

/* Devices that are not disks to install on. */
static bool skip_disk(const char *name, long long sectors)
{
	static const char *const prefixes[] = { "ram", "zram", "dm-", "md", "sr", "fd", "nbd" };

	if (sectors <= 0)
		return true;    /* an unused loop device, an empty drive */
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static json_object *disk_report(const char *sysfs, const char *dev, const char *proc,
				 const char *name)
{
	json_object *o, *contents, *mounts;
	int r;
	char dir[PATH_MAX], devdir[PATH_MAX + 8], path[PATH_MAX], model[128], ptable[32];
	long long sectors;

	snprintf(dir, sizeof(dir), "%s/block/%s", sysfs, name);
	sectors = read_num(dir, "size", 0);
	if (skip_disk(name, sectors))
		return NULL;
	snprintf(devdir, sizeof(devdir), "%s/device", dir);
	read_line(devdir, "model", model, sizeof(model));
	if (!model[0])
		read_line(dir, "loop/backing_file", model, sizeof(model));
	snprintf(path, sizeof(path), "%s/%s", dev, name);
	contents = json_object_new_array();
	mounts = json_object_new_array();
	r = probe_one(path, ptable, sizeof(ptable), contents);
	partitions(dir, dev, name, contents);
	mounted(proc, path, mounts);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "size", json_object_new_int64(sectors * 512));
	json_object_object_add(o, "model", json_object_new_string(model));
	json_object_object_add(o, "removable",
			       json_object_new_boolean(read_num(dir, "removable", 0) == 1));
	json_object_object_add(o, "rotational",
			       json_object_new_boolean(read_num(dir, "queue/rotational", 0) == 1));
	json_object_object_add(o, "ptable", json_object_new_string(ptable));
	/* What cannot be read or is in use counts as holding data. */
	json_object_object_add(o, "holds_data",
			       json_object_new_boolean(json_object_array_length(contents) > 0 ||
						       json_object_array_length(mounts) > 0 || r));
	json_object_object_add(o, "contents", contents);
	json_object_object_add(o, "mounted", mounts);
	json_object_object_add(o, "probe_error", r ? json_object_new_string(strerror(-r)) : NULL);
	return o;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entry names of @dir, sorted, without "." and ".."; count in *@n. */
static char **list_dir(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		v[*n] = strdup(e->d_name);
		if (v[*n])
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), by_name);
	return v;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static json_object *nic_report(const char *sysfs, const char *name)
{
	json_object *o;
	char dir[PATH_MAX], dev[PATH_MAX + 8], mac[64], state[32];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/class/net/%s", sysfs, name);
	if (!strcmp(name, "lo"))
		return NULL;
	read_line(dir, "address", mac, sizeof(mac));
	read_line(dir, "operstate", state, sizeof(state));
	snprintf(dev, sizeof(dev), "%s/device", dir);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "state", json_object_new_string(state));
	/* carrier reads as an error while the interface is down. */
	json_object_object_add(o, "carrier",
			       json_object_new_boolean(read_num(dir, "carrier", 0) == 1));
	json_object_object_add(o, "physical", json_object_new_boolean(stat(dev, &st) == 0));
	return o;
}

int inst_hw_report(const char *sysfs, const char *dev, const char *proc, bool loops,
		   json_object **out)
{
	json_object *o, *disks, *nics;
	char dir[PATH_MAX];
	char **names;
	size_t n;

	sysfs = sysfs ? sysfs : "/sys";
	dev = dev ? dev : "/dev";
	proc = proc ? proc : "/proc";
	o = json_object_new_object();
	json_object_object_add(o, "cpu", cpu_report(proc, dev));
	json_object_object_add(o, "memory", mem_report(proc));

	disks = json_object_new_array();
	snprintf(dir, sizeof(dir), "%s/block", sysfs);
	names = list_dir(dir, &n);
	for (size_t i = 0; i < n; i++) {
		json_object *d;

		if (!loops && !strncmp(names[i], "loop", 4))
			continue;
		d = disk_report(sysfs, dev, proc, names[i]);

		if (d)
			json_object_array_add(disks, d);
	}
	free_list(names, n);
	json_object_object_add(o, "disks", disks);

	nics = json_object_new_array();
	snprintf(dir, sizeof(dir), "%s/class/net", sysfs);
	names = list_dir(dir, &n);
	for (size_t i = 0; i < n; i++) {
		json_object *d = nic_report(sysfs, names[i]);

		if (d)
			json_object_array_add(nics, d);
	}
	free_list(names, n);
	json_object_object_add(o, "nics", nics);
	*out = o;
	return 0;
}
