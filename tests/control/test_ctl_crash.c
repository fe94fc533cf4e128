/* SPDX-License-Identifier: MIT */
/*
 * test_ctl_crash.c - SIGKILL the control process at random points of an
 * import, restart it, and check that the store holds exactly the previous
 * or the new generation, with the matching rule set, a loadable image,
 * and never less than what was acknowledged to the client.
 *
 * Usage: test_ctl_crash PATH/sipedge-control PATH/sipedgectl
 * CTL_CRASH_TRIALS (default 20) and CTL_CRASH_ROWS (default 20000) tune it.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../control/ctl.h"
#include "ctl_test_util.h"

static const char *control_bin;
static const char *ctl_bin;

struct fx {
	char            *dir;
	char             sock[256];
	char             db[256];
	char             out[256];
	char             file[2][256];  /* the two tables alternated */
	char            *ref[2];        /* their exports */
	size_t           ref_len[2];
	uint64_t         nrules[2];
	pid_t            pid;
};

static struct ctl_jval *
status(struct fx *fx)
{
	static const char *const argv[] = { "--json", "status", NULL };
	struct ctl_jval *v = NULL;
	size_t len;
	char *text;

	assert_int_equal(ctl_test_run_ctl(ctl_bin, fx->sock, fx->out, argv),
			 0);
	text = ctl_test_read_file(fx->out, &len);
	assert_non_null(text);
	assert_int_equal(ctl_json_parse(text, len, &v), 0);
	free(text);
	return v;
}

static char *
export(struct fx *fx, size_t *len)
{
	const char *argv[] = { "routes", "export", "-o", fx->out, NULL };

	assert_int_equal(ctl_test_run_ctl(ctl_bin, fx->sock, NULL, argv), 0);
	return ctl_test_read_file(fx->out, len);
}

static int
import(struct fx *fx, int which)
{
	const char *argv[] = { "routes", "import", fx->file[which], NULL };

	return ctl_test_run_ctl(ctl_bin, fx->sock, "/dev/null", argv);
}

static void
sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000,
			       .tv_nsec = (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
test_ctl_crash_sigkill_during_import(void **state)
{
	const char *env_trials = getenv("CTL_CRASH_TRIALS");
	const char *env_rows = getenv("CTL_CRASH_ROWS");
	int trials = env_trials != NULL ? atoi(env_trials) : 20;
	uint32_t rows = env_rows != NULL ? (uint32_t)atoi(env_rows) : 20000;
	static const char *const explain[] = { "routes", "explain",
					       "sip:+441234@edge.example",
					       NULL };
	struct fx *fx = *state;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	uint64_t gen, t0, import_us;
	int i, cur, ex, outcome[2] = { 0, 0 };
	char *csv;
	size_t len;

	fprintf(stderr, "# seed %u, %d trials, %u rows\n", seed, trials, rows);
	srand(seed);
	for (i = 0; i < 2; i++) {
		csv = ctl_test_csv(rows + (uint32_t)i * rows / 2,
				   i == 0 ? "a" : "b", &len);
		assert_int_equal(ctl_test_write_file(fx->file[i], csv, len), 0);
		free(csv);
	}

	/* References: import each table once and keep its export. */
	fx->pid = ctl_test_start_control(control_bin, fx->db, fx->sock, NULL);
	assert_true(fx->pid > 0);
	for (i = 1; i >= 0; i--) {
		t0 = ctl_mono_us();
		assert_int_equal(import(fx, i), 0);
		import_us = ctl_mono_us() - t0;
		fx->ref[i] = export(fx, &fx->ref_len[i]);
		fx->nrules[i] = rows + (uint64_t)i * rows / 2 + 1;
	}
	gen = 2;
	cur = 0;

	for (i = 0; i < trials; i++) {
		const char *argv[] = { "routes", "import",
				       fx->file[1 - cur], NULL };
		const struct ctl_jval *r;
		struct ctl_jval *v;
		long delay = (long)((uint64_t)rand() % (import_us * 2 + 1));
		uint64_t g;
		int got;
		pid_t cli;
		char *e;

		cli = ctl_test_spawn_ctl(ctl_bin, fx->sock, "/dev/null", argv);
		assert_true(cli > 0);
		sleep_us(delay);
		assert_int_equal(kill(fx->pid, SIGKILL), 0);
		waitpid(fx->pid, NULL, 0);
		ex = ctl_test_wait(cli);

		fx->pid = ctl_test_start_control(control_bin, fx->db, fx->sock,
						 NULL);
		assert_true(fx->pid > 0);
		v = status(fx);
		r = ctl_json_get(v, "result");
		g = (uint64_t)ctl_json_int(r, "generation", -1);
		assert_true(g == gen || g == gen + 1);
		/* Acknowledged means durable. */
		if (ex == 0)
			assert_int_equal(g, gen + 1);
		got = g == gen ? cur : 1 - cur;
		assert_int_equal(ctl_json_int(r, "rules", -1),
				 (int64_t)fx->nrules[got]);
		ctl_json_free(v);
		e = export(fx, &len);
		assert_int_equal(len, fx->ref_len[got]);
		assert_memory_equal(e, fx->ref[got], len);
		free(e);
		/* The current image verifies and loads. */
		assert_int_equal(ctl_test_run_ctl(ctl_bin, fx->sock,
						  "/dev/null", explain), 0);
		outcome[g == gen + 1]++;
		if (getenv("CTL_TEST_VERBOSE") != NULL)
			fprintf(stderr, "# trial %d: kill after %ld us, client exit %d, generation %llu\n",
				i, delay, ex, (unsigned long long)g);
		gen = g;
		cur = got;
	}
	fprintf(stderr, "# %d trials: %d kept the previous generation, %d the new one (%llu ms per import)\n",
		trials, outcome[0], outcome[1],
		(unsigned long long)import_us / 1000);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	fx->dir = ctl_test_tmpdir();
	if (fx->dir == NULL)
		return -1;
	snprintf(fx->sock, sizeof(fx->sock), "%s/ctl.sock", fx->dir);
	snprintf(fx->db, sizeof(fx->db), "%s/db", fx->dir);
	snprintf(fx->out, sizeof(fx->out), "%s/out", fx->dir);
	snprintf(fx->file[0], sizeof(fx->file[0]), "%s/a.csv", fx->dir);
	snprintf(fx->file[1], sizeof(fx->file[1]), "%s/b.csv", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	if (fx->pid > 0)
		ctl_test_stop_control(fx->pid);
	free(fx->ref[0]);
	free(fx->ref[1]);
	ctl_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_ctl_crash_sigkill_during_import, setup, teardown),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s SIPEDGE_CONTROL SIPEDGECTL\n",
			argv[0]);
		return 2;
	}
	control_bin = argv[1];
	ctl_bin = argv[2];
	return cmocka_run_group_tests_name("ctl_crash", tests, NULL, NULL);
}
