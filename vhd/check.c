/* vhd/check.c: structural check and careful repair of a VHD file.
 *
 * Works on the raw bytes with the codec of vhd_int.h, so it also examines
 * images that vhd_open() refuses. The order is: footers (trailing and the
 * copy at 0), the dynamic header, parent locators, the BAT and the blocks it
 * points at (inside the file, not overlapping each other or metadata),
 * bitmaps; then repairs, then the parent chain through vhd_open().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vhd/vhd_int.h"
#include "vhd/vhd_ops.h"

/* A used byte range of the file, for the overlap check. */
struct chk_ext {
	uint64_t start, end;
	uint32_t blk;              /* block number, or UINT32_MAX for metadata */
	const char *what;
};

struct chk {
	int fd;
	const char *path;
	unsigned flags;
	uint64_t file_size;
	void (*report)(void *opaque, const struct vhd_check_problem *p);
	void *opaque;
	struct vhd_check_result *res;

	struct vhd_footer foot;    /* the footer in use */
	uint8_t foot_raw[VHD_FOOTER_SIZE];
	bool trailing_ok;          /* a valid footer sits at file_size - 512 */
	bool write_footer;         /* repair: rewrite the trailing footer */
	bool write_copy;           /* repair: rewrite the copy at offset 0 */
	bool fatal;                /* structure unusable: stop looking deeper */
	/* No footer cookie at the end, the copy at 0 valid: perhaps the tail
	 * of an interrupted allocation (decided after the BAT, chk_tail). */
	bool tail_candidate;
	uint64_t tail_off;         /* where the trailing footer was looked for */
	bool bat_past_eof;         /* some BAT entry points past the file's end */

	struct vhd_header hdr;
	bool write_header;
	uint32_t *bat;
	bool write_bat;
	uint32_t bitmap_size;

	struct chk_ext *ext;
	size_t n_ext, cap_ext;
};

static void chk_problem(struct chk *c, const char *name, uint64_t off, bool warning,
			bool repairable, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Reports one problem; a repairable one counts as repaired in repair mode
 * (the caller then performs the repair). */
static void chk_problem(struct chk *c, const char *name, uint64_t off, bool warning,
			bool repairable, const char *fmt, ...)
{
	struct vhd_check_problem p = { .name = name, .offset = off, .warning = warning };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p.detail, sizeof(p.detail), fmt, ap);
	va_end(ap);
	p.repaired = !warning && repairable && (c->flags & VHD_CHECK_REPAIR);
	if (warning)
		c->res->warnings++;
	else if (p.repaired)
		c->res->repaired++;
	else
		c->res->errors++;
	if (c->report)
		c->report(c->opaque, &p);
}

static bool chk_repairing(const struct chk *c)
{
	return c->flags & VHD_CHECK_REPAIR;
}

static int chk_ext_add(struct chk *c, uint64_t start, uint64_t len, uint32_t blk,
		       const char *what)
{
	if (c->n_ext == c->cap_ext) {
		size_t cap = c->cap_ext ? c->cap_ext * 2 : 64;
		struct chk_ext *n = realloc(c->ext, cap * sizeof(*n));

		if (!n)
			return vhd_err(-ENOMEM, "out of memory");
		c->ext = n;
		c->cap_ext = cap;
	}
	c->ext[c->n_ext++] = (struct chk_ext){ start, start + len, blk, what };
	return 0;
}

/* ---- footers ---- */

/* Field checks of a footer whose cookie matched. Returns the name of the
 * first bad field, or NULL when the fields are usable. */
static const char *chk_footer_bad_field(const struct vhd_footer *f, uint64_t file_size)
{
	if (f->version >> 16 != 1)
		return "footer-version";
	if (f->type != VHD_TYPE_FIXED && f->type != VHD_TYPE_DYNAMIC &&
	    f->type != VHD_TYPE_DIFF)
		return "footer-type";
	if (f->type == VHD_TYPE_FIXED && f->data_offset != VHD_FIXED_OFFSET)
		return "footer-data-offset";
	if (f->type != VHD_TYPE_FIXED &&
	    (f->data_offset < VHD_FOOTER_SIZE || f->data_offset > file_size ||
	     file_size - f->data_offset < VHD_HEADER_SIZE))
		return "footer-data-offset";
	return NULL;
}

/* What a 512-byte candidate footer is worth. */
enum chk_fstate { FOOT_NONE, FOOT_BAD_FIELDS, FOOT_BAD_SUM, FOOT_OK };

static enum chk_fstate chk_footer_judge(const uint8_t *buf, uint64_t file_size,
					struct vhd_footer *f)
{
	vhd_footer_decode(buf, f);
	if (memcmp(f->cookie, "conectix", 8))
		return FOOT_NONE;
	if (chk_footer_bad_field(f, file_size))
		return FOOT_BAD_FIELDS;
	if (f->checksum != vhd_checksum(buf, VHD_FOOTER_SIZE, 64))
		return FOOT_BAD_SUM;
	return FOOT_OK;
}

static int chk_read(struct chk *c, void *buf, size_t len, uint64_t off)
{
	return vhd_pread_full(c->fd, buf, len, off);
}

/* Warnings about a usable footer's values. */
static void chk_footer_values(struct chk *c, uint64_t off)
{
	const struct vhd_footer *f = &c->foot;
	int64_t now = (int64_t)time(NULL) - VHD_TIME_EPOCH;

	if (!(f->features & VHD_FEATURES))
		chk_problem(c, "footer-features", off + 8, true, false,
			    "features 0x%08x lack the reserved bit 0x2", f->features);
	if (f->version != VHD_VERSION)
		chk_problem(c, "footer-version", off + 12, true, false,
			    "file format version 0x%08x (expected 0x00010000)", f->version);
	if ((int64_t)f->timestamp > now + 86400)
		chk_problem(c, "footer-timestamp", off + 24, true, false,
			    "timestamp lies in the future");
	if (f->saved_state)
		chk_problem(c, "footer-saved-state", off + 85, true, false,
			    "the saved-state flag is set");
	if (f->cylinders == 65535 && f->heads == 16 && f->sectors_per_track == 255)
		chk_problem(c, "footer-geometry", off + 56, true, false,
			    "maximal geometry 65535/16/255 (QEMU force_size); current_size is used");
	if (f->current_size % VHD_SECTOR_SIZE)
		chk_problem(c, "footer-size", off + 48, false, false,
			    "current size %llu is not a multiple of 512",
			    (unsigned long long)f->current_size);
	if (f->type == VHD_TYPE_FIXED && f->current_size > off)
		chk_problem(c, "fixed-data-truncated", off, false, false,
			    "fixed disk of %llu bytes has only %llu bytes of data",
			    (unsigned long long)f->current_size, (unsigned long long)off);
	if (f->type != VHD_TYPE_FIXED && f->current_size > VHD_MAX_DYNAMIC_SIZE)
		chk_problem(c, "footer-size", off + 48, true, false,
			    "size %llu is above the 2040 GiB limit of dynamic disks",
			    (unsigned long long)f->current_size);
}

static int chk_footers(struct chk *c)
{
	uint8_t tbuf[VHD_FOOTER_SIZE] = { 0 }, cbuf[VHD_FOOTER_SIZE] = { 0 };
	struct vhd_footer tf, cf;
	enum chk_fstate ts = FOOT_NONE, cs = FOOT_NONE;
	uint64_t toff = c->file_size >= VHD_FOOTER_SIZE ? c->file_size - VHD_FOOTER_SIZE : 0;
	bool short_footer = false;
	int rc;

	if (c->file_size >= VHD_FOOTER_SIZE) {
		rc = chk_read(c, tbuf, VHD_FOOTER_SIZE, toff);
		if (rc)
			return rc;
		ts = chk_footer_judge(tbuf, c->file_size, &tf);
		if (ts == FOOT_NONE && !memcmp(tbuf + 1, "conectix", 8)) {
			/* Old Virtual PC: a 511-byte footer. */
			memmove(tbuf, tbuf + 1, VHD_FOOTER_SIZE - 1);
			tbuf[VHD_FOOTER_SIZE - 1] = 0;
			ts = chk_footer_judge(tbuf, c->file_size, &tf);
			short_footer = true;
			toff++;
		}
		rc = chk_read(c, cbuf, VHD_FOOTER_SIZE, 0);
		if (rc)
			return rc;
		cs = chk_footer_judge(cbuf, c->file_size, &cf);
	}
	if (ts == FOOT_NONE && cs == FOOT_NONE)
		return vhd_err(-EINVAL, "not a VHD (no footer cookie at offset %llu or 0)",
			       (unsigned long long)toff);
	if (cs == FOOT_OK && cf.type == VHD_TYPE_FIXED)
		cs = FOOT_BAD_FIELDS;   /* a fixed disk has no copy at 0 */

	if (ts == FOOT_OK) {
		c->foot = tf;
		memcpy(c->foot_raw, tbuf, VHD_FOOTER_SIZE);
		c->trailing_ok = !short_footer;
		if (short_footer) {
			chk_problem(c, "footer-short", toff, true, false,
				    "511-byte footer (old Virtual PC)");
		}
	} else if (cs == FOOT_OK) {
		c->foot = cf;
		memcpy(c->foot_raw, cbuf, VHD_FOOTER_SIZE);
		c->write_footer = true;
		if (ts == FOOT_NONE) {
			c->tail_candidate = true;
			c->tail_off = toff;
		} else if (ts == FOOT_BAD_SUM)
			chk_problem(c, "footer-checksum", toff + 64, false, true,
				    "footer checksum 0x%08x is wrong; the copy at 0 is valid",
				    tf.checksum);
		else
			chk_problem(c, chk_footer_bad_field(&tf, c->file_size), toff, false, true,
				    "trailing footer has a bad field; the copy at 0 is valid");
	} else if (ts == FOOT_BAD_SUM) {
		/* Every field is sane; only the sum is off: re-encode it. */
		chk_problem(c, "footer-checksum", toff + 64, false, true,
			    "footer checksum 0x%08x, computed 0x%08x", tf.checksum,
			    vhd_checksum(tbuf, VHD_FOOTER_SIZE, 64));
		c->foot = tf;
		vhd_footer_encode(&c->foot, c->foot_raw);
		c->write_footer = chk_repairing(c);
		c->trailing_ok = !short_footer;
	} else if (cs == FOOT_BAD_SUM && ts == FOOT_NONE) {
		chk_problem(c, "footer-missing", toff, false, false,
			    "no footer at the end of the file");
		chk_problem(c, "footer-copy-checksum", 64, false, false,
			    "the footer copy at 0 has a wrong checksum 0x%08x", cf.checksum);
		c->fatal = true;
		return 0;
	} else {
		const char *name = ts == FOOT_BAD_FIELDS ? chk_footer_bad_field(&tf, c->file_size)
							 : "footer-missing";

		chk_problem(c, name, toff, false, false,
			    "the footer is unusable and has no valid copy");
		c->fatal = true;
		return 0;
	}
	chk_footer_values(c, c->trailing_ok ? toff : c->file_size);

	if (c->foot.type == VHD_TYPE_FIXED)
		return 0;
	/* Dynamic and differencing disks keep an identical copy at 0. */
	if (cs != FOOT_OK) {
		chk_problem(c, "footer-copy-damaged", 0, false, true,
			    "the footer copy at offset 0 is %s",
			    cs == FOOT_NONE ? "missing" : cs == FOOT_BAD_SUM ?
			    "damaged (checksum)" : "damaged (fields)");
		c->write_copy = true;
	} else if (memcmp(cbuf, c->foot_raw, VHD_FOOTER_SIZE)) {
		chk_problem(c, "footer-copy-mismatch", 0, false, true,
			    "the footer copy at offset 0 differs from the trailing footer");
		c->write_copy = true;
	}
	return chk_ext_add(c, 0, VHD_FOOTER_SIZE, UINT32_MAX, "footer copy");
}

/* ---- dynamic header and locators ---- */

static int chk_locators(struct chk *c)
{
	const struct vhd_header *h = &c->hdr;
	uint64_t hoff = c->foot.data_offset;

	for (int i = 0; i < VHD_NUM_LOCATORS; i++) {
		const struct vhd_locator *l = &h->loc[i];
		uint64_t eoff = hoff + 576 + 24 * (uint64_t)i;
		uint64_t space = vhd_locator_space(l);
		uint8_t *data;
		char path[4096];
		int rc;

		if (l->code == VHD_PLAT_NONE)
			continue;
		if (l->code != VHD_PLAT_W2RU && l->code != VHD_PLAT_W2KU &&
		    l->code != VHD_PLAT_MACX && l->code != VHD_PLAT_WI2R &&
		    l->code != VHD_PLAT_WI2K) {
			chk_problem(c, "locator-code", eoff, true, false,
				    "locator %d has unknown platform code 0x%08x", i, l->code);
			continue;
		}
		if (l->data_offset > c->file_size || space > c->file_size - l->data_offset) {
			chk_problem(c, "locator-past-eof", eoff, false, false,
				    "locator %d data at %llu (+%llu) lies past the end of the file",
				    i, (unsigned long long)l->data_offset,
				    (unsigned long long)space);
			continue;
		}
		if (l->data_len > space) {
			chk_problem(c, "locator-length", eoff, false, false,
				    "locator %d holds %u bytes in a space of %llu", i,
				    l->data_len, (unsigned long long)space);
			continue;
		}
		rc = chk_ext_add(c, l->data_offset, space, UINT32_MAX, "parent locator");
		if (rc)
			return rc;
		if (l->code == VHD_PLAT_WI2R || l->code == VHD_PLAT_WI2K || !l->data_len)
			continue;
		data = malloc(l->data_len);
		if (!data)
			return vhd_err(-ENOMEM, "out of memory");
		rc = chk_read(c, data, l->data_len, l->data_offset);
		if (!rc && vhd_locator_decode(l->code, data, l->data_len, path, sizeof(path)))
			chk_problem(c, "locator-decode", l->data_offset, false, false,
				    "locator %d holds no readable path", i);
		free(data);
		if (rc)
			return rc;
	}
	return 0;
}

static int chk_header(struct chk *c)
{
	uint8_t buf[VHD_HEADER_SIZE];
	struct vhd_header *h = &c->hdr;
	uint64_t off = c->foot.data_offset, need, bat_bytes;
	uint8_t zero[16] = { 0 };
	int rc;

	rc = chk_read(c, buf, VHD_HEADER_SIZE, off);
	if (rc)
		return rc;
	vhd_header_decode(buf, h);
	if (memcmp(h->cookie, "cxsparse", 8)) {
		chk_problem(c, "header-cookie", off, false, false,
			    "no dynamic header cookie 'cxsparse' at offset %llu",
			    (unsigned long long)off);
		c->fatal = true;
		return 0;
	}
	if (h->block_size < VHD_SECTOR_SIZE || (h->block_size & (h->block_size - 1)) ||
	    h->block_size > (1u << 30)) {
		chk_problem(c, "header-block-size", off + 32, false, false,
			    "block size %u is not a power of two from 512 B to 1 GiB",
			    h->block_size);
		c->fatal = true;
		return 0;
	}
	bat_bytes = ((uint64_t)h->max_bat_entries * 4 + 511) & ~511ull;
	if (h->table_offset > c->file_size || bat_bytes > c->file_size - h->table_offset) {
		chk_problem(c, "header-table-offset", off + 16, false, false,
			    "BAT at %llu (%u entries) does not fit in the file",
			    (unsigned long long)h->table_offset, h->max_bat_entries);
		c->fatal = true;
		return 0;
	}
	if (h->checksum != vhd_checksum(buf, VHD_HEADER_SIZE, 36)) {
		chk_problem(c, "header-checksum", off + 36, false, true,
			    "header checksum 0x%08x, computed 0x%08x", h->checksum,
			    vhd_checksum(buf, VHD_HEADER_SIZE, 36));
		c->write_header = chk_repairing(c);
	}
	if (h->version != VHD_VERSION)
		chk_problem(c, "header-version", off + 24, false, false,
			    "header version 0x%08x (expected 0x00010000)", h->version);
	if (h->data_offset != UINT64_MAX)
		chk_problem(c, "header-data-offset", off + 8, true, false,
			    "header next-offset field is not all ones");
	need = vhd_blocks_for(c->foot.current_size, h->block_size);
	if (h->max_bat_entries < need)
		chk_problem(c, "header-bat-entries", off + 28, false, false,
			    "%u BAT entries cannot cover %llu bytes in blocks of %u",
			    h->max_bat_entries, (unsigned long long)c->foot.current_size,
			    h->block_size);
	c->bitmap_size = (uint32_t)(((uint64_t)h->block_size / 512 / 8 + 511) & ~511ull);
	rc = chk_ext_add(c, off, VHD_HEADER_SIZE, UINT32_MAX, "dynamic header");
	if (!rc)
		rc = chk_ext_add(c, h->table_offset, bat_bytes, UINT32_MAX, "BAT");
	if (rc)
		return rc;
	if (c->foot.type == VHD_TYPE_DIFF) {
		char name[1024];

		if (!memcmp(h->parent_uuid, zero, 16))
			chk_problem(c, "parent-uuid-null", off + 40, false, false,
				    "differencing disk with a null parent UUID");
		if (vhd_utf16_to_utf8(h->parent_name, VHD_PARENT_NAME_SIZE, true, name,
				      sizeof(name)) || !*name)
			chk_problem(c, "parent-name", off + 64, false, false,
				    "the parent's Unicode name is empty or not valid UTF-16");
	}
	return chk_locators(c);
}

/* ---- BAT, blocks, bitmaps ---- */

static int chk_ext_cmp(const void *a, const void *b)
{
	const struct chk_ext *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void chk_overlaps(struct chk *c)
{
	const struct chk_ext *prev = NULL;

	qsort(c->ext, c->n_ext, sizeof(*c->ext), chk_ext_cmp);
	for (size_t i = 0; i < c->n_ext; i++) {
		const struct chk_ext *e = &c->ext[i];

		if (prev && e->start < prev->end) {
			if (e->blk != UINT32_MAX && prev->blk != UINT32_MAX)
				chk_problem(c, "block-overlap", e->start, false, false,
					    "blocks %u and %u overlap", prev->blk, e->blk);
			else if (e->blk != UINT32_MAX || prev->blk != UINT32_MAX)
				chk_problem(c, "block-overlaps-metadata", e->start, false, false,
					    "%s%s%u overlaps the %s",
					    e->blk != UINT32_MAX ? "block" : e->what,
					    e->blk != UINT32_MAX ? " " : " / block ",
					    e->blk != UINT32_MAX ? e->blk : prev->blk,
					    e->blk != UINT32_MAX ? prev->what : "data");
			else
				chk_problem(c, "metadata-overlap", e->start, false, false,
					    "the %s overlaps the %s", e->what, prev->what);
		}
		if (!prev || e->end > prev->end)
			prev = e;
	}
}

/* The last block may be partial: bits for sectors past the disk's end must
 * be clear in a differencing disk (they would make no sense). */
static int chk_last_bitmap(struct chk *c, uint32_t blk, uint64_t bm_off)
{
	uint64_t secs_per_blk = c->hdr.block_size / VHD_SECTOR_SIZE;
	uint64_t first = (uint64_t)blk * secs_per_blk;
	uint64_t valid = c->foot.current_size / VHD_SECTOR_SIZE - first;
	uint8_t *bm;
	int rc;

	if (valid >= secs_per_blk)
		return 0;
	bm = malloc(c->bitmap_size);
	if (!bm)
		return vhd_err(-ENOMEM, "out of memory");
	rc = chk_read(c, bm, c->bitmap_size, bm_off);
	for (uint64_t s = valid; !rc && s < secs_per_blk; s++) {
		if (vhd_bit_test(bm, (uint32_t)s)) {
			chk_problem(c, "bitmap-past-end", bm_off + s / 8, true, false,
				    "block %u marks sectors past the end of the disk", blk);
			break;
		}
	}
	free(bm);
	return rc;
}

static int chk_bat(struct chk *c)
{
	const struct vhd_header *h = &c->hdr;
	uint64_t limit = c->trailing_ok ? c->file_size - VHD_FOOTER_SIZE : c->file_size;
	uint64_t blk_bytes = (uint64_t)c->bitmap_size + h->block_size;
	uint64_t need = vhd_blocks_for(c->foot.current_size, h->block_size);
	uint8_t *raw;
	int rc;

	raw = malloc((size_t)h->max_bat_entries * 4 + 1);
	c->bat = malloc((size_t)h->max_bat_entries * 4 + 1);
	if (!raw || !c->bat) {
		free(raw);
		return vhd_err(-ENOMEM, "out of memory for %u BAT entries", h->max_bat_entries);
	}
	rc = chk_read(c, raw, (size_t)h->max_bat_entries * 4, h->table_offset);
	for (uint32_t i = 0; !rc && i < h->max_bat_entries; i++)
		c->bat[i] = vhd_get_be32(raw + 4 * (size_t)i);
	free(raw);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < h->max_bat_entries; i++) {
		uint64_t off = (uint64_t)c->bat[i] * VHD_SECTOR_SIZE;
		uint64_t eoff = h->table_offset + 4 * (uint64_t)i;

		if (c->bat[i] == VHD_BAT_UNUSED)
			continue;
		if (off > limit || blk_bytes > limit - off) {
			c->bat_past_eof = true;
			chk_problem(c, "bat-past-eof", eoff, false, true,
				    "BAT entry %u points at %llu, past the end of the data (%llu)",
				    i, (unsigned long long)off, (unsigned long long)limit);
			if (chk_repairing(c)) {
				c->bat[i] = VHD_BAT_UNUSED;
				c->write_bat = true;
			}
			continue;
		}
		if (i >= need)
			chk_problem(c, "bat-beyond-disk", eoff, true, false,
				    "block %u is allocated but lies past the end of the disk", i);
		rc = chk_ext_add(c, off, blk_bytes, i, "block");
		if (!rc && i + 1 == need && c->foot.type == VHD_TYPE_DIFF)
			rc = chk_last_bitmap(c, i, off);
		if (rc)
			return rc;
	}
	chk_overlaps(c);
	return 0;
}

/* Judges a missing trailing footer once the used regions are known: a file
 * longer than its published data (header, BAT, locators, blocks), with
 * every BAT entry inside it, ends in the unpublished tail a power loss
 * leaves after an unflushed allocation (see vhd/write.c). That is a note,
 * not a problem: the next writable open (or this repair) cuts it. Anything
 * else is a truncated file, as before. */
static void chk_tail(struct chk *c)
{
	uint64_t end = 0;

	if (!c->tail_candidate)
		return;
	for (size_t i = 0; i < c->n_ext; i++)
		if (c->ext[i].end > end)
			end = c->ext[i].end;
	end = (end + VHD_SECTOR_SIZE - 1) & ~(uint64_t)(VHD_SECTOR_SIZE - 1);
	if (!c->fatal && !c->bat_past_eof && c->foot.type != VHD_TYPE_FIXED &&
	    c->file_size > end) {
		chk_problem(c, "footer-unpublished-tail", end, !chk_repairing(c), true,
			    "unpublished tail after an interrupted allocation (%llu bytes; "
			    "recovered on the next writable open)",
			    (unsigned long long)(c->file_size - end));
		return;
	}
	chk_problem(c, "footer-missing", c->tail_off, false, true,
		    "no footer at the end of the file (truncated?); the copy at 0 is valid");
}

/* ---- repairs ---- */

static int chk_repair(struct chk *c)
{
	uint8_t buf[VHD_HEADER_SIZE];
	uint64_t end = 0, foot_off;
	int rc = 0;

	if (c->write_header) {
		vhd_header_encode(&c->hdr, buf);
		rc = vhd_pwrite_full(c->fd, buf, VHD_HEADER_SIZE, c->foot.data_offset);
	}
	for (uint32_t i = 0; !rc && c->write_bat && i < c->hdr.max_bat_entries; i++) {
		if (c->bat[i] != VHD_BAT_UNUSED)
			continue;
		vhd_put_be32(buf, VHD_BAT_UNUSED);
		rc = vhd_pwrite_full(c->fd, buf, 4, c->hdr.table_offset + 4 * (uint64_t)i);
	}
	if (rc)
		return rc;
	if (c->write_footer) {
		/* Past every used region; anything after it is not referenced. */
		for (size_t i = 0; i < c->n_ext; i++)
			if (c->ext[i].end > end)
				end = c->ext[i].end;
		if (c->foot.type == VHD_TYPE_FIXED)
			end = c->foot.current_size;
		foot_off = (end + VHD_SECTOR_SIZE - 1) & ~(uint64_t)(VHD_SECTOR_SIZE - 1);
		if (c->trailing_ok && c->file_size - VHD_FOOTER_SIZE >= foot_off)
			foot_off = c->file_size - VHD_FOOTER_SIZE;
		rc = vhd_pwrite_full(c->fd, c->foot_raw, VHD_FOOTER_SIZE, foot_off);
		if (!rc && ftruncate(c->fd, (off_t)(foot_off + VHD_FOOTER_SIZE)))
			rc = vhd_err(-errno, "truncate: %s", strerror(errno));
	}
	if (!rc && c->write_copy)
		rc = vhd_pwrite_full(c->fd, c->foot_raw, VHD_FOOTER_SIZE, 0);
	if (!rc && fsync(c->fd))
		rc = vhd_err(-errno, "fsync: %s", strerror(errno));
	return rc;
}

/* ---- the parent chain ---- */

/* The parent must be found, carry the UUID the child records, and the
 * whole chain must open (no loop, not too deep, every link sound). */
static void chk_parent(struct chk *c)
{
	struct vhd_open_opts o = { .flags = VHD_OPEN_NOLOCK | VHD_OPEN_NO_PARENT };
	uint64_t hoff = c->foot.data_offset;
	struct vhd *v, *p;
	char *ppath = malloc(4096);
	char want[37], got[37];

	if (!ppath || vhd_open(c->path, &o, &v)) {
		chk_problem(c, "open", 0, false, false, "the image does not open: %s",
			    ppath ? vhd_last_error() : "out of memory");
		free(ppath);
		return;
	}
	if (vhd_parent_find(v, ppath, 4096)) {
		chk_problem(c, "parent-missing", hoff + 64, false, false, "%s", vhd_last_error());
		goto out;
	}
	if (vhd_open(ppath, &o, &p)) {
		chk_problem(c, "parent-open", hoff + 64, false, false,
			    "the parent '%s' does not open: %s", ppath, vhd_last_error());
		goto out;
	}
	if (memcmp(p->footer.uuid, c->hdr.parent_uuid, 16)) {
		vhd_uuid_format(c->hdr.parent_uuid, want);
		vhd_uuid_format(p->footer.uuid, got);
		chk_problem(c, "parent-uuid-mismatch", hoff + 40, false, false,
			    "parent '%s' has UUID %s, the child expects %s", ppath, got, want);
	}
	vhd_close(p);
	if (c->res->errors)
		goto out;
	o.flags = VHD_OPEN_NOLOCK | VHD_OPEN_NOWARN_TS |
		  ((c->flags & VHD_CHECK_FORCE_SHARE) ? VHD_OPEN_FORCE_SHARE : 0);
	if (vhd_open(c->path, &o, &p)) {
		chk_problem(c, "parent-chain", hoff + 64, false, false,
			    "the chain does not open: %s", vhd_last_error());
		goto out;
	}
	vhd_close(p);
out:
	vhd_close(v);
	free(ppath);
}

int vhd_check(const char *path, unsigned flags,
	      void (*report)(void *opaque, const struct vhd_check_problem *p),
	      void *opaque, struct vhd_check_result *res)
{
	struct chk c = { .path = path, .flags = flags, .report = report,
			 .opaque = opaque, .res = res };
	struct stat st;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((flags & VHD_CHECK_REPAIR) && (flags & VHD_CHECK_FORCE_SHARE))
		return vhd_err(-EINVAL, "force-share is for a check without repair");
	c.fd = open(path, ((flags & VHD_CHECK_REPAIR) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (c.fd < 0)
		return vhd_err(-errno, "%s", strerror(errno));
	rc = vhd_lock(c.fd, (flags & VHD_CHECK_REPAIR) ? VHD_LOCK_WRITE
			    : (flags & VHD_CHECK_FORCE_SHARE) ? VHD_LOCK_SHARED : VHD_LOCK_READ,
		      path);
	if (rc)
		goto out;
	if (fstat(c.fd, &st)) {
		rc = vhd_err(-errno, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		rc = vhd_err(-EINVAL, "not a regular file");
		goto out;
	}
	c.file_size = (uint64_t)st.st_size;
	if (c.file_size < VHD_FOOTER_SIZE - 1) {
		rc = vhd_err(-EINVAL, "not a VHD (%llu bytes, smaller than a footer)",
			     (unsigned long long)c.file_size);
		goto out;
	}
	rc = chk_footers(&c);
	if (!rc && !c.fatal && c.foot.type != VHD_TYPE_FIXED)
		rc = chk_header(&c);
	if (!rc && !c.fatal && c.foot.type != VHD_TYPE_FIXED)
		rc = chk_bat(&c);
	if (!rc)
		chk_tail(&c);
	if (!rc && chk_repairing(&c) && res->repaired)
		rc = chk_repair(&c);
	if (!rc && !c.fatal && c.foot.type == VHD_TYPE_DIFF && !res->errors &&
	    !(flags & VHD_CHECK_NO_PARENT))
		chk_parent(&c);
out:
	free(c.bat);
	free(c.ext);
	close(c.fd);
	return rc;
}
