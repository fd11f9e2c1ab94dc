/* common/util.h: small helpers shared by every program. */
#ifndef VV_COMMON_UTIL_H
#define VV_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* The value of hex digit @c (0-9, a-f, A-F), or -1 for any other char. */
static inline int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses a size with an optional binary suffix (K, M, G, T, P; an optional
 * "iB" or "B" after it; K = 1024) or a plain number of bytes.
 * Returns 0 and sets *out, or -EINVAL (not a size) / -ERANGE (overflow). */
int size_parse(const char *s, uint64_t *out);

/* Formats @bytes for humans ("1.5 GiB", "512 B") into @buf. Returns @buf. */
char *size_format(uint64_t bytes, char *buf, size_t len);

/* Parses a non-negative decimal or 0x-hex integer that fits in uint64_t.
 * Returns 0 or -EINVAL / -ERANGE. */
int u64_parse(const char *s, uint64_t *out);

#endif
