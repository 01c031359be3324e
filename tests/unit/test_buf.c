/* test_buf.c - unit tests for common/buf.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

/* the table below feeds formats through a variable on purpose */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

static void
appending_within_the_ceiling_keeps_every_byte(void **state)
{
	struct buf b;
	char big[1000];

	buf_init(&b, sizeof(big));
	memset(big, 'x', sizeof(big));
	assert_int_equal(buf_append(&b, big, 600), 0);
	assert_int_equal(buf_append(&b, big, 400), 0);
	assert_int_equal(buf_avail(&b), 1000);
	assert_int_equal(buf_ptr(&b)[1000], '\0');
	buf_deinit(&b);
}

static void
appending_one_byte_past_the_ceiling_fails_and_changes_nothing(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_append_str(&b, "12345678"), 0);
	assert_int_equal(buf_append_byte(&b, '9'), -1);
	assert_int_equal(buf_avail(&b), 8);
	assert_string_equal(buf_cstr(&b), "12345678");
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	assert_string_equal(buf_cstr(&b), "12345678");
	buf_deinit(&b);
}

static void
consuming_frees_room_under_the_ceiling(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_append_str(&b, "abcdefgh"), 0);
	buf_consume(&b, 5);
	assert_string_equal(buf_cstr(&b), "fgh");
	assert_int_equal(buf_append_str(&b, "ijklm"), 0);
	assert_string_equal(buf_cstr(&b), "fghijklm");
	assert_int_equal(buf_append_byte(&b, 'n'), -1);
	buf_consume(&b, 100);
	assert_int_equal(buf_avail(&b), 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_deinit(&b);
}

static void
printf_formats_like_snprintf(void **state)
{
	static const struct {
		const char	*fmt;
		int		 arg;
		const char	*want;
	} cases[] = {
		{ "%d", 42, "42" },
		{ "* %d EXISTS\r\n", 7, "* 7 EXISTS\r\n" },
		{ "%05d", 3, "00003" },
		{ "", 0, "" },
	};
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		buf_init(&b, 0);
		assert_int_equal(buf_printf(&b, cases[i].fmt, cases[i].arg), 0);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    buf_cstr(&b), cases[i].want);
		buf_deinit(&b);
	}
}

static void
find_reports_offsets_after_consume(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_find(&b, '\n'), -1);
	buf_append_str(&b, "one\r\ntwo\r\n");
	assert_int_equal(buf_find(&b, '\n'), 4);
	buf_consume(&b, 5);
	assert_int_equal(buf_find(&b, '\n'), 4);
	assert_int_equal(buf_find(&b, 'z'), -1);
	buf_deinit(&b);
}

static void
steal_hands_over_a_terminated_copy_and_empties_the_buffer(void **state)
{
	struct buf b;
	size_t len;
	char *s;

	buf_init(&b, 0);
	buf_append(&b, "ab\0cd", 5);
	buf_consume(&b, 1);
	s = buf_steal(&b, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(s, "b\0cd", 5);
	assert_int_equal(buf_avail(&b), 0);
	free(s);
	buf_deinit(&b);
}

static void
binary_data_with_nul_bytes_is_kept(void **state)
{
	struct buf b;
	const char data[] = { 'a', 0, 'b', 0 };

	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, data, sizeof(data)), 0);
	assert_int_equal(buf_avail(&b), 4);
	assert_memory_equal(buf_ptr(&b), data, 4);
	buf_deinit(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appending_within_the_ceiling_keeps_every_byte),
		cmocka_unit_test(
		    appending_one_byte_past_the_ceiling_fails_and_changes_nothing),
		cmocka_unit_test(consuming_frees_room_under_the_ceiling),
		cmocka_unit_test(printf_formats_like_snprintf),
		cmocka_unit_test(find_reports_offsets_after_consume),
		cmocka_unit_test(
		    steal_hands_over_a_terminated_copy_and_empties_the_buffer),
		cmocka_unit_test(binary_data_with_nul_bytes_is_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
