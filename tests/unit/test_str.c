/* test_str.c - unit tests for common/str.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "str.h"

static void
numbers_parse_only_when_whole_and_in_range(void **state)
{
	static const struct {
		const char	*in;
		uint64_t	 min, max;
		int		 want_r;
		uint64_t	 want;
	} cases[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -1, 0 },
		{ "", 0, 10, -1, 0 },
		{ "-1", 0, 10, -1, 0 },
		{ "+1", 0, 10, -1, 0 },
		{ "1x", 0, 10, -1, 0 },
		{ " 1", 0, 10, -1, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, -1, 0 },
		{ "4294967295", 1, 4294967295ULL, 0, 4294967295ULL },
	};
	size_t i;
	uint64_t v;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		v = 0;
		r = str_to_u64(cases[i].in, cases[i].min, cases[i].max, &v);
		if (r != cases[i].want_r || (r == 0 && v != cases[i].want))
			fail_msg("\"%s\": got %d/%llu, want %d/%llu",
			    cases[i].in, r, (unsigned long long)v,
			    cases[i].want_r,
			    (unsigned long long)cases[i].want);
	}
}

static void
trim_strips_both_ends(void **state)
{
	char s[] = " \t key = value \r\n";

	assert_string_equal(str_trim(s), "key = value");
}

static void
split_drops_empty_fields(void **state)
{
	char **v;
	size_t n;

	v = str_split(" ldap://a/, ldap://b/ ,,", " ,", &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "ldap://a/");
	assert_string_equal(v[1], "ldap://b/");
	assert_null(v[2]);
	str_split_free(&v);
	assert_null(v);
}

static void
utf8_check_refuses_controls_overlongs_and_truncation(void **state)
{
	static const struct {
		const char	*in;
		bool		 want;
	} cases[] = {
		{ "Entw\xc3\xbcrfe", true },
		{ "\xe6\x97\xa5\xe6\x9c\xac", true },
		{ "\xf0\x9f\x93\xa7", true },
		{ "a\tb", false },
		{ "a\x7f", false },
		{ "\xc0\xaf", false },		/* overlong '/' */
		{ "\xe0\x80\xae", false },	/* overlong '.' */
		{ "\xc3", false },		/* truncated */
		{ "\xed\xa0\x80", false },	/* surrogate */
		{ "\xff", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		if (str_is_printable_utf8(cases[i].in, strlen(cases[i].in)) !=
		    cases[i].want)
			fail_msg("case %zu: got %d, want %d", i,
			    !cases[i].want, cases[i].want);
}

static void
utf8_len_gives_the_sequence_length_and_its_code_point(void **state)
{
	static const struct {
		const char	*in;
		size_t		 left;
		size_t		 want;
		unsigned int	 cp;
	} cases[] = {
		{ "a", 1, 1, 'a' },
		{ "\xc3\xbc", 2, 2, 0xfc },
		{ "\xe6\x97\xa5", 3, 3, 0x65e5 },
		{ "\xf0\x9f\x93\xa7", 4, 4, 0x1f4e7 },
		{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
		{ "\xf4\x90\x80\x80", 4, 0, 0 },	/* above U+10FFFF */
		{ "\xc1\xbf", 2, 0, 0 },		/* overlong */
		{ "\xf0\x8f\xbf\xbf", 4, 0, 0 },	/* overlong */
		{ "\xed\xbf\xbf", 3, 0, 0 },		/* surrogate */
		{ "\xe6\x97\xa5", 2, 0, 0 },		/* truncated */
		{ "\x80", 1, 0, 0 },			/* continuation */
		{ "\xe6" "a\xa5", 3, 0, 0 },	/* not a continuation */
		{ "", 0, 0, 0 },
	};
	unsigned int cp;
	size_t i, got;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cp = 0;
		got = str_utf8_len((const unsigned char *)cases[i].in,
		    cases[i].left, &cp);
		if (got != cases[i].want || (got > 0 && cp != cases[i].cp))
			fail_msg("case %zu: got %zu U+%X, want %zu U+%X", i,
			    got, cp, cases[i].want, cases[i].cp);
	}
}

static void
copy_reports_truncation(void **state)
{
	char dst[4];

	assert_int_equal(str_copy(dst, sizeof(dst), "abc"), 0);
	assert_string_equal(dst, "abc");
	assert_int_equal(str_copy(dst, sizeof(dst), "abcd"), -1);
	assert_string_equal(dst, "abc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers_parse_only_when_whole_and_in_range),
		cmocka_unit_test(trim_strips_both_ends),
		cmocka_unit_test(split_drops_empty_fields),
		cmocka_unit_test(
		    utf8_check_refuses_controls_overlongs_and_truncation),
		cmocka_unit_test(
		    utf8_len_gives_the_sequence_length_and_its_code_point),
		cmocka_unit_test(copy_reports_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
