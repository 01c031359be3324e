/*
 * store_index - one user's mailbox index, in an LMDB environment
 *
 * The index owns the records IMAP needs fast and must never lose: per
 * folder its UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and status counters, per
 * message its UID, Maildir base name, flags, keywords, MODSEQ, INTERNALDATE
 * and size, the cached ENVELOPE/BODYSTRUCTURE and header fields, the
 * expunge log, subscriptions and quota usage.  LMDB serialises writers
 * across processes and gives readers snapshots, so one write transaction
 * is one logical change and a crash loses a whole change or nothing.  LMDB
 * types stay inside store_index.c; records borrowed from a transaction are
 * valid until the transaction ends.
 *
 * Databases and keys (u32 in big-endian so keys sort by number):
 *   meta      "quota_bytes", "quota_msgs", "next_fid", "next_uidvalidity"
 *   folders   name -> struct store_folder_rec
 *   subs      name -> ""
 *   msgs      fid uid -> flags, modseq, dates, size, base, keywords
 *   names     fid base -> uid
 *   cache     fid uid -> struct store_cache strings
 *   expunged  fid uid -> modseq
 */
#ifndef BASTIDE_STORE_INDEX_H
#define BASTIDE_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_index;
struct store_txn;
struct store_iter;

#define STORE_INDEX_VERSION	1

/* folder attributes (special use and the like) */
#define STORE_ATTR_DRAFTS	0x01
#define STORE_ATTR_SENT		0x02
#define STORE_ATTR_TRASH	0x04
#define STORE_ATTR_JUNK		0x08
#define STORE_ATTR_ARCHIVE	0x10
/* every special use a folder may carry (RFC 6154 CREATE-SPECIAL-USE) */
#define STORE_ATTR_SPECIAL	(STORE_ATTR_DRAFTS | STORE_ATTR_SENT | \
				 STORE_ATTR_TRASH | STORE_ATTR_JUNK | \
				 STORE_ATTR_ARCHIVE)

struct store_folder_rec {
	uint32_t	 version;
	uint32_t	 id;
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
	uint32_t	 attrs;
	uint32_t	 messages;
	uint32_t	 unseen;
	uint32_t	 recent;
	uint32_t	 recent_uid;	/* UIDs from here on are \Recent */
	uint32_t	 sync_flags;	/* STORE_SYNC_* */
	uint64_t	 highestmodseq;
	uint64_t	 size;
	int64_t		 cur_mtime;	/* ns, 0: must rescan */
	int64_t		 new_mtime;	/* ns, 0: must look into new/ */
	int64_t		 verify_since;	/* ns, when VERIFY was set */
};

/* cur_mtime was recorded without a full scan: scan once it settles */
#define STORE_SYNC_VERIFY	0x01

struct store_msg {
	uint32_t	 uid;
	unsigned int	 flags;		/* STORE_FLAG_* */
	uint64_t	 modseq;
	int64_t		 internaldate;	/* seconds */
	uint64_t	 size;
	const char	*base;		/* Maildir base name */
	const char	*keywords;	/* space-separated, "" for none */
};

struct store_cache {
	uint64_t	 header_size;
	int64_t		 sent_date;
	const char	*envelope, *bodystructure, *body, *header_fields;
	const char	*message_id, *in_reply_to, *references, *base_subject;
};

int	 store_index_open(const char *dir, uint64_t map_size,
	    struct store_index **idx_r, const char **error_r);
void	 store_index_free(struct store_index **idx);

int	 store_txn_begin(struct store_index *idx, bool write,
	    struct store_txn **txn_r, const char **error_r);
int	 store_txn_commit(struct store_txn **txn, const char **error_r);
void	 store_txn_abort(struct store_txn **txn);

/* getters return 1 found, 0 not found, -1 error (error_r set) */
int	 store_idx_meta_get(struct store_txn *t, const char *key,
	    uint64_t *v_r, const char **error_r);
int	 store_idx_meta_put(struct store_txn *t, const char *key, uint64_t v,
	    const char **error_r);

int	 store_idx_folder_get(struct store_txn *t, const char *name,
	    struct store_folder_rec *rec_r, const char **error_r);
int	 store_idx_folder_put(struct store_txn *t, const char *name,
	    const struct store_folder_rec *rec, const char **error_r);
int	 store_idx_folder_del(struct store_txn *t, const char *name,
	    const char **error_r);
/* drop every message, name, cache and expunge record of a folder id */
int	 store_idx_folder_purge(struct store_txn *t, uint32_t fid,
	    const char **error_r);

int	 store_idx_sub_set(struct store_txn *t, const char *name, bool on,
	    const char **error_r);

int	 store_idx_msg_get(struct store_txn *t, uint32_t fid, uint32_t uid,
	    struct store_msg *msg_r, const char **error_r);
int	 store_idx_msg_put(struct store_txn *t, uint32_t fid,
	    const struct store_msg *msg, const char **error_r);
int	 store_idx_msg_del(struct store_txn *t, uint32_t fid, uint32_t uid,
	    const char **error_r);

int	 store_idx_name_get(struct store_txn *t, uint32_t fid,
	    const char *base, size_t len, uint32_t *uid_r,
	    const char **error_r);
int	 store_idx_name_put(struct store_txn *t, uint32_t fid,
	    const char *base, size_t len, uint32_t uid, const char **error_r);
int	 store_idx_name_del(struct store_txn *t, uint32_t fid,
	    const char *base, size_t len, const char **error_r);

int	 store_idx_cache_get(struct store_txn *t, uint32_t fid, uint32_t uid,
	    struct store_cache *cache_r, const char **error_r);
int	 store_idx_cache_put(struct store_txn *t, uint32_t fid, uint32_t uid,
	    const struct store_cache *cache, const char **error_r);
int	 store_idx_cache_del(struct store_txn *t, uint32_t fid, uint32_t uid,
	    const char **error_r);

int	 store_idx_expunged_put(struct store_txn *t, uint32_t fid,
	    uint32_t uid, uint64_t modseq, const char **error_r);

/* iterators; next returns 1 with a record, 0 at the end, -1 on error */
enum store_iter_kind {
	STORE_ITER_FOLDERS,	/* base/base_len (the name), folder */
	STORE_ITER_SUBS,	/* base/base_len (the name) */
	STORE_ITER_MSGS,	/* msg, from uid "from" */
	STORE_ITER_NAMES,	/* base (not terminated), len, uid */
	STORE_ITER_EXPUNGED	/* uid, modseq */
};
struct store_iter_rec {
	struct store_folder_rec	 folder;	/* FOLDERS */
	struct store_msg	 msg;		/* MSGS */
	const char		*base;		/* NAMES; FOLDERS, SUBS: name */
	size_t			 base_len;
	uint32_t		 uid;		/* NAMES, EXPUNGED */
	uint64_t		 modseq;	/* EXPUNGED */
};
int	 store_iter_new(struct store_txn *t, enum store_iter_kind kind,
	    uint32_t fid, uint32_t from, struct store_iter **it_r,
	    const char **error_r);
int	 store_iter_next(struct store_iter *it, struct store_iter_rec *rec,
	    const char **error_r);
void	 store_iter_free(struct store_iter **it);

#endif
