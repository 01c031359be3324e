/* str.c - bounded string parsing helpers */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "str.h"
#include "xmalloc.h"

/* str_to_u64 - strict decimal parse: digits only, no sign, in range */
int
str_to_u64(const char *s, uint64_t min, uint64_t max, uint64_t *r)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*r = v;
	return 0;
}

/* str_trim - strip leading and trailing white space in place */
char *
str_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* str_has_prefix_ci - case-insensitive ASCII prefix test */
bool
str_has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* str_has_suffix - exact suffix test */
bool
str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* str_lower - ASCII lower-case in place */
void
str_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* str_copy - strlcpy with a -1 on truncation */
int
str_copy(char *dst, size_t dstsize, const char *src)
{
	size_t n = strlen(src);

	if (dstsize == 0)
		return -1;
	if (n >= dstsize) {
		memcpy(dst, src, dstsize - 1);
		dst[dstsize - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

/* str_split - split into fields, caller frees with str_split_free() */
char **
str_split(const char *s, const char *seps, size_t *count_r)
{
	char **v = NULL;
	size_t n = 0, len;

	for (;;) {
		s += strspn(s, seps);
		if (*s == '\0')
			break;
		len = strcspn(s, seps);
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrndup(s, len);
		s += len;
	}
	v = xreallocarray(v, n + 1, sizeof(*v));
	v[n] = NULL;
	if (count_r != NULL)
		*count_r = n;
	return v;
}

/* str_split_free - free what str_split() returned */
void
str_split_free(char ***v)
{
	char **p;

	if (*v == NULL)
		return;
	for (p = *v; *p != NULL; p++)
		free(*p);
	free(*v);
	*v = NULL;
}

/* str_utf8_len - length of the valid UTF-8 sequence at p, 0 if none */
size_t
str_utf8_len(const unsigned char *p, size_t left, unsigned int *cp_r)
{
	size_t n, k;
	unsigned int cp;

	if (left == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp_r = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;	/* truncated sequence */
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	/* overlong forms, surrogates and beyond U+10FFFF */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

/* str_is_printable_utf8 - well-formed UTF-8 without control characters */
bool
str_is_printable_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	unsigned int cp;

	while (i < len) {
		n = str_utf8_len(p + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || cp == 0x7f ||
		    (cp >= 0x80 && cp < 0xa0))
			return false;
		i += n;
	}
	return true;
}
