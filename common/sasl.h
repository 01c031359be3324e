/*
 * sasl - server-side SASL mechanism messages, without I/O
 *
 * Parses what a client sends for a mechanism once the protocol has
 * base64-decoded it; the protocol (smtpd AUTH, later IMAP AUTHENTICATE)
 * owns the exchange and the directory check.  The strings handed out are
 * the caller's, and the secret ones (at least the password) must be
 * released with sasl_secret_free(), which wipes them first.  The module
 * keeps no copies and no state.
 */
#ifndef BASTIDE_SASL_H
#define BASTIDE_SASL_H

#include <stddef.h>

#define SASL_PLAIN_FIELD_MAX	255	/* bytes, RFC 4616 section 2 */

/* RFC 4616 PLAIN message (already base64-decoded): authzid may be ""
 * ; -1 with a static reason on NUL count, empty authcid/password,
 * over 255 bytes each, bad UTF-8 */
int	 sasl_plain_parse(const unsigned char *p, size_t n,
	    char **authzid_r, char **authcid_r, char **password_r,
	    const char **error_r);
/* explicit_bzero and free a secret, leaves *s NULL */
void	 sasl_secret_free(char **s);

#endif
