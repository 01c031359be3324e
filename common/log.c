/* log.c - syslog or stderr logging with a per-thread session id */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "bastide";
static enum log_target log_target = LOG_TARGET_STDERR;
static enum log_level log_level = LOG_LEVEL_INFO;
static _Thread_local char log_session_id[32];

static const char *const log_level_names[] = {
	"error", "warning", "info", "debug", "trace"
};

/* log_init - choose where lines go and how much is logged */
void
log_init(const char *ident, enum log_target target, enum log_level level)
{
	log_ident = ident;
	log_target = target;
	log_level = level;
	if (target == LOG_TARGET_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_set_level - change the threshold, for example on reload */
void
log_set_level(enum log_level level)
{
	log_level = level;
}

/* log_get_level - the current threshold */
enum log_level
log_get_level(void)
{
	return log_level;
}

/* log_level_parse - map "info", "debug", ... to a level; -1 if unknown */
int
log_level_parse(const char *name, enum log_level *level_r)
{
	size_t i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(*log_level_names);
	    i++) {
		if (strcasecmp(name, log_level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* log_level_name - the config name of a level */
const char *
log_level_name(enum log_level level)
{
	return log_level_names[level];
}

/* log_set_session - tag this thread's following lines with a session id */
void
log_set_session(const char *id)
{
	if (id == NULL)
		id = "";
	snprintf(log_session_id, sizeof(log_session_id), "%s", id);
}

/* log_session - the current thread's session id, "" when none */
const char *
log_session(void)
{
	return log_session_id;
}

/* log_vmsg - format one line and send it to the chosen target */
void
log_vmsg(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	static const int prio[] = {
		LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG
	};
	char line[2048];
	int saved_errno = errno;
	size_t len;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (with_errno) {
		len = strlen(line);
		snprintf(line + len, sizeof(line) - len, ": %s",
		    strerror(saved_errno));
	}
	if (log_target == LOG_TARGET_SYSLOG) {
		if (log_session_id[0] != '\0')
			syslog(prio[level], "[%s] %s", log_session_id, line);
		else
			syslog(prio[level], "%s", line);
	} else {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		/* one fprintf per line so that threads do not interleave */
		fprintf(stderr, "%s.%03ldZ %s[%ld] %s: %s%s%s%s\n", stamp,
		    ts.tv_nsec / 1000000, log_ident, (long)getpid(),
		    log_level_names[level],
		    log_session_id[0] ? "[" : "", log_session_id,
		    log_session_id[0] ? "] " : "", line);
	}
	errno = saved_errno;
}

/* log_msg - log at an explicit level */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
}

#define LOG_FN(name, level, with_errno)				\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	log_vmsg(level, with_errno, fmt, ap);				\
	va_end(ap);							\
}

/* log_warn - a warning with strerror(errno) appended */
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
/* log_warnx - a warning */
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
/* log_info - normal operation */
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
/* log_debug - details for an admin chasing a problem */
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)
/* log_trace - protocol traces and state changes */
LOG_FN(log_trace, LOG_LEVEL_TRACE, 0)

/* fatal - log with strerror(errno) and exit */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

/* fatalx - log and exit */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* panic - a broken invariant: log and abort for a core dump */
void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERR, 0, fmt, ap);
	va_end(ap);
	abort();
}
