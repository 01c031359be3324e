/* bastidectl.c - the admin command line: dispatch to command groups */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "log.h"

#include "ctl.h"

struct ctl_group {
	const char	*name;
	ctl_group_fn	*fn;
	const char	*usage;
};

static const struct ctl_group ctl_groups[] = {
	{ "conf", ctl_conf, "conf check | conf defaults" },
	{ "user", ctl_user, "user show|resolve|auth|batch|bench ..." },
	{ "store", ctl_store, "store check [--repair] USER" },
	{ "queue", ctl_queue,
	  "queue list | flush [ID] | delete ID | hold ID | release ID" },
};

/* usage - list every command group */
static void __attribute__((noreturn))
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: bastidectl [-c config] command ...\n");
	for (i = 0; i < sizeof(ctl_groups) / sizeof(*ctl_groups); i++)
		fprintf(stderr, "  bastidectl %s\n", ctl_groups[i].usage);
	exit(2);
}

/* main - load the config (the conf group may do without) and dispatch */
int
main(int argc, char **argv)
{
	const char *path = DAEMON_DEFAULT_CONFIG;
	const struct ctl_group *group = NULL;
	struct conf *conf = NULL;
	char *error;
	size_t i;
	int ch, r;

	log_init("bastidectl", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < sizeof(ctl_groups) / sizeof(*ctl_groups); i++)
		if (strcmp(argv[0], ctl_groups[i].name) == 0)
			group = &ctl_groups[i];
	if (group == NULL)
		usage();
	/* "conf defaults" must work without any config file */
	if (!(argc >= 2 && strcmp(argv[0], "conf") == 0 &&
	    strcmp(argv[1], "defaults") == 0)) {
		if (conf_load(path, conf_schemas_bastide, &conf, &error) < 0) {
			fprintf(stderr, "bastidectl: %s\n", error);
			free(error);
			return 1;
		}
	}
	r = group->fn(argc - 1, argv + 1, conf);
	conf_free(&conf);
	return r;
}
