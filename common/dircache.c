/* dircache.c - bounded, thread-safe TTL cache for directory lookups */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dircache.h"
#include "xmalloc.h"

/*
 * A chained hash table for lookup plus a doubly linked list in order of
 * use for eviction.  The table has a fixed number of buckets chosen from
 * max_entries at creation, so it never rehashes; chains stay short because
 * the entry count never exceeds max_entries.
 */
struct dircache_entry {
	struct dircache_entry	*hnext;		/* hash chain */
	struct dircache_entry	*prev, *next;	/* use order, head = newest */
	char			*key;
	void			*value;		/* NULL: negative entry */
	uint64_t		 expires;	/* clock ms */
};

struct dircache {
	pthread_mutex_t		 lock;
	struct dircache_entry	**buckets;
	size_t			 nbuckets;
	struct dircache_entry	*head, *tail;
	size_t			 count, max;
	uint64_t		 ttl, negative_ttl;
	dircache_dup_fn		*dup;
	dircache_free_fn	*free_value;
	dircache_clock_fn	*clock;
	void			*clock_ctx;
};

/* dircache_monotonic - the default clock, in milliseconds */
static uint64_t
dircache_monotonic(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* dircache_hash - FNV-1a of a key */
static size_t
dircache_hash(const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* dircache_new - an empty cache; see dircache.h */
struct dircache *
dircache_new(size_t max_entries, uint64_t ttl_ms, uint64_t negative_ttl_ms,
    dircache_dup_fn *dup_value, dircache_free_fn *free_value)
{
	struct dircache *c;

	c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->max = max_entries > 0 ? max_entries : 1;
	/* about two entries per bucket when full, capped at 1M buckets */
	c->nbuckets = c->max / 2 + 1;
	if (c->nbuckets > (1U << 20))
		c->nbuckets = 1U << 20;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	c->ttl = ttl_ms;
	c->negative_ttl = negative_ttl_ms;
	c->dup = dup_value;
	c->free_value = free_value;
	c->clock = dircache_monotonic;
	return c;
}

/* dircache_set_clock - replace the clock, for tests */
void
dircache_set_clock(struct dircache *c, dircache_clock_fn *clock_fn, void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->clock = clock_fn != NULL ? clock_fn : dircache_monotonic;
	c->clock_ctx = ctx;
	pthread_mutex_unlock(&c->lock);
}

/* dircache_unlink - take e out of the table and the list; lock held */
static void
dircache_unlink(struct dircache *c, struct dircache_entry *e)
{
	struct dircache_entry **pp;

	pp = &c->buckets[dircache_hash(e->key) % c->nbuckets];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	c->count--;
}

/* dircache_destroy - free one unlinked entry */
static void
dircache_destroy(struct dircache *c, struct dircache_entry *e)
{
	if (e->value != NULL)
		c->free_value(e->value);
	free(e->key);
	free(e);
}

/* dircache_find - the entry for key or NULL; lock held */
static struct dircache_entry *
dircache_find(struct dircache *c, const char *key)
{
	struct dircache_entry *e;

	for (e = c->buckets[dircache_hash(key) % c->nbuckets]; e != NULL;
	    e = e->hnext)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* dircache_get - look key up, copying a positive value out */
enum dircache_result
dircache_get(struct dircache *c, const char *key, void **value_r)
{
	struct dircache_entry *e;
	enum dircache_result r = DIRCACHE_MISS;

	*value_r = NULL;
	pthread_mutex_lock(&c->lock);
	e = dircache_find(c, key);
	if (e != NULL && c->clock(c->clock_ctx) >= e->expires) {
		dircache_unlink(c, e);
		dircache_destroy(c, e);
		e = NULL;
	}
	if (e != NULL) {
		/* move to the front: recently used */
		if (e != c->head) {
			e->prev->next = e->next;
			if (e->next != NULL)
				e->next->prev = e->prev;
			else
				c->tail = e->prev;
			e->prev = NULL;
			e->next = c->head;
			c->head->prev = e;
			c->head = e;
		}
		if (e->value != NULL) {
			*value_r = c->dup(e->value);
			r = DIRCACHE_HIT;
		} else
			r = DIRCACHE_NEGATIVE;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* dircache_put - store a copy of value (NULL: negative) under key */
void
dircache_put(struct dircache *c, const char *key, const void *value)
{
	struct dircache_entry *e, *old;
	uint64_t ttl = value != NULL ? c->ttl : c->negative_ttl;
	size_t b;

	if (ttl == 0) {
		/* disabled, but an older entry must not outlive the news */
		dircache_remove(c, key);
		return;
	}
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	/* copy outside the lock: dup may be slow for big groups */
	e->value = value != NULL ? c->dup(value) : NULL;
	pthread_mutex_lock(&c->lock);
	if ((old = dircache_find(c, key)) != NULL) {
		dircache_unlink(c, old);
		dircache_destroy(c, old);
	}
	while (c->count >= c->max && c->tail != NULL) {
		old = c->tail;
		dircache_unlink(c, old);
		dircache_destroy(c, old);
	}
	e->expires = c->clock(c->clock_ctx) + ttl;
	b = dircache_hash(key) % c->nbuckets;
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
	c->count++;
	pthread_mutex_unlock(&c->lock);
}

/* dircache_remove - forget key, if present */
void
dircache_remove(struct dircache *c, const char *key)
{
	struct dircache_entry *e;

	pthread_mutex_lock(&c->lock);
	if ((e = dircache_find(c, key)) != NULL) {
		dircache_unlink(c, e);
		dircache_destroy(c, e);
	}
	pthread_mutex_unlock(&c->lock);
}

/* dircache_clear - forget everything */
void
dircache_clear(struct dircache *c)
{
	struct dircache_entry *e;

	pthread_mutex_lock(&c->lock);
	while ((e = c->head) != NULL) {
		dircache_unlink(c, e);
		dircache_destroy(c, e);
	}
	pthread_mutex_unlock(&c->lock);
}

/* dircache_count - entries held now */
size_t
dircache_count(struct dircache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* dircache_free - free the cache and every value in it */
void
dircache_free(struct dircache **cp)
{
	struct dircache *c = *cp;

	if (c == NULL)
		return;
	dircache_clear(c);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
	*cp = NULL;
}
