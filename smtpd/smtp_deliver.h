/*
 * smtp_deliver - the end of DATA/BDAT: make the message durable, then reply
 *
 * Takes a finished message (smtp_data.h gives it as one region with the
 * trace headers in front) and the accepted recipients (smtp_rcpt.h), and
 * in a worker:
 *   - writes it once into every local mailbox with store_deliver() (the
 *     store fsyncs the file and each new/ before it returns);
 *   - puts what is not local (relayed recipients, forwards, list members
 *     elsewhere), and in SMTP also the mailboxes that failed while others
 *     succeeded, into the outbound queue as one envelope with the DSN
 *     parameters (outq_enqueue() returns once message and envelope are
 *     fsynced);
 *   - only then appends the reply: SMTP one "250 2.0.0 Ok: queued as ID"
 *     (or one 4xx/5xx when nothing at all could be made durable), LMTP
 *     one reply per recipient in RCPT order (RFC 2033 4.2).
 * The queued copy carries no Return-Path: (the final delivery adds it);
 * the stored copy has Return-Path: and Received:.
 *
 * Owns nothing past the call.
 */
#ifndef BASTIDE_SMTP_DELIVER_H
#define BASTIDE_SMTP_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp_parse.h"
#include "smtp_rcpt.h"

struct buf;
struct outq;
struct store;

/* one transaction, as smtp_session.c collected it; borrowed */
struct smtp_envelope {
	const char		*sender;	/* "" for <> */
	const char		*envid;		/* decoded, or NULL */
	enum smtp_ret		 ret;
	enum smtp_body		 body;
	bool			 smtputf8;
	const char		*auth_user;	/* or NULL */
	const struct smtp_rcpt	*rcpts;
	size_t			 nrcpts;
	int64_t			 arrival;	/* unix seconds */
};

/* what the Received: line says about the session */
struct smtp_trace {
	const char	*hostname;	/* ours */
	const char	*helo;		/* the client's HELO/EHLO argument */
	const char	*peer;		/* its address, "local" for sockets */
	const char	*protocol;	/* RFC 3848: "ESMTPSA", "LMTP", ... */
	const char	*id;		/* the transaction id */
	const char	*tls_version;	/* NULL without TLS */
	const char	*tls_cipher;
	const char	*auth_user;	/* NULL when not authenticated */
	const char	*for_rcpt;	/* the one recipient, or NULL */
	int64_t		 now;		/* unix seconds */
};

/* the protocol name of RFC 3848 / RFC 6531 for the with clause */
const char *smtp_deliver_protocol(bool lmtp, bool esmtp, bool utf8,
	    bool tls, bool auth);
/* append "Return-Path: <sender>" and "Received: ..." to out; the first
 * line is *rp_len_r bytes (the queued copy leaves it out) */
int	 smtp_deliver_prefix(struct buf *out, const char *sender,
	    const struct smtp_trace *t, size_t *rp_len_r);

/*
 * In a worker: deliver msg[0..len) (the prefix included, rp_len bytes of
 * Return-Path first) for env, then append the reply or replies to out.
 * q may be NULL only when nothing needs queueing.  Returns 0 when every
 * recipient's mail is durable, -1 otherwise (the replies say which).
 */
int	 smtp_deliver(struct store *st, struct outq *q,
	    const struct smtp_envelope *env, const char *msg, size_t len,
	    size_t rp_len, bool lmtp, const char *id, struct buf *out);

#endif
