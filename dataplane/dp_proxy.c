/* SPDX-License-Identifier: MIT */
/*
 * dp_proxy.c - the stateless proxy stage (--mode proxy, DESIGN §3.3).
 *
 * HOT PATH (dataplane/HOTPATH.md).
 *
 * PLACEHOLDER: stateless forwarding is the next issue. Its implementation
 * replaces this file and keeps the signature in dp.h; dp_sip.c hands it
 * everything the SIP stage did not answer itself (see dp_proxy_burst()).
 * Until then responses are dropped (SIP_RESP_DROP), ACKs absorbed and
 * every other request answered 501 Not Implemented.
 */
#include <stdint.h>

#include <rte_mbuf.h>

#include <sip.h>

#include "dp.h"

uint16_t
dp_proxy_burst(struct dp_lcore *lc, const struct dp_snap *snap,
	       struct rte_mbuf **pkts, const struct dp_udp_meta *meta,
	       struct dp_sip_pkt **p, uint16_t n)
{
	uint16_t i, sent = 0, ndrop = 0;

	for (i = 0; i < n; i++) {
		if (!p[i]->msg.is_request) {
			dp_cnt_add(lc, DP_CNT_SIP_RESP_DROP, 1);
			ndrop++;
		} else if (p[i]->msg.method == SIP_METHOD_ACK) {
			dp_cnt_add(lc, DP_CNT_SIP_ACK_ABSORBED, 1);
			ndrop++;
		} else {
			sent = (uint16_t)(sent +
				dp_sip_answer(lc, snap, &meta[i], p[i], 501));
		}
	}
	rte_pktmbuf_free_bulk(pkts, n);
	dp_cnt_add(lc, DP_CNT_DROP, ndrop);
	return sent;
}
