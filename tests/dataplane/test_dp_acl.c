/* SPDX-License-Identifier: MIT */
/*
 * test_dp_acl.c - the source address policy (dataplane/dp_acl.h) without
 * an EAL: lists as merged ranges, lookups at every range edge, the two
 * families, deny over allow, actions, the rate limiter's timing, burst and
 * replacement.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include <dp_acl.h>

static int
t_refused(const struct dp_acl *a, const char *ip)
{
	uint8_t b[16];

	if (inet_pton(AF_INET, ip, b) == 1)
		return dp_acl_refused(a, 4, b);
	assert_int_equal(inet_pton(AF_INET6, ip, b), 1);
	return dp_acl_refused(a, 6, b);
}

static void
test_dp_acl_empty_serves_everyone(void **state)
{
	struct dp_acl_conf c = { .allow = SPAN_LIT(" ,\n") };
	struct dp_acl a;
	char err[160];

	(void)state;
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)), 0);
	assert_int_equal(a.nallow + a.ndeny, 0);
	assert_int_equal(a.rl_rps, 0);
	assert_int_equal(t_refused(&a, "192.0.2.1"), -1);
	assert_int_equal(t_refused(&a, "2001:db8::1"), -1);
	dp_acl_free(&a);
}

static void
test_dp_acl_deny_edges_and_merge(void **state)
{
	/* Overlapping, adjacent and nested entries merge into 3 v4 ranges. */
	struct dp_acl_conf c = {
		.deny = SPAN_LIT("10.0.0.0/9 10.128.0.0/9,10.1.2.3 "
				 "192.0.2.0/25 192.0.2.64/26 203.0.113.7 "
				 "2001:db8::/48, 2001:db8:1::/48 ::1"),
		.acl_action = SPAN_LIT("403"),
	};
	struct dp_acl a;
	char err[160];

	(void)state;
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)), 0);
	assert_int_equal(a.ndeny, 9);
	assert_int_equal(a.deny.n4, 3);
	assert_int_equal(a.deny.n6, 2);
	assert_int_equal(t_refused(&a, "9.255.255.255"), -1);
	assert_int_equal(t_refused(&a, "10.0.0.0"), DP_ACL_403);
	assert_int_equal(t_refused(&a, "10.127.255.255"), DP_ACL_403);
	assert_int_equal(t_refused(&a, "10.128.0.0"), DP_ACL_403);
	assert_int_equal(t_refused(&a, "10.255.255.255"), DP_ACL_403);
	assert_int_equal(t_refused(&a, "11.0.0.0"), -1);
	assert_int_equal(t_refused(&a, "192.0.2.127"), DP_ACL_403);
	assert_int_equal(t_refused(&a, "192.0.2.128"), -1);
	assert_int_equal(t_refused(&a, "203.0.113.6"), -1);
	assert_int_equal(t_refused(&a, "203.0.113.7"), DP_ACL_403);
	assert_int_equal(t_refused(&a, "203.0.113.8"), -1);
	assert_int_equal(t_refused(&a, "0.0.0.0"), -1);
	assert_int_equal(t_refused(&a, "255.255.255.255"), -1);
	assert_int_equal(t_refused(&a, "2001:db8::"), DP_ACL_403);
	assert_int_equal(t_refused(&a, "2001:db8:1:ffff:ffff:ffff:ffff:ffff"),
			 DP_ACL_403);
	assert_int_equal(t_refused(&a, "2001:db8:2::"), -1);
	assert_int_equal(t_refused(&a, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"),
			 -1);
	assert_int_equal(t_refused(&a, "::1"), DP_ACL_403);
	assert_int_equal(t_refused(&a, "::2"), -1);
	assert_int_equal(t_refused(&a, "::"), -1);
	/* An IPv4 list says nothing of the v4-mapped IPv6 address. */
	assert_int_equal(t_refused(&a, "::ffff:10.0.0.1"), -1);
	dp_acl_free(&a);
}

static void
test_dp_acl_allow_and_deny(void **state)
{
	struct dp_acl_conf c = {
		.allow = SPAN_LIT("198.18.0.0/15 2001:db8::/32"),
		.deny = SPAN_LIT("198.18.7.0/24"),
	};
	struct dp_acl a;
	char err[160];

	(void)state;
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)), 0);
	assert_int_equal(t_refused(&a, "198.18.0.1"), -1);
	assert_int_equal(t_refused(&a, "198.19.255.255"), -1);
	assert_int_equal(t_refused(&a, "198.20.0.0"), DP_ACL_DROP);
	assert_int_equal(t_refused(&a, "198.18.7.9"), DP_ACL_DROP);
	assert_int_equal(t_refused(&a, "2001:db8:ffff::1"), -1);
	assert_int_equal(t_refused(&a, "2001:db9::1"), DP_ACL_DROP);
	dp_acl_free(&a);

	/* An allow list of one family refuses every source of the other. */
	c = (struct dp_acl_conf){ .allow = SPAN_LIT("0.0.0.0/0") };
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)), 0);
	assert_int_equal(t_refused(&a, "203.0.113.1"), -1);
	assert_int_equal(t_refused(&a, "2001:db8::1"), DP_ACL_DROP);
	dp_acl_free(&a);
	c = (struct dp_acl_conf){ .deny = SPAN_LIT("::/0") };
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)), 0);
	assert_int_equal(t_refused(&a, "::"), DP_ACL_DROP);
	assert_int_equal(t_refused(&a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
			 DP_ACL_DROP);
	assert_int_equal(t_refused(&a, "203.0.113.1"), -1);
	dp_acl_free(&a);
}

static void
test_dp_acl_build_errors(void **state)
{
	struct dp_acl_conf c = { .deny = SPAN_LIT("10.0.0.0/8 10.0.0.1/8") };
	struct dp_acl a;
	char err[160];

	(void)state;
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "acl.deny: entry 2 '10.0.0.1/8': address has "
			    "bits set past the prefix length");
	assert_null(a.deny.lo4);
	c = (struct dp_acl_conf){ .allow = SPAN_LIT("192.0.2.1/33") };
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "acl.allow: entry 1 '192.0.2.1/33': prefix "
			    "length must be 0-32");
	c = (struct dp_acl_conf){ .acl_action = SPAN_LIT("reject") };
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "acl.action: 'reject': must be drop or 403");
	c = (struct dp_acl_conf){ .rl_rps = 10, .rl_action = SPAN_LIT("x") };
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "ratelimit.action: 'x': must be drop or 403");
	c = (struct dp_acl_conf){ .rl_rps = 10000001 };
	assert_int_equal(dp_acl_build(&a, &c, 1000, err, sizeof(err)),
			 -EINVAL);
}

/* A 1 GHz clock: 100 requests/s is one every 10 ms = 10^7 ticks. */
#define T_HZ            1000000000ull
#define T_IV            (T_HZ / 100)

static void
test_dp_rl_rate_and_burst(void **state)
{
	struct dp_acl_conf c = { .rl_rps = 100, .rl_burst = 5,
				 .rl_action = SPAN_LIT("403") };
	const uint8_t x[4] = { 192, 0, 2, 2 }, y[4] = { 192, 0, 2, 3 };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	uint64_t now = 1000 * T_HZ;
	struct dp_acl a;
	struct dp_rl rl;
	char err[160];
	int i, ok = 0;

	(void)state;
	assert_int_equal(dp_acl_build(&a, &c, T_HZ, err, sizeof(err)), 0);
	assert_int_equal(a.rl_interval, T_IV);
	assert_int_equal(a.rl_tolerance, 4 * T_IV);
	assert_int_equal(a.rl_action, DP_ACL_403);
	assert_int_equal(dp_rl_init(&rl, 64, 7), 0);
	/* A burst of 5 back to back, then nothing until time passes. */
	for (i = 0; i < 10; i++)
		ok += dp_rl_accept(&rl, &a, 4, x, now);
	assert_int_equal(ok, 5);
	/* Another source has its own bucket, so has an IPv6 one. */
	assert_true(dp_rl_accept(&rl, &a, 4, y, now));
	assert_true(dp_rl_accept(&rl, &a, 6, v6, now));
	/* One interval later: one more, not two. */
	assert_true(dp_rl_accept(&rl, &a, 4, x, now + T_IV));
	assert_false(dp_rl_accept(&rl, &a, 4, x, now + T_IV));
	/* At the rate, every request goes on; above it, some do not. */
	now += 2 * T_IV;
	for (i = 0; i < 1000; i++)
		assert_true(dp_rl_accept(&rl, &a, 4, x, now + (uint64_t)i * T_IV));
	now += 1000 * T_IV;
	for (ok = 0, i = 0; i < 1000; i++)
		ok += dp_rl_accept(&rl, &a, 4, x, now + (uint64_t)i * T_IV / 2);
	assert_in_range(ok, 500, 506);
	/* Idle for two seconds after the last one: the whole burst again. */
	now += 500 * T_IV + 2 * T_HZ;
	for (ok = 0, i = 0; i < 10; i++)
		ok += dp_rl_accept(&rl, &a, 4, x, now);
	assert_int_equal(ok, 5);
	dp_rl_fini(&rl);
	dp_acl_free(&a);
}

/*
 * IPv6 sources are keyed by their prefix (ratelimit.ipv6_prefix, default
 * 64): rotating through a /64 gets no more than one address does; with
 * 128 each address has its own bucket; other prefix lengths cut inside a
 * byte. An IPv4 source is always one address. Out of range is refused.
 */
static void
test_dp_rl_ipv6_prefix(void **state)
{
	struct dp_acl_conf c = { .rl_rps = 100, .rl_burst = 2 };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 };
	const uint8_t x[4] = { 192, 0, 2, 2 };
	uint64_t now = 1000 * T_HZ;
	struct dp_acl a;
	struct dp_rl rl;
	char err[160];
	int i, ok;

	(void)state;
	assert_int_equal(dp_acl_build(&a, &c, T_HZ, err, sizeof(err)), 0);
	assert_int_equal(a.rl_prefix6, 64);
	assert_int_equal(dp_rl_init(&rl, 64, 7), 0);
	/* Ten addresses of one /64: two requests in all. */
	for (ok = 0, i = 0; i < 10; i++) {
		v6[15] = (uint8_t)i;
		v6[9] = (uint8_t)(i * 17);
		ok += dp_rl_accept(&rl, &a, 6, v6, now);
	}
	assert_int_equal(ok, 2);
	/* The next /64 is another source. */
	v6[7] = 2;
	assert_true(dp_rl_accept(&rl, &a, 6, v6, now));
	/* IPv4 addresses are not cut. */
	assert_true(dp_rl_accept(&rl, &a, 4, x, now));
	dp_rl_fini(&rl);
	dp_acl_free(&a);

	/* 128: ten addresses, twenty requests. */
	c.rl_prefix6 = 128;
	assert_int_equal(dp_acl_build(&a, &c, T_HZ, err, sizeof(err)), 0);
	assert_int_equal(dp_rl_init(&rl, 64, 7), 0);
	for (ok = 0, i = 0; i < 10; i++) {
		v6[15] = (uint8_t)i;
		ok += dp_rl_accept(&rl, &a, 6, v6, now);
		ok += dp_rl_accept(&rl, &a, 6, v6, now);
		ok += dp_rl_accept(&rl, &a, 6, v6, now);
	}
	assert_int_equal(ok, 20);
	dp_rl_fini(&rl);
	dp_acl_free(&a);

	/* 60: the low nibble of byte 7 is left out, its high one counts. */
	c.rl_prefix6 = 60;
	assert_int_equal(dp_acl_build(&a, &c, T_HZ, err, sizeof(err)), 0);
	assert_int_equal(dp_rl_init(&rl, 64, 7), 0);
	v6[7] = 0x01;
	ok = dp_rl_accept(&rl, &a, 6, v6, now);
	v6[7] = 0x0f;
	ok += dp_rl_accept(&rl, &a, 6, v6, now);
	ok += dp_rl_accept(&rl, &a, 6, v6, now);
	assert_int_equal(ok, 2);
	v6[7] = 0x10;
	assert_true(dp_rl_accept(&rl, &a, 6, v6, now));
	dp_rl_fini(&rl);
	dp_acl_free(&a);

	c.rl_prefix6 = 129;
	assert_int_equal(dp_acl_build(&a, &c, T_HZ, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "ratelimit.ipv6_prefix 129 out of range "
				 "(1-128)");
}

static void
test_dp_rl_burst_default_and_replacement(void **state)
{
	struct dp_acl_conf c = { .rl_rps = 3 };
	uint64_t now = 5 * T_HZ;
	struct dp_acl a;
	struct dp_rl rl;
	char err[160];
	uint8_t ip[4] = { 198, 18, 0, 0 };
	int i, ok = 0;

	(void)state;
	assert_int_equal(dp_rl_init(&rl, 3, 1), -EINVAL);
	assert_int_equal(dp_acl_build(&a, &c, T_HZ, err, sizeof(err)), 0);
	assert_int_equal(a.rl_action, DP_ACL_DROP);
	/* Out of range: the setting, its value and the bound are named. */
	{
		struct dp_acl_conf big = { .rl_rps = 3, .rl_burst = ~0ull };
		struct dp_acl b;

		assert_int_equal(dp_acl_build(&b, &big, T_HZ, err,
					      sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "ratelimit.burst "));
		assert_non_null(strstr(err, "out of range (at most "));
	}
	/* Burst 0: one second's worth. */
	assert_int_equal(dp_rl_init(&rl, 1, 1), 0);
	for (i = 0; i < 10; i++)
		ok += dp_rl_accept(&rl, &a, 4, ip, now);
	assert_int_equal(ok, 3);
	/* One set of 4 ways: a fifth source displaces the one least ahead
	 * of its rate (1, not the busy 0), whose state is lost. */
	for (i = 1; i <= 4; i++) {
		ip[3] = (uint8_t)i;
		assert_true(dp_rl_accept(&rl, &a, 4, ip, now));
	}
	assert_int_equal(rl.evicted, 1);
	ip[3] = 0;
	assert_false(dp_rl_accept(&rl, &a, 4, ip, now));
	ip[3] = 1;
	assert_true(dp_rl_accept(&rl, &a, 4, ip, now));
	assert_true(dp_rl_accept(&rl, &a, 4, ip, now));
	assert_int_equal(rl.evicted, 2);
	dp_rl_fini(&rl);
	dp_acl_free(&a);
}

/*
 * A debt run up under a loose policy (burst 10,000 at 10/s: 1,000 s
 * ahead) is no deeper than a stricter new policy allows, which takes
 * effect at once; an IPv6 source whose low 64 bits look like an IPv4
 * key does not share that IPv4 source's bucket.
 */
static void
test_dp_rl_policy_change_and_keys(void **state)
{
	struct dp_acl_conf loose = { .rl_rps = 10, .rl_burst = 10000 };
	struct dp_acl_conf strict = { .rl_rps = 1000 };
	const uint8_t x[4] = { 192, 0, 2, 1 };
	const uint8_t alias[16] = { [8] = 0xc0, [9] = 0x00, [10] = 0x02,
		[11] = 0x01, [12] = 0xff, [13] = 0xff };
	uint64_t now = 1000 * T_HZ;
	struct dp_acl a, b;
	struct dp_rl rl;
	char err[160];
	int i;

	(void)state;
	assert_int_equal(dp_acl_build(&a, &loose, T_HZ, err, sizeof(err)), 0);
	assert_int_equal(dp_acl_build(&b, &strict, T_HZ, err, sizeof(err)), 0);
	assert_int_equal(dp_rl_init(&rl, 64, 3), 0);
	for (i = 0; i < 10000; i++)
		assert_true(dp_rl_accept(&rl, &a, 4, x, now));
	assert_false(dp_rl_accept(&rl, &a, 4, x, now));
	/* Under the strict policy: refused now, served 2 ms later. */
	assert_false(dp_rl_accept(&rl, &b, 4, x, now));
	assert_true(dp_rl_accept(&rl, &b, 4, x, now + 2 * T_HZ / 1000));
	/* The IPv6 look-alike of 192.0.2.1's old key has a bucket of its
	 * own: full. */
	for (i = 0; i < 1000; i++)
		assert_true(dp_rl_accept(&rl, &b, 6, alias, now));
	dp_rl_fini(&rl);
	dp_acl_free(&a);
	dp_acl_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_acl_empty_serves_everyone),
		cmocka_unit_test(test_dp_acl_deny_edges_and_merge),
		cmocka_unit_test(test_dp_acl_allow_and_deny),
		cmocka_unit_test(test_dp_acl_build_errors),
		cmocka_unit_test(test_dp_rl_rate_and_burst),
		cmocka_unit_test(test_dp_rl_burst_default_and_replacement),
		cmocka_unit_test(test_dp_rl_ipv6_prefix),
		cmocka_unit_test(test_dp_rl_policy_change_and_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
