/* SPDX-License-Identifier: MIT */
/*
 * dp_stats.c - counter names and aggregation: sums the per-lcore counters
 * (relaxed loads; each counter has a single writer) and prints them.
 *
 * SLOW PATH.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dp.h"

static const char *const dp_counter_names[DP_CNT__COUNT] = {
#define X(sym, desc) [DP_CNT_##sym] = #sym,
	DP_COUNTER_MAP(X)
#undef X
};

static const char *const dp_counter_descs[DP_CNT__COUNT] = {
#define X(sym, desc) [DP_CNT_##sym] = desc,
	DP_COUNTER_MAP(X)
#undef X
};

static const char *const dp_svc_names[DP_SVC__COUNT] = {
#define X(sym, desc) [DP_SVC_##sym] = #sym,
	DP_SVC_COUNTER_MAP(X)
#undef X
};

const char *
dp_counter_name(enum dp_counter c)
{
	return (unsigned int)c < DP_CNT__COUNT ? dp_counter_names[c] : "?";
}

const char *
dp_counter_desc(enum dp_counter c)
{
	return (unsigned int)c < DP_CNT__COUNT ? dp_counter_descs[c] : "?";
}

void
dp_stats_sum(const struct dp_lcore *lcs, unsigned int n,
	     uint64_t out[DP_CNT__COUNT])
{
	unsigned int i, c;

	memset(out, 0, sizeof(uint64_t) * DP_CNT__COUNT);
	for (i = 0; i < n; i++) {
		for (c = 0; c < DP_CNT__COUNT; c++)
			out[c] += __atomic_load_n(&lcs[i].cnt[c],
						  __ATOMIC_RELAXED);
	}
}

/* Names are printed in lower case, the stats export's spelling. */
static void
dp_stats_line(FILE *f, const char *prefix, const char *name, uint64_t v)
{
	char low[48];
	size_t i, n;

	n = strlen(prefix);
	if (n >= sizeof(low))
		n = 0;
	memcpy(low, prefix, n);
	for (i = 0; name[i] != '\0' && n + 1 < sizeof(low); i++)
		low[n++] = (name[i] >= 'A' && name[i] <= 'Z') ?
			(char)(name[i] | 0x20) : name[i];
	low[n] = '\0';
	fprintf(f, "  %-24s %" PRIu64 "\n", low, v);
}

void
dp_stats_print(FILE *f, const struct dp_lcore *lcs, unsigned int n,
	       const struct dp_service *svc)
{
	uint64_t sum[DP_CNT__COUNT];
	unsigned int c;

	dp_stats_sum(lcs, n, sum);
	fprintf(f, "dataplane counters (%u worker%s):\n", n, n == 1 ? "" : "s");
	for (c = 0; c < DP_CNT__COUNT; c++) {
		if (sum[c] != 0 || c == DP_CNT_RX || c == DP_CNT_TX)
			dp_stats_line(f, "", dp_counter_names[c], sum[c]);
	}
	if (svc == NULL)
		return;
	for (c = 0; c < DP_SVC__COUNT; c++) {
		uint64_t v = __atomic_load_n(&svc->cnt[c], __ATOMIC_RELAXED);

		if (v != 0)
			dp_stats_line(f, "svc_", dp_svc_names[c], v);
	}
}
