/*
 * cmd_search.c - SEARCH and UID SEARCH, with ESEARCH result options
 * (RFC 4731), the saved result (RFC 5182 SEARCHRES) and MODSEQ (RFC 7162)
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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

/* the results, kept across CMD_MORE while a long list goes out */
struct search_state {
	bool		 uid;
	struct imap_numlist nums;	/* sequence numbers or UIDs */
	struct imap_seqset set;		/* the same, for ESEARCH ALL */
	struct imap_seqset uids;	/* for SAVE */
	uint32_t	 min_uid, max_uid;
	uint64_t	 max_modseq;
	char		 tail[64];	/* " (MODSEQ n)\r\n" or "\r\n" */
};

/* search_state_free - cmd_state_free */
static void
search_state_free(void *p)
{
	struct search_state *st = p;

	imap_numlist_free(&st->nums);
	imap_seqset_deinit(&st->set);
	imap_seqset_deinit(&st->uids);
	free(st);
}

/* search_match - collect one match */
static int
search_match(void *arg, struct store_snapshot *snap, uint32_t seq,
    const struct store_msg *m, const char **error_r)
{
	struct search_state *st = arg;
	uint32_t n = st->uid ? m->uid : seq;

	(void)snap;
	(void)error_r;
	imap_numlist_push(&st->nums, n);
	imap_seqset_add(&st->set, n);
	imap_seqset_add(&st->uids, m->uid);
	if (st->min_uid == 0 || m->uid < st->min_uid)
		st->min_uid = m->uid;
	if (m->uid > st->max_uid)
		st->max_uid = m->uid;
	if (m->modseq > st->max_modseq)
		st->max_modseq = m->modseq;
	return 0;
}

/* save_result - RFC 5182: the saved result; only MIN and/or MAX when
 * SAVE comes with them (and not with ALL or COUNT) */
static void
save_result(struct imap_session *s, const struct imap_search *srch,
    const struct search_state *st)
{
	unsigned int ret = srch->ret;

	imap_seqset_clear(&s->saved);
	s->saved_valid = true;
	if ((ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX)) != 0 &&
	    (ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT)) == 0) {
		if (st->min_uid == 0)
			return;
		if (ret & IMAP_SEARCH_RET_MIN)
			imap_seqset_add(&s->saved, st->min_uid);
		if (ret & IMAP_SEARCH_RET_MAX)
			imap_seqset_add(&s->saved, st->max_uid);
		return;
	}
	imap_seqset_copy(&s->saved, &st->uids);
}

/* write_esearch - "* ESEARCH (TAG "t") [UID] MIN MAX COUNT ALL MODSEQ" */
static void
write_esearch(struct imap_session *s, const struct imap_cmd *cmd,
    unsigned int ret, const struct search_state *st, bool modseq,
    struct buf *out)
{
	bool any = st->nums.n > 0;

	(void)buf_append_str(out, "* ESEARCH (TAG ");
	(void)imap_write_string_str(out, cmd->tag,
	    imap_session_write_flags(s));
	(void)buf_append_byte(out, ')');
	if (st->uid)
		(void)buf_append_str(out, " UID");
	if (any && (ret & IMAP_SEARCH_RET_MIN))
		(void)buf_printf(out, " MIN %u", imap_seqset_min(&st->set));
	if (any && (ret & IMAP_SEARCH_RET_MAX))
		(void)buf_printf(out, " MAX %u", imap_seqset_max(&st->set));
	if (ret & IMAP_SEARCH_RET_COUNT)
		(void)buf_printf(out, " COUNT %zu", st->nums.n);
	if (any && (ret & IMAP_SEARCH_RET_ALL)) {
		(void)buf_append_str(out, " ALL ");
		(void)imap_seqset_format(&st->set, out);
	}
	if (any && modseq)
		(void)buf_printf(out, " MODSEQ %llu",
		    (unsigned long long)st->max_modseq);
	(void)buf_append_str(out, "\r\n");
}

/* cmd_search - SEARCH and UID SEARCH */
enum imap_cmd_result
cmd_search(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct search_state *st = s->cmd_state;
	struct imap_search srch;
	const char *error;
	unsigned int ret;

	if (st != NULL) {
		/* the rest of a long "* SEARCH" line */
		if (imap_numlist_write(&st->nums, out) == 1)
			return CMD_MORE;
		(void)buf_append_str(out, st->tail);
		return CMD_DONE;
	}
	if (imap_parse_search(cmd, &srch) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (srch.uses_modseq)
		imap_session_enable_condstore(s, out);
	st = xcalloc(1, sizeof(*st));
	st->uid = cmd->uid;
	imap_seqset_init(&st->set);
	imap_seqset_init(&st->uids);
	s->cmd_state = st;
	s->cmd_state_free = search_state_free;
	if (imap_msgcmd_search(s, &srch, search_match, st, &error) < 0) {
		log_warnx("%s: SEARCH in %s: %s", s->user, s->view->name,
		    error);
		if (srch.ret & IMAP_SEARCH_RET_SAVE) {
			/* RFC 5182 2.1: a failed SAVE leaves "$" empty */
			imap_seqset_clear(&s->saved);
			s->saved_valid = true;
		}
		return CMD_ERROR;
	}
	ret = srch.ret;
	if (!srch.ret_given && imap_session_rev2(s)) {
		/* IMAP4rev2 answers every SEARCH with ESEARCH */
		srch.ret_given = true;
		ret = IMAP_SEARCH_RET_ALL;
	}
	if (ret & IMAP_SEARCH_RET_SAVE)
		save_result(s, &srch, st);
	if (srch.ret_given) {
		/* RETURN (SAVE) alone answers nothing but the tagged OK */
		if ((ret & ~IMAP_SEARCH_RET_SAVE) != 0)
			write_esearch(s, cmd, ret, st, srch.uses_modseq, out);
		imap_reply_ok(s, NULL, "%sSEARCH completed",
		    cmd->uid ? "UID " : "");
		return CMD_DONE;
	}
	if (srch.uses_modseq && st->nums.n > 0)
		snprintf(st->tail, sizeof(st->tail), " (MODSEQ %llu)\r\n",
		    (unsigned long long)st->max_modseq);
	else
		snprintf(st->tail, sizeof(st->tail), "\r\n");
	imap_reply_ok(s, NULL, "%sSEARCH completed", cmd->uid ? "UID " : "");
	(void)buf_append_str(out, "* SEARCH");
	if (imap_numlist_write(&st->nums, out) == 1)
		return CMD_MORE;
	(void)buf_append_str(out, st->tail);
	return CMD_DONE;
}
