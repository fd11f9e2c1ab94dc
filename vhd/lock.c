/* vhd/lock.c: OFD locks on image files.
 *
 * Writers take an exclusive lock, readers a shared one, on the whole file,
 * so a writer conflicts with any other writer and with readers (a reader
 * opening an image being written, or the reverse, is refused), while any
 * number of readers coexist (parents shared by many children). OFD locks
 * belong to the open file description, so two opens in one process
 * conflict too, and they vanish when the last descriptor closes. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "vhd/vhd_int.h"

int vhd_lock(int fd, bool write, const char *path)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = write ? F_WRLCK : F_RDLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0;
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return vhd_err(-EBUSY, "%s: image is in use by another process", path);
	return vhd_err(-errno, "%s: cannot lock: %s", path, strerror(errno));
}
