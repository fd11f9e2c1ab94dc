/* hv/vm_client.h: talking to a running VM's API socket (hv/api.h) from
 * another process: the catalog's `vm snapshot`, tools. */
#ifndef VV_HV_VM_CLIENT_H
#define VV_HV_VM_CLIENT_H

#include <stddef.h>

#include <json-c/json.h>

/* Sends @req (a JSON object, not consumed) to the API socket at
 * @api_path and waits up to @timeout_ms for the reply. Returns 0 with
 * *reply (caller puts it; may be NULL when not wanted) when the VM
 * answered "ok":true; -EIO with the VM's "error" text in @err when it
 * refused; another -errno (-ENOENT/-ECONNREFUSED: the VM does not run)
 * with a reason in @err when it could not be asked. */
int vm_client_request(const char *api_path, struct json_object *req,
		      struct json_object **reply, int timeout_ms, char *err, size_t errlen);

/* Asks the VM to make @file (a differencing child of the current top of
 * its disk @disk, already created) that disk's writable top; the guest
 * is paused for the switch. 0 or -errno with the reason in @err. */
int vm_client_switch_disk(const char *api_path, unsigned disk, const char *file,
			  char *err, size_t errlen);

#endif
