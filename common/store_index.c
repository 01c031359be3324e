/* store_index.c - one user's mailbox index in LMDB */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "log.h"
#include "xmalloc.h"

#include "store_index.h"

enum {
	DB_META, DB_FOLDERS, DB_SUBS, DB_MSGS, DB_NAMES, DB_CACHE,
	DB_EXPUNGED, DB_COUNT
};

static const char *const db_names[DB_COUNT] = {
	"meta", "folders", "subs", "msgs", "names", "cache", "expunged"
};

struct store_index {
	MDB_env		*env;
	MDB_dbi		 dbi[DB_COUNT];
	char		*dir;
};

struct store_txn {
	struct store_index *idx;
	MDB_txn		*txn;
	bool		 write;
};

struct store_iter {
	struct store_txn *t;
	MDB_cursor	*cur;
	enum store_iter_kind kind;
	uint32_t	 fid;
	uint32_t	 from;
	bool		 started;
};

/* the fixed part of a message record, before base and keywords */
struct msg_head {
	uint64_t	 modseq;
	int64_t		 internaldate;
	uint64_t	 size;
	uint32_t	 flags;
	uint16_t	 base_len;	/* with the NUL */
	uint16_t	 kw_len;	/* with the NUL */
};

/* mdb_error - log an LMDB failure once and set a generic error */
static int
mdb_error(struct store_txn *t, const char *what, int rc,
    const char **error_r)
{
	log_warnx("lmdb %s: %s: %s", t != NULL ? t->idx->dir : "?", what,
	    mdb_strerror(rc));
	*error_r = rc == MDB_MAP_FULL ? "mailbox index is full" :
	    "mailbox index error";
	return -1;
}

/* put_be32 - big-endian, so that keys sort by number */
static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* get_be32 - read put_be32() */
static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* store_index_open - open (creating) the environment in dir */
int
store_index_open(const char *dir, uint64_t map_size,
    struct store_index **idx_r, const char **error_r)
{
	struct store_index *idx;
	MDB_txn *txn;
	int rc, i, dead;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("mkdir(%s)", dir);
		*error_r = "cannot create index directory";
		return -1;
	}
	idx = xcalloc(1, sizeof(*idx));
	idx->dir = xstrdup(dir);
	if ((rc = mdb_env_create(&idx->env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(idx->env, DB_COUNT);
	mdb_env_set_mapsize(idx->env, (size_t)map_size);
	/* one slot per open snapshot of any process: IMAP sessions */
	mdb_env_set_maxreaders(idx->env, 1024);
	/* NOTLS: a snapshot may be read by several worker threads in turn;
	 * no WRITEMAP: page writes must show up as IN_MODIFY for watchers */
	if ((rc = mdb_env_open(idx->env, dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	mdb_reader_check(idx->env, &dead);
	if ((rc = mdb_txn_begin(idx->env, NULL, 0, &txn)) != 0)
		goto fail;
	for (i = 0; i < DB_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE,
		    &idx->dbi[i])) != 0) {
			mdb_txn_abort(txn);
			goto fail;
		}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	*idx_r = idx;
	return 0;
fail:
	log_warnx("lmdb %s: open: %s", dir, mdb_strerror(rc));
	*error_r = "cannot open mailbox index";
	if (idx->env != NULL)
		mdb_env_close(idx->env);
	free(idx->dir);
	free(idx);
	return -1;
}

/* store_index_free - close the environment */
void
store_index_free(struct store_index **idxp)
{
	struct store_index *idx = *idxp;

	if (idx == NULL)
		return;
	mdb_env_close(idx->env);
	free(idx->dir);
	free(idx);
	*idxp = NULL;
}

/* store_txn_begin - a snapshot (read) or the writer lock (write) */
int
store_txn_begin(struct store_index *idx, bool write, struct store_txn **txn_r,
    const char **error_r)
{
	struct store_txn *t;
	int rc;

	t = xcalloc(1, sizeof(*t));
	t->idx = idx;
	t->write = write;
	rc = mdb_txn_begin(idx->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc != 0) {
		mdb_error(t, "txn_begin", rc, error_r);
		free(t);
		return -1;
	}
	*txn_r = t;
	return 0;
}

/* store_txn_commit - commit (durably) and free the transaction */
int
store_txn_commit(struct store_txn **tp, const char **error_r)
{
	struct store_txn *t = *tp;
	int rc;

	*tp = NULL;
	rc = mdb_txn_commit(t->txn);
	if (rc != 0) {
		mdb_error(t, "commit", rc, error_r);
		free(t);
		return -1;
	}
	free(t);
	return 0;
}

/* store_txn_abort - drop the transaction; NULL is fine */
void
store_txn_abort(struct store_txn **tp)
{
	if (*tp == NULL)
		return;
	mdb_txn_abort((*tp)->txn);
	free(*tp);
	*tp = NULL;
}

/* db_get - 1 found, 0 not found, -1 error */
static int
db_get(struct store_txn *t, int db, MDB_val *key, MDB_val *val,
    const char **error_r)
{
	int rc = mdb_get(t->txn, t->idx->dbi[db], key, val);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_error(t, "get", rc, error_r);
	return 1;
}

/* db_put - store a record */
static int
db_put(struct store_txn *t, int db, MDB_val *key, MDB_val *val,
    const char **error_r)
{
	int rc = mdb_put(t->txn, t->idx->dbi[db], key, val, 0);

	if (rc != 0)
		return mdb_error(t, "put", rc, error_r);
	return 0;
}

/* db_del - delete a record; a missing one is fine */
static int
db_del(struct store_txn *t, int db, MDB_val *key, const char **error_r)
{
	int rc = mdb_del(t->txn, t->idx->dbi[db], key, NULL);

	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, "del", rc, error_r);
	return 0;
}

/* store_idx_meta_get - a counter; 0 when absent */
int
store_idx_meta_get(struct store_txn *t, const char *key, uint64_t *v_r,
    const char **error_r)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int r;

	*v_r = 0;
	if ((r = db_get(t, DB_META, &k, &v, error_r)) != 1)
		return r;
	if (v.mv_size == sizeof(*v_r))
		memcpy(v_r, v.mv_data, sizeof(*v_r));
	return 1;
}

/* store_idx_meta_put - set a counter */
int
store_idx_meta_put(struct store_txn *t, const char *key, uint64_t val,
    const char **error_r)
{
	MDB_val k = { strlen(key), (void *)key }, v = { sizeof(val), &val };

	return db_put(t, DB_META, &k, &v, error_r);
}

/* store_idx_folder_get - a folder record by name */
int
store_idx_folder_get(struct store_txn *t, const char *name,
    struct store_folder_rec *rec_r, const char **error_r)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int r;

	if ((r = db_get(t, DB_FOLDERS, &k, &v, error_r)) != 1)
		return r;
	memset(rec_r, 0, sizeof(*rec_r));
	memcpy(rec_r, v.mv_data, v.mv_size < sizeof(*rec_r) ? v.mv_size :
	    sizeof(*rec_r));
	return 1;
}

/* store_idx_folder_put - write a folder record */
int
store_idx_folder_put(struct store_txn *t, const char *name,
    const struct store_folder_rec *rec, const char **error_r)
{
	MDB_val k = { strlen(name), (void *)name },
	    v = { sizeof(*rec), (void *)rec };

	return db_put(t, DB_FOLDERS, &k, &v, error_r);
}

/* store_idx_folder_del - forget a folder name (not its messages) */
int
store_idx_folder_del(struct store_txn *t, const char *name,
    const char **error_r)
{
	MDB_val k = { strlen(name), (void *)name };

	return db_del(t, DB_FOLDERS, &k, error_r);
}

/* purge_prefix - delete every record of db whose key starts with fid */
static int
purge_prefix(struct store_txn *t, int db, uint32_t fid, const char **error_r)
{
	unsigned char pfx[4];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	put_be32(pfx, fid);
	if ((rc = mdb_cursor_open(t->txn, t->idx->dbi[db], &cur)) != 0)
		return mdb_error(t, "cursor", rc, error_r);
	k.mv_size = 4;
	k.mv_data = pfx;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= 4 && memcmp(k.mv_data, pfx, 4) == 0) {
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL)
			rc = MDB_NOTFOUND;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_error(t, "purge", rc, error_r);
	return 0;
}

/* store_idx_folder_purge - drop all records of folder id fid */
int
store_idx_folder_purge(struct store_txn *t, uint32_t fid,
    const char **error_r)
{
	if (purge_prefix(t, DB_MSGS, fid, error_r) < 0 ||
	    purge_prefix(t, DB_NAMES, fid, error_r) < 0 ||
	    purge_prefix(t, DB_CACHE, fid, error_r) < 0 ||
	    purge_prefix(t, DB_EXPUNGED, fid, error_r) < 0)
		return -1;
	return 0;
}

/* store_idx_sub_set - subscribe or unsubscribe a name */
int
store_idx_sub_set(struct store_txn *t, const char *name, bool on,
    const char **error_r)
{
	MDB_val k = { strlen(name), (void *)name }, v = { 0, (void *)"" };

	if (on)
		return db_put(t, DB_SUBS, &k, &v, error_r);
	return db_del(t, DB_SUBS, &k, error_r);
}

/* msg_decode - a message record into msg (borrowing the strings) */
static int
msg_decode(uint32_t uid, const MDB_val *v, struct store_msg *msg)
{
	struct msg_head h;
	const char *p = v->mv_data;

	if (v->mv_size < sizeof(h))
		return -1;
	memcpy(&h, p, sizeof(h));
	if (h.base_len < 2 || h.kw_len == 0 ||
	    sizeof(h) + h.base_len + h.kw_len != v->mv_size ||
	    p[sizeof(h) + h.base_len - 1] != '\0' ||
	    p[v->mv_size - 1] != '\0')
		return -1;
	/* a file name from the index must never leave the folder */
	if (p[sizeof(h)] == '.' || memchr(p + sizeof(h), '/',
	    h.base_len - 1) != NULL)
		return -1;
	msg->uid = uid;
	msg->flags = h.flags;
	msg->modseq = h.modseq;
	msg->internaldate = h.internaldate;
	msg->size = h.size;
	msg->base = p + sizeof(h);
	msg->keywords = p + sizeof(h) + h.base_len;
	return 0;
}

/* msg_key - fid uid */
static void
msg_key(unsigned char *key, uint32_t fid, uint32_t uid)
{
	put_be32(key, fid);
	put_be32(key + 4, uid);
}

/* store_idx_msg_get - one message record */
int
store_idx_msg_get(struct store_txn *t, uint32_t fid, uint32_t uid,
    struct store_msg *msg_r, const char **error_r)
{
	unsigned char key[8];
	MDB_val k = { 8, key }, v;
	int r;

	msg_key(key, fid, uid);
	if ((r = db_get(t, DB_MSGS, &k, &v, error_r)) != 1)
		return r;
	if (msg_decode(uid, &v, msg_r) < 0) {
		log_warnx("store index %s: bad message record %u/%u",
		    t->idx->dir, fid, uid);
		*error_r = "mailbox index is damaged";
		return -1;
	}
	return 1;
}

/* store_idx_msg_put - write a message record */
int
store_idx_msg_put(struct store_txn *t, uint32_t fid,
    const struct store_msg *msg, const char **error_r)
{
	unsigned char key[8];
	struct msg_head h;
	size_t blen = strlen(msg->base) + 1;
	size_t klen = strlen(msg->keywords != NULL ? msg->keywords : "") + 1;
	MDB_val k = { 8, key }, v;
	char *data;
	int r;

	if (blen > UINT16_MAX || klen > UINT16_MAX) {
		*error_r = "file name or keywords too long";
		return -1;
	}
	memset(&h, 0, sizeof(h));
	h.modseq = msg->modseq;
	h.internaldate = msg->internaldate;
	h.size = msg->size;
	h.flags = msg->flags;
	h.base_len = (uint16_t)blen;
	h.kw_len = (uint16_t)klen;
	data = xmalloc(sizeof(h) + blen + klen);
	memcpy(data, &h, sizeof(h));
	memcpy(data + sizeof(h), msg->base, blen);
	memcpy(data + sizeof(h) + blen,
	    msg->keywords != NULL ? msg->keywords : "", klen);
	msg_key(key, fid, msg->uid);
	v.mv_size = sizeof(h) + blen + klen;
	v.mv_data = data;
	r = db_put(t, DB_MSGS, &k, &v, error_r);
	free(data);
	return r;
}

/* store_idx_msg_del - drop a message record */
int
store_idx_msg_del(struct store_txn *t, uint32_t fid, uint32_t uid,
    const char **error_r)
{
	unsigned char key[8];
	MDB_val k = { 8, key };

	msg_key(key, fid, uid);
	return db_del(t, DB_MSGS, &k, error_r);
}

/* name_key - fid base; caller frees */
static unsigned char *
name_key(uint32_t fid, const char *base, size_t len, MDB_val *k)
{
	unsigned char *key = xmalloc(4 + len);

	put_be32(key, fid);
	memcpy(key + 4, base, len);
	k->mv_size = 4 + len;
	k->mv_data = key;
	return key;
}

/* store_idx_name_get - the UID of a base name */
int
store_idx_name_get(struct store_txn *t, uint32_t fid, const char *base,
    size_t len, uint32_t *uid_r, const char **error_r)
{
	MDB_val k, v;
	unsigned char *key;
	int r;

	if (len == 0 || len > 400) {
		*error_r = "bad file name";
		return -1;
	}
	key = name_key(fid, base, len, &k);
	r = db_get(t, DB_NAMES, &k, &v, error_r);
	free(key);
	if (r == 1) {
		if (v.mv_size != 4)
			return 0;
		memcpy(uid_r, v.mv_data, 4);
	}
	return r;
}

/* store_idx_name_put - map a base name to a UID */
int
store_idx_name_put(struct store_txn *t, uint32_t fid, const char *base,
    size_t len, uint32_t uid, const char **error_r)
{
	MDB_val k, v = { 4, &uid };
	unsigned char *key;
	int r;

	if (len == 0 || len > 400) {
		*error_r = "file name too long";
		return -1;
	}
	key = name_key(fid, base, len, &k);
	r = db_put(t, DB_NAMES, &k, &v, error_r);
	free(key);
	return r;
}

/* store_idx_name_del - forget a base name */
int
store_idx_name_del(struct store_txn *t, uint32_t fid, const char *base,
    size_t len, const char **error_r)
{
	MDB_val k;
	unsigned char *key;
	int r;

	if (len == 0 || len > 400)
		return 0;
	key = name_key(fid, base, len, &k);
	r = db_del(t, DB_NAMES, &k, error_r);
	free(key);
	return r;
}

#define CACHE_NSTR	8

/* cache_strs - the string fields of a cache record, in stored order */
static const char **
cache_str(struct store_cache *c, int i)
{
	const char **f[CACHE_NSTR] = {
		&c->envelope, &c->bodystructure, &c->body, &c->header_fields,
		&c->message_id, &c->in_reply_to, &c->references,
		&c->base_subject
	};

	return f[i];
}

/* store_idx_cache_get - the cached summary of a message */
int
store_idx_cache_get(struct store_txn *t, uint32_t fid, uint32_t uid,
    struct store_cache *cache_r, const char **error_r)
{
	unsigned char key[8];
	MDB_val k = { 8, key }, v;
	const char *p, *end;
	uint32_t len;
	int r, i;

	msg_key(key, fid, uid);
	if ((r = db_get(t, DB_CACHE, &k, &v, error_r)) != 1)
		return r;
	memset(cache_r, 0, sizeof(*cache_r));
	p = v.mv_data;
	end = p + v.mv_size;
	if (v.mv_size < 16)
		goto bad;
	memcpy(&cache_r->header_size, p, 8);
	memcpy(&cache_r->sent_date, p + 8, 8);
	p += 16;
	for (i = 0; i < CACHE_NSTR; i++) {
		if (end - p < 4)
			goto bad;
		memcpy(&len, p, 4);
		p += 4;
		if (len == UINT32_MAX) {
			*cache_str(cache_r, i) = NULL;
			continue;
		}
		if ((size_t)(end - p) < (size_t)len + 1 || p[len] != '\0')
			goto bad;
		*cache_str(cache_r, i) = p;
		p += len + 1;
	}
	return 1;
bad:
	log_warnx("store index %s: bad cache record %u/%u", t->idx->dir,
	    fid, uid);
	return 0;	/* the caller recomputes it from the file */
}

/* store_idx_cache_put - store the summary of a message */
int
store_idx_cache_put(struct store_txn *t, uint32_t fid, uint32_t uid,
    const struct store_cache *cache, const char **error_r)
{
	struct store_cache c = *cache;
	unsigned char key[8];
	MDB_val k = { 8, key }, v;
	size_t total = 16, len;
	uint32_t l32;
	char *data, *p;
	int i, r;

	for (i = 0; i < CACHE_NSTR; i++) {
		total += 4;
		if (*cache_str(&c, i) != NULL)
			total += strlen(*cache_str(&c, i)) + 1;
	}
	p = data = xmalloc(total);
	memcpy(p, &c.header_size, 8);
	memcpy(p + 8, &c.sent_date, 8);
	p += 16;
	for (i = 0; i < CACHE_NSTR; i++) {
		const char *s = *cache_str(&c, i);

		if (s == NULL || (len = strlen(s)) >= UINT32_MAX) {
			l32 = UINT32_MAX;
			memcpy(p, &l32, 4);
			p += 4;
			continue;
		}
		l32 = (uint32_t)len;
		memcpy(p, &l32, 4);
		memcpy(p + 4, s, len + 1);
		p += 4 + len + 1;
	}
	msg_key(key, fid, uid);
	v.mv_size = total;
	v.mv_data = data;
	r = db_put(t, DB_CACHE, &k, &v, error_r);
	free(data);
	return r;
}

/* store_idx_cache_del - drop a cache record */
int
store_idx_cache_del(struct store_txn *t, uint32_t fid, uint32_t uid,
    const char **error_r)
{
	unsigned char key[8];
	MDB_val k = { 8, key };

	msg_key(key, fid, uid);
	return db_del(t, DB_CACHE, &k, error_r);
}

/* store_idx_expunged_put - log an expunge for QRESYNC */
int
store_idx_expunged_put(struct store_txn *t, uint32_t fid, uint32_t uid,
    uint64_t modseq, const char **error_r)
{
	unsigned char key[8];
	MDB_val k = { 8, key }, v = { 8, &modseq };

	msg_key(key, fid, uid);
	return db_put(t, DB_EXPUNGED, &k, &v, error_r);
}

/* store_iter_new - a cursor over one kind of record */
int
store_iter_new(struct store_txn *t, enum store_iter_kind kind, uint32_t fid,
    uint32_t from, struct store_iter **it_r, const char **error_r)
{
	static const int dbs[] = {
		[STORE_ITER_FOLDERS] = DB_FOLDERS,
		[STORE_ITER_SUBS] = DB_SUBS,
		[STORE_ITER_MSGS] = DB_MSGS,
		[STORE_ITER_NAMES] = DB_NAMES,
		[STORE_ITER_EXPUNGED] = DB_EXPUNGED,
	};
	struct store_iter *it;
	int rc;

	it = xcalloc(1, sizeof(*it));
	it->t = t;
	it->kind = kind;
	it->fid = fid;
	it->from = from;
	if ((rc = mdb_cursor_open(t->txn, t->idx->dbi[dbs[kind]],
	    &it->cur)) != 0) {
		free(it);
		return mdb_error(t, "cursor", rc, error_r);
	}
	*it_r = it;
	return 0;
}

/* store_iter_next - the next record of the iterator's kind */
int
store_iter_next(struct store_iter *it, struct store_iter_rec *rec,
    const char **error_r)
{
	unsigned char start[8];
	MDB_val k, v;
	int rc, prefixed;

	prefixed = it->kind == STORE_ITER_MSGS ||
	    it->kind == STORE_ITER_NAMES || it->kind == STORE_ITER_EXPUNGED;
	if (!it->started) {
		it->started = true;
		if (prefixed) {
			msg_key(start, it->fid, it->from);
			k.mv_size = it->kind == STORE_ITER_NAMES ? 4 : 8;
			k.mv_data = start;
			rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET_RANGE);
		} else
			rc = mdb_cursor_get(it->cur, &k, &v, MDB_FIRST);
	} else
		rc = mdb_cursor_get(it->cur, &k, &v, MDB_NEXT);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mdb_error(it->t, "cursor_get", rc, error_r);
	if (prefixed && (k.mv_size < 4 ||
	    get_be32(k.mv_data) != it->fid))
		return 0;
	memset(rec, 0, sizeof(*rec));
	switch (it->kind) {
	case STORE_ITER_FOLDERS:
	case STORE_ITER_SUBS:
		/* keys are not terminated: names are copied by callers from
		 * base/base_len; name points at a static-lifetime copy */
		rec->base = k.mv_data;
		rec->base_len = k.mv_size;
		if (it->kind == STORE_ITER_FOLDERS)
			memcpy(&rec->folder, v.mv_data,
			    v.mv_size < sizeof(rec->folder) ? v.mv_size :
			    sizeof(rec->folder));
		break;
	case STORE_ITER_MSGS:
		if (k.mv_size != 8 || msg_decode(get_be32(
		    (unsigned char *)k.mv_data + 4), &v, &rec->msg) < 0) {
			log_warnx("store index %s: bad message record",
			    it->t->idx->dir);
			*error_r = "mailbox index is damaged";
			return -1;
		}
		rec->uid = rec->msg.uid;
		break;
	case STORE_ITER_NAMES:
		rec->base = (const char *)k.mv_data + 4;
		rec->base_len = k.mv_size - 4;
		if (v.mv_size == 4)
			memcpy(&rec->uid, v.mv_data, 4);
		break;
	case STORE_ITER_EXPUNGED:
		if (k.mv_size == 8)
			rec->uid = get_be32((unsigned char *)k.mv_data + 4);
		if (v.mv_size == 8)
			memcpy(&rec->modseq, v.mv_data, 8);
		break;
	}
	return 1;
}

/* store_iter_free - close the cursor */
void
store_iter_free(struct store_iter **itp)
{
	if (*itp == NULL)
		return;
	mdb_cursor_close((*itp)->cur);
	free(*itp);
	*itp = NULL;
}
