/*
 * smtp_parse - one SMTP or LMTP command line into a struct smtp_cmd
 *
 * The framer has already cut the line at CRLF, stripped it and enforced
 * the line length limit; this module only reads the bytes it is given and
 * never touches a socket or a session.  It knows the grammar of RFC 5321
 * and of the extensions we offer: SIZE (RFC 1870), 8BITMIME (RFC 6152),
 * SMTPUTF8 (RFC 6531), DSN (RFC 3461), CHUNKING and BINARYMIME (RFC 3030),
 * AUTH (RFC 4954), STARTTLS (RFC 3207) and LMTP's LHLO (RFC 2033).  What
 * it does not know is policy: whether a command is allowed in the current
 * state, whether SIZE= is too big, whether a recipient exists.
 *
 * Every error is a distinct enum smtp_parse_err and maps to one reply
 * code, enhanced code (RFC 3463) and text with smtp_parse_err_reply().
 * The verb is set even when the arguments are bad, so the daemon can count
 * errors per verb.  struct smtp_cmd owns a private copy of the line; the
 * string fields point into it and live until smtp_cmd_deinit().
 */
#ifndef BASTIDE_SMTP_PARSE_H
#define BASTIDE_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp_addr.h"

/* extensions the server advertised, and the LMTP switch */
#define SMTP_EXT_SIZE		0x0001
#define SMTP_EXT_8BITMIME	0x0002
#define SMTP_EXT_SMTPUTF8	0x0004
#define SMTP_EXT_DSN		0x0008
#define SMTP_EXT_CHUNKING	0x0010
#define SMTP_EXT_BINARYMIME	0x0020
#define SMTP_EXT_AUTH		0x0040
#define SMTP_EXT_STARTTLS	0x0080
#define SMTP_PARSE_LMTP		0x1000	/* LHLO instead of HELO/EHLO */
/* the transaction's MAIL FROM had SMTPUTF8: RCPT may be UTF-8 */
#define SMTP_PARSE_UTF8_TXN	0x2000

/* RFC 3461 ENVID and ORCPT length limits, after xtext decoding */
#define SMTP_ENVID_MAX		100
#define SMTP_ORCPT_MAX		500
/* RFC 4422 sasl-mech: 1*20 characters */
#define SMTP_SASL_MECH_MAX	20

enum smtp_verb {
	SMTP_VERB_NONE = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_LHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH
};

enum smtp_parse_err {
	SMTP_PARSE_OK = 0,
	SMTP_PARSE_ERR_UNKNOWN_COMMAND,	/* 500 5.5.1 */
	SMTP_PARSE_ERR_BAD_BYTES,	/* 500 5.5.2 NUL, control, bad UTF-8 */
	SMTP_PARSE_ERR_NOT_OFFERED,	/* 502 5.5.1 verb of an unoffered ext */
	SMTP_PARSE_ERR_SYNTAX,		/* 501 5.5.4 bad arguments */
	SMTP_PARSE_ERR_SENDER,		/* 501 5.1.7 bad MAIL FROM path */
	SMTP_PARSE_ERR_RCPT,		/* 501 5.1.3 bad RCPT TO path */
	SMTP_PARSE_ERR_UTF8_ADDR,	/* 553 5.6.7 UTF-8 without SMTPUTF8 */
	SMTP_PARSE_ERR_PARAM_UNKNOWN,	/* 555 5.5.4 unknown/unoffered param */
	SMTP_PARSE_ERR_PARAM_SYNTAX	/* 501 5.5.4 bad value, duplicate */
};

enum smtp_body {
	SMTP_BODY_UNSET = 0,
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME
};

enum smtp_ret {
	SMTP_RET_UNSET = 0,
	SMTP_RET_FULL,
	SMTP_RET_HDRS
};

/* RFC 3461 NOTIFY; 0 means the parameter was not given */
#define SMTP_NOTIFY_NEVER	0x01
#define SMTP_NOTIFY_SUCCESS	0x02
#define SMTP_NOTIFY_FAILURE	0x04
#define SMTP_NOTIFY_DELAY	0x08

struct smtp_cmd {
	enum smtp_verb verb;
	const char *verb_name;	/* canonical upper case, "" if unknown */
	/* everything after the verb, spaces trimmed; "" if none */
	const char *arg;

	/* MAIL and RCPT */
	struct smtp_addr addr;
	/* MAIL parameters */
	bool	 size_given;
	uint64_t size;
	enum smtp_body body;
	bool	 smtputf8;
	enum smtp_ret ret;
	const char *envid;	/* decoded xtext or NULL */
	const char *auth;	/* decoded AUTH= of MAIL or NULL */
	/* RCPT parameters */
	unsigned int notify;	/* SMTP_NOTIFY_* or 0 */
	const char *orcpt_type;	/* e.g. "rfc822", or NULL */
	const char *orcpt;	/* decoded xtext or NULL */

	/* BDAT */
	uint64_t chunk_size;
	bool	 last;

	/* AUTH */
	char	 mech[SMTP_SASL_MECH_MAX + 1];	/* upper case */
	const char *initial;	/* base64 or "=", NULL if none */

	/* set on failure */
	enum smtp_parse_err err;
	const char *err_text;	/* specific text for the reply */

	char	*line;		/* private copy the pointers above use */
};

/*
 * Parse line[0 .. len) with the extensions in flags.  cmd need not be
 * initialised; release it with smtp_cmd_deinit() whatever the result.
 * Returns 0, or -1 with cmd->err and cmd->err_text set.
 */
int	 smtp_parse(struct smtp_cmd *cmd, const char *line, size_t len,
	    unsigned int flags);
void	 smtp_cmd_deinit(struct smtp_cmd *cmd);

/* the reply for a parse error: code, enhanced code, default text */
void	 smtp_parse_err_reply(enum smtp_parse_err err, int *code_r,
	    const char **enh_r, const char **text_r);
/* the name of an error enum, for tests and trace logs */
const char *smtp_parse_err_name(enum smtp_parse_err err);

#endif
