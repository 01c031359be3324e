/*
 * imap_search_eval - does one message match a parsed SEARCH program?
 *
 * The program is the tree imap_parse_search() builds (imap_parse.h).  The
 * caller walks the messages of the selected mailbox and asks, for each,
 * imap_search_match(); the answer is computed from the cheapest source
 * that can give it:
 *   - the index record (struct store_msg): flags, keywords, dates, size,
 *     UID, MODSEQ, and the sequence number and \Recent from the caller;
 *   - the cached summary (struct store_cache): the raw header lines of
 *     From To Cc Bcc Subject Date Message-ID References ..., the Date as
 *     written, the BODYSTRUCTURE, the thread fields;
 *   - the message itself, only for BODY, TEXT and HEADER of a field the
 *     cache does not hold.
 * The cache and the message are asked for through the callbacks of
 * struct imap_search_source, at most once per message, and only when a
 * key needs them; inside AND and OR the cheap keys are tried first, so
 * "UNSEEN BODY x" opens only the unseen messages.
 *
 * Text keys (BCC BODY CC FROM SUBJECT TEXT TO HEADER) compare the search
 * string case-insensitively as a substring of the decoded text in UTF-8
 * (imap_text.h): header fields with RFC 2047 words decoded, bodies
 * decoded from base64 / quoted-printable and converted from their
 * charset.  BODY looks at the "text" leaf parts (and parts without a
 * type), TEXT at the whole header and those parts.
 *
 * The text hook.  When indexd runs, imap_search_prepare() hands each text
 * key to the hook, which may answer with the set of UIDs that match it;
 * those keys are then answered by membership, and the rest by the scan.
 * The scan defines the answer: indexd must give the same one (the same
 * decoding, folding and substring rules), so a key may always be left to
 * the scan.
 *
 * Sequence numbers are the caller's: imap_search_resolve() turns "*" in
 * the program's sets into numbers, "$" is the saved result given as UIDs
 * in the settings.  The program, the saved set and the source are
 * borrowed for the life of the struct imap_search_prog.
 */
#ifndef BASTIDE_IMAP_SEARCH_EVAL_H
#define BASTIDE_IMAP_SEARCH_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

#include "imap_parse.h"
#include "imap_seqset.h"

/* one message as the evaluator sees it */
struct imap_search_msg {
	uint32_t	 seq;
	bool		 recent;	/* \Recent in this session */
	const struct store_msg *msg;
	/* set by the source callbacks when asked (or by the caller ahead) */
	const struct store_cache *cache;
	const char	*data;		/* the whole message */
	size_t		 len;
};

struct imap_search_source {
	/* set m->cache; 1 done, 0 no cached summary (the evaluator then
	 * summarises the message itself), -1 error */
	int		(*cache)(void *arg, struct imap_search_msg *m,
			    const char **error_r);
	/* set m->data and m->len, valid until the caller moves on to the
	 * next message; 0, or -1 error (e.g. the file is gone) */
	int		(*message)(void *arg, struct imap_search_msg *m,
			    const char **error_r);
	void		*arg;
};

/*
 * The text hook: answer one text key (node->op one of BCC BODY CC FROM
 * SUBJECT TEXT TO HEADER) with the UIDs that match it, into uids
 * (initialised, empty).  0 answered, 1 cannot (leave it to the scan), -1
 * error.
 */
typedef int imap_search_text_fn(void *arg, const struct imap_search_node *n,
    struct imap_seqset *uids, const char **error_r);

struct imap_search_settings {
	int64_t		 now;		/* for OLDER, YOUNGER */
	int		 tz_minutes;	/* zone of INTERNALDATE's date */
	const struct imap_seqset *saved;	/* "$" as UIDs; NULL: empty */
	imap_search_text_fn *text_fn;	/* NULL: scan only */
	void		*text_arg;
};

struct imap_search_prog;

/* "*" in the program's sets: sequence sets against exists, UID sets
 * against max_uid; numbers past them name no message (never an error) */
void	 imap_search_resolve(struct imap_search_node *root, uint32_t exists,
	    uint32_t max_uid);

/* prepare a program (asks the text hook); -1 when the hook failed */
int	 imap_search_prepare(const struct imap_search_node *root,
	    const struct imap_search_settings *set,
	    const struct imap_search_source *src,
	    struct imap_search_prog **prog_r, const char **error_r);
void	 imap_search_prog_free(struct imap_search_prog **prog);
/* whether the program needs more than the index record for some message
 * (a cached summary or the message) */
bool	 imap_search_prog_needs_cache(const struct imap_search_prog *prog);

/* 1 the message matches, 0 it does not, -1 error (a source failed) */
int	 imap_search_match(struct imap_search_prog *prog,
	    struct imap_search_msg *m, const char **error_r);

/*
 * Matching pieces, for the scan and for anyone who must give the same
 * answer (indexd, tests).
 */
/* whether keywords ("a b c") hold kw, case-insensitively */
bool	 imap_keywords_have(const char *keywords, const char *kw);
/* the days since 1970-01-01 of the date written in a Date: value
 * ("Tue, 1 Feb 1994 21:52:25 -0800" gives 1 Feb 1994); -1 if unreadable */
int64_t	 imap_search_date_days(const char *value, size_t len);
/* append the decoded values of every field called name in the header
 * hdr[0..len) (or in cached header_fields), one per line */
void	 imap_search_header_values(const char *hdr, size_t len,
	    const char *name, struct buf *out, bool *found_r);

/*
 * Object ids (RFC 8474).  EMAILID is a digest of what a message's copies
 * share (Message-ID, Date, INTERNALDATE, size, header size), so COPY and
 * MOVE keep it; THREADID a digest of the thread's root Message-ID (the
 * first of References, else In-Reply-To, else the Message-ID), NULL when
 * the message has none.  Both write into a buffer of IMAP_OBJECTID_SIZE.
 */
#define IMAP_OBJECTID_SIZE	24
void	 imap_objectid_email(const struct store_msg *msg,
	    const struct store_cache *cache, char *id);
bool	 imap_objectid_thread(const struct store_cache *cache, char *id);

#endif
