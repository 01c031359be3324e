/* cmd_expunge.c - EXPUNGE and UID EXPUNGE (RFC 4315) */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#include "imap_commands.h"
#include "imap_msgcmd.h"
#include "imap_parse.h"
#include "imap_session.h"
#include "imap_view.h"

/* deleted_only - keep the UIDs of uids[0..*n) that have \Deleted */
static int
deleted_only(struct imap_session *s, uint32_t *uids, size_t *n,
    const char **error_r)
{
	struct store_snapshot *snap;
	struct store_msg m;
	size_t i, k = 0;
	int r;

	if (store_snapshot_begin(s->view->mb, &snap, error_r) < 0)
		return -1;
	for (i = 0; i < *n; i++) {
		if ((r = store_snapshot_get(snap, uids[i], &m, error_r)) < 0) {
			store_snapshot_end(&snap);
			return -1;
		}
		if (r == 1 && (m.flags & STORE_FLAG_DELETED) != 0)
			uids[k++] = uids[i];
	}
	store_snapshot_end(&snap);
	*n = k;
	return 0;
}

/*
 * cmd_expunge - remove the \Deleted messages (of a UID set); the
 * dispatcher then reports them (EXPUNGE, or VANISHED with QRESYNC)
 */
enum imap_cmd_result
cmd_expunge(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct imap_seqset *set = NULL, uids;
	const char *error;
	uint32_t *arr;
	size_t n;
	bool saved = false;
	int r;

	(void)out;
	if (!cmd->uid) {
		if (cmd->argc != 0) {
			imap_reply_bad(s, NULL, "EXPUNGE takes no arguments");
			return CMD_DONE;
		}
		if (store_expunge(s->view->mb, NULL, 0, &error) < 0) {
			imap_reply_store_error(s, error);
			return CMD_DONE;
		}
		imap_reply_ok(s, NULL, "EXPUNGE completed");
		return CMD_DONE;
	}
	if (imap_parse_uid_expunge(cmd, &set, &saved) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	imap_seqset_init(&uids);
	if (imap_msgcmd_uids(s, set, saved, true, &uids, &error) < 0) {
		imap_seqset_deinit(&uids);
		imap_reply_bad(s, NULL, "%s", error);
		return CMD_DONE;
	}
	arr = imap_msgcmd_uid_array(&uids, &n);
	imap_seqset_deinit(&uids);
	r = deleted_only(s, arr, &n, &error);
	if (r == 0 && n > 0)
		r = store_expunge(s->view->mb, arr, n, &error);
	free(arr);
	if (r < 0) {
		imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	imap_reply_ok(s, NULL, "UID EXPUNGE completed");
	return CMD_DONE;
}
