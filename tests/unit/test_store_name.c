/* test_store_name.c - unit tests for common/store_name.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_name.h"

static void
names_map_to_maildirpp_directories_and_back(void **state)
{
	static const struct {
		const char	*name;
		const char	*dir;
		const char	*back;
	} cases[] = {
		{ "INBOX", "", "INBOX" },
		{ "inbox", "", "INBOX" },
		{ "Sent", ".Sent", "Sent" },
		{ "a/b", ".a.b", "a/b" },
		{ "a.b", ".a%2Eb", "a.b" },
		{ "100%", ".100%25", "100%" },
		{ "x/y.z/w", ".x.y%2Ez.w", "x/y.z/w" },
		{ "Entw\xc3\xbcrfe", ".Entw\xc3\xbcrfe", "Entw\xc3\xbcrfe" },
		{ "inbox/sub", ".INBOX.sub", "INBOX/sub" },
		{ ".hidden", ".%2Ehidden", ".hidden" },
		{ "a b", ".a b", "a b" },
	};
	const char *error;
	char *dir, *back;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		if (store_name_to_dir(cases[i].name, &dir, &error) < 0)
			fail_msg("\"%s\": got error %s, want \"%s\"",
			    cases[i].name, error, cases[i].dir);
		if (strcmp(dir, cases[i].dir) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
			    cases[i].name, dir, cases[i].dir);
		if (*dir != '\0') {
			if (store_name_from_dir(dir, &back) < 0)
				fail_msg("\"%s\": no way back", dir);
			if (strcmp(back, cases[i].back) != 0)
				fail_msg("\"%s\": got back \"%s\", want "
				    "\"%s\"", dir, back, cases[i].back);
			free(back);
		}
		free(dir);
	}
}

static void
unsafe_names_are_refused_with_a_reason(void **state)
{
	static const char *const bad[] = {
		"", "..", ".", "a/..", "../a", "a/../b", "/a", "a/", "a//b",
		"/", "a\tb", "a\nb", "a\x7f", "\xff\xfe", "a/./b",
	};
	char longname[300];
	const char *error;
	char *dir;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		error = NULL;
		if (store_name_to_dir(bad[i], &dir, &error) == 0)
			fail_msg("\"%s\": got \"%s\", want refusal", bad[i],
			    dir);
		assert_non_null(error);
	}
	memset(longname, 'x', 256);
	longname[256] = '\0';
	assert_int_equal(store_name_to_dir(longname, &dir, &error), -1);
	assert_non_null(strstr(error, "255"));
	/* the directory gets a leading ".": 254 bytes is the longest */
	longname[254] = '\0';
	assert_int_equal(store_name_to_dir(longname, &dir, &error), 0);
	free(dir);
	longname[254] = 'x';
	longname[255] = '\0';
	assert_int_equal(store_name_to_dir(longname, &dir, &error), -1);
	/* 255 bytes of dots would escape to 3 * 255: refused, not cut */
	memset(longname, '.', 200);
	longname[200] = '\0';
	longname[0] = 'a';
	assert_int_equal(store_name_to_dir(longname, &dir, &error), -1);
}

static void
foreign_directories_are_not_taken_for_folders(void **state)
{
	static const char *const bad[] = {
		"cur", "new", "tmp", ".", "..", "..deleted.x", ".a..b",
		".a.", ".%zz", ".INBOX", ".a%2e", ".a/b",
	};
	char *name;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (store_name_from_dir(bad[i], &name) == 0)
			fail_msg("\"%s\": got \"%s\", want not a folder",
			    bad[i], name);
}

static void
modified_utf7_round_trips_rfc3501_examples(void **state)
{
	static const struct {
		const char	*utf8;
		const char	*mutf7;
	} cases[] = {
		{ "INBOX", "INBOX" },
		{ "&", "&-" },
		{ "a&b", "a&-b" },
		{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
		{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
		  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
		{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
		{ "", "" },
	};
	char *out;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(store_name_to_mutf7(cases[i].utf8, &out), 0);
		if (strcmp(out, cases[i].mutf7) != 0)
			fail_msg("encode \"%s\": got \"%s\", want \"%s\"",
			    cases[i].utf8, out, cases[i].mutf7);
		free(out);
		assert_int_equal(store_name_from_mutf7(cases[i].mutf7, &out),
		    0);
		if (strcmp(out, cases[i].utf8) != 0)
			fail_msg("decode \"%s\": got \"%s\", want \"%s\"",
			    cases[i].mutf7, out, cases[i].utf8);
		free(out);
	}
}

static void
modified_utf7_refuses_malformed_input(void **state)
{
	static const char *const bad[] = {
		"&", "&AGE-", "&Jjo", "&Jjo!-", "a\x80", "&2D3-", "&3gA-",
		"&APw", "&AP-",
	};
	char *out;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (store_name_from_mutf7(bad[i], &out) == 0)
			fail_msg("\"%s\": got \"%s\", want refusal", bad[i],
			    out);
	assert_int_equal(store_name_to_mutf7("\xc3", &out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_map_to_maildirpp_directories_and_back),
		cmocka_unit_test(unsafe_names_are_refused_with_a_reason),
		cmocka_unit_test(foreign_directories_are_not_taken_for_folders),
		cmocka_unit_test(modified_utf7_round_trips_rfc3501_examples),
		cmocka_unit_test(modified_utf7_refuses_malformed_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
