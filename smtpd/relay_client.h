/*
 * relay_client - one delivery attempt of one message over SMTP
 *
 * Plain blocking code for a worker thread: relay_deliver() finds the
 * hosts of a destination (the MX hosts of a domain with dns_mx.h and
 * the implicit-MX fallback, an address literal, or a fixed relay host),
 * connects to their addresses in order until one session gets as far as
 * a verdict on the recipients, and fills in one result per recipient.
 * Every wait is a poll() with the RFC 5321 4.5.3.2 timeout of its step,
 * and also watches a cancel descriptor so that a shutting-down daemon
 * does not wait minutes for a silent server.
 *
 * A session: greeting, EHLO (HELO when EHLO is refused), STARTTLS when
 * offered (GnuTLS client inside this module; policy may / encrypt;
 * certificates are not verified, as for opportunistic TLS), AUTH PLAIN
 * when a user is configured (only over TLS), then transactions of at
 * most max_rcpts recipients: MAIL FROM with SIZE, BODY, SMTPUTF8, RET
 * and ENVID when the server offers them, RCPT TO with NOTIFY and ORCPT
 * when it offers DSN, pipelined when it offers PIPELINING, and DATA with
 * dot-stuffing (BDAT for BINARYMIME bodies).  QUIT at the end.
 *
 * Results and their text (recorded as the recipient's last_error in the
 * queue, and read back by bounce.h):
 *   "host NAME[ADDR] said: 550 5.1.1 text"  a reply of a remote server
 *   "4.4.1 connect to NAME[ADDR]:25: ..."   our own finding, with the
 *                                           enhanced status code first
 * The module owns nothing between calls; the results it allocates in
 * struct relay_rcpt are freed with relay_rcpt_reset().
 */
#ifndef BASTIDE_RELAY_CLIENT_H
#define BASTIDE_RELAY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

enum relay_tls_policy {
	RELAY_TLS_NONE = 0,	/* never STARTTLS (tests) */
	RELAY_TLS_MAY,		/* STARTTLS when offered */
	RELAY_TLS_ENCRYPT	/* no STARTTLS offered: temporary failure */
};

enum relay_status {
	RELAY_PENDING = 0,	/* no verdict yet (never after relay_deliver) */
	RELAY_OK,
	RELAY_TEMP,
	RELAY_PERM
};

struct relay_settings {
	const char	*helo_name;
	enum relay_tls_policy tls;
	const char	*auth_user;	/* NULL or "": no AUTH */
	const char	*auth_password;
	bool		 auth_without_tls; /* allow AUTH in clear (tests) */
	uint64_t	 connect_timeout_ms;
	uint64_t	 command_timeout_ms;	/* greeting, EHLO, MAIL, RCPT */
	uint64_t	 data_init_timeout_ms;	/* the 354 */
	uint64_t	 data_block_timeout_ms;	/* each block of the message */
	uint64_t	 data_done_timeout_ms;	/* the reply to the final dot */
	unsigned int	 max_rcpts;		/* per transaction, >= 1 */
	int		 cancel_fd;	/* readable: give up at once; -1 none */
};

/* where the message goes: host set for a fixed relay, else domain's MX */
struct relay_dest {
	const char	*domain;	/* "example.org" or "[192.0.2.1]" */
	const char	*host;		/* relay host (name or address) or NULL */
	unsigned int	 port;		/* with host; MX delivery uses 25 */
};

struct relay_rcpt {
	/* in */
	const char	*addr;		/* forward-path without <> */
	const char	*orcpt;		/* "type;decoded" or NULL */
	unsigned int	 notify;	/* QUEUE_NOTIFY_* */
	/* out */
	enum relay_status status;
	char		*error;		/* TEMP, PERM: see the header comment */
	char		*remote_mta;	/* OK: the host name that took it */
	bool		 remote_dsn;	/* OK: it offered DSN, NOTIFY went on */
};

struct relay_msg {
	const char	*sender;	/* "" for <> */
	const char	*envid;		/* decoded, or NULL */
	enum queue_ret	 ret;
	enum queue_body	 body;
	bool		 smtputf8;
	const char	*data;		/* the message as queued (CRLF lines) */
	size_t		 len;
	struct relay_rcpt *rcpts;
	size_t		 nrcpts;
};

/*
 * One attempt for every recipient of msg.  Afterwards each recipient is
 * RELAY_OK, RELAY_TEMP or RELAY_PERM.  Blocks up to the timeouts.
 */
void	 relay_deliver(const struct relay_settings *s,
	    const struct relay_dest *dest, struct relay_msg *msg);
/* free a recipient's results and make it pending again */
void	 relay_rcpt_reset(struct relay_rcpt *r);

/*
 * "host", "host:port", "[v4 or v6 address]:port", "[v6 address]";
 * port 25 when none is given.  host gets the name or address without
 * brackets.  -1 with a static reason on bad syntax.
 */
int	 relay_parse_hostport(const char *s, char *host, size_t hostsize,
	    unsigned int *port_r, const char **error_r);

#endif
