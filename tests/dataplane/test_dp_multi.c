/* SPDX-License-Identifier: MIT */
/*
 * test_dp_multi.c - two queue pairs, two workers (driven by hand): each
 * worker answers on its own queue, and an output held for resolution
 * returns to the worker that produced it even when the answer to the
 * service's request arrives on the other queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include "dp_test.h"

static const struct rte_ether_addr t_bcast = {
	.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
static const struct rte_ether_addr t_zero = { .addr_bytes = { 0 } };

static void
test_dp_multi_worker_answers_on_its_queue(void **state)
{
	struct rte_mbuf *out[4];
	uint8_t in[64] = { 0 }, want[64] = { 0 };
	size_t w;

	(void)state;
	t_begin();
	assert_int_equal(t_env.ifc.nb_queues, 2);
	t_arp_frame(in, 1, &t_bcast, &t_mac_peer, t_ip4_peer, &t_zero,
		    t_ip4_us);
	t_rx_q(1, in, 60);
	t_poll_q(0);
	assert_int_equal(t_tx_q(0, out, 4), 0);
	t_poll_q(1);
	assert_int_equal(t_tx_q(1, out, 4), 1);
	w = t_arp_frame(want, 2, &t_mac_peer, &t_env.ifc.mac, t_ip4_us,
			&t_mac_peer, t_ip4_peer);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), want, w);
	rte_pktmbuf_free(out[0]);
	assert_int_equal(t_env.lc[1].cnt[DP_CNT_ARP_REQ], 1);
	assert_int_equal(t_env.lc[0].cnt[DP_CNT_RX], 0);
	t_end();
}

static void
test_dp_multi_held_output_returns_to_its_worker(void **state)
{
	const uint8_t ip20[4] = { 192, 0, 2, 20 };
	const struct rte_ether_addr mac20 = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x20, 0x20 } };
	struct dp_ip dst = { .family = DP_AF_V4 };
	struct rte_mbuf *out[4], *m;
	uint8_t in[64] = { 0 }, want[64];
	size_t w;

	(void)state;
	t_begin();
	memcpy(&dst.v4, ip20, 4);
	m = dp_pkt_alloc(&t_env.lc[1], 8);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, 4), "held", 4);
	assert_int_equal(dp_udp_send(&t_env.lc[1], m, NULL, 5060, &dst, 5060),
			 0);
	assert_int_equal(dp_service_poll(&t_env.svc), 1);

	/* The request leaves through the worker that asked. */
	t_poll_q(0);
	assert_int_equal(t_tx_q(0, out, 4), 0);
	t_poll_q(1);
	assert_int_equal(t_tx_q(1, out, 4), 1);
	w = t_arp_frame(want, 1, &t_bcast, &t_env.ifc.mac, t_ip4_us, &t_zero,
			ip20);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), want, w);
	rte_pktmbuf_free(out[0]);

	/* The answer comes in on queue 0; the output still leaves on 1. */
	t_arp_frame(in, 2, &t_env.ifc.mac, &mac20, ip20, &t_env.ifc.mac,
		    t_ip4_us);
	t_rx_q(0, in, 60);
	t_poll_q(0);
	assert_int_equal(dp_service_poll(&t_env.svc), 1);
	t_poll_q(0);
	assert_int_equal(t_tx_q(0, out, 4), 0);
	t_poll_q(1);
	assert_int_equal(t_tx_q(1, out, 4), 1);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), &mac20, 6);
	rte_pktmbuf_free(out[0]);
	assert_int_equal(t_env.lc[1].cnt[DP_CNT_NEIGH_RESOLVED], 1);
	assert_int_equal(t_env.lc[0].cnt[DP_CNT_ARP_REPLY_IN], 1);
	t_end();
}

static int
setup_env(void **state)
{
	(void)state;
	return t_env_setup_queues("dp_test_multi", "0", 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_multi_worker_answers_on_its_queue),
		cmocka_unit_test(test_dp_multi_held_output_returns_to_its_worker),
	};

	return cmocka_run_group_tests_name("dp_multi", tests,
					   setup_env, t_env_group_teardown);
}
