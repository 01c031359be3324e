/* store_notify.c - inotify on Maildir directories and the index */
#include "config.h"

#include <sys/inotify.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

#include "store.h"
#include "store_notify.h"
#include "store_private.h"

#define WATCH_DIRS	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | \
			 IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)
#define WATCH_INDEX	(IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF)

struct notify_reg {
	void		*cookie;
	int		 wd[3];		/* new/, cur/, index data file */
	bool		 woken;
};

struct store_notify {
	int		 fd;
	struct notify_reg *regs;
	size_t		 nregs;
};

/* store_notify_new - one inotify instance for the process */
int
store_notify_new(struct store_notify **n_r, const char **error_r)
{
	struct store_notify *n;

	n = xcalloc(1, sizeof(*n));
	n->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (n->fd < 0) {
		log_warn("inotify_init1");
		*error_r = "cannot watch mailboxes";
		free(n);
		return -1;
	}
	*n_r = n;
	return 0;
}

/* store_notify_free - drop every watch and the instance */
void
store_notify_free(struct store_notify **np)
{
	struct store_notify *n = *np;

	if (n == NULL)
		return;
	close(n->fd);
	free(n->regs);
	free(n);
	*np = NULL;
}

/* store_notify_fd - the descriptor to poll for reading */
int
store_notify_fd(const struct store_notify *n)
{
	return n->fd;
}

/* store_notify_add - watch new/, cur/ and the index for cookie */
int
store_notify_add(struct store_notify *n, struct store_user *u,
    const char *mailbox, void *cookie, const char **error_r)
{
	struct notify_reg reg;
	char *dir, *path;
	int i;

	if (store_folder_path(u, mailbox, NULL, &dir, error_r) < 0)
		return -1;
	memset(&reg, 0, sizeof(reg));
	reg.cookie = cookie;
	for (i = 0; i < 3; i++) {
		if (i == 0)
			path = xasprintf("%s/new", dir);
		else if (i == 1)
			path = xasprintf("%s/cur", dir);
		else
			path = xasprintf("%s/data.mdb", u->index_dir);
		reg.wd[i] = inotify_add_watch(n->fd, path,
		    i < 2 ? WATCH_DIRS : WATCH_INDEX);
		if (reg.wd[i] < 0) {
			log_warn("inotify_add_watch(%s)", path);
			*error_r = errno == ENOSPC ?
			    "too many watched mailboxes" :
			    "cannot watch mailbox";
			free(path);
			free(dir);
			/* watches added so far may be shared: keep them */
			return -1;
		}
		free(path);
	}
	free(dir);
	n->regs = xreallocarray(n->regs, n->nregs + 1, sizeof(*n->regs));
	n->regs[n->nregs++] = reg;
	return 0;
}

/* wd_used - whether any registration still uses wd */
static bool
wd_used(const struct store_notify *n, int wd)
{
	size_t i;
	int k;

	for (i = 0; i < n->nregs; i++)
		for (k = 0; k < 3; k++)
			if (n->regs[i].wd[k] == wd)
				return true;
	return false;
}

/* store_notify_remove - stop watching for cookie */
void
store_notify_remove(struct store_notify *n, void *cookie)
{
	struct notify_reg reg;
	size_t i;
	int k;

	for (i = 0; i < n->nregs; i++)
		if (n->regs[i].cookie == cookie)
			break;
	if (i == n->nregs)
		return;
	reg = n->regs[i];
	n->regs[i] = n->regs[--n->nregs];
	/* the kernel gives one wd per inode: only the last user removes it */
	for (k = 0; k < 3; k++)
		if (!wd_used(n, reg.wd[k]))
			inotify_rm_watch(n->fd, reg.wd[k]);
}

/* store_notify_read - drain the queue, then call fn per woken cookie */
int
store_notify_read(struct store_notify *n, store_notify_fn *fn, void *arg)
{
	char buf[8192] __attribute__((aligned(__alignof__(
	    struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t len;
	size_t i, off;
	int k, woken = 0;

	for (;;) {
		len = read(n->fd, buf, sizeof(buf));
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			break;
		if (len <= 0) {
			log_warn("read(inotify)");
			return -1;
		}
		for (off = 0; off + sizeof(*ev) <= (size_t)len;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			for (i = 0; i < n->nregs; i++)
				for (k = 0; k < 3; k++)
					if (ev->wd == n->regs[i].wd[k] ||
					    (ev->mask & IN_Q_OVERFLOW))
						n->regs[i].woken = true;
		}
	}
	/* fn may remove registrations: restart after each call */
	for (i = 0; i < n->nregs;) {
		if (!n->regs[i].woken) {
			i++;
			continue;
		}
		n->regs[i].woken = false;
		woken++;
		fn(n->regs[i].cookie, arg);
		i = 0;
	}
	return woken;
}
