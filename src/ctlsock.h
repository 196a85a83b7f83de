/* The control socket's place in the file system: a UNIX stream socket made
 * in a directory that only a trusted owner can write to, born mode 0660,
 * and never reached through a symbolic link, so that a link planted at (or
 * swapped in for) its path cannot make braidd, running as root, chmod,
 * chown or delete some other file. What is said on the socket is ctl.h's. */
#ifndef BRAID_CTLSOCK_H
#define BRAID_CTLSOCK_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

#define CTLSOCK_NAME_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

struct ctlsock {
	int fd;		/* the listening socket; -1: none */
	int dirfd;	/* its directory, opened without following a link; -1: none */
	char name[CTLSOCK_NAME_MAX + 1];	/* its name in that directory */
	dev_t dev;	/* the socket file bind made: only it is removed */
	ino_t ino;
};

/* Makes the listening socket at path (non-blocking, close-on-exec).
 * The directory is created (0750) if it is missing; it must then be a real
 * directory, not a symbolic link, owned by root, by the user braidd runs as
 * or by user (pass (uid_t)-1 for none: `user =` is not set), and writable by
 * nobody but its owner: sticky /tmp is refused too. Something at path that is
 * not a socket is left alone and refused; a socket there (left by a braidd
 * that died) is replaced. Returns 0 with cs filled in, or a negative errno
 * with a sentence naming the path in err and cs->fd, cs->dirfd -1: -EPERM
 * when the place is refused as unsafe (braidd then does not start). */
int ctlsock_open(struct ctlsock *cs, const char *path, uid_t user, char *err, size_t errlen);

/* Gives the socket file to uid:gid, without following a link. 0 or -errno. */
int ctlsock_chown(const struct ctlsock *cs, uid_t uid, gid_t gid);

/* Closes the socket and removes its file if it is still the one bind made.
 * cs may have been closed already, or never opened (fds -1). */
void ctlsock_close(struct ctlsock *cs);

#endif
