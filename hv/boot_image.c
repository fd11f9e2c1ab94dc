/* hv/boot_image.c: booting the kernel that lives inside the guest's disk,
 * the way Xen's pygrub did: open the image through blkback's image stack
 * (raw or a whole VHD chain), find the partitions (MBR or GPT), read ext2/3/4
 * with libext2fs through an io_manager over bimg_pread, parse grub.cfg or
 * extlinux.conf, and copy the default entry's kernel and initrd out. */
#include "hv/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#define LOG_TAG "boot"
#include "blkback/bimg.h"
#include "common/log.h"
#include "hv/boot_cfg.h"

#define SECTOR        512u
#define MAX_PARTS     16
#define MAX_FILE_SIZE (512u << 20)   /* a kernel or initrd larger is refused */
#define CFG_MAX_SIZE  (1u << 20)

struct part {
	uint64_t off, len;   /* bytes */
	int number;          /* 1-based, 0 = the whole disk */
};

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- partition tables ---- */

static int gpt_parts(struct bimg *img, struct part *parts, int *n)
{
	uint64_t size = bimg_size(img), entries_lba;
	uint8_t hdr[SECTOR], ent[128];
	uint32_t count, esize;
	int r;

	r = bimg_pread(img, hdr, SECTOR, SECTOR);
	if (r)
		return r;
	if (memcmp(hdr, "EFI PART", 8))
		return -EINVAL;
	entries_lba = le64(hdr + 72);
	count = le32(hdr + 80);
	esize = le32(hdr + 84);
	if (esize < 128 || esize > 4096 || count > 1024 ||
	    entries_lba > size / SECTOR || (uint64_t)count * esize > size - entries_lba * SECTOR)
		return -EINVAL;
	for (uint32_t i = 0; i < count && *n < MAX_PARTS; i++) {
		static const uint8_t zero[16];
		uint64_t first, last;

		r = bimg_pread(img, ent, sizeof(ent), entries_lba * SECTOR + (uint64_t)i * esize);
		if (r)
			return r;
		if (!memcmp(ent, zero, 16))
			continue;
		first = le64(ent + 32);
		last = le64(ent + 40);
		if (last < first || last >= size / SECTOR)
			continue;
		parts[(*n)++] = (struct part){ first * SECTOR, (last - first + 1) * SECTOR,
					       (int)i + 1 };
	}
	return 0;
}

/* Fills @parts with the candidate filesystems: MBR/GPT partitions (an MBR
 * active one first), or the whole disk when there is no table. */
static int find_parts(struct bimg *img, struct part *parts, int *n)
{
	uint64_t size = bimg_size(img);
	uint8_t mbr[SECTOR];
	int r;

	*n = 0;
	if (size < SECTOR)
		return -EINVAL;
	r = bimg_pread(img, mbr, SECTOR, 0);
	if (r)
		return r;
	if (mbr[510] == 0x55 && mbr[511] == 0xaa) {
		bool gpt = false;

		for (int pass = 0; pass < 2; pass++) {
			for (int i = 0; i < 4; i++) {
				const uint8_t *e = mbr + 446 + 16 * i;
				uint64_t start = le32(e + 8), len = le32(e + 12);
				bool active = e[0] == 0x80;

				if (e[4] == 0xee)
					gpt = true;
				if (!e[4] || e[4] == 0xee || !len || (pass == 0) != active)
					continue;
				/* extended partitions (0x05, 0x0f, 0x85) hold no filesystem */
				if (e[4] == 0x05 || e[4] == 0x0f || e[4] == 0x85)
					continue;
				if (start + len > size / SECTOR)
					continue;
				parts[(*n)++] = (struct part){ start * SECTOR, len * SECTOR, i + 1 };
			}
		}
		if (gpt)
			return gpt_parts(img, parts, n);
		if (*n)
			return 0;
	}
	parts[(*n)++] = (struct part){ 0, size, 0 };
	return 0;
}

/* ---- libext2fs over the image: an io_manager on bimg_pread ----
 * libext2fs opens channels by name; the image and partition in use are
 * passed through this context, so boot_image_extract is not reentrant. */

static struct {
	struct bimg *img;
	struct part part;
} io_ctx;

struct bimg_chan {
	struct bimg *img;
	struct part part;
};

static struct struct_io_manager bimg_io_manager;

static errcode_t bio_open(const char *name, int flags, io_channel *channel)
{
	io_channel io;
	struct bimg_chan *bc;

	if (flags & IO_FLAG_RW)
		return EXT2_ET_RO_UNSUPP_FEATURE;
	io = calloc(1, sizeof(*io));
	bc = calloc(1, sizeof(*bc));
	if (!io || !bc || !(io->name = strdup(name))) {
		free(io);
		free(bc);
		return EXT2_ET_NO_MEMORY;
	}
	bc->img = io_ctx.img;
	bc->part = io_ctx.part;
	io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	io->manager = &bimg_io_manager;
	io->block_size = 1024;
	io->refcount = 1;
	io->private_data = bc;
	*channel = io;
	return 0;
}

static errcode_t bio_close(io_channel io)
{
	if (--io->refcount > 0)
		return 0;
	free(io->private_data);
	free(io->name);
	free(io);
	return 0;
}

static errcode_t bio_set_blksize(io_channel io, int blksize)
{
	io->block_size = blksize;
	return 0;
}

static errcode_t bio_read_blk64(io_channel io, unsigned long long block, int count, void *data)
{
	struct bimg_chan *bc = io->private_data;
	uint64_t len = count < 0 ? (uint64_t)-count : (uint64_t)count * (uint64_t)io->block_size;
	uint64_t off = block * (uint64_t)io->block_size;

	if (off > bc->part.len || len > bc->part.len - off)
		return EXT2_ET_SHORT_READ;
	if (bimg_pread(bc->img, data, len, bc->part.off + off))
		return EXT2_ET_SHORT_READ;
	return 0;
}

static errcode_t bio_read_blk(io_channel io, unsigned long block, int count, void *data)
{
	return bio_read_blk64(io, block, count, data);
}

static errcode_t bio_write_blk(io_channel io, unsigned long block, int count,
			       const void *data)
{
	return EXT2_ET_RO_UNSUPP_FEATURE;
}

static errcode_t bio_write_blk64(io_channel io, unsigned long long block, int count,
				 const void *data)
{
	return EXT2_ET_RO_UNSUPP_FEATURE;
}

static errcode_t bio_flush(io_channel io)
{
	return 0;
}

static struct struct_io_manager bimg_io_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "vhdvisor bimg",
	.open = bio_open,
	.close = bio_close,
	.set_blksize = bio_set_blksize,
	.read_blk = bio_read_blk,
	.write_blk = bio_write_blk,
	.flush = bio_flush,
	.read_blk64 = bio_read_blk64,
	.write_blk64 = bio_write_blk64,
};

/* ---- files inside the filesystem ---- */

/* Reads @path whole (at most @max bytes) into a malloc'd, NUL-terminated
 * buffer. -ENOENT when it does not exist. */
static int fs_read_file(ext2_filsys fs, const char *path, size_t max, char **buf,
			size_t *len)
{
	ext2_ino_t ino;
	ext2_file_t f;
	struct ext2_inode inode;
	unsigned got;
	uint64_t size;
	char *b;

	if (ext2fs_namei_follow(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino))
		return -ENOENT;
	if (ext2fs_read_inode(fs, ino, &inode) || !LINUX_S_ISREG(inode.i_mode))
		return -ENOENT;
	size = EXT2_I_SIZE(&inode);
	if (size > max)
		return -EFBIG;
	if (ext2fs_file_open(fs, ino, 0, &f))
		return -EIO;
	b = malloc(size + 1);
	if (!b) {
		ext2fs_file_close(f);
		return -ENOMEM;
	}
	if (ext2fs_file_read(f, b, (unsigned)size, &got) || got != size) {
		ext2fs_file_close(f);
		free(b);
		return -EIO;
	}
	ext2fs_file_close(f);
	b[size] = '\0';
	*buf = b;
	*len = size;
	return 0;
}

static int write_out(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		off += (size_t)n;
	}
	return close(fd) ? -errno : 0;
}

/* Copies the entry's file @name (as the config wrote it; relative to the
 * config's folder for extlinux) to @dst. A path that misses is retried
 * under /boot (a grub.cfg written for a separate /boot partition). */
static int extract(ext2_filsys fs, const char *cfgdir, const char *name, const char *dst,
		   char *err, size_t errlen)
{
	char path[PATH_MAX * 2];
	char *buf;
	size_t len;
	int r;

	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", cfgdir, name);
	r = fs_read_file(fs, path, MAX_FILE_SIZE, &buf, &len);
	if (r == -ENOENT && name[0] == '/' && strncmp(name, "/boot/", 6)) {
		snprintf(path, sizeof(path), "/boot%s", name);
		r = fs_read_file(fs, path, MAX_FILE_SIZE, &buf, &len);
	}
	if (r) {
		snprintf(err, errlen, "cannot read '%s' from the disk: %s", name, strerror(-r));
		return r;
	}
	r = write_out(dst, buf, len);
	free(buf);
	if (r)
		snprintf(err, errlen, "cannot write %s: %s", dst, strerror(-r));
	return r;
}

static const struct {
	const char *path;
	bool grub;
} configs[] = {
	{ "/boot/grub/grub.cfg", true },
	{ "/grub/grub.cfg", true },
	{ "/boot/extlinux/extlinux.conf", false },
	{ "/extlinux/extlinux.conf", false },
	{ "/boot/syslinux/syslinux.cfg", false },
	{ "/syslinux/syslinux.cfg", false },
	{ "/extlinux.conf", false },
};

/* Looks for a boot config in one filesystem. -ENOENT when it has none. */
static int try_fs(ext2_filsys fs, const char *run_dir, struct vm_boot *out, char *err,
		  size_t errlen)
{
	struct boot_entry *e = calloc(1, sizeof(*e));
	char dir[PATH_MAX], *text = NULL;
	size_t len;
	int r = -ENOENT;

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		r = fs_read_file(fs, configs[i].path, CFG_MAX_SIZE, &text, &len);
		if (r == -ENOENT)
			continue;
		if (r) {
			snprintf(err, errlen, "%s: %s", configs[i].path, strerror(-r));
			break;
		}
		r = configs[i].grub ? boot_cfg_grub(text, e) : boot_cfg_extlinux(text, e);
		free(text);
		if (r) {
			snprintf(err, errlen, "%s: %s", configs[i].path,
				 r == -ENOENT ? "no boot entry with a kernel" :
						"the default entry has no kernel");
			r = r == -ENOENT ? -ENOEXEC : r;
			break;
		}
		snprintf(dir, sizeof(dir), "%.*s",
			 (int)(strrchr(configs[i].path, '/') - configs[i].path), configs[i].path);
		log_info("booting '%s' from %s: %s", e->title, configs[i].path, e->kernel);
		snprintf(out->kernel, sizeof(out->kernel), "%s/kernel", run_dir);
		r = extract(fs, dir, e->kernel, out->kernel, err, errlen);
		if (!r && e->initrd[0]) {
			snprintf(out->initrd, sizeof(out->initrd), "%s/initrd", run_dir);
			r = extract(fs, dir, e->initrd, out->initrd, err, errlen);
		}
		/* A config was found: a missing file is its error, not "no config". */
		if (r == -ENOENT)
			r = -ENOEXEC;
		snprintf(out->append, sizeof(out->append), "%s", e->append);
		out->mode = VM_BOOT_IMAGE;
		break;
	}
	free(e);
	return r;
}

static int open_disk(const struct vm_disk *disk, struct bimg **img, char *err, size_t errlen)
{
	int r = bimg_open(disk->path, 0, img);

	if (r)
		snprintf(err, errlen, "disk '%s': %s", disk->path,
			 bimg_last_error()[0] ? bimg_last_error() : strerror(-r));
	return r;
}

int boot_image_extract(const struct vm_disk *disk, const char *run_dir,
		       struct vm_boot *out, char *err, size_t errlen)
{
	struct part parts[MAX_PARTS];
	struct bimg *img;
	int n, r, fs_found = 0;

	r = open_disk(disk, &img, err, errlen);
	if (r)
		return r;
	r = find_parts(img, parts, &n);
	if (r) {
		snprintf(err, errlen, "disk '%s': cannot read its partition table: %s",
			 disk->path, strerror(-r));
		goto out;
	}
	r = -ENOENT;
	for (int i = 0; i < n && r == -ENOENT; i++) {
		ext2_filsys fs;
		char name[32];

		io_ctx.img = img;
		io_ctx.part = parts[i];
		snprintf(name, sizeof(name), "part%d", parts[i].number);
		if (ext2fs_open2(name, NULL, 0, 0, 0, &bimg_io_manager, &fs))
			continue;
		fs_found++;
		r = try_fs(fs, run_dir, out, err, errlen);
		ext2fs_close_free(&fs);
	}
	if (r == -ENOENT)
		snprintf(err, errlen, "disk '%s' has no boot loader configuration (grub.cfg or "
			 "extlinux.conf) on %s", disk->path,
			 fs_found ? "its ext2/3/4 filesystems" : "any ext2/3/4 filesystem");
out:
	io_ctx.img = NULL;
	bimg_close(img);
	return r;
}

int boot_disk_has_boot_sector(const struct vm_disk *disk, bool *yes, char *err,
			      size_t errlen)
{
	uint8_t mbr[SECTOR];
	struct bimg *img;
	int r = open_disk(disk, &img, err, errlen);

	if (r)
		return r;
	r = bimg_size(img) >= SECTOR ? bimg_pread(img, mbr, SECTOR, 0) : -EINVAL;
	bimg_close(img);
	if (r) {
		snprintf(err, errlen, "disk '%s': cannot read its first sector: %s", disk->path,
			 strerror(-r));
		return r;
	}
	*yes = mbr[510] == 0x55 && mbr[511] == 0xaa;
	return 0;
}
