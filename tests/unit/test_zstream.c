/* test_zstream.c - unit tests for common/zstream.c */
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
#include <zlib.h>

#include "buf.h"
#include "zstream.h"

#define MAX_MSGS	8

/*
 * A client's stream: messages, each followed by the client's flush mode
 * (Z_NO_FLUSH: none; Z_FINISH ends the stream), made with zlib as
 * Thunderbird, Python or any other client would.
 */
struct client_case {
	const char	*name;
	int		 wbits;		/* the client's window, raw */
	size_t		 outsize;	/* our output array */
	const char	*msgs[MAX_MSGS];
	int		 flush[MAX_MSGS];
};

static const struct client_case client_cases[] = {
	{ "sync flush per command", -15, 4096,
	  { "a1 NOOP\r\n", "a2 SELECT INBOX\r\n", "a3 LOGOUT\r\n" },
	  { Z_SYNC_FLUSH, Z_SYNC_FLUSH, Z_SYNC_FLUSH } },
	{ "partial flush per command (Thunderbird)", -15, 4096,
	  { "a1 NOOP\r\n", "a2 SELECT INBOX\r\n", "a3 FETCH 1:* FLAGS\r\n",
	    "a4 LOGOUT\r\n" },
	  { Z_PARTIAL_FLUSH, Z_PARTIAL_FLUSH, Z_PARTIAL_FLUSH,
	    Z_PARTIAL_FLUSH } },
	{ "full flush per command", -15, 4096,
	  { "a1 NOOP\r\n", "a2 NOOP\r\n" },
	  { Z_FULL_FLUSH, Z_FULL_FLUSH } },
	{ "mixed flushes, some commands sent together", -15, 4096,
	  { "a1 NOOP\r\n", "a2 NOOP\r\n", "a3 CHECK\r\n",
	    "a4 APPEND x {5+}\r\nhello\r\n", "a5 NOOP\r\n" },
	  { Z_PARTIAL_FLUSH, Z_NO_FLUSH, Z_SYNC_FLUSH, Z_PARTIAL_FLUSH,
	    Z_FULL_FLUSH } },
	{ "partial flushes into a 3-byte output array", -15, 3,
	  { "a1 NOOP\r\n", "a2 SELECT INBOX\r\n", "a3 LOGOUT\r\n" },
	  { Z_PARTIAL_FLUSH, Z_PARTIAL_FLUSH, Z_PARTIAL_FLUSH } },
	{ "a small client window", -9, 4096,
	  { "a1 NOOP\r\n", "a2 NOOP\r\n", "a3 NOOP\r\n" },
	  { Z_PARTIAL_FLUSH, Z_SYNC_FLUSH, Z_PARTIAL_FLUSH } },
	{ "a final block ends the stream", -15, 4096,
	  { "a1 NOOP\r\n", "a2 LOGOUT\r\n" },
	  { Z_PARTIAL_FLUSH, Z_FINISH } },
	{ "repeated text: matches across commands", -15, 4096,
	  { "a1 UID FETCH 1:100 (FLAGS INTERNALDATE)\r\n",
	    "a2 UID FETCH 101:200 (FLAGS INTERNALDATE)\r\n",
	    "a3 UID FETCH 201:300 (FLAGS INTERNALDATE)\r\n" },
	  { Z_PARTIAL_FLUSH, Z_PARTIAL_FLUSH, Z_PARTIAL_FLUSH } },
};

struct client_stream {
	struct buf	 z;		/* compressed bytes */
	struct buf	 plain;		/* all messages */
	size_t		 zend[MAX_MSGS];   /* z bytes once msg i is flushed */
	size_t		 pend[MAX_MSGS];   /* plain bytes through msg i */
	size_t		 n;
};

/* lcg - reproducible pseudo-random bytes */
static void
lcg_fill(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

/* client_make - compress a case's messages as the client would */
static void
client_make(const struct client_case *cc, struct client_stream *cs)
{
	unsigned char tmp[256];
	z_stream s;
	size_t i;
	int r;

	memset(cs, 0, sizeof(*cs));
	buf_init(&cs->z, 0);
	buf_init(&cs->plain, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(deflateInit2(&s, 6, Z_DEFLATED, cc->wbits, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	for (i = 0; i < MAX_MSGS && cc->msgs[i] != NULL; i++) {
		s.next_in = (Bytef *)(uintptr_t)cc->msgs[i];
		s.avail_in = (uInt)strlen(cc->msgs[i]);
		do {
			s.next_out = tmp;
			s.avail_out = sizeof(tmp);
			r = deflate(&s, cc->flush[i]);
			assert_true(r == Z_OK || r == Z_STREAM_END ||
			    r == Z_BUF_ERROR);
			buf_append(&cs->z, tmp, sizeof(tmp) - s.avail_out);
		} while (s.avail_out == 0);
		buf_append_str(&cs->plain, cc->msgs[i]);
		cs->zend[i] = buf_avail(&cs->z);
		cs->pend[i] = buf_avail(&cs->plain);
	}
	cs->n = i;
	deflateEnd(&s);
}

/* client_free - release a client stream */
static void
client_free(struct client_stream *cs)
{
	buf_deinit(&cs->z);
	buf_deinit(&cs->plain);
}

/* feed - give z[0..len) to the inflater, appending what comes out */
static void
feed(struct zstream *z, const unsigned char *in, size_t len, size_t outsize,
    struct buf *plain)
{
	unsigned char out[4096];
	const char *error = NULL;
	size_t off = 0, used, made;
	int guard = 0;

	assert_true(outsize <= sizeof(out));
	for (;;) {
		if (zstream_inflate(z, in + off, len - off, &used, out, outsize,
		    &made, &error) < 0) {
			print_error("inflate failed: %s\n", error);
			fail();
		}
		assert_true(used <= len - off);
		assert_true(made <= outsize);
		off += used;
		buf_append(plain, out, made);
		if (made < outsize) {
			/* less than a full array: every byte was taken */
			if (off != len) {
				print_error("took %zu of %zu bytes, made %zu\n",
				    off, len, made);
				fail();
			}
			return;
		}
		assert_true(++guard < 1000000);
	}
}

/* flushed_through - plaintext bytes the client flushed within z[0..k) */
static size_t
flushed_through(const struct client_case *cc, const struct client_stream *cs,
    size_t k)
{
	size_t i, want = 0;

	for (i = 0; i < cs->n; i++)
		if (cc->flush[i] != Z_NO_FLUSH && cs->zend[i] <= k)
			want = cs->pend[i];
	return want;
}

/* check_progress - after k input bytes: a prefix of the plaintext, and
 * at least everything the client flushed */
static void
check_progress(const struct client_case *cc, const struct client_stream *cs,
    const struct buf *plain, size_t k, const char *how)
{
	size_t got = buf_avail(plain), want = flushed_through(cc, cs, k);

	if (got > buf_avail(&cs->plain) || memcmp(buf_ptr(plain),
	    buf_ptr(&cs->plain), got) != 0) {
		print_error("%s (%s, %zu bytes in): output is not a prefix "
		    "of the input: got \"%.*s\"\n", cc->name, how, k,
		    (int)got, buf_ptr(plain));
		fail();
	}
	if (got < want) {
		print_error("%s (%s, %zu bytes in): got %zu plaintext bytes, "
		    "want at least %zu (a flushed command held back)\n",
		    cc->name, how, k, got, want);
		fail();
	}
}

static void
client_flushes_are_decoded_completely_at_every_byte(void **state)
{
	const struct client_case *cc;
	struct client_stream cs;
	struct zstream *z;
	struct buf plain;
	size_t i, k;

	for (i = 0; i < sizeof(client_cases) / sizeof(client_cases[0]);
	    i++) {
		cc = &client_cases[i];
		client_make(cc, &cs);
		z = zstream_new();
		buf_init(&plain, 0);
		for (k = 0; k < buf_avail(&cs.z); k++) {
			feed(z, (const unsigned char *)buf_ptr(&cs.z) + k, 1,
			    cc->outsize, &plain);
			check_progress(cc, &cs, &plain, k + 1,
			    "byte at a time");
		}
		if (strcmp(buf_cstr(&plain), buf_cstr(&cs.plain)) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", cc->name,
			    buf_cstr(&plain), buf_cstr(&cs.plain));
			fail();
		}
		assert_int_equal(zstream_input_ended(z),
		    cc->flush[cs.n - 1] == Z_FINISH);
		buf_deinit(&plain);
		zstream_free(&z);
		assert_null(z);
		client_free(&cs);
	}
}

static void
client_streams_split_at_every_point_decode_the_same(void **state)
{
	const struct client_case *cc;
	struct client_stream cs;
	struct zstream *z;
	struct buf plain;
	char how[32];
	size_t i, cut, len;
	const unsigned char *p;

	for (i = 0; i < sizeof(client_cases) / sizeof(client_cases[0]);
	    i++) {
		cc = &client_cases[i];
		client_make(cc, &cs);
		p = (const unsigned char *)buf_ptr(&cs.z);
		len = buf_avail(&cs.z);
		for (cut = 0; cut <= len; cut++) {
			snprintf(how, sizeof(how), "split at %zu", cut);
			z = zstream_new();
			buf_init(&plain, 0);
			feed(z, p, cut, cc->outsize, &plain);
			check_progress(cc, &cs, &plain, cut, how);
			feed(z, p + cut, len - cut, cc->outsize, &plain);
			if (strcmp(buf_cstr(&plain), buf_cstr(&cs.plain)) !=
			    0) {
				print_error("%s (%s): got \"%s\", want "
				    "\"%s\"\n", cc->name, how,
				    buf_cstr(&plain), buf_cstr(&cs.plain));
				fail();
			}
			buf_deinit(&plain);
			zstream_free(&z);
		}
		client_free(&cs);
	}
}

/* peer_inflate - what an independent raw inflater makes of z[0..n) */
static void
peer_inflate(z_stream *s, const void *p, size_t n, struct buf *plain)
{
	unsigned char tmp[1024];
	int r;

	s->next_in = (Bytef *)(uintptr_t)p;
	s->avail_in = (uInt)n;
	do {
		s->next_out = tmp;
		s->avail_out = sizeof(tmp);
		r = inflate(s, Z_SYNC_FLUSH);
		assert_true(r == Z_OK || r == Z_BUF_ERROR);
		buf_append(plain, tmp, sizeof(tmp) - s->avail_out);
	} while (s->avail_out == 0 || s->avail_in > 0);
}

static void
each_sync_flushed_reply_is_decodable_whole_by_the_client(void **state)
{
	static const struct {
		const char	*text;
		bool		 sync;
	} resp[] = {
		{ "* OK [CAPABILITY IMAP4rev1] ready\r\n", true },
		{ "* 1 EXISTS\r\n", false },
		{ "* 0 RECENT\r\n", false },
		{ "a1 OK SELECT completed\r\n", true },
		{ "", true },			/* a flush with no data */
		{ "a2 OK NOOP completed\r\n", true },
	};
	struct zstream *z;
	struct buf out, plain, want;
	const char *error;
	z_stream peer;
	size_t i, sent = 0;

	z = zstream_new();
	buf_init(&out, 0);
	buf_init(&plain, 0);
	buf_init(&want, 0);
	memset(&peer, 0, sizeof(peer));
	assert_int_equal(inflateInit2(&peer, -15), Z_OK);
	for (i = 0; i < sizeof(resp) / sizeof(resp[0]); i++) {
		assert_int_equal(zstream_deflate(z, resp[i].text,
		    strlen(resp[i].text), resp[i].sync, &out, &error), 0);
		buf_append_str(&want, resp[i].text);
		if (!resp[i].sync)
			continue;
		/* the client has every byte sent so far, and no more */
		peer_inflate(&peer, buf_ptr(&out) + sent,
		    buf_avail(&out) - sent, &plain);
		sent = buf_avail(&out);
		if (strcmp(buf_cstr(&plain), buf_cstr(&want)) != 0) {
			print_error("after response %zu: got \"%s\", want "
			    "\"%s\"\n", i, buf_cstr(&plain), buf_cstr(&want));
			fail();
		}
	}
	inflateEnd(&peer);
	buf_deinit(&out);
	buf_deinit(&plain);
	buf_deinit(&want);
	zstream_free(&z);
}

static void
a_large_response_round_trips_through_our_own_inflater(void **state)
{
	static const size_t sizes[] = { 1, 8191, 8192, 8193, 100000,
	    1 << 20 };
	struct zstream *tx, *rx;
	struct buf out, plain;
	unsigned char *data;
	const char *error;
	size_t i, n;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		data = malloc(n);
		assert_non_null(data);
		/* half random (incompressible), half text-like */
		lcg_fill(data, n / 2, (uint32_t)n);
		memset(data + n / 2, 'x', n - n / 2);
		tx = zstream_new();
		rx = zstream_new();
		buf_init(&out, 0);
		buf_init(&plain, 0);
		assert_int_equal(zstream_deflate(tx, data, n, true, &out,
		    &error), 0);
		feed(rx, (const unsigned char *)buf_ptr(&out),
		    buf_avail(&out), 4096, &plain);
		if (buf_avail(&plain) != n ||
		    memcmp(buf_ptr(&plain), data, n) != 0) {
			print_error("%zu bytes: got %zu back\n", n,
			    buf_avail(&plain));
			fail();
		}
		buf_deinit(&out);
		buf_deinit(&plain);
		zstream_free(&tx);
		zstream_free(&rx);
		free(data);
	}
}

static void
corrupt_input_is_an_error_and_the_stream_stays_broken(void **state)
{
	static const struct {
		const char	*name;
		const char	*bytes;
		size_t		 len;
	} bad[] = {
		{ "invalid block type", "\xff", 1 },
		{ "invalid block type after a good block",
		  "\x02\x00\x00\x00\xff\xff\x07", 7 },
		{ "stored block lengths that do not match",
		  "\x00\x05\x00\x00\x00", 5 },
		{ "a distance before the start of the stream",
		  "\x63\x00\x42\x00", 4 },
	};
	unsigned char out[64];
	struct zstream *z;
	const char *error;
	size_t i, used, made;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		z = zstream_new();
		error = NULL;
		if (zstream_inflate(z, bad[i].bytes, bad[i].len, &used, out,
		    sizeof(out), &made, &error) != -1) {
			print_error("%s: got success, want an error\n",
			    bad[i].name);
			fail();
		}
		assert_non_null(error);
		/* a good stream's first bytes are refused now */
		error = NULL;
		assert_int_equal(zstream_inflate(z, "\x02\x00", 2, &used, out,
		    sizeof(out), &made, &error), -1);
		assert_string_equal(error, "compressed input stream is broken");
		assert_int_equal(made, 0);
		zstream_free(&z);
	}
}

static void
data_after_the_final_block_is_an_error(void **state)
{
	unsigned char out[64], stream[64];
	struct zstream *z;
	const char *error = NULL;
	size_t used, made;
	uLongf len = sizeof(stream);
	z_stream s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(deflateInit2(&s, 6, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	s.next_in = (Bytef *)"a1 LOGOUT\r\n";
	s.avail_in = 11;
	s.next_out = stream;
	s.avail_out = sizeof(stream) - 1;
	assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
	len = s.total_out;
	deflateEnd(&s);
	stream[len] = 0x02;		/* one byte more */

	/* the final block alone: fine, and the end is known */
	z = zstream_new();
	assert_int_equal(zstream_inflate(z, stream, len, &used, out,
	    sizeof(out), &made, &error), 0);
	assert_int_equal(used, len);
	assert_int_equal(made, 11);
	assert_true(zstream_input_ended(z));
	assert_int_equal(zstream_inflate(z, stream, 0, &used, out,
	    sizeof(out), &made, &error), 0);
	assert_int_equal(zstream_inflate(z, stream + len, 1, &used, out,
	    sizeof(out), &made, &error), -1);
	assert_string_equal(error,
	    "data after the end of the compressed stream");
	zstream_free(&z);

	/* the same byte in the same piece */
	z = zstream_new();
	error = NULL;
	assert_int_equal(zstream_inflate(z, stream, len + 1, &used, out,
	    sizeof(out), &made, &error), -1);
	assert_string_equal(error,
	    "data after the end of the compressed stream");
	zstream_free(&z);
}

static void
a_small_input_expanding_a_lot_comes_out_an_array_at_a_time(void **state)
{
	const size_t n = 8 << 20;
	unsigned char out[16384];
	unsigned char *zeros;
	struct buf zbuf;
	struct zstream *tx, *rx;
	const char *error;
	size_t off = 0, total = 0, used, made, calls = 0, peak = 0;

	zeros = calloc(1, n);
	assert_non_null(zeros);
	tx = zstream_new();
	buf_init(&zbuf, 0);
	assert_int_equal(zstream_deflate(tx, zeros, n, true, &zbuf, &error),
	    0);
	assert_true(buf_avail(&zbuf) < n / 500);	/* a bomb indeed */
	rx = zstream_new();
	do {
		assert_int_equal(zstream_inflate(rx, buf_ptr(&zbuf) + off,
		    buf_avail(&zbuf) - off, &used, out, sizeof(out), &made,
		    &error), 0);
		off += used;
		total += made;
		calls++;
		if (zstream_memory(rx) > peak)
			peak = zstream_memory(rx);
	} while (made == sizeof(out));
	assert_int_equal(off, buf_avail(&zbuf));
	assert_int_equal(total, n);
	/* one array per call: nothing grew to hold the whole */
	assert_true(calls >= n / sizeof(out));
	assert_true(peak <= ZSTREAM_MEMORY_MAX);
	buf_deinit(&zbuf);
	zstream_free(&tx);
	zstream_free(&rx);
	free(zeros);
}

static void
memory_stays_under_the_documented_bound(void **state)
{
	unsigned char data[65536], out[4096];
	struct zstream *z, *peer;
	struct buf zbuf, plain;
	const char *error;
	size_t fresh, busy;
	int i;

	z = zstream_new();
	fresh = zstream_memory(z);
	peer = zstream_new();
	buf_init(&zbuf, 0);
	buf_init(&plain, 0);
	/* traffic both ways, so that the inflater has its window too */
	for (i = 0; i < 16; i++) {
		lcg_fill(data, sizeof(data), (uint32_t)i);
		buf_reset(&zbuf);
		assert_int_equal(zstream_deflate(z, data, sizeof(data), true,
		    &zbuf, &error), 0);
		buf_reset(&plain);
		feed(peer, (const unsigned char *)buf_ptr(&zbuf),
		    buf_avail(&zbuf), sizeof(out), &plain);
		buf_reset(&zbuf);
		assert_int_equal(zstream_deflate(peer, data, sizeof(data),
		    true, &zbuf, &error), 0);
		buf_reset(&plain);
		feed(z, (const unsigned char *)buf_ptr(&zbuf),
		    buf_avail(&zbuf), sizeof(out), &plain);
		assert_int_equal(buf_avail(&plain), sizeof(data));
	}
	busy = zstream_memory(z);
	print_message("zstream memory: %zu bytes new, %zu in use "
	    "(bound %d)\n", fresh, busy, ZSTREAM_MEMORY_MAX);
	/* the deflater is there from the start; the inflater's window
	 * (32 KB) only once data came in */
	assert_true(fresh > 64 * 1024);
	assert_true(busy >= fresh + 32 * 1024);
	assert_true(busy <= ZSTREAM_MEMORY_MAX);
	zstream_free(&z);
	zstream_free(&peer);
	buf_deinit(&zbuf);
	buf_deinit(&plain);
}

static void
output_past_the_ceiling_fails_and_the_stream_stays_failed(void **state)
{
	unsigned char data[4096];
	struct zstream *z;
	struct buf out;
	const char *error = NULL;

	lcg_fill(data, sizeof(data), 7);
	z = zstream_new();
	buf_init(&out, 100);
	assert_int_equal(zstream_deflate(z, data, sizeof(data), true, &out,
	    &error), -1);
	assert_string_equal(error, "compressed output over its ceiling");
	assert_true(buf_avail(&out) <= 100);
	buf_deinit(&out);
	buf_init(&out, 0);
	assert_int_equal(zstream_deflate(z, "x", 1, true, &out, &error), -1);
	assert_string_equal(error, "compressed output stream is broken");
	assert_int_equal(buf_avail(&out), 0);
	buf_deinit(&out);
	zstream_free(&z);
}

#ifdef FUZZ
/*
 * LLVMFuzzerTestOneInput - libFuzzer entry: first byte picks the piece
 * size; inflating any bytes must never crash, overrun or grow memory.
 * From a build directory:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ -I. \
 *       -I../common ../tests/unit/test_zstream.c ../common/zstream.c \
 *       ../common/buf.c ../common/xmalloc.c ../common/log.c -lz \
 *       -pthread -o fuzz_zstream && ./fuzz_zstream -max_len=4096
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[97];
	struct zstream *z;
	const char *error;
	size_t piece, off, n, pos, used, made;

	if (size == 0)
		return 0;
	piece = (size_t)data[0] % 7 + 1;
	z = zstream_new();
	for (off = 1; off < size; off += n) {
		n = size - off < piece ? size - off : piece;
		pos = 0;
		do {
			if (zstream_inflate(z, data + off + pos, n - pos,
			    &used, out, sizeof(out), &made, &error) < 0)
				goto done;
			pos += used;
			if (made > sizeof(out) || pos > n)
				abort();
		} while (made == sizeof(out));
		if (pos != n)
			abort();
		if (zstream_memory(z) > ZSTREAM_MEMORY_MAX)
			abort();
	}
done:
	zstream_free(&z);
	return 0;
}
#else
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    client_flushes_are_decoded_completely_at_every_byte),
		cmocka_unit_test(
		    client_streams_split_at_every_point_decode_the_same),
		cmocka_unit_test(
		    each_sync_flushed_reply_is_decodable_whole_by_the_client),
		cmocka_unit_test(
		    a_large_response_round_trips_through_our_own_inflater),
		cmocka_unit_test(
		    corrupt_input_is_an_error_and_the_stream_stays_broken),
		cmocka_unit_test(data_after_the_final_block_is_an_error),
		cmocka_unit_test(
		    a_small_input_expanding_a_lot_comes_out_an_array_at_a_time),
		cmocka_unit_test(memory_stays_under_the_documented_bound),
		cmocka_unit_test(
		    output_past_the_ceiling_fails_and_the_stream_stays_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
