/* buf.c - growable byte buffers with a ceiling */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

#define BUF_MIN_CAP 64

/* buf_init - set up an empty buffer that may grow to max bytes */
void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max == 0 ? SIZE_MAX - 1 : max;
}

/* buf_deinit - free the bytes; the buffer may be initialised again */
void
buf_deinit(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* buf_new - a heap buffer, freed with buf_free() */
struct buf *
buf_new(size_t max)
{
	struct buf *b;

	b = xmalloc(sizeof(*b));
	buf_init(b, max);
	return b;
}

/* buf_free - free a heap buffer and clear the pointer */
void
buf_free(struct buf **b)
{
	if (*b == NULL)
		return;
	buf_deinit(*b);
	free(*b);
	*b = NULL;
}

/* buf_reserve - make room for n more bytes; -1 past the ceiling */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;

	if (b->off > 0 && (b->off >= b->len / 2 || b->len + n > b->cap)) {
		/* compact: the consumed prefix is dead weight */
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		b->data[b->len] = '\0';
	}
	if (n > b->max - (b->len - b->off))
		return -1;
	need = b->len + n;
	if (need <= b->cap && b->data != NULL)
		return 0;
	cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xreallocarray(b->data, cap + 1, 1);
	b->cap = cap;
	return 0;
}

/* buf_append - add n bytes; -1 and no change if that passes the ceiling */
int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* buf_append_str - add a C string without its NUL */
int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

/* buf_append_byte - add one byte */
int
buf_append_byte(struct buf *b, unsigned char c)
{
	return buf_append(b, &c, 1);
}

/* buf_vprintf - append formatted text; -1 and no change past the ceiling */
int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	/* buf_reserve() left room for n bytes plus the NUL */
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

/* buf_printf - append formatted text */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

/* buf_ptr - start of the unconsumed bytes */
const char *
buf_ptr(const struct buf *b)
{
	return b->data == NULL ? "" : b->data + b->off;
}

/* buf_avail - number of unconsumed bytes */
size_t
buf_avail(const struct buf *b)
{
	return b->len - b->off;
}

/* buf_consume - drop n bytes from the front */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len - b->off) {
		buf_reset(b);
		return;
	}
	b->off += n;
}

/* buf_reset - empty the buffer but keep its memory */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->off = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* buf_steal - hand the bytes to the caller as a string; buffer is emptied */
char *
buf_steal(struct buf *b, size_t *len_r)
{
	char *s;
	size_t len;

	len = buf_avail(b);
	if (b->data == NULL) {
		s = xstrdup("");
	} else if (b->off == 0) {
		s = b->data;
		b->data = NULL;
		b->cap = 0;
	} else {
		s = xmemdup(b->data + b->off, len + 1);
	}
	buf_reset(b);
	if (len_r != NULL)
		*len_r = len;
	return s;
}

/* buf_cstr - the unconsumed bytes as a NUL-terminated string */
const char *
buf_cstr(struct buf *b)
{
	return buf_ptr(b);
}

/* buf_find - offset of the first c in the unconsumed bytes, or -1 */
long
buf_find(const struct buf *b, unsigned char c)
{
	const char *p;

	if (b->data == NULL)
		return -1;
	p = memchr(b->data + b->off, c, b->len - b->off);
	return p == NULL ? -1 : (long)(p - (b->data + b->off));
}
