/*
 * frame - input framing for line protocols, without sockets
 *
 * Turns a byte stream that arrives in arbitrary pieces into events: a
 * complete line, an over-long line, pieces of an IMAP literal.  It owns
 * only the partial line it has buffered (at most max_line bytes) and the
 * head of the last over-long line; literal bytes are never buffered, they
 * are handed out as pieces that point into the caller's input.  Being pure, it is unit-tested byte at a time and
 * fuzzed (tests/unit/test_frame.c).
 *
 * Lines end in LF.  max_line counts every byte of a line including its
 * CRLF (or bare LF): a line of exactly max_line bytes is accepted, one byte
 * more is FRAME_LINE_TOO_LONG, reported once as soon as the ceiling is
 * passed; the rest of that line up to the next LF is discarded, and
 * framing goes on with the next line.  That event's item carries the
 * line's first bytes as received (a CR included when it is among them),
 * so that a protocol can still name the command it refuses (an IMAP
 * tag): at most FRAME_HEAD_MAX of them and at most max_line, so that
 * they do not depend on how the input was split.  Each line says whether
 * it ended in CRLF or in a bare LF and whether a bare CR occurred inside
 * it, so that SMTP can refuse them.
 *
 * Literals (only when f->literals is set): a line ending in "{n}" or
 * "{n+}" announces n bytes of raw data that follow it.  The line event
 * carries the size.  Then:
 *   - "{n}" (synchronizing): framing stops (FRAME_WAIT) until the caller
 *     decides: frame_literal_accept() after sending "+ go ahead", or
 *     frame_literal_refuse() after sending a NO/BAD (the client then does
 *     not send the data).  A literal over max_literal is flagged
 *     literal_too_big on the line event, before any of it is read, and
 *     must be refused.
 *   - "{n+}" (LITERAL+): no decision is needed; the data is delivered, or,
 *     when over max_literal, read and discarded, ending with a
 *     FRAME_LITERAL_END whose item says discarded.
 * After a literal the framer is back in line mode: the next line is the
 * rest of the command that contained the literal, and may end in another
 * literal.  Assembling a command from its pieces is the protocol's job.
 *
 * Raw reads (SMTP BDAT, RFC 3030): after a line, frame_read_raw(f, n)
 * makes the next n bytes a literal whatever they hold, delivered as
 * FRAME_LITERAL_DATA pieces and a FRAME_LITERAL_END (at once for n = 0),
 * without max_literal and without a decision; then lines again.
 */
#ifndef BASTIDE_FRAME_H
#define BASTIDE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum frame_event {
	FRAME_MORE = 0,		/* every byte was used; feed more */
	FRAME_LINE,		/* item: one complete line */
	FRAME_LINE_TOO_LONG,	/* item: the head of a line that passed
				 * max_line; the rest is skipped */
	FRAME_LITERAL_DATA,	/* item: a piece of an accepted literal */
	FRAME_LITERAL_END,	/* the literal is complete (or discarded) */
	FRAME_WAIT		/* a sync literal awaits accept or refuse */
};

/* bytes of an over-long line kept for its FRAME_LINE_TOO_LONG event */
#define FRAME_HEAD_MAX		64

struct frame_item {
	const char	*data;		/* LINE: NUL-terminated, no line end;
					 * LINE_TOO_LONG: the line's first
					 * bytes, NUL-terminated;
					 * LITERAL_DATA: the piece */
	size_t		 len;
	bool		 crlf;		/* LINE ended in CRLF, not bare LF */
	bool		 bare_cr;	/* LINE holds a CR not before its LF */
	bool		 literal;	/* LINE ends in {n} or {n+} */
	bool		 literal_plus;	/* ... in {n+} */
	bool		 literal_too_big; /* ... and n > max_literal */
	uint64_t	 literal_size;	/* n */
	bool		 discarded;	/* LITERAL_END of a refused {n+} */
};

enum frame_state {
	FRAME_STATE_LINE = 0,
	FRAME_STATE_SKIP_LINE,		/* after an over-long line, to LF */
	FRAME_STATE_WAIT,		/* sync literal: caller decides */
	FRAME_STATE_LITERAL,		/* delivering lit_left bytes */
	FRAME_STATE_SKIP_LITERAL	/* discarding lit_left bytes */
};

struct frame {
	/* settings; change them only between lines */
	size_t		 max_line;	/* bytes incl. line end, >= 2 */
	uint64_t	 max_literal;
	bool		 literals;	/* recognise {n} / {n+} */

	enum frame_state state;
	struct buf	 line;		/* partial line, incl. CR bytes */
	bool		 line_done;	/* line holds a delivered line */
	uint64_t	 lit_left;
	bool		 lit_too_big;	/* pending WAIT literal is too big */
	bool		 lit_plus;
	char		 head[FRAME_HEAD_MAX + 1]; /* of an over-long line */
};

/* set up; max_line >= 2 */
void	 frame_init(struct frame *f, size_t max_line, uint64_t max_literal,
	    bool literals);
void	 frame_deinit(struct frame *f);
/* forget any partial line or literal (STARTTLS); keeps the settings */
void	 frame_reset(struct frame *f);

/*
 * Frame the next event from data[0..len).  *used_r says how many bytes
 * were taken; feed the rest again after handling the event.  The item's
 * pointers stay valid until the next call.  Returns FRAME_MORE when all
 * bytes were taken without completing an event, FRAME_WAIT (taking
 * nothing) while a sync literal awaits a decision.
 */
enum frame_event frame_feed(struct frame *f, const void *data, size_t len,
	    size_t *used_r, struct frame_item *item_r);

/* the ceiling for the lines after the current one (SMTP raises it for
 * DATA and lowers it again for commands); max_line >= 2 */
void	 frame_set_max_line(struct frame *f, size_t max_line);
/* the next n bytes are raw data (BDAT); call between events, with no
 * partial line or literal pending */
void	 frame_read_raw(struct frame *f, uint64_t n);

/* decide on a sync literal announced by the last line (FRAME_WAIT);
 * accepting one flagged literal_too_big is a bug and panics */
void	 frame_literal_accept(struct frame *f);
void	 frame_literal_refuse(struct frame *f);
/* whether framing is stopped waiting for that decision */
bool	 frame_waiting(const struct frame *f);
/* whether nothing is buffered and no literal is in progress */
bool	 frame_idle(const struct frame *f);
/* give back the line buffer's memory when idle (cheap idle connections) */
void	 frame_shrink(struct frame *f);

#endif
