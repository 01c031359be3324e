/* store_name.c - mailbox names: checks, Maildir++ mapping, modified UTF-7 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"
#include "xmalloc.h"

#include "store_name.h"

/* store_name_is_inbox - whether a canonical name is INBOX */
bool
store_name_is_inbox(const char *name)
{
	return strcmp(name, "INBOX") == 0;
}

/* store_name_check - refuse names that are not safe; canonicalise INBOX */
int
store_name_check(const char *name, char **canon_r, const char **error_r)
{
	size_t len = strlen(name), i, start;
	char *canon;

	if (len == 0) {
		*error_r = "empty mailbox name";
		return -1;
	}
	if (len > STORE_NAME_MAX) {
		*error_r = "mailbox name longer than 255 bytes";
		return -1;
	}
	if (!str_is_printable_utf8(name, len)) {
		*error_r = "mailbox name has control characters or bad UTF-8";
		return -1;
	}
	if (name[0] == STORE_NAME_SEP || name[len - 1] == STORE_NAME_SEP) {
		*error_r = "mailbox name starts or ends with the separator";
		return -1;
	}
	/* each component: not empty, not "." or ".." */
	for (start = 0, i = 0; i <= len; i++) {
		if (i < len && name[i] != STORE_NAME_SEP)
			continue;
		if (i == start) {
			*error_r = "mailbox name has an empty component";
			return -1;
		}
		if ((i - start == 1 && name[start] == '.') ||
		    (i - start == 2 && name[start] == '.' &&
		    name[start + 1] == '.')) {
			*error_r = "mailbox name has a . or .. component";
			return -1;
		}
		start = i + 1;
	}
	canon = xstrdup(name);
	if (strncasecmp(canon, "INBOX", 5) == 0 &&
	    (canon[5] == '\0' || canon[5] == STORE_NAME_SEP))
		memcpy(canon, "INBOX", 5);
	*canon_r = canon;
	return 0;
}

/* store_name_to_dir - ".a.b%2Ec" for "a/b.c"; "" for INBOX */
int
store_name_to_dir(const char *name, char **dir_r, const char **error_r)
{
	struct buf b;
	char *canon;
	const char *p;

	if (store_name_check(name, &canon, error_r) < 0)
		return -1;
	if (store_name_is_inbox(canon)) {
		free(canon);
		*dir_r = xstrdup("");
		return 0;
	}
	buf_init(&b, 0);
	buf_append_byte(&b, '.');
	for (p = canon; *p != '\0'; p++) {
		if (*p == STORE_NAME_SEP)
			buf_append_byte(&b, '.');
		else if (*p == '.')
			buf_append_str(&b, "%2E");
		else if (*p == '%')
			buf_append_str(&b, "%25");
		else
			buf_append_byte(&b, (unsigned char)*p);
	}
	free(canon);
	if (b.len > 255) {
		buf_deinit(&b);
		*error_r = "mailbox name too long once escaped";
		return -1;
	}
	*dir_r = buf_steal(&b, NULL);
	return 0;
}

/* store_name_from_dir - the mailbox name of ".a.b%2Ec", checked */
int
store_name_from_dir(const char *dir, char **name_r)
{
	struct buf b;
	const char *p, *error;
	char *name, *canon, *back;
	int ok;

	if (dir[0] != '.' || dir[1] == '\0')
		return -1;
	buf_init(&b, 4096);
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p == '.')
			buf_append_byte(&b, STORE_NAME_SEP);
		else if (strncmp(p, "%2E", 3) == 0) {
			buf_append_byte(&b, '.');
			p += 2;
		} else if (strncmp(p, "%25", 3) == 0) {
			buf_append_byte(&b, '%');
			p += 2;
		} else
			buf_append_byte(&b, (unsigned char)*p);
	}
	name = buf_steal(&b, NULL);
	if (store_name_check(name, &canon, &error) < 0) {
		free(name);
		return -1;
	}
	free(name);
	/* only directories that map back to themselves are ours: "%zz" or
	 * ".INBOX" written by another program would alias another name */
	back = NULL;
	ok = store_name_to_dir(canon, &back, &error) == 0 &&
	    strcmp(back, dir) == 0;
	free(back);
	if (!ok) {
		free(canon);
		return -1;
	}
	*name_r = canon;
	return 0;
}

static const char mutf7_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* utf8_next - decode one code point; -1 on bad UTF-8 */
static int
utf8_next(const unsigned char **pp, uint32_t *cp_r)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	int n, i;

	if (p[0] < 0x80) {
		cp = p[0];
		n = 0;
	} else if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		n = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		n = 2;
	} else if ((p[0] & 0xf8) == 0xf0) {
		cp = p[0] & 0x07;
		n = 3;
	} else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
	    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*cp_r = cp;
	*pp = p + n + 1;
	return 0;
}

/* utf8_put - append one code point as UTF-8 */
static void
utf8_put(struct buf *b, uint32_t cp)
{
	if (cp < 0x80)
		buf_append_byte(b, cp);
	else if (cp < 0x800) {
		buf_append_byte(b, 0xc0 | (cp >> 6));
		buf_append_byte(b, 0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		buf_append_byte(b, 0xe0 | (cp >> 12));
		buf_append_byte(b, 0x80 | ((cp >> 6) & 0x3f));
		buf_append_byte(b, 0x80 | (cp & 0x3f));
	} else {
		buf_append_byte(b, 0xf0 | (cp >> 18));
		buf_append_byte(b, 0x80 | ((cp >> 12) & 0x3f));
		buf_append_byte(b, 0x80 | ((cp >> 6) & 0x3f));
		buf_append_byte(b, 0x80 | (cp & 0x3f));
	}
}

/* store_name_to_mutf7 - RFC 3501 5.1.3 encoding of a UTF-8 name */
int
store_name_to_mutf7(const char *utf8, char **mutf7_r)
{
	const unsigned char *p = (const unsigned char *)utf8;
	struct buf b;
	uint32_t cp, bits = 0;
	uint16_t units[2];
	int nbits = 0, in_b64 = 0, nu, i;

	buf_init(&b, 0);
	while (*p != '\0') {
		if (utf8_next(&p, &cp) < 0) {
			buf_deinit(&b);
			return -1;
		}
		if (cp >= 0x20 && cp <= 0x7e) {
			if (in_b64) {
				if (nbits > 0)
					buf_append_byte(&b, mutf7_b64[
					    (bits << (6 - nbits)) & 0x3f]);
				buf_append_byte(&b, '-');
				in_b64 = 0;
				nbits = 0;
				bits = 0;
			}
			if (cp == '&')
				buf_append_str(&b, "&-");
			else
				buf_append_byte(&b, cp);
			continue;
		}
		if (!in_b64) {
			buf_append_byte(&b, '&');
			in_b64 = 1;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			units[0] = 0xd800 | (cp >> 10);
			units[1] = 0xdc00 | (cp & 0x3ff);
			nu = 2;
		} else {
			units[0] = cp;
			nu = 1;
		}
		for (i = 0; i < nu; i++) {
			bits = (bits << 16) | units[i];
			nbits += 16;
			while (nbits >= 6) {
				nbits -= 6;
				buf_append_byte(&b,
				    mutf7_b64[(bits >> nbits) & 0x3f]);
			}
			bits &= (1u << nbits) - 1;
		}
	}
	if (in_b64) {
		if (nbits > 0)
			buf_append_byte(&b,
			    mutf7_b64[(bits << (6 - nbits)) & 0x3f]);
		buf_append_byte(&b, '-');
	}
	*mutf7_r = buf_steal(&b, NULL);
	return 0;
}

/* store_name_from_mutf7 - decode modified UTF-7, strictly */
int
store_name_from_mutf7(const char *mutf7, char **utf8_r)
{
	const char *p = mutf7, *q;
	struct buf b;
	uint32_t bits, hi = 0, u;
	int nbits, ndigits;

	buf_init(&b, 0);
	while (*p != '\0') {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			goto bad;
		if (*p != '&') {
			buf_append_byte(&b, (unsigned char)*p++);
			continue;
		}
		p++;
		if (*p == '-') {
			buf_append_byte(&b, '&');
			p++;
			continue;
		}
		bits = 0;
		nbits = 0;
		ndigits = 0;
		hi = 0;
		for (; *p != '-'; p++) {
			if (*p == '\0' || (q = strchr(mutf7_b64, *p)) == NULL)
				goto bad;
			bits = (bits << 6) | (uint32_t)(q - mutf7_b64);
			nbits += 6;
			ndigits++;
			if (nbits < 16)
				continue;
			nbits -= 16;
			u = (bits >> nbits) & 0xffff;
			bits &= (1u << nbits) - 1;
			if (hi != 0) {
				if (u < 0xdc00 || u > 0xdfff)
					goto bad;
				utf8_put(&b, 0x10000 + ((hi - 0xd800) << 10) +
				    (u - 0xdc00));
				hi = 0;
			} else if (u >= 0xd800 && u <= 0xdbff)
				hi = u;
			else if (u >= 0xdc00 && u <= 0xdfff)
				goto bad;
			else if (u >= 0x20 && u <= 0x7e)
				goto bad;	/* must have been direct */
			else
				utf8_put(&b, u);
		}
		p++;
		/* empty "&-" was handled; leftover bits must be zero and few;
		 * a lone high surrogate is an error */
		if (ndigits == 0 || hi != 0 || nbits >= 6 || bits != 0)
			goto bad;
	}
	*utf8_r = buf_steal(&b, NULL);
	return 0;
bad:
	buf_deinit(&b);
	return -1;
}
