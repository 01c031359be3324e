/* smtp_xtext.c - RFC 3461 xtext */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "smtp_xtext.h"

/* hexval - value of an ASCII hex digit or -1 */
static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	/* RFC 3461 wants upper case; lower case is harmless, so we take it */
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* smtp_xtext_decode - xtext to bytes; -1 when malformed */
long
smtp_xtext_decode(const char *s, size_t len, bool allow_utf8, char *dst)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;
	int hi, lo;

	while (i < len) {
		if (p[i] == '+') {
			if (len - i < 3 || (hi = hexval(p[i + 1])) < 0 ||
			    (lo = hexval(p[i + 2])) < 0)
				return -1;
			/* decoded controls would smuggle CR/LF into DSNs */
			if (hi * 16 + lo < 0x20 || hi * 16 + lo == 0x7f)
				return -1;
			dst[o++] = (char)(hi * 16 + lo);
			i += 3;
		} else if (p[i] >= '!' && p[i] <= '~' && p[i] != '=') {
			dst[o++] = (char)p[i++];
		} else if (p[i] >= 0x80 && allow_utf8) {
			/* the caller checked the whole value is UTF-8 */
			dst[o++] = (char)p[i++];
		} else {
			return -1;
		}
	}
	dst[o] = '\0';
	return (long)o;
}

/* smtp_xtext_encode - bytes to xtext */
int
smtp_xtext_encode(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;
	int r;

	for (i = 0; i < len; i++) {
		if (p[i] >= '!' && p[i] <= '~' && p[i] != '+' && p[i] != '=')
			r = buf_append_byte(b, p[i]);
		else
			r = buf_printf(b, "+%02X", p[i]);
		if (r < 0)
			return -1;
	}
	return 0;
}
