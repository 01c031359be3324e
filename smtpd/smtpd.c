/*
 * smtpd.c - bastide-smtpd: ESMTP for MX and submission, LMTP, the queue
 *
 * Wires common/ together: the config, TLS, the directory, the store, the
 * worker pool, one net server whose listeners carry their role
 * (smtp_rcpt.h enum smtp_role) as a tag, the sessions (smtp_session.c),
 * the outbound queue (outq.h) and its control socket
 * <run_dir>/bastide-smtpd.sock, which bastidectl queue talks to.
 *
 * Signals: SIGTERM/SIGINT drain the sessions and exit; SIGHUP re-reads
 * bastide.conf (session settings, hosted domains, [queue], the
 * certificate; listeners and [ldap]/[store] need a restart).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "authfail.h"
#include "buf.h"
#include "conf.h"
#include "ctlsock.h"
#include "daemon.h"
#include "directory.h"
#include "log.h"
#include "net.h"
#include "priv.h"
#include "queue.h"
#include "store.h"
#include "tls.h"
#include "workers.h"
#include "xmalloc.h"

#include "outq.h"
#include "smtp_local.h"
#include "smtp_rcpt.h"
#include "smtp_session.h"

#define SMTPD_NAME		"bastide-smtpd"
#define SMTPD_AUTHFAIL_IPS	100000	/* addresses authfail remembers */

struct smtpd {
	struct daemon_opts	 opts;
	struct conf		*conf;
	struct event_base	*base;
	struct tls_ctx		*tls;
	struct workers		*workers;
	struct net_server	*srv;
	struct smtp_server	 ss;
	struct ctlsock		*ctl;
};

/* the listener keys and their roles */
static const struct {
	const char	*key;
	enum smtp_role	 role;
	bool		 tls;
} smtpd_listeners[] = {
	{ "mx_listen", SMTP_ROLE_MX, false },
	{ "submission_listen", SMTP_ROLE_SUBMISSION, false },
	{ "submissions_listen", SMTP_ROLE_SUBMISSIONS, true },
	{ "lmtp_listen", SMTP_ROLE_LMTP, false },
};

#define NLISTENERS	(sizeof(smtpd_listeners) / sizeof(smtpd_listeners[0]))

/* smtpd_forward - smtp_local's hook: queue remote parts of local mail */
static int
smtpd_forward(void *arg, const char *sender, char *const *rcpts,
    size_t nrcpts, const char *msg, size_t len, char **error_r)
{
	struct outq *q = arg;
	struct queue_env *env;
	size_t i;
	int r;

	env = queue_env_new("", (int64_t)time(NULL), sender);
	for (i = 0; i < nrcpts; i++)
		(void)queue_env_add_rcpt(env, rcpts[i]);
	r = outq_enqueue(q, msg, len, env, error_r);
	if (r == 0)
		log_info("forwarded to %zu recipients, queued as %s", nrcpts,
		    env->id);
	queue_env_free(&env);
	return r;
}

/* smtpd_control - one line on the control socket */
static void
smtpd_control(void *arg, const char *line, struct buf *out)
{
	struct smtpd *d = arg;

	log_info("control: %s", line);
	if (d->ss.outq == NULL) {
		(void)buf_append_str(out, "ERR starting\n");
		return;
	}
	(void)outq_control(d->ss.outq, line, out);
}

/* smtpd_on_term - SIGTERM: drain */
static void
smtpd_on_term(void *arg)
{
	struct smtpd *d = arg;

	net_shutdown(d->srv, conf_duration_ms(d->conf, "global",
	    "shutdown_timeout"));
}

/* smtpd_on_hup - SIGHUP: new settings for new sessions */
static void
smtpd_on_hup(void *arg)
{
	struct smtpd *d = arg;
	struct smtp_settings *set;
	char *error;

	if (daemon_reload_conf(&d->opts, conf_schemas_bastide, &d->conf) < 0)
		return;
	if (smtp_settings_new(d->conf, &set, &error) < 0) {
		log_warnx("reload: %s; keeping the old [smtpd] settings",
		    error);
		free(error);
	} else {
		smtp_settings_unref(&d->ss.set);
		d->ss.set = set;
	}
	smtp_local_reload(d->ss.local, d->conf);
	outq_reload(d->ss.outq, d->conf);
	directory_cache_clear(d->ss.dir);
	daemon_reload_tls(d->tls);
	log_info("configuration reloaded");
}

/* smtpd_need_tls - whether some listener needs a certificate */
static bool
smtpd_need_tls(const struct conf *conf)
{
	size_t n;

	(void)conf_list(conf, "smtpd", "submissions_listen", &n);
	return n > 0;
}

/* smtpd_listen - every listener of every role */
static void
smtpd_listen(struct smtpd *d)
{
	const char *const *addrs;
	char *error;
	size_t i, k, n, total = 0;

	for (k = 0; k < NLISTENERS; k++) {
		addrs = conf_list(d->conf, "smtpd", smtpd_listeners[k].key,
		    &n);
		for (i = 0; i < n; i++) {
			if (net_listen_tag(d->srv, addrs[i],
			    smtpd_listeners[k].tls, smtpd_listeners[k].role,
			    &error) < 0)
				fatalx("%s", error);
			log_info("listening on %s, role %s", addrs[i],
			    smtp_role_name(smtpd_listeners[k].role));
			total++;
		}
	}
	if (total == 0)
		fatalx("%s: [smtpd] has no listeners", conf_path(d->conf));
}

/* main - load the config, listen, serve until SIGTERM */
int
main(int argc, char **argv)
{
	struct smtpd d;
	struct net_limits limits;
	size_t ndomains;
	char *error, *path;

	memset(&d, 0, sizeof(d));
	daemon_parse_args(argc, argv, SMTPD_NAME, &d.opts);
	d.conf = daemon_load_conf(&d.opts, conf_schemas_bastide);
	daemon_setup_log(&d.opts, d.conf);
	if (smtpd_need_tls(d.conf) || conf_is_set(d.conf, "tls",
	    "cert_file")) {
		if (tls_ctx_new(d.conf, &d.tls, &error) < 0)
			fatalx("%s", error);
	}
	if (smtp_settings_new(d.conf, &d.ss.set, &error) < 0)
		fatalx("%s", error);
	if (d.opts.check_only) {
		smtp_settings_unref(&d.ss.set);
		tls_ctx_free(&d.tls);
		conf_free(&d.conf);
		return 0;
	}
	(void)conf_list(d.conf, "smtpd", "domains", &ndomains);
	if (ndomains == 0)
		log_warnx("[smtpd] domains is empty: no mail is local, the mx "
		    "role accepts nothing");
	daemon_raise_nofile();
	d.base = event_base_new();
	if (d.base == NULL)
		fatalx("event_base_new failed");
	if (directory_new(d.conf, &d.ss.dir, &error) < 0)
		fatalx("%s", error);
	d.ss.store = store_new_conf(d.conf);
	d.ss.local = smtp_local_new(d.conf, d.ss.dir, d.ss.store);
	d.ss.authfail = authfail_new(
	    (unsigned int)conf_uint(d.conf, "smtpd", "auth_max_failures"),
	    conf_duration_ms(d.conf, "smtpd", "auth_failure_window"),
	    conf_duration_ms(d.conf, "smtpd", "auth_ban_time"),
	    SMTPD_AUTHFAIL_IPS);
	d.ss.base = d.base;
	d.ss.tls = d.tls != NULL;

	net_limits_default(&limits);
	net_limits_from_conf(&limits, d.conf, "smtpd");
	limits.refuse_line = "421 4.7.0 Too many connections, try again "
	    "later";
	d.srv = net_server_new(d.base, &limits, &smtp_session_handler, d.tls);
	net_server_set_data(d.srv, &d.ss);
	d.workers = workers_new(d.base,
	    (unsigned int)conf_uint(d.conf, "global", "workers"));
	net_server_set_workers(d.srv, d.workers);
	smtpd_listen(&d);

	/* the pid file and the control socket exist before the queue is
	 * loaded, so bastidectl never edits queue files behind our back */
	daemon_start(&d.opts, d.conf);
	path = ctlsock_path(d.conf, SMTPD_NAME);
	if (ctlsock_listen(d.base, path, smtpd_control, &d, &d.ctl,
	    &error) < 0)
		fatalx("%s", error);
	free(path);
	/* ports bound, key read: nothing below needs root, and what is
	 * created from here on (spool and queue directories) belongs to the
	 * user the daemon runs as */
	priv_drop(conf_str(d.conf, "global", "user"),
	    conf_str(d.conf, "global", "group"));
	if (daemon_mkdirs(d.ss.set->spool_dir, 0700, &error) < 0)
		fatalx("%s", error);
	if (access(d.ss.set->spool_dir, W_OK | X_OK) < 0)
		fatal("spool_dir %s", d.ss.set->spool_dir);
	if (outq_new(d.conf, d.base, d.workers, d.ss.local, &d.ss.outq,
	    &error) < 0)
		fatalx("%s", error);
	smtp_local_set_forward(d.ss.local, smtpd_forward, d.ss.outq);
	daemon_signals_init(d.base, smtpd_on_term, smtpd_on_hup, &d);
	log_info("ready");

	event_base_dispatch(d.base);

	log_info("exiting");
	ctlsock_free(&d.ctl);
	net_server_free(&d.srv);
	/* a DATA job still running may enqueue: the pool goes first */
	workers_free(&d.workers);
	outq_free(&d.ss.outq);
	smtp_local_free(&d.ss.local);
	authfail_free(&d.ss.authfail);
	store_free(&d.ss.store);
	directory_free(&d.ss.dir);
	smtp_settings_unref(&d.ss.set);
	tls_ctx_free(&d.tls);
	daemon_signals_deinit();
	daemon_stop(&d.opts, d.conf);
	event_base_free(d.base);
	conf_free(&d.conf);
	return 0;
}
