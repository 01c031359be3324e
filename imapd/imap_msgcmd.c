/* imap_msgcmd.c - pieces shared by the message commands */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#include "imap_msgcmd.h"
#include "imap_search_eval.h"
#include "imap_session.h"
#include "imap_view.h"

/* imap_msgmap_open - map a message file read-only */
int
imap_msgmap_open(struct store_snapshot *snap, const struct store_msg *m,
    struct imap_msgmap *map, const char **error_r)
{
	struct stat st;
	void *p;
	int fd;

	memset(map, 0, sizeof(*map));
	map->data = "";
	if (store_snapshot_open_msg(snap, m, &fd, error_r) < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		log_warn("fstat(%s)", m->base);
		close(fd);
		*error_r = "cannot read message";
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		log_warn("mmap(%s)", m->base);
		*error_r = "cannot read message";
		return -1;
	}
	map->addr = p;
	map->data = p;
	map->len = (size_t)st.st_size;
	return 0;
}

/* imap_msgmap_close - unmap */
void
imap_msgmap_close(struct imap_msgmap *map)
{
	if (map->addr != NULL)
		munmap(map->addr, map->len);
	memset(map, 0, sizeof(*map));
	map->data = "";
}

/* imap_msgcmd_uids - a set or "$" as UIDs of the view */
int
imap_msgcmd_uids(struct imap_session *s, struct imap_seqset *set, bool saved,
    bool uid, struct imap_seqset *uids, const char **error_r)
{
	struct imap_view *v = s->view;
	struct imap_seqset all;

	imap_seqset_clear(uids);
	if (saved) {
		/* RFC 5182: "$" is the saved UIDs, whatever the command's
		 * form; only those still in the view count */
		if (!s->saved_valid || v->count == 0)
			return 0;
		imap_seqset_init(&all);
		imap_seqset_add_range(&all, v->msgs[0].uid,
		    imap_view_max_uid(v));
		imap_seqset_intersect(uids, &s->saved, &all);
		imap_seqset_deinit(&all);
		return 0;
	}
	return imap_view_uidset(v, set, uid, uids, error_r);
}

/* imap_msgcmd_uid_array - the members of a set, ascending */
uint32_t *
imap_msgcmd_uid_array(const struct imap_seqset *uids, size_t *n_r)
{
	struct imap_seqset_iter it;
	uint64_t count = imap_seqset_count(uids);
	uint32_t *v, u;
	size_t n = 0;

	v = xreallocarray(NULL, count == 0 ? 1 : (size_t)count, sizeof(*v));
	imap_seqset_iter_init(&it, uids);
	while (imap_seqset_iter_next(&it, &u))
		v[n++] = u;
	*n_r = n;
	return v;
}

/* what the search source callbacks use */
struct search_src {
	struct store_snapshot *snap;
	struct store_cache cache;
	struct imap_msgmap map;
	bool		 mapped;
};

/* src_cache - imap_search_source.cache over the snapshot */
static int
src_cache(void *arg, struct imap_search_msg *m, const char **error_r)
{
	struct search_src *src = arg;
	int r;

	r = store_snapshot_cache(src->snap, m->msg->uid, &src->cache, error_r);
	if (r == 1)
		m->cache = &src->cache;
	return r;
}

/* src_message - imap_search_source.message: map the file */
static int
src_message(void *arg, struct imap_search_msg *m, const char **error_r)
{
	struct search_src *src = arg;

	if (src->mapped)
		imap_msgmap_close(&src->map);
	src->mapped = false;
	if (imap_msgmap_open(src->snap, m->msg, &src->map, error_r) < 0) {
		/* gone since the snapshot began: nothing to match */
		m->data = "";
		m->len = 0;
		return 0;
	}
	src->mapped = true;
	m->data = src->map.data;
	m->len = src->map.len;
	return 0;
}

/* imap_msgcmd_search - run a program over the view */
int
imap_msgcmd_search(struct imap_session *s, struct imap_search *srch,
    imap_msgcmd_match_fn *fn, void *arg, const char **error_r)
{
	struct imap_view *v = s->view;
	struct imap_search_settings set;
	struct imap_search_source source;
	struct imap_search_prog *prog = NULL;
	struct imap_search_msg sm;
	struct search_src src;
	struct store_msg m;
	uint32_t seq;
	int r, rm = 0;

	memset(&src, 0, sizeof(src));
	if (store_snapshot_begin(v->mb, &src.snap, error_r) < 0)
		return -1;
	imap_search_resolve(srch->root, v->count, imap_view_max_uid(v));
	memset(&set, 0, sizeof(set));
	set.now = (int64_t)time(NULL);
	set.tz_minutes = 0;
	set.saved = s->saved_valid ? &s->saved : NULL;
	/* XXX: the indexd hook goes here once indexd answers queries;
	 * until then every text key is answered by the scan */
	set.text_fn = NULL;
	source.cache = src_cache;
	source.message = src_message;
	source.arg = &src;
	if (imap_search_prepare(srch->root, &set, &source, &prog,
	    error_r) < 0) {
		store_snapshot_end(&src.snap);
		return -1;
	}
	/* the snapshot's iterator goes on from where it is: 1 is only
	 * where it starts */
	while ((r = store_snapshot_next(src.snap, 1, &m, error_r)) == 1) {
		/* only what the client knows of: arrivals not yet told
		 * (no EXISTS yet) have no sequence number */
		if ((seq = imap_view_seq(v, m.uid)) == 0)
			continue;
		memset(&sm, 0, sizeof(sm));
		sm.seq = seq;
		sm.recent = imap_view_is_recent(v, m.uid);
		sm.msg = &m;
		rm = imap_search_match(prog, &sm, error_r);
		if (src.mapped) {
			imap_msgmap_close(&src.map);
			src.mapped = false;
		}
		if (rm == 1)
			rm = fn(arg, src.snap, seq, &m, error_r);
		if (rm < 0)
			break;
	}
	imap_search_prog_free(&prog);
	store_snapshot_end(&src.snap);
	if (r < 0 || rm < 0)
		return -1;
	return 0;
}

/* imap_numlist_push - one more number */
void
imap_numlist_push(struct imap_numlist *l, uint32_t n)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc == 0 ? 256 : l->alloc * 2;
		l->v = xreallocarray(l->v, l->alloc, sizeof(*l->v));
	}
	l->v[l->n++] = n;
}

/* imap_numlist_free - forget the numbers */
void
imap_numlist_free(struct imap_numlist *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* imap_numlist_write - " n" each, in pieces */
int
imap_numlist_write(struct imap_numlist *l, struct buf *out)
{
	while (l->pos < l->n) {
		if (buf_avail(out) >= IMAP_OUT_CHUNK)
			return 1;
		(void)buf_printf(out, " %u", l->v[l->pos++]);
	}
	return 0;
}

/* imap_msgcmd_keywords - "kw1 kw2" of parsed flags */
char *
imap_msgcmd_keywords(const struct imap_flags *f)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < f->keyword_count; i++) {
		if (i > 0)
			buf_append_byte(&b, ' ');
		buf_append_str(&b, f->keywords[i]);
	}
	return buf_steal(&b, NULL);
}
