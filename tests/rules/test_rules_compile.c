/* SPDX-License-Identifier: MIT */
/*
 * test_rules_compile.c - the compiler: digit trie edge cases, Hyperscan
 * errors surfaced with the rule's line, target deduplication, and the
 * differential test of the trie against Hyperscan on random tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <hs/hs.h>

#include <rules.h>

#include "rules_test_util.h"

#define T "192.0.2.1:5060"

static void
test_rules_compile_trie_empty_and_single_digit(void **state)
{
	struct rules_db_sizes sz;
	struct rt_db t;

	(void)state;
	t = rt_db(RT_HDR "d,default,,forward," T ",,,,\n");
	rules_db_sizes(t.db, &sz);
	assert_int_equal(sz.trie_nodes, 1);     /* the root only */
	assert_string_equal(rt_route(&t, "5", ""), "d");
	rt_free(&t);

	t = rt_db(RT_HDR "five,prefix,5,forward," T ",,,,\n");
	rules_db_sizes(t.db, &sz);
	assert_int_equal(sz.trie_nodes, 2);
	assert_string_equal(rt_route(&t, "5", ""), "five");
	assert_string_equal(rt_route(&t, "59", ""), "five");
	assert_string_equal(rt_route(&t, "+5", ""), "five");
	assert_string_equal(rt_route(&t, "4", ""), "-");
	assert_string_equal(rt_route(&t, "", ""), "-");
	assert_string_equal(rt_route(&t, "x5", ""), "-");
	rt_free(&t);
}

static void
test_rules_compile_trie_plus_is_ignored(void **state)
{
	struct rt_db t;

	(void)state;
	t = rt_db(RT_HDR "a,prefix,+44,forward," T ",,,,\n"
		  "b,exact,+4420,forward," T ",,,,\n");
	assert_string_equal(rt_route(&t, "44", ""), "a");
	assert_string_equal(rt_route(&t, "+441", ""), "a");
	assert_string_equal(rt_route(&t, "4420", ""), "b");
	assert_string_equal(rt_route(&t, "+4420", ""), "b");
	rt_free(&t);
}

static void
test_rules_compile_trie_1_and_15_digit_keys(void **state)
{
	struct rt_db t;

	(void)state;
	t = rt_db(RT_HDR
		  "one,exact,1,forward," T ",,,,\n"
		  "full,exact,123456789012345,forward," T ",,,,\n"
		  "p14,prefix,12345678901234,forward," T ",,,,\n");
	assert_string_equal(rt_route(&t, "1", ""), "one");
	assert_string_equal(rt_route(&t, "123456789012345", ""), "full");
	assert_string_equal(rt_route(&t, "123456789012346", ""), "p14");
	assert_string_equal(rt_route(&t, "1234567890123456", ""), "p14");
	assert_string_equal(rt_route(&t, "1234567890123", ""), "-");
	assert_string_equal(rt_route(&t, "12", ""), "-");
	rt_free(&t);
}

static void
test_rules_compile_trie_overlapping_prefixes(void **state)
{
	struct rt_db t;

	(void)state;
	t = rt_db(RT_HDR
		  "p1,prefix,1,forward," T ",,,,\n"
		  "p12,prefix,12,forward," T ",,,,\n"
		  "p123,prefix,123,forward," T ",,,,\n"
		  "p1234,prefix,1234,forward," T ",300,,,\n"
		  "e12,exact,12,forward," T ",,,,\n"
		  "e1,exact,1,forward," T ",200,,,\n"
		  "p2,prefix,2,forward," T ",,,,\n");
	assert_string_equal(rt_route(&t, "1", ""), "p1");   /* e1 rank 200 */
	assert_string_equal(rt_route(&t, "12", ""), "e12");
	assert_string_equal(rt_route(&t, "120", ""), "p12");
	assert_string_equal(rt_route(&t, "123", ""), "p123");
	assert_string_equal(rt_route(&t, "1234", ""), "p123"); /* rank 300 */
	assert_string_equal(rt_route(&t, "12349999", ""), "p123");
	assert_string_equal(rt_route(&t, "13", ""), "p1");
	assert_string_equal(rt_route(&t, "2", ""), "p2");
	assert_string_equal(rt_route(&t, "3", ""), "-");
	rt_free(&t);
}

static void
test_rules_compile_trie_longest_pattern(void **state)
{
	char csv[1024], key[RULES_KEY_MAX + 1];
	struct rt_db t;

	(void)state;
	memset(key, '7', RULES_KEY_MAX);
	key[RULES_KEY_MAX] = '\0';
	snprintf(csv, sizeof(csv), RT_HDR "long,exact,%s,forward," T ",,,,\n",
		 key);
	t = rt_db(csv);
	assert_string_equal(rt_route(&t, key, ""), "long");
	key[RULES_KEY_MAX - 1] = '\0';
	assert_string_equal(rt_route(&t, key, ""), "-");
	rt_free(&t);
}

static void
test_rules_compile_hyperscan_error_has_line(void **state)
{
	struct rules_errors *errs = calloc(1, sizeof(*errs));
	struct rules_set *set;
	const char *csv = RT_HDR
		"ok,regex,1.*,forward," T ",,,,\n"
		"# comment\n"
		"bad1,regex,[0-9,forward," T ",,,,\n"
		"bad2,regex,\\Qabc,forward," T ",,,,\n"
		"bad3,regex,(a{1000}){1000},forward," T ",,,,\n";

	(void)state;
	assert_non_null(errs);
	assert_int_equal(rules_csv_parse(csv, strlen(csv), &set, errs), -EINVAL);
	assert_int_equal(errs->total, 3);
	assert_int_equal(errs->e[0].line, 4);
	assert_int_equal(errs->e[0].field, RULES_FIELD_PATTERN);
	assert_non_null(strstr(errs->e[0].msg, "Hyperscan"));
	assert_non_null(strstr(errs->e[0].msg, "Unterminated character class"));
	assert_int_equal(errs->e[1].line, 5);
	assert_non_null(strstr(errs->e[1].msg, "anchored"));
	assert_int_equal(errs->e[2].line, 6);
	assert_non_null(strstr(errs->e[2].msg, "too large"));
	free(errs);
}

static void
test_rules_compile_targets_deduplicated(void **state)
{
	struct rt_db t;

	(void)state;
	t = rt_db(RT_HDR
		  "a,prefix,1,forward,10.0.0.1:5060/1/70|10.0.0.2:5060/1/30,,,,\n"
		  "b,prefix,2,forward,10.0.0.2:5060/1/30|10.0.0.1:5060/1/70,,,,\n"
		  "c,prefix,3,forward,10.0.0.2:5060/5|[2001:db8::1]:5060,,,,\n"
		  "d,prefix,4,forward,10.0.0.1:5061,,,,\n");
	assert_int_equal(rules_db_rule_count(t.db), 4);
	assert_int_equal(rules_db_target_count(t.db), 4);
	rt_free(&t);
}

/* ------------------------------------------------------------------ */
/* Differential test: digit trie vs Hyperscan, same precedence         */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static void
rand_digits(char *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)('0' + rng(10));
}

static int
hs_min(unsigned int id, unsigned long long from, unsigned long long to,
       unsigned int flags, void *ctx)
{
	uint32_t *best = ctx;

	(void)from;
	(void)to;
	(void)flags;
	if (id < *best)
		*best = id;
	return 0;
}

static void
differential_round(uint32_t nrules, uint32_t nkeys)
{
	char (*pat)[16] = calloc(nrules, sizeof(*pat));
	const char **expr = calloc(nrules, sizeof(*expr));
	unsigned int *flags = calloc(nrules, sizeof(*flags));
	unsigned int *ids = calloc(nrules, sizeof(*ids));
	char (*exprbuf)[32] = calloc(nrules, sizeof(*exprbuf));
	hs_compile_error_t *cerr;
	hs_scratch_t *hscr = NULL;
	hs_database_t *hdb;
	struct rules_set *set;
	struct rt_db t;
	uint32_t i, mismatches = 0, *single, *burst;
	struct rules_key *keys;
	struct timespec t0, t1;

	assert_non_null(pat);
	assert_int_equal(rules_set_new(&set), 0);
	for (i = 0; i < nrules; i++) {
		static const struct rules_target tgt = {
			.af = RULES_AF_INET, .port = 5060, .priority = 1,
			.weight = 1, .addr = { 10, 0, 0, 1 },
		};
		struct rules_rule r;
		char id[16];
		uint32_t len = 1 + rng(12);

		/* Short prefixes overlap a lot; some ids tie on rank. */
		if (len > 6 && rng(3) == 0 && i > 0) {
			memcpy(pat[i], pat[rng(i)], 16);
			len = (uint32_t)strlen(pat[i]);
			if (len <= 12) {
				rand_digits(pat[i] + len, 1 + rng(3));
				len = (uint32_t)strlen(pat[i]);
			}
		} else {
			rand_digits(pat[i], len);
		}
		snprintf(id, sizeof(id), "r%u", rng(1u << 30));
		memset(&r, 0, sizeof(r));
		r.id = span_make(id, strlen(id));
		r.kind = rng(4) == 0 ? RULES_KIND_EXACT : RULES_KIND_PREFIX;
		r.pattern = span_make(pat[i], strlen(pat[i]));
		r.action = RULES_ACTION_FORWARD;
		r.targets = &tgt;
		r.ntargets = 1;
		r.rank = 100 + rng(3);
		if (rules_set_add(set, &r, NULL) == -EEXIST)
			continue;
	}
	t = rt_db_from_set(set);

	/* Hyperscan sees each literal with its rule number as id. */
	for (i = 0; i < rules_db_rule_count(t.db); i++) {
		struct rules_hit hit;
		struct rules_rule r;

		assert_int_equal(rules_hit_get(t.db, i, &hit), 0);
		assert_int_equal(rules_set_find(set, hit.id, &r), 0);
		snprintf(exprbuf[i], sizeof(exprbuf[i]), "\\A%.*s%s",
			 (int)r.pattern.len, r.pattern.ptr,
			 r.kind == RULES_KIND_EXACT ? "\\z" : "");
		expr[i] = exprbuf[i];
		flags[i] = 0;
		ids[i] = i;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(hs_compile_multi(expr, flags, ids,
					  rules_db_rule_count(t.db),
					  HS_MODE_BLOCK, NULL, &hdb, &cerr),
			 HS_SUCCESS);
	assert_int_equal(hs_alloc_scratch(hdb, &hscr), HS_SUCCESS);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%u rules: hs compile %.2fs\n", nrules, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);

	keys = malloc((size_t)nkeys * sizeof(*keys));
	single = malloc((size_t)nkeys * sizeof(*single));
	burst = malloc((size_t)nkeys * sizeof(*burst));
	assert_non_null(keys);
	assert_non_null(single);
	assert_non_null(burst);
	for (i = 0; i < nkeys; i++) {
		char k[24];
		uint32_t klen, want = RULES_NO_RULE, got = RULES_NO_RULE;
		struct rules_key key;

		if (rng(2) == 0) {
			/* around an existing pattern */
			const char *p = pat[rng(nrules)];

			klen = (uint32_t)strlen(p);
			memcpy(k, p, klen);
			if (rng(2) == 0 && klen > 1)
				klen -= 1 + rng(klen - 1);
			if (rng(2) == 0 && klen < 15) {
				uint32_t add = 1 + rng(15 - klen);

				rand_digits(k + klen, add);
				klen += add;
			}
		} else {
			klen = 1 + rng(15);
			rand_digits(k, klen);
		}
		assert_int_equal(rules_key_make(span_make(k, klen), SPAN_NULL,
						&key), 0);
		if (rules_match(t.db, t.scr, &key, &got) != 0)
			got = RULES_NO_RULE;
		assert_int_equal(hs_scan(hdb, key.num, key.num_len, 0, hscr,
					 hs_min, &want), HS_SUCCESS);
		if (got != want && mismatches++ < 5)
			fprintf(stderr, "key %.*s: trie %u hyperscan %u\n",
				(int)klen, k, got, want);
		keys[i] = key;
		single[i] = got;
	}
	assert_int_equal(mismatches, 0);

	/* The burst matcher agrees with the single-key one, in any split. */
	for (i = 0; i < nkeys; i += 100) {
		uint32_t n = nkeys - i < 100 ? nkeys - i : 100, j, found = 0;

		for (j = 0; j < n; j++)
			found += single[i + j] != RULES_NO_RULE;
		assert_int_equal(rules_match_burst(t.db, t.scr, keys + i, n,
						   burst + i), found);
	}
	assert_memory_equal(burst, single, nkeys * sizeof(*single));
	free(burst);
	free(single);
	free(keys);

	hs_free_scratch(hscr);
	hs_free_database(hdb);
	rt_free(&t);
	rules_set_free(set);
	free(exprbuf);
	free(ids);
	free(flags);
	free(expr);
	free(pat);
}

static void
test_rules_compile_trie_equals_hyperscan_random_tables(void **state)
{
	(void)state;
	differential_round(10, 2000);
	differential_round(300, 20000);
	differential_round(1000, 20000);
	differential_round(10000, 50000);
}

/* Exposed by rules_db.c for these tests. */
void rules_db_regex_split_set(struct rules_db *db, bool on);
bool rules_db_regex_split(const struct rules_db *db);
void rules_db_trie_dir_set(struct rules_db *db, bool on);
uint32_t rules_db_trie_dir_digits(const struct rules_db *db);

/*
 * Match every key four ways: single and burst, with the trie directory
 * and with the walk from the root it stands for (the path keys too short
 * for it, or with a non-digit in its span, take anyway).
 */
static void
directory_round(uint32_t nrules, uint32_t nkeys, uint32_t want_digits)
{
	struct rules_key *keys = calloc(nkeys, sizeof(*keys));
	uint32_t *res[4], i, j, n;
	struct rules_set *set;
	char (*pat)[16] = calloc(nrules, sizeof(*pat));
	struct rules_db_sizes sz;
	uint64_t p10;
	struct rt_db t;

	assert_non_null(keys);
	assert_non_null(pat);
	assert_int_equal(rules_set_new(&set), 0);
	for (i = 0; i < nrules; i++) {
		static const struct rules_target tgt = {
			.af = RULES_AF_INET, .port = 5060, .priority = 1,
			.weight = 1, .addr = { 10, 0, 0, 1 },
		};
		struct rules_rule r;
		char id[16];
		uint32_t len = 1 + rng(12);

		/* Extend an earlier pattern now and then: folded chains
		 * that cross the directory's depth, rules on the way. */
		if (i > 0 && rng(3) == 0) {
			memcpy(pat[i], pat[rng(i)], 16);
			len = (uint32_t)strlen(pat[i]);
			if (len < 13) {
				rand_digits(pat[i] + len, 1 + rng(15 - len > 3 ? 3 : 15 - len));
				len = (uint32_t)strlen(pat[i]);
			}
		} else {
			rand_digits(pat[i], len);
		}
		snprintf(id, sizeof(id), "d%u", i);
		memset(&r, 0, sizeof(r));
		r.id = span_make(id, strlen(id));
		r.kind = rng(4) == 0 ? RULES_KIND_EXACT : RULES_KIND_PREFIX;
		r.pattern = span_make(pat[i], strlen(pat[i]));
		r.action = RULES_ACTION_FORWARD;
		r.targets = &tgt;
		r.ntargets = 1;
		r.rank = 100 + rng(3);
		assert_int_equal(rules_set_add(set, &r, NULL), 0);
	}
	t = rt_db_from_set(set);
	rules_db_sizes(t.db, &sz);
	for (j = 0, p10 = 10; j < 5 && p10 <= 2 * (uint64_t)sz.trie_nodes;
	     j++, p10 *= 10)
		;
	assert_int_equal(rules_db_trie_dir_digits(t.db), j);
	if (j != want_digits)
		fprintf(stderr, "%u rules: %u nodes, %u digits\n", nrules,
			sz.trie_nodes, j);
	assert_int_equal(j, want_digits);

	for (i = 0; i < nkeys; i++) {
		struct rules_key *k = &keys[i];
		uint32_t len;

		if (rng(2) == 0) {
			const char *p = pat[rng(nrules)];

			len = (uint32_t)strlen(p);
			memcpy(k->num, p, len);
			if (rng(2) == 0 && len > 1)
				len -= 1 + rng(len - 1);
			if (rng(2) == 0) {
				n = rng(6);
				rand_digits(k->num + len, n);
				len += n;
			}
		} else {
			len = rng(17);
			rand_digits(k->num, len);
		}
		/* A non-digit somewhere, often inside the directory's span. */
		if (len != 0 && rng(4) == 0)
			k->num[rng(len < 6 ? len : 6)] = "*#a+"[rng(4)];
		k->num_len = len;
	}
	for (j = 0; j < 4; j++) {
		res[j] = calloc(nkeys, sizeof(*res[j]));
		assert_non_null(res[j]);
		rules_db_trie_dir_set(t.db, j < 2);
		for (i = 0; i < nkeys; i += n) {
			n = 1 + rng(64);
			if (n > nkeys - i)
				n = nkeys - i;
			if (j % 2 == 0) {
				uint32_t m;

				for (m = 0; m < n; m++)
					if (rules_match(t.db, t.scr, &keys[i + m],
							&res[j][i + m]) != 0)
						res[j][i + m] = RULES_NO_RULE;
			} else {
				rules_match_burst(t.db, t.scr, keys + i, n,
						  res[j] + i);
			}
		}
	}
	for (j = 1; j < 4; j++)
		assert_memory_equal(res[j], res[0], nkeys * sizeof(*res[0]));
	for (j = 0; j < 4; j++)
		free(res[j]);
	rt_free(&t);
	rules_set_free(set);
	free(pat);
	free(keys);
}

/*
 * Keys and patterns up to the 128-digit limit: folded chains that end
 * within the last 8 bytes of the key buffer are compared digit by digit,
 * the others 8 bytes at a time. Checked against Hyperscan.
 */
static void
test_rules_compile_trie_long_keys(void **state)
{
	enum { NR = 64, NK = 4000 };
	static char pat[NR][RULES_KEY_MAX + 1], exprbuf[NR][RULES_KEY_MAX + 8];
	const char *expr[NR];
	unsigned int flags[NR], ids[NR];
	hs_compile_error_t *cerr;
	hs_scratch_t *hscr = NULL;
	hs_database_t *hdb;
	struct rules_set *set;
	struct rt_db t;
	char base[RULES_KEY_MAX];
	uint32_t i, nr;

	(void)state;
	rand_digits(base, sizeof(base));
	assert_int_equal(rules_set_new(&set), 0);
	for (i = 0; i < NR; i++) {
		static const struct rules_target tgt = {
			.af = RULES_AF_INET, .port = 5060, .priority = 1,
			.weight = 1, .addr = { 10, 0, 0, 1 },
		};
		struct rules_rule r;
		uint32_t len = 100 + rng(29), at = 90 + rng(len - 90);
		char id[16];

		/* The shared base with one digit changed late: branches
		 * deep in the key, long folds on either side. */
		memcpy(pat[i], base, len);
		pat[i][at] = (char)('0' + rng(10));
		pat[i][len] = '\0';
		snprintf(id, sizeof(id), "l%u", i);
		memset(&r, 0, sizeof(r));
		r.id = span_make(id, strlen(id));
		r.kind = rng(3) == 0 ? RULES_KIND_EXACT : RULES_KIND_PREFIX;
		r.pattern = span_make(pat[i], len);
		r.action = RULES_ACTION_FORWARD;
		r.targets = &tgt;
		r.ntargets = 1;
		(void)rules_set_add(set, &r, NULL);     /* duplicates: -EEXIST */
	}
	t = rt_db_from_set(set);
	nr = rules_db_rule_count(t.db);
	for (i = 0; i < nr; i++) {
		struct rules_hit hit;
		struct rules_rule r;

		assert_int_equal(rules_hit_get(t.db, i, &hit), 0);
		assert_int_equal(rules_set_find(set, hit.id, &r), 0);
		snprintf(exprbuf[i], sizeof(exprbuf[i]), "\\A%.*s%s",
			 (int)r.pattern.len, r.pattern.ptr,
			 r.kind == RULES_KIND_EXACT ? "\\z" : "");
		expr[i] = exprbuf[i];
		flags[i] = 0;
		ids[i] = i;
	}
	assert_int_equal(hs_compile_multi(expr, flags, ids, nr, HS_MODE_BLOCK,
					  NULL, &hdb, &cerr), HS_SUCCESS);
	assert_int_equal(hs_alloc_scratch(hdb, &hscr), HS_SUCCESS);
	for (i = 0; i < NK; i++) {
		struct rules_key key;
		const char *p = pat[rng(NR)];
		uint32_t len = 80 + rng(RULES_KEY_MAX - 80 + 1), plen;
		uint32_t want = RULES_NO_RULE, got = RULES_NO_RULE, burst;

		memset(&key, 0, sizeof(key));
		plen = (uint32_t)strlen(p);
		memcpy(key.num, p, plen < len ? plen : len);
		if (len > plen)
			rand_digits(key.num + plen, len - plen);
		if (len > 80 && rng(3) == 0)
			key.num[80 + rng(len - 80)] = (char)('0' + rng(10));
		key.num_len = len;
		if (rules_match(t.db, t.scr, &key, &got) != 0)
			got = RULES_NO_RULE;
		assert_int_equal(hs_scan(hdb, key.num, len, 0, hscr, hs_min,
					 &want), HS_SUCCESS);
		assert_int_equal(got, want);
		rules_match_burst(t.db, t.scr, &key, 1, &burst);
		assert_int_equal(burst, got);
	}
	hs_free_scratch(hscr);
	hs_free_database(hdb);
	rt_free(&t);
	rules_set_free(set);
}

/* The directory's size follows the trie: none for tiny tables, 10^5
 * entries at most; every way of matching gives the same winners. */
static void
test_rules_compile_trie_directory_equals_plain_walk(void **state)
{
	(void)state;
	directory_round(1, 100, 0);
	directory_round(8, 1000, 1);
	directory_round(200, 20000, 2);
	directory_round(2000, 20000, 3);
	directory_round(8000, 50000, 4);
	directory_round(60000, 100000, 5);
}

/*
 * Regex shapes for the split test: country-code led, led by a class,
 * and ones whose leading digits are not all a literal lead (a quantified
 * digit, a top-level or grouped alternative, an escape, a class holding
 * ']', options), so that every branch of the lead analysis is taken.
 */
static int
gen_regex(char *p, size_t cap)
{
	static const char *const lead[] = { "1", "7", "44", "49", "353", "972" };
	const char *c = lead[rng(6)];

	switch (rng(13)) {
	case 0:
		return snprintf(p, cap, "^%s%u[0-9]{%u}$", c, rng(1000),
				1 + rng(4));
	case 1:
		return snprintf(p, cap, "%s(%u|%u)[0-9]{%u,%u}", c, rng(100),
				rng(1000), rng(3), 3 + rng(3));
	case 2:
		return snprintf(p, cap, "[2-9][0-9]{2}%u[0-9]*", rng(100));
	case 3:
		return snprintf(p, cap, "%s[1-9][0-9]?%u[0-9]*%u", c, rng(100),
				rng(10));
	case 4:
		return snprintf(p, cap, "%u?%s[0-9]*", rng(10), c);
	case 5:
		return snprintf(p, cap, "%s%u|%u[0-9]*", c, rng(10), rng(100));
	case 6:
		return snprintf(p, cap, "(%s|%u)[0-9]*", c, rng(100));
	case 7:
		return snprintf(p, cap, "\\d%u[0-9]*", rng(100));
	case 8:
		return snprintf(p, cap, "%u{2}[0-9]*", rng(10));
	case 9:
		return snprintf(p, cap, "%s[]0-9]*", c);
	case 10:
		return snprintf(p, cap, "(?i)%s[0-9a]*", c);
	case 11:
		/* a lone \E is nothing: the '?' makes the digit optional */
		return snprintf(p, cap, "%s%u\\E?%u[0-9]*", c, rng(10),
				rng(10));
	default:
		return snprintf(p, cap, "%u+[0-9]*", rng(10));
	}
}

static void
regex_split_round(uint32_t nrules, uint32_t nkeys)
{
	char (*pat)[64] = calloc(nrules, sizeof(*pat));
	char (*exprbuf)[80] = calloc(nrules, sizeof(*exprbuf));
	const char **expr = calloc(nrules, sizeof(*expr));
	unsigned int *flags = calloc(nrules, sizeof(*flags));
	unsigned int *ids = calloc(nrules, sizeof(*ids));
	struct rules_key *keys = calloc(nkeys, sizeof(*keys));
	uint32_t *split = calloc(nkeys, sizeof(*split));
	uint32_t *full = calloc(nkeys, sizeof(*full));
	uint32_t *burst = calloc(nkeys, sizeof(*burst));
	hs_compile_error_t *cerr;
	hs_scratch_t *hscr = NULL;
	hs_database_t *hdb;
	struct rules_set *set;
	struct rt_db t;
	uint32_t i, n, mismatches = 0;
	int rc;

	assert_non_null(pat);
	assert_non_null(burst);
	assert_int_equal(rules_set_new(&set), 0);
	for (i = 0; i < nrules; i++) {
		static const struct rules_target tgt = {
			.af = RULES_AF_INET, .port = 5060, .priority = 1,
			.weight = 1, .addr = { 10, 0, 0, 1 },
		};
		struct rules_rule r;
		char id[16];

		gen_regex(pat[i], sizeof(pat[i]));
		snprintf(id, sizeof(id), "x%u", i);
		memset(&r, 0, sizeof(r));
		r.id = span_make(id, strlen(id));
		r.kind = RULES_KIND_REGEX;
		r.pattern = span_make(pat[i], strlen(pat[i]));
		r.action = RULES_ACTION_FORWARD;
		r.targets = &tgt;
		r.ntargets = 1;
		r.rank = 100 + rng(3);
		rc = rules_set_add(set, &r, NULL);
		if (rc != 0)
			fprintf(stderr, "refused: %s\n", pat[i]);
		assert_int_equal(rc, 0);
	}
	t = rt_db_from_set(set);
	assert_int_equal(rules_db_regex_split(t.db),
			 nrules >= 256);  /* RULES_RE_SPLIT_MIN */

	/* Reference: every pattern in one database, ids = rule numbers. */
	for (i = 0; i < nrules; i++) {
		struct rules_hit hit;
		struct rules_rule r;

		assert_int_equal(rules_hit_get(t.db, i, &hit), 0);
		assert_int_equal(rules_set_find(set, hit.id, &r), 0);
		snprintf(exprbuf[i], sizeof(exprbuf[i]), "\\A(?:%.*s)\\z",
			 (int)r.pattern.len, r.pattern.ptr);
		expr[i] = exprbuf[i];
		flags[i] = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
		ids[i] = i;
	}
	assert_int_equal(hs_compile_multi(expr, flags, ids, nrules,
					  HS_MODE_BLOCK, NULL, &hdb, &cerr),
			 HS_SUCCESS);
	assert_int_equal(hs_alloc_scratch(hdb, &hscr), HS_SUCCESS);

	for (i = 0; i < nkeys; i++) {
		char k[24];
		uint32_t klen = 0, want = RULES_NO_RULE;

		/* Mostly digits (the split path), some short or led by a
		 * letter, a '*' or a '#' (the one-database path). */
		switch (rng(8)) {
		case 0:
			klen = rng(3);
			rand_digits(k, klen);
			break;
		case 1:
			k[0] = "a*#"[rng(3)];
			klen = 1 + rng(12);
			rand_digits(k + 1, klen - 1);
			break;
		default: {
			static const char *const cc[] = { "1", "7", "44", "49",
							  "353", "972", "" };
			const char *c = cc[rng(7)];

			klen = (uint32_t)strlen(c);
			memcpy(k, c, klen);
			n = 2 + rng(12);
			rand_digits(k + klen, n);
			klen += n;
			break;
		}
		}
		memcpy(keys[i].num, k, klen);
		keys[i].num_len = klen;
		if (rules_match(t.db, t.scr, &keys[i], &split[i]) != 0)
			split[i] = RULES_NO_RULE;
		assert_int_equal(hs_scan(hdb, keys[i].num, klen, 0, hscr,
					 hs_min, &want), HS_SUCCESS);
		if (split[i] != want && mismatches++ < 5)
			fprintf(stderr, "key %.*s: split %u hyperscan %u\n",
				(int)klen, k, split[i], want);
	}
	assert_int_equal(mismatches, 0);

	/* Bursts agree with single keys; so does the one-database path. */
	for (i = 0; i < nkeys; i += 50) {
		n = nkeys - i < 50 ? nkeys - i : 50;
		rules_match_burst(t.db, t.scr, keys + i, n, burst + i);
	}
	assert_memory_equal(burst, split, nkeys * sizeof(*split));
	rules_db_regex_split_set(t.db, false);
	for (i = 0; i < nkeys; i++)
		if (rules_match(t.db, t.scr, &keys[i], &full[i]) != 0)
			full[i] = RULES_NO_RULE;
	assert_memory_equal(full, split, nkeys * sizeof(*split));
	for (i = 0; i < nkeys; i += 50) {
		n = nkeys - i < 50 ? nkeys - i : 50;
		rules_match_burst(t.db, t.scr, keys + i, n, burst + i);
	}
	assert_memory_equal(burst, split, nkeys * sizeof(*split));

	hs_free_scratch(hscr);
	hs_free_database(hdb);
	rt_free(&t);
	rules_set_free(set);
	free(burst);
	free(full);
	free(split);
	free(keys);
	free(ids);
	free(flags);
	free(expr);
	free(exprbuf);
	free(pat);
}

/* Large regex sets are split by leading digits: same winners. */
static void
test_rules_compile_regex_split_equals_one_database(void **state)
{
	(void)state;
	regex_split_round(100, 5000);
	regex_split_round(300, 20000);
	regex_split_round(1000, 20000);
}

/*
 * A lone \E is no atom: in "12\E?3" the '?' makes the 2 optional, so the
 * pattern has no lead "12", and a split table (256 regex rules and more)
 * routes 13 by it as one database does.
 */
static void
test_rules_compile_regex_lone_e_has_no_lead(void **state)
{
	size_t cap = 64 + 256 * 64, len;
	char *csv = malloc(cap);
	struct rt_db t;
	uint32_t i;

	(void)state;
	assert_non_null(csv);
	len = (size_t)snprintf(csv, cap, RT_HDR
			       "lead,regex,12\\E?3,forward,198.19.0.1:5060,,,,\n");
	for (i = 0; i < 256; i++)
		len += (size_t)snprintf(csv + len, cap - len,
					"r%u,regex,9%02u[0-9]*,forward,"
					"198.19.0.2:5060,,,,\n", i, i % 100);
	t = rt_db(csv);
	assert_true(rules_db_regex_split(t.db));
	assert_string_equal(rt_route(&t, "13", "example.com"), "lead");
	assert_string_equal(rt_route(&t, "123", "example.com"), "lead");
	assert_string_equal(rt_route(&t, "12", "example.com"), "-");
	rt_free(&t);
	free(csv);
}

/* A resolver with fixed answers: gw.example.net has two IPv4 addresses
 * and one IPv6, dup.example.net is 192.0.2.1, the rest fail. */
static int
table_resolve(void *arg, struct span name, struct rules_addr *out,
	      uint32_t max, char *why, size_t why_len)
{
	uint32_t *calls = arg;

	(*calls)++;
	assert_true(max >= 3);
	memset(out, 0, 3 * sizeof(*out));
	if (span_eq_nocase2(name, SPAN_LIT("gw.example.net"))) {
		out[0].af = RULES_AF_INET;
		memcpy(out[0].addr, ((const uint8_t[]){ 198, 51, 100, 1 }), 4);
		out[1].af = RULES_AF_INET;
		memcpy(out[1].addr, ((const uint8_t[]){ 198, 51, 100, 2 }), 4);
		out[2].af = RULES_AF_INET6;
		out[2].addr[0] = 0x20;
		out[2].addr[1] = 0x01;
		out[2].addr[15] = 1;
		return 3;
	}
	if (span_eq(name, SPAN_LIT("dup.example.net"))) {
		out[0].af = RULES_AF_INET;
		memcpy(out[0].addr, ((const uint8_t[]){ 192, 0, 2, 1 }), 4);
		return 1;
	}
	snprintf(why, why_len, "no such host");
	return -ENOENT;
}

/*
 * Name targets: refused by rules_compile() (the control process resolves
 * them); rules_compile_resolved() puts each name's addresses in its place
 * with its port, priority and weight, asks once for rules in a row naming
 * the same host, keeps an address once per list, and reports every name
 * that fails with its rule's line.
 */
static void
test_rules_compile_names_resolved(void **state)
{
	static const char csv[] = RT_HDR
		"a,prefix,1,forward,gw.example.net:5070/2/7|" T "/1,,,,\n"
		"b,prefix,2,forward,GW.example.net:5070/2/7,,,,\n"
		"c,prefix,3,forward,dup.example.net:5060/3|" T ",,,,\n";
	struct rules_errors *errs = calloc(1, sizeof(*errs));
	struct rules_set *set = NULL;
	struct rules_db *db = NULL;
	struct rules_dest d;
	struct rules_rule r;
	uint32_t calls = 0, i, v4 = 0, v6 = 0;
	size_t len;
	void *img;
	char *out;

	(void)state;
	if (errs == NULL)
		fail_msg("out of memory");
	assert_int_equal(rules_csv_parse(csv, sizeof(csv) - 1, &set, errs), 0);
	assert_int_equal(rules_set_find(set, SPAN_LIT("a"), &r), 0);
	assert_int_equal(r.targets[0].af, RULES_AF_NAME);
	assert_int_equal(r.targets[0].name_len, 14);
	assert_memory_equal(r.targets[0].name, "gw.example.net", 14);
	assert_int_equal(r.targets[0].port, 5070);
	assert_int_equal(r.targets[0].priority, 2);
	assert_int_equal(r.targets[0].weight, 7);
	out = calloc(1, 4096);
	if (out == NULL)
		fail_msg("out of memory");
	assert_int_equal(rules_rule_to_csv(&r, out, 4096, &len), 0);
	out[len] = '\0';
	assert_non_null(strstr(out, "gw.example.net:5070/2/7|192.0.2.1:5060/1/1"));
	free(out);

	assert_int_equal(rules_compile(set, &img, &len, errs), -EINVAL);
	assert_int_equal(errs->n, 3);
	assert_int_equal(errs->e[0].field, RULES_FIELD_TARGETS);
	assert_non_null(strstr(errs->e[0].msg, "resolved by the control process"));
	rules_errors_reset(errs);

	assert_int_equal(rules_compile_resolved(set, table_resolve, &calls,
						&img, &len, errs), 0);
	/* a and b name one host (any case), but are two names to ask. */
	assert_true(calls >= 2 && calls <= 3);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	free(img);
	/* 192.0.2.1, 198.51.100.1, .2 and 2001::1: once each. */
	assert_int_equal(rules_db_target_count(db), 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(rules_db_target(db, i, &d), 0);
		if (d.af == RULES_AF_INET6) {
			v6++;
			assert_int_equal(d.port, 5070);
		} else {
			v4++;
		}
	}
	assert_int_equal(v4, 3);
	assert_int_equal(v6, 1);
	rules_db_free(db);
	rules_set_free(set);

	/* Names that fail: each rule reported with its line. */
	{
		static const char bad[] = RT_HDR
			"a,prefix,1,forward,no.example.net:5060,,,,\n"
			"b,prefix,2,forward," T ",,,,\n"
			"c,prefix,3,forward," T "|other.example.net:5060,,,,\n";

		assert_int_equal(rules_csv_parse(bad, sizeof(bad) - 1, &set,
						 errs), 0);
		rules_errors_reset(errs);
		assert_int_equal(rules_compile_resolved(set, table_resolve,
							&calls, &img, &len,
							errs), -EINVAL);
		assert_null(img);
		assert_int_equal(errs->n, 2);
		assert_int_equal(errs->e[0].line, 2);
		assert_int_equal(errs->e[1].line, 4);
		assert_non_null(strstr(errs->e[1].msg,
				       "rule 'c': target 2 'other.example.net:5060': host name does not resolve: no such host"));
		rules_set_free(set);
	}
	free(errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_compile_names_resolved),
		cmocka_unit_test(test_rules_compile_trie_empty_and_single_digit),
		cmocka_unit_test(test_rules_compile_trie_plus_is_ignored),
		cmocka_unit_test(test_rules_compile_trie_1_and_15_digit_keys),
		cmocka_unit_test(test_rules_compile_trie_overlapping_prefixes),
		cmocka_unit_test(test_rules_compile_trie_longest_pattern),
		cmocka_unit_test(test_rules_compile_hyperscan_error_has_line),
		cmocka_unit_test(test_rules_compile_targets_deduplicated),
		cmocka_unit_test(test_rules_compile_trie_equals_hyperscan_random_tables),
		cmocka_unit_test(test_rules_compile_regex_split_equals_one_database),
		cmocka_unit_test(test_rules_compile_regex_lone_e_has_no_lead),
		cmocka_unit_test(test_rules_compile_trie_directory_equals_plain_walk),
		cmocka_unit_test(test_rules_compile_trie_long_keys),
	};

	return cmocka_run_group_tests_name("rules_compile", tests, NULL, NULL);
}
