/* daemon.c - options, config, pid file and signals for every daemon */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "tls.h"
#include "xmalloc.h"

struct daemon_signals {
	struct event		*term, *intr, *hup;
	daemon_signal_fn	*on_term, *on_hup;
	void			*arg;
};

static struct daemon_signals daemon_sig;

/* daemon_usage - the options every daemon takes */
static void __attribute__((noreturn))
daemon_usage(const char *name)
{
	fprintf(stderr, "usage: %s [-dfnv] [-c config]\n"
	    "  -c config  configuration file (default %s)\n"
	    "  -f         stay in the foreground (the default)\n"
	    "  -d         detach into the background\n"
	    "  -n         check the configuration and exit\n"
	    "  -v         log at debug level to stderr\n",
	    name, DAEMON_DEFAULT_CONFIG);
	exit(2);
}

/* daemon_parse_args - the common command line */
void
daemon_parse_args(int argc, char **argv, const char *name,
    struct daemon_opts *opts)
{
	int ch;

	memset(opts, 0, sizeof(*opts));
	opts->name = name;
	opts->config_path = DAEMON_DEFAULT_CONFIG;
	while ((ch = getopt(argc, argv, "c:dfnvh")) != -1) {
		switch (ch) {
		case 'c':
			opts->config_path = optarg;
			break;
		case 'd':
			opts->detach = true;
			break;
		case 'f':
			opts->detach = false;
			break;
		case 'n':
			opts->check_only = true;
			break;
		case 'v':
			opts->debug = true;
			break;
		default:
			daemon_usage(name);
		}
	}
	if (optind != argc)
		daemon_usage(name);
}

/* daemon_load_conf - the config, or exit with its file:line error */
struct conf *
daemon_load_conf(const struct daemon_opts *opts,
    const struct conf_key *const *schemas)
{
	struct conf *conf;
	char *error;

	if (conf_load(opts->config_path, schemas, &conf, &error) < 0) {
		fprintf(stderr, "%s: %s\n", opts->name, error);
		log_warnx("%s", error);
		free(error);
		exit(1);
	}
	return conf;
}

/* daemon_reload_conf - swap in the re-read config, or keep the old one */
int
daemon_reload_conf(const struct daemon_opts *opts,
    const struct conf_key *const *schemas, struct conf **conf)
{
	struct conf *fresh;
	enum log_level level;
	char *error;

	if (conf_load(opts->config_path, schemas, &fresh, &error) < 0) {
		log_warnx("reload: %s; keeping the running configuration",
		    error);
		free(error);
		return -1;
	}
	if (log_level_parse(conf_str(fresh, "global", "log_level"),
	    &level) < 0)
		panic("log_level passed the schema but is unknown");
	if (!opts->debug)
		log_set_level(level);
	conf_free(conf);
	*conf = fresh;
	log_info("reload: %s read", opts->config_path);
	return 0;
}

/* daemon_setup_log - syslog or stderr at the configured level */
void
daemon_setup_log(const struct daemon_opts *opts, const struct conf *conf)
{
	enum log_level level = LOG_LEVEL_INFO;
	enum log_target target = LOG_TARGET_STDERR;

	if (log_level_parse(conf_str(conf, "global", "log_level"), &level) < 0)
		panic("log_level passed the schema but is unknown");
	if (strcmp(conf_str(conf, "global", "log"), "syslog") == 0)
		target = LOG_TARGET_SYSLOG;
	if (opts->debug) {
		level = level < LOG_LEVEL_DEBUG ? LOG_LEVEL_DEBUG : level;
		target = LOG_TARGET_STDERR;
	}
	log_init(opts->name, target, level);
}

/* daemon_pidfile_path - <run_dir>/<name>.pid, caller frees */
static char *
daemon_pidfile_path(const struct daemon_opts *opts, const struct conf *conf)
{
	return xasprintf("%s/%s.pid", conf_str(conf, "global", "run_dir"),
	    opts->name);
}

/* daemon_start - detach if asked, then write the pid file */
void
daemon_start(const struct daemon_opts *opts, const struct conf *conf)
{
	char *path, line[32];
	int fd, n;

	if (opts->detach && daemon(1, 0) < 0)
		fatal("daemon");
	path = daemon_pidfile_path(opts, conf);
	if (mkdir(conf_str(conf, "global", "run_dir"), 0755) < 0 &&
	    errno != EEXIST)
		fatal("mkdir(%s)", conf_str(conf, "global", "run_dir"));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fatal("open(%s)", path);
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)n) != n || close(fd) < 0)
		fatal("write(%s)", path);
	free(path);
}

/* daemon_stop - remove the pid file on the way out */
void
daemon_stop(const struct daemon_opts *opts, const struct conf *conf)
{
	char *path;

	path = daemon_pidfile_path(opts, conf);
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("unlink(%s)", path);
	free(path);
}

/* daemon_raise_nofile - as many descriptors as we are allowed */
void
daemon_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
}

/* daemon_mkdirs - path and its parents, like mkdir -p */
int
daemon_mkdirs(const char *path, mode_t mode, char **error_r)
{
	char *p, *slash;
	int r = 0;

	if (path[0] == '\0') {
		*error_r = xstrdup("mkdir: empty path");
		return -1;
	}
	p = xstrdup(path);
	for (slash = strchr(p + 1, '/'); ; slash = strchr(slash + 1, '/')) {
		if (slash != NULL)
			*slash = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			*error_r = xasprintf("mkdir(%s): %s", p,
			    strerror(errno));
			r = -1;
			break;
		}
		if (slash == NULL)
			break;
		*slash = '/';
	}
	free(p);
	return r;
}

/* daemon_reload_tls - SIGHUP: the certificate and key again */
void
daemon_reload_tls(struct tls_ctx *tls)
{
	char *error;

	if (tls == NULL)
		return;
	if (tls_ctx_reload(tls, &error) < 0) {
		log_warnx("TLS reload failed, keeping the old certificate: %s",
		    error);
		free(error);
		return;
	}
	log_info("TLS certificate reloaded");
}

/* daemon_on_signal - libevent callback, runs on the loop thread */
static void
daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading");
		if (daemon_sig.on_hup != NULL)
			daemon_sig.on_hup(daemon_sig.arg);
	} else {
		log_info("%s: shutting down",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		if (daemon_sig.on_term != NULL)
			daemon_sig.on_term(daemon_sig.arg);
	}
}

/* daemon_signals_init - route SIGTERM, SIGINT, SIGHUP into the loop */
void
daemon_signals_init(struct event_base *base, daemon_signal_fn *on_term,
    daemon_signal_fn *on_hup, void *arg)
{
	signal(SIGPIPE, SIG_IGN);
	daemon_sig.on_term = on_term;
	daemon_sig.on_hup = on_hup;
	daemon_sig.arg = arg;
	daemon_sig.term = evsignal_new(base, SIGTERM, daemon_on_signal, NULL);
	daemon_sig.intr = evsignal_new(base, SIGINT, daemon_on_signal, NULL);
	daemon_sig.hup = evsignal_new(base, SIGHUP, daemon_on_signal, NULL);
	if (daemon_sig.term == NULL || daemon_sig.intr == NULL ||
	    daemon_sig.hup == NULL || event_add(daemon_sig.term, NULL) < 0 ||
	    event_add(daemon_sig.intr, NULL) < 0 ||
	    event_add(daemon_sig.hup, NULL) < 0)
		fatalx("cannot register signal handlers");
}

/* daemon_signals_deinit - unregister the signal events */
void
daemon_signals_deinit(void)
{
	if (daemon_sig.term != NULL)
		event_free(daemon_sig.term);
	if (daemon_sig.intr != NULL)
		event_free(daemon_sig.intr);
	if (daemon_sig.hup != NULL)
		event_free(daemon_sig.hup);
	memset(&daemon_sig, 0, sizeof(daemon_sig));
}
