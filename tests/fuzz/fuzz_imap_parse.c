/*
 * fuzz_imap_parse.c - libFuzzer entry point for imapd/imap_parse*.c,
 * imap_seqset.c and imap_write.c
 *
 * Not built by default.  Build and run from a build directory with:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -I. -I../common -I../imapd ../tests/fuzz/fuzz_imap_parse.c \
 *       ../imapd/imap_parse.c ../imapd/imap_parse_fetch.c \
 *       ../imapd/imap_parse_search.c ../imapd/imap_parse_cmds.c \
 *       ../imapd/imap_seqset.c ../imapd/imap_write.c \
 *       ../imapd/imap_section.c ../common/mime_walk.c \
 *       ../common/frame.c ../common/buf.c \
 *       ../common/store_name.c ../common/str.c ../common/xmalloc.c \
 *       ../common/log.c -pthread -o fuzz_imap_parse
 *   ./fuzz_imap_parse -max_len=65536
 *
 * The input is a client's byte stream: it goes through the framer
 * (sync literals accepted) into struct imap_input, each command is parsed
 * with small limits (so that the ceilings are reached), with UTF-8 mode
 * chosen by the first byte, and then given to the typed parser of its
 * command.  Besides memory errors it checks what a sanitizer cannot see:
 * a failure always has a reason, a parsed sequence set is sorted, merged
 * and resolves inside 1..max, and every string argument written back by
 * imap_write_astring() parses to the same bytes.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"

#include "imap_parse.h"
#include "imap_seqset.h"
#include "imap_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check_set - sorted, disjoint, non-touching; resolving stays in range */
static void
check_set(const struct imap_seqset *set)
{
	struct imap_seqset copy;
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->count; i++)
		if (set->r[i].lo == 0 || set->r[i].lo > set->r[i].hi ||
		    (i > 0 && (uint64_t)set->r[i - 1].hi + 1 >= set->r[i].lo))
			abort();
	imap_seqset_init(&copy);
	imap_seqset_copy(&copy, set);
	if (imap_seqset_resolve(&copy, 1000, true) < 0 || copy.star ||
	    imap_seqset_max(&copy) > 1000)
		abort();
	imap_seqset_deinit(&copy);
}

/* check_roundtrip - a string written as an astring parses back */
static void
check_roundtrip(const char *s, size_t len)
{
	struct imap_piece p[3];
	struct imap_cmd cmd;
	struct buf w, line;
	const char *nl, *got;
	size_t n;

	if (memchr(s, '\0', len) != NULL)
		return;		/* NUL is sent as 0x80 on purpose */
	buf_init(&w, 0);
	buf_init(&line, 0);
	imap_write_astring(&w, s, len, IMAP_WRITE_UTF8);
	buf_append_str(&line, "a LOGIN ");
	nl = memchr(buf_ptr(&w), '\n', buf_avail(&w));
	if (buf_ptr(&w)[0] == '{' && nl != NULL) {
		buf_append(&line, buf_ptr(&w), (size_t)(nl - 1 - buf_ptr(&w)));
		p[0] = (struct imap_piece){ buf_ptr(&line), buf_avail(&line),
		    false };
		p[1] = (struct imap_piece){ nl + 1, len, true };
		p[2] = (struct imap_piece){ " x", 2, false };
		n = 3;
	} else {
		buf_append(&line, buf_ptr(&w), buf_avail(&w));
		buf_append_str(&line, " x");
		p[0] = (struct imap_piece){ buf_ptr(&line), buf_avail(&line),
		    false };
		n = 1;
	}
	if (imap_parse(&cmd, p, n, NULL) != 0 ||
	    imap_arg_astring(&cmd, &cmd.args[0], &got) != 0 ||
	    strlen(got) != len || memcmp(got, s, len) != 0) {
		fprintf(stderr, "round trip of %zu bytes failed: %s\n", len,
		    cmd.error == NULL ? "different bytes" : cmd.error);
		abort();
	}
	imap_cmd_deinit(&cmd);
	buf_deinit(&w);
	buf_deinit(&line);
}

/* walk_args - round-trip every string in the tree */
static void
walk_args(const struct imap_arg *args, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (args[i].type == IMAP_ARG_QUOTED ||
		    (args[i].type == IMAP_ARG_LITERAL && args[i].str != NULL))
			check_roundtrip(args[i].str, args[i].len);
		if (args[i].type == IMAP_ARG_LIST || args[i].has_section)
			walk_args(args[i].list, args[i].count);
	}
}

/* walk_search - check the sets of a search tree */
static void
walk_search(const struct imap_search_node *n)
{
	for (; n != NULL; n = n->next) {
		check_set(n->set);
		walk_search(n->children);
	}
}

/* typed - the typed parser of the command; -1 on error */
static int
typed(struct imap_cmd *cmd)
{
	struct imap_fetch f;
	struct imap_store st;
	struct imap_search se;
	struct imap_sort so;
	struct imap_thread th;
	struct imap_list l;
	struct imap_status sta;
	struct imap_append ap;
	struct imap_select sel;
	struct imap_create cr;
	struct imap_seqset *set;
	const char **v1, **v2, *s1, *s2;
	size_t n, i;
	bool saved;

	switch (cmd->id) {
	case IMAP_CMD_FETCH:
		if (imap_parse_fetch(cmd, &f) < 0)
			return -1;
		check_set(f.set);
		for (i = 0; i < f.count; i++)
			if (f.items[i].resp_name == NULL)
				abort();
		return 0;
	case IMAP_CMD_STORE:
		if (imap_parse_store(cmd, &st) < 0)
			return -1;
		check_set(st.set);
		return 0;
	case IMAP_CMD_SEARCH:
		if (imap_parse_search(cmd, &se) < 0)
			return -1;
		walk_search(se.root);
		return 0;
	case IMAP_CMD_SORT:
		return imap_parse_sort(cmd, &so);
	case IMAP_CMD_THREAD:
		return imap_parse_thread(cmd, &th);
	case IMAP_CMD_LIST:
	case IMAP_CMD_LSUB:
		return imap_parse_list(cmd, &l);
	case IMAP_CMD_STATUS:
		return imap_parse_status(cmd, &sta);
	case IMAP_CMD_APPEND:
		return imap_parse_append(cmd, &ap);
	case IMAP_CMD_SELECT:
	case IMAP_CMD_EXAMINE:
		if (imap_parse_select(cmd, &sel) < 0)
			return -1;
		check_set(sel.known_uids);
		check_set(sel.match_seqs);
		return 0;
	case IMAP_CMD_CREATE:
		return imap_parse_create(cmd, &cr);
	case IMAP_CMD_ENABLE:
		return imap_parse_enable(cmd, &v1, &n);
	case IMAP_CMD_ID:
		return imap_parse_id(cmd, &v1, &v2, &n);
	case IMAP_CMD_LOGIN:
		return imap_parse_login(cmd, &s1, &s2);
	case IMAP_CMD_AUTHENTICATE:
		return imap_parse_authenticate(cmd, &s1, &s2);
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE:
		return imap_parse_copy(cmd, &set, &saved, &s1);
	case IMAP_CMD_RENAME:
		return imap_parse_rename(cmd, &s1, &s2);
	case IMAP_CMD_DELETE:
	case IMAP_CMD_SUBSCRIBE:
	case IMAP_CMD_UNSUBSCRIBE:
	case IMAP_CMD_GETQUOTAROOT:
		return imap_parse_mailbox_only(cmd, &s1);
	case IMAP_CMD_EXPUNGE:
		if (cmd->uid)
			return imap_parse_uid_expunge(cmd, &set, &saved);
		return 0;
	default:
		return 0;
	}
}

/* one_command - parse the assembled pieces */
static void
one_command(struct imap_input *in, const struct imap_parse_settings *set)
{
	const struct imap_piece *p;
	struct imap_cmd cmd;
	size_t n;

	p = imap_input_pieces(in, &n);
	if (imap_parse(&cmd, p, n, set) == 0) {
		walk_args(cmd.args, cmd.argc);
		if (typed(&cmd) == 0)
			cmd.error = "";
	}
	if (cmd.error == NULL)
		abort();
	imap_cmd_deinit(&cmd);
}

/* LLVMFuzzerTestOneInput - frame and parse every command of one input */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parse_settings set;
	struct imap_input in;
	struct frame f;
	struct frame_item it;
	enum frame_event ev;
	size_t used;

	imap_parse_settings_init(&set);
	set.max_depth = 8;
	set.max_args = 200;
	set.max_search_depth = 16;
	set.max_search_nodes = 100;
	set.utf8 = size > 0 && (data[0] & 1);
	frame_init(&f, 8192, 65536, true);
	imap_input_init(&in, 1 << 20);
	while (size > 0) {
		ev = frame_feed(&f, data, size, &used, &it);
		data += used;
		size -= used;
		switch (ev) {
		case FRAME_LINE:
			if (imap_input_line(&in, it.data, it.len) < 0) {
				imap_input_reset(&in);
				break;
			}
			if (!it.literal) {
				one_command(&in, &set);
				imap_input_reset(&in);
			}
			break;
		case FRAME_WAIT:
			/* the item is not filled for WAIT: ask the framer */
			if (f.lit_too_big) {
				frame_literal_refuse(&f);
				imap_input_reset(&in);
			} else {
				frame_literal_accept(&f);
			}
			break;
		case FRAME_LITERAL_DATA:
			if (imap_input_literal(&in, it.data, it.len) < 0)
				imap_input_reset(&in);
			break;
		case FRAME_LITERAL_END:
			imap_input_literal_end(&in);
			break;
		case FRAME_LINE_TOO_LONG:
			imap_input_reset(&in);
			break;
		case FRAME_MORE:
			break;
		}
	}
	frame_deinit(&f);
	imap_input_deinit(&in);
	return 0;
}
