/* tests/bench/guest_diskbench.c: the disk workload run inside the bench
 * guest (built with gcc -static into the initramfs that
 * tests/bench/disk_transports.sh assembles). All I/O is O_DIRECT on the
 * block device; the random rows keep DEPTH requests in flight through the
 * kernel's native AIO (io_setup/io_submit/io_getevents as raw system
 * calls, no libaio).
 *
 *   guest_diskbench DEV SEQ_MIB RAND_SECS SPAN_MIB DEPTH
 *
 * Phases, in order: seqwrite, seqread (SEQ_MIB MiB from offset 0 in 1 MiB
 * requests, one at a time, like dd oflag=direct), randread, randwrite
 * (4 KiB at random 4 KiB-aligned offsets in the first SPAN_MIB MiB, DEPTH in
 * flight, for RAND_SECS seconds). Before each phase it prints
 * "VV-BENCH-BEGIN <phase>" and sleeps 0.5 s so the host can sample its CPU
 * counters while the disk is idle; after it, "VV-BENCH-END <phase> <bytes>
 * <ns> <ops>". Any failure prints "VV-BENCH-FAIL <phase> <reason>" and exits
 * 1. Written data is a fixed non-zero pattern (no zero detection helps). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK  (1u << 20)
#define RAND_BLOCK 4096u
#define MAX_DEPTH  64u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fail(const char *phase, const char *what, int err)
{
	printf("VV-BENCH-FAIL %s %s: %s\n", phase, what, strerror(err));
	fflush(stdout);
	exit(1);
}

static void begin(const char *phase)
{
	printf("VV-BENCH-BEGIN %s\n", phase);
	fflush(stdout);
	usleep(500000);
}

static void end(const char *phase, uint64_t bytes, uint64_t ns, uint64_t ops)
{
	printf("VV-BENCH-END %s %llu %llu %llu\n", phase, (unsigned long long)bytes,
	       (unsigned long long)ns, (unsigned long long)ops);
	fflush(stdout);
}

static void seq(int fd, const char *phase, int wr, uint64_t bytes, uint8_t *buf)
{
	uint64_t t0, off;

	begin(phase);
	t0 = now_ns();
	for (off = 0; off < bytes; off += SEQ_BLOCK) {
		ssize_t n = wr ? pwrite(fd, buf, SEQ_BLOCK, (off_t)off)
			       : pread(fd, buf, SEQ_BLOCK, (off_t)off);

		if (n != (ssize_t)SEQ_BLOCK)
			fail(phase, wr ? "pwrite" : "pread", n < 0 ? errno : EIO);
	}
	if (wr && fdatasync(fd))
		fail(phase, "fdatasync", errno);
	end(phase, bytes, now_ns() - t0, bytes / SEQ_BLOCK);
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void rnd(int fd, const char *phase, int wr, unsigned secs, uint64_t span,
		unsigned depth, uint8_t *bufs)
{
	aio_context_t ctx = 0;
	struct iocb cbs[MAX_DEPTH], *one;
	struct io_event ev[MAX_DEPTH];
	uint64_t seed = 0x9e3779b97f4a7c15ull, blocks = span / RAND_BLOCK, ops = 0, t0, stop;
	unsigned inflight = 0;
	int issuing = 1;

	if (syscall(SYS_io_setup, depth, &ctx))
		fail(phase, "io_setup", errno);
	begin(phase);
	t0 = now_ns();
	stop = t0 + (uint64_t)secs * 1000000000ull;
	memset(cbs, 0, sizeof(cbs));
	for (unsigned i = 0; i < depth; i++) {
		cbs[i].aio_data = i;
		cbs[i].aio_fildes = (uint32_t)fd;
		cbs[i].aio_lio_opcode = wr ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
		cbs[i].aio_buf = (uint64_t)(uintptr_t)(bufs + (size_t)i * RAND_BLOCK);
		cbs[i].aio_nbytes = RAND_BLOCK;
	}
	for (unsigned i = 0; i < depth; i++) {
		cbs[i].aio_offset = (int64_t)(next_rand(&seed) % blocks * RAND_BLOCK);
		one = &cbs[i];
		if (syscall(SYS_io_submit, ctx, 1, &one) != 1)
			fail(phase, "io_submit", errno);
		inflight++;
	}
	while (inflight) {
		long n = syscall(SYS_io_getevents, ctx, 1, (long)depth, ev, NULL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail(phase, "io_getevents", errno);
		}
		if (issuing && now_ns() >= stop)
			issuing = 0;
		for (long k = 0; k < n; k++) {
			struct iocb *cb = &cbs[ev[k].data];

			if (ev[k].res != (int64_t)RAND_BLOCK)
				fail(phase, "request", ev[k].res < 0 ? (int)-ev[k].res : EIO);
			ops++;
			inflight--;
			if (!issuing)
				continue;
			cb->aio_offset = (int64_t)(next_rand(&seed) % blocks * RAND_BLOCK);
			one = cb;
			if (syscall(SYS_io_submit, ctx, 1, &one) != 1)
				fail(phase, "io_submit", errno);
			inflight++;
		}
	}
	if (wr && fdatasync(fd))
		fail(phase, "fdatasync", errno);
	uint64_t ns = now_ns() - t0;

	syscall(SYS_io_destroy, ctx);
	end(phase, ops * RAND_BLOCK, ns, ops);
}

int main(int argc, char **argv)
{
	uint64_t seq_bytes, span;
	unsigned secs, depth;
	uint8_t *buf;
	int fd;

	if (argc != 6) {
		fprintf(stderr, "usage: guest_diskbench DEV SEQ_MIB RAND_SECS SPAN_MIB DEPTH\n");
		return 2;
	}
	seq_bytes = strtoull(argv[2], NULL, 0) << 20;
	secs = (unsigned)strtoul(argv[3], NULL, 0);
	span = strtoull(argv[4], NULL, 0) << 20;
	depth = (unsigned)strtoul(argv[5], NULL, 0);
	if (!seq_bytes || !secs || span < RAND_BLOCK || !depth || depth > MAX_DEPTH) {
		fprintf(stderr, "guest_diskbench: bad arguments\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0)
		fail("open", argv[1], errno);
	if (posix_memalign((void **)&buf, 4096, SEQ_BLOCK))
		fail("setup", "posix_memalign", ENOMEM);
	for (size_t i = 0; i < SEQ_BLOCK; i++)
		buf[i] = (uint8_t)(0xa5 ^ (i >> 12) ^ i);
	seq(fd, "seqwrite", 1, seq_bytes, buf);
	seq(fd, "seqread", 0, seq_bytes, buf);
	/* 64 x 4 KiB of the same 1 MiB buffer, one slot per request */
	rnd(fd, "randread", 0, secs, span, depth, buf);
	for (size_t i = 0; i < SEQ_BLOCK; i++)
		buf[i] = (uint8_t)(0x5a ^ (i >> 12) ^ i);
	rnd(fd, "randwrite", 1, secs, span, depth, buf);
	close(fd);
	printf("VV-BENCH-DONE\n");
	fflush(stdout);
	return 0;
}
