/* SPDX-License-Identifier: MIT */
/*
 * dp_stats.c - counter names and aggregation: sums the per-lcore counters
 * (relaxed loads; each counter has a single writer), prints them, and
 * renders the stats report the loader pushes to the control process.
 * Per-rule and per-target counters live in the snapshot, one slice per
 * lcore; they are summed over the slices of the current generation
 * (dp_snap_sum()), and a swap carries them into the next generation by
 * rule id and by target host:port (dp_snap.c), so they keep counting.
 *
 * SLOW PATH.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include <rules.h>
#include <sip.h>
#include <utf8.h>

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

static const char *const dp_svc_descs[DP_SVC__COUNT] = {
#define X(sym, desc) [DP_SVC_##sym] = desc,
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

static uint64_t
dp_sum_arr(const struct dp_lcore *lcs, unsigned int n, size_t off,
	   unsigned int idx)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const uint64_t *a = (const uint64_t *)(const void *)
			((const char *)&lcs[i] + off);

		v += __atomic_load_n(&a[idx], __ATOMIC_RELAXED);
	}
	return v;
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
	for (c = 0; c < SIP_METHOD__COUNT; c++) {
		uint64_t v = dp_sum_arr(lcs, n, offsetof(struct dp_lcore,
							 sip_method), c);

		if (v != 0)
			fprintf(f, "  sip_method_%-13s %" PRIu64 "\n",
				c == SIP_METHOD_OTHER ? "other" :
				sip_method_name(c), v);
	}
	for (c = 1; c < SIP_PERR__COUNT; c++) {
		uint64_t v = dp_sum_arr(lcs, n, offsetof(struct dp_lcore,
							 sip_perr), c);

		if (v != 0)
			fprintf(f, "  sip_perr_%-15s %" PRIu64 "\n",
				sip_perr_name(c), v);
	}
	for (c = 0; c < DP_NCODES; c++) {
		uint64_t v = dp_sum_arr(lcs, n, offsetof(struct dp_lcore,
							 sip_code), c);

		if (v != 0)
			fprintf(f, "  sip_code_%-15u %" PRIu64 "\n",
				c + DP_CODE_MIN, v);
	}
	if (svc == NULL)
		return;
	for (c = 0; c < DP_SVC__COUNT; c++) {
		uint64_t v = __atomic_load_n(&svc->cnt[c], __ATOMIC_RELAXED);

		if (v != 0)
			dp_stats_line(f, "svc_", dp_svc_names[c], v);
	}
}

/* ---- the stats report (PROTOCOL.md "stats.report") --------------------- */

/* Rules listed per report: keeps a report of a million-rule table with
 * hits everywhere well inside the 4 MiB frame limit. */
#define DP_STATS_MAX_RULES      10000
/* Targets listed per report, likewise (the first by target number). */
#define DP_STATS_MAX_TARGETS    10000

/*
 * @p s as a JSON string: UTF-8 sequences as they are (a rule id is any
 * UTF-8, and "\u00XX" per byte would both change it and take six bytes a
 * byte), control characters and DEL escaped, and a byte that begins no
 * valid sequence (never in an image the rules compiler wrote) as U+FFFD.
 */
static void
dp_json_str(FILE *f, const char *s, size_t n)
{
	size_t i, k;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, f);
		} else if ((k = utf8_seq_len(s + i, n - i)) != 0) {
			fwrite(s + i, 1, k, f);
			i += k - 1;
		} else {
			fputs("\\ufffd", f);
		}
	}
	fputc('"', f);
}

static void
dp_lower(char *out, size_t cap, const char *prefix, const char *name,
	 const char *suffix)
{
	size_t n;

	n = (size_t)snprintf(out, cap, "%s%s%s", prefix, name, suffix);
	for (n = 0; out[n] != '\0'; n++)
		if (out[n] >= 'A' && out[n] <= 'Z')
			out[n] = (char)(out[n] | 0x20);
}

/* Metric header; samples follow with dp_rep_sample(); dp_rep_end(). */
static void
dp_rep_metric(FILE *f, bool *first, const char *name, const char *type,
	      const char *help)
{
	fprintf(f, "%s{\"name\":", *first ? "" : ",");
	*first = false;
	dp_json_str(f, name, strlen(name));
	fprintf(f, ",\"type\":\"%s\",\"help\":", type);
	dp_json_str(f, help, strlen(help));
	fputs(",\"samples\":[", f);
}

static void
dp_rep_sample(FILE *f, bool *first, const char *label, const char *val,
	      size_t vlen, uint64_t v)
{
	fprintf(f, "%s{", *first ? "" : ",");
	*first = false;
	if (label != NULL) {
		fprintf(f, "\"labels\":{\"%s\":", label);
		dp_json_str(f, val, vlen);
		fputs("},", f);
	}
	fprintf(f, "\"value\":%" PRIu64 "}", v);
}

static void
dp_rep_end(FILE *f)
{
	fputs("]}", f);
}

static void
dp_rep_one(FILE *f, bool *first, const char *name, const char *type,
	   const char *help, uint64_t v)
{
	bool s = true;

	dp_rep_metric(f, first, name, type, help);
	dp_rep_sample(f, &s, NULL, NULL, 0, v);
	dp_rep_end(f);
}


/* Target number -> "addr:port" (rules_db_target()), for those picked. */
static void
dp_rep_targets(FILE *f, const struct dp_snap *s, const uint64_t *picks)
{
	struct rules_dest d;
	char addr[64], buf[80];
	bool first = true;
	uint32_t t, k = 0;

	for (t = 0; t < s->ntargets && k < DP_STATS_MAX_TARGETS; t++) {
		if (picks[t] == 0 || rules_db_target(s->db, t, &d) != 0)
			continue;
		k++;
		inet_ntop(d.af == RULES_AF_INET6 ? AF_INET6 : AF_INET,
			  d.addr, addr, sizeof(addr));
		snprintf(buf, sizeof(buf),
			 d.af == RULES_AF_INET6 ? "[%s]:%u" : "%s:%u", addr,
			 d.port);
		dp_rep_sample(f, &first, "target", buf, strlen(buf), picks[t]);
	}
}

void
dp_stats_report(FILE *f, const struct dp_lcore *lcs, unsigned int n,
		const struct dp_service *svc, const struct dp_loader *ld)
{
	const struct dp_snap *s = ld != NULL ? ld->cur : NULL;
	uint64_t sum[DP_CNT__COUNT], *hits = NULL, *picks = NULL, v;
	struct rte_eth_stats st;
	char name[96], code[8];
	bool first = true, fs;
	unsigned int c;

	dp_stats_sum(lcs, n, sum);
	fprintf(f, "{\"cmd\":\"stats.report\",\"source\":\"dataplane\","
		"\"pid\":%ld,\"workers\":%u,\"generation\":%" PRIu64
		",\"metrics\":[", (long)getpid(), n,
		s != NULL ? s->generation : 0);
	for (c = 0; c < DP_CNT__COUNT; c++) {
		dp_lower(name, sizeof(name), "dp_", dp_counter_names[c],
			 "_total");
		dp_rep_one(f, &first, name, "counter", dp_counter_descs[c],
			   sum[c]);
	}
	/* The NIC's own: what never reached a worker (rx ring full, no
	 * mbuf for the NIC) shows only here. */
	if (n != 0 && lcs[0].ifc != NULL &&
	    rte_eth_stats_get(lcs[0].ifc->port, &st) == 0) {
		dp_rep_one(f, &first, "port_rx_packets_total", "counter",
			   "frames the port received", st.ipackets);
		dp_rep_one(f, &first, "port_tx_packets_total", "counter",
			   "frames the port sent", st.opackets);
		dp_rep_one(f, &first, "port_rx_missed_total", "counter",
			   "frames the port dropped, its receive queues full",
			   st.imissed);
		dp_rep_one(f, &first, "port_rx_no_mbuf_total", "counter",
			   "frames the port dropped for want of an mbuf",
			   st.rx_nombuf);
		dp_rep_one(f, &first, "port_rx_errors_total", "counter",
			   "frames the port received in error", st.ierrors);
		dp_rep_one(f, &first, "port_tx_errors_total", "counter",
			   "frames the port failed to send", st.oerrors);
	}
	if (svc != NULL) {
		for (c = 0; c < DP_SVC__COUNT; c++) {
			dp_lower(name, sizeof(name), "dp_svc_",
				 dp_svc_names[c], "_total");
			dp_rep_one(f, &first, name, "counter", dp_svc_descs[c],
				   __atomic_load_n(&svc->cnt[c],
						   __ATOMIC_RELAXED));
		}
	}

	dp_rep_metric(f, &first, "sip_requests_total", "counter",
		      "SIP requests parsed, by method");
	fs = true;
	for (c = 0; c < SIP_METHOD__COUNT; c++) {
		const char *m = c == SIP_METHOD_OTHER ? "other" :
			sip_method_name(c);

		dp_rep_sample(f, &fs, "method", m, strlen(m),
			      dp_sum_arr(lcs, n, offsetof(struct dp_lcore,
							  sip_method), c));
	}
	dp_rep_end(f);

	dp_rep_metric(f, &first, "sip_parse_errors_total", "counter",
		      "messages rejected by sip_parse/sip_msg_check, by verdict");
	fs = true;
	for (c = 1; c < SIP_PERR__COUNT; c++) {
		const char *m = sip_perr_name(c);

		dp_rep_sample(f, &fs, "verdict", m, strlen(m),
			      dp_sum_arr(lcs, n, offsetof(struct dp_lcore,
							  sip_perr), c));
	}
	dp_rep_end(f);

	dp_rep_metric(f, &first, "sip_local_responses_total", "counter",
		      "responses the SIP stage built and sent, by code");
	fs = true;
	for (c = 0; c < DP_NCODES; c++) {
		v = dp_sum_arr(lcs, n, offsetof(struct dp_lcore, sip_code), c);
		if (v == 0)
			continue;
		snprintf(code, sizeof(code), "%u", c + DP_CODE_MIN);
		dp_rep_sample(f, &fs, "code", code, strlen(code), v);
	}
	dp_rep_end(f);

	if (ld != NULL) {
		dp_rep_one(f, &first, "snapshot_generation", "gauge",
			   "rule generation the workers use",
			   s != NULL ? s->generation : 0);
		/* Read by the loader thread, which writes ld->prev. */
		dp_rep_one(f, &first, "snapshot_previous_generation", "gauge",
			   "generation kept 32 s after a swap for in-flight "
			   "CANCELs and ACKs (0: none)",
			   ld->prev != NULL ? ld->prev->generation : 0);
		dp_rep_one(f, &first, "snapshot_swaps_total", "counter",
			   "snapshots published",
			   __atomic_load_n(&ld->swaps, __ATOMIC_RELAXED));
		dp_rep_one(f, &first, "snapshot_load_failures_total",
			   "counter", "generations that could not be loaded",
			   __atomic_load_n(&ld->cnt_fail, __ATOMIC_RELAXED));
		dp_rep_one(f, &first, "snapshot_bad_artefacts_total",
			   "counter", "artefacts failing their header or CRC32C",
			   __atomic_load_n(&ld->cnt_bad, __ATOMIC_RELAXED));
		/* The source policy the workers apply (acl.*, ratelimit.*). */
		dp_rep_one(f, &first, "source_policy_allowed_prefixes",
			   "gauge", "acl.allow entries (0: every source)",
			   s != NULL ? s->acl.nallow : 0);
		dp_rep_one(f, &first, "source_policy_denied_prefixes",
			   "gauge", "acl.deny entries",
			   s != NULL ? s->acl.ndeny : 0);
		dp_rep_one(f, &first, "source_policy_rate_limit", "gauge",
			   "ratelimit.rps: requests/s per source and worker "
			   "(0: no limit)", s != NULL ? s->acl.rl_rps : 0);
		dp_rep_one(f, &first, "source_policy_rate_ipv6_prefix",
			   "gauge", "ratelimit.ipv6_prefix: the prefix length "
			   "one IPv6 source is (0: no limit)",
			   s != NULL ? s->acl.rl_prefix6 : 0);
		dp_rep_one(f, &first, "targets_down", "gauge",
			   "targets of the loaded rules that targets.down "
			   "takes out of service", s != NULL ? s->ndown : 0);
		dp_rep_one(f, &first, "targets_unhealthy", "gauge",
			   "targets down for want of answers to probes",
			   s != NULL ? __atomic_load_n(&s->nunhealthy,
						       __ATOMIC_RELAXED) : 0);
		/* Which ones: probe_miss is the loader's, and so is this
		 * report. */
		if (s != NULL && s->probe_miss != NULL && s->chost != NULL) {
			uint32_t t, k = 0;

			dp_rep_metric(f, &first, "target_unhealthy", "gauge",
				      "1 for each target down for want of "
				      "answers to probes (the first 1000)");
			fs = true;
			for (t = 0; t < s->ntargets && k < 1000; t++) {
				if (s->probe_miss[t] < ld->conf->probe_down ||
				    s->chost[t].len <= 4)
					continue;
				k++;
				dp_rep_sample(f, &fs, "target", s->chost[t].txt,
					      s->chost[t].len - 4u, 1);
			}
			dp_rep_end(f);
		}
		dp_rep_one(f, &first, "control_connections_total", "counter",
			   "subscriptions to the control process (1 + "
			   "reconnections)",
			   __atomic_load_n(&ld->cnt_connects, __ATOMIC_RELAXED));
		dp_rep_one(f, &first, "probes_sent_total", "counter",
			   "OPTIONS probes sent to targets",
			   __atomic_load_n(&ld->cnt_probes, __ATOMIC_RELAXED));
		dp_rep_one(f, &first, "probe_send_failures_total", "counter",
			   "probes not sent (no buffer, ring full, no route)",
			   __atomic_load_n(&ld->cnt_probe_fail,
					   __ATOMIC_RELAXED));
	}
	for (c = 0, v = 0; c < n; c++) {
		const struct dp_sip_lcore *sl = lcs[c].sip;

		if (sl != NULL)
			v += __atomic_load_n(&sl->rl.evicted, __ATOMIC_RELAXED);
	}
	dp_rep_one(f, &first, "rate_limiter_evictions_total", "counter",
		   "rate-limited sources displaced by new ones (tables full)", v);

	if (s != NULL && s->db != NULL) {
		hits = calloc(s->nrules + 1, sizeof(*hits));
		picks = calloc(s->ntargets + 1, sizeof(*picks));
	}
	if (hits != NULL && picks != NULL) {
		struct rules_hit h;
		uint32_t r;

		dp_snap_totals(s, hits, picks);
		dp_rep_metric(f, &first, "rule_hits_total", "counter",
			      "requests matching each rule (by rule id, across "
			      "generations)");
		fs = true;
		for (r = 0, c = 0; r < s->nrules && c < DP_STATS_MAX_RULES;
		     r++) {
			if (hits[r] == 0 || rules_hit_get(s->db, r, &h) != 0)
				continue;
			c++;
			dp_rep_sample(f, &fs, "rule", h.id.ptr, h.id.len,
				      hits[r]);
		}
		dp_rep_end(f);
		dp_rep_metric(f, &first, "target_picks_total", "counter",
			      "requests sent or redirected to each target first "
			      "(across generations)");
		dp_rep_targets(f, s, picks);
		dp_rep_end(f);
	}
	free(hits);
	free(picks);
	fputs("]}", f);
}
