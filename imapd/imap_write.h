/*
 * imap_write - the building blocks of IMAP responses, into a struct buf
 *
 * Strings are where servers break clients: a subject with a '"', a
 * backslash, 8-bit bytes or a CR/LF must come out as a correct quoted
 * string or as a literal, never as broken syntax.  These helpers choose the
 * form from the bytes:
 *   - an atom only for astrings made of ASTRING-CHARs other than "[" and
 *     "]" (which clients and parsers treat specially), and never "NIL",
 *     which a client could read as the NIL of an nstring;
 *   - a quoted string when the bytes are 7-bit (or valid UTF-8 and the
 *     session has UTF8=ACCEPT or IMAP4rev2, IMAP_WRITE_UTF8), hold no CR,
 *     LF or NUL, and are at most IMAP_WRITE_QUOTED_MAX long, with '"' and
 *     '\' escaped;
 *   - a literal "{n}\r\n" otherwise.  A literal cannot carry NUL either
 *     (CHAR8 is %x01-ff), so a NUL byte is sent as 0x80, as Dovecot does;
 *     only literal8 (imap_write_literal8, for BINARY) carries NUL.
 * Mailbox names are UTF-8 inside Bastide and go out in modified UTF-7
 * unless the session is in UTF-8 mode.  The system flag bits used by the
 * whole of imapd are defined here.
 *
 * Every function appends to out and returns 0, or -1 when the buffer's
 * ceiling would be passed, in which case out is left as it was.  The module
 * owns nothing.
 */
#ifndef BASTIDE_IMAP_WRITE_H
#define BASTIDE_IMAP_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* the session may receive UTF-8 in quoted strings and mailbox names */
#define IMAP_WRITE_UTF8		0x01

/* longer strings go as literals; clients handle both, and a literal
 * costs no escaping */
#define IMAP_WRITE_QUOTED_MAX	1024

/* system flags (RFC 9051 2.3.2) */
#define IMAP_FLAG_ANSWERED	0x01
#define IMAP_FLAG_FLAGGED	0x02
#define IMAP_FLAG_DELETED	0x04
#define IMAP_FLAG_SEEN		0x08
#define IMAP_FLAG_DRAFT		0x10
#define IMAP_FLAG_RECENT	0x20	/* IMAP4rev1 only, never stored */
#define IMAP_FLAG_ALL		0x3f

/* "\Seen" for IMAP_FLAG_SEEN; NULL unless exactly one known bit */
const char *imap_flag_name(unsigned int flag);
/* the bit of a system flag name ("\seen" too); 0 when unknown */
unsigned int imap_flag_from_name(const char *name);

/* whether s[0..len) can be sent as an atom in an astring */
bool	 imap_write_is_atom(const char *s, size_t len);
/* whether s[0..len) can be sent as a quoted string under flags */
bool	 imap_write_is_quotable(const char *s, size_t len, unsigned int flags);

/* "{n}\r\n" and the bytes (NUL sent as 0x80) */
int	 imap_write_literal(struct buf *out, const char *s, size_t len);
/* "~{n}\r\n" and the bytes as they are (RFC 3516 BINARY) */
int	 imap_write_literal8(struct buf *out, const char *s, size_t len);
/* a quoted string or a literal */
int	 imap_write_string(struct buf *out, const char *s, size_t len,
	    unsigned int flags);
/* an atom, a quoted string or a literal */
int	 imap_write_astring(struct buf *out, const char *s, size_t len,
	    unsigned int flags);
/* NIL when s is NULL, else a string */
int	 imap_write_nstring(struct buf *out, const char *s, size_t len,
	    unsigned int flags);
/* C-string shorthands */
int	 imap_write_string_str(struct buf *out, const char *s,
	    unsigned int flags);
int	 imap_write_astring_str(struct buf *out, const char *s,
	    unsigned int flags);
int	 imap_write_nstring_str(struct buf *out, const char *s,
	    unsigned int flags);

/*
 * "(\Answered \Seen $Junk)": the system flags in a fixed order, then the
 * keywords as given (keywords are atoms by construction; one that is not
 * is skipped rather than sent as broken syntax).
 */
int	 imap_write_flags(struct buf *out, unsigned int flags,
	    const char *const *keywords, size_t keyword_count);

/*
 * A mailbox name (UTF-8, as inside Bastide): in modified UTF-7 unless
 * IMAP_WRITE_UTF8, then as an astring.  -1 also when the name is not
 * valid UTF-8 (which store_name_check() never lets in).
 */
int	 imap_write_mailbox(struct buf *out, const char *name,
	    unsigned int flags);

/* date-time '"17-Jul-1996 02:44:25 -0700"': t in UTC seconds, shown in
 * the zone tz_minutes east of UTC */
int	 imap_write_datetime(struct buf *out, int64_t t, int tz_minutes);

/* human-readable resp-text: CR, LF and other controls become spaces */
int	 imap_write_text(struct buf *out, const char *s, size_t len);

#endif
