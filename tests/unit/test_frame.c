/* test_frame.c - unit tests for common/frame.c */
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
#include "frame.h"

struct frame_case {
	const char	*name;
	size_t		 max_line;
	uint64_t	 max_literal;
	bool		 literals;
	const char	*input;
	const char	*want;		/* transcript, see transcript_event() */
};

/*
 * The transcript has one line per event; literal pieces are merged so that
 * it does not depend on where the input was split:
 *   L:<line>[/lf][/cr][/lit=N[+][!]]   FRAME_LINE
 *   TOO_LONG:<head>                     FRAME_LINE_TOO_LONG
 *   ACCEPT / REFUSE                     our answer to FRAME_WAIT
 *   D:<bytes>                           FRAME_LITERAL_DATA, merged
 *   END[/discarded]                     FRAME_LITERAL_END
 */
static const struct frame_case frame_cases[] = {
	{ "plain CRLF line", 16, 8, false, "a1 NOOP\r\n", "L:a1 NOOP\n" },
	{ "two lines", 16, 8, false, "a\r\nbc\r\n", "L:a\nL:bc\n" },
	{ "empty line", 16, 8, false, "\r\n", "L:\n" },
	{ "bare LF", 16, 8, false, "abc\n", "L:abc/lf\n" },
	{ "bare CR inside", 16, 8, false, "a\rb\r\n", "L:a\rb/cr\n" },
	{ "CR CR LF", 16, 8, false, "ab\r\r\n", "L:ab\r/cr\n" },
	{ "line at the ceiling", 8, 8, false, "123456\r\nok\r\n",
	  "L:123456\nL:ok\n" },
	{ "bare-LF line at the ceiling", 8, 8, false, "1234567\nok\r\n",
	  "L:1234567/lf\nL:ok\n" },
	{ "one byte past the ceiling", 8, 8, false, "1234567\r\nok\r\n",
	  "TOO_LONG:1234567\r\nL:ok\n" },
	{ "far past the ceiling, reported once with max_line bytes", 8, 8,
	  false, "0123456789abcdefghijklmnopqrstuvwxyz\r\nok\r\n",
	  "TOO_LONG:01234567\nL:ok\n" },
	{ "two long lines", 4, 8, false, "abcdef\r\nghijkl\nxy\r\n",
	  "TOO_LONG:abcd\nTOO_LONG:ghij\nL:xy\n" },
	{ "a long line keeps its first 64 bytes, the tag among them", 100, 8,
	  true, "a1 LOGIN 0123456789012345678901234567890123456789"
	  "012345678901234567890123456789012345678901234567890123456789"
	  " {5}\r\nb2 NOOP\r\n",
	  "TOO_LONG:a1 LOGIN 0123456789012345678901234567890123456789"
	  "012345678901234\nL:b2 NOOP\n" },
	{ "the line after a literal keeps its own first bytes", 16, 8, true,
	  "A X {1+}\r\nz 0123456789abcdef\r\nB\r\n",
	  "L:A X {1+}/lit=1+\nD:z\nEND\nTOO_LONG: 0123456789abcde\nL:B\n" },
	{ "sync literal", 64, 8, true, "A APPEND x {5}\r\nhello\r\n",
	  "L:A APPEND x {5}/lit=5\nACCEPT\nD:hello\nEND\nL:\n" },
	{ "literal with CRLF and braces inside", 64, 8, true,
	  "X {4}\r\n\r\n{}\r\n",
	  "L:X {4}/lit=4\nACCEPT\nD:\r\n{}\nEND\nL:\n" },
	{ "literal at the limit", 64, 8, true, "A {8}\r\n12345678 Z\r\n",
	  "L:A {8}/lit=8\nACCEPT\nD:12345678\nEND\nL: Z\n" },
	{ "sync literal one byte over the limit", 64, 8, true,
	  "A APPEND x {9}\r\nB NOOP\r\n",
	  "L:A APPEND x {9}/lit=9!\nREFUSE\nL:B NOOP\n" },
	{ "literal plus", 64, 8, true, "A APPEND x {3+}\r\nabc FLAGS\r\n",
	  "L:A APPEND x {3+}/lit=3+\nD:abc\nEND\nL: FLAGS\n" },
	{ "literal plus over the limit is discarded", 64, 8, true,
	  "A APPEND x {9+}\r\n123456789\r\nB NOOP\r\n",
	  "L:A APPEND x {9+}/lit=9+!\nEND/discarded\nL:\nL:B NOOP\n" },
	{ "empty literal", 64, 8, true, "A {0}\r\n\r\n",
	  "L:A {0}/lit=0\nACCEPT\nEND\nL:\n" },
	{ "two literals in one command", 64, 8, true,
	  "A X {1}\r\na {2+}\r\nbc\r\n",
	  "L:A X {1}/lit=1\nACCEPT\nD:a\nEND\nL: {2+}/lit=2+\nD:bc\n"
	  "END\nL:\n" },
	{ "literal size overflow", 64, 8, true,
	  "A {99999999999999999999999}\r\nB\r\n",
	  "L:A {99999999999999999999999}/lit=18446744073709551615!\n"
	  "REFUSE\nL:B\n" },
	{ "literals off", 64, 8, false, "A {5}\r\n", "L:A {5}\n" },
	{ "not literals", 64, 8, true, "A {5x}\r\nA {}\r\nA 5}\r\n{+}\r\n",
	  "L:A {5x}\nL:A {}\nL:A 5}\nL:{+}\n" },
	{ "literal with bare LF", 64, 8, true, "A {2}\nab\r\n",
	  "L:A {2}/lf/lit=2\nACCEPT\nD:ab\nEND\nL:\n" },
	/* raw reads (BDAT) and max_line changes, see transcript_event() */
	{ "raw read takes line ends, dots and braces as data", 16, 8, true,
	  "RAW 9\r\n.\r\n{1}\r\n\nNOOP\r\n",
	  "L:RAW 9\nD:.\r\n{1}\r\n\n\nEND\nL:NOOP\n" },
	{ "raw read of zero bytes ends at once", 16, 8, false,
	  "RAW 0\r\nNOOP\r\n", "L:RAW 0\nEND\nL:NOOP\n" },
	{ "raw read passes max_line and max_literal", 8, 4, false,
	  "RAW 20\r\n0123456789abcdefghijok\r\n",
	  "L:RAW 20\nD:0123456789abcdefghij\nEND\nL:ok\n" },
	{ "two raw reads back to back", 16, 8, false,
	  "RAW 2\r\nabRAW 1\r\nc\r\n",
	  "L:RAW 2\nD:ab\nEND\nL:RAW 1\nD:c\nEND\nL:\n" },
	{ "a raised max_line applies from the next line", 16, 8, false,
	  "MAXLINE 32\r\n0123456789abcdefghij\r\n",
	  "L:MAXLINE 32\nL:0123456789abcdefghij\n" },
	{ "a lowered max_line applies from the next line", 16, 8, false,
	  "MAXLINE 6\r\nabcd\r\nabcde\r\nok\r\n",
	  "L:MAXLINE 6\nL:abcd\nTOO_LONG:abcde\r\nL:ok\n" },
};

struct transcript {
	struct buf	 b;
	bool		 in_data;
};

/* transcript_event - append one event, deciding on sync literals */
static void
transcript_event(struct transcript *t, struct frame *f, enum frame_event ev,
    const struct frame_item *it)
{
	if (ev != FRAME_LITERAL_DATA && t->in_data) {
		buf_append_str(&t->b, "\n");
		t->in_data = false;
	}
	switch (ev) {
	case FRAME_LINE:
		buf_append_str(&t->b, "L:");
		buf_append(&t->b, it->data, it->len);
		assert_int_equal(it->data[it->len], '\0');
		if (!it->crlf)
			buf_append_str(&t->b, "/lf");
		if (it->bare_cr)
			buf_append_str(&t->b, "/cr");
		if (it->literal)
			buf_printf(&t->b, "/lit=%" PRIu64 "%s%s",
			    it->literal_size, it->literal_plus ? "+" : "",
			    it->literal_too_big ? "!" : "");
		buf_append_str(&t->b, "\n");
		/* the commands of the raw read and max_line cases */
		if (strncmp(it->data, "RAW ", 4) == 0)
			frame_read_raw(f, strtoull(it->data + 4, NULL, 10));
		else if (strncmp(it->data, "MAXLINE ", 8) == 0)
			frame_set_max_line(f, strtoul(it->data + 8, NULL, 10));
		break;
	case FRAME_LINE_TOO_LONG:
		assert_true(it->len <= FRAME_HEAD_MAX);
		assert_int_equal(it->data[it->len], '\0');
		buf_append_str(&t->b, "TOO_LONG:");
		buf_append(&t->b, it->data, it->len);
		buf_append_str(&t->b, "\n");
		break;
	case FRAME_LITERAL_DATA:
		if (!t->in_data)
			buf_append_str(&t->b, "D:");
		buf_append(&t->b, it->data, it->len);
		t->in_data = true;
		break;
	case FRAME_LITERAL_END:
		buf_append_str(&t->b, it->discarded ? "END/discarded\n" :
		    "END\n");
		break;
	case FRAME_WAIT:
		if (f->lit_too_big) {
			buf_append_str(&t->b, "REFUSE\n");
			frame_literal_refuse(f);
		} else {
			buf_append_str(&t->b, "ACCEPT\n");
			frame_literal_accept(f);
		}
		break;
	case FRAME_MORE:
		break;
	}
}

/* feed_piece - frame one piece completely, recording the events */
static void
feed_piece(struct transcript *t, struct frame *f, const char *p, size_t n)
{
	enum frame_event ev;
	struct frame_item it;
	size_t used, off = 0;
	int guard = 0;

	for (;;) {
		ev = frame_feed(f, p + off, n - off, &used, &it);
		assert_true(used <= n - off);
		off += used;
		if (ev == FRAME_MORE) {
			assert_int_equal(off, n);
			return;
		}
		if (ev == FRAME_WAIT)
			assert_int_equal(used, 0);
		transcript_event(t, f, ev, &it);
		assert_true(++guard < 10000);
	}
}

/* run_split - frame input cut at the given points; returns the transcript */
static char *
run_split(const struct frame_case *fc, const size_t *cuts, size_t ncuts)
{
	struct transcript t;
	struct frame f;
	size_t i, start = 0, len = strlen(fc->input);

	buf_init(&t.b, 0);
	t.in_data = false;
	frame_init(&f, fc->max_line, fc->max_literal, fc->literals);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		feed_piece(&t, &f, fc->input + start, end - start);
		start = end;
	}
	if (t.in_data)
		buf_append_str(&t.b, "\n");
	frame_deinit(&f);
	return buf_steal(&t.b, NULL);
}

/* check - compare a transcript, reporting got and want */
static void
check(const struct frame_case *fc, const char *how, char *got)
{
	if (strcmp(got, fc->want) != 0) {
		print_error("%s (%s):\ngot:\n%s\nwant:\n%s\n", fc->name, how,
		    got, fc->want);
		free(got);
		fail();
	}
	free(got);
}

static void
framing_whole_input_gives_the_expected_events(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++)
		check(&frame_cases[i], "whole", run_split(&frame_cases[i],
		    NULL, 0));
}

static void
framing_split_at_every_point_gives_the_same_events(void **state)
{
	char how[32];
	size_t i, cut, len;

	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		len = strlen(frame_cases[i].input);
		for (cut = 0; cut <= len; cut++) {
			snprintf(how, sizeof(how), "split at %zu", cut);
			check(&frame_cases[i], how,
			    run_split(&frame_cases[i], &cut, 1));
		}
	}
}

static void
framing_byte_at_a_time_gives_the_same_events(void **state)
{
	size_t i, j, len, *cuts;

	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		len = strlen(frame_cases[i].input);
		cuts = calloc(len + 1, sizeof(*cuts));
		assert_non_null(cuts);
		for (j = 0; j < len; j++)
			cuts[j] = j;
		check(&frame_cases[i], "byte at a time",
		    run_split(&frame_cases[i], cuts, len));
		free(cuts);
	}
}

static void
a_literal_across_packets_is_handed_out_from_the_callers_bytes(void **state)
{
	static const char *pkts[] = { "A APPEND x {11}\r", "\nhel", "lo wo",
	    "rld\r\nB NOOP\r\n" };
	struct frame f;
	struct frame_item it;
	enum frame_event ev;
	struct buf lit;
	size_t used;

	frame_init(&f, 64, 100, true);
	buf_init(&lit, 0);
	assert_int_equal(frame_feed(&f, pkts[0], strlen(pkts[0]), &used, &it),
	    FRAME_MORE);
	ev = frame_feed(&f, pkts[1], strlen(pkts[1]), &used, &it);
	assert_int_equal(ev, FRAME_LINE);
	assert_int_equal(used, 1);
	assert_true(it.literal && !it.literal_plus);
	assert_int_equal(it.literal_size, 11);
	assert_int_equal(frame_feed(&f, pkts[1] + 1, 3, &used, &it),
	    FRAME_WAIT);
	assert_int_equal(used, 0);
	frame_literal_accept(&f);
	ev = frame_feed(&f, pkts[1] + 1, 3, &used, &it);
	assert_int_equal(ev, FRAME_LITERAL_DATA);
	assert_ptr_equal(it.data, pkts[1] + 1);
	buf_append(&lit, it.data, it.len);
	ev = frame_feed(&f, pkts[2], strlen(pkts[2]), &used, &it);
	assert_int_equal(ev, FRAME_LITERAL_DATA);
	buf_append(&lit, it.data, it.len);
	ev = frame_feed(&f, pkts[3], strlen(pkts[3]), &used, &it);
	assert_int_equal(ev, FRAME_LITERAL_DATA);
	assert_int_equal(used, 3);
	buf_append(&lit, it.data, it.len);
	assert_string_equal(buf_cstr(&lit), "hello world");
	assert_int_equal(frame_feed(&f, pkts[3] + 3, strlen(pkts[3]) - 3,
	    &used, &it), FRAME_LITERAL_END);
	assert_int_equal(used, 0);
	buf_deinit(&lit);
	frame_deinit(&f);
}

static void
a_sync_literal_over_the_limit_waits_unread_for_a_refusal(
    void **state)
{
	struct frame f;
	struct frame_item it;
	size_t used;
	const char *in = "A {101}\r\n";

	frame_init(&f, 64, 100, true);
	assert_int_equal(frame_feed(&f, in, strlen(in), &used, &it),
	    FRAME_LINE);
	assert_true(it.literal_too_big);
	assert_true(frame_waiting(&f));
	/* nothing of the literal has been read: the caller refuses it */
	frame_literal_refuse(&f);
	assert_false(frame_waiting(&f));
	assert_true(frame_idle(&f));
	frame_deinit(&f);
}

static void
reset_forgets_a_partial_line_and_shrink_frees_an_idle_buffer(void **state)
{
	struct frame f;
	struct frame_item it;
	size_t used;

	frame_init(&f, 64, 100, true);
	assert_int_equal(frame_feed(&f, "STARTTLS\r\nINJ", 13, &used, &it),
	    FRAME_LINE);
	assert_int_equal(frame_feed(&f, "INJ", 3, &used, &it), FRAME_MORE);
	assert_false(frame_idle(&f));
	frame_shrink(&f);
	assert_non_null(f.line.data);	/* partial line kept */
	frame_reset(&f);
	assert_true(frame_idle(&f));
	assert_int_equal(frame_feed(&f, "OK\r\n", 4, &used, &it), FRAME_LINE);
	assert_string_equal(it.data, "OK");
	frame_shrink(&f);
	assert_null(f.line.data);
	assert_int_equal(frame_feed(&f, "again\n", 6, &used, &it), FRAME_LINE);
	assert_string_equal(it.data, "again");
	frame_deinit(&f);
}

#ifdef FUZZ
/* LLVMFuzzerTestOneInput - libFuzzer entry: first byte picks the piece
 * size; checks that no line passes the ceiling and nothing is lost */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame f;
	struct frame_item it;
	enum frame_event ev;
	size_t piece, off = 0, n, used;

	if (size == 0)
		return 0;
	piece = (size_t)data[0] % 7 + 1;
	frame_init(&f, 32, 16, true);
	for (off = 1; off < size; off += n) {
		n = size - off < piece ? size - off : piece;
		size_t pos = 0;
		for (;;) {
			ev = frame_feed(&f, data + off + pos, n - pos, &used,
			    &it);
			pos += used;
			if (ev == FRAME_MORE)
				break;
			if (ev == FRAME_WAIT) {
				if (f.lit_too_big)
					frame_literal_refuse(&f);
				else
					frame_literal_accept(&f);
			}
			if (ev == FRAME_LINE && it.len + 1 > 32)
				abort();
		}
		if (pos != n)
			abort();
	}
	frame_deinit(&f);
	return 0;
}
#else
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(framing_whole_input_gives_the_expected_events),
		cmocka_unit_test(
		    framing_split_at_every_point_gives_the_same_events),
		cmocka_unit_test(framing_byte_at_a_time_gives_the_same_events),
		cmocka_unit_test(
		    a_literal_across_packets_is_handed_out_from_the_callers_bytes),
		cmocka_unit_test(
		    a_sync_literal_over_the_limit_waits_unread_for_a_refusal),
		cmocka_unit_test(
		    reset_forgets_a_partial_line_and_shrink_frees_an_idle_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
