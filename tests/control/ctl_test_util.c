/* SPDX-License-Identifier: MIT */
/*
 * ctl_test_util.c - see ctl_test_util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../control/ctl.h"
#include "ctl_test_util.h"

char *
ctl_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if (asprintf(&p, "%s/sipedge-ctl-XXXXXX", base) == -1)
		return NULL;
	if (mkdtemp(p) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

static int
ctl_test_rm_one(const char *path, const struct stat *sb, int flag,
		struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
ctl_test_rmdir(char *dir)
{
	if (dir == NULL)
		return;
	nftw(dir, ctl_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *
ctl_test_csv(uint32_t n, const char *tag, size_t *len)
{
	struct ctl_buf b;
	uint32_t i;

	ctl_buf_init(&b);
	ctl_buf_addf(&b, "# generated rule table\n"
		     "id,kind,pattern,action,targets,rank,strip,prepend,code\n");
	for (i = 0; i < n; i++) {
		switch (i % 10) {
		case 0:
exact:
			ctl_buf_addf(&b, "%s%u,exact,1555%07u,forward,198.19.%u.%u:5060/1/3|198.19.1.1:5060/2,,,,\n",
				     tag, i, i, (i >> 8) & 255, i & 255);
			break;
		case 1:
			if (i % 1000 != 1)
				goto exact;
			ctl_buf_addf(&b, "%s%u,regex,^9%05u[0-9]+$,reject,,50,,,403\n",
				     tag, i, i % 100000);
			break;
		case 2:
			ctl_buf_addf(&b, "%s%u,domain,*.d%u.example.com,redirect,198.18.0.%u:5080,,,,\n",
				     tag, i, i, i & 255);
			break;
		default:
			ctl_buf_addf(&b, "%s%u,prefix,+44%u,forward,198.19.0.%u:5060|[2001:db8::%x]:5060/2/5,%u,1,0044,\n",
				     tag, i, i, i & 255, i & 0xffff, i % 200);
			break;
		}
	}
	ctl_buf_addf(&b, "%sdefault,default,,forward,198.19.0.9:5060,,,,\n", tag);
	*len = b.len;
	return b.p;
}

int
ctl_test_write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (f == NULL)
		return -errno;
	if (fwrite(p, 1, n, f) != n)
		rc = -EIO;
	if (fclose(f) != 0)
		rc = -EIO;
	return rc;
}

char *
ctl_test_read_file(const char *path, size_t *len)
{
	struct ctl_buf b;
	char tmp[65536];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return NULL;
	ctl_buf_init(&b);
	ctl_buf_add(&b, "", 0);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ctl_buf_add(&b, tmp, n);
	fclose(f);
	*len = b.len;
	return b.p;
}

static void
ctl_test_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * In a child just forked from @p parent: die with the test process, so
 * that a test killed by its timeout, or leaving a test function at a
 * failed assertion, leaves no daemon or client behind.
 */
static void
ctl_test_die_with(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127);
}

pid_t
ctl_test_start_control(const char *bin, const char *dir, const char *sock,
		       const char *extra_arg)
{
	pid_t pid, self = getpid();
	int i, fd;

	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		int devnull;

		ctl_test_die_with(self);
		devnull = open("/dev/null", O_WRONLY);

		/* Keep test output readable: the daemon logs warnings only. */
		if (devnull != -1 && getenv("CTL_TEST_VERBOSE") == NULL)
			dup2(devnull, STDERR_FILENO);
		execl(bin, bin, "--data-dir", dir, "--socket", sock,
		      "--log-level", "warning", extra_arg, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		fd = ctl_io_connect(sock);
		if (fd >= 0) {
			close(fd);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		ctl_test_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

int
ctl_test_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return -1;
}

int
ctl_test_stop_control(pid_t pid)
{
	if (kill(pid, SIGTERM) == -1)
		return -1;
	return ctl_test_wait(pid);
}

pid_t
ctl_test_spawn_ctl(const char *bin, const char *sock, const char *out_path,
		   const char *const *argv)
{
	const char *args[32];
	size_t n = 0;
	pid_t pid, self = getpid();

	args[n++] = bin;
	args[n++] = "--socket";
	args[n++] = sock;
	while (*argv != NULL && n < 31)
		args[n++] = *argv++;
	args[n] = NULL;
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		ctl_test_die_with(self);
		if (out_path != NULL) {
			int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC,
				      0600);

			if (fd == -1)
				_exit(127);
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		execv(bin, (char *const *)args);
		_exit(127);
	}
	return pid;
}

int
ctl_test_run_ctl(const char *bin, const char *sock, const char *out_path,
		 const char *const *argv)
{
	pid_t pid = ctl_test_spawn_ctl(bin, sock, out_path, argv);

	if (pid == -1)
		return -1;
	return ctl_test_wait(pid);
}
