/* imap_text.c - decoded, case-folded text for SEARCH, SORT and THREAD */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xmalloc.h"

#include "imap_section.h"
#include "imap_text.h"

/* longest charset name we hand to iconv */
#define TEXT_CHARSET_MAX	64

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

/*
 * utf8_next - decode one character at p[0..n): its length with *cp set;
 * 1 with U+FFFD for an invalid byte; 0 when p holds only the valid start
 * of a longer sequence (more bytes may complete it)
 */
static size_t
utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, k;
	uint32_t v;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		v = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		v = p[0] & 0x0f;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		v = p[0] & 0x07;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (k = 1; k < len; k++) {
		if (k >= n)
			return 0;
		if (p[k] < (k == 1 ? lo : 0x80) ||
		    p[k] > (k == 1 ? hi : 0xbf)) {
			*cp = 0xfffd;
			return 1;
		}
		v = (v << 6) | (p[k] & 0x3f);
	}
	*cp = v;
	return len;
}

/* utf8_put - append the UTF-8 form of cp */
static void
utf8_put(struct buf *out, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(out, b, n);
}

/* imap_text_fold_cp - simple case folding of one code point */
uint32_t
imap_text_fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c < 0xc0)
		return c == 0xb5 ? 0x3bc : c;	/* micro sign */
	if (c <= 0xde)
		return c == 0xd7 ? c : c + 32;
	if (c < 0x100)
		return c;
	/* Latin Extended-A: pairs, with a shifted run in the middle */
	if (c <= 0x137 || (c >= 0x14a && c <= 0x177))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c + 1 : c;
	if (c == 0x178)
		return 0xff;
	if (c == 0x17f)
		return 's';
	/* Greek */
	if (c == 0x386)
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 63;
	if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
		return c + 32;
	if (c == 0x3c2)
		return 0x3c3;		/* final sigma */
	/* Cyrillic */
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf) ||
	    (c >= 0x4d0 && c <= 0x52f))
		return c | 1;
	if (c >= 0x4c1 && c <= 0x4ce)
		return (c & 1) ? c + 1 : c;
	/* Armenian */
	if (c >= 0x531 && c <= 0x556)
		return c + 48;
	/* Latin Extended Additional (Vietnamese and more) */
	if ((c >= 0x1e00 && c <= 0x1e95) || (c >= 0x1ea0 && c <= 0x1eff))
		return c | 1;
	if (c == 0x1e9e)
		return 0xdf;
	/* fullwidth Latin */
	if (c >= 0xff21 && c <= 0xff3a)
		return c + 32;
	return c;
}

/* imap_text_fold - append s folded, invalid bytes made U+FFFD */
void
imap_text_fold(const char *s, size_t n, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, start = 0;
	uint32_t cp;

	while (i < n) {
		/* runs of lower-case ASCII are copied in one go */
		if (p[i] < 0x80 && !(p[i] >= 'A' && p[i] <= 'Z')) {
			i++;
			continue;
		}
		buf_append(out, s + start, i - start);
		k = utf8_next(p + i, n - i, &cp);
		if (k == 0) {
			cp = 0xfffd;
			k = n - i;
		}
		utf8_put(out, imap_text_fold_cp(cp));
		i += k;
		start = i;
	}
	buf_append(out, s + start, n - start);
}

/* imap_text_casecmp - compare folded UTF-8 strings, code point order */
int
imap_text_casecmp(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *)a;
	const unsigned char *pb = (const unsigned char *)b;
	size_t na = strlen(a), nb = strlen(b), ka, kb;
	uint32_t ca, cb;

	while (na > 0 && nb > 0) {
		if ((ka = utf8_next(pa, na, &ca)) == 0) {
			ca = 0xfffd;
			ka = na;
		}
		if ((kb = utf8_next(pb, nb, &cb)) == 0) {
			cb = 0xfffd;
			kb = nb;
		}
		ca = imap_text_fold_cp(ca);
		cb = imap_text_fold_cp(cb);
		if (ca != cb)
			return ca < cb ? -1 : 1;
		pa += ka;
		na -= ka;
		pb += kb;
		nb -= kb;
	}
	if (na == nb)
		return 0;
	return na == 0 ? -1 : 1;
}

/* utf8_copy - append valid UTF-8 of p, invalid bytes made U+FFFD;
 * returns how many bytes at the end form an incomplete sequence that
 * was not consumed (only when !final) */
static size_t
utf8_copy(const char *s, size_t n, bool final, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, start = 0;
	uint32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_next(p + i, n - i, &cp);
		if (k == 0) {
			buf_append(out, s + start, i - start);
			if (!final)
				return n - i;
			buf_append(out, replacement, 3);
			return 0;
		}
		if (cp == 0xfffd && k == 1) {
			buf_append(out, s + start, i - start);
			buf_append(out, replacement, 3);
			start = i + 1;
		}
		i += k;
	}
	buf_append(out, s + start, n - start);
	return 0;
}

/* is_utf8_name - charsets we take as UTF-8 without iconv */
static bool
is_utf8_name(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	    strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0 ||
	    cs[0] == '\0';
}

/* imap_text_conv_init - a converter from charset (NULL: UTF-8) */
void
imap_text_conv_init(struct imap_text_conv *c, const char *charset)
{
	char name[TEXT_CHARSET_MAX + 1];
	iconv_t cd;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (charset == NULL || strlen(charset) > TEXT_CHARSET_MAX)
		return;
	/* RFC 2231 language suffix: "utf-8*en" */
	for (i = 0; charset[i] != '\0' && charset[i] != '*'; i++)
		name[i] = charset[i];
	name[i] = '\0';
	if (is_utf8_name(name))
		return;
	cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return;
	c->cd = cd;
}

/* imap_text_conv_deinit - close the iconv descriptor */
void
imap_text_conv_deinit(struct imap_text_conv *c)
{
	if (c->cd != NULL)
		iconv_close((iconv_t)c->cd);
	memset(c, 0, sizeof(*c));
}

/* conv_iconv - run iconv over p[0..n); returns the unconsumed tail
 * length (an incomplete sequence, when !final) */
static size_t
conv_iconv(struct imap_text_conv *c, const char *p, size_t n, bool final,
    struct buf *out)
{
	char obuf[4096], *in = (char *)p, *o;
	size_t inleft = n, oleft, r;

	while (inleft > 0) {
		o = obuf;
		oleft = sizeof(obuf);
		r = iconv((iconv_t)c->cd, &in, &inleft, &o, &oleft);
		buf_append(out, obuf, sizeof(obuf) - oleft);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		if (errno == EINVAL && !final && inleft < sizeof(c->carry))
			return inleft;
		/* EILSEQ, or a truncated sequence at the very end */
		buf_append(out, replacement, 3);
		in++;
		inleft--;
	}
	if (final) {
		o = obuf;
		oleft = sizeof(obuf);
		iconv((iconv_t)c->cd, NULL, NULL, &o, &oleft);
		buf_append(out, obuf, sizeof(obuf) - oleft);
		iconv((iconv_t)c->cd, NULL, NULL, NULL, NULL);
	}
	return 0;
}

/* imap_text_conv_feed - convert one piece to UTF-8 */
void
imap_text_conv_feed(struct imap_text_conv *c, const char *p, size_t n,
    bool final, struct buf *out)
{
	char *joined = NULL;
	size_t left;

	if (c->ncarry > 0) {
		joined = xmalloc(c->ncarry + n);
		memcpy(joined, c->carry, c->ncarry);
		if (n > 0)
			memcpy(joined + c->ncarry, p, n);
		p = joined;
		n += c->ncarry;
		c->ncarry = 0;
	}
	if (c->cd == NULL)
		left = utf8_copy(p, n, final, out);
	else
		left = conv_iconv(c, p, n, final, out);
	/* left < sizeof(carry): a UTF-8 sequence is at most 4 bytes, and
	 * conv_iconv() only leaves what fits */
	if (left > 0) {
		memcpy(c->carry, p + n - left, left);
		c->ncarry = left;
	}
	free(joined);
}

/* hexval - value of a hex digit, or -1 */
static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* decode_q - RFC 2047 "Q" text into out */
static void
decode_q(const char *s, size_t n, struct buf *out)
{
	size_t i;
	int h1, h2;

	for (i = 0; i < n; i++) {
		if (s[i] == '_') {
			buf_append_byte(out, ' ');
			continue;
		}
		if (s[i] == '=' && i + 2 < n &&
		    (h1 = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (h2 = hexval((unsigned char)s[i + 2])) >= 0) {
			buf_append_byte(out, (unsigned char)((h1 << 4) | h2));
			i += 2;
			continue;
		}
		buf_append_byte(out, (unsigned char)s[i]);
	}
}

/* decode_b - RFC 2047 "B" text into out (lenient base64) */
static void
decode_b(const char *s, size_t n, struct buf *out)
{
	struct imap_decoder d;
	char tmp[256];
	size_t k;

	imap_decoder_init(&d, IMAP_CTE_BASE64, s, n);
	while ((k = imap_decoder_read(&d, tmp, sizeof(tmp))) > 0)
		buf_append(out, tmp, k);
}

/* an encoded-word found in a header value */
struct eword {
	size_t		 start, end;	/* "=?" .. "?=" inclusive */
	const char	*cs;		/* charset */
	size_t		 csn;
	char		 enc;		/* 'B' or 'Q' */
	const char	*text;
	size_t		 textn;
};

/* find_eword - the next well-formed encoded-word in s[from..n) */
static bool
find_eword(const char *s, size_t n, size_t from, struct eword *w)
{
	size_t i, j, k;

	for (i = from; i + 1 < n; i++) {
		if (s[i] != '=' || s[i + 1] != '?')
			continue;
		/* charset */
		for (j = i + 2; j < n && s[j] != '?' && s[j] != ' ' &&
		    s[j] != '\t'; j++)
			;
		if (j >= n || s[j] != '?' || j == i + 2 || j + 2 >= n ||
		    s[j + 2] != '?')
			continue;
		if (strchr("BbQq", s[j + 1]) == NULL || s[j + 1] == '\0')
			continue;
		/* text up to "?=" */
		for (k = j + 3; k + 1 < n; k++) {
			if (s[k] == ' ' || s[k] == '\t')
				break;
			if (s[k] == '?' && s[k + 1] == '=')
				break;
		}
		if (k + 1 >= n || s[k] != '?' || s[k + 1] != '=')
			continue;
		w->start = i;
		w->end = k + 2;
		w->cs = s + i + 2;
		w->csn = j - (i + 2);
		w->enc = (char)(s[j + 1] & ~0x20);
		w->text = s + j + 3;
		w->textn = k - (j + 3);
		return true;
	}
	return false;
}

/* flush_words - convert the decoded bytes of a run of words */
static void
flush_words(struct buf *pending, const char *cs, struct buf *out)
{
	struct imap_text_conv c;

	if (buf_avail(pending) == 0)
		return;
	imap_text_conv_init(&c, cs);
	imap_text_conv_feed(&c, buf_ptr(pending), buf_avail(pending), true,
	    out);
	imap_text_conv_deinit(&c);
	buf_reset(pending);
}

/* only_wsp - s[a..b) is white space only */
static bool
only_wsp(const char *s, size_t a, size_t b)
{
	for (; a < b; a++)
		if (s[a] != ' ' && s[a] != '\t')
			return false;
	return true;
}

/* imap_text_decode_header - a header value to UTF-8 text */
void
imap_text_decode_header(const char *s, size_t n, struct buf *out)
{
	struct buf unf, pending;
	struct eword w;
	char cs[TEXT_CHARSET_MAX + 1], wcs[TEXT_CHARSET_MAX + 1];
	size_t i, pos, start, end;
	bool have_words = false;

	/* unfold: CR and LF go, the white space after them stays; NUL too */
	buf_init(&unf, 0);
	for (i = start = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
			buf_append(&unf, s + start, i - start);
			start = i + 1;
		}
	}
	buf_append(&unf, s + start, n - start);
	s = buf_ptr(&unf);
	n = buf_avail(&unf);
	/* trim */
	for (start = 0; start < n && (s[start] == ' ' || s[start] == '\t');
	    start++)
		;
	for (end = n; end > start && (s[end - 1] == ' ' || s[end - 1] == '\t');
	    end--)
		;
	buf_init(&pending, 0);
	cs[0] = '\0';
	pos = start;
	while (pos < end && find_eword(s, end, pos, &w)) {
		/* white space alone between two words is dropped */
		if (!(have_words && only_wsp(s, pos, w.start))) {
			flush_words(&pending, cs, out);
			utf8_copy(s + pos, w.start - pos, true, out);
		}
		if (w.csn > TEXT_CHARSET_MAX)
			w.csn = TEXT_CHARSET_MAX;
		memcpy(wcs, w.cs, w.csn);
		wcs[w.csn] = '\0';
		if (strcasecmp(wcs, cs) != 0) {
			flush_words(&pending, cs, out);
			memcpy(cs, wcs, w.csn + 1);
		}
		if (w.enc == 'B')
			decode_b(w.text, w.textn, &pending);
		else
			decode_q(w.text, w.textn, &pending);
		have_words = true;
		pos = w.end;
	}
	flush_words(&pending, cs, out);
	if (pos < end)
		utf8_copy(s + pos, end - pos, true, out);
	buf_deinit(&pending);
	buf_deinit(&unf);
}

/* imap_text_match_init - prepare a search for needle */
void
imap_text_match_init(struct imap_text_match *m, const char *needle,
    size_t n)
{
	struct imap_text_conv c;
	struct buf u;

	memset(m, 0, sizeof(*m));
	buf_init(&m->needle, 0);
	buf_init(&m->hay, 0);
	buf_init(&u, 0);
	imap_text_conv_init(&c, NULL);
	imap_text_conv_feed(&c, needle, n, true, &u);
	imap_text_conv_deinit(&c);
	imap_text_fold(buf_ptr(&u), buf_avail(&u), &m->needle);
	buf_deinit(&u);
	m->found = buf_avail(&m->needle) == 0;
}

/* imap_text_match_deinit - free the buffers */
void
imap_text_match_deinit(struct imap_text_match *m)
{
	buf_deinit(&m->needle);
	buf_deinit(&m->hay);
}

/* imap_text_match_reset - start over on new text */
void
imap_text_match_reset(struct imap_text_match *m)
{
	buf_reset(&m->hay);
	m->found = buf_avail(&m->needle) == 0;
}

/* imap_text_match_feed - fold a piece and look for the needle */
bool
imap_text_match_feed(struct imap_text_match *m, const char *p, size_t n)
{
	size_t nl = buf_avail(&m->needle), hl, keep;

	if (m->found || n == 0)
		return m->found;
	imap_text_fold(p, n, &m->hay);
	hl = buf_avail(&m->hay);
	if (hl >= nl && memmem(buf_ptr(&m->hay), hl, buf_ptr(&m->needle),
	    nl) != NULL) {
		m->found = true;
		return true;
	}
	/* keep nl - 1 bytes: a match may start in them */
	keep = hl < nl ? hl : nl - 1;
	buf_consume(&m->hay, hl - keep);
	return false;
}

/* imap_text_contains - one-shot search */
bool
imap_text_contains(const char *hay, size_t hn, const char *needle,
    size_t nn)
{
	struct imap_text_match m;
	bool r;

	imap_text_match_init(&m, needle, nn);
	r = imap_text_match_feed(&m, hay, hn);
	imap_text_match_deinit(&m);
	return r;
}
