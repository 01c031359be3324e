/* test_mime.c - unit tests for common/mime.c */
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

#include "mime.h"

/*
 * imap_check - is s one well-formed IMAP value list as ENVELOPE and
 * BODYSTRUCTURE are made of: "(" items ")" where an item is NIL, a
 * number, a quoted string, a literal or a list.  Returns NULL when it is,
 * else a description of the first fault.
 */
static const char *
imap_check(const char *s, size_t n)
{
	size_t i = 0, depth = 0, lit, k;

	if (n == 0 || s[0] != '(')
		return "does not start with (";
	while (i < n) {
		switch (s[i]) {
		case '(':
			depth++;
			i++;
			break;
		case ')':
			if (depth == 0)
				return "unbalanced )";
			depth--;
			i++;
			if (depth == 0 && i != n)
				return "text after the closing )";
			break;
		case ' ':
			if (i == 0 || s[i - 1] == '(' || s[i - 1] == ' ')
				return "stray space";
			i++;
			break;
		case '"':
			for (i++; i < n && s[i] != '"'; i++) {
				unsigned char c = (unsigned char)s[i];

				if (c == '\\') {
					i++;
					if (i >= n || (s[i] != '"' &&
					    s[i] != '\\'))
						return "bad escape";
				} else if (c == '\0' || c == '\r' ||
				    c == '\n' || c >= 0x80)
					return "bad byte in quoted string";
			}
			if (i >= n)
				return "unterminated quoted string";
			i++;
			break;
		case '{':
			lit = 0;
			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				lit = lit * 10 + (size_t)(s[i] - '0');
			if (i + 3 > n || memcmp(s + i, "}\r\n", 3) != 0)
				return "bad literal header";
			i += 3;
			if (lit > n - i)
				return "literal runs past the end";
			for (k = 0; k < lit; k++) {
				if (s[i + k] == '\0')
					return "NUL in literal";
			}
			i += lit;
			break;
		case 'N':
			if (n - i < 3 || memcmp(s + i, "NIL", 3) != 0)
				return "bad atom";
			i += 3;
			break;
		default:
			if (s[i] < '0' || s[i] > '9')
				return "unexpected byte";
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
			break;
		}
		if (i < n && depth > 0 && s[i] != ' ' && s[i] != ')' &&
		    s[i] != '(' && s[i - 1] != '(' && s[i - 1] != ' ')
			return "items not separated";
	}
	return depth == 0 ? NULL : "unbalanced (";
}

/* summarize and check that every IMAP string is well formed */
static void
summarize_checked(const char *msg, size_t len, struct mime_summary *sum)
{
	const char *err;

	mime_summarize(msg, len, sum);
	assert_non_null(sum->envelope);
	assert_non_null(sum->bodystructure);
	assert_non_null(sum->body);
	assert_non_null(sum->header_fields);
	assert_non_null(sum->base_subject);
	if ((err = imap_check(sum->envelope, strlen(sum->envelope))) != NULL)
		fail_msg("envelope %s: got %s", err, sum->envelope);
	if ((err = imap_check(sum->bodystructure,
	    strlen(sum->bodystructure))) != NULL)
		fail_msg("bodystructure %s: got %s", err, sum->bodystructure);
	if ((err = imap_check(sum->body, strlen(sum->body))) != NULL)
		fail_msg("body %s: got %s", err, sum->body);
	if (sum->header_size > len)
		fail_msg("header_size: got %zu, want <= %zu",
		    sum->header_size, len);
}

static const char rfc3501_msg[] =
    "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
    "From: Terry Gray <gray@cac.washington.edu>\r\n"
    "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
    "To: imap@cac.washington.edu\r\n"
    "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
    "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    "\r\n"
    "Hello\r\n"
    "world\r\n";

static const char mixed_msg[] =
    "From: a@example.org\r\n"
    "Subject: mixed\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XX\r\n"
    "\r\n"
    "Hi\r\n"
    "--XX\r\n"
    "Content-Type: application/pdf; name=\"a b.pdf\"\r\n"
    "Content-Disposition: attachment;\r\n"
    "  filename=\"a b.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-ID: <cid1@x>\r\n"
    "Content-Description: the report\r\n"
    "Content-Language: en, de\r\n"
    "\r\n"
    "AAAA\r\n"
    "AAAA\r\n"
    "--XX--\r\n"
    "epilogue\r\n";

static const char nested_msg[] =
    "From: a@example.org\r\n"
    "Content-Type: multipart/mixed; boundary=outer\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"outer-inner\"\r\n"
    "\r\n"
    "--outer-inner\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "plain\r\n"
    "--outer-inner\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<p>html</p>\r\n"
    "<p>2</p>\r\n"
    "--outer-inner--\r\n"
    "--outer\r\n"
    "Content-Type: image/png\r\n"
    "Content-Location: http://x/a.png\r\n"
    "\r\n"
    "PNG\r\n"
    "--outer--\r\n";

static const char rfc822_msg[] =
    "From: a@example.org\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "see attached\r\n"
    "--b\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: Inner <inner@x.y>\r\n"
    "Subject: inner\r\n"
    "Message-ID: <in@x.y>\r\n"
    "\r\n"
    "body\r\n"
    "--b--\r\n";

static const char group_msg[] =
    "From: Boss <boss@example.org>\r\n"
    "To: Team: a@b.c, \"B\" <b@c.d>;, solo@x.y\r\n"
    "Cc: undisclosed-recipients:;\r\n"
    "\r\n";

static const char quoted_msg[] =
    "From: \"Joe \\\"Q\\\" Back\\\\slash\" <joe@x.org>\r\n"
    "Subject: a \"quoted\" \\ subject\r\n"
    "\r\n";

static const char eightbit_msg[] =
    "Subject: J\xc3\xb6rg\r\n"
    "From: J\xc3\xb6rg <j@x.org>\r\n"
    "\r\n"
    "b\xc3\xb6\r\n";

static const char nofrom_msg[] =
    "Subject: no date, no from\r\n"
    "To: x@y.z\r\n"
    "\r\n"
    "text\r\n";

static const char bare_lf_msg[] =
    "From: a@b.c\n"
    "Subject: bare\n"
    "Content-Type: multipart/mixed; boundary=z\n"
    "\n"
    "--z\n"
    "\n"
    "one\n"
    "two\n"
    "--z--\n";

static const char digest_msg[] =
    "Content-Type: multipart/digest; boundary=d\r\n"
    "\r\n"
    "--d\r\n"
    "\r\n"
    "Subject: d1\r\n"
    "\r\n"
    "x\r\n"
    "--d--\r\n";

static const char noboundary_msg[] =
    "Content-Type: multipart/mixed\r\n"
    "\r\n"
    "text\r\n";

static const char nodelim_msg[] =
    "Content-Type: multipart/mixed; boundary=q\r\n"
    "\r\n"
    "no parts here\r\n";

static const char badctype_msg[] =
    "Content-Type: text\r\n"
    "\r\n"
    "x";

static const struct {
	const char	*what;
	const char	*msg;
	size_t		 len;
	const char	*envelope;
	const char	*bodystructure;
	const char	*body;
} struct_cases[] = {
	{ "simple text", rfc3501_msg, sizeof(rfc3501_msg) - 1,
	  "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
	  "\"IMAP4rev1 WG mtg summary and minutes\" "
	  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	  "((NIL NIL \"imap\" \"cac.washington.edu\")) "
	  "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
	  "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
	  "\"<B27397-0100000@cac.washington.edu>\")",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7bit\" "
	  "14 2 NIL NIL NIL NIL)",
	  "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7bit\" "
	  "14 2)" },
	{ "multipart/mixed with an attachment", mixed_msg,
	  sizeof(mixed_msg) - 1,
	  "(NIL \"mixed\" ((NIL NIL \"a\" \"example.org\")) "
	  "((NIL NIL \"a\" \"example.org\")) "
	  "((NIL NIL \"a\" \"example.org\")) NIL NIL NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "2 1 NIL NIL NIL NIL)"
	  "(\"application\" \"pdf\" (\"name\" \"a b.pdf\") \"<cid1@x>\" "
	  "\"the report\" \"base64\" 10 NIL (\"attachment\" "
	  "(\"filename\" \"a b.pdf\")) (\"en\" \"de\") NIL) \"mixed\" "
	  "(\"boundary\" \"XX\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "2 1)(\"application\" \"pdf\" (\"name\" \"a b.pdf\") "
	  "\"<cid1@x>\" \"the report\" \"base64\" 10) \"mixed\")" },
	{ "multipart/alternative nested in mixed", nested_msg,
	  sizeof(nested_msg) - 1, NULL,
	  "(((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" "
	  "5 1 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") "
	  "NIL NIL \"quoted-printable\" 21 2 NIL NIL NIL NIL) "
	  "\"alternative\" (\"boundary\" \"outer-inner\") NIL NIL NIL)"
	  "(\"image\" \"png\" NIL NIL NIL \"7bit\" 3 NIL NIL NIL "
	  "\"http://x/a.png\") \"mixed\" (\"boundary\" \"outer\") NIL NIL "
	  "NIL)",
	  "(((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" "
	  "5 1)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL "
	  "\"quoted-printable\" 21 2) \"alternative\")(\"image\" \"png\" "
	  "NIL NIL NIL \"7bit\" 3) \"mixed\")" },
	{ "message/rfc822 attachment", rfc822_msg, sizeof(rfc822_msg) - 1,
	  NULL,
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "12 1 NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL "
	  "\"7bit\" 69 (NIL \"inner\" ((\"Inner\" NIL \"inner\" \"x.y\")) "
	  "((\"Inner\" NIL \"inner\" \"x.y\")) "
	  "((\"Inner\" NIL \"inner\" \"x.y\")) NIL NIL NIL NIL "
	  "\"<in@x.y>\") (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL "
	  "NIL \"7bit\" 4 1 NIL NIL NIL NIL) 5 NIL NIL NIL NIL) \"mixed\" "
	  "(\"boundary\" \"b\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "12 1)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 69 (NIL "
	  "\"inner\" ((\"Inner\" NIL \"inner\" \"x.y\")) "
	  "((\"Inner\" NIL \"inner\" \"x.y\")) "
	  "((\"Inner\" NIL \"inner\" \"x.y\")) NIL NIL NIL NIL "
	  "\"<in@x.y>\") (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL "
	  "NIL \"7bit\" 4 1) 5) \"mixed\")" },
	{ "groups in addresses", group_msg, sizeof(group_msg) - 1,
	  "(NIL NIL ((\"Boss\" NIL \"boss\" \"example.org\")) "
	  "((\"Boss\" NIL \"boss\" \"example.org\")) "
	  "((\"Boss\" NIL \"boss\" \"example.org\")) "
	  "((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"b.c\")"
	  "(\"B\" NIL \"b\" \"c.d\")(NIL NIL NIL NIL)"
	  "(NIL NIL \"solo\" \"x.y\")) "
	  "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	  "NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "0 0 NIL NIL NIL NIL)", NULL },
	{ "quoted names with quote and backslash", quoted_msg,
	  sizeof(quoted_msg) - 1,
	  "(NIL \"a \\\"quoted\\\" \\\\ subject\" "
	  "((\"Joe \\\"Q\\\" Back\\\\slash\" NIL \"joe\" \"x.org\")) "
	  "((\"Joe \\\"Q\\\" Back\\\\slash\" NIL \"joe\" \"x.org\")) "
	  "((\"Joe \\\"Q\\\" Back\\\\slash\" NIL \"joe\" \"x.org\")) "
	  "NIL NIL NIL NIL NIL)", NULL, NULL },
	{ "8-bit subject and name become literals", eightbit_msg,
	  sizeof(eightbit_msg) - 1,
	  "(NIL {5}\r\nJ\xc3\xb6rg "
	  "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x.org\")) "
	  "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x.org\")) "
	  "(({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x.org\")) NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "5 1 NIL NIL NIL NIL)", NULL },
	{ "missing Date and From give NIL", nofrom_msg,
	  sizeof(nofrom_msg) - 1,
	  "(NIL \"no date, no from\" NIL NIL NIL "
	  "((NIL NIL \"x\" \"y.z\")) NIL NIL NIL NIL)", NULL, NULL },
	{ "a 0-byte message", "", 0,
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "0 0 NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "0 0)" },
	{ "a message with only headers", "Subject: hi\r\nFrom: a@b", 22,
	  "(NIL \"hi\" ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
	  "((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "0 0 NIL NIL NIL NIL)", NULL },
	{ "bare LF line endings", bare_lf_msg, sizeof(bare_lf_msg) - 1,
	  "(NIL \"bare\" ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) "
	  "((NIL NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "7 2 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"z\") NIL NIL NIL)",
	  NULL },
	{ "digest parts default to message/rfc822", digest_msg,
	  sizeof(digest_msg) - 1, NULL,
	  "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 16 (NIL \"d1\" NIL "
	  "NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" "
	  "\"us-ascii\") NIL NIL \"7bit\" 1 1 NIL NIL NIL NIL) 3 NIL NIL "
	  "NIL NIL) \"digest\" (\"boundary\" \"d\") NIL NIL NIL)", NULL },
	{ "multipart without boundary is a text leaf", noboundary_msg,
	  sizeof(noboundary_msg) - 1, NULL,
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "6 1 NIL NIL NIL NIL)", NULL },
	{ "multipart without delimiters gets one empty part", nodelim_msg,
	  sizeof(nodelim_msg) - 1, NULL,
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "0 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"q\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "0 0) \"mixed\")" },
	{ "a content type without subtype means text/plain", badctype_msg,
	  sizeof(badctype_msg) - 1, NULL,
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	  "1 1 NIL NIL NIL NIL)", NULL },
	{ "NUL bytes are dropped from strings", "Subject: a\0b\r\n\r\n", 15,
	  "(NIL \"ab\" NIL NIL NIL NIL NIL NIL NIL NIL)", NULL, NULL },
	{ "an empty subject is an empty string", "Subject:\r\n\r\n", 12,
	  "(NIL \"\" NIL NIL NIL NIL NIL NIL NIL NIL)", NULL, NULL },
};

static void
structures_match_rfc3501(void **state)
{
	struct mime_summary sum;
	size_t i;

	for (i = 0; i < sizeof(struct_cases) / sizeof(*struct_cases); i++) {
		summarize_checked(struct_cases[i].msg, struct_cases[i].len,
		    &sum);
		if (struct_cases[i].envelope != NULL &&
		    strcmp(sum.envelope, struct_cases[i].envelope) != 0)
			fail_msg("%s: envelope\n got %s\nwant %s",
			    struct_cases[i].what, sum.envelope,
			    struct_cases[i].envelope);
		if (struct_cases[i].bodystructure != NULL &&
		    strcmp(sum.bodystructure,
		    struct_cases[i].bodystructure) != 0)
			fail_msg("%s: bodystructure\n got %s\nwant %s",
			    struct_cases[i].what, sum.bodystructure,
			    struct_cases[i].bodystructure);
		if (struct_cases[i].body != NULL &&
		    strcmp(sum.body, struct_cases[i].body) != 0)
			fail_msg("%s: body\n got %s\nwant %s",
			    struct_cases[i].what, sum.body,
			    struct_cases[i].body);
		mime_summary_deinit(&sum);
		assert_null(sum.envelope);
	}
}

static void
base_subject_follows_rfc5256(void **state)
{
	static const struct {
		const char	*subject;	/* NULL: no Subject field */
		const char	*want;
	} cases[] = {
		{ NULL, "" },
		{ "hello", "hello" },
		{ "Re: hello", "hello" },
		{ "RE: Re: re: hello", "hello" },
		{ "Fwd: hello", "hello" },
		{ "Fw: hello", "hello" },
		{ "FWD:hello", "hello" },
		{ "[list] Re: hello", "hello" },
		{ "Re [list]: hello", "hello" },
		{ "Re: [list] hello", "hello" },
		{ "hello (fwd)", "hello" },
		{ "hello (fwd) (FWD)  ", "hello" },
		{ "[fwd: Re: hello]", "hello" },
		{ "Re: [fwd: Re: x] (fwd)", "x" },
		{ "[list]", "[list]" },
		{ "[a][b]", "[b]" },
		{ "[a] [b] c", "c" },
		{ "Re: ", "" },
		{ "  Re:   spaced\tout  ", "spaced out" },
		{ "folded\r\n subject", "folded subject" },
		{ "Reply to this", "Reply to this" },
		{ "=?utf-8?q?Re=3A_caf=C3=A9?=", "caf\xc3\xa9" },
		{ "=?iso-8859-1?q?R=E9sum=E9?=", "R\xc3\xa9sum\xc3\xa9" },
		{ "Re: =?utf-8?b?w6l0w6k=?= (fwd)", "\xc3\xa9t\xc3\xa9" },
		{ "caf\xe9", "caf?" },
	};
	struct mime_summary sum;
	char msg[256];
	size_t i;
	int n;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		if (cases[i].subject == NULL)
			n = snprintf(msg, sizeof(msg), "From: a@b\r\n\r\n");
		else
			n = snprintf(msg, sizeof(msg), "Subject: %s\r\n\r\n",
			    cases[i].subject);
		assert_true(n > 0 && (size_t)n < sizeof(msg));
		summarize_checked(msg, (size_t)n, &sum);
		if (strcmp(sum.base_subject, cases[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
			    cases[i].subject == NULL ? "(none)" :
			    cases[i].subject, sum.base_subject,
			    cases[i].want);
		mime_summary_deinit(&sum);
	}
}

static void
sent_date_is_utc_and_zero_when_bad(void **state)
{
	static const struct {
		const char	*date;
		time_t		 want;
	} cases[] = {
		{ "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", 837595405 },
		{ "Thu, 1 Jan 2004 00:00:00 +0130", 1072909800 },
		{ "1 Jan 1970 00:00:00 +0000", 0 },
		{ "Sat, 29 Feb 2020 12:00:00 GMT", 1582977600 },
		{ "29 Feb 20 12:00:00 +0000", 1582977600 },
		{ "not a date", 0 },
		{ "", 0 },
		{ "Mon, 32 Jan 2020 00:00:00 +0000", 0 },
	};
	struct mime_summary sum;
	char msg[256];
	size_t i;
	int n;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		n = snprintf(msg, sizeof(msg), "Date: %s\r\n\r\n",
		    cases[i].date);
		summarize_checked(msg, (size_t)n, &sum);
		if (sum.sent_date != cases[i].want)
			fail_msg("\"%s\": got %lld, want %lld", cases[i].date,
			    (long long)sum.sent_date,
			    (long long)cases[i].want);
		mime_summary_deinit(&sum);
	}
	summarize_checked("Subject: x\r\n\r\n", 14, &sum);
	assert_int_equal(sum.sent_date, 0);
	mime_summary_deinit(&sum);
}

static void
message_ids_lose_their_brackets(void **state)
{
	static const char msg[] =
	    "Message-ID:   <mid@host>  \r\n"
	    "In-Reply-To: \"Your message\" <a@b> (comment) <c@d>\r\n"
	    "References: <r1@x>\r\n"
	    " <r2@x> junk <r3 @x> <>\r\n"
	    "\t<r4@x>\r\n"
	    "\r\n";
	struct mime_summary sum;

	summarize_checked(msg, sizeof(msg) - 1, &sum);
	assert_string_equal(sum.message_id, "mid@host");
	assert_string_equal(sum.in_reply_to, "a@b");
	assert_string_equal(sum.references, "r1@x r2@x r4@x");
	mime_summary_deinit(&sum);

	summarize_checked("Subject: x\r\n\r\n", 14, &sum);
	assert_null(sum.message_id);
	assert_null(sum.in_reply_to);
	assert_null(sum.references);
	mime_summary_deinit(&sum);
}

static void
header_fields_keep_cached_fields_with_crlf(void **state)
{
	static const char msg[] =
	    "Received: from x\n"
	    "Subject: folded\n"
	    " line\n"
	    "X-Other: y\n"
	    "To: a@b\r\n"
	    "\n"
	    "Subject: body, not header\n";
	static const char want[] =
	    "Subject: folded\r\n"
	    " line\r\n"
	    "To: a@b\r\n";
	struct mime_summary sum;

	summarize_checked(msg, sizeof(msg) - 1, &sum);
	if (strcmp(sum.header_fields, want) != 0)
		fail_msg("got \"%s\", want \"%s\"", sum.header_fields, want);
	assert_int_equal(sum.header_size, 60);
	mime_summary_deinit(&sum);
}

static void
long_strings_become_literals(void **state)
{
	struct mime_summary sum;
	char *msg, *want;
	size_t n = 3000;

	msg = malloc(n + 32);
	assert_non_null(msg);
	memcpy(msg, "Subject: ", 9);
	memset(msg + 9, 'x', n);
	memcpy(msg + 9 + n, "\r\n\r\n", 4);
	summarize_checked(msg, n + 13, &sum);
	want = malloc(n + 32);
	assert_non_null(want);
	snprintf(want, n + 32, "(NIL {%zu}\r\n", n);
	assert_memory_equal(sum.envelope, want, strlen(want));
	mime_summary_deinit(&sum);
	free(msg);
	free(want);
}

static void
deep_nesting_is_capped(void **state)
{
	struct mime_summary sum;
	char *msg;
	size_t depth = 2000, i, off = 0, cap = depth * 80 + 64, parens;
	const char *p;

	msg = malloc(cap);
	assert_non_null(msg);
	for (i = 0; i < depth; i++)
		off += (size_t)snprintf(msg + off, cap - off,
		    "Content-Type: multipart/mixed; boundary=\"b%zu\"\r\n"
		    "\r\n--b%zu\r\n", i, i);
	off += (size_t)snprintf(msg + off, cap - off, "\r\nleaf\r\n");
	summarize_checked(msg, off, &sum);
	/* one "(" per multipart level, then the leaf's own */
	for (p = sum.bodystructure, parens = 0; *p == '('; p++)
		parens++;
	if (parens != 65)
		fail_msg("nesting: got %zu levels, want 65", parens);
	mime_summary_deinit(&sum);

	/* message/rfc822 inside message/rfc822, without end */
	for (i = off = 0; i < depth; i++)
		off += (size_t)snprintf(msg + off, cap - off,
		    "Content-Type: message/rfc822\r\n\r\n");
	summarize_checked(msg, off, &sum);
	mime_summary_deinit(&sum);
	free(msg);
}

static void
huge_headers_and_many_parts_are_handled(void **state)
{
	struct mime_summary sum;
	char *msg;
	size_t cap = 4 * 1024 * 1024, off = 0, i;

	msg = malloc(cap);
	assert_non_null(msg);
	for (i = 0; off < 1024 * 1024; i++)
		off += (size_t)snprintf(msg + off, cap - off,
		    "X-Filler-%zu: value %zu\r\n", i, i);
	off += (size_t)snprintf(msg + off, cap - off,
	    "Subject: after a megabyte\r\n"
	    "Content-Type: multipart/mixed; boundary=p\r\n\r\n");
	for (i = 0; i < 20000; i++)
		off += (size_t)snprintf(msg + off, cap - off,
		    "--p\r\n\r\nx\r\n");
	summarize_checked(msg, off, &sum);
	assert_string_equal(sum.base_subject, "after a megabyte");
	mime_summary_deinit(&sum);
	free(msg);
}

static const char fuzz_sample[] =
    "From: \"A, B\" <a@b.c>, Group: x@y;\r\n"
    "To: =?utf-8?q?J=C3=B6rg?= <j@x>\r\n"
    "Subject: Re: [l] =?utf-8?b?w6l0w6k=?= (fwd)\r\n"
    "Date: Thu, 1 Jan 2004 00:00:00 +0130\r\n"
    "Message-ID: <m@x>\r\n"
    "References: <a@b> <c@d>\r\n"
    "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n"
    "\r\n"
    "--=_b\r\n"
    "Content-Type: multipart/alternative; boundary=c\r\n"
    "\r\n"
    "--c\r\n"
    "Content-Type: text/plain; charset=\"utf-8\"; format=flowed\r\n"
    "\r\n"
    "t\r\n"
    "--c--\r\n"
    "--=_b\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: inline; filename*=utf-8''a%20b\r\n"
    "\r\n"
    "From: x@y\r\n"
    "Content-Type: text/plain (c) ; charset=latin1\r\n"
    "\r\n"
    "inner\r\n"
    "--=_b--\r\n";

static void
every_prefix_and_byte_flip_gives_valid_output(void **state)
{
	static const unsigned char flips[] = {
		'\0', '\r', '\n', '-', '"', '\\', ':', ';', '(', '<', ' ',
		0xff, 0x80, '=',
	};
	struct mime_summary sum;
	size_t n = sizeof(fuzz_sample) - 1, i, k;
	char *copy;

	for (i = 0; i <= n; i++) {
		/* a heap copy of exactly i bytes, so ASan sees overreads */
		copy = malloc(i + 1);
		assert_non_null(copy);
		memcpy(copy, fuzz_sample, i);
		summarize_checked(copy, i, &sum);
		mime_summary_deinit(&sum);
		free(copy);
	}
	copy = malloc(n);
	assert_non_null(copy);
	for (i = 0; i < n; i++) {
		for (k = 0; k < sizeof(flips); k++) {
			memcpy(copy, fuzz_sample, n);
			copy[i] = (char)flips[k];
			summarize_checked(copy, n, &sum);
			mime_summary_deinit(&sum);
		}
	}
	free(copy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(structures_match_rfc3501),
		cmocka_unit_test(base_subject_follows_rfc5256),
		cmocka_unit_test(sent_date_is_utc_and_zero_when_bad),
		cmocka_unit_test(message_ids_lose_their_brackets),
		cmocka_unit_test(header_fields_keep_cached_fields_with_crlf),
		cmocka_unit_test(long_strings_become_literals),
		cmocka_unit_test(deep_nesting_is_capped),
		cmocka_unit_test(huge_headers_and_many_parts_are_handled),
		cmocka_unit_test(every_prefix_and_byte_flip_gives_valid_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
