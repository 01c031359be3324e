/* imap_view.c - the selected mailbox: sequence map and untagged updates */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#include "imap_session.h"
#include "imap_view.h"
#include "imap_write.h"

static const struct {
	unsigned int	 store;
	unsigned int	 imap;
} flag_map[] = {
	{ STORE_FLAG_ANSWERED, IMAP_FLAG_ANSWERED },
	{ STORE_FLAG_FLAGGED, IMAP_FLAG_FLAGGED },
	{ STORE_FLAG_DELETED, IMAP_FLAG_DELETED },
	{ STORE_FLAG_SEEN, IMAP_FLAG_SEEN },
	{ STORE_FLAG_DRAFT, IMAP_FLAG_DRAFT },
};
#define NFLAGS	(sizeof(flag_map) / sizeof(flag_map[0]))

/* imap_flags_from_store - store bits to IMAP_FLAG_* */
unsigned int
imap_flags_from_store(unsigned int store_flags)
{
	unsigned int f = 0;
	size_t i;

	for (i = 0; i < NFLAGS; i++)
		if (store_flags & flag_map[i].store)
			f |= flag_map[i].imap;
	return f;
}

/* imap_flags_to_store - IMAP_FLAG_* to store bits (\Recent has none) */
unsigned int
imap_flags_to_store(unsigned int imap_flags)
{
	unsigned int f = 0;
	size_t i;

	for (i = 0; i < NFLAGS; i++)
		if (imap_flags & flag_map[i].imap)
			f |= flag_map[i].store;
	return f;
}

/* write_keywords - " kw1 kw2" from a space-separated list, atoms only */
static int
write_keywords(struct buf *out, const char *list, bool *first)
{
	const char *p = list, *w;
	size_t n;

	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		w = p;
		while (*p != '\0' && *p != ' ')
			p++;
		n = (size_t)(p - w);
		if (n == 0 || !imap_write_is_atom(w, n) || *w == '\\')
			continue;
		if ((!*first && buf_append_byte(out, ' ') < 0) ||
		    buf_append(out, w, n) < 0)
			return -1;
		*first = false;
	}
	return 0;
}

/* write_system_flags - the system flag names, space-separated */
static int
write_system_flags(struct buf *out, unsigned int imap_flags, bool *first)
{
	static const unsigned int order[] = { IMAP_FLAG_ANSWERED,
	    IMAP_FLAG_FLAGGED, IMAP_FLAG_DELETED, IMAP_FLAG_SEEN,
	    IMAP_FLAG_DRAFT, IMAP_FLAG_RECENT };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((imap_flags & order[i]) == 0)
			continue;
		if ((!*first && buf_append_byte(out, ' ') < 0) ||
		    buf_append_str(out, imap_flag_name(order[i])) < 0)
			return -1;
		*first = false;
	}
	return 0;
}

/* imap_view_write_msg_flags - "FLAGS (...)" of a message */
int
imap_view_write_msg_flags(struct buf *out, const struct store_msg *m,
    bool recent)
{
	unsigned int f = imap_flags_from_store(m->flags);
	bool first = true;

	if (recent)
		f |= IMAP_FLAG_RECENT;
	if (buf_append_str(out, "FLAGS (") < 0 ||
	    write_system_flags(out, f, &first) < 0 ||
	    write_keywords(out, m->keywords, &first) < 0 ||
	    buf_append_byte(out, ')') < 0)
		return -1;
	return 0;
}

/* view_has_keyword - whether the mailbox keyword list has kw */
static bool
view_has_keyword(const struct imap_view *v, const char *kw, size_t n)
{
	size_t i;

	for (i = 0; i < v->nkeywords; i++)
		if (strlen(v->keywords[i]) == n &&
		    strncasecmp(v->keywords[i], kw, n) == 0)
			return true;
	return false;
}

/* view_add_keywords - keywords of a message not yet known; true if any */
static bool
view_add_keywords(struct imap_view *v, const char *list)
{
	const char *p = list, *w;
	bool added = false;
	size_t n;

	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		w = p;
		while (*p != '\0' && *p != ' ')
			p++;
		n = (size_t)(p - w);
		if (n == 0 || !imap_write_is_atom(w, n) || *w == '\\' ||
		    view_has_keyword(v, w, n))
			continue;
		v->keywords = xreallocarray(v->keywords, v->nkeywords + 1,
		    sizeof(*v->keywords));
		v->keywords[v->nkeywords++] = xstrndup(w, n);
		added = true;
	}
	return added;
}

/* view_push - append a message to the map */
static void
view_push(struct imap_view *v, uint32_t uid, uint64_t modseq)
{
	if (v->count == v->alloc) {
		v->alloc = v->alloc == 0 ? 64 : v->alloc * 2;
		v->msgs = xreallocarray(v->msgs, v->alloc, sizeof(*v->msgs));
	}
	v->msgs[v->count].uid = uid;
	v->msgs[v->count].state = 0;
	v->msgs[v->count].modseq = modseq;
	v->count++;
}

/* view_claim_recent - take the folder's \Recent messages (read-write) */
static int
view_claim_recent(struct imap_view *v, uint32_t *first_r,
    const char **error_r)
{
	*first_r = 0;
	if (v->readonly)
		return 0;
	return store_mailbox_claim_recent(v->mb, first_r, error_r);
}

/* view_note_recent - the claimed range first..uidnext-1 is ours */
static void
view_note_recent(struct imap_view *v, uint32_t first, uint32_t uidnext)
{
	if (first != 0 && first < uidnext)
		imap_seqset_add_range(&v->recent, first, uidnext - 1);
}

/* imap_view_open - select a mailbox */
int
imap_view_open(struct store_user *u, const char *name, bool readonly,
    struct imap_view **v_r, const char **error_r)
{
	struct store_snapshot *snap;
	struct store_status st;
	struct store_msg m;
	struct imap_view *v;
	uint32_t first;
	int r;

	v = xcalloc(1, sizeof(*v));
	v->readonly = readonly;
	imap_seqset_init(&v->recent);
	if (store_mailbox_open(u, name, &v->mb, error_r) < 0) {
		imap_view_free(&v);
		return -1;
	}
	v->name = xstrdup(store_mailbox_name(v->mb));
	if (view_claim_recent(v, &first, error_r) < 0 ||
	    store_snapshot_begin(v->mb, &snap, error_r) < 0) {
		imap_view_free(&v);
		return -1;
	}
	store_snapshot_status(snap, &st);
	v->uidvalidity = st.uidvalidity;
	v->uidnext = st.uidnext;
	v->highestmodseq = st.highestmodseq;
	view_note_recent(v, first, st.uidnext);
	while ((r = store_snapshot_next(snap, 1, &m, error_r)) == 1) {
		view_push(v, m.uid, m.modseq);
		if (v->first_unseen == 0 && (m.flags & STORE_FLAG_SEEN) == 0)
			v->first_unseen = v->count;
		(void)view_add_keywords(v, m.keywords);
	}
	store_snapshot_end(&snap);
	if (r < 0) {
		imap_view_free(&v);
		return -1;
	}
	v->exists_told = v->count;
	v->recent_reported = imap_view_recent_count(v);
	*v_r = v;
	return 0;
}

/* imap_view_free - deselect */
void
imap_view_free(struct imap_view **vp)
{
	struct imap_view *v = *vp;
	size_t i;

	if (v == NULL)
		return;
	store_mailbox_close(&v->mb);
	for (i = 0; i < v->nkeywords; i++)
		free(v->keywords[i]);
	free(v->keywords);
	imap_seqset_deinit(&v->recent);
	free(v->msgs);
	free(v->name);
	free(v);
	*vp = NULL;
}

/* imap_view_uid - UID at a sequence number */
uint32_t
imap_view_uid(const struct imap_view *v, uint32_t seq)
{
	if (seq == 0 || seq > v->count)
		return 0;
	return v->msgs[seq - 1].uid;
}

/* view_lower_bound - index of the first message with UID >= uid */
static uint32_t
view_lower_bound(const struct imap_view *v, uint32_t uid)
{
	uint32_t lo = 0, hi = v->count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* imap_view_seq - sequence number of a UID, 0 if absent */
uint32_t
imap_view_seq(const struct imap_view *v, uint32_t uid)
{
	uint32_t i = view_lower_bound(v, uid);

	if (i < v->count && v->msgs[i].uid == uid)
		return i + 1;
	return 0;
}

/* imap_view_max_uid - the last UID, 0 when empty */
uint32_t
imap_view_max_uid(const struct imap_view *v)
{
	return v->count == 0 ? 0 : v->msgs[v->count - 1].uid;
}

/* imap_view_is_expunged - expunged elsewhere, not told yet */
bool
imap_view_is_expunged(const struct imap_view *v, uint32_t seq)
{
	if (seq == 0 || seq > v->count)
		return false;
	return (v->msgs[seq - 1].state & IMAP_VIEW_EXPUNGED) != 0;
}

/* imap_view_is_recent - \Recent for this session */
bool
imap_view_is_recent(const struct imap_view *v, uint32_t uid)
{
	return imap_seqset_contains(&v->recent, uid);
}

/* imap_view_recent_count - messages \Recent for this session */
uint32_t
imap_view_recent_count(const struct imap_view *v)
{
	uint32_t i, n = 0;
	size_t k;

	if (imap_seqset_is_empty(&v->recent))
		return 0;
	for (k = 0; k < v->recent.count; k++) {
		i = view_lower_bound(v, v->recent.r[k].lo);
		/* messages expunged but not yet reported still count: the
		 * client still has them */
		while (i < v->count && v->msgs[i].uid <= v->recent.r[k].hi) {
			n++;
			i++;
		}
	}
	return n;
}

/* imap_view_uidset - a client's set into the UIDs of the view */
int
imap_view_uidset(const struct imap_view *v, struct imap_seqset *set,
    bool uid, struct imap_seqset *uids, const char **error_r)
{
	uint32_t i, lo, hi;
	size_t k;

	imap_seqset_clear(uids);
	if (uid) {
		if (imap_seqset_resolve(set, imap_view_max_uid(v), true) < 0) {
			*error_r = "Invalid UID set";
			return -1;
		}
		for (k = 0; k < set->count; k++) {
			i = view_lower_bound(v, set->r[k].lo);
			lo = 0;
			/* consecutive map entries become one range */
			while (i < v->count && v->msgs[i].uid <= set->r[k].hi) {
				if (lo == 0)
					lo = v->msgs[i].uid;
				hi = v->msgs[i].uid;
				i++;
				if (i == v->count ||
				    v->msgs[i].uid > set->r[k].hi ||
				    v->msgs[i].uid != hi + 1) {
					imap_seqset_add_range(uids, lo, hi);
					lo = 0;
				}
			}
		}
		return 0;
	}
	if (imap_seqset_resolve(set, v->count, false) < 0) {
		*error_r = "Invalid message sequence number";
		return -1;
	}
	for (k = 0; k < set->count; k++) {
		lo = 0;
		for (i = set->r[k].lo - 1; i < set->r[k].hi; i++) {
			if (lo == 0)
				lo = v->msgs[i].uid;
			hi = v->msgs[i].uid;
			if (i + 1 == set->r[k].hi ||
			    v->msgs[i + 1].uid != hi + 1) {
				imap_seqset_add_range(uids, lo, hi);
				lo = 0;
			}
		}
	}
	return 0;
}

/* imap_view_known - the client has seen the message at modseq */
void
imap_view_known(struct imap_view *v, uint32_t uid, uint64_t modseq)
{
	uint32_t seq = imap_view_seq(v, uid);

	if (seq != 0 && v->msgs[seq - 1].modseq < modseq)
		v->msgs[seq - 1].modseq = modseq;
}

/* write_flags_lists - FLAGS and PERMANENTFLAGS of the mailbox */
static int
write_flags_lists(const struct imap_view *v, struct buf *out)
{
	size_t i;
	int r = 0;

	r |= buf_append_str(out, "* FLAGS (\\Answered \\Flagged \\Deleted "
	    "\\Seen \\Draft");
	for (i = 0; i < v->nkeywords; i++)
		r |= buf_printf(out, " %s", v->keywords[i]);
	r |= buf_append_str(out, ")\r\n");
	if (v->readonly) {
		r |= buf_append_str(out, "* OK [PERMANENTFLAGS ()] Read-only "
		    "mailbox\r\n");
		return r;
	}
	r |= buf_append_str(out, "* OK [PERMANENTFLAGS (\\Answered "
	    "\\Flagged \\Deleted \\Seen \\Draft");
	for (i = 0; i < v->nkeywords; i++)
		r |= buf_printf(out, " %s", v->keywords[i]);
	r |= buf_append_str(out, " \\*)] Flags permitted\r\n");
	return r;
}

/* imap_view_write_select - FLAGS .. UIDNEXT (.. HIGHESTMODSEQ) */
int
imap_view_write_select(const struct imap_view *v, unsigned int how,
    bool condstore, struct buf *out)
{
	int r = 0;

	r |= write_flags_lists(v, out);
	r |= buf_printf(out, "* %u EXISTS\r\n", v->count);
	if (how & IMAP_VIEW_RECENT) {
		r |= buf_printf(out, "* %u RECENT\r\n", v->recent_reported);
		if (v->first_unseen != 0)
			r |= buf_printf(out, "* OK [UNSEEN %u] First "
			    "unseen\r\n", v->first_unseen);
	}
	r |= buf_printf(out, "* OK [UIDVALIDITY %u] UIDs valid\r\n",
	    v->uidvalidity);
	r |= buf_printf(out, "* OK [UIDNEXT %u] Predicted next UID\r\n",
	    v->uidnext);
	if (condstore)
		r |= buf_printf(out, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
		    (unsigned long long)v->highestmodseq);
	return r < 0 ? -1 : 0;
}

/* view_report_expunges - EXPUNGE or VANISHED for the marked messages,
 * then drop them from the map */
static void
view_report_expunges(struct imap_view *v, unsigned int how,
    struct buf *out)
{
	struct imap_seqset gone;
	uint32_t i, j;

	if (v->expunged == 0)
		return;
	if (how & IMAP_VIEW_VANISHED) {
		imap_seqset_init(&gone);
		for (i = 0; i < v->count; i++)
			if (v->msgs[i].state & IMAP_VIEW_EXPUNGED)
				imap_seqset_add(&gone, v->msgs[i].uid);
		(void)buf_append_str(out, "* VANISHED ");
		(void)imap_seqset_format(&gone, out);
		(void)buf_append_str(out, "\r\n");
		imap_seqset_deinit(&gone);
	} else {
		/* from the end, so each number is right as it is sent */
		for (i = v->count; i > 0; i--)
			if (v->msgs[i - 1].state & IMAP_VIEW_EXPUNGED)
				(void)buf_printf(out, "* %u EXPUNGE\r\n", i);
	}
	for (i = 0, j = 0; i < v->count; i++)
		if ((v->msgs[i].state & IMAP_VIEW_EXPUNGED) == 0)
			v->msgs[j++] = v->msgs[i];
	v->exists_told -= v->expunged;
	v->count = j;
	v->expunged = 0;
}

/*
 * view_scan - pass one: mark what left the store, append what arrived,
 * and learn new keywords; *keywords_r when some were new
 */
static int
view_scan(struct imap_view *v, struct store_snapshot *snap,
    bool *keywords_r, const char **error_r)
{
	struct store_msg m;
	uint32_t i = 0, last = imap_view_max_uid(v);
	int r;

	*keywords_r = false;
	while ((r = store_snapshot_next(snap, 1, &m, error_r)) == 1) {
		/* view entries below this UID are gone */
		while (i < v->count && v->msgs[i].uid < m.uid) {
			if ((v->msgs[i].state & IMAP_VIEW_EXPUNGED) == 0) {
				v->msgs[i].state |= IMAP_VIEW_EXPUNGED;
				v->expunged++;
			}
			i++;
		}
		if (i < v->count && v->msgs[i].uid == m.uid) {
			if (m.modseq > v->msgs[i].modseq &&
			    view_add_keywords(v, m.keywords))
				*keywords_r = true;
			i++;
			continue;
		}
		if (m.uid > last) {
			/* arrived: EXISTS tells; no FETCH for it */
			view_push(v, m.uid, m.modseq);
			i = v->count;
			last = m.uid;
			if (view_add_keywords(v, m.keywords))
				*keywords_r = true;
		}
	}
	if (r < 0)
		return -1;
	for (; i < v->count; i++)
		if ((v->msgs[i].state & IMAP_VIEW_EXPUNGED) == 0) {
			v->msgs[i].state |= IMAP_VIEW_EXPUNGED;
			v->expunged++;
		}
	return 0;
}

/* view_fetch_changes - pass two: FETCH for changed flags, from
 * v->resume_uid; 1 when stopped at the chunk size */
static int
view_fetch_changes(struct imap_view *v, struct store_snapshot *snap,
    unsigned int how, struct buf *out, const char **error_r)
{
	struct store_msg m;
	uint32_t seq;
	bool recent;
	int r;

	while ((r = store_snapshot_next(snap, v->resume_uid > 0 ?
	    v->resume_uid : 1, &m, error_r)) == 1) {
		seq = imap_view_seq(v, m.uid);
		if (seq == 0 || m.modseq <= v->msgs[seq - 1].modseq ||
		    (v->msgs[seq - 1].state & IMAP_VIEW_EXPUNGED) != 0)
			continue;
		if (buf_avail(out) >= IMAP_OUT_CHUNK) {
			/* store_snapshot_end() ends the walk */
			v->resume_uid = m.uid;
			return 1;
		}
		recent = (how & IMAP_VIEW_RECENT) != 0 &&
		    imap_view_is_recent(v, m.uid);
		(void)buf_printf(out, "* %u FETCH (", seq);
		if (how & IMAP_VIEW_MODSEQ)
			(void)buf_printf(out, "UID %u ", m.uid);
		(void)imap_view_write_msg_flags(out, &m, recent);
		if (how & IMAP_VIEW_MODSEQ)
			(void)buf_printf(out, " MODSEQ (%llu)",
			    (unsigned long long)m.modseq);
		(void)buf_append_str(out, ")\r\n");
		v->msgs[seq - 1].modseq = m.modseq;
	}
	if (r < 0)
		return -1;
	v->resume_uid = 0;
	return 0;
}

/* imap_view_sync - sync with the store and report the changes */
int
imap_view_sync(struct imap_view *v, unsigned int how, struct buf *out,
    const char **error_r)
{
	struct store_snapshot *snap;
	struct store_status st;
	uint32_t first, live, nrecent;
	bool keywords = false, changed;
	int r;

	if (store_mailbox_sync(v->mb, error_r) < 0 ||
	    view_claim_recent(v, &first, error_r) < 0 ||
	    store_snapshot_begin(v->mb, &snap, error_r) < 0)
		return -1;
	store_snapshot_status(snap, &st);
	if (st.uidvalidity != v->uidvalidity) {
		store_snapshot_end(&snap);
		*error_r = "mailbox was deleted";
		return -1;
	}
	view_note_recent(v, first, st.uidnext);
	live = v->count - v->expunged;
	changed = st.highestmodseq != v->highestmodseq ||
	    st.uidnext != v->uidnext || st.messages != live ||
	    v->resume_uid != 0;
	if (v->resume_uid == 0)
		v->pass_modseq = st.highestmodseq;
	if (changed && view_scan(v, snap, &keywords, error_r) < 0) {
		store_snapshot_end(&snap);
		return -1;
	}
	if (how & IMAP_VIEW_EXPUNGE_OK)
		view_report_expunges(v, how, out);
	if (v->count != v->exists_told) {
		(void)buf_printf(out, "* %u EXISTS\r\n", v->count);
		v->exists_told = v->count;
	}
	if (how & IMAP_VIEW_RECENT) {
		nrecent = imap_view_recent_count(v);
		if (nrecent != v->recent_reported) {
			(void)buf_printf(out, "* %u RECENT\r\n", nrecent);
			v->recent_reported = nrecent;
		}
	}
	if (keywords)
		(void)write_flags_lists(v, out);
	r = 0;
	if (changed)
		r = view_fetch_changes(v, snap, how, out, error_r);
	store_snapshot_end(&snap);
	if (r < 0)
		return -1;
	v->uidnext = st.uidnext;
	/* a change made while a cut-short pass went on, to a message it
	 * had passed, is found by the next sync: HIGHESTMODSEQ still
	 * differs from the one the pass began with */
	if (r == 0)
		v->highestmodseq = v->pass_modseq;
	return r;
}
