/* SPDX-License-Identifier: MIT */
/*
 * test_ctl_store.c - the LMDB layer: generations, artefacts and their
 * garbage collection, settings, and failed commits leaving the store
 * byte-for-byte unchanged. A fresh environment per test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../control/ctl.h"
#include "ctl_test_util.h"

struct fx {
	char                    *dir;
	struct ctl_store        *st;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	fx->dir = ctl_test_tmpdir();
	if (fx->dir == NULL ||
	    ctl_store_open(fx->dir, 64ull << 20, 64ull << 20, &fx->st) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	ctl_store_close(fx->st);
	ctl_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* A new, empty store instead (a map, once grown, stays that size). */
static void
fresh(struct fx *fx, uint64_t map_size, uint64_t max)
{
	ctl_store_close(fx->st);
	ctl_test_rmdir(fx->dir);
	fx->dir = ctl_test_tmpdir();
	assert_non_null(fx->dir);
	assert_int_equal(ctl_store_open(fx->dir, map_size, max, &fx->st), 0);
}

static char *
dump(struct ctl_store *st, size_t *len)
{
	char *p = NULL;
	FILE *f = open_memstream(&p, len);

	assert_non_null(f);
	assert_int_equal(ctl_store_dump(st, f), 0);
	fclose(f);
	return p;
}

/* A change list: n puts of rules "r<i>" with pattern "<base+i>". */
struct gen_changes {
	uint32_t         i;
	uint32_t         n;
	uint32_t         base;
	uint32_t         fail_at;       /* return -EIO at this index if != 0 */
	char             id[32];
	char             pat[32];
	char             host[16];
};

static int
gen_next(void *arg, struct ctl_change *c)
{
	struct gen_changes *g = arg;

	if (g->fail_at != 0 && g->i == g->fail_at)
		return -EIO;
	if (g->i >= g->n)
		return 0;
	memset(c, 0, sizeof(*c));
	snprintf(g->id, sizeof(g->id), "r%u", g->i);
	snprintf(g->pat, sizeof(g->pat), "%u", g->base + g->i);
	strcpy(g->host, "198.19.0.1");
	c->id = span_make(g->id, strlen(g->id));
	c->rule.id = c->id;
	c->rule.kind = SCHEMA_KIND_PREFIX;
	c->rule.action = SCHEMA_ACTION_FORWARD;
	c->rule.rank = 100;
	c->rule.pattern = span_make(g->pat, strlen(g->pat));
	c->rule.ntargets = 1;
	c->rule.target[0].host = span_make(g->host, strlen(g->host));
	c->rule.target[0].port = 5060;
	c->rule.target[0].priority = 1;
	c->rule.target[0].weight = 1;
	g->i++;
	return 1;
}

static void
gen_rewind(void *arg)
{
	((struct gen_changes *)arg)->i = 0;
}

/* @p rewind: the changes can start over (the map may grow). */
static int
commit_n_rw(struct ctl_store *st, uint32_t n, uint32_t base, size_t image_len,
	    bool rewind, uint64_t *gen)
{
	struct gen_changes g = { .n = n, .base = base };
	struct ctl_commit c;
	char *image = malloc(image_len + 1);
	int rc;

	memset(image, 'x', image_len);
	memset(&c, 0, sizeof(c));
	c.next = gen_next;
	c.rewind = rewind ? gen_rewind : NULL;
	c.arg = &g;
	c.image = image;
	c.image_len = image_len;
	c.geninfo.nrules = n;
	c.summary.mode = SCHEMA_IMPORT_REPLACE;
	c.summary.rows = n;
	c.keep = 2;
	rc = ctl_store_commit(st, &c, gen);
	free(image);
	return rc;
}

static int
commit_n(struct ctl_store *st, uint32_t n, uint32_t base, size_t image_len,
	 uint64_t *gen)
{
	return commit_n_rw(st, n, base, image_len, true, gen);
}

/* The patterns of the stored rules r0..r<n-1>, as numbers: each must be
 * @p base + its index. */
struct pat_check {
	uint32_t base;
	uint32_t n;
	uint32_t seen;
};

static int
pat_check_one(void *arg, const struct schema_rule *r)
{
	struct pat_check *pc = arg;
	char id[32], pat[32];
	unsigned int i;

	snprintf(id, sizeof(id), "%.*s", (int)r->id.len, r->id.ptr);
	snprintf(pat, sizeof(pat), "%.*s", (int)r->pattern.len,
		 r->pattern.ptr);
	assert_int_equal(sscanf(id, "r%u", &i), 1);
	assert_true(i < pc->n);
	assert_int_equal(strtoul(pat, NULL, 10), pc->base + i);
	pc->seen++;
	return 0;
}

static void
assert_patterns(struct ctl_store *st, uint32_t n, uint32_t base)
{
	struct pat_check pc = { .base = base, .n = n };

	assert_int_equal(ctl_store_rules_foreach(st, pat_check_one, &pc), 0);
	assert_int_equal(pc.seen, n);
}

static void
test_ctl_store_new_env_is_generation_zero_and_exclusive(void **state)
{
	struct fx *fx = *state;
	struct schema_import_summary s;
	struct ctl_store *other;
	struct schema_meta_gen g;

	assert_int_equal(ctl_store_generation(fx->st, &g), 0);
	assert_int_equal(g.generation, 0);
	assert_int_equal(ctl_store_last_import(fx->st, &s), -ENOENT);
	/* A second owner of the same directory is refused. */
	assert_int_equal(ctl_store_open(fx->dir, 64ull << 20, 64ull << 20, &other), -EBUSY);
	/* Reopening an initialised environment works. */
	ctl_store_close(fx->st);
	assert_int_equal(ctl_store_open(fx->dir, 64ull << 20, 64ull << 20, &fx->st), 0);
}

static void
test_ctl_store_commit_advances_generation(void **state)
{
	struct fx *fx = *state;
	struct schema_import_summary s;
	struct schema_meta_gen g;
	uint64_t gen;
	void *img;
	size_t len;

	assert_int_equal(commit_n(fx->st, 100, 1000, 5000, &gen), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(commit_n(fx->st, 50, 2000, 7000, &gen), 0);
	assert_int_equal(gen, 2);
	assert_int_equal(ctl_store_generation(fx->st, &g), 0);
	assert_int_equal(g.generation, 2);
	/* 100 puts then 50 overwrites of r0..r49. */
	assert_int_equal(g.nrules, 100);
	assert_int_equal(ctl_store_last_import(fx->st, &s), 0);
	assert_int_equal(s.generation, 2);
	assert_int_equal(s.rows, 50);
	assert_int_equal(ctl_store_artefact_get(fx->st, 2,
						SCHEMA_ART_RULES_IMAGE, &img,
						&len), 0);
	assert_int_equal(len, 7000);
	free(img);
}

static void
test_ctl_store_gc_keeps_last_k(void **state)
{
	struct fx *fx = *state;
	uint64_t gens[16], gen;
	size_t n, i;
	void *img;
	size_t len;

	for (i = 0; i < 5; i++)
		assert_int_equal(commit_n(fx->st, 10, 0, 100, &gen), 0);
	assert_int_equal(ctl_store_artefact_gens(fx->st, gens, 16, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(gens[0], 4);
	assert_int_equal(gens[1], 5);
	assert_int_equal(ctl_store_artefact_get(fx->st, 3,
						SCHEMA_ART_RULES_IMAGE, &img,
						&len), -ENOENT);
}

static void
test_ctl_store_failed_change_commits_nothing(void **state)
{
	struct fx *fx = *state;
	struct gen_changes g = { .n = 100, .base = 7, .fail_at = 60 };
	struct schema_meta_gen mg;
	struct ctl_commit c;
	char *before, *after;
	size_t lb, la;
	uint64_t gen;

	assert_int_equal(commit_n(fx->st, 20, 0, 100, &gen), 0);
	before = dump(fx->st, &lb);
	memset(&c, 0, sizeof(c));
	c.next = gen_next;
	c.arg = &g;
	c.image = "img";
	c.image_len = 3;
	c.summary.mode = SCHEMA_IMPORT_REPLACE;
	c.keep = 1;
	assert_int_equal(ctl_store_commit(fx->st, &c, &gen), -EIO);
	after = dump(fx->st, &la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, lb);
	assert_int_equal(ctl_store_generation(fx->st, &mg), 0);
	assert_int_equal(mg.generation, 1);
	free(before);
	free(after);
}

static void
test_ctl_store_map_full_is_enospc(void **state)
{
	struct fx *fx = *state;
	struct schema_meta_gen mg;
	char *before, *after;
	size_t lb, la;
	uint64_t gen;

	/* A new store with a 1 MiB map that may not grow: a 4 MiB image
	 * cannot fit. */
	fresh(fx, 1ull << 20, 1ull << 20);
	assert_int_equal(commit_n(fx->st, 10, 0, 1000, &gen), 0);
	before = dump(fx->st, &lb);
	assert_int_equal(commit_n(fx->st, 10, 5, 4u << 20, &gen), -ENOSPC);
	after = dump(fx->st, &la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, lb);
	assert_int_equal(ctl_store_generation(fx->st, &mg), 0);
	assert_int_equal(mg.generation, 1);
	/* The store stays usable for a change that fits. */
	assert_int_equal(commit_n(fx->st, 10, 9, 1000, &gen), 0);
	assert_int_equal(gen, 2);
	free(before);
	free(after);
}

/*
 * With room to grow (ctl_store_set_map_max()), a full map doubles and the
 * commit runs again from its first change: the 4 MiB image fits after
 * 1 -> 2 -> 4 -> 8 MiB, and every rule change is in the store. At the
 * limit the old answer holds: -ENOSPC, nothing changed; so too for
 * changes that cannot start over (no rewind). The grown size stays when
 * the environment is opened again with a smaller --map-size.
 */
static void
test_ctl_store_map_grows_to_its_limit(void **state)
{
	struct fx *fx = *state;
	struct schema_meta_gen mg;
	struct ctl_store_stat ss;
	char *before, *after;
	size_t lb, la;
	uint64_t gen, grown;

	fresh(fx, 1ull << 20, 1ull << 20);
	assert_int_equal(commit_n(fx->st, 10, 0, 1000, &gen), 0);
	/* A limit below the map is the map: no growth. */
	ctl_store_set_map_max(fx->st, 1ull << 16);
	assert_int_equal(commit_n(fx->st, 10, 5, 4u << 20, &gen), -ENOSPC);
	/* Room up to 3 MiB: 2, then 3 (the limit), still too small. */
	ctl_store_set_map_max(fx->st, 3ull << 20);
	before = dump(fx->st, &lb);
	assert_int_equal(commit_n(fx->st, 10, 5, 4u << 20, &gen), -ENOSPC);
	after = dump(fx->st, &la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, lb);
	free(after);
	assert_int_equal(ctl_store_stat(fx->st, &ss), 0);
	assert_int_equal(ss.map_size, 3ull << 20);
	/* Changes that cannot start over are not run again. */
	ctl_store_set_map_max(fx->st, 64ull << 20);
	assert_int_equal(commit_n_rw(fx->st, 10, 5, 4u << 20, false, &gen),
			 -ENOSPC);
	after = dump(fx->st, &la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, lb);
	free(before);
	free(after);
	assert_patterns(fx->st, 10, 0);

	assert_int_equal(commit_n(fx->st, 10, 5, 4u << 20, &gen), 0);
	assert_int_equal(gen, 2);
	assert_patterns(fx->st, 10, 5);
	assert_int_equal(ctl_store_stat(fx->st, &ss), 0);
	assert_true(ss.map_size == (6ull << 20) || ss.map_size == (12ull << 20));
	/* A setting as large as the map grows it too. */
	{
		size_t n = (size_t)ss.map_size;
		char *big = malloc(n);
		struct schema_setting st = { .type = SCHEMA_SETTING_STR };
		uint64_t was = ss.map_size;

		assert_non_null(big);
		memset(big, 'x', n);
		st.str = span_make(big, n);
		assert_int_equal(ctl_store_setting_put(fx->st, "x.big", &st),
				 0);
		free(big);
		assert_int_equal(ctl_store_stat(fx->st, &ss), 0);
		assert_true(ss.map_size > was);
	}
	grown = ss.map_size;
	ctl_store_close(fx->st);
	assert_int_equal(ctl_store_open(fx->dir, 1ull << 20, 1ull << 20,
					&fx->st), 0);
	assert_int_equal(ctl_store_stat(fx->st, &ss), 0);
	assert_int_equal(ss.map_size, grown);
	assert_int_equal(ctl_store_generation(fx->st, &mg), 0);
	assert_int_equal(mg.generation, 2);
	assert_patterns(fx->st, 10, 5);
	/* A larger --map-size is taken. */
	ctl_store_close(fx->st);
	assert_int_equal(ctl_store_open(fx->dir, 2 * grown, 2 * grown,
					&fx->st), 0);
	assert_int_equal(ctl_store_stat(fx->st, &ss), 0);
	assert_int_equal(ss.map_size, 2 * grown);
}

/* The free-space check that tells a full disk from another I/O error. */
static void
test_ctl_store_disk_short_reads_free_space(void **state)
{
	struct fx *fx = *state;

	assert_false(ctl_store_disk_short(fx->st, 0));
	assert_true(ctl_store_disk_short(fx->st, UINT64_MAX / 2));
}

static void
test_ctl_store_settings_round_trip(void **state)
{
	struct fx *fx = *state;
	struct schema_setting s = { .type = SCHEMA_SETTING_U64, .u = 5 };
	char buf[64];

	assert_int_equal(ctl_store_setting_get(fx->st, "artefacts.keep", &s,
					       buf, sizeof(buf)), -ENOENT);
	s.type = SCHEMA_SETTING_U64;
	s.u = 5;
	assert_int_equal(ctl_store_setting_put(fx->st, "artefacts.keep", &s),
			 0);
	s.type = SCHEMA_SETTING_STR;
	s.str = span_make("edge.example", 12);
	assert_int_equal(ctl_store_setting_put(fx->st, "x.name", &s), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ctl_store_setting_get(fx->st, "artefacts.keep", &s,
					       buf, sizeof(buf)), 0);
	assert_int_equal(s.u, 5);
	assert_int_equal(ctl_store_setting_get(fx->st, "x.name", &s, buf,
					       sizeof(buf)), 0);
	assert_string_equal(buf, "edge.example");
	assert_int_equal(ctl_store_setting_get(fx->st, "x.name", &s, buf, 4),
			 -ENOSPC);
}

static void
test_ctl_store_stat_counts_entries(void **state)
{
	struct fx *fx = *state;
	struct ctl_store_stat ss;
	uint64_t gen;

	assert_int_equal(commit_n(fx->st, 33, 0, 100, &gen), 0);
	assert_int_equal(ctl_store_stat(fx->st, &ss), 0);
	assert_int_equal(ss.entries[SCHEMA_DBI_RULES], 33);
	assert_int_equal(ss.entries[SCHEMA_DBI_ARTEFACTS], 2);
	assert_int_equal(ss.map_size, 64ull << 20);
	assert_true(ss.used_bytes > 0);
	assert_true(ss.file_bytes >= ss.used_bytes);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ctl_store_new_env_is_generation_zero_and_exclusive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_store_commit_advances_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_store_gc_keeps_last_k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_store_failed_change_commits_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_store_map_full_is_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_store_map_grows_to_its_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_store_disk_short_reads_free_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_store_settings_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_store_stat_counts_entries, setup, teardown),
	};

	ctl_log_set_level(CTL_LOG_ERR);
	return cmocka_run_group_tests_name("ctl_store", tests, NULL, NULL);
}
