/* test_imap_seqset.c - unit tests for imapd/imap_seqset.c */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

#include "imap_seqset.h"

/* fmt - the set as text, "" when empty; into a static buffer */
static const char *
fmt(const struct imap_seqset *s)
{
	static char out[4096];
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(imap_seqset_format(s, &b), 0);
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_deinit(&b);
	return out;
}

struct parse_case {
	const char	*in;
	bool		 no_star;
	const char	*want;		/* formatted, or NULL for an error */
};

/* parsed_sets_come_out_sorted_and_merged */
static void
parsed_sets_come_out_sorted_and_merged(void **state)
{
	static const struct parse_case cases[] = {
		{ "1", false, "1" },
		{ "1:4", false, "1:4" },
		{ "4:1", false, "1:4" },
		{ "1,2,3,4", false, "1:4" },
		{ "5,1:3", false, "1:3,5" },
		{ "1:3,4:6", false, "1:6" },
		{ "1:10,2:3,5", false, "1:10" },
		{ "7,5,3,1", false, "1,3,5,7" },
		{ "1:4294967295", false, "1:4294967295" },
		{ "4294967295", false, "4294967295" },
		{ "*", false, "*" },
		{ "*:*", false, "*" },
		{ "5:*", false, "5:*" },
		{ "*:5", false, "5:*" },
		{ "1,3:*,2:*", false, "1,2:*" },
		/* RFC 9051 9: 2,4:7,9,12:* */
		{ "2,4:7,9,12:*", false, "2,4:7,9,12:*" },
		{ "2,4:7,9,12:*", true, NULL },
		{ "*", true, NULL },
		{ "0", false, NULL },
		{ "0:5", false, NULL },
		{ "01", false, NULL },
		{ "4294967296", false, NULL },
		{ "99999999999999999999", false, NULL },
		{ "", false, NULL },
		{ "1:", false, NULL },
		{ ":1", false, NULL },
		{ "1,,2", false, NULL },
		{ "1,", false, NULL },
		{ ",1", false, NULL },
		{ "a", false, NULL },
		{ "1:2:3", false, NULL },
		{ "$", false, NULL },
		{ " 1", false, NULL },
		{ "1 ", false, NULL },
		{ "1:*x", false, NULL },
		{ "**", false, NULL },
		{ "-1", false, NULL },
		{ "+1", false, NULL },
	};
	struct imap_seqset s;
	const char *error = NULL, *got;
	size_t i;
	int failures = 0, r;

	imap_seqset_init(&s);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = imap_seqset_parse(&s, cases[i].in, strlen(cases[i].in),
		    cases[i].no_star, &error);
		if (cases[i].want == NULL) {
			if (r == 0) {
				print_error("\"%s\": got %s, want an error\n",
				    cases[i].in, fmt(&s));
				failures++;
			} else if (error == NULL || *error == '\0' ||
			    !imap_seqset_is_empty(&s)) {
				print_error("\"%s\": error without reason or "
				    "set not emptied\n", cases[i].in);
				failures++;
			}
			continue;
		}
		got = r == 0 ? fmt(&s) : error;
		if (r != 0 || strcmp(got, cases[i].want) != 0) {
			print_error("\"%s\": got \"%s\", want \"%s\"\n",
			    cases[i].in, got, cases[i].want);
			failures++;
		}
	}
	imap_seqset_deinit(&s);
	assert_int_equal(failures, 0);
}

struct resolve_case {
	const char	*in;
	uint32_t	 max;
	bool		 uid;
	const char	*want;		/* formatted, or NULL for -1 */
};

/* star_resolves_to_the_maximum_and_larger_numbers_drop */
static void
star_resolves_to_the_maximum_and_larger_numbers_drop(
    void **state)
{
	static const struct resolve_case cases[] = {
		{ "1:*", 10, false, "1:10" },
		{ "*", 10, false, "10" },
		{ "*:*", 10, true, "10" },
		{ "*", 0, false, NULL },
		{ "1", 0, false, NULL },
		{ "*", 0, true, "" },
		{ "1:*", 0, true, "" },
		/* RFC 9051 6.4.8: 559:* names the last UID even above it */
		{ "559:*", 100, true, "100" },
		{ "559:*", 100, false, NULL },
		{ "*:559", 100, true, "100" },
		{ "5", 4, false, NULL },
		{ "5", 4, true, "" },
		{ "4", 4, false, "4" },
		{ "1:4294967295", 7, true, "1:7" },
		{ "1:4294967295", 7, false, NULL },
		{ "3,5:*", 4, true, "3:4" },
		{ "3,5:*", 9, false, "3,5:9" },
		{ "1:3,7:*", 5, true, "1:3,5" },
		/* RFC 9051 9, with 15 messages */
		{ "2,4:7,9,12:*", 15, false, "2,4:7,9,12:15" },
		{ "1:4294967295", UINT32_MAX, true, "1:4294967295" },
		{ "*", UINT32_MAX, true, "4294967295" },
	};
	struct imap_seqset s;
	const char *error, *got;
	size_t i;
	int failures = 0, r;
	char before[64];

	imap_seqset_init(&s);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(imap_seqset_parse(&s, cases[i].in,
		    strlen(cases[i].in), false, &error), 0);
		snprintf(before, sizeof(before), "%s", fmt(&s));
		r = imap_seqset_resolve(&s, cases[i].max, cases[i].uid);
		got = fmt(&s);
		if (cases[i].want == NULL) {
			if (r == 0 || strcmp(got, before) != 0) {
				print_error("\"%s\" max %u: got %d \"%s\", "
				    "want -1 and the set unchanged\n",
				    cases[i].in, cases[i].max, r, got);
				failures++;
			}
		} else if (r != 0 || strcmp(got, cases[i].want) != 0) {
			print_error("\"%s\" max %u %s: got %d \"%s\", want "
			    "\"%s\"\n", cases[i].in, cases[i].max,
			    cases[i].uid ? "uid" : "seq", r, got,
			    cases[i].want);
			failures++;
		} else if (s.star) {
			print_error("\"%s\": star left after resolving\n",
			    cases[i].in);
			failures++;
		}
	}
	imap_seqset_deinit(&s);
	assert_int_equal(failures, 0);
}

/* huge_ranges_cost_one_entry_not_one_per_number */
static void
huge_ranges_cost_one_entry_not_one_per_number(void **state)
{
	struct imap_seqset s;
	const char *error;
	struct buf b;
	uint32_t n;
	size_t i;

	imap_seqset_init(&s);
	assert_int_equal(imap_seqset_parse(&s, "1:4294967295", 12, false,
	    &error), 0);
	assert_int_equal(s.count, 1);
	assert_true(s.alloc <= 4);
	assert_true(imap_seqset_count(&s) == 4294967295ULL);
	assert_true(imap_seqset_contains(&s, 1));
	assert_true(imap_seqset_contains(&s, 4294967295U));
	assert_false(imap_seqset_contains(&s, 0));
	assert_int_equal(imap_seqset_resolve(&s, 4294967295U, true), 0);
	assert_int_equal(s.count, 1);

	assert_int_equal(imap_seqset_parse(&s, "*:*", 3, false, &error), 0);
	assert_int_equal(s.count, 0);
	assert_int_equal(imap_seqset_resolve(&s, 4000000000U, true), 0);
	assert_int_equal(s.count, 1);
	assert_true(imap_seqset_count(&s) == 1);

	/* 100000 numbers written one by one merge into one range; every
	 * other number stays 100000 ranges and is still a binary search */
	buf_init(&b, 0);
	for (n = 1; n <= 100000; n++)
		buf_printf(&b, "%s%u", n > 1 ? "," : "", n);
	assert_int_equal(imap_seqset_parse(&s, buf_ptr(&b), buf_avail(&b),
	    false, &error), 0);
	assert_int_equal(s.count, 1);
	assert_string_equal(fmt(&s), "1:100000");
	buf_reset(&b);
	for (n = 199999; n >= 1 && n <= 199999; n -= 2)
		buf_printf(&b, "%s%u", n < 199999 ? "," : "", n);
	assert_int_equal(imap_seqset_parse(&s, buf_ptr(&b), buf_avail(&b),
	    false, &error), 0);
	assert_int_equal(s.count, 100000);
	for (i = 0; i + 1 < s.count; i++)
		assert_true(s.r[i].hi + 1 < s.r[i + 1].lo);
	assert_true(imap_seqset_contains(&s, 99999));
	assert_false(imap_seqset_contains(&s, 100000));
	assert_true(imap_seqset_count(&s) == 100000);
	buf_deinit(&b);
	imap_seqset_deinit(&s);
}

/* iteration_walks_every_number_once_and_stops_at_the_top */
static void
iteration_walks_every_number_once_and_stops_at_the_top(void **state)
{
	struct imap_seqset s;
	struct imap_seqset_iter it;
	const char *error;
	uint32_t n, got[16];
	size_t k = 0;

	imap_seqset_init(&s);
	assert_int_equal(imap_seqset_parse(&s, "7,1:3,4294967294:*", 18,
	    false, &error), 0);
	assert_int_equal(imap_seqset_resolve(&s, UINT32_MAX, true), 0);
	imap_seqset_iter_init(&it, &s);
	while (imap_seqset_iter_next(&it, &n)) {
		assert_true(k < 16);
		got[k++] = n;
	}
	assert_int_equal(k, 6);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 2);
	assert_int_equal(got[2], 3);
	assert_int_equal(got[3], 7);
	assert_int_equal(got[4], 4294967294U);
	assert_int_equal(got[5], 4294967295U);
	assert_false(imap_seqset_iter_next(&it, &n));
	assert_int_equal(imap_seqset_min(&s), 1);
	assert_int_equal(imap_seqset_max(&s), UINT32_MAX);

	imap_seqset_clear(&s);
	imap_seqset_iter_init(&it, &s);
	assert_false(imap_seqset_iter_next(&it, &n));
	assert_int_equal(imap_seqset_min(&s), 0);
	assert_int_equal(imap_seqset_max(&s), 0);
	assert_true(imap_seqset_is_empty(&s));
	imap_seqset_deinit(&s);
}

#define MODEL	300

/* check_model - the set equals the bitmap, ranges canonical */
static int
check_model(const struct imap_seqset *s, const bool *model, const char *op)
{
	size_t i;
	uint32_t n;
	uint64_t count = 0;

	for (i = 0; i < s->count; i++) {
		if (s->r[i].lo == 0 || s->r[i].lo > s->r[i].hi ||
		    (i > 0 && (uint64_t)s->r[i - 1].hi + 1 >= s->r[i].lo)) {
			print_error("%s: ranges not canonical: %s\n", op,
			    fmt(s));
			return 1;
		}
	}
	for (n = 1; n < MODEL; n++) {
		if (imap_seqset_contains(s, n) != model[n]) {
			print_error("%s: %u: got %d, want %d (%s)\n", op, n,
			    imap_seqset_contains(s, n), model[n], fmt(s));
			return 1;
		}
		count += model[n];
	}
	if (imap_seqset_count(s) != count) {
		print_error("%s: count %" PRIu64 ", want %" PRIu64 "\n", op,
		    imap_seqset_count(s), count);
		return 1;
	}
	return 0;
}

/* random_edits_agree_with_a_bitmap */
static void
random_edits_agree_with_a_bitmap(void **state)
{
	struct imap_seqset a, b, c;
	bool ma[MODEL], mb[MODEL], mc[MODEL];
	uint32_t lo, hi, t, n;
	int round, step, failures = 0;

	srandom(12345);
	imap_seqset_init(&a);
	imap_seqset_init(&b);
	imap_seqset_init(&c);
	for (round = 0; round < 200 && failures == 0; round++) {
		imap_seqset_clear(&a);
		imap_seqset_clear(&b);
		memset(ma, 0, sizeof(ma));
		memset(mb, 0, sizeof(mb));
		for (step = 0; step < 40 && failures == 0; step++) {
			lo = 1 + (uint32_t)(random() % (MODEL - 1));
			hi = 1 + (uint32_t)(random() % (MODEL - 1));
			if (random() % 3 == 0)
				hi = lo;
			if (random() % 4 == 0) {
				imap_seqset_remove_range(&a, lo, hi);
				if (lo > hi) {
					t = lo;
					lo = hi;
					hi = t;
				}
				for (n = lo; n <= hi; n++)
					ma[n] = false;
				failures += check_model(&a, ma, "remove");
			} else {
				imap_seqset_add_range(&a, lo, hi);
				if (lo > hi) {
					t = lo;
					lo = hi;
					hi = t;
				}
				for (n = lo; n <= hi; n++)
					ma[n] = true;
				failures += check_model(&a, ma, "add");
			}
			n = 1 + (uint32_t)(random() % (MODEL - 1));
			imap_seqset_add(&b, n);
			mb[n] = true;
		}
		imap_seqset_union(&c, &a, &b);
		for (n = 0; n < MODEL; n++)
			mc[n] = ma[n] || mb[n];
		failures += check_model(&c, mc, "union");
		imap_seqset_intersect(&c, &a, &b);
		for (n = 0; n < MODEL; n++)
			mc[n] = ma[n] && mb[n];
		failures += check_model(&c, mc, "intersect");
		/* in place, dst == a */
		imap_seqset_copy(&c, &a);
		imap_seqset_union(&c, &c, &b);
		for (n = 0; n < MODEL; n++)
			mc[n] = ma[n] || mb[n];
		failures += check_model(&c, mc, "union in place");
		imap_seqset_intersect(&c, &c, &a);
		for (n = 0; n < MODEL; n++)
			mc[n] = mc[n] && ma[n];
		failures += check_model(&c, mc, "intersect in place");
	}
	imap_seqset_deinit(&a);
	imap_seqset_deinit(&b);
	imap_seqset_deinit(&c);
	assert_int_equal(failures, 0);
}

/* removing_at_the_edges_of_the_number_space_splits_correctly */
static void
removing_at_the_edges_of_the_number_space_splits_correctly(void **state)
{
	struct imap_seqset s;

	imap_seqset_init(&s);
	imap_seqset_add_range(&s, 1, UINT32_MAX);
	imap_seqset_remove_range(&s, 5, 5);
	assert_string_equal(fmt(&s), "1:4,6:4294967295");
	imap_seqset_remove_range(&s, UINT32_MAX, UINT32_MAX);
	assert_string_equal(fmt(&s), "1:4,6:4294967294");
	imap_seqset_remove_range(&s, 0, 1);
	assert_string_equal(fmt(&s), "2:4,6:4294967294");
	imap_seqset_remove_range(&s, 3, 10);
	assert_string_equal(fmt(&s), "2,11:4294967294");
	imap_seqset_add(&s, 0);
	assert_string_equal(fmt(&s), "2,11:4294967294");
	imap_seqset_add_range(&s, UINT32_MAX, 3);
	assert_string_equal(fmt(&s), "2:4294967295");
	imap_seqset_remove_range(&s, 0, UINT32_MAX);
	assert_string_equal(fmt(&s), "");
	imap_seqset_deinit(&s);
}

/* formatting_past_the_ceiling_leaves_the_buffer_as_it_was */
static void
formatting_past_the_ceiling_leaves_the_buffer_as_it_was(void **state)
{
	struct imap_seqset s;
	struct buf b;
	const char *error;
	size_t max;

	imap_seqset_init(&s);
	assert_int_equal(imap_seqset_parse(&s, "1:4,7,9:12,20:*", 15, false,
	    &error), 0);
	for (max = 3; max < 3 + 15; max++) {
		buf_init(&b, max);
		assert_int_equal(buf_append_str(&b, "OK "), 0);
		assert_int_equal(imap_seqset_format(&s, &b), -1);
		assert_string_equal(buf_cstr(&b), "OK ");
		buf_deinit(&b);
	}
	buf_init(&b, 3 + 15);
	assert_int_equal(buf_append_str(&b, "OK "), 0);
	assert_int_equal(imap_seqset_format(&s, &b), 0);
	assert_string_equal(buf_cstr(&b), "OK 1:4,7,9:12,20:*");
	buf_deinit(&b);
	imap_seqset_deinit(&s);
}

/* every_prefix_of_a_set_parses_or_fails_cleanly */
static void
every_prefix_of_a_set_parses_or_fails_cleanly(void **state)
{
	static const char text[] = "2,4:7,9,12:*,4294967295,*:3";
	struct imap_seqset s;
	const char *error;
	size_t len;
	char *copy;

	imap_seqset_init(&s);
	for (len = 0; len <= sizeof(text) - 1; len++) {
		/* an exact-size heap copy, so ASan sees any overread */
		copy = malloc(len == 0 ? 1 : len);
		memcpy(copy, text, len);
		if (imap_seqset_parse(&s, copy, len, false, &error) == 0)
			(void)imap_seqset_resolve(&s, 10, true);
		free(copy);
	}
	imap_seqset_deinit(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parsed_sets_come_out_sorted_and_merged),
		cmocka_unit_test(
		    star_resolves_to_the_maximum_and_larger_numbers_drop),
		cmocka_unit_test(huge_ranges_cost_one_entry_not_one_per_number),
		cmocka_unit_test(
		    iteration_walks_every_number_once_and_stops_at_the_top),
		cmocka_unit_test(random_edits_agree_with_a_bitmap),
		cmocka_unit_test(
		    removing_at_the_edges_of_the_number_space_splits_correctly),
		cmocka_unit_test(
		    formatting_past_the_ceiling_leaves_the_buffer_as_it_was),
		cmocka_unit_test(every_prefix_of_a_set_parses_or_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
