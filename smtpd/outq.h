/*
 * outq - the outbound queue of bastide-smtpd: its directory, its runner,
 * retries, notices (DSNs) and control commands
 *
 * Owns the queue directory ([queue] dir):
 *
 *     <id>.msg, <id>.env   a queued message and its envelope (queue.h)
 *     hold/<id>.{msg,env}  held messages: kept, never tried
 *     tmp/                 message files being written
 *     corrupt/             envelopes that failed to parse, and their
 *                          messages, moved aside at start-up (logged)
 *
 * outq_enqueue() writes the message (tmp file, fsync, link into place,
 * directory fsync), then the envelope (queue_env_write(): the commit
 * point), from any thread.  At start the directory is read back: a
 * message without an envelope is an unfinished enqueue and goes, an
 * envelope whose message sits in the other directory (a crash during
 * hold or release) gets it back, and every envelope with a recipient
 * left is queued again.  So a crash at any point loses nothing that was
 * acknowledged, and may at worst repeat a delivery attempt whose result
 * was not yet written (at-least-once).
 *
 * The runner lives on the event loop.  It starts a delivery attempt for
 * a message when one of its recipients is due, as one job in a worker
 * pool of its own ([queue] max_deliveries threads, so that a slow remote
 * server never holds a thread the inbound sessions need), for one
 * destination at a time: the recipients of one domain (MX delivery),
 * all remote ones (relay_host), or the local ones (smtp_local_deliver()).
 * At most [queue] destination_concurrency attempts run per destination.
 * A message has at most one attempt running, and only that job writes
 * its envelope meanwhile.
 *
 * Retries: after the n-th failed attempt a recipient waits retry_min *
 * 2^(n-1), at most retry_max, and never past arrival + lifetime, where
 * the last attempt is made; if that fails too the recipient has failed.
 * Recipient states in the envelope (queue.h): PENDING is waiting (tried
 * or not, last_error says what happened), DEFERRED is waiting and its
 * delay notice is done (sent, or not wanted), DELIVERED and FAILED are
 * final; a message whose recipients are all final is removed.
 *
 * Notices (bounce.h), never for the null sender: a failure (a permanent
 * error, or expiry) for recipients with NOTIFY=FAILURE or no NOTIFY;
 * one delay notice per message once it is delay_warning old, for its
 * waiting recipients with NOTIFY=DELAY or no NOTIFY; a success notice
 * for NOTIFY=SUCCESS when we delivered locally ("delivered") or passed
 * the message to a server without DSN ("relayed"; a server with DSN got
 * the NOTIFY itself).  A notice is queued (durably) before the envelope
 * records the states it reports, so a crash repeats a notice rather than
 * losing it.
 */
#ifndef BASTIDE_OUTQ_H
#define BASTIDE_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"

struct buf;
struct conf;
struct event_base;
struct outq;
struct smtp_local;
struct workers;

/*
 * On the loop thread at start-up: read [queue], create the directories,
 * pick up what is on disk and start the runner.  local is borrowed (for
 * bounces to local senders and for queued mail whose recipient turns
 * out local; NULL: every recipient is remote); workers is borrowed and
 * not used for delivery attempts (see above).
 */
int	 outq_new(const struct conf *conf, struct event_base *base,
	    struct workers *workers, struct smtp_local *local,
	    struct outq **q_r, char **error_r);
/*
 * Interrupts running attempts (their results so far are kept), waits for
 * their threads and frees everything.  No outq_enqueue() may run or
 * start meanwhile.
 */
void	 outq_free(struct outq **q);

/*
 * Any thread (called from a worker): give env a new id (env->id is
 * set; env->arrival too if it was 0), write msg (fsync) then env
 * (queue_env_write, durable), then wake the runner.  Returns 0 only
 * when both are durable; on -1 nothing is left behind.  Copies nothing
 * it keeps.
 */
int	 outq_enqueue(struct outq *q, const char *msg, size_t len,
	    struct queue_env *env, char **error_r);

/*
 * Loop thread: one control line; appends reply lines to out, the last
 * one "OK" or "ERR <reason>"; returns 0 / -1.
 *   list          mailq-like: a header line, then per message
 *                 "<id><mark> <size> <arrival> <sender>" (mark '*' for
 *                 an attempt running, '!' for held, ' ' otherwise;
 *                 sender "MAILER-DAEMON" for <>), then per recipient
 *                 still waiting its "(last error)" line if any and its
 *                 address, indented, and a blank line; at the end
 *                 "-- N Kbytes in M Requests."; or "Mail queue is empty"
 *   flush         try every message that is not held now
 *   flush ID      the same for one message
 *   delete ID     remove it without a notice (after its running attempt)
 *   hold ID       move it to hold/ (after its running attempt)
 *   release ID    move it back and try it now
 */
int	 outq_control(struct outq *q, const char *line, struct buf *out);

/* SIGHUP: take the new [queue] settings (dir and max_deliveries only
 * at the next start) */
void	 outq_reload(struct outq *q, const struct conf *conf);

/*
 * The wait in seconds after the attempts-th failed attempt (>= 1):
 * retry_min doubled attempts - 1 times, at most retry_max.  Pure; here
 * for the tests.
 */
uint64_t outq_retry_delay(uint64_t retry_min, uint64_t retry_max,
	    uint32_t attempts);

#endif
