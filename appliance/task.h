/* appliance/task.h: long operations as tasks. A task has an id, a kind
 * ("lab.start"), a target (what it works on: "lab:web"), a state, a
 * percent, bytes done, a cancel flag the operation polls, and a result or
 * an error. It runs on a thread of its own and outlives the request that
 * made it (which answers 202 with the task).
 *
 * Tasks are recorded in STATE/tasks.db (SQLite, 0600), a database of their
 * own rather than tables in the catalog: progress is written while the
 * catalog may be held by the very operation that reports it, task rows are
 * the daemon's bookkeeping (not catalog state that `catalog check/recover`
 * must vouch for), and the catalog's schema stays the images/ library's.
 * When the daemon starts, a task the table still shows queued or running
 * was interrupted (the daemon died under it): it is marked failed, or,
 * when its kind said it is resumable (a merge), failed with resumable set,
 * so that the operation's own resume can pick it up from its args.
 * Every change of a task is also an event ("task", appliance/event.h).
 */
#ifndef VV_APPLIANCE_TASK_H
#define VV_APPLIANCE_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#define TASK_ID_LEN 16          /* hex digits */
#define TASK_LIST_MAX 200       /* GET /tasks: the newest this many */
#define TASK_KEEP 1000          /* finished tasks kept in tasks.db */
#define TASK_ACTIVE_MAX 64      /* queued or running at once */

struct task;

/* The operation: 0 (done), -ECANCELED (it saw task_cancelled()), or
 * another -errno (failed; the reason set by task_error(), else
 * strerror()). */
typedef int (*task_fn)(struct task *t, void *arg);

/* Opens (creates) STATE/tasks.db and marks interrupted tasks failed.
 * 0 or -errno. */
int task_init(const char *state_dir);

/* Cancels the running tasks and waits up to @wait_ms for them to end;
 * new tasks are refused from here on. */
void task_fini(unsigned wait_ms);

/* Runs @fn(@arg) as a new task of @kind on @target, asked for by @who;
 * @arg_free(@arg) (may be NULL) once it ended. @args (may be NULL; not
 * taken) is recorded with it, for a resume. The id into @id. 0, -EBUSY
 * (a task on @target is queued or running), -EAGAIN (too many tasks),
 * -ESHUTDOWN (stopping) or -errno; @arg is freed on failure too. */
int task_submit(const char *kind, const char *target, const char *who, bool resumable,
		json_object *args, task_fn fn, void *arg, void (*arg_free)(void *arg),
		char id[TASK_ID_LEN + 1]);

/* For the operation: progress (0..100, and bytes done), recorded and sent
 * as an event when the percent changes (or the bytes, at most once a
 * second). */
void task_progress(struct task *t, unsigned percent, uint64_t bytes);
/* True once someone cancelled the task. */
bool task_cancelled(const struct task *t);
/* The result object of a task that ends (taken). */
void task_result(struct task *t, json_object *result);
/* The reason of a task that fails. */
void task_error(struct task *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Task @id as JSON: {id, kind, target, who, state, percent, bytes, error,
 * result, resumable, created, started, finished} (a new object into
 * *@out). 0, -ENOENT or -errno. */
int task_get_json(const char *id, json_object **out);
/* The newest TASK_LIST_MAX tasks, newest first (a new array), or NULL. */
json_object *task_list_json(void);
/* Sets task @id's cancel flag. 0, -ENOENT, -EALREADY (it has ended). A
 * task still queued ends cancelled at once. */
int task_cancel(const char *id);

#endif
