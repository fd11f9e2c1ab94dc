/* appliance/install_plan.c: how the installer lays out the target disk.
 *
 * GPT, every partition 1 MiB aligned, the last MiB left for the backup
 * header: a BIOS boot partition (GRUB's core image on BIOS), the ESP
 * (GRUB for UEFI), /boot (ext4, so GRUB never has to read LVM thin
 * volumes), and the rest one LVM physical volume. Its volume group holds
 * the root LV and a thin pool whose thin LV is /var/lib/vhdvisor: the
 * catalog grows into the pool and can be snapshotted.
 */
#include "appliance/install.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define BIOS_GRUB_SIZE   (1 * INST_MiB)
#define ESP_SIZE         (256 * INST_MiB)
#define BOOT_SIZE        (768 * INST_MiB)
#define PV_META          (1 * INST_MiB)        /* LVM's default data offset */
#define EXTENT           (4 * INST_MiB)
#define ROOT_MIN         (4 * INST_GiB)
#define ROOT_MAX         (16 * INST_GiB)
#define POOL_MIN         (2 * INST_GiB)
#define META_MIN         (8 * INST_MiB)
#define META_MAX         (16 * INST_GiB)       /* LVM's limit for thin metadata */

static uint64_t down(uint64_t v, uint64_t a)
{
	return v / a * a;
}

static uint64_t up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void add_part(struct inst_plan *p, const char *name, const char *type, uint64_t start,
		     uint64_t size, const char *fs, const char *mount)
{
	p->parts[p->nparts++] = (struct inst_part){ name, type, start, size, fs, mount };
}

int inst_plan_make(uint64_t size, unsigned sector_size, struct inst_plan *p, char *why,
		   size_t whylen)
{
	uint64_t at = INST_MiB, end, lvm, rest, meta, pool;

	memset(p, 0, sizeof(*p));
	why[0] = '\0';
	if (sector_size != 512 && sector_size != 4096) {
		snprintf(why, whylen, "sector size %u: only 512 and 4096 are supported", sector_size);
		return -EINVAL;
	}
	if (size < INST_MIN_DISK) {
		snprintf(why, whylen, "the disk has %llu MiB; vhdvisor needs at least %llu GiB "
			 "(boot partitions, a %llu GiB root and a %llu GiB storage pool)",
			 (unsigned long long)(size / INST_MiB),
			 (unsigned long long)(INST_MIN_DISK / INST_GiB),
			 (unsigned long long)(ROOT_MIN / INST_GiB),
			 (unsigned long long)(POOL_MIN / INST_GiB));
		return -ENOSPC;
	}
	p->disk_size = size;
	add_part(p, "bios_grub", "BIOS boot", at, BIOS_GRUB_SIZE, "", "");
	at += BIOS_GRUB_SIZE;
	add_part(p, "esp", "EFI System", at, ESP_SIZE, "vfat", "/boot/efi");
	at += ESP_SIZE;
	add_part(p, "boot", "Linux filesystem", at, BOOT_SIZE, "ext4", "/boot");
	at += BOOT_SIZE;
	/* The backup GPT (33 sectors of 512, or 5 of 4096) fits in the last MiB. */
	end = down(size, INST_MiB) - INST_MiB;
	lvm = end - at;
	add_part(p, "lvm", "Linux LVM", at, lvm, "LVM2_member", "");

	p->vg = "vhdvisor";
	p->extent = EXTENT;
	p->vg_size = down(lvm - PV_META, EXTENT);
	p->lvs[p->nlvs++] = (struct inst_lv){ "root",
		clamp(down(p->vg_size / 8, EXTENT), ROOT_MIN, ROOT_MAX), "linear", "/" };
	rest = p->vg_size - p->lvs[0].size;
	/* Thin metadata: about 0.1% of the pool, and LVM keeps a spare copy
	 * of the same size (pmspare) for repairs. */
	meta = clamp(up(rest / 1000, EXTENT), META_MIN, META_MAX);
	if (rest < 2 * meta + POOL_MIN) {
		snprintf(why, whylen, "the disk has %llu MiB: too small for a %llu GiB storage "
			 "pool beside the root volume", (unsigned long long)(size / INST_MiB),
			 (unsigned long long)(POOL_MIN / INST_GiB));
		return -ENOSPC;
	}
	pool = rest - 2 * meta;
	p->pool_meta = meta;
	p->lvs[p->nlvs++] = (struct inst_lv){ "pool", pool, "thin-pool", "" };
	p->lvs[p->nlvs++] = (struct inst_lv){ "state", pool, "thin", "/var/lib/vhdvisor" };
	return 0;
}

json_object *inst_plan_json(const struct inst_plan *p)
{
	json_object *o = json_object_new_object(), *parts = json_object_new_array();
	json_object *lvs = json_object_new_array(), *vg = json_object_new_object();

	json_object_object_add(o, "disk_size", json_object_new_int64((int64_t)p->disk_size));
	json_object_object_add(o, "table", json_object_new_string("gpt"));
	for (unsigned i = 0; i < p->nparts; i++) {
		const struct inst_part *pt = &p->parts[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(pt->name));
		json_object_object_add(j, "type", json_object_new_string(pt->type));
		json_object_object_add(j, "start", json_object_new_int64((int64_t)pt->start));
		json_object_object_add(j, "size", json_object_new_int64((int64_t)pt->size));
		json_object_object_add(j, "fs", json_object_new_string(pt->fs));
		json_object_object_add(j, "mount", json_object_new_string(pt->mount));
		json_object_array_add(parts, j);
	}
	json_object_object_add(o, "partitions", parts);
	json_object_object_add(vg, "name", json_object_new_string(p->vg));
	json_object_object_add(vg, "extent", json_object_new_int64((int64_t)p->extent));
	json_object_object_add(vg, "size", json_object_new_int64((int64_t)p->vg_size));
	json_object_object_add(vg, "pool_metadata", json_object_new_int64((int64_t)p->pool_meta));
	for (unsigned i = 0; i < p->nlvs; i++) {
		const struct inst_lv *lv = &p->lvs[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(lv->name));
		json_object_object_add(j, "kind", json_object_new_string(lv->kind));
		json_object_object_add(j, "size", json_object_new_int64((int64_t)lv->size));
		json_object_object_add(j, "mount", json_object_new_string(lv->mount));
		json_object_array_add(lvs, j);
	}
	json_object_object_add(vg, "volumes", lvs);
	json_object_object_add(o, "volume_group", vg);
	return o;
}
