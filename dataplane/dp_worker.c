/* SPDX-License-Identifier: MIT */
/*
 * dp_worker.c - per-lcore poll loop: rx burst, L2/L3 classification into
 * verdicts, actions grouped by verdict (in-place ARP/ND/ICMP answers,
 * reassembly, punts to the service, the SIP stage), tx burst.
 *
 * HOT PATH. Everything reachable from dp_worker_main() follows
 * dataplane/HOTPATH.md: no allocation other than mbufs, no locks, no
 * syscalls, no logging. Problems are counted, never printed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_udp.h>
#include <urcu/urcu-qsbr.h>

#include "dp.h"
#include "dp_classify.h"

#define DP_ICMP6_ECHO_REQUEST   128
#define DP_ICMP6_ECHO_REPLY     129
#define DP_ND_NA_LEN            32      /* NA header + target + TLLA option */

static inline enum dp_verdict
dp_drop_as(struct dp_lcore *lc, enum dp_counter c)
{
	dp_cnt_add(lc, c, 1);
	return DP_V_DROP;
}

/*
 * The sum over a correct checksummed message is 0xffff. @p ol tells what
 * the port already checked (RTE_MBUF_F_RX_*_CKSUM_GOOD/BAD/NONE).
 */
static inline bool
dp_ip4_hdr_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	/* NONE: not filled in, but the integrity was checked (virtio). */
	if (f == RTE_MBUF_F_RX_IP_CKSUM_GOOD || f == RTE_MBUF_F_RX_IP_CKSUM_NONE)
		return true;
	if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return false;
	return dp_cksum_raw(ip, sizeof(*ip)) == 0xffff;
}

static inline int
dp_l4_ol(const struct rte_mbuf *m)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	/* NONE: the sender left it to an offload (virtio), data intact. */
	if (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD || f == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		return 1;
	if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return -1;
	return 0;
}

/*
 * UDP over IPv4 in a contiguous segment; @p ip at l2_len. Fills @p meta
 * for a SIP port. RFC 768: a zero checksum means none was sent.
 */
static enum dp_verdict
dp_udp4(struct dp_lcore *lc, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
	uint16_t l4len, bool trust_ol, struct dp_udp_meta *meta)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ulen, dport;
	int ol;

	if (unlikely(l4len < sizeof(*udp)))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (unlikely(ulen < sizeof(*udp) || ulen > l4len))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	dport = rte_be_to_cpu_16(udp->dst_port);
	if (!dp_is_sip_port(lc->conf, dport))
		return dp_drop_as(lc, DP_CNT_UDP_NOT_SIP);
	ol = trust_ol ? dp_l4_ol(m) : 0;
	if (unlikely(ol < 0))
		return dp_drop_as(lc, DP_CNT_BAD_CKSUM);
	if (ol == 0 && udp->dgram_cksum != 0) {
		uint32_t sum = dp_cksum_raw(udp, ulen);

		/* Pseudo-header over the UDP length, not the IP length. */
		sum += dp_cksum_raw(&ip->src_addr, 8);
		sum += rte_cpu_to_be_16(IPPROTO_UDP) + udp->dgram_len;
		if (unlikely(dp_cksum_fold(sum) != 0xffff))
			return dp_drop_as(lc, DP_CNT_BAD_CKSUM);
	}

	/* Port 0 is "no reply port" (RFC 768): nothing to answer to. */
	if (unlikely(udp->src_port == 0))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	meta->src.family = DP_AF_V4;
	meta->src.v4 = ip->src_addr;
	meta->dst.family = DP_AF_V4;
	meta->dst.v4 = ip->dst_addr;
	meta->sport = rte_be_to_cpu_16(udp->src_port);
	meta->dport = dport;
	meta->payload_off = (uint16_t)(m->l2_len + sizeof(*ip) + sizeof(*udp));
	meta->payload_len = (uint16_t)(ulen - sizeof(*udp));
	return DP_V_SIP;
}

/* UDP over IPv6; the checksum is mandatory (RFC 8200 §8.1). */
static enum dp_verdict
dp_udp6(struct dp_lcore *lc, struct rte_mbuf *m, struct rte_ipv6_hdr *ip,
	uint16_t l4len, bool trust_ol, struct dp_udp_meta *meta)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ulen, dport;
	int ol;

	if (unlikely(l4len < sizeof(*udp)))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (unlikely(ulen < sizeof(*udp) || ulen > l4len))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	dport = rte_be_to_cpu_16(udp->dst_port);
	if (!dp_is_sip_port(lc->conf, dport))
		return dp_drop_as(lc, DP_CNT_UDP_NOT_SIP);
	/* Zero is no checksum, which IPv6 never allows, whatever the
	 * NIC reported. */
	ol = trust_ol ? dp_l4_ol(m) : 0;
	if (unlikely(udp->dgram_cksum == 0 || ol < 0 ||
		     (ol == 0 && dp_l4_cksum6(ip, udp, ulen) != 0)))
		return dp_drop_as(lc, DP_CNT_BAD_CKSUM);

	if (unlikely(udp->src_port == 0))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	meta->src.family = DP_AF_V6;
	memcpy(meta->src.v6, ip->src_addr, 16);
	meta->dst.family = DP_AF_V6;
	memcpy(meta->dst.v6, ip->dst_addr, 16);
	meta->sport = rte_be_to_cpu_16(udp->src_port);
	meta->dport = dport;
	meta->payload_off = (uint16_t)(m->l2_len + sizeof(*ip) + sizeof(*udp));
	meta->payload_len = (uint16_t)(ulen - sizeof(*udp));
	return DP_V_SIP;
}

static enum dp_verdict
dp_classify_arp(struct dp_lcore *lc, struct rte_mbuf *m,
		const struct rte_ether_hdr *eh, uint16_t l2)
{
	const struct rte_arp_hdr *arp;

	if (!rte_is_same_ether_addr(&eh->dst_addr, &lc->ifc->mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr))
		return dp_drop_as(lc, DP_CNT_NOT_FOR_US);
	if (unlikely(rte_pktmbuf_data_len(m) < l2 + sizeof(*arp)))
		return dp_drop_as(lc, DP_CNT_ARP_OTHER);
	arp = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, l2);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4)
		return dp_drop_as(lc, DP_CNT_ARP_OTHER);
	if (!dp_is_local4(lc->conf, arp->arp_data.arp_tip)) {
		/*
		 * Gratuitous (sender = target, e.g. a gateway after a
		 * failover): RFC 826 updates a known sender before asking
		 * whether the target is us. The service thread updates only
		 * neighbours it already has (dp_neigh_learn()).
		 */
		if (arp->arp_data.arp_sip == arp->arp_data.arp_tip &&
		    arp->arp_data.arp_sip != 0 &&
		    (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
		     arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY))) {
			dp_cnt_add(lc, DP_CNT_ARP_GRATUITOUS, 1);
			return DP_V_PUNT;
		}
		return dp_drop_as(lc, DP_CNT_ARP_OTHER);
	}
	if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
		dp_cnt_add(lc, DP_CNT_ARP_REQ, 1);
		return DP_V_ARP_REPLY;
	}
	if (arp->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REPLY)) {
		dp_cnt_add(lc, DP_CNT_ARP_REPLY_IN, 1);
		return DP_V_PUNT;
	}
	return dp_drop_as(lc, DP_CNT_ARP_OTHER);
}

static enum dp_verdict
dp_classify_ip4(struct dp_lcore *lc, struct rte_mbuf *m,
		const struct rte_ether_hdr *eh, uint16_t l2,
		struct dp_udp_meta *meta)
{
	struct rte_ipv4_hdr *ip;
	uint16_t tot, l4len;

	if (!rte_is_same_ether_addr(&eh->dst_addr, &lc->ifc->mac))
		return dp_drop_as(lc, DP_CNT_NOT_FOR_US);
	if (unlikely(rte_pktmbuf_data_len(m) < l2 + sizeof(*ip)))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2);
	if (unlikely((ip->version_ihl >> 4) != 4))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	if (unlikely((ip->version_ihl & 0xf) != 5))
		return dp_drop_as(lc, DP_CNT_IP_OPTIONS);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tot < sizeof(*ip) || tot > rte_pktmbuf_data_len(m) - l2))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	if (unlikely(!dp_ip4_hdr_ok(m, ip)))
		return dp_drop_as(lc, DP_CNT_BAD_CKSUM);
	if (!dp_is_local4(lc->conf, ip->dst_addr))
		return dp_drop_as(lc, DP_CNT_NOT_FOR_US);
	/* RFC 1122 §3.2.1.3: no answer to a source that names no host
	 * (0/8, loopback, multicast, a broadcast address) or is us. */
	if (unlikely(!dp_ip4_other_host(lc->conf, ip->src_addr)))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	/* Ethernet pads short frames: the IP length is the truth. */
	if (rte_pktmbuf_pkt_len(m) > (uint32_t)l2 + tot)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - l2 - tot));
	m->l3_len = sizeof(*ip);
	l4len = (uint16_t)(tot - sizeof(*ip));

	if (rte_ipv4_frag_pkt_is_fragmented(ip)) {
		if (ip->next_proto_id != IPPROTO_UDP)
			return dp_drop_as(lc, DP_CNT_PROTO_OTHER);
		dp_cnt_add(lc, DP_CNT_FRAG_IN, 1);
		return DP_V_FRAG4;
	}

	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		return dp_udp4(lc, m, ip, l4len, true, meta);
	case IPPROTO_ICMP: {
		const struct rte_icmp_hdr *ic = (const struct rte_icmp_hdr *)(ip + 1);

		if (unlikely(l4len < sizeof(*ic)))
			return dp_drop_as(lc, DP_CNT_BAD_IP);
		if (unlikely(dp_cksum_raw(ic, l4len) != 0xffff))
			return dp_drop_as(lc, DP_CNT_BAD_CKSUM);
		if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
		    ic->icmp_code != 0)
			return dp_drop_as(lc, DP_CNT_ICMP_OTHER);
		dp_cnt_add(lc, DP_CNT_ICMP_ECHO, 1);
		return DP_V_ECHO4;
	}
	default:
		return dp_drop_as(lc, DP_CNT_PROTO_OTHER);
	}
}

static enum dp_verdict
dp_classify_icmp6(struct dp_lcore *lc, struct rte_ipv6_hdr *ip, uint16_t plen,
		  bool mcast)
{
	const uint8_t *ic = (const uint8_t *)(ip + 1);
	bool slla;

	if (unlikely(plen < 8))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	if (unlikely(dp_l4_cksum6(ip, ic, plen) != 0))
		return dp_drop_as(lc, DP_CNT_BAD_CKSUM);
	switch (ic[0]) {
	case DP_ICMP6_ECHO_REQUEST:
		/* not from :: either: it names no host to answer */
		if (mcast || ic[1] != 0 || dp_ip6_unspec(ip->src_addr))
			return dp_drop_as(lc, DP_CNT_ICMP_OTHER);
		dp_cnt_add(lc, DP_CNT_ICMP6_ECHO, 1);
		return DP_V_ECHO6;
	case DP_ND_NS:
		/* RFC 4861 §7.1.1: hop limit 255, code 0, >= 24 bytes,
		 * target not multicast (here: one of ours), options of
		 * non-zero length; from the unspecified address (DAD) only
		 * to a solicited-node address and without a source
		 * link-layer address. */
		if (ip->hop_limits != 255 || ic[1] != 0 || plen < 24 ||
		    !dp_is_local6(lc->conf, ic + 8) ||
		    !dp_nd_opts_ok(ic, plen, &slla) ||
		    (dp_ip6_unspec(ip->src_addr) &&
		     (!mcast || dp_is_all_nodes6(ip->dst_addr) || slla)))
			return dp_drop_as(lc, DP_CNT_ND_OTHER);
		dp_cnt_add(lc, DP_CNT_ND_NS, 1);
		return DP_V_ND_NA;
	case DP_ND_NA:
		/* RFC 4861 §7.1.2: as above, target not multicast, and
		 * Solicited clear when sent to a multicast address. */
		if (ip->hop_limits != 255 || ic[1] != 0 || plen < 24 ||
		    ic[8] == 0xff || (mcast && (ic[4] & DP_ND_FLAG_S)) ||
		    !dp_nd_opts_ok(ic, plen, &slla))
			return dp_drop_as(lc, DP_CNT_ND_OTHER);
		dp_cnt_add(lc, DP_CNT_ND_NA_IN, 1);
		return DP_V_PUNT;
	default:
		return dp_drop_as(lc, DP_CNT_ICMP_OTHER);
	}
}

static enum dp_verdict
dp_classify_ip6(struct dp_lcore *lc, struct rte_mbuf *m,
		const struct rte_ether_hdr *eh, uint16_t l2,
		struct dp_udp_meta *meta)
{
	struct rte_ipv6_hdr *ip;
	bool mcast = false;
	uint16_t plen;

	if (!rte_is_same_ether_addr(&eh->dst_addr, &lc->ifc->mac)) {
		if (eh->dst_addr.addr_bytes[0] != 0x33 ||
		    eh->dst_addr.addr_bytes[1] != 0x33)
			return dp_drop_as(lc, DP_CNT_NOT_FOR_US);
		mcast = true;
	}
	if (unlikely(rte_pktmbuf_data_len(m) < l2 + sizeof(*ip)))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, l2);
	if (unlikely((rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	plen = rte_be_to_cpu_16(ip->payload_len);
	if (unlikely(plen > rte_pktmbuf_data_len(m) - l2 - sizeof(*ip)))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	if (dp_is_local6(lc->conf, ip->dst_addr)) {
		const uint8_t *ic = (const uint8_t *)(ip + 1);

		/* A unicast datagram in a multicast frame is no datagram
		 * for us (RFC 1122 §3.3.6), but for neighbour discovery. */
		if (unlikely(mcast) &&
		    (ip->proto != IPPROTO_ICMPV6 || plen == 0 ||
		     (ic[0] != DP_ND_NS && ic[0] != DP_ND_NA)))
			return dp_drop_as(lc, DP_CNT_NOT_FOR_US);
		mcast = false;
	} else if (ip->proto != IPPROTO_ICMPV6 ||
		   (!dp_is_solicited6(lc->conf, ip->dst_addr) &&
		    !dp_is_all_nodes6(ip->dst_addr))) {
		return dp_drop_as(lc, DP_CNT_NOT_FOR_US);
	} else {
		mcast = true;
	}
	/* A multicast source names no host to answer (RFC 4291 §2.7); an
	 * IPv4-mapped one is never on the wire (RFC 4942 §2.1.4), and would
	 * pass the IPv4 source policy by; nor is ::1, nor ours
	 * (dp_ip6_other_host()); :: only sends duplicate address detection
	 * probes. */
	if (unlikely(dp_ip6_unspec(ip->src_addr) ?
		     ip->proto != IPPROTO_ICMPV6 :
		     !dp_ip6_other_host(lc->conf, ip->src_addr)))
		return dp_drop_as(lc, DP_CNT_BAD_IP);
	if (rte_pktmbuf_pkt_len(m) > (uint32_t)l2 + sizeof(*ip) + plen)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - l2 -
					       sizeof(*ip) - plen));
	m->l3_len = sizeof(*ip);

	switch (ip->proto) {
	case IPPROTO_UDP:
		return dp_udp6(lc, m, ip, plen, true, meta);
	case IPPROTO_ICMPV6:
		return dp_classify_icmp6(lc, ip, plen, mcast);
	case IPPROTO_FRAGMENT: {
		const struct rte_ipv6_fragment_ext *fh =
			(const struct rte_ipv6_fragment_ext *)(ip + 1);

		if (unlikely(plen < sizeof(*fh)))
			return dp_drop_as(lc, DP_CNT_BAD_IP);
		if (fh->next_header != IPPROTO_UDP)
			return dp_drop_as(lc, DP_CNT_PROTO_OTHER);
		/*
		 * An atomic fragment (offset 0, no more fragments) is the
		 * whole datagram (RFC 6946 §4): processed without
		 * reassembly, its fragment header taken out.
		 */
		if (unlikely((fh->frag_data & rte_cpu_to_be_16(0xfff9)) == 0)) {
			uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

			memmove(f + sizeof(*fh), f, (size_t)l2 + sizeof(*ip));
			rte_pktmbuf_adj(m, sizeof(*fh));
			ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
						     l2);
			ip->proto = IPPROTO_UDP;
			plen = (uint16_t)(plen - sizeof(*fh));
			ip->payload_len = rte_cpu_to_be_16(plen);
			return dp_udp6(lc, m, ip, plen, true, meta);
		}
		m->l3_len = sizeof(*ip) + sizeof(*fh);
		dp_cnt_add(lc, DP_CNT_FRAG_IN, 1);
		return DP_V_FRAG6;
	}
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
		return dp_drop_as(lc, DP_CNT_IP_OPTIONS);
	default:
		return dp_drop_as(lc, DP_CNT_PROTO_OTHER);
	}
}

/* Stage 1: decide what to do with one frame; touches nothing but it. */
static enum dp_verdict
dp_classify(struct dp_lcore *lc, struct rte_mbuf *m, struct dp_udp_meta *meta)
{
	const struct rte_ether_hdr *eh;
	uint16_t l2 = RTE_ETHER_HDR_LEN, vlan = 0, type;

	if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN))
		return dp_drop_as(lc, DP_CNT_BAD_L2);
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	/* Answers go to the source MAC: a group address (broadcast
	 * included) would flood them, zero or ours names no peer. */
	if (unlikely(rte_is_multicast_ether_addr(&eh->src_addr) ||
		     rte_is_zero_ether_addr(&eh->src_addr) ||
		     rte_is_same_ether_addr(&eh->src_addr, &lc->ifc->mac)))
		return dp_drop_as(lc, DP_CNT_BAD_L2);
	type = rte_be_to_cpu_16(eh->ether_type);
	if (type == RTE_ETHER_TYPE_VLAN) {
		const struct rte_vlan_hdr *vh = (const struct rte_vlan_hdr *)(eh + 1);

		if (unlikely(rte_pktmbuf_data_len(m) < l2 + sizeof(*vh)))
			return dp_drop_as(lc, DP_CNT_BAD_L2);
		vlan = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		type = rte_be_to_cpu_16(vh->eth_proto);
		l2 += sizeof(*vh);
	}
	if (vlan != lc->conf->vlan)
		return dp_drop_as(lc, DP_CNT_VLAN_MISMATCH);
	m->l2_len = l2;

	switch (type) {
	case RTE_ETHER_TYPE_ARP:
		return dp_classify_arp(lc, m, eh, l2);
	case RTE_ETHER_TYPE_IPV4:
		return dp_classify_ip4(lc, m, eh, l2, meta);
	case RTE_ETHER_TYPE_IPV6:
		return dp_classify_ip6(lc, m, eh, l2, meta);
	default:
		return dp_drop_as(lc, DP_CNT_NOT_IP);
	}
}

static void
dp_eth_swap(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
	rte_ether_addr_copy(&lc->ifc->mac, &eh->src_addr);
}

/* RFC 826: answer in place, swapping sender and target. */
static void
dp_arp_reply(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct rte_arp_hdr *arp;
	rte_be32_t ip;

	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, m->l2_len);
	dp_eth_swap(lc, m);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	ip = arp->arp_data.arp_tip;
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	rte_ether_addr_copy(&lc->ifc->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = ip;
}

/* RFC 792: same identifier, sequence and data; type 0. */
static void
dp_echo4_reply(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	rte_be32_t a;
	uint16_t l4len;

	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	l4len = (uint16_t)(rte_be_to_cpu_16(ip->total_length) - sizeof(*ip));
	dp_eth_swap(lc, m);
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->fragment_offset = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~dp_cksum_raw(ic, l4len);
}

/* RFC 4443 §4.2: reply from the address the request was sent to. */
static void
dp_echo6_reply(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct rte_ipv6_hdr *ip;
	uint8_t a[16], *ic;
	uint16_t plen;

	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, m->l2_len);
	ic = (uint8_t *)(ip + 1);
	plen = rte_be_to_cpu_16(ip->payload_len);
	dp_eth_swap(lc, m);
	memcpy(a, ip->src_addr, 16);
	memcpy(ip->src_addr, ip->dst_addr, 16);
	memcpy(ip->dst_addr, a, 16);
	ip->hop_limits = 64;
	ic[0] = DP_ICMP6_ECHO_REPLY;
	ic[2] = 0;
	ic[3] = 0;
	dp_put16(ic + 2, dp_l4_cksum6(ip, ic, plen));
}

/*
 * RFC 4861 §7.2.4: solicited NA to the soliciting node, with our MAC as
 * target link-layer address. A DAD probe (unspecified source) is answered
 * to all-nodes, unsolicited (§7.2.4 last paragraph), which defends it.
 */
static int
dp_nd_na(struct dp_lcore *lc, struct rte_mbuf *m)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
	const uint16_t want = (uint16_t)(m->l2_len + sizeof(struct rte_ipv6_hdr) +
					 DP_ND_NA_LEN);
	struct rte_ether_hdr *eh;
	struct rte_ipv6_hdr *ip;
	uint8_t *ic;
	bool dad;

	if (rte_pktmbuf_pkt_len(m) < want) {
		if (rte_pktmbuf_append(m, (uint16_t)(want -
				       rte_pktmbuf_pkt_len(m))) == NULL)
			return -ENOSPC;
	} else if (rte_pktmbuf_pkt_len(m) > want) {
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - want));
	}
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, m->l2_len);
	ic = (uint8_t *)(ip + 1);
	dad = dp_ip6_unspec(ip->src_addr);

	if (dad) {
		memcpy(ip->dst_addr, all_nodes, 16);
		memset(&eh->dst_addr, 0, sizeof(eh->dst_addr));
		eh->dst_addr.addr_bytes[0] = 0x33;
		eh->dst_addr.addr_bytes[1] = 0x33;
		eh->dst_addr.addr_bytes[5] = 0x01;
	} else {
		memcpy(ip->dst_addr, ip->src_addr, 16);
		rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
	}
	rte_ether_addr_copy(&lc->ifc->mac, &eh->src_addr);
	memcpy(ip->src_addr, ic + 8, 16);       /* the target: ours */
	ip->payload_len = rte_cpu_to_be_16(DP_ND_NA_LEN);
	ip->hop_limits = 255;
	ic[0] = DP_ND_NA;
	ic[1] = 0;
	ic[2] = 0;
	ic[3] = 0;
	ic[4] = dad ? DP_ND_FLAG_O : (DP_ND_FLAG_S | DP_ND_FLAG_O);
	ic[5] = 0;
	ic[6] = 0;
	ic[7] = 0;
	ic[24] = DP_ND_OPT_TLLA;
	ic[25] = 1;                             /* units of 8 bytes */
	memcpy(ic + 26, &lc->ifc->mac, RTE_ETHER_ADDR_LEN);
	dp_put16(ic + 2, dp_l4_cksum6(ip, ic, DP_ND_NA_LEN));
	return 0;
}

/*
 * A reassembled datagram is a chain; the SIP stage wants one contiguous
 * buffer. Linearize in place when it fits, else copy into a jumbo mbuf.
 */
static struct rte_mbuf *
dp_reasm_flatten(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct rte_mbuf *j;
	char *dst;

	if (rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_linearize(m) == 0)
		return m;
	if (rte_pktmbuf_pkt_len(m) + RTE_PKTMBUF_HEADROOM >
	    rte_pktmbuf_data_room_size(lc->ifc->jumbo)) {
		rte_pktmbuf_free(m);
		dp_cnt_add(lc, DP_CNT_FRAG_DROP, 1);
		dp_cnt_add(lc, DP_CNT_DROP, 1);
		return NULL;
	}
	j = rte_pktmbuf_alloc(lc->ifc->jumbo);
	if (unlikely(j == NULL)) {
		rte_pktmbuf_free(m);
		dp_cnt_add(lc, DP_CNT_NO_MBUF, 1);
		dp_cnt_add(lc, DP_CNT_DROP, 1);
		return NULL;
	}
	dst = rte_pktmbuf_append(j, (uint16_t)rte_pktmbuf_pkt_len(m));
	rte_pktmbuf_read(m, 0, rte_pktmbuf_pkt_len(m), dst);
	j->l2_len = m->l2_len;
	j->l3_len = m->l3_len;
	j->port = m->port;
	rte_pktmbuf_free(m);
	return j;
}

/*
 * Feed one fragment to this lcore's table. Returns the datagram when it is
 * complete and for a SIP port (meta filled), NULL otherwise (kept in the
 * table, or dropped and counted; freed mbufs go to the death row).
 */
static struct rte_mbuf *
dp_reassemble(struct dp_lcore *lc, struct rte_mbuf *m, bool v6,
	      uint64_t now, struct dp_udp_meta *meta)
{
	const uint32_t dr_before = lc->dr.cnt;
	struct rte_mbuf *r;
	enum dp_verdict v;

	if (v6) {
		struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(m,
			struct rte_ipv6_hdr *, m->l2_len);

		r = rte_ipv6_frag_reassemble_packet(lc->frag_tbl, &lc->dr, m,
			now, ip6, rte_ipv6_frag_get_ipv6_fragment_header(ip6));
	} else {
		r = rte_ipv4_frag_reassemble_packet(lc->frag_tbl, &lc->dr, m,
			now, rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
						     m->l2_len));
	}
	if (lc->dr.cnt != dr_before) {
		dp_cnt_add(lc, DP_CNT_FRAG_DROP, lc->dr.cnt - dr_before);
		dp_cnt_add(lc, DP_CNT_DROP, lc->dr.cnt - dr_before);
	}
	if (r == NULL)
		return NULL;
	dp_cnt_add(lc, DP_CNT_FRAG_REASSEMBLED, 1);
	r = dp_reasm_flatten(lc, r);
	if (r == NULL)
		return NULL;

	r->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (v6) {
		struct rte_ipv6_hdr *ip6 = rte_pktmbuf_mtod_offset(r,
			struct rte_ipv6_hdr *, r->l2_len);
		uint16_t plen = rte_be_to_cpu_16(ip6->payload_len);

		if (ip6->proto != IPPROTO_UDP ||
		    plen > rte_pktmbuf_pkt_len(r) - r->l2_len - sizeof(*ip6))
			v = dp_drop_as(lc, DP_CNT_FRAG_DROP);
		else
			v = dp_udp6(lc, r, ip6, plen, false, meta);
	} else {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(r,
			struct rte_ipv4_hdr *, r->l2_len);
		uint16_t tot = rte_be_to_cpu_16(ip->total_length);

		if (tot < sizeof(*ip) ||
		    tot > rte_pktmbuf_pkt_len(r) - r->l2_len)
			v = dp_drop_as(lc, DP_CNT_FRAG_DROP);
		else
			v = dp_udp4(lc, r, ip, (uint16_t)(tot - sizeof(*ip)),
				    false, meta);
	}
	if (v != DP_V_SIP) {
		rte_pktmbuf_free(r);
		dp_cnt_add(lc, DP_CNT_DROP, 1);
		return NULL;
	}
	meta->reassembled = 1;
	return r;
}

/*
 * A neighbour asking for us also tells its own address (RFC 826 "merge",
 * RFC 4861 §7.2.3): give a copy to the service, which refreshes an entry
 * it already has. Rare next to data traffic, so one copy each.
 */
static void
dp_glean(struct dp_lcore *lc, const struct rte_mbuf *m)
{
	struct dp_mbuf_priv *pv;
	struct rte_mbuf *c;

	c = rte_pktmbuf_copy(m, lc->ifc->pool, 0, UINT32_MAX);
	if (unlikely(c == NULL)) {
		dp_cnt_add(lc, DP_CNT_NO_MBUF, 1);
		return;
	}
	c->l2_len = m->l2_len;
	pv = rte_mbuf_to_priv(c);
	pv->kind = DP_PRIV_LEARN;
	pv->worker = lc->idx;
	if (unlikely(rte_ring_mp_enqueue(lc->svc_ring, c) != 0)) {
		rte_pktmbuf_free(c);
		dp_cnt_add(lc, DP_CNT_SVC_RING_FULL, 1);
	}
}

/*
 * Complete the descriptor of a SIP datagram and strip its VLAN tag: the
 * SIP stage sees an untagged frame and the VLAN ID in the descriptor.
 */
static void
dp_sip_prepare(struct rte_mbuf *m, struct dp_udp_meta *meta)
{
	const struct rte_ether_hdr *eh;

	meta->vlan = 0;
	if (m->l2_len > RTE_ETHER_HDR_LEN && rte_vlan_strip(m) == 0) {
		meta->vlan = m->vlan_tci & 0xfff;
		m->l2_len = RTE_ETHER_HDR_LEN;
		meta->payload_off = (uint16_t)(meta->payload_off -
					       sizeof(struct rte_vlan_hdr));
	}
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	meta->src_mac = eh->src_addr;
}

static void
dp_burst(struct dp_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *drop[DP_BURST], *punt[DP_BURST], *sip[DP_BURST];
	struct dp_udp_meta meta[DP_BURST], smeta[DP_BURST];
	uint8_t verdict[DP_BURST];
	uint16_t i, ndrop = 0, npunt = 0, nsip = 0;
	uint64_t now = 0;

	/* Stage 1: decide for the whole burst, touching each packet once. */
	for (i = 0; i < n; i++) {
		if (i + DP_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DP_PREFETCH],
						       void *));
		verdict[i] = dp_classify(lc, pkts[i], &meta[i]);
	}

	/* Stage 2: act on the decisions, grouped by kind. */
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		switch (verdict[i]) {
		case DP_V_ARP_REPLY:
			dp_glean(lc, m);
			dp_arp_reply(lc, m);
			dp_txq_push(lc, m);
			break;
		case DP_V_ECHO4:
			dp_echo4_reply(lc, m);
			dp_txq_push(lc, m);
			break;
		case DP_V_ECHO6:
			dp_echo6_reply(lc, m);
			dp_txq_push(lc, m);
			break;
		case DP_V_ND_NA:
			dp_glean(lc, m);
			if (dp_nd_na(lc, m) == 0) {
				dp_txq_push(lc, m);
			} else {
				/* no tailroom for the advertisement */
				dp_cnt_add(lc, DP_CNT_NO_MBUF, 1);
				drop[ndrop++] = m;
			}
			break;
		case DP_V_PUNT: {
			struct dp_mbuf_priv *pv = rte_mbuf_to_priv(m);

			pv->kind = DP_PRIV_LEARN;
			pv->worker = lc->idx;
			punt[npunt++] = m;
			break;
		}
		case DP_V_FRAG4:
		case DP_V_FRAG6:
			if (now == 0)
				now = rte_rdtsc();
			m = dp_reassemble(lc, m, verdict[i] == DP_V_FRAG6, now,
					  &smeta[nsip]);
			if (m != NULL) {
				dp_sip_prepare(m, &smeta[nsip]);
				sip[nsip++] = m;
			}
			break;
		case DP_V_SIP:
			smeta[nsip] = meta[i];
			smeta[nsip].reassembled = 0;
			dp_sip_prepare(m, &smeta[nsip]);
			sip[nsip++] = m;
			break;
		default:
			drop[ndrop++] = m;
			break;
		}
	}

	if (npunt != 0) {
		unsigned int k = rte_ring_mp_enqueue_burst(lc->svc_ring,
			(void **)punt, npunt, NULL);

		if (unlikely(k < npunt)) {
			dp_cnt_add(lc, DP_CNT_SVC_RING_FULL, npunt - k);
			for (i = (uint16_t)k; i < npunt; i++)
				drop[ndrop++] = punt[i];
		}
	}
	if (ndrop != 0) {
		rte_pktmbuf_free_bulk(drop, ndrop);
		dp_cnt_add(lc, DP_CNT_DROP, ndrop);
	}
	if (nsip != 0) {
		dp_cnt_add(lc, DP_CNT_SIP_RX, nsip);
		dp_sip_burst(lc, sip, smeta, nsip);
	}
	/* Fragments that timed out or overflowed were put on the death row. */
	if (lc->dr.cnt != 0)
		rte_ip_frag_free_death_row(&lc->dr, DP_PREFETCH);
	dp_cnt_add(lc, DP_CNT_RX, n);
}

/* Frames the service built (ARP/NS) and outputs it held until resolved. */
static void
dp_inject_drain(struct dp_lcore *lc)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int i, n;

	n = rte_ring_sc_dequeue_burst(lc->inject, (void **)pkts, DP_BURST,
				      NULL);
	for (i = 0; i < n; i++) {
		struct dp_mbuf_priv *pv = rte_mbuf_to_priv(pkts[i]);

		if (pv->kind == DP_PRIV_L3) {
			dp_cnt_add(lc, DP_CNT_NEIGH_RESOLVED, 1);
			dp_ip_output(lc, pkts[i]);
		} else {
			pv->kind = DP_PRIV_NONE;
			dp_txq_push(lc, pkts[i]);
		}
	}
}

/*
 * Datagrams whose fragments stopped coming would pin their mbufs until
 * the table needs the slot: sweep what outlived DP_FRAG_TTL_MS now and
 * then (the sweep stops at the first live entry of the LRU list).
 */
static void
dp_frag_gc(struct dp_lcore *lc)
{
	const uint32_t dr_before = lc->dr.cnt;
	uint64_t now = rte_rdtsc();

	if (now < lc->frag_gc_tsc)
		return;
	lc->frag_gc_tsc = now + lc->frag_gc_period;
	rte_ip_frag_table_del_expired_entries(lc->frag_tbl, &lc->dr, now);
	if (lc->dr.cnt != dr_before) {
		dp_cnt_add(lc, DP_CNT_FRAG_DROP, lc->dr.cnt - dr_before);
		dp_cnt_add(lc, DP_CNT_DROP, lc->dr.cnt - dr_before);
		rte_ip_frag_free_death_row(&lc->dr, DP_PREFETCH);
	}
}

uint16_t
dp_worker_poll(struct dp_lcore *lc)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t n;

	n = rte_eth_rx_burst(lc->port, lc->queue, pkts, DP_BURST);
	if (n != 0)
		dp_burst(lc, pkts, n);
	dp_inject_drain(lc);
	dp_txq_flush(lc);
	dp_frag_gc(lc);
	return n;
}

int
dp_worker_main(void *arg)
{
	struct dp_lcore *lc = arg;

	urcu_qsbr_register_thread();

	while (!__atomic_load_n(&dp_quit, __ATOMIC_RELAXED)) {
		dp_worker_poll(lc);
		urcu_qsbr_quiescent_state();
	}

	urcu_qsbr_unregister_thread();
	return 0;
}
