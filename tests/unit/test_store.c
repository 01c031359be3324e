/* test_store.c - unit tests for the mail store (common/store*.c) */
#include "config.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "store_test_util.h"

#include "conf.h"
#include "store_index.h"
#include "store_maildir.h"
#include "store_notify.h"
#include "store_private.h"

struct fixture {
	char		*root;
	struct store	*st;
	struct store_user *u;
};

static const char msg1[] =
    "From: a@example.test\r\nSubject: one\r\n\r\nbody\r\n";

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *error;

	f->root = tu_root();
	f->st = tu_store(f->root);
	if (store_user_open(f->st, "alice@example.test", &f->u, &error) < 0)
		fail_msg("store_user_open: %s", error);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_user_close(&f->u);
	store_free(&f->st);
	tu_rm_rf(f->root);
	free(f->root);
	free(f);
	return 0;
}

/* path - <home>/Maildir/<rest>; caller frees */
static char *
mpath(struct fixture *f, const char *rest)
{
	return xasprintf("%s/Maildir/%s", store_user_home(f->u), rest);
}

/* append - append or fail the test */
static uint32_t
append(struct fixture *f, const char *mbox, const char *msg, size_t len,
    unsigned int flags, const char *kw)
{
	const char *error;
	uint32_t uid;

	if (store_append(f->u, mbox, msg, len, flags, kw, 1000000000, &uid,
	    NULL, &error) < 0)
		fail_msg("append: %s", error);
	return uid;
}

/* status - status or fail */
static struct store_status
status(struct fixture *f, const char *mbox)
{
	struct store_status s;
	const char *error;

	if (store_mailbox_status(f->u, mbox, &s, &error) < 0)
		fail_msg("status %s: %s", mbox, error);
	return s;
}

/* open_mb - open or fail */
static struct store_mailbox *
open_mb(struct fixture *f, const char *name)
{
	struct store_mailbox *mb;
	const char *error;

	if (store_mailbox_open(f->u, name, &mb, &error) < 0)
		fail_msg("open %s: %s", name, error);
	return mb;
}

/* get_msg - a message by UID in a fresh snapshot; 0 if absent */
static int
get_msg(struct store_mailbox *mb, uint32_t uid, struct store_msg *m,
    char **base_r)
{
	struct store_snapshot *snap;
	const char *error;
	int r;

	assert_int_equal(store_snapshot_begin(mb, &snap, &error), 0);
	r = store_snapshot_get(snap, uid, m, &error);
	assert_true(r >= 0);
	if (r == 1) {
		*base_r = xstrdup(m->base);
		m->keywords = xstrdup(m->keywords);
		m->base = *base_r;
	}
	store_snapshot_end(&snap);
	return r;
}

/* read_back - the bytes of a message through the snapshot API */
static char *
read_back(struct store_mailbox *mb, uint32_t uid, size_t *len_r)
{
	struct store_snapshot *snap;
	struct store_msg m;
	const char *error;
	char *data = xmalloc(1);
	size_t len = 0;
	ssize_t n;
	char chunk[65536];
	int fd;

	assert_int_equal(store_snapshot_begin(mb, &snap, &error), 0);
	assert_int_equal(store_snapshot_get(snap, uid, &m, &error), 1);
	assert_int_equal(store_snapshot_open_msg(snap, &m, &fd, &error), 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		data = xreallocarray(data, len + (size_t)n + 1, 1);
		memcpy(data + len, chunk, (size_t)n);
		len += (size_t)n;
	}
	close(fd);
	store_snapshot_end(&snap);
	*len_r = len;
	return data;
}

static void
delivery_links_one_durable_file_into_every_recipient(void **state)
{
	struct fixture *f = *state;
	struct store_rcpt rc[3];
	struct store_mailbox *mb;
	struct store_status s;
	struct dirent *de;
	struct stat sb;
	char *newd, *path, *tmpd;
	DIR *d;

	memset(rc, 0, sizeof(rc));
	rc[0].user = "alice@example.test";
	rc[1].user = "bob@example.test";
	rc[2].user = "carol@other.test";
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), rc, 3), 0);
	assert_int_equal(rc[0].result, STORE_OK);
	assert_int_equal(rc[1].result, STORE_OK);
	assert_int_equal(rc[2].result, STORE_OK);
	/* one inode, three links, nothing left in tmp/ */
	newd = xasprintf("%s/example.test/bob/Maildir/new", f->root);
	assert_int_equal(tu_count(newd), 1);
	d = opendir(newd);
	while ((de = readdir(d)) != NULL && de->d_name[0] == '.')
		;
	assert_non_null(de);
	path = xasprintf(",S=%zu", strlen(msg1));
	assert_non_null(strstr(de->d_name, path));
	free(path);
	assert_non_null(strstr(de->d_name, "test.example"));
	path = xasprintf("%s/%s", newd, de->d_name);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_nlink, 3);
	assert_int_equal(sb.st_size, strlen(msg1));
	closedir(d);
	free(path);
	free(newd);
	tmpd = mpath(f, "tmp");
	assert_int_equal(tu_count(tmpd), 0);
	free(tmpd);
	/* the index learns at the next look */
	s = status(f, "INBOX");
	assert_int_equal(s.messages, 1);
	assert_int_equal(s.unseen, 1);
	assert_int_equal(s.recent, 1);
	assert_int_equal(s.uidnext, 2);
	assert_int_equal(s.size, strlen(msg1));
	mb = open_mb(f, "INBOX");
	newd = mpath(f, "new");
	assert_int_equal(tu_count(newd), 0);
	free(newd);
	store_mailbox_close(&mb);
}

static void
delivery_to_one_folder_twice_stores_two_messages(void **state)
{
	struct fixture *f = *state;
	struct store_rcpt rc[3];
	char *newd;

	memset(rc, 0, sizeof(rc));
	rc[0].user = "alice@example.test";
	rc[1].user = "alice@example.test";
	rc[2].user = "alice@example.test";
	rc[2].mailbox = "Nonexistent";	/* falls back to INBOX */
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), rc, 3), 0);
	newd = mpath(f, "new");
	assert_int_equal(tu_count(newd), 3);
	free(newd);
	rc[0].mailbox = "Junk";
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), rc, 1), 0);
	assert_int_equal(status(f, "Junk").messages, 1);
	assert_int_equal(status(f, "INBOX").messages, 3);
}

static void
delivery_over_quota_is_refused_with_its_own_result(void **state)
{
	struct fixture *f = *state;
	struct store_rcpt rc[2];
	uint64_t bytes, msgs;
	const char *error;

	memset(rc, 0, sizeof(rc));
	rc[0].user = "alice@example.test";
	rc[0].quota_bytes = 100;
	rc[1].user = "bob@example.test";
	rc[1].quota_bytes = 10;		/* too small for even one */
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), rc, 2), -1);
	assert_int_equal(rc[0].result, STORE_OK);
	assert_int_equal(rc[1].result, STORE_ERR_QUOTA);
	/* the second delivery to alice would pass 100 bytes: counted from
	 * new/ before any sync */
	memset(rc, 0, sizeof(rc));
	rc[0].user = "alice@example.test";
	rc[0].quota_bytes = 100;
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), rc, 1), 0);
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), rc, 1), -1);
	assert_int_equal(rc[0].result, STORE_ERR_QUOTA);
	/* and from the index after a sync; by message count too */
	status(f, "INBOX");
	assert_int_equal(store_user_usage(f->u, &bytes, &msgs, &error), 0);
	assert_int_equal(msgs, 2);
	assert_int_equal(bytes, 2 * strlen(msg1));
	rc[0].quota_bytes = 0;
	rc[0].quota_messages = 2;
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), rc, 1), -1);
	assert_int_equal(rc[0].result, STORE_ERR_QUOTA);
	rc[0].quota_messages = 3;
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), rc, 1), 0);
}

static void
a_pile_of_unread_mail_is_indexed_and_still_counted_against_the_quota(
    void **state)
{
	struct fixture *f = *state;
	struct store_rcpt rc;
	char *newd;
	unsigned int i, n = 300;
	size_t len = strlen(msg1);

	memset(&rc, 0, sizeof(rc));
	rc.user = "alice@example.test";
	rc.quota_messages = n + 1;
	for (i = 0; i < n; i++)
		assert_int_equal(store_deliver(f->st, msg1, len, &rc, 1), 0);
	/* past the threshold, a delivery synced new/ into the index, so
	 * new/ does not keep growing with every unread message */
	newd = mpath(f, "new");
	if (tu_count(newd) >= (int)n)
		fail_msg("got %d files in new/, want fewer than %u",
		    tu_count(newd), n);
	free(newd);
	/* every message counts, indexed or not: one more fits, not two */
	assert_int_equal(store_deliver(f->st, msg1, len, &rc, 1), 0);
	assert_int_equal(store_deliver(f->st, msg1, len, &rc, 1), -1);
	assert_int_equal(rc.result, STORE_ERR_QUOTA);
	assert_int_equal(status(f, "INBOX").messages, n + 1);
}

static void
constant_delivery_does_not_turn_every_sync_into_a_full_scan(void **state)
{
	struct fixture *f = *state;
	struct store_folder_rec rec;
	struct store_rcpt rc;
	struct store_txn *t;
	const char *error;
	unsigned long before;
	int i;

	memset(&rc, 0, sizeof(rc));
	rc.user = "alice@example.test";
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), &rc, 1), 0);
	status(f, "INBOX");
	/* a verification that has been due for a while, as under a steady
	 * stream of deliveries that never lets cur/ settle */
	assert_int_equal(store_txn_begin(f->u->idx, true, &t, &error), 0);
	assert_int_equal(store_folder_get(t, "INBOX", &rec, &error), 0);
	rec.sync_flags |= STORE_SYNC_VERIFY;
	rec.verify_since = 1;	/* 1970 */
	assert_int_equal(store_idx_folder_put(t, "INBOX", &rec, &error), 0);
	assert_int_equal(store_txn_commit(&t, &error), 0);
	before = store_sync_full_scans();
	for (i = 0; i < 5; i++) {
		assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), &rc,
		    1), 0);
		status(f, "INBOX");
	}
	/* the first sync verifies; the next ones within VERIFY_MAX_NS only
	 * look at new/ */
	if (store_sync_full_scans() - before != 1)
		fail_msg("got %lu full scans for 5 syncs, want 1",
		    store_sync_full_scans() - before);
	assert_int_equal(status(f, "INBOX").messages, 6);
}

static void
delivery_refuses_users_that_would_leave_the_root(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"../x@example.test", "x@..", "x@../etc", "noat",
		"@example.test",
		"x@", "a/b@example.test", "x@a/b", ".x@example.test",
		"x\n@example.test",
	};
	struct store_rcpt rc;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(&rc, 0, sizeof(rc));
		rc.user = bad[i];
		if (store_deliver(f->st, msg1, strlen(msg1), &rc, 1) != -1 ||
		    rc.result != STORE_ERR_INVALID)
			fail_msg("\"%s\": got result %d, want %d", bad[i],
			    rc.result, STORE_ERR_INVALID);
	}
	/* nothing was created outside the root's domains */
	assert_int_equal(tu_count(f->root), 1);
}

static void
append_assigns_increasing_uids_with_flags_and_date(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox *mb;
	struct store_status s;
	struct store_msg m;
	char *base, *path;
	struct stat sb;

	assert_int_equal(append(f, "INBOX", msg1, strlen(msg1), 0, NULL), 1);
	assert_int_equal(append(f, "INBOX", msg1, strlen(msg1),
	    STORE_FLAG_SEEN | STORE_FLAG_FLAGGED, "$Junk work"), 2);
	assert_int_equal(append(f, "Sent", msg1, strlen(msg1),
	    STORE_FLAG_SEEN, NULL), 1);
	s = status(f, "INBOX");
	assert_int_equal(s.messages, 2);
	assert_int_equal(s.unseen, 1);
	assert_int_equal(s.uidnext, 3);
	assert_true(s.highestmodseq >= 3);
	mb = open_mb(f, "INBOX");
	assert_int_equal(get_msg(mb, 2, &m, &base), 1);
	assert_int_equal(m.flags, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	assert_string_equal(m.keywords, "$Junk work");
	assert_int_equal(m.internaldate, 1000000000);
	assert_int_equal(m.size, strlen(msg1));
	{
		struct store_snapshot *snap;
		struct store_cache c;
		const char *error;

		assert_int_equal(store_snapshot_begin(mb, &snap, &error), 0);
		assert_int_equal(store_snapshot_cache(snap, 2, &c, &error), 1);
		if (c.envelope == NULL || strstr(c.envelope, "\"one\"") ==
		    NULL)
			fail_msg("got envelope %s, want the subject in it",
			    c.envelope ? c.envelope : "NULL");
		assert_non_null(c.bodystructure);
		assert_int_equal(c.header_size, strlen(msg1) - 6);
		store_snapshot_end(&snap);
	}
	path = store_msg_path(mb->dir, base, m.flags);
	assert_non_null(strstr(path, ":2,FS"));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mtime, 1000000000);
	free(path);
	free(base);
	free((char *)m.keywords);
	store_mailbox_close(&mb);
}

static void
flag_changes_rename_files_and_bump_modseq(void **state)
{
	struct fixture *f = *state;
	static const struct {
		enum store_flag_mode mode;
		unsigned int	 flags;
		const char	*kw;
		unsigned int	 want_flags;
		const char	*want_kw;
		const char	*want_info;
	} cases[] = {
		{ STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, STORE_FLAG_SEEN, "",
		  ":2,S" },
		{ STORE_FLAGS_ADD, STORE_FLAG_ANSWERED | STORE_FLAG_DRAFT,
		  "b a",
		  STORE_FLAG_SEEN | STORE_FLAG_ANSWERED | STORE_FLAG_DRAFT,
		  "a b", ":2,DRS" },
		{ STORE_FLAGS_REMOVE, STORE_FLAG_SEEN, "A",
		  STORE_FLAG_ANSWERED | STORE_FLAG_DRAFT, "b", ":2,DR" },
		{ STORE_FLAGS_SET, STORE_FLAG_DELETED, "x", STORE_FLAG_DELETED,
		  "x", ":2,T" },
		{ STORE_FLAGS_SET, 0, NULL, 0, "", ":2," },
	};
	struct store_mailbox *mb;
	struct store_status s;
	struct store_msg m;
	uint64_t last = 0;
	uint32_t uid, *failed;
	size_t nfailed, i;
	const char *error;
	char *base, *path;
	struct stat sb;

	uid = append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	mb = open_mb(f, "INBOX");
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(store_set_flags(mb, &uid, 1, cases[i].mode,
		    cases[i].flags, cases[i].kw, 0, NULL, NULL, &error), 0);
		assert_int_equal(get_msg(mb, uid, &m, &base), 1);
		if (m.flags != cases[i].want_flags ||
		    strcmp(m.keywords, cases[i].want_kw) != 0)
			fail_msg("case %zu: got %#x \"%s\", want %#x \"%s\"",
			    i, m.flags, m.keywords, cases[i].want_flags,
			    cases[i].want_kw);
		if (m.modseq <= last)
			fail_msg("case %zu: got modseq %llu, want > %llu", i,
			    (unsigned long long)m.modseq,
			    (unsigned long long)last);
		last = m.modseq;
		path = store_msg_path(mb->dir, base, m.flags);
		assert_non_null(strstr(path, cases[i].want_info));
		assert_int_equal(stat(path, &sb), 0);
		free(path);
		free(base);
		free((char *)m.keywords);
	}
	s = status(f, "INBOX");
	assert_int_equal(s.highestmodseq, last);
	assert_int_equal(s.unseen, 1);
	/* CONDSTORE: UNCHANGEDSINCE older than the message fails it */
	assert_int_equal(store_set_flags(mb, &uid, 1, STORE_FLAGS_ADD,
	    STORE_FLAG_SEEN, NULL, last - 1, &failed, &nfailed, &error), 0);
	assert_int_equal(nfailed, 1);
	assert_int_equal(failed[0], uid);
	free(failed);
	assert_int_equal(store_set_flags(mb, &uid, 1, STORE_FLAGS_ADD,
	    STORE_FLAG_SEEN, NULL, last, &failed, &nfailed, &error), 0);
	assert_int_equal(nfailed, 0);
	free(failed);
	assert_int_equal(status(f, "INBOX").unseen, 0);
	store_mailbox_close(&mb);
}

static void
expunge_removes_files_and_logs_uids_for_qresync(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox *mb;
	struct store_snapshot *snap;
	struct store_status s, before;
	struct store_msg m;
	uint32_t uids[5], one, xuid;
	uint64_t xmod;
	const char *error;
	char *curd;
	int i, n;

	for (i = 0; i < 5; i++)
		uids[i] = append(f, "INBOX", msg1, strlen(msg1),
		    i % 2 ? STORE_FLAG_DELETED : 0, NULL);
	mb = open_mb(f, "INBOX");
	before = status(f, "INBOX");
	assert_int_equal(store_expunge(mb, NULL, 0, &error), 0);
	s = status(f, "INBOX");
	assert_int_equal(s.messages, 3);
	assert_int_equal(s.size, 3 * strlen(msg1));
	one = uids[0];
	assert_int_equal(store_expunge(mb, &one, 1, &error), 0);
	curd = mpath(f, "cur");
	assert_int_equal(tu_count(curd), 2);
	free(curd);
	assert_int_equal(store_snapshot_begin(mb, &snap, &error), 0);
	n = 0;
	while (store_snapshot_expunged(snap, before.highestmodseq, &xuid,
	    &xmod, &error) == 1) {
		assert_true(xuid == 2 || xuid == 4 || xuid == 1);
		assert_true(xmod > before.highestmodseq);
		n++;
	}
	assert_int_equal(n, 3);
	n = 0;
	while (store_snapshot_next(snap, 0, &m, &error) == 1) {
		assert_true(m.uid == 3 || m.uid == 5);
		n++;
	}
	assert_int_equal(n, 2);
	store_snapshot_end(&snap);
	/* UIDs are never handed out again */
	assert_int_equal(append(f, "INBOX", msg1, strlen(msg1), 0, NULL), 6);
	store_mailbox_close(&mb);
}

static void
copy_and_move_return_uid_maps(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox *mb;
	struct store_uid_map *map;
	struct store_cache cache;
	struct store_snapshot *snap;
	struct store_mailbox *arch;
	uint32_t uids[3], uv;
	size_t nmap;
	const char *error;
	int i;

	for (i = 0; i < 3; i++)
		uids[i] = append(f, "INBOX", msg1, strlen(msg1),
		    STORE_FLAG_FLAGGED, "k");
	mb = open_mb(f, "INBOX");
	assert_int_equal(store_copy(mb, uids, 2, "Archive", false, &map,
	    &nmap, &uv, &error), 0);
	assert_int_equal(nmap, 2);
	assert_int_equal(map[0].src_uid, 1);
	assert_int_equal(map[0].dst_uid, 1);
	assert_int_equal(map[1].src_uid, 2);
	assert_int_equal(map[1].dst_uid, 2);
	assert_int_equal(uv, status(f, "Archive").uidvalidity);
	free(map);
	assert_int_equal(store_copy(mb, uids + 1, 2, "Archive", true, &map,
	    &nmap, &uv, &error), 0);
	assert_int_equal(nmap, 2);
	assert_int_equal(map[0].dst_uid, 3);
	assert_int_equal(map[1].dst_uid, 4);
	free(map);
	assert_int_equal(status(f, "INBOX").messages, 1);
	assert_int_equal(status(f, "Archive").messages, 4);
	assert_int_equal(status(f, "Archive").unseen, 4);
	/* the copy keeps flags, keywords and the cached summary */
	arch = open_mb(f, "Archive");
	assert_int_equal(store_snapshot_begin(arch, &snap, &error), 0);
	assert_int_equal(store_snapshot_cache(snap, 4, &cache, &error), 1);
	assert_non_null(cache.envelope);
	store_snapshot_end(&snap);
	store_mailbox_close(&arch);
	/* a missing destination is an error; nothing moves */
	assert_int_equal(store_copy(mb, uids, 1, "Nope", true, &map, &nmap,
	    &uv, &error), -1);
	assert_string_equal(error, "no such mailbox");
	assert_int_equal(store_copy(mb, uids, 1, "INBOX", true, &map, &nmap,
	    &uv, &error), -1);
	assert_int_equal(status(f, "INBOX").messages, 1);
	store_mailbox_close(&mb);
}

static void
folders_exist_from_the_start_and_can_be_managed(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char	*name;
		uint32_t	 attrs;
	} want[] = {
		{ "Archive", STORE_ATTR_ARCHIVE },
		{ "Drafts", STORE_ATTR_DRAFTS },
		{ "INBOX", 0 }, { "Junk", STORE_ATTR_JUNK },
		{ "Sent", STORE_ATTR_SENT }, { "Trash", STORE_ATTR_TRASH },
	};
	struct store_mailbox_info *list;
	const char *error;
	struct stat sb;
	char *p;
	size_t n, i;
	uint32_t uv;

	assert_int_equal(store_mailbox_list(f->u, &list, &n, &error), 0);
	assert_int_equal(n, 6);
	for (i = 0; i < n; i++) {
		if (strcmp(list[i].name, want[i].name) != 0 ||
		    list[i].attrs != want[i].attrs || !list[i].subscribed)
			fail_msg("%zu: got %s %#x, want %s %#x", i,
			    list[i].name, list[i].attrs, want[i].name,
			    want[i].attrs);
	}
	store_mailbox_list_free(&list, n);

	assert_int_equal(store_mailbox_create(f->u, "a", &error), 0);
	assert_int_equal(store_mailbox_create(f->u, "a/b.c", &error), 0);
	assert_int_equal(store_mailbox_create(f->u, "a/b.c", &error), -1);
	assert_string_equal(error, "mailbox already exists");
	p = mpath(f, ".a.b%2Ec/cur");
	assert_int_equal(stat(p, &sb), 0);
	free(p);
	assert_int_equal(store_mailbox_create(f->u, "../../evil", &error), -1);
	assert_int_equal(store_mailbox_create(f->u, "a/", &error), -1);
	assert_int_equal(store_mailbox_delete(f->u, "INBOX", &error), -1);
	append(f, "a/b.c", msg1, strlen(msg1), 0, NULL);
	uv = status(f, "a/b.c").uidvalidity;

	assert_int_equal(store_mailbox_rename(f->u, "a", "z", &error), 0);
	assert_int_equal(status(f, "z/b.c").messages, 1);
	assert_int_equal(status(f, "z/b.c").uidvalidity, uv);
	assert_int_equal(store_mailbox_status(f->u, "a/b.c", &(struct
	    store_status){ 0 }, &error), -1);
	assert_int_equal(store_mailbox_rename(f->u, "z", "Sent", &error), -1);
	assert_int_equal(store_mailbox_rename(f->u, "z", "inbox", &error), -1);
	/* renaming INBOX moves its messages and leaves it empty */
	append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	assert_int_equal(store_mailbox_rename(f->u, "INBOX", "Old", &error),
	    0);
	assert_int_equal(status(f, "INBOX").messages, 0);
	assert_int_equal(status(f, "Old").messages, 2);
	assert_int_equal(status(f, "INBOX").uidnext, 3);
	assert_int_equal(store_mailbox_rename(f->u, "z", "z/in", &error), -1);

	assert_int_equal(store_mailbox_subscribe(f->u, "z/b.c", true,
	    &error), 0);
	assert_int_equal(store_mailbox_subscribe(f->u, "gone", true,
	    &error), 0);
	assert_int_equal(store_mailbox_delete(f->u, "z/b.c", &error), 0);
	assert_int_equal(store_mailbox_delete(f->u, "z/b.c", &error), -1);
	p = mpath(f, ".z.b%2Ec");
	assert_int_equal(stat(p, &sb), -1);
	free(p);
	assert_int_equal(store_user_usage(f->u, &(uint64_t){ 0 },
	    &(uint64_t){ 0 }, &error), 0);
	assert_int_equal(store_mailbox_list(f->u, &list, &n, &error), 0);
	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, "gone") == 0 ||
		    strcmp(list[i].name, "z/b.c") == 0)
			assert_false(list[i].exists);
	store_mailbox_list_free(&list, n);
	/* a re-created folder gets a new UIDVALIDITY */
	assert_int_equal(store_mailbox_create(f->u, "z/b.c", &error), 0);
	assert_true(status(f, "z/b.c").uidvalidity != uv);
}

static void
sync_picks_up_what_other_programs_did(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox *mb;
	struct store_status s;
	struct store_msg m;
	char *p, *q, *base;
	const char *error;
	uint32_t uid;

	uid = append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	mb = open_mb(f, "INBOX");
	/* a foreign program: a file in new/ with an odd name, one in cur/
	 * without info, a flag change by rename, a removal */
	p = mpath(f, "new/1700000000.foreign");
	tu_write(p, msg1, strlen(msg1));
	free(p);
	p = mpath(f, "cur/zzz-no-info");
	tu_write(p, "x", 1);
	free(p);
	assert_int_equal(get_msg(mb, uid, &m, &base), 1);
	p = store_msg_path(mb->dir, base, 0);
	q = store_msg_path(mb->dir, base, STORE_FLAG_SEEN |
	    STORE_FLAG_ANSWERED);
	assert_int_equal(rename(p, q), 0);
	free(p);
	free(q);
	free(base);
	free((char *)m.keywords);
	assert_int_equal(get_msg(mb, 2, &m, &base), 1);
	p = store_msg_path(mb->dir, base, m.flags);
	assert_int_equal(unlink(p), 0);
	free(p);
	free(base);
	free((char *)m.keywords);

	assert_int_equal(store_mailbox_sync(mb, &error), 0);
	s = status(f, "INBOX");
	assert_int_equal(s.messages, 3);
	assert_int_equal(s.uidnext, 5);
	assert_int_equal(s.unseen, 2);
	assert_int_equal(get_msg(mb, uid, &m, &base), 1);
	assert_int_equal(m.flags, STORE_FLAG_SEEN | STORE_FLAG_ANSWERED);
	free(base);
	free((char *)m.keywords);
	assert_int_equal(get_msg(mb, 2, &m, &base), 0);
	/* the oldest arrival first: the foreign file is from 2023 */
	assert_int_equal(get_msg(mb, 3, &m, &base), 1);
	assert_string_equal(m.base, "1700000000.foreign");
	free(base);
	free((char *)m.keywords);
	assert_int_equal(get_msg(mb, 4, &m, &base), 1);
	assert_string_equal(m.base, "zzz-no-info");
	assert_int_equal(m.size, 1);
	free(base);
	free((char *)m.keywords);
	/* the foreign name now carries info, so flags can be set */
	uid = 4;
	assert_int_equal(store_set_flags(mb, &uid, 1, STORE_FLAGS_ADD,
	    STORE_FLAG_SEEN, NULL, 0, NULL, NULL, &error), 0);
	p = mpath(f, "cur/zzz-no-info:2,S");
	assert_int_equal(access(p, F_OK), 0);
	free(p);
	store_mailbox_close(&mb);
}

/* set_old_mtime - make a directory's mtime settled (10 s ago) */
static void
set_old_mtime(const char *dir, time_t when)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = when;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, dir, ts, 0), 0);
}

static void
second_sync_skips_the_scan_when_directories_are_unchanged(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox *mb;
	const char *error;
	char *cur, *newd, *p;
	time_t old = time(NULL) - 10;

	append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	cur = mpath(f, "cur");
	newd = mpath(f, "new");
	set_old_mtime(cur, old);
	set_old_mtime(newd, old);
	mb = open_mb(f, "INBOX");	/* full scan, remembers mtimes */
	/* sneak a file in and put the mtime back: the fast path cannot see
	 * it, which proves it did not scan */
	p = mpath(f, "cur/sneaky:2,");
	tu_write(p, msg1, strlen(msg1));
	free(p);
	set_old_mtime(cur, old);
	assert_int_equal(store_mailbox_sync(mb, &error), 0);
	assert_int_equal(status(f, "INBOX").messages, 1);
	/* a real change moves the mtime: seen */
	set_old_mtime(cur, old + 1);
	assert_int_equal(store_mailbox_sync(mb, &error), 0);
	assert_int_equal(status(f, "INBOX").messages, 2);
	free(cur);
	free(newd);
	store_mailbox_close(&mb);
}

static void
new_mail_is_indexed_without_listing_cur_and_verified_later(void **state)
{
	struct fixture *f = *state;
	struct store_folder_rec rec;
	struct store_mailbox *mb;
	struct store_rcpt rc;
	struct store_txn *t;
	const char *error;
	char *cur, *newd, *p;
	time_t old = time(NULL) - 10;

	append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	cur = mpath(f, "cur");
	newd = mpath(f, "new");
	set_old_mtime(cur, old);
	set_old_mtime(newd, old);
	mb = open_mb(f, "INBOX");
	p = mpath(f, "cur/sneaky:2,");
	tu_write(p, msg1, strlen(msg1));
	free(p);
	set_old_mtime(cur, old);
	memset(&rc, 0, sizeof(rc));
	rc.user = "alice@example.test";
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), &rc, 1), 0);
	/* only new/ is read: the delivery is in, the sneaky file is not */
	assert_int_equal(store_mailbox_sync(mb, &error), 0);
	assert_int_equal(status(f, "INBOX").messages, 2);
	assert_int_equal(status(f, "INBOX").messages, 2);
	/* once cur/ has settled, one full scan verifies */
	assert_int_equal(store_txn_begin(f->u->idx, true, &t, &error), 0);
	assert_int_equal(store_idx_folder_get(t, "INBOX", &rec, &error), 1);
	assert_true(rec.sync_flags & STORE_SYNC_VERIFY);
	set_old_mtime(cur, old);
	rec.cur_mtime = (int64_t)old * 1000000000LL;
	assert_int_equal(store_idx_folder_put(t, "INBOX", &rec, &error), 0);
	assert_int_equal(store_txn_commit(&t, &error), 0);
	assert_int_equal(store_mailbox_sync(mb, &error), 0);
	assert_int_equal(status(f, "INBOX").messages, 3);
	free(cur);
	free(newd);
	store_mailbox_close(&mb);
}

static void
bad_messages_are_stored_and_served_as_they_are(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox *mb;
	struct store_rcpt rc;
	struct {
		char	*data;
		size_t	 len;
	} cases[6];
	char *got, *hdr;
	size_t len, i, n = 0;
	uint32_t uid;

	cases[n].data = xstrdup("Content-Type: multipart/mixed; boundary=\"x"
	    "\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nno end");
	cases[n].len = strlen(cases[n].data);
	n++;
	cases[n].data = xstrdup("no header at all, just text\n");
	cases[n].len = strlen(cases[n].data);
	n++;
	cases[n].data = xmemdup("Subject: \xff\xfe\x00\x01\r\n\r\n\x80\x00z",
	    20);
	cases[n].len = 20;
	n++;
	cases[n].data = xstrdup("");
	cases[n].len = 0;
	n++;
	hdr = xmalloc(1 << 20);
	memcpy(hdr, "X-Huge: ", 8);
	memset(hdr + 8, 'h', (1 << 20) - 12);
	memcpy(hdr + (1 << 20) - 4, "\r\n\r\n", 4);
	cases[n].data = hdr;
	cases[n].len = 1 << 20;
	n++;
	mb = open_mb(f, "INBOX");
	for (i = 0; i < n; i++) {
		uid = append(f, "INBOX", cases[i].data, cases[i].len, 0, NULL);
		got = read_back(mb, uid, &len);
		if (len != cases[i].len || memcmp(got, cases[i].data,
		    len) != 0)
			fail_msg("case %zu: got %zu bytes back, want %zu", i,
			    len, cases[i].len);
		free(got);
		/* and the same through delivery + sync */
		memset(&rc, 0, sizeof(rc));
		rc.user = "alice@example.test";
		assert_int_equal(store_deliver(f->st, cases[i].data,
		    cases[i].len, &rc, 1), 0);
		assert_int_equal(store_mailbox_sync(mb, &(const char *){ 0 }),
		    0);
		got = read_back(mb, uid + 1, &len);
		assert_int_equal(len, cases[i].len);
		free(got);
	}
	assert_int_equal(status(f, "INBOX").messages, 2 * n);
	for (i = 0; i < n; i++)
		free(cases[i].data);
	store_mailbox_close(&mb);
}

static void
recent_belongs_to_the_first_session_that_claims_it(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox *mb;
	const char *error;
	uint32_t first;

	append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	assert_int_equal(status(f, "INBOX").recent, 2);
	mb = open_mb(f, "INBOX");
	assert_int_equal(store_mailbox_claim_recent(mb, &first, &error), 0);
	assert_int_equal(first, 1);
	assert_int_equal(status(f, "INBOX").recent, 0);
	assert_int_equal(store_mailbox_claim_recent(mb, &first, &error), 0);
	assert_int_equal(first, 3);
	append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	assert_int_equal(status(f, "INBOX").recent, 1);
	store_mailbox_close(&mb);
}

/* mono_ms - CLOCK_MONOTONIC in ms, comparable across processes */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_readable - the time fd became readable, or -1 after limit_ms */
static int64_t
wait_readable(int fd, int limit_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	if (poll(&pfd, 1, limit_ms) != 1)
		return -1;
	return mono_ms();
}

/* woke - store_notify_read() callback */
static void
woke(void *cookie, void *arg)
{
	(*(int *)arg)++;
}

static void
watchers_are_woken_by_changes_from_other_processes(void **state)
{
	struct fixture *f = *state;
	struct store_notify *n;
	const char *error;
	char *p;
	pid_t pid;
	int status_, count, step, fds[2];
	int64_t woken, done;

	assert_int_equal(store_notify_new(&n, &error), 0);
	assert_int_equal(store_notify_add(n, f->u, "INBOX", f, &error), 0);
	count = 0;
	assert_int_equal(store_notify_read(n, woke, &count), 0);
	for (step = 0; step < 3; step++) {
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			/* another process: its own store, as smtpd would */
			struct store *st = tu_store(f->root);
			struct store_rcpt rc;
			struct store_user *u;
			struct store_mailbox *mb;
			uint32_t uid = 1;
			int r = 0;

			memset(&rc, 0, sizeof(rc));
			rc.user = "alice@example.test";
			if (step == 0)
				r = store_deliver(st, msg1, strlen(msg1),
				    &rc, 1);
			/* step 1: the sync indexes the delivery; step 2:
			 * a flag change, seen only in the index */
			else if (store_user_open(st, rc.user, &u,
			    &error) < 0 || store_mailbox_open(u, "INBOX", &mb,
			    &error) < 0)
				r = -1;
			else if (step == 2)
				r = store_set_flags(mb, &uid, 1,
				    STORE_FLAGS_ADD, STORE_FLAG_FLAGGED, NULL,
				    0, NULL, NULL, &error);
			done = mono_ms();
			if (write(fds[1], &done, sizeof(done)) !=
			    sizeof(done))
				r = -1;
			_exit(r == 0 ? 0 : 1);
		}
		close(fds[1]);
		/* the change is announced by the time it is done, or within
		 * 100 ms of it; the generous poll limit is for a busy box */
		woken = wait_readable(store_notify_fd(n), 5000);
		assert_int_equal(read(fds[0], &done, sizeof(done)),
		    sizeof(done));
		close(fds[0]);
		assert_int_equal(waitpid(pid, &status_, 0), pid);
		assert_int_equal(status_, 0);
		if (woken < 0 || woken - done > 100)
			fail_msg("step %d: woken %lld ms after the change, "
			    "want <= 100", step, (long long)(woken - done));
		usleep(20000);
		count = 0;
		assert_true(store_notify_read(n, woke, &count) >= 1);
		assert_int_equal(count, 1);
	}
	/* a file dropped by a program that knows nothing of us */
	p = mpath(f, "new/dropped");
	tu_write(p, msg1, strlen(msg1));
	done = mono_ms();
	free(p);
	woken = wait_readable(store_notify_fd(n), 5000);
	assert_true(woken >= 0 && woken - done <= 100);
	store_notify_remove(n, f);
	count = 0;
	store_notify_read(n, woke, &count);
	assert_int_equal(count, 0);
	store_notify_free(&n);
}

/* say_nothing - store_check() output sink */
static void
say_nothing(const char *line, void *arg)
{
	(*(int *)arg)++;
}

static void
check_finds_damage_and_repair_keeps_proven_uids(void **state)
{
	struct fixture *f = *state;
	struct store_check_report rep;
	struct store_folder_rec rec;
	struct store_mailbox *mb;
	struct store_txn *t;
	struct store_msg m;
	const char *error;
	char *base, *p;
	int lines = 0, i;

	for (i = 0; i < 4; i++)
		append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	assert_int_equal(store_check(f->u, false, say_nothing, &lines, &rep,
	    &error), 0);
	assert_int_equal(rep.problems, 0);
	assert_int_equal(rep.messages, 4);
	assert_int_equal(rep.folders, 6);
	mb = open_mb(f, "INBOX");
	assert_int_equal(get_msg(mb, 3, &m, &base), 1);
	/* damage: lose UID 3's name entry and cache, break the counters and
	 * UIDNEXT, leave a stray file */
	assert_int_equal(store_txn_begin(f->u->idx, true, &t, &error), 0);
	assert_int_equal(store_idx_name_del(t, mb->fid, base, strlen(base),
	    &error), 0);
	assert_int_equal(store_idx_cache_del(t, mb->fid, 3, &error), 0);
	assert_int_equal(store_idx_folder_get(t, "INBOX", &rec, &error), 1);
	rec.messages = 99;
	rec.uidnext = 2;
	rec.cur_mtime = 0;
	assert_int_equal(store_idx_folder_put(t, "INBOX", &rec, &error), 0);
	assert_int_equal(store_txn_commit(&t, &error), 0);
	free(base);
	free((char *)m.keywords);
	p = mpath(f, "cur/stray:2,S");
	tu_write(p, "x", 1);
	free(p);

	assert_int_equal(store_check(f->u, false, say_nothing, &lines, &rep,
	    &error), 1);
	assert_true(rep.problems >= 5);
	assert_int_equal(store_check(f->u, true, say_nothing, &lines, &rep,
	    &error), 1);
	assert_int_equal(store_check(f->u, false, say_nothing, &lines, &rep,
	    &error), 0);
	assert_int_equal(rep.problems, 0);
	/* UID 3 kept its number; the stray file got a fresh one */
	assert_int_equal(get_msg(mb, 3, &m, &base), 1);
	free(base);
	free((char *)m.keywords);
	assert_int_equal(status(f, "INBOX").messages, 5);
	assert_int_equal(status(f, "INBOX").uidnext, 6);
	assert_int_equal(get_msg(mb, 5, &m, &base), 1);
	assert_string_equal(m.base, "stray");
	free(base);
	free((char *)m.keywords);
	store_mailbox_close(&mb);
}

static int
fsync_fails(int fd)
{
	errno = EIO;
	return -1;
}

static void
failed_fsync_fails_the_delivery_and_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_rcpt rc;
	char *d;

	memset(&rc, 0, sizeof(rc));
	rc.user = "alice@example.test";
	store_maildir_fsync_hook = fsync_fails;
	assert_int_equal(store_deliver(f->st, msg1, strlen(msg1), &rc, 1), -1);
	store_maildir_fsync_hook = NULL;
	assert_int_equal(rc.result, STORE_ERR_TEMP);
	d = mpath(f, "new");
	assert_int_equal(tu_count(d), 0);
	free(d);
	d = mpath(f, "tmp");
	assert_int_equal(tu_count(d), 0);
	free(d);
}

static void
crash_leftovers_are_cleaned_up_and_idle_indexes_closed(void **state)
{
	struct fixture *f = *state;
	struct store_mailbox_info *list;
	struct timespec ts[2];
	struct stat sb;
	const char *error;
	char *old, *fresh, *del, *p;
	size_t n;

	old = mpath(f, "tmp/old-crash");
	fresh = mpath(f, "tmp/being-written");
	tu_write(old, "x", 1);
	tu_write(fresh, "x", 1);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 40 * 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, old, ts, 0), 0);
	del = mpath(f, "..deleted.1.x");
	assert_int_equal(mkdir(del, 0700), 0);
	p = mpath(f, "..deleted.1.x/cur");
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	/* a full sync and a folder listing do the housekeeping */
	append(f, "INBOX", msg1, strlen(msg1), 0, NULL);
	status(f, "INBOX");
	assert_int_equal(stat(old, &sb), -1);
	assert_int_equal(stat(fresh, &sb), 0);
	assert_int_equal(store_mailbox_list(f->u, &list, &n, &error), 0);
	store_mailbox_list_free(&list, n);
	assert_int_equal(stat(del, &sb), -1);
	free(old);
	free(fresh);
	free(del);

	/* idle: closed by store_expire(), reopened on demand */
	store_user_close(&f->u);
	store_expire(f->st);
	assert_null(f->st->users);
	assert_int_equal(store_user_open(f->st, "alice@example.test", &f->u,
	    &error), 0);
	assert_int_equal(status(f, "INBOX").messages, 1);
}

static void
store_settings_come_from_the_store_section(void **state)
{
	struct conf *conf;
	struct store *st;
	char *error;

	assert_int_equal(conf_load_string("t", "[store]\nroot = /srv/mail\n"
	    "idle_close = 5s\n", conf_schemas_bastide, &conf, &error), 0);
	st = store_new_conf(conf);
	assert_string_equal(store_root(st), "/srv/mail");
	assert_int_equal(st->idle_close_ms, 5000);
	assert_int_equal(st->map_size, 1ULL << 30);
	assert_int_equal(st->idle_max, 128);
	store_free(&st);
	conf_free(&conf);
}

static unsigned int gc_started, gc_done_max;

/* fsync_slow - counts fsyncs and makes them slow enough to batch */
static int
fsync_slow(int fd)
{
	unsigned int idx = __atomic_add_fetch(&gc_started, 1,
	    __ATOMIC_SEQ_CST);
	unsigned int cur;

	usleep(3000);
	cur = __atomic_load_n(&gc_done_max, __ATOMIC_SEQ_CST);
	while (cur < idx && !__atomic_compare_exchange_n(&gc_done_max, &cur,
	    idx, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
	return fsync(fd);
}

/* dirsync_thread - 10 directory syncs, each checked for durability */
static void *
dirsync_thread(void *arg)
{
	const char *dir = arg, *error;
	unsigned int entry;
	int i;

	for (i = 0; i < 10; i++) {
		entry = __atomic_load_n(&gc_started, __ATOMIC_SEQ_CST);
		if (store_maildir_dirsync(dir, &error) < 0)
			return (void *)"dirsync failed";
		/* an fsync that began after we asked must have finished */
		if (__atomic_load_n(&gc_done_max, __ATOMIC_SEQ_CST) <= entry)
			return (void *)"returned before a later fsync ended";
	}
	return NULL;
}

static void
directory_fsyncs_are_shared_but_never_skipped(void **state)
{
	struct fixture *f = *state;
	pthread_t th[16];
	void *res;
	char *dir;
	int i;

	dir = mpath(f, "new");
	gc_started = gc_done_max = 0;
	store_maildir_fsync_hook = fsync_slow;
	for (i = 0; i < 16; i++)
		pthread_create(&th[i], NULL, dirsync_thread, dir);
	for (i = 0; i < 16; i++) {
		pthread_join(th[i], &res);
		if (res != NULL)
			fail_msg("thread %d: %s", i, (char *)res);
	}
	store_maildir_fsync_hook = NULL;
	/* 160 requests; group commit needs far fewer fsyncs */
	if (gc_started == 0 || gc_started >= 160 / 2)
		fail_msg("got %u fsyncs for 160 requests, want 1..79",
		    gc_started);
	free(dir);
}

static void
idle_indexes_beyond_the_limit_are_closed(void **state)
{
	struct fixture *f = *state;
	struct store_user *u, *v;
	const char *error;
	char user[64];
	int i, n;

	f->st->idle_max = 2;
	for (i = 0; i < 5; i++) {
		snprintf(user, sizeof(user), "u%d@example.test", i);
		assert_int_equal(store_user_open(f->st, user, &u, &error), 0);
		store_user_close(&u);
	}
	assert_int_equal(store_user_open(f->st, "u9@example.test", &u,
	    &error), 0);
	/* alice (open) + u9 (open) + at most 2 idle ones */
	for (n = 0, v = f->st->users; v != NULL; v = v->next)
		n++;
	if (n > 4)
		fail_msg("got %d open indexes, want <= 4", n);
	store_user_close(&u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(delivery_links_one_durable_file_into_every_recipient),
		T(delivery_to_one_folder_twice_stores_two_messages),
		T(delivery_over_quota_is_refused_with_its_own_result),
		T(a_pile_of_unread_mail_is_indexed_and_still_counted_against_the_quota),
		T(constant_delivery_does_not_turn_every_sync_into_a_full_scan),
		T(delivery_refuses_users_that_would_leave_the_root),
		T(failed_fsync_fails_the_delivery_and_leaves_nothing),
		T(directory_fsyncs_are_shared_but_never_skipped),
		T(append_assigns_increasing_uids_with_flags_and_date),
		T(flag_changes_rename_files_and_bump_modseq),
		T(expunge_removes_files_and_logs_uids_for_qresync),
		T(copy_and_move_return_uid_maps),
		T(folders_exist_from_the_start_and_can_be_managed),
		T(sync_picks_up_what_other_programs_did),
		T(second_sync_skips_the_scan_when_directories_are_unchanged),
		T(new_mail_is_indexed_without_listing_cur_and_verified_later),
		T(bad_messages_are_stored_and_served_as_they_are),
		T(recent_belongs_to_the_first_session_that_claims_it),
		T(watchers_are_woken_by_changes_from_other_processes),
		T(check_finds_damage_and_repair_keeps_proven_uids),
		T(crash_leftovers_are_cleaned_up_and_idle_indexes_closed),
		T(idle_indexes_beyond_the_limit_are_closed),
		cmocka_unit_test(store_settings_come_from_the_store_section),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
