/* store_sync.c - bring a folder's index in step with its Maildir */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
 * The Maildir is the truth for which messages exist and which flags they
 * have; the index adds UIDs.  A sync moves new/ into cur/, lists cur/,
 * merges the sorted listing with the index's sorted base names, and
 * applies the differences: new files get UIDs in arrival order, missing
 * files are expunged, changed flag letters become flag changes.  The slow
 * parts (readdir, reading and parsing new messages) run without the index
 * writer lock; every difference is checked again under the lock before it
 * is applied, because another process may have acted in between.
 *
 * The fast path: the index remembers the mtimes of cur/ and new/ as of the
 * last complete sync.  If both are unchanged nothing can have changed and
 * a sync costs two stat() calls.  An mtime is only trusted once it is a
 * second old, because a directory can change twice within one timestamp
 * tick, and only if new/ was empty at the end of the sync.
 */

#define SYNC_CHUNK	4096	/* new messages per write transaction */
#define MTIME_SETTLE_NS	1000000000LL
#define SYNC_THREADS	3	/* extra parser threads, at most */
#define VERIFY_MAX_NS	5000000000LL	/* verify at least this often */

struct sync_ent {
	char		*fname;
	size_t		 base_len;
	unsigned int	 flags;
	int64_t		 arrival;	/* usec */
	uint32_t	 uid;		/* changes: the UID */
	unsigned int	 old_flags;	/* changes: flags in the index */
	struct mime_summary sum;
	bool		 have_sum;
	uint64_t	 size;
	int64_t		 mtime;
};

struct sync_list {
	struct sync_ent	*v;
	size_t		 n;
};

/* list_add - append an entry; returns it */
static struct sync_ent *
list_add(struct sync_list *l, const char *fname)
{
	struct sync_ent *e;

	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->fname = xstrdup(fname);
	e->base_len = store_maildir_base_len(fname);
	e->flags = store_maildir_flags(fname);
	return e;
}

/* list_free - free entries and the array */
static void
list_free(struct sync_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].fname);
		if (l->v[i].have_sum)
			mime_summary_deinit(&l->v[i].sum);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* base_cmp - compare two base names like LMDB compares keys */
static int
base_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* ent_base_cmp - qsort by base name */
static int
ent_base_cmp(const void *a, const void *b)
{
	const struct sync_ent *x = a, *y = b;

	return base_cmp(x->fname, x->base_len, y->fname, y->base_len);
}

/* ent_arrival_cmp - qsort by arrival, then name */
static int
ent_arrival_cmp(const void *a, const void *b)
{
	const struct sync_ent *x = a, *y = b;

	if (x->arrival != y->arrival)
		return x->arrival < y->arrival ? -1 : 1;
	return strcmp(x->fname, y->fname);
}

/* mtime_ns - a directory's mtime in ns; -1 if it cannot be read */
static int64_t
mtime_ns(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		return -1;
	return (int64_t)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
}

/* move_new - new/X to cur/X:2, for every X; 1 if new/ was not empty.
 * The names in cur/ of the files moved are added to moved (if given). */
static int
move_new(const char *dir, struct sync_list *moved, const char **error_r)
{
	struct dirent *de;
	char *newd, *from, *to, *fname, *unique;
	int found = 0, r;
	DIR *d;

	newd = xasprintf("%s/new", dir);
	if ((d = opendir(newd)) == NULL) {
		log_warn("opendir(%s)", newd);
		free(newd);
		*error_r = "cannot read mailbox";
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		found = 1;
		from = xasprintf("%s/%s", newd, de->d_name);
		if (strchr(de->d_name, ':') != NULL)
			fname = xstrdup(de->d_name);
		else
			fname = xasprintf("%s:2,", de->d_name);
		to = xasprintf("%s/cur/%s", dir, fname);
		/* never over an existing file: a foreign program may have
		 * reused a name; then the newcomer gets a name of ours */
		r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
		if (r < 0 && errno == EEXIST) {
			free(fname);
			free(to);
			unique = store_maildir_unique(0);
			fname = xasprintf("%s:2,", unique);
			free(unique);
			to = xasprintf("%s/cur/%s", dir, fname);
			r = renameat2(AT_FDCWD, from, AT_FDCWD, to,
			    RENAME_NOREPLACE);
		}
		/* ENOENT: another session moved it first */
		if (r == 0) {
			size_t blen = store_maildir_base_len(fname);

			if (moved != NULL && blen > 0 && blen <= 400)
				list_add(moved, fname);
		} else if (errno != ENOENT)
			log_warn("rename(%s, %s)", from, to);
		free(fname);
		free(from);
		free(to);
	}
	closedir(d);
	free(newd);
	return found;
}

/* list_cur - every file of cur/, sorted by base name, duplicates dropped */
static int
list_cur(const char *dir, struct sync_list *l, const char **error_r)
{
	struct dirent *de;
	struct stat sb;
	char *curd, *path;
	size_t i, j;
	DIR *d;

	curd = xasprintf("%s/cur", dir);
	if ((d = opendir(curd)) == NULL) {
		log_warn("opendir(%s)", curd);
		free(curd);
		*error_r = "cannot read mailbox";
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG) {
			if (de->d_type != DT_UNKNOWN)
				continue;
			path = xasprintf("%s/%s", curd, de->d_name);
			i = lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
			free(path);
			if (!i)
				continue;
		}
		if (store_maildir_base_len(de->d_name) == 0 ||
		    store_maildir_base_len(de->d_name) > 400)
			continue;
		list_add(l, de->d_name);
	}
	closedir(d);
	free(curd);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), ent_base_cmp);
	/* two files with one base: another program's doing; keep one, the
	 * one with ":2," info if there is one (it needs no rename) */
	for (i = 0, j = 0; i < l->n; i++) {
		if (j > 0 && ent_base_cmp(&l->v[j - 1], &l->v[i]) == 0) {
			log_warnx("store %s: duplicate message file %s",
			    dir, l->v[i].fname);
			if (strstr(l->v[j - 1].fname, ":2,") == NULL &&
			    strstr(l->v[i].fname, ":2,") != NULL) {
				free(l->v[j - 1].fname);
				l->v[j - 1] = l->v[i];
			} else
				free(l->v[i].fname);
			continue;
		}
		l->v[j++] = l->v[i];
	}
	l->n = j;
	return 0;
}

/* diff - merge cur/ with the index: new files, flag changes, gone UIDs */
static int
diff(struct store_user *u, uint32_t fid, struct sync_list *cur,
    struct sync_list *added, struct sync_list *changed,
    struct sync_list *gone, const char **error_r)
{
	struct store_iter_rec ir;
	struct store_iter *it;
	struct store_txn *t;
	struct store_msg m;
	struct sync_ent *e;
	size_t i = 0;
	int r, c;

	if (store_txn_begin(u->idx, false, &t, error_r) < 0)
		return -1;
	if (store_iter_new(t, STORE_ITER_NAMES, fid, 0, &it, error_r) < 0) {
		store_txn_abort(&t);
		return -1;
	}
	while ((r = store_iter_next(it, &ir, error_r)) == 1) {
		while (i < cur->n && (c = base_cmp(cur->v[i].fname,
		    cur->v[i].base_len, ir.base, ir.base_len)) < 0) {
			list_add(added, cur->v[i].fname);
			i++;
		}
		if (i < cur->n && base_cmp(cur->v[i].fname, cur->v[i].base_len,
		    ir.base, ir.base_len) == 0) {
			r = store_idx_msg_get(t, fid, ir.uid, &m, error_r);
			if (r < 0)
				break;
			if (r == 1 && m.flags != cur->v[i].flags) {
				e = list_add(changed, cur->v[i].fname);
				e->uid = ir.uid;
				e->old_flags = m.flags;
			}
			i++;
			continue;
		}
		/* in the index, not on disk */
		e = list_add(gone, "");
		free(e->fname);
		e->fname = xstrndup(ir.base, ir.base_len);
		e->base_len = ir.base_len;
		e->uid = ir.uid;
	}
	store_iter_free(&it);
	store_txn_abort(&t);
	if (r < 0)
		return -1;
	for (; i < cur->n; i++)
		list_add(added, cur->v[i].fname);
	return 0;
}

/* summarize - size, date and the MIME summary of a new file */
static void
summarize(const char *dir, struct sync_ent *e)
{
	struct stat sb;
	char *path, *data;
	size_t len = 0;
	ssize_t n;
	int fd;

	path = xasprintf("%s/cur/%s", dir, e->fname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	/* gone again: the check under the lock will skip it */
	if (fd < 0)
		return;
	if (fstat(fd, &sb) < 0 || sb.st_size < 0) {
		close(fd);
		return;
	}
	data = xmalloc((size_t)sb.st_size + 1);
	while (len < (size_t)sb.st_size) {
		n = read(fd, data + len, (size_t)sb.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	data[len] = '\0';
	/* a file still growing is someone else's bug; take what is there */
	mime_summarize(data, len, &e->sum);
	e->have_sum = true;
	e->size = len;
	e->mtime = sb.st_mtim.tv_sec;
	free(data);
}

struct sum_job {
	const char	*dir;
	struct sync_ent	*v;
	size_t		 n;
	size_t		 next;
};

/* sum_thread - summarize entries until none are left */
static void *
sum_thread(void *arg)
{
	struct sum_job *j = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->n)
		summarize(j->dir, &j->v[i]);
	return NULL;
}

/*
 * summarize_all - read and parse new files, on every core for big batches
 * (a first open of a large Maildir): parsing, not the disk, is the limit
 * there when the files are in the page cache.
 */
static void
summarize_all(const char *dir, struct sync_ent *v, size_t n)
{
	struct sum_job job = { dir, v, n, 0 };
	pthread_t th[SYNC_THREADS];
	long cpus;
	int i, nth = 0;

	if (n >= 32) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		for (i = 0; i < SYNC_THREADS && i < cpus - 1; i++) {
			if (pthread_create(&th[nth], NULL, sum_thread,
			    &job) != 0)
				break;
			nth++;
		}
	}
	sum_thread(&job);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
}

/* apply_gone - expunge UIDs whose files other programs removed */
static int
apply_gone(struct store_txn *t, const char *dir,
    struct store_folder_rec *rec, struct sync_list *gone,
    const char **error_r)
{
	struct store_msg m;
	struct sync_ent *e;
	struct stat sb;
	char *path;
	size_t i;
	int r;

	for (i = 0; i < gone->n; i++) {
		e = &gone->v[i];
		if ((r = store_idx_msg_get(t, rec->id, e->uid, &m,
		    error_r)) < 0)
			return -1;
		if (r == 0 || strcmp(m.base, e->fname) != 0)
			continue;
		path = store_msg_path(dir, m.base, m.flags);
		r = lstat(path, &sb);
		free(path);
		if (r == 0)
			continue;	/* it came back meanwhile */
		rec->highestmodseq++;
		if (store_account(t, rec, &m, -1, error_r) < 0 ||
		    store_idx_expunged_put(t, rec->id, m.uid,
		    rec->highestmodseq, error_r) < 0 ||
		    store_idx_name_del(t, rec->id, e->fname, e->base_len,
		    error_r) < 0 ||
		    store_idx_cache_del(t, rec->id, m.uid, error_r) < 0 ||
		    store_idx_msg_del(t, rec->id, m.uid, error_r) < 0)
			return -1;
	}
	return 0;
}

/* apply_changed - flag letters changed by other programs */
static int
apply_changed(struct store_txn *t, const char *dir,
    struct store_folder_rec *rec, struct sync_list *changed,
    const char **error_r)
{
	struct store_msg m;
	struct sync_ent *e;
	struct stat sb;
	char *path, *base, *kw;
	size_t i;
	int r;

	for (i = 0; i < changed->n; i++) {
		e = &changed->v[i];
		if ((r = store_idx_msg_get(t, rec->id, e->uid, &m,
		    error_r)) < 0)
			return -1;
		if (r == 0 || m.flags != e->old_flags)
			continue;	/* someone changed it meanwhile */
		path = xasprintf("%s/cur/%s", dir, e->fname);
		r = lstat(path, &sb);
		free(path);
		if (r < 0)
			continue;
		/* values borrowed from LMDB die at the next update */
		base = xstrdup(m.base);
		kw = xstrdup(m.keywords);
		m.base = base;
		m.keywords = kw;
		r = store_account(t, rec, &m, -1, error_r) < 0;
		m.flags = e->flags;
		m.modseq = ++rec->highestmodseq;
		r = r || store_account(t, rec, &m, 1, error_r) < 0 ||
		    store_idx_msg_put(t, rec->id, &m, error_r) < 0;
		free(base);
		free(kw);
		if (r)
			return -1;
	}
	return 0;
}

/* apply_added - UIDs for new files, in arrival order */
static int
apply_added(struct store_txn *t, const char *dir,
    struct store_folder_rec *rec, struct sync_ent *v, size_t n,
    const char **error_r)
{
	struct store_cache cache;
	struct store_msg m;
	struct stat sb;
	char *path, *base, *canon;
	uint32_t uid;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (!v[i].have_sum)
			continue;
		if ((r = store_idx_name_get(t, rec->id, v[i].fname,
		    v[i].base_len, &uid, error_r)) < 0)
			return -1;
		if (r == 1)
			continue;	/* indexed by another session */
		path = xasprintf("%s/cur/%s", dir, v[i].fname);
		if (lstat(path, &sb) < 0) {
			free(path);
			continue;
		}
		base = xstrndup(v[i].fname, v[i].base_len);
		/* foreign names ("x" or unknown letters) become ours, so
		 * the index can always compute the file name */
		canon = store_msg_path(dir, base, v[i].flags);
		if (strcmp(canon, path) != 0 && renameat2(AT_FDCWD, path,
		    AT_FDCWD, canon, RENAME_NOREPLACE) < 0) {
			log_warn("rename(%s, %s)", path, canon);
			free(canon);
			free(path);
			free(base);
			continue;
		}
		free(canon);
		free(path);
		if (rec->uidnext == UINT32_MAX) {
			free(base);
			*error_r = "mailbox is out of UIDs";
			return -1;
		}
		memset(&m, 0, sizeof(m));
		m.uid = rec->uidnext++;
		m.flags = v[i].flags;
		m.modseq = ++rec->highestmodseq;
		m.internaldate = v[i].mtime;
		m.size = v[i].size;
		m.base = base;
		m.keywords = "";
		store_cache_from_summary(&v[i].sum, &cache);
		r = store_account(t, rec, &m, 1, error_r) < 0 ||
		    store_idx_msg_put(t, rec->id, &m, error_r) < 0 ||
		    store_idx_name_put(t, rec->id, base, v[i].base_len, m.uid,
		    error_r) < 0 ||
		    store_idx_cache_put(t, rec->id, m.uid, &cache,
		    error_r) < 0;
		free(base);
		if (r)
			return -1;
	}
	return 0;
}

/* now_ns - wall clock in ns, comparable with file times */
static int64_t
now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* set_verify - cur_mtime was taken without a full scan behind it */
static void
set_verify(struct store_folder_rec *rec)
{
	if (!(rec->sync_flags & STORE_SYNC_VERIFY)) {
		rec->sync_flags |= STORE_SYNC_VERIFY;
		rec->verify_since = now_ns();
	}
}

/* store_sync_own_change - our renames in cur/ need no rescan by others */
void
store_sync_own_change(struct store_folder_rec *rec, const char *dir)
{
	char *curd;
	int64_t m;

	if (rec->cur_mtime == 0)
		return;		/* a full scan is due anyway */
	curd = xasprintf("%s/cur", dir);
	m = mtime_ns(curd);
	free(curd);
	/* another program may have changed cur/ in the same clock tick as
	 * we did: the verification scan will find out */
	rec->cur_mtime = m > 0 ? m : 0;
	set_verify(rec);
}

/* apply - write transactions for the differences, in chunks */
static int
apply(struct store_user *u, const char *name, const char *dir,
    struct sync_list *added, struct sync_list *changed,
    struct sync_list *gone, int64_t cur_m, int64_t new_m, bool full,
    bool cur_settled, bool own_change, const char **error_r)
{
	struct store_folder_rec rec, before;
	struct store_txn *t;
	size_t i, off = 0, n;
	bool last;

	for (i = 0; i < added->n; i++)
		if (store_maildir_name_time(added->v[i].fname,
		    &added->v[i].arrival) < 0)
			added->v[i].arrival = INT64_MAX;
	if (added->n > 1)
		qsort(added->v, added->n, sizeof(*added->v), ent_arrival_cmp);
	do {
		n = added->n - off < SYNC_CHUNK ? added->n - off : SYNC_CHUNK;
		last = off + n == added->n;
		summarize_all(dir, added->v + off, n);
		if (store_txn_begin(u->idx, true, &t, error_r) < 0)
			return -1;
		if (store_folder_get(t, name, &rec, error_r) < 0)
			goto fail;
		before = rec;
		if (off == 0 && (apply_gone(t, dir, &rec, gone, error_r) < 0 ||
		    apply_changed(t, dir, &rec, changed, error_r) < 0))
			goto fail;
		if (apply_added(t, dir, &rec, added->v + off, n, error_r) < 0)
			goto fail;
		if (last) {
			rec.cur_mtime = cur_m;
			rec.new_mtime = new_m;
			if (full && cur_settled) {
				rec.sync_flags &= ~STORE_SYNC_VERIFY;
			} else if (cur_m != 0 && full) {
				/* this scan saw cur/ as of cur_m: the next
				 * verification is due counting from now, or
				 * under constant delivery every sync would be
				 * a full scan */
				rec.sync_flags |= STORE_SYNC_VERIFY;
				rec.verify_since = now_ns();
			} else if (cur_m != 0 && own_change) {
				set_verify(&rec);
			}
		}
		if (memcmp(&rec, &before, sizeof(rec)) == 0) {
			store_txn_abort(&t);	/* nothing to write */
		} else if (store_idx_folder_put(t, name, &rec, error_r) < 0 ||
		    store_txn_commit(&t, error_r) < 0)
			goto fail;
		for (i = off; i < off + n; i++)
			if (added->v[i].have_sum) {
				mime_summary_deinit(&added->v[i].sum);
				added->v[i].have_sum = false;
			}
		off += n;
	} while (off < added->n);
	return 0;
fail:
	store_txn_abort(&t);
	return -1;
}

/* sync_new - only new/ changed: move its files and index them */
static int
sync_new(struct store_user *u, const char *name, const char *dir,
    int64_t cur_m, int64_t new_m, const char **error_r)
{
	struct sync_list added = { 0 }, none = { 0 };
	int64_t now = now_ns();
	char *curd;
	int r;

	if (move_new(dir, &added, error_r) < 0)
		return -1;
	/* cur_m (as stored) stays right unless we moved files into cur/;
	 * re-reading it otherwise could hide a foreign change made since */
	if (added.n > 0) {
		curd = xasprintf("%s/cur", dir);
		cur_m = mtime_ns(curd);
		free(curd);
	}
	/* new_m was taken before the readdir: a file that arrived later
	 * changes it again, unless it came in the same tick, hence the
	 * settling rule for new/ too */
	r = apply(u, name, dir, &added, &none, &none, cur_m > 0 ? cur_m : 0,
	    now - new_m > MTIME_SETTLE_NS ? new_m : 0, false, false,
	    added.n > 0, error_r);
	list_free(&added);
	return r;
}

/* clean_tmp - files left in tmp/ by a crash, once they are old (the
 * Maildir specification says 36 hours: a writer may still be busy) */
static void
clean_tmp(const char *dir)
{
	struct dirent *de;
	struct stat sb;
	char *tmpd, *path;
	time_t limit = time(NULL) - 36 * 3600;
	DIR *d;

	tmpd = xasprintf("%s/tmp", dir);
	if ((d = opendir(tmpd)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			path = xasprintf("%s/%s", tmpd, de->d_name);
			if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
			    sb.st_mtime < limit && sb.st_atime < limit &&
			    unlink(path) < 0)
				log_warn("unlink(%s)", path);
			free(path);
		}
		closedir(d);
	}
	free(tmpd);
}

static _Atomic unsigned long full_scans;

/* store_sync_full_scans - how many times this process listed a cur/ */
unsigned long
store_sync_full_scans(void)
{
	return full_scans;
}

/* sync_full - list cur/ and merge it with the index */
static int
sync_full(struct store_user *u, const struct store_folder_rec *rec,
    const char *name, const char *dir, const char **error_r)
{
	struct sync_list cur = { 0 }, added = { 0 }, changed = { 0 },
	    gone = { 0 };
	char *curd, *newd;
	int64_t cur_m, new_m, now;
	bool cur_settled, new_settled;
	int r = -1, moved;

	full_scans++;
	curd = xasprintf("%s/cur", dir);
	newd = xasprintf("%s/new", dir);
	clean_tmp(dir);
	if ((moved = move_new(dir, NULL, error_r)) < 0)
		goto out;
	cur_m = mtime_ns(curd);
	new_m = mtime_ns(newd);
	now = now_ns();
	cur_settled = cur_m > 0 && now - cur_m > MTIME_SETTLE_NS;
	new_settled = new_m > 0 && now - new_m > MTIME_SETTLE_NS;
	if (list_cur(dir, &cur, error_r) < 0 ||
	    diff(u, rec->id, &cur, &added, &changed, &gone, error_r) < 0)
		goto out;
	list_free(&cur);
	/* anything left in new/ arrived during the sync */
	if (new_settled && moved && move_new(dir, NULL, error_r) != 0)
		new_settled = false;
	r = apply(u, name, dir, &added, &changed, &gone,
	    cur_m > 0 ? cur_m : 0, new_settled ? new_m : 0, true,
	    cur_settled, false, error_r);
out:
	list_free(&cur);
	list_free(&added);
	list_free(&changed);
	list_free(&gone);
	free(curd);
	free(newd);
	return r;
}

/*
 * store_sync - the index of folder name (directory dir) after the disk.
 *
 * Three speeds: nothing changed (two stat() calls); only new/ changed, as
 * with every delivery (read new/, move, index: no listing of cur/); or a
 * full scan of cur/.  After our own renames in cur/ the new mtime is
 * stored with VERIFY set, and one full scan follows once cur/ has settled
 * (or after VERIFY_MAX_NS under constant activity), which catches a
 * foreign change made in the same clock tick as ours.
 */
int
store_sync(struct store_user *u, const char *name, const char *dir,
    const char **error_r)
{
	struct store_folder_rec rec;
	struct store_txn *t;
	char *curd, *newd;
	int64_t cur_m, new_m, now;
	bool cur_ok, verify_due;
	int r;

	if (store_txn_begin(u->idx, false, &t, error_r) < 0)
		return -1;
	r = store_folder_get(t, name, &rec, error_r);
	store_txn_abort(&t);
	if (r < 0)
		return -1;
	curd = xasprintf("%s/cur", dir);
	newd = xasprintf("%s/new", dir);
	cur_m = mtime_ns(curd);
	new_m = mtime_ns(newd);
	free(curd);
	free(newd);
	if (cur_m < 0 || new_m < 0) {
		log_warn("stat(%s)", dir);
		*error_r = "cannot read mailbox";
		return -1;
	}
	now = now_ns();
	cur_ok = rec.cur_mtime != 0 && rec.cur_mtime == cur_m;
	verify_due = (rec.sync_flags & STORE_SYNC_VERIFY) &&
	    (now - cur_m > MTIME_SETTLE_NS ||
	    now - rec.verify_since > VERIFY_MAX_NS);
	if (cur_ok && !verify_due) {
		if (rec.new_mtime != 0 && rec.new_mtime == new_m)
			return 0;
		return sync_new(u, name, dir, cur_m, new_m, error_r);
	}
	return sync_full(u, &rec, name, dir, error_r);
}
