/* SPDX-License-Identifier: MIT */
/*
 * test_rules_explain.c - "routes explain": matches, tie-break, target,
 * Contact list, and the text and JSON renderings.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rules.h>

#include "rules_test_util.h"

static const char table[] = RT_HDR
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|198.19.0.6:5060/2,,0,,\n"
	"us,prefix,1,redirect,198.19.0.4:5060|[2001:db8::4]:5062/2,,1,+1,\n"
	"premium,regex,^1900[0-9]{7}$,reject,,10,,,403\n"
	"any,regex,.*,forward,198.19.0.8:5060,,,,\n"
	"corp,domain,*.example.com,forward,198.19.0.7:5060,,,,\n"
	"fallback,default,,forward,198.19.0.9:5060,,,,\n";

static void
explain(const struct rt_db *t, const char *user, const char *host,
	struct rules_explain *ex)
{
	struct rules_key key;

	assert_int_equal(rules_key_make(span_make(user, strlen(user)),
					span_make(host, strlen(host)), &key), 0);
	assert_int_equal(rules_explain(t->db, t->scr, &key, 0x1234, NULL, ex),
			 0);
	assert_true(ex->fast_agrees);
}

static void
test_rules_explain_lists_all_matches_best_first(void **state)
{
	struct rules_explain *ex = malloc(sizeof(*ex));
	struct rt_db t = rt_db(table);

	(void)state;
	assert_non_null(ex);
	explain(&t, "+1(212)555-0100", "sip.example.com", ex);
	assert_int_equal(ex->nmatch, 5);
	assert_int_equal(ex->nkept, 5);
	assert_true(span_eq(ex->match[0].id, SPAN_LIT("nyc")));
	assert_true(span_eq(ex->match[1].id, SPAN_LIT("us")));
	assert_true(span_eq(ex->match[2].id, SPAN_LIT("any")));
	assert_true(span_eq(ex->match[3].id, SPAN_LIT("corp")));
	assert_true(span_eq(ex->match[4].id, SPAN_LIT("fallback")));
	assert_int_equal(ex->why, RULES_WHY_PREFIX_LEN);
	assert_int_equal(ex->target_rc, 0);
	assert_int_equal(ex->target.priority, 1);
	assert_int_equal(ex->ncontacts, 3);
	assert_int_equal(ex->contacts[0].target, ex->target.target);
	assert_int_equal(ex->contacts[2].addr[3], 6);
	assert_int_equal(ex->user_out_len, 11);
	assert_memory_equal(ex->user_out, "12125550100", 11);

	explain(&t, "19005550100", "", ex);
	assert_true(span_eq(ex->match[0].id, SPAN_LIT("premium")));
	assert_int_equal(ex->match[0].code, 403);
	assert_int_equal(ex->why, RULES_WHY_RANK);
	assert_int_equal(ex->ncontacts, 0);

	explain(&t, "15551234", "", ex);
	assert_true(span_eq(ex->match[0].id, SPAN_LIT("us")));
	assert_int_equal(ex->ncontacts, 2);
	assert_int_equal(ex->contacts[1].af, RULES_AF_INET6);
	assert_int_equal(ex->user_out_len, 9);
	assert_memory_equal(ex->user_out, "+15551234", 9);
	rt_free(&t);
	free(ex);
}

static void
test_rules_explain_renders_text_and_json(void **state)
{
	struct rules_explain *ex = malloc(sizeof(*ex));
	struct rt_db t = rt_db(table);
	char buf[4096];
	size_t len;

	(void)state;
	assert_non_null(ex);
	explain(&t, "12125550100", "", ex);
	assert_int_equal(rules_explain_text(ex, buf, sizeof(buf), &len), 0);
	assert_int_equal(strlen(buf), len);
	assert_non_null(strstr(buf, "winner: nyc (longer prefix)"));
	assert_non_null(strstr(buf, "matching rules: 4"));
	assert_non_null(strstr(buf, "fast path: agrees"));
	assert_non_null(strstr(buf, "target: 198.19.0."));
	assert_non_null(strstr(buf, "user: 12125550100"));

	assert_int_equal(rules_explain_json(ex, buf, sizeof(buf), &len), 0);
	assert_int_equal(strlen(buf), len);
	assert_true(buf[0] == '{' && buf[len - 1] == '}');
	assert_non_null(strstr(buf, "\"winner\":\"nyc\""));
	assert_non_null(strstr(buf, "\"why\":\"longer prefix\""));
	assert_non_null(strstr(buf, "\"matches\":4"));
	assert_non_null(strstr(buf, "\"fast_path_agrees\":true"));
	assert_non_null(strstr(buf, "\"contacts\":[{\"address\":\"198.19.0."));

	assert_int_equal(rules_explain_json(ex, buf, 20, &len), -ENOSPC);
	assert_int_equal(rules_explain_text(ex, buf, 20, &len), -ENOSPC);

	/* JSON escapes what a key may carry. */
	explain(&t, "a%22b%5C%01", "", ex);
	assert_int_equal(rules_explain_json(ex, buf, sizeof(buf), &len), 0);
	assert_non_null(strstr(buf, "\"number\":\"a\\\"b\\\\\\u0001\""));
	/* ... and stays UTF-8: a lone %FF is U+FFFD, é (%C3%A9) itself. */
	explain(&t, "%FFa%C3%A9", "", ex);
	assert_int_equal(rules_explain_json(ex, buf, sizeof(buf), &len), 0);
	assert_non_null(strstr(buf, "\"number\":\"\\ufffda\xc3\xa9\""));
	rt_free(&t);
	free(ex);
}

static void
test_rules_explain_no_match_and_keep_limit(void **state)
{
	struct rules_explain *ex = malloc(sizeof(*ex));
	char csv[16384], buf[16384];
	size_t len, n;
	struct rt_db t;
	int i;

	(void)state;
	assert_non_null(ex);
	t = rt_db(RT_HDR "p,prefix,1,forward,192.0.2.1:5060,,,,\n");
	explain(&t, "2", "", ex);
	assert_int_equal(ex->nmatch, 0);
	assert_int_equal(ex->winner, RULES_NO_RULE);
	assert_int_equal(ex->why, RULES_WHY_NO_MATCH);
	assert_int_equal(rules_explain_json(ex, buf, sizeof(buf), &len), 0);
	assert_non_null(strstr(buf, "\"winner\":null"));
	assert_int_equal(rules_explain_text(ex, buf, sizeof(buf), &len), 0);
	assert_non_null(strstr(buf, "winner: none"));
	rt_free(&t);

	n = (size_t)snprintf(csv, sizeof(csv), RT_HDR);
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(csv + n, sizeof(csv) - n,
				      "d%03d,default,,forward,192.0.2.1:5060,%d,,,\n",
				      i, 1000 - i);
	t = rt_db(csv);
	explain(&t, "1", "", ex);
	assert_int_equal(ex->nmatch, 100);
	assert_int_equal(ex->nkept, RULES_EXPLAIN_KEEP);
	assert_true(span_eq(ex->match[0].id, SPAN_LIT("d099")));
	assert_int_equal(ex->why, RULES_WHY_RANK);
	assert_int_equal(rules_explain_text(ex, buf, sizeof(buf), &len), 0);
	assert_non_null(strstr(buf, "matching rules: 100 (first 64 shown)"));
	rt_free(&t);
	free(ex);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_explain_lists_all_matches_best_first),
		cmocka_unit_test(test_rules_explain_renders_text_and_json),
		cmocka_unit_test(test_rules_explain_no_match_and_keep_limit),
	};

	return cmocka_run_group_tests_name("rules_explain", tests, NULL, NULL);
}
