/* tools/vhdvisor/cmd_vm_disk.c: `vhdvisor vm disk`: a VM's data disks.
 *
 *   vhdvisor vm disk add NAME SIZE | vhdvisor vm disk add NAME --file VHD
 *   vhdvisor vm disk resize NAME DISK SIZE
 *   vhdvisor vm disk rm NAME DISK
 *
 * (`vm disk list` goes through the API: vmapi_disk_list() in cmd_vm_write.c.)
 *
 * Disk 0 is the boot disk (the VM's layer chain); the others are the data
 * disks the guest sees after it (vdb, vdc, ...).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>


#include "common/log.h"
#include "common/util.h"
#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrec.h"
#include "tools/common/cli.h"
#include "tools/vhdvisor/cmds.h"

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

int cmd_vm_disk(struct cat *c, int argc, char **argv, const char *file)
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
	} else {
		return CLI_USAGE;
	}
	if (r) {
		log_err("%s", img_last_error());
		return CLI_FAIL;
	}
	return CLI_OK;
}
