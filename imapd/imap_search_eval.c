/* imap_search_eval.c - SEARCH programs against one message at a time */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime.h"
#include "store.h"
#include "xmalloc.h"

#include "imap_parse.h"
#include "imap_search_eval.h"
#include "imap_section.h"
#include "imap_seqset.h"
#include "imap_summary.h"
#include "imap_text.h"
#include "imap_write.h"

/*
 * Design.  imap_search_prepare() compiles the parser's tree into a tree
 * of struct enode that knows, for each node, how expensive it is (what it
 * needs: the index record, the cached summary, or the message) and keeps
 * the children of AND and OR ordered cheapest first, so that the common
 * "UNDELETED UNSEEN FROM x" never loads a cache for deleted or seen
 * messages.  Nodes the text hook answered carry their UID set and cost
 * nothing.  The per-message state (the cache, the message, a summary
 * made when the cache is missing) lives in the program and is dropped at
 * the start of the next imap_search_match().
 */

/* decoded bytes read from a body part at a time */
#define EVAL_CHUNK	65536

enum cost {
	COST_RECORD = 0,	/* the index record */
	COST_CACHE,		/* the cached summary */
	COST_MESSAGE		/* the message file */
};

struct enode {
	const struct imap_search_node *n;
	enum imap_search_op op;
	enum cost	 cost;
	struct enode	*kids;		/* cheapest first */
	size_t		 nkids;
	bool		 answered;	/* by the text hook */
	struct imap_seqset uids;
	struct imap_text_match match;	/* text keys */
	bool		 has_match;
};

struct imap_search_prog {
	struct enode	 root;
	struct imap_search_settings set;
	struct imap_search_source src;
	/* per message */
	struct imap_search_msg *m;
	bool		 cache_tried;
	bool		 have_sum;
	struct mime_summary sum;
	struct store_cache own;
	struct buf	 tmp;
};

/* flags_from_store - IMAP flag bits of store flag bits (imap_view.h has
 * the same; this module stays free of the session's files) */
static unsigned int
flags_from_store(unsigned int s)
{
	unsigned int f = 0;

	if (s & STORE_FLAG_SEEN)
		f |= IMAP_FLAG_SEEN;
	if (s & STORE_FLAG_ANSWERED)
		f |= IMAP_FLAG_ANSWERED;
	if (s & STORE_FLAG_FLAGGED)
		f |= IMAP_FLAG_FLAGGED;
	if (s & STORE_FLAG_DELETED)
		f |= IMAP_FLAG_DELETED;
	if (s & STORE_FLAG_DRAFT)
		f |= IMAP_FLAG_DRAFT;
	return f;
}

/* imap_keywords_have - kw among the space-separated keywords */
bool
imap_keywords_have(const char *keywords, const char *kw)
{
	size_t n = strlen(kw), k;
	const char *p = keywords;

	if (p == NULL || n == 0)
		return false;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		for (k = 0; p[k] != '\0' && p[k] != ' '; k++)
			;
		if (k == n && strncasecmp(p, kw, n) == 0)
			return true;
		p += k;
	}
	return false;
}

/* month_of - 1..12 of a three-letter English month name, or 0 */
static unsigned int
month_of(const char *s, size_t n)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	unsigned int i;

	if (n != 3)
		return 0;
	for (i = 0; i < 12; i++)
		if (strncasecmp(s, names + i * 3, 3) == 0)
			return i + 1;
	return 0;
}

/* skip_cfws - past white space and (nested) comments */
static size_t
skip_cfws(const char *s, size_t n, size_t i)
{
	unsigned int depth;

	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n'))
			i++;
		if (i >= n || s[i] != '(')
			return i;
		for (depth = 0; i < n; i++) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			else if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && --depth == 0) {
				i++;
				break;
			}
		}
	}
}

/* imap_search_date_days - the date written in a Date: value */
int64_t
imap_search_date_days(const char *s, size_t n)
{
	struct imap_date d;
	size_t i, j;
	unsigned int day = 0, year = 0, mon;

	i = skip_cfws(s, n, 0);
	/* optional day-of-week "," */
	for (j = i; j < n && ((s[j] >= 'a' && s[j] <= 'z') ||
	    (s[j] >= 'A' && s[j] <= 'Z')); j++)
		;
	if (j > i) {
		j = skip_cfws(s, n, j);
		if (j >= n || s[j] != ',')
			return -1;
		i = skip_cfws(s, n, j + 1);
	}
	for (j = i; j < n && j - i < 2 && s[j] >= '0' && s[j] <= '9'; j++)
		day = day * 10 + (unsigned int)(s[j] - '0');
	if (j == i)
		return -1;
	i = skip_cfws(s, n, j);
	for (j = i; j < n && ((s[j] >= 'a' && s[j] <= 'z') ||
	    (s[j] >= 'A' && s[j] <= 'Z')); j++)
		;
	if ((mon = month_of(s + i, j - i)) == 0)
		return -1;
	i = skip_cfws(s, n, j);
	for (j = i; j < n && j - i < 4 && s[j] >= '0' && s[j] <= '9'; j++)
		year = year * 10 + (unsigned int)(s[j] - '0');
	if (j - i < 2 || (j < n && s[j] >= '0' && s[j] <= '9'))
		return -1;
	/* RFC 5322 4.3: two- and three-digit years */
	if (j - i == 2)
		year += year < 50 ? 2000 : 1900;
	else if (j - i == 3)
		year += 1900;
	if (day < 1 || day > 31)
		return -1;
	d.year = (int)year;
	d.mon = mon;
	d.day = day;
	return imap_date_days(&d);
}

/*
 * header_next - the next field of a header at hdr[*pos..len): name and
 * raw value (folding kept); false at the end of the header (an empty
 * line or the end of the bytes).  Lines that are not fields are skipped,
 * as common/mime.c does.
 */
static bool
header_next(const char *hdr, size_t len, size_t *pos, const char **name_r,
    size_t *namelen_r, const char **val_r, size_t *vallen_r)
{
	const char *nl;
	size_t ls, le, ce, i, nlen, vstart;

	while (*pos < len) {
		ls = *pos;
		nl = memchr(hdr + ls, '\n', len - ls);
		le = nl == NULL ? len : (size_t)(nl - hdr) + 1;
		ce = le;
		if (nl != NULL) {
			ce--;
			if (ce > ls && hdr[ce - 1] == '\r')
				ce--;
		}
		if (ce == ls && nl != NULL) {
			*pos = len;
			return false;
		}
		*pos = le;
		if (hdr[ls] == ' ' || hdr[ls] == '\t')
			continue;	/* a stray continuation */
		for (i = ls; i < ce && hdr[i] != ':'; i++)
			;
		if (i == ce)
			continue;
		nlen = i - ls;
		while (nlen > 0 && (hdr[ls + nlen - 1] == ' ' ||
		    hdr[ls + nlen - 1] == '\t'))
			nlen--;
		if (nlen == 0 || memchr(hdr + ls, ' ', nlen) != NULL ||
		    memchr(hdr + ls, '\t', nlen) != NULL)
			continue;
		vstart = i + 1;
		/* continuation lines */
		while (*pos < len && (hdr[*pos] == ' ' || hdr[*pos] == '\t')) {
			nl = memchr(hdr + *pos, '\n', len - *pos);
			*pos = nl == NULL ? len : (size_t)(nl - hdr) + 1;
		}
		*name_r = hdr + ls;
		*namelen_r = nlen;
		*val_r = hdr + vstart;
		*vallen_r = *pos - vstart;
		return true;
	}
	return false;
}

/* imap_search_header_values - decoded values of every field name */
void
imap_search_header_values(const char *hdr, size_t len, const char *name,
    struct buf *out, bool *found_r)
{
	const char *fn, *v;
	size_t pos = 0, fnl, vl, nl = strlen(name);

	*found_r = false;
	while (header_next(hdr, len, &pos, &fn, &fnl, &v, &vl)) {
		if (fnl != nl || strncasecmp(fn, name, nl) != 0)
			continue;
		*found_r = true;
		imap_text_decode_header(v, vl, out);
		buf_append_byte(out, '\n');
	}
}

/* header_all - every field decoded, "Name: value" lines */
static void
header_all(const char *hdr, size_t len, struct buf *out)
{
	const char *fn, *v;
	size_t pos = 0, fnl, vl;

	while (header_next(hdr, len, &pos, &fn, &fnl, &v, &vl)) {
		buf_append(out, fn, fnl);
		buf_append(out, ": ", 2);
		imap_text_decode_header(v, vl, out);
		buf_append_byte(out, '\n');
	}
}

/* header_len - bytes of the header of msg (up to the empty line) */
static size_t
header_len(const char *msg, size_t len)
{
	const char *p = msg, *nl;
	size_t ls;

	for (ls = 0; ls < len; ) {
		nl = memchr(p + ls, '\n', len - ls);
		if (nl == NULL)
			return len;
		if (nl == p + ls || (nl == p + ls + 1 && p[ls] == '\r'))
			return ls;
		ls = (size_t)(nl - p) + 1;
	}
	return len;
}

/* node_is_text - the keys the text hook may answer */
static bool
node_is_text(enum imap_search_op op)
{
	switch (op) {
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_TEXT:
	case IMAP_SEARCH_TO:
	case IMAP_SEARCH_HEADER:
		return true;
	default:
		return false;
	}
}

/* leaf_cost - what a key needs */
static enum cost
leaf_cost(const struct imap_search_node *n)
{
	switch (n->op) {
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
	case IMAP_SEARCH_EMAILID:
	case IMAP_SEARCH_THREADID:
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_TO:
		return COST_CACHE;
	case IMAP_SEARCH_HEADER:
		return imap_summary_field_cached(n->header) ? COST_CACHE :
		    COST_MESSAGE;
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
		return COST_MESSAGE;
	default:
		return COST_RECORD;
	}
}

/* enode_deinit - free a compiled subtree */
static void
enode_deinit(struct enode *e)
{
	size_t i;

	for (i = 0; i < e->nkids; i++)
		enode_deinit(&e->kids[i]);
	free(e->kids);
	imap_seqset_deinit(&e->uids);
	if (e->has_match)
		imap_text_match_deinit(&e->match);
}

/* enode_cmp - cheapest first, else as written */
static int
enode_cmp(const void *a, const void *b)
{
	const struct enode *x = a, *y = b;

	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return 0;
}

/* compile - the subtree of n into e */
static int
compile(struct imap_search_prog *p, const struct imap_search_node *n,
    struct enode *e, const char **error_r)
{
	const struct imap_search_node *c;
	size_t i, k;
	int r;

	memset(e, 0, sizeof(*e));
	e->n = n;
	e->op = n->op;
	imap_seqset_init(&e->uids);
	switch (n->op) {
	case IMAP_SEARCH_AND:
	case IMAP_SEARCH_OR:
	case IMAP_SEARCH_NOT:
		for (c = n->children; c != NULL; c = c->next)
			e->nkids++;
		e->kids = xcalloc(e->nkids == 0 ? 1 : e->nkids,
		    sizeof(*e->kids));
		for (c = n->children, i = 0; c != NULL; c = c->next, i++) {
			if (compile(p, c, &e->kids[i], error_r) < 0) {
				for (k = i + 1; k < e->nkids; k++)
					imap_seqset_init(&e->kids[k].uids);
				return -1;
			}
			if (e->kids[i].cost > e->cost)
				e->cost = e->kids[i].cost;
		}
		/* a stable order: qsort is not, so sort by insertion */
		for (i = 1; i < e->nkids; i++) {
			struct enode t = e->kids[i];

			for (k = i; k > 0 && enode_cmp(&e->kids[k - 1], &t) > 0;
			    k--)
				e->kids[k] = e->kids[k - 1];
			e->kids[k] = t;
		}
		return 0;
	default:
		break;
	}
	e->cost = leaf_cost(n);
	if (node_is_text(n->op)) {
		if (p->set.text_fn != NULL) {
			r = p->set.text_fn(p->set.text_arg, n, &e->uids,
			    error_r);
			if (r < 0)
				return -1;
			if (r == 0) {
				e->answered = true;
				e->cost = COST_RECORD;
				return 0;
			}
			imap_seqset_clear(&e->uids);
		}
		imap_text_match_init(&e->match, n->str, n->len);
		e->has_match = true;
	}
	return 0;
}

/* set_resolve - "*" of one set */
static void
set_resolve(struct imap_seqset *s, uint32_t max)
{
	if (s != NULL)
		(void)imap_seqset_resolve(s, max, true);
}

/* imap_search_resolve - "*" in every set of the program */
void
imap_search_resolve(struct imap_search_node *n, uint32_t exists,
    uint32_t max_uid)
{
	struct imap_search_node *c;

	if (n->op == IMAP_SEARCH_SEQSET)
		set_resolve(n->set, exists);
	else if (n->op == IMAP_SEARCH_UIDSET)
		set_resolve(n->set, max_uid);
	/* the parser bounds the depth, so recursion is safe */
	for (c = n->children; c != NULL; c = c->next)
		imap_search_resolve(c, exists, max_uid);
}

/* imap_search_prepare - compile, asking the text hook */
int
imap_search_prepare(const struct imap_search_node *root,
    const struct imap_search_settings *set,
    const struct imap_search_source *src, struct imap_search_prog **prog_r,
    const char **error_r)
{
	struct imap_search_prog *p;

	p = xcalloc(1, sizeof(*p));
	p->set = *set;
	p->src = *src;
	buf_init(&p->tmp, 0);
	if (compile(p, root, &p->root, error_r) < 0) {
		imap_search_prog_free(&p);
		return -1;
	}
	*prog_r = p;
	return 0;
}

/* msg_reset - drop the per-message state */
static void
msg_reset(struct imap_search_prog *p)
{
	if (p->have_sum)
		mime_summary_deinit(&p->sum);
	p->have_sum = false;
	p->cache_tried = false;
	p->m = NULL;
}

/* imap_search_prog_free - free a program */
void
imap_search_prog_free(struct imap_search_prog **pp)
{
	struct imap_search_prog *p = *pp;

	if (p == NULL)
		return;
	msg_reset(p);
	enode_deinit(&p->root);
	buf_deinit(&p->tmp);
	free(p);
	*pp = NULL;
}

/* imap_search_prog_needs_cache - more than the index record needed */
bool
imap_search_prog_needs_cache(const struct imap_search_prog *p)
{
	return p->root.cost != COST_RECORD;
}

/* get_message - the message bytes of the current message */
static int
get_message(struct imap_search_prog *p, const char **error_r)
{
	if (p->m->data != NULL)
		return 0;
	if (p->src.message == NULL) {
		*error_r = "Message not available";
		return -1;
	}
	if (p->src.message(p->src.arg, p->m, error_r) < 0)
		return -1;
	if (p->m->data == NULL) {
		p->m->data = "";
		p->m->len = 0;
	}
	return 0;
}

/* get_cache - the cached summary of the current message, made from the
 * message when the store has none */
static const struct store_cache *
get_cache(struct imap_search_prog *p, const char **error_r)
{
	int r = 0;

	if (p->m->cache != NULL)
		return p->m->cache;
	if (!p->cache_tried) {
		p->cache_tried = true;
		if (p->src.cache != NULL &&
		    (r = p->src.cache(p->src.arg, p->m, error_r)) < 0)
			return NULL;
		if (r > 0 && p->m->cache != NULL)
			return p->m->cache;
	}
	if (get_message(p, error_r) < 0)
		return NULL;
	mime_summarize(p->m->data, p->m->len, &p->sum);
	p->have_sum = true;
	memset(&p->own, 0, sizeof(p->own));
	p->own.header_size = p->sum.header_size;
	p->own.sent_date = p->sum.sent_date;
	p->own.envelope = p->sum.envelope;
	p->own.bodystructure = p->sum.bodystructure;
	p->own.body = p->sum.body;
	p->own.header_fields = p->sum.header_fields;
	p->own.message_id = p->sum.message_id;
	p->own.in_reply_to = p->sum.in_reply_to;
	p->own.references = p->sum.references;
	p->own.base_subject = p->sum.base_subject;
	p->m->cache = &p->own;
	return p->m->cache;
}

/* day_of - the day number of t shown in a zone */
static int64_t
day_of(int64_t t, int tz_minutes)
{
	int64_t s = t + (int64_t)tz_minutes * 60;

	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

/* sent_day - the day of the Date: field as written */
static int
sent_day(struct imap_search_prog *p, int64_t *day_r, const char **error_r)
{
	const struct store_cache *c;
	const char *fn, *v;
	size_t pos = 0, fnl, vl;
	int64_t d;

	if ((c = get_cache(p, error_r)) == NULL)
		return -1;
	if (c->header_fields != NULL) {
		while (header_next(c->header_fields,
		    strlen(c->header_fields), &pos, &fn, &fnl, &v, &vl)) {
			if (fnl != 4 || strncasecmp(fn, "Date", 4) != 0)
				continue;
			if ((d = imap_search_date_days(v, vl)) >= 0) {
				*day_r = d;
				return 0;
			}
			break;
		}
	}
	/* XXX: without a readable Date: the INTERNALDATE stands in, as
	 * RFC 5256 does for SORT; RFC 9051 does not say */
	*day_r = day_of(c->sent_date != 0 ? c->sent_date :
	    p->m->msg->internaldate, 0);
	return 0;
}

/* match_feed_conv - convert a piece and feed it to the matcher */
static bool
match_feed_conv(struct imap_search_prog *p, struct imap_text_match *mt,
    struct imap_text_conv *cv, const char *s, size_t n, bool final)
{
	buf_reset(&p->tmp);
	imap_text_conv_feed(cv, s, n, final, &p->tmp);
	return imap_text_match_feed(mt, buf_ptr(&p->tmp), buf_avail(&p->tmp));
}

/* what a body search carries through imap_body_walk() */
struct body_search {
	struct imap_search_prog *p;
	struct imap_text_match *mt;
	char		*chunk;
	bool		 found;
};

/* is_text_leaf - the parts BODY looks at */
static bool
is_text_leaf(const struct imap_body_leaf *leaf)
{
	return strcasecmp(leaf->type, "TEXT") == 0;
}

/* search_part - feed one decoded part to the matcher */
static bool
search_part(const struct imap_body_leaf *leaf, void *arg)
{
	struct body_search *bs = arg;
	struct imap_search_prog *p = bs->p;
	struct imap_section sec;
	struct imap_decoder d;
	struct imap_text_conv cv;
	struct imap_part_ref ref;
	const char *err;
	size_t k;
	bool have_ref = false;

	if (!is_text_leaf(leaf))
		return true;
	memset(&sec, 0, sizeof(sec));
	sec.kind = IMAP_SECTION_ALL;
	sec.nparts = leaf->npath;
	memcpy(sec.parts, leaf->path, leaf->npath * sizeof(sec.parts[0]));
	if (imap_section_binary_open(p->m->data, p->m->len, &sec, &d,
	    &err) < 0) {
		/* an unknown encoding: the bytes as they are */
		imap_section_fetch(p->m->data, p->m->len, &sec, &ref);
		have_ref = true;
		imap_decoder_init(&d, IMAP_CTE_IDENTITY, ref.data, ref.len);
	}
	imap_text_match_reset(bs->mt);
	imap_text_conv_init(&cv, leaf->charset);
	while ((k = imap_decoder_read(&d, bs->chunk, EVAL_CHUNK)) > 0) {
		if (match_feed_conv(p, bs->mt, &cv, bs->chunk, k, false))
			break;
	}
	if (!bs->mt->found)
		match_feed_conv(p, bs->mt, &cv, "", 0, true);
	imap_text_conv_deinit(&cv);
	if (have_ref)
		imap_part_ref_deinit(&ref);
	bs->found = bs->mt->found;
	return !bs->found;
}

/* body_fallback - a body we cannot walk: the bytes after the header */
static bool
body_fallback(struct imap_search_prog *p, struct imap_text_match *mt,
    size_t hlen)
{
	struct imap_text_conv cv;
	size_t off = hlen, k;
	bool found = false;

	imap_text_match_reset(mt);
	imap_text_conv_init(&cv, NULL);
	while (!found && off < p->m->len) {
		k = p->m->len - off > EVAL_CHUNK ? EVAL_CHUNK : p->m->len - off;
		found = match_feed_conv(p, mt, &cv, p->m->data + off, k, false);
		off += k;
	}
	if (!found)
		found = match_feed_conv(p, mt, &cv, "", 0, true);
	imap_text_conv_deinit(&cv);
	return found;
}

/* match_body - the needle in the decoded text parts */
static int
match_body(struct imap_search_prog *p, struct imap_text_match *mt,
    const char **error_r)
{
	const struct store_cache *c;
	struct imap_sx_doc *doc = NULL;
	const struct imap_sx *bs;
	struct body_search s;
	size_t hlen;

	if ((c = get_cache(p, error_r)) == NULL ||
	    get_message(p, error_r) < 0)
		return -1;
	if (mt->found)
		return 1;	/* the empty string */
	if (c->bodystructure == NULL || imap_sx_parse(c->bodystructure,
	    strlen(c->bodystructure), &doc, &bs) < 0) {
		hlen = header_len(p->m->data, p->m->len);
		return body_fallback(p, mt, hlen) ? 1 : 0;
	}
	memset(&s, 0, sizeof(s));
	s.p = p;
	s.mt = mt;
	s.chunk = xmalloc(EVAL_CHUNK);
	if (imap_body_walk(bs, search_part, &s) < 0) {
		hlen = header_len(p->m->data, p->m->len);
		s.found = body_fallback(p, mt, hlen);
	}
	free(s.chunk);
	imap_sx_free(&doc);
	return s.found ? 1 : 0;
}

/* field_name - the header field a key looks in */
static const char *
field_name(const struct imap_search_node *n)
{
	switch (n->op) {
	case IMAP_SEARCH_BCC:
		return "Bcc";
	case IMAP_SEARCH_CC:
		return "Cc";
	case IMAP_SEARCH_FROM:
		return "From";
	case IMAP_SEARCH_SUBJECT:
		return "Subject";
	case IMAP_SEARCH_TO:
		return "To";
	default:
		return n->header;
	}
}

/* match_field - the needle in the decoded values of a header field */
static int
match_field(struct imap_search_prog *p, struct enode *e,
    const char **error_r)
{
	const struct store_cache *c;
	const char *hdr;
	size_t hlen;
	bool found;

	if (e->cost == COST_CACHE) {
		if ((c = get_cache(p, error_r)) == NULL)
			return -1;
		hdr = c->header_fields != NULL ? c->header_fields : "";
		hlen = strlen(hdr);
	} else {
		if (get_message(p, error_r) < 0)
			return -1;
		hdr = p->m->data;
		hlen = header_len(p->m->data, p->m->len);
	}
	buf_reset(&p->tmp);
	imap_search_header_values(hdr, hlen, field_name(e->n), &p->tmp,
	    &found);
	/* RFC 9051 6.4.4: HEADER with an empty string matches every
	 * message that has the field */
	if (e->n->len == 0)
		return e->op == IMAP_SEARCH_HEADER ? (found ? 1 : 0) : 1;
	if (!found)
		return 0;
	imap_text_match_reset(&e->match);
	return imap_text_match_feed(&e->match, buf_ptr(&p->tmp),
	    buf_avail(&p->tmp)) ? 1 : 0;
}

/* match_text - TEXT: the header, then the body */
static int
match_text(struct imap_search_prog *p, struct enode *e, const char **error_r)
{
	size_t hlen;

	if (get_message(p, error_r) < 0)
		return -1;
	if (e->n->len == 0)
		return 1;
	hlen = header_len(p->m->data, p->m->len);
	buf_reset(&p->tmp);
	header_all(p->m->data, hlen, &p->tmp);
	imap_text_match_reset(&e->match);
	if (imap_text_match_feed(&e->match, buf_ptr(&p->tmp),
	    buf_avail(&p->tmp)))
		return 1;
	return match_body(p, &e->match, error_r);
}

/* match_objectid - EMAILID and THREADID */
static int
match_objectid(struct imap_search_prog *p, const struct enode *e,
    const char **error_r)
{
	const struct store_cache *c;
	char id[IMAP_OBJECTID_SIZE];

	if ((c = get_cache(p, error_r)) == NULL)
		return -1;
	if (e->op == IMAP_SEARCH_EMAILID)
		imap_objectid_email(p->m->msg, c, id);
	else if (!imap_objectid_thread(c, id))
		return 0;
	return strcmp(id, e->n->str) == 0 ? 1 : 0;
}

/* in_set - SEQSET and UIDSET */
static bool
in_set(const struct imap_search_prog *p, const struct imap_search_node *n,
    uint32_t v)
{
	if (n->saved)
		return p->set.saved != NULL &&
		    imap_seqset_contains(p->set.saved, p->m->msg->uid);
	return n->set != NULL && imap_seqset_contains(n->set, v);
}

/* eval - one compiled node */
static int
eval(struct imap_search_prog *p, struct enode *e, const char **error_r)
{
	const struct store_msg *msg = p->m->msg;
	int64_t day, want;
	unsigned int flags;
	size_t i;
	int r;

	if (e->answered)
		return imap_seqset_contains(&e->uids, msg->uid) ? 1 : 0;
	switch (e->op) {
	case IMAP_SEARCH_ALL:
		return 1;
	case IMAP_SEARCH_AND:
		for (i = 0; i < e->nkids; i++)
			if ((r = eval(p, &e->kids[i], error_r)) <= 0)
				return r;
		return 1;
	case IMAP_SEARCH_OR:
		for (i = 0; i < e->nkids; i++)
			if ((r = eval(p, &e->kids[i], error_r)) != 0)
				return r;
		return 0;
	case IMAP_SEARCH_NOT:
		if (e->nkids == 0)
			return 1;
		if ((r = eval(p, &e->kids[0], error_r)) < 0)
			return -1;
		return !r;
	case IMAP_SEARCH_SEQSET:
		return in_set(p, e->n, p->m->seq) ? 1 : 0;
	case IMAP_SEARCH_UIDSET:
		return in_set(p, e->n, msg->uid) ? 1 : 0;
	case IMAP_SEARCH_FLAG:
		flags = flags_from_store(msg->flags);
		if (p->m->recent)
			flags |= IMAP_FLAG_RECENT;
		return (flags & e->n->flag) != 0 ? 1 : 0;
	case IMAP_SEARCH_KEYWORD:
		return imap_keywords_have(msg->keywords, e->n->str) ? 1 : 0;
	case IMAP_SEARCH_BEFORE:
	case IMAP_SEARCH_ON:
	case IMAP_SEARCH_SINCE:
		day = day_of(msg->internaldate, p->set.tz_minutes);
		want = imap_date_days(&e->n->date);
		goto dates;
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
		if (sent_day(p, &day, error_r) < 0)
			return -1;
		want = imap_date_days(&e->n->date);
		goto dates;
	case IMAP_SEARCH_SAVEDBEFORE:
	case IMAP_SEARCH_SAVEDON:
	case IMAP_SEARCH_SAVEDSINCE:
	case IMAP_SEARCH_SAVEDATESUPPORTED:
		/* no save dates are kept (SAVEDATE is not offered) */
		return 0;
	case IMAP_SEARCH_OLDER:
		return p->set.now - msg->internaldate > (int64_t)e->n->number ?
		    1 : 0;
	case IMAP_SEARCH_YOUNGER:
		return p->set.now - msg->internaldate <= (int64_t)e->n->number ?
		    1 : 0;
	case IMAP_SEARCH_LARGER:
		return msg->size > e->n->number ? 1 : 0;
	case IMAP_SEARCH_SMALLER:
		return msg->size < e->n->number ? 1 : 0;
	case IMAP_SEARCH_MODSEQ:
		return msg->modseq >= e->n->number ? 1 : 0;
	case IMAP_SEARCH_EMAILID:
	case IMAP_SEARCH_THREADID:
		return match_objectid(p, e, error_r);
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_TO:
	case IMAP_SEARCH_HEADER:
		return match_field(p, e, error_r);
	case IMAP_SEARCH_BODY:
		if (get_message(p, error_r) < 0)
			return -1;
		imap_text_match_reset(&e->match);
		return match_body(p, &e->match, error_r);
	case IMAP_SEARCH_TEXT:
		return match_text(p, e, error_r);
	}
	*error_r = "Unknown search key";
	return -1;
dates:
	switch (e->op) {
	case IMAP_SEARCH_BEFORE:
	case IMAP_SEARCH_SENTBEFORE:
		return day < want ? 1 : 0;
	case IMAP_SEARCH_ON:
	case IMAP_SEARCH_SENTON:
		return day == want ? 1 : 0;
	default:
		return day >= want ? 1 : 0;
	}
}

/* imap_search_match - the program against one message */
int
imap_search_match(struct imap_search_prog *p, struct imap_search_msg *m,
    const char **error_r)
{
	int r;

	msg_reset(p);
	p->m = m;
	r = eval(p, &p->root, error_r);
	/* the summary made here points into p->sum: do not leave it in m */
	if (p->have_sum && m->cache == &p->own)
		m->cache = NULL;
	msg_reset(p);
	return r;
}

/* fnv - 64-bit FNV-1a over bytes, continuing from h */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT	0xcbf29ce484222325ULL

/* fnv_u64 - a number into the digest, little-endian */
static uint64_t
fnv_u64(uint64_t h, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return fnv(h, b, sizeof(b));
}

/* imap_objectid_email - RFC 8474 EMAILID */
void
imap_objectid_email(const struct store_msg *msg,
    const struct store_cache *cache, char *id)
{
	uint64_t h = FNV_INIT;

	/* XXX: a digest of what copies share, not a stored id: two
	 * deliveries of one message (same Message-ID, Date, arrival second
	 * and sizes) get the same EMAILID, which RFC 8474 allows for the
	 * same content */
	if (cache != NULL && cache->message_id != NULL)
		h = fnv(h, cache->message_id, strlen(cache->message_id) + 1);
	h = fnv_u64(h, cache != NULL ? (uint64_t)cache->sent_date : 0);
	h = fnv_u64(h, cache != NULL ? cache->header_size : 0);
	h = fnv_u64(h, (uint64_t)msg->internaldate);
	h = fnv_u64(h, msg->size);
	snprintf(id, IMAP_OBJECTID_SIZE, "M%016llx", (unsigned long long)h);
}

/* imap_objectid_thread - RFC 8474 THREADID of the thread's root id */
bool
imap_objectid_thread(const struct store_cache *cache, char *id)
{
	const char *root = NULL;
	size_t n;

	if (cache == NULL)
		return false;
	if (cache->references != NULL && cache->references[0] != '\0')
		root = cache->references;
	else if (cache->in_reply_to != NULL && cache->in_reply_to[0] != '\0')
		root = cache->in_reply_to;
	else if (cache->message_id != NULL && cache->message_id[0] != '\0')
		root = cache->message_id;
	if (root == NULL)
		return false;
	n = strcspn(root, " ");
	snprintf(id, IMAP_OBJECTID_SIZE, "T%016llx",
	    (unsigned long long)fnv(FNV_INIT, root, n));
	return true;
}
