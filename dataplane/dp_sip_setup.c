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
#include <rte_random.h>

#include "dp.h"

int
dp_sip_lcore_init(struct dp_lcore *lc, int socket)
{
	struct dp_sip_lcore *sl;

	sl = rte_zmalloc_socket("dp_sip_lcore", sizeof(*sl),
				RTE_CACHE_LINE_SIZE, socket);
	if (sl == NULL)
		return -ENOMEM;
	/* Keyed per process, so set collisions cannot be aimed at. */
	if (dp_rl_init(&sl->rl, DP_RL_SETS_DEFAULT, rte_rand()) != 0) {
		rte_free(sl);
		return -ENOMEM;
	}
	lc->sip = sl;
	return 0;
}

void
dp_sip_lcore_fini(struct dp_lcore *lc)
{
	struct dp_sip_lcore *sl = lc->sip;

	if (sl != NULL)
		dp_rl_fini(&sl->rl);
	rte_free(sl);
	lc->sip = NULL;
}
