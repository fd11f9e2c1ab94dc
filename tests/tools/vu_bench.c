/* tests/tools/vu_bench.c: a vhost-user-blk client with no guest, to measure
 * a back end on the host alone (ours, qemu-storage-daemon): it shares a
 * memfd as guest memory, sets up one split virtqueue and keeps DEPTH
 * requests in flight.
 *
 *   vu_bench SOCKET read|write|randread|randwrite BLOCK DEPTH MIB|SECSs
 *
 * Moves MIB MiB (or, with a number followed by "s", keeps going for that
 * many seconds) in BLOCK-byte requests (sequential, or random
 * block-aligned offsets in the first half of the disk), then prints
 * "MIB_PER_S IOPS BYTES SECONDS" on stdout. Exit 1 on any failure (a
 * request status other than OK included). Self-contained: links nothing
 * of ours. */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QSZ     256u
#define MEMSZ   (64u << 20)
#define UVA     0x7f0000000000ull
#define DESC    0x0u
#define AVAIL   0x1000u
#define USED    0x2000u
#define HDRS    0x4000u            /* 16-byte headers, one per slot */
#define STATUS  0x8000u            /* one byte per slot */
#define DATA    0x100000u          /* data buffers, BLOCK bytes per slot */

static int sock;
static uint8_t *mem;

static void die(const char *what)
{
	fprintf(stderr, "vu_bench: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
	exit(1);
}

static void msg_send(uint32_t req, const void *payload, uint32_t size, int fd)
{
	uint8_t buf[12 + 256];
	uint32_t flags = 1;
	struct iovec iov = { buf, 12 + size };
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } ctl;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	memcpy(buf + 12, payload, size);
	if (fd >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	if (sendmsg(sock, &mh, 0) != (ssize_t)(12 + size))
		die("send");
}

static void msg_reply(void *payload, uint32_t size)
{
	uint8_t hdr[12];
	uint32_t got;

	if (recv(sock, hdr, 12, MSG_WAITALL) != 12)
		die("reply header");
	memcpy(&got, hdr + 8, 4);
	if (got != size || recv(sock, payload, size, MSG_WAITALL) != (ssize_t)size)
		die("reply payload");
}

static uint64_t get_u64(uint32_t req)
{
	uint64_t v;

	msg_send(req, NULL, 0, -1);
	msg_reply(&v, 8);
	return v;
}

static void set_u64(uint32_t req, uint64_t v) { msg_send(req, &v, 8, -1); }
static void set_state(uint32_t req, uint32_t idx, uint32_t num)
{
	uint32_t st[2] = { idx, num };

	msg_send(req, st, 8, -1);
}

static void put16(uint32_t off, uint16_t v) { v = htole16(v); __atomic_store_n((uint16_t *)(mem + off), v, __ATOMIC_RELEASE); }
static uint16_t get16(uint32_t off) { return le16toh(__atomic_load_n((uint16_t *)(mem + off), __ATOMIC_ACQUIRE)); }

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = mem + DESC + 16 * i;

	addr = htole64(addr);
	len = htole32(len);
	flags = htole16(flags);
	next = htole16(next);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t block, depth, total, capacity, done = 0, issued = 0, seq = 0;
	double secs = 0;
	char *end;
	uint16_t avail_idx = 0, used_seen = 0;
	int wr, rnd, memfd, kick, call;
	uint8_t cfg[12 + 8] = { 0 };
	uint32_t cfglen = 8;

	if (argc != 6)
		die("usage: vu_bench SOCKET read|write|randread|randwrite BLOCK DEPTH MIB|SECSs");
	wr = strstr(argv[2], "write") != NULL;
	rnd = !strncmp(argv[2], "rand", 4);
	block = strtoull(argv[3], NULL, 0);
	depth = strtoull(argv[4], NULL, 0);
	total = strtoull(argv[5], &end, 0);
	if (*end == 's') {
		secs = (double)total;
		total = UINT64_MAX;   /* until the time is up */
	} else {
		total <<= 20;
	}
	if (!total || (*end && *end != 's'))
		die("bad MIB or SECSs");
	if (!block || block % 512 || !depth || depth > QSZ / 3 || block * depth > MEMSZ - DATA)
		die("bad BLOCK or DEPTH");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	memfd = memfd_create("vu_bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0 || ftruncate(memfd, MEMSZ))
		die("memfd");
	mem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	kick = eventfd(0, EFD_CLOEXEC);
	call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mem == MAP_FAILED || kick < 0 || call < 0)
		die("setup");

	uint64_t feat = get_u64(1);                                  /* GET_FEATURES */
	uint64_t want = 1ull << 32 | 1ull << 30;                     /* VERSION_1, PROTOCOL_FEATURES */
	if ((feat & want) != want)
		die("back end lacks VERSION_1 or PROTOCOL_FEATURES");
	uint64_t pf = get_u64(15) & (1ull << 0 | 1ull << 9);        /* MQ, CONFIG */
	set_u64(16, pf);
	msg_send(3, NULL, 0, -1);                                    /* SET_OWNER */
	memcpy(cfg + 4, &cfglen, 4);                                 /* offset 0, 8 bytes: capacity */
	msg_send(24, cfg, sizeof(cfg), -1);
	msg_reply(cfg, sizeof(cfg));
	memcpy(&capacity, cfg + 12, 8);
	capacity = le64toh(capacity) * 512;
	if (capacity < 2 * block)
		die("disk too small");
	set_u64(2, want);                                            /* SET_FEATURES */
	uint64_t region[5] = { 1, 0, MEMSZ, UVA, 0 };               /* n, gpa, size, uva, offset */
	uint8_t mt[8 + 32];
	memset(mt, 0, sizeof(mt));
	memcpy(mt, &region[0], 4);
	memcpy(mt + 8, &region[1], 32);
	msg_send(5, mt, sizeof(mt), memfd);                          /* SET_MEM_TABLE */
	set_state(8, 0, QSZ);                                        /* SET_VRING_NUM */
	uint64_t addr[5] = { 0, UVA + DESC, UVA + USED, UVA + AVAIL, 0 };
	msg_send(9, addr, sizeof(addr), -1);                         /* index/flags in addr[0] = 0 */
	set_state(10, 0, 0);                                         /* SET_VRING_BASE */
	uint64_t zero = 0;
	msg_send(13, &zero, 8, call);                                /* SET_VRING_CALL */
	msg_send(12, &zero, 8, kick);                                /* SET_VRING_KICK */
	set_state(18, 0, 1);                                         /* SET_VRING_ENABLE */

	/* Slot s: descriptors 3s (header), 3s+1 (data), 3s+2 (status). */
	for (unsigned s = 0; s < depth; s++) {
		desc(3 * s, HDRS + 16 * s, 16, 1, (uint16_t)(3 * s + 1));
		desc(3 * s + 1, DATA + block * s, (uint32_t)block, wr ? 1 : 3, (uint16_t)(3 * s + 2));
		desc(3 * s + 2, STATUS + s, 1, 2, 0);
		memset(mem + DATA + block * s, 0x5a, block);
	}
	srandom(1);
	double t0 = now();
	uint64_t span = (capacity / 2) / block;
	unsigned free_slots[QSZ], nfree = 0;

	for (unsigned s = 0; s < depth; s++)
		free_slots[nfree++] = s;
	while (done < issued || issued < total) {
		if (secs > 0 && total == UINT64_MAX && now() - t0 >= secs)
			total = issued;   /* stop issuing, drain what is in flight */
		while (nfree && issued < total) {
			unsigned s = free_slots[--nfree];
			uint64_t blk = rnd ? (uint64_t)random() % span : seq++ % span;
			uint32_t type = htole32(wr ? 1 : 0);
			uint64_t sector = htole64(blk * block / 512);

			memcpy(mem + HDRS + 16 * s, &type, 4);
			memset(mem + HDRS + 16 * s + 4, 0, 4);
			memcpy(mem + HDRS + 16 * s + 8, &sector, 8);
			mem[STATUS + s] = 0xff;
			put16(AVAIL + 4 + 2 * (avail_idx % QSZ), (uint16_t)(3 * s));
			put16(AVAIL + 2, ++avail_idx);
			issued += block;
		}
		if (done == issued)
			break;
		uint64_t one = 1;
		if (write(kick, &one, 8) != 8)
			die("kick");
		struct pollfd p = { .fd = call, .events = POLLIN };
		if (get16(USED + 2) == used_seen && poll(&p, 1, 10000) != 1)
			die("no completion in 10 s");
		uint64_t v;
		if (read(call, &v, 8) < 0 && errno != EAGAIN)
			die("call");
		while (used_seen != get16(USED + 2)) {
			uint32_t id;

			memcpy(&id, mem + USED + 4 + 8 * (used_seen % QSZ), 4);
			id = le32toh(id);
			used_seen++;
			if (id % 3 || id / 3 >= depth || mem[STATUS + id / 3] != 0)
				die("a request failed");
			free_slots[nfree++] = id / 3;
			done += block;
		}
	}
	double t = now() - t0;
	printf("%.1f %.0f %llu %.6f\n", (double)done / t / (1 << 20), (double)(done / block) / t,
	       (unsigned long long)done, t);
	return 0;
}
