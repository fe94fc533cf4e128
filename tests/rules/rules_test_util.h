/* SPDX-License-Identifier: MIT */
/*
 * rules_test_util.h - helpers shared by the rules tests: CSV text to a
 * loaded db, and a key lookup in one call. Include after <cmocka.h>.
 */
#ifndef SIPEDGE_TESTS_RULES_TEST_UTIL_H
#define SIPEDGE_TESTS_RULES_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rules.h>

#define RT_HDR "id,kind,pattern,action,targets,rank,strip,prepend,code\n"

struct rt_db {
	struct rules_db         *db;
	struct rules_scratch    *scr;
};

static inline void
rt_print_errors(const struct rules_errors *errs)
{
	uint32_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "line %u field %s: %s\n", errs->e[i].line,
			rules_field_name(errs->e[i].field), errs->e[i].msg);
}

static inline struct rules_set *
rt_set(const char *csv)
{
	struct rules_errors *errs = calloc(1, sizeof(*errs));
	struct rules_set *set = NULL;
	int rc;

	assert_non_null(errs);
	rc = rules_csv_parse(csv, strlen(csv), &set, errs);
	if (rc != 0)
		rt_print_errors(errs);
	assert_int_equal(rc, 0);
	free(errs);
	return set;
}

static inline struct rt_db
rt_db_from_set(const struct rules_set *set)
{
	struct rules_errors *errs = calloc(1, sizeof(*errs));
	struct rt_db t;
	size_t len;
	void *img;
	int rc;

	assert_non_null(errs);
	rc = rules_compile(set, &img, &len, errs);
	if (rc != 0)
		rt_print_errors(errs);
	assert_int_equal(rc, 0);
	assert_int_equal(rules_db_load(img, len, &t.db), 0);
	assert_int_equal(rules_scratch_new(t.db, &t.scr), 0);
	free(img);
	free(errs);
	return t;
}

static inline struct rt_db
rt_db(const char *csv)
{
	struct rules_set *set = rt_set(csv);
	struct rt_db t = rt_db_from_set(set);

	rules_set_free(set);
	return t;
}

static inline void
rt_free(struct rt_db *t)
{
	rules_scratch_free(t->scr);
	rules_db_free(t->db);
}

/* Id of the winning rule for (user, host), or "-" if none. */
static inline const char *
rt_route(const struct rt_db *t, const char *user, const char *host)
{
	static char id[RULES_ID_MAX + 1];
	struct rules_key key;
	struct rules_hit hit;
	uint32_t rule;
	int rc;

	assert_int_equal(rules_key_make(span_make(user, strlen(user)),
					span_make(host, strlen(host)), &key), 0);
	rc = rules_match(t->db, t->scr, &key, &rule);
	if (rc == -ENOENT)
		return "-";
	assert_int_equal(rc, 0);
	assert_int_equal(rules_hit_get(t->db, rule, &hit), 0);
	memcpy(id, hit.id.ptr, hit.id.len);
	id[hit.id.len] = '\0';
	return id;
}

#endif /* SIPEDGE_TESTS_RULES_TEST_UTIL_H */
