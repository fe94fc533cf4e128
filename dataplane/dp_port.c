/* SPDX-License-Identifier: MIT */
/*
 * dp_port.c - start-up of the packet path: mempools, the port and its
 * queues (RSS, checksum offloads, MTU), per-worker state.
 *
 * SLOW PATH: main thread, before the lcores start and after they stop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip_frag.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "dp.h"

#define DP_RXD                  1024
#define DP_TXD                  1024
#define DP_POOL_CACHE           256
#define DP_JUMBO_ROOM           (16384 + RTE_PKTMBUF_HEADROOM)
#define DP_INJECT_RING          1024
#define DP_FRAG_BUCKETS         256
#define DP_FRAG_BUCKET_ENTRIES  8
#define DP_FRAG_MAX             1024    /* datagrams in reassembly, at most */
#define DP_FRAG_MIN             16      /* ... and at least, per worker */
#define DP_FRAG_POOL_SHARE      8       /* 1/8 of the pool for all of them */
#define DP_FRAG_TTL_MS          500     /* a sender's fragments come
					 * together; a flood of first
					 * fragments must leave soon */
#define DP_FRAG_GC_MS           10      /* expiry sweep of the table */

RTE_LOG_REGISTER(dp_logtype, user.sipedge.dp, INFO);

_Static_assert(RTE_PKTMBUF_HEADROOM >= DP_TX_HEADROOM,
	       "mbuf headroom too small for the headers dp_tx.c prepends");
_Static_assert(sizeof(struct dp_mbuf_priv) % RTE_MBUF_PRIV_ALIGN == 0,
	       "mbuf private area must keep the data aligned");

static struct rte_mempool *
dp_pool(const char *what, int socket, uint32_t n, uint16_t room)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int cache = DP_POOL_CACHE;

	/* rte_mempool wants cache * 1.5 <= n; a small pool (the jumbo
	 * one: 255) must not sit in one core's cache, so at most an eighth
	 * of it is cached per core. */
	if (cache > n / 8)
		cache = n / 8;
	snprintf(name, sizeof(name), "dp_%s_%d", what, socket);
	return rte_pktmbuf_pool_create(name, n, cache,
				       sizeof(struct dp_mbuf_priv), room,
				       socket);
}

/*
 * The loader's probes: a pool of their own, which the loader (a plain
 * thread the scheduler may preempt at any moment) alone takes from
 * (single consumer) and workers give back to after sending, without a
 * cache. A preempted loader then never holds a ring the workers wait
 * on, as it would in the shared pool (DPDK's rings are not preemptible:
 * a thread stopped between its head and tail update blocks the others).
 */
static struct rte_mempool *
dp_probe_pool(int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(name, sizeof(name), "dp_probe_%d", socket);
	return rte_pktmbuf_pool_create_by_ops(name, DP_PROBE_POOL, 0,
					      sizeof(struct dp_mbuf_priv),
					      RTE_MBUF_DEFAULT_BUF_SIZE,
					      socket, "ring_mp_sc");
}

int
dp_pools_create(struct dp_iface *ifc, int socket, uint32_t nb_mbufs,
		uint32_t nb_jumbo, uint16_t mtu, bool probes)
{
	/* A whole frame (Ethernet, 802.1Q, MTU) in one mbuf: no scatter. */
	uint32_t room = RTE_PKTMBUF_HEADROOM + RTE_ETHER_HDR_LEN + 4u + mtu;

	if (room < RTE_MBUF_DEFAULT_BUF_SIZE)
		room = RTE_MBUF_DEFAULT_BUF_SIZE;
	ifc->pool = dp_pool("pkt", socket, nb_mbufs, (uint16_t)room);
	if (ifc->pool == NULL)
		goto out_err;
	/* Fragments: one direct header mbuf and one indirect per piece. */
	ifc->indirect = dp_pool("ind", socket, nb_mbufs / 2 + 64, 0);
	if (ifc->indirect == NULL)
		goto out_free_pool;
	ifc->jumbo = dp_pool("jumbo", socket, nb_jumbo, DP_JUMBO_ROOM);
	if (ifc->jumbo == NULL)
		goto out_free_indirect;
	ifc->probe = probes ? dp_probe_pool(socket) : NULL;
	if (probes && ifc->probe == NULL)
		goto out_free_jumbo;
	return 0;

out_free_jumbo:
	rte_mempool_free(ifc->jumbo);
	ifc->jumbo = NULL;
out_free_indirect:
	rte_mempool_free(ifc->indirect);
	ifc->indirect = NULL;
out_free_pool:
	rte_mempool_free(ifc->pool);
	ifc->pool = NULL;
out_err:
	return -rte_errno;
}

void
dp_pools_free(struct dp_iface *ifc)
{
	rte_mempool_free(ifc->probe);
	rte_mempool_free(ifc->jumbo);
	rte_mempool_free(ifc->indirect);
	rte_mempool_free(ifc->pool);
	ifc->probe = NULL;
	ifc->jumbo = NULL;
	ifc->indirect = NULL;
	ifc->pool = NULL;
}

/*
 * The multicast IPv6 neighbour discovery needs must reach us: the
 * solicited-node groups of our addresses and all-nodes (RFC 4861 §7.2.1,
 * RFC 4291 §2.7.1). All-multicast where the port has it, else a filter
 * list of just those groups; without either, say so.
 */
static void
dp_port_multicast(uint16_t port, const struct dp_conf *conf)
{
	struct rte_ether_addr mc[DP_MAX_ADDRS + 1];
	uint32_t i, n = 0;
	int rc;

	rc = rte_eth_allmulticast_enable(port);
	if (rc == 0 || conf->naddr6 == 0)
		return;
	mc[n++] = (struct rte_ether_addr){ { 0x33, 0x33, 0, 0, 0, 1 } };
	for (i = 0; i < conf->naddr6; i++) {
		const uint8_t *a = conf->addr6[i].ip.v6;

		mc[n++] = (struct rte_ether_addr){
			{ 0x33, 0x33, 0xff, a[13], a[14], a[15] } };
	}
	if (rte_eth_dev_set_mc_addr_list(port, mc, n) == 0) {
		DP_LOG(INFO, "port %u: no all-multicast (%s): listening to %u multicast groups for neighbour discovery",
		       port, rte_strerror(-rc), n);
		return;
	}
	DP_LOG(WARNING, "port %u: neither all-multicast (%s) nor a multicast filter: IPv6 neighbour solicitations may not reach the router",
	       port, rte_strerror(-rc));
}


int
dp_port_init(struct dp_iface *ifc, const struct dp_conf *conf, uint16_t port,
	     uint16_t nb_queues)
{
	const uint64_t want_ol = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM |
		RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	/* MULTI_SEGS: fragments are a header mbuf chained to the data
	 * (dp_fragment() makes them one segment when the port lacks it). */
	const uint64_t want_tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
		RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	struct rte_eth_conf pc;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxq;
	struct rte_eth_txconf txq;
	uint16_t nb_rxd = DP_RXD, nb_txd = DP_TXD, q;
	int socket, rc;

	if (!rte_eth_dev_is_valid_port(port))
		return -ENODEV;
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		return rc;
	if (nb_queues == 0 || nb_queues > info.max_rx_queues ||
	    nb_queues > info.max_tx_queues) {
		DP_LOG(ERR, "port %u: %u queue pairs wanted, %u/%u available",
		       port, nb_queues, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	/* No scatter: a frame must fit one mbuf. */
	if ((uint32_t)conf->mtu + RTE_ETHER_HDR_LEN + 4 >
	    (uint32_t)rte_pktmbuf_data_room_size(ifc->pool) -
	    RTE_PKTMBUF_HEADROOM) {
		DP_LOG(ERR, "MTU %u does not fit the mbufs", conf->mtu);
		return -EINVAL;
	}

	memset(&pc, 0, sizeof(pc));
	if (nb_queues > 1 &&
	    (info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP))) {
		pc.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		pc.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	} else if (nb_queues > 1) {
		DP_LOG(WARNING, "port %u: no IP/UDP RSS, queues beyond 0 idle",
		       port);
	}
	pc.rxmode.offloads = info.rx_offload_capa & want_ol;
	pc.txmode.offloads = info.tx_offload_capa & want_tx;

	rc = rte_eth_dev_configure(port, nb_queues, nb_queues, &pc);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_set_mtu(port, conf->mtu);
	if (rc != 0 && rc != -ENOTSUP)
		DP_LOG(WARNING, "port %u: MTU %u: %s", port, conf->mtu,
		       rte_strerror(-rc));
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;

	/* Every RX descriptor holds an mbuf; TX rings and caches hold more. */
	if (rte_mempool_avail_count(ifc->pool) < (unsigned int)nb_queues *
	    (nb_rxd + nb_txd + DP_POOL_CACHE) + DP_TXQ_LEN) {
		DP_LOG(ERR, "port %u: %u mbufs are too few for %u queue pairs "
		       "of %u+%u descriptors: --mbufs %u at least", port,
		       rte_mempool_avail_count(ifc->pool), nb_queues, nb_rxd,
		       nb_txd, (unsigned int)nb_queues *
		       (nb_rxd + nb_txd + DP_POOL_CACHE) + DP_TXQ_LEN);
		return -ENOSPC;
	}

	socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	rxq = info.default_rxconf;
	rxq.offloads = pc.rxmode.offloads;
	txq = info.default_txconf;
	txq.offloads = pc.txmode.offloads;
	for (q = 0; q < nb_queues; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nb_rxd, (unsigned int)socket,
					    &rxq, ifc->pool);
		if (rc != 0)
			return rc;
		rc = rte_eth_tx_queue_setup(port, q, nb_txd, (unsigned int)socket,
					    &txq);
		if (rc != 0)
			return rc;
	}
	rc = rte_eth_macaddr_get(port, &ifc->mac);
	if (rc != 0)
		return rc;
	dp_port_multicast(port, conf);
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		return rc;

	ifc->conf = conf;
	ifc->port = port;
	ifc->nb_queues = nb_queues;
	ifc->rx_offloads = pc.rxmode.offloads;
	ifc->tx_offloads = pc.txmode.offloads;
	DP_LOG(INFO, "port %u: " RTE_ETHER_ADDR_PRT_FMT ", %u queue pair(s),"
	       " RSS %s, checksum offload rx %s tx %s, MTU %u",
	       port, RTE_ETHER_ADDR_BYTES(&ifc->mac), nb_queues,
	       pc.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? "on" : "off",
	       pc.rxmode.offloads == want_ol ? "on" : "off",
	       pc.txmode.offloads == want_tx ? "on" : "off", conf->mtu);
	return 0;
}

void
dp_port_stats_print(FILE *f, const struct dp_iface *ifc)
{
	struct rte_eth_stats st;

	if (rte_eth_stats_get(ifc->port, &st) != 0)
		return;
	fprintf(f, "port %u: rx %" PRIu64 " tx %" PRIu64 " missed %" PRIu64
		" rx errors %" PRIu64 " tx errors %" PRIu64 " rx no mbuf %"
		PRIu64 "\n", ifc->port, st.ipackets, st.opackets, st.imissed,
		st.ierrors, st.oerrors, st.rx_nombuf);
}

void
dp_port_fini(struct dp_iface *ifc)
{
	rte_eth_dev_stop(ifc->port);
	rte_eth_dev_close(ifc->port);
}

int
dp_lcore_init(struct dp_lcore *lc, const struct dp_iface *ifc,
	      const struct dp_neigh_tbl *neigh, struct rte_ring *svc_ring,
	      uint16_t idx, int socket)
{
	char name[RTE_RING_NAMESIZE];
	uint64_t ttl = rte_get_tsc_hz() / 1000 * DP_FRAG_TTL_MS, rnd;
	uint32_t frag_max;
	size_t i;

	memset(lc, 0, sizeof(*lc));
	lc->ifc = ifc;
	lc->conf = ifc->conf;
	lc->neigh = neigh;
	lc->svc_ring = svc_ring;
	lc->port = ifc->port;
	lc->queue = idx;
	lc->idx = idx;
	/* dp_ip4_id()'s key and a starting point of its own per worker. */
	for (i = 0; i < sizeof(lc->ip4_sbox); i += 8) {
		uint64_t r = rte_rand();

		memcpy(&lc->ip4_sbox[i], &r, 8);
	}
	rnd = rte_rand();
	memcpy(lc->ip4_rk, &rnd, sizeof(lc->ip4_rk));
	lc->ip4_seq = (uint16_t)(rnd >> 32);

	/*
	 * Fragments wait in the table as mbufs of the pool the NIC refills
	 * from (up to RTE_LIBRTE_IP_FRAG_MAX_FRAG a datagram, for the TTL):
	 * all workers' tables together may hold an eighth of it, so a flood
	 * of first fragments that never complete cannot starve reception.
	 * SIP datagrams complete in milliseconds; a few dozen in flight per
	 * worker is plenty.
	 */
	frag_max = ifc->pool->size / DP_FRAG_POOL_SHARE /
		   (RTE_LIBRTE_IP_FRAG_MAX_FRAG *
		    (ifc->nb_queues != 0 ? ifc->nb_queues : 1u));
	if (frag_max > DP_FRAG_MAX)
		frag_max = DP_FRAG_MAX;
	if (frag_max < DP_FRAG_MIN)
		frag_max = DP_FRAG_MIN;
	lc->frag_gc_period = rte_get_tsc_hz() / 1000 * DP_FRAG_GC_MS;
	lc->frag_tbl = rte_ip_frag_table_create(DP_FRAG_BUCKETS,
		DP_FRAG_BUCKET_ENTRIES, frag_max, ttl, socket);
	if (lc->frag_tbl == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "dp_inject_%u", idx);
	lc->inject = rte_ring_create(name, DP_INJECT_RING, socket,
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (lc->inject == NULL)
		goto out_free_tbl;
	return 0;

out_free_tbl:
	rte_ip_frag_table_destroy(lc->frag_tbl);
	lc->frag_tbl = NULL;
	return -ENOMEM;
}

void
dp_lcore_fini(struct dp_lcore *lc)
{
	void *m;

	if (lc->inject != NULL) {
		while (rte_ring_dequeue(lc->inject, &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(lc->inject);
		lc->inject = NULL;
	}
	if (lc->txq.n != 0) {
		rte_pktmbuf_free_bulk(lc->txq.pkts, lc->txq.n);
		lc->txq.n = 0;
	}
	rte_ip_frag_free_death_row(&lc->dr, 0);
	if (lc->frag_tbl != NULL) {
		rte_ip_frag_table_destroy(lc->frag_tbl);
		lc->frag_tbl = NULL;
	}
}
