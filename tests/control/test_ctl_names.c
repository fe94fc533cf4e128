/* SPDX-License-Identifier: MIT */
/*
 * test_ctl_names.c - target host names through the control state: a rule
 * naming a host compiles to the addresses the system resolver gives,
 * export and restarts keep the name, a name that changes its addresses
 * makes a new generation (and one that does not, none), a name that stops
 * resolving keeps its last addresses, and an import naming a host that
 * does not resolve is refused with its line and commits nothing.
 *
 * The resolver is the real one (getaddrinfo), reading a hosts file of the
 * test's own: the test runs in a private mount namespace where that file
 * is bound over /etc/hosts, and an nsswitch.conf saying "hosts: files"
 * over /etc/nsswitch.conf, so that no lookup leaves the machine. Without
 * the privilege to do that (not root), the tests are skipped.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../control/ctl.h"
#include "ctl_test_util.h"

#define MAP_SIZE        (64ull << 20)

/* The private files bound over /etc; NULL when the namespace failed. */
static char *ns_dir;
static char hosts_path[512];

struct fx {
	char                    *dir;
	struct ctl_state        *cs;
};

/* Bind @p file over @p target; 0 or -1. */
static int
bind_file(const char *file, const char *target)
{
	return mount(file, target, NULL, MS_BIND, NULL);
}

static int
group_setup(void **state)
{
	char path[512];

	(void)state;
	ns_dir = ctl_test_tmpdir();
	if (ns_dir == NULL)
		return -1;
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		fprintf(stderr, "# no private mount namespace (%s): skipped\n",
			strerror(errno));
		ctl_test_rmdir(ns_dir);
		ns_dir = NULL;
		return 0;
	}
	snprintf(hosts_path, sizeof(hosts_path), "%s/hosts", ns_dir);
	snprintf(path, sizeof(path), "%s/nsswitch.conf", ns_dir);
	if (ctl_test_write_file(hosts_path, "", 0) != 0 ||
	    ctl_test_write_file(path, "hosts: files\n", 13) != 0 ||
	    bind_file(hosts_path, "/etc/hosts") != 0 ||
	    bind_file(path, "/etc/nsswitch.conf") != 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (ns_dir != NULL)
		ctl_test_rmdir(ns_dir);
	return 0;
}

/* Replace the hosts file's content (the bound file is rewritten in
 * place, so the bind mount stays). */
static void
hosts(const char *text)
{
	FILE *f = fopen(hosts_path, "r+");

	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 0), 0);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct fx *fx;

	if (ns_dir == NULL)
		skip();
	fx = calloc(1, sizeof(*fx));
	if (fx == NULL)
		return -1;
	fx->dir = ctl_test_tmpdir();
	if (fx->dir == NULL || ctl_state_open(fx->dir, MAP_SIZE, MAP_SIZE, &fx->cs) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	if (fx == NULL)
		return 0;
	if (fx->cs != NULL)
		ctl_state_close(fx->cs);
	ctl_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* A restart of the control process: the state closed and opened. */
static void
restart(struct fx *fx)
{
	ctl_state_close(fx->cs);
	assert_int_equal(ctl_state_open(fx->dir, MAP_SIZE, MAP_SIZE, &fx->cs), 0);
}

static int
export_cb(void *arg, const char *buf, size_t len)
{
	ctl_buf_add(arg, buf, len);
	return 0;
}

static int
import(struct fx *fx, const char *csv, struct ctl_result *res)
{
	struct ctl_import_opts o = { 0 };
	struct ctl_import *imp;

	assert_int_equal(ctl_import_begin(fx->cs, &o, &imp), 0);
	assert_int_equal(ctl_import_feed(imp, csv, strlen(csv)), 0);
	return ctl_import_finish(imp, res);
}

/*
 * The IPv4 addresses (last byte) and IPv6 count the current image gives
 * for the number 12125550100, as a bit set of last bytes.
 */
static uint64_t
v4_contacts(struct fx *fx, uint32_t *nv6)
{
	struct rules_explain *ex = calloc(1, sizeof(*ex));
	struct ctl_result res;
	uint64_t bits = 0;
	uint32_t i;

	if (ex == NULL)
		fail_msg("out of memory");
	assert_int_equal(ctl_explain(fx->cs, "tel:+12125550100", ex, &res),
			 0);
	*nv6 = 0;
	for (i = 0; i < ex->ncontacts; i++) {
		const struct rules_dest *d = &ex->contacts[i];

		assert_int_equal(d->port, 5060);
		if (d->af == RULES_AF_INET6) {
			(*nv6)++;
			continue;
		}
		assert_int_equal(d->af, RULES_AF_INET);
		assert_memory_equal(d->addr, ((const uint8_t[]){ 198, 18 }), 2);
		bits |= 1ull << (d->addr[3] & 63);
	}
	free(ex);
	return bits;
}

/* Run background lookup rounds until one ends; *changed as it said. */
static void
refresh(struct fx *fx, bool *changed)
{
	struct ctl_resolver *r = ctl_state_resolver(fx->cs);
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
	int i, rc;

	assert_int_equal(ctl_resolver_refresh_start(r, ctl_state_rules(fx->cs)),
			 0);
	for (i = 0; i < 1000; i++) {
		rc = ctl_resolver_refresh_poll(r, changed);
		if (rc == 1)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("lookups did not end in 10 s");
}

static const char table[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"nyc,prefix,1212,forward,gw.test.example:5060/1/70|198.18.0.9:5060/2,,0,,\n"
	"uk,prefix,44,redirect,198.18.0.4:5060,,,,\n";

static void
test_names_compile_to_resolved_addresses(void **state)
{
	struct fx *fx = *state;
	struct ctl_result res;
	uint32_t nv6;

	hosts("198.18.0.3 gw.test.example\n198.18.0.5 gw.test.example\n"
	      "2001:db8::3 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	assert_int_equal(res.generation, 1);
	ctl_result_fini(&res);
	/* Both addresses of the name, its IPv6 one, and the literal. */
	assert_int_equal(v4_contacts(fx, &nv6),
			 (1ull << 3) | (1ull << 5) | (1ull << 9));
	assert_int_equal(nv6, 1);
}

/* Export shows the name as written; a restart loads it back. */
static void
test_names_survive_export_and_restart(void **state)
{
	struct fx *fx = *state;
	struct ctl_result res;
	struct ctl_buf b;
	uint32_t nv6;

	hosts("198.18.0.3 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	restart(fx);
	ctl_buf_init(&b);
	assert_int_equal(ctl_export_csv(ctl_state_rules(fx->cs),
					export_cb, &b), 0);
	ctl_buf_add(&b, "", 1);
	assert_non_null(strstr(b.p, "gw.test.example:5060/1/70|"
				    "198.18.0.9:5060/2/1"));
	ctl_buf_fini(&b);
	assert_int_equal(ctl_state_generation(fx->cs), 1);
	assert_int_equal(v4_contacts(fx, &nv6), (1ull << 3) | (1ull << 9));
}

/*
 * New addresses for a name make a new generation ("resolve"); the same
 * addresses, in whatever order, none; a name that stops resolving keeps
 * the addresses it had.
 */
static void
test_names_changed_addresses_make_a_generation(void **state)
{
	struct fx *fx = *state;
	struct ctl_store *st;
	struct schema_import_summary sum;
	struct ctl_result res;
	bool changed;
	uint32_t nv6;

	hosts("198.18.0.3 gw.test.example\n198.18.0.5 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);

	/* Same addresses, other order: nothing changes. */
	hosts("198.18.0.5 gw.test.example\n198.18.0.3 gw.test.example\n");
	refresh(fx, &changed);
	assert_false(changed);
	assert_int_equal(ctl_state_reresolve(fx->cs, &res), 0);
	assert_int_equal(res.generation, 1);
	ctl_result_fini(&res);

	/* One address moved. */
	hosts("198.18.0.3 gw.test.example\n198.18.0.7 gw.test.example\n");
	refresh(fx, &changed);
	assert_true(changed);
	assert_int_equal(ctl_state_reresolve(fx->cs, &res), 0);
	assert_int_equal(res.generation, 2);
	assert_int_equal(res.diff.unchanged, 2);
	ctl_result_fini(&res);
	assert_int_equal(ctl_state_generation(fx->cs), 2);
	assert_int_equal(v4_contacts(fx, &nv6),
			 (1ull << 3) | (1ull << 7) | (1ull << 9));
	st = ctl_state_store(fx->cs);
	assert_int_equal(ctl_store_last_import(st, &sum), 0);
	assert_int_equal(sum.mode, SCHEMA_IMPORT_RESOLVE);
	assert_int_equal(sum.generation, 2);

	/* The name is gone from the hosts file: its addresses stay. */
	hosts("198.18.0.4 other.test.example\n");
	refresh(fx, &changed);
	assert_false(changed);
	assert_int_equal(ctl_state_reresolve(fx->cs, &res), 0);
	assert_int_equal(res.generation, 2);
	ctl_result_fini(&res);
	assert_int_equal(v4_contacts(fx, &nv6),
			 (1ull << 3) | (1ull << 7) | (1ull << 9));
}

/*
 * A restart while the name does not resolve: the addresses stored with
 * the last commit are used, so a change to other rules still commits,
 * with the name's last addresses; "names" says where they came from.
 */
static void
test_names_stored_addresses_survive_restart(void **state)
{
	static const char row[] = "x,prefix,7,forward,198.18.0.8:5060,,,,";
	struct fx *fx = *state;
	struct ctl_result res;
	struct ctl_buf b;
	uint32_t nv6;

	hosts("198.18.0.3 gw.test.example\n198.18.0.5 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	hosts("");
	restart(fx);

	ctl_buf_init(&b);
	{
		struct ctl_jw w;

		ctl_jw_init(&w, &b);
		ctl_jw_obj(&w, NULL);
		ctl_resolver_report(ctl_state_resolver(fx->cs),
				    ctl_state_rules(fx->cs), &w);
		ctl_jw_obj_end(&w);
		ctl_buf_add(&b, "", 1);
	}
	assert_non_null(strstr(b.p, "\"198.18.0.3\",\"198.18.0.5\""));
	assert_non_null(strstr(b.p, "stored addresses, not looked up since start"));
	ctl_buf_fini(&b);

	assert_int_equal(ctl_route_add(fx->cs, row, sizeof(row) - 1, false,
				       &res), 0);
	assert_int_equal(res.generation, 2);
	ctl_result_fini(&res);
	assert_int_equal(v4_contacts(fx, &nv6),
			 (1ull << 3) | (1ull << 5) | (1ull << 9));

	/* A rule set naming no host drops them from the store. */
	assert_int_equal(import(fx,
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"a,prefix,1,forward,198.18.0.9:5060,,,,\n", &res), 0);
	ctl_result_fini(&res);
	{
		void *buf;
		size_t len;

		assert_int_equal(ctl_store_names_get(ctl_state_store(fx->cs),
						     &buf, &len), -ENOENT);
	}
}

/* The event loop's tick does the rounds by itself, at the interval. */
static void
test_names_tick_follows_the_interval(void **state)
{
	struct fx *fx = *state;
	struct schema_setting s = { .type = SCHEMA_SETTING_U64, .u = 1 };
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 20 * 1000 * 1000 };
	struct ctl_result res;
	uint32_t nv6;
	int i;

	assert_int_equal(ctl_store_setting_put(ctl_state_store(fx->cs),
					       "targets.resolve_interval", &s),
			 0);
	hosts("198.18.0.3 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	hosts("198.18.0.6 gw.test.example\n");
	for (i = 0; i < 500 && ctl_state_generation(fx->cs) == 1; i++) {
		/* With the interval on there is always a deadline. */
		assert_true(ctl_state_resolve_tick(fx->cs, false) > 0);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ctl_state_generation(fx->cs), 2);
	assert_int_equal(v4_contacts(fx, &nv6), (1ull << 6) | (1ull << 9));

	/* While an import is open nothing is committed. */
	hosts("198.18.0.8 gw.test.example\n");
	for (i = 0; i < 150; i++) {
		ctl_state_resolve_tick(fx->cs, true);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ctl_state_generation(fx->cs), 2);
	for (i = 0; i < 100 && ctl_state_generation(fx->cs) == 2; i++) {
		ctl_state_resolve_tick(fx->cs, false);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ctl_state_generation(fx->cs), 3);
	assert_int_equal(v4_contacts(fx, &nv6), (1ull << 8) | (1ull << 9));
}

/* Store setting @p name (u64) as config.set does, telling the state. */
static void
set_u64(struct fx *fx, const char *name, uint64_t v)
{
	struct schema_setting s = { .type = SCHEMA_SETTING_U64, .u = v };

	assert_int_equal(ctl_store_setting_put(ctl_state_store(fx->cs), name,
					       &s), 0);
	ctl_state_setting_changed(fx->cs, name);
}

/*
 * A dry run (or any change that does not commit) that looks a name up
 * anew leaves the cache ahead of the generation in use: the next round
 * finds nothing new against the cache, yet must compile the rules in use
 * again, or they keep the old address for good.
 */
static void
test_names_dry_run_lookup_reaches_the_rules(void **state)
{
	struct fx *fx = *state;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 20 * 1000 * 1000 };
	struct ctl_import_opts o = { .dry_run = true };
	struct ctl_import *imp;
	struct ctl_result res;
	uint32_t nv6;
	int i;

	set_u64(fx, "targets.resolve_interval", 1);
	hosts("198.18.0.3 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	assert_int_equal(ctl_state_generation(fx->cs), 1);
	/* The first rounds since start (which compile again anyway). */
	for (i = 0; i < 60; i++) {
		ctl_state_resolve_tick(fx->cs, false);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ctl_state_generation(fx->cs), 1);
	/* Older than the interval, then moved: the dry run looks it up. */
	nanosleep(&(struct timespec){ .tv_sec = 1, .tv_nsec = 200000000 },
		  NULL);
	hosts("198.18.0.6 gw.test.example\n");
	assert_int_equal(ctl_import_begin(fx->cs, &o, &imp), 0);
	assert_int_equal(ctl_import_feed(imp, table, strlen(table)), 0);
	assert_int_equal(ctl_import_finish(imp, &res), 0);
	ctl_result_fini(&res);
	assert_int_equal(ctl_state_generation(fx->cs), 1);
	assert_int_equal(v4_contacts(fx, &nv6), (1ull << 3) | (1ull << 9));
	for (i = 0; i < 250 && ctl_state_generation(fx->cs) == 1; i++) {
		ctl_state_resolve_tick(fx->cs, false);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ctl_state_generation(fx->cs), 2);
	assert_int_equal(v4_contacts(fx, &nv6), (1ull << 6) | (1ull << 9));
}

/*
 * The interval changed at run time takes effect at once: from 0 (no
 * rounds, no deadline) to 1 s, the next tick starts a round.
 */
static void
test_names_interval_change_applies_at_once(void **state)
{
	struct fx *fx = *state;
	struct ctl_result res;

	set_u64(fx, "targets.resolve_interval", 0);
	hosts("198.18.0.3 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	assert_int_equal(ctl_state_resolve_tick(fx->cs, false), -1);
	assert_false(ctl_resolver_running(ctl_state_resolver(fx->cs)));
	set_u64(fx, "targets.resolve_interval", 1);
	assert_int_equal(ctl_state_resolve_tick(fx->cs, false), 100);
	assert_true(ctl_resolver_running(ctl_state_resolver(fx->cs)));
}

/*
 * With the interval 0 nothing looks names up in the background, so every
 * change of the rules looks them all up again: a re-import of the same
 * file follows a name that moved.
 */
static void
test_names_interval_0_imports_look_up_again(void **state)
{
	struct fx *fx = *state;
	struct ctl_result res;
	uint32_t nv6;

	set_u64(fx, "targets.resolve_interval", 0);
	hosts("198.18.0.3 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	hosts("198.18.0.7 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	assert_int_equal(v4_contacts(fx, &nv6), (1ull << 7) | (1ull << 9));
}

/* A host name whose case alone changes is stored as written. */
static void
test_names_case_change_stored(void **state)
{
	static const char upper[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"nyc,prefix,1212,forward,GW.Test.Example:5060/1/70|198.18.0.9:5060/2,,0,,\n"
		"uk,prefix,44,redirect,198.18.0.4:5060,,,,\n";
	struct fx *fx = *state;
	struct ctl_result res;
	struct ctl_buf b;

	hosts("198.18.0.3 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	assert_int_equal(import(fx, upper, &res), 0);
	ctl_result_fini(&res);
	restart(fx);
	ctl_buf_init(&b);
	assert_int_equal(ctl_export_csv(ctl_state_rules(fx->cs), export_cb,
					&b), 0);
	ctl_buf_add(&b, "", 1);
	assert_non_null(strstr(b.p, "GW.Test.Example:5060/1/70"));
	ctl_buf_fini(&b);
}

/*
 * A commit of new addresses that fails (the disk is full) is tried again
 * after the next round, once there is room, although that round finds
 * no change.
 */
static void
test_names_failed_commit_retried(void **state)
{
	struct fx *fx = *state;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 20 * 1000 * 1000 };
	struct ctl_result res;
	char fill[600], path[512];
	FILE *f;
	uint32_t nv6;
	int i;

	/* The store on a 4 MiB file system of its own. */
	ctl_state_close(fx->cs);
	ctl_test_rmdir(fx->dir);
	fx->dir = ctl_test_tmpdir();
	assert_non_null(fx->dir);
	assert_int_equal(mount("tmpfs", fx->dir, "tmpfs", 0, "size=4m"), 0);
	assert_int_equal(ctl_state_open(fx->dir, MAP_SIZE, MAP_SIZE, &fx->cs), 0);
	set_u64(fx, "targets.resolve_interval", 1);
	hosts("198.18.0.3 gw.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	for (i = 0; i < 20; i++) {      /* the first round: nothing new */
		ctl_state_resolve_tick(fx->cs, false);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ctl_state_generation(fx->cs), 1);

	snprintf(path, sizeof(path), "%s/filler", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	memset(fill, 'x', sizeof(fill));
	while (fwrite(fill, 1, sizeof(fill), f) == sizeof(fill) &&
	       fflush(f) == 0)
		;
	fclose(f);
	hosts("198.18.0.7 gw.test.example\n");
	for (i = 0; i < 100; i++) {     /* 2 s: rounds that fail to commit */
		ctl_state_resolve_tick(fx->cs, false);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ctl_state_generation(fx->cs), 1);
	assert_int_equal(unlink(path), 0);
	for (i = 0; i < 150 && ctl_state_generation(fx->cs) == 1; i++) {
		ctl_state_resolve_tick(fx->cs, false);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(ctl_state_generation(fx->cs), 2);
	assert_int_equal(v4_contacts(fx, &nv6), (1ull << 7) | (1ull << 9));
	ctl_state_close(fx->cs);
	fx->cs = NULL;
	assert_int_equal(umount(fx->dir), 0);
}

/*
 * A lookup that does not end in time (the hosts file is a FIFO nobody
 * writes yet): the import fails after the bounded wait, saying so, and
 * the event loop goes on; the lookup's memory is kept until it ends, and
 * then reaped; with the name server back, the same import commits.
 */
static void
test_names_slow_lookup_bounded(void **state)
{
	static const char slow[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"s,prefix,5,forward,slow.test.example:5060,,,,\n";
	static const char answer[] = "198.18.0.6 other.test.example\n";
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 20 * 1000 * 1000 };
	struct fx *fx = *state;
	struct ctl_result res;
	char fifo[512];
	uint64_t t0;
	ssize_t n;
	int fd, i;

	snprintf(fifo, sizeof(fifo), "%s/fifo", fx->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mount(fifo, "/etc/hosts", NULL, MS_BIND, NULL), 0);
	t0 = ctl_mono_us();
	assert_int_equal(import(fx, slow, &res), -EINVAL);
	assert_true(ctl_mono_us() - t0 >= CTL_RESOLVE_WAIT_MS * 1000u);
	assert_true(ctl_mono_us() - t0 < CTL_RESOLVE_WAIT_MS * 1000u +
					  2000000u);
	assert_non_null(res.errs);
	assert_non_null(strstr(res.errs->e[0].msg, "lookup timed out"));
	ctl_result_fini(&res);
	assert_true(ctl_resolver_busy(ctl_state_resolver(fx->cs)));

	/* The name server answers at last (not for this name). The open
	 * is what ends the lookup: glibc, unable to rewind a FIFO, may close
	 * it unread before the write, which then fails with EPIPE. */
	fd = open(fifo, O_WRONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	signal(SIGPIPE, SIG_IGN);
	n = write(fd, answer, sizeof(answer) - 1);
	assert_true(n == (ssize_t)sizeof(answer) - 1 ||
		    (n < 0 && errno == EPIPE));
	signal(SIGPIPE, SIG_DFL);
	close(fd);
	for (i = 0; i < 250 && ctl_resolver_busy(ctl_state_resolver(fx->cs));
	     i++) {
		ctl_state_resolve_tick(fx->cs, true);
		nanosleep(&ts, NULL);
	}
	assert_false(ctl_resolver_busy(ctl_state_resolver(fx->cs)));
	assert_int_equal(umount("/etc/hosts"), 0);
	hosts("198.18.0.5 slow.test.example\n");
	t0 = ctl_mono_us();
	assert_int_equal(import(fx, slow, &res), 0);
	assert_true(ctl_mono_us() - t0 < 1000000u);
	ctl_result_fini(&res);
}

/*
 * An import naming a host with no usable address is refused with the
 * line and field, and commits nothing.
 */
static void
test_names_unresolvable_import_refused(void **state)
{
	struct fx *fx = *state;
	struct ctl_result res;

	hosts("198.18.0.3 gw.test.example\n127.0.0.2 loop.test.example\n");
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);

	assert_int_equal(import(fx,
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"a,prefix,1,forward,gw.test.example:5060,,,,\n"
		"b,prefix,2,forward,nowhere.test.example:5060,,,,\n"
		"c,prefix,3,forward,loop.test.example:5060,,,,\n", &res),
		-EINVAL);
	assert_string_equal(res.code, "invalid");
	assert_int_equal(res.generation, 1);
	assert_non_null(res.errs);
	assert_int_equal(res.errs->n, 2);
	assert_int_equal(res.errs->e[0].line, 3);
	assert_int_equal(res.errs->e[0].field, RULES_FIELD_TARGETS);
	assert_non_null(strstr(res.errs->e[0].msg,
			       "'nowhere.test.example:5060': host name does not resolve"));
	assert_int_equal(res.errs->e[1].line, 4);
	assert_non_null(strstr(res.errs->e[1].msg,
			       "no address a router can send to"));
	ctl_result_fini(&res);
	assert_int_equal(ctl_state_generation(fx->cs), 1);
}

/* Names and literals that meet at one address are one target; a list
 * past RULES_TARGETS_MAX addresses is refused. */
static void
test_names_dedup_and_limit(void **state)
{
	struct fx *fx = *state;
	struct ctl_result res;
	char big[4096];
	size_t n = 0;
	uint32_t nv6;
	int i;

	n += (size_t)snprintf(big + n, sizeof(big) - n, "%s",
			      "198.18.0.9 gw.test.example\n");
	for (i = 0; i < 8; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
				      "198.18.1.%d a.test.example\n"
				      "198.18.2.%d b.test.example\n"
				      "198.18.3.%d c.test.example\n",
				      i + 1, i + 1, i + 1);
	hosts(big);
	assert_int_equal(import(fx, table, &res), 0);
	ctl_result_fini(&res);
	/* gw is 198.18.0.9, the literal too: one contact. */
	assert_int_equal(v4_contacts(fx, &nv6), 1ull << 9);

	assert_int_equal(import(fx,
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"x,prefix,7,forward,a.test.example:5060|b.test.example:5060|c.test.example:5060,,,,\n",
		&res), -EINVAL);
	assert_non_null(res.errs);
	assert_int_equal(res.errs->n, 1);
	assert_int_equal(res.errs->e[0].line, 2);
	assert_non_null(strstr(res.errs->e[0].msg,
			       "rule 'x': the targets' host names resolve to "
			       "more than 16 addresses"));
	ctl_result_fini(&res);
	assert_int_equal(ctl_state_generation(fx->cs), 1);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_names_compile_to_resolved_addresses),
		T(test_names_survive_export_and_restart),
		T(test_names_changed_addresses_make_a_generation),
		T(test_names_stored_addresses_survive_restart),
		T(test_names_tick_follows_the_interval),
		T(test_names_interval_change_applies_at_once),
		T(test_names_interval_0_imports_look_up_again),
		T(test_names_dry_run_lookup_reaches_the_rules),
		T(test_names_case_change_stored),
		T(test_names_failed_commit_retried),
		T(test_names_slow_lookup_bounded),
		T(test_names_unresolvable_import_refused),
		T(test_names_dedup_and_limit),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
