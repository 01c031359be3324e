/*
 * dircache - a bounded, thread-safe TTL cache for directory lookups
 *
 * Maps a string key (the caller folds case) to a copy of a value, or to a
 * negative entry ("looked up, does not exist").  Positive and negative
 * entries have their own TTL, so that an address that was unknown becomes
 * deliverable soon after an admin adds it while a known user is not looked
 * up on every RCPT.  The cache owns its copies: values go in and come out
 * through the dup function given at creation, so a value handed to a
 * caller is never freed under it by another thread's eviction.  When full,
 * the least recently used entry goes.  The clock is injectable for tests.
 * The cache knows nothing about LDAP; directory.c uses it.
 */
#ifndef BASTIDE_DIRCACHE_H
#define BASTIDE_DIRCACHE_H

#include <stddef.h>
#include <stdint.h>

struct dircache;

/* copy and free one value */
typedef void *dircache_dup_fn(const void *value);
typedef void dircache_free_fn(void *value);
/* milliseconds on a monotonic clock */
typedef uint64_t dircache_clock_fn(void *ctx);

enum dircache_result {
	DIRCACHE_MISS = 0,	/* unknown or expired: ask the directory */
	DIRCACHE_HIT,		/* *value_r is the caller's copy */
	DIRCACHE_NEGATIVE	/* known not to exist; *value_r is NULL */
};

/* a TTL of 0 disables that kind of entry; max_entries is at least 1 */
struct dircache *dircache_new(size_t max_entries, uint64_t ttl_ms,
	    uint64_t negative_ttl_ms, dircache_dup_fn *dup_value,
	    dircache_free_fn *free_value);
void	 dircache_free(struct dircache **cache);
/* replace the clock (default: CLOCK_MONOTONIC) */
void	 dircache_set_clock(struct dircache *cache, dircache_clock_fn *clock_fn,
	    void *ctx);

enum dircache_result dircache_get(struct dircache *cache, const char *key,
	    void **value_r);
/* store a copy of value; NULL stores a negative entry */
void	 dircache_put(struct dircache *cache, const char *key,
	    const void *value);
void	 dircache_remove(struct dircache *cache, const char *key);
void	 dircache_clear(struct dircache *cache);
/* entries held now, expired ones included until they are touched */
size_t	 dircache_count(struct dircache *cache);

#endif
