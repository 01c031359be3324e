/* smtp_reply.c - SMTP replies written into a struct buf */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

#include "smtp_reply.h"

/* a multi-line reply never needs more than this (an EHLO is ~300 bytes) */
#define SMTP_REPLY_MAX	(64 * 1024)

/* smtp_reply_enh_len - an enhanced status code at p, as replies carry it */
size_t
smtp_reply_enh_len(const char *p, size_t n)
{
	size_t i, dots = 0, digits = 0;

	if (n < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5') ||
	    p[1] != '.')
		return 0;
	for (i = 1; i < n && p[i] != ' '; i++) {
		if (p[i] == '.') {
			if (digits == 0 && dots > 0)
				return 0;
			dots++;
			digits = 0;
		} else if (p[i] >= '0' && p[i] <= '9') {
			if (++digits > 3)
				return 0;
		} else {
			return 0;
		}
	}
	return dots == 2 && digits > 0 ? i : 0;
}

/* smtp_reply_enh_valid - RFC 3463 class.subject.detail matching the code */
bool
smtp_reply_enh_valid(int code, const char *enh)
{
	const char *p;
	int part, digits;

	if (enh == NULL || code < 200 || code > 599 || code / 100 == 3)
		return false;
	if (enh[0] != (char)('0' + code / 100))
		return false;
	p = enh + 1;
	for (part = 0; part < 2; part++) {
		if (*p++ != '.')
			return false;
		for (digits = 0; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (digits < 1 || digits > 3)
			return false;
	}
	return *p == '\0';
}

/* check_code - panic on a reply the daemon must never build */
static void
check_code(int code, const char *enh, bool exempt)
{
	if (code < 200 || code > 599)
		panic("smtp_reply: bad code %d", code);
	if (code / 100 == 3 || exempt) {
		if (enh != NULL)
			panic("smtp_reply: %d takes no enhanced code", code);
		return;
	}
	if (!smtp_reply_enh_valid(code, enh))
		panic("smtp_reply: bad enhanced code %s for %d",
		    enh == NULL ? "(null)" : enh, code);
}

/*
 * add_line - format one line "code<sep>[enh ]text\r\n" into b: controls
 * become '?', the text is cut on a UTF-8 boundary to fit the line limit
 */
static int __attribute__((format(printf, 5, 0)))
add_line(struct buf *b, int code, char sep, const char *enh, const char *fmt,
    va_list ap)
{
	char prefix[32], *text;
	size_t plen, tlen, room, i;
	int n, r;
	va_list ap2;

	n = snprintf(prefix, sizeof(prefix), "%d%c%s%s", code, sep,
	    enh == NULL ? "" : enh, enh == NULL ? "" : " ");
	plen = (size_t)n;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	text = xmalloc((size_t)n + 1);
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	tlen = (size_t)n;
	for (i = 0; i < tlen; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '?';
	/* plen is at most 3 + 1 + 9 + 1 bytes, far below the limit */
	room = SMTP_REPLY_LINE_MAX - 2 - plen;
	if (tlen > room) {
		tlen = room;
		/* do not cut a UTF-8 sequence in half */
		while (tlen > 0 && ((unsigned char)text[tlen] & 0xc0) == 0x80)
			tlen--;
	}
	r = buf_append(b, prefix, plen);
	if (r == 0)
		r = buf_append(b, text, tlen);
	if (r == 0)
		r = buf_append(b, "\r\n", 2);
	free(text);
	return r;
}

/* line - add_line with variadic arguments */
static int __attribute__((format(printf, 5, 6)))
line(struct buf *b, int code, char sep, const char *enh, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = add_line(b, code, sep, enh, fmt, ap);
	va_end(ap);
	return r;
}

/* append_whole - move tmp into out all at once, then free tmp */
static int
append_whole(struct buf *out, struct buf *tmp)
{
	int r;

	r = buf_append(out, buf_ptr(tmp), buf_avail(tmp));
	buf_deinit(tmp);
	return r;
}

/* smtp_reply - a single-line reply */
int
smtp_reply(struct buf *out, int code, const char *enh, const char *fmt, ...)
{
	struct buf tmp;
	va_list ap;
	int r;

	check_code(code, enh, false);
	buf_init(&tmp, SMTP_REPLY_LINE_MAX);
	va_start(ap, fmt);
	r = add_line(&tmp, code, ' ', enh, fmt, ap);
	va_end(ap);
	if (r < 0) {
		buf_deinit(&tmp);
		return -1;
	}
	return append_whole(out, &tmp);
}

/* begin - start a multi-line reply, exempt ones included */
static void
begin(struct smtp_reply *r, int code, const char *enh, bool exempt)
{
	check_code(code, enh, exempt);
	memset(r, 0, sizeof(*r));
	buf_init(&r->tmp, SMTP_REPLY_MAX);
	r->code = code;
	r->enh = enh;
}

/* smtp_reply_begin - start a multi-line reply */
void
smtp_reply_begin(struct smtp_reply *r, int code, const char *enh)
{
	begin(r, code, enh, false);
}

/* smtp_reply_add - one more line; errors surface in smtp_reply_end() */
void
smtp_reply_add(struct smtp_reply *r, const char *fmt, ...)
{
	va_list ap;
	size_t at;

	if (r->failed)
		return;
	at = buf_avail(&r->tmp) + 3;	/* the separator follows the code */
	va_start(ap, fmt);
	if (add_line(&r->tmp, r->code, '-', r->enh, fmt, ap) < 0)
		r->failed = true;
	va_end(ap);
	r->last = at;
	r->nlines++;
}

/* smtp_reply_end - turn the last '-' into ' ' and append everything */
int
smtp_reply_end(struct smtp_reply *r, struct buf *out)
{
	if (r->failed || r->nlines == 0) {
		smtp_reply_cancel(r);
		return -1;
	}
	/*
	 * tmp is never consumed, so buf_ptr() is its data and r->last, taken
	 * from its length before the last line was added, is inside it.
	 */
	((char *)buf_ptr(&r->tmp))[r->last] = ' ';
	return append_whole(out, &r->tmp);
}

/* smtp_reply_cancel - drop a reply being built */
void
smtp_reply_cancel(struct smtp_reply *r)
{
	buf_deinit(&r->tmp);
	r->nlines = 0;
}

/* smtp_reply_greeting - the 220 banner, with the session id */
int
smtp_reply_greeting(struct buf *out, const char *host, const char *session_id,
    bool lmtp)
{
	struct buf tmp;

	buf_init(&tmp, SMTP_REPLY_LINE_MAX);
	if (line(&tmp, 220, ' ', NULL, "%s %s ready, session %s", host,
	    lmtp ? "LMTP" : "ESMTP", session_id) < 0) {
		buf_deinit(&tmp);
		return -1;
	}
	return append_whole(out, &tmp);
}

/* smtp_reply_ehlo - 250-host Hello client, then the keywords */
int
smtp_reply_ehlo(struct buf *out, const char *host, const char *client,
    const char *const *keywords, size_t nkeywords)
{
	struct smtp_reply r;
	size_t i;

	begin(&r, 250, NULL, true);
	smtp_reply_add(&r, "%s Hello %s", host, client);
	for (i = 0; i < nkeywords; i++)
		smtp_reply_add(&r, "%s", keywords[i]);
	return smtp_reply_end(&r, out);
}

/* smtp_reply_helo - 250 host Hello client */
int
smtp_reply_helo(struct buf *out, const char *host, const char *client)
{
	struct buf tmp;

	buf_init(&tmp, SMTP_REPLY_LINE_MAX);
	if (line(&tmp, 250, ' ', NULL, "%s Hello %s", host, client) < 0) {
		buf_deinit(&tmp);
		return -1;
	}
	return append_whole(out, &tmp);
}

/* smtp_reply_queued - the final 250 after the message is durable */
int
smtp_reply_queued(struct buf *out, const char *id)
{
	return smtp_reply(out, 250, "2.0.0", "Ok: queued as %s", id);
}

/* smtp_reply_bye - the 221 answer to QUIT */
int
smtp_reply_bye(struct buf *out, const char *host, const char *session_id)
{
	return smtp_reply(out, 221, "2.0.0",
	    "%s closing connection, session %s", host, session_id);
}
