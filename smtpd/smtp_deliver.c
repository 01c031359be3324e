/* smtp_deliver.c - durable delivery after DATA/BDAT, then the reply */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "queue.h"
#include "store.h"
#include "xmalloc.h"

#include "outq.h"
#include "smtp_deliver.h"
#include "smtp_reply.h"

/* one distinct mailbox of the transaction */
struct dtarget {
	const struct smtp_local_target *t;
	enum store_result result;
};

/* what became of one recipient */
struct dstate {
	size_t		 ok;		/* mailboxes that have it */
	size_t		 failed;	/* mailboxes that do not */
	enum store_result worst;	/* TEMP over QUOTA over INVALID */
	bool		 queued;	/* something of it is in the queue */
};

/* smtp_deliver_protocol - the "with" keyword of the Received: line */
const char *
smtp_deliver_protocol(bool lmtp, bool esmtp, bool utf8, bool tls, bool auth)
{
	static const char *const smtp[] = { "ESMTP", "ESMTPA", "ESMTPS",
	    "ESMTPSA" };
	static const char *const u8[] = { "UTF8SMTP", "UTF8SMTPA",
	    "UTF8SMTPS", "UTF8SMTPSA" };
	static const char *const lm[] = { "LMTP", "LMTPA", "LMTPS",
	    "LMTPSA" };
	int i = (tls ? 2 : 0) + (auth ? 1 : 0);

	if (lmtp)
		return lm[i];
	if (!esmtp)
		return "SMTP";
	return utf8 ? u8[i] : smtp[i];
}

/* trace_word - text safe inside a Received: clause (no parentheses,
 * spaces or controls: a HELO name must not forge a clause) */
static void
trace_word(char *dst, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c > 0x20 && c < 0x7f && c != '(' && c != ')' &&
		    c != ';' && c != '\\' && c != '"') || c >= 0x80 ?
		    (char)c : '?';
	}
	dst[i] = '\0';
}

/* smtp_deliver_prefix - Return-Path: and Received: */
int
smtp_deliver_prefix(struct buf *out, const char *sender,
    const struct smtp_trace *t, size_t *rp_len_r)
{
	char helo[256], date[64], user[256];
	struct tm tm;
	time_t now = (time_t)t->now;
	size_t before;
	int r;

	before = buf_avail(out);
	if (buf_printf(out, "Return-Path: <%s>\r\n", sender) < 0)
		return -1;
	*rp_len_r = buf_avail(out) - before;
	trace_word(helo, sizeof(helo), t->helo != NULL && t->helo[0] != '\0' ?
	    t->helo : "unknown");
	gmtime_r(&now, &tm);
	/* RFC 5322 date-time, in English whatever the locale */
	snprintf(date, sizeof(date), "%s, %d %s %04d %02d:%02d:%02d +0000",
	    (const char *[]){ "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
	    "Sat" }[tm.tm_wday], tm.tm_mday,
	    (const char *[]){ "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	r = buf_printf(out, "Received: from %s (%s%s%s)\r\n", helo,
	    strcmp(t->peer, "local") == 0 ? "" : "[", t->peer,
	    strcmp(t->peer, "local") == 0 ? "" : "]");
	if (r == 0 && t->tls_version != NULL)
		r = buf_printf(out, "\t(using %s with cipher %s)\r\n",
		    t->tls_version, t->tls_cipher);
	if (r == 0 && t->auth_user != NULL) {
		trace_word(user, sizeof(user), t->auth_user);
		r = buf_printf(out, "\t(authenticated as %s)\r\n", user);
	}
	if (r == 0)
		r = buf_printf(out, "\tby %s (Bastide) with %s id %s\r\n",
		    t->hostname, t->protocol, t->id);
	if (r == 0 && t->for_rcpt != NULL)
		r = buf_printf(out, "\tfor <%s>;\r\n\t%s\r\n", t->for_rcpt,
		    date);
	else if (r == 0)
		r = buf_printf(out, "\t; %s\r\n", date);
	return r;
}

/* queue_body - smtp_parse's BODY= as the queue's */
static enum queue_body
queue_body(enum smtp_body b)
{
	switch (b) {
	case SMTP_BODY_UNSET:
		return QUEUE_BODY_UNSET;
	case SMTP_BODY_7BIT:
		return QUEUE_BODY_7BIT;
	case SMTP_BODY_8BITMIME:
		return QUEUE_BODY_8BITMIME;
	case SMTP_BODY_BINARYMIME:
		return QUEUE_BODY_BINARYMIME;
	}
	return QUEUE_BODY_UNSET;
}

_Static_assert(QUEUE_NOTIFY_NEVER == SMTP_NOTIFY_NEVER &&
    QUEUE_NOTIFY_SUCCESS == SMTP_NOTIFY_SUCCESS &&
    QUEUE_NOTIFY_FAILURE == SMTP_NOTIFY_FAILURE &&
    QUEUE_NOTIFY_DELAY == SMTP_NOTIFY_DELAY, "NOTIFY bits differ");

/* env_add - one queue recipient with the DSN parameters of r, once */
static void
env_add(struct queue_env *env, const char *addr, const struct smtp_rcpt *r)
{
	struct queue_rcpt *qr;
	size_t i;

	for (i = 0; i < env->nrcpts; i++)
		if (strcasecmp(env->rcpts[i].addr, addr) == 0)
			return;
	qr = queue_env_add_rcpt(env, addr);
	qr->notify = r->notify;		/* the same bits in both */
	if (r->orcpt != NULL)
		queue_set_str(&qr->orcpt, r->orcpt);
}

/* worse - the more telling of two failures (TEMP, QUOTA, INVALID) */
static enum store_result
worse(enum store_result a, enum store_result b)
{
	if (a == STORE_ERR_TEMP || b == STORE_ERR_TEMP)
		return STORE_ERR_TEMP;
	if (a == STORE_ERR_QUOTA || b == STORE_ERR_QUOTA)
		return STORE_ERR_QUOTA;
	return a != STORE_OK ? a : b;
}

/* fail_reply - the reply for a recipient that nothing could take */
static void
fail_reply(struct buf *out, enum store_result worst, const char *addr)
{
	switch (worst) {
	case STORE_ERR_QUOTA:
		(void)smtp_reply(out, 452, "4.2.2", "<%s>: mailbox full",
		    addr);
		break;
	case STORE_ERR_INVALID:
		(void)smtp_reply(out, 550, "5.1.1",
		    "<%s>: mailbox unavailable", addr);
		break;
	default:
		(void)smtp_reply(out, 451, "4.3.0",
		    "<%s>: temporary failure, try again later", addr);
		break;
	}
}

/* smtp_deliver - store, queue, then reply */
int
smtp_deliver(struct store *st, struct outq *q,
    const struct smtp_envelope *env, const char *msg, size_t len,
    size_t rp_len, bool lmtp, const char *id, struct buf *out)
{
	struct dtarget *tg = NULL;
	struct store_rcpt *rc = NULL;
	struct dstate *ds;
	struct queue_env *qenv;
	const struct smtp_rcpt *r;
	const struct smtp_local_target *t;
	char *error = NULL;
	size_t i, j, k, ntg = 0, alive = 0;
	size_t *map;		/* rcpt i target j -> tg index, flattened */
	size_t nmap = 0;
	enum store_result worst = STORE_OK;
	int qr = 0, ret = 0;

	ds = xcalloc(env->nrcpts + 1, sizeof(*ds));
	for (i = 0; i < env->nrcpts; i++)
		nmap += env->rcpts[i].x.nlocal;
	map = xcalloc(nmap + 1, sizeof(*map));
	tg = xcalloc(nmap + 1, sizeof(*tg));
	/* each mailbox once, however many recipients lead to it */
	for (i = 0, nmap = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		for (j = 0; j < r->x.nlocal; j++) {
			t = &r->x.local[j];
			for (k = 0; k < ntg; k++)
				if (strcmp(tg[k].t->user, t->user) == 0 &&
				    (t->mailbox == NULL ?
				    tg[k].t->mailbox == NULL :
				    tg[k].t->mailbox != NULL &&
				    strcmp(tg[k].t->mailbox, t->mailbox) == 0))
					break;
			if (k == ntg)
				tg[ntg++].t = t;
			map[nmap++] = k;
		}
	}
	if (ntg > 0) {
		rc = xcalloc(ntg, sizeof(*rc));
		for (k = 0; k < ntg; k++) {
			rc[k].user = tg[k].t->user;
			rc[k].mailbox = tg[k].t->mailbox;
			rc[k].quota_bytes = tg[k].t->quota;
		}
		(void)store_deliver(st, msg, len, rc, ntg);
		for (k = 0; k < ntg; k++) {
			tg[k].result = rc[k].result;
			if (rc[k].result != STORE_OK)
				log_warnx("%s: delivery to %s failed: %s", id,
				    rc[k].user, rc[k].error);
			else
				log_info("%s: delivered to %s%s%s", id,
				    rc[k].user, rc[k].mailbox != NULL ?
				    " folder " : "", rc[k].mailbox != NULL ?
				    rc[k].mailbox : "");
		}
	}
	for (i = 0, nmap = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		for (j = 0; j < r->x.nlocal; j++) {
			k = map[nmap++];
			if (tg[k].result == STORE_OK) {
				ds[i].ok++;
			} else {
				ds[i].failed++;
				ds[i].worst = worse(ds[i].worst,
				    tg[k].result);
			}
		}
		if (ds[i].ok > 0 || r->x.nremote > 0)
			alive++;
		worst = worse(worst, ds[i].worst);
	}

	/*
	 * The queue takes what is not local, and the mailboxes that failed
	 * of a recipient whose mail is accepted all the same: in SMTP that
	 * is every recipient once anything was accepted (one reply for
	 * all), in LMTP only recipients that partly succeeded.
	 */
	qenv = queue_env_new("", env->arrival, env->sender);
	queue_set_str(&qenv->envid, env->envid);
	qenv->ret = env->ret == SMTP_RET_FULL ? QUEUE_RET_FULL :
	    env->ret == SMTP_RET_HDRS ? QUEUE_RET_HDRS : QUEUE_RET_UNSET;
	qenv->body = queue_body(env->body);
	qenv->smtputf8 = env->smtputf8;
	queue_set_str(&qenv->auth_user, env->auth_user);
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		if (lmtp ? ds[i].ok == 0 && r->x.nremote == 0 : alive == 0)
			continue;
		for (j = 0; j < r->x.nremote; j++) {
			env_add(qenv, r->x.remote[j], r);
			ds[i].queued = true;
		}
	}
	/* the failed mailboxes, found through the flattened map */
	for (i = 0, nmap = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		for (j = 0; j < r->x.nlocal; j++) {
			k = map[nmap++];
			if (tg[k].result == STORE_OK ||
			    (lmtp ? ds[i].ok == 0 && r->x.nremote == 0 :
			    alive == 0))
				continue;
			env_add(qenv, r->x.local[j].address, r);
			ds[i].queued = true;
		}
	}
	if (qenv->nrcpts > 0) {
		if (q == NULL) {
			error = xstrdup("no queue");
			qr = -1;
		} else {
			qr = outq_enqueue(q, msg + rp_len, len - rp_len, qenv,
			    &error);
		}
		if (qr < 0)
			log_warnx("%s: cannot queue for %zu recipients: %s",
			    id, qenv->nrcpts, error);
		else
			log_info("%s: queued as %s for %zu recipients", id,
			    qenv->id, qenv->nrcpts);
		free(error);
	}

	if (lmtp) {
		for (i = 0; i < env->nrcpts; i++) {
			r = &env->rcpts[i];
			if (ds[i].queued && qr < 0) {
				(void)smtp_reply(out, 451, "4.3.0", "<%s>: "
				    "temporary failure, try again later",
				    r->address);
				ret = -1;
			} else if (ds[i].ok == 0 && r->x.nremote == 0) {
				fail_reply(out, ds[i].worst, r->address);
				ret = -1;
			} else {
				(void)smtp_reply(out, 250, "2.1.5",
				    "<%s>: delivered, id %s", r->address, id);
			}
		}
	} else if (alive == 0) {
		fail_reply(out, worst, env->nrcpts == 1 ?
		    env->rcpts[0].address : "all recipients");
		ret = -1;
	} else if (qr < 0) {
		/* XXX: the mailboxes that took it get it again when the
		 * client retries; a duplicate beats a loss */
		(void)smtp_reply(out, 451, "4.3.0",
		    "Queue unavailable, try again later");
		ret = -1;
	} else {
		(void)smtp_reply(out, 250, "2.0.0", "Ok: queued as %s%s%s",
		    id, qenv->nrcpts > 0 ? ", " : "",
		    qenv->nrcpts > 0 ? qenv->id : "");
	}
	queue_env_free(&qenv);
	free(rc);
	free(tg);
	free(map);
	free(ds);
	return ret;
}
