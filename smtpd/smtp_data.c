/* smtp_data.c - DATA/BDAT body accumulation, dot-unstuffing, spilling */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "log.h"
#include "xmalloc.h"

#include "smtp_data.h"

struct smtp_data {
	struct smtp_data_settings set;	/* spool_dir borrowed */
	struct buf	 mem;		/* prefix + body not yet spilled */
	bool		 body_started;	/* a line or chunk came */
	bool		 prev_crlf;	/* the last line ended in CRLF */
	bool		 ended;		/* ".<CRLF>" seen */
	bool		 finished;	/* smtp_data_finish() succeeded */
	bool		 has_8bit;
	enum smtp_data_err err;		/* the first error */
	uint64_t	 size;		/* body bytes, counted past errors */
	int		 fd;		/* spill file or -1 */
	char		*path;		/* its name, unlinked on free */
	uint64_t	 file_len;	/* bytes written to it */
	void		*map;		/* mmap of it after finish */
	size_t		 map_len;
};

/* smtp_data_new - an empty body; see smtp_data.h */
struct smtp_data *
smtp_data_new(const struct smtp_data_settings *s)
{
	struct smtp_data *d;

	d = xcalloc(1, sizeof(*d));
	d->set = *s;
	buf_init(&d->mem, 0);
	/* the DATA command line itself ended in CRLF: a message that is
	 * only ".<CRLF>" is empty */
	d->prev_crlf = true;
	d->fd = -1;
	return d;
}

/* smtp_data_free - free everything, unmap and unlink the spill file */
void
smtp_data_free(struct smtp_data **dp)
{
	struct smtp_data *d = *dp;

	if (d == NULL)
		return;
	if (d->map != NULL && munmap(d->map, d->map_len) < 0)
		log_warn("munmap(%s)", d->path);
	if (d->fd >= 0 && close(d->fd) < 0)
		log_warn("close(%s)", d->path);
	if (d->path != NULL && unlink(d->path) < 0)
		log_warn("unlink(%s)", d->path);
	free(d->path);
	buf_deinit(&d->mem);
	free(d);
	*dp = NULL;
}

/* smtp_data_fail - remember the first error; stored bytes are useless now */
static void
smtp_data_fail(struct smtp_data *d, enum smtp_data_err e)
{
	if (d->err != SMTP_DATA_OK)
		return;
	d->err = e;
	/* the message will be refused: give its memory back at once */
	buf_deinit(&d->mem);
	buf_init(&d->mem, 0);
}

/* smtp_data_prefix - bytes before the message, not counted in max_size */
int
smtp_data_prefix(struct smtp_data *d, const char *p, size_t n)
{
	if (d->body_started || d->finished)
		return -1;
	/* the buffer has no ceiling of its own (mem_max is a spill mark,
	 * not a limit), so this cannot fail */
	if (buf_append(&d->mem, p, n) < 0)
		panic("smtp_data_prefix: unlimited buffer is full");
	return 0;
}

/* smtp_data_count - add n body bytes to the size; false past max_size */
static bool
smtp_data_count(struct smtp_data *d, uint64_t n)
{
	d->size = d->size > UINT64_MAX - n ? UINT64_MAX : d->size + n;
	return d->set.max_size == 0 || d->size <= d->set.max_size;
}

/* smtp_data_store - keep p[0..n) of the body */
static void
smtp_data_store(struct smtp_data *d, const void *p, size_t n)
{
	const unsigned char *u = p;
	size_t i;

	if (!d->has_8bit)
		for (i = 0; i < n; i++)
			if (u[i] >= 0x80) {
				d->has_8bit = true;
				break;
			}
	if (buf_append(&d->mem, p, n) < 0)
		panic("smtp_data_store: unlimited buffer is full");
}

/* smtp_data_line - take one DATA line; true when it ended the message */
bool
smtp_data_line(struct smtp_data *d, const struct frame_item *it)
{
	const char *p = it->data;
	size_t len = it->len;
	bool prev_crlf = d->prev_crlf;

	if (d->ended || d->finished)
		panic("smtp_data_line after the end of the message");
	d->body_started = true;
	d->prev_crlf = it->crlf;
	/* only "<CRLF>.<CRLF>" on the wire: this line is "." with CRLF and
	 * nothing else, and the line before it also ended in CRLF */
	if (prev_crlf && it->crlf && !it->bare_cr && len == 1 && p[0] == '.') {
		d->ended = true;
		return true;
	}
	/* RFC 5321 4.5.2: the first "." goes when other characters follow;
	 * a lone "." that did not end the message is kept as it is */
	if (len > 1 && p[0] == '.') {
		p++;
		len--;
	}
	if (it->bare_cr)
		smtp_data_fail(d, SMTP_DATA_BARE_CR);
	else if (!it->crlf && !d->set.allow_bare_lf)
		smtp_data_fail(d, SMTP_DATA_BARE_LF);
	/* len <= SIZE_MAX - 2: it points into the framer's buffer */
	if (!smtp_data_count(d, (uint64_t)len + 2))
		smtp_data_fail(d, SMTP_DATA_TOO_BIG);
	if (d->err != SMTP_DATA_OK)
		return false;
	smtp_data_store(d, p, len);
	smtp_data_store(d, "\r\n", 2);
	return false;
}

/* smtp_data_line_too_long - the framer cut a line over its max_line */
void
smtp_data_line_too_long(struct smtp_data *d)
{
	if (d->ended || d->finished)
		panic("smtp_data_line_too_long after the end of the message");
	d->body_started = true;
	/* XXX: how the cut line ended (CRLF or bare LF) is unknown; assume
	 * the worse, so that "\n.\r\n" after it cannot end the message.  A
	 * client that did send CRLF then waits for an answer that only comes
	 * if the session closes the connection, which it should do here. */
	d->prev_crlf = false;
	smtp_data_fail(d, SMTP_DATA_LINE_TOO_LONG);
}

/* smtp_data_chunk - take a piece of BDAT data as is */
void
smtp_data_chunk(struct smtp_data *d, const void *p, size_t n)
{
	if (d->finished)
		panic("smtp_data_chunk after smtp_data_finish");
	d->body_started = true;
	if (!smtp_data_count(d, n))
		smtp_data_fail(d, SMTP_DATA_TOO_BIG);
	if (d->err != SMTP_DATA_OK)
		return;
	smtp_data_store(d, p, n);
}

/* smtp_data_error - the first error met */
enum smtp_data_err
smtp_data_error(const struct smtp_data *d)
{
	return d->err;
}

/* smtp_data_err_reply - the SMTP reply for e */
void
smtp_data_err_reply(enum smtp_data_err e, int *code_r, const char **enh_r,
    const char **text_r)
{
	switch (e) {
	case SMTP_DATA_OK:
		*code_r = 250;
		*enh_r = "2.0.0";
		*text_r = "OK";
		return;
	case SMTP_DATA_TOO_BIG:
		*code_r = 552;
		*enh_r = "5.3.4";
		*text_r = "Message too big";
		return;
	case SMTP_DATA_BARE_LF:
		*code_r = 550;
		*enh_r = "5.5.2";
		*text_r = "Bare LF in message, lines must end in CRLF";
		return;
	case SMTP_DATA_BARE_CR:
		*code_r = 550;
		*enh_r = "5.5.2";
		*text_r = "Bare CR in message, lines must end in CRLF";
		return;
	case SMTP_DATA_LINE_TOO_LONG:
		*code_r = 554;
		*enh_r = "5.6.0";
		*text_r = "Message line too long";
		return;
	case SMTP_DATA_IO:
		*code_r = 451;
		*enh_r = "4.3.0";
		*text_r = "Local error in processing, try again later";
		return;
	}
	panic("smtp_data_err_reply: unknown error %d", (int)e);
}

/* smtp_data_size - body bytes received (after unstuffing, with CRLF) */
uint64_t
smtp_data_size(const struct smtp_data *d)
{
	return d->size;
}

/* smtp_data_has_8bit - whether a stored body byte has its high bit set */
bool
smtp_data_has_8bit(const struct smtp_data *d)
{
	return d->has_8bit;
}

/* smtp_data_wants_spill - whether the memory part passed mem_max */
bool
smtp_data_wants_spill(const struct smtp_data *d)
{
	/* after an error nothing is stored and the memory is empty */
	return !d->finished && buf_avail(&d->mem) > d->set.mem_max;
}

/* smtp_data_write - write all of p[0..n) to the spill file */
static int
smtp_data_write(struct smtp_data *d, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(d->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			log_warn("write(%s)", d->path);
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			log_warn("write(%s) wrote nothing", d->path);
			return -1;
		}
		p += w;
		n -= (size_t)w;
		d->file_len += (uint64_t)w;
	}
	return 0;
}

/* smtp_data_spill - move the memory part to the spill file (a worker) */
int
smtp_data_spill(struct smtp_data *d, const char **error_r)
{
	if (d->err == SMTP_DATA_IO) {
		*error_r = "the spool file failed before";
		return -1;
	}
	if (d->err != SMTP_DATA_OK || d->finished)
		return 0;	/* nothing worth keeping */
	if (d->fd < 0) {
		d->path = xasprintf("%s/smtp-data.XXXXXX", d->set.spool_dir);
		/* mkostemp: O_CREAT|O_EXCL, mode 0600, a name nobody has */
		d->fd = mkostemp(d->path, O_CLOEXEC);
		if (d->fd < 0) {
			log_warn("mkostemp(%s)", d->path);
			xfree(&d->path);
			smtp_data_fail(d, SMTP_DATA_IO);
			*error_r = "cannot create a spool file";
			return -1;
		}
	}
	if (smtp_data_write(d, buf_ptr(&d->mem), buf_avail(&d->mem)) < 0) {
		smtp_data_fail(d, SMTP_DATA_IO);
		*error_r = "cannot write to the spool file";
		return -1;
	}
	buf_reset(&d->mem);
	return 0;
}

/* smtp_data_finish - the whole message as one read-only region */
int
smtp_data_finish(struct smtp_data *d, const char **msg_r, size_t *len_r,
    const char **error_r)
{
	*msg_r = NULL;
	*len_r = 0;
	if (d->err != SMTP_DATA_OK) {
		*error_r = "the message was refused";
		return -1;
	}
	if (d->finished)
		goto done;
	if (d->fd >= 0) {
		if (smtp_data_spill(d, error_r) < 0)
			return -1;
		if (d->file_len > SIZE_MAX) {
			smtp_data_fail(d, SMTP_DATA_IO);
			*error_r = "message too big to map";
			return -1;
		}
		d->map_len = (size_t)d->file_len;
		if (d->map_len > 0) {
			d->map = mmap(NULL, d->map_len, PROT_READ, MAP_SHARED,
			    d->fd, 0);
			if (d->map == MAP_FAILED) {
				log_warn("mmap(%s)", d->path);
				d->map = NULL;
				smtp_data_fail(d, SMTP_DATA_IO);
				*error_r = "cannot map the spool file";
				return -1;
			}
		}
		/* the mapping keeps the file open; spare the descriptor */
		if (close(d->fd) < 0)
			log_warn("close(%s)", d->path);
		d->fd = -1;
	}
	d->finished = true;
done:
	if (d->map != NULL) {
		*msg_r = d->map;
		*len_r = d->map_len;
	} else if (d->path == NULL && buf_avail(&d->mem) > 0) {
		*msg_r = buf_ptr(&d->mem);
		*len_r = buf_avail(&d->mem);
	} else
		*msg_r = "";
	return 0;
}
