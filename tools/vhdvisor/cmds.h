/* tools/vhdvisor/cmds.h: the subcommands of `vhdvisor`, one file each
 * (cmd_NAME.c), returning exit codes (tools/common/cli.h). */
#ifndef VV_TOOLS_VHDVISOR_CMDS_H
#define VV_TOOLS_VHDVISOR_CMDS_H

int cmd_net(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_token(int argc, char **argv);   /* cmd_token.c */
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
/* -p/--progress: progress also when stderr is not a terminal (never
 * under -q). */
void imgcli_progress_force(void);
/* Parses --mem SIZE (a plain number is MiB) within the limits of
 * hv/vm_config.h; logs "bad --mem" (cmd_vm.c). 0 or -1. */
int vmcli_mem_parse(const char *s, uint64_t *mem);
/* `vm console NAME [--follow|--dump]` (cmd_vm_console.c). */
int cmd_vm_console(const char *name, bool follow, bool dump);
/* `vm set NAME --password PW|- --ssh-key FILE|none` (cmd_vm_login.c);
 * NULL leaves that one alone. */
int cmd_vm_login(struct cat *c, const char *name, const char *password, const char *key_file);
/* `vm disk ACTION ARGS...` with @argv[0] = ACTION (cmd_vm_disk.c). */
int cmd_vm_disk(struct cat *c, int argc, char **argv, const char *file);

/* The commands that go through the management API (apicli.c): the
 * door is chosen by appliance/client.h from $VHDVISOR_HOST, $VHDVISOR_TOKEN
 * and $VHDVISOR_FINGERPRINT (the global --host, --token, --fingerprint),
 * else the local daemon when one serves @state, else in-process. These
 * log their own errors and return exit codes. */
#include <json-c/json.h>
struct api_client;
int cmd_host(int argc, char **argv);    /* cmd_host.c */
/* True when a remote host was asked for. */
bool apicli_remote(void);
/* For what has no API route yet: a usage error under --host. */
/* @cmd ("vm") and @act ("create", or NULL). */
int apicli_local_only(const char *cmd, const char *act);
int apicli_open(const char *state, struct api_client **out);
const char *apicli_door_name(const struct api_client *cl);
/* One request; on a 2xx the reply in *@reply (the caller's), else the
 * server's error logged and CLI_USAGE for a 400, CLI_FAIL otherwise. */
int apicli_call(struct api_client *cl, const char *method, const char *path, json_object *body,
		json_object **reply);
/* GET API_PREFIX @path, followed by @param percent-encoded (or NULL). */
int apicli_get(const char *state, const char *path, const char *param, json_object **reply);
/* @buf = API_PREFIX, then literal, param (percent-encoded), literal, ...
 * up to a NULL: apicli_path(p, sizeof(p), "/vms/", name, "/clone", NULL).
 * CLI_USAGE (logged) when it does not fit. */
#include <stddef.h>
int apicli_path(char *buf, size_t len, const char *first, ...);
/* One request by the door apicli_open() picks; @body is taken. A refusal
 * (a 4xx/5xx) is logged and CLI_FAIL: the commands check their own
 * options, so a 400 is the operation's refusal, exit 1 as it always was. */
int apicli_do(const char *state, const char *method, const char *path, json_object *body,
	      json_object **reply);
/* The same without a word on a refusal: 0 with the HTTP status in
 * *@status and the reply (the caller's) in *@reply, or an exit code
 * (logged) when no reply came. @body is taken. */
int apicli_req(const char *state, const char *method, const char *path, json_object *body,
	       int *status, json_object **reply);
/* A refusal's "error" text ("failed" without one). */
const char *apicli_error(json_object *reply);
/* The VM commands that go through the API (cmd_vm_write.c); @mem is
 * --mem as typed (NULL: not given), @cpus 0 when not given. */
int vmapi_create(const char *state, const char *name, const char *image, unsigned cpus,
		 const char *mem);
int vmapi_clone(const char *state, const char *src, const char *dst, unsigned count, bool full,
		unsigned cpus, const char *mem);
/* @cloud_init -1 unchanged; returns CLI_OK with *@pending when it ran. */
int vmapi_set(const char *state, const char *name, unsigned cpus, const char *mem,
	      int cloud_init, bool *pending);
int vmapi_rm(const char *state, const char *name);
int vmapi_shutdown(const char *state, const char *name, unsigned timeout_s);
int vmapi_snapshot(const char *state, const char *name, const char *tag);
int vmapi_revert(const char *state, const char *name, const char *tag);
int vmapi_snapshot_rm(const char *state, const char *name, const char *tag);
int vmapi_disk_list(const char *state, const char *name, bool json);

#endif
