/* tools/vhd/cmds.h: the subcommands of `vhd`, one file each (cmd_NAME.c).
 * Each takes argv with argv[0] = the subcommand and returns an exit code
 * (tools/common/cli.h). */
#ifndef VV_TOOLS_VHD_CMDS_H
#define VV_TOOLS_VHD_CMDS_H

int cmd_create(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_flatten(int argc, char **argv);
int cmd_resize(int argc, char **argv);
int cmd_compact(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);

#endif
