/* store_maildir.c - Maildir files: names, flags, durable writes */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

#include "store_maildir.h"

int (*store_maildir_fsync_hook)(int fd);

static char store_host[256];
static uint64_t store_counter;

/* flag letters in ASCII order, as the Maildir specification wants */
static const struct {
	char		 letter;
	unsigned int	 flag;
} store_letters[] = {
	{ 'D', STORE_FLAG_DRAFT },
	{ 'F', STORE_FLAG_FLAGGED },
	{ 'P', STORE_FLAG_PASSED },
	{ 'R', STORE_FLAG_ANSWERED },
	{ 'S', STORE_FLAG_SEEN },
	{ 'T', STORE_FLAG_DELETED },
};

/* do_fsync - fsync, or the test hook */
static int
do_fsync(int fd)
{
	if (store_maildir_fsync_hook != NULL)
		return store_maildir_fsync_hook(fd);
	return fsync(fd);
}

/* store_maildir_set_host - host part of names, with / : , escaped */
void
store_maildir_set_host(const char *host)
{
	char name[256];
	struct buf b;
	const char *p;

	if (host == NULL || *host == '\0') {
		if (gethostname(name, sizeof(name)) < 0)
			strcpy(name, "localhost");
		name[sizeof(name) - 1] = '\0';
		host = name;
	}
	buf_init(&b, sizeof(store_host) - 1);
	for (p = host; *p != '\0'; p++) {
		if (*p == '/')
			buf_append_str(&b, "\\057");
		else if (*p == ':')
			buf_append_str(&b, "\\072");
		else if (*p == ',')
			buf_append_str(&b, "\\054");
		else if ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
			buf_append_byte(&b, (unsigned char)*p);
	}
	snprintf(store_host, sizeof(store_host), "%s",
	    b.len > 0 ? buf_cstr(&b) : "localhost");
	buf_deinit(&b);
}

/* store_maildir_unique - "<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>" */
char *
store_maildir_unique(uint64_t size)
{
	struct timespec ts;
	uint64_t n;

	if (store_host[0] == '\0')
		store_maildir_set_host(NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	n = __atomic_add_fetch(&store_counter, 1, __ATOMIC_RELAXED);
	return xasprintf("%lld.M%06ldP%ldQ%" PRIu64 ".%s,S=%" PRIu64,
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(), n,
	    store_host, size);
}

/* store_maildir_base_len - the base name ends at the first ':' */
size_t
store_maildir_base_len(const char *fname)
{
	const char *colon = strchr(fname, ':');

	return colon != NULL ? (size_t)(colon - fname) : strlen(fname);
}

/* store_maildir_flags - flags of ":2,<letters>"; unknown letters ignored */
unsigned int
store_maildir_flags(const char *fname)
{
	const char *info = strchr(fname, ':');
	unsigned int flags = 0;
	size_t i;

	if (info == NULL || strncmp(info, ":2,", 3) != 0)
		return 0;
	for (info += 3; *info != '\0'; info++)
		for (i = 0; i < sizeof(store_letters) /
		    sizeof(*store_letters); i++)
			if (*info == store_letters[i].letter)
				flags |= store_letters[i].flag;
	return flags;
}

/* store_maildir_fname - base plus ":2," and the flag letters */
char *
store_maildir_fname(const char *base, size_t base_len, unsigned int flags)
{
	char letters[8];
	size_t i, n = 0;

	for (i = 0; i < sizeof(store_letters) / sizeof(*store_letters); i++)
		if (flags & store_letters[i].flag)
			letters[n++] = store_letters[i].letter;
	letters[n] = '\0';
	return xasprintf("%.*s:2,%s", (int)base_len, base, letters);
}

/* store_maildir_name_size - the ",S=<n>" field of the base name */
int
store_maildir_name_size(const char *fname, uint64_t *size_r)
{
	size_t base_len = store_maildir_base_len(fname);
	const char *p;
	uint64_t v = 0;

	for (p = fname; (p = strstr(p, ",S=")) != NULL &&
	    (size_t)(p - fname) < base_len; p += 3) {
		const char *q = p + 3;

		if (*q < '0' || *q > '9')
			continue;
		for (v = 0; *q >= '0' && *q <= '9'; q++) {
			if (v > UINT64_MAX / 10 - 10)
				return -1;
			v = v * 10 + (uint64_t)(*q - '0');
		}
		if (*q != ',' && *q != ':' && *q != '\0')
			continue;
		*size_r = v;
		return 0;
	}
	return -1;
}

/* store_maildir_name_time - microseconds since the epoch from the name */
int
store_maildir_name_time(const char *fname, int64_t *usec_r)
{
	int64_t sec = 0, usec = 0;
	const char *p = fname;
	int n = 0;

	for (; *p >= '0' && *p <= '9' && n < 12; p++, n++)
		sec = sec * 10 + (*p - '0');
	if (n == 0 || *p != '.')
		return -1;
	p++;
	if (*p == 'M') {
		for (p++, n = 0; *p >= '0' && *p <= '9' && n < 7; p++, n++)
			usec = usec * 10 + (*p - '0');
		if (usec >= 1000000)
			usec = 0;
	}
	*usec_r = sec * 1000000 + usec;
	return 0;
}

/* fsync_path - open a directory and fsync it */
static int
fsync_path(const char *dir)
{
	int fd, r, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = do_fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* parent_of - the directory part of a path, or "." */
static char *
parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* store_maildir_mkdirs - mkdir -p; each new entry's parent is fsynced */
int
store_maildir_mkdirs(const char *dir, const char **error_r)
{
	struct stat st;
	char *parent;
	int r;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		*error_r = "not a directory";
		return -1;
	}
	parent = parent_of(dir);
	if (strcmp(parent, dir) != 0 && store_maildir_mkdirs(parent,
	    error_r) < 0) {
		free(parent);
		return -1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("mkdir(%s)", dir);
		*error_r = "cannot create directory";
		free(parent);
		return -1;
	}
	r = fsync_path(parent);
	if (r < 0) {
		log_warn("fsync(%s)", parent);
		*error_r = "cannot fsync directory";
	}
	free(parent);
	return r;
}

/* store_maildir_create - dir/{cur,new,tmp}, all durable */
int
store_maildir_create(const char *dir, const char **error_r)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char *path;
	size_t i;
	int r = 0, created = 0;

	if (store_maildir_mkdirs(dir, error_r) < 0)
		return -1;
	for (i = 0; i < 3 && r == 0; i++) {
		path = xasprintf("%s/%s", dir, subs[i]);
		if (mkdir(path, 0700) == 0)
			created = 1;
		else if (errno != EEXIST) {
			log_warn("mkdir(%s)", path);
			*error_r = "cannot create directory";
			r = -1;
		}
		free(path);
	}
	/* the common case, an existing Maildir, costs no fsync */
	if (r == 0 && created && fsync_path(dir) < 0) {
		log_warn("fsync(%s)", dir);
		*error_r = "cannot fsync directory";
		r = -1;
	}
	return r;
}

/* write_all - every byte to fd, retrying short writes */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * store_maildir_write_anon - an unnamed file in dir, written and fsynced.
 * Delivery links it straight into new/: one directory operation instead
 * of a create in tmp/ and a rename across directories, which takes the
 * file system's rename lock and both directories' locks, and under many
 * concurrent deliveries that lock is where the time went.  A crash
 * leaves nothing behind either: the kernel frees an unnamed file.
 */
int
store_maildir_write_anon(const char *dir, const void *data, size_t len,
    int *fd_r, const char **error_r)
{
	int fd;

	*fd_r = -1;
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
#else
	fd = -1;
	errno = EOPNOTSUPP;
#endif
	if (fd < 0) {
		if (errno == EOPNOTSUPP || errno == EISDIR ||
		    errno == EINVAL || errno == ENOTSUP)
			return 1;
		log_warn("open(%s, O_TMPFILE)", dir);
		*error_r = "cannot create message file";
		return -1;
	}
	if (write_all(fd, data, len) < 0) {
		log_warn("write(%s, O_TMPFILE)", dir);
		*error_r = "cannot write message file";
		close(fd);
		return -1;
	}
	if (do_fsync(fd) < 0) {
		log_warn("fsync(%s, O_TMPFILE)", dir);
		*error_r = "cannot fsync message file";
		close(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

/* store_maildir_link_anon - name an O_TMPFILE file */
int
store_maildir_link_anon(int fd, const char *path)
{
	char proc[64];

	/* through /proc needs no privilege; AT_EMPTY_PATH needs
	 * CAP_DAC_READ_SEARCH, for when /proc is not mounted */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH);
}

/* store_maildir_write - create path exclusively, write, fsync, close */
int
store_maildir_write(const char *path, const void *data, size_t len,
    time_t mtime, const char **error_r)
{
	const char *p = data;
	struct timespec times[2];
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("open(%s)", path);
		*error_r = "cannot create message file";
		return -1;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("write(%s)", path);
			*error_r = "cannot write message file";
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (mtime != 0) {
		times[0].tv_sec = times[1].tv_sec = mtime;
		times[0].tv_nsec = times[1].tv_nsec = 0;
		if (futimens(fd, times) < 0)
			log_warn("futimens(%s)", path);
	}
	if (do_fsync(fd) < 0) {
		log_warn("fsync(%s)", path);
		*error_r = "cannot fsync message file";
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		log_warn("close(%s)", path);
		*error_r = "cannot close message file";
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(path);
	return -1;
}

/*
 * Group commit of directory fsyncs.  Each directory being synced has an
 * entry with a ticket counter: a caller takes a ticket after its link(),
 * and waits until an fsync that began after the ticket was taken has
 * finished.  Whoever finds no fsync running runs one for every ticket
 * issued so far.  Entries live only while someone uses them.
 */
struct dirsync {
	struct dirsync	*next;
	char		*path;
	unsigned int	 refs;
	uint64_t	 issued, done, failed;
	int		 running;
	int		 error;
	pthread_cond_t	 cond;
};

static pthread_mutex_t dirsync_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dirsync *dirsync_list;

/* store_maildir_dirsync - fsync dir, sharing the work with other threads */
int
store_maildir_dirsync(const char *dir, const char **error_r)
{
	struct dirsync *ds, **pp;
	uint64_t ticket, target;
	int r, failed = 0, error = 0;

	pthread_mutex_lock(&dirsync_lock);
	for (ds = dirsync_list; ds != NULL; ds = ds->next)
		if (strcmp(ds->path, dir) == 0)
			break;
	if (ds == NULL) {
		ds = xcalloc(1, sizeof(*ds));
		ds->path = xstrdup(dir);
		pthread_cond_init(&ds->cond, NULL);
		ds->next = dirsync_list;
		dirsync_list = ds;
	}
	ds->refs++;
	ticket = ++ds->issued;
	while (ds->done < ticket) {
		if (ds->running) {
			pthread_cond_wait(&ds->cond, &dirsync_lock);
			continue;
		}
		ds->running = 1;
		target = ds->issued;
		pthread_mutex_unlock(&dirsync_lock);
		r = fsync_path(dir);
		error = errno;
		pthread_mutex_lock(&dirsync_lock);
		ds->running = 0;
		if (r < 0) {
			/* conservative: everyone waiting up to here fails */
			ds->failed = target;
			ds->error = error;
		}
		ds->done = target;
		pthread_cond_broadcast(&ds->cond);
	}
	if (ticket <= ds->failed) {
		failed = 1;
		error = ds->error;
	}
	if (--ds->refs == 0) {
		for (pp = &dirsync_list; *pp != ds; pp = &(*pp)->next)
			;
		*pp = ds->next;
		pthread_cond_destroy(&ds->cond);
		free(ds->path);
		free(ds);
	}
	pthread_mutex_unlock(&dirsync_lock);
	if (failed) {
		errno = error;
		log_warn("fsync(%s)", dir);
		*error_r = "cannot fsync directory";
		return -1;
	}
	return 0;
}

/* store_maildir_read - the whole file in memory (NUL-terminated) */
int
store_maildir_read(const char *path, char **data_r, size_t *len_r)
{
	struct stat st;
	size_t len = 0, cap;
	ssize_t n;
	char *data;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	cap = (size_t)st.st_size + 1;
	data = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			data = xreallocarray(data, cap + 1, 1);
		}
		n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			free(data);
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	data[len] = '\0';
	*data_r = data;
	*len_r = len;
	return 0;
}
