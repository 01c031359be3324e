/*
 * smtp_rcpt - the RCPT TO policy: who may send where
 *
 * One call per RCPT command, in a worker (it asks LDAP and the store).
 * It decides, in this order:
 *   - relay tricks: a source route, or '%' or '!' in an unquoted local
 *     part, from a client that is neither authenticated nor trusted:
 *     550 5.7.1, whatever the domain (nothing of the kind is relayed);
 *   - <postmaster> is postmaster@ the first hosted domain (RFC 5321
 *     4.5.1);
 *   - a domain we do not host: relayed only on the submission roles for
 *     an authenticated or trusted client, else 554 5.7.1 (mx and lmtp
 *     never relay);
 *   - a hosted domain: smtp_local_resolve() (550 5.1.1 unknown, 550 5.2.1
 *     disabled, 451 4.4.3 directory down), then each mailbox's quota
 *     against the store's usage and the MAIL SIZE (452 4.2.2).
 * The accepted recipient, with where its mail goes, is a struct
 * smtp_rcpt that the session keeps for delivery (smtp_deliver.h).
 */
#ifndef BASTIDE_SMTP_RCPT_H
#define BASTIDE_SMTP_RCPT_H

#include <stdbool.h>
#include <stdint.h>

#include "smtp_addr.h"
#include "smtp_local.h"

struct buf;

/* the kinds of listener, each with its own rules */
enum smtp_role {
	SMTP_ROLE_MX = 1,		/* port 25 */
	SMTP_ROLE_SUBMISSION,		/* port 587, STARTTLS */
	SMTP_ROLE_SUBMISSIONS,		/* port 465, implicit TLS */
	SMTP_ROLE_LMTP			/* RFC 2033 */
};

/* what the session knows about the client */
struct smtp_rcpt_policy {
	enum smtp_role	 role;
	bool		 authenticated;
	bool		 trusted;	/* in trusted_networks */
	uint64_t	 size;		/* MAIL SIZE=, 0 if not given */
};

/* one accepted recipient */
struct smtp_rcpt {
	char		*address;	/* "local@domain" as sent */
	unsigned int	 notify;	/* SMTP_NOTIFY_*, 0: not given */
	char		*orcpt;		/* "type;decoded", or NULL */
	/* local: the mailboxes and forwards; relayed: only remote[0] is
	 * the address itself */
	struct smtp_local_expansion x;
};

/* the name of a role, for logs and Received: */
const char *smtp_role_name(enum smtp_role role);

/*
 * In a worker: decide on the recipient addr.  0 accepted, and *rcpt_r is
 * filled (address and x; the caller adds notify and orcpt); 1 refused;
 * -1 refused for now.  The reply, either way, is appended to out.
 */
int	 smtp_rcpt_check(struct smtp_local *l,
	    const struct smtp_rcpt_policy *p, const struct smtp_addr *addr,
	    struct smtp_rcpt *rcpt_r, struct buf *out);
void	 smtp_rcpt_deinit(struct smtp_rcpt *r);

#endif
