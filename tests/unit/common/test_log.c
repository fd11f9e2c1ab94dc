/* Unit tests for common/log.c: levels and sinks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

static char got[256];
static int calls;
static char opaque_tag[] = "op";
static enum log_level got_level;

static void sink(enum log_level level, const char *tag, const char *msg, void *opaque)
{
	calls++;
	got_level = level;
	snprintf(got, sizeof(got), "%s|%s|%s", tag ? tag : "-", msg, (const char *)opaque);
}

static void setup(void)
{
	calls = 0;
	got[0] = '\0';
	log_set_sink(sink, opaque_tag);
	log_set_level(LOG_LVL_WARN);
}

Test(log, level_filters, .init = setup)
{
	log_msg(LOG_LVL_INFO, "t", "dropped %d", 1);
	cr_assert_eq(calls, 0);
	log_msg(LOG_LVL_WARN, "t", "kept %d", 2);
	cr_assert_eq(calls, 1);
	cr_assert_eq(got_level, LOG_LVL_WARN);
	cr_assert_str_eq(got, "t|kept 2|op");
	log_set_level(LOG_LVL_DBG);
	log_msg(LOG_LVL_DBG, NULL, "dbg");
	cr_assert_eq(calls, 2);
	cr_assert_str_eq(got, "-|dbg|op");
}

Test(log, trailing_newlines_stripped, .init = setup)
{
	log_msg(LOG_LVL_ERR, "x", "line\n\n");
	cr_assert_str_eq(got, "x|line|op");
}

Test(log, long_message_truncated_not_overflowed, .init = setup)
{
	char big[4000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_msg(LOG_LVL_ERR, "x", "%s", big);
	cr_assert_eq(calls, 1);
	cr_assert_eq(strlen(got), sizeof(got) - 1);
}
