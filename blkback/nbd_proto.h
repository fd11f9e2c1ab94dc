/* blkback/nbd_proto.h: the NBD wire protocol: constants and the
 * encode/decode of its fixed-size headers (big-endian on the wire).
 * Facts from the NBD protocol document (doc/proto.md of the NBD project):
 * fixed newstyle negotiation, structured replies, metadata contexts. */
#ifndef VV_BLKBACK_NBD_PROTO_H
#define VV_BLKBACK_NBD_PROTO_H

#include <stdint.h>

#define NBD_MAGIC             0x4e42444d41474943ull  /* "NBDMAGIC" */
#define NBD_OPTS_MAGIC        0x49484156454f5054ull  /* "IHAVEOPT" */
#define NBD_REP_MAGIC         0x0003e889045565a9ull
#define NBD_REQUEST_MAGIC     0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u
#define NBD_STRUCTURED_REPLY_MAGIC 0x668e33efu

/* handshake flags (server) and client flags */
#define NBD_FLAG_FIXED_NEWSTYLE  (1u << 0)
#define NBD_FLAG_NO_ZEROES       (1u << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)
#define NBD_FLAG_C_NO_ZEROES     (1u << 1)

/* options */
#define NBD_OPT_EXPORT_NAME       1
#define NBD_OPT_ABORT             2
#define NBD_OPT_LIST              3
#define NBD_OPT_STARTTLS          5
#define NBD_OPT_INFO              6
#define NBD_OPT_GO                7
#define NBD_OPT_STRUCTURED_REPLY  8
#define NBD_OPT_LIST_META_CONTEXT 9
#define NBD_OPT_SET_META_CONTEXT  10

/* option replies */
#define NBD_REP_ACK          1u
#define NBD_REP_SERVER       2u
#define NBD_REP_INFO         3u
#define NBD_REP_META_CONTEXT 4u
#define NBD_REP_ERR_UNSUP    (0x80000000u | 1)
#define NBD_REP_ERR_POLICY   (0x80000000u | 2)
#define NBD_REP_ERR_INVALID  (0x80000000u | 3)
#define NBD_REP_ERR_TLS_REQD (0x80000000u | 5)
#define NBD_REP_ERR_UNKNOWN  (0x80000000u | 6)

/* NBD_REP_INFO types */
#define NBD_INFO_EXPORT      0
#define NBD_INFO_NAME        1
#define NBD_INFO_DESCRIPTION 2
#define NBD_INFO_BLOCK_SIZE  3

/* transmission flags */
#define NBD_FLAG_HAS_FLAGS         (1u << 0)
#define NBD_FLAG_READ_ONLY         (1u << 1)
#define NBD_FLAG_SEND_FLUSH        (1u << 2)
#define NBD_FLAG_SEND_FUA          (1u << 3)
#define NBD_FLAG_SEND_TRIM         (1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_SEND_DF           (1u << 7)
#define NBD_FLAG_CAN_MULTI_CONN    (1u << 8)

/* commands and their flags */
#define NBD_CMD_READ          0
#define NBD_CMD_WRITE         1
#define NBD_CMD_DISC          2
#define NBD_CMD_FLUSH         3
#define NBD_CMD_TRIM          4
#define NBD_CMD_CACHE         5
#define NBD_CMD_WRITE_ZEROES  6
#define NBD_CMD_BLOCK_STATUS  7

#define NBD_CMD_FLAG_FUA      (1u << 0)
#define NBD_CMD_FLAG_NO_HOLE  (1u << 1)
#define NBD_CMD_FLAG_DF       (1u << 2)
#define NBD_CMD_FLAG_REQ_ONE  (1u << 3)
#define NBD_CMD_FLAG_FAST_ZERO (1u << 4)

/* structured reply chunks */
#define NBD_REPLY_FLAG_DONE         (1u << 0)
#define NBD_REPLY_TYPE_NONE         0
#define NBD_REPLY_TYPE_OFFSET_DATA  1
#define NBD_REPLY_TYPE_OFFSET_HOLE  2
#define NBD_REPLY_TYPE_BLOCK_STATUS 5
#define NBD_REPLY_TYPE_ERROR        ((1u << 15) + 1)

/* base:allocation */
#define NBD_STATE_HOLE 1u
#define NBD_STATE_ZERO 2u

/* errors on the wire */
#define NBD_EPERM      1
#define NBD_EIO        5
#define NBD_ENOMEM     12
#define NBD_EINVAL     22
#define NBD_ENOSPC     28
#define NBD_EOVERFLOW  75
#define NBD_ENOTSUP    95
#define NBD_ESHUTDOWN  108

#define NBD_REQUEST_LEN      28
#define NBD_SIMPLE_REPLY_LEN 16
#define NBD_CHUNK_HDR_LEN    20
#define NBD_OPT_HDR_LEN      16
#define NBD_OPT_REPLY_LEN    20

struct nbd_request {
	uint32_t magic;
	uint16_t flags;
	uint16_t type;
	uint64_t cookie;
	uint64_t offset;
	uint32_t length;
};

struct nbd_opt_hdr {
	uint64_t magic;
	uint32_t option;
	uint32_t length;
};

void nbd_request_decode(const uint8_t b[NBD_REQUEST_LEN], struct nbd_request *r);
void nbd_request_encode(const struct nbd_request *r, uint8_t b[NBD_REQUEST_LEN]);
void nbd_opt_hdr_decode(const uint8_t b[NBD_OPT_HDR_LEN], struct nbd_opt_hdr *h);
void nbd_simple_reply_encode(uint32_t error, uint64_t cookie,
			     uint8_t b[NBD_SIMPLE_REPLY_LEN]);
void nbd_chunk_hdr_encode(uint16_t flags, uint16_t type, uint64_t cookie,
			  uint32_t length, uint8_t b[NBD_CHUNK_HDR_LEN]);
void nbd_opt_reply_encode(uint32_t option, uint32_t type, uint32_t length,
			  uint8_t b[NBD_OPT_REPLY_LEN]);

/* Maps a -errno of ours to the NBD error sent on the wire. */
uint32_t nbd_errno_encode(int err);

/* Big-endian helpers. */
static inline void nbd_put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void nbd_put32(uint8_t *b, uint32_t v)
{
	nbd_put16(b, (uint16_t)(v >> 16));
	nbd_put16(b + 2, (uint16_t)v);
}

static inline void nbd_put64(uint8_t *b, uint64_t v)
{
	nbd_put32(b, (uint32_t)(v >> 32));
	nbd_put32(b + 4, (uint32_t)v);
}

static inline uint16_t nbd_get16(const uint8_t *b)
{
	return (uint16_t)((b[0] << 8) | b[1]);
}

static inline uint32_t nbd_get32(const uint8_t *b)
{
	return ((uint32_t)nbd_get16(b) << 16) | nbd_get16(b + 2);
}

static inline uint64_t nbd_get64(const uint8_t *b)
{
	return ((uint64_t)nbd_get32(b) << 32) | nbd_get32(b + 4);
}

#endif
