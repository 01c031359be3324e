/*
 * smtp_session - one SMTP, submission or LMTP conversation
 *
 * The protocol state machine on top of a net connection: the greeting,
 * one handler per verb (a row in a static table, split into
 * smtp_check_<verb>() and smtp_proceed_<verb>()), the SASL exchange of
 * AUTH, the DATA lines and BDAT chunks on their way into smtp_data, and
 * the jobs that block (RCPT lookups in smtp_rcpt, AUTH binds, spilling a
 * big message to disk, delivery in smtp_deliver) in the worker pool.
 * A job owns everything it touches, so a connection that goes away while
 * it runs frees nothing under it.
 *
 * Which listener a connection came in on (its role, a net listener tag)
 * decides what it may do: see smtp_rcpt.h for the relay rules and
 * docs/smtpd.md for the whole behaviour.
 *
 * struct smtp_server is what every session shares, owned by smtpd.c; a
 * session holds a reference to the smtp_settings it started with, so a
 * SIGHUP can put new settings in place while old sessions finish.
 * Everything here runs on the loop thread except the jobs.
 */
#ifndef BASTIDE_SMTP_SESSION_H
#define BASTIDE_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

struct authfail;
struct conf;
struct directory;
struct event_base;
struct outq;
struct smtp_local;
struct store;

/* a CIDR block of trusted_networks */
struct smtp_cidr {
	unsigned char	 addr[16];	/* IPv4 as ::ffff:a.b.c.d */
	unsigned int	 bits;
};

/* [smtpd] and [global] as the sessions use them */
struct smtp_settings {
	unsigned int	 refs;		/* loop thread only */
	char		*hostname;
	uint64_t	 max_message_size;
	uint64_t	 message_memory;
	unsigned int	 max_recipients;
	unsigned int	 max_errors;
	size_t		 max_line;
	size_t		 max_data_line;
	uint64_t	 idle_timeout_ms;
	uint64_t	 data_timeout_ms;
	bool		 allow_plaintext_auth_on_loopback;
	bool		 sender_ownership_check;
	bool		 allow_bare_lf;
	char		*spool_dir;
	struct smtp_cidr *trusted;
	size_t		 ntrusted;
};

/* what all sessions share; the daemon owns every member */
struct smtp_server {
	struct event_base	*base;
	struct smtp_settings	*set;		/* current */
	struct directory	*dir;
	struct store		*store;
	struct smtp_local	*local;
	struct outq		*outq;
	struct authfail		*authfail;
	bool			 tls;		/* a TLS context exists */
};

/* from conf; -1 with *error_r (allocated) on a bad trusted_networks */
int	 smtp_settings_new(const struct conf *conf,
	    struct smtp_settings **set_r, char **error_r);
struct smtp_settings *smtp_settings_ref(struct smtp_settings *set);
void	 smtp_settings_unref(struct smtp_settings **set);
/* parse "192.0.2.0/24", "2001:db8::/32" or a bare address */
int	 smtp_cidr_parse(const char *s, struct smtp_cidr *cidr);
/* whether the textual address peer is inside one of the blocks */
bool	 smtp_cidr_match(const struct smtp_cidr *cidrs, size_t n,
	    const char *peer);

/* the handler for net_server_new(); net_server_data() must be the
 * struct smtp_server and each listener's tag its enum smtp_role */
extern const struct conn_handler smtp_session_handler;

#endif
