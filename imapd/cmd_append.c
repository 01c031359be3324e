/*
 * cmd_append.c - APPEND, with MULTIAPPEND (RFC 3502), literal8 (RFC
 * 3516), UTF8 (RFC 6855), APPENDLIMIT (RFC 7889) and APPENDUID (RFC 4315)
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#include "imap_commands.h"
#include "imap_msgcmd.h"
#include "imap_parse.h"
#include "imap_session.h"
#include "imap_view.h"

/* undo - MULTIAPPEND is all or nothing (RFC 3502 6): remove what this
 * command already appended */
static void
undo(struct imap_session *s, const char *mailbox, const uint32_t *uids,
    size_t n)
{
	struct store_mailbox *mb;
	const char *error;

	if (n == 0)
		return;
	if (store_mailbox_open(s->su, mailbox, &mb, &error) < 0 ||
	    store_expunge(mb, uids, n, &error) < 0)
		log_warnx("%s: APPEND to %s: cannot take back %zu messages: "
		    "%s", s->user, mailbox, n, error);
	store_mailbox_close(&mb);
}

/* check_quota - NO [OVERQUOTA] when the messages do not fit */
static int
check_quota(struct imap_session *s, uint64_t add, const char **error_r)
{
	uint64_t bytes, msgs;

	if (s->quota_bytes == 0)
		return 0;
	if (store_user_usage(s->su, &bytes, &msgs, error_r) < 0)
		return -1;
	return bytes + add > s->quota_bytes ? 1 : 0;
}

/* cmd_append - APPEND mailbox [flags] [date] literal ... */
enum imap_cmd_result
cmd_append(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	struct imap_append req;
	struct store_status status;
	struct imap_seqset set;
	struct buf code;
	const char *data, *error;
	uint32_t *uids, uidvalidity = 0;
	uint64_t total = 0;
	size_t i, n = 0, len;
	char *kw;
	int r;

	(void)out;
	if (imap_parse_append(cmd, &req) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	for (i = 0; i < req.count; i++) {
		if (req.msgs[i].flags.keyword_count >
		    IMAP_MSGCMD_MAX_KEYWORDS) {
			imap_reply_no(s, "LIMIT", "Too many keywords");
			return CMD_DONE;
		}
		/* the framer refused bigger literals before they came;
		 * this only guards a limit lowered by a reload */
		if (req.msgs[i].data->len > s->set.appendlimit) {
			imap_reply_no(s, "TOOBIG", "Message over APPENDLIMIT");
			return CMD_DONE;
		}
		total += req.msgs[i].data->len;
	}
	/* the store writes the file before it looks at the folder: ask
	 * first, for a clean [TRYCREATE] */
	if (store_mailbox_status(s->su, req.mailbox, &status, &error) < 0) {
		if (strcmp(error, "no such mailbox") == 0)
			imap_reply_no(s, "TRYCREATE", "Mailbox does not exist");
		else
			imap_reply_store_error(s, error);
		return CMD_DONE;
	}
	if ((r = check_quota(s, total, &error)) != 0) {
		if (r < 0)
			imap_reply_store_error(s, error);
		else
			imap_reply_no(s, "OVERQUOTA", "Quota exceeded");
		return CMD_DONE;
	}
	uids = xreallocarray(NULL, req.count, sizeof(*uids));
	for (i = 0; i < req.count; i++) {
		const struct imap_append_msg *m = &req.msgs[i];

		if (imap_session_literal(s, m->data, &data, &len,
		    &error) < 0) {
			log_warnx("%s: APPEND: %s", s->user, error);
			undo(s, req.mailbox, uids, n);
			free(uids);
			return CMD_ERROR;
		}
		kw = imap_msgcmd_keywords(&m->flags);
		r = store_append(s->su, req.mailbox, data, len,
		    imap_flags_to_store(m->flags.system), kw,
		    m->has_date ? (time_t)m->date.t : 0, &uids[n],
		    &uidvalidity, &error);
		free(kw);
		if (r < 0) {
			undo(s, req.mailbox, uids, n);
			free(uids);
			if (strcmp(error, "no such mailbox") == 0)
				imap_reply_no(s, "TRYCREATE",
				    "Mailbox does not exist");
			else
				imap_reply_store_error(s, error);
			return CMD_DONE;
		}
		n++;
	}
	imap_seqset_init(&set);
	for (i = 0; i < n; i++)
		imap_seqset_add(&set, uids[i]);
	buf_init(&code, 0);
	(void)buf_printf(&code, "APPENDUID %u ", uidvalidity);
	(void)imap_seqset_format(&set, &code);
	imap_reply_ok(s, buf_cstr(&code), "APPEND completed");
	buf_deinit(&code);
	imap_seqset_deinit(&set);
	free(uids);
	return CMD_DONE;
}
