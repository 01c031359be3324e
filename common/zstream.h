/*
 * zstream - the two raw DEFLATE streams (RFC 1951) of one compressed
 * connection (IMAP COMPRESS=DEFLATE, RFC 4978), without sockets
 *
 * A zstream owns a zlib deflater for what we send and an inflater for
 * what we receive, and nothing else: no buffers of its own beyond zlib's
 * state.  net.c puts it between conn_write() and TLS; being pure, it is
 * unit-tested with client streams split at every byte
 * (tests/unit/test_zstream.c).  zlib never appears in this header.
 *
 * Output: zstream_deflate() appends compressed bytes to a buf.  Without
 * sync, zlib may keep some of the input back to compress it better; with
 * sync, everything given so far is emitted and ends on a byte boundary
 * (Z_SYNC_FLUSH), so the peer can decode every byte of it at once.
 *
 * Input: zstream_inflate() decodes whatever the peer's flush mode was
 * (Z_SYNC_FLUSH, Z_PARTIAL_FLUSH, Z_FULL_FLUSH or none): every byte that
 * is decodable from the input given so far comes out, so a command is
 * never held back waiting for a flush marker or a later block.  Output
 * is produced into a caller's array of fixed size, so a small input that
 * decodes to a lot (a "zip bomb") costs calls, not memory: call again
 * while the array comes back full.
 *
 * Memory (zlib 1.2.13, measured by zstream_memory() in the unit test):
 * the deflater keeps a 32 KB window (windowBits -15) whose bookkeeping
 * doubles it, plus memLevel 5 hash and pending buffers, and the
 * inflater its state: 157 KB from zstream_new(); the inflater's 32 KB
 * window comes with the first input, 189 KB in all.  ZSTREAM_MEMORY_MAX
 * bounds it.  See zstream.c for the trade-off.
 */
#ifndef BASTIDE_ZSTREAM_H
#define BASTIDE_ZSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* a bound on zstream_memory(), checked by the unit test */
#define ZSTREAM_MEMORY_MAX	(200 * 1024)

struct zstream;

/* both directions, ready to use */
struct zstream *zstream_new(void);
void	 zstream_free(struct zstream **z);

/*
 * Compress p[0..n) and append the output to out; with sync, flush so that
 * the peer can decode everything given so far.  -1 (static *error_r)
 * when out's ceiling is passed; out then holds part of the output and
 * the stream is unusable.
 */
int	 zstream_deflate(struct zstream *z, const void *p, size_t n,
	    bool sync, struct buf *out, const char **error_r);

/*
 * Decode from in[0..inlen) into out[0..outsize): *used_r input bytes were
 * taken, *made_r output bytes written.  0 with *made_r == 0 means every
 * input byte was taken and more input is needed; 0 with *made_r ==
 * outsize means call again (with the rest of the input, possibly none)
 * for more output.  -1 (static *error_r) on a corrupt stream or on data
 * after its end; the stream stays unusable then.
 */
int	 zstream_inflate(struct zstream *z, const void *in, size_t inlen,
	    size_t *used_r, void *out, size_t outsize, size_t *made_r,
	    const char **error_r);
/* whether the peer ended its stream (a final block); more is an error */
bool	 zstream_input_ended(const struct zstream *z);

/* bytes zlib holds for this stream now */
size_t	 zstream_memory(const struct zstream *z);

#endif
