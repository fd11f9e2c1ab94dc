/* tools/common/cli.h: what the vhd and vhdvisor command tables share. */
#ifndef VV_TOOLS_CLI_H
#define VV_TOOLS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every subcommand. */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,   /* the operation failed (a missing file or object too) */
	CLI_USAGE = 2,  /* bad usage: unknown command/option, missing or bad argument */
};

struct cli_cmd {
	const char *name;
	/* argv[0] is the subcommand name; returns an exit code above. */
	int (*run)(int argc, char **argv);
	const char *summary;  /* one line for the command list */
};

/* cli_dispatch flags. */
enum {
	CLI_STATE_OPT = 1,    /* accept the global --state DIR ($VHDVISOR_STATE) */
	/* accept --host URL, --token T, --fingerprint FP, exported as
	 * $VHDVISOR_HOST, $VHDVISOR_TOKEN, $VHDVISOR_FINGERPRINT */
	CLI_REMOTE_OPT = 2,
};

/* Runs the subcommand named after the global options of argv from @cmds
 * (ended by a zero entry). Global options, before the subcommand: -h/--help,
 * --version, -q/--quiet, -v/--verbose and, with CLI_STATE_OPT, --state DIR
 * (exported as $VHDVISOR_STATE, so the subcommand and its children see it).
 * Returns an exit code. */
int cli_dispatch(const char *prog, const struct cli_cmd *cmds, unsigned flags,
		 int argc, char **argv);

/* True when argv has -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

/* -q: only errors (no warnings, no progress); -v: debug messages. Exported
 * as $VHDVISOR_LOG for child processes. */
void cli_set_quiet(void);
void cli_set_verbose(void);
bool cli_quiet(void);

/* getopt_long() that also accepts the global options -q/--quiet and
 * -v/--verbose (unless @optstring or @longopts use those names) and applies
 * them itself; it returns only the caller's options. @longopts holds at most
 * 60 entries. */
int cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts);

/* A progress line as qemu-img's -p draws it, "    (42.00/100%)", rewritten
 * in place on stderr and ended by a newline at 100%. Off under -q. */
struct cli_meter {
	bool on;
	int last;       /* hundredths of a percent last drawn, -1 none */
};
void cli_meter_init(struct cli_meter *m, bool on);
/* An img_progress_fn / vhd_progress_fn: @opaque is a struct cli_meter. */
void cli_meter_update(void *opaque, uint64_t done, uint64_t total);
/* Draws 100% (the operation succeeded) unless it was drawn. */
void cli_meter_done(struct cli_meter *m);

/* One action of a command family (`vhdvisor vm start`): tables end with a
 * zero entry. */
struct cli_action {
	const char *name;
	const char *synopsis;  /* what follows "FAMILY NAME"; "\n" starts a continuation */
	const char *help;      /* what it does and its options, or NULL */
	const char *alias;     /* another name ("ls"), or NULL */
	unsigned char min_args, max_args;  /* positional arguments (CLI_MANY: no limit) */
};

#define CLI_MANY 255

/* True when @n positional arguments suit @act (else logs what is wrong). */
bool cli_action_arity_ok(const char *family, const struct cli_action *act, int n);

/* The action named @name (or by its alias), or NULL. */
const struct cli_action *cli_action_find(const struct cli_action *acts, const char *name);

/* Prints "usage: FAMILY NAME SYNOPSIS" of @act, then with @full its help
 * and @common (the options every action takes). */
void cli_action_usage(FILE *f, const char *family, const struct cli_action *act, bool full,
		      const char *common);

/* Prints the synopsis of every action of @acts, then @about and @common. */
void cli_family_usage(FILE *f, const char *family, const struct cli_action *acts,
		      const char *about, const char *common);

/* The start of a family command (argv[0] = the family, argv[1] = the
 * action): no action is usage (exit 2); --help or "help" before the action
 * prints the family's help (0); ACTION --help that action's help (0); an
 * unknown action is an error (2). Returns -1 when the caller goes on with
 * argv[1], else the exit code. */
int cli_family_begin(const char *family, const struct cli_action *acts, const char *about,
		     const char *common, int argc, char **argv);

#endif
