/* SPDX-License-Identifier: MIT */
/*
 * test_dp_tx.c - the transmit side the SIP stage uses: dp_udp_reply() and
 * dp_udp_send() over IPv4 and IPv6, VLAN tagging, fragmentation of outputs
 * larger than the MTU, next-hop resolution through the service thread
 * (ARP and ND, on-link and via the gateway), and the datagram descriptor
 * handed to the SIP stage, including after reassembly.
 *
 * This binary provides its own dp_sip_burst() in place of the placeholder
 * in dataplane/dp_sip.c, to see what the SIP stage receives and to answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dp_classify.h"
#include "dp_test.h"

enum t_sip_mode {
	T_SIP_DROP,
	T_SIP_ECHO,             /* reply with the same payload, same mbuf */
	T_SIP_BIG,              /* reply with t_big_len bytes, fresh mbuf */
};

static enum t_sip_mode t_sip_mode;
static uint16_t t_big_len;
static struct dp_udp_meta t_seen[DP_BURST];
static uint8_t t_seen_payload[4096];
static unsigned int t_nseen;
static const struct rte_mempool *t_seen_pool;

static uint8_t
t_pattern(size_t i)
{
	return (uint8_t)('0' + i % 75);
}

uint16_t
dp_sip_burst(struct dp_lcore *lc, struct rte_mbuf **pkts,
	     const struct dp_udp_meta *meta, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *r;
		char *p;
		size_t k;

		assert_true(rte_pktmbuf_is_contiguous(m));
		t_seen[t_nseen++ % DP_BURST] = meta[i];
		t_seen_pool = m->pool;
		if (meta[i].payload_len <= sizeof(t_seen_payload))
			memcpy(t_seen_payload,
			       rte_pktmbuf_mtod_offset(m, void *,
						       meta[i].payload_off),
			       meta[i].payload_len);
		switch (t_sip_mode) {
		case T_SIP_ECHO:
			rte_pktmbuf_adj(m, meta[i].payload_off);
			rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) -
						       meta[i].payload_len));
			assert_int_equal(dp_udp_reply(lc, m, &meta[i],
						      meta[i].sport), 0);
			break;
		case T_SIP_BIG:
			rte_pktmbuf_free(m);
			r = dp_pkt_alloc(lc, t_big_len);
			assert_non_null(r);
			p = rte_pktmbuf_append(r, t_big_len);
			assert_non_null(p);
			for (k = 0; k < t_big_len; k++)
				p[k] = (char)t_pattern(k);
			assert_int_equal(dp_udp_reply(lc, r, &meta[i],
						      meta[i].sport), 0);
			break;
		default:
			rte_pktmbuf_free(m);
			break;
		}
	}
	return n;
}

static void
t_begin_tx(enum t_sip_mode mode)
{
	t_begin();
	t_sip_mode = mode;
	t_nseen = 0;
	memset(t_seen, 0, sizeof(t_seen));
}

static const char t_msg[] =
	"OPTIONS sip:192.0.2.1 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK-1\r\n"
	"Content-Length: 0\r\n\r\n";

static size_t
t_udp_frame(uint8_t *p, bool v6, uint16_t vlan, bool out, uint16_t id,
	    const struct rte_ether_addr *peer_mac, const uint8_t *peer_ip,
	    uint16_t peer_port, uint16_t our_port, const void *pl,
	    uint16_t len)
{
	const struct rte_ether_addr *dmac = out ? peer_mac : &t_env.ifc.mac;
	const struct rte_ether_addr *smac = out ? &t_env.ifc.mac : peer_mac;
	size_t n = t_eth(p, dmac, smac, v6 ? 0x86dd : 0x0800, vlan);
	uint8_t *ip = p + n;

	if (v6)
		n += t_ip6(ip, out ? t_ip6_us : peer_ip, out ? peer_ip : t_ip6_us,
			   17, (uint16_t)(8 + len), 64);
	else
		n += t_ip4(ip, out ? t_ip4_us : peer_ip, out ? peer_ip : t_ip4_us,
			   17, (uint16_t)(8 + len), out ? id : 9, 0);
	return n + t_udp(p + n, ip, out ? our_port : peer_port,
			 out ? peer_port : our_port, pl, len);
}

static void
test_dp_tx_reply_udp4_bytes(void **state)
{
	uint8_t in[512], want[512];
	uint16_t id;
	size_t n, w;

	(void)state;
	t_begin_tx(T_SIP_ECHO);
	id = dp_ip4_id(t_env.lc, t_env.lc->ip4_seq);
	n = t_udp_frame(in, false, 0, false, 0, &t_mac_peer, t_ip4_peer, 5062,
			5060, t_msg, sizeof(t_msg) - 1);
	t_rx(in, n);
	t_poll();
	w = t_udp_frame(want, false, 0, true, id, &t_mac_peer, t_ip4_peer, 5062,
			5060, t_msg, sizeof(t_msg) - 1);
	t_expect_frame(want, w, 0);

	assert_int_equal(t_nseen, 1);
	assert_int_equal(t_seen[0].src.family, DP_AF_V4);
	assert_memory_equal(&t_seen[0].src.v4, t_ip4_peer, 4);
	assert_memory_equal(&t_seen[0].dst.v4, t_ip4_us, 4);
	assert_int_equal(t_seen[0].sport, 5062);
	assert_int_equal(t_seen[0].dport, 5060);
	assert_int_equal(t_seen[0].vlan, 0);
	assert_int_equal(t_seen[0].payload_off, 14 + 20 + 8);
	assert_int_equal(t_seen[0].payload_len, sizeof(t_msg) - 1);
	assert_int_equal(t_seen[0].reassembled, 0);
	assert_memory_equal(&t_seen[0].src_mac, &t_mac_peer, 6);
	assert_memory_equal(t_seen_payload, t_msg, sizeof(t_msg) - 1);
	assert_int_equal(t_cnt(DP_CNT_UDP_TX), 1);
	t_end();
}

/*
 * A worker's IPv4 IDs: no repeat within 65,536 datagrams, and not a
 * counter an observer could read our traffic from (consecutive datagrams
 * one apart about once in 65,536 for a random permutation).
 */
static void
test_dp_tx_ip4_ids_unique_and_unpredictable(void **state)
{
	static uint8_t seen[65536];
	uint32_t s, steps = 0;
	uint16_t id, prev = 0;

	(void)state;
	memset(seen, 0, sizeof(seen));
	for (s = 0; s < 65536; s++) {
		id = dp_ip4_id(t_env.lc, (uint16_t)s);
		assert_int_equal(seen[id], 0);
		seen[id] = 1;
		if (s != 0 && id == (uint16_t)(prev + 1))
			steps++;
		prev = id;
	}
	assert_true(steps < 16);
}

static void
test_dp_tx_reply_udp6_bytes(void **state)
{
	uint8_t in[512], want[512];
	uint16_t id;
	size_t n, w;

	(void)state;
	t_begin_tx(T_SIP_ECHO);
	id = dp_ip4_id(t_env.lc, t_env.lc->ip4_seq);
	n = t_udp_frame(in, true, 0, false, 0, &t_mac_peer, t_ip6_peer, 5062,
			5060, t_msg, sizeof(t_msg) - 1);
	t_rx(in, n);
	t_poll();
	w = t_udp_frame(want, true, 0, true, id, &t_mac_peer, t_ip6_peer, 5062,
			5060, t_msg, sizeof(t_msg) - 1);
	t_expect_frame(want, w, 0);
	assert_int_equal(t_seen[0].src.family, DP_AF_V6);
	assert_memory_equal(t_seen[0].src.v6, t_ip6_peer, 16);
	assert_memory_equal(t_seen[0].dst.v6, t_ip6_us, 16);
	assert_int_equal(t_seen[0].payload_off, 14 + 40 + 8);
	t_end();
}

/* Tag stripped before the SIP stage, put back on the answer. */
static void
test_dp_tx_reply_vlan_tagged(void **state)
{
	uint8_t in[512], want[512];
	uint16_t id;
	size_t n, w;

	(void)state;
	t_begin_tx(T_SIP_ECHO);
	id = dp_ip4_id(t_env.lc, t_env.lc->ip4_seq);
	t_env.conf.vlan = 42;
	n = t_udp_frame(in, false, 42, false, 0, &t_mac_peer, t_ip4_peer, 5062,
			5060, t_msg, sizeof(t_msg) - 1);
	t_rx(in, n);
	t_poll();
	w = t_udp_frame(want, false, 42, true, id, &t_mac_peer, t_ip4_peer, 5062,
			5060, t_msg, sizeof(t_msg) - 1);
	t_expect_frame(want, w, 0);
	assert_int_equal(t_seen[0].vlan, 42);
	assert_int_equal(t_seen[0].payload_off, 14 + 20 + 8);
	t_env.conf.vlan = 0;
	t_end();
}

/*
 * With checksum offload the answer carries the offload flags, header
 * lengths and the pseudo-header sum; finishing the checksums the way a NIC
 * does gives the same bytes as the software path.
 */
static void
test_dp_tx_reply_checksum_offload(void **state)
{
	uint8_t in[512], want[512], got[512];
	struct rte_mbuf *out[4];
	uint16_t id, ck;
	size_t n, w;

	(void)state;
	t_begin_tx(T_SIP_ECHO);
	t_env.ifc.tx_offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
		RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	id = dp_ip4_id(t_env.lc, t_env.lc->ip4_seq);
	n = t_udp_frame(in, false, 0, false, 0, &t_mac_peer, t_ip4_peer, 5062,
			5060, t_msg, sizeof(t_msg) - 1);
	t_rx(in, n);
	t_poll();
	t_env.ifc.tx_offloads = 0;
	assert_int_equal(t_tx(out, 4), 1);
	assert_int_equal(out[0]->ol_flags & (RTE_MBUF_F_TX_IPV4 |
			 RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM),
			 RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
			 RTE_MBUF_F_TX_UDP_CKSUM);
	assert_int_equal(out[0]->l2_len, 14);
	assert_int_equal(out[0]->l3_len, 20);
	w = rte_pktmbuf_pkt_len(out[0]);
	memcpy(got, rte_pktmbuf_mtod(out[0], void *), w);
	rte_pktmbuf_free(out[0]);

	/* What the NIC does: IP header checksum, UDP over the seeded sum. */
	assert_int_equal(got[24] << 8 | got[25], 0);
	ck = t_cksum(got + 14, 20, 0);
	got[24] = (uint8_t)(ck >> 8);
	got[25] = (uint8_t)ck;
	ck = t_cksum(got + 34, w - 34, 0);
	got[40] = (uint8_t)(ck >> 8);
	got[41] = (uint8_t)ck;

	n = t_udp_frame(want, false, 0, true, id, &t_mac_peer, t_ip4_peer,
			5062, 5060, t_msg, sizeof(t_msg) - 1);
	assert_int_equal(w, n);
	assert_memory_equal(got, want, n);
	t_end();
}

/*
 * A 3000-byte answer at MTU 1500: three IPv4 fragments of 1480, 1480 and
 * 48 bytes of UDP datagram; put back together they are the datagram with
 * a checksum over all of it.
 */
static void
test_dp_tx_reply_fragmented_v4(void **state)
{
	static uint8_t dgram[3100], buf[1600];
	struct rte_mbuf *out[8];
	uint8_t in[512], ph[20];
	uint16_t id = 0;
	uint64_t ol;
	size_t n, i, k, got = 0;

	(void)state;
	t_begin_tx(T_SIP_BIG);
	/* A port that sends one segment a packet (no MULTI_SEGS): each
	 * fragment, a header chained to the data, is made one segment. */
	ol = t_env.ifc.tx_offloads;
	t_env.ifc.tx_offloads &= ~RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	t_big_len = 3000;
	n = t_udp_frame(in, false, 0, false, 0, &t_mac_peer, t_ip4_peer, 5062,
			5060, t_msg, sizeof(t_msg) - 1);
	t_rx(in, n);
	t_poll();
	n = t_tx(out, 8);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		uint32_t len = rte_pktmbuf_pkt_len(out[i]);
		const uint8_t *f = rte_pktmbuf_read(out[i], 0, len, buf);
		uint16_t tot = (uint16_t)(f[16] << 8 | f[17]);
		uint16_t fo = (uint16_t)(f[20] << 8 | f[21]);

		assert_int_equal(out[i]->nb_segs, 1);

		assert_memory_equal(f, &t_mac_peer, 6);
		assert_memory_equal(f + 6, &t_env.ifc.mac, 6);
		assert_int_equal(f[12] << 8 | f[13], 0x0800);
		assert_int_equal(f[14], 0x45);
		assert_int_equal(tot, len - 14);
		assert_true(tot <= 1500);
		assert_int_equal(t_cksum(f + 14, 20, 0), 0);
		assert_int_equal(fo & 0x1fff, got / 8);
		assert_int_equal((fo & 0x2000) != 0, i + 1 < n);
		if (i == 0)
			id = (uint16_t)(f[18] << 8 | f[19]);
		assert_int_equal(f[18] << 8 | f[19], id);
		memcpy(dgram + got, f + 34, tot - 20u);
		got += tot - 20u;
	}
	assert_int_equal(got, 3008);
	assert_int_equal(dgram[0] << 8 | dgram[1], 5060);
	assert_int_equal(dgram[2] << 8 | dgram[3], 5062);
	assert_int_equal(dgram[4] << 8 | dgram[5], 3008);
	for (k = 0; k < 3000; k++)
		assert_int_equal(dgram[8 + k], t_pattern(k));
	/* The checksum covers the whole datagram: verify over it. */
	t_ip4(ph, t_ip4_us, t_ip4_peer, 17, 3008, 0, 0);
	{
		uint32_t sum = 17 + 3008;

		for (k = 12; k < 20; k += 2)
			sum += (uint32_t)(ph[k] << 8 | ph[k + 1]);
		assert_int_equal(t_cksum(dgram, 3008, sum), 0);
	}
	rte_pktmbuf_free_bulk(out, (unsigned int)n);
	assert_int_equal(t_cnt(DP_CNT_TX_FRAG), 3);
	t_env.ifc.tx_offloads = ol;
	t_end();
}

static void
test_dp_tx_reply_fragmented_v6(void **state)
{
	static uint8_t dgram[3100], buf[1600];
	struct rte_mbuf *out[8];
	uint8_t in[512];
	uint32_t id6 = 0;
	size_t n, i, k, got = 0;

	(void)state;
	t_begin_tx(T_SIP_BIG);
	t_big_len = 3000;
	n = t_udp_frame(in, true, 0, false, 0, &t_mac_peer, t_ip6_peer, 5062,
			5060, t_msg, sizeof(t_msg) - 1);
	t_rx(in, n);
	t_poll();
	n = t_tx(out, 8);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		uint32_t len = rte_pktmbuf_pkt_len(out[i]);
		const uint8_t *f = rte_pktmbuf_read(out[i], 0, len, buf);
		uint16_t plen = (uint16_t)(f[18] << 8 | f[19]);
		uint16_t fo = (uint16_t)(f[56] << 8 | f[57]);

		assert_int_equal(f[12] << 8 | f[13], 0x86dd);
		assert_int_equal(f[20], 44);            /* fragment header */
		assert_int_equal(plen, len - 14 - 40);
		assert_true(plen + 40u <= 1500);
		assert_int_equal(f[54], 17);
		assert_int_equal(fo & ~7u, got);
		assert_int_equal(fo & 1, i + 1 < n);
		if (i == 0)
			id6 = (uint32_t)f[58] << 24 | (uint32_t)f[59] << 16 |
			      (uint32_t)f[60] << 8 | f[61];
		assert_int_equal((uint32_t)f[58] << 24 | (uint32_t)f[59] << 16 |
				 (uint32_t)f[60] << 8 | f[61], id6);
		memcpy(dgram + got, f + 62, plen - 8u);
		got += plen - 8u;
	}
	assert_int_equal(got, 3008);
	assert_int_equal(dgram[4] << 8 | dgram[5], 3008);
	for (k = 0; k < 3000; k++)
		assert_int_equal(dgram[8 + k], t_pattern(k));
	rte_pktmbuf_free_bulk(out, (unsigned int)n);
	t_end();
}

/*
 * Fragments in (VLAN-tagged, out of order), one contiguous datagram and
 * its descriptor out. @p size decides whether the chain is linearized in
 * place (fits the first buffer) or copied into a jumbo mbuf.
 */
static void
t_reassembled_meta(size_t size, uint16_t vlan, bool jumbo)
{
	static uint8_t pl[4000], dgram[4008], in[1600];
	const size_t dlen = size + 8;
	uint8_t ip[20];
	size_t n, i, nfrag = (dlen + 1479) / 1480;

	t_begin_tx(T_SIP_DROP);
	t_env.conf.vlan = vlan;
	for (i = 0; i < size; i++)
		pl[i] = t_pattern(i);
	t_ip4(ip, t_ip4_peer, t_ip4_us, 17, (uint16_t)dlen, 5, 0);
	t_udp(dgram, ip, 5062, 5060, pl, (uint16_t)size);
	for (i = nfrag; i-- > 0;) {
		size_t off = i * 1480;
		size_t len = i + 1 < nfrag ? 1480 : dlen - off;

		n = t_eth(in, &t_env.ifc.mac, &t_mac_peer, 0x0800, vlan);
		n += t_ip4(in + n, t_ip4_peer, t_ip4_us, 17, (uint16_t)len, 5,
			   (uint16_t)(off / 8 | (i + 1 < nfrag ? 0x2000 : 0)));
		memcpy(in + n, dgram + off, len);
		t_rx(in, n + len);
	}
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_FRAG_IN), nfrag);
	assert_int_equal(t_nseen, 1);
	assert_int_equal(t_seen[0].reassembled, 1);
	assert_int_equal(t_seen[0].vlan, vlan);
	assert_int_equal(t_seen[0].payload_len, size);
	assert_int_equal(t_seen[0].payload_off, 14 + 20 + 8);
	assert_memory_equal(t_seen_payload, pl, size);
	assert_ptr_equal(t_seen_pool, jumbo ? t_env.ifc.jumbo : t_env.ifc.pool);
	t_env.conf.vlan = 0;
	t_end();
}

static void
test_dp_tx_reassembled_meta(void **state)
{
	(void)state;
	t_reassembled_meta(1800, 0, false);
}

static void
test_dp_tx_reassembled_large_vlan_meta(void **state)
{
	(void)state;
	t_reassembled_meta(4000, 7, true);
}

static void
t_send(const struct dp_ip *dst, uint16_t dport, const char *pl)
{
	struct rte_mbuf *m = dp_pkt_alloc(t_env.lc, 64);
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)strlen(pl));
	memcpy(p, pl, strlen(pl));
	assert_int_equal(dp_udp_send(t_env.lc, m, NULL, 5060, dst, dport), 0);
}

/*
 * An output to an unresolved neighbour is held by the service, which
 * sends an ARP request through the worker; the reply releases it. The
 * next output goes straight out.
 */
static void
t_arp_resolution(const uint8_t *dst_ip, const uint8_t *nh_ip)
{
	const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	const struct rte_ether_addr zero = { .addr_bytes = { 0 } };
	const struct rte_ether_addr nh_mac = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x77, nh_ip[3] } };
	uint8_t want[256], in[64] = { 0 };
	struct dp_ip dst = { .family = DP_AF_V4 };
	uint16_t id;
	size_t w;

	memcpy(&dst.v4, dst_ip, 4);
	id = dp_ip4_id(t_env.lc, t_env.lc->ip4_seq);
	t_send(&dst, 5080, "hello");
	assert_int_equal(t_cnt(DP_CNT_NEIGH_MISS), 1);
	t_poll();
	t_expect_nothing();

	assert_int_equal(dp_service_poll(&t_env.svc), 1);
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD], 1);
	assert_int_equal(t_env.svc.cnt[DP_SVC_ARP_REQ_SENT], 1);
	t_poll();
	w = t_arp_frame(want, 1, &bcast, &t_env.ifc.mac, t_ip4_us, &zero,
			nh_ip);
	t_expect_frame(want, w, 0);

	t_arp_frame(in, 2, &t_env.ifc.mac, &nh_mac, nh_ip, &t_env.ifc.mac,
		    t_ip4_us);
	t_rx(in, 60);
	t_poll();
	t_expect_nothing();
	assert_int_equal(dp_service_poll(&t_env.svc), 1);
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_LEARNED], 1);
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD_RELEASED], 1);
	t_poll();
	w = t_udp_frame(want, false, 0, true, id, &nh_mac, dst_ip, 5080, 5060,
			"hello", 5);
	t_expect_frame(want, w, 0);
	assert_int_equal(t_cnt(DP_CNT_NEIGH_RESOLVED), 1);

	id = dp_ip4_id(t_env.lc, t_env.lc->ip4_seq);
	t_send(&dst, 5080, "again");
	t_poll();
	w = t_udp_frame(want, false, 0, true, id, &nh_mac, dst_ip, 5080, 5060,
			"again", 5);
	t_expect_frame(want, w, 0);
	assert_int_equal(t_cnt(DP_CNT_NEIGH_MISS), 1);
}

static void
test_dp_tx_send_arp_resolution(void **state)
{
	const uint8_t peer7[4] = { 192, 0, 2, 7 };

	(void)state;
	t_begin_tx(T_SIP_DROP);
	t_arp_resolution(peer7, peer7);
	t_end();
}

static void
test_dp_tx_send_via_gateway(void **state)
{
	const uint8_t far[4] = { 198, 51, 100, 9 };

	(void)state;
	t_begin_tx(T_SIP_DROP);
	t_arp_resolution(far, t_ip4_gw);
	t_end();
}

static void
test_dp_tx_send_no_route_dropped(void **state)
{
	struct dp_ip dst = { .family = DP_AF_V6 };
	struct rte_mbuf *m;

	(void)state;
	t_begin_tx(T_SIP_DROP);
	dst.v6[0] = 0x20;
	dst.v6[1] = 0x01;
	dst.v6[2] = 0x0d;
	dst.v6[3] = 0xb9;               /* off-link, and no IPv6 gateway */
	m = dp_pkt_alloc(t_env.lc, 8);
	assert_non_null(m);
	rte_pktmbuf_append(m, 8);
	assert_int_equal(dp_udp_send(t_env.lc, m, NULL, 5060, &dst, 5060),
			 -EHOSTUNREACH);
	assert_int_equal(t_cnt(DP_CNT_NO_ROUTE), 1);
	t_end();
}

/* The same with neighbour discovery (RFC 4861 §7.2). */
static void
test_dp_tx_send_nd_resolution(void **state)
{
	const struct rte_ether_addr sn_mac = {
		.addr_bytes = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x07 } };
	const struct rte_ether_addr mac7 = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x66, 0x07 } };
	const uint8_t sn_ip[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff,
		[15] = 0x07 };
	uint8_t peer7[16], want[256], in[128];
	struct dp_ip dst = { .family = DP_AF_V6 };
	uint16_t id;
	size_t w;

	(void)state;
	t_begin_tx(T_SIP_DROP);
	id = 0;                 /* no Identification in IPv6 */
	memcpy(peer7, t_ip6_peer, 16);
	peer7[15] = 7;
	memcpy(dst.v6, peer7, 16);
	t_send(&dst, 5080, "hello");
	assert_int_equal(dp_service_poll(&t_env.svc), 1);
	assert_int_equal(t_env.svc.cnt[DP_SVC_NS_SENT], 1);
	t_poll();
	w = t_nd_frame(want, &sn_mac, &t_env.ifc.mac, t_ip6_us, sn_ip, 135, 0,
		       peer7, &t_env.ifc.mac, 1);
	t_expect_frame(want, w, 0);

	t_rx(in, t_nd_frame(in, &t_env.ifc.mac, &mac7, peer7, t_ip6_us, 136,
			    0x60, peer7, &mac7, 1));
	t_poll();
	assert_int_equal(t_cnt(DP_CNT_ND_NA_IN), 1);
	assert_int_equal(dp_service_poll(&t_env.svc), 1);
	t_poll();
	w = t_udp_frame(want, true, 0, true, id, &mac7, peer7, 5080, 5060,
			"hello", 5);
	t_expect_frame(want, w, 0);
	t_end();
}

/* At most DP_NEIGH_HOLD outputs wait per neighbour; the rest are counted. */
static void
test_dp_tx_hold_queue_bounded(void **state)
{
	const uint8_t ip8[4] = { 192, 0, 2, 8 };
	const struct rte_ether_addr mac8 = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x08, 0x08 } };
	struct dp_ip dst = { .family = DP_AF_V4 };
	struct rte_mbuf *out[16];
	uint8_t in[64] = { 0 };
	unsigned int i, n;

	(void)state;
	t_begin_tx(T_SIP_DROP);
	memcpy(&dst.v4, ip8, 4);
	for (i = 0; i < DP_NEIGH_HOLD + 2; i++)
		t_send(&dst, 5080, "x");
	assert_int_equal(dp_service_poll(&t_env.svc), DP_NEIGH_HOLD + 2);
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD], DP_NEIGH_HOLD);
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD_DROP], 2);
	assert_int_equal(t_env.svc.cnt[DP_SVC_ARP_REQ_SENT], 1);
	t_poll();
	assert_int_equal(t_tx(out, 16), 1);     /* one ARP request */
	rte_pktmbuf_free(out[0]);

	t_arp_frame(in, 2, &t_env.ifc.mac, &mac8, ip8, &t_env.ifc.mac,
		    t_ip4_us);
	t_rx(in, 60);
	t_poll();
	dp_service_poll(&t_env.svc);
	t_poll();
	n = t_tx(out, 16);
	assert_int_equal(n, DP_NEIGH_HOLD);
	for (i = 0; i < n; i++)
		assert_memory_equal(rte_pktmbuf_mtod(out[i], void *), &mac8, 6);
	rte_pktmbuf_free_bulk(out, n);
	t_end();
}

/* Frees every frame the workers have to send (ARP requests). */
static unsigned int
t_tx_drain(void)
{
	struct rte_mbuf *out[64];
	unsigned int n, all = 0;

	do {
		t_poll();
		n = t_tx(out, 64);
		rte_pktmbuf_free_bulk(out, n);
		all += n;
	} while (n != 0);
	return all;
}

/* Every next hop gives up: what they held is freed. */
static void
t_neigh_give_up(void)
{
	uint64_t now = rte_get_tsc_cycles(), hz = rte_get_tsc_hz();
	unsigned int k;

	for (k = 1; k <= 3; k++)
		dp_neigh_age(&t_env.svc, now + k * hz + hz / 10);
	t_tx_drain();
	assert_int_equal(t_env.svc.nheld, 0);
}

/*
 * All entries together hold at most svc.held_max outputs (an eighth of
 * the pool): next hops that never answer cannot take the mbufs reception
 * needs. Every next hop is still asked for.
 */
static void
test_dp_tx_hold_capped(void **state)
{
	struct dp_ip dst = { .family = DP_AF_V4 };
	uint32_t max = t_env.svc.held_max;
	unsigned int h;

	(void)state;
	t_begin_tx(T_SIP_DROP);
	assert_int_equal(max, t_env.ifc.pool->size / 8);
	t_env.svc.held_max = 6;
	for (h = 0; h < 4; h++) {
		const uint8_t ip[4] = { 192, 0, 2, (uint8_t)(20 + h) };

		memcpy(&dst.v4, ip, 4);
		t_send(&dst, 5080, "x");
		t_send(&dst, 5080, "x");
	}
	while (dp_service_poll(&t_env.svc) != 0)
		;
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD], 6);
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD_DROP], 2);
	assert_int_equal(t_env.svc.nheld, 6);
	assert_int_equal(t_env.svc.cnt[DP_SVC_ARP_REQ_SENT], 4);
	assert_int_equal(t_tx_drain(), 4);
	t_neigh_give_up();
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD_DROP], 8);
	t_env.svc.held_max = max;
	t_end();
}

/*
 * More unresolved next hops than the table has entries: the ones asked
 * longest ago make room (before, unresolved entries were never evicted,
 * and a flood of them left no room for anything); and no more than
 * DP_NEIGH_NEW_PER_S new ones a second.
 */
static void
test_dp_tx_unresolved_evicted_and_paced(void **state)
{
	struct dp_ip dst = { .family = DP_AF_V4 };
	unsigned int h;

	(void)state;
	t_begin_tx(T_SIP_DROP);
	for (h = 0; h < 100; h++) {
		const uint8_t ip[4] = { 192, 0, 2, (uint8_t)(100 + h) };

		memcpy(&dst.v4, ip, 4);
		t_send(&dst, 5080, "x");
		if (h % 32 == 31)
			while (dp_service_poll(&t_env.svc) != 0)
				;
	}
	while (dp_service_poll(&t_env.svc) != 0)
		;
	t_tx_drain();
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_FULL], 0);
	assert_int_equal(t_env.svc.cnt[DP_SVC_ARP_REQ_SENT], 100);
	assert_true(t_env.svc.cnt[DP_SVC_NEIGH_EVICTED] >= 100 - 64);
	assert_int_equal(t_env.svc.nheld,
			 100 - t_env.svc.cnt[DP_SVC_NEIGH_EVICTED]);
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD_DROP],
			 t_env.svc.cnt[DP_SVC_NEIGH_EVICTED]);
	t_neigh_give_up();

	/* This second's budget spent: a new next hop waits for the next. */
	t_env.svc.new_tsc = rte_get_tsc_cycles();
	t_env.svc.new_left = 0;
	memcpy(&dst.v4, (const uint8_t[4]){ 192, 0, 2, 99 }, 4);
	t_send(&dst, 5080, "x");
	while (dp_service_poll(&t_env.svc) != 0)
		;
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_RATE], 1);
	assert_int_equal(t_env.svc.nheld, 0);
	t_env.svc.new_tsc = 0;
	t_end();
}

/*
 * No output to an address that names no other host (RFC 1122 §3.2.1.3):
 * whatever a message named, never a group, a broadcast address (limited,
 * or of a prefix of ours), loopback, "this network" or ourselves.
 */
static void
test_dp_tx_send_bad_dst_refused(void **state)
{
	static const uint8_t v4[][4] = {
		{ 224, 0, 0, 1 }, { 255, 255, 255, 255 }, { 192, 0, 2, 255 },
		{ 192, 0, 2, 0 }, { 127, 0, 0, 1 }, { 0, 1, 2, 3 },
		{ 192, 0, 2, 1 }, { 240, 0, 0, 1 },
	};
	static const uint8_t v6[][16] = {
		{ 0xff, 0x02, [15] = 1 }, { [15] = 1 }, { 0 },
		{ [10] = 0xff, [11] = 0xff, 192, 0, 2, 2 },
		{ 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 },
	};
	struct dp_ip dst;
	struct rte_mbuf *m;
	unsigned int i, n = 0;

	(void)state;
	t_begin_tx(T_SIP_DROP);
	for (i = 0; i < RTE_DIM(v4) + RTE_DIM(v6); i++) {
		memset(&dst, 0, sizeof(dst));
		if (i < RTE_DIM(v4)) {
			dst.family = DP_AF_V4;
			memcpy(&dst.v4, v4[i], 4);
		} else {
			dst.family = DP_AF_V6;
			memcpy(dst.v6, v6[i - RTE_DIM(v4)], 16);
		}
		m = dp_pkt_alloc(t_env.lc, 8);
		assert_non_null(m);
		rte_pktmbuf_append(m, 8);
		assert_int_equal(dp_udp_send(t_env.lc, m, NULL, 5060, &dst,
					     5060), -EADDRNOTAVAIL);
		n++;
		assert_int_equal(t_cnt(DP_CNT_TX_BAD_DST), n);
	}
	assert_int_equal(t_cnt(DP_CNT_NEIGH_MISS), 0);
	t_poll();
	t_expect_nothing();
	t_end();
}

/*
 * The MLDv2 Report that keeps our solicited-node group joined on switches
 * that snoop MLD (RFC 3810 §5.2, RFC 4861 §7.2.1): to ff02::16 from the
 * port's EUI-64 link-local address, hop limit 1, a Hop-by-Hop header with
 * Router Alert, one record for ff02::1:ff00:1, a valid checksum.
 */
static void
test_dp_tx_mld_report(void **state)
{
	static const uint8_t mcast16[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
	static const uint8_t all_rtr[16] = { 0xff, 0x02, [15] = 0x16 };
	static const uint8_t hbh[8] = { 58, 0, 5, 2, 0, 0, 1, 0 };
	static const uint8_t grp[16] = { 0xff, 0x02, [11] = 0x01,
					 [12] = 0xff, [15] = 0x01 };
	const uint8_t *mac = t_env.ifc.mac.addr_bytes;
	const size_t l3 = RTE_ETHER_HDR_LEN, l4 = l3 + 40 + 8;
	struct rte_mbuf *m;
	const uint8_t *f;
	int change;

	(void)state;
	t_begin_tx(T_SIP_DROP);
	for (change = 1; change >= 0; change--) {
		assert_int_equal(dp_neigh_mld_report(&t_env.svc, change), 1);
		t_poll();
		assert_int_equal(t_tx(&m, 1), 1);
		f = rte_pktmbuf_mtod(m, const uint8_t *);
		assert_int_equal(rte_pktmbuf_pkt_len(m), l4 + 8 + 20);
		assert_memory_equal(f, mcast16, 6);
		assert_int_equal(f[12] << 8 | f[13], 0x86dd);
		assert_int_equal(f[l3 + 4] << 8 | f[l3 + 5], 8 + 8 + 20);
		assert_int_equal(f[l3 + 6], 0);         /* Hop-by-Hop */
		assert_int_equal(f[l3 + 7], 1);         /* hop limit */
		assert_int_equal(f[l3 + 8], 0xfe);
		assert_int_equal(f[l3 + 9], 0x80);
		assert_int_equal(f[l3 + 16], mac[0] ^ 0x02);
		assert_int_equal(f[l3 + 19], 0xff);
		assert_int_equal(f[l3 + 20], 0xfe);
		assert_memory_equal(f + l3 + 21, mac + 3, 3);
		assert_memory_equal(f + l3 + 24, all_rtr, 16);
		assert_memory_equal(f + l3 + 40, hbh, 8);
		assert_int_equal(f[l4], 143);
		assert_int_equal(f[l4 + 6] << 8 | f[l4 + 7], 1);
		assert_int_equal(f[l4 + 8], change ? 4 : 2);
		assert_int_equal(f[l4 + 10] << 8 | f[l4 + 11], 0);
		assert_memory_equal(f + l4 + 12, grp, 16);
		assert_int_equal(t_cksum(f + l4, 28, t_phdr(f + l3, 58, 28)),
				 0);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(t_env.svc.cnt[DP_SVC_MLD_SENT], 2);
	t_end();
}

/* A /31 (RFC 3021) and a /32 have no network or broadcast address: both
 * ends of a point-to-point /31 are hosts, the peer of a /32 too. */
static void
test_dp_tx_point_to_point_prefixes_are_hosts(void **state)
{
	struct dp_conf c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.naddr4 = 1;
	c.addr4[0].ip.family = DP_AF_V4;
	c.addr4[0].ip.v4 = rte_cpu_to_be_32(0xc6120000u);   /* 198.18.0.0 */
	c.addr4[0].len = 31;
	assert_false(dp_ip4_other_host(&c, rte_cpu_to_be_32(0xc6120000u)));
	assert_true(dp_ip4_other_host(&c, rte_cpu_to_be_32(0xc6120001u)));
	c.addr4[0].len = 32;
	assert_true(dp_ip4_other_host(&c, rte_cpu_to_be_32(0xc6120001u)));
	c.addr4[0].len = 30;
	assert_false(dp_ip4_other_host(&c, rte_cpu_to_be_32(0xc6120003u)));
	assert_true(dp_ip4_other_host(&c, rte_cpu_to_be_32(0xc6120002u)));
	assert_true(dp_ip4_other_host(&c, rte_cpu_to_be_32(0xc6120004u)));
}

/*
 * No answer: the request is repeated each second, and after the last try
 * the held output is dropped and the entry freed. Time is handed to
 * dp_neigh_age() directly.
 */
static void
test_dp_tx_unresolved_gives_up(void **state)
{
	const uint8_t ip10[4] = { 192, 0, 2, 10 };
	struct dp_ip dst = { .family = DP_AF_V4 };
	struct rte_mbuf *out[8];
	uint64_t now, hz = rte_get_tsc_hz();
	unsigned int k;

	(void)state;
	t_begin_tx(T_SIP_DROP);
	memcpy(&dst.v4, ip10, 4);
	t_send(&dst, 5080, "x");
	dp_service_poll(&t_env.svc);
	now = rte_get_tsc_cycles();
	for (k = 1; k <= 3; k++)
		dp_neigh_age(&t_env.svc, now + k * hz + hz / 10);
	t_poll();
	assert_int_equal(t_tx(out, 8), 3);      /* three ARP requests */
	rte_pktmbuf_free_bulk(out, 3);
	assert_int_equal(t_env.svc.cnt[DP_SVC_ARP_REQ_SENT], 3);
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD_DROP], 1);
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_EXPIRED], 1);

	/* The entry is gone: the next output asks again. */
	t_send(&dst, 5080, "y");
	dp_service_poll(&t_env.svc);
	assert_int_equal(t_env.svc.cnt[DP_SVC_ARP_REQ_SENT], 4);
	for (k = 5; k <= 7; k++)
		dp_neigh_age(&t_env.svc, now + k * hz);
	t_poll();
	assert_int_equal(t_tx(out, 8), 3);
	rte_pktmbuf_free_bulk(out, 3);
	t_end();
}

/* Link-local destinations are on-link without a prefix for them. */
static void
test_dp_tx_send_link_local_on_link(void **state)
{
	struct dp_ip dst = { .family = DP_AF_V6 };
	struct rte_mbuf *out[8];
	uint64_t now, hz = rte_get_tsc_hz();
	const uint8_t *f;
	unsigned int k;

	(void)state;
	t_begin_tx(T_SIP_DROP);
	dst.v6[0] = 0xfe;
	dst.v6[1] = 0x80;
	dst.v6[15] = 0x05;
	t_send(&dst, 5080, "x");
	assert_int_equal(t_cnt(DP_CNT_NEIGH_MISS), 1);
	dp_service_poll(&t_env.svc);
	t_poll();
	assert_int_equal(t_tx(out, 8), 1);
	f = rte_pktmbuf_mtod(out[0], const uint8_t *);
	assert_int_equal(f[14 + 40], 135);              /* NS */
	assert_memory_equal(f + 14 + 40 + 8, dst.v6, 16);
	rte_pktmbuf_free(out[0]);

	/* Nobody answers: let it give up so nothing stays held. */
	now = rte_get_tsc_cycles();
	for (k = 1; k <= 3; k++)
		dp_neigh_age(&t_env.svc, now + k * hz + hz / 10);
	t_poll();
	rte_pktmbuf_free_bulk(out, t_tx(out, 8));
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD_DROP], 1);
	t_end();
}

/*
 * A known neighbour that asks for us with a new MAC (RFC 826 merge) is
 * updated from its request; so is one that solicits us (RFC 4861 §7.2.3).
 */
static void
test_dp_tx_request_refreshes_neighbour(void **state)
{
	const uint8_t ip30[4] = { 192, 0, 2, 30 };
	const struct rte_ether_addr moved = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x30, 0xff } };
	const struct rte_ether_addr zero = { .addr_bytes = { 0 } };
	const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	struct dp_ip dst = { .family = DP_AF_V4 };
	uint8_t in[128] = { 0 }, peer7[16];
	struct rte_mbuf *out[4];

	(void)state;
	t_begin_tx(T_SIP_DROP);
	t_arp_resolution(ip30, ip30);
	t_arp_frame(in, 1, &bcast, &moved, ip30, &zero, t_ip4_us);
	t_rx(in, 60);
	t_poll();
	assert_int_equal(t_tx(out, 4), 1);      /* our ARP reply */
	rte_pktmbuf_free(out[0]);
	assert_int_equal(dp_service_poll(&t_env.svc), 1);
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_LEARNED], 2);
	memcpy(&dst.v4, ip30, 4);
	t_send(&dst, 5080, "moved");
	t_poll();
	assert_int_equal(t_tx(out, 4), 1);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), &moved, 6);
	rte_pktmbuf_free(out[0]);

	/* IPv6: ::7 was resolved by the ND test; it solicits us from a new
	 * MAC, with its source link-layer address option. */
	memcpy(peer7, t_ip6_peer, 16);
	peer7[15] = 7;
	t_rx(in, t_nd_frame(in, &t_env.ifc.mac, &moved, peer7, t_ip6_us, 135,
			    0, t_ip6_us, &moved, 1));
	t_poll();
	assert_int_equal(t_tx(out, 4), 1);      /* our NA */
	rte_pktmbuf_free(out[0]);
	assert_int_equal(dp_service_poll(&t_env.svc), 1);
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_LEARNED], 3);
	dst.family = DP_AF_V6;
	memcpy(dst.v6, peer7, 16);
	t_send(&dst, 5080, "moved");
	t_poll();
	assert_int_equal(t_tx(out, 4), 1);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), &moved, 6);
	rte_pktmbuf_free(out[0]);
	t_end();
}

/* An NA from @p src (Ethernet @p smac) to @p dst (all-nodes or us). */
static size_t
t_na_frame(uint8_t *f, const struct rte_ether_addr *smac, const uint8_t *src,
	   const uint8_t *dst, const uint8_t *target, uint8_t flags,
	   const struct rte_ether_addr *tlla, uint8_t optlen)
{
	const struct rte_ether_addr all_mac = {
		.addr_bytes = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };

	return t_nd_frame(f, dst[0] == 0xff ? &all_mac : &t_env.ifc.mac, smac,
			  src, dst, 136, flags, target, tlla, optlen);
}

/* The worker, the service until it has nothing left, the worker. */
static void
t_settle(void)
{
	t_poll();
	while (dp_service_poll(&t_env.svc) != 0)
		;
	t_poll();
}

/* A datagram to @p ip6 leaves for Ethernet @p mac. */
static void
t_expect_sent_to(const uint8_t *ip6, const struct rte_ether_addr *mac)
{
	struct dp_ip dst = { .family = DP_AF_V6 };
	struct rte_mbuf *out[4];

	memcpy(dst.v6, ip6, 16);
	t_send(&dst, 5080, "where");
	t_poll();
	assert_int_equal(t_tx(out, 4), 1);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), mac, 6);
	rte_pktmbuf_free(out[0]);
}

/*
 * RFC 4861 §7.1.2 and §7.2.5: malformed NAs are dropped by the worker; an
 * incomplete entry needs a target link-layer address; an unsolicited NA
 * to all-nodes with Override moves a neighbour; one without Override
 * does not. §7.1.1: a DAD probe to a unicast address, or carrying a
 * source link-layer address, is dropped, not answered.
 */
static void
test_dp_tx_nd_advert_rules(void **state)
{
	const struct rte_ether_addr mac_a = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x88, 0x0a } };
	const struct rte_ether_addr mac_b = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x88, 0x0b } };
	const struct rte_ether_addr mac_c = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x88, 0x0c } };
	const struct rte_ether_addr sn_mac = {
		.addr_bytes = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x01 } };
	const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	const uint8_t unspec[16] = { 0 };
	const uint8_t sn_us[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff,
		[15] = 0x01 };
	struct dp_ip dst = { .family = DP_AF_V6 };
	uint8_t peer8[16], in[128];
	struct rte_mbuf *out[4];

	(void)state;
	t_begin_tx(T_SIP_DROP);
	memcpy(peer8, t_ip6_peer, 16);
	peer8[15] = 8;
	memcpy(dst.v6, peer8, 16);
	t_send(&dst, 5080, "held");
	t_settle();
	assert_int_equal(t_tx(out, 4), 1);      /* the NS */
	rte_pktmbuf_free(out[0]);

	/* Malformed: an option of length 0, S set towards a multicast
	 * address, a multicast target. Dropped before the service. */
	t_rx(in, t_na_frame(in, &mac_a, peer8, t_ip6_us, peer8, 0x60,
			    &mac_a, 0));
	t_rx(in, t_na_frame(in, &mac_a, peer8, all_nodes, peer8, 0x60,
			    &mac_a, 1));
	t_rx(in, t_na_frame(in, &mac_a, peer8, t_ip6_us, all_nodes, 0x60,
			    &mac_a, 1));
	t_settle();
	assert_int_equal(t_cnt(DP_CNT_ND_OTHER), 3);
	assert_int_equal(t_cnt(DP_CNT_ND_NA_IN), 0);
	/* Solicited but without the address: the entry stays incomplete. */
	t_rx(in, t_na_frame(in, &mac_a, peer8, t_ip6_us, peer8, 0x60, NULL,
			    0));
	t_settle();
	assert_int_equal(t_cnt(DP_CNT_ND_NA_IN), 1);
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_IGNORED], 1);
	t_expect_nothing();
	/* With it: resolved, the held datagram leaves for mac_a. */
	t_rx(in, t_na_frame(in, &mac_a, peer8, t_ip6_us, peer8, 0x60,
			    &mac_a, 1));
	t_settle();
	assert_int_equal(t_env.svc.cnt[DP_SVC_HELD_RELEASED], 1);
	assert_int_equal(t_tx(out, 4), 1);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), &mac_a, 6);
	rte_pktmbuf_free(out[0]);

	/* Unsolicited, to all-nodes, Override: moved to mac_b. */
	t_rx(in, t_na_frame(in, &mac_b, peer8, all_nodes, peer8, 0x20,
			    &mac_b, 1));
	t_settle();
	assert_int_equal(t_cnt(DP_CNT_ND_NA_IN), 3);
	t_expect_sent_to(peer8, &mac_b);
	/* Solicited without Override, another MAC: ignored (a proxy's or
	 * an anycast answer does not replace the owner's). */
	t_rx(in, t_na_frame(in, &mac_c, peer8, t_ip6_us, peer8, 0x40,
			    &mac_c, 1));
	t_settle();
	assert_int_equal(t_env.svc.cnt[DP_SVC_NEIGH_IGNORED], 2);
	t_expect_sent_to(peer8, &mac_b);

	/* DAD probes: to our unicast address, or with a source link-layer
	 * address option: dropped, unanswered. */
	t_rx(in, t_nd_frame(in, &t_env.ifc.mac, &mac_c, unspec, t_ip6_us,
			    135, 0, t_ip6_us, NULL, 0));
	t_rx(in, t_nd_frame(in, &sn_mac, &mac_c, unspec, sn_us, 135, 0,
			    t_ip6_us, &mac_c, 1));
	t_settle();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_ND_OTHER), 5);
	assert_int_equal(t_cnt(DP_CNT_ND_NS), 0);
	t_end();
}

static int
setup_env(void **state)
{
	(void)state;
	return t_env_setup("dp_test_tx", "0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_tx_reply_udp4_bytes),
		cmocka_unit_test(test_dp_tx_ip4_ids_unique_and_unpredictable),
		cmocka_unit_test(test_dp_tx_reply_udp6_bytes),
		cmocka_unit_test(test_dp_tx_reply_vlan_tagged),
		cmocka_unit_test(test_dp_tx_reply_checksum_offload),
		cmocka_unit_test(test_dp_tx_reply_fragmented_v4),
		cmocka_unit_test(test_dp_tx_reply_fragmented_v6),
		cmocka_unit_test(test_dp_tx_reassembled_meta),
		cmocka_unit_test(test_dp_tx_reassembled_large_vlan_meta),
		cmocka_unit_test(test_dp_tx_send_arp_resolution),
		cmocka_unit_test(test_dp_tx_send_via_gateway),
		cmocka_unit_test(test_dp_tx_send_no_route_dropped),
		cmocka_unit_test(test_dp_tx_send_nd_resolution),
		cmocka_unit_test(test_dp_tx_hold_queue_bounded),
		cmocka_unit_test(test_dp_tx_unresolved_gives_up),
		cmocka_unit_test(test_dp_tx_hold_capped),
		cmocka_unit_test(test_dp_tx_unresolved_evicted_and_paced),
		cmocka_unit_test(test_dp_tx_send_bad_dst_refused),
		cmocka_unit_test(test_dp_tx_point_to_point_prefixes_are_hosts),
		cmocka_unit_test(test_dp_tx_mld_report),
		cmocka_unit_test(test_dp_tx_send_link_local_on_link),
		cmocka_unit_test(test_dp_tx_request_refreshes_neighbour),
		cmocka_unit_test(test_dp_tx_nd_advert_rules),
	};

	return cmocka_run_group_tests_name("dp_tx", tests,
					   setup_env, t_env_group_teardown);
}
