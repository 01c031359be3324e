/* smtp_parse.c - one SMTP or LMTP command line into a struct smtp_cmd */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "str.h"
#include "xmalloc.h"

#include "smtp_parse.h"
#include "smtp_xtext.h"

typedef int (*verb_fn)(struct smtp_cmd *, char *, unsigned int);

struct verb_def {
	const char	*name;
	enum smtp_verb	 verb;
	verb_fn		 fn;
	unsigned int	 ext;		/* extension that must be offered */
};

/* esmtp parameters, one bit each for duplicate detection */
enum param_id {
	P_SIZE = 0,
	P_BODY,
	P_SMTPUTF8,
	P_RET,
	P_ENVID,
	P_AUTH,
	P_NOTIFY,
	P_ORCPT
};

typedef int (*param_fn)(struct smtp_cmd *, char *, unsigned int);

struct param_def {
	const char	*name;
	enum param_id	 id;
	enum smtp_verb	 verb;		/* MAIL or RCPT */
	unsigned int	 ext;
	bool		 has_value;	/* KEY=value, else bare KEY */
	param_fn	 fn;
};

/* fail - record an error with its reply text and return -1 */
static int
fail(struct smtp_cmd *cmd, enum smtp_parse_err err, const char *text)
{
	cmd->err = err;
	if (text != NULL) {
		cmd->err_text = text;
	} else {
		int code;
		const char *enh;

		smtp_parse_err_reply(err, &code, &enh, &cmd->err_text);
	}
	return -1;
}

/* is_digits - s is 1*DIGIT */
static bool
is_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* parse_number - 1*DIGIT into a uint64_t; -1 on junk or overflow */
static int
parse_number(const char *s, uint64_t *r)
{
	if (!is_digits(s))
		return -1;
	return str_to_u64(s, 0, UINT64_MAX, r);
}

/* next_token - split off the next space-separated token, in place */
static char *
next_token(char **pp)
{
	char *p = *pp, *tok;

	while (*p == ' ')
		p++;
	if (*p == '\0') {
		*pp = p;
		return NULL;
	}
	tok = p;
	while (*p != '\0' && *p != ' ')
		p++;
	if (*p == ' ')
		*p++ = '\0';
	*pp = p;
	return tok;
}

/* verb_hello - HELO, EHLO, LHLO: exactly one domain or literal argument */
static int
verb_hello(struct smtp_cmd *cmd, char *arg, unsigned int flags)
{
	/*
	 * RFC 5321 4.1.4: a server must not refuse a session for a HELO name
	 * that does not match the client; we require only one token, and the
	 * daemon may check smtp_addr_domain_valid() for its logs.
	 */
	if (*arg == '\0')
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX, "Domain name required");
	if (strchr(arg, ' ') != NULL)
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX,
		    "One domain name expected");
	return 0;
}

/* verb_noarg - DATA, RSET, QUIT, STARTTLS take no argument */
static int
verb_noarg(struct smtp_cmd *cmd, char *arg, unsigned int flags)
{
	if (*arg != '\0')
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX,
		    "No parameters allowed");
	return 0;
}

/* verb_anyarg - NOOP and HELP: the argument is optional and ignored */
static int
verb_anyarg(struct smtp_cmd *cmd, char *arg, unsigned int flags)
{
	return 0;
}

/* verb_needarg - VRFY and EXPN need a string */
static int
verb_needarg(struct smtp_cmd *cmd, char *arg, unsigned int flags)
{
	if (*arg == '\0')
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX, "Argument required");
	return 0;
}

/* verb_bdat - RFC 3030: BDAT chunk-size [SP LAST] */
static int
verb_bdat(struct smtp_cmd *cmd, char *arg, unsigned int flags)
{
	char *p = arg, *size, *last;

	size = next_token(&p);
	last = next_token(&p);
	if (size == NULL || next_token(&p) != NULL)
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX,
		    "Syntax: BDAT chunk-size [LAST]");
	if (parse_number(size, &cmd->chunk_size) < 0)
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX, "Bad chunk size");
	if (last != NULL) {
		if (strcasecmp(last, "LAST") != 0)
			return fail(cmd, SMTP_PARSE_ERR_SYNTAX,
			    "Syntax: BDAT chunk-size [LAST]");
		cmd->last = true;
	}
	return 0;
}

/* is_base64 - RFC 4648 base64 with padding, or the lone "=" of RFC 4954 */
static bool
is_base64(const char *s)
{
	size_t len = strlen(s), i, pad = 0;

	if (strcmp(s, "=") == 0)
		return true;
	if (len == 0 || len % 4 != 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return false;	/* data after padding */
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return pad <= 2;
}

/* verb_auth - RFC 4954: AUTH mechanism [SP initial-response] */
static int
verb_auth(struct smtp_cmd *cmd, char *arg, unsigned int flags)
{
	char *p = arg, *mech, *ir;
	size_t i, n;

	mech = next_token(&p);
	ir = next_token(&p);
	if (mech == NULL || next_token(&p) != NULL)
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX,
		    "Syntax: AUTH mechanism [initial-response]");
	n = strlen(mech);
	if (n > SMTP_SASL_MECH_MAX)
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX, "Bad mechanism name");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)mech[i];

		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return fail(cmd, SMTP_PARSE_ERR_SYNTAX,
			    "Bad mechanism name");
		cmd->mech[i] = (char)c;
	}
	cmd->mech[n] = '\0';
	if (ir != NULL) {
		if (!is_base64(ir))
			return fail(cmd, SMTP_PARSE_ERR_SYNTAX,
			    "Initial response is not base64");
		cmd->initial = ir;
	}
	return 0;
}

/* param_size - RFC 1870 SIZE=1*20DIGIT */
static int
param_size(struct smtp_cmd *cmd, char *value, unsigned int flags)
{
	if (strlen(value) > 20 || parse_number(value, &cmd->size) < 0)
		return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
		    "Bad SIZE value");
	cmd->size_given = true;
	return 0;
}

/* param_body - RFC 6152/3030 BODY=7BIT|8BITMIME|BINARYMIME */
static int
param_body(struct smtp_cmd *cmd, char *value, unsigned int flags)
{
	if (strcasecmp(value, "7BIT") == 0)
		cmd->body = SMTP_BODY_7BIT;
	else if (strcasecmp(value, "8BITMIME") == 0)
		cmd->body = SMTP_BODY_8BITMIME;
	else if (strcasecmp(value, "BINARYMIME") == 0 &&
	    (flags & SMTP_EXT_BINARYMIME) != 0)
		cmd->body = SMTP_BODY_BINARYMIME;
	else
		return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
		    "Bad BODY value");
	return 0;
}

/* param_smtputf8 - RFC 6531 SMTPUTF8, no value */
static int
param_smtputf8(struct smtp_cmd *cmd, char *value, unsigned int flags)
{
	cmd->smtputf8 = true;
	return 0;
}

/* param_ret - RFC 3461 RET=FULL|HDRS */
static int
param_ret(struct smtp_cmd *cmd, char *value, unsigned int flags)
{
	if (strcasecmp(value, "FULL") == 0)
		cmd->ret = SMTP_RET_FULL;
	else if (strcasecmp(value, "HDRS") == 0)
		cmd->ret = SMTP_RET_HDRS;
	else
		return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX, "Bad RET value");
	return 0;
}

/* param_envid - RFC 3461 ENVID=xtext, at most 100 characters decoded */
static int
param_envid(struct smtp_cmd *cmd, char *value, unsigned int flags)
{
	long n;

	/* decoding in place is safe: xtext never grows when decoded */
	n = smtp_xtext_decode(value, strlen(value), false, value);
	if (n <= 0 || n > SMTP_ENVID_MAX)
		return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
		    "Bad ENVID value");
	cmd->envid = value;
	return 0;
}

/* param_auth - RFC 4954 AUTH=xtext ("<>" or the original submitter) */
static int
param_auth(struct smtp_cmd *cmd, char *value, unsigned int flags)
{
	long n;

	n = smtp_xtext_decode(value, strlen(value), false, value);
	if (n <= 0)
		return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
		    "Bad AUTH value");
	cmd->auth = value;
	return 0;
}

/* param_notify - RFC 3461 NOTIFY=NEVER or a list of SUCCESS,FAILURE,DELAY */
static int
param_notify(struct smtp_cmd *cmd, char *value, unsigned int flags)
{
	static const struct {
		const char	*name;
		unsigned int	 bit;
	} names[] = {
		{ "NEVER", SMTP_NOTIFY_NEVER },
		{ "SUCCESS", SMTP_NOTIFY_SUCCESS },
		{ "FAILURE", SMTP_NOTIFY_FAILURE },
		{ "DELAY", SMTP_NOTIFY_DELAY },
	};
	char *p = value, *item;
	size_t i;
	unsigned int bits = 0;

	for (;;) {
		item = p;
		p = strchr(p, ',');
		if (p != NULL)
			*p++ = '\0';
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcasecmp(item, names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]) ||
		    (bits & names[i].bit) != 0)
			return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
			    "Bad NOTIFY value");
		bits |= names[i].bit;
		if (p == NULL)
			break;
	}
	if ((bits & SMTP_NOTIFY_NEVER) != 0 && bits != SMTP_NOTIFY_NEVER)
		return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
		    "NOTIFY=NEVER cannot be combined");
	cmd->notify = bits;
	return 0;
}

/*
 * param_orcpt - RFC 3461 ORCPT=addr-type;xtext.  With SMTPUTF8 the
 * "utf-8" type of RFC 6533 may carry raw UTF-8.
 * XXX: the \x{HEX} escapes of RFC 6533 utf-8-addr-xtext are kept as they
 * are, not decoded; they are passed on verbatim, which is what a relay
 * needs, and only a DSN would show them undecoded.
 */
static int
param_orcpt(struct smtp_cmd *cmd, char *value, unsigned int flags)
{
	char *semi, *p;
	long n;
	bool utf8;

	if (strlen(value) > SMTP_ORCPT_MAX)
		return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
		    "ORCPT too long");
	semi = strchr(value, ';');
	if (semi == NULL || semi == value || semi[1] == '\0')
		return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
		    "Bad ORCPT value");
	*semi = '\0';
	for (p = value; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
			    "Bad ORCPT address type");
	utf8 = strcasecmp(value, "utf-8") == 0 &&
	    (flags & SMTP_EXT_SMTPUTF8) != 0;
	n = smtp_xtext_decode(semi + 1, strlen(semi + 1), utf8, semi + 1);
	if (n <= 0)
		return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
		    "Bad ORCPT value");
	cmd->orcpt_type = value;
	cmd->orcpt = semi + 1;
	return 0;
}

static const struct param_def params[] = {
	{ "SIZE", P_SIZE, SMTP_VERB_MAIL, SMTP_EXT_SIZE, true, param_size },
	{ "BODY", P_BODY, SMTP_VERB_MAIL, SMTP_EXT_8BITMIME, true,
	    param_body },
	{ "SMTPUTF8", P_SMTPUTF8, SMTP_VERB_MAIL, SMTP_EXT_SMTPUTF8, false,
	    param_smtputf8 },
	{ "RET", P_RET, SMTP_VERB_MAIL, SMTP_EXT_DSN, true, param_ret },
	{ "ENVID", P_ENVID, SMTP_VERB_MAIL, SMTP_EXT_DSN, true, param_envid },
	{ "AUTH", P_AUTH, SMTP_VERB_MAIL, SMTP_EXT_AUTH, true, param_auth },
	{ "NOTIFY", P_NOTIFY, SMTP_VERB_RCPT, SMTP_EXT_DSN, true,
	    param_notify },
	{ "ORCPT", P_ORCPT, SMTP_VERB_RCPT, SMTP_EXT_DSN, true, param_orcpt },
};

/* valid_keyword - RFC 5321 esmtp-keyword */
static bool
valid_keyword(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (c == '-' && i > 0)
			continue;
		return false;
	}
	return true;
}

/* valid_value - RFC 5321 esmtp-value, UTF-8 allowed per RFC 6531 3.3 */
static bool
valid_value(const char *s, unsigned int flags)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p >= 0x80 && (flags & SMTP_EXT_SMTPUTF8) != 0)
			continue;	/* the line was checked to be UTF-8 */
		if (*p < 33 || *p > 126 || *p == '=')
			return false;
	}
	return true;
}

/* parse_params - the Mail-parameters or Rcpt-parameters after the path */
static int
parse_params(struct smtp_cmd *cmd, char *p, unsigned int flags)
{
	unsigned int seen = 0;
	char *tok, *eq, *value;
	size_t i, klen;

	while ((tok = next_token(&p)) != NULL) {
		eq = strchr(tok, '=');
		klen = eq == NULL ? strlen(tok) : (size_t)(eq - tok);
		if (!valid_keyword(tok, klen))
			return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
			    "Bad parameter syntax");
		for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
			if (strlen(params[i].name) == klen &&
			    strncasecmp(tok, params[i].name, klen) == 0)
				break;
		if (i == sizeof(params) / sizeof(params[0]) ||
		    params[i].verb != cmd->verb ||
		    (flags & params[i].ext) == 0)
			return fail(cmd, SMTP_PARSE_ERR_PARAM_UNKNOWN, NULL);
		if ((seen & (1U << params[i].id)) != 0)
			return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
			    "Duplicate parameter");
		seen |= 1U << params[i].id;
		value = eq == NULL ? NULL : eq + 1;
		if (params[i].has_value) {
			if (value == NULL || !valid_value(value, flags))
				return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
				    "Parameter needs a value");
		} else if (value != NULL) {
			return fail(cmd, SMTP_PARSE_ERR_PARAM_SYNTAX,
			    "Parameter takes no value");
		}
		if (params[i].fn(cmd, value, flags) < 0)
			return -1;
	}
	return 0;
}

/* parse_path_cmd - "FROM:" or "TO:", the path, then the parameters */
static int
parse_path_cmd(struct smtp_cmd *cmd, char *arg, unsigned int flags,
    const char *keyword, unsigned int addr_flags, enum smtp_parse_err aerr)
{
	enum smtp_addr_err err;
	size_t klen = strlen(keyword), used;
	char *p;

	if (strncasecmp(arg, keyword, klen) != 0)
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX,
		    cmd->verb == SMTP_VERB_MAIL ?
		    "Syntax: MAIL FROM:<address>" :
		    "Syntax: RCPT TO:<address>");
	p = arg + klen;
	/* lenient: "MAIL FROM: <a@b>" is common and harmless */
	while (*p == ' ')
		p++;
	if ((flags & SMTP_EXT_SMTPUTF8) != 0)
		addr_flags |= SMTP_ADDR_F_UTF8;
	if (smtp_addr_parse_path(p, strlen(p), addr_flags, &cmd->addr, &used,
	    &err) < 0) {
		if (err == SMTP_ADDR_ERR_UTF8)
			return fail(cmd, SMTP_PARSE_ERR_UTF8_ADDR, NULL);
		return fail(cmd, aerr, err == SMTP_ADDR_ERR_SYNTAX ? NULL :
		    smtp_addr_strerror(err));
	}
	p += used;
	if (*p != '\0' && *p != ' ')
		return fail(cmd, SMTP_PARSE_ERR_SYNTAX,
		    "Space expected after the address");
	if (parse_params(cmd, p, flags) < 0)
		return -1;
	/* RFC 6531 3.4: UTF-8 addresses only in an SMTPUTF8 transaction */
	if (cmd->addr.utf8 && !cmd->smtputf8 &&
	    (cmd->verb == SMTP_VERB_MAIL || (flags & SMTP_PARSE_UTF8_TXN) == 0))
		return fail(cmd, SMTP_PARSE_ERR_UTF8_ADDR, NULL);
	return 0;
}

/* verb_mail - MAIL FROM:<reverse-path> [SP Mail-parameters] */
static int
verb_mail(struct smtp_cmd *cmd, char *arg, unsigned int flags)
{
	return parse_path_cmd(cmd, arg, flags, "FROM:", SMTP_ADDR_F_NULL,
	    SMTP_PARSE_ERR_SENDER);
}

/* verb_rcpt - RCPT TO:<forward-path> [SP Rcpt-parameters] */
static int
verb_rcpt(struct smtp_cmd *cmd, char *arg, unsigned int flags)
{
	return parse_path_cmd(cmd, arg, flags, "TO:", SMTP_ADDR_F_POSTMASTER,
	    SMTP_PARSE_ERR_RCPT);
}

static const struct verb_def verbs[] = {
	{ "HELO", SMTP_VERB_HELO, verb_hello, 0 },
	{ "EHLO", SMTP_VERB_EHLO, verb_hello, 0 },
	{ "LHLO", SMTP_VERB_LHLO, verb_hello, 0 },
	{ "MAIL", SMTP_VERB_MAIL, verb_mail, 0 },
	{ "RCPT", SMTP_VERB_RCPT, verb_rcpt, 0 },
	{ "DATA", SMTP_VERB_DATA, verb_noarg, 0 },
	{ "BDAT", SMTP_VERB_BDAT, verb_bdat, SMTP_EXT_CHUNKING },
	{ "RSET", SMTP_VERB_RSET, verb_noarg, 0 },
	{ "NOOP", SMTP_VERB_NOOP, verb_anyarg, 0 },
	{ "QUIT", SMTP_VERB_QUIT, verb_noarg, 0 },
	{ "VRFY", SMTP_VERB_VRFY, verb_needarg, 0 },
	{ "EXPN", SMTP_VERB_EXPN, verb_needarg, 0 },
	{ "HELP", SMTP_VERB_HELP, verb_anyarg, 0 },
	{ "STARTTLS", SMTP_VERB_STARTTLS, verb_noarg, SMTP_EXT_STARTTLS },
	{ "AUTH", SMTP_VERB_AUTH, verb_auth, SMTP_EXT_AUTH },
};

/*
 * line_bytes_ok - no NUL, CR, LF or other control character anywhere, and
 * non-ASCII only as well-formed UTF-8.  A bare CR or LF here would mean the
 * framer let one through; refusing it keeps smuggling tricks out.
 */
static bool
line_bytes_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return str_is_printable_utf8(s, len);
}

/* smtp_parse - parse one command line */
int
smtp_parse(struct smtp_cmd *cmd, const char *line, size_t len,
    unsigned int flags)
{
	const struct verb_def *v = NULL;
	char *p, *end, *arg;
	size_t i, vlen;
	bool ascii = true;

	memset(cmd, 0, sizeof(*cmd));
	cmd->verb_name = "";
	cmd->arg = "";
	cmd->line = xmalloc(len + 1);
	memcpy(cmd->line, line, len);
	cmd->line[len] = '\0';
	if (!line_bytes_ok(line, len))
		return fail(cmd, SMTP_PARSE_ERR_BAD_BYTES, NULL);
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] >= 0x80)
			ascii = false;

	/* lenient: stray spaces around the command are harmless */
	p = cmd->line;
	while (*p == ' ')
		p++;
	end = p + strlen(p);
	while (end > p && end[-1] == ' ')
		*--end = '\0';
	for (arg = p; *arg != '\0' && *arg != ' '; arg++)
		;
	vlen = (size_t)(arg - p);
	while (*arg == ' ')
		*arg++ = '\0';

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strlen(verbs[i].name) == vlen &&
		    strncasecmp(p, verbs[i].name, vlen) == 0) {
			v = &verbs[i];
			break;
		}
	}
	if (v == NULL)
		return fail(cmd, SMTP_PARSE_ERR_UNKNOWN_COMMAND, NULL);
	/* RFC 2033: an LMTP server greets LHLO only, SMTP never LHLO */
	if ((flags & SMTP_PARSE_LMTP) != 0 ?
	    (v->verb == SMTP_VERB_HELO || v->verb == SMTP_VERB_EHLO) :
	    v->verb == SMTP_VERB_LHLO)
		return fail(cmd, SMTP_PARSE_ERR_UNKNOWN_COMMAND, NULL);
	cmd->verb = v->verb;
	cmd->verb_name = v->name;
	cmd->arg = arg;
	if (v->ext != 0 && (flags & v->ext) == 0)
		return fail(cmd, SMTP_PARSE_ERR_NOT_OFFERED, NULL);
	/* UTF-8 outside MAIL and RCPT only once SMTPUTF8 is offered */
	if (!ascii && (flags & SMTP_EXT_SMTPUTF8) == 0 &&
	    v->verb != SMTP_VERB_MAIL && v->verb != SMTP_VERB_RCPT)
		return fail(cmd, SMTP_PARSE_ERR_BAD_BYTES, NULL);
	return v->fn(cmd, arg, flags);
}

/* smtp_cmd_deinit - free the private copy of the line */
void
smtp_cmd_deinit(struct smtp_cmd *cmd)
{
	free(cmd->line);
	memset(cmd, 0, sizeof(*cmd));
}

/* smtp_parse_err_reply - the RFC reply for a parse error */
void
smtp_parse_err_reply(enum smtp_parse_err err, int *code_r,
    const char **enh_r, const char **text_r)
{
	switch (err) {
	case SMTP_PARSE_OK:
		*code_r = 250;
		*enh_r = "2.0.0";
		*text_r = "Ok";
		return;
	case SMTP_PARSE_ERR_UNKNOWN_COMMAND:
		*code_r = 500;
		*enh_r = "5.5.1";
		*text_r = "Command unrecognized";
		return;
	case SMTP_PARSE_ERR_BAD_BYTES:
		*code_r = 500;
		*enh_r = "5.5.2";
		*text_r = "Invalid characters in command";
		return;
	case SMTP_PARSE_ERR_NOT_OFFERED:
		*code_r = 502;
		*enh_r = "5.5.1";
		*text_r = "Command not implemented";
		return;
	case SMTP_PARSE_ERR_SYNTAX:
		*code_r = 501;
		*enh_r = "5.5.4";
		*text_r = "Syntax error in parameters or arguments";
		return;
	case SMTP_PARSE_ERR_SENDER:
		*code_r = 501;
		*enh_r = "5.1.7";
		*text_r = "Bad sender address syntax";
		return;
	case SMTP_PARSE_ERR_RCPT:
		*code_r = 501;
		*enh_r = "5.1.3";
		*text_r = "Bad recipient address syntax";
		return;
	case SMTP_PARSE_ERR_UTF8_ADDR:
		*code_r = 553;
		*enh_r = "5.6.7";
		*text_r = "Non-ASCII addresses need SMTPUTF8";
		return;
	case SMTP_PARSE_ERR_PARAM_UNKNOWN:
		*code_r = 555;
		*enh_r = "5.5.4";
		*text_r = "MAIL FROM/RCPT TO parameters not recognized";
		return;
	case SMTP_PARSE_ERR_PARAM_SYNTAX:
		*code_r = 501;
		*enh_r = "5.5.4";
		*text_r = "Invalid parameter";
		return;
	}
	*code_r = 501;
	*enh_r = "5.5.4";
	*text_r = "Syntax error";
}

/* smtp_parse_err_name - the enum's name without the prefix */
const char *
smtp_parse_err_name(enum smtp_parse_err err)
{
	static const char *const names[] = {
		"OK", "UNKNOWN_COMMAND", "BAD_BYTES", "NOT_OFFERED", "SYNTAX",
		"SENDER", "RCPT", "UTF8_ADDR", "PARAM_UNKNOWN", "PARAM_SYNTAX",
	};

	if ((size_t)err >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[err];
}
