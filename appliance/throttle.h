/* appliance/throttle.h: failed logins are rate-limited per client
 * address: after THROTTLE_FAILS bad tokens within THROTTLE_WINDOW seconds,
 * token checks from that address are refused (429) until the window since
 * its first counted failure has passed. Thread-safe; a fixed table of the
 * THROTTLE_SLOTS most recent addresses (the oldest slot is reused). */
#ifndef VV_APPLIANCE_THROTTLE_H
#define VV_APPLIANCE_THROTTLE_H

#include <stdbool.h>
#include <time.h>

#define THROTTLE_FAILS 10
#define THROTTLE_WINDOW 60
#define THROTTLE_SLOTS 256

struct throttle;

/* A table; NULL when out of memory. throttle_destroy accepts NULL. */
struct throttle *throttle_create(void);
void throttle_destroy(struct throttle *t);

/* True when @client (an address as text) may not try a token now; the
 * seconds until it may in *@retry (may be NULL). */
bool throttle_blocked(struct throttle *t, const char *client, time_t now, unsigned *retry);

/* Counts a failed token check from @client. */
void throttle_failed(struct throttle *t, const char *client, time_t now);

#endif
