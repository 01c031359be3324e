/* test_conf.c - unit tests for common/conf.c: every error path */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

static const struct conf_key test_schema[] = {
	{ "global", "name", CONF_STRING, "dflt", 0, 0, NULL, "a string" },
	{ "global", "count", CONF_UINT, "5", 1, 100, NULL, "a number" },
	{ "global", "flag", CONF_BOOL, "no", 0, 0, NULL, "a flag" },
	{ "global", "limit", CONF_SIZE, "1m", 1024, 1ULL << 30, NULL, "a size" },
	{ "global", "ttl", CONF_DURATION, "60s", 1, 86400000, NULL, "a time" },
	{ "global", "mode", CONF_ENUM, "may", 0, 0, "may|encrypt", "a choice" },
	{ "ldap", "uri", CONF_LIST, "ldap://a/", 0, 0, NULL, "a list" },
	{ NULL }
};
static const struct conf_key *const test_schemas[] = { test_schema, NULL };

static void
an_empty_file_gives_every_default(void **state)
{
	struct conf *conf;
	char *error = NULL;
	size_t n;

	assert_int_equal(conf_load_string("t.conf", "", test_schemas, &conf,
	    &error), 0);
	assert_string_equal(conf_str(conf, "global", "name"), "dflt");
	assert_int_equal(conf_uint(conf, "global", "count"), 5);
	assert_false(conf_bool(conf, "global", "flag"));
	assert_int_equal(conf_size(conf, "global", "limit"), 1048576);
	assert_int_equal(conf_duration_ms(conf, "global", "ttl"), 60000);
	assert_string_equal(conf_str(conf, "global", "mode"), "may");
	assert_string_equal(conf_list(conf, "ldap", "uri", &n)[0], "ldap://a/");
	assert_int_equal(n, 1);
	assert_false(conf_is_set(conf, "global", "name"));
	conf_free(&conf);
	assert_null(conf);
}

static void
values_of_every_type_are_parsed(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "; also a comment\n"
	    "[global]\n"
	    "name = \" padded \"\n"
	    "count=100\n"
	    "flag = On\n"
	    "limit = 64k\n"
	    "ttl = 2h\n"
	    "mode = encrypt\n"
	    "\n"
	    "[ ldap ]\n"
	    "uri = ldap://a/, ldaps://b/  ldapi://%2frun%2fs/\n";
	struct conf *conf;
	char *error = NULL;
	const char *const *v;
	size_t n;

	assert_int_equal(conf_load_string("t.conf", text, test_schemas, &conf,
	    &error), 0);
	assert_string_equal(conf_str(conf, "global", "name"), " padded ");
	assert_int_equal(conf_uint(conf, "global", "count"), 100);
	assert_true(conf_bool(conf, "global", "flag"));
	assert_int_equal(conf_size(conf, "global", "limit"), 65536);
	assert_int_equal(conf_duration_ms(conf, "global", "ttl"), 7200000);
	assert_string_equal(conf_str(conf, "global", "mode"), "encrypt");
	v = conf_list(conf, "ldap", "uri", &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[2], "ldapi://%2frun%2fs/");
	assert_true(conf_is_set(conf, "global", "count"));
	conf_free(&conf);
}

static void
every_mistake_stops_with_file_line_and_reason(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} cases[] = {
		{ "[nosuch]\n", "t.conf:1: unknown section [nosuch]" },
		{ "[global]\nbogus = 1\n",
		  "t.conf:2: unknown key 'bogus' in [global]" },
		{ "name = x\n", "t.conf:1: key 'name' outside any [section]" },
		{ "[global\n", "t.conf:1: malformed section header '[global'" },
		{ "[global]\njust words\n",
		  "t.conf:2: expected 'key = value', got 'just words'" },
		{ "[global]\n = 3\n", "t.conf:2: missing key name before '='" },
		{ "[global]\ncount = 0\n", "t.conf:2: bad value in [global]: "
		  "'count' must be a whole number from 1 to 100, not '0'" },
		{ "[global]\ncount = 101\n", "t.conf:2: bad value in [global]: "
		  "'count' must be a whole number from 1 to 100, not '101'" },
		{ "[global]\ncount = ten\n", "t.conf:2: bad value in [global]: "
		  "'count' must be a whole number from 1 to 100, not 'ten'" },
		{ "[global]\nflag = maybe\n", "t.conf:2: bad value in [global]: "
		  "'flag' must be yes or no, not 'maybe'" },
		{ "[global]\nlimit = 1t\n", "t.conf:2: bad value in [global]: "
		  "'limit' must be a size from 1024 to 1073741824 bytes "
		  "(suffix k, m or g allowed), not '1t'" },
		{ "[global]\nlimit = 1023\n", "t.conf:2: bad value in [global]: "
		  "'limit' must be a size from 1024 to 1073741824 bytes "
		  "(suffix k, m or g allowed), not '1023'" },
		{ "[global]\nttl = 2w\n", "t.conf:2: bad value in [global]: "
		  "'ttl' must be a duration from 1ms to 86400000ms (suffix ms, "
		  "s, m, h or d), not '2w'" },
		{ "[global]\nmode = never\n", "t.conf:2: bad value in [global]: "
		  "'mode' must be one of may|encrypt, not 'never'" },
		{ "[global]\ncount = 1\ncount = 2\n",
		  "t.conf:3: 'count' in [global] is already set on line 2" },
	};
	struct conf *conf;
	char *error;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		error = NULL;
		conf = NULL;
		if (conf_load_string("t.conf", cases[i].text, test_schemas,
		    &conf, &error) != -1)
			fail_msg("case %zu: loaded, want error \"%s\"", i,
			    cases[i].want);
		assert_null(conf);
		if (strcmp(error, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, error,
			    cases[i].want);
		free(error);
	}
}

static void
a_line_over_the_limit_is_refused(void **state)
{
	char text[5000];
	struct conf *conf;
	char *error = NULL;

	memset(text, 'x', sizeof(text));
	memcpy(text, "[global]\nname = ", 16);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(conf_load_string("t.conf", text, test_schemas, &conf,
	    &error), -1);
	assert_string_equal(error, "t.conf:2: line longer than 4096 bytes");
	free(error);
}

static void
a_missing_file_names_the_file(void **state)
{
	struct conf *conf;
	char *error = NULL;

	assert_int_equal(conf_load("/nonexistent/bastide.conf", test_schemas,
	    &conf, &error), -1);
	assert_string_equal(error,
	    "/nonexistent/bastide.conf: cannot open: No such file or directory");
	free(error);
}

static void
a_file_on_disk_loads_like_a_string(void **state)
{
	char path[] = "/tmp/test_conf_XXXXXX";
	struct conf *conf;
	char *error = NULL;
	FILE *fp;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs("[global]\r\ncount = 7\r\n", fp);
	fclose(fp);
	assert_int_equal(conf_load(path, test_schemas, &conf, &error), 0);
	assert_int_equal(conf_uint(conf, "global", "count"), 7);
	assert_string_equal(conf_path(conf), path);
	conf_free(&conf);
	unlink(path);
}

static void
the_shipped_example_file_loads_and_documents_every_key(void **state)
{
	const char *path = SRCDIR "/conf/bastide.conf";
	const struct conf_key *key;
	struct conf *conf;
	char *error = NULL, *text, *needle;
	FILE *fp;
	long len;
	size_t i;

	if (conf_load(path, conf_schemas_bastide, &conf, &error) < 0)
		fail_msg("%s", error);
	conf_free(&conf);
	fp = fopen(path, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	for (i = 0; conf_schemas_bastide[i] != NULL; i++) {
		for (key = conf_schemas_bastide[i]; key->section != NULL;
		    key++) {
			if (asprintf(&needle, "\n#%s = %s\n", key->name,
			    key->def) < 0)
				fail();
			if (strstr(text, needle) == NULL)
				fail_msg("conf/bastide.conf lacks [%s] %s = %s "
				    "(run bastidectl conf defaults)",
				    key->section, key->name, key->def);
			free(needle);
		}
	}
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_empty_file_gives_every_default),
		cmocka_unit_test(values_of_every_type_are_parsed),
		cmocka_unit_test(every_mistake_stops_with_file_line_and_reason),
		cmocka_unit_test(a_line_over_the_limit_is_refused),
		cmocka_unit_test(a_missing_file_names_the_file),
		cmocka_unit_test(a_file_on_disk_loads_like_a_string),
		cmocka_unit_test(
		    the_shipped_example_file_loads_and_documents_every_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
