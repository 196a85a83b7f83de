/* The control socket's file: where it may be made, and how (ctlsock.h).
 *
 * braidd starts as root, so every step that touches the file system goes
 * through a descriptor of the checked directory and never follows a link:
 * chmod(path) or chown(path) after bind would act on whatever path names by
 * then, and unlink(path) before it would remove any file at all. The mode
 * comes from the umask at bind, so there is no moment when the socket is
 * open to all, and no chmod to redirect. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctlsock.h"

#define CTLSOCK_DIR_MODE 0750
#define CTLSOCK_UMASK 0117	/* a socket born 0660 */

/* Splits path into its directory (dir, "." or "/" when there is none) and
 * its last name; -EINVAL when there is no name, -ENAMETOOLONG past sun_path. */
static int split(const char *path, char *dir, size_t dirlen, char *name, size_t namelen)
{
	const char *slash = strrchr(path, '/');
	const char *last = slash ? slash + 1 : path;
	size_t n = strlen(path);

	if (n > CTLSOCK_NAME_MAX || n >= dirlen)
		return -ENAMETOOLONG;
	if (!*last || strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
		return -EINVAL;
	if (!slash)
		snprintf(dir, dirlen, ".");
	else if (slash == path)
		snprintf(dir, dirlen, "/");
	else
		snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
	snprintf(name, namelen, "%s", last);
	return 0;
}

/* Opens dir, creating it if missing, and checks that no one but a trusted
 * owner can put things in it. The fd, or a negative errno with err set. */
static int open_dir(const char *dir, uid_t user, char *err, size_t errlen)
{
	struct stat st;
	int fd, e;

	if (mkdir(dir, CTLSOCK_DIR_MODE) < 0 && errno != EEXIST) {
		e = errno;
		snprintf(err, errlen, "control socket directory %s: %s", dir, strerror(e));
		return -e;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ELOOP || e == ENOTDIR) {
			snprintf(err, errlen, "control socket directory %s is a symbolic link or not a "
				 "directory: refused", dir);
			return -EPERM;
		}
		snprintf(err, errlen, "control socket directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "control socket directory %s: %s", dir, strerror(e));
		close(fd);
		return -e;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid() && (user == (uid_t)-1 || st.st_uid != user)) {
		snprintf(err, errlen, "control socket directory %s belongs to uid %u, not to root "
			 "or braidd's user: refused", dir, (unsigned)st.st_uid);
		close(fd);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "control socket directory %s is writable by %s (mode %04o): "
			 "refused; chmod go-w %s, or set control = elsewhere", dir,
			 (st.st_mode & S_IWOTH) ? "others" : "its group",
			 (unsigned)(st.st_mode & 07777), dir);
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Binds fd to name inside dirfd. AF_UNIX bind takes a path, not a directory
 * descriptor, so the name is bound relative to the working directory, moved
 * to dirfd for the moment and moved back: the main thread does this during
 * setup, before any worker exists. 0 or -errno. */
static int bind_at(int fd, int dirfd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	mode_t old;
	int r = 0;

	if (cwd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
	if (fchdir(dirfd) < 0) {
		r = -errno;
		close(cwd);
		return r;
	}
	old = umask(CTLSOCK_UMASK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	umask(old);
	if (fchdir(cwd) < 0 && r == 0)
		r = -errno;
	close(cwd);
	return r;
}

int ctlsock_open(struct ctlsock *cs, const char *path, uid_t user, char *err, size_t errlen)
{
	char dir[CTLSOCK_NAME_MAX + 2];
	struct stat st;
	int r;

	cs->fd = cs->dirfd = -1;
	cs->name[0] = '\0';
	r = split(path, dir, sizeof(dir), cs->name, sizeof(cs->name));
	if (r < 0) {
		snprintf(err, errlen, "control socket path %s: %s", path,
			 r == -ENAMETOOLONG ? "too long" : "names no file");
		return r;
	}
	r = open_dir(dir, user, err, errlen);
	if (r < 0)
		return r;
	cs->dirfd = r;

	/* A socket left by a braidd that died is replaced; anything else is
	 * someone's file, and stays. */
	if (fstatat(cs->dirfd, cs->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "control socket %s: something that is not a socket is "
				 "there%s: refused, and left alone", path,
				 S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
			r = -EPERM;
			goto err_dir;
		}
		if (unlinkat(cs->dirfd, cs->name, 0) < 0 && errno != ENOENT) {
			r = -errno;
			snprintf(err, errlen, "control socket %s: removing the old one: %s", path,
				 strerror(-r));
			goto err_dir;
		}
	} else if (errno != ENOENT) {
		r = -errno;
		snprintf(err, errlen, "control socket %s: %s", path, strerror(-r));
		goto err_dir;
	}

	cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (cs->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "control socket: %s", strerror(-r));
		goto err_dir;
	}
	r = bind_at(cs->fd, cs->dirfd, cs->name);
	if (r == 0 && fstatat(cs->dirfd, cs->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	if (r == 0 && !S_ISSOCK(st.st_mode))
		r = -EEXIST;	/* not in a directory checked as ours */
	if (r == 0 && listen(cs->fd, 16) < 0)
		r = -errno;
	if (r < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(-r));
		goto err_sock;
	}
	cs->dev = st.st_dev;
	cs->ino = st.st_ino;
	return 0;

err_sock:
	close(cs->fd);
	cs->fd = -1;
err_dir:
	close(cs->dirfd);
	cs->dirfd = -1;
	return r;
}

/* Whether the socket file bind made is still at its name. */
static bool still_ours(const struct ctlsock *cs)
{
	struct stat st;

	return fstatat(cs->dirfd, cs->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISSOCK(st.st_mode) && st.st_dev == cs->dev && st.st_ino == cs->ino;
}

int ctlsock_chown(const struct ctlsock *cs, uid_t uid, gid_t gid)
{
	if (cs->dirfd < 0)
		return -EBADF;
	if (!still_ours(cs))
		return -ESTALE;
	if (fchownat(cs->dirfd, cs->name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

void ctlsock_close(struct ctlsock *cs)
{
	if (cs->fd >= 0)
		close(cs->fd);
	cs->fd = -1;
	if (cs->dirfd < 0)
		return;
	if (still_ours(cs))
		unlinkat(cs->dirfd, cs->name, 0);
	close(cs->dirfd);
	cs->dirfd = -1;
}
