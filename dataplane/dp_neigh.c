/* SPDX-License-Identifier: MIT */
/*
 * dp_neigh.c - the neighbour table's writer side: learning from ARP
 * replies and neighbour advertisements, holding outputs until their next
 * hop resolves, sending ARP requests and neighbour solicitations, ageing.
 *
 * SLOW PATH: service thread only (the one writer of the table). Workers
 * read the table in dp_tx.c and reach this file only through the service
 * ring.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp.h"
#include "dp_classify.h"

#define DP_NEIGH_MIN            16
#define DP_NEIGH_RETRY_MS       1000    /* between requests */
#define DP_NEIGH_TRIES          3       /* requests before giving up */
#define DP_NEIGH_REACHABLE_S    60      /* confirmed entries re-probed after */
#define DP_ND_NS_LEN            32      /* NS header + target + SLLA option */
#define DP_NEIGH_NEW_PER_S      500     /* new unresolved entries a second */

static void
dp_svc_cnt(struct dp_service *svc, enum dp_svc_counter c, uint64_t n)
{
	__atomic_store_n(&svc->cnt[c], svc->cnt[c] + n, __ATOMIC_RELAXED);
}

int
dp_neigh_tbl_new(uint32_t size, int socket, struct dp_neigh_tbl **out)
{
	struct dp_neigh_tbl *t;

	size = rte_align32pow2(size < DP_NEIGH_MIN ? DP_NEIGH_MIN : size);
	t = rte_zmalloc_socket("dp_neigh", sizeof(*t), 0, socket);
	if (t == NULL)
		return -ENOMEM;
	t->mask = size - 1;
	t->e = rte_zmalloc_socket("dp_neigh_e", size * sizeof(*t->e),
				  RTE_CACHE_LINE_SIZE, socket);
	if (t->e == NULL)
		goto out_free_t;
	t->s = rte_zmalloc_socket("dp_neigh_s", size * sizeof(*t->s),
				  RTE_CACHE_LINE_SIZE, socket);
	if (t->s == NULL)
		goto out_free_e;
	*out = t;
	return 0;

out_free_e:
	rte_free(t->e);
out_free_t:
	rte_free(t);
	return -ENOMEM;
}

void
dp_neigh_tbl_free(struct dp_neigh_tbl *t)
{
	uint32_t i, k;

	if (t == NULL)
		return;
	for (i = 0; i <= t->mask; i++) {
		for (k = 0; k < t->s[i].nheld; k++)
			rte_pktmbuf_free(t->s[i].held[k]);
	}
	rte_free(t->s);
	rte_free(t->e);
	rte_free(t);
}

/* Publish one entry: readers see the old or the new one, never a mix. */
static void
dp_neigh_write(struct dp_neigh_entry *e, uint8_t state, const struct dp_ip *ip,
	       const struct rte_ether_addr *mac)
{
	uint32_t s = e->seq;

	__atomic_store_n(&e->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->state = state;
	if (ip != NULL) {
		e->family = ip->family;
		memset(e->ip, 0, sizeof(e->ip));
		memcpy(e->ip, dp_ip_bytes(ip), dp_ip_len(ip));
	}
	if (mac != NULL)
		e->mac = *mac;
	__atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
}

static bool
dp_neigh_is(const struct dp_neigh_entry *e, const struct dp_ip *ip)
{
	return e->state != DP_NEIGH_FREE && e->family == ip->family &&
	       memcmp(e->ip, dp_ip_bytes(ip), dp_ip_len(ip)) == 0;
}

/* Slot of @p ip in its probe run, or -ENOENT. */
static int
dp_neigh_find(const struct dp_neigh_tbl *t, const struct dp_ip *ip)
{
	uint32_t h = dp_neigh_hash(ip), k;

	for (k = 0; k < DP_NEIGH_PROBE; k++) {
		uint32_t i = (h + k) & t->mask;

		if (dp_neigh_is(&t->e[i], ip))
			return (int)i;
	}
	return -ENOENT;
}

/* Is entry @p e one of the configured gateways? */
static bool
dp_neigh_is_gw(const struct dp_conf *c, const struct dp_neigh_entry *e)
{
	return (c->has_gw4 && dp_neigh_is(e, &c->gw4)) ||
	       (c->has_gw6 && dp_neigh_is(e, &c->gw6));
}

/* Is @p ip one of the configured gateways? */
static bool
dp_neigh_ip_is_gw(const struct dp_conf *c, const struct dp_ip *ip)
{
	return (c->has_gw4 && dp_ip_eq(ip, &c->gw4)) ||
	       (c->has_gw6 && dp_ip_eq(ip, &c->gw6));
}

/*
 * Slot for a new entry: a free one in the probe run, else the unresolved
 * entry asked longest ago (next hops that do not answer: what a flood of
 * made-up ones leaves), else the reachable entry confirmed longest ago.
 * The gateways (every off-link output needs them; next hops an attacker
 * chooses, through Route or Via values, must not push them out) are never
 * evicted; -ENOSPC if nothing else is in the run.
 */
static int
dp_neigh_claim(struct dp_neigh_tbl *t, const struct dp_conf *c,
	       const struct dp_ip *ip)
{
	uint32_t h = dp_neigh_hash(ip), k;
	int old_inc = -ENOSPC, old_reach = -ENOSPC;

	for (k = 0; k < DP_NEIGH_PROBE; k++) {
		uint32_t i = (h + k) & t->mask;

		if (t->e[i].state == DP_NEIGH_FREE)
			return (int)i;
		if (dp_neigh_is_gw(c, &t->e[i]))
			continue;
		if (t->e[i].state == DP_NEIGH_INCOMPLETE &&
		    (old_inc < 0 || t->s[i].req_tsc < t->s[old_inc].req_tsc))
			old_inc = (int)i;
		else if (t->e[i].state == DP_NEIGH_REACHABLE &&
			 (old_reach < 0 ||
			  t->s[i].seen_tsc < t->s[old_reach].seen_tsc))
			old_reach = (int)i;
	}
	return old_inc >= 0 ? old_inc : old_reach;
}

/* Free what entry @p s holds, counted as dropped. */
static void
dp_neigh_drop_held(struct dp_service *svc, struct dp_neigh_svc *s)
{
	dp_svc_cnt(svc, DP_SVC_HELD_DROP, s->nheld);
	svc->nheld -= s->nheld;
	for (; s->nheld != 0; s->nheld--)
		rte_pktmbuf_free(s->held[s->nheld - 1]);
}

/* Hand a frame or a resolved output to a worker (the only producer). */
static void
dp_neigh_inject(struct dp_service *svc, uint16_t worker, struct rte_mbuf *m)
{
	if (worker >= svc->nb_workers)
		worker = 0;
	if (svc->nb_workers == 0 ||
	    rte_ring_sp_enqueue(svc->workers[worker].inject, m) != 0) {
		rte_pktmbuf_free(m);
		dp_svc_cnt(svc, DP_SVC_INJECT_FULL, 1);
	}
}

static struct rte_mbuf *
dp_neigh_frame(struct dp_service *svc, const struct rte_ether_addr *dst,
	       uint16_t type, uint16_t l3len, void **l3)
{
	const uint16_t vlan = svc->ifc->conf->vlan;
	struct rte_ether_hdr *eh;
	struct rte_mbuf *m;
	char *p;

	m = rte_pktmbuf_alloc(svc->ifc->pool);
	if (m == NULL) {
		dp_svc_cnt(svc, DP_SVC_NO_MBUF, 1);
		return NULL;
	}
	p = rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN +
			       (vlan != 0 ? 4 : 0) + l3len));
	eh = (struct rte_ether_hdr *)(void *)p;
	eh->dst_addr = *dst;
	eh->src_addr = svc->ifc->mac;
	if (vlan != 0) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);

		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(vlan);
		vh->eth_proto = rte_cpu_to_be_16(type);
		*l3 = vh + 1;
	} else {
		eh->ether_type = rte_cpu_to_be_16(type);
		*l3 = eh + 1;
	}
	((struct dp_mbuf_priv *)rte_mbuf_to_priv(m))->kind = DP_PRIV_FRAME;
	return m;
}

/* RFC 826 request, broadcast. */
static void
dp_neigh_arp_request(struct dp_service *svc, const struct dp_ip *target,
		     uint16_t worker)
{
	const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	struct rte_arp_hdr *arp;
	struct rte_mbuf *m;
	struct dp_ip src;
	void *l3;

	if (dp_src_select(svc->ifc->conf, target, &src) != 0)
		return;
	m = dp_neigh_frame(svc, &bcast, RTE_ETHER_TYPE_ARP, sizeof(*arp), &l3);
	if (m == NULL)
		return;
	arp = l3;
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = svc->ifc->mac;
	arp->arp_data.arp_sip = src.v4;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = target->v4;
	dp_svc_cnt(svc, DP_SVC_ARP_REQ_SENT, 1);
	dp_neigh_inject(svc, worker, m);
}

/* RFC 4861 §7.2.2: NS to the solicited-node group of the target. */
/* The solicited-node group of the address whose last 3 bytes are at
 * @p low: ff02::1:ffXX:XXXX (RFC 4291 §2.7.1). */
static void
dp_neigh_sn_group(uint8_t out[16], const uint8_t *low)
{
	memset(out, 0, 16);
	out[0] = 0xff;
	out[1] = 0x02;
	out[11] = 0x01;
	out[12] = 0xff;
	memcpy(&out[13], low, 3);
}

static void
dp_neigh_ns(struct dp_service *svc, const struct dp_ip *target,
	    uint16_t worker)
{
	struct rte_ether_addr dst = { .addr_bytes = { 0x33, 0x33, 0xff } };
	struct rte_ipv6_hdr *ip;
	struct rte_mbuf *m;
	struct dp_ip src;
	uint8_t *ic;
	void *l3;

	if (dp_src_select(svc->ifc->conf, target, &src) != 0)
		return;
	memcpy(&dst.addr_bytes[3], &target->v6[13], 3);
	m = dp_neigh_frame(svc, &dst, RTE_ETHER_TYPE_IPV6,
			   sizeof(*ip) + DP_ND_NS_LEN, &l3);
	if (m == NULL)
		return;
	ip = l3;
	ic = (uint8_t *)(ip + 1);
	ip->vtc_flow = rte_cpu_to_be_32(UINT32_C(6) << 28);
	ip->payload_len = rte_cpu_to_be_16(DP_ND_NS_LEN);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	memcpy(ip->src_addr, src.v6, 16);
	dp_neigh_sn_group(ip->dst_addr, &target->v6[13]);
	memset(ic, 0, DP_ND_NS_LEN);
	ic[0] = DP_ND_NS;
	memcpy(ic + 8, target->v6, 16);
	ic[24] = DP_ND_OPT_SLLA;
	ic[25] = 1;
	memcpy(ic + 26, &svc->ifc->mac, RTE_ETHER_ADDR_LEN);
	dp_put16(ic + 2, dp_l4_cksum6(ip, ic, DP_ND_NS_LEN));
	dp_svc_cnt(svc, DP_SVC_NS_SENT, 1);
	dp_neigh_inject(svc, worker, m);
}

#define DP_MLD_REPORT           143     /* MLDv2 Report (RFC 3810 §5.2) */
#define DP_MLD_IS_EXCLUDE       2       /* MODE_IS_EXCLUDE */
#define DP_MLD_TO_EXCLUDE       4       /* CHANGE_TO_EXCLUDE_MODE */
#define DP_MLD_HBH_LEN          8       /* Hop-by-Hop: Router Alert, PadN */
#define DP_MLD_REC_LEN          20      /* a record without sources */

int
dp_neigh_mld_report(struct dp_service *svc, bool change)
{
	static const uint8_t hbh[DP_MLD_HBH_LEN] = {
		IPPROTO_ICMPV6, 0,      /* next header, length 8 bytes */
		5, 2, 0, 0,             /* Router Alert (RFC 2711): MLD */
		1, 0,                   /* PadN */
	};
	const struct dp_conf *c = svc->ifc->conf;
	const uint8_t *mac = svc->ifc->mac.addr_bytes;
	struct rte_ether_addr dst = {
		.addr_bytes = { 0x33, 0x33, 0, 0, 0, 0x16 } };
	const uint8_t *grp[DP_MAX_ADDRS];       /* last 3 bytes of each */
	struct rte_ipv6_hdr *ip;
	struct rte_mbuf *m;
	unsigned int i, k, n = 0;
	uint16_t len;
	uint8_t *ic;
	void *l3;

	/* One group per address's last 24 bits (RFC 4291 §2.7.1). */
	for (i = 0; i < c->naddr6; i++) {
		const uint8_t *low = &c->addr6[i].ip.v6[13];

		for (k = 0; k < n && memcmp(grp[k], low, 3) != 0; k++)
			;
		if (k == n)
			grp[n++] = low;
	}
	if (n == 0)
		return 0;
	len = (uint16_t)(8 + n * DP_MLD_REC_LEN);
	m = dp_neigh_frame(svc, &dst, RTE_ETHER_TYPE_IPV6,
			   (uint16_t)(sizeof(*ip) + DP_MLD_HBH_LEN + len), &l3);
	if (m == NULL)
		return 0;
	ip = l3;
	ip->vtc_flow = rte_cpu_to_be_32(UINT32_C(6) << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(DP_MLD_HBH_LEN + len));
	ip->hop_limits = 1;
	/* From our link-local address (RFC 3810 §5.2.13), the modified
	 * EUI-64 of the port's MAC (RFC 4291 §2.5.1). */
	memset(ip->src_addr, 0, 16);
	ip->src_addr[0] = 0xfe;
	ip->src_addr[1] = 0x80;
	ip->src_addr[8] = mac[0] ^ 0x02;
	ip->src_addr[9] = mac[1];
	ip->src_addr[10] = mac[2];
	ip->src_addr[11] = 0xff;
	ip->src_addr[12] = 0xfe;
	memcpy(&ip->src_addr[13], &mac[3], 3);
	memset(ip->dst_addr, 0, 16);
	ip->dst_addr[0] = 0xff;
	ip->dst_addr[1] = 0x02;
	ip->dst_addr[15] = 0x16;        /* all MLDv2-capable routers */
	memcpy(ip + 1, hbh, sizeof(hbh));
	ic = (uint8_t *)(ip + 1) + DP_MLD_HBH_LEN;
	memset(ic, 0, len);
	ic[0] = DP_MLD_REPORT;
	ic[6] = (uint8_t)(n >> 8);
	ic[7] = (uint8_t)n;
	for (k = 0; k < n; k++) {
		uint8_t *r = ic + 8 + k * DP_MLD_REC_LEN;

		r[0] = change ? DP_MLD_TO_EXCLUDE : DP_MLD_IS_EXCLUDE;
		dp_neigh_sn_group(r + 4, grp[k]);
	}
	/* The pseudo-header names ICMPv6, not the Hop-by-Hop header. */
	ip->proto = IPPROTO_ICMPV6;
	dp_put16(ic + 2, dp_l4_cksum6(ip, ic, len));
	ip->proto = 0;                  /* Hop-by-Hop Options */
	dp_svc_cnt(svc, DP_SVC_MLD_SENT, 1);
	dp_neigh_inject(svc, 0, m);
	return 1;
}

static void
dp_neigh_solicit(struct dp_service *svc, uint32_t i, uint16_t worker,
		 uint64_t now)
{
	const struct dp_neigh_entry *e = &svc->neigh->e[i];
	struct dp_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.family = e->family;
	if (e->family == DP_AF_V4)
		memcpy(&ip.v4, e->ip, 4);
	else
		memcpy(ip.v6, e->ip, 16);
	svc->neigh->s[i].req_tsc = now;
	svc->neigh->s[i].tries++;
	if (e->family == DP_AF_V4)
		dp_neigh_arp_request(svc, &ip, worker);
	else
		dp_neigh_ns(svc, &ip, worker);
}

/* An output for an unresolved next hop: hold it and ask. */
static void
dp_neigh_hold(struct dp_service *svc, struct rte_mbuf *m, uint64_t now)
{
	struct dp_mbuf_priv *pv = rte_mbuf_to_priv(m);
	struct dp_neigh_tbl *t = svc->neigh;
	struct dp_neigh_svc *s;
	int i;

	i = dp_neigh_find(t, &pv->nexthop);
	if (i >= 0 && t->e[i].state == DP_NEIGH_REACHABLE) {
		/* Resolved while the packet was in the ring. */
		dp_neigh_inject(svc, pv->worker, m);
		return;
	}
	if (i < 0) {
		/* At most DP_NEIGH_NEW_PER_S new next hops a second: each
		 * costs requests on the link and, unanswered, an entry.
		 * Not the gateways (every off-link output needs them) nor
		 * the probes' targets (the operator's): a flood of next
		 * hops a sender makes up must not keep them unresolved. */
		bool paced = m->pool != svc->ifc->probe &&
			     !dp_neigh_ip_is_gw(svc->ifc->conf, &pv->nexthop);

		if (now - svc->new_tsc >= svc->hz) {
			svc->new_tsc = now;
			svc->new_left = DP_NEIGH_NEW_PER_S;
		}
		if (paced && svc->new_left == 0) {
			dp_svc_cnt(svc, DP_SVC_NEIGH_RATE, 1);
			dp_svc_cnt(svc, DP_SVC_HELD_DROP, 1);
			rte_pktmbuf_free(m);
			return;
		}
		i = dp_neigh_claim(t, svc->ifc->conf, &pv->nexthop);
		if (i < 0) {
			dp_svc_cnt(svc, DP_SVC_NEIGH_FULL, 1);
			dp_svc_cnt(svc, DP_SVC_HELD_DROP, 1);
			rte_pktmbuf_free(m);
			return;
		}
		if (paced)
			svc->new_left--;
		s = &t->s[i];
		if (t->e[i].state == DP_NEIGH_INCOMPLETE)
			dp_svc_cnt(svc, DP_SVC_NEIGH_EVICTED, 1);
		dp_neigh_drop_held(svc, s);
		memset(s, 0, sizeof(*s));
		dp_neigh_write(&t->e[i], DP_NEIGH_INCOMPLETE, &pv->nexthop,
			       NULL);
	}
	s = &t->s[i];
	if (s->nheld == DP_NEIGH_HOLD || svc->nheld >= svc->held_max) {
		dp_svc_cnt(svc, DP_SVC_HELD_DROP, 1);
		rte_pktmbuf_free(m);
	} else {
		s->held[s->nheld++] = m;
		svc->nheld++;
		dp_svc_cnt(svc, DP_SVC_HELD, 1);
	}
	if (s->tries == 0)
		dp_neigh_solicit(svc, (uint32_t)i, pv->worker, now);
}

/* How a frame vouches for a neighbour's address (dp_neigh_learn()). */
enum dp_neigh_news {
	DP_NEWS_CONFIRM = 1,    /* reachability confirmed (ARP, solicited NA) */
	DP_NEWS_OVERRIDE = 2,   /* may replace a different cached MAC */
};

/*
 * News of @p ip at @p mac (NULL: an NA without a target link-layer
 * address) with @p news (enum dp_neigh_news bits): update a known entry
 * and release what it holds. Unknown senders are not added (no table
 * pollution). RFC 4861 §7.2.5: an incomplete entry needs the MAC; a
 * complete one keeps its MAC against an NA without Override, and only a
 * confirmation resets its age (an unsolicited NA or an NS does not, so
 * the entry is re-probed on schedule).
 */
static void
dp_neigh_learn(struct dp_service *svc, const struct dp_ip *ip,
	       const struct rte_ether_addr *mac, unsigned int news,
	       uint64_t now)
{
	struct dp_neigh_tbl *t = svc->neigh;
	struct dp_neigh_svc *s;
	bool incomplete;
	uint8_t k;
	int i;

	i = dp_neigh_find(t, ip);
	if (i < 0)
		return;
	s = &t->s[i];
	incomplete = t->e[i].state == DP_NEIGH_INCOMPLETE;
	if (mac == NULL && !incomplete && (news & DP_NEWS_CONFIRM)) {
		s->seen_tsc = now;      /* confirmed, MAC unchanged */
		s->tries = 0;
		return;
	}
	if (mac == NULL ||
	    (!incomplete && !(news & DP_NEWS_OVERRIDE) &&
	     !rte_is_same_ether_addr(mac, &t->e[i].mac))) {
		dp_svc_cnt(svc, DP_SVC_NEIGH_IGNORED, 1);
		return;
	}
	dp_neigh_write(&t->e[i], DP_NEIGH_REACHABLE, NULL, mac);
	if (incomplete || (news & DP_NEWS_CONFIRM)) {
		s->seen_tsc = now;
		s->tries = 0;
	}
	dp_svc_cnt(svc, DP_SVC_NEIGH_LEARNED, 1);
	for (k = 0; k < s->nheld; k++) {
		struct dp_mbuf_priv *pv = rte_mbuf_to_priv(s->held[k]);

		dp_neigh_inject(svc, pv->worker, s->held[k]);
	}
	dp_svc_cnt(svc, DP_SVC_HELD_RELEASED, s->nheld);
	svc->nheld -= s->nheld;
	s->nheld = 0;
}

/*
 * ARP request or reply, NS or NA, passed on by a worker (validated
 * there, RFC 4861 §7.1): the sender's address and MAC; for an NA, the
 * target's address, its link-layer address option and its flags.
 */
static void
dp_neigh_learn_frame(struct dp_service *svc, struct rte_mbuf *m, uint64_t now)
{
	const struct rte_ether_addr *macp = NULL;
	const uint8_t *l3;
	struct rte_ether_addr mac;
	unsigned int news;
	struct dp_ip ip;

	memset(&ip, 0, sizeof(ip));
	l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	/* The EtherType (after any 802.1Q tag) sits just before l3. */
	if (l3[-2] == 0x08 && l3[-1] == 0x06) {
		const struct rte_arp_hdr *arp = (const void *)l3;

		ip.family = DP_AF_V4;
		ip.v4 = arp->arp_data.arp_sip;
		mac = arp->arp_data.arp_sha;
		macp = &mac;
		news = DP_NEWS_CONFIRM | DP_NEWS_OVERRIDE;
	} else {
		const struct rte_ipv6_hdr *ip6 = (const void *)l3;
		const uint8_t *ic = (const uint8_t *)(ip6 + 1);
		uint16_t plen = rte_be_to_cpu_16(ip6->payload_len);
		uint8_t want = ic[0] == DP_ND_NS ? DP_ND_OPT_SLLA : DP_ND_OPT_TLLA;
		uint16_t off;

		ip.family = DP_AF_V6;
		if (ic[0] == DP_ND_NS) {
			if (dp_ip6_unspec(ip6->src_addr))
				return;         /* DAD probe: nobody to learn */
			memcpy(ip.v6, ip6->src_addr, 16);
			/* §7.2.3: an NS updates the MAC, confirms nothing. */
			news = DP_NEWS_OVERRIDE;
		} else {
			memcpy(ip.v6, ic + 8, 16);
			news = ((ic[4] & DP_ND_FLAG_S) ? DP_NEWS_CONFIRM : 0) |
			       ((ic[4] & DP_ND_FLAG_O) ? DP_NEWS_OVERRIDE : 0);
		}
		/* RFC 4861 §4.6: options in units of 8 bytes. */
		for (off = 24; off + 8 <= plen && ic[off + 1] != 0;
		     off = (uint16_t)(off + ic[off + 1] * 8)) {
			if (ic[off] == want) {
				memcpy(&mac, ic + off + 2, RTE_ETHER_ADDR_LEN);
				macp = &mac;
				break;
			}
		}
		/* Without one, an NS teaches nothing; an NA may confirm. */
		if (macp == NULL && ic[0] == DP_ND_NS)
			return;
	}
	if (macp != NULL && (!rte_is_unicast_ether_addr(macp) ||
			     rte_is_zero_ether_addr(macp)))
		return;
	dp_neigh_learn(svc, &ip, macp, news, now);
}

void
dp_neigh_input(struct dp_service *svc, struct rte_mbuf *m, uint64_t now)
{
	struct dp_mbuf_priv *pv = rte_mbuf_to_priv(m);

	switch (pv->kind) {
	case DP_PRIV_L3:
		dp_neigh_hold(svc, m, now);
		break;
	case DP_PRIV_LEARN:
		dp_neigh_learn_frame(svc, m, now);
		rte_pktmbuf_free(m);
		break;
	default:
		rte_pktmbuf_free(m);
		break;
	}
}

void
dp_neigh_age(struct dp_service *svc, uint64_t now)
{
	const uint64_t retry = svc->hz / 1000 * DP_NEIGH_RETRY_MS;
	const uint64_t reach = svc->hz * DP_NEIGH_REACHABLE_S;
	struct dp_neigh_tbl *t = svc->neigh;
	uint32_t i;

	for (i = 0; i <= t->mask; i++) {
		struct dp_neigh_svc *s = &t->s[i];
		uint8_t state = t->e[i].state;

		if (state == DP_NEIGH_FREE)
			continue;
		if (state == DP_NEIGH_REACHABLE && s->tries == 0 &&
		    now - s->seen_tsc < reach)
			continue;
		if (s->tries != 0 && now - s->req_tsc < retry)
			continue;
		if (s->tries >= DP_NEIGH_TRIES) {
			dp_neigh_drop_held(svc, s);
			dp_svc_cnt(svc, DP_SVC_NEIGH_EXPIRED, 1);
			s->tries = 0;
			dp_neigh_write(&t->e[i], DP_NEIGH_FREE, NULL, NULL);
			continue;
		}
		dp_neigh_solicit(svc, i, 0, now);
	}
}
