/* test_store_crash.c - SIGKILL a writer at random points, many times */
#include "config.h"

#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "store_test_util.h"

#define KILLS		30
#define MAX_MARK	100000

/* what the writer reports after each operation returned */
struct report {
	char		 kind;	/* D delivered, A appended, X expunging,
				 * Y expunged */
	uint32_t	 n;	/* marker number */
	uint32_t	 uid;
};

static const char *user = "crash@example.test";

/* writer - loop over delivery, append, flags, expunge until killed */
static void __attribute__((noreturn))
writer(const char *root, int fd, uint32_t start)
{
	struct store *st = tu_store(root);
	struct store_user *u;
	struct store_mailbox *mb;
	struct store_rcpt rc;
	struct report rep;
	const char *error;
	uint32_t appended[4096], uid, n = start, i;
	size_t napp = 0;
	char *text;
	unsigned int seed = (unsigned int)getpid();

	if (store_user_open(st, user, &u, &error) < 0 ||
	    store_mailbox_open(u, "INBOX", &mb, &error) < 0)
		_exit(1);
	for (;; n++) {
		memset(&rep, 0, sizeof(rep));
		rep.n = n;
		switch (n % 4) {
		case 0:
			text = xasprintf("Message-Id: <d%u@crash>\r\n\r\nd\r\n",
			    n);
			memset(&rc, 0, sizeof(rc));
			rc.user = user;
			if (store_deliver(st, text, strlen(text), &rc, 1) < 0)
				_exit(2);
			rep.kind = 'D';
			break;
		case 1:
			text = xasprintf("Message-Id: <a%u@crash>\r\n\r\na\r\n",
			    n);
			if (store_append(u, "INBOX", text, strlen(text), 0,
			    NULL, 0, &uid, NULL, &error) < 0)
				_exit(3);
			rep.kind = 'A';
			rep.uid = uid;
			if (napp < 4096)
				appended[napp++] = uid;
			break;
		case 2:
			text = NULL;
			if (store_mailbox_sync(mb, &error) < 0)
				_exit(4);
			for (i = 0; i < napp; i++)
				if (rand_r(&seed) % 2 &&
				    store_set_flags(mb, &appended[i], 1,
				    STORE_FLAGS_ADD, STORE_FLAG_SEEN, "kw", 0,
				    NULL, NULL, &error) < 0)
					_exit(5);
			break;
		default:
			text = NULL;
			if (napp == 0)
				break;
			i = (uint32_t)rand_r(&seed) % napp;
			uid = appended[i];
			appended[i] = appended[--napp];
			rep.kind = 'X';
			rep.uid = uid;
			if (write(fd, &rep, sizeof(rep)) != sizeof(rep))
				_exit(6);
			if (store_expunge(mb, &uid, 1, &error) < 0)
				_exit(7);
			rep.kind = 'Y';
			break;
		}
		free(text);
		if (rep.kind != 0 && write(fd, &rep, sizeof(rep)) !=
		    sizeof(rep))
			_exit(6);
	}
}

/* marker - "d12" / "a13" from a message file; 0 if none */
static uint32_t
marker(struct store_snapshot *snap, const struct store_msg *m, char *kind)
{
	const char *error;
	char buf[128];
	ssize_t n;
	unsigned int v;
	int fd;

	if (store_snapshot_open_msg(snap, m, &fd, &error) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "Message-Id: <%c%u@crash>", kind, &v) != 2)
		return 0;
	return v;
}

static void
killed_writers_lose_nothing_acknowledged_and_reuse_no_uid(void **state)
{
	static char delivered[MAX_MARK], expunging_uid[MAX_MARK],
	    expunged_uid[MAX_MARK];
	static uint32_t appended_uid[MAX_MARK], uid_mark[MAX_MARK];
	static char uid_kind[MAX_MARK];
	struct store_check_report crep;
	struct store_snapshot *snap;
	struct store_mailbox *mb;
	struct store_user *u;
	struct store_status s;
	struct store_msg m;
	struct store *st;
	struct report rep;
	const char *error;
	char *root, kind;
	uint32_t uidvalidity = 0, uidnext = 0, next_mark = 1, v, i;
	int kill_no, fds[2], status, seen_d;
	pid_t pid;
	unsigned int seed = 4242;

	root = tu_root();
	for (kill_no = 0; kill_no < KILLS; kill_no++) {
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			writer(root, fds[1], next_mark);
		}
		close(fds[1]);
		usleep(5000 + rand_r(&seed) % 60000);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("kill %d: writer exited %d before the kill",
			    kill_no, WEXITSTATUS(status));
		while (read(fds[0], &rep, sizeof(rep)) == sizeof(rep)) {
			assert_true(rep.n < MAX_MARK && rep.uid < MAX_MARK);
			if (rep.n >= next_mark)
				next_mark = rep.n + 1;
			switch (rep.kind) {
			case 'D':
				delivered[rep.n] = 1;
				break;
			case 'A':
				appended_uid[rep.n] = rep.uid;
				break;
			case 'X':
				expunging_uid[rep.uid] = 1;
				break;
			case 'Y':
				expunged_uid[rep.uid] = 1;
				break;
			}
		}
		close(fds[0]);
		next_mark += 4;		/* never reuse an unreported marker */

		/* after the crash: open, sync, compare */
		st = tu_store(root);
		if (store_user_open(st, user, &u, &error) < 0 ||
		    store_mailbox_open(u, "INBOX", &mb, &error) < 0)
			fail_msg("kill %d: reopen: %s", kill_no, error);
		assert_int_equal(store_snapshot_begin(mb, &snap, &error), 0);
		store_snapshot_status(snap, &s);
		if (uidvalidity == 0)
			uidvalidity = s.uidvalidity;
		if (s.uidvalidity != uidvalidity)
			fail_msg("kill %d: UIDVALIDITY got %u, want %u",
			    kill_no, s.uidvalidity, uidvalidity);
		if (s.uidnext < uidnext)
			fail_msg("kill %d: UIDNEXT went back from %u to %u",
			    kill_no, uidnext, s.uidnext);
		uidnext = s.uidnext;
		assert_true(uidnext < MAX_MARK);
		static char present[MAX_MARK];
		memset(present, 0, sizeof(present));
		while (store_snapshot_next(snap, 0, &m, &error) == 1) {
			v = marker(snap, &m, &kind);
			if (v == 0 || v >= MAX_MARK)
				fail_msg("kill %d: UID %u (%s) has no marker",
				    kill_no, m.uid, m.base);
			/* a UID always names the same message */
			if (uid_mark[m.uid] != 0 && (uid_mark[m.uid] != v ||
			    uid_kind[m.uid] != kind))
				fail_msg("kill %d: UID %u was %c%u, now %c%u",
				    kill_no, m.uid, uid_kind[m.uid],
				    uid_mark[m.uid], kind, v);
			uid_mark[m.uid] = v;
			uid_kind[m.uid] = kind;
			if (expunged_uid[m.uid])
				fail_msg("kill %d: expunged UID %u is back",
				    kill_no, m.uid);
			if (kind == 'd')
				present[v] = 1;
			if (kind == 'a' && appended_uid[v] != 0 &&
			    appended_uid[v] != m.uid)
				fail_msg("kill %d: a%u has UID %u, append "
				    "returned %u", kill_no, v, m.uid,
				    appended_uid[v]);
			if (kind == 'a')
				present[v] = 2;
		}
		store_snapshot_end(&snap);
		for (i = 0, seen_d = 0; i < next_mark; i++) {
			if (delivered[i] && present[i] != 1)
				fail_msg("kill %d: delivery d%u is lost",
				    kill_no, i);
			seen_d += delivered[i];
			if (appended_uid[i] != 0 && present[i] != 2 &&
			    !expunging_uid[appended_uid[i]])
				fail_msg("kill %d: append a%u (UID %u) is lost",
				    kill_no, i, appended_uid[i]);
		}
		if (store_check(u, false, NULL, NULL, &crep, &error) != 0)
			fail_msg("kill %d: check found %u problems", kill_no,
			    crep.problems);
		store_mailbox_close(&mb);
		store_user_close(&u);
		store_free(&st);
	}
	/* the test must have exercised something */
	assert_true(seen_d > 5);
	assert_true(uidnext > 10);
	tu_rm_rf(root);
	free(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    killed_writers_lose_nothing_acknowledged_and_reuse_no_uid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
