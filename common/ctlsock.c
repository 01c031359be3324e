/* ctlsock.c - a daemon's control socket, and the client bastidectl uses */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "conf.h"
#include "ctlsock.h"
#include "log.h"
#include "xmalloc.h"

#define CTLSOCK_ACCEPTS_PER_EVENT	16
#define CTLSOCK_ACCEPT_PAUSE_MS		100	/* after EMFILE */
#define CTLSOCK_READ_SIZE		4096

struct ctlsock_conn {
	struct ctlsock		*cs;
	struct ctlsock_conn	*prev, *next;
	int			 fd;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_timer;
	struct buf		 in;	/* the request, up to its LF */
	struct buf		 out;	/* the reply, consumed as sent */
};

struct ctlsock {
	struct event_base	*base;
	char			*path;
	dev_t			 dev;	/* of the file we made, so */
	ino_t			 ino;	/* free unlinks only ours */
	int			 fd;
	struct event		*ev_accept;
	struct event		*ev_resume;	/* EMFILE back-off */
	ctlsock_fn		*fn;
	void			*arg;
	uint64_t		 timeout_ms;
	struct ctlsock_conn	*conns;
	unsigned int		 nconns;
};

/* --- the reply format, shared by both sides --- */

/* reply_status - 0 if the last line is "OK", 1 if "ERR ...", else -1 */
static int
reply_status(const char *p, size_t n)
{
	size_t end, start;

	if (n == 0 || p[n - 1] != '\n')
		return -1;
	end = n - 1;
	if (end > 0 && p[end - 1] == '\r')
		end--;
	start = end;
	while (start > 0 && p[start - 1] != '\n')
		start--;
	if (end - start == 2 && memcmp(p + start, "OK", 2) == 0)
		return 0;
	if (end - start >= 3 && memcmp(p + start, "ERR", 3) == 0 &&
	    (end - start == 3 || p[start + 3] == ' '))
		return 1;
	return -1;
}

/* set_sun - fill a sockaddr_un; -1 if path does not fit */
static int
set_sun(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path))
		return -1;
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

/* timeval_ms - a struct timeval of ms milliseconds */
static struct timeval
timeval_ms(uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return tv;
}

/* --- server: connections --- */

/* conn_free - close one connection and forget it */
static void
conn_free(struct ctlsock_conn *c)
{
	struct ctlsock *cs = c->cs;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		cs->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	cs->nconns--;
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_timer);
	close(c->fd);
	buf_deinit(&c->in);
	buf_deinit(&c->out);
	free(c);
}

/* conn_arm_timer - (re)start the connection's timeout */
static void
conn_arm_timer(struct ctlsock_conn *c)
{
	struct timeval tv = timeval_ms(c->cs->timeout_ms);

	evtimer_add(c->ev_timer, &tv);
}

/* conn_on_timer - the client took too long: drop it */
static void
conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ctlsock_conn *c = arg;

	log_info("control %s: client timed out", c->cs->path);
	conn_free(c);
}

/* conn_on_write - send what is left of the reply, close when done */
static void
conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct ctlsock_conn *c = arg;
	ssize_t n;

	while (buf_avail(&c->out) > 0) {
		n = send(c->fd, buf_ptr(&c->out), buf_avail(&c->out),
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_arm_timer(c);
				return;
			}
			/* the client went away: nothing to tell anyone */
			log_debug("control %s: send: %s", c->cs->path,
			    strerror(errno));
			conn_free(c);
			return;
		}
		buf_consume(&c->out, (size_t)n);
	}
	conn_free(c);
}

/* conn_reply - start sending out; the request is complete */
static void
conn_reply(struct ctlsock_conn *c)
{
	event_del(c->ev_read);
	event_add(c->ev_write, NULL);
	conn_arm_timer(c);
	/* most replies fit the socket buffer: try at once */
	conn_on_write(c->fd, EV_WRITE, c);
}

/* conn_refuse - answer "ERR reason" without asking the daemon */
static void
conn_refuse(struct ctlsock_conn *c, const char *reason)
{
	buf_reset(&c->out);
	(void)buf_printf(&c->out, "ERR %s\n", reason);
	conn_reply(c);
}

/* conn_request - a whole line arrived: hand it to the daemon */
static void
conn_request(struct ctlsock_conn *c, char *line, size_t len)
{
	struct ctlsock *cs = c->cs;
	size_t i;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch < 0x20 || ch == 0x7f) {
			log_warnx("control %s: request with a control "
			    "character refused", cs->path);
			conn_refuse(c, "bad request: control character");
			return;
		}
	}
	/* the daemon's handler logs what it does with the request */
	log_debug("control %s: %s", cs->path, line);
	cs->fn(cs->arg, line, &c->out);
	/* be lenient about a missing last LF, strict about OK/ERR */
	if (buf_avail(&c->out) > 0 &&
	    buf_ptr(&c->out)[buf_avail(&c->out) - 1] != '\n')
		(void)buf_append_byte(&c->out, '\n');
	if (reply_status(buf_ptr(&c->out), buf_avail(&c->out)) < 0) {
		log_warnx("control %s: %s: reply has no final OK or ERR "
		    "line", cs->path, line);
		conn_refuse(c, "internal error, see the daemon's log");
		return;
	}
	conn_reply(c);
}

/* conn_on_read - read the request line, never past its ceiling */
static void
conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct ctlsock_conn *c = arg;
	char chunk[CTLSOCK_READ_SIZE];
	char *line, *lf;
	size_t room, len;
	ssize_t n;

	for (;;) {
		/* read no more than the line may still take */
		room = CTLSOCK_LINE_MAX - c->in.len;
		if (room > sizeof(chunk))
			room = sizeof(chunk);
		n = recv(c->fd, chunk, room, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_debug("control %s: recv: %s", c->cs->path,
			    strerror(errno));
			conn_free(c);
			return;
		}
		if (n == 0) {
			/* no line end: a request we cannot trust */
			conn_free(c);
			return;
		}
		if (buf_append(&c->in, chunk, (size_t)n) < 0)
			panic("ctlsock: read past the line ceiling");
		lf = memchr(c->in.data, '\n', c->in.len);
		if (lf != NULL) {
			len = (size_t)(lf - c->in.data);
			line = xstrndup(c->in.data, len);
			/* a NUL would cut the line short unseen */
			if (memchr(c->in.data, '\0', len) != NULL)
				conn_refuse(c, "bad request: NUL byte");
			else
				conn_request(c, line, len);
			free(line);
			return;
		}
		if (c->in.len >= CTLSOCK_LINE_MAX) {
			log_warnx("control %s: request line over %d bytes "
			    "refused", c->cs->path, CTLSOCK_LINE_MAX);
			conn_refuse(c, "request line too long");
			return;
		}
	}
}

/* peer_allowed - the peer runs as root or as we do */
static bool
peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* ctlsock_accepted - a new connection: wait for its request */
static void
ctlsock_accepted(struct ctlsock *cs, int fd)
{
	static const char busy[] = "ERR too many control connections\n";
	static const char denied[] = "ERR permission denied\n";
	struct ctlsock_conn *c;

	if (!peer_allowed(fd)) {
		log_warnx("control %s: peer of another user refused",
		    cs->path);
		(void)send(fd, denied, sizeof(denied) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	if (cs->nconns >= CTLSOCK_MAX_CONNS) {
		log_warnx("control %s: %u connections, one more refused",
		    cs->path, cs->nconns);
		(void)send(fd, busy, sizeof(busy) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->cs = cs;
	c->fd = fd;
	buf_init(&c->in, CTLSOCK_LINE_MAX);
	buf_init(&c->out, CTLSOCK_REPLY_MAX);
	c->ev_read = event_new(cs->base, fd, EV_READ | EV_PERSIST,
	    conn_on_read, c);
	c->ev_write = event_new(cs->base, fd, EV_WRITE | EV_PERSIST,
	    conn_on_write, c);
	c->ev_timer = evtimer_new(cs->base, conn_on_timer, c);
	if (c->ev_read == NULL || c->ev_write == NULL || c->ev_timer == NULL)
		fatalx("event_new failed");
	c->next = cs->conns;
	if (cs->conns != NULL)
		cs->conns->prev = c;
	cs->conns = c;
	cs->nconns++;
	event_add(c->ev_read, NULL);
	conn_arm_timer(c);
}

/* ctlsock_on_resume - the EMFILE back-off is over: accept again */
static void
ctlsock_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct ctlsock *cs = arg;

	event_add(cs->ev_accept, NULL);
}

/* ctlsock_on_accept - the listener is readable: take the connections */
static void
ctlsock_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ctlsock *cs = arg;
	struct timeval tv;
	int fd, i;

	for (i = 0; i < CTLSOCK_ACCEPTS_PER_EVENT; i++) {
		fd = accept4(cs->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				return;
			log_warn("accept(%s)", cs->path);
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* level-triggered: without a pause the
				 * loop would spin on the waiting peer */
				event_del(cs->ev_accept);
				tv = timeval_ms(CTLSOCK_ACCEPT_PAUSE_MS);
				evtimer_add(cs->ev_resume, &tv);
			}
			return;
		}
		ctlsock_accepted(cs, fd);
	}
}

/* --- server: the listening socket --- */

/* clear_stale - make room at path: -1 if it is live or not a socket */
static int
clear_stale(const char *path, const struct sockaddr_un *sun,
    char **error_r)
{
	struct stat st;
	int fd, r, saved;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = xasprintf("lstat(%s): %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*error_r = xasprintf("%s exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	/* EAGAIN: a full backlog, so somebody is listening */
	if (r == 0 || saved == EAGAIN) {
		*error_r = xasprintf("%s is in use by a running process",
		    path);
		return -1;
	}
	if (saved != ECONNREFUSED && saved != ENOENT) {
		*error_r = xasprintf("connect(%s): %s", path,
		    strerror(saved));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		*error_r = xasprintf("unlink(%s): %s", path, strerror(errno));
		return -1;
	}
	log_info("control %s: stale socket removed", path);
	return 0;
}

/* ctlsock_listen - make the socket and serve it on base */
int
ctlsock_listen(struct event_base *base, const char *path, ctlsock_fn *fn,
    void *arg, struct ctlsock **cs_r, char **error_r)
{
	struct sockaddr_un sun;
	struct ctlsock *cs;
	struct stat st;
	const char *what;
	int fd;

	*cs_r = NULL;
	if (set_sun(&sun, path) < 0) {
		*error_r = xasprintf("control socket path \"%s\" is empty or "
		    "longer than %zu bytes", path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (clear_stale(path, &sun, error_r) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * Until listen() nobody can connect (they get ECONNREFUSED), so the
	 * file may briefly have the umask's mode: chmod before listen
	 * rather than changing the process-wide umask under other threads.
	 */
	what = "bind";
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	what = "chmod";
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0)
		goto fail_unlink;
	what = "listen";
	if (listen(fd, 64) < 0)
		goto fail_unlink;
	cs = xcalloc(1, sizeof(*cs));
	cs->base = base;
	cs->path = xstrdup(path);
	cs->dev = st.st_dev;
	cs->ino = st.st_ino;
	cs->fd = fd;
	cs->fn = fn;
	cs->arg = arg;
	cs->timeout_ms = CTLSOCK_TIMEOUT_MS;
	cs->ev_accept = event_new(base, fd, EV_READ | EV_PERSIST,
	    ctlsock_on_accept, cs);
	cs->ev_resume = evtimer_new(base, ctlsock_on_resume, cs);
	if (cs->ev_accept == NULL || cs->ev_resume == NULL)
		fatalx("event_new failed");
	event_add(cs->ev_accept, NULL);
	*cs_r = cs;
	return 0;
fail_unlink:
	*error_r = xasprintf("%s(%s): %s", what, path, strerror(errno));
	(void)unlink(path);
	close(fd);
	return -1;
fail:
	*error_r = xasprintf("%s(%s): %s", what, path, strerror(errno));
	close(fd);
	return -1;
}

/* ctlsock_set_timeout - per-connection request and send timeout */
void
ctlsock_set_timeout(struct ctlsock *cs, uint64_t timeout_ms)
{
	cs->timeout_ms = timeout_ms;
}

/* ctlsock_free - close everything and unlink the socket if still ours */
void
ctlsock_free(struct ctlsock **csp)
{
	struct ctlsock *cs = *csp;
	struct stat st;

	if (cs == NULL)
		return;
	*csp = NULL;
	while (cs->conns != NULL)
		conn_free(cs->conns);
	event_free(cs->ev_accept);
	event_free(cs->ev_resume);
	close(cs->fd);
	/* a newer process may have replaced it: leave that one alone */
	if (lstat(cs->path, &st) == 0 && st.st_dev == cs->dev &&
	    st.st_ino == cs->ino && unlink(cs->path) < 0)
		log_warn("unlink(%s)", cs->path);
	free(cs->path);
	free(cs);
}

/* ctlsock_path - <run_dir>/<name>.sock */
char *
ctlsock_path(const struct conf *conf, const char *name)
{
	return xasprintf("%s/%s.sock", conf_str(conf, "global", "run_dir"),
	    name);
}

/* --- client --- */

/* now_ms - monotonic milliseconds */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* wait_fd - poll fd for events until deadline; 0 ready, -1 (errno) */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd;
	uint64_t now;
	int r;

	for (;;) {
		now = now_ms();
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, deadline - now > 60000 ? 60000 :
		    (int)(deadline - now));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* ctlsock_request - send one request and read the whole reply */
int
ctlsock_request(const char *path, const char *line, uint64_t timeout_ms,
    struct buf *reply, char **error_r)
{
	struct sockaddr_un sun;
	char chunk[CTLSOCK_READ_SIZE], *req;
	size_t reqlen, sent = 0;
	uint64_t deadline;
	ssize_t n;
	int fd, r, saved;

	if (strpbrk(line, "\r\n") != NULL) {
		*error_r = xstrdup("request contains a line end");
		errno = EINVAL;
		return -1;
	}
	if (set_sun(&sun, path) < 0) {
		*error_r = xasprintf("control socket path \"%s\" is empty or "
		    "too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	deadline = now_ms() + timeout_ms;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		saved = errno;
		*error_r = xasprintf("socket: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		saved = errno;
		/* EAGAIN on a Unix socket: the backlog is full */
		*error_r = xasprintf("connect(%s): %s", path,
		    strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	req = xasprintf("%s\n", line);
	reqlen = strlen(req);
	while (sent < reqlen) {
		n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
		if (n >= 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* the daemon may have refused us already: read why */
		if (errno == EPIPE || errno == ECONNRESET)
			break;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
		    wait_fd(fd, POLLOUT, deadline) < 0)
			goto fail_errno;
	}
	for (;;) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == 0)
			break;
		if (n > 0) {
			if (buf_append(reply, chunk, (size_t)n) < 0) {
				*error_r = xasprintf("reply from %s is too "
				    "long", path);
				saved = EMSGSIZE;
				goto fail;
			}
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			break;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
		    wait_fd(fd, POLLIN, deadline) < 0)
			goto fail_errno;
	}
	free(req);
	close(fd);
	r = reply_status(buf_ptr(reply), buf_avail(reply));
	if (r < 0) {
		*error_r = xasprintf("%s: %s", path, buf_avail(reply) == 0 ?
		    "closed without a reply" : "reply does not end in OK or "
		    "ERR");
		errno = EPROTO;
	}
	return r;
fail_errno:
	saved = errno;
	*error_r = xasprintf("%s: %s", path, saved == ETIMEDOUT ?
	    "no answer in time" : strerror(saved));
fail:
	free(req);
	close(fd);
	errno = saved;
	return -1;
}
