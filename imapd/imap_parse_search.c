/* imap_parse_search.c - SEARCH programs into trees; SORT and THREAD */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_parse.h"
#include "imap_parse_private.h"
#include "imap_write.h"

/* what follows a search key */
enum key_arg {
	K_NONE = 0,
	K_NEW,			/* NEW: RECENT and NOT SEEN */
	K_STRING,
	K_HEADER,		/* field name, then string */
	K_DATE,
	K_NUMBER,		/* number64 */
	K_NZNUMBER,		/* nz-number, 32 bits */
	K_KEYWORD,
	K_UID,
	K_OBJECTID,
	K_MODSEQ,
	K_NOT,
	K_OR
};

static const struct key_def {
	const char	*name;
	enum imap_search_op op;
	enum key_arg	 arg;
	unsigned int	 flag;
	bool		 negate;	/* wrap in NOT: UNSEEN is NOT SEEN */
} key_defs[] = {
	{ "ALL",		IMAP_SEARCH_ALL,	K_NONE, 0, false },
	{ "ANSWERED",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_ANSWERED, false },
	{ "DELETED",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_DELETED, false },
	{ "DRAFT",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_DRAFT, false },
	{ "FLAGGED",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_FLAGGED, false },
	{ "SEEN",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_SEEN, false },
	{ "RECENT",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_RECENT, false },
	{ "UNANSWERED",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_ANSWERED, true },
	{ "UNDELETED",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_DELETED, true },
	{ "UNDRAFT",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_DRAFT, true },
	{ "UNFLAGGED",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_FLAGGED, true },
	{ "UNSEEN",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_SEEN, true },
	{ "OLD",	IMAP_SEARCH_FLAG, K_NONE, IMAP_FLAG_RECENT, true },
	{ "NEW",	IMAP_SEARCH_AND, K_NEW, 0, false },
	{ "KEYWORD",	IMAP_SEARCH_KEYWORD,	K_KEYWORD, 0, false },
	{ "UNKEYWORD",	IMAP_SEARCH_KEYWORD,	K_KEYWORD, 0, true },
	{ "BCC",	IMAP_SEARCH_BCC,	K_STRING, 0, false },
	{ "BODY",	IMAP_SEARCH_BODY,	K_STRING, 0, false },
	{ "CC",		IMAP_SEARCH_CC,		K_STRING, 0, false },
	{ "FROM",	IMAP_SEARCH_FROM,	K_STRING, 0, false },
	{ "SUBJECT",	IMAP_SEARCH_SUBJECT,	K_STRING, 0, false },
	{ "TEXT",	IMAP_SEARCH_TEXT,	K_STRING, 0, false },
	{ "TO",		IMAP_SEARCH_TO,		K_STRING, 0, false },
	{ "HEADER",	IMAP_SEARCH_HEADER,	K_HEADER, 0, false },
	{ "BEFORE",	IMAP_SEARCH_BEFORE,	K_DATE, 0, false },
	{ "ON",		IMAP_SEARCH_ON,		K_DATE, 0, false },
	{ "SINCE",	IMAP_SEARCH_SINCE,	K_DATE, 0, false },
	{ "SENTBEFORE",	IMAP_SEARCH_SENTBEFORE,	K_DATE, 0, false },
	{ "SENTON",	IMAP_SEARCH_SENTON,	K_DATE, 0, false },
	{ "SENTSINCE",	IMAP_SEARCH_SENTSINCE,	K_DATE, 0, false },
	{ "SAVEDBEFORE", IMAP_SEARCH_SAVEDBEFORE, K_DATE, 0, false },
	{ "SAVEDON",	IMAP_SEARCH_SAVEDON,	K_DATE, 0, false },
	{ "SAVEDSINCE",	IMAP_SEARCH_SAVEDSINCE,	K_DATE, 0, false },
	{ "SAVEDATESUPPORTED", IMAP_SEARCH_SAVEDATESUPPORTED, K_NONE, 0,
	    false },
	{ "OLDER",	IMAP_SEARCH_OLDER,	K_NZNUMBER, 0, false },
	{ "YOUNGER",	IMAP_SEARCH_YOUNGER,	K_NZNUMBER, 0, false },
	{ "LARGER",	IMAP_SEARCH_LARGER,	K_NUMBER, 0, false },
	{ "SMALLER",	IMAP_SEARCH_SMALLER,	K_NUMBER, 0, false },
	{ "UID",	IMAP_SEARCH_UIDSET,	K_UID, 0, false },
	{ "MODSEQ",	IMAP_SEARCH_MODSEQ,	K_MODSEQ, 0, false },
	{ "EMAILID",	IMAP_SEARCH_EMAILID,	K_OBJECTID, 0, false },
	{ "THREADID",	IMAP_SEARCH_THREADID,	K_OBJECTID, 0, false },
	{ "NOT",	IMAP_SEARCH_NOT,	K_NOT, 0, false },
	{ "OR",		IMAP_SEARCH_OR,		K_OR, 0, false },
};

#define NKEYS	(sizeof(key_defs) / sizeof(key_defs[0]))

/* the program being built */
struct prog {
	struct imap_cmd	*cmd;
	struct imap_search *s;
	const struct imap_arg *args;
	size_t		 n;
	size_t		 i;		/* next argument */
};

static struct imap_search_node *parse_key(struct prog *, unsigned int);

/* new_node - a node, counted against the limit; NULL past it */
static struct imap_search_node *
new_node(struct prog *pg, enum imap_search_op op)
{
	struct imap_search_node *n;

	if (++pg->s->nodes > pg->cmd->set.max_search_nodes) {
		imap_cmd_fail(pg->cmd, "Search program too complex");
		return NULL;
	}
	n = imap_cmd_alloc(pg->cmd, sizeof(*n));
	n->op = op;
	return n;
}

/* add_child - append c to p's children; keeps a tail in *tail */
static void
add_child(struct imap_search_node *p, struct imap_search_node **tail,
    struct imap_search_node *c)
{
	if (*tail == NULL)
		p->children = c;
	else
		(*tail)->next = c;
	*tail = c;
}

/* next_arg - the next argument of the program, or NULL with an error */
static const struct imap_arg *
next_arg(struct prog *pg, const char *key)
{
	if (pg->i >= pg->n) {
		imap_cmd_fail(pg->cmd, "Missing argument of %s", key);
		return NULL;
	}
	return &pg->args[pg->i++];
}

/* is_objectid - RFC 8474: 1*255(ALPHA / DIGIT / "_" / "-") */
static bool
is_objectid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 255)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))
			return false;
	return true;
}

/* key_modseq - MODSEQ [entry-name entry-type-req] mod-sequence-valzer */
static int
key_modseq(struct prog *pg, struct imap_search_node *n)
{
	const struct imap_arg *a;
	const char *s;

	if ((a = next_arg(pg, "MODSEQ")) == NULL)
		return -1;
	if (a->type == IMAP_ARG_QUOTED || a->type == IMAP_ARG_LITERAL) {
		if (imap_arg_string(pg->cmd, a, &s, NULL) < 0)
			return -1;
		if (strncasecmp(s, "/flags/", 7) != 0 || s[7] == '\0')
			return imap_cmd_fail(pg->cmd, "Invalid MODSEQ entry "
			    "name %s", s);
		if (s[7] == '\\' && (imap_flag_from_name(s + 7) == 0 ||
		    imap_flag_from_name(s + 7) == IMAP_FLAG_RECENT))
			return imap_cmd_fail(pg->cmd, "Invalid MODSEQ entry "
			    "name %s", s);
		n->entry_name = s;
		if ((a = next_arg(pg, "MODSEQ")) == NULL)
			return -1;
		if (imap_arg_is_atom(a, "priv"))
			n->entry_type = IMAP_SEARCH_ENTRY_PRIV;
		else if (imap_arg_is_atom(a, "shared"))
			n->entry_type = IMAP_SEARCH_ENTRY_SHARED;
		else if (imap_arg_is_atom(a, "all"))
			n->entry_type = IMAP_SEARCH_ENTRY_ALL;
		else
			return imap_cmd_fail(pg->cmd, "Invalid MODSEQ entry "
			    "type");
		if ((a = next_arg(pg, "MODSEQ")) == NULL)
			return -1;
	}
	pg->s->uses_modseq = true;
	return imap_arg_number(pg->cmd, a, 0, IMAP_NUMBER64_MAX, &n->number);
}

/* key_arg - read what a key takes into n */
static int
key_arg(struct prog *pg, const struct key_def *k, struct imap_search_node *n)
{
	const struct imap_arg *a;
	struct imap_flags f;
	const char *s;

	switch (k->arg) {
	case K_NONE:
	case K_NEW:
	case K_NOT:
	case K_OR:
		return 0;
	case K_MODSEQ:
		return key_modseq(pg, n);
	default:
		break;
	}
	if ((a = next_arg(pg, k->name)) == NULL)
		return -1;
	switch (k->arg) {
	case K_STRING:
		if (imap_arg_astring(pg->cmd, a, &n->str) < 0)
			return -1;
		n->len = strlen(n->str);
		return 0;
	case K_HEADER:
		if (imap_arg_astring(pg->cmd, a, &n->header) < 0)
			return -1;
		if ((a = next_arg(pg, k->name)) == NULL ||
		    imap_arg_astring(pg->cmd, a, &n->str) < 0)
			return -1;
		n->len = strlen(n->str);
		return 0;
	case K_DATE:
		return imap_arg_date(pg->cmd, a, &n->date);
	case K_NUMBER:
		return imap_arg_number(pg->cmd, a, 0, IMAP_NUMBER64_MAX,
		    &n->number);
	case K_NZNUMBER:
		return imap_arg_number(pg->cmd, a, 1, UINT32_MAX, &n->number);
	case K_KEYWORD:
		memset(&f, 0, sizeof(f));
		if (imap_arg_atom(pg->cmd, a, &s) < 0)
			return -1;
		if (s[0] == '\\' || imap_arg_flag(pg->cmd, a, false, &f) < 0)
			return imap_cmd_fail(pg->cmd, "Invalid keyword %s", s);
		n->str = s;
		n->len = strlen(s);
		return 0;
	case K_UID:
		if (imap_arg_seqset(pg->cmd, a, &n->set, &n->saved) < 0)
			return -1;
		if (n->saved)
			pg->s->uses_saved = true;
		return 0;
	case K_OBJECTID:
		if (imap_arg_astring(pg->cmd, a, &s) < 0)
			return -1;
		if (!is_objectid(s, strlen(s)))
			return imap_cmd_fail(pg->cmd, "Invalid object id %s",
			    s);
		n->str = s;
		n->len = strlen(s);
		return 0;
	default:
		break;
	}
	return imap_cmd_fail(pg->cmd, "Internal error in SEARCH");
}

/* parse_list_key - "(" search-key *(SP search-key) ")" */
static struct imap_search_node *
parse_list_key(struct prog *pg, const struct imap_arg *a, unsigned int depth)
{
	struct prog sub = *pg;
	struct imap_search_node *n, *c, *tail = NULL;

	if (a->count == 0) {
		imap_cmd_fail(pg->cmd, "Empty parenthesised search key");
		return NULL;
	}
	if ((n = new_node(pg, IMAP_SEARCH_AND)) == NULL)
		return NULL;
	sub.args = a->list;
	sub.n = a->count;
	sub.i = 0;
	while (sub.i < sub.n) {
		if ((c = parse_key(&sub, depth + 1)) == NULL)
			return NULL;
		add_child(n, &tail, c);
	}
	return n;
}

/*
 * parse_or - OR key key.  A right operand that is itself an OR is read in
 * the same loop, so "OR a OR b OR c d" (how clients chain alternatives)
 * becomes one OR of four children without nesting.
 */
static struct imap_search_node *
parse_or(struct prog *pg, struct imap_search_node *n, unsigned int depth)
{
	struct imap_search_node *c, *tail = NULL;

	for (;;) {
		if (pg->i >= pg->n) {
			imap_cmd_fail(pg->cmd, "Missing search key after OR");
			return NULL;
		}
		if ((c = parse_key(pg, depth + 1)) == NULL)
			return NULL;
		add_child(n, &tail, c);
		if (pg->i >= pg->n) {
			imap_cmd_fail(pg->cmd, "Missing second search key of "
			    "OR");
			return NULL;
		}
		if (imap_arg_is_atom(&pg->args[pg->i], "OR")) {
			pg->i++;
			continue;
		}
		if ((c = parse_key(pg, depth + 1)) == NULL)
			return NULL;
		add_child(n, &tail, c);
		return n;
	}
}

/* negate - NOT n */
static struct imap_search_node *
negate(struct prog *pg, struct imap_search_node *n)
{
	struct imap_search_node *not;

	if ((not = new_node(pg, IMAP_SEARCH_NOT)) == NULL)
		return NULL;
	not->children = n;
	return not;
}

/* parse_key - one search-key at pg->args[pg->i] */
static struct imap_search_node *
parse_key(struct prog *pg, unsigned int depth)
{
	const struct imap_arg *a = &pg->args[pg->i++];
	const struct key_def *k = NULL;
	struct imap_search_node *n, *c, *tail = NULL;
	size_t i;

	if (depth > pg->cmd->set.max_search_depth) {
		imap_cmd_fail(pg->cmd, "Search program nested too deeply");
		return NULL;
	}
	if (a->type == IMAP_ARG_LIST)
		return parse_list_key(pg, a, depth);
	if (a->type != IMAP_ARG_ATOM || a->has_section) {
		imap_cmd_fail(pg->cmd, "Expected a search key, got %s",
		    imap_arg_kind(a));
		return NULL;
	}
	for (i = 0; i < NKEYS; i++) {
		if (strcasecmp(a->str, key_defs[i].name) == 0) {
			k = &key_defs[i];
			break;
		}
	}
	if (k == NULL) {
		/* a sequence set: digits, "*" or "$" first */
		if ((a->str[0] < '0' || a->str[0] > '9') && a->str[0] != '*' &&
		    a->str[0] != '$') {
			imap_cmd_fail(pg->cmd, "Unknown search key %s", a->str);
			return NULL;
		}
		if ((n = new_node(pg, IMAP_SEARCH_SEQSET)) == NULL ||
		    imap_arg_seqset(pg->cmd, a, &n->set, &n->saved) < 0)
			return NULL;
		if (n->saved)
			pg->s->uses_saved = true;
		return n;
	}
	if ((n = new_node(pg, k->op)) == NULL)
		return NULL;
	n->flag = k->flag;
	switch (k->arg) {
	case K_NEW:
		/* NEW is RECENT UNSEEN */
		if ((c = new_node(pg, IMAP_SEARCH_FLAG)) == NULL)
			return NULL;
		c->flag = IMAP_FLAG_RECENT;
		add_child(n, &tail, c);
		if ((c = new_node(pg, IMAP_SEARCH_FLAG)) == NULL)
			return NULL;
		c->flag = IMAP_FLAG_SEEN;
		if ((c = negate(pg, c)) == NULL)
			return NULL;
		add_child(n, &tail, c);
		return n;
	case K_NOT:
		if (pg->i >= pg->n) {
			imap_cmd_fail(pg->cmd, "Missing search key after NOT");
			return NULL;
		}
		if ((n->children = parse_key(pg, depth + 1)) == NULL)
			return NULL;
		return n;
	case K_OR:
		return parse_or(pg, n, depth);
	default:
		break;
	}
	if (key_arg(pg, k, n) < 0)
		return NULL;
	return k->negate ? negate(pg, n) : n;
}

/* imap_search_program - the keys at args[0..n) as an AND */
int
imap_search_program(struct imap_cmd *cmd, const struct imap_arg *args,
    size_t n, struct imap_search *s)
{
	struct prog pg;
	struct imap_search_node *c, *tail = NULL;

	if (n == 0)
		return imap_cmd_fail(cmd, "Missing search keys");
	pg.cmd = cmd;
	pg.s = s;
	pg.args = args;
	pg.n = n;
	pg.i = 0;
	if ((s->root = new_node(&pg, IMAP_SEARCH_AND)) == NULL)
		return -1;
	while (pg.i < pg.n) {
		if ((c = parse_key(&pg, 1)) == NULL)
			return -1;
		add_child(s->root, &tail, c);
	}
	return 0;
}

/* parse_charset - US-ASCII or UTF-8; anything else is NO [BADCHARSET] */
static int
parse_charset(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_search *s)
{
	const char *cs;

	if (imap_arg_astring(cmd, a, &cs) < 0)
		return -1;
	if (strcasecmp(cs, "US-ASCII") != 0 && strcasecmp(cs, "UTF-8") != 0) {
		cmd->error_no = true;
		cmd->error_code = "BADCHARSET (US-ASCII UTF-8)";
		return imap_cmd_fail(cmd, "Unsupported charset %s", cs);
	}
	s->charset = imap_cmd_strupper(cmd, cs);
	return 0;
}

/* parse_return - RFC 4731 RETURN (MIN MAX ALL COUNT SAVE) */
static int
parse_return(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_search *s)
{
	static const struct {
		const char	*name;
		unsigned int	 bit;
	} opts[] = {
		{ "MIN", IMAP_SEARCH_RET_MIN },
		{ "MAX", IMAP_SEARCH_RET_MAX },
		{ "ALL", IMAP_SEARCH_RET_ALL },
		{ "COUNT", IMAP_SEARCH_RET_COUNT },
		{ "SAVE", IMAP_SEARCH_RET_SAVE },
	};
	size_t i, k;

	if (a->type != IMAP_ARG_LIST)
		return imap_cmd_fail(cmd, "RETURN needs a list of options");
	s->ret_given = true;
	for (i = 0; i < a->count; i++) {
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (imap_arg_is_atom(&a->list[i], opts[k].name))
				break;
		if (k == sizeof(opts) / sizeof(opts[0]))
			return imap_cmd_fail(cmd, "Unknown RETURN option %s",
			    a->list[i].type == IMAP_ARG_ATOM ?
			    a->list[i].str : imap_arg_kind(&a->list[i]));
		s->ret |= opts[k].bit;
	}
	/* RFC 4731 3.1: "RETURN ()" is "RETURN (ALL)" */
	if (a->count == 0)
		s->ret = IMAP_SEARCH_RET_ALL;
	return 0;
}

/* imap_parse_search - [RETURN (...)] [CHARSET x] keys */
int
imap_parse_search(struct imap_cmd *cmd, struct imap_search *s_r)
{
	size_t i = 0;

	memset(s_r, 0, sizeof(*s_r));
	if (i < cmd->argc && imap_arg_is_atom(&cmd->args[i], "RETURN")) {
		if (i + 1 >= cmd->argc)
			return imap_cmd_fail(cmd, "RETURN needs a list of "
			    "options");
		if (parse_return(cmd, &cmd->args[i + 1], s_r) < 0)
			return -1;
		i += 2;
	}
	if (i < cmd->argc && imap_arg_is_atom(&cmd->args[i], "CHARSET")) {
		if (i + 1 >= cmd->argc)
			return imap_cmd_fail(cmd, "CHARSET needs a name");
		if (parse_charset(cmd, &cmd->args[i + 1], s_r) < 0)
			return -1;
		i += 2;
	}
	return imap_search_program(cmd, cmd->args + i, cmd->argc - i, s_r);
}

/* imap_parse_sort - RFC 5256: (criteria) charset keys */
int
imap_parse_sort(struct imap_cmd *cmd, struct imap_sort *s_r)
{
	static const struct {
		const char	*name;
		enum imap_sort_key key;
	} keys[] = {
		{ "ARRIVAL", IMAP_SORT_ARRIVAL },
		{ "CC", IMAP_SORT_CC },
		{ "DATE", IMAP_SORT_DATE },
		{ "FROM", IMAP_SORT_FROM },
		{ "SIZE", IMAP_SORT_SIZE },
		{ "SUBJECT", IMAP_SORT_SUBJECT },
		{ "TO", IMAP_SORT_TO },
		{ "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },
		{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
	};
	const struct imap_arg *crit;
	size_t i, k, n = 0;
	bool reverse = false;

	memset(s_r, 0, sizeof(*s_r));
	if (cmd->argc < 3 || cmd->args[0].type != IMAP_ARG_LIST)
		return imap_cmd_fail(cmd, "Syntax: SORT (criteria) charset "
		    "search-keys");
	crit = &cmd->args[0];
	if (crit->count == 0)
		return imap_cmd_fail(cmd, "Empty list of sort criteria");
	s_r->crit = imap_cmd_alloc(cmd, crit->count * sizeof(*s_r->crit));
	for (i = 0; i < crit->count; i++) {
		if (imap_arg_is_atom(&crit->list[i], "REVERSE")) {
			if (reverse)
				return imap_cmd_fail(cmd, "REVERSE given "
				    "twice");
			reverse = true;
			continue;
		}
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (imap_arg_is_atom(&crit->list[i], keys[k].name))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return imap_cmd_fail(cmd, "Unknown sort criterion %s",
			    crit->list[i].type == IMAP_ARG_ATOM ?
			    crit->list[i].str : imap_arg_kind(&crit->list[i]));
		s_r->crit[n].key = keys[k].key;
		s_r->crit[n].reverse = reverse;
		reverse = false;
		n++;
	}
	if (reverse)
		return imap_cmd_fail(cmd, "REVERSE must precede a criterion");
	s_r->count = n;
	if (parse_charset(cmd, &cmd->args[1], &s_r->search) < 0)
		return -1;
	return imap_search_program(cmd, cmd->args + 2, cmd->argc - 2,
	    &s_r->search);
}

/* imap_parse_thread - RFC 5256: algorithm charset keys */
int
imap_parse_thread(struct imap_cmd *cmd, struct imap_thread *t_r)
{
	memset(t_r, 0, sizeof(*t_r));
	if (cmd->argc < 3)
		return imap_cmd_fail(cmd, "Syntax: THREAD algorithm charset "
		    "search-keys");
	if (imap_arg_is_atom(&cmd->args[0], "ORDEREDSUBJECT"))
		t_r->alg = IMAP_THREAD_ORDEREDSUBJECT;
	else if (imap_arg_is_atom(&cmd->args[0], "REFERENCES"))
		t_r->alg = IMAP_THREAD_REFERENCES;
	else
		return imap_cmd_fail(cmd, "Unknown threading algorithm %s",
		    cmd->args[0].type == IMAP_ARG_ATOM ? cmd->args[0].str :
		    imap_arg_kind(&cmd->args[0]));
	if (parse_charset(cmd, &cmd->args[1], &t_r->search) < 0)
		return -1;
	return imap_search_program(cmd, cmd->args + 2, cmd->argc - 2,
	    &t_r->search);
}
