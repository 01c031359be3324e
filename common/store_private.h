/*
 * store_private - what the store*.c files share and nobody else sees
 *
 * XXX: a header without a .c of the same stem; the store is one module
 * split into files by job (store.c folders and snapshots, store_ops.c
 * message operations, store_sync.c disk-to-index sync, store_deliver.c
 * delivery, store_check.c verification), and they share these structs.
 */
#ifndef BASTIDE_STORE_PRIVATE_H
#define BASTIDE_STORE_PRIVATE_H

#include <pthread.h>

#include "store.h"

struct mime_summary;

struct store {
	char		*root;
	uint64_t	 map_size;
	uint64_t	 idle_close_ms;
	unsigned int	 idle_max;
	pthread_mutex_t	 lock;		/* the user table */
	struct store_user *users;
};

struct store_user {
	struct store_user *next;
	struct store	*st;
	char		*name;		/* "localpart@domain" */
	char		*home;		/* <root>/<domain>/<localpart> */
	char		*maildir;	/* <home>/Maildir */
	char		*index_dir;	/* <home>/index.lmdb */
	struct store_index *idx;
	unsigned int	 refs;
	int64_t		 last_used_ms;
	/* store_deliver's estimate of the mail in one folder's new/ that the
	 * index has not counted yet, so a quota check need not read new/
	 * every time; under st->lock */
	char		*pending_dir;
	uint64_t	 pending_bytes, pending_msgs;
	int64_t		 pending_at_ms;	/* when new/ was last read */
};

struct store_mailbox {
	struct store_user *u;
	char		*name;		/* canonical */
	char		*dir;		/* the folder's Maildir directory */
	uint32_t	 fid;
	uint32_t	 uidvalidity;
	char		 mailboxid[STORE_MAILBOXID_SIZE];
};

struct store_snapshot {
	struct store_mailbox *mb;
	struct store_txn *t;
	struct store_folder_rec rec;
	struct store_iter *it;
	struct store_iter *xit;
};

/* canonical name and full directory path of a folder */
int	 store_folder_path(struct store_user *u, const char *name,
	    char **canon_r, char **dir_r, const char **error_r);
/* the folder record; "no such mailbox" when absent */
int	 store_folder_get(struct store_txn *t, const char *name,
	    struct store_folder_rec *rec_r, const char **error_r);
/* add a message's counters to (sign 1) or remove them from (-1) rec and
 * the user's quota usage */
int	 store_account(struct store_txn *t, struct store_folder_rec *rec,
	    const struct store_msg *msg, int sign, const char **error_r);
/* the cache record for a summary (borrowing its strings) */
void	 store_cache_from_summary(const struct mime_summary *sum,
	    struct store_cache *cache);
/* path of a message file: <dir>/cur/<base>:2,<flags>; caller frees */
char	*store_msg_path(const char *dir, const char *base, unsigned int flags);
/* keywords: merge per mode into a normalised space-separated list */
char	*store_keywords_apply(const char *old, enum store_flag_mode mode,
	    const char *change);
/* after our own renames in dir/cur/ under the index lock: remember the
 * new mtime, so that other sessions need not rescan (verified later) */
void	 store_sync_own_change(struct store_folder_rec *rec, const char *dir);
/* sync a folder's directory with the index */
int	 store_sync(struct store_user *u, const char *name, const char *dir,
	    const char **error_r);
/* full scans of cur/ done by this process, for tests and statistics */
unsigned long store_sync_full_scans(void);
int64_t	 store_now_ms(void);
/* the MAILBOXID of a folder record into id (STORE_MAILBOXID_SIZE) */
void	 store_mailbox_id_format(const struct store_folder_rec *rec,
	    char *id);

#endif
