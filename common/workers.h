/*
 * workers - a bounded thread pool for blocking work
 *
 * The event loop never blocks; a command that must (an fsync, an LDAP bind,
 * a search) runs here as plain synchronous code.  Jobs are submitted to a
 * worker_queue, a serial lane: one lane's jobs run one at a time, in the
 * order submitted, and the next one starts only after the previous one's
 * completion has run on the loop, so a handler owns its session for the
 * whole of its job and its completion.  Lanes run in parallel with each
 * other, up to the pool's thread count.  The pool owns its threads; the
 * caller owns each lane and frees it with worker_queue_free().
 */
#ifndef BASTIDE_WORKERS_H
#define BASTIDE_WORKERS_H

#include <stdbool.h>

struct event_base;
struct workers;
struct worker_queue;

/* runs in a pool thread */
typedef void worker_job_fn(void *arg);
/* runs on the loop thread after the job; cancelled is true when the lane
 * was freed first, and then done must only release arg */
typedef void worker_done_fn(void *arg, bool cancelled);

struct workers *workers_new(struct event_base *base, unsigned int nthreads);
/* waits for running jobs, cancels queued ones, joins the threads */
void	 workers_free(struct workers **w);

struct worker_queue *worker_queue_new(struct workers *w);
/* queued jobs that have not started are cancelled; a running job finishes
 * and its done() is called with cancelled = true */
void	 worker_queue_free(struct worker_queue **q);
void	 worker_queue_submit(struct worker_queue *q, worker_job_fn *job,
	    worker_done_fn *done, void *arg);
/* whether a job of this lane is queued, running or awaiting completion */
bool	 worker_queue_busy(const struct worker_queue *q);

/* jobs queued or running in the whole pool, for load decisions */
unsigned int workers_pending(struct workers *w);

#endif
