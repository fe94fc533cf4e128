/* SPDX-License-Identifier: MIT */
/*
 * test_dp_swap.c - snapshot swaps under load: a worker lcore runs its real
 * loop (dp_worker_main(), a QSBR reader) answering INVITEs in redirect
 * mode while the main thread, acting as the loader, publishes many
 * generations whose targets all change, waits for a grace period and
 * frees the old one. Every request must be answered (no packet lost),
 * every answer must list exactly the targets of one generation (never a
 * mix), generations must never go backwards, and every mbuf must be back
 * in its pool at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <urcu/urcu-qsbr.h>

#include <rules.h>

#include "dp_test.h"

#define T_GENS          150     /* generations published */
#define T_PER_GEN       40      /* requests sent between two swaps */
#define T_WINDOW        64      /* requests in flight at most */

static char t_buf[4096];

/* Generation g: targets 198.19.G.1 (tier 1) and 198.19.G.2 (tier 2). */
static void
t_publish(unsigned int g)
{
	char csv[256];
	struct dp_snap *old;

	snprintf(csv, sizeof(csv),
		 "id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		 "all,default,,redirect,198.19.%u.1:5060|198.19.%u.2:5060/2,,"
		 ",,\n", g, g);
	{
		struct rules_set *set = NULL;
		struct dp_snap *s = NULL;
		void *image = NULL;
		size_t len = 0;

		assert_int_equal(rules_csv_parse(csv, strlen(csv), &set, NULL),
				 0);
		assert_int_equal(rules_compile(set, &image, &len, NULL), 0);
		rules_set_free(set);
		assert_int_equal(dp_snap_build(image, len, g, t_secret, 1, &s),
				 0);
		old = dp_snap_publish(s);
	}
	/* The worker may be inside a burst that read @old. */
	urcu_qsbr_synchronize_rcu();
	dp_snap_free(old);
}

/*
 * Read one answer: a 302 whose two Contacts are 198.19.G.1 then
 * 198.19.G.2 for the same G. Returns G.
 */
static unsigned int
t_answer_gen(void)
{
	unsigned int g1, g2;
	char *c1, *c2;

	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_non_null(strstr(t_buf, "SIP/2.0 302 Moved Temporarily\r\n"));
	c1 = strstr(t_buf, "Contact: <sip:");
	assert_non_null(c1);
	c2 = strstr(c1 + 1, "Contact: <sip:");
	assert_non_null(c2);
	assert_null(strstr(c2 + 1, "Contact: "));
	if (sscanf(c1, "Contact: <sip:%*[0-9]@198.19.%u.1:5060>;q=1.0",
		   &g1) != 1 ||
	    sscanf(c2, "Contact: <sip:%*[0-9]@198.19.%u.2:5060>;q=0.9",
		   &g2) != 1)
		fail_msg("unexpected Contacts: %s", t_buf);
	if (g1 != g2)
		fail_msg("an answer mixes generations %u and %u", g1, g2);
	return g1;
}

static void
test_dp_swap_under_load_consistent(void **state)
{
	char req[512];
	unsigned int g, i, sent = 0, got = 0, last = 0, seen = 0, n, k;
	unsigned int lcore;
	uint64_t deadline;

	(void)state;
	t_begin();
	t_publish(1);
	lcore = rte_get_next_lcore(-1, 1, 0);
	assert_true(lcore < RTE_MAX_LCORE);
	__atomic_store_n(&dp_quit, 0, __ATOMIC_RELAXED);
	assert_int_equal(rte_eal_remote_launch(dp_worker_main, &t_env.lc[0],
					       lcore), 0);

	for (g = 2; g <= T_GENS + 1; g++) {
		for (i = 0; i < T_PER_GEN; i++) {
			n = (unsigned int)snprintf(req, sizeof(req),
				"INVITE sip:1555%06u@192.0.2.1 SIP/2.0\r\n"
				"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK%u\r\n"
				"Max-Forwards: 70\r\nFrom: <sip:a@192.0.2.2>;tag=1\r\n"
				"To: <sip:b@192.0.2.1>\r\nCall-ID: %u@swap\r\n"
				"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
				sent, sent, sent);
			t_sip_rx4(req, n);
			sent++;
			/* Keep the rings short: collect what is ready. */
			while (sent - got > T_WINDOW) {
				k = rte_ring_count(t_env.tx);
				while (k-- > 0) {
					unsigned int a = t_answer_gen();

					/* One worker, in order: never
					 * an older generation again. */
					assert_true(a >= last);
					last = a;
					got++;
				}
			}
		}
		t_publish(g);
		seen++;
	}
	deadline = rte_get_timer_cycles() + 5 * rte_get_timer_hz();
	while (got < sent && rte_get_timer_cycles() < deadline) {
		if (rte_ring_count(t_env.tx) == 0)
			continue;
		i = t_answer_gen();
		assert_true(i >= last);
		last = i;
		got++;
	}
	__atomic_store_n(&dp_quit, 1, __ATOMIC_RELAXED);
	rte_eal_wait_lcore(lcore);
	__atomic_store_n(&dp_quit, 0, __ATOMIC_RELAXED);

	/* Nothing lost, nothing extra. */
	assert_int_equal(got, sent);
	assert_int_equal(t_cnt(DP_CNT_SIP_REDIRECT), sent);
	assert_int_equal(t_cnt(DP_CNT_DROP), 0);
	assert_int_equal(seen, T_GENS);
	printf("swap under load: %u answers over %u generations\n", got,
	       T_GENS + 1);
	t_snap_clear();
	t_end();
}

static int
setup_env(void **state)
{
	(void)state;
	return t_env_setup("dp_test_swap", "0-1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_swap_under_load_consistent),
	};

	return cmocka_run_group_tests_name("dp_swap", tests, setup_env,
					   t_env_group_teardown);
}
