/* frame.c - CRLF lines and IMAP literals from a byte stream, incrementally */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "log.h"

/* frame_init - set up a framer with its ceilings */
void
frame_init(struct frame *f, size_t max_line, uint64_t max_literal,
    bool literals)
{
	memset(f, 0, sizeof(*f));
	if (max_line < 2)
		panic("frame_init: max_line %zu < 2", max_line);
	f->max_line = max_line;
	f->max_literal = max_literal;
	f->literals = literals;
	buf_init(&f->line, max_line);
}

/* frame_deinit - free the partial line */
void
frame_deinit(struct frame *f)
{
	buf_deinit(&f->line);
}

/* frame_reset - back to the start of a line, forgetting everything */
void
frame_reset(struct frame *f)
{
	buf_deinit(&f->line);
	buf_init(&f->line, f->max_line);
	f->state = FRAME_STATE_LINE;
	f->line_done = false;
	f->lit_left = 0;
	f->lit_too_big = false;
	f->lit_plus = false;
}

/* frame_parse_literal - whether line[0..len) ends in {n} or {n+} */
static bool
frame_parse_literal(const char *line, size_t len, uint64_t *size_r,
    bool *plus_r, bool *overflow_r)
{
	size_t i, first;
	uint64_t n;

	*plus_r = false;
	*overflow_r = false;
	if (len < 3 || line[len - 1] != '}')
		return false;
	i = len - 1;		/* index of '}', >= 2 */
	if (line[i - 1] == '+') {
		*plus_r = true;
		i--;
	}
	/* line[i] is '+' or '}'; the digits end before it */
	first = i;
	while (first > 0 && line[first - 1] >= '0' && line[first - 1] <= '9')
		first--;
	if (first == i || first == 0 || line[first - 1] != '{')
		return false;
	n = 0;
	for (; first < i; first++) {
		unsigned int d = (unsigned int)(line[first] - '0');

		if (n > (UINT64_MAX - d) / 10) {
			*overflow_r = true;
			n = UINT64_MAX;
			break;
		}
		n = n * 10 + d;
	}
	*size_r = n;
	return true;
}

/* frame_finish_line - the buffered line is complete: describe it */
static enum frame_event
frame_finish_line(struct frame *f, struct frame_item *item)
{
	bool plus, overflow;
	uint64_t n;
	size_t len;

	len = buf_avail(&f->line);
	if (len > 0 && buf_ptr(&f->line)[len - 1] == '\r') {
		/* drop the CR of CRLF; off is 0 because this buffer is never
		 * consumed, only reset, so data[len] is the last byte */
		f->line.len--;
		f->line.data[f->line.len] = '\0';
		len--;
		item->crlf = true;
	}
	item->data = buf_ptr(&f->line);
	item->len = len;
	item->bare_cr = memchr(item->data, '\r', len) != NULL;
	f->line_done = true;
	if (f->literals &&
	    frame_parse_literal(item->data, len, &n, &plus, &overflow)) {
		item->literal = true;
		item->literal_plus = plus;
		item->literal_size = n;
		item->literal_too_big = overflow || n > f->max_literal;
		f->lit_left = n;
		f->lit_plus = plus;
		f->lit_too_big = item->literal_too_big;
		if (!plus)
			f->state = FRAME_STATE_WAIT;
		else if (item->literal_too_big)
			f->state = FRAME_STATE_SKIP_LITERAL;
		else
			f->state = FRAME_STATE_LITERAL;
	}
	return FRAME_LINE;
}

/* frame_head - keep the first bytes of an over-long line: those
 * buffered, then those of this input (chunk bytes at p); no more than
 * max_line, which is all a byte-at-a-time feed has seen by then */
static size_t
frame_head(struct frame *f, const char *p, size_t chunk)
{
	size_t have = buf_avail(&f->line), max, n, m;

	max = f->max_line < FRAME_HEAD_MAX ? f->max_line : FRAME_HEAD_MAX;
	n = have < max ? have : max;
	if (n > 0)
		memcpy(f->head, buf_ptr(&f->line), n);
	m = chunk < max - n ? chunk : max - n;
	if (m > 0)
		memcpy(f->head + n, p, m);
	f->head[n + m] = '\0';
	return n + m;
}

/* frame_feed - take bytes until one event is complete */
enum frame_event
frame_feed(struct frame *f, const void *data, size_t len, size_t *used_r,
    struct frame_item *item_r)
{
	const char *p = data, *lf;
	size_t off = 0, chunk, have;
	uint64_t take;

	memset(item_r, 0, sizeof(*item_r));
	*used_r = 0;
	if (f->line_done) {
		buf_reset(&f->line);
		f->line_done = false;
	}
	for (;;) {
		switch (f->state) {
		case FRAME_STATE_WAIT:
			*used_r = off;
			return off == 0 ? FRAME_WAIT : FRAME_MORE;
		case FRAME_STATE_LITERAL:
			if (f->lit_left == 0) {
				f->state = FRAME_STATE_LINE;
				*used_r = off;
				return FRAME_LITERAL_END;
			}
			if (off == len) {
				*used_r = off;
				return FRAME_MORE;
			}
			take = len - off < f->lit_left ? len - off : f->lit_left;
			f->lit_left -= take;
			item_r->data = p + off;
			item_r->len = (size_t)take;
			*used_r = off + (size_t)take;
			return FRAME_LITERAL_DATA;
		case FRAME_STATE_SKIP_LITERAL:
			take = len - off < f->lit_left ? len - off : f->lit_left;
			f->lit_left -= take;
			off += (size_t)take;
			if (f->lit_left == 0) {
				f->state = FRAME_STATE_LINE;
				item_r->discarded = true;
				*used_r = off;
				return FRAME_LITERAL_END;
			}
			*used_r = off;
			return FRAME_MORE;
		case FRAME_STATE_SKIP_LINE:
			lf = memchr(p + off, '\n', len - off);
			if (lf == NULL) {
				*used_r = len;
				return FRAME_MORE;
			}
			off = (size_t)(lf - p) + 1;
			f->state = FRAME_STATE_LINE;
			continue;
		case FRAME_STATE_LINE:
			break;
		}
		if (off == len) {
			*used_r = off;
			return FRAME_MORE;
		}
		lf = memchr(p + off, '\n', len - off);
		chunk = lf != NULL ? (size_t)(lf - (p + off)) : len - off;
		have = buf_avail(&f->line);
		/* have < max_line always holds, so the sum cannot wrap; the
		 * line is at least have + chunk + 1 bytes with its LF */
		if (chunk >= f->max_line - have) {
			item_r->len = frame_head(f, p + off, chunk);
			item_r->data = f->head;
			buf_reset(&f->line);
			if (lf != NULL) {
				off += chunk + 1;
			} else {
				off = len;
				f->state = FRAME_STATE_SKIP_LINE;
			}
			*used_r = off;
			return FRAME_LINE_TOO_LONG;
		}
		if (buf_append(&f->line, p + off, chunk) < 0)
			panic("frame: line buffer ceiling below max_line");
		off += chunk;
		if (lf == NULL) {
			*used_r = off;
			return FRAME_MORE;
		}
		off++;
		*used_r = off;
		return frame_finish_line(f, item_r);
	}
}

/* frame_set_max_line - a new ceiling for the following lines */
void
frame_set_max_line(struct frame *f, size_t max_line)
{
	if (max_line < 2)
		panic("frame_set_max_line: max_line %zu < 2", max_line);
	f->max_line = max_line;
	/* the buffer may hold the line being handled, longer than the new
	 * ceiling; it is reset before the next one is framed, and only the
	 * framer's own check (have < max_line) decides what fits */
	f->line.max = max_line;
}

/* frame_read_raw - deliver the next n bytes as a literal, unparsed */
void
frame_read_raw(struct frame *f, uint64_t n)
{
	if (f->state != FRAME_STATE_LINE ||
	    (!f->line_done && buf_avail(&f->line) > 0))
		panic("frame_read_raw in state %d with a partial line",
		    (int)f->state);
	f->state = FRAME_STATE_LITERAL;
	f->lit_left = n;
	f->lit_plus = true;
	f->lit_too_big = false;
}

/* frame_literal_accept - the caller sent "+ go ahead": read the literal */
void
frame_literal_accept(struct frame *f)
{
	if (f->state != FRAME_STATE_WAIT || f->lit_too_big)
		panic("frame_literal_accept in state %d, too big %d",
		    (int)f->state, (int)f->lit_too_big);
	f->state = FRAME_STATE_LITERAL;
}

/* frame_literal_refuse - the caller refused: the client sends no data */
void
frame_literal_refuse(struct frame *f)
{
	if (f->state != FRAME_STATE_WAIT)
		panic("frame_literal_refuse in state %d", (int)f->state);
	f->state = FRAME_STATE_LINE;
	f->lit_left = 0;
}

/* frame_waiting - whether a sync literal awaits a decision */
bool
frame_waiting(const struct frame *f)
{
	return f->state == FRAME_STATE_WAIT;
}

/* frame_idle - nothing partial is buffered */
bool
frame_idle(const struct frame *f)
{
	return f->state == FRAME_STATE_LINE &&
	    (f->line_done || buf_avail(&f->line) == 0);
}

/* frame_shrink - free the line buffer when nothing partial is in it */
void
frame_shrink(struct frame *f)
{
	if (!frame_idle(f) || f->line.data == NULL)
		return;
	buf_deinit(&f->line);
	buf_init(&f->line, f->max_line);
	f->line_done = false;
}
