/*
 * imap_section - the body sections of FETCH: BODY[...] and BINARY[...]
 *
 * Parses the section-spec between "[" and "]" (RFC 3501 and RFC 9051
 * section 6.4.5, RFC 3516 section-binary) into a struct imap_section,
 * prints it back for the FETCH response, and finds the bytes it names in
 * a whole message held in memory (the daemon mmaps the Maildir file).
 *
 * Wherever the answer is a stretch of the message, it is returned as a
 * pointer into the message, never copied: only HEADER.FIELDS(.NOT) and
 * CTE-decoded BINARY data are built, in a buffer the answer owns, and a
 * partial BINARY fetch decodes only what it returns.  Big decoded parts
 * can be read in pieces through struct imap_decoder.
 *
 * The MIME structure is walked with common/mime_walk.c, the rules
 * common/mime.c uses too (header end, Content-Type grammar, boundary
 * lines, multipart/digest defaults, depth limit), so that part numbers
 * and part sizes agree with the BODYSTRUCTURE the store caches.  A part
 * that does not exist gives an empty string, as Dovecot answers.  Pure
 * code: no I/O, no session, and every walk is bounded by the message
 * size and the depth limit.
 */
#ifndef BASTIDE_IMAP_SECTION_H
#define BASTIDE_IMAP_SECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* numbers in a part specifier ("1.2.3" has 3); MIME nesting deeper than
 * common/mime.c's limit (64) is a leaf anyway, so this loses nothing */
#define IMAP_SECTION_MAX_PARTS	100
/* names in a HEADER.FIELDS list */
#define IMAP_SECTION_MAX_FIELDS	500

enum imap_section_kind {
	IMAP_SECTION_ALL = 0,		/* "" the message, "1.2" a part */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME		/* only after part numbers */
};

struct imap_section {
	enum imap_section_kind kind;
	size_t		 nparts;
	uint32_t	 parts[IMAP_SECTION_MAX_PARTS];	/* each >= 1 */
	size_t		 nfields;
	char		**fields;	/* as the client sent them, owned */
	/* <origin.count>; set by imap_section_parse_partial() */
	bool		 partial;
	uint64_t	 origin;
	uint64_t	 count;		/* >= 1 */
};

/* the bytes of one answer */
struct imap_part_ref {
	const char	*data;		/* len bytes, in the message or buf */
	size_t		 len;
	bool		 missing;	/* no such part: data is "" */
	bool		 decode_errors;	/* BINARY: bad input was skipped */
	struct buf	 buf;		/* what was built for this answer */
};

enum imap_cte {
	IMAP_CTE_IDENTITY = 0,		/* 7bit, 8bit, binary, or none */
	IMAP_CTE_BASE64,
	IMAP_CTE_QP
};

/* a Content-Transfer-Encoding decoder over bytes in memory; read it in
 * pieces with imap_decoder_read() */
struct imap_decoder {
	const char	*p;		/* encoded bytes (borrowed) */
	size_t		 n;
	size_t		 pos;
	size_t		 verbatim_end;	/* QP: bytes before it go out as is */
	enum imap_cte	 cte;
	uint32_t	 acc;		/* base64: bits not yet output */
	unsigned int	 bits;
	int		 pending;	/* a decoded byte not yet read, or -1 */
	bool		 done;		/* base64: padding seen */
	bool		 errors;	/* invalid input was skipped */
	bool		 missing;	/* the part does not exist */
};

/* parse the section-spec between "[" and "]" (s may hold quoted strings
 * and {n} literals in the header list); -1 with a static reason for a
 * tagged BAD.  On success the caller calls imap_section_deinit(). */
int	 imap_section_parse(const char *s, size_t len,
	    struct imap_section *sec, const char **error_r);
/* parse "origin.count", the text between "<" and ">", into sec */
int	 imap_section_parse_partial(const char *s, size_t len,
	    struct imap_section *sec, const char **error_r);
void	 imap_section_deinit(struct imap_section *sec);
/* offset of the "]" that ends the section-spec starting at s (just after
 * the "["), skipping quoted strings and literals; -1 when s has none */
long	 imap_section_scan_end(const char *s, size_t len);
/* true when sec is a section-binary (part numbers only), as BINARY[],
 * BINARY.PEEK[] and BINARY.SIZE[] need */
bool	 imap_section_is_binary(const struct imap_section *sec);
/* append item "[" section "]" and "<origin>" when partial, as the FETCH
 * response names it, e.g. BODY[1.HEADER.FIELDS (From To)]<0>; -1 past
 * out's ceiling */
int	 imap_section_format(struct buf *out, const char *item,
	    const struct imap_section *sec);

/* where a partial fetch of total bytes starts and how long it is: an
 * origin past the end gives 0 bytes, a count past the end is cut */
void	 imap_section_partial(size_t total, uint64_t origin,
	    uint64_t count, size_t *off_r, size_t *len_r);

/* BODY[section]<partial> of the message: a range of msg, or built bytes
 * for HEADER.FIELDS(.NOT); applies sec's partial.  Always succeeds; the
 * caller calls imap_part_ref_deinit(). */
void	 imap_section_fetch(const char *msg, size_t len,
	    const struct imap_section *sec, struct imap_part_ref *out);
void	 imap_part_ref_deinit(struct imap_part_ref *ref);
/* append the fields of the header [hdr, hdr + len) that HEADER.FIELDS or
 * HEADER.FIELDS.NOT of sec selects, in their order, folding kept, line
 * ends made CRLF, NULs dropped, then the blank line CRLF when blank_line
 * (the header ended with one).  Works on a whole header or on the cached
 * header_fields of common/mime.h alike. */
void	 imap_section_header_filter(const char *hdr, size_t len,
	    const struct imap_section *sec, bool blank_line, struct buf *out);

/* BINARY[section]<partial> (sec must be imap_section_is_binary()): the
 * part decoded from its Content-Transfer-Encoding, a range of msg when
 * the encoding is the identity; -1 with a static reason when the
 * encoding is unknown: answer NO [UNKNOWN-CTE].  On 0 the caller calls
 * imap_part_ref_deinit(). */
int	 imap_section_binary(const char *msg, size_t len,
	    const struct imap_section *sec, struct imap_part_ref *out,
	    const char **error_r);
/* BINARY.SIZE[section]: the decoded size, without keeping the bytes */
int	 imap_section_binary_size(const char *msg, size_t len,
	    const struct imap_section *sec, uint64_t *size_r,
	    const char **error_r);
/* a decoder over the part BINARY[section] names, to stream big parts;
 * -1 on an unknown encoding as imap_section_binary() */
int	 imap_section_binary_open(const char *msg, size_t len,
	    const struct imap_section *sec, struct imap_decoder *d,
	    const char **error_r);

/* decoder over [p, p + n) with a known encoding */
void	 imap_decoder_init(struct imap_decoder *d, enum imap_cte cte,
	    const char *p, size_t n);
/* up to max decoded bytes into dst; 0 only at the end */
size_t	 imap_decoder_read(struct imap_decoder *d, void *dst, size_t max);
/* drop up to n decoded bytes; returns how many were dropped */
uint64_t imap_decoder_skip(struct imap_decoder *d, uint64_t n);
/* the encoding named by a Content-Transfer-Encoding value (comments and
 * white space allowed, case-insensitive, empty is 7bit); -1 if unknown */
int	 imap_cte_parse(const char *s, size_t n, enum imap_cte *cte_r);

#endif
