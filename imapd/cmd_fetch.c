/*
 * cmd_fetch.c - FETCH and UID FETCH: every item of RFC 3501 and RFC 9051,
 * BINARY (RFC 3516), MODSEQ, CHANGEDSINCE and VANISHED (RFC 7162),
 * EMAILID and THREADID (RFC 8474)
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mime.h"
#include "store.h"
#include "xmalloc.h"

#include "imap_background.h"
#include "imap_commands.h"
#include "imap_msgcmd.h"
#include "imap_parse.h"
#include "imap_search_eval.h"
#include "imap_section.h"
#include "imap_session.h"
#include "imap_summary.h"
#include "imap_view.h"
#include "imap_write.h"

/*
 * Design.  A FETCH is written in calls of about IMAP_OUT_CHUNK bytes
 * (imap_session.h): each call opens a store snapshot, writes messages
 * from where the last one stopped, and returns CMD_MORE.  A message body
 * bigger than what is left of a call is sent as a literal whose bytes
 * are spread over calls: the message file stays mapped, the position in
 * it (or in a BINARY decoder) is kept in struct fetch_state, and the
 * items after the literal are written when it is done.  Memory stays
 * near IMAP_OUT_CHUNK whatever the message size.
 *
 * \Seen: a non-PEEK body item sets it on every message of the set that
 * lacks it, in one store transaction before anything is written, so
 * that the FLAGS item (and the FLAGS the RFC says to add) shows it.
 */

/* a literal smaller than this goes out whole, even past IMAP_OUT_CHUNK */
#define FETCH_SMALL_LITERAL	(64 * 1024)
/* decoded bytes read at a time */
#define FETCH_DECODE_CHUNK	(64 * 1024)

struct fetch_state {
	struct imap_fetch f;
	struct imap_seqset uids;	/* what to fetch */
	struct imap_seqset seen;	/* got \Seen from this command */
	struct imap_seqset_iter it;
	bool		 unknown_cte;	/* NO [UNKNOWN-CTE] */
	bool		 need_cache;	/* an item reads the cache */

	/* the message whose response is open */
	bool		 in_msg;
	uint32_t	 seq;
	struct store_msg msg;		/* keywords and base owned */
	size_t		 next_item;
	bool		 first;		/* no item written yet */
	bool		 flags_told;
	struct imap_msgmap map;
	bool		 mapped;
	struct mime_summary sum;	/* when the store has no cache */
	bool		 have_sum;
	struct store_cache own;

	/* the literal being written */
	bool		 lit;
	bool		 lit_nul;	/* {n}: NUL goes out as 0x80 */
	const char	*lit_p;
	uint64_t	 lit_left;
	struct imap_part_ref ref;
	bool		 have_ref;
	struct imap_decoder dec;
	bool		 lit_dec;
	char		*chunk;		/* decoder output */
};

/* the sections of RFC822, RFC822.HEADER, RFC822.TEXT */
static const struct imap_section sec_all = { .kind = IMAP_SECTION_ALL };
static const struct imap_section sec_header = {
	.kind = IMAP_SECTION_HEADER };
static const struct imap_section sec_text = { .kind = IMAP_SECTION_TEXT };

/* msg_end - forget the message whose response was written */
static void
msg_end(struct fetch_state *st)
{
	if (st->mapped)
		imap_msgmap_close(&st->map);
	st->mapped = false;
	if (st->have_sum)
		mime_summary_deinit(&st->sum);
	st->have_sum = false;
	if (st->have_ref)
		imap_part_ref_deinit(&st->ref);
	st->have_ref = false;
	free((char *)st->msg.keywords);
	free((char *)st->msg.base);
	memset(&st->msg, 0, sizeof(st->msg));
	st->in_msg = false;
	st->lit = false;
	st->lit_dec = false;
}

/* fetch_state_free - cmd_state_free */
static void
fetch_state_free(void *p)
{
	struct fetch_state *st = p;

	msg_end(st);
	imap_seqset_deinit(&st->uids);
	imap_seqset_deinit(&st->seen);
	free(st->chunk);
	free(st);
}

/* append_nonul - bytes of a {n} literal: NUL cannot be sent, 0x80 is
 * (as imap_write_literal() does) */
static void
append_nonul(struct buf *out, const char *p, size_t n)
{
	const char *z;

	while (n > 0 && (z = memchr(p, '\0', n)) != NULL) {
		(void)buf_append(out, p, (size_t)(z - p));
		(void)buf_append_byte(out, 0x80);
		n -= (size_t)(z - p) + 1;
		p = z + 1;
	}
	(void)buf_append(out, p, n);
}

/* lit_more - write more of the open literal; true when it is done */
static bool
lit_more(struct fetch_state *st, struct buf *out)
{
	size_t room, n, k;

	while (st->lit_left > 0) {
		if (st->lit_left <= FETCH_SMALL_LITERAL)
			room = (size_t)st->lit_left;
		else if (buf_avail(out) >= IMAP_OUT_CHUNK)
			return false;
		else
			room = IMAP_OUT_CHUNK - buf_avail(out);
		n = st->lit_left < room ? (size_t)st->lit_left : room;
		if (!st->lit_dec) {
			if (st->lit_nul)
				append_nonul(out, st->lit_p, n);
			else
				(void)buf_append(out, st->lit_p, n);
			st->lit_p += n;
			st->lit_left -= n;
			continue;
		}
		if (n > FETCH_DECODE_CHUNK)
			n = FETCH_DECODE_CHUNK;
		k = imap_decoder_read(&st->dec, st->chunk, n);
		if (k == 0) {
			/* the decoder gave less than it counted: pad, the
			 * literal's length is already sent */
			memset(st->chunk, 0, n);
			k = n;
		}
		(void)buf_append(out, st->chunk, k);
		st->lit_left -= k;
	}
	st->lit = false;
	st->lit_dec = false;
	if (st->have_ref)
		imap_part_ref_deinit(&st->ref);
	st->have_ref = false;
	return true;
}

/* sep - the space between two items */
static void
sep(struct fetch_state *st, struct buf *out)
{
	if (!st->first)
		(void)buf_append_byte(out, ' ');
	st->first = false;
}

/* lit_begin - "name {n}\r\n" (or "~{n}") and the first bytes; true when
 * the literal was written whole */
static bool
lit_begin(struct fetch_state *st, struct buf *out, const char *name,
    const char *p, uint64_t len, bool binary)
{
	sep(st, out);
	(void)buf_append_str(out, name);
	if (len == 0 && !binary) {
		(void)buf_append_str(out, " \"\"");
		return true;
	}
	(void)buf_printf(out, " %s{%llu}\r\n", binary ? "~" : "",
	    (unsigned long long)len);
	st->lit = true;
	st->lit_nul = !binary;
	st->lit_p = p;
	st->lit_left = len;
	return lit_more(st, out);
}

/* need_map - whether an item needs the message file (cache present) */
static bool
need_map(const struct imap_fetch_item *it, const struct store_cache *c,
    const struct store_msg *m)
{
	const struct imap_section *sec = it->section;
	size_t i;

	switch (it->att) {
	case IMAP_FETCH_RFC822:
	case IMAP_FETCH_RFC822_HEADER:
	case IMAP_FETCH_RFC822_TEXT:
	case IMAP_FETCH_BINARY:
	case IMAP_FETCH_BINARY_SIZE:
		return true;
	case IMAP_FETCH_BODY_SECTION:
		/* HEADER.FIELDS of cached fields come from the cache; the
		 * header must have ended with its empty line before the
		 * end of the message for the cache to tell */
		if (c == NULL || c->header_fields == NULL ||
		    sec->kind != IMAP_SECTION_HEADER_FIELDS ||
		    sec->nparts != 0 || c->header_size >= m->size)
			return true;
		for (i = 0; i < sec->nfields; i++)
			if (!imap_summary_field_cached(sec->fields[i]))
				return true;
		return false;
	case IMAP_FETCH_ENVELOPE:
	case IMAP_FETCH_BODY:
	case IMAP_FETCH_BODYSTRUCTURE:
	case IMAP_FETCH_EMAILID:
	case IMAP_FETCH_THREADID:
		return c == NULL;
	default:
		return false;
	}
}

/* summarize - a cache made from the mapped message */
static const struct store_cache *
summarize(struct fetch_state *st)
{
	if (!st->have_sum) {
		mime_summarize(st->map.data, st->map.len, &st->sum);
		st->have_sum = true;
	}
	memset(&st->own, 0, sizeof(st->own));
	st->own.header_size = st->sum.header_size;
	st->own.sent_date = st->sum.sent_date;
	st->own.envelope = st->sum.envelope;
	st->own.bodystructure = st->sum.bodystructure;
	st->own.body = st->sum.body;
	st->own.header_fields = st->sum.header_fields;
	st->own.message_id = st->sum.message_id;
	st->own.in_reply_to = st->sum.in_reply_to;
	st->own.references = st->sum.references;
	st->own.base_subject = st->sum.base_subject;
	return &st->own;
}

/* write_cached - "NAME value" of a cached structure, NIL when none */
static void
write_cached(struct fetch_state *st, struct buf *out, const char *name,
    const char *value)
{
	sep(st, out);
	(void)buf_printf(out, "%s %s", name, value != NULL ? value : "NIL");
}

/* write_flags - FLAGS of the current message */
static void
write_flags(struct imap_session *s, struct fetch_state *st, struct buf *out)
{
	sep(st, out);
	(void)imap_view_write_msg_flags(out, &st->msg,
	    !imap_session_rev2(s) && imap_view_is_recent(s->view,
	    st->msg.uid));
	st->flags_told = true;
}

/* write_section - BODY[...] and the RFC822 items; true when done */
static bool
write_section(struct fetch_state *st, const struct imap_fetch_item *it,
    const struct imap_section *sec, const struct store_cache *c,
    struct buf *out)
{
	size_t off, len;

	if (st->have_ref)
		imap_part_ref_deinit(&st->ref);
	if (!st->mapped) {
		/* HEADER.FIELDS of cached fields (need_map() said so) */
		memset(&st->ref, 0, sizeof(st->ref));
		buf_init(&st->ref.buf, 0);
		if (c != NULL && c->header_fields != NULL)
			imap_section_header_filter(c->header_fields,
			    strlen(c->header_fields), sec, true,
			    &st->ref.buf);
		off = 0;
		len = buf_avail(&st->ref.buf);
		if (sec->partial)
			imap_section_partial(len, sec->origin, sec->count,
			    &off, &len);
		st->ref.data = buf_ptr(&st->ref.buf) + off;
		st->ref.len = len;
	} else
		imap_section_fetch(st->map.data, st->map.len, sec, &st->ref);
	st->have_ref = true;
	return lit_begin(st, out, it->resp_name, st->ref.data, st->ref.len,
	    false);
}

/* write_binary - BINARY[...]<partial>: decoded, as literal8 */
static bool
write_binary(struct fetch_state *st, const struct imap_fetch_item *it,
    struct buf *out)
{
	const struct imap_section *sec = it->section;
	const char *error;
	uint64_t total;
	size_t off = 0, len;

	/* the size first (a pass over the part), then the bytes; checked
	 * to succeed before the response began */
	if (imap_section_binary_size(st->map.data, st->map.len, sec, &total,
	    &error) < 0 || imap_section_binary_open(st->map.data,
	    st->map.len, sec, &st->dec, &error) < 0)
		total = 0;
	len = (size_t)total;
	if (sec->partial)
		imap_section_partial((size_t)total, sec->origin, sec->count,
		    &off, &len);
	if (off > 0)
		(void)imap_decoder_skip(&st->dec, off);
	if (st->chunk == NULL)
		st->chunk = xmalloc(FETCH_DECODE_CHUNK);
	sep(st, out);
	(void)buf_printf(out, "%s ~{%zu}\r\n", it->resp_name, len);
	st->lit = true;
	st->lit_dec = true;
	st->lit_nul = false;
	st->lit_left = len;
	return lit_more(st, out);
}

/* write_items - the items of the current message from next_item; 1 when
 * paused in a literal, 0 when the response is complete */
static int
write_items(struct imap_session *s, struct fetch_state *st,
    const struct store_cache *c, struct buf *out)
{
	const struct imap_fetch_item *it;
	const char *error;
	char id[IMAP_OBJECTID_SIZE];
	uint64_t size;
	bool done;

	while (st->next_item < st->f.count) {
		it = &st->f.items[st->next_item++];
		done = true;
		switch (it->att) {
		case IMAP_FETCH_ENVELOPE:
			write_cached(st, out, "ENVELOPE",
			    c != NULL ? c->envelope : NULL);
			break;
		case IMAP_FETCH_BODY:
			write_cached(st, out, "BODY",
			    c != NULL ? c->body : NULL);
			break;
		case IMAP_FETCH_BODYSTRUCTURE:
			write_cached(st, out, "BODYSTRUCTURE",
			    c != NULL ? c->bodystructure : NULL);
			break;
		case IMAP_FETCH_FLAGS:
			write_flags(s, st, out);
			break;
		case IMAP_FETCH_INTERNALDATE:
			sep(st, out);
			(void)buf_append_str(out, "INTERNALDATE ");
			(void)imap_write_datetime(out, st->msg.internaldate, 0);
			break;
		case IMAP_FETCH_RFC822_SIZE:
			sep(st, out);
			(void)buf_printf(out, "RFC822.SIZE %llu",
			    (unsigned long long)st->msg.size);
			break;
		case IMAP_FETCH_UID:
			sep(st, out);
			(void)buf_printf(out, "UID %u", st->msg.uid);
			break;
		case IMAP_FETCH_MODSEQ:
			sep(st, out);
			(void)buf_printf(out, "MODSEQ (%llu)",
			    (unsigned long long)st->msg.modseq);
			break;
		case IMAP_FETCH_EMAILID:
			imap_objectid_email(&st->msg, c, id);
			sep(st, out);
			(void)buf_printf(out, "EMAILID (%s)", id);
			break;
		case IMAP_FETCH_THREADID:
			sep(st, out);
			if (imap_objectid_thread(c, id))
				(void)buf_printf(out, "THREADID (%s)", id);
			else
				(void)buf_append_str(out, "THREADID NIL");
			break;
		case IMAP_FETCH_SAVEDATE:
			/* no save dates are kept (RFC 8514 allows NIL) */
			sep(st, out);
			(void)buf_append_str(out, "SAVEDATE NIL");
			break;
		case IMAP_FETCH_RFC822:
			done = write_section(st, it, &sec_all, c, out);
			break;
		case IMAP_FETCH_RFC822_HEADER:
			done = write_section(st, it, &sec_header, c, out);
			break;
		case IMAP_FETCH_RFC822_TEXT:
			done = write_section(st, it, &sec_text, c, out);
			break;
		case IMAP_FETCH_BODY_SECTION:
			done = write_section(st, it, it->section, c, out);
			break;
		case IMAP_FETCH_BINARY:
			done = write_binary(st, it, out);
			break;
		case IMAP_FETCH_BINARY_SIZE:
			if (imap_section_binary_size(st->map.data,
			    st->map.len, it->section, &size, &error) < 0)
				size = 0;
			sep(st, out);
			(void)buf_printf(out, "%s %llu", it->resp_name,
			    (unsigned long long)size);
			break;
		}
		if (!done)
			return 1;
	}
	return 0;
}

/* msg_close - the end of a response: FLAGS the RFC adds, ")" */
static void
msg_close(struct imap_session *s, struct fetch_state *st, struct buf *out)
{
	if (!st->flags_told && imap_seqset_contains(&st->seen, st->msg.uid)) {
		/* RFC 3501 6.4.5: the \Seen this FETCH set is reported */
		write_flags(s, st, out);
		if (imap_session_condstore(s) &&
		    (st->f.want & IMAP_FETCH_BIT(IMAP_FETCH_MODSEQ)) == 0)
			(void)buf_printf(out, " MODSEQ (%llu)",
			    (unsigned long long)st->msg.modseq);
	}
	(void)buf_append_str(out, ")\r\n");
	if (st->flags_told)
		imap_view_known(s->view, st->msg.uid, st->msg.modseq);
	msg_end(st);
}

/* binary_ok - every BINARY item of the request can be decoded */
static bool
binary_ok(const struct fetch_state *st)
{
	struct imap_decoder d;
	const char *error;
	size_t i;

	for (i = 0; i < st->f.count; i++) {
		if (st->f.items[i].att != IMAP_FETCH_BINARY &&
		    st->f.items[i].att != IMAP_FETCH_BINARY_SIZE)
			continue;
		if (imap_section_binary_open(st->map.data, st->map.len,
		    st->f.items[i].section, &d, &error) < 0)
			return false;
	}
	return true;
}

/* msg_begin - open the response of message m; 1 written (or paused),
 * 0 skipped, -1 error */
static int
msg_begin(struct imap_session *s, struct fetch_state *st,
    struct store_snapshot *snap, const struct store_msg *m, uint32_t seq,
    struct buf *out, const char **error_r)
{
	struct store_cache cache;
	const struct store_cache *c = NULL;
	bool map = false;
	size_t i;
	int r = 0;

	if (st->need_cache && (r = store_snapshot_cache(snap, m->uid, &cache,
	    error_r)) < 0)
		return -1;
	if (st->need_cache && r == 1)
		c = &cache;
	for (i = 0; i < st->f.count && !map; i++)
		map = need_map(&st->f.items[i], c, m);
	st->msg = *m;
	st->msg.keywords = xstrdup(m->keywords != NULL ? m->keywords : "");
	st->msg.base = xstrdup(m->base != NULL ? m->base : "");
	st->seq = seq;
	if (map) {
		if (imap_msgmap_open(snap, m, &st->map, error_r) < 0) {
			/* gone since the snapshot began: as if expunged */
			msg_end(st);
			return 0;
		}
		st->mapped = true;
		if (!binary_ok(st)) {
			st->unknown_cte = true;
			msg_end(st);
			return 0;
		}
		if (c == NULL)
			c = summarize(st);
	}
	st->in_msg = true;
	st->next_item = 0;
	st->first = true;
	st->flags_told = false;
	(void)buf_printf(out, "* %u FETCH (", seq);
	if (write_items(s, st, c, out) == 1)
		return 1;
	msg_close(s, st, out);
	return 1;
}

/* msg_resume - go on with a response paused in a literal; 1 when it
 * paused again */
static int
msg_resume(struct imap_session *s, struct fetch_state *st,
    struct store_snapshot *snap, struct buf *out, const char **error_r)
{
	struct store_cache cache;
	const struct store_cache *c = NULL;
	int r;

	if (st->lit && !lit_more(st, out))
		return 1;
	if (st->have_sum)
		c = summarize(st);
	else if (!st->need_cache)
		c = NULL;
	else if ((r = store_snapshot_cache(snap, st->msg.uid, &cache,
	    error_r)) < 0)
		return -1;
	else if (r == 1)
		c = &cache;
	else if (st->mapped)
		c = summarize(st);
	if (write_items(s, st, c, out) == 1)
		return 1;
	msg_close(s, st, out);
	return 0;
}

/* set_seen - \Seen on every message of the set that lacks it */
static int
set_seen(struct imap_session *s, struct fetch_state *st,
    const char **error_r)
{
	struct store_snapshot *snap;
	struct imap_seqset_iter it;
	struct store_msg m;
	uint32_t *arr = NULL, u;
	size_t n = 0, alloc = 0;
	int r;

	if (store_snapshot_begin(s->view->mb, &snap, error_r) < 0)
		return -1;
	imap_seqset_iter_init(&it, &st->uids);
	while (imap_seqset_iter_next(&it, &u)) {
		if ((r = store_snapshot_get(snap, u, &m, error_r)) < 0) {
			store_snapshot_end(&snap);
			free(arr);
			return -1;
		}
		if (r == 0 || (m.flags & STORE_FLAG_SEEN) != 0 ||
		    (st->f.changedsince_given &&
		    m.modseq <= st->f.changedsince))
			continue;
		if (n == alloc) {
			alloc = alloc == 0 ? 64 : alloc * 2;
			arr = xreallocarray(arr, alloc, sizeof(*arr));
		}
		arr[n++] = u;
		imap_seqset_add(&st->seen, u);
	}
	store_snapshot_end(&snap);
	r = 0;
	if (n > 0)
		r = store_set_flags(s->view->mb, arr, n, STORE_FLAGS_ADD,
		    STORE_FLAG_SEEN, NULL, 0, NULL, NULL, error_r);
	free(arr);
	return r;
}

/* vanished - QRESYNC: "* VANISHED (EARLIER) uids" of the set expunged
 * since CHANGEDSINCE (RFC 7162 3.2.6) */
static int
vanished(struct imap_session *s, struct fetch_state *st,
    const struct imap_seqset *asked, struct buf *out, const char **error_r)
{
	struct store_snapshot *snap;
	struct imap_seqset gone;
	uint64_t modseq;
	uint32_t uid;
	int r;

	if (store_snapshot_begin(s->view->mb, &snap, error_r) < 0)
		return -1;
	imap_seqset_init(&gone);
	while ((r = store_snapshot_expunged(snap, st->f.changedsince, &uid,
	    &modseq, error_r)) == 1)
		if (imap_seqset_contains(asked, uid))
			imap_seqset_add(&gone, uid);
	store_snapshot_end(&snap);
	if (r == 0 && !imap_seqset_is_empty(&gone)) {
		(void)buf_append_str(out, "* VANISHED (EARLIER) ");
		(void)imap_seqset_format(&gone, out);
		(void)buf_append_str(out, "\r\n");
	}
	imap_seqset_deinit(&gone);
	return r < 0 ? -1 : 0;
}

/* start - parse, resolve the set, set \Seen; NULL when replied */
static struct fetch_state *
start(struct imap_session *s, struct imap_cmd *cmd, struct buf *out,
    enum imap_cmd_result *res_r)
{
	struct fetch_state *st;
	struct imap_seqset asked;
	const char *error;

	*res_r = CMD_DONE;
	st = xcalloc(1, sizeof(*st));
	imap_seqset_init(&st->uids);
	imap_seqset_init(&st->seen);
	s->cmd_state = st;
	s->cmd_state_free = fetch_state_free;
	if (imap_parse_fetch(cmd, &st->f) < 0) {
		imap_reply_parse_error(s, cmd);
		return NULL;
	}
	/* a background download announced in ID waits while the server is
	 * loaded (imap_background.h); nothing has changed yet */
	if (imap_background_fetch_bodies(&st->f) &&
	    imap_session_background_refused(s)) {
		imap_reply_no(s, "UNAVAILABLE", "Server busy, try later");
		return NULL;
	}
	if (st->f.vanished && !imap_session_qresync(s)) {
		imap_reply_bad(s, NULL, "VANISHED needs ENABLE QRESYNC");
		return NULL;
	}
	if ((st->f.want & IMAP_FETCH_BIT(IMAP_FETCH_MODSEQ)) != 0 ||
	    st->f.changedsince_given)
		imap_session_enable_condstore(s, out);
	imap_seqset_init(&asked);
	if (st->f.vanished && st->f.set != NULL) {
		/* VANISHED is about UIDs that are no longer in the view */
		imap_seqset_copy(&asked, st->f.set);
		(void)imap_seqset_resolve(&asked, s->view->uidnext > 0 ?
		    s->view->uidnext - 1 : 0, true);
	}
	if (imap_msgcmd_uids(s, st->f.set, st->f.saved, cmd->uid, &st->uids,
	    &error) < 0) {
		imap_seqset_deinit(&asked);
		imap_reply_bad(s, NULL, "%s", error);
		return NULL;
	}
	if (st->f.vanished && vanished(s, st, &asked, out, &error) < 0) {
		imap_seqset_deinit(&asked);
		log_warnx("%s: FETCH VANISHED in %s: %s", s->user,
		    s->view->name, error);
		*res_r = CMD_ERROR;
		return NULL;
	}
	imap_seqset_deinit(&asked);
	if (st->f.sets_seen && !s->view->readonly &&
	    set_seen(s, st, &error) < 0) {
		log_warnx("%s: FETCH \\Seen in %s: %s", s->user,
		    s->view->name, error);
		*res_r = CMD_ERROR;
		return NULL;
	}
	st->need_cache = (st->f.want & (IMAP_FETCH_BIT(IMAP_FETCH_ENVELOPE) |
	    IMAP_FETCH_BIT(IMAP_FETCH_BODY) |
	    IMAP_FETCH_BIT(IMAP_FETCH_BODYSTRUCTURE) |
	    IMAP_FETCH_BIT(IMAP_FETCH_EMAILID) |
	    IMAP_FETCH_BIT(IMAP_FETCH_THREADID) |
	    IMAP_FETCH_BIT(IMAP_FETCH_BODY_SECTION))) != 0;
	imap_seqset_iter_init(&st->it, &st->uids);
	return st;
}

/* cmd_fetch - FETCH and UID FETCH */
enum imap_cmd_result
cmd_fetch(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct fetch_state *st = s->cmd_state;
	struct store_snapshot *snap;
	struct store_msg m;
	enum imap_cmd_result res;
	const char *error;
	uint32_t uid, seq;
	int r = 0;

	if (st == NULL && (st = start(s, cmd, out, &res)) == NULL)
		return res;
	if (store_snapshot_begin(s->view->mb, &snap, &error) < 0)
		goto fail;
	if (st->in_msg && (r = msg_resume(s, st, snap, out, &error)) != 0) {
		store_snapshot_end(&snap);
		if (r < 0)
			goto fail;
		return CMD_MORE;
	}
	for (;;) {
		if (buf_avail(out) >= IMAP_OUT_CHUNK) {
			store_snapshot_end(&snap);
			return CMD_MORE;
		}
		if (!imap_seqset_iter_next(&st->it, &uid))
			break;
		if ((r = store_snapshot_get(snap, uid, &m, &error)) < 0)
			break;
		if (r == 0 || (seq = imap_view_seq(s->view, uid)) == 0)
			continue;	/* expunged by someone else */
		if (st->f.changedsince_given && m.modseq <= st->f.changedsince)
			continue;
		if ((r = msg_begin(s, st, snap, &m, seq, out, &error)) < 0)
			break;
		if (st->in_msg) {
			store_snapshot_end(&snap);
			return CMD_MORE;
		}
	}
	store_snapshot_end(&snap);
	if (r < 0)
		goto fail;
	if (st->unknown_cte)
		imap_reply_no(s, "UNKNOWN-CTE", "Cannot decode a part's "
		    "Content-Transfer-Encoding");
	else
		imap_reply_ok(s, NULL, "%sFETCH completed",
		    cmd->uid ? "UID " : "");
	return CMD_DONE;
fail:
	log_warnx("%s: FETCH in %s: %s", s->user, s->view->name, error);
	return CMD_ERROR;
}
