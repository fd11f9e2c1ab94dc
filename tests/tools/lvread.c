/* tests/tools/lvread.c: lvread OUT FILE...: writes to OUT the virtual disk
 * of the VHD chain FILE... (child first, then each parent) as libvhdi
 * reads it: the independent reader the integration tests judge our chains
 * with. The parents are set explicitly through libvhdi's API (vhdimount
 * 20210425 serves a child's parent data instead of the child's). Exit 0,
 * 1 on a libvhdi error (printed), 2 on bad arguments. */
#include <stdio.h>

#include <libvhdi.h>

#define MAX_CHAIN 64
#define CHUNK     (1u << 20)

int main(int argc, char **argv)
{
	static unsigned char buf[CHUNK];
	libvhdi_file_t *f[MAX_CHAIN] = { 0 };
	libvhdi_error_t *e = NULL;
	size64_t size, off;
	int n = argc - 2, rc = 1;
	FILE *out;

	if (n < 1 || n > MAX_CHAIN) {
		fprintf(stderr, "usage: lvread OUT CHILD [PARENT...] (at most %d files)\n",
			MAX_CHAIN);
		return 2;
	}
	out = fopen(argv[1], "wb");
	if (!out) {
		perror(argv[1]);
		return 2;
	}
	for (int i = 0; i < n; i++)
		if (libvhdi_file_initialize(&f[i], &e) != 1 ||
		    libvhdi_file_open(f[i], argv[2 + i], LIBVHDI_OPEN_READ, &e) != 1)
			goto out;
	for (int i = n - 2; i >= 0; i--)
		if (libvhdi_file_set_parent_file(f[i], f[i + 1], &e) != 1)
			goto out;
	if (libvhdi_file_get_media_size(f[0], &size, &e) != 1)
		goto out;
	for (off = 0; off < size; off += CHUNK) {
		size_t len = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		if (libvhdi_file_read_buffer_at_offset(f[0], buf, len, (off64_t)off, &e) !=
		    (ssize_t)len)
			goto out;
		if (fwrite(buf, 1, len, out) != len) {
			perror(argv[1]);
			goto out;
		}
	}
	rc = 0;
out:
	if (e) {
		libvhdi_error_fprint(e, stderr);
		libvhdi_error_free(&e);
	}
	for (int i = 0; i < n; i++)
		if (f[i]) {
			libvhdi_file_close(f[i], NULL);
			libvhdi_file_free(&f[i], NULL);
		}
	if (fclose(out) && !rc)
		rc = 1;
	return rc;
}
