/*
 * imap_seqset - IMAP sequence sets and UID sets as sorted, merged ranges
 *
 * A set is an array of disjoint ranges in ascending order, never two that
 * touch (1:3,4:6 is kept as 1:6), so "1:4294967295" is one range and
 * membership is a binary search.  Nothing is ever allocated per number.
 *
 * A set parsed from a client may contain "*", which means the largest
 * number in use (EXISTS for sequence numbers, the highest UID for UIDs) and
 * is only known when the command runs.  The explicit numbers go into the
 * ranges; every element holding a "*" is remembered as star_from ("n:*" and
 * "*:n" both mean n..* whichever is larger; a bare "*" leaves star_from 0),
 * and imap_seqset_resolve() folds them in against the real maximum.  Since
 * "n:*" with n above the maximum still names the maximum (RFC 9051 6.4.8,
 * "UID FETCH 559:*" always returns the last message), resolving does not
 * need the order in which the client wrote the elements.
 *
 * The saved search result "$" (RFC 5182) is not a set of numbers and is
 * recognised by the command parser, not here.  The set owns its range
 * array; nothing else.
 */
#ifndef BASTIDE_IMAP_SEQSET_H
#define BASTIDE_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct imap_seq_range {
	uint32_t	 lo;		/* 1 <= lo <= hi */
	uint32_t	 hi;
};

struct imap_seqset {
	struct imap_seq_range *r;	/* count sorted, disjoint ranges */
	size_t		 count;
	size_t		 alloc;
	/* only in a set parsed and not yet resolved */
	bool		 star;		/* some element held "*" */
	uint32_t	 star_from;	/* smallest n of "n:*"; 0: bare "*" */
	uint32_t	 max_explicit;	/* largest number written out */
};

struct imap_seqset_iter {
	const struct imap_seqset *set;
	size_t		 i;		/* current range */
	uint64_t	 next;		/* next number to return */
};

void	 imap_seqset_init(struct imap_seqset *s);
void	 imap_seqset_deinit(struct imap_seqset *s);
/* empty the set, keeping its memory */
void	 imap_seqset_clear(struct imap_seqset *s);
/* make dst a copy of src (dst initialised) */
void	 imap_seqset_copy(struct imap_seqset *dst,
	    const struct imap_seqset *src);

/*
 * Parse RFC 9051 sequence-set from str[0..len) into s (initialised; its
 * old contents are dropped).  Numbers are 1..4294967295; "*" is allowed
 * unless no_star.  Returns 0, or -1 with a static reason (s is then
 * empty).
 */
int	 imap_seqset_parse(struct imap_seqset *s, const char *str, size_t len,
	    bool no_star, const char **error_r);

/*
 * Replace "*" by max and drop what lies above max.  For sequence numbers
 * (uid false) a number above max (or any number when max is 0) is a client
 * error: returns -1 and leaves the set as it was.  For UIDs it only names
 * no message, so it is dropped, and "*" on an empty mailbox (max 0) is the
 * empty set.
 */
int	 imap_seqset_resolve(struct imap_seqset *s, uint32_t max, bool uid);

/* add one number or the range lo..hi (either order), merging */
void	 imap_seqset_add(struct imap_seqset *s, uint32_t n);
void	 imap_seqset_add_range(struct imap_seqset *s, uint32_t lo, uint32_t hi);
/* remove lo..hi (either order); may split a range */
void	 imap_seqset_remove_range(struct imap_seqset *s, uint32_t lo,
	    uint32_t hi);
/* dst gets the union / intersection of a and b; dst may be a or b */
void	 imap_seqset_union(struct imap_seqset *dst, const struct imap_seqset *a,
	    const struct imap_seqset *b);
void	 imap_seqset_intersect(struct imap_seqset *dst,
	    const struct imap_seqset *a, const struct imap_seqset *b);

/* membership of the explicit ranges (resolve a parsed set first) */
bool	 imap_seqset_contains(const struct imap_seqset *s, uint32_t n);
bool	 imap_seqset_is_empty(const struct imap_seqset *s);
/* how many numbers; up to 2^32 - 1 */
uint64_t imap_seqset_count(const struct imap_seqset *s);
/* smallest and largest number; 0 when empty */
uint32_t imap_seqset_min(const struct imap_seqset *s);
uint32_t imap_seqset_max(const struct imap_seqset *s);

/* walk the numbers in ascending order */
void	 imap_seqset_iter_init(struct imap_seqset_iter *it,
	    const struct imap_seqset *s);
bool	 imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *n_r);

/*
 * Append the set as a sequence-set ("1:4,7,9:12"; an unresolved "*" as
 * "n:*" or "*") for COPYUID, APPENDUID and ESEARCH ALL.  An empty set
 * appends nothing.  -1 when out passes its ceiling.
 */
int	 imap_seqset_format(const struct imap_seqset *s, struct buf *out);

#endif
