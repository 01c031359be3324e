/*
 * authfail - slow down and then ban clients that fail to authenticate
 *
 * A table of client IPs (as strings; the caller chooses the form, e.g. an
 * IPv6 /64 prefix) with the times of their recent authentication
 * failures.  Each failure answers how long the daemon should wait before
 * it replies: 0 for the first failure in the window, then 1 s, 2 s, 4 s,
 * capped at 5 s.  When an IP has had max_failures failures within the
 * last window_ms (a sliding window), it is banned for ban_ms; when the
 * ban ends it starts afresh.  A success forgets the IP's failures but
 * not a ban in force (the daemon refuses banned IPs before it checks
 * any password, so a success during a ban means a shared address).
 *
 * The table holds at most max_entries IPs; when full, the one that failed
 * least recently is forgotten, so a flood of addresses costs bounded
 * memory (max_entries * max(max_failures, 8) * 8 bytes plus the keys).
 * Time is passed in by the caller (milliseconds on a monotonic clock),
 * which keeps tests free of sleeping.  Every function is thread-safe (one
 * mutex); the table owns its copies of the IP strings.
 */
#ifndef BASTIDE_AUTHFAIL_H
#define BASTIDE_AUTHFAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTHFAIL_DELAY_BASE_MS	1000	/* after the second failure */
#define AUTHFAIL_DELAY_MAX_MS	5000

struct authfail;

/* max_failures 0: never ban (delays still grow); max_entries 0 is 1 */
struct authfail *authfail_new(unsigned int max_failures,
	    uint64_t window_ms, uint64_t ban_ms, size_t max_entries);
void	 authfail_free(struct authfail **a);
/* record a failure from ip; returns the delay in ms to wait before
 * answering it (grows with the failures in the window, capped) */
uint64_t authfail_record(struct authfail *a, const char *ip,
	    uint64_t now_ms);
/* true while ip has had max_failures in window_ms, for ban_ms */
bool	 authfail_banned(struct authfail *a, const char *ip,
	    uint64_t now_ms);
void	 authfail_success(struct authfail *a, const char *ip);
/* IPs held now (for tests and statistics) */
size_t	 authfail_count(struct authfail *a);

#endif
