/*
 * mkqueue.c - write one queued message (<id>.msg and <id>.env) for tests
 *
 * Not a product: tests/integration/test_queue_ctl.py makes queue
 * directories with it, so bastidectl queue is tested against envelopes
 * written by common/queue.c itself rather than by a copy of the format
 * in Python.
 *
 *     mkqueue [-a ARRIVAL] [-s SIZE] [-n] DIR ID SENDER [RCPT ...]
 *
 * ARRIVAL is unix seconds (default 1764000000), SIZE the bytes of the
 * .msg (default a three-line message), -n writes no .msg at all.  A RCPT
 * is "addr" (pending, never tried) or "addr|state|attempts|next|error"
 * with state pending, deferred, delivered or failed, next in unix
 * seconds and an optional last error (the rest of the argument).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "str.h"
#include "xmalloc.h"

/* usage - how to call it */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: mkqueue [-a ARRIVAL] [-s SIZE] [-n] DIR ID "
	    "SENDER [addr|state|attempts|next|error ...]\n");
	exit(64);
}

/* parse_state - a state word as in bastidectl queue list */
static enum queue_status
parse_state(const char *s)
{
	if (strcmp(s, "pending") == 0)
		return QUEUE_RCPT_PENDING;
	if (strcmp(s, "deferred") == 0)
		return QUEUE_RCPT_DEFERRED;
	if (strcmp(s, "delivered") == 0)
		return QUEUE_RCPT_DELIVERED;
	if (strcmp(s, "failed") == 0)
		return QUEUE_RCPT_FAILED;
	usage();
}

/* add_rcpt - one recipient argument */
static void
add_rcpt(struct queue_env *env, const char *arg)
{
	struct queue_rcpt *r;
	char *copy, *f[5];
	uint64_t n;
	size_t i;

	copy = xstrdup(arg);
	f[0] = copy;
	for (i = 1; i < 5; i++) {
		f[i] = f[i - 1] == NULL ? NULL : strchr(f[i - 1], '|');
		if (f[i] != NULL)
			*f[i]++ = '\0';
	}
	r = queue_env_add_rcpt(env, f[0]);
	if (f[1] != NULL)
		r->status = parse_state(f[1]);
	if (f[2] != NULL) {
		if (str_to_u64(f[2], 0, UINT32_MAX, &n) < 0)
			usage();
		r->attempts = (uint32_t)n;
	}
	if (f[3] != NULL) {
		if (str_to_u64(f[3], 0, INT64_MAX, &n) < 0)
			usage();
		r->next_attempt = (int64_t)n;
	}
	if (f[4] != NULL && f[4][0] != '\0')
		queue_set_str(&r->last_error, f[4]);
	free(copy);
}

/* write_msg - the message file, size bytes of header and body */
static void
write_msg(const char *dir, const char *id, long size)
{
	static const char text[] = "From: a@example.test\r\n"
	    "Subject: queued\r\n\r\nbody\r\n";
	char *path;
	long i;
	FILE *fp;

	path = queue_msg_path(dir, id);
	fp = fopen(path, "wx");
	if (fp == NULL) {
		fprintf(stderr, "mkqueue: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (size < 0)
		fputs(text, fp);
	else
		for (i = 0; i < size; i++)
			fputc(i < (long)sizeof(text) - 1 ? text[i] : 'x', fp);
	if (fclose(fp) != 0) {
		fprintf(stderr, "mkqueue: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	free(path);
}

/* main - write the message, then its envelope, as smtpd would */
int
main(int argc, char **argv)
{
	struct queue_env *env;
	int64_t arrival = 1764000000;
	long size = -1;
	bool no_msg = false;
	uint64_t n;
	char *error;
	int ch, i;

	while ((ch = getopt(argc, argv, "a:s:n")) != -1) {
		switch (ch) {
		case 'a':
			if (str_to_u64(optarg, 0, INT64_MAX, &n) < 0)
				usage();
			arrival = (int64_t)n;
			break;
		case 's':
			if (str_to_u64(optarg, 0, 1 << 30, &n) < 0)
				usage();
			size = (long)n;
			break;
		case 'n':
			no_msg = true;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || !queue_id_valid(argv[1]))
		usage();
	env = queue_env_new(argv[1], arrival, argv[2]);
	for (i = 3; i < argc; i++)
		add_rcpt(env, argv[i]);
	if (!no_msg)
		write_msg(argv[0], argv[1], size);
	if (queue_env_write(argv[0], env, &error) < 0) {
		fprintf(stderr, "mkqueue: %s\n", error);
		free(error);
		queue_env_free(&env);
		return 1;
	}
	queue_env_free(&env);
	return 0;
}
