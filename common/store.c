/* store.c - the mail store: users, folders, snapshots */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mime.h"
#include "str.h"
#include "xmalloc.h"

#include "store.h"
#include "store_name.h"
#include "store_private.h"

/* folders every mailbox has from the start, with their special use */
static const struct {
	const char	*name;
	uint32_t	 attrs;
} store_defaults[] = {
	{ "Drafts", STORE_ATTR_DRAFTS },
	{ "Sent", STORE_ATTR_SENT },
	{ "Trash", STORE_ATTR_TRASH },
	{ "Junk", STORE_ATTR_JUNK },
	{ "Archive", STORE_ATTR_ARCHIVE },
};

/* store_now_ms - monotonic milliseconds */
int64_t
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* store_new - a store for this process */
struct store *
store_new(const struct store_settings *set)
{
	struct store *st;

	st = xcalloc(1, sizeof(*st));
	st->root = xstrdup(set->root);
	st->map_size = set->map_size != 0 ? set->map_size :
	    (uint64_t)1 << 30;
	st->idle_close_ms = set->idle_close_ms;
	st->idle_max = set->idle_max != 0 ? set->idle_max : 128;
	pthread_mutex_init(&st->lock, NULL);
	store_maildir_set_host(set->hostname);
	return st;
}

/* store_new_conf - a store from the [store] section */
struct store *
store_new_conf(const struct conf *conf)
{
	struct store_settings set;

	memset(&set, 0, sizeof(set));
	set.root = conf_str(conf, "store", "root");
	set.hostname = conf_str(conf, "global", "hostname");
	set.map_size = conf_size(conf, "store", "index_map_size");
	set.idle_close_ms = conf_duration_ms(conf, "store", "idle_close");
	set.idle_max = (unsigned int)conf_uint(conf, "store", "idle_max");
	return store_new(&set);
}

/* user_free - close one user's index */
static void
user_free(struct store_user *u)
{
	store_index_free(&u->idx);
	free(u->pending_dir);
	free(u->name);
	free(u->home);
	free(u->maildir);
	free(u->index_dir);
	free(u);
}

/* store_free - close every index; all users must be closed */
void
store_free(struct store **stp)
{
	struct store *st = *stp;
	struct store_user *u, *next;

	if (st == NULL)
		return;
	for (u = st->users; u != NULL; u = next) {
		next = u->next;
		if (u->refs != 0)
			panic("store_free: user %s still open", u->name);
		user_free(u);
	}
	pthread_mutex_destroy(&st->lock);
	free(st->root);
	free(st);
	*stp = NULL;
}

/* store_expire - close the indexes nobody used lately */
void
store_expire(struct store *st)
{
	struct store_user **pp, *u;
	int64_t now = store_now_ms();

	pthread_mutex_lock(&st->lock);
	for (pp = &st->users; (u = *pp) != NULL;) {
		if (u->refs == 0 &&
		    now - u->last_used_ms >= (int64_t)st->idle_close_ms) {
			*pp = u->next;
			user_free(u);
		} else
			pp = &u->next;
	}
	pthread_mutex_unlock(&st->lock);
}

/* trim_idle - close the longest idle indexes beyond idle_max: each open
 * index costs two descriptors, and a burst of deliveries to many users
 * must not run the process out of them; caller holds st->lock */
static void
trim_idle(struct store *st)
{
	struct store_user **pp, **oldest, *u;
	unsigned int idle = 0;

	for (u = st->users; u != NULL; u = u->next)
		idle += u->refs == 0;
	while (idle > st->idle_max) {
		oldest = NULL;
		for (pp = &st->users; *pp != NULL; pp = &(*pp)->next)
			if ((*pp)->refs == 0 && (oldest == NULL ||
			    (*pp)->last_used_ms < (*oldest)->last_used_ms))
				oldest = pp;
		u = *oldest;
		*oldest = u->next;
		user_free(u);
		idle--;
	}
}

/* store_root - the root directory */
const char *
store_root(const struct store *st)
{
	return st->root;
}

/* user_part_ok - a local part or domain that is safe as a path component */
static int
user_part_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 255 || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '/' || (unsigned char)s[i] <= 0x20 ||
		    s[i] == 0x7f)
			return 0;
	return str_is_printable_utf8(s, len);
}

/* folder_add - a new folder record (the directory must exist) */
static int
folder_add(struct store_txn *t, const char *name, uint32_t attrs,
    struct store_folder_rec *rec_r, const char **error_r)
{
	struct store_folder_rec rec;
	uint64_t fid, uv;

	if (store_idx_meta_get(t, "next_fid", &fid, error_r) < 0 ||
	    store_idx_meta_get(t, "next_uidvalidity", &uv, error_r) < 0)
		return -1;
	if (fid == 0)
		fid = 1;
	/* time-based as usual, but never the same twice for this user */
	if (uv < (uint64_t)time(NULL))
		uv = (uint64_t)time(NULL);
	if (uv >= UINT32_MAX)
		uv = 1;
	memset(&rec, 0, sizeof(rec));
	rec.version = STORE_INDEX_VERSION;
	rec.id = (uint32_t)fid;
	rec.uidvalidity = (uint32_t)uv;
	rec.uidnext = 1;
	rec.recent_uid = 1;
	rec.attrs = attrs;
	rec.highestmodseq = 1;
	if (store_idx_meta_put(t, "next_fid", fid + 1, error_r) < 0 ||
	    store_idx_meta_put(t, "next_uidvalidity", uv + 1, error_r) < 0 ||
	    store_idx_folder_put(t, name, &rec, error_r) < 0)
		return -1;
	if (rec_r != NULL)
		*rec_r = rec;
	return 0;
}

/* user_init - INBOX and the special-use folders, once per mailbox */
static int
user_init(struct store_user *u, const char **error_r)
{
	struct store_folder_rec rec;
	struct store_txn *t;
	char *dir;
	uint64_t fid;
	size_t i;
	int r;

	if (store_txn_begin(u->idx, false, &t, error_r) < 0)
		return -1;
	r = store_idx_meta_get(t, "next_fid", &fid, error_r);
	store_txn_abort(&t);
	if (r < 0)
		return -1;
	if (fid != 0)
		return 0;
	if (store_txn_begin(u->idx, true, &t, error_r) < 0)
		return -1;
	if (store_idx_meta_get(t, "next_fid", &fid, error_r) < 0)
		goto fail;
	if (fid != 0) {		/* another process was first */
		store_txn_abort(&t);
		return 0;
	}
	if (store_idx_folder_get(t, "INBOX", &rec, error_r) == 0 &&
	    folder_add(t, "INBOX", 0, NULL, error_r) < 0)
		goto fail;
	for (i = 0; i < sizeof(store_defaults) / sizeof(*store_defaults);
	    i++) {
		dir = xasprintf("%s/.%s", u->maildir, store_defaults[i].name);
		r = store_maildir_create(dir, error_r);
		free(dir);
		if (r < 0 || folder_add(t, store_defaults[i].name,
		    store_defaults[i].attrs, NULL, error_r) < 0 ||
		    store_idx_sub_set(t, store_defaults[i].name, true,
		    error_r) < 0)
			goto fail;
	}
	if (store_idx_sub_set(t, "INBOX", true, error_r) < 0)
		goto fail;
	return store_txn_commit(&t, error_r);
fail:
	store_txn_abort(&t);
	return -1;
}

/* store_user_open - a user's mailbox, created and indexed on first use */
int
store_user_open(struct store *st, const char *user, struct store_user **u_r,
    const char **error_r)
{
	struct store_user *u;
	const char *at;
	char *domain;
	int r;

	at = strrchr(user, '@');
	if (at == NULL || !user_part_ok(user, (size_t)(at - user)) ||
	    !user_part_ok(at + 1, strlen(at + 1))) {
		*error_r = "invalid user name";
		return -1;
	}
	pthread_mutex_lock(&st->lock);
	for (u = st->users; u != NULL; u = u->next)
		if (strcmp(u->name, user) == 0)
			break;
	if (u != NULL) {
		u->refs++;
		pthread_mutex_unlock(&st->lock);
		*u_r = u;
		return 0;
	}
	/* XXX: opening under the table lock serialises first opens of
	 * different users; it keeps two threads from opening one LMDB file
	 * twice, which LMDB forbids within a process */
	u = xcalloc(1, sizeof(*u));
	u->st = st;
	u->name = xstrdup(user);
	domain = xstrdup(at + 1);
	str_lower(domain);
	u->home = xasprintf("%s/%s/%.*s", st->root, domain,
	    (int)(at - user), user);
	free(domain);
	u->maildir = xasprintf("%s/Maildir", u->home);
	u->index_dir = xasprintf("%s/index.lmdb", u->home);
	r = store_maildir_create(u->maildir, error_r);
	if (r == 0)
		r = store_index_open(u->index_dir, st->map_size, &u->idx,
		    error_r);
	if (r == 0)
		r = user_init(u, error_r);
	if (r < 0) {
		pthread_mutex_unlock(&st->lock);
		user_free(u);
		return -1;
	}
	u->refs = 1;
	u->next = st->users;
	st->users = u;
	trim_idle(st);
	pthread_mutex_unlock(&st->lock);
	*u_r = u;
	return 0;
}

/* store_user_close - release a user (the index stays open until idle) */
void
store_user_close(struct store_user **up)
{
	struct store_user *u = *up;

	if (u == NULL)
		return;
	pthread_mutex_lock(&u->st->lock);
	if (u->refs == 0)
		panic("store_user_close: %s not open", u->name);
	u->refs--;
	u->last_used_ms = store_now_ms();
	pthread_mutex_unlock(&u->st->lock);
	*up = NULL;
}

/* store_user_home - the user's directory */
const char *
store_user_home(const struct store_user *u)
{
	return u->home;
}

/* store_user_usage - quota usage from the index */
int
store_user_usage(struct store_user *u, uint64_t *bytes_r,
    uint64_t *messages_r, const char **error_r)
{
	struct store_txn *t;
	int r;

	if (store_txn_begin(u->idx, false, &t, error_r) < 0)
		return -1;
	r = store_idx_meta_get(t, "quota_bytes", bytes_r, error_r) < 0 ||
	    store_idx_meta_get(t, "quota_msgs", messages_r, error_r) < 0;
	store_txn_abort(&t);
	return r ? -1 : 0;
}

/* store_folder_path - canonical name and directory of a folder */
int
store_folder_path(struct store_user *u, const char *name, char **canon_r,
    char **dir_r, const char **error_r)
{
	char *canon, *sub;

	if (store_name_check(name, &canon, error_r) < 0)
		return -1;
	if (store_name_to_dir(canon, &sub, error_r) < 0) {
		free(canon);
		return -1;
	}
	*dir_r = *sub == '\0' ? xstrdup(u->maildir) :
	    xasprintf("%s/%s", u->maildir, sub);
	free(sub);
	if (canon_r != NULL)
		*canon_r = canon;
	else
		free(canon);
	return 0;
}

/* store_folder_get - the record of an existing folder */
int
store_folder_get(struct store_txn *t, const char *name,
    struct store_folder_rec *rec_r, const char **error_r)
{
	int r = store_idx_folder_get(t, name, rec_r, error_r);

	if (r == 0) {
		*error_r = "no such mailbox";
		return -1;
	}
	return r < 0 ? -1 : 0;
}

/* store_account - counters of a folder and the user's quota usage */
int
store_account(struct store_txn *t, struct store_folder_rec *rec,
    const struct store_msg *msg, int sign, const char **error_r)
{
	uint64_t bytes, msgs;

	if (sign > 0) {
		rec->messages++;
		rec->size += msg->size;
		if (!(msg->flags & STORE_FLAG_SEEN))
			rec->unseen++;
		if (msg->uid >= rec->recent_uid)
			rec->recent++;
	} else {
		rec->messages -= rec->messages > 0;
		rec->size -= rec->size >= msg->size ? msg->size : rec->size;
		if (!(msg->flags & STORE_FLAG_SEEN))
			rec->unseen -= rec->unseen > 0;
		if (msg->uid >= rec->recent_uid)
			rec->recent -= rec->recent > 0;
	}
	if (store_idx_meta_get(t, "quota_bytes", &bytes, error_r) < 0 ||
	    store_idx_meta_get(t, "quota_msgs", &msgs, error_r) < 0)
		return -1;
	if (sign > 0) {
		bytes += msg->size;
		msgs++;
	} else {
		bytes -= bytes >= msg->size ? msg->size : bytes;
		msgs -= msgs > 0;
	}
	if (store_idx_meta_put(t, "quota_bytes", bytes, error_r) < 0 ||
	    store_idx_meta_put(t, "quota_msgs", msgs, error_r) < 0)
		return -1;
	return 0;
}

/* store_cache_from_summary - point a cache record at a summary */
void
store_cache_from_summary(const struct mime_summary *sum,
    struct store_cache *c)
{
	memset(c, 0, sizeof(*c));
	c->header_size = sum->header_size;
	c->sent_date = sum->sent_date;
	c->envelope = sum->envelope;
	c->bodystructure = sum->bodystructure;
	c->body = sum->body;
	c->header_fields = sum->header_fields;
	c->message_id = sum->message_id;
	c->in_reply_to = sum->in_reply_to;
	c->references = sum->references;
	c->base_subject = sum->base_subject;
}

/* store_msg_path - the cur/ path of a message with these flags */
char *
store_msg_path(const char *dir, const char *base, unsigned int flags)
{
	char *fname = store_maildir_fname(base, strlen(base), flags);
	char *path = xasprintf("%s/cur/%s", dir, fname);

	free(fname);
	return path;
}

/* kw_cmp - qsort helper for keyword lists */
static int
kw_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* store_keywords_apply - the keyword list after a STORE of change */
char *
store_keywords_apply(const char *old, enum store_flag_mode mode,
    const char *change)
{
	char **ov, **cv, **all, *out;
	size_t on = 0, cn = 0, n = 0, i, j, len = 0;
	bool drop;

	ov = str_split(mode == STORE_FLAGS_SET ? "" : old, " ", &on);
	cv = str_split(change != NULL ? change : "", " ", &cn);
	all = xcalloc(on + cn + 1, sizeof(*all));
	for (i = 0; i < on; i++) {
		drop = false;
		if (mode == STORE_FLAGS_REMOVE)
			for (j = 0; j < cn; j++)
				if (strcasecmp(ov[i], cv[j]) == 0)
					drop = true;
		if (!drop)
			all[n++] = ov[i];
	}
	if (mode != STORE_FLAGS_REMOVE)
		for (j = 0; j < cn; j++)
			all[n++] = cv[j];
	qsort(all, n, sizeof(*all), kw_cmp);
	for (i = 0; i < n; i++)
		len += strlen(all[i]) + 1;
	out = xcalloc(1, len + 1);
	for (i = 0; i < n; i++) {
		/* drop duplicates (keywords are case-insensitive) */
		if (i > 0 && strcasecmp(all[i], all[i - 1]) == 0)
			continue;
		if (*out != '\0')
			strcat(out, " ");
		strcat(out, all[i]);
	}
	free(all);
	str_split_free(&ov);
	str_split_free(&cv);
	return out;
}

static void rm_tree(const char *path);

/* folders_from_disk - index folders created on disk by other programs,
 * and forget those whose directory is gone */
static int
folders_from_disk(struct store_user *u, const char **error_r)
{
	struct store_folder_rec rec;
	struct store_iter_rec ir;
	struct store_iter *it;
	struct store_txn *t;
	struct dirent *de;
	struct stat sb;
	char **gone = NULL, **found = NULL, *name, *path;
	size_t ngone = 0, nfound = 0, i;
	DIR *d;
	int r;

	if ((d = opendir(u->maildir)) == NULL) {
		log_warn("opendir(%s)", u->maildir);
		*error_r = "cannot read mailbox";
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "..deleted.", 10) == 0) {
			/* a delete that crashed before its cleanup */
			path = xasprintf("%s/%s", u->maildir, de->d_name);
			rm_tree(path);
			free(path);
			continue;
		}
		if (store_name_from_dir(de->d_name, &name) < 0)
			continue;
		path = xasprintf("%s/%s/cur", u->maildir, de->d_name);
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			found = xreallocarray(found, nfound + 1,
			    sizeof(*found));
			found[nfound++] = name;
		} else
			free(name);
		free(path);
	}
	closedir(d);
	if (store_txn_begin(u->idx, false, &t, error_r) < 0)
		goto fail;
	r = 0;
	for (i = 0; i < nfound; i++) {
		if ((r = store_idx_folder_get(t, found[i], &rec,
		    error_r)) < 0)
			break;
		if (r == 1) {
			free(found[i]);
			found[i] = NULL;
		}
	}
	if (r >= 0 && store_iter_new(t, STORE_ITER_FOLDERS, 0, 0, &it,
	    error_r) == 0) {
		while ((r = store_iter_next(it, &ir, error_r)) == 1) {
			name = xstrndup(ir.base, ir.base_len);
			if (store_name_is_inbox(name) ||
			    store_folder_path(u, name, NULL, &path,
			    error_r) < 0) {
				free(name);
				continue;
			}
			if (stat(path, &sb) < 0 && errno == ENOENT) {
				gone = xreallocarray(gone, ngone + 1,
				    sizeof(*gone));
				gone[ngone++] = name;
			} else
				free(name);
			free(path);
		}
		store_iter_free(&it);
	}
	store_txn_abort(&t);
	if (r < 0)
		goto fail;
	for (i = 0; i < nfound && found[i] == NULL; i++)
		;
	if (i == nfound && ngone == 0)
		goto done;
	if (store_txn_begin(u->idx, true, &t, error_r) < 0)
		goto fail;
	for (i = 0; i < nfound; i++) {
		if (found[i] == NULL)
			continue;
		r = store_idx_folder_get(t, found[i], &rec, error_r);
		if (r < 0 || (r == 0 && folder_add(t, found[i], 0, NULL,
		    error_r) < 0))
			goto fail_txn;
	}
	for (i = 0; i < ngone; i++) {
		if (store_idx_folder_get(t, gone[i], &rec, error_r) != 1)
			continue;
		log_info("store %s: folder %s vanished from disk", u->name,
		    gone[i]);
		rec.messages = rec.unseen = 0;
		if (store_idx_folder_purge(t, rec.id, error_r) < 0 ||
		    store_idx_folder_del(t, gone[i], error_r) < 0)
			goto fail_txn;
	}
	if (store_txn_commit(&t, error_r) < 0)
		goto fail;
done:
	for (i = 0; i < nfound; i++)
		free(found[i]);
	for (i = 0; i < ngone; i++)
		free(gone[i]);
	free(found);
	free(gone);
	return 0;
fail_txn:
	store_txn_abort(&t);
fail:
	for (i = 0; i < nfound; i++)
		free(found[i]);
	for (i = 0; i < ngone; i++)
		free(gone[i]);
	free(found);
	free(gone);
	return -1;
}

/* info_cmp - list order: by name */
static int
info_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_mailbox_info *)a)->name,
	    ((const struct store_mailbox_info *)b)->name);
}

/* store_mailbox_list - every folder, and subscribed names */
int
store_mailbox_list(struct store_user *u, struct store_mailbox_info **list_r,
    size_t *n_r, const char **error_r)
{
	struct store_mailbox_info *list = NULL;
	struct store_iter_rec ir;
	struct store_iter *it;
	struct store_txn *t;
	size_t n = 0, i;
	char *name;
	int r;

	if (folders_from_disk(u, error_r) < 0)
		return -1;
	if (store_txn_begin(u->idx, false, &t, error_r) < 0)
		return -1;
	if ((r = store_iter_new(t, STORE_ITER_FOLDERS, 0, 0, &it,
	    error_r)) == 0) {
		while ((r = store_iter_next(it, &ir, error_r)) == 1) {
			list = xreallocarray(list, n + 1, sizeof(*list));
			memset(&list[n], 0, sizeof(*list));
			list[n].name = xstrndup(ir.base, ir.base_len);
			list[n].attrs = ir.folder.attrs;
			list[n].exists = true;
			n++;
		}
		store_iter_free(&it);
	}
	if (r == 0 && (r = store_iter_new(t, STORE_ITER_SUBS, 0, 0, &it,
	    error_r)) == 0) {
		while ((r = store_iter_next(it, &ir, error_r)) == 1) {
			name = xstrndup(ir.base, ir.base_len);
			for (i = 0; i < n; i++)
				if (strcmp(list[i].name, name) == 0)
					break;
			if (i == n) {
				list = xreallocarray(list, n + 1,
				    sizeof(*list));
				memset(&list[n], 0, sizeof(*list));
				list[n].name = name;
				n++;
			} else
				free(name);
			list[i].subscribed = true;
		}
		store_iter_free(&it);
	}
	store_txn_abort(&t);
	if (r < 0) {
		store_mailbox_list_free(&list, n);
		return -1;
	}
	if (n > 0)
		qsort(list, n, sizeof(*list), info_cmp);
	*list_r = list;
	*n_r = n;
	return 0;
}

/* store_mailbox_list_free - free a list */
void
store_mailbox_list_free(struct store_mailbox_info **list, size_t n)
{
	size_t i;

	if (*list == NULL)
		return;
	for (i = 0; i < n; i++)
		free((*list)[i].name);
	xfree(list);
}

/* store_mailbox_create - a new folder without a special use */
int
store_mailbox_create(struct store_user *u, const char *name,
    const char **error_r)
{
	return store_mailbox_create_use(u, name, 0, NULL, error_r);
}

/* store_mailbox_create_use - a new folder: directory, then index record
 * (with its special-use attributes) */
int
store_mailbox_create_use(struct store_user *u, const char *name,
    uint32_t attrs, char *mailboxid_r, const char **error_r)
{
	struct store_folder_rec rec;
	struct store_txn *t;
	char *canon, *dir, *marker;
	int r, fd;

	if ((attrs & ~(uint32_t)STORE_ATTR_SPECIAL) != 0) {
		*error_r = "unsupported special use";
		return -1;
	}
	if (store_folder_path(u, name, &canon, &dir, error_r) < 0)
		return -1;
	if (store_txn_begin(u->idx, true, &t, error_r) < 0)
		goto fail;
	if ((r = store_idx_folder_get(t, canon, &rec, error_r)) != 0) {
		if (r > 0)
			*error_r = "mailbox already exists";
		goto fail_txn;
	}
	if (store_maildir_create(dir, error_r) < 0)
		goto fail_txn;
	/* Maildir++ marks folders with this file, for other programs */
	marker = xasprintf("%s/maildirfolder", dir);
	if ((fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	free(marker);
	if (store_maildir_dirsync(u->maildir, error_r) < 0 ||
	    folder_add(t, canon, attrs, &rec, error_r) < 0 ||
	    store_txn_commit(&t, error_r) < 0)
		goto fail_txn;
	if (mailboxid_r != NULL)
		store_mailbox_id_format(&rec, mailboxid_r);
	free(canon);
	free(dir);
	return 0;
fail_txn:
	store_txn_abort(&t);
fail:
	free(canon);
	free(dir);
	return -1;
}

/* rm_tree - remove a folder directory that nobody can see any more */
static void
rm_tree(const char *path)
{
	struct dirent *de;
	struct stat sb;
	char *sub;
	DIR *d;

	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			sub = xasprintf("%s/%s", path, de->d_name);
			if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
				rm_tree(sub);
			else if (unlink(sub) < 0)
				log_warn("unlink(%s)", sub);
			free(sub);
		}
		closedir(d);
	}
	if (rmdir(path) < 0)
		log_warn("rmdir(%s)", path);
}

/* store_mailbox_delete - a folder and its messages (not its children) */
int
store_mailbox_delete(struct store_user *u, const char *name,
    const char **error_r)
{
	struct store_folder_rec rec;
	struct store_txn *t;
	struct store_msg m;
	char *canon, *dir, *unique, *trash = NULL;
	uint64_t bytes, msgs;

	if (store_folder_path(u, name, &canon, &dir, error_r) < 0)
		return -1;
	if (store_name_is_inbox(canon)) {
		*error_r = "INBOX cannot be deleted";
		goto fail;
	}
	if (store_txn_begin(u->idx, true, &t, error_r) < 0)
		goto fail;
	if (store_folder_get(t, canon, &rec, error_r) < 0)
		goto fail_txn;
	/* first out of sight under a name that is never a folder ("..x"),
	 * so a crash leaves either the folder or nothing visible */
	unique = store_maildir_unique(0);
	trash = xasprintf("%s/..deleted.%s", u->maildir, unique);
	free(unique);
	if (rename(dir, trash) < 0 && errno != ENOENT) {
		log_warn("rename(%s, %s)", dir, trash);
		*error_r = "cannot delete mailbox";
		goto fail_txn;
	}
	memset(&m, 0, sizeof(m));
	if (store_idx_meta_get(t, "quota_bytes", &bytes, error_r) < 0 ||
	    store_idx_meta_get(t, "quota_msgs", &msgs, error_r) < 0 ||
	    store_idx_meta_put(t, "quota_bytes", bytes > rec.size ?
	    bytes - rec.size : 0, error_r) < 0 ||
	    store_idx_meta_put(t, "quota_msgs", msgs > rec.messages ?
	    msgs - rec.messages : 0, error_r) < 0 ||
	    store_idx_folder_purge(t, rec.id, error_r) < 0 ||
	    store_idx_folder_del(t, canon, error_r) < 0 ||
	    store_txn_commit(&t, error_r) < 0) {
		/* put it back: the index still lists it */
		if (rename(trash, dir) < 0)
			log_warn("rename(%s, %s)", trash, dir);
		goto fail_txn;
	}
	rm_tree(trash);
	free(trash);
	free(canon);
	free(dir);
	return 0;
fail_txn:
	store_txn_abort(&t);
fail:
	free(trash);
	free(canon);
	free(dir);
	return -1;
}

/* rename_inbox - RFC 3501: the messages move to a new folder, INBOX
 * stays (empty) and keeps its children.  XXX: several transactions; a
 * crash in between leaves some messages in each, none lost */
static int
rename_inbox(struct store_user *u, const char *to, const char **error_r)
{
	struct store_mailbox *mb;
	struct store_snapshot *snap;
	struct store_uid_map *map = NULL;
	struct store_msg m;
	uint32_t *uids = NULL;
	size_t n = 0, nmap;
	int r;

	if (store_mailbox_create(u, to, error_r) < 0)
		return -1;
	if (store_mailbox_open(u, "INBOX", &mb, error_r) < 0)
		return -1;
	if ((r = store_snapshot_begin(mb, &snap, error_r)) == 0) {
		while ((r = store_snapshot_next(snap, 0, &m, error_r)) == 1) {
			uids = xreallocarray(uids, n + 1, sizeof(*uids));
			uids[n++] = m.uid;
		}
		store_snapshot_end(&snap);
	}
	if (r == 0 && n > 0)
		r = store_copy(mb, uids, n, to, true, &map, &nmap, NULL,
		    error_r);
	free(map);
	free(uids);
	store_mailbox_close(&mb);
	return r < 0 ? -1 : 0;
}

/* store_mailbox_rename - a folder and its children get a new name */
int
store_mailbox_rename(struct store_user *u, const char *from, const char *to,
    const char **error_r)
{
	struct store_folder_rec rec;
	struct store_iter_rec ir;
	struct store_iter *it;
	struct store_txn *t;
	char *cfrom = NULL, *cto = NULL, *dfrom = NULL, *dto = NULL;
	char **olds = NULL, *oname, *nname, *od, *nd;
	size_t nolds = 0, i, flen;
	int r;

	if (store_folder_path(u, from, &cfrom, &dfrom, error_r) < 0 ||
	    store_folder_path(u, to, &cto, &dto, error_r) < 0)
		goto fail;
	if (store_name_is_inbox(cto)) {
		*error_r = "mailbox already exists";
		goto fail;
	}
	if (store_name_is_inbox(cfrom)) {
		r = rename_inbox(u, cto, error_r);
		free(cfrom);
		free(cto);
		free(dfrom);
		free(dto);
		return r;
	}
	flen = strlen(cfrom);
	if (strncmp(cto, cfrom, flen) == 0 && cto[flen] == '/') {
		*error_r = "cannot rename a mailbox into itself";
		goto fail;
	}
	if (store_txn_begin(u->idx, true, &t, error_r) < 0)
		goto fail;
	if (store_folder_get(t, cfrom, &rec, error_r) < 0)
		goto fail_txn;
	if ((r = store_idx_folder_get(t, cto, &rec, error_r)) != 0) {
		if (r > 0)
			*error_r = "mailbox already exists";
		goto fail_txn;
	}
	/* the folder itself and every child "from/..." */
	if ((r = store_iter_new(t, STORE_ITER_FOLDERS, 0, 0, &it,
	    error_r)) < 0)
		goto fail_txn;
	while ((r = store_iter_next(it, &ir, error_r)) == 1) {
		if (ir.base_len < flen || memcmp(ir.base, cfrom, flen) != 0 ||
		    (ir.base_len > flen && ir.base[flen] != '/'))
			continue;
		olds = xreallocarray(olds, nolds + 1, sizeof(*olds));
		olds[nolds++] = xstrndup(ir.base, ir.base_len);
	}
	store_iter_free(&it);
	if (r < 0)
		goto fail_txn;
	for (i = 0; i < nolds; i++) {
		oname = olds[i];
		nname = xasprintf("%s%s", cto, oname + flen);
		od = nd = NULL;
		r = store_folder_path(u, oname, NULL, &od, error_r) < 0 ||
		    store_folder_path(u, nname, NULL, &nd, error_r) < 0 ||
		    store_idx_folder_get(t, oname, &rec, error_r) != 1 ||
		    store_idx_folder_del(t, oname, error_r) < 0 ||
		    store_idx_folder_put(t, nname, &rec, error_r) < 0;
		if (!r && rename(od, nd) < 0) {
			log_warn("rename(%s, %s)", od, nd);
			*error_r = "cannot rename mailbox";
			r = 1;
		}
		free(od);
		free(nd);
		free(nname);
		if (r) {
			/* XXX: directories renamed so far stay renamed; the
			 * next list finds them under their new names */
			goto fail_txn;
		}
	}
	if (store_maildir_dirsync(u->maildir, error_r) < 0 ||
	    store_txn_commit(&t, error_r) < 0)
		goto fail_txn;
	for (i = 0; i < nolds; i++)
		free(olds[i]);
	free(olds);
	free(cfrom);
	free(cto);
	free(dfrom);
	free(dto);
	return 0;
fail_txn:
	store_txn_abort(&t);
fail:
	for (i = 0; i < nolds; i++)
		free(olds[i]);
	free(olds);
	free(cfrom);
	free(cto);
	free(dfrom);
	free(dto);
	return -1;
}

/* store_mailbox_subscribe - (un)subscribe, whether the folder exists or not */
int
store_mailbox_subscribe(struct store_user *u, const char *name, bool on,
    const char **error_r)
{
	struct store_txn *t;
	char *canon;

	if (store_name_check(name, &canon, error_r) < 0)
		return -1;
	if (store_txn_begin(u->idx, true, &t, error_r) < 0) {
		free(canon);
		return -1;
	}
	if (store_idx_sub_set(t, canon, on, error_r) < 0) {
		store_txn_abort(&t);
		free(canon);
		return -1;
	}
	free(canon);
	return store_txn_commit(&t, error_r);
}

/* store_mailbox_id_format - "F" uidvalidity fid, in hex (store.h) */
void
store_mailbox_id_format(const struct store_folder_rec *rec, char *id)
{
	snprintf(id, STORE_MAILBOXID_SIZE, "F%08x%08x",
	    (unsigned int)rec->uidvalidity, (unsigned int)rec->id);
}

/* status_from_rec - the STATUS items of a folder record */
static void
status_from_rec(const struct store_folder_rec *rec, struct store_status *s)
{
	s->messages = rec->messages;
	s->recent = rec->recent;
	s->uidnext = rec->uidnext;
	s->uidvalidity = rec->uidvalidity;
	s->unseen = rec->unseen;
	s->size = rec->size;
	s->highestmodseq = rec->highestmodseq;
	store_mailbox_id_format(rec, s->mailboxid);
}

/* store_mailbox_status - counters, after a (usually trivial) sync */
int
store_mailbox_status(struct store_user *u, const char *name,
    struct store_status *status_r, const char **error_r)
{
	struct store_folder_rec rec;
	struct store_txn *t;
	char *canon, *dir;
	int r;

	if (store_folder_path(u, name, &canon, &dir, error_r) < 0)
		return -1;
	r = store_sync(u, canon, dir, error_r);
	if (r == 0 && (r = store_txn_begin(u->idx, false, &t,
	    error_r)) == 0) {
		r = store_folder_get(t, canon, &rec, error_r);
		store_txn_abort(&t);
	}
	if (r == 0)
		status_from_rec(&rec, status_r);
	free(canon);
	free(dir);
	return r;
}

/* store_mailbox_open - select a folder (and bring the index up to date) */
int
store_mailbox_open(struct store_user *u, const char *name,
    struct store_mailbox **mb_r, const char **error_r)
{
	struct store_mailbox *mb;
	struct store_folder_rec rec;
	struct store_txn *t;
	int r;

	mb = xcalloc(1, sizeof(*mb));
	mb->u = u;
	if (store_folder_path(u, name, &mb->name, &mb->dir, error_r) < 0) {
		free(mb);
		return -1;
	}
	r = store_txn_begin(u->idx, false, &t, error_r);
	if (r == 0) {
		r = store_idx_folder_get(t, mb->name, &rec, error_r);
		store_txn_abort(&t);
		/* maybe created on disk by another program */
		if (r == 0 && (r = folders_from_disk(u, error_r)) == 0 &&
		    (r = store_txn_begin(u->idx, false, &t, error_r)) == 0) {
			r = store_folder_get(t, mb->name, &rec, error_r);
			store_txn_abort(&t);
		} else if (r == 1)
			r = 0;
	}
	if (r == 0)
		r = store_sync(u, mb->name, mb->dir, error_r);
	if (r < 0) {
		store_mailbox_close(&mb);
		return -1;
	}
	mb->fid = rec.id;
	mb->uidvalidity = rec.uidvalidity;
	store_mailbox_id_format(&rec, mb->mailboxid);
	*mb_r = mb;
	return 0;
}

/* store_mailbox_close - deselect */
void
store_mailbox_close(struct store_mailbox **mbp)
{
	struct store_mailbox *mb = *mbp;

	if (mb == NULL)
		return;
	free(mb->name);
	free(mb->dir);
	free(mb);
	*mbp = NULL;
}

/* store_mailbox_name - canonical name of an open folder */
const char *
store_mailbox_name(const struct store_mailbox *mb)
{
	return mb->name;
}

/* store_mailbox_id - MAILBOXID of an open folder */
const char *
store_mailbox_id(const struct store_mailbox *mb)
{
	return mb->mailboxid;
}

/* store_mailbox_sync - changes on disk into the index */
int
store_mailbox_sync(struct store_mailbox *mb, const char **error_r)
{
	return store_sync(mb->u, mb->name, mb->dir, error_r);
}

/* store_mailbox_claim_recent - this session sees \Recent; nobody after */
int
store_mailbox_claim_recent(struct store_mailbox *mb, uint32_t *first_r,
    const char **error_r)
{
	struct store_folder_rec rec;
	struct store_txn *t;

	if (store_txn_begin(mb->u->idx, true, &t, error_r) < 0)
		return -1;
	if (store_folder_get(t, mb->name, &rec, error_r) < 0 ||
	    rec.id != mb->fid) {
		if (rec.id != mb->fid)
			*error_r = "mailbox was deleted";
		store_txn_abort(&t);
		return -1;
	}
	*first_r = rec.recent_uid;
	if (rec.recent_uid == rec.uidnext) {
		store_txn_abort(&t);
		return 0;
	}
	rec.recent_uid = rec.uidnext;
	rec.recent = 0;
	if (store_idx_folder_put(t, mb->name, &rec, error_r) < 0) {
		store_txn_abort(&t);
		return -1;
	}
	return store_txn_commit(&t, error_r);
}

/* store_snapshot_begin - a read transaction on an open folder */
int
store_snapshot_begin(struct store_mailbox *mb, struct store_snapshot **snap_r,
    const char **error_r)
{
	struct store_snapshot *snap;

	snap = xcalloc(1, sizeof(*snap));
	snap->mb = mb;
	if (store_txn_begin(mb->u->idx, false, &snap->t, error_r) < 0) {
		free(snap);
		return -1;
	}
	if (store_folder_get(snap->t, mb->name, &snap->rec, error_r) < 0 ||
	    snap->rec.id != mb->fid) {
		if (snap->rec.id != mb->fid)
			*error_r = "mailbox was deleted";
		store_snapshot_end(&snap);
		return -1;
	}
	*snap_r = snap;
	return 0;
}

/* store_snapshot_end - release the read transaction */
void
store_snapshot_end(struct store_snapshot **snapp)
{
	struct store_snapshot *snap = *snapp;

	if (snap == NULL)
		return;
	store_iter_free(&snap->it);
	store_iter_free(&snap->xit);
	store_txn_abort(&snap->t);
	free(snap);
	*snapp = NULL;
}

/* store_snapshot_status - counters as of the snapshot */
void
store_snapshot_status(const struct store_snapshot *snap,
    struct store_status *status_r)
{
	status_from_rec(&snap->rec, status_r);
}

/* store_snapshot_next - walk messages; a new from_uid restarts the walk
 * only when no walk is going on */
int
store_snapshot_next(struct store_snapshot *snap, uint32_t from_uid,
    struct store_msg *msg_r, const char **error_r)
{
	struct store_iter_rec ir;
	int r;

	if (snap->it == NULL && store_iter_new(snap->t, STORE_ITER_MSGS,
	    snap->rec.id, from_uid, &snap->it, error_r) < 0)
		return -1;
	r = store_iter_next(snap->it, &ir, error_r);
	if (r == 1)
		*msg_r = ir.msg;
	else
		store_iter_free(&snap->it);
	return r;
}

/* store_snapshot_get - one message by UID */
int
store_snapshot_get(struct store_snapshot *snap, uint32_t uid,
    struct store_msg *msg_r, const char **error_r)
{
	return store_idx_msg_get(snap->t, snap->rec.id, uid, msg_r, error_r);
}

/* store_snapshot_cache - cached ENVELOPE and friends */
int
store_snapshot_cache(struct store_snapshot *snap, uint32_t uid,
    struct store_cache *cache_r, const char **error_r)
{
	return store_idx_cache_get(snap->t, snap->rec.id, uid, cache_r,
	    error_r);
}

/* store_snapshot_expunged - walk the expunge log for QRESYNC */
int
store_snapshot_expunged(struct store_snapshot *snap, uint64_t since,
    uint32_t *uid_r, uint64_t *modseq_r, const char **error_r)
{
	struct store_iter_rec ir;
	int r;

	if (snap->xit == NULL && store_iter_new(snap->t, STORE_ITER_EXPUNGED,
	    snap->rec.id, 0, &snap->xit, error_r) < 0)
		return -1;
	while ((r = store_iter_next(snap->xit, &ir, error_r)) == 1) {
		if (ir.modseq <= since)
			continue;
		*uid_r = ir.uid;
		*modseq_r = ir.modseq;
		return 1;
	}
	store_iter_free(&snap->xit);
	return r;
}

/* find_by_base - the current file name of base in cur/ (renamed by
 * someone since the snapshot); caller frees */
static char *
find_by_base(const char *dir, const char *base)
{
	struct dirent *de;
	char *cur, *found = NULL;
	size_t len = strlen(base);
	DIR *d;

	cur = xasprintf("%s/cur", dir);
	if ((d = opendir(cur)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, base, len) == 0 &&
			    (de->d_name[len] == ':' ||
			    de->d_name[len] == '\0')) {
				found = xasprintf("%s/%s", cur, de->d_name);
				break;
			}
		closedir(d);
	}
	free(cur);
	return found;
}

/* store_snapshot_open_msg - open the file of a message for reading */
int
store_snapshot_open_msg(struct store_snapshot *snap,
    const struct store_msg *msg, int *fd_r, const char **error_r)
{
	char *path;
	int fd;

	path = store_msg_path(snap->mb->dir, msg->base, msg->flags);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		free(path);
		/* flags changed since the snapshot, or a foreign name */
		if ((path = find_by_base(snap->mb->dir, msg->base)) != NULL)
			fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("open(%s)", path != NULL ? path : msg->base);
		*error_r = "message is gone";
		free(path);
		return -1;
	}
	free(path);
	*fd_r = fd;
	return 0;
}
