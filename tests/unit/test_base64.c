/* test_base64.c - unit tests for common/base64.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"
#include "buf.h"

struct vector {
	const char	*plain;
	size_t		 plain_len;
	const char	*encoded;
};

#define V(p, e)	{ (p), sizeof(p) - 1, (e) }

static const struct vector vectors[] = {
	/* RFC 4648 section 10 */
	V("", ""),
	V("f", "Zg=="),
	V("fo", "Zm8="),
	V("foo", "Zm9v"),
	V("foob", "Zm9vYg=="),
	V("fooba", "Zm9vYmE="),
	V("foobar", "Zm9vYmFy"),
	/* the last two characters of the alphabet, NUL and 8-bit bytes */
	V("\xfb\xff\xbf", "+/+/"),
	V("\0", "AA=="),
	V("\0\0\0", "AAAA"),
	V("\xff\xff\xff\xff", "/////w=="),
	/* a SASL PLAIN message (RFC 4616 section 4) */
	V("\0tim\0tanstaaftanstaaf", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"),
	V("Ursel\0Kurt\0xipj3plmq", "VXJzZWwAS3VydAB4aXBqM3BsbXE="),
};

/* hex - printable form of bytes for messages */
static const char *
hex(const void *p, size_t n)
{
	static char out[512];
	const unsigned char *u = p;
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n && i * 2 + 3 < sizeof(out); i++)
		snprintf(out + i * 2, 3, "%02x", u[i]);
	return out;
}

/* encoding_gives_the_rfc_4648_test_vectors */
static void
encoding_gives_the_rfc_4648_test_vectors(void **state)
{
	struct buf b;
	size_t i;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		buf_init(&b, 0);
		if (base64_encode(&b, vectors[i].plain,
		    vectors[i].plain_len) < 0 ||
		    strcmp(buf_cstr(&b), vectors[i].encoded) != 0) {
			print_error("encode %s: got \"%s\", want \"%s\"\n",
			    hex(vectors[i].plain, vectors[i].plain_len),
			    buf_cstr(&b), vectors[i].encoded);
			failures++;
		}
		buf_deinit(&b);
	}
	assert_int_equal(failures, 0);
}

/* decoding_gives_back_the_rfc_4648_test_vectors */
static void
decoding_gives_back_the_rfc_4648_test_vectors(void **state)
{
	unsigned char dst[64];
	size_t i, elen;
	long n;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		elen = strlen(vectors[i].encoded);
		assert_true(base64_decoded_max(elen) <= sizeof(dst));
		n = base64_decode(vectors[i].encoded, elen, dst);
		if (n != (long)vectors[i].plain_len ||
		    memcmp(dst, vectors[i].plain, vectors[i].plain_len) != 0) {
			print_error("decode \"%s\": got %ld bytes %s, "
			    "want %zu\n", vectors[i].encoded, n,
			    n < 0 ? "" : hex(dst, (size_t)n),
			    vectors[i].plain_len);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* every_byte_value_and_every_length_round_trip */
static void
every_byte_value_and_every_length_round_trip(void **state)
{
	unsigned char plain[300], dst[300];
	struct buf b;
	size_t len;
	long n;

	(void)state;
	for (len = 0; len < sizeof(plain); len++)
		plain[len] = (unsigned char)(len * 7 + 3);
	for (len = 0; len <= 256; len++) {
		buf_init(&b, 0);
		assert_int_equal(base64_encode(&b, plain, len), 0);
		assert_int_equal(b.len, (len + 2) / 3 * 4);
		assert_true(base64_decoded_max(b.len) >= len);
		assert_true(base64_decoded_max(b.len) <= sizeof(dst));
		n = base64_decode(b.data == NULL ? "" : b.data, b.len, dst);
		if (n != (long)len || memcmp(dst, plain, len) != 0)
			fail_msg("length %zu: got %ld bytes back, want %zu",
			    len, n, len);
		buf_deinit(&b);
	}
}

/* bad_input_is_refused */
static void
bad_input_is_refused(void **state)
{
	static const struct {
		const char	*why;
		const char	*s;
		size_t		 len;	/* 0: strlen(s) */
	} cases[] = {
		/* wrong length */
		{ "one character", "Z", 0 },
		{ "two characters", "Zg", 0 },
		{ "three characters", "Zm9", 0 },
		{ "five characters", "Zm9vY", 0 },
		{ "a lone pad", "=", 0 },
		{ "group plus pad", "Zm9v=", 0 },
		/* valid characters follow: only len may be read */
		{ "five of eight characters", "Zm9vYmFy", 5 },
		{ "two of a padded group", "Zg==", 2 },
		{ "three of a padded group", "Zm8=", 3 },
		/* bad padding */
		{ "pad missing", "Zg", 0 },
		{ "one pad where two are needed", "Zg=", 0 },
		{ "three pads", "Z===", 0 },
		{ "four pads", "====", 0 },
		{ "pad first", "=Zg=", 0 },
		{ "pad then data", "Zg=a", 0 },
		{ "pad in the middle", "Zg==Zg==", 0 },
		{ "pad in an inner group", "Zm8=Zm9v", 0 },
		{ "pad at position 1", "Z=g=", 0 },
		{ "unused bits set, one byte", "Zh==", 0 },
		{ "unused bits set, two bytes", "Zm9=", 0 },
		/* characters outside the alphabet */
		{ "URL-safe minus", "Zm-v", 0 },
		{ "URL-safe underscore", "Zm_v", 0 },
		{ "asterisk", "Zm9*", 0 },
		{ "dot", "Zm9.", 0 },
		{ "NUL byte", "Zm\0v", 4 },
		{ "8-bit byte", "Zm\xc3\xa9", 0 },
		{ "DEL", "Zm9\x7f", 0 },
		/* white space */
		{ "trailing CRLF", "Zm9v\r\n", 0 },
		{ "trailing LF", "Zm9vYmFy\n", 0 },
		{ "leading space", " Zm9v", 0 },
		{ "inner space", "Zm 9v", 0 },
		{ "space group", "Zm9v    ", 0 },
		{ "tab", "Zm9\t", 0 },
		{ "line break between groups", "Zm9v\r\nYmFy", 0 },
	};
	unsigned char dst[32];
	size_t i, len;
	long n;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].s);
		assert_true(base64_decoded_max(len) <= sizeof(dst));
		n = base64_decode(cases[i].s, len, dst);
		if (n != -1) {
			print_error("%s: got %ld, want -1\n", cases[i].why, n);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* decoded_max_is_enough_and_never_overflows */
static void
decoded_max_is_enough_and_never_overflows(void **state)
{
	static const struct {
		size_t	len, want;
	} cases[] = {
		{ 0, 0 }, { 1, 3 }, { 2, 3 }, { 3, 3 }, { 4, 3 }, { 5, 6 },
		{ 8, 6 }, { 9, 9 },
		{ SIZE_MAX, SIZE_MAX / 4 * 3 + 3 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (base64_decoded_max(cases[i].len) != cases[i].want)
			fail_msg("len %zu: got %zu, want %zu", cases[i].len,
			    base64_decoded_max(cases[i].len), cases[i].want);
}

/* encoding_past_the_ceiling_fails_leaving_the_buffer_alone */
static void
encoding_past_the_ceiling_fails_leaving_the_buffer_alone(void **state)
{
	unsigned char big[600];
	struct buf b;

	(void)state;
	memset(big, 'x', sizeof(big));
	/* "ab" + 8 characters fits a ceiling of 10 exactly */
	buf_init(&b, 10);
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(base64_encode(&b, "foobar", 6), 0);
	assert_string_equal(buf_cstr(&b), "abZm9vYmFy");
	/* one more byte of input needs four more characters */
	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_int_equal(base64_encode(&b, "foobar", 6), -1);
	assert_string_equal(buf_cstr(&b), "abc");
	buf_deinit(&b);
	/* a long input over several internal pieces: all or nothing */
	buf_init(&b, 799);
	assert_int_equal(base64_encode(&b, big, sizeof(big)), -1);
	assert_int_equal(b.len, 0);
	buf_deinit(&b);
	buf_init(&b, 800);
	assert_int_equal(base64_encode(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, 800);
	buf_deinit(&b);
}

#ifdef FUZZ
/* LLVMFuzzerTestOneInput - libFuzzer entry: whatever decodes must encode
 * back to the same text (one encoding per byte string), and any bytes
 * must survive an encode and decode */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *dst;
	struct buf b;
	long n;

	dst = malloc(base64_decoded_max(size) + base64_decoded_max(
	    (size + 2) / 3 * 4) + 1);
	if (dst == NULL)
		abort();
	n = base64_decode((const char *)data, size, dst);
	if (n >= 0) {
		buf_init(&b, 0);
		if (base64_encode(&b, dst, (size_t)n) < 0 || b.len != size ||
		    (size > 0 && memcmp(b.data, data, size) != 0))
			abort();
		buf_deinit(&b);
	}
	buf_init(&b, 0);
	if (base64_encode(&b, data, size) < 0)
		abort();
	n = base64_decode(b.len > 0 ? b.data : "", b.len, dst);
	if (n != (long)size || (size > 0 && memcmp(dst, data, size) != 0))
		abort();
	buf_deinit(&b);
	free(dst);
	return 0;
}
#else
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encoding_gives_the_rfc_4648_test_vectors),
		cmocka_unit_test(decoding_gives_back_the_rfc_4648_test_vectors),
		cmocka_unit_test(every_byte_value_and_every_length_round_trip),
		cmocka_unit_test(bad_input_is_refused),
		cmocka_unit_test(decoded_max_is_enough_and_never_overflows),
		cmocka_unit_test(
		    encoding_past_the_ceiling_fails_leaving_the_buffer_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
