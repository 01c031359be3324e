/* test_imap_write.c - unit tests for imapd/imap_write.c */
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

#include "imap_write.h"

#define U	IMAP_WRITE_UTF8

enum writer {
	W_ASTRING,
	W_STRING,
	W_NSTRING,
	W_LITERAL8,
	W_MAILBOX,
	W_TEXT
};

struct write_case {
	enum writer	 w;
	const char	*in;		/* NULL: NIL for nstring */
	size_t		 len;		/* 0: strlen(in) */
	unsigned int	 flags;
	const char	*want;
	size_t		 want_len;	/* 0: strlen(want) */
};

/* run_writer - one writer call */
static int
run_writer(const struct write_case *c, struct buf *b)
{
	size_t len = c->in == NULL ? 0 : c->len != 0 ? c->len : strlen(c->in);

	switch (c->w) {
	case W_ASTRING:
		return imap_write_astring(b, c->in, len, c->flags);
	case W_STRING:
		return imap_write_string(b, c->in, len, c->flags);
	case W_NSTRING:
		return imap_write_nstring(b, c->in, len, c->flags);
	case W_LITERAL8:
		return imap_write_literal8(b, c->in, len);
	case W_MAILBOX:
		return imap_write_mailbox(b, c->in, c->flags);
	case W_TEXT:
		return imap_write_text(b, c->in, len);
	}
	return -1;
}

/* show - bytes with controls escaped, for messages */
static const char *
show(const char *p, size_t n)
{
	static char out[4][512];
	static int k;
	char *o = out[k++ % 4];
	size_t i, j = 0;

	for (i = 0; i < n && j + 5 < sizeof(out[0]); i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c >= 0x7f)
			j += (size_t)snprintf(o + j, sizeof(out[0]) - j,
			    "\\x%02x", c);
		else
			o[j++] = (char)c;
	}
	o[j] = '\0';
	return o;
}

/* run_cases - each case, and each one byte short of its ceiling */
static void
run_cases(const struct write_case *cases, size_t n)
{
	struct buf b;
	size_t i, want_len, max;
	int failures = 0;

	for (i = 0; i < n; i++) {
		const struct write_case *c = &cases[i];

		want_len = c->want_len != 0 ? c->want_len : strlen(c->want);
		buf_init(&b, 0);
		buf_append_str(&b, "* ");
		if (run_writer(c, &b) != 0 || b.len != want_len + 2 ||
		    memcmp(b.data + 2, c->want, want_len) != 0) {
			print_error("case %zu: got \"%s\", want \"%s\"\n", i,
			    show(b.data + 2, b.len - 2),
			    show(c->want, want_len));
			failures++;
		}
		buf_deinit(&b);
		/* every ceiling short of the output: -1, nothing written */
		for (max = 2; max < want_len + 2; max++) {
			buf_init(&b, max);
			buf_append_str(&b, "* ");
			if (run_writer(c, &b) != -1 || b.len != 2 ||
			    b.data[2] != '\0') {
				print_error("case %zu: ceiling %zu: got "
				    "\"%s\", want -1 and \"* \"\n", i, max,
				    show(b.data, b.len));
				failures++;
				buf_deinit(&b);
				break;
			}
			buf_deinit(&b);
		}
	}
	assert_int_equal(failures, 0);
}

#define RUN(t)	run_cases((t), sizeof(t) / sizeof((t)[0]))

/* strings_choose_atom_quoted_or_literal_from_their_bytes */
static void
strings_choose_atom_quoted_or_literal_from_their_bytes(void **state)
{
	static char long1024[1025], long1025[1026];
	static char want1024[1027], want1025[1026 + 8];
	const struct write_case cases[] = {
		{ W_ASTRING, "INBOX", 0, 0, "INBOX", 0 },
		{ W_ASTRING, "a]b", 0, 0, "\"a]b\"", 0 },
		{ W_ASTRING, "BODY[x", 0, 0, "\"BODY[x\"", 0 },
		{ W_ASTRING, "", 0, 0, "\"\"", 0 },
		{ W_ASTRING, "NIL", 0, 0, "\"NIL\"", 0 },
		{ W_ASTRING, "nil", 0, 0, "\"nil\"", 0 },
		{ W_ASTRING, "NILS", 0, 0, "NILS", 0 },
		{ W_ASTRING, "a b", 0, 0, "\"a b\"", 0 },
		{ W_ASTRING, "a%", 0, 0, "\"a%\"", 0 },
		{ W_ASTRING, "a*", 0, 0, "\"a*\"", 0 },
		{ W_ASTRING, "(a)", 0, 0, "\"(a)\"", 0 },
		{ W_ASTRING, "{5}", 0, 0, "\"{5}\"", 0 },
		{ W_ASTRING, "\\Seen", 0, 0, "\"\\\\Seen\"", 0 },
		{ W_ASTRING, "say \"hi\"", 0, 0, "\"say \\\"hi\\\"\"", 0 },
		{ W_ASTRING, "a\tb", 0, 0, "\"a\tb\"", 0 },
		{ W_ASTRING, "a\x7f", 0, 0, "\"a\x7f\"", 0 },
		{ W_ASTRING, "a\r\nb", 0, 0, "{4}\r\na\r\nb", 0 },
		{ W_ASTRING, "a\rb", 0, 0, "{3}\r\na\rb", 0 },
		{ W_ASTRING, "a\nb", 0, 0, "{3}\r\na\nb", 0 },
		{ W_ASTRING, "caf\xc3\xa9", 0, 0, "{5}\r\ncaf\xc3\xa9", 0 },
		{ W_ASTRING, "caf\xc3\xa9", 0, U, "\"caf\xc3\xa9\"", 0 },
		{ W_ASTRING, "caf\xe9", 0, U, "{4}\r\ncaf\xe9", 0 },
		{ W_ASTRING, "\xc3", 0, U, "{1}\r\n\xc3", 0 },
		{ W_ASTRING, "\xed\xa0\x80", 0, U, "{3}\r\n\xed\xa0\x80", 0 },
		{ W_ASTRING, "\xc0\xaf", 0, U, "{2}\r\n\xc0\xaf", 0 },
		{ W_ASTRING, "\xf0\x9f\x98\x80", 0, U,
		    "\"\xf0\x9f\x98\x80\"", 0 },
		/* NUL cannot travel in a literal: it goes as 0x80 */
		{ W_ASTRING, "a\0b", 3, 0, "{3}\r\na\x80" "b", 0 },
		{ W_STRING, "abc", 0, 0, "\"abc\"", 0 },
		{ W_STRING, "", 0, 0, "\"\"", 0 },
		{ W_STRING, "\\", 0, 0, "\"\\\\\"", 0 },
		{ W_STRING, "\"", 0, 0, "\"\\\"\"", 0 },
		{ W_NSTRING, NULL, 0, 0, "NIL", 0 },
		{ W_NSTRING, "", 0, 0, "\"\"", 0 },
		{ W_NSTRING, "NIL", 0, 0, "\"NIL\"", 0 },
		{ W_NSTRING, "x\r\n", 0, 0, "{3}\r\nx\r\n", 0 },
		{ W_LITERAL8, "a\0b", 3, 0, "~{3}\r\na\0b", 9 },
		{ W_ASTRING, long1024, 0, 0, want1024, 0 },
		{ W_ASTRING, long1025, 0, 0, want1025, 0 },
	};

	memset(long1024, 'x', 1024);
	long1024[10] = ' ';
	memset(long1025, 'x', 1025);
	long1025[10] = ' ';
	snprintf(want1024, sizeof(want1024), "\"%s\"", long1024);
	snprintf(want1025, sizeof(want1025), "{1025}\r\n%s", long1025);
	RUN(cases);
}

/* mailbox_names_are_modified_utf7_unless_the_session_is_utf8 */
static void
mailbox_names_are_modified_utf7_unless_the_session_is_utf8(void **state)
{
	static const struct write_case cases[] = {
		{ W_MAILBOX, "INBOX", 0, 0, "INBOX", 0 },
		{ W_MAILBOX, "Sent Items", 0, 0, "\"Sent Items\"", 0 },
		{ W_MAILBOX, "Entw\xc3\xbcrfe", 0, 0, "Entw&APw-rfe", 0 },
		{ W_MAILBOX, "Entw\xc3\xbcrfe", 0, U,
		    "\"Entw\xc3\xbcrfe\"", 0 },
		{ W_MAILBOX, "Tom & Jerry", 0, 0, "\"Tom &- Jerry\"", 0 },
		{ W_MAILBOX, "Tom & Jerry", 0, U, "\"Tom & Jerry\"", 0 },
		/* RFC 3501 5.1.3 */
		{ W_MAILBOX, "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
		    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 0, 0,
		    "~peter/mail/&U,BTFw-/&ZeVnLIqe-", 0 },
		{ W_MAILBOX, "[Gmail]/Sent", 0, 0, "\"[Gmail]/Sent\"", 0 },
	};

	RUN(cases);
}

/* a_mailbox_name_that_is_not_utf8_is_refused */
static void
a_mailbox_name_that_is_not_utf8_is_refused(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(imap_write_mailbox(&b, "bad\xff", 0), -1);
	assert_int_equal(b.len, 0);
	buf_deinit(&b);
}

/* response_text_never_carries_line_ends_or_bad_bytes */
static void
response_text_never_carries_line_ends_or_bad_bytes(void **state)
{
	static const struct write_case cases[] = {
		{ W_TEXT, "Mailbox a\r\nb", 0, 0, "Mailbox a  b", 0 },
		{ W_TEXT, "x\x01y\x7f", 0, 0, "x y ", 0 },
		{ W_TEXT, "caf\xc3\xa9", 0, 0, "caf\xc3\xa9", 0 },
		{ W_TEXT, "caf\xe9!", 0, 0, "caf?!", 0 },
		{ W_TEXT, "a\0b", 3, 0, "a b", 0 },
	};

	RUN(cases);
}

/* flag_lists_hold_system_flags_in_order_then_valid_keywords */
static void
flag_lists_hold_system_flags_in_order_then_valid_keywords(void **state)
{
	static const char *const kw[] = { "$Junk", "bad kw", "\\Seen",
	    "NonJunk", "a]b", "" };
	struct buf b;
	size_t max;

	buf_init(&b, 0);
	assert_int_equal(imap_write_flags(&b, 0, NULL, 0), 0);
	assert_string_equal(buf_cstr(&b), "()");
	buf_reset(&b);
	assert_int_equal(imap_write_flags(&b, IMAP_FLAG_ALL, kw, 6), 0);
	assert_string_equal(buf_cstr(&b), "(\\Answered \\Flagged \\Deleted "
	    "\\Seen \\Draft \\Recent $Junk NonJunk)");
	buf_reset(&b);
	assert_int_equal(imap_write_flags(&b, IMAP_FLAG_SEEN |
	    IMAP_FLAG_ANSWERED, NULL, 0), 0);
	assert_string_equal(buf_cstr(&b), "(\\Answered \\Seen)");
	buf_reset(&b);
	assert_int_equal(imap_write_flags(&b, 0, kw, 1), 0);
	assert_string_equal(buf_cstr(&b), "($Junk)");
	buf_deinit(&b);
	for (max = 1; max < strlen("(\\Seen $Junk)"); max++) {
		buf_init(&b, max);
		assert_int_equal(imap_write_flags(&b, IMAP_FLAG_SEEN, kw, 1),
		    -1);
		assert_int_equal(b.len, 0);
		buf_deinit(&b);
	}

	assert_string_equal(imap_flag_name(IMAP_FLAG_DRAFT), "\\Draft");
	assert_null(imap_flag_name(IMAP_FLAG_DRAFT | IMAP_FLAG_SEEN));
	assert_int_equal(imap_flag_from_name("\\sEEN"), IMAP_FLAG_SEEN);
	assert_int_equal(imap_flag_from_name("\\Recent"), IMAP_FLAG_RECENT);
	assert_int_equal(imap_flag_from_name("Seen"), 0);
	assert_int_equal(imap_flag_from_name("\\*"), 0);
}

struct dt_case {
	int64_t		 t;
	int		 tz;
	const char	*want;
};

/* date_times_are_written_in_the_given_zone_with_a_padded_day */
static void
date_times_are_written_in_the_given_zone_with_a_padded_day(void **state)
{
	static const struct dt_case cases[] = {
		/* RFC 3501 6.3.11 */
		{ 837596665, -7 * 60, "\"17-Jul-1996 02:44:25 -0700\"" },
		{ 837596665, 0, "\"17-Jul-1996 09:44:25 +0000\"" },
		{ 946684800, 0, "\" 1-Jan-2000 00:00:00 +0000\"" },
		{ 946684800, -30, "\"31-Dec-1999 23:30:00 -0030\"" },
		{ 946684800, 5 * 60 + 45, "\" 1-Jan-2000 05:45:00 +0545\"" },
		{ 0, 0, "\" 1-Jan-1970 00:00:00 +0000\"" },
		{ 951782400, 0, "\"29-Feb-2000 00:00:00 +0000\"" },
		{ -1, 0, "\"31-Dec-1969 23:59:59 +0000\"" },
		/* a zone out of range is written as UTC */
		{ 0, 24 * 60, "\" 1-Jan-1970 00:00:00 +0000\"" },
	};
	struct buf b;
	size_t i;
	int failures = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, 0);
		assert_int_equal(imap_write_datetime(&b, cases[i].t,
		    cases[i].tz), 0);
		if (strcmp(buf_cstr(&b), cases[i].want) != 0) {
			print_error("%" PRId64 " %d: got %s, want %s\n",
			    cases[i].t, cases[i].tz, buf_cstr(&b),
			    cases[i].want);
			failures++;
		}
		buf_deinit(&b);
	}
	assert_int_equal(failures, 0);
}

/* quotable_and_atom_predicates_follow_the_grammar */
static void
quotable_and_atom_predicates_follow_the_grammar(void **state)
{
	unsigned int c;
	char s[2];

	/* every byte alone: atom iff ASTRING-CHAR */
	for (c = 1; c < 256; c++) {
		s[0] = (char)c;
		bool atom = c > 0x20 && c < 0x7f &&
		    strchr("(){%*\"\\[]", (int)c) == NULL;

		if (imap_write_is_atom(s, 1) != atom)
			fail_msg("byte 0x%02x: atom %d, want %d", c,
			    imap_write_is_atom(s, 1), atom);
		if (imap_write_is_quotable(s, 1, 0) !=
		    (c < 0x80 && c != '\r' && c != '\n'))
			fail_msg("byte 0x%02x: quotable wrong", c);
	}
	assert_false(imap_write_is_atom("", 0));
	assert_false(imap_write_is_quotable("\0", 1, U));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    strings_choose_atom_quoted_or_literal_from_their_bytes),
		cmocka_unit_test(
		    mailbox_names_are_modified_utf7_unless_the_session_is_utf8),
		cmocka_unit_test(a_mailbox_name_that_is_not_utf8_is_refused),
		cmocka_unit_test(
		    response_text_never_carries_line_ends_or_bad_bytes),
		cmocka_unit_test(
		    flag_lists_hold_system_flags_in_order_then_valid_keywords),
		cmocka_unit_test(
		    date_times_are_written_in_the_given_zone_with_a_padded_day),
		cmocka_unit_test(
		    quotable_and_atom_predicates_follow_the_grammar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
