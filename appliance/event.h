/* appliance/event.h: the event stream (GET /api/v1/events, server-sent
 * events). Producers call api_event_emit(); each subscriber (one stream
 * client) has a bounded queue of its own, so an emitter never waits for a
 * client: a client whose queue overflows is dropped (its stream ends)
 * and the others go on.
 *
 * Event types: "vm.state" {name, state: running|stopped, pid}: VM starts
 * and stops through the API, and a runtime that appears or goes away by
 * itself (a watcher polls the run directory's pidfiles every second);
 * "task" (a task's JSON, appliance/task.h) on each change;
 * "image.added" / "image.removed" {id, ...} from the image routes.
 * Each event on the wire:
 *
 *   id: SEQ
 *   event: TYPE
 *   data: {"type": TYPE, "time": UNIX-SECONDS, ...the event's fields}
 *
 * and a ": keepalive" comment line when nothing happened for a while.
 */
#ifndef VV_APPLIANCE_EVENT_H
#define VV_APPLIANCE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#define EVENT_QUEUE_MAX 512         /* events waiting for one client */
#define EVENT_SUBS_MAX 64           /* stream clients at once */
#define EVENT_KEEPALIVE_MS 10000
#define EVENT_WATCH_MS 1000         /* the pidfile watcher's period */

/* Sends event @type with the fields of @data (an object, taken; NULL: none)
 * to every subscriber. Never blocks on a client. Any thread. */
void api_event_emit(const char *type, json_object *data);

/* VM @name now runs (its runtime @pid) or stopped: a "vm.state" event,
 * unless the watcher or an earlier call already said so. */
void api_event_vm_state(const char *name, bool running, pid_t pid);

/* Starts the pidfile watcher over the run directory (vmrec_run_dir()),
 * knowing the VMs running now without an event. 0 or -errno. */
int api_event_init(void);
/* Stops the watcher and ends every stream (their readers return
 * -ESHUTDOWN); later subscriptions fail. */
void api_event_fini(void);

struct api_event_sub;

/* A new subscriber: it gets the events emitted from now on. NULL when
 * there are EVENT_SUBS_MAX already, after api_event_fini() or without
 * memory. */
struct api_event_sub *api_event_subscribe(void);
void api_event_unsubscribe(struct api_event_sub *s);

/* The next bytes of @s's stream into @buf (at most @len): waits up to
 * @timeout_ms for an event. The count (> 0); 0 when the time passed with
 * nothing to send; -EPIPE when the client was dropped (its queue
 * overflowed); -ESHUTDOWN when the daemon stops. */
ssize_t api_event_read(struct api_event_sub *s, char *buf, size_t len, unsigned timeout_ms);

/* True when a reply of api_dispatch() to @method @url is the go-ahead to
 * stream events (the caller then serves the stream instead). */
bool api_event_is_stream(const char *method, const char *url, int status);

#endif
