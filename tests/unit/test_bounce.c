/* test_bounce.c - unit tests for smtpd/bounce.c (RFC 3464 DSNs) */
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
#include "xmalloc.h"

#include "bounce.h"

#define ARRIVAL	1741082400	/* Tue, 04 Mar 2025 10:00:00 +0000 */
#define NOW	(ARRIVAL + 3600)

static const char original[] =
    "From: Alice <alice@example.test>\r\n"
    "To: bob@remote.example\r\n"
    "Subject: hello\r\n"
    "Message-ID: <m1@example.test>\r\n"
    "\r\n"
    "Hello Bob.\r\n"
    ".a line that starts with a dot\r\n";

/* sample - a failure for two recipients */
static void
sample(struct bounce_info *bi, struct bounce_rcpt *r)
{
	memset(bi, 0, sizeof(*bi));
	memset(r, 0, 2 * sizeof(*r));
	r[0].addr = "bob@remote.example";
	r[0].orcpt = "rfc822;Bob@Remote.Example";
	r[0].action = BOUNCE_FAILED;
	r[0].error = "host mx.remote.example[192.0.2.7] said: 550 5.1.1 "
	    "<bob@remote.example>: no such user";
	r[0].last_attempt = NOW;
	r[1].addr = "carol@gone.example";
	r[1].action = BOUNCE_FAILED;
	r[1].error = "5.1.2 gone.example: domain not found (NXDOMAIN)";
	bi->reporting_mta = "mx.example.test";
	bi->queue_id = "0123456789ABCDEF00";
	bi->unique = "U1";
	bi->sender = "alice@example.test";
	bi->envid = "QQ314159";
	bi->arrival = ARRIVAL;
	bi->now = NOW;
	bi->ret = QUEUE_RET_UNSET;
	bi->full_max = 1024 * 1024;
	bi->rcpts = r;
	bi->nrcpts = 2;
	bi->msg = original;
	bi->len = sizeof(original) - 1;
}

/* build - the DSN as a C string, caller frees */
static char *
build(const struct bounce_info *bi, bool *eight_r)
{
	struct buf b;
	bool eight = false;
	char *s;

	buf_init(&b, 0);
	assert_int_equal(bounce_build(bi, &b, &eight), 0);
	if (eight_r != NULL)
		*eight_r = eight;
	s = buf_steal(&b, NULL);
	buf_deinit(&b);
	return s;
}

/* has_line - the DSN holds this exact line */
static void
has_line(const char *dsn, const char *line)
{
	char *want = xasprintf("\r\n%s\r\n", line);

	if (strstr(dsn, want) == NULL)
		fail_msg("got no line \"%s\" in:\n%s", line, dsn);
	free(want);
}

/* lacks - the DSN does not hold this text */
static void
lacks(const char *dsn, const char *text)
{
	if (strstr(dsn, text) != NULL)
		fail_msg("got \"%s\", want none, in:\n%s", text, dsn);
}

/* starts - s begins with prefix */
static void
starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("got\n%.*s\nwant it to start with\n%s",
		    (int)strlen(prefix), s, prefix);
}

/* boundary_of - the multipart boundary, caller frees */
static char *
boundary_of(const char *dsn)
{
	const char *p = strstr(dsn, "boundary=\""), *e;

	assert_non_null(p);
	p += 10;
	e = strchr(p, '"');
	assert_non_null(e);
	return xstrndup(p, (size_t)(e - p));
}

/* part - the n-th body part (headers and body), caller frees */
static char *
part(const char *dsn, int n)
{
	char *b = boundary_of(dsn), *delim, *end, *r;
	const char *p = dsn;
	int i;

	delim = xasprintf("\r\n--%s", b);
	for (i = 0; i <= n; i++) {
		p = strstr(p, delim);
		if (p == NULL)
			fail_msg("part %d: got none", n);
		p += strlen(delim);
	}
	assert_memory_equal(p, "\r\n", 2);
	p += 2;
	end = strstr(p, delim);
	assert_non_null(end);
	r = xstrndup(p, (size_t)(end - p));
	free(delim);
	free(b);
	return r;
}

/* a_failure_notice_is_a_multipart_report_with_the_rfc_3464_fields */
static void
a_failure_notice_is_a_multipart_report_with_the_rfc_3464_fields(void **st)
{
	struct bounce_info bi;
	struct bounce_rcpt r[2];
	char *dsn, *p0, *p1, *p2, *b, *last;
	bool eight;

	sample(&bi, r);
	dsn = build(&bi, &eight);
	assert_false(eight);
	starts(dsn, "Date: Tue, 04 Mar 2025 11:00:00 +0000\r\n");
	has_line(dsn, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mx.example.test>");
	has_line(dsn, "To: <alice@example.test>");
	has_line(dsn, "Subject: Undelivered Mail Returned to Sender");
	has_line(dsn, "Auto-Submitted: auto-replied");
	has_line(dsn, "MIME-Version: 1.0");
	has_line(dsn, "Content-Type: multipart/report; "
	    "report-type=delivery-status;");

	p0 = part(dsn, 0);
	assert_non_null(strstr(p0, "Content-Type: text/plain"));
	assert_non_null(strstr(p0, "<bob@remote.example>: host "
	    "mx.remote.example[192.0.2.7] said: 550 5.1.1"));

	p1 = part(dsn, 1);
	starts(p1, "Content-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.example.test\r\n");
	has_line(p1, "Original-Envelope-Id: QQ314159");
	has_line(p1, "Arrival-Date: Tue, 04 Mar 2025 10:00:00 +0000");
	/* per recipient, in RFC 3464's order, a blank line before each */
	assert_non_null(strstr(p1, "\r\n\r\n"
	    "Original-Recipient: rfc822; Bob@Remote.Example\r\n"
	    "Final-Recipient: rfc822; bob@remote.example\r\n"
	    "Action: failed\r\n"
	    "Status: 5.1.1\r\n"
	    "Remote-MTA: dns; mx.remote.example\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.example>: no such "
	    "user\r\n"
	    "Last-Attempt-Date: Tue, 04 Mar 2025 11:00:00 +0000\r\n"));
	assert_non_null(strstr(p1, "\r\n\r\n"
	    "Final-Recipient: rfc822; carol@gone.example\r\n"
	    "Action: failed\r\n"
	    "Status: 5.1.2\r\n"
	    "Diagnostic-Code: X-Bastide; gone.example: domain not found "
	    "(NXDOMAIN)\r\n"));

	/* the whole message comes back, byte for byte */
	p2 = part(dsn, 2);
	starts(p2, "Content-Description: Undelivered Message\r\n"
	    "Content-Type: message/rfc822\r\n\r\n");
	assert_string_equal(p2 + strlen("Content-Description: Undelivered "
	    "Message\r\nContent-Type: message/rfc822\r\n\r\n"), original);

	b = boundary_of(dsn);
	last = xasprintf("\r\n--%s--\r\n", b);
	assert_true(strlen(dsn) > strlen(last));
	assert_string_equal(dsn + strlen(dsn) - strlen(last), last);
	free(last);
	free(b);
	free(p0);
	free(p1);
	free(p2);
	free(dsn);
}

/* ret_and_size_choose_between_the_message_and_its_header - a table */
static void
ret_and_size_choose_between_the_message_and_its_header(void **state)
{
	static const struct {
		enum bounce_action action;
		enum queue_ret	 ret;
		size_t		 full_max;
		const char	*want;
	} cases[] = {
		{ BOUNCE_FAILED, QUEUE_RET_UNSET, 100000, "message/rfc822" },
		{ BOUNCE_FAILED, QUEUE_RET_FULL, 100000, "message/rfc822" },
		{ BOUNCE_FAILED, QUEUE_RET_HDRS, 100000,
		  "text/rfc822-headers" },
		{ BOUNCE_FAILED, QUEUE_RET_FULL, 10, "text/rfc822-headers" },
		{ BOUNCE_FAILED, QUEUE_RET_UNSET, sizeof(original) - 1,
		  "message/rfc822" },
		{ BOUNCE_FAILED, QUEUE_RET_UNSET, sizeof(original) - 2,
		  "text/rfc822-headers" },
		{ BOUNCE_DELAYED, QUEUE_RET_FULL, 100000,
		  "text/rfc822-headers" },
		{ BOUNCE_DELIVERED, QUEUE_RET_FULL, 100000,
		  "text/rfc822-headers" },
		{ BOUNCE_RELAYED, QUEUE_RET_UNSET, 100000,
		  "text/rfc822-headers" },
	};
	struct bounce_info bi;
	struct bounce_rcpt r[2];
	char *dsn, *p2, *want;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sample(&bi, r);
		bi.nrcpts = 1;
		r[0].action = cases[i].action;
		bi.ret = cases[i].ret;
		bi.full_max = cases[i].full_max;
		dsn = build(&bi, NULL);
		p2 = part(dsn, 2);
		want = xasprintf("Content-Type: %s\r\n", cases[i].want);
		if (strstr(p2, want) == NULL)
			fail_msg("case %zu: got\n%s\nwant %s", i, p2,
			    cases[i].want);
		if (strcmp(cases[i].want, "text/rfc822-headers") == 0) {
			/* the header only, without the empty line or body */
			assert_non_null(strstr(p2, "Message-ID: "
			    "<m1@example.test>\r\n"));
			lacks(p2, "Hello Bob.");
		}
		free(want);
		free(p2);
		free(dsn);
	}
}

/* a_delay_notice_says_until_when_with_a_transient_status */
static void
a_delay_notice_says_until_when_with_a_transient_status(void **state)
{
	struct bounce_info bi;
	struct bounce_rcpt r[2];
	char *dsn;

	sample(&bi, r);
	bi.nrcpts = 1;
	r[0].action = BOUNCE_DELAYED;
	r[0].error = "4.4.1 connect to mx.remote.example[192.0.2.7]:25: "
	    "Connection refused";
	r[0].retry_until = ARRIVAL + 5 * 86400;
	dsn = build(&bi, NULL);
	has_line(dsn, "Subject: Delayed Mail (still being retried)");
	has_line(dsn, "Action: delayed");
	has_line(dsn, "Status: 4.4.1");
	has_line(dsn, "Will-Retry-Until: Sun, 09 Mar 2025 10:00:00 +0000");
	assert_non_null(strstr(dsn, "\r\nDiagnostic-Code: X-Bastide; connect "
	    "to"));
	lacks(dsn, "Remote-MTA:");
	free(dsn);

	/* a permanent-looking text still reports a transient status */
	r[0].error = "550 5.1.1 odd";
	dsn = build(&bi, NULL);
	has_line(dsn, "Status: 4.0.0");
	free(dsn);
}

/* success_notices_say_delivered_or_relayed_with_status_2 */
static void
success_notices_say_delivered_or_relayed_with_status_2(void **state)
{
	struct bounce_info bi;
	struct bounce_rcpt r[2];
	char *dsn;

	sample(&bi, r);
	r[0].action = BOUNCE_RELAYED;
	r[0].error = NULL;
	r[0].remote_mta = "mx.remote.example";
	r[1].action = BOUNCE_DELIVERED;
	r[1].error = NULL;
	dsn = build(&bi, NULL);
	has_line(dsn, "Subject: Successful Mail Delivery Report");
	has_line(dsn, "Action: relayed");
	has_line(dsn, "Action: delivered");
	has_line(dsn, "Remote-MTA: dns; mx.remote.example");
	has_line(dsn, "Status: 2.0.0");
	lacks(dsn, "Status: 5");
	lacks(dsn, "Diagnostic-Code");
	free(dsn);
}

/* diagnostics_are_read_back_from_each_last_error_form - a table */
static void
diagnostics_are_read_back_from_each_last_error_form(void **state)
{
	static const struct {
		const char	*error;
		bool		 perm;
		const char	*status, *mta, *type, *diag;
	} cases[] = {
		{ "host mx.a.example[192.0.2.1] said: 550 5.7.1 go away",
		  true, "5.7.1", "mx.a.example", "smtp", "550 5.7.1 go away" },
		{ "host mx.a.example[2001:db8::1] said: 451 try later",
		  false, "4.0.0", "mx.a.example", "smtp", "451 try later" },
		{ "host mx.a.example[192.0.2.1] said: 552 4.2.2 mismatch",
		  true, "5.0.0", "mx.a.example", "smtp",
		  "552 4.2.2 mismatch" },
		{ "550 5.1.1 <x@example.test>: no such user", true, "5.1.1",
		  "", "smtp", "550 5.1.1 <x@example.test>: no such user" },
		{ "452 4.2.2 over quota", false, "4.2.2", "", "smtp",
		  "452 4.2.2 over quota" },
		{ "4.4.1 connect to x[1.2.3.4]:25: refused", false, "4.4.1",
		  "", "X-Bastide", "connect to x[1.2.3.4]:25: refused" },
		{ "5.1.10 example.org: null MX", true, "5.1.10", "",
		  "X-Bastide", "example.org: null MX" },
		{ "something odd", true, "5.0.0", "", "X-Bastide",
		  "something odd" },
		{ "something odd", false, "4.0.0", "", "X-Bastide",
		  "something odd" },
		{ "4.1234.1 no", false, "4.0.0", "", "X-Bastide",
		  "4.1234.1 no" },
	};
	struct bounce_diag d;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bounce_diag_parse(cases[i].error, cases[i].perm, &d);
		if (strcmp(d.status, cases[i].status) != 0 ||
		    strcmp(d.remote_mta, cases[i].mta) != 0 ||
		    strcmp(d.diag_type, cases[i].type) != 0 ||
		    strcmp(d.diag, cases[i].diag) != 0)
			fail_msg("\"%s\": got %s / \"%s\" / %s; \"%s\", want "
			    "%s / \"%s\" / %s; \"%s\"", cases[i].error,
			    d.status, d.remote_mta, d.diag_type, d.diag,
			    cases[i].status, cases[i].mta, cases[i].type,
			    cases[i].diag);
	}
}

/* hostile_error_text_never_makes_a_line_of_its_own */
static void
hostile_error_text_never_makes_a_line_of_its_own(void **state)
{
	struct bounce_info bi;
	struct bounce_rcpt r[2];
	char *dsn, *longtext, *p;
	size_t i, col;

	longtext = xmalloc(3000);
	for (i = 0; i < 2999; i++)
		longtext[i] = i % 50 == 49 ? ' ' : 'x';
	longtext[2999] = '\0';
	sample(&bi, r);
	r[0].error = "550 5.1.1 a\r\nX-Injected: yes";
	r[1].error = longtext;
	dsn = build(&bi, NULL);
	lacks(dsn, "\r\nX-Injected");
	lacks(dsn, "\nX-Injected");
	/* CRLF only, no line over 998 octets (RFC 5322 2.1.1) */
	col = 0;
	for (p = dsn; *p != '\0'; p++) {
		if (*p == '\n') {
			assert_true(p > dsn && p[-1] == '\r');
			col = 0;
			continue;
		}
		if (*p == '\r')
			assert_true(p[1] == '\n');
		if (++col > 998)
			fail_msg("got a line over 998 octets");
	}
	free(dsn);
	free(longtext);
}

/* a_bare_lf_original_comes_back_with_crlf */
static void
a_bare_lf_original_comes_back_with_crlf(void **state)
{
	static const char lf[] = "Subject: x\n\nbody\nmore";
	struct bounce_info bi;
	struct bounce_rcpt r[2];
	char *dsn, *p2;

	sample(&bi, r);
	bi.msg = lf;
	bi.len = sizeof(lf) - 1;
	dsn = build(&bi, NULL);
	p2 = part(dsn, 2);
	assert_non_null(strstr(p2, "\r\n\r\nSubject: x\r\n\r\nbody\r\n"
	    "more\r\n"));
	free(p2);
	free(dsn);
}

/* the_boundary_never_occurs_in_the_returned_message */
static void
the_boundary_never_occurs_in_the_returned_message(void **state)
{
	struct bounce_info bi;
	struct bounce_rcpt r[2];
	char *dsn, *b, *msg;
	const char *p;
	unsigned int n = 0;

	sample(&bi, r);
	msg = xasprintf("Subject: trap\r\n\r\n--=_U1_0123456789ABCDEF00\r\n"
	    "--=_U1_0123456789ABCDEF00_1\r\n");
	bi.msg = msg;
	bi.len = strlen(msg);
	dsn = build(&bi, NULL);
	b = boundary_of(dsn);
	assert_null(strstr(msg, b));
	/* exactly 3 delimiters and the close */
	for (p = dsn; (p = strstr(p, b)) != NULL; p++)
		n++;
	assert_int_equal(n, 1 + 3 + 1);
	free(b);
	free(dsn);
	free(msg);
}

/* an_smtputf8_message_gets_the_rfc_6533_types */
static void
an_smtputf8_message_gets_the_rfc_6533_types(void **state)
{
	static const char utf8[] = "Subject: gr\xc3\xbc\xc3\x9f" "e\r\n\r\n"
	    "\xc3\xa9t\xc3\xa9\r\n";
	struct bounce_info bi;
	struct bounce_rcpt r[2];
	char *dsn;
	bool eight;

	sample(&bi, r);
	bi.smtputf8 = true;
	bi.msg = utf8;
	bi.len = sizeof(utf8) - 1;
	r[0].addr = "j\xc3\xb6rg@b\xc3\xbc" "cher.example";
	dsn = build(&bi, &eight);
	assert_true(eight);
	has_line(dsn, "Content-Type: multipart/report; "
	    "report-type=global-delivery-status;");
	has_line(dsn, "Content-Type: message/global-delivery-status");
	has_line(dsn, "Content-Type: message/global");
	has_line(dsn, "Final-Recipient: utf-8; j\xc3\xb6rg@b\xc3\xbc"
	    "cher.example");
	has_line(dsn, "Content-Transfer-Encoding: 8bit");
	free(dsn);

	/* the same without SMTPUTF8: classic types, still 8 bits */
	bi.smtputf8 = false;
	dsn = build(&bi, &eight);
	assert_true(eight);
	has_line(dsn, "Content-Type: message/delivery-status");
	has_line(dsn, "Content-Type: message/rfc822");
	free(dsn);
}

/* dates_are_rfc_5322_in_utc */
static void
dates_are_rfc_5322_in_utc(void **state)
{
	static const struct {
		int64_t		 t;
		const char	*want;
	} cases[] = {
		{ 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
		{ 951782400, "Tue, 29 Feb 2000 00:00:00 +0000" },
		{ ARRIVAL, "Tue, 04 Mar 2025 10:00:00 +0000" },
	};
	char got[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bounce_date(cases[i].t, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%lld: got \"%s\", want \"%s\"",
			    (long long)cases[i].t, got, cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    a_failure_notice_is_a_multipart_report_with_the_rfc_3464_fields),
		cmocka_unit_test(
		    ret_and_size_choose_between_the_message_and_its_header),
		cmocka_unit_test(
		    a_delay_notice_says_until_when_with_a_transient_status),
		cmocka_unit_test(
		    success_notices_say_delivered_or_relayed_with_status_2),
		cmocka_unit_test(
		    diagnostics_are_read_back_from_each_last_error_form),
		cmocka_unit_test(
		    hostile_error_text_never_makes_a_line_of_its_own),
		cmocka_unit_test(a_bare_lf_original_comes_back_with_crlf),
		cmocka_unit_test(
		    the_boundary_never_occurs_in_the_returned_message),
		cmocka_unit_test(an_smtputf8_message_gets_the_rfc_6533_types),
		cmocka_unit_test(dates_are_rfc_5322_in_utc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
