/* test_relay_client.c - unit tests for smtpd/relay_client.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "xmalloc.h"

#include "fake_smtp.h"
#include "relay_client.h"

/* settings - short timeouts, no TLS (the fake has none) */
static void
settings(struct relay_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->helo_name = "client.example.test";
	s->tls = RELAY_TLS_MAY;
	s->connect_timeout_ms = 2000;
	s->command_timeout_ms = 2000;
	s->data_init_timeout_ms = 2000;
	s->data_block_timeout_ms = 2000;
	s->data_done_timeout_ms = 2000;
	s->max_rcpts = 100;
	s->cancel_fd = -1;
}

/* msg_init - a message from a@example.test to the given recipients */
static void
msg_init(struct relay_msg *m, struct relay_rcpt *r, size_t n,
    const char *const *addrs, const char *data)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	memset(r, 0, n * sizeof(*r));
	for (i = 0; i < n; i++)
		r[i].addr = addrs[i];
	m->sender = "a@example.test";
	m->data = data;
	m->len = strlen(data);
	m->rcpts = r;
	m->nrcpts = n;
}

/* msg_reset - free the results */
static void
msg_reset(struct relay_msg *m)
{
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		relay_rcpt_reset(&m->rcpts[i]);
}

/* deliver - to the fake */
static void
deliver(const struct relay_settings *s, const struct fake_smtp *f,
    struct relay_msg *m)
{
	struct relay_dest d = { NULL, "127.0.0.1", f->port };

	relay_deliver(s, &d, m);
}

/* transcript - what the fake got, as a C string */
static const char *
transcript(struct fake_smtp *f)
{
	return buf_cstr(&f->transcript);
}

/* has_cmd - the transcript holds this exact command line */
static void
has_cmd(struct fake_smtp *f, const char *line)
{
	char *want = xasprintf("%s\n", line);
	const char *t = transcript(f), *p;

	for (p = t; (p = strstr(p, want)) != NULL; p++)
		if (p == t || p[-1] == '\n')
			break;
	if (p == NULL)
		fail_msg("got no command \"%s\" in:\n%s", line, t);
	free(want);
}

/* count - occurrences of s in the transcript */
static unsigned int
count(struct fake_smtp *f, const char *s)
{
	const char *p = transcript(f);
	unsigned int n = 0;

	while ((p = strstr(p, s)) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* a_message_is_dot_stuffed_and_sent_with_crlf_lines */
static void
a_message_is_dot_stuffed_and_sent_with_crlf_lines(void **state)
{
	static const char *const to[] = { "b@remote.example" };
	struct fake_smtp f = { 0 };
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[1];

	fake_start(&f);
	settings(&s);
	msg_init(&m, r, 1, to, "Subject: x\r\n\r\n.dot\r\nbare\nlf\r\n..\r\n"
	    ".\r\nend");
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(r[0].status, RELAY_OK);
	assert_null(r[0].error);
	assert_string_equal(r[0].remote_mta, "127.0.0.1");
	assert_false(r[0].remote_dsn);
	assert_string_equal(buf_cstr(&f.body), "Subject: x\r\n\r\n..dot\r\n"
	    "bare\r\nlf\r\n...\r\n..\r\nend\r\n.\r\n");
	fake_free(&f);
	msg_reset(&m);
}

/* mail_and_rcpt_carry_the_parameters_the_server_offers - and only those */
static void
mail_and_rcpt_carry_the_parameters_the_server_offers(void **state)
{
	static const char *const to[] = { "b+1@remote.example",
	    "c@remote.example", "d@remote.example" };
	static const char data[] = "Subject: x\r\n\r\nhi\r\n";
	struct fake_smtp f = { 0 };
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[3];
	char *want;

	f.ehlo = "250-fake\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n"
	    "250-SMTPUTF8\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES";
	fake_start(&f);
	settings(&s);
	msg_init(&m, r, 3, to, data);
	m.envid = "ab+c";
	m.ret = QUEUE_RET_HDRS;
	m.body = QUEUE_BODY_8BITMIME;
	m.smtputf8 = true;
	r[0].notify = QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_DELAY;
	r[0].orcpt = "rfc822;B+1@Remote.Example";
	r[1].notify = QUEUE_NOTIFY_NEVER;
	deliver(&s, &f, &m);
	fake_stop(&f);
	want = xasprintf("MAIL FROM:<a@example.test> SIZE=%zu BODY=8BITMIME "
	    "SMTPUTF8 RET=HDRS ENVID=ab+2Bc", sizeof(data) - 1);
	has_cmd(&f, want);
	free(want);
	has_cmd(&f, "RCPT TO:<b+1@remote.example> NOTIFY=SUCCESS,DELAY "
	    "ORCPT=rfc822;B+2B1@Remote.Example");
	has_cmd(&f, "RCPT TO:<c@remote.example> NOTIFY=NEVER");
	has_cmd(&f, "RCPT TO:<d@remote.example>");
	assert_int_equal(r[0].status, RELAY_OK);
	assert_true(r[0].remote_dsn);
	fake_free(&f);
	msg_reset(&m);

	/* a server without extensions gets the bare commands */
	memset(&f, 0, sizeof(f));
	f.ehlo = "250 fake";
	fake_start(&f);
	msg_init(&m, r, 3, to, data);
	m.envid = "ab+c";
	m.ret = QUEUE_RET_HDRS;
	m.body = QUEUE_BODY_8BITMIME;
	r[0].notify = QUEUE_NOTIFY_SUCCESS;
	r[0].orcpt = "rfc822;B+1@Remote.Example";
	deliver(&s, &f, &m);
	fake_stop(&f);
	has_cmd(&f, "MAIL FROM:<a@example.test>");
	has_cmd(&f, "RCPT TO:<b+1@remote.example>");
	assert_int_equal(r[0].status, RELAY_OK);
	assert_false(r[0].remote_dsn);
	fake_free(&f);
	msg_reset(&m);
}

/* each_recipient_gets_the_verdict_of_its_own_reply - with and without
 * PIPELINING */
static void
each_recipient_gets_the_verdict_of_its_own_reply(void **state)
{
	static const char *const to[] = { "ok@r.example", "busy@r.example",
	    "gone@r.example" };
	static const struct fake_rule rules[] = {
		{ "busy@", "450 4.2.0 mailbox busy" },
		{ "gone@", "550-5.1.1 no such user\r\n550 5.1.1 really" },
		{ NULL, NULL }
	};
	static const char *const ehlo[] = {
		"250-fake\r\n250 PIPELINING", "250 fake"
	};
	struct fake_smtp f;
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[3];
	size_t i;

	for (i = 0; i < 2; i++) {
		memset(&f, 0, sizeof(f));
		f.ehlo = ehlo[i];
		f.rcpt = rules;
		fake_start(&f);
		settings(&s);
		msg_init(&m, r, 3, to, "x\r\n");
		deliver(&s, &f, &m);
		fake_stop(&f);
		assert_int_equal(r[0].status, RELAY_OK);
		assert_int_equal(r[1].status, RELAY_TEMP);
		assert_string_equal(r[1].error, "host 127.0.0.1[127.0.0.1] "
		    "said: 450 4.2.0 mailbox busy");
		assert_int_equal(r[2].status, RELAY_PERM);
		assert_string_equal(r[2].error, "host 127.0.0.1[127.0.0.1] "
		    "said: 550 5.1.1 no such user really");
		assert_int_equal(f.messages, 1);
		fake_free(&f);
		msg_reset(&m);
	}
}

/* what_goes_wrong_before_the_recipients_is_temporary - a table */
static void
what_goes_wrong_before_the_recipients_is_temporary(void **state)
{
	static const char *const to[] = { "b@r.example" };
	static const struct {
		const char	*what;
		const char	*greeting;
		const char	*ehlo;
		const char	*helo;
		bool		 silent;
		enum relay_tls_policy tls;
		const char	*want;	/* error prefix */
	} cases[] = {
		{ "greeting refused", "554 5.3.2 go away", NULL, NULL, false,
		  RELAY_TLS_MAY, "host 127.0.0.1[127.0.0.1] said: 554 5.3.2 "
		  "go away" },
		{ "EHLO and HELO refused", NULL, "500 5.5.1 what", "501 no",
		  false, RELAY_TLS_MAY, "host 127.0.0.1[127.0.0.1] said: "
		  "501 no" },
		{ "silent server", NULL, NULL, NULL, true, RELAY_TLS_MAY,
		  "4.4.2 timeout with 127.0.0.1[127.0.0.1] while waiting for "
		  "the EHLO reply" },
		{ "no STARTTLS under encrypt", NULL, NULL, NULL, false,
		  RELAY_TLS_ENCRYPT, "4.7.4 TLS is required" },
	};
	struct fake_smtp f;
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[1];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.greeting = cases[i].greeting;
		f.ehlo = cases[i].ehlo;
		f.helo = cases[i].helo;
		f.silent = cases[i].silent;
		fake_start(&f);
		settings(&s);
		s.command_timeout_ms = 300;
		s.tls = cases[i].tls;
		msg_init(&m, r, 1, to, "x\r\n");
		deliver(&s, &f, &m);
		fake_stop(&f);
		if (r[0].status != RELAY_TEMP || r[0].error == NULL ||
		    strncmp(r[0].error, cases[i].want,
		    strlen(cases[i].want)) != 0)
			fail_msg("%s: got %d \"%s\", want TEMP \"%s...\"",
			    cases[i].what, r[0].status, r[0].error,
			    cases[i].want);
		assert_int_equal(f.messages, 0);
		fake_free(&f);
		msg_reset(&m);
	}
}

/* ehlo_refused_falls_back_to_helo */
static void
ehlo_refused_falls_back_to_helo(void **state)
{
	static const char *const to[] = { "b@r.example" };
	struct fake_smtp f = { 0 };
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[1];

	f.ehlo = "502 5.5.1 EHLO? never heard of it";
	fake_start(&f);
	settings(&s);
	msg_init(&m, r, 1, to, "x\r\n");
	m.body = QUEUE_BODY_8BITMIME;
	deliver(&s, &f, &m);
	fake_stop(&f);
	has_cmd(&f, "HELO client.example.test");
	has_cmd(&f, "MAIL FROM:<a@example.test>");
	assert_int_equal(r[0].status, RELAY_OK);
	fake_free(&f);
	msg_reset(&m);
}

/* a_closed_port_is_a_temporary_failure */
static void
a_closed_port_is_a_temporary_failure(void **state)
{
	static const char *const to[] = { "b@r.example" };
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[1];
	struct relay_dest d = { NULL, "127.0.0.1", 0 };
	char *want;

	d.port = fake_closed_port();
	settings(&s);
	msg_init(&m, r, 1, to, "x\r\n");
	relay_deliver(&s, &d, &m);
	want = xasprintf("4.4.1 connect to 127.0.0.1[127.0.0.1]:%u: "
	    "Connection refused", d.port);
	assert_int_equal(r[0].status, RELAY_TEMP);
	assert_string_equal(r[0].error, want);
	free(want);
	msg_reset(&m);
}

/* the_transaction_verdicts_reach_every_recipient - a table */
static void
the_transaction_verdicts_reach_every_recipient(void **state)
{
	static const char *const to[] = { "b@r.example", "c@r.example" };
	static const struct {
		const char	*what;
		const char	*ehlo, *mail, *data, *done;
		enum relay_status want;
		const char	*error;
	} cases[] = {
		{ "MAIL refused, pipelined", "250-f\r\n250 PIPELINING",
		  "553 5.7.1 sender refused", NULL, NULL, RELAY_PERM,
		  "host 127.0.0.1[127.0.0.1] said: 553 5.7.1 sender refused" },
		{ "MAIL deferred", NULL, "451 4.3.0 try later", NULL, NULL,
		  RELAY_TEMP, "host 127.0.0.1[127.0.0.1] said: 451 4.3.0 try "
		  "later" },
		{ "DATA refused", NULL, NULL, "554 5.5.1 no valid recipients",
		  NULL, RELAY_PERM, "host 127.0.0.1[127.0.0.1] said: 554 "
		  "5.5.1 no valid recipients" },
		{ "message refused", NULL, NULL, NULL, "552 5.3.4 too big",
		  RELAY_PERM, "host 127.0.0.1[127.0.0.1] said: 552 5.3.4 too "
		  "big" },
		{ "message deferred", NULL, NULL, NULL, "451 4.3.0 disk",
		  RELAY_TEMP, "host 127.0.0.1[127.0.0.1] said: 451 4.3.0 "
		  "disk" },
	};
	struct fake_smtp f;
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[2];
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.ehlo = cases[i].ehlo;
		f.mail = cases[i].mail;
		f.data = cases[i].data;
		f.done = cases[i].done;
		fake_start(&f);
		settings(&s);
		msg_init(&m, r, 2, to, "x\r\n");
		deliver(&s, &f, &m);
		fake_stop(&f);
		for (k = 0; k < 2; k++)
			if (r[k].status != cases[i].want ||
			    r[k].error == NULL ||
			    strcmp(r[k].error, cases[i].error) != 0)
				fail_msg("%s, rcpt %zu: got %d \"%s\", want "
				    "%d \"%s\"", cases[i].what, k,
				    r[k].status, r[k].error, cases[i].want,
				    cases[i].error);
		fake_free(&f);
		msg_reset(&m);
	}
}

/* a_connection_lost_after_the_dot_is_temporary */
static void
a_connection_lost_after_the_dot_is_temporary(void **state)
{
	static const char *const to[] = { "b@r.example" };
	struct fake_smtp f = { 0 };
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[1];

	f.close_after_dot = true;
	fake_start(&f);
	settings(&s);
	msg_init(&m, r, 1, to, "x\r\n");
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(r[0].status, RELAY_TEMP);
	assert_non_null(strstr(r[0].error, "lost connection with "
	    "127.0.0.1[127.0.0.1] while waiting for the reply to the end of "
	    "the message"));
	fake_free(&f);
	msg_reset(&m);
}

/* more_recipients_than_a_transaction_takes_go_in_several */
static void
more_recipients_than_a_transaction_takes_go_in_several(void **state)
{
	static const char *const to[] = { "1@r.example", "2@r.example",
	    "3@r.example", "4@r.example", "5@r.example" };
	struct fake_smtp f = { 0 };
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[5];
	size_t i;

	fake_start(&f);
	settings(&s);
	s.max_rcpts = 2;
	msg_init(&m, r, 5, to, "x\r\n");
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(count(&f, "MAIL FROM:"), 3);
	assert_int_equal(count(&f, "RCPT TO:"), 5);
	assert_int_equal(f.messages, 3);
	assert_int_equal(f.sessions, 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(r[i].status, RELAY_OK);
	fake_free(&f);
	msg_reset(&m);
}

/* server_limits_rule_a_message_out_before_mail_from - a table */
static void
server_limits_rule_a_message_out_before_mail_from(void **state)
{
	static const char *const to[] = { "b@r.example" };
	static const char *const utf8to[] = { "j\xc3\xb6rg@r.example" };
	struct fake_smtp f;
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[1];

	/* SIZE */
	memset(&f, 0, sizeof(f));
	f.ehlo = "250-fake\r\n250 SIZE 5";
	fake_start(&f);
	settings(&s);
	msg_init(&m, r, 1, to, "123456\r\n");
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(r[0].status, RELAY_PERM);
	assert_true(strncmp(r[0].error, "5.3.4 ", 6) == 0);
	assert_int_equal(count(&f, "MAIL FROM"), 0);
	fake_free(&f);
	msg_reset(&m);

	/* SMTPUTF8 needed and not offered */
	memset(&f, 0, sizeof(f));
	fake_start(&f);
	msg_init(&m, r, 1, utf8to, "x\r\n");
	m.smtputf8 = true;
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(r[0].status, RELAY_PERM);
	assert_true(strncmp(r[0].error, "5.6.7 ", 6) == 0);
	fake_free(&f);
	msg_reset(&m);

	/* SMTPUTF8 asked for but not needed: goes without */
	memset(&f, 0, sizeof(f));
	fake_start(&f);
	msg_init(&m, r, 1, to, "x\r\n");
	m.smtputf8 = true;
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(r[0].status, RELAY_OK);
	has_cmd(&f, "MAIL FROM:<a@example.test>");
	fake_free(&f);
	msg_reset(&m);

	/* BINARYMIME without CHUNKING */
	memset(&f, 0, sizeof(f));
	f.ehlo = "250-fake\r\n250 BINARYMIME";
	fake_start(&f);
	msg_init(&m, r, 1, to, "x\r\n");
	m.body = QUEUE_BODY_BINARYMIME;
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(r[0].status, RELAY_PERM);
	assert_true(strncmp(r[0].error, "5.6.3 ", 6) == 0);
	fake_free(&f);
	msg_reset(&m);
}

/* a_binarymime_message_goes_as_one_bdat_chunk_unstuffed */
static void
a_binarymime_message_goes_as_one_bdat_chunk_unstuffed(void **state)
{
	static const char *const to[] = { "b@r.example" };
	static const char data[] = "Subject: b\r\n\r\n.\r\n\x00\xff\n.";
	struct fake_smtp f = { 0 };
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[1];
	char *want;

	f.ehlo = "250-fake\r\n250-CHUNKING\r\n250-8BITMIME\r\n250 BINARYMIME";
	fake_start(&f);
	settings(&s);
	msg_init(&m, r, 1, to, "");
	m.data = data;
	m.len = sizeof(data) - 1;
	m.body = QUEUE_BODY_BINARYMIME;
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(r[0].status, RELAY_OK);
	has_cmd(&f, "MAIL FROM:<a@example.test> BODY=BINARYMIME");
	want = xasprintf("BDAT %zu LAST", sizeof(data) - 1);
	has_cmd(&f, want);
	free(want);
	assert_int_equal(f.body.len, sizeof(data) - 1);
	assert_memory_equal(f.body.data, data, sizeof(data) - 1);
	fake_free(&f);
	msg_reset(&m);
}

/* auth_plain_is_sent_only_where_allowed */
static void
auth_plain_is_sent_only_where_allowed(void **state)
{
	static const char *const to[] = { "b@r.example" };
	struct fake_smtp f;
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[1];

	/* no TLS: the password stays home, the mail waits */
	memset(&f, 0, sizeof(f));
	f.ehlo = "250-fake\r\n250 AUTH LOGIN PLAIN";
	fake_start(&f);
	settings(&s);
	s.auth_user = "user";
	s.auth_password = "pass";
	msg_init(&m, r, 1, to, "x\r\n");
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(r[0].status, RELAY_TEMP);
	assert_true(strncmp(r[0].error, "4.7.0 not sending a password", 28)
	    == 0);
	assert_int_equal(count(&f, "AUTH"), 0);
	fake_free(&f);
	msg_reset(&m);

	/* allowed in clear (tests): RFC 4616 message, base64 */
	memset(&f, 0, sizeof(f));
	f.ehlo = "250-fake\r\n250 AUTH LOGIN PLAIN";
	fake_start(&f);
	s.auth_without_tls = true;
	msg_init(&m, r, 1, to, "x\r\n");
	deliver(&s, &f, &m);
	fake_stop(&f);
	has_cmd(&f, "AUTH PLAIN AHVzZXIAcGFzcw==");
	assert_int_equal(r[0].status, RELAY_OK);
	fake_free(&f);
	msg_reset(&m);

	/* no PLAIN offered */
	memset(&f, 0, sizeof(f));
	f.ehlo = "250-fake\r\n250 AUTH CRAM-MD5";
	fake_start(&f);
	msg_init(&m, r, 1, to, "x\r\n");
	deliver(&s, &f, &m);
	fake_stop(&f);
	assert_int_equal(r[0].status, RELAY_TEMP);
	assert_non_null(strstr(r[0].error, "does not offer AUTH PLAIN"));
	fake_free(&f);
	msg_reset(&m);
}

/* a_cancel_descriptor_ends_a_wait_at_once */
static void
a_cancel_descriptor_ends_a_wait_at_once(void **state)
{
	static const char *const to[] = { "b@r.example" };
	struct fake_smtp f = { 0 };
	struct relay_settings s;
	struct relay_msg m;
	struct relay_rcpt r[1];
	struct timespec t0, t1;
	uint64_t one = 1;
	int efd;

	f.silent = true;
	fake_start(&f);
	settings(&s);
	s.command_timeout_ms = 60000;
	efd = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	s.cancel_fd = efd;
	msg_init(&m, r, 1, to, "x\r\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	deliver(&s, &f, &m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fake_stop(&f);
	close(efd);
	assert_int_equal(r[0].status, RELAY_TEMP);
	assert_true(strncmp(r[0].error, "4.3.2 ", 6) == 0);
	if (t1.tv_sec - t0.tv_sec > 5)
		fail_msg("got %lld s, want well under the 60 s timeout",
		    (long long)(t1.tv_sec - t0.tv_sec));
	fake_free(&f);
	msg_reset(&m);
}

/* host_and_port_strings_parse_as_documented - a table */
static void
host_and_port_strings_parse_as_documented(void **state)
{
	static const struct {
		const char	*in;
		int		 ret;
		const char	*host;
		unsigned int	 port;
	} cases[] = {
		{ "smtp.example.org", 0, "smtp.example.org", 25 },
		{ "smtp.example.org:587", 0, "smtp.example.org", 587 },
		{ "127.0.0.1:2525", 0, "127.0.0.1", 2525 },
		{ "[::1]:587", 0, "::1", 587 },
		{ "[2001:db8::1]", 0, "2001:db8::1", 25 },
		{ "::1", -1, NULL, 0 },
		{ "host:0", -1, NULL, 0 },
		{ "host:65536", -1, NULL, 0 },
		{ "host:", -1, NULL, 0 },
		{ ":25", -1, NULL, 0 },
		{ "[::1", -1, NULL, 0 },
		{ "[::1]x", -1, NULL, 0 },
		{ "", -1, NULL, 0 },
	};
	char host[256];
	unsigned int port;
	const char *err;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		port = 0;
		err = NULL;
		r = relay_parse_hostport(cases[i].in, host, sizeof(host),
		    &port, &err);
		if (r != cases[i].ret)
			fail_msg("\"%s\": got %d, want %d", cases[i].in, r,
			    cases[i].ret);
		if (r < 0) {
			assert_non_null(err);
			continue;
		}
		if (strcmp(host, cases[i].host) != 0 ||
		    port != cases[i].port)
			fail_msg("\"%s\": got %s %u, want %s %u", cases[i].in,
			    host, port, cases[i].host, cases[i].port);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    a_message_is_dot_stuffed_and_sent_with_crlf_lines),
		cmocka_unit_test(
		    mail_and_rcpt_carry_the_parameters_the_server_offers),
		cmocka_unit_test(
		    each_recipient_gets_the_verdict_of_its_own_reply),
		cmocka_unit_test(
		    what_goes_wrong_before_the_recipients_is_temporary),
		cmocka_unit_test(ehlo_refused_falls_back_to_helo),
		cmocka_unit_test(a_closed_port_is_a_temporary_failure),
		cmocka_unit_test(
		    the_transaction_verdicts_reach_every_recipient),
		cmocka_unit_test(
		    a_connection_lost_after_the_dot_is_temporary),
		cmocka_unit_test(
		    more_recipients_than_a_transaction_takes_go_in_several),
		cmocka_unit_test(
		    server_limits_rule_a_message_out_before_mail_from),
		cmocka_unit_test(
		    a_binarymime_message_goes_as_one_bdat_chunk_unstuffed),
		cmocka_unit_test(auth_plain_is_sent_only_where_allowed),
		cmocka_unit_test(a_cancel_descriptor_ends_a_wait_at_once),
		cmocka_unit_test(host_and_port_strings_parse_as_documented),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
