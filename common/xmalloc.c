/* xmalloc.c - allocation that aborts instead of returning NULL */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

/* xmalloc - malloc or abort */
void *
xmalloc(size_t size)
{
	void *p;

	p = malloc(size == 0 ? 1 : size);
	if (p == NULL)
		panic("xmalloc: out of memory (%zu bytes)", size);
	return p;
}

/* xcalloc - calloc or abort */
void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);
	if (p == NULL)
		panic("xcalloc: out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

/* xreallocarray - resize an array, checking the multiplication */
void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		panic("xreallocarray: %zu x %zu overflows", nmemb, size);
	p = realloc(ptr, nmemb * size == 0 ? 1 : nmemb * size);
	if (p == NULL)
		panic("xreallocarray: out of memory");
	return p;
}

/* xstrdup - strdup or abort */
char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

/* xstrndup - copy at most n bytes of s and terminate the copy */
char *
xstrndup(const char *s, size_t n)
{
	char *p;
	size_t len;

	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* xmemdup - copy n bytes into new memory */
void *
xmemdup(const void *src, size_t n)
{
	void *p;

	p = xmalloc(n);
	if (n > 0)
		memcpy(p, src, n);
	return p;
}

/* xasprintf - format into newly allocated memory, caller frees */
char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		panic("xasprintf: out of memory");
	return s;
}

/* wipe - zero memory in a way the compiler may not optimise away */
void
wipe(void *p, size_t n)
{
	if (p == NULL || n == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;
	while (n-- > 0)
		*v++ = 0;
#endif
}
