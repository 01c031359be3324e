/* queue.c - the on-disk envelope of a queued message */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "buf.h"
#include "queue.h"
#include "str.h"
#include "xmalloc.h"

#define HEADER_LEN	8	/* magic, version, reserved */
#define REC_HDR_LEN	6	/* type u16, length u32 */
#define END_LEN		(REC_HDR_LEN + 4)

enum rec_type {
	REC_ID = 1,
	REC_ARRIVAL,
	REC_SENDER,
	REC_ENVID,
	REC_RET,
	REC_BODY,
	REC_SMTPUTF8,
	REC_AUTH_USER,
	REC_RCPT,
	REC_END = 0xffff
};

enum rcpt_rec_type {
	RREC_ADDR = 1,
	RREC_ORCPT,
	RREC_NOTIFY,
	RREC_STATUS,
	RREC_ATTEMPTS,
	RREC_NEXT,
	RREC_ERROR
};

/* the records every envelope and every recipient must have */
#define ENV_REQUIRED	((1U << REC_ID) | (1U << REC_ARRIVAL) | \
	(1U << REC_SENDER) | (1U << REC_RET) | (1U << REC_BODY) | \
	(1U << REC_SMTPUTF8))
#define RCPT_REQUIRED	((1U << RREC_ADDR) | (1U << RREC_NOTIFY) | \
	(1U << RREC_STATUS) | (1U << RREC_ATTEMPTS) | (1U << RREC_NEXT))

static const struct queue_io default_io = { write, fsync, rename };
static struct queue_io io = { write, fsync, rename };

/* queue_set_io - replace the system calls (tests); NULL for the defaults */
void
queue_set_io(const struct queue_io *newio)
{
	io = newio == NULL ? default_io : *newio;
}

/* queue_set_str - replace a string field */
void
queue_set_str(char **field, const char *value)
{
	free(*field);
	*field = value == NULL ? NULL : xstrdup(value);
}

/* queue_env_new - an envelope without recipients */
struct queue_env *
queue_env_new(const char *id, int64_t arrival, const char *sender)
{
	struct queue_env *env;

	env = xcalloc(1, sizeof(*env));
	env->id = xstrdup(id);
	env->arrival = arrival;
	env->sender = xstrdup(sender);
	return env;
}

/* queue_env_free - free an envelope and its recipients */
void
queue_env_free(struct queue_env **envp)
{
	struct queue_env *env = *envp;
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; i < env->nrcpts; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].orcpt);
		free(env->rcpts[i].last_error);
	}
	free(env->rcpts);
	free(env->id);
	free(env->sender);
	free(env->envid);
	free(env->auth_user);
	free(env);
	*envp = NULL;
}

/* queue_env_add_rcpt - append a pending recipient */
struct queue_rcpt *
queue_env_add_rcpt(struct queue_env *env, const char *addr)
{
	struct queue_rcpt *r;

	env->rcpts = xreallocarray(env->rcpts, env->nrcpts + 1,
	    sizeof(*env->rcpts));
	r = &env->rcpts[env->nrcpts++];
	memset(r, 0, sizeof(*r));
	r->addr = xstrdup(addr);
	return r;
}

/* queue_id_valid - 1..QUEUE_ID_MAX of [A-Za-z0-9_-]: a safe file name */
bool
queue_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++) {
		char c = id[i];

		if (i == QUEUE_ID_MAX)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return i > 0;
}

/* queue_env_path - the envelope file of id */
char *
queue_env_path(const char *dir, const char *id)
{
	return xasprintf("%s/%s.env", dir, id);
}

/* queue_msg_path - the message file of id */
char *
queue_msg_path(const char *dir, const char *id)
{
	return xasprintf("%s/%s.msg", dir, id);
}

/* --- serialising --- */

/* put_u16 - big-endian 16 bits */
static void
put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* put_u32 - big-endian 32 bits */
static void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* put_u64 - big-endian 64 bits */
static void
put_u64(unsigned char *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v >> 32));
	put_u32(p + 4, (uint32_t)v);
}

/* rec - append one record */
static int
rec(struct buf *b, uint16_t type, const void *value, size_t len)
{
	unsigned char hdr[REC_HDR_LEN];

	if (len > UINT32_MAX)
		return -1;
	put_u16(hdr, type);
	put_u32(hdr + 2, (uint32_t)len);
	if (buf_append(b, hdr, sizeof(hdr)) < 0 ||
	    buf_append(b, value, len) < 0)
		return -1;
	return 0;
}

/* rec_u8 - a one-byte record */
static int
rec_u8(struct buf *b, uint16_t type, unsigned int v)
{
	unsigned char c = (unsigned char)v;

	return rec(b, type, &c, 1);
}

/* rec_u32 - a 32-bit record */
static int
rec_u32(struct buf *b, uint16_t type, uint32_t v)
{
	unsigned char p[4];

	put_u32(p, v);
	return rec(b, type, p, sizeof(p));
}

/* rec_u64 - a 64-bit record */
static int
rec_u64(struct buf *b, uint16_t type, uint64_t v)
{
	unsigned char p[8];

	put_u64(p, v);
	return rec(b, type, p, sizeof(p));
}

/* rec_str - a string record, without its NUL */
static int
rec_str(struct buf *b, uint16_t type, const char *s)
{
	return rec(b, type, s, strlen(s));
}

/* str_ok - a string field we are willing to store and to read back */
static bool
str_ok(const char *s, size_t len, bool may_be_empty)
{
	if (len == 0)
		return may_be_empty;
	return len <= QUEUE_STR_MAX && memchr(s, '\0', len) == NULL &&
	    str_is_printable_utf8(s, len);
}

/* env_check - the invariants parse enforces, checked before writing */
static int
env_check(const struct queue_env *env, char **error_r)
{
	const char *bad = NULL;
	size_t i;

	if (env->id == NULL || !queue_id_valid(env->id))
		bad = "bad queue id";
	else if (env->sender == NULL ||
	    !str_ok(env->sender, strlen(env->sender), true))
		bad = "bad sender";
	else if (env->envid != NULL &&
	    !str_ok(env->envid, strlen(env->envid), false))
		bad = "bad ENVID";
	else if (env->auth_user != NULL &&
	    !str_ok(env->auth_user, strlen(env->auth_user), false))
		bad = "bad authenticated user";
	else if ((unsigned int)env->ret > QUEUE_RET_HDRS)
		bad = "bad RET";
	else if ((unsigned int)env->body > QUEUE_BODY_BINARYMIME)
		bad = "bad BODY";
	else if (env->nrcpts == 0 || env->nrcpts > QUEUE_RCPTS_MAX)
		bad = "bad recipient count";
	for (i = 0; bad == NULL && i < env->nrcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];

		if (r->addr == NULL || !str_ok(r->addr, strlen(r->addr), false))
			bad = "bad recipient address";
		else if (r->orcpt != NULL &&
		    !str_ok(r->orcpt, strlen(r->orcpt), false))
			bad = "bad ORCPT";
		else if (r->last_error != NULL &&
		    !str_ok(r->last_error, strlen(r->last_error), false))
			bad = "bad last error";
		else if (r->notify > 0x0f)
			bad = "bad NOTIFY";
		else if ((unsigned int)r->status > QUEUE_RCPT_DEFERRED)
			bad = "bad recipient status";
	}
	if (bad != NULL) {
		*error_r = xasprintf("queue envelope %s: %s",
		    env->id != NULL && queue_id_valid(env->id) ? env->id : "?",
		    bad);
		return -1;
	}
	return 0;
}

/* rcpt_serialize - one recipient's sub-records into b */
static int
rcpt_serialize(const struct queue_rcpt *r, struct buf *b)
{
	if (rec_str(b, RREC_ADDR, r->addr) < 0 ||
	    (r->orcpt != NULL && rec_str(b, RREC_ORCPT, r->orcpt) < 0) ||
	    rec_u8(b, RREC_NOTIFY, r->notify) < 0 ||
	    rec_u8(b, RREC_STATUS, (unsigned int)r->status) < 0 ||
	    rec_u32(b, RREC_ATTEMPTS, r->attempts) < 0 ||
	    rec_u64(b, RREC_NEXT, (uint64_t)r->next_attempt) < 0 ||
	    (r->last_error != NULL &&
	    rec_str(b, RREC_ERROR, r->last_error) < 0))
		return -1;
	return 0;
}

/* queue_env_serialize - the envelope in the file format, appended to out */
int
queue_env_serialize(const struct queue_env *env, struct buf *out,
    char **error_r)
{
	struct buf b, sub;
	unsigned char hdr[HEADER_LEN], end[END_LEN];
	uLong crc;
	size_t i;
	int r = 0;

	if (env_check(env, error_r) < 0)
		return -1;
	buf_init(&b, QUEUE_ENV_MAX);
	memcpy(hdr, QUEUE_MAGIC, 4);
	put_u16(hdr + 4, QUEUE_VERSION);
	put_u16(hdr + 6, 0);
	if (buf_append(&b, hdr, sizeof(hdr)) < 0 ||
	    rec_str(&b, REC_ID, env->id) < 0 ||
	    rec_u64(&b, REC_ARRIVAL, (uint64_t)env->arrival) < 0 ||
	    rec_str(&b, REC_SENDER, env->sender) < 0 ||
	    (env->envid != NULL && rec_str(&b, REC_ENVID, env->envid) < 0) ||
	    rec_u8(&b, REC_RET, (unsigned int)env->ret) < 0 ||
	    rec_u8(&b, REC_BODY, (unsigned int)env->body) < 0 ||
	    rec_u8(&b, REC_SMTPUTF8, env->smtputf8 ? 1 : 0) < 0 ||
	    (env->auth_user != NULL &&
	    rec_str(&b, REC_AUTH_USER, env->auth_user) < 0))
		r = -1;
	for (i = 0; r == 0 && i < env->nrcpts; i++) {
		buf_init(&sub, QUEUE_ENV_MAX);
		if (rcpt_serialize(&env->rcpts[i], &sub) < 0 ||
		    rec(&b, REC_RCPT, buf_ptr(&sub), buf_avail(&sub)) < 0)
			r = -1;
		buf_deinit(&sub);
	}
	if (r == 0) {
		put_u16(end, REC_END);
		put_u32(end + 2, 4);
		if (buf_append(&b, end, REC_HDR_LEN) < 0) {
			r = -1;
		} else {
			/* buf_avail(&b) <= QUEUE_ENV_MAX fits a uInt */
			crc = crc32(0L, (const Bytef *)buf_ptr(&b),
			    (uInt)buf_avail(&b));
			put_u32(end + REC_HDR_LEN, (uint32_t)crc);
			r = buf_append(&b, end + REC_HDR_LEN, 4);
		}
	}
	if (r == 0)
		r = buf_append(out, buf_ptr(&b), buf_avail(&b));
	buf_deinit(&b);
	if (r < 0)
		*error_r = xasprintf("queue envelope %s: too large", env->id);
	return r;
}

/* --- parsing --- */

struct reader {
	const unsigned char *p;
	size_t	 len;
	size_t	 pos;
	size_t	 base;		/* offset of p in the file, for messages */
};

/* get_u16 - big-endian 16 bits */
static uint16_t
get_u16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* get_u32 - big-endian 32 bits */
static uint32_t
get_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* get_u64 - big-endian 64 bits */
static uint64_t
get_u64(const unsigned char *p)
{
	return ((uint64_t)get_u32(p) << 32) | get_u32(p + 4);
}

/* next_rec - the next record of rd; 0, 1 at the end, -1 if truncated */
static int
next_rec(struct reader *rd, uint16_t *type_r, const unsigned char **val_r,
    size_t *len_r, char **error_r)
{
	uint32_t n;

	if (rd->pos == rd->len)
		return 1;
	if (rd->len - rd->pos < REC_HDR_LEN) {
		*error_r = xasprintf("truncated record header at offset %zu",
		    rd->base + rd->pos);
		return -1;
	}
	*type_r = get_u16(rd->p + rd->pos);
	n = get_u32(rd->p + rd->pos + 2);
	/* compared as a difference: pos + n could overflow on 32 bits */
	if (n > rd->len - rd->pos - REC_HDR_LEN) {
		*error_r = xasprintf("record at offset %zu overruns its "
		    "container", rd->base + rd->pos);
		return -1;
	}
	*val_r = rd->p + rd->pos + REC_HDR_LEN;
	*len_r = n;
	rd->pos += REC_HDR_LEN + n;
	return 0;
}

/* get_str - a string value, copied; -1 if it is not one */
static int
get_str(const unsigned char *v, size_t len, bool may_be_empty, char **r)
{
	if (!str_ok((const char *)v, len, may_be_empty))
		return -1;
	free(*r);
	*r = xstrndup((const char *)v, len);
	return 0;
}

/* get_fixed - an integer value of exactly n bytes */
static int
get_fixed(const unsigned char *v, size_t len, size_t n, uint64_t *r)
{
	if (len != n)
		return -1;
	switch (n) {
	case 1:
		*r = v[0];
		break;
	case 4:
		*r = get_u32(v);
		break;
	default:
		*r = get_u64(v);
		break;
	}
	return 0;
}

/* parse_rcpt - one recipient record's sub-records */
static int
parse_rcpt(struct queue_env *env, const unsigned char *v, size_t len,
    size_t base, char **error_r)
{
	struct reader rd = { v, len, 0, base };
	struct queue_rcpt *r;
	const unsigned char *val;
	size_t vlen, at;
	unsigned int seen = 0;
	uint16_t type;
	uint64_t n = 0;
	int ret, bad;

	if (env->nrcpts == QUEUE_RCPTS_MAX) {
		*error_r = xasprintf("too many recipients at offset %zu", base);
		return -1;
	}
	r = queue_env_add_rcpt(env, "");
	while ((ret = next_rec(&rd, &type, &val, &vlen, error_r)) == 0) {
		at = base + rd.pos - vlen - REC_HDR_LEN;
		if (type < 32 && (seen & (1U << type)) != 0) {
			*error_r = xasprintf("duplicate recipient record %u at "
			    "offset %zu", type, at);
			return -1;
		}
		bad = 0;
		switch (type) {
		case RREC_ADDR:
			bad = get_str(val, vlen, false, &r->addr);
			break;
		case RREC_ORCPT:
			bad = get_str(val, vlen, false, &r->orcpt);
			break;
		case RREC_ERROR:
			bad = get_str(val, vlen, false, &r->last_error);
			break;
		case RREC_NOTIFY:
			bad = get_fixed(val, vlen, 1, &n) < 0 || n > 0x0f;
			r->notify = (unsigned int)n;
			break;
		case RREC_STATUS:
			bad = get_fixed(val, vlen, 1, &n) < 0 ||
			    n > QUEUE_RCPT_DEFERRED;
			r->status = (enum queue_status)n;
			break;
		case RREC_ATTEMPTS:
			bad = get_fixed(val, vlen, 4, &n);
			r->attempts = (uint32_t)n;
			break;
		case RREC_NEXT:
			bad = get_fixed(val, vlen, 8, &n);
			r->next_attempt = (int64_t)n;
			break;
		default:
			*error_r = xasprintf("unknown recipient record %u at "
			    "offset %zu", type, at);
			return -1;
		}
		if (bad) {
			*error_r = xasprintf("bad recipient record %u at "
			    "offset %zu", type, at);
			return -1;
		}
		seen |= 1U << type;
	}
	if (ret < 0)
		return -1;
	if ((seen & RCPT_REQUIRED) != RCPT_REQUIRED) {
		*error_r = xasprintf("incomplete recipient at offset %zu",
		    base);
		return -1;
	}
	return 0;
}

/* parse_records - the top-level records between header and end record */
static int
parse_records(struct queue_env *env, const unsigned char *data, size_t len,
    char **error_r)
{
	struct reader rd = { data, len, HEADER_LEN, 0 };
	const unsigned char *val;
	size_t vlen, at;
	unsigned int seen = 0;
	uint16_t type;
	uint64_t n = 0;
	int ret, bad;

	while ((ret = next_rec(&rd, &type, &val, &vlen, error_r)) == 0) {
		at = rd.pos - vlen - REC_HDR_LEN;
		if (type != REC_RCPT && type < 32 &&
		    (seen & (1U << type)) != 0) {
			*error_r = xasprintf("duplicate record %u at "
			    "offset %zu", type, at);
			return -1;
		}
		bad = 0;
		switch (type) {
		case REC_ID:
			bad = get_str(val, vlen, false, &env->id) < 0 ||
			    !queue_id_valid(env->id);
			break;
		case REC_ARRIVAL:
			bad = get_fixed(val, vlen, 8, &n);
			env->arrival = (int64_t)n;
			break;
		case REC_SENDER:
			bad = get_str(val, vlen, true, &env->sender);
			break;
		case REC_ENVID:
			bad = get_str(val, vlen, false, &env->envid);
			break;
		case REC_AUTH_USER:
			bad = get_str(val, vlen, false, &env->auth_user);
			break;
		case REC_RET:
			bad = get_fixed(val, vlen, 1, &n) < 0 ||
			    n > QUEUE_RET_HDRS;
			env->ret = (enum queue_ret)n;
			break;
		case REC_BODY:
			bad = get_fixed(val, vlen, 1, &n) < 0 ||
			    n > QUEUE_BODY_BINARYMIME;
			env->body = (enum queue_body)n;
			break;
		case REC_SMTPUTF8:
			bad = get_fixed(val, vlen, 1, &n) < 0 || n > 1;
			env->smtputf8 = n == 1;
			break;
		case REC_RCPT:
			if (parse_rcpt(env, val, vlen, at + REC_HDR_LEN,
			    error_r) < 0)
				return -1;
			break;
		default:
			*error_r = xasprintf("unknown record %u at offset %zu",
			    type, at);
			return -1;
		}
		if (bad) {
			*error_r = xasprintf("bad record %u at offset %zu",
			    type, at);
			return -1;
		}
		seen |= 1U << type;
	}
	if (ret < 0)
		return -1;
	if ((seen & ENV_REQUIRED) != ENV_REQUIRED || env->nrcpts == 0) {
		*error_r = xstrdup("required records missing");
		return -1;
	}
	return 0;
}

/* queue_env_parse - check and parse a serialised envelope */
int
queue_env_parse(const void *data, size_t len, struct queue_env **env_r,
    char **error_r)
{
	const unsigned char *p = data;
	struct queue_env *env;
	uint16_t version;

	*env_r = NULL;
	if (len < HEADER_LEN + END_LEN) {
		*error_r = xasprintf("truncated: %zu bytes", len);
		return -1;
	}
	if (len > QUEUE_ENV_MAX) {
		*error_r = xasprintf("too large: %zu bytes", len);
		return -1;
	}
	if (memcmp(p, QUEUE_MAGIC, 4) != 0) {
		*error_r = xstrdup("not a queue envelope (bad magic)");
		return -1;
	}
	version = get_u16(p + 4);
	if (version != QUEUE_VERSION || get_u16(p + 6) != 0) {
		*error_r = xasprintf("unsupported version %u", version);
		return -1;
	}
	/* the end record must be the last END_LEN bytes */
	if (get_u16(p + len - END_LEN) != REC_END ||
	    get_u32(p + len - END_LEN + 2) != 4) {
		*error_r = xstrdup("end record missing (torn write?)");
		return -1;
	}
	/* len <= QUEUE_ENV_MAX fits a uInt */
	if (crc32(0L, p, (uInt)(len - 4)) != get_u32(p + len - 4)) {
		*error_r = xstrdup("CRC mismatch");
		return -1;
	}
	env = xcalloc(1, sizeof(*env));
	if (parse_records(env, p, len - END_LEN, error_r) < 0) {
		queue_env_free(&env);
		return -1;
	}
	*env_r = env;
	return 0;
}

/* --- files --- */

/* write_all - write every byte through sys->write, retrying short writes */
static int
write_all(const struct queue_io *sys, int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = sys->write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync_dir - make the entries of dir durable, through sys->fsync */
static int
fsync_dir(const struct queue_io *sys, const char *dir)
{
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = sys->fsync(fd);
	if (close(fd) < 0)
		r = -1;
	return r;
}

/*
 * write_file - a new file with p[0..n) in it, fsynced and closed, through
 * sys; on failure the file is removed (unless open found it there: then
 * it is somebody else's and errno is EEXIST; a later failure never leaves
 * errno EEXIST) and *error_r says "call(path): why"
 */
static int
write_file(const struct queue_io *sys, const char *path, const void *p,
    size_t n, char **error_r)
{
	const char *what;
	int fd, r, saved;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		saved = errno;
		*error_r = xasprintf("open(%s): %s", path, strerror(saved));
		if (saved != EEXIST)
			unlink(path);
		errno = saved;
		return -1;
	}
	if (write_all(sys, fd, p, n) < 0) {
		what = "write";
		goto fail;
	}
	if (sys->fsync(fd) < 0) {
		what = "fsync";
		goto fail;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		what = "close";
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	*error_r = xasprintf("%s(%s): %s", what, path, strerror(saved));
	if (fd >= 0)
		close(fd);
	unlink(path);
	errno = saved == EEXIST ? EIO : saved;
	return -1;
}

/* queue_fsync_dir - make the renames, links and unlinks in dir durable */
int
queue_fsync_dir(const char *dir)
{
	return fsync_dir(&default_io, dir);
}

/* queue_write_file - a new file, written whole, fsynced and closed */
int
queue_write_file(const char *path, const void *p, size_t n, char **error_r)
{
	return write_file(&default_io, path, p, n, error_r);
}

/* queue_env_write - write the envelope durably under <dir>/<id>.env */
int
queue_env_write(const char *dir, const struct queue_env *env, char **error_r)
{
	struct buf b;
	char *path = NULL, *tmp = NULL;
	int r = -1;

	buf_init(&b, QUEUE_ENV_MAX);
	if (queue_env_serialize(env, &b, error_r) < 0)
		goto out;
	path = queue_env_path(dir, env->id);
	tmp = xasprintf("%s.tmp", path);
	/* a stale tmp file is a previous attempt that crashed */
	if (unlink(tmp) < 0 && errno != ENOENT) {
		*error_r = xasprintf("unlink(%s): %s", tmp, strerror(errno));
		goto out;
	}
	if (write_file(&io, tmp, buf_ptr(&b), buf_avail(&b), error_r) < 0)
		goto out;
	if (io.rename(tmp, path) < 0) {
		*error_r = xasprintf("rename(%s): %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (fsync_dir(&io, dir) < 0) {
		/* the new file is in place but maybe not durable: report it */
		*error_r = xasprintf("fsync(%s): %s", dir, strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(path);
	free(tmp);
	buf_deinit(&b);
	return r;
}

/* queue_env_read - read and parse one envelope file */
int
queue_env_read(const char *path, struct queue_env **env_r, char **error_r)
{
	struct stat st;
	char *data, *err = NULL;
	size_t got = 0;
	ssize_t n = 0;
	int fd, r;

	*env_r = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = xasprintf("open(%s): %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*error_r = xasprintf("fstat(%s): %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > QUEUE_ENV_MAX) {
		*error_r = xasprintf("%s: not a regular file of at most %d "
		    "bytes", path, QUEUE_ENV_MAX);
		close(fd);
		return -1;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (n < 0) {
		*error_r = xasprintf("read(%s): %s", path, strerror(errno));
		free(data);
		close(fd);
		return -1;
	}
	close(fd);
	r = queue_env_parse(data, got, env_r, &err);
	if (r < 0) {
		*error_r = xasprintf("%s: %s", path, err);
		free(err);
	}
	free(data);
	return r;
}
