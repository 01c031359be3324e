/*
 * cmd_mailbox.c - SELECT EXAMINE CREATE DELETE RENAME SUBSCRIBE
 * UNSUBSCRIBE STATUS NAMESPACE CLOSE UNSELECT CHECK GETQUOTA GETQUOTAROOT
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "directory.h"
#include "log.h"
#include "store.h"
#include "store_name.h"
#include "xmalloc.h"

#include "imap_commands.h"
#include "imap_session.h"
#include "imap_view.h"
#include "imap_write.h"

/*
 * mailbox_name_ok - names we refuse although the store would take
 * them: "~user" is another user's mailbox on Unix IMAP servers, and a
 * client that means that must not silently get a folder of its own
 */
static bool
mailbox_name_ok(struct imap_session *s, const char *name)
{
	if (name[0] == '~') {
		imap_reply_no(s, "NONEXISTENT", "Other users' mailboxes are "
		    "not accessible");
		return false;
	}
	return true;
}

/* view_close - leave the selected state */
static void
view_close(struct imap_session *s)
{
	if (s->view == NULL)
		return;
	imap_view_free(&s->view);
	s->watch_changed = true;
	imap_seqset_clear(&s->saved);
	s->saved_valid = false;
	imap_session_set_state(s, IMAP_STATE_AUTH);
}

/* what SELECT still has to send across CMD_MORE calls */
struct select_state {
	struct imap_select sel;
	uint32_t	 resume;	/* next UID for the QRESYNC FETCHes */
};

/* select_known - whether uid is in the client's known-uids */
static bool
select_known(const struct imap_select *sel, uint32_t uid)
{
	return sel->known_uids == NULL ||
	    imap_seqset_contains(sel->known_uids, uid);
}

/* select_vanished - VANISHED (EARLIER) for QRESYNC (RFC 7162 3.2.5) */
static int
select_vanished(struct imap_session *s, const struct imap_select *sel,
    struct buf *out, const char **error_r)
{
	struct store_snapshot *snap;
	struct imap_seqset gone;
	uint64_t modseq;
	uint32_t uid;
	int r;

	if (store_snapshot_begin(s->view->mb, &snap, error_r) < 0)
		return -1;
	imap_seqset_init(&gone);
	while ((r = store_snapshot_expunged(snap, sel->modseq, &uid, &modseq,
	    error_r)) == 1)
		if (select_known(sel, uid))
			imap_seqset_add(&gone, uid);
	store_snapshot_end(&snap);
	if (r == 0 && !imap_seqset_is_empty(&gone)) {
		(void)buf_append_str(out, "* VANISHED (EARLIER) ");
		(void)imap_seqset_format(&gone, out);
		(void)buf_append_str(out, "\r\n");
	}
	imap_seqset_deinit(&gone);
	return r;
}

/* select_changed - FETCH of what changed since the client's modseq;
 * 1 when cut short at IMAP_OUT_CHUNK */
static int
select_changed(struct imap_session *s, struct select_state *st,
    struct buf *out, const char **error_r)
{
	struct store_snapshot *snap;
	struct store_msg m;
	uint32_t seq;
	int r;

	if (store_snapshot_begin(s->view->mb, &snap, error_r) < 0)
		return -1;
	while ((r = store_snapshot_next(snap, st->resume, &m, error_r)) ==
	    1) {
		if (m.modseq <= st->sel.modseq || !select_known(&st->sel,
		    m.uid))
			continue;
		seq = imap_view_seq(s->view, m.uid);
		if (seq == 0)
			continue;	/* arrived after the SELECT */
		if (buf_avail(out) >= IMAP_OUT_CHUNK) {
			st->resume = m.uid;
			r = 1;
			break;
		}
		(void)buf_printf(out, "* %u FETCH (UID %u ", seq, m.uid);
		(void)imap_view_write_msg_flags(out, &m,
		    !imap_session_rev2(s) && imap_view_is_recent(s->view,
		    m.uid));
		(void)buf_printf(out, " MODSEQ (%llu))\r\n",
		    (unsigned long long)m.modseq);
		imap_view_known(s->view, m.uid, m.modseq);
	}
	store_snapshot_end(&snap);
	return r;
}

/* select_done - the tagged OK */
static void
select_done(struct imap_session *s)
{
	if (s->view->readonly)
		imap_reply_ok(s, "READ-ONLY", "EXAMINE completed");
	else
		imap_reply_ok(s, "READ-WRITE", "SELECT completed");
}

/* cmd_select - SELECT and EXAMINE, with CONDSTORE and QRESYNC */
enum imap_cmd_result
cmd_select(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct select_state *st = s->cmd_state;
	unsigned int wflags = imap_session_write_flags(s);
	const char *error;
	bool qresync;
	int r;

	if (st != NULL) {
		r = select_changed(s, st, out, &error);
		if (r == 1)
			return CMD_MORE;
		if (r < 0) {
			log_warnx("%s: SELECT %s: %s", s->user, s->view->name,
			    error);
			return CMD_ERROR;
		}
		select_done(s);
		return CMD_DONE;
	}
	st = xcalloc(1, sizeof(*st));
	s->cmd_state = st;
	s->cmd_state_free = free;
	if (imap_parse_select(cmd, &st->sel) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (st->sel.qresync && !imap_session_qresync(s)) {
		imap_reply_bad(s, NULL, "QRESYNC is not enabled");
		return CMD_DONE;
	}
	/* the old mailbox is closed whatever happens to the new one */
	if (s->view != NULL) {
		view_close(s);
		if (imap_session_qresync(s) || imap_session_rev2(s))
			(void)buf_append_str(out, "* OK [CLOSED] Previous "
			    "mailbox closed\r\n");
	}
	if (!mailbox_name_ok(s, st->sel.mailbox))
		return CMD_DONE;
	if (st->sel.condstore)
		imap_session_enable_condstore(s, NULL);
	if (imap_view_open(s->su, st->sel.mailbox, cmd->id == IMAP_CMD_EXAMINE,
	    &s->view, &error) < 0) {
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	imap_session_set_state(s, IMAP_STATE_SELECTED);
	s->watch_changed = true;
	imap_seqset_clear(&s->saved);
	s->saved_valid = false;
	(void)imap_view_write_select(s->view, imap_session_rev2(s) ? 0 :
	    IMAP_VIEW_RECENT, imap_session_condstore(s), out);
	(void)buf_printf(out, "* OK [MAILBOXID (%s)] Ok\r\n",
	    store_mailbox_id(s->view->mb));
	if (imap_session_rev2(s)) {
		(void)buf_append_str(out, "* LIST () \"/\" ");
		(void)imap_write_mailbox(out, s->view->name, wflags);
		(void)buf_append_str(out, "\r\n");
	}
	qresync = st->sel.qresync && st->sel.uidvalidity ==
	    s->view->uidvalidity;
	if (!qresync) {
		select_done(s);
		return CMD_DONE;
	}
	if (select_vanished(s, &st->sel, out, &error) < 0) {
		log_warnx("%s: SELECT %s: %s", s->user, s->view->name, error);
		return CMD_ERROR;
	}
	st->resume = 1;
	r = select_changed(s, st, out, &error);
	if (r == 1)
		return CMD_MORE;
	if (r < 0) {
		log_warnx("%s: SELECT %s: %s", s->user, s->view->name, error);
		return CMD_ERROR;
	}
	select_done(s);
	return CMD_DONE;
}

/* the special uses a new folder may get, and the store's bit for each;
 * \All, \Flagged and \Important name virtual mailboxes (searches over
 * every folder), which the store does not have */
static const struct {
	unsigned int	 use;		/* IMAP_USE_* */
	uint32_t	 attr;		/* STORE_ATTR_* */
} create_uses[] = {
	{ IMAP_USE_ARCHIVE, STORE_ATTR_ARCHIVE },
	{ IMAP_USE_DRAFTS, STORE_ATTR_DRAFTS },
	{ IMAP_USE_JUNK, STORE_ATTR_JUNK },
	{ IMAP_USE_SENT, STORE_ATTR_SENT },
	{ IMAP_USE_TRASH, STORE_ATTR_TRASH },
};

/* create_attrs - the store attributes of a USE list; *bad_r is the
 * first IMAP_USE_* bit the store cannot keep (0: none) */
static uint32_t
create_attrs(unsigned int use, unsigned int *bad_r)
{
	uint32_t attrs = 0;
	unsigned int left = use;
	size_t i;

	for (i = 0; i < sizeof(create_uses) / sizeof(create_uses[0]); i++)
		if (use & create_uses[i].use) {
			attrs |= create_uses[i].attr;
			left &= ~create_uses[i].use;
		}
	*bad_r = left & -left;
	return attrs;
}

/* cmd_create - CREATE name [(USE (...))] (RFC 6154 CREATE-SPECIAL-USE),
 * answered with the new folder's MAILBOXID (RFC 8474) */
enum imap_cmd_result
cmd_create(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct imap_create c;
	const char *error, *p;
	char *parent, id[STORE_MAILBOXID_SIZE], code[16 + STORE_MAILBOXID_SIZE];
	unsigned int bad;
	uint32_t attrs;

	(void)out;
	if (imap_parse_create(cmd, &c) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (!mailbox_name_ok(s, c.mailbox))
		return CMD_DONE;
	if (store_name_is_inbox(c.mailbox)) {
		imap_reply_no(s, "ALREADYEXISTS", "INBOX always exists");
		return CMD_DONE;
	}
	/* RFC 6154 3: a use we cannot give is refused before anything
	 * exists */
	attrs = create_attrs(c.use, &bad);
	if (bad != 0) {
		imap_reply_no(s, "USEATTR", "Special use %s is not supported",
		    imap_use_name(bad));
		return CMD_DONE;
	}
	/* RFC 3501 6.3.3: superior names are created as needed */
	for (p = strchr(c.mailbox, '/'); p != NULL; p = strchr(p + 1, '/')) {
		parent = xstrndup(c.mailbox, (size_t)(p - c.mailbox));
		if (!store_name_is_inbox(parent) &&
		    store_mailbox_create(s->su, parent, &error) < 0 &&
		    strcmp(error, "mailbox already exists") != 0) {
			free(parent);
			imap_reply_store_error(s, error);
			return CMD_DONE;
		}
		free(parent);
	}
	if (store_mailbox_create_use(s->su, c.mailbox, attrs, id,
	    &error) < 0) {
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	(void)snprintf(code, sizeof(code), "MAILBOXID (%s)", id);
	imap_reply_ok(s, code, "CREATE completed");
	return CMD_DONE;
}

/* cmd_delete - DELETE name */
enum imap_cmd_result
cmd_delete(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	const char *name, *error;

	if (imap_parse_mailbox_only(cmd, &name) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (!mailbox_name_ok(s, name))
		return CMD_DONE;
	if (store_name_is_inbox(name)) {
		imap_reply_no(s, "CANNOT", "INBOX cannot be deleted");
		return CMD_DONE;
	}
	if (s->view != NULL && strcmp(s->view->name, name) == 0) {
		/* deleting the selected mailbox deselects it */
		view_close(s);
		(void)buf_append_str(out, "* OK [CLOSED] Mailbox closed\r\n");
	}
	if (store_mailbox_delete(s->su, name, &error) < 0) {
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	imap_reply_ok(s, NULL, "DELETE completed");
	return CMD_DONE;
}

/* cmd_rename - RENAME from to */
enum imap_cmd_result
cmd_rename(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	const char *from, *to, *error;
	size_t n;

	if (imap_parse_rename(cmd, &from, &to) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (!mailbox_name_ok(s, from) || !mailbox_name_ok(s, to))
		return CMD_DONE;
	if (store_name_is_inbox(to)) {
		imap_reply_no(s, "ALREADYEXISTS", "INBOX always exists");
		return CMD_DONE;
	}
	if (store_mailbox_rename(s->su, from, to, &error) < 0) {
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	/* the selected mailbox (or one of its parents) got a new name:
	 * deselect it as DELETE does; RENAME INBOX only moves messages
	 * away, which the next updates report as expunges */
	n = strlen(from);
	if (s->view != NULL && !store_name_is_inbox(from) &&
	    strncmp(s->view->name, from, n) == 0 &&
	    (s->view->name[n] == '\0' || s->view->name[n] == '/')) {
		view_close(s);
		(void)buf_append_str(out, "* OK [CLOSED] Mailbox closed\r\n");
	}
	imap_reply_ok(s, NULL, "RENAME completed");
	return CMD_DONE;
}

/* cmd_subscribe - SUBSCRIBE and UNSUBSCRIBE */
enum imap_cmd_result
cmd_subscribe(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	bool on = cmd->id == IMAP_CMD_SUBSCRIBE;
	const char *name, *error;

	(void)out;
	if (imap_parse_mailbox_only(cmd, &name) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (!mailbox_name_ok(s, name))
		return CMD_DONE;
	if (store_mailbox_subscribe(s->su, name, on, &error) < 0) {
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	imap_reply_ok(s, NULL, "%s completed", on ? "SUBSCRIBE" :
	    "UNSUBSCRIBE");
	return CMD_DONE;
}

/* count_deleted - messages with \Deleted (STATUS DELETED) */
static int
count_deleted(struct imap_session *s, const char *name, uint32_t *n_r,
    const char **error_r)
{
	struct store_mailbox *mb;
	struct store_snapshot *snap;
	struct store_msg m;
	int r;

	*n_r = 0;
	if (store_mailbox_open(s->su, name, &mb, error_r) < 0)
		return -1;
	if (store_snapshot_begin(mb, &snap, error_r) < 0) {
		store_mailbox_close(&mb);
		return -1;
	}
	while ((r = store_snapshot_next(snap, 1, &m, error_r)) == 1)
		if (m.flags & STORE_FLAG_DELETED)
			(*n_r)++;
	store_snapshot_end(&snap);
	store_mailbox_close(&mb);
	return r;
}

/* imap_status_write - "* STATUS name (...)" (STATUS, LIST-STATUS) */
int
imap_status_write(struct imap_session *s, const char *name,
    unsigned int items, struct buf *out, const char **error_r)
{
	struct store_status st;
	uint32_t deleted = 0;
	unsigned int bit;
	bool first = true;

	if (store_mailbox_status(s->su, name, &st, error_r) < 0)
		return -1;
	if ((items & IMAP_STATUS_DELETED) &&
	    count_deleted(s, name, &deleted, error_r) < 0)
		return -1;
	(void)buf_append_str(out, "* STATUS ");
	(void)imap_write_mailbox(out, name, imap_session_write_flags(s));
	(void)buf_append_str(out, " (");
	for (bit = IMAP_STATUS_MESSAGES; bit <= IMAP_STATUS_MAILBOXID;
	    bit <<= 1) {
		unsigned long long v;

		if ((items & bit) == 0)
			continue;
		if (bit == IMAP_STATUS_MAILBOXID) {
			/* RFC 8474 4.3: an objectid, not a number */
			(void)buf_printf(out, "%sMAILBOXID (%s)",
			    first ? "" : " ", st.mailboxid);
			first = false;
			continue;
		}
		switch (bit) {
		case IMAP_STATUS_MESSAGES:
			v = st.messages;
			break;
		case IMAP_STATUS_RECENT:
			v = st.recent;
			break;
		case IMAP_STATUS_UIDNEXT:
			v = st.uidnext;
			break;
		case IMAP_STATUS_UIDVALIDITY:
			v = st.uidvalidity;
			break;
		case IMAP_STATUS_UNSEEN:
			v = st.unseen;
			break;
		case IMAP_STATUS_DELETED:
			v = deleted;
			break;
		case IMAP_STATUS_SIZE:
			v = st.size;
			break;
		case IMAP_STATUS_HIGHESTMODSEQ:
			v = st.highestmodseq;
			break;
		case IMAP_STATUS_APPENDLIMIT:
			v = s->set.appendlimit;
			break;
		default:
			continue;
		}
		(void)buf_printf(out, "%s%s %llu", first ? "" : " ",
		    imap_status_item_name(bit), v);
		first = false;
	}
	(void)buf_append_str(out, ")\r\n");
	return 0;
}

/* cmd_status - STATUS name (items) */
enum imap_cmd_result
cmd_status(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct imap_status st;
	const char *error;

	if (imap_parse_status(cmd, &st) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (!mailbox_name_ok(s, st.mailbox))
		return CMD_DONE;
	if (st.items & IMAP_STATUS_HIGHESTMODSEQ)
		imap_session_enable_condstore(s, out);
	if (imap_status_write(s, st.mailbox, st.items, out, &error) < 0) {
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	imap_reply_ok(s, NULL, "STATUS completed");
	return CMD_DONE;
}

/* cmd_namespace - one personal namespace, "" with "/" */
enum imap_cmd_result
cmd_namespace(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	if (cmd->argc != 0) {
		imap_reply_bad(s, NULL, "NAMESPACE takes no arguments");
		return CMD_DONE;
	}
	(void)buf_append_str(out, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_reply_ok(s, NULL, "NAMESPACE completed");
	return CMD_DONE;
}

/* cmd_close - expunge silently (read-write), then deselect */
enum imap_cmd_result
cmd_close(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	const char *error;

	(void)out;
	if (cmd->argc != 0) {
		imap_reply_bad(s, NULL, "CLOSE takes no arguments");
		return CMD_DONE;
	}
	if (!s->view->readonly &&
	    store_expunge(s->view->mb, NULL, 0, &error) < 0)
		log_warnx("%s: CLOSE %s: expunge: %s", s->user,
		    s->view->name, error);
	view_close(s);
	imap_reply_ok(s, NULL, "CLOSE completed");
	return CMD_DONE;
}

/* cmd_unselect - deselect without expunging (RFC 3691) */
enum imap_cmd_result
cmd_unselect(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	(void)out;
	if (cmd->argc != 0) {
		imap_reply_bad(s, NULL, "UNSELECT takes no arguments");
		return CMD_DONE;
	}
	view_close(s);
	imap_reply_ok(s, NULL, "UNSELECT completed");
	return CMD_DONE;
}

/* cmd_check - a NOOP with a sync (the dispatcher's updates) */
enum imap_cmd_result
cmd_check(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	(void)out;
	if (cmd->argc != 0) {
		imap_reply_bad(s, NULL, "CHECK takes no arguments");
		return CMD_DONE;
	}
	imap_reply_ok(s, NULL, "CHECK completed");
	return CMD_DONE;
}

/* quota_refresh - the user's limit from the directory (cached there) */
static void
quota_refresh(struct imap_session *s)
{
	struct directory_user *u = NULL;
	char *error = NULL;
	int r;

	r = directory_user_lookup(s->d->dir, s->login, &u, &error);
	if (r == 1)
		s->quota_bytes = u->quota;
	else if (r < 0)
		log_warnx("%s: quota lookup: %s; using the limit seen at "
		    "login", s->user, error);
	directory_user_free(&u);
	free(error);
}

/* quota_write - "* QUOTA "" (STORAGE used limit)" (RFC 9208) */
static int
quota_write(struct imap_session *s, struct buf *out)
{
	uint64_t bytes, messages;
	const char *error;

	if (store_user_usage(s->su, &bytes, &messages, &error) < 0) {
		log_warnx("%s: quota usage: %s", s->user, error);
		return -1;
	}
	/* STORAGE counts units of 1024 octets */
	(void)buf_printf(out, "* QUOTA \"\" (STORAGE %llu %llu)\r\n",
	    (unsigned long long)((bytes + 1023) / 1024),
	    (unsigned long long)(s->quota_bytes / 1024));
	return 0;
}

/* cmd_getquota - GETQUOTA root; SETQUOTA (not offered) */
enum imap_cmd_result
cmd_getquota(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	const char *root;

	if (cmd->id == IMAP_CMD_SETQUOTA) {
		imap_reply_no(s, "NOPERM", "Quotas are set in the directory");
		return CMD_DONE;
	}
	if (cmd->argc != 1 || imap_arg_astring(cmd, &cmd->args[0],
	    &root) < 0) {
		if (cmd->error == NULL)
			imap_reply_bad(s, NULL, "GETQUOTA takes one quota "
			    "root");
		else
			imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	quota_refresh(s);
	if (root[0] != '\0' || s->quota_bytes == 0) {
		imap_reply_no(s, "NONEXISTENT", "No such quota root");
		return CMD_DONE;
	}
	if (quota_write(s, out) < 0)
		return CMD_ERROR;
	imap_reply_ok(s, NULL, "GETQUOTA completed");
	return CMD_DONE;
}

/* cmd_getquotaroot - GETQUOTAROOT mailbox: every mailbox is under "" */
enum imap_cmd_result
cmd_getquotaroot(struct imap_session *s, struct imap_cmd *cmd,
    struct buf *out)
{
	struct store_status st;
	const char *name, *error;

	if (imap_parse_mailbox_only(cmd, &name) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (!mailbox_name_ok(s, name))
		return CMD_DONE;
	if (store_mailbox_status(s->su, name, &st, &error) < 0) {
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	quota_refresh(s);
	(void)buf_append_str(out, "* QUOTAROOT ");
	(void)imap_write_mailbox(out, name, imap_session_write_flags(s));
	if (s->quota_bytes != 0) {
		(void)buf_append_str(out, " \"\"\r\n");
		if (quota_write(s, out) < 0)
			return CMD_ERROR;
	} else
		(void)buf_append_str(out, "\r\n");
	imap_reply_ok(s, NULL, "GETQUOTAROOT completed");
	return CMD_DONE;
}
