/* tests/unit/vhd/vhd_test.h: helpers shared by the vhd/ unit tests:
 * a scratch directory per test and deterministic data patterns. */
#ifndef VV_TESTS_VHD_TEST_H
#define VV_TESTS_VHD_TEST_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhd/vhd.h"

static char vt_dir[256];

/* Creates a fresh scratch directory (vt_dir) for the current test. */
static inline void vt_setup(void)
{
	snprintf(vt_dir, sizeof(vt_dir), "/tmp/vhdtest.XXXXXX");
	cr_assert_not_null(mkdtemp(vt_dir));
}

/* Removes the scratch directory and everything in it. */
static inline void vt_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vt_dir);
	if (system(cmd))
		cr_log_warn("cleanup of %s failed", vt_dir);
}

/* Path of @name inside the scratch directory (a static buffer per slot). */
static inline const char *vt_path(const char *name)
{
	static char bufs[8][512];
	static int slot;
	char *b = bufs[slot++ % 8];

	snprintf(b, 512, "%s/%s", vt_dir, name);
	return b;
}

/* Byte @i of pattern @seed: differs per offset and per seed. */
static inline uint8_t vt_byte(uint64_t i, unsigned seed)
{
	uint64_t x = i * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull;

	return (uint8_t)(x >> 56 ^ x >> 29);
}

static inline void vt_fill(uint8_t *buf, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = vt_byte(off + i, seed);
}

/* Creates an image or fails the test. */
static inline void vt_create(const char *path, enum vhd_type type, uint64_t size,
			     const char *parent)
{
	struct vhd_create_opts o = { .type = type, .size = size, .parent = parent };
	int ret = vhd_create(path, &o);

	cr_assert_eq(ret, 0, "create %s: %d %s", path, ret, vhd_last_error());
}

/* Opens an image or fails the test. */
static inline struct vhd *vt_open(const char *path, unsigned flags)
{
	struct vhd_open_opts o = { .flags = flags };
	struct vhd *v = NULL;
	int ret = vhd_open(path, &o, &v);

	cr_assert_eq(ret, 0, "open %s: %d %s", path, ret, vhd_last_error());
	return v;
}

#endif
