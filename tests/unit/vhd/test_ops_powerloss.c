/* tests/unit/vhd/test_ops_powerloss.c: power loss at any moment.
 *
 * This binary interposes pwrite64, pwritev64, ftruncate64, fallocate64,
 * fsync and fdatasync (the library's only ways of changing files and making
 * them durable; the executable's definitions win over libc's; a change made
 * any other way would escape the test) and records every
 * change made to the files under test. A simulated power loss at op N
 * keeps, per file, everything before that file's last sync before N, plus a
 * random subset of its later changes: what a disk may hold after losing
 * its cache. Each such state is rebuilt from a snapshot of the files taken
 * before the workload and judged as it is, with no repair: it opens
 * read-only and read-write, `check` finds no problem (the note about an
 * unpublished tail is fine), every write flushed before the loss reads
 * back, every other sector reads its old or its new content, and an
 * interrupted commit leaves a chain that reads the same (re-running the
 * commit finishes it). VHDVISOR_LONG=1 examines ten times more states.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vhd/vhd.h"
#include "vhd/vhd_ops.h"

#define PL_FILES 2

enum pl_kind { PL_WRITE, PL_TRUNC, PL_FALLOC, PL_SYNC };

struct pl_op {
	enum pl_kind kind;
	int file;               /* index into pl_ino */
	uint64_t off;           /* write or fallocate offset, or truncate length */
	size_t len;
	uint8_t *data;
	int mode;               /* fallocate mode */
};

static struct pl_op *pl_ops;
static size_t pl_n, pl_cap;
static ino_t pl_ino[PL_FILES];
static dev_t pl_dev[PL_FILES];
static int pl_nfiles;
static bool pl_on;

static int pl_file_of(int fd)
{
	struct stat st;

	if (!pl_on || fstat(fd, &st))
		return -1;
	for (int i = 0; i < pl_nfiles; i++)
		if (st.st_ino == pl_ino[i] && st.st_dev == pl_dev[i])
			return i;
	return -1;
}

static void pl_record(enum pl_kind kind, int file, uint64_t off, const void *buf, size_t len)
{
	struct pl_op *op;

	if (pl_n == pl_cap) {
		pl_cap = pl_cap ? 2 * pl_cap : 1024;
		pl_ops = realloc(pl_ops, pl_cap * sizeof(*pl_ops));
		cr_assert(pl_ops);
	}
	op = &pl_ops[pl_n++];
	*op = (struct pl_op){ kind, file, off, len, NULL, 0 };
	if (len) {
		op->data = malloc(len);
		cr_assert(op->data);
		memcpy(op->data, buf, len);
	}
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	ssize_t r = syscall(SYS_pwrite64, fd, buf, n, off);
	int f = r > 0 ? pl_file_of(fd) : -1;

	if (f >= 0)
		pl_record(PL_WRITE, f, (uint64_t)off, buf, (size_t)r);
	return r;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	ssize_t done = 0;

	for (int i = 0; i < cnt; i++) {
		ssize_t r = pwrite64(fd, iov[i].iov_base, iov[i].iov_len, off + done);

		if (r < 0)
			return done ? done : r;
		done += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return done;
}

int ftruncate64(int fd, off64_t len)
{
	int r = (int)syscall(SYS_ftruncate, fd, len);
	int f = r ? -1 : pl_file_of(fd);

	if (f >= 0)
		pl_record(PL_TRUNC, f, (uint64_t)len, NULL, 0);
	return r;
}

/* Zeroing, hole punching and preallocation: replayed with the same mode. */
int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	int r = (int)syscall(SYS_fallocate, fd, mode, off, len);
	int f = r ? -1 : pl_file_of(fd);

	if (f >= 0) {
		pl_record(PL_FALLOC, f, (uint64_t)off, NULL, 0);
		pl_ops[pl_n - 1].len = (size_t)len;
		pl_ops[pl_n - 1].mode = mode;
	}
	return r;
}

int fsync(int fd)
{
	int r = (int)syscall(SYS_fsync, fd);
	int f = r ? -1 : pl_file_of(fd);

	if (f >= 0)
		pl_record(PL_SYNC, f, 0, NULL, 0);
	return r;
}

int fdatasync(int fd)
{
	int r = (int)syscall(SYS_fdatasync, fd);
	int f = r ? -1 : pl_file_of(fd);

	if (f >= 0)
		pl_record(PL_SYNC, f, 0, NULL, 0);
	return r;
}

/* ---- helpers ---- */

static char pl_dir[256];

static void pl_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	cr_assert(n > 0 && (size_t)n < cap, "path too long");
}

static void pl_copy(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	static uint8_t buf[1 << 16];
	ssize_t n;
	off_t off = 0;

	cr_assert(in >= 0 && out >= 0, "copy %s -> %s", from, to);
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		bool zero = !buf[0] && !memcmp(buf, buf + 1, (size_t)n - 1);

		if (!zero)  /* keep the copy sparse */
			cr_assert(syscall(SYS_pwrite64, out, buf, n, off) == n);
		off += n;
	}
	cr_assert(!syscall(SYS_ftruncate, out, off));
	close(in);
	close(out);
}

static void pl_track(const char *path)
{
	struct stat st;

	cr_assert(!stat(path, &st));
	pl_ino[pl_nfiles] = st.st_ino;
	pl_dev[pl_nfiles] = st.st_dev;
	pl_nfiles++;
}

static uint64_t pl_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Rebuilds in @dir the files @names as they may be after a power loss just
 * before op @upto: the snapshot in pl_dir/snap, then per file every op up
 * to its last fsync before @upto, and a random subset of the later ones. */
static void pl_state(const char *dir, const char *const *names, size_t upto, uint64_t *seed)
{
	size_t last_sync[PL_FILES] = { 0 };
	int fds[PL_FILES];
	char from[1024], to[1024];

	for (size_t i = 0; i < upto; i++)
		if (pl_ops[i].kind == PL_SYNC)
			last_sync[pl_ops[i].file] = i + 1;
	for (int f = 0; f < pl_nfiles; f++) {
		snprintf(from, sizeof(from), "%s/snap/%s", pl_dir, names[f]);
		pl_path(to, sizeof(to), dir, names[f]);
		pl_copy(from, to);
		fds[f] = open(to, O_WRONLY);
		cr_assert(fds[f] >= 0);
	}
	for (size_t i = 0; i < upto; i++) {
		const struct pl_op *op = &pl_ops[i];

		if (op->kind == PL_SYNC)
			continue;
		if (i >= last_sync[op->file] && pl_rand(seed) % 2)
			continue;     /* lost with the cache */
		if (op->kind == PL_WRITE)
			cr_assert(syscall(SYS_pwrite64, fds[op->file], op->data, op->len, op->off) ==
				  (ssize_t)op->len);
		else if (op->kind == PL_FALLOC)
			cr_assert(!syscall(SYS_fallocate, fds[op->file], op->mode, op->off,
					   op->len));
		else
			cr_assert(!syscall(SYS_ftruncate, fds[op->file], op->off));
	}
	for (int f = 0; f < pl_nfiles; f++)
		close(fds[f]);
}

static unsigned pl_states(void)
{
	return getenv("VHDVISOR_LONG") ? 3000 : 300;
}

static void pl_setup(void)
{
	char snap[1024];
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";

	snprintf(pl_dir, sizeof(pl_dir), "%s/vvpl.XXXXXX", base);
	cr_assert(mkdtemp(pl_dir));
	snprintf(snap, sizeof(snap), "%s/snap", pl_dir);
	cr_assert(!mkdir(snap, 0755));
	pl_n = 0;
	pl_nfiles = 0;
	pl_on = false;
}

static void pl_teardown(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pl_dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", pl_dir);
}

static unsigned pl_tails;

static void pl_report(void *opaque, const struct vhd_check_problem *p)
{
	if (p->warning && !strcmp(p->name, "footer-unpublished-tail"))
		pl_tails++;
	if (!p->warning && !p->repaired)
		cr_log_error("%s: %s at %llu: %s", (const char *)opaque, p->name,
			     (unsigned long long)p->offset, p->detail);
}

/* The image, as the power loss left it: `check` finds no problem (the
 * note about an unpublished tail is allowed and counted). */
static void pl_check_clean(const char *path, unsigned s, size_t upto)
{
	struct vhd_check_result res;
	int rc = vhd_check(path, VHD_CHECK_NO_PARENT, pl_report, (void *)path, &res);

	cr_assert_eq(rc, 0, "state %u (op %zu): check of %s: %s", s, upto, path,
		     vhd_last_error());
	cr_assert_eq(res.errors, 0, "state %u (op %zu of %zu): %s has %u problems after a "
		     "power loss", s, upto, pl_n, path, res.errors);
}

/* @path opens read-write (recovering a tail in place), closes, and then
 * checks clean without even a note. */
static void pl_open_rw(const char *path, unsigned s, size_t upto)
{
	struct vhd_open_opts rw = { .flags = VHD_OPEN_RDWR | VHD_OPEN_NOLOCK |
					     VHD_OPEN_NO_PARENT };
	struct vhd_check_result res;
	struct vhd_info info;
	struct vhd *v;

	cr_assert(!vhd_open(path, &rw, &v), "state %u (op %zu of %zu): read-write open: %s", s,
		  upto, pl_n, vhd_last_error());
	cr_assert(!vhd_get_info(v, &info));
	cr_assert(!info.read_only, "state %u (op %zu): opened read-only", s, upto);
	vhd_close(v);
	cr_assert(!vhd_check(path, VHD_CHECK_NO_PARENT, pl_report, (void *)path, &res));
	cr_assert(res.errors == 0 && res.warnings == 0,
		  "state %u (op %zu): %u problems, %u notes after a read-write open", s, upto,
		  res.errors, res.warnings);
}

/* ---- writes into a dynamic disk ---- */

#define DW_SIZE   (8u << 20)
#define DW_WRITES 32

struct dw_write {
	uint64_t off;
	size_t len;
	uint8_t byte;
	uint64_t zoff, zlen;    /* then zeroed with vhd_write_zeroes (zlen 0: not) */
	size_t flushed_at;      /* op count after the flush covering it; 0 = none */
};

TestSuite(powerloss, .init = pl_setup, .fini = pl_teardown, .timeout = 600);

/* Write @w (number @i) reads back whole when a flush covered it before the
 * loss at op @upto, its zeroed part as zeros; otherwise each byte reads its
 * new value, zero where it was zeroed, or @old. */
static void dw_verify(struct vhd *sv, const struct dw_write *w, int i, uint8_t old,
		      unsigned s, size_t upto)
{
	static uint8_t buf[256 << 10];
	bool durable = w->flushed_at && w->flushed_at <= upto;

	cr_assert(!vhd_pread(sv, buf, w->len, w->off), "%s", vhd_last_error());
	for (size_t b = 0; b < w->len; b++) {
		uint64_t at = w->off + b;
		bool zeroed = w->zlen && at >= w->zoff && at < w->zoff + w->zlen;
		uint8_t want = zeroed ? 0 : w->byte;

		if (buf[b] == want)
			continue;
		cr_assert(!durable, "state %u (op %zu): flushed write %d lost at +%zu "
			  "(holds %#x, want %#x)", s, upto, i, b, buf[b], want);
		cr_assert(buf[b] == old || (zeroed && buf[b] == w->byte),
			  "state %u: write %d region holds %#x", s, i, buf[b]);
	}
}

/* Writes into a fresh dynamic disk, or into a differencing child of a
 * base whose every byte is @old (then unwritten sectors read @old). */
static void dw_run(enum vhd_type type, uint8_t old)
{
	static const char *const names[] = { "d.vhd" };
	struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = DW_SIZE,
				      .block_size = 512u << 10 };
	struct vhd_open_opts oo = { .flags = VHD_OPEN_RDWR };
	struct dw_write w[DW_WRITES];
	char path[1024], base[1024], snap[1024], sdir[1024], spath[1024];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	static uint8_t buf[256 << 10];
	struct vhd *v;
	size_t pending = 0, nfalloc = 0;

	pl_path(path, sizeof(path), pl_dir, names[0]);
	if (type == VHD_TYPE_DIFF) {
		pl_path(base, sizeof(base), pl_dir, "base.vhd");
		cr_assert(!vhd_create(base, &co), "%s", vhd_last_error());
		cr_assert(!vhd_open(base, &oo, &v));
		memset(buf, old, sizeof(buf));
		for (uint64_t off = 0; off < DW_SIZE; off += sizeof(buf))
			cr_assert(!vhd_pwrite(v, buf, sizeof(buf), off));
		vhd_close(v);
		co = (struct vhd_create_opts){ .type = VHD_TYPE_DIFF, .parent = base,
					       .block_size = 512u << 10 };
	}
	cr_assert(!vhd_create(path, &co), "%s", vhd_last_error());
	snprintf(snap, sizeof(snap), "%s/snap/%s", pl_dir, names[0]);
	pl_copy(path, snap);
	pl_track(path);
	cr_assert(!vhd_open(path, &oo, &v), "%s", vhd_last_error());
	pl_on = true;
	/* Disjoint regions, so each sector has one old and one new value. */
	for (int i = 0; i < DW_WRITES; i++) {
		w[i].off = (uint64_t)i * (DW_SIZE / DW_WRITES) + (pl_rand(&seed) % 64) * 512 +
			   pl_rand(&seed) % 3 * 100;
		w[i].len = 512 + (size_t)(pl_rand(&seed) % (100 << 10));
		w[i].byte = (uint8_t)(i + 1);
		w[i].flushed_at = 0;
		w[i].zlen = 0;
		memset(buf, w[i].byte, w[i].len);
		cr_assert(!vhd_pwrite(v, buf, w[i].len, w[i].off), "%s", vhd_last_error());
		if (pl_rand(&seed) % 3 == 0 && w[i].len >= 2048) {
			/* Zero a sector-aligned middle part: fallocate on the
			 * allocated block, with a punched hole every other time. */
			w[i].zoff = (w[i].off + 1023) & ~511ull;
			w[i].zlen = ((w[i].off + w[i].len - w[i].zoff) / 2) & ~511ull;
			if (w[i].zlen)
				cr_assert(!vhd_write_zeroes(v, w[i].zoff, w[i].zlen,
							    i % 2 ? VHD_ZERO_MAY_UNMAP : 0),
					  "%s", vhd_last_error());
		}
		if (pl_rand(&seed) % 4 == 0 || i == DW_WRITES - 1) {
			cr_assert(!vhd_flush(v));
			for (size_t k = pending; k <= (size_t)i; k++)
				w[k].flushed_at = pl_n;
			pending = (size_t)i + 1;
		}
	}
	pl_on = false;
	vhd_close(v);
	cr_assert(pl_n > 0);
	for (size_t k = 0; k < pl_n; k++)
		nfalloc += pl_ops[k].kind == PL_FALLOC;
	cr_assert(nfalloc > 0, "the workload made no fallocate call to replay");

	snprintf(sdir, sizeof(sdir), "%s/state", pl_dir);
	cr_assert(!mkdir(sdir, 0755));
	pl_path(spath, sizeof(spath), sdir, names[0]);
	for (unsigned s = 0; s < pl_states(); s++) {
		size_t upto = (size_t)(pl_rand(&seed) % (pl_n + 1));
		struct vhd_open_opts ro = { .flags = VHD_OPEN_NOLOCK | VHD_OPEN_NOWARN_TS };
		struct vhd *sv;

		pl_state(sdir, names, upto, &seed);
		pl_check_clean(spath, s, upto);
		/* As left (read-only), then after a read-write open recovered it. */
		for (int pass = 0; pass < 2; pass++) {
			if (pass)
				pl_open_rw(spath, s, upto);
			cr_assert(!vhd_open(spath, &ro, &sv), "state %u (op %zu of %zu): %s", s,
				  upto, pl_n, vhd_last_error());
			for (int i = 0; i < DW_WRITES; i++)
				dw_verify(sv, &w[i], i, old, s, upto);
			vhd_close(sv);
		}
	}
	cr_log_info("%s writes: %u states, %zu ops (%zu fallocate); all clean without "
		    "repair, %u with an unpublished tail", vhd_type_name(type), pl_states(), pl_n,
		    nfalloc, pl_tails);
}

Test(powerloss, dynamic_writes)
{
	dw_run(VHD_TYPE_DYNAMIC, 0);
}

Test(powerloss, differencing_writes)
{
	dw_run(VHD_TYPE_DIFF, 0xee);
}

/* ---- commit of a child into its parent ---- */

Test(powerloss, commit)
{
	static const char *const names[] = { "base.vhd", "child.vhd" };
	struct vhd_create_opts co = { .type = VHD_TYPE_DYNAMIC, .size = 8u << 20,
				      .block_size = 512u << 10 };
	struct vhd_open_opts oo = { .flags = VHD_OPEN_RDWR };
	char base[1024], child[1024], snap[1024], sdir[1024], schild[1024], sbase[1024];
	uint64_t seed = 0x1234567887654321ull;
	static uint8_t want[8 << 20], got[8 << 20];
	struct vhd *v;

	pl_path(base, sizeof(base), pl_dir, names[0]);
	pl_path(child, sizeof(child), pl_dir, names[1]);
	cr_assert(!vhd_create(base, &co), "%s", vhd_last_error());
	cr_assert(!vhd_open(base, &oo, &v));
	memset(want, 0x11, 3 << 20);
	cr_assert(!vhd_pwrite(v, want, 3 << 20, 0));
	vhd_close(v);
	co = (struct vhd_create_opts){ .type = VHD_TYPE_DIFF, .parent = base };
	cr_assert(!vhd_create(child, &co), "%s", vhd_last_error());
	cr_assert(!vhd_open(child, &oo, &v));
	for (int i = 0; i < 12; i++) {
		uint64_t off = pl_rand(&seed) % ((8 << 20) - (300 << 10));
		size_t len = 512 + (size_t)(pl_rand(&seed) % (300 << 10));

		memset(got, 0x40 + i, len);
		cr_assert(!vhd_pwrite(v, got, len, off));
	}
	cr_assert(!vhd_pread(v, want, sizeof(want), 0));
	vhd_close(v);
	for (int f = 0; f < 2; f++) {
		snprintf(snap, sizeof(snap), "%s/snap/%s", pl_dir, names[f]);
		pl_copy(f ? child : base, snap);
		pl_track(f ? child : base);
	}
	pl_on = true;
	cr_assert(!vhd_commit(child, 0, NULL, NULL), "%s", vhd_last_error());
	pl_on = false;

	snprintf(sdir, sizeof(sdir), "%s/state", pl_dir);
	cr_assert(!mkdir(sdir, 0755));
	pl_path(schild, sizeof(schild), sdir, names[1]);
	pl_path(sbase, sizeof(sbase), sdir, names[0]);
	for (unsigned s = 0; s < pl_states(); s++) {
		size_t upto = (size_t)(pl_rand(&seed) % (pl_n + 1));
		struct vhd_open_opts ro = { .flags = VHD_OPEN_NOLOCK | VHD_OPEN_NOWARN_TS };
		struct vhd *sv;

		pl_state(sdir, names, upto, &seed);
		pl_check_clean(sbase, s, upto);
		pl_check_clean(schild, s, upto);
		/* As left (read-only), then after read-write opens recovered it. */
		for (int pass = 0; pass < 2; pass++) {
			if (pass) {
				pl_open_rw(sbase, s, upto);
				pl_open_rw(schild, s, upto);
			}
			cr_assert(!vhd_open(schild, &ro, &sv), "state %u (op %zu of %zu): %s", s,
				  upto, pl_n, vhd_last_error());
			cr_assert(!vhd_pread(sv, got, sizeof(got), 0),
				  "state %u (op %zu of %zu): %s", s, upto, pl_n, vhd_last_error());
			vhd_close(sv);
			cr_assert(!memcmp(got, want, sizeof(got)),
				  "state %u (op %zu of %zu): the chain reads other data (pass %d)",
				  s, upto, pl_n, pass);
		}
		if (s % 20 == 0) {   /* and re-running the commit finishes the job */
			cr_assert(!vhd_commit(schild, 0, NULL, NULL), "%s", vhd_last_error());
			cr_assert(!vhd_open(sbase, &ro, &sv));
			cr_assert(!vhd_pread(sv, got, sizeof(got), 0));
			vhd_close(sv);
			cr_assert(!memcmp(got, want, sizeof(got)), "state %u: re-run commit", s);
		}
	}
	cr_log_info("commit: %u states, %zu ops; all clean without repair, "
		    "%u images with an unpublished tail", pl_states(), pl_n, pl_tails);
}
