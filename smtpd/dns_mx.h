/*
 * dns_mx - where mail for a domain goes: MX records, RFC 5321 section 5.1
 *
 * dns_mx_lookup() asks the system's resolver (libresolv, res_nsend, one
 * private resolver state per call, so it is thread-safe) for the MX
 * records of a domain and hands the raw answer to dns_mx_parse(), which
 * is pure and unit-tested on hand-built packets.  The result is the list
 * of exchange hosts by preference (hosts of equal preference shuffled by
 * the lookup, kept in answer order by the parser), or one of the cases
 * RFC 5321 and RFC 7505 give a meaning to:
 *
 *   no MX at all (NOERROR, no MX in the answer): the implicit MX, the
 *       domain itself with preference 0 (dns_mx_lookup fills it in);
 *   the domain does not exist (NXDOMAIN): a permanent failure;
 *   a null MX (one MX "." of preference 0, RFC 7505): the domain takes
 *       no mail, a permanent failure (5.1.10);
 *   SERVFAIL, a timeout, a malformed answer: try again later.
 *
 * Addresses (A/AAAA) of the hosts are left to getaddrinfo() in the relay
 * client.  Nothing here allocates.
 */
#ifndef BASTIDE_DNS_MX_H
#define BASTIDE_DNS_MX_H

#include <stddef.h>

#define DNS_MX_MAX	16	/* exchanges kept, the most preferred */
#define DNS_NAME_MAX	256	/* a domain name in text, with its NUL */

enum dns_mx_status {
	DNS_MX_OK = 0,		/* list holds at least one exchange */
	DNS_MX_NODATA,		/* no MX: the implicit MX applies */
	DNS_MX_NXDOMAIN,	/* no such domain: permanent */
	DNS_MX_NULL,		/* RFC 7505 null MX: permanent */
	DNS_MX_TEMP		/* try again later */
};

struct dns_mx {
	unsigned int	 pref;
	char		 host[DNS_NAME_MAX];	/* lower case, no final dot */
};

struct dns_mx_list {
	struct dns_mx	 mx[DNS_MX_MAX];
	size_t		 n;
	unsigned int	 ignored;	/* MX records past DNS_MX_MAX */
};

/*
 * Parse a whole DNS response to an MX query: the header's RCODE, then
 * every MX record of the answer section (any owner: a CNAME chain may
 * lead to them), sorted by preference, the order of the answer kept
 * among equals.  *error_r is a static reason for NXDOMAIN, NULL and TEMP.
 */
enum dns_mx_status dns_mx_parse(const unsigned char *msg, size_t len,
	    struct dns_mx_list *list, const char **error_r);

/*
 * Look up domain (an ASCII name, no trailing dot needed).  DNS_MX_NODATA
 * is turned into DNS_MX_OK with the implicit MX: the domain itself, so
 * the caller only sees OK, NXDOMAIN, NULL or TEMP.  Blocks: call it from
 * a worker thread.
 */
enum dns_mx_status dns_mx_lookup(const char *domain, struct dns_mx_list *list,
	    const char **error_r);

/* "ok", "nodata", "nxdomain", "null MX", "temporary failure" */
const char *dns_mx_status_name(enum dns_mx_status st);

#endif
