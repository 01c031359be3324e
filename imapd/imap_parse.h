/*
 * imap_parse - one IMAP command (RFC 3501 / RFC 9051 and the extensions
 * imapd offers) into a struct imap_cmd, then into typed requests
 *
 * Input.  The framer (common/frame.h) cuts the stream into lines and
 * literal data; the session assembles one command from them as a sequence
 * of pieces, alternately lines and literals:
 *
 *     line "a1 LOGIN {5}"  literal "alice"  line " {6}"  literal "s3cr3t"
 *     line ""
 *
 * A line piece is the text without its CRLF.  Every line but the last
 * ends in the announcement of the literal that follows it ("{n}", "{n+}",
 * "~{n}", "~{n+}"), and the literal piece holds exactly n bytes.  struct
 * imap_input below builds this array from frame events.  A literal piece
 * may have data NULL: the session kept its bytes elsewhere (an APPEND
 * spilled to a file); the argument then carries the piece index.
 *
 * Stage one, imap_parse(): the tag, the command name (upper case, "UID"
 * folded into a flag) and a generic argument tree: atoms, NIL, quoted
 * strings (unescaped), literals, parenthesised lists (nesting bounded),
 * and the fetch attribute syntax BODY[section]<partial> (after the atoms
 * BODY, BODY.PEEK, BINARY, BINARY.PEEK and BINARY.SIZE only, so that a
 * mailbox such as "[Gmail]/Sent" or "a[b" stays an ordinary atom).  A
 * token such as a sequence set or a flag is a raw atom here; which
 * characters it may hold is checked when it is read as a typed value.
 * Spacing is strict: exactly one SP between arguments, none at the ends.
 *
 * Stage two, the typed parsers (imap_parse_fetch(), imap_parse_search(),
 * ...): each reads the whole argument list of one command into a struct
 * that the handler uses directly, checking the RFC grammar as it goes.
 *
 * Errors.  Every function returns 0, or -1 with cmd->error set to a
 * readable reason for the tagged BAD ("Unterminated quoted string",
 * "Unknown FETCH attribute UIDS", ...), safe to send as resp-text (no
 * control characters, only UTF-8, at most IMAP_ERROR_MAX bytes) though
 * it may quote the client.  cmd->error_no says the answer is NO rather
 * than BAD (an invalid mailbox name, an unknown charset), and
 * cmd->error_code gives a response code to put in brackets (BADCHARSET,
 * USEATTR, ...).  When the line has no usable tag, cmd->tag is NULL and
 * the answer is the untagged "* BAD".
 *
 * Strict where it protects us, lenient where clients are known to be
 * sloppy and nothing is at stake: an astring given as an atom may hold
 * "%", "*" or "\" (a password, say); 8-bit bytes are accepted in atoms
 * and quoted strings when they are UTF-8, in any mode; an ID field may be
 * an atom.  The section of BODY[...] is checked by imap_section_parse()
 * (imap_section.h), so that there is one section grammar.
 *
 * Memory.  struct imap_cmd owns an arena from which every string, list
 * and typed result is allocated; all of it lives until imap_cmd_deinit(),
 * which wipes it (LOGIN passwords pass through here).  Literal bytes are
 * not copied: they are borrowed from the pieces, which must outlive the
 * command.  Handlers may allocate command-lifetime memory with
 * imap_cmd_alloc().
 *
 * Nothing here touches a socket, a session or the store.
 */
#ifndef BASTIDE_IMAP_PARSE_H
#define BASTIDE_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#include "imap_section.h"
#include "imap_seqset.h"
#include "imap_write.h"

/* defaults of struct imap_parse_settings */
#define IMAP_PARSE_MAX_DEPTH		64	/* nested lists */
#define IMAP_PARSE_MAX_ARGS		10000	/* arguments, all levels */
#define IMAP_PARSE_MAX_SEARCH_DEPTH	256	/* NOT/OR/() nesting */
#define IMAP_PARSE_MAX_SEARCH_NODES	10000	/* keys of one program */

/* keywords in one flag list (STORE, APPEND) */
#define IMAP_MAX_KEYWORDS		1000

/* cmd->error never exceeds this many bytes (including "...") */
#define IMAP_ERROR_MAX			200

/* RFC 2971 limits */
#define IMAP_ID_MAX_PAIRS	30
#define IMAP_ID_MAX_FIELD	30
#define IMAP_ID_MAX_VALUE	1024

/* the largest literal size and mod-sequence (number64, RFC 9051) */
#define IMAP_NUMBER64_MAX	INT64_MAX

struct imap_piece {
	const char	*data;		/* NULL: literal kept by the session */
	size_t		 len;
	bool		 literal;
};

struct imap_parse_settings {
	unsigned int	 max_depth;
	size_t		 max_args;
	unsigned int	 max_search_depth;
	size_t		 max_search_nodes;
	/* UTF8=ACCEPT or IMAP4rev2 is enabled: mailbox names are UTF-8,
	 * not modified UTF-7, and APPEND accepts UTF8 (~{n}) */
	bool		 utf8;
};

enum imap_cmd_id {
	IMAP_CMD_UNKNOWN = 0,
	IMAP_CMD_CAPABILITY,
	IMAP_CMD_NOOP,
	IMAP_CMD_LOGOUT,
	IMAP_CMD_STARTTLS,
	IMAP_CMD_AUTHENTICATE,
	IMAP_CMD_LOGIN,
	IMAP_CMD_ENABLE,
	IMAP_CMD_ID,
	IMAP_CMD_SELECT,
	IMAP_CMD_EXAMINE,
	IMAP_CMD_CREATE,
	IMAP_CMD_DELETE,
	IMAP_CMD_RENAME,
	IMAP_CMD_SUBSCRIBE,
	IMAP_CMD_UNSUBSCRIBE,
	IMAP_CMD_LIST,
	IMAP_CMD_LSUB,
	IMAP_CMD_NAMESPACE,
	IMAP_CMD_STATUS,
	IMAP_CMD_APPEND,
	IMAP_CMD_IDLE,
	IMAP_CMD_CHECK,
	IMAP_CMD_CLOSE,
	IMAP_CMD_UNSELECT,
	IMAP_CMD_EXPUNGE,
	IMAP_CMD_SEARCH,
	IMAP_CMD_FETCH,
	IMAP_CMD_STORE,
	IMAP_CMD_COPY,
	IMAP_CMD_MOVE,
	IMAP_CMD_SORT,
	IMAP_CMD_THREAD,
	IMAP_CMD_GETQUOTA,
	IMAP_CMD_GETQUOTAROOT,
	IMAP_CMD_SETQUOTA,
	IMAP_CMD_COMPRESS,
	IMAP_CMD_UNAUTHENTICATE,
	IMAP_CMD_COUNT
};

enum imap_arg_type {
	IMAP_ARG_ATOM = 1,
	IMAP_ARG_NIL,		/* the atom NIL, any case */
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,
	IMAP_ARG_LIST
};

struct imap_arg {
	enum imap_arg_type type;
	/*
	 * ATOM, NIL: the text as sent; QUOTED: unescaped; both NUL-
	 * terminated.  LITERAL: the bytes, borrowed from the piece, not
	 * terminated, may hold NUL; NULL when the session kept them.
	 */
	const char	*str;
	size_t		 len;
	/* LITERAL */
	bool		 literal8;	/* ~{n} (RFC 3516, RFC 6855) */
	bool		 literal_plus;	/* {n+}: sent without waiting */
	size_t		 piece;		/* index of the literal piece */
	/* LIST: the members; ATOM with has_section: what was in [] */
	struct imap_arg	*list;
	size_t		 count;
	/* ATOM only: BODY[...]<...>; str is the part before "[" */
	bool		 has_section;
	const char	*suffix;	/* after "]", e.g. "<0.100>"; or "" */
};

struct imap_arena_chunk;
struct imap_cleanup;

struct imap_cmd {
	const char	*tag;		/* NULL: answer "* BAD" */
	const char	*name;		/* upper case, without "UID"; or NULL */
	enum imap_cmd_id id;
	bool		 uid;		/* "UID FETCH", "UID EXPUNGE" ... */
	struct imap_arg	*args;		/* after the name */
	size_t		 argc;
	bool		 utf8;		/* settings.utf8 when parsed */

	/* set by a failing function */
	const char	*error;
	const char	*error_code;	/* e.g. "BADCHARSET (US-ASCII UTF-8)" */
	bool		 error_no;	/* NO instead of BAD */

	/* private */
	struct imap_parse_settings set;
	size_t		 nargs;
	struct imap_arena_chunk *arena;
	struct imap_cleanup *cleanup;
};

/*
 * Parse the pieces of one command (see above).  settings may be NULL for
 * the defaults.  cmd need not be initialised; release it with
 * imap_cmd_deinit() whatever the result.
 */
int	 imap_parse(struct imap_cmd *cmd, const struct imap_piece *pieces,
	    size_t count, const struct imap_parse_settings *settings);
void	 imap_cmd_deinit(struct imap_cmd *cmd);
/* the defaults above */
void	 imap_parse_settings_init(struct imap_parse_settings *s);

/*
 * The command of a first line, before its literals arrive (to choose the
 * literal ceiling for APPEND, to spot AUTHENTICATE and IDLE).
 * IMAP_CMD_UNKNOWN when the line does not start with a tag and a known
 * command.
 */
enum imap_cmd_id imap_parse_peek(const char *line, size_t len, bool *uid_r);
/* "FETCH" for IMAP_CMD_FETCH */
const char *imap_cmd_id_name(enum imap_cmd_id id);

/* zeroed command-lifetime memory; never NULL */
void	*imap_cmd_alloc(struct imap_cmd *cmd, size_t size);
char	*imap_cmd_strndup(struct imap_cmd *cmd, const char *s, size_t len);
/* set cmd->error (formatted into the arena) and return -1 */
int	 imap_cmd_fail(struct imap_cmd *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Assembling the pieces from frame events.  max_bytes caps lines plus
 * in-memory literal bytes of one command.
 */
struct imap_input_piece;
struct imap_input {
	struct buf	 bytes;
	struct imap_input_piece *p;
	size_t		 count;
	size_t		 alloc;
	struct imap_piece *view;
	size_t		 view_alloc;
};

void	 imap_input_init(struct imap_input *in, size_t max_bytes);
void	 imap_input_deinit(struct imap_input *in);
/* forget the command, keep the memory; _wipe also zeroes the bytes */
void	 imap_input_reset(struct imap_input *in);
void	 imap_input_wipe(struct imap_input *in);
/* a FRAME_LINE's text; -1 past max_bytes */
int	 imap_input_line(struct imap_input *in, const char *p, size_t len);
/* FRAME_LITERAL_DATA: more bytes of the literal after the last line */
int	 imap_input_literal(struct imap_input *in, const void *p, size_t n);
/* FRAME_LITERAL_END (needed for an empty literal, harmless otherwise) */
void	 imap_input_literal_end(struct imap_input *in);
/* a literal of len bytes that the caller keeps elsewhere */
void	 imap_input_literal_external(struct imap_input *in, uint64_t len);
/* the pieces so far, valid until the next change */
const struct imap_piece *imap_input_pieces(struct imap_input *in,
	    size_t *count_r);

/*
 * Typed values of single arguments.  Strings are NUL-terminated and live
 * in the command's arena.
 */

struct imap_date {
	int		 year;
	unsigned int	 mon;		/* 1..12 */
	unsigned int	 day;		/* 1..31, valid for the month */
};

struct imap_datetime {
	int64_t		 t;		/* seconds since the epoch, UTC */
	int		 tz_minutes;	/* east of UTC, as sent */
};

struct imap_flags {
	unsigned int	 system;	/* IMAP_FLAG_* */
	const char	**keywords;	/* as sent, duplicates removed */
	size_t		 keyword_count;
};

/* date-text "1-Feb-1994" (quotes already removed); 0 or -1 */
int	 imap_parse_date(const char *s, size_t len, struct imap_date *d_r);
/* date-time "dd-Mon-yyyy hh:mm:ss +zzzz" (no quotes; a day of one digit
 * may be padded with SP or not); 0 or -1 */
int	 imap_parse_datetime(const char *s, size_t len,
	    struct imap_datetime *dt_r);
/* days since 1970-01-01 of a date */
int64_t	 imap_date_days(const struct imap_date *d);

/* atom, quoted or literal (no NUL), or NIL as the string "NIL" */
int	 imap_arg_astring(struct imap_cmd *cmd, const struct imap_arg *a,
	    const char **s_r);
/* quoted or literal only; *len_r may be NULL (then no NUL allowed) */
int	 imap_arg_string(struct imap_cmd *cmd, const struct imap_arg *a,
	    const char **s_r, size_t *len_r);
/* NIL (*s_r NULL) or a string */
int	 imap_arg_nstring(struct imap_cmd *cmd, const struct imap_arg *a,
	    const char **s_r, size_t *len_r);
/* a plain atom (no section) */
int	 imap_arg_atom(struct imap_cmd *cmd, const struct imap_arg *a,
	    const char **s_r);
/* 1*DIGIT within [min, max] */
int	 imap_arg_number(struct imap_cmd *cmd, const struct imap_arg *a,
	    uint64_t min, uint64_t max, uint64_t *n_r);
/* a sequence set; "$" only if saved_r is not NULL (then *set_r is NULL
 * and *saved_r true); the set is freed with the command */
int	 imap_arg_seqset(struct imap_cmd *cmd, const struct imap_arg *a,
	    struct imap_seqset **set_r, bool *saved_r);
/* a mailbox name, decoded from modified UTF-7 unless cmd->utf8, checked
 * by store_name_check() and canonical (INBOX upper case); failures are NO */
int	 imap_arg_mailbox(struct imap_cmd *cmd, const struct imap_arg *a,
	    const char **name_r);
/* flag-list "(\Seen $Junk)"; \Recent refused unless allow_recent */
int	 imap_arg_flag_list(struct imap_cmd *cmd, const struct imap_arg *a,
	    bool allow_recent, struct imap_flags *f_r);
/* one flag into f (system bit or keyword) */
int	 imap_arg_flag(struct imap_cmd *cmd, const struct imap_arg *a,
	    bool allow_recent, struct imap_flags *f);
int	 imap_arg_date(struct imap_cmd *cmd, const struct imap_arg *a,
	    struct imap_date *d_r);
int	 imap_arg_datetime(struct imap_cmd *cmd, const struct imap_arg *a,
	    struct imap_datetime *dt_r);

/*
 * FETCH and UID FETCH
 */
enum imap_fetch_att {
	IMAP_FETCH_ENVELOPE = 1,
	IMAP_FETCH_FLAGS,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822,		/* BODY[], sets \Seen */
	IMAP_FETCH_RFC822_HEADER,	/* BODY.PEEK[HEADER] */
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_RFC822_TEXT,		/* BODY[TEXT], sets \Seen */
	IMAP_FETCH_BODY,		/* BODYSTRUCTURE without extensions */
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_UID,
	IMAP_FETCH_BODY_SECTION,	/* BODY[...], BODY.PEEK[...] */
	IMAP_FETCH_BINARY,		/* BINARY[...], BINARY.PEEK[...] */
	IMAP_FETCH_BINARY_SIZE,
	IMAP_FETCH_MODSEQ,		/* RFC 7162 */
	IMAP_FETCH_EMAILID,		/* RFC 8474 */
	IMAP_FETCH_THREADID,
	IMAP_FETCH_SAVEDATE		/* RFC 8514 */
};
#define IMAP_FETCH_BIT(att)	(1u << (att))

struct imap_fetch_item {
	enum imap_fetch_att att;
	bool		 peek;		/* leaves \Seen alone */
	bool		 implicit;	/* added: UID of UID FETCH, MODSEQ of
					 * CHANGEDSINCE */
	/* BODY[...], BINARY[...], BINARY.SIZE[...]: the section and its
	 * partial (imap_section.h), freed with the command; else NULL */
	struct imap_section *section;
	/* the item's name in the response: "ENVELOPE", "BODY[1.MIME]",
	 * "BODY[HEADER.FIELDS (From To)]<0>" (PEEK dropped, origin only),
	 * as imap_section_format() writes it */
	const char	*resp_name;
};

struct imap_fetch {
	struct imap_seqset *set;	/* NULL when saved */
	bool		 saved;		/* "$" (RFC 5182) */
	struct imap_fetch_item *items;
	size_t		 count;
	unsigned int	 want;		/* IMAP_FETCH_BIT of each att */
	bool		 sets_seen;	/* a non-PEEK body item is present */
	bool		 changedsince_given;
	uint64_t	 changedsince;
	bool		 vanished;	/* QRESYNC, UID FETCH only */
};

int	 imap_parse_fetch(struct imap_cmd *cmd, struct imap_fetch *f_r);

/*
 * STORE and UID STORE
 */
enum imap_store_mode {
	IMAP_STORE_REPLACE = 0,		/* FLAGS */
	IMAP_STORE_ADD,			/* +FLAGS */
	IMAP_STORE_REMOVE		/* -FLAGS */
};

struct imap_store {
	struct imap_seqset *set;	/* NULL when saved */
	bool		 saved;
	enum imap_store_mode mode;
	bool		 silent;
	struct imap_flags flags;
	bool		 unchangedsince_given;
	uint64_t	 unchangedsince;
};

int	 imap_parse_store(struct imap_cmd *cmd, struct imap_store *s_r);

/*
 * SEARCH, UID SEARCH, and the programs of SORT and THREAD
 */
enum imap_search_op {
	IMAP_SEARCH_ALL = 1,
	IMAP_SEARCH_AND,		/* children: every one matches */
	IMAP_SEARCH_OR,			/* children (2 or more): any one */
	IMAP_SEARCH_NOT,		/* one child */
	IMAP_SEARCH_SEQSET,		/* set or saved */
	IMAP_SEARCH_UIDSET,		/* set or saved */
	IMAP_SEARCH_FLAG,		/* flag: one IMAP_FLAG_* bit set */
	IMAP_SEARCH_KEYWORD,		/* str */
	IMAP_SEARCH_BEFORE,		/* date, internal date */
	IMAP_SEARCH_ON,
	IMAP_SEARCH_SINCE,
	IMAP_SEARCH_SENTBEFORE,		/* date, Date: header */
	IMAP_SEARCH_SENTON,
	IMAP_SEARCH_SENTSINCE,
	IMAP_SEARCH_SAVEDBEFORE,	/* date, save date (RFC 8514) */
	IMAP_SEARCH_SAVEDON,
	IMAP_SEARCH_SAVEDSINCE,
	IMAP_SEARCH_SAVEDATESUPPORTED,
	IMAP_SEARCH_OLDER,		/* number: seconds (RFC 5032) */
	IMAP_SEARCH_YOUNGER,
	IMAP_SEARCH_LARGER,		/* number: octets */
	IMAP_SEARCH_SMALLER,
	IMAP_SEARCH_BCC,		/* str, len */
	IMAP_SEARCH_BODY,
	IMAP_SEARCH_CC,
	IMAP_SEARCH_FROM,
	IMAP_SEARCH_SUBJECT,
	IMAP_SEARCH_TEXT,
	IMAP_SEARCH_TO,
	IMAP_SEARCH_HEADER,		/* header, str, len */
	IMAP_SEARCH_MODSEQ,		/* number; entry_name, entry_type */
	IMAP_SEARCH_EMAILID,		/* str (RFC 8474) */
	IMAP_SEARCH_THREADID
};

enum imap_search_entry_type {
	IMAP_SEARCH_ENTRY_NONE = 0,
	IMAP_SEARCH_ENTRY_PRIV,
	IMAP_SEARCH_ENTRY_SHARED,
	IMAP_SEARCH_ENTRY_ALL
};

struct imap_search_node {
	enum imap_search_op op;
	struct imap_search_node *children;	/* AND, OR, NOT */
	struct imap_search_node *next;		/* next sibling */
	struct imap_seqset *set;		/* SEQSET, UIDSET; NULL: $ */
	bool		 saved;
	unsigned int	 flag;
	const char	*header;		/* HEADER field name */
	const char	*str;			/* NUL-terminated */
	size_t		 len;
	struct imap_date date;
	uint64_t	 number;
	const char	*entry_name;		/* "/flags/\Seen" or NULL */
	enum imap_search_entry_type entry_type;
};

#define IMAP_SEARCH_RET_MIN	0x01
#define IMAP_SEARCH_RET_MAX	0x02
#define IMAP_SEARCH_RET_ALL	0x04
#define IMAP_SEARCH_RET_COUNT	0x08
#define IMAP_SEARCH_RET_SAVE	0x10

struct imap_search {
	const char	*charset;	/* upper case as sent, or NULL */
	bool		 ret_given;	/* RETURN (...): answer ESEARCH */
	unsigned int	 ret;		/* IMAP_SEARCH_RET_*; "()" is ALL */
	struct imap_search_node *root;	/* AND of the top-level keys */
	size_t		 nodes;
	bool		 uses_saved;	/* "$" appears */
	bool		 uses_modseq;	/* MODSEQ key: reply has (MODSEQ n) */
};

/* charsets other than US-ASCII and UTF-8 are NO [BADCHARSET ...] */
int	 imap_parse_search(struct imap_cmd *cmd, struct imap_search *s_r);

enum imap_sort_key {
	IMAP_SORT_ARRIVAL = 1,
	IMAP_SORT_CC,
	IMAP_SORT_DATE,
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT,
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,		/* RFC 5957 */
	IMAP_SORT_DISPLAYTO
};

struct imap_sort_crit {
	enum imap_sort_key key;
	bool		 reverse;
};

struct imap_sort {
	struct imap_sort_crit *crit;
	size_t		 count;
	struct imap_search search;	/* charset always set */
};

enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT = 1,
	IMAP_THREAD_REFERENCES
};

struct imap_thread {
	enum imap_thread_alg alg;
	struct imap_search search;	/* charset always set */
};

/* RFC 5256 SORT and THREAD (and their UID forms) */
int	 imap_parse_sort(struct imap_cmd *cmd, struct imap_sort *s_r);
int	 imap_parse_thread(struct imap_cmd *cmd, struct imap_thread *t_r);

/*
 * STATUS, and the STATUS return option of LIST
 */
#define IMAP_STATUS_MESSAGES		0x001
#define IMAP_STATUS_RECENT		0x002
#define IMAP_STATUS_UIDNEXT		0x004
#define IMAP_STATUS_UIDVALIDITY		0x008
#define IMAP_STATUS_UNSEEN		0x010
#define IMAP_STATUS_DELETED		0x020	/* RFC 9051 */
#define IMAP_STATUS_SIZE		0x040	/* RFC 9051, STATUS=SIZE */
#define IMAP_STATUS_HIGHESTMODSEQ	0x080	/* RFC 7162 */
#define IMAP_STATUS_APPENDLIMIT		0x100	/* RFC 7889 */
#define IMAP_STATUS_MAILBOXID		0x200	/* RFC 8474 */

struct imap_status {
	const char	*mailbox;
	unsigned int	 items;
};

int	 imap_parse_status(struct imap_cmd *cmd, struct imap_status *s_r);
/* "(MESSAGES UNSEEN)" into IMAP_STATUS_* bits; at least one */
int	 imap_arg_status_items(struct imap_cmd *cmd, const struct imap_arg *a,
	    unsigned int *items_r);
/* "MESSAGES" for IMAP_STATUS_MESSAGES; NULL unless one known bit */
const char *imap_status_item_name(unsigned int item);

/*
 * LIST (RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154) and LSUB
 */
#define IMAP_LIST_SEL_SUBSCRIBED	0x01
#define IMAP_LIST_SEL_REMOTE		0x02
#define IMAP_LIST_SEL_RECURSIVEMATCH	0x04
#define IMAP_LIST_SEL_SPECIAL_USE	0x08

#define IMAP_LIST_RET_SUBSCRIBED	0x01
#define IMAP_LIST_RET_CHILDREN		0x02
#define IMAP_LIST_RET_SPECIAL_USE	0x04
#define IMAP_LIST_RET_STATUS		0x08
#define IMAP_LIST_RET_MYRIGHTS		0x10

struct imap_list {
	bool		 lsub;
	bool		 extended;	/* options or a pattern list given */
	unsigned int	 select;	/* IMAP_LIST_SEL_* */
	unsigned int	 ret;		/* IMAP_LIST_RET_* */
	unsigned int	 status;	/* IMAP_STATUS_* with RET_STATUS */
	const char	*reference;	/* UTF-8, may be "" */
	const char	**patterns;	/* UTF-8, wildcards kept */
	size_t		 pattern_count;
};

int	 imap_parse_list(struct imap_cmd *cmd, struct imap_list *l_r);

/*
 * APPEND (RFC 3502 MULTIAPPEND, RFC 3516 literal8, RFC 6855 UTF8)
 */
struct imap_append_msg {
	struct imap_flags flags;
	bool		 has_date;
	struct imap_datetime date;
	const struct imap_arg *data;	/* the LITERAL argument */
	bool		 binary;	/* ~{n} */
	bool		 utf8;		/* UTF8 (~{n}) */
};

struct imap_append {
	const char	*mailbox;
	struct imap_append_msg *msgs;
	size_t		 count;
};

int	 imap_parse_append(struct imap_cmd *cmd, struct imap_append *a_r);

/*
 * SELECT and EXAMINE (RFC 7162 CONDSTORE, QRESYNC)
 */
struct imap_select {
	const char	*mailbox;
	bool		 condstore;
	bool		 qresync;
	uint32_t	 uidvalidity;
	uint64_t	 modseq;
	struct imap_seqset *known_uids;		/* NULL if absent */
	struct imap_seqset *match_seqs;		/* NULL if absent */
	struct imap_seqset *match_uids;
};

int	 imap_parse_select(struct imap_cmd *cmd, struct imap_select *s_r);

/*
 * CREATE (RFC 6154 CREATE-SPECIAL-USE)
 */
#define IMAP_USE_ALL		0x01
#define IMAP_USE_ARCHIVE	0x02
#define IMAP_USE_DRAFTS		0x04
#define IMAP_USE_FLAGGED	0x08
#define IMAP_USE_JUNK		0x10
#define IMAP_USE_SENT		0x20
#define IMAP_USE_TRASH		0x40
#define IMAP_USE_IMPORTANT	0x80	/* RFC 8457 */

struct imap_create {
	const char	*mailbox;	/* one trailing "/" dropped */
	unsigned int	 use;		/* IMAP_USE_* */
};

int	 imap_parse_create(struct imap_cmd *cmd, struct imap_create *c_r);
/* "\Drafts" for IMAP_USE_DRAFTS; NULL unless one known bit */
const char *imap_use_name(unsigned int use);

/*
 * The small ones
 */
/* ENABLE: the capability names, upper case */
int	 imap_parse_enable(struct imap_cmd *cmd, const char ***caps_r,
	    size_t *count_r);
/* ID: NIL gives count 0; values may be NULL (NIL) */
int	 imap_parse_id(struct imap_cmd *cmd, const char ***keys_r,
	    const char ***values_r, size_t *count_r);
/* LOGIN user password */
int	 imap_parse_login(struct imap_cmd *cmd, const char **user_r,
	    const char **pass_r);
/* AUTHENTICATE mech [initial]: mech upper case; initial base64, "=" or
 * NULL */
int	 imap_parse_authenticate(struct imap_cmd *cmd, const char **mech_r,
	    const char **initial_r);
/* COPY, MOVE and their UID forms: set (or saved) and the mailbox */
int	 imap_parse_copy(struct imap_cmd *cmd, struct imap_seqset **set_r,
	    bool *saved_r, const char **mailbox_r);
/* RENAME old new */
int	 imap_parse_rename(struct imap_cmd *cmd, const char **from_r,
	    const char **to_r);
/* DELETE, SUBSCRIBE, UNSUBSCRIBE, GETQUOTAROOT: one mailbox */
int	 imap_parse_mailbox_only(struct imap_cmd *cmd, const char **mailbox_r);
/* UID EXPUNGE uid-set (or "$") */
int	 imap_parse_uid_expunge(struct imap_cmd *cmd,
	    struct imap_seqset **set_r, bool *saved_r);

#endif
