/* SPDX-License-Identifier: MIT */
/*
 * test_rules_set.c - rule sets built programmatically (route add/del),
 * lookups by id, merge and the dry-run diff.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rules.h>

#include "rules_test_util.h"

static const struct rules_target tgt[2] = {
	{ .af = RULES_AF_INET, .port = 5060, .priority = 1, .weight = 70,
	  .addr = { 192, 0, 2, 1 } },
	{ .af = RULES_AF_INET, .port = 5060, .priority = 1, .weight = 30,
	  .addr = { 192, 0, 2, 2 } },
};

static struct rules_rule
mk(const char *id, uint8_t kind, const char *pattern)
{
	struct rules_rule r;

	memset(&r, 0, sizeof(r));
	r.id = span_make(id, strlen(id));
	r.kind = kind;
	r.pattern = span_make(pattern, strlen(pattern));
	r.action = RULES_ACTION_FORWARD;
	r.targets = tgt;
	r.ntargets = 2;
	r.rank = RULES_RANK_DEFAULT;
	return r;
}

static void
test_rules_set_add_find_del(void **state)
{
	struct rules_set *set;
	struct rules_rule r, got;
	struct rules_errors errs;
	uint32_t counts[RULES_KIND__COUNT];

	(void)state;
	assert_int_equal(rules_set_new(&set), 0);
	r = mk("a", RULES_KIND_PREFIX, "+1212");
	assert_int_equal(rules_set_add(set, &r, NULL), 0);
	r = mk("b", RULES_KIND_EXACT, "5551234");
	assert_int_equal(rules_set_add(set, &r, NULL), 0);
	rules_errors_reset(&errs);
	r = mk("a", RULES_KIND_PREFIX, "1");
	r.line = 12;
	assert_int_equal(rules_set_add(set, &r, &errs), -EEXIST);
	assert_int_equal(errs.total, 1);
	assert_int_equal(errs.e[0].line, 12);
	assert_int_equal(errs.e[0].field, RULES_FIELD_ID);

	r = mk("c", RULES_KIND_PREFIX, "12x");
	rules_errors_reset(&errs);
	assert_int_equal(rules_set_add(set, &r, &errs), -EINVAL);
	assert_int_equal(errs.total, 1);
	assert_int_equal(rules_set_count(set, counts), 2);
	assert_int_equal(counts[RULES_KIND_PREFIX], 1);
	assert_int_equal(counts[RULES_KIND_EXACT], 1);

	assert_int_equal(rules_set_find(set, SPAN_LIT("a"), &got), 0);
	assert_true(span_eq(got.pattern, SPAN_LIT("+1212")));
	assert_int_equal(got.ntargets, 2);
	assert_int_equal(got.targets[1].weight, 30);

	/* put replaces in place */
	r = mk("a", RULES_KIND_PREFIX, "1313");
	r.rank = 7;
	assert_int_equal(rules_set_put(set, &r, NULL), 0);
	assert_int_equal(rules_set_count(set, NULL), 2);
	assert_int_equal(rules_set_find(set, SPAN_LIT("a"), &got), 0);
	assert_true(span_eq(got.pattern, SPAN_LIT("1313")));
	assert_int_equal(got.rank, 7);

	assert_int_equal(rules_set_del(set, SPAN_LIT("a")), 0);
	assert_int_equal(rules_set_del(set, SPAN_LIT("a")), -ENOENT);
	assert_int_equal(rules_set_find(set, SPAN_LIT("a"), &got), -ENOENT);
	assert_int_equal(rules_set_find(set, SPAN_LIT("b"), &got), 0);
	assert_int_equal(rules_set_get(set, 0, &got), 0);
	assert_true(span_eq(got.id, SPAN_LIT("b")));
	assert_int_equal(rules_set_get(set, 1, &got), -ENOENT);
	assert_int_equal(rules_set_count(set, counts), 1);
	assert_int_equal(counts[RULES_KIND_PREFIX], 0);
	rules_set_free(set);
	rules_set_free(NULL);
}

/* Many adds and deletes keep the id index consistent. */
static void
test_rules_set_many_adds_and_deletes_consistent(void **state)
{
	struct rules_set *set;
	struct rules_rule r;
	char id[32];
	uint32_t i;

	(void)state;
	assert_int_equal(rules_set_new(&set), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "rule-%u", i);
		r = mk(id, RULES_KIND_PREFIX, "1");
		assert_int_equal(rules_set_add(set, &r, NULL), 0);
	}
	for (i = 0; i < 20000; i += 3) {
		snprintf(id, sizeof(id), "rule-%u", i);
		assert_int_equal(rules_set_del(set, span_make(id, strlen(id))), 0);
	}
	assert_int_equal(rules_set_count(set, NULL), 20000 - 6667);
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "rule-%u", i);
		assert_int_equal(rules_set_find(set, span_make(id, strlen(id)), &r),
				 i % 3 == 0 ? -ENOENT : 0);
		if (i % 3 != 0)
			assert_true(span_eq(r.id, span_make(id, strlen(id))));
	}
	rules_set_free(set);
}

static void
test_rules_set_diff_counts_by_kind(void **state)
{
	struct rules_set *a, *b;
	struct rules_diff d;

	(void)state;
	a = rt_set(RT_HDR
		   "same,prefix,1,forward,192.0.2.1:5060,,,,\n"
		   "gone,exact,2,forward,192.0.2.1:5060,,,,\n"
		   "chg,regex,3.*,forward,192.0.2.1:5060,,,,\n"
		   "chgt,domain,example.com,forward,192.0.2.1:5060/1/2,,,,\n");
	b = rt_set(RT_HDR
		   "same,prefix,+1,forward,192.0.2.1:5060,,,,\n"
		   "chg,regex,3.*,forward,192.0.2.1:5060,5,,,\n"
		   "chgt,domain,example.com,forward,192.0.2.1:5060/1/3,,,,\n"
		   "new,default,,forward,192.0.2.1:5060,,,,\n"
		   "new2,prefix,9,reject,,,,,404\n");
	assert_int_equal(rules_set_diff(a, b, &d), 0);
	assert_int_equal(d.added[RULES_KIND_DEFAULT], 1);
	assert_int_equal(d.added[RULES_KIND_PREFIX], 1);
	assert_int_equal(d.removed[RULES_KIND_EXACT], 1);
	assert_int_equal(d.changed[RULES_KIND_REGEX], 1);
	assert_int_equal(d.changed[RULES_KIND_DOMAIN], 1);
	/* "+1" and "1" are the same rule (DESIGN.md 4.1). */
	assert_int_equal(d.changed[RULES_KIND_PREFIX], 0);
	assert_int_equal(d.unchanged, 1);

	assert_int_equal(rules_set_diff(NULL, b, &d), 0);
	assert_int_equal(d.added[RULES_KIND_PREFIX], 2);

	/* merge: b's rules replace or join a's */
	assert_int_equal(rules_set_merge(a, b), 0);
	assert_int_equal(rules_set_count(a, NULL), 6);
	assert_int_equal(rules_set_diff(a, b, &d), 0);
	assert_int_equal(d.unchanged, 5);
	assert_int_equal(d.removed[RULES_KIND_EXACT], 1);
	rules_set_free(a);
	rules_set_free(b);
}

static void
test_rules_set_names(void **state)
{
	(void)state;
	assert_string_equal(rules_kind_name(RULES_KIND_DOMAIN), "domain");
	assert_string_equal(rules_action_name(RULES_ACTION_REJECT), "reject");
	assert_string_equal(rules_field_name(RULES_FIELD_TARGETS), "targets");
	assert_string_equal(rules_why_desc(RULES_WHY_ID),
			    "lower id in byte order");
	assert_string_equal(rules_kind_name(99), "?");
}

/*
 * A rule read from the set and put back changed (find, edit, put) while
 * the set's arenas grow: the put copies what the rule points to before
 * they move (the sanitizer build catches a read of the old arena).
 */
static void
test_rules_set_put_back_own_rule(void **state)
{
	struct rules_set *set;
	struct rules_rule r;
	char id[16], row[128];
	uint32_t i;

	(void)state;
	assert_int_equal(rules_set_new(&set), 0);
	for (i = 0; i < 2000; i++) {
		snprintf(row, sizeof(row),
			 "r%u,prefix,%u,forward,192.0.2.%u:5060|gw%u.example.net:5060,,,,",
			 i, 100000 + i, 1 + i % 200, i % 7);
		assert_int_equal(rules_set_add_csv_row(set, row, strlen(row),
						       i + 2, NULL), 0);
	}
	for (i = 0; i < 2000; i++) {
		snprintf(id, sizeof(id), "r%u", i);
		assert_int_equal(rules_set_find(set, span_make(id, strlen(id)),
						&r), 0);
		r.rank = 5;
		assert_int_equal(rules_set_put(set, &r, NULL), 0);
	}
	for (i = 0; i < 2000; i += 97) {
		snprintf(id, sizeof(id), "r%u", i);
		assert_int_equal(rules_set_find(set, span_make(id, strlen(id)),
						&r), 0);
		assert_int_equal(r.rank, 5);
		assert_int_equal(r.ntargets, 2);
		assert_int_equal(r.targets[1].af, RULES_AF_NAME);
		snprintf(row, sizeof(row), "gw%u.example.net", i % 7);
		assert_int_equal(r.targets[1].name_len, strlen(row));
		assert_memory_equal(r.targets[1].name, row, strlen(row));
	}
	assert_int_equal(rules_set_count(set, NULL), 2000);
	rules_set_free(set);
}

/* The names a set's rules use: a replaced or deleted rule's go. */
static void
test_rules_set_names_in_use(void **state)
{
	static const char a[] = "x,prefix,1,forward,one.example.net:5060,,,,";
	static const char b[] =
		"x,prefix,1,forward,two.example.net:5060|one.example.net:5070,,,,";
	static const char c[] = "y,prefix,2,forward,two.example.net:5060,,,,";
	static const char d[] = "x,prefix,1,forward,192.0.2.1:5060,,,,";
	struct rules_set *set;
	uint32_t cur;
	const char *n1, *n2;

	(void)state;
	assert_int_equal(rules_set_new(&set), 0);
	assert_int_equal(rules_set_add_csv_row(set, a, strlen(a), 1, NULL), 0);
	cur = 0;
	assert_string_equal(rules_set_name_next(set, &cur), "one.example.net");
	assert_null(rules_set_name_next(set, &cur));
	/* x replaced: one and two; y: two again. */
	assert_int_equal(rules_set_del(set, SPAN_LIT("x")), 0);
	assert_int_equal(rules_set_add_csv_row(set, b, strlen(b), 2, NULL), 0);
	assert_int_equal(rules_set_add_csv_row(set, c, strlen(c), 3, NULL), 0);
	cur = 0;
	n1 = rules_set_name_next(set, &cur);
	n2 = rules_set_name_next(set, &cur);
	assert_non_null(n1);
	assert_non_null(n2);
	assert_null(rules_set_name_next(set, &cur));
	/* x put back with a literal only: two stays (y), one goes. */
	{
		struct rules_set *one;
		struct rules_rule r;

		assert_int_equal(rules_set_new(&one), 0);
		assert_int_equal(rules_set_add_csv_row(one, d, strlen(d), 4,
						       NULL), 0);
		assert_int_equal(rules_set_get(one, 0, &r), 0);
		assert_int_equal(rules_set_put(set, &r, NULL), 0);
		rules_set_free(one);
	}
	cur = 0;
	assert_string_equal(rules_set_name_next(set, &cur), "two.example.net");
	assert_null(rules_set_name_next(set, &cur));
	assert_int_equal(rules_set_del(set, SPAN_LIT("y")), 0);
	cur = 0;
	assert_null(rules_set_name_next(set, &cur));
	rules_set_free(set);
}

/* A row with any field that does not parse leaves the set unchanged,
 * even when what did parse would make a valid rule. */
static void
test_rules_set_bad_row_not_added(void **state)
{
	static const char *const rows[] = {
		"a,domain,a..b.com,forward,192.0.2.1:5060,,,,",
		"b,prefix,1,forward,192.0.2.1:5060,abc,,,",
		"c,prefix,1,reject,,,,,401",
		"d,prefix,1,forward,192.0.2.1:5060,,x,,",
	};
	struct rules_errors errs;
	struct rules_set *set;
	size_t i;

	(void)state;
	assert_int_equal(rules_set_new(&set), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rules_errors_reset(&errs);
		assert_int_equal(rules_set_add_csv_row(set, rows[i],
						       strlen(rows[i]), 1,
						       &errs), -EINVAL);
		assert_true(errs.total >= 1);
		assert_int_equal(rules_set_count(set, NULL), 0);
	}
	rules_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_set_add_find_del),
		cmocka_unit_test(test_rules_set_many_adds_and_deletes_consistent),
		cmocka_unit_test(test_rules_set_diff_counts_by_kind),
		cmocka_unit_test(test_rules_set_names),
		cmocka_unit_test(test_rules_set_put_back_own_rule),
		cmocka_unit_test(test_rules_set_bad_row_not_added),
		cmocka_unit_test(test_rules_set_names_in_use),
	};

	return cmocka_run_group_tests_name("rules_set", tests, NULL, NULL);
}
