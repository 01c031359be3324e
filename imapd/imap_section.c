/* imap_section.c - FETCH body sections: parse, print, find, decode */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "mime_walk.h"
#include "xmalloc.h"

#include "imap_section.h"

/*
 * Design.  common/mime.c produces whole BODYSTRUCTURE strings; what FETCH
 * needs is different (the offsets of one part, found without walking the
 * rest of the message), so the walk is driven here, but every rule of it
 * (header end, Content-Type grammar, what an entity is, boundary lines,
 * multipart/digest defaults, the limits) is common/mime_walk.c's, which
 * mime.c uses too.  tests/unit/test_imap_section.c still checks that
 * every part's size here equals the size in mime.c's BODYSTRUCTURE.
 *
 * Resolving a part path scans only the containers on the path, each up
 * to the wanted child, so the work is at most the message size times the
 * path length, and the path length is bounded.
 */

/* what the walk needs of a header */
struct isec_hdr {
	size_t		 size;	/* bytes, with the blank line */
	bool		 blank;	/* it ended with an empty line */
	struct mime_span ct;	/* first Content-Type value, raw */
	struct mime_span cte;	/* first Content-Transfer-Encoding value */
};

/* HEADER.FIELDS(.NOT) selection while scanning a header */
struct isec_filter {
	const struct imap_section *sec;
	struct buf	*out;
};

/* what isec_header_scan() fills in */
struct isec_scan {
	struct isec_hdr	*h;
	const struct isec_filter *f;
};

/* one MIME entity: a message or a body part, header and body */
struct isec_ent {
	const char	*p;
	size_t		 n;
	struct isec_hdr	 h;
	int		 depth;		/* as mime_part() counts it */
	struct mime_walk_type t;	/* what it is, as mime.c sees it */
};

/* isec_is_digit - ASCII digit */
static inline bool
isec_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* ------------------------------------------------------------------ */
/* parsing the section-spec                                            */

/* isec_kw - does [s, s + n) start with the keyword kw (any case) */
static bool
isec_kw(const char *s, size_t n, const char *kw)
{
	size_t k = strlen(kw);

	return n >= k && strncasecmp(s, kw, k) == 0;
}

/* isec_is_astring_char - ASTRING-CHAR of RFC 3501/9051 */
static bool
isec_is_astring_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\", c) == NULL;
}

/*
 * isec_astring - one astring at s[*ip]: atom, quoted string or literal
 * ({n} or {n+} with its CRLF, as the command parser hands them on).  The
 * value is returned allocated; NUL is refused anywhere, CR and LF in
 * quoted strings.
 */
static char *
isec_astring(const char *s, size_t len, size_t *ip)
{
	size_t i = *ip, start, n, k;
	char *v;

	if (i >= len)
		return NULL;
	if (s[i] == '"') {
		v = xmalloc(len - i);
		n = 0;
		for (i++; i < len && s[i] != '"'; i++) {
			if (s[i] == '\\') {
				if (i + 1 >= len || (s[i + 1] != '"' &&
				    s[i + 1] != '\\'))
					goto bad;
				i++;
			} else if (s[i] == '\0' || s[i] == '\r' ||
			    s[i] == '\n')
				goto bad;
			v[n++] = s[i];
		}
		if (i >= len)
			goto bad;
		v[n] = '\0';
		*ip = i + 1;
		return v;
bad:
		free(v);
		return NULL;
	}
	if (s[i] == '{') {
		n = 0;
		for (i++; i < len && isec_is_digit((unsigned char)s[i]); i++) {
			if (n > (SIZE_MAX - 9) / 10)
				return NULL;
			n = n * 10 + (size_t)(s[i] - '0');
		}
		if (i < len && s[i] == '+')
			i++;
		if (len - i < 3 || memcmp(s + i, "}\r\n", 3) != 0)
			return NULL;
		i += 3;
		if (n > len - i || memchr(s + i, '\0', n) != NULL)
			return NULL;
		*ip = i + n;
		return xstrndup(s + i, n);
	}
	for (start = i; i < len && (isec_is_astring_char((unsigned char)s[i]) ||
	    s[i] == ']'); i++)
		;
	k = i - start;
	if (k == 0)
		return NULL;
	*ip = i;
	return xstrndup(s + start, k);
}

/* isec_header_list - "(" name *(SP name) ")" ending exactly at len */
static int
isec_header_list(const char *s, size_t len, size_t i,
    struct imap_section *sec, const char **error_r)
{
	size_t cap = 0;
	char *name;

	if (i >= len || s[i] != '(') {
		*error_r = "Expected a header field list";
		return -1;
	}
	i++;
	for (;;) {
		if ((name = isec_astring(s, len, &i)) == NULL) {
			*error_r = "Invalid header field name";
			return -1;
		}
		if (sec->nfields == IMAP_SECTION_MAX_FIELDS) {
			free(name);
			*error_r = "Too many header fields";
			return -1;
		}
		if (sec->nfields == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			sec->fields = xreallocarray(sec->fields, cap,
			    sizeof(*sec->fields));
		}
		sec->fields[sec->nfields++] = name;
		if (i < len && s[i] == ' ') {
			i++;
			continue;
		}
		if (i < len && s[i] == ')' && i + 1 == len)
			return 0;
		*error_r = "Invalid header field list";
		return -1;
	}
}

/* imap_section_parse - the section-spec between "[" and "]" */
int
imap_section_parse(const char *s, size_t len, struct imap_section *sec,
    const char **error_r)
{
	uint64_t v;
	size_t i = 0, rest;

	memset(sec, 0, sizeof(*sec));
	while (i < len && isec_is_digit((unsigned char)s[i])) {
		/* nz-number: no leading zero, fits in 32 bits */
		if (s[i] == '0')
			goto bad_number;
		for (v = 0; i < len && isec_is_digit((unsigned char)s[i]);
		    i++) {
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > UINT32_MAX)
				goto bad_number;
		}
		if (sec->nparts == IMAP_SECTION_MAX_PARTS) {
			*error_r = "Section part nested too deeply";
			goto fail;
		}
		sec->parts[sec->nparts++] = (uint32_t)v;
		if (i == len)
			return 0;
		if (s[i] != '.' || ++i == len)
			goto bad_number;
	}
	rest = len - i;
	if (rest == 0)
		return 0;
	if (rest == 4 && isec_kw(s + i, rest, "MIME")) {
		if (sec->nparts == 0) {
			*error_r = "MIME needs a part number";
			goto fail;
		}
		sec->kind = IMAP_SECTION_MIME;
		return 0;
	}
	if (rest == 4 && isec_kw(s + i, rest, "TEXT")) {
		sec->kind = IMAP_SECTION_TEXT;
		return 0;
	}
	if (rest == 6 && isec_kw(s + i, rest, "HEADER")) {
		sec->kind = IMAP_SECTION_HEADER;
		return 0;
	}
	if (isec_kw(s + i, rest, "HEADER.FIELDS.NOT ")) {
		sec->kind = IMAP_SECTION_HEADER_FIELDS_NOT;
		i += 18;
	} else if (isec_kw(s + i, rest, "HEADER.FIELDS ")) {
		sec->kind = IMAP_SECTION_HEADER_FIELDS;
		i += 14;
	} else if (isec_kw(s + i, rest, "HEADER.FIELDS")) {
		*error_r = "Expected a header field list";
		goto fail;
	} else {
		*error_r = "Unknown section";
		goto fail;
	}
	if (isec_header_list(s, len, i, sec, error_r) < 0)
		goto fail;
	return 0;

bad_number:
	*error_r = "Invalid section part number";
fail:
	imap_section_deinit(sec);
	return -1;
}

/* imap_section_parse_partial - "origin.count" into sec */
int
imap_section_parse_partial(const char *s, size_t len,
    struct imap_section *sec, const char **error_r)
{
	uint64_t v[2];
	size_t i = 0, k, start;

	for (k = 0; k < 2; k++) {
		v[k] = 0;
		for (start = i; i < len && isec_is_digit((unsigned char)s[i]);
		    i++) {
			/* RFC 9051 number64: at most 2^63 - 1 */
			if (v[k] > ((uint64_t)INT64_MAX - (uint64_t)(s[i] -
			    '0')) / 10)
				goto bad;
			v[k] = v[k] * 10 + (uint64_t)(s[i] - '0');
		}
		if (i == start)
			goto bad;
		if (k == 0 && (i == len || s[i++] != '.'))
			goto bad;
	}
	if (i != len || v[1] == 0)
		goto bad;
	sec->partial = true;
	sec->origin = v[0];
	sec->count = v[1];
	return 0;
bad:
	*error_r = "Invalid partial range";
	return -1;
}

/* imap_section_deinit - free the field names */
void
imap_section_deinit(struct imap_section *sec)
{
	size_t i;

	for (i = 0; i < sec->nfields; i++)
		free(sec->fields[i]);
	free(sec->fields);
	sec->fields = NULL;
	sec->nfields = 0;
}

/* imap_section_scan_end - the "]" closing the section-spec at s */
long
imap_section_scan_end(const char *s, size_t len)
{
	size_t i = 0, depth = 0, n, j;

	while (i < len) {
		switch (s[i]) {
		case '"':
			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] == '\\')
					i++;
			}
			if (i >= len)
				return -1;
			break;
		case '{':
			/* a literal: its bytes may hold anything */
			n = 0;
			for (j = i + 1; j < len &&
			    isec_is_digit((unsigned char)s[j]); j++) {
				if (n > (SIZE_MAX - 9) / 10)
					return -1;
				n = n * 10 + (size_t)(s[j] - '0');
			}
			if (j < len && s[j] == '+')
				j++;
			if (j > i + 1 && len - j >= 3 &&
			    memcmp(s + j, "}\r\n", 3) == 0) {
				j += 3;
				if (n > len - j)
					return -1;
				i = j + n;
				continue;
			}
			break;
		case '(':
			depth++;
			break;
		case ')':
			if (depth > 0)
				depth--;
			break;
		case ']':
			/* inside the list "]" is an ASTRING-CHAR */
			if (depth == 0)
				return (long)i;
			break;
		}
		i++;
	}
	return -1;
}

/* imap_section_is_binary - only part numbers, as section-binary allows */
bool
imap_section_is_binary(const struct imap_section *sec)
{
	return sec->kind == IMAP_SECTION_ALL;
}

/* isec_write_astring - a field name back as atom, quoted or literal */
static int
isec_write_astring(struct buf *out, const char *s)
{
	size_t i, n = strlen(s);
	bool atom = n > 0, quote = true;
	int r = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* "]" is an ASTRING-CHAR, but a client scanning for the
		 * end of the section would stop there: quote it */
		if (!isec_is_astring_char(c))
			atom = false;
		if (c == ']')
			atom = false;
		if (c == '\r' || c == '\n' || c >= 0x80)
			quote = false;
	}
	if (atom)
		return buf_append(out, s, n);
	if (!quote) {
		r |= buf_printf(out, "{%zu}\r\n", n);
		r |= buf_append(out, s, n);
		return r;
	}
	r |= buf_append_byte(out, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			r |= buf_append_byte(out, '\\');
		r |= buf_append_byte(out, (unsigned char)s[i]);
	}
	r |= buf_append_byte(out, '"');
	return r;
}

/*
 * imap_section_format - item[section]<origin> for the FETCH response.
 * Keywords come back in upper case; field names in the order and spelling
 * the client sent, as atoms where they can be: some clients match the
 * response item against their request byte for byte, and quoting names
 * they sent as atoms breaks them.
 */
int
imap_section_format(struct buf *out, const char *item,
    const struct imap_section *sec)
{
	static const char *const kinds[] = {
		[IMAP_SECTION_ALL] = "",
		[IMAP_SECTION_HEADER] = "HEADER",
		[IMAP_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
		[IMAP_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[IMAP_SECTION_TEXT] = "TEXT",
		[IMAP_SECTION_MIME] = "MIME",
	};
	size_t i;
	int r = 0;

	r |= buf_append_str(out, item);
	r |= buf_append_byte(out, '[');
	for (i = 0; i < sec->nparts; i++)
		r |= buf_printf(out, i == 0 ? "%u" : ".%u",
		    (unsigned int)sec->parts[i]);
	if (sec->kind != IMAP_SECTION_ALL) {
		if (sec->nparts > 0)
			r |= buf_append_byte(out, '.');
		r |= buf_append_str(out, kinds[sec->kind]);
	}
	if (sec->kind == IMAP_SECTION_HEADER_FIELDS ||
	    sec->kind == IMAP_SECTION_HEADER_FIELDS_NOT) {
		r |= buf_append(out, " (", 2);
		for (i = 0; i < sec->nfields; i++) {
			if (i > 0)
				r |= buf_append_byte(out, ' ');
			r |= isec_write_astring(out, sec->fields[i]);
		}
		r |= buf_append_byte(out, ')');
	}
	r |= buf_append_byte(out, ']');
	if (sec->partial)
		r |= buf_printf(out, "<%llu>", (unsigned long long)sec->origin);
	return r < 0 ? -1 : 0;
}

/* imap_section_partial - clamp <origin.count> to total bytes */
void
imap_section_partial(size_t total, uint64_t origin, uint64_t count,
    size_t *off_r, size_t *len_r)
{
	if (origin >= total) {
		*off_r = total;
		*len_r = 0;
		return;
	}
	*off_r = (size_t)origin;
	*len_r = count < total - *off_r ? (size_t)count : total - *off_r;
}

/* ------------------------------------------------------------------ */
/* headers                                                             */

/* isec_filter_match - is name one of the listed fields (any case) */
static bool
isec_filter_match(const struct imap_section *sec, const char *name,
    size_t n)
{
	size_t i;

	for (i = 0; i < sec->nfields; i++) {
		if (strlen(sec->fields[i]) == n &&
		    strncasecmp(sec->fields[i], name, n) == 0)
			return true;
	}
	return false;
}

/* isec_field_done - one complete field found by isec_header_scan() */
static void
isec_field_done(void *arg, const struct mime_walk_field *fld)
{
	struct isec_scan *sc = arg;
	struct isec_hdr *h = sc->h;
	bool match;

	if (h->ct.p == NULL && mime_walk_span_is(&fld->name, "Content-Type"))
		h->ct = fld->val;
	else if (h->cte.p == NULL && mime_walk_span_is(&fld->name,
	    "Content-Transfer-Encoding"))
		h->cte = fld->val;
	if (sc->f == NULL)
		return;
	match = isec_filter_match(sc->f->sec, fld->name.p, fld->name.n);
	if (match == (sc->f->sec->kind == IMAP_SECTION_HEADER_FIELDS))
		mime_walk_append_crlf(sc->f->out, fld->raw.p, fld->raw.n);
}

/* isec_header_scan - the header at the start of p, as mime_walk_header()
 * cuts it; with f, the selected fields are appended to f->out */
static void
isec_header_scan(const char *p, size_t len, struct isec_hdr *h,
    const struct isec_filter *f)
{
	struct isec_scan sc = { h, f };

	memset(h, 0, sizeof(*h));
	h->size = mime_walk_header(p, len, isec_field_done, &sc, &h->blank);
}

/* imap_section_header_filter - the HEADER.FIELDS(.NOT) subset */
void
imap_section_header_filter(const char *hdr, size_t len,
    const struct imap_section *sec, bool blank_line, struct buf *out)
{
	struct isec_filter f = { sec, out };
	struct isec_hdr h;

	if (sec->kind == IMAP_SECTION_HEADER_FIELDS ||
	    sec->kind == IMAP_SECTION_HEADER_FIELDS_NOT)
		isec_header_scan(hdr, len, &h, &f);
	if (blank_line)
		buf_append(out, "\r\n", 2);
}

/* ------------------------------------------------------------------ */
/* the MIME walk                                                       */

/* isec_ent_open - scan and classify the entity [p, p + n) as
 * mime_part() does; in_digest: its parent is a multipart/digest */
static void
isec_ent_open(struct isec_ent *e, const char *p, size_t n, int depth,
    bool in_digest)
{
	memset(e, 0, sizeof(*e));
	e->p = p;
	e->n = n;
	e->depth = depth;
	isec_header_scan(p, n, &e->h, NULL);
	mime_walk_type(&e->h.ct, in_digest, depth, &e->t);
}

/* isec_ent_close - free what isec_ent_open() allocated */
static void
isec_ent_close(struct isec_ent *e)
{
	mime_walk_type_deinit(&e->t);
}

/* isec_body - the body of an entity; h.size <= n by construction */
static const char *
isec_body(const struct isec_ent *e, size_t *len_r)
{
	*len_r = e->n - e->h.size;
	return e->p + e->h.size;
}

/*
 * isec_child - open child num (from 1) of the multipart e, splitting its
 * body as mime_multipart() does; false when there is no such child.
 *
 * XXX: mime.c stops splitting after 10000 parts counted over the whole
 * message; here they are counted in this multipart only, because knowing
 * the global count would mean walking every earlier part.  The two
 * differ only for messages with more than 10000 parts in several
 * multiparts, where parts past the cap exist here but not in
 * BODYSTRUCTURE.
 */
static bool
isec_child(const struct isec_ent *e, uint32_t num, struct isec_ent *child)
{
	struct mime_walk_parts it;
	const char *body, *pp;
	size_t blen, pn, opened = 0;
	uint32_t count = 0;

	body = isec_body(e, &blen);
	mime_walk_parts_init(&it, body, blen, e->t.bnd, &opened);
	while (mime_walk_parts_next(&it, &pp, &pn)) {
		if (++count == num) {
			isec_ent_open(child, pp, pn, e->depth + 1,
			    e->t.digest);
			return true;
		}
	}
	return false;
}

/*
 * isec_resolve - follow sec's part numbers from the message; 0 with *e
 * the part (the message itself when there are none), -1 when the part
 * does not exist.  A message that is not multipart has only part 1, the
 * message itself seen as a body part; numbers after a message/rfc822
 * part go into the encapsulated message, after a multipart into its
 * children, after anything else nowhere.
 */
static int
isec_resolve(const char *msg, size_t len, const struct imap_section *sec,
    struct isec_ent *e)
{
	struct isec_ent next;
	const char *body;
	size_t i, blen;

	isec_ent_open(e, msg, len, 0, false);
	for (i = 0; i < sec->nparts; i++) {
		/* e is a message or a multipart here */
		if (e->t.kind == MIME_WALK_MULTI) {
			if (!isec_child(e, sec->parts[i], &next))
				goto missing;
			isec_ent_close(e);
			*e = next;
		} else if (sec->parts[i] != 1)
			goto missing;
		if (i + 1 == sec->nparts)
			break;
		if (e->t.kind == MIME_WALK_MSG) {
			body = isec_body(e, &blen);
			isec_ent_open(&next, body, blen, e->depth + 1, false);
			isec_ent_close(e);
			*e = next;
		} else if (e->t.kind != MIME_WALK_MULTI)
			goto missing;
	}
	return 0;
missing:
	isec_ent_close(e);
	return -1;
}

/* ------------------------------------------------------------------ */
/* answers                                                             */

/* isec_ref_init - an empty answer */
static void
isec_ref_init(struct imap_part_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	buf_init(&ref->buf, 0);
	ref->data = "";
}

/* isec_ref_set - the answer is [p, p + n) cut to sec's partial */
static void
isec_ref_set(struct imap_part_ref *ref, const struct imap_section *sec,
    const char *p, size_t n)
{
	size_t off = 0;

	if (sec->partial)
		imap_section_partial(n, sec->origin, sec->count, &off, &n);
	ref->data = n > 0 ? p + off : "";
	ref->len = n;
}

/* isec_ref_missing - the empty string of a part that does not exist */
static void
isec_ref_missing(struct imap_part_ref *ref)
{
	ref->missing = true;
	ref->data = "";
	ref->len = 0;
}

/* imap_section_fetch - BODY[section]<partial> */
void
imap_section_fetch(const char *msg, size_t len,
    const struct imap_section *sec, struct imap_part_ref *out)
{
	struct isec_ent e, m;
	const char *body;
	size_t blen;
	bool opened_m = false;

	isec_ref_init(out);
	if (isec_resolve(msg, len, sec, &e) < 0) {
		isec_ref_missing(out);
		return;
	}
	if (sec->nparts > 0) {
		body = isec_body(&e, &blen);
		switch (sec->kind) {
		case IMAP_SECTION_ALL:
			isec_ref_set(out, sec, body, blen);
			isec_ent_close(&e);
			return;
		case IMAP_SECTION_MIME:
			isec_ref_set(out, sec, e.p, e.h.size);
			isec_ent_close(&e);
			return;
		default:
			/* HEADER, TEXT: only in a message/rfc822 part */
			if (e.t.kind != MIME_WALK_MSG) {
				isec_ent_close(&e);
				isec_ref_missing(out);
				return;
			}
			isec_ent_open(&m, body, blen, e.depth + 1, false);
			opened_m = true;
			break;
		}
	} else
		m = e;

	switch (sec->kind) {
	case IMAP_SECTION_ALL:
		isec_ref_set(out, sec, msg, len);
		break;
	case IMAP_SECTION_HEADER:
		isec_ref_set(out, sec, m.p, m.h.size);
		break;
	case IMAP_SECTION_TEXT:
		body = isec_body(&m, &blen);
		isec_ref_set(out, sec, body, blen);
		break;
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		imap_section_header_filter(m.p, m.h.size, sec, m.h.blank,
		    &out->buf);
		isec_ref_set(out, sec, buf_ptr(&out->buf),
		    buf_avail(&out->buf));
		break;
	case IMAP_SECTION_MIME:
		/* the parser refuses MIME without part numbers */
		panic("imap_section_fetch: MIME without a part");
	}
	if (opened_m)
		isec_ent_close(&m);
	isec_ent_close(&e);
}

/* imap_part_ref_deinit - free what an answer built */
void
imap_part_ref_deinit(struct imap_part_ref *ref)
{
	buf_deinit(&ref->buf);
	ref->data = "";
	ref->len = 0;
}

/* ------------------------------------------------------------------ */
/* Content-Transfer-Encoding                                           */

/* imap_cte_parse - the encoding a Content-Transfer-Encoding value names */
int
imap_cte_parse(const char *s, size_t n, enum imap_cte *cte_r)
{
	struct mime_span v = { s, n }, tok;
	char *copy, *t;
	int r = 0;

	copy = mime_walk_unfold(&v, NULL);
	t = mime_walk_skip_cfws(copy);
	tok.p = t;
	tok.n = mime_walk_token(t);
	if (tok.n == 0 || mime_walk_span_is(&tok, "7bit") ||
	    mime_walk_span_is(&tok, "8bit") ||
	    mime_walk_span_is(&tok, "binary"))
		*cte_r = IMAP_CTE_IDENTITY;
	else if (mime_walk_span_is(&tok, "base64"))
		*cte_r = IMAP_CTE_BASE64;
	else if (mime_walk_span_is(&tok, "quoted-printable"))
		*cte_r = IMAP_CTE_QP;
	else
		r = -1;
	free(copy);
	return r;
}

/* imap_decoder_init - decoder over [p, p + n) */
void
imap_decoder_init(struct imap_decoder *d, enum imap_cte cte, const char *p,
    size_t n)
{
	memset(d, 0, sizeof(*d));
	d->cte = cte;
	d->p = p;
	d->n = n;
	d->pending = -1;
}

/* isec_b64_value - the 6 bits of a base64 character, or -1 */
static int
isec_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (isec_is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * isec_b64_step - consume one input byte; the decoded byte or -1.
 * Leniency that real mail needs: line breaks and white space are
 * skipped, other bytes outside the alphabet are skipped and noted, the
 * first "=" ends the data (RFC 2045 6.8: text after the padding, such as
 * a mailing list footer, is not data), and a final group of 2 or 3
 * characters without padding still gives its bytes.
 */
static int
isec_b64_step(struct imap_decoder *d)
{
	unsigned char c = (unsigned char)d->p[d->pos++];
	int v;

	if ((v = isec_b64_value(c)) >= 0) {
		d->acc = ((d->acc << 6) | (uint32_t)v) & 0xffffff;
		d->bits += 6;
		if (d->bits >= 8) {
			d->bits -= 8;
			return (int)((d->acc >> d->bits) & 0xff);
		}
		return -1;
	}
	if (c == '=') {
		d->done = true;
		if (d->bits == 6)
			d->errors = true;	/* a lone final character */
	} else if (c != '\r' && c != '\n' && c != ' ' && c != '\t')
		d->errors = true;
	return -1;
}

/* isec_hex - value of a hex digit (either case), or -1 */
static int
isec_hex(unsigned char c)
{
	if (isec_is_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* isec_eol_at - length of the line break at p[i] (CRLF, LF, or a CR
 * ending the data), 0 if none; i == n counts as the end of the data */
static size_t
isec_eol_at(const char *p, size_t n, size_t i, bool *end_r)
{
	*end_r = i >= n;
	if (i >= n)
		return 0;
	if (p[i] == '\n')
		return 1;
	if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
		return 2;
	if (p[i] == '\r' && i + 1 == n)
		return 1;
	return 0;
}

/*
 * isec_qp_step - consume some input; the decoded byte or -1 (RFC 2045
 * 6.7).  "=XX" is a byte (lower-case hex accepted), "=" before the end
 * of a line (white space allowed between) is a soft line break, any
 * other "=" is kept and noted; white space at the end of a line was
 * added in transport and goes; a line break becomes CRLF whatever it was
 * in the message, since RFC 3516 wants CRLF lines in textual data.
 */
static int
isec_qp_step(struct imap_decoder *d)
{
	const char *p = d->p;
	size_t i = d->pos, j, k;
	unsigned char c = (unsigned char)p[i];
	int hi, lo;
	bool end;

	if (i < d->verbatim_end) {
		d->pos++;
		return c;
	}
	if (c == '=') {
		if (i + 2 < d->n) {
			hi = isec_hex((unsigned char)p[i + 1]);
			lo = isec_hex((unsigned char)p[i + 2]);
			if (hi >= 0 && lo >= 0) {
				d->pos = i + 3;
				return hi << 4 | lo;
			}
		}
		for (j = i + 1; j < d->n &&
		    mime_walk_is_wsp((unsigned char)p[j]); j++)
			;
		if ((k = isec_eol_at(p, d->n, j, &end)) > 0 || end) {
			d->pos = j + k;		/* soft line break */
			return -1;
		}
		d->errors = true;
		d->pos++;
		return '=';
	}
	if (mime_walk_is_wsp(c)) {
		for (j = i + 1; j < d->n &&
		    mime_walk_is_wsp((unsigned char)p[j]); j++)
			;
		if (isec_eol_at(p, d->n, j, &end) > 0 || end) {
			d->pos = j;		/* trailing white space */
			return -1;
		}
		d->verbatim_end = j;
		d->pos++;
		return c;
	}
	if ((k = isec_eol_at(p, d->n, i, &end)) > 0) {
		d->pos = i + k;
		d->pending = '\n';
		return '\r';
	}
	d->pos++;
	return c;
}

/* imap_decoder_read - up to max decoded bytes into dst */
size_t
imap_decoder_read(struct imap_decoder *d, void *dst, size_t max)
{
	unsigned char *out = dst;
	size_t got = 0, k;
	int c;

	if (d->cte == IMAP_CTE_IDENTITY) {
		k = d->n - d->pos < max ? d->n - d->pos : max;
		memcpy(out, d->p + d->pos, k);
		d->pos += k;
		return k;
	}
	while (got < max) {
		if (d->pending >= 0) {
			out[got++] = (unsigned char)d->pending;
			d->pending = -1;
			continue;
		}
		if (d->done || d->pos >= d->n)
			break;
		if (d->cte == IMAP_CTE_BASE64)
			c = isec_b64_step(d);
		else
			c = isec_qp_step(d);
		if (c >= 0)
			out[got++] = (unsigned char)c;
	}
	if (d->cte == IMAP_CTE_BASE64 && got < max && d->pos >= d->n &&
	    !d->done && d->bits == 6) {
		d->errors = true;	/* a lone final character */
		d->done = true;
	}
	return got;
}

/* imap_decoder_skip - drop up to n decoded bytes */
uint64_t
imap_decoder_skip(struct imap_decoder *d, uint64_t n)
{
	char tmp[4096];
	uint64_t done = 0;
	size_t k;

	if (d->cte == IMAP_CTE_IDENTITY) {
		k = d->n - d->pos < n ? d->n - d->pos : (size_t)n;
		d->pos += k;
		return k;
	}
	while (done < n) {
		k = imap_decoder_read(d, tmp, n - done < sizeof(tmp) ?
		    (size_t)(n - done) : sizeof(tmp));
		if (k == 0)
			break;
		done += k;
	}
	return done;
}

/* imap_section_binary_open - a decoder over BINARY[section] */
int
imap_section_binary_open(const char *msg, size_t len,
    const struct imap_section *sec, struct imap_decoder *d,
    const char **error_r)
{
	struct isec_ent e;
	enum imap_cte cte = IMAP_CTE_IDENTITY;
	const char *body;
	size_t blen;

	if (!imap_section_is_binary(sec))
		panic("imap_section_binary_open: not a section-binary");
	if (sec->nparts == 0) {
		/* the whole message is a message/rfc822 entity: as is */
		imap_decoder_init(d, IMAP_CTE_IDENTITY, msg, len);
		return 0;
	}
	if (isec_resolve(msg, len, sec, &e) < 0) {
		imap_decoder_init(d, IMAP_CTE_IDENTITY, "", 0);
		d->missing = true;
		return 0;
	}
	if (e.h.cte.p != NULL && imap_cte_parse(e.h.cte.p, e.h.cte.n,
	    &cte) < 0) {
		isec_ent_close(&e);
		*error_r = "Unknown Content-Transfer-Encoding";
		return -1;
	}
	body = isec_body(&e, &blen);
	imap_decoder_init(d, cte, body, blen);
	isec_ent_close(&e);
	return 0;
}

/* imap_section_binary - BINARY[section]<partial> */
int
imap_section_binary(const char *msg, size_t len,
    const struct imap_section *sec, struct imap_part_ref *out,
    const char **error_r)
{
	struct imap_decoder d;
	char tmp[8192];
	uint64_t want = UINT64_MAX;
	size_t k;

	isec_ref_init(out);
	if (imap_section_binary_open(msg, len, sec, &d, error_r) < 0)
		return -1;
	if (d.missing) {
		isec_ref_missing(out);
		return 0;
	}
	if (d.cte == IMAP_CTE_IDENTITY) {
		isec_ref_set(out, sec, d.p, d.n);
		return 0;
	}
	/* decode only the window a partial fetch returns */
	if (sec->partial) {
		if (imap_decoder_skip(&d, sec->origin) < sec->origin)
			want = 0;
		else
			want = sec->count;
	}
	while (want > 0) {
		k = imap_decoder_read(&d, tmp, want < sizeof(tmp) ?
		    (size_t)want : sizeof(tmp));
		if (k == 0)
			break;
		buf_append(&out->buf, tmp, k);
		want -= k;
	}
	out->decode_errors = d.errors;
	out->data = out->buf.len > 0 ? buf_ptr(&out->buf) : "";
	out->len = buf_avail(&out->buf);
	return 0;
}

/* imap_section_binary_size - BINARY.SIZE[section] */
int
imap_section_binary_size(const char *msg, size_t len,
    const struct imap_section *sec, uint64_t *size_r, const char **error_r)
{
	struct imap_decoder d;

	if (imap_section_binary_open(msg, len, sec, &d, error_r) < 0)
		return -1;
	*size_r = imap_decoder_skip(&d, UINT64_MAX);
	return 0;
}
