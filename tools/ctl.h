/*
 * ctl - bastidectl's command groups
 *
 * Each group is a function that gets the arguments after its name and the
 * loaded configuration, prints its results to stdout, its errors to stderr
 * and returns the process exit status (0 ok, 1 failure, 2 usage).
 */
#ifndef BASTIDE_CTL_H
#define BASTIDE_CTL_H

struct conf;

typedef int ctl_group_fn(int argc, char **argv, struct conf *conf);

int	 ctl_conf(int argc, char **argv, struct conf *conf);
int	 ctl_user(int argc, char **argv, struct conf *conf);
int	 ctl_store(int argc, char **argv, struct conf *conf);
/* ctl_queue.c; exits with sysexits codes (64 usage, 75 temporary) */
int	 ctl_queue(int argc, char **argv, struct conf *conf);

#endif
