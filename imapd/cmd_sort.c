/* cmd_sort.c - SORT and UID SORT (RFC 5256, RFC 5957 DISPLAY) */
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
#include "imap_thread.h"
#include "imap_view.h"

/* the sorted numbers, kept across CMD_MORE while they go out */
struct sort_state {
	struct imap_sort_set set;
	struct imap_numlist nums;
	uint64_t	 max_modseq;
	char		 tail[64];
};

/* sort_state_free - cmd_state_free */
static void
sort_state_free(void *p)
{
	struct sort_state *st = p;

	imap_sort_set_deinit(&st->set);
	imap_numlist_free(&st->nums);
	free(st);
}

/* sort_match - one matching message into the set, with its cache */
static int
sort_match(void *arg, struct store_snapshot *snap, uint32_t seq,
    const struct store_msg *m, const char **error_r)
{
	struct sort_state *st = arg;
	struct store_cache cache;
	int r;

	if ((r = store_snapshot_cache(snap, m->uid, &cache, error_r)) < 0)
		return -1;
	imap_sort_set_add(&st->set, seq, m, r == 1 ? &cache : NULL);
	if (m->modseq > st->max_modseq)
		st->max_modseq = m->modseq;
	return 0;
}

/* cmd_sort - SORT and UID SORT */
enum imap_cmd_result
cmd_sort(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct sort_state *st = s->cmd_state;
	struct imap_sort srt;
	const char *error;
	size_t i;

	if (st == NULL) {
		if (imap_parse_sort(cmd, &srt) < 0) {
			imap_reply_parse_error(s, cmd);
			return CMD_DONE;
		}
		if (srt.search.uses_modseq)
			imap_session_enable_condstore(s, out);
		st = xcalloc(1, sizeof(*st));
		imap_sort_set_init(&st->set);
		st->set.need = imap_sort_need(srt.crit, srt.count);
		s->cmd_state = st;
		s->cmd_state_free = sort_state_free;
		if (imap_msgcmd_search(s, &srt.search, sort_match, st,
		    &error) < 0) {
			log_warnx("%s: SORT in %s: %s", s->user,
			    s->view->name, error);
			return CMD_ERROR;
		}
		imap_sort_run(&st->set, srt.crit, srt.count);
		for (i = 0; i < st->set.count; i++)
			imap_numlist_push(&st->nums, cmd->uid ?
			    st->set.msgs[i].uid : st->set.msgs[i].seq);
		if (srt.search.uses_modseq && st->nums.n > 0)
			snprintf(st->tail, sizeof(st->tail),
			    " (MODSEQ %llu)\r\n",
			    (unsigned long long)st->max_modseq);
		else
			snprintf(st->tail, sizeof(st->tail), "\r\n");
		imap_reply_ok(s, NULL, "%sSORT completed",
		    cmd->uid ? "UID " : "");
		(void)buf_append_str(out, "* SORT");
	}
	if (imap_numlist_write(&st->nums, out) == 1)
		return CMD_MORE;
	(void)buf_append_str(out, st->tail);
	return CMD_DONE;
}
