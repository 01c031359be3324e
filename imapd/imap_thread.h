/*
 * imap_thread - SORT and THREAD (RFC 5256, RFC 5957) over cached fields
 *
 * The caller collects the messages a SORT or THREAD program matched into
 * a struct imap_sort_set, each from its index record and cached summary
 * (imap_sort_set_add()), then sorts them (imap_sort_run()) or writes
 * their threads (imap_thread_write()).  Nothing here reads a message:
 * every key comes from the cache (base subject, sent date, the envelope's
 * first addresses, Message-ID, In-Reply-To, References).
 *
 * Comparisons follow RFC 5256: i;ascii-casemap for SUBJECT (the base
 * subject), FROM, TO and CC (the addr-mailbox of the first address);
 * DISPLAYFROM and DISPLAYTO (RFC 5957: the decoded display name, else the
 * address) fold case as imap_text.h does; DATE is the sent date, or
 * INTERNALDATE when the message has no readable Date:.  Messages equal
 * under every criterion keep their mailbox order.
 *
 * THREAD=ORDEREDSUBJECT and THREAD=REFERENCES are written exactly as RFC
 * 5256 sections 3 and 4 describe, steps numbered in imap_thread.c.  Long
 * reply chains do not recurse: the tree walks use explicit stacks.
 *
 * The set owns copies of every string it keeps; nothing is borrowed from
 * the store after imap_sort_set_add() returns.
 */
#ifndef BASTIDE_IMAP_THREAD_H
#define BASTIDE_IMAP_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

#include "imap_parse.h"

/* one message as SORT and THREAD see it */
struct imap_sort_msg {
	uint32_t	 seq;
	uint32_t	 uid;
	int64_t		 arrival;	/* INTERNALDATE */
	int64_t		 date;		/* sent (or arrival) */
	uint64_t	 size;
	const char	*subject;	/* base subject (RFC 5256 2.1) */
	bool		 is_reply;	/* a reply or forward */
	const char	*from, *to, *cc;	/* addr-mailbox, "" if none */
	const char	*display_from, *display_to;
	const char	*message_id;	/* without <>, NULL if none */
	const char	*in_reply_to;
	const char	*references;	/* ids separated by spaces */
};

struct imap_sort_chunk;

/* what imap_sort_set_add() extracts beyond the cheap fields (all of it
 * by default); each costs a parse per message */
#define IMAP_SORT_NEED_ADDRESSES	0x01	/* from/to/cc, display_* */
#define IMAP_SORT_NEED_REPLY		0x02	/* is_reply */
#define IMAP_SORT_NEED_ALL		0x03

struct imap_sort_set {
	struct imap_sort_msg *msgs;
	size_t		 count;
	size_t		 alloc;
	struct imap_sort_chunk *chunks;	/* string copies */
	unsigned int	 need;		/* IMAP_SORT_NEED_* */
};

void	 imap_sort_set_init(struct imap_sort_set *set);
/* the IMAP_SORT_NEED_* bits that sorting by these criteria needs */
unsigned int imap_sort_need(const struct imap_sort_crit *crit, size_t n);
void	 imap_sort_set_deinit(struct imap_sort_set *set);
/* add a message from its record and cache (NULL: no summary, every
 * field empty); strings are copied */
void	 imap_sort_set_add(struct imap_sort_set *set, uint32_t seq,
	    const struct store_msg *msg, const struct store_cache *cache);
/* add a message whose fields are given (tests, callers with their own
 * data); strings are copied */
void	 imap_sort_set_add_msg(struct imap_sort_set *set,
	    const struct imap_sort_msg *m);

/* sort the set by the criteria, ties in sequence order */
void	 imap_sort_run(struct imap_sort_set *set,
	    const struct imap_sort_crit *crit, size_t ncrit);

/* append the thread list of the set ("(1 2)(3 (4)(5))"), numbered by
 * UID when uid, else by sequence number; nothing for an empty set */
void	 imap_thread_write(struct imap_sort_set *set,
	    enum imap_thread_alg alg, bool uid, struct buf *out);

/* whether a decoded subject is a reply or forward in RFC 5256's sense:
 * extracting its base subject removes a subj-refwd, a "(fwd)" trailer or
 * a "[fwd: ...]" wrapper */
bool	 imap_subject_is_reply(const char *subject);

#endif
