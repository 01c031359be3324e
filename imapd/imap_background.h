/*
 * imap_background - background bulk downloads announced in ID, and when
 * a loaded server turns them away
 *
 * Some clients say in ID (RFC 2971) that a connection only fills a cache
 * with nobody waiting for it.  iOS Mail does (Apple TN3189, from iOS
 * 18.5): its "name" starts with "com.apple." and its "event" field holds
 * comma-separated words among which "back-fill" or "indexer" mark a
 * background download ("periodic" and "push" do not).  An administrator
 * may name more clients by their ID "name" ([imapd] background_clients,
 * for sync tools).  While the worker pool is loaded such a session is
 * refused, its ID and its FETCHes of message bodies answered NO
 * [UNAVAILABLE], and the client comes back later (iOS Mail: in about a
 * day).  A session whose ID says nothing of the kind is never refused.
 *
 * Pure code: the session hands in the ID pairs, the parsed FETCH and the
 * pool's load (imap_session_background_refused() puts them together).
 */
#ifndef BASTIDE_IMAP_BACKGROUND_H
#define BASTIDE_IMAP_BACKGROUND_H

#include <stdbool.h>
#include <stddef.h>

#include "imap_parse.h"

/*
 * Whether the ID parameters (n pairs; a value is NULL for NIL; field
 * names compare without case) announce a background download: the iOS
 * Mail rule above, or a "name" equal, without case, to one of the
 * space-separated words of clients (NULL or "": none).
 */
bool	 imap_background_id(const char *const *keys,
	    const char *const *values, size_t n, const char *clients);

/* whether a FETCH reads message bodies: RFC822, RFC822.TEXT, BINARY[]
 * or a BODY[] section other than a header or MIME header (headers and
 * sizes are cheap, from the cache, and what a first sync needs) */
bool	 imap_background_fetch_bodies(const struct imap_fetch *f);

/* whether the pool is loaded: more than busy_jobs jobs queued or
 * running, the asking session's own included (0: always loaded) */
bool	 imap_background_busy(unsigned int pending, unsigned int busy_jobs);

#endif
