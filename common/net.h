/*
 * net - listeners, connections and their limits on the libevent loop
 *
 * A net_server owns its listening sockets and every connection accepted
 * on them.  A connection (struct conn, functions conn_*) owns its socket,
 * its TLS session, a framer (frame.h) and two bounded buffers.  Protocol
 * code never touches a socket: it gets events through a conn_handler and
 * writes replies with conn_write()/conn_printf().  Everything here runs
 * on the loop thread; the only way to run code elsewhere is
 * conn_submit(), which hands a job to the worker pool (workers.h).
 *
 * Events, each run with log_set_session(conn id) around it:
 *   on_connect   the connection is ready for a greeting (after the
 *                handshake on an implicit-TLS listener)
 *   on_input     a framed input event (FRAME_LINE, FRAME_LINE_TOO_LONG,
 *                FRAME_LITERAL_DATA, FRAME_LITERAL_END), see frame.h
 *   on_tls_ready a conn_start_tls() handshake has completed
 *   on_drained   the output buffer has been sent completely
 *   on_timeout   no input for the idle timeout (default: close)
 *   on_shutdown  net_shutdown() asks the session to say goodbye and
 *                conn_close() (default: just close)
 *   on_close     the connection is going away; release conn_data().
 *                Only for connections that got on_connect.
 * A handler may call conn_close() in any callback; the conn is freed
 * later from the loop, never under a callback's feet.
 *
 * Input: after each event the next one is framed at once, unless the
 * handler paused input (conn_pause_input()), has a job running
 * (conn_submit()), is closing, started TLS, or a sync literal waits for
 * conn_literal_accept()/conn_literal_refuse().  While input is stopped
 * the socket is not read, so a client can not make us buffer more than
 * one read (16 KB) beyond the current event.
 *
 * Memory per idle connection: the conn itself, its four events and,
 * with TLS, the gnutls session.  The output buffer and the partial-line
 * buffer are allocated when used and freed when empty; reads go through
 * one loop-wide buffer.
 *
 * Compression (IMAP COMPRESS=DEFLATE, RFC 4978; conn_start_compress()):
 * a layer between conn_write() and TLS, so plaintext -> deflate -> TLS.
 * conn_write() still queues plaintext, and max_output counts plaintext
 * bytes not yet compressed; compression happens when the output is sent,
 * one 16 KB chunk at a time and only after the previous chunk's output
 * left, so the compressed bytes waiting for the socket are about one
 * chunk.  Whenever all queued output has been compressed it has been
 * flushed (Z_SYNC_FLUSH), so the client can decode every complete
 * response, without a flush per conn_write().  Input is inflated as it
 * arrives, whatever the client's flush mode (Thunderbird uses partial
 * flushes), and framed at once: a command is never held back waiting
 * for more compressed input (at most 256 KB of it are decompressed per
 * loop event, for fairness).  Corrupt compressed input closes the
 * connection with a log line.  Memory per compressed connection: zlib's
 * state, 189 KB (ZSTREAM_MEMORY_MAX bounds it, see zstream.h), held
 * until the connection closes, and while input is stopped at most 16 KB
 * of compressed and 16 KB of decompressed input.
 *
 * Limits: max_connections in all, max_connections_per_ip from one
 * address; an extra connection gets refuse_line (on plain listeners;
 * implicit-TLS ones just close it, a handshake would cost more than the
 * limit saves) and is closed at once.
 *
 * Config: a daemon declares in its own section, and reads with
 * net_limits_from_conf() and net_listen_from_conf():
 *   listen                  list of addresses for plain (STARTTLS) ports
 *   listen_tls              list of addresses for implicit-TLS ports
 *   max_connections         CONF_UINT, 0: no limit
 *   max_connections_per_ip  CONF_UINT, 0: no limit
 *   idle_timeout            CONF_DURATION
 *   max_line                CONF_SIZE, bytes of a line incl. CRLF
 * Addresses are "127.0.0.1:143", "[::1]:143" or "*:25" (every IPv4 and,
 * when the host has it, every IPv6 address), or an absolute path for a
 * Unix stream socket (mode 0660; a stale socket file is replaced, a live
 * one is an error; removed again when the listener closes; no per-IP
 * limit there, and conn_peer() is "local").
 *
 * Roles: a daemon with several kinds of port (SMTP's mx, submission,
 * LMTP) listens with net_listen_tag() and asks conn_listener_tag().
 */
#ifndef BASTIDE_NET_H
#define BASTIDE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"

struct conf;
struct event_base;
struct net_server;
struct tls_ctx;
struct workers;
struct conn;

struct net_limits {
	unsigned int	 max_connections;	 /* 0: no limit */
	unsigned int	 max_connections_per_ip; /* 0: no limit */
	uint64_t	 idle_timeout_ms;	 /* 0: none */
	size_t		 max_line;		 /* incl. CRLF */
	uint64_t	 max_literal;		 /* with literals */
	bool		 literals;		 /* IMAP {n} framing */
	size_t		 max_output;		 /* output buffer ceiling */
	const char	*refuse_line;	/* "* BYE too many connections",
					 * no CRLF; borrowed */
};

struct conn_handler {
	void	(*on_connect)(struct conn *c);
	void	(*on_input)(struct conn *c, enum frame_event ev,
		    const struct frame_item *item);
	void	(*on_tls_ready)(struct conn *c);
	void	(*on_drained)(struct conn *c);
	void	(*on_timeout)(struct conn *c);
	void	(*on_shutdown)(struct conn *c);
	void	(*on_close)(struct conn *c);
};

/* defaults: 1000 conns, 50 per IP, 30 min idle, 8 KB lines, 64 KB
 * literals without literal framing, 1 MB output */
void	 net_limits_default(struct net_limits *limits);
/* fill from a daemon's section (keys above); literal and output settings
 * keep their values */
void	 net_limits_from_conf(struct net_limits *limits,
	    const struct conf *conf, const char *section);

/* the server borrows base, handler, tls (may be NULL: no TLS at all) */
struct net_server *net_server_new(struct event_base *base,
	    const struct net_limits *limits, const struct conn_handler *handler,
	    struct tls_ctx *tls);
/* frees every connection (on_close is called) and listener; free it
 * before the worker pool, whose lanes it releases */
void	 net_server_free(struct net_server **srv);
/* the daemon's own pointer, for its handlers (borrowed) */
void	 net_server_set_data(struct net_server *srv, void *data);
void	*net_server_data(const struct net_server *srv);
/* jobs of conn_submit() go to this pool (borrowed) */
void	 net_server_set_workers(struct net_server *srv, struct workers *w);
/* listen on an address ("127.0.0.1:143", "[::1]:993", "*:25") */
int	 net_listen(struct net_server *srv, const char *addr, bool tls,
	    char **error_r);
/* the same, and every connection it accepts carries tag (a role) */
int	 net_listen_tag(struct net_server *srv, const char *addr, bool tls,
	    int tag, char **error_r);
/* every address of the section's listen and listen_tls keys */
int	 net_listen_from_conf(struct net_server *srv, const struct conf *conf,
	    const char *section, char **error_r);
/* close the listening sockets: no new connections */
void	 net_stop_listening(struct net_server *srv);
/*
 * Graceful drain: stop listening, call on_shutdown for every connection,
 * and break the loop (event_base_loopexit) once the last connection is
 * gone or after timeout_ms, whichever comes first.
 */
void	 net_shutdown(struct net_server *srv, uint64_t timeout_ms);
unsigned int net_conn_count(const struct net_server *srv);

/* the session's own pointer, for the handler */
void	 conn_set_data(struct conn *c, void *data);
void	*conn_data(const struct conn *c);
struct net_server *conn_server(const struct conn *c);
/* unique per process lifetime, also the log session id */
const char *conn_id(const struct conn *c);
/* the tag given to net_listen_tag() (0 for net_listen()) */
int	 conn_listener_tag(const struct conn *c);
/* peer address as text, "192.0.2.1" or "2001:db8::1" */
const char *conn_peer(const struct conn *c);

/* queue output; -1 past max_output, and then the connection is closed
 * (a client that does not read its replies is not worth buffering for) */
int	 conn_write(struct conn *c, const void *p, size_t n);
int	 conn_printf(struct conn *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* bytes queued and not yet sent; with compression the plaintext not
 * yet compressed plus the compressed bytes not yet sent (0 means all
 * was sent either way) */
size_t	 conn_output_pending(const struct conn *c);
/* flush what is queued, then close; safe inside any callback */
void	 conn_close(struct conn *c);
bool	 conn_closing(const struct conn *c);

/* stop / restart framing and reading input */
void	 conn_pause_input(struct conn *c);
void	 conn_resume_input(struct conn *c);
/* answer a sync literal (FRAME_LINE with literal && !literal_plus) */
void	 conn_literal_accept(struct conn *c);
void	 conn_literal_refuse(struct conn *c);
/* the line ceiling (CRLF included) from the next line on, e.g. SMTP's
 * 512 for commands and more for DATA; call it from on_input or between
 * events */
void	 conn_set_max_line(struct conn *c, size_t max_line);
/* the next n input bytes are raw data (SMTP BDAT): FRAME_LITERAL_DATA
 * pieces then FRAME_LITERAL_END, whatever they hold; call it from the
 * on_input of the line announcing them */
void	 conn_read_raw(struct conn *c, uint64_t n);
/* new idle timeout for this connection (IMAP IDLE); 0: none */
void	 conn_set_idle_timeout(struct conn *c, uint64_t ms);

/*
 * STARTTLS: the output queued so far (the "go ahead" reply) is sent in
 * plaintext, then the handshake runs; on_tls_ready follows, or the
 * connection closes on failure.  Every input byte received after the
 * line being handled is discarded (CVE-2011-0411).  -1 if the server has
 * no TLS or the connection already uses it.
 */
int	 conn_start_tls(struct conn *c, const char **error_r);
bool	 conn_is_tls(const struct conn *c);
/* the negotiated protocol and cipher, NULL without TLS */
const char *conn_tls_version(const struct conn *c);
const char *conn_tls_cipher(const struct conn *c);

/*
 * COMPRESS=DEFLATE (RFC 4978): the output queued so far (the tagged OK)
 * is sent as it is, every later output byte is raw-deflated, and every
 * input byte after the line being handled is raw-inflated before it is
 * framed.  Call it from on_input or a conn_submit() done callback, on
 * the loop thread, with the command's input complete.  Works over TLS
 * (compression is above it); STARTTLS is refused afterwards.  -1 if
 * compression is already active, TLS is being negotiated, the
 * connection is closing or the input is mid-command (a partial line or
 * a literal); nothing changes then.  Queue the OK only once the checks
 * that can refuse have passed (conn_is_compressed()).
 */
int	 conn_start_compress(struct conn *c, const char **error_r);
bool	 conn_is_compressed(const struct conn *c);

/*
 * Run job(arg, out) in the worker pool; it writes its reply into out
 * (an unbounded private buffer: bound the reply yourself, or produce it
 * in pieces with several jobs).  Input is paused meanwhile.  On the loop
 * afterwards the reply is queued on the connection, then done(c, arg,
 * false) runs and input resumes.  done(NULL, arg, true) means the
 * connection was freed first: only release arg.  One job at a time per
 * connection; submitting a second while one runs is a bug.
 */
typedef void conn_job_fn(void *arg, struct buf *out);
typedef void conn_done_fn(struct conn *c, void *arg, bool cancelled);
void	 conn_submit(struct conn *c, conn_job_fn *job, conn_done_fn *done,
	    void *arg);
bool	 conn_job_running(const struct conn *c);

#endif
