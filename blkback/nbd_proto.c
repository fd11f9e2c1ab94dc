/* blkback/nbd_proto.c: encode/decode of the NBD wire headers. */
#include "blkback/nbd_proto.h"

#include <errno.h>

void nbd_request_decode(const uint8_t b[NBD_REQUEST_LEN], struct nbd_request *r)
{
	r->magic = nbd_get32(b);
	r->flags = nbd_get16(b + 4);
	r->type = nbd_get16(b + 6);
	r->cookie = nbd_get64(b + 8);
	r->offset = nbd_get64(b + 16);
	r->length = nbd_get32(b + 24);
}

void nbd_request_encode(const struct nbd_request *r, uint8_t b[NBD_REQUEST_LEN])
{
	nbd_put32(b, r->magic);
	nbd_put16(b + 4, r->flags);
	nbd_put16(b + 6, r->type);
	nbd_put64(b + 8, r->cookie);
	nbd_put64(b + 16, r->offset);
	nbd_put32(b + 24, r->length);
}

void nbd_opt_hdr_decode(const uint8_t b[NBD_OPT_HDR_LEN], struct nbd_opt_hdr *h)
{
	h->magic = nbd_get64(b);
	h->option = nbd_get32(b + 8);
	h->length = nbd_get32(b + 12);
}

void nbd_simple_reply_encode(uint32_t error, uint64_t cookie,
			     uint8_t b[NBD_SIMPLE_REPLY_LEN])
{
	nbd_put32(b, NBD_SIMPLE_REPLY_MAGIC);
	nbd_put32(b + 4, error);
	nbd_put64(b + 8, cookie);
}

void nbd_chunk_hdr_encode(uint16_t flags, uint16_t type, uint64_t cookie,
			  uint32_t length, uint8_t b[NBD_CHUNK_HDR_LEN])
{
	nbd_put32(b, NBD_STRUCTURED_REPLY_MAGIC);
	nbd_put16(b + 4, flags);
	nbd_put16(b + 6, type);
	nbd_put64(b + 8, cookie);
	nbd_put32(b + 16, length);
}

void nbd_opt_reply_encode(uint32_t option, uint32_t type, uint32_t length,
			  uint8_t b[NBD_OPT_REPLY_LEN])
{
	nbd_put64(b, NBD_REP_MAGIC);
	nbd_put32(b + 8, option);
	nbd_put32(b + 12, type);
	nbd_put32(b + 16, length);
}

uint32_t nbd_errno_encode(int err)
{
	switch (-err) {
	case 0:
		return 0;
	case EPERM:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return NBD_ENOSPC;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ENOTSUP:
		return NBD_ENOTSUP;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}
