/* SPDX-License-Identifier: MIT */
/*
 * test_dp_worker.c - the worker's L2/L3 handling, frames in and out of a
 * net_ring port, asserted byte by byte: ARP, ND, ICMP/ICMPv6 echo, VLAN,
 * UDP to the SIP ports (into the SIP stage, by counters),
 * reassembly, checksums, drops, and no mbuf leak after each case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <compiler.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_test.h"

static const struct rte_ether_addr t_bcast = {
	.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static size_t
t_arp(uint8_t *p, uint16_t op, const struct rte_ether_addr *sha,
      const uint8_t *spa, const struct rte_ether_addr *tha,
      const uint8_t *tpa)
{
	static const uint8_t hdr[6] = { 0, 1, 8, 0, 6, 4 };

	memcpy(p, hdr, 6);
	p[6] = 0;
	p[7] = (uint8_t)op;
	memcpy(p + 8, sha, 6);
	memcpy(p + 14, spa, 4);
	memcpy(p + 18, tha, 6);
	memcpy(p + 24, tpa, 4);
	return 28;
}

static void
test_dp_worker_arp_request_answered(void **state)
{
	const struct rte_ether_addr zero = { .addr_bytes = { 0 } };
	uint8_t in[60] = { 0 }, want[60] = { 0 };
	size_t n;

	(void)state;
	t_begin();
	n = t_eth(in, &t_bcast, &t_mac_peer, 0x0806, 0);
	t_arp(in + n, 1, &t_mac_peer, t_ip4_peer, &zero, t_ip4_us);
	t_rx(in, sizeof(in));           /* padded to the Ethernet minimum */
	t_poll();

	n = t_eth(want, &t_mac_peer, &t_env.ifc.mac, 0x0806, 0);
	t_arp(want + n, 2, &t_env.ifc.mac, t_ip4_us, &t_mac_peer, t_ip4_peer);
	t_expect_frame(want, sizeof(want), 1);
	assert_int_equal(t_cnt(DP_CNT_ARP_REQ), 1);
	assert_int_equal(t_cnt(DP_CNT_RX), 1);
	assert_int_equal(t_cnt(DP_CNT_TX), 1);
	t_end();
}

static void
test_dp_worker_arp_request_other_ip_dropped(void **state)
{
	const struct rte_ether_addr zero = { .addr_bytes = { 0 } };
	const uint8_t other[4] = { 192, 0, 2, 99 };
	uint8_t in[60] = { 0 };
	size_t n;

	(void)state;
	t_begin();
	n = t_eth(in, &t_bcast, &t_mac_peer, 0x0806, 0);
	t_arp(in + n, 1, &t_mac_peer, t_ip4_peer, &zero, other);
	t_rx(in, sizeof(in));
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_ARP_OTHER), 1);
	assert_int_equal(t_cnt(DP_CNT_DROP), 1);
	t_end();
}

/* An unsolicited ARP reply goes to the service, which ignores it. */
static void
test_dp_worker_arp_reply_unknown_ignored(void **state)
{
	uint8_t in[60] = { 0 };
	size_t n;

	(void)state;
	t_begin();
	n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x0806, 0);
	t_arp(in + n, 2, &t_mac_peer, t_ip4_peer, &t_env.ifc.mac, t_ip4_us);
	t_rx(in, sizeof(in));
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_ARP_REPLY_IN), 1);
	assert_int_equal(dp_service_poll(&t_env.svc), 1);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_LEARNED], 0);
	t_end();
}

static size_t
t_echo4(uint8_t *p, uint16_t vlan, bool reply, const struct rte_ether_addr *dst,
	const struct rte_ether_addr *src, const uint8_t *ipsrc,
	const uint8_t *ipdst)
{
	static const char data[] = "0123456789abcdef";
	uint16_t ck;
	uint8_t *ic;
	size_t n;

	n = t_eth(p, dst, src, 0x0800, vlan);
	n += t_ip4(p + n, ipsrc, ipdst, 1, 8 + 16, 0x4242, 0);
	ic = p + n;
	ic[0] = reply ? 0 : 8;
	ic[1] = 0;
	ic[2] = 0;
	ic[3] = 0;
	ic[4] = 0x12;
	ic[5] = 0x34;
	ic[6] = 0;
	ic[7] = 1;
	memcpy(ic + 8, data, 16);
	ck = t_cksum(ic, 24, 0);        /* RFC 792: no pseudo-header */
	ic[2] = (uint8_t)(ck >> 8);
	ic[3] = (uint8_t)ck;
	return n + 24;
}

static void
test_dp_worker_icmp_echo_answered(void **state)
{
	uint8_t in[128], want[128];
	size_t n, w;

	(void)state;
	t_begin();
	n = t_echo4(in, 0, false, &t_env.ifc.mac, &t_mac_peer, t_ip4_peer,
		    t_ip4_us);
	t_rx(in, n);
	t_poll();
	w = t_echo4(want, 0, true, &t_mac_peer, &t_env.ifc.mac, t_ip4_us,
		    t_ip4_peer);
	t_expect_frame(want, w, 1);
	assert_int_equal(t_cnt(DP_CNT_ICMP_ECHO), 1);
	t_end();
}

static void
test_dp_worker_vlan_echo_answered(void **state)
{
	uint8_t in[128], want[128];
	size_t n, w;

	(void)state;
	t_begin();
	t_env.conf.vlan = 100;
	n = t_echo4(in, 100, false, &t_env.ifc.mac, &t_mac_peer, t_ip4_peer,
		    t_ip4_us);
	t_rx(in, n);
	t_poll();
	w = t_echo4(want, 100, true, &t_mac_peer, &t_env.ifc.mac, t_ip4_us,
		    t_ip4_peer);
	t_expect_frame(want, w, 1);
	assert_int_equal(t_cnt(DP_CNT_ICMP_ECHO), 1);

	/* Untagged, or another VLAN: not ours. */
	n = t_echo4(in, 0, false, &t_env.ifc.mac, &t_mac_peer, t_ip4_peer,
		    t_ip4_us);
	t_rx(in, n);
	n = t_echo4(in, 200, false, &t_env.ifc.mac, &t_mac_peer, t_ip4_peer,
		    t_ip4_us);
	t_rx(in, n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_VLAN_MISMATCH), 2);
	t_env.conf.vlan = 0;
	t_end();
}

static size_t
t_echo6(uint8_t *p, bool reply, const struct rte_ether_addr *dst,
	const struct rte_ether_addr *src, const uint8_t *ipsrc,
	const uint8_t *ipdst)
{
	uint8_t *ip, *ic;
	size_t n;

	n = t_eth(p, dst, src, 0x86dd, 0);
	ip = p + n;
	n += t_ip6(ip, ipsrc, ipdst, 58, 8 + 12, 64);
	ic = p + n;
	ic[0] = reply ? 129 : 128;
	ic[1] = 0;
	ic[4] = 0xab;
	ic[5] = 0xcd;
	ic[6] = 0;
	ic[7] = 7;
	memcpy(ic + 8, "hello, world", 12);
	t_icmp6_cksum(ip, ic, 20);
	return n + 20;
}

static void
test_dp_worker_icmp6_echo_answered(void **state)
{
	uint8_t in[128], want[128];
	size_t n, w;

	(void)state;
	t_begin();
	n = t_echo6(in, false, &t_env.ifc.mac, &t_mac_peer, t_ip6_peer,
		    t_ip6_us);
	t_rx(in, n);
	t_poll();
	w = t_echo6(want, true, &t_mac_peer, &t_env.ifc.mac, t_ip6_us,
		    t_ip6_peer);
	t_expect_frame(want, w, 1);
	assert_int_equal(t_cnt(DP_CNT_ICMP6_ECHO), 1);
	t_end();
}

static void
test_dp_worker_nd_ns_answered(void **state)
{
	const struct rte_ether_addr sn_mac = {
		.addr_bytes = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x01 } };
	uint8_t sn_ip[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff,
		[15] = 0x01 };
	uint8_t in[128], want[128];
	size_t n, w;

	(void)state;
	t_begin();
	n = t_nd_frame(in, &sn_mac, &t_mac_peer, t_ip6_peer, sn_ip, 135, 0,
		       t_ip6_us, &t_mac_peer, 1);
	t_rx(in, n);
	t_poll();

	/* solicited, override */
	w = t_nd_frame(want, &t_mac_peer, &t_env.ifc.mac, t_ip6_us, t_ip6_peer,
		       136, 0x60, t_ip6_us, &t_env.ifc.mac, 1);
	t_expect_frame(want, w, 1);
	assert_int_equal(t_cnt(DP_CNT_ND_NS), 1);

	/* RFC 4861 §7.1.1: a hop limit other than 255 is not from on-link. */
	in[14 + 7] = 254;
	t_rx(in, n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_ND_OTHER), 1);
	t_end();
}

static size_t
t_udp4_frame(uint8_t *p, uint16_t dport, const void *pl, uint16_t len)
{
	size_t n = t_eth(p, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
	uint8_t *ip = p + n;

	n += t_ip4(ip, t_ip4_peer, t_ip4_us, 17, (uint16_t)(8 + len), 1, 0);
	return n + t_udp(p + n, ip, 5062, dport, pl, len);
}

static size_t
t_udp6_frame(uint8_t *p, uint16_t dport, const void *pl, uint16_t len)
{
	size_t n = t_eth(p, &t_env.ifc.mac, &t_mac_peer, 0x86dd, 0);
	uint8_t *ip = p + n;

	n += t_ip6(ip, t_ip6_peer, t_ip6_us, 17, (uint16_t)(8 + len), 64);
	return n + t_udp(p + n, ip, 5062, dport, pl, len);
}

/*
 * A response from outside: the redirect-mode SIP stage drops it (counted
 * as SIP_RESP_DROP), so these L2/L3 tests see DROP without a reply.
 * tests/dataplane/test_dp_sip.c covers what the SIP stage answers.
 */
static const char t_options[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK-1\r\n"
	"To: <sip:192.0.2.1>;tag=2\r\n"
	"From: <sip:probe@192.0.2.2>;tag=1\r\nCall-ID: 1@192.0.2.2\r\n"
	"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

static void
test_dp_worker_udp_to_sip_port_delivered(void **state)
{
	uint8_t in[512];
	size_t n;

	(void)state;
	t_begin();
	n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
	t_rx(in, n);
	n = t_udp6_frame(in, 5060, t_options, sizeof(t_options) - 1);
	t_rx(in, n);
	n = t_udp4_frame(in, 5070, t_options, sizeof(t_options) - 1);
	t_rx(in, n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 2);
	assert_int_equal(t_cnt(DP_CNT_UDP_NOT_SIP), 1);
	assert_int_equal(t_cnt(DP_CNT_RX), 3);
	assert_int_equal(t_cnt(DP_CNT_DROP), 3);

	/* A second SIP port. */
	t_env.conf.sip_port[1] = 5070;
	t_env.conf.nsip_port = 2;
	n = t_udp4_frame(in, 5070, t_options, sizeof(t_options) - 1);
	t_rx(in, n);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 3);
	t_end();
}

static void
test_dp_worker_bad_cksum_counted(void **state)
{
	uint8_t in[512];
	size_t n;

	(void)state;
	t_begin();
	n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[14 + 10] ^= 0x01;            /* IPv4 header checksum */
	t_rx(in, n);
	n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[14 + 20 + 6] ^= 0x01;        /* UDP checksum */
	t_rx(in, n);
	n = t_udp6_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[n - 1] ^= 0x01;              /* payload under the UDP checksum */
	t_rx(in, n);
	n = t_echo4(in, 0, false, &t_env.ifc.mac, &t_mac_peer, t_ip4_peer,
		    t_ip4_us);
	in[n - 1] ^= 0x01;              /* ICMP data */
	t_rx(in, n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_BAD_CKSUM), 4);
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 0);
	assert_int_equal(t_cnt(DP_CNT_DROP), 4);
	t_end();
}

static void
test_dp_worker_not_ip_dropped(void **state)
{
	const struct rte_ether_addr other = {
		.addr_bytes = { 0x02, 0, 0, 0, 0, 0x99 } };
	const uint8_t other_ip[4] = { 192, 0, 2, 50 };
	uint8_t in[512] = { 0 };
	size_t n;

	(void)state;
	t_begin();
	n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x88cc, 0);  /* LLDP */
	t_rx(in, 60);
	n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
	memcpy(in, &other, 6);          /* another host's MAC */
	t_rx(in, n);
	n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
	n += t_ip4(in + n, t_ip4_peer, other_ip, 17, 8, 1, 0);
	t_rx(in, n + 8);                /* another host's IP */
	t_rx(in, 10);                   /* runt */
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_NOT_IP), 1);
	assert_int_equal(t_cnt(DP_CNT_NOT_FOR_US), 2);
	assert_int_equal(t_cnt(DP_CNT_BAD_L2), 1);
	assert_int_equal(t_cnt(DP_CNT_DROP), 4);
	t_end();
}

/* What the port's RX checksum offload says is believed. */
static void
test_dp_worker_rx_cksum_flags_trusted(void **state)
{
	struct rte_mbuf *m = NULL;
	uint8_t in[512];
	size_t n;

	(void)state;
	t_begin();
	/* Each frame is flagged and handled alone: the ring is a FIFO, so
	 * a second frame queued first would be the one dequeued. */
	/* Correct frame, but the port says the IP checksum is bad. */
	n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
	t_rx(in, n);
	assert_int_equal(rte_ring_dequeue(t_env.rx, (void **)&m), 0);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	assert_int_equal(rte_ring_enqueue(t_env.rx, m), 0);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_BAD_CKSUM), 1);
	/* Wrong UDP checksum, but the port says it is good. */
	n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[14 + 20 + 6] ^= 0x01;
	t_rx(in, n);
	assert_int_equal(rte_ring_dequeue(t_env.rx, (void **)&m), 0);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	assert_int_equal(rte_ring_enqueue(t_env.rx, m), 0);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 1);
	/* NONE (virtio: left to an offload, data intact) is good too. */
	n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[14 + 20 + 6] ^= 0x01;
	t_rx(in, n);
	assert_int_equal(rte_ring_dequeue(t_env.rx, (void **)&m), 0);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_NONE;
	assert_int_equal(rte_ring_enqueue(t_env.rx, m), 0);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_BAD_CKSUM), 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 2);
	t_end();
}

/* RFC 1122 §3.2.1.3, RFC 4291 §2.7, RFC 4942 §2.1.4: a multicast,
 * broadcast (limited, or of our prefix: 192.0.2.0/24), "this network",
 * loopback, IPv4-mapped or own source names no host to answer; such
 * datagrams are dropped as bad IP. */
static void
test_dp_worker_bogus_source_dropped(void **state)
{
	static const uint8_t srcs[][4] = {
		{ 224, 0, 0, 5 }, { 255, 255, 255, 255 }, { 0, 0, 0, 0 },
		{ 127, 0, 0, 1 }, { 192, 0, 2, 1 }, { 0, 1, 2, 3 },
		{ 192, 0, 2, 255 }, { 192, 0, 2, 0 },
	};
	static const uint8_t srcs6[][16] = {
		{ 0xff, 0x02, [15] = 1 },
		{ [10] = 0xff, [11] = 0xff, 192, 0, 2, 2 },
		{ [15] = 1 },
		{ 0 },
		{ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	};
	struct rte_mbuf *m = NULL;
	uint8_t in[512];
	size_t n, i;

	(void)state;
	t_begin();
	for (i = 0; i < SIPEDGE_ARRAY_SIZE(srcs); i++) {
		n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
		memcpy(in + 14 + 12, srcs[i], 4);
		t_rx(in, n);
		assert_int_equal(rte_ring_dequeue(t_env.rx, (void **)&m), 0);
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD |
			       RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		assert_int_equal(rte_ring_enqueue(t_env.rx, m), 0);
		t_poll();       /* one frame in the ring at a time */
	}
	for (i = 0; i < SIPEDGE_ARRAY_SIZE(srcs6); i++) {
		n = t_udp6_frame(in, 5060, t_options, sizeof(t_options) - 1);
		memcpy(in + 14 + 8, srcs6[i], 16);
		t_rx(in, n);
		assert_int_equal(rte_ring_dequeue(t_env.rx, (void **)&m), 0);
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		assert_int_equal(rte_ring_enqueue(t_env.rx, m), 0);
		t_poll();
	}
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_BAD_IP),
			 SIPEDGE_ARRAY_SIZE(srcs) + SIPEDGE_ARRAY_SIZE(srcs6));
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 0);
	t_end();
}

/*
 * IPv6 UDP without a checksum (0) is dropped even when the NIC vouches
 * for it (RFC 8200 §8.1); a unicast datagram in a multicast frame is
 * not for us (RFC 1122 §3.3.6), an echo request neither.
 */
static void
test_dp_worker_ip6_zero_cksum_and_mcast_frame(void **state)
{
	struct rte_mbuf *m = NULL;
	uint8_t in[512];
	size_t n;

	(void)state;
	t_begin();
	n = t_udp6_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[14 + 40 + 6] = 0;
	in[14 + 40 + 7] = 0;
	t_rx(in, n);
	assert_int_equal(rte_ring_dequeue(t_env.rx, (void **)&m), 0);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	assert_int_equal(rte_ring_enqueue(t_env.rx, m), 0);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_BAD_CKSUM), 1);

	n = t_udp6_frame(in, 5060, t_options, sizeof(t_options) - 1);
	memcpy(in, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	t_rx(in, n);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_NOT_FOR_US), 1);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 0);

	/* nor is an echo request: only neighbour discovery is */
	n = t_echo6(in, false, &(const struct rte_ether_addr){
			{ 0x33, 0x33, 0, 0, 0, 1 } }, &t_mac_peer, t_ip6_peer,
		    t_ip6_us);
	t_rx(in, n);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_NOT_FOR_US), 2);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_ICMP6_ECHO), 0);
	t_end();
}

/*
 * Frames nothing may be answered to: a group (broadcast), zero or our own
 * source MAC (an answer would flood or go nowhere), UDP from port 0 (no
 * reply port, RFC 768), an ICMPv6 echo from :: (no host).
 */
static void
test_dp_worker_unanswerable_sources_dropped(void **state)
{
	static const struct rte_ether_addr macs[] = {
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } },
		{ { 0 } },
	};
	struct rte_mbuf *m = NULL;
	uint8_t in[512];
	size_t n, i;

	(void)state;
	t_begin();
	for (i = 0; i < SIPEDGE_ARRAY_SIZE(macs) + 1; i++) {
		n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
		memcpy(in + 6, i < SIPEDGE_ARRAY_SIZE(macs) ? &macs[i] :
			       &t_env.ifc.mac, 6);
		t_rx(in, n);
	}
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_BAD_L2), SIPEDGE_ARRAY_SIZE(macs) + 1);

	/* source port 0, checksums vouched for by the "NIC" */
	n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[14 + 20] = 0;
	in[14 + 20 + 1] = 0;
	t_rx(in, n);
	assert_int_equal(rte_ring_dequeue(t_env.rx, (void **)&m), 0);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	assert_int_equal(rte_ring_enqueue(t_env.rx, m), 0);
	t_poll();
	n = t_udp6_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[14 + 40] = 0;
	in[14 + 40 + 1] = 0;
	t_rx(in, n);
	assert_int_equal(rte_ring_dequeue(t_env.rx, (void **)&m), 0);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	assert_int_equal(rte_ring_enqueue(t_env.rx, m), 0);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_BAD_IP), 2);

	{
		static const uint8_t unspec[16] = { 0 };

		n = t_echo6(in, false, &t_env.ifc.mac, &t_mac_peer, unspec,
			    t_ip6_us);
		t_rx(in, n);
		t_poll();
	}
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_ICMP6_ECHO), 0);
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 0);
	t_end();
}

/* RFC 768: zero means no checksum over IPv4; RFC 8200 §8.1: not over v6. */
static void
test_dp_worker_udp_zero_cksum(void **state)
{
	uint8_t in[512];
	size_t n;

	(void)state;
	t_begin();
	n = t_udp4_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[14 + 20 + 6] = 0;
	in[14 + 20 + 7] = 0;
	t_rx(in, n);
	n = t_udp6_frame(in, 5060, t_options, sizeof(t_options) - 1);
	in[14 + 40 + 6] = 0;
	in[14 + 40 + 7] = 0;
	t_rx(in, n);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 1);
	assert_int_equal(t_cnt(DP_CNT_BAD_CKSUM), 1);
	t_end();
}

static void
test_dp_worker_ip_options_dropped(void **state)
{
	uint8_t in[128] = { 0 }, *ip;
	size_t n;

	(void)state;
	t_begin();
	n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
	ip = in + n;
	t_ip4(ip, t_ip4_peer, t_ip4_us, 17, 12, 1, 0);
	ip[0] = 0x46;                   /* 4 bytes of options */
	t_rx(in, n + 32);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_IP_OPTIONS), 1);
	t_end();
}

/* RFC 4861 §7.2.4: a DAD probe for our address is answered to all-nodes. */
static void
test_dp_worker_nd_dad_defended(void **state)
{
	const struct rte_ether_addr sn_mac = {
		.addr_bytes = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x01 } };
	const struct rte_ether_addr all_mac = {
		.addr_bytes = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };
	const uint8_t unspec[16] = { 0 };
	const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	const uint8_t sn_ip[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff,
		[15] = 0x01 };
	uint8_t in[128], want[128];
	size_t w;

	(void)state;
	t_begin();
	t_rx(in, t_nd_frame(in, &sn_mac, &t_mac_peer, unspec, sn_ip, 135, 0,
			    t_ip6_us, NULL, 0));
	t_poll();

	/* override, not solicited */
	w = t_nd_frame(want, &all_mac, &t_env.ifc.mac, t_ip6_us, all_nodes,
		       136, 0x20, t_ip6_us, &t_env.ifc.mac, 1);
	t_expect_frame(want, w, 1);
	t_end();
}

/* A 2000-byte SIP datagram in two IPv4 fragments, last one first. */
static void
test_dp_worker_frag4_reassembled(void **state)
{
	static uint8_t pl[2000], dgram[2008], in[1600];
	uint8_t ip[20];
	size_t n, i;

	(void)state;
	t_begin();
	for (i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)('a' + i % 26);
	memcpy(pl, t_options, sizeof(t_options) - 1);
	t_ip4(ip, t_ip4_peer, t_ip4_us, 17, sizeof(dgram), 77, 0);
	t_udp(dgram, ip, 5062, 5060, pl, sizeof(pl));

	/* Second fragment: bytes 1480.. of the UDP datagram, offset 185. */
	n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
	n += t_ip4(in + n, t_ip4_peer, t_ip4_us, 17, sizeof(dgram) - 1480, 77,
		   1480 / 8);
	memcpy(in + n, dgram + 1480, sizeof(dgram) - 1480);
	t_rx(in, n + sizeof(dgram) - 1480);
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_FRAG_IN), 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 0);

	n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
	n += t_ip4(in + n, t_ip4_peer, t_ip4_us, 17, 1480, 77, 0x2000);
	memcpy(in + n, dgram, 1480);
	t_rx(in, n + 1480);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_FRAG_IN), 2);
	assert_int_equal(t_cnt(DP_CNT_FRAG_REASSEMBLED), 1);
	assert_int_equal(t_cnt(DP_CNT_FRAG_DROP), 0);
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 1);
	t_end();
}

/* A datagram whose other fragments never come is freed after the TTL. */
static void
test_dp_worker_frag_timeout_frees(void **state)
{
	static uint8_t in[1600];
	uint8_t pl[1480] = { 0 };
	size_t n;

	(void)state;
	t_begin();
	n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
	n += t_ip4(in + n, t_ip4_peer, t_ip4_us, 17, sizeof(pl), 99, 0x2000);
	memcpy(in + n, pl, sizeof(pl));
	t_rx(in, n + sizeof(pl));
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_FRAG_IN), 1);
	assert_int_equal(rte_mempool_in_use_count(t_env.ifc.pool),
			 t_env.inuse0 + 1);
	rte_delay_us_sleep(2100 * 1000);        /* DP_FRAG_TTL_MS + margin */
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_FRAG_DROP), 1);
	t_end();
}

/*
 * First fragments that never complete, each of another datagram: the
 * reassembly table holds at most an eighth of the pool (the NIC refills
 * from it), the rest is dropped and counted; all freed after the TTL.
 */
static void
test_dp_worker_frag_flood_bounded(void **state)
{
	static uint8_t in[1600];
	uint8_t pl[1480] = { 0 };
	unsigned int held, budget = t_env.ifc.pool->size / 8;
	size_t n;
	int i;

	(void)state;
	t_begin();
	for (i = 0; i < 1200; i++) {
		n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
		n += t_ip4(in + n, t_ip4_peer, t_ip4_us, 17, sizeof(pl),
			   (uint16_t)(1000 + i), 0x2000);
		memcpy(in + n, pl, sizeof(pl));
		t_rx(in, n + sizeof(pl));
		if (i % 16 == 15)
			t_poll();
	}
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_FRAG_IN), 1200);
	held = rte_mempool_in_use_count(t_env.ifc.pool) - t_env.inuse0;
	if (held > budget)
		fail_msg("%u mbufs held in reassembly, budget %u", held, budget);
	assert_true(t_cnt(DP_CNT_FRAG_DROP) >= 1200 - budget);
	rte_delay_us_sleep(2100 * 1000);        /* DP_FRAG_TTL_MS + margin */
	t_poll();
	t_end();
}

/* The same over IPv6 with a fragment header (RFC 8200 §4.5). */
static void
test_dp_worker_frag6_reassembled(void **state)
{
	static uint8_t pl[2000], dgram[2008], in[1600];
	uint8_t ip[40], *fh;
	size_t n, i;

	(void)state;
	t_begin();
	for (i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)('A' + i % 26);
	t_ip6(ip, t_ip6_peer, t_ip6_us, 17, sizeof(dgram), 64);
	t_udp(dgram, ip, 5062, 5060, pl, sizeof(pl));

	for (i = 0; i < 2; i++) {
		size_t off = i == 0 ? 0 : 1448;
		size_t len = i == 0 ? 1448 : sizeof(dgram) - 1448;

		n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x86dd, 0);
		n += t_ip6(in + n, t_ip6_peer, t_ip6_us, 44,
			   (uint16_t)(8 + len), 64);
		fh = in + n;
		fh[0] = 17;
		fh[1] = 0;
		fh[2] = (uint8_t)((off | (i == 0 ? 1 : 0)) >> 8);
		fh[3] = (uint8_t)(off | (i == 0 ? 1 : 0));
		fh[4] = 0;
		fh[5] = 0;
		fh[6] = 0x12;
		fh[7] = 0x34;
		memcpy(fh + 8, dgram + off, len);
		t_rx(in, n + 8 + len);
	}
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_FRAG_IN), 2);
	assert_int_equal(t_cnt(DP_CNT_FRAG_REASSEMBLED), 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 1);
	t_end();
}

/*
 * An atomic fragment (offset 0, no more fragments: RFC 6946) is the whole
 * datagram: delivered as it is, never held for reassembly.
 */
static void
test_dp_worker_atomic_frag6_delivered(void **state)
{
	static uint8_t pl[300], dgram[308], in[600];
	uint8_t ip[40], *fh;
	size_t n, i;

	(void)state;
	t_begin();
	for (i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)('a' + i % 26);
	t_ip6(ip, t_ip6_peer, t_ip6_us, 17, sizeof(dgram), 64);
	t_udp(dgram, ip, 5062, 5060, pl, sizeof(pl));
	n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x86dd, 0);
	n += t_ip6(in + n, t_ip6_peer, t_ip6_us, 44,
		   (uint16_t)(8 + sizeof(dgram)), 64);
	fh = in + n;
	memset(fh, 0, 8);
	fh[0] = 17;
	fh[7] = 0x77;
	memcpy(fh + 8, dgram, sizeof(dgram));
	t_rx(in, n + 8 + sizeof(dgram));
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RX), 1);
	assert_int_equal(t_cnt(DP_CNT_FRAG_REASSEMBLED), 0);
	t_end();
}

static int
setup_env(void **state)
{
	(void)state;
	return t_env_setup("dp_test_worker", "0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_worker_arp_request_answered),
		cmocka_unit_test(test_dp_worker_arp_request_other_ip_dropped),
		cmocka_unit_test(test_dp_worker_arp_reply_unknown_ignored),
		cmocka_unit_test(test_dp_worker_icmp_echo_answered),
		cmocka_unit_test(test_dp_worker_vlan_echo_answered),
		cmocka_unit_test(test_dp_worker_icmp6_echo_answered),
		cmocka_unit_test(test_dp_worker_nd_ns_answered),
		cmocka_unit_test(test_dp_worker_udp_to_sip_port_delivered),
		cmocka_unit_test(test_dp_worker_bad_cksum_counted),
		cmocka_unit_test(test_dp_worker_not_ip_dropped),
		cmocka_unit_test(test_dp_worker_rx_cksum_flags_trusted),
		cmocka_unit_test(test_dp_worker_bogus_source_dropped),
		cmocka_unit_test(test_dp_worker_ip6_zero_cksum_and_mcast_frame),
		cmocka_unit_test(test_dp_worker_udp_zero_cksum),
		cmocka_unit_test(test_dp_worker_ip_options_dropped),
		cmocka_unit_test(test_dp_worker_nd_dad_defended),
		cmocka_unit_test(test_dp_worker_frag4_reassembled),
		cmocka_unit_test(test_dp_worker_frag6_reassembled),
		cmocka_unit_test(test_dp_worker_atomic_frag6_delivered),
		cmocka_unit_test(test_dp_worker_frag_timeout_frees),
		cmocka_unit_test(test_dp_worker_frag_flood_bounded),
		cmocka_unit_test(test_dp_worker_unanswerable_sources_dropped),
	};

	return cmocka_run_group_tests_name("dp_worker", tests,
					   setup_env, t_env_group_teardown);
}
