/*
 * str - bounded string parsing helpers
 *
 * Small functions that every parser needs and that are easy to get wrong:
 * numbers with range checks, trimming, case-insensitive prefixes.  None of
 * them allocate except where the name says so (str_split).
 */
#ifndef BASTIDE_STR_H
#define BASTIDE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* parse a whole decimal string within [min, max]; -1 on junk or range */
int	 str_to_u64(const char *s, uint64_t min, uint64_t max, uint64_t *r);
/* trim ASCII white space at both ends, in place; returns s moved */
char	*str_trim(char *s);
bool	 str_has_prefix_ci(const char *s, const char *prefix);
bool	 str_has_suffix(const char *s, const char *suffix);
void	 str_lower(char *s);
/* copy with truncation, always terminated; returns -1 if truncated */
int	 str_copy(char *dst, size_t dstsize, const char *src);
/* split on any of seps, dropping empty fields; NULL-terminated array,
 * free with str_split_free() */
char	**str_split(const char *s, const char *seps, size_t *count_r);
void	 str_split_free(char ***v);
/* bytes of the well-formed UTF-8 sequence (RFC 3629: no overlong form,
 * no surrogate, nothing above U+10FFFF) at p, of the left available;
 * 1 for ASCII; 0 if invalid or truncated; the code point in *cp_r */
size_t	 str_utf8_len(const unsigned char *p, size_t left, unsigned int *cp_r);
/* true if every byte is printable US-ASCII or UTF-8 and no control char */
bool	 str_is_printable_utf8(const char *s, size_t len);

#endif
