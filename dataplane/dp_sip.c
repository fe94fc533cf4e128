/* SPDX-License-Identifier: MIT */
/*
 * dp_sip.c - the SIP stage of the worker: what happens to a UDP datagram
 * addressed to one of our SIP ports once L2/L3 are done with it.
 *
 * HOT PATH (dataplane/HOTPATH.md).
 *
 * PLACEHOLDER: the SIP stage (parse, route, forward or answer) replaces
 * this file. Until then every datagram is counted as SIP_RX by the worker
 * and dropped here, so the L2/L3 layer can be built and tested on its own.
 * The replacement keeps the signature in dp.h and sends with
 * dp_udp_reply() / dp_udp_send(): parse the payload in place
 * (rte_pktmbuf_mtod_offset(pkts[i], char *, meta[i].payload_off),
 * meta[i].payload_len), read the snapshot once for the whole call, and
 * either edit the datagram in place (rte_pktmbuf_adj() to the payload,
 * then send it on) or build a response in dp_pkt_alloc() and free the
 * request; free what is dropped in bulk and count it.
 */
#include <stdint.h>

#include <rte_mbuf.h>

#include "dp.h"

uint16_t
dp_sip_burst(struct dp_lcore *lc, struct rte_mbuf **pkts,
	     const struct dp_udp_meta *meta, uint16_t n)
{
	RTE_SET_USED(meta);

	rte_pktmbuf_free_bulk(pkts, n);
	dp_cnt_add(lc, DP_CNT_DROP, n);
	return 0;
}
