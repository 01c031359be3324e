/* store_ops.c - append, flags, expunge, copy and move */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mime.h"
#include "xmalloc.h"

#include "store.h"
#include "store_private.h"

/*
 * Order of work, so that a crash at any point leaves a state that the
 * next sync turns into a consistent one without reusing a UID: the files
 * change first (rename, link, unlink) and the directory is fsynced, then
 * the index transaction commits.  A crash before the commit leaves files
 * that disagree with the index; the Maildir wins at the next sync (a new
 * file gets a fresh UID, a missing one is expunged, flag letters are
 * adopted), and the operation was never acknowledged.
 */

/* msg_own - copy the strings of a message record out of LMDB, whose
 * values die at the next update in the same transaction */
static void
msg_own(struct store_msg *m, char **base_r, char **kw_r)
{
	*base_r = xstrdup(m->base);
	*kw_r = xstrdup(m->keywords);
	m->base = *base_r;
	m->keywords = *kw_r;
}

/* open_folder_txn - write transaction and the record of an open folder */
static int
open_folder_txn(struct store_mailbox *mb, struct store_txn **t_r,
    struct store_folder_rec *rec, const char **error_r)
{
	if (store_txn_begin(mb->u->idx, true, t_r, error_r) < 0)
		return -1;
	if (store_folder_get(*t_r, mb->name, rec, error_r) < 0 ||
	    rec->id != mb->fid) {
		if (rec->id != mb->fid)
			*error_r = "mailbox was deleted";
		store_txn_abort(t_r);
		return -1;
	}
	return 0;
}

/* store_append - a message into a folder, with flags and INTERNALDATE */
int
store_append(struct store_user *u, const char *mailbox, const char *msg,
    size_t len, unsigned int flags, const char *keywords,
    time_t internaldate, uint32_t *uid_r, uint32_t *uidvalidity_r,
    const char **error_r)
{
	struct store_folder_rec rec;
	struct store_cache cache;
	struct mime_summary sum;
	struct store_txn *t = NULL;
	struct store_msg m;
	char *canon, *dir, *base, *tmp, *dst = NULL, *curd, *kw;
	bool renamed = false;
	int r = -1;

	if (store_folder_path(u, mailbox, &canon, &dir, error_r) < 0)
		return -1;
	if (internaldate == 0)
		internaldate = time(NULL);
	base = store_maildir_unique(len);
	tmp = xasprintf("%s/tmp/%s", dir, base);
	curd = xasprintf("%s/cur", dir);
	kw = store_keywords_apply("", STORE_FLAGS_SET, keywords);
	flags &= STORE_FLAGS_ALL;
	if (store_maildir_write(tmp, msg, len, internaldate, error_r) < 0) {
		free(tmp);
		tmp = NULL;
		goto out;
	}
	mime_summarize(msg, len, &sum);
	if (store_txn_begin(u->idx, true, &t, error_r) < 0)
		goto out_sum;
	if (store_folder_get(t, canon, &rec, error_r) < 0)
		goto out_sum;
	dst = store_msg_path(dir, base, flags);
	if (rename(tmp, dst) < 0) {
		log_warn("rename(%s, %s)", tmp, dst);
		*error_r = "cannot store message";
		goto out_sum;
	}
	renamed = true;
	if (rec.uidnext == UINT32_MAX) {
		*error_r = "mailbox is out of UIDs";
		goto out_sum;
	}
	memset(&m, 0, sizeof(m));
	m.uid = rec.uidnext++;
	m.flags = flags;
	m.modseq = ++rec.highestmodseq;
	m.internaldate = internaldate;
	m.size = len;
	m.base = base;
	m.keywords = kw;
	store_cache_from_summary(&sum, &cache);
	store_sync_own_change(&rec, dir);
	if (store_account(t, &rec, &m, 1, error_r) < 0 ||
	    store_idx_msg_put(t, rec.id, &m, error_r) < 0 ||
	    store_idx_name_put(t, rec.id, base, strlen(base), m.uid,
	    error_r) < 0 ||
	    store_idx_cache_put(t, rec.id, m.uid, &cache, error_r) < 0 ||
	    store_idx_folder_put(t, canon, &rec, error_r) < 0 ||
	    store_maildir_dirsync(curd, error_r) < 0 ||
	    store_txn_commit(&t, error_r) < 0)
		goto out_sum;
	*uid_r = m.uid;
	if (uidvalidity_r != NULL)
		*uidvalidity_r = rec.uidvalidity;
	renamed = false;
	r = 0;
out_sum:
	mime_summary_deinit(&sum);
	store_txn_abort(&t);
out:
	if (r < 0 && renamed && unlink(dst) < 0)
		log_warn("unlink(%s)", dst);
	if (r < 0 && tmp != NULL && !renamed)
		unlink(tmp);
	free(dst);
	free(tmp);
	free(curd);
	free(kw);
	free(base);
	free(canon);
	free(dir);
	return r;
}

/* new_flags - flags after a STORE */
static unsigned int
new_flags(unsigned int old, enum store_flag_mode mode, unsigned int flags)
{
	switch (mode) {
	case STORE_FLAGS_SET:
		/* P is not an IMAP flag: a FLAGS replace keeps it */
		return (flags & ~STORE_FLAG_PASSED) |
		    (old & STORE_FLAG_PASSED);
	case STORE_FLAGS_ADD:
		return old | flags;
	case STORE_FLAGS_REMOVE:
		return old & ~flags;
	}
	return old;
}

/* store_set_flags - STORE: rename each file, then one index commit */
int
store_set_flags(struct store_mailbox *mb, const uint32_t *uids, size_t n,
    enum store_flag_mode mode, unsigned int flags, const char *keywords,
    uint64_t unchangedsince, uint32_t **failed_r, size_t *nfailed_r,
    const char **error_r)
{
	struct store_folder_rec rec;
	struct store_txn *t;
	struct store_msg m;
	char *base, *kw, *nkw, *from, *to, *curd;
	uint32_t *failed = NULL;
	size_t nfailed = 0, i;
	unsigned int nf;
	bool renamed_any = false;
	int r;

	flags &= STORE_FLAGS_ALL;
	if (open_folder_txn(mb, &t, &rec, error_r) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((r = store_idx_msg_get(t, rec.id, uids[i], &m,
		    error_r)) < 0)
			goto fail;
		if (r == 0)
			continue;
		if (unchangedsince != 0 && m.modseq > unchangedsince) {
			failed = xreallocarray(failed, nfailed + 1,
			    sizeof(*failed));
			failed[nfailed++] = m.uid;
			continue;
		}
		nf = new_flags(m.flags, mode, flags);
		if (keywords != NULL || mode == STORE_FLAGS_SET)
			nkw = store_keywords_apply(m.keywords, mode,
			    keywords);
		else
			nkw = xstrdup(m.keywords);
		if (nf == m.flags && strcmp(nkw, m.keywords) == 0) {
			free(nkw);
			continue;
		}
		msg_own(&m, &base, &kw);
		if (nf != m.flags) {
			from = store_msg_path(mb->dir, base, m.flags);
			to = store_msg_path(mb->dir, base, nf);
			r = rename(from, to);
			if (r < 0 && errno != ENOENT)
				log_warn("rename(%s, %s)", from, to);
			free(from);
			free(to);
			if (r < 0) {
				/* gone or renamed by another program: the
				 * next sync tells the truth */
				free(nkw);
				free(base);
				free(kw);
				continue;
			}
			renamed_any = true;
		}
		r = store_account(t, &rec, &m, -1, error_r) < 0;
		m.flags = nf;
		m.keywords = nkw;
		m.modseq = ++rec.highestmodseq;
		r = r || store_account(t, &rec, &m, 1, error_r) < 0 ||
		    store_idx_msg_put(t, rec.id, &m, error_r) < 0;
		free(nkw);
		free(base);
		free(kw);
		if (r)
			goto fail;
	}
	curd = xasprintf("%s/cur", mb->dir);
	r = renamed_any && store_maildir_dirsync(curd, error_r) < 0;
	free(curd);
	if (renamed_any)
		store_sync_own_change(&rec, mb->dir);
	if (r || store_idx_folder_put(t, mb->name, &rec, error_r) < 0 ||
	    store_txn_commit(&t, error_r) < 0)
		goto fail;
	if (failed_r != NULL) {
		*failed_r = failed;
		*nfailed_r = nfailed;
	} else
		free(failed);
	return 0;
fail:
	store_txn_abort(&t);
	free(failed);
	return -1;
}

/* unlink_msg - remove a message file, wherever its flags put it */
static void
unlink_msg(const char *dir, const struct store_msg *m)
{
	char *path = store_msg_path(dir, m->base, m->flags);

	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("unlink(%s)", path);
	free(path);
}

/* expunge_one - drop a message record and log the expunge */
static int
expunge_one(struct store_txn *t, struct store_folder_rec *rec,
    struct store_msg *m, const char **error_r)
{
	size_t blen = strlen(m->base);
	char *base = xstrdup(m->base);
	int r;

	rec->highestmodseq++;
	r = store_account(t, rec, m, -1, error_r) < 0 ||
	    store_idx_expunged_put(t, rec->id, m->uid, rec->highestmodseq,
	    error_r) < 0 ||
	    store_idx_name_del(t, rec->id, base, blen, error_r) < 0 ||
	    store_idx_cache_del(t, rec->id, m->uid, error_r) < 0 ||
	    store_idx_msg_del(t, rec->id, m->uid, error_r) < 0;
	free(base);
	return r ? -1 : 0;
}

/* store_expunge - remove messages for good, logging them for QRESYNC */
int
store_expunge(struct store_mailbox *mb, const uint32_t *uids, size_t n,
    const char **error_r)
{
	struct store_folder_rec rec;
	struct store_iter_rec ir;
	struct store_iter *it;
	struct store_txn *t;
	struct store_msg m;
	uint32_t *all = NULL;
	char *curd;
	size_t i;
	int r;

	if (open_folder_txn(mb, &t, &rec, error_r) < 0)
		return -1;
	if (uids == NULL) {
		n = 0;
		if (store_iter_new(t, STORE_ITER_MSGS, rec.id, 0, &it,
		    error_r) < 0)
			goto fail;
		while ((r = store_iter_next(it, &ir, error_r)) == 1)
			if (ir.msg.flags & STORE_FLAG_DELETED) {
				all = xreallocarray(all, n + 1, sizeof(*all));
				all[n++] = ir.msg.uid;
			}
		store_iter_free(&it);
		if (r < 0)
			goto fail;
		uids = all;
	}
	/* files first (and durably), then the index */
	for (i = 0; i < n; i++) {
		if ((r = store_idx_msg_get(t, rec.id, uids[i], &m,
		    error_r)) < 0)
			goto fail;
		if (r == 1)
			unlink_msg(mb->dir, &m);
	}
	curd = xasprintf("%s/cur", mb->dir);
	r = n > 0 && store_maildir_dirsync(curd, error_r) < 0;
	free(curd);
	if (r)
		goto fail;
	if (n > 0)
		store_sync_own_change(&rec, mb->dir);
	for (i = 0; i < n; i++) {
		if ((r = store_idx_msg_get(t, rec.id, uids[i], &m,
		    error_r)) < 0)
			goto fail;
		if (r == 1 && expunge_one(t, &rec, &m, error_r) < 0)
			goto fail;
	}
	if (store_idx_folder_put(t, mb->name, &rec, error_r) < 0 ||
	    store_txn_commit(&t, error_r) < 0)
		goto fail;
	free(all);
	return 0;
fail:
	store_txn_abort(&t);
	free(all);
	return -1;
}

/* copy_file - a private copy when a hard link is impossible */
static int
copy_file(const char *from, const char *to, const char *tmpdir,
    time_t mtime, const char **error_r)
{
	char *data, *tmp, *unique;
	size_t len;
	int r;

	if (store_maildir_read(from, &data, &len) < 0) {
		log_warn("read(%s)", from);
		*error_r = "cannot copy message";
		return -1;
	}
	unique = store_maildir_unique(len);
	tmp = xasprintf("%s/%s", tmpdir, unique);
	free(unique);
	r = store_maildir_write(tmp, data, len, mtime, error_r);
	free(data);
	if (r == 0 && rename(tmp, to) < 0) {
		log_warn("rename(%s, %s)", tmp, to);
		*error_r = "cannot copy message";
		unlink(tmp);
		r = -1;
	}
	free(tmp);
	return r;
}

/* own_cache - deep copy of a cache record (LMDB values die on update) */
static void
own_cache(struct store_cache *c)
{
	const char **f[] = {
		&c->envelope, &c->bodystructure, &c->body, &c->header_fields,
		&c->message_id, &c->in_reply_to, &c->references,
		&c->base_subject
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(*f); i++)
		if (*f[i] != NULL)
			*f[i] = xstrdup(*f[i]);
}

/* free_cache - free own_cache()'s strings */
static void
free_cache(struct store_cache *c)
{
	free((char *)c->envelope);
	free((char *)c->bodystructure);
	free((char *)c->body);
	free((char *)c->header_fields);
	free((char *)c->message_id);
	free((char *)c->in_reply_to);
	free((char *)c->references);
	free((char *)c->base_subject);
}

/* store_copy - COPY or MOVE within one user, with UIDPLUS mappings */
int
store_copy(struct store_mailbox *mb, const uint32_t *uids, size_t n,
    const char *dest, bool move, struct store_uid_map **map_r,
    size_t *nmap_r, uint32_t *dest_uidvalidity_r, const char **error_r)
{
	struct store_folder_rec src, dstrec, *dst;
	struct store_uid_map *map = NULL;
	struct store_cache cache;
	struct store_txn *t;
	struct store_msg m, nm;
	char *canon = NULL, *ddir = NULL, *base, *kw, *nbase, *from, *to;
	char *tmpd = NULL, *curd;
	size_t nmap = 0, i;
	bool same;
	int r, hc, err;

	if (store_folder_path(mb->u, dest, &canon, &ddir, error_r) < 0)
		return -1;
	same = strcmp(canon, mb->name) == 0;
	if (same && move) {
		*error_r = "cannot move a message into its own mailbox";
		goto out_err;
	}
	tmpd = xasprintf("%s/tmp", ddir);
	if (open_folder_txn(mb, &t, &src, error_r) < 0)
		goto out_err;
	dst = &src;
	if (!same) {
		if (store_folder_get(t, canon, &dstrec, error_r) < 0)
			goto fail;
		dst = &dstrec;
	}
	for (i = 0; i < n; i++) {
		if ((r = store_idx_msg_get(t, src.id, uids[i], &m,
		    error_r)) < 0)
			goto fail;
		if (r == 0)
			continue;
		msg_own(&m, &base, &kw);
		nbase = store_maildir_unique(m.size);
		from = store_msg_path(mb->dir, base, m.flags);
		to = store_msg_path(ddir, nbase, m.flags);
		if (move)
			r = rename(from, to);
		else
			r = link(from, to);
		err = r < 0 ? errno : 0;
		if (r < 0 && (err == EXDEV || err == EMLINK || err == EPERM))
			r = copy_file(from, to, tmpd, m.internaldate,
			    error_r);
		else if (r < 0 && err != ENOENT) {
			log_warn("%s(%s, %s)", move ? "rename" : "link",
			    from, to);
			*error_r = "cannot copy message";
		}
		free(from);
		free(to);
		if (r < 0) {
			free(nbase);
			free(base);
			free(kw);
			if (err == ENOENT)
				continue;	/* gone: not copied */
			goto fail;
		}
		if ((hc = store_idx_cache_get(t, src.id, m.uid, &cache,
		    error_r)) < 0)
			hc = 0;
		if (hc)
			own_cache(&cache);
		nm = m;
		nm.uid = dst->uidnext++;
		nm.modseq = ++dst->highestmodseq;
		nm.base = nbase;
		r = store_account(t, dst, &nm, 1, error_r) < 0 ||
		    store_idx_msg_put(t, dst->id, &nm, error_r) < 0 ||
		    store_idx_name_put(t, dst->id, nbase, strlen(nbase),
		    nm.uid, error_r) < 0 ||
		    (hc && store_idx_cache_put(t, dst->id, nm.uid, &cache,
		    error_r) < 0) ||
		    (move && expunge_one(t, &src, &m, error_r) < 0);
		if (hc)
			free_cache(&cache);
		map = xreallocarray(map, nmap + 1, sizeof(*map));
		map[nmap].src_uid = m.uid;
		map[nmap].dst_uid = nm.uid;
		nmap++;
		free(nbase);
		free(base);
		free(kw);
		if (r)
			goto fail;
	}
	curd = xasprintf("%s/cur", ddir);
	r = nmap > 0 && store_maildir_dirsync(curd, error_r) < 0;
	free(curd);
	if (!r && move && nmap > 0) {
		curd = xasprintf("%s/cur", mb->dir);
		r = store_maildir_dirsync(curd, error_r) < 0;
		free(curd);
		store_sync_own_change(&src, mb->dir);
	}
	if (!r && nmap > 0)
		store_sync_own_change(dst, ddir);
	if (r || store_idx_folder_put(t, mb->name, &src, error_r) < 0 ||
	    (!same && store_idx_folder_put(t, canon, dst, error_r) < 0) ||
	    store_txn_commit(&t, error_r) < 0)
		goto fail;
	if (dest_uidvalidity_r != NULL)
		*dest_uidvalidity_r = dst->uidvalidity;
	*map_r = map;
	*nmap_r = nmap;
	free(canon);
	free(ddir);
	free(tmpd);
	return 0;
fail:
	store_txn_abort(&t);
	/* XXX: copies already linked stay as files; the next sync of the
	 * destination indexes them (moves are undone by that too) */
out_err:
	free(map);
	free(canon);
	free(ddir);
	free(tmpd);
	return -1;
}
