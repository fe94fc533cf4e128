/* SPDX-License-Identifier: MIT */
/*
 * dp_sip_setup.c - allocation of the SIP stage's per-lcore state (parser
 * and match-key scratch for one burst, response buffers).
 *
 * SLOW PATH: main thread, before the lcores start and after they stop.
 */
#include <errno.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "dp.h"

int
dp_sip_lcore_init(struct dp_lcore *lc, int socket)
{
	struct dp_sip_lcore *sl;

	sl = rte_zmalloc_socket("dp_sip_lcore", sizeof(*sl),
				RTE_CACHE_LINE_SIZE, socket);
	if (sl == NULL)
		return -ENOMEM;
	lc->sip = sl;
	return 0;
}

void
dp_sip_lcore_fini(struct dp_lcore *lc)
{
	rte_free(lc->sip);
	lc->sip = NULL;
}
