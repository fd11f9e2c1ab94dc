/* tools/common/cli.c: subcommand dispatch, global options and per-action
 * help shared by vhd and vhdvisor. */
#include "tools/common/cli.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#ifndef VHDVISOR_VERSION
#define VHDVISOR_VERSION "0.1.0"
#endif

static bool quiet;

static void usage(FILE *f, const char *prog, const struct cli_cmd *cmds, unsigned flags)
{
	fprintf(f, "usage: %s [GLOBAL OPTIONS] COMMAND [ARGS...]\n\ncommands:\n", prog);
	for (const struct cli_cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fprintf(f, "\nglobal options (before COMMAND, or among its options):\n");
	if (flags & CLI_STATE_OPT)
		fprintf(f, "  --state DIR    catalog and records (default $VHDVISOR_STATE or "
			   "/var/lib/vhdvisor)\n");
	if (flags & CLI_REMOTE_OPT)
		fprintf(f, "  --host URL     the API of vhdvisord at https://HOST:PORT instead of\n"
			   "                 this host's ($VHDVISOR_HOST; before COMMAND)\n"
			   "  --token T      its bearer token (better $VHDVISOR_TOKEN: other users\n"
			   "                 can read command lines, not environments)\n"
			   "  --fingerprint FP  the SHA-256 of its certificate ($VHDVISOR_FINGERPRINT;\n"
			   "                 default: ~/.config/vhdvisor/known_hosts, first use recorded)\n");
	fprintf(f, "  -q, --quiet    only errors: no warnings, no progress\n"
		   "  -v, --verbose  debug messages\n"
		   "  -h, --help     this help       --version   the version\n"
		   "\n'%s COMMAND --help' describes one command.\n", prog);
}

void cli_set_quiet(void)
{
	quiet = true;
	log_set_level(LOG_LVL_ERR);
	setenv("VHDVISOR_LOG", "err", 1);
}

void cli_set_verbose(void)
{
	quiet = false;
	log_set_level(LOG_LVL_DBG);
	setenv("VHDVISOR_LOG", "debug", 1);
}

bool cli_quiet(void)
{
	return quiet;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

/* --host, --token, --fingerprint (also as --opt=VALUE) into their
 * variables: true when argv[*i] was one, with an exit code in *@rc. */
static bool remote_opt(const char *prog, int argc, char **argv, int *i, int *rc)
{
	static const char *const opts[][2] = {
		{ "--host", "VHDVISOR_HOST" },
		{ "--token", "VHDVISOR_TOKEN" },
		{ "--fingerprint", "VHDVISOR_FINGERPRINT" },
	};
	const char *o = argv[*i], *v;

	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		size_t n = strlen(opts[k][0]);

		if (strncmp(o, opts[k][0], n) || (o[n] != '=' && o[n]))
			continue;
		v = o[n] ? o + n + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
		if (!v || !*v) {
			fprintf(stderr, "%s: %s needs a value\n", prog, opts[k][0]);
			*rc = CLI_USAGE;
		} else {
			setenv(opts[k][1], v, 1);
			*rc = CLI_OK;
		}
		return true;
	}
	return false;
}

/* Consumes the global options at argv[*i]; CLI_OK to go on, else an exit code. */
static int global_opt(const char *prog, const struct cli_cmd *cmds, unsigned flags,
		      int argc, char **argv, int *i)
{
	const char *o = argv[*i];
	int r;

	if (!strcmp(o, "-q") || !strcmp(o, "--quiet")) {
		cli_set_quiet();
	} else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) {
		cli_set_verbose();
	} else if ((flags & CLI_STATE_OPT) && !strncmp(o, "--state", 7) &&
		   (o[7] == '=' || !o[7])) {
		const char *dir = o[7] ? o + 8 : (*i + 1 < argc ? argv[++*i] : NULL);

		if (!dir || !*dir) {
			fprintf(stderr, "%s: --state needs a directory\n", prog);
			return CLI_USAGE;
		}
		setenv("VHDVISOR_STATE", dir, 1);
	} else if ((flags & CLI_REMOTE_OPT) && remote_opt(prog, argc, argv, i, &r)) {
		return r;
	} else {
		fprintf(stderr, "%s: unknown global option '%s'\n", prog, o);
		usage(stderr, prog, cmds, flags);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int cli_dispatch(const char *prog, const struct cli_cmd *cmds, unsigned flags,
		 int argc, char **argv)
{
	const char *name;
	int i = 1, r;

	log_init(prog);
	for (; i < argc && argv[i][0] == '-'; i++) {
		name = argv[i];
		if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
			usage(stdout, prog, cmds, flags);
			return CLI_OK;
		}
		if (!strcmp(name, "--version")) {
			printf("%s %s\n", prog, VHDVISOR_VERSION);
			return CLI_OK;
		}
		r = global_opt(prog, cmds, flags, argc, argv, &i);
		if (r)
			return r;
	}
	if (i >= argc) {
		usage(stderr, prog, cmds, flags);
		return CLI_USAGE;
	}
	name = argv[i];
	if (!strcmp(name, "help")) {
		usage(stdout, prog, cmds, flags);
		return CLI_OK;
	}
	if (!strcmp(name, "version")) {
		printf("%s %s\n", prog, VHDVISOR_VERSION);
		return CLI_OK;
	}
	for (const struct cli_cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c->run(argc - i, argv + i);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, name);
	usage(stderr, prog, cmds, flags);
	return CLI_USAGE;
}

/* ---- global options after the subcommand ---- */

enum { CLI_O_QUIET = 0x7f01, CLI_O_VERBOSE };
#define CLI_MAX_LONGOPTS 64

static bool has_long(const struct option *lo, const char *name)
{
	for (; lo && lo->name; lo++)
		if (!strcmp(lo->name, name))
			return true;
	return false;
}

int cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts)
{
	static struct option merged[CLI_MAX_LONGOPTS];
	static const struct option *merged_from;
	static char shorts[128];
	static const char *shorts_from;
	bool own_q = strchr(optstring, 'q'), own_v = strchr(optstring, 'v');
	int ch;

	if (merged_from != longopts) {
		size_t n = 0;

		for (const struct option *lo = longopts; lo && lo->name; lo++)
			if (n < CLI_MAX_LONGOPTS - 3)
				merged[n++] = *lo;
		if (!has_long(longopts, "quiet"))
			merged[n++] = (struct option){ "quiet", no_argument, NULL, CLI_O_QUIET };
		if (!has_long(longopts, "verbose"))
			merged[n++] = (struct option){ "verbose", no_argument, NULL,
						       CLI_O_VERBOSE };
		merged[n] = (struct option){ 0 };
		merged_from = longopts;
	}
	if (shorts_from != optstring) {
		snprintf(shorts, sizeof(shorts), "%s%s%s", optstring, own_q ? "" : "q",
			 own_v ? "" : "v");
		shorts_from = optstring;
	}
	for (;;) {
		ch = getopt_long(argc, argv, shorts, merged, NULL);
		if (ch == CLI_O_QUIET || (ch == 'q' && !own_q))
			cli_set_quiet();
		else if (ch == CLI_O_VERBOSE || (ch == 'v' && !own_v))
			cli_set_verbose();
		else
			return ch;
	}
}

/* ---- progress ---- */

void cli_meter_init(struct cli_meter *m, bool on)
{
	m->on = on && !quiet;
	m->last = -1;
	cli_meter_update(m, 0, 1);
}

void cli_meter_update(void *opaque, uint64_t done, uint64_t total)
{
	struct cli_meter *m = opaque;
	int now;

	if (!m->on)
		return;
	if (!total || done >= total)
		now = 10000;
	else
		now = (int)((double)done * 10000 / (double)total);
	/* whole percents only, as qemu-img: a line per step, not per call */
	if (m->last >= 0 && (now == m->last || (now / 100 == m->last / 100 && now != 10000)))
		return;
	m->last = now;
	fprintf(stderr, "    (%d.%02d/100%%)%c", now / 100, now % 100, now == 10000 ? '\n' : '\r');
	fflush(stderr);
}

void cli_meter_done(struct cli_meter *m)
{
	cli_meter_update(m, 1, 1);
}

/* ---- per-action help ---- */

const struct cli_action *cli_action_find(const struct cli_action *acts, const char *name)
{
	for (; acts->name; acts++)
		if (!strcmp(acts->name, name) || (acts->alias && !strcmp(acts->alias, name)))
			return acts;
	return NULL;
}

bool cli_action_arity_ok(const char *family, const struct cli_action *act, int n)
{
	if (n < act->min_args)
		fprintf(stderr, "%s %s: missing argument\n", family, act->name);
	else if (act->max_args != CLI_MANY && n > act->max_args)
		fprintf(stderr, "%s %s: too many arguments\n", family, act->name);
	else
		return true;
	return false;
}

static void synopsis(FILE *f, const char *lead, const char *family, const struct cli_action *a)
{
	int indent = (int)(strlen(lead) + strlen(family) + strlen(a->name) + 2);
	const char *s = a->synopsis ? a->synopsis : "";
	size_t n = strcspn(s, "\n");

	fprintf(f, "%s%s %s%s%.*s\n", lead, family, a->name, n ? " " : "", (int)n, s);
	while (s[n] == '\n') {
		s += n + 1;
		n = strcspn(s, "\n");
		fprintf(f, "%*s%.*s\n", indent, "", (int)n, s);
	}
}

void cli_action_usage(FILE *f, const char *family, const struct cli_action *act, bool full,
		      const char *common)
{
	synopsis(f, "usage: ", family, act);
	if (!full)
		return;
	if (act->help)
		fprintf(f, "\n%s\n", act->help);
	if (common)
		fprintf(f, "\n%s\n", common);
}

void cli_family_usage(FILE *f, const char *family, const struct cli_action *acts,
		      const char *about, const char *common)
{
	for (const struct cli_action *a = acts; a->name; a++)
		synopsis(f, a == acts ? "usage: " : "       ", family, a);
	if (about)
		fprintf(f, "\n%s\n", about);
	if (common)
		fprintf(f, "\n%s\n", common);
	fprintf(f, "\n'%s ACTION --help' describes one action.\n", family);
}

int cli_family_begin(const char *family, const struct cli_action *acts, const char *about,
		     const char *common, int argc, char **argv)
{
	const struct cli_action *a;

	if (argc < 2) {
		cli_family_usage(stderr, family, acts, about, common);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		cli_family_usage(stdout, family, acts, about, common);
		return CLI_OK;
	}
	a = cli_action_find(acts, argv[1]);
	if (!a) {
		fprintf(stderr, "%s: unknown action '%s'\n", family, argv[1]);
		cli_family_usage(stderr, family, acts, about, common);
		return CLI_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		cli_action_usage(stdout, family, a, true, common);
		return CLI_OK;
	}
	return -1;
}
