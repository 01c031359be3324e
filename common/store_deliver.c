/* store_deliver.c - durable delivery of one message to many recipients */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

#include "store.h"
#include "store_name.h"
#include "store_private.h"

/*
 * Delivery only touches the Maildir: the file goes to new/ and the index
 * learns about it at the next sync (every reader syncs before it looks,
 * and watchers are woken by inotify on new/).  That keeps the cost per
 * recipient at a link() and a share of one directory fsync, with no
 * index transaction (two more fsyncs) on the SMTP path.
 */

struct target {
	struct store_user *u;
	char		*dir;		/* the folder directory */
	char		*name;		/* file name in new/ */
	char		*copy_tmp;	/* our own copy after EXDEV */
};

/* pending_new - bytes and messages in new/ that the index has not seen */
static void
pending_new(const char *dir, uint64_t *bytes, uint64_t *msgs)
{
	struct dirent *de;
	struct stat sb;
	char *newd, *path;
	uint64_t size;
	DIR *d;

	newd = xasprintf("%s/new", dir);
	if ((d = opendir(newd)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (store_maildir_name_size(de->d_name, &size) < 0) {
				path = xasprintf("%s/%s", newd, de->d_name);
				size = stat(path, &sb) == 0 ?
				    (uint64_t)sb.st_size : 0;
				free(path);
			}
			*bytes += size;
			(*msgs)++;
		}
		closedir(d);
	}
	free(newd);
}

/*
 * Past this many unindexed files in new/, a quota-checked delivery syncs
 * the folder first: scanning new/ on every delivery costs time in
 * proportion to the mail nobody has read yet, and a sync moves it into
 * the index once for all of them.
 */
#define PENDING_SYNC_THRESHOLD	128

/* one delivery thread syncs at a time; the others count new/ meanwhile
 * rather than queue up behind the index writer lock */
static pthread_mutex_t sync_folder_lock = PTHREAD_MUTEX_INITIALIZER;

/* sync_folder - index what waits in new/ of the recipient's folder */
static void
sync_folder(struct store_rcpt *rc, struct target *tg)
{
	struct store_mailbox *mb;
	const char *error;

	if (pthread_mutex_trylock(&sync_folder_lock) != 0)
		return;
	/* opening syncs */
	if (store_mailbox_open(tg->u, strcmp(tg->dir, tg->u->maildir) == 0 ?
	    "INBOX" : rc->mailbox, &mb, &error) < 0)
		log_warnx("store %s: sync before quota check: %s", rc->user,
		    error);
	else
		store_mailbox_close(&mb);
	pthread_mutex_unlock(&sync_folder_lock);
}

/*
 * How long an estimate of new/ is used before new/ is read again.  Within
 * it, mail this process delivers is added to the estimate; mail another
 * process delivers is not seen, so a user may go over quota by what other
 * processes deliver in that time.  Close to the limit new/ is always read.
 */
#define PENDING_TTL_MS		1000

/* pending_cached - the estimate for dir if fresh; counts len in it */
static bool
pending_cached(struct store_user *u, const char *dir, size_t len,
    uint64_t *bytes_r, uint64_t *msgs_r)
{
	struct store *st = u->st;
	bool fresh;

	pthread_mutex_lock(&st->lock);
	fresh = u->pending_dir != NULL && strcmp(u->pending_dir, dir) == 0 &&
	    store_now_ms() - u->pending_at_ms < PENDING_TTL_MS;
	if (fresh) {
		*bytes_r = u->pending_bytes;
		*msgs_r = u->pending_msgs;
		u->pending_bytes += len;
		u->pending_msgs++;
	}
	pthread_mutex_unlock(&st->lock);
	return fresh;
}

/* pending_scan - read new/ (syncing it first when it is long) and keep
 * the result, with this message counted, as the new estimate */
static void
pending_scan(struct store_rcpt *rc, struct target *tg, size_t len,
    uint64_t *bytes_r, uint64_t *msgs_r)
{
	struct store *st = tg->u->st;
	int64_t at = store_now_ms();

	*bytes_r = *msgs_r = 0;
	pending_new(tg->dir, bytes_r, msgs_r);
	if (*msgs_r > PENDING_SYNC_THRESHOLD) {
		sync_folder(rc, tg);
		*bytes_r = *msgs_r = 0;
		pending_new(tg->dir, bytes_r, msgs_r);
	}
	pthread_mutex_lock(&st->lock);
	if (tg->u->pending_dir == NULL ||
	    strcmp(tg->u->pending_dir, tg->dir) != 0) {
		free(tg->u->pending_dir);
		tg->u->pending_dir = xstrdup(tg->dir);
	}
	tg->u->pending_bytes = *bytes_r + len;
	tg->u->pending_msgs = *msgs_r + 1;
	tg->u->pending_at_ms = at;
	pthread_mutex_unlock(&st->lock);
}

/* over_quota - whether one more message of len bytes passes a limit,
 * or comes within a tenth of one (then the estimate is not enough) */
static bool
over_quota(const struct store_rcpt *rc, uint64_t bytes, uint64_t msgs,
    size_t len, bool margin)
{
	uint64_t qb = rc->quota_bytes, qm = rc->quota_messages;

	if (margin) {
		qb -= qb / 10;
		qm -= qm / 10;
	}
	return (rc->quota_bytes != 0 && bytes + len > qb) ||
	    (rc->quota_messages != 0 && msgs + 1 > qm);
}

/* check_quota - 0 if one more message of len bytes fits */
static int
check_quota(struct store_rcpt *rc, struct target *tg, size_t len)
{
	uint64_t bytes = 0, msgs = 0, pbytes = 0, pmsgs = 0;
	const char *error;
	bool cached;

	if (rc->quota_bytes == 0 && rc->quota_messages == 0)
		return 0;
	if (store_user_usage(tg->u, &bytes, &msgs, &error) < 0) {
		rc->result = STORE_ERR_TEMP;
		rc->error = error;
		return -1;
	}
	/* XXX: only the target folder's new/ is counted as pending; mail
	 * waiting in other folders' new/ is counted once indexed */
	cached = pending_cached(tg->u, tg->dir, len, &pbytes, &pmsgs);
	if (!cached || pmsgs > PENDING_SYNC_THRESHOLD ||
	    over_quota(rc, bytes + pbytes, msgs + pmsgs, len, true)) {
		pending_scan(rc, tg, len, &pbytes, &pmsgs);
		/* a sync may have moved mail into the index meanwhile */
		if (store_user_usage(tg->u, &bytes, &msgs, &error) < 0) {
			rc->result = STORE_ERR_TEMP;
			rc->error = error;
			return -1;
		}
	}
	bytes += pbytes;
	msgs += pmsgs;
	if (over_quota(rc, bytes, msgs, len, false)) {
		rc->result = STORE_ERR_QUOTA;
		rc->error = "mailbox is over quota";
		return -1;
	}
	return 0;
}

/* prepare - open the user and find the folder of one recipient */
static int
prepare(struct store *st, struct store_rcpt *rc, struct target *tg,
    size_t len)
{
	struct stat sb;
	char *newd;
	int r;

	rc->result = STORE_ERR_TEMP;
	if (store_user_open(st, rc->user, &tg->u, &rc->error) < 0) {
		if (strcmp(rc->error, "invalid user name") == 0)
			rc->result = STORE_ERR_INVALID;
		return -1;
	}
	if (store_folder_path(tg->u, rc->mailbox != NULL ? rc->mailbox :
	    "INBOX", NULL, &tg->dir, &rc->error) < 0) {
		rc->result = STORE_ERR_INVALID;
		return -1;
	}
	/* a folder that does not exist (any more): INBOX instead */
	newd = xasprintf("%s/new", tg->dir);
	r = stat(newd, &sb);
	free(newd);
	if (r < 0) {
		free(tg->dir);
		tg->dir = xasprintf("%s", tg->u->maildir);
	}
	if (check_quota(rc, tg, len) < 0)
		return -1;
	rc->result = STORE_OK;
	rc->error = NULL;
	return 0;
}

/* link_into - make src (or the unnamed file anon_fd, if not -1) appear
 * as new/<name> of the target; with a named src the last recipient takes
 * it itself (rename), saving a link and an unlink */
static int
link_into(struct target *tg, const char *src, int anon_fd, bool take,
    const char *msg, size_t len, bool *taken_r, const char **error_r)
{
	char *dst;
	int tries, r = -1;

	if (anon_fd >= 0)
		take = false;
	for (tries = 0; tries < 5; tries++) {
		dst = xasprintf("%s/new/%s", tg->dir, tg->name);
		if (anon_fd >= 0) {
			if (store_maildir_link_anon(anon_fd, dst) == 0) {
				free(dst);
				return 0;
			}
		}
		/* never rename over a file: the same folder may be listed
		 * twice in one delivery */
		if (take && renameat2(AT_FDCWD, src, AT_FDCWD, dst,
		    RENAME_NOREPLACE) == 0) {
			*taken_r = true;
			free(dst);
			return 0;
		}
		if (take && errno != EEXIST && errno != EXDEV) {
			take = false;	/* no RENAME_NOREPLACE here */
			free(dst);
			tries--;
			continue;
		}
		if (anon_fd < 0 && !take && link(src, dst) == 0) {
			free(dst);
			return 0;
		}
		if (errno == EEXIST) {
			free(dst);
			free(tg->name);
			tg->name = store_maildir_unique(len);
			continue;
		}
		if (errno == EXDEV || errno == EMLINK || errno == EPERM) {
			/* another file system: a durable copy of our own */
			tg->copy_tmp = xasprintf("%s/tmp/%s", tg->u->maildir,
			    tg->name);
			r = store_maildir_write(tg->copy_tmp, msg, len, 0,
			    error_r);
			if (r == 0 && link(tg->copy_tmp, dst) < 0) {
				log_warn("link(%s, %s)", tg->copy_tmp, dst);
				*error_r = "cannot deliver message";
				r = -1;
			}
			free(dst);
			return r;
		}
		log_warn("link(%s, %s)", anon_fd >= 0 ? "(unnamed)" : src,
		    dst);
		*error_r = "cannot deliver message";
		free(dst);
		return -1;
	}
	*error_r = "cannot find a unique file name";
	return -1;
}

/* store_deliver - write once, link into every new/, fsync, then return */
int
store_deliver(struct store *st, const char *msg, size_t len,
    struct store_rcpt *rcpts, size_t n)
{
	struct target *tg;
	char *tmp = NULL, *base, *newd, *tmpd;
	const char *error;
	size_t i, j, last = SIZE_MAX;
	bool taken = false;
	int failed = 0, dup, anon_fd = -1, r;

	tg = xcalloc(n, sizeof(*tg));
	base = store_maildir_unique(len);
	for (i = 0; i < n; i++) {
		if (prepare(st, &rcpts[i], &tg[i], len) < 0) {
			failed = 1;
			continue;
		}
		tg[i].name = xstrdup(base);
		last = i;
	}
	for (i = 0; i < n; i++) {
		if (rcpts[i].result != STORE_OK)
			continue;
		if (tmp == NULL && anon_fd < 0) {
			tmpd = xasprintf("%s/tmp", tg[i].u->maildir);
			r = store_maildir_write_anon(tmpd, msg, len, &anon_fd,
			    &error);
			free(tmpd);
			if (r == 1) {
				tmp = xasprintf("%s/tmp/%s", tg[i].u->maildir,
				    base);
				r = store_maildir_write(tmp, msg, len, 0,
				    &error);
			}
			if (r < 0) {
				free(tmp);
				tmp = NULL;
				for (j = i; j < n; j++)
					if (rcpts[j].result == STORE_OK) {
						rcpts[j].result =
						    STORE_ERR_TEMP;
						rcpts[j].error = error;
					}
				failed = 1;
				break;
			}
		}
		if (link_into(&tg[i], tmp, anon_fd, i == last, msg, len,
		    &taken, &error) < 0) {
			rcpts[i].result = STORE_ERR_TEMP;
			rcpts[i].error = error;
			failed = 1;
		}
	}
	/* every new/ that got a link, once each, before anyone is told */
	for (i = 0; i < n; i++) {
		if (rcpts[i].result != STORE_OK || tg[i].dir == NULL)
			continue;
		for (dup = 0, j = 0; j < i; j++)
			if (rcpts[j].result == STORE_OK && tg[j].dir != NULL &&
			    strcmp(tg[j].dir, tg[i].dir) == 0)
				dup = 1;
		if (dup)
			continue;
		newd = xasprintf("%s/new", tg[i].dir);
		if (store_maildir_dirsync(newd, &error) < 0) {
			for (j = i; j < n; j++)
				if (tg[j].dir != NULL &&
				    strcmp(tg[j].dir, tg[i].dir) == 0) {
					rcpts[j].result = STORE_ERR_TEMP;
					rcpts[j].error = error;
				}
			failed = 1;
		}
		free(newd);
	}
	if (tmp != NULL && !taken && unlink(tmp) < 0)
		log_warn("unlink(%s)", tmp);
	if (anon_fd >= 0)
		close(anon_fd);
	for (i = 0; i < n; i++) {
		if (tg[i].copy_tmp != NULL && unlink(tg[i].copy_tmp) < 0)
			log_warn("unlink(%s)", tg[i].copy_tmp);
		free(tg[i].copy_tmp);
		free(tg[i].name);
		free(tg[i].dir);
		store_user_close(&tg[i].u);
	}
	free(tg);
	free(tmp);
	free(base);
	return failed ? -1 : 0;
}
