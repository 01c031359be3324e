/* dns_mx.c - MX lookup and the parser of its answer */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dns_mx.h"
#include "str.h"

/* a UDP answer that was truncated is asked again over TCP by res_nsend;
 * the biggest DNS message fits */
#define DNS_ANSWER_MAX	65536

/* dns_mx_status_name - a word for logs */
const char *
dns_mx_status_name(enum dns_mx_status st)
{
	switch (st) {
	case DNS_MX_OK:
		return "ok";
	case DNS_MX_NODATA:
		return "nodata";
	case DNS_MX_NXDOMAIN:
		return "nxdomain";
	case DNS_MX_NULL:
		return "null MX";
	case DNS_MX_TEMP:
		break;
	}
	return "temporary failure";
}

/* host_name_ok - letters, digits, '-', '_' and dots: a name we can use */
static bool
host_name_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '.')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.'))
			return false;
		if (c == '.' && s[i + 1] == '.')
			return false;
	}
	return true;
}

/* mx_insert - add in preference order, after the equals already there */
static void
mx_insert(struct dns_mx_list *list, unsigned int pref, const char *host)
{
	size_t i;

	if (list->n == DNS_MX_MAX) {
		/* full: a less preferred record than every kept one goes */
		if (pref >= list->mx[DNS_MX_MAX - 1].pref) {
			list->ignored++;
			return;
		}
		list->n--;
		list->ignored++;
	}
	i = list->n;
	while (i > 0 && list->mx[i - 1].pref > pref) {
		list->mx[i] = list->mx[i - 1];
		i--;
	}
	list->mx[i].pref = pref;
	/* host was checked against DNS_NAME_MAX by the caller */
	(void)str_copy(list->mx[i].host, sizeof(list->mx[i].host), host);
	str_lower(list->mx[i].host);
	list->n++;
}

/* dns_mx_parse - the MX records of a raw answer, by preference */
enum dns_mx_status
dns_mx_parse(const unsigned char *msg, size_t len, struct dns_mx_list *list,
    const char **error_r)
{
	ns_msg handle;
	ns_rr rr;
	char name[NS_MAXDNAME];
	const unsigned char *rd;
	unsigned int pref, nnull = 0, nbad = 0, nmx = 0;
	int rcode, count, i, n;
	size_t hlen;

	memset(list, 0, sizeof(*list));
	*error_r = NULL;
	if (len > DNS_ANSWER_MAX || ns_initparse(msg, (int)len, &handle) < 0) {
		*error_r = "malformed DNS answer";
		return DNS_MX_TEMP;
	}
	rcode = ns_msg_getflag(handle, ns_f_rcode);
	if (rcode == ns_r_nxdomain) {
		*error_r = "domain not found (NXDOMAIN)";
		return DNS_MX_NXDOMAIN;
	}
	if (rcode != ns_r_noerror) {
		*error_r = rcode == ns_r_servfail ? "DNS server failure" :
		    "DNS error";
		return DNS_MX_TEMP;
	}
	if (ns_msg_getflag(handle, ns_f_tc)) {
		/* res_nsend retries over TCP; a truncated answer left is
		 * incomplete, and a missing MX would be a wrong answer */
		*error_r = "truncated DNS answer";
		return DNS_MX_TEMP;
	}
	count = ns_msg_count(handle, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&handle, ns_s_an, i, &rr) < 0) {
			*error_r = "malformed DNS record";
			return DNS_MX_TEMP;
		}
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
			continue;
		if (ns_rr_rdlen(rr) < 3) {
			*error_r = "malformed MX record";
			return DNS_MX_TEMP;
		}
		rd = ns_rr_rdata(rr);
		pref = ns_get16(rd);
		n = dn_expand(ns_msg_base(handle), ns_msg_end(handle), rd + 2,
		    name, sizeof(name));
		if (n < 0 || n != ns_rr_rdlen(rr) - 2) {
			*error_r = "malformed MX record";
			return DNS_MX_TEMP;
		}
		nmx++;
		if (name[0] == '\0' || strcmp(name, ".") == 0) {
			nnull++;
			continue;
		}
		hlen = strlen(name);
		if (hlen > 0 && name[hlen - 1] == '.')
			name[--hlen] = '\0';
		if (hlen >= DNS_NAME_MAX || !host_name_ok(name)) {
			nbad++;
			continue;
		}
		mx_insert(list, pref, name);
	}
	if (list->n > 0)
		return DNS_MX_OK;
	/*
	 * RFC 7505: a null MX is the domain's only MX.  A null MX among
	 * others is a misconfiguration: the others were used above.
	 */
	if (nnull > 0 && nbad == 0) {
		*error_r = "domain does not accept mail (null MX)";
		return DNS_MX_NULL;
	}
	if (nbad > 0) {
		*error_r = "no usable MX host name";
		return DNS_MX_TEMP;
	}
	(void)nmx;
	*error_r = "no MX records";
	return DNS_MX_NODATA;
}

/* shuffle_equals - RFC 5321 5.1: spread load over equal preferences */
static void
shuffle_equals(struct dns_mx_list *list)
{
	size_t start = 0, end, i, j;
	uint32_t r;
	struct dns_mx tmp;

	while (start < list->n) {
		end = start + 1;
		while (end < list->n && list->mx[end].pref ==
		    list->mx[start].pref)
			end++;
		for (i = end - 1; i > start; i--) {
			if (getrandom(&r, sizeof(r), 0) != sizeof(r))
				r = (uint32_t)random();
			j = start + r % (i - start + 1);
			tmp = list->mx[i];
			list->mx[i] = list->mx[j];
			list->mx[j] = tmp;
		}
		start = end;
	}
}

/* dns_mx_lookup - ask the resolver, parse, apply the implicit MX */
enum dns_mx_status
dns_mx_lookup(const char *domain, struct dns_mx_list *list,
    const char **error_r)
{
	struct __res_state st;
	unsigned char query[NS_PACKETSZ], *answer;
	char fqdn[DNS_NAME_MAX + 1];
	enum dns_mx_status ret;
	size_t dlen;
	int qlen, alen;

	memset(list, 0, sizeof(*list));
	dlen = strlen(domain);
	if (dlen == 0 || dlen >= DNS_NAME_MAX - 1 || !host_name_ok(domain)) {
		*error_r = "not a domain name the DNS can look up";
		return DNS_MX_NXDOMAIN;
	}
	/* absolute: the search list must never turn example.org into
	 * example.org.our.lan */
	memcpy(fqdn, domain, dlen);
	fqdn[dlen] = '\0';
	if (fqdn[dlen - 1] != '.') {
		fqdn[dlen] = '.';
		fqdn[dlen + 1] = '\0';
	}
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) < 0) {
		*error_r = "resolver initialisation failed";
		return DNS_MX_TEMP;
	}
	qlen = res_nmkquery(&st, ns_o_query, fqdn, ns_c_in, ns_t_mx, NULL, 0,
	    NULL, query, sizeof(query));
	if (qlen < 0) {
		res_nclose(&st);
		*error_r = "cannot build the DNS query";
		return DNS_MX_NXDOMAIN;
	}
	answer = malloc(DNS_ANSWER_MAX);
	if (answer == NULL) {
		res_nclose(&st);
		*error_r = "out of memory";
		return DNS_MX_TEMP;
	}
	alen = res_nsend(&st, query, qlen, answer, DNS_ANSWER_MAX);
	res_nclose(&st);
	if (alen < 0) {
		free(answer);
		*error_r = "no answer from the DNS servers";
		return DNS_MX_TEMP;
	}
	ret = dns_mx_parse(answer, (size_t)alen, list, error_r);
	free(answer);
	if (ret == DNS_MX_NODATA) {
		/* RFC 5321 5.1: the implicit MX, the domain itself */
		list->n = 1;
		list->mx[0].pref = 0;
		(void)str_copy(list->mx[0].host, sizeof(list->mx[0].host),
		    domain);
		dlen = strlen(list->mx[0].host);
		if (list->mx[0].host[dlen - 1] == '.')
			list->mx[0].host[dlen - 1] = '\0';
		str_lower(list->mx[0].host);
		*error_r = NULL;
		return DNS_MX_OK;
	}
	if (ret == DNS_MX_OK)
		shuffle_equals(list);
	return ret;
}
