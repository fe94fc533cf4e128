/* SPDX-License-Identifier: MIT */
/*
 * dp_tx.c - output side of a worker: tx buffering, neighbour lookup, the
 * UDP send helpers the SIP stage calls, Ethernet/VLAN framing and
 * fragmentation of datagrams larger than the MTU.
 *
 * HOT PATH (dataplane/HOTPATH.md): no allocation other than mbufs, no
 * locks, no syscalls, no logging. Problems are counted.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dp.h"
#include "dp_cksum.h"
#include "dp_classify.h"

#define DP_NEIGH_READ_TRIES     4

void
dp_txq_flush(struct dp_lcore *lc)
{
	struct dp_txq *q = &lc->txq;
	uint16_t k;

	if (q->n == 0)
		return;
	k = rte_eth_tx_burst(lc->port, lc->queue, q->pkts, q->n);
	dp_cnt_add(lc, DP_CNT_TX, k);
	if (unlikely(k < q->n)) {
		/* [k, n) still belong to us (STYLE.md 2.7). */
		rte_pktmbuf_free_bulk(&q->pkts[k], q->n - k);
		dp_cnt_add(lc, DP_CNT_TX_FULL, q->n - k);
		dp_cnt_add(lc, DP_CNT_DROP, q->n - k);
	}
	q->n = 0;
}

void
dp_txq_push(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct dp_txq *q = &lc->txq;

	if (unlikely(q->n == DP_TXQ_LEN))
		dp_txq_flush(lc);
	q->pkts[q->n++] = m;
}

static void
dp_tx_drop(struct dp_lcore *lc, struct rte_mbuf *m, enum dp_counter c)
{
	rte_pktmbuf_free(m);
	dp_cnt_add(lc, c, 1);
	dp_cnt_add(lc, DP_CNT_DROP, 1);
}

/*
 * Readers never wait: the service bumps seq to odd, writes, bumps it to
 * even. A reader that sees an odd or changed seq retries a few times and
 * otherwise treats the entry as missing (the service then answers).
 */
int
dp_neigh_lookup(const struct dp_neigh_tbl *t, const struct dp_ip *ip,
		struct rte_ether_addr *mac)
{
	const unsigned int len = dp_ip_len(ip);
	const uint8_t *key = dp_ip_bytes(ip);
	uint32_t h = dp_neigh_hash(ip);
	unsigned int k, tries;

	for (k = 0; k < DP_NEIGH_PROBE; k++) {
		const struct dp_neigh_entry *e = &t->e[(h + k) & t->mask];

		for (tries = 0; tries < DP_NEIGH_READ_TRIES; tries++) {
			struct dp_neigh_entry copy;
			uint32_t s1, s2;

			s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
			if (s1 & 1)
				continue;
			memcpy(&copy, e, sizeof(copy));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
			if (s1 != s2)
				continue;
			if (copy.state == DP_NEIGH_FREE ||
			    copy.family != ip->family ||
			    memcmp(copy.ip, key, len) != 0)
				break;          /* next slot */
			if (copy.state != DP_NEIGH_REACHABLE)
				return -ENOENT;
			*mac = copy.mac;
			return 0;
		}
	}
	return -ENOENT;
}

int
dp_route(const struct dp_conf *conf, const struct dp_ip *dst,
	 struct dp_ip *nh)
{
	const struct dp_prefix *p;
	unsigned int i, n;

	p = dst->family == DP_AF_V4 ? conf->addr4 : conf->addr6;
	n = dst->family == DP_AF_V4 ? conf->naddr4 : conf->naddr6;
	for (i = 0; i < n; i++) {
		if (dp_prefix_has(&p[i], dst)) {
			*nh = *dst;
			return 0;
		}
	}
	/* fe80::/10 is on every link (RFC 4291 §2.5.6). */
	if (dst->family == DP_AF_V6 && dst->v6[0] == 0xfe &&
	    (dst->v6[1] & 0xc0) == 0x80) {
		*nh = *dst;
		return 0;
	}
	if (dst->family == DP_AF_V4 && conf->has_gw4) {
		*nh = conf->gw4;
		return 0;
	}
	if (dst->family == DP_AF_V6 && conf->has_gw6) {
		*nh = conf->gw6;
		return 0;
	}
	return -EHOSTUNREACH;
}

/* Prepend Ethernet (and 802.1Q when @p vlan) to an IP packet. */
static int
dp_l2_prepend(struct dp_lcore *lc, struct rte_mbuf *m,
	      const struct rte_ether_addr *dmac, uint16_t vlan, bool v6)
{
	const uint16_t l2 = RTE_ETHER_HDR_LEN + (vlan != 0 ? 4 : 0);
	struct rte_ether_hdr *eh;
	uint16_t type = v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4;

	eh = (struct rte_ether_hdr *)(void *)rte_pktmbuf_prepend(m, l2);
	if (unlikely(eh == NULL))
		return -ENOSPC;
	rte_ether_addr_copy(dmac, &eh->dst_addr);
	rte_ether_addr_copy(&lc->ifc->mac, &eh->src_addr);
	if (vlan != 0) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);

		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(vlan);
		vh->eth_proto = rte_cpu_to_be_16(type);
	} else {
		eh->ether_type = rte_cpu_to_be_16(type);
	}
	m->l2_len = l2;
	return 0;
}

/*
 * Fragment an IP packet (no L2 header, checksums final) to the MTU, frame
 * each fragment and queue it. Consumes @p m.
 */
static int
dp_fragment(struct dp_lcore *lc, struct rte_mbuf *m,
	    const struct rte_ether_addr *dmac, uint16_t vlan, bool v6)
{
	struct rte_mbuf *frags[DP_MAX_FRAGS];
	rte_be32_t id6 = 0;
	int32_t nf;
	int32_t i;

	if (v6)
		nf = rte_ipv6_fragment_packet(m, frags, DP_MAX_FRAGS,
					      lc->conf->mtu, lc->ifc->pool,
					      lc->ifc->indirect);
	else
		nf = rte_ipv4_fragment_packet(m, frags, DP_MAX_FRAGS,
					      lc->conf->mtu, lc->ifc->pool,
					      lc->ifc->indirect);
	/* Fragments hold references to m's data; m itself is ours to free. */
	rte_pktmbuf_free(m);
	if (unlikely(nf <= 0)) {
		dp_cnt_add(lc, DP_CNT_TX_FRAG_FAIL, 1);
		dp_cnt_add(lc, DP_CNT_DROP, 1);
		return -ENOBUFS;
	}
	/* The library leaves the IPv6 Identification to us (RFC 8200 §4.5:
	 * different for every fragmented packet to the same destination;
	 * RFC 7739 §5: unpredictable, or others could inject fragments). */
	if (v6)
		id6 = (uint32_t)rte_rand();
	for (i = 0; i < nf; i++) {
		struct rte_mbuf *f = frags[i];

		if (v6) {
			struct rte_ipv6_hdr *ip6 =
				rte_pktmbuf_mtod(f, struct rte_ipv6_hdr *);
			struct rte_ipv6_fragment_ext *fh =
				(struct rte_ipv6_fragment_ext *)(ip6 + 1);

			fh->id = id6;
		}

		f->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 |
				 RTE_MBUF_F_TX_IP_CKSUM |
				 RTE_MBUF_F_TX_UDP_CKSUM);
		if (!v6) {
			struct rte_ipv4_hdr *ip =
				rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);

			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		/*
		 * A fragment is a header mbuf chained to the datagram's data;
		 * a port that sends one segment per packet only gets it copied
		 * into one (the header mbuf has room for a whole frame).
		 */
		if (unlikely((!(lc->ifc->tx_offloads &
				RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &&
			      f->nb_segs > 1 &&
			      rte_pktmbuf_linearize(f) != 0) ||
			     dp_l2_prepend(lc, f, dmac, vlan, v6) != 0)) {
			/* The datagram cannot be whole: the fragments not yet
			 * queued go too, counted as one failure (the receiver
			 * drops the queued ones at its reassembly timeout). */
			dp_tx_drop(lc, f, DP_CNT_TX_FRAG_FAIL);
			if (i + 1 < nf)
				rte_pktmbuf_free_bulk(&frags[i + 1],
						      (unsigned int)(nf - i - 1));
			dp_cnt_add(lc, DP_CNT_TX_FRAG, (uint64_t)i);
			return -ENOBUFS;
		}
		dp_txq_push(lc, f);
	}
	dp_cnt_add(lc, DP_CNT_TX_FRAG, (uint64_t)nf);
	return 0;
}

/* Frame (or fragment) and queue an IP packet whose next-hop MAC is known. */
static int
dp_l2_output(struct dp_lcore *lc, struct rte_mbuf *m,
	     const struct rte_ether_addr *dmac, uint16_t vlan)
{
	const bool v6 = (*rte_pktmbuf_mtod(m, uint8_t *) >> 4) == 6;

	if (m->pkt_len > lc->conf->mtu)
		return dp_fragment(lc, m, dmac, vlan, v6);
	if (unlikely(dp_l2_prepend(lc, m, dmac, vlan, v6) != 0)) {
		dp_tx_drop(lc, m, DP_CNT_NO_MBUF);
		return -ENOSPC;
	}
	dp_txq_push(lc, m);
	return 0;
}

/* Resolve @p nh and output, or pass the packet to the service to hold. */
static int
dp_nh_output(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_ip *nh)
{
	struct rte_ether_addr mac;
	struct dp_mbuf_priv *pv;

	if (dp_neigh_lookup(lc->neigh, nh, &mac) == 0)
		return dp_l2_output(lc, m, &mac, lc->conf->vlan);

	pv = rte_mbuf_to_priv(m);
	pv->nexthop = *nh;
	pv->worker = lc->idx;
	pv->kind = DP_PRIV_L3;
	if (unlikely(rte_ring_mp_enqueue(lc->svc_ring, m) != 0)) {
		dp_tx_drop(lc, m, DP_CNT_SVC_RING_FULL);
		return -ENOBUFS;
	}
	dp_cnt_add(lc, DP_CNT_NEIGH_MISS, 1);
	return 0;
}

/* Output of a packet coming back from the service after resolution. */
int
dp_ip_output(struct dp_lcore *lc, struct rte_mbuf *m)
{
	struct dp_mbuf_priv *pv = rte_mbuf_to_priv(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	struct dp_ip dst, nh;
	int rc;

	if (pv->kind == DP_PRIV_L3) {
		pv->kind = DP_PRIV_NONE;
		nh = pv->nexthop;
		return dp_nh_output(lc, m, &nh);
	}
	memset(&dst, 0, sizeof(dst));
	if ((p[0] >> 4) == 6) {
		dst.family = DP_AF_V6;
		memcpy(dst.v6, ((const struct rte_ipv6_hdr *)p)->dst_addr, 16);
	} else {
		dst.family = DP_AF_V4;
		dst.v4 = ((const struct rte_ipv4_hdr *)p)->dst_addr;
	}
	rc = dp_route(lc->conf, &dst, &nh);
	if (unlikely(rc != 0)) {
		dp_tx_drop(lc, m, DP_CNT_NO_ROUTE);
		return rc;
	}
	return dp_nh_output(lc, m, &nh);
}

/* rte_ipv4_udptcp_cksum() / rte_ipv6_udptcp_cksum() for a UDP datagram
 * whose header @p phdr is the pseudo-header sum. */
static inline uint16_t
dp_udp_cksum(uint16_t phdr, const struct rte_udp_hdr *udp)
{
	uint32_t c = dp_cksum_raw(udp, rte_be_to_cpu_16(udp->dgram_len));

	c += phdr;
	c = (c & 0xffff) + (c >> 16);
	c = (~c) & 0xffff;
	return c == 0 ? 0xffff : (uint16_t)c;
}

/*
 * Prepend UDP and IP headers to the payload in @p m, which has the
 * headroom for them. @p ol holds the checksum offloads to use
 * (RTE_ETH_TX_OFFLOAD_UDP_CKSUM, _IPV4_CKSUM), 0 to compute both here;
 * @p ip_id is the IPv4 identification; @p dscp goes into the IPv4 TOS or
 * IPv6 Traffic Class (RFC 2474), ECN bits 0.
 */
static inline __attribute__((always_inline)) void
dp_udp_hdrs(struct rte_mbuf *m, const struct dp_ip *src, uint16_t sport,
	    const struct dp_ip *dst, uint16_t dport, uint64_t ol,
	    uint16_t ip_id, uint8_t dscp)
{
	const uint32_t plen = rte_pktmbuf_pkt_len(m);
	const uint16_t l3 = dst->family == DP_AF_V4 ?
		sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	struct rte_udp_hdr *udp;

	udp = (struct rte_udp_hdr *)rte_pktmbuf_prepend(m, sizeof(*udp));
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(plen + sizeof(*udp)));
	udp->dgram_cksum = 0;

	m->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 |
			 RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
	m->l3_len = l3;
	m->l4_len = sizeof(*udp);

	if (dst->family == DP_AF_V4) {
		struct rte_ipv4_hdr *ip;

		ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, l3);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = (uint8_t)(dscp << 2);
		ip->total_length = rte_cpu_to_be_16((uint16_t)m->pkt_len);
		ip->packet_id = rte_cpu_to_be_16(ip_id);
		ip->fragment_offset = 0;
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->hdr_checksum = 0;
		ip->src_addr = src->v4;
		ip->dst_addr = dst->v4;
		if (ol & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
			m->ol_flags |= RTE_MBUF_F_TX_IPV4 |
				RTE_MBUF_F_TX_UDP_CKSUM;
			udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		} else {
			udp->dgram_cksum = dp_udp_cksum(dp_cksum_ipv4_phdr(
				ip->src_addr, ip->dst_addr, IPPROTO_UDP,
				(uint16_t)(plen + sizeof(*udp))), udp);
		}
		if (ol & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
			m->ol_flags |= RTE_MBUF_F_TX_IPV4 |
				RTE_MBUF_F_TX_IP_CKSUM;
		else
			ip->hdr_checksum = dp_cksum_ipv4_hdr(ip);
	} else {
		struct rte_ipv6_hdr *ip;

		ip = (struct rte_ipv6_hdr *)rte_pktmbuf_prepend(m, l3);
		ip->vtc_flow = rte_cpu_to_be_32(UINT32_C(6) << 28 |
						 (uint32_t)dscp << 22);
		ip->payload_len = udp->dgram_len;
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, src->v6, 16);
		memcpy(ip->dst_addr, dst->v6, 16);
		if (ol & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
			m->ol_flags |= RTE_MBUF_F_TX_IPV6 |
				RTE_MBUF_F_TX_UDP_CKSUM;
			udp->dgram_cksum = rte_ipv6_phdr_cksum(ip, m->ol_flags);
		} else {
			udp->dgram_cksum = dp_udp_cksum(
				rte_ipv6_phdr_cksum(ip, 0), udp);
		}
	}
}

/* Whether @p m has room for the headers dp_udp_hdrs() prepends. */
static inline bool
dp_udp_room(const struct rte_mbuf *m, const struct dp_ip *dst)
{
	const uint16_t l3 = dst->family == DP_AF_V4 ?
		sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);

	return rte_pktmbuf_pkt_len(m) + l3 + sizeof(struct rte_udp_hdr) <=
	       UINT16_MAX && rte_pktmbuf_is_contiguous(m) &&
	       rte_pktmbuf_headroom(m) >= DP_TX_HEADROOM4 &&
	       (dst->family == DP_AF_V4 ||
		rte_pktmbuf_headroom(m) >= DP_TX_HEADROOM);
}

/*
 * dp_udp_hdrs() for a worker: checksums are left to the port when it
 * offloads them and the datagram fits the MTU; otherwise (fragments need
 * the checksum of the whole datagram) computed here.
 */
static int
dp_udp_encap(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_ip *src,
	     uint16_t sport, const struct dp_ip *dst, uint16_t dport)
{
	const uint16_t l3 = dst->family == DP_AF_V4 ?
		sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	uint64_t ol = 0;
	uint16_t id;

	if (unlikely(!dp_udp_room(m, dst)))
		return -ENOSPC;
	if (rte_pktmbuf_pkt_len(m) + sizeof(struct rte_udp_hdr) + l3 <=
	    lc->conf->mtu) {
		ol = lc->ifc->tx_offloads & (RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
					     RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
		id = dp_ip4_id(lc, lc->ip4_seq++);
	} else {
		/* To be fragmented: an ID nobody can guess (RFC 7739 §5),
		 * so that nobody can slip in a fragment of their own. */
		id = (uint16_t)rte_rand();
	}
	dp_udp_hdrs(m, src, sport, dst, dport, ol, id, lc->conf->dscp);
	return 0;
}

int
dp_udp_prepend(struct rte_mbuf *m, const struct dp_ip *src, uint16_t sport,
	       const struct dp_ip *dst, uint16_t dport, uint8_t dscp)
{
	if (!dp_udp_room(m, dst))
		return -ENOSPC;
	dp_udp_hdrs(m, src, sport, dst, dport, 0, 0, dscp);
	return 0;
}

int
dp_udp_reply(struct dp_lcore *lc, struct rte_mbuf *m,
	     const struct dp_udp_meta *req, uint16_t dport)
{
	int rc;

	rc = dp_udp_encap(lc, m, &req->dst, req->dport, &req->src, dport);
	if (unlikely(rc != 0)) {
		dp_tx_drop(lc, m, DP_CNT_NO_MBUF);
		return rc;
	}
	dp_cnt_add(lc, DP_CNT_UDP_TX, 1);
	return dp_l2_output(lc, m, &req->src_mac, req->vlan);
}

int
dp_udp_send(struct dp_lcore *lc, struct rte_mbuf *m,
	    const struct dp_ip *src, uint16_t sport,
	    const struct dp_ip *dst, uint16_t dport)
{
	struct dp_ip s, nh;
	int rc;

	/* The last check of every SIP output (proxy forwards and relays,
	 * whatever the message named): never to a group, broadcast,
	 * loopback or our own address. */
	if (unlikely(!dp_ip_other_host(lc->conf, dst))) {
		dp_tx_drop(lc, m, DP_CNT_TX_BAD_DST);
		return -EADDRNOTAVAIL;
	}
	rc = dp_route(lc->conf, dst, &nh);
	if (unlikely(rc != 0)) {
		dp_tx_drop(lc, m, DP_CNT_NO_ROUTE);
		return rc;
	}
	if (unlikely(src != NULL && src->family != dst->family)) {
		dp_tx_drop(lc, m, DP_CNT_NO_SRC);
		return -EINVAL;
	}
	if (src == NULL) {
		rc = dp_src_select(lc->conf, dst, &s);
		if (unlikely(rc != 0)) {
			dp_tx_drop(lc, m, DP_CNT_NO_SRC);
			return rc;
		}
		src = &s;
	}
	rc = dp_udp_encap(lc, m, src, sport, dst, dport);
	if (unlikely(rc != 0)) {
		dp_tx_drop(lc, m, DP_CNT_NO_MBUF);
		return rc;
	}
	dp_cnt_add(lc, DP_CNT_UDP_TX, 1);
	return dp_nh_output(lc, m, &nh);
}

struct rte_mbuf *
dp_pkt_alloc(struct dp_lcore *lc, uint32_t len)
{
	struct rte_mempool *mp = lc->ifc->pool;
	struct rte_mbuf *m;

	if (len + RTE_PKTMBUF_HEADROOM >
	    rte_pktmbuf_data_room_size(lc->ifc->pool))
		mp = lc->ifc->jumbo;
	if (unlikely(len + RTE_PKTMBUF_HEADROOM >
		     rte_pktmbuf_data_room_size(mp))) {
		dp_cnt_add(lc, DP_CNT_NO_MBUF, 1);
		return NULL;
	}
	m = rte_pktmbuf_alloc(mp);
	if (unlikely(m == NULL))
		dp_cnt_add(lc, DP_CNT_NO_MBUF, 1);
	return m;
}
