/* test_store_special_use.c - unit tests for folders created with a special
 * use (RFC 6154 CREATE-SPECIAL-USE) and for MAILBOXIDs (RFC 8474), on a
 * real store in /tmp (common/store.c) */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_test_util.h"

#include "store_index.h"

struct fixture {
	char		*root;
	struct store	*st;
	struct store_user *u;
};

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

/* reopen - close the user and the store and open them again, as the next
 * process would */
static void
reopen(struct fixture *f)
{
	const char *error;

	store_user_close(&f->u);
	store_free(&f->st);
	f->st = tu_store(f->root);
	if (store_user_open(f->st, "alice@example.test", &f->u, &error) < 0)
		fail_msg("store_user_open again: %s", error);
}

/* attrs_of - the attributes store_mailbox_list() gives name; -1 when it
 * is not listed as an existing folder */
static long
attrs_of(struct fixture *f, const char *name)
{
	struct store_mailbox_info *list;
	const char *error;
	long attrs = -1;
	size_t n, i;

	if (store_mailbox_list(f->u, &list, &n, &error) < 0)
		fail_msg("store_mailbox_list: %s", error);
	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0 && list[i].exists)
			attrs = (long)list[i].attrs;
	store_mailbox_list_free(&list, n);
	return attrs;
}

/* id_of - the MAILBOXID STATUS gives name, into id */
static void
id_of(struct fixture *f, const char *name, char *id)
{
	struct store_status st;
	const char *error;

	if (store_mailbox_status(f->u, name, &st, &error) < 0)
		fail_msg("status %s: %s", name, error);
	memcpy(id, st.mailboxid, STORE_MAILBOXID_SIZE);
}

/* is_objectid - RFC 8474: 1*255(ALPHA / DIGIT / "_" / "-") */
static bool
is_objectid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))
			return false;
	return true;
}

static void
a_folder_keeps_the_special_uses_it_was_created_with(void **state)
{
	static const struct {
		const char	*name;
		uint32_t	 attrs;
	} cases[] = {
		{ "Old mail", STORE_ATTR_ARCHIVE },
		{ "Outbox/Sent later", STORE_ATTR_SENT },
		{ "Bin", STORE_ATTR_TRASH | STORE_ATTR_JUNK },
		{ "Plain", 0 },
	};
	struct fixture *f = *state;
	const char *error;
	size_t i;
	long got;

	assert_int_equal(store_mailbox_create(f->u, "Outbox", &error), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (store_mailbox_create_use(f->u, cases[i].name,
		    cases[i].attrs, NULL, &error) < 0)
			fail_msg("create %s: %s", cases[i].name, error);
	/* in the index record: a new process lists them the same */
	reopen(f);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = attrs_of(f, cases[i].name);
		if (got != (long)cases[i].attrs)
			fail_msg("%s: got attrs %#lx, want %#x", cases[i].name,
			    got, (unsigned int)cases[i].attrs);
	}
	/* RENAME moves the record, special use and all */
	assert_int_equal(store_mailbox_rename(f->u, "Bin", "Waste", &error),
	    0);
	got = attrs_of(f, "Waste");
	if (got != (long)(STORE_ATTR_TRASH | STORE_ATTR_JUNK))
		fail_msg("Waste after RENAME: got attrs %#lx, want %#x", got,
		    (unsigned int)(STORE_ATTR_TRASH | STORE_ATTR_JUNK));
}

static void
an_unsupported_use_is_refused_before_anything_exists(void **state)
{
	struct fixture *f = *state;
	const char *error = NULL;
	char *dir;
	struct stat sb;

	assert_int_equal(store_mailbox_create_use(f->u, "Starred",
	    STORE_ATTR_SENT | 0x100, NULL, &error), -1);
	assert_string_equal(error, "unsupported special use");
	if (attrs_of(f, "Starred") != -1)
		fail_msg("got a folder Starred, want none");
	dir = xasprintf("%s/Maildir/.Starred", store_user_home(f->u));
	if (stat(dir, &sb) == 0)
		fail_msg("got a directory %s, want none", dir);
	free(dir);
	/* and an existing name stays what it was */
	assert_int_equal(store_mailbox_create_use(f->u, "Sent",
	    STORE_ATTR_ARCHIVE, NULL, &error), -1);
	assert_string_equal(error, "mailbox already exists");
	assert_int_equal(attrs_of(f, "Sent"), STORE_ATTR_SENT);
}

static void
mailbox_ids_are_objectids_stable_across_rename_and_never_reused(
    void **state)
{
	struct fixture *f = *state;
	struct store_mailbox *mb;
	const char *error;
	char made[STORE_MAILBOXID_SIZE], got[STORE_MAILBOXID_SIZE];
	char again[STORE_MAILBOXID_SIZE], inbox[STORE_MAILBOXID_SIZE];
	char drafts[STORE_MAILBOXID_SIZE];

	memset(made, 0, sizeof(made));
	assert_int_equal(store_mailbox_create_use(f->u, "Projects", 0, made,
	    &error), 0);
	if (!is_objectid(made))
		fail_msg("got MAILBOXID \"%s\", not an RFC 8474 objectid",
		    made);
	id_of(f, "Projects", got);
	if (strcmp(got, made) != 0)
		fail_msg("STATUS gives %s, CREATE gave %s", got, made);
	/* every folder has its own */
	id_of(f, "INBOX", inbox);
	id_of(f, "Drafts", drafts);
	if (strcmp(inbox, drafts) == 0 || strcmp(inbox, made) == 0 ||
	    strcmp(drafts, made) == 0)
		fail_msg("got equal ids: INBOX %s, Drafts %s, Projects %s",
		    inbox, drafts, made);
	/* RENAME keeps it, in a new process too */
	assert_int_equal(store_mailbox_rename(f->u, "Projects", "Done",
	    &error), 0);
	reopen(f);
	id_of(f, "Done", got);
	if (strcmp(got, made) != 0)
		fail_msg("after RENAME got %s, want %s", got, made);
	assert_int_equal(store_mailbox_open(f->u, "Done", &mb, &error), 0);
	if (strcmp(store_mailbox_id(mb), made) != 0)
		fail_msg("open folder says %s, want %s", store_mailbox_id(mb),
		    made);
	store_mailbox_close(&mb);
	/* a folder made again under an old name is another folder */
	assert_int_equal(store_mailbox_delete(f->u, "Done", &error), 0);
	assert_int_equal(store_mailbox_create_use(f->u, "Done", 0, again,
	    &error), 0);
	if (strcmp(again, made) == 0)
		fail_msg("a new folder got the deleted one's id %s", made);
	assert_int_equal(store_mailbox_create_use(f->u, "Projects", 0, again,
	    &error), 0);
	if (strcmp(again, made) == 0)
		fail_msg("a new Projects got the old one's id %s", made);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(a_folder_keeps_the_special_uses_it_was_created_with),
		T(an_unsupported_use_is_refused_before_anything_exists),
		T(mailbox_ids_are_objectids_stable_across_rename_and_never_reused),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
