/* blkback/nbd_handshake.c: fixed newstyle negotiation: the options a client
 * sends before it picks an export. */
#include "blkback/nbd_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blkback/nbd_proto.h"

/* An option's header and data, as received. */
struct nbd_opt {
	uint32_t option;
	uint32_t len;
	uint8_t *data;
};

static int opt_reply(struct nbd_conn *c, uint32_t option, uint32_t type,
		     const void *data, uint32_t len)
{
	uint8_t hdr[NBD_OPT_REPLY_LEN];
	struct iovec iov[2] = {
		{ hdr, sizeof(hdr) },
		{ (void *)data, len },
	};

	nbd_opt_reply_encode(option, type, len, hdr);
	return nbd_send_iov(c, iov, len ? 2 : 1);
}

static uint16_t export_flags(const struct nbd_export *e)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
		     NBD_FLAG_SEND_DF | NBD_FLAG_CAN_MULTI_CONN;

	if (e->writable)
		f |= NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES;
	else
		f |= NBD_FLAG_READ_ONLY;
	return f;
}

/* NBD_OPT_EXPORT_NAME: no error reply is possible; an unknown name ends
 * the connection. */
static int opt_export_name(struct nbd_conn *c, const struct nbd_opt *o)
{
	const struct nbd_export *e = nbd_export_find(c->srv, (const char *)o->data, o->len);
	uint8_t buf[10 + 124] = { 0 };
	struct iovec iov = { buf, c->no_zeroes ? 10 : sizeof(buf) };

	if (!e)
		return -ENOENT;
	nbd_put64(buf, e->size);
	nbd_put16(buf + 8, export_flags(e));
	if (nbd_send_iov(c, &iov, 1))
		return -EIO;
	c->exp = e;
	return 1;
}

static int opt_list(struct nbd_conn *c, const struct nbd_opt *o)
{
	if (o->len)
		return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
	for (unsigned i = 0; i < c->srv->nexports; i++) {
		const char *name = c->srv->exports[i].name;
		uint32_t n = (uint32_t)strlen(name);
		uint8_t *buf = malloc(4 + n);
		int rc;

		if (!buf)
			return -ENOMEM;
		nbd_put32(buf, n);
		memcpy(buf + 4, name, n);
		rc = opt_reply(c, o->option, NBD_REP_SERVER, buf, 4 + n);
		free(buf);
		if (rc)
			return rc;
	}
	return opt_reply(c, o->option, NBD_REP_ACK, NULL, 0);
}

/* NBD_OPT_INFO and NBD_OPT_GO: u32 name length, name, u16 count, u16
 * info types. */
static int opt_info_go(struct nbd_conn *c, const struct nbd_opt *o)
{
	const struct nbd_export *e;
	uint8_t info[12];
	uint32_t nlen;
	uint16_t nreq;
	bool want_name = false, want_bs = false;
	int rc;

	if (o->len < 6)
		return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
	nlen = nbd_get32(o->data);
	if (nlen > o->len - 6)
		return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
	nreq = nbd_get16(o->data + 4 + nlen);
	if (o->len != 6 + nlen + 2u * nreq)
		return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
	for (unsigned i = 0; i < nreq; i++) {
		uint16_t t = nbd_get16(o->data + 6 + nlen + 2 * i);

		want_name |= t == NBD_INFO_NAME;
		want_bs |= t == NBD_INFO_BLOCK_SIZE;
	}
	e = nbd_export_find(c->srv, (const char *)o->data + 4, nlen);
	if (!e)
		return opt_reply(c, o->option, NBD_REP_ERR_UNKNOWN, NULL, 0);

	nbd_put16(info, NBD_INFO_EXPORT);
	nbd_put64(info + 2, e->size);
	nbd_put16(info + 10, export_flags(e));
	rc = opt_reply(c, o->option, NBD_REP_INFO, info, 12);
	if (!rc && want_name) {
		size_t n = strlen(e->name);
		uint8_t *buf = malloc(2 + n);

		if (!buf)
			return -ENOMEM;
		nbd_put16(buf, NBD_INFO_NAME);
		memcpy(buf + 2, e->name, n);
		rc = opt_reply(c, o->option, NBD_REP_INFO, buf, (uint32_t)(2 + n));
		free(buf);
	}
	if (!rc && want_bs) {
		uint8_t bs[14];

		nbd_put16(bs, NBD_INFO_BLOCK_SIZE);
		nbd_put32(bs + 2, 1);                 /* minimum */
		nbd_put32(bs + 6, 4096);              /* preferred */
		nbd_put32(bs + 10, NBD_MAX_IO);       /* maximum */
		rc = opt_reply(c, o->option, NBD_REP_INFO, bs, sizeof(bs));
	}
	if (!rc)
		rc = opt_reply(c, o->option, NBD_REP_ACK, NULL, 0);
	if (rc)
		return rc;
	if (o->option == NBD_OPT_GO) {
		c->exp = e;
		return 1;
	}
	return 0;
}

const char *const nbd_meta_names[NBD_META_COUNT] = {
	[NBD_META_BASE_ALLOC] = "base:allocation",
	[NBD_META_ALLOC_DEPTH] = "qemu:allocation-depth",
};

static int meta_reply(struct nbd_conn *c, uint32_t option, unsigned m)
{
	size_t n = strlen(nbd_meta_names[m]);
	uint8_t buf[64];

	nbd_put32(buf, m + 1);
	memcpy(buf + 4, nbd_meta_names[m], n);
	return opt_reply(c, option, NBD_REP_META_CONTEXT, buf, (uint32_t)(4 + n));
}

/* Which of our contexts query @q (@len bytes) selects: an exact name, or
 * for LIST a namespace ("base:", "qemu:"). A bit mask. */
static unsigned meta_match(const char *q, uint32_t len, bool list)
{
	unsigned mask = 0;

	for (unsigned m = 0; m < NBD_META_COUNT; m++) {
		const char *name = nbd_meta_names[m];
		size_t ns = (size_t)(strchr(name, ':') - name) + 1;

		if ((len == strlen(name) && !memcmp(q, name, len)) ||
		    (list && len == ns && !memcmp(q, name, ns)))
			mask |= 1u << m;
	}
	return mask;
}

/* NBD_OPT_LIST/SET_META_CONTEXT: u32 export name length, name, u32 query
 * count, queries (u32 length, string). */
static int opt_meta(struct nbd_conn *c, const struct nbd_opt *o)
{
	bool set = o->option == NBD_OPT_SET_META_CONTEXT;
	uint32_t nlen, nq, pos;
	unsigned found = 0;
	int rc;

	if (set && !c->structured)
		return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
	if (o->len < 8)
		return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
	nlen = nbd_get32(o->data);
	if (nlen > o->len - 8)
		return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
	nq = nbd_get32(o->data + 4 + nlen);
	pos = 8 + nlen;
	for (uint32_t i = 0; i < nq; i++) {
		uint32_t qlen;

		if (o->len - pos < 4)
			return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
		qlen = nbd_get32(o->data + pos);
		if (qlen > o->len - pos - 4)
			return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
		found |= meta_match((const char *)o->data + pos + 4, qlen, !set);
		pos += 4 + qlen;
	}
	if (pos != o->len)
		return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
	if (!nbd_export_find(c->srv, (const char *)o->data + 4, nlen))
		return opt_reply(c, o->option, NBD_REP_ERR_UNKNOWN, NULL, 0);
	if (!set && nq == 0)
		found = (1u << NBD_META_COUNT) - 1;   /* list everything we have */
	if (set)
		c->meta = found;
	for (unsigned m = 0; m < NBD_META_COUNT; m++) {
		if (!(found & (1u << m)))
			continue;
		rc = meta_reply(c, o->option, m);
		if (rc)
			return rc;
	}
	return opt_reply(c, o->option, NBD_REP_ACK, NULL, 0);
}

/* NBD_OPT_STARTTLS: acknowledged, then the TLS handshake; from then on
 * everything goes through TLS and option haggling starts over. */
static int opt_starttls(struct nbd_conn *c, const struct nbd_opt *o)
{
	int rc;

	if (!c->srv->tls)
		return opt_reply(c, o->option, NBD_REP_ERR_UNSUP, NULL, 0);
	if (o->len || c->tls)
		return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
	rc = opt_reply(c, o->option, NBD_REP_ACK, NULL, 0);
	if (!rc)
		rc = nbd_tls_start(c);
	return rc;
}

/* FORCEDTLS before STARTTLS: only STARTTLS and ABORT are served. */
static int nbd_option_plain(struct nbd_conn *c, const struct nbd_opt *o)
{
	switch (o->option) {
	case NBD_OPT_STARTTLS:
		return opt_starttls(c, o);
	case NBD_OPT_ABORT:
		opt_reply(c, o->option, NBD_REP_ACK, NULL, 0);
		return -ECONNRESET;
	case NBD_OPT_EXPORT_NAME:               /* cannot be refused: hang up */
		return -EACCES;
	default:
		return opt_reply(c, o->option, NBD_REP_ERR_TLS_REQD, NULL, 0);
	}
}

static int nbd_option(struct nbd_conn *c, const struct nbd_opt *o)
{
	if (c->srv->tls && !c->tls)
		return nbd_option_plain(c, o);
	switch (o->option) {
	case NBD_OPT_STARTTLS:
		return opt_starttls(c, o);
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(c, o);
	case NBD_OPT_ABORT:
		opt_reply(c, o->option, NBD_REP_ACK, NULL, 0);
		return -ECONNRESET;
	case NBD_OPT_LIST:
		return opt_list(c, o);
	case NBD_OPT_INFO:
	case NBD_OPT_GO:
		return opt_info_go(c, o);
	case NBD_OPT_STRUCTURED_REPLY:
		if (o->len)
			return opt_reply(c, o->option, NBD_REP_ERR_INVALID, NULL, 0);
		c->structured = true;
		return opt_reply(c, o->option, NBD_REP_ACK, NULL, 0);
	case NBD_OPT_LIST_META_CONTEXT:
	case NBD_OPT_SET_META_CONTEXT:
		return opt_meta(c, o);
	default:
		return opt_reply(c, o->option, NBD_REP_ERR_UNSUP, NULL, 0);
	}
}

int nbd_handshake(struct nbd_conn *c)
{
	uint8_t greet[18], cflags[4], hdr[NBD_OPT_HDR_LEN];
	struct iovec iov = { greet, sizeof(greet) };
	struct nbd_opt_hdr h;
	uint32_t flags;
	int rc;

	nbd_put64(greet, NBD_MAGIC);
	nbd_put64(greet + 8, NBD_OPTS_MAGIC);
	nbd_put16(greet + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rc = nbd_send_iov(c, &iov, 1);
	if (rc)
		return rc;
	rc = nbd_recv_full(c, cflags, sizeof(cflags));
	if (rc)
		return rc == -ECONNRESET ? 0 : rc;
	flags = nbd_get32(cflags);
	if (flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES))
		return -EPROTO;
	c->no_zeroes = flags & NBD_FLAG_C_NO_ZEROES;

	for (;;) {
		struct nbd_opt o;

		rc = nbd_recv_full(c, hdr, sizeof(hdr));
		if (rc)
			return rc == -ECONNRESET ? 0 : rc;
		nbd_opt_hdr_decode(hdr, &h);
		if (h.magic != NBD_OPTS_MAGIC || h.length > NBD_MAX_OPT_LEN)
			return -EPROTO;
		o.option = h.option;
		o.len = h.length;
		o.data = malloc(h.length + 1);
		if (!o.data)
			return -ENOMEM;
		rc = nbd_recv_full(c, o.data, h.length);
		if (!rc)
			rc = nbd_option(c, &o);
		free(o.data);
		if (rc == -ECONNRESET)
			return 0;
		if (rc)
			return rc;
		if (c->exp)
			return 1;
	}
}
