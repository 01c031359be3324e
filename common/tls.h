/*
 * tls - GnuTLS server sessions over non-blocking sockets
 *
 * A tls_ctx holds what all of a daemon's sessions share: the certificate
 * and key ([tls] cert_file, key_file) and the priority string, which
 * allows TLS 1.2 and 1.3 only ([tls] min_version raises the floor to 1.3).
 * tls_ctx_reload() loads the files again (SIGHUP): new handshakes use the
 * new credentials, sessions already open keep the old ones, which are
 * freed with their last session; a bad new certificate or key leaves the
 * old ones in place and returns the error for the caller to log.
 *
 * A tls_session is one server-side TLS connection on a non-blocking
 * socket.  The connection layer (net.c, conn_start_tls()) drives it; no
 * gnutls type leaks out of this header.  Everything here runs on the loop
 * thread only (the credentials' reference count is not atomic).
 */
#ifndef BASTIDE_TLS_H
#define BASTIDE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct conf;
struct tls_ctx;
struct tls_session;

/* returned by tls_handshake/tls_recv/tls_send: call again when the socket
 * is readable, or writable if tls_want_write() */
#define TLS_AGAIN	(-2)

/* load [tls] cert_file, key_file, min_version, handshake_timeout */
int	 tls_ctx_new(const struct conf *conf, struct tls_ctx **ctx_r,
	    char **error_r);
/* the same from explicit values; min_version "1.2" or "1.3" */
int	 tls_ctx_new_files(const char *cert_file, const char *key_file,
	    const char *min_version, struct tls_ctx **ctx_r, char **error_r);
/* load the same files again; on failure the old credentials stay */
int	 tls_ctx_reload(struct tls_ctx *ctx, char **error_r);
/* sessions still open keep their credentials alive */
void	 tls_ctx_free(struct tls_ctx **ctx);
uint64_t tls_ctx_handshake_timeout_ms(const struct tls_ctx *ctx);

/* a server session on fd (which the caller keeps owning) */
struct tls_session *tls_session_new(struct tls_ctx *ctx, int fd);
void	 tls_session_free(struct tls_session **s);
/* 0 when done, TLS_AGAIN, or -1 with a static error string */
int	 tls_handshake(struct tls_session *s, const char **error_r);
/* bytes read, 0 at the peer's close, TLS_AGAIN, or -1 */
ssize_t	 tls_recv(struct tls_session *s, void *p, size_t n,
	    const char **error_r);
/* bytes written, TLS_AGAIN, or -1; after TLS_AGAIN call again with the
 * same bytes */
ssize_t	 tls_send(struct tls_session *s, const void *p, size_t n,
	    const char **error_r);
/* whether the last TLS_AGAIN waits for the socket to become writable */
bool	 tls_want_write(const struct tls_session *s);
/* decrypted bytes buffered inside the session, not yet returned */
size_t	 tls_pending(const struct tls_session *s);
/* send close_notify once, without waiting */
void	 tls_bye(struct tls_session *s);
/* after the handshake: "TLS1.3", "AES-256-GCM" (static strings) */
const char *tls_version(const struct tls_session *s);
const char *tls_cipher(const struct tls_session *s);

#endif
