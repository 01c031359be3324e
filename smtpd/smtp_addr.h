/*
 * smtp_addr - RFC 5321 paths and mailboxes, parsed and normalised
 *
 * Parses the <...> of MAIL FROM and RCPT TO (and bare mailboxes), checks
 * the syntax and length limits of RFC 5321 section 4.5.3.1, accepts UTF-8
 * only when the client gave SMTPUTF8 (RFC 6531), drops source routes as
 * appendix C says, and answers the questions the daemon's policy asks:
 * which domain to look up, what the +detail is, and whether the address is
 * a relay-routing trick.  The parsed address is held in fixed arrays inside
 * struct smtp_addr, so nothing here allocates.
 *
 * A quoted local part is kept exactly as it was sent, quotes and
 * backslashes included, and is never split or interpreted: "a@b"@c is the
 * mailbox with local part "a@b" at c, never a route to b.
 */
#ifndef BASTIDE_SMTP_ADDR_H
#define BASTIDE_SMTP_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_ADDR_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define SMTP_ADDR_DOMAIN_MAX	255	/* RFC 5321 4.5.3.1.2 */
#define SMTP_ADDR_PATH_MAX	256	/* RFC 5321 4.5.3.1.3, with <> */
#define SMTP_ADDR_LABEL_MAX	63	/* RFC 1035 2.3.4 */
/* room for "local@domain" and the NUL */
#define SMTP_ADDR_STR_MAX \
	(SMTP_ADDR_LOCAL_MAX + 1 + SMTP_ADDR_DOMAIN_MAX + 1)

/* flags for the parse functions */
#define SMTP_ADDR_F_NULL	0x01	/* <> is acceptable (MAIL FROM) */
#define SMTP_ADDR_F_POSTMASTER	0x02	/* <postmaster> is acceptable (RCPT) */
#define SMTP_ADDR_F_UTF8	0x04	/* SMTPUTF8 was given: UTF-8 allowed */

enum smtp_addr_kind {
	SMTP_ADDR_MAILBOX = 0,		/* local@domain */
	SMTP_ADDR_NULL,			/* <> */
	SMTP_ADDR_POSTMASTER		/* <postmaster>, no domain */
};

enum smtp_addr_err {
	SMTP_ADDR_OK = 0,
	SMTP_ADDR_ERR_SYNTAX,		/* not a path or mailbox */
	SMTP_ADDR_ERR_LOCAL_TOO_LONG,
	SMTP_ADDR_ERR_DOMAIN_TOO_LONG,	/* the domain or one of its labels */
	SMTP_ADDR_ERR_PATH_TOO_LONG,
	SMTP_ADDR_ERR_UTF8,		/* non-ASCII without SMTPUTF8 */
	SMTP_ADDR_ERR_NULL,		/* <> where it is not allowed */
	SMTP_ADDR_ERR_NO_DOMAIN		/* local part without @domain */
};

struct smtp_addr {
	enum smtp_addr_kind kind;
	/* exactly as sent; a quoted local part keeps its quotes */
	char	 local[SMTP_ADDR_LOCAL_MAX + 1];
	/* as sent, case kept; an address literal keeps its brackets */
	char	 domain[SMTP_ADDR_DOMAIN_MAX + 1];
	/* the domain in ASCII lower case, for lookups */
	char	 domain_lc[SMTP_ADDR_DOMAIN_MAX + 1];
	bool	 quoted;		/* local part is a quoted-string */
	bool	 literal;		/* domain is [1.2.3.4] or [IPv6:...] */
	bool	 routed;		/* a source route was dropped */
	bool	 utf8;			/* some byte is non-ASCII */
};

/*
 * Parse a path starting at s[0] == '<'.  Stops after the closing '>' and
 * stores the number of bytes used in *used_r, so the caller can parse the
 * ESMTP parameters that follow.  Returns 0, or -1 with *err_r set.
 */
int	 smtp_addr_parse_path(const char *s, size_t len, unsigned int flags,
	    struct smtp_addr *addr_r, size_t *used_r,
	    enum smtp_addr_err *err_r);
/* parse a whole string as a bare Mailbox (local@domain), no brackets */
int	 smtp_addr_parse_mailbox(const char *s, size_t len,
	    unsigned int flags, struct smtp_addr *addr_r,
	    enum smtp_addr_err *err_r);
/* a Domain or address literal, e.g. an EHLO argument */
bool	 smtp_addr_domain_valid(const char *s, size_t len, unsigned int flags);
/* a short English description of an error, for replies and logs */
const char *smtp_addr_strerror(enum smtp_addr_err err);

/* "local@domain" (as sent), "" for <>, "postmaster" */
void	 smtp_addr_format(const struct smtp_addr *addr, char *dst,
	    size_t dstsize);
/* the same with the domain in lower case: the key for lookups */
void	 smtp_addr_format_lc(const struct smtp_addr *addr, char *dst,
	    size_t dstsize);

/*
 * Split user+detail: true when the local part holds the delimiter after at
 * least one byte; then the user is local[0 .. *user_len_r) and the detail
 * starts at *detail_r (it may be empty).  Quoted local parts never split.
 */
bool	 smtp_addr_detail(const struct smtp_addr *addr, char delim,
	    size_t *user_len_r, const char **detail_r);

/*
 * True for the relay tricks the daemon must refuse to relay: a source
 * route, or '%' or '!' in an unquoted local part (user%other@us,
 * other!user@us).
 */
bool	 smtp_addr_is_routing_trick(const struct smtp_addr *addr);

#endif
