/* test_imap_thread.c - unit tests for imapd/imap_thread.c (RFC 5256) */
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
#include "imap_thread.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXMSG		8

/* one message of a thread case */
struct thm {
	uint32_t	 seq;
	int64_t		 date;
	const char	*subject;	/* base subject */
	bool		 reply;
	const char	*id;		/* Message-ID or NULL */
	const char	*refs;		/* References or NULL */
	const char	*irt;		/* In-Reply-To or NULL */
};

struct tcase {
	const char	*name;
	struct thm	 m[MAXMSG];
	const char	*want;
};

/* build - a set from a case's messages (a seq of 0 ends the list) */
static void
build(const struct thm *m, struct imap_sort_set *set)
{
	struct imap_sort_msg s;
	size_t i;

	imap_sort_set_init(set);
	for (i = 0; i < MAXMSG && m[i].seq != 0; i++) {
		memset(&s, 0, sizeof(s));
		s.seq = m[i].seq;
		s.uid = m[i].seq * 10;
		s.date = m[i].date;
		s.arrival = m[i].date;
		s.subject = m[i].subject;
		s.is_reply = m[i].reply;
		s.message_id = m[i].id;
		s.references = m[i].refs;
		s.in_reply_to = m[i].irt;
		imap_sort_set_add_msg(set, &s);
	}
}

/* thread - the THREAD response of a case */
static void
thread(const struct thm *m, enum imap_thread_alg alg, bool uid,
    struct buf *out)
{
	struct imap_sort_set set;

	build(m, &set);
	buf_reset(out);
	imap_thread_write(&set, alg, uid, out);
	imap_sort_set_deinit(&set);
}

static const struct tcase refs_cases[] = {
	{ "the RFC's example shape",
	  { { 3, 1, "x", false, "a", NULL, NULL },
	    { 6, 2, "x", true, "b", "a", NULL },
	    { 4, 3, "x", true, "c", "a b", NULL },
	    { 23, 4, "x", true, "d", "a b c", NULL },
	    { 44, 5, "x", true, "e", "a b", NULL },
	    { 7, 6, "x", true, "f", "a b e", NULL },
	    { 96, 7, "x", true, "g", "a b e f", NULL } },
	  "(3 6 (4 23)(44 7 96))" },
	{ "a missing parent of two is a dummy with no number",
	  { { 3, 1, "p", false, "c", "x", NULL },
	    { 5, 2, "q", false, "d", "x", NULL } },
	  "((3)(5))" },
	{ "a missing parent of one is dropped",
	  { { 1, 1, "p", false, "a", "x", NULL } },
	  "(1)" },
	{ "a missing message in the middle of a chain is dropped",
	  { { 1, 1, "p", false, "a", NULL, NULL },
	    { 2, 2, "p", true, "b", "a x", NULL } },
	  "(1 2)" },
	{ "In-Reply-To is used without References",
	  { { 1, 1, "p", false, "a", NULL, NULL },
	    { 2, 2, "q", false, "b", NULL, "a" } },
	  "(1 2)" },
	{ "References win over In-Reply-To",
	  { { 1, 1, "p", false, "a", NULL, NULL },
	    { 2, 2, "q", false, "b", NULL, NULL },
	    { 3, 3, "r", false, "c", "b", "a" } },
	  "(1)(2 3)" },
	{ "threads are ordered by the date of their first message",
	  { { 1, 10, "p", false, "a", NULL, NULL },
	    { 2, 5, "q", false, "b", NULL, NULL },
	    { 3, 7, "r", false, "c", "a", NULL } },
	  "(2)(1 3)" },
	{ "siblings are ordered by date, then mailbox order",
	  { { 1, 1, "p", false, "a", NULL, NULL },
	    { 2, 9, "p", true, "b", "a", NULL },
	    { 3, 5, "p", true, "c", "a", NULL },
	    { 4, 5, "p", true, "d", "a", NULL } },
	  "(1 (3)(4)(2))" },
	{ "a reply by subject joins the original",
	  { { 1, 1, "foo", false, "a", NULL, NULL },
	    { 2, 2, "foo", true, "b", NULL, NULL } },
	  "(1 2)" },
	{ "an original after its reply still becomes the parent",
	  { { 1, 1, "foo", true, "a", NULL, NULL },
	    { 2, 2, "foo", false, "b", NULL, NULL } },
	  "(2 1)" },
	{ "two originals with one subject share a dummy",
	  { { 1, 1, "foo", false, "a", NULL, NULL },
	    { 2, 2, "foo", false, "b", NULL, NULL } },
	  "((1)(2))" },
	{ "a subject matches a dummy's first child",
	  { { 1, 1, "bar", false, "a", "x", NULL },
	    { 2, 2, "bar", true, "b", "x", NULL },
	    { 3, 3, "bar", false, "c", NULL, NULL } },
	  "((1)(2)(3))" },
	{ "subject matching ignores ASCII case",
	  { { 1, 1, "Foo", false, "a", NULL, NULL },
	    { 2, 2, "fOO", true, "b", NULL, NULL } },
	  "(1 2)" },
	{ "empty subjects are never merged",
	  { { 1, 1, "", false, "a", NULL, NULL },
	    { 2, 2, "", true, "b", NULL, NULL } },
	  "(1)(2)" },
	{ "a repeated Message-ID belongs to the first message",
	  { { 1, 1, "p", false, "a", NULL, NULL },
	    { 2, 2, "q", false, "a", NULL, NULL },
	    { 3, 3, "r", false, "c", "a", NULL } },
	  "(1 3)(2)" },
	{ "messages without Message-ID stand alone",
	  { { 1, 1, "p", false, NULL, NULL, NULL },
	    { 2, 2, "q", false, NULL, NULL, NULL } },
	  "(1)(2)" },
	{ "ids compare case-sensitively",
	  { { 1, 1, "p", false, "A@x", NULL, NULL },
	    { 2, 2, "q", false, "b", "a@x", NULL } },
	  "(1)(2)" },
	{ "references that would make a loop are not linked",
	  { { 1, 1, "p", false, "a", "b", NULL },
	    { 2, 2, "q", false, "b", "a", NULL } },
	  "(2 1)" },
	{ "a message referencing itself is not its own parent",
	  { { 1, 1, "p", false, "a", "a", NULL } },
	  "(1)" },
	{ "a truncated References link is replaced by the real parent",
	  { { 1, 1, "p", false, "a", NULL, NULL },
	    { 2, 2, "q", false, "d", "b c", NULL },
	    { 3, 3, "r", false, "c", "a", NULL } },
	  "(1 3 2)" },
	{ "existing links between references are kept",
	  { { 1, 1, "p", false, "a", NULL, NULL },
	    { 2, 2, "p", true, "b", "a", NULL },
	    { 3, 3, "p", true, "c", "z b", NULL } },
	  "(1 2 3)" },
};

/* references_threads_follow_rfc_5256_section_4 - the table */
static void
references_threads_follow_rfc_5256_section_4(void **state)
{
	struct buf out;
	size_t i;

	(void)state;
	buf_init(&out, 0);
	for (i = 0; i < NELEM(refs_cases); i++) {
		thread(refs_cases[i].m, IMAP_THREAD_REFERENCES, false, &out);
		if (strcmp(buf_cstr(&out), refs_cases[i].want) != 0)
			fail_msg("%s: got %s, want %s", refs_cases[i].name,
			    buf_cstr(&out), refs_cases[i].want);
	}
	buf_deinit(&out);
}

/* orderedsubject_groups_by_subject_and_orders_by_date - section 3 */
static void
orderedsubject_groups_by_subject_and_orders_by_date(void **state)
{
	static const struct tcase c[] = {
		{ "three subjects",
		  { { 1, 3, "b", false, NULL, NULL, NULL },
		    { 2, 2, "a", false, NULL, NULL, NULL },
		    { 3, 1, "B", true, NULL, NULL, NULL },
		    { 4, 4, "a", true, NULL, NULL, NULL },
		    { 5, 0, "c", false, NULL, NULL, NULL },
		    { 6, 5, "a", true, NULL, NULL, NULL } },
		  "(5)(3 1)(2 (4)(6))" },
		{ "equal dates keep mailbox order",
		  { { 1, 1, "a", false, NULL, NULL, NULL },
		    { 2, 1, "a", false, NULL, NULL, NULL },
		    { 3, 1, "b", false, NULL, NULL, NULL } },
		  "(1 2)(3)" },
		{ "references do not matter",
		  { { 1, 1, "a", false, "x", NULL, NULL },
		    { 2, 2, "b", false, "y", "x", NULL } },
		  "(1)(2)" },
	};
	struct buf out;
	size_t i;

	(void)state;
	buf_init(&out, 0);
	for (i = 0; i < NELEM(c); i++) {
		thread(c[i].m, IMAP_THREAD_ORDEREDSUBJECT, false, &out);
		if (strcmp(buf_cstr(&out), c[i].want) != 0)
			fail_msg("%s: got %s, want %s", c[i].name,
			    buf_cstr(&out), c[i].want);
	}
	buf_deinit(&out);
}

/* uid_threads_use_uids - UID THREAD */
static void
uid_threads_use_uids(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out, 0);
	thread(refs_cases[0].m, IMAP_THREAD_REFERENCES, true, &out);
	if (strcmp(buf_cstr(&out), "(30 60 (40 230)(440 70 960))") != 0)
		fail_msg("UID THREAD: got %s", buf_cstr(&out));
	buf_reset(&out);
	{
		struct imap_sort_set set;

		imap_sort_set_init(&set);
		imap_thread_write(&set, IMAP_THREAD_REFERENCES, true, &out);
		imap_sort_set_deinit(&set);
	}
	if (buf_avail(&out) != 0)
		fail_msg("empty set: got %s, want nothing", buf_cstr(&out));
	buf_deinit(&out);
}

/* a_long_reply_chain_neither_recurses_nor_crawls - 20000 deep */
static void
a_long_reply_chain_neither_recurses_nor_crawls(void **state)
{
	enum { N = 20000 };
	struct imap_sort_set set;
	struct imap_sort_msg s;
	struct buf out, want;
	char id[32], parent[32];
	uint32_t i;

	(void)state;
	imap_sort_set_init(&set);
	buf_init(&want, 0);
	buf_append_byte(&want, '(');
	for (i = 1; i <= N; i++) {
		memset(&s, 0, sizeof(s));
		s.seq = i;
		s.date = i;
		s.subject = "chain";
		s.is_reply = i > 1;
		snprintf(id, sizeof(id), "m%u", i);
		snprintf(parent, sizeof(parent), "m%u", i - 1);
		s.message_id = id;
		s.in_reply_to = i > 1 ? parent : NULL;
		imap_sort_set_add_msg(&set, &s);
		buf_printf(&want, "%s%u", i > 1 ? " " : "", i);
	}
	buf_append_byte(&want, ')');
	buf_init(&out, 0);
	imap_thread_write(&set, IMAP_THREAD_REFERENCES, false, &out);
	if (strcmp(buf_cstr(&out), buf_cstr(&want)) != 0)
		fail_msg("chain: got %.40s..., want %.40s...", buf_cstr(&out),
		    buf_cstr(&want));
	imap_sort_set_deinit(&set);
	buf_deinit(&out);
	buf_deinit(&want);
}

/* a_wide_deep_tree_is_written_without_recursion - branching chain */
static void
a_wide_deep_tree_is_written_without_recursion(void **state)
{
	enum { N = 5000 };
	struct imap_sort_set set;
	struct imap_sort_msg s;
	struct buf out;
	char id[32], parent[32];
	uint32_t i;
	size_t opens = 0, k;

	(void)state;
	/* every odd message has two replies, an even one (a leaf) and the
	 * next odd one: a tree N / 2 levels deep, branching at each */
	imap_sort_set_init(&set);
	for (i = 1; i <= N; i++) {
		memset(&s, 0, sizeof(s));
		s.seq = i;
		s.date = i;
		s.subject = "w";
		s.is_reply = i > 1;
		snprintf(id, sizeof(id), "m%u", i);
		snprintf(parent, sizeof(parent), "m%u", i % 2 == 0 ? i - 1 :
		    i - 2);
		s.message_id = id;
		s.in_reply_to = i > 1 ? parent : NULL;
		imap_sort_set_add_msg(&set, &s);
	}
	buf_init(&out, 0);
	imap_thread_write(&set, IMAP_THREAD_REFERENCES, false, &out);
	for (k = 0; k < buf_avail(&out); k++)
		opens += buf_ptr(&out)[k] == '(' ? 1 : buf_ptr(&out)[k] == ')' ?
		    (size_t)-1 : 0;
	if (opens != 0 ||
	    strncmp(buf_cstr(&out), "(1 (2)(3 (4)(5 (6)", 18) != 0)
		fail_msg("wide tree: got %.60s (balance %zd)", buf_cstr(&out),
		    (ssize_t)opens);
	imap_sort_set_deinit(&set);
	buf_deinit(&out);
}

/* replies_and_forwards_are_recognised - RFC 5256 2.1 */
static void
replies_and_forwards_are_recognised(void **state)
{
	static const struct {
		const char	*subject;
		bool		 want;
	} c[] = {
		{ "foo", false },
		{ "", false },
		{ "Re: foo", true },
		{ "RE : foo", true },
		{ "re:foo", true },
		{ "Fwd: foo", true },
		{ "Fw: foo", true },
		{ "Re[2]: foo", true },
		{ "[list] foo", false },
		{ "[list] Re: foo", true },
		{ "foo (fwd)", true },
		{ "foo (FWD)  ", true },
		{ "[fwd: foo]", true },
		{ "[Fwd: Re: foo]", true },
		{ "Reply: foo", false },
		{ "Refactoring", false },
		{ "[a][b]", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(c); i++)
		if (imap_subject_is_reply(c[i].subject) != c[i].want)
			fail_msg("\"%s\": got %d, want %d", c[i].subject,
			    !c[i].want, c[i].want);
}

/* sort - the sequence numbers of a sorted set, "2 3 1" */
static void
sort(struct imap_sort_set *set, const char *crit, struct buf *out)
{
	struct imap_cmd cmd;
	struct imap_piece piece;
	struct imap_sort s;
	struct buf line;
	size_t i;

	buf_init(&line, 0);
	buf_printf(&line, "a SORT (%s) UTF-8 ALL", crit);
	piece.data = buf_ptr(&line);
	piece.len = buf_avail(&line);
	piece.literal = false;
	if (imap_parse(&cmd, &piece, 1, NULL) < 0 ||
	    imap_parse_sort(&cmd, &s) < 0)
		fail_msg("SORT (%s): parse error %s", crit, cmd.error);
	imap_sort_run(set, s.crit, s.count);
	buf_reset(out);
	for (i = 0; i < set->count; i++)
		buf_printf(out, "%s%u", i > 0 ? " " : "", set->msgs[i].seq);
	imap_cmd_deinit(&cmd);
	buf_deinit(&line);
}

/* sort_criteria_order_messages_with_ties_in_mailbox_order - SORT */
static void
sort_criteria_order_messages_with_ties_in_mailbox_order(void **state)
{
	static const struct imap_sort_msg m[] = {
		{ .seq = 1, .arrival = 40, .date = 10, .size = 300,
		  .subject = "b", .from = "zed", .to = "x", .cc = "" },
		{ .seq = 2, .arrival = 30, .date = 30, .size = 100,
		  .subject = "A", .from = "amy", .to = "x", .cc = "c" },
		{ .seq = 3, .arrival = 20, .date = 20, .size = 100,
		  .subject = "a", .from = "Bob", .to = "y", .cc = "b" },
		{ .seq = 4, .arrival = 10, .date = 20, .size = 200,
		  .subject = "c", .from = "bob", .to = "X", .cc = "" },
	};
	static const struct {
		const char	*crit;
		const char	*want;
	} c[] = {
		{ "SUBJECT", "2 3 1 4" },
		{ "REVERSE SUBJECT", "4 1 2 3" },
		{ "ARRIVAL", "4 3 2 1" },
		{ "REVERSE ARRIVAL", "1 2 3 4" },
		{ "DATE", "1 3 4 2" },
		{ "REVERSE DATE", "2 3 4 1" },
		{ "SIZE", "2 3 4 1" },
		{ "SIZE REVERSE DATE", "2 3 4 1" },
		{ "SIZE DATE", "3 2 4 1" },
		{ "FROM", "2 3 4 1" },
		{ "TO", "1 2 4 3" },
		{ "CC", "1 4 3 2" },
		{ "REVERSE CC SIZE", "2 3 4 1" },
		{ "TO REVERSE SIZE", "1 4 2 3" },
	};
	struct imap_sort_set set;
	struct buf out;
	size_t i, k;

	(void)state;
	buf_init(&out, 0);
	for (i = 0; i < NELEM(c); i++) {
		imap_sort_set_init(&set);
		for (k = 0; k < NELEM(m); k++)
			imap_sort_set_add_msg(&set, &m[k]);
		sort(&set, c[i].crit, &out);
		if (strcmp(buf_cstr(&out), c[i].want) != 0)
			fail_msg("SORT (%s): got %s, want %s", c[i].crit,
			    buf_cstr(&out), c[i].want);
		imap_sort_set_deinit(&set);
	}
	buf_deinit(&out);
}

/* fields_come_from_the_cached_summary - imap_sort_set_add */
static void
fields_come_from_the_cached_summary(void **state)
{
	static const char *msgs[] = {
		"From: =?UTF-8?Q?=C3=89mile?= <zoe@example.test>\r\n"
		"To: Yves <yves@example.test>\r\n"
		"Subject: Re: [list] Topic\r\n"
		"Date: Wed, 2 Jan 2019 10:00:00 +0000\r\n"
		"Message-ID: <m1@x>\r\n\r\nbody\r\n",
		"From: Bob <amy@example.test>\r\n"
		"Cc: undisclosed:;\r\n"
		"Subject: Topic\r\n"
		"Message-ID: <m2@x>\r\nReferences: <m0@x> <m1@x>\r\n"
		"\r\nbody\r\n",
		"From: <carl@example.test>\r\n"
		"To: group: Ann <ann@example.test>;\r\n"
		"Subject: other\r\n"
		"Date: Tue, 1 Jan 2019 10:00:00 +0000\r\n"
		"\r\nbody\r\n",
	};
	static const struct {
		const char	*crit;
		const char	*want;
	} c[] = {
		{ "DISPLAYFROM", "2 3 1" },	/* Bob, carl@..., Émile */
		{ "FROM", "2 3 1" },		/* amy, carl, zoe */
		{ "DISPLAYTO", "2 3 1" },	/* "", ann@..., Yves */
		{ "TO", "2 3 1" },		/* "", ann, yves */
		{ "SUBJECT", "3 1 2" },		/* other, topic, topic */
		{ "DATE", "2 3 1" },		/* 2 has no Date: */
	};
	struct mime_summary sum[3];
	struct store_cache cache;
	struct store_msg rec;
	struct imap_sort_set set;
	struct buf out;
	size_t i, k;

	(void)state;
	for (k = 0; k < 3; k++)
		mime_summarize(msgs[k], strlen(msgs[k]), &sum[k]);
	buf_init(&out, 0);
	for (i = 0; i < NELEM(c); i++) {
		imap_sort_set_init(&set);
		for (k = 0; k < 3; k++) {
			memset(&rec, 0, sizeof(rec));
			memset(&cache, 0, sizeof(cache));
			rec.uid = (uint32_t)k + 1;
			rec.internaldate = 5;
			cache.sent_date = sum[k].sent_date;
			cache.envelope = sum[k].envelope;
			cache.header_fields = sum[k].header_fields;
			cache.base_subject = sum[k].base_subject;
			cache.message_id = sum[k].message_id;
			cache.references = sum[k].references;
			imap_sort_set_add(&set, (uint32_t)k + 1, &rec, &cache);
		}
		if (i == 0) {
			if (!set.msgs[0].is_reply || set.msgs[1].is_reply)
				fail_msg("is_reply: got %d %d, want 1 0",
				    set.msgs[0].is_reply,
				    set.msgs[1].is_reply);
			if (strcmp(set.msgs[0].display_from,
			    "\xc3\x89mile") != 0)
				fail_msg("DISPLAYFROM: got %s",
				    set.msgs[0].display_from);
		}
		sort(&set, c[i].crit, &out);
		if (strcmp(buf_cstr(&out), c[i].want) != 0)
			fail_msg("SORT (%s): got %s, want %s", c[i].crit,
			    buf_cstr(&out), c[i].want);
		imap_sort_set_deinit(&set);
	}
	/* what is not needed is not extracted */
	imap_sort_set_init(&set);
	set.need = 0;
	memset(&rec, 0, sizeof(rec));
	memset(&cache, 0, sizeof(cache));
	cache.envelope = sum[0].envelope;
	cache.header_fields = sum[0].header_fields;
	cache.base_subject = sum[0].base_subject;
	imap_sort_set_add(&set, 1, &rec, &cache);
	if (set.msgs[0].is_reply || set.msgs[0].from[0] != '\0' ||
	    strcmp(set.msgs[0].subject, "Topic") != 0)
		fail_msg("need 0: got reply %d from \"%s\" subject \"%s\", "
		    "want 0, \"\", \"Topic\"", set.msgs[0].is_reply,
		    set.msgs[0].from, set.msgs[0].subject);
	imap_sort_set_deinit(&set);
	{
		static const struct imap_sort_crit c1[] = {
			{ IMAP_SORT_SUBJECT, false },
			{ IMAP_SORT_DATE, true } };
		static const struct imap_sort_crit c2[] = {
			{ IMAP_SORT_SIZE, false },
			{ IMAP_SORT_DISPLAYTO, true } };

		if (imap_sort_need(c1, 2) != 0 ||
		    imap_sort_need(c2, 2) != IMAP_SORT_NEED_ADDRESSES)
			fail_msg("imap_sort_need: got %u and %u, want 0 and %u",
			    imap_sort_need(c1, 2), imap_sort_need(c2, 2),
			    IMAP_SORT_NEED_ADDRESSES);
	}
	/* and THREAD over the same: 2 references 1, 3 stands alone */
	imap_sort_set_init(&set);
	for (k = 0; k < 3; k++) {
		memset(&rec, 0, sizeof(rec));
		memset(&cache, 0, sizeof(cache));
		rec.uid = (uint32_t)k + 1;
		rec.internaldate = 5;
		cache.sent_date = sum[k].sent_date;
		cache.header_fields = sum[k].header_fields;
		cache.base_subject = sum[k].base_subject;
		cache.message_id = sum[k].message_id;
		cache.references = sum[k].references;
		imap_sort_set_add(&set, (uint32_t)k + 1, &rec, &cache);
	}
	buf_reset(&out);
	imap_thread_write(&set, IMAP_THREAD_REFERENCES, false, &out);
	if (strcmp(buf_cstr(&out), "(3)(1 2)") != 0)
		fail_msg("THREAD: got %s, want (3)(1 2)", buf_cstr(&out));
	imap_sort_set_deinit(&set);
	for (k = 0; k < 3; k++)
		mime_summary_deinit(&sum[k]);
	buf_deinit(&out);
}

/* main - run the tests */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(references_threads_follow_rfc_5256_section_4),
		cmocka_unit_test(
		    orderedsubject_groups_by_subject_and_orders_by_date),
		cmocka_unit_test(uid_threads_use_uids),
		cmocka_unit_test(
		    a_long_reply_chain_neither_recurses_nor_crawls),
		cmocka_unit_test(
		    a_wide_deep_tree_is_written_without_recursion),
		cmocka_unit_test(replies_and_forwards_are_recognised),
		cmocka_unit_test(
		    sort_criteria_order_messages_with_ties_in_mailbox_order),
		cmocka_unit_test(fields_come_from_the_cached_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
