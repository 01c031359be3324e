/* imap_background.c - background downloads announced in ID, and load */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "imap_background.h"
#include "imap_parse.h"
#include "imap_section.h"

/* the iOS Mail "event" words that mean a background download (TN3189) */
static const char *const background_events[] = { "back-fill", "indexer" };

/* id_value - the value of field key, NULL when absent or NIL */
static const char *
id_value(const char *const *keys, const char *const *values, size_t n,
    const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keys[i] != NULL && strcasecmp(keys[i], key) == 0)
			return values[i];
	return NULL;
}

/* word_in - whether word[0..len) is one of the words of list, split at
 * any byte of seps, compared without case */
static bool
word_in(const char *list, const char *seps, const char *word, size_t len)
{
	const char *p = list;
	size_t n;

	while (*p != '\0') {
		p += strspn(p, seps);
		n = strcspn(p, seps);
		if (n > 0 && n == len && strncasecmp(p, word, len) == 0)
			return true;
		p += n;
	}
	return false;
}

/* imap_background_id - whether an ID announces a background download */
bool
imap_background_id(const char *const *keys, const char *const *values,
    size_t n, const char *clients)
{
	const char *name, *event;
	size_t i;

	name = id_value(keys, values, n, "name");
	if (name == NULL)
		return false;
	if (clients != NULL && word_in(clients, " ", name, strlen(name)))
		return true;
	/* TN3189: "event" counts only from Apple's clients */
	if (strncasecmp(name, "com.apple.", 10) != 0)
		return false;
	event = id_value(keys, values, n, "event");
	if (event == NULL)
		return false;
	for (i = 0; i < sizeof(background_events) /
	    sizeof(background_events[0]); i++)
		if (word_in(event, ", ", background_events[i],
		    strlen(background_events[i])))
			return true;
	return false;
}

/* imap_background_fetch_bodies - whether a FETCH downloads bodies */
bool
imap_background_fetch_bodies(const struct imap_fetch *f)
{
	const struct imap_fetch_item *it;
	size_t i;

	for (i = 0; i < f->count; i++) {
		it = &f->items[i];
		switch (it->att) {
		case IMAP_FETCH_RFC822:
		case IMAP_FETCH_RFC822_TEXT:
		case IMAP_FETCH_BINARY:
			return true;
		case IMAP_FETCH_BODY_SECTION:
			if (it->section == NULL ||
			    it->section->kind == IMAP_SECTION_ALL ||
			    it->section->kind == IMAP_SECTION_TEXT)
				return true;
			break;
		default:
			break;
		}
	}
	return false;
}

/* imap_background_busy - more jobs than busy_jobs in the pool */
bool
imap_background_busy(unsigned int pending, unsigned int busy_jobs)
{
	return pending > busy_jobs || busy_jobs == 0;
}
