/* smtp_session.c - the SMTP/LMTP state machine, one verb per handler */
#include "config.h"

#include <arpa/inet.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "authfail.h"
#include "base64.h"
#include "buf.h"
#include "conf.h"
#include "directory.h"
#include "frame.h"
#include "log.h"
#include "net.h"
#include "sasl.h"
#include "str.h"
#include "xmalloc.h"

#include "smtp_data.h"
#include "smtp_deliver.h"
#include "smtp_local.h"
#include "smtp_parse.h"
#include "smtp_rcpt.h"
#include "smtp_reply.h"
#include "smtp_session.h"

/* RFC 4954 4: an AUTH exchange line may be this long, CRLF included */
#define SMTP_AUTH_LINE_MAX	12288
/* replies built on the loop, one at a time */
#define SMTP_OUT_MAX		(64 * 1024)

enum smtp_state {
	SMTP_STATE_GREETED = 0,	/* no HELO/EHLO yet */
	SMTP_STATE_READY,	/* greeted, no transaction */
	SMTP_STATE_MAIL,	/* MAIL accepted, no recipient yet */
	SMTP_STATE_RCPT,	/* at least one recipient */
	SMTP_STATE_DATA,	/* reading the lines of DATA */
	SMTP_STATE_CHUNKING,	/* between BDAT chunks */
	SMTP_STATE_BDAT,	/* reading one BDAT chunk */
	SMTP_STATE_AUTH,	/* in a SASL exchange */
	SMTP_STATE_BUSY,	/* delivering; input is paused */
	SMTP_STATE_QUIT		/* saying goodbye */
};

static const char *const smtp_state_names[] = {
	"GREETED", "READY", "MAIL", "RCPT", "DATA", "CHUNKING", "BDAT",
	"AUTH", "BUSY", "QUIT"
};

#define ST(x)		(1U << SMTP_STATE_##x)
#define ST_CMD		(ST(GREETED) | ST(READY) | ST(MAIL) | ST(RCPT) | \
			 ST(CHUNKING))

enum smtp_auth_step {
	SMTP_AUTH_PLAIN = 0,	/* waiting for the PLAIN message */
	SMTP_AUTH_LOGIN_USER,	/* waiting for the LOGIN user name */
	SMTP_AUTH_LOGIN_PASS	/* waiting for the LOGIN password */
};

/* the transaction between MAIL and the end of the message */
struct smtp_txn {
	char		*sender;	/* "" for <> */
	enum smtp_body	 body;
	enum smtp_ret	 ret;
	bool		 smtputf8;
	char		*envid;
	uint64_t	 size;		/* SIZE=, 0 if not given */
	struct smtp_rcpt *rcpts;
	size_t		 nrcpts;
	unsigned int	 ntried;	/* RCPT commands */
	struct smtp_data *data;		/* from DATA or the first BDAT */
	size_t		 rp_len;	/* the Return-Path: line in data */
	char		 id[40];	/* session id and sequence */
};

struct smtp_session {
	struct conn		*c;
	struct smtp_server	*srv;
	struct smtp_settings	*set;
	enum smtp_role		 role;
	enum smtp_state		 state;
	char			*helo;
	bool			 esmtp;
	bool			 trusted;
	bool			 loopback;
	unsigned int		 errors;
	unsigned int		 ntxn;
	struct smtp_txn		 txn;
	/* AUTH */
	struct directory_user	*user;		/* once authenticated */
	enum smtp_auth_step	 auth_step;
	char			*auth_login;	/* LOGIN: the user name */
	struct event		*delay_ev;	/* slowed-down 535 */
	/* BDAT */
	enum smtp_state		 bdat_back;	/* state after a refused one */
	int			 bdat_code;	/* refusal; 0: taken */
	const char		*bdat_enh, *bdat_text;
	bool			 bdat_last;
	uint64_t		 bdat_size;
	/* a job of ours is in the pool */
	bool			 job;
	bool			 shutdown;	/* say 421 after it */
};

struct smtp_verb_def {
	enum smtp_verb	 verb;
	int		(*check)(struct smtp_session *, struct smtp_cmd *);
	void		(*proceed)(struct smtp_session *, struct smtp_cmd *);
	unsigned int	 states;	/* ST() bits where it is allowed */
	const char	*bad_seq;	/* the 503 text elsewhere */
};

static void smtp_txn_reset(struct smtp_session *s);

/* ---- settings */

/* smtp_cidr_parse - "a.b.c.d/n", "v6/n" or a bare address */
int
smtp_cidr_parse(const char *s, struct smtp_cidr *cidr)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash;
	struct in_addr a4;
	uint64_t bits;
	size_t n;
	bool v4;

	memset(cidr, 0, sizeof(*cidr));
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &a4) == 1) {
		v4 = true;
		cidr->addr[10] = 0xff;
		cidr->addr[11] = 0xff;
		memcpy(cidr->addr + 12, &a4, 4);
	} else if (inet_pton(AF_INET6, host, cidr->addr) == 1) {
		v4 = false;
	} else {
		return -1;
	}
	if (slash == NULL)
		bits = v4 ? 32 : 128;
	else if (str_to_u64(slash + 1, 0, v4 ? 32 : 128, &bits) < 0)
		return -1;
	cidr->bits = (unsigned int)bits + (v4 ? 96 : 0);
	return 0;
}

/* cidr_peer - a peer's textual address as 16 bytes */
static bool
cidr_peer(const char *peer, unsigned char *addr)
{
	struct in_addr a4;

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, peer, &a4) == 1) {
		addr[10] = 0xff;
		addr[11] = 0xff;
		memcpy(addr + 12, &a4, 4);
		return true;
	}
	return inet_pton(AF_INET6, peer, addr) == 1;
}

/* smtp_cidr_match - peer inside one of the blocks */
bool
smtp_cidr_match(const struct smtp_cidr *cidrs, size_t n, const char *peer)
{
	unsigned char addr[16];
	unsigned int bits, i;
	size_t k;
	bool ok;

	if (!cidr_peer(peer, addr))
		return false;
	for (k = 0; k < n; k++) {
		bits = cidrs[k].bits;
		ok = true;
		for (i = 0; i < 16 && ok && bits > 0; i++) {
			unsigned int take = bits >= 8 ? 8 : bits;
			unsigned char mask;

			mask = (unsigned char)(0xff << (8 - take));

			ok = (addr[i] & mask) == (cidrs[k].addr[i] & mask);
			bits -= take;
		}
		if (ok)
			return true;
	}
	return false;
}

/* smtp_settings_new - what the sessions need of conf */
int
smtp_settings_new(const struct conf *conf, struct smtp_settings **set_r,
    char **error_r)
{
	struct smtp_settings *set;
	const char *const *nets;
	char host[256];
	size_t i, n;

	set = xcalloc(1, sizeof(*set));
	set->refs = 1;
	if (conf_str(conf, "global", "hostname")[0] != '\0') {
		set->hostname = xstrdup(conf_str(conf, "global", "hostname"));
	} else {
		if (gethostname(host, sizeof(host)) < 0)
			str_copy(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		set->hostname = xstrdup(host);
	}
	set->max_message_size = conf_size(conf, "smtpd", "max_message_size");
	set->message_memory = conf_size(conf, "smtpd", "message_memory");
	set->max_recipients = (unsigned int)conf_uint(conf, "smtpd",
	    "max_recipients");
	set->max_errors = (unsigned int)conf_uint(conf, "smtpd",
	    "max_errors");
	set->max_line = (size_t)conf_size(conf, "smtpd", "max_line");
	set->max_data_line = (size_t)conf_size(conf, "smtpd",
	    "max_data_line");
	set->idle_timeout_ms = conf_duration_ms(conf, "smtpd",
	    "idle_timeout");
	set->data_timeout_ms = conf_duration_ms(conf, "smtpd",
	    "data_timeout");
	set->allow_plaintext_auth_on_loopback = conf_bool(conf, "smtpd",
	    "allow_plaintext_auth_on_loopback");
	set->sender_ownership_check = conf_bool(conf, "smtpd",
	    "sender_ownership_check");
	set->allow_bare_lf = conf_bool(conf, "smtpd", "allow_bare_lf");
	set->spool_dir = xstrdup(conf_str(conf, "smtpd", "spool_dir"));
	nets = conf_list(conf, "smtpd", "trusted_networks", &n);
	set->trusted = xcalloc(n + 1, sizeof(*set->trusted));
	for (i = 0; i < n; i++) {
		if (smtp_cidr_parse(nets[i], &set->trusted[i]) < 0) {
			*error_r = xasprintf("%s: [smtpd] trusted_networks: "
			    "\"%s\" is not an address or CIDR block",
			    conf_path(conf), nets[i]);
			set->refs = 1;
			smtp_settings_unref(&set);
			return -1;
		}
	}
	set->ntrusted = n;
	*set_r = set;
	return 0;
}

/* smtp_settings_ref - one more holder */
struct smtp_settings *
smtp_settings_ref(struct smtp_settings *set)
{
	set->refs++;
	return set;
}

/* smtp_settings_unref - one holder less; the last frees */
void
smtp_settings_unref(struct smtp_settings **setp)
{
	struct smtp_settings *set = *setp;

	if (set == NULL)
		return;
	*setp = NULL;
	if (--set->refs > 0)
		return;
	free(set->hostname);
	free(set->spool_dir);
	free(set->trusted);
	free(set);
}

/* ---- small helpers */

/* session_set_state - change state, traced */
static void
session_set_state(struct smtp_session *s, enum smtp_state state)
{
	if (s->state != state)
		log_trace("state %s -> %s", smtp_state_names[s->state],
		    smtp_state_names[state]);
	s->state = state;
}

/* session_write - queue what a builder put in b */
static void
session_write(struct smtp_session *s, struct buf *b)
{
	if (buf_avail(b) > 0)
		(void)conn_write(s->c, buf_ptr(b), buf_avail(b));
	buf_deinit(b);
}

/* session_reply - one reply line with an enhanced code */
static void __attribute__((format(printf, 4, 5)))
session_reply(struct smtp_session *s, int code, const char *enh,
    const char *fmt, ...)
{
	char text[SMTP_REPLY_LINE_MAX];
	struct buf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	buf_init(&b, SMTP_OUT_MAX);
	(void)smtp_reply(&b, code, enh, "%s", text);
	session_write(s, &b);
}

/* session_raw - a 3xx continuation, which has no enhanced code */
static void
session_raw(struct smtp_session *s, const char *line)
{
	(void)conn_printf(s->c, "%s\r\n", line);
}

/* session_close421 - say 421 and hang up */
static void
session_close421(struct smtp_session *s, const char *enh, const char *why)
{
	session_reply(s, 421, enh, "%s %s, closing connection",
	    s->set->hostname, why);
	session_set_state(s, SMTP_STATE_QUIT);
	conn_close(s->c);
}

/* session_error - count a client error; too many end the session */
static void
session_error(struct smtp_session *s)
{
	if (++s->errors >= s->set->max_errors) {
		log_info("too many errors (%u)", s->errors);
		session_close421(s, "4.7.0", "Too many errors");
	}
}

/* session_idle_state - the state of "no transaction" */
static enum smtp_state
session_idle_state(const struct smtp_session *s)
{
	return s->helo != NULL ? SMTP_STATE_READY : SMTP_STATE_GREETED;
}

/* now_ms - a monotonic clock for authfail */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* starttls_offered - STARTTLS makes sense here and now */
static bool
starttls_offered(const struct smtp_session *s)
{
	return s->srv->tls && !conn_is_tls(s->c) &&
	    (s->role == SMTP_ROLE_MX || s->role == SMTP_ROLE_SUBMISSION);
}

/* auth_role - a role that has AUTH at all */
static bool
auth_role(const struct smtp_session *s)
{
	return s->role == SMTP_ROLE_SUBMISSION ||
	    s->role == SMTP_ROLE_SUBMISSIONS;
}

/* auth_offered - AUTH is allowed now: after TLS, or on loopback when
 * the config says so (RFC 4954 4: no plaintext passwords otherwise) */
static bool
auth_offered(const struct smtp_session *s)
{
	return auth_role(s) && (conn_is_tls(s->c) ||
	    (s->loopback && s->set->allow_plaintext_auth_on_loopback));
}

/* session_ext - the extensions we offer now, as parser flags */
static unsigned int
session_ext(const struct smtp_session *s)
{
	unsigned int f;

	f = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 |
	    SMTP_EXT_DSN | SMTP_EXT_CHUNKING;
	if (starttls_offered(s))
		f |= SMTP_EXT_STARTTLS;
	/* parsed on the submission ports even before TLS, so that the
	 * client hears "530 STARTTLS first" rather than "not implemented" */
	if (auth_role(s))
		f |= SMTP_EXT_AUTH;
	return f;
}

/* session_parse_flags - how to parse the next command */
static unsigned int
session_parse_flags(const struct smtp_session *s)
{
	unsigned int f = 0;

	if (s->role == SMTP_ROLE_LMTP)
		f |= SMTP_PARSE_LMTP;
	/* before any greeting, parse everything, so that the answer is
	 * "503 send EHLO first" rather than "502 not implemented" */
	if (s->esmtp || s->helo == NULL)
		f |= session_ext(s);
	if (s->txn.smtputf8)
		f |= SMTP_PARSE_UTF8_TXN;
	return f;
}

/* ---- jobs: each owns what it touches */

struct rcpt_job {
	struct smtp_local	*local;
	struct smtp_rcpt_policy	 policy;
	struct smtp_addr	 addr;
	unsigned int		 notify;
	char			*orcpt;
	struct smtp_rcpt	 rcpt;
	int			 result;
};

struct auth_job {
	struct directory	*dir;
	char			*login;
	char			*password;
	struct directory_user	*user;
	enum directory_auth_result result;
};

struct data_job {
	struct store		*store;
	struct outq		*outq;
	struct smtp_data	*data;
	struct smtp_txn		 txn;		/* taken from the session */
	char			*auth_user;
	bool			 lmtp;
};

/* txn_free - release what a transaction holds */
static void
txn_free(struct smtp_txn *t)
{
	size_t i;

	free(t->sender);
	free(t->envid);
	for (i = 0; i < t->nrcpts; i++)
		smtp_rcpt_deinit(&t->rcpts[i]);
	free(t->rcpts);
	smtp_data_free(&t->data);
	memset(t, 0, sizeof(*t));
}

/* smtp_txn_reset - forget the transaction (RSET, HELO, after DATA) */
static void
smtp_txn_reset(struct smtp_session *s)
{
	txn_free(&s->txn);
}

/* session_submit - run a job; the session waits for it */
static void
session_submit(struct smtp_session *s, conn_job_fn *job, conn_done_fn *done,
    void *arg)
{
	s->job = true;
	conn_submit(s->c, job, done, arg);
}

/* session_job_done - common end of every job; false if c is gone */
static struct smtp_session *
session_job_done(struct conn *c, bool cancelled)
{
	struct smtp_session *s;

	if (cancelled || c == NULL)
		return NULL;
	s = conn_data(c);
	s->job = false;
	return s;
}

/* session_after_job - a shutdown that waited for the job */
static void
session_after_job(struct smtp_session *s)
{
	if (s->shutdown && s->state != SMTP_STATE_QUIT)
		session_close421(s, "4.3.2", "Service shutting down");
}

/* ---- greeting, HELO */

/* smtp_check_helo - HELO, EHLO, LHLO: the parser checked the argument */
static int
smtp_check_helo(struct smtp_session *s, struct smtp_cmd *cmd)
{
	return 0;
}

/* smtp_proceed_helo - a new start: forget the transaction, greet */
static void
smtp_proceed_helo(struct smtp_session *s, struct smtp_cmd *cmd)
{
	const char *kw[12];
	char size[32];
	struct buf b;
	size_t n = 0;

	smtp_txn_reset(s);
	free(s->helo);
	s->helo = xstrdup(cmd->arg);
	s->esmtp = cmd->verb != SMTP_VERB_HELO;
	session_set_state(s, SMTP_STATE_READY);
	buf_init(&b, SMTP_OUT_MAX);
	if (!s->esmtp) {
		(void)smtp_reply_helo(&b, s->set->hostname, s->helo);
		session_write(s, &b);
		return;
	}
	kw[n++] = "PIPELINING";
	snprintf(size, sizeof(size), "SIZE %llu",
	    (unsigned long long)s->set->max_message_size);
	kw[n++] = size;
	kw[n++] = "8BITMIME";
	kw[n++] = "SMTPUTF8";
	kw[n++] = "ENHANCEDSTATUSCODES";
	if (starttls_offered(s))
		kw[n++] = "STARTTLS";
	if (auth_offered(s))
		kw[n++] = "AUTH PLAIN LOGIN";
	kw[n++] = "DSN";
	kw[n++] = "CHUNKING";
	(void)smtp_reply_ehlo(&b, s->set->hostname, s->helo, kw, n);
	session_write(s, &b);
}

/* ---- MAIL */

/* owns_address - whether the authenticated user may use addr */
static bool
owns_address(const struct directory_user *u, const char *addr)
{
	size_t i;

	for (i = 0; i < u->naddresses; i++)
		if (strcasecmp(u->addresses[i], addr) == 0)
			return true;
	return false;
}

/* smtp_check_mail - AUTH on submission, SIZE, sender ownership */
static int
smtp_check_mail(struct smtp_session *s, struct smtp_cmd *cmd)
{
	char addr[SMTP_ADDR_STR_MAX];

	if (auth_role(s) && s->user == NULL && !s->trusted) {
		session_reply(s, 530, "5.7.0", "Authentication required");
		return -1;
	}
	if (cmd->size_given && cmd->size > s->set->max_message_size) {
		session_reply(s, 552, "5.3.4",
		    "Message size exceeds fixed limit");
		return -1;
	}
	smtp_addr_format(&cmd->addr, addr, sizeof(addr));
	if (s->user != NULL && s->set->sender_ownership_check &&
	    cmd->addr.kind == SMTP_ADDR_MAILBOX &&
	    !owns_address(s->user, addr)) {
		log_info("sender <%s> is not an address of %s", addr,
		    s->user->uid);
		session_reply(s, 553, "5.7.1",
		    "<%s>: Sender address not owned by user %s", addr,
		    s->user->uid);
		return -1;
	}
	return 0;
}

/* smtp_proceed_mail - start the transaction */
static void
smtp_proceed_mail(struct smtp_session *s, struct smtp_cmd *cmd)
{
	char addr[SMTP_ADDR_STR_MAX];

	smtp_txn_reset(s);
	smtp_addr_format(&cmd->addr, addr, sizeof(addr));
	s->txn.sender = xstrdup(addr);
	s->txn.body = cmd->body;
	s->txn.ret = cmd->ret;
	s->txn.smtputf8 = cmd->smtputf8;
	s->txn.envid = cmd->envid != NULL ? xstrdup(cmd->envid) : NULL;
	s->txn.size = cmd->size_given ? cmd->size : 0;
	snprintf(s->txn.id, sizeof(s->txn.id), "%s.%u", conn_id(s->c),
	    ++s->ntxn);
	log_info("%s: from=<%s>%s%s", s->txn.id, addr,
	    s->user != NULL ? " user=" : "",
	    s->user != NULL ? s->user->uid : "");
	session_set_state(s, SMTP_STATE_MAIL);
	session_reply(s, 250, "2.1.0", "Ok");
}

/* ---- RCPT */

/* rcpt_job_run - in a worker: the recipient policy */
static void
rcpt_job_run(void *arg, struct buf *out)
{
	struct rcpt_job *j = arg;

	j->result = smtp_rcpt_check(j->local, &j->policy, &j->addr, &j->rcpt,
	    out);
}

/* rcpt_job_done - keep an accepted recipient */
static void
rcpt_job_done(struct conn *c, void *arg, bool cancelled)
{
	struct rcpt_job *j = arg;
	struct smtp_session *s;
	struct smtp_txn *t;

	s = session_job_done(c, cancelled);
	if (s != NULL && j->result == 0) {
		t = &s->txn;
		j->rcpt.notify = j->notify;
		j->rcpt.orcpt = j->orcpt;
		j->orcpt = NULL;
		t->rcpts = xreallocarray(t->rcpts, t->nrcpts + 1,
		    sizeof(*t->rcpts));
		t->rcpts[t->nrcpts++] = j->rcpt;
		memset(&j->rcpt, 0, sizeof(j->rcpt));
		log_info("%s: to=<%s>", t->id, t->rcpts[t->nrcpts - 1].address);
		session_set_state(s, SMTP_STATE_RCPT);
	}
	smtp_rcpt_deinit(&j->rcpt);
	free(j->orcpt);
	free(j);
	if (s != NULL)
		session_after_job(s);
}

/* smtp_check_rcpt - the recipient limit */
static int
smtp_check_rcpt(struct smtp_session *s, struct smtp_cmd *cmd)
{
	s->txn.ntried++;
	if (s->txn.nrcpts >= s->set->max_recipients) {
		session_reply(s, 452, "4.5.3", "Too many recipients");
		return -1;
	}
	return 0;
}

/* smtp_proceed_rcpt - look the recipient up in a worker */
static void
smtp_proceed_rcpt(struct smtp_session *s, struct smtp_cmd *cmd)
{
	struct rcpt_job *j;

	j = xcalloc(1, sizeof(*j));
	j->local = s->srv->local;
	j->policy.role = s->role;
	j->policy.authenticated = s->user != NULL;
	j->policy.trusted = s->trusted;
	j->policy.size = s->txn.size;
	j->addr = cmd->addr;
	j->notify = cmd->notify;
	if (cmd->orcpt != NULL)
		j->orcpt = xasprintf("%s;%s", cmd->orcpt_type, cmd->orcpt);
	session_submit(s, rcpt_job_run, rcpt_job_done, j);
}

/* ---- DATA, BDAT and delivery */

/* data_job_run - in a worker: the message as one region, delivered */
static void
data_job_run(void *arg, struct buf *out)
{
	struct data_job *j = arg;
	struct smtp_envelope env;
	const char *msg, *error;
	size_t len;

	if (smtp_data_finish(j->data, &msg, &len, &error) < 0) {
		log_warnx("%s: %s", j->txn.id, error);
		(void)smtp_reply(out, 451, "4.3.0",
		    "Local error in processing, try again later");
		return;
	}
	memset(&env, 0, sizeof(env));
	env.sender = j->txn.sender;
	env.envid = j->txn.envid;
	env.ret = j->txn.ret;
	env.body = j->txn.body;
	env.smtputf8 = j->txn.smtputf8;
	env.auth_user = j->auth_user;
	env.rcpts = j->txn.rcpts;
	env.nrcpts = j->txn.nrcpts;
	env.arrival = (int64_t)time(NULL);
	log_info("%s: size=%llu nrcpt=%zu", j->txn.id,
	    (unsigned long long)smtp_data_size(j->data), j->txn.nrcpts);
	(void)smtp_deliver(j->store, j->outq, &env, msg, len, j->txn.rp_len,
	    j->lmtp, j->txn.id, out);
}

/* data_job_done - the reply is out: the transaction is over */
static void
data_job_done(struct conn *c, void *arg, bool cancelled)
{
	struct data_job *j = arg;
	struct smtp_session *s;

	s = session_job_done(c, cancelled);
	j->txn.data = j->data;
	txn_free(&j->txn);
	free(j->auth_user);
	free(j);
	if (s == NULL)
		return;
	session_set_state(s, session_idle_state(s));
	session_after_job(s);
}

/* data_deliver - the message is complete: deliver it in a worker */
static void
data_deliver(struct smtp_session *s)
{
	struct data_job *j;

	j = xcalloc(1, sizeof(*j));
	j->store = s->srv->store;
	j->outq = s->srv->outq;
	j->lmtp = s->role == SMTP_ROLE_LMTP;
	j->auth_user = s->user != NULL ? xstrdup(s->user->uid) : NULL;
	/* the job takes the transaction; the session starts afresh */
	j->txn = s->txn;
	j->data = s->txn.data;
	j->txn.data = NULL;
	memset(&s->txn, 0, sizeof(s->txn));
	session_set_state(s, SMTP_STATE_BUSY);
	session_submit(s, data_job_run, data_job_done, j);
}

/* data_refuse - a message that smtp_data refused: say why, forget it */
static void
data_refuse(struct smtp_session *s)
{
	enum smtp_data_err e;
	const char *enh, *text;
	int code;

	e = smtp_data_error(s->txn.data);
	smtp_data_err_reply(e, &code, &enh, &text);
	log_info("%s: message refused: %d %s %s", s->txn.id, code, enh,
	    text);
	session_reply(s, code, enh, "%s", text);
	smtp_txn_reset(s);
	session_set_state(s, session_idle_state(s));
}

/* data_begin - a new message: smtp_data with the trace headers */
static int
data_begin(struct smtp_session *s)
{
	struct smtp_data_settings ds;
	struct smtp_trace tr;
	struct buf pre;
	bool tls = conn_is_tls(s->c);

	memset(&ds, 0, sizeof(ds));
	ds.max_size = s->set->max_message_size;
	ds.mem_max = (size_t)s->set->message_memory;
	ds.spool_dir = s->set->spool_dir;
	ds.allow_bare_lf = s->set->allow_bare_lf;
	memset(&tr, 0, sizeof(tr));
	tr.hostname = s->set->hostname;
	tr.helo = s->helo;
	tr.peer = conn_peer(s->c);
	tr.protocol = smtp_deliver_protocol(s->role == SMTP_ROLE_LMTP,
	    s->esmtp, s->txn.smtputf8, tls, s->user != NULL);
	tr.id = s->txn.id;
	tr.tls_version = conn_tls_version(s->c);
	tr.tls_cipher = conn_tls_cipher(s->c);
	tr.auth_user = s->user != NULL ? s->user->uid : NULL;
	tr.for_rcpt = s->txn.nrcpts == 1 ? s->txn.rcpts[0].address : NULL;
	tr.now = (int64_t)time(NULL);
	buf_init(&pre, SMTP_OUT_MAX);
	s->txn.data = smtp_data_new(&ds);
	if (smtp_deliver_prefix(&pre, s->txn.sender, &tr, &s->txn.rp_len) < 0 ||
	    smtp_data_prefix(s->txn.data, buf_ptr(&pre), buf_avail(&pre)) < 0) {
		log_warnx("%s: cannot set up the trace headers", s->txn.id);
		buf_deinit(&pre);
		smtp_data_free(&s->txn.data);
		return -1;
	}
	buf_deinit(&pre);
	return 0;
}

/* spill_job_run - in a worker: move the message from memory to disk */
static void
spill_job_run(void *arg, struct buf *out)
{
	struct smtp_data *d = arg;
	const char *error;

	if (smtp_data_spill(d, &error) < 0)
		log_warnx("spooling the message: %s", error);
}

/* spill_job_done - the data goes back to the session */
static void
spill_job_done(struct conn *c, void *arg, bool cancelled)
{
	struct smtp_data *d = arg;
	struct smtp_session *s;

	s = session_job_done(c, cancelled);
	if (s == NULL) {
		smtp_data_free(&d);
		return;
	}
	s->txn.data = d;
	session_after_job(s);
}

/* data_maybe_spill - past message_memory: spill in a worker (input
 * waits, so memory stays bounded) */
static void
data_maybe_spill(struct smtp_session *s)
{
	struct smtp_data *d = s->txn.data;

	if (!smtp_data_wants_spill(d))
		return;
	s->txn.data = NULL;	/* the job holds it meanwhile */
	session_submit(s, spill_job_run, spill_job_done, d);
}

/* data_input - one event while reading DATA lines */
static void
data_input(struct smtp_session *s, enum frame_event ev,
    const struct frame_item *item)
{
	switch (ev) {
	case FRAME_LINE:
		if (smtp_data_line(s->txn.data, item)) {
			conn_set_max_line(s->c, s->set->max_line);
			conn_set_idle_timeout(s->c, s->set->idle_timeout_ms);
			if (smtp_data_error(s->txn.data) != SMTP_DATA_OK)
				data_refuse(s);
			else
				data_deliver(s);
			return;
		}
		break;
	case FRAME_LINE_TOO_LONG:
		/* the framer skipped the rest of that line without saying how
		 * it ended, so where the message ends can no longer be told
		 * safely (a cut "\n.\r\n" must not end it): refuse the
		 * message and hang up rather than guess */
		smtp_data_line_too_long(s->txn.data);
		log_info("message refused: a line is over %zu bytes",
		    s->set->max_data_line);
		session_reply(s, 554, "5.6.0", "Line too long (over %zu bytes), "
		    "message refused, closing connection",
		    s->set->max_data_line);
		session_set_state(s, SMTP_STATE_QUIT);
		conn_close(s->c);
		return;
	default:
		return;
	}
	data_maybe_spill(s);
}

/* smtp_check_data - recipients first */
static int
smtp_check_data(struct smtp_session *s, struct smtp_cmd *cmd)
{
	if (s->txn.nrcpts == 0) {
		if (s->txn.ntried > 0)
			session_reply(s, 554, "5.5.1", "No valid recipients");
		else
			session_reply(s, 503, "5.5.1", "RCPT first");
		return -1;
	}
	if (s->txn.body == SMTP_BODY_BINARYMIME) {
		session_reply(s, 503, "5.5.1", "BINARYMIME needs BDAT");
		return -1;
	}
	return 0;
}

/* smtp_proceed_data - 354, then the lines go to smtp_data */
static void
smtp_proceed_data(struct smtp_session *s, struct smtp_cmd *cmd)
{
	if (data_begin(s) < 0) {
		session_reply(s, 451, "4.3.0",
		    "Local error in processing, try again later");
		return;
	}
	session_set_state(s, SMTP_STATE_DATA);
	conn_set_max_line(s->c, s->set->max_data_line);
	conn_set_idle_timeout(s->c, s->set->data_timeout_ms);
	session_raw(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* smtp_check_bdat - decide now whether the chunk is taken; its bytes
 * are read either way (RFC 3030 2: they are not commands) */
static int
smtp_check_bdat(struct smtp_session *s, struct smtp_cmd *cmd)
{
	s->bdat_code = 0;
	s->bdat_back = s->state;
	if (s->state != SMTP_STATE_MAIL && s->state != SMTP_STATE_RCPT &&
	    s->state != SMTP_STATE_CHUNKING) {
		s->bdat_code = 503;
		s->bdat_enh = "5.5.1";
		s->bdat_text = s->state == SMTP_STATE_GREETED ?
		    "Send EHLO first" : "MAIL first";
	} else if (s->txn.nrcpts == 0) {
		s->bdat_code = s->txn.ntried > 0 ? 554 : 503;
		s->bdat_enh = "5.5.1";
		s->bdat_text = s->txn.ntried > 0 ? "No valid recipients" :
		    "RCPT first";
	}
	return 0;
}

/* smtp_proceed_bdat - read the chunk */
static void
smtp_proceed_bdat(struct smtp_session *s, struct smtp_cmd *cmd)
{
	if (s->bdat_code == 0 && s->state != SMTP_STATE_CHUNKING) {
		if (data_begin(s) < 0) {
			s->bdat_code = 451;
			s->bdat_enh = "4.3.0";
			s->bdat_text = "Local error in processing";
		}
	}
	s->bdat_last = cmd->last;
	s->bdat_size = cmd->chunk_size;
	session_set_state(s, SMTP_STATE_BDAT);
	conn_set_idle_timeout(s->c, s->set->data_timeout_ms);
	conn_read_raw(s->c, cmd->chunk_size);
}

/* bdat_input - one piece of a chunk, or its end */
static void
bdat_input(struct smtp_session *s, enum frame_event ev,
    const struct frame_item *item)
{
	if (ev == FRAME_LITERAL_DATA) {
		if (s->bdat_code != 0)
			return;		/* read and dropped */
		smtp_data_chunk(s->txn.data, item->data, item->len);
		data_maybe_spill(s);
		return;
	}
	if (ev != FRAME_LITERAL_END)
		return;
	conn_set_idle_timeout(s->c, s->set->idle_timeout_ms);
	if (s->bdat_code != 0) {
		session_reply(s, s->bdat_code, s->bdat_enh, "%s",
		    s->bdat_text);
		if (s->bdat_code == 451) {
			smtp_txn_reset(s);
			session_set_state(s, session_idle_state(s));
		} else {
			session_set_state(s, s->bdat_back);
		}
		session_error(s);
		return;
	}
	if (smtp_data_error(s->txn.data) != SMTP_DATA_OK) {
		/* RFC 3030: the transaction is over; later chunks get 503 */
		data_refuse(s);
		return;
	}
	if (s->bdat_last) {
		data_deliver(s);
		return;
	}
	session_set_state(s, SMTP_STATE_CHUNKING);
	session_reply(s, 250, "2.0.0", "%llu octets received",
	    (unsigned long long)s->bdat_size);
}

/* ---- RSET NOOP QUIT VRFY EXPN HELP */

/* smtp_check_any - verbs whose arguments the parser checked */
static int
smtp_check_any(struct smtp_session *s, struct smtp_cmd *cmd)
{
	return 0;
}

/* smtp_proceed_rset - forget the transaction */
static void
smtp_proceed_rset(struct smtp_session *s, struct smtp_cmd *cmd)
{
	smtp_txn_reset(s);
	session_set_state(s, session_idle_state(s));
	session_reply(s, 250, "2.0.0", "Ok");
}

/* smtp_proceed_noop - nothing */
static void
smtp_proceed_noop(struct smtp_session *s, struct smtp_cmd *cmd)
{
	session_reply(s, 250, "2.0.0", "Ok");
}

/* smtp_proceed_quit - goodbye */
static void
smtp_proceed_quit(struct smtp_session *s, struct smtp_cmd *cmd)
{
	struct buf b;

	buf_init(&b, SMTP_OUT_MAX);
	(void)smtp_reply_bye(&b, s->set->hostname, conn_id(s->c));
	session_write(s, &b);
	session_set_state(s, SMTP_STATE_QUIT);
	conn_close(s->c);
}

/* smtp_proceed_vrfy - RFC 5321 3.5.3: 252, no user enumeration */
static void
smtp_proceed_vrfy(struct smtp_session *s, struct smtp_cmd *cmd)
{
	session_reply(s, 252, "2.5.0", "Cannot VRFY user, but will accept "
	    "message and attempt delivery");
}

/* smtp_proceed_expn - lists are not shown either */
static void
smtp_proceed_expn(struct smtp_session *s, struct smtp_cmd *cmd)
{
	session_reply(s, 502, "5.5.1", "EXPN not available");
}

/* smtp_proceed_help - a pointer, not a manual */
static void
smtp_proceed_help(struct smtp_session *s, struct smtp_cmd *cmd)
{
	session_reply(s, 214, "2.0.0", "Commands: %s MAIL RCPT DATA BDAT "
	    "RSET NOOP QUIT VRFY HELP%s%s; see RFC 5321",
	    s->role == SMTP_ROLE_LMTP ? "LHLO" : "HELO EHLO",
	    starttls_offered(s) ? " STARTTLS" : "",
	    auth_offered(s) ? " AUTH" : "");
}

/* ---- STARTTLS */

/* smtp_check_starttls - only where offered (the parser knows) */
static int
smtp_check_starttls(struct smtp_session *s, struct smtp_cmd *cmd)
{
	return 0;
}

/* smtp_proceed_starttls - 220, then the handshake (net drops any
 * plaintext pipelined after this line) */
static void
smtp_proceed_starttls(struct smtp_session *s, struct smtp_cmd *cmd)
{
	const char *error;

	session_reply(s, 220, "2.0.0", "Ready to start TLS");
	if (conn_start_tls(s->c, &error) < 0) {
		log_warnx("STARTTLS: %s", error);
		session_close421(s, "4.7.0", "TLS not available");
	}
}

/* smtp_on_tls_ready - RFC 3207 4.2: everything is forgotten */
static void
smtp_on_tls_ready(struct conn *c)
{
	struct smtp_session *s = conn_data(c);

	smtp_txn_reset(s);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	directory_user_free(&s->user);
	session_set_state(s, SMTP_STATE_GREETED);
}

/* ---- AUTH */

/* auth_job_run - in a worker: bind as the user */
static void
auth_job_run(void *arg, struct buf *out)
{
	struct auth_job *j = arg;
	char *error = NULL;

	j->result = directory_auth(j->dir, j->login, j->password, &j->user,
	    &error);
	sasl_secret_free(&j->password);
	if (j->result != DIRECTORY_AUTH_OK)
		log_info("AUTH as %s failed: %s%s%s", j->login,
		    directory_auth_result_name(j->result),
		    error != NULL ? ": " : "", error != NULL ? error : "");
	free(error);
	if (j->result == DIRECTORY_AUTH_TEMPFAIL)
		(void)smtp_reply(out, 454, "4.7.0",
		    "Temporary authentication failure");
}

/* auth_delay_done - the slowed-down refusal */
static void
auth_delay_done(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;

	log_set_session(conn_id(s->c));
	session_reply(s, 535, "5.7.8", "Authentication credentials invalid");
	conn_resume_input(s->c);
	session_after_job(s);
	log_set_session(NULL);
}

/* auth_job_done - success, or a refusal that waits a while */
static void
auth_job_done(struct conn *c, void *arg, bool cancelled)
{
	struct auth_job *j = arg;
	struct smtp_session *s;
	struct timeval tv;
	uint64_t delay;

	s = session_job_done(c, cancelled);
	if (s == NULL)
		goto out;
	session_set_state(s, session_idle_state(s));
	switch (j->result) {
	case DIRECTORY_AUTH_OK:
		s->user = j->user;
		j->user = NULL;
		authfail_success(s->srv->authfail, conn_peer(c));
		log_info("authenticated as %s", s->user->uid);
		session_reply(s, 235, "2.7.0", "Authentication successful");
		break;
	case DIRECTORY_AUTH_TEMPFAIL:
		break;		/* the job replied */
	case DIRECTORY_AUTH_REFUSED:
	case DIRECTORY_AUTH_INACTIVE:
		delay = authfail_record(s->srv->authfail, conn_peer(c),
		    now_ms());
		if (authfail_banned(s->srv->authfail, conn_peer(c),
		    now_ms())) {
			log_info("too many AUTH failures from %s",
			    conn_peer(c));
			session_close421(s, "4.7.0",
			    "Too many authentication failures");
			break;
		}
		/* input waits with the reply, so a client cannot try
		 * faster than the delay */
		conn_pause_input(c);
		if (s->delay_ev == NULL)
			s->delay_ev = evtimer_new(s->srv->base,
			    auth_delay_done, s);
		tv.tv_sec = (time_t)(delay / 1000);
		tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
		evtimer_add(s->delay_ev, &tv);
		break;
	}
out:
	directory_user_free(&j->user);
	free(j->login);
	sasl_secret_free(&j->password);
	free(j);
	if (s != NULL && (s->delay_ev == NULL ||
	    !evtimer_pending(s->delay_ev, NULL)))
		session_after_job(s);
}

/* auth_try - check login and password in a worker; takes password */
static void
auth_try(struct smtp_session *s, const char *login, char *password)
{
	struct auth_job *j;

	j = xcalloc(1, sizeof(*j));
	j->dir = s->srv->dir;
	j->login = xstrdup(login);
	j->password = password;
	session_submit(s, auth_job_run, auth_job_done, j);
}

/* auth_decode - strict base64 into a new NUL-terminated string */
static char *
auth_decode(const char *s, size_t len, size_t *n_r)
{
	unsigned char *p;
	long n;

	p = xmalloc(base64_decoded_max(len) + 1);
	n = base64_decode(s, len, p);
	if (n < 0) {
		free(p);
		return NULL;
	}
	p[n] = '\0';
	*n_r = (size_t)n;
	return (char *)p;
}

/* auth_plain - one PLAIN message, decoded */
static void
auth_plain(struct smtp_session *s, const char *msg, size_t len)
{
	char *authzid = NULL, *authcid = NULL, *password = NULL;
	const char *error;

	if (sasl_plain_parse((const unsigned char *)msg, len, &authzid,
	    &authcid, &password, &error) < 0) {
		log_info("AUTH PLAIN: %s", error);
		session_reply(s, 501, "5.5.2", "Invalid PLAIN message");
		session_set_state(s, session_idle_state(s));
		session_error(s);
		return;
	}
	/* acting for someone else (an authzid of another user) is not
	 * offered; the same name is harmless */
	if (authzid[0] != '\0' && strcasecmp(authzid, authcid) != 0) {
		log_info("AUTH PLAIN: authzid %s for %s refused", authzid,
		    authcid);
		session_reply(s, 535, "5.7.8",
		    "Authorization identity refused");
		session_set_state(s, session_idle_state(s));
		free(authzid);
		free(authcid);
		sasl_secret_free(&password);
		return;
	}
	auth_try(s, authcid, password);
	free(authzid);
	free(authcid);
}

/* auth_response - one line of the SASL exchange */
static void
auth_response(struct smtp_session *s, const struct frame_item *item)
{
	char *dec;
	size_t n;

	conn_set_max_line(s->c, s->set->max_line);
	if (strcmp(item->data, "*") == 0) {
		session_reply(s, 501, "5.7.0", "Authentication cancelled");
		free(s->auth_login);
		s->auth_login = NULL;
		session_set_state(s, session_idle_state(s));
		return;
	}
	dec = auth_decode(item->data, item->len, &n);
	if (dec == NULL) {
		session_reply(s, 501, "5.5.2", "Invalid base64 data");
		free(s->auth_login);
		s->auth_login = NULL;
		session_set_state(s, session_idle_state(s));
		session_error(s);
		return;
	}
	switch (s->auth_step) {
	case SMTP_AUTH_PLAIN:
		auth_plain(s, dec, n);
		sasl_secret_free(&dec);
		break;
	case SMTP_AUTH_LOGIN_USER:
		free(s->auth_login);
		s->auth_login = dec;
		s->auth_step = SMTP_AUTH_LOGIN_PASS;
		conn_set_max_line(s->c, SMTP_AUTH_LINE_MAX);
		session_raw(s, "334 UGFzc3dvcmQ6");	/* "Password:" */
		break;
	case SMTP_AUTH_LOGIN_PASS:
		auth_try(s, s->auth_login, dec);
		free(s->auth_login);
		s->auth_login = NULL;
		break;
	}
}

/* smtp_check_auth - TLS first, once, a mechanism we have */
static int
smtp_check_auth(struct smtp_session *s, struct smtp_cmd *cmd)
{
	if (s->user != NULL) {
		session_reply(s, 503, "5.5.1", "Already authenticated");
		return -1;
	}
	if (!auth_offered(s)) {
		session_reply(s, 530, "5.7.0",
		    "Must issue a STARTTLS command first");
		return -1;
	}
	if (authfail_banned(s->srv->authfail, conn_peer(s->c), now_ms())) {
		log_info("AUTH from %s refused: too many failures",
		    conn_peer(s->c));
		session_close421(s, "4.7.0",
		    "Too many authentication failures");
		return -1;
	}
	if (strcmp(cmd->mech, "PLAIN") != 0 &&
	    strcmp(cmd->mech, "LOGIN") != 0) {
		session_reply(s, 504, "5.5.4",
		    "Unrecognized authentication type");
		return -1;
	}
	return 0;
}

/* smtp_proceed_auth - start the exchange, maybe with the first answer */
static void
smtp_proceed_auth(struct smtp_session *s, struct smtp_cmd *cmd)
{
	struct frame_item it;

	session_set_state(s, SMTP_STATE_AUTH);
	conn_set_max_line(s->c, SMTP_AUTH_LINE_MAX);
	s->auth_step = strcmp(cmd->mech, "PLAIN") == 0 ? SMTP_AUTH_PLAIN :
	    SMTP_AUTH_LOGIN_USER;
	if (cmd->initial != NULL) {
		/* RFC 4954 4: "=" is an empty initial response */
		memset(&it, 0, sizeof(it));
		it.data = strcmp(cmd->initial, "=") == 0 ? "" : cmd->initial;
		it.len = strlen(it.data);
		it.crlf = true;
		auth_response(s, &it);
		return;
	}
	session_raw(s, s->auth_step == SMTP_AUTH_PLAIN ? "334 " :
	    "334 VXNlcm5hbWU6");			/* "Username:" */
}

/* ---- dispatch */

static const struct smtp_verb_def smtp_verbs[] = {
	{ SMTP_VERB_HELO, smtp_check_helo, smtp_proceed_helo, ST_CMD,
	  "HELO now is out of sequence" },
	{ SMTP_VERB_EHLO, smtp_check_helo, smtp_proceed_helo, ST_CMD,
	  "EHLO now is out of sequence" },
	{ SMTP_VERB_LHLO, smtp_check_helo, smtp_proceed_helo, ST_CMD,
	  "LHLO now is out of sequence" },
	{ SMTP_VERB_MAIL, smtp_check_mail, smtp_proceed_mail, ST(READY),
	  "MAIL only after EHLO and outside a transaction" },
	{ SMTP_VERB_RCPT, smtp_check_rcpt, smtp_proceed_rcpt,
	  ST(MAIL) | ST(RCPT), "RCPT only after MAIL" },
	{ SMTP_VERB_DATA, smtp_check_data, smtp_proceed_data,
	  ST(MAIL) | ST(RCPT), "DATA only after MAIL and RCPT" },
	{ SMTP_VERB_BDAT, smtp_check_bdat, smtp_proceed_bdat, ST_CMD,
	  "BDAT out of sequence" },
	{ SMTP_VERB_RSET, smtp_check_any, smtp_proceed_rset, ST_CMD,
	  "RSET out of sequence" },
	{ SMTP_VERB_NOOP, smtp_check_any, smtp_proceed_noop, ST_CMD,
	  "NOOP out of sequence" },
	{ SMTP_VERB_QUIT, smtp_check_any, smtp_proceed_quit, ST_CMD,
	  "QUIT out of sequence" },
	{ SMTP_VERB_VRFY, smtp_check_any, smtp_proceed_vrfy, ST_CMD,
	  "VRFY out of sequence" },
	{ SMTP_VERB_EXPN, smtp_check_any, smtp_proceed_expn, ST_CMD,
	  "EXPN out of sequence" },
	{ SMTP_VERB_HELP, smtp_check_any, smtp_proceed_help, ST_CMD,
	  "HELP out of sequence" },
	{ SMTP_VERB_STARTTLS, smtp_check_starttls, smtp_proceed_starttls,
	  ST(GREETED) | ST(READY), "STARTTLS not inside a transaction" },
	{ SMTP_VERB_AUTH, smtp_check_auth, smtp_proceed_auth, ST(READY),
	  "AUTH only after EHLO and outside a transaction" },
};

/* session_command - one command line */
static void
session_command(struct smtp_session *s, const struct frame_item *item)
{
	const struct smtp_verb_def *def = NULL;
	struct smtp_cmd cmd;
	const char *enh, *text;
	size_t i;
	int code;

	if (smtp_parse(&cmd, item->data, item->len,
	    session_parse_flags(s)) < 0) {
		smtp_parse_err_reply(cmd.err, &code, &enh, &text);
		log_info("command refused: %d %s %s", code, enh,
		    cmd.err_text);
		session_reply(s, code, enh, "%s", cmd.err_text);
		smtp_cmd_deinit(&cmd);
		session_error(s);
		return;
	}
	for (i = 0; i < sizeof(smtp_verbs) / sizeof(smtp_verbs[0]); i++)
		if (smtp_verbs[i].verb == cmd.verb)
			def = &smtp_verbs[i];
	if (def == NULL)
		panic("smtp: verb %s has no handler", cmd.verb_name);
	log_debug("command %s in state %s", cmd.verb_name,
	    smtp_state_names[s->state]);
	if ((def->states & (1U << s->state)) == 0) {
		session_reply(s, 503, "5.5.1", "Bad sequence of commands: %s",
		    def->bad_seq);
		session_error(s);
	} else if (def->check(s, &cmd) == 0) {
		def->proceed(s, &cmd);
	} else if (s->state != SMTP_STATE_QUIT) {
		session_error(s);
	}
	smtp_cmd_deinit(&cmd);
}

/* smtp_on_input - framed input: a command, a DATA line, a chunk, a SASL
 * response */
static void
smtp_on_input(struct conn *c, enum frame_event ev,
    const struct frame_item *item)
{
	struct smtp_session *s = conn_data(c);

	switch (s->state) {
	case SMTP_STATE_DATA:
		data_input(s, ev, item);
		return;
	case SMTP_STATE_BDAT:
		bdat_input(s, ev, item);
		return;
	case SMTP_STATE_QUIT:
	case SMTP_STATE_BUSY:
		return;
	default:
		break;
	}
	if (ev == FRAME_LINE_TOO_LONG) {
		if (s->state == SMTP_STATE_AUTH) {
			conn_set_max_line(c, s->set->max_line);
			session_set_state(s, session_idle_state(s));
		}
		session_reply(s, 500, "5.5.2", "Line too long");
		session_error(s);
		return;
	}
	if (ev != FRAME_LINE)
		return;
	/* a bare CR or LF would let another server read a different
	 * command stream than ours (SMTP smuggling) */
	if (item->bare_cr || (!item->crlf && !s->set->allow_bare_lf)) {
		if (s->state == SMTP_STATE_AUTH) {
			conn_set_max_line(c, s->set->max_line);
			session_set_state(s, session_idle_state(s));
		}
		log_info("refused a command line with a bare %s",
		    item->bare_cr ? "CR" : "LF");
		session_reply(s, 500, "5.5.2", "Bare %s not allowed in "
		    "commands; use CRLF", item->bare_cr ? "CR" : "LF");
		session_error(s);
		return;
	}
	if (s->state == SMTP_STATE_AUTH)
		auth_response(s, item);
	else
		session_command(s, item);
}

/* smtp_on_connect - a new session and its greeting */
static void
smtp_on_connect(struct conn *c)
{
	struct smtp_server *srv = net_server_data(conn_server(c));
	struct smtp_session *s;
	struct buf b;

	s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->srv = srv;
	s->set = smtp_settings_ref(srv->set);
	s->role = (enum smtp_role)conn_listener_tag(c);
	s->state = SMTP_STATE_GREETED;
	s->trusted = smtp_cidr_match(s->set->trusted, s->set->ntrusted,
	    conn_peer(c));
	s->loopback = strcmp(conn_peer(c), "local") == 0 ||
	    strcmp(conn_peer(c), "::1") == 0 ||
	    strncmp(conn_peer(c), "127.", 4) == 0 ||
	    strncmp(conn_peer(c), "::ffff:127.", 11) == 0;
	conn_set_data(c, s);
	conn_set_max_line(c, s->set->max_line);
	conn_set_idle_timeout(c, s->set->idle_timeout_ms);
	log_info("role %s%s%s", smtp_role_name(s->role),
	    s->trusted ? ", trusted network" : "",
	    conn_is_tls(c) ? ", TLS" : "");
	buf_init(&b, SMTP_OUT_MAX);
	(void)smtp_reply_greeting(&b, s->set->hostname, conn_id(c),
	    s->role == SMTP_ROLE_LMTP);
	session_write(s, &b);
}

/* smtp_on_timeout - RFC 5321 4.5.3.2: 421 and close */
static void
smtp_on_timeout(struct conn *c)
{
	struct smtp_session *s = conn_data(c);

	log_info("timeout in state %s", smtp_state_names[s->state]);
	session_close421(s, "4.4.2", "Error: timeout exceeded");
}

/* smtp_on_shutdown - 421 now, or after the delivery in progress */
static void
smtp_on_shutdown(struct conn *c)
{
	struct smtp_session *s = conn_data(c);

	if (s->job) {
		s->shutdown = true;
		return;
	}
	session_close421(s, "4.3.2", "Service shutting down");
}

/* smtp_on_close - free the session; a running job owns its own pieces */
static void
smtp_on_close(struct conn *c)
{
	struct smtp_session *s = conn_data(c);

	if (s == NULL)
		return;
	conn_set_data(c, NULL);
	txn_free(&s->txn);
	free(s->helo);
	free(s->auth_login);
	directory_user_free(&s->user);
	if (s->delay_ev != NULL)
		event_free(s->delay_ev);
	smtp_settings_unref(&s->set);
	free(s);
}

const struct conn_handler smtp_session_handler = {
	.on_connect = smtp_on_connect,
	.on_input = smtp_on_input,
	.on_tls_ready = smtp_on_tls_ready,
	.on_timeout = smtp_on_timeout,
	.on_shutdown = smtp_on_shutdown,
	.on_close = smtp_on_close,
};
