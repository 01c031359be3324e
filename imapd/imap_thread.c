/* imap_thread.c - SORT, THREAD=ORDEREDSUBJECT, THREAD=REFERENCES */
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
#include "imap_summary.h"
#include "imap_text.h"
#include "imap_thread.h"

/* string copies are carved from chunks of this size (or one per big
 * string) */
#define SORT_CHUNK	65536

struct imap_sort_chunk {
	struct imap_sort_chunk *next;
	size_t		 used;
	size_t		 size;
	char		 data[];
};

/* imap_sort_set_init - an empty set */
void
imap_sort_set_init(struct imap_sort_set *set)
{
	memset(set, 0, sizeof(*set));
	set->need = IMAP_SORT_NEED_ALL;
}

/* imap_sort_need - what the criteria read */
unsigned int
imap_sort_need(const struct imap_sort_crit *crit, size_t n)
{
	unsigned int need = 0;
	size_t i;

	for (i = 0; i < n; i++)
		switch (crit[i].key) {
		case IMAP_SORT_CC:
		case IMAP_SORT_FROM:
		case IMAP_SORT_TO:
		case IMAP_SORT_DISPLAYFROM:
		case IMAP_SORT_DISPLAYTO:
			need |= IMAP_SORT_NEED_ADDRESSES;
			break;
		default:
			break;
		}
	return need;
}

/* imap_sort_set_deinit - free the messages and their strings */
void
imap_sort_set_deinit(struct imap_sort_set *set)
{
	struct imap_sort_chunk *c, *next;

	for (c = set->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(set->msgs);
	memset(set, 0, sizeof(*set));
}

/* set_strndup - a copy of s[0..n) owned by the set */
static const char *
set_strndup(struct imap_sort_set *set, const char *s, size_t n)
{
	struct imap_sort_chunk *c = set->chunks;
	char *p;

	if (c == NULL || c->size - c->used < n + 1) {
		size_t size = n + 1 > SORT_CHUNK ? n + 1 : SORT_CHUNK;

		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		if (set->chunks != NULL && n + 1 > SORT_CHUNK) {
			/* a big string: keep the current chunk in front */
			c->next = set->chunks->next;
			set->chunks->next = c;
		} else {
			c->next = set->chunks;
			set->chunks = c;
		}
	}
	p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	return p;
}

/* set_strdup - NULL stays NULL */
static const char *
set_strdup(struct imap_sort_set *set, const char *s)
{
	return s == NULL ? NULL : set_strndup(set, s, strlen(s));
}

/* set_push - a zeroed slot at the end */
static struct imap_sort_msg *
set_push(struct imap_sort_set *set)
{
	if (set->count == set->alloc) {
		set->alloc = set->alloc == 0 ? 64 : set->alloc * 2;
		set->msgs = xreallocarray(set->msgs, set->alloc,
		    sizeof(*set->msgs));
	}
	memset(&set->msgs[set->count], 0, sizeof(set->msgs[0]));
	return &set->msgs[set->count++];
}

/* imap_sort_set_add_msg - a message with given fields */
void
imap_sort_set_add_msg(struct imap_sort_set *set, const struct imap_sort_msg *m)
{
	struct imap_sort_msg *d = set_push(set);

	*d = *m;
	d->subject = set_strdup(set, m->subject != NULL ? m->subject : "");
	d->from = set_strdup(set, m->from != NULL ? m->from : "");
	d->to = set_strdup(set, m->to != NULL ? m->to : "");
	d->cc = set_strdup(set, m->cc != NULL ? m->cc : "");
	d->display_from = set_strdup(set, m->display_from != NULL ?
	    m->display_from : "");
	d->display_to = set_strdup(set, m->display_to != NULL ?
	    m->display_to : "");
	d->message_id = set_strdup(set, m->message_id);
	d->in_reply_to = set_strdup(set, m->in_reply_to);
	d->references = set_strdup(set, m->references);
}

/* display - RFC 5957 display form of an address: the decoded name, else
 * mailbox@host */
static const char *
display(struct imap_sort_set *set, const struct imap_addr *a,
    struct buf *tmp)
{
	size_t i;

	buf_reset(tmp);
	if (a->name != NULL)
		imap_text_decode_header(a->name, strlen(a->name), tmp);
	for (i = 0; i < buf_avail(tmp) && buf_ptr(tmp)[i] == ' '; i++)
		;
	if (i == buf_avail(tmp)) {
		buf_reset(tmp);
		if (a->mailbox != NULL)
			buf_append_str(tmp, a->mailbox);
		if (a->host != NULL && a->host[0] != '\0') {
			buf_append_byte(tmp, '@');
			buf_append_str(tmp, a->host);
		}
	}
	return set_strndup(set, buf_ptr(tmp), buf_avail(tmp));
}

/* subject_value - the decoded first Subject: of cached header lines */
static void
subject_value(const char *hdr, struct buf *out)
{
	const char *p = hdr, *nl, *end;

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, "Subject:", 8) == 0) {
			/* the value runs over continuation lines */
			end = p + 8;
			for (;;) {
				nl = strchr(end, '\n');
				if (nl == NULL) {
					end += strlen(end);
					break;
				}
				end = nl + 1;
				if (*end != ' ' && *end != '\t')
					break;
			}
			imap_text_decode_header(p + 8, (size_t)(end - p - 8),
			    out);
			return;
		}
		nl = strchr(p, '\n');
		p = nl == NULL ? NULL : nl + 1;
	}
}

/* imap_sort_set_add - a message from its record and cache */
void
imap_sort_set_add(struct imap_sort_set *set, uint32_t seq,
    const struct store_msg *msg, const struct store_cache *cache)
{
	struct imap_sort_msg *d = set_push(set);
	struct imap_sx_doc *doc = NULL;
	const struct imap_sx *env = NULL;
	struct imap_addr a;
	struct buf tmp;

	d->seq = seq;
	d->uid = msg->uid;
	d->arrival = msg->internaldate;
	d->size = msg->size;
	d->date = cache != NULL && cache->sent_date != 0 ? cache->sent_date :
	    msg->internaldate;
	d->subject = d->from = d->to = d->cc = "";
	d->display_from = d->display_to = "";
	if (cache == NULL)
		return;
	buf_init(&tmp, 0);
	d->subject = set_strdup(set, cache->base_subject != NULL ?
	    cache->base_subject : "");
	d->message_id = set_strdup(set, cache->message_id);
	d->in_reply_to = set_strdup(set, cache->in_reply_to);
	d->references = set_strdup(set, cache->references);
	if ((set->need & IMAP_SORT_NEED_REPLY) != 0 &&
	    cache->header_fields != NULL) {
		subject_value(cache->header_fields, &tmp);
		d->is_reply = imap_subject_is_reply(buf_cstr(&tmp));
	}
	if ((set->need & IMAP_SORT_NEED_ADDRESSES) != 0 &&
	    cache->envelope != NULL && imap_sx_parse(cache->envelope,
	    strlen(cache->envelope), &doc, &env) == 0) {
		if (imap_envelope_first_addr(env, IMAP_ENV_FROM, &a) == 1) {
			d->from = set_strdup(set, a.mailbox != NULL ?
			    a.mailbox : "");
			d->display_from = display(set, &a, &tmp);
		}
		if (imap_envelope_first_addr(env, IMAP_ENV_TO, &a) == 1) {
			d->to = set_strdup(set, a.mailbox != NULL ?
			    a.mailbox : "");
			d->display_to = display(set, &a, &tmp);
		}
		if (imap_envelope_first_addr(env, IMAP_ENV_CC, &a) == 1)
			d->cc = set_strdup(set, a.mailbox != NULL ?
			    a.mailbox : "");
		imap_sx_free(&doc);
	}
	buf_deinit(&tmp);
}

/*
 * SORT
 */

/* the criteria of the running sort (qsort has no context argument) */
static __thread const struct imap_sort_crit *sort_crit;
static __thread size_t sort_ncrit;

/* cmp_num - three-way compare */
#define CMP(a, b)	((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

/* sort_cmp - the criteria in order, then the sequence number */
static int
sort_cmp(const void *pa, const void *pb)
{
	const struct imap_sort_msg *a = pa, *b = pb;
	size_t i;
	int r;

	for (i = 0; i < sort_ncrit; i++) {
		switch (sort_crit[i].key) {
		case IMAP_SORT_ARRIVAL:
			r = CMP(a->arrival, b->arrival);
			break;
		case IMAP_SORT_CC:
			r = strcasecmp(a->cc, b->cc);
			break;
		case IMAP_SORT_DATE:
			r = CMP(a->date, b->date);
			break;
		case IMAP_SORT_FROM:
			r = strcasecmp(a->from, b->from);
			break;
		case IMAP_SORT_SIZE:
			r = CMP(a->size, b->size);
			break;
		case IMAP_SORT_SUBJECT:
			r = strcasecmp(a->subject, b->subject);
			break;
		case IMAP_SORT_TO:
			r = strcasecmp(a->to, b->to);
			break;
		case IMAP_SORT_DISPLAYFROM:
			r = imap_text_casecmp(a->display_from,
			    b->display_from);
			break;
		case IMAP_SORT_DISPLAYTO:
			r = imap_text_casecmp(a->display_to, b->display_to);
			break;
		default:
			r = 0;
			break;
		}
		if (r != 0)
			return sort_crit[i].reverse ? -r : r;
	}
	return CMP(a->seq, b->seq);
}

/* imap_sort_run - sort the set */
void
imap_sort_run(struct imap_sort_set *set, const struct imap_sort_crit *crit,
    size_t ncrit)
{
	sort_crit = crit;
	sort_ncrit = ncrit;
	if (set->count > 1)
		qsort(set->msgs, set->count, sizeof(set->msgs[0]), sort_cmp);
	sort_crit = NULL;
	sort_ncrit = 0;
}

/* imap_subject_is_reply - RFC 5256 2.1, the "reply or forward" test;
 * the base subject rules are mime.c's, which made the cached one */
bool
imap_subject_is_reply(const char *subject)
{
	char *t;
	bool reply;

	t = xstrdup(subject);
	reply = mime_subject_strip(t);
	free(t);
	return reply;
}

/*
 * THREAD
 */

/* a container of RFC 5256 section 4; msg NULL: a dummy */
struct tnode {
	struct imap_sort_msg *msg;
	struct tnode	*parent;
	struct tnode	*child;		/* first child */
	struct tnode	*last;		/* last child */
	struct tnode	*prev, *next;	/* siblings */
	size_t		 nkids;
	bool		 removed;
};

/* every container, for freeing and for walks over all of them */
struct tforest {
	struct tnode	**v;
	size_t		 n;
	size_t		 alloc;
	struct tnode	 root;		/* children: the root set */
};

/* tnode_new - a container, remembered by the forest */
static struct tnode *
tnode_new(struct tforest *f, struct imap_sort_msg *msg)
{
	struct tnode *t = xcalloc(1, sizeof(*t));

	t->msg = msg;
	if (f->n == f->alloc) {
		f->alloc = f->alloc == 0 ? 256 : f->alloc * 2;
		f->v = xreallocarray(f->v, f->alloc, sizeof(*f->v));
	}
	f->v[f->n++] = t;
	return t;
}

/* tforest_free - every container */
static void
tforest_free(struct tforest *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
}

/* unlink_node - take t out of its parent's children */
static void
unlink_node(struct tnode *t)
{
	struct tnode *p = t->parent;

	if (p == NULL)
		return;
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		p->child = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	else
		p->last = t->prev;
	p->nkids--;
	t->parent = t->prev = t->next = NULL;
}

/* add_child - append t to p's children */
static void
add_child(struct tnode *p, struct tnode *t)
{
	t->parent = p;
	t->next = NULL;
	t->prev = p->last;
	if (p->last != NULL)
		p->last->next = t;
	else
		p->child = t;
	p->last = t;
	p->nkids++;
}

/* is_ancestor - a is b or above b */
static bool
is_ancestor(const struct tnode *a, const struct tnode *b)
{
	/* a container without children is above nobody: the usual case of
	 * a message linked for the first time costs nothing.  XXX: else
	 * linear in the depth of b */
	if (a->child == NULL)
		return a == b;
	for (; b != NULL; b = b->parent)
		if (a == b)
			return true;
	return false;
}

/* string -> container map, open addressing */
struct idmap {
	const char	**keys;
	struct tnode	**vals;
	size_t		 cap;		/* power of two */
	size_t		 n;
};

/* hash_str - FNV-1a of a string, case-sensitive or ASCII-folded */
static uint64_t
hash_str(const char *s, bool fold)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned char c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (fold && c >= 'A' && c <= 'Z')
			c += 32;
		h ^= c;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* idmap_slot - the slot of key (found or free) */
static size_t
idmap_slot(const struct idmap *m, const char *key, bool fold)
{
	size_t i = (size_t)hash_str(key, fold) & (m->cap - 1);

	while (m->keys[i] != NULL && (fold ? strcasecmp(m->keys[i], key) :
	    strcmp(m->keys[i], key)) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* idmap_init - room for about n keys */
static void
idmap_init(struct idmap *m, size_t n)
{
	m->cap = 16;
	while (m->cap < n * 2 + 2)
		m->cap *= 2;
	m->keys = xcalloc(m->cap, sizeof(*m->keys));
	m->vals = xcalloc(m->cap, sizeof(*m->vals));
	m->n = 0;
}

/* idmap_deinit - the arrays (keys are borrowed) */
static void
idmap_deinit(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
}

/* idmap_get - the value of key or NULL */
static struct tnode *
idmap_get(const struct idmap *m, const char *key, bool fold)
{
	return m->vals[idmap_slot(m, key, fold)];
}

/* idmap_put - set key's value (key borrowed, must outlive the map) */
static void
idmap_put(struct idmap *m, const char *key, struct tnode *v, bool fold)
{
	size_t i, old_cap, k;
	const char **ok;
	struct tnode **ov;

	if ((m->n + 1) * 2 > m->cap) {
		old_cap = m->cap;
		ok = m->keys;
		ov = m->vals;
		m->cap *= 2;
		m->keys = xcalloc(m->cap, sizeof(*m->keys));
		m->vals = xcalloc(m->cap, sizeof(*m->vals));
		for (k = 0; k < old_cap; k++) {
			if (ok[k] == NULL)
				continue;
			i = idmap_slot(m, ok[k], fold);
			m->keys[i] = ok[k];
			m->vals[i] = ov[k];
		}
		free(ok);
		free(ov);
	}
	i = idmap_slot(m, key, fold);
	if (m->keys[i] == NULL)
		m->n++;
	m->keys[i] = key;
	m->vals[i] = v;
}

/* id_node - the container of a message id, made (as a dummy) if new */
static struct tnode *
id_node(struct tforest *f, struct idmap *ids, struct imap_sort_set *set,
    const char *id)
{
	struct tnode *t = idmap_get(ids, id, false);

	if (t == NULL) {
		t = tnode_new(f, NULL);
		idmap_put(ids, set_strdup(set, id), t, false);
	}
	return t;
}

/* next_id - the next space-separated id of *sp into a copy in tmp */
static const char *
next_id(const char **sp, struct buf *tmp)
{
	const char *s = *sp, *e;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return NULL;
	for (e = s; *e != '\0' && *e != ' '; e++)
		;
	*sp = e;
	buf_reset(tmp);
	buf_append(tmp, s, (size_t)(e - s));
	return buf_cstr(tmp);
}

/* first_msg - the message that stands for t when sorting: t's own, or
 * its first child's (a dummy) */
static const struct imap_sort_msg *
first_msg(const struct tnode *t)
{
	while (t != NULL && t->msg == NULL)
		t = t->child;
	return t != NULL ? t->msg : NULL;
}

/* tnode_cmp - by sent date, then mailbox order */
static int
tnode_cmp(const void *pa, const void *pb)
{
	const struct imap_sort_msg *a = first_msg(*(struct tnode *const *)pa);
	const struct imap_sort_msg *b = first_msg(*(struct tnode *const *)pb);

	if (a == NULL || b == NULL)
		return a == b ? 0 : a == NULL ? 1 : -1;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return CMP(a->seq, b->seq);
}

/* sort_kids - sort the children of p by date */
static void
sort_kids(struct tnode *p, struct tnode ***tmp, size_t *tmp_alloc)
{
	struct tnode *c;
	size_t i, n = 0;

	if (p->nkids < 2)
		return;
	if (*tmp_alloc < p->nkids) {
		*tmp_alloc = p->nkids;
		*tmp = xreallocarray(*tmp, *tmp_alloc, sizeof(**tmp));
	}
	for (c = p->child; c != NULL; c = c->next)
		(*tmp)[n++] = c;
	qsort(*tmp, n, sizeof(**tmp), tnode_cmp);
	p->child = p->last = NULL;
	p->nkids = 0;
	for (i = 0; i < n; i++)
		add_child(p, (*tmp)[i]);
}

/* link_refs - steps 1.A and 1.B for one message */
static void
link_refs(struct tforest *f, struct idmap *ids, struct imap_sort_set *set,
    struct tnode *cur, const struct imap_sort_msg *m, struct buf *tmp)
{
	struct tnode *prev = NULL, *t;
	const char *s, *id;

	s = m->references != NULL && m->references[0] != '\0' ?
	    m->references : m->in_reply_to;
	if (s != NULL) {
		while ((id = next_id(&s, tmp)) != NULL) {
			t = id_node(f, ids, set, id);
			/* 1.A: link consecutive references, keeping links
			 * that exist and never making a loop */
			if (prev != NULL && t->parent == NULL && t != prev &&
			    !is_ancestor(t, prev))
				add_child(prev, t);
			prev = t;
		}
	}
	/* 1.B: the last reference is the parent, replacing what a
	 * truncated References of another message made */
	if (cur->parent != NULL)
		unlink_node(cur);
	if (prev != NULL && prev != cur && !is_ancestor(cur, prev))
		add_child(prev, cur);
}

/* prune - step 4, children before parents (post-order, no recursion) */
static void
prune(struct tforest *f)
{
	struct tnode **order, **stack, *t, *c, *next, *p;
	size_t n = 0, sp = 0, i;

	order = xreallocarray(NULL, f->n + 1, sizeof(*order));
	stack = xreallocarray(NULL, f->n + 1, sizeof(*stack));
	/* reverse post-order: parents pushed first, reversed below */
	stack[sp++] = &f->root;
	while (sp > 0) {
		t = stack[--sp];
		order[n++] = t;
		for (c = t->child; c != NULL; c = c->next)
			stack[sp++] = c;
	}
	for (i = n; i-- > 0; ) {
		t = order[i];
		if (t == &f->root || t->msg != NULL)
			continue;
		p = t->parent;
		/* 4.A: a dummy without children goes */
		if (t->nkids == 0) {
			unlink_node(t);
			t->removed = true;
			continue;
		}
		/* 4.B: a dummy's children move up to its level, but not to
		 * the root unless there is only one */
		if (p == &f->root && t->nkids > 1)
			continue;
		for (c = t->child; c != NULL; c = next) {
			next = c->next;
			unlink_node(c);
			/* insert c before t, in place of the dummy */
			c->parent = p;
			c->next = t;
			c->prev = t->prev;
			if (t->prev != NULL)
				t->prev->next = c;
			else
				p->child = c;
			t->prev = c;
			p->nkids++;
		}
		unlink_node(t);
		t->removed = true;
	}
	free(order);
	free(stack);
}

/* subject_msg - whose subject is a root child's thread subject: its
 * own, or its first child's for a dummy (5.B.2.a) */
static const struct imap_sort_msg *
subject_msg(const struct tnode *t)
{
	return t->msg != NULL ? t->msg : (t->child != NULL ? t->child->msg :
	    NULL);
}

/* merge_subjects - step 5.B */
static void
merge_subjects(struct tforest *f)
{
	struct idmap subj;
	struct tnode **roots, *t, *s, *c, *next, *d;
	const struct imap_sort_msg *m;
	size_t n = 0, i;

	idmap_init(&subj, f->root.nkids);
	roots = xreallocarray(NULL, f->root.nkids + 1, sizeof(*roots));
	for (t = f->root.child; t != NULL; t = t->next)
		roots[n++] = t;
	/* 5.B.2: one message per base subject */
	for (i = 0; i < n; i++) {
		t = roots[i];
		if ((m = subject_msg(t)) == NULL || m->subject[0] == '\0')
			continue;
		s = idmap_get(&subj, m->subject, true);
		if (s == NULL || (s->msg != NULL && (t->msg == NULL ||
		    (s->msg->is_reply && !t->msg->is_reply))))
			idmap_put(&subj, m->subject, t, true);
	}
	/* 5.B.3: merge */
	for (i = 0; i < n; i++) {
		t = roots[i];
		if (t->removed || t->parent != &f->root)
			continue;
		if ((m = subject_msg(t)) == NULL || m->subject[0] == '\0')
			continue;
		s = idmap_get(&subj, m->subject, true);
		if (s == NULL || s == t)
			continue;
		if (s->msg == NULL && t->msg == NULL) {
			/* (e) both dummies: the children become siblings */
			for (c = t->child; c != NULL; c = next) {
				next = c->next;
				unlink_node(c);
				add_child(s, c);
			}
			unlink_node(t);
			t->removed = true;
		} else if (s->msg == NULL) {
			/* (f) */
			unlink_node(t);
			add_child(s, t);
		} else if (t->msg != NULL && t->msg->is_reply &&
		    !s->msg->is_reply) {
			/* (g) */
			unlink_node(t);
			add_child(s, t);
		} else {
			/* (h) a new dummy holds both */
			d = tnode_new(f, NULL);
			unlink_node(s);
			unlink_node(t);
			add_child(&f->root, d);
			add_child(d, s);
			add_child(d, t);
			idmap_put(&subj, m->subject, d, true);
		}
	}
	free(roots);
	idmap_deinit(&subj);
}

/* write_num - a message number */
static void
write_num(struct buf *out, const struct imap_sort_msg *m, bool uid)
{
	buf_printf(out, "%u", uid ? m->uid : m->seq);
}

/* a pending action of the output walk */
struct wact {
	const struct tnode *t;		/* NULL: write ")" */
};

/*
 * write_tree - step 7: each child of the root as one thread-list.  A
 * message with one child continues the same list ("1 2 3"); with more,
 * each child is a nested list ("1 (2)(3)").  A dummy writes no number.
 */
static void
write_tree(const struct tforest *f, bool uid, struct buf *out)
{
	struct wact *st;
	size_t sp = 0, alloc, k;
	const struct tnode *t, *c, **kids = NULL;
	bool space;

	alloc = f->n + 2;
	st = xreallocarray(NULL, alloc * 2, sizeof(*st));
	/* push the roots in reverse */
	for (c = f->root.last; c != NULL; c = c->prev)
		st[sp++].t = c;
	while (sp > 0) {
		t = st[--sp].t;
		if (t == NULL) {
			buf_append_byte(out, ')');
			continue;
		}
		buf_append_byte(out, '(');
		st[sp++].t = NULL;
		space = false;
		for (;;) {
			if (t->msg != NULL) {
				if (space)
					buf_append_byte(out, ' ');
				write_num(out, t->msg, uid);
				space = true;
			}
			if (t->nkids == 0)
				break;
			if (t->nkids == 1) {
				t = t->child;
				continue;
			}
			if (space)
				buf_append_byte(out, ' ');
			/* each child: "(" members ")", in order */
			kids = xreallocarray(kids, t->nkids, sizeof(*kids));
			k = 0;
			for (c = t->child; c != NULL; c = c->next)
				kids[k++] = c;
			/* every container is pushed once as a list start
			 * and once as its ")" at most: 2 * n slots */
			while (k > 0)
				st[sp++].t = kids[--k];
			break;
		}
	}
	free(kids);
	free(st);
}

/* thread_refs - RFC 5256 section 4 */
static void
thread_refs(struct imap_sort_set *set, bool uid, struct buf *out)
{
	struct tforest f;
	struct idmap ids;
	struct tnode *t, **tmp = NULL;
	struct buf idtmp;
	size_t i, tmp_alloc = 0;

	memset(&f, 0, sizeof(f));
	idmap_init(&ids, set->count * 2);
	buf_init(&idtmp, 0);
	/* step 1: containers by Message-ID, in mailbox order; a missing
	 * or repeated id gets a container of its own */
	for (i = 0; i < set->count; i++) {
		struct imap_sort_msg *m = &set->msgs[i];

		t = NULL;
		if (m->message_id != NULL && m->message_id[0] != '\0') {
			t = idmap_get(&ids, m->message_id, false);
			if (t == NULL) {
				t = tnode_new(&f, m);
				idmap_put(&ids, m->message_id, t, false);
			} else if (t->msg == NULL)
				t->msg = m;
			else
				t = NULL;
		}
		if (t == NULL)
			t = tnode_new(&f, m);
		link_refs(&f, &ids, set, t, m, &idtmp);
	}
	/* step 2: the root set */
	for (i = 0; i < f.n; i++)
		if (f.v[i]->parent == NULL)
			add_child(&f.root, f.v[i]);
	/* step 3: the id table is not needed any more */
	idmap_deinit(&ids);
	buf_deinit(&idtmp);
	/* step 4 */
	prune(&f);
	/* step 5.A: sort the root set by date; a dummy by its first child,
	 * so its children are sorted first */
	for (t = f.root.child; t != NULL; t = t->next)
		if (t->msg == NULL)
			sort_kids(t, &tmp, &tmp_alloc);
	sort_kids(&f.root, &tmp, &tmp_alloc);
	/* step 5.B */
	merge_subjects(&f);
	/* step 6: every set of siblings by date; the root last, as its
	 * dummies sort by their (now sorted) first child */
	for (i = 0; i < f.n; i++)
		if (!f.v[i]->removed)
			sort_kids(f.v[i], &tmp, &tmp_alloc);
	sort_kids(&f.root, &tmp, &tmp_alloc);
	/* step 7 */
	write_tree(&f, uid, out);
	free(tmp);
	tforest_free(&f);
}

/* os_cmp - ORDEREDSUBJECT order: base subject, date, mailbox order */
static int
os_cmp(const void *pa, const void *pb)
{
	const struct imap_sort_msg *a = pa, *b = pb;
	int r;

	if ((r = strcasecmp(a->subject, b->subject)) != 0)
		return r;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return CMP(a->seq, b->seq);
}

/* a thread of ORDEREDSUBJECT: msgs[first .. first + n) */
struct os_thread {
	size_t		 first;
	size_t		 n;
};

/* the messages of the running ORDEREDSUBJECT (qsort has no context) */
static __thread const struct imap_sort_msg *ost_msgs;

/* ost_cmp - threads by their first message's date */
static int
ost_cmp(const void *pa, const void *pb)
{
	const struct os_thread *a = pa, *b = pb;
	const struct imap_sort_msg *x = &ost_msgs[a->first];
	const struct imap_sort_msg *y = &ost_msgs[b->first];

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return CMP(x->seq, y->seq);
}

/* thread_os - RFC 5256 section 3 */
static void
thread_os(struct imap_sort_set *set, bool uid, struct buf *out)
{
	struct imap_sort_msg *m = set->msgs;
	struct os_thread *th;
	size_t i, j, nth = 0, k;

	qsort(m, set->count, sizeof(*m), os_cmp);
	th = xreallocarray(NULL, set->count, sizeof(*th));
	for (i = 0; i < set->count; i = j) {
		for (j = i + 1; j < set->count &&
		    strcasecmp(m[i].subject, m[j].subject) == 0; j++)
			;
		th[nth].first = i;
		th[nth].n = j - i;
		nth++;
	}
	ost_msgs = m;
	qsort(th, nth, sizeof(*th), ost_cmp);
	ost_msgs = NULL;
	for (i = 0; i < nth; i++) {
		buf_append_byte(out, '(');
		write_num(out, &m[th[i].first], uid);
		if (th[i].n == 2) {
			buf_append_byte(out, ' ');
			write_num(out, &m[th[i].first + 1], uid);
		} else if (th[i].n > 2) {
			buf_append_byte(out, ' ');
			for (k = 1; k < th[i].n; k++) {
				buf_append_byte(out, '(');
				write_num(out, &m[th[i].first + k], uid);
				buf_append_byte(out, ')');
			}
		}
		buf_append_byte(out, ')');
	}
	free(th);
}

/* by_seq - mailbox order */
static int
by_seq(const void *pa, const void *pb)
{
	const struct imap_sort_msg *a = pa, *b = pb;

	return CMP(a->seq, b->seq);
}

/* imap_thread_write - the threads of the set */
void
imap_thread_write(struct imap_sort_set *set, enum imap_thread_alg alg,
    bool uid, struct buf *out)
{
	if (set->count == 0)
		return;
	/* step 1 of REFERENCES and every tie-break go by mailbox order */
	qsort(set->msgs, set->count, sizeof(set->msgs[0]), by_seq);
	if (alg == IMAP_THREAD_ORDEREDSUBJECT)
		thread_os(set, uid, out);
	else
		thread_refs(set, uid, out);
}
