/* bounce.c - RFC 3464 delivery status notifications */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "str.h"
#include "xmalloc.h"

#include "bounce.h"
#include "smtp_reply.h"

#define FOLD_AT		76	/* fold header-like lines past this */

/* bounce_date - RFC 5322 date-time in UTC, without the locale's help */
void
bounce_date(int64_t t, char *dst, size_t dstsize)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL) {
		(void)str_copy(dst, dstsize, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(dst, dstsize, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* reply_code_at - a 3-digit reply code followed by a space or the end */
static bool
reply_code_at(const char *p)
{
	return p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' &&
	    p[2] >= '0' && p[2] <= '9' && (p[3] == ' ' || p[3] == '\0');
}

/* bounce_diag_parse - Status, Remote-MTA and Diagnostic-Code of an error */
void
bounce_diag_parse(const char *error, bool perm, struct bounce_diag *d)
{
	const char *p = error != NULL ? error : "", *said, *br;
	size_t n;

	memset(d, 0, sizeof(*d));
	d->diag_type = "X-Bastide";
	d->diag = p;
	if (strncmp(p, "host ", 5) == 0 &&
	    (said = strstr(p, " said: ")) != NULL) {
		/* the host name ends at the '[' of its address */
		br = memchr(p + 5, '[', (size_t)(said - p - 5));
		n = (size_t)((br != NULL ? br : said) - (p + 5));
		if (n >= sizeof(d->remote_mta))
			n = sizeof(d->remote_mta) - 1;
		memcpy(d->remote_mta, p + 5, n);
		d->remote_mta[n] = '\0';
		p = said + 7;
		d->diag = p;
	}
	if (reply_code_at(p)) {
		d->diag_type = "smtp";
		d->diag = p;
		n = p[3] == ' ' ? smtp_reply_enh_len(p + 4, strlen(p + 4)) : 0;
		if (n > 0 && p[4] == p[0]) {
			memcpy(d->status, p + 4, n);
			d->status[n] = '\0';
		} else {
			snprintf(d->status, sizeof(d->status), "%c.0.0",
			    p[0] == '2' ? '2' : p[0] == '5' ? '5' : '4');
		}
		return;
	}
	if ((n = smtp_reply_enh_len(p, strlen(p))) > 0) {
		memcpy(d->status, p, n);
		d->status[n] = '\0';
		d->diag = p[n] == ' ' ? p + n + 1 : p + n;
		return;
	}
	(void)str_copy(d->status, sizeof(d->status), perm ? "5.0.0" :
	    "4.0.0");
}

/* is_ascii - no byte above 0x7f */
static bool
is_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* field - "Name: value" folded at spaces, CRLF ended; control bytes of
 * value become '?' (an error text must not start a header of its own) */
static void
field(struct buf *b, const char *name, const char *value)
{
	size_t col, i, n = strlen(value), word;

	(void)buf_printf(b, "%s:", name);
	col = strlen(name) + 1;
	i = 0;
	while (i < n) {
		while (i < n && value[i] == ' ')
			i++;
		if (i == n)
			break;
		for (word = 0; i + word < n && value[i + word] != ' ';
		    word++)
			;
		if (col > 1 + strlen(name) && col + 1 + word > FOLD_AT) {
			(void)buf_append(b, "\r\n", 2);
			col = 0;
		}
		(void)buf_append_byte(b, ' ');
		col++;
		for (; word > 0; word--, i++, col++) {
			unsigned char c = (unsigned char)value[i];

			(void)buf_append_byte(b, c < 0x20 || c == 0x7f ?
			    '?' : c);
		}
	}
	(void)buf_append(b, "\r\n", 2);
}

/* text_para - a paragraph of the human part wrapped at FOLD_AT, CRLF
 * ended; the first line starts with indent, the others with cont */
static void
text_para(struct buf *b, const char *indent, const char *cont,
    const char *text)
{
	size_t col, i = 0, n = strlen(text), word, start;

	(void)buf_append_str(b, indent);
	col = start = strlen(indent);
	while (i < n) {
		while (i < n && text[i] == ' ')
			i++;
		if (i == n)
			break;
		for (word = 0; i + word < n && text[i + word] != ' ';
		    word++)
			;
		if (col > start && col + 1 + word > FOLD_AT) {
			(void)buf_append(b, "\r\n", 2);
			(void)buf_append_str(b, cont);
			col = start = strlen(cont);
		} else if (col > start) {
			(void)buf_append_byte(b, ' ');
			col++;
		}
		for (; word > 0; word--, i++, col++) {
			unsigned char c = (unsigned char)text[i];

			(void)buf_append_byte(b, c < 0x20 || c == 0x7f ?
			    '?' : c);
		}
	}
	(void)buf_append(b, "\r\n", 2);
}

/* header_len - bytes of the header section, its last line end included,
 * the empty line that ends it not */
static size_t
header_len(const char *msg, size_t len)
{
	size_t i;

	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
		return 0;
	if (len >= 1 && msg[0] == '\n')
		return 0;
	for (i = 0; i + 1 < len; i++) {
		if (msg[i] != '\n')
			continue;
		if (msg[i + 1] == '\n')
			return i + 1;
		if (msg[i + 1] == '\r' && i + 2 < len && msg[i + 2] == '\n')
			return i + 1;
	}
	return len;
}

/* append_crlf - bytes with every bare LF made CRLF; ends with CRLF */
static void
append_crlf(struct buf *b, const char *p, size_t n)
{
	const char *nl;
	size_t i = 0, end;

	while (i < n) {
		nl = memchr(p + i, '\n', n - i);
		end = nl != NULL ? (size_t)(nl - p) : n;
		if (end > i && p[end - 1] == '\r')
			(void)buf_append(b, p + i, end - 1 - i);
		else
			(void)buf_append(b, p + i, end - i);
		(void)buf_append(b, "\r\n", 2);
		i = end + 1;
	}
}

/* action_name - the Action field's value */
static const char *
action_name(enum bounce_action a)
{
	switch (a) {
	case BOUNCE_FAILED:
		return "failed";
	case BOUNCE_DELAYED:
		return "delayed";
	case BOUNCE_DELIVERED:
		return "delivered";
	case BOUNCE_RELAYED:
		break;
	}
	return "relayed";
}

/* addr_type - "rfc822", or "utf-8" for an address that needs it */
static const char *
addr_type(const char *addr)
{
	return is_ascii(addr, strlen(addr)) ? "rfc822" : "utf-8";
}

/* rcpt_fields - one recipient's block of the delivery-status part */
static void
rcpt_fields(struct buf *b, const struct bounce_info *bi,
    const struct bounce_rcpt *r)
{
	struct bounce_diag d;
	char date[64], *v;

	bounce_diag_parse(r->error, r->action == BOUNCE_FAILED, &d);
	if (r->action == BOUNCE_DELIVERED || r->action == BOUNCE_RELAYED)
		(void)str_copy(d.status, sizeof(d.status), "2.0.0");
	else if (r->action == BOUNCE_DELAYED && d.status[0] != '4')
		/* a delay is transient by definition */
		(void)str_copy(d.status, sizeof(d.status), "4.0.0");
	(void)buf_append(b, "\r\n", 2);
	if (r->orcpt != NULL && strchr(r->orcpt, ';') != NULL) {
		/* "type;address" as queued: the type, then the address */
		v = xasprintf("%.*s; %s", (int)(strchr(r->orcpt, ';') -
		    r->orcpt), r->orcpt, strchr(r->orcpt, ';') + 1);
		field(b, "Original-Recipient", v);
		free(v);
	}
	v = xasprintf("%s; %s", addr_type(r->addr), r->addr);
	field(b, "Final-Recipient", v);
	free(v);
	field(b, "Action", action_name(r->action));
	field(b, "Status", d.status);
	if (d.remote_mta[0] != '\0' || r->remote_mta != NULL) {
		v = xasprintf("dns; %s", d.remote_mta[0] != '\0' ?
		    d.remote_mta : r->remote_mta);
		field(b, "Remote-MTA", v);
		free(v);
	}
	if (r->error != NULL && *d.diag != '\0') {
		v = xasprintf("%s; %s", d.diag_type, d.diag);
		field(b, "Diagnostic-Code", v);
		free(v);
	}
	if (r->last_attempt != 0) {
		bounce_date(r->last_attempt, date, sizeof(date));
		field(b, "Last-Attempt-Date", date);
	}
	if (r->action == BOUNCE_DELAYED && r->retry_until != 0) {
		bounce_date(r->retry_until, date, sizeof(date));
		field(b, "Will-Retry-Until", date);
	}
	(void)bi;
}

/* worst_action - what the notice is about as a whole */
static enum bounce_action
worst_action(const struct bounce_info *bi)
{
	enum bounce_action w = BOUNCE_RELAYED;
	size_t i;

	for (i = 0; i < bi->nrcpts; i++) {
		if (bi->rcpts[i].action == BOUNCE_FAILED)
			return BOUNCE_FAILED;
		if (bi->rcpts[i].action == BOUNCE_DELAYED)
			w = BOUNCE_DELAYED;
		else if (w == BOUNCE_RELAYED &&
		    bi->rcpts[i].action == BOUNCE_DELIVERED)
			w = BOUNCE_DELIVERED;
	}
	return w;
}

/* human_part - the text/plain part */
static void
human_part(struct buf *b, const struct bounce_info *bi,
    enum bounce_action worst, bool full)
{
	const struct bounce_rcpt *r;
	char date[64], *line;
	size_t i;

	(void)buf_printf(b, "This is the mail system at host %s.\r\n\r\n",
	    bi->reporting_mta);
	switch (worst) {
	case BOUNCE_FAILED:
		text_para(b, "", "", "Your message could not be delivered to "
		    "one or more recipients, and no further attempts will "
		    "be made for them.");
		break;
	case BOUNCE_DELAYED:
		text_para(b, "", "", "Your message could not be delivered yet "
		    "to one or more recipients. It will be tried again; "
		    "you do not need to send it again. You will be told if "
		    "it finally fails.");
		break;
	case BOUNCE_DELIVERED:
	case BOUNCE_RELAYED:
		text_para(b, "", "", "Your message was delivered to the "
		    "recipients below, or passed on to a mail system that "
		    "does not report its deliveries (\"relayed\").");
		break;
	}
	(void)buf_append(b, "\r\n", 2);
	for (i = 0; i < bi->nrcpts; i++) {
		r = &bi->rcpts[i];
		switch (r->action) {
		case BOUNCE_FAILED:
			line = xasprintf("<%s>: %s", r->addr,
			    r->error != NULL ? r->error : "failed");
			break;
		case BOUNCE_DELAYED:
			line = xasprintf("<%s>: still trying: %s", r->addr,
			    r->error != NULL ? r->error : "not delivered yet");
			break;
		case BOUNCE_DELIVERED:
			line = xasprintf("<%s>: delivered to the mailbox",
			    r->addr);
			break;
		default:
			line = xasprintf("<%s>: relayed to %s", r->addr,
			    r->remote_mta != NULL ? r->remote_mta :
			    "a mail system without delivery notifications");
			break;
		}
		text_para(b, "", "    ", line);
		free(line);
		if (r->action == BOUNCE_DELAYED && r->retry_until != 0) {
			bounce_date(r->retry_until, date, sizeof(date));
			line = xasprintf("will be tried until %s", date);
			text_para(b, "    ", "        ", line);
			free(line);
		}
	}
	(void)buf_append(b, "\r\n", 2);
	if (full)
		text_para(b, "", "", "The message is attached below.");
	else if (worst == BOUNCE_FAILED)
		text_para(b, "", "", "The header of the message is attached "
		    "below.");
	else
		text_para(b, "", "", "The header of the message is attached "
		    "below, for reference.");
}

/* boundary_ok - the boundary does not occur in the original */
static bool
boundary_ok(const struct bounce_info *bi, const char *boundary)
{
	return memmem(bi->msg, bi->len, boundary, strlen(boundary)) == NULL;
}

/* bounce_build - the DSN message */
int
bounce_build(const struct bounce_info *bi, struct buf *out, bool *eightbit_r)
{
	enum bounce_action worst = worst_action(bi);
	struct buf b;
	char date[64], *boundary, *v;
	const char *subject, *third;
	size_t hlen, i;
	bool full, global = bi->smtputf8, eight, text_utf8 = false;
	unsigned int n = 0;
	int r;

	full = worst == BOUNCE_FAILED && bi->ret != QUEUE_RET_HDRS &&
	    bi->len <= bi->full_max;
	hlen = header_len(bi->msg, bi->len);
	boundary = xasprintf("=_%s_%s", bi->unique, bi->queue_id);
	while (!boundary_ok(bi, boundary)) {
		free(boundary);
		boundary = xasprintf("=_%s_%s_%u", bi->unique, bi->queue_id,
		    ++n);
	}
	for (i = 0; i < bi->nrcpts && !text_utf8; i++)
		text_utf8 = !is_ascii(bi->rcpts[i].addr,
		    strlen(bi->rcpts[i].addr));
	eight = !is_ascii(bi->msg, full ? bi->len : hlen) || text_utf8 ||
	    !is_ascii(bi->sender, strlen(bi->sender));
	switch (worst) {
	case BOUNCE_FAILED:
		subject = "Undelivered Mail Returned to Sender";
		break;
	case BOUNCE_DELAYED:
		subject = "Delayed Mail (still being retried)";
		break;
	default:
		subject = "Successful Mail Delivery Report";
		break;
	}
	buf_init(&b, 0);
	bounce_date(bi->now, date, sizeof(date));
	field(&b, "Date", date);
	v = xasprintf("Mail Delivery System <MAILER-DAEMON@%s>",
	    bi->reporting_mta);
	field(&b, "From", v);
	free(v);
	(void)buf_printf(&b, "To: <%s>\r\n", bi->sender);
	field(&b, "Subject", subject);
	(void)buf_printf(&b, "Message-ID: <%s.%s.dsn@%s>\r\n", bi->unique,
	    bi->queue_id, bi->reporting_mta);
	field(&b, "Auto-Submitted", "auto-replied");
	field(&b, "MIME-Version", "1.0");
	(void)buf_printf(&b, "Content-Type: multipart/report; "
	    "report-type=%s;\r\n\tboundary=\"%s\"\r\n",
	    global ? "global-delivery-status" : "delivery-status", boundary);
	if (eight)
		field(&b, "Content-Transfer-Encoding", "8bit");
	(void)buf_append_str(&b, "\r\nThis is a MIME-encapsulated "
	    "message.\r\n");

	/* 1: for people */
	(void)buf_printf(&b, "\r\n--%s\r\n", boundary);
	field(&b, "Content-Description", "Notification");
	field(&b, "Content-Type", text_utf8 ? "text/plain; charset=utf-8" :
	    "text/plain; charset=us-ascii");
	if (text_utf8)
		field(&b, "Content-Transfer-Encoding", "8bit");
	(void)buf_append(&b, "\r\n", 2);
	human_part(&b, bi, worst, full);

	/* 2: for programs */
	(void)buf_printf(&b, "\r\n--%s\r\n", boundary);
	field(&b, "Content-Description", "Delivery report");
	field(&b, "Content-Type", global ? "message/global-delivery-status" :
	    "message/delivery-status");
	if (global && eight)
		field(&b, "Content-Transfer-Encoding", "8bit");
	(void)buf_append(&b, "\r\n", 2);
	v = xasprintf("dns; %s", bi->reporting_mta);
	field(&b, "Reporting-MTA", v);
	free(v);
	field(&b, "X-Bastide-Queue-ID", bi->queue_id);
	if (bi->envid != NULL)
		field(&b, "Original-Envelope-Id", bi->envid);
	if (bi->arrival != 0) {
		bounce_date(bi->arrival, date, sizeof(date));
		field(&b, "Arrival-Date", date);
	}
	for (i = 0; i < bi->nrcpts; i++)
		rcpt_fields(&b, bi, &bi->rcpts[i]);

	/* 3: the message or its header */
	(void)buf_printf(&b, "\r\n--%s\r\n", boundary);
	if (full) {
		third = global ? "message/global" : "message/rfc822";
		field(&b, "Content-Description", worst == BOUNCE_FAILED ?
		    "Undelivered Message" : "Message");
	} else {
		third = global ? "text/global-headers" : "text/rfc822-headers";
		field(&b, "Content-Description", worst == BOUNCE_FAILED ?
		    "Undelivered Message Headers" : "Message Headers");
	}
	field(&b, "Content-Type", third);
	if (!is_ascii(bi->msg, full ? bi->len : hlen))
		field(&b, "Content-Transfer-Encoding", "8bit");
	(void)buf_append(&b, "\r\n", 2);
	append_crlf(&b, bi->msg, full ? bi->len : hlen);
	(void)buf_printf(&b, "\r\n--%s--\r\n", boundary);

	*eightbit_r = eight;
	r = buf_append(out, buf_ptr(&b), buf_avail(&b));
	buf_deinit(&b);
	free(boundary);
	return r;
}
