/* tools/vhdvisord/main.c: vhdvisord, the host daemon: the appliance/ API
 * over HTTP, in the foreground.
 *
 *   vhdvisord --state DIR --run DIR [--socket PATH] [--listen ADDR:PORT]
 *
 * Serves /api/v1 on the Unix socket (default RUN/vhdvisord.sock, mode
 * 0600; root needs no token) and, with --listen, over TLS on TCP (a bearer
 * token needed; certificate in STATE/tls/, made at first start). When it
 * listens it writes RUN/vhdvisord.json: {pid, socket, state, url, fingerprint}.
 * VMs it starts outlive it; on start it finds them again from RUN.
 * SIGTERM or SIGINT: stops serving and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "appliance/api.h"
#include "appliance/event.h"
#include "appliance/task.h"
#include "appliance/metrics.h"
#include "appliance/tls.h"
#include "common/log.h"
#include "tools/vhdvisord/http.h"
#include "tools/vhdvisord/web.h"

#define TASK_STOP_WAIT_MS 20000

struct opts {
	const char *state, *run, *socket, *listen, *web;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vhdvisord --state DIR --run DIR [--socket PATH] [--listen ADDR:PORT]\n"
		"                 [--web DIR]\n"
		"\n"
		"The vhdvisor host daemon: the management API (/api/v1) over HTTP, in the\n"
		"foreground. Root on the Unix socket needs no token; TCP (--listen) is TLS\n"
		"only, with a self-signed certificate made in STATE/tls/ at first start,\n"
		"and every request there needs 'Authorization: Bearer TOKEN' (vhdvisor\n"
		"token create). PORT 0 picks a free port; RUN/vhdvisord.json tells it.\n"
		"  --state DIR       catalog and tokens (like vhdvisor --state)\n"
		"  --run DIR         run directory of the VMs (like $VHDVISOR_RUN)\n"
		"  --socket PATH     Unix socket (default RUN/vhdvisord.sock)\n"
		"  --listen A:P      also serve HTTPS on address A, port P ([v6]:P for IPv6)\n"
		"  --web DIR         the web console served at / (default\n"
		"                    EXE/../share/vhdvisor/web)\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "state", required_argument, NULL, 's' },
		{ "run", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 'S' },
		{ "listen", required_argument, NULL, 'l' },
		{ "web", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o->state = optarg; break;
		case 'r': o->run = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'w': o->web = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind != argc || !o->state || !o->run)
		return -EINVAL;
	return 0;
}

/* Binds the Unix socket at @path (0600); a stale socket nobody listens on
 * is replaced, a live one refused. The fd or -errno. */
static int unix_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("%s: path too long for a socket", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		log_err("%s: another daemon listens there", path);
		return -EADDRINUSE;
	}
	unlink(path);
	old = umask(077);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || chmod(path, 0600) || listen(fd, 128)) {
		r = -errno;
		log_err("%s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* Binds ADDR:PORT ("[v6]:PORT" for IPv6); the fd, with the bound address
 * as a URL in @url, or -errno. */
static int tcp_listen(const char *spec, char *url, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST |
				  AI_NUMERICSERV | AI_PASSIVE };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], serv[32], nh[256];
	const char *colon = strrchr(spec, ':'), *orig = spec;
	struct addrinfo *ai;
	size_t hl;
	int fd, one = 1, r;

	if (!colon || colon == spec || !colon[1] || strlen(colon + 1) >= sizeof(serv))
		goto bad;
	hl = (size_t)(colon - spec);
	if (spec[0] == '[') {
		if (hl < 3 || spec[hl - 1] != ']')
			goto bad;
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	snprintf(serv, sizeof(serv), "%s", colon + 1);
	if (getaddrinfo(host, serv, &hints, &ai))
		goto bad;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r = bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128) ? -errno : 0;
	freeaddrinfo(ai);
	if (!r && getsockname(fd, (struct sockaddr *)&ss, &sl))
		r = -errno;
	if (r) {
		log_err("--listen %s: %s", orig, strerror(-r));
		close(fd);
		return r;
	}
	getnameinfo((struct sockaddr *)&ss, sl, nh, sizeof(nh), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(url, len, ss.ss_family == AF_INET6 ? "https://[%s]:%s" : "https://%s:%s", nh, serv);
	return fd;
bad:
	log_err("bad --listen '%s': want ADDR:PORT with a numeric address", spec);
	return -EINVAL;
}

/* One daemon per run directory: RUN/vhdvisord.lock held while it runs. */
static int take_lock(const char *run)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/vhdvisord.lock", run);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		log_err("%s: %s", path, errno == EWOULDBLOCK ? "another vhdvisord runs here" :
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_status(const char *run, const char *state, const char *sock, const char *url,
			const char *fp)
{
	char path[4200], tmp[4210];
	json_object *j = json_object_new_object();
	const char *s;
	int fd, r = 0;

	json_object_object_add(j, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(j, "socket", json_object_new_string(sock));
	/* the CLI goes through this daemon only for the state it serves */
	json_object_object_add(j, "state", json_object_new_string(state));
	json_object_object_add(j, "url", url[0] ? json_object_new_string(url) : NULL);
	json_object_object_add(j, "fingerprint", fp[0] ? json_object_new_string(fp) : NULL);
	s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(path, sizeof(path), "%s/vhdvisord.json", run);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", s) < 0 || close(fd) || rename(tmp, path))
		r = -errno;
	json_object_put(j);
	return r;
}

int main(int argc, char **argv)
{
	struct door *unix_door = NULL, *tcp_door = NULL;
	char sock[4200], url[300] = "", fp[TLS_FP_LEN + 1] = "", err[512] = "";
	char *cert = NULL, *key = NULL, state[4096];
	struct api_ctx ctx;
	struct opts o;
	sigset_t set;
	int lock, ufd = -1, tfd = -1, sig, rc = 1, r;

	log_init("vhdvisord");
	/* as vhd and vhdvisor: what we and the VM runtimes we start (QEMU,
	 * SQLite) create is private whatever the caller's umask */
	umask(077);
	if (parse(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if ((mkdir(o.state, 0700) && errno != EEXIST) || (mkdir(o.run, 0700) && errno != EEXIST) ||
	    !realpath(o.state, state)) {
		log_err("%s: %s", errno == EEXIST ? o.run : o.state, strerror(errno));
		return 1;
	}
	/* the images/ library finds the catalog and the run files by these */
	setenv("VHDVISOR_STATE", state, 1);
	setenv("VHDVISOR_RUN", o.run, 1);
	ctx.state_dir = state;
	web_set_root(o.web);
	ctx.metrics = NULL;
	lock = take_lock(o.run);
	if (lock < 0)
		return 1;
	snprintf(sock, sizeof(sock), "%s", o.socket ? o.socket : "");
	if (!o.socket)
		snprintf(sock, sizeof(sock), "%s/vhdvisord.sock", o.run);
	/* signals go to sigwait() below, never to the server's threads */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* tasks interrupted by a previous daemon's end are marked failed,
	 * and the VMs running now are known before anything is served */
	if ((r = task_init(state))) {
		log_err("%s/tasks.db: %s", state, strerror(-r));
		goto out;
	}
	if ((r = api_event_init())) {
		log_err("event watcher: %s", strerror(-r));
		goto out;
	}
	ufd = unix_listen(sock);
	if (ufd < 0)
		goto out;
	if (o.listen) {
		tfd = tcp_listen(o.listen, url, sizeof(url));
		if (tfd < 0)
			goto out;
		if (api_tls_ensure(state, &cert, &key, fp, err, sizeof(err))) {
			log_err("%s", err);
			goto out;
		}
	}
	/* a daemon without metrics still serves the rest */
	if (metrics_start(state, &ctx.metrics, err, sizeof(err)))
		log_warn("no metrics: %s", err);
	else if (err[0])
		log_warn("metrics kept in memory only: %s", err);
	err[0] = '\0';
	if (door_open(&ctx, ufd, true, NULL, NULL, &unix_door)) {
		log_err("cannot serve on %s", sock);
		goto out;
	}
	ufd = -1;
	if (tfd >= 0) {
		if (door_open(&ctx, tfd, false, cert, key, &tcp_door)) {
			log_err("cannot serve on %s", url);
			goto out;
		}
		tfd = -1;
	}
	if (write_status(o.run, state, sock, url, fp))
		log_warn("cannot write %s/vhdvisord.json", o.run);
	log_info("serving %s on %s%s%s%s%s", API_PREFIX, sock, url[0] ? " and " : "", url,
		 fp[0] ? ", certificate SHA-256 " : "", fp);
	do {
		if (sigwait(&set, &sig))
			break;
	} while (sig == SIGHUP);
	log_info("signal %d: stopping", sig);
	rc = 0;
out:
	/* streams end first (their readers wait in the doors' threads), then
	 * tasks are cancelled and given a while to end */
	api_event_fini();
	task_fini(TASK_STOP_WAIT_MS);
	door_close(tcp_door);
	door_close(unix_door);
	metrics_stop(ctx.metrics);
	if (ufd >= 0)
		close(ufd);
	if (tfd >= 0)
		close(tfd);
	if (unix_door || ufd >= 0 || rc == 0)
		unlink(sock);
	snprintf(err, sizeof(err), "%s/vhdvisord.json", o.run);
	unlink(err);
	free(cert);
	free(key);
	close(lock);
	return rc;
}
