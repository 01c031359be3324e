/*
 * conf_schema_imapd.c - [imapd] - bastide-imapd: listeners, limits, sessions
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

const struct conf_key conf_schema_imapd[] = {
	/* listeners */
	{ "imapd", "listen", CONF_LIST, "*:143", 0, 0, NULL,
	  "addresses for IMAP with STARTTLS (RFC 9051); empty: none" },
	{ "imapd", "listen_tls", CONF_LIST, "*:993", 0, 0, NULL,
	  "addresses for IMAP over implicit TLS (RFC 8314); needs [tls] "
	  "cert_file; empty: none" },
	{ "imapd", "allow_plaintext_auth_on_loopback", CONF_BOOL, "no", 0, 0,
	  NULL, "allow LOGIN and AUTHENTICATE without TLS to clients on "
	  "127.0.0.0/8 and ::1; elsewhere LOGINDISABLED until STARTTLS" },

	/* limits */
	{ "imapd", "max_connections", CONF_UINT, "5000", 0, 1000000, NULL,
	  "connections in all; more get \"* BYE\"; 0: no limit" },
	{ "imapd", "max_connections_per_ip", CONF_UINT, "100", 0, 1000000,
	  NULL, "connections from one address (offices behind NAT hold "
	  "many); 0: no limit" },
	{ "imapd", "max_user_sessions", CONF_UINT, "50", 0, 100000, NULL,
	  "logged-in sessions of one user at once (a phone, a laptop and "
	  "a desktop each hold several); more get NO [LIMIT]; 0: no limit" },
	{ "imapd", "max_line", CONF_SIZE, "64k", 1024, 16ULL << 20, NULL,
	  "longest command line, CRLF included (clients send long UID "
	  "sets); a longer one gets BAD and is discarded" },
	{ "imapd", "max_literal", CONF_SIZE, "64k", 1024, 16ULL << 20, NULL,
	  "largest literal in a command other than APPEND (a password, a "
	  "search string); a bigger one is refused before it is sent" },
	{ "imapd", "appendlimit", CONF_SIZE, "50m", 1024, 1ULL << 30, NULL,
	  "largest message APPEND accepts (advertised as APPENDLIMIT, RFC "
	  "7889); a bigger one gets NO [TOOBIG] before it is sent" },
	{ "imapd", "idle_timeout", CONF_DURATION, "30m", 1 * SEC, 1 * DAY,
	  NULL, "autologout: a session silent this long outside IDLE is "
	  "closed with BYE (RFC 9051 5.4 asks for at least 30 minutes)" },
	{ "imapd", "idle_max", CONF_DURATION, "60m", 1 * SEC, 1 * DAY, NULL,
	  "how long one IDLE command may last before BYE; clients restart "
	  "IDLE every 29 minutes (RFC 2177), so keep it above 30m" },
	{ "imapd", "idle_keepalive", CONF_DURATION, "12m", 0, 1 * DAY, NULL,
	  "during IDLE send \"* OK Still here\" this often, for NAT "
	  "boxes; phones want no wake-up more often than every 10 "
	  "minutes; 0: never" },

	/* background downloads announced in ID (docs/imapd.md) */
	{ "imapd", "background_refuse", CONF_BOOL, "yes", 0, 0, NULL,
	  "while the server is loaded, answer NO [UNAVAILABLE] to the ID "
	  "and the body FETCHes of a session whose ID announces a "
	  "background download (iOS Mail back-fill, background_clients); "
	  "other sessions are never refused" },
	{ "imapd", "background_busy_jobs", CONF_UINT, "32", 0, 1000000, NULL,
	  "the server counts as loaded when more jobs than this wait for "
	  "or run in the worker pool ([global] workers threads); 0: always "
	  "loaded, so background downloads are always refused" },
	{ "imapd", "background_clients", CONF_LIST, "", 0, 0, NULL,
	  "ID \"name\" values (without case; no spaces) of clients whose "
	  "every session is a background download, such as sync tools" },

	/* authentication failures, per client address */
	{ "imapd", "auth_max_failures", CONF_UINT, "10", 1, 10000, NULL,
	  "failed logins from one address within auth_failure_window "
	  "before it gets NO [UNAVAILABLE] for auth_ban_time; each failure "
	  "is answered more slowly (up to 5 s)" },
	{ "imapd", "auth_failure_window", CONF_DURATION, "15m", 1 * SEC,
	  1 * DAY, NULL, "how long a failed login is remembered" },
	{ "imapd", "auth_ban_time", CONF_DURATION, "15m", 1 * SEC, 1 * DAY,
	  NULL, "how long an address that failed too often is refused" },
	{ NULL }
};
