/* test_ctlsock.c - unit tests for common/ctlsock.c */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "buf.h"
#include "ctlsock.h"
#include "log.h"

#define TIMEOUT_MS	300		/* the server's, kept short here */
#define WAIT_MS		5000		/* the clients' */
#define BIG_REPLY	(4 * 1024 * 1024)

/* a daemon on a loop thread, and what its handler saw */
struct fx {
	char		 dir[64];
	char		 path[128];
	struct event_base *base;
	struct ctlsock	*cs;
	pthread_t	 thread;
	bool		 running;
	bool		 looping;	/* the loop has run an event */
	pthread_cond_t	 cond;
	pthread_mutex_t	 lock;
	char		 last[CTLSOCK_LINE_MAX + 1];
	int		 calls;
};

/* handler - the test daemon: a few canned replies, else echo */
static void
handler(void *arg, const char *line, struct buf *out)
{
	struct fx *fx = arg;
	size_t i;

	pthread_mutex_lock(&fx->lock);
	snprintf(fx->last, sizeof(fx->last), "%s", line);
	fx->calls++;
	pthread_mutex_unlock(&fx->lock);
	if (strcmp(line, "fail") == 0) {
		buf_append_str(out, "ERR no such message\n");
	} else if (strcmp(line, "many") == 0) {
		buf_append_str(out, "one\ntwo\nthree\nOK\n");
	} else if (strcmp(line, "noend") == 0) {
		buf_append_str(out, "half a reply\n");
	} else if (strcmp(line, "nolf") == 0) {
		buf_append_str(out, "OK");
	} else if (strcmp(line, "big") == 0) {
		/* 64-byte lines: 63 letters and a LF */
		for (i = 0; i < BIG_REPLY / 64; i++)
			buf_printf(out, "%063zu\n", i);
		buf_append_str(out, "OK\n");
	} else {
		buf_printf(out, "got %s\nOK\n", line);
	}
}

/* on_started - the loop runs: a loopbreak from now on is not lost */
static void
on_started(evutil_socket_t fd, short what, void *arg)
{
	struct fx *fx = arg;

	pthread_mutex_lock(&fx->lock);
	fx->looping = true;
	pthread_cond_signal(&fx->cond);
	pthread_mutex_unlock(&fx->lock);
}

/* loop_main - run the loop until the test breaks it */
static void *
loop_main(void *arg)
{
	struct fx *fx = arg;

	event_base_loop(fx->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* fx_new - a temporary directory and a base; no socket yet */
static struct fx *
fx_new(void)
{
	struct fx *fx;

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_ctlsock.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/d.sock", fx->dir);
	pthread_mutex_init(&fx->lock, NULL);
	pthread_cond_init(&fx->cond, NULL);
	fx->base = event_base_new();
	assert_non_null(fx->base);
	return fx;
}

/* fx_start_timeout - listen on fx->path, run the loop in a thread */
static void
fx_start_timeout(struct fx *fx, uint64_t timeout_ms)
{
	struct timeval zero = { 0, 0 };
	char *error = NULL;

	if (ctlsock_listen(fx->base, fx->path, handler, fx, &fx->cs,
	    &error) < 0)
		fail_msg("ctlsock_listen: got error %s, want 0", error);
	ctlsock_set_timeout(fx->cs, timeout_ms);
	fx->looping = false;
	assert_int_equal(event_base_once(fx->base, -1, EV_TIMEOUT, on_started,
	    fx, &zero), 0);
	assert_int_equal(pthread_create(&fx->thread, NULL, loop_main, fx), 0);
	/* event_base_loop() forgets a loopbreak that came before it */
	pthread_mutex_lock(&fx->lock);
	while (!fx->looping)
		pthread_cond_wait(&fx->cond, &fx->lock);
	pthread_mutex_unlock(&fx->lock);
	fx->running = true;
}

/* fx_start - the same with the short test timeout */
static void
fx_start(struct fx *fx)
{
	fx_start_timeout(fx, TIMEOUT_MS);
}

/* fx_stop - stop the loop thread; the ctlsock stays */
static void
fx_stop(struct fx *fx)
{
	if (!fx->running)
		return;
	event_base_loopbreak(fx->base);
	pthread_join(fx->thread, NULL);
	fx->running = false;
}

/* setup - a running daemon on a fresh socket */
static int
setup(void **state)
{
	struct fx *fx = fx_new();

	fx_start(fx);
	*state = fx;
	return 0;
}

/* setup_idle - a directory and a base, nothing listening */
static int
setup_idle(void **state)
{
	*state = fx_new();
	return 0;
}

/* teardown - stop, free, and remove what is left in the directory */
static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	fx_stop(fx);
	ctlsock_free(&fx->cs);
	event_base_free(fx->base);
	pthread_mutex_destroy(&fx->lock);
	pthread_cond_destroy(&fx->cond);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* calls - how often the handler ran */
static int
calls(struct fx *fx)
{
	int n;

	pthread_mutex_lock(&fx->lock);
	n = fx->calls;
	pthread_mutex_unlock(&fx->lock);
	return n;
}

/* elapsed_ms - milliseconds since start */
static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* fill_sun - the address of a Unix socket at path */
static void
fill_sun(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun->sun_path));
	memcpy(sun->sun_path, path, strlen(path));
}

/* raw_connect - a plain blocking client socket, connected to path */
static int
raw_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	fill_sun(&sun, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		fail_msg("connect(%s): %s", path, strerror(errno));
	return fd;
}

/* raw_read_all - read until EOF, keeping up to cap bytes; the bytes
 * read in all, -1 on an error or when nothing came for WAIT_MS */
static long
raw_read_all(int fd, char *dst, size_t cap)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t got = 0, total = 0;
	char sink[4096];
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, WAIT_MS) <= 0)
			return -1;
		if (got < cap)
			n = recv(fd, dst + got, cap - got, 0);
		else
			n = recv(fd, sink, sizeof(sink), 0);
		if (n < 0 && errno == ECONNRESET)
			return (long)total;
		if (n < 0)
			return -1;
		if (n == 0)
			return (long)total;
		if (got < cap)
			got += (size_t)n;
		total += (size_t)n;
	}
}

/* raw_exchange - send bytes as they are, return the reply (static) */
static const char *
raw_exchange(const char *path, const char *p, size_t n)
{
	static char reply[1024];
	long got;
	int fd;

	fd = raw_connect(path);
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
	got = raw_read_all(fd, reply, sizeof(reply) - 1);
	close(fd);
	assert_true(got >= 0 && got < (long)sizeof(reply));
	reply[got] = '\0';
	return reply;
}

/* request - ctlsock_request with a fresh reply buffer; returns r */
static int
request(const char *path, const char *line, struct buf *reply,
    char **error_r)
{
	buf_init(reply, BIG_REPLY * 2);
	*error_r = NULL;
	return ctlsock_request(path, line, WAIT_MS, reply, error_r);
}

static void
replies_end_in_ok_or_err_and_carry_the_lines_before(void **state)
{
	static const struct {
		const char	*line;
		int		 want_r;
		const char	*want_reply;
	} cases[] = {
		{ "hello", 0, "got hello\nOK\n" },
		{ "flush 0f1e-01", 0, "got flush 0f1e-01\nOK\n" },
		{ "", 0, "got \nOK\n" },
		{ "fail", 1, "ERR no such message\n" },
		{ "many", 0, "one\ntwo\nthree\nOK\n" },
		{ "nolf", 0, "OK\n" },
		/* a handler that forgets OK/ERR is answered for */
		{ "noend", 1, "ERR internal error, see the daemon's log\n" },
	};
	struct fx *fx = *state;
	struct buf reply;
	char *error;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		r = request(fx->path, cases[i].line, &reply, &error);
		if (r != cases[i].want_r)
			fail_msg("\"%s\": got %d (%s), want %d", cases[i].line,
			    r, error ? error : "", cases[i].want_r);
		if (strcmp(buf_cstr(&reply), cases[i].want_reply) != 0)
			fail_msg("\"%s\": got reply \"%s\", want \"%s\"",
			    cases[i].line, buf_cstr(&reply),
			    cases[i].want_reply);
		pthread_mutex_lock(&fx->lock);
		if (strcmp(fx->last, cases[i].line) != 0)
			fail_msg("handler got \"%s\", want \"%s\"", fx->last,
			    cases[i].line);
		pthread_mutex_unlock(&fx->lock);
		buf_deinit(&reply);
		free(error);
	}
}

static void
a_crlf_line_end_is_stripped_and_what_follows_ignored(void **state)
{
	struct fx *fx = *state;
	const char *reply;

	reply = raw_exchange(fx->path, "hello\r\nmore\n", 12);
	assert_string_equal(reply, "got hello\nOK\n");
	assert_string_equal(fx->last, "hello");
	assert_int_equal(calls(fx), 1);
}

static void
a_line_at_the_ceiling_is_served_one_byte_more_refused(void **state)
{
	struct fx *fx = *state;
	char line[CTLSOCK_LINE_MAX + 1];
	struct buf reply;
	char *error;
	int r;

	/* CTLSOCK_LINE_MAX counts the LF: LINE_MAX - 1 characters fit */
	memset(line, 'a', CTLSOCK_LINE_MAX - 1);
	line[CTLSOCK_LINE_MAX - 1] = '\0';
	r = request(fx->path, line, &reply, &error);
	if (r != 0)
		fail_msg("%d bytes: got %d (%s), want 0", CTLSOCK_LINE_MAX - 1,
		    r, error ? error : buf_cstr(&reply));
	assert_int_equal(calls(fx), 1);
	buf_deinit(&reply);

	memset(line, 'a', CTLSOCK_LINE_MAX);
	line[CTLSOCK_LINE_MAX] = '\0';
	r = request(fx->path, line, &reply, &error);
	if (r != 1)
		fail_msg("%d bytes: got %d, want 1", CTLSOCK_LINE_MAX, r);
	assert_string_equal(buf_cstr(&reply), "ERR request line too long\n");
	if (calls(fx) != 1)
		fail_msg("handler called %d times, want 1", calls(fx));
	buf_deinit(&reply);
	free(error);
}

static void
control_characters_and_nul_bytes_are_refused(void **state)
{
	static const struct {
		const char	*req;
		size_t		 len;
		const char	*want;
	} cases[] = {
		{ "a\0b\n", 4, "ERR bad request: NUL byte\n" },
		{ "a\001b\n", 4, "ERR bad request: control character\n" },
		{ "a\rb\n", 4, "ERR bad request: control character\n" },
		{ "a\tb\n", 4, "ERR bad request: control character\n" },
		{ "a\177\n", 3, "ERR bad request: control character\n" },
	};
	struct fx *fx = *state;
	struct buf reply;
	char *error = NULL;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *got = raw_exchange(fx->path, cases[i].req,
		    cases[i].len);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got,
			    cases[i].want);
	}
	assert_int_equal(calls(fx), 0);
	/* the client refuses to send a line end inside the request */
	buf_init(&reply, 1024);
	r = ctlsock_request(fx->path, "a\nb", WAIT_MS, &reply, &error);
	assert_int_equal(r, -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(error);
	free(error);
	buf_deinit(&reply);
}

static void
a_big_reply_arrives_whole(void **state)
{
	struct fx *fx = *state;
	struct buf reply;
	char *error;
	size_t want = BIG_REPLY + 3;

	assert_int_equal(request(fx->path, "big", &reply, &error), 0);
	if (buf_avail(&reply) != want)
		fail_msg("got %zu bytes, want %zu", buf_avail(&reply), want);
	assert_memory_equal(buf_ptr(&reply) + 64 * 1000,
	    "000000000000000000000000000000000000000000000000000000000001000\n",
	    64);
	buf_deinit(&reply);
}

static void
a_reply_over_the_clients_ceiling_is_an_error(void **state)
{
	struct fx *fx = *state;
	struct buf reply;
	char *error = NULL;

	buf_init(&reply, 100);
	assert_int_equal(ctlsock_request(fx->path, "big", WAIT_MS, &reply,
	    &error), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_non_null(error);
	free(error);
	buf_deinit(&reply);
}

static void
no_socket_means_no_daemon(void **state)
{
	static const char *suffixes[] = { "/none.sock", "/stale.sock" };
	struct fx *fx = *state;
	struct sockaddr_un sun;
	struct buf reply;
	char path[128], *error;
	int fd, r;

	/* a socket file nobody listens on: ECONNREFUSED */
	snprintf(path, sizeof(path), "%s%s", fx->dir, suffixes[1]);
	fill_sun(&sun, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);

	snprintf(path, sizeof(path), "%s%s", fx->dir, suffixes[0]);
	r = request(path, "hello", &reply, &error);
	assert_int_equal(r, -1);
	if (errno != ENOENT)
		fail_msg("missing socket: got errno %d, want ENOENT", errno);
	assert_non_null(error);
	free(error);
	buf_deinit(&reply);

	snprintf(path, sizeof(path), "%s%s", fx->dir, suffixes[1]);
	r = request(path, "hello", &reply, &error);
	assert_int_equal(r, -1);
	if (errno != ECONNREFUSED)
		fail_msg("stale socket: got errno %d, want ECONNREFUSED",
		    errno);
	free(error);
	buf_deinit(&reply);
}

static void
a_stale_socket_file_is_replaced(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_un sun;
	struct buf reply;
	struct stat st;
	char *error;
	int fd;

	/* what a crashed daemon leaves behind */
	fill_sun(&sun, fx->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	fx_start(fx);
	assert_int_equal(request(fx->path, "hello", &reply, &error), 0);
	assert_string_equal(buf_cstr(&reply), "got hello\nOK\n");
	buf_deinit(&reply);
}

static void
a_live_socket_is_not_taken_over(void **state)
{
	struct fx *fx = *state;
	struct ctlsock *other = NULL;
	struct buf reply;
	char *error = NULL;

	assert_int_equal(ctlsock_listen(fx->base, fx->path, handler, fx,
	    &other, &error), -1);
	assert_null(other);
	assert_non_null(error);
	if (strstr(error, "in use") == NULL)
		fail_msg("got error \"%s\", want \"... in use ...\"", error);
	free(error);
	assert_int_equal(request(fx->path, "hello", &reply, &error), 0);
	buf_deinit(&reply);
}

static void
a_file_that_is_not_a_socket_is_left_alone(void **state)
{
	struct fx *fx = *state;
	struct ctlsock *cs = NULL;
	char *error = NULL, got[16];
	FILE *fp;

	fp = fopen(fx->path, "w");
	assert_non_null(fp);
	fputs("precious", fp);
	fclose(fp);
	assert_int_equal(ctlsock_listen(fx->base, fx->path, handler, fx, &cs,
	    &error), -1);
	assert_non_null(error);
	free(error);
	fp = fopen(fx->path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(got, sizeof(got), fp));
	fclose(fp);
	assert_string_equal(got, "precious");

	/* and a missing directory is an error, not a crash */
	snprintf(fx->path, sizeof(fx->path), "%s/nodir/d.sock", fx->dir);
	assert_int_equal(ctlsock_listen(fx->base, fx->path, handler, fx, &cs,
	    &error), -1);
	free(error);
}

static void
the_socket_is_private_and_free_removes_only_its_own(void **state)
{
	struct fx *fx = *state;
	struct stat st;
	FILE *fp;

	assert_int_equal(lstat(fx->path, &st), 0);
	if ((st.st_mode & 07777) != 0600)
		fail_msg("got mode %o, want 600", st.st_mode & 07777);
	fx_stop(fx);
	ctlsock_free(&fx->cs);
	assert_null(fx->cs);
	if (lstat(fx->path, &st) == 0)
		fail_msg("socket file still there after ctlsock_free");

	/* a newer daemon's file at the path survives our free */
	fx_start(fx);
	fx_stop(fx);
	assert_int_equal(unlink(fx->path), 0);
	fp = fopen(fx->path, "w");
	assert_non_null(fp);
	fclose(fp);
	ctlsock_free(&fx->cs);
	assert_int_equal(lstat(fx->path, &st), 0);
}

static void
a_silent_client_neither_blocks_others_nor_stays(void **state)
{
	struct fx *fx = *state;
	struct timespec start;
	struct buf reply;
	char *error, c;
	long t, got;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &start);
	fd = raw_connect(fx->path);
	assert_int_equal(send(fd, "hel", 3, 0), 3);	/* and no more */
	assert_int_equal(request(fx->path, "hello", &reply, &error), 0);
	buf_deinit(&reply);
	t = elapsed_ms(&start);
	if (t >= TIMEOUT_MS)
		fail_msg("other client served after %ld ms, want < %d", t,
		    TIMEOUT_MS);
	got = raw_read_all(fd, &c, 1);
	t = elapsed_ms(&start);
	close(fd);
	if (got != 0)
		fail_msg("silent client: got %ld bytes, want a close", got);
	if (t < TIMEOUT_MS - 50 || t > TIMEOUT_MS + 2000)
		fail_msg("silent client closed after %ld ms, want about %d",
		    t, TIMEOUT_MS);
	assert_int_equal(calls(fx), 1);
}

static void
a_client_that_never_reads_its_reply_is_dropped(void **state)
{
	struct fx *fx = *state;
	struct buf reply;
	char *error;
	long got;
	int fd, small = 4096;

	fd = raw_connect(fx->path);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	assert_int_equal(send(fd, "big\n", 4, 0), 4);
	/* others are served while that reply is stuck */
	assert_int_equal(request(fx->path, "hello", &reply, &error), 0);
	buf_deinit(&reply);
	usleep((TIMEOUT_MS + 300) * 1000);
	got = raw_read_all(fd, NULL, 0);
	close(fd);
	/* ended by the server, not by our poll, and long before the end */
	if (got < 0 || got >= BIG_REPLY)
		fail_msg("got %ld bytes, want a close before %d", got,
		    BIG_REPLY);
	assert_int_equal(request(fx->path, "hello", &reply, &error), 0);
	buf_deinit(&reply);
}

static void
connections_past_the_limit_are_refused_until_some_close(void **state)
{
	struct fx *fx = *state;
	int fds[CTLSOCK_MAX_CONNS], i, r = -1;
	struct buf reply;
	char *error;

	/* the silent ones must outlive a slow (ASan) run of this test */
	fx_start_timeout(fx, 20000);
	for (i = 0; i < CTLSOCK_MAX_CONNS; i++)
		fds[i] = raw_connect(fx->path);
	/* let the loop accept them all */
	for (i = 0; i < 100; i++) {
		r = request(fx->path, "hello", &reply, &error);
		buf_deinit(&reply);
		free(error);
		if (r == 1)
			break;
		usleep(10000);
	}
	assert_int_equal(r, 1);
	assert_int_equal(request(fx->path, "hello", &reply, &error), 1);
	assert_string_equal(buf_cstr(&reply),
	    "ERR too many control connections\n");
	buf_deinit(&reply);
	free(error);
	for (i = 0; i < CTLSOCK_MAX_CONNS; i++)
		close(fds[i]);
	for (i = 0; i < 100; i++) {
		r = request(fx->path, "hello", &reply, &error);
		buf_deinit(&reply);
		free(error);
		if (r == 0)
			break;
		usleep(10000);
	}
	assert_int_equal(r, 0);
}

/* a server that does not speak the protocol, in a thread */
struct rogue {
	int		 fd;
	const char	*answer;	/* NULL: accept, say nothing */
};

/* rogue_main - accept one client, read a bit, answer, close */
static void *
rogue_main(void *arg)
{
	struct rogue *rg = arg;
	char line[64];
	int fd;

	fd = accept(rg->fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	(void)recv(fd, line, sizeof(line), 0);
	(void)send(fd, rg->answer, strlen(rg->answer), MSG_NOSIGNAL);
	close(fd);
	return NULL;
}

/* rogue_listen - a listening socket at path that nothing accepts yet */
static int
rogue_listen(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	fill_sun(&sun, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static void
a_daemon_that_never_answers_times_out(void **state)
{
	struct fx *fx = *state;
	struct timespec start;
	struct buf reply;
	char *error = NULL;
	long t;
	int fd, r;

	fd = rogue_listen(fx->path);
	buf_init(&reply, 1024);
	clock_gettime(CLOCK_MONOTONIC, &start);
	r = ctlsock_request(fx->path, "hello", 200, &reply, &error);
	t = elapsed_ms(&start);
	assert_int_equal(r, -1);
	assert_int_equal(errno, ETIMEDOUT);
	if (t < 190 || t > 2000)
		fail_msg("gave up after %ld ms, want about 200", t);
	free(error);
	buf_deinit(&reply);
	close(fd);
}

static void
an_answer_that_is_not_a_reply_is_an_error(void **state)
{
	static const char *answers[] = {
		"", "hello\n", "OK", "OKAY\n", "ERRATIC\n", "OK\nmore\n",
	};
	struct fx *fx = *state;
	struct rogue rg;
	pthread_t t;
	struct buf reply;
	char *error;
	size_t i;
	int r;

	rg.fd = rogue_listen(fx->path);
	for (i = 0; i < sizeof(answers) / sizeof(*answers); i++) {
		rg.answer = answers[i];
		assert_int_equal(pthread_create(&t, NULL, rogue_main, &rg), 0);
		r = request(fx->path, "hello", &reply, &error);
		pthread_join(t, NULL);
		if (r != -1 || errno != EPROTO)
			fail_msg("answer \"%s\": got %d errno %d, want -1 "
			    "EPROTO", answers[i], r, errno);
		free(error);
		buf_deinit(&reply);
	}
	close(rg.fd);
}

/* main - with libevent locking on, so the loop can be broken from here */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    replies_end_in_ok_or_err_and_carry_the_lines_before,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_crlf_line_end_is_stripped_and_what_follows_ignored,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_line_at_the_ceiling_is_served_one_byte_more_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    control_characters_and_nul_bytes_are_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(a_big_reply_arrives_whole,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_reply_over_the_clients_ceiling_is_an_error,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(no_socket_means_no_daemon,
		    setup_idle, teardown),
		cmocka_unit_test_setup_teardown(
		    a_stale_socket_file_is_replaced, setup_idle, teardown),
		cmocka_unit_test_setup_teardown(
		    a_live_socket_is_not_taken_over, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_file_that_is_not_a_socket_is_left_alone,
		    setup_idle, teardown),
		cmocka_unit_test_setup_teardown(
		    the_socket_is_private_and_free_removes_only_its_own,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_silent_client_neither_blocks_others_nor_stays,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    a_client_that_never_reads_its_reply_is_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    connections_past_the_limit_are_refused_until_some_close,
		    setup_idle, teardown),
		cmocka_unit_test_setup_teardown(
		    a_daemon_that_never_answers_times_out,
		    setup_idle, teardown),
		cmocka_unit_test_setup_teardown(
		    an_answer_that_is_not_a_reply_is_an_error,
		    setup_idle, teardown),
	};

	log_init("test_ctlsock", LOG_TARGET_STDERR, LOG_LEVEL_ERR);
	if (evthread_use_pthreads() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
