/*
 * smtp_local - what "local" means to smtpd: hosted domains and mailboxes
 *
 * Owns the list of hosted domains ([smtpd] domains) and the +detail
 * delimiter, and borrows the directory and the store.  It answers two
 * questions for the rest of smtpd and for the outbound queue:
 *
 *   - is this domain ours (smtp_local_is_local_domain)?
 *   - where does mail to this local address go (smtp_local_resolve):
 *     a user's mailbox (with a folder for alice+work@ when that folder
 *     exists), the members of a group, a forward (mailRoutingAddress),
 *     followed through local addresses to mailboxes, with remote
 *     addresses collected on the side;
 *
 * and delivers one queued message to one local address
 * (smtp_local_deliver), which the queue runner uses for mail that was
 * queued for a local recipient (a retry) and for bounces to local senders.
 *
 * A mailbox in the store is named by the user's primary address (mail,
 * or the address asked for when there is none) in lower case.
 *
 * Every function but new/free/reload/set_forward may block (LDAP, disk):
 * call them from worker threads.  They are thread-safe.
 */
#ifndef BASTIDE_SMTP_LOCAL_H
#define BASTIDE_SMTP_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct conf;
struct directory;
struct store;
struct smtp_local;

/* one mailbox a message goes into */
struct smtp_local_target {
	char		*user;		/* store user, "local@domain" */
	char		*mailbox;	/* folder; NULL: INBOX */
	/* the address that leads to exactly this target again, for a
	 * retry through the queue: the user's address, +detail kept */
	char		*address;
	uint64_t	 quota;		/* bytes, from LDAP; 0: none */
};

/* where mail to one address goes */
struct smtp_local_expansion {
	struct smtp_local_target *local;
	size_t		 nlocal;
	char		**remote;	/* forwards out of our domains */
	size_t		 nremote;
};

/*
 * Forwarding to remote addresses found while delivering a queued message
 * (a group member or a forward outside our domains): the daemon enqueues
 * msg for rcpts with sender; 0 once that is durable.  Also used for the
 * local targets of a group that failed while others succeeded, so that
 * the address is not retried as a whole (which would duplicate).
 */
typedef int smtp_local_forward_fn(void *arg, const char *sender,
	    char *const *rcpts, size_t nrcpts, const char *msg, size_t len,
	    char **error_r);

struct smtp_local *smtp_local_new(const struct conf *conf,
	    struct directory *dir, struct store *st);
void	 smtp_local_free(struct smtp_local **l);
/* SIGHUP: the new domains and delimiter (loop thread) */
void	 smtp_local_reload(struct smtp_local *l, const struct conf *conf);
/* where smtp_local_deliver() sends remote parts (loop thread, start-up) */
void	 smtp_local_set_forward(struct smtp_local *l,
	    smtp_local_forward_fn *fn, void *arg);

/* domain is one we host ([smtpd] domains), case-insensitive */
bool	 smtp_local_is_local_domain(const struct smtp_local *l,
	    const char *domain);
/* the first hosted domain (for <postmaster>), a copy; NULL if none */
char	*smtp_local_first_domain(const struct smtp_local *l);

/*
 * Where mail to a local address goes.  0 with *x filled (release it with
 * smtp_local_expansion_deinit()); 1 refused for good, -1 try later, and
 * then *reply_r (caller frees) is the SMTP reply, e.g.
 * "550 5.1.1 <x@example.test>: no such user",
 * "550 5.2.1 <x@example.test>: mailbox disabled",
 * "451 4.4.3 <x@example.test>: directory unavailable, try again later".
 */
int	 smtp_local_resolve(struct smtp_local *l, const char *address,
	    struct smtp_local_expansion *x, char **reply_r);
void	 smtp_local_expansion_deinit(struct smtp_local_expansion *x);
/*
 * Whether size more bytes fit in the target's quota (size 0: whether
 * the mailbox is under quota at all).  0 yes; -1 no or unknown, with
 * *reply_r "452 4.2.2 ... over quota" or "451 4.3.0 ...".
 */
int	 smtp_local_check_quota(struct smtp_local *l,
	    const struct smtp_local_target *t, uint64_t size, char **reply_r);

/* append a reply made here ("550 5.1.1 text") to out as an SMTP reply
 * line; -1 past out's ceiling */
int	 smtp_local_reply(struct buf *out, const char *reply);

/* in a worker: deliver msg (Return-Path already in it) to one local
 * address, following aliases/groups/forwards to local mailboxes;
 * 0 delivered; 1 permanent failure; -1 temporary failure; on 1 and
 * -1 *reply_r (caller frees) is an SMTP reply like
 * "550 5.1.1 <x@example.test>: no such user" */
int	 smtp_local_deliver(struct smtp_local *l, const char *address,
	    const char *msg, size_t len, char **reply_r);

#endif
