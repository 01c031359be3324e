/* test_smtp_addr.c - unit tests for smtpd/smtp_addr.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_addr.h"

#define F_NULL	SMTP_ADDR_F_NULL
#define F_PM	SMTP_ADDR_F_POSTMASTER
#define F_UTF8	SMTP_ADDR_F_UTF8

static const char *const err_names[] = {
	"OK", "SYNTAX", "LOCAL_TOO_LONG", "DOMAIN_TOO_LONG", "PATH_TOO_LONG",
	"UTF8", "NULL", "NO_DOMAIN"
};

/* fill - a string of n copies of c (static buffer per call site) */
static char *
fill(char *dst, char c, size_t n)
{
	memset(dst, c, n);
	dst[n] = '\0';
	return dst;
}

/* make_domain - a valid domain of exactly n octets, labels <= 63 */
static char *
make_domain(char *dst, size_t n)
{
	size_t i = 0, label;
	char c = 'a';

	while (i < n) {
		label = n - i <= 63 ? n - i : (n - i - 2 < 63 ? n - i - 2 : 63);
		memset(dst + i, c, label);
		i += label;
		if (i < n)
			dst[i++] = '.';
		c = c == 'z' ? 'a' : c + 1;
	}
	dst[n] = '\0';
	return dst;
}

struct path_case {
	const char	*in;
	unsigned int	 flags;
	enum smtp_addr_err want_err;
	enum smtp_addr_kind kind;
	const char	*local;
	const char	*domain;	/* as sent */
	const char	*domain_lc;
	bool		 quoted, literal, routed;
};

static const struct path_case path_cases[] = {
	/* plain mailboxes */
	{ "<user@example.org>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "user", "example.org", "example.org", false, false, false },
	{ "<John.Doe@Example.ORG>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "John.Doe", "Example.ORG", "example.org", false, false, false },
	{ "<a!#$%&'*+-/=?^_`{|}~@x.y>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "a!#$%&'*+-/=?^_`{|}~", "x.y", "x.y", false, false, false },
	{ "<u@localhost>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "u", "localhost", "localhost", false, false, false },
	{ "<u@a-b.c0>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "u", "a-b.c0", "a-b.c0", false, false, false },
	/* quoted local parts are kept exactly, never split */
	{ "<\"john doe\"@example.org>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "\"john doe\"", "example.org", "example.org", true, false, false },
	{ "<\"a@b\"@example.org>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "\"a@b\"", "example.org", "example.org", true, false, false },
	{ "<\"a%b!c\"@example.org>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "\"a%b!c\"", "example.org", "example.org", true, false, false },
	{ "<\"a\\\"b\\\\c\"@x>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "\"a\\\"b\\\\c\"", "x", "x", true, false, false },
	{ "<\"a>b\"@x>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "\"a>b\"", "x", "x", true, false, false },
	{ "<\"\"@x>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "\"\"", "x", "x", true, false, false },
	/* address literals, canonicalised for lookups */
	{ "<u@[192.0.2.1]>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "u", "[192.0.2.1]", "[192.0.2.1]", false, true, false },
	{ "<u@[192.000.002.001]>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "u", "[192.000.002.001]", "[192.0.2.1]", false, true, false },
	{ "<u@[IPv6:2001:DB8::1]>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "u", "[IPv6:2001:DB8::1]", "[IPv6:2001:db8::1]", false, true,
	    false },
	{ "<u@[ipv6:::1]>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "u", "[ipv6:::1]", "[IPv6:::1]", false, true, false },
	{ "<u@[IPv6:::ffff:192.0.2.1]>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "u", "[IPv6:::ffff:192.0.2.1]", "[IPv6:::ffff:192.0.2.1]", false,
	    true, false },
	/* source routes are accepted and dropped (RFC 5321 appendix C) */
	{ "<@a.example,@b.example:user@c.example>", 0, SMTP_ADDR_OK,
	    SMTP_ADDR_MAILBOX, "user", "c.example", "c.example", false, false,
	    true },
	{ "<@relay:u@x>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "u", "x", "x", false, false, true },
	/* null path and postmaster, only where allowed */
	{ "<>", F_NULL, SMTP_ADDR_OK, SMTP_ADDR_NULL, "", "", "",
	    false, false, false },
	{ "<>", 0, SMTP_ADDR_ERR_NULL },
	{ "<postmaster>", F_PM, SMTP_ADDR_OK, SMTP_ADDR_POSTMASTER,
	    "postmaster", "", "", false, false, false },
	{ "<PostMaster>", F_PM, SMTP_ADDR_OK, SMTP_ADDR_POSTMASTER,
	    "postmaster", "", "", false, false, false },
	{ "<postmaster@Example.org>", 0, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "postmaster", "Example.org", "example.org", false, false, false },
	{ "<postmaster>", 0, SMTP_ADDR_ERR_NO_DOMAIN },
	{ "<\"postmaster\">", F_PM, SMTP_ADDR_ERR_NO_DOMAIN },
	{ "<@a:postmaster>", F_PM, SMTP_ADDR_ERR_NO_DOMAIN },
	{ "<user>", F_PM, SMTP_ADDR_ERR_NO_DOMAIN },
	/* syntax errors */
	{ "", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "user@example.org", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<user@example.org", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<user@>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<@example.org>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<user@@example.org>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a@b@example.org>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<.user@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<user.@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<us..er@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<us er@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "< user@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<user@x >", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<user(comment)@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a,b@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@-x.org>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@x-.org>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@x..org>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@x.org.>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@.x.org>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@x_y.org>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<\"unterminated@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<\"a\"b@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<\"a\\\x01\"@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<\"a\tb\"@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@[256.1.1.1]>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@[1.2.3]>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@[1.2.3.4.5]>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@[1.2.3.0004]>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@[IPv6:1:2:3]>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@[IPv6:]>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@[x-tag:stuff]>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@[1.2.3.4>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u@[1.2.3.4]x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<@a,u@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<@a:>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<@:u@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<@a,,@b:u@x>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a@b\x00>", 0, SMTP_ADDR_ERR_SYNTAX },
	/* UTF-8 only with SMTPUTF8 (RFC 6531) */
	{ "<j\xc3\xb6rg@example.org>", 0, SMTP_ADDR_ERR_UTF8 },
	{ "<j\xc3\xb6rg@example.org>", F_UTF8, SMTP_ADDR_OK,
	    SMTP_ADDR_MAILBOX, "j\xc3\xb6rg", "example.org", "example.org",
	    false, false, false },
	{ "<u@b\xc3\xbc" "cher.example>", F_UTF8, SMTP_ADDR_OK,
	    SMTP_ADDR_MAILBOX, "u", "b\xc3\xbc" "cher.example",
	    "b\xc3\xbc" "cher.example", false, false, false },
	{ "<u@b\xc3\xbc" "cher.example>", 0, SMTP_ADDR_ERR_UTF8 },
	{ "<\"\xe2\x82\xac\"@x>", F_UTF8, SMTP_ADDR_OK, SMTP_ADDR_MAILBOX,
	    "\"\xe2\x82\xac\"", "x", "x", true, false, false },
	{ "<j\xc3rg@x>", F_UTF8, SMTP_ADDR_ERR_SYNTAX },	/* truncated */
	{ "<j\xc0\xaf" "rg@x>", F_UTF8, SMTP_ADDR_ERR_SYNTAX },	/* overlong */
	{ "<\xed\xa0\x80@x>", F_UTF8, SMTP_ADDR_ERR_SYNTAX },	/* surrogate */
	{ "<\xc2\x85@x>", F_UTF8, SMTP_ADDR_ERR_SYNTAX },	/* C1 control */
	{ "<u@[1.2.3.\xc3\xa4]>", F_UTF8, SMTP_ADDR_ERR_SYNTAX },
};

/* paths_parse_the_way_rfc_5321_says - the table above */
static void
paths_parse_the_way_rfc_5321_says(void **state)
{
	size_t i, used, len;
	int failures = 0;

	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		struct smtp_addr a;
		enum smtp_addr_err err;
		int r;

		/* the "\x00" case wants its NUL counted */
		len = strlen(c->in);
		if (strcmp(c->in, "<a@b") == 0)
			len = 6;
		r = smtp_addr_parse_path(c->in, len, c->flags, &a, &used,
		    &err);
		if (err != c->want_err || (r == 0) != (c->want_err == 0)) {
			print_error("%s: got %s (%d), want %s\n", c->in,
			    err_names[err], r, err_names[c->want_err]);
			failures++;
			continue;
		}
		if (r < 0)
			continue;
		if (a.kind != c->kind || strcmp(a.local, c->local) != 0 ||
		    strcmp(a.domain, c->domain) != 0 ||
		    strcmp(a.domain_lc, c->domain_lc) != 0 ||
		    a.quoted != c->quoted || a.literal != c->literal ||
		    a.routed != c->routed || used != len) {
			print_error("%s: got kind %d local \"%s\" "
			    "domain \"%s\" lc \"%s\" q%d l%d r%d used %zu, "
			    "want kind %d local \"%s\" domain \"%s\" "
			    "lc \"%s\" q%d l%d r%d used %zu\n", c->in, a.kind,
			    a.local, a.domain,
			    a.domain_lc, a.quoted, a.literal, a.routed, used,
			    c->kind, c->local, c->domain, c->domain_lc,
			    c->quoted, c->literal, c->routed, len);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* parsing_stops_after_the_closing_bracket - parameters may follow */
static void
parsing_stops_after_the_closing_bracket(void **state)
{
	static const struct {
		const char	*in;
		size_t		 want;
	} cases[] = {
		{ "<a@b> SIZE=10", 5 },
		{ "<\"a>b\"@c> BODY=8BITMIME", 9 },
		{ "<>  ", 2 },
		{ "<a@[1.2.3.4]>>", 13 },
	};
	size_t i, used;
	struct smtp_addr a;
	enum smtp_addr_err err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(smtp_addr_parse_path(cases[i].in,
		    strlen(cases[i].in), F_NULL, &a, &used, &err), 0);
		if (used != cases[i].want)
			fail_msg("%s: got used %zu, want %zu", cases[i].in,
			    used, cases[i].want);
	}
}

/* try_path - parse "<local@domain>" and return the error */
static enum smtp_addr_err
try_path(const char *local, const char *domain)
{
	char path[1024];
	struct smtp_addr a;
	enum smtp_addr_err err;
	size_t used;

	snprintf(path, sizeof(path), "<%s@%s>", local, domain);
	smtp_addr_parse_path(path, strlen(path), 0, &a, &used, &err);
	if (err == SMTP_ADDR_OK) {
		assert_string_equal(a.local, local);
		assert_string_equal(a.domain, domain);
	}
	return err;
}

/* a_local_part_of_64_octets_is_accepted_and_65_is_refused */
static void
a_local_part_of_64_octets_is_accepted_and_65_is_refused(void **state)
{
	char local[100], quoted[200];

	assert_int_equal(try_path(fill(local, 'x', 64), "x.org"),
	    SMTP_ADDR_OK);
	assert_int_equal(try_path(fill(local, 'x', 65), "x.org"),
	    SMTP_ADDR_ERR_LOCAL_TOO_LONG);
	/* the quotes count: they are octets of the local part */
	snprintf(quoted, sizeof(quoted), "\"%s\"", fill(local, 'q', 62));
	assert_int_equal(try_path(quoted, "x.org"), SMTP_ADDR_OK);
	snprintf(quoted, sizeof(quoted), "\"%s\"", fill(local, 'q', 63));
	assert_int_equal(try_path(quoted, "x.org"),
	    SMTP_ADDR_ERR_LOCAL_TOO_LONG);
}

/* a_path_of_256_octets_is_accepted_and_257_is_refused */
static void
a_path_of_256_octets_is_accepted_and_257_is_refused(void **state)
{
	char local[100], domain[300];

	/* "<" 64 "@" 189 ">" = 256 */
	fill(local, 'l', 64);
	assert_int_equal(try_path(local, make_domain(domain, 189)),
	    SMTP_ADDR_OK);
	assert_int_equal(try_path(local, make_domain(domain, 190)),
	    SMTP_ADDR_ERR_PATH_TOO_LONG);
	/* a source route counts towards the path too */
	{
		char path[400];
		struct smtp_addr a;
		enum smtp_addr_err err;
		size_t used;

		snprintf(path, sizeof(path), "<@r:%s@%s>", local,
		    make_domain(domain, 186));
		assert_int_equal(strlen(path), 256);
		assert_int_equal(smtp_addr_parse_path(path, strlen(path), 0,
		    &a, &used, &err), 0);
		snprintf(path, sizeof(path), "<@r:%s@%s>", local,
		    make_domain(domain, 187));
		assert_int_equal(smtp_addr_parse_path(path, strlen(path), 0,
		    &a, &used, &err), -1);
		assert_int_equal(err, SMTP_ADDR_ERR_PATH_TOO_LONG);
	}
}

/* a_domain_of_255_octets_is_valid_and_256_is_not - e.g. for EHLO */
static void
a_domain_of_255_octets_is_valid_and_256_is_not(void **state)
{
	char domain[300];

	assert_true(smtp_addr_domain_valid(make_domain(domain, 255), 255, 0));
	assert_false(smtp_addr_domain_valid(make_domain(domain, 256), 256, 0));
	/* and inside a path the domain limit is reported as such */
	assert_int_equal(try_path("u", make_domain(domain, 256)),
	    SMTP_ADDR_ERR_DOMAIN_TOO_LONG);
}

/* a_label_of_63_octets_is_valid_and_64_is_not */
static void
a_label_of_63_octets_is_valid_and_64_is_not(void **state)
{
	char label[100], domain[200];

	snprintf(domain, sizeof(domain), "%s.org", fill(label, 'a', 63));
	assert_true(smtp_addr_domain_valid(domain, strlen(domain), 0));
	assert_int_equal(try_path("u", domain), SMTP_ADDR_OK);
	snprintf(domain, sizeof(domain), "%s.org", fill(label, 'a', 64));
	assert_false(smtp_addr_domain_valid(domain, strlen(domain), 0));
	assert_int_equal(try_path("u", domain), SMTP_ADDR_ERR_DOMAIN_TOO_LONG);
}

/* domains_and_literals_are_checked_for_ehlo */
static void
domains_and_literals_are_checked_for_ehlo(void **state)
{
	static const struct {
		const char	*in;
		unsigned int	 flags;
		bool		 want;
	} cases[] = {
		{ "mail.example.org", 0, true },
		{ "localhost", 0, true },
		{ "[127.0.0.1]", 0, true },
		{ "[IPv6:::1]", 0, true },
		{ "", 0, false },
		{ "mail.example.org.", 0, false },
		{ "my_laptop", 0, false },
		{ "a b", 0, false },
		{ "[127.0.0.1", 0, false },
		{ "127.0.0.1]", 0, false },
		{ "b\xc3\xbc" "cher.example", 0, false },
		{ "b\xc3\xbc" "cher.example", F_UTF8, true },
	};
	size_t i;
	bool got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = smtp_addr_domain_valid(cases[i].in, strlen(cases[i].in),
		    cases[i].flags);
		if (got != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].in, got,
			    cases[i].want);
	}
}

/* bare_mailboxes_parse_without_brackets */
static void
bare_mailboxes_parse_without_brackets(void **state)
{
	static const struct {
		const char	*in;
		enum smtp_addr_err want;
	} cases[] = {
		{ "user@example.org", SMTP_ADDR_OK },
		{ "\"a b\"@example.org", SMTP_ADDR_OK },
		{ "user@[10.0.0.1]", SMTP_ADDR_OK },
		{ "<user@example.org>", SMTP_ADDR_ERR_SYNTAX },
		{ "user", SMTP_ADDR_ERR_NO_DOMAIN },
		{ "user@example.org x", SMTP_ADDR_ERR_SYNTAX },
		{ "@a:user@example.org", SMTP_ADDR_ERR_SYNTAX },
		{ "", SMTP_ADDR_ERR_SYNTAX },
	};
	struct smtp_addr a;
	enum smtp_addr_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		smtp_addr_parse_mailbox(cases[i].in, strlen(cases[i].in), 0,
		    &a, &err);
		if (err != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].in,
			    err_names[err], err_names[cases[i].want]);
	}
}

/* format_gives_the_address_and_format_lc_the_lookup_key */
static void
format_gives_the_address_and_format_lc_the_lookup_key(void **state)
{
	struct smtp_addr a;
	enum smtp_addr_err err;
	char out[SMTP_ADDR_STR_MAX];
	size_t used;

	assert_int_equal(smtp_addr_parse_path("<Joe@Example.ORG>", 17, 0, &a,
	    &used, &err), 0);
	smtp_addr_format(&a, out, sizeof(out));
	assert_string_equal(out, "Joe@Example.ORG");
	smtp_addr_format_lc(&a, out, sizeof(out));
	assert_string_equal(out, "Joe@example.org");
	assert_int_equal(smtp_addr_parse_path("<>", 2, F_NULL, &a, &used,
	    &err), 0);
	smtp_addr_format(&a, out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(smtp_addr_parse_path("<Postmaster>", 12, F_PM, &a,
	    &used, &err), 0);
	smtp_addr_format(&a, out, sizeof(out));
	assert_string_equal(out, "postmaster");
}

/* plus_detail_splits_unquoted_local_parts_only */
static void
plus_detail_splits_unquoted_local_parts_only(void **state)
{
	static const struct {
		const char	*in;
		bool		 want;
		const char	*user;
		const char	*detail;
	} cases[] = {
		{ "<user+detail@x>", true, "user", "detail" },
		{ "<user+a+b@x>", true, "user", "a+b" },
		{ "<user+@x>", true, "user", "" },
		{ "<user@x>", false, NULL, NULL },
		{ "<+detail@x>", false, NULL, NULL },
		{ "<\"user+detail\"@x>", false, NULL, NULL },
	};
	struct smtp_addr a;
	enum smtp_addr_err err;
	const char *detail;
	size_t i, used, ulen;
	bool got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(smtp_addr_parse_path(cases[i].in,
		    strlen(cases[i].in), 0, &a, &used, &err), 0);
		got = smtp_addr_detail(&a, '+', &ulen, &detail);
		if (got != cases[i].want)
			fail_msg("%s: got split %d, want %d", cases[i].in, got,
			    cases[i].want);
		if (!got)
			continue;
		if (ulen != strlen(cases[i].user) ||
		    strncmp(a.local, cases[i].user, ulen) != 0 ||
		    strcmp(detail, cases[i].detail) != 0)
			fail_msg("%s: got %.*s / %s, want %s / %s",
			    cases[i].in, (int)ulen, a.local, detail,
			    cases[i].user, cases[i].detail);
	}
}

/* routing_tricks_are_recognised_but_quoted_parts_are_not */
static void
routing_tricks_are_recognised_but_quoted_parts_are_not(void **state)
{
	static const struct {
		const char	*in;
		bool		 want;
	} cases[] = {
		{ "<user@example.org>", false },
		{ "<user%other.example@example.org>", true },
		{ "<other.example!user@example.org>", true },
		{ "<@relay.example:user@example.org>", true },
		{ "<\"user@other.example\"@example.org>", false },
		{ "<\"user%other.example\"@example.org>", false },
		{ "<\"other!user\"@example.org>", false },
		{ "<postmaster>", false },
		{ "<user+tag@example.org>", false },
	};
	struct smtp_addr a;
	enum smtp_addr_err err;
	size_t i, used;
	bool got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(smtp_addr_parse_path(cases[i].in,
		    strlen(cases[i].in), F_PM, &a, &used, &err), 0);
		got = smtp_addr_is_routing_trick(&a);
		if (got != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].in, got,
			    cases[i].want);
	}
}

/* check_result - a successful parse must be self-consistent */
static void
check_result(int r, const struct smtp_addr *a, size_t used, size_t len)
{
	if (r < 0)
		return;
	assert_true(used <= len);
	assert_true(strlen(a->local) <= SMTP_ADDR_LOCAL_MAX);
	assert_true(strlen(a->domain) <= SMTP_ADDR_DOMAIN_MAX);
	assert_true(used <= SMTP_ADDR_PATH_MAX);
}

/*
 * every_prefix_and_every_byte_flip_is_handled - byte-level torture: no
 * read past the input (ASan watches), no result that claims more bytes
 * than it had, and no prefix of a path parses as a complete path
 */
static void
every_prefix_and_every_byte_flip_is_handled(void **state)
{
	static const char *const seeds[] = {
		"<user+detail@Example.org>",
		"<\"quoted\\\"local\"@[IPv6:2001:db8::1]>",
		"<@a.example,@b.example:u@[192.0.2.1]>",
		"<j\xc3\xb6rg@b\xc3\xbc" "cher.example>",
		"<postmaster>",
		"<>",
	};
	struct smtp_addr a;
	enum smtp_addr_err err;
	size_t s, n, i, used;
	unsigned int v;
	char *copy;
	int r;

	for (s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		size_t len = strlen(seeds[s]);

		for (n = 0; n < len; n++) {
			/* an exactly-sized heap copy so ASan sees overreads */
			copy = malloc(n == 0 ? 1 : n);
			memcpy(copy, seeds[s], n);
			r = smtp_addr_parse_path(copy, n,
			    F_NULL | F_PM | F_UTF8, &a, &used, &err);
			if (r == 0)
				fail_msg("prefix %zu of %s parsed", n,
				    seeds[s]);
			free(copy);
		}
		copy = malloc(len);
		for (i = 0; i < len; i++) {
			for (v = 0; v < 256; v++) {
				memcpy(copy, seeds[s], len);
				copy[i] = (char)v;
				r = smtp_addr_parse_path(copy, len,
				    F_NULL | F_PM | F_UTF8, &a, &used, &err);
				check_result(r, &a, used, len);
				r = smtp_addr_parse_mailbox(copy + 1, len - 1,
				    F_UTF8, &a, &err);
				check_result(r, &a, 0, len);
				(void)smtp_addr_domain_valid(copy, len, F_UTF8);
			}
		}
		free(copy);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paths_parse_the_way_rfc_5321_says),
		cmocka_unit_test(parsing_stops_after_the_closing_bracket),
		cmocka_unit_test(
		    a_local_part_of_64_octets_is_accepted_and_65_is_refused),
		cmocka_unit_test(
		    a_path_of_256_octets_is_accepted_and_257_is_refused),
		cmocka_unit_test(
		    a_domain_of_255_octets_is_valid_and_256_is_not),
		cmocka_unit_test(a_label_of_63_octets_is_valid_and_64_is_not),
		cmocka_unit_test(domains_and_literals_are_checked_for_ehlo),
		cmocka_unit_test(bare_mailboxes_parse_without_brackets),
		cmocka_unit_test(
		    format_gives_the_address_and_format_lc_the_lookup_key),
		cmocka_unit_test(plus_detail_splits_unquoted_local_parts_only),
		cmocka_unit_test(
		    routing_tricks_are_recognised_but_quoted_parts_are_not),
		cmocka_unit_test(every_prefix_and_every_byte_flip_is_handled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
