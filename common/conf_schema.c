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
	{ "ldap", "starttls", CONF_BOOL, "no", 0, 0, NULL,
	  "upgrade ldap:// connections with StartTLS (ldaps:// is always TLS)" },
	{ "ldap", "tls_ca_file", CONF_STRING, "", 0, 0, NULL,
	  "PEM CA certificates that sign the LDAP servers' certificates; "
	  "empty: the system's" },
	{ "ldap", "connect_timeout", CONF_DURATION, "5s", 100 * MS, 5 * MIN,
	  NULL, "time allowed to connect to one LDAP server before the next "
	  "is tried" },
	{ "ldap", "operation_timeout", CONF_DURATION, "10s", 100 * MS, 5 * MIN,
	  NULL, "time allowed for one LDAP search or bind; then the lookup "
	  "fails temporarily" },
	{ "ldap", "pool_size", CONF_UINT, "4", 1, 64, NULL,
	  "LDAP connections each process keeps open, shared by its workers" },
	{ "ldap", "cache_ttl", CONF_DURATION, "30s", 0, 1 * HOUR, NULL,
	  "how long a found user or address is remembered; 0: no cache" },
	{ "ldap", "negative_cache_ttl", CONF_DURATION, "5s", 0, 1 * HOUR, NULL,
	  "how long an unknown user or address is remembered; 0: not at all" },
	{ "ldap", "cache_size", CONF_UINT, "10000", 1, 10000000, NULL,
	  "most lookups remembered; the least recently used go first" },
	{ "ldap", "group_max_depth", CONF_UINT, "5", 0, 32, NULL,
	  "levels of groups nested in a group that are followed; 0: none" },
	{ "ldap", "group_max_members", CONF_UINT, "10000", 1, 1000000, NULL,
	  "most members, nested ones included, one group is expanded to; "
	  "a bigger group fails temporarily and is logged" },

	/* [store] - the mail store, common/store.c */
	{ "store", "root", CONF_STRING, "/var/lib/bastide/store", 0, 0, NULL,
	  "directory holding <domain>/<localpart>/ (Maildir/, index.lmdb/)" },
	{ "store", "index_map_size", CONF_SIZE, "1g", 16ULL << 20,
	  1ULL << 40, NULL,
	  "largest size of one user's index (LMDB map size; sparse)" },
	{ "store", "idle_close", CONF_DURATION, "60s", 0, DAY, NULL,
	  "close a user's index after it was unused this long" },
	{ "store", "idle_max", CONF_UINT, "128", 1, 100000, NULL,
	  "unused user indexes a process keeps open (two descriptors each)" },

	{ NULL }
};

/* each daemon's sections live in their own table, conf_schema_<d>.c */
const struct conf_key *const conf_schemas_bastide[] = {
	conf_schema_bastide,
	conf_schema_smtpd,
	conf_schema_queue,
	conf_schema_imapd,
	NULL
};
