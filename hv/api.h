/* hv/api.h: the control endpoint of a running VM: newline-delimited JSON
 * over a Unix stream socket, one request and one reply per line:
 *
 *	{"cmd":"status"}     -> {"ok":true,"state":"running",...}
 *	{"cmd":"pause"|"resume"|"powerdown"|"stop"} -> {"ok":true}
 *	{"cmd":"switch-disk","disk":N,"file":PATH} -> {"ok":true}
 *	                     (PATH: a differencing child of disk N's current
 *	                     top, made its writable top; see engine.h)
 *	{"cmd":"disk-stats"} -> {"ok":true,"disks":[{"disk":N,"read_ops":..,
 *	                     "read_bytes":.., (also write, flush, write_zeroes,
 *	                     discard), "errors":..,"inflight":..,
 *	                     "latency_log2_us":[24 counts]}]} (blkback/bdev.h's
 *	                     counters; bucket i > 0: [2^(i-1), 2^i) us),
 *	                     "limits":{"rbps":..,"wbps":..,"riops":..,"wiops":..,
 *	                     and each with _burst} (0 = unlimited / default)
 *	{"cmd":"set-disk-limit","disk":N,"wbps":20971520,...} -> {"ok":true}
 *	                     (keys as in "limits"; keys not given keep their
 *	                     value; effective at once; blkback/ratelimit.h)
 *	anything else        -> {"ok":false,"error":"..."}
 *
 * The server is internal to hv/: the VM (hv/vm.c) answers the requests;
 * callers never see QMP. Other modules talk to it with hv/vm_client.h. Single-threaded; served from vm_run()'s loop.
 */
#ifndef VV_HV_API_H
#define VV_HV_API_H

#include <json-c/json.h>

struct vm_api;

/* Answers one request: fills @reply (a JSON object with at least "ok").
 * @req is a JSON object. */
typedef void (*vm_api_handler)(struct json_object *req, struct json_object *reply,
			       void *opaque);

/* Listens on @path (mode 0600; an existing socket nobody answers on is
 * replaced, a live one is -EADDRINUSE). Returns 0 or -errno. */
int vm_api_create(const char *path, vm_api_handler fn, void *opaque, struct vm_api **out);
/* Closes every connection and removes the socket file; accepts NULL. */
void vm_api_destroy(struct vm_api *api);
/* Readable when there is a connection or a request to serve. */
int vm_api_fd(const struct vm_api *api);
/* Accepts connections and answers complete requests without blocking. */
void vm_api_serve(struct vm_api *api);

#endif
