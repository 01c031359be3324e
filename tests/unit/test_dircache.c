/* test_dircache.c - unit tests for common/dircache.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>

#include "dircache.h"
#include "xmalloc.h"

/* values are plain strings; live counts allocations to catch leaks and
 * double frees through the dup/free callbacks */
static int live;

static void *
str_dup(const void *p)
{
	live++;
	return xstrdup(p);
}

static void
str_free(void *p)
{
	live--;
	free(p);
}

struct fake_clock {
	uint64_t now;
};

static uint64_t
fake_now(void *ctx)
{
	return ((struct fake_clock *)ctx)->now;
}

/* new_cache - a cache on a fake clock starting at 1000 ms */
static struct dircache *
new_cache(size_t max, uint64_t ttl, uint64_t neg, struct fake_clock *clk)
{
	struct dircache *c = dircache_new(max, ttl, neg, str_dup, str_free);

	clk->now = 1000;
	dircache_set_clock(c, fake_now, clk);
	return c;
}

static void
test_a_stored_value_comes_back_as_a_copy(void **state)
{
	struct fake_clock clk;
	struct dircache *c = new_cache(10, 100, 10, &clk);
	void *v = NULL;

	(void)state;
	dircache_put(c, "alice", "uid=alice");
	assert_int_equal(dircache_get(c, "alice", &v), DIRCACHE_HIT);
	assert_non_null(v);
	assert_string_equal(v, "uid=alice");
	str_free(v);
	assert_int_equal(dircache_get(c, "bob", &v), DIRCACHE_MISS);
	assert_null(v);
	dircache_free(&c);
	assert_null(c);
	assert_int_equal(live, 0);
}

static void
test_entries_expire_after_their_own_ttl(void **state)
{
	static const struct {
		uint64_t	 age;		/* ms after the put */
		enum dircache_result positive, negative;
	} cases[] = {
		{ 0,   DIRCACHE_HIT, DIRCACHE_NEGATIVE },
		{ 9,   DIRCACHE_HIT, DIRCACHE_NEGATIVE },
		{ 10,  DIRCACHE_HIT, DIRCACHE_MISS },	/* negative TTL 10 */
		{ 99,  DIRCACHE_HIT, DIRCACHE_MISS },
		{ 100, DIRCACHE_MISS, DIRCACHE_MISS },	/* positive TTL 100 */
		{ 500, DIRCACHE_MISS, DIRCACHE_MISS },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct fake_clock clk;
		struct dircache *c = new_cache(10, 100, 10, &clk);
		enum dircache_result got;
		void *v;

		dircache_put(c, "known", "yes");
		dircache_put(c, "unknown", NULL);
		clk.now += cases[i].age;
		got = dircache_get(c, "known", &v);
		if (got != cases[i].positive)
			fail_msg("positive at +%llu ms: got %d, want %d",
			    (unsigned long long)cases[i].age, got,
			    cases[i].positive);
		free(v);
		if (v != NULL)
			live--;
		got = dircache_get(c, "unknown", &v);
		if (got != cases[i].negative)
			fail_msg("negative at +%llu ms: got %d, want %d",
			    (unsigned long long)cases[i].age, got,
			    cases[i].negative);
		assert_null(v);
		dircache_free(&c);
	}
	assert_int_equal(live, 0);
}

static void
test_an_expired_entry_is_dropped_when_touched(void **state)
{
	struct fake_clock clk;
	struct dircache *c = new_cache(10, 100, 10, &clk);
	void *v;

	(void)state;
	dircache_put(c, "a", "1");
	assert_int_equal(dircache_count(c), 1);
	clk.now += 1000;
	assert_int_equal(dircache_get(c, "a", &v), DIRCACHE_MISS);
	assert_int_equal(dircache_count(c), 0);
	dircache_free(&c);
	assert_int_equal(live, 0);
}

static void
test_a_positive_entry_replaces_a_negative_one_and_back(void **state)
{
	struct fake_clock clk;
	struct dircache *c = new_cache(10, 100, 10, &clk);
	void *v;

	(void)state;
	dircache_put(c, "carol", NULL);
	assert_int_equal(dircache_get(c, "carol", &v), DIRCACHE_NEGATIVE);
	dircache_put(c, "carol", "uid=carol");
	assert_int_equal(dircache_get(c, "carol", &v), DIRCACHE_HIT);
	assert_string_equal(v, "uid=carol");
	str_free(v);
	dircache_put(c, "carol", NULL);
	assert_int_equal(dircache_get(c, "carol", &v), DIRCACHE_NEGATIVE);
	assert_int_equal(dircache_count(c), 1);
	dircache_free(&c);
	assert_int_equal(live, 0);
}

static void
test_a_zero_ttl_caches_nothing_and_forgets_the_old_entry(void **state)
{
	struct fake_clock clk;
	struct dircache *c = new_cache(10, 100, 0, &clk);
	void *v;

	(void)state;
	dircache_put(c, "dave", "uid=dave");
	/* negative caching is off: "not found" must remove the old hit */
	dircache_put(c, "dave", NULL);
	assert_int_equal(dircache_get(c, "dave", &v), DIRCACHE_MISS);
	assert_int_equal(dircache_count(c), 0);
	dircache_free(&c);
	assert_int_equal(live, 0);
}

static void
test_the_least_recently_used_entry_goes_at_the_size_bound(void **state)
{
	struct fake_clock clk;
	struct dircache *c = new_cache(3, 1000, 1000, &clk);
	static const struct {
		const char		*key;
		enum dircache_result	 want;
	} after[] = {
		{ "a", DIRCACHE_HIT },		/* used, so kept */
		{ "b", DIRCACHE_MISS },		/* least recently used */
		{ "c", DIRCACHE_NEGATIVE },
		{ "d", DIRCACHE_HIT },
	};
	enum dircache_result got;
	size_t i;
	void *v;

	(void)state;
	dircache_put(c, "a", "1");
	dircache_put(c, "b", "2");
	dircache_put(c, "c", NULL);
	assert_int_equal(dircache_get(c, "a", &v), DIRCACHE_HIT);
	str_free(v);
	dircache_put(c, "d", "4");
	assert_int_equal(dircache_count(c), 3);
	for (i = 0; i < sizeof(after) / sizeof(*after); i++) {
		got = dircache_get(c, after[i].key, &v);
		if (got != after[i].want)
			fail_msg("%s: got %d, want %d", after[i].key, got,
			    after[i].want);
		if (v != NULL)
			str_free(v);
	}
	dircache_free(&c);
	assert_int_equal(live, 0);
}

static void
test_many_entries_stay_within_the_bound(void **state)
{
	struct fake_clock clk;
	struct dircache *c = new_cache(50, 1000, 1000, &clk);
	char key[32];
	void *v;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "user%d", i);
		dircache_put(c, key, i % 3 == 0 ? NULL : key);
		assert_true(dircache_count(c) <= 50);
	}
	/* the last 50 are there, the first are not */
	assert_int_equal(dircache_get(c, "user999", &v), DIRCACHE_NEGATIVE);
	assert_int_equal(dircache_get(c, "user998", &v), DIRCACHE_HIT);
	str_free(v);
	assert_int_equal(dircache_get(c, "user0", &v), DIRCACHE_MISS);
	dircache_remove(c, "user998");
	assert_int_equal(dircache_get(c, "user998", &v), DIRCACHE_MISS);
	dircache_clear(c);
	assert_int_equal(dircache_count(c), 0);
	dircache_free(&c);
	assert_int_equal(live, 0);
}

/* plain_dup - a dup that does not touch the (unsynchronised) live count */
static void *
plain_dup(const void *p)
{
	return xstrdup(p);
}

struct hammer {
	struct dircache	*cache;
	int		 seed;
	int		 hits;
};

static void *
hammer_thread(void *p)
{
	struct hammer *h = p;
	char key[32];
	void *v;
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", (i * 7 + h->seed) % 40);
		if (i % 2 == 0)
			dircache_put(h->cache, key, key);
		else if (dircache_get(h->cache, key, &v) == DIRCACHE_HIT) {
			if (strcmp(v, key) != 0)
				return NULL;
			free(v);
			h->hits++;
		}
	}
	return h;
}

static void
test_threads_share_one_cache_safely(void **state)
{
	struct dircache *c;
	struct hammer h[4];
	pthread_t t[4];
	void *ret;
	int i;

	(void)state;
	/* real clock here; values freed with plain free(), so the live
	 * count is not used */
	c = dircache_new(16, 60000, 60000, plain_dup, free);
	for (i = 0; i < 4; i++) {
		h[i].cache = c;
		h[i].seed = i;
		h[i].hits = 0;
		assert_int_equal(pthread_create(&t[i], NULL, hammer_thread,
		    &h[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_ptr_equal(ret, &h[i]);
	}
	assert_true(dircache_count(c) <= 16);
	dircache_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_stored_value_comes_back_as_a_copy),
		cmocka_unit_test(test_entries_expire_after_their_own_ttl),
		cmocka_unit_test(test_an_expired_entry_is_dropped_when_touched),
		cmocka_unit_test(
		    test_a_positive_entry_replaces_a_negative_one_and_back),
		cmocka_unit_test(
		    test_a_zero_ttl_caches_nothing_and_forgets_the_old_entry),
		cmocka_unit_test(
		    test_the_least_recently_used_entry_goes_at_the_size_bound),
		cmocka_unit_test(test_many_entries_stay_within_the_bound),
		cmocka_unit_test(test_threads_share_one_cache_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
