/*
 * mime_walk - the rules by which a message is cut into MIME entities
 *
 * One implementation of the structure walk that common/mime.c (the cached
 * BODYSTRUCTURE) and imapd/imap_section.c (FETCH BODY[1.2]) both use, so
 * that part numbers and part sizes can never disagree between the two:
 * where a header ends, the Content-Type grammar and its parameters, what
 * an entity is (leaf, multipart, message/rfc822, with the multipart/digest
 * default and the depth limit), and how a multipart body splits at its
 * boundary lines (with the part limit).
 *
 * It owns nothing but the unfolded copy inside a struct mime_ctype.  All
 * ranges point into the caller's message; every scan is linear in the
 * bytes it is given.  No libetpan, no I/O.
 */
#ifndef BASTIDE_MIME_WALK_H
#define BASTIDE_MIME_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* deeper multiparts and messages become leaves */
#define MIME_WALK_MAX_DEPTH	64
/* body parts opened per walk; later delimiters are not looked for */
#define MIME_WALK_MAX_PARTS	10000

/* bytes inside a buffer, not NUL-terminated; p NULL: absent */
struct mime_span {
	const char	*p;
	size_t		 n;
};

/* a parsed "type/subtype; name=value" field, values unquoted */
struct mime_ctype {
	char		*buf;	/* unfolded copy the spans use */
	struct mime_span type;
	struct mime_span subtype;
	size_t		 nparams;
	struct mime_span *params;	/* name, value, ... */
};

/* one complete header field, as mime_walk_header() reports it */
struct mime_walk_field {
	struct mime_span name;	/* without the colon and trailing blanks */
	struct mime_span val;	/* raw bytes after the colon, folding kept */
	struct mime_span raw;	/* the whole field, line ends included */
};

typedef void mime_walk_field_fn(void *arg, const struct mime_walk_field *f);

enum mime_walk_kind {
	MIME_WALK_LEAF = 0,
	MIME_WALK_MULTI,	/* multipart with a usable boundary */
	MIME_WALK_MSG		/* message/rfc822: a message inside */
};

/* what an entity is, from its Content-Type */
struct mime_walk_type {
	enum mime_walk_kind kind;
	bool		 have_ct;	/* ct holds a usable Content-Type */
	bool		 text;		/* a leaf read as text (or default) */
	bool		 digest;	/* multipart/digest */
	const struct mime_span *bnd;	/* MULTI: the boundary, in ct */
	struct mime_ctype ct;
};

/* the children of one multipart body, one at a time */
struct mime_walk_parts {
	const char	*p;
	size_t		 n;
	const struct mime_span *bnd;
	size_t		*opened;	/* parts opened, shared with nested
					 * walks when the caller wants so */
	size_t		 ls;		/* start of the current line */
	size_t		 dl;		/* its delimiter length, or 0 */
	size_t		 start;		/* start of the open part */
	bool		 in_part;
	bool		 closed;	/* the delimiter at ls closes */
	bool		 pending;	/* a part was returned at ls */
	bool		 done;
};

/* mime_walk_is_wsp - space or tab */
static inline bool
mime_walk_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* scan the header at the start of p: calls fn (if not NULL) for each
 * field in order; returns the header size, with the blank line; *blank_r
 * (if not NULL) tells whether an empty line ended it */
size_t	 mime_walk_header(const char *p, size_t len, mime_walk_field_fn *fn,
	    void *arg, bool *blank_r);
/* append raw header bytes with bare LF made CRLF, NULs dropped, and a
 * final CRLF if the bytes lack one */
void	 mime_walk_append_crlf(struct buf *out, const char *p, size_t n);
/* allocated copy of a value without CR, LF and NUL, blanks trimmed */
char	*mime_walk_unfold(const struct mime_span *v, size_t *len_r);
/* skip white space and (nested) comments */
char	*mime_walk_skip_cfws(char *s);
/* length of the RFC 2045 token at s (0 if none) */
size_t	 mime_walk_token(const char *s);
/* case-insensitive comparison of a span with a C string */
bool	 mime_walk_span_is(const struct mime_span *sp, const char *s);

/* "type/subtype; a=b" (Content-Type) or "type; a=b" (want_sub false,
 * Content-Disposition) from the raw value v; -1 when v is absent or
 * unusable.  On 0 the caller calls mime_walk_ctype_free(). */
int	 mime_walk_ctype_parse(const struct mime_span *v, bool want_sub,
	    struct mime_ctype *ct);
void	 mime_walk_ctype_free(struct mime_ctype *ct);
/* the first parameter called name, or NULL */
const struct mime_span *mime_walk_ctype_param(const struct mime_ctype *ct,
	    const char *name);

/* what the entity with Content-Type value ctv (p NULL: no such field)
 * is at depth; in_digest: its parent is a multipart/digest.  The caller
 * calls mime_walk_type_deinit(). */
void	 mime_walk_type(const struct mime_span *ctv, bool in_digest,
	    int depth, struct mime_walk_type *t);
void	 mime_walk_type_deinit(struct mime_walk_type *t);

/* iterate the parts of the multipart body [p, p + n) split at bnd;
 * opened counts delimiters that opened a part (the walk stops looking
 * at MIME_WALK_MAX_PARTS) */
void	 mime_walk_parts_init(struct mime_walk_parts *it, const char *p,
	    size_t n, const struct mime_span *bnd, size_t *opened);
/* the next part (header and body), false after the last */
bool	 mime_walk_parts_next(struct mime_walk_parts *it, const char **p_r,
	    size_t *n_r);

#endif
