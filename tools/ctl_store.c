/* ctl_store.c - bastidectl store: check (and repair) a user's mailbox */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#include "ctl.h"

/* print_line - one line of the check report */
static void
print_line(const char *line, void *arg)
{
	printf("%s\n", line);
}

/* usage_store - the group's usage line */
static int
usage_store(void)
{
	fprintf(stderr, "usage: bastidectl store check [--repair] USER\n");
	return 2;
}

/* ctl_store - "store check [--repair] USER" */
int
ctl_store(int argc, char **argv, struct conf *conf)
{
	struct store_check_report rep;
	struct store_user *u = NULL;
	struct store *st;
	const char *user, *error;
	char *home, *index, *aside;
	bool repair = false;
	int r;

	if (argc < 2 || strcmp(argv[0], "check") != 0)
		return usage_store();
	if (argc == 3 && strcmp(argv[1], "--repair") == 0)
		repair = true;
	else if (argc != 2)
		return usage_store();
	user = argv[argc - 1];
	st = store_new_conf(conf);
	/* a check must not create the mailbox it checks */
	if (strrchr(user, '@') != NULL) {
		const char *at = strrchr(user, '@');
		struct stat sb;

		home = xasprintf("%s/%s/%.*s/Maildir", store_root(st), at + 1,
		    (int)(at - user), user);
		r = stat(home, &sb);
		free(home);
		if (r < 0) {
			fprintf(stderr, "bastidectl: %s: no mailbox\n", user);
			store_free(&st);
			return 1;
		}
	}
	if (store_user_open(st, user, &u, &error) < 0) {
		const char *at = strrchr(user, '@');

		if (!repair || at == NULL) {
			fprintf(stderr, "bastidectl: %s: %s\n", user, error);
			store_free(&st);
			return 1;
		}
		/* an index that cannot even be opened proves nothing: put
		 * it aside and build a new one from the Maildir */
		home = xasprintf("%s/%s/%.*s", store_root(st), at + 1,
		    (int)(at - user), user);
		index = xasprintf("%s/index.lmdb", home);
		aside = xasprintf("%s/index.lmdb.broken.%lld", home,
		    (long long)time(NULL));
		if (rename(index, aside) < 0)
			fprintf(stderr, "bastidectl: rename %s: %s\n", index,
			    strerror(errno));
		else
			printf("%s: unreadable index moved to %s; UIDs are "
			    "renumbered\n", user, aside);
		free(home);
		free(index);
		free(aside);
		if (store_user_open(st, user, &u, &error) < 0) {
			fprintf(stderr, "bastidectl: %s: %s\n", user, error);
			store_free(&st);
			return 1;
		}
	}
	r = store_check(u, repair, print_line, NULL, &rep, &error);
	if (r < 0)
		fprintf(stderr, "bastidectl: %s: %s\n", user, error);
	else
		printf("%s: %u folders, %u messages, %u problems%s\n", user,
		    rep.folders, rep.messages, rep.problems,
		    repair && rep.problems > 0 ? ", repaired" : "");
	store_user_close(&u);
	store_free(&st);
	if (r < 0)
		return 1;
	return r == 1 && !repair ? 1 : 0;
}
