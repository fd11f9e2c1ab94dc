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
	    l->data_offset > v->file_end || l->data_len > v->file_end - l->data_offset)
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

/* Candidate @k of the lookup order (0..NUM_CANDIDATES-1): the W2ru, W2ku
 * and MacX locators in turn, then the Parent Unicode Name beside the child.
 * Writes its path to @out; -ENOENT when that candidate does not exist in
 * the header or is unusable. */
#define NUM_CANDIDATES (3 * VHD_NUM_LOCATORS + 1)

static int candidate(struct vhd *v, int k, const char *dir, char *out, size_t cap)
{
	static const uint32_t order[] = { VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_MACX };
	char p[4096], name[1024];
	const char *base;

	if (k < 3 * VHD_NUM_LOCATORS) {
		const struct vhd_locator *l = &v->header.loc[k % VHD_NUM_LOCATORS];

		if (l->code != order[k / VHD_NUM_LOCATORS] || locator_path(v, l, p, sizeof(p)))
			return -ENOENT;
		return join(dir, p, out, cap) ? -ENOENT : 0;
	}
	if (vhd_utf16_to_utf8(v->header.parent_name, VHD_PARENT_NAME_SIZE, true, name,
			      sizeof(name)) || !name[0])
		return -ENOENT;
	base = name;
	for (const char *q = name; *q; q++)
		if (*q == '/' || *q == '\\')
			base = q + 1;
	return *base && !join(dir, base, out, cap) ? 0 : -ENOENT;
}

/* The next existing parent file from candidate *k on (advancing *k past
 * it), with the list of non-existing ones tried added to @tried. */
static int next_parent(struct vhd *v, int *k, char *out, size_t cap, char *tried,
		       size_t tried_cap)
{
	char dir[4096];

	dir_of(v->path, dir, sizeof(dir));
	while (*k < NUM_CANDIDATES) {
		if (candidate(v, (*k)++, dir, out, cap))
			continue;
		if (!access(out, F_OK))
			return 0;
		tried_add(tried, tried_cap, out);
	}
	return -ENOENT;
}

/* The parent's name for messages, "" when unreadable. */
static void parent_name(struct vhd *v, char *out, size_t cap)
{
	if (vhd_utf16_to_utf8(v->header.parent_name, VHD_PARENT_NAME_SIZE, true, out, cap))
		out[0] = 0;
}

static int not_found(struct vhd *v, const char *tried)
{
	char name[1024];

	parent_name(v, name, sizeof(name));
	if (!name[0] && !tried[0])
		return vhd_err(-ENOENT, "%s: parent not found (no usable locator or name)",
			       v->path);
	return vhd_err(-ENOENT, "%s: parent '%s' not found (tried %s)", v->path, name,
		       tried[0] ? tried : "nothing");
}

int vhd_parent_find(struct vhd *v, char *out, size_t cap)
{
	char tried[2048] = "";
	int k = 0;

	if (!next_parent(v, &k, out, cap, tried, sizeof(tried)))
		return 0;
	return not_found(v, tried);
}

/* Opens @path as the parent and checks its UUID. Returns 0, -errno, or 1
 * for a UUID mismatch (backing released, message set: the caller may try
 * another file). */
static int try_parent(struct vhd *v, const char *path, const struct vhd_open_opts *opts,
		      const struct vhd_open_opts *popts, struct vhd_backing **out)
{
	struct vhd_backing *b = NULL;
	char want[37], have[37];
	int ret;

	if (opts->open_parent)
		ret = opts->open_parent(opts->opaque, path, popts, &b);
	else
		ret = vhd_backing_open(path, popts, &b);
	if (ret)
		return ret;
	if (b->vhd && memcmp(b->vhd->footer.uuid, v->header.parent_uuid, 16)) {
		vhd_uuid_format(v->header.parent_uuid, want);
		vhd_uuid_format(b->vhd->footer.uuid, have);
		b->ops->release(b);
		vhd_err(-EINVAL, "%s: parent UUID mismatch: expected %s, '%s' has %s", v->path,
			want, path, have);
		return 1;
	}
	*out = b;
	return 0;
}

int vhd_parent_open(struct vhd *v, const struct vhd_open_opts *opts)
{
	struct vhd_chain_link link = { .dev = v->dev, .ino = v->ino, .child = opts->chain };
	struct vhd_open_opts popts = *opts;
	char path[4096], tried[2048] = "", mismatch[1024] = "";
	struct vhd_backing *b = NULL;
	int ret, k = 0;
	struct stat st;

	popts.flags = opts->flags & (VHD_OPEN_NOWARN_TS | VHD_OPEN_FORCE_SHARE);
	popts.max_depth = (opts->max_depth ? opts->max_depth : VHD_DEFAULT_MAX_DEPTH) - 1;
	popts.chain = &link;
	/* Each existing candidate in turn; one with the wrong UUID (a moved
	 * chain's relative path may now name another image) passes to the
	 * next. Any other failure to open an existing parent is final. */
	while (!next_parent(v, &k, path, sizeof(path), tried, sizeof(tried))) {
		ret = try_parent(v, path, opts, &popts, &b);
		if (ret < 0)
			return ret;
		if (!ret)
			break;
		if (!mismatch[0])
			snprintf(mismatch, sizeof(mismatch), "%s", vhd_last_error());
	}
	if (!b) {
		if (mismatch[0])
			return vhd_err(-EINVAL, "%s", mismatch);
		return not_found(v, tried);
	}
	v->parent = b;
	v->parent_uuid_match = true;
	v->parent_path = strdup(path);
	if (!v->parent_path)
		return vhd_err(-ENOMEM, "out of memory");
	v->depth = 1 + b->depth;
	if (!(opts->flags & VHD_OPEN_NOWARN_TS) && !stat(path, &st) &&
	    vhd_time_from_unix(st.st_mtime) != v->header.parent_timestamp)
		vhd_log(VHD_LOG_WARN,
			"%s: parent '%s' was modified after the child was created (timestamp mismatch)",
			v->path, path);
	return 0;
}
