/*
 * imap_session - one IMAP connection: its state, the dispatcher, and the
 * contract every command handler codes against
 *
 * The session owns what a connection knows: its state (not authenticated,
 * authenticated, selected, logout), the user and its store handle, the
 * extensions the client enabled, the selected mailbox view (imap_view.h),
 * the saved search result, the command being run and its input.  It is
 * created on connect and freed on close, on the loop thread.
 *
 * THE HANDLER CONTRACT
 *
 * Threads.  The loop thread frames input and assembles one command
 * (imap_parse.h); the dispatcher (imap_session.c) parses it, looks its
 * row up in the command table, checks the state and the flags, and runs
 * the handler in the worker pool (conn_submit()).  One command of a
 * connection runs at a time, so a handler owns its session for the whole
 * call: it reads and changes any field below without locking.  A handler
 * never calls conn_*() (they are loop-thread only) and never touches
 * another session.  Blocking is fine: store, directory, disk.
 *
 * Signature.  imap_cmd_fn(s, cmd, out): cmd is the parsed command (tag,
 * name, uid flag, argument tree); the handler runs the typed parser it
 * needs (imap_parse_fetch() ...) and on failure calls
 * imap_reply_parse_error(s, cmd) and returns CMD_DONE.  Untagged
 * responses ("* 3 FETCH (...)\r\n") are appended to out.  The tagged
 * completion is NOT written by the handler: it sets it with
 * imap_reply_ok/no/bad() (the tag is added by the dispatcher), because
 * the untagged updates the dispatcher adds (below) must come before it.
 * A handler that sets no reply gets "OK <NAME> completed".
 *
 * Results.
 *   CMD_DONE   the command is over: the dispatcher adds the untagged
 *              updates the command allows, then the tagged reply.
 *   CMD_MORE   call me again with the same cmd and s->cmd_state: the
 *              output so far is sent first, and the next call comes once
 *              less than IMAP_OUT_CHUNK bytes are still waiting to go
 *              out.  This is how long replies stay bounded in memory:
 *              a handler stops appending once out->len reaches
 *              IMAP_OUT_CHUNK (finishing the response line it is in;
 *              a message body larger than that is sent as a literal
 *              whose bytes are spread over several calls) and returns
 *              CMD_MORE.  No output of a single call may pass
 *              IMAP_OUT_MAX: the connection would be closed.  s->calls
 *              is 0 at the first call and counts up.  State kept between
 *              calls goes into s->cmd_state, with s->cmd_state_free set
 *              to release it; the dispatcher calls it when the command
 *              ends in any way, including a connection that goes away
 *              between two calls.
 *              A handler that waits for client input instead (only
 *              AUTHENTICATE and IDLE) calls imap_session_want_line() and
 *              returns CMD_MORE: the next line arrives in s->input_line
 *              (NULL with s->line_too_long past max_line; NULL alone
 *              when an IDLE is woken by a change in the mailbox).
 *   CMD_ERROR  an internal error, already logged by the handler: the
 *              tagged reply becomes "NO [SERVERBUG] Internal error, see
 *              server log" whatever was set.  The session goes on.
 *              For an error that must end the session, call
 *              imap_session_disconnect() and return CMD_DONE.
 *
 * States and flags.  The table row says in which states a command is
 * allowed (IMAP_CMD_F_NOAUTH/AUTH/SELECTED); the dispatcher answers
 * "BAD" for the others, so a handler never re-checks.  IMAP_CMD_F_WRITE
 * commands are refused with NO on a mailbox opened with EXAMINE.
 * State changes only through imap_session_set_state().
 *
 * Untagged updates and the EXPUNGE rule (RFC 3501 7.4.1, RFC 9051
 * 7.5.1, RFC 7162 3.2.10).  After every command in the selected state
 * (unless its row says IMAP_CMD_F_NO_UPDATES) the dispatcher syncs the
 * view with the store and reports what other sessions and deliveries
 * changed: new messages (EXISTS, RECENT for IMAP4rev1), flag changes
 * (FETCH (FLAGS ...) with UID and MODSEQ once CONDSTORE is on), new
 * keywords (FLAGS, PERMANENTFLAGS), and expunges (EXPUNGE, or VANISHED
 * with QRESYNC).  Expunges are held back, and the expunged messages keep
 * their sequence numbers, after a command whose row has
 * IMAP_CMD_F_HOLD_EXPUNGE and that was given without "UID" (FETCH,
 * STORE, SEARCH, SORT, THREAD by sequence number): the client's
 * sequence numbers must not shift under a command that uses them.  They
 * are reported at the next command that allows them.  Nothing is ever
 * sent between commands, except during IDLE.  A handler whose own action
 * produces untagged responses in a fixed order (MOVE: the COPYUID OK,
 * then the expunges) calls imap_session_updates() itself at that point.
 * A handler that tells the client a message's new flags (a STORE reply,
 * a FETCH that set \Seen) calls imap_view_known() (imap_view.h) so the
 * same change is not reported a second time.
 *
 * Sequence numbers.  A handler resolves sequence sets against the view
 * (imap_view_uidset()), never against a store snapshot: messages that
 * another session expunged keep their sequence numbers until the client
 * was told.  Such a message is gone from the store; FETCH simply returns
 * nothing for it (RFC 9051 allows this), STORE skips it.
 *
 * Input limits: the framer refuses a sync literal over max_literal (for
 * APPEND: over appendlimit) before it is sent, and discards a LITERAL+
 * one; an over-long line is answered BAD (tagged when its first bytes
 * hold a valid tag) and the rest of it discarded.
 * Handlers see only complete, bounded commands.
 */
#ifndef BASTIDE_IMAP_SESSION_H
#define BASTIDE_IMAP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#include "imap_parse.h"
#include "imap_seqset.h"

struct conn;
struct conn_handler;
struct event;
struct directory;
struct store;
struct store_user;
struct store_notify;
struct authfail;
struct event_base;
struct imap_users;
struct imap_view;
struct workers;
struct imap_session;
struct imapd;

/* a handler stops appending around this much output and returns
 * CMD_MORE; the next call comes once the client has taken it */
#define IMAP_OUT_CHUNK		(256 * 1024)
/* the most one call may append (the connection's output ceiling is
 * well above IMAP_OUT_CHUNK + IMAP_OUT_MAX) */
#define IMAP_OUT_MAX		(2 * 1024 * 1024)

enum imap_state {
	IMAP_STATE_NOT_AUTH = 0,
	IMAP_STATE_AUTH,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT
};

enum imap_cmd_result {
	CMD_DONE = 0,
	CMD_MORE,
	CMD_ERROR
};

/* extensions switched on by ENABLE (RFC 5161) */
#define IMAP_ENABLED_CONDSTORE	0x01	/* or a CONDSTORE enabling command */
#define IMAP_ENABLED_QRESYNC	0x02	/* implies CONDSTORE */
#define IMAP_ENABLED_UTF8	0x04	/* UTF8=ACCEPT (RFC 6855) */
#define IMAP_ENABLED_REV2	0x08	/* IMAP4rev2 (RFC 9051) */

/* command table flags: states the command is allowed in */
#define IMAP_CMD_F_NOAUTH	0x0001
#define IMAP_CMD_F_AUTH		0x0002
#define IMAP_CMD_F_SELECTED	0x0004
#define IMAP_CMD_F_ANY		(IMAP_CMD_F_NOAUTH | IMAP_CMD_F_AUTH | \
				 IMAP_CMD_F_SELECTED)
#define IMAP_CMD_F_LOGGED_IN	(IMAP_CMD_F_AUTH | IMAP_CMD_F_SELECTED)
/* and what the dispatcher does around it */
#define IMAP_CMD_F_WRITE	0x0010	/* NO on an EXAMINEd mailbox */
#define IMAP_CMD_F_HOLD_EXPUNGE	0x0020	/* without UID: no EXPUNGE after */
#define IMAP_CMD_F_NO_UPDATES	0x0040	/* no untagged updates after */

typedef enum imap_cmd_result imap_cmd_fn(struct imap_session *s,
	    struct imap_cmd *cmd, struct buf *out);

/* one row of the command table (imap_session.c) */
struct imap_command {
	const char	*name;		/* "FETCH" */
	imap_cmd_fn	*fn;
	unsigned int	 flags;		/* IMAP_CMD_F_* */
	enum imap_cmd_id id;		/* IMAP_CMD_FETCH */
};

/*
 * What a session may use of the daemon's settings; copied at connect
 * time, so a reload (SIGHUP) never changes them under a running handler.
 */
struct imap_settings {
	uint64_t	 max_literal;	/* bytes of a literal, not APPEND */
	uint64_t	 appendlimit;	/* bytes of one APPEND message */
	size_t		 max_line;	/* bytes of a command line */
	size_t		 max_command;	/* lines + literals of one command */
	uint64_t	 autologout_ms;	/* idle, outside IDLE */
	uint64_t	 idle_max_ms;	/* one IDLE command at most */
	uint64_t	 idle_keepalive_ms; /* "* OK Still here" in IDLE */
	unsigned int	 max_user_sessions; /* per user, 0: no limit */
	bool		 plaintext_loopback; /* no TLS needed on loopback */
	/* background downloads (imap_background.h) */
	bool		 background_refuse; /* while loaded */
	unsigned int	 background_busy_jobs; /* loaded above this */
	char		*background_clients; /* ID names, space-separated,
					 * or NULL; each copy owns its own */
};

struct imap_session {
	/* set at connect; handlers read them */
	struct imapd	*d;		/* the daemon (store, directory) */
	struct conn	*conn;		/* loop thread only: never conn_*() */
	char		*peer;		/* client address, for logs */
	bool		 tls;		/* TLS is up */
	bool		 loopback;	/* the client is on 127/8 or ::1 */
	struct imap_settings set;

	enum imap_state	 state;		/* imap_session_set_state() */

	/* authenticated: all set together by the login */
	char		*user;		/* store user "localpart@domain" */
	char		*login;		/* LDAP uid */
	struct store_user *su;
	uint64_t	 quota_bytes;	/* LDAP bastideQuota; 0: none */

	/* ENABLE and friends */
	unsigned int	 enabled;	/* IMAP_ENABLED_* */
	/* the client's ID announced a background download */
	bool		 background;

	/* IMAP_STATE_SELECTED: the mailbox (imap_view.h), else NULL */
	struct imap_view *view;

	/* SEARCHRES (RFC 5182): UIDs of the last SEARCH ... SAVE;
	 * cleared at SELECT, EXAMINE, CLOSE, UNSELECT */
	struct imap_seqset saved;
	bool		 saved_valid;

	/* the command being run */
	const struct imap_command *def;	/* its table row */
	unsigned int	 calls;		/* 0 at the first call */
	void		*cmd_state;	/* the handler's, across CMD_MORE */
	void		(*cmd_state_free)(void *state);
	const char	*input_line;	/* after imap_session_want_line();
					 * NULL: no line (IDLE woken by a
					 * change) or line_too_long */
	size_t		 input_len;
	bool		 line_too_long;	/* the line passed max_line */

	/* private: the dispatcher's (imap_session.c) and cmd_auth.c's,
	 * cmd_idle.c's; handlers of other files leave them alone */
	struct imap_cmd	 cmd;
	bool		 cmd_parsed;	/* cmd holds a parse to deinit */
	struct imap_input input;	/* loop: assembling; worker: parsing */
	struct buf	 line;		/* the line of want_line */
	struct buf	 tagged;	/* "OK [CODE] text" without the tag */
	bool		 tagged_set;
	bool		 in_updates;	/* CMD_DONE, updates cut short */
	bool		 more;		/* CMD_MORE: resubmit after output */
	bool		 want_line;	/* CMD_MORE: resubmit with a line */
	bool		 close_after;	/* imap_session_disconnect() */
	char		*bye;		/* its "* BYE" text */
	bool		 start_tls;	/* STARTTLS once the OK is out */
	bool		 start_compress; /* COMPRESS once the OK is out */
	bool		 compressed;	/* COMPRESS=DEFLATE is active */
	bool		 idling;	/* in IDLE (worker's view) */
	bool		 watch_changed;	/* view opened/closed: (un)watch */
	uint64_t	 auth_delay_ms;	/* hold a refusal this long */
	struct buf	 deferred;	/* the held refusal */
	bool		 counted;	/* in the user's session count */
	/* loop thread only */
	bool		 job_running;
	bool		 orphan;	/* conn gone while a job ran */
	bool		 watching;	/* registered with store_notify */
	bool		 notify_pending; /* the store changed */
	bool		 idle_loop;	/* in IDLE (loop's view) */
	bool		 waiting_drain;	/* more: wait for output to drain */
	bool		 cmd_active;	/* a command is being assembled */
	bool		 discard;	/* drop the rest of this command */
	const char	*discard_status; /* "BAD" or "NO" */
	const char	*discard_code;	/* response code for the refusal */
	const char	*discard_text;
	bool		 discard_literal; /* dropping LITERAL+ bytes */
	bool		 append_cmd;	/* the command is APPEND */
	bool		 login_cmd;	/* the command is LOGIN */
	char		 tag[64];	/* of the command being assembled */
	struct event	*ev_timer;	/* auth delay, IDLE keep-alive */
	bool		 timer_keepalive;
};

/*
 * What every session shares; imapd.c owns every member.  Handlers use
 * dir, store and authfail (all thread-safe) and take settings from
 * s->set, never from here.
 */
struct imapd {
	struct event_base *base;
	struct imap_settings set;	/* current; loop thread */
	struct directory *dir;
	struct store	*store;
	struct store_notify *notify;	/* loop thread */
	struct authfail	*authfail;
	struct workers	*workers;	/* the pool, for its load */
	bool		 tls;		/* a TLS context exists */
	struct imap_users *users;	/* sessions per user (mutex) */
};

/* the row of a command id; NULL for IMAP_CMD_UNKNOWN */
const struct imap_command *imap_command_find(enum imap_cmd_id id);

/*
 * The tagged completion of the running command: "tag OK [code] text".
 * code is the response code without brackets ("TRYCREATE",
 * "APPENDUID 3 7") or NULL.  A later call replaces an earlier one.
 */
void	 imap_reply_ok(struct imap_session *s, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	 imap_reply_no(struct imap_session *s, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	 imap_reply_bad(struct imap_session *s, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* the parser's failure in cmd: BAD, or NO if cmd->error_no, with
 * cmd->error_code */
void	 imap_reply_parse_error(struct imap_session *s,
	    const struct imap_cmd *cmd);
/* a store error (store.h: a static text a client may see): NO with
 * the fitting code (NONEXISTENT, ALREADYEXISTS, OVERQUOTA, LIMIT,
 * SERVERBUG, ...) */
void	 imap_reply_store_error(struct imap_session *s, const char *error);

/* the flags imap_write.h functions want for this session (UTF-8
 * mailbox names and strings after ENABLE UTF8=ACCEPT or IMAP4rev2) */
unsigned int imap_session_write_flags(const struct imap_session *s);
/* the session announced a background download (ID) and the server is
 * loaded: refuse it with NO [UNAVAILABLE] (imap_background.h) */
bool	 imap_session_background_refused(const struct imap_session *s);
/* the parser settings for this session */
void	 imap_session_parse_settings(const struct imap_session *s,
	    struct imap_parse_settings *set);
bool	 imap_session_rev2(const struct imap_session *s);
bool	 imap_session_condstore(const struct imap_session *s);
bool	 imap_session_qresync(const struct imap_session *s);

/*
 * A CONDSTORE enabling command (RFC 7162 3.1: FETCH MODSEQ or
 * CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ, SELECT (CONDSTORE),
 * STATUS (HIGHESTMODSEQ), ENABLE CONDSTORE): turns CONDSTORE on for the
 * rest of the connection; the first time, with a mailbox selected,
 * appends "* OK [HIGHESTMODSEQ n]" to out.
 */
void	 imap_session_enable_condstore(struct imap_session *s,
	    struct buf *out);

/*
 * Report the untagged updates now (see above); expunges only when
 * allow_expunge.  Returns 0, 1 when output reached IMAP_OUT_CHUNK and
 * more remains (call again after CMD_MORE), -1 on a store error
 * (logged).  Without a selected mailbox it does nothing.
 */
int	 imap_session_updates(struct imap_session *s, struct buf *out,
	    bool allow_expunge);

/*
 * The bytes of a literal argument (APPEND messages): in memory today;
 * a session may later keep big ones in a file, and this is where they
 * would be mapped.  0, or -1 with a static error.
 */
int	 imap_session_literal(struct imap_session *s, const struct imap_arg *a,
	    const char **data_r, size_t *len_r, const char **error_r);

/* state changes, logged at trace level */
void	 imap_session_set_state(struct imap_session *s, enum imap_state st);
const char *imap_state_name(enum imap_state st);

/* end the session once this command's output is out: "* BYE text" */
void	 imap_session_disconnect(struct imap_session *s, const char *text);
/* AUTHENTICATE, IDLE: the next input line goes to the handler */
void	 imap_session_want_line(struct imap_session *s);

/*
 * The capability list for the session's state and TLS, without
 * "CAPABILITY" and without CRLF ("IMAP4rev1 IMAP4rev2 ...").
 */
void	 imap_session_capabilities(const struct imap_session *s,
	    struct buf *out);

/* a monotonic clock in milliseconds (authfail, IDLE) */
uint64_t imap_now_ms(void);

/*
 * Sessions per user, shared by all workers (one mutex): add refuses
 * (returns false, counts nothing) when user already has max sessions
 * (0: no limit).
 */
struct imap_users *imap_users_new(void);
void	 imap_users_free(struct imap_users **u);
bool	 imap_users_add(struct imap_users *u, const char *user,
	    unsigned int max);
void	 imap_users_remove(struct imap_users *u, const char *user);

/* the loop side, used by imapd.c: the daemon's store_notify fd is
 * readable (wakes IDLE sessions) */
void	 imap_session_notify_read(struct store_notify *n);
/* the net.c handler */
extern const struct conn_handler imap_session_handler;

#endif
