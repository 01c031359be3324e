/*
 * queue - the on-disk envelope of a queued message
 *
 * smtpd writes one envelope file per queued message and bastidectl reads
 * them, so the format lives here.  A queued message is two files in the
 * queue directory:
 *
 *     <id>.msg    the message, exactly as received (written first)
 *     <id>.env    this envelope: who, to whom, and each recipient's state
 *
 * The envelope is committed last: a message without an envelope is an
 * incomplete write and may be deleted; an envelope is only renamed into
 * place after the message file is fsynced.  An update (a delivery attempt)
 * rewrites the envelope durably under the same name.
 *
 * Format (all integers big-endian):
 *
 *     magic "BSTQ" | version u16 | reserved u16 (0)
 *     records: type u16 | length u32 | length bytes of value
 *     end record: type QUEUE_REC_END | length 4 | crc32 u32
 *
 * The CRC (zlib's crc32) covers every byte before it, the end record's
 * type and length included, and nothing may follow it, so a torn write, a
 * flipped bit or trailing garbage is always detected.  A recipient is one
 * record whose value is itself a sequence of records.  Unknown record types
 * are refused: a new field means a new version.
 */
#ifndef BASTIDE_QUEUE_H
#define BASTIDE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;

#define QUEUE_MAGIC		"BSTQ"
#define QUEUE_VERSION		1
#define QUEUE_ID_MAX		64	/* [A-Za-z0-9_-], a file name */
#define QUEUE_STR_MAX		4096	/* any one string field */
#define QUEUE_RCPTS_MAX		100000
#define QUEUE_ENV_MAX		(64 * 1024 * 1024)	/* a whole file */

enum queue_ret {
	QUEUE_RET_UNSET = 0,
	QUEUE_RET_FULL,
	QUEUE_RET_HDRS
};

enum queue_body {
	QUEUE_BODY_UNSET = 0,
	QUEUE_BODY_7BIT,
	QUEUE_BODY_8BITMIME,
	QUEUE_BODY_BINARYMIME
};

/* RFC 3461 NOTIFY; 0 means not given (the default applies) */
#define QUEUE_NOTIFY_NEVER	0x01
#define QUEUE_NOTIFY_SUCCESS	0x02
#define QUEUE_NOTIFY_FAILURE	0x04
#define QUEUE_NOTIFY_DELAY	0x08

enum queue_status {
	QUEUE_RCPT_PENDING = 0,
	QUEUE_RCPT_DELIVERED,
	QUEUE_RCPT_FAILED,
	QUEUE_RCPT_DEFERRED
};

struct queue_rcpt {
	char		*addr;		/* forward-path without <> */
	char		*orcpt;		/* "type;decoded" or NULL */
	unsigned int	 notify;
	enum queue_status status;
	uint32_t	 attempts;
	int64_t		 next_attempt;	/* unix seconds, 0 = now */
	char		*last_error;	/* last reply or NULL */
};

struct queue_env {
	char		*id;
	int64_t		 arrival;	/* unix seconds */
	char		*sender;	/* "" for the null sender <> */
	char		*envid;		/* decoded ENVID or NULL */
	enum queue_ret	 ret;
	enum queue_body	 body;
	bool		 smtputf8;
	char		*auth_user;	/* authenticated submitter or NULL */
	struct queue_rcpt *rcpts;
	size_t		 nrcpts;
};

struct queue_env *queue_env_new(const char *id, int64_t arrival,
	    const char *sender);
void	 queue_env_free(struct queue_env **env);
/* add a pending recipient; the env owns it, the pointer is valid until the
 * next add */
struct queue_rcpt *queue_env_add_rcpt(struct queue_env *env,
	    const char *addr);
/* set a string field, freeing the old value; NULL clears it */
void	 queue_set_str(char **field, const char *value);

/* true if id is a usable queue id (and so a safe file name) */
bool	 queue_id_valid(const char *id);
/* "<dir>/<id>.env" and "<dir>/<id>.msg", caller frees */
char	*queue_env_path(const char *dir, const char *id);
char	*queue_msg_path(const char *dir, const char *id);

/* append the serialised envelope to out; -1 if env is invalid or out full */
int	 queue_env_serialize(const struct queue_env *env, struct buf *out,
	    char **error_r);
/* parse a whole serialised envelope; -1 on any damage, never a crash */
int	 queue_env_parse(const void *data, size_t len,
	    struct queue_env **env_r, char **error_r);

/* write <dir>/<id>.env durably: tmp file, fsync, rename, fsync dir */
int	 queue_env_write(const char *dir, const struct queue_env *env,
	    char **error_r);
/* read and parse one envelope file */
int	 queue_env_read(const char *path, struct queue_env **env_r,
	    char **error_r);

/*
 * What smtpd and bastidectl both do to queue files.  These use the real
 * system calls, not queue_set_io()'s.
 */
/* make the renames, links and unlinks in dir durable: 0, or -1 (errno) */
int	 queue_fsync_dir(const char *dir);
/* create path (O_EXCL, mode 0600), write p[0..n) whole, fsync, close;
 * -1 with *error_r ("call(path): why") and errno: EEXIST only when path
 * was there already (it is left alone), else the file is removed */
int	 queue_write_file(const char *path, const void *p, size_t n,
	    char **error_r);

/*
 * The system calls queue_env_write() uses, replaceable so tests can make
 * a write fail at byte N or an fsync fail.  NULL restores the defaults.
 */
struct queue_io {
	ssize_t	(*write)(int fd, const void *p, size_t n);
	int	(*fsync)(int fd);
	int	(*rename)(const char *from, const char *to);
};
void	 queue_set_io(const struct queue_io *io);

#endif
