/*
 * ctl_queue.c - bastidectl queue: list the outbound queue, and have smtpd
 * flush, delete, hold or release its messages
 *
 * "list" reads the queue directory ([queue] dir) itself: the envelope
 * format is common/queue.h, and a listing must work while smtpd is down.
 * Everything that changes the queue is asked of the running smtpd over
 * its control socket (<run_dir>/bastide-smtpd.sock), because only smtpd
 * knows whether a delivery attempt is running for the message.  When no
 * smtpd listens, delete/hold/release are done on the files in the same
 * order smtpd uses, so its start-up recovery understands any crash point;
 * flush has nobody to ask and says so.
 *
 * Exit status (sysexits): 0 done, 1 not found or refused, 64 usage,
 * 75 temporary (smtpd not running for flush, not answering, busy).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ctlsock.h"
#include "queue.h"
#include "str.h"
#include "xmalloc.h"

#include "ctl.h"

#define CTL_QUEUE_SMTPD		"bastide-smtpd"
#define CTL_QUEUE_TIMEOUT_MS	10000
#define CTL_QUEUE_REPLY_MAX	(64 * 1024 * 1024)
#define CTL_QUEUE_HOLD		"hold"
#define CTL_QUEUE_CORRUPT	"corrupt"

/* one message found in the queue directory */
struct qent {
	char		*id;
	bool		 held;
	struct queue_env *env;		/* NULL when damaged */
	char		*error;		/* why it is damaged */
	long long	 size;		/* of the .msg, -1 if missing */
};

struct qlist {
	struct qent	*v;
	size_t		 n, cap;
};

/* usage_queue - the group's usage line */
static int
usage_queue(void)
{
	fprintf(stderr, "usage: bastidectl queue list | flush [ID] | "
	    "delete ID | hold ID | release ID\n");
	return EX_USAGE;
}

/* --- list --- */

/* iso_time - unix seconds as ISO 8601 UTC into dst */
static const char *
iso_time(int64_t t, char *dst, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(dst, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(dst, size, "@%lld", (long long)t);
	return dst;
}

/* status_name - a recipient's state as the listing shows it */
static const char *
status_name(enum queue_status s)
{
	switch (s) {
	case QUEUE_RCPT_PENDING:
		return "pending";
	case QUEUE_RCPT_DELIVERED:
		return "delivered";
	case QUEUE_RCPT_FAILED:
		return "failed";
	case QUEUE_RCPT_DEFERRED:
		return "deferred";
	}
	return "unknown";
}

/* env_stem - "<id>" of a "<id>.env" name with a valid id, else NULL */
static char *
env_stem(const char *name)
{
	char *id;

	if (!str_has_suffix(name, ".env"))
		return NULL;
	id = xstrndup(name, strlen(name) - 4);
	if (!queue_id_valid(id)) {
		free(id);
		return NULL;
	}
	return id;
}

/* scan_dir - add every envelope of dir to l; -1 (printed) if unreadable */
static int
scan_dir(const char *dir, bool held, struct qlist *l)
{
	struct dirent *de;
	struct qent *e;
	struct stat st;
	char *id, *path, *error;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;	/* no queue yet, or nothing held */
		fprintf(stderr, "bastidectl: opendir %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if ((id = env_stem(de->d_name)) == NULL)
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap == 0 ? 64 : l->cap * 2;
			l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
		}
		e = &l->v[l->n];
		memset(e, 0, sizeof(*e));
		e->id = id;
		e->held = held;
		path = queue_env_path(dir, id);
		if (queue_env_read(path, &e->env, &error) < 0) {
			/* delivered and removed since readdir: not news */
			if (lstat(path, &st) < 0 && errno == ENOENT) {
				free(error);
				free(path);
				free(id);
				continue;
			}
			e->error = error;
		}
		free(path);
		path = queue_msg_path(dir, id);
		e->size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
		free(path);
		l->n++;
	}
	closedir(d);
	return 0;
}

/* count_env - envelopes in dir (the corrupt/ pile), 0 if none */
static size_t
count_env(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (str_has_suffix(de->d_name, ".env"))
			n++;
	closedir(d);
	return n;
}

/* qent_cmp - oldest first, damaged ones last, then by id */
static int
qent_cmp(const void *a, const void *b)
{
	const struct qent *x = a, *y = b;

	if ((x->env == NULL) != (y->env == NULL))
		return x->env == NULL ? 1 : -1;
	if (x->env != NULL && x->env->arrival != y->env->arrival)
		return x->env->arrival < y->env->arrival ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* print_ent - one message: its line, then one line per recipient */
static void
print_ent(const struct qent *e)
{
	const struct queue_rcpt *r;
	char when[64], size[32];
	size_t i;

	if (e->env == NULL) {
		printf("%s  damaged envelope%s: %s\n", e->id,
		    e->held ? " (held)" : "", e->error);
		return;
	}
	if (e->size < 0)
		snprintf(size, sizeof(size), "-");
	else
		snprintf(size, sizeof(size), "%lld", e->size);
	printf("%s  %s  %s  <%s>%s\n", e->id, size,
	    iso_time(e->env->arrival, when, sizeof(when)), e->env->sender,
	    e->held ? "  held" : "");
	for (i = 0; i < e->env->nrcpts; i++) {
		r = &e->env->rcpts[i];
		printf("    <%s>  %s  attempts %u", r->addr,
		    status_name(r->status), (unsigned int)r->attempts);
		if (r->status == QUEUE_RCPT_PENDING ||
		    r->status == QUEUE_RCPT_DEFERRED) {
			if (r->next_attempt <= 0)
				printf("  next now");
			else
				printf("  next %s", iso_time(r->next_attempt,
				    when, sizeof(when)));
		}
		if (r->last_error != NULL)
			printf("  last error: %s", r->last_error);
		printf("\n");
	}
}

/* queue_list - "queue list": the directory as it is on disk now */
static int
queue_list(const struct conf *conf)
{
	const char *dir = conf_str(conf, "queue", "dir");
	struct qlist l = { NULL, 0, 0 };
	size_t i, held = 0, damaged = 0, corrupt;
	char *sub;
	int r = 0;

	sub = xasprintf("%s/%s", dir, CTL_QUEUE_HOLD);
	if (scan_dir(dir, false, &l) < 0 || scan_dir(sub, true, &l) < 0)
		r = 1;
	free(sub);
	sub = xasprintf("%s/%s", dir, CTL_QUEUE_CORRUPT);
	corrupt = count_env(sub);
	if (l.n > 0)
		qsort(l.v, l.n, sizeof(*l.v), qent_cmp);
	for (i = 0; i < l.n; i++) {
		if (i > 0)
			printf("\n");
		print_ent(&l.v[i]);
		held += l.v[i].held;
		damaged += l.v[i].env == NULL;
	}
	if (l.n == 0 && r == 0)
		printf("Queue is empty\n");
	else if (l.n > 0)
		printf("\n-- %zu message%s, %zu held, %zu damaged\n", l.n,
		    l.n == 1 ? "" : "s", held, damaged);
	if (corrupt > 0)
		printf("-- %zu damaged envelope%s set aside in %s\n", corrupt,
		    corrupt == 1 ? "" : "s", sub);
	free(sub);
	for (i = 0; i < l.n; i++) {
		free(l.v[i].id);
		free(l.v[i].error);
		queue_env_free(&l.v[i].env);
	}
	free(l.v);
	return r;
}

/* --- asking smtpd --- */

/* smtpd_pid - pid of a live smtpd from its pid file, 0 if none */
static long
smtpd_pid(const struct conf *conf)
{
	char *path;
	long pid = 0;
	FILE *fp;

	path = xasprintf("%s/%s.pid", conf_str(conf, "global", "run_dir"),
	    CTL_QUEUE_SMTPD);
	fp = fopen(path, "r");
	free(path);
	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%ld", &pid) != 1 || pid <= 0)
		pid = 0;
	fclose(fp);
	if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno != EPERM)
		pid = 0;	/* a stale pid file: it crashed */
	return pid;
}

/* print_reply - the reply's lines before its last (OK/ERR) one */
static void
print_reply(struct buf *reply)
{
	const char *p = buf_ptr(reply);
	size_t n = buf_avail(reply), last;

	/* a reply ends in "\n": find the start of its last line */
	if (n == 0)
		return;
	last = n - 1;
	while (last > 0 && p[last - 1] != '\n')
		last--;
	fwrite(p, 1, last, stdout);
}

/* err_reason - the text after "ERR " of the reply's last line */
static char *
err_reason(struct buf *reply)
{
	const char *p = buf_ptr(reply);
	size_t n = buf_avail(reply), last;

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	last = n;
	while (last > 0 && p[last - 1] != '\n')
		last--;
	if (n - last > 4)
		return xstrndup(p + last + 4, n - last - 4);
	return xstrdup("refused");
}

/*
 * ask_smtpd - send line to smtpd; 0 OK, 1 ERR (printed), 75 when it did
 * not answer (printed), or -2 when nothing listens and no smtpd runs, so
 * the caller may do the work itself.
 */
static int
ask_smtpd(const struct conf *conf, const char *line, const char *what,
    bool may_fall_back)
{
	struct buf reply;
	char *path, *error = NULL, *reason;
	long pid;
	int r, saved;

	path = ctlsock_path(conf, CTL_QUEUE_SMTPD);
	buf_init(&reply, CTL_QUEUE_REPLY_MAX);
	r = ctlsock_request(path, line, CTL_QUEUE_TIMEOUT_MS, &reply, &error);
	saved = errno;
	free(path);
	if (r == 0) {
		print_reply(&reply);
	} else if (r == 1) {
		print_reply(&reply);
		reason = err_reason(&reply);
		fprintf(stderr, "bastidectl: queue %s: %s\n", what, reason);
		free(reason);
	} else if (saved != ENOENT && saved != ECONNREFUSED) {
		/* it may have got the request: doing it again is wrong */
		fprintf(stderr, "bastidectl: queue %s: smtpd did not answer: "
		    "%s\n", what, error);
		r = EX_TEMPFAIL;
	} else if ((pid = smtpd_pid(conf)) != 0) {
		/* starting up or shutting down: its runner may be busy
		 * with this very message */
		fprintf(stderr, "bastidectl: queue %s: smtpd (pid %ld) runs "
		    "but its control socket does not answer (%s); try again "
		    "later\n", what, pid, error);
		r = EX_TEMPFAIL;
	} else if (!may_fall_back) {
		fprintf(stderr, "bastidectl: queue %s: smtpd is not running "
		    "(%s)\n", what, error);
		r = EX_TEMPFAIL;
	} else {
		r = -2;
	}
	free(error);
	buf_deinit(&reply);
	return r;
}

/* --- doing it on the files --- */

/* exists - path is there (any type) */
static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* direct_delete - unlink the envelope (the commit point), then the
 * message, in the queue and in hold/; 0, or 1 (not found, or an error) */
static int
direct_delete(const char *dir, const char *id)
{
	char *dirs[2], *env, *msg;
	bool found = false, failed = false;
	int i;

	dirs[0] = xstrdup(dir);
	dirs[1] = xasprintf("%s/%s", dir, CTL_QUEUE_HOLD);
	for (i = 0; i < 2; i++) {
		env = queue_env_path(dirs[i], id);
		msg = queue_msg_path(dirs[i], id);
		if (unlink(env) == 0)
			found = true;
		else if (errno != ENOENT) {
			fprintf(stderr, "bastidectl: unlink %s: %s\n", env,
			    strerror(errno));
			failed = true;
		}
		/* an envelope we could not remove keeps its message: an
		 * envelope without one would be worse than both */
		if (!failed && unlink(msg) == 0)
			found = true;
		else if (!failed && errno != ENOENT) {
			fprintf(stderr, "bastidectl: unlink %s: %s\n", msg,
			    strerror(errno));
			failed = true;
		}
		if (found && queue_fsync_dir(dirs[i]) < 0 && errno != ENOENT)
			fprintf(stderr, "bastidectl: fsync %s: %s\n", dirs[i],
			    strerror(errno));
		free(env);
		free(msg);
	}
	free(dirs[0]);
	free(dirs[1]);
	if (failed)
		return 1;
	if (!found) {
		fprintf(stderr, "bastidectl: queue delete %s: no such "
		    "message\n", id);
		return 1;
	}
	return 0;
}

/* move_file - rename from to to and make both directories durable */
static int
move_file(const char *from, const char *to, const char *from_dir,
    const char *to_dir)
{
	if (rename(from, to) < 0) {
		fprintf(stderr, "bastidectl: rename %s to %s: %s\n", from, to,
		    strerror(errno));
		return -1;
	}
	if (queue_fsync_dir(to_dir) < 0 || queue_fsync_dir(from_dir) < 0) {
		fprintf(stderr, "bastidectl: fsync %s or %s: %s\n", to_dir,
		    from_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * direct_move - hold (queue -> hold/) or release (hold/ -> queue): the
 * message first, the envelope last, as smtpd does, so a crash between
 * the two leaves an envelope whose message is in the other directory,
 * which smtpd's start-up puts back beside it.  0, or 1 (printed).
 */
static int
direct_move(const char *dir, const char *id, bool hold)
{
	char *hold_dir, *from_dir, *to_dir;
	char *env_from, *env_to, *msg_from, *msg_to;
	const char *verb = hold ? "hold" : "release";
	int r = 1;

	hold_dir = xasprintf("%s/%s", dir, CTL_QUEUE_HOLD);
	from_dir = hold ? xstrdup(dir) : xstrdup(hold_dir);
	to_dir = hold ? xstrdup(hold_dir) : xstrdup(dir);
	env_from = queue_env_path(from_dir, id);
	env_to = queue_env_path(to_dir, id);
	msg_from = queue_msg_path(from_dir, id);
	msg_to = queue_msg_path(to_dir, id);
	if (!exists(env_from)) {
		fprintf(stderr, "bastidectl: queue %s %s: %s\n", verb, id,
		    exists(env_to) ? (hold ? "already held" : "not held") :
		    "no such message");
		goto out;
	}
	if (exists(env_to)) {
		fprintf(stderr, "bastidectl: queue %s %s: %s exists too; "
		    "leaving both alone\n", verb, id, env_to);
		goto out;
	}
	if (hold && mkdir(hold_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "bastidectl: mkdir %s: %s\n", hold_dir,
		    strerror(errno));
		goto out;
	}
	/* a message already moved by an interrupted attempt stays put */
	if (exists(msg_from) &&
	    move_file(msg_from, msg_to, from_dir, to_dir) < 0)
		goto out;
	if (move_file(env_from, env_to, from_dir, to_dir) < 0)
		goto out;
	r = 0;
out:
	free(hold_dir);
	free(from_dir);
	free(to_dir);
	free(env_from);
	free(env_to);
	free(msg_from);
	free(msg_to);
	return r;
}

/* --- commands --- */

/* queue_flush - "flush [ID]": only smtpd can try a delivery */
static int
queue_flush(const struct conf *conf, const char *id)
{
	char *line;
	int r;

	line = id == NULL ? xstrdup("flush") : xasprintf("flush %s", id);
	r = ask_smtpd(conf, line, line, false);
	free(line);
	return r;
}

/* queue_change - "delete|hold|release ID": smtpd, else the files */
static int
queue_change(const struct conf *conf, const char *verb, const char *id)
{
	char *line;
	int r;

	line = xasprintf("%s %s", verb, id);
	r = ask_smtpd(conf, line, line, true);
	free(line);
	if (r != -2)
		return r;
	if (strcmp(verb, "delete") == 0)
		r = direct_delete(conf_str(conf, "queue", "dir"), id);
	else
		r = direct_move(conf_str(conf, "queue", "dir"), id,
		    strcmp(verb, "hold") == 0);
	if (r == 0)
		printf("%s: %s on disk (smtpd is not running)\n", id,
		    strcmp(verb, "delete") == 0 ? "deleted" :
		    strcmp(verb, "hold") == 0 ? "held" : "released");
	return r;
}

/* ctl_queue - "queue list | flush [ID] | delete|hold|release ID" */
int
ctl_queue(int argc, char **argv, struct conf *conf)
{
	const char *cmd;

	if (argc < 1)
		return usage_queue();
	cmd = argv[0];
	/* every id is checked before it is part of any path or request */
	if (argc == 2 && !queue_id_valid(argv[1])) {
		fprintf(stderr, "bastidectl: queue %s: invalid queue id\n",
		    cmd);
		return EX_USAGE;
	}
	if (strcmp(cmd, "list") == 0 && argc == 1)
		return queue_list(conf);
	if (strcmp(cmd, "flush") == 0 && argc <= 2)
		return queue_flush(conf, argc == 2 ? argv[1] : NULL);
	if ((strcmp(cmd, "delete") == 0 || strcmp(cmd, "hold") == 0 ||
	    strcmp(cmd, "release") == 0) && argc == 2)
		return queue_change(conf, cmd, argv[1]);
	return usage_queue();
}
