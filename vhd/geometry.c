/* vhd/geometry.c: CHS geometry and which size field to trust. */
#include <string.h>

#include "vhd/vhd_int.h"

void vhd_geometry(uint64_t size, uint16_t *cyl, uint8_t *heads, uint8_t *spt)
{
	uint64_t total = size / VHD_SECTOR_SIZE;
	uint64_t cth; /* cylinders times heads */
	uint64_t h, s;

	if (total > VHD_MAX_CHS_SECTORS)
		total = VHD_MAX_CHS_SECTORS;
	if (total >= 65535ull * 16 * 63) {
		s = 255;
		h = 16;
		cth = total / s;
	} else {
		s = 17;
		cth = total / s;
		h = (cth + 1023) / 1024;
		if (h < 4)
			h = 4;
		if (cth >= h * 1024 || h > 16) {
			s = 31;
			h = 16;
			cth = total / s;
		}
		if (cth >= h * 1024) {
			s = 63;
			h = 16;
			cth = total / s;
		}
	}
	*cyl = (uint16_t)(cth / h);
	*heads = (uint8_t)h;
	*spt = (uint8_t)s;
}

/*
 * Which size field a creator means. Virtual PC (and QEMU before it wrote
 * 'qem2') size a disk by its CHS geometry; Hyper-V, Disk2vhd, XenServer
 * and XenConverter by current_size. A maxed geometry (65535/16/255) always
 * means current_size, since the CHS product would truncate the disk.
 * Creators not listed use current_size. (QEMU uses the CHS product for
 * those, which is why we write 'win ' ourselves: see VHD_CREATOR_APP.)
 */
static const struct {
	uint8_t app[4];
	bool chs;
} vhd_creators[] = {
	{ { 'v', 'p', 'c', ' ' }, true },   /* Virtual PC */
	{ { 'q', 'e', 'm', 'u' }, true },   /* QEMU, CHS-rounded sizes */
	{ { 'q', 'e', 'm', '2' }, false },  /* QEMU with force_size */
	{ { 'w', 'i', 'n', ' ' }, false },  /* Hyper-V */
	{ { 'd', '2', 'v', ' ' }, false },  /* Disk2vhd */
	{ { 't', 'a', 'p', 0 }, false },    /* XenServer blktap */
	{ { 'C', 'T', 'X', 'S' }, false },  /* XenConverter */
};

bool vhd_size_uses_chs(const struct vhd_footer *f)
{
	if (f->cylinders == 65535 && f->heads == 16 && f->sectors_per_track == 255)
		return false;
	for (size_t i = 0; i < sizeof(vhd_creators) / sizeof(vhd_creators[0]); i++)
		if (!memcmp(f->creator_app, vhd_creators[i].app, 4))
			return vhd_creators[i].chs;
	return false;
}

uint64_t vhd_footer_size(const struct vhd_footer *f)
{
	if (vhd_size_uses_chs(f))
		return (uint64_t)f->cylinders * f->heads * f->sectors_per_track *
		       VHD_SECTOR_SIZE;
	return f->current_size;
}
