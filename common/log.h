/*
 * log - syslog or stderr logging with a per-connection session id
 *
 * The session id is thread-local: the event loop sets it before it runs a
 * connection's callbacks and a worker sets it before it runs a job, so every
 * line a request causes carries the same id as the reply the client sees.
 * Never pass a password or key to these functions.
 */
#ifndef BASTIDE_LOG_H
#define BASTIDE_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE
};

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_SYSLOG
};

void	 log_init(const char *ident, enum log_target target,
	    enum log_level level);
void	 log_set_level(enum log_level level);
enum log_level log_get_level(void);
int	 log_level_parse(const char *name, enum log_level *level_r);
const char *log_level_name(enum log_level level);

/* session id of the current thread; NULL or "" clears it */
void	 log_set_session(const char *id);
const char *log_session(void);

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	 log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);   /* + strerror */
void	 log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	 log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	 log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	 log_trace(const char *fmt, ...) LOG_PRINTF(1, 2);
void	 log_msg(enum log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);
void	 log_vmsg(enum log_level level, int with_errno, const char *fmt,
	    va_list ap) LOG_PRINTF(3, 0);

/* startup failures: log and exit(1) */
void	 fatal(const char *fmt, ...) LOG_PRINTF(1, 2)
	    __attribute__((noreturn));			/* + strerror */
void	 fatalx(const char *fmt, ...) LOG_PRINTF(1, 2)
	    __attribute__((noreturn));
/* broken invariant: log and abort() for a core dump */
void	 panic(const char *fmt, ...) LOG_PRINTF(1, 2)
	    __attribute__((noreturn));

#endif
