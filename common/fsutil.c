/* common/fsutil.c: see fsutil.h. */
#include "common/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int fs_mkdir_p(const char *path)
{
	char buf[4800];

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}
