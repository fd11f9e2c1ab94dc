/* images/lab.c: labs of linked clones (images/lab.h). */
#include "images/lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "images/cat_vm.h"
#include "images/img_store.h"
#include "images/vmrec.h"
#include "images/vmrun.h"
#include "netback/labnet.h"

int lab_create(struct cat *c, const char *lab, const char *image_id, unsigned count,
	       unsigned cpus, uint64_t mem, const char *net)
{
	struct vmrec_opts o = { .cpus = cpus, .mem = mem, .lab = lab, .net = net };
	struct cat_lab l = { .count = count };
	char n[CAT_NAME_MAX + 1], v[CAT_NAME_MAX + 1];
	char (*names)[CAT_NAME_MAX + 1];
	const char **ptrs;
	int r;

	if (cat_ref_split(lab, n, v) || v[0] || strlen(lab) > CAT_NAME_MAX - 5)
		return img_fail(-EINVAL, "bad lab name '%s'", lab);
	if (count == 0 || count > LAB_MAX_COUNT)
		return img_fail(-EINVAL, "a lab has 1 to %d VMs", LAB_MAX_COUNT);
	if (net) {
		struct labnet ln;

		r = labnet_load(cat_dir(c), net, &ln);
		if (r)
			return img_fail(r, r == -ENOENT ? "no network '%s' ('vhdvisor net create %s')"
					: "network '%s': %s", net, r == -ENOENT ? net : strerror(-r));
	}
	snprintf(l.name, sizeof(l.name), "%s", lab);
	snprintf(l.image, sizeof(l.image), "%s", image_id);
	snprintf(l.net, sizeof(l.net), "%s", net ? net : "");
	l.created = time(NULL);
	r = cat_lab_add(c, &l);
	if (r)
		return img_fail(r, r == -EEXIST ? "a lab named '%s' exists" : "catalog: %s",
				r == -EEXIST ? lab : cat_errmsg(c));
	names = calloc(count, sizeof(*names));
	ptrs = calloc(count, sizeof(*ptrs));
	if (!names || !ptrs) {
		r = -ENOMEM;
	} else {
		for (unsigned i = 0; i < count; i++) {
			snprintf(names[i], sizeof(names[i]), "%s-%u", lab, i + 1);
			ptrs[i] = names[i];
		}
		r = vmrec_create(c, image_id, ptrs, count, &o);
	}
	if (r)
		cat_lab_del(c, lab);
	free(names);
	free(ptrs);
	return r;
}

struct name_list {
	char (*names)[CAT_NAME_MAX + 1];
	unsigned n;
	unsigned running;
};

static int collect(void *opaque, const struct cat_vm *vm)
{
	struct name_list *nl = opaque;
	void *p = realloc(nl->names, (nl->n + 1) * sizeof(*nl->names));

	if (!p)
		return -ENOMEM;
	nl->names = p;
	snprintf(nl->names[nl->n++], CAT_NAME_MAX + 1, "%s", vm->name);
	if (vmrec_running(vm->name))
		nl->running++;
	return 0;
}

static int lab_vms(struct cat *c, const char *lab, struct name_list *nl)
{
	struct cat_lab l;
	int r;

	memset(nl, 0, sizeof(*nl));
	r = cat_lab_get(c, lab, &l);
	if (r)
		return img_fail(r, "no lab '%s'", lab);
	r = cat_vm_foreach(c, NULL, lab, collect, nl);
	if (!r && nl->running)
		r = img_fail(-EBUSY, "%u VM%s of lab '%s' still run%s; 'lab stop %s' first",
			     nl->running, nl->running == 1 ? "" : "s", lab,
			     nl->running == 1 ? "s" : "", lab);
	if (r) {
		free(nl->names);
		nl->names = NULL;
	}
	return r;
}

int lab_reset(struct cat *c, const char *lab)
{
	struct name_list nl;
	int r;

	r = lab_vms(c, lab, &nl);
	for (unsigned i = 0; !r && i < nl.n; i++)
		r = vmrec_reset(c, nl.names[i]);
	free(nl.names);
	return r;
}

int lab_remove(struct cat *c, const char *lab)
{
	struct name_list nl;
	int r;

	r = lab_vms(c, lab, &nl);
	for (unsigned i = 0; !r && i < nl.n; i++)
		r = vmrec_remove(c, nl.names[i]);
	if (!r && cat_lab_del(c, lab))
		r = img_fail(-EIO, "catalog: %s", cat_errmsg(c));
	free(nl.names);
	return r;
}

int lab_foreach_vm(struct cat *c, const char *lab,
		   int (*fn)(void *opaque, const char *vm), void *opaque)
{
	struct name_list nl = { 0 };
	int r;

	r = cat_vm_foreach(c, NULL, lab, collect, &nl);
	for (unsigned i = 0; !r && i < nl.n; i++)
		r = fn(opaque, nl.names[i]);
	free(nl.names);
	return r;
}
