/* priv.c - drop root to the configured user, verified */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

/* priv_drop - become user:group for good, or exit */
void
priv_drop(const char *user, const char *group)
{
	struct passwd *pw;
	struct group *gr;
	uid_t uid;
	gid_t gid;

	if (user == NULL || *user == '\0' || geteuid() != 0)
		return;
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL)
		fatalx("unknown user '%s' in [global] user", user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (group != NULL && *group != '\0') {
		gr = getgrnam(group);
		if (gr == NULL)
			fatalx("unknown group '%s' in [global] group", group);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) < 0)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) < 0)
		fatal("setresgid");
	if (setresuid(uid, uid, uid) < 0)
		fatal("setresuid");
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid)
		fatalx("privilege drop to %s did not take effect", user);
	/* a root process must not be able to get root back */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		fatalx("privilege drop to %s is reversible", user);
	log_info("running as %s (uid %ld, gid %ld)", user, (long)uid,
	    (long)gid);
}
