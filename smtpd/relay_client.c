/* relay_client.c - one delivery attempt over SMTP, blocking, with timeouts */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "base64.h"
#include "buf.h"
#include "log.h"
#include "str.h"
#include "xmalloc.h"

#include "dns_mx.h"
#include "relay_client.h"
#include "smtp_reply.h"
#include "smtp_xtext.h"

#define RELAY_LINE_MAX		4096	/* one reply line (RFC 5321: 512) */
#define RELAY_REPLY_MAX		(64 * 1024)	/* every line of a reply */
#define RELAY_TEXT_MAX		1000	/* reply text kept for last_error */
#define RELAY_ADDRS_MAX		10	/* addresses tried in one attempt */
#define RELAY_ADDRS_PER_HOST	4
#define RELAY_CHUNK		(64 * 1024)	/* message bytes per write */
#define RELAY_PIPELINE_MAX	50	/* RCPTs written before reading */
#define RELAY_QUIT_TIMEOUT_MS	5000

/*
 * TLS 1.2 and 1.3 as for our server.  An old server that only speaks
 * TLS 1.0 fails the handshake, and with "may" the attempt goes on in
 * plaintext on a new connection, as Postfix does.
 */
#define RELAY_TLS_PRIO	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* what the server offered in its EHLO reply */
#define EXT_SIZE	0x0001
#define EXT_8BITMIME	0x0002
#define EXT_SMTPUTF8	0x0004
#define EXT_DSN		0x0008
#define EXT_PIPELINING	0x0010
#define EXT_STARTTLS	0x0020
#define EXT_AUTH_PLAIN	0x0040
#define EXT_CHUNKING	0x0080
#define EXT_BINARYMIME	0x0100

/* how a session ended for the address loop */
enum sess_end {
	SESS_DONE = 0,		/* went as far as it could; next address for
				 * whatever is still pending */
	SESS_TLS_FAILED		/* the handshake failed: plaintext may do */
};

struct reply {
	int		 code;
	char		 text[RELAY_TEXT_MAX + 1];	/* one line, safe */
	struct buf	 lines;		/* each line's text, '\n' ended */
};

struct sess {
	const struct relay_settings *s;
	struct relay_msg *msg;
	int		 fd;
	gnutls_session_t tls;
	bool		 tls_on;
	bool		 cancelled;
	const char	*name;		/* host name (or address) */
	char		 where[DNS_NAME_MAX + INET6_ADDRSTRLEN + 8];
	char		 in[RELAY_LINE_MAX * 2];
	size_t		 inoff, inlen;
	struct buf	 out;
	unsigned int	 ext;
	uint64_t	 size_max;	/* SIZE n; 0: none given */
	char		*err;		/* the last failure, last_error form */
};

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static gnutls_certificate_credentials_t tls_cred;
static gnutls_priority_t tls_prio;
static const char *tls_init_error;

/* --- small helpers --- */

/* now_ms - monotonic milliseconds */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* sess_fail - record the failure (last_error form); replaces an older one */
static void sess_fail(struct sess *ss, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void
sess_fail(struct sess *ss, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		panic("vasprintf: out of memory");
	va_end(ap);
	free(ss->err);
	ss->err = s;
}

/* safe_copy - reply text into dst: printable ASCII only, capped */
static void
safe_append(char *dst, size_t dstsize, const char *p, size_t n)
{
	size_t o = strlen(dst), i;

	for (i = 0; i < n && o + 1 < dstsize; i++) {
		unsigned char c = (unsigned char)p[i];

		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

/* non_ascii - any byte above 0x7f */
static bool
non_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* header_non_ascii - any byte above 0x7f in the message's header */
static bool
header_non_ascii(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)p[i] >= 0x80)
			return true;
		if (p[i] == '\n' && (i + 1 < len) &&
		    (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < len &&
		    p[i + 2] == '\n')))
			return false;
	}
	return false;
}

/* relay_rcpt_reset - free the results, back to pending */
void
relay_rcpt_reset(struct relay_rcpt *r)
{
	xfree(&r->error);
	xfree(&r->remote_mta);
	r->status = RELAY_PENDING;
	r->remote_dsn = false;
}

/* rcpt_set - a verdict for one recipient, unless it has one */
static void
rcpt_set(struct relay_rcpt *r, enum relay_status st, const char *error)
{
	if (r->status != RELAY_PENDING)
		return;
	r->status = st;
	free(r->error);
	r->error = error != NULL ? xstrdup(error) : NULL;
}

/* all_pending - the same verdict for every recipient still pending */
static void
all_pending(struct relay_msg *m, enum relay_status st, const char *error)
{
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		rcpt_set(&m->rcpts[i], st, error);
}

/* any_pending - whether a recipient still waits for a verdict */
static bool
any_pending(const struct relay_msg *m)
{
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].status == RELAY_PENDING)
			return true;
	return false;
}

/* relay_parse_hostport - "host", "host:port", "[addr]:port" */
int
relay_parse_hostport(const char *s, char *host, size_t hostsize,
    unsigned int *port_r, const char **error_r)
{
	const char *end, *colon = NULL;
	uint64_t port = 25;
	size_t n;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL) {
			*error_r = "missing ]";
			return -1;
		}
		n = (size_t)(end - s - 1);
		s++;
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1] != '\0') {
			*error_r = "junk after ]";
			return -1;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			*error_r = "an IPv6 address needs brackets";
			return -1;
		}
		n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (n == 0 || n >= hostsize) {
		*error_r = "bad host name";
		return -1;
	}
	if (colon != NULL && str_to_u64(colon + 1, 1, 65535, &port) < 0) {
		*error_r = "bad port";
		return -1;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	*port_r = (unsigned int)port;
	return 0;
}

/* --- I/O with deadlines --- */

/* sess_wait - poll for ev until deadline; 0 ready, -1 (err set) */
static int
sess_wait(struct sess *ss, short ev, uint64_t deadline, const char *doing)
{
	struct pollfd p[2];
	uint64_t now, left;
	nfds_t n = 1;
	int r;

	for (;;) {
		now = now_ms();
		if (now >= deadline) {
			sess_fail(ss, "4.4.2 timeout with %s while %s",
			    ss->where, doing);
			return -1;
		}
		left = deadline - now;
		p[0].fd = ss->fd;
		p[0].events = ev;
		p[0].revents = 0;
		if (ss->s->cancel_fd >= 0) {
			p[1].fd = ss->s->cancel_fd;
			p[1].events = POLLIN;
			p[1].revents = 0;
			n = 2;
		}
		r = poll(p, n, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			sess_fail(ss, "4.3.0 poll: %s", strerror(errno));
			return -1;
		}
		if (n == 2 && p[1].revents != 0) {
			ss->cancelled = true;
			sess_fail(ss, "4.3.2 attempt interrupted: the mail "
			    "system is shutting down");
			return -1;
		}
		/* errors and hang-ups show in the read or write that follows */
		if (p[0].revents != 0)
			return 0;
	}
}

/* sess_tls_wait - wait in the direction gnutls needs */
static int
sess_tls_wait(struct sess *ss, uint64_t deadline, const char *doing)
{
	return sess_wait(ss, gnutls_record_get_direction(ss->tls) == 1 ?
	    POLLOUT : POLLIN, deadline, doing);
}

/* sess_recv - more input into ss->in; -1 on error, close or timeout */
static int
sess_recv(struct sess *ss, uint64_t deadline, const char *doing)
{
	ssize_t n;

	if (ss->inoff > 0) {
		memmove(ss->in, ss->in + ss->inoff, ss->inlen - ss->inoff);
		ss->inlen -= ss->inoff;
		ss->inoff = 0;
	}
	for (;;) {
		if (ss->tls_on) {
			n = gnutls_record_recv(ss->tls, ss->in + ss->inlen,
			    sizeof(ss->in) - ss->inlen);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				if (sess_tls_wait(ss, deadline, doing) < 0)
					return -1;
				continue;
			}
			if (n < 0 && n != GNUTLS_E_PREMATURE_TERMINATION) {
				sess_fail(ss, "4.4.2 TLS error with %s while "
				    "%s: %s", ss->where, doing,
				    gnutls_strerror((int)n));
				return -1;
			}
			if (n < 0)
				n = 0;
		} else {
			n = recv(ss->fd, ss->in + ss->inlen,
			    sizeof(ss->in) - ss->inlen, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (errno == EAGAIN && sess_wait(ss, POLLIN,
				    deadline, doing) < 0)
					return -1;
				continue;
			}
			if (n < 0) {
				sess_fail(ss, "4.4.2 lost connection with %s "
				    "while %s: %s", ss->where, doing,
				    strerror(errno));
				return -1;
			}
		}
		if (n == 0) {
			sess_fail(ss, "4.4.2 lost connection with %s while %s",
			    ss->where, doing);
			return -1;
		}
		ss->inlen += (size_t)n;
		return 0;
	}
}

/* sess_line - the next input line without its line end */
static int
sess_line(struct sess *ss, uint64_t deadline, const char *doing,
    const char **line_r, size_t *len_r)
{
	char *p, *nl;
	size_t n;

	for (;;) {
		p = ss->in + ss->inoff;
		n = ss->inlen - ss->inoff;
		nl = memchr(p, '\n', n);
		if (nl != NULL) {
			ss->inoff += (size_t)(nl - p) + 1;
			n = (size_t)(nl - p);
			if (n > 0 && p[n - 1] == '\r')
				n--;
			*line_r = p;
			*len_r = n;
			return 0;
		}
		if (n >= RELAY_LINE_MAX) {
			sess_fail(ss, "4.5.0 reply line too long from %s while "
			    "%s", ss->where, doing);
			return -1;
		}
		if (sess_recv(ss, deadline, doing) < 0)
			return -1;
	}
}

/* sess_reply - one whole (multi-line) reply within timeout_ms */
static int
sess_reply(struct sess *ss, uint64_t timeout_ms, const char *doing,
    struct reply *rep)
{
	uint64_t deadline = now_ms() + timeout_ms;
	const char *l;
	size_t n, e, first_enh = 0;
	unsigned int nlines = 0;
	int code;

	rep->code = 0;
	rep->text[0] = '\0';
	buf_reset(&rep->lines);
	for (;;) {
		if (sess_line(ss, deadline, doing, &l, &n) < 0)
			return -1;
		if (n < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' ||
		    l[1] > '9' || l[2] < '0' || l[2] > '9' ||
		    (n > 3 && l[3] != ' ' && l[3] != '-')) {
			sess_fail(ss, "4.5.0 malformed reply from %s while %s",
			    ss->where, doing);
			return -1;
		}
		code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		if (nlines > 0 && code != rep->code) {
			sess_fail(ss, "4.5.0 malformed reply from %s while %s",
			    ss->where, doing);
			return -1;
		}
		rep->code = code;
		if (nlines == 0) {
			safe_append(rep->text, sizeof(rep->text), l, 3);
			first_enh = n > 4 ? smtp_reply_enh_len(l + 4, n - 4) : 0;
			if (n > 4) {
				safe_append(rep->text, sizeof(rep->text), " ",
				    1);
				safe_append(rep->text, sizeof(rep->text),
				    l + 4, n - 4);
			}
		} else if (n > 4) {
			/* "550-5.1.1 a" "550 5.1.1 b": "550 5.1.1 a b" */
			e = smtp_reply_enh_len(l + 4, n - 4);
			if (e > 0 && first_enh > 0 && n - 4 > e)
				e++;
			else
				e = 0;
			safe_append(rep->text, sizeof(rep->text), " ", 1);
			safe_append(rep->text, sizeof(rep->text), l + 4 + e,
			    n - 4 - e);
		}
		if (buf_append(&rep->lines, n > 4 ? l + 4 : "",
		    n > 4 ? n - 4 : 0) < 0 ||
		    buf_append_byte(&rep->lines, '\n') < 0) {
			sess_fail(ss, "4.5.0 reply too long from %s while %s",
			    ss->where, doing);
			return -1;
		}
		nlines++;
		if (n == 3 || l[3] == ' ')
			return 0;
	}
}

/* sess_flush - send everything queued in ss->out; the deadline moves on
 * with each write that makes progress */
static int
sess_flush(struct sess *ss, uint64_t timeout_ms, const char *doing)
{
	uint64_t deadline = now_ms() + timeout_ms;
	ssize_t w;

	while (buf_avail(&ss->out) > 0) {
		if (ss->tls_on) {
			w = gnutls_record_send(ss->tls, buf_ptr(&ss->out),
			    buf_avail(&ss->out));
			if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
				/* called again with the same bytes */
				if (sess_tls_wait(ss, deadline, doing) < 0)
					return -1;
				continue;
			}
			if (w < 0) {
				sess_fail(ss, "4.4.2 TLS error with %s while "
				    "%s: %s", ss->where, doing,
				    gnutls_strerror((int)w));
				return -1;
			}
		} else {
			w = send(ss->fd, buf_ptr(&ss->out),
			    buf_avail(&ss->out), MSG_NOSIGNAL);
			if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (errno == EAGAIN && sess_wait(ss, POLLOUT,
				    deadline, doing) < 0)
					return -1;
				continue;
			}
			if (w < 0) {
				sess_fail(ss, "4.4.2 lost connection with %s "
				    "while %s: %s", ss->where, doing,
				    strerror(errno));
				return -1;
			}
		}
		buf_consume(&ss->out, (size_t)w);
		deadline = now_ms() + timeout_ms;
	}
	buf_reset(&ss->out);
	return 0;
}

/* sess_cmd - queue one command line */
static void sess_cmd(struct sess *ss, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void
sess_cmd(struct sess *ss, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* ss->out has no ceiling */
	(void)buf_vprintf(&ss->out, fmt, ap);
	va_end(ap);
	(void)buf_append(&ss->out, "\r\n", 2);
}

/* sess_said - "host NAME[ADDR] said: <reply>", caller frees */
static char *
sess_said(const struct sess *ss, const struct reply *rep)
{
	return xasprintf("host %s said: %s", ss->where, rep->text);
}

/* reply_status - the verdict a reply code gives a recipient */
static enum relay_status
reply_status(int code)
{
	if (code >= 200 && code < 300)
		return RELAY_OK;
	return code >= 500 ? RELAY_PERM : RELAY_TEMP;
}

/* --- TLS client --- */

/* tls_init_once - credentials (no client certificate) and priorities */
static void
tls_init_once(void)
{
	int ret;

	ret = gnutls_certificate_allocate_credentials(&tls_cred);
	if (ret < 0) {
		tls_init_error = gnutls_strerror(ret);
		return;
	}
	/* only for the log: certificates are not enforced (see header) */
	(void)gnutls_certificate_set_x509_system_trust(tls_cred);
	ret = gnutls_priority_init(&tls_prio, RELAY_TLS_PRIO, NULL);
	if (ret < 0)
		tls_init_error = gnutls_strerror(ret);
}

/* is_numeric_host - an address, not a name (no SNI for it) */
static bool
is_numeric_host(const char *s)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* sess_tls_start - the client handshake after "220" to STARTTLS */
static int
sess_tls_start(struct sess *ss)
{
	uint64_t deadline = now_ms() + ss->s->command_timeout_ms;
	unsigned int status = 0;
	char *desc;
	int ret;

	(void)pthread_once(&tls_once, tls_init_once);
	if (tls_init_error != NULL) {
		sess_fail(ss, "4.7.0 TLS unavailable: %s", tls_init_error);
		return -1;
	}
	if (ss->inlen > ss->inoff) {
		/* plaintext after the 220 would be read as if encrypted */
		sess_fail(ss, "4.5.0 %s sent data after its STARTTLS reply",
		    ss->where);
		return -1;
	}
	ret = gnutls_init(&ss->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	if (ret < 0) {
		ss->tls = NULL;
		sess_fail(ss, "4.7.0 gnutls_init: %s", gnutls_strerror(ret));
		return -1;
	}
	if ((ret = gnutls_priority_set(ss->tls, tls_prio)) < 0 ||
	    (ret = gnutls_credentials_set(ss->tls, GNUTLS_CRD_CERTIFICATE,
	    tls_cred)) < 0 ||
	    (!is_numeric_host(ss->name) && (ret = gnutls_server_name_set(
	    ss->tls, GNUTLS_NAME_DNS, ss->name, strlen(ss->name))) < 0)) {
		sess_fail(ss, "4.7.0 TLS session set-up: %s",
		    gnutls_strerror(ret));
		return -1;
	}
	gnutls_handshake_set_timeout(ss->tls, 0);
	gnutls_transport_set_int(ss->tls, ss->fd);
	for (;;) {
		ret = gnutls_handshake(ss->tls);
		if (ret == 0)
			break;
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED ||
		    !gnutls_error_is_fatal(ret)) {
			if (sess_tls_wait(ss, deadline, "in the TLS "
			    "handshake") < 0)
				return -1;
			continue;
		}
		sess_fail(ss, "4.7.5 TLS handshake with %s failed: %s",
		    ss->where, gnutls_strerror(ret));
		return -1;
	}
	ss->tls_on = true;
	if (gnutls_certificate_verify_peers3(ss->tls,
	    is_numeric_host(ss->name) ? NULL : ss->name, &status) < 0)
		status = GNUTLS_CERT_INVALID;
	desc = gnutls_session_get_desc(ss->tls);
	log_debug("relay %s: %s, certificate %s", ss->where,
	    desc != NULL ? desc : "TLS",
	    status == 0 ? "verified" : "not verified");
	gnutls_free(desc);
	return 0;
}

/* --- the session --- */

/* sess_ehlo_parse - the extensions of an EHLO reply */
static void
sess_ehlo_parse(struct sess *ss, const struct reply *rep)
{
	char **lines, **words;
	size_t i, j, nl, nw;
	uint64_t v;

	ss->ext = 0;
	ss->size_max = 0;
	lines = str_split(buf_cstr((struct buf *)&rep->lines), "\n", &nl);
	/* the first line is the greeting of the reply, not a keyword */
	for (i = 1; i < nl; i++) {
		words = str_split(lines[i], " =", &nw);
		if (nw == 0) {
			str_split_free(&words);
			continue;
		}
		if (strcasecmp(words[0], "SIZE") == 0) {
			ss->ext |= EXT_SIZE;
			if (nw > 1 && str_to_u64(words[1], 0, UINT64_MAX,
			    &v) == 0)
				ss->size_max = v;
		} else if (strcasecmp(words[0], "8BITMIME") == 0)
			ss->ext |= EXT_8BITMIME;
		else if (strcasecmp(words[0], "SMTPUTF8") == 0)
			ss->ext |= EXT_SMTPUTF8;
		else if (strcasecmp(words[0], "DSN") == 0)
			ss->ext |= EXT_DSN;
		else if (strcasecmp(words[0], "PIPELINING") == 0)
			ss->ext |= EXT_PIPELINING;
		else if (strcasecmp(words[0], "STARTTLS") == 0)
			ss->ext |= EXT_STARTTLS;
		else if (strcasecmp(words[0], "CHUNKING") == 0)
			ss->ext |= EXT_CHUNKING;
		else if (strcasecmp(words[0], "BINARYMIME") == 0)
			ss->ext |= EXT_BINARYMIME;
		else if (strcasecmp(words[0], "AUTH") == 0) {
			for (j = 1; j < nw; j++)
				if (strcasecmp(words[j], "PLAIN") == 0)
					ss->ext |= EXT_AUTH_PLAIN;
		}
		str_split_free(&words);
	}
	str_split_free(&lines);
}

/* sess_hello - EHLO, or HELO when EHLO is refused; -1 on failure */
static int
sess_hello(struct sess *ss, struct reply *rep, bool ehlo_only)
{
	sess_cmd(ss, "EHLO %s", ss->s->helo_name);
	if (sess_flush(ss, ss->s->command_timeout_ms, "sending EHLO") < 0 ||
	    sess_reply(ss, ss->s->command_timeout_ms, "waiting for the EHLO "
	    "reply", rep) < 0)
		return -1;
	if (rep->code == 250) {
		sess_ehlo_parse(ss, rep);
		return 0;
	}
	if (rep->code < 500 || ehlo_only) {
		free(ss->err);
		ss->err = sess_said(ss, rep);
		return -1;
	}
	ss->ext = 0;
	sess_cmd(ss, "HELO %s", ss->s->helo_name);
	if (sess_flush(ss, ss->s->command_timeout_ms, "sending HELO") < 0 ||
	    sess_reply(ss, ss->s->command_timeout_ms, "waiting for the HELO "
	    "reply", rep) < 0)
		return -1;
	if (rep->code != 250) {
		free(ss->err);
		ss->err = sess_said(ss, rep);
		return -1;
	}
	return 0;
}

/* sess_auth - AUTH PLAIN with the configured user; -1 on failure */
static int
sess_auth(struct sess *ss, struct reply *rep)
{
	const struct relay_settings *s = ss->s;
	struct buf b64;
	char *plain;
	size_t ulen, plen, n;
	int r;

	if (!ss->tls_on && !s->auth_without_tls) {
		sess_fail(ss, "4.7.0 not sending a password to %s without "
		    "TLS", ss->where);
		return -1;
	}
	if ((ss->ext & EXT_AUTH_PLAIN) == 0) {
		sess_fail(ss, "4.7.0 %s does not offer AUTH PLAIN", ss->where);
		return -1;
	}
	/* RFC 4616: authzid (empty) NUL authcid NUL password */
	ulen = strlen(s->auth_user);
	plen = s->auth_password != NULL ? strlen(s->auth_password) : 0;
	n = 1 + ulen + 1 + plen;
	plain = xmalloc(n);
	plain[0] = '\0';
	memcpy(plain + 1, s->auth_user, ulen);
	plain[1 + ulen] = '\0';
	if (plen > 0)
		memcpy(plain + 2 + ulen, s->auth_password, plen);
	buf_init(&b64, 0);
	(void)buf_append_str(&ss->out, "AUTH PLAIN ");
	(void)base64_encode(&b64, plain, n);
	(void)buf_append(&ss->out, buf_ptr(&b64), buf_avail(&b64));
	(void)buf_append(&ss->out, "\r\n", 2);
	wipe(plain, n);
	free(plain);
	wipe(b64.data, b64.cap);
	buf_deinit(&b64);
	r = sess_flush(ss, s->command_timeout_ms, "sending AUTH");
	/* the password's base64 was in ss->out; sent or not, clear it */
	if (ss->out.data != NULL)
		wipe(ss->out.data, ss->out.cap);
	buf_reset(&ss->out);
	if (r < 0 || sess_reply(ss, s->command_timeout_ms, "waiting for the "
	    "AUTH reply", rep) < 0)
		return -1;
	if (rep->code != 235) {
		free(ss->err);
		ss->err = sess_said(ss, rep);
		return -1;
	}
	return 0;
}

/* sess_open - greeting, EHLO, STARTTLS, AUTH; 0, -1 or SESS_TLS_FAILED */
static int
sess_open(struct sess *ss, bool use_tls)
{
	const struct relay_settings *s = ss->s;
	struct reply rep;
	int r = -1;

	buf_init(&rep.lines, RELAY_REPLY_MAX);
	if (sess_reply(ss, s->command_timeout_ms, "waiting for the greeting",
	    &rep) < 0)
		goto out;
	if (rep.code != 220) {
		free(ss->err);
		ss->err = sess_said(ss, &rep);
		goto out;
	}
	if (sess_hello(ss, &rep, false) < 0)
		goto out;
	if (use_tls && s->tls != RELAY_TLS_NONE &&
	    (ss->ext & EXT_STARTTLS) != 0) {
		sess_cmd(ss, "STARTTLS");
		if (sess_flush(ss, s->command_timeout_ms, "sending STARTTLS") <
		    0 || sess_reply(ss, s->command_timeout_ms, "waiting for "
		    "the STARTTLS reply", &rep) < 0)
			goto out;
		if (rep.code == 220) {
			if (sess_tls_start(ss) < 0) {
				r = ss->cancelled ? -1 : (int)SESS_TLS_FAILED;
				goto out;
			}
			/* RFC 3207 4.2: forget what we knew, ask again */
			if (sess_hello(ss, &rep, true) < 0)
				goto out;
		} else if (s->tls == RELAY_TLS_ENCRYPT) {
			free(ss->err);
			ss->err = sess_said(ss, &rep);
			goto out;
		}
	}
	if (s->tls == RELAY_TLS_ENCRYPT && !ss->tls_on) {
		sess_fail(ss, "4.7.4 TLS is required, but %s does not offer "
		    "STARTTLS", ss->where);
		goto out;
	}
	if (s->auth_user != NULL && s->auth_user[0] != '\0' &&
	    sess_auth(ss, &rep) < 0)
		goto out;
	r = 0;
out:
	buf_deinit(&rep.lines);
	return r;
}

/* orcpt_param - " ORCPT=type;xtext" into b, or nothing when it cannot
 * be said on this session */
static void
orcpt_param(struct buf *b, const char *orcpt, bool utf8_session)
{
	const char *semi = strchr(orcpt, ';');
	const unsigned char *p;

	if (semi == NULL || semi == orcpt)
		return;
	if (non_ascii(semi + 1) && !utf8_session)
		return;
	(void)buf_printf(b, " ORCPT=%.*s;", (int)(semi - orcpt), orcpt);
	/* RFC 6533 utf-8-addr-xtext: UTF-8 as is, the rest as xtext */
	for (p = (const unsigned char *)semi + 1; *p != '\0'; p++) {
		if (*p >= 0x80)
			(void)buf_append_byte(b, *p);
		else
			(void)smtp_xtext_encode(b, (const char *)p, 1);
	}
}

/* rcpt_cmd - queue RCPT TO for one recipient */
static void
rcpt_cmd(struct sess *ss, const struct relay_rcpt *r, bool utf8_session)
{
	bool first = true;

	(void)buf_printf(&ss->out, "RCPT TO:<%s>", r->addr);
	if ((ss->ext & EXT_DSN) != 0) {
		if (r->notify & QUEUE_NOTIFY_NEVER)
			(void)buf_append_str(&ss->out, " NOTIFY=NEVER");
		else if (r->notify != 0) {
			(void)buf_append_str(&ss->out, " NOTIFY=");
			if (r->notify & QUEUE_NOTIFY_SUCCESS) {
				(void)buf_append_str(&ss->out, "SUCCESS");
				first = false;
			}
			if (r->notify & QUEUE_NOTIFY_FAILURE) {
				(void)buf_append_str(&ss->out,
				    first ? "FAILURE" : ",FAILURE");
				first = false;
			}
			if (r->notify & QUEUE_NOTIFY_DELAY)
				(void)buf_append_str(&ss->out,
				    first ? "DELAY" : ",DELAY");
		}
		if (r->orcpt != NULL)
			orcpt_param(&ss->out, r->orcpt, utf8_session);
	}
	(void)buf_append(&ss->out, "\r\n", 2);
}

/* mail_cmd - queue MAIL FROM with the parameters the server takes */
static void
mail_cmd(struct sess *ss, bool utf8_session)
{
	const struct relay_msg *m = ss->msg;

	(void)buf_printf(&ss->out, "MAIL FROM:<%s>", m->sender);
	if (ss->ext & EXT_SIZE)
		(void)buf_printf(&ss->out, " SIZE=%zu", m->len);
	if (m->body == QUEUE_BODY_BINARYMIME)
		(void)buf_append_str(&ss->out, " BODY=BINARYMIME");
	else if (m->body == QUEUE_BODY_8BITMIME && (ss->ext & EXT_8BITMIME))
		(void)buf_append_str(&ss->out, " BODY=8BITMIME");
	else if (m->body == QUEUE_BODY_7BIT && (ss->ext & EXT_8BITMIME))
		(void)buf_append_str(&ss->out, " BODY=7BIT");
	if (utf8_session)
		(void)buf_append_str(&ss->out, " SMTPUTF8");
	if (ss->ext & EXT_DSN) {
		if (m->ret == QUEUE_RET_FULL)
			(void)buf_append_str(&ss->out, " RET=FULL");
		else if (m->ret == QUEUE_RET_HDRS)
			(void)buf_append_str(&ss->out, " RET=HDRS");
		if (m->envid != NULL) {
			(void)buf_append_str(&ss->out, " ENVID=");
			(void)smtp_xtext_encode(&ss->out, m->envid,
			    strlen(m->envid));
		}
	}
	(void)buf_append(&ss->out, "\r\n", 2);
}

/* sess_body - the message, dot-stuffed, CRLF lines, then "." */
static int
sess_body(struct sess *ss)
{
	const char *p = ss->msg->data, *nl;
	size_t len = ss->msg->len, i = 0, end, ce;
	uint64_t t = ss->s->data_block_timeout_ms;

	while (i < len) {
		/* i is at the start of a line */
		if (p[i] == '.')
			(void)buf_append_byte(&ss->out, '.');
		nl = memchr(p + i, '\n', len - i);
		end = nl != NULL ? (size_t)(nl - p) : len;
		ce = end;
		if (ce > i && p[ce - 1] == '\r')
			ce--;
		/* a bare LF becomes CRLF; a last line without one gets it */
		(void)buf_append(&ss->out, p + i, ce - i);
		(void)buf_append(&ss->out, "\r\n", 2);
		i = nl != NULL ? end + 1 : len;
		if (buf_avail(&ss->out) >= RELAY_CHUNK &&
		    sess_flush(ss, t, "sending the message") < 0)
			return -1;
	}
	(void)buf_append(&ss->out, ".\r\n", 3);
	return sess_flush(ss, t, "sending the message");
}

/* sess_bdat - the message as one BDAT LAST chunk (BINARYMIME) */
static int
sess_bdat(struct sess *ss)
{
	const char *p = ss->msg->data;
	size_t len = ss->msg->len, i, n;
	uint64_t t = ss->s->data_block_timeout_ms;

	sess_cmd(ss, "BDAT %zu LAST", len);
	for (i = 0; i < len; i += n) {
		n = len - i < RELAY_CHUNK ? len - i : RELAY_CHUNK;
		(void)buf_append(&ss->out, p + i, n);
		if (sess_flush(ss, t, "sending the message") < 0)
			return -1;
	}
	return sess_flush(ss, t, "sending the message");
}

/* accepted_set - a verdict for the recipients the server took */
static void
accepted_set(struct sess *ss, size_t *acc, size_t nacc,
    enum relay_status st, const char *error)
{
	struct relay_rcpt *r;
	size_t i;

	for (i = 0; i < nacc; i++) {
		r = &ss->msg->rcpts[acc[i]];
		rcpt_set(r, st, error);
		if (st == RELAY_OK && r->remote_mta == NULL) {
			r->remote_mta = xstrdup(ss->name);
			r->remote_dsn = (ss->ext & EXT_DSN) != 0;
		}
	}
}

/* sess_rset - RSET after a transaction that went nowhere */
static int
sess_rset(struct sess *ss, struct reply *rep)
{
	sess_cmd(ss, "RSET");
	if (sess_flush(ss, ss->s->command_timeout_ms, "sending RSET") < 0 ||
	    sess_reply(ss, ss->s->command_timeout_ms, "waiting for the RSET "
	    "reply", rep) < 0)
		return -1;
	return 0;
}

/* sess_transaction - MAIL, RCPTs, DATA for the batch; -1 if the session
 * broke (the batch's recipients without a verdict stay pending) */
static int
sess_transaction(struct sess *ss, size_t *batch, size_t nbatch,
    bool utf8_session, struct reply *rep)
{
	const struct relay_settings *s = ss->s;
	struct relay_msg *m = ss->msg;
	size_t *acc, nacc = 0, i, j, group;
	bool pipe = (ss->ext & EXT_PIPELINING) != 0, mail_ok;
	char *said = NULL;
	int r = -1;

	acc = xcalloc(nbatch, sizeof(*acc));
	mail_cmd(ss, utf8_session);
	/* pipelined: MAIL and the first group of RCPTs in one write */
	group = pipe ? (nbatch < RELAY_PIPELINE_MAX ? nbatch :
	    RELAY_PIPELINE_MAX) : 0;
	for (j = 0; j < group; j++)
		rcpt_cmd(ss, &m->rcpts[batch[j]], utf8_session);
	if (sess_flush(ss, s->command_timeout_ms, "sending MAIL FROM") < 0 ||
	    sess_reply(ss, s->command_timeout_ms, "waiting for the MAIL FROM "
	    "reply", rep) < 0)
		goto out;
	mail_ok = rep->code >= 200 && rep->code < 300;
	if (!mail_ok) {
		said = sess_said(ss, rep);
		for (i = 0; i < nbatch; i++)
			rcpt_set(&m->rcpts[batch[i]], reply_status(rep->code),
			    said);
		/* the pipelined RCPTs are answered too (with 503s) */
		for (j = 0; j < group; j++)
			if (sess_reply(ss, s->command_timeout_ms, "waiting "
			    "for a RCPT TO reply", rep) < 0)
				goto out;
		r = sess_rset(ss, rep);
		goto out;
	}
	for (i = 0; i < nbatch; i++) {
		if (i == group) {
			/* the next group (or, without pipelining, one) */
			group = pipe ? (nbatch - i < RELAY_PIPELINE_MAX ?
			    nbatch : i + RELAY_PIPELINE_MAX) : i + 1;
			for (j = i; j < group; j++)
				rcpt_cmd(ss, &m->rcpts[batch[j]],
				    utf8_session);
			if (sess_flush(ss, s->command_timeout_ms, "sending "
			    "RCPT TO") < 0)
				goto out;
		}
		if (sess_reply(ss, s->command_timeout_ms, "waiting for a "
		    "RCPT TO reply", rep) < 0)
			goto out;
		if (rep->code >= 200 && rep->code < 300) {
			acc[nacc++] = batch[i];
		} else {
			free(said);
			said = sess_said(ss, rep);
			rcpt_set(&m->rcpts[batch[i]], reply_status(rep->code),
			    said);
		}
	}
	if (nacc == 0) {
		r = sess_rset(ss, rep);
		goto out;
	}
	if (m->body == QUEUE_BODY_BINARYMIME) {
		if (sess_bdat(ss) < 0)
			goto lost;
	} else {
		sess_cmd(ss, "DATA");
		if (sess_flush(ss, s->command_timeout_ms, "sending DATA") < 0 ||
		    sess_reply(ss, s->data_init_timeout_ms, "waiting for the "
		    "DATA reply", rep) < 0)
			goto out;
		if (rep->code != 354) {
			free(said);
			said = sess_said(ss, rep);
			accepted_set(ss, acc, nacc, rep->code >= 500 ?
			    RELAY_PERM : RELAY_TEMP, said);
			r = 0;
			goto out;
		}
		if (sess_body(ss) < 0)
			goto lost;
	}
	if (sess_reply(ss, s->data_done_timeout_ms, "waiting for the reply "
	    "to the end of the message", rep) < 0)
		goto lost;
	free(said);
	said = sess_said(ss, rep);
	accepted_set(ss, acc, nacc, reply_status(rep->code),
	    rep->code >= 200 && rep->code < 300 ? NULL : said);
	r = 0;
	goto out;
lost:
	/*
	 * The server may have the message: these recipients must not be
	 * tried at the next address within this attempt (RFC 5321 6.1
	 * accepts the duplicate a later retry may cause).
	 */
	accepted_set(ss, acc, nacc, RELAY_TEMP, ss->err);
out:
	free(said);
	free(acc);
	return r;
}

/* sess_checks - what rules the message out at this server entirely */
static bool
sess_checks(struct sess *ss, bool *utf8_session_r)
{
	struct relay_msg *m = ss->msg;
	bool needs_utf8 = false;
	size_t i;

	*utf8_session_r = false;
	if (m->smtputf8) {
		needs_utf8 = non_ascii(m->sender) ||
		    header_non_ascii(m->data, m->len);
		for (i = 0; i < m->nrcpts && !needs_utf8; i++)
			needs_utf8 = non_ascii(m->rcpts[i].addr);
		if (ss->ext & EXT_SMTPUTF8)
			*utf8_session_r = true;
		else if (needs_utf8) {
			sess_fail(ss, "5.6.7 %s does not support SMTPUTF8, "
			    "which this message needs", ss->where);
			all_pending(m, RELAY_PERM, ss->err);
			return false;
		}
	}
	if ((ss->ext & EXT_SIZE) && ss->size_max > 0 &&
	    m->len > ss->size_max) {
		sess_fail(ss, "5.3.4 message of %zu bytes exceeds the size "
		    "limit of %s (%llu bytes)", m->len, ss->where,
		    (unsigned long long)ss->size_max);
		all_pending(m, RELAY_PERM, ss->err);
		return false;
	}
	if (m->body == QUEUE_BODY_BINARYMIME &&
	    (ss->ext & (EXT_BINARYMIME | EXT_CHUNKING)) !=
	    (EXT_BINARYMIME | EXT_CHUNKING)) {
		sess_fail(ss, "5.6.3 %s does not take binary messages "
		    "(BINARYMIME)", ss->where);
		all_pending(m, RELAY_PERM, ss->err);
		return false;
	}
	/*
	 * XXX: an 8BITMIME body goes as is to a server that does not offer
	 * 8BITMIME (RFC 6152 wants a conversion to 7 bits); Postfix without
	 * its MIME conversion does the same, and such servers are rare.
	 */
	return true;
}

/* sess_run - the transactions of one connected session */
static int
sess_run(struct sess *ss, bool use_tls)
{
	struct relay_msg *m = ss->msg;
	struct reply rep;
	size_t *batch, nbatch, i;
	bool utf8_session;
	int r;

	r = sess_open(ss, use_tls);
	if (r != 0)
		return r;
	if (!sess_checks(ss, &utf8_session))
		goto quit;
	buf_init(&rep.lines, RELAY_REPLY_MAX);
	batch = xcalloc(ss->s->max_rcpts > 0 ? ss->s->max_rcpts : 1,
	    sizeof(*batch));
	for (;;) {
		nbatch = 0;
		for (i = 0; i < m->nrcpts && nbatch < (ss->s->max_rcpts > 0 ?
		    ss->s->max_rcpts : 1); i++)
			if (m->rcpts[i].status == RELAY_PENDING)
				batch[nbatch++] = i;
		if (nbatch == 0)
			break;
		if (sess_transaction(ss, batch, nbatch, utf8_session,
		    &rep) < 0) {
			r = -1;
			break;
		}
	}
	free(batch);
	buf_deinit(&rep.lines);
	if (r < 0)
		return -1;
quit:
	/* best effort: the verdicts are in already */
	buf_init(&rep.lines, RELAY_REPLY_MAX);
	sess_cmd(ss, "QUIT");
	if (sess_flush(ss, RELAY_QUIT_TIMEOUT_MS, "sending QUIT") == 0)
		(void)sess_reply(ss, RELAY_QUIT_TIMEOUT_MS, "waiting for the "
		    "QUIT reply", &rep);
	buf_deinit(&rep.lines);
	return 0;
}

/* sess_connect - a non-blocking connect within connect_timeout */
static int
sess_connect(struct sess *ss, const struct addrinfo *ai, unsigned int port)
{
	char addr[INET6_ADDRSTRLEN];
	socklen_t len = sizeof(int);
	int err = 0;

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
	    NULL, 0, NI_NUMERICHOST) != 0)
		(void)str_copy(addr, sizeof(addr), "?");
	snprintf(ss->where, sizeof(ss->where), "%s[%s]", ss->name, addr);
	ss->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (ss->fd < 0) {
		sess_fail(ss, "4.4.1 socket: %s", strerror(errno));
		return -1;
	}
	if (connect(ss->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		sess_fail(ss, "4.4.1 connect to %s:%u: %s", ss->where, port,
		    strerror(errno));
		return -1;
	}
	if (sess_wait(ss, POLLOUT, now_ms() + ss->s->connect_timeout_ms,
	    "connecting") < 0) {
		if (!ss->cancelled)
			sess_fail(ss, "4.4.1 connect to %s:%u: timed out",
			    ss->where, port);
		return -1;
	}
	if (getsockopt(ss->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		sess_fail(ss, "4.4.1 connect to %s:%u: %s", ss->where, port,
		    strerror(err));
		return -1;
	}
	return 0;
}

/* sess_close - the connection and its TLS session */
static void
sess_close(struct sess *ss)
{
	if (ss->tls != NULL) {
		if (ss->tls_on)
			(void)gnutls_bye(ss->tls, GNUTLS_SHUT_WR);
		gnutls_deinit(ss->tls);
		ss->tls = NULL;
	}
	ss->tls_on = false;
	if (ss->fd >= 0)
		close(ss->fd);
	ss->fd = -1;
	ss->inoff = ss->inlen = 0;
	buf_reset(&ss->out);
	ss->ext = 0;
	ss->size_max = 0;
}

/* try_address - one connection; SESS_DONE or SESS_TLS_FAILED */
static enum sess_end
try_address(struct sess *ss, const struct addrinfo *ai, unsigned int port,
    bool use_tls)
{
	int r = -1;

	if (sess_connect(ss, ai, port) == 0)
		r = sess_run(ss, use_tls);
	if (r < 0 && ss->err != NULL)
		log_debug("relay: %s", ss->err);
	sess_close(ss);
	return r == SESS_TLS_FAILED ? SESS_TLS_FAILED : SESS_DONE;
}

/* try_host - the addresses of one host; returns addresses tried */
static unsigned int
try_host(struct sess *ss, const char *host, unsigned int port,
    unsigned int budget, bool *unknown_r)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	unsigned int tried = 0, per_host = 0;
	int r;

	*unknown_r = false;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", port);
	r = getaddrinfo(host, portstr, &hints, &res);
	if (r != 0) {
		sess_fail(ss, "4.4.3 cannot find the address of %s: %s", host,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		*unknown_r = r == EAI_NONAME
#ifdef EAI_NODATA
		    || r == EAI_NODATA
#endif
		    ;
		return 0;
	}
	ss->name = host;
	for (ai = res; ai != NULL && tried < budget &&
	    per_host < RELAY_ADDRS_PER_HOST && any_pending(ss->msg) &&
	    !ss->cancelled; ai = ai->ai_next) {
		tried++;
		per_host++;
		if (try_address(ss, ai, port, true) == SESS_TLS_FAILED &&
		    ss->s->tls == RELAY_TLS_MAY && !ss->cancelled &&
		    any_pending(ss->msg)) {
			/* opportunistic: a broken TLS stack is no reason to
			 * keep mail back; once more in plaintext */
			log_info("relay %s: TLS failed (%s), trying without",
			    ss->where, ss->err);
			(void)try_address(ss, ai, port, false);
		}
	}
	freeaddrinfo(res);
	return tried;
}

/* literal_host - "[192.0.2.1]" or "[IPv6:2001:db8::1]" into host */
static int
literal_host(const char *domain, char *host, size_t hostsize)
{
	const char *p = domain + 1;
	size_t n = strlen(domain);
	unsigned char a[sizeof(struct in6_addr)];
	int af = AF_INET;

	if (n < 3 || domain[n - 1] != ']')
		return -1;
	n -= 2;
	if (n > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		p += 5;
		n -= 5;
		af = AF_INET6;
	}
	if (n >= hostsize)
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	return inet_pton(af, host, a) == 1 ? 0 : -1;
}

/* relay_deliver - one attempt for every recipient of msg */
void
relay_deliver(const struct relay_settings *s, const struct relay_dest *dest,
    struct relay_msg *msg)
{
	struct sess ss;
	struct dns_mx_list *mx = NULL;
	enum dns_mx_status st;
	const char *error;
	char literal[INET6_ADDRSTRLEN + 8];
	unsigned int budget = RELAY_ADDRS_MAX, tried;
	bool unknown = false, implicit;
	size_t i;

	memset(&ss, 0, sizeof(ss));
	ss.s = s;
	ss.msg = msg;
	ss.fd = -1;
	buf_init(&ss.out, 0);
	if (dest->host != NULL) {
		(void)try_host(&ss, dest->host, dest->port, budget,
		    &unknown);
	} else if (dest->domain[0] == '[') {
		if (literal_host(dest->domain, literal, sizeof(literal)) < 0) {
			sess_fail(&ss, "5.1.2 bad address literal %s",
			    dest->domain);
			all_pending(msg, RELAY_PERM, ss.err);
			goto out;
		}
		(void)try_host(&ss, literal, 25, budget, &unknown);
	} else {
		mx = xmalloc(sizeof(*mx));
		st = dns_mx_lookup(dest->domain, mx, &error);
		if (st == DNS_MX_NXDOMAIN || st == DNS_MX_NULL) {
			sess_fail(&ss, "%s %s: %s", st == DNS_MX_NULL ?
			    "5.1.10" : "5.1.2", dest->domain, error);
			all_pending(msg, RELAY_PERM, ss.err);
			goto out;
		}
		if (st != DNS_MX_OK) {
			sess_fail(&ss, "4.4.3 MX lookup of %s: %s",
			    dest->domain, error);
			all_pending(msg, RELAY_TEMP, ss.err);
			goto out;
		}
		implicit = mx->n == 1 && strcmp(mx->mx[0].host,
		    dest->domain) == 0;
		for (i = 0; i < mx->n && budget > 0 && any_pending(msg) &&
		    !ss.cancelled; i++) {
			tried = try_host(&ss, mx->mx[i].host, 25, budget,
			    &unknown);
			budget -= tried;
		}
		if (implicit && unknown) {
			/* RFC 5321 5.1: no MX, and no address either */
			sess_fail(&ss, "5.1.2 %s has no MX and no address",
			    dest->domain);
			all_pending(msg, RELAY_PERM, ss.err);
			goto out;
		}
	}
	all_pending(msg, RELAY_TEMP, ss.err != NULL ? ss.err :
	    "4.4.1 no server could be reached");
out:
	free(mx);
	sess_close(&ss);
	buf_deinit(&ss.out);
	free(ss.err);
}
