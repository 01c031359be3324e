/*
 * store_maildir - Maildir files: unique names, flags in names, durable writes
 *
 * Everything here is about single files and directories, never about the
 * index.  A message file is written to tmp/, fsynced and closed, then made
 * visible by link() or rename(); the directory that received it is fsynced
 * before the caller may report success.  Concurrent callers that need the
 * same directory fsynced share one fsync (group commit): a caller that
 * registers after its link() waits until an fsync that started after its
 * registration has finished, so nobody is acknowledged early and sixteen
 * deliveries into one new/ cost about one directory fsync, not sixteen.
 *
 * File names follow the Maildir specification: "<sec>.M<usec>P<pid>Q<n>.
 * <host>,S=<size>" in new/, plus ":2,<flags>" in cur/.  Flags are the
 * standard letters D F P R S T in ASCII order.  Names in other formats are
 * accepted as they are.
 */
#ifndef BASTIDE_STORE_MAILDIR_H
#define BASTIDE_STORE_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* message flags, as kept in the index and in file names */
#define STORE_FLAG_SEEN		0x01	/* S */
#define STORE_FLAG_ANSWERED	0x02	/* R */
#define STORE_FLAG_FLAGGED	0x04	/* F */
#define STORE_FLAG_DELETED	0x08	/* T */
#define STORE_FLAG_DRAFT	0x10	/* D */
#define STORE_FLAG_PASSED	0x20	/* P: no IMAP flag, kept for others */
#define STORE_FLAGS_ALL		0x3f

/* the host part of unique names; called once at start (thread-unsafe) */
void	 store_maildir_set_host(const char *host);
/* a new unique base name for a message of size bytes */
char	*store_maildir_unique(uint64_t size);

/* length of the base name part of a file name (up to ":") */
size_t	 store_maildir_base_len(const char *fname);
/* the flags in a file name's ":2," info; 0 if it has none */
unsigned int store_maildir_flags(const char *fname);
/* "base:2,FS" */
char	*store_maildir_fname(const char *base, size_t base_len,
	    unsigned int flags);
/* the size in ",S=<n>"; -1 if the name does not say */
int	 store_maildir_name_size(const char *fname, uint64_t *size_r);
/* when the message arrived, from the name (sec.M<usec>); -1 if foreign */
int	 store_maildir_name_time(const char *fname, int64_t *usec_r);

/* create dir and its cur/ new/ tmp/ (and parents), durably */
int	 store_maildir_create(const char *dir, const char **error_r);
/* mkdir -p with fsync of each parent that got a new entry */
int	 store_maildir_mkdirs(const char *dir, const char **error_r);

/* write data to a new file (O_EXCL) and fsync it; mtime if not 0 */
int	 store_maildir_write(const char *path, const void *data, size_t len,
	    time_t mtime, const char **error_r);
/* make a directory's entries durable, sharing fsyncs across threads */
int	 store_maildir_dirsync(const char *dir, const char **error_r);
/*
 * A message file with no name yet (O_TMPFILE in dir), written and
 * fsynced: *fd_r is open until the caller closes it.  Returns 0, 1 when
 * the file system cannot do it (use a named file in tmp/ instead), or -1.
 */
int	 store_maildir_write_anon(const char *dir, const void *data,
	    size_t len, int *fd_r, const char **error_r);
/* give the anonymous file fd the name path; -1 with errno like link() */
int	 store_maildir_link_anon(int fd, const char *path);
/* read a whole file; -1 with errno set */
int	 store_maildir_read(const char *path, char **data_r, size_t *len_r);

/* test hook: fsync replacement (NULL: the real fsync) */
extern int (*store_maildir_fsync_hook)(int fd);

#endif
