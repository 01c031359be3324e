/*
 * smtp_reply - SMTP replies written into a struct buf
 *
 * Every 2xx, 4xx and 5xx reply carries an enhanced status code (RFC 3463,
 * RFC 2034) except the ones RFC 2034 section 3 exempts: the greeting and
 * the answer to HELO/EHLO/LHLO, which have their own builders here.  3xx
 * replies (354, 334) carry none.  A wrong code/enhanced-code pairing is a
 * bug in the daemon and panics.
 *
 * Text is made safe before it is sent: control characters become '?' (a
 * client-chosen HELO name must not inject a line), and each line is cut to
 * fit 512 octets with its CRLF (RFC 5321 4.5.3.1.5) on a UTF-8 boundary.
 * A reply is appended whole or not at all: -1 means the output buffer's
 * ceiling would be passed and nothing was written.
 */
#ifndef BASTIDE_SMTP_REPLY_H
#define BASTIDE_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SMTP_REPLY_LINE_MAX	512	/* octets, CRLF included */

/* a multi-line reply being built; lines are kept until smtp_reply_end() */
struct smtp_reply {
	struct buf	 tmp;
	int		 code;
	const char	*enh;		/* NULL: no enhanced code */
	size_t		 last;		/* offset of the last line's '-' */
	unsigned int	 nlines;
	bool		 failed;
};

/* the length of an enhanced status code "c.s.d" (RFC 3463: class 2, 4
 * or 5, 1-3 digits each) at the start of p[0..n), followed by a space or
 * the end; 0 if there is none */
size_t	 smtp_reply_enh_len(const char *p, size_t n);
/* true if enh is "c.sss.ddd" (RFC 3463) with c matching code's class */
bool	 smtp_reply_enh_valid(int code, const char *enh);

/* one single-line reply: "code enh text\r\n" */
int	 smtp_reply(struct buf *out, int code, const char *enh,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* multi-line: begin, add lines ("code-enh text"), end appends them all */
void	 smtp_reply_begin(struct smtp_reply *r, int code, const char *enh);
void	 smtp_reply_add(struct smtp_reply *r, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* append to out and release r; -1 if a line failed or out is full */
int	 smtp_reply_end(struct smtp_reply *r, struct buf *out);
/* release r without output */
void	 smtp_reply_cancel(struct smtp_reply *r);

/* "220 host ESMTP ready, session ID" (LMTP with lmtp) */
int	 smtp_reply_greeting(struct buf *out, const char *host,
	    const char *session_id, bool lmtp);
/* "250-host Hello client" then one line per keyword, no enhanced codes */
int	 smtp_reply_ehlo(struct buf *out, const char *host, const char *client,
	    const char *const *keywords, size_t nkeywords);
/* "250 host Hello client" for HELO */
int	 smtp_reply_helo(struct buf *out, const char *host, const char *client);
/* "250 2.0.0 Ok: queued as ID", the final reply to DATA/BDAT LAST */
int	 smtp_reply_queued(struct buf *out, const char *id);
/* "221 2.0.0 host closing connection, session ID" for QUIT */
int	 smtp_reply_bye(struct buf *out, const char *host,
	    const char *session_id);

#endif
