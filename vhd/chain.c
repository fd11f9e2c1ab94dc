/* vhd/chain.c: finding and opening the parent of a differencing disk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhd/vhd_int.h"

#define VHD_MAX_LOCATOR_LEN 65536u  /* bytes of path data we accept */

/* The directory part of @path ("." when it has none), into @out. */
static void dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/* Joins a decoded locator path to the child's directory unless absolute. */
static int join(const char *dir, const char *p, char *out, size_t cap)
{
	int n;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (p[0] == '/')
		n = snprintf(out, cap, "%s", p);
	else
		n = snprintf(out, cap, "%s/%s", dir, p);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Reads and decodes locator @l of @v into a path; -errno when unusable. */
static int locator_path(struct vhd *v, const struct vhd_locator *l, char *out, size_t cap)
{
	uint8_t *data;
	int ret;

	if (!l->data_len || l->data_len > VHD_MAX_LOCATOR_LEN ||
	    l->data_len > vhd_locator_space(l) ||
	    l->data_offset + l->data_len > v->file_end)
		return -EINVAL;
	data = malloc(l->data_len);
	if (!data)
		return -ENOMEM;
	ret = vhd_pread_full(v->fd, data, l->data_len, l->data_offset);
	if (!ret)
		ret = vhd_locator_decode(l->code, data, l->data_len, out, cap);
	free(data);
	return ret;
}

static void tried_add(char *tried, size_t cap, const char *p)
{
	size_t n = strlen(tried);

	snprintf(tried + n, cap - n, "%s'%s'", n ? ", " : "", p);
}

int vhd_parent_find(struct vhd *v, char *out, size_t cap)
{
	static const uint32_t order[] = { VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_MACX };
	char dir[4096], p[4096], name[1024], tried[2048] = "";
	const char *base;

	dir_of(v->path, dir, sizeof(dir));
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (int i = 0; i < VHD_NUM_LOCATORS; i++) {
			const struct vhd_locator *l = &v->header.loc[i];

			if (l->code != order[k] || locator_path(v, l, p, sizeof(p)))
				continue;
			if (join(dir, p, out, cap))
				continue;
			if (!access(out, F_OK))
				return 0;
			tried_add(tried, sizeof(tried), out);
		}
	}
	if (vhd_utf16_to_utf8(v->header.parent_name, VHD_PARENT_NAME_SIZE, true, name,
			      sizeof(name)) || !name[0])
		return vhd_err(-ENOENT, "%s: parent not found (no usable locator or name)",
			       v->path);
	base = name;
	for (const char *q = name; *q; q++)
		if (*q == '/' || *q == '\\')
			base = q + 1;
	if (*base && !join(dir, base, out, cap)) {
		if (!access(out, F_OK))
			return 0;
		tried_add(tried, sizeof(tried), out);
	}
	return vhd_err(-ENOENT, "%s: parent '%s' not found (tried %s)", v->path, name, tried);
}

int vhd_parent_open(struct vhd *v, const struct vhd_open_opts *opts)
{
	struct vhd_chain_link link = { .dev = v->dev, .ino = v->ino, .child = opts->chain };
	struct vhd_open_opts popts = *opts;
	struct vhd_backing *b = NULL;
	char path[4096], a[37], b_uuid[37];
	struct stat st;
	int ret;

	ret = vhd_parent_find(v, path, sizeof(path));
	if (ret)
		return ret;
	popts.flags = opts->flags & VHD_OPEN_NOWARN_TS;
	popts.max_depth = (opts->max_depth ? opts->max_depth : VHD_DEFAULT_MAX_DEPTH) - 1;
	popts.chain = &link;
	if (opts->open_parent)
		ret = opts->open_parent(opts->opaque, path, &popts, &b);
	else
		ret = vhd_backing_open(path, &popts, &b);
	if (ret)
		return ret;
	v->parent = b;
	v->parent_path = strdup(path);
	if (!v->parent_path)
		return vhd_err(-ENOMEM, "out of memory");
	v->depth = 1 + b->depth;
	if (b->vhd) {
		v->parent_uuid_match = !memcmp(b->vhd->footer.uuid, v->header.parent_uuid, 16);
		if (!v->parent_uuid_match) {
			vhd_uuid_format(v->header.parent_uuid, a);
			vhd_uuid_format(b->vhd->footer.uuid, b_uuid);
			return vhd_err(-EINVAL,
				       "%s: parent UUID mismatch: expected %s, '%s' has %s",
				       v->path, a, path, b_uuid);
		}
	} else {
		v->parent_uuid_match = true;
	}
	if (!(opts->flags & VHD_OPEN_NOWARN_TS) && !stat(path, &st) &&
	    vhd_time_from_unix(st.st_mtime) != v->header.parent_timestamp)
		vhd_log(VHD_LOG_WARN,
			"%s: parent '%s' was modified after the child was created (timestamp mismatch)",
			v->path, path);
	return 0;
}
