/* tools/common/cli.c: subcommand dispatch shared by vhd and vhdvisor. */
#include "tools/common/cli.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

#ifndef VHDVISOR_VERSION
#define VHDVISOR_VERSION "0.1.0"
#endif

static void usage(FILE *f, const char *prog, const struct cli_cmd *cmds)
{
	fprintf(f, "usage: %s COMMAND [ARGS...]\n\ncommands:\n", prog);
	for (const struct cli_cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fprintf(f, "\n'%s COMMAND --help' describes one command.\n", prog);
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

int cli_dispatch(const char *prog, const struct cli_cmd *cmds, int argc, char **argv)
{
	const char *name;

	log_init(prog);
	if (argc < 2) {
		usage(stderr, prog, cmds);
		return CLI_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		usage(stdout, prog, cmds);
		return CLI_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("%s %s\n", prog, VHDVISOR_VERSION);
		return CLI_OK;
	}
	for (const struct cli_cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, name);
	usage(stderr, prog, cmds);
	return CLI_USAGE;
}
