/* Unit tests for appliance/throttle.c: failed logins per address. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "appliance/throttle.h"

Test(throttle, blocks_after_the_limit_for_the_window)
{
	struct throttle *t = throttle_create();
	unsigned retry = 0;

	for (int i = 0; i < THROTTLE_FAILS; i++) {
		cr_assert_not(throttle_blocked(t, "10.0.0.1", 1000, NULL), "failure %d", i);
		throttle_failed(t, "10.0.0.1", 1000 + i);
	}
	cr_assert(throttle_blocked(t, "10.0.0.1", 1010, &retry));
	cr_assert_eq(retry, THROTTLE_WINDOW - 10);
	cr_assert_not(throttle_blocked(t, "10.0.0.2", 1010, NULL), "another address");
	cr_assert(throttle_blocked(t, "10.0.0.1", 1000 + THROTTLE_WINDOW - 1, NULL));
	cr_assert_not(throttle_blocked(t, "10.0.0.1", 1000 + THROTTLE_WINDOW, NULL),
		      "the window has passed");
	throttle_failed(t, "10.0.0.1", 2000);
	cr_assert_not(throttle_blocked(t, "10.0.0.1", 2000, NULL), "counting starts over");
	throttle_destroy(t);
}

Test(throttle, many_addresses_reuse_the_oldest_slot)
{
	struct throttle *t = throttle_create();
	char a[32];

	for (int i = 0; i < THROTTLE_FAILS; i++)
		throttle_failed(t, "victim", 500);
	cr_assert(throttle_blocked(t, "victim", 501, NULL));
	/* a flood of other addresses pushes the oldest entry out, no crash */
	for (int i = 0; i < 3 * THROTTLE_SLOTS; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 256, i % 256);
		throttle_failed(t, a, 600 + i);
	}
	cr_assert_not(throttle_blocked(t, "victim", 650, NULL));
	throttle_destroy(t);
	throttle_destroy(NULL);
}
