/* sasl.c - SASL mechanism messages (RFC 4616 PLAIN) */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sasl.h"
#include "str.h"
#include "xmalloc.h"

/*
 * sasl_utf8_valid - whether p[0..n) is well-formed UTF-8 (RFC 3629):
 * no overlong forms, no surrogates, nothing above U+10FFFF, no NUL
 */
static bool
sasl_utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0, k;
	unsigned int cp;

	while (i < n) {
		if ((k = str_utf8_len(p + i, n - i, &cp)) == 0 || cp == 0)
			return false;
		i += k;
	}
	return true;
}

/* sasl_plain_parse - split "[authzid] NUL authcid NUL passwd" */
int
sasl_plain_parse(const unsigned char *p, size_t n, char **authzid_r,
    char **authcid_r, char **password_r, const char **error_r)
{
	const unsigned char *nul1, *nul2, *end = p + n;
	size_t zlen, clen, plen;

	*authzid_r = NULL;
	*authcid_r = NULL;
	*password_r = NULL;
	/* validate everything before copying anything, so that a refusal
	 * leaves no copy of a secret behind */
	nul1 = n > 0 ? memchr(p, '\0', n) : NULL;
	if (nul1 == NULL) {
		*error_r = "PLAIN message without NUL separators";
		return -1;
	}
	nul2 = memchr(nul1 + 1, '\0', (size_t)(end - (nul1 + 1)));
	if (nul2 == NULL) {
		*error_r = "PLAIN message with one NUL separator, want two";
		return -1;
	}
	if (memchr(nul2 + 1, '\0', (size_t)(end - (nul2 + 1))) != NULL) {
		*error_r = "PLAIN message with more than two NUL separators";
		return -1;
	}
	zlen = (size_t)(nul1 - p);
	clen = (size_t)(nul2 - (nul1 + 1));
	plen = (size_t)(end - (nul2 + 1));
	if (clen == 0) {
		*error_r = "PLAIN message with an empty authentication id";
		return -1;
	}
	if (plen == 0) {
		*error_r = "PLAIN message with an empty password";
		return -1;
	}
	if (zlen > SASL_PLAIN_FIELD_MAX || clen > SASL_PLAIN_FIELD_MAX ||
	    plen > SASL_PLAIN_FIELD_MAX) {
		*error_r = "PLAIN message field over 255 bytes";
		return -1;
	}
	if (!sasl_utf8_valid(p, zlen) || !sasl_utf8_valid(nul1 + 1, clen) ||
	    !sasl_utf8_valid(nul2 + 1, plen)) {
		*error_r = "PLAIN message that is not UTF-8";
		return -1;
	}
	*authzid_r = xstrndup((const char *)p, zlen);
	*authcid_r = xstrndup((const char *)nul1 + 1, clen);
	*password_r = xstrndup((const char *)nul2 + 1, plen);
	return 0;
}

/* sasl_secret_free - wipe and free a secret string, leave *s NULL */
void
sasl_secret_free(char **s)
{
	if (*s == NULL)
		return;
	wipe(*s, strlen(*s));
	free(*s);
	*s = NULL;
}
