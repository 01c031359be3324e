/* test_workers.c - unit tests for common/workers.c */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "workers.h"

#define LANES	8
#define JOBS	50

struct lane_state {
	pthread_mutex_t	 lock;
	int		 running;	/* jobs of this lane running now */
	int		 max_running;
	int		 ran[JOBS];	/* order in which jobs ran */
	int		 nran;
	int		 completed[JOBS];
	int		 ncompleted;
};

struct job_arg {
	struct lane_state	*lane;
	int			 seq;
	int			*total_done;
	struct event_base	*base;
	int			 cancelled;
};

static pthread_t loop_thread;

static void
job_run(void *p)
{
	struct job_arg *a = p;
	struct timespec ts = { 0, 200000 };	/* 0.2 ms: let lanes overlap */

	pthread_mutex_lock(&a->lane->lock);
	a->lane->running++;
	if (a->lane->running > a->lane->max_running)
		a->lane->max_running = a->lane->running;
	a->lane->ran[a->lane->nran++] = a->seq;
	pthread_mutex_unlock(&a->lane->lock);
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&a->lane->lock);
	a->lane->running--;
	pthread_mutex_unlock(&a->lane->lock);
}

static void
job_done(void *p, bool cancelled)
{
	struct job_arg *a = p;

	/* completions run on the loop thread, never in the pool */
	assert_true(pthread_equal(pthread_self(), loop_thread));
	if (cancelled)
		a->cancelled = 1;
	else
		a->lane->completed[a->lane->ncompleted++] = a->seq;
	if (++*a->total_done == LANES * JOBS)
		event_base_loopbreak(a->base);
}

static void
one_lane_runs_its_jobs_one_at_a_time_in_order(void **state)
{
	static struct lane_state lanes[LANES];
	static struct job_arg args[LANES][JOBS];
	struct worker_queue *q[LANES];
	struct event_base *base;
	struct workers *w;
	struct timeval limit = { 30, 0 };
	int total = 0, i, j;

	loop_thread = pthread_self();
	base = event_base_new();
	w = workers_new(base, 4);
	for (i = 0; i < LANES; i++) {
		memset(&lanes[i], 0, sizeof(lanes[i]));
		pthread_mutex_init(&lanes[i].lock, NULL);
		q[i] = worker_queue_new(w);
	}
	for (j = 0; j < JOBS; j++) {
		for (i = 0; i < LANES; i++) {
			args[i][j] = (struct job_arg){ &lanes[i], j, &total,
			    base, 0 };
			worker_queue_submit(q[i], job_run, job_done,
			    &args[i][j]);
		}
	}
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	assert_int_equal(total, LANES * JOBS);
	for (i = 0; i < LANES; i++) {
		assert_int_equal(lanes[i].max_running, 1);
		for (j = 0; j < JOBS; j++) {
			if (lanes[i].ran[j] != j || lanes[i].completed[j] != j)
				fail_msg("lane %d slot %d: ran %d completed "
				    "%d, want %d", i, j, lanes[i].ran[j],
				    lanes[i].completed[j], j);
		}
		assert_false(worker_queue_busy(q[i]));
		worker_queue_free(&q[i]);
	}
	assert_int_equal(workers_pending(w), 0);
	workers_free(&w);
	event_base_free(base);
}

struct overlap {
	pthread_mutex_t	 lock;
	int		 running, max_running, done;
	struct event_base *base;
};

static void
overlap_run(void *p)
{
	struct overlap *o = p;
	struct timespec ts = { 0, 20000000 };	/* 20 ms */

	pthread_mutex_lock(&o->lock);
	if (++o->running > o->max_running)
		o->max_running = o->running;
	pthread_mutex_unlock(&o->lock);
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&o->lock);
	o->running--;
	pthread_mutex_unlock(&o->lock);
}

static void
overlap_done(void *p, bool cancelled)
{
	struct overlap *o = p;

	if (++o->done == 4)
		event_base_loopbreak(o->base);
}

static void
different_lanes_run_in_parallel_up_to_the_thread_count(void **state)
{
	struct overlap o = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct worker_queue *q[4];
	struct timeval limit = { 10, 0 };
	struct workers *w;
	int i;

	o.base = event_base_new();
	w = workers_new(o.base, 2);
	for (i = 0; i < 4; i++) {
		q[i] = worker_queue_new(w);
		worker_queue_submit(q[i], overlap_run, overlap_done, &o);
	}
	event_base_loopexit(o.base, &limit);
	event_base_dispatch(o.base);
	assert_int_equal(o.done, 4);
	assert_int_equal(o.max_running, 2);
	for (i = 0; i < 4; i++)
		worker_queue_free(&q[i]);
	workers_free(&w);
	event_base_free(o.base);
}

struct cancel_state {
	int ran, done, cancelled;
};

static void
cancel_run(void *p)
{
	struct cancel_state *c = p;
	struct timespec ts = { 0, 50000000 };	/* 50 ms */

	__atomic_add_fetch(&c->ran, 1, __ATOMIC_SEQ_CST);
	nanosleep(&ts, NULL);
}

static void
cancel_done(void *p, bool cancelled)
{
	struct cancel_state *c = p;

	if (cancelled)
		c->cancelled++;
	else
		c->done++;
}

static void
freeing_a_lane_cancels_queued_jobs_and_reports_the_running_one(void **state)
{
	struct cancel_state c = { 0 };
	struct timespec ts = { 0, 10000000 };
	struct timeval limit = { 0, 300000 };
	struct event_base *base;
	struct worker_queue *q;
	struct workers *w;
	int i;

	base = event_base_new();
	w = workers_new(base, 2);
	q = worker_queue_new(w);
	for (i = 0; i < 5; i++)
		worker_queue_submit(q, cancel_run, cancel_done, &c);
	nanosleep(&ts, NULL);		/* the first job is now running */
	worker_queue_free(&q);
	assert_null(q);
	assert_int_equal(c.cancelled, 4);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	/* the running job finished, its done() was told it was cancelled */
	assert_int_equal(c.ran, 1);
	assert_int_equal(c.cancelled, 5);
	assert_int_equal(c.done, 0);
	workers_free(&w);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_lane_runs_its_jobs_one_at_a_time_in_order),
		cmocka_unit_test(
		    different_lanes_run_in_parallel_up_to_the_thread_count),
		cmocka_unit_test(
		   freeing_a_lane_cancels_queued_jobs_and_reports_the_running_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
