/* hv/boot_pvh.c: a bzImage's vmlinux with the PVH entry.
 *
 * Under TCG the XZ decompressor of a bzImage runs emulated and costs
 * several seconds of every boot; QEMU boots the uncompressed ELF vmlinux
 * through its PVH entry at once. A bzImage carries that ELF as its payload
 * (Linux boot protocol 2.08+: payload_offset/payload_length), so the host
 * decompresses it instead, when it is XZ and the ELF has the PVH note. */
#include "hv/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BZ_MAX_SIZE   (64u << 20)
#define ELF_MAX_SIZE  (512u << 20)
#define XEN_ELFNOTE_PHYS32_ENTRY 18

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int read_all(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0 || (uint64_t)st.st_size > BZ_MAX_SIZE) {
		close(fd);
		return -EFBIG;
	}
	b = malloc((size_t)st.st_size);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, b + off, (size_t)st.st_size - off);

		if (n <= 0) {
			r = -EIO;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	if (r) {
		free(b);
		return r;
	}
	*buf = b;
	*len = off;
	return 0;
}

/* True when the ELF64 image has a Xen PHYS32_ENTRY note (the PVH entry). */
static bool elf_has_pvh_note(const uint8_t *e, size_t len)
{
	uint64_t phoff;
	uint16_t phentsize, phnum;

	if (len < 64 || memcmp(e, "\177ELF", 4) || e[4] != 2 || e[5] != 1)
		return false;
	phoff = le64(e + 32);
	phentsize = le16(e + 54);
	phnum = le16(e + 56);
	if (phentsize < 56 || phoff > len || (uint64_t)phnum * phentsize > len - phoff)
		return false;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = e + phoff + (uint64_t)i * phentsize;
		uint64_t off = le64(ph + 8), sz = le64(ph + 32), pos = 0;

		if (le32(ph) != 4 /* PT_NOTE */ || off > len || sz > len - off)
			continue;
		while (pos + 12 <= sz) {
			const uint8_t *n = e + off + pos;
			uint32_t namesz = le32(n), descsz = le32(n + 4), type = le32(n + 8);
			uint64_t next = 12 + (((uint64_t)namesz + 3) & ~3ull) +
					(((uint64_t)descsz + 3) & ~3ull);

			if (next > sz - pos)
				break;
			if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
			    !memcmp(n + 12, "Xen", 4))
				return true;
			pos += next;
		}
	}
	return false;
}

static int xz_decode(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = 64u << 20;
	uint8_t *buf = malloc(cap);
	lzma_ret ret;

	if (!buf)
		return -ENOMEM;
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
		free(buf);
		return -ENOMEM;
	}
	s.next_in = in;
	s.avail_in = inlen;
	s.next_out = buf;
	s.avail_out = cap;
	for (;;) {
		ret = lzma_code(&s, LZMA_FINISH);
		if (ret == LZMA_STREAM_END)
			break;
		if (ret != LZMA_OK && ret != LZMA_BUF_ERROR)
			goto bad;
		if (s.avail_out == 0 && cap < ELF_MAX_SIZE) {
			size_t used = cap;
			uint8_t *nb = realloc(buf, cap * 2);

			if (!nb)
				goto bad;
			buf = nb;
			cap *= 2;
			s.next_out = buf + used;
			s.avail_out = cap - used;
			continue;
		}
		if (ret == LZMA_BUF_ERROR || s.avail_out == 0)
			goto bad;
	}
	*outlen = cap - s.avail_out;
	*out = buf;
	lzma_end(&s);
	return 0;
bad:
	lzma_end(&s);
	free(buf);
	return -EINVAL;
}

int boot_kernel_unwrap(const char *bzimage, const char *elf_path)
{
	uint8_t *bz = NULL, *elf = NULL;
	size_t bzlen = 0, elflen = 0, pm, off, plen, done = 0;
	unsigned setup_sects;
	int fd, r;

	r = read_all(bzimage, &bz, &bzlen);
	if (r)
		return r;
	r = -ENOTSUP;
	if (bzlen < 0x250 || memcmp(bz + 0x202, "HdrS", 4) || le16(bz + 0x206) < 0x208)
		goto out;
	setup_sects = bz[0x1f1] ? bz[0x1f1] : 4;
	pm = ((size_t)setup_sects + 1) * 512;
	off = le32(bz + 0x248);
	plen = le32(bz + 0x24c);
	if (pm > bzlen || off > bzlen - pm || plen > bzlen - pm - off || plen < 6 ||
	    memcmp(bz + pm + off, "\xfd" "7zXZ\0", 6))
		goto out;
	if (xz_decode(bz + pm + off, plen, &elf, &elflen) || !elf_has_pvh_note(elf, elflen))
		goto out;
	fd = open(elf_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	while (done < elflen) {
		ssize_t n = write(fd, elf + done, elflen - done);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	r = close(fd) || done != elflen ? -EIO : 0;
	if (r)
		unlink(elf_path);
out:
	free(bz);
	free(elf);
	return r;
}
