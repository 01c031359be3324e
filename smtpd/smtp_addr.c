/* smtp_addr.c - RFC 5321 paths and mailboxes */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp_addr.h"

/*
 * The scanners below walk a cursor over s[0 .. len) and never read past
 * len; a scanner that fails leaves *err set and returns -1.
 */
struct scan {
	const unsigned char *s;
	size_t	 len;
	size_t	 pos;
	unsigned int flags;
	bool	 utf8;		/* saw a non-ASCII byte */
	enum smtp_addr_err err;
};

/* scan_fail - record the first error and return -1 */
static int
scan_fail(struct scan *sc, enum smtp_addr_err err)
{
	if (sc->err == SMTP_ADDR_OK)
		sc->err = err;
	return -1;
}

/* utf8_seq_len - length of the well-formed UTF-8 sequence at p, or 0 */
static size_t
utf8_seq_len(const unsigned char *p, size_t avail)
{
	unsigned int cp;
	size_t n, k;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp < 0xa0))
		return 0;
	return n;
}

/*
 * scan_utf8 - at a non-ASCII byte: consume one UTF-8 character if SMTPUTF8
 * allows it (RFC 6531 UTF8-non-ascii), else fail
 */
static int
scan_utf8(struct scan *sc)
{
	size_t n;

	if ((sc->flags & SMTP_ADDR_F_UTF8) == 0)
		return scan_fail(sc, SMTP_ADDR_ERR_UTF8);
	n = utf8_seq_len(sc->s + sc->pos, sc->len - sc->pos);
	if (n == 0)
		return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);
	sc->pos += n;
	sc->utf8 = true;
	return 0;
}

/* is_atext - RFC 5322 atext, ASCII part */
static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_letdig - RFC 5321 Let-dig */
static bool
is_letdig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* scan_atom - one or more atext characters */
static int
scan_atom(struct scan *sc)
{
	size_t start = sc->pos;

	while (sc->pos < sc->len) {
		unsigned char c = sc->s[sc->pos];

		if (c >= 0x80) {
			if (scan_utf8(sc) < 0)
				return -1;
		} else if (is_atext(c)) {
			sc->pos++;
		} else {
			break;
		}
	}
	if (sc->pos == start)
		return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);
	return 0;
}

/* scan_dot_string - RFC 5321 Dot-string: Atom *("." Atom) */
static int
scan_dot_string(struct scan *sc)
{
	if (scan_atom(sc) < 0)
		return -1;
	while (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		sc->pos++;
		if (scan_atom(sc) < 0)
			return -1;
	}
	return 0;
}

/* scan_quoted - RFC 5321 Quoted-string, quotes included */
static int
scan_quoted(struct scan *sc)
{
	sc->pos++;		/* the opening quote */
	while (sc->pos < sc->len) {
		unsigned char c = sc->s[sc->pos];

		if (c == '"') {
			sc->pos++;
			return 0;
		}
		if (c == '\\') {
			/* quoted-pairSMTP = %d92 %d32-126 */
			if (sc->pos + 1 >= sc->len || sc->s[sc->pos + 1] < 32 ||
			    sc->s[sc->pos + 1] > 126)
				return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);
			sc->pos += 2;
		} else if (c >= 0x80) {
			if (scan_utf8(sc) < 0)
				return -1;
		} else if (c >= 32 && c <= 126) {
			sc->pos++;	/* qtextSMTP: all but '"' and '\' */
		} else {
			return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);
		}
	}
	return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);	/* unterminated */
}

/* parse_ipv4 - dotted quad of RFC 5321 Snum (1*3DIGIT, 0..255) */
static bool
parse_ipv4(const char *s, size_t len, unsigned char out[4])
{
	size_t i = 0, part, digits;
	unsigned int v;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		v = 0;
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9';
		    digits++, i++) {
			if (digits == 3)
				return false;
			v = v * 10 + (unsigned int)(s[i] - '0');
		}
		if (digits == 0 || v > 255)
			return false;
		out[part] = (unsigned char)v;
	}
	return i == len;
}

/*
 * scan_literal - address literal [a.b.c.d] or [IPv6:...]; writes the
 * canonical form into canon (at least SMTP_ADDR_DOMAIN_MAX + 1 bytes).
 * General-address-literals are refused: no standardized tag but IPv6
 * exists, and nobody should route mail by one.
 */
static int
scan_literal(struct scan *sc, char *canon)
{
	const char *body;
	size_t start, blen;
	unsigned char v4[4];
	struct in6_addr v6;
	char tmp[INET6_ADDRSTRLEN + 1], ntop[INET6_ADDRSTRLEN];

	start = ++sc->pos;
	while (sc->pos < sc->len && sc->s[sc->pos] != ']') {
		if (sc->s[sc->pos] >= 0x80)
			return scan_fail(sc, (sc->flags & SMTP_ADDR_F_UTF8) ?
			    SMTP_ADDR_ERR_SYNTAX : SMTP_ADDR_ERR_UTF8);
		sc->pos++;
	}
	if (sc->pos >= sc->len)
		return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);
	body = (const char *)sc->s + start;
	blen = sc->pos - start;
	sc->pos++;		/* the ']' */
	if (parse_ipv4(body, blen, v4)) {
		snprintf(canon, SMTP_ADDR_DOMAIN_MAX + 1, "[%u.%u.%u.%u]",
		    v4[0], v4[1], v4[2], v4[3]);
		return 0;
	}
	if (blen > 5 && strncasecmp(body, "IPv6:", 5) == 0 &&
	    blen - 5 < sizeof(tmp)) {
		memcpy(tmp, body + 5, blen - 5);
		tmp[blen - 5] = '\0';
		if (inet_pton(AF_INET6, tmp, &v6) == 1 &&
		    inet_ntop(AF_INET6, &v6, ntop, sizeof(ntop)) != NULL) {
			snprintf(canon, SMTP_ADDR_DOMAIN_MAX + 1, "[IPv6:%s]",
			    ntop);
			return 0;
		}
	}
	return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);
}

/*
 * scan_domain - RFC 5321 Domain: sub-domain *("." sub-domain), each
 * sub-domain Let-dig [Ldh-str]; with SMTPUTF8 a label may also hold UTF-8
 * (a U-label; we check only that it is well-formed UTF-8).  Checks the label
 * and total length limits.
 */
static int
scan_domain(struct scan *sc)
{
	size_t start = sc->pos, lstart;
	unsigned char c;

	for (;;) {
		lstart = sc->pos;
		while (sc->pos < sc->len) {
			c = sc->s[sc->pos];
			if (c >= 0x80) {
				if (scan_utf8(sc) < 0)
					return -1;
			} else if (is_letdig(c) || c == '-') {
				sc->pos++;
			} else {
				break;
			}
		}
		if (sc->pos == lstart || sc->s[lstart] == '-' ||
		    sc->s[sc->pos - 1] == '-')
			return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);
		if (sc->pos - lstart > SMTP_ADDR_LABEL_MAX)
			return scan_fail(sc, SMTP_ADDR_ERR_DOMAIN_TOO_LONG);
		if (sc->pos >= sc->len || sc->s[sc->pos] != '.')
			break;
		sc->pos++;
	}
	if (sc->pos - start > SMTP_ADDR_DOMAIN_MAX)
		return scan_fail(sc, SMTP_ADDR_ERR_DOMAIN_TOO_LONG);
	return 0;
}

/* lower_ascii - copy n bytes lowering ASCII letters only */
static void
lower_ascii(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	dst[n] = '\0';
}

/*
 * scan_mailbox - Local-part "@" ( Domain / address-literal ) into addr;
 * with allow_bare, a local part alone is accepted and leaves the domain
 * empty (the caller decides whether that is <postmaster>)
 */
static int
scan_mailbox(struct scan *sc, struct smtp_addr *addr, bool allow_bare)
{
	size_t lstart, llen, dstart, dlen;
	char canon[SMTP_ADDR_DOMAIN_MAX + 1];

	lstart = sc->pos;
	if (sc->pos < sc->len && sc->s[sc->pos] == '"') {
		if (scan_quoted(sc) < 0)
			return -1;
		addr->quoted = true;
	} else if (scan_dot_string(sc) < 0) {
		return -1;
	}
	llen = sc->pos - lstart;
	if (llen > SMTP_ADDR_LOCAL_MAX)
		return scan_fail(sc, SMTP_ADDR_ERR_LOCAL_TOO_LONG);
	memcpy(addr->local, sc->s + lstart, llen);
	addr->local[llen] = '\0';

	if (sc->pos >= sc->len || sc->s[sc->pos] != '@') {
		if (allow_bare)
			return 0;
		return scan_fail(sc, SMTP_ADDR_ERR_NO_DOMAIN);
	}
	sc->pos++;
	dstart = sc->pos;
	canon[0] = '\0';
	if (sc->pos < sc->len && sc->s[sc->pos] == '[') {
		if (scan_literal(sc, canon) < 0)
			return -1;
		addr->literal = true;
	} else if (scan_domain(sc) < 0) {
		return -1;
	}
	dlen = sc->pos - dstart;
	if (dlen > SMTP_ADDR_DOMAIN_MAX)
		return scan_fail(sc, SMTP_ADDR_ERR_DOMAIN_TOO_LONG);
	memcpy(addr->domain, sc->s + dstart, dlen);
	addr->domain[dlen] = '\0';
	if (addr->literal)
		/* canon is never longer than the literal it came from */
		strcpy(addr->domain_lc, canon);
	else
		lower_ascii(addr->domain_lc, addr->domain, dlen);
	return 0;
}

/* scan_route - A-d-l ":" of a source route, validated and dropped */
static int
scan_route(struct scan *sc)
{
	for (;;) {
		if (sc->pos >= sc->len || sc->s[sc->pos] != '@')
			return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);
		sc->pos++;
		if (scan_domain(sc) < 0)
			return -1;
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == ':') {
			sc->pos++;
			return 0;
		}
		return scan_fail(sc, SMTP_ADDR_ERR_SYNTAX);
	}
}

/* smtp_addr_parse_path - parse "<...>" at the start of s */
int
smtp_addr_parse_path(const char *s, size_t len, unsigned int flags,
    struct smtp_addr *addr_r, size_t *used_r, enum smtp_addr_err *err_r)
{
	struct scan sc = { (const unsigned char *)s, len, 0, flags, false,
	    SMTP_ADDR_OK };
	struct smtp_addr *a = addr_r;

	memset(a, 0, sizeof(*a));
	*err_r = SMTP_ADDR_OK;
	if (len < 2 || s[0] != '<') {
		*err_r = SMTP_ADDR_ERR_SYNTAX;
		return -1;
	}
	if (s[1] == '>') {
		if ((flags & SMTP_ADDR_F_NULL) == 0) {
			*err_r = SMTP_ADDR_ERR_NULL;
			return -1;
		}
		a->kind = SMTP_ADDR_NULL;
		*used_r = 2;
		return 0;
	}
	sc.pos = 1;
	if (s[1] == '@') {
		if (scan_route(&sc) < 0)
			goto fail;
		a->routed = true;
	}
	if (scan_mailbox(&sc, a, true) < 0)
		goto fail;
	if (sc.pos >= sc.len || sc.s[sc.pos] != '>') {
		scan_fail(&sc, SMTP_ADDR_ERR_SYNTAX);
		goto fail;
	}
	sc.pos++;
	if (a->domain[0] == '\0') {
		/* RFC 5321 4.1.1.3: only <postmaster> may lack a domain */
		if ((flags & SMTP_ADDR_F_POSTMASTER) == 0 || a->quoted ||
		    a->routed || strcasecmp(a->local, "postmaster") != 0) {
			scan_fail(&sc, SMTP_ADDR_ERR_NO_DOMAIN);
			goto fail;
		}
		a->kind = SMTP_ADDR_POSTMASTER;
		memcpy(a->local, "postmaster", sizeof("postmaster"));
	}
	if (sc.pos > SMTP_ADDR_PATH_MAX) {
		scan_fail(&sc, SMTP_ADDR_ERR_PATH_TOO_LONG);
		goto fail;
	}
	a->utf8 = sc.utf8;
	*used_r = sc.pos;
	return 0;
fail:
	memset(a, 0, sizeof(*a));
	*err_r = sc.err;
	return -1;
}

/* smtp_addr_parse_mailbox - the whole of s must be local@domain */
int
smtp_addr_parse_mailbox(const char *s, size_t len, unsigned int flags,
    struct smtp_addr *addr_r, enum smtp_addr_err *err_r)
{
	struct scan sc = { (const unsigned char *)s, len, 0, flags, false,
	    SMTP_ADDR_OK };

	memset(addr_r, 0, sizeof(*addr_r));
	*err_r = SMTP_ADDR_OK;
	if (scan_mailbox(&sc, addr_r, false) < 0 ||
	    (sc.pos != sc.len && scan_fail(&sc, SMTP_ADDR_ERR_SYNTAX) < 0)) {
		memset(addr_r, 0, sizeof(*addr_r));
		*err_r = sc.err;
		return -1;
	}
	/* a bare mailbox has no brackets: 2 octets less than a path */
	if (len + 2 > SMTP_ADDR_PATH_MAX) {
		memset(addr_r, 0, sizeof(*addr_r));
		*err_r = SMTP_ADDR_ERR_PATH_TOO_LONG;
		return -1;
	}
	addr_r->utf8 = sc.utf8;
	return 0;
}

/* smtp_addr_domain_valid - s is exactly a Domain or an address literal */
bool
smtp_addr_domain_valid(const char *s, size_t len, unsigned int flags)
{
	struct scan sc = { (const unsigned char *)s, len, 0, flags, false,
	    SMTP_ADDR_OK };
	char canon[SMTP_ADDR_DOMAIN_MAX + 1];

	if (len == 0 || len > SMTP_ADDR_DOMAIN_MAX)
		return false;
	if (s[0] == '[') {
		if (scan_literal(&sc, canon) < 0)
			return false;
	} else if (scan_domain(&sc) < 0) {
		return false;
	}
	return sc.pos == len;
}

/* smtp_addr_strerror - text for an address error */
const char *
smtp_addr_strerror(enum smtp_addr_err err)
{
	switch (err) {
	case SMTP_ADDR_OK:
		return "No error";
	case SMTP_ADDR_ERR_SYNTAX:
		return "Bad address syntax";
	case SMTP_ADDR_ERR_LOCAL_TOO_LONG:
		return "Local part too long";
	case SMTP_ADDR_ERR_DOMAIN_TOO_LONG:
		return "Domain name too long";
	case SMTP_ADDR_ERR_PATH_TOO_LONG:
		return "Path too long";
	case SMTP_ADDR_ERR_UTF8:
		return "Non-ASCII address without SMTPUTF8";
	case SMTP_ADDR_ERR_NULL:
		return "Null path not allowed here";
	case SMTP_ADDR_ERR_NO_DOMAIN:
		return "Address lacks a domain";
	}
	return "Bad address";
}

/* format - local@domain with the given domain, or the special forms */
static void
format(const struct smtp_addr *addr, const char *domain, char *dst,
    size_t dstsize)
{
	if (dstsize == 0)
		return;
	switch (addr->kind) {
	case SMTP_ADDR_NULL:
		dst[0] = '\0';
		break;
	case SMTP_ADDR_POSTMASTER:
		snprintf(dst, dstsize, "postmaster");
		break;
	case SMTP_ADDR_MAILBOX:
		snprintf(dst, dstsize, "%s@%s", addr->local, domain);
		break;
	}
}

/* smtp_addr_format - the address as sent, without the brackets */
void
smtp_addr_format(const struct smtp_addr *addr, char *dst, size_t dstsize)
{
	format(addr, addr->domain, dst, dstsize);
}

/* smtp_addr_format_lc - the address with its domain lowered, for lookups */
void
smtp_addr_format_lc(const struct smtp_addr *addr, char *dst, size_t dstsize)
{
	format(addr, addr->domain_lc, dst, dstsize);
}

/* smtp_addr_detail - split user+detail at the first delimiter */
bool
smtp_addr_detail(const struct smtp_addr *addr, char delim,
    size_t *user_len_r, const char **detail_r)
{
	const char *p;

	if (addr->kind != SMTP_ADDR_MAILBOX || addr->quoted || delim == '\0')
		return false;
	p = strchr(addr->local, delim);
	if (p == NULL || p == addr->local)
		return false;
	*user_len_r = (size_t)(p - addr->local);
	*detail_r = p + 1;
	return true;
}

/* smtp_addr_is_routing_trick - source route or %/! in an unquoted local */
bool
smtp_addr_is_routing_trick(const struct smtp_addr *addr)
{
	if (addr->routed)
		return true;
	if (addr->kind != SMTP_ADDR_MAILBOX || addr->quoted)
		return false;
	return strpbrk(addr->local, "%!") != NULL;
}
