/*
 * imap_msgcmd - what the message commands (FETCH STORE SEARCH SORT THREAD
 * COPY MOVE EXPUNGE APPEND) share
 *
 * Mapping message files, running a SEARCH program over the selected
 * view (imap_search_eval.h) with the store snapshot as its source,
 * turning a sequence set or "$" into the UIDs of the view, and writing
 * long lists of numbers in pieces so that no single handler call passes
 * IMAP_OUT_CHUNK by much (imap_session.h).  Worker threads only, inside
 * a running command.
 */
#ifndef BASTIDE_IMAP_MSGCMD_H
#define BASTIDE_IMAP_MSGCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

#include "imap_parse.h"
#include "imap_seqset.h"

struct imap_session;

/* a message file mapped read-only (len 0: data is "") */
struct imap_msgmap {
	const char	*data;
	size_t		 len;
	void		*addr;		/* for munmap, NULL if none */
};

/* map the file of m; 0, or -1 with a static error ("message is gone") */
int	 imap_msgmap_open(struct store_snapshot *snap,
	    const struct store_msg *m, struct imap_msgmap *map,
	    const char **error_r);
void	 imap_msgmap_close(struct imap_msgmap *map);

/*
 * The UIDs of the view that a set (or "$", saved) names, into uids
 * (initialised).  Sequence numbers past EXISTS: -1 with a reason for BAD.
 */
int	 imap_msgcmd_uids(struct imap_session *s, struct imap_seqset *set,
	    bool saved, bool uid, struct imap_seqset *uids,
	    const char **error_r);
/* the UIDs of a set as an array for the store (caller frees) */
uint32_t *imap_msgcmd_uid_array(const struct imap_seqset *uids, size_t *n_r);

/* one matching message of imap_msgcmd_search(); m and what the callback
 * reads from snap (store_snapshot_cache()) live until it returns */
typedef int imap_msgcmd_match_fn(void *arg, struct store_snapshot *snap,
    uint32_t seq, const struct store_msg *m, const char **error_r);

/*
 * Run a parsed SEARCH program over the selected mailbox in UID order,
 * calling fn for each match (fn returns 0, or -1 to stop with an error).
 * The program's "*" are resolved against the view; "$" is s->saved.
 * 0, or -1 with a static error (logged by the caller).
 */
int	 imap_msgcmd_search(struct imap_session *s, struct imap_search *srch,
	    imap_msgcmd_match_fn *fn, void *arg, const char **error_r);

/* numbers written in pieces: "n n n" from v[pos..) */
struct imap_numlist {
	uint32_t	*v;
	size_t		 n;
	size_t		 alloc;
	size_t		 pos;
};

void	 imap_numlist_push(struct imap_numlist *l, uint32_t n);
void	 imap_numlist_free(struct imap_numlist *l);
/* append " n" for each number until out reaches IMAP_OUT_CHUNK: 1 when
 * more remain, 0 when all are out */
int	 imap_numlist_write(struct imap_numlist *l, struct buf *out);

/* the largest keyword count and length a STORE or APPEND may set */
#define IMAP_MSGCMD_MAX_KEYWORDS	128

/* the keywords of parsed flags as one space-separated string for the
 * store ("" when none; caller frees) */
char	*imap_msgcmd_keywords(const struct imap_flags *f);

#endif
