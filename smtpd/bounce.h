/*
 * bounce - delivery status notifications (DSNs), RFC 3464 and RFC 3461
 *
 * Builds the whole DSN message the queue sends back to an envelope
 * sender, with CRLF lines:
 *
 *     multipart/report; report-type=delivery-status
 *       text/plain               what happened, for people
 *       message/delivery-status  Reporting-MTA, Original-Envelope-Id,
 *                                Arrival-Date, then per recipient
 *                                Original-Recipient, Final-Recipient,
 *                                Action, Status, Remote-MTA,
 *                                Diagnostic-Code, Last-Attempt-Date,
 *                                Will-Retry-Until
 *       message/rfc822           the original message (a failure with
 *                                RET=FULL or no RET, up to full_max)
 *       or text/rfc822-headers   its header (RET=HDRS, too big, and every
 *                                delay or success notice)
 *
 * From "MAILER-DAEMON", Auto-Submitted: auto-replied (RFC 3834).  For a
 * message that came with SMTPUTF8 the RFC 6533 types are used instead
 * (message/global-delivery-status, message/global, text/global-headers).
 * The envelope of the DSN (MAIL FROM:<>, to the original sender) is the
 * caller's: bounces are ordinary queue entries with the null sender, so
 * a DSN never causes another one.
 *
 * bounce_diag_parse() reads back the last_error text the queue keeps
 * for a recipient (the forms are those of relay_client.h, plus the SMTP
 * reply of a local delivery) into Status, Remote-MTA and Diagnostic-Code.
 * Pure functions; nothing here touches a file or the clock.
 */
#ifndef BASTIDE_BOUNCE_H
#define BASTIDE_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

struct buf;

#define BOUNCE_MTA_MAX		256	/* a host name, with its NUL */

enum bounce_action {
	BOUNCE_FAILED = 0,
	BOUNCE_DELAYED,
	BOUNCE_DELIVERED,	/* delivered here, to a local mailbox */
	BOUNCE_RELAYED		/* passed to a server without DSN */
};

struct bounce_rcpt {
	const char	*addr;		/* final recipient */
	const char	*orcpt;		/* "type;address" (decoded) or NULL */
	enum bounce_action action;
	const char	*error;		/* last_error form, or NULL */
	const char	*remote_mta;	/* DELIVERED/RELAYED: or NULL */
	int64_t		 last_attempt;	/* unix seconds; 0: not reported */
	int64_t		 retry_until;	/* DELAYED; 0: not reported */
};

struct bounce_info {
	const char	*reporting_mta;	/* our host name */
	const char	*queue_id;	/* the original's */
	const char	*unique;	/* [A-Za-z0-9], for Message-ID and the
					 * MIME boundary */
	const char	*sender;	/* the original's envelope sender */
	const char	*envid;		/* decoded ENVID, or NULL */
	int64_t		 arrival;
	int64_t		 now;
	enum queue_ret	 ret;
	bool		 smtputf8;
	size_t		 full_max;	/* whole message returned up to this */
	const struct bounce_rcpt *rcpts;
	size_t		 nrcpts;
	const char	*msg;		/* the original message */
	size_t		 len;
};

/*
 * Append the DSN to out.  *eightbit_r tells whether it holds bytes above
 * 0x7f (then it needs BODY=8BITMIME).  -1 past out's ceiling.
 */
int	 bounce_build(const struct bounce_info *bi, struct buf *out,
	    bool *eightbit_r);

/* what a last_error says, for the delivery-status fields */
struct bounce_diag {
	char		 status[16];	/* "5.1.1"; from the class if none */
	char		 remote_mta[BOUNCE_MTA_MAX];	/* "" if none */
	const char	*diag_type;	/* "smtp" or "X-Bastide" */
	const char	*diag;		/* points into the error */
};

/*
 * error is "host NAME[ADDR] said: 550 5.1.1 text" (a remote reply),
 * "550 5.1.1 text" (a local delivery's reply) or "4.4.1 text" (our own
 * finding); anything else counts as our own text.  perm chooses the
 * class of the status when the text has none.
 */
void	 bounce_diag_parse(const char *error, bool perm,
	    struct bounce_diag *d);

/* RFC 5322 date-time of t in UTC: "Tue, 04 Mar 2025 10:00:00 +0000" */
void	 bounce_date(int64_t t, char *dst, size_t dstsize);

#endif
