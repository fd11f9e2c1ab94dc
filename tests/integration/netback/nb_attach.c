/* tests/integration/netback/nb_attach.c: a stand-in for hv's use of the
 * netback API, built by the tests against the libraries in $VV_BUILD/lib:
 *
 *   nb_attach STATE net|tap NAME VM INDEX [MAC] [-- PROGRAM ARGS...]
 *
 * attaches one NIC with netback_nic_attach(), prints "IFNAME MAC", holds
 * the tap until SIGTERM (or SIGINT), then calls nb_port_destroy() and
 * prints "closed". With NB_ATTACH_ONCE set in the environment it lets go
 * at once. Exit 1 with the library's message on failure.
 *
 * With "-- PROGRAM ARGS", it instead hands the tap to PROGRAM the way an
 * engine does: the descriptor loses FD_CLOEXEC, "{fd}" and "{mac}" in ARGS
 * are replaced, and PROGRAM (e.g. qemu-system-x86_64) replaces this
 * process, so the tap lives exactly as long as PROGRAM. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback/netback.h"

/* Replaces "{fd}" and "{mac}" in @arg; returns a malloc'd string. */
static char *subst(const char *arg, const char *fd, const char *mac)
{
	size_t cap = strlen(arg) + 64, len = 0;
	char *out = malloc(cap);

	while (out && *arg) {
		const char *rep = NULL;
		size_t skip = 1;

		if (!strncmp(arg, "{fd}", 4))
			rep = fd, skip = 4;
		else if (!strncmp(arg, "{mac}", 5))
			rep = mac, skip = 5;
		if (len + (rep ? strlen(rep) : 1) + 1 >= cap)
			out = realloc(out, cap *= 2);
		if (!out)
			break;
		if (rep) {
			memcpy(out + len, rep, strlen(rep));
			len += strlen(rep);
		} else {
			out[len++] = *arg;
		}
		arg += skip;
	}
	if (out)
		out[len] = '\0';
	return out;
}

static int run_with_tap(struct nb_port *port, char **prog)
{
	int fd = nb_port_fd(port);
	char fdstr[16];

	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	for (int i = 0; prog[i]; i++)
		prog[i] = subst(prog[i], fdstr, nb_port_mac_str(port));
	if (fcntl(fd, F_SETFD, 0) < 0) {
		perror("nb_attach: fcntl");
		return 1;
	}
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(prog[0], prog);
	perror("nb_attach: exec");
	return 1;
}

int main(int argc, char **argv)
{
	struct nb_nic_spec spec = { 0 };
	struct nb_port *port;
	char err[256];
	sigset_t set;
	int ret, sig;

	char **prog = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			argv[i] = NULL;
			prog = argv + i + 1;
			argc = i;
			break;
		}
	}
	if (argc < 6 || argc > 7 || (prog && !prog[0])) {
		fprintf(stderr, "usage: nb_attach STATE net|tap NAME VM INDEX [MAC] [-- PROGRAM ARGS...]\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	spec.kind = strcmp(argv[2], "tap") ? NB_NIC_NET : NB_NIC_TAP;
	spec.name = argv[3];
	if (argc == 7) {
		if (mac_parse(argv[6], spec.mac)) {
			fprintf(stderr, "bad MAC %s\n", argv[6]);
			return 2;
		}
		spec.has_mac = true;
	}
	ret = netback_nic_attach(argv[1], &spec, argv[4], atoi(argv[5]), &port,
				 err, sizeof(err));
	if (ret) {
		fprintf(stderr, "nb_attach: %s (%d)\n", err, ret);
		return 1;
	}
	printf("%s %s\n", nb_port_ifname(port), nb_port_mac_str(port));
	fflush(stdout);
	if (prog)
		return run_with_tap(port, prog);
	if (!getenv("NB_ATTACH_ONCE"))
		sigwait(&set, &sig);
	nb_port_destroy(port);
	printf("closed\n");
	return 0;
}
