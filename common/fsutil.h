/* common/fsutil.h: small file-system helpers shared by every program. */
#ifndef VV_COMMON_FSUTIL_H
#define VV_COMMON_FSUTIL_H

/* Creates @path and every missing folder above it, each with mode 0700
 * (less the umask); folders that exist are left as they are. 0, or -errno
 * of the mkdir that failed (-ENAMETOOLONG past 4 KiB). */
int fs_mkdir_p(const char *path);

#endif
