/*
 * directory - the LDAP directory: users, addresses, groups, authentication
 *
 * A client on libldap (whose types stay inside directory.c) holding a small
 * pool of connections shared by the worker threads.  Calls are synchronous
 * and thread-safe: a worker calls them like any blocking function.
 * Servers are the [ldap] uri list, tried in order starting at the last one
 * that worked; ldap:// is upgraded with StartTLS when starttls = yes.
 *
 * Lookups say one of three things, and the difference matters: found (1),
 * not found (0), or a temporary failure (-1 with *error_r) when the
 * directory could not be asked (down, timeout, bad service credentials).
 * A daemon answers the last with 4xx / NO [UNAVAILABLE], never with
 * "no such user": LDAP being down must not bounce mail.
 *
 * Lookups (not binds) are cached with separate positive and negative TTLs
 * (cache_ttl, negative_cache_ttl); see dircache.h and directory_auth().
 *
 * Schema: a user is inetOrgPerson (+ inetLocalMailRecipient, +
 * bastideAccount); a list is groupOfNames with mailLocalAddress (or mail).
 * Addresses compare case-insensitively.
 */
#ifndef BASTIDE_DIRECTORY_H
#define BASTIDE_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct directory;

enum directory_account_status {
	DIRECTORY_ACCOUNT_ACTIVE = 0,	/* absent attribute = active */
	DIRECTORY_ACCOUNT_LOCKED,	/* no login; mail is still accepted */
	DIRECTORY_ACCOUNT_DISABLED	/* no login, no mail */
};

struct directory_user {
	char		*uid;		/* login name */
	char		*dn;
	char		*cn;		/* display name; "" if absent */
	char		*mail;		/* primary address; NULL if none */
	/* mail, then the mailLocalAddress values, duplicates dropped */
	char		**addresses;	/* NULL-terminated */
	size_t		 naddresses;
	char		*mail_host;	/* mailbox backend; or NULL */
	char		*routing_address; /* forward mail here; or NULL */
	uint64_t	 quota;		/* bytes; 0: unlimited */
	enum directory_account_status status;
};

enum directory_kind {
	DIRECTORY_KIND_USER = 0,	/* a local mailbox */
	DIRECTORY_KIND_GROUP,		/* a distribution list */
	DIRECTORY_KIND_FORWARD		/* a user with mailRoutingAddress */
};

struct directory_resolution {
	enum directory_kind	 kind;
	struct directory_user	*user;	/* USER and FORWARD; NULL for GROUP */
	char			*group_dn; /* GROUP only */
	/* where the mail goes: USER its primary address (or the address
	 * asked for if it has no mail attribute), FORWARD the routing
	 * address, GROUP every member's (forwards followed, disabled
	 * members skipped, duplicates dropped); NULL-terminated */
	char			**recipients;
	size_t			 nrecipients;
};

enum directory_auth_result {
	DIRECTORY_AUTH_OK = 0,
	DIRECTORY_AUTH_REFUSED,		/* unknown user or wrong password */
	DIRECTORY_AUTH_INACTIVE,	/* right or wrong, the account is
					   locked or disabled */
	DIRECTORY_AUTH_TEMPFAIL		/* could not ask; try again later */
};

/* connects lazily: a directory that is down fails lookups, not this;
 * -1 only for unusable configuration (unreadable bind_password_file) */
int	 directory_new(const struct conf *conf, struct directory **dir_r,
	    char **error_r);
void	 directory_free(struct directory **dir);

/* by login name (uid) or any address (mail, mailLocalAddress) */
int	 directory_user_lookup(struct directory *dir, const char *name,
	    struct directory_user **user_r, char **error_r);
/* what mail to address is: user, group (expanded), forward */
int	 directory_resolve(struct directory *dir, const char *address,
	    struct directory_resolution **res_r, char **error_r);
/* bind as the user found by login name or address; never cached as a
 * success; error_r (may be NULL) says why for the log, never the
 * password; the password is not kept */
enum directory_auth_result directory_auth(struct directory *dir,
	    const char *login, const char *password,
	    struct directory_user **user_r, char **error_r);

/* forget every cached lookup (SIGHUP, tests) */
void	 directory_cache_clear(struct directory *dir);

struct directory_user *directory_user_dup(const struct directory_user *u);
void	 directory_user_free(struct directory_user **user);
struct directory_resolution *directory_resolution_dup(
	    const struct directory_resolution *res);
void	 directory_resolution_free(struct directory_resolution **res);

const char *directory_account_status_name(enum directory_account_status s);
const char *directory_kind_name(enum directory_kind kind);
const char *directory_auth_result_name(enum directory_auth_result r);

#endif
