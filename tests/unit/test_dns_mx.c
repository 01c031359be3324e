/* test_dns_mx.c - unit tests for smtpd/dns_mx.c on hand-built packets */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns_mx.h"

#define T_MX	15
#define T_CNAME	5
#define T_A	1

/* a DNS message under construction */
struct pkt {
	unsigned char	 b[8192];
	size_t		 n;
	uint16_t	 ancount_at;
	unsigned int	 ancount;
};

/* put8, put16, put32 - big-endian fields */
static void
put8(struct pkt *p, unsigned int v)
{
	assert_true(p->n < sizeof(p->b));
	p->b[p->n++] = (unsigned char)v;
}

static void
put16(struct pkt *p, unsigned int v)
{
	put8(p, (v >> 8) & 0xff);
	put8(p, v & 0xff);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

/* put_name - "a.b.c" as labels; "" is the root */
static void
put_name(struct pkt *p, const char *name)
{
	const char *dot;
	size_t len;

	while (*name != '\0') {
		dot = strchr(name, '.');
		len = dot != NULL ? (size_t)(dot - name) : strlen(name);
		put8(p, (unsigned int)len);
		memcpy(p->b + p->n, name, len);
		p->n += len;
		name += len;
		if (*name == '.')
			name++;
	}
	put8(p, 0);
}

/* pkt_begin - header and the question "<qname> MX IN" */
static void
pkt_begin(struct pkt *p, unsigned int rcode, const char *qname)
{
	memset(p, 0, sizeof(*p));
	put16(p, 0x1234);			/* id */
	put16(p, 0x8180 | rcode);		/* QR RD RA, rcode */
	put16(p, 1);				/* qdcount */
	p->ancount_at = (uint16_t)p->n;
	put16(p, 0);				/* ancount, set later */
	put16(p, 0);				/* nscount */
	put16(p, 0);				/* arcount */
	put_name(p, qname);			/* at offset 12 */
	put16(p, T_MX);
	put16(p, 1);
}

/* pkt_mx - an MX answer for the question's name (pointer 0xc00c) */
static void
pkt_mx(struct pkt *p, unsigned int pref, const char *exchange)
{
	size_t rdlen_at;

	put16(p, 0xc00c);
	put16(p, T_MX);
	put16(p, 1);
	put32(p, 3600);
	rdlen_at = p->n;
	put16(p, 0);
	put16(p, pref);
	put_name(p, exchange);
	p->b[rdlen_at] = (unsigned char)((p->n - rdlen_at - 2) >> 8);
	p->b[rdlen_at + 1] = (unsigned char)((p->n - rdlen_at - 2) & 0xff);
	p->ancount++;
	p->b[p->ancount_at] = (unsigned char)(p->ancount >> 8);
	p->b[p->ancount_at + 1] = (unsigned char)(p->ancount & 0xff);
}

/* pkt_cname - a CNAME answer for the question's name */
static void
pkt_cname(struct pkt *p, const char *target)
{
	size_t rdlen_at;

	put16(p, 0xc00c);
	put16(p, T_CNAME);
	put16(p, 1);
	put32(p, 3600);
	rdlen_at = p->n;
	put16(p, 0);
	put_name(p, target);
	p->b[rdlen_at] = (unsigned char)((p->n - rdlen_at - 2) >> 8);
	p->b[rdlen_at + 1] = (unsigned char)((p->n - rdlen_at - 2) & 0xff);
	p->ancount++;
	p->b[p->ancount_at] = (unsigned char)(p->ancount >> 8);
	p->b[p->ancount_at + 1] = (unsigned char)(p->ancount & 0xff);
}

/* parse - dns_mx_parse on a heap copy of exactly the packet's bytes */
static enum dns_mx_status
parse(const struct pkt *p, struct dns_mx_list *list)
{
	unsigned char *copy = malloc(p->n == 0 ? 1 : p->n);
	const char *err = NULL;
	enum dns_mx_status st;

	memcpy(copy, p->b, p->n);
	st = dns_mx_parse(copy, p->n, list, &err);
	if (st != DNS_MX_OK)
		assert_non_null(err);
	free(copy);
	return st;
}

/* expect - the list holds exactly these "pref host" entries */
static void
expect(const struct dns_mx_list *list, const char *const *want, size_t n)
{
	char got[300];
	size_t i;

	if (list->n != n)
		fail_msg("got %zu exchanges, want %zu", list->n, n);
	for (i = 0; i < n; i++) {
		snprintf(got, sizeof(got), "%u %s", list->mx[i].pref,
		    list->mx[i].host);
		if (strcmp(got, want[i]) != 0)
			fail_msg("exchange %zu: got \"%s\", want \"%s\"", i,
			    got, want[i]);
	}
}

/* exchanges_come_out_by_preference_and_equals_keep_answer_order */
static void
exchanges_come_out_by_preference_and_equals_keep_answer_order(void **state)
{
	static const char *const want[] = {
		"5 mx0.example.org", "10 b.example.org", "10 a.example.org",
		"20 backup.example.net"
	};
	struct dns_mx_list list;
	struct pkt p;

	pkt_begin(&p, 0, "example.org");
	pkt_mx(&p, 20, "backup.example.net");
	pkt_mx(&p, 10, "b.example.org");
	pkt_mx(&p, 5, "MX0.Example.ORG");
	pkt_mx(&p, 10, "a.example.org");
	assert_int_equal(parse(&p, &list), DNS_MX_OK);
	expect(&list, want, 4);
}

/* the_answer_codes_mean_what_rfc_5321_and_7505_say - a table */
static void
the_answer_codes_mean_what_rfc_5321_and_7505_say(void **state)
{
	static const struct {
		const char	*what;
		unsigned int	 rcode;
		int		 nmx;		/* -1: null MX only */
		enum dns_mx_status want;
	} cases[] = {
		{ "NXDOMAIN", 3, 0, DNS_MX_NXDOMAIN },
		{ "SERVFAIL", 2, 0, DNS_MX_TEMP },
		{ "REFUSED", 5, 0, DNS_MX_TEMP },
		{ "NOERROR without MX (implicit MX)", 0, 0, DNS_MX_NODATA },
		{ "null MX", 0, -1, DNS_MX_NULL },
		{ "one MX", 0, 1, DNS_MX_OK },
	};
	struct dns_mx_list list;
	struct pkt p;
	enum dns_mx_status got;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pkt_begin(&p, cases[i].rcode, "example.org");
		if (cases[i].nmx < 0)
			pkt_mx(&p, 0, "");
		else if (cases[i].nmx > 0)
			pkt_mx(&p, 10, "mx.example.org");
		got = parse(&p, &list);
		if (got != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].what,
			    dns_mx_status_name(got),
			    dns_mx_status_name(cases[i].want));
	}
}

/* a_null_mx_beside_real_ones_is_ignored */
static void
a_null_mx_beside_real_ones_is_ignored(void **state)
{
	static const char *const want[] = { "10 mx.example.org" };
	struct dns_mx_list list;
	struct pkt p;

	pkt_begin(&p, 0, "example.org");
	pkt_mx(&p, 0, "");
	pkt_mx(&p, 10, "mx.example.org");
	assert_int_equal(parse(&p, &list), DNS_MX_OK);
	expect(&list, want, 1);
}

/* mx_records_behind_a_cname_are_used */
static void
mx_records_behind_a_cname_are_used(void **state)
{
	static const char *const want[] = { "1 mx.target.example" };
	struct dns_mx_list list;
	struct pkt p;

	pkt_begin(&p, 0, "alias.example");
	pkt_cname(&p, "target.example");
	/* owner name is the alias here, which the parser does not mind */
	pkt_mx(&p, 1, "mx.target.example");
	assert_int_equal(parse(&p, &list), DNS_MX_OK);
	expect(&list, want, 1);
}

/* a_compressed_exchange_name_is_expanded */
static void
a_compressed_exchange_name_is_expanded(void **state)
{
	static const char *const want[] = { "7 mail.example.org" };
	struct dns_mx_list list;
	struct pkt p;

	pkt_begin(&p, 0, "example.org");
	/* MX 7 "mail" + pointer to "example.org" at offset 12 */
	put16(&p, 0xc00c);
	put16(&p, T_MX);
	put16(&p, 1);
	put32(&p, 60);
	put16(&p, 2 + 1 + 4 + 2);
	put16(&p, 7);
	put8(&p, 4);
	memcpy(p.b + p.n, "mail", 4);
	p.n += 4;
	put16(&p, 0xc00c);
	p.b[p.ancount_at + 1] = 1;
	assert_int_equal(parse(&p, &list), DNS_MX_OK);
	expect(&list, want, 1);
}

/* malformed_records_are_temporary_failures_never_crashes */
static void
malformed_records_are_temporary_failures_never_crashes(void **state)
{
	struct dns_mx_list list;
	struct pkt p;

	/* rdlength one byte short of the exchange name */
	pkt_begin(&p, 0, "example.org");
	pkt_mx(&p, 10, "mx.example.org");
	/* rdata: preference (2) + "mx.example.org" (16); rdlength before */
	p.b[p.n - 18 - 2 + 1]--;
	p.n--;
	assert_int_equal(parse(&p, &list), DNS_MX_TEMP);

	/* an MX record too short for its preference */
	pkt_begin(&p, 0, "example.org");
	put16(&p, 0xc00c);
	put16(&p, T_MX);
	put16(&p, 1);
	put32(&p, 60);
	put16(&p, 1);
	put8(&p, 0);
	p.b[p.ancount_at + 1] = 1;
	assert_int_equal(parse(&p, &list), DNS_MX_TEMP);

	/* a name with a space: unusable; alone, that is not "no MX" */
	pkt_begin(&p, 0, "example.org");
	pkt_mx(&p, 10, "bad host.example.org");
	assert_int_equal(parse(&p, &list), DNS_MX_TEMP);
}

/* every_truncation_of_an_answer_is_refused */
static void
every_truncation_of_an_answer_is_refused(void **state)
{
	struct dns_mx_list list;
	struct pkt p, cut;
	enum dns_mx_status st;
	size_t n;

	pkt_begin(&p, 0, "example.org");
	pkt_mx(&p, 10, "a.example.org");
	pkt_mx(&p, 20, "b.example.org");
	for (n = 0; n < p.n; n++) {
		cut = p;
		cut.n = n;
		st = parse(&cut, &list);
		if (st != DNS_MX_TEMP)
			fail_msg("cut to %zu of %zu bytes: got %s, want %s", n,
			    p.n, dns_mx_status_name(st),
			    dns_mx_status_name(DNS_MX_TEMP));
	}
}

/* every_byte_flipped_never_crashes - whatever the verdict */
static void
every_byte_flipped_never_crashes(void **state)
{
	struct dns_mx_list list;
	struct pkt p, bad;
	size_t i, k;
	unsigned int x;

	pkt_begin(&p, 0, "example.org");
	pkt_mx(&p, 10, "a.example.org");
	pkt_cname(&p, "c.example.org");
	pkt_mx(&p, 20, "b.example.org");
	for (i = 0; i < p.n; i++) {
		for (x = 1; x < 256; x <<= 1) {
			bad = p;
			bad.b[i] ^= (unsigned char)x;
			(void)parse(&bad, &list);
			assert_true(list.n <= DNS_MX_MAX);
			for (k = 0; k < list.n; k++)
				assert_true(strlen(list.mx[k].host) <
				    DNS_NAME_MAX);
		}
	}
}

/* more_exchanges_than_kept_drop_the_least_preferred */
static void
more_exchanges_than_kept_drop_the_least_preferred(void **state)
{
	struct dns_mx_list list;
	struct pkt p;
	char name[64];
	unsigned int i;

	pkt_begin(&p, 0, "example.org");
	for (i = 0; i < DNS_MX_MAX + 4; i++) {
		snprintf(name, sizeof(name), "mx%u.example.org", i);
		/* descending preference: the last ones are the best */
		pkt_mx(&p, 100 - i, name);
	}
	assert_int_equal(parse(&p, &list), DNS_MX_OK);
	assert_int_equal(list.n, DNS_MX_MAX);
	assert_int_equal(list.ignored, 4);
	if (list.mx[0].pref != 100 - (DNS_MX_MAX + 3))
		fail_msg("most preferred: got %u, want %u", list.mx[0].pref,
		    100 - (DNS_MX_MAX + 3));
	if (list.mx[DNS_MX_MAX - 1].pref != 100 - 4)
		fail_msg("least preferred kept: got %u, want %u",
		    list.mx[DNS_MX_MAX - 1].pref, 100 - 4);
}

/* lookup_refuses_what_is_not_a_domain_name_without_asking */
static void
lookup_refuses_what_is_not_a_domain_name_without_asking(void **state)
{
	static const char *const bad[] = {
		"", "a b.example", ".example", "a..example", "\xc3\xa9.example"
	};
	struct dns_mx_list list;
	const char *err = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dns_mx_lookup(bad[i], &list, &err) != DNS_MX_NXDOMAIN)
			fail_msg("\"%s\": got not NXDOMAIN, want NXDOMAIN",
			    bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    exchanges_come_out_by_preference_and_equals_keep_answer_order),
		cmocka_unit_test(
		    the_answer_codes_mean_what_rfc_5321_and_7505_say),
		cmocka_unit_test(a_null_mx_beside_real_ones_is_ignored),
		cmocka_unit_test(mx_records_behind_a_cname_are_used),
		cmocka_unit_test(a_compressed_exchange_name_is_expanded),
		cmocka_unit_test(
		    malformed_records_are_temporary_failures_never_crashes),
		cmocka_unit_test(every_truncation_of_an_answer_is_refused),
		cmocka_unit_test(every_byte_flipped_never_crashes),
		cmocka_unit_test(
		    more_exchanges_than_kept_drop_the_least_preferred),
		cmocka_unit_test(
		    lookup_refuses_what_is_not_a_domain_name_without_asking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
