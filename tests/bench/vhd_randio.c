/* tests/bench/vhd_randio.c: random 4 KiB reads or writes through the VHD
 * library, timed. Offsets come from a seeded generator shared with the
 * command list given to qemu-io, so both tools touch the same sectors.
 *
 *   vhd_randio IMAGE read|write COUNT SPAN_BYTES SEED
 * Prints "N ops in S s: R ops/s". With "qemu-read" or "qemu-write" instead
 * of read|write it prints the same requests as qemu-io commands instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vhd/vhd.h"

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	struct vhd_open_opts o = { 0 };
	struct timespec a, b;
	struct vhd *v;
	uint64_t count, span, seed;
	char buf[4096];
	bool wr;
	int rc;

	if (argc != 6) {
		fprintf(stderr, "usage: vhd_randio IMAGE read|write COUNT SPAN SEED\n");
		return 2;
	}
	wr = !strcmp(argv[2], "write");
	count = strtoull(argv[3], NULL, 0);
	span = strtoull(argv[4], NULL, 0) / 4096;
	seed = strtoull(argv[5], NULL, 0) | 1;
	if (!strncmp(argv[2], "qemu-", 5)) {
		for (uint64_t i = 0; i < count; i++)
			printf("%s %llu 4k\n", argv[2] + 5,
			       (unsigned long long)((next_rand(&seed) % span) * 4096));
		return 0;
	}
	o.flags = wr ? VHD_OPEN_RDWR : 0;
	rc = vhd_open(argv[1], &o, &v);
	if (rc) {
		fprintf(stderr, "%s: %s\n", argv[1], vhd_last_error());
		return 1;
	}
	memset(buf, 0x5c, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (uint64_t i = 0; i < count && !rc; i++) {
		uint64_t off = (next_rand(&seed) % span) * 4096;

		rc = wr ? vhd_pwrite(v, buf, sizeof(buf), off) : vhd_pread(v, buf, sizeof(buf), off);
	}
	if (!rc && wr)
		rc = vhd_flush(v);
	clock_gettime(CLOCK_MONOTONIC, &b);
	vhd_close(v);
	if (rc) {
		fprintf(stderr, "I/O failed: %s\n", vhd_last_error());
		return 1;
	}
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%llu ops in %.3f s: %.0f ops/s\n", (unsigned long long)count, s, count / s);
	return 0;
}
