/*
 * store_bench.c - timings of the mail store on this machine's disk
 *
 *   bastide-store-bench [-n MESSAGES] [-m DELIVERIES] [-t THREADS]
 *       [-s SEED] [-d DIR] [-k]
 *
 * Generates a Maildir of MESSAGES realistic messages (seeded; 2-200 KB,
 * about a third multipart with a base64 attachment), then reports: time to
 * read every file once, first open (index built from nothing), second open,
 * STATUS, a flag change on 10,000 messages, delivery of DELIVERIES 4 KB
 * messages from THREADS threads, and the disk's own limit for the same
 * work measured in the same run (write 4 KB + fsync + rename + directory
 * fsync, in a loop, THREADS threads).  -k keeps DIR afterwards.
 *
 * Caches are warm (dropping them would disturb other users of the
 * machine), so "read every file" is the page-cache limit, not the disk's.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "xmalloc.h"

static uint64_t rng_state;

/* rng - xorshift64*, seeded, so runs are comparable */
static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* now - seconds, monotonic */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const words[] = {
	"meeting", "report", "budget", "the", "and", "project", "review",
	"Thursday", "invoice", "draft", "please", "attached", "schedule",
	"team", "quarter", "update", "lunch", "server", "release", "notes",
};

/* text - n bytes of wrapped words */
static void
text(FILE *fp, size_t n)
{
	size_t col = 0, done = 0;
	const char *w;

	while (done < n) {
		w = words[rng() % (sizeof(words) / sizeof(*words))];
		col += fprintf(fp, "%s ", w);
		done += strlen(w) + 1;
		if (col > 70) {
			fputs("\r\n", fp);
			done += 2;
			col = 0;
		}
	}
	fputs("\r\n", fp);
}

/* gen_message - one message of about size bytes into fp */
static void
gen_message(FILE *fp, size_t i, size_t size)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t j, k;

	fprintf(fp, "Return-Path: <user%zu@example.org>\r\n"
	    "Date: Mon, %zu Nov 2025 10:%02zu:00 +0100\r\n"
	    "From: User %zu <user%zu@example.org>\r\n"
	    "To: bench@example.test\r\n"
	    "Subject: %s %s %zu\r\n"
	    "Message-ID: <%zu.bench@example.org>\r\n"
	    "MIME-Version: 1.0\r\n", i % 50, 1 + i % 28, i % 60, i % 50,
	    i % 50, words[i % 20], words[(i / 20) % 20], i, i);
	if (rng() % 3 != 0) {
		fputs("Content-Type: text/plain; charset=utf-8\r\n\r\n", fp);
		text(fp, size);
		return;
	}
	fputs("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
	    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", fp);
	text(fp, size / 8);
	fprintf(fp, "--b1\r\nContent-Type: application/pdf; name=\"f%zu.pdf\""
	    "\r\nContent-Disposition: attachment; filename=\"f%zu.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", i, i);
	for (j = 0; j < size * 7 / 8; j += 78) {
		for (k = 0; k < 76; k++)
			fputc(b64[rng() % 64], fp);
		fputs("\r\n", fp);
	}
	fputs("--b1--\r\n", fp);
}

/* generate - n messages straight into a Maildir's cur/, as another
 * program (or a migration) would leave them */
static void
generate(const char *maildir, size_t n)
{
	char *path, *tmpname;
	struct stat sb;
	size_t i, size;
	double r;
	FILE *fp;

	for (i = 0; i < n; i++) {
		/* between 2 KB and 200 KB, mostly small (cubed uniform) */
		r = (double)(rng() % 1000000) / 1000000.0;
		size = (size_t)(2048.0 * (1.0 + 99.0 * r * r * r));
		tmpname = xasprintf("%s/tmp/gen%zu", maildir, i);
		if ((fp = fopen(tmpname, "w")) == NULL) {
			perror(tmpname);
			exit(1);
		}
		gen_message(fp, i, size);
		fclose(fp);
		stat(tmpname, &sb);
		path = xasprintf("%s/cur/%zu.M%06zuP1Q%zu.gen,S=%lld:2,%s",
		    maildir, (size_t)1700000000 + i, i % 1000000, i,
		    (long long)sb.st_size, i % 3 ? "S" : "");
		if (rename(tmpname, path) < 0) {
			perror(path);
			exit(1);
		}
		free(path);
		free(tmpname);
	}
}

/* read_all - read every file of cur/ once; bytes read */
static uint64_t
read_all(const char *maildir)
{
	static char buf[1 << 16];
	struct dirent *de;
	uint64_t total = 0;
	char *cur, *path;
	ssize_t r;
	DIR *d;
	int fd;

	cur = xasprintf("%s/cur", maildir);
	d = opendir(cur);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", cur, de->d_name);
		if ((fd = open(path, O_RDONLY)) >= 0) {
			while ((r = read(fd, buf, sizeof(buf))) > 0)
				total += (uint64_t)r;
			close(fd);
		}
		free(path);
	}
	if (d != NULL)
		closedir(d);
	free(cur);
	return total;
}

struct deliver_job {
	struct store	*st;
	const char	*dir;		/* raw: the directory */
	size_t		 count;
	int		 id;
	int		 round;
};

static int bench_round;

static char msg4k[4096];

/* deliver_thread - count deliveries of 4 KB */
static void *
deliver_thread(void *arg)
{
	struct deliver_job *j = arg;
	struct store_rcpt rc;
	size_t i;

	for (i = 0; i < j->count; i++) {
		memset(&rc, 0, sizeof(rc));
		rc.user = "rcpt@example.test";
		if (store_deliver(j->st, msg4k, sizeof(msg4k), &rc, 1) < 0) {
			fprintf(stderr, "deliver: %s\n", rc.error);
			exit(1);
		}
	}
	return NULL;
}

/* raw_thread - the disk's limit: write, fsync, rename, fsync(dir) */
static void *
raw_thread(void *arg)
{
	struct deliver_job *j = arg;
	char tmp[512], dst[512];
	size_t i;
	int fd, dfd;

	for (i = 0; i < j->count; i++) {
		snprintf(tmp, sizeof(tmp), "%s/tmp/raw.%d.%d.%zu", j->dir,
		    j->round, j->id, i);
		snprintf(dst, sizeof(dst), "%s/new/raw.%d.%d.%zu", j->dir,
		    j->round, j->id, i);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0 || write(fd, msg4k, sizeof(msg4k)) !=
		    sizeof(msg4k) || fsync(fd) < 0 || close(fd) < 0 ||
		    rename(tmp, dst) < 0) {
			perror(tmp);
			exit(1);
		}
		snprintf(tmp, sizeof(tmp), "%s/new", j->dir);
		if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY)) < 0 ||
		    fsync(dfd) < 0) {
			perror(tmp);
			exit(1);
		}
		close(dfd);
	}
	return NULL;
}

/* run_threads - n threads of fn, count jobs in total; seconds taken */
static double
run_threads(void *(*fn)(void *), struct store *st, const char *dir,
    int n, size_t count)
{
	struct deliver_job *jobs = xcalloc((size_t)n, sizeof(*jobs));
	pthread_t *th = xcalloc((size_t)n, sizeof(*th));
	double t0;
	int i;

	t0 = now();
	for (i = 0; i < n; i++) {
		jobs[i].st = st;
		jobs[i].dir = dir;
		jobs[i].id = i;
		jobs[i].round = bench_round;
		jobs[i].count = count / (size_t)n + ((size_t)i < count %
		    (size_t)n);
		pthread_create(&th[i], NULL, fn, &jobs[i]);
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	t0 = now() - t0;
	bench_round++;
	free(jobs);
	free(th);
	return t0;
}

/* rm_rf - remove the bench directory */
static void
rm_rf(const char *path)
{
	struct dirent *de;
	struct stat sb;
	char *sub;
	DIR *d;

	if (lstat(path, &sb) < 0)
		return;
	if (S_ISDIR(sb.st_mode) && (d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			sub = xasprintf("%s/%s", path, de->d_name);
			rm_rf(sub);
			free(sub);
		}
		closedir(d);
		rmdir(path);
	} else
		unlink(path);
}

/* open_inbox - user and INBOX, timing both; exits on failure */
static double
open_inbox(struct store *st, struct store_user **u, struct store_mailbox **mb)
{
	const char *error;
	double t0 = now();

	if (store_user_open(st, "bench@example.test", u, &error) < 0 ||
	    store_mailbox_open(*u, "INBOX", mb, &error) < 0) {
		fprintf(stderr, "open: %s\n", error);
		exit(1);
	}
	return now() - t0;
}

/* main - generate, then time each step and print a report */
int
main(int argc, char **argv)
{
	struct store_settings set;
	struct store_status s;
	struct store_user *u;
	struct store_mailbox *mb;
	struct store *st;
	const char *error;
	char dirbuf[] = "/tmp/bastide-store-bench.XXXXXX";
	char *dir = NULL, *maildir, *rawdir;
	size_t n = 2000, m = 2000, i, nflags;
	uint32_t *uids;
	uint64_t bytes;
	double t_read, t_first, t_second, t_status, t_flags, t_deliv, t_raw;
	double t0;
	int threads = 16, keep = 0, ch;

	rng_state = 20261123;
	while ((ch = getopt(argc, argv, "n:m:t:s:d:k")) != -1) {
		switch (ch) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			m = strtoul(optarg, NULL, 10);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 10) | 1;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'k':
			keep = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-n messages] "
			    "[-m deliveries] [-t threads] [-s seed] [-d dir] "
			    "[-k]\n", argv[0]);
			return 2;
		}
	}
	if (threads < 1 || n < 1)
		return 2;
	log_init("store-bench", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	if (dir == NULL && (dir = mkdtemp(dirbuf)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	memset(&set, 0, sizeof(set));
	set.root = dir;
	set.map_size = 8ULL << 30;
	set.idle_close_ms = 0;
	memset(msg4k, 'x', sizeof(msg4k));
	memcpy(msg4k, "From: a@example.org\r\nSubject: 4k\r\n\r\n", 37);

	maildir = xasprintf("%s/example.test/bench/Maildir", dir);
	{
		const char *subs[] = { "", "/example.test",
		    "/example.test/bench",
		    "/example.test/bench/Maildir",
		    "/example.test/bench/Maildir/cur",
		    "/example.test/bench/Maildir/new",
		    "/example.test/bench/Maildir/tmp" };
		for (i = 0; i < sizeof(subs) / sizeof(*subs); i++) {
			char *p = xasprintf("%s%s", dir, subs[i]);
			mkdir(p, 0700);
			free(p);
		}
	}
	{
		/* -d with a generated Maildir: reuse it, drop its index */
		char *cur = xasprintf("%s/cur", maildir);
		char *idx = xasprintf("%s/example.test/bench/index.lmdb", dir);
		char *other = xasprintf("%s/example.test/rcpt", dir);
		char *raw = xasprintf("%s/raw", dir);
		struct stat sb;
		int have = 0;
		DIR *d = opendir(cur);
		struct dirent *de;

		while (d != NULL && !have && (de = readdir(d)) != NULL)
			have = de->d_name[0] != '.';
		if (d != NULL)
			closedir(d);
		rm_rf(idx);
		rm_rf(other);
		rm_rf(raw);
		if (have) {
			/* fresh flags and names, as generated */
			printf("reusing the Maildir in %s\n", dir);
			n = 0;
			d = opendir(cur);
			while (d != NULL && (de = readdir(d)) != NULL)
				n += de->d_name[0] != '.';
			if (d != NULL)
				closedir(d);
		} else {
			t0 = now();
			generate(maildir, n);
			printf("generate            %8.2f s\n", now() - t0);
		}
		(void)sb;
		free(cur);
		free(idx);
		free(other);
		free(raw);
	}
	printf("store bench in %s: %zu messages, %zu deliveries, %d threads\n",
	    dir, n, m, threads);
	/* the sync trusts directory mtimes only once they are a second old:
	 * a Maildir being opened is normally older than that */
	usleep(1200000);

	t0 = now();
	bytes = read_all(maildir);
	t_read = now() - t0;
	printf("read every file     %8.3f s  (%.1f MB, warm cache)\n", t_read,
	    bytes / 1e6);

	st = store_new(&set);
	t_first = open_inbox(st, &u, &mb);
	store_mailbox_close(&mb);
	store_user_close(&u);
	store_free(&st);
	printf("first open          %8.3f s  (%.2f x read time; aim <= 2)\n",
	    t_first, t_first / t_read);

	st = store_new(&set);
	t_second = open_inbox(st, &u, &mb);
	printf("second open         %8.4f s  (1/%.0f of first; aim >= 50)\n",
	    t_second, t_first / t_second);

	t0 = now();
	for (i = 0; i < 1000; i++)
		if (store_mailbox_status(u, "INBOX", &s, &error) < 0) {
			fprintf(stderr, "status: %s\n", error);
			return 1;
		}
	t_status = (now() - t0) / 1000;
	printf("STATUS              %8.1f us (messages %u, unseen %u)\n",
	    t_status * 1e6, s.messages, s.unseen);

	nflags = n < 10000 ? n : 10000;
	uids = xcalloc(nflags, sizeof(*uids));
	for (i = 0; i < nflags; i++)
		uids[i] = (uint32_t)(i + 1);
	t0 = now();
	if (store_set_flags(mb, uids, nflags, STORE_FLAGS_ADD,
	    STORE_FLAG_FLAGGED, NULL, 0, NULL, NULL, &error) < 0) {
		fprintf(stderr, "flags: %s\n", error);
		return 1;
	}
	t_flags = now() - t0;
	/* put the files back as generated, for runs that reuse them */
	if (store_set_flags(mb, uids, nflags, STORE_FLAGS_REMOVE,
	    STORE_FLAG_FLAGGED, NULL, 0, NULL, NULL, &error) < 0) {
		fprintf(stderr, "flags: %s\n", error);
		return 1;
	}
	free(uids);
	printf("flag %5zu messages  %8.3f s\n", nflags, t_flags);
	store_mailbox_close(&mb);
	store_user_close(&u);

	/* the recipient exists before timing starts, as in real life */
	if (store_user_open(st, "rcpt@example.test", &u, &error) < 0) {
		fprintf(stderr, "rcpt: %s\n", error);
		return 1;
	}
	store_user_close(&u);
	rawdir = xasprintf("%s/raw", dir);
	mkdir(rawdir, 0700);
	{
		char *p = xasprintf("%s/tmp", rawdir);
		mkdir(p, 0700);
		free(p);
		p = xasprintf("%s/new", rawdir);
		mkdir(p, 0700);
		free(p);
	}
	/* interleaved rounds, so that load from other programs on the
	 * machine hits both measurements alike */
	t_deliv = t_raw = 0;
	for (i = 0; i < 4; i++) {
		t_deliv += run_threads(deliver_thread, st, NULL, threads,
		    m / 4 + (i < m % 4));
		t_raw += run_threads(raw_thread, NULL, rawdir, threads,
		    m / 4 + (i < m % 4));
	}
	printf("deliver %zu x 4 KB   %8.0f msg/s\n", m, m / t_deliv);
	printf("disk limit (raw)    %8.0f msg/s\n", m / t_raw);
	printf("delivery / limit    %8.0f %%   (aim >= 80)\n",
	    100.0 * t_raw / t_deliv);
	store_free(&st);
	free(rawdir);
	free(maildir);
	if (!keep)
		rm_rf(dir);
	return 0;
}
