/* blkback/bimg.h: block images, one interface over raw files, block devices
 * and VHD chains, so that front ends (NBD, FUSE) never care which format is
 * underneath.
 *
 * An image is opened with bimg_open(); the framework probes the file,
 * picks a driver and allocates the driver's state. Every I/O call may be
 * made by several threads at once (drivers are thread-safe); ranges must lie
 * within bimg_size().
 *
 * Read-only parents of differencing images are opened once per process and
 * shared between every chain that uses them (see bimg_parents_open()).
 */
#ifndef VV_BLKBACK_BIMG_H
#define VV_BLKBACK_BIMG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct bimg;

#define BIMG_OPEN_RDWR     0x1u  /* writable; takes a writer's lock (docs/locking.md) */
#define BIMG_OPEN_NOLOCK   0x2u  /* take no lock (the caller holds one) */
/* Writes go to a throwaway differencing child in a new temporary folder
 * ($TMPDIR or /var/tmp), removed by bimg_close(); the file itself is only
 * read. Implies BIMG_OPEN_RDWR. */
#define BIMG_OPEN_SNAPSHOT 0x4u
/* Read even while another process writes the file (qemu-nbd -U): the lock
 * refuses nobody. Not with RDWR or SNAPSHOT (-EINVAL). */
#define BIMG_OPEN_FORCE_SHARE 0x8u
/* A differencing VHD may read through a raw file (VHD_OPEN_RAW_PARENT):
 * only for a chain a person named on a command line. Without it a raw
 * parent is refused anywhere in the chain (a snapshot's own base, the file
 * named, excepted). */
#define BIMG_OPEN_RAW_PARENT 0x10u

#define BIMG_ZERO_MAY_UNMAP 0x1u /* write_zeroes may deallocate storage */

/* block_status results (bit flags, returned >= 0) */
#define BIMG_STATUS_DATA 0x1u    /* some layer holds data for the range */
#define BIMG_STATUS_ZERO 0x2u    /* the range reads as zeros */

struct bimg_ops {
	const char *name;
	size_t priv_size;                 /* the framework allocates driver state */
	/* Scores how well the file fits (0 = not at all .. 100 = certain).
	 * @head is the file's first @head_len bytes, @tail its last
	 * @tail_len bytes (both at most 4 KiB; shorter for small files). */
	int (*probe)(const void *head, size_t head_len, const void *tail, size_t tail_len);
	/* Opens @path (BIMG_OPEN_* @flags). Sets the size with bimg_set_size().
	 * On failure the framework calls nothing else; the driver has undone
	 * its own work. Returns 0 or -errno (bimg_last_error() tells why). */
	int (*open)(struct bimg *img, const char *path, unsigned flags);
	/* Releases everything open() acquired. Does not flush. */
	void (*close)(struct bimg *img);
	/* Vectored I/O at byte @off; the whole range lies within the size.
	 * A short transfer is an error. Any thread. 0 or -errno. */
	int (*preadv)(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt);
	int (*pwritev)(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt);
	/* Makes every completed write durable. Any thread. 0 or -errno. */
	int (*flush)(struct bimg *img);
	/* Makes [off, off+len) read as zeros (BIMG_ZERO_* @flags). */
	int (*write_zeroes)(struct bimg *img, uint64_t off, uint64_t len, unsigned flags);
	/* Optional: the range's contents are no longer needed (they may read
	 * back as anything). NULL = discard is a no-op. */
	int (*discard)(struct bimg *img, uint64_t off, uint64_t len);
	/* Status of the run at @off (at most @len bytes): sets *pnum (> 0) to
	 * its length and *layer to the chain layer that holds it (1 = the top
	 * image, 2 = its parent, ...; 0 = nowhere, reads as zeros). Returns
	 * BIMG_STATUS_* flags (>= 0) or -errno. */
	int (*block_status)(struct bimg *img, uint64_t off, uint64_t len,
			    uint64_t *pnum, int *layer);
};

/* Opens @path with the driver whose probe scores highest. Returns 0 and
 * the image (freed by bimg_close()), or -errno with the reason in
 * bimg_last_error(). */
int bimg_open(const char *path, unsigned flags, struct bimg **out);
/* Flushes a writable image, then closes it; accepts NULL. Returns the
 * flush result (0 or -errno); the image is freed either way. */
int bimg_close(struct bimg *img);

uint64_t bimg_size(const struct bimg *img);
bool bimg_writable(const struct bimg *img);
const char *bimg_path(const struct bimg *img);
const char *bimg_driver_name(const struct bimg *img);
/* True when opened with BIMG_OPEN_SNAPSHOT (writes go to a throwaway child). */
bool bimg_is_snapshot(const struct bimg *img);

/* I/O: see the ops contracts above. Requests outside the size get -EINVAL;
 * writes to a read-only image get -EPERM. */
int bimg_preadv(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt);
int bimg_pwritev(struct bimg *img, uint64_t off, const struct iovec *iov, int cnt);
int bimg_pread(struct bimg *img, void *buf, size_t len, uint64_t off);
int bimg_pwrite(struct bimg *img, const void *buf, size_t len, uint64_t off);
int bimg_flush(struct bimg *img);
int bimg_write_zeroes(struct bimg *img, uint64_t off, uint64_t len, unsigned flags);
int bimg_discard(struct bimg *img, uint64_t off, uint64_t len);
int bimg_block_status(struct bimg *img, uint64_t off, uint64_t len,
		      uint64_t *pnum, int *layer);

/* Why the last failed bimg_open() in this thread failed ("" when unknown). */
const char *bimg_last_error(void);

/* Number of distinct parent files currently open and shared in this process
 * (introspection for tests and `vhd serve`'s debug log). */
unsigned bimg_parents_count(void);

#endif
