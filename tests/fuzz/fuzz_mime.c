/*
 * fuzz_mime.c - libFuzzer entry point for common/mime.c
 *
 * Not built by default.  Build and run from a build directory with:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -I. -I../common ../tests/fuzz/fuzz_mime.c ../common/mime.c \
 *       ../common/mime_walk.c ../common/buf.c ../common/xmalloc.c \
 *       ../common/log.c \
 *       $(pkg-config --cflags --libs libetpan) -pthread -o fuzz_mime
 *   ./fuzz_mime -max_len=65536
 *
 * Besides memory errors it checks the one promise mime_summarize() makes
 * about its output that a sanitizer cannot see: every string is there and
 * quoted strings never carry CR, LF or NUL.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_check_quoted - abort if a quoted string holds CR or LF */
static void
fuzz_check_quoted(const char *s)
{
	size_t i, lit;
	int in_q = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (!in_q && s[i] == '{') {
			/* skip a literal "{n}\r\n" and its n bytes */
			lit = strtoul(s + i + 1, NULL, 10);
			i = (size_t)(strchr(s + i, '\n') - s);
			i += lit;
			continue;
		}
		if (s[i] == '"' )
			in_q = !in_q;
		else if (in_q && s[i] == '\\')
			i++;
		else if (in_q && (s[i] == '\r' || s[i] == '\n'))
			abort();
	}
	if (in_q)
		abort();
}

/* LLVMFuzzerTestOneInput - summarise one input */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_summary sum;

	mime_summarize((const char *)data, size, &sum);
	if (sum.envelope == NULL || sum.bodystructure == NULL ||
	    sum.body == NULL || sum.base_subject == NULL ||
	    sum.header_fields == NULL || sum.header_size > size)
		abort();
	fuzz_check_quoted(sum.envelope);
	fuzz_check_quoted(sum.bodystructure);
	fuzz_check_quoted(sum.body);
	mime_summary_deinit(&sum);
	return 0;
}
