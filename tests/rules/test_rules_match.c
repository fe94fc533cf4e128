/* SPDX-License-Identifier: MIT */
/*
 * test_rules_match.c - the hot matcher: key normalisation, the precedence
 * order with every tie-break, target choice and number manipulation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <compiler.h>
#include <hash.h>
#include <rules.h>

#include "rules_test_util.h"

#define T "192.0.2.1:5060"

static void
key_is(const char *user, const char *host, const char *num,
       const char *lhost)
{
	struct rules_key k;

	assert_int_equal(rules_key_make(span_make(user, strlen(user)),
					span_make(host, strlen(host)), &k), 0);
	if (k.num_len != strlen(num) || memcmp(k.num, num, k.num_len) != 0)
		fprintf(stderr, "user '%s': got '%.*s', want '%s'\n", user,
			(int)k.num_len, k.num, num);
	assert_int_equal(k.num_len, strlen(num));
	assert_memory_equal(k.num, num, k.num_len);
	assert_int_equal(k.host_len, strlen(lhost));
	assert_memory_equal(k.host, lhost, k.host_len);
}

static void
test_rules_match_key_normalised(void **state)
{
	(void)state;
	key_is("+1-212-555-0100", "Edge.Example.NET", "12125550100",
	       "edge.example.net");
	key_is("+44(20)7946.0000;npdi;rn=+4420", "", "442079460000", "");
	key_is("%2B1%2d212%2E5550100", "h", "12125550100", "h");
	key_is("12125550100", "", "12125550100", "");
	key_is("*67#123", "", "*67#123", "");
	key_is("alice", "example.com", "alice", "example.com");
	key_is("al%69ce", "", "alice", "");
	key_is("+alice", "", "+alice", "");
	key_is("+", "", "+", "");
	key_is("1+2", "", "1+2", "");
	key_is("", "", "", "");
	/* A fully qualified host's trailing dot is not part of the key. */
	key_is("1", "Sip.Example.COM.", "1", "sip.example.com");
	key_is("1", ".", "1", ".");
}

/*
 * The 128-byte limit is on the number as normalised: a "+", separators
 * and params around 128 digits still make a key, escaped or not; 129
 * digits do not, nor a 129-byte user that is no number.
 */
static void
test_rules_match_key_limit_on_number(void **state)
{
	char d[RULES_KEY_MAX + 1], u[1024], want[RULES_KEY_MAX + 1];
	struct rules_key k;
	size_t n, i;

	(void)state;
	memset(d, '7', RULES_KEY_MAX);
	d[RULES_KEY_MAX] = '\0';
	memcpy(want, d, sizeof(want));
	snprintf(u, sizeof(u), "+%s", d);
	key_is(u, "h", want, "h");
	snprintf(u, sizeof(u), "%%2B%s", d);
	key_is(u, "h", want, "h");
	snprintf(u, sizeof(u), "%s;npdi;rn=+1212555;phone-context=%0300d", d,
		 0);
	key_is(u, "h", want, "h");
	snprintf(u, sizeof(u), "%%2B%s;npdi;x=%%41%0400d", d, 0);
	key_is(u, "h", want, "h");
	for (i = 0, n = 0; i < RULES_KEY_MAX; i++) {
		u[n++] = '-';
		u[n++] = '7';
	}
	u[n] = '\0';
	key_is(u, "", want, "");
	snprintf(u, sizeof(u), "+%s7", d);
	assert_int_equal(rules_key_make(span_make(u, strlen(u)), SPAN_NULL,
					&k), -ENAMETOOLONG);
	snprintf(u, sizeof(u), "%%2B%s7;npdi", d);
	assert_int_equal(rules_key_make(span_make(u, strlen(u)), SPAN_NULL,
					&k), -ENAMETOOLONG);
	memset(u, 'a', RULES_KEY_MAX + 1);
	assert_int_equal(rules_key_make(span_make(u, RULES_KEY_MAX + 1),
					SPAN_NULL, &k), -ENAMETOOLONG);
	/* escaped, exactly the unescape room (2 * RULES_KEY_MAX + 2) before
	 * its ';': the longest number with a separator before each digit */
	n = (size_t)snprintf(u, sizeof(u), "%%2B");
	for (i = 0; i < RULES_KEY_MAX; i++) {
		u[n++] = '-';
		u[n++] = '7';
	}
	u[n++] = '-';
	n += (size_t)snprintf(u + n, sizeof(u) - n, ";x");
	key_is(u, "h", want, "h");
	/* escaped, longer than the unescape room, no ';': not a key */
	for (i = 0, n = 0; i < 300; i++)
		n += (size_t)snprintf(u + n, sizeof(u) - n, "%%41");
	assert_int_equal(rules_key_make(span_make(u, n), SPAN_NULL, &k),
			 -ENAMETOOLONG);
}

static void
test_rules_match_key_bad_input_rejected(void **state)
{
	char big[RULES_HOST_MAX + 2];
	struct rules_key k;

	(void)state;
	assert_int_equal(rules_key_make(SPAN_LIT("12%4"), SPAN_NULL, &k),
			 -EINVAL);
	assert_int_equal(rules_key_make(SPAN_LIT("12%zz"), SPAN_NULL, &k),
			 -EINVAL);
	memset(big, '1', sizeof(big));
	assert_int_equal(rules_key_make(span_make(big, RULES_KEY_MAX + 1),
					SPAN_NULL, &k), -ENAMETOOLONG);
	assert_int_equal(rules_key_make(span_make(big, RULES_KEY_MAX),
					SPAN_NULL, &k), 0);
	assert_int_equal(rules_key_make(SPAN_LIT("1"),
					span_make(big, RULES_HOST_MAX + 1), &k),
			 -ENAMETOOLONG);
}

/* One row of the precedence table. */
struct prec_case {
	const char      *rows;          /* CSV rows after the header */
	const char      *user;
	const char      *host;
	const char      *want;          /* winning id, "-" for none */
	uint8_t          why;           /* tie-break explain must report */
};

static const struct prec_case prec_cases[] = {
	/* rank first, even against a more specific kind */
	{ "e,exact,1212," "forward," T ",100,,,\n"
	  "p,prefix,1,forward," T ",50,,,\n",
	  "1212", "", "p", RULES_WHY_RANK },
	{ "p,prefix,1212,forward," T ",100,,,\n"
	  "q,prefix,1,forward," T ",99,,,\n",
	  "12125", "", "q", RULES_WHY_RANK },
	{ "r,regex,.*,forward," T ",100,,,\n"
	  "d,default,,forward," T ",1,,,\n",
	  "1", "", "d", RULES_WHY_RANK },
	/* then kind: exact > prefix > regex > domain > default */
	{ "p,prefix,1212,forward," T ",,,,\n"
	  "e,exact,1212,forward," T ",,,,\n",
	  "1212", "", "e", RULES_WHY_KIND },
	{ "r,regex,1.*,forward," T ",,,,\n"
	  "p,prefix,1,forward," T ",,,,\n",
	  "1212", "", "p", RULES_WHY_KIND },
	{ "d,domain,example.com,forward," T ",,,,\n"
	  "r,regex,.*,forward," T ",,,,\n",
	  "alice", "example.com", "r", RULES_WHY_KIND },
	{ "f,default,,forward," T ",,,,\n"
	  "d,domain,*.example.com,forward," T ",,,,\n",
	  "alice", "sip.example.com", "d", RULES_WHY_KIND },
	/* then the longest prefix */
	{ "a,prefix,12,forward," T ",,,,\n"
	  "b,prefix,1212,forward," T ",,,,\n"
	  "c,prefix,121,forward," T ",,,,\n",
	  "121255", "", "b", RULES_WHY_PREFIX_LEN },
	/* then the lower id, in byte order */
	{ "b,prefix,12,forward," T ",,,,\n"
	  "a,prefix,+12,forward," T ",,,,\n",
	  "129", "", "a", RULES_WHY_ID },
	{ "a,prefix,12,forward," T ",,,,\n"
	  "B,prefix,12,forward," T ",,,,\n",
	  "129", "", "B", RULES_WHY_ID },
	{ "longid_00000002,exact,5,forward," T ",,,,\n"
	  "longid_00000001,exact,5,forward," T ",,,,\n"
	  "longid_000000010,exact,5,forward," T ",,,,\n",
	  "5", "", "longid_00000001", RULES_WHY_ID },
	{ "z,regex,[0-9]+,forward," T ",,,,\n"
	  "m,regex,1.*,forward," T ",,,,\n",
	  "1234", "", "m", RULES_WHY_ID },
	{ "w2,domain,*.example.com,forward," T ",,,,\n"
	  "w1,domain,sip.example.com,forward," T ",,,,\n",
	  "x", "sip.example.com", "w1", RULES_WHY_ID },
	{ "x,default,,forward," T ",,,,\n"
	  "y,default,,forward," T ",,,,\n",
	  "", "", "x", RULES_WHY_ID },
	/* what does not match */
	{ "e,exact,1212,forward," T ",,,,\n"
	  "p,prefix,12,forward," T ",,,,\n",
	  "12121", "", "p", RULES_WHY_ONLY },
	{ "e,exact,12,forward," T ",,,,\n"
	  "p,prefix,12,forward," T ",,,,\n",
	  "12ab", "", "p", RULES_WHY_ONLY },
	{ "r,regex,12,forward," T ",,,,\n",
	  "123", "", "-", RULES_WHY_NO_MATCH },
	{ "r,regex,^1900[0-9]{7}$,reject,,10,,,403\n",
	  "+1-900-555-0100", "", "r", RULES_WHY_ONLY },
	{ "r,regex,ali.*,forward," T ",,,,\n",
	  "alice", "", "r", RULES_WHY_ONLY },
	/* '.' is any byte: a line break an unescaped %0A put in the key
	 * too, so ".*" is a catch-all */
	{ "r,regex,.*,forward," T ",,,,\n",
	  "a\nb", "", "r", RULES_WHY_ONLY },
	{ "r,regex,a.b,forward," T ",,,,\n",
	  "a\rb", "", "r", RULES_WHY_ONLY },
	{ "d,domain,*.example.com,forward," T ",,,,\n",
	  "1", "example.com", "-", RULES_WHY_NO_MATCH },
	{ "d,domain,*.example.com,forward," T ",,,,\n",
	  "1", "a.b.Example.COM", "d", RULES_WHY_ONLY },
	/* a leading dot is an empty label, no name below the suffix */
	{ "d,domain,*.example.com,forward," T ",,,,\n",
	  "1", ".example.com", "-", RULES_WHY_NO_MATCH },
	{ "d,domain,Example.com,forward," T ",,,,\n",
	  "1", "EXAMPLE.com", "d", RULES_WHY_ONLY },
	{ "d,domain,example.com,forward," T ",,,,\n",
	  "1", "xexample.com", "-", RULES_WHY_NO_MATCH },
	{ "p,prefix,44,forward," T ",,,,\n",
	  "+44 20", "", "-", RULES_WHY_NO_MATCH },
};

static void
test_rules_match_precedence_table(void **state)
{
	struct rules_explain *ex = malloc(sizeof(*ex));
	size_t i;

	(void)state;
	assert_non_null(ex);
	for (i = 0; i < SIPEDGE_ARRAY_SIZE(prec_cases); i++) {
		const struct prec_case *c = &prec_cases[i];
		char csv[1024];
		struct rules_key key;
		struct rt_db t;
		const char *got;

		snprintf(csv, sizeof(csv), RT_HDR "%s", c->rows);
		t = rt_db(csv);
		got = rt_route(&t, c->user, c->host);
		if (strcmp(got, c->want) != 0)
			fprintf(stderr, "case %zu: got %s want %s\n", i, got,
				c->want);
		assert_string_equal(got, c->want);

		assert_int_equal(rules_key_make(span_make(c->user,
							  strlen(c->user)),
						span_make(c->host,
							  strlen(c->host)),
						&key), 0);
		assert_int_equal(rules_explain(t.db, t.scr, &key, 1, NULL, ex),
				 0);
		assert_true(ex->fast_agrees);
		if (ex->why != c->why)
			fprintf(stderr, "case %zu: why %s\n", i,
				rules_why_desc(ex->why));
		assert_int_equal(ex->why, c->why);
		rt_free(&t);
	}
	free(ex);
}

static void
test_rules_match_empty_table_matches_nothing(void **state)
{
	struct rt_db t;

	(void)state;
	t = rt_db(RT_HDR);
	assert_string_equal(rt_route(&t, "1212", "example.com"), "-");
	assert_string_equal(rt_route(&t, "", ""), "-");
	assert_false(rules_db_has_regex(t.db));
	rt_free(&t);
}

/* ------------------------------------------------------------------ */
/* Targets                                                            */

static uint64_t
flow(uint64_t i)
{
	static const struct hash_key k = { 1, 2 };
	char callid[32];
	int n = snprintf(callid, sizeof(callid), "%llx@198.51.100.7",
			 (unsigned long long)i);

	return siphash24(&k, callid, (size_t)n);
}

#define NFLOWS 100000

static void
test_rules_match_weights_70_30_within_2_percent(void **state)
{
	struct rules_dest d;
	struct rt_db t;
	uint32_t hits[2] = { 0, 0 }, rule, i;
	struct rules_key key;

	(void)state;
	t = rt_db(RT_HDR "w,prefix,1,forward,10.0.0.1:5060/1/70|10.0.0.2:5060/1/30,,,,\n");
	assert_int_equal(rules_key_make(SPAN_LIT("1"), SPAN_NULL, &key), 0);
	assert_int_equal(rules_match(t.db, t.scr, &key, &rule), 0);
	for (i = 0; i < NFLOWS; i++) {
		assert_int_equal(rules_pick_target(t.db, rule, flow(i), NULL,
						   &d), 0);
		hits[d.addr[3] - 1]++;
	}
	assert_in_range(hits[0], NFLOWS * 68 / 100, NFLOWS * 72 / 100);
	assert_in_range(hits[1], NFLOWS * 28 / 100, NFLOWS * 32 / 100);
	rt_free(&t);
}

/* Rendezvous property: only the flows of a removed target move. */
static void
test_rules_match_removing_target_moves_only_its_share(void **state)
{
	struct rt_db a, b;
	struct rules_dest da, db_;
	uint32_t i, moved = 0, was_c = 0;

	(void)state;
	a = rt_db(RT_HDR "w,prefix,1,forward,10.0.0.1:5060/1/50|10.0.0.2:5060/1/30|10.0.0.3:5060/1/20,,,,\n");
	b = rt_db(RT_HDR "w,prefix,1,forward,10.0.0.1:5060/1/50|10.0.0.2:5060/1/30,,,,\n");
	for (i = 0; i < NFLOWS; i++) {
		assert_int_equal(rules_pick_target(a.db, 0, flow(i), NULL, &da), 0);
		assert_int_equal(rules_pick_target(b.db, 0, flow(i), NULL, &db_), 0);
		if (da.addr[3] == 3)
			was_c++;
		else if (da.addr[3] != db_.addr[3])
			moved++;
	}
	assert_int_equal(moved, 0);
	assert_in_range(was_c, NFLOWS * 18 / 100, NFLOWS * 22 / 100);

	/* Marking it down instead of removing it does the same. */
	for (i = 0; i < NFLOWS; i += 7) {
		uint64_t up = ~0ull;

		assert_int_equal(rules_pick_target(a.db, 0, flow(i), NULL, &da), 0);
		up &= ~(1ull << 2);     /* target numbers follow first use */
		assert_int_equal(rules_pick_target(a.db, 0, flow(i), &up, &db_), 0);
		assert_int_not_equal(db_.addr[3], 3);
		if (da.addr[3] != 3)
			assert_int_equal(da.addr[3], db_.addr[3]);
	}
	rt_free(&a);
	rt_free(&b);
}

static void
test_rules_match_tiers_and_contacts(void **state)
{
	struct rules_dest d, c[RULES_TARGETS_MAX];
	struct rt_db t;
	uint64_t up;
	uint32_t n, i;

	(void)state;
	t = rt_db(RT_HDR "w,prefix,1,redirect,10.0.0.1:5060/1/1|10.0.0.2:5060/1/1|10.0.0.3:5060/2|[2001:db8::9]:5062/3,,,,\n");
	for (i = 0; i < 1000; i++) {
		assert_int_equal(rules_pick_target(t.db, 0, flow(i), NULL, &d), 0);
		assert_int_equal(d.priority, 1);
		assert_int_equal(rules_contacts(t.db, 0, flow(i), NULL, c,
						RULES_TARGETS_MAX, &n), 0);
		assert_int_equal(n, 4);
		assert_int_equal(c[0].target, d.target);
		assert_int_equal(c[0].priority, 1);
		assert_int_equal(c[1].priority, 1);
		assert_int_not_equal(c[1].target, c[0].target);
		assert_int_equal(c[2].addr[3], 3);
		assert_int_equal(c[3].af, RULES_AF_INET6);
		assert_int_equal(c[3].port, 5062);
	}
	/* Tier 1 down: tier 2 is used; everything down: no target. */
	up = ~0ull & ~3ull;
	assert_int_equal(rules_pick_target(t.db, 0, 42, &up, &d), 0);
	assert_int_equal(d.addr[3], 3);
	assert_int_equal(rules_contacts(t.db, 0, 42, &up, c, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].addr[3], 3);
	up = 0;
	assert_int_equal(rules_pick_target(t.db, 0, 42, &up, &d), -ENOENT);
	assert_int_equal(rules_contacts(t.db, 0, 42, &up, c, 4, &n), -ENOENT);
	assert_int_equal(rules_pick_target(t.db, 7, 42, NULL, &d), -ENOENT);

	/* The bitmap from addresses: family, address and port must all
	 * match; entries naming no target are ignored. */
	{
		struct addr_port down[4] = {
			{ .af = RULES_AF_INET, .port = 5060,
			  .addr = { 10, 0, 0, 1 } },
			{ .af = RULES_AF_INET, .port = 5061,    /* port */
			  .addr = { 10, 0, 0, 2 } },
			{ .af = RULES_AF_INET6, .port = 5062,
			  .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 } },
			{ .af = RULES_AF_INET6, .port = 5060,   /* family */
			  .addr = { 10, 0, 0, 3 } },
		};

		up = 0;
		assert_int_equal(rules_up_bitmap(t.db, down, 4, &up), 2);
		assert_int_equal(rules_contacts(t.db, 0, 42, &up, c, 4, &n), 0);
		assert_int_equal(n, 2);
		for (i = 0; i < n; i++)
			assert_true(c[i].addr[3] == 2 || c[i].addr[3] == 3);
		assert_int_equal(rules_up_bitmap(t.db, down, 0, &up), 0);
		assert_int_equal(up, 0xf);
	}
	rt_free(&t);
}

static void
test_rules_match_strip_prepend_rewrites_user(void **state)
{
	struct rules_key key;
	struct rules_hit hit;
	struct rt_db t;
	uint32_t rule, len;
	char out[64];

	(void)state;
	t = rt_db(RT_HDR
		  "uk,prefix,+44,redirect,198.19.0.4:5060,,2,0044,\n"
		  "all,prefix,1,forward,198.19.0.4:5060,,20,,\n"
		  "rej,exact,999,reject,,,,,486\n");
	assert_int_equal(rules_key_make(SPAN_LIT("+44-20-7946-0000"),
					SPAN_NULL, &key), 0);
	assert_int_equal(rules_match(t.db, t.scr, &key, &rule), 0);
	assert_int_equal(rules_hit_get(t.db, rule, &hit), 0);
	assert_int_equal(hit.action, RULES_ACTION_REDIRECT);
	assert_int_equal(hit.strip, 2);
	assert_true(span_eq(hit.prepend, SPAN_LIT("0044")));
	assert_int_equal(rules_rewrite_user(t.db, rule, &key, out, sizeof(out),
					    &len), 0);
	assert_int_equal(len, 14);
	assert_memory_equal(out, "00442079460000", 14);
	assert_int_equal(rules_rewrite_user(t.db, rule, &key, out, 13, &len),
			 -ENOSPC);

	/* strip beyond the number leaves nothing. */
	assert_int_equal(rules_key_make(SPAN_LIT("123"), SPAN_NULL, &key), 0);
	assert_int_equal(rules_match(t.db, t.scr, &key, &rule), 0);
	assert_int_equal(rules_rewrite_user(t.db, rule, &key, out, sizeof(out),
					    &len), 0);
	assert_int_equal(len, 0);

	assert_int_equal(rules_key_make(SPAN_LIT("999"), SPAN_NULL, &key), 0);
	assert_int_equal(rules_match(t.db, t.scr, &key, &rule), 0);
	assert_int_equal(rules_hit_get(t.db, rule, &hit), 0);
	assert_int_equal(hit.action, RULES_ACTION_REJECT);
	assert_int_equal(hit.code, 486);
	assert_int_equal(hit.ntargets, 0);
	assert_int_equal(rules_hit_get(t.db, 3, &hit), -ENOENT);
	rt_free(&t);
}

/* The prefetch hint takes any number, in range or not, and changes
 * nothing that the calls after it see. */
static void
test_rules_match_hit_prefetch_is_only_a_hint(void **state)
{
	static const uint32_t nums[] = { 0, 1, 2, 3, RULES_NO_RULE,
					 RULES_MATCH_ERROR, 1000000 };
	struct rules_hit hit;
	struct rt_db t;
	uint32_t i;

	(void)state;
	t = rt_db(RT_HDR
		  "uk,prefix,+44,redirect,198.19.0.4:5060,,2,0044,\n"
		  "all,prefix,1,forward,198.19.0.4:5060,,20,,\n");
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		rules_hit_prefetch(t.db, nums[i]);
	assert_int_equal(rules_hit_get(t.db, 0, &hit), 0);
	assert_int_equal(rules_hit_get(t.db, 2, &hit), -ENOENT);
	rt_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_match_key_normalised),
		cmocka_unit_test(test_rules_match_key_bad_input_rejected),
		cmocka_unit_test(test_rules_match_key_limit_on_number),
		cmocka_unit_test(test_rules_match_precedence_table),
		cmocka_unit_test(test_rules_match_empty_table_matches_nothing),
		cmocka_unit_test(test_rules_match_weights_70_30_within_2_percent),
		cmocka_unit_test(test_rules_match_removing_target_moves_only_its_share),
		cmocka_unit_test(test_rules_match_tiers_and_contacts),
		cmocka_unit_test(test_rules_match_strip_prepend_rewrites_user),
		cmocka_unit_test(test_rules_match_hit_prefetch_is_only_a_hint),
	};

	return cmocka_run_group_tests_name("rules_match", tests, NULL, NULL);
}
