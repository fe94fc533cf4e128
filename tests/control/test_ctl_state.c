/* SPDX-License-Identifier: MIT */
/*
 * test_ctl_state.c - imports, route changes and explain through the
 * control state, without sockets: validation with line numbers, dry run
 * counts, replace and merge, export round trips through LMDB, and every
 * failure leaving the store byte-for-byte at the previous generation.
 * A fresh LMDB environment per test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "../../control/ctl.h"
#include "ctl_test_util.h"

#define MAP_SIZE        (256ull << 20)

static const char table[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|198.19.0.6:5060/2,,0,,\n"
	"uk,prefix,+44,redirect,198.19.0.4:5060,,1,0044,\n"
	"premium,regex,^1900[0-9]{7}$,reject,,10,,,403\n"
	"corp,domain,*.example.com,forward,198.19.0.7:5060,,,,\n"
	"fallback,default,,forward,198.19.0.9:5060,,,,\n";

struct fx {
	char                    *dir;
	struct ctl_state        *cs;
	uint64_t                 published;
	uint32_t                 npublish;
};

static void
on_publish(void *arg, uint64_t gen, uint64_t nrules)
{
	struct fx *fx = arg;

	(void)nrules;
	fx->published = gen;
	fx->npublish++;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	fx->dir = ctl_test_tmpdir();
	if (fx->dir == NULL || ctl_state_open(fx->dir, MAP_SIZE, MAP_SIZE, &fx->cs) != 0)
		return -1;
	ctl_state_set_publish(fx->cs, on_publish, fx);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	ctl_state_close(fx->cs);
	ctl_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Open the store again, its map at least @p map_size, growing to @p max. */
static void
reopen_max(struct fx *fx, uint64_t map_size, uint64_t max)
{
	ctl_state_close(fx->cs);
	assert_int_equal(ctl_state_open(fx->dir, map_size, max, &fx->cs), 0);
	ctl_state_set_publish(fx->cs, on_publish, fx);
}

static void
reopen(struct fx *fx, uint64_t map_size)
{
	reopen_max(fx, map_size, map_size);
}

/* A new, empty store instead (a map, once grown, stays that size). */
static void
fresh(struct fx *fx, uint64_t map_size, uint64_t max)
{
	ctl_state_close(fx->cs);
	ctl_test_rmdir(fx->dir);
	fx->dir = ctl_test_tmpdir();
	assert_non_null(fx->dir);
	assert_int_equal(ctl_state_open(fx->dir, map_size, max, &fx->cs), 0);
	ctl_state_set_publish(fx->cs, on_publish, fx);
}

static char *
dump(struct fx *fx, size_t *len)
{
	char *p = NULL;
	FILE *f = open_memstream(&p, len);

	assert_non_null(f);
	assert_int_equal(ctl_store_dump(ctl_state_store(fx->cs), f), 0);
	fclose(f);
	return p;
}

static void
assert_dump_equal(struct fx *fx, const char *before, size_t lb)
{
	size_t la;
	char *after = dump(fx, &la);

	assert_int_equal(la, lb);
	assert_memory_equal(before, after, lb);
	free(after);
}

/* Import @p csv fed in chunks of @p chunk bytes. */
static int
import(struct fx *fx, const char *csv, size_t len, size_t chunk, bool merge,
       bool dry_run, struct ctl_result *res)
{
	struct ctl_import_opts o = { .merge = merge, .dry_run = dry_run };
	struct ctl_import *imp;
	size_t off, n;

	assert_int_equal(ctl_import_begin(fx->cs, &o, &imp), 0);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		assert_int_equal(ctl_import_feed(imp, csv + off, n), 0);
	}
	return ctl_import_finish(imp, res);
}

static int
export_cb(void *arg, const char *buf, size_t len)
{
	ctl_buf_add(arg, buf, len);
	return 0;
}

static char *
export(struct fx *fx, size_t *len)
{
	struct ctl_buf b;

	ctl_buf_init(&b);
	ctl_buf_add(&b, "", 0);
	assert_int_equal(ctl_export_csv(ctl_state_rules(fx->cs), export_cb,
					&b), 0);
	*len = b.len;
	return b.p;
}

static void
test_ctl_import_commits_generation_and_publishes(void **state)
{
	struct fx *fx = *state;
	struct ctl_result res;

	assert_int_equal(import(fx, table, sizeof(table) - 1, 7, false, false,
				&res), 0);
	assert_int_equal(res.generation, 1);
	assert_int_equal(res.nrules, 5);
	assert_int_equal(res.rows, 5);
	assert_int_equal(res.diff.added[RULES_KIND_PREFIX], 2);
	assert_int_equal(res.diff.added[RULES_KIND_REGEX], 1);
	assert_int_equal(fx->published, 1);
	assert_int_equal(ctl_state_generation(fx->cs), 1);
	ctl_result_fini(&res);
}

/* Export -> re-import gives the same set, also after a restart. */
static void
test_ctl_import_export_round_trip(void **state)
{
	struct fx *fx = *state;
	struct ctl_result res;
	char *csv, *e1, *e2, *e3;
	size_t len, l1, l2, l3;

	csv = ctl_test_csv(3000, "t", &len);
	assert_int_equal(import(fx, csv, len, 65536, false, false, &res), 0);
	ctl_result_fini(&res);
	e1 = export(fx, &l1);

	/* Reload from LMDB: the stored rules are the same set. */
	reopen(fx, MAP_SIZE);
	e2 = export(fx, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(e1, e2, l1);

	/* Re-importing the export changes nothing but the generation. */
	assert_int_equal(import(fx, e2, l2, 4096, false, false, &res), 0);
	assert_int_equal(res.generation, 2);
	assert_int_equal(res.diff.unchanged, 3001);
	assert_int_equal(res.diff.added[RULES_KIND_PREFIX], 0);
	ctl_result_fini(&res);
	e3 = export(fx, &l3);
	assert_int_equal(l1, l3);
	assert_memory_equal(e1, e3, l1);
	free(csv);
	free(e1);
	free(e2);
	free(e3);
}

/*
 * A re-import that changes only how a pattern is written ("+44" for "44",
 * a domain's case) matches the same and counts as unchanged, but the
 * text the operator imported is what export shows, also after a restart.
 */
static void
test_ctl_import_text_only_change_survives_restart(void **state)
{
	static const char a[] = "id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"uk,prefix,+44,forward,192.0.2.1:5060,,,,\n"
		"corp,domain,*.Example.COM,forward,192.0.2.2:5060,,,,\n";
	static const char b[] = "id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"uk,prefix,44,forward,192.0.2.1:5060,,,,\n"
		"corp,domain,*.example.com,forward,192.0.2.2:5060,,,,\n";
	struct fx *fx = *state;
	struct ctl_result res;
	char *e1, *e2;
	size_t l1, l2;

	assert_int_equal(import(fx, a, sizeof(a) - 1, 4096, false, false,
				&res), 0);
	ctl_result_fini(&res);
	assert_int_equal(import(fx, b, sizeof(b) - 1, 4096, false, false,
				&res), 0);
	assert_int_equal(res.diff.unchanged, 2);
	ctl_result_fini(&res);
	e1 = export(fx, &l1);
	assert_non_null(memmem(e1, l1, "uk,prefix,44,", 13));
	assert_non_null(memmem(e1, l1, "*.example.com", 13));
	reopen(fx, MAP_SIZE);
	e2 = export(fx, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(e1, e2, l1);
	free(e1);
	free(e2);
}

/*
 * A reader killed inside its read transaction (a dataplane that crashed)
 * must not pin the store: its slot is cleared before the next write, so
 * commits reuse freed pages and the file stops growing; status counts
 * live readers only.
 */
static void
test_ctl_dead_reader_does_not_pin_store(void **state)
{
	struct fx *fx = *state;
	struct ctl_store_stat before, after;
	struct ctl_result res;
	int fds[2], status, i;
	char c;
	pid_t pid;

	assert_int_equal(import(fx, table, sizeof(table) - 1, 4096, false,
				false, &res), 0);
	ctl_result_fini(&res);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		MDB_env *env;
		MDB_txn *txn;

		if (mdb_env_create(&env) != 0 ||
		    mdb_env_set_maxdbs(env, 16) != 0 ||
		    mdb_env_open(env, fx->dir, MDB_RDONLY | MDB_NOTLS, 0) != 0 ||
		    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
			_exit(1);
		if (write(fds[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	assert_int_equal(ctl_store_stat(ctl_state_store(fx->cs), &before), 0);
	assert_int_equal(before.readers, 1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	for (i = 0; i < 3; i++) {
		assert_int_equal(import(fx, table, sizeof(table) - 1, 4096,
					false, false, &res), 0);
		ctl_result_fini(&res);
	}
	assert_int_equal(ctl_store_stat(ctl_state_store(fx->cs), &before), 0);
	assert_int_equal(before.readers, 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(import(fx, table, sizeof(table) - 1, 4096,
					false, false, &res), 0);
		ctl_result_fini(&res);
	}
	assert_int_equal(ctl_store_stat(ctl_state_store(fx->cs), &after), 0);
	assert_true(after.used_bytes <= before.used_bytes);
}

static void
test_ctl_import_errors_have_lines_and_commit_nothing(void **state)
{
	struct fx *fx = *state;
	static const char bad[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"ok1,prefix,1,forward,198.19.0.1:5060,,,,\n"
		"# comment\n"
		"bad1,prefix,12a,forward,198.19.0.1:5060,,,,\n"
		"ok1,prefix,2,forward,198.19.0.1:5060,,,,\n"
		"bad2,exact,5,forward,,,,,\n";
	struct ctl_result res;
	char *before;
	size_t lb;

	assert_int_equal(import(fx, table, sizeof(table) - 1, 1 << 20, false,
				false, &res), 0);
	ctl_result_fini(&res);
	before = dump(fx, &lb);
	fx->npublish = 0;
	assert_int_equal(import(fx, bad, sizeof(bad) - 1, 3, false, false,
				&res), -EINVAL);
	assert_string_equal(res.code, "invalid");
	assert_non_null(res.errs);
	assert_int_equal(res.errs->total, 3);
	assert_int_equal(res.errs->e[0].line, 4);
	assert_int_equal(res.errs->e[1].line, 5);
	assert_int_equal(res.errs->e[2].line, 6);
	assert_int_equal(res.generation, 1);
	ctl_result_fini(&res);
	assert_dump_equal(fx, before, lb);
	assert_int_equal(fx->npublish, 0);
	assert_int_equal(ctl_state_generation(fx->cs), 1);
	free(before);
}

/* A regex Hyperscan refuses is reported with its line; nothing changes. */
static void
test_ctl_import_bad_regex_commits_nothing(void **state)
{
	struct fx *fx = *state;
	static const char bad[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"ok1,prefix,1,forward,198.19.0.1:5060,,,,\n"
		"re,regex,^(12[,reject,,,,,403\n";
	struct ctl_result res;
	char *before;
	size_t lb;

	assert_int_equal(import(fx, table, sizeof(table) - 1, 1 << 20, false,
				false, &res), 0);
	ctl_result_fini(&res);
	before = dump(fx, &lb);
	assert_int_not_equal(import(fx, bad, sizeof(bad) - 1, 5, false, false,
				    &res), 0);
	assert_string_equal(res.code, "invalid");
	assert_non_null(res.errs);
	assert_true(res.errs->n >= 1);
	assert_int_equal(res.errs->e[0].line, 3);
	ctl_result_fini(&res);
	assert_dump_equal(fx, before, lb);
	assert_int_equal(ctl_state_generation(fx->cs), 1);
	free(before);
}

/* More than RULES_ERRORS_KEEP errors: the first 100 are kept, all counted. */
static void
test_ctl_import_error_list_is_capped(void **state)
{
	struct fx *fx = *state;
	struct ctl_buf b;
	struct ctl_result res;
	uint32_t i;

	ctl_buf_init(&b);
	ctl_buf_addf(&b, "id,kind,pattern,action,targets,rank,strip,prepend,code\n");
	for (i = 0; i < 250; i++)
		ctl_buf_addf(&b, "r%u,prefix,x%u,forward,198.19.0.1:5060,,,,\n",
			     i, i);
	assert_int_equal(import(fx, b.p, b.len, 1000, false, false, &res),
			 -EINVAL);
	assert_int_equal(res.errs->total, 250);
	assert_int_equal(res.errs->n, RULES_ERRORS_KEEP);
	assert_int_equal(res.errs->e[99].line, 101);
	ctl_result_fini(&res);
	ctl_buf_fini(&b);
}

static void
test_ctl_import_dry_run_counts_and_commits_nothing(void **state)
{
	struct fx *fx = *state;
	static const char next[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"nyc,prefix,1213,forward,198.19.0.3:5060,,0,,\n"     /* changed */
		"uk,prefix,+44,redirect,198.19.0.4:5060,,1,0044,\n"  /* same */
		"de,prefix,49,redirect,198.19.0.4:5060,,,,\n"        /* added */
		"x,exact,123,forward,198.19.0.4:5060,,,,\n";         /* added */
	struct ctl_result res;
	char *before;
	size_t lb;

	assert_int_equal(import(fx, table, sizeof(table) - 1, 100, false,
				false, &res), 0);
	ctl_result_fini(&res);
	before = dump(fx, &lb);
	assert_int_equal(import(fx, next, sizeof(next) - 1, 100, false, true,
				&res), 0);
	assert_int_equal(res.generation, 1);
	assert_int_equal(res.diff.added[RULES_KIND_PREFIX], 1);
	assert_int_equal(res.diff.added[RULES_KIND_EXACT], 1);
	assert_int_equal(res.diff.changed[RULES_KIND_PREFIX], 1);
	assert_int_equal(res.diff.removed[RULES_KIND_REGEX], 1);
	assert_int_equal(res.diff.removed[RULES_KIND_DOMAIN], 1);
	assert_int_equal(res.diff.removed[RULES_KIND_DEFAULT], 1);
	assert_int_equal(res.diff.unchanged, 1);
	ctl_result_fini(&res);
	assert_dump_equal(fx, before, lb);

	/* Merge keeps the rules the file does not name. */
	assert_int_equal(import(fx, next, sizeof(next) - 1, 100, true, true,
				&res), 0);
	assert_int_equal(res.diff.removed[RULES_KIND_REGEX], 0);
	assert_int_equal(res.nrules, 7);
	ctl_result_fini(&res);
	assert_dump_equal(fx, before, lb);
	assert_int_equal(import(fx, next, sizeof(next) - 1, 100, true, false,
				&res), 0);
	assert_int_equal(res.generation, 2);
	assert_int_equal(res.nrules, 7);
	ctl_result_fini(&res);
	reopen(fx, MAP_SIZE);
	assert_int_equal(rules_set_count(ctl_state_rules(fx->cs), NULL), 7);
	free(before);
}

static void
test_ctl_import_abort_commits_nothing(void **state)
{
	struct fx *fx = *state;
	struct ctl_import_opts o = { 0 };
	struct ctl_import *imp;
	char *before;
	size_t lb;

	before = dump(fx, &lb);
	assert_int_equal(ctl_import_begin(fx->cs, &o, &imp), 0);
	assert_int_equal(ctl_import_feed(imp, table, 100), 0);
	ctl_import_abort(imp);
	assert_dump_equal(fx, before, lb);
	assert_int_equal(ctl_state_generation(fx->cs), 0);
	free(before);
}

static void
test_ctl_import_map_full_keeps_previous_generation(void **state)
{
	struct fx *fx = *state;
	struct ctl_result res;
	char *before, *csv;
	size_t lb, len;

	fresh(fx, 1ull << 20, 1ull << 20);
	assert_int_equal(import(fx, table, sizeof(table) - 1, 100, false,
				false, &res), 0);
	ctl_result_fini(&res);
	before = dump(fx, &lb);
	csv = ctl_test_csv(20000, "big", &len);
	assert_int_equal(import(fx, csv, len, 1 << 16, false, false, &res),
			 -ENOSPC);
	assert_string_equal(res.code, "store_full");
	assert_non_null(strstr(res.msg, "generation 1 is still current"));
	ctl_result_fini(&res);
	assert_dump_equal(fx, before, lb);
	assert_int_equal(ctl_state_generation(fx->cs), 1);
	assert_int_equal(rules_set_count(ctl_state_rules(fx->cs), NULL), 5);

	/*
	 * With room to grow it goes through: the map doubles until the
	 * generation fits, each run writing every change again (the store
	 * read back after a restart exports the same rules).
	 */
	reopen_max(fx, 1ull << 20, MAP_SIZE);
	assert_int_equal(import(fx, csv, len, 1 << 16, false, false, &res), 0);
	assert_int_equal(res.generation, 2);
	ctl_result_fini(&res);
	free(csv);
	{
		uint64_t n = rules_set_count(ctl_state_rules(fx->cs), NULL);
		char *e1, *e2;
		size_t l1, l2;

		assert_true(n >= 20000);
		e1 = export(fx, &l1);
		reopen(fx, 1ull << 20);
		assert_int_equal(ctl_state_generation(fx->cs), 2);
		assert_int_equal(rules_set_count(ctl_state_rules(fx->cs), NULL),
				 n);
		e2 = export(fx, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(e1, e2, l1);
		free(e1);
		free(e2);
	}
	free(before);
}

static void
test_ctl_route_add_del(void **state)
{
	struct fx *fx = *state;
	static const char row[] = "x1,exact,5551234,forward,198.19.0.1:5060,5,,,";
	static const char row2[] = "x1,exact,5551235,forward,198.19.0.1:5060,5,,,";
	struct ctl_result res;
	struct rules_rule r;
	char *before;
	size_t lb;

	assert_int_equal(import(fx, table, sizeof(table) - 1, 100, false,
				false, &res), 0);
	ctl_result_fini(&res);
	assert_int_equal(ctl_route_add(fx->cs, row, sizeof(row) - 1, false,
				       &res), 0);
	assert_int_equal(res.generation, 2);
	assert_int_equal(res.nrules, 6);
	ctl_result_fini(&res);

	before = dump(fx, &lb);
	assert_int_equal(ctl_route_add(fx->cs, row2, sizeof(row2) - 1, false,
				       &res), -EEXIST);
	assert_string_equal(res.code, "exists");
	assert_non_null(strstr(res.msg, "rule 'x1' exists"));
	ctl_result_fini(&res);
	/* An existing id with a bad field: the field's error. */
	assert_int_equal(ctl_route_add(fx->cs, "x1,prefix,zz,forward,,,,,", 25,
				       false, &res), -EINVAL);
	assert_string_equal(res.code, "invalid");
	ctl_result_fini(&res);
	assert_int_equal(ctl_route_add(fx->cs, "y,prefix,zz,forward,,,,,", 24,
				       false, &res), -EINVAL);
	ctl_result_fini(&res);
	/* Too many fields; two rows. */
	assert_int_equal(ctl_route_add(fx->cs,
			 "y,exact,1,forward,198.19.0.1:5060,,,,,extra", 43,
			 false, &res), -EINVAL);
	assert_non_null(strstr(res.msg, "expected 9 fields, found 10"));
	ctl_result_fini(&res);
	assert_int_equal(ctl_route_add(fx->cs,
			 "y,exact,1,forward,198.19.0.1:5060,,,,,,,,,,,,,,", 48,
			 false, &res), -EINVAL);
	assert_non_null(strstr(res.msg, "more fields than the 9"));
	ctl_result_fini(&res);
	assert_int_equal(ctl_route_add(fx->cs,
			 "y,exact,1,forward,198.19.0.1:5060,,,,\n"
			 "z,exact,2,forward,198.19.0.1:5060,,,,\n", 76,
			 false, &res), -EINVAL);
	assert_non_null(strstr(res.msg, "one rule row only"));
	ctl_result_fini(&res);
	assert_int_equal(ctl_route_del(fx->cs, span_make("nope", 4), &res),
			 -ENOENT);
	ctl_result_fini(&res);
	assert_dump_equal(fx, before, lb);

	assert_int_equal(ctl_route_add(fx->cs, row2, sizeof(row2) - 1, true,
				       &res), 0);
	assert_int_equal(res.diff.changed[RULES_KIND_EXACT], 1);
	ctl_result_fini(&res);
	assert_int_equal(ctl_route_del(fx->cs, span_make("uk", 2), &res), 0);
	assert_int_equal(res.generation, 4);
	ctl_result_fini(&res);
	reopen(fx, MAP_SIZE);
	assert_int_equal(ctl_state_generation(fx->cs), 4);
	assert_int_equal(rules_set_find(ctl_state_rules(fx->cs),
					span_make("uk", 2), &r), -ENOENT);
	assert_int_equal(rules_set_find(ctl_state_rules(fx->cs),
					span_make("x1", 2), &r), 0);
	assert_int_equal(r.pattern.len, 7);
	assert_memory_equal(r.pattern.ptr, "5551235", 7);
	free(before);
}

static void
test_ctl_explain_uses_current_image(void **state)
{
	struct fx *fx = *state;
	struct rules_explain *ex = calloc(1, sizeof(*ex));
	struct ctl_result res;

	assert_int_equal(ctl_explain(fx->cs, "sip:+441234@x.example.com", ex,
				     &res), -ENOENT);
	assert_int_equal(import(fx, table, sizeof(table) - 1, 100, false,
				false, &res), 0);
	ctl_result_fini(&res);
	assert_int_equal(ctl_explain(fx->cs, "sip:+441234@x.example.com", ex,
				     &res), 0);
	assert_int_not_equal(ex->winner, RULES_NO_RULE);
	assert_int_equal(ex->match[0].id.len, 2);
	assert_memory_equal(ex->match[0].id.ptr, "uk", 2);
	assert_int_equal(ctl_explain(fx->cs, "tel:+1-212-555-0100", ex, &res),
			 0);
	assert_memory_equal(ex->match[0].id.ptr, "nyc", 3);
	assert_int_equal(ex->target_rc, 0);
	assert_int_equal(ex->ncontacts, 3);

	/* targets.down: nyc's first tier out of service leaves the second
	 * (.6); uk's only target down leaves none (the dataplane's 503). */
	{
		struct schema_setting s = { .type = SCHEMA_SETTING_STR };

		s.str = SPAN_LIT("198.19.0.3:5060 198.19.0.5:5060 "
				 "198.19.0.4:5060 [2001:db8::1]:5060");
		assert_int_equal(ctl_store_setting_put(
			ctl_state_store(fx->cs), "targets.down", &s), 0);
	}
	assert_int_equal(ctl_explain(fx->cs, "tel:+1-212-555-0100", ex, &res),
			 0);
	assert_int_equal(ex->target_rc, 0);
	assert_int_equal(ex->ncontacts, 1);
	assert_memory_equal(ex->target.addr,
			    ((const uint8_t[]){ 198, 19, 0, 6 }), 4);
	assert_int_equal(ctl_explain(fx->cs, "sip:+441234@x.example.com", ex,
				     &res), 0);
	assert_int_equal(ex->target_rc, -ENOENT);
	assert_int_equal(ex->ncontacts, 0);
	free(ex);
}

static void
test_ctl_uri_split_forms(void **state)
{
	struct span u, h;

	(void)state;
	assert_int_equal(ctl_uri_split("sip:alice:pw@Host.example:5060;x=1",
				       &u, &h), 0);
	assert_int_equal(u.len, 5);
	assert_memory_equal(h.ptr, "Host.example", h.len);
	assert_int_equal(ctl_uri_split("sips:[2001:db8::1]:5061", &u, &h), 0);
	assert_int_equal(u.len, 0);
	assert_memory_equal(h.ptr, "[2001:db8::1]", h.len);
	assert_int_equal(ctl_uri_split("tel:+44-20-7946;phone-context=x", &u,
				       &h), 0);
	assert_memory_equal(u.ptr, "+44-20-7946", u.len);
	assert_int_equal(ctl_uri_split("sip:", &u, &h), -EINVAL);
	/* A user=phone number's parameters are in the user part: the host
	 * is after the '@', as the dataplane reads it. */
	assert_int_equal(ctl_uri_split("sip:+12125550100;npdi@edge.example"
				       ";user=phone", &u, &h), 0);
	assert_memory_equal(u.ptr, "+12125550100;npdi", u.len);
	assert_int_equal(u.len, 17);
	assert_memory_equal(h.ptr, "edge.example", h.len);
	assert_int_equal(h.len, 12);
	assert_int_equal(ctl_uri_split("+12125550100;npdi@edge.example", &u,
				       &h), 0);
	assert_int_equal(u.len, 17);
	assert_int_equal(h.len, 12);
	/* Hosts the router would refuse are refused here too. */
	assert_int_equal(ctl_uri_split("sip:bob@.example.com", &u, &h),
			 -EINVAL);
	assert_int_equal(ctl_uri_split("sip:bob@a..example.com", &u, &h),
			 -EINVAL);
	assert_int_equal(ctl_uri_split("bob@.example.com", &u, &h), -EINVAL);
	assert_int_equal(ctl_uri_split("sip:bob@sip.example.com.", &u, &h),
			 0);
	assert_memory_equal(h.ptr, "sip.example.com.", h.len);
}

static void
test_ctl_keep_setting_drives_gc(void **state)
{
	struct fx *fx = *state;
	struct schema_setting s = { .type = SCHEMA_SETTING_U64, .u = 3 };
	struct ctl_result res;
	uint64_t gens[8];
	size_t n;
	int i;

	assert_int_equal(ctl_store_setting_put(ctl_state_store(fx->cs),
					       "artefacts.keep", &s), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(import(fx, table, sizeof(table) - 1, 100,
					false, false, &res), 0);
		ctl_result_fini(&res);
	}
	assert_int_equal(ctl_store_artefact_gens(ctl_state_store(fx->cs), gens,
						 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(gens[0], 3);
	assert_int_equal(gens[2], 5);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ctl_import_commits_generation_and_publishes),
		T(test_ctl_import_export_round_trip),
		T(test_ctl_import_text_only_change_survives_restart),
		T(test_ctl_dead_reader_does_not_pin_store),
		T(test_ctl_import_errors_have_lines_and_commit_nothing),
		T(test_ctl_import_bad_regex_commits_nothing),
		T(test_ctl_import_error_list_is_capped),
		T(test_ctl_import_dry_run_counts_and_commits_nothing),
		T(test_ctl_import_abort_commits_nothing),
		T(test_ctl_import_map_full_keeps_previous_generation),
		T(test_ctl_route_add_del),
		T(test_ctl_explain_uses_current_image),
		cmocka_unit_test(test_ctl_uri_split_forms),
		T(test_ctl_keep_setting_drives_gc),
	};
#undef T

	ctl_log_set_level(CTL_LOG_ERR);
	return cmocka_run_group_tests_name("ctl_state", tests, NULL, NULL);
}
