/* authfail.c - per-IP authentication failure delays and bans */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authfail.h"
#include "xmalloc.h"

/*
 * A chained hash table for lookup plus a doubly linked list in order of
 * the last failure for eviction, as in dircache.c.  Each entry keeps the
 * times of its last nslots failures in a ring, which makes the window a
 * true sliding one: a fixed window that restarts at the first failure
 * would let a client fail max_failures - 1 times at the end of one window
 * and again at the start of the next.  nslots is at least max_failures
 * (enough to see a ban coming) and at least AUTHFAIL_MIN_SLOTS (enough
 * for the delay to reach its cap when bans are off).
 */
#define AUTHFAIL_MIN_SLOTS	8

struct authfail_entry {
	struct authfail_entry	*hnext;		/* hash chain */
	struct authfail_entry	*prev, *next;	/* head = latest failure */
	char			*ip;
	uint64_t		*times;		/* ring of failure times */
	unsigned int		 first;		/* index of the oldest */
	unsigned int		 nfail;		/* times held */
	bool			 banned;
	uint64_t		 banned_until;
};

struct authfail {
	pthread_mutex_t		 lock;
	struct authfail_entry	**buckets;
	size_t			 nbuckets;
	struct authfail_entry	*head, *tail;
	size_t			 count, max;
	unsigned int		 max_failures, nslots;
	uint64_t		 window, ban;
};

/* authfail_hash - FNV-1a of an IP string */
static size_t
authfail_hash(const char *ip)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *ip != '\0'; ip++) {
		h ^= (unsigned char)*ip;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* authfail_new - an empty table; see authfail.h */
struct authfail *
authfail_new(unsigned int max_failures, uint64_t window_ms, uint64_t ban_ms,
    size_t max_entries)
{
	struct authfail *a;

	a = xcalloc(1, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->max = max_entries > 0 ? max_entries : 1;
	/* about two entries per bucket when full, capped at 1M buckets */
	a->nbuckets = a->max / 2 + 1;
	if (a->nbuckets > (1U << 20))
		a->nbuckets = 1U << 20;
	a->buckets = xcalloc(a->nbuckets, sizeof(*a->buckets));
	a->max_failures = max_failures;
	a->nslots = max_failures > AUTHFAIL_MIN_SLOTS ? max_failures :
	    AUTHFAIL_MIN_SLOTS;
	a->window = window_ms;
	a->ban = ban_ms;
	return a;
}

/* authfail_find - the entry for ip or NULL; lock held */
static struct authfail_entry *
authfail_find(struct authfail *a, const char *ip)
{
	struct authfail_entry *e;

	for (e = a->buckets[authfail_hash(ip) % a->nbuckets]; e != NULL;
	    e = e->hnext)
		if (strcmp(e->ip, ip) == 0)
			return e;
	return NULL;
}

/* authfail_list_remove - take e out of the use-order list; lock held */
static void
authfail_list_remove(struct authfail *a, struct authfail_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		a->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		a->tail = e->prev;
	e->prev = e->next = NULL;
}

/* authfail_list_push - put e at the head of the list; lock held */
static void
authfail_list_push(struct authfail *a, struct authfail_entry *e)
{
	e->prev = NULL;
	e->next = a->head;
	if (a->head != NULL)
		a->head->prev = e;
	a->head = e;
	if (a->tail == NULL)
		a->tail = e;
}

/* authfail_destroy - unlink e from the table and the list, free it */
static void
authfail_destroy(struct authfail *a, struct authfail_entry *e)
{
	struct authfail_entry **pp;

	pp = &a->buckets[authfail_hash(e->ip) % a->nbuckets];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	authfail_list_remove(a, e);
	a->count--;
	free(e->ip);
	free(e->times);
	free(e);
}

/* authfail_in_window - whether a failure at t still counts at now */
static bool
authfail_in_window(const struct authfail *a, uint64_t t, uint64_t now)
{
	/* a clock that went backwards keeps the failure */
	return now < t || now - t < a->window;
}

/* authfail_expire - end a ban that is over, forgetting its failures */
static void
authfail_expire(struct authfail_entry *e, uint64_t now)
{
	if (e->banned && now >= e->banned_until) {
		e->banned = false;
		e->nfail = 0;
		e->first = 0;
	}
}

/* authfail_delay - the delay after the n-th failure in the window */
static uint64_t
authfail_delay(unsigned int n)
{
	uint64_t d;

	if (n <= 1)
		return 0;
	/* 1 s, 2 s, 4 s, ...; the shift is bounded before it can wrap */
	if (n - 2 >= 16)
		return AUTHFAIL_DELAY_MAX_MS;
	d = (uint64_t)AUTHFAIL_DELAY_BASE_MS << (n - 2);
	return d < AUTHFAIL_DELAY_MAX_MS ? d : AUTHFAIL_DELAY_MAX_MS;
}

/* authfail_record - count a failure from ip, return the delay in ms */
uint64_t
authfail_record(struct authfail *a, const char *ip, uint64_t now_ms)
{
	struct authfail_entry *e;
	uint64_t delay;
	size_t b;

	pthread_mutex_lock(&a->lock);
	e = authfail_find(a, ip);
	if (e == NULL) {
		while (a->count >= a->max && a->tail != NULL)
			authfail_destroy(a, a->tail);
		e = xcalloc(1, sizeof(*e));
		e->ip = xstrdup(ip);
		e->times = xcalloc(a->nslots, sizeof(*e->times));
		b = authfail_hash(ip) % a->nbuckets;
		e->hnext = a->buckets[b];
		a->buckets[b] = e;
		a->count++;
	} else
		authfail_list_remove(a, e);
	authfail_list_push(a, e);
	authfail_expire(e, now_ms);
	if (e->banned) {
		/* the daemon should not have asked for a password; the ban
		 * stays as it is, the answer is as slow as it gets */
		pthread_mutex_unlock(&a->lock);
		return AUTHFAIL_DELAY_MAX_MS;
	}
	while (e->nfail > 0 &&
	    !authfail_in_window(a, e->times[e->first], now_ms)) {
		e->first = (e->first + 1) % a->nslots;
		e->nfail--;
	}
	if (e->nfail == a->nslots) {
		/* the ring is full: the oldest gives way (only possible
		 * when bans are off or nslots > max_failures) */
		e->first = (e->first + 1) % a->nslots;
		e->nfail--;
	}
	e->times[(e->first + e->nfail) % a->nslots] = now_ms;
	e->nfail++;
	delay = authfail_delay(e->nfail);
	if (a->max_failures > 0 && e->nfail >= a->max_failures) {
		e->banned = true;
		e->banned_until = now_ms > UINT64_MAX - a->ban ? UINT64_MAX :
		    now_ms + a->ban;
	}
	pthread_mutex_unlock(&a->lock);
	return delay;
}

/* authfail_banned - whether ip is banned at now_ms */
bool
authfail_banned(struct authfail *a, const char *ip, uint64_t now_ms)
{
	struct authfail_entry *e;
	bool banned = false;

	pthread_mutex_lock(&a->lock);
	e = authfail_find(a, ip);
	if (e != NULL && e->banned) {
		authfail_expire(e, now_ms);
		if (e->banned)
			banned = true;
		else
			authfail_destroy(a, e);	/* served: start afresh */
	}
	pthread_mutex_unlock(&a->lock);
	return banned;
}

/* authfail_success - forget ip's failures; a ban in force stays */
void
authfail_success(struct authfail *a, const char *ip)
{
	struct authfail_entry *e;

	pthread_mutex_lock(&a->lock);
	e = authfail_find(a, ip);
	if (e != NULL) {
		if (e->banned) {
			e->nfail = 0;
			e->first = 0;
		} else
			authfail_destroy(a, e);
	}
	pthread_mutex_unlock(&a->lock);
}

/* authfail_count - IPs held now */
size_t
authfail_count(struct authfail *a)
{
	size_t n;

	pthread_mutex_lock(&a->lock);
	n = a->count;
	pthread_mutex_unlock(&a->lock);
	return n;
}

/* authfail_free - free the table and every entry */
void
authfail_free(struct authfail **ap)
{
	struct authfail *a = *ap;

	if (a == NULL)
		return;
	while (a->head != NULL)
		authfail_destroy(a, a->head);
	pthread_mutex_destroy(&a->lock);
	free(a->buckets);
	free(a);
	*ap = NULL;
}
