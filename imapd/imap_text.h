/*
 * imap_text - message text as SEARCH, SORT and THREAD compare it
 *
 * IMAP compares text that arrives in many forms (RFC 2047 encoded-words
 * in headers, base64 or quoted-printable bodies in any charset) with a
 * search string the client sends in UTF-8.  Everything is brought to one
 * form first: UTF-8 (charsets converted with iconv, invalid bytes made
 * U+FFFD), then case-folded, and a search is a substring test on that.
 *
 * The case folding is simple one-to-one folding of the scripts mail is
 * mostly written in (ASCII, Latin-1, Latin Extended-A and Additional,
 * Greek, Cyrillic, Armenian); it is the same on both sides, so a search
 * for "ÉTÉ" finds "été".  XXX: no full Unicode case folding or
 * normalisation (i;unicode-casemap): "ß" does not match "SS" and a
 * decomposed "é" does not match a precomposed one.
 *
 * struct imap_text_conv and struct imap_text_match work in pieces so a
 * 20 MB body is searched with a fixed amount of memory.  Pure code: no
 * I/O; iconv descriptors are opened per conversion and closed by _deinit.
 */
#ifndef BASTIDE_IMAP_TEXT_H
#define BASTIDE_IMAP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* append the decoded text of a header field value (folding CRLFs and
 * RFC 2047 encoded-words undone, white space between adjacent words
 * dropped, raw 8-bit bytes taken as UTF-8) to out, as UTF-8 */
void	 imap_text_decode_header(const char *s, size_t n, struct buf *out);

/* append s[0..n) with each code point case-folded; invalid UTF-8 bytes
 * become U+FFFD */
void	 imap_text_fold(const char *s, size_t n, struct buf *out);
/* fold one code point */
uint32_t imap_text_fold_cp(uint32_t cp);
/* compare two UTF-8 strings after folding (i;unicode-casemap-like) */
int	 imap_text_casecmp(const char *a, const char *b);

/*
 * Charset to UTF-8 in pieces.  An unknown charset, US-ASCII and UTF-8 are
 * taken as UTF-8 (invalid bytes made U+FFFD).  A multi-byte character cut
 * between two pieces is carried over.
 */
struct imap_text_conv {
	void		*cd;		/* iconv_t, or NULL: UTF-8 */
	char		 carry[16];	/* incomplete sequence */
	size_t		 ncarry;
};

void	 imap_text_conv_init(struct imap_text_conv *c, const char *charset);
void	 imap_text_conv_deinit(struct imap_text_conv *c);
/* convert a piece, appending UTF-8 to out; final: no more pieces */
void	 imap_text_conv_feed(struct imap_text_conv *c, const char *p,
	    size_t n, bool final, struct buf *out);

/*
 * Case-insensitive substring search over text given in pieces.  The
 * needle is folded once; each piece is converted to UTF-8 by the caller
 * and folded here, and the last bytes of a piece are kept so a match
 * across two pieces is found.
 */
struct imap_text_match {
	struct buf	 needle;	/* folded */
	struct buf	 hay;		/* kept tail + folded piece */
	bool		 found;
};

void	 imap_text_match_init(struct imap_text_match *m, const char *needle,
	    size_t n);
void	 imap_text_match_deinit(struct imap_text_match *m);
/* forget what was fed, keep the needle */
void	 imap_text_match_reset(struct imap_text_match *m);
/* feed UTF-8 text (whole characters); returns m->found */
bool	 imap_text_match_feed(struct imap_text_match *m, const char *p,
	    size_t n);
/* one-shot: folded needle in UTF-8 text s */
bool	 imap_text_contains(const char *hay, size_t hn, const char *needle,
	    size_t nn);

#endif
