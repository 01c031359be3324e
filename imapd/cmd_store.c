/*
 * cmd_store.c - STORE and UID STORE, with .SILENT and CONDSTORE's
 * UNCHANGEDSINCE (RFC 7162 3.1.3)
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#include "imap_commands.h"
#include "imap_msgcmd.h"
#include "imap_parse.h"
#include "imap_session.h"
#include "imap_view.h"
#include "imap_write.h"

/* the FETCH responses still to write, across CMD_MORE */
struct store_state {
	uint32_t	*uids;		/* the set, ascending */
	size_t		 n;
	size_t		 pos;
	struct imap_seqset failed;	/* UIDs UNCHANGEDSINCE left alone */
	bool		 silent;
};

/* store_state_free - cmd_state_free */
static void
store_state_free(void *p)
{
	struct store_state *st = p;

	free(st->uids);
	imap_seqset_deinit(&st->failed);
	free(st);
}

/* write_fetches - "* n FETCH (FLAGS ...)" for st->uids[pos..]; 1 when
 * cut at IMAP_OUT_CHUNK */
static int
write_fetches(struct imap_session *s, struct imap_cmd *cmd,
    struct store_state *st, struct buf *out, const char **error_r)
{
	struct imap_view *v = s->view;
	struct store_snapshot *snap;
	struct store_msg m;
	bool condstore = imap_session_condstore(s);
	uint32_t seq;
	int r;

	if (store_snapshot_begin(v->mb, &snap, error_r) < 0)
		return -1;
	for (; st->pos < st->n; st->pos++) {
		if (buf_avail(out) >= IMAP_OUT_CHUNK) {
			store_snapshot_end(&snap);
			return 1;
		}
		if (imap_seqset_contains(&st->failed, st->uids[st->pos]))
			continue;
		if ((r = store_snapshot_get(snap, st->uids[st->pos], &m,
		    error_r)) < 0) {
			store_snapshot_end(&snap);
			return -1;
		}
		if (r == 0 || (seq = imap_view_seq(v, m.uid)) == 0)
			continue;	/* expunged meanwhile */
		if (st->silent) {
			/* RFC 7162 3.1.3: .SILENT still tells a CONDSTORE
			 * client the new MODSEQ of what it changed */
			if (condstore && m.modseq > v->msgs[seq - 1].modseq) {
				(void)buf_printf(out, "* %u FETCH (", seq);
				if (cmd->uid)
					(void)buf_printf(out, "UID %u ",
					    m.uid);
				(void)buf_printf(out, "MODSEQ (%llu))\r\n",
				    (unsigned long long)m.modseq);
			}
			imap_view_known(v, m.uid, m.modseq);
			continue;
		}
		(void)buf_printf(out, "* %u FETCH (", seq);
		(void)imap_view_write_msg_flags(out, &m,
		    !imap_session_rev2(s) && imap_view_is_recent(v, m.uid));
		if (cmd->uid)
			(void)buf_printf(out, " UID %u", m.uid);
		if (condstore)
			(void)buf_printf(out, " MODSEQ (%llu)",
			    (unsigned long long)m.modseq);
		(void)buf_append_str(out, ")\r\n");
		imap_view_known(v, m.uid, m.modseq);
	}
	store_snapshot_end(&snap);
	return 0;
}

/* modified_code - "MODIFIED 7,9" in the command's numbering */
static void
modified_code(struct imap_session *s, struct imap_cmd *cmd,
    const struct imap_seqset *failed, struct buf *code)
{
	struct imap_seqset nums;
	struct imap_seqset_iter it;
	uint32_t u, seq;

	imap_seqset_init(&nums);
	imap_seqset_iter_init(&it, failed);
	while (imap_seqset_iter_next(&it, &u)) {
		seq = cmd->uid ? u : imap_view_seq(s->view, u);
		if (seq != 0)
			imap_seqset_add(&nums, seq);
	}
	(void)buf_append_str(code, "MODIFIED ");
	(void)imap_seqset_format(&nums, code);
	imap_seqset_deinit(&nums);
}

/* start - parse and change the flags; the replies follow */
static enum imap_cmd_result
start(struct imap_session *s, struct imap_cmd *cmd, struct buf *out,
    struct store_state **st_r)
{
	static const enum store_flag_mode modes[] = {
		[IMAP_STORE_REPLACE] = STORE_FLAGS_SET,
		[IMAP_STORE_ADD] = STORE_FLAGS_ADD,
		[IMAP_STORE_REMOVE] = STORE_FLAGS_REMOVE,
	};
	struct imap_store req;
	struct imap_seqset uids;
	struct store_state *st;
	const char *error;
	char *kw = NULL;
	uint32_t *failed = NULL;
	size_t nfailed = 0, i;
	int r;

	*st_r = NULL;
	if (imap_parse_store(cmd, &req) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (req.flags.keyword_count > IMAP_MSGCMD_MAX_KEYWORDS) {
		imap_reply_no(s, "LIMIT", "Too many keywords");
		return CMD_DONE;
	}
	if (req.unchangedsince_given)
		imap_session_enable_condstore(s, out);
	imap_seqset_init(&uids);
	if (imap_msgcmd_uids(s, req.set, req.saved, cmd->uid, &uids,
	    &error) < 0) {
		imap_seqset_deinit(&uids);
		imap_reply_bad(s, NULL, "%s", error);
		return CMD_DONE;
	}
	st = xcalloc(1, sizeof(*st));
	imap_seqset_init(&st->failed);
	st->silent = req.silent;
	st->uids = imap_msgcmd_uid_array(&uids, &st->n);
	imap_seqset_deinit(&uids);
	*st_r = st;
	if (st->n == 0)
		return CMD_DONE;
	if (req.unchangedsince_given && req.unchangedsince == 0) {
		/* every message has a MODSEQ above 0: none may change */
		for (i = 0; i < st->n; i++)
			imap_seqset_add(&st->failed, st->uids[i]);
		return CMD_DONE;
	}
	if (req.flags.keyword_count > 0 || req.mode == IMAP_STORE_REPLACE)
		kw = imap_msgcmd_keywords(&req.flags);
	r = store_set_flags(s->view->mb, st->uids, st->n, modes[req.mode],
	    imap_flags_to_store(req.flags.system), kw,
	    req.unchangedsince_given ? req.unchangedsince : 0, &failed,
	    &nfailed, &error);
	free(kw);
	if (r < 0) {
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	for (i = 0; i < nfailed; i++)
		imap_seqset_add(&st->failed, failed[i]);
	free(failed);
	return CMD_DONE;
}

/* cmd_store - STORE and UID STORE */
enum imap_cmd_result
cmd_store(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct store_state *st = s->cmd_state;
	struct buf code;
	const char *error;
	int r;

	if (st == NULL) {
		if (start(s, cmd, out, &st) != CMD_DONE || st == NULL)
			return CMD_DONE;
		s->cmd_state = st;
		s->cmd_state_free = store_state_free;
		if (s->tagged_set)
			return CMD_DONE;	/* refused */
	}
	if ((r = write_fetches(s, cmd, st, out, &error)) < 0) {
		log_warnx("%s: STORE in %s: %s", s->user, s->view->name,
		    error);
		return CMD_ERROR;
	}
	if (r == 1)
		return CMD_MORE;
	if (!imap_seqset_is_empty(&st->failed)) {
		buf_init(&code, 0);
		modified_code(s, cmd, &st->failed, &code);
		imap_reply_ok(s, buf_cstr(&code), "Conditional %sSTORE "
		    "failed", cmd->uid ? "UID " : "");
		buf_deinit(&code);
	} else
		imap_reply_ok(s, NULL, "%sSTORE completed",
		    cmd->uid ? "UID " : "");
	return CMD_DONE;
}
