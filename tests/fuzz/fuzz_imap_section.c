/*
 * fuzz_imap_section.c - libFuzzer entry point for imapd/imap_section.c
 *
 * Not built by default.  Build and run from a build directory with:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -I. -I../common -I../imapd ../tests/fuzz/fuzz_imap_section.c \
 *       ../imapd/imap_section.c ../common/mime_walk.c ../common/buf.c \
 *       ../common/xmalloc.c ../common/log.c -pthread -o fuzz_imap_section
 *   ./fuzz_imap_section -max_len=65536
 *
 * An input is a section-spec, a line feed, then a message.  Besides
 * memory errors it checks what a sanitizer cannot see: an answer that is
 * not built lies inside the message, BINARY.SIZE equals the length
 * BINARY returns, and a printed section parses back to the same.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_section.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_roundtrip - print sec and parse it back; abort if it differs */
static void
fuzz_roundtrip(const struct imap_section *sec)
{
	struct imap_section again;
	const char *err;
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	if (imap_section_format(&b, "", sec) < 0 ||
	    imap_section_parse(buf_ptr(&b) + 1, buf_avail(&b) - 2, &again,
	    &err) < 0)
		abort();
	if (again.kind != sec->kind || again.nparts != sec->nparts ||
	    again.nfields != sec->nfields)
		abort();
	for (i = 0; i < sec->nparts; i++) {
		if (again.parts[i] != sec->parts[i])
			abort();
	}
	for (i = 0; i < sec->nfields; i++) {
		if (strcmp(again.fields[i], sec->fields[i]) != 0)
			abort();
	}
	imap_section_deinit(&again);
	buf_deinit(&b);
}

/* LLVMFuzzerTestOneInput - one section of one message */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl, *msg, *err;
	struct imap_section sec;
	struct imap_part_ref ref;
	size_t slen, len;
	uint64_t bsize;
	long end;

	nl = memchr(p, '\n', size);
	slen = nl == NULL ? size : (size_t)(nl - p);
	msg = nl == NULL ? p + size : nl + 1;
	len = size - (size_t)(msg - p);
	end = imap_section_scan_end(p, slen);
	if (end >= (long)slen)
		abort();
	if (imap_section_parse(p, slen, &sec, &err) < 0)
		return 0;
	fuzz_roundtrip(&sec);
	imap_section_fetch(msg, len, &sec, &ref);
	if (ref.buf.data == NULL && ref.len > 0 && (ref.data < msg ||
	    ref.data + ref.len > msg + len))
		abort();
	imap_part_ref_deinit(&ref);
	if (imap_section_is_binary(&sec) &&
	    imap_section_binary(msg, len, &sec, &ref, &err) == 0) {
		if (imap_section_binary_size(msg, len, &sec, &bsize,
		    &err) < 0 || bsize != ref.len)
			abort();
		imap_part_ref_deinit(&ref);
	}
	imap_section_deinit(&sec);
	return 0;
}
