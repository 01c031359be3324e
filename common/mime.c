/* mime.c - ENVELOPE, BODYSTRUCTURE and sort/thread fields of a message */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "mime.h"
#include "mime_walk.h"
#include "xmalloc.h"

/*
 * Design.  The MIME tree is walked here, not by libetpan's mailmime_parse():
 * that parser recurses without a depth limit (a deeply nested message
 * overflows the stack), rejects empty body parts, maps media types to enums
 * (losing the spelling IMAP clients expect back) and does not expose sizes
 * and line counts of the raw parts.  Walking the structure ourselves keeps
 * every pass linear and bounded.  libetpan does what it is good at: the
 * RFC 5322 grammar of address lists and dates (mailimf), and RFC 2047
 * decoding (mailmime_decode).
 *
 * Nothing is copied except header values that are unfolded for parsing and
 * the output strings; header and part boundaries are offsets into msg.
 *
 * Where a header ends, what an entity is and where a multipart splits are
 * common/mime_walk.c's rules, which imapd's FETCH BODY[1.2] uses too, so
 * that the part numbers of BODYSTRUCTURE and of FETCH always agree.
 */

/* longer strings are sent as literals */
#define MIME_QUOTED_MAX	1024

/* the header fields we look at; the first occurrence of each wins */
enum mime_field {
	MF_DATE,
	MF_SUBJECT,
	MF_FROM,
	MF_SENDER,
	MF_REPLY_TO,
	MF_TO,
	MF_CC,
	MF_BCC,
	MF_IN_REPLY_TO,
	MF_MESSAGE_ID,
	MF_REFERENCES,
	MF_CONTENT_TYPE,
	MF_CONTENT_TE,
	MF_CONTENT_ID,
	MF_CONTENT_DESC,
	MF_CONTENT_DISP,
	MF_CONTENT_LANG,
	MF_CONTENT_LOC,
	MF_CONTENT_MD5,
	MF_LIST_ID,
	MF_PRIORITY,
	MF_X_PRIORITY,
	MF_COUNT
};

static const struct {
	const char	*name;
	size_t		 len;
	bool		 cached;	/* copied into header_fields */
} mime_fields[MF_COUNT] = {
#define F(n, c) { n, sizeof(n) - 1, c }
	[MF_DATE] = F("Date", true),
	[MF_SUBJECT] = F("Subject", true),
	[MF_FROM] = F("From", true),
	[MF_SENDER] = F("Sender", true),
	[MF_REPLY_TO] = F("Reply-To", true),
	[MF_TO] = F("To", true),
	[MF_CC] = F("Cc", true),
	[MF_BCC] = F("Bcc", true),
	[MF_IN_REPLY_TO] = F("In-Reply-To", true),
	[MF_MESSAGE_ID] = F("Message-ID", true),
	[MF_REFERENCES] = F("References", true),
	[MF_CONTENT_TYPE] = F("Content-Type", true),
	[MF_CONTENT_TE] = F("Content-Transfer-Encoding", false),
	[MF_CONTENT_ID] = F("Content-ID", false),
	[MF_CONTENT_DESC] = F("Content-Description", false),
	[MF_CONTENT_DISP] = F("Content-Disposition", false),
	[MF_CONTENT_LANG] = F("Content-Language", false),
	[MF_CONTENT_LOC] = F("Content-Location", false),
	[MF_CONTENT_MD5] = F("Content-MD5", false),
	[MF_LIST_ID] = F("List-Id", true),
	[MF_PRIORITY] = F("Priority", true),
	[MF_X_PRIORITY] = F("X-Priority", true),
#undef F
};

struct mime_hdrs {
	struct mime_span	 v[MF_COUNT];
	size_t		 size;	/* bytes, with the blank line */
};

struct mime_ctx {
	struct buf	 bs;	/* BODYSTRUCTURE */
	struct buf	 b;	/* BODY */
	size_t		 parts;
};

static void mime_part(struct mime_ctx *, const struct mime_hdrs *,
    const char *, size_t, bool, int);


/* mime_field_lookup - index of a header field name, or -1 */
static int
mime_field_lookup(const char *name, size_t len)
{
	int i;

	for (i = 0; i < MF_COUNT; i++) {
		if (mime_fields[i].len == len &&
		    strncasecmp(mime_fields[i].name, name, len) == 0)
			return i;
	}
	return -1;
}


/* what mime_header_scan() fills in */
struct mime_scan {
	struct mime_hdrs *h;
	struct buf	*cache;
};

/* mime_field_done - record a complete field found by mime_header_scan() */
static void
mime_field_done(void *arg, const struct mime_walk_field *fld)
{
	struct mime_scan *sc = arg;
	int f;

	f = mime_field_lookup(fld->name.p, fld->name.n);
	if (f < 0)
		return;
	if (sc->h->v[f].p == NULL)
		sc->h->v[f] = fld->val;
	if (sc->cache != NULL && mime_fields[f].cached)
		mime_walk_append_crlf(sc->cache, fld->raw.p, fld->raw.n);
}

/* mime_header_scan - find the fields of the header at the start of p (as
 * mime_walk_header() cuts it); when cache is not NULL the raw lines of
 * the cached fields are appended to it */
static void
mime_header_scan(const char *p, size_t len, struct mime_hdrs *h,
    struct buf *cache)
{
	struct mime_scan sc = { h, cache };

	memset(h, 0, sizeof(*h));
	h->size = mime_walk_header(p, len, mime_field_done, &sc, NULL);
}

/*
 * mime_write_string - an IMAP string: quoted when it is short 7-bit text,
 * a literal otherwise.  NUL cannot be sent in either, so it is dropped.
 */
static void
mime_write_string(struct buf *out, const char *s, size_t n)
{
	size_t i, nul = 0, start;
	bool quote = n <= MIME_QUOTED_MAX;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			nul++;
		else if (c == '\r' || c == '\n' || c >= 0x80)
			quote = false;
	}
	if (!quote) {
		buf_printf(out, "{%zu}\r\n", n - nul);
		for (i = start = 0; i < n; i++) {
			if (s[i] == '\0') {
				buf_append(out, s + start, i - start);
				start = i + 1;
			}
		}
		buf_append(out, s + start, n - start);
		return;
	}
	buf_append_byte(out, '"');
	for (i = start = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\' || s[i] == '\0') {
			buf_append(out, s + start, i - start);
			if (s[i] != '\0')
				buf_append_byte(out, '\\');
			start = s[i] == '\0' ? i + 1 : i;
		}
	}
	buf_append(out, s + start, n - start);
	buf_append_byte(out, '"');
}

/* mime_write_cstr - an IMAP string from a C string, NIL for NULL */
static void
mime_write_cstr(struct buf *out, const char *s)
{
	if (s == NULL)
		buf_append(out, "NIL", 3);
	else
		mime_write_string(out, s, strlen(s));
}

/* mime_write_val - a header value as an unfolded nstring */
static void
mime_write_val(struct buf *out, const struct mime_span *v)
{
	char *s;
	size_t n;

	if (v->p == NULL) {
		buf_append(out, "NIL", 3);
		return;
	}
	s = mime_walk_unfold(v, &n);
	mime_write_string(out, s, n);
	free(s);
}

/* mime_write_mailbox - one "(name adl mailbox host)" */
static void
mime_write_mailbox(struct buf *out, const struct mailimf_mailbox *mb)
{
	const char *spec, *at;

	spec = mb->mb_addr_spec != NULL ? mb->mb_addr_spec : "";
	at = strrchr(spec, '@');
	buf_append_byte(out, '(');
	mime_write_cstr(out, mb->mb_display_name);
	buf_append(out, " NIL ", 5);
	if (at == NULL) {
		mime_write_cstr(out, spec);
		buf_append(out, " \"\")", 4);
	} else {
		mime_write_string(out, spec, (size_t)(at - spec));
		buf_append_byte(out, ' ');
		mime_write_cstr(out, at + 1);
		buf_append_byte(out, ')');
	}
}

/* mime_write_addrs - an address list with RFC 3501 group markers, or NIL */
static void
mime_write_addrs(struct buf *out, const struct mime_span *v)
{
	struct mailimf_address_list *list = NULL;
	struct mailimf_address *addr;
	struct mailimf_group *grp;
	clistiter *it, *mit;
	size_t idx = 0, n;
	char *s;

	if (v->p == NULL) {
		buf_append(out, "NIL", 3);
		return;
	}
	s = mime_walk_unfold(v, &n);
	if (mailimf_address_list_parse(s, n, &idx, &list) != MAILIMF_NO_ERROR)
		list = NULL;
	free(s);
	if (list == NULL || clist_isempty(list->ad_list)) {
		if (list != NULL)
			mailimf_address_list_free(list);
		buf_append(out, "NIL", 3);
		return;
	}
	buf_append_byte(out, '(');
	for (it = clist_begin(list->ad_list); it != NULL; it = clist_next(it)) {
		addr = clist_content(it);
		if (addr->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			mime_write_mailbox(out, addr->ad_data.ad_mailbox);
			continue;
		}
		if (addr->ad_type != MAILIMF_ADDRESS_GROUP)
			continue;
		grp = addr->ad_data.ad_group;
		buf_append(out, "(NIL NIL ", 9);
		mime_write_cstr(out, grp->grp_display_name != NULL ?
		    grp->grp_display_name : "");
		buf_append(out, " NIL)", 5);
		if (grp->grp_mb_list != NULL) {
			for (mit = clist_begin(grp->grp_mb_list->mb_list);
			    mit != NULL; mit = clist_next(mit))
				mime_write_mailbox(out, clist_content(mit));
		}
		buf_append(out, "(NIL NIL NIL NIL)", 17);
	}
	buf_append_byte(out, ')');
	mailimf_address_list_free(list);
}

/* mime_write_addrs_or - an address list, or the already written dflt
 * when the field is absent or holds no address */
static void
mime_write_addrs_or(struct buf *out, const struct mime_span *v,
    const struct buf *dflt)
{
	struct buf tmp;

	buf_init(&tmp, 0);
	mime_write_addrs(&tmp, v);
	if (buf_avail(&tmp) == 3 && memcmp(buf_ptr(&tmp), "NIL", 3) == 0)
		buf_append(out, buf_ptr(dflt), buf_avail(dflt));
	else
		buf_append(out, buf_ptr(&tmp), buf_avail(&tmp));
	buf_deinit(&tmp);
}

/* mime_write_envelope - "(date subject from sender reply-to to cc bcc
 * in-reply-to message-id)"; sender and reply-to default to from */
static void
mime_write_envelope(struct buf *out, const struct mime_hdrs *h)
{
	struct buf from;

	buf_init(&from, 0);
	mime_write_addrs(&from, &h->v[MF_FROM]);
	buf_append_byte(out, '(');
	mime_write_val(out, &h->v[MF_DATE]);
	buf_append_byte(out, ' ');
	mime_write_val(out, &h->v[MF_SUBJECT]);
	buf_append_byte(out, ' ');
	buf_append(out, buf_ptr(&from), buf_avail(&from));
	buf_append_byte(out, ' ');
	mime_write_addrs_or(out, &h->v[MF_SENDER], &from);
	buf_append_byte(out, ' ');
	mime_write_addrs_or(out, &h->v[MF_REPLY_TO], &from);
	buf_append_byte(out, ' ');
	mime_write_addrs(out, &h->v[MF_TO]);
	buf_append_byte(out, ' ');
	mime_write_addrs(out, &h->v[MF_CC]);
	buf_append_byte(out, ' ');
	mime_write_addrs(out, &h->v[MF_BCC]);
	buf_append_byte(out, ' ');
	mime_write_val(out, &h->v[MF_IN_REPLY_TO]);
	buf_append_byte(out, ' ');
	mime_write_val(out, &h->v[MF_MESSAGE_ID]);
	buf_append_byte(out, ')');
	buf_deinit(&from);
}









/* mime_write_span - an IMAP string from a span */
static void
mime_write_span(struct buf *out, const struct mime_span *sp)
{
	mime_write_string(out, sp->p, sp->n);
}

/*
 * mime_write_params - body-fld-param: "(" name value ... ")" or NIL;
 * with add_charset a missing charset is added as US-ASCII, the RFC 2045
 * default for text.
 */
static void
mime_write_params(struct buf *out, const struct mime_ctype *ct,
    bool add_charset)
{
	size_t i;

	if (add_charset && mime_walk_ctype_param(ct, "charset") != NULL)
		add_charset = false;
	if (ct->nparams == 0 && !add_charset) {
		buf_append(out, "NIL", 3);
		return;
	}
	buf_append_byte(out, '(');
	if (add_charset)
		buf_append_str(out, "\"charset\" \"us-ascii\"");
	for (i = 0; i < 2 * ct->nparams; i++) {
		if (i > 0 || add_charset)
			buf_append_byte(out, ' ');
		mime_write_span(out, &ct->params[i]);
	}
	buf_append_byte(out, ')');
}

/* mime_write_lang - body-fld-lang as a list, or NIL */
static void
mime_write_lang(struct buf *out, const struct mime_span *v)
{
	char *s, *tok, *save = NULL;
	bool any = false;

	if (v->p == NULL) {
		buf_append(out, "NIL", 3);
		return;
	}
	s = mime_walk_unfold(v, NULL);
	for (tok = strtok_r(s, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		buf_append_byte(out, any ? ' ' : '(');
		mime_write_cstr(out, tok);
		any = true;
	}
	buf_append(out, any ? ")" : "NIL", any ? 1 : 3);
	free(s);
}


/* mime_write_ext_tail - the end of body-ext-1part/-mpart: dsp lang loc */
static void
mime_write_ext_tail(struct buf *out, const struct mime_hdrs *h)
{
	struct mime_ctype dsp;

	buf_append_byte(out, ' ');
	if (mime_walk_ctype_parse(&h->v[MF_CONTENT_DISP], false, &dsp) < 0) {
		buf_append(out, "NIL", 3);
	} else {
		buf_append_byte(out, '(');
		mime_write_span(out, &dsp.type);
		buf_append_byte(out, ' ');
		mime_write_params(out, &dsp, false);
		buf_append_byte(out, ')');
		mime_walk_ctype_free(&dsp);
	}
	buf_append_byte(out, ' ');
	mime_write_lang(out, &h->v[MF_CONTENT_LANG]);
	buf_append_byte(out, ' ');
	mime_write_val(out, &h->v[MF_CONTENT_LOC]);
}

/* mime_lines - number of lines in p: LFs, plus an unterminated last line */
static size_t
mime_lines(const char *p, size_t n)
{
	const char *nl, *end = p + n;
	size_t lines = 0;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p = nl + 1;
	}
	return lines + (p < end ? 1 : 0);
}

/* mime_both - append the same text to BODY and BODYSTRUCTURE */
static void
mime_both(struct mime_ctx *ctx, const char *s, size_t n)
{
	buf_append(&ctx->bs, s, n);
	buf_append(&ctx->b, s, n);
}

/* mime_both_from - copy what was written to BODYSTRUCTURE since mark into
 * BODY as well, for fields the two share */
static void
mime_both_from(struct mime_ctx *ctx, size_t mark)
{
	buf_append(&ctx->b, buf_ptr(&ctx->bs) + mark,
	    buf_avail(&ctx->bs) - mark);
}

/* mime_empty_part - the text/plain part that stands in for the missing
 * children of a multipart, which IMAP cannot express */
static void
mime_empty_part(struct mime_ctx *ctx)
{
	static const char part[] =
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 0 0";

	mime_both(ctx, part, sizeof(part) - 1);
	buf_append_str(&ctx->bs, " NIL NIL NIL NIL");
	mime_both(ctx, ")", 1);
}


/*
 * mime_multipart - write the children of the multipart body [p, p + n),
 * split at the boundary bnd.  Each level scans only its own range, so the
 * work is linear per level and MIME_WALK_MAX_DEPTH bounds the levels;
 * ctx->parts counts the parts of the whole message against
 * MIME_WALK_MAX_PARTS, which bounds the output size.
 */
static void
mime_multipart(struct mime_ctx *ctx, const char *p, size_t n,
    const struct mime_span *bnd, bool digest, int depth)
{
	struct mime_walk_parts it;
	struct mime_hdrs h;
	const char *pp;
	size_t pn, nparts = 0;

	mime_walk_parts_init(&it, p, n, bnd, &ctx->parts);
	while (mime_walk_parts_next(&it, &pp, &pn)) {
		mime_header_scan(pp, pn, &h, NULL);
		mime_part(ctx, &h, pp, pn, digest, depth + 1);
		nparts++;
	}
	if (nparts == 0)
		mime_empty_part(ctx);
}

/* mime_write_basic - type, subtype and params of a leaf into both */
static void
mime_write_basic(struct mime_ctx *ctx, const struct mime_ctype *ct,
    bool text, bool msg)
{
	size_t mark;

	if (ct == NULL && msg) {
		mime_both(ctx, "\"message\" \"rfc822\" NIL", 22);
		return;
	}
	if (ct == NULL) {
		buf_append_str(&ctx->bs,
		    "\"text\" \"plain\" (\"charset\" \"us-ascii\")");
		buf_append_str(&ctx->b,
		    "\"text\" \"plain\" (\"charset\" \"us-ascii\")");
		return;
	}
	mark = buf_avail(&ctx->bs);
	mime_write_span(&ctx->bs, &ct->type);
	buf_append_byte(&ctx->bs, ' ');
	mime_write_span(&ctx->bs, &ct->subtype);
	buf_append_byte(&ctx->bs, ' ');
	mime_write_params(&ctx->bs, ct, text);
	mime_both_from(ctx, mark);
}

/*
 * mime_part - write the BODY and BODYSTRUCTURE of one part: h is its
 * header, [p, p + n) the whole part.  digest says the default type is
 * message/rfc822 (children of multipart/digest).
 */
static void
mime_part(struct mime_ctx *ctx, const struct mime_hdrs *h, const char *p,
    size_t n, bool digest, int depth)
{
	struct mime_walk_type t;
	struct mime_hdrs inner;
	const char *body;
	size_t blen, mark;
	bool text, msg, multi;

	/* h->size <= n: the header scan stops at the end of the part */
	body = p + h->size;
	blen = n - h->size;
	mime_walk_type(&h->v[MF_CONTENT_TYPE], digest, depth, &t);
	multi = t.kind == MIME_WALK_MULTI;
	msg = t.kind == MIME_WALK_MSG;
	text = t.text;

	if (multi) {
		mime_both(ctx, "(", 1);
		mime_multipart(ctx, body, blen, t.bnd, t.digest, depth);
		mime_both(ctx, " ", 1);
		mark = buf_avail(&ctx->bs);
		mime_write_span(&ctx->bs, &t.ct.subtype);
		mime_both_from(ctx, mark);
		buf_append_byte(&ctx->bs, ' ');
		mime_write_params(&ctx->bs, &t.ct, false);
		mime_write_ext_tail(&ctx->bs, h);
		mime_both(ctx, ")", 1);
		mime_walk_type_deinit(&t);
		return;
	}

	mime_both(ctx, "(", 1);
	mime_write_basic(ctx, t.have_ct ? &t.ct : NULL, text, msg);
	mark = buf_avail(&ctx->bs);
	buf_append_byte(&ctx->bs, ' ');
	mime_write_val(&ctx->bs, &h->v[MF_CONTENT_ID]);
	buf_append_byte(&ctx->bs, ' ');
	mime_write_val(&ctx->bs, &h->v[MF_CONTENT_DESC]);
	buf_append_byte(&ctx->bs, ' ');
	if (h->v[MF_CONTENT_TE].p == NULL)
		buf_append_str(&ctx->bs, "\"7bit\"");
	else
		mime_write_val(&ctx->bs, &h->v[MF_CONTENT_TE]);
	buf_printf(&ctx->bs, " %zu", blen);
	if (msg) {
		mime_header_scan(body, blen, &inner, NULL);
		buf_append_byte(&ctx->bs, ' ');
		mime_write_envelope(&ctx->bs, &inner);
		buf_append_byte(&ctx->bs, ' ');
		mime_both_from(ctx, mark);
		mime_part(ctx, &inner, body, blen, false, depth + 1);
		mark = buf_avail(&ctx->bs);
	}
	if (msg || text)
		buf_printf(&ctx->bs, " %zu", mime_lines(body, blen));
	mime_both_from(ctx, mark);
	buf_append_byte(&ctx->bs, ' ');
	mime_write_val(&ctx->bs, &h->v[MF_CONTENT_MD5]);
	mime_write_ext_tail(&ctx->bs, h);
	mime_both(ctx, ")", 1);
	mime_walk_type_deinit(&t);
}

/* mime_msgids - append the "<id>" of v without brackets to out, separated
 * by spaces, at most max of them (0: all); returns how many */
static size_t
mime_msgids(const struct mime_span *v, struct buf *out, size_t max)
{
	size_t i, j, count = 0;
	unsigned char c;

	if (v->p == NULL)
		return 0;
	for (i = 0; i < v->n && (max == 0 || count < max); ) {
		if (v->p[i] != '<') {
			i++;
			continue;
		}
		for (j = i + 1; j < v->n; j++) {
			c = (unsigned char)v->p[j];
			if (c == '>' || c == '<' || c <= ' ' || c == 0x7f)
				break;
		}
		if (j < v->n && v->p[j] == '>' && j > i + 1) {
			if (count > 0)
				buf_append_byte(out, ' ');
			buf_append(out, v->p + i + 1, j - i - 1);
			count++;
			j++;
		}
		i = j;
	}
	return count;
}

/* mime_first_msgid - the first "<id>" of v without brackets, or NULL */
static char *
mime_first_msgid(const struct mime_span *v)
{
	struct buf b;

	buf_init(&b, 0);
	if (mime_msgids(v, &b, 1) == 0) {
		buf_deinit(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

/* mime_days_from_civil - days since 1970-01-01 of a proleptic Gregorian
 * date; the usual era arithmetic, valid for any year */
static int64_t
mime_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* mime_sent_date - the Date: field as UTC seconds, 0 if absent or bad */
static time_t
mime_sent_date(const struct mime_span *v)
{
	struct mailimf_date_time *dt = NULL;
	size_t idx = 0, n;
	int64_t t, year, zone;
	char *s;

	if (v->p == NULL)
		return 0;
	s = mime_walk_unfold(v, &n);
	if (mailimf_date_time_parse(s, n, &idx, &dt) != MAILIMF_NO_ERROR)
		dt = NULL;
	free(s);
	if (dt == NULL)
		return 0;
	year = dt->dt_year;
	/* RFC 5322 4.3: obsolete two- and three-digit years */
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	if (year > 9999 || dt->dt_month < 1 || dt->dt_month > 12 ||
	    dt->dt_day < 1 || dt->dt_day > 31 || dt->dt_hour < 0 ||
	    dt->dt_hour > 23 || dt->dt_min < 0 || dt->dt_min > 59 ||
	    dt->dt_sec < 0 || dt->dt_sec > 60 || dt->dt_zone < -9959 ||
	    dt->dt_zone > 9959) {
		mailimf_date_time_free(dt);
		return 0;
	}
	/* dt_zone is the zone as written, +0130 being 130 */
	zone = dt->dt_zone;
	zone = (zone / 100) * 3600 + (zone % 100) * 60;
	t = mime_days_from_civil(year, dt->dt_month, dt->dt_day) * 86400 +
	    dt->dt_hour * 3600 + dt->dt_min * 60 + dt->dt_sec - zone;
	mailimf_date_time_free(dt);
	return (time_t)t;
}

/* mime_utf8_fix - replace bytes that are not valid UTF-8 with '?' */
static void
mime_utf8_fix(char *s, size_t n)
{
	unsigned char *u = (unsigned char *)s;
	size_t i = 0, len, k;
	unsigned char lo, hi;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (u[i] >= 0xc2 && u[i] <= 0xdf)
			len = 2;
		else if (u[i] >= 0xe0 && u[i] <= 0xef) {
			len = 3;
			if (u[i] == 0xe0)
				lo = 0xa0;	/* overlong */
			else if (u[i] == 0xed)
				hi = 0x9f;	/* surrogates */
		} else if (u[i] >= 0xf0 && u[i] <= 0xf4) {
			len = 4;
			if (u[i] == 0xf0)
				lo = 0x90;	/* overlong */
			else if (u[i] == 0xf4)
				hi = 0x8f;	/* past U+10FFFF */
		} else
			len = 0;
		for (k = 1; len > 0 && k < len; k++) {
			if (i + k >= n || u[i + k] < (k == 1 ? lo : 0x80) ||
			    u[i + k] > (k == 1 ? hi : 0xbf))
				len = 0;
		}
		if (len == 0) {
			u[i++] = '?';
			continue;
		}
		i += len;
	}
}

/* mime_blob_end - end of the subj-blob "[...]" *WSP at i, or 0 */
static size_t
mime_blob_end(const char *t, size_t i, size_t e)
{
	size_t j;

	if (i >= e || t[i] != '[')
		return 0;
	for (j = i + 1; j < e && t[j] != ']' && t[j] != '['; j++)
		;
	if (j >= e || t[j] != ']')
		return 0;
	for (j++; j < e && t[j] == ' '; j++)
		;
	return j;
}

/* mime_refwd_end - end of subj-refwd ("re" / "fw" / "fwd", *WSP,
 * [subj-blob], ":") at i, or 0 */
static size_t
mime_refwd_end(const char *t, size_t i, size_t e)
{
	size_t j, k;

	if (e - i >= 2 && strncasecmp(t + i, "re", 2) == 0)
		j = i + 2;
	else if (e - i >= 3 && strncasecmp(t + i, "fwd", 3) == 0)
		j = i + 3;
	else if (e - i >= 2 && strncasecmp(t + i, "fw", 2) == 0)
		j = i + 2;
	else
		return 0;
	while (j < e && t[j] == ' ')
		j++;
	if ((k = mime_blob_end(t, j, e)) > 0)
		j = k;
	return j < e && t[j] == ':' ? j + 1 : 0;
}

/*
 * mime_subject_strip - RFC 5256 2.1 steps 1 (white space only) to 6 on
 * t, in place.  Each step removes text or stops, and runs of blobs are
 * removed in one go (what repeating steps 3 and 4 would do one blob at a
 * time), so the work stays linear in the subject's length.
 */
bool
mime_subject_strip(char *t)
{
	size_t i, j, b, e, bl, last, nblobs;
	bool reply = false;

	/* step 1, the part after decoding: one space for any white space */
	for (i = j = 0; t[i] != '\0'; i++) {
		if (t[i] == '\t' || t[i] == '\r' || t[i] == '\n')
			t[i] = ' ';
		if (t[i] == ' ' && j > 0 && t[j - 1] == ' ')
			continue;
		t[j++] = t[i];
	}
	b = 0;
	e = j;
	for (;;) {
		/* step 2: subj-trailer */
		for (;;) {
			if (e > b && t[e - 1] == ' ')
				e--;
			else if (e - b >= 5 &&
			    strncasecmp(t + e - 5, "(fwd)", 5) == 0) {
				e -= 5;
				reply = true;
			} else
				break;
		}
		/* steps 3 to 5 */
		for (;;) {
			if (b < e && t[b] == ' ') {
				b++;
				continue;
			}
			/* step 3: *subj-blob subj-refwd */
			i = last = b;
			nblobs = 0;
			while ((bl = mime_blob_end(t, i, e)) > 0) {
				last = i;
				i = bl;
				nblobs++;
			}
			if ((bl = mime_refwd_end(t, i, e)) > 0) {
				b = bl;
				reply = true;
				continue;
			}
			/* step 4: blobs go if something is left after them */
			if (nblobs > 0 && i < e) {
				b = i;
				continue;
			}
			if (nblobs > 1) {
				b = last;
				continue;
			}
			break;
		}
		/* step 6: "[fwd:" ... "]" */
		if (e - b >= 6 && strncasecmp(t + b, "[fwd:", 5) == 0 &&
		    t[e - 1] == ']') {
			b += 5;
			e--;
			reply = true;
			continue;
		}
		break;
	}
	/* b <= e <= j: the base subject moves to the front */
	memmove(t, t + b, e - b);
	t[e - b] = '\0';
	return reply;
}

/*
 * mime_base_subject - RFC 5256 2.1 base subject of the Subject field,
 * in UTF-8: RFC 2047 decoding, then mime_subject_strip().
 */
static char *
mime_base_subject(const struct mime_span *v)
{
	char *raw, *dec = NULL, *t;
	size_t n, idx = 0;

	if (v->p == NULL)
		return xstrdup("");
	raw = mime_walk_unfold(v, &n);
	/* step 1: decode RFC 2047; raw 8-bit text is taken as UTF-8, its
	 * invalid bytes made '?' first, or the decoder would drop them */
	mime_utf8_fix(raw, n);
	if (mailmime_encoded_phrase_parse("utf-8", raw, n, &idx, "utf-8",
	    &dec) == MAILIMF_NO_ERROR && dec != NULL) {
		free(raw);
		t = xstrdup(dec);
		free(dec);
	} else
		t = raw;
	/* the decoded words may be invalid UTF-8 too.  Fixing them before
	 * the stripping is the same as after: '?' and the bytes it
	 * replaces mean nothing to the steps, which only cut at ASCII
	 * bytes, and never at a byte between two others that are kept */
	mime_utf8_fix(t, strlen(t));
	(void)mime_subject_strip(t);
	return t;
}

/* mime_summarize - summarise msg; never fails */
void
mime_summarize(const char *msg, size_t len, struct mime_summary *sum)
{
	struct mime_ctx ctx;
	struct mime_hdrs h;
	struct buf b;

	memset(sum, 0, sizeof(*sum));
	if (msg == NULL) {
		msg = "";
		len = 0;
	}
	buf_init(&b, 0);
	mime_header_scan(msg, len, &h, &b);
	sum->header_fields = buf_steal(&b, NULL);
	sum->header_size = h.size;

	mime_write_envelope(&b, &h);
	sum->envelope = buf_steal(&b, NULL);

	memset(&ctx, 0, sizeof(ctx));
	buf_init(&ctx.bs, 0);
	buf_init(&ctx.b, 0);
	mime_part(&ctx, &h, msg, len, false, 0);
	sum->bodystructure = buf_steal(&ctx.bs, NULL);
	sum->body = buf_steal(&ctx.b, NULL);
	buf_deinit(&ctx.bs);
	buf_deinit(&ctx.b);

	sum->message_id = mime_first_msgid(&h.v[MF_MESSAGE_ID]);
	sum->in_reply_to = mime_first_msgid(&h.v[MF_IN_REPLY_TO]);
	if (mime_msgids(&h.v[MF_REFERENCES], &b, 0) > 0)
		sum->references = buf_steal(&b, NULL);
	buf_deinit(&b);
	sum->base_subject = mime_base_subject(&h.v[MF_SUBJECT]);
	sum->sent_date = mime_sent_date(&h.v[MF_DATE]);
}

/* mime_summary_deinit - free what mime_summarize() allocated */
void
mime_summary_deinit(struct mime_summary *sum)
{
	free(sum->envelope);
	free(sum->bodystructure);
	free(sum->body);
	free(sum->header_fields);
	free(sum->message_id);
	free(sum->in_reply_to);
	free(sum->references);
	free(sum->base_subject);
	memset(sum, 0, sizeof(*sum));
}
