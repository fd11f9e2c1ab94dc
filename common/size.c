/* common/size.c: parsing and printing sizes with binary suffixes. */
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int u64_parse(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int size_parse(const char *s, uint64_t *out)
{
	static const char units[] = "BKMGTPE";
	const char *u;
	char *end;
	unsigned long long v;
	unsigned shift;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s)
		return -EINVAL;
	if (!*end) {
		*out = v;
		return 0;
	}
	u = strchr(units, toupper((unsigned char)*end));
	if (!u)
		return -EINVAL;
	shift = 10 * (unsigned)(u - units);
	end++;
	if (*end && strcasecmp(end, "iB") && strcasecmp(end, "B"))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

char *size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned i = 0;
	double v = (double)bytes;

	while (v >= 1024.0 && i + 1 < ARRAY_SIZE(units)) {
		v /= 1024.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else if (bytes % (1ULL << (10 * i)) == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)(bytes >> (10 * i)), units[i]);
	else {
		/* two decimals, trailing zeros trimmed: "1.5 GiB", "1.99 TiB" */
		char num[32];
		size_t n;

		snprintf(num, sizeof(num), "%.2f", v);
		n = strlen(num);
		while (num[n - 1] == '0')
			num[--n] = '\0';
		if (num[n - 1] == '.')
			num[--n] = '\0';
		snprintf(buf, len, "%s %s", num, units[i]);
	}
	return buf;
}
