/* base64.c - RFC 4648 base64, strict decoding */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "log.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64_value - the 6-bit value of c, or -1 outside the alphabet */
static int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* base64_encode - append the padded encoding of p[0..n) to out */
int
base64_encode(struct buf *out, const void *p, size_t n)
{
	const unsigned char *in = p;
	char tmp[256];		/* a multiple of 4 */
	size_t olen, t = 0, i;
	uint32_t v;

	if (n > SIZE_MAX / 4 * 3 - 3)
		return -1;
	olen = (n + 2) / 3 * 4;
	/* all or nothing: check the whole length against the ceiling first,
	 * the way buf_reserve() counts it (unconsumed bytes only), so that
	 * the appends below cannot fail half way */
	if (olen > out->max - (out->len - out->off))
		return -1;
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		tmp[t++] = base64_alphabet[(v >> 18) & 0x3f];
		tmp[t++] = base64_alphabet[(v >> 12) & 0x3f];
		tmp[t++] = i + 1 < n ? base64_alphabet[(v >> 6) & 0x3f] : '=';
		tmp[t++] = i + 2 < n ? base64_alphabet[v & 0x3f] : '=';
		if (t == sizeof(tmp)) {
			if (buf_append(out, tmp, t) < 0)
				panic("base64_encode: ceiling passed");
			t = 0;
		}
	}
	if (t > 0 && buf_append(out, tmp, t) < 0)
		panic("base64_encode: ceiling passed");
	return 0;
}

/* base64_decoded_max - an upper bound of the decoded size of len chars */
size_t
base64_decoded_max(size_t len)
{
	/* written so that it cannot overflow for any len */
	return len / 4 * 3 + (len % 4 != 0 ? 3 : 0);
}

/* base64_decode - strict decode of s[0..len) into dst; length or -1 */
long
base64_decode(const char *s, size_t len, unsigned char *dst)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t i, o = 0;
	int a, b, c, d;
	uint32_t v;

	if (len % 4 != 0 || len / 4 * 3 > (size_t)LONG_MAX)
		return -1;
	for (i = 0; i < len; i += 4) {
		bool last = i + 4 == len;

		a = base64_value(in[i]);
		b = base64_value(in[i + 1]);
		if (a < 0 || b < 0)
			return -1;
		v = (uint32_t)a << 18 | (uint32_t)b << 12;
		if (last && in[i + 2] == '=') {
			/* "xx==": one byte; the low 4 bits of b are unused */
			if (in[i + 3] != '=' || (b & 0x0f) != 0)
				return -1;
			dst[o++] = (unsigned char)(v >> 16);
			break;
		}
		c = base64_value(in[i + 2]);
		if (c < 0)
			return -1;
		v |= (uint32_t)c << 6;
		if (last && in[i + 3] == '=') {
			/* "xxx=": two bytes; the low 2 bits of c are unused */
			if ((c & 0x03) != 0)
				return -1;
			dst[o++] = (unsigned char)(v >> 16);
			dst[o++] = (unsigned char)(v >> 8);
			break;
		}
		d = base64_value(in[i + 3]);
		if (d < 0)
			return -1;
		v |= (uint32_t)d;
		dst[o++] = (unsigned char)(v >> 16);
		dst[o++] = (unsigned char)(v >> 8);
		dst[o++] = (unsigned char)v;
	}
	return (long)o;
}
