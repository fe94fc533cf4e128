/* SPDX-License-Identifier: MIT */
/*
 * test_ctl_proto.c - the control socket through the real binaries:
 * sipedge-control as a process, sipedgectl for every verb, and raw
 * clients for what sipedgectl never does (stalling mid-upload,
 * disconnecting, subscribing, malformed frames).
 *
 * Usage: test_ctl_proto PATH/sipedge-control PATH/sipedgectl
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
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../control/ctl.h"
#include "ctl_test_util.h"

static const char *control_bin;
static const char *ctl_bin;

static const char table[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30,,0,,\n"
	"uk,prefix,+44,redirect,198.19.0.4:5060,,1,0044,\n"
	"premium,regex,^1900[0-9]{7}$,reject,,10,,,403\n"
	"fallback,default,,forward,198.19.0.9:5060,,,,\n";

struct fx {
	char            *dir;
	char             sock[256];
	char             db[256];
	char             out[256];
	char             file[256];
	pid_t            pid;
};

/* A fixture whose server is started with @p extra_arg (or none). */
static int
setup_with(void **state, const char *extra_arg)
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
	snprintf(fx->file, sizeof(fx->file), "%s/rules.csv", fx->dir);
	fx->pid = ctl_test_start_control(control_bin, fx->db, fx->sock,
					 extra_arg);
	if (fx->pid <= 0)
		return -1;
	*state = fx;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, NULL);
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	if (fx->pid > 0)
		ctl_test_stop_control(fx->pid);
	ctl_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

static int
run(struct fx *fx, const char *const *argv)
{
	return ctl_test_run_ctl(ctl_bin, fx->sock, fx->out, argv);
}

/* Run `sipedgectl --json ARGS` and parse its reply. */
static struct ctl_jval *
run_json(struct fx *fx, const char *const *argv, int *ex)
{
	const char *args[16] = { "--json" };
	struct ctl_jval *v = NULL;
	size_t i, len;
	char *text;

	for (i = 0; argv[i] != NULL && i < 14; i++)
		args[i + 1] = argv[i];
	args[i + 1] = NULL;
	*ex = run(fx, args);
	text = ctl_test_read_file(fx->out, &len);
	assert_non_null(text);
	assert_int_equal(ctl_json_parse(text, len, &v), 0);
	free(text);
	return v;
}

static int64_t
status_int(struct fx *fx, const char *key)
{
	static const char *const argv[] = { "status", NULL };
	struct ctl_jval *v;
	int64_t r;
	int ex;

	v = run_json(fx, argv, &ex);
	assert_int_equal(ex, 0);
	assert_true(ctl_json_bool(v, "ok", false));
	r = ctl_json_int(ctl_json_get(v, "result"), key, -1);
	ctl_json_free(v);
	return r;
}

static bool
status_bool(struct fx *fx, const char *key)
{
	static const char *const argv[] = { "status", NULL };
	struct ctl_jval *v;
	bool r;
	int ex;

	v = run_json(fx, argv, &ex);
	assert_int_equal(ex, 0);
	r = ctl_json_bool(ctl_json_get(v, "result"), key, false);
	ctl_json_free(v);
	return r;
}

/* Wait (up to 2 s) until the server's import slot is @p busy. */
static void
wait_importing(struct fx *fx, bool busy)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (status_bool(fx, "import_in_progress") == busy)
			return;
		usleep(10000);
	}
	fail_msg("import_in_progress never became %d", busy);
}

/* Raw client: request frame, then optionally part of the data. */
static int
raw_begin_import(struct fx *fx, const char *data, size_t n)
{
	static const char req[] =
		"{\"cmd\":\"routes.import\",\"mode\":\"replace\"}";
	int fd = ctl_io_connect(fx->sock);

	assert_true(fd >= 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, req,
					   sizeof(req) - 1), 0);
	if (n != 0)
		assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_DATA, data, n),
				 0);
	return fd;
}

static struct ctl_jval *
raw_reply(int fd)
{
	struct ctl_jval *v = NULL;
	struct ctl_buf p;
	uint8_t type;

	ctl_buf_init(&p);
	do {
		assert_int_equal(ctl_io_read_frame(fd, &type, &p), 0);
	} while (type != CTL_FRAME_REPLY);
	assert_int_equal(ctl_json_parse(p.p, p.len, &v), 0);
	ctl_buf_fini(&p);
	return v;
}

/* The next reply on @p fd is error @p code, its message holding @p msg
 * (unless NULL). */
static void
raw_error(int fd, const char *code, const char *msg)
{
	struct ctl_jval *v = raw_reply(fd);
	const struct ctl_jval *e = ctl_json_get(v, "error");

	assert_string_equal(ctl_json_str(e, "code", ""), code);
	if (msg != NULL)
		assert_non_null(strstr(ctl_json_str(e, "message", ""), msg));
	ctl_json_free(v);
}

static void
test_ctl_proto_help_usage_and_connect_errors(void **state)
{
	struct fx *fx = *state;
	static const char *const help[] = { "--help", NULL };
	static const char *const vhelp[] = { "routes", "import", "--help", NULL };
	static const char *const unknown[] = { "frobnicate", NULL };
	static const char *const nofile[] = { "routes", "import", NULL };
	static const char *const status[] = { "status", NULL };
	char bad[300];

	assert_int_equal(run(fx, help), CTL_EXIT_OK);
	assert_int_equal(run(fx, vhelp), CTL_EXIT_OK);
	assert_int_equal(run(fx, unknown), CTL_EXIT_USAGE);
	assert_int_equal(run(fx, nofile), CTL_EXIT_USAGE);
	snprintf(bad, sizeof(bad), "%s/nope.sock", fx->dir);
	assert_int_equal(ctl_test_run_ctl(ctl_bin, bad, fx->out, status),
			 CTL_EXIT_CONNECT);
	assert_int_equal(run(fx, status), CTL_EXIT_OK);
	/* Arguments that would be sent as something else are refused. */
	{
		static const char *const bad_args[][8] = {
			{ "route", "show", "\xff\xfe", NULL },
			{ "route", "add", "\xfe\xfe", "exact", "55", "forward",
			  "198.19.0.3:5060", NULL },
			{ "route", "add", "--row",
			  "x,exact,55,forward,198.19.0.3:5060,,,,",
			  "--rank", "5", NULL },
			{ "subscribe", "--count", "abc", NULL },
			{ "subscribe", "--count", "-3", NULL },
			{ "routes", "import", "--wait", "abc", "-", NULL },
		};
		size_t k;

		for (k = 0; k < sizeof(bad_args) / sizeof(bad_args[0]); k++)
			assert_int_equal(run(fx, bad_args[k]), CTL_EXIT_USAGE);
	}
	/* A server that takes the connection but never answers (stopped,
	 * wedged): sipedgectl gives up after --timeout, as an I/O error. */
	{
		static const char *const wedged[] = { "--timeout", "1",
						      "status", NULL };
		static const char *const bad_timeout[] = { "--timeout", "-1",
							   "status", NULL };
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct timespec t0, t1;
		int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		assert_true(lfd >= 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/wedged.sock",
			 fx->dir);
		assert_int_equal(bind(lfd, (struct sockaddr *)&sa,
				      sizeof(sa)), 0);
		assert_int_equal(listen(lfd, 4), 0);  /* never accepted */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(ctl_test_run_ctl(ctl_bin, sa.sun_path,
						  fx->out, wedged),
				 CTL_EXIT_PROTO);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_true(t1.tv_sec - t0.tv_sec < 30);
		assert_int_equal(ctl_test_run_ctl(ctl_bin, sa.sun_path,
						  fx->out, bad_timeout),
				 CTL_EXIT_USAGE);
		close(lfd);
		unlink(sa.sun_path);
	}
	/* A failed export -o leaves the file it would replace as it was. */
	{
		const char *exp[] = { "routes", "export", "-o", fx->file,
				      NULL };
		char tmp[300];
		size_t len;
		char *text;

		assert_int_equal(ctl_test_write_file(fx->file, table,
						     sizeof(table) - 1), 0);
		assert_int_equal(ctl_test_run_ctl(ctl_bin, bad, NULL, exp),
				 CTL_EXIT_CONNECT);
		text = ctl_test_read_file(fx->file, &len);
		assert_non_null(text);
		assert_int_equal(len, sizeof(table) - 1);
		free(text);
		snprintf(tmp, sizeof(tmp), "%s.tmp", fx->file);
		assert_int_equal(access(tmp, F_OK), -1);
	}
}

static void
test_ctl_proto_import_export_round_trip(void **state)
{
	struct fx *fx = *state;
	const char *imp[] = { "routes", "import", fx->file, NULL };
	char out1[300], out2[300];
	const char *exp1[] = { "routes", "export", "-o", out1, NULL };
	const char *exp2[] = { "routes", "export", "-o", out2, NULL };
	const char *imp2[] = { "routes", "import", out1, NULL };
	struct ctl_jval *v;
	char *csv, *a, *b;
	size_t len, la, lb;
	int ex;

	csv = ctl_test_csv(2000, "p", &len);
	assert_int_equal(ctl_test_write_file(fx->file, csv, len), 0);
	snprintf(out1, sizeof(out1), "%s/out1.csv", fx->dir);
	snprintf(out2, sizeof(out2), "%s/out2.csv", fx->dir);

	v = run_json(fx, imp, &ex);
	assert_int_equal(ex, CTL_EXIT_OK);
	assert_true(ctl_json_bool(v, "ok", false));
	assert_string_equal(ctl_json_str(v, "cmd", ""), "routes.import");
	assert_int_equal(ctl_json_int(ctl_json_get(v, "result"), "generation",
				      0), 1);
	assert_int_equal(ctl_json_int(ctl_json_get(v, "result"), "rules", 0),
			 2001);
	ctl_json_free(v);

	assert_int_equal(run(fx, exp1), CTL_EXIT_OK);
	assert_int_equal(run(fx, imp2), CTL_EXIT_OK);
	assert_int_equal(run(fx, exp2), CTL_EXIT_OK);
	a = ctl_test_read_file(out1, &la);
	b = ctl_test_read_file(out2, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(status_int(fx, "generation"), 2);
	assert_int_equal(status_int(fx, "rules"), 2001);
	free(a);
	free(b);
	free(csv);
}

static void
test_ctl_proto_invalid_import_exit_code_and_lines(void **state)
{
	struct fx *fx = *state;
	static const char bad[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"a,prefix,1,forward,198.19.0.1:5060,,,,\n"
		"b,prefix,1x,forward,198.19.0.1:5060,,,,\n";
	const char *imp[] = { "routes", "import", fx->file, NULL };
	const struct ctl_jval *e;
	struct ctl_jval *v;
	int ex;

	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	assert_int_equal(ctl_test_write_file(fx->file, bad, sizeof(bad) - 1),
			 0);
	v = run_json(fx, imp, &ex);
	assert_int_equal(ex, CTL_EXIT_INVALID);
	assert_false(ctl_json_bool(v, "ok", true));
	assert_string_equal(ctl_json_str(ctl_json_get(v, "error"), "code", ""),
			    "invalid");
	e = ctl_json_get(ctl_json_get(v, "result"), "errors");
	assert_non_null(e);
	assert_int_equal(ctl_json_int(e->child, "line", 0), 3);
	assert_string_equal(ctl_json_str(e->child, "field", ""), "pattern");
	assert_int_equal(ctl_json_int(ctl_json_get(v, "result"), "error_count",
				      0), 1);
	ctl_json_free(v);
	assert_int_equal(status_int(fx, "generation"), 1);
	assert_int_equal(status_int(fx, "rules"), 4);
}

/*
 * Host names resolve from a hosts file of the test's own: main() binds it
 * over /etc/hosts (with "hosts: files" over /etc/nsswitch.conf) in a
 * private mount namespace the control processes inherit, so that no
 * lookup leaves the machine. Empty when that was not possible.
 */
static char *ns_dir;

static void
private_hosts(void)
{
	static const char hosts[] = "198.18.0.3 gw.test.example\n"
				    "127.0.0.2 loop.test.example\n";
	char h[512], n[512];

	ns_dir = ctl_test_tmpdir();
	if (ns_dir == NULL)
		return;
	snprintf(h, sizeof(h), "%s/hosts", ns_dir);
	snprintf(n, sizeof(n), "%s/nsswitch.conf", ns_dir);
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    ctl_test_write_file(h, hosts, sizeof(hosts) - 1) != 0 ||
	    ctl_test_write_file(n, "hosts: files\n", 13) != 0 ||
	    mount(h, "/etc/hosts", NULL, MS_BIND, NULL) != 0 ||
	    mount(n, "/etc/nsswitch.conf", NULL, MS_BIND, NULL) != 0) {
		ctl_test_rmdir(ns_dir);
		ns_dir = NULL;
	}
}

/*
 * Target host names through the real binaries: a name resolves and
 * "names" shows it; a name with no address a router can send to fails
 * the import with its line and field.
 */
static void
test_ctl_proto_host_name_import_and_names(void **state)
{
	struct fx *fx = *state;
	static const char named[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"a,prefix,1,forward,gw.test.example:5060,,,,\n";
	static const char loop[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"a,prefix,1,forward,198.19.0.1:5060,,,,\n"
		"b,prefix,2,forward,loop.test.example:5060,,,,\n";
	const char *imp[] = { "routes", "import", fx->file, NULL };
	const char *names[] = { "names", NULL };
	const struct ctl_jval *e;
	struct ctl_jval *v;
	size_t len;
	char *out;
	int ex;

	if (ns_dir == NULL)
		skip();
	assert_int_equal(run(fx, names), CTL_EXIT_OK);
	out = ctl_test_read_file(fx->out, &len);
	assert_non_null(out);
	assert_non_null(strstr(out, "no rule names a target host"));
	free(out);

	assert_int_equal(ctl_test_write_file(fx->file, named,
					     sizeof(named) - 1), 0);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	assert_int_equal(run(fx, names), CTL_EXIT_OK);
	out = ctl_test_read_file(fx->out, &len);
	assert_non_null(out);
	assert_non_null(strstr(out, "gw.test.example: ok; 198.18.0.3\n"));
	free(out);
	v = run_json(fx, names, &ex);
	assert_int_equal(ex, CTL_EXIT_OK);
	assert_int_equal(ctl_json_int(ctl_json_get(v, "result"),
				      "resolve_interval_s", 0), 60);
	ctl_json_free(v);

	assert_int_equal(ctl_test_write_file(fx->file, loop, sizeof(loop) - 1),
			 0);
	v = run_json(fx, imp, &ex);
	assert_int_equal(ex, CTL_EXIT_INVALID);
	e = ctl_json_get(ctl_json_get(v, "result"), "errors");
	assert_non_null(e);
	assert_int_equal(ctl_json_int(e->child, "line", 0), 3);
	assert_string_equal(ctl_json_str(e->child, "field", ""), "targets");
	assert_non_null(strstr(ctl_json_str(e->child, "message", ""),
			       "'loop.test.example:5060': host name does not resolve: no address a router can send to"));
	ctl_json_free(v);
	assert_int_equal(status_int(fx, "generation"), 1);
}

/* A second import while one is streaming is refused; the first commits. */
static void
test_ctl_proto_concurrent_import_is_refused(void **state)
{
	struct fx *fx = *state;
	const char *imp[] = { "routes", "import", fx->file, NULL };
	static const char *const add[] = { "route", "add", "z", "exact", "1",
					   "forward", "198.19.0.1:5060", NULL };
	struct ctl_jval *v;
	size_t half = 100;
	int fd, ex;

	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	fd = raw_begin_import(fx, table, half);
	wait_importing(fx, true);

	v = run_json(fx, imp, &ex);
	assert_int_equal(ex, CTL_EXIT_BUSY);
	assert_string_equal(ctl_json_str(ctl_json_get(v, "error"), "code", ""),
			    "busy");
	ctl_json_free(v);
	assert_int_equal(run(fx, add), CTL_EXIT_BUSY);
	/* Readers are served during the upload. */
	assert_int_equal(status_int(fx, "generation"), 0);

	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_DATA, table + half,
					   sizeof(table) - 1 - half), 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_END, NULL, 0), 0);
	v = raw_reply(fd);
	assert_true(ctl_json_bool(v, "ok", false));
	assert_int_equal(ctl_json_int(ctl_json_get(v, "result"), "generation",
				      0), 1);
	ctl_json_free(v);
	close(fd);
	/* And the lock is free again. */
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	assert_int_equal(status_int(fx, "generation"), 2);
}

/*
 * Many clients at once: every import either commits a generation of its
 * own or is refused as busy, and the generation counts the commits.
 */
static void
test_ctl_proto_parallel_clients(void **state)
{
	struct fx *fx = *state;
	const char *imp[] = { "routes", "import", fx->file, NULL };
	static const char *const st[] = { "status", NULL };
	pid_t pid[12];
	int i, ex, ok = 0, busy = 0;
	char *csv;
	size_t len;

	csv = ctl_test_csv(3000, "c", &len);
	assert_int_equal(ctl_test_write_file(fx->file, csv, len), 0);
	free(csv);
	for (i = 0; i < 12; i++)
		pid[i] = ctl_test_spawn_ctl(ctl_bin, fx->sock, "/dev/null",
					    i % 3 == 2 ? st : imp);
	for (i = 0; i < 12; i++) {
		assert_true(pid[i] > 0);
		ex = ctl_test_wait(pid[i]);
		if (i % 3 == 2) {
			assert_int_equal(ex, CTL_EXIT_OK);
			continue;
		}
		assert_true(ex == CTL_EXIT_OK || ex == CTL_EXIT_BUSY);
		ok += ex == CTL_EXIT_OK;
		busy += ex == CTL_EXIT_BUSY;
	}
	assert_true(ok >= 1);
	assert_int_equal(ok + busy, 8);
	assert_int_equal(status_int(fx, "generation"), ok);
	assert_int_equal(status_int(fx, "rules"), 3001);
}

/*
 * An explanation longer than the first buffer (many long patterns that
 * all match) comes whole, not left out of an "ok" reply.
 */
static void
test_ctl_proto_long_explanation(void **state)
{
	static const char *const explain[] = { "routes", "explain",
					       "sip:5551234@edge.example",
					       NULL };
	const char *imp[] = { "routes", "import", NULL, NULL };
	struct fx *fx = *state;
	const struct ctl_jval *r;
	struct ctl_jval *v;
	char *csv, *p;
	int ex, i;

	imp[2] = fx->file;
	csv = malloc(200000);
	assert_non_null(csv);
	p = csv + sprintf(csv, "id,kind,pattern,action,targets,rank,strip,"
			  "prepend,code\n");
	for (i = 0; i < 100; i++) {
		p += sprintf(p, "long%02d,regex,^5551234(", i);
		memset(p, 'a' + i % 26, 1000);
		p += 1000;
		p += sprintf(p, ")?$,reject,,%d,,,603\n", i + 1);
	}
	assert_int_equal(ctl_test_write_file(fx->file, csv,
					     (size_t)(p - csv)), 0);
	free(csv);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	v = run_json(fx, explain, &ex);
	assert_int_equal(ex, 0);
	r = ctl_json_get(v, "result");
	assert_non_null(ctl_json_get(r, "explain"));
	assert_non_null(strstr(ctl_json_str(r, "text", ""), "long63"));
	assert_true(strlen(ctl_json_str(r, "text", "")) > 65536);
	ctl_json_free(v);
}

/*
 * Pipelined requests are served one per turn (a client that queues many,
 * each of which may take a second at a million rules, does not hold up
 * the others): every one is still answered, in order, across turns, also
 * after the client has closed its side; another client's request queued
 * behind them is answered too.
 */
static void
test_ctl_proto_pipelined_client_takes_turns(void **state)
{
	static const char st[] = "{\"cmd\":\"status\"}";
	struct fx *fx = *state;
	struct ctl_jval *v;
	char req[256];
	int a, b, i;

	a = ctl_io_connect(fx->sock);
	b = ctl_io_connect(fx->sock);
	assert_true(a >= 0 && b >= 0);
	for (i = 0; i < 10; i++) {
		snprintf(req, sizeof(req), "{\"cmd\":\"route.add\",\"row\":"
			 "\"p%d,exact,555%04d,forward,198.19.0.1:5060,,,,\"}",
			 i, i);
		assert_int_equal(ctl_io_send_frame(a, CTL_FRAME_REQUEST, req,
						   strlen(req)), 0);
	}
	assert_int_equal(shutdown(a, SHUT_WR), 0);
	assert_int_equal(ctl_io_send_frame(b, CTL_FRAME_REQUEST, st,
					   sizeof(st) - 1), 0);
	v = raw_reply(b);
	assert_true(ctl_json_bool(v, "ok", false));
	ctl_json_free(v);
	for (i = 0; i < 10; i++) {
		v = raw_reply(a);
		assert_true(ctl_json_bool(v, "ok", false));
		assert_int_equal(ctl_json_int(ctl_json_get(v, "result"),
					      "generation", -1), i + 1);
		ctl_json_free(v);
	}
	close(a);
	close(b);
	assert_int_equal(status_int(fx, "generation"), 10);
}

/* With --wait, the second import waits for the first and then commits. */
static void
test_ctl_proto_import_wait_serialises(void **state)
{
	struct fx *fx = *state;
	const char *imp[] = { "routes", "import", fx->file, "--wait", "20",
			      NULL };
	struct ctl_jval *v;
	pid_t pid;
	int fd;

	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	fd = raw_begin_import(fx, table, 10);
	wait_importing(fx, true);
	pid = ctl_test_spawn_ctl(ctl_bin, fx->sock, "/dev/null", imp);
	assert_true(pid > 0);
	usleep(300000);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_DATA, table + 10,
					   sizeof(table) - 11), 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_END, NULL, 0), 0);
	v = raw_reply(fd);
	assert_true(ctl_json_bool(v, "ok", false));
	ctl_json_free(v);
	close(fd);
	assert_int_equal(ctl_test_wait(pid), CTL_EXIT_OK);
	assert_int_equal(status_int(fx, "generation"), 2);
}

static void
test_ctl_proto_disconnect_mid_stream_commits_nothing(void **state)
{
	struct fx *fx = *state;
	const char *imp[] = { "routes", "import", fx->file, NULL };
	char *csv;
	size_t len;
	int fd;

	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	csv = ctl_test_csv(5000, "d", &len);
	/* A whole, valid file, but no END frame. */
	fd = raw_begin_import(fx, csv, len);
	close(fd);
	wait_importing(fx, false);
	assert_int_equal(status_int(fx, "generation"), 1);
	assert_int_equal(status_int(fx, "rules"), 4);
	/* Cut inside a frame, too. */
	fd = raw_begin_import(fx, NULL, 0);
	assert_int_equal(ctl_io_write_all(fd, "D\0\0\x10\0abc", 8), 0);
	close(fd);
	wait_importing(fx, false);
	assert_int_equal(status_int(fx, "generation"), 1);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	assert_int_equal(status_int(fx, "generation"), 2);
	free(csv);
}

/*
 * An import that stops sending holds the slot until --upload-timeout: then
 * it is abandoned (its client told why), nothing committed, and the next
 * import goes through. This fixture's server runs with a 1 s timeout.
 */
static void
test_ctl_proto_idle_import_times_out(void **state)
{
	struct fx *fx = *state;
	const char *imp[] = { "routes", "import", fx->file, NULL };
	char *csv;
	size_t len;
	int fd;

	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	csv = ctl_test_csv(100, "t", &len);
	fd = raw_begin_import(fx, csv, len);
	wait_importing(fx, true);
	usleep(2500000);
	assert_false(status_bool(fx, "import_in_progress"));
	raw_error(fd, "protocol", "no data for 1 s");
	close(fd);
	assert_int_equal(status_int(fx, "generation"), 1);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	assert_int_equal(status_int(fx, "generation"), 2);

	/* Empty data frames are no progress: they do not hold the slot. */
	fd = raw_begin_import(fx, csv, len);
	wait_importing(fx, true);
	{
		int i;

		for (i = 0; i < 10; i++) {
			if (ctl_io_send_frame(fd, CTL_FRAME_DATA, "", 0) != 0)
				break;
			usleep(250000);
		}
	}
	assert_false(status_bool(fx, "import_in_progress"));
	raw_error(fd, "protocol", "no data for 1 s");
	close(fd);
	/* Half a frame is not held longer either. */
	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	{
		static const char half[] = "Q\0\0\0\x20{\"cmd\"";

		assert_int_equal(ctl_io_write_all(fd, half, sizeof(half) - 1),
				 0);
	}
	raw_error(fd, "protocol", "frame incomplete for 1 s");
	close(fd);
	assert_int_equal(status_int(fx, "generation"), 2);
	free(csv);
}

static int
setup_timeout(void **state)
{
	return setup_with(state, "--upload-timeout=1");
}

static void
test_ctl_proto_subscriber_gets_generation_event(void **state)
{
	struct fx *fx = *state;
	static const char req[] = "{\"cmd\":\"subscribe\"}";
	const char *imp[] = { "routes", "import", fx->file, NULL };
	struct ctl_jval *v;
	struct ctl_buf p;
	uint8_t type;
	int fd;

	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, req,
					   sizeof(req) - 1), 0);
	v = raw_reply(fd);
	assert_true(ctl_json_bool(v, "ok", false));
	assert_int_equal(ctl_json_int(ctl_json_get(v, "result"), "generation",
				      -1), 0);
	ctl_json_free(v);
	assert_int_equal(status_int(fx, "subscribers"), 1);

	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	ctl_buf_init(&p);
	assert_int_equal(ctl_io_read_frame(fd, &type, &p), 0);
	assert_int_equal(type, CTL_FRAME_EVENT);
	assert_null(memchr(p.p, '\n', p.len));  /* one line */
	assert_int_equal(ctl_json_parse(p.p, p.len, &v), 0);
	assert_string_equal(ctl_json_str(v, "event", ""), "generation");
	assert_string_equal(ctl_json_str(v, "state", ""), "ready");
	assert_int_equal(ctl_json_int(v, "generation", 0), 1);
	assert_int_equal(ctl_json_int(v, "rules", 0), 4);
	ctl_json_free(v);
	ctl_buf_fini(&p);
	close(fd);
}

/* sipedgectl subscribe prints "generation N ready" lines. */
static void
test_ctl_proto_sipedgectl_subscribe_and_merge(void **state)
{
	struct fx *fx = *state;
	static const char extra[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"de,prefix,49,redirect,198.19.0.4:5060,,,,\n";
	static const char *const sub[] = { "subscribe", "--count", "2", NULL };
	const char *imp[] = { "routes", "import", fx->file, NULL };
	const char *merge[] = { "routes", "import", fx->file, "--merge", NULL };
	const char *dry[] = { "routes", "import", fx->file, "--dry-run", NULL };
	char subout[300], *text;
	size_t len;
	pid_t pid;
	int i;

	snprintf(subout, sizeof(subout), "%s/sub.txt", fx->dir);
	pid = ctl_test_spawn_ctl(ctl_bin, fx->sock, subout, sub);
	assert_true(pid > 0);
	for (i = 0; i < 200 && status_int(fx, "subscribers") != 1; i++)
		usleep(10000);
	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	assert_int_equal(ctl_test_write_file(fx->file, extra,
					     sizeof(extra) - 1), 0);
	assert_int_equal(run(fx, dry), CTL_EXIT_OK);
	assert_int_equal(status_int(fx, "generation"), 1);
	assert_int_equal(run(fx, merge), CTL_EXIT_OK);
	assert_int_equal(status_int(fx, "rules"), 5);
	assert_int_equal(ctl_test_wait(pid), CTL_EXIT_OK);
	text = ctl_test_read_file(subout, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "generation 1 ready (4 rules)"));
	assert_non_null(strstr(text, "generation 2 ready (5 rules)"));
	free(text);
}

static void
test_ctl_proto_route_config_explain_verbs(void **state)
{
	struct fx *fx = *state;
	const char *imp[] = { "routes", "import", fx->file, NULL };
	static const char *const add[] = { "route", "add", "x1", "exact",
					   "5551234", "forward",
					   "198.19.0.1:5060", "--rank", "5",
					   NULL };
	static const char *const show[] = { "route", "show", "x1", NULL };
	static const char *const del[] = { "route", "del", "x1", NULL };
	static const char *const del2[] = { "route", "del", "x1", NULL };
	static const char *const set[] = { "config", "set", "artefacts.keep",
					   "4", NULL };
	static const char *const setbad[] = { "config", "set",
					      "artefacts.keep", "0", NULL };
	static const char *const get[] = { "config", "get", "artefacts.keep",
					   NULL };
	static const char *const explain[] = { "routes", "explain",
					       "sip:5551234@edge.example",
					       NULL };
	struct ctl_jval *v;
	const struct ctl_jval *r;
	int ex;

	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	assert_int_equal(run(fx, add), CTL_EXIT_OK);
	assert_int_equal(run(fx, add), CTL_EXIT_INVALID);       /* exists */
	v = run_json(fx, show, &ex);
	assert_int_equal(ex, 0);
	r = ctl_json_get(ctl_json_get(v, "result"), "rule");
	assert_string_equal(ctl_json_str(r, "kind", ""), "exact");
	assert_int_equal(ctl_json_int(r, "rank", 0), 5);
	ctl_json_free(v);
	v = run_json(fx, explain, &ex);
	assert_int_equal(ex, 0);
	r = ctl_json_get(v, "result");
	assert_int_equal(ctl_json_int(r, "generation", 0), 2);
	assert_non_null(ctl_json_get(r, "explain"));
	assert_non_null(strstr(ctl_json_str(r, "text", ""), "x1"));
	ctl_json_free(v);
	assert_int_equal(run(fx, del), CTL_EXIT_OK);
	assert_int_equal(run(fx, del2), CTL_EXIT_FAIL);         /* not found */
	assert_int_equal(status_int(fx, "generation"), 3);

	/* A rule called "-h": "--" makes it a word, not a call for help;
	 * blanks around a positional field are kept, as quoted in a CSV. */
	{
		static const char *const addh[] = { "route", "add", "--",
			"-h", "regex", " 12 ", "forward", "198.19.0.1:5060",
			NULL };
		static const char *const showh[] = { "route", "show", "--",
						     "-h", NULL };
		static const char *const delh[] = { "route", "del", "--",
						    "-h", NULL };

		assert_int_equal(run(fx, addh), CTL_EXIT_OK);
		v = run_json(fx, showh, &ex);
		assert_int_equal(ex, 0);
		r = ctl_json_get(ctl_json_get(v, "result"), "rule");
		assert_string_equal(ctl_json_str(r, "id", ""), "-h");
		assert_string_equal(ctl_json_str(r, "pattern", ""), " 12 ");
		ctl_json_free(v);
		assert_int_equal(run(fx, delh), CTL_EXIT_OK);
		assert_int_equal(run(fx, delh), CTL_EXIT_FAIL);
		assert_int_equal(status_int(fx, "generation"), 5);
	}

	assert_int_equal(run(fx, set), CTL_EXIT_OK);
	assert_int_equal(run(fx, setbad), CTL_EXIT_INVALID);
	v = run_json(fx, get, &ex);
	assert_int_equal(ex, 0);
	r = ctl_json_get(ctl_json_get(v, "result"), "settings");
	assert_int_equal(ctl_json_int(r->child, "value", 0), 4);
	assert_string_equal(ctl_json_str(r->child, "source", ""), "stored");
	ctl_json_free(v);
}

/* `config get KEY`: the one setting's value (a string) and source. */
static char *
config_get_str(struct fx *fx, const char *key, char *source, size_t cap)
{
	const char *argv[] = { "config", "get", key, NULL };
	const struct ctl_jval *s;
	struct ctl_jval *v;
	char *val;
	int ex;

	v = run_json(fx, argv, &ex);
	assert_int_equal(ex, CTL_EXIT_OK);
	assert_true(ctl_json_bool(v, "ok", false));
	s = ctl_json_get(ctl_json_get(v, "result"), "settings");
	assert_non_null(s);
	assert_non_null(s->child);
	assert_null(s->child->next);
	assert_string_equal(ctl_json_str(s->child, "name", ""), key);
	assert_string_equal(ctl_json_str(s->child, "type", ""), "string");
	snprintf(source, cap, "%s", ctl_json_str(s->child, "source", ""));
	val = strdup(ctl_json_str(s->child, "value", "?"));
	assert_non_null(val);
	ctl_json_free(v);
	return val;
}

/* `config set KEY VALUE` expected to fail as invalid with @p msg. */
static void
config_set_invalid(struct fx *fx, const char *key, const char *value,
		   const char *msg)
{
	const char *argv[] = { "config", "set", key, value, NULL };
	const struct ctl_jval *e;
	struct ctl_jval *v;
	int ex;

	v = run_json(fx, argv, &ex);
	assert_int_equal(ex, CTL_EXIT_INVALID);
	assert_false(ctl_json_bool(v, "ok", true));
	e = ctl_json_get(v, "error");
	assert_non_null(e);
	assert_string_equal(ctl_json_str(e, "code", ""), "invalid");
	assert_string_equal(ctl_json_str(e, "message", ""), msg);
	ctl_json_free(v);
}

/*
 * Source address policy settings: config.set checks the value before
 * storing it (an address list names its bad entry), a refused value
 * leaves the stored one alone, and a list of thousands of entries
 * survives set and get whole.
 */
static void
test_ctl_proto_config_policy_settings_checked(void **state)
{
	struct fx *fx = *state;
	static const char deny[] = "10.0.0.0/8, 2001:db8::/32 192.0.2.1";
	static const char *const setdeny[] = { "config", "set", "acl.deny",
					       deny, NULL };
	static const char *const setaction[] = { "config", "set",
						 "acl.action", "403", NULL };
	static const char *const setrps[] = { "config", "set",
					      "ratelimit.rps", "10000000",
					      NULL };
	static const char *const getrps[] = { "config", "get",
					      "ratelimit.rps", NULL };
	const char *setlong[] = { "config", "set", "acl.allow", NULL, NULL };
	const struct ctl_jval *s;
	struct ctl_jval *v;
	char src[32], *val, *list;
	size_t off = 0, cap = 3000 * 20;
	unsigned int i;
	int ex, fd;

	/* Nothing stored yet: the empty default. */
	val = config_get_str(fx, "acl.deny", src, sizeof(src));
	assert_string_equal(val, "");
	assert_string_equal(src, "default");
	free(val);

	/* A valid list is stored as given. */
	v = run_json(fx, setdeny, &ex);
	assert_int_equal(ex, CTL_EXIT_OK);
	assert_true(ctl_json_bool(v, "ok", false));
	s = ctl_json_get(ctl_json_get(v, "result"), "settings");
	assert_non_null(s);
	assert_string_equal(ctl_json_str(s->child, "value", ""), deny);
	ctl_json_free(v);
	val = config_get_str(fx, "acl.deny", src, sizeof(src));
	assert_string_equal(val, deny);
	assert_string_equal(src, "stored");
	free(val);

	/* A bad list is refused, naming the entry; the old value stays. */
	config_set_invalid(fx, "acl.deny", "10.0.0.0/8, 192.0.2.300",
		"acl.deny: entry 2 '192.0.2.300': not an IPv4 or IPv6 "
		"address");
	config_set_invalid(fx, "acl.deny", "10.0.0.1/8",
		"acl.deny: entry 1 '10.0.0.1/8': address has bits set past "
		"the prefix length");
	config_set_invalid(fx, "acl.deny", "::/0 ::/129",
		"acl.deny: entry 2 '::/129': prefix length must be 0-128");
	val = config_get_str(fx, "acl.deny", src, sizeof(src));
	assert_string_equal(val, deny);
	assert_string_equal(src, "stored");
	free(val);

	/* targets.down: ADDR:PORT entries, named when wrong. */
	config_set_invalid(fx, "targets.down", "198.19.0.3:5060 gw.example:5060",
		"targets.down: entry 2 'gw.example:5060': not an IP address "
		"(host names are not targets)");

	/* Refuse actions: only drop and 403. */
	config_set_invalid(fx, "acl.action", "reject",
			   "acl.action: 'reject': must be drop or 403");
	val = config_get_str(fx, "acl.action", src, sizeof(src));
	assert_string_equal(src, "default");
	assert_string_equal(val, "drop");       /* what absent means */
	free(val);
	assert_int_equal(run(fx, setaction), CTL_EXIT_OK);
	val = config_get_str(fx, "acl.action", src, sizeof(src));
	assert_string_equal(val, "403");
	assert_string_equal(src, "stored");
	free(val);
	config_set_invalid(fx, "ratelimit.action", "DROP",
			   "ratelimit.action: 'DROP': must be drop or 403");

	/* Rates: 0..10,000,000. */
	config_set_invalid(fx, "ratelimit.rps", "10000001",
			   "ratelimit.rps must be an integer in 0..10000000");
	config_set_invalid(fx, "ratelimit.burst", "-1",
			   "ratelimit.burst must be an integer in "
			   "0..10000000");
	config_set_invalid(fx, "ratelimit.burst", "+3",
			   "ratelimit.burst must be an integer in "
			   "0..10000000");
	config_set_invalid(fx, "ratelimit.burst", " 3",
			   "ratelimit.burst must be an integer in "
			   "0..10000000");
	assert_int_equal(run(fx, setrps), CTL_EXIT_OK);
	v = run_json(fx, getrps, &ex);
	assert_int_equal(ex, CTL_EXIT_OK);
	s = ctl_json_get(ctl_json_get(v, "result"), "settings");
	assert_int_equal(ctl_json_int(s->child, "value", -1), 10000000);
	assert_int_equal(ctl_json_int(s->child, "max", -1), 10000000);
	ctl_json_free(v);

	/* 3000 entries, tens of KiB: stored and read back whole. */
	list = malloc(cap);
	assert_non_null(list);
	for (i = 0; i < 3000; i++)
		off += (size_t)snprintf(list + off, cap - off,
					"%s10.%u.%u.%u/32", i == 0 ? "" : ", ",
					(i >> 16) & 255, (i >> 8) & 255,
					i & 255);
	assert_true(off > 1024 && off < cap - 1);
	setlong[3] = list;
	assert_int_equal(run(fx, setlong), CTL_EXIT_OK);
	val = config_get_str(fx, "acl.allow", src, sizeof(src));
	assert_string_equal(src, "stored");
	assert_int_equal(strlen(val), off);
	assert_string_equal(val, list);
	free(val);
	/* And a bad entry at the end of it is still found. */
	snprintf(list + off, cap - off, " 10.0.0.1/24");
	config_set_invalid(fx, "acl.allow", list,
		"acl.allow: entry 3001 '10.0.0.1/24': address has bits set "
		"past the prefix length");
	val = config_get_str(fx, "acl.allow", src, sizeof(src));
	assert_int_equal(strlen(val), off);
	free(val);
	free(list);

	/* Over 256 KiB is refused before any check (sipedgectl cannot
	 * pass such an argument, so a raw request). */
	cap = 64 + CTL_SETTING_STR_MAX + 1;
	list = malloc(cap);
	assert_non_null(list);
	off = (size_t)snprintf(list, cap, "{\"cmd\":\"config.set\","
			       "\"key\":\"acl.allow\",\"value\":\"");
	memset(list + off, ' ', CTL_SETTING_STR_MAX + 1);
	off += CTL_SETTING_STR_MAX + 1;
	memcpy(list + off, "\"}", 2);
	off += 2;
	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, list, off),
			 0);
	v = raw_reply(fd);
	assert_false(ctl_json_bool(v, "ok", true));
	assert_string_equal(ctl_json_str(ctl_json_get(v, "error"), "code", ""),
			    "invalid");
	assert_string_equal(ctl_json_str(ctl_json_get(v, "error"), "message",
					 ""),
			    "acl.allow: value longer than 262144 bytes");
	ctl_json_free(v);
	close(fd);
	free(list);
	val = config_get_str(fx, "acl.allow", src, sizeof(src));
	assert_string_equal(src, "stored");
	assert_true(strlen(val) > 1024);
	free(val);
}

/* import.max_rows: an upload past it is abandoned, nothing committed. */
static void
test_ctl_proto_import_max_rows(void **state)
{
	struct fx *fx = *state;
	const char *imp[] = { "routes", "import", fx->file, NULL };
	const char *three[] = { "config", "set", "import.max_rows", "3", NULL };
	const char *back[] = { "config", "set", "import.max_rows", "4", NULL };
	struct ctl_jval *v;
	int ex;

	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	assert_int_equal(run(fx, three), CTL_EXIT_OK);
	v = run_json(fx, imp, &ex);
	assert_int_equal(ex, CTL_EXIT_PROTO);
	assert_non_null(strstr(ctl_json_str(ctl_json_get(v, "error"),
					    "message", ""),
			       "past import.max_rows (3 rows)"));
	ctl_json_free(v);
	assert_int_equal(status_int(fx, "generation"), 0);
	assert_false(status_bool(fx, "import_in_progress"));
	/* Four rows are allowed at four. */
	assert_int_equal(run(fx, back), CTL_EXIT_OK);
	assert_int_equal(run(fx, imp), CTL_EXIT_OK);
	assert_int_equal(status_int(fx, "generation"), 1);
}

static void
test_ctl_proto_malformed_frames_are_rejected(void **state)
{
	struct fx *fx = *state;
	static const char notjson[] = "{\"cmd\":";
	static const char unknown[] = "{\"cmd\":\"nope\"}";
	static const char dup[] =
		"{\"cmd\":\"stats.report\",\"cmd\":\"ping\"}";
	static const char nul[] = "{\"cmd\\u0000x\":\"ping\"}";
	static const char imp[] = "{\"cmd\":\"routes.import\"}";
	int fd;

	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, notjson,
					   sizeof(notjson) - 1), 0);
	raw_error(fd, "bad_request", NULL);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, unknown,
					   sizeof(unknown) - 1), 0);
	raw_error(fd, "unknown_command", NULL);
	/* Data outside an upload is a protocol error; the server hangs up. */
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_DATA, "x", 1), 0);
	raw_error(fd, "protocol", NULL);
	close(fd);
	/* An oversized length field. */
	fd = ctl_io_connect(fx->sock);
	assert_int_equal(ctl_io_write_all(fd, "Q\xff\xff\xff\xff", 5), 0);
	raw_error(fd, "protocol", NULL);
	close(fd);
	/* A member named twice (one reader takes the first, another the
	 * last), a NUL in a name, where malformed JSON stops. */
	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, dup,
					   sizeof(dup) - 1), 0);
	raw_error(fd, "bad_request", "names a member twice");
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, nul,
					   sizeof(nul) - 1), 0);
	raw_error(fd, "bad_request", "not valid JSON (byte ");
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, notjson,
					   sizeof(notjson) - 1), 0);
	raw_error(fd, "bad_request", "not valid JSON (byte 7)");
	/* A refused upload's frames are discarded; a protocol error among
	 * them names the command they came with. */
	{
		static const char badimp[] =
			"{\"cmd\":\"routes.import\",\"dry_run\":\"x\"}";
		struct ctl_jval *v;

		assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST,
						   badimp, sizeof(badimp) - 1),
				 0);
		raw_error(fd, "bad_request", NULL);
		assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_DATA, "a,b\n",
						   4), 0);
		assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST,
						   notjson, sizeof(notjson) - 1),
				 0);
		v = raw_reply(fd);
		assert_string_equal(ctl_json_str(v, "cmd", ""),
				    "routes.import");
		assert_string_equal(ctl_json_str(ctl_json_get(v, "error"),
						 "code", ""), "protocol");
		ctl_json_free(v);
		close(fd);
		fd = ctl_io_connect(fx->sock);
		assert_true(fd >= 0);
	}
	/* An upload's end frame is empty. */
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, imp,
					   sizeof(imp) - 1), 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_END, "x", 1), 0);
	raw_error(fd, "protocol", "an end frame carries nothing");
	close(fd);
	assert_int_equal(status_int(fx, "generation"), 0);
}

/* Resident memory of process @p pid, in KiB. */
static long
t_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Import a table of @p nrules prefix rules, one target each. */
static void
t_import_rules(struct fx *fx, int nrules)
{
	const char *argv[] = { "routes", "import", fx->file, NULL };
	char *csv, *o;
	int i;

	csv = malloc((size_t)nrules * 64 + 128);
	if (csv == NULL) {
		fail_msg("out of memory");
		return;
	}
	o = csv + sprintf(csv, "%s",
			  "id,kind,pattern,action,targets,rank,strip,prepend,code\n");
	for (i = 0; i < nrules; i++)
		o += sprintf(o, "r%05d,prefix,1212%05d,forward,"
			     "198.19.%d.%d:5060,,,,\n", i, i, i / 250,
			     i % 250 + 1);
	assert_int_equal(ctl_test_write_file(fx->file, csv,
					     (size_t)(o - csv)), 0);
	free(csv);
	assert_int_equal(run(fx, argv), 0);
}

/*
 * A client that pipelines requests without reading their replies: the
 * server stops serving it once CTL_OUT_HOLD bytes are queued (its memory
 * stays bounded), and serves the rest, in order, as the client reads.
 */
static void
test_ctl_proto_unread_replies_are_bounded(void **state)
{
	static const char req[] = "{\"cmd\":\"routes.export\"}";
	enum { NRULES = 2000, NREQ = 1200 };
	struct fx *fx = *state;
	struct ctl_jval *v;
	struct ctl_buf reqs;
	long rss0, rss1;
	int fd, i;

	t_import_rules(fx, NRULES);

	rss0 = t_rss_kib(fx->pid);
	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	/* All requests in one write: the server takes them in before it
	 * stops reading, as it would a client's pipeline. */
	ctl_buf_init(&reqs);
	for (i = 0; i < NREQ; i++)
		ctl_frame_put(&reqs, CTL_FRAME_REQUEST, req, sizeof(req) - 1);
	assert_int_equal(reqs.err, 0);
	assert_int_equal(ctl_io_write_all(fd, reqs.p, reqs.len), 0);
	ctl_buf_fini(&reqs);
	/* ~100 KB a reply: 120 MB asked for, at most CTL_OUT_HOLD held. */
	sleep(2);
	rss1 = t_rss_kib(fx->pid);
	if (rss1 - rss0 > 80 * 1024)
		fail_msg("server grew by %ld KiB for replies not read",
			 rss1 - rss0);
	/* Another client is served meanwhile, but for another export,
	 * refused while this one leaves more than CTL_OUT_HOLD unread. */
	assert_true(status_int(fx, "generation") > 0);
	{
		int fd2 = ctl_io_connect(fx->sock);
		struct ctl_buf in;
		uint8_t type;

		assert_true(fd2 >= 0);
		assert_int_equal(ctl_io_send_frame(fd2, CTL_FRAME_REQUEST, req,
						   sizeof(req) - 1), 0);
		ctl_buf_init(&in);
		assert_int_equal(ctl_io_read_frame(fd2, &type, &in), 0);
		assert_int_equal(type, CTL_FRAME_END);
		ctl_buf_fini(&in);
		raw_error(fd2, "busy", "not yet read; nothing exported");
		close(fd2);
	}
	for (i = 0; i < NREQ; i++) {
		v = raw_reply(fd);
		assert_true(ctl_json_bool(v, "ok", false));
		assert_int_equal(ctl_json_int(ctl_json_get(v, "result"),
					      "rules", -1), NRULES);
		ctl_json_free(v);
	}
	close(fd);
}

/*
 * A connection the server is closing (a protocol error) while replies are
 * still queued for it is read no more: what the client goes on sending
 * stays in the socket, not in the server's memory.
 */
static void
test_ctl_proto_closing_connection_not_read(void **state)
{
	static const char req[] = "{\"cmd\":\"config.get\"}";
	struct fx *fx = *state;
	static char junk[1 << 16];
	struct ctl_buf reqs;
	size_t sent = 0;
	long rss0, rss1;
	int fd, i, small = 4096;
	ssize_t w;

	rss0 = t_rss_kib(fx->pid);
	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)), 0);
	ctl_buf_init(&reqs);
	for (i = 0; i < 3000; i++)
		ctl_frame_put(&reqs, CTL_FRAME_REQUEST, req, sizeof(req) - 1);
	/* then a frame of no known type: a protocol error */
	ctl_buf_add(&reqs, "X\0\0\0\0", 5);
	assert_int_equal(reqs.err, 0);
	assert_int_equal(ctl_io_write_all(fd, reqs.p, reqs.len), 0);
	ctl_buf_fini(&reqs);
	usleep(300000);
	/* Then as much as the server takes in two seconds. */
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	memset(junk, 'Q', sizeof(junk));
	for (i = 0; i < 200; i++) {
		while ((w = send(fd, junk, sizeof(junk), MSG_NOSIGNAL)) > 0)
			sent += (size_t)w;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		usleep(10000);
	}
	rss1 = t_rss_kib(fx->pid);
	close(fd);
	/* Socket buffers take a few hundred KiB; read on, the server took
	 * in tens of MiB in these two seconds. */
	if (sent > (16u << 20) || rss1 - rss0 > 24 * 1024)
		fail_msg("closing connection read on: %zu bytes sent, server "
			 "grew by %ld KiB", sent, rss1 - rss0);
	assert_int_equal(status_int(fx, "generation"), 0);
}

/*
 * A client that half-closes after its request still gets the whole reply
 * (one larger than the socket buffers), then the connection is closed.
 */
static void
test_ctl_proto_half_close_gets_whole_reply(void **state)
{
	static const char req[] = "{\"cmd\":\"routes.export\"}";
	enum { NRULES = 20000 };
	struct fx *fx = *state;
	struct ctl_jval *v;
	struct ctl_buf p;
	size_t data = 0;
	uint8_t type;
	int fd;

	t_import_rules(fx, NRULES);
	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, req,
					   sizeof(req) - 1), 0);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	usleep(200000);
	ctl_buf_init(&p);
	for (;;) {
		assert_int_equal(ctl_io_read_frame(fd, &type, &p), 0);
		if (type == CTL_FRAME_REPLY)
			break;
		if (type == CTL_FRAME_DATA)
			data += p.len;
	}
	assert_int_equal(ctl_json_parse(p.p, p.len, &v), 0);
	ctl_buf_fini(&p);
	assert_true(ctl_json_bool(v, "ok", false));
	assert_int_equal(ctl_json_int(ctl_json_get(v, "result"), "rules", -1),
			 NRULES);
	ctl_json_free(v);
	assert_true(data > (size_t)NRULES * 30);
	close(fd);
}

/* CPU time (user + system) of process @p pid, in clock ticks. */
static long
t_cpu_ticks(pid_t pid)
{
	unsigned long ut = 0, st = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	/* after "(comm)": state is field 3, utime 14, stime 15 */
	p = strrchr(buf, ')');
	assert_non_null(p);
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %lu %lu", &ut, &st), 2);
	return (long)(ut + st);
}

/*
 * Out of descriptors (a limit of 64), or past the connection cap: further
 * connections are accepted and closed at once, the server does not spin
 * on its listening socket, and serves again once clients leave.
 */
static void
test_ctl_proto_connection_flood_shed(void **state)
{
	struct fx *fx = *state;
	struct rlimit rl = { .rlim_cur = 64, .rlim_max = 64 };
	enum { N = 300 };
	int fds[N], i, open_ok = 0;
	long t0, t1;
	char b;

	assert_int_equal(prlimit(fx->pid, RLIMIT_NOFILE, &rl, NULL), 0);
	for (i = 0; i < N; i++)
		fds[i] = ctl_io_connect(fx->sock);
	usleep(300000);
	t0 = t_cpu_ticks(fx->pid);
	sleep(1);
	t1 = t_cpu_ticks(fx->pid);
	/* A busy loop would take the whole second (sysconf(_SC_CLK_TCK)
	 * ticks, 100 here). */
	if (t1 - t0 > sysconf(_SC_CLK_TCK) / 4)
		fail_msg("server used %ld ticks of CPU in 1 s with %d "
			 "connections refused", t1 - t0, N);
	/* The refused ones see the end of the stream. */
	for (i = 0; i < N; i++) {
		if (fds[i] < 0)
			continue;
		if (recv(fds[i], &b, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN)
			open_ok++;
	}
	assert_true(open_ok > 0 && open_ok < 64);
	for (i = 0; i < N; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	usleep(200000);
	assert_int_equal(status_int(fx, "generation"), 0);
}

/* Request members of the wrong type are refused, never read as absent. */
static void
test_ctl_proto_wrong_member_types_refused(void **state)
{
	static const char *const imp[] = { "routes", "import", NULL, NULL };
	static const char *const reqs[] = {
		"{}",
		"{\"cmd\":5}",
		"{\"cmd\":\"routes.import\",\"dry_run\":\"true\"}",
		"{\"cmd\":\"routes.import\",\"dry_run\":1}",
		"{\"cmd\":\"routes.import\",\"mode\":[\"merge\"]}",
		"{\"cmd\":\"route.add\",\"replace\":\"yes\","
		"\"row\":\"z,exact,1,forward,198.19.0.1:5060,,,,\"}",
		"{\"cmd\":\"config.set\",\"key\":\"targets.down\","
		"\"value\":\"198.19.0.1:5060\\u0000gw.example:99999\"}",
		"{\"cmd\":\"status\\u0000x\"}",
	};
	struct fx *fx = *state;
	const char *argv[4];
	struct ctl_jval *v;
	int64_t gen;
	size_t i;
	int fd;

	memcpy(argv, imp, sizeof(argv));
	argv[2] = fx->file;
	assert_int_equal(ctl_test_write_file(fx->file, table,
					     sizeof(table) - 1), 0);
	assert_int_equal(run(fx, argv), 0);
	gen = status_int(fx, "generation");
	assert_true(gen > 0);
	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST,
						   reqs[i], strlen(reqs[i])),
				 0);
		/* An upload's data, which must not be committed. */
		if (strstr(reqs[i], "routes.import") != NULL) {
			assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_DATA,
				"id,kind,pattern,action,targets,rank,strip,prepend,code\n",
				55), 0);
			assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_END,
							   NULL, 0), 0);
		}
		v = raw_reply(fd);
		if (strcmp(ctl_json_str(ctl_json_get(v, "error"), "code", ""),
			   "bad_request") != 0)
			fail_msg("request %zu: not refused as bad_request", i);
		ctl_json_free(v);
	}
	close(fd);
	assert_int_equal(status_int(fx, "generation"), gen);
}

static void
test_ctl_proto_sigterm_is_clean(void **state)
{
	struct fx *fx = *state;
	struct stat sb;

	int fd;

	assert_int_equal(stat(fx->sock, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0660);
	/* An import uploading when the server stops is told so. */
	fd = raw_begin_import(fx, "id,kind", 7);
	wait_importing(fx, true);
	assert_int_equal(ctl_test_stop_control(fx->pid), 0);
	fx->pid = 0;
	raw_error(fd, "protocol", "shutting down");
	close(fd);
	assert_int_equal(stat(fx->sock, &sb), -1);
	/* Restart on the same data: still generation 0, socket back. */
	fx->pid = ctl_test_start_control(control_bin, fx->db, fx->sock, NULL);
	assert_true(fx->pid > 0);
	assert_int_equal(status_int(fx, "generation"), 0);
}

/*
 * A dataplane's stats report (stats.report) is kept and served by
 * "stats": text, --json and the Prometheus exposition format.
 */
static void
test_ctl_proto_stats_report_and_views(void **state)
{
	struct fx *fx = *state;
	static const char report[] =
		"{\"cmd\":\"stats.report\",\"source\":\"dataplane\","
		"\"pid\":42,\"workers\":2,\"generation\":7,\"metrics\":["
		"{\"name\":\"dp_rx_total\",\"type\":\"counter\","
		"\"help\":\"packets received\",\"samples\":[{\"value\":1234}]},"
		"{\"name\":\"sip_requests_total\",\"type\":\"counter\","
		"\"help\":\"by method\",\"samples\":["
		"{\"labels\":{\"method\":\"INVITE\"},\"value\":10},"
		"{\"labels\":{\"method\":\"BYE\"},\"value\":0}]},"
		"{\"name\":\"rule_hits_total\",\"type\":\"counter\","
		"\"help\":\"a \\\\ b\",\"samples\":["
		"{\"labels\":{\"rule\":\"q\\\"x\"},\"value\":3}]},"
		"{\"name\":\"snapshot_generation\",\"type\":\"gauge\","
		"\"help\":\"gen\",\"samples\":[{\"value\":7}]}]}";
	static const char bad[] = "{\"cmd\":\"stats.report\"}";
	static const char *const plain[] = { "stats", NULL };
	static const char *const prom[] = { "stats", "--prometheus", NULL };
	static const char *const sec[] = { "config", "get",
					   "dataplane.secret", NULL };
	struct ctl_jval *v;
	const struct ctl_jval *r, *set;
	char *text;
	size_t len;
	int fd, ex;

	/* Nothing reported yet. */
	assert_int_equal(run(fx, plain), CTL_EXIT_FAIL);
	v = run_json(fx, plain, &ex);
	assert_string_equal(ctl_json_str(ctl_json_get(v, "error"), "code", ""),
			    "not_found");
	ctl_json_free(v);

	fd = ctl_io_connect(fx->sock);
	assert_true(fd >= 0);
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, bad,
					   sizeof(bad) - 1), 0);
	v = raw_reply(fd);
	assert_false(ctl_json_bool(v, "ok", true));
	ctl_json_free(v);
	/* Reports that would break `stats` for everyone are refused. */
	{
		static const char *const refused[] = {
			"{\"cmd\":\"stats.report\",\"x\":1e999,\"metrics\":[]}",
			"{\"cmd\":\"stats.report\",\"x\":{\"a\":[1]},\"metrics\":[]}",
			"{\"cmd\":\"stats.report\",\"metrics\":[{\"name\":"
			"\"bad name\",\"type\":\"counter\",\"samples\":[]}]}",
			"{\"cmd\":\"stats.report\",\"metrics\":[{\"name\":"
			"\"x\",\"type\":\"histogram\",\"samples\":[]}]}",
			"{\"cmd\":\"stats.report\",\"metrics\":[{\"name\":"
			"\"x\",\"type\":\"gauge\",\"samples\":[{\"labels\":"
			"{\"a b\":\"v\"},\"value\":1}]}]}",
			"{\"cmd\":\"stats.report\",\"metrics\":[{\"name\":"
			"\"x\",\"type\":\"gauge\",\"samples\":[{\"value\":"
			"\"1\"}]}]}",
			/* nesting a `stats` reply could not hold */
			"{\"cmd\":\"stats.report\",\"metrics\":[{\"name\":"
			"\"x\",\"type\":\"gauge\",\"samples\":[],"
			"\"extra\":[[[[[[[[[[[[1]]]]]]]]]]]]}]}",
			"{\"cmd\":\"stats.report\",\"metrics\":[{\"name\":"
			"\"x\",\"type\":\"gauge\",\"samples\":[{\"value\":1,"
			"\"extra\":{\"a\":1}}]}]}",
			/* two HELP and TYPE lines, or a label given twice */
			"{\"cmd\":\"stats.report\",\"metrics\":["
			"{\"name\":\"y\",\"type\":\"gauge\",\"samples\":[]},"
			"{\"name\":\"x\",\"type\":\"gauge\",\"samples\":[]},"
			"{\"name\":\"y\",\"type\":\"counter\",\"samples\":[]}]}",
			"{\"cmd\":\"stats.report\",\"metrics\":[{\"name\":"
			"\"x\",\"type\":\"gauge\",\"samples\":[{\"labels\":"
			"{\"a\":\"1\",\"b\":\"2\",\"a\":\"3\"},\"value\":1}]}]}",
			"{\"cmd\":\"stats.report\",\"metrics\":[{\"name\":"
			"\"x\",\"type\":\"gauge\",\"samples\":[{\"labels\":"
			"{\"a\":\"\",\"b\":\"\",\"c\":\"\",\"d\":\"\","
			"\"e\":\"\",\"f\":\"\",\"g\":\"\",\"h\":\"\","
			"\"i\":\"\",\"j\":\"\",\"k\":\"\",\"l\":\"\","
			"\"m\":\"\",\"n\":\"\",\"o\":\"\",\"p\":\"\","
			"\"q\":\"\"},\"value\":1}]}]}",
		};
		size_t k;

		for (k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
			assert_int_equal(ctl_io_send_frame(fd,
					 CTL_FRAME_REQUEST, refused[k],
					 strlen(refused[k])), 0);
			raw_error(fd, "bad_request", NULL);
		}
	}
	assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, report,
					   sizeof(report) - 1), 0);
	v = raw_reply(fd);
	assert_true(ctl_json_bool(v, "ok", false));
	ctl_json_free(v);
	/* One too long as stored is refused, and the one before stays. */
	{
		static const char head[] = "{\"cmd\":\"stats.report\","
			"\"generation\":8,\"metrics\":[{\"name\":\"x\","
			"\"type\":\"gauge\",\"samples\":[],\"help\":\"";
		static const char tail[] = "\"}]}";
		static char big[(3u << 20) + 2048];
		size_t hl = sizeof(head) - 1, fill = (3u << 20) + 1000;

		memcpy(big, head, hl);
		memset(big + hl, 'a', fill);
		memcpy(big + hl + fill, tail, sizeof(tail));
		assert_int_equal(ctl_io_send_frame(fd, CTL_FRAME_REQUEST, big,
						   strlen(big)), 0);
		raw_error(fd, "bad_request", "longer than");
	}
	close(fd);

	v = run_json(fx, plain, &ex);
	assert_int_equal(ex, CTL_EXIT_OK);
	r = ctl_json_get(ctl_json_get(v, "result"), "report");
	assert_non_null(r);
	assert_int_equal(ctl_json_int(r, "generation", 0), 7);
	assert_int_equal(ctl_json_int(r, "pid", 0), 42);
	assert_null(ctl_json_get(r, "cmd"));
	ctl_json_free(v);

	assert_int_equal(run(fx, plain), CTL_EXIT_OK);
	text = ctl_test_read_file(fx->out, &len);
	assert_non_null(strstr(text, "dataplane pid 42, 2 worker(s), "
				     "generation 7"));
	assert_non_null(strstr(text, "  dp_rx_total 1234\n"));
	assert_non_null(strstr(text,
		"  sip_requests_total{method=\"INVITE\"} 10\n"));
	assert_null(strstr(text, "BYE"));       /* zeros left out */
	free(text);

	assert_int_equal(run(fx, prom), CTL_EXIT_OK);
	text = ctl_test_read_file(fx->out, &len);
	assert_non_null(strstr(text,
		"# HELP sipedge_dp_rx_total packets received\n"
		"# TYPE sipedge_dp_rx_total counter\n"
		"sipedge_dp_rx_total 1234\n"));
	assert_non_null(strstr(text,
		"sipedge_sip_requests_total{method=\"BYE\"} 0\n"));
	assert_non_null(strstr(text, "# HELP sipedge_rule_hits_total a \\\\ b\n"));
	assert_non_null(strstr(text,
		"sipedge_rule_hits_total{rule=\"q\\\"x\"} 3\n"));
	assert_non_null(strstr(text, "# TYPE sipedge_snapshot_generation gauge\n"
				     "sipedge_snapshot_generation 7\n"));
	free(text);

	/* The installation secret the dataplane keys its tags with. */
	v = run_json(fx, sec, &ex);
	assert_int_equal(ex, CTL_EXIT_OK);
	set = ctl_json_get(ctl_json_get(v, "result"), "settings");
	assert_non_null(set);
	assert_string_equal(ctl_json_str(set->child, "source", ""), "stored");
	assert_int_equal(strlen(ctl_json_str(set->child, "value", "")), 32);
	ctl_json_free(v);
}

int
main(int argc, char **argv)
{
	int rc;

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ctl_proto_help_usage_and_connect_errors),
		T(test_ctl_proto_import_export_round_trip),
		T(test_ctl_proto_invalid_import_exit_code_and_lines),
		T(test_ctl_proto_host_name_import_and_names),
		T(test_ctl_proto_concurrent_import_is_refused),
		T(test_ctl_proto_parallel_clients),
		T(test_ctl_proto_pipelined_client_takes_turns),
		T(test_ctl_proto_long_explanation),
		T(test_ctl_proto_import_wait_serialises),
		T(test_ctl_proto_disconnect_mid_stream_commits_nothing),
		T(test_ctl_proto_subscriber_gets_generation_event),
		T(test_ctl_proto_sipedgectl_subscribe_and_merge),
		T(test_ctl_proto_route_config_explain_verbs),
		T(test_ctl_proto_config_policy_settings_checked),
		T(test_ctl_proto_import_max_rows),
		T(test_ctl_proto_malformed_frames_are_rejected),
		T(test_ctl_proto_wrong_member_types_refused),
		T(test_ctl_proto_unread_replies_are_bounded),
		T(test_ctl_proto_closing_connection_not_read),
		T(test_ctl_proto_half_close_gets_whole_reply),
		T(test_ctl_proto_connection_flood_shed),
		cmocka_unit_test_setup_teardown(
			test_ctl_proto_idle_import_times_out, setup_timeout,
			teardown),
		T(test_ctl_proto_sigterm_is_clean),
		T(test_ctl_proto_stats_report_and_views),
	};
#undef T

	if (argc != 3) {
		fprintf(stderr, "usage: %s SIPEDGE_CONTROL SIPEDGECTL\n",
			argv[0]);
		return 2;
	}
	control_bin = argv[1];
	ctl_bin = argv[2];
	private_hosts();
	rc = cmocka_run_group_tests_name("ctl_proto", tests, NULL, NULL);
	if (ns_dir != NULL)
		ctl_test_rmdir(ns_dir);
	return rc;
}
