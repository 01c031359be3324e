/* test_authfail.c - unit tests for common/authfail.c */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authfail.h"

#define IP	"192.0.2.1"
#define IP2	"2001:db8::1"

struct step {
	uint64_t	 now;
	const char	*ip;
	uint64_t	 want_delay;
	bool		 want_banned;	/* right after this failure */
};

/* run_steps - record each failure, compare delay and ban */
static void
run_steps(struct authfail *a, const struct step *steps, size_t n)
{
	uint64_t delay;
	bool banned;
	size_t i;
	int failures = 0;

	for (i = 0; i < n; i++) {
		delay = authfail_record(a, steps[i].ip, steps[i].now);
		banned = authfail_banned(a, steps[i].ip, steps[i].now);
		if (delay != steps[i].want_delay ||
		    banned != steps[i].want_banned) {
			print_error("step %zu (%s at %" PRIu64 "): got delay "
			    "%" PRIu64 " banned %d, want %" PRIu64 " %d\n",
			    i, steps[i].ip, steps[i].now, delay, (int)banned,
			    steps[i].want_delay, (int)steps[i].want_banned);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

#define RUN(a, t)	run_steps((a), (t), sizeof(t) / sizeof((t)[0]))

/* delays_grow_with_each_failure_and_are_capped_at_5_s */
static void
delays_grow_with_each_failure_and_are_capped_at_5_s(void **state)
{
	static const struct step steps[] = {
		{ 0, IP, 0, false },
		{ 10, IP, 1000, false },
		{ 20, IP, 2000, false },
		{ 30, IP, 4000, false },
		{ 40, IP, 5000, false },
		{ 50, IP, 5000, false },
		{ 60, IP, 5000, false },
		{ 70, IP2, 0, false },		/* another IP starts at 0 */
		{ 80, IP, 5000, false },
	};
	struct authfail *a;

	(void)state;
	a = authfail_new(100, 60000, 30000, 100);
	RUN(a, steps);
	authfail_free(&a);
	assert_null(a);
}

/* failures_leave_the_window_after_window_ms */
static void
failures_leave_the_window_after_window_ms(void **state)
{
	static const struct step steps[] = {
		{ 0, IP, 0, false },
		{ 5000, IP, 1000, false },
		/* 9999: both still count */
		{ 9999, IP, 2000, false },
		/* 10000: the one at 0 is out, 5000 and 9999 count */
		{ 10000, IP, 2000, false },
		/* 30000: all are out, a fresh start */
		{ 30000, IP, 0, false },
	};
	struct authfail *a;

	(void)state;
	a = authfail_new(100, 10000, 30000, 100);
	RUN(a, steps);
	authfail_free(&a);
}

/* max_failures_in_the_window_ban_the_ip_for_ban_ms */
static void
max_failures_in_the_window_ban_the_ip_for_ban_ms(void **state)
{
	static const struct step steps[] = {
		{ 0, IP, 0, false },
		{ 1, IP, 1000, false },
		{ 2, IP, 2000, true },
	};
	struct authfail *a;

	(void)state;
	a = authfail_new(3, 60000, 30000, 100);
	assert_false(authfail_banned(a, IP, 0));
	RUN(a, steps);
	assert_true(authfail_banned(a, IP, 2 + 29999));
	assert_false(authfail_banned(a, IP2, 2 + 29999));
	/* a failure during the ban does not extend it */
	assert_int_equal(authfail_record(a, IP, 20000), AUTHFAIL_DELAY_MAX_MS);
	assert_true(authfail_banned(a, IP, 2 + 29999));
	assert_false(authfail_banned(a, IP, 2 + 30000));
	/* the ban served, the IP starts afresh */
	assert_int_equal(authfail_record(a, IP, 2 + 30001), 0);
	assert_false(authfail_banned(a, IP, 2 + 30001));
	authfail_free(&a);
}

/* a_ban_that_ended_is_over_for_a_failure_too */
static void
a_ban_that_ended_is_over_for_a_failure_too(void **state)
{
	struct authfail *a;

	(void)state;
	a = authfail_new(2, 60000, 1000, 100);
	authfail_record(a, IP, 0);
	authfail_record(a, IP, 0);
	assert_true(authfail_banned(a, IP, 999));
	/* without asking authfail_banned() first */
	assert_int_equal(authfail_record(a, IP, 1000), 0);
	assert_false(authfail_banned(a, IP, 1000));
	authfail_free(&a);
}

/* failures_spread_wider_than_the_window_never_ban */
static void
failures_spread_wider_than_the_window_never_ban(void **state)
{
	static const struct step steps[] = {
		{ 0, IP, 0, false },
		{ 600, IP, 1000, false },
		{ 1200, IP, 1000, false },
		{ 1800, IP, 1000, false },
		{ 2400, IP, 1000, false },
		{ 3000, IP, 1000, false },
	};
	struct authfail *a;

	(void)state;
	a = authfail_new(3, 1000, 30000, 100);
	RUN(a, steps);
	authfail_free(&a);
}

/* a_burst_across_a_window_boundary_still_bans */
static void
a_burst_across_a_window_boundary_still_bans(void **state)
{
	/* a window restarting at the first failure would start a new one
	 * at 1050 and count two; the sliding window sees three in 1 s */
	static const struct step steps[] = {
		{ 0, IP, 0, false },
		{ 950, IP, 1000, false },
		{ 1050, IP, 1000, false },
		{ 1100, IP, 2000, true },
	};
	struct authfail *a;

	(void)state;
	a = authfail_new(3, 1000, 30000, 100);
	RUN(a, steps);
	authfail_free(&a);
}

/* a_success_forgets_the_failures_but_not_a_ban_in_force */
static void
a_success_forgets_the_failures_but_not_a_ban_in_force(void **state)
{
	struct authfail *a;

	(void)state;
	a = authfail_new(3, 60000, 30000, 100);
	assert_int_equal(authfail_record(a, IP, 0), 0);
	assert_int_equal(authfail_record(a, IP, 1), 1000);
	assert_int_equal(authfail_record(a, IP2, 1), 0);
	authfail_success(a, IP);
	assert_int_equal(authfail_count(a), 1);
	assert_int_equal(authfail_record(a, IP, 2), 0);
	assert_int_equal(authfail_record(a, IP, 3), 1000);
	/* IP2's failure was not touched */
	assert_int_equal(authfail_record(a, IP2, 3), 1000);
	/* success on an unknown IP is harmless */
	authfail_success(a, "198.51.100.7");
	/* banned, then a success (a shared address): still banned */
	assert_int_equal(authfail_record(a, IP, 4), 2000);
	assert_true(authfail_banned(a, IP, 5));
	authfail_success(a, IP);
	assert_true(authfail_banned(a, IP, 5));
	assert_false(authfail_banned(a, IP, 4 + 30000));
	authfail_free(&a);
}

/* max_failures_0_never_bans_but_still_delays */
static void
max_failures_0_never_bans_but_still_delays(void **state)
{
	struct authfail *a;
	uint64_t delay = 0;
	int i;

	(void)state;
	a = authfail_new(0, 60000, 30000, 100);
	for (i = 0; i < 50; i++) {
		delay = authfail_record(a, IP, (uint64_t)i);
		assert_false(authfail_banned(a, IP, (uint64_t)i));
	}
	assert_int_equal(delay, AUTHFAIL_DELAY_MAX_MS);
	authfail_free(&a);
}

/* the_table_is_bounded_and_forgets_the_oldest_ip */
static void
the_table_is_bounded_and_forgets_the_oldest_ip(void **state)
{
	struct authfail *a;
	char ip[64];
	int i;

	(void)state;
	a = authfail_new(2, 60000, 30000, 3);
	authfail_record(a, "a", 0);
	authfail_record(a, "a", 1);	/* banned */
	authfail_record(a, "b", 2);
	authfail_record(a, "c", 3);
	assert_int_equal(authfail_count(a), 3);
	assert_true(authfail_banned(a, "a", 4));
	/* "d" pushes out "a", the least recently failed */
	authfail_record(a, "d", 5);
	assert_int_equal(authfail_count(a), 3);
	assert_false(authfail_banned(a, "a", 6));
	/* a new failure moves "b" up: "c" is now the oldest and goes */
	assert_int_equal(authfail_record(a, "b", 7), 1000);	/* 2nd */
	assert_true(authfail_banned(a, "b", 7));
	authfail_record(a, "e", 8);
	assert_int_equal(authfail_count(a), 3);
	assert_int_equal(authfail_record(a, "c", 9), 0);	/* fresh */
	/* a flood of addresses never grows the table */
	for (i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		authfail_record(a, ip, 10 + (uint64_t)i);
		if (authfail_count(a) > 3)
			fail_msg("got %zu entries, want at most 3",
			    authfail_count(a));
	}
	authfail_free(&a);
	/* max_entries 0 holds one */
	a = authfail_new(2, 60000, 30000, 0);
	authfail_record(a, "a", 0);
	authfail_record(a, "b", 0);
	assert_int_equal(authfail_count(a), 1);
	authfail_free(&a);
}

struct thread_arg {
	struct authfail	*a;
	int		 n;
	int		 id;
};

/* hammer - record n failures for a shared IP and for one of our own */
static void *
hammer(void *p)
{
	struct thread_arg *t = p;
	char own[32];
	int i;

	snprintf(own, sizeof(own), "own-%d", t->id);
	for (i = 0; i < t->n; i++) {
		authfail_record(t->a, "shared", 0);
		authfail_record(t->a, own, 0);
		(void)authfail_banned(t->a, "shared", 0);
	}
	return NULL;
}

/* concurrent_failures_from_threads_are_all_counted */
static void
concurrent_failures_from_threads_are_all_counted(void **state)
{
	enum { THREADS = 4, EACH = 500 };
	struct thread_arg args[THREADS];
	pthread_t tids[THREADS];
	struct authfail *a;
	int i, round;

	(void)state;
	/* round 0: one failure short of the ban; round 1: exactly at it */
	for (round = 0; round < 2; round++) {
		a = authfail_new(THREADS * EACH + 1 - (unsigned int)round,
		    60000, 30000, 100);
		for (i = 0; i < THREADS; i++) {
			args[i].a = a;
			args[i].n = EACH;
			args[i].id = i;
			assert_int_equal(pthread_create(&tids[i], NULL,
			    hammer, &args[i]), 0);
		}
		for (i = 0; i < THREADS; i++)
			pthread_join(tids[i], NULL);
		if (authfail_banned(a, "shared", 1) != (round == 1))
			fail_msg("round %d: got banned %d, want %d", round,
			    !(round == 1), round == 1);
		assert_int_equal(authfail_count(a), THREADS + 1);
		authfail_free(&a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    delays_grow_with_each_failure_and_are_capped_at_5_s),
		cmocka_unit_test(failures_leave_the_window_after_window_ms),
		cmocka_unit_test(
		    max_failures_in_the_window_ban_the_ip_for_ban_ms),
		cmocka_unit_test(a_ban_that_ended_is_over_for_a_failure_too),
		cmocka_unit_test(
		    failures_spread_wider_than_the_window_never_ban),
		cmocka_unit_test(a_burst_across_a_window_boundary_still_bans),
		cmocka_unit_test(
		    a_success_forgets_the_failures_but_not_a_ban_in_force),
		cmocka_unit_test(max_failures_0_never_bans_but_still_delays),
		cmocka_unit_test(
		    the_table_is_bounded_and_forgets_the_oldest_ip),
		cmocka_unit_test(
		    concurrent_failures_from_threads_are_all_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
