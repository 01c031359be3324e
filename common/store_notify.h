/*
 * store_notify - wake watchers when a folder changes, in any process
 *
 * One inotify instance per process (the kernel limits instances per user
 * to 128 by default, so not one per IDLE session), with one pollable fd
 * for the event loop.  A watch on a folder covers its new/ (deliveries and
 * files dropped by other programs), its cur/ (renames and removals by
 * other programs) and the user's index data file, which LMDB writes with
 * pwrite() on every commit by any of our processes (flags, expunges,
 * appends): so every change is seen within milliseconds, with no socket
 * protocol between daemons.  A woken watcher syncs and compares
 * HIGHESTMODSEQ/UIDNEXT to learn what changed; a spurious wake-up costs a
 * sync's fast path.
 */
#ifndef BASTIDE_STORE_NOTIFY_H
#define BASTIDE_STORE_NOTIFY_H

struct store_user;
struct store_notify;

typedef void store_notify_fn(void *cookie, void *arg);

int	 store_notify_new(struct store_notify **n_r, const char **error_r);
void	 store_notify_free(struct store_notify **n);
/* readable when something changed; then call store_notify_read() */
int	 store_notify_fd(const struct store_notify *n);
/* watch a folder of u for cookie (one watch per cookie) */
int	 store_notify_add(struct store_notify *n, struct store_user *u,
	    const char *mailbox, void *cookie, const char **error_r);
void	 store_notify_remove(struct store_notify *n, void *cookie);
/* drain events; fn runs once for each cookie whose folder changed.
 * Returns the number of cookies woken, or -1. */
int	 store_notify_read(struct store_notify *n, store_notify_fn *fn,
	    void *arg);

#endif
