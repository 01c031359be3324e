/* test_imap_background.c - unit tests for imapd/imap_background.c: which
 * ID announces a background download, which FETCH downloads bodies, and
 * when the server counts as loaded */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "imap_background.h"
#include "imap_parse.h"

/* an ID command's parameter list as a client sends it */
struct id_case {
	const char	*params;	/* the ID argument */
	const char	*clients;	/* background_clients, or NULL */
	bool		 want;
};

static const struct id_case id_cases[] = {
	/* iOS Mail, TN3189 */
	{ "(\"name\" \"com.apple.email.maild\" \"event\" \"back-fill\")",
	  NULL, true },
	{ "(\"name\" \"com.apple.email.maild\" \"event\" \"indexer\")",
	  NULL, true },
	{ "(\"name\" \"com.apple.email.maild\" \"event\" "
	  "\"periodic,back-fill\")", NULL, true },
	{ "(\"name\" \"com.apple.email.maild\" \"event\" "
	  "\"back-fill,periodic\")", NULL, true },
	{ "(\"NAME\" \"COM.APPLE.email.maild\" \"Event\" \"Indexer\")",
	  NULL, true },
	{ "(\"name\" \"com.apple.email.maild\" \"event\" \"periodic\")",
	  NULL, false },
	{ "(\"name\" \"com.apple.email.maild\" \"event\" \"periodic,push\")",
	  NULL, false },
	{ "(\"name\" \"com.apple.email.maild\" \"event\" NIL)", NULL, false },
	{ "(\"name\" \"com.apple.email.maild\")", NULL, false },
	{ "(\"name\" \"com.apple.email.maild\" \"event\" \"back-filler\")",
	  NULL, false },
	/* the event word counts only from Apple's clients */
	{ "(\"name\" \"Thunderbird\" \"event\" \"back-fill\")", NULL, false },
	{ "(\"name\" \"iPhone Mail\" \"event\" \"indexer\")", NULL, false },
	{ "(\"event\" \"back-fill\")", NULL, false },
	/* interactive clients */
	{ "(\"name\" \"Thunderbird\" \"version\" \"115.0\")", NULL, false },
	{ "(\"name\" \"Thunderbird\")", "imapsync offlineimap", false },
	{ "NIL", "imapsync", false },
	/* clients named in the configuration */
	{ "(\"name\" \"imapsync\" \"version\" \"2.2\")",
	  "imapsync offlineimap", true },
	{ "(\"name\" \"OfflineIMAP\")", "imapsync offlineimap", true },
	{ "(\"name\" \"imap\")", "imapsync", false },
	{ "(\"name\" \"imapsync2\")", "imapsync", false },
	{ "(\"name\" NIL)", "imapsync", false },
	{ "(\"name\" \"\")", "imapsync", false },
};

/* parse - a command line into cmd (deinit it); fails the test if the
 * parser refuses it */
static void
parse(struct imap_input *in, struct imap_cmd *cmd, const char *line)
{
	const struct imap_piece *p;
	size_t n;

	imap_input_init(in, 4096);
	assert_int_equal(imap_input_line(in, line, strlen(line)), 0);
	p = imap_input_pieces(in, &n);
	if (imap_parse(cmd, p, n, NULL) < 0)
		fail_msg("%s: %s", line, cmd->error);
}

static void
an_id_announces_a_background_download_only_by_the_known_rules(
    void **state)
{
	const char **keys, **values;
	struct imap_input in;
	struct imap_cmd cmd;
	char line[512];
	size_t i, n;
	bool got;

	(void)state;
	for (i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
		snprintf(line, sizeof(line), "a ID %s", id_cases[i].params);
		parse(&in, &cmd, line);
		if (imap_parse_id(&cmd, &keys, &values, &n) < 0)
			fail_msg("%s: %s", line, cmd.error);
		got = imap_background_id(keys, values, n,
		    id_cases[i].clients);
		if (got != id_cases[i].want)
			fail_msg("%s (clients \"%s\"): got %d, want %d", line,
			    id_cases[i].clients != NULL ?
			    id_cases[i].clients : "", got, id_cases[i].want);
		imap_cmd_deinit(&cmd);
		imap_input_deinit(&in);
	}
}

static void
only_fetches_of_message_bodies_count_as_a_download(void **state)
{
	static const struct {
		const char	*items;
		bool		 want;
	} cases[] = {
		{ "(UID FLAGS)", false },
		{ "(UID RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS "
		  "(From To Cc Subject Date Message-ID Content-Type)])",
		  false },
		{ "(ENVELOPE BODYSTRUCTURE EMAILID THREADID MODSEQ)", false },
		{ "(BODY.PEEK[HEADER] RFC822.HEADER BODY[1.MIME])", false },
		{ "(BODY.PEEK[HEADER.FIELDS.NOT (Received)] BINARY.SIZE[1])",
		  false },
		{ "FAST", false },
		{ "ALL", false },
		{ "FULL", false },
		{ "BODY[]", true },
		{ "(UID BODY.PEEK[])", true },
		{ "(BODY.PEEK[]<0.1024>)", true },
		{ "(BODY.PEEK[1])", true },
		{ "(BODY.PEEK[2.TEXT])", true },
		{ "(BODY.PEEK[TEXT])", true },
		{ "RFC822", true },
		{ "RFC822.TEXT", true },
		{ "(BINARY.PEEK[1])", true },
		{ "(FLAGS BINARY[])", true },
	};
	struct imap_input in;
	struct imap_cmd cmd;
	struct imap_fetch f;
	char line[512];
	size_t i;
	bool got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line), "a FETCH 1:* %s", cases[i].items);
		parse(&in, &cmd, line);
		if (imap_parse_fetch(&cmd, &f) < 0)
			fail_msg("%s: %s", line, cmd.error);
		got = imap_background_fetch_bodies(&f);
		if (got != cases[i].want)
			fail_msg("%s: got %d, want %d", line, got,
			    cases[i].want);
		imap_cmd_deinit(&cmd);
		imap_input_deinit(&in);
	}
}

static void
the_server_is_loaded_past_the_configured_number_of_jobs(void **state)
{
	static const struct {
		unsigned int	 pending, busy_jobs;
		bool		 want;
	} cases[] = {
		{ 1, 32, false },	/* only the asking session's job */
		{ 32, 32, false },
		{ 33, 32, true },
		{ 1000, 32, true },
		{ 2, 1, true },
		{ 1, 1, false },
		{ 1, 0, true },		/* 0: always loaded */
		{ 0, 0, true },
	};
	size_t i;
	bool got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = imap_background_busy(cases[i].pending,
		    cases[i].busy_jobs);
		if (got != cases[i].want)
			fail_msg("%u jobs, busy above %u: got %d, want %d",
			    cases[i].pending, cases[i].busy_jobs, got,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    an_id_announces_a_background_download_only_by_the_known_rules),
		cmocka_unit_test(
		    only_fetches_of_message_bodies_count_as_a_download),
		cmocka_unit_test(
		    the_server_is_loaded_past_the_configured_number_of_jobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
