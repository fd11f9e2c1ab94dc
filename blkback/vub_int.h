/* blkback/vub_int.h: the vhost-user-blk server's insides: the protocol's
 * numbers (QEMU docs/interop/vhost-user.rst), the connection and queue
 * state, shared by vub_server.c (socket, messages) and vub_queue.c (queue
 * threads, virtio-blk requests). */
#ifndef VV_BLKBACK_VUB_INT_H
#define VV_BLKBACK_VUB_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "blkback/vub.h"
#include "virtio/vmem.h"
#include "virtio/vring.h"

/* Front-end messages */
enum {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
};

#define VHOST_USER_VERSION       0x1u
#define VHOST_USER_VERSION_MASK  0x3u
#define VHOST_USER_REPLY_MASK    0x4u
#define VHOST_USER_NEED_REPLY    0x8u
#define VHOST_USER_HDR_SIZE      12u
#define VHOST_USER_MAX_PAYLOAD   4096u   /* ours: the biggest message is < 300 bytes */
#define VHOST_USER_MAX_FDS       8u
#define VHOST_USER_VRING_NOFD    0x100u  /* u64 of SET_VRING_KICK/CALL/ERR */
#define VHOST_USER_VRING_IDX     0xffu
#define VHOST_USER_CONFIG_HDR    12u     /* offset, size, flags */
#define VHOST_USER_CONFIG_MAX    256u

/* Virtio feature bit: the protocol-feature messages exist. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30

/* Protocol feature bits */
#define VHOST_USER_PROTOCOL_F_MQ        0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_CONFIG    9

struct vub_conn;

/* One virtqueue. The fields up to `lock` are the connection thread's; the
 * queue thread reads them only while it runs (started after they are set,
 * joined before they change). */
struct vub_queue {
	struct vub_conn *conn;
	unsigned index;
	unsigned num;                 /* SET_VRING_NUM, 0 = unset */
	bool addr_set;
	uint64_t desc_uva, avail_uva, used_uva;
	uint16_t base;                /* SET_VRING_BASE; GET_VRING_BASE's answer once stopped */
	int kick_fd, call_fd, err_fd; /* -1 = none */
	bool enabled;                 /* SET_VRING_ENABLE (or no protocol features) */
	bool broken;                  /* the guest broke it: no more processing until reset */
	bool running;                 /* the thread runs */
	pthread_t thread;
	int stop_fd;                  /* eventfd: tells the thread to stop */
	struct vring vr;

	pthread_mutex_t lock;         /* vr's used side, call_fd writes, inflight */
	pthread_cond_t idle;          /* inflight reached 0 */
	unsigned inflight;
	uint64_t requests;            /* served so far (this connection) */
	unsigned warned;              /* bad requests logged (capped) */
};

struct vub_mapping {
	void *addr;
	size_t len;
};

struct vub_conn {
	struct vub_server *srv;
	int fd;
	uint64_t features;            /* SET_FEATURES */
	uint64_t protocol_features;   /* SET_PROTOCOL_FEATURES */
	bool owner;
	struct vmem mem;
	struct vub_mapping maps[VMEM_MAX_REGIONS];
	struct vub_queue q[VUB_MAX_QUEUES];
};

struct vub_server {
	struct bdev *dev;
	struct vub_opts o;
	bool read_only;
	uint64_t capacity;            /* sectors */
	char serial[21];
};

/* vub_queue.c */
void vub_queue_init(struct vub_queue *vq, struct vub_conn *c, unsigned index);
/* Starts the thread when the queue is complete (memory, size, addresses,
 * kick fd, enabled) and not broken. 0, or -errno when it cannot (logged). */
int vub_queue_maybe_start(struct vub_queue *vq);
/* Stops the thread and waits for the queue's requests to finish. */
void vub_queue_stop(struct vub_queue *vq);
/* Stops, closes the fds and forgets everything but the index. */
void vub_queue_reset(struct vub_queue *vq);
/* The virtio features the device offers (without the protocol bit). */
uint64_t vub_device_features(const struct vub_server *srv);

#endif
