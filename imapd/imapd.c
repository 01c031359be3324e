/*
 * imapd.c - bastide-imapd: IMAP4rev1 and IMAP4rev2 on the shared store
 *
 * Wires common/ together: the config ([imapd] keys in
 * conf_schema_imapd.c), TLS, the directory, the store and its change
 * notifications, the worker pool and the listeners; the protocol lives in
 * imap_session.c and the cmd_*.c handlers.  SIGHUP re-reads the config
 * (new sessions get the new [imapd] settings; listeners stay as they
 * are) and reloads the certificate; SIGTERM drains.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "authfail.h"
#include "buf.h"
#include "conf.h"
#include "daemon.h"
#include "directory.h"
#include "log.h"
#include "net.h"
#include "priv.h"
#include "store.h"
#include "store_notify.h"
#include "tls.h"
#include "workers.h"
#include "xmalloc.h"

#include "imap_session.h"

#define IMAPD_NAME		"bastide-imapd"
#define IMAPD_AUTHFAIL_IPS	100000	/* addresses authfail remembers */
#define IMAPD_EXPIRE_MS		(60 * 1000)	/* store_expire() period */
/* the connection's output ceiling: a handler's chunk, the updates
 * after it and a client that reads slowly all fit */
#define IMAPD_MAX_OUTPUT	(8 * IMAP_OUT_MAX)

struct imapd_main {
	struct daemon_opts	 opts;
	struct conf		*conf;
	struct event_base	*base;
	struct tls_ctx		*tls;
	struct workers		*workers;
	struct net_server	*srv;
	struct event		*ev_notify;
	struct event		*ev_expire;
	struct imapd		 d;
};

/* imapd_settings - [imapd] as the sessions use it (replacing what set
 * held) */
static void
imapd_settings(const struct conf *conf, struct imap_settings *set)
{
	const char *const *clients;
	size_t i, n;
	struct buf b;

	free(set->background_clients);
	memset(set, 0, sizeof(*set));
	set->max_literal = conf_size(conf, "imapd", "max_literal");
	set->appendlimit = conf_size(conf, "imapd", "appendlimit");
	set->max_line = conf_size(conf, "imapd", "max_line");
	/* an APPEND is its lines and one message */
	set->max_command = set->appendlimit + 4 * set->max_line;
	set->autologout_ms = conf_duration_ms(conf, "imapd", "idle_timeout");
	set->idle_max_ms = conf_duration_ms(conf, "imapd", "idle_max");
	set->idle_keepalive_ms = conf_duration_ms(conf, "imapd",
	    "idle_keepalive");
	set->max_user_sessions = (unsigned int)conf_uint(conf, "imapd",
	    "max_user_sessions");
	set->plaintext_loopback = conf_bool(conf, "imapd",
	    "allow_plaintext_auth_on_loopback");
	set->background_refuse = conf_bool(conf, "imapd",
	    "background_refuse");
	set->background_busy_jobs = (unsigned int)conf_uint(conf, "imapd",
	    "background_busy_jobs");
	clients = conf_list(conf, "imapd", "background_clients", &n);
	if (n > 0) {
		buf_init(&b, 0);
		for (i = 0; i < n; i++)
			(void)buf_printf(&b, "%s%s", i > 0 ? " " : "",
			    clients[i]);
		set->background_clients = buf_steal(&b, NULL);
	}
}

/* imapd_on_notify - a watched mailbox changed */
static void
imapd_on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct imapd_main *m = arg;

	(void)fd;
	(void)what;
	imap_session_notify_read(m->d.notify);
}

/* imapd_on_expire - close the indexes of users nobody uses */
static void
imapd_on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct imapd_main *m = arg;

	(void)fd;
	(void)what;
	store_expire(m->d.store);
}

/* imapd_on_term - SIGTERM: drain */
static void
imapd_on_term(void *arg)
{
	struct imapd_main *m = arg;

	log_info("shutting down");
	net_shutdown(m->srv, conf_duration_ms(m->conf, "global",
	    "shutdown_timeout"));
}

/* imapd_on_hup - SIGHUP: new settings for new sessions, new certificate
 * for new handshakes */
static void
imapd_on_hup(void *arg)
{
	struct imapd_main *m = arg;

	if (daemon_reload_conf(&m->opts, conf_schemas_bastide, &m->conf) < 0)
		return;
	imapd_settings(m->conf, &m->d.set);
	directory_cache_clear(m->d.dir);
	log_info("configuration reloaded");
	daemon_reload_tls(m->tls);
}

/* imapd_listen - every listen and listen_tls address */
static void
imapd_listen(struct imapd_main *m)
{
	const char *const *addrs;
	const char *keys[] = { "listen", "listen_tls" };
	char *error;
	size_t i, k, n, total = 0;

	for (k = 0; k < 2; k++) {
		addrs = conf_list(m->conf, "imapd", keys[k], &n);
		for (i = 0; i < n; i++) {
			if (net_listen(m->srv, addrs[i], k == 1, &error) < 0)
				fatalx("%s", error);
			log_info("listening on %s%s", addrs[i],
			    k == 1 ? " (TLS)" : "");
			total++;
		}
	}
	if (total == 0)
		fatalx("%s: [imapd] has no listeners", conf_path(m->conf));
}

/* main - load the config, listen, serve until SIGTERM */
int
main(int argc, char **argv)
{
	struct imapd_main m;
	struct net_limits limits;
	struct timeval tv;
	const char *cerror;
	size_t ntls;
	char *error;

	memset(&m, 0, sizeof(m));
	daemon_parse_args(argc, argv, IMAPD_NAME, &m.opts);
	m.conf = daemon_load_conf(&m.opts, conf_schemas_bastide);
	daemon_setup_log(&m.opts, m.conf);
	(void)conf_list(m.conf, "imapd", "listen_tls", &ntls);
	if (ntls > 0 || conf_is_set(m.conf, "tls", "cert_file")) {
		if (tls_ctx_new(m.conf, &m.tls, &error) < 0)
			fatalx("%s", error);
	}
	imapd_settings(m.conf, &m.d.set);
	if (m.opts.check_only) {
		free(m.d.set.background_clients);
		tls_ctx_free(&m.tls);
		conf_free(&m.conf);
		return 0;
	}
	daemon_raise_nofile();
	m.base = event_base_new();
	if (m.base == NULL)
		fatalx("event_base_new failed");
	m.d.base = m.base;
	m.d.tls = m.tls != NULL;
	if (directory_new(m.conf, &m.d.dir, &error) < 0)
		fatalx("%s", error);
	m.d.store = store_new_conf(m.conf);
	m.d.authfail = authfail_new(
	    (unsigned int)conf_uint(m.conf, "imapd", "auth_max_failures"),
	    conf_duration_ms(m.conf, "imapd", "auth_failure_window"),
	    conf_duration_ms(m.conf, "imapd", "auth_ban_time"),
	    IMAPD_AUTHFAIL_IPS);
	m.d.users = imap_users_new();
	if (store_notify_new(&m.d.notify, &cerror) < 0)
		log_warnx("%s: IDLE sessions learn of changes only when "
		    "they send a command", cerror);

	net_limits_default(&limits);
	net_limits_from_conf(&limits, m.conf, "imapd");
	limits.literals = true;
	/* the framer's ceiling is the larger one; the session applies the
	 * right one per command (APPEND or not) */
	limits.max_literal = m.d.set.appendlimit > m.d.set.max_literal ?
	    m.d.set.appendlimit : m.d.set.max_literal;
	limits.max_output = IMAPD_MAX_OUTPUT;
	limits.refuse_line = "* BYE Too many connections, try again later";
	m.srv = net_server_new(m.base, &limits, &imap_session_handler, m.tls);
	net_server_set_data(m.srv, &m.d);
	m.workers = workers_new(m.base,
	    (unsigned int)conf_uint(m.conf, "global", "workers"));
	net_server_set_workers(m.srv, m.workers);
	m.d.workers = m.workers;
	imapd_listen(&m);

	daemon_start(&m.opts, m.conf);
	/* ports bound, key read: nothing below needs root */
	priv_drop(conf_str(m.conf, "global", "user"),
	    conf_str(m.conf, "global", "group"));
	daemon_signals_init(m.base, imapd_on_term, imapd_on_hup, &m);
	if (m.d.notify != NULL) {
		m.ev_notify = event_new(m.base, store_notify_fd(m.d.notify),
		    EV_READ | EV_PERSIST, imapd_on_notify, &m);
		event_add(m.ev_notify, NULL);
	}
	m.ev_expire = event_new(m.base, -1, EV_PERSIST, imapd_on_expire, &m);
	tv.tv_sec = IMAPD_EXPIRE_MS / 1000;
	tv.tv_usec = 0;
	event_add(m.ev_expire, &tv);
	log_info("ready");

	event_base_dispatch(m.base);

	log_info("exiting");
	/* sessions hold store users: free them before the store */
	net_server_free(&m.srv);
	workers_free(&m.workers);
	if (m.ev_notify != NULL)
		event_free(m.ev_notify);
	event_free(m.ev_expire);
	store_notify_free(&m.d.notify);
	imap_users_free(&m.d.users);
	authfail_free(&m.d.authfail);
	store_free(&m.d.store);
	directory_free(&m.d.dir);
	tls_ctx_free(&m.tls);
	free(m.d.set.background_clients);
	daemon_signals_deinit();
	daemon_stop(&m.opts, m.conf);
	event_base_free(m.base);
	conf_free(&m.conf);
	return 0;
}
