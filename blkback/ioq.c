/* blkback/ioq.c: the I/O engine: a FIFO of requests and worker threads. */
#include "blkback/ioq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "blkback/bimg.h"

#define IOQ_MAX_WORKERS 64

struct ioq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ioq_req *head, *tail;
	bool stopping;
	unsigned nworkers;
	pthread_t workers[IOQ_MAX_WORKERS];
};

int ioq_exec(struct ioq_req *req)
{
	int rc;

	if (!req->img)
		return -EIO;            /* its device lost the image (bdev.h) */
	switch (req->op) {
	case IOQ_READ:
		return bimg_preadv(req->img, req->off, req->iov, req->iovcnt);
	case IOQ_WRITE:
		rc = bimg_pwritev(req->img, req->off, req->iov, req->iovcnt);
		break;
	case IOQ_FLUSH:
		return bimg_flush(req->img);
	case IOQ_WRITE_ZEROES:
		rc = bimg_write_zeroes(req->img, req->off, req->len,
				       req->flags & IOQ_MAY_UNMAP ? BIMG_ZERO_MAY_UNMAP : 0);
		break;
	case IOQ_DISCARD:
		return bimg_discard(req->img, req->off, req->len);
	default:
		return -EINVAL;
	}
	if (!rc && (req->flags & IOQ_FUA))
		rc = bimg_flush(req->img);
	return rc;
}

static void *ioq_worker(void *arg)
{
	struct ioq *q = arg;
	struct ioq_req *req;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->cond, &q->lock);
		req = q->head;
		if (!req)
			break;          /* stopping and drained */
		q->head = req->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		req->result = ioq_exec(req);
		req->done(req);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

void ioq_submit(struct ioq *q, struct ioq_req *req)
{
	req->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = req;
	else
		q->head = req;
	q->tail = req;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

int ioq_create(unsigned workers, struct ioq **out)
{
	struct ioq *q;
	int rc;

	*out = NULL;
	if (!workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		workers = n > 0 ? (unsigned)n * 4 : 8;
	}
	if (workers > IOQ_MAX_WORKERS)
		workers = IOQ_MAX_WORKERS;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	for (q->nworkers = 0; q->nworkers < workers; q->nworkers++) {
		rc = pthread_create(&q->workers[q->nworkers], NULL, ioq_worker, q);
		if (rc) {
			ioq_destroy(q);
			return -rc;
		}
	}
	*out = q;
	return 0;
}

void ioq_destroy(struct ioq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (unsigned i = 0; i < q->nworkers; i++)
		pthread_join(q->workers[i], NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
}
