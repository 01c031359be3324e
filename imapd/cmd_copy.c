/*
 * cmd_copy.c - COPY, MOVE (RFC 6851) and their UID forms, with UIDPLUS's
 * COPYUID (RFC 4315)
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

/* over_quota - whether copying uids would pass the user's quota */
static int
over_quota(struct imap_session *s, const uint32_t *uids, size_t n,
    bool *over_r, const char **error_r)
{
	struct store_snapshot *snap;
	struct store_msg m;
	uint64_t bytes, msgs, add = 0;
	size_t i;
	int r;

	*over_r = false;
	if (s->quota_bytes == 0)
		return 0;
	if (store_user_usage(s->su, &bytes, &msgs, error_r) < 0 ||
	    store_snapshot_begin(s->view->mb, &snap, error_r) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if ((r = store_snapshot_get(snap, uids[i], &m, error_r)) < 0) {
			store_snapshot_end(&snap);
			return -1;
		}
		if (r == 1)
			add += m.size;
	}
	store_snapshot_end(&snap);
	*over_r = bytes + add > s->quota_bytes;
	return 0;
}

/* copyuid - "COPYUID <uidvalidity> <source uids> <destination uids>":
 * both lists ascending, so their members correspond in order */
static void
copyuid(uint32_t uidvalidity, const struct store_uid_map *map, size_t n,
    struct buf *code)
{
	struct imap_seqset src, dst;
	size_t i;

	imap_seqset_init(&src);
	imap_seqset_init(&dst);
	for (i = 0; i < n; i++) {
		imap_seqset_add(&src, map[i].src_uid);
		imap_seqset_add(&dst, map[i].dst_uid);
	}
	(void)buf_printf(code, "COPYUID %u ", uidvalidity);
	(void)imap_seqset_format(&src, code);
	(void)buf_append_byte(code, ' ');
	(void)imap_seqset_format(&dst, code);
	imap_seqset_deinit(&src);
	imap_seqset_deinit(&dst);
}

/* copy_or_move - the work of both commands */
static enum imap_cmd_result
copy_or_move(struct imap_session *s, struct imap_cmd *cmd, struct buf *out,
    bool move)
{
	const char *name = move ? "MOVE" : "COPY", *mailbox, *error;
	struct imap_seqset *set = NULL, uids;
	struct store_uid_map *map = NULL;
	struct buf code;
	uint32_t *arr, uidvalidity = 0;
	size_t n, nmap = 0;
	bool saved = false, over;
	int r;

	if (imap_parse_copy(cmd, &set, &saved, &mailbox) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	imap_seqset_init(&uids);
	if (imap_msgcmd_uids(s, set, saved, cmd->uid, &uids, &error) < 0) {
		imap_seqset_deinit(&uids);
		imap_reply_bad(s, NULL, "%s", error);
		return CMD_DONE;
	}
	arr = imap_msgcmd_uid_array(&uids, &n);
	imap_seqset_deinit(&uids);
	if (!move) {
		if (over_quota(s, arr, n, &over, &error) < 0) {
			free(arr);
			imap_reply_store_error(s, error);
			return CMD_DONE;
		}
		if (over) {
			free(arr);
			imap_reply_no(s, "OVERQUOTA", "Quota exceeded");
			return CMD_DONE;
		}
	}
	r = store_copy(s->view->mb, arr, n, mailbox, move, &map, &nmap,
	    &uidvalidity, &error);
	free(arr);
	if (r < 0) {
		if (strcmp(error, "no such mailbox") == 0)
			imap_reply_no(s, "TRYCREATE", "Mailbox does not exist");
		else
			imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	buf_init(&code, 0);
	if (nmap > 0)
		copyuid(uidvalidity, map, nmap, &code);
	free(map);
	if (move) {
		/* RFC 6851 3.3: COPYUID in an untagged OK, then the
		 * expunges (the dispatcher's updates), then the tagged OK */
		if (nmap > 0)
			(void)buf_printf(out, "* OK [%s] Moved\r\n",
			    buf_cstr(&code));
		imap_reply_ok(s, NULL, "%s%s completed",
		    cmd->uid ? "UID " : "", name);
	} else
		imap_reply_ok(s, nmap > 0 ? buf_cstr(&code) : NULL,
		    "%s%s completed", cmd->uid ? "UID " : "", name);
	buf_deinit(&code);
	return CMD_DONE;
}

/* cmd_copy - COPY and UID COPY */
enum imap_cmd_result
cmd_copy(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	return copy_or_move(s, cmd, out, false);
}

/* cmd_move - MOVE and UID MOVE */
enum imap_cmd_result
cmd_move(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	return copy_or_move(s, cmd, out, true);
}
