/* test_queue.c - unit tests for common/queue.c */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "buf.h"
#include "queue.h"

/* sample - an envelope that uses every field */
static struct queue_env *
sample(void)
{
	struct queue_env *env;
	struct queue_rcpt *r;

	env = queue_env_new("0f1e2d3c4b5a-01", 1764000000,
	    "sender@example.org");
	queue_set_str(&env->envid, "QQ314159");
	env->ret = QUEUE_RET_HDRS;
	env->body = QUEUE_BODY_8BITMIME;
	env->smtputf8 = true;
	queue_set_str(&env->auth_user, "alice");
	r = queue_env_add_rcpt(env, "bob@remote.example");
	queue_set_str(&r->orcpt, "rfc822;Bob@Remote.Example");
	r->notify = QUEUE_NOTIFY_FAILURE | QUEUE_NOTIFY_DELAY;
	r->status = QUEUE_RCPT_DEFERRED;
	r->attempts = 3;
	r->next_attempt = 1764003600;
	queue_set_str(&r->last_error, "451 4.7.1 Greylisted, try later");
	r = queue_env_add_rcpt(env, "j\xc3\xb6rg@b\xc3\xbc" "cher.example");
	r->status = QUEUE_RCPT_PENDING;
	r = queue_env_add_rcpt(env, "carol@remote.example");
	r->notify = QUEUE_NOTIFY_NEVER;
	r->status = QUEUE_RCPT_FAILED;
	r->attempts = UINT32_MAX;
	r->next_attempt = -1;
	queue_set_str(&r->last_error, "550 5.1.1 No such user");
	return env;
}

/* str_eq - two optional strings are equal */
static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* assert_env_equal - field by field, "got X, want Y" */
static void
assert_env_equal(const struct queue_env *got, const struct queue_env *want)
{
	size_t i;

	assert_string_equal(got->id, want->id);
	assert_int_equal(got->arrival, want->arrival);
	assert_string_equal(got->sender, want->sender);
	assert_true(str_eq(got->envid, want->envid));
	assert_int_equal(got->ret, want->ret);
	assert_int_equal(got->body, want->body);
	assert_int_equal(got->smtputf8, want->smtputf8);
	assert_true(str_eq(got->auth_user, want->auth_user));
	assert_int_equal(got->nrcpts, want->nrcpts);
	for (i = 0; i < want->nrcpts; i++) {
		const struct queue_rcpt *g = &got->rcpts[i];
		const struct queue_rcpt *w = &want->rcpts[i];

		assert_string_equal(g->addr, w->addr);
		assert_true(str_eq(g->orcpt, w->orcpt));
		assert_int_equal(g->notify, w->notify);
		assert_int_equal(g->status, w->status);
		assert_int_equal(g->attempts, w->attempts);
		assert_int_equal(g->next_attempt, w->next_attempt);
		assert_true(str_eq(g->last_error, w->last_error));
	}
}

/* serialize - the sample's bytes into b */
static void
serialize(const struct queue_env *env, struct buf *b)
{
	char *error = NULL;

	buf_init(b, 0);
	if (queue_env_serialize(env, b, &error) < 0)
		fail_msg("serialize: %s", error);
}

/* an_envelope_survives_serialise_and_parse_unchanged */
static void
an_envelope_survives_serialise_and_parse_unchanged(void **state)
{
	struct queue_env *env, *got = NULL, *min;
	struct buf b;
	char *error = NULL;

	env = sample();
	serialize(env, &b);
	if (queue_env_parse(buf_ptr(&b), buf_avail(&b), &got, &error) < 0)
		fail_msg("parse: %s", error);
	assert_env_equal(got, env);
	queue_env_free(&got);
	assert_null(got);
	buf_deinit(&b);

	/* the smallest envelope: null sender, no optional fields */
	min = queue_env_new("x", 0, "");
	queue_env_add_rcpt(min, "a@b");
	serialize(min, &b);
	assert_int_equal(queue_env_parse(buf_ptr(&b), buf_avail(&b), &got,
	    &error), 0);
	assert_env_equal(got, min);
	assert_null(got->envid);
	assert_null(got->rcpts[0].orcpt);
	queue_env_free(&got);
	queue_env_free(&min);
	queue_env_free(&env);
	buf_deinit(&b);
}

/* the_file_starts_with_magic_and_version_and_ends_with_a_crc */
static void
the_file_starts_with_magic_and_version_and_ends_with_a_crc(void **state)
{
	struct queue_env *env;
	struct buf b;
	const unsigned char *p;
	size_t len;
	uint32_t crc;

	env = sample();
	serialize(env, &b);
	p = (const unsigned char *)buf_ptr(&b);
	len = buf_avail(&b);
	assert_memory_equal(p, "BSTQ\0\1\0\0", 8);
	/* end record: type 0xffff, length 4, crc32 of all before it */
	assert_memory_equal(p + len - 10, "\xff\xff\0\0\0\4", 6);
	crc = (uint32_t)crc32(0L, p, (uInt)(len - 4));
	assert_int_equal(((uint32_t)p[len - 4] << 24) |
	    ((uint32_t)p[len - 3] << 16) | ((uint32_t)p[len - 2] << 8) |
	    p[len - 1], crc);
	queue_env_free(&env);
	buf_deinit(&b);
}

/* every_truncation_is_refused - a torn write at any byte is detected */
static void
every_truncation_is_refused(void **state)
{
	struct queue_env *env, *got;
	struct buf b;
	char *error, *copy;
	size_t n;

	env = sample();
	serialize(env, &b);
	for (n = 0; n < buf_avail(&b); n++) {
		/* exactly n bytes on the heap, so ASan catches overreads */
		copy = malloc(n == 0 ? 1 : n);
		memcpy(copy, buf_ptr(&b), n);
		error = NULL;
		got = NULL;
		if (queue_env_parse(copy, n, &got, &error) != -1)
			fail_msg("truncated to %zu of %zu: got 0, want -1", n,
			    buf_avail(&b));
		assert_null(got);
		assert_non_null(error);
		free(error);
		free(copy);
	}
	queue_env_free(&env);
	buf_deinit(&b);
}

/* every_byte_changed_to_every_value_is_refused - bit flips and garbage */
static void
every_byte_changed_to_every_value_is_refused(void **state)
{
	struct queue_env *env, *got;
	struct buf b;
	char *error, *copy;
	size_t i, len;
	unsigned int x;

	env = sample();
	serialize(env, &b);
	len = buf_avail(&b);
	copy = malloc(len);
	for (i = 0; i < len; i++) {
		for (x = 1; x < 256; x++) {
			memcpy(copy, buf_ptr(&b), len);
			copy[i] = (char)(copy[i] ^ x);
			error = NULL;
			got = NULL;
			if (queue_env_parse(copy, len, &got, &error) != -1)
				fail_msg("byte %zu ^ 0x%02x: got 0, want -1",
				    i, x);
			assert_null(got);
			assert_non_null(error);
			free(error);
		}
	}
	free(copy);
	queue_env_free(&env);
	buf_deinit(&b);
}

/* trailing_garbage_after_the_end_record_is_refused */
static void
trailing_garbage_after_the_end_record_is_refused(void **state)
{
	struct queue_env *env, *got = NULL;
	struct buf b;
	char *error = NULL;

	env = sample();
	serialize(env, &b);
	assert_int_equal(buf_append(&b, "\0", 1), 0);
	assert_int_equal(queue_env_parse(buf_ptr(&b), buf_avail(&b), &got,
	    &error), -1);
	assert_null(got);
	free(error);
	/* and a second copy glued on */
	buf_deinit(&b);
	serialize(env, &b);
	{
		size_t n = buf_avail(&b);
		char *twice = malloc(2 * n);

		memcpy(twice, buf_ptr(&b), n);
		memcpy(twice + n, buf_ptr(&b), n);
		error = NULL;
		assert_int_equal(queue_env_parse(twice, 2 * n, &got, &error),
		    -1);
		free(error);
		free(twice);
	}
	queue_env_free(&env);
	buf_deinit(&b);
}

/* --- hand-made files with a valid CRC, to test the checks behind it --- */

/* raw_rec - append a record */
static void
raw_rec(struct buf *b, unsigned int type, const void *v, size_t len)
{
	unsigned char h[6] = { (unsigned char)(type >> 8), (unsigned char)type,
	    (unsigned char)(len >> 24), (unsigned char)(len >> 16),
	    (unsigned char)(len >> 8), (unsigned char)len };

	buf_append(b, h, 6);
	buf_append(b, v, len);
}

/* raw_finish - append a correct end record */
static void
raw_finish(struct buf *b)
{
	unsigned char c[4];
	uint32_t crc;

	buf_append(b, "\xff\xff\0\0\0\4", 6);
	crc = (uint32_t)crc32(0L, (const Bytef *)buf_ptr(b),
	    (uInt)buf_avail(b));
	c[0] = (unsigned char)(crc >> 24);
	c[1] = (unsigned char)(crc >> 16);
	c[2] = (unsigned char)(crc >> 8);
	c[3] = (unsigned char)crc;
	buf_append(b, c, 4);
}

/* raw_rcpt - a well-formed recipient record value */
static void
raw_rcpt(struct buf *r, const char *addr, bool with_status)
{
	static const unsigned char zero8[8];

	buf_init(r, 0);
	raw_rec(r, 1, addr, strlen(addr));
	raw_rec(r, 3, zero8, 1);
	if (with_status)
		raw_rec(r, 4, zero8, 1);
	raw_rec(r, 5, zero8, 4);
	raw_rec(r, 6, zero8, 8);
}

enum raw_twist {
	RAW_GOOD = 0,
	RAW_NO_RCPT,
	RAW_DUP_ID,
	RAW_UNKNOWN_TYPE,
	RAW_BAD_ID,
	RAW_NUL_IN_SENDER,
	RAW_CRLF_IN_SENDER,
	RAW_SHORT_ARRIVAL,
	RAW_RET_OUT_OF_RANGE,
	RAW_RCPT_NO_STATUS,
	RAW_RCPT_OVERRUN,
	RAW_BAD_VERSION,
	RAW_EMPTY_ADDR,
	RAW_SMTPUTF8_2
};

/* raw_env - a hand-made envelope with one twist */
static void
raw_env(struct buf *b, enum raw_twist t)
{
	static const unsigned char zero8[8], two = 2;
	struct buf r;

	buf_init(b, 0);
	buf_append(b, t == RAW_BAD_VERSION ? "BSTQ\0\2\0\0" : "BSTQ\0\1\0\0",
	    8);
	if (t == RAW_BAD_ID)
		raw_rec(b, 1, "../x", 4);
	else
		raw_rec(b, 1, "id1", 3);
	if (t == RAW_DUP_ID)
		raw_rec(b, 1, "id2", 3);
	raw_rec(b, 2, zero8, t == RAW_SHORT_ARRIVAL ? 7 : 8);
	if (t == RAW_NUL_IN_SENDER)
		raw_rec(b, 3, "a\0b", 3);
	else if (t == RAW_CRLF_IN_SENDER)
		raw_rec(b, 3, "a\r\nb", 4);
	else
		raw_rec(b, 3, "s@x", 3);
	raw_rec(b, 5, t == RAW_RET_OUT_OF_RANGE ? "\3" : "\0", 1);
	raw_rec(b, 6, zero8, 1);
	raw_rec(b, 7, t == RAW_SMTPUTF8_2 ? &two : zero8, 1);
	if (t == RAW_UNKNOWN_TYPE)
		raw_rec(b, 77, "?", 1);
	if (t != RAW_NO_RCPT) {
		raw_rcpt(&r, t == RAW_EMPTY_ADDR ? "" : "r@y",
		    t != RAW_RCPT_NO_STATUS);
		if (t == RAW_RCPT_OVERRUN) {
			/* claim one byte more inside than the record holds */
			unsigned char *p = (unsigned char *)r.data;

			p[5] = (unsigned char)(p[5] + 1);
		}
		raw_rec(b, 9, buf_ptr(&r), buf_avail(&r));
		buf_deinit(&r);
	}
	raw_finish(b);
}

/* damage_behind_a_valid_crc_is_still_refused */
static void
damage_behind_a_valid_crc_is_still_refused(void **state)
{
	static const struct {
		enum raw_twist	 t;
		const char	*name;
	} cases[] = {
		{ RAW_NO_RCPT, "no recipient" },
		{ RAW_DUP_ID, "duplicate id" },
		{ RAW_UNKNOWN_TYPE, "unknown record type" },
		{ RAW_BAD_ID, "id that is a path" },
		{ RAW_NUL_IN_SENDER, "NUL in a string" },
		{ RAW_CRLF_IN_SENDER, "CRLF in a string" },
		{ RAW_SHORT_ARRIVAL, "7-byte time" },
		{ RAW_RET_OUT_OF_RANGE, "RET out of range" },
		{ RAW_RCPT_NO_STATUS, "recipient without status" },
		{ RAW_RCPT_OVERRUN, "sub-record overrunning its recipient" },
		{ RAW_BAD_VERSION, "version 2" },
		{ RAW_EMPTY_ADDR, "empty recipient address" },
		{ RAW_SMTPUTF8_2, "boolean 2" },
	};
	struct queue_env *got = NULL;
	struct buf b;
	char *error = NULL;
	size_t i;

	/* the untwisted file parses, so each twist is what fails */
	raw_env(&b, RAW_GOOD);
	if (queue_env_parse(buf_ptr(&b), buf_avail(&b), &got, &error) < 0)
		fail_msg("good raw envelope: %s", error);
	assert_string_equal(got->rcpts[0].addr, "r@y");
	queue_env_free(&got);
	buf_deinit(&b);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		raw_env(&b, cases[i].t);
		error = NULL;
		if (queue_env_parse(buf_ptr(&b), buf_avail(&b), &got,
		    &error) != -1)
			fail_msg("%s: got 0, want -1", cases[i].name);
		assert_null(got);
		assert_non_null(error);
		free(error);
		buf_deinit(&b);
	}
}

/* invalid_envelopes_are_not_serialised */
static void
invalid_envelopes_are_not_serialised(void **state)
{
	char big[QUEUE_STR_MAX + 2];
	struct queue_env *env;
	struct buf b;
	char *error;
	int i;

	for (i = 0; i < 8; i++) {
		env = sample();
		switch (i) {
		case 0:
			queue_set_str(&env->id, "../etc/passwd");
			break;
		case 1:
			queue_set_str(&env->id, "");
			break;
		case 2:
			queue_set_str(&env->sender, "a\r\nb");
			break;
		case 3:
			env->rcpts[0].status = (enum queue_status)9;
			break;
		case 4:
			queue_set_str(&env->rcpts[1].addr, "");
			break;
		case 5:
			queue_set_str(&env->envid, "");
			break;
		case 6:
			memset(big, 'x', QUEUE_STR_MAX + 1);
			big[QUEUE_STR_MAX + 1] = '\0';
			queue_set_str(&env->rcpts[0].last_error, big);
			break;
		case 7:
			queue_set_str(&env->rcpts[2].last_error,
			    "bad \xc3 utf-8");
			break;
		}
		buf_init(&b, 0);
		error = NULL;
		if (queue_env_serialize(env, &b, &error) != -1)
			fail_msg("case %d: got 0, want -1", i);
		assert_non_null(error);
		assert_int_equal(buf_avail(&b), 0);
		free(error);
		buf_deinit(&b);
		queue_env_free(&env);
	}
	/* no recipients */
	env = queue_env_new("id", 0, "");
	buf_init(&b, 0);
	error = NULL;
	assert_int_equal(queue_env_serialize(env, &b, &error), -1);
	free(error);
	buf_deinit(&b);
	queue_env_free(&env);
}

/* a_string_at_the_maximum_is_kept_and_one_more_is_refused */
static void
a_string_at_the_maximum_is_kept_and_one_more_is_refused(void **state)
{
	char big[QUEUE_STR_MAX + 2];
	struct queue_env *env, *got = NULL;
	struct buf b;
	char *error = NULL;

	memset(big, 'e', QUEUE_STR_MAX);
	big[QUEUE_STR_MAX] = '\0';
	env = sample();
	queue_set_str(&env->rcpts[0].last_error, big);
	serialize(env, &b);
	assert_int_equal(queue_env_parse(buf_ptr(&b), buf_avail(&b), &got,
	    &error), 0);
	assert_int_equal(strlen(got->rcpts[0].last_error), QUEUE_STR_MAX);
	queue_env_free(&got);
	buf_deinit(&b);
	big[QUEUE_STR_MAX] = 'e';
	big[QUEUE_STR_MAX + 1] = '\0';
	queue_set_str(&env->rcpts[0].last_error, big);
	buf_init(&b, 0);
	assert_int_equal(queue_env_serialize(env, &b, &error), -1);
	free(error);
	buf_deinit(&b);
	queue_env_free(&env);
}

/* ids_must_be_safe_file_names */
static void
ids_must_be_safe_file_names(void **state)
{
	static const struct {
		const char	*id;
		bool		 want;
	} cases[] = {
		{ "0f1e2d3c4b5a", true },
		{ "A-b_9", true },
		{ "", false },
		{ ".", false },
		{ "..", false },
		{ "a/b", false },
		{ "a.env", false },
		{ "a b", false },
		{ "\xc3\xa9", false },
	};
	char id[QUEUE_ID_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (queue_id_valid(cases[i].id) != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].id,
			    !cases[i].want, cases[i].want);
	memset(id, 'a', QUEUE_ID_MAX);
	id[QUEUE_ID_MAX] = '\0';
	assert_true(queue_id_valid(id));
	id[QUEUE_ID_MAX] = 'a';
	id[QUEUE_ID_MAX + 1] = '\0';
	assert_false(queue_id_valid(id));
}

/* --- files --- */

/* make_dir - a fresh temporary queue directory */
static char *
make_dir(void)
{
	char tmpl[] = "/tmp/test_queue.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

/* remove_dir - remove the directory and what is in it */
static void
remove_dir(char *dir)
{
	DIR *d;
	struct dirent *e;
	char path[512];

	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	free(dir);
}

/* count_files - entries in dir other than . and .. */
static int
count_files(const char *dir)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* write_then_read_round_trips_and_rewrites_in_place */
static void
write_then_read_round_trips_and_rewrites_in_place(void **state)
{
	struct queue_env *env, *got = NULL;
	char *dir, *path, *error = NULL, *mpath;

	dir = make_dir();
	env = sample();
	if (queue_env_write(dir, env, &error) < 0)
		fail_msg("write: %s", error);
	path = queue_env_path(dir, env->id);
	if (queue_env_read(path, &got, &error) < 0)
		fail_msg("read: %s", error);
	assert_env_equal(got, env);
	queue_env_free(&got);

	/* an attempt later: update and rewrite under the same name */
	env->rcpts[0].status = QUEUE_RCPT_DELIVERED;
	env->rcpts[0].attempts++;
	queue_set_str(&env->rcpts[0].last_error, NULL);
	assert_int_equal(queue_env_write(dir, env, &error), 0);
	assert_int_equal(queue_env_read(path, &got, &error), 0);
	assert_env_equal(got, env);
	assert_int_equal(got->rcpts[0].status, QUEUE_RCPT_DELIVERED);
	assert_int_equal(count_files(dir), 1);	/* no tmp file left */
	queue_env_free(&got);

	mpath = queue_msg_path(dir, env->id);
	assert_int_equal(strcmp(mpath + strlen(mpath) - 4, ".msg"), 0);
	free(mpath);
	free(path);
	queue_env_free(&env);
	remove_dir(dir);
}

static size_t write_budget;	/* bytes the fake write lets through */
static size_t write_chunk;	/* at most this much per call, 0 = all */
static int fsync_fails;
static int rename_fails;

/* fake_write - short writes, then EIO once the budget is spent */
static ssize_t
fake_write(int fd, const void *p, size_t n)
{
	if (write_budget == 0) {
		errno = EIO;
		return -1;
	}
	if (n > write_budget)
		n = write_budget;
	if (write_chunk != 0 && n > write_chunk)
		n = write_chunk;
	write_budget -= n;
	return write(fd, p, n);
}

/* fake_fsync - fsync that can be told to fail */
static int
fake_fsync(int fd)
{
	if (fsync_fails) {
		errno = EIO;
		return -1;
	}
	return fsync(fd);
}

/* fake_rename - rename that can be told to fail */
static int
fake_rename(const char *from, const char *to)
{
	if (rename_fails) {
		errno = EXDEV;
		return -1;
	}
	return rename(from, to);
}

/* a_failed_write_leaves_the_old_envelope_intact */
static void
a_failed_write_leaves_the_old_envelope_intact(void **state)
{
	static const struct queue_io fake = { fake_write, fake_fsync,
	    fake_rename };
	struct queue_env *env, *got = NULL;
	struct buf b;
	char *dir, *path, *error = NULL;
	size_t total, n;
	int mode;

	dir = make_dir();
	env = sample();
	assert_int_equal(queue_env_write(dir, env, &error), 0);
	path = queue_env_path(dir, env->id);
	serialize(env, &b);
	total = buf_avail(&b);
	buf_deinit(&b);
	env->rcpts[0].status = QUEUE_RCPT_FAILED;

	queue_set_io(&fake);
	/* a write that fails at byte n, for every n */
	for (n = 0; n < total; n++) {
		write_budget = n;
		write_chunk = 0;
		error = NULL;
		if (queue_env_write(dir, env, &error) != -1)
			fail_msg("write failing at byte %zu: got 0, want -1",
			    n);
		assert_non_null(strstr(error, "write("));
		free(error);
		assert_int_equal(count_files(dir), 1);
	}
	/* fsync and rename failures */
	for (mode = 0; mode < 2; mode++) {
		write_budget = SIZE_MAX;
		fsync_fails = mode == 0;
		rename_fails = mode == 1;
		error = NULL;
		assert_int_equal(queue_env_write(dir, env, &error), -1);
		assert_non_null(strstr(error, mode == 0 ? "fsync(" :
		    "rename("));
		free(error);
		assert_int_equal(count_files(dir), 1);
	}
	fsync_fails = rename_fails = 0;
	/* the old envelope is untouched */
	assert_int_equal(queue_env_read(path, &got, &error), 0);
	assert_int_equal(got->rcpts[0].status, QUEUE_RCPT_DEFERRED);
	queue_env_free(&got);

	/* short writes of 7 bytes at a time still write everything */
	write_budget = SIZE_MAX;
	write_chunk = 7;
	assert_int_equal(queue_env_write(dir, env, &error), 0);
	queue_set_io(NULL);
	assert_int_equal(queue_env_read(path, &got, &error), 0);
	assert_env_equal(got, env);
	queue_env_free(&got);

	free(path);
	queue_env_free(&env);
	remove_dir(dir);
}

/* read_refuses_missing_and_damaged_files */
static void
read_refuses_missing_and_damaged_files(void **state)
{
	struct queue_env *env, *got = NULL;
	char *dir, *path, *error = NULL;
	int fd;

	dir = make_dir();
	env = sample();
	path = queue_env_path(dir, env->id);
	assert_int_equal(queue_env_read(path, &got, &error), -1);
	assert_non_null(strstr(error, "open("));
	free(error);

	assert_int_equal(queue_env_write(dir, env, &error), 0);
	/* tear the file as a crash between write and rename would not */
	assert_int_equal(truncate(path, 20), 0);
	error = NULL;
	assert_int_equal(queue_env_read(path, &got, &error), -1);
	assert_null(got);
	assert_non_null(strstr(error, path));
	free(error);

	/* an empty file */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	close(fd);
	error = NULL;
	assert_int_equal(queue_env_read(path, &got, &error), -1);
	free(error);

	/* a directory */
	error = NULL;
	assert_int_equal(queue_env_read(dir, &got, &error), -1);
	free(error);

	free(path);
	queue_env_free(&env);
	remove_dir(dir);
}

/* --- queue_write_file, queue_fsync_dir --- */

/* read_whole - a file's bytes and size, caller frees */
static char *
read_whole(const char *path, size_t *len_r, mode_t *mode_r)
{
	struct stat st;
	char *data;
	FILE *fp;

	assert_int_equal(stat(path, &st), 0);
	*mode_r = st.st_mode & 07777;
	data = malloc((size_t)st.st_size + 1);
	assert_non_null(data);
	fp = fopen(path, "r");
	assert_non_null(fp);
	*len_r = fread(data, 1, (size_t)st.st_size + 1, fp);
	fclose(fp);
	return data;
}

/* write_file_writes_every_byte_into_a_new_file_of_mode_0600 */
static void
write_file_writes_every_byte_into_a_new_file_of_mode_0600(void **state)
{
	static const size_t sizes[] = { 0, 1, 4096, 1024 * 1024 + 7 };
	char *dir, *path, *p, *got, *error = NULL;
	size_t i, k, len;
	mode_t mode, old;

	dir = make_dir();
	old = umask(0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = malloc(sizes[i] + 1);
		assert_non_null(p);
		for (k = 0; k < sizes[i]; k++)
			p[k] = (char)(k * 7 + i);
		if (asprintf(&path, "%s/f%zu", dir, i) < 0)
			fail();
		if (queue_write_file(path, p, sizes[i], &error) < 0)
			fail_msg("%zu bytes: got -1 (%s), want 0", sizes[i],
			    error);
		got = read_whole(path, &len, &mode);
		if (len != sizes[i] || memcmp(got, p, len) != 0)
			fail_msg("%zu bytes: got %zu other bytes back",
			    sizes[i], len);
		if (mode != 0600)
			fail_msg("%zu bytes: got mode %o, want 600", sizes[i],
			    (unsigned int)mode);
		free(got);
		free(path);
		free(p);
	}
	umask(old);
	assert_int_equal(count_files(dir), 4);
	remove_dir(dir);
}

/* write_file_never_replaces_a_file_and_says_so_with_eexist */
static void
write_file_never_replaces_a_file_and_says_so_with_eexist(void **state)
{
	char *dir, *path, *got, *error = NULL;
	size_t len;
	mode_t mode;
	FILE *fp;

	dir = make_dir();
	if (asprintf(&path, "%s/taken", dir) < 0)
		fail();
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("old", fp);
	fclose(fp);
	errno = 0;
	assert_int_equal(queue_write_file(path, "new!", 4, &error), -1);
	if (errno != EEXIST)
		fail_msg("got errno %d, want EEXIST", errno);
	assert_non_null(strstr(error, "open("));
	free(error);
	got = read_whole(path, &len, &mode);
	if (len != 3 || memcmp(got, "old", 3) != 0)
		fail_msg("got %zu bytes \"%.*s\", want \"old\"", len,
		    (int)len, got);
	free(got);
	free(path);
	remove_dir(dir);
}

/* a_failed_write_file_leaves_no_file_and_names_the_call */
static void
a_failed_write_file_leaves_no_file_and_names_the_call(void **state)
{
	struct rlimit rl, small;
	char buf[100], *dir, *path, *error = NULL;
	int saved;

	dir = make_dir();
	if (asprintf(&path, "%s/big", dir) < 0)
		fail();
	memset(buf, 'x', sizeof(buf));
	/* past RLIMIT_FSIZE a write fails with EFBIG (SIGXFSZ ignored): a
	 * real failure half-way through, after a short write */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	small = rl;
	small.rlim_cur = 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	errno = 0;
	assert_int_equal(queue_write_file(path, buf, sizeof(buf), &error),
	    -1);
	saved = errno;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	signal(SIGXFSZ, SIG_DFL);
	if (saved != EFBIG)
		fail_msg("got errno %d, want EFBIG", saved);
	if (strncmp(error, "write(", 6) != 0)
		fail_msg("got \"%s\", want \"write(...\"", error);
	free(error);
	assert_int_equal(count_files(dir), 0);

	/* no such directory: open fails, ENOENT */
	free(path);
	if (asprintf(&path, "%s/none/f", dir) < 0)
		fail();
	assert_int_equal(queue_write_file(path, buf, 1, &error), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(error, "open("));
	free(error);
	free(path);
	remove_dir(dir);
}

/* fsync_dir_takes_directories_and_refuses_the_rest */
static void
fsync_dir_takes_directories_and_refuses_the_rest(void **state)
{
	static const struct {
		const char	*sub;	/* below the test dir; NULL: itself */
		int		 want, want_errno;
	} cases[] = {
		{ NULL, 0, 0 },
		{ "file", -1, ENOTDIR },
		{ "missing", -1, ENOENT },
	};
	char *dir, *path;
	size_t i;
	int got;
	FILE *fp;

	dir = make_dir();
	if (asprintf(&path, "%s/file", dir) < 0)
		fail();
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	free(path);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].sub == NULL)
			path = strdup(dir);
		else if (asprintf(&path, "%s/%s", dir, cases[i].sub) < 0)
			fail();
		errno = 0;
		got = queue_fsync_dir(path);
		if (got != cases[i].want || (got < 0 &&
		    errno != cases[i].want_errno))
			fail_msg("%s: got %d (errno %d), want %d (errno %d)",
			    path, got, errno, cases[i].want,
			    cases[i].want_errno);
		free(path);
	}
	remove_dir(dir);
}

/* the_shared_file_calls_ignore_queue_set_io */
static void
the_shared_file_calls_ignore_queue_set_io(void **state)
{
	static const struct queue_io fake = { fake_write, fake_fsync,
	    fake_rename };
	char *dir, *path, *error = NULL;

	dir = make_dir();
	if (asprintf(&path, "%s/f", dir) < 0)
		fail();
	write_budget = 0;
	fsync_fails = 1;
	queue_set_io(&fake);
	if (queue_write_file(path, "abc", 3, &error) < 0)
		fail_msg("write_file: got -1 (%s), want 0", error);
	assert_int_equal(queue_fsync_dir(dir), 0);
	queue_set_io(NULL);
	write_budget = SIZE_MAX;
	fsync_fails = 0;
	free(path);
	remove_dir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    an_envelope_survives_serialise_and_parse_unchanged),
		cmocka_unit_test(
		    the_file_starts_with_magic_and_version_and_ends_with_a_crc),
		cmocka_unit_test(every_truncation_is_refused),
		cmocka_unit_test(every_byte_changed_to_every_value_is_refused),
		cmocka_unit_test(
		    trailing_garbage_after_the_end_record_is_refused),
		cmocka_unit_test(damage_behind_a_valid_crc_is_still_refused),
		cmocka_unit_test(invalid_envelopes_are_not_serialised),
		cmocka_unit_test(
		    a_string_at_the_maximum_is_kept_and_one_more_is_refused),
		cmocka_unit_test(ids_must_be_safe_file_names),
		cmocka_unit_test(
		    write_then_read_round_trips_and_rewrites_in_place),
		cmocka_unit_test(
		    a_failed_write_leaves_the_old_envelope_intact),
		cmocka_unit_test(read_refuses_missing_and_damaged_files),
		cmocka_unit_test(
		    write_file_writes_every_byte_into_a_new_file_of_mode_0600),
		cmocka_unit_test(
		    write_file_never_replaces_a_file_and_says_so_with_eexist),
		cmocka_unit_test(
		    a_failed_write_file_leaves_no_file_and_names_the_call),
		cmocka_unit_test(
		    fsync_dir_takes_directories_and_refuses_the_rest),
		cmocka_unit_test(the_shared_file_calls_ignore_queue_set_io),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
