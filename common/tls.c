/* tls.c - GnuTLS server sessions, credentials and their reload */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "conf.h"
#include "log.h"
#include "tls.h"
#include "xmalloc.h"

/*
 * Only TLS 1.2 and 1.3: "-VERS-ALL" first so that a future gnutls default
 * cannot bring an old version back.  Server precedence picks our cipher
 * order rather than the client's.
 */
#define TLS_PRIO_12	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
			"%SERVER_PRECEDENCE"
#define TLS_PRIO_13	"NORMAL:-VERS-ALL:+VERS-TLS1.3:%SERVER_PRECEDENCE"

/* credentials shared by the sessions that were started with them */
struct tls_creds {
	gnutls_certificate_credentials_t cred;
	unsigned int	 refs;
};

struct tls_ctx {
	char		*cert_file;
	char		*key_file;
	gnutls_priority_t prio;
	struct tls_creds *creds;	/* for new handshakes */
	uint64_t	 handshake_timeout_ms;
};

struct tls_session {
	gnutls_session_t  s;
	struct tls_creds *creds;
};

/* tls_creds_load - read a certificate chain and its key */
static int
tls_creds_load(const char *cert_file, const char *key_file,
    struct tls_creds **creds_r, char **error_r)
{
	gnutls_certificate_credentials_t cred;
	struct tls_creds *creds;
	int ret;

	ret = gnutls_certificate_allocate_credentials(&cred);
	if (ret < 0) {
		*error_r = xasprintf("gnutls credentials: %s",
		    gnutls_strerror(ret));
		return -1;
	}
	ret = gnutls_certificate_set_x509_key_file2(cred, cert_file, key_file,
	    GNUTLS_X509_FMT_PEM, NULL, 0);
	if (ret < 0) {
		*error_r = xasprintf("TLS certificate %s, key %s: %s",
		    cert_file, key_file, gnutls_strerror(ret));
		gnutls_certificate_free_credentials(cred);
		return -1;
	}
	(void)gnutls_certificate_set_known_dh_params(cred,
	    GNUTLS_SEC_PARAM_MEDIUM);
	creds = xcalloc(1, sizeof(*creds));
	creds->cred = cred;
	creds->refs = 1;
	*creds_r = creds;
	return 0;
}

/* tls_creds_unref - drop one reference, freeing with the last */
static void
tls_creds_unref(struct tls_creds **credsp)
{
	struct tls_creds *creds = *credsp;

	if (creds == NULL)
		return;
	*credsp = NULL;
	if (--creds->refs > 0)
		return;
	gnutls_certificate_free_credentials(creds->cred);
	free(creds);
}

/* tls_ctx_new_files - credentials and priorities from explicit values */
int
tls_ctx_new_files(const char *cert_file, const char *key_file,
    const char *min_version, struct tls_ctx **ctx_r, char **error_r)
{
	struct tls_ctx *ctx;
	const char *prio, *err_pos = NULL;
	int ret;

	if (strcmp(min_version, "1.3") == 0)
		prio = TLS_PRIO_13;
	else if (strcmp(min_version, "1.2") == 0)
		prio = TLS_PRIO_12;
	else {
		*error_r = xasprintf("TLS min_version %s: not 1.2 or 1.3",
		    min_version);
		return -1;
	}
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->cert_file = xstrdup(cert_file);
	ctx->key_file = xstrdup(key_file);
	ctx->handshake_timeout_ms = 30000;
	ret = gnutls_priority_init(&ctx->prio, prio, &err_pos);
	if (ret < 0) {
		*error_r = xasprintf("gnutls priority \"%s\": %s", prio,
		    gnutls_strerror(ret));
		ctx->prio = NULL;
		tls_ctx_free(&ctx);
		return -1;
	}
	if (tls_creds_load(cert_file, key_file, &ctx->creds, error_r) < 0) {
		tls_ctx_free(&ctx);
		return -1;
	}
	*ctx_r = ctx;
	return 0;
}

/* tls_ctx_new - credentials and priorities from the [tls] section */
int
tls_ctx_new(const struct conf *conf, struct tls_ctx **ctx_r, char **error_r)
{
	if (tls_ctx_new_files(conf_str(conf, "tls", "cert_file"),
	    conf_str(conf, "tls", "key_file"),
	    conf_str(conf, "tls", "min_version"), ctx_r, error_r) < 0)
		return -1;
	(*ctx_r)->handshake_timeout_ms = conf_duration_ms(conf, "tls",
	    "handshake_timeout");
	return 0;
}

/* tls_ctx_reload - new credentials for new handshakes; old kept on error */
int
tls_ctx_reload(struct tls_ctx *ctx, char **error_r)
{
	struct tls_creds *creds;

	if (tls_creds_load(ctx->cert_file, ctx->key_file, &creds,
	    error_r) < 0)
		return -1;
	tls_creds_unref(&ctx->creds);
	ctx->creds = creds;
	return 0;
}

/* tls_ctx_free - free the context; open sessions keep their credentials */
void
tls_ctx_free(struct tls_ctx **ctxp)
{
	struct tls_ctx *ctx = *ctxp;

	if (ctx == NULL)
		return;
	*ctxp = NULL;
	tls_creds_unref(&ctx->creds);
	if (ctx->prio != NULL)
		gnutls_priority_deinit(ctx->prio);
	free(ctx->cert_file);
	free(ctx->key_file);
	free(ctx);
}

/* tls_ctx_handshake_timeout_ms - [tls] handshake_timeout */
uint64_t
tls_ctx_handshake_timeout_ms(const struct tls_ctx *ctx)
{
	return ctx->handshake_timeout_ms;
}

/* tls_session_new - a server session over fd with the current creds */
struct tls_session *
tls_session_new(struct tls_ctx *ctx, int fd)
{
	struct tls_session *s;
	int ret;

	s = xcalloc(1, sizeof(*s));
	ret = gnutls_init(&s->s, GNUTLS_SERVER | GNUTLS_NONBLOCK);
	if (ret < 0)
		fatalx("gnutls_init: %s", gnutls_strerror(ret));
	if ((ret = gnutls_priority_set(s->s, ctx->prio)) < 0 ||
	    (ret = gnutls_credentials_set(s->s, GNUTLS_CRD_CERTIFICATE,
	    ctx->creds->cred)) < 0)
		fatalx("gnutls session setup: %s", gnutls_strerror(ret));
	s->creds = ctx->creds;
	s->creds->refs++;
	gnutls_certificate_server_set_request(s->s, GNUTLS_CERT_IGNORE);
	/* net.c times the handshake with its own timer */
	gnutls_handshake_set_timeout(s->s, 0);
	gnutls_transport_set_int(s->s, fd);
	return s;
}

/* tls_session_free - free the session and release its credentials */
void
tls_session_free(struct tls_session **sp)
{
	struct tls_session *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	gnutls_deinit(s->s);
	tls_creds_unref(&s->creds);
	free(s);
}

/* tls_result - map a gnutls return to ours */
static int
tls_result(ssize_t ret, const char **error_r)
{
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
		return TLS_AGAIN;
	*error_r = gnutls_strerror((int)ret);
	return -1;
}

/* tls_handshake - one step of the handshake */
int
tls_handshake(struct tls_session *s, const char **error_r)
{
	int ret;

	ret = gnutls_handshake(s->s);
	if (ret == 0)
		return 0;
	if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED &&
	    !gnutls_error_is_fatal(ret))
		return TLS_AGAIN;	/* a warning alert: go on */
	return tls_result(ret, error_r);
}

/* tls_recv - decrypted bytes; 0 on close_notify or a bare TCP close */
ssize_t
tls_recv(struct tls_session *s, void *p, size_t n, const char **error_r)
{
	ssize_t ret;

	ret = gnutls_record_recv(s->s, p, n);
	if (ret >= 0)
		return ret;
	if (ret == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	if (ret == GNUTLS_E_REHANDSHAKE || ret == GNUTLS_E_WARNING_ALERT_RECEIVED)
		return TLS_AGAIN;	/* renegotiation is not offered */
	return tls_result(ret, error_r);
}

/* tls_send - encrypt and send bytes */
ssize_t
tls_send(struct tls_session *s, const void *p, size_t n,
    const char **error_r)
{
	ssize_t ret;

	ret = gnutls_record_send(s->s, p, n);
	if (ret >= 0)
		return ret;
	return tls_result(ret, error_r);
}

/* tls_want_write - the direction the last TLS_AGAIN waits for */
bool
tls_want_write(const struct tls_session *s)
{
	return gnutls_record_get_direction(s->s) == 1;
}

/* tls_pending - plaintext waiting inside gnutls */
size_t
tls_pending(const struct tls_session *s)
{
	return gnutls_record_check_pending(s->s);
}

/* tls_bye - best-effort close_notify on a non-blocking socket */
void
tls_bye(struct tls_session *s)
{
	(void)gnutls_bye(s->s, GNUTLS_SHUT_WR);
}

/* tls_version - negotiated protocol, e.g. "TLS1.3" */
const char *
tls_version(const struct tls_session *s)
{
	const char *name;

	name = gnutls_protocol_get_name(gnutls_protocol_get_version(s->s));
	return name != NULL ? name : "unknown";
}

/* tls_cipher - negotiated bulk cipher, e.g. "AES-256-GCM" */
const char *
tls_cipher(const struct tls_session *s)
{
	const char *name;

	name = gnutls_cipher_get_name(gnutls_cipher_get(s->s));
	return name != NULL ? name : "unknown";
}
