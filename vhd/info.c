/* vhd/info.c: metadata queries on an open image. */
#include <stdio.h>
#include <string.h>

#include "vhd/vhd_int.h"

/* Four bytes of a creator field as a printable string. */
static void fourcc(const uint8_t in[4], char out[5])
{
	for (int i = 0; i < 4; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? (char)in[i] : ' ';
	out[4] = 0;
}

int vhd_get_info(struct vhd *v, struct vhd_info *out)
{
	const struct vhd_footer *f = &v->footer;

	memset(out, 0, sizeof(*out));
	out->type = (enum vhd_type)f->type;
	out->size = v->size;
	out->current_size = f->current_size;
	out->original_size = f->original_size;
	pthread_mutex_lock(&v->alloc_lock);
	out->file_size = v->file_end;
	pthread_mutex_unlock(&v->alloc_lock);
	out->block_size = v->block_size;
	out->max_bat_entries = v->bat_entries;
	for (uint32_t i = 0; i < v->bat_entries; i++)
		if (vhd_bat_get(v, i) != VHD_BAT_UNUSED)
			out->allocated_blocks++;
	out->cylinders = f->cylinders;
	out->heads = f->heads;
	out->sectors_per_track = f->sectors_per_track;
	fourcc(f->creator_app, out->creator_app);
	out->creator_version = f->creator_version;
	fourcc(f->creator_os, out->creator_os);
	memcpy(out->uuid, f->uuid, 16);
	out->timestamp = f->timestamp;
	out->saved_state = f->saved_state;
	out->read_only = v->read_only;
	out->footer_damaged = v->footer_damaged;
	out->footer_copy_damaged = v->footer_copy_damaged;
	out->depth = v->depth;
	if (f->type == VHD_TYPE_DIFF) {
		memcpy(out->parent_uuid, v->header.parent_uuid, 16);
		out->parent_timestamp = v->header.parent_timestamp;
		if (vhd_utf16_to_utf8(v->header.parent_name, VHD_PARENT_NAME_SIZE, true,
				      out->parent_name, sizeof(out->parent_name)))
			out->parent_name[0] = 0;
		if (v->parent_path)
			snprintf(out->parent_path, sizeof(out->parent_path), "%s", v->parent_path);
		out->parent_uuid_match = v->parent_uuid_match;
	}
	return 0;
}

struct vhd_backing *vhd_parent(struct vhd *v)
{
	return v->parent;
}

const char *vhd_path(struct vhd *v)
{
	return v->path;
}

uint64_t vhd_size(struct vhd *v)
{
	return v->size;
}
