/*
 * xmalloc - allocation that never fails
 *
 * Every allocator here aborts the process when memory runs out, so callers
 * never check for NULL.  Out of memory in a mail server is not recoverable
 * per request: the kernel is about to kill us anyway.
 */
#ifndef BASTIDE_XMALLOC_H
#define BASTIDE_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t size);
void	*xcalloc(size_t nmemb, size_t size);
void	*xreallocarray(void *ptr, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
void	*xmemdup(const void *p, size_t n);
char	*xasprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* xfree - free *pp and leave it NULL */
#define xfree(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

/* wipe - clear secrets so they do not linger in freed memory */
void	 wipe(void *p, size_t n);

#endif
