/* Unit tests for appliance/event.c and appliance/task.c: the stream's
 * per-client queues (whole events in order, partial reads, a client that
 * does not read is dropped while another goes on, shutdown ends readers),
 * and tasks (progress, result, cancel, one task per target, the record in
 * tasks.db, interrupted tasks failed at the next start). Criterion runs
 * each test in a process of its own, so the modules' state starts fresh. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "appliance/event.h"
#include "appliance/task.h"

static void emit_n(const char *type, int n)
{
	for (int i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "i", json_object_new_int(i));
		api_event_emit(type, o);
	}
}

Test(event, whole_events_in_order)
{
	struct api_event_sub *s = api_event_subscribe();
	char buf[4096];
	ssize_t n;

	cr_assert_not_null(s);
	cr_assert_eq(api_event_read(s, buf, sizeof(buf), 0), 0, "nothing yet");
	emit_n("x.y", 2);
	n = api_event_read(s, buf, sizeof(buf) - 1, 0);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_assert(strstr(buf, "event: x.y\ndata: {\"i\":0,\"type\":\"x.y\",\"time\":"), "%s", buf);
	cr_assert(!strncmp(buf, "id: ", 4));
	cr_assert(!strcmp(buf + n - 3, "}\n\n"), "one event per read: %s", buf);
	n = api_event_read(s, buf, sizeof(buf) - 1, 0);
	buf[n] = '\0';
	cr_assert(strstr(buf, "\"i\":1"), "%s", buf);
	api_event_unsubscribe(s);
}

Test(event, partial_reads)
{
	struct api_event_sub *s = api_event_subscribe();
	char buf[8], all[512] = "";
	ssize_t n;

	emit_n("t", 1);
	while ((n = api_event_read(s, buf, sizeof(buf), 0)) > 0)
		strncat(all, buf, (size_t)n);
	cr_assert_eq(n, 0);
	cr_assert(strstr(all, "event: t\ndata: {\"i\":0,") && strstr(all, "}\n\n"), "%s", all);
	api_event_unsubscribe(s);
}

Test(event, slow_client_dropped_others_go_on)
{
	struct api_event_sub *slow = api_event_subscribe(), *fast = api_event_subscribe();
	char buf[4096];

	for (int i = 0; i < EVENT_QUEUE_MAX + 10; i++) {
		emit_n("e", 1);
		cr_assert_gt(api_event_read(fast, buf, sizeof(buf), 0), 0, "fast client, event %d", i);
	}
	cr_assert_eq(api_event_read(slow, buf, sizeof(buf), 0), -EPIPE, "the slow one is dropped");
	emit_n("e", 1);
	cr_assert_eq(api_event_read(slow, buf, sizeof(buf), 0), -EPIPE, "and stays dropped");
	cr_assert_gt(api_event_read(fast, buf, sizeof(buf), 0), 0);
	api_event_unsubscribe(slow);
	api_event_unsubscribe(fast);
}

Test(event, subscriber_limit_and_shutdown)
{
	struct api_event_sub *s[EVENT_SUBS_MAX];
	char buf[64];

	for (int i = 0; i < EVENT_SUBS_MAX; i++)
		cr_assert_not_null(s[i] = api_event_subscribe());
	cr_assert_null(api_event_subscribe(), "one too many");
	api_event_unsubscribe(s[0]);
	cr_assert_not_null(s[0] = api_event_subscribe(), "room again");
	api_event_fini();
	cr_assert_eq(api_event_read(s[1], buf, sizeof(buf), 5000), -ESHUTDOWN);
	cr_assert_null(api_event_subscribe(), "none after shutdown");
	for (int i = 0; i < EVENT_SUBS_MAX; i++)
		api_event_unsubscribe(s[i]);
}

/* ---- tasks ---- */

static char state[64];

static void state_dir(void)
{
	snprintf(state, sizeof(state), "/tmp/vvtask.XXXXXX");
	cr_assert_not_null(mkdtemp(state));
}

static void state_rm(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	cr_assert_eq(system(cmd), 0);
}

struct gate {
	atomic_int stage;       /* 1: the task runs; 2: let it end */
	int ret;
};

static int gated(struct task *t, void *arg)
{
	struct gate *g = arg;
	int zero = 0;

	task_progress(t, 40, 4096);
	atomic_compare_exchange_strong(&g->stage, &zero, 1);
	while (atomic_load(&g->stage) < 2 && !task_cancelled(t))
		usleep(1000);
	if (task_cancelled(t))
		return -ECANCELED;
	task_result(t, json_object_new_string("fine"));
	if (g->ret)
		task_error(t, "it broke");
	return g->ret;
}

/* Waits until task @id is in @want; its JSON in *@out (caller puts). */
static void wait_state(const char *id, const char *want, json_object **out)
{
	for (int i = 0; i < 5000; i++) {
		cr_assert_eq(task_get_json(id, out), 0);
		if (!strcmp(json_object_get_string(json_object_object_get(*out, "state")), want))
			return;
		json_object_put(*out);
		usleep(1000);
	}
	cr_assert_fail("task %s never %s", id, want);
}

static const char *field(json_object *j, const char *k)
{
	return json_object_get_string(json_object_object_get(j, k));
}

Test(task, runs_reports_and_ends)
{
	struct gate g = { 0 };
	char id[TASK_ID_LEN + 1], id2[TASK_ID_LEN + 1];
	json_object *j, *list;
	struct stat st;
	char path[128];

	state_dir();
	cr_assert_eq(task_init(state), 0);
	snprintf(path, sizeof(path), "%s/tasks.db", state);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(task_submit("k.run", "obj:a", "me", false, NULL, gated, &g, NULL, id), 0);
	cr_assert_eq(strlen(id), TASK_ID_LEN);
	while (!atomic_load(&g.stage))
		usleep(1000);
	wait_state(id, "running", &j);
	cr_assert_eq(json_object_get_int(json_object_object_get(j, "percent")), 40);
	cr_assert_eq(json_object_get_int64(json_object_object_get(j, "bytes")), 4096);
	cr_assert_str_eq(field(j, "who"), "me");
	json_object_put(j);
	cr_assert_eq(task_submit("k.run", "obj:a", "me", false, NULL, gated, &g, NULL, id2),
		     -EBUSY, "one task per target");
	atomic_store(&g.stage, 2);
	wait_state(id, "done", &j);
	cr_assert_eq(json_object_get_int(json_object_object_get(j, "percent")), 100);
	cr_assert_str_eq(field(j, "result"), "fine");
	json_object_put(j);
	cr_assert_eq(task_cancel(id), -EALREADY);
	cr_assert_eq(task_cancel("0123456789abcdef"), -ENOENT);

	g.ret = -EIO;
	atomic_store(&g.stage, 0);
	cr_assert_eq(task_submit("k.run", "obj:a", "me", false, NULL, gated, &g, NULL, id2), 0);
	while (!atomic_load(&g.stage))
		usleep(1000);
	atomic_store(&g.stage, 2);
	wait_state(id2, "failed", &j);
	cr_assert_str_eq(field(j, "error"), "it broke");
	json_object_put(j);
	list = task_list_json();
	cr_assert_eq(json_object_array_length(list), 2);
	json_object_put(list);
	task_fini(1000);
	state_rm();
}

Test(task, cancel)
{
	struct gate g = { 0 };
	char id[TASK_ID_LEN + 1];
	json_object *j;

	state_dir();
	cr_assert_eq(task_init(state), 0);
	cr_assert_eq(task_submit("k", "t", "me", false, NULL, gated, &g, NULL, id), 0);
	while (!atomic_load(&g.stage))
		usleep(1000);
	cr_assert_eq(task_cancel(id), 0);
	wait_state(id, "cancelled", &j);
	cr_assert_null(json_object_object_get(j, "result"));
	json_object_put(j);
	task_fini(1000);
	state_rm();
}

Test(task, events_of_a_task)
{
	struct api_event_sub *s = api_event_subscribe();
	struct gate g = { 0 };
	char id[TASK_ID_LEN + 1], buf[4096], all[16384] = "";
	json_object *j;
	ssize_t n;

	state_dir();
	cr_assert_eq(task_init(state), 0);
	atomic_store(&g.stage, 2);
	cr_assert_eq(task_submit("k", "t", "me", false, NULL, gated, &g, NULL, id), 0);
	wait_state(id, "done", &j);
	json_object_put(j);
	while ((n = api_event_read(s, buf, sizeof(buf), 0)) > 0)
		strncat(all, buf, (size_t)n);
	cr_assert(strstr(all, "\"state\":\"queued\",\"percent\":0"), "%s", all);
	cr_assert(strstr(all, "\"state\":\"running\",\"percent\":40"), "%s", all);
	cr_assert(strstr(all, "\"state\":\"done\",\"percent\":100"), "%s", all);
	api_event_unsubscribe(s);
	task_fini(1000);
	state_rm();
}

Test(task, interrupted_tasks_fail_at_start)
{
	char path[128];
	sqlite3 *db;
	json_object *j;

	state_dir();
	cr_assert_eq(task_init(state), 0);
	task_fini(0);
	/* what a daemon killed during two tasks leaves behind */
	snprintf(path, sizeof(path), "%s/tasks.db", state);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
		"INSERT INTO tasks (id, kind, target, who, state, percent, created, resumable) "
		"VALUES ('00000000000000aa', 'lab.start', 'lab:x', 'me', 'running', 50, 1, 0),"
		"('00000000000000bb', 'vm.merge', 'vm:y', 'me', 'queued', 0, 2, 1),"
		"('00000000000000cc', 'lab.stop', 'lab:z', 'me', 'done', 100, 3, 0)",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(task_init(state), 0);
	cr_assert_eq(task_get_json("00000000000000aa", &j), 0);
	cr_assert_str_eq(field(j, "state"), "failed");
	cr_assert_str_eq(field(j, "error"), "interrupted: the daemon stopped while the task ran");
	cr_assert_eq(json_object_get_int(json_object_object_get(j, "percent")), 50);
	json_object_put(j);
	cr_assert_eq(task_get_json("00000000000000bb", &j), 0);
	cr_assert_str_eq(field(j, "state"), "failed");
	cr_assert(json_object_get_boolean(json_object_object_get(j, "resumable")));
	cr_assert(strstr(field(j, "error"), "(resumable)"));
	json_object_put(j);
	cr_assert_eq(task_get_json("00000000000000cc", &j), 0);
	cr_assert_str_eq(field(j, "state"), "done", "ended tasks stay as they were");
	json_object_put(j);
	task_fini(0);
	state_rm();
}
