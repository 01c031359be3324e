/*
 * conf - the one configuration file, bastide.conf
 *
 * An INI file with one section per daemon plus shared sections ([global],
 * [ldap], [tls], [store]).  Every key is declared in a schema table with its
 * type, default and bounds; the file is checked against the schema as a
 * whole, and any unknown section or key, bad value or duplicate stops
 * start-up with "file:line: what is wrong".  The loaded struct conf owns all
 * of its strings; getters return borrowed pointers valid until conf_free().
 * Getters panic on a key that is not in the schema: that is a programming
 * error, not a configuration one.
 */
#ifndef BASTIDE_CONF_H
#define BASTIDE_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum conf_type {
	CONF_STRING,		/* any text */
	CONF_UINT,		/* decimal, within [min, max] */
	CONF_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	CONF_SIZE,		/* bytes, with optional k/m/g suffix */
	CONF_DURATION,		/* ms, s, m, h, d suffix; plain = seconds */
	CONF_ENUM,		/* one of choices ("a|b|c") */
	CONF_LIST		/* words separated by spaces or commas */
};

struct conf_key {
	const char	*section;
	const char	*name;
	enum conf_type	 type;
	const char	*def;		/* default, in file syntax */
	uint64_t	 min, max;	/* UINT, SIZE (bytes), DURATION (ms) */
	const char	*choices;	/* ENUM only */
	const char	*doc;		/* one line for conf/bastide.conf */
};

struct conf;

/* schemas is a NULL-terminated array of tables, each ended by {NULL} */
int	 conf_load(const char *path, const struct conf_key *const *schemas,
	    struct conf **conf_r, char **error_r);
/* the same from memory; name is used in error messages */
int	 conf_load_string(const char *name, const char *text,
	    const struct conf_key *const *schemas, struct conf **conf_r,
	    char **error_r);
/* defaults only, as if the file were empty */
struct conf *conf_defaults(const struct conf_key *const *schemas);
void	 conf_free(struct conf **conf);

const char *conf_str(const struct conf *conf, const char *section,
	    const char *name);
uint64_t conf_uint(const struct conf *conf, const char *section,
	    const char *name);
bool	 conf_bool(const struct conf *conf, const char *section,
	    const char *name);
uint64_t conf_size(const struct conf *conf, const char *section,
	    const char *name);
uint64_t conf_duration_ms(const struct conf *conf, const char *section,
	    const char *name);
/* the words of a CONF_LIST key, NULL-terminated, borrowed */
const char *const *conf_list(const struct conf *conf, const char *section,
	    const char *name, size_t *count_r);
/* whether the file set the key (rather than the default applying) */
bool	 conf_is_set(const struct conf *conf, const char *section,
	    const char *name);
const char *conf_path(const struct conf *conf);

/* write a documented file with every key commented out at its default */
void	 conf_write_defaults(FILE *fp, const struct conf_key *const *schemas);

/* the schema every Bastide program accepts (conf_schema.c) */
extern const struct conf_key conf_schema_bastide[];
/* [smtpd] conf_schema_smtpd.c, [queue] conf_schema_queue.c,
 * [imapd] conf_schema_imapd.c */
extern const struct conf_key conf_schema_smtpd[];
extern const struct conf_key conf_schema_queue[];
extern const struct conf_key conf_schema_imapd[];
extern const struct conf_key *const conf_schemas_bastide[];

#endif
