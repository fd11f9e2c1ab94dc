/* Unit tests for images/vmrec_journal.c: the merge journal round-trips,
 * and every kind of damage is refused (-EINVAL) without a crash. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/img_store.h"
#include "images/vmrec_journal.h"

static char dir[256];
static struct cat *c;

static void setup(void)
{
	char vms[300];

	snprintf(dir, sizeof(dir), "/tmp/vvjournal.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(cat_open(dir, &c), 0);
	snprintf(vms, sizeof(vms), "%s/vms/v", dir);
	cr_assert_eq(mkdir(vms, 0755), 0);
}

static void teardown(void)
{
	char cmd[300];

	cat_close(c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(vmrec_journal, .init = setup, .fini = teardown);

static struct vmj_row rows[3] = {
	{ 1, 0, 0, "vms/v/0000000000000001.vhd" },
	{ 2, 1, 0, "vms/v/0000000000000002.vhd" },
	{ 3, 2, 0, "vms/v/0000000000000003.vhd" },
};
static struct vmj_src srcs[2] = {
	{ "vms/v/0000000000000001.vhd", { 1, 2, 3, 4, 5 } },
	{ "images/x.vhd", { 6, 7, 8, -9, 10 } },
};
static struct vmj_file files[2] = {
	{ 2, "vms/v/0000000000000002.vhd", "vms/v/00000000000000a2.vhd", -1, 2, 1 << 30, 1 << 24 },
	{ 3, "vms/v/0000000000000003.vhd", "vms/v/00000000000000a3.vhd", 0, 1, 1 << 30, 0 },
};

static void sample(struct vmj *j)
{
	memset(j, 0, sizeof(*j));
	strcpy(j->vm, "v");
	strcpy(j->tag, "snap-1");
	j->snap_layer = 1;
	j->top = 3;
	strcpy(j->base, "images/x.vhd");
	j->rows = rows;
	j->nrows = 3;
	j->src = srcs;
	j->nsrc = 2;
	j->files = files;
	j->nfiles = 2;
}

static void write_journal(const char *text)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/vms/v/%s", dir, VMJ_NAME);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(vmrec_journal, round_trip)
{
	struct vmj in, out;

	sample(&in);
	cr_assert_eq(vmj_save(c, &in), 0);
	cr_assert_eq(vmj_load(c, "v", &out), 0);
	cr_assert_str_eq(out.tag, "snap-1");
	cr_assert_str_eq(out.base, "images/x.vhd");
	cr_assert_eq(out.snap_layer, 1);
	cr_assert_eq(out.top, 3);
	cr_assert_eq(out.nrows, 3);
	cr_assert_eq(out.nsrc, 2);
	cr_assert_eq(out.nfiles, 2);
	cr_assert_eq(memcmp(out.rows, rows, sizeof(rows)), 0);
	cr_assert_eq(memcmp(out.src, srcs, sizeof(srcs)), 0);
	cr_assert_eq(memcmp(out.files, files, sizeof(files)), 0);
	vmj_free(&out);
	vmj_remove(c, "v");
	cr_assert_eq(vmj_load(c, "v", &out), -ENOENT);
}

Test(vmrec_journal, missing_is_enoent)
{
	struct vmj j;

	cr_assert_eq(vmj_load(c, "v", &j), -ENOENT);
	cr_assert_eq(vmj_load(c, "nope", &j), -ENOENT);
}

/* The sample journal with @from replaced by @to must be refused. */
static void refused(const char *from, const char *to)
{
	char rel[192], path[512], *text, *p, *out;
	struct vmj j;
	FILE *f;
	long n;

	sample(&j);
	cr_assert_eq(vmj_save(c, &j), 0);
	vmj_rel("v", rel);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	p = strstr(text, from);
	cr_assert_not_null(p, "'%s' not in %s", from, text);
	out = calloc(1, strlen(text) + strlen(to) + 1);
	memcpy(out, text, (size_t)(p - text));
	strcat(out, to);
	strcat(out, p + strlen(from));
	write_journal(out);
	cr_assert_eq(vmj_load(c, "v", &j), -EINVAL, "accepted: %s", out);
	cr_assert_null(j.files);
	free(text);
	free(out);
}

Test(vmrec_journal, damage_is_refused)
{
	refused("vhdvisor-merge-journal", "something-else");
	refused("\"version\":1", "\"version\":2");
	refused("\"vm\":\"v\"", "\"vm\":\"w\"");
	refused("\"snap_layer\":1", "\"snap_layer\":\"1\"");
	refused("\"snap_layer\":1", "\"snap_layer\":-1");
	refused("\"done\":16777216", "\"done\":2147483648");          /* past size */
	refused("\"parent\":-1", "\"parent\":0");                      /* itself */
	refused("\"parent\":0,\"depth\":1", "\"parent\":1,\"depth\":1"); /* a later file */
	refused("\"depth\":2", "\"depth\":3");
	refused("\"parent\":0,\"depth\":1", "\"parent\":0,\"depth\":2"); /* not the child */
	refused("\"new\":\"vms/v/00000000000000a2.vhd\"", "\"new\":\"vms/w/00000000000000a2.vhd\"");
	refused("\"new\":\"vms/v/00000000000000a3.vhd\"", "\"new\":\"vms/v/../../etc/passwd\"");
	refused("\"old\":\"vms/v/0000000000000002.vhd\"", "\"old\":\"images/x.vhd\"");
	refused("\"files\":[", "\"files\":7,\"x\":[");
	refused("\"rows\":[", "\"rows\":[null,");
	refused("\"file\":\"images/x.vhd\"", "\"file\":[]");
	refused("\"tag\":\"snap-1\"", "\"tag\":\"0123456789012345678901234567890123456789012345678901"
		"234567890123456789\"");
	refused("}]}", "}]");                                          /* truncated */
}

Test(vmrec_journal, garbage_is_refused)
{
	static const char *const texts[] = {
		"", "null", "[]", "7", "{}", "{\"format\":\"vhdvisor-merge-journal\"}",
		"\xff\xfe\x00garbage", "{\"files\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	};
	struct vmj j;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		write_journal(texts[i]);
		cr_assert_eq(vmj_load(c, "v", &j), -EINVAL, "accepted: %s", texts[i]);
	}
}

Test(vmrec_journal, layer_names)
{
	cr_assert(vmj_layer_name("v", "vms/v/0123456789abcdef.vhd"));
	cr_assert_not(vmj_layer_name("v", "vms/v/0123456789ABCDEF.vhd"));
	cr_assert_not(vmj_layer_name("v", "vms/vv/0123456789abcdef.vhd"));
	cr_assert_not(vmj_layer_name("v", "vms/v/merge.journal"));
	cr_assert_not(vmj_layer_name("v", "vms/v/0123456789abcdef.vhd/x"));
	cr_assert_not(vmj_layer_name("v", "images/0123456789abcdef.vhd"));
}
