/* tools/common/cli.h: what the vhd and vhdvisor command tables share. */
#ifndef VV_TOOLS_CLI_H
#define VV_TOOLS_CLI_H

#include <stdbool.h>

/* Exit codes of every subcommand. */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,   /* the operation failed, or problems remain */
	CLI_USAGE = 2,  /* bad usage; also "cannot open" where a command says so */
};

struct cli_cmd {
	const char *name;
	/* argv[0] is the subcommand name; returns an exit code above. */
	int (*run)(int argc, char **argv);
	const char *summary;  /* one line for the command list */
};

/* Runs the subcommand named by argv[1] from @cmds (NULL-terminated by a
 * zero entry); handles --help, help, --version. Returns an exit code. */
int cli_dispatch(const char *prog, const struct cli_cmd *cmds, int argc, char **argv);

/* True when argv has -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

#endif
