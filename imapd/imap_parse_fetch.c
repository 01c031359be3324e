/* imap_parse_fetch.c - FETCH attributes and STORE, after imap_parse() */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xmalloc.h"

#include "imap_parse.h"
#include "imap_parse_private.h"
#include "imap_write.h"

/* the attributes that are a single word */
static const struct {
	const char	*name;
	enum imap_fetch_att att;
	bool		 peek;
} simple_atts[] = {
	{ "ENVELOPE",		IMAP_FETCH_ENVELOPE,		true },
	{ "FLAGS",		IMAP_FETCH_FLAGS,		true },
	{ "INTERNALDATE",	IMAP_FETCH_INTERNALDATE,	true },
	{ "RFC822",		IMAP_FETCH_RFC822,		false },
	{ "RFC822.HEADER",	IMAP_FETCH_RFC822_HEADER,	true },
	{ "RFC822.SIZE",	IMAP_FETCH_RFC822_SIZE,		true },
	{ "RFC822.TEXT",	IMAP_FETCH_RFC822_TEXT,		false },
	{ "BODY",		IMAP_FETCH_BODY,		true },
	{ "BODYSTRUCTURE",	IMAP_FETCH_BODYSTRUCTURE,	true },
	{ "UID",		IMAP_FETCH_UID,			true },
	{ "MODSEQ",		IMAP_FETCH_MODSEQ,		true },
	{ "EMAILID",		IMAP_FETCH_EMAILID,		true },
	{ "THREADID",		IMAP_FETCH_THREADID,		true },
	{ "SAVEDATE",		IMAP_FETCH_SAVEDATE,		true },
};

#define NSIMPLE	(sizeof(simple_atts) / sizeof(simple_atts[0]))

/* growable array of items, copied into the arena at the end */
struct itemvec {
	struct imap_fetch_item *v;
	size_t		 n;
	size_t		 alloc;
};

/* itemvec_push - a zeroed item at the end */
static struct imap_fetch_item *
itemvec_push(struct itemvec *iv)
{
	if (iv->n == iv->alloc) {
		iv->alloc = iv->alloc == 0 ? 8 : iv->alloc * 2;
		iv->v = xreallocarray(iv->v, iv->alloc, sizeof(*iv->v));
	}
	memset(&iv->v[iv->n], 0, sizeof(iv->v[0]));
	return &iv->v[iv->n++];
}

/* add_simple - one single-word attribute by table index */
static void
add_simple(struct itemvec *iv, size_t i)
{
	struct imap_fetch_item *it = itemvec_push(iv);

	it->att = simple_atts[i].att;
	it->peek = simple_atts[i].peek;
	it->resp_name = simple_atts[i].name;
}

/* add_simple_att - by attribute */
static void
add_simple_att(struct itemvec *iv, enum imap_fetch_att att)
{
	size_t i;

	for (i = 0; i < NSIMPLE; i++)
		if (simple_atts[i].att == att)
			add_simple(iv, i);
}

/* section_free - release function of a command's section */
static void
section_free(void *obj)
{
	imap_section_deinit(obj);
}

/*
 * section_text - the section-spec text of BODY[...] back from the
 * arguments the tokenizer made of it, for imap_section_parse(), so that
 * the section grammar lives in one place (imap_section.c).  Field names
 * go back as atoms, quoted strings or inline literals.
 */
static int
section_text(struct imap_cmd *cmd, const struct imap_arg *a, struct buf *b)
{
	const struct imap_arg *spec, *fields;
	const char *s;
	size_t i;

	if (a->count == 0)
		return 0;
	spec = &a->list[0];
	if (spec->type != IMAP_ARG_ATOM || spec->has_section)
		return imap_cmd_fail(cmd, "Invalid section: %s",
		    imap_arg_kind(spec));
	buf_append(b, spec->str, spec->len);
	if (a->count == 1)
		return 0;
	fields = &a->list[1];
	if (a->count > 2 || fields->type != IMAP_ARG_LIST)
		return imap_cmd_fail(cmd, "Unexpected arguments in section %s",
		    spec->str);
	buf_append(b, " (", 2);
	for (i = 0; i < fields->count; i++) {
		if (imap_arg_astring(cmd, &fields->list[i], &s) < 0)
			return -1;
		if (i > 0)
			buf_append_byte(b, ' ');
		imap_write_astring_str(b, s, 0);
	}
	buf_append_byte(b, ')');
	return 0;
}

/* parse_section - the [section] and <partial> of an atom */
static int
parse_section(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_fetch_item *it)
{
	struct imap_section *sec;
	struct buf b;
	const char *error;
	size_t n;
	int r;

	sec = imap_cmd_alloc(cmd, sizeof(*sec));
	buf_init(&b, 0);
	if (section_text(cmd, a, &b) < 0) {
		buf_deinit(&b);
		return -1;
	}
	r = imap_section_parse(buf_ptr(&b), buf_avail(&b), sec, &error);
	buf_deinit(&b);
	if (r < 0)
		return imap_cmd_fail(cmd, "%s", error);
	imap_cmd_on_free(cmd, section_free, sec);
	it->section = sec;
	n = strlen(a->suffix);
	if (n == 0)
		return 0;
	if (n < 2 || a->suffix[0] != '<' || a->suffix[n - 1] != '>' ||
	    imap_section_parse_partial(a->suffix + 1, n - 2, sec, &error) < 0)
		return imap_cmd_fail(cmd, "Invalid partial %s", a->suffix);
	return 0;
}

/* section_name - the response name, "BODY[1.TEXT]<0>" */
static const char *
section_name(struct imap_cmd *cmd, const char *item,
    const struct imap_section *sec)
{
	struct buf b;
	const char *name;

	buf_init(&b, 0);
	imap_section_format(&b, item, sec);
	name = imap_cmd_strndup(cmd, buf_ptr(&b), buf_avail(&b));
	buf_deinit(&b);
	return name;
}

/* parse_att - one fetch-att into iv */
static int
parse_att(struct imap_cmd *cmd, const struct imap_arg *a, struct itemvec *iv)
{
	struct imap_fetch_item *it;
	size_t i;

	if (a->type != IMAP_ARG_ATOM)
		return imap_cmd_fail(cmd, "Expected a FETCH attribute, got %s",
		    imap_arg_kind(a));
	if (!a->has_section) {
		for (i = 0; i < NSIMPLE; i++) {
			if (strcasecmp(a->str, simple_atts[i].name) == 0) {
				add_simple(iv, i);
				return 0;
			}
		}
		if (strcasecmp(a->str, "ALL") == 0 ||
		    strcasecmp(a->str, "FAST") == 0 ||
		    strcasecmp(a->str, "FULL") == 0)
			return imap_cmd_fail(cmd, "%s must be alone, not in "
			    "a list", a->str);
		if (strcasecmp(a->str, "BODY.PEEK") == 0 ||
		    strcasecmp(a->str, "BINARY") == 0 ||
		    strcasecmp(a->str, "BINARY.PEEK") == 0 ||
		    strcasecmp(a->str, "BINARY.SIZE") == 0)
			return imap_cmd_fail(cmd, "%s needs a [section]",
			    a->str);
		return imap_cmd_fail(cmd, "Unknown FETCH attribute %s",
		    a->str);
	}
	it = itemvec_push(iv);
	if (parse_section(cmd, a, it) < 0)
		return -1;
	if (strcasecmp(a->str, "BODY") == 0 ||
	    strcasecmp(a->str, "BODY.PEEK") == 0) {
		it->att = IMAP_FETCH_BODY_SECTION;
		it->peek = strcasecmp(a->str, "BODY.PEEK") == 0;
		it->resp_name = section_name(cmd, "BODY", it->section);
		return 0;
	}
	/* BINARY, BINARY.PEEK, BINARY.SIZE: section_prefix() allows no
	 * other atom before "[" */
	if (!imap_section_is_binary(it->section))
		return imap_cmd_fail(cmd, "%s takes only part numbers",
		    a->str);
	if (strcasecmp(a->str, "BINARY.SIZE") == 0) {
		if (it->section->partial)
			return imap_cmd_fail(cmd, "BINARY.SIZE takes no "
			    "partial");
		it->att = IMAP_FETCH_BINARY_SIZE;
		it->peek = true;
		it->resp_name = section_name(cmd, "BINARY.SIZE", it->section);
		return 0;
	}
	it->att = IMAP_FETCH_BINARY;
	it->peek = strcasecmp(a->str, "BINARY.PEEK") == 0;
	it->resp_name = section_name(cmd, "BINARY", it->section);
	return 0;
}

/* parse_fetch_modifiers - "(" CHANGEDSINCE n / VANISHED ... ")" */
static int
parse_fetch_modifiers(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_fetch *f)
{
	size_t i;

	if (a->type != IMAP_ARG_LIST)
		return imap_cmd_fail(cmd, "Expected FETCH modifiers in a "
		    "list, got %s", imap_arg_kind(a));
	if (a->count == 0)
		return imap_cmd_fail(cmd, "Empty list of FETCH modifiers");
	for (i = 0; i < a->count; i++) {
		if (imap_arg_is_atom(&a->list[i], "CHANGEDSINCE")) {
			if (f->changedsince_given)
				return imap_cmd_fail(cmd, "CHANGEDSINCE given "
				    "twice");
			if (i + 1 == a->count)
				return imap_cmd_fail(cmd, "CHANGEDSINCE needs "
				    "a mod-sequence");
			if (imap_arg_number(cmd, &a->list[++i], 0,
			    IMAP_NUMBER64_MAX, &f->changedsince) < 0)
				return -1;
			f->changedsince_given = true;
		} else if (imap_arg_is_atom(&a->list[i], "VANISHED")) {
			if (f->vanished)
				return imap_cmd_fail(cmd, "VANISHED given "
				    "twice");
			f->vanished = true;
		} else {
			const char *s = a->list[i].type == IMAP_ARG_ATOM ?
			    a->list[i].str : imap_arg_kind(&a->list[i]);

			return imap_cmd_fail(cmd, "Unknown FETCH modifier %s",
			    s);
		}
	}
	if (f->vanished && !cmd->uid)
		return imap_cmd_fail(cmd, "VANISHED needs UID FETCH");
	if (f->vanished && !f->changedsince_given)
		return imap_cmd_fail(cmd, "VANISHED needs CHANGEDSINCE");
	return 0;
}

/* imap_parse_fetch - FETCH sequence-set atts [modifiers] */
int
imap_parse_fetch(struct imap_cmd *cmd, struct imap_fetch *f_r)
{
	struct itemvec iv = { NULL, 0, 0 };
	const struct imap_arg *atts;
	struct imap_fetch_item uid_item;
	size_t i;
	bool has_uid = false, has_modseq = false;

	memset(f_r, 0, sizeof(*f_r));
	if (cmd->argc < 2 || cmd->argc > 3)
		return imap_cmd_fail(cmd, "Syntax: FETCH sequence-set "
		    "attributes [(modifiers)]");
	if (imap_arg_seqset(cmd, &cmd->args[0], &f_r->set, &f_r->saved) < 0)
		return -1;
	atts = &cmd->args[1];
	if (imap_arg_is_atom(atts, "ALL") || imap_arg_is_atom(atts, "FAST") ||
	    imap_arg_is_atom(atts, "FULL")) {
		add_simple_att(&iv, IMAP_FETCH_FLAGS);
		add_simple_att(&iv, IMAP_FETCH_INTERNALDATE);
		add_simple_att(&iv, IMAP_FETCH_RFC822_SIZE);
		if (!imap_arg_is_atom(atts, "FAST"))
			add_simple_att(&iv, IMAP_FETCH_ENVELOPE);
		if (imap_arg_is_atom(atts, "FULL"))
			add_simple_att(&iv, IMAP_FETCH_BODY);
	} else if (atts->type == IMAP_ARG_LIST) {
		if (atts->count == 0) {
			imap_cmd_fail(cmd, "Empty list of FETCH attributes");
			goto fail;
		}
		for (i = 0; i < atts->count; i++)
			if (parse_att(cmd, &atts->list[i], &iv) < 0)
				goto fail;
	} else if (parse_att(cmd, atts, &iv) < 0) {
		goto fail;
	}
	if (cmd->argc == 3 &&
	    parse_fetch_modifiers(cmd, &cmd->args[2], f_r) < 0)
		goto fail;

	for (i = 0; i < iv.n; i++) {
		has_uid |= iv.v[i].att == IMAP_FETCH_UID;
		has_modseq |= iv.v[i].att == IMAP_FETCH_MODSEQ;
	}
	/* RFC 9051 6.4.9: UID FETCH answers carry UID; put it first */
	if (cmd->uid && !has_uid) {
		add_simple_att(&iv, IMAP_FETCH_UID);
		uid_item = iv.v[iv.n - 1];
		uid_item.implicit = true;
		memmove(&iv.v[1], &iv.v[0], (iv.n - 1) * sizeof(iv.v[0]));
		iv.v[0] = uid_item;
	}
	/* RFC 7162 3.1.4.1: CHANGEDSINCE answers carry MODSEQ */
	if (f_r->changedsince_given && !has_modseq) {
		add_simple_att(&iv, IMAP_FETCH_MODSEQ);
		iv.v[iv.n - 1].implicit = true;
	}
	for (i = 0; i < iv.n; i++) {
		f_r->want |= IMAP_FETCH_BIT(iv.v[i].att);
		switch (iv.v[i].att) {
		case IMAP_FETCH_RFC822:
		case IMAP_FETCH_RFC822_TEXT:
		case IMAP_FETCH_BODY_SECTION:
		case IMAP_FETCH_BINARY:
			if (!iv.v[i].peek)
				f_r->sets_seen = true;
			break;
		default:
			break;
		}
	}
	f_r->items = imap_cmd_alloc(cmd, iv.n * sizeof(*iv.v));
	memcpy(f_r->items, iv.v, iv.n * sizeof(*iv.v));
	f_r->count = iv.n;
	free(iv.v);
	return 0;
fail:
	free(iv.v);
	return -1;
}

/* parse_store_item - [+|-]FLAGS[.SILENT] */
static int
parse_store_item(struct imap_cmd *cmd, const struct imap_arg *a,
    struct imap_store *s)
{
	const char *p;

	if (a->type != IMAP_ARG_ATOM || a->has_section)
		return imap_cmd_fail(cmd, "Expected FLAGS, +FLAGS or -FLAGS, "
		    "got %s", imap_arg_kind(a));
	p = a->str;
	if (*p == '+') {
		s->mode = IMAP_STORE_ADD;
		p++;
	} else if (*p == '-') {
		s->mode = IMAP_STORE_REMOVE;
		p++;
	}
	if (strcasecmp(p, "FLAGS.SILENT") == 0)
		s->silent = true;
	else if (strcasecmp(p, "FLAGS") != 0)
		return imap_cmd_fail(cmd, "Unknown STORE item %s", a->str);
	return 0;
}

/* imap_parse_store - STORE sequence-set [(mods)] item flags */
int
imap_parse_store(struct imap_cmd *cmd, struct imap_store *s_r)
{
	const struct imap_arg *a;
	size_t i = 1;

	memset(s_r, 0, sizeof(*s_r));
	if (cmd->argc < 3)
		return imap_cmd_fail(cmd, "Syntax: STORE sequence-set "
		    "[(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags");
	if (imap_arg_seqset(cmd, &cmd->args[0], &s_r->set, &s_r->saved) < 0)
		return -1;
	a = &cmd->args[i];
	if (a->type == IMAP_ARG_LIST) {
		size_t k;

		if (a->count == 0)
			return imap_cmd_fail(cmd, "Empty list of STORE "
			    "modifiers");
		for (k = 0; k < a->count; k++) {
			if (!imap_arg_is_atom(&a->list[k], "UNCHANGEDSINCE"))
				return imap_cmd_fail(cmd, "Unknown STORE "
				    "modifier %s", a->list[k].type ==
				    IMAP_ARG_ATOM ? a->list[k].str :
				    imap_arg_kind(&a->list[k]));
			if (s_r->unchangedsince_given)
				return imap_cmd_fail(cmd, "UNCHANGEDSINCE "
				    "given twice");
			if (k + 1 == a->count)
				return imap_cmd_fail(cmd, "UNCHANGEDSINCE "
				    "needs a mod-sequence");
			if (imap_arg_number(cmd, &a->list[++k], 0,
			    IMAP_NUMBER64_MAX, &s_r->unchangedsince) < 0)
				return -1;
			s_r->unchangedsince_given = true;
		}
		i++;
	}
	if (i + 2 > cmd->argc)
		return imap_cmd_fail(cmd, "Missing flags");
	if (parse_store_item(cmd, &cmd->args[i], s_r) < 0)
		return -1;
	i++;
	if (cmd->args[i].type == IMAP_ARG_LIST) {
		if (i + 1 != cmd->argc)
			return imap_cmd_fail(cmd, "Unexpected arguments after "
			    "the flag list");
		return imap_arg_flag_list(cmd, &cmd->args[i], false,
		    &s_r->flags);
	}
	for (; i < cmd->argc; i++)
		if (imap_arg_flag(cmd, &cmd->args[i], false, &s_r->flags) < 0)
			return -1;
	return 0;
}
