/* imap_parse_cmds.c - typed arguments of LIST, STATUS, APPEND, SELECT and
 * the smaller commands, after imap_parse() */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_name.h"
#include "xmalloc.h"

#include "imap_parse.h"
#include "imap_parse_private.h"

/* a word and its bit, for option tables */
struct word_bit {
	const char	*name;
	unsigned int	 bit;
};

static const struct word_bit status_items[] = {
	{ "MESSAGES",		IMAP_STATUS_MESSAGES },
	{ "RECENT",		IMAP_STATUS_RECENT },
	{ "UIDNEXT",		IMAP_STATUS_UIDNEXT },
	{ "UIDVALIDITY",	IMAP_STATUS_UIDVALIDITY },
	{ "UNSEEN",		IMAP_STATUS_UNSEEN },
	{ "DELETED",		IMAP_STATUS_DELETED },
	{ "SIZE",		IMAP_STATUS_SIZE },
	{ "HIGHESTMODSEQ",	IMAP_STATUS_HIGHESTMODSEQ },
	{ "APPENDLIMIT",	IMAP_STATUS_APPENDLIMIT },
	{ "MAILBOXID",		IMAP_STATUS_MAILBOXID },
};

static const struct word_bit use_attrs[] = {
	{ "\\All",		IMAP_USE_ALL },
	{ "\\Archive",		IMAP_USE_ARCHIVE },
	{ "\\Drafts",		IMAP_USE_DRAFTS },
	{ "\\Flagged",		IMAP_USE_FLAGGED },
	{ "\\Junk",		IMAP_USE_JUNK },
	{ "\\Sent",		IMAP_USE_SENT },
	{ "\\Trash",		IMAP_USE_TRASH },
	{ "\\Important",	IMAP_USE_IMPORTANT },
};

static const struct word_bit list_select[] = {
	{ "SUBSCRIBED",		IMAP_LIST_SEL_SUBSCRIBED },
	{ "REMOTE",		IMAP_LIST_SEL_REMOTE },
	{ "RECURSIVEMATCH",	IMAP_LIST_SEL_RECURSIVEMATCH },
	{ "SPECIAL-USE",	IMAP_LIST_SEL_SPECIAL_USE },
};

static const struct word_bit list_return[] = {
	{ "SUBSCRIBED",		IMAP_LIST_RET_SUBSCRIBED },
	{ "CHILDREN",		IMAP_LIST_RET_CHILDREN },
	{ "SPECIAL-USE",	IMAP_LIST_RET_SPECIAL_USE },
	{ "STATUS",		IMAP_LIST_RET_STATUS },
	{ "MYRIGHTS",		IMAP_LIST_RET_MYRIGHTS },
};

#define NWORDS(t)	(sizeof(t) / sizeof((t)[0]))

/* word_lookup - the bit of an atom in a table, 0 if absent */
static unsigned int
word_lookup(const struct word_bit *t, size_t n, const struct imap_arg *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (imap_arg_is_atom(a, t[i].name))
			return t[i].bit;
	return 0;
}

/* word_name - the name of one bit in a table */
static const char *
word_name(const struct word_bit *t, size_t n, unsigned int bit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].bit == bit)
			return t[i].name;
	return NULL;
}

/* arg_text - an argument for an error message */
static const char *
arg_text(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL ?
	    a->str : imap_arg_kind(a);
}

/* imap_status_item_name - "MESSAGES" */
const char *
imap_status_item_name(unsigned int item)
{
	return word_name(status_items, NWORDS(status_items), item);
}

/* imap_use_name - "\Drafts" */
const char *
imap_use_name(unsigned int use)
{
	return word_name(use_attrs, NWORDS(use_attrs), use);
}

/* imap_arg_status_items - "(" status-att *(SP status-att) ")" */
int
imap_arg_status_items(struct imap_cmd *cmd, const struct imap_arg *a,
    unsigned int *items_r)
{
	unsigned int bit;
	size_t i;

	*items_r = 0;
	if (a->type != IMAP_ARG_LIST)
		return imap_cmd_fail(cmd, "Expected a list of STATUS items, "
		    "got %s", imap_arg_kind(a));
	if (a->count == 0)
		return imap_cmd_fail(cmd, "Empty list of STATUS items");
	for (i = 0; i < a->count; i++) {
		bit = word_lookup(status_items, NWORDS(status_items),
		    &a->list[i]);
		if (bit == 0)
			return imap_cmd_fail(cmd, "Unknown STATUS item %s",
			    arg_text(&a->list[i]));
		*items_r |= bit;
	}
	return 0;
}

/* imap_parse_status - STATUS mailbox (items) */
int
imap_parse_status(struct imap_cmd *cmd, struct imap_status *s_r)
{
	memset(s_r, 0, sizeof(*s_r));
	if (cmd->argc != 2)
		return imap_cmd_fail(cmd, "Syntax: STATUS mailbox (items)");
	if (imap_arg_status_items(cmd, &cmd->args[1], &s_r->items) < 0)
		return -1;
	return imap_arg_mailbox(cmd, &cmd->args[0], &s_r->mailbox);
}

/* list_name - a reference or pattern as UTF-8, wildcards kept */
static int
list_name(struct imap_cmd *cmd, const struct imap_arg *a, const char **s_r)
{
	const char *s;
	char *utf8;

	if (imap_arg_astring(cmd, a, &s) < 0)
		return -1;
	if (!cmd->utf8) {
		if (store_name_from_mutf7(s, &utf8) < 0)
			return imap_cmd_fail(cmd, "Invalid modified UTF-7 in "
			    "%s", s);
		s = imap_cmd_strndup(cmd, utf8, strlen(utf8));
		free(utf8);
	}
	*s_r = s;
	return 0;
}

/* list_return_opts - RETURN (SUBSCRIBED CHILDREN STATUS (...) ...) */
static int
list_return_opts(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_list *l)
{
	unsigned int bit;
	size_t i;

	if (a->type != IMAP_ARG_LIST)
		return imap_cmd_fail(cmd, "RETURN needs a list of options");
	for (i = 0; i < a->count; i++) {
		bit = word_lookup(list_return, NWORDS(list_return),
		    &a->list[i]);
		if (bit == 0)
			return imap_cmd_fail(cmd, "Unknown LIST return "
			    "option %s", arg_text(&a->list[i]));
		if (bit == IMAP_LIST_RET_STATUS) {
			if (i + 1 == a->count)
				return imap_cmd_fail(cmd, "STATUS needs a "
				    "list of items");
			if (imap_arg_status_items(cmd, &a->list[++i],
			    &l->status) < 0)
				return -1;
		}
		l->ret |= bit;
	}
	return 0;
}

/* imap_parse_list - LIST [(sel)] ref pattern(s) [RETURN (opts)]; LSUB */
int
imap_parse_list(struct imap_cmd *cmd, struct imap_list *l_r)
{
	const struct imap_arg *a;
	struct imap_ptrvec pv = { NULL, 0, 0 };
	const char *s;
	unsigned int bit;
	size_t i = 0, k;

	memset(l_r, 0, sizeof(*l_r));
	l_r->lsub = cmd->id == IMAP_CMD_LSUB;
	if (!l_r->lsub && cmd->argc > 0 &&
	    cmd->args[0].type == IMAP_ARG_LIST) {
		a = &cmd->args[0];
		l_r->extended = true;
		for (k = 0; k < a->count; k++) {
			bit = word_lookup(list_select, NWORDS(list_select),
			    &a->list[k]);
			if (bit == 0)
				return imap_cmd_fail(cmd, "Unknown LIST "
				    "selection option %s",
				    arg_text(&a->list[k]));
			l_r->select |= bit;
		}
		/* RFC 5258 3.1 */
		if ((l_r->select & IMAP_LIST_SEL_RECURSIVEMATCH) &&
		    (l_r->select & ~(IMAP_LIST_SEL_RECURSIVEMATCH |
		    IMAP_LIST_SEL_REMOTE)) == 0)
			return imap_cmd_fail(cmd, "RECURSIVEMATCH needs "
			    "another selection option");
		i++;
	}
	if (cmd->argc < i + 2)
		return imap_cmd_fail(cmd, "Syntax: LIST reference pattern");
	if (list_name(cmd, &cmd->args[i], &l_r->reference) < 0)
		return -1;
	a = &cmd->args[i + 1];
	if (a->type == IMAP_ARG_LIST && !l_r->lsub) {
		l_r->extended = true;
		if (a->count == 0)
			return imap_cmd_fail(cmd, "Empty list of patterns");
		for (k = 0; k < a->count; k++) {
			if (list_name(cmd, &a->list[k], &s) < 0) {
				imap_ptrvec_free(&pv);
				return -1;
			}
			imap_ptrvec_push(&pv, (void *)s);
		}
	} else {
		if (list_name(cmd, a, &s) < 0)
			return -1;
		imap_ptrvec_push(&pv, (void *)s);
	}
	l_r->pattern_count = pv.n;
	l_r->patterns = (const char **)imap_ptrvec_finish(cmd, &pv);
	i += 2;
	if (i < cmd->argc) {
		if (l_r->lsub || !imap_arg_is_atom(&cmd->args[i], "RETURN"))
			return imap_cmd_fail(cmd, "Unexpected argument %s "
			    "after the pattern", arg_text(&cmd->args[i]));
		if (i + 1 >= cmd->argc)
			return imap_cmd_fail(cmd, "RETURN needs a list of "
			    "options");
		l_r->extended = true;
		if (list_return_opts(cmd, &cmd->args[i + 1], l_r) < 0)
			return -1;
		i += 2;
	}
	if (i < cmd->argc)
		return imap_cmd_fail(cmd, "Too many arguments");
	return 0;
}

/* append_data - literal, literal8, or UTF8 (literal8) */
static int
append_data(struct imap_cmd *cmd, size_t *ip, struct imap_append_msg *m)
{
	const struct imap_arg *a = &cmd->args[*ip], *lit;

	if (a->type == IMAP_ARG_LITERAL) {
		m->data = a;
		m->binary = a->literal8;
		(*ip)++;
		return 0;
	}
	if (!imap_arg_is_atom(a, "UTF8"))
		return imap_cmd_fail(cmd, "Expected the message as a literal, "
		    "got %s", arg_text(a));
	if (!cmd->utf8)
		return imap_cmd_fail(cmd, "APPEND UTF8 needs ENABLE "
		    "UTF8=ACCEPT");
	if (*ip + 1 >= cmd->argc || cmd->args[*ip + 1].type != IMAP_ARG_LIST ||
	    cmd->args[*ip + 1].count != 1 ||
	    cmd->args[*ip + 1].list[0].type != IMAP_ARG_LITERAL)
		return imap_cmd_fail(cmd, "Syntax: UTF8 (~{n}message)");
	lit = &cmd->args[*ip + 1].list[0];
	m->data = lit;
	m->binary = lit->literal8;
	m->utf8 = true;
	*ip += 2;
	return 0;
}

/* imap_parse_append - APPEND mailbox 1*([flags] [date-time] data) */
int
imap_parse_append(struct imap_cmd *cmd, struct imap_append *a_r)
{
	struct imap_append_msg *msgs;
	size_t i = 1, n = 0;

	memset(a_r, 0, sizeof(*a_r));
	if (cmd->argc < 2)
		return imap_cmd_fail(cmd, "Syntax: APPEND mailbox [(flags)] "
		    "[date-time] literal");
	/* at most one message per argument left */
	msgs = imap_cmd_alloc(cmd, (cmd->argc - 1) * sizeof(*msgs));
	while (i < cmd->argc) {
		struct imap_append_msg *m = &msgs[n];

		if (cmd->args[i].type == IMAP_ARG_LIST) {
			if (imap_arg_flag_list(cmd, &cmd->args[i], false,
			    &m->flags) < 0)
				return -1;
			i++;
		}
		if (i < cmd->argc && cmd->args[i].type == IMAP_ARG_QUOTED) {
			if (imap_arg_datetime(cmd, &cmd->args[i], &m->date) < 0)
				return -1;
			m->has_date = true;
			i++;
		}
		if (i == cmd->argc)
			return imap_cmd_fail(cmd, "Missing the message "
			    "literal");
		if (append_data(cmd, &i, m) < 0)
			return -1;
		n++;
	}
	a_r->msgs = msgs;
	a_r->count = n;
	return imap_arg_mailbox(cmd, &cmd->args[0], &a_r->mailbox);
}

/* qresync_params - (uidvalidity modseq [known-uids] [(seqs uids)]) */
static int
qresync_params(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_select *s)
{
	uint64_t v;
	size_t i = 2;
	const struct imap_arg *m;

	if (a->type != IMAP_ARG_LIST || a->count < 2 || a->count > 4)
		return imap_cmd_fail(cmd, "Syntax: QRESYNC (uidvalidity "
		    "modseq [known-uids] [(sequences uids)])");
	if (imap_arg_number(cmd, &a->list[0], 1, UINT32_MAX, &v) < 0)
		return -1;
	s->uidvalidity = (uint32_t)v;
	if (imap_arg_number(cmd, &a->list[1], 0, IMAP_NUMBER64_MAX,
	    &s->modseq) < 0)
		return -1;
	if (i < a->count && a->list[i].type != IMAP_ARG_LIST) {
		if (imap_arg_seqset_ex(cmd, &a->list[i], true, &s->known_uids,
		    NULL) < 0)
			return -1;
		i++;
	}
	if (i < a->count) {
		m = &a->list[i];
		if (m->type != IMAP_ARG_LIST || m->count != 2)
			return imap_cmd_fail(cmd, "Syntax: QRESYNC "
			    "sequence match data is (sequences uids)");
		if (imap_arg_seqset_ex(cmd, &m->list[0], true, &s->match_seqs,
		    NULL) < 0 ||
		    imap_arg_seqset_ex(cmd, &m->list[1], true, &s->match_uids,
		    NULL) < 0)
			return -1;
		i++;
	}
	if (i < a->count)
		return imap_cmd_fail(cmd, "Unexpected argument in QRESYNC");
	return 0;
}

/* imap_parse_select - SELECT/EXAMINE mailbox [(CONDSTORE / QRESYNC ..)] */
int
imap_parse_select(struct imap_cmd *cmd, struct imap_select *s_r)
{
	const struct imap_arg *a;
	size_t i;

	memset(s_r, 0, sizeof(*s_r));
	if (cmd->argc < 1 || cmd->argc > 2)
		return imap_cmd_fail(cmd, "Syntax: SELECT mailbox "
		    "[(parameters)]");
	if (cmd->argc == 2) {
		a = &cmd->args[1];
		if (a->type != IMAP_ARG_LIST)
			return imap_cmd_fail(cmd, "Expected a list of SELECT "
			    "parameters, got %s", arg_text(a));
		if (a->count == 0)
			return imap_cmd_fail(cmd, "Empty list of SELECT "
			    "parameters");
		for (i = 0; i < a->count; i++) {
			if (imap_arg_is_atom(&a->list[i], "CONDSTORE")) {
				if (s_r->condstore)
					return imap_cmd_fail(cmd, "CONDSTORE "
					    "given twice");
				s_r->condstore = true;
			} else if (imap_arg_is_atom(&a->list[i], "QRESYNC")) {
				if (s_r->qresync)
					return imap_cmd_fail(cmd, "QRESYNC "
					    "given twice");
				if (i + 1 == a->count)
					return imap_cmd_fail(cmd, "QRESYNC "
					    "needs its parameters");
				if (qresync_params(cmd, &a->list[++i],
				    s_r) < 0)
					return -1;
				s_r->qresync = true;
			} else {
				return imap_cmd_fail(cmd, "Unknown SELECT "
				    "parameter %s", arg_text(&a->list[i]));
			}
		}
	}
	return imap_arg_mailbox(cmd, &cmd->args[0], &s_r->mailbox);
}

/* imap_parse_create - CREATE mailbox [(USE (\Drafts ...))] */
int
imap_parse_create(struct imap_cmd *cmd, struct imap_create *c_r)
{
	const struct imap_arg *a, *use;
	struct imap_arg name;
	unsigned int bit;
	size_t i, k, len;
	const char *s;

	memset(c_r, 0, sizeof(*c_r));
	if (cmd->argc < 1 || cmd->argc > 2)
		return imap_cmd_fail(cmd, "Syntax: CREATE mailbox "
		    "[(USE (attributes))]");
	if (cmd->argc == 2) {
		a = &cmd->args[1];
		if (a->type != IMAP_ARG_LIST)
			return imap_cmd_fail(cmd, "Expected a list of CREATE "
			    "parameters, got %s", arg_text(a));
		for (i = 0; i < a->count; i++) {
			if (!imap_arg_is_atom(&a->list[i], "USE"))
				return imap_cmd_fail(cmd, "Unknown CREATE "
				    "parameter %s", arg_text(&a->list[i]));
			if (i + 1 == a->count ||
			    a->list[i + 1].type != IMAP_ARG_LIST)
				return imap_cmd_fail(cmd, "USE needs a list "
				    "of attributes");
			use = &a->list[++i];
			for (k = 0; k < use->count; k++) {
				bit = word_lookup(use_attrs, NWORDS(use_attrs),
				    &use->list[k]);
				if (bit == 0) {
					cmd->error_no = true;
					cmd->error_code = "USEATTR";
					return imap_cmd_fail(cmd, "Unsupported "
					    "special-use attribute %s",
					    arg_text(&use->list[k]));
				}
				c_r->use |= bit;
			}
		}
	}
	/* RFC 9051 6.3.4: a trailing separator only declares the intent to
	 * create children; "a/" creates "a" */
	if (imap_arg_astring(cmd, &cmd->args[0], &s) < 0)
		return -1;
	len = strlen(s);
	name = cmd->args[0];
	if (len > 1 && s[len - 1] == STORE_NAME_SEP) {
		name.type = IMAP_ARG_QUOTED;
		name.str = imap_cmd_strndup(cmd, s, len - 1);
		name.len = len - 1;
	}
	return imap_arg_mailbox(cmd, &name, &c_r->mailbox);
}

/* imap_parse_enable - ENABLE 1*(SP capability) */
int
imap_parse_enable(struct imap_cmd *cmd, const char ***caps_r,
    size_t *count_r)
{
	const char **caps, *s;
	size_t i;

	*caps_r = NULL;
	*count_r = 0;
	if (cmd->argc == 0)
		return imap_cmd_fail(cmd, "ENABLE needs capabilities");
	caps = imap_cmd_alloc(cmd, cmd->argc * sizeof(*caps));
	for (i = 0; i < cmd->argc; i++) {
		if (imap_arg_atom(cmd, &cmd->args[i], &s) < 0)
			return -1;
		caps[i] = imap_cmd_strupper(cmd, s);
	}
	*caps_r = caps;
	*count_r = cmd->argc;
	return 0;
}

/* imap_parse_id - ID ("key" "value" ...) or ID NIL (RFC 2971) */
int
imap_parse_id(struct imap_cmd *cmd, const char ***keys_r,
    const char ***values_r, size_t *count_r)
{
	const struct imap_arg *a;
	const char **keys, **values;
	size_t i, n;

	*keys_r = *values_r = NULL;
	*count_r = 0;
	if (cmd->argc != 1)
		return imap_cmd_fail(cmd, "Syntax: ID (\"key\" \"value\" ...) "
		    "or ID NIL");
	a = &cmd->args[0];
	if (a->type == IMAP_ARG_NIL)
		return 0;
	if (a->type != IMAP_ARG_LIST)
		return imap_cmd_fail(cmd, "Expected ID parameters in a list, "
		    "got %s", arg_text(a));
	if (a->count % 2 != 0)
		return imap_cmd_fail(cmd, "ID parameters come in pairs");
	n = a->count / 2;
	if (n > IMAP_ID_MAX_PAIRS)
		return imap_cmd_fail(cmd, "Too many ID parameters");
	keys = imap_cmd_alloc(cmd, (n + 1) * sizeof(*keys));
	values = imap_cmd_alloc(cmd, (n + 1) * sizeof(*values));
	for (i = 0; i < n; i++) {
		/* RFC 2971 says string; atoms are accepted, harmlessly */
		if (a->list[2 * i].type == IMAP_ARG_NIL)
			return imap_cmd_fail(cmd, "An ID field cannot be NIL");
		if (imap_arg_astring(cmd, &a->list[2 * i], &keys[i]) < 0)
			return -1;
		if (strlen(keys[i]) > IMAP_ID_MAX_FIELD)
			return imap_cmd_fail(cmd, "ID field name too long");
		if (a->list[2 * i + 1].type == IMAP_ARG_NIL) {
			values[i] = NULL;
			continue;
		}
		if (imap_arg_astring(cmd, &a->list[2 * i + 1], &values[i]) < 0)
			return -1;
		if (strlen(values[i]) > IMAP_ID_MAX_VALUE)
			return imap_cmd_fail(cmd, "ID value too long");
	}
	*keys_r = keys;
	*values_r = values;
	*count_r = n;
	return 0;
}

/* imap_parse_login - LOGIN userid password */
int
imap_parse_login(struct imap_cmd *cmd, const char **user_r,
    const char **pass_r)
{
	if (cmd->argc != 2)
		return imap_cmd_fail(cmd, "Syntax: LOGIN user password");
	if (imap_arg_astring(cmd, &cmd->args[0], user_r) < 0 ||
	    imap_arg_astring(cmd, &cmd->args[1], pass_r) < 0)
		return -1;
	return 0;
}

/* is_base64_or_eq - base64 characters and padding, or a lone "=" */
static bool
is_base64_or_eq(const char *s)
{
	size_t len = strlen(s), i, pad = 0;

	if (strcmp(s, "=") == 0)
		return true;
	if (len == 0 || len % 4 != 0)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || !((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/'))
			return false;
	}
	return pad <= 2;
}

/* imap_parse_authenticate - AUTHENTICATE mech [initial-response] */
int
imap_parse_authenticate(struct imap_cmd *cmd, const char **mech_r,
    const char **initial_r)
{
	const char *mech, *ir;
	size_t i;

	*initial_r = NULL;
	if (cmd->argc < 1 || cmd->argc > 2)
		return imap_cmd_fail(cmd, "Syntax: AUTHENTICATE mechanism "
		    "[initial-response]");
	if (imap_arg_atom(cmd, &cmd->args[0], &mech) < 0)
		return -1;
	for (i = 0; mech[i] != '\0'; i++)
		if (!((mech[i] >= 'A' && mech[i] <= 'Z') ||
		    (mech[i] >= 'a' && mech[i] <= 'z') ||
		    (mech[i] >= '0' && mech[i] <= '9') || mech[i] == '-' ||
		    mech[i] == '_'))
			return imap_cmd_fail(cmd, "Invalid SASL mechanism "
			    "name");
	if (i > 20)
		return imap_cmd_fail(cmd, "Invalid SASL mechanism name");
	*mech_r = imap_cmd_strupper(cmd, mech);
	if (cmd->argc == 2) {
		if (imap_arg_atom(cmd, &cmd->args[1], &ir) < 0)
			return -1;
		if (!is_base64_or_eq(ir))
			return imap_cmd_fail(cmd, "Invalid initial response: "
			    "not base64");
		*initial_r = ir;
	}
	return 0;
}

/* imap_parse_copy - COPY/MOVE sequence-set mailbox */
int
imap_parse_copy(struct imap_cmd *cmd, struct imap_seqset **set_r,
    bool *saved_r, const char **mailbox_r)
{
	if (cmd->argc != 2)
		return imap_cmd_fail(cmd, "Syntax: %s sequence-set mailbox",
		    cmd->name);
	if (imap_arg_seqset(cmd, &cmd->args[0], set_r, saved_r) < 0)
		return -1;
	return imap_arg_mailbox(cmd, &cmd->args[1], mailbox_r);
}

/* imap_parse_rename - RENAME from to */
int
imap_parse_rename(struct imap_cmd *cmd, const char **from_r,
    const char **to_r)
{
	if (cmd->argc != 2)
		return imap_cmd_fail(cmd, "Syntax: RENAME from to");
	if (imap_arg_mailbox(cmd, &cmd->args[0], from_r) < 0 ||
	    imap_arg_mailbox(cmd, &cmd->args[1], to_r) < 0)
		return -1;
	return 0;
}

/* imap_parse_mailbox_only - one mailbox argument */
int
imap_parse_mailbox_only(struct imap_cmd *cmd, const char **mailbox_r)
{
	if (cmd->argc != 1)
		return imap_cmd_fail(cmd, "Syntax: %s mailbox", cmd->name);
	return imap_arg_mailbox(cmd, &cmd->args[0], mailbox_r);
}

/* imap_parse_uid_expunge - UID EXPUNGE uid-set */
int
imap_parse_uid_expunge(struct imap_cmd *cmd, struct imap_seqset **set_r,
    bool *saved_r)
{
	if (cmd->argc != 1)
		return imap_cmd_fail(cmd, "Syntax: UID EXPUNGE uid-set");
	return imap_arg_seqset(cmd, &cmd->args[0], set_r, saved_r);
}
