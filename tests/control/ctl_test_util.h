/* SPDX-License-Identifier: MIT */
/*
 * ctl_test_util.h - helpers for the control tests: temporary directories,
 * generated rule tables, and (integration) the real binaries as processes.
 */
#ifndef SIPEDGE_TESTS_CONTROL_CTL_TEST_UTIL_H
#define SIPEDGE_TESTS_CONTROL_CTL_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A fresh directory under $TMPDIR; the caller frees the string. */
char *ctl_test_tmpdir(void);
/* rm -rf @p dir, then free(dir). NULL is a no-op. */
void ctl_test_rmdir(char *dir);

/*
 * A valid rule table with @p n rows (all kinds, two targets for forward
 * rules); ids are "<tag><i>". Returns malloc()ed text and *len.
 */
char *ctl_test_csv(uint32_t n, const char *tag, size_t *len);
int ctl_test_write_file(const char *path, const void *p, size_t n);
char *ctl_test_read_file(const char *path, size_t *len);

/* Start sipedge-control; waits until its socket accepts. */
pid_t ctl_test_start_control(const char *bin, const char *dir,
			     const char *sock, const char *extra_arg);
/* SIGTERM and wait: exit status, or -1 if it did not exit cleanly. */
int ctl_test_stop_control(pid_t pid);

/*
 * Run sipedgectl with @p argv (NULL-terminated, without argv[0]); stdout
 * goes to @p out_path if not NULL. Returns its exit status.
 */
int ctl_test_run_ctl(const char *bin, const char *sock, const char *out_path,
		     const char *const *argv);
/* Start sipedgectl without waiting. */
pid_t ctl_test_spawn_ctl(const char *bin, const char *sock,
			 const char *out_path, const char *const *argv);
int ctl_test_wait(pid_t pid);

#endif /* SIPEDGE_TESTS_CONTROL_CTL_TEST_UTIL_H */
