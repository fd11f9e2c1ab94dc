/* vhd/lock.c: image locks in QEMU's byte layout (docs/locking.md).
 *
 * QEMU's file-posix driver describes what an open file may do with one
 * shared OFD lock per permission byte: byte 100 + i when it holds
 * permission i, byte 200 + i when it refuses to share permission i with
 * anybody else. Before using a file it tests, with F_OFD_GETLK and a write
 * lock, byte 200 + i for each permission it wants and byte 100 + i for each
 * one it does not share: any lock another open file holds there is a
 * conflict. We take and test the same bytes with the same meaning, so
 * QEMU (qemu-img, qemu-io, qemu-nbd, a running VM) and our tools see each
 * other:
 *
 *   mode    holds                         does not share
 *   READ    consistent read               write, resize
 *   WRITE   consistent read, write,       write, resize
 *           resize
 *   SHARED  consistent read               (shares everything: -U)
 *
 * READ and WRITE are what QEMU's format drivers ask of their file when
 * opened read-only and read-write, so two readers coexist, a writer
 * excludes readers and writers on either side, and a force-share reader
 * (`qemu-img info -U`, `vhd info -U`) only needs nobody to refuse
 * consistent reads (no writer does). Like QEMU we lock first and test
 * after, so two openers racing both see each other and neither wins a
 * conflicting pair. OFD locks belong to the open file description: two
 * opens in one process conflict too, and the locks vanish with the last
 * descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "vhd/vhd_int.h"

#define LOCK_PERM_BASE   100  /* QEMU's RAW_LOCK_PERM_BASE */
#define LOCK_SHARED_BASE 200  /* QEMU's RAW_LOCK_SHARED_BASE */

/* QEMU's BLK_PERM_* bits; bit i is byte base + i. */
enum {
	PERM_CONSISTENT_READ = 0x01,
	PERM_WRITE = 0x02,
	PERM_WRITE_UNCHANGED = 0x04,
	PERM_RESIZE = 0x08,
	PERM_COUNT = 4,
};

static const char *const perm_names[PERM_COUNT] = {
	"reading", "writing", "unchanged writes", "resizing",
};

struct lock_perms {
	unsigned hold;     /* permissions used */
	unsigned unshare;  /* permissions refused to others */
};

static struct lock_perms lock_perms_of(enum vhd_lock_mode mode)
{
	switch (mode) {
	case VHD_LOCK_WRITE:
		return (struct lock_perms){ PERM_CONSISTENT_READ | PERM_WRITE | PERM_RESIZE,
					    PERM_WRITE | PERM_RESIZE };
	case VHD_LOCK_SHARED:
		return (struct lock_perms){ PERM_CONSISTENT_READ, 0 };
	case VHD_LOCK_READ:
	default:
		return (struct lock_perms){ PERM_CONSISTENT_READ, PERM_WRITE | PERM_RESIZE };
	}
}

static int lock_byte(int fd, off_t off, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = off, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl) ? -errno : 0;
}

/* 1 when another open file holds a lock on byte @off, 0 if not, -errno. */
static int byte_taken(int fd, off_t off)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = off, .l_len = 1 };

	if (fcntl(fd, F_OFD_GETLK, &fl))
		return -errno;
	return fl.l_type != F_UNLCK;
}

/* Sets our bytes to @p: a shared lock where a bit is set, none elsewhere. */
static int lock_apply(int fd, struct lock_perms p)
{
	for (int i = 0; i < PERM_COUNT; i++) {
		int ret = lock_byte(fd, LOCK_PERM_BASE + i, (p.hold >> i) & 1 ? F_RDLCK : F_UNLCK);

		if (!ret)
			ret = lock_byte(fd, LOCK_SHARED_BASE + i,
					(p.unshare >> i) & 1 ? F_RDLCK : F_UNLCK);
		if (ret)
			return ret;
	}
	return 0;
}

/* Tests the bytes others hold against @p; on a conflict, writes what the
 * other side does to @why and returns -EBUSY. */
static int lock_test(int fd, struct lock_perms p, char *why, size_t cap)
{
	for (int i = 0; i < PERM_COUNT; i++) {
		int t;

		if (!((p.hold >> i) & 1))
			continue;
		t = byte_taken(fd, LOCK_SHARED_BASE + i);
		if (t < 0)
			return t;
		if (t) {
			snprintf(why, cap, "it does not share %s", perm_names[i]);
			return -EBUSY;
		}
	}
	for (int i = 0; i < PERM_COUNT; i++) {
		int t;

		if ((p.unshare >> i) & 1) {
			t = byte_taken(fd, LOCK_PERM_BASE + i);
			if (t < 0)
				return t;
			if (t) {
				snprintf(why, cap, "it holds the image for %s", perm_names[i]);
				return -EBUSY;
			}
		}
	}
	return 0;
}

enum vhd_lock_mode vhd_lock_mode_of(unsigned open_flags)
{
	if (open_flags & VHD_OPEN_RDWR)
		return VHD_LOCK_WRITE;
	return (open_flags & VHD_OPEN_FORCE_SHARE) ? VHD_LOCK_SHARED : VHD_LOCK_READ;
}

int vhd_lock_file(int fd, unsigned flags, const char *path)
{
	return vhd_lock(fd, vhd_lock_mode_of(flags), path);
}

int vhd_lock(int fd, enum vhd_lock_mode mode, const char *path)
{
	struct lock_perms p = lock_perms_of(mode);
	char why[64] = "";
	int ret;

	ret = lock_apply(fd, p);
	if (ret == -EAGAIN || ret == -EACCES) {
		/* an exclusive lock over our bytes (an older build of ours) */
		snprintf(why, sizeof(why), "it locks the whole file");
		ret = -EBUSY;
	} else if (!ret) {
		ret = lock_test(fd, p, why, sizeof(why));
	}
	if (!ret)
		return 0;
	lock_apply(fd, (struct lock_perms){ 0, 0 });
	if (ret == -EBUSY)
		return vhd_err(-EBUSY, "%s: image is in use by another process (%s)", path, why);
	return vhd_err(ret, "%s: cannot lock: %s", path, strerror(-ret));
}
