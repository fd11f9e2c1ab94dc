/* tests/integration/netback/nb_shape.c: drives netback/shaper.c the way
 * hv does, built by the tests against $VV_BUILD/lib:
 *
 *   nb_shape IFNAME RX TX      rates as shaper_parse_rate() reads them
 *                              ("10M", "none"); prints the error and
 *                              exits 1 on failure. */
#include <stdint.h>
#include <stdio.h>

#include "netback/shaper.h"

int main(int argc, char **argv)
{
	uint64_t rx, tx;
	char err[600] = "";

	if (argc != 4) {
		fprintf(stderr, "usage: nb_shape IFNAME RX TX\n");
		return 2;
	}
	if (shaper_parse_rate(argv[2], &rx) || shaper_parse_rate(argv[3], &tx)) {
		fprintf(stderr, "nb_shape: bad rate\n");
		return 2;
	}
	if (shaper_set(argv[1], rx, tx, err, sizeof(err))) {
		fprintf(stderr, "nb_shape: %s\n", err);
		return 1;
	}
	return 0;
}
