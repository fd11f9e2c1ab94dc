/* tests/unit/blkback/test_nbd_gate.c: nbd_server_swap() and the export
 * gate, deterministically: a swap waits for every request holding the
 * gate, requests arriving meanwhile wait and then get the new image, a
 * swap that leaves no image makes later requests see NULL, the callback's
 * result is returned, unknown exports are -ENOENT. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "blkback/bimg.h"
#include "blkback/ioq.h"
#include "blkback/nbd_int.h"

static char dir[] = "/tmp/nbdgate.XXXXXX";
static struct ioq *q;
static struct nbd_server *srv;
static struct bimg *img_a, *img_b;

static struct bimg *open_raw(const char *name)
{
	char path[256];
	struct bimg *img = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_RDWR, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	cr_assert_eq(bimg_open(path, BIMG_OPEN_RDWR, &img), 0, "%s", bimg_last_error());
	return img;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	img_a = open_raw("a.img");
	img_b = open_raw("b.img");
	cr_assert_eq(ioq_create(1, &q), 0);
	cr_assert_eq(nbd_server_create(q, &srv), 0);
	cr_assert_eq(nbd_server_add_export(srv, "x", img_a), 0);
}

static void teardown(void)
{
	char cmd[128];

	nbd_server_destroy(srv);
	ioq_destroy(q);
	bimg_close(img_a);
	bimg_close(img_b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(nbd_gate, .init = setup, .fini = teardown);

struct swap_arg {
	const char *name;
	struct bimg *next;            /* what the callback installs */
	int result;                   /* what the callback returns */
	struct bimg *seen;            /* the old image it was given */
	int ran;                      /* atomic */
	int rc;
};

static int swap_fn(void *opaque, struct bimg *old, struct bimg **new_img)
{
	struct swap_arg *a = opaque;

	a->seen = old;
	*new_img = a->next;
	__atomic_store_n(&a->ran, 1, __ATOMIC_SEQ_CST);
	return a->result;
}

static void *swap_thread(void *arg)
{
	struct swap_arg *a = arg;

	a->rc = nbd_server_swap(srv, a->name, swap_fn, a);
	return NULL;
}

struct get_arg {
	struct nbd_gate *g;
	struct bimg *got;
	int done;                     /* atomic */
};

static void *get_thread(void *arg)
{
	struct get_arg *a = arg;

	a->got = nbd_gate_get(a->g);
	__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
	nbd_gate_put(a->g);
	return NULL;
}

static struct nbd_gate *gate_of(const char *name)
{
	const struct nbd_export *e = nbd_export_find(srv, name, strlen(name));

	cr_assert_not_null(e);
	return e->gate;
}

Test(nbd_gate, swap_waits_for_holders_and_new_requests_wait_for_the_swap)
{
	struct nbd_gate *g = gate_of("x");
	struct swap_arg sa = { .name = "x", .next = img_b };
	struct get_arg ga = { .g = g };
	pthread_t st, gt;

	/* two requests in flight */
	cr_assert_eq(nbd_gate_get(g), img_a);
	cr_assert_eq(nbd_gate_get(g), img_a);
	cr_assert_eq(pthread_create(&st, NULL, swap_thread, &sa), 0);
	usleep(100 * 1000);
	cr_assert_eq(__atomic_load_n(&sa.ran, __ATOMIC_SEQ_CST), 0,
		     "the swap ran with requests in flight");
	/* a request arriving now waits for the swap */
	cr_assert_eq(pthread_create(&gt, NULL, get_thread, &ga), 0);
	usleep(100 * 1000);
	cr_assert_eq(__atomic_load_n(&ga.done, __ATOMIC_SEQ_CST), 0,
		     "a request got through a closed gate");
	nbd_gate_put(g);
	usleep(100 * 1000);
	cr_assert_eq(__atomic_load_n(&sa.ran, __ATOMIC_SEQ_CST), 0,
		     "the swap ran with a request in flight");
	nbd_gate_put(g);
	cr_assert_eq(pthread_join(st, NULL), 0);
	cr_assert_eq(sa.rc, 0);
	cr_assert_eq(sa.seen, img_a);
	cr_assert_eq(pthread_join(gt, NULL), 0);
	cr_assert_eq(ga.got, img_b, "the waiting request did not get the new image");
	cr_assert_eq(nbd_gate_get(g), img_b);
	nbd_gate_put(g);
	cr_assert_eq(g->active, 0);
}

Test(nbd_gate, result_and_lost_image)
{
	struct nbd_gate *g = gate_of("x");
	struct swap_arg keep = { .next = img_a, .result = -EIO };
	struct swap_arg lose = { .name = "", .next = NULL, .result = -EIO };

	/* NULL and "" name the first export; the callback's result comes back */
	cr_assert_eq(nbd_server_swap(srv, NULL, swap_fn, &keep), -EIO);
	cr_assert_eq(keep.seen, img_a);
	cr_assert_eq(nbd_gate_get(g), img_a);
	nbd_gate_put(g);
	cr_assert_eq(nbd_server_swap(srv, "", swap_fn, &lose), -EIO);
	cr_assert_null(nbd_gate_get(g), "an export without an image handed one out");
	nbd_gate_put(g);
	cr_assert_eq(g->active, 0);
}

Test(nbd_gate, unknown_export_and_fixed_geometry)
{
	struct swap_arg a = { .next = img_b };
	const struct nbd_export *e = nbd_export_find(srv, "x", 1);

	cr_assert_eq(nbd_server_swap(srv, "y", swap_fn, &a), -ENOENT);
	cr_assert_eq(a.ran, 0);
	cr_assert_eq(e->size, 1 << 20);
	cr_assert(e->writable);
}
