/* cmd_thread.c - THREAD and UID THREAD (RFC 5256) */
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
#include "imap_thread.h"
#include "imap_view.h"

/* the THREAD response, sent in pieces when it is long */
struct thread_state {
	struct imap_sort_set set;
	struct buf	 text;
	size_t		 pos;
};

/* thread_state_free - cmd_state_free */
static void
thread_state_free(void *p)
{
	struct thread_state *st = p;

	imap_sort_set_deinit(&st->set);
	buf_deinit(&st->text);
	free(st);
}

/* thread_match - one matching message into the set */
static int
thread_match(void *arg, struct store_snapshot *snap, uint32_t seq,
    const struct store_msg *m, const char **error_r)
{
	struct thread_state *st = arg;
	struct store_cache cache;
	int r;

	if ((r = store_snapshot_cache(snap, m->uid, &cache, error_r)) < 0)
		return -1;
	imap_sort_set_add(&st->set, seq, m, r == 1 ? &cache : NULL);
	return 0;
}

/* cmd_thread - THREAD and UID THREAD */
enum imap_cmd_result
cmd_thread(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct thread_state *st = s->cmd_state;
	struct imap_thread th;
	const char *error;
	size_t n;

	if (st == NULL) {
		if (imap_parse_thread(cmd, &th) < 0) {
			imap_reply_parse_error(s, cmd);
			return CMD_DONE;
		}
		if (th.search.uses_modseq)
			imap_session_enable_condstore(s, out);
		st = xcalloc(1, sizeof(*st));
		imap_sort_set_init(&st->set);
		/* ORDEREDSUBJECT needs neither; REFERENCES the reply test */
		st->set.need = th.alg == IMAP_THREAD_REFERENCES ?
		    IMAP_SORT_NEED_REPLY : 0;
		buf_init(&st->text, 0);
		s->cmd_state = st;
		s->cmd_state_free = thread_state_free;
		if (imap_msgcmd_search(s, &th.search, thread_match, st,
		    &error) < 0) {
			log_warnx("%s: THREAD in %s: %s", s->user,
			    s->view->name, error);
			return CMD_ERROR;
		}
		(void)buf_append_str(&st->text, "* THREAD");
		if (st->set.count > 0)
			(void)buf_append_byte(&st->text, ' ');
		imap_thread_write(&st->set, th.alg, cmd->uid, &st->text);
		(void)buf_append_str(&st->text, "\r\n");
		imap_sort_set_deinit(&st->set);
		imap_reply_ok(s, NULL, "%sTHREAD completed",
		    cmd->uid ? "UID " : "");
	}
	/* a thread list has no place to cut but anywhere: it is one line
	 * of bytes to the client */
	n = buf_avail(&st->text) - st->pos;
	if (n > IMAP_OUT_CHUNK)
		n = IMAP_OUT_CHUNK;
	(void)buf_append(out, buf_ptr(&st->text) + st->pos, n);
	st->pos += n;
	return st->pos < buf_avail(&st->text) ? CMD_MORE : CMD_DONE;
}
