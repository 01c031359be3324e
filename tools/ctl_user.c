/* ctl_user.c - bastidectl user: look users up and test logins in LDAP */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "conf.h"
#include "directory.h"
#include "log.h"
#include "xmalloc.h"

#include "ctl.h"

/* longest line batch mode reads, password included */
#define CTL_USER_LINE_MAX	4096

/* ctl_user_usage - the synopsis, exit status 2 */
static int
ctl_user_usage(void)
{
	fprintf(stderr,
	    "usage: bastidectl user show ADDRESS|LOGIN\n"
	    "       bastidectl user resolve ADDRESS\n"
	    "       bastidectl user auth LOGIN      (password on stdin)\n"
	    "       bastidectl user batch           (commands on stdin)\n"
	    "       bastidectl user bench THREADS COUNT LOGIN  (password on "
	    "stdin)\n"
	    "exit: 0 found/ok, 1 not found/refused, 75 temporary failure\n");
	return 2;
}

/* ctl_user_tempfail - report a temporary failure, return EX_TEMPFAIL */
static int
ctl_user_tempfail(char *error)
{
	fprintf(stderr, "bastidectl: directory unavailable: %s\n",
	    error != NULL ? error : "unknown error");
	free(error);
	return EX_TEMPFAIL;
}

/* ctl_user_print - one user as name=value lines */
static void
ctl_user_print(const struct directory_user *u)
{
	size_t i;

	printf("uid=%s\n", u->uid);
	printf("dn=%s\n", u->dn);
	printf("cn=%s\n", u->cn);
	printf("mail=%s\n", u->mail != NULL ? u->mail : "");
	for (i = 0; i < u->naddresses; i++)
		printf("address=%s\n", u->addresses[i]);
	printf("mail_host=%s\n", u->mail_host != NULL ? u->mail_host : "");
	printf("routing_address=%s\n",
	    u->routing_address != NULL ? u->routing_address : "");
	printf("quota=%llu\n", (unsigned long long)u->quota);
	printf("status=%s\n", directory_account_status_name(u->status));
}

/* ctl_user_show - print a user found by login or address */
static int
ctl_user_show(struct directory *dir, const char *name)
{
	struct directory_user *u;
	char *error = NULL;
	int r;

	r = directory_user_lookup(dir, name, &u, &error);
	if (r < 0)
		return ctl_user_tempfail(error);
	if (r == 0) {
		fprintf(stderr, "bastidectl: %s: no such user\n", name);
		return 1;
	}
	ctl_user_print(u);
	directory_user_free(&u);
	return 0;
}

/* ctl_user_resolve - print what mail to an address becomes */
static int
ctl_user_resolve(struct directory *dir, const char *address)
{
	struct directory_resolution *res;
	char *error = NULL;
	size_t i;
	int r;

	r = directory_resolve(dir, address, &res, &error);
	if (r < 0)
		return ctl_user_tempfail(error);
	if (r == 0) {
		fprintf(stderr, "bastidectl: %s: no such address\n", address);
		return 1;
	}
	printf("kind=%s\n", directory_kind_name(res->kind));
	if (res->user != NULL) {
		printf("uid=%s\n", res->user->uid);
		printf("dn=%s\n", res->user->dn);
		printf("status=%s\n",
		    directory_account_status_name(res->user->status));
	}
	if (res->group_dn != NULL)
		printf("dn=%s\n", res->group_dn);
	for (i = 0; i < res->nrecipients; i++)
		printf("recipient=%s\n", res->recipients[i]);
	directory_resolution_free(&res);
	return 0;
}

/* ctl_user_auth - bind as login with password; the password is wiped by
 * the caller */
static int
ctl_user_auth(struct directory *dir, const char *login, const char *password)
{
	enum directory_auth_result r;
	char *error = NULL;

	r = directory_auth(dir, login, password, NULL, &error);
	switch (r) {
	case DIRECTORY_AUTH_OK:
		printf("auth=ok\n");
		free(error);
		return 0;
	case DIRECTORY_AUTH_TEMPFAIL:
		printf("auth=tempfail\n");
		return ctl_user_tempfail(error);
	case DIRECTORY_AUTH_REFUSED:
	case DIRECTORY_AUTH_INACTIVE:
		break;
	}
	printf("auth=%s\n", directory_auth_result_name(r));
	fprintf(stderr, "bastidectl: %s: refused (%s)\n", login,
	    error != NULL ? error : "?");
	free(error);
	return 1;
}

/* ctl_user_read_line - one line from fp without its end; -1 at EOF or if
 * longer than the buffer */
static int
ctl_user_read_line(FILE *fp, char *buf, size_t size)
{
	size_t n;

	if (fgets(buf, (int)size, fp) == NULL)
		return -1;
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == size - 1) {
		wipe(buf, size);
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * ctl_user_batch - run commands from stdin in one process, so that the
 * cache can be watched at work (the tests use it):
 *   show NAME | resolve ADDRESS | auth LOGIN PASSWORD | clear
 * each answered by its usual output and a line "exit=N".
 */
static int
ctl_user_batch(struct directory *dir)
{
	char line[CTL_USER_LINE_MAX], *arg, *pw;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (ctl_user_read_line(stdin, line, sizeof(line)) == 0) {
		if ((arg = strchr(line, ' ')) != NULL)
			*arg++ = '\0';
		if (strcmp(line, "show") == 0 && arg != NULL)
			r = ctl_user_show(dir, arg);
		else if (strcmp(line, "resolve") == 0 && arg != NULL)
			r = ctl_user_resolve(dir, arg);
		else if (strcmp(line, "auth") == 0 && arg != NULL &&
		    (pw = strchr(arg, ' ')) != NULL) {
			*pw++ = '\0';
			r = ctl_user_auth(dir, arg, pw);
		} else if (strcmp(line, "clear") == 0) {
			directory_cache_clear(dir);
			r = 0;
		} else {
			fprintf(stderr, "bastidectl: batch: unknown command "
			    "\"%s\"\n", line);
			r = 2;
		}
		wipe(line, sizeof(line));
		printf("exit=%d\n", r);
		fflush(stderr);
	}
	return 0;
}

struct ctl_user_bench {
	pthread_t		 thread;
	struct directory	*dir;
	const char		*login;
	const char		*password;
	char			*wrong;
	unsigned long		 count;
	unsigned long		 ok, failed, tempfail;
};

/* ctl_user_bench_thread - lookups, right and wrong binds, in a loop */
static void *
ctl_user_bench_thread(void *arg)
{
	struct ctl_user_bench *b = arg;
	struct directory_user *u;
	enum directory_auth_result a;
	char *error;
	unsigned long i;
	int r;

	for (i = 0; i < b->count; i++) {
		error = NULL;
		r = directory_user_lookup(b->dir, b->login, &u, &error);
		directory_user_free(&u);
		free(error);
		if (r < 0)
			b->tempfail++;
		else if (r == 0)
			b->failed++;
		else
			b->ok++;
		a = directory_auth(b->dir, b->login,
		    i % 2 == 0 ? b->password : b->wrong, NULL, NULL);
		if (a == DIRECTORY_AUTH_TEMPFAIL)
			b->tempfail++;
		else if (a == (i % 2 == 0 ? DIRECTORY_AUTH_OK :
		    DIRECTORY_AUTH_REFUSED))
			b->ok++;
		else
			b->failed++;
	}
	return NULL;
}

/*
 * ctl_user_bench - THREADS threads each look LOGIN up and bind as it
 * COUNT times, alternating right and wrong passwords, through one shared
 * directory client: a load test of the pool and of the rebinds after a
 * user bind.  Set cache_ttl = 0 to measure LDAP rather than the cache.
 */
static int
ctl_user_bench(struct directory *dir, const char *threads, const char *count,
    const char *login, const char *password)
{
	struct ctl_user_bench *b;
	struct timespec t0, t1;
	unsigned long nthreads, n, i, ok = 0, failed = 0, tempfail = 0;
	char *end;

	nthreads = strtoul(threads, &end, 10);
	if (*end != '\0' || nthreads < 1 || nthreads > 256)
		return ctl_user_usage();
	n = strtoul(count, &end, 10);
	if (*end != '\0' || n < 1 || n > 1000000)
		return ctl_user_usage();
	b = xcalloc(nthreads, sizeof(*b));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nthreads; i++) {
		b[i].dir = dir;
		b[i].login = login;
		b[i].password = password;
		b[i].wrong = xasprintf("%s-wrong", password);
		b[i].count = n;
		if (pthread_create(&b[i].thread, NULL, ctl_user_bench_thread,
		    &b[i]) != 0)
			fatalx("pthread_create failed");
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(b[i].thread, NULL);
		ok += b[i].ok;
		failed += b[i].failed;
		tempfail += b[i].tempfail;
		wipe(b[i].wrong, strlen(b[i].wrong));
		free(b[i].wrong);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(b);
	printf("ok=%lu\nfailed=%lu\ntempfail=%lu\nelapsed_ms=%lld\n", ok,
	    failed, tempfail, (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	if (tempfail > 0)
		return EX_TEMPFAIL;
	return failed > 0 ? 1 : 0;
}

/* ctl_user - bastidectl user show|resolve|auth|batch|bench */
int
ctl_user(int argc, char **argv, struct conf *conf)
{
	struct directory *dir;
	char line[CTL_USER_LINE_MAX];
	char *error;
	int r;

	if (argc < 1)
		return ctl_user_usage();
	if (!((strcmp(argv[0], "show") == 0 && argc == 2) ||
	    (strcmp(argv[0], "resolve") == 0 && argc == 2) ||
	    (strcmp(argv[0], "auth") == 0 && argc == 2) ||
	    (strcmp(argv[0], "batch") == 0 && argc == 1) ||
	    (strcmp(argv[0], "bench") == 0 && argc == 4)))
		return ctl_user_usage();
	/* a server closing the connection must not kill us mid-write */
	signal(SIGPIPE, SIG_IGN);
	if (directory_new(conf, &dir, &error) < 0) {
		fprintf(stderr, "bastidectl: %s\n", error);
		free(error);
		return 1;
	}
	if (strcmp(argv[0], "show") == 0)
		r = ctl_user_show(dir, argv[1]);
	else if (strcmp(argv[0], "resolve") == 0)
		r = ctl_user_resolve(dir, argv[1]);
	else if (strcmp(argv[0], "batch") == 0)
		r = ctl_user_batch(dir);
	else {
		if (ctl_user_read_line(stdin, line, sizeof(line)) < 0) {
			fprintf(stderr, "bastidectl: no password on stdin\n");
			r = 1;
		} else if (strcmp(argv[0], "bench") == 0)
			r = ctl_user_bench(dir, argv[1], argv[2], argv[3],
			    line);
		else
			r = ctl_user_auth(dir, argv[1], line);
		wipe(line, sizeof(line));
	}
	directory_free(&dir);
	return r;
}
