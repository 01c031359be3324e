/*
 * imap_session.c - the IMAP connection: command assembly on the loop,
 * dispatch to handlers in the workers, untagged updates, IDLE wake-ups
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "store.h"
#include "store_notify.h"
#include "workers.h"
#include "xmalloc.h"

#include "imap_background.h"
#include "imap_commands.h"
#include "imap_session.h"
#include "imap_view.h"
#include "imap_write.h"

/* the input buffer of a command keeps at most this much memory between
 * commands; a bigger one (an APPEND) is given back */
#define SESSION_INPUT_KEEP	(16 * 1024)

static const struct imap_command imap_commands[] = {
	{ "CAPABILITY", cmd_capability, IMAP_CMD_F_ANY, IMAP_CMD_CAPABILITY },
	{ "NOOP", cmd_noop, IMAP_CMD_F_ANY, IMAP_CMD_NOOP },
	{ "LOGOUT", cmd_logout, IMAP_CMD_F_ANY | IMAP_CMD_F_NO_UPDATES,
	  IMAP_CMD_LOGOUT },
	{ "ID", cmd_id, IMAP_CMD_F_ANY, IMAP_CMD_ID },
	{ "STARTTLS", cmd_starttls, IMAP_CMD_F_NOAUTH, IMAP_CMD_STARTTLS },
	{ "LOGIN", cmd_login, IMAP_CMD_F_NOAUTH, IMAP_CMD_LOGIN },
	{ "AUTHENTICATE", cmd_authenticate, IMAP_CMD_F_NOAUTH,
	  IMAP_CMD_AUTHENTICATE },
	{ "UNAUTHENTICATE", cmd_unauthenticate, IMAP_CMD_F_LOGGED_IN |
	  IMAP_CMD_F_NO_UPDATES, IMAP_CMD_UNAUTHENTICATE },
	{ "ENABLE", cmd_enable, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_ENABLE },
	{ "COMPRESS", cmd_compress, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_COMPRESS },
	{ "SELECT", cmd_select, IMAP_CMD_F_LOGGED_IN | IMAP_CMD_F_NO_UPDATES,
	  IMAP_CMD_SELECT },
	{ "EXAMINE", cmd_select, IMAP_CMD_F_LOGGED_IN | IMAP_CMD_F_NO_UPDATES,
	  IMAP_CMD_EXAMINE },
	{ "CREATE", cmd_create, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_CREATE },
	{ "DELETE", cmd_delete, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_DELETE },
	{ "RENAME", cmd_rename, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_RENAME },
	{ "SUBSCRIBE", cmd_subscribe, IMAP_CMD_F_LOGGED_IN,
	  IMAP_CMD_SUBSCRIBE },
	{ "UNSUBSCRIBE", cmd_subscribe, IMAP_CMD_F_LOGGED_IN,
	  IMAP_CMD_UNSUBSCRIBE },
	{ "LIST", cmd_list, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_LIST },
	{ "LSUB", cmd_list, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_LSUB },
	{ "NAMESPACE", cmd_namespace, IMAP_CMD_F_LOGGED_IN,
	  IMAP_CMD_NAMESPACE },
	{ "STATUS", cmd_status, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_STATUS },
	{ "APPEND", cmd_append, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_APPEND },
	{ "IDLE", cmd_idle, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_IDLE },
	{ "GETQUOTA", cmd_getquota, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_GETQUOTA },
	{ "GETQUOTAROOT", cmd_getquotaroot, IMAP_CMD_F_LOGGED_IN,
	  IMAP_CMD_GETQUOTAROOT },
	{ "SETQUOTA", cmd_getquota, IMAP_CMD_F_LOGGED_IN, IMAP_CMD_SETQUOTA },
	{ "CHECK", cmd_check, IMAP_CMD_F_SELECTED, IMAP_CMD_CHECK },
	{ "CLOSE", cmd_close, IMAP_CMD_F_SELECTED | IMAP_CMD_F_NO_UPDATES,
	  IMAP_CMD_CLOSE },
	{ "UNSELECT", cmd_unselect, IMAP_CMD_F_SELECTED |
	  IMAP_CMD_F_NO_UPDATES, IMAP_CMD_UNSELECT },
	{ "EXPUNGE", cmd_expunge, IMAP_CMD_F_SELECTED | IMAP_CMD_F_WRITE,
	  IMAP_CMD_EXPUNGE },
	{ "SEARCH", cmd_search, IMAP_CMD_F_SELECTED |
	  IMAP_CMD_F_HOLD_EXPUNGE, IMAP_CMD_SEARCH },
	{ "FETCH", cmd_fetch, IMAP_CMD_F_SELECTED | IMAP_CMD_F_HOLD_EXPUNGE,
	  IMAP_CMD_FETCH },
	{ "STORE", cmd_store, IMAP_CMD_F_SELECTED | IMAP_CMD_F_WRITE |
	  IMAP_CMD_F_HOLD_EXPUNGE, IMAP_CMD_STORE },
	{ "COPY", cmd_copy, IMAP_CMD_F_SELECTED, IMAP_CMD_COPY },
	{ "MOVE", cmd_move, IMAP_CMD_F_SELECTED | IMAP_CMD_F_WRITE,
	  IMAP_CMD_MOVE },
	{ "SORT", cmd_sort, IMAP_CMD_F_SELECTED | IMAP_CMD_F_HOLD_EXPUNGE,
	  IMAP_CMD_SORT },
	{ "THREAD", cmd_thread, IMAP_CMD_F_SELECTED |
	  IMAP_CMD_F_HOLD_EXPUNGE, IMAP_CMD_THREAD },
};

static void session_submit(struct imap_session *s);

/* imap_command_find - the table row of a command */
const struct imap_command *
imap_command_find(enum imap_cmd_id id)
{
	size_t i;

	for (i = 0; i < sizeof(imap_commands) / sizeof(imap_commands[0]); i++)
		if (imap_commands[i].id == id)
			return &imap_commands[i];
	return NULL;
}

/* imap_now_ms - monotonic milliseconds */
uint64_t
imap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Sessions per user
 */

#define USERS_BUCKETS	256

struct imap_user_count {
	struct imap_user_count *next;
	char		*user;
	unsigned int	 n;
};

struct imap_users {
	pthread_mutex_t	 lock;
	struct imap_user_count *b[USERS_BUCKETS];
};

/* users_hash - FNV-1a of a user name */
static unsigned int
users_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h % USERS_BUCKETS;
}

/* imap_users_new - an empty table */
struct imap_users *
imap_users_new(void)
{
	struct imap_users *u = xcalloc(1, sizeof(*u));

	pthread_mutex_init(&u->lock, NULL);
	return u;
}

/* imap_users_free - forget every count */
void
imap_users_free(struct imap_users **up)
{
	struct imap_users *u = *up;
	struct imap_user_count *e, *next;
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < USERS_BUCKETS; i++)
		for (e = u->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e->user);
			free(e);
		}
	pthread_mutex_destroy(&u->lock);
	free(u);
	*up = NULL;
}

/* imap_users_add - one more session of user, unless it has max */
bool
imap_users_add(struct imap_users *u, const char *user, unsigned int max)
{
	struct imap_user_count *e;
	unsigned int h = users_hash(user);
	bool ok = true;

	pthread_mutex_lock(&u->lock);
	for (e = u->b[h]; e != NULL; e = e->next)
		if (strcmp(e->user, user) == 0)
			break;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->user = xstrdup(user);
		e->next = u->b[h];
		u->b[h] = e;
	}
	if (max != 0 && e->n >= max)
		ok = false;
	else
		e->n++;
	pthread_mutex_unlock(&u->lock);
	return ok;
}

/* imap_users_remove - one session of user fewer */
void
imap_users_remove(struct imap_users *u, const char *user)
{
	struct imap_user_count **pp, *e;
	unsigned int h = users_hash(user);

	pthread_mutex_lock(&u->lock);
	for (pp = &u->b[h]; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->user, user) == 0)
			break;
	if (e != NULL && --e->n == 0) {
		*pp = e->next;
		free(e->user);
		free(e);
	}
	pthread_mutex_unlock(&u->lock);
}

/*
 * Replies
 */

/* reply_v - the tagged completion: "STATUS [code] text" */
static void
reply_v(struct imap_session *s, const char *status, const char *code,
    const char *fmt, va_list ap)
{
	struct buf text;

	buf_reset(&s->tagged);
	buf_init(&text, 1024);
	(void)buf_vprintf(&text, fmt, ap);
	(void)buf_append_str(&s->tagged, status);
	(void)buf_append_byte(&s->tagged, ' ');
	if (code != NULL && *code != '\0')
		(void)buf_printf(&s->tagged, "[%s] ", code);
	(void)imap_write_text(&s->tagged, buf_ptr(&text), buf_avail(&text));
	buf_deinit(&text);
	s->tagged_set = true;
}

/* imap_reply_ok - tagged OK */
void
imap_reply_ok(struct imap_session *s, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_v(s, "OK", code, fmt, ap);
	va_end(ap);
}

/* imap_reply_no - tagged NO */
void
imap_reply_no(struct imap_session *s, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_v(s, "NO", code, fmt, ap);
	va_end(ap);
}

/* imap_reply_bad - tagged BAD */
void
imap_reply_bad(struct imap_session *s, const char *code, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_v(s, "BAD", code, fmt, ap);
	va_end(ap);
}

/* imap_reply_parse_error - what the parser found wrong */
void
imap_reply_parse_error(struct imap_session *s, const struct imap_cmd *cmd)
{
	const char *text = cmd->error != NULL ? cmd->error : "Syntax error";

	if (cmd->error_no)
		imap_reply_no(s, cmd->error_code, "%s", text);
	else
		imap_reply_bad(s, cmd->error_code, "%s", text);
}

static const struct {
	const char	*error;
	const char	*code;
	const char	*text;
} store_errors[] = {
	{ "no such mailbox", "NONEXISTENT", "Mailbox does not exist" },
	{ "mailbox was deleted", "NONEXISTENT", "Mailbox does not exist" },
	{ "mailbox already exists", "ALREADYEXISTS",
	  "Mailbox already exists" },
	{ "INBOX cannot be deleted", "CANNOT", "INBOX cannot be deleted" },
	{ "cannot rename a mailbox into itself", "CANNOT",
	  "Cannot rename a mailbox into itself" },
	{ "cannot move a message into its own mailbox", "CANNOT",
	  "Cannot move a message into its own mailbox" },
	{ "mailbox is out of UIDs", "LIMIT", "Mailbox is out of UIDs" },
	{ "too many watched mailboxes", "LIMIT", "Too many mailboxes open" },
	{ "unsupported special use", "USEATTR",
	  "Special use is not supported" },
};

/* imap_reply_store_error - a store error as NO with a response code */
void
imap_reply_store_error(struct imap_session *s, const char *error)
{
	size_t i;

	if (error == NULL)
		error = "internal error";
	for (i = 0; i < sizeof(store_errors) / sizeof(store_errors[0]); i++)
		if (strcmp(store_errors[i].error, error) == 0) {
			imap_reply_no(s, store_errors[i].code, "%s",
			    store_errors[i].text);
			return;
		}
	if (strncmp(error, "mailbox name", 12) == 0 ||
	    strcmp(error, "empty mailbox name") == 0) {
		imap_reply_no(s, "CANNOT", "Invalid mailbox name: %s", error);
		return;
	}
	imap_reply_no(s, "SERVERBUG", "Internal error (%s), see server log",
	    error);
}

/*
 * Session helpers for handlers
 */

/* imap_session_write_flags - IMAP_WRITE_UTF8 in UTF-8 mode */
unsigned int
imap_session_write_flags(const struct imap_session *s)
{
	return (s->enabled & (IMAP_ENABLED_UTF8 | IMAP_ENABLED_REV2)) != 0 ?
	    IMAP_WRITE_UTF8 : 0;
}

/* imap_session_background_refused - a background download while the
 * pool is loaded */
bool
imap_session_background_refused(const struct imap_session *s)
{
	unsigned int pending;

	if (!s->background || !s->set.background_refuse)
		return false;
	pending = s->d->workers != NULL ? workers_pending(s->d->workers) : 0;
	return imap_background_busy(pending, s->set.background_busy_jobs);
}

/* imap_session_parse_settings - parser settings for this session */
void
imap_session_parse_settings(const struct imap_session *s,
    struct imap_parse_settings *set)
{
	imap_parse_settings_init(set);
	set->utf8 = imap_session_write_flags(s) != 0;
}

/* imap_session_rev2 - ENABLE IMAP4rev2 was given */
bool
imap_session_rev2(const struct imap_session *s)
{
	return (s->enabled & IMAP_ENABLED_REV2) != 0;
}

/* imap_session_condstore - CONDSTORE is on */
bool
imap_session_condstore(const struct imap_session *s)
{
	return (s->enabled & (IMAP_ENABLED_CONDSTORE |
	    IMAP_ENABLED_QRESYNC)) != 0;
}

/* imap_session_qresync - ENABLE QRESYNC was given */
bool
imap_session_qresync(const struct imap_session *s)
{
	return (s->enabled & IMAP_ENABLED_QRESYNC) != 0;
}

/* imap_session_enable_condstore - a CONDSTORE enabling command ran */
void
imap_session_enable_condstore(struct imap_session *s, struct buf *out)
{
	if (imap_session_condstore(s))
		return;
	s->enabled |= IMAP_ENABLED_CONDSTORE;
	if (s->view != NULL && out != NULL)
		(void)buf_printf(out, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
		    (unsigned long long)s->view->highestmodseq);
}

/* session_view_how - the IMAP_VIEW_* bits of this session */
static unsigned int
session_view_how(const struct imap_session *s, bool allow_expunge)
{
	unsigned int how = 0;

	if (allow_expunge)
		how |= IMAP_VIEW_EXPUNGE_OK;
	if (imap_session_qresync(s))
		how |= IMAP_VIEW_VANISHED;
	if (imap_session_condstore(s))
		how |= IMAP_VIEW_MODSEQ;
	if (!imap_session_rev2(s))
		how |= IMAP_VIEW_RECENT;
	if (imap_session_write_flags(s) != 0)
		how |= IMAP_VIEW_UTF8;
	return how;
}

/* imap_session_updates - untagged updates of the selected mailbox */
int
imap_session_updates(struct imap_session *s, struct buf *out,
    bool allow_expunge)
{
	const char *error;
	int r;

	if (s->view == NULL)
		return 0;
	r = imap_view_sync(s->view, session_view_how(s, allow_expunge), out,
	    &error);
	if (r < 0)
		log_warnx("%s: sync of %s: %s", s->user, s->view->name, error);
	return r;
}

/* imap_session_literal - the bytes of a literal argument */
int
imap_session_literal(struct imap_session *s, const struct imap_arg *a,
    const char **data_r, size_t *len_r, const char **error_r)
{
	if (a->type != IMAP_ARG_LITERAL || a->str == NULL) {
		*error_r = "not a literal in memory";
		return -1;
	}
	*data_r = a->str;
	*len_r = a->len;
	return 0;
}

/* imap_state_name - for logs */
const char *
imap_state_name(enum imap_state st)
{
	switch (st) {
	case IMAP_STATE_NOT_AUTH:
		return "not-authenticated";
	case IMAP_STATE_AUTH:
		return "authenticated";
	case IMAP_STATE_SELECTED:
		return "selected";
	case IMAP_STATE_LOGOUT:
		return "logout";
	}
	return "?";
}

/* imap_session_set_state - the one place the state changes */
void
imap_session_set_state(struct imap_session *s, enum imap_state st)
{
	if (s->state == st)
		return;
	log_trace("state %s -> %s", imap_state_name(s->state),
	    imap_state_name(st));
	s->state = st;
}

/* imap_session_disconnect - BYE after this command */
void
imap_session_disconnect(struct imap_session *s, const char *text)
{
	s->close_after = true;
	free(s->bye);
	s->bye = xstrdup(text != NULL ? text : "Logging out");
}

/* imap_session_want_line - the handler waits for a line */
void
imap_session_want_line(struct imap_session *s)
{
	s->want_line = true;
}

/* imap_session_capabilities - what we offer in this state */
void
imap_session_capabilities(const struct imap_session *s, struct buf *out)
{
	bool login_ok = s->tls || (s->set.plaintext_loopback && s->loopback);

	(void)buf_append_str(out, "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ "
	    "ID ENABLE IDLE");
	if (s->state == IMAP_STATE_NOT_AUTH) {
		if (s->d->tls && !s->tls)
			(void)buf_append_str(out, " STARTTLS");
		(void)buf_append_str(out, login_ok ? " AUTH=PLAIN" :
		    " LOGINDISABLED");
		return;
	}
	(void)buf_append_str(out, " NAMESPACE UIDPLUS MOVE UNSELECT "
	    "CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE "
	    "CREATE-SPECIAL-USE ESEARCH SEARCHRES CONDSTORE QRESYNC QUOTA "
	    "QUOTA=RES-STORAGE STATUS=SIZE SORT THREAD=ORDEREDSUBJECT "
	    "THREAD=REFERENCES UTF8=ACCEPT BINARY MULTIAPPEND UNAUTHENTICATE "
	    "OBJECTID");
	if (!s->compressed)
		(void)buf_append_str(out, " COMPRESS=DEFLATE");
	(void)buf_printf(out, " APPENDLIMIT=%llu",
	    (unsigned long long)s->set.appendlimit);
}

/*
 * The command in a worker
 */

/* session_cmd_end - release what one command held */
static void
session_cmd_end(struct imap_session *s)
{
	if (s->cmd_state_free != NULL && s->cmd_state != NULL)
		s->cmd_state_free(s->cmd_state);
	s->cmd_state = NULL;
	s->cmd_state_free = NULL;
	if (s->cmd_parsed)
		imap_cmd_deinit(&s->cmd);
	s->cmd_parsed = false;
	s->def = NULL;
	s->calls = 0;
	s->in_updates = false;
	s->more = false;
	s->want_line = false;
	s->tagged_set = false;
	buf_reset(&s->tagged);
	/* an AUTHENTICATE response is a secret */
	if (s->line.data != NULL) {
		wipe(s->line.data, s->line.cap);
		buf_deinit(&s->line);
		buf_init(&s->line, s->set.max_line);
	}
	/* the input may hold a password: wipe, and give back big buffers */
	if (s->input.bytes.cap > SESSION_INPUT_KEEP) {
		size_t max = s->input.bytes.max;

		imap_input_wipe(&s->input);
		imap_input_deinit(&s->input);
		imap_input_init(&s->input, max);
	} else
		imap_input_wipe(&s->input);
}

/* session_check - state and flags of the table row */
static bool
session_check(struct imap_session *s, const struct imap_command *def)
{
	unsigned int need;

	switch (s->state) {
	case IMAP_STATE_NOT_AUTH:
		need = IMAP_CMD_F_NOAUTH;
		break;
	case IMAP_STATE_AUTH:
		need = IMAP_CMD_F_AUTH;
		break;
	case IMAP_STATE_SELECTED:
		need = IMAP_CMD_F_SELECTED;
		break;
	default:
		need = 0;
		break;
	}
	if ((def->flags & need) == 0) {
		if (s->state == IMAP_STATE_NOT_AUTH)
			imap_reply_bad(s, NULL, "%s: log in first", def->name);
		else if ((def->flags & IMAP_CMD_F_SELECTED) != 0 &&
		    (def->flags & IMAP_CMD_F_NOAUTH) == 0)
			imap_reply_bad(s, NULL, "%s: no mailbox selected",
			    def->name);
		else
			imap_reply_bad(s, NULL, "%s: already logged in",
			    def->name);
		return false;
	}
	if ((def->flags & IMAP_CMD_F_WRITE) != 0 && s->view != NULL &&
	    s->view->readonly) {
		imap_reply_no(s, NULL, "%s: mailbox is read-only (EXAMINE)",
		    def->name);
		return false;
	}
	return true;
}

/* session_start - parse and check; false when the reply is already set
 * (or the line had no tag) */
static bool
session_start(struct imap_session *s, bool *untagged_r)
{
	struct imap_parse_settings set;
	const struct imap_piece *pieces;
	size_t n;

	*untagged_r = false;
	imap_session_parse_settings(s, &set);
	pieces = imap_input_pieces(&s->input, &n);
	s->cmd_parsed = true;
	if (imap_parse(&s->cmd, pieces, n, &set) < 0) {
		if (s->cmd.tag == NULL) {
			*untagged_r = true;
			return false;
		}
		imap_reply_parse_error(s, &s->cmd);
		return false;
	}
	s->def = imap_command_find(s->cmd.id);
	if (s->def == NULL) {
		imap_reply_bad(s, NULL, "%s: command not supported",
		    s->cmd.name != NULL ? s->cmd.name : "?");
		return false;
	}
	log_debug("%s%s", s->cmd.uid ? "UID " : "", s->def->name);
	return session_check(s, s->def);
}

/* session_finish - BYE, the tagged line, then forget the command */
static void
session_finish(struct imap_session *s, struct buf *out, bool untagged)
{
	struct buf *dst = out;

	if (s->bye != NULL)
		(void)buf_printf(out, "* BYE %s\r\n", s->bye);
	if (s->auth_delay_ms > 0) {
		buf_reset(&s->deferred);
		dst = &s->deferred;
	}
	if (untagged) {
		(void)buf_printf(dst, "* BAD %s\r\n", s->cmd.error != NULL ?
		    s->cmd.error : "Missing tag");
	} else {
		if (!s->tagged_set)
			imap_reply_ok(s, NULL, "%s completed",
			    s->def != NULL ? s->def->name : "Command");
		(void)buf_printf(dst, "%s %s\r\n", s->cmd.tag,
		    buf_cstr(&s->tagged));
	}
	session_cmd_end(s);
}

/* session_updates_step - the untagged updates after a command */
static bool
session_updates_step(struct imap_session *s, struct buf *out)
{
	bool allow;
	int r;

	if (s->state != IMAP_STATE_SELECTED || s->view == NULL ||
	    s->close_after || (s->def->flags & IMAP_CMD_F_NO_UPDATES) != 0)
		return true;
	allow = !((s->def->flags & IMAP_CMD_F_HOLD_EXPUNGE) != 0 &&
	    !s->cmd.uid);
	r = imap_session_updates(s, out, allow);
	if (r == 1) {
		s->in_updates = true;
		s->more = true;
		return false;
	}
	if (r < 0)
		imap_session_disconnect(s, "Selected mailbox is no longer "
		    "available");
	s->in_updates = false;
	return true;
}

/* session_job - in a worker: run (or continue) the command */
static void
session_job(void *arg, struct buf *out)
{
	struct imap_session *s = arg;
	enum imap_cmd_result r;
	bool untagged;

	s->more = false;
	if (s->in_updates) {
		if (session_updates_step(s, out))
			session_finish(s, out, false);
		return;
	}
	if (s->calls == 0 && s->def == NULL) {
		if (!session_start(s, &untagged)) {
			session_finish(s, out, untagged);
			return;
		}
	}
	s->want_line = false;
	r = s->def->fn(s, &s->cmd, out);
	s->calls++;
	s->input_line = NULL;
	s->input_len = 0;
	s->line_too_long = false;
	if (r == CMD_MORE) {
		if (!s->want_line)
			s->more = true;
		return;
	}
	s->want_line = false;
	if (r == CMD_ERROR)
		imap_reply_no(s, "SERVERBUG", "Internal error, see server log");
	if (session_updates_step(s, out))
		session_finish(s, out, false);
}

/*
 * The loop side
 */

/* session_free - release everything; the conn is gone or going */
static void
session_free(struct imap_session *s)
{
	if (s->watching)
		store_notify_remove(s->d->notify, s);
	if (s->ev_timer != NULL)
		event_free(s->ev_timer);
	session_cmd_end(s);
	imap_view_free(&s->view);
	store_user_close(&s->su);
	if (s->counted)
		imap_users_remove(s->d->users, s->user);
	imap_seqset_deinit(&s->saved);
	imap_input_wipe(&s->input);
	imap_input_deinit(&s->input);
	buf_deinit(&s->tagged);
	if (s->deferred.data != NULL)
		wipe(s->deferred.data, s->deferred.cap);
	buf_deinit(&s->deferred);
	buf_deinit(&s->line);
	free(s->set.background_clients);
	free(s->bye);
	free(s->user);
	free(s->login);
	free(s->peer);
	free(s);
}

/* session_watch - follow the view with store_notify */
static void
session_watch(struct imap_session *s)
{
	const char *error;

	if (s->watching) {
		store_notify_remove(s->d->notify, s);
		s->watching = false;
	}
	if (s->view == NULL || s->d->notify == NULL)
		return;
	if (store_notify_add(s->d->notify, s->su, s->view->name, s,
	    &error) < 0) {
		log_warnx("cannot watch %s: %s; IDLE will not be woken",
		    s->view->name, error);
		return;
	}
	s->watching = true;
}

/* session_on_timer - the held refusal of a wrong password, or the IDLE
 * keep-alive */
static void
session_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;
	struct timeval tv;

	if (s->conn == NULL)
		return;
	log_set_session(conn_id(s->conn));
	if (s->timer_keepalive) {
		if (s->idle_loop) {
			/* a running wake-up job reports real changes, which
			 * do as well as a keep-alive */
			if (!s->job_running)
				(void)conn_printf(s->conn,
				    "* OK Still here\r\n");
			tv.tv_sec = (time_t)(s->set.idle_keepalive_ms / 1000);
			tv.tv_usec = (suseconds_t)
			    (s->set.idle_keepalive_ms % 1000) * 1000;
			evtimer_add(s->ev_timer, &tv);
		}
	} else {
		if (buf_avail(&s->deferred) > 0)
			(void)conn_write(s->conn, buf_ptr(&s->deferred),
			    buf_avail(&s->deferred));
		wipe(s->deferred.data, s->deferred.cap);
		buf_reset(&s->deferred);
		conn_resume_input(s->conn);
	}
	log_set_session(NULL);
}

/* session_timer - (re)arm the session's timer */
static void
session_timer(struct imap_session *s, uint64_t ms, bool keepalive)
{
	struct timeval tv;

	if (s->ev_timer == NULL)
		s->ev_timer = evtimer_new(s->d->base, session_on_timer, s);
	else
		evtimer_del(s->ev_timer);
	s->timer_keepalive = keepalive;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(s->ev_timer, &tv);
}

/* session_idle_changed - IDLE began or ended: timeouts and keep-alive */
static void
session_idle_changed(struct imap_session *s, bool idling)
{
	if (idling == s->idle_loop)
		return;
	s->idle_loop = idling;
	if (idling) {
		conn_set_idle_timeout(s->conn, s->set.idle_max_ms);
		if (s->set.idle_keepalive_ms > 0)
			session_timer(s, s->set.idle_keepalive_ms, true);
	} else {
		conn_set_idle_timeout(s->conn, s->set.autologout_ms);
		if (s->ev_timer != NULL && s->timer_keepalive)
			evtimer_del(s->ev_timer);
	}
}

/* session_job_done - on the loop: what the command asked for next */
static void
session_job_done(struct conn *c, void *arg, bool cancelled)
{
	struct imap_session *s = arg;
	const char *error;

	s->job_running = false;
	if (c == NULL || cancelled) {
		if (s->orphan)
			session_free(s);
		return;
	}
	if (s->watch_changed) {
		s->watch_changed = false;
		session_watch(s);
	}
	if (s->close_after) {
		session_idle_changed(s, false);
		conn_close(c);
		return;
	}
	if (s->start_tls) {
		s->start_tls = false;
		if (conn_start_tls(c, &error) < 0) {
			log_warnx("STARTTLS: %s", error);
			(void)conn_printf(c, "* BYE TLS is not available\r\n");
			conn_close(c);
			return;
		}
		s->tls = true;
	}
	if (s->start_compress) {
		s->start_compress = false;
		if (conn_start_compress(c, &error) < 0) {
			/* the OK is queued, so the client is compressing
			 * now: nothing it sends can be read any more */
			log_warnx("COMPRESS: %s", error);
			(void)conn_printf(c, "* BYE Compression failed\r\n");
			conn_close(c);
			return;
		}
		s->compressed = true;
	}
	if (s->auth_delay_ms > 0) {
		conn_pause_input(c);
		session_timer(s, s->auth_delay_ms, false);
		s->auth_delay_ms = 0;
		return;
	}
	session_idle_changed(s, s->idling);
	if (conn_closing(c))
		return;
	if (s->more) {
		conn_pause_input(c);
		if (conn_output_pending(c) < IMAP_OUT_CHUNK)
			session_submit(s);
		else
			s->waiting_drain = true;
		return;
	}
	/* input was paused while the command went on in pieces */
	conn_resume_input(c);
	if (s->want_line && s->idle_loop && s->notify_pending)
		session_submit(s);
}

/* session_submit - run the command's next step in a worker */
static void
session_submit(struct imap_session *s)
{
	s->notify_pending = false;
	s->job_running = true;
	conn_submit(s->conn, session_job, session_job_done, s);
}

/* session_notified - store_notify woke the session's mailbox */
static void
session_notified(void *cookie, void *arg)
{
	struct imap_session *s = cookie;

	(void)arg;
	if (s->conn == NULL)
		return;
	s->notify_pending = true;
	if (s->idle_loop && !s->job_running && s->want_line &&
	    !conn_closing(s->conn)) {
		log_set_session(conn_id(s->conn));
		session_submit(s);
		log_set_session(NULL);
	}
}

/* imap_session_notify_read - the daemon's store_notify fd is readable */
void
imap_session_notify_read(struct store_notify *n)
{
	(void)store_notify_read(n, session_notified, NULL);
}

/* session_tag - the tag of a line, for refusals before parsing */
static void
session_tag(struct imap_session *s, const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < sizeof(s->tag) - 1; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == ' ')
			break;
		if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\+", ch) !=
		    NULL)
			goto bad;
	}
	if (i == 0 || i == len || i == sizeof(s->tag) - 1)
		goto bad;
	memcpy(s->tag, line, i);
	s->tag[i] = '\0';
	return;
bad:
	strcpy(s->tag, "*");
}

/* session_refuse - answer a command dropped while it came in */
static void
session_refuse(struct imap_session *s)
{
	const char *status = strcmp(s->tag, "*") == 0 ? "BAD" :
	    s->discard_status;

	if (s->discard_code != NULL)
		(void)conn_printf(s->conn, "%s %s [%s] %s\r\n", s->tag, status,
		    s->discard_code, s->discard_text);
	else
		(void)conn_printf(s->conn, "%s %s %s\r\n", s->tag, status,
		    s->discard_text);
	s->cmd_active = false;
	s->discard = false;
	s->discard_literal = false;
	imap_input_wipe(&s->input);
}

/* session_discard - drop the rest of the command being assembled */
static void
session_discard(struct imap_session *s, const char *status, const char *code,
    const char *text)
{
	if (s->discard)
		return;
	s->discard = true;
	s->discard_status = status;
	s->discard_code = code;
	s->discard_text = text;
	imap_input_wipe(&s->input);
}

/* session_literal_limit - the ceiling for a literal of this command */
static uint64_t
session_literal_limit(const struct imap_session *s)
{
	return s->append_cmd ? s->set.appendlimit : s->set.max_literal;
}

/* session_line - a command line (or the part after a literal) */
static void
session_line(struct imap_session *s, const struct frame_item *it)
{
	struct conn *c = s->conn;
	enum imap_cmd_id id;
	bool uid;

	if (!s->cmd_active) {
		s->cmd_active = true;
		s->discard = false;
		s->discard_literal = false;
		session_tag(s, it->data, it->len);
		id = imap_parse_peek(it->data, it->len, &uid);
		s->append_cmd = id == IMAP_CMD_APPEND;
		s->login_cmd = id == IMAP_CMD_LOGIN;
		/* a few literals besides the line (SEARCH strings, a
		 * LOGIN); APPEND: its message and its lines */
		s->input.bytes.max = s->append_cmd ? s->set.max_command :
		    s->set.max_line + 4 * s->set.max_literal;
	}
	if (!s->discard && imap_input_line(&s->input, it->data, it->len) < 0)
		session_discard(s, "BAD", "TOOBIG", "Command too long");
	if (it->literal) {
		/* no invitation to send a password in the clear */
		if (s->login_cmd && !s->tls && !(s->set.plaintext_loopback &&
		    s->loopback))
			session_discard(s, "NO", "PRIVACYREQUIRED", "Plaintext "
			    "login is disabled, use STARTTLS first");
		if (it->literal_too_big ||
		    it->literal_size > session_literal_limit(s)) {
			session_discard(s, s->append_cmd ? "NO" : "BAD",
			    "TOOBIG", s->append_cmd ?
			    "Message over APPENDLIMIT" : "Literal too big");
			if (!it->literal_plus) {
				/* the client sends no data and ends the
				 * command here */
				conn_literal_refuse(c);
				session_refuse(s);
				return;
			}
			s->discard_literal = true;
			return;
		}
		if (s->discard) {
			if (!it->literal_plus) {
				conn_literal_refuse(c);
				session_refuse(s);
				return;
			}
			s->discard_literal = true;
			return;
		}
		s->discard_literal = false;
		if (!it->literal_plus) {
			(void)conn_printf(c, "+ OK\r\n");
			conn_literal_accept(c);
		}
		return;
	}
	/* the command is complete */
	s->cmd_active = false;
	if (s->discard) {
		session_refuse(s);
		return;
	}
	session_submit(s);
}

/* session_input_line - a line for a handler that waits for one */
static void
session_input_line(struct imap_session *s, const struct frame_item *it,
    bool too_long)
{
	if (it != NULL && it->literal) {
		if (it->literal_plus)
			s->discard_literal = true;
		else
			conn_literal_refuse(s->conn);
	}
	/* the command's own pieces stay as they are: its arguments may
	 * point into them */
	if (s->line.data != NULL)
		wipe(s->line.data, s->line.cap);
	buf_reset(&s->line);
	s->line_too_long = too_long;
	if (too_long || buf_append(&s->line, it->data, it->len) < 0) {
		s->input_line = NULL;
		s->input_len = 0;
		s->line_too_long = true;
	} else {
		s->input_line = buf_cstr(&s->line);
		s->input_len = it->len;
	}
	s->want_line = false;
	session_submit(s);
}

/* session_on_input - framed input */
static void
session_on_input(struct conn *c, enum frame_event ev,
    const struct frame_item *it)
{
	struct imap_session *s = conn_data(c);

	switch (ev) {
	case FRAME_LINE:
		if (s->want_line)
			session_input_line(s, it, false);
		else
			session_line(s, it);
		break;
	case FRAME_LINE_TOO_LONG:
		if (s->want_line) {
			session_input_line(s, NULL, true);
			break;
		}
		/* the framer kept the line's first bytes: the tag, unless it
		 * is not a valid one (then an untagged BAD); a line after a
		 * literal belongs to a command whose tag is known */
		if (!s->cmd_active)
			session_tag(s, it->data, it->len);
		s->cmd_active = true;
		session_discard(s, "BAD", "TOOBIG", "Command line too long");
		/* the rest of the line is discarded; no literal follows
		 * that we could see, so the command ends here */
		s->cmd_active = false;
		session_refuse(s);
		break;
	case FRAME_LITERAL_DATA:
		if (s->discard_literal || s->discard || !s->cmd_active)
			break;
		if (imap_input_literal(&s->input, it->data, it->len) < 0) {
			session_discard(s, "BAD", "TOOBIG", "Command too long");
			s->discard_literal = true;
		}
		break;
	case FRAME_LITERAL_END:
		if (it->discarded && s->cmd_active)
			session_discard(s, s->append_cmd ? "NO" : "BAD",
			    "TOOBIG", s->append_cmd ?
			    "Message over APPENDLIMIT" : "Literal too big");
		if (!s->discard_literal && !s->discard && s->cmd_active)
			imap_input_literal_end(&s->input);
		s->discard_literal = false;
		break;
	default:
		break;
	}
}

/* session_on_connect - a new session and its greeting */
static void
session_on_connect(struct conn *c)
{
	struct imapd *d = net_server_data(conn_server(c));
	struct imap_session *s;
	struct buf caps;
	const char *peer = conn_peer(c);

	s = xcalloc(1, sizeof(*s));
	s->d = d;
	s->conn = c;
	s->set = d->set;
	if (d->set.background_clients != NULL)
		s->set.background_clients =
		    xstrdup(d->set.background_clients);
	s->peer = xstrdup(peer);
	s->tls = conn_is_tls(c);
	s->loopback = strncmp(peer, "127.", 4) == 0 ||
	    strcmp(peer, "::1") == 0 || strcmp(peer, "local") == 0 ||
	    strncmp(peer, "::ffff:127.", 11) == 0;
	imap_seqset_init(&s->saved);
	imap_input_init(&s->input, s->set.max_command);
	buf_init(&s->tagged, 0);
	buf_init(&s->deferred, 0);
	buf_init(&s->line, s->set.max_line);
	conn_set_data(c, s);
	conn_set_idle_timeout(c, s->set.autologout_ms);
	buf_init(&caps, 0);
	imap_session_capabilities(s, &caps);
	(void)conn_printf(c, "* OK [CAPABILITY %s] Bastide IMAP ready\r\n",
	    buf_cstr(&caps));
	buf_deinit(&caps);
}

/* session_on_tls_ready - STARTTLS done */
static void
session_on_tls_ready(struct conn *c)
{
	struct imap_session *s = conn_data(c);

	s->tls = true;
}

/* session_on_drained - the client took our output: go on */
static void
session_on_drained(struct conn *c)
{
	struct imap_session *s = conn_data(c);

	if (s->waiting_drain && !s->job_running) {
		s->waiting_drain = false;
		session_submit(s);
	}
}

/* session_on_timeout - autologout, or an IDLE that lasted too long */
static void
session_on_timeout(struct conn *c)
{
	struct imap_session *s = conn_data(c);

	(void)conn_printf(c, "* BYE %s\r\n", s->idle_loop ?
	    "IDLE for too long, reconnect" : "Autologout; idle for too long");
	conn_close(c);
}

/* session_on_shutdown - the daemon stops */
static void
session_on_shutdown(struct conn *c)
{
	(void)conn_printf(c, "* BYE Server shutting down\r\n");
	conn_close(c);
}

/* session_on_close - the connection goes away */
static void
session_on_close(struct conn *c)
{
	struct imap_session *s = conn_data(c);

	if (s == NULL)
		return;
	conn_set_data(c, NULL);
	if (s->watching) {
		store_notify_remove(s->d->notify, s);
		s->watching = false;
	}
	if (s->ev_timer != NULL) {
		event_free(s->ev_timer);
		s->ev_timer = NULL;
	}
	s->conn = NULL;
	if (s->job_running) {
		/* the job's completion frees it (cancelled) */
		s->orphan = true;
		return;
	}
	session_free(s);
}

const struct conn_handler imap_session_handler = {
	.on_connect = session_on_connect,
	.on_input = session_on_input,
	.on_tls_ready = session_on_tls_ready,
	.on_drained = session_on_drained,
	.on_timeout = session_on_timeout,
	.on_shutdown = session_on_shutdown,
	.on_close = session_on_close,
};
