/* test_smtp_reply.c - unit tests for smtpd/smtp_reply.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

#include "smtp_reply.h"

/* single_line_replies_carry_code_enhanced_code_and_text */
static void
single_line_replies_carry_code_enhanced_code_and_text(void **state)
{
	static const struct {
		int		 code;
		const char	*enh;
		const char	*text;
		const char	*want;
	} cases[] = {
		{ 250, "2.1.0", "Ok", "250 2.1.0 Ok\r\n" },
		{ 250, "2.1.5", "Recipient ok", "250 2.1.5 Recipient ok\r\n" },
		{ 354, NULL, "End data with <CR><LF>.<CR><LF>",
		    "354 End data with <CR><LF>.<CR><LF>\r\n" },
		{ 334, NULL, "", "334 \r\n" },
		{ 451, "4.4.3", "Directory unavailable, try later",
		    "451 4.4.3 Directory unavailable, try later\r\n" },
		{ 550, "5.1.1", "No such user", "550 5.1.1 No such user\r\n" },
		{ 552, "5.3.4", "Message too big",
		    "552 5.3.4 Message too big\r\n" },
		{ 555, "5.5.4", "Unknown parameter",
		    "555 5.5.4 Unknown parameter\r\n" },
		{ 221, "2.0.0", "", "221 2.0.0 \r\n" },
	};
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, 0);
		assert_int_equal(smtp_reply(&b, cases[i].code, cases[i].enh,
		    "%s", cases[i].text), 0);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0)
			fail_msg("got \"%s\", want \"%s\"", buf_cstr(&b),
			    cases[i].want);
		buf_deinit(&b);
	}
}

/* multi_line_replies_use_dashes_until_the_last_line */
static void
multi_line_replies_use_dashes_until_the_last_line(void **state)
{
	struct smtp_reply r;
	struct buf b;

	buf_init(&b, 0);
	smtp_reply_begin(&r, 214, "2.0.0");
	smtp_reply_add(&r, "Commands: %s", "EHLO MAIL RCPT");
	smtp_reply_add(&r, "DATA BDAT RSET");
	smtp_reply_add(&r, "See RFC %d", 5321);
	assert_int_equal(smtp_reply_end(&r, &b), 0);
	assert_string_equal(buf_cstr(&b),
	    "214-2.0.0 Commands: EHLO MAIL RCPT\r\n"
	    "214-2.0.0 DATA BDAT RSET\r\n"
	    "214 2.0.0 See RFC 5321\r\n");

	/* one line is an ordinary reply */
	buf_reset(&b);
	smtp_reply_begin(&r, 250, "2.0.0");
	smtp_reply_add(&r, "Ok");
	assert_int_equal(smtp_reply_end(&r, &b), 0);
	assert_string_equal(buf_cstr(&b), "250 2.0.0 Ok\r\n");

	/* no line at all is a bug the caller hears about */
	buf_reset(&b);
	smtp_reply_begin(&r, 250, "2.0.0");
	assert_int_equal(smtp_reply_end(&r, &b), -1);
	assert_int_equal(buf_avail(&b), 0);
	buf_deinit(&b);
}

/* ehlo_lists_keywords_without_enhanced_codes_rfc_2034 */
static void
ehlo_lists_keywords_without_enhanced_codes_rfc_2034(void **state)
{
	static const char *const kw[] = {
		"PIPELINING", "SIZE 10485760", "8BITMIME", "SMTPUTF8",
		"ENHANCEDSTATUSCODES", "STARTTLS", "DSN", "CHUNKING",
	};
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(smtp_reply_ehlo(&b, "mx.example.org",
	    "client.example", kw, sizeof(kw) / sizeof(kw[0])), 0);
	assert_string_equal(buf_cstr(&b),
	    "250-mx.example.org Hello client.example\r\n"
	    "250-PIPELINING\r\n"
	    "250-SIZE 10485760\r\n"
	    "250-8BITMIME\r\n"
	    "250-SMTPUTF8\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250-STARTTLS\r\n"
	    "250-DSN\r\n"
	    "250 CHUNKING\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_ehlo(&b, "mx", "c", NULL, 0), 0);
	assert_string_equal(buf_cstr(&b), "250 mx Hello c\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_helo(&b, "mx", "c"), 0);
	assert_string_equal(buf_cstr(&b), "250 mx Hello c\r\n");
	buf_deinit(&b);
}

/* greeting_and_final_replies_carry_the_session_id */
static void
greeting_and_final_replies_carry_the_session_id(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(smtp_reply_greeting(&b, "mx.example.org",
	    "8f3a2c01", false), 0);
	assert_string_equal(buf_cstr(&b),
	    "220 mx.example.org ESMTP ready, session 8f3a2c01\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_greeting(&b, "mx", "01", true), 0);
	assert_string_equal(buf_cstr(&b), "220 mx LMTP ready, session 01\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_queued(&b, "8f3a2c01"), 0);
	assert_string_equal(buf_cstr(&b),
	    "250 2.0.0 Ok: queued as 8f3a2c01\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply_bye(&b, "mx", "8f3a2c01"), 0);
	assert_string_equal(buf_cstr(&b),
	    "221 2.0.0 mx closing connection, session 8f3a2c01\r\n");
	buf_deinit(&b);
}

/* control_characters_in_text_cannot_inject_lines */
static void
control_characters_in_text_cannot_inject_lines(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(smtp_reply_helo(&b, "mx",
	    "evil\r\n250 2.0.0 forged\x7f\x01"), 0);
	assert_string_equal(buf_cstr(&b),
	    "250 mx Hello evil??250 2.0.0 forged??\r\n");
	buf_reset(&b);
	assert_int_equal(smtp_reply(&b, 550, "5.1.1", "<%s> unknown",
	    "a\nb"), 0);
	assert_string_equal(buf_cstr(&b), "550 5.1.1 <a?b> unknown\r\n");
	buf_deinit(&b);
}

/* a_line_of_512_octets_is_kept_and_longer_text_is_cut */
static void
a_line_of_512_octets_is_kept_and_longer_text_is_cut(void **state)
{
	char text[1024];
	struct buf b;
	size_t fit = SMTP_REPLY_LINE_MAX - 2 - strlen("250 2.0.0 ");

	buf_init(&b, 0);
	memset(text, 'x', fit);
	text[fit] = '\0';
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "%s", text), 0);
	assert_int_equal(buf_avail(&b), SMTP_REPLY_LINE_MAX);
	assert_string_equal(buf_cstr(&b) + SMTP_REPLY_LINE_MAX - 3, "x\r\n");

	buf_reset(&b);
	memset(text, 'y', fit + 1);
	text[fit + 1] = '\0';
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "%s", text), 0);
	assert_int_equal(buf_avail(&b), SMTP_REPLY_LINE_MAX);
	assert_string_equal(buf_cstr(&b) + SMTP_REPLY_LINE_MAX - 3, "y\r\n");

	/* a cut never splits a UTF-8 character: "é" is 2 octets */
	buf_reset(&b);
	memset(text, 'z', fit - 1);
	memcpy(text + fit - 1, "\xc3\xa9", 3);
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "%s", text), 0);
	assert_int_equal(buf_avail(&b), SMTP_REPLY_LINE_MAX - 1);
	assert_string_equal(buf_cstr(&b) + SMTP_REPLY_LINE_MAX - 4, "z\r\n");

	/* every line of a multi-line reply obeys the same limit */
	{
		struct smtp_reply r;
		const char *p, *nl;

		buf_reset(&b);
		smtp_reply_begin(&r, 250, "2.0.0");
		smtp_reply_add(&r, "%s", text);
		smtp_reply_add(&r, "%s%s", text, text);
		assert_int_equal(smtp_reply_end(&r, &b), 0);
		for (p = buf_cstr(&b); *p != '\0'; p = nl + 1) {
			nl = strchr(p, '\n');
			assert_non_null(nl);
			assert_true((size_t)(nl + 1 - p) <=
			    SMTP_REPLY_LINE_MAX);
		}
	}
	buf_deinit(&b);
}

/* a_reply_past_the_buffer_ceiling_is_not_written_at_all */
static void
a_reply_past_the_buffer_ceiling_is_not_written_at_all(void **state)
{
	static const char *const kw[] = { "PIPELINING", "8BITMIME" };
	struct buf b;

	buf_init(&b, 20);
	assert_int_equal(buf_append_str(&b, "x"), 0);
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "%s",
	    "a text that does not fit"), -1);
	assert_string_equal(buf_cstr(&b), "x");
	assert_int_equal(smtp_reply_ehlo(&b, "mx", "c", kw, 2), -1);
	assert_string_equal(buf_cstr(&b), "x");
	assert_int_equal(smtp_reply(&b, 250, "2.0.0", "Ok"), 0);
	assert_string_equal(buf_cstr(&b), "x250 2.0.0 Ok\r\n");
	buf_deinit(&b);
}

/* enhanced_codes_must_match_the_reply_class_rfc_3463 */
static void
enhanced_codes_must_match_the_reply_class_rfc_3463(void **state)
{
	static const struct {
		int		 code;
		const char	*enh;
		bool		 want;
	} cases[] = {
		{ 250, "2.0.0", true },
		{ 250, "2.123.456", true },
		{ 451, "4.4.3", true },
		{ 550, "5.1.1", true },
		{ 250, "5.0.0", false },
		{ 550, "2.0.0", false },
		{ 354, "3.0.0", false },
		{ 250, "2.0", false },
		{ 250, "2.0.0.0", false },
		{ 250, "2.1234.0", false },
		{ 250, "2..0", false },
		{ 250, "2.0.0 ", false },
		{ 250, "", false },
		{ 250, NULL, false },
		{ 199, "1.0.0", false },
		{ 600, "6.0.0", false },
	};
	size_t i;
	bool got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = smtp_reply_enh_valid(cases[i].code, cases[i].enh);
		if (got != cases[i].want)
			fail_msg("%d %s: got %d, want %d", cases[i].code,
			    cases[i].enh ? cases[i].enh : "(null)", got,
			    cases[i].want);
	}
}

static void
enhanced_codes_are_found_at_the_start_of_a_reply_text(void **state)
{
	static const struct {
		const char	*in;
		size_t		 want;
	} cases[] = {
		{ "5.1.1 no such user", 5 },
		{ "4.7.0", 5 },
		{ "2.123.456 ok", 9 },
		{ "5.1234.1 x", 0 },	/* four digits */
		{ "3.1.1 x", 0 },	/* no such class */
		{ "5..1 x", 0 },
		{ "5.1. x", 0 },
		{ "5.1 x", 0 },
		{ "5.1.1x", 0 },
		{ "550 5.1.1", 0 },
		{ "", 0 },
	};
	size_t i, got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		got = smtp_reply_enh_len(cases[i].in, strlen(cases[i].in));
		if (got != cases[i].want)
			fail_msg("%s: got %zu, want %zu", cases[i].in, got,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    single_line_replies_carry_code_enhanced_code_and_text),
		cmocka_unit_test(
		    multi_line_replies_use_dashes_until_the_last_line),
		cmocka_unit_test(
		    ehlo_lists_keywords_without_enhanced_codes_rfc_2034),
		cmocka_unit_test(
		    greeting_and_final_replies_carry_the_session_id),
		cmocka_unit_test(
		    control_characters_in_text_cannot_inject_lines),
		cmocka_unit_test(
		    a_line_of_512_octets_is_kept_and_longer_text_is_cut),
		cmocka_unit_test(
		    a_reply_past_the_buffer_ceiling_is_not_written_at_all),
		cmocka_unit_test(
		    enhanced_codes_must_match_the_reply_class_rfc_3463),
		cmocka_unit_test(
		    enhanced_codes_are_found_at_the_start_of_a_reply_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
