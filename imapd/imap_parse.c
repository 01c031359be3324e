/* imap_parse.c - IMAP command tokenizer, command table, typed accessors */
#include "config.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"
#include "store_name.h"
#include "xmalloc.h"

#include "imap_parse.h"
#include "imap_parse_private.h"

/*
 * The arena: chunks of ARENA_CHUNK bytes, bigger ones for big requests.
 * Allocations are aligned for any type.
 */
#define ARENA_CHUNK	4096
#define ARENA_ALIGN	alignof(max_align_t)

struct imap_arena_chunk {
	struct imap_arena_chunk *next;
	size_t		 size;
	size_t		 used;
	alignas(max_align_t) unsigned char data[];
};

/* something to release with the command */
struct imap_cleanup {
	struct imap_cleanup *next;
	void		(*fn)(void *);
	void		*obj;
};

struct imap_input_piece {
	size_t		 off;
	size_t		 len;
	bool		 literal;
	bool		 external;
};

/* how the arguments of each command are counted before typed parsing */
struct cmd_def {
	const char	*name;
	enum imap_cmd_id id;
	size_t		 min_args;
	size_t		 max_args;
	bool		 uid;		/* may follow "UID" */
};

#define MANY	SIZE_MAX

static const struct cmd_def cmd_defs[] = {
	{ "CAPABILITY",	IMAP_CMD_CAPABILITY,	0, 0, false },
	{ "NOOP",	IMAP_CMD_NOOP,		0, 0, false },
	{ "LOGOUT",	IMAP_CMD_LOGOUT,	0, 0, false },
	{ "STARTTLS",	IMAP_CMD_STARTTLS,	0, 0, false },
	{ "AUTHENTICATE", IMAP_CMD_AUTHENTICATE, 1, 2, false },
	{ "LOGIN",	IMAP_CMD_LOGIN,		2, 2, false },
	{ "ENABLE",	IMAP_CMD_ENABLE,	1, MANY, false },
	{ "ID",		IMAP_CMD_ID,		1, 1, false },
	{ "SELECT",	IMAP_CMD_SELECT,	1, 2, false },
	{ "EXAMINE",	IMAP_CMD_EXAMINE,	1, 2, false },
	{ "CREATE",	IMAP_CMD_CREATE,	1, 2, false },
	{ "DELETE",	IMAP_CMD_DELETE,	1, 1, false },
	{ "RENAME",	IMAP_CMD_RENAME,	2, 2, false },
	{ "SUBSCRIBE",	IMAP_CMD_SUBSCRIBE,	1, 1, false },
	{ "UNSUBSCRIBE", IMAP_CMD_UNSUBSCRIBE,	1, 1, false },
	{ "LIST",	IMAP_CMD_LIST,		2, 5, false },
	{ "LSUB",	IMAP_CMD_LSUB,		2, 2, false },
	{ "NAMESPACE",	IMAP_CMD_NAMESPACE,	0, 0, false },
	{ "STATUS",	IMAP_CMD_STATUS,	2, 2, false },
	{ "APPEND",	IMAP_CMD_APPEND,	2, MANY, false },
	{ "IDLE",	IMAP_CMD_IDLE,		0, 0, false },
	{ "CHECK",	IMAP_CMD_CHECK,		0, 0, false },
	{ "CLOSE",	IMAP_CMD_CLOSE,		0, 0, false },
	{ "UNSELECT",	IMAP_CMD_UNSELECT,	0, 0, false },
	{ "EXPUNGE",	IMAP_CMD_EXPUNGE,	0, 0, true },
	{ "SEARCH",	IMAP_CMD_SEARCH,	1, MANY, true },
	{ "FETCH",	IMAP_CMD_FETCH,		2, 3, true },
	{ "STORE",	IMAP_CMD_STORE,		3, MANY, true },
	{ "COPY",	IMAP_CMD_COPY,		2, 2, true },
	{ "MOVE",	IMAP_CMD_MOVE,		2, 2, true },
	{ "SORT",	IMAP_CMD_SORT,		3, MANY, true },
	{ "THREAD",	IMAP_CMD_THREAD,	3, MANY, true },
	{ "GETQUOTA",	IMAP_CMD_GETQUOTA,	1, 1, false },
	{ "GETQUOTAROOT", IMAP_CMD_GETQUOTAROOT, 1, 1, false },
	{ "SETQUOTA",	IMAP_CMD_SETQUOTA,	2, 2, false },
	{ "COMPRESS",	IMAP_CMD_COMPRESS,	1, 1, false },
	{ "UNAUTHENTICATE", IMAP_CMD_UNAUTHENTICATE, 0, 0, false },
};

#define NCMDS	(sizeof(cmd_defs) / sizeof(cmd_defs[0]))

/* the tokenizer's position in the pieces */
struct tok {
	struct imap_cmd	*cmd;
	const struct imap_piece *pieces;
	size_t		 npieces;
	size_t		 pi;		/* the line piece being read */
	const char	*p;
	const char	*end;
};

/* a growable array of arguments */
struct argvec {
	struct imap_arg	*v;
	size_t		 n;
	size_t		 alloc;
};

static int parse_elements(struct tok *, char, unsigned int, struct argvec *);
static size_t utf8_len(const unsigned char *, size_t);

/* imap_parse_settings_init - the defaults */
void
imap_parse_settings_init(struct imap_parse_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->max_depth = IMAP_PARSE_MAX_DEPTH;
	s->max_args = IMAP_PARSE_MAX_ARGS;
	s->max_search_depth = IMAP_PARSE_MAX_SEARCH_DEPTH;
	s->max_search_nodes = IMAP_PARSE_MAX_SEARCH_NODES;
}

/* imap_cmd_alloc - zeroed memory that lives as long as the command */
void *
imap_cmd_alloc(struct imap_cmd *cmd, size_t size)
{
	struct imap_arena_chunk *c = cmd->arena, *n;
	size_t need, csize;
	void *p;

	/* round up to the alignment; size is bounded by what the parser
	 * was given, far from SIZE_MAX */
	need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (need == 0)
		need = ARENA_ALIGN;
	if (c == NULL || c->size - c->used < need) {
		csize = need > ARENA_CHUNK / 2 ? need : ARENA_CHUNK;
		n = xmalloc(sizeof(*n) + csize);
		n->size = csize;
		n->used = 0;
		if (c != NULL && csize != ARENA_CHUNK) {
			/* a big one: keep the current chunk's free space */
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			cmd->arena = n;
		}
		c = n;
	}
	p = c->data + c->used;
	c->used += need;
	memset(p, 0, size);
	return p;
}

/* imap_cmd_strndup - a NUL-terminated copy in the arena */
char *
imap_cmd_strndup(struct imap_cmd *cmd, const char *s, size_t len)
{
	char *d;

	d = imap_cmd_alloc(cmd, len + 1);
	if (len > 0)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* imap_cmd_strupper - an upper-case copy in the arena */
char *
imap_cmd_strupper(struct imap_cmd *cmd, const char *s)
{
	char *d;
	size_t i;

	d = imap_cmd_strndup(cmd, s, strlen(s));
	for (i = 0; d[i] != '\0'; i++)
		if (d[i] >= 'a' && d[i] <= 'z')
			d[i] = (char)(d[i] - 'a' + 'A');
	return d;
}

/*
 * imap_cmd_fail - set the error text and return -1.  The text often
 * quotes the client (an unknown attribute, a bad date), and a literal can
 * hold anything, so it is made safe for a resp-text here, once: controls
 * become spaces, bytes that are not UTF-8 become '?', and it is cut at
 * IMAP_ERROR_MAX bytes.
 */
int
imap_cmd_fail(struct imap_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	int n;
	unsigned char *s;
	size_t i, k, len;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		cmd->error = "Syntax error";
		return -1;
	}
	s = imap_cmd_alloc(cmd, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	len = (size_t)n;
	for (i = 0; i < len; ) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			s[i++] = ' ';
			continue;
		}
		k = utf8_len(s + i, len - i);
		if (k == 0) {
			s[i++] = '?';
			continue;
		}
		if (len > IMAP_ERROR_MAX && i + k > IMAP_ERROR_MAX - 3) {
			/* cut before this character, never inside it; the
			 * "..." fits since len > IMAP_ERROR_MAX >= i + 3 */
			memcpy(s + i, "...", 4);
			break;
		}
		i += k;
	}
	cmd->error = (const char *)s;
	return -1;
}

/* fail - a static error text */
static int
fail(struct imap_cmd *cmd, const char *text)
{
	cmd->error = text;
	return -1;
}

/* imap_cmd_deinit - wipe and free everything the command holds */
void
imap_cmd_deinit(struct imap_cmd *cmd)
{
	struct imap_arena_chunk *c, *next;
	struct imap_cleanup *cl;

	for (cl = cmd->cleanup; cl != NULL; cl = cl->next)
		cl->fn(cl->obj);
	for (c = cmd->arena; c != NULL; c = next) {
		next = c->next;
		wipe(c->data, c->used);
		free(c);
	}
	memset(cmd, 0, sizeof(*cmd));
}

/* imap_cmd_on_free - register a release function */
void
imap_cmd_on_free(struct imap_cmd *cmd, void (*fn)(void *), void *obj)
{
	struct imap_cleanup *cl;

	cl = imap_cmd_alloc(cmd, sizeof(*cl));
	cl->fn = fn;
	cl->obj = obj;
	cl->next = cmd->cleanup;
	cmd->cleanup = cl;
}

/* imap_ptrvec_push - append a pointer */
void
imap_ptrvec_push(struct imap_ptrvec *pv, void *p)
{
	if (pv->n == pv->alloc) {
		pv->alloc = pv->alloc == 0 ? 8 : pv->alloc * 2;
		pv->v = xreallocarray(pv->v, pv->alloc, sizeof(*pv->v));
	}
	pv->v[pv->n++] = p;
}

/* imap_ptrvec_finish - the array in the arena; the vector is emptied */
void **
imap_ptrvec_finish(struct imap_cmd *cmd, struct imap_ptrvec *pv)
{
	void **v = NULL;

	if (pv->n > 0) {
		v = imap_cmd_alloc(cmd, pv->n * sizeof(*v));
		memcpy(v, pv->v, pv->n * sizeof(*v));
	}
	imap_ptrvec_free(pv);
	return v;
}

/* imap_ptrvec_free - drop the heap array */
void
imap_ptrvec_free(struct imap_ptrvec *pv)
{
	free(pv->v);
	pv->v = NULL;
	pv->n = pv->alloc = 0;
}

/* argvec_push - a new zeroed argument at the end */
static struct imap_arg *
argvec_push(struct argvec *av)
{
	if (av->n == av->alloc) {
		av->alloc = av->alloc == 0 ? 8 : av->alloc * 2;
		av->v = xreallocarray(av->v, av->alloc, sizeof(*av->v));
	}
	memset(&av->v[av->n], 0, sizeof(av->v[0]));
	return &av->v[av->n++];
}

/* argvec_finish - move the arguments into the arena */
static void
argvec_finish(struct imap_cmd *cmd, struct argvec *av,
    struct imap_arg **list_r, size_t *count_r)
{
	*list_r = NULL;
	*count_r = av->n;
	if (av->n > 0) {
		*list_r = imap_cmd_alloc(cmd, av->n * sizeof(*av->v));
		memcpy(*list_r, av->v, av->n * sizeof(*av->v));
	}
	free(av->v);
	av->v = NULL;
	av->n = av->alloc = 0;
}

/* utf8_len - length of the valid UTF-8 sequence at p, 0 if invalid */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	unsigned int cp;

	return str_utf8_len(p, left, &cp);
}

/* is_ctl - CTL of RFC 5234 */
static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* is_tag_char - ASTRING-CHAR except "+" */
static bool
is_tag_char(unsigned char c)
{
	if (is_ctl(c) || c >= 0x80)
		return false;
	return strchr(" (){%*\"\\+", c) == NULL;
}

/* is_atom_stop - a byte that ends a raw atom */
static bool
is_atom_stop(unsigned char c, bool in_section)
{
	if (is_ctl(c))
		return true;
	switch (c) {
	case ' ': case '(': case ')': case '{': case '"':
		return true;
	case ']':
		return in_section;
	default:
		return false;
	}
}

/* ctl_error - the reason for a control byte where an argument starts */
static int
ctl_error(struct tok *t, unsigned char c)
{
	if (c == '\0')
		return fail(t->cmd, "NUL byte in command");
	if (c == '\r')
		return fail(t->cmd, "CR in command line");
	return fail(t->cmd, "Control character in command");
}

/* section_prefix - atoms after which "[" opens a fetch section */
static bool
section_prefix(const char *s, size_t len)
{
	static const char *const words[] = { "BODY", "BODY.PEEK", "BINARY",
	    "BINARY.PEEK", "BINARY.SIZE" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == len &&
		    strncasecmp(words[i], s, len) == 0)
			return true;
	return false;
}

/* scan_atom - advance over atom bytes; -1 on bad UTF-8 */
static int
scan_atom(struct tok *t, bool in_section, bool stop_at_bracket)
{
	const unsigned char *p = (const unsigned char *)t->p;
	const unsigned char *end = (const unsigned char *)t->end;
	size_t n;

	while (p < end && !is_atom_stop(*p, in_section)) {
		if (stop_at_bracket && *p == '[')
			break;
		if (*p >= 0x80) {
			n = utf8_len(p, (size_t)(end - p));
			if (n == 0) {
				t->p = (const char *)p;
				return fail(t->cmd, "Invalid UTF-8 in command");
			}
			p += n;
			continue;
		}
		p++;
	}
	t->p = (const char *)p;
	return 0;
}

/* parse_atom - an atom, NIL, or BODY[section]<partial> */
static int
parse_atom(struct tok *t, bool in_section, unsigned int depth,
    struct imap_arg *a)
{
	const char *start = t->p, *sfx;
	struct argvec sec = { NULL, 0, 0 };

	if (scan_atom(t, in_section, true) < 0)
		return -1;
	if (t->p == start && (t->p == t->end || *t->p != '['))
		return ctl_error(t, (unsigned char)*t->p);
	if (t->p < t->end && *t->p == '[') {
		if (!section_prefix(start, (size_t)(t->p - start))) {
			/* an ordinary atom holding "[", e.g. "[Gmail]/Sent" */
			if (scan_atom(t, in_section, false) < 0)
				return -1;
		} else {
			a->has_section = true;
			a->str = imap_cmd_strndup(t->cmd, start,
			    (size_t)(t->p - start));
			a->len = (size_t)(t->p - start);
			if (depth + 1 > t->cmd->set.max_depth)
				return fail(t->cmd, "Too deeply nested");
			t->p++;
			if (parse_elements(t, ']', depth + 1, &sec) < 0) {
				free(sec.v);
				return -1;
			}
			argvec_finish(t->cmd, &sec, &a->list, &a->count);
			sfx = t->p;
			if (scan_atom(t, in_section, false) < 0)
				return -1;
			a->suffix = imap_cmd_strndup(t->cmd, sfx,
			    (size_t)(t->p - sfx));
			a->type = IMAP_ARG_ATOM;
			return 0;
		}
	}
	a->len = (size_t)(t->p - start);
	a->str = imap_cmd_strndup(t->cmd, start, a->len);
	a->suffix = "";
	a->type = a->len == 3 && strcasecmp(a->str, "NIL") == 0 ?
	    IMAP_ARG_NIL : IMAP_ARG_ATOM;
	return 0;
}

/*
 * parse_quoted - a quoted string, unescaped into the arena.  A first pass
 * checks it and measures it, so that the copy takes only its own size
 * (sizing it by the rest of the line would make a line of many short
 * strings cost memory quadratic in its length).
 */
static int
parse_quoted(struct tok *t, struct imap_arg *a)
{
	const unsigned char *start = (const unsigned char *)t->p + 1;
	const unsigned char *end = (const unsigned char *)t->end;
	const unsigned char *p;
	char *out;
	size_t n = 0, k;

	for (p = start;; ) {
		if (p == end)
			return fail(t->cmd, "Unterminated quoted string");
		if (*p == '"')
			break;
		if (*p == '\\') {
			p++;
			if (p == end)
				return fail(t->cmd,
				    "Unterminated quoted string");
			if (*p != '"' && *p != '\\')
				return fail(t->cmd,
				    "Invalid \\ escape in quoted string");
			p++;
			n++;
			continue;
		}
		if (*p == '\0')
			return fail(t->cmd, "NUL byte in quoted string");
		if (*p == '\r' || *p == '\n')
			return fail(t->cmd, "CR or LF in quoted string");
		if (*p >= 0x80) {
			k = utf8_len(p, (size_t)(end - p));
			if (k == 0)
				return fail(t->cmd,
				    "Invalid UTF-8 in quoted string");
			p += k;
			n += k;
			continue;
		}
		p++;
		n++;
	}
	t->p = (const char *)p + 1;
	out = imap_cmd_alloc(t->cmd, n + 1);
	for (n = 0, p = start; *p != '"'; p++) {
		if (*p == '\\')
			p++;
		out[n++] = (char)*p;
	}
	out[n] = '\0';
	a->type = IMAP_ARG_QUOTED;
	a->str = out;
	a->len = n;
	return 0;
}

/* parse_literal - "{n}" / "{n+}" / "~{n}" ending the line, then the data */
static int
parse_literal(struct tok *t, bool literal8, struct imap_arg *a)
{
	const char *p = t->p + (literal8 ? 2 : 1);
	uint64_t n = 0;
	bool digits = false, plus = false;
	const struct imap_piece *data;

	for (; p < t->end && *p >= '0' && *p <= '9'; p++) {
		if (n > ((uint64_t)IMAP_NUMBER64_MAX - 9) / 10)
			return fail(t->cmd, "Literal size too large");
		n = n * 10 + (uint64_t)(*p - '0');
		digits = true;
	}
	if (p < t->end && *p == '+') {
		plus = true;
		p++;
	}
	if (!digits || p == t->end || *p != '}')
		return fail(t->cmd, "Invalid literal size");
	p++;
	if (p != t->end)
		return fail(t->cmd, "A literal must end the line");
	if (t->pi + 2 >= t->npieces || !t->pieces[t->pi + 1].literal ||
	    t->pieces[t->pi + 2].literal)
		return fail(t->cmd, "Missing literal data");
	data = &t->pieces[t->pi + 1];
	if (data->len != n)
		return fail(t->cmd, "Literal data does not match its size");
	a->type = IMAP_ARG_LITERAL;
	a->str = data->data;
	a->len = data->len;
	a->literal8 = literal8;
	a->literal_plus = plus;
	a->piece = t->pi + 1;
	t->pi += 2;
	t->p = t->pieces[t->pi].data;
	t->end = t->p + t->pieces[t->pi].len;
	return 0;
}

/* parse_element - one argument at t->p */
static int
parse_element(struct tok *t, char term, unsigned int depth,
    struct argvec *av)
{
	struct imap_arg *a;
	struct argvec sub = { NULL, 0, 0 };
	unsigned char c = (unsigned char)*t->p;

	if (++t->cmd->nargs > t->cmd->set.max_args)
		return fail(t->cmd, "Too many arguments");
	switch (c) {
	case ' ':
		return fail(t->cmd, "Extra space");
	case ')':
		return fail(t->cmd, "Unexpected )");
	case '(':
		if (depth + 1 > t->cmd->set.max_depth)
			return fail(t->cmd, "Too deeply nested lists");
		t->p++;
		if (parse_elements(t, ')', depth + 1, &sub) < 0) {
			free(sub.v);
			return -1;
		}
		a = argvec_push(av);
		a->type = IMAP_ARG_LIST;
		a->suffix = "";
		argvec_finish(t->cmd, &sub, &a->list, &a->count);
		return 0;
	}
	/* a section is parsed into its own vector: a stays valid */
	a = argvec_push(av);
	a->suffix = "";
	if (c == '"')
		return parse_quoted(t, a);
	if (c == '{')
		return parse_literal(t, false, a);
	if (c == '~' && t->p + 1 < t->end && t->p[1] == '{')
		return parse_literal(t, true, a);
	return parse_atom(t, term == ']', depth, a);
}

/*
 * parse_elements - arguments up to term: ')' or ']' (consumed), or the end
 * of the command (term 0, where every argument follows a SP)
 */
static int
parse_elements(struct tok *t, char term, unsigned int depth,
    struct argvec *av)
{
	bool first = term != '\0';
	char c;

	for (;;) {
		if (t->p == t->end) {
			if (term == '\0')
				return 0;
			return fail(t->cmd, term == ')' ? "Missing )" :
			    "Missing ] after the section");
		}
		c = *t->p;
		if (term != '\0' && c == term) {
			t->p++;
			return 0;
		}
		if (!first) {
			if (c == ')')
				return fail(t->cmd, "Unexpected )");
			if (is_ctl((unsigned char)c))
				return ctl_error(t, (unsigned char)c);
			if (c != ' ')
				return fail(t->cmd,
				    "Missing space between arguments");
			t->p++;
			if (t->p == t->end)
				return fail(t->cmd, "Trailing space");
			if (*t->p == ' ')
				return fail(t->cmd, "Extra space");
			if (term != '\0' && *t->p == term)
				return fail(t->cmd, term == ')' ?
				    "Extra space before )" :
				    "Extra space before ]");
		}
		if (parse_element(t, term, depth, av) < 0)
			return -1;
		first = false;
	}
}

/* find_cmd - the table row of an upper-case name */
static const struct cmd_def *
find_cmd(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strlen(cmd_defs[i].name) == len &&
		    strncasecmp(cmd_defs[i].name, name, len) == 0)
			return &cmd_defs[i];
	return NULL;
}

/* imap_cmd_id_name - the name of a command id */
const char *
imap_cmd_id_name(enum imap_cmd_id id)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (cmd_defs[i].id == id)
			return cmd_defs[i].name;
	return "UNKNOWN";
}

/* read_word - the bytes up to SP or the end of the line */
static void
read_word(const char **pp, const char *end, const char **w_r, size_t *len_r)
{
	const char *p = *pp;

	*w_r = p;
	while (p < end && *p != ' ')
		p++;
	*len_r = (size_t)(p - *w_r);
	*pp = p;
}

/* imap_parse_peek - tag and command of a first line, cheaply */
enum imap_cmd_id
imap_parse_peek(const char *line, size_t len, bool *uid_r)
{
	const char *p = line, *end = line + len, *w;
	const struct cmd_def *d;
	size_t n;

	*uid_r = false;
	read_word(&p, end, &w, &n);
	if (n == 0 || p == end)
		return IMAP_CMD_UNKNOWN;
	p++;
	read_word(&p, end, &w, &n);
	if (n == 3 && strncasecmp(w, "UID", 3) == 0 && p < end) {
		*uid_r = true;
		p++;
		read_word(&p, end, &w, &n);
	}
	/* "a APPEND x {5}": the name stops at "{" only if no SP came */
	d = find_cmd(w, n);
	if (d == NULL || (*uid_r && !d->uid))
		return IMAP_CMD_UNKNOWN;
	return d->id;
}

/* parse_name - the command name, and the one after "UID" */
static int
parse_name(struct tok *t, const struct cmd_def **def_r)
{
	struct imap_cmd *cmd = t->cmd;
	const struct cmd_def *d;
	const char *w;
	size_t n;

	w = t->p;
	while (t->p < t->end && !is_atom_stop((unsigned char)*t->p, false))
		t->p++;
	n = (size_t)(t->p - w);
	if (n == 0)
		return fail(cmd, t->p == t->end ? "Missing command" :
		    *t->p == ' ' ? "Extra space" : "Invalid command name");
	cmd->name = imap_cmd_strndup(cmd, w, n);
	cmd->name = imap_cmd_strupper(cmd, cmd->name);
	if (strcmp(cmd->name, "UID") == 0) {
		if (t->p == t->end || *t->p != ' ' || t->p + 1 == t->end)
			return fail(cmd, "Missing command after UID");
		t->p++;
		w = t->p;
		while (t->p < t->end &&
		    !is_atom_stop((unsigned char)*t->p, false))
			t->p++;
		n = (size_t)(t->p - w);
		if (n == 0)
			return fail(cmd, "Missing command after UID");
		cmd->uid = true;
		cmd->name = imap_cmd_strupper(cmd,
		    imap_cmd_strndup(cmd, w, n));
		d = find_cmd(w, n);
		if (d == NULL || !d->uid)
			return imap_cmd_fail(cmd, "Unknown command UID %s",
			    cmd->name);
	} else {
		d = find_cmd(w, n);
		if (d == NULL)
			return fail(cmd, "Unknown command");
	}
	cmd->id = d->id;
	*def_r = d;
	if (t->p < t->end && *t->p != ' ')
		return fail(cmd, "Missing space after the command name");
	return 0;
}

/* check_arity - the argument count the table allows */
static int
check_arity(struct imap_cmd *cmd, const struct cmd_def *d)
{
	size_t min, max;

	min = d->min_args;
	max = d->max_args;
	if (cmd->uid && cmd->id == IMAP_CMD_EXPUNGE)
		min = max = 1;
	if (cmd->argc < min)
		return fail(cmd, cmd->argc == 0 ? "Missing arguments" :
		    "Not enough arguments");
	if (cmd->argc > max)
		return fail(cmd, max == 0 ? "This command takes no arguments" :
		    "Too many arguments");
	return 0;
}

/* imap_parse - tag, name and the argument tree of one command */
int
imap_parse(struct imap_cmd *cmd, const struct imap_piece *pieces,
    size_t count, const struct imap_parse_settings *settings)
{
	struct tok t;
	struct argvec av = { NULL, 0, 0 };
	const struct cmd_def *d = NULL;
	const char *w;

	memset(cmd, 0, sizeof(*cmd));
	if (settings != NULL)
		cmd->set = *settings;
	else
		imap_parse_settings_init(&cmd->set);
	cmd->utf8 = cmd->set.utf8;
	if (count == 0 || pieces[0].literal)
		return fail(cmd, "Empty command line");
	memset(&t, 0, sizeof(t));
	t.cmd = cmd;
	t.pieces = pieces;
	t.npieces = count;
	t.p = pieces[0].data;
	t.end = t.p + pieces[0].len;
	if (t.p == t.end)
		return fail(cmd, "Empty command line");

	/* tag */
	w = t.p;
	while (t.p < t.end && *t.p != ' ')
		t.p++;
	if (t.p == w)
		return fail(cmd, "Missing tag");
	for (const char *q = w; q < t.p; q++)
		if (!is_tag_char((unsigned char)*q))
			return fail(cmd, "Invalid tag");
	cmd->tag = imap_cmd_strndup(cmd, w, (size_t)(t.p - w));
	if (t.p == t.end || t.p + 1 == t.end)
		return fail(cmd, "Missing command");
	t.p++;
	if (parse_name(&t, &d) < 0)
		return -1;

	/* arguments: each after one SP */
	if (parse_elements(&t, '\0', 0, &av) < 0) {
		free(av.v);
		return -1;
	}
	argvec_finish(cmd, &av, &cmd->args, &cmd->argc);
	if (t.pi + 1 != t.npieces)
		return fail(cmd, "Unexpected data after the command");
	return check_arity(cmd, d);
}

/*
 * Assembling pieces
 */

/* imap_input_init - empty, capped at max_bytes */
void
imap_input_init(struct imap_input *in, size_t max_bytes)
{
	memset(in, 0, sizeof(*in));
	buf_init(&in->bytes, max_bytes);
}

/* imap_input_deinit - free everything */
void
imap_input_deinit(struct imap_input *in)
{
	buf_deinit(&in->bytes);
	free(in->p);
	free(in->view);
	memset(in, 0, sizeof(*in));
}

/* imap_input_reset - forget the command */
void
imap_input_reset(struct imap_input *in)
{
	buf_reset(&in->bytes);
	in->count = 0;
}

/* imap_input_wipe - forget the command and zero its bytes */
void
imap_input_wipe(struct imap_input *in)
{
	if (in->bytes.data != NULL)
		wipe(in->bytes.data, in->bytes.cap);
	imap_input_reset(in);
}

/* add_piece - a new piece at the end of the bytes */
static struct imap_input_piece *
add_piece(struct imap_input *in, bool literal)
{
	struct imap_input_piece *p;

	if (in->count == in->alloc) {
		in->alloc = in->alloc == 0 ? 4 : in->alloc * 2;
		in->p = xreallocarray(in->p, in->alloc, sizeof(*in->p));
	}
	p = &in->p[in->count++];
	memset(p, 0, sizeof(*p));
	p->off = in->bytes.len;
	p->literal = literal;
	return p;
}

/* imap_input_line - one framed line */
int
imap_input_line(struct imap_input *in, const char *p, size_t len)
{
	struct imap_input_piece *pc;

	if (buf_append(&in->bytes, p, len) < 0)
		return -1;
	pc = add_piece(in, false);
	pc->off = in->bytes.len - len;
	pc->len = len;
	return 0;
}

/* imap_input_literal - bytes of the literal after the last line */
int
imap_input_literal(struct imap_input *in, const void *p, size_t n)
{
	struct imap_input_piece *pc;

	if (buf_append(&in->bytes, p, n) < 0)
		return -1;
	if (in->count > 0 && in->p[in->count - 1].literal &&
	    !in->p[in->count - 1].external) {
		in->p[in->count - 1].len += n;
		return 0;
	}
	pc = add_piece(in, true);
	pc->off = in->bytes.len - n;
	pc->len = n;
	return 0;
}

/* imap_input_literal_end - make sure an empty literal has its piece */
void
imap_input_literal_end(struct imap_input *in)
{
	if (in->count == 0 || !in->p[in->count - 1].literal)
		(void)add_piece(in, true);
}

/* imap_input_literal_external - a literal the caller keeps */
void
imap_input_literal_external(struct imap_input *in, uint64_t len)
{
	struct imap_input_piece *pc;

	pc = add_piece(in, true);
	pc->external = true;
	pc->len = (size_t)len;
}

/* imap_input_pieces - the pieces, pointing into the bytes */
const struct imap_piece *
imap_input_pieces(struct imap_input *in, size_t *count_r)
{
	size_t i;

	if (in->view_alloc < in->count) {
		in->view_alloc = in->alloc;
		in->view = xreallocarray(in->view, in->view_alloc,
		    sizeof(*in->view));
	}
	for (i = 0; i < in->count; i++) {
		in->view[i].literal = in->p[i].literal;
		in->view[i].len = in->p[i].len;
		if (in->p[i].external)
			in->view[i].data = NULL;
		else if (in->bytes.data == NULL)
			in->view[i].data = "";
		else
			in->view[i].data = in->bytes.data + in->p[i].off;
	}
	*count_r = in->count;
	return in->view;
}

/*
 * Dates
 */

static const char *const month_names[] = { "Jan", "Feb", "Mar", "Apr",
    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* days_in_month - 28..31 */
static unsigned int
days_in_month(int year, unsigned int mon)
{
	static const unsigned char d[] = { 31, 28, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };

	if (mon == 2 && (year % 4 == 0 && (year % 100 != 0 ||
	    year % 400 == 0)))
		return 29;
	return d[mon - 1];
}

/* digits - n decimal digits at p */
static bool
digits(const char *p, size_t n, unsigned int *v_r)
{
	unsigned int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned int)(p[i] - '0');
	}
	*v_r = v;
	return true;
}

/* parse_date_at - "d-Mon-yyyy" or "dd-Mon-yyyy"; bytes used or 0 */
static size_t
parse_date_at(const char *s, size_t len, bool space_pad,
    struct imap_date *d_r)
{
	size_t dl, i;
	unsigned int day, year;
	bool padded = false;

	if (space_pad && len > 0 && s[0] == ' ') {
		padded = true;
		s++;
		len--;
		if (len < 1 || s[0] < '0' || s[0] > '9' ||
		    (len > 1 && s[1] != '-'))
			return 0;
		dl = 1;
	} else if (len >= 2 && s[1] == '-') {
		dl = 1;
	} else {
		dl = 2;
	}
	if (len < dl + 9 || !digits(s, dl, &day) || s[dl] != '-' ||
	    s[dl + 4] != '-' || !digits(s + dl + 5, 4, &year))
		return 0;
	for (i = 0; i < 12; i++)
		if (strncasecmp(s + dl + 1, month_names[i], 3) == 0)
			break;
	if (i == 12 || day < 1 || day > days_in_month((int)year,
	    (unsigned int)i + 1))
		return 0;
	d_r->year = (int)year;
	d_r->mon = (unsigned int)i + 1;
	d_r->day = day;
	return dl + 9 + (padded ? 1 : 0);
}

/* imap_parse_date - date-text */
int
imap_parse_date(const char *s, size_t len, struct imap_date *d_r)
{
	struct imap_date d;

	if (len == 0 || parse_date_at(s, len, false, &d) != len)
		return -1;
	*d_r = d;
	return 0;
}

/* imap_date_days - days since 1970-01-01 (H. Hinnant's algorithm) */
int64_t
imap_date_days(const struct imap_date *d)
{
	int64_t y = d->year, era;
	unsigned int m = d->mon, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d->day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* imap_parse_datetime - date-time without its quotes */
int
imap_parse_datetime(const char *s, size_t len, struct imap_datetime *dt_r)
{
	struct imap_date d;
	size_t n;
	unsigned int hh, mm, ss, zh, zm;
	int tz;
	const char *p;

	n = parse_date_at(s, len, true, &d);
	if (n == 0 || len - n != 15)
		return -1;
	p = s + n;
	/* " hh:mm:ss +zzzz" */
	if (p[0] != ' ' || !digits(p + 1, 2, &hh) || p[3] != ':' ||
	    !digits(p + 4, 2, &mm) || p[6] != ':' || !digits(p + 7, 2, &ss) ||
	    p[9] != ' ' || (p[10] != '+' && p[10] != '-') ||
	    !digits(p + 11, 2, &zh) || !digits(p + 13, 2, &zm))
		return -1;
	if (hh > 23 || mm > 59 || ss > 60 || zm > 59 || zh > 23)
		return -1;
	if (ss == 60)
		ss = 59;	/* a leap second: close enough */
	tz = (int)(zh * 60 + zm) * (p[10] == '-' ? -1 : 1);
	dt_r->tz_minutes = tz;
	dt_r->t = imap_date_days(&d) * 86400 + hh * 3600 + mm * 60 + ss -
	    (int64_t)tz * 60;
	return 0;
}

/*
 * Single arguments
 */

/* imap_arg_kind - for error texts */
const char *
imap_arg_kind(const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		return "an atom";
	case IMAP_ARG_NIL:
		return "NIL";
	case IMAP_ARG_QUOTED:
		return "a quoted string";
	case IMAP_ARG_LITERAL:
		return "a literal";
	case IMAP_ARG_LIST:
		return "a list";
	}
	return "?";
}

/* imap_arg_is_atom - the atom word, any case */
bool
imap_arg_is_atom(const struct imap_arg *a, const char *word)
{
	return (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL) &&
	    !a->has_section && strcasecmp(a->str, word) == 0;
}

/* literal_str - a NUL-terminated copy of a literal; -1 without data */
static int
literal_str(struct imap_cmd *cmd, const struct imap_arg *a, bool allow_nul,
    const char **s_r)
{
	if (a->str == NULL && a->len > 0)
		return fail(cmd, "Literal not available here");
	if (!allow_nul && a->len > 0 && memchr(a->str, '\0', a->len) != NULL)
		return fail(cmd, "NUL byte in string");
	*s_r = imap_cmd_strndup(cmd, a->str == NULL ? "" : a->str, a->len);
	return 0;
}

/* imap_arg_astring - atom, NIL as text, quoted or literal */
int
imap_arg_astring(struct imap_cmd *cmd, const struct imap_arg *a,
    const char **s_r)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		if (a->has_section)
			return fail(cmd, "Expected a string");
		/* FALLTHROUGH */
	case IMAP_ARG_NIL:
	case IMAP_ARG_QUOTED:
		*s_r = a->str;
		return 0;
	case IMAP_ARG_LITERAL:
		return literal_str(cmd, a, false, s_r);
	case IMAP_ARG_LIST:
		break;
	}
	return fail(cmd, "Expected a string, got a list");
}

/* imap_arg_string - quoted or literal */
int
imap_arg_string(struct imap_cmd *cmd, const struct imap_arg *a,
    const char **s_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_QUOTED) {
		*s_r = a->str;
	} else if (a->type == IMAP_ARG_LITERAL) {
		if (literal_str(cmd, a, len_r != NULL, s_r) < 0)
			return -1;
	} else {
		return imap_cmd_fail(cmd, "Expected a string, got %s",
		    imap_arg_kind(a));
	}
	if (len_r != NULL)
		*len_r = a->len;
	return 0;
}

/* imap_arg_nstring - NIL or a string */
int
imap_arg_nstring(struct imap_cmd *cmd, const struct imap_arg *a,
    const char **s_r, size_t *len_r)
{
	if (a->type == IMAP_ARG_NIL) {
		*s_r = NULL;
		if (len_r != NULL)
			*len_r = 0;
		return 0;
	}
	return imap_arg_string(cmd, a, s_r, len_r);
}

/* imap_arg_atom - a plain atom */
int
imap_arg_atom(struct imap_cmd *cmd, const struct imap_arg *a,
    const char **s_r)
{
	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NIL) ||
	    a->has_section)
		return imap_cmd_fail(cmd, "Expected an atom, got %s",
		    imap_arg_kind(a));
	*s_r = a->str;
	return 0;
}

/* imap_arg_number - 1*DIGIT in [min, max] */
int
imap_arg_number(struct imap_cmd *cmd, const struct imap_arg *a,
    uint64_t min, uint64_t max, uint64_t *n_r)
{
	uint64_t v = 0;
	size_t i;

	if (a->type != IMAP_ARG_ATOM || a->has_section || a->len == 0)
		return imap_cmd_fail(cmd, "Expected a number, got %s",
		    imap_arg_kind(a));
	for (i = 0; i < a->len; i++) {
		if (a->str[i] < '0' || a->str[i] > '9')
			return imap_cmd_fail(cmd, "Invalid number %s", a->str);
		if (v > (UINT64_MAX - 9) / 10)
			return imap_cmd_fail(cmd, "Number too large: %s",
			    a->str);
		v = v * 10 + (uint64_t)(a->str[i] - '0');
	}
	if (v < min || v > max)
		return imap_cmd_fail(cmd, "Number out of range: %s", a->str);
	*n_r = v;
	return 0;
}

/* seqset_free - release function of a command's seqset */
static void
seqset_free(void *obj)
{
	imap_seqset_deinit(obj);
}

/* imap_arg_seqset_ex - a sequence set, or "$" */
int
imap_arg_seqset_ex(struct imap_cmd *cmd, const struct imap_arg *a,
    bool no_star, struct imap_seqset **set_r, bool *saved_r)
{
	struct imap_seqset *set;
	const char *error;

	if (a->type != IMAP_ARG_ATOM || a->has_section)
		return imap_cmd_fail(cmd, "Expected a sequence set, got %s",
		    imap_arg_kind(a));
	if (saved_r != NULL)
		*saved_r = false;
	if (strcmp(a->str, "$") == 0) {
		if (saved_r == NULL)
			return fail(cmd, "$ is not allowed here");
		*saved_r = true;
		*set_r = NULL;
		return 0;
	}
	set = imap_cmd_alloc(cmd, sizeof(*set));
	imap_seqset_init(set);
	imap_cmd_on_free(cmd, seqset_free, set);
	if (imap_seqset_parse(set, a->str, a->len, no_star, &error) < 0)
		return fail(cmd, error);
	*set_r = set;
	return 0;
}

/* imap_arg_seqset - a sequence set, or "$" when saved_r is given */
int
imap_arg_seqset(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_seqset **set_r, bool *saved_r)
{
	return imap_arg_seqset_ex(cmd, a, false, set_r, saved_r);
}

/* imap_arg_mailbox - a checked, canonical UTF-8 mailbox name */
int
imap_arg_mailbox(struct imap_cmd *cmd, const struct imap_arg *a,
    const char **name_r)
{
	const char *s, *error;
	char *utf8 = NULL, *canon;

	if (imap_arg_astring(cmd, a, &s) < 0)
		return -1;
	if (!cmd->utf8) {
		if (store_name_from_mutf7(s, &utf8) < 0) {
			cmd->error_no = true;
			return fail(cmd,
			    "Invalid mailbox name: bad modified UTF-7");
		}
		s = utf8;
	}
	if (strpbrk(s, "%*") != NULL) {
		free(utf8);
		cmd->error_no = true;
		return fail(cmd, "Invalid mailbox name: it holds a wildcard");
	}
	if (store_name_check(s, &canon, &error) < 0) {
		free(utf8);
		cmd->error_no = true;
		return imap_cmd_fail(cmd, "Invalid mailbox name: %s", error);
	}
	*name_r = imap_cmd_strndup(cmd, canon, strlen(canon));
	free(canon);
	free(utf8);
	return 0;
}

/* is_keyword_char - ATOM-CHAR */
static bool
is_keyword_char(unsigned char c)
{
	if (is_ctl(c) || c >= 0x80)
		return false;
	return strchr(" (){%*\"\\]", c) == NULL;
}

/* imap_arg_flag - one flag into f */
int
imap_arg_flag(struct imap_cmd *cmd, const struct imap_arg *a,
    bool allow_recent, struct imap_flags *f)
{
	unsigned int bit;
	size_t i;
	const char **kw;

	if (a->type != IMAP_ARG_ATOM || a->has_section)
		return imap_cmd_fail(cmd, "Expected a flag, got %s",
		    imap_arg_kind(a));
	if (a->str[0] == '\\') {
		bit = imap_flag_from_name(a->str);
		if (bit == 0)
			return imap_cmd_fail(cmd, "Unknown system flag %s",
			    a->str);
		if (bit == IMAP_FLAG_RECENT && !allow_recent)
			return fail(cmd, "\\Recent cannot be set");
		f->system |= bit;
		return 0;
	}
	for (i = 0; i < a->len; i++)
		if (!is_keyword_char((unsigned char)a->str[i]))
			return imap_cmd_fail(cmd, "Invalid keyword %s", a->str);
	for (i = 0; i < f->keyword_count; i++)
		if (strcasecmp(f->keywords[i], a->str) == 0)
			return 0;
	/* the duplicate check is quadratic: keep it small */
	if (f->keyword_count == IMAP_MAX_KEYWORDS)
		return fail(cmd, "Too many keywords");
	/* keep the array in the arena; grow by doubling at powers of 2 */
	if ((f->keyword_count & (f->keyword_count - 1)) == 0) {
		kw = imap_cmd_alloc(cmd, (f->keyword_count == 0 ? 1 :
		    f->keyword_count * 2) * sizeof(*kw));
		if (f->keyword_count > 0)
			memcpy(kw, f->keywords,
			    f->keyword_count * sizeof(*kw));
		f->keywords = kw;
	}
	f->keywords[f->keyword_count++] = a->str;
	return 0;
}

/* imap_arg_flag_list - "(" flags ")" */
int
imap_arg_flag_list(struct imap_cmd *cmd, const struct imap_arg *a,
    bool allow_recent, struct imap_flags *f_r)
{
	size_t i;

	memset(f_r, 0, sizeof(*f_r));
	if (a->type != IMAP_ARG_LIST)
		return imap_cmd_fail(cmd, "Expected a flag list, got %s",
		    imap_arg_kind(a));
	for (i = 0; i < a->count; i++)
		if (imap_arg_flag(cmd, &a->list[i], allow_recent, f_r) < 0)
			return -1;
	return 0;
}

/* imap_arg_date - date: atom or quoted date-text */
int
imap_arg_date(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_date *d_r)
{
	if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED) ||
	    a->has_section)
		return imap_cmd_fail(cmd, "Expected a date, got %s",
		    imap_arg_kind(a));
	if (imap_parse_date(a->str, a->len, d_r) < 0)
		return imap_cmd_fail(cmd, "Invalid date %s", a->str);
	return 0;
}

/* imap_arg_datetime - date-time: a quoted string */
int
imap_arg_datetime(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_datetime *dt_r)
{
	if (a->type != IMAP_ARG_QUOTED)
		return imap_cmd_fail(cmd, "Expected a date-time, got %s",
		    imap_arg_kind(a));
	if (imap_parse_datetime(a->str, a->len, dt_r) < 0)
		return imap_cmd_fail(cmd, "Invalid date-time \"%s\"", a->str);
	return 0;
}
