/*
 * echod.c - a line-echo test daemon that exercises common/net and tls
 *
 * Not a product: tests/integration/test_echo.py drives it to prove the
 * connection layer (limits, timeouts, STARTTLS, implicit TLS, reload,
 * shutdown) before any real protocol depends on it.  Its keys live in its
 * own [echod] schema, passed to conf_load() beside the product schema, so
 * that bastide.conf does not grow test-only keys.
 *
 * Protocol: greeting "* OK echo ready"; every line comes back as it was
 * (through the worker pool, as a real command would); "STARTTLS" answers
 * "OK begin TLS" and upgrades; "TLSINFO" answers "OK <version> <cipher>";
 * "COMPRESS" answers "OK deflate active" (from a worker, as IMAP's
 * handler would) and then both directions are raw DEFLATE (RFC 4978);
 * "COMPRESS NOW" does the same from the loop thread, inside on_input; a
 * second COMPRESS, or STARTTLS under compression, gets a NO; "QUIT"
 * answers "* BYE" and closes; an over-long line gets "BAD line too long"
 * and the session goes on.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "buf.h"
#include "conf.h"
#include "daemon.h"
#include "frame.h"
#include "log.h"
#include "net.h"
#include "priv.h"
#include "tls.h"
#include "workers.h"
#include "xmalloc.h"

#define SEC	1000ULL

static const struct conf_key echod_schema[] = {
	{ "echod", "listen", CONF_LIST, "127.0.0.1:7777", 0, 0, NULL,
	  "addresses for plain connections (STARTTLS offered)" },
	{ "echod", "listen_tls", CONF_LIST, "", 0, 0, NULL,
	  "addresses for implicit-TLS connections" },
	{ "echod", "max_connections", CONF_UINT, "1000", 0, 100000, NULL,
	  "connections in all; 0: no limit" },
	{ "echod", "max_connections_per_ip", CONF_UINT, "100", 0, 100000,
	  NULL, "connections from one address; 0: no limit" },
	{ "echod", "idle_timeout", CONF_DURATION, "5m", 0, 3600 * SEC, NULL,
	  "close a connection silent this long; 0: never" },
	{ "echod", "max_line", CONF_SIZE, "1k", 16, 1024 * 1024, NULL,
	  "longest line, CRLF included" },
	{ NULL }
};

static const struct conf_key *const echod_schemas[] = {
	conf_schema_bastide,
	echod_schema,
	NULL
};

struct echod {
	struct daemon_opts	 opts;
	struct conf		*conf;
	struct event_base	*base;
	struct tls_ctx		*tls;
	struct workers		*workers;
	struct net_server	*srv;
};

/* echod_job - in a worker: the reply to one line */
static void
echod_job(void *arg, struct buf *out)
{
	const char *line = arg;

	(void)buf_printf(out, "%s\r\n", line);
}

/* echod_job_done - on the loop: release the copied line */
static void
echod_job_done(struct conn *c, void *arg, bool cancelled)
{
	free(arg);
}

/* echod_compress_job - in a worker: the go-ahead for COMPRESS */
static void
echod_compress_job(void *arg, struct buf *out)
{
	(void)buf_printf(out, "OK deflate active\r\n");
}

/* echod_compress_start - the OK is queued: compress from here on */
static void
echod_compress_start(struct conn *c)
{
	const char *error;

	if (conn_start_compress(c, &error) < 0) {
		/* the client was told OK already: no way to go on */
		log_warnx("COMPRESS: %s", error);
		conn_close(c);
	}
}

/* echod_compress_done - on the loop: the job queued the OK */
static void
echod_compress_done(struct conn *c, void *arg, bool cancelled)
{
	if (!cancelled)
		echod_compress_start(c);
}

/* echod_on_connect - greet */
static void
echod_on_connect(struct conn *c)
{
	conn_printf(c, "* OK echo ready\r\n");
}

/* echod_line - one command line */
static void
echod_line(struct conn *c, const struct frame_item *item)
{
	const char *error;

	if (strcasecmp(item->data, "QUIT") == 0) {
		conn_printf(c, "* BYE\r\n");
		conn_close(c);
	} else if (strcasecmp(item->data, "STARTTLS") == 0) {
		if (conn_is_tls(c)) {
			conn_printf(c, "BAD TLS is already active\r\n");
			return;
		}
		if (conn_is_compressed(c)) {
			conn_printf(c, "NO compression is active\r\n");
			return;
		}
		conn_printf(c, "OK begin TLS\r\n");
		if (conn_start_tls(c, &error) < 0) {
			log_warnx("STARTTLS: %s", error);
			conn_printf(c, "* BYE TLS is not available\r\n");
			conn_close(c);
		}
	} else if (strcasecmp(item->data, "COMPRESS") == 0 ||
	    strcasecmp(item->data, "COMPRESS NOW") == 0) {
		if (conn_is_compressed(c)) {
			conn_printf(c, "NO compression is already active\r\n");
			return;
		}
		if (item->len == strlen("COMPRESS")) {
			conn_submit(c, echod_compress_job, echod_compress_done,
			    NULL);
			return;
		}
		conn_printf(c, "OK deflate active\r\n");
		echod_compress_start(c);
	} else if (strcasecmp(item->data, "TLSINFO") == 0) {
		if (conn_is_tls(c))
			conn_printf(c, "OK %s %s\r\n", conn_tls_version(c),
			    conn_tls_cipher(c));
		else
			conn_printf(c, "NO not TLS\r\n");
	} else {
		conn_submit(c, echod_job, echod_job_done,
		    xmemdup(item->data, item->len + 1));
	}
}

/* echod_on_input - framed input */
static void
echod_on_input(struct conn *c, enum frame_event ev,
    const struct frame_item *item)
{
	switch (ev) {
	case FRAME_LINE:
		echod_line(c, item);
		break;
	case FRAME_LINE_TOO_LONG:
		conn_printf(c, "BAD line too long\r\n");
		break;
	default:
		break;
	}
}

/* echod_on_timeout - say why before closing */
static void
echod_on_timeout(struct conn *c)
{
	conn_printf(c, "* BYE idle timeout\r\n");
	conn_close(c);
}

/* echod_on_shutdown - say goodbye */
static void
echod_on_shutdown(struct conn *c)
{
	conn_printf(c, "* BYE shutting down\r\n");
	conn_close(c);
}

static const struct conn_handler echod_handler = {
	.on_connect = echod_on_connect,
	.on_input = echod_on_input,
	.on_timeout = echod_on_timeout,
	.on_shutdown = echod_on_shutdown,
};

/* echod_on_term - SIGTERM: drain */
static void
echod_on_term(void *arg)
{
	struct echod *e = arg;

	net_shutdown(e->srv, conf_duration_ms(e->conf, "global",
	    "shutdown_timeout"));
}

/* echod_on_hup - SIGHUP: re-read the config, new certificate for new
 * handshakes */
static void
echod_on_hup(void *arg)
{
	struct echod *e = arg;

	if (daemon_reload_conf(&e->opts, echod_schemas, &e->conf) < 0)
		return;
	daemon_reload_tls(e->tls);
}

/* main - load the config, listen, serve until SIGTERM */
int
main(int argc, char **argv)
{
	struct echod e;
	struct net_limits limits;
	size_t ntls;
	char *error;

	memset(&e, 0, sizeof(e));
	daemon_parse_args(argc, argv, "echod", &e.opts);
	e.conf = daemon_load_conf(&e.opts, echod_schemas);
	daemon_setup_log(&e.opts, e.conf);
	(void)conf_list(e.conf, "echod", "listen_tls", &ntls);
	if (ntls > 0 || conf_is_set(e.conf, "tls", "cert_file")) {
		if (tls_ctx_new(e.conf, &e.tls, &error) < 0)
			fatalx("%s", error);
	}
	if (e.opts.check_only) {
		tls_ctx_free(&e.tls);
		conf_free(&e.conf);
		return 0;
	}
	daemon_raise_nofile();
	e.base = event_base_new();
	if (e.base == NULL)
		fatalx("event_base_new failed");
	net_limits_default(&limits);
	net_limits_from_conf(&limits, e.conf, "echod");
	limits.refuse_line = "* BYE too many connections";
	e.srv = net_server_new(e.base, &limits, &echod_handler, e.tls);
	e.workers = workers_new(e.base,
	    (unsigned int)conf_uint(e.conf, "global", "workers"));
	net_server_set_workers(e.srv, e.workers);
	if (net_listen_from_conf(e.srv, e.conf, "echod", &error) < 0)
		fatalx("%s", error);
	daemon_start(&e.opts, e.conf);
	/* ports bound and key read: nothing below needs root */
	priv_drop(conf_str(e.conf, "global", "user"),
	    conf_str(e.conf, "global", "group"));
	daemon_signals_init(e.base, echod_on_term, echod_on_hup, &e);
	log_info("ready");

	event_base_dispatch(e.base);

	log_info("exiting");
	net_server_free(&e.srv);
	workers_free(&e.workers);
	tls_ctx_free(&e.tls);
	daemon_signals_deinit();
	daemon_stop(&e.opts, e.conf);
	event_base_free(e.base);
	conf_free(&e.conf);
	return 0;
}
