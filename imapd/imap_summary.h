/*
 * imap_summary - reading back the ENVELOPE and BODYSTRUCTURE strings
 *
 * The store caches ENVELOPE and BODYSTRUCTURE as the very strings FETCH
 * sends (common/mime.h).  SORT needs the first address of From, To and
 * Cc from the envelope, and SEARCH BODY needs the list of the body parts
 * with their types, charsets and encodings; both are read here from the
 * cached strings instead of parsing the message again.
 *
 * imap_sx_parse() turns IMAP response syntax (NIL, atoms, numbers, quoted
 * strings, {n} literals, parenthesised lists) into a tree owned by one
 * struct imap_sx_doc.  Nesting is bounded (IMAP_SX_MAX_DEPTH): the cached
 * strings come from mime.c, which stops at depth 64, so anything deeper
 * is damage and gives -1.  Pure code.
 */
#ifndef BASTIDE_IMAP_SUMMARY_H
#define BASTIDE_IMAP_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_SX_MAX_DEPTH	300

enum imap_sx_type {
	IMAP_SX_NIL = 0,
	IMAP_SX_ATOM,		/* also numbers */
	IMAP_SX_STRING,		/* quoted (unescaped) or literal */
	IMAP_SX_LIST
};

struct imap_sx {
	enum imap_sx_type type;
	const char	*str;		/* ATOM, STRING: terminated */
	size_t		 len;
	struct imap_sx	*list;		/* LIST */
	size_t		 count;
};

struct imap_sx_doc;

/* parse one value at s[0..n) (trailing bytes are an error); -1 on bad
 * syntax.  On 0 the caller frees *doc_r with imap_sx_free(). */
int	 imap_sx_parse(const char *s, size_t n, struct imap_sx_doc **doc_r,
	    const struct imap_sx **root_r);
void	 imap_sx_free(struct imap_sx_doc **doc);
/* the string of a STRING or ATOM, NULL for NIL and lists */
const char *imap_sx_str(const struct imap_sx *x);

/* whether common/mime.c copies every line of the header field name into
 * the cached header_fields (From To Cc Bcc Subject Date Message-ID
 * Content-Type References In-Reply-To Reply-To Sender List-Id Priority
 * X-Priority), so that it can be answered without the message */
bool	 imap_summary_field_cached(const char *name);

/* fields of an ENVELOPE list */
enum imap_env_field {
	IMAP_ENV_DATE = 0,
	IMAP_ENV_SUBJECT,
	IMAP_ENV_FROM,
	IMAP_ENV_SENDER,
	IMAP_ENV_REPLY_TO,
	IMAP_ENV_TO,
	IMAP_ENV_CC,
	IMAP_ENV_BCC,
	IMAP_ENV_IN_REPLY_TO,
	IMAP_ENV_MESSAGE_ID
};

struct imap_addr {
	const char	*name;		/* raw display name, NULL */
	const char	*mailbox;	/* local part, or NULL */
	const char	*host;		/* or NULL */
};

/* the first address (group markers skipped) of an address field of a
 * parsed envelope; 1 found, 0 none */
int	 imap_envelope_first_addr(const struct imap_sx *env,
	    enum imap_env_field field, struct imap_addr *a_r);

/* one leaf body part of a BODYSTRUCTURE */
struct imap_body_leaf {
	const uint32_t	*path;		/* "1.2" is {1, 2} */
	size_t		 npath;
	const char	*type;		/* any case, as cached */
	const char	*subtype;
	const char	*charset;	/* parameter, or NULL */
	const char	*encoding;	/* or NULL */
};

/* call fn for every leaf part of a parsed BODYSTRUCTURE (or BODY), in
 * order; the parts of message/rfc822 parts are walked too, the
 * message/rfc822 part itself is not a leaf.  fn returns false to stop.
 * Returns -1 when the structure is not a body. */
int	 imap_body_walk(const struct imap_sx *body,
	    bool (*fn)(const struct imap_body_leaf *leaf, void *arg),
	    void *arg);

#endif
