/* zstream.c - raw DEFLATE in both directions for a compressed connection */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"
#include "zstream.h"

/*
 * Parameters.  RFC 4978 wants raw deflate (no zlib header): negative
 * windowBits.  The inflater must take a 32 KB window, whatever the
 * client chose.  The deflater's window is ours to pick; -15 as well,
 * because mail bodies repeat over more than a few KB (a smaller window,
 * -12, would save about 110 KB per connection but compressed text about
 * 20% worse in a quick measurement).  memLevel 5 instead of zlib's 8 cuts
 * the hash table and the pending buffer from 128 KB to 16 KB for about 1%
 * worse compression; level 5 instead of 6 saves a quarter of the CPU for
 * about 2% worse.
 */
#define ZSTREAM_WBITS		(-15)
#define ZSTREAM_LEVEL		5
#define ZSTREAM_MEMLEVEL	5
#define ZSTREAM_OUT_CHUNK	8192	/* deflate's output per step */
#define ZSTREAM_ALLOC_HDR	16	/* keeps malloc's alignment */

struct zstream {
	z_stream	 def;
	z_stream	 inf;
	size_t		 mem;		/* bytes zlib allocated, live */
	bool		 def_broken;
	bool		 inf_broken;
	bool		 inf_ended;
};

/* zstream_alloc - zlib's allocator: count what it holds */
static voidpf
zstream_alloc(voidpf opaque, uInt items, uInt size)
{
	struct zstream *z = opaque;
	unsigned char *p;
	size_t n;

	if (size != 0 && items > (SIZE_MAX - ZSTREAM_ALLOC_HDR) / size)
		return Z_NULL;
	n = (size_t)items * size;
	p = xmalloc(n + ZSTREAM_ALLOC_HDR);
	memcpy(p, &n, sizeof(n));
	z->mem += n;
	return p + ZSTREAM_ALLOC_HDR;
}

/* zstream_dealloc - zlib's free: uncount it */
static void
zstream_dealloc(voidpf opaque, voidpf address)
{
	struct zstream *z = opaque;
	unsigned char *p;
	size_t n;

	if (address == Z_NULL)
		return;
	p = (unsigned char *)address - ZSTREAM_ALLOC_HDR;
	memcpy(&n, p, sizeof(n));
	z->mem -= n;
	free(p);
}

/* zstream_new - a deflater and an inflater, both raw */
struct zstream *
zstream_new(void)
{
	struct zstream *z;
	int r;

	z = xcalloc(1, sizeof(*z));
	z->def.zalloc = zstream_alloc;
	z->def.zfree = zstream_dealloc;
	z->def.opaque = z;
	z->inf.zalloc = zstream_alloc;
	z->inf.zfree = zstream_dealloc;
	z->inf.opaque = z;
	r = deflateInit2(&z->def, ZSTREAM_LEVEL, Z_DEFLATED, ZSTREAM_WBITS,
	    ZSTREAM_MEMLEVEL, Z_DEFAULT_STRATEGY);
	if (r != Z_OK)
		panic("deflateInit2: %d (%s)", r, zError(r));
	r = inflateInit2(&z->inf, ZSTREAM_WBITS);
	if (r != Z_OK)
		panic("inflateInit2: %d (%s)", r, zError(r));
	return z;
}

/* zstream_free - release zlib's state and the zstream */
void
zstream_free(struct zstream **zp)
{
	struct zstream *z = *zp;

	if (z == NULL)
		return;
	*zp = NULL;
	(void)deflateEnd(&z->def);
	(void)inflateEnd(&z->inf);
	free(z);
}

/* zstream_deflate - compress and append to out, flushed if sync */
int
zstream_deflate(struct zstream *z, const void *p, size_t n, bool sync,
    struct buf *out, const char **error_r)
{
	unsigned char chunk[ZSTREAM_OUT_CHUNK];
	const unsigned char *in = p;
	size_t part;
	uInt have;
	int r;

	if (z->def_broken) {
		*error_r = "compressed output stream is broken";
		return -1;
	}
	/* uInt is 32 bits: feed huge inputs in parts */
	do {
		part = n > UINT_MAX ? UINT_MAX : n;
		z->def.next_in = (Bytef *)(uintptr_t)in;
		z->def.avail_in = (uInt)part;
		in += part;
		n -= part;
		/*
		 * zlib's contract: call again while it fills all of the output
		 * space; once it leaves some free, it took all of the input
		 * and, with Z_SYNC_FLUSH, emitted the flush marker whole.
		 */
		do {
			z->def.next_out = chunk;
			z->def.avail_out = sizeof(chunk);
			r = deflate(&z->def, sync && n == 0 ? Z_SYNC_FLUSH :
			    Z_NO_FLUSH);
			/* Z_BUF_ERROR: no progress possible, nothing lost */
			if (r != Z_OK && r != Z_BUF_ERROR)
				panic("deflate: %d (%s)", r, zError(r));
			have = (uInt)sizeof(chunk) - z->def.avail_out;
			if (have > 0 && buf_append(out, chunk, have) < 0) {
				z->def_broken = true;
				*error_r = "compressed output over its ceiling";
				return -1;
			}
		} while (z->def.avail_out == 0);
	} while (n > 0);
	z->def.next_in = Z_NULL;
	return 0;
}

/* zstream_inflate - decode what the input allows into out */
int
zstream_inflate(struct zstream *z, const void *in, size_t inlen,
    size_t *used_r, void *out, size_t outsize, size_t *made_r,
    const char **error_r)
{
	uInt avail_in, avail_out;
	int r;

	*used_r = 0;
	*made_r = 0;
	if (z->inf_broken) {
		*error_r = "compressed input stream is broken";
		return -1;
	}
	if (z->inf_ended) {
		if (inlen == 0)
			return 0;
		z->inf_broken = true;
		*error_r = "data after the end of the compressed stream";
		return -1;
	}
	if (outsize == 0)
		return 0;
	avail_in = inlen > UINT_MAX ? UINT_MAX : (uInt)inlen;
	avail_out = outsize > UINT_MAX ? UINT_MAX : (uInt)outsize;
	z->inf.next_in = (Bytef *)(uintptr_t)in;
	z->inf.avail_in = avail_in;
	z->inf.next_out = out;
	z->inf.avail_out = avail_out;
	/*
	 * One call decodes until the input runs out or the output is full.
	 * zlib's inflate emits every byte the input determines, so a block
	 * ended by the client's Z_PARTIAL_FLUSH comes out whole although the
	 * empty block that follows it may still be cut short.
	 */
	r = inflate(&z->inf, Z_SYNC_FLUSH);
	*used_r = avail_in - z->inf.avail_in;
	*made_r = avail_out - z->inf.avail_out;
	z->inf.next_in = Z_NULL;
	z->inf.next_out = Z_NULL;
	switch (r) {
	case Z_OK:
	case Z_BUF_ERROR:	/* no progress possible: needs more input */
		return 0;
	case Z_STREAM_END:
		z->inf_ended = true;
		if (*used_r < inlen) {
			z->inf_broken = true;
			*error_r = "data after the end of the compressed "
			    "stream";
			return -1;
		}
		return 0;
	case Z_NEED_DICT:	/* not in raw streams, but be safe */
	case Z_DATA_ERROR:
		z->inf_broken = true;
		*error_r = z->inf.msg != NULL ? z->inf.msg :
		    "corrupt compressed input";
		return -1;
	default:
		panic("inflate: %d (%s)", r, zError(r));
	}
}

/* zstream_input_ended - the peer sent its final block */
bool
zstream_input_ended(const struct zstream *z)
{
	return z->inf_ended;
}

/* zstream_memory - what zlib holds for this stream */
size_t
zstream_memory(const struct zstream *z)
{
	return z->mem;
}
