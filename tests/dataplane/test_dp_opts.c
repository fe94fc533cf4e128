/* SPDX-License-Identifier: MIT */
/*
 * test_dp_opts.c - option parsing of sipedge-dataplane (no EAL needed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp.h"
#include "dp_classify.h"

#define T_ARGC(a)       ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static void
test_dp_opts_defaults_and_addresses(void **state)
{
	char *argv[] = { "dp", "--addr", "192.0.2.1/24", "--addr",
		"2001:db8::1/64", "--addr", "198.51.100.7", "--gateway",
		"192.0.2.254", "--gateway", "2001:db8::fe", NULL };
	const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct dp_conf c;

	(void)state;
	dp_conf_defaults(&c);
	assert_int_equal(dp_opts_parse(&c, T_ARGC(argv), argv), 0);
	assert_int_equal(c.naddr4, 2);
	assert_int_equal(c.naddr6, 1);
	assert_int_equal(c.addr4[0].ip.family, DP_AF_V4);
	assert_memory_equal(&c.addr4[0].ip.v4, "\xc0\x00\x02\x01", 4);
	assert_int_equal(c.addr4[0].len, 24);
	assert_int_equal(c.addr4[1].len, 32);
	assert_memory_equal(c.addr6[0].ip.v6, v6, 16);
	assert_int_equal(c.addr6[0].len, 64);
	assert_true(c.has_gw4);
	assert_true(c.has_gw6);
	assert_int_equal(c.nsip_port, 1);
	assert_int_equal(c.sip_port[0], 5060);
	assert_int_equal(c.mode, DP_MODE_REDIRECT);
	assert_int_equal(c.redirect_code, 302);
	assert_int_equal(c.no_route_code, 404);
	assert_int_equal(c.mtu, 1500);
	assert_int_equal(c.vlan, 0);
	assert_null(c.data_dir);
	assert_int_equal(c.redirect_expires, 0);
	assert_int_equal(c.retry_after, 30);
	assert_int_equal(c.probe_interval_ms, 0);       /* no probes */
	assert_int_equal(c.probe_down, 3);
	assert_false(c.record_route);
}

static void
test_dp_opts_everything_set(void **state)
{
	char *argv[] = { "dp", "--addr", "192.0.2.1/24", "--sip-port", "5070",
		"--sip-port", "5080", "--mode", "proxy", "--domain",
		"example.com", "--domain", "example.net", "--redirect-code",
		"301", "--no-route-code", "480", "--control", "/tmp/ctl.sock",
		"--mbufs", "16383", "--mtu", "9000", "--vlan", "100", "--port",
		"1", "--data-dir", "/var/lib/sipedge", "--redirect-expires",
		"600", "--retry-after", "120", "--record-route",
		"--probe-interval", "5000", "--probe-down", "4", "--dscp", "26",
		"--alias", "203.0.113.5", "--alias", "2001:db8:5::1", NULL };
	static const uint8_t vip4[4] = { 203, 0, 113, 5 };
	struct dp_conf c;

	(void)state;
	dp_conf_defaults(&c);
	assert_int_equal(dp_opts_parse(&c, T_ARGC(argv), argv), 0);
	assert_int_equal(c.nsip_port, 2);       /* the default is replaced */
	assert_int_equal(c.sip_port[0], 5070);
	assert_int_equal(c.sip_port[1], 5080);
	assert_int_equal(c.mode, DP_MODE_PROXY);
	assert_int_equal(c.ndomain, 2);
	assert_string_equal(c.domain[1], "example.net");
	assert_int_equal(c.redirect_code, 301);
	assert_int_equal(c.no_route_code, 480);
	assert_string_equal(c.control_path, "/tmp/ctl.sock");
	assert_int_equal(c.mbufs, 16383);
	assert_int_equal(c.mtu, 9000);
	assert_int_equal(c.vlan, 100);
	assert_int_equal(c.port_id, 1);
	assert_int_equal(c.domain_len[0], 11);
	assert_string_equal(c.data_dir, "/var/lib/sipedge");
	assert_int_equal(c.redirect_expires, 600);
	assert_int_equal(c.retry_after, 120);
	assert_true(c.record_route);
	assert_int_equal(c.probe_interval_ms, 5000);
	assert_int_equal(c.probe_down, 4);
	assert_int_equal(c.dscp, 26);
	assert_int_equal(c.nalias, 2);
	assert_int_equal(c.alias[0].family, DP_AF_V4);
	assert_memory_equal(&c.alias[0].v4, vip4, 4);
	assert_int_equal(c.alias[1].family, DP_AF_V6);
	assert_true(dp_conf_ip_is_ours(&c, vip4, 4));
	assert_true(dp_conf_ip_is_ours(&c, c.addr4[0].ip.v6, 4));
	assert_false(dp_conf_ip_is_ours(&c, c.alias[1].v6, 4));
	assert_true(dp_conf_ip_is_ours(&c, c.alias[1].v6, 16));
}

static void
test_dp_opts_invalid_rejected(void **state)
{
	static const char *const bad[][2] = {
		{ "--addr", "192.0.2.1/33" },
		{ "--addr", "2001:db8::1/129" },
		{ "--addr", "192.0.2.300" },
		{ "--addr", "192.0.2.1/" },
		{ "--gateway", "gw.example" },
		{ "--alias", "vip.example" },
		{ "--alias", "203.0.113.5/32" },
		{ "--sip-port", "0" },
		{ "--sip-port", "65536" },
		{ "--mode", "stateful" },
		{ "--redirect-code", "404" },
		{ "--no-route-code", "200" },
		{ "--no-route-code", "407" },
		{ "--no-route-code", "420" },
		{ "--mtu", "100" },
		{ "--vlan", "4095" },
		{ "--mbufs", "12x" },
		{ "--retry-after", "0" },
		{ "--redirect-expires", "-1" },
		{ "--data-dir", "" },
		{ "--probe-interval", "99" },
		{ "--probe-interval", "3600001" },
		{ "--probe-down", "0" },
		{ "--probe-down", "101" },
		{ "--dscp", "64" },
		{ "--dscp", "ef" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "dp", "--addr", "192.0.2.1/24",
			(char *)bad[i][0], (char *)bad[i][1], NULL };
		struct dp_conf c;

		dp_conf_defaults(&c);
		assert_int_equal(dp_opts_parse(&c, T_ARGC(argv), argv),
				 -EINVAL);
	}
}

/* IPv6 needs a link MTU of 1280 (RFC 8200 §5); IPv4 alone may go lower. */
static void
test_dp_opts_mtu_ipv6_minimum(void **state)
{
	char *v6[] = { "dp", "--addr", "2001:db8::1/64", "--mtu", "1000", NULL };
	char *v4[] = { "dp", "--addr", "192.0.2.1/24", "--mtu", "1000", NULL };
	char *ok6[] = { "dp", "--addr", "2001:db8::1/64", "--mtu", "1280", NULL };
	struct dp_conf c;

	(void)state;
	dp_conf_defaults(&c);
	assert_int_equal(dp_opts_parse(&c, T_ARGC(v6), v6), -EINVAL);
	dp_conf_defaults(&c);
	assert_int_equal(dp_opts_parse(&c, T_ARGC(v4), v4), 0);
	assert_int_equal(c.mtu, 1000);
	dp_conf_defaults(&c);
	assert_int_equal(dp_opts_parse(&c, T_ARGC(ok6), ok6), 0);
}

static void
test_dp_opts_address_required(void **state)
{
	char *argv[] = { "dp", "--sip-port", "5060", NULL };
	char *help[] = { "dp", "--help", NULL };
	struct dp_conf c;

	(void)state;
	dp_conf_defaults(&c);
	assert_int_equal(dp_opts_parse(&c, T_ARGC(argv), argv), -EINVAL);
	dp_conf_defaults(&c);
	assert_int_equal(dp_opts_parse(&c, T_ARGC(help), help), 1);
}

/* The error names the option that was given, for every valued option. */
static void
test_dp_opts_error_names_the_option(void **state)
{
	static const char *const bad[][2] = {
		{ "gateway", "x" }, { "sip-port", "0" }, { "mode", "x" },
		{ "domain", "" }, { "redirect-code", "200" },
		{ "no-route-code", "401" }, { "mbufs", "x" }, { "mtu", "100" },
		{ "vlan", "5000" }, { "port", "99999" }, { "data-dir", "" },
		{ "redirect-expires", "x" }, { "retry-after", "0" },
		{ "probe-interval", "x" }, { "probe-down", "0" },
		{ "dscp", "99" }, { "alias", "foo" },
		/* 108 bytes: no room for the NUL in sun_path */
		{ "control", "/tmp/0123456789012345678901234567890123456789"
		  "012345678901234567890123456789012345678901234567890123456"
		  "789012" },
	};
	char opt[40], want[200], got[512];
	char *argv[6];
	struct dp_conf c;
	FILE *f;
	size_t i, n;
	int saved;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(opt, sizeof(opt), "--%s", bad[i][0]);
		argv[0] = "dp";
		argv[1] = "--addr";
		argv[2] = "192.0.2.1/24";
		argv[3] = opt;
		argv[4] = (char *)bad[i][1];
		argv[5] = NULL;
		f = tmpfile();
		assert_non_null(f);
		fflush(stderr);
		saved = dup(2);
		assert_true(saved >= 0);
		assert_int_equal(dup2(fileno(f), 2), 2);
		dp_conf_defaults(&c);
		assert_int_equal(dp_opts_parse(&c, 5, argv), -EINVAL);
		fflush(stderr);
		assert_int_equal(dup2(saved, 2), 2);
		close(saved);
		rewind(f);
		n = fread(got, 1, sizeof(got) - 1, f);
		got[n] = '\0';
		fclose(f);
		snprintf(want, sizeof(want), "dp: %s %s: ", opt, bad[i][1]);
		if (strncmp(got, want, strlen(want)) != 0)
			fail_msg("option %s: got '%s'", opt, got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_opts_defaults_and_addresses),
		cmocka_unit_test(test_dp_opts_everything_set),
		cmocka_unit_test(test_dp_opts_invalid_rejected),
		cmocka_unit_test(test_dp_opts_mtu_ipv6_minimum),
		cmocka_unit_test(test_dp_opts_address_required),
		cmocka_unit_test(test_dp_opts_error_names_the_option),
	};

	return cmocka_run_group_tests_name("dp_opts", tests, NULL, NULL);
}
