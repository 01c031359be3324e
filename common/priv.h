/*
 * priv - dropping root, in one place
 *
 * A daemon started as root binds its ports and opens its key files, then
 * calls priv_drop() once, before it serves anyone.
 */
#ifndef BASTIDE_PRIV_H
#define BASTIDE_PRIV_H

/* switch to user (and group, or the user's primary group); fatal() on any
 * failure.  Does nothing when user is empty or we are not root. */
void	 priv_drop(const char *user, const char *group);

#endif
