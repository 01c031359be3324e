/* smtp_rcpt.c - the RCPT TO policy: relay, routing tricks, LDAP, quota */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "str.h"
#include "xmalloc.h"

#include "smtp_addr.h"
#include "smtp_local.h"
#include "smtp_rcpt.h"
#include "smtp_reply.h"

/* smtp_role_name - "mx", "submission", ... */
const char *
smtp_role_name(enum smtp_role role)
{
	switch (role) {
	case SMTP_ROLE_MX:
		return "mx";
	case SMTP_ROLE_SUBMISSION:
		return "submission";
	case SMTP_ROLE_SUBMISSIONS:
		return "submissions";
	case SMTP_ROLE_LMTP:
		return "lmtp";
	}
	return "?";
}

/* may_relay - whether this client may send to other domains */
static bool
may_relay(const struct smtp_rcpt_policy *p)
{
	if (p->role != SMTP_ROLE_SUBMISSION &&
	    p->role != SMTP_ROLE_SUBMISSIONS)
		return false;
	return p->authenticated || p->trusted;
}

/* smtp_rcpt_deinit - free an accepted recipient */
void
smtp_rcpt_deinit(struct smtp_rcpt *r)
{
	free(r->address);
	free(r->orcpt);
	smtp_local_expansion_deinit(&r->x);
	memset(r, 0, sizeof(*r));
}

/* smtp_rcpt_check - accept or refuse one RCPT TO */
int
smtp_rcpt_check(struct smtp_local *l, const struct smtp_rcpt_policy *p,
    const struct smtp_addr *addr, struct smtp_rcpt *rcpt_r, struct buf *out)
{
	char shown[SMTP_ADDR_STR_MAX], key[SMTP_ADDR_STR_MAX + 16];
	char *reply = NULL, *domain;
	int r;

	memset(rcpt_r, 0, sizeof(*rcpt_r));
	smtp_addr_format(addr, shown, sizeof(shown));
	if (smtp_addr_is_routing_trick(addr) && !may_relay(p)) {
		log_info("refused routing address <%s>", shown);
		(void)smtp_reply(out, 550, "5.7.1", "<%s>: source routes and "
		    "%%/! routing are not accepted", shown);
		return 1;
	}
	if (addr->kind == SMTP_ADDR_POSTMASTER) {
		/* RFC 5321 4.5.1: <postmaster> is ours, whatever domain */
		domain = smtp_local_first_domain(l);
		if (domain == NULL) {
			(void)smtp_reply(out, 550, "5.1.1",
			    "<postmaster>: no such user");
			return 1;
		}
		snprintf(key, sizeof(key), "postmaster@%.255s", domain);
		str_copy(shown, sizeof(shown), key);
		free(domain);
	} else if (addr->literal ||
	    !smtp_local_is_local_domain(l, addr->domain_lc)) {
		if (!may_relay(p)) {
			log_info("relay denied for <%s>", shown);
			(void)smtp_reply(out, 554, "5.7.1",
			    "<%s>: Relay access denied", shown);
			return 1;
		}
		rcpt_r->address = xstrdup(shown);
		rcpt_r->x.remote = xcalloc(1, sizeof(*rcpt_r->x.remote));
		rcpt_r->x.remote[0] = xstrdup(shown);
		rcpt_r->x.nremote = 1;
		(void)smtp_reply(out, 250, "2.1.5", "Ok");
		return 0;
	} else {
		smtp_addr_format_lc(addr, key, sizeof(key));
	}
	r = smtp_local_resolve(l, key, &rcpt_r->x, &reply);
	if (r != 0) {
		log_info("recipient <%s>: %s", shown, reply);
		(void)smtp_local_reply(out, reply);
		free(reply);
		return r;
	}
	/* a mailbox over quota refuses now, not after the whole message;
	 * a list goes on, its full members fail at delivery */
	if (rcpt_r->x.nlocal == 1 && rcpt_r->x.nremote == 0 &&
	    smtp_local_check_quota(l, &rcpt_r->x.local[0], p->size,
	    &reply) < 0) {
		(void)smtp_local_reply(out, reply);
		free(reply);
		smtp_rcpt_deinit(rcpt_r);
		return -1;
	}
	rcpt_r->address = xstrdup(shown);
	(void)smtp_reply(out, 250, "2.1.5", "Ok");
	return 0;
}
