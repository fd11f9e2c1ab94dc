/* tools/vhdvisor/cmd_vm_disk.c: `vhdvisor vm disk`: a VM's data disks.
 *
 *   vhdvisor vm disk add NAME SIZE | vhdvisor vm disk add NAME --file VHD
 *   vhdvisor vm disk resize NAME DISK SIZE
 *   vhdvisor vm disk rm NAME DISK
 *   vhdvisor vm disk list NAME [--json]
 *
 * Disk 0 is the boot disk (the VM's layer chain); the others are the data
 * disks the guest sees after it (vdb, vdc, ...).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/log.h"
#include "common/util.h"
#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrec.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"
#include "vhd/vhd.h"

static int disk_index(const char *s, unsigned *idx)
{
	uint64_t v;

	if (u64_parse(s, &v) || v > VMREC_MAX_DISKS) {
		log_err("bad disk number '%s' (0-%d)", s, VMREC_MAX_DISKS);
		return CLI_USAGE;
	}
	*idx = (unsigned)v;
	return 0;
}

static int disk_size(const char *s, uint64_t *size)
{
	if (size_parse(s, size) || *size == 0) {
		log_err("bad size '%s'", s);
		return CLI_USAGE;
	}
	if (!strpbrk(s, "KkMmGgTt"))
		*size <<= 20;	/* a plain number means MiB, as --mem */
	return 0;
}

/* Adds disk @idx of VM @name to the JSON array @arr or prints its line. */
static int list_one(struct cat *c, const char *name, unsigned idx, json_object *arr)
{
	struct vhd_open_opts oo = { 0 };
	char path[4300];
	json_object *j;
	struct vhd *v;
	uint64_t size;
	int r;

	r = vmrec_disk_file(c, name, idx, path, sizeof(path));
	if (r)
		return r;
	r = vhd_open(path, &oo, &v);
	if (r)
		return img_fail(r, "%s: %s", path, vhd_last_error());
	size = vhd_size(v);
	vhd_close(v);
	if (!arr) {
		printf("%u\t%llu\t%s\n", idx, (unsigned long long)size, path);
		return 0;
	}
	j = json_object_new_object();
	json_object_object_add(j, "disk", json_object_new_int((int)idx));
	json_object_object_add(j, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(j, "file", json_object_new_string(path));
	json_object_object_add(j, "boot", json_object_new_boolean(idx == 0));
	json_object_array_add(arr, j);
	return 0;
}

struct list_ctx {
	struct cat *c;
	json_object *arr;
};

static int list_extra(void *opaque, const struct cat_disk *d)
{
	struct list_ctx *lc = opaque;

	return list_one(lc->c, d->vm, d->idx, lc->arr);
}

static int do_list(struct cat *c, const char *name, bool json)
{
	struct list_ctx lc = { .c = c, .arr = json ? json_object_new_array() : NULL };
	int r;

	if (!json)
		printf("DISK\tSIZE\tFILE\n");
	r = list_one(c, name, 0, lc.arr);
	if (!r)
		r = cat_disk_foreach(c, name, list_extra, &lc);
	if (!r && json)
		printf("%s\n", json_object_to_json_string_ext(lc.arr, JSON_C_TO_STRING_PRETTY));
	json_object_put(lc.arr);
	return r;
}

int cmd_vm_disk(struct cat *c, int argc, char **argv, const char *file, bool json)
{
	const char *act = argc > 0 ? argv[0] : "";
	uint64_t size = 0;	/* with --file the copy keeps its own size */
	unsigned idx;
	int r;

	if (!strcmp(act, "add") && argc == (file ? 2 : 3)) {
		if (!file && disk_size(argv[2], &size))
			return CLI_USAGE;
		r = vmrec_disk_add(c, argv[1], size, file, &idx);
		if (!r)
			printf("disk %u of %s\n", idx, argv[1]);
	} else if (!strcmp(act, "resize") && argc == 4) {
		if (disk_index(argv[2], &idx) || disk_size(argv[3], &size))
			return CLI_USAGE;
		r = vmrec_disk_resize(c, argv[1], idx, size);
	} else if (!strcmp(act, "rm") && argc == 3) {
		if (disk_index(argv[2], &idx))
			return CLI_USAGE;
		r = vmrec_disk_rm(c, argv[1], idx);
	} else if ((!strcmp(act, "list") || !strcmp(act, "ls")) && argc == 2) {
		r = do_list(c, argv[1], json);
	} else {
		return CLI_USAGE;
	}
	if (r) {
		log_err("%s", img_last_error());
		return CLI_FAIL;
	}
	return CLI_OK;
}
