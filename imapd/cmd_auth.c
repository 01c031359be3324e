/*
 * cmd_auth.c - CAPABILITY NOOP LOGOUT STARTTLS LOGIN AUTHENTICATE
 * UNAUTHENTICATE ENABLE ID
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authfail.h"
#include "base64.h"
#include "buf.h"
#include "directory.h"
#include "log.h"
#include "sasl.h"
#include "store.h"
#include "str.h"
#include "xmalloc.h"

#include "imap_background.h"
#include "imap_commands.h"
#include "imap_session.h"
#include "imap_view.h"
#include "imap_write.h"

/* cmd_capability - "* CAPABILITY ..." */
enum imap_cmd_result
cmd_capability(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	if (cmd->argc != 0) {
		imap_reply_bad(s, NULL, "CAPABILITY takes no arguments");
		return CMD_DONE;
	}
	(void)buf_append_str(out, "* CAPABILITY ");
	imap_session_capabilities(s, out);
	(void)buf_append_str(out, "\r\n");
	imap_reply_ok(s, NULL, "CAPABILITY completed");
	return CMD_DONE;
}

/* cmd_noop - nothing; the dispatcher adds the untagged updates */
enum imap_cmd_result
cmd_noop(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	(void)out;
	if (cmd->argc != 0) {
		imap_reply_bad(s, NULL, "NOOP takes no arguments");
		return CMD_DONE;
	}
	imap_reply_ok(s, NULL, "NOOP completed");
	return CMD_DONE;
}

/* cmd_logout - BYE, OK, close */
enum imap_cmd_result
cmd_logout(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	(void)out;
	if (cmd->argc != 0) {
		imap_reply_bad(s, NULL, "LOGOUT takes no arguments");
		return CMD_DONE;
	}
	imap_session_set_state(s, IMAP_STATE_LOGOUT);
	imap_session_disconnect(s, "Logging out");
	imap_reply_ok(s, NULL, "LOGOUT completed");
	return CMD_DONE;
}

/* cmd_starttls - OK, then the handshake once the OK is out */
enum imap_cmd_result
cmd_starttls(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	(void)out;
	if (cmd->argc != 0) {
		imap_reply_bad(s, NULL, "STARTTLS takes no arguments");
		return CMD_DONE;
	}
	if (s->tls) {
		imap_reply_bad(s, NULL, "TLS is already active");
		return CMD_DONE;
	}
	if (!s->d->tls) {
		imap_reply_no(s, NULL, "TLS is not available");
		return CMD_DONE;
	}
	s->start_tls = true;
	imap_reply_ok(s, NULL, "Begin TLS negotiation now");
	return CMD_DONE;
}

/* cmd_compress - RFC 4978: OK, then deflate both ways once it is out */
enum imap_cmd_result
cmd_compress(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	const char *mech;

	(void)out;
	if (cmd->argc != 1 || imap_arg_atom(cmd, &cmd->args[0], &mech) < 0) {
		imap_reply_bad(s, NULL, "COMPRESS takes one mechanism");
		return CMD_DONE;
	}
	if (strcasecmp(mech, "DEFLATE") != 0) {
		/* RFC 4978 section 3: an unknown mechanism is BAD */
		imap_reply_bad(s, NULL, "Unknown compression mechanism");
		return CMD_DONE;
	}
	if (s->compressed) {
		imap_reply_no(s, "COMPRESSIONACTIVE", "DEFLATE is already "
		    "active");
		return CMD_DONE;
	}
	s->start_compress = true;
	imap_reply_ok(s, NULL, "DEFLATE active");
	return CMD_DONE;
}

/* login_allowed - plaintext credentials only over TLS (or loopback when
 * the config says so) */
static bool
login_allowed(const struct imap_session *s)
{
	return s->tls || (s->set.plaintext_loopback && s->loopback);
}

/* store_user_name - the store's user for a directory entry: the primary
 * address in lower case, as smtpd delivers to it */
static char *
store_user_name(const struct directory_user *u)
{
	char *name;

	if (u->mail == NULL || strchr(u->mail, '@') == NULL)
		return NULL;
	name = xstrdup(u->mail);
	str_lower(name);
	return name;
}

/* auth_ok - the session belongs to user from now on */
static void
auth_ok(struct imap_session *s, struct directory_user *u, const char *mech)
{
	struct store_user *su;
	const char *error;
	struct buf caps;
	char *name;

	name = store_user_name(u);
	if (name == NULL) {
		log_warnx("login %s: the directory entry has no mail address",
		    u->uid);
		imap_reply_no(s, "CONTACTADMIN", "Account has no mailbox");
		return;
	}
	if (!imap_users_add(s->d->users, name, s->set.max_user_sessions)) {
		log_info("login %s refused: %u sessions already", name,
		    s->set.max_user_sessions);
		imap_reply_no(s, "LIMIT", "Too many sessions for this user");
		free(name);
		return;
	}
	if (store_user_open(s->d->store, name, &su, &error) < 0) {
		log_warnx("login %s: store: %s", name, error);
		imap_users_remove(s->d->users, name);
		imap_reply_no(s, "UNAVAILABLE", "Mailbox unavailable, try "
		    "again later");
		free(name);
		return;
	}
	s->counted = true;
	s->user = name;
	s->login = xstrdup(u->uid);
	s->su = su;
	s->quota_bytes = u->quota;
	authfail_success(s->d->authfail, s->peer);
	imap_session_set_state(s, IMAP_STATE_AUTH);
	log_info("login user=%s method=%s", s->user, mech);
	buf_init(&caps, 0);
	(void)buf_append_str(&caps, "CAPABILITY ");
	imap_session_capabilities(s, &caps);
	imap_reply_ok(s, buf_cstr(&caps), "Logged in");
	buf_deinit(&caps);
}

/* auth_check - LOGIN and AUTHENTICATE PLAIN: ask the directory */
static void
auth_check(struct imap_session *s, const char *login, const char *password,
    const char *mech)
{
	struct directory_user *u = NULL;
	enum directory_auth_result r;
	uint64_t now = imap_now_ms();
	char *error = NULL;

	if (authfail_banned(s->d->authfail, s->peer, now)) {
		log_info("authentication from %s refused: too many failures",
		    s->peer);
		imap_reply_no(s, "UNAVAILABLE", "Too many failed logins, try "
		    "again later");
		return;
	}
	r = directory_auth(s->d->dir, login, password, &u, &error);
	switch (r) {
	case DIRECTORY_AUTH_OK:
		auth_ok(s, u, mech);
		break;
	case DIRECTORY_AUTH_TEMPFAIL:
		log_warnx("authentication of %s: directory: %s", login,
		    error != NULL ? error : "unavailable");
		imap_reply_no(s, "UNAVAILABLE", "Authentication is "
		    "temporarily unavailable");
		break;
	case DIRECTORY_AUTH_REFUSED:
	case DIRECTORY_AUTH_INACTIVE:
		s->auth_delay_ms = authfail_record(s->d->authfail, s->peer,
		    now);
		log_info("authentication failed: login=%s method=%s from %s: "
		    "%s", login, mech, s->peer, directory_auth_result_name(r));
		imap_reply_no(s, "AUTHENTICATIONFAILED", "Authentication "
		    "failed");
		break;
	}
	directory_user_free(&u);
	free(error);
}

/* cmd_login - LOGIN user password */
enum imap_cmd_result
cmd_login(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	const char *user, *pass;

	(void)out;
	if (!login_allowed(s)) {
		imap_reply_no(s, "PRIVACYREQUIRED", "Plaintext login is "
		    "disabled, use STARTTLS first");
		return CMD_DONE;
	}
	if (imap_parse_login(cmd, &user, &pass) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	auth_check(s, user, pass, "LOGIN");
	return CMD_DONE;
}

/* auth_plain - one base64 PLAIN message */
static void
auth_plain(struct imap_session *s, const char *b64, size_t len)
{
	char *authzid = NULL, *authcid = NULL, *password = NULL;
	unsigned char *raw;
	const char *error;
	long n;

	if (len == 1 && b64[0] == '=')
		len = 0;
	raw = xmalloc(base64_decoded_max(len) + 1);
	n = len == 0 ? 0 : base64_decode(b64, len, raw);
	if (n < 0) {
		imap_reply_bad(s, NULL, "Invalid base64 data");
		free(raw);
		return;
	}
	if (sasl_plain_parse(raw, (size_t)n, &authzid, &authcid, &password,
	    &error) < 0) {
		wipe(raw, (size_t)n);
		free(raw);
		imap_reply_bad(s, NULL, "Invalid PLAIN message: %s", error);
		return;
	}
	wipe(raw, (size_t)n);
	free(raw);
	if (authzid[0] != '\0' && strcmp(authzid, authcid) != 0) {
		imap_reply_no(s, "AUTHORIZATIONFAILED", "Acting as another "
		    "user is not allowed");
	} else
		auth_check(s, authcid, password, "PLAIN");
	sasl_secret_free(&password);
	free(authzid);
	free(authcid);
}

/* cmd_authenticate - AUTHENTICATE PLAIN [initial] (SASL-IR) */
enum imap_cmd_result
cmd_authenticate(struct imap_session *s, struct imap_cmd *cmd,
    struct buf *out)
{
	const char *mech, *initial;

	if (s->calls > 0) {
		/* the client's answer to "+ " */
		if (s->input_line == NULL) {
			imap_reply_bad(s, NULL, "Authentication line too long");
			return CMD_DONE;
		}
		if (s->input_len == 1 && s->input_line[0] == '*') {
			imap_reply_bad(s, NULL, "Authentication cancelled");
			return CMD_DONE;
		}
		auth_plain(s, s->input_line, s->input_len);
		return CMD_DONE;
	}
	if (imap_parse_authenticate(cmd, &mech, &initial) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (strcmp(mech, "PLAIN") != 0) {
		imap_reply_no(s, NULL, "Unsupported authentication mechanism");
		return CMD_DONE;
	}
	if (!login_allowed(s)) {
		imap_reply_no(s, "PRIVACYREQUIRED", "Plaintext authentication "
		    "is disabled, use STARTTLS first");
		return CMD_DONE;
	}
	if (initial == NULL) {
		(void)buf_append_str(out, "+ \r\n");
		imap_session_want_line(s);
		return CMD_MORE;
	}
	auth_plain(s, initial, strlen(initial));
	return CMD_DONE;
}

/* cmd_unauthenticate - back to the not-authenticated state (RFC 8437) */
enum imap_cmd_result
cmd_unauthenticate(struct imap_session *s, struct imap_cmd *cmd,
    struct buf *out)
{
	(void)out;
	if (cmd->argc != 0) {
		imap_reply_bad(s, NULL, "UNAUTHENTICATE takes no arguments");
		return CMD_DONE;
	}
	if (s->view != NULL) {
		imap_view_free(&s->view);
		s->watch_changed = true;
	}
	store_user_close(&s->su);
	if (s->counted)
		imap_users_remove(s->d->users, s->user);
	s->counted = false;
	log_info("logout user=%s (UNAUTHENTICATE)", s->user);
	xfree(&s->user);
	xfree(&s->login);
	s->quota_bytes = 0;
	s->enabled = 0;
	imap_seqset_clear(&s->saved);
	s->saved_valid = false;
	imap_session_set_state(s, IMAP_STATE_NOT_AUTH);
	imap_reply_ok(s, NULL, "UNAUTHENTICATE completed");
	return CMD_DONE;
}

/* cmd_enable - ENABLE cap ... (RFC 5161) */
enum imap_cmd_result
cmd_enable(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	const char **caps;
	struct buf enabled;
	unsigned int bit, before;
	size_t i, n;

	if (imap_parse_enable(cmd, &caps, &n) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	buf_init(&enabled, 0);
	for (i = 0; i < n; i++) {
		if (strcmp(caps[i], "CONDSTORE") == 0)
			bit = IMAP_ENABLED_CONDSTORE;
		else if (strcmp(caps[i], "QRESYNC") == 0)
			bit = IMAP_ENABLED_QRESYNC;
		else if (strcmp(caps[i], "UTF8=ACCEPT") == 0)
			bit = IMAP_ENABLED_UTF8;
		else if (strcmp(caps[i], "IMAP4REV2") == 0)
			bit = IMAP_ENABLED_REV2;
		else
			continue;	/* unknown: not listed, no error */
		before = s->enabled;
		if (bit == IMAP_ENABLED_CONDSTORE ||
		    bit == IMAP_ENABLED_QRESYNC)
			imap_session_enable_condstore(s, out);
		if ((before & bit) != 0)
			continue;
		s->enabled |= bit;
		(void)buf_printf(&enabled, " %s", bit == IMAP_ENABLED_REV2 ?
		    "IMAP4rev2" : caps[i]);
	}
	(void)buf_printf(out, "* ENABLED%s\r\n", buf_cstr(&enabled));
	buf_deinit(&enabled);
	imap_reply_ok(s, NULL, "ENABLE completed");
	return CMD_DONE;
}

/* cmd_id - ID (...) or ID NIL (RFC 2971) */
enum imap_cmd_result
cmd_id(struct imap_session *s, struct imap_cmd *cmd, struct buf *out)
{
	const char **keys, **values;
	struct buf line;
	size_t i, n;

	if (imap_parse_id(cmd, &keys, &values, &n) < 0) {
		imap_reply_parse_error(s, cmd);
		return CMD_DONE;
	}
	if (n > 0) {
		buf_init(&line, 2048);
		for (i = 0; i < n; i++) {
			(void)buf_printf(&line, "%s%s=", i > 0 ? " " : "",
			    keys[i]);
			(void)imap_write_nstring_str(&line, values[i], 0);
		}
		log_info("client ID %s", buf_cstr(&line));
		buf_deinit(&line);
	}
	/* a later ID replaces what an earlier one said */
	s->background = imap_background_id(keys, values, n,
	    s->set.background_clients);
	if (s->background)
		log_info("client ID announces a background download");
	if (imap_session_background_refused(s)) {
		/* TN3189: iOS Mail postpones the download on this answer */
		log_info("background download refused: server busy");
		imap_reply_no(s, "UNAVAILABLE", "Server busy, try later");
		return CMD_DONE;
	}
	(void)buf_append_str(out, "* ID (\"name\" \"Bastide\" \"vendor\" "
	    "\"Bastide\" \"version\" \"" PACKAGE_VERSION "\")\r\n");
	imap_reply_ok(s, NULL, "ID completed");
	return CMD_DONE;
}
