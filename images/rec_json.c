/* images/rec_json.c: catalog records as JSON (see rec_json.h). */
#include "images/rec_json.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/vmrec.h"
#include "images/vmrun.h"

static int add_ref(void *opaque, const char *name, const char *version)
{
	char ref[2 * CAT_NAME_MAX + 2];

	snprintf(ref, sizeof(ref), "%s:%s", name, version);
	json_object_array_add(opaque, json_object_new_string(ref));
	return 0;
}

static int add_label(void *opaque, const char *label)
{
	json_object_array_add(opaque, json_object_new_string(label));
	return 0;
}

static void put_str(json_object *j, const char *key, const char *s)
{
	json_object_object_add(j, key, json_object_new_string(s));
}

static void put_i64(json_object *j, const char *key, int64_t v)
{
	json_object_object_add(j, key, json_object_new_int64(v));
}

json_object *img_image_json(struct cat *c, const struct cat_image *img)
{
	json_object *j = json_object_new_object();
	json_object *names = json_object_new_array(), *labels = json_object_new_array();

	put_str(j, "id", img->id);
	cat_name_foreach(c, img->id, add_ref, names);
	json_object_object_add(j, "names", names);
	cat_label_foreach(c, img->id, add_label, labels);
	json_object_object_add(j, "labels", labels);
	put_str(j, "file", img->file);
	put_str(j, "file_sha256", img->file_sha256);
	put_i64(j, "virtual_size", (int64_t)img->virtual_size);
	put_i64(j, "file_size", (int64_t)img->file_size);
	put_str(j, "os", img->os);
	put_str(j, "arch", img->arch);
	put_str(j, "boot", img->boot);
	put_i64(j, "min_mem", (int64_t)img->min_mem);
	put_i64(j, "min_disk", (int64_t)img->min_disk);
	put_str(j, "source", img->source);
	put_i64(j, "created", img->created);
	json_object_object_add(j, "parent", img->parent[0] ?
			       json_object_new_string(img->parent) : NULL);
	json_object_object_add(j, "cloud_init", json_object_new_boolean(img->cloud_init));
	return j;
}

static int add_snap(void *opaque, const struct cat_snapshot *s)
{
	json_object *o = json_object_new_object();

	put_str(o, "tag", s->tag);
	put_i64(o, "created", s->created);
	json_object_array_add(opaque, o);
	return 0;
}

/* @disk: the top layer's path, or NULL when there is none. */
static json_object *vm_json(struct cat *c, const struct cat_vm *vm, bool snapshots,
			    const char *disk, pid_t pid)
{
	json_object *j = json_object_new_object();
	bool ready = !strcmp(vm->state, CAT_VM_READY);
	char ip[32];

	if (!ready)
		pid = 0;
	put_str(j, "name", vm->name);
	put_str(j, "state", !ready ? vm->state : pid ? "running" : "stopped");
	json_object_object_add(j, "pid", json_object_new_int(pid));
	json_object_object_add(j, "image", vm->image[0] ? json_object_new_string(vm->image) : NULL);
	json_object_object_add(j, "cpus", json_object_new_int((int)vm->cpus));
	put_i64(j, "mem", (int64_t)vm->mem);
	put_str(j, "mac", vm->mac);
	put_str(j, "uuid", vm->uuid);
	put_str(j, "machine_id", vm->machine_id);
	put_str(j, "lab", vm->lab);
	put_str(j, "net", vm->net);
	put_i64(j, "created", vm->created);
	json_object_object_add(j, "cloud_init", json_object_new_boolean(vm->cloud_init));
	json_object_object_add(j, "ip", pid && !vmrec_vm_ip(vm, ip, sizeof(ip)) ?
			       json_object_new_string(ip) : NULL);
	if (disk)
		put_str(j, "disk", disk);
	if (snapshots) {
		json_object *snaps = json_object_new_array();

		cat_snap_foreach(c, vm->name, add_snap, snaps);
		json_object_object_add(j, "snapshots", snaps);
	}
	return j;
}

json_object *vmrec_vm_json(struct cat *c, const struct cat_vm *vm, bool snapshots)
{
	char disk[4300];	/* as VMREC_PATH_MAX */
	bool ready = !strcmp(vm->state, CAT_VM_READY);

	return vm_json(c, vm, snapshots, vmrec_disk_path(c, vm->name, disk, sizeof(disk)) ?
		       NULL : disk, ready ? vmrec_pid(vm->name) : 0);
}

/* The names with a pidfile in the run directory, sorted: the VMs that may
 * run. One readdir instead of one failed open() per stopped VM. */
struct pid_names {
	char **v;
	size_t n, cap;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void pid_names_free(struct pid_names *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static int pid_names_read(struct pid_names *p)
{
	static const char sfx[] = ".vm.pid";
	DIR *d = opendir(vmrec_run_dir());
	struct dirent *e;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char **v;

		if (len <= sizeof(sfx) - 1 || strcmp(e->d_name + len - (sizeof(sfx) - 1), sfx))
			continue;
		if (p->n == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 16;
			v = realloc(p->v, p->cap * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			p->v = v;
		}
		p->v[p->n] = strndup(e->d_name, len - (sizeof(sfx) - 1));
		if (!p->v[p->n])
			r = -ENOMEM;
		else
			p->n++;
	}
	closedir(d);
	if (p->n)
		qsort(p->v, p->n, sizeof(*p->v), name_cmp);
	return r;
}

struct list_ctx {
	struct cat *c;
	struct pid_names pids;
	json_object *arr;
};

static int list_one(void *opaque, const struct cat_vm *vm, const char *top_file)
{
	struct list_ctx *l = opaque;
	const char *key = vm->name;
	char disk[4300];
	pid_t pid = 0;

	if (l->pids.n && bsearch(&key, l->pids.v, l->pids.n, sizeof(*l->pids.v), name_cmp))
		pid = vmrec_pid(vm->name);
	json_object_array_add(l->arr, vm_json(l->c, vm, false, top_file[0] &&
					      !cat_path(l->c, top_file, disk, sizeof(disk)) ?
					      disk : NULL, pid));
	return 0;
}

int vmrec_vms_json(struct cat *c, json_object **out)
{
	struct list_ctx l = { .c = c, .arr = json_object_new_array() };
	int r;

	if (!l.arr)
		return -ENOMEM;
	r = pid_names_read(&l.pids);
	if (!r)
		r = cat_vm_foreach_top(c, list_one, &l);
	pid_names_free(&l.pids);
	if (r) {
		json_object_put(l.arr);
		return r;
	}
	*out = l.arr;
	return 0;
}

/* ---- the VM list as text, written directly ----
 * json-c builds a tree of 16 objects per VM and frees it again: for 10,000
 * VMs that is most of a list's time. This writes the same JSON (compact,
 * keys in the same order) into one buffer; tests/unit/images compares the
 * two. */

struct jbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void jb_add(struct jbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void jb_lit(struct jbuf *b, const char *s)
{
	jb_add(b, s, strlen(s));
}

/* "@s" with JSON's escapes (as json-c writes them, '/' unescaped). */
static void jb_str(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	jb_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[7] = "\\u00";

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		jb_add(b, run, (size_t)(s - run));
		run = s + 1;
		switch (ch) {
		case '"': jb_add(b, "\\\"", 2); break;
		case '\\': jb_add(b, "\\\\", 2); break;
		case '\b': jb_add(b, "\\b", 2); break;
		case '\f': jb_add(b, "\\f", 2); break;
		case '\n': jb_add(b, "\\n", 2); break;
		case '\r': jb_add(b, "\\r", 2); break;
		case '\t': jb_add(b, "\\t", 2); break;
		default:
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			jb_add(b, esc, 6);
		}
	}
	jb_add(b, run, (size_t)(s - run));
	jb_add(b, "\"", 1);
}

static void jb_key_str(struct jbuf *b, const char *key, const char *v)
{
	jb_lit(b, key);
	if (v)
		jb_str(b, v);
	else
		jb_lit(b, "null");
}

static void jb_key_i64(struct jbuf *b, const char *key, int64_t v)
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char num[24], *p = num + sizeof(num);

	/* digits by hand: snprintf was a tenth of a 10,000-VM list */
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	jb_lit(b, key);
	jb_add(b, p, (size_t)(num + sizeof(num) - p));
}

struct text_ctx {
	struct cat *c;
	struct pid_names pids;
	struct jbuf b;
	bool first;
	char disk[4300];        /* the state dir and '/', then each top file */
	size_t prefix;
};

static int text_one(void *opaque, const struct cat_vm *vm, const char *top_file)
{
	struct text_ctx *t = opaque;
	const char *key = vm->name;
	bool ready = !strcmp(vm->state, CAT_VM_READY);
	char ip[32];
	pid_t pid = 0;

	if (ready && t->pids.n &&
	    bsearch(&key, t->pids.v, t->pids.n, sizeof(*t->pids.v), name_cmp))
		pid = vmrec_pid(vm->name);
	jb_lit(&t->b, t->first ? "{" : ",{");
	t->first = false;
	jb_key_str(&t->b, "\"name\":", vm->name);
	jb_key_str(&t->b, ",\"state\":", !ready ? vm->state : pid ? "running" : "stopped");
	jb_key_i64(&t->b, ",\"pid\":", pid);
	jb_key_str(&t->b, ",\"image\":", vm->image[0] ? vm->image : NULL);
	jb_key_i64(&t->b, ",\"cpus\":", (int)vm->cpus);
	jb_key_i64(&t->b, ",\"mem\":", (int64_t)vm->mem);
	jb_key_str(&t->b, ",\"mac\":", vm->mac);
	jb_key_str(&t->b, ",\"uuid\":", vm->uuid);
	jb_key_str(&t->b, ",\"machine_id\":", vm->machine_id);
	jb_key_str(&t->b, ",\"lab\":", vm->lab);
	jb_key_str(&t->b, ",\"net\":", vm->net);
	jb_key_i64(&t->b, ",\"created\":", vm->created);
	jb_lit(&t->b, vm->cloud_init ? ",\"cloud_init\":true" : ",\"cloud_init\":false");
	jb_key_str(&t->b, ",\"ip\":", pid && !vmrec_vm_ip(vm, ip, sizeof(ip)) ? ip : NULL);
	/* cat_path() by hand: its snprintf cost as much as the rest of a row */
	if (top_file[0] && t->prefix + strlen(top_file) < sizeof(t->disk)) {
		strcpy(t->disk + t->prefix, top_file);
		jb_key_str(&t->b, ",\"disk\":", t->disk);
	}
	jb_lit(&t->b, "}");
	return t->b.err;
}

int vmrec_vms_text(struct cat *c, char **out, size_t *len)
{
	struct text_ctx t = { .c = c, .first = true };
	int r;

	jb_lit(&t.b, "[");
	r = cat_path(c, "", t.disk, sizeof(t.disk));
	t.prefix = strlen(t.disk);
	if (!r)
		r = pid_names_read(&t.pids);
	if (!r)
		r = cat_vm_foreach_top(c, text_one, &t);
	pid_names_free(&t.pids);
	jb_lit(&t.b, "]");
	if (!r)
		r = t.b.err;
	if (r) {
		free(t.b.p);
		return r;
	}
	*out = t.b.p;
	*len = t.b.len;
	return 0;
}
