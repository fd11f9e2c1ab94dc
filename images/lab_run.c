/* images/lab_run.c: starting and stopping a lab's VMs through the C API
 * of images/vmstart.h (images/lab.h), for `vhdvisor lab` and the API. */
#include "images/lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrun.h"

struct names {
	char (*v)[CAT_NAME_MAX + 1];
	unsigned n;
};

static int collect(void *opaque, const char *vm)
{
	struct names *nl = opaque;
	void *p = realloc(nl->v, (nl->n + 1) * sizeof(*nl->v));

	if (!p)
		return -ENOMEM;
	nl->v = p;
	snprintf(nl->v[nl->n++], sizeof(*nl->v), "%s", vm);
	return 0;
}

/* The VMs of @lab that are not yet as wanted (@start: not running). */
static int lab_todo(const char *state_dir, const char *lab, bool start, struct names *nl)
{
	struct cat_lab l;
	struct cat *c;
	unsigned total;
	int r;

	r = cat_open(state_dir, &c);
	if (r)
		return img_fail(r, "cannot open the catalog in %s", state_dir);
	r = cat_lab_get(c, lab, &l);
	if (r == -ENOENT)
		r = img_fail(-ENOENT, "no lab '%s'", lab);
	else if (r)
		r = img_fail(r, "catalog: %s", cat_errmsg(c));
	if (!r)
		r = lab_foreach_vm(c, lab, collect, nl);
	cat_close(c);
	if (r)
		return r;
	total = nl->n;
	for (unsigned i = 0; i < nl->n;) {
		if (vmrec_running(nl->v[i]) == start)
			memmove(nl->v[i], nl->v[i + 1], (--nl->n - i) * sizeof(*nl->v));
		else
			i++;
	}
	/* as 'vm start' of a running VM, 'vm stop' of a stopped one */
	if (!nl->n && (total || !start))
		return img_fail(-EALREADY, "lab %s is %s", lab,
				start ? "already running" : "not running");
	return 0;
}

static int start_one(const char *state_dir, const char *vm, const struct vmrec_boot *b,
		     pid_t *pid)
{
	struct vm_config *cfg = malloc(sizeof(*cfg));
	struct cat *c;
	int r;

	if (!cfg)
		return img_fail(-ENOMEM, "out of memory");
	r = cat_open(state_dir, &c);
	if (r) {
		free(cfg);
		return img_fail(r, "cannot open the catalog in %s", state_dir);
	}
	vm_config_init(cfg);
	r = vmrec_vm_config(c, vm, cfg);
	cat_close(c);   /* the runtime must not hold the catalog's lock */
	if (!r && b)
		r = vmrec_boot_apply(cfg, b);
	if (!r)
		r = vmrec_start(cfg, state_dir, pid);
	free(cfg);
	return r;
}

static int lab_run(const char *state_dir, const char *lab, bool start,
		   const struct vmrec_boot *b, unsigned timeout_ms, lab_step_fn fn,
		   void *opaque, unsigned *failed)
{
	struct names nl = { 0 };
	int r;

	*failed = 0;
	r = lab_todo(state_dir, lab, start, &nl);
	for (unsigned i = 0; !r && i < nl.n; i++) {
		struct lab_step s = { .vm = nl.v[i], .before = true, .done = i, .total = nl.n };

		if (fn && fn(opaque, &s)) {
			r = -ECANCELED;
			break;
		}
		s.before = false;
		s.done = i + 1;
		img_error_clear();
		if (start) {
			s.r = start_one(state_dir, s.vm, b, &s.pid);
			if (s.r == -EALREADY)   /* started meanwhile: as wanted */
				s.r = 0;
		} else {
			s.r = vmrec_stop(s.vm, timeout_ms, NULL);
			if (s.r == -ESRCH)      /* stopped meanwhile: as wanted */
				s.r = 0;
			else if (s.r && !img_last_error()[0])
				img_fail(s.r, "cannot stop %s: %s", s.vm, strerror(-s.r));
		}
		if (s.r)
			(*failed)++;
		if (fn)
			fn(opaque, &s);
	}
	free(nl.v);
	if (!r && *failed)
		r = -EIO;
	return r;
}

int lab_start(const char *state_dir, const char *lab, const struct vmrec_boot *b,
	      lab_step_fn fn, void *opaque, unsigned *failed)
{
	return lab_run(state_dir, lab, true, b, 0, fn, opaque, failed);
}

int lab_stop(const char *state_dir, const char *lab, unsigned timeout_ms, lab_step_fn fn,
	     void *opaque, unsigned *failed)
{
	return lab_run(state_dir, lab, false, NULL, timeout_ms, fn, opaque, failed);
}
