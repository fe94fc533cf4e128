/* SPDX-License-Identifier: MIT */
/*
 * dp_probe.c - target health probing (DESIGN §3.3: "the best healthy
 * priority tier"). With --probe-interval, the loader thread sends every
 * target of the current rules an OPTIONS each interval; workers record the
 * answers (dp_sip.c, by the round in our Via branch) in per-worker slices
 * of the snapshot; at the next round the loader judges them and updates
 * the target-state bitmap that rules_pick_target() and rules_contacts()
 * read. A target that answered none of its last --probe-down probes is
 * down; its first answer brings it back. Any response but 503 is an
 * answer: a 404, 405 or 501 to OPTIONS still shows a SIP element alive.
 *
 * Probes are IP packets built here and handed to the service thread as
 * outputs waiting for a next hop (DP_PRIV_L3): it resolves the neighbour
 * and passes them to a worker, as it does for held outputs.
 *
 * SLOW PATH: the loader thread; allocates only in dp_probe_prepare().
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <fmt.h>
#include <rules.h>

#include "dp.h"
#include "dp_classify.h"

int
dp_probe_prepare(const struct dp_conf *conf, struct dp_snap *s)
{
	size_t words = (s->ntargets + 63) / 64;

	if (conf->probe_interval_ms == 0 || s->db == NULL || s->ntargets == 0)
		return 0;
	s->pstride = RTE_ALIGN_CEIL(s->ntargets, RTE_CACHE_LINE_SIZE /
				    sizeof(uint32_t));
	s->probe_ans = aligned_alloc(RTE_CACHE_LINE_SIZE,
				     (size_t)s->nworkers * s->pstride *
				     sizeof(uint32_t));
	s->probe_sent = calloc(s->ntargets, sizeof(*s->probe_sent));
	s->probe_miss = calloc(s->ntargets, sizeof(*s->probe_miss));
	if (s->probe_ans == NULL || s->probe_sent == NULL ||
	    s->probe_miss == NULL)
		return -ENOMEM;
	memset(s->probe_ans, 0, (size_t)s->nworkers * s->pstride *
	       sizeof(uint32_t));
	/* targets.down's bitmap becomes the admin part; the one workers
	 * read always exists, so that health can clear bits in it. */
	s->admin_bits = s->up_bits;
	s->up_bits = malloc(words * sizeof(uint64_t));
	s->up_prev_bits = malloc(words * sizeof(uint64_t));
	if (s->up_bits == NULL || s->up_prev_bits == NULL)
		return -ENOMEM;
	if (s->admin_bits != NULL)
		memcpy(s->up_bits, s->admin_bits, words * sizeof(uint64_t));
	else
		rules_up_bitmap(s->db, NULL, 0, s->up_bits);     /* all up */
	s->up = s->up_bits;
	memcpy(s->up_prev_bits, s->up_bits, words * sizeof(uint64_t));
	return 0;
}

static bool
dp_probe_admin_up(const struct dp_snap *s, uint32_t t)
{
	return s->admin_bits == NULL || dp_up_get(s->admin_bits, t);
}

uint32_t
dp_probe_answered(const struct dp_snap *s, uint32_t t)
{
	uint32_t w, ans = 0;

	for (w = 0; w < s->nworkers; w++) {
		uint32_t a = __atomic_load_n(
			&s->probe_ans[(size_t)w * s->pstride + t],
			__ATOMIC_RELAXED);

		ans = a > ans ? a : ans;
	}
	return ans;
}

/* Judge the last round: misses, health, the bitmap; changes logged. */
static void
dp_probe_judge(const struct dp_conf *conf, struct dp_snap *s)
{
	uint32_t t, last, n = 0;
	bool healthy, was, on, moved = false;

	for (t = 0; t < s->ntargets; t++) {
		was = s->probe_miss[t] < conf->probe_down;
		last = s->probe_sent[t];
		if (last != 0) {
			if (dp_probe_answered(s, t) >= last)
				s->probe_miss[t] = 0;
			else if (s->probe_miss[t] < UINT8_MAX)
				s->probe_miss[t]++;
			s->probe_sent[t] = 0;
		}
		healthy = s->probe_miss[t] < conf->probe_down;
		n += !healthy;
		if (healthy != was && s->chost[t].len > 4)
			DP_LOG(WARNING, "target %.*s %s",
			       (int)s->chost[t].len - 4, s->chost[t].txt,
			       healthy ? "answers probes again: up" :
			       "answered none of its last probes: down");
		on = healthy && dp_probe_admin_up(s, t);
		if (!moved && on != dp_up_get(s->up_bits, t)) {
			/* The bitmap before this round's first change: where
			 * a CANCEL's INVITE may have gone (dp_proxy.c); word
			 * by word, as workers may be reading it. */
			uint32_t w;

			for (w = 0; w < (s->ntargets + 63) / 64; w++)
				__atomic_store_n(&s->up_prev_bits[w],
					__atomic_load_n(&s->up_bits[w],
							__ATOMIC_RELAXED),
					__ATOMIC_RELAXED);
			moved = true;
		}
		dp_up_set(s->up_bits, t, on);
	}
	__atomic_store_n(&s->nunhealthy, n, __ATOMIC_RELAXED);
	if (moved)
		__atomic_store_n(&s->up_change_tsc, rte_rdtsc(),
				 __ATOMIC_RELEASE);
}

/*
 * The OPTIONS for target @p t of @p s (at @p dst), from @p src:@p sport,
 * into @p m: the request, then IP and UDP headers with their checksums.
 * The target's "host:port" is the snapshot's Contact text of it (dp_snap.c).
 */
static int
dp_probe_build(struct rte_mbuf *m, const struct dp_snap *s, uint32_t t,
	       uint32_t round, const struct dp_ip *src, uint16_t sport,
	       const struct dp_ip *dst, uint16_t dport, uint8_t dscp)
{
	char br[DP_PROBE_BRANCH_LEN], addr[INET6_ADDRSTRLEN], us[64];
	const struct dp_chost *c = &s->chost[t];
	const bool v6 = dst->family == DP_AF_V6;
	int them;
	uint32_t n;
	char *p;

	if (c->len <= 4 || c->len > sizeof(c->txt) ||
	    inet_ntop(v6 ? AF_INET6 : AF_INET,
		      v6 ? (const void *)src->v6 : (const void *)&src->v4,
		      addr, sizeof(addr)) == NULL)
		return -EINVAL;
	snprintf(us, sizeof(us), v6 ? "[%s]:%u" : "%s:%u", addr, sport);
	them = (int)c->len - 4;         /* without ">;q=" */
	memcpy(br, DP_PROBE_MAGIC, DP_PROBE_MAGIC_LEN);
	fmt_hex64(br + DP_PROBE_MAGIC_LEN, 8, (uint32_t)s->generation, 8);
	br[DP_PROBE_MAGIC_LEN + 8] = '.';
	fmt_hex64(br + DP_PROBE_MAGIC_LEN + 9, 8, t, 8);
	br[DP_PROBE_MAGIC_LEN + 17] = '.';
	fmt_hex64(br + DP_PROBE_MAGIC_LEN + 18, 8, round, 8);
	br[DP_PROBE_MAC_OFF - 1] = '.';
	fmt_hex64(br + DP_PROBE_MAC_OFF, 16,
		  dp_probe_mac(s, (uint32_t)s->generation, t, round), 16);

	p = rte_pktmbuf_append(m, 512);
	if (p == NULL)
		return -ENOSPC;
	n = (uint32_t)snprintf(p, 512,
		"OPTIONS sip:%.*s SIP/2.0\r\n"
		"Via: SIP/2.0/UDP %s;branch=%.*s;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:sipedge@%s>;tag=%.8s\r\n"
		"To: <sip:%.*s>\r\n"
		"Call-ID: %.*s@%s\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n",
		them, c->txt, us, DP_PROBE_BRANCH_LEN, br, us,
		br + DP_PROBE_MAGIC_LEN + 18, them, c->txt,
		DP_PROBE_MAC_OFF - 1 - 8, br + 8, us);
	if (n >= 512)
		return -ENOSPC;
	rte_pktmbuf_trim(m, (uint16_t)(512 - n));
	return dp_udp_prepend(m, src, sport, dst, dport, dscp);
}

uint32_t
dp_probe_round(const struct dp_conf *conf, const struct dp_service *svc,
	       struct dp_snap *s, uint32_t round, uint64_t *fail)
{
	uint32_t k, t, n = 0, cnt, first;
	struct rules_dest d;
	struct dp_ip dst, src, nh;
	struct dp_mbuf_priv *pv;
	struct rte_mbuf *m;

	*fail = 0;
	if (s == NULL || s->probe_miss == NULL || svc == NULL ||
	    svc->nb_workers == 0)
		return 0;
	dp_probe_judge(conf, s);

	/* Paced so the workers' inject rings take a round with room to
	 * spare: a probe lost there would count as unanswered. */
	cnt = DP_PROBE_PER_WORKER * svc->nb_workers;
	cnt = cnt < DP_PROBE_MAX ? cnt : DP_PROBE_MAX;
	/* ... and what the probe ring and pool hold (their own: a
	 * preempted loader must not stall the workers, dp_port.c) */
	k = rte_ring_free_count(svc->probe_ring);
	cnt = cnt < k ? cnt : k;
	k = svc->ifc->probe != NULL ?
	    rte_mempool_avail_count(svc->ifc->probe) : 0;
	cnt = cnt < k ? cnt : k;
	cnt = cnt < s->ntargets ? cnt : s->ntargets;
	if (cnt == 0)
		return 0;
	first = (uint32_t)(((uint64_t)round * cnt) % s->ntargets);
	for (k = 0; k < cnt; k++) {
		t = (first + k) % s->ntargets;
		if (rules_db_target(s->db, t, &d) != 0)
			continue;
		dp_ip_set(&dst, d.addr, d.af);
		m = NULL;
		if (!dp_ip_other_host(conf, &dst) ||
		    dp_route(conf, &dst, &nh) != 0 ||
		    dp_src_select(conf, &dst, &src) != 0 ||
		    (m = rte_pktmbuf_alloc(svc->ifc->probe)) == NULL ||
		    dp_probe_build(m, s, t, round, &src, conf->sip_port[0],
				   &dst, d.port, conf->dscp) != 0) {
			rte_pktmbuf_free(m);
			(*fail)++;
			continue;
		}
		pv = rte_mbuf_to_priv(m);
		pv->nexthop = nh;
		pv->worker = (uint16_t)(t % svc->nb_workers);
		pv->kind = DP_PRIV_L3;
		if (rte_ring_sp_enqueue(svc->probe_ring, m) != 0) {
			rte_pktmbuf_free(m);
			(*fail)++;
			continue;
		}
		/* Judged at the next round only if it went out. */
		s->probe_sent[t] = round;
		n++;
	}
	/* Late answers to a round carried from an older generation are
	 * stale from now on: that round has been judged. */
	__atomic_store_n(&s->probe_sent_gen, (uint32_t)s->generation,
			 __ATOMIC_RELAXED);
	return n;
}
