/*
 * conf_schema_smtpd.c - [smtpd] - bastide-smtpd: listeners, roles, limits, policy
 *
 * Part of the one schema of bastide.conf (see conf_schema.c); kept in its
 * own file so each daemon's keys stay together.
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

const struct conf_key conf_schema_smtpd[] = {
	/* listeners, one key per role (smtpd/smtp_session.h) */
	{ "smtpd", "mx_listen", CONF_LIST, "*:25", 0, 0, NULL,
	  "role mx: inbound mail for the hosted domains, no AUTH, never "
	  "relays; STARTTLS offered when [tls] is usable" },
	{ "smtpd", "submission_listen", CONF_LIST, "*:587", 0, 0, NULL,
	  "role submission (RFC 6409): STARTTLS, then AUTH; MAIL needs AUTH "
	  "or a trusted network" },
	{ "smtpd", "submissions_listen", CONF_LIST, "*:465", 0, 0, NULL,
	  "role submissions (RFC 8314): implicit TLS, otherwise like "
	  "submission" },
	{ "smtpd", "lmtp_listen", CONF_LIST, "", 0, 0, NULL,
	  "role lmtp (RFC 2033): addresses or absolute paths of Unix "
	  "sockets; local delivery only, one reply per recipient" },

	/* what is ours */
	{ "smtpd", "domains", CONF_LIST, "", 0, 0, NULL,
	  "hosted domains: mail to them is checked in LDAP and delivered "
	  "to the store; everything else is remote" },
	{ "smtpd", "recipient_delimiter", CONF_STRING, "+", 0, 0, NULL,
	  "separates user and detail (alice+work@): mail goes to the folder "
	  "named by the detail if it exists, else INBOX; empty: off" },
	{ "smtpd", "trusted_networks", CONF_LIST, "", 0, 0, NULL,
	  "CIDR blocks (127.0.0.0/8, ::1/128) whose clients may submit and "
	  "relay on the submission ports without AUTH; never on mx" },
	{ "smtpd", "sender_ownership_check", CONF_BOOL, "yes", 0, 0, NULL,
	  "an authenticated user may use only their own addresses (mail, "
	  "mailLocalAddress) in MAIL FROM, else 553 5.7.1" },
	{ "smtpd", "allow_plaintext_auth_on_loopback", CONF_BOOL, "no", 0, 0,
	  NULL, "offer AUTH without TLS to clients on 127.0.0.0/8 and ::1" },
	{ "smtpd", "allow_bare_lf", CONF_BOOL, "no", 0, 0, NULL,
	  "accept lines ending in a bare LF (commands and message); no "
	  "refuses them with 5.5.2, against SMTP smuggling" },
	{ "smtpd", "spool_dir", CONF_STRING, "/var/spool/bastide/smtpd", 0, 0,
	  NULL, "directory for messages too big to keep in memory while "
	  "they arrive" },

	/* limits */
	{ "smtpd", "max_message_size", CONF_SIZE, "50m", 1024, 1ULL << 32,
	  NULL, "largest message accepted (advertised with SIZE); bigger "
	  "ones get 552 5.3.4" },
	{ "smtpd", "message_memory", CONF_SIZE, "256k", 4096, 64ULL << 20,
	  NULL, "bytes of one message kept in memory; the rest goes to a "
	  "file in spool_dir" },
	{ "smtpd", "max_recipients", CONF_UINT, "1000", 1, 100000, NULL,
	  "recipients of one message; more get 452 4.5.3" },
	{ "smtpd", "max_line", CONF_SIZE, "512", 512, 65536, NULL,
	  "longest command line, CRLF included (RFC 5321: 512); longer "
	  "ones get 500 5.5.2" },
	{ "smtpd", "max_data_line", CONF_SIZE, "64k", 1000, 1ULL << 20,
	  NULL, "longest line of a message, CRLF included (RFC 5321 says "
	  "1000, real mail sometimes has longer); a longer one gets 554 "
	  "5.6.0 and the connection is closed" },
	{ "smtpd", "max_connections", CONF_UINT, "1000", 0, 100000, NULL,
	  "connections in all; 0: no limit" },
	{ "smtpd", "max_connections_per_ip", CONF_UINT, "50", 0, 100000,
	  NULL, "connections from one address; more get 421 4.7.0; "
	  "0: no limit" },
	{ "smtpd", "idle_timeout", CONF_DURATION, "5m", 1 * SEC, 1 * HOUR,
	  NULL, "waiting for a command this long ends the session with "
	  "421 4.4.2 (RFC 5321 4.5.3.2.7)" },
	{ "smtpd", "data_timeout", CONF_DURATION, "5m", 1 * SEC, 1 * HOUR,
	  NULL, "waiting for the next part of a message this long ends the "
	  "session (RFC 5321 4.5.3.2.6)" },
	{ "smtpd", "max_errors", CONF_UINT, "20", 1, 10000, NULL,
	  "bad commands in one session before it is closed with 421" },

	/* authentication failures, per client address */
	{ "smtpd", "auth_max_failures", CONF_UINT, "5", 1, 10000, NULL,
	  "failed AUTH attempts from one address within "
	  "auth_failure_window before it gets 421 4.7.0 for auth_ban_time" },
	{ "smtpd", "auth_failure_window", CONF_DURATION, "15m", 1 * SEC,
	  1 * DAY, NULL, "how long a failed AUTH is remembered" },
	{ "smtpd", "auth_ban_time", CONF_DURATION, "15m", 1 * SEC, 1 * DAY,
	  NULL, "how long an address that failed too often is refused" },
	{ NULL }
};
