/*
 * cmd_idle.c - IDLE (RFC 2177, RFC 9051 6.3.13)
 *
 * The first call reports what changed so far, answers "+ idling" and
 * waits for a line.  While it waits, the session's store_notify watch
 * (registered at SELECT, imap_session.c) submits the handler again with
 * no line whenever the mailbox changes, so new mail, flag changes and
 * expunges go out within milliseconds of the change; the loop adds a
 * keep-alive "* OK Still here" every [imapd] idle_keepalive and nothing
 * else unprompted.  "DONE" ends the command.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"

#include "imap_commands.h"
#include "imap_session.h"

/* idle_updates - report changes; CMD_MORE either way */
static enum imap_cmd_result
idle_updates(struct imap_session *s, struct buf *out)
{
	int r;

	r = imap_session_updates(s, out, true);
	if (r < 0) {
		s->idling = false;
		imap_session_disconnect(s, "Selected mailbox is no longer "
		    "available");
		imap_reply_no(s, "UNAVAILABLE", "IDLE ended");
		return CMD_DONE;
	}
	if (r == 0)
		imap_session_want_line(s);
	/* r == 1: called again (no line) once the output drained */
	return CMD_MORE;
}

/* cmd_idle - IDLE ... DONE */
enum imap_cmd_result
cmd_idle(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	if (s->calls == 0) {
		if (cmd->argc != 0) {
			imap_reply_bad(s, NULL, "IDLE takes no arguments");
			return CMD_DONE;
		}
		if (imap_session_updates(s, out, true) < 0) {
			imap_session_disconnect(s, "Selected mailbox is no "
			    "longer available");
			imap_reply_no(s, "UNAVAILABLE", "IDLE refused");
			return CMD_DONE;
		}
		(void)buf_append_str(out, "+ idling\r\n");
		s->idling = true;
		imap_session_want_line(s);
		return CMD_MORE;
	}
	if (s->input_line == NULL && !s->line_too_long)
		return idle_updates(s, out);	/* woken */
	s->idling = false;
	if (s->input_line != NULL && s->input_len == 4 &&
	    strncasecmp(s->input_line, "DONE", 4) == 0) {
		imap_reply_ok(s, NULL, "IDLE terminated");
		return CMD_DONE;
	}
	imap_reply_bad(s, NULL, "Expected DONE to end IDLE");
	return CMD_DONE;
}
