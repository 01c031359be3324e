/* imap_write.c - IMAP response building blocks: strings, flags, names */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"
#include "store_name.h"

#include "imap_write.h"

static const struct {
	unsigned int	 bit;
	const char	*name;
} flag_names[] = {
	{ IMAP_FLAG_ANSWERED,	"\\Answered" },
	{ IMAP_FLAG_FLAGGED,	"\\Flagged" },
	{ IMAP_FLAG_DELETED,	"\\Deleted" },
	{ IMAP_FLAG_SEEN,	"\\Seen" },
	{ IMAP_FLAG_DRAFT,	"\\Draft" },
	{ IMAP_FLAG_RECENT,	"\\Recent" },
};

#define NFLAGS	(sizeof(flag_names) / sizeof(flag_names[0]))

/* imap_flag_name - the name of one system flag bit */
const char *
imap_flag_name(unsigned int flag)
{
	size_t i;

	for (i = 0; i < NFLAGS; i++)
		if (flag_names[i].bit == flag)
			return flag_names[i].name;
	return NULL;
}

/* imap_flag_from_name - the bit of a system flag name, case-insensitive */
unsigned int
imap_flag_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < NFLAGS; i++)
		if (strcasecmp(flag_names[i].name, name) == 0)
			return flag_names[i].bit;
	return 0;
}

/* mark - where out ends now, for rollback() */
static size_t
mark(const struct buf *out)
{
	return buf_avail(out);
}

/* rollback - cut out back to a mark and return -1 */
static int
rollback(struct buf *out, size_t m)
{
	/* an append may have compacted the buffer: count from off */
	out->len = out->off + m;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return -1;
}

/* is_astring_char - RFC 9051 ASTRING-CHAR */
static bool
is_astring_char(unsigned char c)
{
	if (c <= 0x1f || c >= 0x7f)
		return false;
	switch (c) {
	case '(': case ')': case '{': case ' ': case '%': case '*':
	case '"': case '\\':
		return false;
	default:
		return true;
	}
}

/*
 * imap_write_is_atom - non-empty, ASTRING-CHARs but "[" and "]", not NIL.
 * Brackets are legal in an astring atom, but a client scanning for the
 * end of a response code stops at "]", and our own parser (and others)
 * reads "BODY[" as a fetch section: quoting them costs two bytes.
 */
bool
imap_write_is_atom(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || (len == 3 && strncasecmp(s, "NIL", 3) == 0))
		return false;
	for (i = 0; i < len; i++)
		if (!is_astring_char((unsigned char)s[i]) || s[i] == '[' ||
		    s[i] == ']')
			return false;
	return true;
}

/* utf8_len - length of the valid UTF-8 sequence at p, 0 if invalid */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	unsigned int cp;

	return str_utf8_len(p, left, &cp);
}

/* imap_write_is_quotable - no CR, LF, NUL; 8-bit only as UTF-8 in UTF-8
 * mode; not too long */
bool
imap_write_is_quotable(const char *s, size_t len, unsigned int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n;

	if (len > IMAP_WRITE_QUOTED_MAX)
		return false;
	for (i = 0; i < len; ) {
		if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
			return false;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (!(flags & IMAP_WRITE_UTF8))
			return false;
		n = utf8_len(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* write_quoted - '"' s '"' with '"' and '\' escaped; s is quotable */
static int
write_quoted(struct buf *out, const char *s, size_t len)
{
	size_t m = mark(out), i, start;

	if (buf_append_byte(out, '"') < 0)
		return -1;
	for (start = 0, i = 0; i < len; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		if (buf_append(out, s + start, i - start) < 0 ||
		    buf_append_byte(out, '\\') < 0)
			return rollback(out, m);
		start = i;
	}
	if (buf_append(out, s + start, len - start) < 0 ||
	    buf_append_byte(out, '"') < 0)
		return rollback(out, m);
	return 0;
}

/* imap_write_literal - {n} CRLF and the bytes, NUL as 0x80 */
int
imap_write_literal(struct buf *out, const char *s, size_t len)
{
	size_t m = mark(out), i;

	if (buf_printf(out, "{%zu}\r\n", len) < 0)
		return -1;
	if (buf_append(out, s, len) < 0)
		return rollback(out, m);
	/* the bytes just appended are the last len of out */
	for (i = out->len - len; i < out->len; i++)
		if (out->data[i] == '\0')
			out->data[i] = (char)0x80;
	return 0;
}

/* imap_write_literal8 - ~{n} CRLF and the bytes as they are */
int
imap_write_literal8(struct buf *out, const char *s, size_t len)
{
	size_t m = mark(out);

	if (buf_printf(out, "~{%zu}\r\n", len) < 0)
		return -1;
	if (buf_append(out, s, len) < 0)
		return rollback(out, m);
	return 0;
}

/* imap_write_string - quoted when possible, else a literal */
int
imap_write_string(struct buf *out, const char *s, size_t len,
    unsigned int flags)
{
	if (imap_write_is_quotable(s, len, flags))
		return write_quoted(out, s, len);
	return imap_write_literal(out, s, len);
}

/* imap_write_astring - atom, quoted or literal */
int
imap_write_astring(struct buf *out, const char *s, size_t len,
    unsigned int flags)
{
	if (imap_write_is_atom(s, len))
		return buf_append(out, s, len);
	return imap_write_string(out, s, len, flags);
}

/* imap_write_nstring - NIL or a string */
int
imap_write_nstring(struct buf *out, const char *s, size_t len,
    unsigned int flags)
{
	if (s == NULL)
		return buf_append(out, "NIL", 3);
	return imap_write_string(out, s, len, flags);
}

/* imap_write_string_str - imap_write_string() of a C string */
int
imap_write_string_str(struct buf *out, const char *s, unsigned int flags)
{
	return imap_write_string(out, s, strlen(s), flags);
}

/* imap_write_astring_str - imap_write_astring() of a C string */
int
imap_write_astring_str(struct buf *out, const char *s, unsigned int flags)
{
	return imap_write_astring(out, s, strlen(s), flags);
}

/* imap_write_nstring_str - imap_write_nstring() of a C string or NULL */
int
imap_write_nstring_str(struct buf *out, const char *s, unsigned int flags)
{
	return imap_write_nstring(out, s, s == NULL ? 0 : strlen(s), flags);
}

/* is_keyword - flag-keyword: 1*ATOM-CHAR (no "]" either) */
static bool
is_keyword(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s == ']' || !is_astring_char((unsigned char)*s))
			return false;
	return true;
}

/* imap_write_flags - "(" system flags, keywords ")" */
int
imap_write_flags(struct buf *out, unsigned int flags,
    const char *const *keywords, size_t keyword_count)
{
	size_t m = mark(out), i;
	bool first = true;

	if (buf_append_byte(out, '(') < 0)
		return -1;
	for (i = 0; i < NFLAGS; i++) {
		if (!(flags & flag_names[i].bit))
			continue;
		if ((!first && buf_append_byte(out, ' ') < 0) ||
		    buf_append_str(out, flag_names[i].name) < 0)
			return rollback(out, m);
		first = false;
	}
	for (i = 0; i < keyword_count; i++) {
		if (!is_keyword(keywords[i]))
			continue;
		if ((!first && buf_append_byte(out, ' ') < 0) ||
		    buf_append_str(out, keywords[i]) < 0)
			return rollback(out, m);
		first = false;
	}
	if (buf_append_byte(out, ')') < 0)
		return rollback(out, m);
	return 0;
}

/* imap_write_mailbox - a mailbox name in the session's encoding */
int
imap_write_mailbox(struct buf *out, const char *name, unsigned int flags)
{
	char *mutf7;
	int r;

	if (flags & IMAP_WRITE_UTF8)
		return imap_write_astring_str(out, name, flags);
	if (store_name_to_mutf7(name, &mutf7) < 0)
		return -1;
	r = imap_write_astring_str(out, mutf7, flags);
	free(mutf7);
	return r;
}

/* civil_from_days - year, month, day of a day count since 1970-01-01
 * (the proleptic Gregorian algorithm of H. Hinnant, public domain) */
static void
civil_from_days(int64_t z, int64_t *y_r, unsigned int *m_r, unsigned int *d_r)
{
	int64_t era, y;
	unsigned int doe, yoe, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned int)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*y_r = y + (m <= 2);
	*m_r = m;
	*d_r = d;
}

/* imap_write_datetime - '"dd-Mon-yyyy hh:mm:ss +zzzz"' */
int
imap_write_datetime(struct buf *out, int64_t t, int tz_minutes)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t local, days, secs, year;
	unsigned int m, d, tz;

	if (tz_minutes <= -24 * 60 || tz_minutes >= 24 * 60)
		tz_minutes = 0;
	local = t + (int64_t)tz_minutes * 60;
	days = local / 86400;
	secs = local % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &year, &m, &d);
	if (year < 0 || year > 9999)
		year = year < 0 ? 0 : 9999;
	tz = (unsigned int)(tz_minutes < 0 ? -tz_minutes : tz_minutes);
	return buf_printf(out, "\"%2u-%s-%04d %02d:%02d:%02d %c%02u%02u\"", d,
	    mon[m - 1], (int)year, (int)(secs / 3600), (int)(secs / 60 % 60),
	    (int)(secs % 60), tz_minutes < 0 ? '-' : '+', tz / 60, tz % 60);
}

/* imap_write_text - resp-text: controls become spaces, bytes that are
 * not UTF-8 become '?' */
int
imap_write_text(struct buf *out, const char *s, size_t len)
{
	unsigned char *p;
	size_t i, n;

	if (buf_append(out, s, len) < 0)
		return -1;
	/* the bytes just appended are the last len of out */
	p = (unsigned char *)out->data + out->len - len;
	for (i = 0; i < len; ) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			p[i++] = ' ';
			continue;
		}
		n = utf8_len(p + i, len - i);
		if (n == 0) {
			p[i++] = '?';
			continue;
		}
		i += n;
	}
	return 0;
}
