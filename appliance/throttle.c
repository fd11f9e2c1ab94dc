/* appliance/throttle.c: failed logins per client address. */
#include "appliance/throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char client[64];
	time_t first;           /* first failure counted in this window */
	time_t last;
	unsigned fails;
};

struct throttle {
	pthread_mutex_t lock;
	struct slot slots[THROTTLE_SLOTS];
};

struct throttle *throttle_create(void)
{
	struct throttle *t = calloc(1, sizeof(*t));

	if (t)
		pthread_mutex_init(&t->lock, NULL);
	return t;
}

void throttle_destroy(struct throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The slot of @client, or NULL. Called locked. */
static struct slot *slot_find(struct throttle *t, const char *client)
{
	for (int i = 0; i < THROTTLE_SLOTS; i++)
		if (t->slots[i].fails && !strncmp(t->slots[i].client, client,
						  sizeof(t->slots[i].client) - 1))
			return &t->slots[i];
	return NULL;
}

bool throttle_blocked(struct throttle *t, const char *client, time_t now, unsigned *retry)
{
	struct slot *s;
	bool blocked = false;

	pthread_mutex_lock(&t->lock);
	s = slot_find(t, client);
	if (s && now - s->first >= THROTTLE_WINDOW)
		memset(s, 0, sizeof(*s));	/* the window has passed */
	else if (s && s->fails >= THROTTLE_FAILS) {
		blocked = true;
		if (retry)
			*retry = (unsigned)(THROTTLE_WINDOW - (now - s->first));
	}
	pthread_mutex_unlock(&t->lock);
	return blocked;
}

void throttle_failed(struct throttle *t, const char *client, time_t now)
{
	struct slot *s;

	pthread_mutex_lock(&t->lock);
	s = slot_find(t, client);
	if (s && now - s->first >= THROTTLE_WINDOW)
		memset(s, 0, sizeof(*s));
	if (!s || !s->fails) {
		struct slot *old = &t->slots[0];

		/* a free slot, else the one whose last failure is oldest */
		for (int i = 0; i < THROTTLE_SLOTS && old->fails; i++)
			if (!t->slots[i].fails || t->slots[i].last < old->last)
				old = &t->slots[i];
		s = old;
		memset(s, 0, sizeof(*s));
		snprintf(s->client, sizeof(s->client), "%s", client);
		s->first = now;
	}
	s->fails++;
	s->last = now;
	pthread_mutex_unlock(&t->lock);
}
