/* smtp_local.c - hosted domains, address resolution and local delivery */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf.h"
#include "directory.h"
#include "log.h"
#include "store.h"
#include "str.h"
#include "xmalloc.h"

#include "smtp_local.h"
#include "smtp_reply.h"

/* forwards and groups followed through local addresses, at most */
#define LOCAL_MAX_DEPTH		8

struct smtp_local {
	/* a pointer, so that const functions can take it */
	pthread_mutex_t		*lock;		/* domains, delim */
	char			**domains;	/* lower case */
	size_t			 ndomains;
	char			 delim;		/* '\0': no +detail */
	struct directory	*dir;
	struct store		*st;
	smtp_local_forward_fn	*forward;
	void			*forward_arg;
};

/* one resolution in progress */
struct walk {
	struct smtp_local	*l;
	const char		*top;		/* the address asked for */
	char			**seen;		/* lower case, loop guard */
	size_t			 nseen;
	struct smtp_local_expansion *x;
};

/* local_set_conf - take domains and delimiter from conf, lock held */
static void
local_set_conf(struct smtp_local *l, const struct conf *conf)
{
	const char *const *doms;
	const char *delim;
	size_t i, n;

	for (i = 0; i < l->ndomains; i++)
		free(l->domains[i]);
	free(l->domains);
	doms = conf_list(conf, "smtpd", "domains", &n);
	l->domains = xcalloc(n + 1, sizeof(*l->domains));
	for (i = 0; i < n; i++) {
		l->domains[i] = xstrdup(doms[i]);
		str_lower(l->domains[i]);
	}
	l->ndomains = n;
	delim = conf_str(conf, "smtpd", "recipient_delimiter");
	l->delim = delim[0];
	if (strlen(delim) > 1)
		log_warnx("smtpd: recipient_delimiter \"%s\": only its first "
		    "character is used", delim);
}

/* smtp_local_new - domains from conf; dir and st are borrowed */
struct smtp_local *
smtp_local_new(const struct conf *conf, struct directory *dir,
    struct store *st)
{
	struct smtp_local *l;

	l = xcalloc(1, sizeof(*l));
	l->lock = xmalloc(sizeof(*l->lock));
	pthread_mutex_init(l->lock, NULL);
	l->dir = dir;
	l->st = st;
	local_set_conf(l, conf);
	return l;
}

/* smtp_local_free - release the domain list */
void
smtp_local_free(struct smtp_local **lp)
{
	struct smtp_local *l = *lp;
	size_t i;

	if (l == NULL)
		return;
	*lp = NULL;
	for (i = 0; i < l->ndomains; i++)
		free(l->domains[i]);
	free(l->domains);
	pthread_mutex_destroy(l->lock);
	free(l->lock);
	free(l);
}

/* smtp_local_reload - new domains and delimiter */
void
smtp_local_reload(struct smtp_local *l, const struct conf *conf)
{
	pthread_mutex_lock(l->lock);
	local_set_conf(l, conf);
	pthread_mutex_unlock(l->lock);
}

/* smtp_local_set_forward - the hook for remote parts of queued mail */
void
smtp_local_set_forward(struct smtp_local *l, smtp_local_forward_fn *fn,
    void *arg)
{
	l->forward = fn;
	l->forward_arg = arg;
}

/* smtp_local_is_local_domain - whether we host domain */
bool
smtp_local_is_local_domain(const struct smtp_local *l, const char *domain)
{
	size_t i;
	bool found = false;

	pthread_mutex_lock(l->lock);
	for (i = 0; i < l->ndomains && !found; i++)
		found = strcasecmp(l->domains[i], domain) == 0;
	pthread_mutex_unlock(l->lock);
	return found;
}

/* smtp_local_first_domain - the primary hosted domain, a copy */
char *
smtp_local_first_domain(const struct smtp_local *l)
{
	char *d = NULL;

	pthread_mutex_lock(l->lock);
	if (l->ndomains > 0)
		d = xstrdup(l->domains[0]);
	pthread_mutex_unlock(l->lock);
	return d;
}

/* local_delim - the +detail delimiter now */
static char
local_delim(const struct smtp_local *l)
{
	char c;

	pthread_mutex_lock(l->lock);
	c = l->delim;
	pthread_mutex_unlock(l->lock);
	return c;
}

/* smtp_local_expansion_deinit - free targets and remote addresses */
void
smtp_local_expansion_deinit(struct smtp_local_expansion *x)
{
	size_t i;

	for (i = 0; i < x->nlocal; i++) {
		free(x->local[i].user);
		free(x->local[i].mailbox);
		free(x->local[i].address);
	}
	free(x->local);
	for (i = 0; i < x->nremote; i++)
		free(x->remote[i]);
	free(x->remote);
	memset(x, 0, sizeof(*x));
}

/* lower_dup - an ASCII lower-case copy */
static char *
lower_dup(const char *s)
{
	char *p = xstrdup(s);

	str_lower(p);
	return p;
}

/* walk_seen - true if address was visited; else remember it */
static bool
walk_seen(struct walk *w, const char *address)
{
	char *key;
	size_t i;

	key = lower_dup(address);
	for (i = 0; i < w->nseen; i++) {
		if (strcmp(w->seen[i], key) == 0) {
			free(key);
			return true;
		}
	}
	w->seen = xreallocarray(w->seen, w->nseen + 1, sizeof(*w->seen));
	w->seen[w->nseen++] = key;
	return false;
}

/* add_remote - a remote address, once */
static void
add_remote(struct smtp_local_expansion *x, const char *address)
{
	size_t i;

	for (i = 0; i < x->nremote; i++)
		if (strcasecmp(x->remote[i], address) == 0)
			return;
	x->remote = xreallocarray(x->remote, x->nremote + 1,
	    sizeof(*x->remote));
	x->remote[x->nremote++] = xstrdup(address);
}

/*
 * detail_folder - the folder of user named like detail, or NULL for
 * INBOX.  Folder names compare case-insensitively here: a sender writes
 * alice+lists@ for the folder "Lists".  A store error only costs the
 * folder: the mail still goes to INBOX.
 */
static char *
detail_folder(struct smtp_local *l, const char *user, const char *detail)
{
	struct store_mailbox_info *list = NULL;
	struct store_user *u;
	const char *error;
	char *found = NULL;
	size_t i, n = 0;

	if (detail[0] == '\0' || strcasecmp(detail, "INBOX") == 0)
		return NULL;
	if (store_user_open(l->st, user, &u, &error) < 0) {
		log_warnx("store: %s: %s", user, error);
		return NULL;
	}
	if (store_mailbox_list(u, &list, &n, &error) < 0) {
		log_warnx("store: %s: folder list: %s", user, error);
	} else {
		for (i = 0; i < n && found == NULL; i++)
			if (list[i].exists &&
			    strcasecmp(list[i].name, detail) == 0)
				found = xstrdup(list[i].name);
		store_mailbox_list_free(&list, n);
	}
	store_user_close(&u);
	return found;
}

/* add_user - the mailbox of a user entry, with its +detail folder */
static void
add_user(struct walk *w, const struct directory_resolution *res,
    const char *detail)
{
	struct smtp_local_expansion *x = w->x;
	struct smtp_local_target *t;
	char *user, *folder = NULL, *address;
	const char *at;
	size_t i;

	user = lower_dup(res->recipients[0]);
	if (detail != NULL) {
		folder = detail_folder(w->l, user, detail);
		at = strrchr(user, '@');
		address = xasprintf("%.*s%c%s%s", (int)(at - user), user,
		    local_delim(w->l), detail, at);
	} else {
		address = xstrdup(user);
	}
	for (i = 0; i < x->nlocal; i++) {
		t = &x->local[i];
		if (strcmp(t->user, user) == 0 &&
		    (t->mailbox == NULL ? folder == NULL :
		    folder != NULL && strcmp(t->mailbox, folder) == 0)) {
			free(user);
			free(folder);
			free(address);
			return;		/* two ways to one mailbox */
		}
	}
	x->local = xreallocarray(x->local, x->nlocal + 1, sizeof(*x->local));
	t = &x->local[x->nlocal++];
	t->user = user;
	t->mailbox = folder;
	t->address = address;
	t->quota = res->user != NULL ? res->user->quota : 0;
}

/* split_detail - "user+detail@domain" into "user@domain" and "detail" */
static bool
split_detail(const char *address, char delim, char **base_r,
    char **detail_r)
{
	const char *at, *d;

	at = strrchr(address, '@');
	if (delim == '\0' || at == NULL || address[0] == '"')
		return false;
	d = memchr(address, delim, (size_t)(at - address));
	if (d == NULL || d == address)
		return false;
	*base_r = xasprintf("%.*s%s", (int)(d - address), address, at);
	*detail_r = xstrndup(d + 1, (size_t)(at - d - 1));
	return true;
}

/* walk_address - follow one address into the expansion */
static int
walk_address(struct walk *w, const char *address, unsigned int depth,
    char **reply_r)
{
	struct directory_resolution *res = NULL;
	char *error = NULL, *base = NULL, *detail = NULL, *sub = NULL;
	const char *at;
	size_t i;
	int r;

	if (walk_seen(w, address))
		return 0;
	at = strrchr(address, '@');
	if (depth > 0 && (at == NULL ||
	    !smtp_local_is_local_domain(w->l, at + 1))) {
		add_remote(w->x, address);
		return 0;
	}
	if (depth > LOCAL_MAX_DEPTH) {
		log_warnx("smtpd: %s: forwards nested deeper than %d at %s",
		    w->top, LOCAL_MAX_DEPTH, address);
		*reply_r = xasprintf("554 5.4.6 <%s>: routing loop", w->top);
		return 1;
	}
	r = directory_resolve(w->l->dir, address, &res, &error);
	if (r == 0 && split_detail(address, local_delim(w->l), &base,
	    &detail)) {
		r = directory_resolve(w->l->dir, base, &res, &error);
		if (r <= 0 || res->kind != DIRECTORY_KIND_USER) {
			/* a list or forward takes no detail */
			free(detail);
			detail = NULL;
		}
	}
	if (r < 0) {
		log_warnx("smtpd: %s: directory: %s", address, error);
		*reply_r = xasprintf("451 4.4.3 <%s>: directory unavailable, "
		    "try again later", w->top);
		r = -1;
		goto out;
	}
	if (r == 0) {
		*reply_r = xasprintf("550 5.1.1 <%s>: no such user", w->top);
		r = 1;
		goto out;
	}
	if (res->user != NULL &&
	    res->user->status == DIRECTORY_ACCOUNT_DISABLED) {
		*reply_r = xasprintf("550 5.2.1 <%s>: mailbox disabled",
		    w->top);
		r = 1;
		goto out;
	}
	r = 0;
	switch (res->kind) {
	case DIRECTORY_KIND_USER:
		add_user(w, res, detail);
		break;
	case DIRECTORY_KIND_FORWARD:
		for (i = 0; i < res->nrecipients && r == 0; i++)
			r = walk_address(w, res->recipients[i], depth + 1,
			    reply_r);
		break;
	case DIRECTORY_KIND_GROUP:
		for (i = 0; i < res->nrecipients; i++) {
			r = walk_address(w, res->recipients[i], depth + 1,
			    &sub);
			if (r < 0) {
				*reply_r = sub;
				goto out;
			}
			if (r > 0) {
				/* one bad member does not stop the list */
				log_info("smtpd: %s: member %s skipped: %s",
				    address, res->recipients[i], sub);
				free(sub);
				sub = NULL;
			}
		}
		r = 0;
		break;
	}
out:
	directory_resolution_free(&res);
	free(error);
	free(base);
	free(detail);
	return r;
}

/* smtp_local_resolve - the mailboxes and remote addresses of address */
int
smtp_local_resolve(struct smtp_local *l, const char *address,
    struct smtp_local_expansion *x, char **reply_r)
{
	struct walk w;
	size_t i;
	int r;

	memset(x, 0, sizeof(*x));
	*reply_r = NULL;
	memset(&w, 0, sizeof(w));
	w.l = l;
	w.top = address;
	w.x = x;
	r = walk_address(&w, address, 0, reply_r);
	for (i = 0; i < w.nseen; i++)
		free(w.seen[i]);
	free(w.seen);
	if (r == 0 && x->nlocal == 0 && x->nremote == 0) {
		*reply_r = xasprintf("550 5.1.1 <%s>: list has no members "
		    "to deliver to", address);
		r = 1;
	}
	if (r != 0)
		smtp_local_expansion_deinit(x);
	return r;
}

/* smtp_local_check_quota - whether size more bytes fit the target */
int
smtp_local_check_quota(struct smtp_local *l,
    const struct smtp_local_target *t, uint64_t size, char **reply_r)
{
	struct store_user *u;
	const char *error;
	uint64_t bytes, msgs;
	int r;

	if (t->quota == 0)
		return 0;
	if (store_user_open(l->st, t->user, &u, &error) < 0) {
		log_warnx("store: %s: %s", t->user, error);
		*reply_r = xasprintf("451 4.3.0 <%s>: mailbox unavailable, "
		    "try again later", t->address);
		return -1;
	}
	r = store_user_usage(u, &bytes, &msgs, &error);
	store_user_close(&u);
	if (r < 0) {
		log_warnx("store: %s: usage: %s", t->user, error);
		*reply_r = xasprintf("451 4.3.0 <%s>: mailbox unavailable, "
		    "try again later", t->address);
		return -1;
	}
	if (size > 0 ? bytes + size > t->quota : bytes >= t->quota) {
		log_info("%s: over quota (%llu of %llu bytes used, %llu "
		    "more)", t->user, (unsigned long long)bytes,
		    (unsigned long long)t->quota, (unsigned long long)size);
		*reply_r = xasprintf("452 4.2.2 <%s>: mailbox full",
		    t->address);
		return -1;
	}
	return 0;
}

/* smtp_local_reply - "ddd x.y.z text" as a checked reply line */
int
smtp_local_reply(struct buf *out, const char *reply)
{
	char enh[16];
	const char *p, *sp;
	int code;

	p = reply;
	if (strlen(p) < 10 || p[0] < '2' || p[0] > '5' || p[1] < '0' ||
	    p[1] > '9' || p[2] < '0' || p[2] > '9' || p[3] != ' ')
		goto bad;
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	sp = strchr(p + 4, ' ');
	if (sp == NULL || (size_t)(sp - (p + 4)) >= sizeof(enh))
		goto bad;
	memcpy(enh, p + 4, (size_t)(sp - (p + 4)));
	enh[sp - (p + 4)] = '\0';
	if (!smtp_reply_enh_valid(code, enh))
		goto bad;
	return smtp_reply(out, code, enh, "%s", sp + 1);
bad:
	log_warnx("smtpd: bad reply text \"%s\"", reply);
	return smtp_reply(out, 451, "4.3.0", "Internal error");
}

/* return_path - the sender of a leading "Return-Path: <s>" line and the
 * message after it; "" and the whole message without one */
static char *
return_path(const char *msg, size_t len, size_t *skip_r)
{
	static const char hdr[] = "Return-Path: <";
	const char *end;

	*skip_r = 0;
	if (len < sizeof(hdr) - 1 || memcmp(msg, hdr, sizeof(hdr) - 1) != 0)
		return xstrdup("");
	end = memchr(msg, '\n', len);
	if (end == NULL || end - msg < (long)sizeof(hdr) + 1 ||
	    end[-1] != '\r' || end[-2] != '>')
		return xstrdup("");
	*skip_r = (size_t)(end - msg) + 1;
	return xstrndup(msg + sizeof(hdr) - 1,
	    (size_t)(end - 2 - (msg + sizeof(hdr) - 1)));
}

/* smtp_local_deliver - one queued message to one local address */
int
smtp_local_deliver(struct smtp_local *l, const char *address,
    const char *msg, size_t len, char **reply_r)
{
	struct smtp_local_expansion x;
	struct store_rcpt *rc;
	char **fwd, *sender, *error = NULL;
	size_t i, nfwd = 0, nok = 0, skip;
	bool temp = false, quota = false;
	int r;

	*reply_r = NULL;
	r = smtp_local_resolve(l, address, &x, reply_r);
	if (r != 0)
		return r;
	rc = xcalloc(x.nlocal + 1, sizeof(*rc));
	for (i = 0; i < x.nlocal; i++) {
		rc[i].user = x.local[i].user;
		rc[i].mailbox = x.local[i].mailbox;
		rc[i].quota_bytes = x.local[i].quota;
	}
	if (x.nlocal > 0)
		(void)store_deliver(l->st, msg, len, rc, x.nlocal);
	fwd = xcalloc(x.nlocal + x.nremote + 1, sizeof(*fwd));
	for (i = 0; i < x.nremote; i++)
		fwd[nfwd++] = x.remote[i];
	for (i = 0; i < x.nlocal; i++) {
		if (rc[i].result == STORE_OK) {
			nok++;
			continue;
		}
		log_info("%s: delivery to %s failed: %s", address,
		    x.local[i].user, rc[i].error);
		if (rc[i].result == STORE_ERR_QUOTA)
			quota = true;
		else if (rc[i].result == STORE_ERR_TEMP)
			temp = true;
		fwd[nfwd++] = x.local[i].address;
	}
	r = 0;
	if (nok == 0 && x.nremote == 0) {
		/* nothing went anywhere: the caller retries or bounces */
		if (temp || !quota) {
			*reply_r = temp ?
			    xasprintf("451 4.3.0 <%s>: mailbox unavailable, "
			    "try again later", address) :
			    xasprintf("550 5.1.1 <%s>: mailbox unavailable",
			    address);
			r = temp ? -1 : 1;
		} else {
			*reply_r = xasprintf("452 4.2.2 <%s>: mailbox full",
			    address);
			r = -1;
		}
	} else if (nfwd > 0) {
		/* part went through: the rest is queued on its own, so
		 * that a retry of address does not deliver twice */
		sender = return_path(msg, len, &skip);
		if (l->forward == NULL) {
			error = xstrdup("no queue to forward to");
			r = -1;
		} else {
			r = l->forward(l->forward_arg, sender, fwd, nfwd,
			    msg + skip, len - skip, &error);
		}
		if (r < 0) {
			log_warnx("%s: cannot queue %zu forwarded "
			    "recipients: %s", address, nfwd, error);
			*reply_r = xasprintf("451 4.3.0 <%s>: cannot forward, "
			    "try again later", address);
		}
		free(sender);
		free(error);
	}
	free(fwd);
	free(rc);
	smtp_local_expansion_deinit(&x);
	return r;
}
