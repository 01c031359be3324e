/* test_outq.c - unit tests for smtpd/outq.c: the queue on disk, the
 * runner, retries, notices and control commands */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "queue.h"
#include "xmalloc.h"

#include "fake_smtp.h"
#include "outq.h"
#include "smtp_local.h"

/*
 * smtp_local stand-in: "local.test" is ours; delivery records the
 * message and answers from a table.  Defined here, these win over the
 * library's smtp_local.o, which is then never linked (no LDAP, no store).
 */
static pthread_mutex_t local_lock = PTHREAD_MUTEX_INITIALIZER;
static struct buf local_got;		/* every delivery, "TO addr\n" + msg */
static unsigned int local_count;

bool
smtp_local_is_local_domain(const struct smtp_local *l, const char *domain)
{
	return strcmp(domain, "local.test") == 0;
}

int
smtp_local_deliver(struct smtp_local *l, const char *address,
    const char *msg, size_t len, char **reply_r)
{
	pthread_mutex_lock(&local_lock);
	(void)buf_printf(&local_got, "TO %s\n", address);
	(void)buf_append(&local_got, msg, len);
	(void)buf_append_str(&local_got, "\n--END--\n");
	local_count++;
	pthread_mutex_unlock(&local_lock);
	if (strncmp(address, "nobody@", 7) == 0) {
		*reply_r = xasprintf("550 5.1.1 <%s>: no such user", address);
		return 1;
	}
	if (strncmp(address, "full@", 5) == 0) {
		*reply_r = xasprintf("452 4.2.2 <%s>: over quota", address);
		return -1;
	}
	return 0;
}

static const char message[] =
    "From: alice@example.test\r\n"
    "To: bob@remote.example\r\n"
    "Subject: t\r\n"
    "\r\n"
    "Hello.\r\n";

struct t {
	char		 dir[64];
	struct event_base *base;
	struct event	*tick;
	struct conf	*conf;
	struct outq	*q;
};

/* on_tick - a heartbeat so that EVLOOP_ONCE returns often */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
}

/* t_conf - [queue] settings for this test: extra, then the test
 * defaults extra does not set */
static struct conf *
t_conf(struct t *t, const char *extra)
{
	static const char *const defaults[][2] = {
		{ "retry_min", "1s" }, { "retry_max", "1s" },
		{ "connect_timeout", "1s" }, { "command_timeout", "2s" },
		{ "helo_name", "mx.example.test" },
	};
	struct conf *conf = NULL;
	struct buf b;
	char *err = NULL, *key;
	size_t i;

	buf_init(&b, 0);
	(void)buf_printf(&b, "[queue]\ndir = %s\n%s\n", t->dir, extra);
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		key = xasprintf("%s =", defaults[i][0]);
		if (strstr(extra, key) == NULL)
			(void)buf_printf(&b, "%s = %s\n", defaults[i][0],
			    defaults[i][1]);
		free(key);
	}
	if (conf_load_string("test", buf_cstr(&b), conf_schemas_bastide,
	    &conf, &err) < 0)
		fail_msg("conf: %s", err);
	buf_deinit(&b);
	return conf;
}

/* t_start - a fresh directory (unless keep), a loop and a queue */
static void
t_start(struct t *t, const char *extra, bool keep)
{
	struct timeval tv = { 0, 20000 };
	char *err = NULL;

	if (!keep) {
		snprintf(t->dir, sizeof(t->dir), "/tmp/test_outq.XXXXXX");
		assert_non_null(mkdtemp(t->dir));
	}
	t->base = event_base_new();
	t->tick = event_new(t->base, -1, EV_PERSIST, on_tick, NULL);
	event_add(t->tick, &tv);
	t->conf = t_conf(t, extra);
	if (outq_new(t->conf, t->base, NULL, (struct smtp_local *)t,
	    &t->q, &err) < 0)
		fail_msg("outq_new: %s", err);
}

/* t_stop - free the queue and the loop; keep the directory */
static void
t_stop(struct t *t)
{
	outq_free(&t->q);
	assert_null(t->q);
	conf_free(&t->conf);
	event_free(t->tick);
	event_base_free(t->base);
}

/* rm_rf - remove the test directory */
static void
rm_rf(const char *path)
{
	char *cmd = xasprintf("rm -rf '%s'", path);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* t_end - stop and remove everything */
static void
t_end(struct t *t)
{
	t_stop(t);
	rm_rf(t->dir);
}

/* spin - run the loop for a while */
static void
spin(struct t *t, unsigned int ms)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		event_base_loop(t->base, EVLOOP_ONCE);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - t0.tv_sec) * 1000 +
	    (now.tv_nsec - t0.tv_nsec) / 1000000 < (long)ms);
}

/* wait_for - run the loop until pred(arg) or the seconds pass */
static bool
wait_for(struct t *t, bool (*pred)(struct t *, void *), void *arg,
    unsigned int secs)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (pred(t, arg))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > (time_t)secs)
			return false;
		event_base_loop(t->base, EVLOOP_ONCE);
	}
}

/* enqueue - one message from sender to the recipients; returns its id */
static char *
enqueue(struct t *t, const char *sender, const char *const *rcpts,
    const unsigned int *notify, size_t n)
{
	struct queue_env *env;
	struct queue_rcpt *r;
	char *err = NULL, *id;
	size_t i;

	env = queue_env_new("", 0, sender);
	for (i = 0; i < n; i++) {
		r = queue_env_add_rcpt(env, rcpts[i]);
		if (notify != NULL)
			r->notify = notify[i];
	}
	if (outq_enqueue(t->q, message, sizeof(message) - 1, env, &err) < 0)
		fail_msg("enqueue: %s", err);
	id = xstrdup(env->id);
	queue_env_free(&env);
	return id;
}

/* read_env - the envelope of id in dir, or NULL */
static struct queue_env *
read_env(const char *dir, const char *id)
{
	struct queue_env *env = NULL;
	char *path = queue_env_path(dir, id), *err = NULL;

	if (queue_env_read(path, &env, &err) < 0) {
		free(err);
		env = NULL;
	}
	free(path);
	return env;
}

/* exists - dir/name exists */
static bool
exists(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	bool r = stat(p, &st) == 0;

	free(p);
	return r;
}

/* count_suffix - entries of dir ending in suffix */
static unsigned int
count_suffix(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned int n = 0;
	size_t len, sl = strlen(suffix);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] != '.' && len >= sl &&
		    strcmp(de->d_name + len - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* control - one command; the reply in *out (caller deinits) */
static int
control(struct t *t, struct buf *out, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int r;

	va_start(ap, fmt);
	assert_true(vasprintf(&line, fmt, ap) >= 0);
	va_end(ap);
	buf_init(out, 0);
	r = outq_control(t->q, line, out);
	free(line);
	return r;
}

/* attempts_at_least - predicate: rcpt 0 of id was tried n times */
struct attempts_arg {
	const char	*id;
	uint32_t	 n;
};

static bool
attempts_at_least(struct t *t, void *arg)
{
	struct attempts_arg *a = arg;
	struct queue_env *env = read_env(t->dir, a->id);
	bool r = env != NULL && env->rcpts[0].attempts >= a->n;

	queue_env_free(&env);
	return r;
}

/* queue_empty - predicate: no envelope left in the main directory */
static bool
queue_empty(struct t *t, void *arg)
{
	return count_suffix(t->dir, ".env") == 0;
}

/* fake_messages_at_least - predicate on a fake server */
static bool
fake_messages_at_least(struct t *t, void *arg)
{
	struct fake_smtp *f = ((void **)arg)[0];
	unsigned int n = *(unsigned int *)((void **)arg)[1], m;

	pthread_mutex_lock(&f->lock);
	m = f->messages;
	pthread_mutex_unlock(&f->lock);
	return m >= n;
}

/* wait_messages - until the fake took n messages */
static void
wait_messages(struct t *t, struct fake_smtp *f, unsigned int n,
    unsigned int secs)
{
	void *arg[2] = { f, &n };

	if (!wait_for(t, fake_messages_at_least, arg, secs))
		fail_msg("fake server: got %u messages, want %u", f->messages,
		    n);
}

/* relay_to - the [queue] line for a relay host on 127.0.0.1 */
static char *
relay_to(unsigned int port, const char *more)
{
	return xasprintf("relay_host = 127.0.0.1:%u\n%s", port, more);
}

/* --- tests --- */

/* retry_delay_doubles_up_to_the_maximum - a table */
static void
retry_delay_doubles_up_to_the_maximum(void **state)
{
	static const struct {
		uint64_t min, max;
		uint32_t attempts;
		uint64_t want;
	} cases[] = {
		{ 300, 3600, 1, 300 },
		{ 300, 3600, 2, 600 },
		{ 300, 3600, 3, 1200 },
		{ 300, 3600, 4, 2400 },
		{ 300, 3600, 5, 3600 },
		{ 300, 3600, 100, 3600 },
		{ 300, 3600, UINT32_MAX, 3600 },
		{ 1, 1, 7, 1 },
		{ 600, 60, 3, 600 },	/* max below min: min wins */
		{ 1, UINT64_MAX, 80, UINT64_MAX },
	};
	uint64_t got;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = outq_retry_delay(cases[i].min, cases[i].max,
		    cases[i].attempts);
		if (got != cases[i].want)
			fail_msg("min %llu max %llu after %u: got %llu, want "
			    "%llu", (unsigned long long)cases[i].min,
			    (unsigned long long)cases[i].max,
			    cases[i].attempts, (unsigned long long)got,
			    (unsigned long long)cases[i].want);
	}
}

struct enq_arg {
	struct t	*t;
	char		*ids[25];
};

/* enq_thread - 25 enqueues from one thread */
static void *
enq_thread(void *p)
{
	static const char *const to[] = { "bob@remote.example" };
	struct enq_arg *a = p;
	int i;

	for (i = 0; i < 25; i++)
		a->ids[i] = enqueue(a->t, "alice@example.test", to, NULL, 1);
	return NULL;
}

/* enqueue_is_durable_unique_and_safe_from_any_thread */
static void
enqueue_is_durable_unique_and_safe_from_any_thread(void **state)
{
	struct t t;
	struct enq_arg a[4];
	pthread_t th[4];
	struct queue_env *env;
	char *path, *data, *rp;
	size_t i, k, n = 0, len;
	char *all[100];
	struct buf out;
	FILE *fp;

	t_start(&t, "relay_host = 127.0.0.1:1\nretry_min = 1h\n", false);
	for (i = 0; i < 4; i++) {
		a[i].t = &t;
		assert_int_equal(pthread_create(&th[i], NULL, enq_thread,
		    &a[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++)
		for (k = 0; k < 25; k++)
			all[n++] = a[i].ids[k];
	for (i = 0; i < n; i++) {
		assert_true(queue_id_valid(all[i]));
		for (k = 0; k < i; k++)
			if (strcmp(all[i], all[k]) == 0)
				fail_msg("id %s twice", all[i]);
		env = read_env(t.dir, all[i]);
		assert_non_null(env);
		assert_string_equal(env->id, all[i]);
		assert_string_equal(env->sender, "alice@example.test");
		assert_true(env->arrival > 0);
		assert_int_equal(env->rcpts[0].status, QUEUE_RCPT_PENDING);
		queue_env_free(&env);
		path = xasprintf("%s/%s.msg", t.dir, all[i]);
		fp = fopen(path, "r");
		assert_non_null(fp);
		data = xmalloc(sizeof(message) + 10);
		len = fread(data, 1, sizeof(message) + 10, fp);
		fclose(fp);
		assert_int_equal(len, sizeof(message) - 1);
		assert_memory_equal(data, message, len);
		free(data);
		free(path);
	}
	assert_int_equal(count_suffix(t.dir, ".env"), 100);
	assert_int_equal(count_suffix(t.dir, ".msg"), 100);
	path = xasprintf("%s/tmp", t.dir);
	assert_int_equal(count_suffix(path, ""), 0);
	free(path);

	/* the runner takes them all in */
	spin(&t, 200);
	assert_int_equal(control(&t, &out, "list"), 0);
	rp = strstr(buf_cstr(&out), "in 100 Requests.");
	assert_non_null(rp);
	buf_deinit(&out);
	for (i = 0; i < n; i++)
		free(all[i]);
	t_end(&t);
}

/* failing_io - fsync that fails */
static int
failing_fsync(int fd)
{
	errno = EIO;
	return -1;
}

/* a_failed_enqueue_leaves_nothing_behind */
static void
a_failed_enqueue_leaves_nothing_behind(void **state)
{
	static const struct queue_io io = { write, failing_fsync, rename };
	struct t t;
	struct queue_env *env;
	char *err = NULL;

	t_start(&t, "relay_host = 127.0.0.1:1\n", false);
	env = queue_env_new("", 0, "alice@example.test");
	(void)queue_env_add_rcpt(env, "bob@remote.example");
	queue_set_io(&io);
	assert_int_equal(outq_enqueue(t.q, message, sizeof(message) - 1, env,
	    &err), -1);
	queue_set_io(NULL);
	assert_non_null(err);
	assert_non_null(strstr(err, "fsync"));
	free(err);
	assert_int_equal(count_suffix(t.dir, ".env"), 0);
	assert_int_equal(count_suffix(t.dir, ".msg"), 0);
	assert_int_equal(count_suffix(t.dir, ".tmp"), 0);
	queue_env_free(&env);
	t_end(&t);
}

/* a_temporary_failure_is_retried_with_back_off */
static void
a_temporary_failure_is_retried_with_back_off(void **state)
{
	static const char *const to[] = { "bob@remote.example" };
	struct attempts_arg a;
	struct queue_env *env;
	struct t t;
	char *extra, *id, *want;
	unsigned int port = fake_closed_port();
	int64_t before;

	extra = relay_to(port, "retry_max = 2s\n");
	t_start(&t, extra, false);
	id = enqueue(&t, "alice@example.test", to, NULL, 1);
	a.id = id;
	a.n = 1;
	before = (int64_t)time(NULL);
	assert_true(wait_for(&t, attempts_at_least, &a, 5));
	env = read_env(t.dir, id);
	assert_int_equal(env->rcpts[0].status, QUEUE_RCPT_PENDING);
	want = xasprintf("4.4.1 connect to 127.0.0.1[127.0.0.1]:%u: "
	    "Connection refused", port);
	assert_string_equal(env->rcpts[0].last_error, want);
	/* retry_min after the first failure */
	if (env->rcpts[0].next_attempt < before + 1 ||
	    env->rcpts[0].next_attempt > (int64_t)time(NULL) + 1)
		fail_msg("next attempt: got +%lld s, want +1 s",
		    (long long)(env->rcpts[0].next_attempt - before));
	queue_env_free(&env);

	/* doubled after the second */
	a.n = 2;
	assert_true(wait_for(&t, attempts_at_least, &a, 5));
	before = (int64_t)time(NULL);
	env = read_env(t.dir, id);
	if (env->rcpts[0].next_attempt < before + 1 ||
	    env->rcpts[0].next_attempt > before + 2)
		fail_msg("next attempt: got +%lld s, want +2 s",
		    (long long)(env->rcpts[0].next_attempt - before));
	queue_env_free(&env);
	free(want);
	free(id);
	free(extra);
	t_end(&t);
}

/* a_permanent_failure_bounces_and_the_rest_is_delivered */
static void
a_permanent_failure_bounces_and_the_rest_is_delivered(void **state)
{
	static const char *const to[] = { "ok@remote.example",
	    "gone@remote.example" };
	static const struct fake_rule rules[] = {
		{ "gone@", "550 5.1.1 <gone@remote.example>: no such user" },
		{ NULL, NULL }
	};
	struct fake_smtp f = { 0 };
	struct t t;
	char *extra, *id, *want;
	const char *body, *tr;

	f.rcpt = rules;
	f.max_sessions = 5;
	fake_start(&f);
	extra = relay_to(f.port, "");
	t_start(&t, extra, false);
	id = enqueue(&t, "alice@example.test", to, NULL, 2);
	wait_messages(&t, &f, 2, 10);
	assert_true(wait_for(&t, queue_empty, NULL, 5));
	t_stop(&t);
	fake_stop(&f);
	body = buf_cstr(&f.body);
	tr = buf_cstr(&f.transcript);
	/* the original, then the notice with the null sender */
	assert_non_null(strstr(tr, "MAIL FROM:<alice@example.test>"));
	assert_non_null(strstr(tr, "MAIL FROM:<>"));
	assert_non_null(strstr(tr, "RCPT TO:<alice@example.test>"));
	assert_non_null(strstr(body, "Subject: Undelivered Mail Returned to "
	    "Sender"));
	assert_non_null(strstr(body, "Final-Recipient: rfc822; "
	    "gone@remote.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
	    "Remote-MTA: dns; 127.0.0.1\r\n"));
	assert_null(strstr(body, "Final-Recipient: rfc822; ok@"));
	want = xasprintf("X-Bastide-Queue-ID: %s", id);
	assert_non_null(strstr(body, want));
	free(want);
	assert_non_null(strstr(body, "Content-Type: message/rfc822\r\n\r\n"
	    "From: alice@example.test\r\n"));
	assert_int_equal(f.messages, 2);
	fake_free(&f);
	rm_rf(t.dir);
	free(id);
	free(extra);
}

/* expiry_bounces_once_and_a_null_sender_never_bounces */
static void
expiry_bounces_once_and_a_null_sender_never_bounces(void **state)
{
	static const char *const to[] = { "bob@remote.example" };
	static const struct fake_rule rules[] = {
		{ "bob@", "451 4.3.0 come back later" },
		{ NULL, NULL }
	};
	struct fake_smtp f = { 0 };
	struct t t;
	char *extra, *id1, *id2, *want;
	const char *body, *p;
	unsigned int dsns = 0;

	f.rcpt = rules;
	f.max_sessions = 30;
	fake_start(&f);
	extra = relay_to(f.port, "lifetime = 1s\ndelay_warning = 0\n");
	t_start(&t, extra, false);
	id1 = enqueue(&t, "alice@example.test", to, NULL, 1);
	id2 = enqueue(&t, "", to, NULL, 1);
	wait_messages(&t, &f, 1, 10);
	assert_true(wait_for(&t, queue_empty, NULL, 10));
	spin(&t, 300);
	t_stop(&t);
	fake_stop(&f);
	body = buf_cstr(&f.body);
	for (p = body; (p = strstr(p, "Action: failed")) != NULL; p++)
		dsns++;
	assert_int_equal(dsns, 1);
	assert_int_equal(f.messages, 1);
	want = xasprintf("X-Bastide-Queue-ID: %s", id1);
	assert_non_null(strstr(body, want));
	free(want);
	assert_non_null(strstr(body, "Status: 4.3.0\r\n"));
	assert_non_null(strstr(body, "Diagnostic-Code: smtp; 451 4.3.0 come "
	    "back later\r\n"));
	fake_free(&f);
	rm_rf(t.dir);
	free(id1);
	free(id2);
	free(extra);
}

/* one_delay_notice_per_message_for_those_who_want_it */
static void
one_delay_notice_per_message_for_those_who_want_it(void **state)
{
	static const char *const to[] = { "bob@remote.example",
	    "carol@remote.example" };
	static const unsigned int notify[] = { 0, QUEUE_NOTIFY_NEVER };
	static const struct fake_rule rules[] = {
		{ "remote.example", "451 4.3.0 come back later" },
		{ NULL, NULL }
	};
	struct fake_smtp f = { 0 };
	struct attempts_arg a;
	struct queue_env *env;
	struct t t;
	char *extra, *id;
	const char *body, *p;
	unsigned int n = 0;

	f.rcpt = rules;
	f.max_sessions = 30;
	fake_start(&f);
	extra = relay_to(f.port, "lifetime = 1h\ndelay_warning = 1s\n");
	t_start(&t, extra, false);
	id = enqueue(&t, "alice@example.test", to, notify, 2);
	a.id = id;
	a.n = 4;
	assert_true(wait_for(&t, attempts_at_least, &a, 10));
	env = read_env(t.dir, id);
	assert_int_equal(env->rcpts[0].status, QUEUE_RCPT_DEFERRED);
	assert_int_equal(env->rcpts[1].status, QUEUE_RCPT_DEFERRED);
	queue_env_free(&env);
	t_stop(&t);
	fake_stop(&f);
	body = buf_cstr(&f.body);
	for (p = body; (p = strstr(p, "Action: delayed")) != NULL; p++)
		n++;
	assert_int_equal(n, 1);
	assert_non_null(strstr(body, "Final-Recipient: rfc822; "
	    "bob@remote.example"));
	assert_null(strstr(body, "Final-Recipient: rfc822; carol@"));
	assert_non_null(strstr(body, "Will-Retry-Until: "));
	assert_non_null(strstr(body, "Content-Type: text/rfc822-headers"));
	fake_free(&f);
	rm_rf(t.dir);
	free(id);
	free(extra);
}

/* notify_success_gets_a_relayed_notice_only_from_a_server_without_dsn */
static void
notify_success_gets_a_relayed_notice_only_from_a_server_without_dsn(
    void **state)
{
	static const char *const to[] = { "bob@remote.example" };
	static const unsigned int notify[] = { QUEUE_NOTIFY_SUCCESS };
	struct fake_smtp f;
	struct t t;
	char *extra, *id;

	/* no DSN at the server: we say "relayed" */
	memset(&f, 0, sizeof(f));
	f.max_sessions = 5;
	fake_start(&f);
	extra = relay_to(f.port, "");
	t_start(&t, extra, false);
	id = enqueue(&t, "alice@example.test", to, notify, 1);
	wait_messages(&t, &f, 2, 10);
	assert_true(wait_for(&t, queue_empty, NULL, 5));
	t_stop(&t);
	fake_stop(&f);
	assert_non_null(strstr(buf_cstr(&f.body), "Action: relayed\r\n"
	    "Status: 2.0.0\r\nRemote-MTA: dns; 127.0.0.1\r\n"));
	fake_free(&f);
	rm_rf(t.dir);
	free(id);
	free(extra);

	/* DSN at the server: NOTIFY goes along, no notice from us */
	memset(&f, 0, sizeof(f));
	f.ehlo = "250-fake\r\n250 DSN";
	f.max_sessions = 5;
	fake_start(&f);
	extra = relay_to(f.port, "");
	t_start(&t, extra, false);
	id = enqueue(&t, "alice@example.test", to, notify, 1);
	wait_messages(&t, &f, 1, 10);
	assert_true(wait_for(&t, queue_empty, NULL, 5));
	spin(&t, 300);
	t_stop(&t);
	fake_stop(&f);
	assert_int_equal(f.messages, 1);
	assert_non_null(strstr(buf_cstr(&f.transcript),
	    "RCPT TO:<bob@remote.example> NOTIFY=SUCCESS"));
	fake_free(&f);
	rm_rf(t.dir);
	free(id);
	free(extra);
}

/* local_recipients_and_local_bounces_go_through_smtp_local */
static void
local_recipients_and_local_bounces_go_through_smtp_local(void **state)
{
	static const char *const to[] = { "bob@local.test",
	    "nobody@local.test" };
	static const unsigned int notify[] = { QUEUE_NOTIFY_SUCCESS, 0 };
	struct t t;
	char *extra, *id;
	const char *got;
	unsigned int port = fake_closed_port();

	buf_init(&local_got, 0);
	local_count = 0;
	extra = relay_to(port, "");
	t_start(&t, extra, false);
	id = enqueue(&t, "alice@local.test", to, notify, 2);
	assert_true(wait_for(&t, queue_empty, NULL, 10));
	spin(&t, 200);
	t_end(&t);
	got = buf_cstr(&local_got);
	/* bob got it with its Return-Path */
	assert_non_null(strstr(got, "TO bob@local.test\nReturn-Path: "
	    "<alice@local.test>\r\nFrom: alice@example.test\r\n"));
	/* one notice to alice: bob delivered, nobody failed */
	assert_non_null(strstr(got, "TO alice@local.test\nReturn-Path: "
	    "<>\r\n"));
	assert_non_null(strstr(got, "Final-Recipient: rfc822; "
	    "bob@local.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n"));
	assert_non_null(strstr(got, "Final-Recipient: rfc822; "
	    "nobody@local.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <nobody@local.test>: no such "
	    "user\r\n"));
	assert_int_equal(local_count, 3);
	buf_deinit(&local_got);
	free(id);
	free(extra);
}

/* control_commands_list_hold_release_flush_and_delete */
static void
control_commands_list_hold_release_flush_and_delete(void **state)
{
	static const char *const to[] = { "bob@remote.example" };
	struct attempts_arg a;
	struct buf out;
	struct t t;
	char *extra, *id, *name, *hold;
	const char *s;

	extra = relay_to(fake_closed_port(), "retry_min = 1h\n"
	    "retry_max = 1h\n");
	t_start(&t, extra, false);
	hold = xasprintf("%s/hold", t.dir);
	id = enqueue(&t, "alice@example.test", to, NULL, 1);
	a.id = id;
	a.n = 1;
	assert_true(wait_for(&t, attempts_at_least, &a, 5));
	spin(&t, 100);

	assert_int_equal(control(&t, &out, "list"), 0);
	s = buf_cstr(&out);
	assert_non_null(strstr(s, id));
	assert_non_null(strstr(s, "alice@example.test"));
	assert_non_null(strstr(s, "(4.4.1 connect to"));
	assert_non_null(strstr(s, "bob@remote.example\n"));
	assert_non_null(strstr(s, "-- 1 Kbytes in 1 Request.\nOK\n"));
	buf_deinit(&out);

	/* hold: both files move, the mark shows */
	assert_int_equal(control(&t, &out, "hold %s", id), 0);
	assert_string_equal(buf_cstr(&out), "OK\n");
	buf_deinit(&out);
	name = xasprintf("%s.env", id);
	assert_true(exists(hold, name));
	assert_false(exists(t.dir, name));
	free(name);
	name = xasprintf("%s.msg", id);
	assert_true(exists(hold, name));
	assert_false(exists(t.dir, name));
	free(name);
	assert_int_equal(control(&t, &out, "list"), 0);
	name = xasprintf("%s!", id);
	assert_non_null(strstr(buf_cstr(&out), name));
	free(name);
	buf_deinit(&out);

	/* what makes no sense is refused */
	assert_int_equal(control(&t, &out, "hold %s", id), -1);
	assert_string_equal(buf_cstr(&out), "ERR message is already held\n");
	buf_deinit(&out);
	assert_int_equal(control(&t, &out, "flush %s", id), -1);
	assert_string_equal(buf_cstr(&out), "ERR message is held\n");
	buf_deinit(&out);
	assert_int_equal(control(&t, &out, "release 0000000000000000XX"), -1);
	assert_string_equal(buf_cstr(&out), "ERR no such message\n");
	buf_deinit(&out);
	assert_int_equal(control(&t, &out, "delete ../etc/passwd"), -1);
	assert_string_equal(buf_cstr(&out), "ERR bad queue id\n");
	buf_deinit(&out);
	assert_int_equal(control(&t, &out, "frobnicate"), -1);
	assert_true(strncmp(buf_cstr(&out), "ERR usage:", 10) == 0);
	buf_deinit(&out);
	assert_int_equal(control(&t, &out, "hold"), -1);
	buf_deinit(&out);

	/* release: back, and tried again at once */
	assert_int_equal(control(&t, &out, "release %s", id), 0);
	buf_deinit(&out);
	name = xasprintf("%s.env", id);
	assert_true(exists(t.dir, name));
	assert_false(exists(hold, name));
	free(name);
	a.n = 2;
	assert_true(wait_for(&t, attempts_at_least, &a, 5));

	/* flush: tried again at once, though retry_min is an hour */
	spin(&t, 100);
	assert_int_equal(control(&t, &out, "flush"), 0);
	buf_deinit(&out);
	a.n = 3;
	assert_true(wait_for(&t, attempts_at_least, &a, 5));
	spin(&t, 100);
	assert_int_equal(control(&t, &out, "flush %s", id), 0);
	buf_deinit(&out);
	a.n = 4;
	assert_true(wait_for(&t, attempts_at_least, &a, 5));
	spin(&t, 100);

	/* delete: gone, without a notice */
	assert_int_equal(control(&t, &out, "delete %s", id), 0);
	buf_deinit(&out);
	assert_int_equal(count_suffix(t.dir, ".env"), 0);
	assert_int_equal(count_suffix(t.dir, ".msg"), 0);
	assert_int_equal(control(&t, &out, "list"), 0);
	assert_string_equal(buf_cstr(&out), "Mail queue is empty\nOK\n");
	buf_deinit(&out);
	spin(&t, 200);
	assert_int_equal(count_suffix(t.dir, ".env"), 0);
	free(hold);
	free(id);
	free(extra);
	t_end(&t);
}

/* held_file - predicate: hold/<arg> exists */
static bool
held_file(struct t *t, void *arg)
{
	char *hold = xasprintf("%s/hold", t->dir);
	bool r = exists(hold, arg);

	free(hold);
	return r;
}

/* hold_and_delete_of_a_running_message_wait_for_its_attempt */
static void
hold_and_delete_of_a_running_message_wait_for_its_attempt(void **state)
{
	static const char *const to[] = { "bob@remote.example" };
	struct fake_smtp f = { 0 };
	struct buf out;
	struct t t;
	char *extra, *id, *hold, *name;
	struct queue_env *env;

	f.silent = true;
	f.max_sessions = 5;
	fake_start(&f);
	extra = relay_to(f.port, "command_timeout = 1s\nretry_min = 1h\n"
	    "retry_max = 1h\n");
	t_start(&t, extra, false);
	hold = xasprintf("%s/hold", t.dir);
	id = enqueue(&t, "alice@example.test", to, NULL, 1);
	spin(&t, 300);
	assert_int_equal(control(&t, &out, "list"), 0);
	name = xasprintf("%s*", id);
	assert_non_null(strstr(buf_cstr(&out), name));
	free(name);
	buf_deinit(&out);
	assert_int_equal(control(&t, &out, "hold %s", id), 0);
	buf_deinit(&out);
	/* not yet: the attempt owns the files */
	name = xasprintf("%s.env", id);
	assert_false(exists(hold, name));
	assert_true(wait_for(&t, held_file, name, 5));
	env = read_env(hold, id);
	assert_non_null(env);
	assert_int_equal(env->rcpts[0].attempts, 1);
	queue_env_free(&env);
	free(name);
	t_stop(&t);
	fake_stop(&f);
	fake_free(&f);
	rm_rf(t.dir);
	free(hold);
	free(id);
	free(extra);
}

/* freeing_the_queue_interrupts_a_running_attempt */
static void
freeing_the_queue_interrupts_a_running_attempt(void **state)
{
	static const char *const to[] = { "bob@remote.example" };
	struct fake_smtp f = { 0 };
	struct queue_env *env;
	struct timespec t0, t1;
	struct t t;
	char *extra, *id;

	f.silent = true;
	fake_start(&f);
	extra = relay_to(f.port, "command_timeout = 60s\n");
	t_start(&t, extra, false);
	id = enqueue(&t, "alice@example.test", to, NULL, 1);
	spin(&t, 300);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t_stop(&t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fake_stop(&f);
	if (t1.tv_sec - t0.tv_sec > 5)
		fail_msg("outq_free took %lld s, want well under the 60 s "
		    "timeout", (long long)(t1.tv_sec - t0.tv_sec));
	/* the interrupted attempt is recorded, the message kept */
	env = read_env(t.dir, id);
	assert_non_null(env);
	assert_int_equal(env->rcpts[0].attempts, 1);
	assert_true(strncmp(env->rcpts[0].last_error, "4.3.2 ", 6) == 0);
	queue_env_free(&env);
	fake_free(&f);
	rm_rf(t.dir);
	free(id);
	free(extra);
}

/* write_file - a file with content */
static void
write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	fclose(fp);
	free(path);
}

/* write_env - an envelope file for id in dir */
static void
write_env(const char *dir, const char *id, enum queue_status st)
{
	struct queue_env *env = queue_env_new(id, (int64_t)time(NULL),
	    "alice@example.test");
	char *err = NULL;

	queue_env_add_rcpt(env, "bob@remote.example")->status = st;
	if (queue_env_write(dir, env, &err) < 0)
		fail_msg("%s", err);
	queue_env_free(&env);
}

/* msg_gone - predicate: the listing does not show arg any more */
static bool
msg_gone(struct t *t, void *arg)
{
	struct buf out;
	bool r;

	(void)control(t, &out, "list");
	r = strstr(buf_cstr(&out), arg) == NULL;
	buf_deinit(&out);
	return r;
}

/* an_envelope_damaged_while_queued_is_moved_aside_at_its_attempt */
static void
an_envelope_damaged_while_queued_is_moved_aside_at_its_attempt(
    void **state)
{
	static const char *const to[] = { "bob@remote.example" };
	struct attempts_arg a;
	struct buf out;
	struct t t;
	char *extra, *id, *name, *corrupt;

	extra = relay_to(fake_closed_port(), "retry_min = 1h\n"
	    "retry_max = 1h\n");
	t_start(&t, extra, false);
	corrupt = xasprintf("%s/corrupt", t.dir);
	id = enqueue(&t, "alice@example.test", to, NULL, 1);
	a.id = id;
	a.n = 1;
	assert_true(wait_for(&t, attempts_at_least, &a, 5));
	spin(&t, 100);
	name = xasprintf("%s.env", id);
	write_file(t.dir, name, "BSTQ\0\1\0\0 torn", 13);
	assert_int_equal(control(&t, &out, "flush %s", id), 0);
	buf_deinit(&out);
	assert_true(wait_for(&t, msg_gone, id, 5));
	assert_true(exists(corrupt, name));
	assert_false(exists(t.dir, name));
	free(name);
	name = xasprintf("%s.msg", id);
	assert_true(exists(corrupt, name));
	free(name);
	free(corrupt);
	free(id);
	free(extra);
	t_end(&t);
}

/* a_restart_picks_up_the_queue_and_repairs_what_a_crash_left */
static void
a_restart_picks_up_the_queue_and_repairs_what_a_crash_left(void **state)
{
	static const char *const to[] = { "bob@remote.example" };
	struct buf out;
	struct t t;
	char *extra, *id1, *id2, *hold, *tmp, *corrupt;
	const char *s;

	extra = relay_to(fake_closed_port(), "retry_min = 1h\n");
	t_start(&t, extra, false);
	id1 = enqueue(&t, "alice@example.test", to, NULL, 1);
	id2 = enqueue(&t, "", to, NULL, 1);
	/* stopped before the loop ever ran: a crash right after the 250 */
	t_stop(&t);

	hold = xasprintf("%s/hold", t.dir);
	tmp = xasprintf("%s/tmp", t.dir);
	corrupt = xasprintf("%s/corrupt", t.dir);
	/* an unfinished enqueue: message, no envelope */
	write_file(t.dir, "ORPHAN1.msg", "x", 1);
	write_file(tmp, "ORPHAN2.msg", "x", 1);
	write_file(t.dir, "HALF1.env.tmp", "x", 1);
	/* a hold that crashed after the envelope moved */
	write_env(hold, "HELD1", QUEUE_RCPT_PENDING);
	write_file(t.dir, "HELD1.msg", message, sizeof(message) - 1);
	/* a release that crashed after the envelope moved back */
	write_env(t.dir, "REL1", QUEUE_RCPT_PENDING);
	write_file(hold, "REL1.msg", message, sizeof(message) - 1);
	/* finished, but the removal was lost */
	write_env(t.dir, "DONE1", QUEUE_RCPT_DELIVERED);
	write_file(t.dir, "DONE1.msg", message, sizeof(message) - 1);
	/* damaged */
	write_file(t.dir, "BAD1.env", "BSTQ garbage", 12);
	write_file(t.dir, "BAD1.msg", message, sizeof(message) - 1);

	t_start(&t, extra, true);
	assert_int_equal(control(&t, &out, "list"), 0);
	s = buf_cstr(&out);
	assert_non_null(strstr(s, id1));
	assert_non_null(strstr(s, id2));
	assert_non_null(strstr(s, "MAILER-DAEMON"));
	assert_non_null(strstr(s, "HELD1             !"));
	assert_non_null(strstr(s, "REL1 "));
	assert_null(strstr(s, "DONE1"));
	assert_null(strstr(s, "BAD1"));
	assert_non_null(strstr(s, "in 4 Requests."));
	buf_deinit(&out);
	assert_false(exists(t.dir, "ORPHAN1.msg"));
	assert_false(exists(tmp, "ORPHAN2.msg"));
	assert_false(exists(t.dir, "HALF1.env.tmp"));
	assert_true(exists(hold, "HELD1.msg"));
	assert_false(exists(t.dir, "HELD1.msg"));
	assert_true(exists(t.dir, "REL1.msg"));
	assert_false(exists(hold, "REL1.msg"));
	assert_false(exists(t.dir, "DONE1.env"));
	assert_false(exists(t.dir, "DONE1.msg"));
	assert_true(exists(corrupt, "BAD1.env"));
	assert_true(exists(corrupt, "BAD1.msg"));
	t_end(&t);
	free(hold);
	free(tmp);
	free(corrupt);
	free(id1);
	free(id2);
	free(extra);
}

/* attempts_to_one_destination_respect_its_concurrency - a table */
static void
attempts_to_one_destination_respect_its_concurrency(void **state)
{
	static const char *const to[] = { "bob@remote.example" };
	static const unsigned int limits[] = { 1, 2 };
	struct fake_smtp f;
	struct buf out;
	struct t t;
	char *extra, *more, *id[3];
	const char *p;
	unsigned int running;
	size_t i, k;

	for (i = 0; i < 2; i++) {
		memset(&f, 0, sizeof(f));
		f.silent = true;
		f.max_sessions = 10;
		fake_start(&f);
		more = xasprintf("command_timeout = 2s\nretry_min = 1h\n"
		    "retry_max = 1h\ndestination_concurrency = %u\n",
		    limits[i]);
		extra = relay_to(f.port, more);
		t_start(&t, extra, false);
		for (k = 0; k < 3; k++)
			id[k] = enqueue(&t, "alice@example.test", to, NULL, 1);
		spin(&t, 500);
		assert_int_equal(control(&t, &out, "list"), 0);
		running = 0;
		for (k = 0; k < 3; k++) {
			p = strstr(buf_cstr(&out), id[k]);
			assert_non_null(p);
			if (p[strlen(id[k])] == '*')
				running++;
		}
		if (running != limits[i])
			fail_msg("got %u attempts running, want %u", running,
			    limits[i]);
		buf_deinit(&out);
		t_stop(&t);
		fake_stop(&f);
		fake_free(&f);
		rm_rf(t.dir);
		for (k = 0; k < 3; k++)
			free(id[k]);
		free(extra);
		free(more);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(retry_delay_doubles_up_to_the_maximum),
		cmocka_unit_test(
		    enqueue_is_durable_unique_and_safe_from_any_thread),
		cmocka_unit_test(a_failed_enqueue_leaves_nothing_behind),
		cmocka_unit_test(a_temporary_failure_is_retried_with_back_off),
		cmocka_unit_test(
		    a_permanent_failure_bounces_and_the_rest_is_delivered),
		cmocka_unit_test(
		    expiry_bounces_once_and_a_null_sender_never_bounces),
		cmocka_unit_test(
		    one_delay_notice_per_message_for_those_who_want_it),
		cmocka_unit_test(
		    notify_success_gets_a_relayed_notice_only_from_a_server_without_dsn),
		cmocka_unit_test(
		    local_recipients_and_local_bounces_go_through_smtp_local),
		cmocka_unit_test(
		    control_commands_list_hold_release_flush_and_delete),
		cmocka_unit_test(
		    hold_and_delete_of_a_running_message_wait_for_its_attempt),
		cmocka_unit_test(freeing_the_queue_interrupts_a_running_attempt),
		cmocka_unit_test(
		    an_envelope_damaged_while_queued_is_moved_aside_at_its_attempt),
		cmocka_unit_test(
		    a_restart_picks_up_the_queue_and_repairs_what_a_crash_left),
		cmocka_unit_test(
		    attempts_to_one_destination_respect_its_concurrency),
	};

	signal(SIGPIPE, SIG_IGN);
	/* BASTIDE_TEST_LOG=1 shows the queue's log lines */
	if (getenv("BASTIDE_TEST_LOG") == NULL)
		log_set_level(LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
