/*
 * imap_view - the selected mailbox as one session's client knows it
 *
 * A view owns the open store folder (struct store_mailbox) and the map
 * from sequence numbers to UIDs as the client was last told, with, per
 * message, the MODSEQ of the state the client has seen.  Comparing that
 * with the store tells what to report: a message whose MODSEQ grew got
 * new flags (untagged FETCH), a UID no longer in the store was expunged
 * (EXPUNGE or VANISHED), UIDs past the last known one arrived (EXISTS).
 * 16 bytes per message; a sync that finds HIGHESTMODSEQ, UIDNEXT and the
 * message count unchanged reads nothing else.
 *
 * Messages expunged by someone else stay in the map, marked, until the
 * client may be told (see the EXPUNGE rule in imap_session.h); their
 * sequence numbers stay valid meanwhile but name nothing in the store.
 *
 * \Recent (IMAP4rev1 only): a read-write view claims the folder's recent
 * messages at open and at each sync (store_mailbox_claim_recent()) and
 * remembers their UIDs.
 *
 * The keywords of the mailbox are collected at open and grow when a new
 * one shows up (then FLAGS and PERMANENTFLAGS are sent again).
 *
 * Everything here blocks on the store: worker threads only, by the
 * session's running command.
 */
#ifndef BASTIDE_IMAP_VIEW_H
#define BASTIDE_IMAP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#include "imap_seqset.h"

struct store_mailbox;
struct store_msg;
struct store_user;

#define IMAP_VIEW_EXPUNGED	0x01	/* gone from the store, not told */

struct imap_view_msg {
	uint32_t	 uid;
	uint32_t	 state;		/* IMAP_VIEW_* */
	uint64_t	 modseq;	/* of the state the client has seen */
};

struct imap_view {
	struct store_mailbox *mb;	/* owned */
	char		*name;		/* canonical UTF-8 name */
	bool		 readonly;	/* EXAMINE */
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;	/* as last reported */
	uint64_t	 highestmodseq;	/* as last synced */
	struct imap_view_msg *msgs;	/* msgs[seq - 1] */
	uint32_t	 count;		/* messages in the map */
	uint32_t	 exists_told;	/* the last EXISTS sent */
	size_t		 alloc;
	uint32_t	 first_unseen;	/* at open: seq of the first unseen */
	uint32_t	 expunged;	/* marked IMAP_VIEW_EXPUNGED */
	struct imap_seqset recent;	/* UIDs \Recent for this session */
	uint32_t	 recent_reported; /* last RECENT count sent */
	char		**keywords;	/* of the mailbox, as sent in FLAGS */
	size_t		 nkeywords;
	/* a sync cut short at IMAP_OUT_CHUNK resumes its FETCH pass here */
	uint32_t	 resume_uid;
	uint64_t	 pass_modseq;	/* HIGHESTMODSEQ when that pass began */
};

/* how imap_view_sync() reports */
#define IMAP_VIEW_EXPUNGE_OK	0x01	/* expunges may be reported */
#define IMAP_VIEW_VANISHED	0x02	/* as VANISHED (QRESYNC) */
#define IMAP_VIEW_MODSEQ	0x04	/* UID, MODSEQ in FETCH (CONDSTORE) */
#define IMAP_VIEW_RECENT	0x08	/* \Recent and RECENT (IMAP4rev1) */
#define IMAP_VIEW_UTF8		0x10	/* IMAP_WRITE_UTF8 for keywords */

/*
 * Open name (canonical) of u; read-write unless readonly.  Builds the
 * map, claims \Recent (read-write).  The caller then writes the SELECT
 * responses (imap_view_write_select()).
 */
int	 imap_view_open(struct store_user *u, const char *name, bool readonly,
	    struct imap_view **v_r, const char **error_r);
void	 imap_view_free(struct imap_view **v);

/* the UID of seq (1-based), 0 when out of range */
uint32_t imap_view_uid(const struct imap_view *v, uint32_t seq);
/* the sequence number of uid, 0 when not in the view */
uint32_t imap_view_seq(const struct imap_view *v, uint32_t uid);
/* the highest UID in the view, 0 when empty */
uint32_t imap_view_max_uid(const struct imap_view *v);
/* whether the message at seq was expunged by someone else (not told) */
bool	 imap_view_is_expunged(const struct imap_view *v, uint32_t seq);
/* \Recent for this session */
bool	 imap_view_is_recent(const struct imap_view *v, uint32_t uid);
uint32_t imap_view_recent_count(const struct imap_view *v);

/*
 * A parsed set (sequence numbers, or UIDs when uid) into the set of UIDs
 * in the view it names, into uids (initialised; old content dropped).
 * "*" is resolved here.  A sequence number past EXISTS is a client
 * error: -1 with "Invalid message sequence number" (BAD).  UIDs not in
 * the view are dropped silently.  set itself is resolved in place.
 */
int	 imap_view_uidset(const struct imap_view *v, struct imap_seqset *set,
	    bool uid, struct imap_seqset *uids, const char **error_r);

/*
 * The client now knows the message's state at modseq (a FETCH FLAGS or
 * a STORE reply was sent, or STORE .SILENT asked not to be told), so the
 * next sync does not report it again.  Unknown UIDs are ignored.
 */
void	 imap_view_known(struct imap_view *v, uint32_t uid, uint64_t modseq);

/*
 * Sync with the store and append the untagged updates (how: the
 * IMAP_VIEW_* bits): expunges first (if allowed), then EXISTS/RECENT,
 * then FLAGS/PERMANENTFLAGS for new keywords, then FETCH for changed
 * flags, this part stopping at IMAP_OUT_CHUNK bytes of out.  Returns 0,
 * 1 when cut short (call again), -1 with a store error.  On a mailbox
 * that was deleted or renamed away, -1 with "mailbox was deleted".
 */
int	 imap_view_sync(struct imap_view *v, unsigned int how,
	    struct buf *out, const char **error_r);

/*
 * The SELECT/EXAMINE responses from FLAGS to UIDNEXT (and HIGHESTMODSEQ
 * when condstore); the caller adds QRESYNC's VANISHED/FETCH and the
 * tagged OK [READ-WRITE].
 */
int	 imap_view_write_select(const struct imap_view *v, unsigned int how,
	    bool condstore, struct buf *out);

/* "\Seen \Answered" <-> store bits */
unsigned int imap_flags_from_store(unsigned int store_flags);
unsigned int imap_flags_to_store(unsigned int imap_flags);

/*
 * "FLAGS (\Seen $Junk)" of a store message into out (no leading space),
 * with \Recent when recent; keywords are split from the store's
 * space-separated list.  -1 past the buffer's ceiling.
 */
int	 imap_view_write_msg_flags(struct buf *out, const struct store_msg *m,
	    bool recent);

#endif
