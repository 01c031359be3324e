/*
 * mime - what IMAP needs to know about a message, computed once
 *
 * Parses a whole RFC 5322 message (with libetpan) and produces the IMAP
 * strings that the store caches: ENVELOPE, BODYSTRUCTURE and BODY exactly
 * as RFC 3501/9051 print them (without the leading "ENVELOPE " keyword),
 * plus the raw header lines of the fields clients fetch most, and the
 * fields SORT and THREAD need.  It never fails on bad input: a message
 * that cannot be parsed gets the RFC 3501 defaults for a text/plain
 * message (US-ASCII, 7BIT) and NIL envelope fields.  libetpan types never
 * leave mime.c.
 */
#ifndef BASTIDE_MIME_H
#define BASTIDE_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct mime_summary {
	char	*envelope;	/* "(date subject from ...)" */
	char	*bodystructure;	/* with extension data */
	char	*body;		/* without extension data */
	/* raw "Name: value\r\n" lines, unfolded form kept, for the fields
	 * From To Cc Bcc Subject Date Message-ID Content-Type References
	 * In-Reply-To Reply-To Sender List-Id Priority X-Priority */
	char	*header_fields;
	size_t	 header_size;	/* bytes of the header incl. blank line */
	char	*message_id;	/* without <>, or NULL */
	char	*in_reply_to;	/* first msg-id without <>, or NULL */
	char	*references;	/* space-separated msg-ids without <>, or NULL */
	char	*base_subject;	/* RFC 5256 base subject, UTF-8 */
	time_t	 sent_date;	/* Date: header, 0 if absent or bad */
};

/* summarise msg; always succeeds, caller calls mime_summary_deinit() */
void	 mime_summarize(const char *msg, size_t len,
	    struct mime_summary *sum);
void	 mime_summary_deinit(struct mime_summary *sum);
/* RFC 5256 2.1 on an already decoded subject, in place: white space runs
 * become one space, then trailers, "Re:"/"Fwd:" prefixes, leading
 * "[blobs]" and "[fwd: ...]" wrappers go, leaving the base subject in t;
 * true when a reply or forward marker ("re", "fw", "fwd", "(fwd)",
 * "[fwd:") was among what went */
bool	 mime_subject_strip(char *t);

#endif
