/* conf.c - load and check bastide.conf against the schema */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "str.h"
#include "xmalloc.h"

#define CONF_MAX_LINE	4096

struct conf_value {
	const struct conf_key	*key;
	char			*text;		/* as written, or the default */
	uint64_t		 num;		/* UINT, SIZE, DURATION, BOOL */
	char			**words;	/* LIST */
	size_t			 nwords;
	unsigned int		 line;		/* 0 = default */
};

struct conf {
	char			*path;
	struct conf_value	*values;
	size_t			 nvalues;
};

/* conf_parse_bool - the spellings of yes and no we accept */
static int
conf_parse_bool(const char *s, uint64_t *r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*r = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*r = 0;
			return 0;
		}
	}
	return -1;
}

/* conf_parse_scaled - a number with a unit suffix from the table */
static int
conf_parse_scaled(const char *s, const char *const *units,
    const uint64_t *scale, size_t nunits, uint64_t *r)
{
	char digits[32];
	size_t n, i;
	uint64_t v;
	const char *unit;

	n = strspn(s, "0123456789");
	if (n == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (str_to_u64(digits, 0, UINT64_MAX, &v) < 0)
		return -1;
	unit = s + n;
	while (*unit == ' ')
		unit++;
	for (i = 0; i < nunits; i++) {
		if (strcasecmp(unit, units[i]) == 0) {
			if (scale[i] != 0 && v > UINT64_MAX / scale[i])
				return -1;
			*r = v * scale[i];
			return 0;
		}
	}
	return -1;
}

/* conf_parse_value - check text against its key; error text on failure */
static int
conf_parse_value(struct conf_value *val, const char *text, char **error_r)
{
	static const char *const size_units[] = {
		"", "b", "k", "kb", "m", "mb", "g", "gb"
	};
	static const uint64_t size_scale[] = {
		1, 1, 1024, 1024, 1048576, 1048576, 1073741824, 1073741824
	};
	static const char *const dur_units[] = {
		"", "ms", "s", "m", "min", "h", "d"
	};
	static const uint64_t dur_scale[] = {
		1000, 1, 1000, 60000, 60000, 3600000, 86400000
	};
	const struct conf_key *key = val->key;
	uint64_t v = 0;
	char **choices;
	size_t i;
	int ok;

	switch (key->type) {
	case CONF_STRING:
		break;
	case CONF_BOOL:
		if (conf_parse_bool(text, &v) < 0) {
			*error_r = xasprintf("'%s' must be yes or no, not '%s'",
			    key->name, text);
			return -1;
		}
		break;
	case CONF_UINT:
		if (str_to_u64(text, key->min, key->max, &v) < 0) {
			*error_r = xasprintf("'%s' must be a whole number from "
			    "%llu to %llu, not '%s'", key->name,
			    (unsigned long long)key->min,
			    (unsigned long long)key->max, text);
			return -1;
		}
		break;
	case CONF_SIZE:
		if (conf_parse_scaled(text, size_units, size_scale, 8, &v) < 0 ||
		    v < key->min || v > key->max) {
			*error_r = xasprintf("'%s' must be a size from %llu to "
			    "%llu bytes (suffix k, m or g allowed), not '%s'",
			    key->name, (unsigned long long)key->min,
			    (unsigned long long)key->max, text);
			return -1;
		}
		break;
	case CONF_DURATION:
		if (conf_parse_scaled(text, dur_units, dur_scale, 7, &v) < 0 ||
		    v < key->min || v > key->max) {
			*error_r = xasprintf("'%s' must be a duration from "
			    "%llums to %llums (suffix ms, s, m, h or d), not "
			    "'%s'", key->name, (unsigned long long)key->min,
			    (unsigned long long)key->max, text);
			return -1;
		}
		break;
	case CONF_ENUM:
		choices = str_split(key->choices, "|", NULL);
		ok = 0;
		for (i = 0; choices[i] != NULL; i++)
			if (strcasecmp(choices[i], text) == 0)
				ok = 1;
		str_split_free(&choices);
		if (!ok) {
			*error_r = xasprintf("'%s' must be one of %s, not '%s'",
			    key->name, key->choices, text);
			return -1;
		}
		break;
	case CONF_LIST:
		break;
	}
	free(val->text);
	val->text = xstrdup(text);
	val->num = v;
	if (key->type == CONF_LIST) {
		str_split_free(&val->words);
		val->words = str_split(text, " \t,", &val->nwords);
	}
	return 0;
}

/* conf_new_defaults - one value per schema key, set to its default */
static struct conf *
conf_new_defaults(const struct conf_key *const *schemas)
{
	struct conf *conf;
	const struct conf_key *key;
	size_t n = 0, i;
	char *error;

	for (i = 0; schemas[i] != NULL; i++)
		for (key = schemas[i]; key->section != NULL; key++)
			n++;
	conf = xcalloc(1, sizeof(*conf));
	conf->values = xcalloc(n, sizeof(*conf->values));
	for (i = 0; schemas[i] != NULL; i++) {
		for (key = schemas[i]; key->section != NULL; key++) {
			struct conf_value *val = &conf->values[conf->nvalues++];

			val->key = key;
			if (conf_parse_value(val, key->def, &error) < 0)
				panic("conf schema: default of [%s] %s: %s",
				    key->section, key->name, error);
		}
	}
	return conf;
}

/* conf_find - the value slot for section/name, NULL if not in schema */
static struct conf_value *
conf_find(const struct conf *conf, const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < conf->nvalues; i++) {
		const struct conf_key *key = conf->values[i].key;

		if (strcasecmp(key->section, section) == 0 &&
		    strcasecmp(key->name, name) == 0)
			return &conf->values[i];
	}
	return NULL;
}

/* conf_has_section - whether any schema key lives in section */
static int
conf_has_section(const struct conf *conf, const char *section)
{
	size_t i;

	for (i = 0; i < conf->nvalues; i++)
		if (strcasecmp(conf->values[i].key->section, section) == 0)
			return 1;
	return 0;
}

/* conf_parse_line - one line of the file; -1 with *error_r set */
static int
conf_parse_line(struct conf *conf, char *line, unsigned int lineno,
    char **section, char **error_r)
{
	struct conf_value *val;
	char *p, *key, *value, *end, *msg;
	size_t len;

	p = str_trim(line);
	if (*p == '\0' || *p == '#' || *p == ';')
		return 0;
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL || end[1] != '\0') {
			*error_r = xasprintf("malformed section header '%s'", p);
			return -1;
		}
		*end = '\0';
		p = str_trim(p + 1);
		if (!conf_has_section(conf, p)) {
			*error_r = xasprintf("unknown section [%s]", p);
			return -1;
		}
		free(*section);
		*section = xstrdup(p);
		return 0;
	}
	value = strchr(p, '=');
	if (value == NULL) {
		*error_r = xasprintf("expected 'key = value', got '%s'", p);
		return -1;
	}
	*value++ = '\0';
	key = str_trim(p);
	value = str_trim(value);
	if (*key == '\0') {
		*error_r = xstrdup("missing key name before '='");
		return -1;
	}
	if (*section == NULL) {
		*error_r = xasprintf("key '%s' outside any [section]", key);
		return -1;
	}
	/* double quotes keep leading or trailing spaces */
	len = strlen(value);
	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		value[len - 1] = '\0';
		value++;
	}
	val = conf_find(conf, *section, key);
	if (val == NULL) {
		*error_r = xasprintf("unknown key '%s' in [%s]", key, *section);
		return -1;
	}
	if (val->line != 0) {
		*error_r = xasprintf("'%s' in [%s] is already set on line %u",
		    key, *section, val->line);
		return -1;
	}
	if (conf_parse_value(val, value, &msg) < 0) {
		*error_r = xasprintf("bad value in [%s]: %s", *section, msg);
		free(msg);
		return -1;
	}
	val->line = lineno;
	return 0;
}

/* conf_parse_text - parse a whole file's text into conf */
static int
conf_parse_text(struct conf *conf, const char *name, const char *text,
    char **error_r)
{
	char *section = NULL, *msg = NULL;
	char line[CONF_MAX_LINE + 1];
	const char *p = text, *nl;
	unsigned int lineno = 0;
	size_t len;
	int r = 0;

	while (*p != '\0') {
		lineno++;
		nl = strchr(p, '\n');
		len = nl == NULL ? strlen(p) : (size_t)(nl - p);
		if (len > CONF_MAX_LINE) {
			*error_r = xasprintf("%s:%u: line longer than %d bytes",
			    name, lineno, CONF_MAX_LINE);
			r = -1;
			break;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		if (memchr(p, '\0', len) != NULL ||
		    conf_parse_line(conf, line, lineno, &section, &msg) < 0) {
			*error_r = xasprintf("%s:%u: %s", name, lineno,
			    msg != NULL ? msg : "NUL byte in line");
			free(msg);
			r = -1;
			break;
		}
		p = nl == NULL ? p + len : nl + 1;
	}
	free(section);
	return r;
}

/* conf_load_string - parse text as if it were a file called name */
int
conf_load_string(const char *name, const char *text,
    const struct conf_key *const *schemas, struct conf **conf_r,
    char **error_r)
{
	struct conf *conf;

	conf = conf_new_defaults(schemas);
	conf->path = xstrdup(name);
	if (conf_parse_text(conf, name, text, error_r) < 0) {
		conf_free(&conf);
		return -1;
	}
	*conf_r = conf;
	return 0;
}

/* conf_load - read and check a config file */
int
conf_load(const char *path, const struct conf_key *const *schemas,
    struct conf **conf_r, char **error_r)
{
	struct buf text;
	char chunk[8192];
	FILE *fp;
	size_t n;
	int r;

	fp = fopen(path, "r");
	if (fp == NULL) {
		*error_r = xasprintf("%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	buf_init(&text, 16 * 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (buf_append(&text, chunk, n) < 0) {
			*error_r = xasprintf("%s: file too large", path);
			fclose(fp);
			buf_deinit(&text);
			return -1;
		}
	}
	if (ferror(fp)) {
		*error_r = xasprintf("%s: read error: %s", path,
		    strerror(errno));
		fclose(fp);
		buf_deinit(&text);
		return -1;
	}
	fclose(fp);
	if (memchr(buf_ptr(&text), '\0', buf_avail(&text)) != NULL) {
		*error_r = xasprintf("%s: contains a NUL byte", path);
		buf_deinit(&text);
		return -1;
	}
	r = conf_load_string(path, buf_cstr(&text), schemas, conf_r,
	    error_r);
	buf_deinit(&text);
	return r;
}

/* conf_defaults - a conf with every key at its default */
struct conf *
conf_defaults(const struct conf_key *const *schemas)
{
	struct conf *conf;

	conf = conf_new_defaults(schemas);
	conf->path = xstrdup("(defaults)");
	return conf;
}

/* conf_free - free everything conf owns */
void
conf_free(struct conf **confp)
{
	struct conf *conf = *confp;
	size_t i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nvalues; i++) {
		free(conf->values[i].text);
		str_split_free(&conf->values[i].words);
	}
	free(conf->values);
	free(conf->path);
	free(conf);
	*confp = NULL;
}

/* conf_get - the slot of a schema key of the given type, or panic */
static const struct conf_value *
conf_get(const struct conf *conf, const char *section, const char *name,
    enum conf_type type)
{
	const struct conf_value *val;

	val = conf_find(conf, section, name);
	if (val == NULL)
		panic("conf: [%s] %s is not in the schema", section, name);
	if (val->key->type != type)
		panic("conf: [%s] %s read with the wrong type", section, name);
	return val;
}

/* conf_str - a string key; "" when unset and without default */
const char *
conf_str(const struct conf *conf, const char *section, const char *name)
{
	const struct conf_value *val;

	val = conf_find(conf, section, name);
	if (val == NULL)
		panic("conf: [%s] %s is not in the schema", section, name);
	return val->text;
}

/* conf_uint - a whole-number key */
uint64_t
conf_uint(const struct conf *conf, const char *section, const char *name)
{
	return conf_get(conf, section, name, CONF_UINT)->num;
}

/* conf_bool - a yes/no key */
bool
conf_bool(const struct conf *conf, const char *section, const char *name)
{
	return conf_get(conf, section, name, CONF_BOOL)->num != 0;
}

/* conf_size - a size key, in bytes */
uint64_t
conf_size(const struct conf *conf, const char *section, const char *name)
{
	return conf_get(conf, section, name, CONF_SIZE)->num;
}

/* conf_duration_ms - a duration key, in milliseconds */
uint64_t
conf_duration_ms(const struct conf *conf, const char *section,
    const char *name)
{
	return conf_get(conf, section, name, CONF_DURATION)->num;
}

/* conf_list - the words of a list key */
const char *const *
conf_list(const struct conf *conf, const char *section, const char *name,
    size_t *count_r)
{
	const struct conf_value *val;

	val = conf_get(conf, section, name, CONF_LIST);
	if (count_r != NULL)
		*count_r = val->nwords;
	return (const char *const *)val->words;
}

/* conf_is_set - whether the file gave the key a value */
bool
conf_is_set(const struct conf *conf, const char *section, const char *name)
{
	const struct conf_value *val;

	val = conf_find(conf, section, name);
	if (val == NULL)
		panic("conf: [%s] %s is not in the schema", section, name);
	return val->line != 0;
}

/* conf_path - the file this conf came from */
const char *
conf_path(const struct conf *conf)
{
	return conf->path;
}

/* conf_write_defaults - every section and key, documented, commented out */
void
conf_write_defaults(FILE *fp, const struct conf_key *const *schemas)
{
	const struct conf_key *key;
	const char *section = NULL;
	size_t i;

	for (i = 0; schemas[i] != NULL; i++) {
		for (key = schemas[i]; key->section != NULL; key++) {
			if (section == NULL ||
			    strcmp(section, key->section) != 0) {
				fprintf(fp, "%s[%s]\n", section ? "\n" : "",
				    key->section);
				section = key->section;
			}
			fprintf(fp, "\n# %s\n", key->doc);
			if (key->type == CONF_ENUM)
				fprintf(fp, "# one of: %s\n", key->choices);
			fprintf(fp, "#%s = %s\n", key->name, key->def);
		}
	}
}
