/* store_check.c - verify a user's index against the Maildir, and repair */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mime.h"
#include "xmalloc.h"

#include "store.h"
#include "store_private.h"

/*
 * The message records are the proof of a UID: a record says "UID u is the
 * file with base name b".  Repair therefore trusts them first: it rebuilds
 * the base-name table from the records (so sync matches every file the
 * records know to its old UID), then syncs the folder (new files get new
 * UIDs, missing ones are expunged, flags follow the file names), then
 * recomputes the counters, UIDNEXT, HIGHESTMODSEQ and the quota totals
 * from the records, and refills missing cached summaries.
 */

struct check {
	struct store_user *u;
	bool		 repair;
	void		(*say)(const char *, void *);
	void		*arg;
	struct store_check_report *rep;
};

/* say - one line of the report */
static void __attribute__((format(printf, 2, 3)))
say(struct check *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->say != NULL)
		c->say(line, c->arg);
}

/* problem - count and report one inconsistency */
static void __attribute__((format(printf, 3, 4)))
problem(struct check *c, const char *folder, const char *fmt, ...)
{
	char line[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->rep->problems++;
	say(c, "%s: %s", folder, line);
}

struct file_ent {
	char		*fname;
	size_t		 base_len;
};

/* fent_cmp - sort by base name */
static int
fent_cmp(const void *a, const void *b)
{
	const struct file_ent *x = a, *y = b;
	int r = memcmp(x->fname, y->fname, x->base_len < y->base_len ?
	    x->base_len : y->base_len);

	if (r != 0)
		return r;
	return x->base_len < y->base_len ? -1 : x->base_len > y->base_len;
}

/* list_files - the files of dir/sub */
static int
list_files(const char *dir, const char *sub, struct file_ent **v_r,
    size_t *n_r)
{
	struct file_ent *v = NULL;
	struct dirent *de;
	char *path;
	size_t n = 0;
	DIR *d;

	path = xasprintf("%s/%s", dir, sub);
	d = opendir(path);
	free(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].fname = xstrdup(de->d_name);
		v[n].base_len = store_maildir_base_len(de->d_name);
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), fent_cmp);
	*v_r = v;
	*n_r = n;
	return 0;
}

/* find_file - binary search of a base name */
static struct file_ent *
find_file(struct file_ent *v, size_t n, const char *base)
{
	struct file_ent key = { (char *)base, strlen(base) };

	return n == 0 ? NULL : bsearch(&key, v, n, sizeof(*v), fent_cmp);
}

/* check_folder - compare one folder; counts problems */
static int
check_folder(struct check *c, const char *name, const char **error_r)
{
	struct store_folder_rec rec, calc;
	struct store_iter_rec ir;
	struct store_iter *it;
	struct store_txn *t;
	struct store_cache cache;
	struct file_ent *files = NULL, *newf = NULL, *f;
	size_t nfiles = 0, nnew = 0, i, seen = 0;
	uint32_t maxuid = 0, uid;
	uint64_t maxmodseq = 0;
	char *dir;
	bool *matched = NULL;
	int r = -1;

	if (store_folder_path(c->u, name, NULL, &dir, error_r) < 0)
		return -1;
	if (list_files(dir, "cur", &files, &nfiles) < 0 ||
	    list_files(dir, "new", &newf, &nnew) < 0) {
		problem(c, name, "cur/ or new/ is missing");
		r = 0;
		goto out;
	}
	if (nnew > 0)
		say(c, "%s: %zu new messages not yet indexed", name, nnew);
	matched = xcalloc(nfiles + 1, sizeof(*matched));
	if (store_txn_begin(c->u->idx, false, &t, error_r) < 0)
		goto out;
	if (store_folder_get(t, name, &rec, error_r) < 0 ||
	    store_iter_new(t, STORE_ITER_MSGS, rec.id, 0, &it,
	    error_r) < 0) {
		store_txn_abort(&t);
		goto out;
	}
	memset(&calc, 0, sizeof(calc));
	calc.recent_uid = rec.recent_uid;
	while ((r = store_iter_next(it, &ir, error_r)) == 1) {
		c->rep->messages++;
		seen++;
		calc.messages++;
		calc.size += ir.msg.size;
		if (!(ir.msg.flags & STORE_FLAG_SEEN))
			calc.unseen++;
		if (ir.msg.uid >= rec.recent_uid)
			calc.recent++;
		if (ir.msg.uid > maxuid)
			maxuid = ir.msg.uid;
		if (ir.msg.modseq > maxmodseq)
			maxmodseq = ir.msg.modseq;
		f = find_file(files, nfiles, ir.msg.base);
		if (f == NULL)
			problem(c, name, "UID %u: file %s is missing",
			    ir.msg.uid, ir.msg.base);
		else {
			matched[f - files] = true;
			if (store_maildir_flags(f->fname) != ir.msg.flags)
				problem(c, name, "UID %u: flags differ from "
				    "file name %s", ir.msg.uid, f->fname);
		}
		if (store_idx_name_get(t, rec.id, ir.msg.base,
		    strlen(ir.msg.base), &uid, error_r) != 1 ||
		    uid != ir.msg.uid)
			problem(c, name, "UID %u: name table disagrees",
			    ir.msg.uid);
		if (store_idx_cache_get(t, rec.id, ir.msg.uid, &cache,
		    error_r) != 1)
			problem(c, name, "UID %u: no cached summary",
			    ir.msg.uid);
	}
	store_iter_free(&it);
	store_txn_abort(&t);
	if (r < 0)
		goto out;
	for (i = 0; i < nfiles; i++)
		if (!matched[i])
			problem(c, name, "file %s has no UID", files[i].fname);
	if (maxuid >= rec.uidnext)
		problem(c, name, "UIDNEXT %u is not above UID %u",
		    rec.uidnext, maxuid);
	if (maxmodseq > rec.highestmodseq)
		problem(c, name, "HIGHESTMODSEQ %llu is below %llu",
		    (unsigned long long)rec.highestmodseq,
		    (unsigned long long)maxmodseq);
	if (calc.messages != rec.messages || calc.unseen != rec.unseen ||
	    calc.size != rec.size || calc.recent != rec.recent)
		problem(c, name, "counters differ: messages %u/%u unseen "
		    "%u/%u size %llu/%llu", rec.messages, calc.messages,
		    rec.unseen, calc.unseen, (unsigned long long)rec.size,
		    (unsigned long long)calc.size);
	r = 0;
out:
	for (i = 0; i < nfiles; i++)
		free(files[i].fname);
	for (i = 0; i < nnew; i++)
		free(newf[i].fname);
	free(files);
	free(newf);
	free(matched);
	free(dir);
	return r;
}

/* repair_folder - names from records, sync, counters from records */
static int
repair_folder(struct check *c, const char *name, const char **error_r)
{
	struct store_folder_rec rec;
	struct store_iter_rec ir;
	struct store_iter *it;
	struct store_txn *t;
	struct store_cache cache;
	struct mime_summary sum;
	struct store_msg *msgs = NULL;
	char *dir, *path, *data;
	size_t n = 0, i, len;
	uint32_t uid;
	int r;

	if (store_folder_path(c->u, name, NULL, &dir, error_r) < 0)
		return -1;
	if (store_maildir_create(dir, error_r) < 0)
		goto fail_dir;
	/* 1: the name table from the message records */
	if (store_txn_begin(c->u->idx, true, &t, error_r) < 0)
		goto fail_dir;
	if (store_folder_get(t, name, &rec, error_r) < 0 ||
	    store_iter_new(t, STORE_ITER_MSGS, rec.id, 0, &it, error_r) < 0)
		goto fail_txn;
	while ((r = store_iter_next(it, &ir, error_r)) == 1) {
		msgs = xreallocarray(msgs, n + 1, sizeof(*msgs));
		msgs[n] = ir.msg;
		msgs[n].base = xstrdup(ir.msg.base);
		msgs[n].keywords = NULL;
		n++;
	}
	store_iter_free(&it);
	if (r < 0)
		goto fail_txn;
	for (i = 0; i < n; i++) {
		r = store_idx_name_get(t, rec.id, msgs[i].base,
		    strlen(msgs[i].base), &uid, error_r);
		if (r < 0)
			goto fail_txn;
		if (r == 0 || uid != msgs[i].uid) {
			if (store_idx_name_put(t, rec.id, msgs[i].base,
			    strlen(msgs[i].base), msgs[i].uid, error_r) < 0)
				goto fail_txn;
			c->rep->repaired++;
		}
		/* and no UID at or above UIDNEXT, ever */
		if (msgs[i].uid >= rec.uidnext) {
			rec.uidnext = msgs[i].uid + 1;
			c->rep->repaired++;
		}
		if (msgs[i].modseq > rec.highestmodseq)
			rec.highestmodseq = msgs[i].modseq;
	}
	rec.cur_mtime = rec.new_mtime = 0;	/* force a full sync */
	if (store_idx_folder_put(t, name, &rec, error_r) < 0 ||
	    store_txn_commit(&t, error_r) < 0)
		goto fail_txn;
	/* 2: the Maildir's truth */
	if (store_sync(c->u, name, dir, error_r) < 0)
		goto fail_dir;
	/* 3: counters and missing summaries */
	if (store_txn_begin(c->u->idx, true, &t, error_r) < 0)
		goto fail_dir;
	if (store_folder_get(t, name, &rec, error_r) < 0 ||
	    store_iter_new(t, STORE_ITER_MSGS, rec.id, 0, &it, error_r) < 0)
		goto fail_txn;
	for (i = 0; i < n; i++)
		free((char *)msgs[i].base);
	free(msgs);
	msgs = NULL;
	n = 0;
	rec.messages = rec.unseen = rec.recent = 0;
	rec.size = 0;
	while ((r = store_iter_next(it, &ir, error_r)) == 1) {
		rec.messages++;
		rec.size += ir.msg.size;
		if (!(ir.msg.flags & STORE_FLAG_SEEN))
			rec.unseen++;
		if (ir.msg.uid >= rec.recent_uid)
			rec.recent++;
		msgs = xreallocarray(msgs, n + 1, sizeof(*msgs));
		msgs[n] = ir.msg;
		msgs[n].base = xstrdup(ir.msg.base);
		msgs[n].keywords = NULL;
		n++;
	}
	store_iter_free(&it);
	if (r < 0)
		goto fail_txn;
	for (i = 0; i < n; i++) {
		if ((r = store_idx_cache_get(t, rec.id, msgs[i].uid, &cache,
		    error_r)) < 0)
			goto fail_txn;
		if (r == 1)
			continue;
		path = store_msg_path(dir, msgs[i].base, msgs[i].flags);
		if (store_maildir_read(path, &data, &len) == 0) {
			mime_summarize(data, len, &sum);
			store_cache_from_summary(&sum, &cache);
			r = store_idx_cache_put(t, rec.id, msgs[i].uid,
			    &cache, error_r);
			mime_summary_deinit(&sum);
			free(data);
			c->rep->repaired++;
		}
		free(path);
		if (r < 0)
			goto fail_txn;
	}
	if (store_idx_folder_put(t, name, &rec, error_r) < 0 ||
	    store_txn_commit(&t, error_r) < 0)
		goto fail_txn;
	for (i = 0; i < n; i++)
		free((char *)msgs[i].base);
	free(msgs);
	free(dir);
	return 0;
fail_txn:
	store_txn_abort(&t);
fail_dir:
	for (i = 0; i < n; i++)
		free((char *)msgs[i].base);
	free(msgs);
	free(dir);
	return -1;
}

/* fix_quota - the user's totals as the sum of the folders */
static int
fix_quota(struct check *c, const char **error_r)
{
	struct store_iter_rec ir;
	struct store_iter *it;
	struct store_txn *t;
	uint64_t bytes = 0, msgs = 0, ob, om;
	int r;

	if (store_txn_begin(c->u->idx, c->repair, &t, error_r) < 0)
		return -1;
	if (store_iter_new(t, STORE_ITER_FOLDERS, 0, 0, &it, error_r) < 0) {
		store_txn_abort(&t);
		return -1;
	}
	while ((r = store_iter_next(it, &ir, error_r)) == 1) {
		bytes += ir.folder.size;
		msgs += ir.folder.messages;
	}
	store_iter_free(&it);
	if (r < 0 || store_idx_meta_get(t, "quota_bytes", &ob, error_r) < 0 ||
	    store_idx_meta_get(t, "quota_msgs", &om, error_r) < 0) {
		store_txn_abort(&t);
		return -1;
	}
	if (ob == bytes && om == msgs) {
		store_txn_abort(&t);
		return 0;
	}
	problem(c, "(user)", "quota usage %llu bytes/%llu messages, folders "
	    "hold %llu/%llu", (unsigned long long)ob, (unsigned long long)om,
	    (unsigned long long)bytes, (unsigned long long)msgs);
	if (!c->repair) {
		store_txn_abort(&t);
		return 0;
	}
	if (store_idx_meta_put(t, "quota_bytes", bytes, error_r) < 0 ||
	    store_idx_meta_put(t, "quota_msgs", msgs, error_r) < 0) {
		store_txn_abort(&t);
		return -1;
	}
	c->rep->repaired++;
	return store_txn_commit(&t, error_r);
}

/* store_check - verify every folder; with repair, fix what is wrong */
int
store_check(struct store_user *u, bool repair,
    void (*sayfn)(const char *line, void *arg), void *arg,
    struct store_check_report *rep, const char **error_r)
{
	struct store_mailbox_info *list;
	struct check c;
	size_t n, i;
	unsigned int before;
	int r = 0;

	memset(rep, 0, sizeof(*rep));
	c.u = u;
	c.repair = repair;
	c.say = sayfn;
	c.arg = arg;
	c.rep = rep;
	if (store_mailbox_list(u, &list, &n, error_r) < 0)
		return -1;
	for (i = 0; i < n && r == 0; i++) {
		if (!list[i].exists)
			continue;
		rep->folders++;
		before = rep->problems;
		r = check_folder(&c, list[i].name, error_r);
		if (r == 0 && repair && rep->problems > before) {
			r = repair_folder(&c, list[i].name, error_r);
			if (r == 0)
				say(&c, "%s: repaired", list[i].name);
		}
	}
	store_mailbox_list_free(&list, n);
	if (r == 0)
		r = fix_quota(&c, error_r);
	if (r < 0)
		return -1;
	return rep->problems > 0 ? 1 : 0;
}
