/*
 * smtp_xtext - the xtext encoding of RFC 3461 section 4
 *
 * ENVID, ORCPT and the AUTH= parameter of MAIL (RFC 4954) carry their
 * values as xtext: printable ASCII except '+' and '=', with any other byte
 * written as '+' and two hex digits.  The parser decodes them on the way in
 * and the relay client encodes them again on the way out.
 */
#ifndef BASTIDE_SMTP_XTEXT_H
#define BASTIDE_SMTP_XTEXT_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/*
 * Decode s[0 .. len) into dst (room for len + 1 bytes is always enough).
 * Returns the decoded length, or -1 for malformed xtext: a byte outside
 * '!'..'~', a bare '=', or '+' not followed by two hex digits.  With
 * allow_utf8 (RFC 6533 utf-8-addr-xtext), well-formed UTF-8 passes through.
 * A decoded NUL or control character is refused too: nothing downstream
 * wants one.
 */
long	 smtp_xtext_decode(const char *s, size_t len, bool allow_utf8,
	    char *dst);
/* append the xtext form of s to b; -1 past the buffer's ceiling */
int	 smtp_xtext_encode(struct buf *b, const char *s, size_t len);

#endif
