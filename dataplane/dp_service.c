/* SPDX-License-Identifier: MIT */
/*
 * dp_service.c - the service thread: drains the ring the workers fill with
 * outputs waiting for a next hop and with ARP replies / neighbour
 * advertisements, and ages the neighbour table. Frames it builds go out
 * through the workers' inject rings, so it needs no queue of its own.
 *
 * SLOW PATH: may sleep; never touched by a worker except through rings.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp.h"

#define DP_SVC_AGE_MS           100
#define DP_SVC_IDLE_US          100
#define DP_HOLD_POOL_SHARE      8       /* held outputs: 1/8 of the pool */
#define DP_HOLD_MIN             64
#define DP_MLD_REFRESH_S        60      /* between MLD reports */

volatile int dp_quit;

int
dp_service_init(struct dp_service *svc, const struct dp_iface *ifc,
		struct dp_neigh_tbl *neigh, unsigned int ring_size, int socket)
{
	memset(svc, 0, sizeof(*svc));
	svc->ifc = ifc;
	svc->neigh = neigh;
	svc->hz = rte_get_tsc_hz();
	/* Held outputs are mbufs of the pool the NIC refills from: next
	 * hops a sender names (Route, Via) must not be able to starve
	 * reception by never answering ARP or ND. */
	svc->held_max = ifc->pool != NULL ?
			ifc->pool->size / DP_HOLD_POOL_SHARE : 0;
	if (svc->held_max < DP_HOLD_MIN)
		svc->held_max = DP_HOLD_MIN;
	/* Many workers produce, the service alone consumes. */
	svc->ring = rte_ring_create("dp_svc", rte_align32pow2(ring_size),
				    socket, RING_F_SC_DEQ);
	if (svc->ring == NULL)
		return -rte_errno;
	/* The loader's probes: a ring of their own, with one producer, so
	 * that a preempted loader never stalls a worker's enqueue. */
	svc->probe_ring = rte_ring_create("dp_probe", DP_PROBE_POOL + 1,
					  socket, RING_F_SP_ENQ |
					  RING_F_SC_DEQ);
	if (svc->probe_ring == NULL) {
		int rc = -rte_errno;

		rte_ring_free(svc->ring);
		svc->ring = NULL;
		return rc;
	}
	return 0;
}

void
dp_service_set_workers(struct dp_service *svc, struct dp_lcore *workers,
		       uint16_t nb_workers)
{
	svc->workers = workers;
	svc->nb_workers = nb_workers;
}

unsigned int
dp_service_poll(struct dp_service *svc)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned int i, n;
	uint64_t now;

	/* Probes first, a share of the burst: a busy ring of the workers'
	 * must not keep them waiting (a probe enqueued counts as sent, and
	 * one that never goes out as unanswered). */
	n = rte_ring_sc_dequeue_burst(svc->probe_ring, (void **)pkts,
				      DP_BURST / 4, NULL);
	n += rte_ring_sc_dequeue_burst(svc->ring, (void **)(pkts + n),
				       DP_BURST - n, NULL);
	now = rte_get_tsc_cycles();
	for (i = 0; i < n; i++)
		dp_neigh_input(svc, pkts[i], now);
	if (now >= svc->next_age_tsc) {
		dp_neigh_age(svc, now);
		svc->next_age_tsc = now + svc->hz / 1000 * DP_SVC_AGE_MS;
	}
	return n;
}

int
dp_service_run(struct dp_service *svc)
{
	uint64_t now;

	while (!__atomic_load_n(&dp_quit, __ATOMIC_RELAXED)) {
		if (dp_service_poll(svc) == 0)
			rte_delay_us_sleep(DP_SVC_IDLE_US);
		/* MLD: two reports of the join, 1 s apart (RFC 3810's
		 * robustness), then one every DP_MLD_REFRESH_S, well within
		 * a querier's listener timeout (260 s by default). */
		now = rte_get_tsc_cycles();
		if (svc->ifc->conf->naddr6 != 0 && now >= svc->next_mld_tsc) {
			dp_neigh_mld_report(svc, svc->nmld < 2);
			svc->nmld++;
			svc->next_mld_tsc = now + svc->hz *
				(svc->nmld < 2 ? 1 : DP_MLD_REFRESH_S);
		}
	}
	return 0;
}

void
dp_service_fini(struct dp_service *svc)
{
	void *m;

	if (svc->probe_ring != NULL) {
		while (rte_ring_dequeue(svc->probe_ring, &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(svc->probe_ring);
		svc->probe_ring = NULL;
	}
	if (svc->ring == NULL)
		return;
	while (rte_ring_dequeue(svc->ring, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(svc->ring);
	svc->ring = NULL;
}
