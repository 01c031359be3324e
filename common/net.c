/* net.c - listeners, connections, limits and timeouts on the libevent loop */
#include "config.h"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "conf.h"
#include "frame.h"
#include "log.h"
#include "net.h"
#include "str.h"
#include "tls.h"
#include "workers.h"
#include "xmalloc.h"
#include "zstream.h"

#define NET_READ_SIZE		16384	/* one read, and the most input
					 * kept while input is stopped */
#define NET_WRITE_CHUNK		16384
#define NET_READS_PER_EVENT	4	/* fairness between connections */
#define NET_INFLATE_PER_EVENT	(256 * 1024)	/* the same, for what 64 KB
					 * of compressed input can become */
#define NET_ACCEPTS_PER_EVENT	32
#define NET_IP_BUCKETS		1024
#define NET_CLOSE_FLUSH_MS	10000	/* time to send the last words */
#define NET_ACCEPT_PAUSE_MS	1000	/* after EMFILE */

struct net_listener {
	struct net_listener	*next;
	struct net_server	*srv;
	int			 fd;
	bool			 tls;
	int			 tag;		/* the daemon's role */
	char			*unix_path;	/* unlinked when closed */
	struct event		*ev;
	char			*name;
};

/* connections from one address, for the per-IP limit */
struct net_ip {
	struct net_ip		*next;
	unsigned char		 addr[16];
	unsigned int		 count;
};

struct net_server {
	struct event_base	*base;
	struct net_limits	 limits;
	const struct conn_handler *h;
	struct tls_ctx		*tls;
	struct workers		*workers;
	struct net_listener	*listeners;
	struct conn		*conns;
	unsigned int		 nconns;
	struct net_ip		*ips[NET_IP_BUCKETS];
	unsigned long long	 next_id;
	char			 id_prefix[9];
	bool			 draining;
	bool			 accept_paused;
	struct event		*accept_timer;
	struct event		*drain_timer;
	void			*data;		/* the daemon's */
};

struct conn_job {
	struct conn		*c;	/* NULL once the conn is freed */
	conn_job_fn		*job;
	conn_done_fn		*done;
	void			*arg;
	struct buf		 out;
	char			 id[24];
};

struct conn {
	struct conn		*prev, *next;
	struct net_server	*srv;
	int			 fd;
	char			 id[24];
	int			 tag;		/* of the listener */
	char			 peer[INET6_ADDRSTRLEN];
	unsigned char		 addr[16];
	struct event		*ev_read, *ev_write, *ev_timer;
	struct event		*ev_kick;	/* see conn_kick() */
	bool			 read_on, write_on;
	struct tls_session	*tls;
	bool			 handshaking;
	bool			 tls_starting;	/* flushing plain_left first */
	size_t			 plain_left;
	size_t			 send_again;	/* TLS retry length */
	bool			 announced;	/* on_connect was called */
	bool			 paused;
	bool			 closing;
	bool			 destroy;	/* free from the timer */
	bool			 wrote;		/* output since last drain */
	uint64_t		 idle_ms;
	struct frame		 fr;
	struct buf		 in;		/* unframed, input stopped */
	struct buf		 out;
	struct zstream		*zs;		/* COMPRESS=DEFLATE, or NULL */
	bool			 z_switch;	/* the rest is deflated */
	struct buf		 zin;		/* deflated, input stopped */
	struct buf		 wire;		/* deflated (or pre-COMPRESS)
						 * bytes for the socket */
	struct worker_queue	*lane;
	struct conn_job		*job;
	void			*data;
};

static void conn_update_events(struct conn *c);
static void conn_schedule_destroy(struct conn *c);
static void conn_free(struct conn *c, bool force);
static void conn_begin_handshake(struct conn *c);

/* net_limits_default - sensible limits for a small server */
void
net_limits_default(struct net_limits *limits)
{
	memset(limits, 0, sizeof(*limits));
	limits->max_connections = 1000;
	limits->max_connections_per_ip = 50;
	limits->idle_timeout_ms = 30 * 60 * 1000;
	limits->max_line = 8192;
	limits->max_literal = 65536;
	limits->literals = false;
	limits->max_output = 1024 * 1024;
	limits->refuse_line = NULL;
}

/* net_limits_from_conf - the standard limit keys of a daemon's section */
void
net_limits_from_conf(struct net_limits *limits, const struct conf *conf,
    const char *section)
{
	uint64_t v;

	v = conf_uint(conf, section, "max_connections");
	limits->max_connections = v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
	v = conf_uint(conf, section, "max_connections_per_ip");
	limits->max_connections_per_ip = v > UINT32_MAX ? UINT32_MAX :
	    (unsigned)v;
	limits->idle_timeout_ms = conf_duration_ms(conf, section,
	    "idle_timeout");
	v = conf_size(conf, section, "max_line");
	limits->max_line = v < 2 ? 2 : (size_t)v;
}

/* net_ip_hash - bucket of a 16-byte address (FNV-1a) */
static unsigned int
net_ip_hash(const unsigned char *addr)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 16; i++) {
		h ^= addr[i];
		h *= 16777619u;
	}
	return h % NET_IP_BUCKETS;
}

/* net_ip_find - the count record of an address, created if asked */
static struct net_ip *
net_ip_find(struct net_server *srv, const unsigned char *addr, bool create)
{
	struct net_ip *ip;
	unsigned int b;

	b = net_ip_hash(addr);
	for (ip = srv->ips[b]; ip != NULL; ip = ip->next)
		if (memcmp(ip->addr, addr, 16) == 0)
			return ip;
	if (!create)
		return NULL;
	ip = xcalloc(1, sizeof(*ip));
	memcpy(ip->addr, addr, 16);
	ip->next = srv->ips[b];
	srv->ips[b] = ip;
	return ip;
}

/* net_ip_release - one connection of addr is gone */
static void
net_ip_release(struct net_server *srv, const unsigned char *addr)
{
	struct net_ip **pp, *ip;

	for (pp = &srv->ips[net_ip_hash(addr)]; (ip = *pp) != NULL;
	    pp = &ip->next) {
		if (memcmp(ip->addr, addr, 16) != 0)
			continue;
		if (--ip->count == 0) {
			*pp = ip->next;
			free(ip);
		}
		return;
	}
	panic("net: released an address that was not counted");
}

/* net_server_new - a server without listeners yet */
struct net_server *
net_server_new(struct event_base *base, const struct net_limits *limits,
    const struct conn_handler *handler, struct tls_ctx *tls)
{
	struct net_server *srv;
	uint32_t rnd;

	srv = xcalloc(1, sizeof(*srv));
	srv->base = base;
	srv->limits = *limits;
	if (srv->limits.max_line < 2)
		srv->limits.max_line = 2;
	srv->h = handler;
	srv->tls = tls;
	/* the prefix keeps ids unique across restarts in the same log */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	snprintf(srv->id_prefix, sizeof(srv->id_prefix), "%08x", rnd);
	return srv;
}

/* net_server_set_data - attach the daemon's own state */
void
net_server_set_data(struct net_server *srv, void *data)
{
	srv->data = data;
}

/* net_server_data - the daemon's own state */
void *
net_server_data(const struct net_server *srv)
{
	return srv->data;
}

/* net_server_set_workers - the pool for conn_submit() */
void
net_server_set_workers(struct net_server *srv, struct workers *w)
{
	srv->workers = w;
}

/* net_server_free - close everything, calling on_close for sessions */
void
net_server_free(struct net_server **srvp)
{
	struct net_server *srv = *srvp;
	struct net_ip *ip;
	unsigned int i;

	if (srv == NULL)
		return;
	*srvp = NULL;
	net_stop_listening(srv);
	while (srv->conns != NULL)
		conn_free(srv->conns, true);
	for (i = 0; i < NET_IP_BUCKETS; i++) {
		while ((ip = srv->ips[i]) != NULL) {
			srv->ips[i] = ip->next;
			free(ip);
		}
	}
	if (srv->accept_timer != NULL)
		event_free(srv->accept_timer);
	if (srv->drain_timer != NULL)
		event_free(srv->drain_timer);
	free(srv);
}

/* net_conn_count - connections open now */
unsigned int
net_conn_count(const struct net_server *srv)
{
	return srv->nconns;
}

/* net_addr_key - the address as 16 bytes (IPv4 as ::ffff:a.b.c.d) */
static void
net_addr_key(const struct sockaddr_storage *ss, unsigned char *key,
    char *text, size_t textsize)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)ss;
		key[10] = 0xff;
		key[11] = 0xff;
		memcpy(key + 12, &sin->sin_addr, 4);
		if (inet_ntop(AF_INET, &sin->sin_addr, text,
		    (socklen_t)textsize) == NULL)
			str_copy(text, textsize, "?");
	} else if (ss->ss_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)ss;
		memcpy(key, &sin6->sin6_addr, 16);
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, text,
		    (socklen_t)textsize) == NULL)
			str_copy(text, textsize, "?");
	} else {
		str_copy(text, textsize, "local");
	}
}

/* net_refuse - an extra connection: the refusal line, then close */
static void
net_refuse(struct net_server *srv, struct net_listener *l, int fd,
    const char *peer, const char *why)
{
	char line[512];
	int n;

	log_info("%s: refused connection from %s on %s", why, peer, l->name);
	if (!l->tls && srv->limits.refuse_line != NULL) {
		n = snprintf(line, sizeof(line), "%s\r\n",
		    srv->limits.refuse_line);
		/* best effort: a fresh socket's send buffer is empty */
		if (n > 0 && (size_t)n < sizeof(line))
			(void)send(fd, line, (size_t)n,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	close(fd);
}

/* conn_on_read - readable socket, or a kick to frame buffered input */
static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void conn_on_timer(evutil_socket_t fd, short what, void *arg);

/* conn_arm_timer - (re)start the one timer; 0 stops it */
static void
conn_arm_timer(struct conn *c, uint64_t ms)
{
	struct timeval tv;

	if (ms == 0) {
		evtimer_del(c->ev_timer);
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(c->ev_timer, &tv);
}

/* conn_arm_idle - restart the idle timeout of an open connection */
static void
conn_arm_idle(struct conn *c)
{
	if (c->destroy || c->closing || c->handshaking)
		return;
	conn_arm_timer(c, c->idle_ms);
}

/* net_accepted - a new socket: check the limits, make a conn */
static void
net_accepted(struct net_server *srv, struct net_listener *l, int fd,
    const struct sockaddr_storage *ss)
{
	unsigned char key[16];
	char peer[INET6_ADDRSTRLEN];
	struct net_ip *ip;
	struct conn *c;
	int one = 1;

	net_addr_key(ss, key, peer, sizeof(peer));
	if (srv->draining) {
		close(fd);
		return;
	}
	if (srv->limits.max_connections > 0 &&
	    srv->nconns >= srv->limits.max_connections) {
		net_refuse(srv, l, fd, peer, "max_connections reached");
		return;
	}
	ip = net_ip_find(srv, key, false);
	/* a Unix socket's peers all look alike: no per-IP limit there */
	if (l->unix_path == NULL &&
	    srv->limits.max_connections_per_ip > 0 && ip != NULL &&
	    ip->count >= srv->limits.max_connections_per_ip) {
		net_refuse(srv, l, fd, peer, "max_connections_per_ip reached");
		return;
	}
	if (ip == NULL)
		ip = net_ip_find(srv, key, true);
	ip->count++;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->fd = fd;
	c->tag = l->tag;
	memcpy(c->addr, key, 16);
	str_copy(c->peer, sizeof(c->peer), peer);
	snprintf(c->id, sizeof(c->id), "%s%llx", srv->id_prefix,
	    ++srv->next_id);
	c->ev_read = event_new(srv->base, fd, EV_READ | EV_PERSIST,
	    conn_on_read, c);
	c->ev_write = event_new(srv->base, fd, EV_WRITE | EV_PERSIST,
	    conn_on_write, c);
	c->ev_timer = evtimer_new(srv->base, conn_on_timer, c);
	c->ev_kick = event_new(srv->base, -1, 0, conn_on_read, c);
	if (c->ev_read == NULL || c->ev_write == NULL || c->ev_timer == NULL ||
	    c->ev_kick == NULL)
		fatalx("event_new failed");
	c->idle_ms = srv->limits.idle_timeout_ms;
	frame_init(&c->fr, srv->limits.max_line, srv->limits.max_literal,
	    srv->limits.literals);
	buf_init(&c->in, NET_READ_SIZE);
	buf_init(&c->out, srv->limits.max_output);
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;

	log_set_session(c->id);
	log_info("connect from %s on %s%s", peer, l->name,
	    l->tls ? " (TLS)" : "");
	if (l->tls) {
		conn_begin_handshake(c);
	} else {
		c->announced = true;
		if (srv->h->on_connect != NULL)
			srv->h->on_connect(c);
		conn_arm_idle(c);
		conn_update_events(c);
	}
	log_set_session(NULL);
}

/* net_on_accept_timer - EMFILE back-off is over: accept again */
static void
net_on_accept_timer(evutil_socket_t fd, short what, void *arg)
{
	struct net_server *srv = arg;
	struct net_listener *l;

	srv->accept_paused = false;
	for (l = srv->listeners; l != NULL; l = l->next)
		event_add(l->ev, NULL);
}

/* net_pause_accept - out of descriptors: stop accepting for a while */
static void
net_pause_accept(struct net_server *srv)
{
	struct net_listener *l;
	struct timeval tv = { NET_ACCEPT_PAUSE_MS / 1000,
	    (NET_ACCEPT_PAUSE_MS % 1000) * 1000 };

	if (srv->accept_paused)
		return;
	srv->accept_paused = true;
	for (l = srv->listeners; l != NULL; l = l->next)
		event_del(l->ev);
	if (srv->accept_timer == NULL)
		srv->accept_timer = evtimer_new(srv->base,
		    net_on_accept_timer, srv);
	evtimer_add(srv->accept_timer, &tv);
}

/* net_on_accept - a listener is readable: take the waiting connections */
static void
net_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct net_listener *l = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, i;

	for (i = 0; i < NET_ACCEPTS_PER_EVENT; i++) {
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				return;
			log_warn("accept(%s)", l->name);
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				net_pause_accept(l->srv);
			return;
		}
		net_accepted(l->srv, l, fd, &ss);
		if (l->srv->listeners == NULL)
			return;		/* a callback stopped listening */
	}
}

/* net_listen_addr - one listening socket on a resolved address */
static int
net_listen_addr(struct net_server *srv, const struct sockaddr *sa,
    socklen_t salen, bool tls, int tag, const char *name, char **error_r)
{
	struct net_listener *l;
	int fd, one = 1;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		*error_r = xasprintf("socket for %s: %s", name,
		    strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "*" binds IPv4 and IPv6 separately, so keep IPv6 to itself */
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, sa, salen) < 0 || listen(fd, 1024) < 0) {
		*error_r = xasprintf("listen on %s: %s", name,
		    strerror(errno));
		close(fd);
		return -1;
	}
	/* a Unix socket: for the daemon's own group, as Postfix's are */
	if (sa->sa_family == AF_UNIX && chmod(name, 0660) < 0) {
		*error_r = xasprintf("chmod(%s): %s", name, strerror(errno));
		close(fd);
		(void)unlink(name);
		return -1;
	}
	l = xcalloc(1, sizeof(*l));
	l->srv = srv;
	l->fd = fd;
	l->tls = tls;
	l->tag = tag;
	if (sa->sa_family == AF_UNIX)
		l->unix_path = xstrdup(name);
	l->name = xstrdup(name);
	l->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, net_on_accept,
	    l);
	if (l->ev == NULL)
		fatalx("event_new failed");
	if (!srv->accept_paused)
		event_add(l->ev, NULL);
	l->next = srv->listeners;
	srv->listeners = l;
	return 0;
}

/* net_listen_host - resolve a numeric host and port and listen */
static int
net_listen_host(struct net_server *srv, const char *host, const char *port,
    bool tls, int tag, const char *name, char **error_r)
{
	struct addrinfo hints, *res;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		*error_r = xasprintf("listen address %s: %s", name,
		    gai_strerror(r));
		return -1;
	}
	r = net_listen_addr(srv, res->ai_addr, res->ai_addrlen, tls, tag,
	    name, error_r);
	freeaddrinfo(res);
	return r;
}

/*
 * net_listen_unix - a Unix stream socket at path.  A socket file left by a
 * previous run is removed only when nobody answers on it, so a second
 * daemon cannot steal a running one's socket.
 */
static int
net_listen_unix(struct net_server *srv, const char *path, bool tls, int tag,
    char **error_r)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) < 0) {
		*error_r = xasprintf("listen on %s: path too long", path);
		return -1;
	}
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			*error_r = xasprintf("listen on %s: exists and is not "
			    "a socket", path);
			return -1;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(fd);
			*error_r = xasprintf("listen on %s: a server is "
			    "already answering there", path);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		if (unlink(path) < 0) {
			*error_r = xasprintf("unlink(%s): %s", path,
			    strerror(errno));
			return -1;
		}
	}
	return net_listen_addr(srv, (struct sockaddr *)&sun, sizeof(sun), tls,
	    tag, path, error_r);
}

/* net_listen - listen on "host:port", "[v6]:port" or "*:port" */
int
net_listen(struct net_server *srv, const char *addr, bool tls,
    char **error_r)
{
	return net_listen_tag(srv, addr, tls, 0, error_r);
}

/* net_listen_tag - listen, marking the connections with the role tag */
int
net_listen_tag(struct net_server *srv, const char *addr, bool tls, int tag,
    char **error_r)
{
	char *copy, *host, *port, *end;
	char *error6 = NULL;
	uint64_t n;
	int r;

	if (tls && srv->tls == NULL) {
		*error_r = xasprintf("listen on %s: TLS is not configured",
		    addr);
		return -1;
	}
	if (addr[0] == '/')
		return net_listen_unix(srv, addr, tls, tag, error_r);
	copy = xstrdup(addr);
	host = copy;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (end == NULL || end[1] != ':')
			goto bad;
		*end = '\0';
		host++;
		port = end + 2;
	} else {
		port = strrchr(host, ':');
		if (port == NULL || strchr(host, ':') != port)
			goto bad;
		*port++ = '\0';
	}
	if (*host == '\0' || str_to_u64(port, 1, 65535, &n) < 0)
		goto bad;
	if (strcmp(host, "*") == 0) {
		r = net_listen_host(srv, "0.0.0.0", port, tls, tag, addr,
		    error_r);
		if (r == 0 && net_listen_host(srv, "::", port, tls, tag, addr,
		    &error6) < 0) {
			/* a host without IPv6 still serves IPv4 */
			log_debug("%s", error6);
			free(error6);
		}
	} else {
		r = net_listen_host(srv, host, port, tls, tag, addr, error_r);
	}
	free(copy);
	return r;
bad:
	free(copy);
	*error_r = xasprintf("listen address \"%s\": want HOST:PORT, "
	    "[IPV6]:PORT, *:PORT or /PATH", addr);
	return -1;
}

/* net_listen_from_conf - the section's listen and listen_tls addresses */
int
net_listen_from_conf(struct net_server *srv, const struct conf *conf,
    const char *section, char **error_r)
{
	const char *const *addrs;
	size_t i, n;

	addrs = conf_list(conf, section, "listen", &n);
	for (i = 0; i < n; i++)
		if (net_listen(srv, addrs[i], false, error_r) < 0)
			return -1;
	addrs = conf_list(conf, section, "listen_tls", &n);
	for (i = 0; i < n; i++)
		if (net_listen(srv, addrs[i], true, error_r) < 0)
			return -1;
	return 0;
}

/* net_stop_listening - close every listening socket */
void
net_stop_listening(struct net_server *srv)
{
	struct net_listener *l;

	while ((l = srv->listeners) != NULL) {
		srv->listeners = l->next;
		event_free(l->ev);
		close(l->fd);
		if (l->unix_path != NULL && unlink(l->unix_path) < 0 &&
		    errno != ENOENT)
			log_warn("unlink(%s)", l->unix_path);
		free(l->unix_path);
		free(l->name);
		free(l);
	}
}

/* net_on_drain_timer - shutdown_timeout passed: leave the loop anyway */
static void
net_on_drain_timer(evutil_socket_t fd, short what, void *arg)
{
	struct net_server *srv = arg;

	log_info("shutdown: %u connections still open, leaving", srv->nconns);
	event_base_loopexit(srv->base, NULL);
}

/* net_shutdown - stop accepting, ask every session to finish */
void
net_shutdown(struct net_server *srv, uint64_t timeout_ms)
{
	struct conn *c;
	struct timeval tv;

	srv->draining = true;
	net_stop_listening(srv);
	for (c = srv->conns; c != NULL; c = c->next) {
		if (c->destroy || c->closing)
			continue;
		log_set_session(c->id);
		if (c->announced && srv->h->on_shutdown != NULL)
			srv->h->on_shutdown(c);
		else
			conn_close(c);
		log_set_session(NULL);
	}
	if (srv->nconns == 0) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	if (srv->drain_timer == NULL)
		srv->drain_timer = evtimer_new(srv->base, net_on_drain_timer,
		    srv);
	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	evtimer_add(srv->drain_timer, &tv);
}

/* conn_input_stopped - whether framing must wait */
static bool
conn_input_stopped(const struct conn *c)
{
	return c->paused || c->closing || c->destroy || c->tls_starting ||
	    c->handshaking || c->job != NULL || frame_waiting(&c->fr);
}

/* conn_set_read - add or remove the read event */
static void
conn_set_read(struct conn *c, bool on)
{
	if (on == c->read_on)
		return;
	c->read_on = on;
	if (on)
		event_add(c->ev_read, NULL);
	else
		event_del(c->ev_read);
}

/* conn_set_write - add or remove the write event */
static void
conn_set_write(struct conn *c, bool on)
{
	if (on == c->write_on)
		return;
	c->write_on = on;
	if (on)
		event_add(c->ev_write, NULL);
	else
		event_del(c->ev_write);
}

/* conn_update_events - wait for what the connection needs next */
static void
conn_update_events(struct conn *c)
{
	bool tls_w;

	if (c->destroy) {
		conn_set_read(c, false);
		conn_set_write(c, false);
		return;
	}
	if (c->handshaking) {
		tls_w = tls_want_write(c->tls);
		conn_set_read(c, !tls_w);
		conn_set_write(c, tls_w);
		return;
	}
	conn_set_read(c, !conn_input_stopped(c));
	conn_set_write(c, conn_output_pending(c) > 0);
}

/*
 * conn_kick - frame buffered input again soon (resume, literal answer)
 *
 * A separate event, because libevent's event_add() on an event that is
 * active but not added skips registering the fd, and the read event would
 * then never fire again.
 */
static void
conn_kick(struct conn *c)
{
	if (c->destroy)
		return;
	event_active(c->ev_kick, EV_READ, 0);
}

/* conn_schedule_destroy - free the conn from the loop, not from here */
static void
conn_schedule_destroy(struct conn *c)
{
	struct timeval tv = { 0, 0 };

	if (c->destroy)
		return;
	c->destroy = true;
	conn_update_events(c);
	evtimer_add(c->ev_timer, &tv);
}

/* conn_free - unlink, say on_close, release everything */
static void
conn_free(struct conn *c, bool force)
{
	struct net_server *srv = c->srv;

	if (c->job != NULL) {
		if (!force)
			return;		/* the job's completion frees us */
		c->job->c = NULL;
		c->job = NULL;
	}
	log_set_session(c->id);
	if (c->announced && srv->h->on_close != NULL)
		srv->h->on_close(c);
	log_info("disconnected");
	log_set_session(NULL);
	worker_queue_free(&c->lane);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	net_ip_release(srv, c->addr);
	if (c->tls != NULL) {
		if (!c->handshaking)
			tls_bye(c->tls);
		tls_session_free(&c->tls);
	}
	close(c->fd);
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_timer);
	event_free(c->ev_kick);
	frame_deinit(&c->fr);
	buf_deinit(&c->in);
	buf_deinit(&c->out);
	zstream_free(&c->zs);
	buf_deinit(&c->zin);
	buf_deinit(&c->wire);
	free(c);
	if (srv->draining && srv->nconns == 0)
		event_base_loopexit(srv->base, NULL);
}

/* conn_buf_release - give an empty buffer's memory back, keep its ceiling */
static void
conn_buf_release(struct buf *b)
{
	size_t max = b->max;

	buf_deinit(b);
	buf_init(b, max);
}

/* conn_recv - plain or TLS read; TLS_AGAIN when nothing is there */
static ssize_t
conn_recv(struct conn *c, void *p, size_t n)
{
	const char *error;
	ssize_t r;

	if (c->tls != NULL) {
		r = tls_recv(c->tls, p, n, &error);
		if (r == -1)
			log_debug("TLS read: %s", error);
		return r;
	}
	r = recv(c->fd, p, n, 0);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return TLS_AGAIN;
		log_debug("recv: %s", strerror(errno));
		return -1;
	}
	return r;
}

/* conn_send - plain or TLS write; TLS_AGAIN when the socket is full */
static ssize_t
conn_send(struct conn *c, const void *p, size_t n)
{
	const char *error;
	ssize_t r;

	if (c->tls != NULL) {
		r = tls_send(c->tls, p, n, &error);
		if (r == -1)
			log_debug("TLS write: %s", error);
		return r;
	}
	r = send(c->fd, p, n, MSG_NOSIGNAL);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return TLS_AGAIN;
		log_debug("send: %s", strerror(errno));
		return -1;
	}
	return r;
}

/* conn_frame - frame data into events for the handler; bytes taken */
static size_t
conn_frame(struct conn *c, const char *data, size_t len)
{
	struct frame_item item;
	enum frame_event ev;
	size_t off = 0, used;

	for (;;) {
		/* z_switch: the rest is compressed (conn_input_buffered) */
		if (conn_input_stopped(c) || c->z_switch)
			return off;
		ev = frame_feed(&c->fr, data + off, len - off, &used, &item);
		off += used;
		if (ev == FRAME_MORE || ev == FRAME_WAIT)
			return off;
		if (c->srv->h->on_input != NULL)
			c->srv->h->on_input(c, ev, &item);
	}
}

/*
 * conn_inflate - decompress z[0..len) and frame the result; returns the
 * compressed bytes taken.  Stops with the input, or when *budget bytes
 * were decompressed (deflate expands up to 1032 times: one read must not
 * keep the loop from other connections for long): then the decompressed
 * bytes not framed yet are kept in c->in (at most one chunk), and zlib
 * may hold more it has decoded already, which the next call (with no
 * new input, if need be) brings out.
 */
static size_t
conn_inflate(struct conn *c, const char *z, size_t len, size_t *budget)
{
	static char pbuf[NET_READ_SIZE];	/* loop thread only */
	const char *error;
	size_t off = 0, used, made, framed;

	while (!conn_input_stopped(c) && *budget > 0) {
		if (zstream_inflate(c->zs, z + off, len - off, &used, pbuf,
		    sizeof(pbuf), &made, &error) < 0) {
			log_warnx("COMPRESS: bad compressed input from %s, "
			    "closing: %s", c->peer, error);
			conn_schedule_destroy(c);
			return len;
		}
		off += used;
		if (made == 0)
			break;		/* every byte taken: wait for more */
		*budget -= made < *budget ? made : *budget;
		framed = conn_frame(c, pbuf, made);
		if (framed < made) {
			/* input stopped: keep the rest (< NET_READ_SIZE) */
			if (buf_append(&c->in, pbuf + framed,
			    made - framed) < 0)
				panic("net: leftover input over its ceiling");
			break;
		}
	}
	return off;
}

/*
 * conn_input_buffered - frame what was kept while input was stopped:
 * decompressed (or plain) bytes in c->in first, then compressed ones in
 * c->zin.  Right after conn_start_compress() the bytes in c->in came in
 * after the COMPRESS command, so they are compressed: they move to zin.
 */
static void
conn_input_buffered(struct conn *c, size_t *budget)
{
	size_t used;

	/* also with nothing buffered: a literal's end is an event of its
	 * own that may be pending */
	used = conn_frame(c, buf_ptr(&c->in), buf_avail(&c->in));
	buf_consume(&c->in, used);
	if (c->z_switch) {
		c->z_switch = false;
		if (buf_avail(&c->in) > 0 && buf_append(&c->zin,
		    buf_ptr(&c->in), buf_avail(&c->in)) < 0)
			panic("net: leftover input over its ceiling");
		buf_reset(&c->in);
	}
	/* with nothing in zin too: zlib may hold decoded bytes */
	if (c->zs != NULL && buf_avail(&c->in) == 0) {
		used = conn_inflate(c, buf_ptr(&c->zin), buf_avail(&c->zin),
		    budget);
		buf_consume(&c->zin, used);
		if (buf_avail(&c->zin) == 0)
			conn_buf_release(&c->zin);
	}
	if (buf_avail(&c->in) == 0)
		conn_buf_release(&c->in);
}

/* conn_input - frame what is buffered, then read while allowed */
static void
conn_input(struct conn *c)
{
	static char rbuf[NET_READ_SIZE];	/* loop thread only */
	size_t used, budget = NET_INFLATE_PER_EVENT;
	ssize_t n;
	int i;

	conn_input_buffered(c, &budget);
	for (i = 0; i < NET_READS_PER_EVENT; i++) {
		if (conn_input_stopped(c) || buf_avail(&c->in) > 0 ||
		    buf_avail(&c->zin) > 0 || budget == 0)
			break;
		n = conn_recv(c, rbuf, sizeof(rbuf));
		if (n == TLS_AGAIN)
			break;
		if (n == 0) {
			log_debug("end of input");
			conn_close(c);
			break;
		}
		if (n < 0) {
			conn_schedule_destroy(c);
			break;
		}
		conn_arm_idle(c);
		if (c->zs != NULL) {
			used = conn_inflate(c, rbuf, (size_t)n, &budget);
			/* stopped: keep the rest (< NET_READ_SIZE bytes) */
			if (used < (size_t)n && buf_append(&c->zin,
			    rbuf + used, (size_t)n - used) < 0)
				panic("net: leftover input over its ceiling");
			continue;
		}
		used = conn_frame(c, rbuf, (size_t)n);
		/* input stopped: keep the rest (< NET_READ_SIZE bytes) */
		if (used < (size_t)n && buf_append(&c->in, rbuf + used,
		    (size_t)n - used) < 0)
			panic("net: leftover input over its ceiling");
		if (c->z_switch)	/* the rest is compressed */
			conn_input_buffered(c, &budget);
	}
	if (c->tls_starting && buf_avail(&c->in) > 0) {
		/* CVE-2011-0411: nothing sent in plaintext after STARTTLS
		 * may be taken as said under TLS */
		log_info("STARTTLS: discarding %zu bytes of plaintext input",
		    buf_avail(&c->in));
		conn_buf_release(&c->in);
	}
	if (!conn_input_stopped(c) && (i == NET_READS_PER_EVENT ||
	    budget == 0 || (c->tls != NULL && tls_pending(c->tls) > 0)))
		conn_kick(c);	/* more is waiting; let others run first */
	frame_shrink(&c->fr);
	conn_update_events(c);
}

/* conn_handshake - one step of a TLS handshake */
static void
conn_handshake(struct conn *c)
{
	const struct conn_handler *h = c->srv->h;
	const char *error;
	int r;

	r = tls_handshake(c->tls, &error);
	if (r == TLS_AGAIN) {
		conn_update_events(c);
		return;
	}
	if (r < 0) {
		log_info("TLS handshake with %s failed: %s", c->peer, error);
		conn_schedule_destroy(c);
		return;
	}
	c->handshaking = false;
	log_info("TLS established: %s, %s", tls_version(c->tls),
	    tls_cipher(c->tls));
	conn_arm_idle(c);
	if (!c->announced) {
		c->announced = true;
		if (h->on_connect != NULL)
			h->on_connect(c);
	} else if (h->on_tls_ready != NULL) {
		h->on_tls_ready(c);
	}
	if (!conn_input_stopped(c))
		conn_kick(c);	/* the client may have written already */
	conn_update_events(c);
}

/* conn_begin_handshake - put a TLS session on the socket */
static void
conn_begin_handshake(struct conn *c)
{
	c->tls_starting = false;
	c->handshaking = true;
	c->tls = tls_session_new(c->srv->tls, c->fd);
	conn_arm_timer(c, tls_ctx_handshake_timeout_ms(c->srv->tls));
	conn_handshake(c);
}

/*
 * conn_flush_deflate - compress queued output and send it; -1 when it
 * can not go on now (the socket is full, or the connection is dying).
 *
 * Plaintext is compressed a chunk at a time, and only once the previous
 * chunk's output has left, so that a client that does not read leaves its
 * output as plaintext in c->out, where conn_write() applies max_output,
 * and c->wire never holds more than one chunk's worth.  The chunk that
 * empties c->out is flushed (Z_SYNC_FLUSH): whenever everything queued
 * has been handed to the socket, the client can decode all of it.  Writes
 * queued between two flushes share one sync marker, not one each.
 */
static int
conn_flush_deflate(struct conn *c)
{
	const char *error;
	size_t len;
	ssize_t n;
	bool last;

	for (;;) {
		if (buf_avail(&c->wire) == 0) {
			len = buf_avail(&c->out);
			if (len == 0)
				return 0;
			last = len <= NET_WRITE_CHUNK;
			if (!last)
				len = NET_WRITE_CHUNK;
			if (zstream_deflate(c->zs, buf_ptr(&c->out), len, last,
			    &c->wire, &error) < 0) {
				log_warnx("COMPRESS: %s, closing", error);
				conn_schedule_destroy(c);
				return -1;
			}
			buf_consume(&c->out, len);
			continue;	/* without a flush it may be empty */
		}
		len = buf_avail(&c->wire);
		if (len > NET_WRITE_CHUNK)
			len = NET_WRITE_CHUNK;
		if (c->send_again > 0)
			len = c->send_again;	/* gnutls wants the same */
		n = conn_send(c, buf_ptr(&c->wire), len);
		if (n == TLS_AGAIN) {
			c->send_again = c->tls != NULL ? len : 0;
			conn_update_events(c);
			return -1;
		}
		c->send_again = 0;
		if (n < 0) {
			conn_schedule_destroy(c);
			return -1;
		}
		buf_consume(&c->wire, (size_t)n);
	}
}

/* conn_flush - send queued output; then drain, close or start TLS */
static void
conn_flush(struct conn *c)
{
	size_t len;
	ssize_t n;

	if (c->zs != NULL) {
		if (conn_flush_deflate(c) < 0)
			return;
		if (buf_avail(&c->wire) == 0)
			conn_buf_release(&c->wire);
	}
	while (buf_avail(&c->out) > 0 &&
	    !(c->tls_starting && c->plain_left == 0)) {
		len = buf_avail(&c->out);
		if (len > NET_WRITE_CHUNK)
			len = NET_WRITE_CHUNK;
		if (c->tls_starting && len > c->plain_left)
			len = c->plain_left;
		if (c->send_again > 0)
			len = c->send_again;	/* gnutls wants the same */
		n = conn_send(c, buf_ptr(&c->out), len);
		if (n == TLS_AGAIN) {
			c->send_again = c->tls != NULL ? len : 0;
			conn_update_events(c);
			return;
		}
		c->send_again = 0;
		if (n < 0) {
			conn_schedule_destroy(c);
			return;
		}
		buf_consume(&c->out, (size_t)n);
		if (c->tls_starting)
			c->plain_left -= (size_t)n;
	}
	if (buf_avail(&c->out) == 0)
		conn_buf_release(&c->out);	/* idle: hold no buffer */
	if (c->closing) {
		if (conn_output_pending(c) == 0)
			conn_schedule_destroy(c);
		return;
	}
	if (c->tls_starting) {
		conn_begin_handshake(c);
		return;
	}
	conn_update_events(c);
	if (c->wrote && conn_output_pending(c) == 0) {
		c->wrote = false;
		if (c->srv->h->on_drained != NULL)
			c->srv->h->on_drained(c);
	}
}

/* conn_on_read - libevent: readable, or kicked */
static void
conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->destroy)
		return;
	log_set_session(c->id);
	if (c->handshaking)
		conn_handshake(c);
	else if (!c->tls_starting)
		conn_input(c);
	log_set_session(NULL);
}

/* conn_on_write - libevent: writable */
static void
conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->destroy)
		return;
	log_set_session(c->id);
	if (c->handshaking)
		conn_handshake(c);
	else
		conn_flush(c);
	log_set_session(NULL);
}

/* conn_on_timer - destroy, or a handshake, flush or idle timeout */
static void
conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	const struct conn_handler *h = c->srv->h;

	if (c->destroy) {
		conn_free(c, false);
		return;
	}
	log_set_session(c->id);
	if (c->handshaking) {
		log_info("TLS handshake with %s timed out", c->peer);
		conn_schedule_destroy(c);
	} else if (c->closing) {
		log_info("closing: the client does not read its replies");
		conn_schedule_destroy(c);
	} else if (c->job != NULL) {
		conn_arm_idle(c);	/* our slowness is not its idleness */
	} else {
		log_info("idle timeout");
		if (h->on_timeout != NULL)
			h->on_timeout(c);
		else
			conn_close(c);
		conn_arm_idle(c);
	}
	log_set_session(NULL);
}

/* conn_set_data - attach the session's own state */
void
conn_set_data(struct conn *c, void *data)
{
	c->data = data;
}

/* conn_data - the session's own state */
void *
conn_data(const struct conn *c)
{
	return c->data;
}

/* conn_server - the server the connection came in on */
struct net_server *
conn_server(const struct conn *c)
{
	return c->srv;
}

/* conn_id - the session id, also used in log lines */
const char *
conn_id(const struct conn *c)
{
	return c->id;
}

/* conn_listener_tag - the tag of the listener the connection came in on */
int
conn_listener_tag(const struct conn *c)
{
	return c->tag;
}

/* conn_peer - the client's address as text */
const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

/* conn_write - queue output; on overflow close the connection */
int
conn_write(struct conn *c, const void *p, size_t n)
{
	if (c->destroy)
		return -1;
	if (buf_append(&c->out, p, n) < 0) {
		log_warnx("output over %zu bytes, client does not read: closing",
		    c->srv->limits.max_output);
		conn_buf_release(&c->out);
		conn_schedule_destroy(c);
		return -1;
	}
	c->wrote = true;
	if (!c->handshaking)
		conn_set_write(c, true);
	return 0;
}

/* conn_printf - queue formatted output */
int
conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (c->destroy)
		return -1;
	va_start(ap, fmt);
	r = buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (r < 0) {
		log_warnx("output over %zu bytes, client does not read: closing",
		    c->srv->limits.max_output);
		conn_buf_release(&c->out);
		conn_schedule_destroy(c);
		return -1;
	}
	c->wrote = true;
	if (!c->handshaking)
		conn_set_write(c, true);
	return 0;
}

/* conn_output_pending - bytes not yet sent (see net.h with COMPRESS) */
size_t
conn_output_pending(const struct conn *c)
{
	return buf_avail(&c->out) + buf_avail(&c->wire);
}

/* conn_close - send what is queued, then close */
void
conn_close(struct conn *c)
{
	if (c->closing || c->destroy)
		return;
	c->closing = true;
	if (conn_output_pending(c) == 0 || c->handshaking) {
		conn_schedule_destroy(c);
		return;
	}
	conn_arm_timer(c, NET_CLOSE_FLUSH_MS);
	conn_update_events(c);
}

/* conn_closing - whether the connection is on its way out */
bool
conn_closing(const struct conn *c)
{
	return c->closing || c->destroy;
}

/* conn_pause_input - stop reading and framing input */
void
conn_pause_input(struct conn *c)
{
	c->paused = true;
	conn_update_events(c);
}

/* conn_resume_input - read and frame again, buffered input first */
void
conn_resume_input(struct conn *c)
{
	c->paused = false;
	if (!conn_input_stopped(c))
		conn_kick(c);
}

/* conn_literal_accept - read the announced sync literal */
void
conn_literal_accept(struct conn *c)
{
	frame_literal_accept(&c->fr);
	conn_kick(c);
}

/* conn_literal_refuse - the client will not send the literal */
void
conn_literal_refuse(struct conn *c)
{
	frame_literal_refuse(&c->fr);
	conn_kick(c);
}

/* conn_set_max_line - the line ceiling from the next line on */
void
conn_set_max_line(struct conn *c, size_t max_line)
{
	frame_set_max_line(&c->fr, max_line < 2 ? 2 : max_line);
}

/* conn_read_raw - the next n input bytes are data, not lines */
void
conn_read_raw(struct conn *c, uint64_t n)
{
	frame_read_raw(&c->fr, n);
	if (!conn_input_stopped(c))
		conn_kick(c);	/* n = 0 ends at once, with no input */
}

/* conn_set_idle_timeout - a new idle timeout, counted from now */
void
conn_set_idle_timeout(struct conn *c, uint64_t ms)
{
	c->idle_ms = ms;
	conn_arm_idle(c);
}

/* conn_start_tls - STARTTLS: flush the reply, then handshake */
int
conn_start_tls(struct conn *c, const char **error_r)
{
	if (c->srv->tls == NULL) {
		*error_r = "TLS is not configured";
		return -1;
	}
	if (c->tls != NULL || c->tls_starting) {
		*error_r = "TLS is already active";
		return -1;
	}
	if (c->zs != NULL) {
		/* TLS would have to go under the compression, mid-stream */
		*error_r = "compression is active";
		return -1;
	}
	if (c->closing || c->destroy) {
		*error_r = "connection is closing";
		return -1;
	}
	c->tls_starting = true;
	c->plain_left = buf_avail(&c->out);
	/* the bytes after the STARTTLS line are dropped by conn_input() */
	frame_reset(&c->fr);
	conn_update_events(c);
	if (c->plain_left == 0)
		conn_set_write(c, true);	/* conn_flush starts it */
	return 0;
}

/* conn_is_tls - whether TLS is up (or being set up) */
bool
conn_is_tls(const struct conn *c)
{
	return c->tls != NULL;
}

/* conn_tls_version - "TLS1.3", or NULL without TLS */
const char *
conn_tls_version(const struct conn *c)
{
	return c->tls != NULL && !c->handshaking ? tls_version(c->tls) : NULL;
}

/* conn_tls_cipher - "AES-256-GCM", or NULL without TLS */
const char *
conn_tls_cipher(const struct conn *c)
{
	return c->tls != NULL && !c->handshaking ? tls_cipher(c->tls) : NULL;
}

/* conn_start_compress - COMPRESS=DEFLATE after the queued reply */
int
conn_start_compress(struct conn *c, const char **error_r)
{
	if (c->zs != NULL) {
		*error_r = "compression is already active";
		return -1;
	}
	if (c->tls_starting || c->handshaking) {
		*error_r = "TLS negotiation is in progress";
		return -1;
	}
	if (c->closing || c->destroy) {
		*error_r = "connection is closing";
		return -1;
	}
	if (!frame_idle(&c->fr)) {
		/* a partial line or a literal: raw bytes already framed */
		*error_r = "input is in the middle of a command";
		return -1;
	}
	c->zs = zstream_new();
	buf_init(&c->zin, NET_READ_SIZE);
	/*
	 * What is queued (the OK) is sent as it is: it moves to the wire
	 * buffer, which conn_flush_deflate() sends before compressing
	 * anything.  Its length stays the same, for a TLS retry (send_again).
	 */
	buf_init(&c->wire, 0);
	if (buf_avail(&c->out) > 0 && buf_append(&c->wire, buf_ptr(&c->out),
	    buf_avail(&c->out)) < 0)
		panic("net: unbounded buffer over its ceiling");
	conn_buf_release(&c->out);
	/* bytes after the command are compressed: conn_frame() stops at
	 * z_switch and conn_input_buffered() moves them to zin */
	c->z_switch = true;
	log_info("COMPRESS=DEFLATE started");
	if (!conn_input_stopped(c))
		conn_kick(c);	/* bytes may be waiting in c->in */
	conn_update_events(c);
	return 0;
}

/* conn_is_compressed - whether COMPRESS=DEFLATE is on */
bool
conn_is_compressed(const struct conn *c)
{
	return c->zs != NULL;
}

/* conn_job_run - in a worker thread: the handler's blocking part */
static void
conn_job_run(void *arg)
{
	struct conn_job *j = arg;

	log_set_session(j->id);
	j->job(j->arg, &j->out);
	log_set_session(NULL);
}

/* conn_job_done - on the loop: queue the reply, resume input */
static void
conn_job_done(void *arg, bool cancelled)
{
	struct conn_job *j = arg;
	struct conn *c = j->c;

	if (c == NULL || cancelled) {
		j->done(NULL, j->arg, true);
		if (c != NULL) {
			c->job = NULL;
			conn_schedule_destroy(c);
		}
		buf_deinit(&j->out);
		free(j);
		return;
	}
	c->job = NULL;
	log_set_session(c->id);
	if (buf_avail(&j->out) > 0)
		(void)conn_write(c, buf_ptr(&j->out), buf_avail(&j->out));
	buf_deinit(&j->out);
	j->done(c, j->arg, false);
	free(j);
	log_set_session(NULL);
	if (c->destroy) {
		conn_free(c, false);
		return;
	}
	conn_arm_idle(c);
	if (!conn_input_stopped(c))
		conn_kick(c);
	conn_update_events(c);
}

/* conn_submit - run job in the pool with input paused */
void
conn_submit(struct conn *c, conn_job_fn *job, conn_done_fn *done, void *arg)
{
	struct conn_job *j;

	if (c->job != NULL)
		panic("conn_submit: a job is already running");
	if (c->srv->workers == NULL)
		panic("conn_submit: no worker pool");
	if (c->lane == NULL)
		c->lane = worker_queue_new(c->srv->workers);
	j = xcalloc(1, sizeof(*j));
	j->c = c;
	j->job = job;
	j->done = done;
	j->arg = arg;
	buf_init(&j->out, 0);
	str_copy(j->id, sizeof(j->id), c->id);
	c->job = j;
	conn_update_events(c);
	worker_queue_submit(c->lane, conn_job_run, conn_job_done, j);
}

/* conn_job_running - whether a job of this connection is in the pool */
bool
conn_job_running(const struct conn *c)
{
	return c->job != NULL;
}
