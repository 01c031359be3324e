/* imap_summary.c - cached ENVELOPE and BODYSTRUCTURE strings read back */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmalloc.h"

#include "imap_summary.h"

/* part numbers kept while walking; deeper parts are not leaves we see */
#define SUMMARY_MAX_PATH	100

/* allocations of one document, freed together */
struct sx_chunk {
	struct sx_chunk	*next;
	char		 data[];
};

struct imap_sx_doc {
	struct sx_chunk	*chunks;
	struct imap_sx	 root;
};

struct sx_parser {
	struct imap_sx_doc *doc;
	const char	*s;
	size_t		 n;
	size_t		 i;
};

/* sx_alloc - zeroed memory owned by the document */
static void *
sx_alloc(struct imap_sx_doc *doc, size_t size)
{
	struct sx_chunk *c;

	c = xcalloc(1, sizeof(*c) + size + 1);
	c->next = doc->chunks;
	doc->chunks = c;
	return c->data;
}

/* is_atom_char - what may appear in an atom or number here */
static bool
is_atom_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '(' && c != ')' && c != '"' &&
	    c != '{';
}

static int sx_value(struct sx_parser *, struct imap_sx *, unsigned int);

/* sx_quoted - a quoted string at p->i (just after the '"') */
static int
sx_quoted(struct sx_parser *p, struct imap_sx *x)
{
	size_t j, k;
	char *o;

	for (j = p->i; j < p->n && p->s[j] != '"'; j++)
		if (p->s[j] == '\\')
			j++;
	if (j >= p->n)
		return -1;
	o = sx_alloc(p->doc, j - p->i);
	for (k = 0; p->i < j; p->i++) {
		if (p->s[p->i] == '\\')
			p->i++;
		o[k++] = p->s[p->i];
	}
	p->i = j + 1;
	x->type = IMAP_SX_STRING;
	x->str = o;
	x->len = k;
	return 0;
}

/* sx_literal - "{n}\r\n" and n bytes, at p->i (just after the '{') */
static int
sx_literal(struct sx_parser *p, struct imap_sx *x)
{
	size_t len = 0;
	char *o;

	if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
		return -1;
	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
		if (len > p->n)
			return -1;
		len = len * 10 + (size_t)(p->s[p->i++] - '0');
	}
	if (p->n - p->i < 3 || memcmp(p->s + p->i, "}\r\n", 3) != 0)
		return -1;
	p->i += 3;
	if (len > p->n - p->i)
		return -1;
	o = sx_alloc(p->doc, len);
	memcpy(o, p->s + p->i, len);
	p->i += len;
	x->type = IMAP_SX_STRING;
	x->str = o;
	x->len = len;
	return 0;
}

/* sx_list - members up to ')' at p->i (just after the '(') */
static int
sx_list(struct sx_parser *p, struct imap_sx *x, unsigned int depth)
{
	struct imap_sx *v = NULL;
	size_t n = 0, alloc = 0;

	x->type = IMAP_SX_LIST;
	for (;;) {
		if (p->i >= p->n)
			goto bad;
		if (p->s[p->i] == ')') {
			p->i++;
			break;
		}
		/* members are separated by one space, except that lists
		 * follow each other directly: "(body)(body) subtype" */
		if (n > 0) {
			if (p->s[p->i] == ' ')
				p->i++;
			else if (p->s[p->i] != '(' ||
			    v[n - 1].type != IMAP_SX_LIST)
				goto bad;
		}
		if (n == alloc) {
			alloc = alloc == 0 ? 8 : alloc * 2;
			v = xreallocarray(v, alloc, sizeof(*v));
		}
		memset(&v[n], 0, sizeof(v[n]));
		if (sx_value(p, &v[n], depth + 1) < 0)
			goto bad;
		n++;
	}
	if (n > 0) {
		x->list = sx_alloc(p->doc, n * sizeof(*v));
		memcpy(x->list, v, n * sizeof(*v));
	}
	x->count = n;
	free(v);
	return 0;
bad:
	free(v);
	return -1;
}

/* sx_value - one value at p->i */
static int
sx_value(struct sx_parser *p, struct imap_sx *x, unsigned int depth)
{
	size_t j;
	char *o;

	if (depth > IMAP_SX_MAX_DEPTH || p->i >= p->n)
		return -1;
	switch (p->s[p->i]) {
	case '(':
		p->i++;
		return sx_list(p, x, depth);
	case '"':
		p->i++;
		return sx_quoted(p, x);
	case '{':
		p->i++;
		return sx_literal(p, x);
	default:
		break;
	}
	for (j = p->i; j < p->n && is_atom_char((unsigned char)p->s[j]); j++)
		;
	if (j == p->i)
		return -1;
	if (j - p->i == 3 && strncasecmp(p->s + p->i, "NIL", 3) == 0) {
		x->type = IMAP_SX_NIL;
		p->i = j;
		return 0;
	}
	o = sx_alloc(p->doc, j - p->i);
	memcpy(o, p->s + p->i, j - p->i);
	x->type = IMAP_SX_ATOM;
	x->str = o;
	x->len = j - p->i;
	p->i = j;
	return 0;
}

/* imap_sx_free - free a document and everything in it */
void
imap_sx_free(struct imap_sx_doc **docp)
{
	struct imap_sx_doc *doc = *docp;
	struct sx_chunk *c, *next;

	if (doc == NULL)
		return;
	for (c = doc->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(doc);
	*docp = NULL;
}

/* imap_sx_parse - one value, the whole input */
int
imap_sx_parse(const char *s, size_t n, struct imap_sx_doc **doc_r,
    const struct imap_sx **root_r)
{
	struct sx_parser p;
	struct imap_sx_doc *doc;

	doc = xcalloc(1, sizeof(*doc));
	p.doc = doc;
	p.s = s;
	p.n = n;
	p.i = 0;
	if (s == NULL || sx_value(&p, &doc->root, 0) < 0 || p.i != n) {
		imap_sx_free(&doc);
		return -1;
	}
	*doc_r = doc;
	*root_r = &doc->root;
	return 0;
}

/* imap_sx_str - the text of a string or atom */
const char *
imap_sx_str(const struct imap_sx *x)
{
	if (x == NULL || (x->type != IMAP_SX_STRING && x->type != IMAP_SX_ATOM))
		return NULL;
	return x->str;
}

/* imap_envelope_first_addr - first real address of an address field */
int
imap_envelope_first_addr(const struct imap_sx *env,
    enum imap_env_field field, struct imap_addr *a_r)
{
	const struct imap_sx *list, *a;
	size_t i;

	memset(a_r, 0, sizeof(*a_r));
	if (env == NULL || env->type != IMAP_SX_LIST ||
	    env->count <= (size_t)field)
		return 0;
	list = &env->list[field];
	if (list->type != IMAP_SX_LIST)
		return 0;
	for (i = 0; i < list->count; i++) {
		a = &list->list[i];
		if (a->type != IMAP_SX_LIST || a->count != 4)
			continue;
		/* group start (host NIL) and end (mailbox NIL) markers */
		if (a->list[3].type == IMAP_SX_NIL)
			continue;
		a_r->name = imap_sx_str(&a->list[0]);
		a_r->mailbox = imap_sx_str(&a->list[2]);
		a_r->host = imap_sx_str(&a->list[3]);
		return 1;
	}
	return 0;
}

/* the header fields common/mime.c copies into header_fields */
static const char *const cached_fields[] = {
	"From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
	"Content-Type", "References", "In-Reply-To", "Reply-To", "Sender",
	"List-Id", "Priority", "X-Priority"
};

/* imap_summary_field_cached - whether header_fields holds the field */
bool
imap_summary_field_cached(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cached_fields) / sizeof(cached_fields[0]); i++)
		if (strcasecmp(name, cached_fields[i]) == 0)
			return true;
	return false;
}

/* what a walk carries */
struct body_walk {
	bool		(*fn)(const struct imap_body_leaf *, void *);
	void		*arg;
	uint32_t	 path[SUMMARY_MAX_PATH];
	bool		 stop;
};

/* param_value - a parameter of a body-fld-param list, or NULL */
static const char *
param_value(const struct imap_sx *params, const char *name)
{
	const char *k;
	size_t i;

	if (params->type != IMAP_SX_LIST)
		return NULL;
	for (i = 0; i + 1 < params->count; i += 2) {
		k = imap_sx_str(&params->list[i]);
		if (k != NULL && strcasecmp(k, name) == 0)
			return imap_sx_str(&params->list[i + 1]);
	}
	return NULL;
}

static int walk_body(struct body_walk *, const struct imap_sx *, size_t,
    bool);

/* walk_multi - the children of a multipart at path[0..depth) */
static int
walk_multi(struct body_walk *w, const struct imap_sx *b, size_t depth)
{
	size_t i;

	if (depth >= SUMMARY_MAX_PATH)
		return 0;
	for (i = 0; i < b->count && b->list[i].type == IMAP_SX_LIST; i++) {
		w->path[depth] = (uint32_t)(i + 1);
		if (walk_body(w, &b->list[i], depth + 1, false) < 0)
			return -1;
		if (w->stop)
			return 0;
	}
	if (i == 0)
		return -1;
	return 0;
}

/*
 * walk_body - one body whose part number is path[0..depth); top: the
 * body of the message itself (or of a message/rfc822 part), whose single
 * part is numbered ".1" below its container
 */
static int
walk_body(struct body_walk *w, const struct imap_sx *b, size_t depth,
    bool top)
{
	struct imap_body_leaf leaf;
	const char *type, *subtype;

	if (b->type != IMAP_SX_LIST || b->count == 0)
		return -1;
	if (b->list[0].type == IMAP_SX_LIST)
		return walk_multi(w, b, depth);
	if (top) {
		if (depth >= SUMMARY_MAX_PATH)
			return 0;
		w->path[depth++] = 1;
	}
	if (b->count < 7)
		return -1;
	type = imap_sx_str(&b->list[0]);
	subtype = imap_sx_str(&b->list[1]);
	if (type == NULL || subtype == NULL)
		return -1;
	if (strcasecmp(type, "MESSAGE") == 0 &&
	    strcasecmp(subtype, "RFC822") == 0 && b->count >= 10 &&
	    b->list[8].type == IMAP_SX_LIST) {
		/* the inner message: a multipart's children are depth.N, a
		 * single body is depth.1 */
		return walk_body(w, &b->list[8], depth, true);
	}
	memset(&leaf, 0, sizeof(leaf));
	leaf.path = w->path;
	leaf.npath = depth;
	leaf.type = type;
	leaf.subtype = subtype;
	leaf.charset = param_value(&b->list[2], "charset");
	leaf.encoding = imap_sx_str(&b->list[5]);
	if (!w->fn(&leaf, w->arg))
		w->stop = true;
	return 0;
}

/* imap_body_walk - every leaf part of a BODYSTRUCTURE */
int
imap_body_walk(const struct imap_sx *body,
    bool (*fn)(const struct imap_body_leaf *, void *), void *arg)
{
	struct body_walk w;

	memset(&w, 0, sizeof(w));
	w.fn = fn;
	w.arg = arg;
	return walk_body(&w, body, 0, true);
}
