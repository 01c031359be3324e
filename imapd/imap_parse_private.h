/*
 * imap_parse_private - what the files of the imap_parse module share
 *
 * imap_parse is one module in several files: imap_parse.c (tokenizer,
 * command table, arena, input assembly, single-argument accessors, dates),
 * imap_parse_fetch.c (FETCH, STORE), imap_parse_search.c (SEARCH, SORT,
 * THREAD) and imap_parse_cmds.c (the other commands).  Only they include
 * this header.
 */
#ifndef BASTIDE_IMAP_PARSE_PRIVATE_H
#define BASTIDE_IMAP_PARSE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "imap_parse.h"

/* whether a is the atom word (case-insensitive, no section) */
bool	 imap_arg_is_atom(const struct imap_arg *a, const char *word);
/* the argument's kind in words, for error texts ("a list") */
const char *imap_arg_kind(const struct imap_arg *a);
/* imap_arg_seqset() with "*" refused when no_star */
int	 imap_arg_seqset_ex(struct imap_cmd *cmd, const struct imap_arg *a,
	    bool no_star, struct imap_seqset **set_r, bool *saved_r);
/* call fn(obj) when the command is freed (before the arena goes) */
void	 imap_cmd_on_free(struct imap_cmd *cmd, void (*fn)(void *), void *obj);
/* an upper-case copy in the arena */
char	*imap_cmd_strupper(struct imap_cmd *cmd, const char *s);
/* a growable array of pointers, copied into the arena when done */
struct imap_ptrvec {
	void		**v;
	size_t		 n;
	size_t		 alloc;
};
void	 imap_ptrvec_push(struct imap_ptrvec *pv, void *p);
/* move into the arena (NULL when empty) and free the heap array */
void	**imap_ptrvec_finish(struct imap_cmd *cmd, struct imap_ptrvec *pv);
void	 imap_ptrvec_free(struct imap_ptrvec *pv);
/* a search program at args[0..n): the keys after RETURN and CHARSET */
int	 imap_search_program(struct imap_cmd *cmd, const struct imap_arg *args,
	    size_t n, struct imap_search *s);

#endif
