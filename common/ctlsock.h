/*
 * ctlsock - a daemon's control socket, and the client bastidectl uses
 *
 * A daemon answers administrative requests (flush the queue, hold a
 * message, ...) on a Unix stream socket <run_dir>/<name>.sock, the way
 * smtpctl and doveadm talk to their daemons.  The protocol is one request
 * per connection:
 *
 *     client: one line, at most CTLSOCK_LINE_MAX bytes with its LF
 *     server: reply lines, each ended by LF; the last one is "OK" or
 *             "ERR <reason>"; then the server closes
 *
 * The server side lives on the daemon's libevent loop and owns the
 * listening socket, every connection it accepted and the socket file (it
 * replaces a stale one and unlinks its own when freed).  The request is
 * handed to the daemon's function on the loop thread, so that function
 * sees the daemon's state without locks and must not block.  A client that
 * is slow, silent or never reads its reply costs a descriptor and a
 * buffer until its timeout, never the loop's time, and at most
 * CTLSOCK_MAX_CONNS of them are served at once.
 *
 * Who may connect: the socket file is created mode 0600 (its directory
 * must exist), and a peer whose uid is neither ours nor root is refused
 * (SO_PEERCRED) in case the directory is shared.
 */
#ifndef BASTIDE_CTLSOCK_H
#define BASTIDE_CTLSOCK_H

#include <stdint.h>

struct buf;
struct conf;
struct ctlsock;
struct event_base;

#define CTLSOCK_LINE_MAX	4096		/* request, LF included */
#define CTLSOCK_REPLY_MAX	(16 * 1024 * 1024)	/* server side cap */
#define CTLSOCK_TIMEOUT_MS	10000		/* default, see below */
#define CTLSOCK_MAX_CONNS	32

/*
 * The daemon's handler: line is the request without its line end (never
 * containing a control character); append reply lines to out, each ended
 * by "\n", the last "OK" or "ERR <reason>".  out is capped at
 * CTLSOCK_REPLY_MAX: a handler that can produce more must check its
 * appends.  A reply without a final OK/ERR line is replaced by an ERR.
 * Runs on the loop thread; must not free the ctlsock.
 */
typedef void ctlsock_fn(void *arg, const char *line, struct buf *out);

/* listen on path (mode 0600; the directory must exist); a stale socket
 * file (nobody answers on it) is replaced, a live one or a file that is
 * not a socket is an error.  base, fn and arg are borrowed. */
int	 ctlsock_listen(struct event_base *base, const char *path,
	    ctlsock_fn *fn, void *arg, struct ctlsock **cs_r,
	    char **error_r);
/* close every connection and the listener; unlinks the socket file if it
 * is still ours */
void	 ctlsock_free(struct ctlsock **cs);
/* time a connection may take to send its request, and to take each piece
 * of its reply (default CTLSOCK_TIMEOUT_MS) */
void	 ctlsock_set_timeout(struct ctlsock *cs, uint64_t timeout_ms);

/*
 * Client: connect to path, send line (no line end; "\n" is added), read
 * the whole reply into reply (which the caller initialised, with its own
 * ceiling), all within timeout_ms.  Returns 0 when the reply ends in
 * "OK", 1 when it ends in "ERR ...", -1 when no daemon answers or the
 * answer is not a reply (*error_r says why, caller frees).  After -1,
 * errno is ENOENT or ECONNREFUSED when nothing listens at path (nobody
 * got the request), ETIMEDOUT on a timeout, EPROTO for a malformed
 * reply.  Blocks (poll) at most timeout_ms; never raises SIGPIPE.
 */
int	 ctlsock_request(const char *path, const char *line,
	    uint64_t timeout_ms, struct buf *reply, char **error_r);

/* "<run_dir>/<name>.sock" from [global] run_dir, caller frees; name is
 * the program, e.g. "bastide-smtpd" */
char	*ctlsock_path(const struct conf *conf, const char *name);

#endif
