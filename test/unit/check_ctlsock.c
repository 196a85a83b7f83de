/* The control socket's file (src/ctlsock.c): born 0660 whatever the umask,
 * its directory made if missing, and refused in every place where someone
 * else could swap what braidd, as root, would chmod, chown or remove: a
 * directory others or the group may write to (sticky /tmp too), one that is
 * a symbolic link or belongs to a stranger, and a path where something that
 * is not a socket already is. Nothing planted there is ever touched. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "ctlsock.h"

#define STRANGER ((uid_t)54321)

/* A temporary directory per test (Check forks each test, and the checked
 * fixture runs in that child), with run/ in it, 0700, for the socket. */
static char tmpdir[40], run[64], sock[80], target[80];
static char err[512];

static void ctlsock_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_ctlsock.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(run, sizeof(run), "%s/run", tmpdir);
	snprintf(sock, sizeof(sock), "%s/run/b.sock", tmpdir);
	snprintf(target, sizeof(target), "%s/target", tmpdir);
	ck_assert_int_eq(mkdir(run, 0700), 0);
	ck_assert_int_eq(chmod(run, 0700), 0);
	err[0] = '\0';
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void ctlsock_teardown(void)
{
	/* Depth first and without following links: only our mkdtemp tree. */
	chmod(run, 0700);
	if (nftw(tmpdir, remove_one, 8, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* A file elsewhere, 0600, "secret": what a planted link points at. */
static void make_target(void)
{
	int fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "secret", 6), 6);
	close(fd);
	ck_assert_int_eq(chmod(target, 0600), 0);
}

/* The target is as make_target left it: there, 0600, ours, "secret". */
static void target_untouched(void)
{
	struct stat st;
	char buf[16] = { 0 };
	int fd;

	ck_assert_int_eq(lstat(target, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_uid, geteuid());
	fd = open(target, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 6);
	close(fd);
	ck_assert_str_eq(buf, "secret");
}

static void refused(const char *path, uid_t user, const char *says)
{
	struct ctlsock cs;

	ck_assert_int_eq(ctlsock_open(&cs, path, user, err, sizeof(err)), -EPERM);
	ck_assert_int_eq(cs.fd, -1);
	ck_assert_int_eq(cs.dirfd, -1);
	ck_assert_msg(strstr(err, says), "'%s' does not say '%s'", err, says);
}

static void opens(const char *path, uid_t user, struct ctlsock *cs)
{
	int r = ctlsock_open(cs, path, user, err, sizeof(err));

	ck_assert_msg(r == 0, "ctlsock_open(%s): %d, %s", path, r, err);
	ck_assert_int_ge(cs->fd, 0);
	ck_assert_int_ge(cs->dirfd, 0);
}

/* A client can connect to path. */
static int can_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), r;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

START_TEST(test_born_0660)
{
	static const mode_t masks[] = { 0, 022, 077, 0777 };

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		struct ctlsock cs;
		struct stat st;
		mode_t old = umask(masks[i]);

		opens(sock, (uid_t)-1, &cs);
		ck_assert_uint_eq(umask(old), masks[i]);	/* given back */
		ck_assert_int_eq(lstat(sock, &st), 0);
		ck_assert(S_ISSOCK(st.st_mode));
		ck_assert_msg((st.st_mode & 07777) == 0660, "umask %03o: mode %04o",
			      (unsigned)masks[i], (unsigned)(st.st_mode & 07777));
		ck_assert(can_connect(sock));
		ctlsock_close(&cs);
		ck_assert_int_eq(cs.fd, -1);
		ck_assert_int_eq(lstat(sock, &st), -1);	/* removed */
		ctlsock_close(&cs);			/* twice: nothing */
	}
}
END_TEST

START_TEST(test_dir_made)
{
	char dir[128], path[160];
	struct ctlsock cs;
	struct stat st;
	mode_t old = umask(022);

	snprintf(dir, sizeof(dir), "%s/new", tmpdir);
	snprintf(path, sizeof(path), "%s/b.sock", dir);
	opens(path, (uid_t)-1, &cs);
	umask(old);
	ck_assert_int_eq(lstat(dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	ctlsock_close(&cs);
	/* Its parent missing too: an error, not a refusal. */
	snprintf(path, sizeof(path), "%s/no/such/b.sock", tmpdir);
	ck_assert_int_eq(ctlsock_open(&cs, path, (uid_t)-1, err, sizeof(err)), -ENOENT);
	ck_assert(strstr(err, "no/such") != NULL);
}
END_TEST

/* Writable by anyone but the owner: refused, the message naming the
 * directory and the mode; sticky and root's (like /tmp) too. */
START_TEST(test_dir_writable)
{
	static const struct {
		mode_t mode;
		const char *says;
	} bad[] = {
		{ 0777, "writable by others (mode 0777)" },
		{ 01777, "writable by others (mode 1777)" },
		{ 0703, "writable by others" },
		{ 0770, "writable by its group (mode 0770)" },
		{ 0730, "writable by its group" },
	};
	struct ctlsock cs;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(chmod(run, bad[i].mode), 0);
		refused(sock, (uid_t)-1, bad[i].says);
		ck_assert(strstr(err, run) != NULL);
		ck_assert_int_eq(access(sock, F_OK), -1);	/* nothing made */
	}
	ck_assert_int_eq(chmod(run, 0755), 0);
	opens(sock, (uid_t)-1, &cs);
	ctlsock_close(&cs);
}
END_TEST

/* The directory belongs to a stranger: refused, unless it is the user
 * braidd becomes. Needs root, to give it away. */
START_TEST(test_dir_owner)
{
	struct ctlsock cs;

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(chown(run, STRANGER, STRANGER), 0);
	refused(sock, (uid_t)-1, "belongs to uid 54321");
	refused(sock, STRANGER + 1, "not to root or braidd's user");
	opens(sock, STRANGER, &cs);
	ctlsock_close(&cs);
}
END_TEST

/* The directory is a link (to a good directory, even): refused. */
START_TEST(test_dir_link)
{
	char link[128], path[160];

	snprintf(link, sizeof(link), "%s/via", tmpdir);
	snprintf(path, sizeof(path), "%s/b.sock", link);
	ck_assert_int_eq(symlink("run", link), 0);
	refused(path, (uid_t)-1, "symbolic link");
	ck_assert_int_eq(access(sock, F_OK), -1);
	/* Something not a directory where it should be. */
	snprintf(link, sizeof(link), "%s/file", tmpdir);
	snprintf(path, sizeof(path), "%s/b.sock", link);
	ck_assert_int_eq(close(open(link, O_WRONLY | O_CREAT, 0600)), 0);
	refused(path, (uid_t)-1, "not a directory");
}
END_TEST

/* A link at the socket's path, to a file elsewhere: refused, the link left
 * where it is, the file neither chmodded, chowned nor removed. Today's
 * chmod(path) after bind would make it 0660; its unlink(path), the link gone. */
START_TEST(test_link_planted)
{
	char back[PATH_MAX];
	struct stat st;
	ssize_t n;

	make_target();
	ck_assert_int_eq(symlink(target, sock), 0);
	refused(sock, (uid_t)-1, "a symbolic link");
	ck_assert(strstr(err, sock) != NULL);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	n = readlink(sock, back, sizeof(back) - 1);
	ck_assert_int_gt(n, 0);
	back[n] = '\0';
	ck_assert_str_eq(back, target);
	target_untouched();
	/* A dangling one: the same. */
	ck_assert_int_eq(unlink(sock), 0);
	ck_assert_int_eq(symlink("/nonexistent/x", sock), 0);
	refused(sock, (uid_t)-1, "a symbolic link");
	ck_assert_int_eq(lstat(sock, &st), 0);
}
END_TEST

/* A plain file (or a directory) at the socket's path stays. */
START_TEST(test_file_planted)
{
	struct stat st;

	snprintf(target, sizeof(target), "%s", sock);
	make_target();
	refused(sock, (uid_t)-1, "not a socket");
	target_untouched();
	ck_assert_int_eq(unlink(sock), 0);
	ck_assert_int_eq(mkdir(sock, 0700), 0);
	refused(sock, (uid_t)-1, "not a socket");
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
}
END_TEST

/* A socket left by a braidd that died is replaced. */
START_TEST(test_stale_socket)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctlsock cs;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	ck_assert(!can_connect(sock));
	opens(sock, (uid_t)-1, &cs);
	ck_assert(can_connect(sock));
	ctlsock_close(&cs);
}
END_TEST

/* chown: the socket's owner changes; swapped for a link afterwards, nothing
 * is chowned, and close does not remove what is there instead. */
START_TEST(test_chown)
{
	struct ctlsock cs;
	struct stat st;
	char moved[160];

	opens(sock, (uid_t)-1, &cs);
	if (geteuid() == 0) {
		ck_assert_int_eq(ctlsock_chown(&cs, STRANGER, STRANGER), 0);
		ck_assert_int_eq(lstat(sock, &st), 0);
		ck_assert_uint_eq(st.st_uid, STRANGER);
		ck_assert_uint_eq(st.st_gid, STRANGER);
		ck_assert_uint_eq(st.st_mode & 07777, 0660);
	}
	make_target();
	snprintf(moved, sizeof(moved), "%s/moved.sock", run);
	ck_assert_int_eq(rename(sock, moved), 0);
	ck_assert_int_eq(symlink(target, sock), 0);
	ck_assert_int_eq(ctlsock_chown(&cs, STRANGER, STRANGER), -ESTALE);
	target_untouched();
	ctlsock_close(&cs);
	ck_assert_int_eq(lstat(sock, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	target_untouched();
	ck_assert_int_eq(ctlsock_chown(&cs, 0, 0), -EBADF);	/* closed */
}
END_TEST

/* A bare name is in the working directory, which is given back. */
START_TEST(test_relative)
{
	char before[PATH_MAX], after[PATH_MAX];
	struct ctlsock cs;
	struct stat st;

	ck_assert_int_eq(chdir(run), 0);
	ck_assert_ptr_nonnull(getcwd(before, sizeof(before)));
	opens("r.sock", (uid_t)-1, &cs);
	ck_assert_ptr_nonnull(getcwd(after, sizeof(after)));
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(stat("r.sock", &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ctlsock_close(&cs);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(chdir(tmpdir), 0);
	opens("run/r.sock", (uid_t)-1, &cs);
	ck_assert_ptr_nonnull(getcwd(after, sizeof(after)));
	ck_assert_str_eq(after, tmpdir);
	ctlsock_close(&cs);
}
END_TEST

START_TEST(test_bad_paths)
{
	char longp[200];
	struct ctlsock cs;

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_eq(ctlsock_open(&cs, longp, (uid_t)-1, err, sizeof(err)), -ENAMETOOLONG);
	ck_assert(strstr(err, "too long") != NULL);
	ck_assert_int_eq(cs.fd, -1);
	ck_assert_int_eq(ctlsock_open(&cs, "/tmp/", (uid_t)-1, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(ctlsock_open(&cs, "", (uid_t)-1, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(ctlsock_open(&cs, "/tmp/..", (uid_t)-1, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(cs.dirfd, -1);
	ctlsock_close(&cs);	/* never opened: nothing */
}
END_TEST

static Suite *ctlsock_suite(void)
{
	Suite *s = suite_create("ctlsock");
	TCase *tc = tcase_create("ctlsock");

	tcase_add_checked_fixture(tc, ctlsock_setup, ctlsock_teardown);
	tcase_add_test(tc, test_born_0660);
	tcase_add_test(tc, test_dir_made);
	tcase_add_test(tc, test_dir_writable);
	tcase_add_test(tc, test_dir_owner);
	tcase_add_test(tc, test_dir_link);
	tcase_add_test(tc, test_link_planted);
	tcase_add_test(tc, test_file_planted);
	tcase_add_test(tc, test_stale_socket);
	tcase_add_test(tc, test_chown);
	tcase_add_test(tc, test_relative);
	tcase_add_test(tc, test_bad_paths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctlsock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
