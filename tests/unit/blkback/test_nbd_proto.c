/* tests/unit/blkback/test_nbd_proto.c: NBD wire headers, byte for byte. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "blkback/nbd_proto.h"

Test(nbd_proto, request_roundtrip_is_big_endian)
{
	struct nbd_request r = {
		.magic = NBD_REQUEST_MAGIC, .flags = NBD_CMD_FLAG_FUA, .type = NBD_CMD_WRITE,
		.cookie = 0x0102030405060708ull, .offset = 0x1122334455667788ull,
		.length = 0xa0b0c0d0,
	}, back;
	static const uint8_t want[NBD_REQUEST_LEN] = {
		0x25, 0x60, 0x95, 0x13, 0x00, 0x01, 0x00, 0x01,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0xa0, 0xb0, 0xc0, 0xd0,
	};
	uint8_t b[NBD_REQUEST_LEN];

	nbd_request_encode(&r, b);
	cr_assert_arr_eq(b, want, sizeof(want));
	nbd_request_decode(b, &back);
	cr_assert_eq(back.magic, r.magic);
	cr_assert_eq(back.flags, r.flags);
	cr_assert_eq(back.type, r.type);
	cr_assert_eq(back.cookie, r.cookie);
	cr_assert_eq(back.offset, r.offset);
	cr_assert_eq(back.length, r.length);
}

Test(nbd_proto, replies)
{
	uint8_t s[NBD_SIMPLE_REPLY_LEN], c[NBD_CHUNK_HDR_LEN], o[NBD_OPT_REPLY_LEN];
	static const uint8_t want_s[] = { 0x67, 0x44, 0x66, 0x98, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9 };
	static const uint8_t want_c[] = { 0x66, 0x8e, 0x33, 0xef, 0, 1, 0, 5,
					  0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 12 };
	static const uint8_t want_o[] = { 0, 3, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9,
					  0, 0, 0, 7, 0x80, 0, 0, 6, 0, 0, 0, 0 };

	nbd_simple_reply_encode(NBD_EPERM, 9, s);
	cr_assert_arr_eq(s, want_s, sizeof(want_s));
	nbd_chunk_hdr_encode(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_BLOCK_STATUS, 9, 12, c);
	cr_assert_arr_eq(c, want_c, sizeof(want_c));
	nbd_opt_reply_encode(NBD_OPT_GO, NBD_REP_ERR_UNKNOWN, 0, o);
	cr_assert_arr_eq(o, want_o, sizeof(want_o));
}

Test(nbd_proto, option_header)
{
	static const uint8_t b[NBD_OPT_HDR_LEN] = { 'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T',
						    0, 0, 0, 10, 0, 0, 1, 0 };
	struct nbd_opt_hdr h;

	nbd_opt_hdr_decode(b, &h);
	cr_assert_eq(h.magic, NBD_OPTS_MAGIC);
	cr_assert_eq(h.option, NBD_OPT_SET_META_CONTEXT);
	cr_assert_eq(h.length, 256);
}

Test(nbd_proto, errno_mapping)
{
	cr_assert_eq(nbd_errno_encode(0), 0);
	cr_assert_eq(nbd_errno_encode(-EPERM), NBD_EPERM);
	cr_assert_eq(nbd_errno_encode(-EROFS), NBD_EPERM);
	cr_assert_eq(nbd_errno_encode(-EINVAL), NBD_EINVAL);
	cr_assert_eq(nbd_errno_encode(-ENOSPC), NBD_ENOSPC);
	cr_assert_eq(nbd_errno_encode(-ENOMEM), NBD_ENOMEM);
	cr_assert_eq(nbd_errno_encode(-EBADMSG), NBD_EIO, "unknown errors are EIO");
}
