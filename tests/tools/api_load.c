/* tests/tools/api_load.c: an HTTP load client for vhdvisord's Unix socket
 * (plain sockets, HTTP/1.1 keep-alive), for tests/bench/api_daemon.sh.
 *
 *   api_load SOCKET CLIENTS (-n REQUESTS | -t SECONDS) PATH [PATH...]
 *
 * CLIENTS threads, each on its own connection, send GET requests for the
 * PATHs in turn (REQUESTS each, or for SECONDS), read each whole reply
 * (Content-Length) and check its status is 200. Prints one line of JSON:
 * {"requests", "errors", "seconds", "rps", "p50_ms", "p99_ms", "max_ms",
 * "bytes"}. Exit 0, or 1 when a request failed. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct client {
	pthread_t t;
	double *lat;            /* ms */
	size_t n, cap;
	unsigned errors;
	uint64_t bytes;
};

static const char *sock_path;
static char **paths;
static int npaths;
static long per_client;         /* requests, or 0 */
static double until;            /* end time with -t */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request on @fd; its body's size, or -1. */
static long request(int fd, const char *path, char **buf, size_t *cap)
{
	char req[1024];
	size_t len = 0, head = 0, body = 0;
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
	char *end, *cl;

	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	for (;;) {
		ssize_t got;

		if (len + 65536 > *cap) {
			*cap = *cap ? *cap * 2 : 1 << 20;
			*buf = realloc(*buf, *cap + 1);
			if (!*buf)
				return -1;
		}
		got = recv(fd, *buf + len, *cap - len, 0);
		if (got <= 0)
			return -1;
		len += (size_t)got;
		(*buf)[len] = '\0';
		if (!head) {
			end = strstr(*buf, "\r\n\r\n");
			if (!end)
				continue;
			head = (size_t)(end + 4 - *buf);
			*end = '\0';
			if (strncmp(*buf, "HTTP/1.1 200", 12))
				return -1;
			cl = strcasestr(*buf, "\r\nContent-Length:");
			if (!cl)
				return -1;
			body = strtoul(cl + 17, NULL, 10);
		}
		if (len >= head + body)
			return len == head + body ? (long)body : -1;
	}
}

static void *run(void *arg)
{
	struct client *c = arg;
	char *buf = NULL;
	size_t cap = 0;
	long i;
	int fd = dial();

	for (i = 0; per_client ? i < per_client : now() < until; i++) {
		double t0 = now();
		long got = fd < 0 ? -1 : request(fd, paths[i % npaths], &buf, &cap);

		if (got < 0) {
			c->errors++;
			if (fd >= 0)
				close(fd);
			fd = dial();
			continue;
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 1024;
			c->lat = realloc(c->lat, c->cap * sizeof(*c->lat));
			if (!c->lat)
				abort();
		}
		c->lat[c->n++] = (now() - t0) * 1000;
		c->bytes += (uint64_t)got;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct client *cl;
	double *all, t0, secs;
	size_t total = 0, k = 0;
	unsigned errors = 0;
	uint64_t bytes = 0;
	int clients, i;

	if (argc < 6 || (strcmp(argv[3], "-n") && strcmp(argv[3], "-t"))) {
		fprintf(stderr, "usage: api_load SOCKET CLIENTS -n REQUESTS|-t SECONDS PATH...\n");
		return 2;
	}
	sock_path = argv[1];
	clients = atoi(argv[2]);
	if (!strcmp(argv[3], "-n"))
		per_client = atol(argv[4]);
	paths = argv + 5;
	npaths = argc - 5;
	cl = calloc((size_t)clients, sizeof(*cl));
	if (clients < 1 || !cl)
		return 2;
	t0 = now();
	until = t0 + atof(argv[4]);
	for (i = 0; i < clients; i++)
		if (pthread_create(&cl[i].t, NULL, run, &cl[i])) {
			fprintf(stderr, "api_load: pthread_create: %s\n", strerror(errno));
			return 1;
		}
	for (i = 0; i < clients; i++) {
		pthread_join(cl[i].t, NULL);
		total += cl[i].n;
		errors += cl[i].errors;
		bytes += cl[i].bytes;
	}
	secs = now() - t0;
	all = malloc((total ? total : 1) * sizeof(*all));
	for (i = 0; i < clients; i++) {
		memcpy(all + k, cl[i].lat, cl[i].n * sizeof(*all));
		k += cl[i].n;
	}
	qsort(all, total, sizeof(*all), cmp);
	printf("{\"requests\": %zu, \"errors\": %u, \"seconds\": %.3f, \"rps\": %.1f, "
	       "\"p50_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f, \"bytes\": %llu}\n",
	       total, errors, secs, (double)total / secs,
	       total ? all[total / 2] : 0.0, total ? all[(size_t)((double)(total - 1) * 0.99)] : 0.0,
	       total ? all[total - 1] : 0.0, (unsigned long long)bytes);
	return errors ? 1 : 0;
}
