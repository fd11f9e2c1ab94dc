/* images/cat_files.c: what the files of a state directory say about
 * themselves, for `image gc` and `catalog recover`. */
#include "images/cat_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhd/vhd.h"

int cat_file_ident(const char *path, struct cat_file_ident *out)
{
	struct vhd_open_opts oo = { .flags = VHD_OPEN_NO_PARENT | VHD_OPEN_NOLOCK };
	struct vhd_info info;
	struct stat stb;
	struct vhd *v;
	int r;

	memset(out, 0, sizeof(*out));
	if (lstat(path, &stb))
		return -errno;
	if (!S_ISREG(stb.st_mode))
		return -EINVAL;
	out->mtime_ns = (int64_t)stb.st_mtim.tv_sec * 1000000000 + stb.st_mtim.tv_nsec;
	r = vhd_open(path, &oo, &v);
	if (r)
		return r;
	r = vhd_get_info(v, &info);
	vhd_close(v);
	if (r)
		return r;
	out->type = info.type;
	out->size = info.size;
	out->timestamp = info.timestamp;
	out->allocated = info.allocated_blocks;
	memcpy(out->uuid, info.uuid, 16);
	if (info.type == VHD_TYPE_DIFF)
		memcpy(out->parent_uuid, info.parent_uuid, 16);
	return 0;
}

int cat_file_parent(const char *path, char *parent, size_t len)
{
	struct vhd_open_opts oo = { .flags = VHD_OPEN_NOLOCK | VHD_OPEN_NOWARN_TS };
	struct vhd_info info;
	struct vhd *v;
	int r;

	r = vhd_open(path, &oo, &v);
	if (r)
		return r;
	r = vhd_get_info(v, &info);
	vhd_close(v);
	if (r)
		return r;
	if (!info.parent_path[0] || !realpath(info.parent_path, parent) ||
	    strlen(parent) >= len)
		return -ENOENT;
	return 0;
}

int cat_copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in, out, e = 0;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		e = -errno;
		close(in);
		return e;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			e = errno ? -errno : -EIO;
			break;
		}
	if (n < 0)
		e = -errno;
	if (!e && fsync(out))
		e = -errno;
	close(out);
	close(in);
	return e;
}

bool cat_name_is_id_file(const char *name)
{
	size_t n = strlen(name);

	if (n != CAT_ID_LEN + 4 || strcmp(name + CAT_ID_LEN, ".vhd"))
		return false;
	for (size_t i = 0; i < CAT_ID_LEN; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	return true;
}
