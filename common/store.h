/*
 * store - the mail store every daemon shares
 *
 * Per user <root>/<domain>/<localpart>/ holds Maildir/ (INBOX at its top,
 * Maildir++ folders ".Name" below) and index.lmdb/, the user's index.  The
 * Maildir is the truth for which messages exist and their flags; the index
 * adds UIDs, MODSEQs, keywords, cached summaries, the expunge log, the
 * folder list and quota usage, and is kept in step by store_mailbox_sync().
 *
 * A struct store is one per process: it caches one open index per user
 * (LMDB allows one environment per file per process) and closes those idle
 * for longer than idle_close_ms in store_expire().  Every function may
 * block on the disk: call them from worker threads.  Errors are -1 with a
 * static message in *error_r that a client may see; details are logged.
 *
 * Delivery only links files into new/ (cheap, durable); the index learns
 * of them at the next sync, which every open, STATUS and sync does first.
 * Watchers learn of every change through store_notify.h.  Flag bits and
 * the message and cache records come from store_maildir.h and
 * store_index.h.
 *
 * Users are "localpart@domain"; mailbox names are UTF-8 with "/" as the
 * separator (see store_name.h).
 */
#ifndef BASTIDE_STORE_H
#define BASTIDE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store_index.h"
#include "store_maildir.h"

struct conf;
struct store;
struct store_user;
struct store_mailbox;
struct store_snapshot;

struct store_settings {
	const char	*root;		/* the store root directory */
	/* host part of unique file names; NULL: the system's */
	const char	*hostname;
	uint64_t	 map_size;	/* LMDB map size per user, bytes */
	uint64_t	 idle_close_ms;	/* close a user's index when idle */
	unsigned int	 idle_max;	/* idle indexes kept open; 0: 128 */
};

/* results of one recipient of store_deliver() */
enum store_result {
	STORE_OK = 0,
	STORE_ERR_TEMP,		/* disk or index trouble: try later */
	STORE_ERR_QUOTA,	/* over quota: 452 4.2.2 / NO [OVERQUOTA] */
	STORE_ERR_INVALID	/* bad user or mailbox name: permanent */
};

struct store_rcpt {
	const char	*user;		/* "localpart@domain" */
	const char	*mailbox;	/* NULL: INBOX */
	uint64_t	 quota_bytes;	/* from LDAP; 0: no limit */
	uint64_t	 quota_messages;	/* 0: no limit */
	enum store_result result;	/* set by store_deliver() */
	const char	*error;		/* set when result is not STORE_OK */
};

/*
 * A folder's RFC 8474 MAILBOXID: "F", then its UIDVALIDITY and its id in
 * the user's index (fid), 8 lower-case hex digits each, NUL-terminated.
 * Both numbers stay with the folder record through RENAME; neither is
 * ever handed out twice by one index (next_uidvalidity and next_fid only
 * grow), and a rebuilt index starts its UIDVALIDITYs at the current time,
 * so an id names one folder for good.  A folder that vanished from disk
 * and came back, like RENAME INBOX's new folder, is a new folder.
 */
#define STORE_MAILBOXID_SIZE	18

struct store_status {
	uint32_t	 messages, recent, uidnext, uidvalidity, unseen;
	uint64_t	 size, highestmodseq;
	char		 mailboxid[STORE_MAILBOXID_SIZE];
};

struct store_mailbox_info {
	char		*name;		/* UTF-8, "/" separated */
	uint32_t	 attrs;		/* STORE_ATTR_* */
	bool		 exists;	/* false: only subscribed */
	bool		 subscribed;
};

enum store_flag_mode {
	STORE_FLAGS_SET,
	STORE_FLAGS_ADD,
	STORE_FLAGS_REMOVE
};

struct store_uid_map {
	uint32_t	 src_uid, dst_uid;
};

struct store *store_new(const struct store_settings *set);
/* the settings of [store] in conf */
struct store *store_new_conf(const struct conf *conf);
void	 store_free(struct store **st);
/* close the indexes of users nobody used for idle_close_ms */
void	 store_expire(struct store *st);
const char *store_root(const struct store *st);

/*
 * Deliver one message to n recipients.  The message is written once, made
 * durable, and linked into each recipient's new/; when this returns every
 * recipient with result STORE_OK has the message on disk for good.
 * Returns 0 if every recipient succeeded, -1 otherwise.
 */
int	 store_deliver(struct store *st, const char *msg, size_t len,
	    struct store_rcpt *rcpts, size_t n);

/* a user's mailbox, created on first use */
int	 store_user_open(struct store *st, const char *user,
	    struct store_user **u_r, const char **error_r);
void	 store_user_close(struct store_user **u);
/* <root>/<domain>/<localpart> */
const char *store_user_home(const struct store_user *u);
/* quota usage of the whole user, from the index (no scan) */
int	 store_user_usage(struct store_user *u, uint64_t *bytes_r,
	    uint64_t *messages_r, const char **error_r);

/* folders */
int	 store_mailbox_list(struct store_user *u,
	    struct store_mailbox_info **list_r, size_t *n_r,
	    const char **error_r);
void	 store_mailbox_list_free(struct store_mailbox_info **list, size_t n);
int	 store_mailbox_create(struct store_user *u, const char *name,
	    const char **error_r);
/*
 * The same with special-use attributes (RFC 6154 CREATE-SPECIAL-USE):
 * attrs is a set of STORE_ATTR_SPECIAL bits, kept in the folder record
 * (the default folders get theirs so) and listed by store_mailbox_list();
 * other bits fail with "unsupported special use" before anything is
 * made.  mailboxid_r (STORE_MAILBOXID_SIZE bytes, or NULL) gets the new
 * folder's MAILBOXID.
 */
int	 store_mailbox_create_use(struct store_user *u, const char *name,
	    uint32_t attrs, char *mailboxid_r, const char **error_r);
int	 store_mailbox_delete(struct store_user *u, const char *name,
	    const char **error_r);
int	 store_mailbox_rename(struct store_user *u, const char *from,
	    const char *to, const char **error_r);
int	 store_mailbox_subscribe(struct store_user *u, const char *name,
	    bool on, const char **error_r);
/* counters kept in the index; picks up new mail first (cheap when none) */
int	 store_mailbox_status(struct store_user *u, const char *name,
	    struct store_status *status_r, const char **error_r);

/* an open (selected) folder */
int	 store_mailbox_open(struct store_user *u, const char *name,
	    struct store_mailbox **mb_r, const char **error_r);
void	 store_mailbox_close(struct store_mailbox **mb);
const char *store_mailbox_name(const struct store_mailbox *mb);
/* its MAILBOXID (see STORE_MAILBOXID_SIZE) */
const char *store_mailbox_id(const struct store_mailbox *mb);
/* pick up changes made on disk by anyone (new/, renames, removals) */
int	 store_mailbox_sync(struct store_mailbox *mb, const char **error_r);
/* a read-write session takes the \Recent messages; *first_r is the first
 * UID that is recent for this session (UIDNEXT if none) */
int	 store_mailbox_claim_recent(struct store_mailbox *mb,
	    uint32_t *first_r, const char **error_r);

/* the message operations; each is one index transaction */
int	 store_append(struct store_user *u, const char *mailbox,
	    const char *msg, size_t len, unsigned int flags,
	    const char *keywords, time_t internaldate, uint32_t *uid_r,
	    uint32_t *uidvalidity_r, const char **error_r);
/* change flags of uids; with unchangedsince (not 0), messages whose
 * MODSEQ is higher are left alone and listed in *failed_r */
int	 store_set_flags(struct store_mailbox *mb, const uint32_t *uids,
	    size_t n, enum store_flag_mode mode, unsigned int flags,
	    const char *keywords, uint64_t unchangedsince,
	    uint32_t **failed_r, size_t *nfailed_r, const char **error_r);
/* expunge uids (NULL: every \Deleted message) */
int	 store_expunge(struct store_mailbox *mb, const uint32_t *uids,
	    size_t n, const char **error_r);
/* copy or move uids to another folder of the same user */
int	 store_copy(struct store_mailbox *mb, const uint32_t *uids, size_t n,
	    const char *dest, bool move, struct store_uid_map **map_r,
	    size_t *nmap_r, uint32_t *dest_uidvalidity_r,
	    const char **error_r);

/* a consistent read-only view of a folder (one LMDB read transaction);
 * keep it for one command only: it pins the pages it sees, so the index
 * file grows while it is held */
int	 store_snapshot_begin(struct store_mailbox *mb,
	    struct store_snapshot **snap_r, const char **error_r);
void	 store_snapshot_end(struct store_snapshot **snap);
void	 store_snapshot_status(const struct store_snapshot *snap,
	    struct store_status *status_r);
/* messages in UID order from from_uid; 1, 0 at the end, -1 error */
int	 store_snapshot_next(struct store_snapshot *snap, uint32_t from_uid,
	    struct store_msg *msg_r, const char **error_r);
int	 store_snapshot_get(struct store_snapshot *snap, uint32_t uid,
	    struct store_msg *msg_r, const char **error_r);
/* cached summary; 1 found, 0 none, -1 error */
int	 store_snapshot_cache(struct store_snapshot *snap, uint32_t uid,
	    struct store_cache *cache_r, const char **error_r);
/* expunge log entries with MODSEQ > since; 1, 0 at the end, -1 error */
int	 store_snapshot_expunged(struct store_snapshot *snap, uint64_t since,
	    uint32_t *uid_r, uint64_t *modseq_r, const char **error_r);
/* open the message file for reading */
int	 store_snapshot_open_msg(struct store_snapshot *snap,
	    const struct store_msg *msg, int *fd_r, const char **error_r);

/* bastidectl store check: 0 consistent (or repaired), 1 problems found */
struct store_check_report {
	unsigned int	 folders;
	unsigned int	 messages;
	unsigned int	 problems;	/* found */
	unsigned int	 repaired;
};
int	 store_check(struct store_user *u, bool repair,
	    void (*say)(const char *line, void *arg), void *arg,
	    struct store_check_report *rep, const char **error_r);

#endif
