/*
 * conf_schema_imapd.c - [imapd] - bastide-imapd: listeners, limits, sessions
 *
 * Part of the one schema of bastide.conf (see conf_schema.c); kept in its
 * own file so each daemon's keys stay together.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define MS	1ULL
#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

const struct conf_key conf_schema_imapd[] = {
	{ NULL }
};
