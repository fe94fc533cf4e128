/* SPDX-License-Identifier: MIT */
/*
 * test_dp_service.c - the worker loop on its own lcore (dp_worker_main,
 * QSBR registration, dp_quit) with the service driven from the main
 * thread: ARP answered by the running worker, and a resolution that
 * crosses both threads through the service ring and the inject ring.
 *
 * Its dp_sip_burst() sends each datagram's payload on to 192.0.2.9:5090,
 * a neighbour nobody has resolved yet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp_test.h"

#define T_WAIT_MS       3000

static const uint8_t t_ip4_far[4] = { 192, 0, 2, 9 };
static const struct rte_ether_addr t_mac_far = {
	.addr_bytes = { 0x02, 0, 0, 0, 0x09, 0x09 } };
static unsigned int t_worker_lcore;

uint16_t
dp_sip_burst(struct dp_lcore *lc, struct rte_mbuf **pkts,
	     const struct dp_udp_meta *meta, uint16_t n)
{
	struct dp_ip dst = { .family = DP_AF_V4 };
	uint16_t i;

	memcpy(&dst.v4, t_ip4_far, 4);
	for (i = 0; i < n; i++) {
		rte_pktmbuf_adj(pkts[i], meta[i].payload_off);
		dp_udp_send(lc, pkts[i], NULL, meta[i].dport, &dst, 5090);
	}
	return n;
}

/* Run the service until a frame shows up on the port (or time runs out). */
static struct rte_mbuf *
t_wait_frame(void)
{
	uint64_t end = rte_get_timer_cycles() +
		rte_get_timer_hz() / 1000 * T_WAIT_MS;
	struct rte_mbuf *m;

	while (rte_get_timer_cycles() < end) {
		dp_service_poll(&t_env.svc);
		if (t_tx(&m, 1) == 1)
			return m;
		rte_delay_us_sleep(100);
	}
	return NULL;
}

static void
t_expect(const uint8_t *want, size_t len)
{
	struct rte_mbuf *m = t_wait_frame();

	assert_non_null(m);
	assert_int_equal(rte_pktmbuf_pkt_len(m), len);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), want, len);
	rte_pktmbuf_free(m);
}

static void
test_dp_service_worker_lcore_answers_arp(void **state)
{
	const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	const struct rte_ether_addr zero = { .addr_bytes = { 0 } };
	uint8_t in[64], want[64];
	size_t n, w;

	(void)state;
	n = t_arp_frame(in, 1, &bcast, &t_mac_peer, t_ip4_peer, &zero,
			t_ip4_us);
	t_rx(in, n);
	w = t_arp_frame(want, 2, &t_mac_peer, &t_env.ifc.mac, t_ip4_us,
			&t_mac_peer, t_ip4_peer);
	t_expect(want, w);
}

/* A datagram to the SIP port, which the SIP stage sends on to .far. */
static void
t_ping_in(void)
{
	uint8_t in[256], *ip;
	size_t n;

	n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
	ip = in + n;
	n += t_ip4(ip, t_ip4_peer, t_ip4_us, 17, 8 + 4, 1, 0);
	n += t_udp(in + n, ip, 5062, 5060, "ping", 4);
	t_rx(in, n);
}

/*
 * That datagram as it leaves for .far at @p mac, the worker's datagram
 * @p seq (its IPv4 ID is dp_ip4_id() of it).
 */
static void
t_ping_out(const struct rte_ether_addr *mac, uint16_t seq)
{
	const uint16_t id = dp_ip4_id(t_env.lc, seq);
	uint8_t want[256], *ip;
	size_t w;

	w = t_eth(want, mac, &t_env.ifc.mac, 0x0800, 0);
	ip = want + w;
	w += t_ip4(ip, t_ip4_us, t_ip4_far, 17, 8 + 4, id, 0);
	w += t_udp(want + w, ip, 5060, 5090, "ping", 4);
	t_expect(want, w);
}

static void
test_dp_service_resolution_across_threads(void **state)
{
	const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	const struct rte_ether_addr zero = { .addr_bytes = { 0 } };
	const struct rte_ether_addr mac2 = {
		.addr_bytes = { 0x02, 0, 0, 0, 0, 0x77 } };
	uint8_t in[256], want[256];
	const uint16_t seq = t_env.lc->ip4_seq;
	uint64_t learned;
	size_t n, w;
	int i;

	(void)state;
	t_ping_in();
	w = t_arp_frame(want, 1, &bcast, &t_env.ifc.mac, t_ip4_us, &zero,
			t_ip4_far);
	t_expect(want, w);

	n = t_arp_frame(in, 2, &t_env.ifc.mac, &t_mac_far, t_ip4_far,
			&t_env.ifc.mac, t_ip4_us);
	t_rx(in, n);
	t_ping_out(&t_mac_far, seq);
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD_RELEASED], 1);

	/* A gratuitous ARP moves that neighbour to another MAC (a gateway
	 * taken over by its standby); the next datagram goes there. */
	learned = t_env.svc.cnt[DP_SVC_NEIGH_LEARNED];
	n = t_arp_frame(in, 1, &bcast, &mac2, t_ip4_far, &zero, t_ip4_far);
	t_rx(in, n);
	for (i = 0; i < 2000 &&
	     t_env.svc.cnt[DP_SVC_NEIGH_LEARNED] == learned; i++) {
		dp_service_poll(&t_env.svc);
		rte_delay_us_sleep(1000);
	}
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_LEARNED], learned + 1);
	t_ping_in();
	t_ping_out(&mac2, (uint16_t)(seq + 1));
}

/* dp_quit stops the worker; counters add up; nothing leaked. */
static void
test_dp_service_quit_stops_worker(void **state)
{
	uint64_t sum[DP_CNT__COUNT];
	char buf[4096];
	FILE *f;

	(void)state;
	__atomic_store_n(&dp_quit, 1, __ATOMIC_RELAXED);
	assert_int_equal(rte_eal_wait_lcore(t_worker_lcore), 0);
	dp_stats_sum(t_env.lc, 1, sum);
	/* the ARP request, a datagram and its ARP reply, a gratuitous ARP
	 * and a second datagram */
	assert_int_equal(sum[DP_CNT_RX], 5);
	assert_int_equal(sum[DP_CNT_ARP_REQ], 1);
	assert_int_equal(sum[DP_CNT_ARP_GRATUITOUS], 1);
	assert_int_equal(sum[DP_CNT_SIP_RX], 2);
	assert_int_equal(sum[DP_CNT_TX], 4);

	f = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(f);
	dp_stats_print(f, t_env.lc, 1, &t_env.svc);
	fclose(f);
	assert_non_null(strstr(buf, "\n  arp_req                  1\n"));
	assert_non_null(strstr(buf, "\n  svc_arp_req_sent         1\n"));
	assert_int_equal(rte_mempool_in_use_count(t_env.ifc.pool),
			 t_env.inuse0);
}

static int
setup_env(void **state)
{
	(void)state;
	if (t_env_setup("dp_test_service", "0-1") != 0)
		return -1;
	t_begin();
	t_worker_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	if (t_worker_lcore >= RTE_MAX_LCORE)
		return -1;
	return rte_eal_remote_launch(dp_worker_main, t_env.lc,
				     t_worker_lcore);
}

static int
teardown_env(void **state)
{
	(void)state;
	__atomic_store_n(&dp_quit, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	t_env_teardown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_service_worker_lcore_answers_arp),
		cmocka_unit_test(test_dp_service_resolution_across_threads),
		cmocka_unit_test(test_dp_service_quit_stops_worker),
	};

	return cmocka_run_group_tests_name("dp_service", tests,
					   setup_env, teardown_env);
}
