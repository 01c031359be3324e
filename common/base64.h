/*
 * base64 - RFC 4648 base64 (standard alphabet, padded), strict
 *
 * Encoding appends to a capped struct buf, so output can never pass the
 * owner's ceiling.  Decoding is strict, as SASL (RFC 4954, RFC 4422)
 * wants it: the length is a multiple of four, padding is present and
 * only at the end, no white space, no other alphabet, and the bits after
 * the last byte are zero (RFC 4648 3.5), so that every byte string has
 * exactly one accepted encoding.  Nothing here allocates except the
 * buffer growth in base64_encode(); the module owns no state.
 */
#ifndef BASTIDE_BASE64_H
#define BASTIDE_BASE64_H

#include <stddef.h>

#include "buf.h"

/* append base64 (RFC 4648, padded) of p[0..n) to out; -1 past ceiling */
int	 base64_encode(struct buf *out, const void *p, size_t n);
/* bytes enough to decode len base64 characters */
size_t	 base64_decoded_max(size_t len);
/* strict decode (padding required, no whitespace); length or -1 */
long	 base64_decode(const char *s, size_t len, unsigned char *dst);

#endif
