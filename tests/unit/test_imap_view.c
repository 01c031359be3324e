/*
 * test_imap_view.c - unit tests for imapd/imap_view.c: the selected
 * mailbox's sequence map and the untagged updates it computes
 *
 * Each test opens a view on a fresh store and changes the folder through
 * a second handle, as another session or smtpd would, then checks the
 * exact bytes imap_view_sync() writes.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_test_util.h"

#include "buf.h"
#include "store.h"
#include "store_maildir.h"

#include "imap_session.h"
#include "imap_view.h"
#include "imap_write.h"

struct fixture {
	char		*root;
	struct store	*st;
	struct store_user *u;
	struct store_mailbox *other;	/* "another session" */
	struct imap_view *v;
	struct buf	 out;
};

static const char msg[] =
    "From: a@example.test\r\nSubject: hello\r\n\r\nbody\r\n";

/* no_fsync - the test store need not be durable, only fast */
static int
no_fsync(int fd)
{
	(void)fd;
	return 0;
}

/* append - one message into INBOX through the store */
static uint32_t
append(struct fixture *f, unsigned int flags, const char *kw)
{
	const char *error;
	uint32_t uid;

	if (store_append(f->u, "INBOX", msg, sizeof(msg) - 1, flags, kw,
	    1000000000, &uid, NULL, &error) < 0)
		fail_msg("store_append: %s", error);
	return uid;
}

/* setup_n - a store, n messages in INBOX, a read-write view on it */
static int
setup_n(void **state, unsigned int n)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *error;
	unsigned int i;

	store_maildir_fsync_hook = no_fsync;
	f->root = tu_root();
	f->st = tu_store(f->root);
	if (store_user_open(f->st, "alice@example.test", &f->u, &error) < 0)
		fail_msg("store_user_open: %s", error);
	for (i = 0; i < n; i++)
		(void)append(f, 0, "");
	if (store_mailbox_open(f->u, "INBOX", &f->other, &error) < 0)
		fail_msg("store_mailbox_open: %s", error);
	if (imap_view_open(f->u, "INBOX", false, &f->v, &error) < 0)
		fail_msg("imap_view_open: %s", error);
	buf_init(&f->out, 0);
	*state = f;
	return 0;
}

static int
setup3(void **state)
{
	return setup_n(state, 3);
}

static int
setup0(void **state)
{
	return setup_n(state, 0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	imap_view_free(&f->v);
	store_mailbox_close(&f->other);
	store_user_close(&f->u);
	store_free(&f->st);
	tu_rm_rf(f->root);
	free(f->root);
	buf_deinit(&f->out);
	free(f);
	store_maildir_fsync_hook = NULL;
	return 0;
}

/* view_sync - one imap_view_sync() into a fresh output; its result */
static int
view_sync(struct fixture *f, unsigned int how)
{
	const char *error = NULL;
	int r;

	buf_reset(&f->out);
	r = imap_view_sync(f->v, how, &f->out, &error);
	if (r < 0)
		fail_msg("imap_view_sync: %s", error);
	return r;
}

/* expect_out - the output is exactly want */
static void
expect_out(struct fixture *f, const char *want)
{
	if (strcmp(buf_cstr(&f->out), want) != 0)
		fail_msg("got \"%s\", want \"%s\"", buf_cstr(&f->out), want);
}

/* set_flags - change flags of one message through the other handle */
static void
set_flags(struct fixture *f, uint32_t uid, unsigned int flags,
    const char *kw)
{
	const char *error;
	uint32_t *failed = NULL;
	size_t nfailed = 0;

	if (store_set_flags(f->other, &uid, 1, STORE_FLAGS_SET, flags, kw, 0,
	    &failed, &nfailed, &error) < 0)
		fail_msg("store_set_flags: %s", error);
	free(failed);
}

/* expunge - remove uids through the other handle */
static void
expunge(struct fixture *f, const uint32_t *uids, size_t n)
{
	const char *error;

	if (store_expunge(f->other, uids, n, &error) < 0)
		fail_msg("store_expunge: %s", error);
}

static void
a_fresh_view_maps_sequence_numbers_to_uids(void **state)
{
	struct fixture *f = *state;
	uint32_t seq;

	assert_int_equal(f->v->count, 3);
	for (seq = 1; seq <= 3; seq++) {
		assert_int_equal(imap_view_uid(f->v, seq), seq);
		assert_int_equal(imap_view_seq(f->v, seq), seq);
		assert_true(imap_view_is_recent(f->v, seq));
	}
	assert_int_equal(imap_view_uid(f->v, 0), 0);
	assert_int_equal(imap_view_uid(f->v, 4), 0);
	assert_int_equal(imap_view_seq(f->v, 4), 0);
	assert_int_equal(imap_view_max_uid(f->v), 3);
	assert_int_equal(imap_view_recent_count(f->v), 3);
}

static void
the_select_responses_name_flags_counts_and_uids(void **state)
{
	struct fixture *f = *state;
	char want[1024];

	assert_int_equal(imap_view_write_select(f->v, IMAP_VIEW_RECENT, true,
	    &f->out), 0);
	snprintf(want, sizeof(want),
	    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
	    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft \\*)] Flags permitted\r\n"
	    "* 3 EXISTS\r\n"
	    "* 3 RECENT\r\n"
	    "* OK [UNSEEN 1] First unseen\r\n"
	    "* OK [UIDVALIDITY %u] UIDs valid\r\n"
	    "* OK [UIDNEXT 4] Predicted next UID\r\n"
	    "* OK [HIGHESTMODSEQ %llu] Highest\r\n", f->v->uidvalidity,
	    (unsigned long long)f->v->highestmodseq);
	expect_out(f, want);
}

static void
nothing_changed_reports_nothing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(view_sync(f, IMAP_VIEW_EXPUNGE_OK |
	    IMAP_VIEW_RECENT), 0);
	expect_out(f, "");
}

static void
new_messages_are_reported_as_exists_and_recent(void **state)
{
	struct fixture *f = *state;

	(void)append(f, 0, "");
	(void)append(f, 0, "");
	assert_int_equal(view_sync(f, IMAP_VIEW_RECENT), 0);
	expect_out(f, "* 5 EXISTS\r\n* 5 RECENT\r\n");
	assert_int_equal(imap_view_uid(f->v, 5), 5);
	/* IMAP4rev2: no RECENT */
	(void)append(f, 0, "");
	assert_int_equal(view_sync(f, 0), 0);
	expect_out(f, "* 6 EXISTS\r\n");
}

static void
a_flag_change_elsewhere_is_reported_once(void **state)
{
	struct fixture *f = *state;
	char want[256];

	set_flags(f, 2, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED, "");
	assert_int_equal(view_sync(f, IMAP_VIEW_RECENT), 0);
	expect_out(f, "* 2 FETCH (FLAGS (\\Flagged \\Seen \\Recent))\r\n");
	assert_int_equal(view_sync(f, IMAP_VIEW_RECENT), 0);
	expect_out(f, "");
	/* with CONDSTORE: UID and MODSEQ too */
	set_flags(f, 3, STORE_FLAG_ANSWERED, "");
	assert_int_equal(view_sync(f, IMAP_VIEW_MODSEQ), 0);
	snprintf(want, sizeof(want), "* 3 FETCH (UID 3 FLAGS (\\Answered) "
	    "MODSEQ (%llu))\r\n", (unsigned long long)f->v->highestmodseq);
	expect_out(f, want);
}

static void
a_change_the_client_was_told_of_is_not_reported_again(void **state)
{
	struct fixture *f = *state;
	struct store_snapshot *snap;
	struct store_msg m;
	const char *error;

	set_flags(f, 1, STORE_FLAG_SEEN, "");
	if (store_snapshot_begin(f->other, &snap, &error) < 0 ||
	    store_snapshot_get(snap, 1, &m, &error) != 1)
		fail_msg("snapshot: %s", error);
	imap_view_known(f->v, 1, m.modseq);
	store_snapshot_end(&snap);
	assert_int_equal(view_sync(f, 0), 0);
	expect_out(f, "");
}

static void
expunges_wait_until_they_may_be_reported(void **state)
{
	struct fixture *f = *state;
	const uint32_t two = 2;

	expunge(f, &two, 1);
	(void)append(f, 0, "");
	/* a FETCH by sequence number: EXISTS counts the held message */
	assert_int_equal(view_sync(f, IMAP_VIEW_RECENT), 0);
	expect_out(f, "* 4 EXISTS\r\n* 4 RECENT\r\n");
	assert_int_equal(f->v->count, 4);
	assert_true(imap_view_is_expunged(f->v, 2));
	assert_int_equal(imap_view_uid(f->v, 2), 2);
	/* still held */
	assert_int_equal(view_sync(f, IMAP_VIEW_RECENT), 0);
	expect_out(f, "");
	/* now it may go */
	assert_int_equal(view_sync(f, IMAP_VIEW_EXPUNGE_OK |
	    IMAP_VIEW_RECENT), 0);
	expect_out(f, "* 2 EXPUNGE\r\n* 3 RECENT\r\n");
	assert_int_equal(f->v->count, 3);
	assert_int_equal(imap_view_uid(f->v, 2), 3);
	assert_int_equal(imap_view_uid(f->v, 3), 4);
	assert_false(imap_view_is_expunged(f->v, 2));
}

static void
expunges_go_out_from_the_highest_sequence_number(void **state)
{
	struct fixture *f = *state;
	const uint32_t uids[] = { 1, 3 };

	expunge(f, uids, 2);
	assert_int_equal(view_sync(f, IMAP_VIEW_EXPUNGE_OK), 0);
	expect_out(f, "* 3 EXPUNGE\r\n* 1 EXPUNGE\r\n");
	assert_int_equal(f->v->count, 1);
	assert_int_equal(imap_view_uid(f->v, 1), 2);
}

static void
qresync_sessions_get_one_vanished_line(void **state)
{
	struct fixture *f = *state;
	const uint32_t uids[] = { 1, 2 };

	expunge(f, uids, 2);
	assert_int_equal(view_sync(f, IMAP_VIEW_EXPUNGE_OK |
	    IMAP_VIEW_VANISHED), 0);
	expect_out(f, "* VANISHED 1:2\r\n");
}

static void
a_new_keyword_sends_flags_and_permanentflags_again(void **state)
{
	struct fixture *f = *state;

	set_flags(f, 1, 0, "$Junk");
	assert_int_equal(view_sync(f, 0), 0);
	expect_out(f,
	    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk)\r\n"
	    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft $Junk \\*)] Flags permitted\r\n"
	    "* 1 FETCH (FLAGS ($Junk))\r\n");
	/* a known keyword does not */
	set_flags(f, 2, 0, "$junk");
	assert_int_equal(view_sync(f, 0), 0);
	expect_out(f, "* 2 FETCH (FLAGS ($junk))\r\n");
}

static const struct {
	const char	*set;
	bool		 uid;
	int		 result;
	const char	*want;		/* UIDs, formatted */
} uidset_cases[] = {
	{ "1:*", false, 0, "1,3:6" },
	{ "*", false, 0, "6" },
	{ "2,4", false, 0, "3,5" },	/* after UID 2 was expunged */
	{ "5", false, 0, "6" },
	{ "6", false, -1, NULL },
	{ "1:*", true, 0, "1,3:6" },
	{ "2", true, 0, "" },
	{ "7:*", true, 0, "6" },	/* "n:*" names the last one */
	{ "100", true, 0, "" },
	{ "2:3", true, 0, "3" },
};

static void
client_sets_become_uid_sets_of_the_view(void **state)
{
	struct fixture *f = *state;
	struct imap_seqset set, uids;
	const char *error;
	struct buf b;
	size_t i;
	int r;
	const uint32_t two = 2;

	(void)append(f, 0, "");
	(void)append(f, 0, "");
	(void)append(f, 0, "");
	expunge(f, &two, 1);
	(void)view_sync(f, IMAP_VIEW_EXPUNGE_OK);
	/* the view now holds UIDs 1 3 4 5 6 */
	imap_seqset_init(&set);
	imap_seqset_init(&uids);
	buf_init(&b, 0);
	for (i = 0; i < sizeof(uidset_cases) / sizeof(uidset_cases[0]);
	    i++) {
		if (imap_seqset_parse(&set, uidset_cases[i].set,
		    strlen(uidset_cases[i].set), false, &error) < 0)
			fail_msg("parse %s: %s", uidset_cases[i].set, error);
		r = imap_view_uidset(f->v, &set, uidset_cases[i].uid, &uids,
		    &error);
		if (r != uidset_cases[i].result)
			fail_msg("%s (uid %d): got %d, want %d",
			    uidset_cases[i].set, uidset_cases[i].uid, r,
			    uidset_cases[i].result);
		if (uidset_cases[i].want == NULL)
			continue;
		buf_reset(&b);
		(void)imap_seqset_format(&uids, &b);
		if (strcmp(buf_cstr(&b), uidset_cases[i].want) != 0)
			fail_msg("%s (uid %d): got \"%s\", want \"%s\"",
			    uidset_cases[i].set, uidset_cases[i].uid,
			    buf_cstr(&b), uidset_cases[i].want);
	}
	buf_deinit(&b);
	imap_seqset_deinit(&set);
	imap_seqset_deinit(&uids);
}

static void
star_on_an_empty_mailbox_is_bad_by_seq_and_empty_by_uid(
    void **state)
{
	struct fixture *f = *state;
	struct imap_seqset set, uids;
	const char *error;

	imap_seqset_init(&set);
	imap_seqset_init(&uids);
	assert_int_equal(imap_seqset_parse(&set, "1:*", 3, false, &error), 0);
	assert_int_equal(imap_view_uidset(f->v, &set, false, &uids, &error),
	    -1);
	assert_string_equal(error, "Invalid message sequence number");
	assert_int_equal(imap_seqset_parse(&set, "1:*", 3, false, &error), 0);
	assert_int_equal(imap_view_uidset(f->v, &set, true, &uids, &error),
	    0);
	assert_true(imap_seqset_is_empty(&uids));
	imap_seqset_deinit(&set);
	imap_seqset_deinit(&uids);
}

static void
a_long_update_stops_at_the_chunk_and_resumes(void **state)
{
	struct fixture *f = *state;
	char kw[201];
	uint32_t *uids, seq, n = 1400, lines = 0, expect = 4;
	const char *error, *p;
	uint32_t *failed = NULL;
	size_t nfailed = 0, i;
	int r, calls = 0;

	/* lines of about 230 bytes: 1400 of them pass IMAP_OUT_CHUNK */
	memset(kw, 'k', sizeof(kw) - 1);
	kw[sizeof(kw) - 1] = '\0';
	uids = xcalloc(n, sizeof(*uids));
	for (i = 0; i < n; i++)
		uids[i] = append(f, 0, "");
	(void)view_sync(f, 0);
	if (store_set_flags(f->other, uids, n, STORE_FLAGS_SET, 0, kw, 0,
	    &failed, &nfailed, &error) < 0)
		fail_msg("store_set_flags: %s", error);
	free(failed);
	do {
		r = view_sync(f, 0);
		calls++;
		if (r == 1)
			assert_true(buf_avail(&f->out) >= IMAP_OUT_CHUNK);
		for (p = buf_cstr(&f->out); (p = strstr(p, " FETCH ")) !=
		    NULL; p++) {
			/* each message once, in sequence order */
			const char *q = p;

			while (q > buf_cstr(&f->out) && q[-1] != '*')
				q--;
			/* the three of the setup did not change */
			seq = (uint32_t)strtoul(q, NULL, 10);
			assert_int_equal(seq, expect);
			expect++;
			lines++;
		}
	} while (r == 1 && calls < 10);
	assert_int_equal(r, 0);
	assert_true(calls >= 2);
	assert_int_equal(lines, n);
	/* and then nothing more */
	assert_int_equal(view_sync(f, 0), 0);
	expect_out(f, "");
	free(uids);
}

static void
a_deleted_mailbox_fails_the_sync(void **state)
{
	struct fixture *f = *state;
	const char *error = NULL;
	struct imap_view *v;

	if (store_mailbox_create(f->u, "Temp", &error) < 0 ||
	    imap_view_open(f->u, "Temp", true, &v, &error) < 0)
		fail_msg("%s", error);
	if (store_mailbox_delete(f->u, "Temp", &error) < 0)
		fail_msg("delete: %s", error);
	assert_int_equal(imap_view_sync(v, 0, &f->out, &error), -1);
	assert_non_null(error);
	imap_view_free(&v);
}

static void
a_read_only_view_claims_no_recent_and_permits_no_flags(void **state)
{
	struct fixture *f = *state;
	struct imap_view *v;
	const char *error;

	(void)append(f, 0, "");
	if (imap_view_open(f->u, "INBOX", true, &v, &error) < 0)
		fail_msg("%s", error);
	assert_int_equal(imap_view_recent_count(v), 0);
	assert_int_equal(imap_view_write_select(v, 0, false, &f->out), 0);
	assert_non_null(strstr(buf_cstr(&f->out),
	    "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n"));
	imap_view_free(&v);
	/* the read-write view still gets it */
	assert_int_equal(view_sync(f, IMAP_VIEW_RECENT), 0);
	expect_out(f, "* 4 EXISTS\r\n* 4 RECENT\r\n");
}

static const struct {
	unsigned int	 store, imap;
} flag_cases[] = {
	{ 0, 0 },
	{ STORE_FLAG_SEEN, IMAP_FLAG_SEEN },
	{ STORE_FLAG_ANSWERED, IMAP_FLAG_ANSWERED },
	{ STORE_FLAG_FLAGGED, IMAP_FLAG_FLAGGED },
	{ STORE_FLAG_DELETED, IMAP_FLAG_DELETED },
	{ STORE_FLAG_DRAFT, IMAP_FLAG_DRAFT },
	{ STORE_FLAG_SEEN | STORE_FLAG_DRAFT,
	  IMAP_FLAG_SEEN | IMAP_FLAG_DRAFT },
};

static void
flag_bits_convert_both_ways_and_passed_has_no_imap_flag(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
		if (imap_flags_from_store(flag_cases[i].store) !=
		    flag_cases[i].imap)
			fail_msg("from_store(%#x): got %#x, want %#x",
			    flag_cases[i].store,
			    imap_flags_from_store(flag_cases[i].store),
			    flag_cases[i].imap);
		if (imap_flags_to_store(flag_cases[i].imap) !=
		    flag_cases[i].store)
			fail_msg("to_store(%#x): got %#x, want %#x",
			    flag_cases[i].imap,
			    imap_flags_to_store(flag_cases[i].imap),
			    flag_cases[i].store);
	}
	assert_int_equal(imap_flags_from_store(STORE_FLAG_PASSED), 0);
	assert_int_equal(imap_flags_to_store(IMAP_FLAG_RECENT), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    a_fresh_view_maps_sequence_numbers_to_uids, setup3,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    the_select_responses_name_flags_counts_and_uids, setup3,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    nothing_changed_reports_nothing, setup3, teardown),
		cmocka_unit_test_setup_teardown(
		    new_messages_are_reported_as_exists_and_recent, setup3,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    a_flag_change_elsewhere_is_reported_once, setup3,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    a_change_the_client_was_told_of_is_not_reported_again,
		    setup3, teardown),
		cmocka_unit_test_setup_teardown(
		    expunges_wait_until_they_may_be_reported, setup3,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    expunges_go_out_from_the_highest_sequence_number, setup3,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    qresync_sessions_get_one_vanished_line, setup3, teardown),
		cmocka_unit_test_setup_teardown(
		    a_new_keyword_sends_flags_and_permanentflags_again, setup3,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    client_sets_become_uid_sets_of_the_view, setup3, teardown),
		cmocka_unit_test_setup_teardown(
		    star_on_an_empty_mailbox_is_bad_by_seq_and_empty_by_uid,
		    setup0, teardown),
		cmocka_unit_test_setup_teardown(
		    a_long_update_stops_at_the_chunk_and_resumes,
		    setup3, teardown),
		cmocka_unit_test_setup_teardown(
		    a_deleted_mailbox_fails_the_sync, setup3, teardown),
		cmocka_unit_test_setup_teardown(
		    a_read_only_view_claims_no_recent_and_permits_no_flags,
		    setup3, teardown),
		cmocka_unit_test(
		    flag_bits_convert_both_ways_and_passed_has_no_imap_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
