/*
 * imap_commands - every IMAP command handler, one function per verb
 *
 * The table that maps verbs to these functions, with the states each is
 * allowed in, lives in imap_session.c; the contract they follow (threads,
 * output, tagged reply, CMD_DONE/CMD_MORE/CMD_ERROR, untagged updates) is
 * the comment at the top of imap_session.h.  The files:
 *   cmd_auth.c     CAPABILITY NOOP LOGOUT STARTTLS LOGIN AUTHENTICATE
 *                  UNAUTHENTICATE ENABLE ID
 *   cmd_mailbox.c  SELECT EXAMINE CREATE DELETE RENAME SUBSCRIBE
 *                  UNSUBSCRIBE STATUS NAMESPACE CLOSE UNSELECT CHECK
 *                  GETQUOTA GETQUOTAROOT
 *   cmd_list.c     LIST LSUB
 *   cmd_idle.c     IDLE
 *   cmd_fetch.c    FETCH
 *   cmd_store.c    STORE
 *   cmd_search.c   SEARCH
 *   cmd_sort.c     SORT
 *   cmd_thread.c   THREAD (imap_thread.c does the threading)
 *   cmd_copy.c     COPY MOVE
 *   cmd_expunge.c  EXPUNGE (and UID EXPUNGE)
 *   cmd_append.c   APPEND
 * Each handler also serves the "UID" form of its command (cmd->uid).
 */
#ifndef BASTIDE_IMAP_COMMANDS_H
#define BASTIDE_IMAP_COMMANDS_H

#include "imap_session.h"

/* any state */
imap_cmd_fn cmd_capability;
imap_cmd_fn cmd_noop;
imap_cmd_fn cmd_logout;
imap_cmd_fn cmd_id;
/* not authenticated */
imap_cmd_fn cmd_starttls;
imap_cmd_fn cmd_compress;
imap_cmd_fn cmd_login;
imap_cmd_fn cmd_authenticate;
/* authenticated or selected */
imap_cmd_fn cmd_unauthenticate;
imap_cmd_fn cmd_enable;
imap_cmd_fn cmd_select;		/* SELECT and EXAMINE */
imap_cmd_fn cmd_create;
imap_cmd_fn cmd_delete;
imap_cmd_fn cmd_rename;
imap_cmd_fn cmd_subscribe;	/* SUBSCRIBE and UNSUBSCRIBE */
imap_cmd_fn cmd_list;		/* LIST and LSUB */
imap_cmd_fn cmd_namespace;
imap_cmd_fn cmd_status;
imap_cmd_fn cmd_append;
imap_cmd_fn cmd_idle;
imap_cmd_fn cmd_getquota;
imap_cmd_fn cmd_getquotaroot;
/* selected */
imap_cmd_fn cmd_check;
imap_cmd_fn cmd_close;
imap_cmd_fn cmd_unselect;
imap_cmd_fn cmd_expunge;	/* EXPUNGE and UID EXPUNGE */
imap_cmd_fn cmd_search;
imap_cmd_fn cmd_fetch;
imap_cmd_fn cmd_store;
imap_cmd_fn cmd_copy;
imap_cmd_fn cmd_move;
imap_cmd_fn cmd_sort;
imap_cmd_fn cmd_thread;

/* cmd_mailbox.c, also for LIST-STATUS: "* STATUS name (...)\r\n" of
 * one mailbox with the IMAP_STATUS_* items; -1 with the store's error */
int	 imap_status_write(struct imap_session *s, const char *name,
	    unsigned int items, struct buf *out, const char **error_r);

#endif
