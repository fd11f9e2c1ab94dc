/* tests/integration/failopen.c: an LD_PRELOAD library that makes
 * read-write opens fail with EIO, to break a live disk switch after its
 * checks. VV_FAIL_OPEN="SPEC;SPEC..." with SPEC = PATH=N: read-write opens
 * of PATH fail after the first N; a PATH ending in '*' matches every path
 * starting with what precedes it. VV_FAIL_OPEN_EXCEPT=PATH is never
 * failed. Build: gcc -shared -fPIC -o failopen.so failopen.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hits[8];

static int matches(const char *pat, const char *path)
{
	size_t n = strlen(pat);

	if (n && pat[n - 1] == '*')
		return !strncmp(pat, path, n - 1);
	return !strcmp(pat, path);
}

static int should_fail(const char *path, int flags)
{
	const char *spec = getenv("VV_FAIL_OPEN"), *except = getenv("VV_FAIL_OPEN_EXCEPT");
	char buf[8192], *save = NULL, *tok;
	int i = 0;

	if (!spec || (flags & O_ACCMODE) != O_RDWR || (except && !strcmp(except, path)))
		return 0;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ";", &save); tok && i < 8; tok = strtok_r(NULL, ";", &save), i++) {
		char *eq = strrchr(tok, '=');

		if (eq) {
			*eq = 0;
			if (matches(tok, path))
				return __atomic_add_fetch(&hits[i], 1, __ATOMIC_SEQ_CST) > atoi(eq + 1);
		}
	}
	return 0;
}

static int do_open(const char *sym, const char *path, int flags, va_list ap)
{
	int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;

	if (should_fail(path, flags)) {
		errno = EIO;
		return -1;
	}
	return real(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = do_open("open64", path, flags, ap);
	va_end(ap);
	return fd;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	int fd;

	va_start(ap, flags);
	fd = do_open("open", path, flags, ap);
	va_end(ap);
	return fd;
}
