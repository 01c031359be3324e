/*
 * daemon - what every Bastide daemon does before and around its loop
 *
 * Options (-c CONFIG, -f, -d, -n), loading the config with a file:line
 * error, logging set-up, the pid file, the descriptor limit, the
 * directories a daemon needs, and the signals: SIGTERM/SIGINT drain and
 * exit, SIGHUP reloads (the config, the certificate).  The daemon owns the loop; this module
 * only calls back into it.
 */
#ifndef BASTIDE_DAEMON_H
#define BASTIDE_DAEMON_H

#include <sys/types.h>

#include <stdbool.h>

struct conf;
struct conf_key;
struct event_base;
struct tls_ctx;

struct daemon_opts {
	const char	*name;		/* "bastide-imapd" */
	const char	*config_path;
	bool		 detach;	/* -d: run in the background */
	bool		 check_only;	/* -n: check the config and exit */
	bool		 debug;		/* -v: log level debug, to stderr */
};

#define DAEMON_DEFAULT_CONFIG	"/etc/bastide/bastide.conf"

/* parse argv; prints usage and exits on a bad option */
void	 daemon_parse_args(int argc, char **argv, const char *name,
	    struct daemon_opts *opts);
/* load the config or exit with "file:line: what is wrong" */
struct conf *daemon_load_conf(const struct daemon_opts *opts,
	    const struct conf_key *const *schemas);
/* SIGHUP: read the file again; on success free *conf, put the new one in
 * its place, apply log_level and return 0; on any error log it, keep the
 * running *conf and return -1.  Modules copy what they keep from a conf,
 * so the old one can go. */
int	 daemon_reload_conf(const struct daemon_opts *opts,
	    const struct conf_key *const *schemas, struct conf **conf);
/* set up logging from [global] log and log_level */
void	 daemon_setup_log(const struct daemon_opts *opts,
	    const struct conf *conf);
/* detach if asked, write <run_dir>/<name>.pid; exits on failure */
void	 daemon_start(const struct daemon_opts *opts, const struct conf *conf);
/* remove the pid file */
void	 daemon_stop(const struct daemon_opts *opts, const struct conf *conf);

/* raise the soft RLIMIT_NOFILE to the hard one (a warning if refused) */
void	 daemon_raise_nofile(void);
/* path and its missing parents, like mkdir -p; -1 with *error_r
 * ("mkdir(dir): why") */
int	 daemon_mkdirs(const char *path, mode_t mode, char **error_r);
/* SIGHUP: a new certificate for new handshakes, or keep the old one and
 * log why; tls may be NULL (no TLS: nothing to do) */
void	 daemon_reload_tls(struct tls_ctx *tls);

typedef void daemon_signal_fn(void *arg);
/* on_term runs on SIGTERM or SIGINT, on_hup on SIGHUP, on the loop */
void	 daemon_signals_init(struct event_base *base,
	    daemon_signal_fn *on_term, daemon_signal_fn *on_hup, void *arg);
void	 daemon_signals_deinit(void);

#endif
