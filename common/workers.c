/* workers.c - bounded thread pool with serial lanes and loop completions */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "workers.h"
#include "xmalloc.h"

struct worker_job {
	struct worker_job	*next;
	struct worker_queue	*lane;
	worker_job_fn		*job;
	worker_done_fn		*done;
	void			*arg;
};

/*
 * A lane is freed by its owner at any time, but the memory stays until no
 * job of it is running or completing (dead = true), so that a job's back
 * pointer to its lane is always valid.
 */
struct worker_queue {
	struct workers		*pool;
	struct worker_job	*head, *tail;	/* not yet started */
	struct worker_job	*current;	/* running or completing */
	struct worker_queue	*next_ready;
	bool			 in_ready;
	bool			 dead;
};

struct workers {
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	pthread_t		*threads;
	unsigned int		 nthreads;
	struct worker_queue	*ready_head, *ready_tail;
	struct worker_job	*done_head, *done_tail;
	unsigned int		 pending;
	bool			 stopping;
	int			 efd;
	struct event		*ev;
};

/* workers_ready_push - queue a lane that has work and is idle; lock held */
static void
workers_ready_push(struct workers *w, struct worker_queue *q)
{
	if (q->in_ready || q->current != NULL || q->head == NULL || q->dead)
		return;
	q->in_ready = true;
	q->next_ready = NULL;
	if (w->ready_tail != NULL)
		w->ready_tail->next_ready = q;
	else
		w->ready_head = q;
	w->ready_tail = q;
	pthread_cond_signal(&w->wake);
}

/* workers_thread - take a ready lane, run its first job, post completion */
static void *
workers_thread(void *arg)
{
	struct workers *w = arg;
	struct worker_queue *q;
	struct worker_job *job;
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->ready_head == NULL && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->ready_head == NULL)
			break;
		q = w->ready_head;
		w->ready_head = q->next_ready;
		if (w->ready_head == NULL)
			w->ready_tail = NULL;
		q->in_ready = false;
		job = q->head;
		q->head = job->next;
		if (q->head == NULL)
			q->tail = NULL;
		job->next = NULL;
		q->current = job;
		pthread_mutex_unlock(&w->lock);

		job->job(job->arg);
		log_set_session(NULL);

		pthread_mutex_lock(&w->lock);
		if (w->done_tail != NULL)
			w->done_tail->next = job;
		else
			w->done_head = job;
		w->done_tail = job;
		if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			panic("workers: eventfd write failed");
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* workers_run_completions - run finished jobs' done() on this thread */
static void
workers_run_completions(struct workers *w)
{
	struct worker_job *list, *job;
	struct worker_queue *q;
	bool cancelled;

	pthread_mutex_lock(&w->lock);
	list = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->lock);

	while ((job = list) != NULL) {
		list = job->next;
		q = job->lane;
		cancelled = q->dead;
		if (job->done != NULL)
			job->done(job->arg, cancelled);
		free(job);
		pthread_mutex_lock(&w->lock);
		w->pending--;
		q->current = NULL;
		if (q->dead) {
			pthread_mutex_unlock(&w->lock);
			free(q);
			continue;
		}
		workers_ready_push(w, q);
		pthread_mutex_unlock(&w->lock);
	}
}

/* workers_on_event - the loop's callback when a job has finished */
static void
workers_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct workers *w = arg;
	uint64_t count;

	if (read(w->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		panic("workers: eventfd read failed");
	workers_run_completions(w);
}

/* workers_new - start nthreads threads whose completions run on base */
struct workers *
workers_new(struct event_base *base, unsigned int nthreads)
{
	struct workers *w;
	unsigned int i;
	int r;

	if (nthreads == 0)
		nthreads = 1;
	w = xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		fatal("eventfd");
	w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST,
	    workers_on_event, w);
	if (w->ev == NULL || event_add(w->ev, NULL) < 0)
		fatalx("workers: cannot register with the event loop");
	w->threads = xcalloc(nthreads, sizeof(*w->threads));
	w->nthreads = nthreads;
	for (i = 0; i < nthreads; i++) {
		r = pthread_create(&w->threads[i], NULL, workers_thread, w);
		if (r != 0) {
			errno = r;
			fatal("pthread_create");
		}
	}
	return w;
}

/* workers_free - finish running jobs, cancel queued ones, join threads */
void
workers_free(struct workers **wp)
{
	struct workers *w = *wp;
	struct worker_queue *q;
	unsigned int i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	/* queued jobs that never started are cancelled */
	while ((q = w->ready_head) != NULL) {
		w->ready_head = q->next_ready;
		q->in_ready = false;
	}
	w->ready_tail = NULL;
	w->stopping = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	workers_run_completions(w);
	event_free(w->ev);
	close(w->efd);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w);
	*wp = NULL;
}

/* worker_queue_new - a serial lane in the pool */
struct worker_queue *
worker_queue_new(struct workers *w)
{
	struct worker_queue *q;

	q = xcalloc(1, sizeof(*q));
	q->pool = w;
	return q;
}

/* worker_queue_free - cancel queued jobs; the lane goes when idle */
void
worker_queue_free(struct worker_queue **qp)
{
	struct worker_queue *q = *qp;
	struct workers *w;
	struct worker_job *job, *list;
	bool busy;

	if (q == NULL)
		return;
	*qp = NULL;
	w = q->pool;
	pthread_mutex_lock(&w->lock);
	q->dead = true;
	list = q->head;
	q->head = q->tail = NULL;
	if (q->in_ready) {
		/* unlink from the ready list */
		struct worker_queue **pp = &w->ready_head, *prev = NULL;

		while (*pp != q) {
			prev = *pp;
			pp = &(*pp)->next_ready;
		}
		*pp = q->next_ready;
		if (w->ready_tail == q)
			w->ready_tail = prev;
		q->in_ready = false;
	}
	busy = q->current != NULL;
	pthread_mutex_unlock(&w->lock);

	while ((job = list) != NULL) {
		list = job->next;
		if (job->done != NULL)
			job->done(job->arg, true);
		free(job);
		pthread_mutex_lock(&w->lock);
		w->pending--;
		pthread_mutex_unlock(&w->lock);
	}
	if (!busy)
		free(q);
}

/* worker_queue_submit - run job in the pool, then done on the loop */
void
worker_queue_submit(struct worker_queue *q, worker_job_fn *job,
    worker_done_fn *done, void *arg)
{
	struct workers *w = q->pool;
	struct worker_job *j;

	j = xcalloc(1, sizeof(*j));
	j->lane = q;
	j->job = job;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->lock);
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	w->pending++;
	workers_ready_push(w, q);
	pthread_mutex_unlock(&w->lock);
}

/* worker_queue_busy - whether the lane has any job not yet completed */
bool
worker_queue_busy(const struct worker_queue *q)
{
	struct workers *w = q->pool;
	bool busy;

	pthread_mutex_lock(&w->lock);
	busy = q->head != NULL || q->current != NULL;
	pthread_mutex_unlock(&w->lock);
	return busy;
}

/* workers_pending - jobs queued, running or awaiting completion */
unsigned int
workers_pending(struct workers *w)
{
	unsigned int n;

	pthread_mutex_lock(&w->lock);
	n = w->pending;
	pthread_mutex_unlock(&w->lock);
	return n;
}
