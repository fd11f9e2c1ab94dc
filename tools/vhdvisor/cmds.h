/* tools/vhdvisor/cmds.h: the subcommands of `vhdvisor`, one file each
 * (cmd_NAME.c), returning exit codes (tools/common/cli.h). */
#ifndef VV_TOOLS_VHDVISOR_CMDS_H
#define VV_TOOLS_VHDVISOR_CMDS_H

int cmd_run(int argc, char **argv);

#endif
