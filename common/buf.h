/*
 * buf - growable, length-carrying byte buffers with a ceiling
 *
 * A buffer owns its bytes.  Every buffer has a maximum size chosen by its
 * owner (a line limit, a literal limit, an output high-water mark); an
 * append that would pass it fails and leaves the buffer as it was, so
 * network input can never grow memory without bound.  The data is always
 * followed by a NUL byte that is not counted in len, so text can be handed
 * to C string functions directly.
 */
#ifndef BASTIDE_BUF_H
#define BASTIDE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* len bytes, then a NUL; NULL when empty */
	size_t	 len;
	size_t	 cap;		/* allocated, excluding the NUL */
	size_t	 max;		/* ceiling for len; 0 means SIZE_MAX */
	size_t	 off;		/* consumed prefix, see buf_consume() */
};

void	 buf_init(struct buf *b, size_t max);
void	 buf_deinit(struct buf *b);
struct buf *buf_new(size_t max);
void	 buf_free(struct buf **b);

int	 buf_append(struct buf *b, const void *p, size_t n);
int	 buf_append_str(struct buf *b, const char *s);
int	 buf_append_byte(struct buf *b, unsigned char c);
int	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

/* the unconsumed bytes */
const char *buf_ptr(const struct buf *b);
size_t	 buf_avail(const struct buf *b);
/* drop n bytes from the front (cheap: compacts lazily) */
void	 buf_consume(struct buf *b, size_t n);
void	 buf_reset(struct buf *b);
/* take the bytes out as a NUL-terminated string the caller frees */
char	*buf_steal(struct buf *b, size_t *len_r);
/* the unconsumed bytes as a C string (valid until the next change) */
const char *buf_cstr(struct buf *b);

/* find a byte in the unconsumed bytes; offset from buf_ptr() or -1 */
long	 buf_find(const struct buf *b, unsigned char c);

#endif
