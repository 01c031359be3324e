/*
 * store_name - mailbox names: checks, Maildir++ directory names, mUTF-7
 *
 * Inside Bastide a mailbox name is UTF-8 with "/" as the hierarchy
 * separator, and "INBOX" (any case) is the top of the Maildir.  On disk a
 * folder "a/b.c" is the Maildir++ directory ".a.b%2Ec": components are
 * joined with ".", and a "." or "%" inside a component is written as %2E or
 * %25, so that every valid name maps to exactly one directory and back.
 * A name that could leave the user's directory ("..", "/" at an end, empty
 * components, control characters, more than 255 bytes) is refused here, in
 * one place, before any path is built from it.  IMAP4rev1 clients see
 * modified UTF-7 (RFC 3501 5.1.3); the converters live here too.  Nothing
 * in this module touches the disk.
 */
#ifndef BASTIDE_STORE_NAME_H
#define BASTIDE_STORE_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define STORE_NAME_MAX		255	/* bytes of a mailbox name */
#define STORE_NAME_SEP		'/'

/* check name and return its canonical form (INBOX upper-cased) */
int	 store_name_check(const char *name, char **canon_r,
	    const char **error_r);
/* whether a canonical name is INBOX itself */
bool	 store_name_is_inbox(const char *name);
/* the Maildir++ directory of a name: "" for INBOX, ".a.b" otherwise */
int	 store_name_to_dir(const char *name, char **dir_r,
	    const char **error_r);
/* the name of a Maildir++ directory; -1 if it is not a folder of ours */
int	 store_name_from_dir(const char *dir, char **name_r);

/* UTF-8 to modified UTF-7 and back; -1 on invalid input */
int	 store_name_to_mutf7(const char *utf8, char **mutf7_r);
int	 store_name_from_mutf7(const char *mutf7, char **utf8_r);

#endif
