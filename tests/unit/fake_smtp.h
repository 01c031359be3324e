/*
 * fake_smtp - a scripted SMTP server in a thread, for relay client and
 * queue tests
 *
 * Listens on 127.0.0.1 (ephemeral port), serves up to max_sessions
 * sessions one after the other, answers from its script and records
 * every command line and the raw DATA/BDAT bytes.  Header-only (static
 * functions) so that each test program stays one .c file.
 */
#ifndef BASTIDE_FAKE_SMTP_H
#define BASTIDE_FAKE_SMTP_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"

/* a reply for RCPT lines that contain needle */
struct fake_rule {
	const char	*needle;
	const char	*reply;
};

struct fake_smtp {
	/* script: NULL for the defaults */
	const char	*greeting;	/* "220 fake ESMTP" */
	const char	*ehlo;		/* whole reply, CRLF lines */
	const char	*helo;		/* "250 fake" */
	const char	*mail;		/* "250 2.1.0 ok" */
	const struct fake_rule *rcpt;	/* NULL-needle ended; else 250 */
	const char	*data;		/* "354 go ahead" */
	const char	*done;		/* "250 2.0.0 queued" */
	bool		 silent;	/* greet, then never answer */
	bool		 close_after_dot; /* hang up instead of the reply */
	unsigned int	 max_sessions;	/* default 1 */

	/* state */
	int		 lfd;
	unsigned int	 port;
	pthread_t	 th;
	pthread_mutex_t	 lock;
	struct buf	 transcript;	/* command lines, LF ended */
	struct buf	 body;		/* raw DATA/BDAT bytes */
	unsigned int	 sessions;
	unsigned int	 messages;	/* final replies sent */
};

/* fake_send - a reply (no CRLF in s for single lines; added) */
static void
fake_send(int fd, const char *s)
{
	size_t n = strlen(s);

	(void)send(fd, s, n, MSG_NOSIGNAL);
	if (n < 2 || strcmp(s + n - 2, "\r\n") != 0)
		(void)send(fd, "\r\n", 2, MSG_NOSIGNAL);
}

/* fake_line - read one line (without CRLF) from fd into line; -1 at EOF */
static int
fake_line(int fd, char *in, size_t *inlen, char *line, size_t linesize)
{
	char *nl;
	ssize_t n;
	size_t len;

	for (;;) {
		nl = memchr(in, '\n', *inlen);
		if (nl != NULL) {
			len = (size_t)(nl - in);
			if (len > 0 && in[len - 1] == '\r')
				len--;
			if (len >= linesize)
				len = linesize - 1;
			memcpy(line, in, len);
			line[len] = '\0';
			*inlen -= (size_t)(nl - in) + 1;
			memmove(in, nl + 1, *inlen);
			return 0;
		}
		if (*inlen >= 65536)
			return -1;
		n = recv(fd, in + *inlen, 65536 - *inlen, 0);
		if (n <= 0)
			return -1;
		*inlen += (size_t)n;
	}
}

/* fake_session - one SMTP session on fd */
static void
fake_session(struct fake_smtp *f, int fd)
{
	char *in = malloc(65536 + 1), line[4096];
	const struct fake_rule *r;
	const char *reply;
	size_t inlen = 0, want, got;
	unsigned long long bdat;
	bool last;
	ssize_t n;

	fake_send(fd, f->greeting != NULL ? f->greeting : "220 fake ESMTP");
	while (fake_line(fd, in, &inlen, line, sizeof(line)) == 0) {
		pthread_mutex_lock(&f->lock);
		(void)buf_append_str(&f->transcript, line);
		(void)buf_append_byte(&f->transcript, '\n');
		pthread_mutex_unlock(&f->lock);
		if (f->silent)
			continue;
		if (strncasecmp(line, "EHLO", 4) == 0) {
			fake_send(fd, f->ehlo != NULL ? f->ehlo :
			    "250-fake\r\n250-PIPELINING\r\n250 8BITMIME");
		} else if (strncasecmp(line, "HELO", 4) == 0) {
			fake_send(fd, f->helo != NULL ? f->helo : "250 fake");
		} else if (strncasecmp(line, "MAIL", 4) == 0) {
			fake_send(fd, f->mail != NULL ? f->mail :
			    "250 2.1.0 ok");
		} else if (strncasecmp(line, "RCPT", 4) == 0) {
			reply = "250 2.1.5 ok";
			for (r = f->rcpt; r != NULL && r->needle != NULL; r++)
				if (strstr(line, r->needle) != NULL) {
					reply = r->reply;
					break;
				}
			fake_send(fd, reply);
		} else if (strcasecmp(line, "DATA") == 0) {
			reply = f->data != NULL ? f->data : "354 go ahead";
			fake_send(fd, reply);
			if (strncmp(reply, "354", 3) != 0)
				continue;
			for (;;) {
				if (fake_line(fd, in, &inlen, line,
				    sizeof(line)) < 0)
					goto out;
				pthread_mutex_lock(&f->lock);
				(void)buf_append_str(&f->body, line);
				(void)buf_append(&f->body, "\r\n", 2);
				pthread_mutex_unlock(&f->lock);
				if (strcmp(line, ".") == 0)
					break;
			}
			if (f->close_after_dot)
				goto out;
			pthread_mutex_lock(&f->lock);
			f->messages++;
			pthread_mutex_unlock(&f->lock);
			fake_send(fd, f->done != NULL ? f->done :
			    "250 2.0.0 queued");
		} else if (sscanf(line, "BDAT %llu", &bdat) == 1) {
			last = strstr(line, "LAST") != NULL;
			want = (size_t)bdat;
			while (want > 0) {
				if (inlen == 0) {
					n = recv(fd, in, 65536, 0);
					if (n <= 0)
						goto out;
					inlen = (size_t)n;
				}
				got = inlen < want ? inlen : want;
				pthread_mutex_lock(&f->lock);
				(void)buf_append(&f->body, in, got);
				pthread_mutex_unlock(&f->lock);
				memmove(in, in + got, inlen - got);
				inlen -= got;
				want -= got;
			}
			if (last) {
				pthread_mutex_lock(&f->lock);
				f->messages++;
				pthread_mutex_unlock(&f->lock);
			}
			fake_send(fd, f->done != NULL ? f->done :
			    "250 2.0.0 queued");
		} else if (strcasecmp(line, "RSET") == 0 ||
		    strcasecmp(line, "NOOP") == 0) {
			fake_send(fd, "250 2.0.0 ok");
		} else if (strcasecmp(line, "QUIT") == 0) {
			fake_send(fd, "221 2.0.0 bye");
			break;
		} else if (strncasecmp(line, "AUTH", 4) == 0) {
			fake_send(fd, "235 2.7.0 ok");
		} else {
			fake_send(fd, "502 5.5.1 unknown");
		}
	}
out:
	free(in);
}

/* fake_thread - serve sessions, one at a time */
static void *
fake_thread(void *arg)
{
	struct fake_smtp *f = arg;
	struct pollfd p;
	unsigned int max = f->max_sessions > 0 ? f->max_sessions : 1;
	int fd;

	while (f->sessions < max) {
		p.fd = f->lfd;
		p.events = POLLIN;
		if (poll(&p, 1, 15000) <= 0)
			break;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			break;
		pthread_mutex_lock(&f->lock);
		f->sessions++;
		pthread_mutex_unlock(&f->lock);
		fake_session(f, fd);
		close(fd);
	}
	return NULL;
}

/* fake_start - listen and serve in a thread */
static void
fake_start(struct fake_smtp *f)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1;

	pthread_mutex_init(&f->lock, NULL);
	buf_init(&f->transcript, 0);
	buf_init(&f->body, 0);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	(void)setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sin,
	    sizeof(sin)) < 0 || listen(f->lfd, 8) < 0 ||
	    getsockname(f->lfd, (struct sockaddr *)&sin, &len) < 0) {
		perror("fake_smtp");
		abort();
	}
	f->port = ntohs(sin.sin_port);
	if (pthread_create(&f->th, NULL, fake_thread, f) != 0)
		abort();
}

/* fake_stop - wait for the thread (it ends after max_sessions, a 15 s
 * idle or this shutdown); the recordings stay for the checks */
static void
fake_stop(struct fake_smtp *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->th, NULL);
	close(f->lfd);
	pthread_mutex_destroy(&f->lock);
}

/* fake_free - the recordings, after the checks */
static void
fake_free(struct fake_smtp *f)
{
	buf_deinit(&f->transcript);
	buf_deinit(&f->body);
}

/* fake_closed_port - a 127.0.0.1 port nobody listens on (bound, closed) */
static unsigned int
fake_closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		abort();
	close(fd);
	return ntohs(sin.sin_port);
}

#endif
