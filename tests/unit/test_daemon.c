/* test_daemon.c - unit tests for common/daemon.c (the start-up helpers) */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"

/* is_dir_mode - path is a directory with exactly this mode */
static bool
is_dir_mode(const char *path, mode_t mode)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 07777) == mode;
}

/* mkdirs_makes_every_missing_parent_and_keeps_what_exists */
static void
mkdirs_makes_every_missing_parent_and_keeps_what_exists(void **state)
{
	static const char *const subs[] = {
		"a",			/* one new level */
		"a",			/* exists: fine */
		"b/c/d",		/* three new levels */
		"b/c/d/",		/* a trailing slash */
		"b//e",			/* a doubled slash */
	};
	static const char *const rm[] = { "b/e", "b/c/d", "b/c", "b", "a",
	    "" };
	char tmpl[] = "/tmp/test_daemon.XXXXXX", path[256], *error = NULL;
	size_t i;
	mode_t old;
	int r;

	assert_non_null(mkdtemp(tmpl));
	old = umask(0);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpl, subs[i]);
		r = daemon_mkdirs(path, 0700, &error);
		if (r != 0)
			fail_msg("%s: got %d (%s), want 0", subs[i], r, error);
		if (!is_dir_mode(path, 0700))
			fail_msg("%s: got no directory of mode 0700", subs[i]);
	}
	umask(old);
	snprintf(path, sizeof(path), "%s/b/c", tmpl);
	assert_true(is_dir_mode(path, 0700));
	/* clean up, deepest first */
	for (i = 0; i < sizeof(rm) / sizeof(rm[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpl, rm[i]);
		assert_int_equal(rmdir(path), 0);
	}
}

/* mkdirs_fails_with_the_directory_it_could_not_make */
static void
mkdirs_fails_with_the_directory_it_could_not_make(void **state)
{
	char tmpl[] = "/tmp/test_daemon.XXXXXX", path[256], want[300];
	char *error = NULL;
	FILE *fp;

	assert_non_null(mkdtemp(tmpl));
	/* a file where a parent directory should be */
	snprintf(path, sizeof(path), "%s/file", tmpl);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/file/sub/deeper", tmpl);
	assert_int_equal(daemon_mkdirs(path, 0700, &error), -1);
	snprintf(want, sizeof(want), "mkdir(%s/file/sub): ", tmpl);
	if (strncmp(error, want, strlen(want)) != 0)
		fail_msg("got \"%s\", want \"%s...\"", error, want);
	free(error);
	error = NULL;
	/* an empty path is refused, not read past */
	assert_int_equal(daemon_mkdirs("", 0700, &error), -1);
	assert_non_null(error);
	free(error);
	snprintf(path, sizeof(path), "%s/file", tmpl);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(tmpl), 0);
}

/* raise_nofile_lifts_the_soft_limit_to_the_hard_one */
static void
raise_nofile_lifts_the_soft_limit_to_the_hard_one(void **state)
{
	struct rlimit rl, got;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max > 64) {
		rl.rlim_cur = 64;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	daemon_raise_nofile();
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &got), 0);
	if (got.rlim_cur != rl.rlim_max)
		fail_msg("got soft limit %llu, want the hard limit %llu",
		    (unsigned long long)got.rlim_cur,
		    (unsigned long long)rl.rlim_max);
}

/* reload_tls_without_tls_does_nothing */
static void
reload_tls_without_tls_does_nothing(void **state)
{
	daemon_reload_tls(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    mkdirs_makes_every_missing_parent_and_keeps_what_exists),
		cmocka_unit_test(
		    mkdirs_fails_with_the_directory_it_could_not_make),
		cmocka_unit_test(
		    raise_nofile_lifts_the_soft_limit_to_the_hard_one),
		cmocka_unit_test(reload_tls_without_tls_does_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
