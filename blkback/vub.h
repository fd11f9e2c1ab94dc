/* blkback/vub.h: the vhost-user-blk front end: serves one block image to
 * a vhost-user front end (QEMU's `-device vhost-user-blk-pci,chardev=...`,
 * anyone's vhost-user client) over a Unix socket. The guest's memory is
 * shared with us (SET_MEM_TABLE fds); its virtqueues are parsed by
 * virtio/ and its requests run on a bdev (blkback/bdev.h).
 *
 * One client at a time (as qemu-storage-daemon's export): when it
 * disconnects, every queue is drained and the next client is accepted.
 */
#ifndef VV_BLKBACK_VUB_H
#define VV_BLKBACK_VUB_H

#include <stdbool.h>

struct bdev;
struct vub_server;

#define VUB_MAX_QUEUES 16

struct vub_opts {
	unsigned num_queues;      /* 1..VUB_MAX_QUEUES; 0 = 1 */
	bool read_only;           /* VIRTIO_BLK_F_RO; also implied by a read-only image */
	const char *serial;       /* GET_ID answer (up to 20 bytes used); NULL = none */
};

/* Creates a server for @dev (which the caller keeps and destroys after
 * vub_server_destroy()). 0 or -errno. */
int vub_server_create(struct bdev *dev, const struct vub_opts *o, struct vub_server **out);

/* Serves clients that connect to @listen_fd (a listening Unix socket, as
 * usock_listen() makes) one after the other until @stop_fd becomes
 * readable (a signalfd, an eventfd; not read here). Bad clients are logged
 * and dropped; they never end the loop. Returns 0 when stopped, -errno
 * when accepting fails for good. Runs on the calling thread; queue threads
 * are its own. */
int vub_server_run(struct vub_server *srv, int listen_fd, int stop_fd);

/* Frees the server (not running); accepts NULL. */
void vub_server_destroy(struct vub_server *srv);

#endif
