/* test_imap_section.c - unit tests for imapd/imap_section.c */
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
#include "mime.h"
#include "imap_section.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define S(lit)		lit, sizeof(lit) - 1

/* esc - printable form of bytes for failure messages (one of 4 slots) */
static const char *
esc(const char *p, size_t n)
{
	static char slots[4][1024];
	static int next;
	char *o = slots[next++ % 4];
	size_t i, k = 0;

	for (i = 0; i < n && k + 8 < sizeof(slots[0]); i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			k += (size_t)snprintf(o + k, 8, "\\r");
		else if (c == '\n')
			k += (size_t)snprintf(o + k, 8, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			k += (size_t)snprintf(o + k, 8, "\\x%02x", c);
		else
			o[k++] = (char)c;
	}
	if (i < n)
		k += (size_t)snprintf(o + k, 8, "...");
	o[k] = '\0';
	return o;
}

/* parse_ok - parse a section that must be valid */
static void
parse_ok(const char *spec, struct imap_section *sec)
{
	const char *err = NULL;

	if (imap_section_parse(spec, strlen(spec), sec, &err) < 0)
		fail_msg("section \"%s\": got error %s, want success",
		    esc(spec, strlen(spec)), err);
}

/* fetch - BODY[spec] of msg */
static void
fetch(const char *msg, size_t len, const char *spec,
    struct imap_part_ref *ref)
{
	struct imap_section sec;

	parse_ok(spec, &sec);
	imap_section_fetch(msg, len, &sec, ref);
	imap_section_deinit(&sec);
}

/* check_bytes - got equals want, else fail naming what */
static void
check_bytes(const char *what, const char *got, size_t glen,
    const char *want, size_t wlen)
{
	if (glen != wlen || memcmp(got, want, glen) != 0)
		fail_msg("%s: got \"%s\" (%zu), want \"%s\" (%zu)", what,
		    esc(got, glen), glen, esc(want, wlen), wlen);
}

/* ------------------------------------------------------------------ */
/* the section grammar                                                 */

static void
section_specs_parse_into_part_numbers_kind_and_fields(void **state)
{
	static const struct {
		const char	*spec;
		enum imap_section_kind kind;
		size_t		 nparts;
		uint32_t	 parts[4];
		size_t		 nfields;
		const char	*last_field;
	} cases[] = {
		{ "", IMAP_SECTION_ALL, 0, { 0 }, 0, NULL },
		{ "HEADER", IMAP_SECTION_HEADER, 0, { 0 }, 0, NULL },
		{ "header", IMAP_SECTION_HEADER, 0, { 0 }, 0, NULL },
		{ "TEXT", IMAP_SECTION_TEXT, 0, { 0 }, 0, NULL },
		{ "1", IMAP_SECTION_ALL, 1, { 1 }, 0, NULL },
		{ "1.2.3", IMAP_SECTION_ALL, 3, { 1, 2, 3 }, 0, NULL },
		{ "4294967295", IMAP_SECTION_ALL, 1, { 4294967295u }, 0,
		  NULL },
		{ "3.HEADER", IMAP_SECTION_HEADER, 1, { 3 }, 0, NULL },
		{ "3.text", IMAP_SECTION_TEXT, 1, { 3 }, 0, NULL },
		{ "4.1.MIME", IMAP_SECTION_MIME, 2, { 4, 1 }, 0, NULL },
		{ "HEADER.FIELDS (From)", IMAP_SECTION_HEADER_FIELDS, 0,
		  { 0 }, 1, "From" },
		{ "header.fields (DATE FROM)", IMAP_SECTION_HEADER_FIELDS,
		  0, { 0 }, 2, "FROM" },
		{ "HEADER.FIELDS.NOT (X-A X-B X-C)",
		  IMAP_SECTION_HEADER_FIELDS_NOT, 0, { 0 }, 3, "X-C" },
		{ "2.HEADER.FIELDS (To)", IMAP_SECTION_HEADER_FIELDS, 1,
		  { 2 }, 1, "To" },
		{ "HEADER.FIELDS (\"Sub ject\" \"a\\\"b\")",
		  IMAP_SECTION_HEADER_FIELDS, 0, { 0 }, 2, "a\"b" },
		{ "HEADER.FIELDS ({7}\r\nX-(])}{ To)",
		  IMAP_SECTION_HEADER_FIELDS, 0, { 0 }, 2, "To" },
		{ "HEADER.FIELDS (To {4+}\r\nFrom)",
		  IMAP_SECTION_HEADER_FIELDS, 0, { 0 }, 2, "From" },
		{ "HEADER.FIELDS (X]Y)", IMAP_SECTION_HEADER_FIELDS, 0,
		  { 0 }, 1, "X]Y" },
	};
	struct imap_section sec;
	size_t i, k;

	for (i = 0; i < NELEM(cases); i++) {
		parse_ok(cases[i].spec, &sec);
		if (sec.kind != cases[i].kind || sec.nparts !=
		    cases[i].nparts || sec.nfields != cases[i].nfields)
			fail_msg("\"%s\": got kind %d, %zu parts, %zu fields; "
			    "want %d, %zu, %zu", esc(cases[i].spec,
			    strlen(cases[i].spec)), sec.kind, sec.nparts,
			    sec.nfields, cases[i].kind, cases[i].nparts,
			    cases[i].nfields);
		for (k = 0; k < sec.nparts; k++) {
			if (sec.parts[k] != cases[i].parts[k])
				fail_msg("\"%s\" part %zu: got %u, want %u",
				    cases[i].spec, k, sec.parts[k],
				    cases[i].parts[k]);
		}
		if (cases[i].last_field != NULL && strcmp(sec.fields[
		    sec.nfields - 1], cases[i].last_field) != 0)
			fail_msg("\"%s\" last field: got \"%s\", want \"%s\"",
			    esc(cases[i].spec, strlen(cases[i].spec)),
			    sec.fields[sec.nfields - 1],
			    cases[i].last_field);
		assert_false(sec.partial);
		imap_section_deinit(&sec);
	}
}

static void
malformed_section_specs_are_refused(void **state)
{
	static const char *const cases[] = {
		"0", "1.0", "01", "1.", ".1", "1..2", "1.2.", "4294967296",
		"MIME", "HEADERS", "HEADER ", " HEADER", "TEXT.1", "1.TEXTX",
		"1.MIME.TEXT", "1.HEADER.TEXT", "HEADER.FIELDS",
		"HEADER.FIELDS ()", "HEADER.FIELDS (From", "HEADER.FIELDS From",
		"HEADER.FIELDS(From)", "HEADER.FIELDS  (From)",
		"HEADER.FIELDS (From  To)", "HEADER.FIELDS (From )",
		"HEADER.FIELDS ( From)", "HEADER.FIELDS (From) ",
		"HEADER.FIELDS (From)x", "HEADER.FIELDS.NOT",
		"HEADER.FIELDS (\"unterminated)", "HEADER.FIELDS (\"a\\b\")",
		"HEADER.FIELDS ({5}\r\nFrom)", "HEADER.FIELDS ({4}From)",
		"HEADER.FIELDS (Fr*m)", "HEADER.FIELDS (Fr%m)",
		"HEADER.FIELDS (\"a\rb\")", "BODY", "1.2.3.",
		"2.HEADER.FIELDS.NOT", "-1",
	};
	struct imap_section sec;
	const char *err;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		err = NULL;
		if (imap_section_parse(cases[i], strlen(cases[i]), &sec,
		    &err) == 0) {
			imap_section_deinit(&sec);
			fail_msg("\"%s\": got success, want an error",
			    esc(cases[i], strlen(cases[i])));
		}
		if (err == NULL || *err == '\0')
			fail_msg("\"%s\": no reason given", cases[i]);
		assert_null(sec.fields);
	}
	/* a NUL byte inside a literal name */
	err = NULL;
	assert_int_equal(imap_section_parse(
	    S("HEADER.FIELDS ({3}\r\na\0b)"), &sec, &err), -1);
	assert_non_null(err);
}

static void
part_specifiers_are_bounded_at_the_maximum_depth(void **state)
{
	char spec[4 * IMAP_SECTION_MAX_PARTS + 16];
	struct imap_section sec;
	const char *err = NULL;
	size_t i, n = 0;

	for (i = 0; i < IMAP_SECTION_MAX_PARTS; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s1",
		    i == 0 ? "" : ".");
	assert_int_equal(imap_section_parse(spec, n, &sec, &err), 0);
	assert_int_equal(sec.nparts, IMAP_SECTION_MAX_PARTS);
	imap_section_deinit(&sec);
	/* one more number is one too many */
	memcpy(spec + n, ".1", 2);
	assert_int_equal(imap_section_parse(spec, n + 2, &sec, &err), -1);
	assert_string_equal(err, "Section part nested too deeply");
	/* at the maximum, a text part is still allowed */
	memcpy(spec + n, ".MIME", 5);
	assert_int_equal(imap_section_parse(spec, n + 5, &sec, &err), 0);
	imap_section_deinit(&sec);
}

static void
header_field_lists_are_bounded(void **state)
{
	struct buf b;
	struct imap_section sec;
	const char *err = NULL;
	size_t i;

	buf_init(&b, 0);
	buf_append_str(&b, "HEADER.FIELDS (");
	for (i = 0; i < IMAP_SECTION_MAX_FIELDS; i++)
		buf_printf(&b, "%sX-%zu", i == 0 ? "" : " ", i);
	buf_append_str(&b, ")");
	assert_int_equal(imap_section_parse(buf_ptr(&b), buf_avail(&b),
	    &sec, &err), 0);
	assert_int_equal(sec.nfields, IMAP_SECTION_MAX_FIELDS);
	imap_section_deinit(&sec);
	b.len--;	/* drop ")" and add one more name */
	buf_append_str(&b, " X-last)");
	assert_int_equal(imap_section_parse(buf_ptr(&b), buf_avail(&b),
	    &sec, &err), -1);
	assert_string_equal(err, "Too many header fields");
	buf_deinit(&b);
}

static void
partial_ranges_parse_and_refuse_zero_counts(void **state)
{
	static const struct {
		const char	*text;
		int		 ret;
		uint64_t	 origin, count;
	} cases[] = {
		{ "0.10", 0, 0, 10 },
		{ "100.1", 0, 100, 1 },
		{ "4294967296.4294967297", 0, 4294967296ull, 4294967297ull },
		{ "9223372036854775807.1", 0, 9223372036854775807ull, 1 },
		{ "9223372036854775808.1", -1, 0, 0 },
		{ "0.0", -1, 0, 0 },
		{ "0", -1, 0, 0 },
		{ ".5", -1, 0, 0 },
		{ "5.", -1, 0, 0 },
		{ "1.2.3", -1, 0, 0 },
		{ "-1.2", -1, 0, 0 },
		{ "1.2x", -1, 0, 0 },
		{ "", -1, 0, 0 },
	};
	struct imap_section sec;
	const char *err;
	size_t i;
	int r;

	for (i = 0; i < NELEM(cases); i++) {
		memset(&sec, 0, sizeof(sec));
		r = imap_section_parse_partial(cases[i].text,
		    strlen(cases[i].text), &sec, &err);
		if (r != cases[i].ret)
			fail_msg("<%s>: got %d, want %d", cases[i].text, r,
			    cases[i].ret);
		if (r == 0 && (!sec.partial || sec.origin != cases[i].origin ||
		    sec.count != cases[i].count))
			fail_msg("<%s>: got %llu.%llu", cases[i].text,
			    (unsigned long long)sec.origin,
			    (unsigned long long)sec.count);
	}
}

static void
sections_print_back_in_canonical_form(void **state)
{
	static const struct {
		const char	*item;
		const char	*spec;
		const char	*partial;
		const char	*want;
	} cases[] = {
		{ "BODY", "", NULL, "BODY[]" },
		{ "BODY", "", "0.2048", "BODY[]<0>" },
		{ "BODY", "text", "100.5", "BODY[TEXT]<100>" },
		{ "BODY", "header", NULL, "BODY[HEADER]" },
		{ "BODY", "1.2.3", NULL, "BODY[1.2.3]" },
		{ "BODY", "4.1.mime", NULL, "BODY[4.1.MIME]" },
		{ "BODY", "3.Header", NULL, "BODY[3.HEADER]" },
		{ "BODY", "header.fields (DATE FROM)", NULL,
		  "BODY[HEADER.FIELDS (DATE FROM)]" },
		/* names come back as the client spelled them */
		{ "BODY", "HEADER.FIELDS (From To Message-ID)", NULL,
		  "BODY[HEADER.FIELDS (From To Message-ID)]" },
		{ "BODY", "2.header.fields.not (x-spam)", NULL,
		  "BODY[2.HEADER.FIELDS.NOT (x-spam)]" },
		/* quoted names that are atoms come back as atoms */
		{ "BODY", "HEADER.FIELDS (\"From\")", NULL,
		  "BODY[HEADER.FIELDS (From)]" },
		{ "BODY", "HEADER.FIELDS (\"a b\" \"q\\\"\\\\\" X]Y)", NULL,
		  "BODY[HEADER.FIELDS (\"a b\" \"q\\\"\\\\\" \"X]Y\")]" },
		{ "BODY", "HEADER.FIELDS ({3}\r\na\rb)", NULL,
		  "BODY[HEADER.FIELDS ({3}\r\na\rb)]" },
		{ "BINARY", "1", "6.5", "BINARY[1]<6>" },
		{ "BINARY.SIZE", "", NULL, "BINARY.SIZE[]" },
	};
	struct imap_section sec;
	const char *err;
	struct buf b;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		parse_ok(cases[i].spec, &sec);
		if (cases[i].partial != NULL)
			assert_int_equal(imap_section_parse_partial(
			    cases[i].partial, strlen(cases[i].partial), &sec,
			    &err), 0);
		buf_init(&b, 0);
		assert_int_equal(imap_section_format(&b, cases[i].item, &sec),
		    0);
		check_bytes(cases[i].spec, buf_ptr(&b), buf_avail(&b),
		    cases[i].want, strlen(cases[i].want));
		buf_deinit(&b);
		imap_section_deinit(&sec);
	}
	/* past the buffer's ceiling */
	parse_ok("HEADER.FIELDS (From To)", &sec);
	buf_init(&b, 10);
	assert_int_equal(imap_section_format(&b, "BODY", &sec), -1);
	buf_deinit(&b);
	imap_section_deinit(&sec);
}

static void
the_end_of_a_section_is_found_past_quotes_and_literals(void **state)
{
	/* found: the answer is always the last "]" of the string */
	static const struct {
		const char	*s;
		bool		 found;
	} cases[] = {
		{ "]", true },
		{ "1.2]", true },
		{ "HEADER.FIELDS (From)]", true },
		{ "HEADER.FIELDS (\"a]b\" To)]", true },
		{ "HEADER.FIELDS (\"a\\\"]\")]", true },
		{ "HEADER.FIELDS ({3}\r\n]]])]", true },
		{ "HEADER.FIELDS ({3+}\r\n]]])]", true },
		{ "HEADER.FIELDS (X]Y)]", true },
		{ "HEADER.FIELDS ({9}\r\n]]])]", false },
		{ "HEADER.FIELDS (\"]", false },
		{ "HEADER.FIELDS (X]", false },
		{ "1.2", false },
		{ "", false },
	};
	size_t i;
	long got, want;

	for (i = 0; i < NELEM(cases); i++) {
		want = cases[i].found ? (long)(strrchr(cases[i].s, ']') -
		    cases[i].s) : -1;
		got = imap_section_scan_end(cases[i].s, strlen(cases[i].s));
		if (got != want)
			fail_msg("\"%s\": got %ld, want %ld",
			    esc(cases[i].s, strlen(cases[i].s)), got, want);
	}
	/* what follows the "]" is not looked at */
	assert_int_equal(imap_section_scan_end(S("1]<0.5> BODY[2]")), 1);
}

/* ------------------------------------------------------------------ */
/* the RFC 3501 6.4.5 example structure                                */

static const char rfc_msg[] =
    "From: a@example.test\r\n"
    "To: b@example.test\r\n"
    "Subject: RFC 3501 6.4.5 example\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: MULTIPART/MIXED; boundary=\"outer\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: TEXT/PLAIN; charset=us-ascii\r\n"
    "\r\n"
    "part 1 text\r\n"
    "--outer\r\n"
    "Content-Type: APPLICATION/OCTET-STREAM\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAw==\r\n"
    "--outer\r\n"
    "Content-Type: MESSAGE/RFC822\r\n"
    "\r\n"
    "From: c@example.test\r\n"
    "Subject: part 3\r\n"
    "Content-Type: MULTIPART/MIXED; boundary=m3\r\n"
    "\r\n"
    "--m3\r\n"
    "Content-Type: TEXT/PLAIN\r\n"
    "\r\n"
    "part 3.1 text\r\n"
    "--m3\r\n"
    "Content-Type: APPLICATION/OCTET-STREAM\r\n"
    "\r\n"
    "part 3.2 data\r\n"
    "--m3--\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: MULTIPART/MIXED; boundary=m4\r\n"
    "\r\n"
    "--m4\r\n"
    "Content-Type: IMAGE/GIF\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "R0lGODlh\r\n"
    "--m4\r\n"
    "Content-Type: MESSAGE/RFC822\r\n"
    "\r\n"
    "From: d@example.test\r\n"
    "Subject: part 4.2\r\n"
    "Content-Type: MULTIPART/MIXED; boundary=m42\r\n"
    "\r\n"
    "--m42\r\n"
    "Content-Type: TEXT/PLAIN\r\n"
    "\r\n"
    "part 4.2.1 text\r\n"
    "--m42\r\n"
    "Content-Type: MULTIPART/ALTERNATIVE; boundary=alt\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: TEXT/PLAIN\r\n"
    "\r\n"
    "part 4.2.2.1 plain\r\n"
    "--alt\r\n"
    "Content-Type: TEXT/RICHTEXT\r\n"
    "\r\n"
    "part 4.2.2.2 <bold>rich</bold>\r\n"
    "--alt--\r\n"
    "--m42--\r\n"
    "--m4--\r\n"
    "--outer--\r\n"
    "epilogue\r\n";

/* between - the bytes of rfc_msg from the first "from" up to (not
 * including) the first "to" after it; to NULL: to the end */
static void
between(const char *from, const char *to, const char **p_r, size_t *n_r)
{
	const char *a, *b;

	a = strstr(rfc_msg, from);
	assert_non_null(a);
	b = to == NULL ? rfc_msg + sizeof(rfc_msg) - 1 : strstr(a, to);
	assert_non_null(b);
	*p_r = a;
	*n_r = (size_t)(b - a);
}

static void
rfc3501_example_parts_are_found(void **state)
{
	static const struct {
		const char	*spec;
		const char	*want;		/* exact bytes, or NULL */
		const char	*from, *to;	/* else: between(from, to) */
	} cases[] = {
		{ "HEADER", NULL, "From: a@", "preamble" },
		{ "TEXT", NULL, "preamble", NULL },
		{ "1", "part 1 text", NULL, NULL },
		{ "1.MIME", "Content-Type: TEXT/PLAIN; charset=us-ascii\r\n"
		  "\r\n", NULL, NULL },
		{ "2", "AAECAw==", NULL, NULL },
		{ "3", NULL, "From: c@", "\r\n--outer\r\nContent-Type: MULTI" },
		{ "3.HEADER", "From: c@example.test\r\n"
		  "Subject: part 3\r\n"
		  "Content-Type: MULTIPART/MIXED; boundary=m3\r\n\r\n",
		  NULL, NULL },
		{ "3.TEXT", NULL, "--m3\r\n", "\r\n--outer\r\nContent-" },
		{ "3.MIME", "Content-Type: MESSAGE/RFC822\r\n\r\n", NULL,
		  NULL },
		{ "3.1", "part 3.1 text", NULL, NULL },
		{ "3.2", "part 3.2 data", NULL, NULL },
		{ "4", NULL, "--m4\r\n", "\r\n--outer--" },
		{ "4.1", "R0lGODlh", NULL, NULL },
		{ "4.1.MIME", "Content-Type: IMAGE/GIF\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\n", NULL, NULL },
		{ "4.2", NULL, "From: d@", "\r\n--m4--" },
		{ "4.2.HEADER", "From: d@example.test\r\n"
		  "Subject: part 4.2\r\n"
		  "Content-Type: MULTIPART/MIXED; boundary=m42\r\n\r\n",
		  NULL, NULL },
		{ "4.2.TEXT", NULL, "--m42\r\n", "\r\n--m4--" },
		{ "4.2.1", "part 4.2.1 text", NULL, NULL },
		{ "4.2.2", NULL, "--alt\r\n", "\r\n--m42--" },
		{ "4.2.2.MIME", "Content-Type: MULTIPART/ALTERNATIVE; "
		  "boundary=alt\r\n\r\n", NULL, NULL },
		{ "4.2.2.1", "part 4.2.2.1 plain", NULL, NULL },
		{ "4.2.2.2", "part 4.2.2.2 <bold>rich</bold>", NULL, NULL },
		{ "4.2.2.2.MIME", "Content-Type: TEXT/RICHTEXT\r\n\r\n", NULL,
		  NULL },
		{ "3.HEADER.FIELDS (subject)", "Subject: part 3\r\n\r\n",
		  NULL, NULL },
		{ "4.2.HEADER.FIELDS.NOT (Content-Type)",
		  "From: d@example.test\r\nSubject: part 4.2\r\n\r\n", NULL,
		  NULL },
	};
	struct imap_part_ref ref;
	const char *p;
	size_t i, n;

	for (i = 0; i < NELEM(cases); i++) {
		fetch(rfc_msg, sizeof(rfc_msg) - 1, cases[i].spec, &ref);
		if (cases[i].want != NULL) {
			p = cases[i].want;
			n = strlen(p);
		} else
			between(cases[i].from, cases[i].to, &p, &n);
		check_bytes(cases[i].spec, ref.data, ref.len, p, n);
		if (ref.missing)
			fail_msg("%s: got missing, want found", cases[i].spec);
		imap_part_ref_deinit(&ref);
	}
	/* the whole message */
	fetch(rfc_msg, sizeof(rfc_msg) - 1, "", &ref);
	assert_ptr_equal(ref.data, rfc_msg);
	assert_int_equal(ref.len, sizeof(rfc_msg) - 1);
	imap_part_ref_deinit(&ref);
}

static void
parts_that_do_not_exist_are_empty_strings(void **state)
{
	static const char *const cases[] = {
		"5", "1.1", "1.2",
		"1.HEADER", "1.TEXT", "2.HEADER.FIELDS (From)", "3.3",
		"3.1.1", "3.1.HEADER", "4.3", "4.1.TEXT", "4.1.1",
		"4.2.2.3", "4.2.2.1.1", "4.2.3.MIME", "9.MIME",
		"4294967295", "4.2.1.HEADER",
	};
	struct imap_part_ref ref;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		fetch(rfc_msg, sizeof(rfc_msg) - 1, cases[i], &ref);
		if (!ref.missing || ref.len != 0 || ref.data == NULL ||
		    *ref.data != '\0')
			fail_msg("%s: got \"%s\" (missing %d), want \"\" "
			    "missing", cases[i], esc(ref.data, ref.len),
			    ref.missing);
		imap_part_ref_deinit(&ref);
	}
}

static void
big_parts_point_into_the_message_instead_of_being_copied(void **state)
{
	static const char *const specs[] = {
		"", "HEADER", "TEXT", "1", "3", "3.TEXT", "4.2.2.2", "4.1.MIME",
	};
	struct imap_part_ref ref;
	size_t i;

	for (i = 0; i < NELEM(specs); i++) {
		fetch(rfc_msg, sizeof(rfc_msg) - 1, specs[i], &ref);
		if (ref.data < rfc_msg || ref.data + ref.len > rfc_msg +
		    sizeof(rfc_msg) - 1)
			fail_msg("%s: got a copy, want a pointer into the "
			    "message", specs[i]);
		assert_null(ref.buf.data);
		imap_part_ref_deinit(&ref);
	}
}

/* ------------------------------------------------------------------ */
/* agreement with common/mime.c's BODYSTRUCTURE                        */

struct bs_part {
	char	 path[512];
	size_t	 size;
};

struct bs_walk {
	const char	*s;
	size_t		 n, i;
	struct bs_part	 parts[256];
	size_t		 nparts;
};

/* bs_skip - step over one item: NIL, number, string, literal or list */
static void
bs_skip(struct bs_walk *w)
{
	size_t depth = 0, lit;

	do {
		assert_true(w->i < w->n);
		switch (w->s[w->i]) {
		case '(':
			depth++;
			w->i++;
			break;
		case ')':
			depth--;
			w->i++;
			break;
		case ' ':
			w->i++;
			break;
		case '"':
			for (w->i++; w->s[w->i] != '"'; w->i++) {
				if (w->s[w->i] == '\\')
					w->i++;
			}
			w->i++;
			break;
		case '{':
			lit = strtoul(w->s + w->i + 1, NULL, 10);
			w->i = (size_t)(strchr(w->s + w->i, '\n') - w->s) + 1 +
			    lit;
			break;
		default:
			while (w->i < w->n && w->s[w->i] != ' ' &&
			    w->s[w->i] != ')' && w->s[w->i] != '(')
				w->i++;
			break;
		}
	} while (depth > 0);
	if (w->i < w->n && w->s[w->i] == ' ')
		w->i++;
}

/* bs_string - the string (quoted or literal) at w->i, lower-cased and
 * cut to fit, into out */
static void
bs_string(struct bs_walk *w, char *out, size_t outsz)
{
	size_t k = 0, start = w->i, end;

	bs_skip(w);
	end = w->i;
	if (w->s[start] == '{')
		start = (size_t)(strchr(w->s + start, '\n') - w->s) + 1;
	else {
		assert_int_equal(w->s[start], '"');
		start++;
		end--;
	}
	while (end > start && (w->s[end - 1] == ' ' || w->s[end - 1] == '"'))
		end--;
	for (; start < end && k + 1 < outsz; start++)
		out[k++] = (char)(w->s[start] | 0x20);
	out[k] = '\0';
}

/* bs_join - part path base.k ("k" at the top) */
static void
bs_join(char *out, size_t outsz, const char *base, size_t k)
{
	snprintf(out, outsz, "%s%s%zu", base, *base ? "." : "", k);
}

/*
 * bs_body - walk one body at w->i.  as_message: this body is the body of
 * a message whose part path is base ("" for the top), so a single part is
 * base.1; otherwise the body is the part base itself.
 */
static void
bs_body(struct bs_walk *w, const char *base, bool as_message)
{
	char path[512], type[64], subtype[64];
	size_t k;

	assert_int_equal(w->s[w->i], '(');
	w->i++;
	if (w->s[w->i] == '(') {
		for (k = 1; w->s[w->i] == '('; k++) {
			bs_join(path, sizeof(path), base, k);
			bs_body(w, path, false);
		}
		while (w->s[w->i] != ')')
			bs_skip(w);
		w->i++;
		if (w->i < w->n && w->s[w->i] == ' ')
			w->i++;
		return;
	}
	if (as_message)
		bs_join(path, sizeof(path), base, 1);
	else
		snprintf(path, sizeof(path), "%s", base);
	bs_string(w, type, sizeof(type));
	bs_string(w, subtype, sizeof(subtype));
	bs_skip(w);	/* params */
	bs_skip(w);	/* id */
	bs_skip(w);	/* description */
	bs_skip(w);	/* encoding */
	assert_true(w->nparts < NELEM(w->parts));
	snprintf(w->parts[w->nparts].path, sizeof(w->parts[0].path), "%s",
	    path);
	w->parts[w->nparts++].size = strtoul(w->s + w->i, NULL, 10);
	bs_skip(w);
	if (strcmp(type, "message") == 0 && strcmp(subtype, "rfc822") == 0) {
		bs_skip(w);	/* envelope */
		bs_body(w, path, true);
	}
	while (w->s[w->i] != ')')
		bs_skip(w);
	w->i++;
	if (w->i < w->n && w->s[w->i] == ' ')
		w->i++;
}

/* check_sizes_agree - every part in mime.c's BODYSTRUCTURE has the size
 * BODY[part] has here; returns how many parts were compared */
static size_t
check_sizes_agree(const char *what, const char *msg, size_t len)
{
	struct mime_summary sum;
	struct bs_walk w;
	struct imap_part_ref ref;
	size_t i;

	mime_summarize(msg, len, &sum);
	memset(&w, 0, sizeof(w));
	w.s = sum.bodystructure;
	w.n = strlen(w.s);
	bs_body(&w, "", true);
	assert_int_equal(w.i, w.n);
	for (i = 0; i < w.nparts; i++) {
		fetch(msg, len, w.parts[i].path, &ref);
		if (ref.len != w.parts[i].size)
			fail_msg("%s: BODY[%s] got %zu bytes, BODYSTRUCTURE "
			    "says %zu (%s)", what, w.parts[i].path, ref.len,
			    w.parts[i].size, sum.bodystructure);
		imap_part_ref_deinit(&ref);
	}
	mime_summary_deinit(&sum);
	return w.nparts;
}

static const char digest_msg[] =
    "Content-Type: multipart/digest; boundary=d\r\n"
    "\r\n"
    "--d\r\n"
    "\r\n"
    "Subject: one\r\n"
    "\r\n"
    "first\r\n"
    "--d\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "second\r\n"
    "--d\r\n"
    "Content-Type: broken\r\n"
    "\r\n"
    "third\r\n"
    "--d--\r\n";

static const char broken_msg[] =
    "Content-Type: multipart/mixed; boundary=\"a b;c\"; x=\"y\"\r\n"
    "\r\n"
    "--a b;c\r\n"
    "\r\n"
    "no header at all\r\n"
    "--a b;c   \r\n"
    "Content-Type: multipart/alternative\r\n"
    "\r\n"
    "no boundary: a leaf\r\n"
    "--a b;cd\r\n"
    "still part 2\r\n"
    "--a b;c\r\n"
    "Content-Type: multipart/related; boundary=r\r\n"
    "\r\n"
    "no parts at all\r\n"
    "--a b;c\r\n"
    "Content-Type: multipart/mixed; boundary=u\r\n"
    "\r\n"
    "--u\r\n"
    "\r\n"
    "unterminated inner\r\n"
    "--a b;c\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "no blank line in this message\r\n"
    "--a b;c\r\n"
    "\r\n"
    "last part, no close delimiter\r\n";

/* two boundary parameters: the first one counts, as in mime.c */
static const char dup_bnd_msg[] =
    "Content-Type: multipart/mixed; boundary=one; boundary=two\r\n"
    "\r\n"
    "--two\r\n"
    "\r\n"
    "not a part\r\n"
    "--one\r\n"
    "\r\n"
    "the part\r\n"
    "--one--\r\n";

static const char lf_msg[] =
    "Content-Type: multipart/mixed; boundary=x\n"
    "\n"
    "--x\n"
    "\n"
    "lf one\n"
    "--x\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inner\n"
    "\n"
    "lf two\n"
    "--x--\n";

static const char rfc822_top_msg[] =
    "Subject: wrapper\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/mixed; boundary=i\r\n"
    "\r\n"
    "--i\r\n"
    "\r\n"
    "inner one\r\n"
    "--i\r\n"
    "\r\n"
    "inner two\r\n"
    "--i--\r\n";

/* nested - a message nested levels deep: multiparts (or message/rfc822
 * parts) inside each other, text at the bottom; caller frees */
static char *
nested(int levels, bool rfc822, size_t *len_r)
{
	struct buf head, tail;
	char *s;
	int k;

	buf_init(&head, 0);
	buf_init(&tail, 0);
	for (k = 0; k < levels; k++) {
		if (rfc822) {
			buf_printf(&head, "Subject: level %d\r\n"
			    "Content-Type: message/rfc822\r\n\r\n", k);
			continue;
		}
		buf_printf(&head, "Content-Type: multipart/mixed; "
		    "boundary=b%d\r\n\r\n--b%d\r\n", k, k);
	}
	buf_append_str(&head, "Content-Type: text/plain\r\n\r\nbottom");
	for (k = levels - 1; k >= 0 && !rfc822; k--)
		buf_printf(&tail, "\r\n--b%d--", k);
	buf_append(&head, buf_ptr(&tail), buf_avail(&tail));
	buf_deinit(&tail);
	s = buf_steal(&head, len_r);
	buf_deinit(&head);
	return s;
}

static void
every_part_has_the_size_bodystructure_gives_it(void **state)
{
	static const struct {
		const char	*what;
		const char	*msg;
		size_t		 len;
		size_t		 nparts;
	} cases[] = {
		{ "rfc example", S(rfc_msg), 10 },
		{ "digest", S(digest_msg), 4 },
		{ "broken", S(broken_msg), 7 },
		{ "bare LF", S(lf_msg), 3 },
		{ "two boundaries", S(dup_bnd_msg), 1 },
		{ "top-level message/rfc822", S(rfc822_top_msg), 3 },
		{ "plain", S("Subject: x\r\n\r\nhello\r\n"), 1 },
		{ "empty", S(""), 1 },
	};
	size_t i, got, len;
	char *msg;

	for (i = 0; i < NELEM(cases); i++) {
		got = check_sizes_agree(cases[i].what, cases[i].msg,
		    cases[i].len);
		if (got != cases[i].nparts)
			fail_msg("%s: compared %zu parts, want %zu",
			    cases[i].what, got, cases[i].nparts);
	}
	msg = nested(70, false, &len);
	check_sizes_agree("70 nested multiparts", msg, len);
	free(msg);
	msg = nested(70, true, &len);
	check_sizes_agree("70 nested messages", msg, len);
	free(msg);
}

static void
digest_parts_without_a_type_are_messages(void **state)
{
	static const struct {
		const char	*spec;
		const char	*want;
		bool		 missing;
	} cases[] = {
		{ "1", "Subject: one\r\n\r\nfirst", false },
		{ "1.HEADER", "Subject: one\r\n\r\n", false },
		{ "1.TEXT", "first", false },
		{ "1.1", "first", false },
		{ "1.MIME", "\r\n", false },
		{ "2", "second", false },
		{ "2.HEADER", "", true },
		/* a broken Content-Type is text/plain, not the default */
		{ "3", "third", false },
		{ "3.TEXT", "", true },
	};
	struct imap_part_ref ref;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		fetch(S(digest_msg), cases[i].spec, &ref);
		check_bytes(cases[i].spec, ref.data, ref.len, cases[i].want,
		    strlen(cases[i].want));
		assert_int_equal(ref.missing, cases[i].missing);
		imap_part_ref_deinit(&ref);
	}
}

static void
part_one_of_a_single_part_message_is_its_body(void **state)
{
	static const char msg[] =
	    "Subject: plain\r\nContent-Type: text/plain\r\n\r\nthe body\r\n";
	static const struct {
		const char	*msg;
		size_t		 len;
		const char	*spec;
		const char	*want;
		bool		 missing;
	} cases[] = {
		{ S(msg), "1", "the body\r\n", false },
		{ S(msg), "TEXT", "the body\r\n", false },
		{ S(msg), "1.MIME", "Subject: plain\r\n"
		  "Content-Type: text/plain\r\n\r\n", false },
		{ S(msg), "2", "", true },
		{ S(msg), "1.1", "", true },
		{ S(msg), "1.HEADER", "", true },
		/* top-level message/rfc822: part 1 is the inner message */
		{ S(rfc822_top_msg), "1", "Subject: inner\r\n"
		  "Content-Type: multipart/mixed; boundary=i\r\n\r\n"
		  "--i\r\n\r\ninner one\r\n--i\r\n\r\ninner two\r\n--i--\r\n",
		  false },
		{ S(rfc822_top_msg), "1.HEADER.FIELDS (SUBJECT)",
		  "Subject: inner\r\n\r\n", false },
		{ S(rfc822_top_msg), "HEADER.FIELDS (SUBJECT)",
		  "Subject: wrapper\r\n\r\n", false },
		{ S(rfc822_top_msg), "1.1", "inner one", false },
		{ S(rfc822_top_msg), "1.2", "inner two", false },
		{ S(rfc822_top_msg), "1.2.MIME", "\r\n", false },
		{ S(rfc822_top_msg), "1.3", "", true },
		{ S(rfc822_top_msg), "2", "", true },
		/* nested message/rfc822 without multipart: 1.1 is the
		 * innermost body */
		{ S("Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\n"
		  "deep"), "1.1", "deep", false },
		{ S("Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\n"
		  "deep"), "1.1.MIME", "Subject: in\r\n\r\n", false },
		{ S("Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\n"
		  "deep"), "1.2", "", true },
	};
	struct imap_part_ref ref;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		fetch(cases[i].msg, cases[i].len, cases[i].spec, &ref);
		check_bytes(cases[i].spec, ref.data, ref.len, cases[i].want,
		    strlen(cases[i].want));
		if (ref.missing != cases[i].missing)
			fail_msg("%s: got missing %d, want %d", cases[i].spec,
			    ref.missing, cases[i].missing);
		imap_part_ref_deinit(&ref);
	}
}

static void
broken_mime_is_split_as_bodystructure_splits_it(void **state)
{
	static const struct {
		const char	*msg;
		size_t		 len;
		const char	*spec;
		const char	*want;
		bool		 missing;
	} cases[] = {
		{ S(broken_msg), "1", "no header at all", false },
		{ S(broken_msg), "1.MIME", "\r\n", false },
		/* a boundary line may end in white space; a longer line
		 * starting with the boundary is text */
		{ S(broken_msg), "2", "no boundary: a leaf\r\n--a b;cd\r\n"
		  "still part 2", false },
		{ S(broken_msg), "2.1", "", true },
		/* a multipart with no delimiter has no parts */
		{ S(broken_msg), "3", "no parts at all", false },
		{ S(broken_msg), "3.1", "", true },
		{ S(broken_msg), "4.1", "unterminated inner", false },
		/* a message with no blank line: all header, no body */
		{ S(broken_msg), "5.HEADER", "no blank line in this message",
		  false },
		{ S(broken_msg), "5.TEXT", "", false },
		{ S(broken_msg), "5.HEADER.FIELDS (X)", "", false },
		{ S(broken_msg), "6", "last part, no close delimiter\r\n",
		  false },
		{ S(broken_msg), "7", "", true },
		{ S(dup_bnd_msg), "1", "the part", false },
		{ S(dup_bnd_msg), "2", "", true },
		/* no boundary end at the top either */
		{ S("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
		  "\r\nA\r\n--x\r\n\r\nB runs to the end\r\n"), "2",
		  "B runs to the end\r\n", false },
		/* no header at all */
		{ S("\r\nbody only"), "HEADER", "\r\n", false },
		{ S("\r\nbody only"), "TEXT", "body only", false },
		{ S("\r\nbody only"), "1", "body only", false },
		{ S("\r\nbody only"), "HEADER.FIELDS (From)", "\r\n",
		  false },
		/* header only, no blank line, no final line break */
		{ S("Subject: x\r\nFrom: y"), "HEADER", "Subject: x\r\nFrom: y",
		  false },
		{ S("Subject: x\r\nFrom: y"), "TEXT", "", false },
		{ S("Subject: x\r\nFrom: y"), "HEADER.FIELDS (from)",
		  "From: y\r\n", false },
		{ S(""), "", "", false },
		{ S(""), "1", "", false },
		{ S(""), "HEADER", "", false },
		/* bare LF line ends */
		{ S(lf_msg), "1", "lf one", false },
		{ S(lf_msg), "2.HEADER", "Subject: inner\n\n", false },
		{ S(lf_msg), "2.TEXT", "lf two", false },
		{ S(lf_msg), "2.HEADER.FIELDS (Subject)",
		  "Subject: inner\r\n\r\n", false },
	};
	struct imap_part_ref ref;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		fetch(cases[i].msg, cases[i].len, cases[i].spec, &ref);
		check_bytes(cases[i].spec, ref.data, ref.len, cases[i].want,
		    strlen(cases[i].want));
		if (ref.missing != cases[i].missing)
			fail_msg("%s: got missing %d, want %d", cases[i].spec,
			    ref.missing, cases[i].missing);
		imap_part_ref_deinit(&ref);
	}
}

/* ones - the part specifier "1.1.1..." of n numbers, then suffix */
static char *
ones(int n, const char *suffix)
{
	struct buf b;
	int k;

	buf_init(&b, 0);
	for (k = 0; k < n; k++)
		buf_append_str(&b, k == 0 ? "1" : ".1");
	buf_append_str(&b, suffix);
	return buf_steal(&b, NULL);
}

static void
deep_nesting_stops_at_the_depth_limit(void **state)
{
	struct imap_part_ref ref;
	char *msg, *spec;
	size_t len;

	/* multiparts: the one at depth 64 is a leaf, its delimiters are
	 * text, and there is nothing below it */
	msg = nested(100, false, &len);
	spec = ones(63, "");
	fetch(msg, len, spec, &ref);
	assert_false(ref.missing);
	check_bytes(spec, ref.data, 52, S("--b63\r\n"
	    "Content-Type: multipart/mixed; boundary=b64\r\n"));
	imap_part_ref_deinit(&ref);
	free(spec);
	spec = ones(64, "");
	fetch(msg, len, spec, &ref);
	assert_false(ref.missing);
	assert_memory_equal(ref.data, "--b64\r\n", 7);
	assert_memory_equal(ref.data + ref.len - 7, "--b64--", 7);
	imap_part_ref_deinit(&ref);
	free(spec);
	spec = ones(65, "");
	fetch(msg, len, spec, &ref);
	assert_true(ref.missing);
	imap_part_ref_deinit(&ref);
	free(spec);
	free(msg);

	/* message/rfc822 inside each other: part 1 is the top message's
	 * body, 1.1 the next, ...; the message at depth 64 is a leaf */
	msg = nested(100, true, &len);
	spec = ones(64, ".HEADER");
	fetch(msg, len, spec, &ref);
	check_bytes(spec, ref.data, ref.len, S("Subject: level 64\r\n"
	    "Content-Type: message/rfc822\r\n\r\n"));
	imap_part_ref_deinit(&ref);
	free(spec);
	spec = ones(65, ".HEADER");
	fetch(msg, len, spec, &ref);
	assert_true(ref.missing);
	imap_part_ref_deinit(&ref);
	free(spec);
	spec = ones(65, "");
	fetch(msg, len, spec, &ref);
	assert_false(ref.missing);
	assert_memory_equal(ref.data, "Subject: level 65\r\n", 19);
	imap_part_ref_deinit(&ref);
	free(spec);
	spec = ones(66, "");
	fetch(msg, len, spec, &ref);
	assert_true(ref.missing);
	imap_part_ref_deinit(&ref);
	free(spec);
	free(msg);
}

/* ------------------------------------------------------------------ */
/* HEADER.FIELDS                                                       */

static const char hdr_msg[] =
    "Received: from x by y\r\n"
    "\tfor <b@example.test>\r\n"
    "From: A <a@example.test>\r\n"
    "subject: folded\r\n"
    "  over two lines\r\n"
    "To: b@example.test\r\n"
    "SUBJECT : second subject\r\n"
    "not a field line\r\n"
    " continuation of nothing\r\n"
    "X-Empty:\r\n"
    "From sender Tue Jan 1\r\n"
    "To: c@example.test\r\n"
    "\r\n"
    "Subject: in the body\r\n";

static void
header_fields_match_any_case_and_keep_folding_and_order(void **state)
{
	static const struct {
		const char	*spec;
		const char	*want;
	} cases[] = {
		{ "HEADER.FIELDS (Subject)",
		  "subject: folded\r\n  over two lines\r\n"
		  "SUBJECT : second subject\r\n\r\n" },
		{ "HEADER.FIELDS (TO FROM)",
		  "From: A <a@example.test>\r\nTo: b@example.test\r\n"
		  "To: c@example.test\r\n\r\n" },
		{ "HEADER.FIELDS (received)",
		  "Received: from x by y\r\n\tfor <b@example.test>\r\n\r\n" },
		{ "HEADER.FIELDS (x-empty)", "X-Empty:\r\n\r\n" },
		{ "HEADER.FIELDS (X-Absent)", "\r\n" },
		/* "Subj" is not "Subject": the match is exact */
		{ "HEADER.FIELDS (Subj From:)", "\r\n" },
		{ "HEADER.FIELDS.NOT (Received Subject To)",
		  "From: A <a@example.test>\r\nX-Empty:\r\n\r\n" },
		{ "HEADER.FIELDS.NOT (X-Nothing)",
		  "Received: from x by y\r\n\tfor <b@example.test>\r\n"
		  "From: A <a@example.test>\r\n"
		  "subject: folded\r\n  over two lines\r\n"
		  "To: b@example.test\r\n"
		  "SUBJECT : second subject\r\n"
		  "X-Empty:\r\n"
		  "To: c@example.test\r\n\r\n" },
	};
	struct imap_part_ref ref;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		fetch(S(hdr_msg), cases[i].spec, &ref);
		check_bytes(cases[i].spec, ref.data, ref.len, cases[i].want,
		    strlen(cases[i].want));
		assert_false(ref.missing);
		imap_part_ref_deinit(&ref);
	}
}

static void
header_fields_make_line_ends_crlf_and_drop_nul(void **state)
{
	static const char msg[] =
	    "Subject: lf\n folded\nX-Nul: a\0b\r\nTo: x\r\n\nbody";
	struct imap_part_ref ref;

	fetch(msg, sizeof(msg) - 1, "HEADER.FIELDS (subject x-nul)", &ref);
	check_bytes("lf and nul", ref.data, ref.len,
	    S("Subject: lf\r\n folded\r\nX-Nul: ab\r\n\r\n"));
	imap_part_ref_deinit(&ref);
}

static void
header_filter_works_on_the_cached_header_fields_too(void **state)
{
	struct mime_summary sum;
	struct imap_section sec;
	struct imap_part_ref ref;
	struct buf b;

	mime_summarize(hdr_msg, sizeof(hdr_msg) - 1, &sum);
	parse_ok("HEADER.FIELDS (From To Subject)", &sec);
	buf_init(&b, 0);
	imap_section_header_filter(sum.header_fields,
	    strlen(sum.header_fields), &sec, true, &b);
	imap_section_fetch(hdr_msg, sizeof(hdr_msg) - 1, &sec, &ref);
	check_bytes("cache vs message", buf_ptr(&b), buf_avail(&b),
	    ref.data, ref.len);
	imap_part_ref_deinit(&ref);
	buf_reset(&b);
	/* without the blank line */
	imap_section_header_filter(S("To: x\r\n"), &sec, false, &b);
	check_bytes("no blank", buf_ptr(&b), buf_avail(&b), S("To: x\r\n"));
	buf_deinit(&b);
	imap_section_deinit(&sec);
	mime_summary_deinit(&sum);
}

/* ------------------------------------------------------------------ */
/* partial fetches                                                     */

static void
partial_fetches_are_cut_at_the_end_of_the_text(void **state)
{
	static const char msg[] = "Subject: p\r\n\r\n0123456789";
	static const struct {
		const char	*spec;
		const char	*partial;
		const char	*want;
	} cases[] = {
		{ "TEXT", "0.4", "0123" },
		{ "TEXT", "0.10", "0123456789" },
		{ "TEXT", "0.2048", "0123456789" },
		{ "TEXT", "8.10", "89" },
		{ "TEXT", "9.1", "9" },
		{ "TEXT", "10.1", "" },
		{ "TEXT", "11.5", "" },
		{ "TEXT", "18446744073.1", "" },
		{ "", "0.10", "Subject: p" },
		{ "", "12.4", "\r\n01" },
		{ "1", "3.3", "345" },
		/* after subsetting the header */
		{ "HEADER.FIELDS (Subject)", "9.100", "p\r\n\r\n" },
		{ "HEADER.FIELDS (X)", "0.1", "\r" },
		{ "HEADER.FIELDS (X)", "2.1", "" },
		{ "9", "0.5", "" },
	};
	struct imap_section sec;
	struct imap_part_ref ref;
	const char *err;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		parse_ok(cases[i].spec, &sec);
		assert_int_equal(imap_section_parse_partial(cases[i].partial,
		    strlen(cases[i].partial), &sec, &err), 0);
		imap_section_fetch(msg, sizeof(msg) - 1, &sec, &ref);
		check_bytes(cases[i].partial, ref.data, ref.len, cases[i].want,
		    strlen(cases[i].want));
		imap_part_ref_deinit(&ref);
		imap_section_deinit(&sec);
	}
}

static void
the_partial_helper_clamps_origin_and_count(void **state)
{
	static const struct {
		size_t		 total;
		uint64_t	 origin, count;
		size_t		 off, len;
	} cases[] = {
		{ 10, 0, 10, 0, 10 },
		{ 10, 0, 11, 0, 10 },
		{ 10, 9, 1, 9, 1 },
		{ 10, 9, 2, 9, 1 },
		{ 10, 10, 1, 10, 0 },
		{ 10, UINT64_MAX, UINT64_MAX, 10, 0 },
		{ 10, 3, UINT64_MAX, 3, 7 },
		{ 0, 0, 1, 0, 0 },
	};
	size_t i, off, len;

	for (i = 0; i < NELEM(cases); i++) {
		imap_section_partial(cases[i].total, cases[i].origin,
		    cases[i].count, &off, &len);
		if (off != cases[i].off || len != cases[i].len)
			fail_msg("case %zu: got %zu+%zu, want %zu+%zu", i, off,
			    len, cases[i].off, cases[i].len);
	}
}

/* ------------------------------------------------------------------ */
/* BINARY                                                              */

/* decode_all - decode p with cte in one read, or in reads of step */
static size_t
decode_all(enum imap_cte cte, const char *p, size_t n, char *out,
    size_t outsz, size_t step, bool *errors_r)
{
	struct imap_decoder d;
	size_t got = 0, k;

	imap_decoder_init(&d, cte, p, n);
	while ((k = imap_decoder_read(&d, out + got, step < outsz - got ?
	    step : outsz - got)) > 0)
		got += k;
	*errors_r = d.errors;
	return got;
}

static void
base64_is_decoded_leniently_and_errors_are_noted(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
		size_t		 wlen;
		bool		 errors;
	} cases[] = {
		{ "aGVsbG8=", S("hello"), false },
		{ "aGVs\r\nbG8=\r\n", S("hello"), false },
		{ "aGVs\nbG8=\n", S("hello"), false },
		{ " aGVs bG8= \t", S("hello"), false },
		{ "aGVsbG8", S("hello"), false },
		{ "aGVsbA==", S("hell"), false },
		{ "aGVsbA", S("hell"), false },
		{ "AAECAw==", S("\0\1\2\3"), false },
		{ "//79", S("\xff\xfe\xfd"), false },
		{ "aGV*sbG8=", S("hello"), true },
		{ "aGV\xffsbG8=", S("hello"), true },
		{ "aGVs.bG8-=", S("hello"), true },
		/* the padding ends the data: a list footer is not data */
		{ "aGVsbG8=\r\n-- \r\nList footer\r\n", S("hello"), false },
		{ "aGVsbA==aGVsbA==", S("hell"), false },
		/* a lone final character cannot make a byte */
		{ "aGVsbG8hQ", S("hello!"), true },
		{ "Q", S(""), true },
		{ "Q=", S(""), true },
		{ "QQ", S("A"), false },
		{ "", S(""), false },
		{ "====", S(""), false },
	};
	char out[256], out1[256];
	size_t i, got, got1;
	bool errors, errors1;

	for (i = 0; i < NELEM(cases); i++) {
		got = decode_all(IMAP_CTE_BASE64, cases[i].in,
		    strlen(cases[i].in), out, sizeof(out), sizeof(out),
		    &errors);
		check_bytes(cases[i].in, out, got, cases[i].want,
		    cases[i].wlen);
		if (errors != cases[i].errors)
			fail_msg("\"%s\": got errors %d, want %d",
			    esc(cases[i].in, strlen(cases[i].in)), errors,
			    cases[i].errors);
		/* byte at a time gives the same */
		got1 = decode_all(IMAP_CTE_BASE64, cases[i].in,
		    strlen(cases[i].in), out1, sizeof(out1), 1, &errors1);
		check_bytes("one at a time", out1, got1, out, got);
		assert_int_equal(errors1, errors);
	}
}

static void
quoted_printable_is_decoded_with_soft_breaks(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
		size_t		 wlen;
		bool		 errors;
	} cases[] = {
		{ "a=3Db", S("a=b"), false },
		{ "soft=\r\nbreak", S("softbreak"), false },
		{ "soft=\nbreak", S("softbreak"), false },
		{ "soft= \t\r\nbreak", S("softbreak"), false },
		{ "end=", S("end"), false },
		{ "end=  ", S("end"), false },
		{ "line\r\nnext", S("line\r\nnext"), false },
		{ "bare lf\nnext", S("bare lf\r\nnext"), false },
		{ "trailing   \r\nx", S("trailing\r\nx"), false },
		{ "trailing \t\nx", S("trailing\r\nx"), false },
		{ "tail  ", S("tail"), false },
		{ "in  side", S("in  side"), false },
		{ "=E9t=C3=A9", S("\xe9t\xc3\xa9"), false },
		{ "=e9t=c3=a9", S("\xe9t\xc3\xa9"), false },
		{ "=00=0D=0A", S("\0\r\n"), false },
		{ "bad=ZZ", S("bad=ZZ"), true },
		{ "bad=4", S("bad=4"), true },
		{ "bad=4G", S("bad=4G"), true },
		{ "raw \xff byte", S("raw \xff byte"), false },
		{ "lone\rcr", S("lone\rcr"), false },
		{ "cr at end\r", S("cr at end\r\n"), false },
		{ "=\r\n=\r\n", S(""), false },
		{ "", S(""), false },
	};
	char out[256], out1[256];
	size_t i, got, got1;
	bool errors, errors1;

	for (i = 0; i < NELEM(cases); i++) {
		got = decode_all(IMAP_CTE_QP, cases[i].in, strlen(cases[i].in),
		    out, sizeof(out), sizeof(out), &errors);
		check_bytes(cases[i].in, out, got, cases[i].want,
		    cases[i].wlen);
		if (errors != cases[i].errors)
			fail_msg("\"%s\": got errors %d, want %d",
			    esc(cases[i].in, strlen(cases[i].in)), errors,
			    cases[i].errors);
		got1 = decode_all(IMAP_CTE_QP, cases[i].in,
		    strlen(cases[i].in), out1, sizeof(out1), 1, &errors1);
		check_bytes("one at a time", out1, got1, out, got);
		assert_int_equal(errors1, errors);
	}
}

static void
transfer_encoding_names_are_recognised(void **state)
{
	static const struct {
		const char	*value;
		int		 ret;
		enum imap_cte	 cte;
	} cases[] = {
		{ "7bit", 0, IMAP_CTE_IDENTITY },
		{ " 8BIT ", 0, IMAP_CTE_IDENTITY },
		{ "Binary", 0, IMAP_CTE_IDENTITY },
		{ "", 0, IMAP_CTE_IDENTITY },
		{ "(just a comment)", 0, IMAP_CTE_IDENTITY },
		{ "base64", 0, IMAP_CTE_BASE64 },
		{ "(enc) BASE64 (trailing)", 0, IMAP_CTE_BASE64 },
		{ "\r\n base64", 0, IMAP_CTE_BASE64 },
		{ "Quoted-Printable", 0, IMAP_CTE_QP },
		{ "x-uuencode", -1, 0 },
		{ "base65", -1, 0 },
		{ "quoted-printablex", -1, 0 },
	};
	enum imap_cte cte;
	size_t i;
	int r;

	for (i = 0; i < NELEM(cases); i++) {
		cte = IMAP_CTE_IDENTITY;
		r = imap_cte_parse(cases[i].value, strlen(cases[i].value),
		    &cte);
		if (r != cases[i].ret || (r == 0 && cte != cases[i].cte))
			fail_msg("\"%s\": got %d/%d, want %d/%d",
			    esc(cases[i].value, strlen(cases[i].value)), r,
			    cte, cases[i].ret, cases[i].cte);
	}
}

static const char bin_msg[] =
    "Content-Type: multipart/mixed; boundary=z\r\n"
    "\r\n"
    "--z\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "caf\xe9 \x80\xff\0nul\rcr\r\n"
    "--z\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: BASE64\r\n"
    "\r\n"
    "aGVsbG8g\r\n"
    "d29ybGQ=\r\n"
    "--z\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9 soft=\r\n"
    "break  \r\n"
    "end\r\n"
    "--z\r\n"
    "Content-Type: application/x-thing\r\n"
    "Content-Transfer-Encoding: x-uuencode\r\n"
    "\r\n"
    "begin 644 x\r\n"
    "--z\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aW5uZXI=\r\n"
    "--z\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aGV*sbG8=\r\n"
    "--z--\r\n";

static void
binary_sections_are_decoded_by_their_encoding(void **state)
{
	static const struct {
		const char	*spec;
		const char	*want;
		size_t		 wlen;
		bool		 in_msg;	/* a range of the message */
		bool		 errors;
		bool		 missing;
	} cases[] = {
		{ "1", S("caf\xe9 \x80\xff\0nul\rcr"), true, false, false },
		{ "2", S("hello world"), false, false, false },
		{ "3", S("caf\xc3\xa9 softbreak\r\nend"), false, false,
		  false },
		/* a message/rfc822 part as is, its own encoding inside */
		{ "5", S("Subject: inner\r\nContent-Transfer-Encoding: "
		  "base64\r\n\r\naW5uZXI="), true, false, false },
		{ "5.1", S("inner"), false, false, false },
		{ "6", S("hello"), false, true, false },
		{ "7", S(""), false, false, true },
		{ "1.1", S(""), false, false, true },
	};
	struct imap_section sec;
	struct imap_part_ref ref;
	const char *err;
	uint64_t size;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		parse_ok(cases[i].spec, &sec);
		assert_true(imap_section_is_binary(&sec));
		err = NULL;
		assert_int_equal(imap_section_binary(S(bin_msg), &sec, &ref,
		    &err), 0);
		check_bytes(cases[i].spec, ref.data, ref.len, cases[i].want,
		    cases[i].wlen);
		if (cases[i].in_msg && (ref.data < bin_msg || ref.data >
		    bin_msg + sizeof(bin_msg)))
			fail_msg("%s: got a copy, want a range of the message",
			    cases[i].spec);
		if (ref.decode_errors != cases[i].errors ||
		    ref.missing != cases[i].missing)
			fail_msg("%s: got errors %d missing %d, want %d %d",
			    cases[i].spec, ref.decode_errors, ref.missing,
			    cases[i].errors, cases[i].missing);
		imap_part_ref_deinit(&ref);
		/* BINARY.SIZE is the size BINARY returns */
		assert_int_equal(imap_section_binary_size(S(bin_msg), &sec,
		    &size, &err), 0);
		if (size != cases[i].wlen)
			fail_msg("BINARY.SIZE[%s]: got %llu, want %zu",
			    cases[i].spec, (unsigned long long)size,
			    cases[i].wlen);
		imap_section_deinit(&sec);
	}
	/* BINARY[] is the whole message, as is */
	parse_ok("", &sec);
	assert_int_equal(imap_section_binary(S(bin_msg), &sec, &ref, &err),
	    0);
	assert_ptr_equal(ref.data, bin_msg);
	assert_int_equal(ref.len, sizeof(bin_msg) - 1);
	imap_part_ref_deinit(&ref);
	imap_section_deinit(&sec);
}

static void
an_unknown_transfer_encoding_is_an_error(void **state)
{
	struct imap_section sec;
	struct imap_part_ref ref;
	struct imap_decoder d;
	const char *err = NULL;
	uint64_t size = 7;

	parse_ok("4", &sec);
	assert_int_equal(imap_section_binary(S(bin_msg), &sec, &ref, &err),
	    -1);
	assert_string_equal(err, "Unknown Content-Transfer-Encoding");
	err = NULL;
	assert_int_equal(imap_section_binary_size(S(bin_msg), &sec, &size,
	    &err), -1);
	assert_non_null(err);
	assert_int_equal(size, 7);
	err = NULL;
	assert_int_equal(imap_section_binary_open(S(bin_msg), &sec, &d,
	    &err), -1);
	assert_non_null(err);
	imap_section_deinit(&sec);
	/* BODY[4] still works: it does not decode */
	fetch(S(bin_msg), "4", &ref);
	check_bytes("BODY[4]", ref.data, ref.len, S("begin 644 x"));
	imap_part_ref_deinit(&ref);
}

static void
binary_partials_count_decoded_bytes(void **state)
{
	static const struct {
		const char	*spec;
		const char	*partial;
		const char	*want;
	} cases[] = {
		{ "2", "6.5", "world" },
		{ "2", "6.100", "world" },
		{ "2", "0.1", "h" },
		{ "2", "11.1", "" },
		{ "2", "50.1", "" },
		{ "3", "5.4", " sof" },
		{ "1", "0.3", "caf" },
		{ "7", "0.3", "" },
	};
	struct imap_section sec;
	struct imap_part_ref ref;
	const char *err;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		parse_ok(cases[i].spec, &sec);
		assert_int_equal(imap_section_parse_partial(cases[i].partial,
		    strlen(cases[i].partial), &sec, &err), 0);
		assert_int_equal(imap_section_binary(S(bin_msg), &sec, &ref,
		    &err), 0);
		check_bytes(cases[i].partial, ref.data, ref.len, cases[i].want,
		    strlen(cases[i].want));
		imap_part_ref_deinit(&ref);
		imap_section_deinit(&sec);
	}
}

static void
a_big_part_streams_through_the_decoder_in_pieces(void **state)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct imap_section sec;
	struct imap_part_ref whole;
	struct imap_decoder d;
	struct buf msg, streamed;
	const char *err;
	char chunk[1000], tail[8];
	uint64_t size;
	size_t k, i, lines = 2000;
	bool e;

	/* 2000 lines of 76 characters: 57 bytes each */
	buf_init(&msg, 0);
	buf_append_str(&msg, "Content-Transfer-Encoding: base64\r\n\r\n");
	for (i = 0; i < lines; i++) {
		buf_append(&msg, alphabet, 64);
		buf_append(&msg, alphabet, 12);
		buf_append_str(&msg, "\r\n");
	}
	parse_ok("1", &sec);
	assert_int_equal(imap_section_binary_size(buf_ptr(&msg),
	    buf_avail(&msg), &sec, &size, &err), 0);
	assert_int_equal(size, lines * 57);
	assert_int_equal(imap_section_binary(buf_ptr(&msg), buf_avail(&msg),
	    &sec, &whole, &err), 0);
	assert_int_equal(whole.len, size);

	/* in odd-sized pieces: the same bytes */
	buf_init(&streamed, 0);
	assert_int_equal(imap_section_binary_open(buf_ptr(&msg),
	    buf_avail(&msg), &sec, &d, &err), 0);
	while ((k = imap_decoder_read(&d, chunk, 999)) > 0)
		buf_append(&streamed, chunk, k);
	check_bytes("streamed", buf_ptr(&streamed), buf_avail(&streamed),
	    whole.data, whole.len);
	assert_false(d.errors);

	/* skipping then reading gives the tail: the last group of each
	 * line is "IJKL" */
	assert_int_equal(imap_section_binary_open(buf_ptr(&msg),
	    buf_avail(&msg), &sec, &d, &err), 0);
	assert_int_equal(imap_decoder_skip(&d, size - 3), size - 3);
	k = imap_decoder_read(&d, chunk, sizeof(chunk));
	assert_int_equal(decode_all(IMAP_CTE_BASE64, "IJKL", 4, tail,
	    sizeof(tail), sizeof(tail), &e), 3);
	check_bytes("tail", chunk, k, tail, 3);
	assert_int_equal(imap_decoder_read(&d, chunk, sizeof(chunk)), 0);
	assert_int_equal(imap_decoder_skip(&d, 10), 0);

	imap_part_ref_deinit(&whole);
	buf_deinit(&streamed);
	imap_section_deinit(&sec);
	buf_deinit(&msg);
}

/* exact_copy - a heap copy of exactly n bytes, so ASan sees overreads */
static char *
exact_copy(const char *p, size_t n)
{
	char *c = malloc(n > 0 ? n : 1);

	assert_non_null(c);
	memcpy(c, p, n);
	return c;
}

/* fetch_all_in_bounds - fetch and decode a set of sections of msg;
 * every answer lies in msg or in its own buffer */
static void
fetch_all_in_bounds(const char *msg, size_t len)
{
	static const char *const specs[] = {
		"", "HEADER", "TEXT", "1", "2", "3", "3.HEADER", "3.1",
		"4.1.MIME", "4.2.TEXT", "4.2.2.2",
		"HEADER.FIELDS (From Subject)", "3.HEADER.FIELDS.NOT (From)",
	};
	struct imap_section sec;
	struct imap_part_ref ref;
	const char *err;
	uint64_t size;
	size_t i;

	for (i = 0; i < NELEM(specs); i++) {
		parse_ok(specs[i], &sec);
		imap_section_fetch(msg, len, &sec, &ref);
		if (ref.len > 0 && ref.buf.data == NULL && (ref.data < msg ||
		    ref.data + ref.len > msg + len))
			fail_msg("%s: answer outside the message", specs[i]);
		imap_part_ref_deinit(&ref);
		if (imap_section_is_binary(&sec) &&
		    imap_section_binary(msg, len, &sec, &ref, &err) == 0) {
			assert_int_equal(imap_section_binary_size(msg, len,
			    &sec, &size, &err), 0);
			assert_int_equal(size, ref.len);
			imap_part_ref_deinit(&ref);
		}
		imap_section_deinit(&sec);
	}
}

static void
every_prefix_and_byte_flip_of_a_message_stays_consistent(void **state)
{
	static const unsigned char flips[] = {
		'\0', '\r', '\n', '-', '"', ';', ' ', 0xff,
	};
	size_t n = sizeof(rfc_msg) - 1, i, k;
	char *copy, what[64];

	for (i = 0; i <= n; i++) {
		copy = exact_copy(rfc_msg, i);
		snprintf(what, sizeof(what), "prefix %zu", i);
		check_sizes_agree(what, copy, i);
		fetch_all_in_bounds(copy, i);
		free(copy);
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < sizeof(flips); k++) {
			copy = exact_copy(rfc_msg, n);
			copy[i] = (char)flips[k];
			snprintf(what, sizeof(what), "byte %zu = 0x%02x", i,
			    flips[k]);
			check_sizes_agree(what, copy, n);
			fetch_all_in_bounds(copy, n);
			free(copy);
		}
	}
}

static void
every_prefix_and_flip_of_a_section_parses_or_fails(
    void **state)
{
	static const char spec[] =
	    "4.2.HEADER.FIELDS.NOT (From \"X y\" {3}\r\na]b Message-ID)";
	static const unsigned char flips[] = {
		'\0', '\r', '\n', '.', '"', '\\', '(', ')', ' ', '{', '}',
		']', '0', '9', 0xff,
	};
	struct imap_section sec, again;
	const char *err;
	struct buf b;
	size_t n = sizeof(spec) - 1, i, k;
	long end;
	char *copy;

	for (i = 0; i <= n + sizeof(flips) * n; i++) {
		if (i <= n)
			copy = exact_copy(spec, i);
		else {
			copy = exact_copy(spec, n);
			copy[(i - n - 1) / sizeof(flips)] =
			    (char)flips[(i - n - 1) % sizeof(flips)];
		}
		k = i <= n ? i : n;
		end = imap_section_scan_end(copy, k);
		assert_true(end < (long)k);
		if (imap_section_parse(copy, k, &sec, &err) == 0) {
			/* what is printed back parses to the same */
			buf_init(&b, 0);
			assert_int_equal(imap_section_format(&b, "", &sec), 0);
			assert_int_equal(imap_section_parse(buf_ptr(&b) + 1,
			    buf_avail(&b) - 2, &again, &err), 0);
			assert_int_equal(again.kind, sec.kind);
			assert_int_equal(again.nparts, sec.nparts);
			assert_int_equal(again.nfields, sec.nfields);
			for (k = 0; k < sec.nfields; k++)
				assert_string_equal(again.fields[k],
				    sec.fields[k]);
			imap_section_deinit(&again);
			imap_section_deinit(&sec);
			buf_deinit(&b);
		} else
			assert_non_null(err);
		free(copy);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    section_specs_parse_into_part_numbers_kind_and_fields),
		cmocka_unit_test(malformed_section_specs_are_refused),
		cmocka_unit_test(
		    part_specifiers_are_bounded_at_the_maximum_depth),
		cmocka_unit_test(header_field_lists_are_bounded),
		cmocka_unit_test(partial_ranges_parse_and_refuse_zero_counts),
		cmocka_unit_test(sections_print_back_in_canonical_form),
		cmocka_unit_test(
		    the_end_of_a_section_is_found_past_quotes_and_literals),
		cmocka_unit_test(rfc3501_example_parts_are_found),
		cmocka_unit_test(parts_that_do_not_exist_are_empty_strings),
		cmocka_unit_test(
		    big_parts_point_into_the_message_instead_of_being_copied),
		cmocka_unit_test(
		    every_part_has_the_size_bodystructure_gives_it),
		cmocka_unit_test(digest_parts_without_a_type_are_messages),
		cmocka_unit_test(part_one_of_a_single_part_message_is_its_body),
		cmocka_unit_test(
		    broken_mime_is_split_as_bodystructure_splits_it),
		cmocka_unit_test(deep_nesting_stops_at_the_depth_limit),
		cmocka_unit_test(
		    header_fields_match_any_case_and_keep_folding_and_order),
		cmocka_unit_test(
		    header_fields_make_line_ends_crlf_and_drop_nul),
		cmocka_unit_test(
		    header_filter_works_on_the_cached_header_fields_too),
		cmocka_unit_test(
		    partial_fetches_are_cut_at_the_end_of_the_text),
		cmocka_unit_test(the_partial_helper_clamps_origin_and_count),
		cmocka_unit_test(
		    base64_is_decoded_leniently_and_errors_are_noted),
		cmocka_unit_test(quoted_printable_is_decoded_with_soft_breaks),
		cmocka_unit_test(transfer_encoding_names_are_recognised),
		cmocka_unit_test(
		    binary_sections_are_decoded_by_their_encoding),
		cmocka_unit_test(an_unknown_transfer_encoding_is_an_error),
		cmocka_unit_test(binary_partials_count_decoded_bytes),
		cmocka_unit_test(
		    a_big_part_streams_through_the_decoder_in_pieces),
		cmocka_unit_test(
		    every_prefix_and_byte_flip_of_a_message_stays_consistent),
		cmocka_unit_test(
		    every_prefix_and_flip_of_a_section_parses_or_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
