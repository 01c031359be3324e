/* mime_walk.c - header end, Content-Type, entity kinds, multipart split */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime_walk.h"
#include "xmalloc.h"

/*
 * Design.  mime.c (BODYSTRUCTURE for the whole message) and
 * imap_section.c (the offsets of one part, found without walking the
 * rest) walk the tree differently, but must cut it the same way, so the
 * cutting lives here and each of them drives it: the header scan reports
 * fields through a callback, and a multipart is split by an iterator the
 * caller pulls, so mime.c can descend into a child before the scan goes
 * on (its part count is global) and imap_section.c can stop at the child
 * it wants.
 */

/* mime_walk_header - the fields of the header at the start of p.  The
 * header ends after the first empty line (CRLF or bare LF) or at the end
 * of the data; lines that are neither "name:" (name without white space)
 * nor a continuation are skipped. */
size_t
mime_walk_header(const char *p, size_t len, mime_walk_field_fn *fn,
    void *arg, bool *blank_r)
{
	struct mime_walk_field f;
	const char *nl;
	size_t pos, ls, le, ce, i, fields_end;
	bool have = false, blank = false;

	memset(&f, 0, sizeof(f));
	pos = 0;
	fields_end = len;
	while (pos < len) {
		ls = pos;
		nl = memchr(p + ls, '\n', len - ls);
		le = nl == NULL ? len : (size_t)(nl - p) + 1;
		/* ce: end of the line's content, before LF or CRLF */
		ce = le;
		if (nl != NULL) {
			ce--;
			if (ce > ls && p[ce - 1] == '\r')
				ce--;
		}
		pos = le;
		if (ce == ls && nl != NULL) {
			fields_end = ls;
			blank = true;
			break;	/* the empty line ends the header */
		}
		if (mime_walk_is_wsp((unsigned char)p[ls])) {
			if (have)
				f.val.n = (size_t)(p + ce - f.val.p);
			continue;
		}
		if (have && fn != NULL) {
			f.raw.n = (size_t)(p + ls - f.raw.p);
			fn(arg, &f);
		}
		have = false;
		for (i = ls; i < ce && p[i] != ':'; i++)
			;
		if (i == ce)
			continue;	/* not a field */
		f.name.n = i - ls;
		while (f.name.n > 0 && mime_walk_is_wsp((unsigned char)p[ls +
		    f.name.n - 1]))
			f.name.n--;
		if (f.name.n == 0 || memchr(p + ls, ' ', f.name.n) != NULL ||
		    memchr(p + ls, '\t', f.name.n) != NULL)
			continue;	/* "From sender date" mbox lines */
		have = true;
		f.name.p = p + ls;
		f.val.p = p + i + 1;
		f.val.n = ce - (i + 1);
		f.raw.p = p + ls;
	}
	if (have && fn != NULL) {
		f.raw.n = (size_t)(p + fields_end - f.raw.p);
		fn(arg, &f);
	}
	if (blank_r != NULL)
		*blank_r = blank;
	return pos;
}

/* mime_walk_append_crlf - raw header bytes, bare LF made CRLF, no NUL */
void
mime_walk_append_crlf(struct buf *out, const char *p, size_t n)
{
	size_t i, start;

	for (i = start = 0; i < n; i++) {
		if (p[i] == '\0') {
			buf_append(out, p + start, i - start);
			start = i + 1;
		} else if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) {
			buf_append(out, p + start, i - start);
			buf_append(out, "\r\n", 2);
			start = i + 1;
		}
	}
	buf_append(out, p + start, n - start);
	if (n > 0 && p[n - 1] != '\n')
		buf_append(out, "\r\n", 2);
}

/* mime_walk_unfold - copy of a value without CR, LF and NUL, trimmed */
char *
mime_walk_unfold(const struct mime_span *v, size_t *len_r)
{
	char *s;
	size_t i, n, start;

	s = xmalloc(v->n + 1);
	for (i = n = 0; i < v->n; i++) {
		if (v->p[i] != '\r' && v->p[i] != '\n' && v->p[i] != '\0')
			s[n++] = v->p[i];
	}
	while (n > 0 && mime_walk_is_wsp((unsigned char)s[n - 1]))
		n--;
	for (start = 0; start < n &&
	    mime_walk_is_wsp((unsigned char)s[start]); start++)
		;
	memmove(s, s + start, n - start);
	n -= start;
	s[n] = '\0';
	if (len_r != NULL)
		*len_r = n;
	return s;
}

/* mime_walk_is_tspecial - RFC 2045 tspecials, which end a token */
static bool
mime_walk_is_tspecial(unsigned char c)
{
	return c <= ' ' || c == 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* mime_walk_skip_cfws - skip white space and (nested) comments */
char *
mime_walk_skip_cfws(char *s)
{
	int depth;

	for (;;) {
		while (mime_walk_is_wsp((unsigned char)*s))
			s++;
		if (*s != '(')
			return s;
		depth = 0;
		for (; *s != '\0'; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')' && --depth == 0) {
				s++;
				break;
			}
		}
	}
}

/* mime_walk_token - length of the token at s (0 if none) */
size_t
mime_walk_token(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && !mime_walk_is_tspecial((unsigned char)s[n]))
		n++;
	return n;
}

/* mime_walk_quoted - unquote the quoted-string at *sp in place; *sp moves
 * past it; returns the value's start, its length in *len_r */
static char *
mime_walk_quoted(char **sp, size_t *len_r)
{
	char *s = *sp + 1, *d, *start;

	start = d = s;
	for (; *s != '\0' && *s != '"'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		*d++ = *s;
	}
	if (*s == '"')
		s++;
	/* d <= s: unquoting only shrinks the string, nothing after it is
	 * overwritten */
	*sp = s;
	*len_r = (size_t)(d - start);
	return start;
}

/* mime_walk_span_is - case-insensitive comparison with a C string */
bool
mime_walk_span_is(const struct mime_span *sp, const char *s)
{
	return sp->n == strlen(s) && strncasecmp(sp->p, s, sp->n) == 0;
}

/*
 * mime_walk_ctype_parse - "type/subtype; a=b" or "type; a=b"; -1 when
 * the value is unusable, as RFC 2045 says for a broken Content-Type.
 * Broken parameters are skipped up to the next ';'.
 */
int
mime_walk_ctype_parse(const struct mime_span *v, bool want_sub,
    struct mime_ctype *ct)
{
	struct mime_span name, value;
	size_t cap = 0;
	char *s;

	memset(ct, 0, sizeof(*ct));
	if (v->p == NULL)
		return -1;
	ct->buf = s = mime_walk_unfold(v, NULL);
	s = mime_walk_skip_cfws(s);
	ct->type.p = s;
	if ((ct->type.n = mime_walk_token(s)) == 0)
		goto bad;
	s = mime_walk_skip_cfws(s + ct->type.n);
	if (want_sub) {
		if (*s != '/')
			goto bad;
		s = mime_walk_skip_cfws(s + 1);
		ct->subtype.p = s;
		if ((ct->subtype.n = mime_walk_token(s)) == 0)
			goto bad;
		s = mime_walk_skip_cfws(s + ct->subtype.n);
	}
	while ((s = strchr(s, ';')) != NULL) {
		s = mime_walk_skip_cfws(s + 1);
		name.p = s;
		if ((name.n = mime_walk_token(s)) == 0)
			continue;
		s = mime_walk_skip_cfws(s + name.n);
		if (*s != '=')
			continue;
		s = mime_walk_skip_cfws(s + 1);
		if (*s == '"') {
			value.p = mime_walk_quoted(&s, &value.n);
		} else {
			value.p = s;
			if ((value.n = mime_walk_token(s)) == 0)
				continue;
			s += value.n;
		}
		if (ct->nparams == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			ct->params = xreallocarray(ct->params, cap,
			    2 * sizeof(*ct->params));
		}
		ct->params[2 * ct->nparams] = name;
		ct->params[2 * ct->nparams + 1] = value;
		ct->nparams++;
	}
	return 0;
bad:
	mime_walk_ctype_free(ct);
	return -1;
}

/* mime_walk_ctype_free - release a parsed field */
void
mime_walk_ctype_free(struct mime_ctype *ct)
{
	free(ct->buf);
	free(ct->params);
	memset(ct, 0, sizeof(*ct));
}

/* mime_walk_ctype_param - a parameter's value, or NULL */
const struct mime_span *
mime_walk_ctype_param(const struct mime_ctype *ct, const char *name)
{
	size_t i;

	for (i = 0; i < ct->nparams; i++) {
		if (mime_walk_span_is(&ct->params[2 * i], name))
			return &ct->params[2 * i + 1];
	}
	return NULL;
}

/*
 * mime_walk_type - what an entity is.  No Content-Type in a digest's
 * child means message/rfc822 (RFC 2046 5.1.5); a broken one means
 * text/plain.  A multipart without a boundary, and any container at the
 * depth limit, is read as a text leaf, since IMAP can show neither.
 */
void
mime_walk_type(const struct mime_span *ctv, bool in_digest, int depth,
    struct mime_walk_type *t)
{
	bool multi, msg;

	memset(t, 0, sizeof(*t));
	t->have_ct = mime_walk_ctype_parse(ctv, true, &t->ct) == 0;
	if (!t->have_ct && ctv->p == NULL && in_digest) {
		msg = true;
		multi = t->text = false;
	} else {
		multi = t->have_ct && mime_walk_span_is(&t->ct.type,
		    "multipart");
		msg = t->have_ct && mime_walk_span_is(&t->ct.type,
		    "message") && mime_walk_span_is(&t->ct.subtype, "rfc822");
		t->text = !t->have_ct || mime_walk_span_is(&t->ct.type,
		    "text");
	}
	if (multi)
		t->bnd = mime_walk_ctype_param(&t->ct, "boundary");
	if ((multi && (t->bnd == NULL || t->bnd->n == 0)) ||
	    ((multi || msg) && depth >= MIME_WALK_MAX_DEPTH)) {
		/* unusable as a container: a plain text leaf */
		mime_walk_type_deinit(t);
		multi = msg = false;
		t->text = true;
	}
	t->kind = multi ? MIME_WALK_MULTI : msg ? MIME_WALK_MSG :
	    MIME_WALK_LEAF;
	t->digest = multi && mime_walk_span_is(&t->ct.subtype, "digest");
}

/* mime_walk_type_deinit - free the parsed Content-Type */
void
mime_walk_type_deinit(struct mime_walk_type *t)
{
	if (t->have_ct)
		mime_walk_ctype_free(&t->ct);
	t->have_ct = false;
	t->bnd = NULL;
}

/* mime_walk_delim - length of the delimiter line at p if it is one, else
 * 0; *close_r is set for "--boundary--" */
static size_t
mime_walk_delim(const char *p, size_t n, const struct mime_span *bnd,
    bool *close_r)
{
	size_t i;

	if (n < 2 + bnd->n || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, bnd->p, bnd->n) != 0)
		return 0;
	i = 2 + bnd->n;
	*close_r = i + 2 <= n && p[i] == '-' && p[i + 1] == '-';
	if (!*close_r) {
		/* only transport padding may follow, so that a boundary
		 * that is a prefix of a nested one does not match it */
		while (i < n && (mime_walk_is_wsp((unsigned char)p[i]) ||
		    p[i] == '\r'))
			i++;
		if (i < n && p[i] != '\n')
			return 0;
	}
	while (i < n && p[i] != '\n')
		i++;
	return i < n ? i + 1 : i;
}

/* mime_walk_parts_init - start splitting a multipart body */
void
mime_walk_parts_init(struct mime_walk_parts *it, const char *p, size_t n,
    const struct mime_span *bnd, size_t *opened)
{
	memset(it, 0, sizeof(*it));
	it->p = p;
	it->n = n;
	it->bnd = bnd;
	it->opened = opened;
}

/*
 * mime_walk_parts_next - the next part.  A delimiter line ends the open
 * part and opens the next; the close delimiter ends the walk.  A part
 * found at a delimiter is returned before that delimiter is taken into
 * account (and before the part limit is checked again), so a caller that
 * walks into the part and counts its nested parts in the same counter
 * sees the counts exactly as a recursive walk would.  Each call scans
 * only this body, so the work is linear per level.
 */
bool
mime_walk_parts_next(struct mime_walk_parts *it, const char **p_r,
    size_t *n_r)
{
	const char *nl, *p = it->p;
	size_t n = it->n, end;

	if (it->done)
		return false;
	for (;;) {
		if (!it->pending) {
			if (it->ls >= n || *it->opened >= MIME_WALK_MAX_PARTS)
				break;
			it->dl = mime_walk_delim(p + it->ls, n - it->ls,
			    it->bnd, &it->closed);
			if (it->dl > 0 && it->in_part) {
				/* the line break before a delimiter belongs
				 * to the delimiter (RFC 2046 5.1.1) */
				end = it->ls;
				if (end > it->start && p[end - 1] == '\n')
					end--;
				if (end > it->start && p[end - 1] == '\r')
					end--;
				it->pending = true;
				*p_r = p + it->start;
				*n_r = end - it->start;
				return true;
			}
		}
		it->pending = false;
		if (it->dl > 0) {
			it->in_part = !it->closed;
			if (it->closed)
				break;
			it->start = it->ls + it->dl;
			(*it->opened)++;
		}
		nl = memchr(p + it->ls, '\n', n - it->ls);
		if (nl == NULL)
			break;
		it->ls = (size_t)(nl - p) + 1;
	}
	it->done = true;
	if (!it->in_part)
		return false;
	/* no close delimiter (or too many parts): the last part runs to
	 * the end */
	*p_r = p + it->start;
	*n_r = n - it->start;
	return true;
}
