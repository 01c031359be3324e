/* test_smtp_parse.c - unit tests for smtpd/smtp_parse.c and smtp_xtext.c */
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

#include "smtp_parse.h"
#include "smtp_xtext.h"

#define ALL	(SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 | \
	SMTP_EXT_DSN | SMTP_EXT_CHUNKING | SMTP_EXT_BINARYMIME | \
	SMTP_EXT_AUTH | SMTP_EXT_STARTTLS)
#define LMTP	(ALL | SMTP_PARSE_LMTP)
#define NONE	0

#define OK		SMTP_PARSE_OK
#define UNKNOWN		SMTP_PARSE_ERR_UNKNOWN_COMMAND
#define BYTES		SMTP_PARSE_ERR_BAD_BYTES
#define NOTOFF		SMTP_PARSE_ERR_NOT_OFFERED
#define SYNTAX		SMTP_PARSE_ERR_SYNTAX
#define SENDER		SMTP_PARSE_ERR_SENDER
#define RCPT		SMTP_PARSE_ERR_RCPT
#define UTF8		SMTP_PARSE_ERR_UTF8_ADDR
#define PUNKNOWN	SMTP_PARSE_ERR_PARAM_UNKNOWN
#define PSYNTAX		SMTP_PARSE_ERR_PARAM_SYNTAX

/* summary - the parsed command as one comparable line */
static void
summary(const struct smtp_cmd *c, char *out, size_t size)
{
	static const char *const body[] = { "", "7BIT", "8BITMIME",
	    "BINARYMIME" };
	static const char *const ret[] = { "", "FULL", "HDRS" };
	struct buf b;
	char addr[SMTP_ADDR_STR_MAX];

	buf_init(&b, 0);
	buf_append_str(&b, c->verb_name);
	switch (c->verb) {
	case SMTP_VERB_MAIL:
	case SMTP_VERB_RCPT:
		smtp_addr_format(&c->addr, addr, sizeof(addr));
		buf_printf(&b, " <%s>", addr);
		if (c->size_given)
			buf_printf(&b, " size=%" PRIu64, c->size);
		if (c->body != SMTP_BODY_UNSET)
			buf_printf(&b, " body=%s", body[c->body]);
		if (c->smtputf8)
			buf_printf(&b, " smtputf8");
		if (c->ret != SMTP_RET_UNSET)
			buf_printf(&b, " ret=%s", ret[c->ret]);
		if (c->envid != NULL)
			buf_printf(&b, " envid=%s", c->envid);
		if (c->auth != NULL)
			buf_printf(&b, " auth=%s", c->auth);
		if (c->notify != 0)
			buf_printf(&b, " notify=%s%s%s%s",
			    c->notify & SMTP_NOTIFY_NEVER ? "N" : "",
			    c->notify & SMTP_NOTIFY_SUCCESS ? "S" : "",
			    c->notify & SMTP_NOTIFY_FAILURE ? "F" : "",
			    c->notify & SMTP_NOTIFY_DELAY ? "D" : "");
		if (c->orcpt != NULL)
			buf_printf(&b, " orcpt=%s;%s", c->orcpt_type, c->orcpt);
		break;
	case SMTP_VERB_BDAT:
		buf_printf(&b, " %" PRIu64 "%s", c->chunk_size,
		    c->last ? " last" : "");
		break;
	case SMTP_VERB_AUTH:
		buf_printf(&b, " %s%s%s", c->mech, c->initial ? " " : "",
		    c->initial ? c->initial : "");
		break;
	default:
		if (c->arg[0] != '\0')
			buf_printf(&b, " [%s]", c->arg);
		break;
	}
	snprintf(out, size, "%s", buf_cstr(&b));
	buf_deinit(&b);
}

struct parse_case {
	const char	*line;
	unsigned int	 flags;
	enum smtp_parse_err want_err;
	const char	*want;		/* summary on success */
};

/* run_cases - parse each line and compare error and summary */
static void
run_cases(const struct parse_case *cases, size_t n)
{
	struct smtp_cmd cmd;
	char got[1024];
	size_t i;
	int failures = 0, r;

	for (i = 0; i < n; i++) {
		const struct parse_case *c = &cases[i];

		r = smtp_parse(&cmd, c->line, strlen(c->line), c->flags);
		if (cmd.err != c->want_err || (r == 0) != (c->want_err == OK)) {
			print_error("\"%s\": got %s (%s), want %s\n", c->line,
			    smtp_parse_err_name(cmd.err),
			    cmd.err_text == NULL ? "" : cmd.err_text,
			    smtp_parse_err_name(c->want_err));
			failures++;
		} else if (r == 0 && c->want != NULL) {
			summary(&cmd, got, sizeof(got));
			if (strcmp(got, c->want) != 0) {
				print_error("\"%s\": got \"%s\", want \"%s\"\n",
				    c->line, got, c->want);
				failures++;
			}
		} else if (r < 0 && (cmd.err_text == NULL ||
		    cmd.err_text[0] == '\0')) {
			print_error("\"%s\": error without text\n", c->line);
			failures++;
		}
		smtp_cmd_deinit(&cmd);
	}
	assert_int_equal(failures, 0);
}

#define RUN(t)	run_cases((t), sizeof(t) / sizeof((t)[0]))

/* simple_verbs_parse_with_their_arguments */
static void
simple_verbs_parse_with_their_arguments(void **state)
{
	static const struct parse_case cases[] = {
		{ "EHLO client.example.org", ALL, OK,
		    "EHLO [client.example.org]" },
		{ "ehlo client", ALL, OK, "EHLO [client]" },
		{ "Helo [192.0.2.1]", ALL, OK, "HELO [[192.0.2.1]]" },
		{ "EHLO", ALL, SYNTAX, NULL },
		{ "EHLO a b", ALL, SYNTAX, NULL },
		{ "EHLO client  ", ALL, OK, "EHLO [client]" },
		{ "  NOOP", ALL, OK, "NOOP" },
		{ "LHLO client", ALL, UNKNOWN, NULL },
		{ "LHLO client", LMTP, OK, "LHLO [client]" },
		{ "EHLO client", LMTP, UNKNOWN, NULL },
		{ "HELO client", LMTP, UNKNOWN, NULL },
		{ "DATA", ALL, OK, "DATA" },
		{ "data", ALL, OK, "DATA" },
		{ "DATA ", ALL, OK, "DATA" },
		{ "DATA now", ALL, SYNTAX, NULL },
		{ "RSET", ALL, OK, "RSET" },
		{ "RSET x", ALL, SYNTAX, NULL },
		{ "QUIT", ALL, OK, "QUIT" },
		{ "QUIT now", ALL, SYNTAX, NULL },
		{ "NOOP", ALL, OK, "NOOP" },
		{ "NOOP anything at all", ALL, OK,
		    "NOOP [anything at all]" },
		{ "HELP", ALL, OK, "HELP" },
		{ "HELP MAIL", ALL, OK, "HELP [MAIL]" },
		{ "VRFY", ALL, SYNTAX, NULL },
		{ "VRFY Smith", ALL, OK, "VRFY [Smith]" },
		{ "EXPN", ALL, SYNTAX, NULL },
		{ "EXPN Example-People", ALL, OK, "EXPN [Example-People]" },
		{ "STARTTLS", ALL, OK, "STARTTLS" },
		{ "starttls", ALL, OK, "STARTTLS" },
		{ "STARTTLS now", ALL, SYNTAX, NULL },
		{ "STARTTLS", NONE, NOTOFF, NULL },
	};

	RUN(cases);
}

/* unknown_and_malformed_lines_get_distinct_errors */
static void
unknown_and_malformed_lines_get_distinct_errors(void **state)
{
	static const struct parse_case cases[] = {
		{ "", ALL, UNKNOWN, NULL },
		{ "    ", ALL, UNKNOWN, NULL },
		{ "FOO", ALL, UNKNOWN, NULL },
		{ "MAILFROM:<a@b>", ALL, UNKNOWN, NULL },
		{ "EHLOclient", ALL, UNKNOWN, NULL },
		{ "TURN", ALL, UNKNOWN, NULL },
		{ "ETRN example.org", ALL, UNKNOWN, NULL },
		{ "MAIL\tFROM:<a@b>", ALL, BYTES, NULL },
		{ "NOOP \x01", ALL, BYTES, NULL },
		{ "NOOP \x7f", ALL, BYTES, NULL },
		{ "QUIT\r", ALL, BYTES, NULL },
		{ "QUIT\n", ALL, BYTES, NULL },
		{ "DATA\r\n.\r\n", ALL, BYTES, NULL },
		{ "NOOP \xff", ALL, BYTES, NULL },
		{ "NOOP \xc3", ALL, BYTES, NULL },
		{ "NOOP h\xc3\xa9", NONE, BYTES, NULL },
		{ "NOOP h\xc3\xa9", ALL, OK, "NOOP [h\xc3\xa9]" },
		{ "\xc3\xa9HLO x", ALL, UNKNOWN, NULL },
	};

	RUN(cases);
}

/* a_nul_byte_anywhere_is_refused - lengths, not C strings */
static void
a_nul_byte_anywhere_is_refused(void **state)
{
	static const char line[] = "RCPT TO:<a@b>\0<c@d>";
	struct smtp_cmd cmd;

	assert_int_equal(smtp_parse(&cmd, line, sizeof(line) - 1, ALL), -1);
	assert_int_equal(cmd.err, SMTP_PARSE_ERR_BAD_BYTES);
	smtp_cmd_deinit(&cmd);
}

/* mail_from_parses_paths_and_lenient_forms */
static void
mail_from_parses_paths_and_lenient_forms(void **state)
{
	static const struct parse_case cases[] = {
		{ "MAIL FROM:<Smith@bar.com>", ALL, OK,
		    "MAIL <Smith@bar.com>" },
		{ "MAIL FROM: <Smith@bar.com>", ALL, OK,
		    "MAIL <Smith@bar.com>" },
		{ "mail from:<smith@bar.com>", ALL, OK,
		    "MAIL <smith@bar.com>" },
		{ "MAIL FROM:<>", ALL, OK, "MAIL <>" },
		{ "MAIL FROM:<@a,@b:u@c>", ALL, OK, "MAIL <u@c>" },
		{ "MAIL FROM:Smith@bar.com", ALL, SENDER, NULL },
		{ "MAIL FROM:<Smith@bar.com", ALL, SENDER, NULL },
		{ "MAIL FROM:<a b@c>", ALL, SENDER, NULL },
		{ "MAIL FROM:<postmaster>", ALL, SENDER, NULL },
		{ "MAIL FROM:", ALL, SENDER, NULL },
		{ "MAIL FROM :<a@b>", ALL, SYNTAX, NULL },
		{ "MAIL TO:<a@b>", ALL, SYNTAX, NULL },
		{ "MAIL", ALL, SYNTAX, NULL },
		{ "MAIL FROM:<a@b>SIZE=1", ALL, SYNTAX, NULL },
		{ "MAIL FROM:<a@b>  ", ALL, OK, "MAIL <a@b>" },
	};

	RUN(cases);
}

/* mail_parameters_follow_rfc_1870_6152_6531_3461_4954 */
static void
mail_parameters_follow_rfc_1870_6152_6531_3461_4954(void **state)
{
	static const struct parse_case cases[] = {
		{ "MAIL FROM:<a@b> SIZE=1000", ALL, OK,
		    "MAIL <a@b> size=1000" },
		{ "MAIL FROM:<a@b> size=0", ALL, OK, "MAIL <a@b> size=0" },
		{ "MAIL FROM:<a@b> SIZE=18446744073709551615", ALL, OK,
		    "MAIL <a@b> size=18446744073709551615" },
		{ "MAIL FROM:<a@b> SIZE=18446744073709551616", ALL, PSYNTAX,
		    NULL },
		{ "MAIL FROM:<a@b> SIZE=000000000000000000001", ALL, PSYNTAX,
		    NULL },
		{ "MAIL FROM:<a@b> SIZE=-1", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> SIZE=1k", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> SIZE=", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> SIZE", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> SIZE=1 SIZE=1", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> SIZE=1", NONE, PUNKNOWN, NULL },
		{ "MAIL FROM:<a@b> BODY=8BITMIME", ALL, OK,
		    "MAIL <a@b> body=8BITMIME" },
		{ "MAIL FROM:<a@b> BODY=7bit", ALL, OK,
		    "MAIL <a@b> body=7BIT" },
		{ "MAIL FROM:<a@b> BODY=BINARYMIME", ALL, OK,
		    "MAIL <a@b> body=BINARYMIME" },
		{ "MAIL FROM:<a@b> BODY=BINARYMIME", SMTP_EXT_8BITMIME, PSYNTAX,
		    NULL },
		{ "MAIL FROM:<a@b> BODY=9BIT", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> BODY=8BITMIME", NONE, PUNKNOWN, NULL },
		{ "MAIL FROM:<a@b> SMTPUTF8", ALL, OK, "MAIL <a@b> smtputf8" },
		{ "MAIL FROM:<a@b> smtputf8", ALL, OK, "MAIL <a@b> smtputf8" },
		{ "MAIL FROM:<a@b> SMTPUTF8=yes", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> SMTPUTF8", NONE, PUNKNOWN, NULL },
		{ "MAIL FROM:<a@b> RET=FULL", ALL, OK, "MAIL <a@b> ret=FULL" },
		{ "MAIL FROM:<a@b> RET=hdrs", ALL, OK, "MAIL <a@b> ret=HDRS" },
		{ "MAIL FROM:<a@b> RET=ALL", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> RET=FULL", NONE, PUNKNOWN, NULL },
		/* RFC 3461 section 4.4 example */
		{ "MAIL FROM:<a@b> ENVID=QQ314159", ALL, OK,
		    "MAIL <a@b> envid=QQ314159" },
		{ "MAIL FROM:<a@b> ENVID=a+2Bb+3Dc", ALL, OK,
		    "MAIL <a@b> envid=a+b=c" },
		{ "MAIL FROM:<a@b> ENVID=a+2bb", ALL, OK,
		    "MAIL <a@b> envid=a+b" },
		{ "MAIL FROM:<a@b> ENVID=a+2", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> ENVID=a+", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> ENVID=a+ZZ", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> ENVID=a+0D+0A", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> ENVID=a+00", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> ENVID=a=b", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> ENVID=", ALL, PSYNTAX, NULL },
		/* RFC 4954 section 5 examples */
		{ "MAIL FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com",
		    ALL, OK,
		    "MAIL <e=mc2@example.com> auth=e=mc2@example.com" },
		{ "MAIL FROM:<a@b> AUTH=<>", ALL, OK, "MAIL <a@b> auth=<>" },
		{ "MAIL FROM:<a@b> AUTH=<>", NONE, PUNKNOWN, NULL },
		{ "MAIL FROM:<a@b> FOO=bar", ALL, PUNKNOWN, NULL },
		{ "MAIL FROM:<a@b> X-FOO", ALL, PUNKNOWN, NULL },
		{ "MAIL FROM:<a@b> NOTIFY=NEVER", ALL, PUNKNOWN, NULL },
		{ "MAIL FROM:<a@b> ORCPT=rfc822;a@b", ALL, PUNKNOWN, NULL },
		{ "MAIL FROM:<a@b> -X=1", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> =1", ALL, PSYNTAX, NULL },
		{ "MAIL FROM:<a@b> SIZE=1 BODY=8BITMIME SMTPUTF8 RET=HDRS "
		    "ENVID=x AUTH=<>", ALL, OK,
		    "MAIL <a@b> size=1 body=8BITMIME smtputf8 ret=HDRS "
		    "envid=x auth=<>" },
		{ "MAIL FROM:<a@b>  SIZE=1   BODY=7BIT", ALL, OK,
		    "MAIL <a@b> size=1 body=7BIT" },
	};

	RUN(cases);
}

/* rcpt_to_parses_paths_and_dsn_parameters */
static void
rcpt_to_parses_paths_and_dsn_parameters(void **state)
{
	static const struct parse_case cases[] = {
		{ "RCPT TO:<Jones@XYZ.COM>", ALL, OK, "RCPT <Jones@XYZ.COM>" },
		{ "RCPT TO: <Jones@XYZ.COM>", ALL, OK, "RCPT <Jones@XYZ.COM>" },
		{ "rcpt to:<postmaster>", ALL, OK, "RCPT <postmaster>" },
		{ "RCPT TO:<>", ALL, RCPT, NULL },
		{ "RCPT TO:<jones>", ALL, RCPT, NULL },
		{ "RCPT TO:Jones@XYZ.COM", ALL, RCPT, NULL },
		{ "RCPT FROM:<a@b>", ALL, SYNTAX, NULL },
		{ "RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE", ALL, OK,
		    "RCPT <a@b> notify=SF" },
		{ "RCPT TO:<a@b> NOTIFY=delay,success,failure", ALL, OK,
		    "RCPT <a@b> notify=SFD" },
		{ "RCPT TO:<a@b> NOTIFY=NEVER", ALL, OK,
		    "RCPT <a@b> notify=N" },
		{ "RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> NOTIFY=DELAY,NEVER", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> NOTIFY=SUCCESS,SUCCESS", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> NOTIFY=SUCCESS,", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> NOTIFY=,SUCCESS", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> NOTIFY=BOGUS", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> NOTIFY=", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER", ALL, PSYNTAX,
		    NULL },
		{ "RCPT TO:<a@b> NOTIFY=NEVER", NONE, PUNKNOWN, NULL },
		/* RFC 3461 section 4.2 */
		{ "RCPT TO:<a@b> ORCPT=rfc822;Bob@Example.COM", ALL, OK,
		    "RCPT <a@b> orcpt=rfc822;Bob@Example.COM" },
		{ "RCPT TO:<a@b> ORCPT=rfc822;bob+2Bx@example.com", ALL, OK,
		    "RCPT <a@b> orcpt=rfc822;bob+x@example.com" },
		{ "RCPT TO:<a@b> ORCPT=utf-8;j\xc3\xb6rg@example.com", ALL, OK,
		    "RCPT <a@b> orcpt=utf-8;j\xc3\xb6rg@example.com" },
		{ "RCPT TO:<a@b> ORCPT=rfc822;j\xc3\xb6rg@example.com", ALL,
		    PSYNTAX, NULL },
		{ "RCPT TO:<a@b> ORCPT=rfc822", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> ORCPT=;a@b", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> ORCPT=rfc822;", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> ORCPT=rfc.822;a@b", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> ORCPT=rfc822;a+4", ALL, PSYNTAX, NULL },
		{ "RCPT TO:<a@b> ORCPT=rfc822;a@b", NONE, PUNKNOWN, NULL },
		{ "RCPT TO:<a@b> SIZE=10", ALL, PUNKNOWN, NULL },
		{ "RCPT TO:<a@b> BODY=8BITMIME", ALL, PUNKNOWN, NULL },
		{ "RCPT TO:<a@b> NOTIFY=FAILURE,DELAY ORCPT=rfc822;x@y", ALL,
		    OK, "RCPT <a@b> notify=FD orcpt=rfc822;x@y" },
	};

	RUN(cases);
}

/* utf8_addresses_need_smtputf8_rfc_6531 */
static void
utf8_addresses_need_smtputf8_rfc_6531(void **state)
{
	static const struct parse_case cases[] = {
		{ "MAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8", ALL, OK,
		    "MAIL <j\xc3\xb6rg@example.org> smtputf8" },
		{ "MAIL FROM:<j\xc3\xb6rg@example.org>", ALL, UTF8, NULL },
		{ "MAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8", NONE, UTF8,
		    NULL },
		{ "MAIL FROM:<a@b\xc3\xbc" "cher.example> SMTPUTF8", ALL, OK,
		    "MAIL <a@b\xc3\xbc" "cher.example> smtputf8" },
		{ "RCPT TO:<j\xc3\xb6rg@example.org>", ALL, UTF8, NULL },
		{ "RCPT TO:<j\xc3\xb6rg@example.org>",
		    ALL | SMTP_PARSE_UTF8_TXN, OK,
		    "RCPT <j\xc3\xb6rg@example.org>" },
		{ "RCPT TO:<j\xc3\xb6rg@example.org>",
		    NONE | SMTP_PARSE_UTF8_TXN, UTF8, NULL },
		{ "MAIL FROM:<j\xc3rg@example.org> SMTPUTF8", ALL, BYTES,
		    NULL },
	};

	RUN(cases);
}

/* bdat_takes_a_size_and_an_optional_last_rfc_3030 */
static void
bdat_takes_a_size_and_an_optional_last_rfc_3030(void **state)
{
	static const struct parse_case cases[] = {
		{ "BDAT 86", ALL, OK, "BDAT 86" },
		{ "BDAT 1000 LAST", ALL, OK, "BDAT 1000 last" },
		{ "bdat 0 last", ALL, OK, "BDAT 0 last" },
		{ "BDAT 18446744073709551615", ALL, OK,
		    "BDAT 18446744073709551615" },
		{ "BDAT 18446744073709551616", ALL, SYNTAX, NULL },
		{ "BDAT", ALL, SYNTAX, NULL },
		{ "BDAT x", ALL, SYNTAX, NULL },
		{ "BDAT -1", ALL, SYNTAX, NULL },
		{ "BDAT +1", ALL, SYNTAX, NULL },
		{ "BDAT 1 FIRST", ALL, SYNTAX, NULL },
		{ "BDAT 1 LAST x", ALL, SYNTAX, NULL },
		{ "BDAT LAST", ALL, SYNTAX, NULL },
		{ "BDAT 86", NONE, NOTOFF, NULL },
	};

	RUN(cases);
}

/* auth_takes_a_mechanism_and_an_optional_initial_response */
static void
auth_takes_a_mechanism_and_an_optional_initial_response(void **s)
{
	static const struct parse_case cases[] = {
		{ "AUTH PLAIN", ALL, OK, "AUTH PLAIN" },
		{ "auth login", ALL, OK, "AUTH LOGIN" },
		{ "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=", ALL, OK,
		    "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=" },
		{ "AUTH PLAIN AGJvYgBzZWNyZXQ=", ALL, OK,
		    "AUTH PLAIN AGJvYgBzZWNyZXQ=" },
		{ "AUTH EXTERNAL =", ALL, OK, "AUTH EXTERNAL =" },
		{ "AUTH SCRAM-SHA-256", ALL, OK, "AUTH SCRAM-SHA-256" },
		{ "AUTH ABCDEFGHIJKLMNOPQRST", ALL, OK,
		    "AUTH ABCDEFGHIJKLMNOPQRST" },
		{ "AUTH ABCDEFGHIJKLMNOPQRSTU", ALL, SYNTAX, NULL },
		{ "AUTH", ALL, SYNTAX, NULL },
		{ "AUTH PL@IN", ALL, SYNTAX, NULL },
		{ "AUTH PLAIN abc", ALL, SYNTAX, NULL },
		{ "AUTH PLAIN ab=c", ALL, SYNTAX, NULL },
		{ "AUTH PLAIN a===", ALL, SYNTAX, NULL },
		{ "AUTH PLAIN ab*c", ALL, SYNTAX, NULL },
		{ "AUTH PLAIN abcd efgh", ALL, SYNTAX, NULL },
		{ "AUTH PLAIN", NONE, NOTOFF, NULL },
	};

	RUN(cases);
}

/* make_line - "prefix" + n copies of c + "suffix" into dst */
static const char *
make_line(char *dst, size_t size, const char *prefix, char c, size_t n,
    const char *suffix)
{
	size_t p = strlen(prefix);

	assert_true(p + n + strlen(suffix) < size);
	memcpy(dst, prefix, p);
	memset(dst + p, c, n);
	strcpy(dst + p + n, suffix);
	return dst;
}

/* length_limits_hold_at_the_ceiling_and_fail_one_past_it */
static void
length_limits_hold_at_the_ceiling_and_fail_one_past_it(void **state)
{
	struct {
		const char	*prefix;
		size_t		 n;
		const char	*suffix;
		enum smtp_parse_err want;
	} cases[] = {
		{ "MAIL FROM:<a@b> ENVID=", 100, "", OK },
		{ "MAIL FROM:<a@b> ENVID=", 101, "", PSYNTAX },
		/* ORCPT= value: "rfc822;" (7) + 493 = 500 */
		{ "RCPT TO:<a@b> ORCPT=rfc822;", 493, "", OK },
		{ "RCPT TO:<a@b> ORCPT=rfc822;", 494, "", PSYNTAX },
		/* SIZE= 1*20DIGIT */
		{ "MAIL FROM:<a@b> SIZE=", 20, "", PSYNTAX },	/* overflows */
		{ "MAIL FROM:<a@b> SIZE=0", 19, "", OK },
		{ "MAIL FROM:<a@b> SIZE=0", 20, "", PSYNTAX },
		/* local part 64 */
		{ "RCPT TO:<", 64, "@example.org>", OK },
		{ "RCPT TO:<", 65, "@example.org>", RCPT },
		{ "MAIL FROM:<", 65, "@example.org>", SENDER },
	};
	char line[2048];
	struct smtp_cmd cmd;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_line(line, sizeof(line), cases[i].prefix,
		    cases[i].prefix[strlen(cases[i].prefix) - 1] == '0' ? '0' :
		    (strstr(cases[i].prefix, "SIZE") ? '9' : 'x'),
		    cases[i].n, cases[i].suffix);
		r = smtp_parse(&cmd, line, strlen(line), ALL);
		if (cmd.err != cases[i].want ||
		    (r == 0) != (cases[i].want == OK))
			fail_msg("%s...(%zu): got %s, want %s",
			    cases[i].prefix, cases[i].n,
			    smtp_parse_err_name(cmd.err),
			    smtp_parse_err_name(cases[i].want));
		smtp_cmd_deinit(&cmd);
	}
	/* the specific address error reaches the reply text */
	make_line(line, sizeof(line), "RCPT TO:<", 'x', 65, "@example.org>");
	assert_int_equal(smtp_parse(&cmd, line, strlen(line), ALL), -1);
	assert_string_equal(cmd.err_text, "Local part too long");
	smtp_cmd_deinit(&cmd);
}

/* every_error_maps_to_its_rfc_reply */
static void
every_error_maps_to_its_rfc_reply(void **state)
{
	static const struct {
		enum smtp_parse_err err;
		int		 code;
		const char	*enh;
	} cases[] = {
		{ SMTP_PARSE_ERR_UNKNOWN_COMMAND, 500, "5.5.1" },
		{ SMTP_PARSE_ERR_BAD_BYTES, 500, "5.5.2" },
		{ SMTP_PARSE_ERR_NOT_OFFERED, 502, "5.5.1" },
		{ SMTP_PARSE_ERR_SYNTAX, 501, "5.5.4" },
		{ SMTP_PARSE_ERR_SENDER, 501, "5.1.7" },
		{ SMTP_PARSE_ERR_RCPT, 501, "5.1.3" },
		{ SMTP_PARSE_ERR_UTF8_ADDR, 553, "5.6.7" },
		{ SMTP_PARSE_ERR_PARAM_UNKNOWN, 555, "5.5.4" },
		{ SMTP_PARSE_ERR_PARAM_SYNTAX, 501, "5.5.4" },
	};
	const char *enh, *text;
	size_t i;
	int code;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		smtp_parse_err_reply(cases[i].err, &code, &enh, &text);
		if (code != cases[i].code || strcmp(enh, cases[i].enh) != 0 ||
		    text[0] == '\0')
			fail_msg("%s: got %d %s, want %d %s",
			    smtp_parse_err_name(cases[i].err), code, enh,
			    cases[i].code, cases[i].enh);
	}
}

/* the_verb_is_known_even_when_the_arguments_are_bad */
static void
the_verb_is_known_even_when_the_arguments_are_bad(void **state)
{
	struct smtp_cmd cmd;

	assert_int_equal(smtp_parse(&cmd, "RCPT TO:<>", 10, ALL), -1);
	assert_int_equal(cmd.verb, SMTP_VERB_RCPT);
	smtp_cmd_deinit(&cmd);
	assert_int_equal(smtp_parse(&cmd, "BDAT 1", 6, NONE), -1);
	assert_int_equal(cmd.verb, SMTP_VERB_BDAT);
	smtp_cmd_deinit(&cmd);
}

/* xtext_round_trips_every_printable_byte */
static void
xtext_round_trips_every_printable_byte(void **state)
{
	char in[128], out[400];
	struct buf b;
	size_t i, n = 0;
	long r;

	for (i = 0x20; i < 0x7f; i++)
		in[n++] = (char)i;
	buf_init(&b, 0);
	assert_int_equal(smtp_xtext_encode(&b, in, n), 0);
	assert_null(strchr(buf_cstr(&b), ' '));
	assert_null(strchr(buf_cstr(&b), '='));
	r = smtp_xtext_decode(buf_ptr(&b), buf_avail(&b), false, out);
	assert_int_equal(r, (long)n);
	assert_memory_equal(out, in, n);
	buf_deinit(&b);
}

/*
 * every_prefix_and_every_byte_value_is_handled - byte-level torture: each
 * prefix and each single-byte substitution of real command lines parses or
 * fails cleanly, never reads past its input (ASan), and a success never
 * carries an error
 */
static void
every_prefix_and_every_byte_value_is_handled(void **state)
{
	static const char *const seeds[] = {
		"MAIL FROM:<\"q\\\"x\"@[IPv6:::1]> SIZE=1 BODY=8BITMIME "
		    "SMTPUTF8 RET=HDRS ENVID=a+2Bb AUTH=<>",
		"RCPT TO:<@a,@b:u+d@c.example> NOTIFY=SUCCESS,DELAY "
		    "ORCPT=rfc822;u+40c",
		"AUTH PLAIN AGJvYgBzZWNyZXQ=",
		"BDAT 1000 LAST",
		"EHLO client.example",
	};
	struct smtp_cmd cmd;
	size_t s, n, i;
	unsigned int v, flags;
	char *copy;
	int r;

	for (s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		size_t len = strlen(seeds[s]);

		for (flags = 0; flags <= 1; flags++) {
			for (n = 0; n <= len; n++) {
				copy = malloc(n == 0 ? 1 : n);
				memcpy(copy, seeds[s], n);
				r = smtp_parse(&cmd, copy, n,
				    flags ? ALL : NONE);
				assert_true((r == 0) == (cmd.err == OK));
				smtp_cmd_deinit(&cmd);
				free(copy);
			}
		}
		copy = malloc(len);
		for (i = 0; i < len; i++) {
			for (v = 0; v < 256; v++) {
				memcpy(copy, seeds[s], len);
				copy[i] = (char)v;
				r = smtp_parse(&cmd, copy, len, ALL);
				assert_true((r == 0) == (cmd.err == OK));
				if (r < 0)
					assert_non_null(cmd.err_text);
				smtp_cmd_deinit(&cmd);
			}
		}
		free(copy);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simple_verbs_parse_with_their_arguments),
		cmocka_unit_test(
		    unknown_and_malformed_lines_get_distinct_errors),
		cmocka_unit_test(a_nul_byte_anywhere_is_refused),
		cmocka_unit_test(mail_from_parses_paths_and_lenient_forms),
		cmocka_unit_test(
		    mail_parameters_follow_rfc_1870_6152_6531_3461_4954),
		cmocka_unit_test(rcpt_to_parses_paths_and_dsn_parameters),
		cmocka_unit_test(utf8_addresses_need_smtputf8_rfc_6531),
		cmocka_unit_test(
		    bdat_takes_a_size_and_an_optional_last_rfc_3030),
		cmocka_unit_test(
		    auth_takes_a_mechanism_and_an_optional_initial_response),
		cmocka_unit_test(
		    length_limits_hold_at_the_ceiling_and_fail_one_past_it),
		cmocka_unit_test(every_error_maps_to_its_rfc_reply),
		cmocka_unit_test(
		    the_verb_is_known_even_when_the_arguments_are_bad),
		cmocka_unit_test(xtext_round_trips_every_printable_byte),
		cmocka_unit_test(every_prefix_and_every_byte_value_is_handled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
