/* test_smtp_data.c - unit tests for smtpd/smtp_data.c */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "frame.h"
#include "log.h"

#include "smtp_data.h"

/*
 * write() is wrapped at link time (-Wl,--wrap=write, see Makefile.am) so
 * that a test can make the spill file's writes short, interrupted, or
 * fail after a number of bytes, on descriptors above stderr only.
 */
ssize_t	 __real_write(int fd, const void *p, size_t n);
ssize_t	 __wrap_write(int fd, const void *p, size_t n);

static size_t wr_max_piece;	/* 0: whole writes */
static bool wr_eintr_once;	/* fail the next write with EINTR */
static bool wr_fail;		/* fail once wr_budget bytes are written */
static size_t wr_budget;

#ifndef FUZZ
/* __wrap_write - the real write, cut, interrupted or failed on request */
ssize_t
__wrap_write(int fd, const void *p, size_t n)
{
	if (fd <= 2)
		return __real_write(fd, p, n);
	if (wr_eintr_once) {
		wr_eintr_once = false;
		errno = EINTR;
		return -1;
	}
	if (wr_fail) {
		if (wr_budget == 0) {
			errno = ENOSPC;
			return -1;
		}
		if (n > wr_budget)
			n = wr_budget;
		wr_budget -= n;
	}
	if (wr_max_piece > 0 && n > wr_max_piece)
		n = wr_max_piece;
	return __real_write(fd, p, n);
}
#endif

static char spool[64];		/* a private spool_dir per run */

/* spool_setup - make the spool directory */
static int
spool_setup(void **state)
{
	snprintf(spool, sizeof(spool), "/tmp/test_smtp_data.XXXXXX");
	return mkdtemp(spool) == NULL ? -1 : 0;
}

/* spool_teardown - remove it; fails if a spill file was left behind */
static int
spool_teardown(void **state)
{
	return rmdir(spool);
}

/* spool_files - how many files are in the spool directory */
static int
spool_files(char *name, size_t size)
{
	struct dirent *de;
	DIR *dir;
	int n = 0;

	dir = opendir(spool);
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (name != NULL &&
		    snprintf(name, size, "%s/%s", spool, de->d_name) >=
		    (int)size)
			fail_msg("spool file name too long: %s", de->d_name);
		n++;
	}
	closedir(dir);
	return n;
}

/* settings - the usual settings with the given limits */
static struct smtp_data_settings
settings(uint64_t max_size, size_t mem_max, bool allow_bare_lf)
{
	struct smtp_data_settings s;

	memset(&s, 0, sizeof(s));
	s.max_size = max_size;
	s.mem_max = mem_max;
	s.spool_dir = spool;
	s.allow_bare_lf = allow_bare_lf;
	return s;
}

/* item - a framed line built by hand */
static struct frame_item
item(const char *data, size_t len, bool crlf, bool bare_cr)
{
	struct frame_item it;

	memset(&it, 0, sizeof(it));
	it.data = data;
	it.len = len;
	it.crlf = crlf;
	it.bare_cr = bare_cr;
	return it;
}

/* line - feed one hand-built line; returns smtp_data_line() */
static bool
line(struct smtp_data *d, const char *data, bool crlf, bool bare_cr)
{
	struct frame_item it = item(data, strlen(data), crlf, bare_cr);

	return smtp_data_line(d, &it);
}

/* printable - bytes with CR, LF and the rest escaped, for messages */
static const char *
printable(const char *p, size_t n)
{
	static char out[2][600];
	static int which;
	char *o = out[which ^= 1];
	size_t i, k = 0;

	for (i = 0; i < n && k + 5 < sizeof(out[0]); i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			k += (size_t)snprintf(o + k, 5, "\\r");
		else if (c == '\n')
			k += (size_t)snprintf(o + k, 5, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			k += (size_t)snprintf(o + k, 5, "\\x%02x", c);
		else
			o[k++] = (char)c;
	}
	o[k] = '\0';
	return o;
}

/* expect_message - finish d and compare the region with want */
static void
expect_message(struct smtp_data *d, const char *want, size_t want_len)
{
	const char *msg, *error = NULL;
	size_t len;

	if (smtp_data_finish(d, &msg, &len, &error) < 0)
		fail_msg("finish: got -1 (%s), want the message", error);
	assert_non_null(msg);
	if (len != want_len || memcmp(msg, want, len) != 0)
		fail_msg("got \"%s\" (%zu bytes), want \"%s\" (%zu bytes)",
		    printable(msg, len), len, printable(want, want_len),
		    want_len);
}

/*
 * What a byte stream after "DATA<CRLF>" gives: where the message ended
 * (bytes taken up to and including the final ".<CRLF>", or -1), the
 * first error, and the message.
 */
struct wire_result {
	long		 end;
	enum smtp_data_err err;
	struct buf	 msg;
	uint64_t	 size;
	bool		 has_8bit;
	int		 spills;
};

/* run_wire - frame input in pieces of step bytes (0: whole) into d */
static void
run_wire(const struct smtp_data_settings *s, size_t max_line,
    const char *prefix, const char *in, size_t len, size_t step,
    struct wire_result *r)
{
	struct frame f;
	struct frame_item it;
	struct smtp_data *d;
	enum frame_event ev;
	const char *msg, *error;
	size_t pos = 0, used, piece, mlen;

	memset(r, 0, sizeof(*r));
	r->end = -1;
	buf_init(&r->msg, 0);
	frame_init(&f, max_line, 0, false);
	d = smtp_data_new(s);
	if (prefix != NULL)
		assert_int_equal(smtp_data_prefix(d, prefix, strlen(prefix)),
		    0);
	while (pos < len && r->end < 0) {
		piece = step == 0 || len - pos < step ? len - pos : step;
		ev = frame_feed(&f, in + pos, piece, &used, &it);
		pos += used;
		if (ev == FRAME_LINE) {
			if (smtp_data_line(d, &it))
				r->end = (long)pos;
		} else if (ev == FRAME_LINE_TOO_LONG)
			smtp_data_line_too_long(d);
		else
			assert_int_equal(ev, FRAME_MORE);
		if (smtp_data_wants_spill(d)) {
			error = NULL;
			if (smtp_data_spill(d, &error) < 0)
				fail_msg("spill: %s", error);
			r->spills++;
		}
	}
	r->err = smtp_data_error(d);
	r->size = smtp_data_size(d);
	r->has_8bit = smtp_data_has_8bit(d);
	if (r->err == SMTP_DATA_OK) {
		error = NULL;
		if (smtp_data_finish(d, &msg, &mlen, &error) < 0)
			fail_msg("finish: %s", error);
		buf_append(&r->msg, msg, mlen);
	}
	smtp_data_free(&d);
	assert_null(d);
	frame_deinit(&f);
}

struct wire_case {
	const char	*why;
	const char	*in;
	long		 end;		/* -1: the message does not end */
	enum smtp_data_err err;		/* refusing bare LF */
	const char	*msg;		/* when OK */
	enum smtp_data_err err_lf;	/* with allow_bare_lf */
	const char	*msg_lf;	/* when OK */
};

#define OK	SMTP_DATA_OK
#define BIG	SMTP_DATA_TOO_BIG
#define BLF	SMTP_DATA_BARE_LF
#define BCR	SMTP_DATA_BARE_CR
#define LONG	SMTP_DATA_LINE_TOO_LONG
#define SAME	(-1)		/* the bare-LF column: as without */

/* END: the whole input is taken, the final ".\r\n" included */
#define END	(-2)

static const struct wire_case wire_cases[] = {
	{ "an empty message", ".\r\n", END, OK, "", SAME, NULL },
	{ "one empty line", "\r\n.\r\n", END, OK, "\r\n", SAME, NULL },
	{ "one line", "Subject: x\r\n\r\nhi\r\n.\r\n", END, OK,
	  "Subject: x\r\n\r\nhi\r\n", SAME, NULL },
	{ "what follows the end is not taken", "a\r\n.\r\nQUIT\r\n", 6, OK,
	  "a\r\n", SAME, NULL },
	{ "no end yet", "a\r\nb\r\n", -1, OK, "a\r\nb\r\n", SAME, NULL },
	{ "a dot-stuffed dot", "..\r\n.\r\n", END, OK, ".\r\n", SAME,
	  NULL },
	{ "dot-stuffed text", "..a\r\n...\r\n.b\r\n .\r\n.\r\n", END, OK,
	  ".a\r\n..\r\nb\r\n .\r\n", SAME, NULL },
	{ "a dot inside a line", "a.\r\n.a.\r\n.\r\n", END, OK,
	  "a.\r\na.\r\n", SAME, NULL },
	/* smuggling: nothing but <CRLF>.<CRLF> ends the message */
	{ "LF . LF", "a\n.\nMAIL FROM:<x@y>\r\n.\r\n", END, BLF, NULL, OK,
	  "a\r\n.\r\nMAIL FROM:<x@y>\r\n" },
	{ "CR . CR", "a\r.\rMAIL FROM:<x@y>\r\n.\r\n", END, BCR, NULL,
	  SAME, NULL },
	{ "CRLF . LF", "a\r\n.\nMAIL FROM:<x@y>\r\n.\r\n", END, BLF, NULL,
	  OK, "a\r\n.\r\nMAIL FROM:<x@y>\r\n" },
	{ "LF . CRLF", "a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", END, BLF, NULL,
	  OK, "a\r\n.\r\nMAIL FROM:<x@y>\r\n" },
	{ "CRLF . CR inside a line", "a\r\n.\rMAIL FROM:<x@y>\r\n.\r\n",
	  END, BCR, NULL, SAME, NULL },
	{ "CRLF . CR CRLF", "a\r\n.\r\r\nMAIL FROM:<x@y>\r\n.\r\n", END,
	  BCR, NULL, SAME, NULL },
	{ "CR CRLF . CRLF is a real end", "a\r\r\n.\r\nQUIT\r\n", 7, BCR,
	  NULL, SAME, NULL },
	{ "only LF . LF, never ends", "a\n.\n", -1, BLF, NULL, OK,
	  "a\r\n.\r\n" },
	{ "LF . LF at the start", ".\nb\r\n.\r\n", END, BLF, NULL, OK,
	  ".\r\nb\r\n" },
	{ "bare LF text", "a\nb\n\r\n.\r\n", END, BLF, NULL, OK,
	  "a\r\nb\r\n\r\n" },
	{ "bare CR text", "a\rb\r\n.\r\n", END, BCR, NULL, SAME, NULL },
	{ "CR and LF apart", "a\rx\n.\r\nb\r\n.\r\n", END, BCR, NULL,
	  SAME, NULL },
	{ "NUL and 8-bit bytes are kept", "\x01\x7f\x80\xff\r\n.\r\n",
	  END, OK, "\x01\x7f\x80\xff\r\n", SAME, NULL },
};

/* run_wire_case - one case, one mode, one piece size */
static int
run_wire_case(const struct wire_case *c, bool allow_lf, size_t step)
{
	struct smtp_data_settings s = settings(0, 1 << 20, allow_lf);
	struct wire_result r;
	enum smtp_data_err want_err = c->err;
	const char *want_msg = c->msg;
	long want_end = c->end == END ? (long)strlen(c->in) : c->end;
	int failures = 0;

	if (allow_lf && (int)c->err_lf != SAME) {
		want_err = c->err_lf;
		want_msg = c->msg_lf;
	}
	run_wire(&s, 1000, NULL, c->in, strlen(c->in), step, &r);
	if (r.end != want_end || r.err != want_err) {
		print_error("%s (bare LF %s, step %zu): got end %ld error %d, "
		    "want %ld %d\n", c->why, allow_lf ? "allowed" : "refused",
		    step, r.end, (int)r.err, want_end, (int)want_err);
		failures++;
	} else if (want_err == OK && (r.msg.len != strlen(want_msg) ||
	    memcmp(buf_ptr(&r.msg), want_msg, r.msg.len) != 0)) {
		print_error("%s (bare LF %s, step %zu): got \"%s\", want "
		    "\"%s\"\n", c->why, allow_lf ? "allowed" : "refused", step,
		    printable(buf_ptr(&r.msg), r.msg.len),
		    printable(want_msg, strlen(want_msg)));
		failures++;
	}
	buf_deinit(&r.msg);
	return failures;
}

/* only_crlf_dot_crlf_ends_the_message_in_any_pieces */
static void
only_crlf_dot_crlf_ends_the_message_in_any_pieces(void **state)
{
	static const size_t steps[] = { 0, 1, 2, 3 };
	size_t i, k;
	int failures = 0;

	for (i = 0; i < sizeof(wire_cases) / sizeof(wire_cases[0]); i++)
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			failures += run_wire_case(&wire_cases[i], false,
			    steps[k]);
			failures += run_wire_case(&wire_cases[i], true,
			    steps[k]);
		}
	assert_int_equal(failures, 0);
}

struct hand_line {
	const char	*data;
	bool		 crlf;
	bool		 bare_cr;
	bool		 want_end;
};

struct hand_case {
	const char		*why;
	bool			 allow_lf;
	struct hand_line	 lines[6];	/* up to data == NULL */
	enum smtp_data_err	 err;
	const char		*msg;		/* when OK */
};

static const struct hand_case hand_cases[] = {
	{ "the first line may end the message", false,
	  { { ".", true, false, true }, { NULL, 0, 0, 0 } }, OK, "" },
	{ "a dot with a bare LF after CRLF does not end", true,
	  { { "a", true, false, false }, { ".", false, false, false },
	    { ".", true, false, false }, { ".", true, false, true },
	    { NULL, 0, 0, 0 } }, OK, "a\r\n.\r\n.\r\n" },
	{ "a dot flagged bare CR does not end", false,
	  { { ".", true, true, false }, { ".", true, false, true },
	    { NULL, 0, 0, 0 } }, BCR, NULL },
	{ "a dot after a bare-LF line does not end", false,
	  { { "x", false, false, false }, { ".", true, false, false },
	    { "", true, false, false }, { ".", true, false, true },
	    { NULL, 0, 0, 0 } }, BLF, NULL },
	{ "a dot after a bare-CR line that ended in CRLF ends", false,
	  { { "x\ry", true, true, false }, { ".", true, false, true },
	    { NULL, 0, 0, 0 } }, BCR, NULL },
	{ "a bare-LF dot line is kept whole", true,
	  { { ".", false, false, false }, { "..", false, false, false },
	    { ".", true, false, false }, { ".", true, false, true },
	    { NULL, 0, 0, 0 } }, OK, ".\r\n.\r\n.\r\n" },
	{ "the first error is the one reported", false,
	  { { "a\rb", true, true, false }, { "c", false, false, false },
	    { ".", true, false, false }, { "", true, false, false },
	    { ".", true, false, true }, { NULL, 0, 0, 0 } }, BCR, NULL },
};

/* hand_built_lines_end_the_message_only_as_crlf_dot_crlf */
static void
hand_built_lines_end_the_message_only_as_crlf_dot_crlf(void **state)
{
	struct smtp_data_settings s;
	struct smtp_data *d;
	size_t i, k;
	bool end;
	int failures = 0;

	for (i = 0; i < sizeof(hand_cases) / sizeof(hand_cases[0]); i++) {
		const struct hand_case *c = &hand_cases[i];

		s = settings(0, 1 << 20, c->allow_lf);
		d = smtp_data_new(&s);
		for (k = 0; c->lines[k].data != NULL; k++) {
			end = line(d, c->lines[k].data, c->lines[k].crlf,
			    c->lines[k].bare_cr);
			if (end != c->lines[k].want_end) {
				print_error("%s, line %zu: got end %d, want "
				    "%d\n", c->why, k, (int)end,
				    (int)c->lines[k].want_end);
				failures++;
			}
		}
		if (smtp_data_error(d) != c->err) {
			print_error("%s: got error %d, want %d\n", c->why,
			    (int)smtp_data_error(d), (int)c->err);
			failures++;
		} else if (c->err == OK)
			expect_message(d, c->msg, strlen(c->msg));
		smtp_data_free(&d);
	}
	assert_int_equal(failures, 0);
}

/* eight_bit_and_utf8_content_is_stored_byte_exact */
static void
eight_bit_and_utf8_content_is_stored_byte_exact(void **state)
{
	static const char prefix[] = "Return-Path: <a@example.test>\r\n";
	struct smtp_data_settings s = settings(0, 1 << 20, false);
	struct wire_result r;
	struct buf in, want;
	unsigned int c;

	buf_init(&in, 0);
	buf_init(&want, 0);
	buf_append_str(&want, prefix);
	/* every byte value but NUL, CR and LF, 16 to a line */
	for (c = 1; c < 256; c++) {
		if (c == '\r' || c == '\n')
			continue;
		buf_append_byte(&in, (unsigned char)c);
		buf_append_byte(&want, (unsigned char)c);
		if (c % 16 == 0) {
			buf_append_str(&in, "\r\n");
			buf_append_str(&want, "\r\n");
		}
	}
	buf_append_str(&in, "\r\n");
	buf_append_str(&want, "\r\n");
	/* UTF-8: German, Greek, CJK, an emoji, a combining accent; a
	 * leading '.' is stuffed on the wire as a client must do */
	buf_append_str(&want, "Subject: Gr\xc3\xbc\xc3\x9f" "e "
	    "\xce\xb1\xce\xb2\xce\xb3 \xe6\x97\xa5\xe6\x9c\xac "
	    "\xf0\x9f\x93\xa7 e\xcc\x81\r\n\r\n"
	    ".\xe2\x80\xa6 starts with a dot\r\n");
	buf_append_str(&in, "Subject: Gr\xc3\xbc\xc3\x9f" "e "
	    "\xce\xb1\xce\xb2\xce\xb3 \xe6\x97\xa5\xe6\x9c\xac "
	    "\xf0\x9f\x93\xa7 e\xcc\x81\r\n\r\n"
	    "..\xe2\x80\xa6 starts with a dot\r\n");
	buf_append_str(&in, ".\r\n");
	run_wire(&s, 1000, prefix, buf_ptr(&in), buf_avail(&in), 0, &r);
	assert_int_equal(r.err, OK);
	assert_int_equal(r.end, (long)buf_avail(&in));
	assert_true(r.has_8bit);
	assert_int_equal(r.size, buf_avail(&want) - strlen(prefix));
	if (r.msg.len != buf_avail(&want) ||
	    memcmp(r.msg.data, buf_ptr(&want), r.msg.len) != 0)
		fail_msg("got \"%s\", want \"%s\"",
		    printable(r.msg.data, r.msg.len),
		    printable(buf_ptr(&want), buf_avail(&want)));
	buf_deinit(&r.msg);
	/* the same spilled to a file at every few bytes */
	s = settings(0, 40, false);
	run_wire(&s, 1000, prefix, buf_ptr(&in), buf_avail(&in), 1, &r);
	assert_int_equal(r.err, OK);
	assert_true(r.spills > 5);
	assert_true(r.has_8bit);
	assert_int_equal(r.msg.len, buf_avail(&want));
	assert_memory_equal(r.msg.data, buf_ptr(&want), r.msg.len);
	buf_deinit(&r.msg);
	buf_deinit(&in);
	buf_deinit(&want);
	assert_int_equal(spool_files(NULL, 0), 0);
}

/* only_a_byte_over_0x7f_is_8bit_and_nul_is_kept */
static void
only_a_byte_over_0x7f_is_8bit_and_nul_is_kept(void **state)
{
	static const char in[] = "a\0b\r\n\x7f\r\n.\r\n";
	static const char want[] = "X-8bit: \xff\r\na\0b\r\n\x7f\r\n";
	struct smtp_data_settings s = settings(0, 1 << 20, false);
	struct smtp_data *d;
	struct wire_result r;

	run_wire(&s, 1000, "X-8bit: \xff\r\n", in, sizeof(in) - 1, 1, &r);
	assert_int_equal(r.err, OK);
	/* the prefix is ours, not the client's: it does not count */
	assert_false(r.has_8bit);
	assert_int_equal(r.size, 8);
	assert_int_equal(r.msg.len, sizeof(want) - 1);
	assert_memory_equal(r.msg.data, want, r.msg.len);
	buf_deinit(&r.msg);
	/* the lowest 8-bit byte alone, in a line and in a chunk */
	run_wire(&s, 1000, NULL, "\x80\r\n.\r\n", 5, 0, &r);
	assert_true(r.has_8bit);
	buf_deinit(&r.msg);
	d = smtp_data_new(&s);
	smtp_data_chunk(d, "abc\x7f", 4);
	assert_false(smtp_data_has_8bit(d));
	smtp_data_chunk(d, "\x80", 1);
	assert_true(smtp_data_has_8bit(d));
	smtp_data_free(&d);
}

/* the_size_limit_takes_max_size_and_refuses_one_byte_more */
static void
the_size_limit_takes_max_size_and_refuses_one_byte_more(void **state)
{
	static const struct {
		const char	*why;
		const char	*in;
		uint64_t	 max_size;
		enum smtp_data_err err;
		uint64_t	 size;
	} cases[] = {
		{ "exactly max_size", "abcdefgh\r\n.\r\n", 10, OK, 10 },
		{ "one byte past", "abcdefghi\r\n.\r\n", 10, BIG, 11 },
		{ "counted after unstuffing", "..bcdefgh\r\n.\r\n", 10, OK,
		  10 },
		{ "over several lines", "abc\r\ndef\r\n\r\n.\r\n", 12, OK,
		  12 },
		{ "one past over several lines", "abc\r\ndef\r\n\r\n.\r\n", 11,
		  BIG, 12 },
		{ "bare LF counts as CRLF", "abcdefgh\n\r\n.\r\n", 12, BLF,
		  12 },
		{ "no limit", "abcdefghijklmnopqrstuvwxyz\r\n.\r\n", 0, OK,
		  28 },
		{ "past the limit the end is still found",
		  "abcdefghijklmnopqrstuvwxyz\r\nMAIL FROM:<a@b>\r\n"
		  "..\r\n.\r\n", 10, BIG, 28 + 17 + 3 },
	};
	struct smtp_data_settings s;
	struct wire_result r;
	size_t i;
	int failures = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = settings(cases[i].max_size, 1 << 20, false);
		/* the prefix is not counted */
		run_wire(&s, 1000, "Received: from somewhere far away\r\n",
		    cases[i].in, strlen(cases[i].in), 1, &r);
		if (r.err != cases[i].err || r.size != cases[i].size ||
		    r.end != (long)strlen(cases[i].in)) {
			print_error("%s: got error %d size %" PRIu64 " end %ld,"
			    " want %d %" PRIu64 " %zu\n", cases[i].why,
			    (int)r.err, r.size, r.end, (int)cases[i].err,
			    cases[i].size, strlen(cases[i].in));
			failures++;
		}
		buf_deinit(&r.msg);
	}
	assert_int_equal(failures, 0);
}

/* past_the_size_limit_bytes_are_counted_not_stored */
static void
past_the_size_limit_bytes_are_counted_not_stored(
    void **state)
{
	struct smtp_data_settings s = settings(50, 100, false);
	struct smtp_data *d;
	const char *msg, *error = NULL;
	size_t len;
	int i;

	d = smtp_data_new(&s);
	for (i = 0; i < 1000; i++) {
		assert_false(line(d, "0123456789", true, false));
		/* still storing, memory would pass mem_max at line 9 */
		assert_false(smtp_data_wants_spill(d));
	}
	assert_int_equal(smtp_data_error(d), BIG);
	assert_int_equal(smtp_data_size(d), 12000);
	assert_true(line(d, ".", true, false));
	assert_int_equal(smtp_data_finish(d, &msg, &len, &error), -1);
	assert_non_null(error);
	assert_int_equal(smtp_data_spill(d, &error), 0);
	smtp_data_free(&d);
	assert_int_equal(spool_files(NULL, 0), 0);
}

/* bdat_chunks_of_mixed_sizes_are_taken_as_is */
static void
bdat_chunks_of_mixed_sizes_are_taken_as_is(void **state)
{
	static const size_t sizes[] = { 0, 1, 3, 1000, 0, 1, 7, 65536, 2,
	    4096, 5 };
	struct smtp_data_settings s;
	struct smtp_data *d;
	struct buf want;
	const char *error;
	size_t i, k, total = 0;
	unsigned char *chunk;
	int round;

	chunk = malloc(65536);
	assert_non_null(chunk);
	for (round = 0; round < 2; round++) {
		/* round 0 in memory, round 1 spilling as it goes */
		s = settings(0, round == 0 ? 1 << 20 : 1500, false);
		d = smtp_data_new(&s);
		buf_init(&want, 0);
		assert_int_equal(smtp_data_prefix(d, "P: 1\r\n", 6), 0);
		buf_append_str(&want, "P: 1\r\n");
		total = 0;
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			/* data that DATA would treat specially: bare LF, a
			 * lone dot, CRLF.CRLF, 8-bit */
			for (k = 0; k < sizes[i]; k++)
				chunk[k] = "a\n.\r\n.\r\n\xe9\0"[(k + i) % 10];
			smtp_data_chunk(d, chunk, sizes[i]);
			buf_append(&want, chunk, sizes[i]);
			total += sizes[i];
			if (smtp_data_wants_spill(d)) {
				error = NULL;
				if (smtp_data_spill(d, &error) < 0)
					fail_msg("spill: %s", error);
			}
		}
		assert_int_equal(smtp_data_error(d), OK);
		assert_int_equal(smtp_data_size(d), total);
		assert_true(smtp_data_has_8bit(d));
		assert_int_equal(spool_files(NULL, 0), round);
		expect_message(d, buf_ptr(&want), buf_avail(&want));
		smtp_data_free(&d);
		buf_deinit(&want);
		assert_int_equal(spool_files(NULL, 0), 0);
	}
	free(chunk);
}

/* bdat_size_limit_takes_max_size_and_refuses_one_byte_more */
static void
bdat_size_limit_takes_max_size_and_refuses_one_byte_more(
    void **state)
{
	struct smtp_data_settings s = settings(10, 4, false);
	struct smtp_data *d;
	const char *msg, *error;
	size_t len;

	d = smtp_data_new(&s);
	smtp_data_chunk(d, "abc", 3);
	smtp_data_chunk(d, "defghij", 7);
	assert_int_equal(smtp_data_error(d), OK);
	expect_message(d, "abcdefghij", 10);
	smtp_data_free(&d);

	d = smtp_data_new(&s);
	smtp_data_chunk(d, "abc", 3);
	smtp_data_chunk(d, "defghijk", 8);
	assert_int_equal(smtp_data_error(d), BIG);
	assert_false(smtp_data_wants_spill(d));
	smtp_data_chunk(d, "more", 4);
	assert_int_equal(smtp_data_size(d), 15);
	assert_int_equal(smtp_data_finish(d, &msg, &len, &error), -1);
	smtp_data_free(&d);
}

/* memory_spills_one_byte_past_mem_max_not_at_it */
static void
memory_spills_one_byte_past_mem_max_not_at_it(void **state)
{
	struct smtp_data_settings s = settings(0, 10, false);
	struct smtp_data *d;
	struct stat st;
	const char *error = NULL;
	char path[256];

	/* prefix 4 + "abcd\r\n" 6 = 10: at mem_max */
	d = smtp_data_new(&s);
	assert_int_equal(smtp_data_prefix(d, "P:\r\n", 4), 0);
	assert_false(line(d, "abcd", true, false));
	assert_false(smtp_data_wants_spill(d));
	assert_true(line(d, ".", true, false));
	expect_message(d, "P:\r\nabcd\r\n", 10);
	assert_int_equal(spool_files(NULL, 0), 0);
	smtp_data_free(&d);

	/* prefix 4 + "abcde\r\n" 7 = 11: one past */
	d = smtp_data_new(&s);
	assert_int_equal(smtp_data_prefix(d, "P:\r\n", 4), 0);
	assert_false(line(d, "abcde", true, false));
	assert_true(smtp_data_wants_spill(d));
	assert_int_equal(smtp_data_spill(d, &error), 0);
	assert_false(smtp_data_wants_spill(d));
	/* the spill file: one, private, regular, in spool_dir */
	assert_int_equal(spool_files(path, sizeof(path)), 1);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 11);
	assert_false(line(d, "tail", true, false));
	assert_false(smtp_data_wants_spill(d));
	assert_true(line(d, ".", true, false));
	expect_message(d, "P:\r\nabcde\r\ntail\r\n", 17);
	/* finishing again gives the same region */
	expect_message(d, "P:\r\nabcde\r\ntail\r\n", 17);
	assert_int_equal(spool_files(NULL, 0), 1);
	smtp_data_free(&d);
	assert_int_equal(spool_files(NULL, 0), 0);

	/* the prefix alone can pass mem_max */
	d = smtp_data_new(&s);
	assert_int_equal(smtp_data_prefix(d, "Received: x\r\n", 13), 0);
	assert_true(smtp_data_wants_spill(d));
	/* and cannot come after the body has begun */
	assert_false(line(d, "a", true, false));
	assert_int_equal(smtp_data_prefix(d, "X: y\r\n", 6), -1);
	smtp_data_free(&d);
}

/* an_empty_message_finishes_in_memory_and_spilled */
static void
an_empty_message_finishes_in_memory_and_spilled(void **state)
{
	struct smtp_data_settings s = settings(0, 0, false);
	struct smtp_data *d;
	const char *msg, *error = NULL;
	size_t len = 99;

	/* nothing at all */
	d = smtp_data_new(&s);
	assert_true(line(d, ".", true, false));
	assert_false(smtp_data_wants_spill(d));
	assert_int_equal(smtp_data_finish(d, &msg, &len, &error), 0);
	assert_non_null(msg);
	assert_int_equal(len, 0);
	smtp_data_free(&d);

	/* an empty spill file */
	d = smtp_data_new(&s);
	assert_int_equal(smtp_data_spill(d, &error), 0);
	assert_int_equal(spool_files(NULL, 0), 1);
	assert_true(line(d, ".", true, false));
	len = 99;
	assert_int_equal(smtp_data_finish(d, &msg, &len, &error), 0);
	assert_non_null(msg);
	assert_int_equal(len, 0);
	smtp_data_free(&d);
	assert_int_equal(spool_files(NULL, 0), 0);

	/* BDAT 0 LAST */
	d = smtp_data_new(&s);
	smtp_data_chunk(d, "", 0);
	expect_message(d, "", 0);
	assert_int_equal(smtp_data_size(d), 0);
	assert_false(smtp_data_has_8bit(d));
	smtp_data_free(&d);
}

/* a_spool_dir_that_does_not_exist_is_an_io_error */
static void
a_spool_dir_that_does_not_exist_is_an_io_error(void **state)
{
	struct smtp_data_settings s = settings(0, 4, false);
	struct smtp_data *d;
	const char *msg, *error = NULL;
	char missing[128];
	size_t len;
	int code;
	const char *enh, *text;

	snprintf(missing, sizeof(missing), "%s/no/such/dir", spool);
	s.spool_dir = missing;
	d = smtp_data_new(&s);
	assert_false(line(d, "hello world", true, false));
	assert_true(smtp_data_wants_spill(d));
	assert_int_equal(smtp_data_spill(d, &error), -1);
	assert_non_null(error);
	assert_int_equal(smtp_data_error(d), SMTP_DATA_IO);
	smtp_data_err_reply(smtp_data_error(d), &code, &enh, &text);
	assert_int_equal(code, 451);
	assert_string_equal(enh, "4.3.0");
	/* the rest is consumed to the end, nothing stored */
	assert_false(line(d, "more", true, false));
	assert_false(smtp_data_wants_spill(d));
	assert_true(line(d, ".", true, false));
	error = NULL;
	assert_int_equal(smtp_data_finish(d, &msg, &len, &error), -1);
	assert_non_null(error);
	smtp_data_free(&d);
	assert_int_equal(spool_files(NULL, 0), 0);
}

/* a_failing_or_short_write_to_the_spill_file */
static void
a_failing_or_short_write_to_the_spill_file(void **state)
{
	struct smtp_data_settings s = settings(0, 8, false);
	struct smtp_data *d;
	const char *msg, *error;
	size_t len, budget;
	int r;

	/* short pieces and an EINTR: the file still gets every byte */
	d = smtp_data_new(&s);
	assert_false(line(d, "first line", true, false));
	wr_max_piece = 3;
	wr_eintr_once = true;
	error = NULL;
	assert_int_equal(smtp_data_spill(d, &error), 0);
	assert_false(line(d, "second line", true, false));
	assert_true(line(d, ".", true, false));
	assert_int_equal(smtp_data_finish(d, &msg, &len, &error), 0);
	wr_max_piece = 0;
	assert_int_equal(len, 25);
	assert_memory_equal(msg, "first line\r\nsecond line\r\n", len);
	smtp_data_free(&d);

	/* the disk fills up at every byte of the first or a later spill */
	for (budget = 0; budget < 25; budget++) {
		d = smtp_data_new(&s);
		assert_false(line(d, "first line", true, false));
		wr_fail = true;
		wr_budget = budget;
		error = NULL;
		r = smtp_data_spill(d, &error);
		if (budget < 12) {
			assert_int_equal(r, -1);
		} else {
			assert_int_equal(r, 0);
			assert_false(line(d, "second line", true, false));
			r = smtp_data_finish(d, &msg, &len, &error);
			assert_int_equal(r, -1);
		}
		wr_fail = false;
		if (error == NULL)
			fail_msg("budget %zu: got no error text", budget);
		if (smtp_data_error(d) != SMTP_DATA_IO)
			fail_msg("budget %zu: got error %d, want IO", budget,
			    (int)smtp_data_error(d));
		smtp_data_free(&d);
		assert_int_equal(spool_files(NULL, 0), 0);
	}
}

/* an_over_long_line_is_refused_and_consumed_to_the_end */
static void
an_over_long_line_is_refused_and_consumed_to_the_end(void **state)
{
	static const char in[] =
	    "short\r\n"
	    "0123456789012345678901234567890123456789\r\n"
	    ".\r\n"			/* after a cut line: not the end */
	    "ok\r\n"
	    ".\r\n";
	struct smtp_data_settings s = settings(0, 1 << 20, false);
	struct wire_result r;
	size_t step;

	for (step = 0; step < 3; step++) {
		run_wire(&s, 16, NULL, in, sizeof(in) - 1, step, &r);
		assert_int_equal(r.err, LONG);
		assert_int_equal(r.end, (long)sizeof(in) - 1);
		buf_deinit(&r.msg);
	}
}

/* every_error_has_its_reply */
static void
every_error_has_its_reply(void **state)
{
	static const struct {
		enum smtp_data_err e;
		int		 code;
		const char	*enh;
	} cases[] = {
		{ SMTP_DATA_OK, 250, "2.0.0" },
		{ SMTP_DATA_TOO_BIG, 552, "5.3.4" },
		{ SMTP_DATA_BARE_LF, 550, "5.5.2" },
		{ SMTP_DATA_BARE_CR, 550, "5.5.2" },
		{ SMTP_DATA_LINE_TOO_LONG, 554, "5.6.0" },
		{ SMTP_DATA_IO, 451, "4.3.0" },
	};
	const char *enh, *text;
	size_t i;
	int code;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		code = 0;
		enh = text = NULL;
		smtp_data_err_reply(cases[i].e, &code, &enh, &text);
		if (code != cases[i].code || enh == NULL ||
		    strcmp(enh, cases[i].enh) != 0 || text == NULL ||
		    text[0] == '\0')
			fail_msg("error %d: got %d %s, want %d %s",
			    (int)cases[i].e, code, enh, cases[i].code,
			    cases[i].enh);
	}
}

#ifdef FUZZ
/* LLVMFuzzerTestOneInput - libFuzzer entry: the first byte picks the
 * piece size and whether bare LF is allowed.  A message ends only right
 * after "<CRLF>.<CRLF>" on the wire (or a first line "."), and what is
 * stored has CRLF line ends only and is as long as the size says. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_data_settings s;
	struct wire_result r;
	const char *in = (const char *)data + 1, *m;
	size_t len, i;

	if (size == 0)
		return 0;
	len = size - 1;
	memset(&s, 0, sizeof(s));
	s.mem_max = SIZE_MAX;		/* no spill files while fuzzing */
	s.spool_dir = "/nonexistent";
	s.allow_bare_lf = (data[0] & 0x80) != 0;
	run_wire(&s, 64, NULL, in, len, (size_t)(data[0] & 0x07), &r);
	if (r.end >= 0) {
		i = (size_t)r.end;
		if (!(i == 3 && memcmp(in, ".\r\n", 3) == 0) &&
		    !(i >= 5 && memcmp(in + i - 5, "\r\n.\r\n", 5) == 0))
			abort();
	}
	if (r.err == SMTP_DATA_OK) {
		m = r.msg.len > 0 ? r.msg.data : "";
		if (r.size != r.msg.len)
			abort();
		for (i = 0; i < r.msg.len; i++) {
			if (m[i] == '\n' && (i == 0 || m[i - 1] != '\r'))
				abort();
			if (m[i] == '\r' && (i + 1 == r.msg.len ||
			    m[i + 1] != '\n'))
				abort();
		}
	}
	buf_deinit(&r.msg);
	return 0;
}
#else
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    only_crlf_dot_crlf_ends_the_message_in_any_pieces),
		cmocka_unit_test(
		    hand_built_lines_end_the_message_only_as_crlf_dot_crlf),
		cmocka_unit_test(
		    eight_bit_and_utf8_content_is_stored_byte_exact),
		cmocka_unit_test(only_a_byte_over_0x7f_is_8bit_and_nul_is_kept),
		cmocka_unit_test(
		    the_size_limit_takes_max_size_and_refuses_one_byte_more),
		cmocka_unit_test(
		    past_the_size_limit_bytes_are_counted_not_stored),
		cmocka_unit_test(bdat_chunks_of_mixed_sizes_are_taken_as_is),
		cmocka_unit_test(
		    bdat_size_limit_takes_max_size_and_refuses_one_byte_more),
		cmocka_unit_test(memory_spills_one_byte_past_mem_max_not_at_it),
		cmocka_unit_test(
		    an_empty_message_finishes_in_memory_and_spilled),
		cmocka_unit_test(
		    a_spool_dir_that_does_not_exist_is_an_io_error),
		cmocka_unit_test(a_failing_or_short_write_to_the_spill_file),
		cmocka_unit_test(
		    an_over_long_line_is_refused_and_consumed_to_the_end),
		cmocka_unit_test(every_error_has_its_reply),
	};

	/* the I/O tests make smtp_data log warnings on purpose */
	log_init("test_smtp_data", LOG_TARGET_STDERR, LOG_LEVEL_ERR);
	return cmocka_run_group_tests(tests, spool_setup, spool_teardown);
}
#endif
