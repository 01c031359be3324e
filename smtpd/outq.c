/* outq.c - the outbound queue: directory, runner, retries, notices */
#include "config.h"

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "queue.h"
#include "str.h"
#include "workers.h"
#include "xmalloc.h"

#include "bounce.h"
#include "outq.h"
#include "relay_client.h"
#include "smtp_addr.h"
#include "smtp_local.h"

/* destination keys besides domain names (which never start with '[' and
 * ']' unless they are address literals, "[192.0.2.1]") */
#define DEST_LOCAL	"[local]"
#define DEST_RELAY	"[relay]"
#define DEST_BAD	"[bad address]"

#define ENQUEUE_TRIES	5

/* a snapshot of [queue]; running jobs keep theirs across a reload */
struct outq_conf {
	atomic_uint	 refs;
	int64_t		 retry_min, retry_max;		/* seconds */
	int64_t		 lifetime, delay_warning;	/* seconds */
	uint64_t	 bounce_size_limit;
	unsigned int	 dest_concurrency;
	char		*relay_host;	/* NULL: MX delivery */
	unsigned int	 relay_port;
	char		*relay_user;
	char		*relay_password;
	char		*helo;
	struct relay_settings relay;	/* points into the strings above */
};

enum outq_after {
	AFTER_NONE = 0,
	AFTER_DELETE,
	AFTER_HOLD
};

/* one queued message, as the runner sees it */
struct outq_msg {
	char		*id;
	struct queue_env *env;	/* the last state written (stale while
				 * its attempt runs) */
	char		**dests;	/* per recipient; NULL when final */
	uint64_t	 size;
	bool		 held;
	bool		 running;
	enum outq_after	 after;
};

/* attempts running to one destination */
struct outq_dest {
	char		*key;
	unsigned int	 active;
};

/* a message enqueued by some thread, on its way to the runner */
struct outq_incoming {
	struct outq_incoming *next;
	struct queue_env *env;
	uint64_t	 size;
};

/* one delivery attempt: a message and one of its destinations */
struct outq_job {
	struct outq_job	*next;		/* q->jobs */
	struct outq	*q;
	struct outq_conf *conf;
	struct worker_queue *lane;
	char		*id;
	char		*dest;
	/* results, for the loop */
	struct queue_env *env;		/* the new state; NULL when gone */
	bool		 keep;		/* files unreadable for now: the old
					 * state stands, try again later */
};

struct outq {
	struct event_base *base;
	struct workers	*workers;	/* borrowed, see outq.h */
	struct smtp_local *local;
	char		*dir, *hold_dir, *tmp_dir, *corrupt_dir;
	unsigned int	 max_deliveries;
	struct outq_conf *conf;
	struct workers	*pool;
	int		 cancel_fd;	/* written once at outq_free */
	bool		 stopping;

	/* the runner: loop thread only */
	struct outq_msg	**msgs;
	size_t		 nmsgs, msgs_cap;
	struct outq_dest *dests;
	size_t		 ndests;
	unsigned int	 active;
	struct outq_job	*jobs;
	struct event	*timer, *runev, *wakeev;

	/* enqueue: any thread */
	pthread_mutex_t	 lock;
	struct outq_incoming *incoming;
	int		 wake_fd;
	atomic_uint	 counter;
};

/* --- settings --- */

/* conf_unref - drop a reference to a settings snapshot */
static void
conf_unref(struct outq_conf **cp)
{
	struct outq_conf *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	free(c->relay_host);
	free(c->relay_user);
	if (c->relay_password != NULL) {
		wipe(c->relay_password, strlen(c->relay_password));
		free(c->relay_password);
	}
	free(c->helo);
	free(c);
}

/* read_password - the first line of a file, caller wipes and frees */
static char *
read_password(const char *path, char **error_r)
{
	char buf[1024];
	size_t n;
	FILE *fp;

	fp = fopen(path, "re");
	if (fp == NULL) {
		*error_r = xasprintf("relay_password_file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0) {
		*error_r = xasprintf("relay_password_file %s: empty", path);
		return NULL;
	}
	{
		char *p = xstrdup(buf);

		wipe(buf, sizeof(buf));
		return p;
	}
}

/* conf_new - a snapshot of [queue]; -1 with an error on bad values */
static int
conf_new(const struct conf *cf, struct outq_conf **c_r, char **error_r)
{
	struct outq_conf *c;
	const char *s, *err, *pwfile;
	char host[SMTP_ADDR_DOMAIN_MAX + 1], sysname[256];

	c = xcalloc(1, sizeof(*c));
	atomic_init(&c->refs, 1);
	c->retry_min = (int64_t)(conf_duration_ms(cf, "queue", "retry_min") /
	    1000);
	c->retry_max = (int64_t)(conf_duration_ms(cf, "queue", "retry_max") /
	    1000);
	if (c->retry_max < c->retry_min)
		c->retry_max = c->retry_min;
	c->lifetime = (int64_t)(conf_duration_ms(cf, "queue", "lifetime") /
	    1000);
	c->delay_warning = (int64_t)(conf_duration_ms(cf, "queue",
	    "delay_warning") / 1000);
	c->bounce_size_limit = conf_size(cf, "queue", "bounce_size_limit");
	c->dest_concurrency = (unsigned int)conf_uint(cf, "queue",
	    "destination_concurrency");
	s = conf_str(cf, "queue", "relay_host");
	if (s[0] != '\0') {
		if (relay_parse_hostport(s, host, sizeof(host),
		    &c->relay_port, &err) < 0) {
			*error_r = xasprintf("[queue] relay_host %s: %s", s,
			    err);
			conf_unref(&c);
			return -1;
		}
		c->relay_host = xstrdup(host);
	}
	s = conf_str(cf, "queue", "relay_user");
	if (s[0] != '\0') {
		pwfile = conf_str(cf, "queue", "relay_password_file");
		if (pwfile[0] == '\0') {
			*error_r = xstrdup("[queue] relay_user needs "
			    "relay_password_file");
			conf_unref(&c);
			return -1;
		}
		c->relay_password = read_password(pwfile, error_r);
		if (c->relay_password == NULL) {
			conf_unref(&c);
			return -1;
		}
		c->relay_user = xstrdup(s);
	}
	s = conf_str(cf, "queue", "helo_name");
	if (s[0] == '\0')
		s = conf_str(cf, "global", "hostname");
	if (s[0] == '\0') {
		if (gethostname(sysname, sizeof(sysname)) < 0)
			(void)str_copy(sysname, sizeof(sysname), "localhost");
		sysname[sizeof(sysname) - 1] = '\0';
		s = sysname;
	}
	c->helo = xstrdup(s);
	c->relay.helo_name = c->helo;
	c->relay.tls = strcmp(conf_str(cf, "queue", "tls"), "encrypt") == 0 ?
	    RELAY_TLS_ENCRYPT : RELAY_TLS_MAY;
	c->relay.auth_user = c->relay_user;
	c->relay.auth_password = c->relay_password;
	c->relay.connect_timeout_ms = conf_duration_ms(cf, "queue",
	    "connect_timeout");
	c->relay.command_timeout_ms = conf_duration_ms(cf, "queue",
	    "command_timeout");
	c->relay.data_init_timeout_ms = conf_duration_ms(cf, "queue",
	    "data_init_timeout");
	c->relay.data_block_timeout_ms = conf_duration_ms(cf, "queue",
	    "data_block_timeout");
	c->relay.data_done_timeout_ms = conf_duration_ms(cf, "queue",
	    "data_done_timeout");
	c->relay.max_rcpts = (unsigned int)conf_uint(cf, "queue",
	    "rcpts_per_transaction");
	c->relay.cancel_fd = -1;
	*c_r = c;
	return 0;
}

/* --- small helpers --- */

/* outq_retry_delay - back-off after the attempts-th failure */
uint64_t
outq_retry_delay(uint64_t retry_min, uint64_t retry_max, uint32_t attempts)
{
	uint64_t d = retry_min;
	uint32_t i;

	if (retry_max < retry_min)
		retry_max = retry_min;
	for (i = 1; i < attempts && d < retry_max; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	return d < retry_max ? d : retry_max;
}

/* rcpt_final - delivered or failed for good */
static bool
rcpt_final(const struct queue_rcpt *r)
{
	return r->status == QUEUE_RCPT_DELIVERED ||
	    r->status == QUEUE_RCPT_FAILED;
}

/* wants - whether a recipient asked for notices of kind (RFC 3461 4.1;
 * no NOTIFY means FAILURE,DELAY) */
static bool
wants(const struct queue_rcpt *r, unsigned int kind)
{
	if (r->notify & QUEUE_NOTIFY_NEVER)
		return false;
	if (r->notify == 0)
		return kind != QUEUE_NOTIFY_SUCCESS;
	return (r->notify & kind) != 0;
}

/* mkdir_0700 - a queue directory and its missing parents */
static int
mkdir_0700(const char *path, char **error_r)
{
	if (path[0] == '\0') {
		*error_r = xstrdup("[queue] dir is empty");
		return -1;
	}
	return daemon_mkdirs(path, 0700, error_r);
}

/* file_path - "<dir>/<id><suffix>", caller frees */
static char *
file_path(const char *dir, const char *id, const char *suffix)
{
	return xasprintf("%s/%s%s", dir, id, suffix);
}

/* rcpt_dest - the destination key of a recipient, caller frees */
static char *
rcpt_dest(const struct outq *q, const struct outq_conf *c, const char *addr)
{
	struct smtp_addr a;
	enum smtp_addr_err err;

	if (smtp_addr_parse_mailbox(addr, strlen(addr), SMTP_ADDR_F_UTF8, &a,
	    &err) < 0 || a.kind != SMTP_ADDR_MAILBOX)
		return xstrdup(DEST_BAD);
	if (q->local != NULL && !a.literal &&
	    smtp_local_is_local_domain(q->local, a.domain_lc))
		return xstrdup(DEST_LOCAL);
	if (c->relay_host != NULL)
		return xstrdup(DEST_RELAY);
	return xstrdup(a.domain_lc);
}

/* --- enqueue (any thread) --- */

/* make_id - a new queue id: microseconds and a counter, in hex */
static void
make_id(struct outq *q, char *id, size_t idsize)
{
	struct timespec ts;
	uint64_t us;
	unsigned int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	n = atomic_fetch_add(&q->counter, 1);
	snprintf(id, idsize, "%013" PRIX64 "%05X", us, n & 0xfffff);
}

/* env_copy - a deep copy through the file format */
static struct queue_env *
env_copy(const struct queue_env *env)
{
	struct queue_env *copy = NULL;
	struct buf b;
	char *err = NULL;

	buf_init(&b, 0);
	if (queue_env_serialize(env, &b, &err) < 0 ||
	    queue_env_parse(buf_ptr(&b), buf_avail(&b), &copy, &err) < 0)
		panic("queue envelope copy: %s", err);
	buf_deinit(&b);
	return copy;
}

/* write_msg - the message file: tmp, fsync, link into place; -1 with
 * errno EEXIST when the id is taken */
static int
write_msg(struct outq *q, const char *id, const char *msg, size_t len,
    char **error_r)
{
	char *tmp, *path, *err = NULL;
	int r = -1, saved;

	tmp = file_path(q->tmp_dir, id, ".msg");
	path = file_path(q->dir, id, ".msg");
	if (queue_write_file(tmp, msg, len, &err) < 0) {
		/* EEXIST: a tmp file has this id already, try another */
		saved = errno;
		if (saved == EEXIST)
			free(err);
		else
			*error_r = err;
		errno = saved;
		goto out;
	}
	/* link, not rename: an id that exists already is never replaced */
	if (link(tmp, path) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		r = -1;
		if (errno == EEXIST)
			goto out;
		*error_r = xasprintf("link(%s): %s", path, strerror(errno));
		goto out;
	}
	unlink(tmp);
	if (queue_fsync_dir(q->dir) < 0) {
		*error_r = xasprintf("fsync(%s): %s", q->dir, strerror(errno));
		unlink(path);
		errno = EIO;
		r = -1;
		goto out;
	}
	r = 0;
out:
	free(tmp);
	free(path);
	return r;
}

/* outq_enqueue - durable message and envelope, then wake the runner */
int
outq_enqueue(struct outq *q, const char *msg, size_t len,
    struct queue_env *env, char **error_r)
{
	struct outq_incoming *in;
	char id[QUEUE_ID_MAX + 1], *err = NULL, *path;
	uint64_t one = 1;
	int tries;

	for (tries = 0; tries < ENQUEUE_TRIES; tries++) {
		make_id(q, id, sizeof(id));
		errno = 0;
		if (write_msg(q, id, msg, len, &err) == 0)
			break;
		if (errno != EEXIST || err != NULL) {
			*error_r = err != NULL ? err :
			    xasprintf("queue %s: %s", id, strerror(errno));
			return -1;
		}
	}
	if (tries == ENQUEUE_TRIES) {
		*error_r = xstrdup("queue: no free id");
		return -1;
	}
	queue_set_str(&env->id, id);
	if (env->arrival == 0)
		env->arrival = (int64_t)time(NULL);
	if (queue_env_write(q->dir, env, &err) < 0) {
		path = file_path(q->dir, id, ".msg");
		unlink(path);
		free(path);
		*error_r = err;
		return -1;
	}
	in = xcalloc(1, sizeof(*in));
	in->env = env_copy(env);
	in->size = len;
	pthread_mutex_lock(&q->lock);
	in->next = q->incoming;
	q->incoming = in;
	pthread_mutex_unlock(&q->lock);
	if (write(q->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("queue: eventfd write");
	return 0;
}

/* --- the runner's table (loop thread) --- */

/* msg_find - a message by id, or NULL */
static struct outq_msg *
msg_find(const struct outq *q, const char *id)
{
	size_t i;

	for (i = 0; i < q->nmsgs; i++)
		if (strcmp(q->msgs[i]->id, id) == 0)
			return q->msgs[i];
	return NULL;
}

/* msg_dests - recompute every waiting recipient's destination */
static void
msg_dests(struct outq *q, struct outq_msg *m)
{
	size_t i;

	if (m->dests != NULL) {
		for (i = 0; i < m->env->nrcpts; i++)
			free(m->dests[i]);
		free(m->dests);
	}
	m->dests = xcalloc(m->env->nrcpts, sizeof(*m->dests));
	for (i = 0; i < m->env->nrcpts; i++)
		if (!rcpt_final(&m->env->rcpts[i]))
			m->dests[i] = rcpt_dest(q, q->conf,
			    m->env->rcpts[i].addr);
}

/* msg_set_env - a new state for m (takes env) */
static void
msg_set_env(struct outq *q, struct outq_msg *m, struct queue_env *env)
{
	size_t i;

	if (m->dests != NULL) {
		for (i = 0; i < m->env->nrcpts; i++)
			free(m->dests[i]);
		free(m->dests);
		m->dests = NULL;
	}
	queue_env_free(&m->env);
	m->env = env;
	msg_dests(q, m);
}

/* msg_add - a message into the table (takes env) */
static struct outq_msg *
msg_add(struct outq *q, struct queue_env *env, uint64_t size, bool held)
{
	struct outq_msg *m;

	m = xcalloc(1, sizeof(*m));
	m->id = xstrdup(env->id);
	m->size = size;
	m->held = held;
	msg_set_env(q, m, env);
	if (q->nmsgs == q->msgs_cap) {
		q->msgs_cap = q->msgs_cap == 0 ? 64 : q->msgs_cap * 2;
		q->msgs = xreallocarray(q->msgs, q->msgs_cap,
		    sizeof(*q->msgs));
	}
	q->msgs[q->nmsgs++] = m;
	return m;
}

/* msg_free - one message's memory */
static void
msg_free(struct outq_msg *m)
{
	size_t i;

	if (m->dests != NULL)
		for (i = 0; i < m->env->nrcpts; i++)
			free(m->dests[i]);
	free(m->dests);
	queue_env_free(&m->env);
	free(m->id);
	free(m);
}

/* msg_remove - out of the table, keeping the order of the rest */
static void
msg_remove(struct outq *q, struct outq_msg *m)
{
	size_t i;

	for (i = 0; i < q->nmsgs; i++) {
		if (q->msgs[i] != m)
			continue;
		memmove(&q->msgs[i], &q->msgs[i + 1],
		    (q->nmsgs - i - 1) * sizeof(*q->msgs));
		q->nmsgs--;
		break;
	}
	msg_free(m);
}

/* dest_get - the counter of a destination, made on first use */
static struct outq_dest *
dest_get(struct outq *q, const char *key)
{
	size_t i;

	for (i = 0; i < q->ndests; i++)
		if (strcmp(q->dests[i].key, key) == 0)
			return &q->dests[i];
	q->dests = xreallocarray(q->dests, q->ndests + 1, sizeof(*q->dests));
	q->dests[q->ndests].key = xstrdup(key);
	q->dests[q->ndests].active = 0;
	return &q->dests[q->ndests++];
}

/* dest_release - one attempt to key less; idle counters go */
static void
dest_release(struct outq *q, const char *key)
{
	size_t i;

	for (i = 0; i < q->ndests; i++) {
		if (strcmp(q->dests[i].key, key) != 0)
			continue;
		if (--q->dests[i].active == 0) {
			free(q->dests[i].key);
			q->dests[i] = q->dests[--q->ndests];
		}
		return;
	}
}

/* schedule_run - run the runner soon, once however often asked */
static void
schedule_run(struct outq *q)
{
	if (!q->stopping)
		event_active(q->runev, EV_TIMEOUT, 1);
}

/* --- files of one message (loop thread, and the worker of its job) --- */

/* quarantine - move a message's files to corrupt/ */
static void
quarantine(const struct outq *q, const char *dir, const char *id)
{
	const char *sfx[2] = { ".env", ".msg" };
	char *from, *to;
	int i;

	for (i = 0; i < 2; i++) {
		from = file_path(dir, id, sfx[i]);
		to = file_path(q->corrupt_dir, id, sfx[i]);
		if (rename(from, to) < 0 && errno != ENOENT)
			log_warn("queue %s: rename(%s, %s)", id, from, to);
		free(from);
		free(to);
	}
}

/* remove_files - envelope first (the commit point), then the message */
static int
remove_files(const char *dir, const char *id)
{
	char *env = file_path(dir, id, ".env");
	char *msg = file_path(dir, id, ".msg");
	int r = 0;

	if (unlink(env) < 0 && errno != ENOENT) {
		log_warn("queue %s: unlink(%s)", id, env);
		r = -1;
	} else if (unlink(msg) < 0 && errno != ENOENT) {
		/* an orphan message file goes at the next start */
		log_warn("queue %s: unlink(%s)", id, msg);
	}
	free(env);
	free(msg);
	return r;
}

/*
 * move_files - a message from one directory to the other: the message is
 * linked first, the envelope renamed (the commit point), then the old
 * message link removed.  After a crash, start-up finds the envelope and
 * makes the message follow it.
 */
static int
move_files(const char *from, const char *to, const char *id)
{
	char *mf = file_path(from, id, ".msg"), *mt = file_path(to, id, ".msg");
	char *ef = file_path(from, id, ".env"), *et = file_path(to, id, ".env");
	int r = -1;

	if (link(mf, mt) < 0) {
		if (errno != EEXIST || unlink(mt) < 0 || link(mf, mt) < 0) {
			log_warn("queue %s: link(%s, %s)", id, mf, mt);
			goto out;
		}
	}
	if (rename(ef, et) < 0) {
		log_warn("queue %s: rename(%s, %s)", id, ef, et);
		unlink(mt);
		goto out;
	}
	if (queue_fsync_dir(to) < 0)
		log_warn("queue %s: fsync(%s)", id, to);
	if (unlink(mf) < 0)
		log_warn("queue %s: unlink(%s)", id, mf);
	if (queue_fsync_dir(from) < 0)
		log_warn("queue %s: fsync(%s)", id, from);
	r = 0;
out:
	free(mf);
	free(mt);
	free(ef);
	free(et);
	return r;
}

/* --- one attempt (worker thread) --- */

/* the map of a message file */
struct msg_map {
	char	*p;
	size_t	 len;
};

/* map_msg - the message file read-only in memory */
static int
map_msg(const struct outq *q, const char *id, struct msg_map *mm)
{
	struct stat st;
	char *path = file_path(q->dir, id, ".msg");
	void *p;
	int fd;

	mm->p = NULL;
	mm->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_warn("queue %s: open(%s)", id, path);
		if (fd >= 0)
			close(fd);
		free(path);
		return -1;
	}
	free(path);
	if (st.st_size == 0) {
		close(fd);
		mm->p = xstrdup("");
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		log_warn("queue %s: mmap", id);
		return -1;
	}
	mm->p = p;
	mm->len = (size_t)st.st_size;
	return 0;
}

/* unmap_msg - release a map_msg() */
static void
unmap_msg(struct msg_map *mm)
{
	if (mm->p == NULL)
		return;
	if (mm->len == 0)
		free(mm->p);
	else
		munmap(mm->p, mm->len);
	mm->p = NULL;
}

/* unreadable - why path could not be read: 0 it can be (so its content
 * is the trouble), 1 it does not exist, -1 something passing (EMFILE,
 * ENOMEM, EIO...) */
static int
unreadable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == ENOENT ? 1 : -1;
}

/* deliver_local - each selected recipient through smtp_local_deliver() */
static void
deliver_local(struct outq_job *j, const struct queue_env *env,
    const struct msg_map *mm, struct relay_rcpt *rr, size_t n)
{
	struct buf b;
	char *reply;
	size_t i;
	int r;

	/* the queued message has no Return-Path yet: local delivery adds
	 * it, as RFC 5321 4.4 wants at final delivery */
	buf_init(&b, 0);
	(void)buf_printf(&b, "Return-Path: <%s>\r\n", env->sender);
	(void)buf_append(&b, mm->p, mm->len);
	for (i = 0; i < n; i++) {
		reply = NULL;
		r = smtp_local_deliver(j->q->local, rr[i].addr, buf_ptr(&b),
		    buf_avail(&b), &reply);
		if (r == 0) {
			rr[i].status = RELAY_OK;
			rr[i].remote_mta = xstrdup("local");
		} else {
			rr[i].status = r > 0 ? RELAY_PERM : RELAY_TEMP;
			rr[i].error = reply != NULL ? reply :
			    xstrdup(r > 0 ? "5.0.0 local delivery failed" :
			    "4.0.0 local delivery failed");
			reply = NULL;
		}
		free(reply);
	}
	buf_deinit(&b);
}

/* random_hex - a few random hex digits for notices */
static void
random_hex(char *dst, size_t dstsize)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint64_t)time(NULL) ^ (uint64_t)random();
	snprintf(dst, dstsize, "%016" PRIX64, r);
}

/* send_notice - build and queue one DSN to env's sender; 0 when queued */
static int
send_notice(struct outq_job *j, const struct queue_env *env,
    const struct msg_map *mm, const struct bounce_rcpt *br, size_t nbr,
    int64_t now)
{
	struct bounce_info bi;
	struct queue_env *denv;
	struct buf b;
	char unique[32], *err = NULL;
	bool eight = false;
	int r;

	random_hex(unique, sizeof(unique));
	memset(&bi, 0, sizeof(bi));
	bi.reporting_mta = j->conf->helo;
	bi.queue_id = env->id;
	bi.unique = unique;
	bi.sender = env->sender;
	bi.envid = env->envid;
	bi.arrival = env->arrival;
	bi.now = now;
	bi.ret = env->ret;
	bi.smtputf8 = env->smtputf8;
	bi.full_max = j->conf->bounce_size_limit;
	bi.rcpts = br;
	bi.nrcpts = nbr;
	bi.msg = mm->p;
	bi.len = mm->len;
	buf_init(&b, 0);
	(void)bounce_build(&bi, &b, &eight);
	denv = queue_env_new("", now, "");
	denv->body = eight ? QUEUE_BODY_8BITMIME : QUEUE_BODY_7BIT;
	denv->smtputf8 = env->smtputf8;
	(void)queue_env_add_rcpt(denv, env->sender);
	r = outq_enqueue(j->q, buf_ptr(&b), buf_avail(&b), denv, &err);
	if (r < 0) {
		log_warnx("queue %s: cannot queue the delivery notice: %s",
		    env->id, err);
		free(err);
	} else {
		log_info("queue %s: notice %s queued for <%s>", env->id,
		    denv->id, env->sender);
	}
	queue_env_free(&denv);
	buf_deinit(&b);
	return r;
}

/* one attempt in the making (worker thread) */
struct attempt {
	struct outq_job	*j;
	struct queue_env *env;
	struct msg_map	 mm;
	size_t		*sel;		/* indexes of the selected recipients */
	struct relay_rcpt *rr;		/* their results, same order */
	size_t		 nsel;
	struct bounce_rcpt *br;		/* what the notice reports */
	size_t		 nbr;
	bool		*noticed;	/* per recipient: in the notice */
	enum queue_status *old;		/* per recipient: status before */
	int64_t		 now, expiry;
};

/* attempt_load - the envelope and the message; -1 when the job ends
 * here (gone, moved aside, or j->keep for a passing trouble) */
static int
attempt_load(struct attempt *a)
{
	struct outq_job *j = a->j;
	struct outq *q = j->q;
	char *path, *err = NULL;
	int r = -1;

	path = queue_env_path(q->dir, j->id);
	if (queue_env_read(path, &a->env, &err) < 0) {
		/* damage goes aside; a lack of descriptors or memory does
		 * not make a message corrupt */
		switch (unreadable(path)) {
		case 0:
			log_warnx("queue %s: %s; moved to %s", j->id, err,
			    q->corrupt_dir);
			quarantine(q, q->dir, j->id);
			break;
		case 1:
			log_warnx("queue %s: envelope vanished", j->id);
			break;
		default:
			log_warnx("queue %s: %s; will try again", j->id, err);
			j->keep = true;
			break;
		}
		free(err);
		goto out;
	}
	free(path);
	path = file_path(q->dir, j->id, ".msg");
	if (map_msg(q, j->id, &a->mm) < 0) {
		if (unreadable(path) == -1) {
			j->keep = true;
		} else {
			log_warnx("queue %s: message file missing or "
			    "unreadable; moved to %s", j->id, q->corrupt_dir);
			quarantine(q, q->dir, j->id);
		}
		queue_env_free(&a->env);
		goto out;
	}
	r = 0;
out:
	free(path);
	return r;
}

/* attempt_deliver - the waiting recipients of the job's destination,
 * delivered (locally or over SMTP) */
static void
attempt_deliver(struct attempt *a)
{
	struct outq_job *j = a->j;
	struct outq_conf *c = j->conf;
	struct queue_env *env = a->env;
	struct relay_settings s;
	struct relay_dest d;
	struct relay_msg m;
	char *dest;
	size_t i, k;

	a->sel = xcalloc(env->nrcpts, sizeof(*a->sel));
	a->rr = xcalloc(env->nrcpts, sizeof(*a->rr));
	for (i = 0; i < env->nrcpts; i++) {
		if (rcpt_final(&env->rcpts[i]))
			continue;
		dest = rcpt_dest(j->q, c, env->rcpts[i].addr);
		if (strcmp(dest, j->dest) == 0) {
			k = a->nsel++;
			a->sel[k] = i;
			a->rr[k].addr = env->rcpts[i].addr;
			a->rr[k].orcpt = env->rcpts[i].orcpt;
			a->rr[k].notify = env->rcpts[i].notify;
		}
		free(dest);
	}
	if (a->nsel == 0)
		return;
	if (strcmp(j->dest, DEST_BAD) == 0) {
		for (k = 0; k < a->nsel; k++) {
			a->rr[k].status = RELAY_PERM;
			a->rr[k].error = xstrdup("5.1.3 bad recipient address "
			    "syntax");
		}
		return;
	}
	if (strcmp(j->dest, DEST_LOCAL) == 0) {
		deliver_local(j, env, &a->mm, a->rr, a->nsel);
		return;
	}
	s = c->relay;
	s.cancel_fd = j->q->cancel_fd;
	memset(&d, 0, sizeof(d));
	if (strcmp(j->dest, DEST_RELAY) == 0) {
		d.host = c->relay_host;
		d.port = c->relay_port;
	} else {
		d.domain = j->dest;
	}
	memset(&m, 0, sizeof(m));
	m.sender = env->sender;
	m.envid = env->envid;
	m.ret = env->ret;
	m.body = env->body;
	m.smtputf8 = env->smtputf8;
	m.data = a->mm.p;
	m.len = a->mm.len;
	m.rcpts = a->rr;
	m.nrcpts = a->nsel;
	relay_deliver(&s, &d, &m);
}

/* attempt_report - add a recipient to the notice */
static void
attempt_report(struct attempt *a, size_t i, enum bounce_action act,
    const char *remote_mta, bool attempted)
{
	const struct queue_rcpt *r = &a->env->rcpts[i];
	struct bounce_rcpt *b = &a->br[a->nbr++];

	b->addr = r->addr;
	b->orcpt = r->orcpt;
	b->action = act;
	b->error = r->last_error;
	b->remote_mta = remote_mta;
	b->last_attempt = attempted ? a->now : 0;
	b->retry_until = act == BOUNCE_DELAYED ? a->expiry : 0;
	a->noticed[i] = true;
}

/* attempt_result - one selected recipient's result into its state */
static void
attempt_result(struct attempt *a, size_t k)
{
	struct outq_job *j = a->j;
	struct outq_conf *c = j->conf;
	struct queue_rcpt *r = &a->env->rcpts[a->sel[k]];
	struct relay_rcpt *rr = &a->rr[k];
	const char *id = a->env->id;
	bool local = strcmp(j->dest, DEST_LOCAL) == 0;
	bool notify_ok = a->env->sender[0] != '\0';

	if (r->attempts < UINT32_MAX)
		r->attempts++;
	switch (rr->status) {
	case RELAY_OK:
		r->status = QUEUE_RCPT_DELIVERED;
		queue_set_str(&r->last_error, NULL);
		log_info("queue %s: to=<%s> relay=%s status=sent", id,
		    r->addr, rr->remote_mta != NULL ? rr->remote_mta : "?");
		/* RFC 3461 5.2.2, 5.2.3: we tell of a success when the
		 * next hop cannot, or when the delivery was ours */
		if (notify_ok && wants(r, QUEUE_NOTIFY_SUCCESS) &&
		    (local || !rr->remote_dsn))
			attempt_report(a, a->sel[k], local ?
			    BOUNCE_DELIVERED : BOUNCE_RELAYED,
			    local ? NULL : rr->remote_mta, true);
		break;
	case RELAY_PERM:
		r->status = QUEUE_RCPT_FAILED;
		queue_set_str(&r->last_error, rr->error);
		log_info("queue %s: to=<%s> status=bounced (%s)", id, r->addr,
		    rr->error);
		if (notify_ok && wants(r, QUEUE_NOTIFY_FAILURE))
			attempt_report(a, a->sel[k], BOUNCE_FAILED, NULL, true);
		break;
	default:
		queue_set_str(&r->last_error, rr->error != NULL ? rr->error :
		    "4.0.0 no result");
		if (a->now >= a->expiry) {
			r->status = QUEUE_RCPT_FAILED;
			log_info("queue %s: to=<%s> status=expired (%s)", id,
			    r->addr, r->last_error);
			if (notify_ok && wants(r, QUEUE_NOTIFY_FAILURE))
				attempt_report(a, a->sel[k], BOUNCE_FAILED,
				    NULL, true);
			break;
		}
		/* the last attempt is made at the expiry itself */
		r->next_attempt = a->now + (int64_t)outq_retry_delay(
		    (uint64_t)c->retry_min, (uint64_t)c->retry_max,
		    r->attempts);
		if (r->next_attempt > a->expiry)
			r->next_attempt = a->expiry;
		log_info("queue %s: to=<%s> status=deferred (%s)", id,
		    r->addr, r->last_error);
		break;
	}
}

/* attempt_delays - once the message is delay_warning old: one delay
 * notice for every recipient still waiting that wants it, and every
 * waiting recipient marked DEFERRED so that it is the only one */
static void
attempt_delays(struct attempt *a)
{
	struct queue_env *env = a->env;
	struct queue_rcpt *r;
	size_t i, k;
	bool tried;

	if (a->j->conf->delay_warning == 0 ||
	    a->now < env->arrival + a->j->conf->delay_warning)
		return;
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		if (r->status != QUEUE_RCPT_PENDING)
			continue;
		r->status = QUEUE_RCPT_DEFERRED;
		if (!wants(r, QUEUE_NOTIFY_DELAY) || env->sender[0] == '\0')
			continue;
		for (tried = false, k = 0; k < a->nsel; k++)
			if (a->sel[k] == i)
				tried = true;
		attempt_report(a, i, BOUNCE_DELAYED, NULL, tried);
	}
}

/* attempt_persist - write the new state, or remove a finished message */
static void
attempt_persist(struct attempt *a)
{
	struct outq *q = a->j->q;
	char *err = NULL;
	size_t i;

	for (i = 0; i < a->env->nrcpts; i++)
		if (!rcpt_final(&a->env->rcpts[i]))
			break;
	if (i == a->env->nrcpts) {
		(void)remove_files(q->dir, a->env->id);
		log_info("queue %s: removed", a->env->id);
		queue_env_free(&a->env);
	} else if (queue_env_write(q->dir, a->env, &err) < 0) {
		/* the runner keeps the new state; only a crash repeats */
		log_warnx("queue %s: %s", a->env->id, err);
		free(err);
	}
}

/* job_run - one attempt for the recipients of one destination */
static void
job_run(void *arg)
{
	struct outq_job *j = arg;
	struct attempt a;
	struct queue_rcpt *r;
	size_t i, k;

	log_set_session(j->id);
	memset(&a, 0, sizeof(a));
	a.j = j;
	if (attempt_load(&a) < 0)
		return;
	attempt_deliver(&a);

	a.now = (int64_t)time(NULL);
	a.expiry = a.env->arrival + j->conf->lifetime;
	a.old = xcalloc(a.env->nrcpts, sizeof(*a.old));
	a.noticed = xcalloc(a.env->nrcpts, sizeof(*a.noticed));
	a.br = xcalloc(a.env->nrcpts, sizeof(*a.br));
	for (i = 0; i < a.env->nrcpts; i++)
		a.old[i] = a.env->rcpts[i].status;
	for (k = 0; k < a.nsel; k++)
		attempt_result(&a, k);
	attempt_delays(&a);
	if (a.nbr > 0 && send_notice(j, a.env, &a.mm, a.br, a.nbr,
	    a.now) < 0) {
		/*
		 * No notice, so the states it would report must not be
		 * written: those recipients wait and are tried (or warned
		 * about) again.  Deliveries stay recorded.
		 */
		for (i = 0; i < a.env->nrcpts; i++) {
			r = &a.env->rcpts[i];
			if (!a.noticed[i] || r->status == QUEUE_RCPT_DELIVERED)
				continue;
			r->status = a.old[i] == QUEUE_RCPT_DEFERRED ?
			    QUEUE_RCPT_DEFERRED : QUEUE_RCPT_PENDING;
			r->next_attempt = a.now + j->conf->retry_min;
		}
	}
	unmap_msg(&a.mm);
	attempt_persist(&a);
	j->env = a.env;
	for (k = 0; k < a.nsel; k++)
		relay_rcpt_reset(&a.rr[k]);
	free(a.rr);
	free(a.sel);
	free(a.br);
	free(a.old);
	free(a.noticed);
}

/* job_free - release a job */
static void
job_free(struct outq_job *j)
{
	queue_env_free(&j->env);
	conf_unref(&j->conf);
	free(j->id);
	free(j->dest);
	free(j);
}

/* do_hold, do_delete - see below */
static int do_hold(struct outq *q, struct outq_msg *m);
static int do_delete(struct outq *q, struct outq_msg *m);

/* job_done - on the loop: take the new state, run again */
static void
job_done(void *arg, bool cancelled)
{
	struct outq_job *j = arg, **pp;
	struct outq *q = j->q;
	struct outq_msg *m;
	size_t i;

	if (q->stopping) {
		/* outq_free took the job list */
		job_free(j);
		return;
	}
	for (pp = &q->jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	worker_queue_free(&j->lane);
	dest_release(q, j->dest);
	q->active--;
	m = msg_find(q, j->id);
	if (m != NULL) {
		m->running = false;
		if (cancelled) {
			/* the lane went first: the state on disk stands */
		} else if (j->keep) {
			/* unchanged; not again before retry_min */
			for (i = 0; i < m->env->nrcpts; i++)
				if (m->dests[i] != NULL &&
				    strcmp(m->dests[i], j->dest) == 0)
					m->env->rcpts[i].next_attempt =
					    (int64_t)time(NULL) +
					    q->conf->retry_min;
		} else if (j->env == NULL) {
			/* gone (delivered, failed, quarantined) */
			msg_remove(q, m);
		} else {
			msg_set_env(q, m, j->env);
			j->env = NULL;
			if (m->after == AFTER_DELETE)
				(void)do_delete(q, m);
			else if (m->after == AFTER_HOLD) {
				m->after = AFTER_NONE;
				(void)do_hold(q, m);
			}
		}
	}
	job_free(j);
	schedule_run(q);
}

/* job_start - one attempt of m to dest */
static void
job_start(struct outq *q, struct outq_msg *m, const char *dest)
{
	struct outq_job *j;

	j = xcalloc(1, sizeof(*j));
	j->q = q;
	j->conf = q->conf;
	atomic_fetch_add(&j->conf->refs, 1);
	j->id = xstrdup(m->id);
	j->dest = xstrdup(dest);
	j->lane = worker_queue_new(q->pool);
	j->next = q->jobs;
	q->jobs = j;
	m->running = true;
	dest_get(q, dest)->active++;
	q->active++;
	log_debug("queue %s: attempt to %s", m->id, dest);
	worker_queue_submit(j->lane, job_run, job_done, j);
}

/* --- the runner (loop thread) --- */

/* outq_run - start what is due and allowed; arm the timer for the rest */
static void
outq_run(struct outq *q)
{
	struct outq_msg *m;
	struct timeval tv;
	int64_t now = (int64_t)time(NULL), next = INT64_MAX, t;
	size_t i, k;

	if (q->stopping)
		return;
	for (i = 0; i < q->nmsgs; i++) {
		m = q->msgs[i];
		if (m->held || m->running)
			continue;
		for (k = 0; k < m->env->nrcpts; k++) {
			if (m->dests[k] == NULL)
				continue;
			t = m->env->rcpts[k].next_attempt;
			if (t > now) {
				if (t < next)
					next = t;
				continue;
			}
			/* due; a completion runs us again when blocked */
			if (q->active >= q->max_deliveries ||
			    dest_get(q, m->dests[k])->active >=
			    q->conf->dest_concurrency)
				continue;
			job_start(q, m, m->dests[k]);
			break;
		}
	}
	/* dest_get() may have made idle counters: drop them */
	for (i = 0; i < q->ndests; ) {
		if (q->dests[i].active == 0) {
			free(q->dests[i].key);
			q->dests[i] = q->dests[--q->ndests];
		} else {
			i++;
		}
	}
	evtimer_del(q->timer);
	if (next != INT64_MAX) {
		tv.tv_sec = (time_t)(next - now);
		tv.tv_usec = 0;
		evtimer_add(q->timer, &tv);
	}
}

/* on_run - the coalesced "run now" event and the timer */
static void
on_run(evutil_socket_t fd, short what, void *arg)
{
	outq_run(arg);
}

/* take_incoming - enqueued messages into the table */
static void
take_incoming(struct outq *q)
{
	struct outq_incoming *list, *in, *rev = NULL;

	pthread_mutex_lock(&q->lock);
	list = q->incoming;
	q->incoming = NULL;
	pthread_mutex_unlock(&q->lock);
	/* pushed newest first: reverse to keep arrival order */
	while ((in = list) != NULL) {
		list = in->next;
		in->next = rev;
		rev = in;
	}
	while ((in = rev) != NULL) {
		rev = in->next;
		(void)msg_add(q, in->env, in->size, false);
		free(in);
	}
}

/* on_wake - outq_enqueue() woke us */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct outq *q = arg;
	uint64_t n;

	if (read(q->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("queue: eventfd read");
	take_incoming(q);
	outq_run(q);
}

/* --- start-up --- */

/* name_list - the ids of the files of dir ending in suffix */
static char **
name_list(const char *dir, const char *suffix, size_t *n_r)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL, *id;
	size_t n = 0, len, slen = strlen(suffix);

	*n_r = 0;
	d = opendir(dir);
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= slen || strcmp(de->d_name + len - slen, suffix) != 0)
			continue;
		id = xstrndup(de->d_name, len - slen);
		if (!queue_id_valid(id)) {
			free(id);
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = id;
	}
	closedir(d);
	*n_r = n;
	return v;
}

/* names_free - a name_list() */
static void
names_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* file_exists - a path exists */
static bool
file_exists(const char *dir, const char *id, const char *suffix)
{
	char *p = file_path(dir, id, suffix);
	struct stat st;
	bool r = stat(p, &st) == 0;

	free(p);
	return r;
}

/* clean_dir - unlink every entry of dir ending in suffix ("" for all) */
static void
clean_dir(const char *dir, const char *suffix)
{
	DIR *d;
	struct dirent *de;
	char *p;
	size_t len, slen = strlen(suffix);

	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < slen ||
		    strcmp(de->d_name + len - slen, suffix) != 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (unlink(p) < 0 && errno != EISDIR)
			log_warn("queue: unlink(%s)", p);
		free(p);
	}
	closedir(d);
}

/* repair - make each envelope's message sit beside it; the message of an
 * envelope that lost it (crash during hold or release) is brought back,
 * a message without an envelope anywhere is an unfinished enqueue */
static void
repair(struct outq *q, const char *here, const char *there)
{
	char **envs, **msgs, *from, *to;
	size_t ne, nm, i;

	envs = name_list(here, ".env", &ne);
	for (i = 0; i < ne; i++) {
		if (file_exists(here, envs[i], ".msg")) {
			if (file_exists(there, envs[i], ".msg") &&
			    !file_exists(there, envs[i], ".env")) {
				to = file_path(there, envs[i], ".msg");
				(void)unlink(to);
				free(to);
			}
			continue;
		}
		from = file_path(there, envs[i], ".msg");
		to = file_path(here, envs[i], ".msg");
		if (rename(from, to) == 0)
			log_info("queue %s: message file moved back beside "
			    "its envelope", envs[i]);
		free(from);
		free(to);
	}
	names_free(envs, ne);
	msgs = name_list(here, ".msg", &nm);
	for (i = 0; i < nm; i++) {
		if (file_exists(here, msgs[i], ".env") ||
		    file_exists(there, msgs[i], ".env"))
			continue;
		to = file_path(here, msgs[i], ".msg");
		log_info("queue %s: removing a message without envelope "
		    "(unfinished enqueue)", msgs[i]);
		(void)unlink(to);
		free(to);
	}
	names_free(msgs, nm);
	(void)queue_fsync_dir(here);
}

/* load_dir - every envelope of dir into the table */
static void
load_dir(struct outq *q, const char *dir, bool held)
{
	struct queue_env *env;
	struct stat st;
	char **ids, *path, *err = NULL;
	size_t n, i, k;
	bool waiting;

	ids = name_list(dir, ".env", &n);
	for (i = 0; i < n; i++) {
		path = queue_env_path(dir, ids[i]);
		if (queue_env_read(path, &env, &err) < 0 ||
		    strcmp(env->id, ids[i]) != 0) {
			log_warnx("queue %s: %s; moved to %s", ids[i],
			    err != NULL ? err : "id does not match the file "
			    "name", q->corrupt_dir);
			xfree(&err);
			queue_env_free(&env);
			quarantine(q, dir, ids[i]);
			free(path);
			continue;
		}
		free(path);
		path = file_path(dir, ids[i], ".msg");
		if (stat(path, &st) < 0) {
			log_warnx("queue %s: message file missing; moved to "
			    "%s", ids[i], q->corrupt_dir);
			queue_env_free(&env);
			quarantine(q, dir, ids[i]);
			free(path);
			continue;
		}
		free(path);
		waiting = false;
		for (k = 0; k < env->nrcpts; k++)
			if (!rcpt_final(&env->rcpts[k]))
				waiting = true;
		if (!waiting) {
			/* finished, but the removal did not survive */
			(void)remove_files(dir, ids[i]);
			queue_env_free(&env);
			continue;
		}
		(void)msg_add(q, env, (uint64_t)st.st_size, held);
	}
	names_free(ids, n);
}

/* msg_cmp - by arrival, then id */
static int
msg_cmp(const void *a, const void *b)
{
	const struct outq_msg *x = *(struct outq_msg *const *)a;
	const struct outq_msg *y = *(struct outq_msg *const *)b;

	if (x->env->arrival != y->env->arrival)
		return x->env->arrival < y->env->arrival ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* outq_new - directories, what is on disk, the runner */
int
outq_new(const struct conf *conf, struct event_base *base,
    struct workers *workers, struct smtp_local *local, struct outq **q_r,
    char **error_r)
{
	struct outq *q;
	struct outq_conf *c;

	if (conf_new(conf, &c, error_r) < 0)
		return -1;
	q = xcalloc(1, sizeof(*q));
	q->base = base;
	q->workers = workers;
	q->local = local;
	q->conf = c;
	q->dir = xstrdup(conf_str(conf, "queue", "dir"));
	q->hold_dir = xasprintf("%s/hold", q->dir);
	q->tmp_dir = xasprintf("%s/tmp", q->dir);
	q->corrupt_dir = xasprintf("%s/corrupt", q->dir);
	q->max_deliveries = (unsigned int)conf_uint(conf, "queue",
	    "max_deliveries");
	q->cancel_fd = q->wake_fd = -1;
	pthread_mutex_init(&q->lock, NULL);
	atomic_init(&q->counter, 0);
	if (mkdir_0700(q->dir, error_r) < 0 ||
	    mkdir_0700(q->hold_dir, error_r) < 0 ||
	    mkdir_0700(q->tmp_dir, error_r) < 0 ||
	    mkdir_0700(q->corrupt_dir, error_r) < 0) {
		outq_free(&q);
		return -1;
	}
	q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	q->cancel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->wake_fd < 0 || q->cancel_fd < 0) {
		*error_r = xasprintf("eventfd: %s", strerror(errno));
		outq_free(&q);
		return -1;
	}
	q->timer = evtimer_new(base, on_run, q);
	q->runev = event_new(base, -1, 0, on_run, q);
	q->wakeev = event_new(base, q->wake_fd, EV_READ | EV_PERSIST,
	    on_wake, q);
	if (q->timer == NULL || q->runev == NULL || q->wakeev == NULL ||
	    event_add(q->wakeev, NULL) < 0) {
		*error_r = xstrdup("queue: cannot register with the event "
		    "loop");
		outq_free(&q);
		return -1;
	}

	/* what a crash left behind, then what is queued */
	clean_dir(q->tmp_dir, "");
	clean_dir(q->dir, ".env.tmp");
	clean_dir(q->hold_dir, ".env.tmp");
	repair(q, q->dir, q->hold_dir);
	repair(q, q->hold_dir, q->dir);
	load_dir(q, q->dir, false);
	load_dir(q, q->hold_dir, true);
	if (q->nmsgs > 1)
		qsort(q->msgs, q->nmsgs, sizeof(*q->msgs), msg_cmp);
	if (q->nmsgs > 0)
		log_info("queue %s: %zu messages", q->dir, q->nmsgs);

	q->pool = workers_new(base, q->max_deliveries);
	schedule_run(q);
	*q_r = q;
	return 0;
}

/* outq_free - stop the runner, interrupt the attempts, free it all */
void
outq_free(struct outq **qp)
{
	struct outq *q = *qp;
	struct outq_job *j, *next;
	struct outq_incoming *in;
	uint64_t one = 1;
	size_t i;

	if (q == NULL)
		return;
	*qp = NULL;
	q->stopping = true;
	if (q->cancel_fd >= 0 && write(q->cancel_fd, &one, sizeof(one)) < 0)
		log_warn("queue: eventfd write");
	/* lanes go; running jobs finish (interrupted) and their done()
	 * frees them from workers_free() */
	for (j = q->jobs, q->jobs = NULL; j != NULL; j = next) {
		next = j->next;
		worker_queue_free(&j->lane);
	}
	if (q->pool != NULL)
		workers_free(&q->pool);
	if (q->timer != NULL)
		event_free(q->timer);
	if (q->runev != NULL)
		event_free(q->runev);
	if (q->wakeev != NULL)
		event_free(q->wakeev);
	while ((in = q->incoming) != NULL) {
		q->incoming = in->next;
		queue_env_free(&in->env);
		free(in);
	}
	for (i = 0; i < q->nmsgs; i++)
		msg_free(q->msgs[i]);
	free(q->msgs);
	for (i = 0; i < q->ndests; i++)
		free(q->dests[i].key);
	free(q->dests);
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	if (q->cancel_fd >= 0)
		close(q->cancel_fd);
	pthread_mutex_destroy(&q->lock);
	conf_unref(&q->conf);
	free(q->dir);
	free(q->hold_dir);
	free(q->tmp_dir);
	free(q->corrupt_dir);
	free(q);
}

/* outq_reload - new settings for new attempts */
void
outq_reload(struct outq *q, const struct conf *conf)
{
	struct outq_conf *c;
	char *err = NULL;
	size_t i;

	if (conf_new(conf, &c, &err) < 0) {
		log_warnx("queue: reload: %s; keeping the old settings", err);
		free(err);
		return;
	}
	if (strcmp(conf_str(conf, "queue", "dir"), q->dir) != 0)
		log_warnx("queue: a new [queue] dir takes effect at the next "
		    "start");
	if (conf_uint(conf, "queue", "max_deliveries") != q->max_deliveries)
		log_warnx("queue: a new [queue] max_deliveries takes effect "
		    "at the next start");
	conf_unref(&q->conf);
	q->conf = c;
	for (i = 0; i < q->nmsgs; i++)
		msg_dests(q, q->msgs[i]);
	schedule_run(q);
}

/* --- control (loop thread) --- */

/* due_now - every waiting recipient of m is due now (in memory only: a
 * flush is not worth a write, and a restart tries everything anyway) */
static void
due_now(struct outq_msg *m)
{
	size_t i;

	for (i = 0; i < m->env->nrcpts; i++)
		if (!rcpt_final(&m->env->rcpts[i]))
			m->env->rcpts[i].next_attempt = 0;
}

/* do_delete - remove m's files and m */
static int
do_delete(struct outq *q, struct outq_msg *m)
{
	const char *dir = m->held ? q->hold_dir : q->dir;

	if (remove_files(dir, m->id) < 0)
		return -1;
	(void)queue_fsync_dir(dir);
	log_info("queue %s: deleted by the administrator", m->id);
	msg_remove(q, m);
	return 0;
}

/* do_hold - m into hold/ */
static int
do_hold(struct outq *q, struct outq_msg *m)
{
	if (move_files(q->dir, q->hold_dir, m->id) < 0)
		return -1;
	m->held = true;
	log_info("queue %s: held", m->id);
	return 0;
}

/* do_release - m out of hold/, due now */
static int
do_release(struct outq *q, struct outq_msg *m)
{
	if (move_files(q->hold_dir, q->dir, m->id) < 0)
		return -1;
	m->held = false;
	due_now(m);
	log_info("queue %s: released", m->id);
	schedule_run(q);
	return 0;
}

/* list - the mailq-like listing */
static void
list(struct outq *q, struct buf *out)
{
	const struct outq_msg *m;
	const struct queue_rcpt *r;
	struct tm tm;
	time_t t;
	char date[32];
	uint64_t total = 0;
	size_t i, k;

	if (q->nmsgs == 0) {
		(void)buf_append_str(out, "Mail queue is empty\n");
		return;
	}
	(void)buf_append_str(out, "-Queue ID-          --Size-- "
	    "----Arrival Time---- -Sender/Recipient-------\n");
	for (i = 0; i < q->nmsgs; i++) {
		m = q->msgs[i];
		t = (time_t)m->env->arrival;
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(date, sizeof(date), "%a %b %e %H:%M:%S", &tm) == 0)
			(void)str_copy(date, sizeof(date), "?");
		(void)buf_printf(out, "%-18s%c %8" PRIu64 " %-20s %s\n", m->id,
		    m->running ? '*' : m->held ? '!' : ' ', m->size, date,
		    m->env->sender[0] != '\0' ? m->env->sender :
		    "MAILER-DAEMON");
		for (k = 0; k < m->env->nrcpts; k++) {
			r = &m->env->rcpts[k];
			if (rcpt_final(r))
			       continue;
			if (r->last_error != NULL)
				(void)buf_printf(out, "%20s(%s)\n", "",
				    r->last_error);
			(void)buf_printf(out, "%49s%s\n", "", r->addr);
		}
		(void)buf_append_str(out, "\n");
		total += m->size;
	}
	(void)buf_printf(out, "-- %" PRIu64 " Kbytes in %zu Request%s.\n",
	    (total + 1023) / 1024, q->nmsgs, q->nmsgs == 1 ? "" : "s");
}

/* outq_control - one control line */
int
outq_control(struct outq *q, const char *line, struct buf *out)
{
	struct outq_msg *m;
	const char *cmd, *err = NULL;
	char **w;
	size_t n, i;

	w = str_split(line, " \t", &n);
	cmd = n > 0 ? w[0] : "";
	if (n == 1 && strcmp(cmd, "list") == 0) {
		list(q, out);
	} else if (n == 1 && strcmp(cmd, "flush") == 0) {
		for (i = 0; i < q->nmsgs; i++)
			if (!q->msgs[i]->held && !q->msgs[i]->running)
				due_now(q->msgs[i]);
		schedule_run(q);
	} else if (n == 2 && (strcmp(cmd, "flush") == 0 ||
	    strcmp(cmd, "delete") == 0 || strcmp(cmd, "hold") == 0 ||
	    strcmp(cmd, "release") == 0)) {
		if (!queue_id_valid(w[1]))
			err = "bad queue id";
		else if ((m = msg_find(q, w[1])) == NULL)
			err = "no such message";
		else if (strcmp(cmd, "flush") == 0) {
			if (m->held)
				err = "message is held";
			else if (!m->running) {
				due_now(m);
				schedule_run(q);
			}
		} else if (strcmp(cmd, "delete") == 0) {
			if (m->running)
				m->after = AFTER_DELETE;
			else if (do_delete(q, m) < 0)
				err = "cannot delete, see the log";
		} else if (strcmp(cmd, "hold") == 0) {
			if (m->held)
				err = "message is already held";
			else if (m->running) {
				if (m->after == AFTER_NONE)
					m->after = AFTER_HOLD;
			} else if (do_hold(q, m) < 0)
				err = "cannot hold, see the log";
		} else {
			if (!m->held)
				err = "message is not held";
			else if (do_release(q, m) < 0)
				err = "cannot release, see the log";
		}
	} else {
		err = "usage: list | flush [ID] | delete ID | hold ID | "
		    "release ID";
	}
	str_split_free(&w);
	if (err != NULL) {
		(void)buf_printf(out, "ERR %s\n", err);
		return -1;
	}
	(void)buf_append_str(out, "OK\n");
	return 0;
}
