/*
 * conf_schema.c - every key of bastide.conf, with its default
 *
 * One table for all programs, because they all read the same file: a key
 * that smtpd does not use is still valid when smtpd reads it.  Each section
 * is owned by the module or daemon named in its comment; keep the keys of a
 * section together.  conf/bastide.conf is generated from this table by
 * `bastidectl conf defaults` and a unit test checks they agree.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define U32MAX	UINT32_MAX
#define MS	1ULL
#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

const struct conf_key conf_schema_bastide[] = {
	/* [global] - process basics, daemon.c */
	{ "global", "hostname", CONF_STRING, "", 0, 0, NULL,
	  "host name used in greetings and headers; empty: the system's" },
	{ "global", "user", CONF_STRING, "", 0, 0, NULL,
	  "user the daemons switch to after binding ports, when started as "
	  "root; empty: keep the starting user" },
	{ "global", "group", CONF_STRING, "", 0, 0, NULL,
	  "group to switch to; empty: the user's primary group" },
	{ "global", "run_dir", CONF_STRING, "/run/bastide", 0, 0, NULL,
	  "directory for pid files and control sockets" },
	{ "global", "log", CONF_ENUM, "stderr", 0, 0, "stderr|syslog",
	  "where log lines go" },
	{ "global", "log_level", CONF_ENUM, "info", 0, 0,
	  "error|warning|info|debug|trace",
	  "how much is logged; trace includes protocol state changes" },
	{ "global", "workers", CONF_UINT, "8", 1, 256, NULL,
	  "threads in each daemon's pool for blocking work (disk, LDAP)" },
	{ "global", "shutdown_timeout", CONF_DURATION, "10s", 0, 10 * MIN,
	  NULL, "on SIGTERM, how long running sessions may take to finish" },

	/* [tls] - certificates and versions, tls.c */
	{ "tls", "cert_file", CONF_STRING, "/etc/bastide/tls/cert.pem", 0, 0,
	  NULL, "PEM certificate chain, reloaded on SIGHUP" },
	{ "tls", "key_file", CONF_STRING, "/etc/bastide/tls/key.pem", 0, 0,
	  NULL, "PEM private key, reloaded on SIGHUP" },
	{ "tls", "min_version", CONF_ENUM, "1.2", 0, 0, "1.2|1.3",
	  "oldest TLS version accepted; older ones are always refused" },
	{ "tls", "handshake_timeout", CONF_DURATION, "30s", 1 * SEC, 10 * MIN,
	  NULL, "time allowed for a TLS handshake" },

	/* [ldap] - the directory client, directory.c */
	{ "ldap", "uri", CONF_LIST, "ldap://127.0.0.1/", 0, 0, NULL,
	  "LDAP servers, tried in order (ldap://, ldaps:// or ldapi://)" },
	{ "ldap", "base", CONF_STRING, "dc=example,dc=test", 0, 0, NULL,
	  "search base for users and groups" },
	{ "ldap", "bind_dn", CONF_STRING, "", 0, 0, NULL,
	  "service DN for lookups; empty: anonymous" },
	{ "ldap", "bind_password", CONF_STRING, "", 0, 0, NULL,
	  "password of bind_dn (prefer bind_password_file)" },
	{ "ldap", "bind_password_file", CONF_STRING, "", 0, 0, NULL,
	  "file holding the password of bind_dn" },

	{ NULL }
};

const struct conf_key *const conf_schemas_bastide[] = {
	conf_schema_bastide,
	NULL
};
