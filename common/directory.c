/* directory.c - LDAP client: pool, failover, lookups, groups, auth */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldap.h>

#include "conf.h"
#include "dircache.h"
#include "directory.h"
#include "log.h"
#include "str.h"
#include "xmalloc.h"

/* longest name or address we search for; longer ones cannot exist */
#define DIRECTORY_NAME_MAX	512

/*
 * One pooled connection.  A connection used for a user's bind is left
 * bound as that user; service_bound says whether it must bind as the
 * service account again before its next search.
 */
struct dir_conn {
	struct dir_conn	*next;
	LDAP		*ld;
	size_t		 server;	/* index in dir->uris */
	bool		 service_bound;
};

enum dir_conn_how {
	DIR_CONN_KEEP,		/* back to the idle list */
	DIR_CONN_CLOSE,		/* in an unknown state: close it */
	DIR_CONN_DOWN		/* its server is gone: close all to it */
};

struct directory {
	char		**uris;
	size_t		 nuris;
	char		*base;
	char		*bind_dn;
	char		*bind_password;
	bool		 starttls;
	char		*ca_file;
	uint64_t	 connect_timeout_ms;
	uint64_t	 op_timeout_ms;
	unsigned int	 pool_size;
	unsigned int	 group_max_depth;
	unsigned int	 group_max_members;

	pthread_mutex_t	 lock;		/* protects what follows */
	pthread_cond_t	 freed;		/* a connection came back */
	struct dir_conn	*idle;
	unsigned int	 nopen;		/* idle + in use + being opened */
	size_t		 last_good;	/* server to try first */

	struct dircache	*users;		/* "name" -> struct directory_user */
	struct dircache	*resolved;	/* "address" -> resolution */
};

/* One search result entry, copied out of libldap's structures while the
 * connection is held, so that nothing refers to an LDAP handle later. */
struct dir_attr {
	char		*name;
	char		**values;	/* NULL-terminated */
	size_t		 nvalues;
};

struct dir_entry {
	char		*dn;
	struct dir_attr	*attrs;
	size_t		 nattrs;
};

struct dir_result {
	struct dir_entry *entries;
	size_t		 nentries;
};

/* A set of lower-cased strings: visited DNs, recipients already added. */
struct dir_set {
	char		**slots;
	size_t		 cap, count;
};

static const char *const dir_attrs[] = {
	"objectClass", "uid", "cn", "mail", "mailLocalAddress", "mailHost",
	"mailRoutingAddress", "bastideQuota", "bastideAccountStatus",
	"member", NULL
};

/* ---- small helpers */

/* dir_lower_dup - a lower-cased copy (ASCII; addresses and DNs) */
static char *
dir_lower_dup(const char *s)
{
	char *p = xstrdup(s);

	str_lower(p);
	return p;
}

/* dir_timeval - ms as a struct timeval */
static struct timeval
dir_timeval(uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* dir_filter_escape - RFC 4515 escaping of an assertion value */
static char *
dir_filter_escape(const char *s)
{
	size_t n = strlen(s);
	/* at most three bytes out per byte in: cannot overflow for names
	 * bounded by DIRECTORY_NAME_MAX */
	char *out = xmalloc(n * 3 + 1), *p = out;

	for (; *s != '\0'; s++) {
		if (*s == '*' || *s == '(' || *s == ')' || *s == '\\') {
			snprintf(p, 4, "\\%02x", (unsigned char)*s);
			p += 3;
		} else
			*p++ = *s;
	}
	*p = '\0';
	return out;
}

/* dir_name_ok - whether a login or address is worth searching for */
static bool
dir_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= DIRECTORY_NAME_MAX &&
	    str_is_printable_utf8(s, n) && strchr(s, ' ') == NULL;
}

/* dir_set_add - add a lower-cased copy of key; false if already there */
static bool
dir_set_add(struct dir_set *set, const char *key)
{
	char *low, **old;
	size_t i, h, oldcap;

	if (set->count * 2 >= set->cap) {
		old = set->slots;
		oldcap = set->cap;
		set->cap = oldcap == 0 ? 16 : oldcap * 2;
		set->slots = xcalloc(set->cap, sizeof(*set->slots));
		set->count = 0;
		for (i = 0; i < oldcap; i++) {
			if (old[i] == NULL)
				continue;
			h = 5381;
			for (const char *c = old[i]; *c != '\0'; c++)
				h = h * 33 + (unsigned char)*c;
			while (set->slots[h % set->cap] != NULL)
				h++;
			set->slots[h % set->cap] = old[i];
			set->count++;
		}
		free(old);
	}
	low = dir_lower_dup(key);
	h = 5381;
	for (const char *c = low; *c != '\0'; c++)
		h = h * 33 + (unsigned char)*c;
	/* linear probing; the table is at most half full, so this ends */
	while (set->slots[h % set->cap] != NULL) {
		if (strcmp(set->slots[h % set->cap], low) == 0) {
			free(low);
			return false;
		}
		h++;
	}
	set->slots[h % set->cap] = low;
	set->count++;
	return true;
}

/* dir_set_deinit - free the strings and the table */
static void
dir_set_deinit(struct dir_set *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* dir_strv_push - append a copy of s to a NULL-terminated vector */
static void
dir_strv_push(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 2, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

/* dir_strv_dup - copy a NULL-terminated vector */
static char **
dir_strv_dup(char *const *v, size_t n)
{
	char **r = xcalloc(n + 1, sizeof(*r));
	size_t i;

	for (i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

/* dir_strv_free - free a NULL-terminated vector */
static void
dir_strv_free(char ***v)
{
	char **p;

	if (*v == NULL)
		return;
	for (p = *v; *p != NULL; p++)
		free(*p);
	xfree(v);
}

/* ---- results */

/* dir_result_free - free every entry of a search result */
static void
dir_result_free(struct dir_result *res)
{
	size_t i, j;

	for (i = 0; i < res->nentries; i++) {
		struct dir_entry *e = &res->entries[i];

		for (j = 0; j < e->nattrs; j++) {
			free(e->attrs[j].name);
			dir_strv_free(&e->attrs[j].values);
		}
		free(e->attrs);
		free(e->dn);
	}
	free(res->entries);
	memset(res, 0, sizeof(*res));
}

/* dir_result_copy - copy libldap's result into res; connection held */
static void
dir_result_copy(LDAP *ld, LDAPMessage *msg, struct dir_result *res)
{
	LDAPMessage *m;
	BerElement *ber;
	struct berval **vals;
	struct dir_entry *e;
	struct dir_attr *a;
	char *name, *dn;
	int i;

	memset(res, 0, sizeof(*res));
	for (m = ldap_first_entry(ld, msg); m != NULL;
	    m = ldap_next_entry(ld, m)) {
		res->entries = xreallocarray(res->entries, res->nentries + 1,
		    sizeof(*res->entries));
		e = &res->entries[res->nentries++];
		memset(e, 0, sizeof(*e));
		dn = ldap_get_dn(ld, m);
		e->dn = xstrdup(dn != NULL ? dn : "");
		ldap_memfree(dn);
		ber = NULL;
		for (name = ldap_first_attribute(ld, m, &ber); name != NULL;
		    name = ldap_next_attribute(ld, m, ber)) {
			e->attrs = xreallocarray(e->attrs, e->nattrs + 1,
			    sizeof(*e->attrs));
			a = &e->attrs[e->nattrs++];
			a->name = xstrdup(name);
			a->values = xcalloc(1, sizeof(*a->values));
			a->nvalues = 0;
			vals = ldap_get_values_len(ld, m, name);
			for (i = 0; vals != NULL && vals[i] != NULL; i++) {
				/* values with NUL bytes are not text we use */
				if (memchr(vals[i]->bv_val, '\0',
				    vals[i]->bv_len) != NULL)
					continue;
				a->values = xreallocarray(a->values,
				    a->nvalues + 2, sizeof(*a->values));
				a->values[a->nvalues++] = xstrndup(
				    vals[i]->bv_val, vals[i]->bv_len);
				a->values[a->nvalues] = NULL;
			}
			ldap_value_free_len(vals);
			ldap_memfree(name);
		}
		if (ber != NULL)
			ber_free(ber, 0);
	}
}

/* dir_entry_values - the values of attribute name (NULL-terminated) */
static char *const *
dir_entry_values(const struct dir_entry *e, const char *name, size_t *n_r)
{
	static char *const none[] = { NULL };
	size_t i;

	for (i = 0; i < e->nattrs; i++)
		if (strcasecmp(e->attrs[i].name, name) == 0) {
			if (n_r != NULL)
				*n_r = e->attrs[i].nvalues;
			return e->attrs[i].values;
		}
	if (n_r != NULL)
		*n_r = 0;
	return none;
}

/* dir_entry_first - the first value of an attribute or NULL */
static const char *
dir_entry_first(const struct dir_entry *e, const char *name)
{
	return dir_entry_values(e, name, NULL)[0];
}

/* dir_entry_has_class - whether objectClass holds cls */
static bool
dir_entry_has_class(const struct dir_entry *e, const char *cls)
{
	char *const *v;

	for (v = dir_entry_values(e, "objectClass", NULL); *v != NULL; v++)
		if (strcasecmp(*v, cls) == 0)
			return true;
	return false;
}

/* ---- connections */

/* dir_ld_error - libldap's diagnostic for rc, for error messages */
static char *
dir_ld_error(LDAP *ld, const char *what, int rc)
{
	char *diag = NULL, *msg;

	if (ld != NULL)
		(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (diag != NULL && *diag != '\0')
		msg = xasprintf("%s: %s (%s)", what, ldap_err2string(rc), diag);
	else
		msg = xasprintf("%s: %s", what, ldap_err2string(rc));
	ldap_memfree(diag);
	return msg;
}

/* dir_rc_is_down - whether rc means the server or connection is gone,
 * so that the connection is dropped and another server tried */
static bool
dir_rc_is_down(int rc)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_TIMEOUT:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
	case LDAP_LOCAL_ERROR:
	case LDAP_ENCODING_ERROR:
	case LDAP_DECODING_ERROR:
	case LDAP_OTHER:
		return true;
	default:
		return false;
	}
}

/* dir_service_bind - bind ld as the service account (or anonymously) */
static int
dir_service_bind(struct directory *dir, LDAP *ld, size_t server,
    int *rc_r, char **error_r)
{
	struct berval cred;
	char *what;
	int rc;

	cred.bv_val = dir->bind_password;
	cred.bv_len = strlen(dir->bind_password);
	rc = ldap_sasl_bind_s(ld, dir->bind_dn, LDAP_SASL_SIMPLE, &cred,
	    NULL, NULL, NULL);
	*rc_r = rc;
	if (rc != LDAP_SUCCESS) {
		what = xasprintf("%s: bind as %s", dir->uris[server],
		    *dir->bind_dn != '\0' ? dir->bind_dn : "anonymous");
		*error_r = dir_ld_error(ld, what, rc);
		free(what);
		return -1;
	}
	return 0;
}

/* dir_connect_one - connect to one server, StartTLS, bind as service */
static int
dir_connect_one(struct directory *dir, size_t server, LDAP **ld_r,
    char **error_r)
{
	const char *uri = dir->uris[server];
	struct timeval net = dir_timeval(dir->connect_timeout_ms);
	struct timeval op = dir_timeval(dir->op_timeout_ms);
	bool tls = str_has_prefix_ci(uri, "ldaps://") || (dir->starttls &&
	    str_has_prefix_ci(uri, "ldap://"));
	int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND;
	int zero = 0, rc;
	LDAP *ld = NULL;
	char *what;

	*ld_r = NULL;
	rc = ldap_initialize(&ld, uri);
	if (rc != LDAP_SUCCESS) {
		*error_r = xasprintf("%s: %s", uri, ldap_err2string(rc));
		return -1;
	}
	(void)ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
	(void)ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	(void)ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
	(void)ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net);
	(void)ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op);
	if (tls) {
		if (*dir->ca_file != '\0' &&
		    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE,
		    dir->ca_file) != LDAP_OPT_SUCCESS)
			goto tls_fail;
		if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT,
		    &demand) != LDAP_OPT_SUCCESS)
			goto tls_fail;
		/* per-handle TLS settings only apply to a new context */
		if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) !=
		    LDAP_OPT_SUCCESS)
			goto tls_fail;
	}
	if (tls && str_has_prefix_ci(uri, "ldap://")) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			what = xasprintf("%s: StartTLS", uri);
			*error_r = dir_ld_error(ld, what, rc);
			free(what);
			ldap_unbind_ext_s(ld, NULL, NULL);
			return -1;
		}
	}
	/* always bind, even anonymously: it is what makes the connection */
	if (dir_service_bind(dir, ld, server, &rc, error_r) < 0) {
		ldap_unbind_ext_s(ld, NULL, NULL);
		return -1;
	}
	*ld_r = ld;
	return 0;

tls_fail:
	*error_r = xasprintf("%s: cannot set up TLS (tls_ca_file %s)", uri,
	    *dir->ca_file != '\0' ? dir->ca_file : "default");
	ldap_unbind_ext_s(ld, NULL, NULL);
	return -1;
}

/* dir_connect - a new connection, trying every server from the last good
 * one on; remembers which one answered */
static int
dir_connect(struct directory *dir, struct dir_conn **c_r, char **error_r)
{
	struct dir_conn *c;
	size_t start, i, s;
	char *err = NULL;
	LDAP *ld;

	pthread_mutex_lock(&dir->lock);
	start = dir->last_good;
	pthread_mutex_unlock(&dir->lock);
	for (i = 0; i < dir->nuris; i++) {
		s = (start + i) % dir->nuris;
		free(err);
		err = NULL;
		if (dir_connect_one(dir, s, &ld, &err) < 0) {
			log_debug("directory: %s", err);
			continue;
		}
		if (s != start)
			log_info("directory: now using %s", dir->uris[s]);
		pthread_mutex_lock(&dir->lock);
		dir->last_good = s;
		pthread_mutex_unlock(&dir->lock);
		c = xcalloc(1, sizeof(*c));
		c->ld = ld;
		c->server = s;
		c->service_bound = true;
		*c_r = c;
		return 0;
	}
	*error_r = err;
	return -1;
}

/* dir_conn_get - an idle connection, a new one, or wait for one */
static int
dir_conn_get(struct directory *dir, struct dir_conn **c_r, char **error_r)
{
	struct timespec deadline;
	struct dir_conn *c;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(dir->op_timeout_ms / 1000);
	deadline.tv_nsec += (long)(dir->op_timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&dir->lock);
	while (dir->idle == NULL && dir->nopen >= dir->pool_size &&
	    rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&dir->freed, &dir->lock,
		    &deadline);
	if ((c = dir->idle) != NULL) {
		dir->idle = c->next;
		c->next = NULL;
		pthread_mutex_unlock(&dir->lock);
		*c_r = c;
		return 0;
	}
	if (dir->nopen >= dir->pool_size) {
		pthread_mutex_unlock(&dir->lock);
		*error_r = xasprintf("all %u LDAP connections busy for %llu ms",
		    dir->pool_size, (unsigned long long)dir->op_timeout_ms);
		return -1;
	}
	dir->nopen++;
	pthread_mutex_unlock(&dir->lock);
	if (dir_connect(dir, c_r, error_r) < 0) {
		pthread_mutex_lock(&dir->lock);
		dir->nopen--;
		pthread_cond_signal(&dir->freed);
		pthread_mutex_unlock(&dir->lock);
		return -1;
	}
	return 0;
}

/* dir_conn_close - unbind and free one connection */
static void
dir_conn_close(struct dir_conn *c)
{
	ldap_unbind_ext_s(c->ld, NULL, NULL);
	free(c);
}

/* dir_conn_put - give a connection back to the pool (DIR_CONN_KEEP) or
 * close it; for DIR_CONN_DOWN also every idle connection to the same
 * server, which is likely down too, and the next connection starts with
 * the next server */
static void
dir_conn_put(struct directory *dir, struct dir_conn *c, enum dir_conn_how how)
{
	struct dir_conn *drop = NULL, **pp, *d;

	pthread_mutex_lock(&dir->lock);
	if (how == DIR_CONN_KEEP) {
		c->next = dir->idle;
		dir->idle = c;
		pthread_cond_signal(&dir->freed);
		pthread_mutex_unlock(&dir->lock);
		return;
	}
	dir->nopen--;
	pp = &dir->idle;
	while (how == DIR_CONN_DOWN && (d = *pp) != NULL) {
		if (d->server == c->server) {
			*pp = d->next;
			d->next = drop;
			drop = d;
			dir->nopen--;
		} else
			pp = &d->next;
	}
	if (how == DIR_CONN_DOWN && dir->last_good == c->server)
		dir->last_good = (c->server + 1) % dir->nuris;
	pthread_cond_broadcast(&dir->freed);
	pthread_mutex_unlock(&dir->lock);
	dir_conn_close(c);
	while ((d = drop) != NULL) {
		drop = d->next;
		dir_conn_close(d);
	}
}

/*
 * dir_search - one search, copied into res.  A connection that fails with
 * a "server gone" code is dropped and the search is tried once more on a
 * new connection, which fails over to the next server.  A base DN that
 * does not exist is an empty result, not an error.
 */
static int
dir_search(struct directory *dir, const char *base, int scope,
    const char *filter, int sizelimit, struct dir_result *res,
    char **error_r)
{
	struct timeval tv = dir_timeval(dir->op_timeout_ms);
	struct dir_conn *c;
	LDAPMessage *msg;
	char *what;
	int attempt, rc;

	memset(res, 0, sizeof(*res));
	*error_r = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		free(*error_r);
		*error_r = NULL;
		if (dir_conn_get(dir, &c, error_r) < 0)
			return -1;
		if (!c->service_bound) {
			if (dir_service_bind(dir, c->ld, c->server, &rc,
			    error_r) < 0) {
				if (dir_rc_is_down(rc)) {
					dir_conn_put(dir, c, DIR_CONN_DOWN);
					continue;
				}
				dir_conn_put(dir, c, DIR_CONN_CLOSE);
				return -1;
			}
			c->service_bound = true;
		}
		msg = NULL;
		rc = ldap_search_ext_s(c->ld, base, scope, filter,
		    (char **)(uintptr_t)dir_attrs, 0, NULL, NULL, &tv,
		    sizelimit, &msg);
		if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED ||
		    rc == LDAP_NO_SUCH_OBJECT) {
			if (msg != NULL)
				dir_result_copy(c->ld, msg, res);
			ldap_msgfree(msg);
			dir_conn_put(dir, c, DIR_CONN_KEEP);
			return 0;
		}
		ldap_msgfree(msg);
		what = xasprintf("%s: search %s", dir->uris[c->server], filter);
		*error_r = dir_ld_error(c->ld, what, rc);
		free(what);
		if (dir_rc_is_down(rc)) {
			dir_conn_put(dir, c, DIR_CONN_DOWN);
			continue;
		}
		/* unknown failures close the connection too: reconnecting
		 * is cheap and clears whatever state it was in */
		dir_conn_put(dir, c, DIR_CONN_CLOSE);
		return -1;
	}
	return -1;
}

/* ---- users */

/* dir_user_from_entry - a directory_user from a person entry */
static struct directory_user *
dir_user_from_entry(const struct dir_entry *e)
{
	struct directory_user *u = xcalloc(1, sizeof(*u));
	struct dir_set seen = { 0 };
	char *const *v;
	const char *s;
	uint64_t q;

	s = dir_entry_first(e, "uid");
	u->uid = xstrdup(s != NULL ? s : "");
	u->dn = xstrdup(e->dn);
	s = dir_entry_first(e, "cn");
	u->cn = xstrdup(s != NULL ? s : "");
	if ((s = dir_entry_first(e, "mail")) != NULL)
		u->mail = xstrdup(s);
	u->addresses = xcalloc(1, sizeof(*u->addresses));
	for (v = dir_entry_values(e, "mail", NULL); *v != NULL; v++)
		if (dir_set_add(&seen, *v))
			dir_strv_push(&u->addresses, &u->naddresses, *v);
	for (v = dir_entry_values(e, "mailLocalAddress", NULL); *v != NULL;
	    v++)
		if (dir_set_add(&seen, *v))
			dir_strv_push(&u->addresses, &u->naddresses, *v);
	dir_set_deinit(&seen);
	if ((s = dir_entry_first(e, "mailHost")) != NULL)
		u->mail_host = xstrdup(s);
	if ((s = dir_entry_first(e, "mailRoutingAddress")) != NULL)
		u->routing_address = xstrdup(s);
	if ((s = dir_entry_first(e, "bastideQuota")) != NULL) {
		if (str_to_u64(s, 0, UINT64_MAX, &q) == 0)
			u->quota = q;
		else
			log_warnx("directory: %s: bad bastideQuota \"%s\", "
			    "taken as unlimited", e->dn, s);
	}
	s = dir_entry_first(e, "bastideAccountStatus");
	if (s == NULL || strcasecmp(s, "active") == 0)
		u->status = DIRECTORY_ACCOUNT_ACTIVE;
	else if (strcasecmp(s, "locked") == 0)
		u->status = DIRECTORY_ACCOUNT_LOCKED;
	else {
		/* fail closed: an unknown status is not an active account */
		if (strcasecmp(s, "disabled") != 0)
			log_warnx("directory: %s: unknown bastideAccountStatus "
			    "\"%s\", taken as disabled", e->dn, s);
		u->status = DIRECTORY_ACCOUNT_DISABLED;
	}
	return u;
}

/* dir_user_search - the uncached lookup behind directory_user_lookup() */
static int
dir_user_search(struct directory *dir, const char *name,
    struct directory_user **user_r, char **error_r)
{
	struct dir_result res;
	char *esc, *filter;
	int r;

	esc = dir_filter_escape(name);
	filter = xasprintf("(&(objectClass=inetOrgPerson)(|(uid=%s)(mail=%s)"
	    "(mailLocalAddress=%s)))", esc, esc, esc);
	free(esc);
	r = dir_search(dir, dir->base, LDAP_SCOPE_SUBTREE, filter, 2, &res,
	    error_r);
	free(filter);
	if (r < 0)
		return -1;
	if (res.nentries > 1) {
		/* two people with one name: refuse to guess, and do not
		 * bounce mail for it either; an admin must fix the data */
		*error_r = xasprintf("\"%s\" matches %s and %s", name,
		    res.entries[0].dn, res.entries[1].dn);
		log_warnx("directory: %s", *error_r);
		dir_result_free(&res);
		return -1;
	}
	if (res.nentries == 0) {
		dir_result_free(&res);
		return 0;
	}
	*user_r = dir_user_from_entry(&res.entries[0]);
	dir_result_free(&res);
	return 1;
}

/* directory_user_lookup - a user by login name or address, cached */
int
directory_user_lookup(struct directory *dir, const char *name,
    struct directory_user **user_r, char **error_r)
{
	struct directory_user *u = NULL;
	char *key;
	void *v;
	int r;

	*user_r = NULL;
	if (!dir_name_ok(name))
		return 0;
	key = dir_lower_dup(name);
	switch (dircache_get(dir->users, key, &v)) {
	case DIRCACHE_HIT:
		free(key);
		*user_r = v;
		return 1;
	case DIRCACHE_NEGATIVE:
		free(key);
		return 0;
	case DIRCACHE_MISS:
		break;
	}
	r = dir_user_search(dir, key, &u, error_r);
	if (r >= 0)
		dircache_put(dir->users, key, u);	/* u NULL: negative */
	free(key);
	*user_r = u;
	return r;
}

/* ---- groups and resolution */

struct dir_expand {
	struct dir_set	 visited;	/* DNs */
	struct dir_set	 added;		/* recipients */
	char		**recipients;
	size_t		 nrecipients;
	unsigned int	 examined;
};

/* dir_expand_add - add one recipient unless already there */
static void
dir_expand_add(struct dir_expand *x, const char *addr)
{
	if (dir_set_add(&x->added, addr))
		dir_strv_push(&x->recipients, &x->nrecipients, addr);
}

/* dir_expand_group - add every member of group e, which is nested depth
 * levels below the group asked for (0: that group) */
static int
dir_expand_group(struct directory *dir, const struct dir_entry *e,
    const char *top, unsigned int depth, struct dir_expand *x,
    char **error_r)
{
	struct directory_user *u;
	struct dir_result res;
	char *const *m;
	const char *addr;
	size_t i;

	for (m = dir_entry_values(e, "member", NULL); *m != NULL; m++) {
		/* loop protection: each DN is looked at once per expansion */
		if (!dir_set_add(&x->visited, *m))
			continue;
		if (++x->examined > dir->group_max_members) {
			*error_r = xasprintf("group %s has more than %u "
			    "members (group_max_members)", top,
			    dir->group_max_members);
			log_warnx("directory: %s", *error_r);
			return -1;
		}
		if (dir_search(dir, *m, LDAP_SCOPE_BASE, "(objectClass=*)", 1,
		    &res, error_r) < 0)
			return -1;
		for (i = 0; i < res.nentries; i++) {
			const struct dir_entry *me = &res.entries[i];

			if (dir_entry_has_class(me, "groupOfNames")) {
				if (depth >= dir->group_max_depth) {
					log_warnx("directory: group %s: %s "
					    "nested deeper than %u, skipped",
					    top, me->dn, dir->group_max_depth);
					continue;
				}
				if (dir_expand_group(dir, me, top, depth + 1,
				    x, error_r) < 0) {
					dir_result_free(&res);
					return -1;
				}
			} else if (dir_entry_has_class(me, "inetOrgPerson")) {
				u = dir_user_from_entry(me);
				addr = u->routing_address != NULL ?
				    u->routing_address : u->mail != NULL ?
				    u->mail : u->addresses[0];
				if (u->status != DIRECTORY_ACCOUNT_DISABLED &&
				    addr != NULL)
					dir_expand_add(x, addr);
				directory_user_free(&u);
			}
		}
		if (res.nentries == 0)
			log_debug("directory: group %s: member %s does not "
			    "exist", top, *m);
		dir_result_free(&res);
	}
	return 0;
}

/* dir_resolve_search - the uncached lookup behind directory_resolve() */
static int
dir_resolve_search(struct directory *dir, const char *address,
    struct directory_resolution **res_r, char **error_r)
{
	struct directory_resolution *res;
	struct dir_expand x = { 0 };
	struct dir_result found;
	const struct dir_entry *e;
	char *esc, *filter;
	int r;

	esc = dir_filter_escape(address);
	filter = xasprintf("(&(|(objectClass=inetOrgPerson)"
	    "(objectClass=groupOfNames))(|(mail=%s)(mailLocalAddress=%s)))",
	    esc, esc);
	free(esc);
	r = dir_search(dir, dir->base, LDAP_SCOPE_SUBTREE, filter, 2, &found,
	    error_r);
	free(filter);
	if (r < 0)
		return -1;
	if (found.nentries > 1) {
		*error_r = xasprintf("address %s is held by %s and %s",
		    address, found.entries[0].dn, found.entries[1].dn);
		log_warnx("directory: %s", *error_r);
		dir_result_free(&found);
		return -1;
	}
	if (found.nentries == 0) {
		dir_result_free(&found);
		return 0;
	}
	e = &found.entries[0];
	res = xcalloc(1, sizeof(*res));
	if (dir_entry_has_class(e, "groupOfNames")) {
		res->kind = DIRECTORY_KIND_GROUP;
		res->group_dn = xstrdup(e->dn);
		x.recipients = xcalloc(1, sizeof(*x.recipients));
		dir_set_add(&x.visited, e->dn);
		r = dir_expand_group(dir, e, e->dn, 0, &x, error_r);
		dir_set_deinit(&x.visited);
		dir_set_deinit(&x.added);
		res->recipients = x.recipients;
		res->nrecipients = x.nrecipients;
		if (r < 0) {
			directory_resolution_free(&res);
			dir_result_free(&found);
			return -1;
		}
	} else {
		res->user = dir_user_from_entry(e);
		res->recipients = xcalloc(1, sizeof(*res->recipients));
		if (res->user->routing_address != NULL) {
			res->kind = DIRECTORY_KIND_FORWARD;
			dir_strv_push(&res->recipients, &res->nrecipients,
			    res->user->routing_address);
		} else {
			res->kind = DIRECTORY_KIND_USER;
			dir_strv_push(&res->recipients, &res->nrecipients,
			    res->user->mail != NULL ? res->user->mail :
			    address);
		}
	}
	dir_result_free(&found);
	*res_r = res;
	return 1;
}

/* directory_resolve - what mail to address is, cached */
int
directory_resolve(struct directory *dir, const char *address,
    struct directory_resolution **res_r, char **error_r)
{
	struct directory_resolution *res = NULL;
	char *key;
	void *v;
	int r;

	*res_r = NULL;
	if (!dir_name_ok(address))
		return 0;
	key = dir_lower_dup(address);
	switch (dircache_get(dir->resolved, key, &v)) {
	case DIRCACHE_HIT:
		free(key);
		*res_r = v;
		return 1;
	case DIRCACHE_NEGATIVE:
		free(key);
		return 0;
	case DIRCACHE_MISS:
		break;
	}
	r = dir_resolve_search(dir, key, &res, error_r);
	if (r >= 0)
		dircache_put(dir->resolved, key, res);
	free(key);
	*res_r = res;
	return r;
}

/* ---- authentication */

/*
 * directory_auth - bind as the user.
 *
 * Only the lookup of the user (login -> DN, status) is cached; the bind
 * itself is done every time.  Caching binds would need a salted hash of
 * the password in memory and would keep a changed or deleted password
 * working for a TTL; a simple bind on an already open connection costs
 * OpenLDAP about as much as a search, so there is little to save.  So a
 * wrong password is never taken for a right one, and a deleted user is
 * refused at once (the bind fails) even while its lookup is cached;
 * a status change (locked, disabled) shows within cache_ttl.
 */
enum directory_auth_result
directory_auth(struct directory *dir, const char *login,
    const char *password, struct directory_user **user_r, char **error_r)
{
	struct directory_user *u = NULL;
	struct berval cred;
	struct dir_conn *c;
	char *err = NULL, *what;
	int attempt, r, rc;

	if (user_r != NULL)
		*user_r = NULL;
	if (error_r != NULL)
		*error_r = NULL;
	if (password == NULL || *password == '\0') {
		/* an empty password is an unauthenticated bind: it would
		 * succeed without proving anything (RFC 4513 5.1.2) */
		if (error_r != NULL)
			*error_r = xstrdup("empty password");
		return DIRECTORY_AUTH_REFUSED;
	}
	r = directory_user_lookup(dir, login, &u, &err);
	if (r <= 0) {
		if (r == 0)
			err = xstrdup("no such user");
		if (error_r != NULL)
			*error_r = err;
		else
			free(err);
		return r < 0 ? DIRECTORY_AUTH_TEMPFAIL :
		    DIRECTORY_AUTH_REFUSED;
	}
	if (u->status != DIRECTORY_ACCOUNT_ACTIVE) {
		if (error_r != NULL)
			*error_r = xasprintf("account %s",
			    directory_account_status_name(u->status));
		if (user_r != NULL)
			*user_r = u;
		else
			directory_user_free(&u);
		return DIRECTORY_AUTH_INACTIVE;
	}
	cred.bv_val = (char *)(uintptr_t)password;
	cred.bv_len = strlen(password);
	for (attempt = 0; attempt < 2; attempt++) {
		free(err);
		err = NULL;
		if (dir_conn_get(dir, &c, &err) < 0)
			break;
		c->service_bound = false;
		rc = ldap_sasl_bind_s(c->ld, u->dn, LDAP_SASL_SIMPLE, &cred,
		    NULL, NULL, NULL);
		if (rc == LDAP_SUCCESS) {
			dir_conn_put(dir, c, DIR_CONN_KEEP);
			if (user_r != NULL)
				*user_r = u;
			else
				directory_user_free(&u);
			return DIRECTORY_AUTH_OK;
		}
		what = xasprintf("%s: bind as %s", dir->uris[c->server], u->dn);
		err = dir_ld_error(c->ld, what, rc);
		free(what);
		switch (rc) {
		case LDAP_INVALID_CREDENTIALS:
		case LDAP_INAPPROPRIATE_AUTH:
		case LDAP_UNWILLING_TO_PERFORM:
		case LDAP_INSUFFICIENT_ACCESS:
		case LDAP_NO_SUCH_OBJECT:
		case LDAP_CONSTRAINT_VIOLATION:
			dir_conn_put(dir, c, DIR_CONN_KEEP);
			directory_user_free(&u);
			if (error_r != NULL)
				*error_r = err;
			else
				free(err);
			return DIRECTORY_AUTH_REFUSED;
		default:
			if (dir_rc_is_down(rc)) {
				dir_conn_put(dir, c, DIR_CONN_DOWN);
				break;
			}
			dir_conn_put(dir, c, DIR_CONN_CLOSE);
			attempt = 2;
			break;
		}
	}
	directory_user_free(&u);
	if (error_r != NULL)
		*error_r = err;
	else
		free(err);
	return DIRECTORY_AUTH_TEMPFAIL;
}

/* ---- lifetime */

/* dir_user_dup_v - dircache adapter */
static void *
dir_user_dup_v(const void *p)
{
	return directory_user_dup(p);
}

/* dir_user_free_v - dircache adapter */
static void
dir_user_free_v(void *p)
{
	struct directory_user *u = p;

	directory_user_free(&u);
}

/* dir_resolution_dup_v - dircache adapter */
static void *
dir_resolution_dup_v(const void *p)
{
	return directory_resolution_dup(p);
}

/* dir_resolution_free_v - dircache adapter */
static void
dir_resolution_free_v(void *p)
{
	struct directory_resolution *r = p;

	directory_resolution_free(&r);
}

/* dir_read_password - the first line of path; -1 with error_r */
static int
dir_read_password(const char *path, char **pw_r, char **error_r)
{
	char buf[1024];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		*error_r = xasprintf("bind_password_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*pw_r = xstrdup(buf);
	wipe(buf, sizeof(buf));
	return 0;
}

/* directory_new - a client for the [ldap] section; connects lazily */
int
directory_new(const struct conf *conf, struct directory **dir_r,
    char **error_r)
{
	const char *const *uris;
	struct directory *dir;
	pthread_condattr_t ca;
	const char *pwfile;
	int version;
	size_t n;

	uris = conf_list(conf, "ldap", "uri", &n);
	if (n == 0) {
		*error_r = xstrdup("[ldap] uri is empty");
		return -1;
	}
	/* libldap's global initialisation, once, before threads use it */
	(void)ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &version);
	dir = xcalloc(1, sizeof(*dir));
	pthread_mutex_init(&dir->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dir->freed, &ca);
	pthread_condattr_destroy(&ca);
	dir->uris = dir_strv_dup((char *const *)(uintptr_t)uris, n);
	dir->nuris = n;
	dir->base = xstrdup(conf_str(conf, "ldap", "base"));
	dir->bind_dn = xstrdup(conf_str(conf, "ldap", "bind_dn"));
	pwfile = conf_str(conf, "ldap", "bind_password_file");
	if (*pwfile != '\0') {
		if (dir_read_password(pwfile, &dir->bind_password,
		    error_r) < 0) {
			dir->bind_password = xstrdup("");
			directory_free(&dir);
			return -1;
		}
	} else
		dir->bind_password = xstrdup(conf_str(conf, "ldap",
		    "bind_password"));
	dir->starttls = conf_bool(conf, "ldap", "starttls");
	dir->ca_file = xstrdup(conf_str(conf, "ldap", "tls_ca_file"));
	dir->connect_timeout_ms = conf_duration_ms(conf, "ldap",
	    "connect_timeout");
	dir->op_timeout_ms = conf_duration_ms(conf, "ldap",
	    "operation_timeout");
	dir->pool_size = (unsigned int)conf_uint(conf, "ldap", "pool_size");
	dir->group_max_depth = (unsigned int)conf_uint(conf, "ldap",
	    "group_max_depth");
	dir->group_max_members = (unsigned int)conf_uint(conf, "ldap",
	    "group_max_members");
	dir->users = dircache_new(conf_uint(conf, "ldap", "cache_size"),
	    conf_duration_ms(conf, "ldap", "cache_ttl"),
	    conf_duration_ms(conf, "ldap", "negative_cache_ttl"),
	    dir_user_dup_v, dir_user_free_v);
	dir->resolved = dircache_new(conf_uint(conf, "ldap", "cache_size"),
	    conf_duration_ms(conf, "ldap", "cache_ttl"),
	    conf_duration_ms(conf, "ldap", "negative_cache_ttl"),
	    dir_resolution_dup_v, dir_resolution_free_v);
	*dir_r = dir;
	return 0;
}

/* directory_cache_clear - forget every cached lookup */
void
directory_cache_clear(struct directory *dir)
{
	dircache_clear(dir->users);
	dircache_clear(dir->resolved);
}

/* directory_free - close every connection; none may be in use */
void
directory_free(struct directory **dirp)
{
	struct directory *dir = *dirp;
	struct dir_conn *c;

	if (dir == NULL)
		return;
	while ((c = dir->idle) != NULL) {
		dir->idle = c->next;
		dir_conn_close(c);
	}
	dircache_free(&dir->users);
	dircache_free(&dir->resolved);
	dir_strv_free(&dir->uris);
	free(dir->base);
	free(dir->bind_dn);
	if (dir->bind_password != NULL) {
		wipe(dir->bind_password, strlen(dir->bind_password));
		free(dir->bind_password);
	}
	free(dir->ca_file);
	pthread_mutex_destroy(&dir->lock);
	pthread_cond_destroy(&dir->freed);
	free(dir);
	*dirp = NULL;
}

/* ---- returned structs */

/* directory_user_dup - a deep copy */
struct directory_user *
directory_user_dup(const struct directory_user *u)
{
	struct directory_user *c = xcalloc(1, sizeof(*c));

	c->uid = xstrdup(u->uid);
	c->dn = xstrdup(u->dn);
	c->cn = xstrdup(u->cn);
	c->mail = u->mail != NULL ? xstrdup(u->mail) : NULL;
	c->addresses = dir_strv_dup(u->addresses, u->naddresses);
	c->naddresses = u->naddresses;
	c->mail_host = u->mail_host != NULL ? xstrdup(u->mail_host) : NULL;
	c->routing_address = u->routing_address != NULL ?
	    xstrdup(u->routing_address) : NULL;
	c->quota = u->quota;
	c->status = u->status;
	return c;
}

/* directory_user_free - free a user and leave *up NULL */
void
directory_user_free(struct directory_user **up)
{
	struct directory_user *u = *up;

	if (u == NULL)
		return;
	free(u->uid);
	free(u->dn);
	free(u->cn);
	free(u->mail);
	dir_strv_free(&u->addresses);
	free(u->mail_host);
	free(u->routing_address);
	free(u);
	*up = NULL;
}

/* directory_resolution_dup - a deep copy */
struct directory_resolution *
directory_resolution_dup(const struct directory_resolution *r)
{
	struct directory_resolution *c = xcalloc(1, sizeof(*c));

	c->kind = r->kind;
	c->user = r->user != NULL ? directory_user_dup(r->user) : NULL;
	c->group_dn = r->group_dn != NULL ? xstrdup(r->group_dn) : NULL;
	c->recipients = dir_strv_dup(r->recipients, r->nrecipients);
	c->nrecipients = r->nrecipients;
	return c;
}

/* directory_resolution_free - free a resolution and leave *rp NULL */
void
directory_resolution_free(struct directory_resolution **rp)
{
	struct directory_resolution *r = *rp;

	if (r == NULL)
		return;
	directory_user_free(&r->user);
	free(r->group_dn);
	dir_strv_free(&r->recipients);
	free(r);
	*rp = NULL;
}

/* directory_account_status_name - "active", "locked", "disabled" */
const char *
directory_account_status_name(enum directory_account_status s)
{
	switch (s) {
	case DIRECTORY_ACCOUNT_ACTIVE:
		return "active";
	case DIRECTORY_ACCOUNT_LOCKED:
		return "locked";
	case DIRECTORY_ACCOUNT_DISABLED:
		return "disabled";
	}
	return "?";
}

/* directory_kind_name - "user", "group", "forward" */
const char *
directory_kind_name(enum directory_kind kind)
{
	switch (kind) {
	case DIRECTORY_KIND_USER:
		return "user";
	case DIRECTORY_KIND_GROUP:
		return "group";
	case DIRECTORY_KIND_FORWARD:
		return "forward";
	}
	return "?";
}

/* directory_auth_result_name - "ok", "refused", "inactive", "tempfail" */
const char *
directory_auth_result_name(enum directory_auth_result r)
{
	switch (r) {
	case DIRECTORY_AUTH_OK:
		return "ok";
	case DIRECTORY_AUTH_REFUSED:
		return "refused";
	case DIRECTORY_AUTH_INACTIVE:
		return "inactive";
	case DIRECTORY_AUTH_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}
