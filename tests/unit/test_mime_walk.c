/* test_mime_walk.c - unit tests for common/mime_walk.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "mime_walk.h"

/* parts_join - every part the iterator gives, as "[part]" each */
static char *
parts_join(const char *body, const char *bnd, size_t *opened)
{
	struct mime_walk_parts it;
	struct mime_span b = { bnd, strlen(bnd) };
	struct buf out;
	const char *p;
	size_t n;

	buf_init(&out, 0);
	mime_walk_parts_init(&it, body, strlen(body), &b, opened);
	while (mime_walk_parts_next(&it, &p, &n)) {
		buf_append_byte(&out, '[');
		buf_append(&out, p, n);
		buf_append_byte(&out, ']');
	}
	/* done stays done */
	if (mime_walk_parts_next(&it, &p, &n))
		fail_msg("a finished walk gave another part");
	return buf_steal(&out, NULL);
}

/* a_multipart_body_splits_at_its_delimiter_lines - the split rules */
static void
a_multipart_body_splits_at_its_delimiter_lines(void **state)
{
	static const struct {
		const char *body;
		const char *bnd;
		const char *want;
		size_t	 opened;	/* delimiters that opened a part */
	} c[] = {
		{ "pre\r\n--b\r\none\r\n--b\r\ntwo\r\n--b--\r\nepi", "b",
		  "[one][two]", 2 },
		/* the line break before a delimiter belongs to it */
		{ "--b\none\n\n--b--\n", "b", "[one\n]", 1 },
		/* transport padding after the boundary */
		{ "--b \t\r\nx\r\n--b--", "b", "[x]", 1 },
		/* a longer boundary that starts with this one is no
		 * delimiter of it */
		{ "--b\r\n--bb\r\nx\r\n--b--\r\n", "b", "[--bb\r\nx]", 1 },
		/* no close delimiter: the last part runs to the end */
		{ "--b\r\none\r\n--b\r\ntwo\r\n", "b", "[one][two\r\n]", 2 },
		/* a delimiter must start a line */
		{ "--b\r\na --b\r\n--b--", "b", "[a --b]", 1 },
		/* nothing after the close delimiter is looked at */
		{ "--b\r\nx\r\n--b--\r\n--b\r\ny\r\n", "b", "[x]", 1 },
		/* no delimiter, or only the close one: no parts */
		{ "just text\r\n", "b", "", 0 },
		{ "--b--\r\n", "b", "", 0 },
		/* an empty part */
		{ "--b\r\n--b--", "b", "[]", 1 },
		{ "", "b", "", 0 },
	};
	size_t i, opened;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		opened = 0;
		got = parts_join(c[i].body, c[i].bnd, &opened);
		if (strcmp(got, c[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got,
			    c[i].want);
		if (opened != c[i].opened)
			fail_msg("case %zu: got %zu opened, want %zu", i,
			    opened, c[i].opened);
		free(got);
	}
}

/* the_part_limit_stops_looking_for_delimiters - at the limit, the open
 * part runs to the end of the body */
static void
the_part_limit_stops_looking_for_delimiters(void **state)
{
	static const char body[] = "--b\r\none\r\n--b\r\ntwo\r\n--b\r\nthree"
	    "\r\n--b--\r\n";
	size_t opened = MIME_WALK_MAX_PARTS - 2;
	char *got;

	(void)state;
	got = parts_join(body, "b", &opened);
	if (strcmp(got, "[one][two\r\n--b\r\nthree\r\n--b--\r\n]") != 0)
		fail_msg("got \"%s\", want two parts, the second to the end",
		    got);
	if (opened != MIME_WALK_MAX_PARTS)
		fail_msg("got %zu opened, want %d", opened,
		    MIME_WALK_MAX_PARTS);
	free(got);
}

/* a_part_is_given_before_the_next_delimiter_counts - so that a caller
 * descending into the part with the same counter sees the counts a
 * recursive walk would */
static void
a_part_is_given_before_the_next_delimiter_counts(void **state)
{
	static const char body[] = "--b\r\none\r\n--b\r\ntwo\r\n--b--\r\n";
	struct mime_walk_parts it;
	struct mime_span b = { "b", 1 };
	const char *p;
	size_t n, opened = 0;

	(void)state;
	mime_walk_parts_init(&it, body, strlen(body), &b, &opened);
	assert_true(mime_walk_parts_next(&it, &p, &n));
	if (opened != 1)
		fail_msg("got %zu opened with the first part, want 1", opened);
	/* the caller's nested walk fills the counter: the second
	 * delimiter still opens its part, the limit is checked after it */
	opened = MIME_WALK_MAX_PARTS;
	assert_true(mime_walk_parts_next(&it, &p, &n));
	if (n != strlen(body) - (size_t)(p - body) ||
	    strncmp(p, "two", 3) != 0)
		fail_msg("got \"%.*s\", want the second part to the end",
		    (int)n, p);
	if (opened != MIME_WALK_MAX_PARTS + 1)
		fail_msg("got %zu opened, want %d", opened,
		    MIME_WALK_MAX_PARTS + 1);
	assert_false(mime_walk_parts_next(&it, &p, &n));
}

/* field_log - record "name=value|" for each field */
static void
field_log(void *arg, const struct mime_walk_field *f)
{
	struct buf *out = arg;

	buf_append(out, f->name.p, f->name.n);
	buf_append_byte(out, '=');
	buf_append(out, f->val.p, f->val.n);
	buf_append_byte(out, '|');
	if (f->raw.p != f->name.p)
		fail_msg("raw does not start at the name");
}

/* the_header_ends_at_the_first_empty_line - fields, size, blank */
static void
the_header_ends_at_the_first_empty_line(void **state)
{
	static const struct {
		const char *in;
		const char *want;
		size_t	 size;
		bool	 blank;
	} c[] = {
		{ "A: 1\r\nB:2\r\n\r\nbody", "A= 1|B=2|", 13, true },
		{ "A: 1\n\nbody", "A= 1|", 6, true },
		/* continuation lines stay in the value */
		{ "A: 1\r\n 2\r\nB: 3\r\n\r\n", "A= 1\r\n 2|B= 3|", 18,
		  true },
		/* no empty line: the header is everything */
		{ "A: 1\r\nB: 2", "A= 1|B= 2|", 10, false },
		/* blanks before the colon go; a name with a blank inside
		 * is no field (mbox "From " lines) */
		{ "From x Mon 10:00\r\nA \t: v\r\n\r\n", "A= v|", 28,
		  true },
		/* a line without a colon is skipped */
		{ "junk\r\nA:v\r\n\r\n", "A=v|", 13, true },
		{ "\r\nbody", "", 2, true },
		{ "", "", 0, false },
	};
	struct buf out;
	size_t i, size;
	bool blank;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		buf_init(&out, 0);
		size = mime_walk_header(c[i].in, strlen(c[i].in), field_log,
		    &out, &blank);
		got = buf_steal(&out, NULL);
		if (strcmp(got, c[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got,
			    c[i].want);
		if (size != c[i].size || blank != c[i].blank)
			fail_msg("case %zu: got size %zu blank %d, want %zu "
			    "%d", i, size, blank, c[i].size, c[i].blank);
		free(got);
	}
}

/* content_type_values_parse_as_rfc_2045_says - type, subtype, params */
static void
content_type_values_parse_as_rfc_2045_says(void **state)
{
	static const struct {
		const char *in;
		int	 rc;
		const char *want;	/* "type/subtype;name=value..." */
	} c[] = {
		{ "text/plain", 0, "text/plain" },
		{ " Text / Plain ; charset=UTF-8", 0,
		  "Text/Plain;charset=UTF-8" },
		{ "multipart/mixed; boundary=\"a b\\\"c\"", 0,
		  "multipart/mixed;boundary=a b\"c" },
		{ "(c) text (x (y)) / html; a=1;; =x; b; c=\"\"", 0,
		  "text/html;a=1;c=" },
		{ "text/plain;\r\n\tformat=flowed", 0,
		  "text/plain;format=flowed" },
		{ "text", -1, NULL },
		{ "text/", -1, NULL },
		{ "/plain", -1, NULL },
		{ "", -1, NULL },
	};
	struct mime_span v;
	struct mime_ctype ct;
	struct buf out;
	size_t i, k;
	char *got;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		v.p = c[i].in;
		v.n = strlen(c[i].in);
		rc = mime_walk_ctype_parse(&v, true, &ct);
		if (rc != c[i].rc)
			fail_msg("case %zu: got %d, want %d", i, rc, c[i].rc);
		if (rc < 0)
			continue;
		buf_init(&out, 0);
		buf_append(&out, ct.type.p, ct.type.n);
		buf_append_byte(&out, '/');
		buf_append(&out, ct.subtype.p, ct.subtype.n);
		for (k = 0; k < 2 * ct.nparams; k++) {
			buf_append_byte(&out, k % 2 == 0 ? ';' : '=');
			buf_append(&out, ct.params[k].p, ct.params[k].n);
		}
		got = buf_steal(&out, NULL);
		if (strcmp(got, c[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got,
			    c[i].want);
		free(got);
		mime_walk_ctype_free(&ct);
	}
	v.p = NULL;
	v.n = 0;
	assert_int_equal(mime_walk_ctype_parse(&v, true, &ct), -1);
}

/* an_entity_is_a_leaf_a_multipart_or_a_message - mime_walk_type() */
static void
an_entity_is_a_leaf_a_multipart_or_a_message(void **state)
{
	static const struct {
		const char *ct;		/* NULL: no Content-Type field */
		bool	 in_digest;
		int	 depth;
		enum mime_walk_kind kind;
		bool	 text;
		bool	 digest;
		const char *bnd;
	} c[] = {
		{ NULL, false, 0, MIME_WALK_LEAF, true, false, NULL },
		{ NULL, true, 1, MIME_WALK_MSG, false, false, NULL },
		/* a broken Content-Type in a digest is text, not a message */
		{ "broken", true, 1, MIME_WALK_LEAF, true, false, NULL },
		{ "image/png", false, 0, MIME_WALK_LEAF, false, false, NULL },
		{ "TEXT/html", true, 1, MIME_WALK_LEAF, true, false, NULL },
		{ "message/rfc822", false, 0, MIME_WALK_MSG, false, false,
		  NULL },
		{ "message/partial", false, 0, MIME_WALK_LEAF, false, false,
		  NULL },
		{ "multipart/mixed; boundary=x; boundary=y", false, 0,
		  MIME_WALK_MULTI, false, false, "x" },
		{ "multipart/Digest; boundary=x", false, 0, MIME_WALK_MULTI,
		  false, true, "x" },
		/* no usable boundary: a text leaf */
		{ "multipart/mixed", false, 0, MIME_WALK_LEAF, true, false,
		  NULL },
		{ "multipart/mixed; boundary=\"\"", false, 0, MIME_WALK_LEAF,
		  true, false, NULL },
		/* the depth limit and one below it */
		{ "multipart/mixed; boundary=x", false, MIME_WALK_MAX_DEPTH -
		  1, MIME_WALK_MULTI, false, false, "x" },
		{ "multipart/mixed; boundary=x", false, MIME_WALK_MAX_DEPTH,
		  MIME_WALK_LEAF, true, false, NULL },
		{ "message/rfc822", false, MIME_WALK_MAX_DEPTH,
		  MIME_WALK_LEAF, true, false, NULL },
		{ NULL, true, MIME_WALK_MAX_DEPTH, MIME_WALK_LEAF, true,
		  false, NULL },
	};
	struct mime_walk_type t;
	struct mime_span v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		v.p = c[i].ct;
		v.n = c[i].ct == NULL ? 0 : strlen(c[i].ct);
		mime_walk_type(&v, c[i].in_digest, c[i].depth, &t);
		if (t.kind != c[i].kind || t.text != c[i].text ||
		    t.digest != c[i].digest)
			fail_msg("case %zu: got kind %d text %d digest %d, "
			    "want %d %d %d", i, t.kind, t.text, t.digest,
			    c[i].kind, c[i].text, c[i].digest);
		if ((t.bnd == NULL) != (c[i].bnd == NULL) || (t.bnd != NULL &&
		    !mime_walk_span_is(t.bnd, c[i].bnd)))
			fail_msg("case %zu: got boundary \"%.*s\", want %s",
			    i, t.bnd == NULL ? 4 : (int)t.bnd->n,
			    t.bnd == NULL ? "NULL" : t.bnd->p,
			    c[i].bnd == NULL ? "NULL" : c[i].bnd);
		mime_walk_type_deinit(&t);
	}
}

/* folded_values_unfold_and_trim - mime_walk_unfold() */
static void
folded_values_unfold_and_trim(void **state)
{
	static const struct {
		const char *in;
		size_t	 len;
		const char *want;
	} c[] = {
		{ " a\r\n\tb \t", 8, "a\tb" },
		{ "x\0y\n", 4, "xy" },
		{ " \t ", 3, "" },
		{ "", 0, "" },
	};
	struct mime_span v;
	size_t i, n;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		v.p = c[i].in;
		v.n = c[i].len;
		got = mime_walk_unfold(&v, &n);
		if (strcmp(got, c[i].want) != 0 || n != strlen(c[i].want))
			fail_msg("case %zu: got \"%s\" (%zu), want \"%s\"", i,
			    got, n, c[i].want);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    a_multipart_body_splits_at_its_delimiter_lines),
		cmocka_unit_test(the_part_limit_stops_looking_for_delimiters),
		cmocka_unit_test(
		    a_part_is_given_before_the_next_delimiter_counts),
		cmocka_unit_test(the_header_ends_at_the_first_empty_line),
		cmocka_unit_test(content_type_values_parse_as_rfc_2045_says),
		cmocka_unit_test(an_entity_is_a_leaf_a_multipart_or_a_message),
		cmocka_unit_test(folded_values_unfold_and_trim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
