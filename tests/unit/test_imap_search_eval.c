/* test_imap_search_eval.c - unit tests for imapd/imap_search_eval.c and
 * the text and summary helpers it uses (imap_text.c, imap_summary.c) */
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

#include "buf.h"
#include "mime.h"
#include "store.h"

#include "imap_parse.h"
#include "imap_search_eval.h"
#include "imap_summary.h"
#include "imap_text.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The test mailbox: three messages with their records and summaries.
 */
static const char msg1[] =
    "Date: Tue, 1 Feb 1994 21:52:25 -0800\r\n"
    "From: Alice Example <alice@example.test>\r\n"
    "To: bob@example.test, carol@example.test\r\n"
    "Cc: Dave <dave@example.test>\r\n"
    "Subject: Hello World\r\n"
    "Message-ID: <one@example.test>\r\n"
    "\r\n"
    "The quick brown fox\r\njumps over the lazy dog.\r\n";

static const char msg2[] =
    "Date: 3 Mar 2021 23:59:59 +0000\r\n"
    "From: =?ISO-8859-1?Q?J=F6rg?= <jorg@example.test>\r\n"
    "To: alice@example.test\r\n"
    "Bcc: hidden@example.test\r\n"
    "Subject: =?UTF-8?Q?Caf=C3=A9_cr=C3=A8me?= =?UTF-8?B?IGJyw7tsw6ll?=\r\n"
    "Message-ID: <two@example.test>\r\n"
    "References: <one@example.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XX\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "R3LDvMOfZSBhdXMgS8O2bG4K\r\n"
    "--XX\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "c2VjcmV0d29yZA==\r\n"
    "--XX\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "nested needle text\r\n"
    "--XX--\r\n";

static const char msg3[] =
    "From: Zed <zed@example.test>\r\n"
    "Subject: [list] Re: summer\r\n"
    "X-Custom: Some Value\r\n"
    "X-Custom: other\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "=E9t=E9 is a soft line=\r\n"
    " break here\r\n";

struct tmsg {
	const char	*data;
	size_t		 len;
	struct store_msg rec;
	struct mime_summary sum;
	struct store_cache cache;
	bool		 recent;
};

static struct tmsg box[3];
/* how often the source was asked */
static unsigned int cache_calls, message_calls;
static bool cache_missing;

/* setup - records and summaries of the three messages */
static int
setup(void **state)
{
	const char *data[3] = { msg1, msg2, msg3 };
	size_t lens[3] = { sizeof(msg1) - 1, sizeof(msg2) - 1,
	    sizeof(msg3) - 1 };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct tmsg *t = &box[i];

		memset(t, 0, sizeof(*t));
		t->data = data[i];
		t->len = lens[i];
		t->rec.uid = (uint32_t)(10 * (i + 1));
		t->rec.size = lens[i];
		t->rec.modseq = 100 + i;
		t->rec.keywords = "";
		mime_summarize(t->data, t->len, &t->sum);
		t->cache.header_size = t->sum.header_size;
		t->cache.sent_date = t->sum.sent_date;
		t->cache.envelope = t->sum.envelope;
		t->cache.bodystructure = t->sum.bodystructure;
		t->cache.body = t->sum.body;
		t->cache.header_fields = t->sum.header_fields;
		t->cache.message_id = t->sum.message_id;
		t->cache.in_reply_to = t->sum.in_reply_to;
		t->cache.references = t->sum.references;
		t->cache.base_subject = t->sum.base_subject;
	}
	/* 1: seen, flagged; 2: unseen, recent, $Work; 3: deleted, draft */
	box[0].rec.flags = STORE_FLAG_SEEN | STORE_FLAG_FLAGGED;
	box[0].rec.internaldate = 760168345;	/* 2 Feb 1994 05:52 UTC */
	box[1].rec.flags = 0;
	box[1].recent = true;
	box[1].rec.keywords = "$Work Important";
	box[1].rec.internaldate = 1614815999;	/* 3 Mar 2021 23:59 */
	box[2].rec.flags = STORE_FLAG_DELETED | STORE_FLAG_DRAFT;
	box[2].rec.internaldate = 1700000000;	/* 14 Nov 2023 */
	return 0;
}

/* teardown - free the summaries */
static int
teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++)
		mime_summary_deinit(&box[i].sum);
	return 0;
}

/* src_cache - the source's cached summary */
static int
src_cache(void *arg, struct imap_search_msg *m, const char **error_r)
{
	struct tmsg *t = arg;

	(void)error_r;
	cache_calls++;
	if (cache_missing)
		return 0;
	m->cache = &t[m->seq - 1].cache;
	return 1;
}

/* src_message - the source's message bytes */
static int
src_message(void *arg, struct imap_search_msg *m, const char **error_r)
{
	struct tmsg *t = arg;

	(void)error_r;
	message_calls++;
	m->data = t[m->seq - 1].data;
	m->len = t[m->seq - 1].len;
	return 0;
}

static unsigned int hook_calls;

/* hook_body - a text hook that answers BODY keys with a fixed set */
static int
hook_body(void *arg, const struct imap_search_node *n,
    struct imap_seqset *uids, const char **error_r)
{
	(void)arg;
	(void)error_r;
	hook_calls++;
	if (n->op != IMAP_SEARCH_BODY)
		return 1;
	imap_seqset_add(uids, 30);
	return 0;
}

/* run - "SEARCH keys" over the box: a string of '1'/'0' per message */
static void
run(const char *keys, imap_search_text_fn *hook, char *got, size_t n)
{
	struct imap_cmd cmd;
	struct imap_piece piece;
	struct imap_search s;
	struct imap_search_settings set;
	struct imap_search_source src;
	struct imap_search_prog *prog;
	struct imap_seqset saved;
	struct buf line;
	const char *err = NULL;
	size_t i;
	int r;

	buf_init(&line, 0);
	buf_printf(&line, "a SEARCH %s", keys);
	piece.data = buf_ptr(&line);
	piece.len = buf_avail(&line);
	piece.literal = false;
	if (imap_parse(&cmd, &piece, 1, NULL) < 0 ||
	    imap_parse_search(&cmd, &s) < 0)
		fail_msg("SEARCH %s: parse error %s", keys, cmd.error);
	imap_seqset_init(&saved);
	imap_seqset_add(&saved, 20);
	imap_seqset_add(&saved, 30);
	imap_search_resolve(s.root, 3, 30);
	memset(&set, 0, sizeof(set));
	set.now = 1700000100;
	set.saved = &saved;
	set.text_fn = hook;
	src.cache = src_cache;
	src.message = src_message;
	src.arg = box;
	if (imap_search_prepare(s.root, &set, &src, &prog, &err) < 0)
		fail_msg("SEARCH %s: prepare failed: %s", keys, err);
	for (i = 0; i < 3 && i + 1 < n; i++) {
		struct imap_search_msg m;

		memset(&m, 0, sizeof(m));
		m.seq = (uint32_t)(i + 1);
		m.recent = box[i].recent;
		m.msg = &box[i].rec;
		r = imap_search_match(prog, &m, &err);
		if (r < 0)
			fail_msg("SEARCH %s: message %zu: error %s", keys,
			    i + 1, err);
		got[i] = r ? '1' : '0';
	}
	got[i] = '\0';
	imap_search_prog_free(&prog);
	imap_seqset_deinit(&saved);
	imap_cmd_deinit(&cmd);
	buf_deinit(&line);
}

static const struct {
	const char	*keys;
	const char	*want;		/* per message, 1 = matches */
} cases[] = {
	{ "ALL",			"111" },
	/* flags and keywords */
	{ "SEEN",			"100" },
	{ "UNSEEN",			"011" },
	{ "FLAGGED",			"100" },
	{ "DELETED",			"001" },
	{ "UNDELETED",			"110" },
	{ "DRAFT",			"001" },
	{ "RECENT",			"010" },
	{ "NEW",			"010" },
	{ "OLD",			"101" },
	{ "ANSWERED",			"000" },
	{ "UNANSWERED",			"111" },
	{ "KEYWORD $work",		"010" },
	{ "KEYWORD Important",		"010" },
	{ "KEYWORD $Other",		"000" },
	{ "UNKEYWORD $Work",		"101" },
	/* sets: sequence numbers, UIDs, the saved result (UIDs 20, 30) */
	{ "1",				"100" },
	{ "2:*",			"011" },
	{ "*",				"001" },
	{ "1:4294967295",		"111" },
	{ "*:*",			"001" },
	{ "UID 10,30",			"101" },
	{ "UID 25:*",			"001" },
	{ "UID 4294967295",		"000" },
	{ "$",				"011" },
	{ "UID $",			"011" },
	{ "NOT $",			"100" },
	/* internal dates (UTC here) */
	{ "BEFORE 3-Mar-2021",		"100" },
	{ "ON 3-Mar-2021",		"010" },
	{ "SINCE 3-Mar-2021",		"011" },
	{ "ON 2-Feb-1994",		"100" },
	/* sent dates as written in Date:, whatever the zone */
	{ "SENTON 1-Feb-1994",		"100" },
	{ "SENTBEFORE 2-Feb-1994",	"100" },
	{ "SENTSINCE 3-Mar-2021",	"011" },
	{ "SENTON 3-Mar-2021",		"010" },
	/* message 3 has no Date: its INTERNALDATE stands in */
	{ "SENTON 14-Nov-2023",		"001" },
	/* RFC 5032 */
	{ "YOUNGER 100",		"001" },
	{ "YOUNGER 99",			"000" },
	{ "OLDER 100",			"110" },
	/* sizes */
	{ "LARGER 400",			"010" },
	{ "SMALLER 400",		"101" },
	/* MODSEQ (RFC 7162) */
	{ "MODSEQ 101",			"011" },
	{ "MODSEQ \"/flags/\\\\Seen\" all 102",	"001" },
	/* boolean structure */
	{ "OR SEEN DELETED",		"101" },
	{ "OR SEEN OR DELETED RECENT",	"111" },
	{ "NOT OR SEEN DELETED",	"010" },
	{ "(SEEN FLAGGED) UNDELETED",	"100" },
	{ "NOT (SEEN)",			"011" },
	{ "NOT NOT SEEN",		"100" },
	/* address and subject fields, decoded, any case */
	{ "FROM alice",			"100" },
	{ "FROM ALICE@EXAMPLE",		"100" },
	{ "FROM \"Alice Example\"",	"100" },
	{ "FROM jörg",			"010" },
	{ "FROM JÖRG",			"010" },
	{ "TO carol",			"100" },
	{ "TO alice",			"010" },
	{ "CC dave",			"100" },
	{ "BCC hidden",			"010" },
	{ "BCC alice",			"000" },
	{ "SUBJECT hello",		"100" },
	{ "SUBJECT \"CAFÉ CRÈME BRÛLÉE\"",	"010" },
	{ "SUBJECT \"crème brûlée\"",	"010" },
	{ "SUBJECT summer",		"001" },
	{ "SUBJECT \"\"",		"111" },
	/* header fields, cached or not */
	{ "HEADER Message-ID two@",	"010" },
	{ "HEADER X-Custom value",	"001" },
	{ "HEADER X-Custom OTHER",	"001" },
	{ "HEADER X-Custom \"\"",	"001" },
	{ "HEADER X-Missing \"\"",	"000" },
	{ "HEADER References one",	"010" },
	/* bodies: decoded from base64 and QP, converted to UTF-8 */
	{ "BODY fox",			"100" },
	{ "BODY \"LAZY DOG\"",		"100" },
	{ "BODY grüße",			"010" },
	{ "BODY KÖLN",			"010" },
	{ "BODY secretword",		"000" },
	{ "BODY \"nested needle\"",	"010" },
	{ "BODY été",			"001" },
	{ "BODY \"soft line break\"",	"001" },
	{ "BODY hello",			"000" },
	{ "BODY \"\"",			"111" },
	/* TEXT: the header too */
	{ "TEXT hello",			"100" },
	{ "TEXT jörg",			"010" },
	{ "TEXT x-custom",		"001" },
	{ "TEXT fox",			"100" },
	{ "TEXT nowhere",		"000" },
	/* CHARSET */
	{ "CHARSET UTF-8 SUBJECT café",	"010" },
	{ "CHARSET US-ASCII BODY fox",	"100" },
	/* combinations */
	{ "UNSEEN BODY grüße",		"010" },
	{ "OR BODY fox SUBJECT summer",	"101" },
};

/* every_key_of_the_table_gives_the_expected_messages - the table */
static void
every_key_of_the_table_gives_the_expected_messages(void **state)
{
	char got[8];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		run(cases[i].keys, NULL, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("SEARCH %s: got %s, want %s", cases[i].keys,
			    got, cases[i].want);
	}
}

/* the_text_hook_answers_the_keys_it_can - BODY via the hook */
static void
the_text_hook_answers_the_keys_it_can(void **state)
{
	char got[8];

	(void)state;
	hook_calls = 0;
	message_calls = 0;
	run("BODY anything", hook_body, got, sizeof(got));
	if (strcmp(got, "001") != 0)
		fail_msg("hooked BODY: got %s, want 001", got);
	if (hook_calls != 1 || message_calls != 0)
		fail_msg("hooked BODY: got %u hook calls and %u message "
		    "loads, want 1 and 0", hook_calls, message_calls);
	/* SUBJECT is left to the scan */
	run("SUBJECT hello", hook_body, got, sizeof(got));
	if (strcmp(got, "100") != 0)
		fail_msg("unhooked SUBJECT: got %s, want 100", got);
}

/* cheap_keys_are_tried_before_the_message_is_opened - AND order */
static void
cheap_keys_are_tried_before_the_message_is_opened(void **state)
{
	static const struct {
		const char	*keys;
		unsigned int	 caches, messages;
	} c[] = {
		{ "SEEN FLAGGED", 0, 0 },
		{ "BODY fox SEEN", 1, 1 },	/* only message 1 is seen */
		{ "SUBJECT x UNSEEN", 2, 0 },
		{ "OR SEEN DELETED BODY fox", 2, 2 },
		{ "HEADER X-Custom x", 0, 3 },
		{ "FROM x", 3, 0 },
	};
	char got[8];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(c); i++) {
		cache_calls = message_calls = 0;
		run(c[i].keys, NULL, got, sizeof(got));
		if (cache_calls != c[i].caches ||
		    message_calls != c[i].messages)
			fail_msg("SEARCH %s: got %u cache and %u message "
			    "loads, want %u and %u", c[i].keys, cache_calls,
			    message_calls, c[i].caches, c[i].messages);
	}
}

/* a_missing_cache_is_made_from_the_message - cache callback says 0 */
static void
a_missing_cache_is_made_from_the_message(void **state)
{
	char got[8];

	(void)state;
	cache_missing = true;
	message_calls = 0;
	run("FROM jörg", NULL, got, sizeof(got));
	cache_missing = false;
	if (strcmp(got, "010") != 0)
		fail_msg("FROM without cache: got %s, want 010", got);
	if (message_calls != 3)
		fail_msg("FROM without cache: got %u message loads, want 3",
		    message_calls);
}

/* encoded_words_are_decoded_and_joined - RFC 2047 */
static void
encoded_words_are_decoded_and_joined(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} c[] = {
		{ "plain text", "plain text" },
		{ "=?UTF-8?Q?a_b?=", "a b" },
		{ "=?ISO-8859-1?Q?caf=E9?=", "caf\xc3\xa9" },
		{ "=?utf-8?b?w6k=?=", "\xc3\xa9" },
		/* white space between two words goes */
		{ "=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab" },
		{ "=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=", "ab" },
		/* but not between a word and text */
		{ "x =?UTF-8?Q?a?= y", "x a y" },
		/* a character split across two words */
		{ "=?UTF-8?B?w6?= =?UTF-8?B?kK?=", "?" },
		{ "=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=", "\xc3\xa9" },
		/* RFC 2231 language */
		{ "=?ISO-8859-1*fr?Q?=E9?=", "\xc3\xa9" },
		/* broken words stay as they are */
		{ "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=" },
		{ "=?UTF-8?Q?abc", "=?UTF-8?Q?abc" },
		/* raw 8-bit: UTF-8 kept, junk replaced */
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "caf\xe9", "caf\xef\xbf\xbd" },
		/* unknown charset: taken as UTF-8 */
		{ "=?x-unknown?Q?abc?=", "abc" },
		/* folding goes, surrounding white space too */
		{ "  a\r\n\tb  ", "a\tb" },
	};
	struct buf out;
	size_t i;

	(void)state;
	buf_init(&out, 0);
	for (i = 0; i < NELEM(c); i++) {
		buf_reset(&out);
		imap_text_decode_header(c[i].in, strlen(c[i].in), &out);
		if (strcmp(c[i].want, "?") == 0)
			continue;	/* only must not crash */
		if (strcmp(buf_cstr(&out), c[i].want) != 0)
			fail_msg("decode \"%s\": got \"%s\", want \"%s\"",
			    c[i].in, buf_cstr(&out), c[i].want);
	}
	buf_deinit(&out);
}

/* folding_matches_case_variants_of_many_scripts - imap_text_fold */
static void
folding_matches_case_variants_of_many_scripts(void **state)
{
	static const struct {
		const char	*hay, *needle;
		bool		 want;
	} c[] = {
		{ "Hello", "hELLO", true },
		{ "\xc3\x89t\xc3\xa9", "\xc3\xa9T\xc3\x89", true },	/* Été */
		{ "\xce\xa3\xce\x9f\xce\xa6", "\xcf\x83\xce\xbf\xcf\x86",
		    true },						/* ΣΟΦ */
		{ "\xd0\x9c\xd0\xb8\xd1\x80", "\xd0\xbc\xd0\x98\xd0\xa0",
		    true },						/* Мир */
		{ "\xc5\x81\xc3\xb3" "d\xc5\xba", "\xc5\x82\xc3\x93" "D\xc5\xb9",
		    true },						/* Łódź */
		{ "abc", "abd", false },
		{ "abc", "", true },
		{ "", "a", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(c); i++) {
		bool got = imap_text_contains(c[i].hay, strlen(c[i].hay),
		    c[i].needle, strlen(c[i].needle));

		if (got != c[i].want)
			fail_msg("\"%s\" contains \"%s\": got %d, want %d",
			    c[i].hay, c[i].needle, got, c[i].want);
	}
}

/* a_match_across_pieces_is_found - the kept tail */
static void
a_match_across_pieces_is_found(void **state)
{
	const char *text = "xxxxxxxxxxneedleyyyyyyyy";
	struct imap_text_match m;
	size_t cut, k;
	bool got;

	(void)state;
	/* every cut of the text into pieces of every size */
	for (k = 1; k <= strlen(text); k++) {
		imap_text_match_init(&m, "NEEDLE", 6);
		got = false;
		for (cut = 0; cut < strlen(text); cut += k) {
			size_t n = strlen(text) - cut < k ?
			    strlen(text) - cut : k;

			got = imap_text_match_feed(&m, text + cut, n);
		}
		imap_text_match_deinit(&m);
		if (!got)
			fail_msg("pieces of %zu: got no match, want one", k);
	}
}

/* charsets_are_converted_in_pieces - a multi-byte char cut in two */
static void
charsets_are_converted_in_pieces(void **state)
{
	static const struct {
		const char	*cs;
		const char	*in;
		const char	*want;
	} c[] = {
		{ "utf-8", "a\xc3\xa9z", "a\xc3\xa9z" },
		{ "ISO-8859-1", "a\xe9z", "a\xc3\xa9z" },
		{ "windows-1252", "\x80", "\xe2\x82\xac" },
		{ "UTF-16BE", "\x00" "a\x00\xe9", "a\xc3\xa9" },
		{ "Shift_JIS", "\x82\xa0", "\xe3\x81\x82" },
		{ "utf-8", "a\xff" "b", "a\xef\xbf\xbd" "b" },
		{ "utf-8", "a\xc3", "a\xef\xbf\xbd" },
		{ "no-such-charset", "abc", "abc" },
	};
	struct imap_text_conv cv;
	struct buf out;
	size_t i, k, n;

	(void)state;
	buf_init(&out, 0);
	for (i = 0; i < NELEM(c); i++) {
		n = strlen(c[i].in);
		if (strcmp(c[i].cs, "UTF-16BE") == 0)
			n = 4;
		/* one byte at a time */
		buf_reset(&out);
		imap_text_conv_init(&cv, c[i].cs);
		for (k = 0; k < n; k++)
			imap_text_conv_feed(&cv, c[i].in + k, 1, false, &out);
		imap_text_conv_feed(&cv, "", 0, true, &out);
		imap_text_conv_deinit(&cv);
		if (strcmp(buf_cstr(&out), c[i].want) != 0)
			fail_msg("%s bytewise: got \"%s\", want \"%s\"",
			    c[i].cs, buf_cstr(&out), c[i].want);
	}
	buf_deinit(&out);
}

/* sent_dates_are_read_as_written - imap_search_date_days */
static void
sent_dates_are_read_as_written(void **state)
{
	static const struct {
		const char	*in;
		int64_t		 want;
	} c[] = {
		{ "Tue, 1 Feb 1994 21:52:25 -0800", 8797 },
		{ "1 Feb 1994 21:52:25 -0800", 8797 },
		{ " (comment) Tue , 01 feb 94 00:00 GMT", 8797 },
		{ "1 Feb 1994", 8797 },
		{ "1 Feb 0094", -1 + 0 * 8797 },
		{ "Feb 1 1994", -1 },
		{ "32 Feb 1994", -1 },
		{ "", -1 },
		{ "1 Xyz 1994", -1 },
		{ "1 Feb 19941", -1 },
	};
	size_t i;
	int64_t got;

	(void)state;
	for (i = 0; i < NELEM(c); i++) {
		got = imap_search_date_days(c[i].in, strlen(c[i].in));
		/* "0094" is a four-digit year 94, a valid (odd) date */
		if (i == 4) {
			if (got == -1)
				fail_msg("\"%s\": got -1, want a day",
				    c[i].in);
			continue;
		}
		if (got != c[i].want)
			fail_msg("\"%s\": got %lld, want %lld", c[i].in,
			    (long long)got, (long long)c[i].want);
	}
}

/* header_values_of_every_occurrence_are_found - multi-line fields */
static void
header_values_of_every_occurrence_are_found(void **state)
{
	const char *hdr = "A: one\r\nB: two\r\n  folded\r\na: three\r\n"
	    "\r\nA: body\r\n";
	struct buf out;
	bool found;

	(void)state;
	buf_init(&out, 0);
	imap_search_header_values(hdr, strlen(hdr), "a", &out, &found);
	if (!found || strcmp(buf_cstr(&out), "one\nthree\n") != 0)
		fail_msg("A: got \"%s\" (%d), want \"one\\nthree\\n\"",
		    buf_cstr(&out), found);
	buf_reset(&out);
	imap_search_header_values(hdr, strlen(hdr), "B", &out, &found);
	if (!found || strcmp(buf_cstr(&out), "two  folded\n") != 0)
		fail_msg("B: got \"%s\", want \"two  folded\\n\"",
		    buf_cstr(&out));
	buf_reset(&out);
	imap_search_header_values(hdr, strlen(hdr), "C", &out, &found);
	if (found)
		fail_msg("C: got found, want not found");
	buf_deinit(&out);
}

/* collect - "path=TYPE/SUBTYPE;" of each leaf */
static bool
collect(const struct imap_body_leaf *leaf, void *arg)
{
	struct buf *b = arg;
	size_t i;

	for (i = 0; i < leaf->npath; i++)
		buf_printf(b, "%s%u", i > 0 ? "." : "", leaf->path[i]);
	buf_printf(b, "=%s/%s;", leaf->type, leaf->subtype);
	/* mime.c keeps the spelling of the message; compare in upper case */
	for (i = 0; i < buf_avail(b); i++)
		if (b->data[i] >= 'a' && b->data[i] <= 'z')
			b->data[i] -= 32;
	return true;
}

/* body_parts_are_walked_with_their_numbers - imap_body_walk */
static void
body_parts_are_walked_with_their_numbers(void **state)
{
	static const char nested[] =
	    "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
	    "--a\r\nContent-Type: text/plain\r\n\r\none\r\n"
	    "--a\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\ntwo\r\n"
	    "--b\r\nContent-Type: text/html\r\n\r\n<b>two</b>\r\n--b--\r\n"
	    "--a\r\nContent-Type: message/rfc822\r\n\r\n"
	    "Subject: x\r\n\r\nthree\r\n"
	    "--a\r\nContent-Type: message/rfc822\r\n\r\n"
	    "Content-Type: multipart/mixed; boundary=c\r\n\r\n"
	    "--c\r\n\r\nfour\r\n--c\r\n\r\nfive\r\n--c--\r\n"
	    "--a--\r\n";
	static const struct {
		const char	*msg;
		const char	*want;
	} c[] = {
		{ "Subject: x\r\n\r\nbody", "1=TEXT/PLAIN;" },
		{ nested, "1=TEXT/PLAIN;2.1=TEXT/PLAIN;2.2=TEXT/HTML;"
		    "3.1=TEXT/PLAIN;4.1=TEXT/PLAIN;4.2=TEXT/PLAIN;" },
	};
	struct mime_summary sum;
	struct imap_sx_doc *doc;
	const struct imap_sx *root;
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < NELEM(c); i++) {
		mime_summarize(c[i].msg, strlen(c[i].msg), &sum);
		if (imap_sx_parse(sum.bodystructure, strlen(sum.bodystructure),
		    &doc, &root) < 0)
			fail_msg("case %zu: BODYSTRUCTURE %s does not parse",
			    i, sum.bodystructure);
		buf_reset(&b);
		if (imap_body_walk(root, collect, &b) < 0)
			fail_msg("case %zu: walk failed", i);
		if (strcmp(buf_cstr(&b), c[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, buf_cstr(&b),
			    c[i].want);
		imap_sx_free(&doc);
		mime_summary_deinit(&sum);
	}
	buf_deinit(&b);
}

/* broken_structures_do_not_parse - imap_sx_parse */
static void
broken_structures_do_not_parse(void **state)
{
	static const char *bad[] = {
		"", "(", ")", "(a", "(a  b)", "(a) x", "\"abc", "{5}\r\nab",
		"{x}\r\n", "{3}\nabc", "( a)",
	};
	static const char good[] = "(NIL atom \"q\\\"s\" {3}\r\na\"b ())";
	struct imap_sx_doc *doc;
	const struct imap_sx *root;
	struct buf deep;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		if (imap_sx_parse(bad[i], strlen(bad[i]), &doc, &root) == 0) {
			imap_sx_free(&doc);
			fail_msg("\"%s\": got parsed, want an error", bad[i]);
		}
	}
	/* nesting past the limit */
	buf_init(&deep, 0);
	for (i = 0; i < IMAP_SX_MAX_DEPTH + 5; i++)
		buf_append_byte(&deep, '(');
	for (i = 0; i < IMAP_SX_MAX_DEPTH + 5; i++)
		buf_append_byte(&deep, ')');
	if (imap_sx_parse(buf_ptr(&deep), buf_avail(&deep), &doc, &root) == 0)
		fail_msg("deep nesting: got parsed, want an error");
	buf_deinit(&deep);
	/* and a good one with every kind of value */
	if (imap_sx_parse(good, strlen(good), &doc, &root) < 0)
		fail_msg("good value: got an error");
	else {
		if (root->count != 5 || root->list[0].type != IMAP_SX_NIL ||
		    strcmp(root->list[2].str, "q\"s") != 0 ||
		    strcmp(root->list[3].str, "a\"b") != 0 ||
		    root->list[4].type != IMAP_SX_LIST)
			fail_msg("good value: wrong tree");
		imap_sx_free(&doc);
	}
}

/* object_ids_survive_copies_and_follow_threads - RFC 8474 ids */
static void
object_ids_survive_copies_and_follow_threads(void **state)
{
	char a[IMAP_OBJECTID_SIZE], b[IMAP_OBJECTID_SIZE];
	struct store_msg copy;

	(void)state;
	/* a copy: new UID, flags, modseq, file name; same content */
	copy = box[0].rec;
	copy.uid = 999;
	copy.modseq = 5;
	copy.flags = 0;
	copy.base = "other";
	imap_objectid_email(&box[0].rec, &box[0].cache, a);
	imap_objectid_email(&copy, &box[0].cache, b);
	if (strcmp(a, b) != 0)
		fail_msg("EMAILID of a copy: got %s, want %s", b, a);
	imap_objectid_email(&box[1].rec, &box[1].cache, b);
	if (strcmp(a, b) == 0)
		fail_msg("EMAILID of two messages: both %s", a);
	if (a[0] != 'M' || strlen(a) != 17)
		fail_msg("EMAILID form: got %s", a);
	/* message 2 references message 1: one thread */
	if (!imap_objectid_thread(&box[0].cache, a) ||
	    !imap_objectid_thread(&box[1].cache, b))
		fail_msg("THREADID: got none");
	if (strcmp(a, b) != 0)
		fail_msg("THREADID of a reply: got %s, want %s", b, a);
	/* message 3 has no ids at all */
	if (imap_objectid_thread(&box[2].cache, a))
		fail_msg("THREADID without Message-ID: got %s, want none", a);
}

/* emailid_and_threadid_keys_match_the_ids - SEARCH EMAILID */
static void
emailid_and_threadid_keys_match_the_ids(void **state)
{
	char id[IMAP_OBJECTID_SIZE], keys[64], got[8];

	(void)state;
	imap_objectid_email(&box[1].rec, &box[1].cache, id);
	snprintf(keys, sizeof(keys), "EMAILID %s", id);
	run(keys, NULL, got, sizeof(got));
	if (strcmp(got, "010") != 0)
		fail_msg("%s: got %s, want 010", keys, got);
	imap_objectid_thread(&box[0].cache, id);
	snprintf(keys, sizeof(keys), "THREADID %s", id);
	run(keys, NULL, got, sizeof(got));
	if (strcmp(got, "110") != 0)
		fail_msg("%s: got %s, want 110", keys, got);
}

/* random_bytes_never_crash_the_decoders - a fixed-seed fuzz run of the
 * pieces that read bytes from messages (run it under ASan) */
static void
random_bytes_never_crash_the_decoders(void **state)
{
	static const char alphabet[] = "=?BQbq_ \t\r\n()\"\\{}~0123456789"
	    "abcXYZ:,;<>@[]*\xc3\xa9\xff\x80\x00";
	struct imap_sx_doc *doc;
	const struct imap_sx *root;
	struct imap_text_conv cv;
	struct buf out;
	unsigned int seed = 12345, i, k, n;
	char in[200];

	(void)state;
	buf_init(&out, 0);
	for (i = 0; i < 20000; i++) {
		n = (unsigned int)rand_r(&seed) % sizeof(in);
		for (k = 0; k < n; k++)
			in[k] = alphabet[(unsigned int)rand_r(&seed) %
			    (sizeof(alphabet) - 1)];
		buf_reset(&out);
		imap_text_decode_header(in, n, &out);
		imap_text_fold(in, n, &out);
		(void)imap_search_date_days(in, n);
		(void)imap_text_contains(in, n, in + n / 2, n - n / 2);
		imap_text_conv_init(&cv, (i & 1) ? "ISO-2022-JP" : "UTF-8");
		imap_text_conv_feed(&cv, in, n / 2, false, &out);
		imap_text_conv_feed(&cv, in + n / 2, n - n / 2, true, &out);
		imap_text_conv_deinit(&cv);
		if (imap_sx_parse(in, n, &doc, &root) == 0)
			imap_sx_free(&doc);
	}
	buf_deinit(&out);
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    every_key_of_the_table_gives_the_expected_messages),
		cmocka_unit_test(the_text_hook_answers_the_keys_it_can),
		cmocka_unit_test(
		    cheap_keys_are_tried_before_the_message_is_opened),
		cmocka_unit_test(a_missing_cache_is_made_from_the_message),
		cmocka_unit_test(encoded_words_are_decoded_and_joined),
		cmocka_unit_test(
		    folding_matches_case_variants_of_many_scripts),
		cmocka_unit_test(a_match_across_pieces_is_found),
		cmocka_unit_test(charsets_are_converted_in_pieces),
		cmocka_unit_test(sent_dates_are_read_as_written),
		cmocka_unit_test(header_values_of_every_occurrence_are_found),
		cmocka_unit_test(body_parts_are_walked_with_their_numbers),
		cmocka_unit_test(broken_structures_do_not_parse),
		cmocka_unit_test(
		    object_ids_survive_copies_and_follow_threads),
		cmocka_unit_test(emailid_and_threadid_keys_match_the_ids),
		cmocka_unit_test(random_bytes_never_crash_the_decoders),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
