/*
 * smtp_data - the body of one DATA or BDAT transaction, on its way to disk
 *
 * The session feeds it what the framer (common/frame.h) hands out: DATA
 * lines, or BDAT chunk pieces.  It owns the bytes received so far and,
 * once they pass mem_max, a spill file in spool_dir (created O_EXCL with
 * mode 0600 and unlinked by smtp_data_free()).  Apart from that file it
 * is pure: the loop thread feeds it without blocking, and only
 * smtp_data_spill() and smtp_data_finish(), which write and map the file,
 * are meant for a worker.
 *
 * DATA (RFC 5321 4.1.1.4, 4.5.2): lines are stored with CRLF endings and
 * dot-unstuffed (a leading "." is removed when other characters follow).
 * Only "<CRLF>.<CRLF>" on the wire ends the message: a "." line that ended
 * in CRLF after a line that ended in CRLF (the DATA command counts as
 * one).  "\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n" and a ".\r" inside a line
 * never end it, so a message cannot be split in two for a peer that reads
 * it differently (SMTP smuggling, CVE-2023-51766 class).  A bare LF line
 * end is refused unless allow_bare_lf (then the line is stored with
 * CRLF); a bare CR is always refused.  The framer does not say how a line
 * it cut for being too long ended, so the "." line after one does not end
 * the message either: to be sure, the session should answer and close
 * the connection at once when smtp_data_line_too_long() is called.
 *
 * Limits: max_size counts the body bytes as stored (after unstuffing,
 * with CRLF); it is enforced while streaming, and past it nothing more is
 * stored while the size is still counted.  After any error the rest of
 * the message is consumed up to its end and nothing more is stored, so
 * the session can answer once the client has finished sending.
 *
 * The message is finally one contiguous read-only region: the prefix
 * (Return-Path:, Received:) followed by the body, in memory or, when
 * spilled, an mmap of the spill file.
 */
#ifndef BASTIDE_SMTP_DATA_H
#define BASTIDE_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct smtp_data_settings {
	uint64_t	 max_size;	/* message bytes; 0: no limit */
	size_t		 mem_max;	/* past this, spill to a file */
	const char	*spool_dir;	/* borrowed, exists, for spill files */
	bool		 allow_bare_lf;	/* accept bare-LF lines as CRLF */
};

enum smtp_data_err {
	SMTP_DATA_OK = 0,
	SMTP_DATA_TOO_BIG,		/* 552 5.3.4 */
	SMTP_DATA_BARE_LF,		/* 550 5.5.2 bare LF in message */
	SMTP_DATA_BARE_CR,		/* 550 5.5.2 bare CR in message */
	SMTP_DATA_LINE_TOO_LONG,	/* 554 5.6.0 */
	SMTP_DATA_IO			/* 451 4.3.0 */
};

struct smtp_data;

/* settings are copied; spool_dir is borrowed and must outlive d */
struct smtp_data *smtp_data_new(const struct smtp_data_settings *s);
void	 smtp_data_free(struct smtp_data **d);	/* unlinks a spill file */
/* bytes placed before the message (Return-Path:, Received:); not
 * counted in max_size; call before any line/chunk (else -1) */
int	 smtp_data_prefix(struct smtp_data *d, const char *p, size_t n);
/* DATA: one framed line (frame.h item: no line end, crlf/bare_cr
 * flags); dot-unstuffs; returns true when it was the final ".<CRLF>"
 * (only a "." line that ended in CRLF ends the message: "\n.\n",
 * "\r.\r", "\r\n.\n" never do). After an error, keeps consuming to the
 * end without storing. */
bool	 smtp_data_line(struct smtp_data *d, const struct frame_item *it);
/* DATA: the framer reported a line over its max_line */
void	 smtp_data_line_too_long(struct smtp_data *d);
/* BDAT: a piece of chunk data, taken as is */
void	 smtp_data_chunk(struct smtp_data *d, const void *p, size_t n);
/* the first error met, SMTP_DATA_OK if none */
enum smtp_data_err smtp_data_error(const struct smtp_data *d);
/* the reply for an error: code, enhanced code, text */
void	 smtp_data_err_reply(enum smtp_data_err e, int *code_r,
	    const char **enh_r, const char **text_r);
uint64_t smtp_data_size(const struct smtp_data *d);	/* body bytes */
bool	 smtp_data_has_8bit(const struct smtp_data *d);
/* the in-memory part passed mem_max: call smtp_data_spill() (in a
 * worker) before feeding more */
bool	 smtp_data_wants_spill(const struct smtp_data *d);
int	 smtp_data_spill(struct smtp_data *d, const char **error_r);
/* in a worker: prefix + message as one contiguous read-only region
 * (mmap of the spill file, or the memory), valid until free */
int	 smtp_data_finish(struct smtp_data *d, const char **msg_r,
	    size_t *len_r, const char **error_r);

#endif
