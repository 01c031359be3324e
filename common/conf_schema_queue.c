/*
 * conf_schema_queue.c - [queue] - the outbound queue and relay client of bastide-smtpd; bastidectl queue reads it too
 *
 * Part of the one schema of bastide.conf (see conf_schema.c); kept in its
 * own file so each daemon's keys stay together.  Owner: smtpd/outq.c,
 * smtpd/relay_client.c.  The retry keys go down to one second so that
 * tests can watch a retry, a delay warning and an expiry happen.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define MS	1ULL
#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

const struct conf_key conf_schema_queue[] = {
	/* where the queue lives */
	{ "queue", "dir", CONF_STRING, "/var/spool/bastide/queue", 0, 0, NULL,
	  "queue directory: <id>.msg and <id>.env per message, hold/ for held "
	  "ones; read at start only" },

	/* retries, warnings, expiry */
	{ "queue", "retry_min", CONF_DURATION, "5m", 1 * SEC, DAY, NULL,
	  "wait after the first failed attempt; doubled after each further "
	  "one" },
	{ "queue", "retry_max", CONF_DURATION, "1h", 1 * SEC, 7 * DAY, NULL,
	  "longest wait between two attempts" },
	{ "queue", "lifetime", CONF_DURATION, "5d", 1 * SEC, 60 * DAY, NULL,
	  "give up and bounce a message queued this long" },
	{ "queue", "delay_warning", CONF_DURATION, "4h", 0, 60 * DAY, NULL,
	  "send one delay notice (DSN) for a message still queued this long; "
	  "0: never" },
	{ "queue", "bounce_size_limit", CONF_SIZE, "1m", 0, 1ULL << 30, NULL,
	  "a failure notice returns the whole message up to this size, only "
	  "its header beyond (and always with RET=HDRS)" },

	/* concurrency */
	{ "queue", "max_deliveries", CONF_UINT, "20", 1, 1000, NULL,
	  "delivery attempts running at once (threads of their own, apart "
	  "from [global] workers); read at start only" },
	{ "queue", "destination_concurrency", CONF_UINT, "10", 1, 1000, NULL,
	  "attempts running at once to one destination domain (or to the "
	  "relay host)" },
	{ "queue", "rcpts_per_transaction", CONF_UINT, "100", 1, 10000, NULL,
	  "recipients sent in one SMTP transaction; more go in further "
	  "transactions of the same session" },

	/* where mail goes */
	{ "queue", "relay_host", CONF_STRING, "", 0, 0, NULL,
	  "send all remote mail to this host (\"host\", \"host:port\", "
	  "\"[::1]:587\"); empty: to the MX hosts of each domain" },
	{ "queue", "relay_user", CONF_STRING, "", 0, 0, NULL,
	  "AUTH PLAIN user for relay_host (only over TLS); empty: no AUTH" },
	{ "queue", "relay_password_file", CONF_STRING, "", 0, 0, NULL,
	  "file holding the password of relay_user (first line)" },
	{ "queue", "helo_name", CONF_STRING, "", 0, 0, NULL,
	  "name sent in EHLO and used as Reporting-MTA; empty: [global] "
	  "hostname or the system's" },
	{ "queue", "tls", CONF_ENUM, "may", 0, 0, "may|encrypt",
	  "STARTTLS policy: may uses it when offered, encrypt defers mail "
	  "for servers without it (certificates are not verified)" },

	/* RFC 5321 4.5.3.2 timeouts */
	{ "queue", "connect_timeout", CONF_DURATION, "30s", 100 * MS, 10 * MIN,
	  NULL, "time allowed to connect to one address" },
	{ "queue", "command_timeout", CONF_DURATION, "5m", 100 * MS, 1 * HOUR,
	  NULL, "time allowed for the greeting and the reply to EHLO, "
	  "STARTTLS, AUTH, MAIL, RCPT" },
	{ "queue", "data_init_timeout", CONF_DURATION, "2m", 100 * MS,
	  1 * HOUR, NULL, "time allowed for the 354 reply to DATA" },
	{ "queue", "data_block_timeout", CONF_DURATION, "3m", 100 * MS,
	  1 * HOUR, NULL, "time allowed for the server to take each block of "
	  "the message" },
	{ "queue", "data_done_timeout", CONF_DURATION, "10m", 100 * MS,
	  1 * HOUR, NULL, "time allowed for the reply after the final dot" },

	{ NULL }
};
