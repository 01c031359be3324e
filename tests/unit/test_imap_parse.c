/* test_imap_parse.c - unit tests for imapd/imap_parse*.c */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "frame.h"

#include "imap_parse.h"
#include "imap_seqset.h"
#include "imap_write.h"

/*
 * Every case goes through the real framer (common/frame.c) into struct
 * imap_input and then imap_parse(), once in one piece and once byte at a
 * time; both must give the same outcome.  The outcome is a summary of the
 * parsed command (generic argument tree, or the typed struct), or the
 * error reply "TAG BAD reason" / "TAG NO [CODE] reason".
 */

struct pcase {
	const char	*wire;		/* one command, without its last CRLF */
	size_t		 len;		/* 0: strlen(wire) */
	bool		 utf8;
	const char	*want;		/* outcome; NULL: only check err */
	const char	*err;		/* a substring of the error reply */
};

/* a wire string that holds NUL bytes, with its length */
#define W(s)	s, sizeof(s) - 1

enum mode {
	GENERIC,
	TYPED
};

/* esc - append bytes with controls and 8-bit shown as \xNN */
static void
esc(struct buf *b, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c >= 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_append_byte(b, c);
	}
}

static void sum_args(struct buf *, const struct imap_arg *, size_t);

/* sum_arg - one generic argument */
static void
sum_arg(struct buf *b, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		esc(b, a->str, a->len);
		if (a->has_section) {
			buf_append_byte(b, '[');
			sum_args(b, a->list, a->count);
			buf_append_byte(b, ']');
			buf_append_str(b, a->suffix);
		}
		break;
	case IMAP_ARG_NIL:
		buf_printf(b, "NIL<%s>", a->str);
		break;
	case IMAP_ARG_QUOTED:
		buf_append_byte(b, '"');
		esc(b, a->str, a->len);
		buf_append_byte(b, '"');
		break;
	case IMAP_ARG_LITERAL:
		buf_printf(b, "%s{%zu%s}", a->literal8 ? "~" : "", a->len,
		    a->literal_plus ? "+" : "");
		if (a->str != NULL)
			esc(b, a->str, a->len);
		else
			buf_printf(b, "<piece %zu>", a->piece);
		break;
	case IMAP_ARG_LIST:
		buf_append_byte(b, '(');
		sum_args(b, a->list, a->count);
		buf_append_byte(b, ')');
		break;
	}
}

/* sum_args - arguments separated by spaces */
static void
sum_args(struct buf *b, const struct imap_arg *args, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_append_byte(b, ' ');
		sum_arg(b, &args[i]);
	}
}

/* sum_set - a seqset or "$" */
static void
sum_set(struct buf *b, const struct imap_seqset *set, bool saved)
{
	if (saved)
		buf_append_byte(b, '$');
	else
		imap_seqset_format(set, b);
}

/* sum_flags - "(\Seen kw)" */
static void
sum_flags(struct buf *b, const struct imap_flags *f)
{
	imap_write_flags(b, f->system, f->keywords, f->keyword_count);
}

static const char *const op_names[] = {
	[IMAP_SEARCH_ALL] = "ALL", [IMAP_SEARCH_AND] = "and",
	[IMAP_SEARCH_OR] = "or", [IMAP_SEARCH_NOT] = "not",
	[IMAP_SEARCH_SEQSET] = "seq", [IMAP_SEARCH_UIDSET] = "uid",
	[IMAP_SEARCH_FLAG] = "flag", [IMAP_SEARCH_KEYWORD] = "kw",
	[IMAP_SEARCH_BEFORE] = "BEFORE", [IMAP_SEARCH_ON] = "ON",
	[IMAP_SEARCH_SINCE] = "SINCE", [IMAP_SEARCH_SENTBEFORE] = "SENTBEFORE",
	[IMAP_SEARCH_SENTON] = "SENTON", [IMAP_SEARCH_SENTSINCE] = "SENTSINCE",
	[IMAP_SEARCH_SAVEDBEFORE] = "SAVEDBEFORE",
	[IMAP_SEARCH_SAVEDON] = "SAVEDON",
	[IMAP_SEARCH_SAVEDSINCE] = "SAVEDSINCE",
	[IMAP_SEARCH_SAVEDATESUPPORTED] = "SAVEDATESUPPORTED",
	[IMAP_SEARCH_OLDER] = "OLDER", [IMAP_SEARCH_YOUNGER] = "YOUNGER",
	[IMAP_SEARCH_LARGER] = "LARGER", [IMAP_SEARCH_SMALLER] = "SMALLER",
	[IMAP_SEARCH_BCC] = "BCC", [IMAP_SEARCH_BODY] = "BODY",
	[IMAP_SEARCH_CC] = "CC", [IMAP_SEARCH_FROM] = "FROM",
	[IMAP_SEARCH_SUBJECT] = "SUBJECT", [IMAP_SEARCH_TEXT] = "TEXT",
	[IMAP_SEARCH_TO] = "TO", [IMAP_SEARCH_HEADER] = "HEADER",
	[IMAP_SEARCH_MODSEQ] = "MODSEQ", [IMAP_SEARCH_EMAILID] = "EMAILID",
	[IMAP_SEARCH_THREADID] = "THREADID",
};

/* sum_node - a search tree in prefix notation */
static void
sum_node(struct buf *b, const struct imap_search_node *n)
{
	static const char *const et[] = { "", "priv", "shared", "all" };
	const struct imap_search_node *c;

	switch (n->op) {
	case IMAP_SEARCH_AND:
	case IMAP_SEARCH_OR:
	case IMAP_SEARCH_NOT:
		buf_printf(b, "(%s", op_names[n->op]);
		for (c = n->children; c != NULL; c = c->next) {
			buf_append_byte(b, ' ');
			sum_node(b, c);
		}
		buf_append_byte(b, ')');
		return;
	case IMAP_SEARCH_ALL:
	case IMAP_SEARCH_SAVEDATESUPPORTED:
		buf_append_str(b, op_names[n->op]);
		return;
	case IMAP_SEARCH_SEQSET:
	case IMAP_SEARCH_UIDSET:
		buf_printf(b, "%s:", op_names[n->op]);
		sum_set(b, n->set, n->saved);
		return;
	case IMAP_SEARCH_FLAG:
		buf_append_str(b, imap_flag_name(n->flag));
		return;
	case IMAP_SEARCH_BEFORE: case IMAP_SEARCH_ON: case IMAP_SEARCH_SINCE:
	case IMAP_SEARCH_SENTBEFORE: case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE: case IMAP_SEARCH_SAVEDBEFORE:
	case IMAP_SEARCH_SAVEDON: case IMAP_SEARCH_SAVEDSINCE:
		buf_printf(b, "%s:%04d-%02u-%02u", op_names[n->op],
		    n->date.year, n->date.mon, n->date.day);
		return;
	case IMAP_SEARCH_OLDER: case IMAP_SEARCH_YOUNGER:
	case IMAP_SEARCH_LARGER: case IMAP_SEARCH_SMALLER:
		buf_printf(b, "%s:%" PRIu64, op_names[n->op], n->number);
		return;
	case IMAP_SEARCH_MODSEQ:
		buf_printf(b, "MODSEQ:");
		if (n->entry_name != NULL)
			buf_printf(b, "%s:%s:", n->entry_name,
			    et[n->entry_type]);
		buf_printf(b, "%" PRIu64, n->number);
		return;
	case IMAP_SEARCH_HEADER:
		buf_printf(b, "HEADER:%s:\"", n->header);
		esc(b, n->str, n->len);
		buf_append_byte(b, '"');
		return;
	case IMAP_SEARCH_KEYWORD:
	case IMAP_SEARCH_EMAILID:
	case IMAP_SEARCH_THREADID:
		buf_printf(b, "%s:%s", op_names[n->op], n->str);
		return;
	default:
		buf_printf(b, "%s:\"", op_names[n->op]);
		esc(b, n->str, n->len);
		buf_append_byte(b, '"');
		return;
	}
}

/* sum_search - charset, return options and the tree */
static void
sum_search(struct buf *b, const struct imap_search *s)
{
	static const char *const rets[] = { "MIN", "MAX", "ALL", "COUNT",
	    "SAVE" };
	size_t i;
	bool first = true;

	if (s->charset != NULL)
		buf_printf(b, "charset=%s ", s->charset);
	if (s->ret_given) {
		buf_append_str(b, "ret=");
		for (i = 0; i < 5; i++) {
			if (s->ret & (1u << i)) {
				buf_printf(b, "%s%s", first ? "" : ",",
				    rets[i]);
				first = false;
			}
		}
		buf_append_byte(b, ' ');
	}
	if (s->uses_saved)
		buf_append_str(b, "uses$ ");
	if (s->uses_modseq)
		buf_append_str(b, "usesmodseq ");
	if (s->root->children != NULL && s->root->children->next == NULL)
		sum_node(b, s->root->children);
	else
		sum_node(b, s->root);
}

/* sum_typed - the typed parse of a command; -1 on a typed error */
static int
sum_typed(struct imap_cmd *cmd, struct buf *b)
{
	size_t i;

	switch (cmd->id) {
	case IMAP_CMD_FETCH: {
		struct imap_fetch f;

		if (imap_parse_fetch(cmd, &f) < 0)
			return -1;
		sum_set(b, f.set, f.saved);
		for (i = 0; i < f.count; i++)
			buf_printf(b, " %s%s", f.items[i].resp_name,
			    f.items[i].implicit ? "*" : "");
		for (i = 0; i < f.count; i++)
			if (!(f.want & IMAP_FETCH_BIT(f.items[i].att)))
				buf_append_str(b, " WANT-MISSING");
		if (f.sets_seen)
			buf_append_str(b, " seen");
		if (f.changedsince_given)
			buf_printf(b, " changedsince=%" PRIu64,
			    f.changedsince);
		if (f.vanished)
			buf_append_str(b, " vanished");
		return 0;
	}
	case IMAP_CMD_STORE: {
		struct imap_store s;
		static const char *const modes[] = { "=", "+", "-" };

		if (imap_parse_store(cmd, &s) < 0)
			return -1;
		sum_set(b, s.set, s.saved);
		buf_printf(b, " %sFLAGS%s ", modes[s.mode],
		    s.silent ? ".SILENT" : "");
		sum_flags(b, &s.flags);
		if (s.unchangedsince_given)
			buf_printf(b, " unchangedsince=%" PRIu64,
			    s.unchangedsince);
		return 0;
	}
	case IMAP_CMD_SEARCH: {
		struct imap_search s;

		if (imap_parse_search(cmd, &s) < 0)
			return -1;
		sum_search(b, &s);
		return 0;
	}
	case IMAP_CMD_SORT: {
		static const char *const keys[] = { "", "ARRIVAL", "CC",
		    "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM",
		    "DISPLAYTO" };
		struct imap_sort s;

		if (imap_parse_sort(cmd, &s) < 0)
			return -1;
		buf_append_str(b, "sort=");
		for (i = 0; i < s.count; i++)
			buf_printf(b, "%s%s%s", i > 0 ? "," : "",
			    s.crit[i].reverse ? "-" : "", keys[s.crit[i].key]);
		buf_append_byte(b, ' ');
		sum_search(b, &s.search);
		return 0;
	}
	case IMAP_CMD_THREAD: {
		struct imap_thread t;

		if (imap_parse_thread(cmd, &t) < 0)
			return -1;
		buf_printf(b, "thread=%s ", t.alg == IMAP_THREAD_REFERENCES ?
		    "REFERENCES" : "ORDEREDSUBJECT");
		sum_search(b, &t.search);
		return 0;
	}
	case IMAP_CMD_LIST:
	case IMAP_CMD_LSUB: {
		struct imap_list l;

		if (imap_parse_list(cmd, &l) < 0)
			return -1;
		buf_printf(b, "%s%ssel=%x ret=%x status=%x ref=\"%s\" pat=",
		    l.lsub ? "lsub " : "", l.extended ? "ext " : "", l.select,
		    l.ret, l.status, l.reference);
		for (i = 0; i < l.pattern_count; i++)
			buf_printf(b, "%s\"%s\"", i > 0 ? "," : "",
			    l.patterns[i]);
		return 0;
	}
	case IMAP_CMD_STATUS: {
		struct imap_status s;

		if (imap_parse_status(cmd, &s) < 0)
			return -1;
		buf_printf(b, "mbox=%s items=", s.mailbox);
		for (i = 0; i < 10; i++)
			if (s.items & (1u << i))
				buf_printf(b, "%s ",
				    imap_status_item_name(1u << i));
		return 0;
	}
	case IMAP_CMD_APPEND: {
		struct imap_append a;

		if (imap_parse_append(cmd, &a) < 0)
			return -1;
		buf_printf(b, "mbox=%s", a.mailbox);
		for (i = 0; i < a.count; i++) {
			const struct imap_append_msg *m = &a.msgs[i];

			buf_append_str(b, " [");
			sum_flags(b, &m->flags);
			if (m->has_date)
				buf_printf(b, " %" PRId64 "/%d", m->date.t,
				    m->date.tz_minutes);
			buf_printf(b, " %s%s", m->binary ? "~" : "",
			    m->utf8 ? "utf8 " : "");
			esc(b, m->data->str, m->data->len);
			buf_append_byte(b, ']');
		}
		return 0;
	}
	case IMAP_CMD_SELECT:
	case IMAP_CMD_EXAMINE: {
		struct imap_select s;

		if (imap_parse_select(cmd, &s) < 0)
			return -1;
		buf_printf(b, "mbox=%s", s.mailbox);
		if (s.condstore)
			buf_append_str(b, " condstore");
		if (s.qresync) {
			buf_printf(b, " qresync=%u/%" PRIu64, s.uidvalidity,
			    s.modseq);
			if (s.known_uids != NULL) {
				buf_append_str(b, " known=");
				sum_set(b, s.known_uids, false);
			}
			if (s.match_seqs != NULL) {
				buf_append_str(b, " match=");
				sum_set(b, s.match_seqs, false);
				buf_append_byte(b, '/');
				sum_set(b, s.match_uids, false);
			}
		}
		return 0;
	}
	case IMAP_CMD_CREATE: {
		struct imap_create c;

		if (imap_parse_create(cmd, &c) < 0)
			return -1;
		buf_printf(b, "mbox=%s", c.mailbox);
		for (i = 0; i < 8; i++)
			if (c.use & (1u << i))
				buf_printf(b, " %s", imap_use_name(1u << i));
		return 0;
	}
	case IMAP_CMD_ENABLE: {
		const char **caps;
		size_t n;

		if (imap_parse_enable(cmd, &caps, &n) < 0)
			return -1;
		for (i = 0; i < n; i++)
			buf_printf(b, "%s%s", i > 0 ? "," : "", caps[i]);
		return 0;
	}
	case IMAP_CMD_ID: {
		const char **k, **v;
		size_t n;

		if (imap_parse_id(cmd, &k, &v, &n) < 0)
			return -1;
		buf_printf(b, "id%s", n == 0 ? " none" : "");
		for (i = 0; i < n; i++)
			buf_printf(b, " %s=%s", k[i], v[i] == NULL ? "NIL" :
			    v[i]);
		return 0;
	}
	case IMAP_CMD_LOGIN: {
		const char *u, *p;

		if (imap_parse_login(cmd, &u, &p) < 0)
			return -1;
		buf_append_str(b, "user=");
		esc(b, u, strlen(u));
		buf_append_str(b, " pass=");
		esc(b, p, strlen(p));
		return 0;
	}
	case IMAP_CMD_AUTHENTICATE: {
		const char *m, *ir;

		if (imap_parse_authenticate(cmd, &m, &ir) < 0)
			return -1;
		buf_printf(b, "mech=%s ir=%s", m, ir == NULL ? "-" : ir);
		return 0;
	}
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE: {
		struct imap_seqset *set;
		bool saved;
		const char *m;

		if (imap_parse_copy(cmd, &set, &saved, &m) < 0)
			return -1;
		sum_set(b, set, saved);
		buf_printf(b, " mbox=%s", m);
		return 0;
	}
	case IMAP_CMD_RENAME: {
		const char *from, *to;

		if (imap_parse_rename(cmd, &from, &to) < 0)
			return -1;
		buf_printf(b, "from=%s to=%s", from, to);
		return 0;
	}
	case IMAP_CMD_DELETE:
	case IMAP_CMD_SUBSCRIBE:
	case IMAP_CMD_UNSUBSCRIBE:
	case IMAP_CMD_GETQUOTAROOT: {
		const char *m;

		if (imap_parse_mailbox_only(cmd, &m) < 0)
			return -1;
		buf_printf(b, "mbox=%s", m);
		return 0;
	}
	case IMAP_CMD_EXPUNGE:
		if (cmd->uid) {
			struct imap_seqset *set;
			bool saved;

			if (imap_parse_uid_expunge(cmd, &set, &saved) < 0)
				return -1;
			sum_set(b, set, saved);
			return 0;
		}
		/* FALLTHROUGH */
	default:
		sum_args(b, cmd->args, cmd->argc);
		return 0;
	}
}

/* error_reply - "TAG BAD reason" or "TAG NO [CODE] reason" */
static void
error_reply(const struct imap_cmd *cmd, struct buf *b)
{
	buf_printf(b, "%s %s ", cmd->tag == NULL ? "*" : cmd->tag,
	    cmd->error_no ? "NO" : "BAD");
	if (cmd->error_code != NULL)
		buf_printf(b, "[%s] ", cmd->error_code);
	buf_append_str(b, cmd->error == NULL ? "(no reason)" : cmd->error);
}

/*
 * feed - wire bytes (CRLF added) through frame and imap_input in chunks
 * of chunk bytes (0: all at once) until one command is complete; then
 * parse it.  Returns 1 parsed (r_r set), 0 incomplete.
 */
static int
feed(const char *wire, size_t len, size_t chunk,
    const struct imap_parse_settings *set, struct imap_input *in,
    struct imap_cmd *cmd, int *r_r)
{
	struct frame f;
	struct frame_item it;
	enum frame_event ev;
	const struct imap_piece *pieces;
	char *data;
	size_t total = len + 2, off = 0, n, used, npieces;
	int done = 0;

	data = malloc(total);
	memcpy(data, wire, len);
	memcpy(data + len, "\r\n", 2);
	frame_init(&f, 1 << 22, 1 << 22, true);
	imap_input_init(in, 1 << 23);
	while (off < total && !done) {
		n = chunk == 0 || chunk > total - off ? total - off : chunk;
		while (n > 0 && !done) {
			ev = frame_feed(&f, data + off, n, &used, &it);
			off += used;
			n -= used;
			switch (ev) {
			case FRAME_LINE:
				assert_int_equal(imap_input_line(in, it.data,
				    it.len), 0);
				if (!it.literal) {
					pieces = imap_input_pieces(in,
					    &npieces);
					*r_r = imap_parse(cmd, pieces, npieces,
					    set);
					done = 1;
				}
				break;
			case FRAME_WAIT:
				frame_literal_accept(&f);
				break;
			case FRAME_LITERAL_DATA:
				assert_int_equal(imap_input_literal(in, it.data,
				    it.len), 0);
				break;
			case FRAME_LITERAL_END:
				imap_input_literal_end(in);
				break;
			case FRAME_LINE_TOO_LONG:
			case FRAME_MORE:
				break;
			}
		}
	}
	frame_deinit(&f);
	free(data);
	return done;
}

/* outcome - the summary or error reply of one wire command */
static char *
outcome(const char *wire, size_t len, size_t chunk, bool utf8, enum mode m,
    const struct imap_parse_settings *settings)
{
	struct imap_parse_settings set;
	struct imap_input in;
	struct imap_cmd cmd;
	struct buf b;
	int r = -1;

	if (settings != NULL)
		set = *settings;
	else
		imap_parse_settings_init(&set);
	set.utf8 = utf8;
	buf_init(&b, 0);
	if (!feed(wire, len, chunk, &set, &in, &cmd, &r)) {
		buf_append_str(&b, "(incomplete)");
		imap_input_deinit(&in);
		return buf_steal(&b, NULL);
	}
	if (r == 0 && m == TYPED)
		r = sum_typed(&cmd, &b);
	if (r == 0 && m == GENERIC) {
		buf_printf(&b, "%s %s%s", cmd.tag, cmd.uid ? "UID " : "",
		    cmd.name);
		if (cmd.argc > 0)
			buf_append_byte(&b, ' ');
		sum_args(&b, cmd.args, cmd.argc);
	}
	if (r != 0) {
		buf_reset(&b);
		error_reply(&cmd, &b);
		if (cmd.error == NULL || cmd.error[0] == '\0')
			buf_append_str(&b, " EMPTY-REASON");
	}
	imap_cmd_deinit(&cmd);
	imap_input_deinit(&in);
	return buf_steal(&b, NULL);
}

/* run_cases - each case at once and byte at a time */
static void
run_cases(const struct pcase *cases, size_t n, enum mode m)
{
	size_t i, len;
	char *whole, *bytes;
	int failures = 0;
	struct buf shown;

	for (i = 0; i < n; i++) {
		const struct pcase *c = &cases[i];

		len = c->len != 0 ? c->len : strlen(c->wire);
		buf_init(&shown, 0);
		esc(&shown, c->wire, len);
		whole = outcome(c->wire, len, 0, c->utf8, m, NULL);
		bytes = outcome(c->wire, len, 1, c->utf8, m, NULL);
		if (strcmp(whole, bytes) != 0) {
			print_error("\"%s\": byte at a time got \"%s\", at "
			    "once \"%s\"\n", buf_cstr(&shown), bytes, whole);
			failures++;
		} else if (c->want != NULL && strcmp(whole, c->want) != 0) {
			print_error("\"%s\":\n    got  \"%s\"\n"
			    "    want \"%s\"\n", buf_cstr(&shown), whole,
			    c->want);
			failures++;
		} else if (c->err != NULL && (strstr(whole, " BAD ") == NULL &&
		    strstr(whole, " NO ") == NULL)) {
			print_error("\"%s\": got \"%s\", want an error with "
			    "\"%s\"\n", buf_cstr(&shown), whole, c->err);
			failures++;
		} else if (c->err != NULL && strstr(whole, c->err) == NULL) {
			print_error("\"%s\": got \"%s\", want \"%s\" in it\n",
			    buf_cstr(&shown), whole, c->err);
			failures++;
		}
		free(whole);
		free(bytes);
		buf_deinit(&shown);
	}
	assert_int_equal(failures, 0);
}

#define RUN(t, m)	run_cases((t), sizeof(t) / sizeof((t)[0]), (m))

/* the_tokenizer_reads_tags_names_and_every_kind_of_argument */
static void
the_tokenizer_reads_tags_names_and_every_kind_of_argument(void **state)
{
	static const struct pcase cases[] = {
		{ "a1 NOOP", 0, false, "a1 NOOP", NULL },
		{ "a1 noop", 0, false, "a1 NOOP", NULL },
		{ "A.B]c-9 CAPABILITY", 0, false, "A.B]c-9 CAPABILITY", NULL },
		{ "a1 LOGIN SMITH SESAME", 0, false, "a1 LOGIN SMITH SESAME",
		    NULL },
		{ "a1 LOGIN \"a\\\"b\" \"c\\\\d\"", 0, false,
		    "a1 LOGIN \"a\"b\" \"c\\d\"", NULL },
		{ "a1 LOGIN \"\" \"x y\"", 0, false, "a1 LOGIN \"\" \"x y\"",
		    NULL },
		{ "a1 LOGIN {5}\r\nalice {6+}\r\ns3cr3t", 0, false,
		    "a1 LOGIN {5}alice {6+}s3cr3t", NULL },
		{ "a1 LOGIN {0}\r\n {0+}\r\n", 0, false,
		    "a1 LOGIN {0} {0+}", NULL },
		{ "a1 LOGIN {4}\r\n\r\n{} x", 0, false,
		    "a1 LOGIN {4}\\x0d\\x0a{} x", NULL },
		{ "a1 ID NIL", 0, false, "a1 ID NIL<NIL>", NULL },
		{ "a1 ID nil", 0, false, "a1 ID NIL<nil>", NULL },
		{ "a1 ID (\"a\" NIL \"b\" {1}\r\nc)", 0, false,
		    "a1 ID (\"a\" NIL<NIL> \"b\" {1}c)", NULL },
		{ "a1 SEARCH ((ALL) (SEEN (NEW)))", 0, false,
		    "a1 SEARCH ((ALL) (SEEN (NEW)))", NULL },
		{ "a1 SEARCH ()", 0, false, "a1 SEARCH ()", NULL },
		{ "a1 FETCH 1:* BODY[HEADER.FIELDS (From To)]<0.100>", 0,
		    false,
		    "a1 FETCH 1:* BODY[HEADER.FIELDS (From To)]<0.100>", NULL },
		{ "a1 FETCH 1 (body.peek[] BINARY[1.2] BINARY.SIZE[3])", 0,
		    false,
		    "a1 FETCH 1 (body.peek[] BINARY[1.2] BINARY.SIZE[3])",
		    NULL },
		{ "a1 FETCH 1 BODY[HEADER.FIELDS (\"a]\" {2}\r\nb])]", 0,
		    false, "a1 FETCH 1 BODY[HEADER.FIELDS (\"a]\" {2}b])]",
		    NULL },
		/* "[" only opens a section after BODY and BINARY */
		{ "a1 SELECT [Gmail]/Sent", 0, false,
		    "a1 SELECT [Gmail]/Sent", NULL },
		{ "a1 SELECT foo[bar", 0, false, "a1 SELECT foo[bar", NULL },
		{ "a1 SELECT a]b", 0, false, "a1 SELECT a]b", NULL },
		{ "a1 STORE 1 +FLAGS (\\Seen $Junk)", 0, false,
		    "a1 STORE 1 +FLAGS (\\Seen $Junk)", NULL },
		{ W("a1 APPEND x ~{3}\r\na\0b"), false,
		    "a1 APPEND x ~{3}a\\x00b", NULL },
		{ "a1 APPEND x UTF8 (~{2+}\r\nhi)", 0, false,
		    "a1 APPEND x UTF8 (~{2+}hi)", NULL },
		{ "a1 LOGIN j\xc3\xb6rg \"p\xc3\xa4ss\"", 0, false,
		    "a1 LOGIN j\\xc3\\xb6rg \"p\\xc3\\xa4ss\"", NULL },
		{ "a1 LOGIN \"tab\there\" x", 0, false,
		    "a1 LOGIN \"tab\\x09here\" x", NULL },
		{ "a1 uid FETCH 1 FLAGS", 0, false, "a1 UID FETCH 1 FLAGS",
		    NULL },
		{ "a1 UID EXPUNGE 1:3", 0, false, "a1 UID EXPUNGE 1:3", NULL },
		{ "a1 LIST \"\" *", 0, false, "a1 LIST \"\" *", NULL },
		{ "a1 LIST \"\" %/a*", 0, false, "a1 LIST \"\" %/a*", NULL },
	};

	RUN(cases, GENERIC);
}

/* malformed_lines_get_a_precise_reason */
static void
malformed_lines_get_a_precise_reason(void **state)
{
	static const struct pcase cases[] = {
		{ "", 0, false, "* BAD Empty command line", NULL },
		{ " NOOP", 0, false, "* BAD Missing tag", NULL },
		{ "a1", 0, false, "a1 BAD Missing command", NULL },
		{ "a1 ", 0, false, "a1 BAD Missing command", NULL },
		{ "a1  NOOP", 0, false, "a1 BAD Extra space", NULL },
		{ "a+1 NOOP", 0, false, "* BAD Invalid tag", NULL },
		{ "* NOOP", 0, false, "* BAD Invalid tag", NULL },
		{ "a(1 NOOP", 0, false, "* BAD Invalid tag", NULL },
		{ "a\"1 NOOP", 0, false, "* BAD Invalid tag", NULL },
		{ "a\xc3\xa9 NOOP", 0, false, "* BAD Invalid tag", NULL },
		{ "+ NOOP", 0, false, "* BAD Invalid tag", NULL },
		{ "a1 FOO", 0, false, "a1 BAD Unknown command", NULL },
		{ "a1 FOO bar baz", 0, false, "a1 BAD Unknown command", NULL },
		{ "a1 NOOP(", 0, false,
		    "a1 BAD Missing space after the command name", NULL },
		{ "a1 (NOOP)", 0, false, "a1 BAD Invalid command name", NULL },
		{ "a1 UID", 0, false, "a1 BAD Missing command after UID",
		    NULL },
		{ "a1 UID ", 0, false, "a1 BAD Missing command after UID",
		    NULL },
		{ "a1 UID LOGIN x y", 0, false,
		    "a1 BAD Unknown command UID LOGIN", NULL },
		{ "a1 UID FOO", 0, false, "a1 BAD Unknown command UID FOO",
		    NULL },
		{ "a1 NOOP x", 0, false,
		    "a1 BAD This command takes no arguments", NULL },
		{ "a1 LOGIN", 0, false, "a1 BAD Missing arguments", NULL },
		{ "a1 LOGIN a", 0, false, "a1 BAD Not enough arguments", NULL },
		{ "a1 LOGIN a b c", 0, false, "a1 BAD Too many arguments",
		    NULL },
		{ "a1 EXPUNGE 1", 0, false,
		    "a1 BAD This command takes no arguments", NULL },
		{ "a1 UID EXPUNGE", 0, false, "a1 BAD Missing arguments",
		    NULL },
		{ "a1 LOGIN a  b", 0, false, "a1 BAD Extra space", NULL },
		{ "a1 LOGIN a b ", 0, false, "a1 BAD Trailing space", NULL },
		{ "a1 LOGIN \"abc", 0, false,
		    "a1 BAD Unterminated quoted string", NULL },
		{ "a1 LOGIN \"abc\\", 0, false,
		    "a1 BAD Unterminated quoted string", NULL },
		{ "a1 LOGIN \"a\\b\" x", 0, false,
		    "a1 BAD Invalid \\ escape in quoted string", NULL },
		{ "a1 LOGIN \"a\"b x", 0, false,
		    "a1 BAD Missing space between arguments", NULL },
		{ "a1 LOGIN \"a\rb\" x", 0, false,
		    "a1 BAD CR or LF in quoted string", NULL },
		{ W("a1 LOGIN \"a\0b\" x"), false,
		    "a1 BAD NUL byte in quoted string", NULL },
		{ "a1 LOGIN \"\xff\" x", 0, false,
		    "a1 BAD Invalid UTF-8 in quoted string", NULL },
		{ "a1 LOGIN \xc3 x", 0, false,
		    "a1 BAD Invalid UTF-8 in command", NULL },
		{ W("a1 LOGIN a\0b c"), false, "a1 BAD NUL byte in command",
		    NULL },
		{ "a1 LOGIN \x01 c", 0, false,
		    "a1 BAD Control character in command", NULL },
		{ "a1 LOGIN a\x7f c", 0, false,
		    "a1 BAD Control character in command", NULL },
		{ "a1 LOGIN a\rb c", 0, false, "a1 BAD CR in command line",
		    NULL },
		{ "a1 LOGIN {5}\r\nalice{6}\r\nsecret", 0, false,
		    "a1 BAD Missing space between arguments", NULL },
		{ "a1 LOGIN {5} x", 0, false,
		    "a1 BAD A literal must end the line", NULL },
		{ "a1 LOGIN {x}", 0, false, "a1 BAD Invalid literal size",
		    NULL },
		{ "a1 LOGIN {}", 0, false, "a1 BAD Invalid literal size",
		    NULL },
		{ "a1 LOGIN {5", 0, false, "a1 BAD Invalid literal size",
		    NULL },
		{ "a1 LOGIN ~x y", 0, false, "a1 LOGIN ~x y", NULL },
		{ "a1 FETCH 1 (FLAGS", 0, false, "a1 BAD Missing )", NULL },
		{ "a1 FETCH 1 FLAGS)", 0, false, "a1 BAD Unexpected )", NULL },
		{ "a1 FETCH 1 )", 0, false, "a1 BAD Unexpected )", NULL },
		{ "a1 FETCH 1 ( FLAGS)", 0, false, "a1 BAD Extra space", NULL },
		{ "a1 FETCH 1 (FLAGS )", 0, false,
		    "a1 BAD Extra space before )", NULL },
		{ "a1 FETCH 1 (FLAGS)(UID)", 0, false,
		    "a1 BAD Missing space between arguments", NULL },
		{ "a1 FETCH 1 BODY[HEADER", 0, false,
		    "a1 BAD Missing ] after the section", NULL },
		{ "a1 FETCH 1 BODY[HEADER ]", 0, false,
		    "a1 BAD Extra space before ]", NULL },
		{ "a1 FETCH 1 BODY[\"x]", 0, false,
		    "a1 BAD Unterminated quoted string", NULL },
	};

	RUN(cases, GENERIC);
}

/* pieces_are_checked_against_their_literal_announcements */
static void
pieces_are_checked_against_their_literal_announcements(void **state)
{
	static const struct {
		struct imap_piece p[4];
		size_t		 n;
		const char	*err;
	} cases[] = {
		{ { { "a LOGIN {3}", 11, false }, { "abcd", 4, true },
		    { " x", 2, false } }, 3,
		    "Literal data does not match its size" },
		{ { { "a LOGIN {3}", 11, false } }, 1, "Missing literal data" },
		{ { { "a LOGIN {3}", 11, false }, { "abc", 3, true } }, 2,
		    "Missing literal data" },
		{ { { "a LOGIN x", 9, false }, { "abc", 3, true },
		    { " x", 2, false } }, 3,
		    "Unexpected data after the command" },
		{ { { "abc", 3, true } }, 1, "Empty command line" },
		{ { { "a LOGIN {3}", 11, false }, { " x", 2, false },
		    { "abc", 3, true } }, 3, "Missing literal data" },
	};
	struct imap_cmd cmd;
	size_t i;
	int failures = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (imap_parse(&cmd, cases[i].p, cases[i].n, NULL) != -1 ||
		    cmd.error == NULL || strcmp(cmd.error, cases[i].err) != 0) {
			print_error("case %zu: got \"%s\", want \"%s\"\n", i,
			    cmd.error == NULL ? "success" : cmd.error,
			    cases[i].err);
			failures++;
		}
		imap_cmd_deinit(&cmd);
	}
	assert_int_equal(failures, 0);
}

/* a_literal_kept_by_the_session_is_passed_by_piece_index */
static void
a_literal_kept_by_the_session_is_passed_by_piece_index(void **state)
{
	struct imap_input in;
	const struct imap_piece *p;
	struct imap_cmd cmd;
	struct imap_append a;
	const char *s;
	size_t n;

	imap_input_init(&in, 1024);
	assert_int_equal(imap_input_line(&in, "a APPEND INBOX (\\Seen) {5000}",
	    29), 0);
	imap_input_literal_external(&in, 5000);
	assert_int_equal(imap_input_line(&in, "", 0), 0);
	p = imap_input_pieces(&in, &n);
	assert_int_equal(n, 3);
	assert_null(p[1].data);
	assert_int_equal(imap_parse(&cmd, p, n, NULL), 0);
	assert_int_equal(imap_parse_append(&cmd, &a), 0);
	assert_int_equal(a.count, 1);
	assert_null(a.msgs[0].data->str);
	assert_int_equal(a.msgs[0].data->len, 5000);
	assert_int_equal(a.msgs[0].data->piece, 1);
	assert_int_equal(a.msgs[0].flags.system, IMAP_FLAG_SEEN);
	/* as a string it is not available */
	assert_int_equal(imap_arg_astring(&cmd, a.msgs[0].data, &s), -1);
	imap_cmd_deinit(&cmd);

	/* the ceiling of the assembled bytes */
	imap_input_reset(&in);
	assert_int_equal(imap_input_line(&in, "a LOGIN {2000}", 14), 0);
	assert_int_equal(imap_input_literal(&in, "x", 1), 0);
	{
		char big[2000];

		memset(big, 'y', sizeof(big));
		assert_int_equal(imap_input_literal(&in, big, sizeof(big)),
		    -1);
	}
	imap_input_wipe(&in);
	p = imap_input_pieces(&in, &n);
	assert_int_equal(n, 0);
	imap_input_deinit(&in);
}

/* the_command_of_a_first_line_is_known_before_its_literals */
static void
the_command_of_a_first_line_is_known_before_its_literals(void **state)
{
	static const struct {
		const char	*line;
		enum imap_cmd_id id;
		bool		 uid;
	} cases[] = {
		{ "a APPEND INBOX {500}", IMAP_CMD_APPEND, false },
		{ "a append x (\\Seen) ~{5+}", IMAP_CMD_APPEND, false },
		{ "a AUTHENTICATE PLAIN", IMAP_CMD_AUTHENTICATE, false },
		{ "a IDLE", IMAP_CMD_IDLE, false },
		{ "a UID FETCH 1 FLAGS", IMAP_CMD_FETCH, true },
		{ "a UID LOGIN", IMAP_CMD_UNKNOWN, true },
		{ "a UID", IMAP_CMD_UNKNOWN, false },
		{ "a", IMAP_CMD_UNKNOWN, false },
		{ "", IMAP_CMD_UNKNOWN, false },
		{ "a FOO", IMAP_CMD_UNKNOWN, false },
		{ " APPEND", IMAP_CMD_UNKNOWN, false },
	};
	size_t i;
	bool uid;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum imap_cmd_id id = imap_parse_peek(cases[i].line,
		    strlen(cases[i].line), &uid);

		if (id != cases[i].id || uid != cases[i].uid)
			fail_msg("\"%s\": got %s uid %d, want %s uid %d",
			    cases[i].line, imap_cmd_id_name(id), uid,
			    imap_cmd_id_name(cases[i].id), cases[i].uid);
	}
}

/* fetch_attributes_of_both_rfcs_get_their_response_names */
static void
fetch_attributes_of_both_rfcs_get_their_response_names(void **state)
{
	static const struct pcase cases[] = {
		{ "a FETCH 1:* ALL", 0, false,
		    "1:* FLAGS INTERNALDATE RFC822.SIZE ENVELOPE", NULL },
		{ "a FETCH 1:* fast", 0, false,
		    "1:* FLAGS INTERNALDATE RFC822.SIZE", NULL },
		{ "a FETCH 1:* FULL", 0, false,
		    "1:* FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY", NULL },
		/* RFC 3501 6.4.5 */
		{ "A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])", 0,
		    false, "2:4 FLAGS BODY[HEADER.FIELDS (DATE FROM)] seen",
		    NULL },
		{ "a FETCH 1 (ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER "
		    "RFC822.SIZE RFC822.TEXT BODY BODYSTRUCTURE UID MODSEQ "
		    "EMAILID THREADID SAVEDATE)", 0, false,
		    "1 ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER "
		    "RFC822.SIZE RFC822.TEXT BODY BODYSTRUCTURE UID MODSEQ "
		    "EMAILID THREADID SAVEDATE seen", NULL },
		{ "a FETCH 1 (RFC822.HEADER RFC822.SIZE)", 0, false,
		    "1 RFC822.HEADER RFC822.SIZE", NULL },
		{ "a FETCH 1 RFC822.TEXT", 0, false, "1 RFC822.TEXT seen",
		    NULL },
		{ "a FETCH 1 BODY.PEEK[]", 0, false, "1 BODY[]", NULL },
		{ "a FETCH 1 body[]", 0, false, "1 BODY[] seen", NULL },
		{ "a FETCH 1 BODY.PEEK[1.2.MIME]<0.1024>", 0, false,
		    "1 BODY[1.2.MIME]<0>", NULL },
		{ "a FETCH 1 BODY.PEEK[1.2.text]<100.1>", 0, false,
		    "1 BODY[1.2.TEXT]<100>", NULL },
		{ "a FETCH 1 BODY.PEEK[header.fields.not (Received)]", 0,
		    false, "1 BODY[HEADER.FIELDS.NOT (Received)]", NULL },
		{ "a FETCH 1 BODY.PEEK[HEADER.FIELDS ({4}\r\nFrom \"To\")]", 0,
		    false, "1 BODY[HEADER.FIELDS (From To)]", NULL },
		{ "a FETCH 1 BODY[4.2.2.1]", 0, false, "1 BODY[4.2.2.1] seen",
		    NULL },
		{ "a FETCH 1 BODY.PEEK[HEADER.FIELDS (\"a]\" X)]", 0, false,
		    "1 BODY[HEADER.FIELDS (\"a]\" X)]", NULL },
		{ "a FETCH 1 BODY.PEEK[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17."
		    "18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33.34.35.36.37."
		    "38.39.40.41.42.43.44.45.46.47.48.49.50.51.52.53.54.55.56.57."
		    "58.59.60.61.62.63.64.65.66.67.68.69.70.71.72.73.74.75.76.77."
		    "78.79.80.81.82.83.84.85.86.87.88.89.90.91.92.93.94.95.96.97."
		    "98.99.100.101]", 0, false,
		    "a BAD Section part nested too deeply", NULL },
		{ "a FETCH 1 BODY.PEEK[01]", 0, false, NULL,
		    "a BAD Invalid section part number" },
		{ "a FETCH 1 BODY.PEEK[1.]", 0, false, NULL,
		    "a BAD Invalid section part number" },
		{ "a FETCH 1 BODY.PEEK[4294967296]", 0, false, NULL,
		    "a BAD Invalid section part number" },
		{ "a FETCH 1 BODY.PEEK[]<9223372036854775807."
		    "9223372036854775807>", 0, false,
		    "1 BODY[]<9223372036854775807>", NULL },
		{ "a FETCH 1 BODY.PEEK[]<9223372036854775808.1>", 0, false,
		    NULL, "a BAD Invalid partial <9223372036854775808.1>" },
		{ "a FETCH 1 (BINARY.PEEK[1]<5.10> BINARY.SIZE[2] BINARY[])",
		    0, false, "1 BINARY[1]<5> BINARY.SIZE[2] BINARY[] seen",
		    NULL },
		/* the Thunderbird first sync */
		{ "a UID FETCH 1:* (UID RFC822.SIZE FLAGS INTERNALDATE "
		    "BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date "
		    "Message-ID Content-Type)])", 0, false,
		    "1:* UID RFC822.SIZE FLAGS INTERNALDATE BODY[HEADER.FIELDS "
		    "(From To Cc Subject Date Message-ID Content-Type)]",
		    NULL },
		{ "a UID FETCH 1:* (FLAGS)", 0, false, "1:* UID* FLAGS", NULL },
		{ "a UID FETCH 1:* FLAGS (CHANGEDSINCE 12345 VANISHED)", 0,
		    false, "1:* UID* FLAGS MODSEQ* changedsince=12345 vanished",
		    NULL },
		/* RFC 7162 3.1.4.1 */
		{ "s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)", 0, false,
		    "1:* UID* FLAGS MODSEQ* changedsince=12345", NULL },
		{ "a FETCH 1 (FLAGS MODSEQ) (CHANGEDSINCE 0)", 0, false,
		    "1 FLAGS MODSEQ changedsince=0", NULL },
		{ "a FETCH $ FLAGS", 0, false, "$ FLAGS", NULL },
		{ "a FETCH 1 (ALL)", 0, false, NULL,
		    "BAD ALL must be alone, not in a list" },
		{ "a FETCH 1 FOO", 0, false, NULL,
		    "BAD Unknown FETCH attribute FOO" },
		{ "a FETCH 1 (FLAGS UIDS)", 0, false, NULL,
		    "BAD Unknown FETCH attribute UIDS" },
		{ "a FETCH 1 BODY.PEEK", 0, false, NULL,
		    "BAD BODY.PEEK needs a [section]" },
		{ "a FETCH 1 BINARY", 0, false, NULL,
		    "BAD BINARY needs a [section]" },
		{ "a FETCH 1 BINARY[TEXT]", 0, false, NULL,
		    "BAD BINARY takes only part numbers" },
		{ "a FETCH 1 BINARY.SIZE[1]<0.5>", 0, false, NULL,
		    "BAD BINARY.SIZE takes no partial" },
		{ "a FETCH 1 BODY[]<0.0>", 0, false, NULL,
		    "BAD Invalid partial <0.0>" },
		{ "a FETCH 1 BODY[]<1>", 0, false, NULL,
		    "BAD Invalid partial <1>" },
		{ "a FETCH 1 BODY[]x", 0, false, NULL,
		    "BAD Invalid partial x" },
		{ "a FETCH 1 BODY[0]", 0, false,
		    "a BAD Invalid section part number", NULL },
		{ "a FETCH 1 BODY[1.MIM]", 0, false, "a BAD Unknown section",
		    NULL },
		{ "a FETCH 1 BODY[MIME]", 0, false,
		    "a BAD MIME needs a part number", NULL },
		{ "a FETCH 1 BODY[HEADER.FIELDS]", 0, false,
		    "a BAD Expected a header field list", NULL },
		{ "a FETCH 1 BODY[HEADER.FIELDS ()]", 0, false,
		    "a BAD Invalid header field name", NULL },
		{ "a FETCH 1 BODY[HEADER (From)]", 0, false,
		    "a BAD Unknown section", NULL },
		{ "a FETCH 1 BODY[\"HEADER\"]", 0, false, NULL,
		    "BAD Invalid section: a quoted string" },
		{ "a FETCH 1 BODY[1 2]", 0, false, NULL,
		    "BAD Unexpected arguments in section 1" },
		{ "a FETCH 1 ()", 0, false, NULL,
		    "BAD Empty list of FETCH attributes" },
		{ "a FETCH 1 \"FLAGS\"", 0, false, NULL,
		    "BAD Expected a FETCH attribute, got a quoted string" },
		{ "a FETCH 1 FLAGS (VANISHED)", 0, false, NULL,
		    "BAD VANISHED needs UID FETCH" },
		{ "a UID FETCH 1 FLAGS (VANISHED)", 0, false, NULL,
		    "BAD VANISHED needs CHANGEDSINCE" },
		{ "a FETCH 1 FLAGS (FOO)", 0, false, NULL,
		    "BAD Unknown FETCH modifier FOO" },
		{ "a FETCH 1 FLAGS (CHANGEDSINCE)", 0, false, NULL,
		    "BAD CHANGEDSINCE needs a mod-sequence" },
		{ "a FETCH 1 FLAGS (CHANGEDSINCE x)", 0, false, NULL,
		    "BAD Invalid number x" },
		{ "a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)", 0,
		    false, NULL, "BAD Number out of range" },
		{ "a FETCH 1 FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)", 0, false,
		    NULL, "BAD CHANGEDSINCE given twice" },
		{ "a FETCH 1 FLAGS ()", 0, false, NULL,
		    "BAD Empty list of FETCH modifiers" },
		{ "a FETCH 0 FLAGS", 0, false, NULL,
		    "BAD Invalid sequence set: numbers start at 1" },
		{ "a FETCH 1,,2 FLAGS", 0, false, NULL,
		    "BAD Invalid sequence set" },
		{ "a FETCH (1) FLAGS", 0, false, NULL,
		    "BAD Expected a sequence set, got a list" },
	};

	RUN(cases, TYPED);
}

/* store_takes_every_flag_form_and_unchangedsince */
static void
store_takes_every_flag_form_and_unchangedsince(void **state)
{
	static const struct pcase cases[] = {
		/* RFC 3501 6.4.6 */
		{ "A003 STORE 2:4 +FLAGS (\\Deleted)", 0, false,
		    "2:4 +FLAGS (\\Deleted)", NULL },
		{ "a STORE 1 FLAGS.SILENT \\Seen \\Flagged $Junk", 0, false,
		    "1 =FLAGS.SILENT (\\Flagged \\Seen $Junk)", NULL },
		{ "a STORE 1 -flags ()", 0, false, "1 -FLAGS ()", NULL },
		{ "a STORE 1 FLAGS ($a $A $b)", 0, false,
		    "1 =FLAGS ($a $b)", NULL },
		{ "a STORE $ +FLAGS.SILENT (\\Answered \\Draft)", 0, false,
		    "$ +FLAGS.SILENT (\\Answered \\Draft)", NULL },
		/* RFC 7162 3.1.3 */
		{ "d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT "
		    "(\\Deleted)", 0, false,
		    "5,7,9 +FLAGS.SILENT (\\Deleted) unchangedsince=320162338",
		    NULL },
		{ "a UID STORE 1:* (UNCHANGEDSINCE 0) -FLAGS NonJunk", 0,
		    false, "1:* -FLAGS (NonJunk) unchangedsince=0", NULL },
		{ "a STORE 1 +FLAGS (\\Recent)", 0, false, NULL,
		    "BAD \\Recent cannot be set" },
		{ "a STORE 1 +FLAGS (\\Foo)", 0, false, NULL,
		    "BAD Unknown system flag \\Foo" },
		{ "a STORE 1 +FLAGS (\\*)", 0, false, NULL,
		    "BAD Unknown system flag \\*" },
		{ "a STORE 1 +FLAGS (a%b)", 0, false, NULL,
		    "BAD Invalid keyword a%b" },
		{ "a STORE 1 +FLAGS (a]b)", 0, false, NULL,
		    "BAD Invalid keyword a]b" },
		{ "a STORE 1 +FLAGS (\"x\")", 0, false, NULL,
		    "BAD Expected a flag, got a quoted string" },
		{ "a STORE 1 X-GM-LABELS (a)", 0, false, NULL,
		    "BAD Unknown STORE item X-GM-LABELS" },
		{ "a STORE 1 +FLAGS", 0, false, NULL,
		    "BAD Not enough arguments" },
		{ "a STORE 1 (UNCHANGEDSINCE 5) +FLAGS", 0, false, NULL,
		    "BAD Missing flags" },
		{ "a STORE 1 (FOO 1) +FLAGS (\\Seen)", 0, false, NULL,
		    "BAD Unknown STORE modifier FOO" },
		{ "a STORE 1 () +FLAGS (\\Seen)", 0, false, NULL,
		    "BAD Empty list of STORE modifiers" },
		{ "a STORE 1 +FLAGS (\\Seen) x", 0, false, NULL,
		    "BAD Unexpected arguments after the flag list" },
		{ "a STORE 1 (\\Seen) +FLAGS", 0, false, NULL,
		    "BAD Unknown STORE modifier \\Seen" },
	};

	RUN(cases, TYPED);
}

/* search_programs_of_both_rfcs_become_trees */
static void
search_programs_of_both_rfcs_become_trees(void **state)
{
	static const struct pcase cases[] = {
		/* RFC 3501 6.4.4 */
		{ "A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
		    0, false, "(and \\Flagged SINCE:1994-02-01 "
		    "(not FROM:\"Smith\"))", NULL },
		{ "A283 SEARCH TEXT \"string not in mailbox\"", 0, false,
		    "TEXT:\"string not in mailbox\"", NULL },
		/* RFC 9051 6.4.4 */
		{ "A284 SEARCH CHARSET UTF-8 TEXT {12}\r\n"
		    "\xd0\xbe\xd1\x82\xd0\xbf\xd1\x83\xd1\x81\xd0\xba", 0,
		    false, "charset=UTF-8 TEXT:\"\\xd0\\xbe\\xd1\\x82\\xd0\\xbf"
		    "\\xd1\\x83\\xd1\\x81\\xd0\\xba\"", NULL },
		{ "A285 SEARCH CHARSET WINDOWS-1252 SUBJECT \"x\"", 0, false,
		    "A285 NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset "
		    "WINDOWS-1252", NULL },
		{ "a SEARCH charset us-ascii ALL", 0, false,
		    "charset=US-ASCII ALL", NULL },
		{ "a SEARCH ALL", 0, false, "ALL", NULL },
		{ "a SEARCH ANSWERED DELETED DRAFT FLAGGED SEEN RECENT", 0,
		    false, "(and \\Answered \\Deleted \\Draft \\Flagged \\Seen "
		    "\\Recent)", NULL },
		{ "a SEARCH UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN OLD",
		    0, false, "(and (not \\Answered) (not \\Deleted) "
		    "(not \\Draft) (not \\Flagged) (not \\Seen) "
		    "(not \\Recent))", NULL },
		{ "a SEARCH NEW", 0, false, "(and \\Recent (not \\Seen))",
		    NULL },
		{ "a SEARCH KEYWORD $Junk UNKEYWORD NonJunk", 0, false,
		    "(and kw:$Junk (not kw:NonJunk))", NULL },
		{ "a SEARCH BCC a BODY b CC c FROM d SUBJECT e TEXT f TO g", 0,
		    false, "(and BCC:\"a\" BODY:\"b\" CC:\"c\" FROM:\"d\" "
		    "SUBJECT:\"e\" TEXT:\"f\" TO:\"g\")", NULL },
		{ "a SEARCH HEADER Message-ID \"<x@y>\"", 0, false,
		    "HEADER:Message-ID:\"<x@y>\"", NULL },
		{ "a SEARCH HEADER X-Foo \"\"", 0, false,
		    "HEADER:X-Foo:\"\"", NULL },
		{ "a SEARCH BEFORE 1-Jan-2020 ON \"29-Feb-2020\" SINCE "
		    "31-dec-1999", 0, false, "(and BEFORE:2020-01-01 "
		    "ON:2020-02-29 SINCE:1999-12-31)", NULL },
		{ "a SEARCH SENTBEFORE 1-Jan-2020 SENTON 2-Jan-2020 SENTSINCE "
		    "3-Jan-2020", 0, false, "(and SENTBEFORE:2020-01-01 "
		    "SENTON:2020-01-02 SENTSINCE:2020-01-03)", NULL },
		{ "a SEARCH SAVEDBEFORE 1-Jan-2020 SAVEDON 2-Jan-2020 "
		    "SAVEDSINCE 3-Jan-2020 SAVEDATESUPPORTED", 0, false,
		    "(and SAVEDBEFORE:2020-01-01 SAVEDON:2020-01-02 "
		    "SAVEDSINCE:2020-01-03 SAVEDATESUPPORTED)", NULL },
		{ "a SEARCH LARGER 1024 SMALLER 9223372036854775807", 0, false,
		    "(and LARGER:1024 SMALLER:9223372036854775807)", NULL },
		{ "a SEARCH YOUNGER 3600 OLDER 60", 0, false,
		    "(and YOUNGER:3600 OLDER:60)", NULL },
		{ "a SEARCH 1:5,7 UID 10:*", 0, false,
		    "(and seq:1:5,7 uid:10:*)", NULL },
		{ "a SEARCH $", 0, false, "uses$ seq:$", NULL },
		{ "a SEARCH UID $ SEEN", 0, false, "uses$ (and uid:$ \\Seen)",
		    NULL },
		{ "a SEARCH *", 0, false, "seq:*", NULL },
		{ "a SEARCH OR SEEN FLAGGED", 0, false,
		    "(or \\Seen \\Flagged)", NULL },
		/* right-nested chains become one OR */
		{ "a SEARCH OR FROM a OR TO a OR CC a SUBJECT a", 0, false,
		    "(or FROM:\"a\" TO:\"a\" CC:\"a\" SUBJECT:\"a\")", NULL },
		{ "a SEARCH OR OR SEEN DRAFT DELETED", 0, false,
		    "(or (or \\Seen \\Draft) \\Deleted)", NULL },
		{ "a SEARCH OR (SEEN FLAGGED) NOT (DRAFT)", 0, false,
		    "(or (and \\Seen \\Flagged) (not (and \\Draft)))", NULL },
		{ "a SEARCH NOT NOT SEEN", 0, false, "(not (not \\Seen))",
		    NULL },
		{ "a SEARCH ((SEEN))", 0, false, "(and (and \\Seen))", NULL },
		/* RFC 7162 3.1.5 */
		{ "a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338", 0,
		    false, "usesmodseq MODSEQ:/flags/\\draft:all:620162338",
		    NULL },
		{ "a SEARCH MODSEQ 720162338 LARGER 50000", 0, false,
		    "usesmodseq (and MODSEQ:720162338 LARGER:50000)", NULL },
		{ "a SEARCH MODSEQ \"/flags/$Junk\" priv 1", 0, false,
		    "usesmodseq MODSEQ:/flags/$Junk:priv:1", NULL },
		/* RFC 8474 */
		{ "a SEARCH EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9",
		    0, false, "(and EMAILID:M6d99ac3275bb4e "
		    "THREADID:T64b478a75b7ea9)", NULL },
		/* RFC 4731 */
		{ "a SEARCH RETURN (MIN COUNT) FLAGGED", 0, false,
		    "ret=MIN,COUNT \\Flagged", NULL },
		{ "a SEARCH RETURN () FLAGGED", 0, false, "ret=ALL \\Flagged",
		    NULL },
		{ "a SEARCH RETURN (MIN MAX ALL COUNT SAVE) CHARSET UTF-8 "
		    "ALL", 0, false, "charset=UTF-8 ret=MIN,MAX,ALL,COUNT,SAVE "
		    "ALL", NULL },
		{ "a UID SEARCH RETURN (SAVE) SINCE 1-Jan-2020", 0, false,
		    "ret=SAVE SINCE:2020-01-01", NULL },
		{ "a SEARCH", 0, false, "a BAD Missing arguments", NULL },
		{ "a SEARCH CHARSET UTF-8", 0, false,
		    "a BAD Missing search keys", NULL },
		{ "a SEARCH CHARSET", 0, false, "a BAD CHARSET needs a name",
		    NULL },
		{ "a SEARCH RETURN", 0, false,
		    "a BAD RETURN needs a list of options", NULL },
		{ "a SEARCH RETURN MIN ALL", 0, false,
		    "a BAD RETURN needs a list of options", NULL },
		{ "a SEARCH RETURN (PARTIAL 1:5) ALL", 0, false,
		    "a BAD Unknown RETURN option PARTIAL", NULL },
		{ "a SEARCH FOO", 0, false, "a BAD Unknown search key FOO",
		    NULL },
		{ "a SEARCH \"SEEN\"", 0, false,
		    "a BAD Expected a search key, got a quoted string", NULL },
		{ "a SEARCH FROM", 0, false, "a BAD Missing argument of FROM",
		    NULL },
		{ "a SEARCH HEADER Subject", 0, false,
		    "a BAD Missing argument of HEADER", NULL },
		{ "a SEARCH ()", 0, false,
		    "a BAD Empty parenthesised search key", NULL },
		{ "a SEARCH OR SEEN", 0, false,
		    "a BAD Missing second search key of OR", NULL },
		{ "a SEARCH OR", 0, false,
		    "a BAD Missing search key after OR", NULL },
		{ "a SEARCH OR SEEN OR", 0, false,
		    "a BAD Missing search key after OR", NULL },
		{ "a SEARCH NOT", 0, false,
		    "a BAD Missing search key after NOT", NULL },
		{ "a SEARCH SINCE 30-Feb-2020", 0, false,
		    "a BAD Invalid date 30-Feb-2020", NULL },
		{ "a SEARCH SINCE 29-Feb-2019", 0, false,
		    "a BAD Invalid date 29-Feb-2019", NULL },
		{ "a SEARCH SINCE 1-Foo-2020", 0, false,
		    "a BAD Invalid date 1-Foo-2020", NULL },
		{ "a SEARCH SINCE 1-Jan-20", 0, false,
		    "a BAD Invalid date 1-Jan-20", NULL },
		{ "a SEARCH SINCE 001-Jan-2020", 0, false,
		    "a BAD Invalid date 001-Jan-2020", NULL },
		{ "a SEARCH SINCE (1-Jan-2020)", 0, false,
		    "a BAD Expected a date, got a list", NULL },
		{ "a SEARCH LARGER -1", 0, false, "a BAD Invalid number -1",
		    NULL },
		{ "a SEARCH LARGER 99999999999999999999", 0, false,
		    "a BAD Number too large: 99999999999999999999", NULL },
		{ "a SEARCH YOUNGER 0", 0, false,
		    "a BAD Number out of range: 0", NULL },
		{ "a SEARCH KEYWORD \\Seen", 0, false,
		    "a BAD Invalid keyword \\Seen", NULL },
		{ "a SEARCH KEYWORD a(b", 0, false, NULL,
		    "a BAD Missing space between arguments" },
		{ "a SEARCH UID 0", 0, false, NULL,
		    "a BAD Invalid sequence set: numbers start at 1" },
		{ "a SEARCH 1,$", 0, false, NULL, "Invalid sequence set" },
		{ "a SEARCH MODSEQ \"/foo/x\" all 1", 0, false,
		    "a BAD Invalid MODSEQ entry name /foo/x", NULL },
		{ "a SEARCH MODSEQ \"/flags/\\\\Recent\" all 1", 0, false,
		    "a BAD Invalid MODSEQ entry name /flags/\\Recent", NULL },
		{ "a SEARCH MODSEQ \"/flags/\\\\Seen\" mine 1", 0, false,
		    "a BAD Invalid MODSEQ entry type", NULL },
		{ "a SEARCH MODSEQ \"/flags/\\\\Seen\" all", 0, false,
		    "a BAD Missing argument of MODSEQ", NULL },
		{ "a SEARCH EMAILID a.b", 0, false,
		    "a BAD Invalid object id a.b", NULL },
	};

	RUN(cases, TYPED);
}

/* sort_and_thread_take_criteria_a_charset_and_a_program */
static void
sort_and_thread_take_criteria_a_charset_and_a_program(void **state)
{
	static const struct pcase cases[] = {
		/* RFC 5256 */
		{ "A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994", 0, false,
		    "sort=SUBJECT charset=UTF-8 SINCE:1994-02-01", NULL },
		{ "A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL", 0, false,
		    "sort=SUBJECT,-DATE charset=UTF-8 ALL", NULL },
		{ "A284 SORT (SUBJECT) US-ASCII TEXT \"not in mailbox\"", 0,
		    false, "sort=SUBJECT charset=US-ASCII "
		    "TEXT:\"not in mailbox\"", NULL },
		{ "a UID SORT (ARRIVAL CC FROM SIZE TO DISPLAYFROM DISPLAYTO) "
		    "utf-8 UNSEEN", 0, false,
		    "sort=ARRIVAL,CC,FROM,SIZE,TO,DISPLAYFROM,DISPLAYTO "
		    "charset=UTF-8 (not \\Seen)", NULL },
		{ "A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000", 0,
		    false, "thread=ORDEREDSUBJECT charset=UTF-8 "
		    "SINCE:2000-03-05", NULL },
		{ "A284 THREAD REFERENCES US-ASCII TEXT \"gewp\"", 0, false,
		    "thread=REFERENCES charset=US-ASCII TEXT:\"gewp\"", NULL },
		{ "a SORT (FOO) UTF-8 ALL", 0, false,
		    "a BAD Unknown sort criterion FOO", NULL },
		{ "a SORT () UTF-8 ALL", 0, false,
		    "a BAD Empty list of sort criteria", NULL },
		{ "a SORT (DATE REVERSE) UTF-8 ALL", 0, false,
		    "a BAD REVERSE must precede a criterion", NULL },
		{ "a SORT (REVERSE REVERSE DATE) UTF-8 ALL", 0, false,
		    "a BAD REVERSE given twice", NULL },
		{ "a SORT DATE UTF-8 ALL", 0, false, NULL,
		    "a BAD Syntax: SORT" },
		{ "a SORT (DATE) KOI8-R ALL", 0, false,
		    "a NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset "
		    "KOI8-R", NULL },
		{ "a THREAD X UTF-8 ALL", 0, false,
		    "a BAD Unknown threading algorithm X", NULL },
		{ "a THREAD REFERENCES UTF-8", 0, false,
		    "a BAD Not enough arguments", NULL },
	};

	RUN(cases, TYPED);
}

/* deep_and_big_search_programs_are_bounded */
static void
deep_and_big_search_programs_are_bounded(void **state)
{
	struct imap_parse_settings set;
	struct buf b;
	char *got;
	int i;

	/* NOT NOT ... SEEN: 256 levels pass, 257 do not */
	buf_init(&b, 0);
	buf_append_str(&b, "a SEARCH");
	for (i = 0; i < 255; i++)
		buf_append_str(&b, " NOT");
	buf_append_str(&b, " SEEN");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_non_null(strstr(got, "(not (not"));
	free(got);
	buf_reset(&b);
	buf_append_str(&b, "a SEARCH");
	for (i = 0; i < 256; i++)
		buf_append_str(&b, " NOT");
	buf_append_str(&b, " SEEN");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_string_equal(got, "a BAD Search program nested too deeply");
	free(got);

	/* left-nested OR chains nest; right-nested ones do not */
	buf_reset(&b);
	buf_append_str(&b, "a SEARCH");
	for (i = 0; i < 300; i++)
		buf_append_str(&b, " OR");
	buf_append_str(&b, " SEEN");
	for (i = 0; i < 300; i++)
		buf_append_str(&b, " DRAFT");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_string_equal(got, "a BAD Search program nested too deeply");
	free(got);
	buf_reset(&b);
	buf_append_str(&b, "a SEARCH");
	for (i = 0; i < 2000; i++)
		buf_printf(&b, " OR HEADER Message-ID <%d@x>", i);
	buf_append_str(&b, " SEEN");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_non_null(strstr(got, "(or HEADER:Message-ID:\"<0@x>\""));
	assert_non_null(strstr(got, "HEADER:Message-ID:\"<1999@x>\" \\Seen)"));
	free(got);

	/* parenthesised nesting meets the list depth first */
	buf_reset(&b);
	buf_append_str(&b, "a SEARCH ");
	for (i = 0; i < IMAP_PARSE_MAX_DEPTH; i++)
		buf_append_byte(&b, '(');
	buf_append_str(&b, "SEEN");
	for (i = 0; i < IMAP_PARSE_MAX_DEPTH; i++)
		buf_append_byte(&b, ')');
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_non_null(strstr(got, "(and (and"));
	free(got);
	buf_reset(&b);
	buf_append_str(&b, "a SEARCH ");
	for (i = 0; i <= IMAP_PARSE_MAX_DEPTH; i++)
		buf_append_byte(&b, '(');
	buf_append_str(&b, "SEEN");
	for (i = 0; i <= IMAP_PARSE_MAX_DEPTH; i++)
		buf_append_byte(&b, ')');
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_string_equal(got, "a BAD Too deeply nested lists");
	free(got);

	/* the node count, with a small limit: 5 keys and the root pass */
	imap_parse_settings_init(&set);
	set.max_search_nodes = 6;
	got = outcome("a SEARCH OR SEEN DRAFT NOT FLAGGED", 34, 0, false,
	    TYPED, &set);
	assert_string_equal(got, "(and (or \\Seen \\Draft) (not \\Flagged))");
	free(got);
	got = outcome("a SEARCH OR SEEN DRAFT NOT FLAGGED ALL", 38, 0, false,
	    TYPED, &set);
	assert_string_equal(got, "a BAD Search program too complex");
	free(got);
	set.max_search_nodes = IMAP_PARSE_MAX_SEARCH_NODES;
	set.max_search_depth = 2;
	got = outcome("a SEARCH NOT SEEN", 17, 0, false, TYPED, &set);
	assert_string_equal(got, "(not \\Seen)");
	free(got);
	got = outcome("a SEARCH NOT NOT SEEN", 21, 0, false, TYPED, &set);
	assert_string_equal(got, "a BAD Search program nested too deeply");
	free(got);
	buf_deinit(&b);
}

/* argument_count_and_list_depth_have_ceilings */
static void
argument_count_and_list_depth_have_ceilings(void **state)
{
	struct imap_parse_settings set;
	struct buf b;
	char *got;
	int i;

	buf_init(&b, 0);
	buf_append_str(&b, "a ENABLE");
	for (i = 0; i < IMAP_PARSE_MAX_ARGS; i++)
		buf_append_str(&b, " X");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, GENERIC, NULL);
	assert_int_equal(strncmp(got, "a ENABLE X X", 12), 0);
	free(got);
	buf_append_str(&b, " X");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, GENERIC, NULL);
	assert_string_equal(got, "a BAD Too many arguments");
	free(got);

	/* members of lists count too */
	imap_parse_settings_init(&set);
	set.max_args = 3;
	got = outcome("a ID (a b)", 10, 0, false, GENERIC, &set);
	assert_string_equal(got, "a ID (a b)");
	free(got);
	got = outcome("a ID (a b c)", 12, 0, false, GENERIC, &set);
	assert_string_equal(got, "a BAD Too many arguments");
	free(got);
	set.max_args = IMAP_PARSE_MAX_ARGS;
	set.max_depth = 2;
	got = outcome("a ID ((x))", 10, 0, false, GENERIC, &set);
	assert_string_equal(got, "a ID ((x))");
	free(got);
	got = outcome("a ID (((x)))", 12, 0, false, GENERIC, &set);
	assert_string_equal(got, "a BAD Too deeply nested lists");
	free(got);
	got = outcome("a FETCH 1 (BODY[HEADER.FIELDS (x)])", 35, 0, false,
	    GENERIC, &set);
	assert_string_equal(got, "a BAD Too deeply nested lists");
	free(got);

	/* many short strings before a long one: memory stays linear */
	buf_reset(&b);
	buf_append_str(&b, "a ID (");
	for (i = 0; i < 9000; i++)
		buf_append_str(&b, "\"k\" ");
	buf_append_byte(&b, '"');
	for (i = 0; i < 1000000; i++)
		buf_append_byte(&b, 'y');
	buf_append_str(&b, "\")");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, GENERIC, NULL);
	assert_int_equal(strncmp(got, "a ID (\"k\" \"k\"", 13), 0);
	free(got);

	/* keywords in one list */
	buf_reset(&b);
	buf_append_str(&b, "a STORE 1 +FLAGS (");
	for (i = 0; i < IMAP_MAX_KEYWORDS; i++)
		buf_printf(&b, "%sk%d", i > 0 ? " " : "", i);
	buf_append_str(&b, " k0 K1)");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_int_equal(strncmp(got, "1 +FLAGS (k0 k1 k2 ", 19), 0);
	free(got);
	buf_reset(&b);
	buf_append_str(&b, "a STORE 1 +FLAGS (");
	for (i = 0; i <= IMAP_MAX_KEYWORDS; i++)
		buf_printf(&b, "%sk%d", i > 0 ? " " : "", i);
	buf_append_str(&b, ")");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_string_equal(got, "a BAD Too many keywords");
	free(got);

	/* a long line: one 1 MB sequence set is one atom */
	buf_reset(&b);
	buf_append_str(&b, "a UID FETCH ");
	for (i = 1; i < 200000; i += 2)
		buf_printf(&b, "%s%d", i > 1 ? "," : "", i);
	buf_append_str(&b, " FLAGS");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_int_equal(strncmp(got, "1,3,5,", 6), 0);
	assert_non_null(strstr(got, ",199999 UID* FLAGS"));
	free(got);
	buf_deinit(&b);
}

/* list_takes_selection_and_return_options_and_pattern_lists */
static void
list_takes_selection_and_return_options_and_pattern_lists(void **state)
{
	static const struct pcase cases[] = {
		{ "a LIST \"\" *", 0, false,
		    "sel=0 ret=0 status=0 ref=\"\" pat=\"*\"", NULL },
		{ "a LIST \"\" \"\"", 0, false,
		    "sel=0 ret=0 status=0 ref=\"\" pat=\"\"", NULL },
		{ "a LIST ~/Mail/ %", 0, false,
		    "sel=0 ret=0 status=0 ref=\"~/Mail/\" pat=\"%\"", NULL },
		{ "a LIST \"\" {5}\r\nfoo/*", 0, false,
		    "sel=0 ret=0 status=0 ref=\"\" pat=\"foo/*\"", NULL },
		{ "a LSUB \"#news.\" \"comp.mail.*\"", 0, false,
		    "lsub sel=0 ret=0 status=0 ref=\"#news.\" "
		    "pat=\"comp.mail.*\"", NULL },
		/* RFC 5258 5 */
		{ "A02 LIST (SUBSCRIBED) \"\" \"*\"", 0, false,
		    "ext sel=1 ret=0 status=0 ref=\"\" pat=\"*\"", NULL },
		{ "A03 LIST () \"\" \"%\" RETURN (CHILDREN)", 0, false,
		    "ext sel=0 ret=2 status=0 ref=\"\" pat=\"%\"", NULL },
		{ "A04 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)", 0, false,
		    "ext sel=2 ret=2 status=0 ref=\"\" pat=\"%\"", NULL },
		{ "A05 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN "
		    "(CHILDREN)", 0, false,
		    "ext sel=5 ret=2 status=0 ref=\"\" pat=\"%\"", NULL },
		{ "A06 LIST \"\" (\"foo\" \"foo/*\")", 0, false,
		    "ext sel=0 ret=0 status=0 ref=\"\" pat=\"foo\",\"foo/*\"",
		    NULL },
		{ "a LIST \"\" % RETURN ()", 0, false,
		    "ext sel=0 ret=0 status=0 ref=\"\" pat=\"%\"", NULL },
		/* RFC 5819 */
		{ "A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))", 0, false,
		    "ext sel=0 ret=8 status=11 ref=\"\" pat=\"%\"", NULL },
		/* the Thunderbird folder tree */
		{ "a LIST (SUBSCRIBED) \"\" \"*\" RETURN (SPECIAL-USE CHILDREN "
		    "STATUS (MESSAGES UNSEEN UIDNEXT HIGHESTMODSEQ))", 0, false,
		    "ext sel=1 ret=e status=95 ref=\"\" pat=\"*\"", NULL },
		/* RFC 6154 */
		{ "t1 LIST (SPECIAL-USE) \"\" \"*\" RETURN (SUBSCRIBED "
		    "MYRIGHTS)", 0, false,
		    "ext sel=8 ret=11 status=0 ref=\"\" pat=\"*\"", NULL },
		/* modified UTF-7 decoded, unless the session is UTF-8 */
		{ "a LIST \"\" \"&ZeVnLIqe-/*\"", 0, false,
		    "sel=0 ret=0 status=0 ref=\"\" "
		    "pat=\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/*\"", NULL },
		{ "a LIST \"\" \"&ZeVnLIqe-/*\"", 0, true,
		    "sel=0 ret=0 status=0 ref=\"\" pat=\"&ZeVnLIqe-/*\"",
		    NULL },
		{ "a LIST \"\" \"\xe6\x97\xa5/*\"", 0, true,
		    "sel=0 ret=0 status=0 ref=\"\" pat=\"\xe6\x97\xa5/*\"",
		    NULL },
		{ "a LIST \"\" \"&Jjo\"", 0, false, NULL,
		    "a BAD Invalid modified UTF-7 in &Jjo" },
		{ "a LIST \"\" \"\xe6\x97\xa5\"", 0, false, NULL,
		    "a BAD Invalid modified UTF-7" },
		{ "a LIST (RECURSIVEMATCH) \"\" %", 0, false, NULL,
		    "a BAD RECURSIVEMATCH needs another selection option" },
		{ "a LIST (REMOTE RECURSIVEMATCH) \"\" %", 0, false, NULL,
		    "a BAD RECURSIVEMATCH needs another selection option" },
		{ "a LIST (FOO) \"\" %", 0, false, NULL,
		    "a BAD Unknown LIST selection option FOO" },
		{ "a LIST \"\" % RETURN (FOO)", 0, false, NULL,
		    "a BAD Unknown LIST return option FOO" },
		{ "a LIST \"\" % RETURN (STATUS)", 0, false, NULL,
		    "a BAD STATUS needs a list of items" },
		{ "a LIST \"\" % RETURN (STATUS ())", 0, false, NULL,
		    "a BAD Empty list of STATUS items" },
		{ "a LIST \"\" % RETURN", 0, false, NULL,
		    "a BAD RETURN needs a list of options" },
		{ "a LIST \"\" % FOO (x)", 0, false, NULL,
		    "a BAD Unexpected argument FOO after the pattern" },
		{ "a LIST \"\" ()", 0, false, NULL,
		    "a BAD Empty list of patterns" },
		{ "a LIST (SUBSCRIBED) \"\"", 0, false, NULL,
		    "a BAD Syntax: LIST reference pattern" },
		{ "a LSUB \"\" (\"a\")", 0, false, NULL,
		    "a BAD Expected a string, got a list" },
	};

	RUN(cases, TYPED);
}

/* status_items_of_every_extension_are_known */
static void
status_items_of_every_extension_are_known(void **state)
{
	static const struct pcase cases[] = {
		/* RFC 3501 6.3.10 */
		{ "A042 STATUS blurdybloop (UIDNEXT MESSAGES)", 0, false,
		    "mbox=blurdybloop items=MESSAGES UIDNEXT ", NULL },
		{ "a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN "
		    "DELETED SIZE HIGHESTMODSEQ APPENDLIMIT MAILBOXID)", 0,
		    false, "mbox=INBOX items=MESSAGES RECENT UIDNEXT "
		    "UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT "
		    "MAILBOXID ", NULL },
		{ "a STATUS inbox (messages)", 0, false,
		    "mbox=INBOX items=MESSAGES ", NULL },
		{ "a STATUS INBOX ()", 0, false, NULL,
		    "a BAD Empty list of STATUS items" },
		{ "a STATUS INBOX (FOO)", 0, false, NULL,
		    "a BAD Unknown STATUS item FOO" },
		{ "a STATUS INBOX MESSAGES", 0, false, NULL,
		    "a BAD Expected a list of STATUS items, got an atom" },
		{ "a STATUS ../x (MESSAGES)", 0, false, NULL,
		    "a NO Invalid mailbox name" },
	};

	RUN(cases, TYPED);
}

/* append_takes_flags_dates_literals_and_several_messages */
static void
append_takes_flags_dates_literals_and_several_messages(void **state)
{
	static const struct pcase cases[] = {
		/* RFC 3501 6.3.11, shortened */
		{ "A003 APPEND saved-messages (\\Seen) {5}\r\nhello", 0, false,
		    "mbox=saved-messages [(\\Seen) hello]", NULL },
		{ "a APPEND INBOX {5+}\r\nhello", 0, false,
		    "mbox=INBOX [() hello]", NULL },
		{ "a APPEND INBOX (\\Seen $Forwarded) \"17-Jul-1996 02:44:25 "
		    "-0700\" {2}\r\nhi", 0, false,
		    "mbox=INBOX [(\\Seen $Forwarded) 837596665/-420 hi]",
		    NULL },
		{ "a APPEND INBOX \" 1-Jan-2000 00:00:00 +0100\" {1}\r\nx", 0,
		    false, "mbox=INBOX [() 946681200/60 x]", NULL },
		/* RFC 3502 MULTIAPPEND */
		{ "A003 APPEND saved-messages (\\Seen) {3}\r\none (\\Seen) "
		    "\" 1-Jul-2002 12:00:00 +0000\" {3}\r\ntwo {5}\r\nthree",
		    0, false, "mbox=saved-messages [(\\Seen) one] "
		    "[(\\Seen) 1025524800/0 two] [() three]", NULL },
		/* RFC 3516 literal8; RFC 6855 UTF8, the form Thunderbird
		 * sends */
		{ W("a APPEND INBOX ~{3}\r\na\0b"), false,
		    "mbox=INBOX [() ~a\\x00b]", NULL },
		{ "a APPEND INBOX UTF8 (~{5+}\r\nhello)", 0, true,
		    "mbox=INBOX [() ~utf8 hello]", NULL },
		{ "a APPEND INBOX () UTF8 ({2}\r\nhi)", 0, true,
		    "mbox=INBOX [() utf8 hi]", NULL },
		{ "a APPEND INBOX UTF8 (~{5+}\r\nhello)", 0, false, NULL,
		    "a BAD APPEND UTF8 needs ENABLE UTF8=ACCEPT" },
		{ "a APPEND INBOX UTF8 (x)", 0, true, NULL,
		    "a BAD Syntax: UTF8 (~{n}message)" },
		{ "a APPEND INBOX UTF8", 0, true, NULL,
		    "a BAD Syntax: UTF8 (~{n}message)" },
		{ "a APPEND INBOX", 0, false, NULL,
		    "a BAD Not enough arguments" },
		{ "a APPEND INBOX (\\Seen)", 0, false, NULL,
		    "a BAD Missing the message literal" },
		{ "a APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\"", 0,
		    false, NULL, "a BAD Missing the message literal" },
		{ "a APPEND INBOX {1}\r\nx (\\Seen)", 0, false, NULL,
		    "a BAD Missing the message literal" },
		{ "a APPEND INBOX \"x\" {1}\r\nx", 0, false, NULL,
		    "a BAD Invalid date-time \"x\"" },
		{ "a APPEND INBOX \"17-Jul-1996 02:44:25\" {1}\r\nx", 0, false,
		    NULL, "a BAD Invalid date-time" },
		{ "a APPEND INBOX (\\Recent) {1}\r\nx", 0, false, NULL,
		    "a BAD \\Recent cannot be set" },
		{ "a APPEND INBOX {1}\r\nx junk", 0, false, NULL,
		    "a BAD Expected the message as a literal, got junk" },
		{ "a APPEND INBOX hello", 0, false, NULL,
		    "a BAD Expected the message as a literal, got hello" },
		{ "a APPEND ../x {1}\r\nx", 0, false, NULL,
		    "a NO Invalid mailbox name: mailbox name has a . or .. "
		    "component" },
	};

	RUN(cases, TYPED);
}

/* select_takes_condstore_and_qresync_parameters */
static void
select_takes_condstore_and_qresync_parameters(void **state)
{
	static const struct pcase cases[] = {
		{ "a SELECT INBOX", 0, false, "mbox=INBOX", NULL },
		{ "a EXAMINE inbox/Sub", 0, false, "mbox=INBOX/Sub", NULL },
		{ "a SELECT INBOX (CONDSTORE)", 0, false,
		    "mbox=INBOX condstore", NULL },
		/* RFC 7162 3.2.5.2 */
		{ "A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 "
		    "41,43:211,214:541))", 0, false, "mbox=INBOX "
		    "qresync=67890007/20050715194045000 "
		    "known=41,43:211,214:541", NULL },
		{ "B02 SELECT INBOX (QRESYNC (67890007 90060115194045000 "
		    "41:211,214:541 (1:20 41:60)))", 0, false, "mbox=INBOX "
		    "qresync=67890007/90060115194045000 known=41:211,214:541 "
		    "match=1:20/41:60", NULL },
		{ "a SELECT INBOX (QRESYNC (1 2 (1,3 5,7)))", 0, false,
		    "mbox=INBOX qresync=1/2 match=1,3/5,7", NULL },
		{ "a SELECT INBOX (QRESYNC (1 2) CONDSTORE)", 0, false,
		    "mbox=INBOX condstore qresync=1/2", NULL },
		{ "a SELECT INBOX ()", 0, false, NULL,
		    "a BAD Empty list of SELECT parameters" },
		{ "a SELECT INBOX (FOO)", 0, false, NULL,
		    "a BAD Unknown SELECT parameter FOO" },
		{ "a SELECT INBOX CONDSTORE", 0, false, NULL,
		    "a BAD Expected a list of SELECT parameters, got "
		    "CONDSTORE" },
		{ "a SELECT INBOX (CONDSTORE CONDSTORE)", 0, false, NULL,
		    "a BAD CONDSTORE given twice" },
		{ "a SELECT INBOX (QRESYNC)", 0, false, NULL,
		    "a BAD QRESYNC needs its parameters" },
		{ "a SELECT INBOX (QRESYNC (1))", 0, false, NULL,
		    "a BAD Syntax: QRESYNC" },
		{ "a SELECT INBOX (QRESYNC (0 1))", 0, false, NULL,
		    "a BAD Number out of range: 0" },
		{ "a SELECT INBOX (QRESYNC (4294967296 1))", 0, false, NULL,
		    "a BAD Number out of range: 4294967296" },
		{ "a SELECT INBOX (QRESYNC (1 2 1:*))", 0, false, NULL,
		    "a BAD Invalid sequence set: * is not allowed here" },
		{ "a SELECT INBOX (QRESYNC (1 2 $))", 0, false, NULL,
		    "a BAD $ is not allowed here" },
		{ "a SELECT INBOX (QRESYNC (1 2 (1:2)))", 0, false, NULL,
		    "a BAD Syntax: QRESYNC sequence match data" },
		{ "a SELECT INBOX (QRESYNC (1 2 1 (1 2) x))", 0, false, NULL,
		    "a BAD Syntax: QRESYNC" },
		/* mailbox names that must never reach the store */
		{ "a SELECT \"../bob\"", 0, false, NULL,
		    "a NO Invalid mailbox name" },
		{ "a SELECT \"a/../../b\"", 0, false, NULL,
		    "a NO Invalid mailbox name" },
		{ "a SELECT \"/etc/passwd\"", 0, false, NULL,
		    "a NO Invalid mailbox name" },
		{ "a SELECT \"a//b\"", 0, false, NULL,
		    "a NO Invalid mailbox name" },
		{ "a SELECT \"\"", 0, false, NULL,
		    "a NO Invalid mailbox name: empty mailbox name" },
		{ "a SELECT \"a\x01\"", 0, false, NULL,
		    "a NO Invalid mailbox name" },
		{ "a SELECT \"a%b\"", 0, false, NULL,
		    "a NO Invalid mailbox name: it holds a wildcard" },
		{ "a SELECT a*", 0, false, NULL,
		    "a NO Invalid mailbox name: it holds a wildcard" },
		{ "a SELECT \"&AC4ALg-\"", 0, false, NULL,
		    "a NO Invalid mailbox name" },
		{ "a SELECT \"&Jjo\"", 0, false, NULL,
		    "a NO Invalid mailbox name: bad modified UTF-7" },
		{ "a SELECT \"caf\xc3\xa9\"", 0, false, NULL,
		    "a NO Invalid mailbox name: bad modified UTF-7" },
		{ "a SELECT \"caf\xc3\xa9\"", 0, true, "mbox=caf\xc3\xa9",
		    NULL },
		{ "a SELECT \"&ZeVnLIqe-\"", 0, false,
		    "mbox=\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", NULL },
		{ "a SELECT \"&ZeVnLIqe-\"", 0, true, "mbox=&ZeVnLIqe-", NULL },
		{ W("a SELECT {5}\r\na\0b/c"), false, NULL,
		    "a BAD NUL byte in string" },
		{ "a SELECT %2e%2e", 0, false, NULL,
		    "a NO Invalid mailbox name: it holds a wildcard" },
		{ "a SELECT \"~bob\"", 0, false, "mbox=~bob", NULL },
		{ "a SELECT (INBOX)", 0, false, NULL,
		    "a BAD Expected a string, got a list" },
	};

	RUN(cases, TYPED);
}

/* the_smaller_commands_read_their_arguments */
static void
the_smaller_commands_read_their_arguments(void **state)
{
	static const struct pcase cases[] = {
		{ "A003 CREATE owatagusiam/", 0, false, "mbox=owatagusiam",
		    NULL },
		{ "A004 CREATE owatagusiam/blurdybloop", 0, false,
		    "mbox=owatagusiam/blurdybloop", NULL },
		/* RFC 6154 5.2 */
		{ "t1 CREATE \"Important Messages\" (USE (\\Important))", 0,
		    false, "mbox=Important Messages \\Important", NULL },
		{ "a CREATE x (USE (\\Drafts \\Sent \\Trash \\Junk \\Archive "
		    "\\All \\Flagged))", 0, false,
		    "mbox=x \\All \\Archive \\Drafts \\Flagged \\Junk \\Sent "
		    "\\Trash", NULL },
		{ "a CREATE x (USE (\\Foo))", 0, false, NULL,
		    "a NO [USEATTR] Unsupported special-use attribute \\Foo" },
		{ "a CREATE x (FOO)", 0, false, NULL,
		    "a BAD Unknown CREATE parameter FOO" },
		{ "a CREATE x (USE)", 0, false, NULL,
		    "a BAD USE needs a list of attributes" },
		{ "a CREATE /", 0, false, NULL, "a NO Invalid mailbox name" },
		{ "a CREATE x//", 0, false, NULL, "a NO Invalid mailbox name" },
		{ "a ENABLE CONDSTORE qresync UTF8=ACCEPT", 0, false,
		    "CONDSTORE,QRESYNC,UTF8=ACCEPT", NULL },
		{ "a ENABLE \"x\"", 0, false, NULL,
		    "a BAD Expected an atom, got a quoted string" },
		/* RFC 2971 */
		{ "a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" "
		    "\"Pink Floyd Music Limited\")", 0, false,
		    "id name=sodr version=19.34 vendor=Pink Floyd Music "
		    "Limited", NULL },
		{ "a ID NIL", 0, false, "id none", NULL },
		{ "a ID ()", 0, false, "id none", NULL },
		{ "a ID (\"a\" NIL)", 0, false, "id a=NIL", NULL },
		{ "a ID (\"a\")", 0, false, NULL,
		    "a BAD ID parameters come in pairs" },
		{ "a ID (NIL \"a\")", 0, false, NULL,
		    "a BAD An ID field cannot be NIL" },
		{ "a ID (\"0123456789012345678901234567890\" \"x\")", 0, false,
		    NULL, "a BAD ID field name too long" },
		{ "a ID x", 0, false, NULL,
		    "a BAD Expected ID parameters in a list, got x" },
		{ "a LOGIN SMITH SESAME", 0, false, "user=SMITH pass=SESAME",
		    NULL },
		{ "a LOGIN {5}\r\nalice {6+}\r\ns3cr3t", 0, false,
		    "user=alice pass=s3cr3t", NULL },
		{ "a LOGIN \"alice\" \"p w\\\"d\"", 0, false,
		    "user=alice pass=p w\"d", NULL },
		{ "a LOGIN nil nil", 0, false, "user=nil pass=nil", NULL },
		{ "a LOGIN (a) b", 0, false, NULL,
		    "a BAD Expected a string, got a list" },
		{ "a AUTHENTICATE PLAIN", 0, false, "mech=PLAIN ir=-", NULL },
		{ "a AUTHENTICATE plain AGFsaWNlAHMzY3IzdA==", 0, false,
		    "mech=PLAIN ir=AGFsaWNlAHMzY3IzdA==", NULL },
		{ "a AUTHENTICATE PLAIN =", 0, false, "mech=PLAIN ir==", NULL },
		{ "a AUTHENTICATE PLAIN abc", 0, false, NULL,
		    "a BAD Invalid initial response: not base64" },
		{ "a AUTHENTICATE PLAIN ab=c", 0, false, NULL,
		    "a BAD Invalid initial response: not base64" },
		{ "a AUTHENTICATE PL.AIN", 0, false, NULL,
		    "a BAD Invalid SASL mechanism name" },
		{ "a AUTHENTICATE \"PLAIN\"", 0, false, NULL,
		    "a BAD Expected an atom, got a quoted string" },
		/* RFC 3501 6.4.7, RFC 6851 */
		{ "A003 COPY 2:4 MEETING", 0, false, "2:4 mbox=MEETING", NULL },
		{ "a UID MOVE 42:69 foo", 0, false, "42:69 mbox=foo", NULL },
		{ "a MOVE $ Trash", 0, false, "$ mbox=Trash", NULL },
		{ "a COPY 1 ..", 0, false, NULL, "a NO Invalid mailbox name" },
		{ "A683 RENAME blurdybloop sarasoop", 0, false,
		    "from=blurdybloop to=sarasoop", NULL },
		{ "a RENAME a \"\"", 0, false, NULL,
		    "a NO Invalid mailbox name" },
		{ "A142 DELETE blurdybloop", 0, false, "mbox=blurdybloop",
		    NULL },
		{ "A002 SUBSCRIBE #news.comp.mail.mime", 0, false,
		    "mbox=#news.comp.mail.mime", NULL },
		{ "a UNSUBSCRIBE \"a b\"", 0, false, "mbox=a b", NULL },
		{ "a GETQUOTAROOT INBOX", 0, false, "mbox=INBOX", NULL },
		/* RFC 4315 */
		{ "A202 UID EXPUNGE 3000:3002", 0, false, "3000:3002", NULL },
		{ "a UID EXPUNGE $", 0, false, "$", NULL },
		{ "a UID EXPUNGE x", 0, false, NULL,
		    "a BAD Invalid sequence set" },
		{ "a GETQUOTA \"\"", 0, false, "\"\"", NULL },
		{ "a COMPRESS DEFLATE", 0, false, "DEFLATE", NULL },
		{ "a IDLE", 0, false, "", NULL },
	};

	RUN(cases, TYPED);
}

/* error_texts_quoting_the_client_are_safe_to_send */
static void
error_texts_quoting_the_client_are_safe_to_send(void **state)
{
	struct buf b;
	char *got;
	size_t i;

	/* a literal with CR LF and a bad byte, quoted in the reason */
	got = outcome(W("a LIST \"\" {9}\r\n&x\r\n* OK\xff"), 0, false,
	    TYPED, NULL);
	assert_string_equal(got, "a BAD Invalid modified UTF-7 in &x  * OK?");
	free(got);

	/* a long unknown attribute is cut, never inside a character */
	buf_init(&b, 0);
	buf_append_str(&b, "a FETCH 1 X");
	for (i = 0; i < 300; i++)
		buf_append_str(&b, "\xc3\xa9");
	got = outcome(buf_ptr(&b), buf_avail(&b), 0, false, TYPED, NULL);
	assert_true(strlen(got) <= 2 + 4 + IMAP_ERROR_MAX);
	assert_int_equal(strncmp(got, W("a BAD Unknown FETCH attribute "
	    "X\xc3\xa9")), 0);
	assert_string_equal(got + strlen(got) - 5, "\xc3\xa9...");
	free(got);
	buf_deinit(&b);
}

struct date_case {
	const char	*in;
	bool		 datetime;
	bool		 ok;
	int64_t		 t;		/* datetime: UTC; date: days */
	int		 tz;
};

/* dates_and_date_times_are_checked_to_the_day_and_zone */
static void
dates_and_date_times_are_checked_to_the_day_and_zone(void **state)
{
	static const struct date_case cases[] = {
		{ "1-Feb-1994", false, true, 8797, 0 },
		{ "01-feb-1994", false, true, 8797, 0 },
		{ "1-Jan-1970", false, true, 0, 0 },
		{ "31-Dec-1969", false, true, -1, 0 },
		{ "29-Feb-2000", false, true, 11016, 0 },
		{ "29-Feb-1900", false, false, 0, 0 },
		{ "29-Feb-2004", false, true, 12477, 0 },
		{ "31-Apr-2020", false, false, 0, 0 },
		{ "0-Jan-2020", false, false, 0, 0 },
		{ "32-Jan-2020", false, false, 0, 0 },
		{ " 1-Jan-2020", false, false, 0, 0 },
		{ "1-Jan-2020 ", false, false, 0, 0 },
		{ "1-January-2020", false, false, 0, 0 },
		{ "1-Jan-99999", false, false, 0, 0 },
		{ "1Jan-2020", false, false, 0, 0 },
		{ "", false, false, 0, 0 },
		{ "17-Jul-1996 02:44:25 -0700", true, true, 837596665, -420 },
		{ " 1-Jan-2000 00:00:00 +0000", true, true, 946684800, 0 },
		{ "1-Jan-2000 00:00:00 +0000", true, true, 946684800, 0 },
		{ "01-Jan-2000 01:00:00 +0100", true, true, 946684800, 60 },
		{ "31-Dec-1999 23:59:60 +0000", true, true, 946684799, 0 },
		{ "01-Jan-2000 24:00:00 +0000", true, false, 0, 0 },
		{ "01-Jan-2000 00:60:00 +0000", true, false, 0, 0 },
		{ "01-Jan-2000 00:00:00 +0060", true, false, 0, 0 },
		{ "01-Jan-2000 00:00:00 0000", true, false, 0, 0 },
		{ "01-Jan-2000 00:00:00 +000", true, false, 0, 0 },
		{ "01-Jan-2000 00:00:00 +00000", true, false, 0, 0 },
		{ "01-Jan-2000 0:00:00 +0000", true, false, 0, 0 },
		{ "01-Jan-2000T00:00:00 +0000", true, false, 0, 0 },
		{ "  1-Jan-2000 00:00:00 +0000", true, false, 0, 0 },
	};
	struct imap_date d;
	struct imap_datetime dt;
	size_t i;
	int failures = 0, r;
	int64_t got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct date_case *c = &cases[i];

		memset(&dt, 0, sizeof(dt));
		if (c->datetime) {
			r = imap_parse_datetime(c->in, strlen(c->in), &dt);
			got = dt.t;
		} else {
			r = imap_parse_date(c->in, strlen(c->in), &d);
			got = r == 0 ? imap_date_days(&d) : 0;
		}
		if ((r == 0) != c->ok || (c->ok && (got != c->t ||
		    dt.tz_minutes != c->tz))) {
			print_error("\"%s\": got %d %" PRId64 "/%d, want %s "
			    "%" PRId64 "/%d\n", c->in, r, got, dt.tz_minutes,
			    c->ok ? "ok" : "error", c->t, c->tz);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* written_date_times_parse_back_to_the_same_instant */
static void
written_date_times_parse_back_to_the_same_instant(void **state)
{
	static const int zones[] = { 0, -420, 60, 345, -720, 840, -30 };
	struct imap_datetime dt;
	struct buf b;
	int64_t t;
	size_t z;

	buf_init(&b, 0);
	for (t = -86400LL * 365; t < 86400LL * 365 * 140; t += 86400 * 7 +
	    3607) {
		for (z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
			buf_reset(&b);
			assert_int_equal(imap_write_datetime(&b, t, zones[z]),
			    0);
			/* strip the quotes */
			assert_int_equal(imap_parse_datetime(buf_ptr(&b) + 1,
			    buf_avail(&b) - 2, &dt), 0);
			if (dt.t != t || dt.tz_minutes != zones[z])
				fail_msg("%s: got %" PRId64 "/%d, want %"
				    PRId64 "/%d", buf_cstr(&b), dt.t,
				    dt.tz_minutes, t, zones[z]);
		}
	}
	buf_deinit(&b);
}

/* astrings_written_by_imap_write_parse_back_unchanged */
static void
astrings_written_by_imap_write_parse_back_unchanged(void **state)
{
	struct imap_cmd cmd;
	struct imap_piece p[3];
	struct buf w, line;
	char s[1200];
	const char *got, *lit;
	size_t len, i, n;
	unsigned int flags;
	int round;

	static const char *const fixed[] = { "BODY[x", "body.peek[]<0.1>",
	    "BINARY.SIZE[1]", "NIL", "", "~{3}", "{3}", "a b", "\\Seen",
	    "[Gmail]/Sent", "a]b", "\"", "*" };

	srandom(4242);
	buf_init(&w, 0);
	buf_init(&line, 0);
	for (round = 0; round < 3000; round++) {
		len = (size_t)(random() % 40);
		if (round % 50 == 0)
			len = 1000 + (size_t)(random() % 100);
		if (len >= sizeof(s))
			len = sizeof(s) - 1;
		if ((size_t)round < sizeof(fixed) / sizeof(fixed[0])) {
			len = strlen(fixed[round]);
			memcpy(s, fixed[round], len + 1);
		}
		for (i = 0; (size_t)round >= sizeof(fixed) / sizeof(fixed[0]) &&
		    i < len; i++) {
			/* mostly printable, some specials, some 8-bit */
			switch (random() % 6) {
			case 0:
				s[i] = "\"\\(){}%*] \r\n\t~[<"[random() % 16];
				break;
			case 1:
				s[i] = (char)(0x80 + random() % 0x80);
				break;
			default:
				s[i] = (char)(0x21 + random() % 0x5e);
				break;
			}
		}
		s[len] = '\0';
		flags = round % 2 == 0 ? IMAP_WRITE_UTF8 : 0;
		buf_reset(&w);
		assert_int_equal(imap_write_astring(&w, s, len, flags), 0);
		/* "a LOGIN <w> x", split at a literal if there is one */
		buf_reset(&line);
		buf_append_str(&line, "a LOGIN ");
		lit = memchr(buf_ptr(&w), '\n', buf_avail(&w));
		if (buf_ptr(&w)[0] == '{' && lit != NULL) {
			buf_append(&line, buf_ptr(&w), (size_t)(lit - 1 -
			    buf_ptr(&w)));
			p[0].data = buf_ptr(&line);
			p[0].len = buf_avail(&line);
			p[0].literal = false;
			p[1].data = lit + 1;
			p[1].len = len;
			p[1].literal = true;
			p[2].data = " x";
			p[2].len = 2;
			p[2].literal = false;
			n = 3;
		} else {
			buf_append(&line, buf_ptr(&w), buf_avail(&w));
			buf_append_str(&line, " x");
			p[0].data = buf_ptr(&line);
			p[0].len = buf_avail(&line);
			p[0].literal = false;
			n = 1;
		}
		if (imap_parse(&cmd, p, n, NULL) != 0 ||
		    imap_arg_astring(&cmd, &cmd.args[0], &got) != 0)
			fail_msg("round %d: \"%s\" does not parse: %s", round,
			    buf_cstr(&w), cmd.error);
		if (strlen(got) != len || memcmp(got, s, len) != 0)
			fail_msg("round %d: got \"%s\", want \"%s\"", round,
			    got, s);
		imap_cmd_deinit(&cmd);
	}
	buf_deinit(&w);
	buf_deinit(&line);
}

/* every_prefix_and_every_mutation_of_the_cases_is_handled */
static void
every_prefix_and_every_mutation_of_the_cases_is_handled(void **state)
{
	static const char *const wires[] = {
		"a1 LOGIN {5}\r\nalice {6+}\r\ns3cr3t",
		"a FETCH 1:*,7 (FLAGS BODY.PEEK[1.HEADER.FIELDS (A \"b\")]"
		    "<0.9> BINARY[2]) (CHANGEDSINCE 5)",
		"a UID SEARCH RETURN (MIN) CHARSET UTF-8 OR (SEEN NOT DRAFT) "
		    "HEADER X {3}\r\nabc SINCE 1-Feb-1994 MODSEQ "
		    "\"/flags/\\\\Seen\" all 5 UID $",
		"a LIST (SUBSCRIBED) \"\" (\"&ZeVnLIqe-\" %) RETURN (STATUS "
		    "(MESSAGES))",
		"a APPEND INBOX (\\Seen) \" 1-Jul-2002 12:00:00 +0000\" {2}"
		    "\r\nhi UTF8 (~{2}\r\nho)",
		"a SELECT INBOX (QRESYNC (1 2 3:4 (1 3)) CONDSTORE)",
		"a STORE 1 (UNCHANGEDSINCE 3) +FLAGS.SILENT (\\Seen $Junk)",
		"a SORT (REVERSE DATE) UTF-8 ALL",
		"a CREATE x/ (USE (\\Drafts))",
		"a ID (\"a\" NIL \"b\" \"c\")",
	};
	static const char subst[] = { '\0', ' ', '(', ')', '"', '{', '}', '[',
	    ']', '\\', '*', '<', '>', '~', '$', '\xff', '\r', '0', '+', 'x' };
	size_t w, i, k, len;
	char *buf, *got;

	for (w = 0; w < sizeof(wires) / sizeof(wires[0]); w++) {
		len = strlen(wires[w]);
		buf = malloc(len);
		for (i = 0; i <= len; i++) {
			/* prefixes */
			memcpy(buf, wires[w], i);
			got = outcome(buf, i, 0, false, TYPED, NULL);
			free(got);
			if (i == len)
				break;
			/* one byte changed */
			memcpy(buf, wires[w], len);
			for (k = 0; k < sizeof(subst); k++) {
				buf[i] = subst[k];
				got = outcome(buf, len, 0, k % 2 == 0, TYPED,
				    NULL);
				free(got);
			}
		}
		free(buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    the_tokenizer_reads_tags_names_and_every_kind_of_argument),
		cmocka_unit_test(malformed_lines_get_a_precise_reason),
		cmocka_unit_test(
		    pieces_are_checked_against_their_literal_announcements),
		cmocka_unit_test(
		    a_literal_kept_by_the_session_is_passed_by_piece_index),
		cmocka_unit_test(
		    the_command_of_a_first_line_is_known_before_its_literals),
		cmocka_unit_test(
		    fetch_attributes_of_both_rfcs_get_their_response_names),
		cmocka_unit_test(
		    store_takes_every_flag_form_and_unchangedsince),
		cmocka_unit_test(search_programs_of_both_rfcs_become_trees),
		cmocka_unit_test(
		    sort_and_thread_take_criteria_a_charset_and_a_program),
		cmocka_unit_test(deep_and_big_search_programs_are_bounded),
		cmocka_unit_test(argument_count_and_list_depth_have_ceilings),
		cmocka_unit_test(
		    list_takes_selection_and_return_options_and_pattern_lists),
		cmocka_unit_test(status_items_of_every_extension_are_known),
		cmocka_unit_test(
		    append_takes_flags_dates_literals_and_several_messages),
		cmocka_unit_test(select_takes_condstore_and_qresync_parameters),
		cmocka_unit_test(the_smaller_commands_read_their_arguments),
		cmocka_unit_test(
		    error_texts_quoting_the_client_are_safe_to_send),
		cmocka_unit_test(
		    dates_and_date_times_are_checked_to_the_day_and_zone),
		cmocka_unit_test(
		    written_date_times_parse_back_to_the_same_instant),
		cmocka_unit_test(
		    astrings_written_by_imap_write_parse_back_unchanged),
		cmocka_unit_test(
		    every_prefix_and_every_mutation_of_the_cases_is_handled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
