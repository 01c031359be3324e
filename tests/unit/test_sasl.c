/* test_sasl.c - unit tests for common/sasl.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sasl.h"

/*
 * free() is wrapped at link time (-Wl,--wrap=free, see Makefile.am) so
 * that a test can look at a secret's bytes at the moment it is freed:
 * they must be zero by then.
 */
void	 __real_free(void *p);
void	 __wrap_free(void *p);

/* volatile: the compiler knows what free() does and would otherwise
 * assume that it cannot change these */
static const void *volatile watch_ptr;	/* the allocation to look at */
static volatile size_t watch_len;	/* bytes of it that must be zero */
static volatile bool watch_freed;
static volatile bool watch_was_zero;

#ifndef FUZZ
/* __wrap_free - check a watched allocation, then really free */
void
__wrap_free(void *p)
{
	size_t i;

	if (p != NULL && p == watch_ptr) {
		watch_freed = true;
		watch_was_zero = true;
		for (i = 0; i < watch_len; i++)
			if (((const unsigned char *)p)[i] != 0)
				watch_was_zero = false;
		watch_ptr = NULL;
	}
	__real_free(p);
}
#endif

/* 255 and 256 bytes of 'a' */
#define A255	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A256	A255 "a"

struct plain_case {
	const char	*why;
	const char	*msg;
	size_t		 len;		/* sizeof - 1 of msg */
	const char	*authzid;	/* NULL: refused */
	const char	*authcid;
	const char	*password;
	const char	*reason;	/* refused: a word of the reason */
};

#define OK(why, m, z, c, p)	{ (why), (m), sizeof(m) - 1, (z), (c), (p), \
	NULL }
#define BAD(why, m, r)	{ (why), (m), sizeof(m) - 1, NULL, NULL, NULL, (r) }

static const struct plain_case plain_cases[] = {
	/* RFC 4616 section 4 */
	OK("no authzid", "\0tim\0tanstaaftanstaaf", "", "tim",
	    "tanstaaftanstaaf"),
	OK("with authzid", "Ursel\0Kurt\0xipj3plmq", "Ursel", "Kurt",
	    "xipj3plmq"),
	OK("one byte each", "z\0c\0p", "z", "c", "p"),
	OK("UTF-8 in every field", "\xc3\xa9\0j\xc3\xb6rg@example.test\0"
	    "p\xc3\xa4ss \xe2\x82\xac \xf0\x9f\x94\x91",
	    "\xc3\xa9", "j\xc3\xb6rg@example.test",
	    "p\xc3\xa4ss \xe2\x82\xac \xf0\x9f\x94\x91"),
	OK("highest code point", "\0u\0\xf4\x8f\xbf\xbf", "", "u",
	    "\xf4\x8f\xbf\xbf"),
	OK("spaces and controls are characters", "\0 a b \0\t\x01 ", "",
	    " a b ", "\t\x01 "),
	OK("255-byte authzid", A255 "\0c\0p", A255, "c", "p"),
	OK("255-byte authcid", "\0" A255 "\0p", "", A255, "p"),
	OK("255-byte password", "\0c\0" A255, "", "c", A255),
	/* NUL count */
	BAD("empty message", "", "NUL"),
	BAD("no NUL", "timtanstaaf", "NUL"),
	BAD("one NUL", "\0timtanstaaf", "NUL"),
	BAD("one NUL at the end", "tim\0", "NUL"),
	BAD("three NULs", "a\0b\0c\0d", "more than two"),
	BAD("NUL inside the password", "\0tim\0tan\0staaf", "NUL"),
	BAD("NUL at the very end", "\0tim\0tanstaaf\0", "NUL"),
	/* empty fields */
	BAD("empty authcid", "\0\0tanstaaf", "empty"),
	BAD("empty authcid with authzid", "Ursel\0\0xipj3plmq", "empty"),
	BAD("empty password", "\0tim\0", "empty"),
	BAD("only NULs", "\0\0", "empty"),
	/* lengths */
	BAD("256-byte authzid", A256 "\0c\0p", "255"),
	BAD("256-byte authcid", "\0" A256 "\0p", "255"),
	BAD("256-byte password", "\0c\0" A256, "255"),
	/* UTF-8 */
	BAD("truncated sequence in the password", "\0tim\0pass\xc3", "UTF-8"),
	BAD("truncated sequence in the authcid", "\0t\xe2\x82\0pass", "UTF-8"),
	BAD("lone continuation byte", "\0tim\0\x80pass", "UTF-8"),
	BAD("overlong slash", "\0tim\0\xc0\xaf", "UTF-8"),
	BAD("overlong 3-byte", "\0tim\0\xe0\x80\xaf", "UTF-8"),
	BAD("overlong 4-byte", "\0tim\0\xf0\x80\x80\xaf", "UTF-8"),
	BAD("surrogate", "\0tim\0\xed\xa0\x80", "UTF-8"),
	BAD("above U+10FFFF", "\0tim\0\xf4\x90\x80\x80", "UTF-8"),
	BAD("0xff byte", "\0tim\0\xff", "UTF-8"),
	BAD("0xf5 lead byte", "\0tim\0\xf5\x80\x80\x80", "UTF-8"),
	BAD("Latin-1 authzid", "J\xf6rg\0tim\0pass", "UTF-8"),
	BAD("bad continuation", "\0tim\0\xc3\x28", "UTF-8"),
};

/* plain_messages_split_into_authzid_authcid_and_password */
static void
plain_messages_split_into_authzid_authcid_and_password(void **state)
{
	char *z, *c, *p;
	const char *error;
	size_t i;
	int failures = 0, r;

	(void)state;
	for (i = 0; i < sizeof(plain_cases) / sizeof(plain_cases[0]); i++) {
		const struct plain_case *pc = &plain_cases[i];

		error = NULL;
		z = c = p = (char *)"junk";
		r = sasl_plain_parse((const unsigned char *)pc->msg, pc->len,
		    &z, &c, &p, &error);
		if (pc->authzid == NULL) {
			if (r != -1 || z != NULL || c != NULL ||
			    p != NULL || error == NULL ||
			    strstr(error, pc->reason) == NULL) {
				print_error("%s: got %d (%s), want -1 (%s) "
				    "and no strings\n", pc->why, r,
				    error == NULL ? "no reason" : error,
				    pc->reason);
				failures++;
			}
		} else if (r != 0) {
			print_error("%s: got -1 (%s), want 0\n", pc->why,
			    error);
			failures++;
		} else if (strcmp(z, pc->authzid) != 0 ||
		    strcmp(c, pc->authcid) != 0 ||
		    strcmp(p, pc->password) != 0) {
			print_error("%s: got \"%s\" \"%s\" \"%s\", want "
			    "\"%s\" \"%s\" \"%s\"\n", pc->why, z, c, p,
			    pc->authzid, pc->authcid, pc->password);
			failures++;
		}
		if (r == 0) {
			sasl_secret_free(&z);
			sasl_secret_free(&c);
			sasl_secret_free(&p);
		}
	}
	assert_int_equal(failures, 0);
}

/* a_parsed_message_is_the_callers_copy */
static void
a_parsed_message_is_the_callers_copy(void **state)
{
	unsigned char msg[] = "\0tim\0secret";
	char *z, *c, *p;
	const char *error;

	(void)state;
	assert_int_equal(sasl_plain_parse(msg, sizeof(msg) - 1, &z, &c, &p,
	    &error), 0);
	/* the caller wipes its decoded buffer; the strings must survive */
	memset(msg, 0, sizeof(msg));
	assert_string_equal(c, "tim");
	assert_string_equal(p, "secret");
	sasl_secret_free(&z);
	sasl_secret_free(&c);
	sasl_secret_free(&p);
}

/* a_freed_secret_is_wiped_first_and_the_pointer_cleared */
static void
a_freed_secret_is_wiped_first_and_the_pointer_cleared(void **state)
{
	static const unsigned char msg[] = "\0tim\0tanstaaftanstaaf";
	char *z, *c, *p, *none = NULL;
	const char *error;

	(void)state;
	assert_int_equal(sasl_plain_parse(msg, sizeof(msg) - 1, &z, &c, &p,
	    &error), 0);
	watch_ptr = p;
	watch_len = strlen(p) + 1;
	watch_freed = false;
	sasl_secret_free(&p);
	assert_null(p);
	if (!watch_freed)
		fail_msg("got the password not freed, want it freed");
	if (!watch_was_zero)
		fail_msg("got the password's bytes at free not all zero, "
		    "want them wiped");
	/* the same for a secret that did not come from a parse */
	c[0] = 'T';
	watch_ptr = c;
	watch_len = strlen(c) + 1;
	watch_freed = false;
	sasl_secret_free(&c);
	assert_null(c);
	assert_true(watch_freed && watch_was_zero);
	/* NULL and "" are fine */
	sasl_secret_free(&none);
	assert_null(none);
	watch_ptr = z;
	watch_len = 1;
	watch_freed = false;
	sasl_secret_free(&z);
	assert_null(z);
	assert_true(watch_freed && watch_was_zero);
}

/* the_wipe_check_can_see_a_plain_free */
static void
the_wipe_check_can_see_a_plain_free(void **state)
{
	char *s;

	(void)state;
	/* the check above would pass vacuously if the wrapper saw nothing
	 * or everything as zero; a plain free must show up as not wiped */
	s = strdup("not a wiped secret");
	assert_non_null(s);
	watch_ptr = s;
	watch_len = strlen(s) + 1;
	watch_freed = false;
	free(s);
	assert_true(watch_freed);
	assert_false(watch_was_zero);
}

#ifdef FUZZ
/* LLVMFuzzerTestOneInput - libFuzzer entry: an accepted message is
 * exactly its three fields joined by NULs, each within its limits */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *z, *c, *p, *joined;
	const char *error;
	size_t zl, cl, pl;

	if (sasl_plain_parse(data, size, &z, &c, &p, &error) < 0) {
		if (z != NULL || c != NULL || p != NULL || error == NULL)
			abort();
		return 0;
	}
	zl = strlen(z);
	cl = strlen(c);
	pl = strlen(p);
	if (cl == 0 || pl == 0 || zl > 255 || cl > 255 || pl > 255 ||
	    zl + cl + pl + 2 != size)
		abort();
	joined = malloc(size);
	if (joined == NULL)
		abort();
	memcpy(joined, z, zl);
	joined[zl] = '\0';
	memcpy(joined + zl + 1, c, cl);
	joined[zl + 1 + cl] = '\0';
	memcpy(joined + zl + cl + 2, p, pl);
	if (memcmp(joined, data, size) != 0)
		abort();
	free(joined);
	sasl_secret_free(&z);
	sasl_secret_free(&c);
	sasl_secret_free(&p);
	return 0;
}
#else
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    plain_messages_split_into_authzid_authcid_and_password),
		cmocka_unit_test(a_parsed_message_is_the_callers_copy),
		cmocka_unit_test(
		    a_freed_secret_is_wiped_first_and_the_pointer_cleared),
		cmocka_unit_test(the_wipe_check_can_see_a_plain_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
