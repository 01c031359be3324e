/*
 * cmd_list.c - LIST and LSUB: RFC 3501/9051, LIST-EXTENDED (RFC 5258),
 * LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154), CHILDREN (RFC 3348)
 *
 * The folder list comes from the store (existing folders and subscribed
 * names), plus INBOX and every missing parent of a listed name (a
 * "placeholder": it is listed as \Noselect, or \NonExistent in extended
 * responses, so a client can draw the tree).  Patterns match with "*"
 * (anything) and "%" (anything but the separator "/") by dynamic
 * programming, so a pattern like "*%*%*%..." costs lengths multiplied,
 * never an exponential backtrack; the pattern length is capped.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "store_name.h"
#include "xmalloc.h"

#include "imap_commands.h"
#include "imap_session.h"
#include "imap_write.h"

/* a collapsed pattern longer than this matches nothing: a name has at
 * most STORE_NAME_MAX bytes, so more than that many literal characters
 * can never match, and wildcards alternate with them */
#define LIST_PATTERN_MAX	(2 * STORE_NAME_MAX + 1)

struct list_entry {
	char		*name;
	uint32_t	 attrs;		/* STORE_ATTR_* */
	bool		 exists;
	bool		 subscribed;
	bool		 has_children;	/* an existing folder below */
	bool		 sub_children;	/* a subscribed name below */
};

struct list_ctx {
	struct list_entry *e;
	size_t		 n;
	char		**pat;		/* reference + pattern, collapsed */
	size_t		 npat;
	bool		 pct_end;	/* a pattern ends in "%" */
};

/* entry_cmp - byte order of names */
static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_entry *)a)->name,
	    ((const struct list_entry *)b)->name);
}

/* list_find - the entry of a name among the first n (sorted), or NULL */
static struct list_entry *
list_find(struct list_ctx *l, size_t n, const char *name)
{
	struct list_entry key;

	key.name = (char *)name;
	return bsearch(&key, l->e, n, sizeof(*l->e), entry_cmp);
}

/* list_add - a new entry (the array is sorted again afterwards) */
static struct list_entry *
list_add(struct list_ctx *l, char *name)
{
	struct list_entry *e;

	l->e = xreallocarray(l->e, l->n + 1, sizeof(*l->e));
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	e->name = name;
	return e;
}

/* list_build - folders, subscriptions, INBOX and placeholders */
static int
list_build(struct imap_session *s, struct list_ctx *l, const char **error_r)
{
	struct store_mailbox_info *info;
	struct list_entry *e, *p;
	size_t i, j, n, base;
	char *slash, *parent;

	if (store_mailbox_list(s->su, &info, &n, error_r) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		e = list_add(l, info[i].name);
		info[i].name = NULL;
		e->attrs = info[i].attrs;
		e->exists = info[i].exists;
		e->subscribed = info[i].subscribed;
	}
	store_mailbox_list_free(&info, n);
	qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	if (list_find(l, l->n, "INBOX") == NULL) {
		e = list_add(l, xstrdup("INBOX"));
		e->exists = true;
		qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	}
	/* parents that are not folders themselves */
	base = l->n;
	for (i = 0; i < base; i++) {
		parent = xstrdup(l->e[i].name);
		while ((slash = strrchr(parent, '/')) != NULL) {
			*slash = '\0';
			if (list_find(l, base, parent) != NULL)
				continue;
			for (j = base; j < l->n; j++)
				if (strcmp(l->e[j].name, parent) == 0)
					break;
			if (j == l->n)
				(void)list_add(l, xstrdup(parent));
		}
		free(parent);
	}
	qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	/* children: O(n^2) over a user's folders, a few hundred at most */
	for (i = 0; i < l->n; i++) {
		p = &l->e[i];
		n = strlen(p->name);
		for (j = 0; j < l->n; j++) {
			e = &l->e[j];
			if (strncmp(e->name, p->name, n) != 0 ||
			    e->name[n] != '/')
				continue;
			if (e->exists)
				p->has_children = true;
			if (e->subscribed)
				p->sub_children = true;
		}
	}
	return 0;
}

/* list_free - every entry and pattern */
static void
list_free(struct list_ctx *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	for (i = 0; i < l->npat; i++)
		free(l->pat[i]);
	free(l->pat);
}

/* pattern_make - reference + pattern, runs of wildcards collapsed; NULL
 * when it cannot match anything */
static char *
pattern_make(const char *ref, const char *pat)
{
	char *full, *p, *q;
	size_t len;

	full = xasprintf("%s%s", ref, pat);
	for (p = q = full; *p != '\0'; p++) {
		if ((*p == '*' || *p == '%') && q > full &&
		    (q[-1] == '*' || q[-1] == '%')) {
			if (*p == '*')
				q[-1] = '*';	/* "%*" and "*%" are "*" */
			continue;
		}
		*q++ = *p;
	}
	*q = '\0';
	len = (size_t)(q - full);
	if (len > LIST_PATTERN_MAX) {
		free(full);
		return NULL;
	}
	/* INBOX is case-insensitive (RFC 3501 5.1) */
	if (strncasecmp(full, "INBOX", 5) == 0 && (full[5] == '\0' ||
	    full[5] == '/' || full[5] == '*' || full[5] == '%'))
		memcpy(full, "INBOX", 5);
	return full;
}

/* pattern_match - "*" any run, "%" any run without "/" (DP over the
 * name, one row per pattern byte) */
static bool
pattern_match(const char *pat, const char *name)
{
	size_t n = strlen(name), i, j;
	bool row[STORE_NAME_MAX + 2], next[STORE_NAME_MAX + 2];

	if (n > STORE_NAME_MAX)
		return false;
	/* row[j]: the pattern so far matches name[0..j) */
	memset(row, 0, sizeof(row));
	row[0] = true;
	for (; *pat != '\0'; pat++) {
		memset(next, 0, sizeof(next));
		if (*pat == '*' || *pat == '%') {
			for (j = 0; j <= n; j++) {
				if (row[j])
					next[j] = true;
				else if (j > 0 && next[j - 1] &&
				    (*pat == '*' || name[j - 1] != '/'))
					next[j] = true;
			}
		} else {
			for (j = 1; j <= n; j++)
				next[j] = row[j - 1] && name[j - 1] == *pat;
		}
		memcpy(row, next, sizeof(row));
		for (i = 0; i <= n && !row[i]; i++)
			;
		if (i > n)
			return false;
	}
	return row[n];
}

/* list_matches - whether any pattern matches name */
static bool
list_matches(const struct list_ctx *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->npat; i++)
		if (pattern_match(l->pat[i], name))
			return true;
	return false;
}

/* attr_append - " \Name" into the attribute list */
static void
attr_append(struct buf *out, bool *first, const char *name)
{
	(void)buf_printf(out, "%s%s", *first ? "" : " ", name);
	*first = false;
}

/* special_use_append - RFC 6154 attributes of a folder */
static void
special_use_append(struct buf *out, bool *first, uint32_t attrs)
{
	if (attrs & STORE_ATTR_ARCHIVE)
		attr_append(out, first, "\\Archive");
	if (attrs & STORE_ATTR_DRAFTS)
		attr_append(out, first, "\\Drafts");
	if (attrs & STORE_ATTR_JUNK)
		attr_append(out, first, "\\Junk");
	if (attrs & STORE_ATTR_SENT)
		attr_append(out, first, "\\Sent");
	if (attrs & STORE_ATTR_TRASH)
		attr_append(out, first, "\\Trash");
}

/* list_line - one "* LIST (...) "/" name" line */
static void
list_line(struct imap_session *s, const struct imap_list *q,
    const struct list_entry *e, bool childinfo, struct buf *out)
{
	bool first = true;

	(void)buf_printf(out, "* %s (", q->lsub ? "LSUB" : "LIST");
	if (q->lsub) {
		if (!e->subscribed)
			attr_append(out, &first, "\\Noselect");
	} else {
		if (!e->exists)
			attr_append(out, &first, q->extended ?
			    "\\NonExistent" : "\\Noselect");
		if (e->subscribed && ((q->ret & IMAP_LIST_RET_SUBSCRIBED) ||
		    (q->select & IMAP_LIST_SEL_SUBSCRIBED)))
			attr_append(out, &first, "\\Subscribed");
		if (e->exists || e->has_children)
			attr_append(out, &first, e->has_children ?
			    "\\HasChildren" : "\\HasNoChildren");
		if (e->exists)
			special_use_append(out, &first, e->attrs);
	}
	(void)buf_append_str(out, ") \"/\" ");
	(void)imap_write_mailbox(out, e->name, imap_session_write_flags(s));
	if (childinfo)
		(void)buf_append_str(out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	(void)buf_append_str(out, "\r\n");
}

/* list_one - whether and how one matching entry is listed */
static void
list_one(struct imap_session *s, const struct imap_list *q,
    const struct list_ctx *l, const struct list_entry *e, struct buf *out)
{
	const char *error;
	bool selected, childinfo = false;

	if (q->lsub) {
		/* a parent of subscribed names shows as \Noselect where "%"
		 * stopped the match above them (RFC 3501 6.3.9) */
		if (!e->subscribed && !(e->sub_children && l->pct_end))
			return;
		list_line(s, q, e, false, out);
		return;
	}
	selected = true;
	if ((q->select & IMAP_LIST_SEL_SUBSCRIBED) && !e->subscribed)
		selected = false;
	if ((q->select & IMAP_LIST_SEL_SPECIAL_USE) &&
	    (!e->exists || e->attrs == 0))
		selected = false;
	if (!(q->select & IMAP_LIST_SEL_SUBSCRIBED) && !e->exists &&
	    !e->has_children)
		return;		/* only subscribed, and not asked for that */
	if (!selected) {
		if (!(q->select & IMAP_LIST_SEL_RECURSIVEMATCH) ||
		    !(q->select & IMAP_LIST_SEL_SUBSCRIBED) ||
		    !e->sub_children)
			return;
		childinfo = true;
	}
	list_line(s, q, e, childinfo, out);
	if ((q->ret & IMAP_LIST_RET_STATUS) && e->exists && selected &&
	    imap_status_write(s, e->name, q->status, out, &error) < 0)
		log_debug("LIST-STATUS %s: %s", e->name, error);
}

/* cmd_list - LIST and LSUB in all their forms */
enum imap_cmd_result
cmd_list(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct list_ctx l;
	struct imap_list q;
	const char *error;
	char *p;
	size_t i;

	if (imap_parse_list(cmd, &q) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (q.ret & IMAP_LIST_RET_STATUS) {
		if (q.status & IMAP_STATUS_HIGHESTMODSEQ)
			imap_session_enable_condstore(s, out);
	}
	/* LIST "" "": the hierarchy separator and root */
	if (!q.lsub && q.pattern_count == 1 && q.patterns[0][0] == '\0') {
		(void)buf_append_str(out, "* LIST (\\Noselect) \"/\" \"\"\r\n");
		imap_reply_ok(s, NULL, "LIST completed");
		return CMD_DONE;
	}
	memset(&l, 0, sizeof(l));
	for (i = 0; i < q.pattern_count; i++) {
		if (q.patterns[i][0] == '\0')
			continue;
		p = pattern_make(q.reference, q.patterns[i]);
		if (p == NULL)
			continue;
		l.pat = xreallocarray(l.pat, l.npat + 1, sizeof(*l.pat));
		l.pat[l.npat++] = p;
		if (p[strlen(p) - 1] == '%')
			l.pct_end = true;
	}
	if (l.npat > 0 && list_build(s, &l, &error) < 0) {
		list_free(&l);
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	for (i = 0; i < l.n; i++)
		if (list_matches(&l, l.e[i].name))
			list_one(s, &q, &l, &l.e[i], out);
	list_free(&l);
	imap_reply_ok(s, NULL, "%s completed", q.lsub ? "LSUB" : "LIST");
	return CMD_DONE;
}
