/* tools/vhdvisor/cmds.h: the subcommands of `vhdvisor`, one file each
 * (cmd_NAME.c), returning exit codes (tools/common/cli.h). */
#ifndef VV_TOOLS_VHDVISOR_CMDS_H
#define VV_TOOLS_VHDVISOR_CMDS_H

int cmd_net(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_catalog(int argc, char **argv);   /* cmd_catalog.c */

/* image, vm, lab (cmd_image.c, cmd_vm.c, cmd_lab.c) */
#include <stdbool.h>
#include <stdint.h>
int cmd_lab(int argc, char **argv);
int cmd_vm(int argc, char **argv);
int cmd_image(int argc, char **argv);
/* Helpers of cmd_image.c that cmd_vm.c and cmd_lab.c share: open the
 * catalog of --state DIR (NULL: the default), resolve an image reference,
 * print progress on a terminal. They log their own errors. */
struct cat;
int imgcli_open(const char *state, struct cat **out);
int imgcli_resolve(struct cat *c, const char *ref, char *id);
void imgcli_progress(void *opaque, uint64_t done, uint64_t total);
void *imgcli_progress_new(const char *what);
/* `vm disk ACTION ARGS...` with @argv[0] = ACTION (cmd_vm_disk.c). */
int cmd_vm_disk(struct cat *c, int argc, char **argv, const char *file, bool json);

#endif
