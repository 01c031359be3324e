/* test_store_concurrency.c - processes and threads on one mailbox at once */
#include "config.h"

#include <sys/wait.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_test_util.h"

#define DELIVER_THREADS	4
#define DELIVER_EACH	25
#define SESSION_PROCS	2
#define SESSION_THREADS	2
#define SESSION_ROUNDS	25
#define SESSION_APPENDS	5
#define READER_ROUNDS	150

static const char msg[] = "From: x@example.test\r\nSubject: c\r\n\r\nhi\r\n";
static char *root;

/* die - a child's failure, visible in the test output */
static void __attribute__((noreturn))
die(const char *what, const char *error)
{
	fprintf(stderr, "child %ld: %s: %s\n", (long)getpid(), what, error);
	_exit(1);
}

/* deliver_thread - DELIVER_EACH deliveries to alice and bob */
static void *
deliver_thread(void *arg)
{
	struct store *st = arg;
	struct store_rcpt rc[2];
	int i;

	for (i = 0; i < DELIVER_EACH; i++) {
		memset(rc, 0, sizeof(rc));
		rc[0].user = "alice@example.test";
		rc[1].user = "bob@example.test";
		if (store_deliver(st, msg, strlen(msg), rc, 2) < 0)
			die("deliver", rc[0].error ? rc[0].error :
			    rc[1].error);
	}
	return NULL;
}

/* session_thread - an IMAP session: sync, look, store flags, expunge */
static void *
session_thread(void *arg)
{
	struct store_user *u = arg;
	struct store_mailbox *mb;
	struct store_snapshot *snap;
	struct store_msg m;
	const char *error;
	uint32_t uids[64], uid;
	size_t n;
	unsigned int seed = (unsigned int)getpid() ^
	    (unsigned int)(uintptr_t)pthread_self();
	int round, r;

	if (store_mailbox_open(u, "INBOX", &mb, &error) < 0)
		die("open", error);
	for (round = 0; round < SESSION_ROUNDS; round++) {
		if (store_mailbox_sync(mb, &error) < 0)
			die("sync", error);
		if (store_snapshot_begin(mb, &snap, &error) < 0)
			die("snapshot", error);
		n = 0;
		while ((r = store_snapshot_next(snap, 0, &m, &error)) == 1)
			if (n < 64 && rand_r(&seed) % 3 == 0)
				uids[n++] = m.uid;
		store_snapshot_end(&snap);
		if (r < 0)
			die("next", error);
		if (store_set_flags(mb, uids, n, rand_r(&seed) % 2 ?
		    STORE_FLAGS_ADD : STORE_FLAGS_REMOVE, STORE_FLAG_SEEN |
		    STORE_FLAG_FLAGGED, "k", 0, NULL, NULL, &error) < 0)
			die("set_flags", error);
		if (n > 0 && round % 4 == 0) {
			uid = uids[0];
			if (store_expunge(mb, &uid, 1, &error) < 0)
				die("expunge", error);
		}
		if (round < SESSION_APPENDS && store_append(u, "INBOX", msg,
		    strlen(msg), 0, NULL, 0, &uid, NULL, &error) < 0)
			die("append", error);
	}
	store_mailbox_close(&mb);
	return NULL;
}

/* reader - every snapshot must be consistent with its own counters */
static void
reader(struct store_user *u)
{
	struct store_mailbox *mb;
	struct store_snapshot *snap;
	struct store_status s;
	struct store_msg m;
	const char *error;
	uint32_t last, count, unseen;
	uint64_t size;
	int round, r;

	if (store_mailbox_open(u, "INBOX", &mb, &error) < 0)
		die("open", error);
	for (round = 0; round < READER_ROUNDS; round++) {
		if (store_snapshot_begin(mb, &snap, &error) < 0)
			die("snapshot", error);
		store_snapshot_status(snap, &s);
		last = count = unseen = 0;
		size = 0;
		while ((r = store_snapshot_next(snap, 0, &m, &error)) == 1) {
			if (m.uid <= last || m.uid >= s.uidnext)
				die("order", "UIDs out of order or range");
			last = m.uid;
			count++;
			size += m.size;
			unseen += !(m.flags & STORE_FLAG_SEEN);
		}
		store_snapshot_end(&snap);
		if (r < 0)
			die("next", error);
		if (count != s.messages || unseen != s.unseen ||
		    size != s.size) {
			fprintf(stderr, "got %u/%u/%llu, counters %u/%u/%llu\n",
			    count, unseen, (unsigned long long)size,
			    s.messages, s.unseen, (unsigned long long)s.size);
			die("snapshot", "counters disagree with messages");
		}
		usleep(2000);
	}
	store_mailbox_close(&mb);
}

/* child - run one role in a fresh process with its own store */
static pid_t
child(int role)
{
	pthread_t th[DELIVER_THREADS > SESSION_THREADS ? DELIVER_THREADS :
	    SESSION_THREADS];
	struct store_user *u;
	struct store *st;
	const char *error;
	pid_t pid;
	int i;

	if ((pid = fork()) != 0)
		return pid;
	st = tu_store(root);
	if (role == 0) {
		for (i = 0; i < DELIVER_THREADS; i++)
			pthread_create(&th[i], NULL, deliver_thread, st);
		for (i = 0; i < DELIVER_THREADS; i++)
			pthread_join(th[i], NULL);
	} else {
		if (store_user_open(st, "alice@example.test", &u, &error) < 0)
			die("user", error);
		if (role == 1) {
			for (i = 0; i < SESSION_THREADS; i++)
				pthread_create(&th[i], NULL, session_thread,
				    u);
			for (i = 0; i < SESSION_THREADS; i++)
				pthread_join(th[i], NULL);
		} else
			reader(u);
		store_user_close(&u);
	}
	store_free(&st);
	_exit(0);
}

static void
concurrent_writers_never_corrupt_or_reuse_uids(void **state)
{
	struct store_check_report rep;
	struct store_user *u;
	struct store_mailbox *mb;
	struct store_snapshot *snap;
	struct store_status s;
	struct store *st;
	const char *error;
	pid_t pids[2 + SESSION_PROCS];
	uint32_t xuid;
	uint64_t xmod;
	int i, status, expunged = 0;

	root = tu_root();
	/* create the mailbox first, so the children race on mail only */
	st = tu_store(root);
	assert_int_equal(store_user_open(st, "alice@example.test", &u,
	    &error), 0);
	store_user_close(&u);
	store_free(&st);

	pids[0] = child(0);
	pids[1] = child(2);
	for (i = 0; i < SESSION_PROCS; i++)
		pids[2 + i] = child(1);
	for (i = 0; i < 2 + SESSION_PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d: got status %#x, want 0", i, status);
	}

	st = tu_store(root);
	assert_int_equal(store_user_open(st, "alice@example.test", &u,
	    &error), 0);
	assert_int_equal(store_mailbox_open(u, "INBOX", &mb, &error), 0);
	assert_int_equal(store_check(u, false, NULL, NULL, &rep, &error), 0);
	assert_int_equal(rep.problems, 0);
	assert_int_equal(store_snapshot_begin(mb, &snap, &error), 0);
	store_snapshot_status(snap, &s);
	while (store_snapshot_expunged(snap, 0, &xuid, &xmod, &error) == 1)
		expunged++;
	store_snapshot_end(&snap);
	/* every message got exactly one UID: present + expunged = all */
	if (s.messages + expunged != DELIVER_THREADS * DELIVER_EACH +
	    SESSION_PROCS * SESSION_THREADS * SESSION_APPENDS)
		fail_msg("got %u present + %d expunged, want %d", s.messages,
		    expunged, DELIVER_THREADS * DELIVER_EACH +
		    SESSION_PROCS * SESSION_THREADS * SESSION_APPENDS);
	assert_int_equal(s.uidnext, s.messages + expunged + 1);
	store_mailbox_close(&mb);
	store_user_close(&u);
	assert_int_equal(store_user_open(st, "bob@example.test", &u, &error),
	    0);
	assert_int_equal(store_mailbox_status(u, "INBOX", &s, &error), 0);
	assert_int_equal(s.messages, DELIVER_THREADS * DELIVER_EACH);
	store_user_close(&u);
	store_free(&st);
	tu_rm_rf(root);
	free(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    concurrent_writers_never_corrupt_or_reuse_uids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
