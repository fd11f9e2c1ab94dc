/* tests/integration/netback/nb_attach.c: a stand-in for hv's use of the
 * netback API, built by the tests against $VV_BUILD/lib/*.a:
 *
 *   nb_attach STATE net|tap NAME VM INDEX [MAC]
 *
 * attaches one NIC with netback_nic_attach(), prints "IFNAME MAC", holds
 * the tap until SIGTERM (or SIGINT), then calls nb_port_destroy() and
 * prints "closed". With NB_ATTACH_ONCE set in the environment it lets go
 * at once. Exit 1 with the library's message on failure. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netback/netback.h"

int main(int argc, char **argv)
{
	struct nb_nic_spec spec = { 0 };
	struct nb_port *port;
	char err[256];
	sigset_t set;
	int ret, sig;

	if (argc < 6 || argc > 7) {
		fprintf(stderr, "usage: nb_attach STATE net|tap NAME VM INDEX [MAC]\n");
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
	if (!getenv("NB_ATTACH_ONCE"))
		sigwait(&set, &sig);
	nb_port_destroy(port);
	printf("closed\n");
	return 0;
}
