/* SPDX-License-Identifier: MIT */
/*
 * dp_sip.c - the SIP stage of the worker: what happens to a UDP datagram
 * addressed to one of our SIP ports once L2/L3 are done with it.
 *
 * HOT PATH (dataplane/HOTPATH.md): no allocation, locks, syscalls or
 * logging; everything is counted.
 *
 * Per burst (STYLE.md H5, H6): the snapshot pointer is read once; pass 1
 * parses every datagram in place (sip_parse + sip_msg_check) and runs the
 * checks of DESIGN §3.2 in order, giving each a verdict; the Request-URIs
 * still to be routed are matched together (rules_match_burst) and their
 * rules turned into verdicts; pass 2 acts grouped by verdict: local
 * answers (this file), redirects (dp_redirect.c), the proxy stage
 * (dp_proxy.c), drops freed in bulk.
 *
 * Checks, in order (DESIGN §3.2):
 *   1. syntax and mandatory headers: the parser's verdict, answered with
 *      sip_perr_status() (400, 414, 416, 501, 505, 513) or dropped
 *      when unanswerable (no Via, truncated, responses, ACK);
 *   2. source address lists and per-source rate (dp_sip_source());
 *   3. Max-Forwards 0 -> 483, except OPTIONS to the router -> 200;
 *   4. loop detection (482, dp_proxy_loop_check()), in proxy mode: only
 *      a proxy puts its Via in requests (a redirect server never appears
 *      in Via, RFC 3261 §8.2);
 *   5. Proxy-Require -> 420 with Unsupported (we support no extension);
 *   6. OPTIONS to the router (R-URI host one of our addresses or
 *      --domain names, no user part) -> 200;
 *   7. REGISTER for a local domain -> 501 until the registrar exists;
 *   8. mode specific: redirect (dp_redirect_classify) or proxy (Route
 *      header or To-tag: no lookup, straight to the proxy stage);
 *   9. the route table: no rule -> --no-route-code, reject -> its code,
 *      forward/redirect -> dp_redirect_answer() or dp_proxy_burst().
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <urcu/urcu-qsbr.h>

#include <fmt.h>
#include <hash.h>
#include <rules.h>
#include <sip.h>
#include <span.h>

#include "dp.h"
#include "dp_classify.h"
#include "dp_proxy.h"

static const struct hash_key dp_sip_zero_key;

void
dp_sip_count_code(struct dp_lcore *lc, uint16_t code)
{
	if (code >= DP_CODE_MIN && code <= DP_CODE_MAX)
		dp_cnt_inc(&lc->sip_code[code - DP_CODE_MIN]);
}

/*
 * SipHash-1-3 of the Call-ID under the flow key: it orders the targets
 * of a rule (rendezvous hashing, rules_contacts()), so a retransmission,
 * CANCEL or ACK goes where its INVITE went. SipHash-1-3 rather than 2-4:
 * 348 -> 236 instructions a message (callgrind, the pipeline
 * benchmark's Call-IDs), still a keyed PRF.
 */
uint64_t
dp_sip_flow_hash(const struct dp_snap *snap, const struct sip_info *info)
{
	struct hash_key k = dp_sip_zero_key;

	if (snap != NULL) {
		k.k0 = snap->flow_key[0];
		k.k1 = snap->flow_key[1];
	}
	return siphash13(&k, info->call_id.ptr, info->call_id.len);
}

/*
 * The top Via of a request that failed its checks, when it parses by
 * itself (the request's From was bad, say): the answer is then stamped
 * and sent as a good request's is. False when there is none to trust.
 */
static bool
dp_sip_top_via(const struct sip_msg *msg, struct sip_via *via)
{
	struct sip_value_iter it;
	struct span v;

	if (sip_msg_hdr(msg, SIP_HDR_VIA) == NULL)
		return false;
	sip_values_init(&it, msg, SIP_HDR_VIA);
	return sip_values_next(&it, &v) == 1 && v.len != 0 &&
	       sip_via_parse(via, v) == SIP_PERR_OK;
}

/*
 * Build @p r's response to @p p into a fresh mbuf and send it to the
 * request's source address, at the port its top Via names (the source
 * port with rport, or when that Via does not parse). Adds the
 * deterministic To-tag when the request was checked (a retransmission
 * gets identical bytes) and Retry-After to 503.
 */
int
dp_sip_respond(struct dp_lcore *lc, const struct dp_snap *snap,
	       const struct dp_udp_meta *meta, struct dp_sip_pkt *p,
	       struct sip_resp *r, uint32_t extra)
{
	struct hash_key key = dp_sip_zero_key;
	const struct sip_info *info = NULL;
	struct sip_info vi;     /* a request that failed checks: .via only */
	struct rte_mbuf *m;
	uint32_t need, len;
	uint16_t dport;
	char tag[16], recv[48];

	if (snap != NULL) {
		key.k0 = snap->tag_key[0];
		key.k1 = snap->tag_key[1];
	}
	/* RFC 3261 §8.2.6.2: a To-tag on every answer. A request that
	 * failed its checks has no reliable fields to hash: its bytes are
	 * hashed instead, which is just as stable over retransmissions. */
	if (p->info_ok) {
		if (!p->flow_ok) {
			p->flow = dp_sip_flow_hash(snap, &p->info);
			p->flow_ok = 1;
		}
		sip_to_tag(&p->info, &key, p->flow, tag);
	} else
		fmt_hex64(tag, sizeof(tag),
			  siphash24(&key, p->msg.buf, p->msg.len), 16);
	r->to_tag = span_make(tag, sizeof(tag));
	/* The top Via as our transport received it (RFC 3581 §4). */
	if (p->info_ok) {
		info = &p->info;
	} else {
		memset(&vi, 0, sizeof(vi));
		if (dp_sip_top_via(&p->msg, &vi.via))
			info = &vi;
	}
	if (info != NULL) {
		uint32_t n;

		if (dp_via_stamp_want(meta, info, recv, &n, &r->via_rport))
			r->via_received = span_make(recv, n);
		extra += n + 16;
	}
	if (r->code == 503 && r->retry_after == 0)
		r->retry_after = lc->conf->retry_after;
	/* Headers copied from the request, the status line and ours. */
	need = (p->msg.body_off != 0 ? p->msg.body_off : p->msg.len) + 160 +
	       (uint32_t)r->unsupported.len + extra;
	m = dp_pkt_alloc(lc, need);
	if (unlikely(m == NULL)) {
		dp_cnt_add(lc, DP_CNT_SIP_BUILD_FAIL, 1);
		dp_cnt_add(lc, DP_CNT_DROP, 1);
		return 0;
	}
	if (unlikely(sip_resp_build(&p->msg, info, r,
				    rte_pktmbuf_mtod(m, char *),
				    rte_pktmbuf_tailroom(m), &len) != 0)) {
		rte_pktmbuf_free(m);
		dp_cnt_add(lc, DP_CNT_SIP_BUILD_FAIL, 1);
		dp_cnt_add(lc, DP_CNT_DROP, 1);
		return 0;
	}
	rte_pktmbuf_append(m, (uint16_t)len);
	/*
	 * RFC 3261 §18.2.2: to the received address (the source) and the
	 * sent-by port (5060 if none); with rport, the source port (RFC
	 * 3581 §4). A request that failed its checks with a top Via that
	 * does not parse either: the source port, the only one known. A Via
	 * maddr is not followed: an answer never goes to a third party a
	 * request names.
	 */
	dport = meta->sport;
	if (info != NULL && span_is_null(info->via.rport))
		dport = info->via.port != 0 ? info->via.port : 5060;
	if (dp_udp_reply(lc, m, meta, dport) != 0)
		return 0;
	dp_cnt_add(lc, DP_CNT_SIP_LOCAL_RESP, 1);
	dp_sip_count_code(lc, r->code);
	return 1;
}

/* The source address of @p meta as the ACL and rate tables take it. */
static inline const uint8_t *
dp_sip_src_addr(const struct dp_udp_meta *meta, int *fam)
{
	*fam = meta->src.family == DP_AF_V4 ? 4 : 6;
	return *fam == 4 ? (const uint8_t *)&meta->src.v4 : meta->src.v6;
}

/* One request charged to its source's rate; false (counted) when over. */
static bool
dp_sip_rate_ok(struct dp_lcore *lc, const struct dp_acl *acl,
	       const struct dp_udp_meta *meta)
{
	struct dp_sip_lcore *sl = lc->sip;
	int fam;
	const uint8_t *a = dp_sip_src_addr(meta, &fam);

	if (dp_rl_accept(&sl->rl, acl, fam, a, sl->now_tsc))
		return true;
	dp_cnt_add(lc, DP_CNT_SIP_RATE_LIMITED, 1);
	return false;
}

/*
 * A CANCEL that proxy mode answers itself instead of forwarding (its
 * INVITE was answered here, or it looped, or has no way on): one more
 * answer copying every Via to whatever source it names, so it is charged
 * to the source's rate as any request is, when dp_sip_source() let it by
 * uncharged (p->rl_exempt: it was to follow its INVITE through the
 * table), and only then (one charge a packet). True
 * when it may be answered (*@p code 403 when the rate refuses it and its
 * action is 403); false when it is dropped (counted).
 */
static bool
dp_sip_cancel_rate(struct dp_lcore *lc, const struct dp_snap *snap,
		   const struct dp_udp_meta *meta, uint16_t *code)
{
	const struct dp_acl *acl = &snap->acl;

	if (dp_sip_rate_ok(lc, acl, meta))
		return true;
	if (acl->rl_action == DP_ACL_403) {
		*code = 403;
		return true;
	}
	dp_cnt_add(lc, DP_CNT_DROP, 1);
	return false;
}

int
dp_sip_answer(struct dp_lcore *lc, const struct dp_snap *snap,
	      const struct dp_udp_meta *meta, struct dp_sip_pkt *p,
	      uint16_t code)
{
	struct sip_resp r;

	if (unlikely(p->rl_exempt) && p->msg.method == SIP_METHOD_CANCEL &&
	    snap != NULL && snap->acl.rl_rps != 0 &&
	    !dp_sip_cancel_rate(lc, snap, meta, &code))
		return 0;
	memset(&r, 0, sizeof(r));
	r.code = code;
	if (code == 420)
		r.unsupported = p->unsupported;
	/*
	 * The router's answer to OPTIONS for itself (RFC 3261 §11.2): what
	 * it accepts, and in redirect mode, where it is a UAS, the methods
	 * it answers; a proxy leaves Allow out (it is method agnostic).
	 * No Supported: the router supports no extension.
	 */
	if (code == 200 && p->msg.method == SIP_METHOD_OPTIONS)
		r.extra = lc->conf->mode == DP_MODE_PROXY ?
			  SPAN_LIT(DP_OPTIONS_ACCEPT) :
			  SPAN_LIT(DP_OPTIONS_ALLOW DP_OPTIONS_ACCEPT);
	return dp_sip_respond(lc, snap, meta, p, &r, (uint32_t)r.extra.len);
}

/* Is @p u one of our SIP ports (or no port: the default 5060 / 5061)? */
static bool
dp_sip_port_is_ours(const struct dp_conf *c, const struct sip_uri *u)
{
	uint8_t i;

	if (span_is_null(u->port_str) || u->port_str.len == 0)
		return true;            /* no port (":0" is a port, not ours) */
	for (i = 0; i < c->nsip_port; i++) {
		if (c->sip_port[i] == u->port)
			return true;
	}
	return false;
}

/* Is the URI's host one of our addresses, aliases or local domains? */
static bool
dp_sip_host_is_ours(const struct dp_conf *c, const struct sip_uri *u)
{
	struct span h = u->host;
	uint8_t a[16];
	int af;

	switch (u->host_type) {
	case SIP_HOST_IPV4:
	case SIP_HOST_IPV6:
		af = sip_host_to_ip(h, a);
		return af > 0 && dp_conf_ip_is_ours(c, a, af);
	case SIP_HOST_NAME:
		return dp_conf_domain_is_ours(c, h);
	default:
		return false;
	}
}

/* A verdict that answers: never for ACK (RFC 3261 §17.2.1: no response). */
static uint8_t
dp_sip_reply(struct dp_lcore *lc, struct dp_sip_pkt *p, uint16_t code)
{
	if (p->msg.method == SIP_METHOD_ACK) {
		dp_cnt_add(lc, DP_CNT_SIP_ACK_ABSORBED, 1);
		return DP_SV_DROP;
	}
	p->code = code;
	return DP_SV_ANSWER;
}

/* Parse or check verdict other than OK (DESIGN §3.1, §3.2 step 1). */
static uint8_t
dp_sip_bad(struct dp_lcore *lc, struct dp_sip_pkt *p, enum sip_perr v)
{
	uint16_t code = sip_perr_status(v);

	dp_cnt_add(lc, DP_CNT_SIP_PARSE_ERR, 1);
	dp_cnt_inc(&lc->sip_perr[v]);
	/* No Via (not even one the salvage found): nothing would carry an
	 * answer back to its client (RFC 3261 §18.2.2). */
	if (!p->msg.is_request || code == 0 ||
	    p->msg.method == SIP_METHOD_ACK ||
	    sip_msg_hdr(&p->msg, SIP_HDR_VIA) == NULL) {
		dp_cnt_add(lc, DP_CNT_SIP_PARSE_DROP, 1);
		return DP_SV_DROP;
	}
	p->code = code;
	return DP_SV_ANSWER;
}

/*
 * Unsupported: every Proxy-Require option, comma-joined, into @p buf.
 * Options that do not fit are left out (the list is advisory), and so are
 * values that are no option tag (a token, RFC 3261 §20.29): their bytes
 * (a lone CR, say) must not reach an answer, where a receiver could read
 * them as headers of their own.
 */
static struct span
dp_sip_unsupported(const struct sip_msg *msg, bool uas, char *buf,
		   uint32_t cap)
{
	struct sip_value_iter it;
	struct span v;
	uint32_t n = 0;
	int pass;

	for (pass = 0; pass < 1 + uas; pass++) {
		sip_values_init(&it, msg, pass == 0 ? SIP_HDR_PROXY_REQUIRE :
						      SIP_HDR_REQUIRE);
		while (sip_values_next(&it, &v) == 1) {
			if (!sip_is_token(v) || n + v.len + 2 > cap)
				continue;
			if (n != 0) {
				buf[n++] = ',';
				buf[n++] = ' ';
			}
			memcpy(buf + n, v.ptr, v.len);
			n += (uint32_t)v.len;
		}
	}
	return span_make(buf, n);
}

/*
 * Refuse @p p for its Proxy-Require (and, where the router is the UAS,
 * @p uas, Require) options: 420 with every one in Unsupported, or 400 when
 * no option tag can be named (an empty header, only tags too long to
 * list, or values that are no token): the header is bad (§20.29 wants
 * one at least), and a 420 would carry an empty Unsupported.
 */
static uint8_t
dp_sip_refuse_options(struct dp_lcore *lc, struct dp_sip_pkt *p, bool uas,
		      char *buf)
{
	p->unsupported = dp_sip_unsupported(&p->msg, uas, buf, DP_UNSUP_MAX);
	dp_cnt_add(lc, uas ? DP_CNT_SIP_REQUIRE : DP_CNT_SIP_PROXY_REQUIRE, 1);
	return dp_sip_reply(lc, p, p->unsupported.len != 0 ? 420 : 400);
}

/*
 * Proxy mode: does this ACK or CANCEL follow its INVITE through the
 * route table (no Route; a Request-URI that names no other host, as
 * dp_proxy_request() decides)? Such belong to a transaction already
 * admitted. One the message itself routes (a Route, a dialog's remote
 * target) goes wherever it names, and is charged to the rate as any
 * request is.
 */
static bool
dp_sip_follows_table(const struct dp_conf *c, const struct dp_sip_pkt *p)
{
	const struct sip_uri *u = &p->info.ruri;
	struct sip_value_iter it;
	struct sip_naddr na;
	struct sip_uri ru;
	struct span maddr, v;
	uint8_t a[16];

	/* Route values naming us (we are the outbound proxy) are popped
	 * and the table routes what is left without one. */
	if (sip_msg_hdr(&p->msg, SIP_HDR_ROUTE) != NULL) {
		sip_values_init(&it, &p->msg, SIP_HDR_ROUTE);
		while (sip_values_next(&it, &v) == 1)
			if (!dp_proxy_route_is_us(c, v, &na, &ru))
				return false;
	}
	if (span_is_null(p->info.to.tag))
		return true;
	return dp_proxy_uri_is_us(c, u) ||
	       (sip_host_to_ip(u->host, a) < 0 &&
		!sip_param_get(u->params, SPAN_LIT("maddr"), &maddr));
}

/* Whether @p snap has a source policy to consult at all. */
static inline bool
dp_sip_policy_on(const struct dp_snap *snap)
{
	return snap != NULL &&
	       (snap->acl.nallow | snap->acl.ndeny | snap->acl.refuse_all) +
	       snap->acl.rl_rps != 0;
}

/*
 * DESIGN §3.2 step 2: the source address lists, then the source's rate,
 * counted. The refusal's action (DP_ACL_*), or -1 when the source is
 * admitted. @p p is the request, NULL for one that did not parse (no
 * exemption applies to it).
 */
static int
dp_sip_refusal(struct dp_lcore *lc, const struct dp_acl *acl,
	       const struct dp_udp_meta *meta, struct dp_sip_pkt *p)
{
	int fam, act;
	const uint8_t *a = dp_sip_src_addr(meta, &fam);

	act = dp_acl_refused(acl, fam, a);
	if (act >= 0) {
		dp_cnt_add(lc, DP_CNT_SIP_ACL_REFUSED, 1);
		return act;
	}
	if (acl->rl_rps == 0)
		return -1;
	/* In proxy mode an ACK or CANCEL that follows its INVITE through
	 * the table belongs to a transaction already admitted: the lists
	 * apply, the rate does not (refusing them breaks calls); a CANCEL
	 * the router answers itself is charged then (dp_sip_answer()).
	 * One the message routes (a Route, a dialog's remote target) goes
	 * wherever it names: charged. A redirect server admitted nothing:
	 * its INVITE had its 3xx, and a CANCEL is one more 200 copying
	 * every Via to whatever source it names, rate limited as any
	 * request (an ACK it absorbs before the policy). */
	if (p != NULL) {
		p->rl_exempt = lc->conf->mode == DP_MODE_PROXY &&
			       (p->msg.method == SIP_METHOD_ACK ||
				p->msg.method == SIP_METHOD_CANCEL) &&
			       dp_sip_follows_table(lc->conf, p);
		if (p->rl_exempt)
			return -1;
	}
	return dp_sip_rate_ok(lc, acl, meta) ? -1 : acl->rl_action;
}

/* dp_sip_refusal() for a parsed request: DP_SV_ROUTE, else its verdict. */
static uint8_t
dp_sip_source(struct dp_lcore *lc, const struct dp_acl *acl,
	      const struct dp_udp_meta *meta, struct dp_sip_pkt *p)
{
	int act = dp_sip_refusal(lc, acl, meta, p);

	if (act < 0)
		return DP_SV_ROUTE;
	return act == DP_ACL_403 ? dp_sip_reply(lc, p, 403) : DP_SV_DROP;
}

/*
 * dp_sip_bad() for a request from @p meta's source: an answer only when
 * the source policy admits it (its lists and its rate, as a good
 * request's), so that a refused or flooding source gets no 400, 505...
 * (it gets what the policy's action says, 403 answered as the 400 would
 * be).
 */
static uint8_t
dp_sip_bad_from(struct dp_lcore *lc, const struct dp_snap *snap,
		const struct dp_udp_meta *meta, struct dp_sip_pkt *p,
		enum sip_perr v)
{
	uint8_t sv = dp_sip_bad(lc, p, v);
	int act;

	if (sv != DP_SV_ANSWER || !dp_sip_policy_on(snap))
		return sv;
	act = dp_sip_refusal(lc, &snap->acl, meta, NULL);
	if (act < 0)
		return sv;
	if (act == DP_ACL_403) {
		p->code = 403;
		return DP_SV_ANSWER;
	}
	return DP_SV_DROP;
}

/*
 * A response to one of the loader's probes (dp_probe.c): its round is
 * recorded in this worker's slice of the snapshot when the generation and
 * target are the snapshot's, it comes from the target's address and it
 * is not a 503. Always consumed.
 */
static uint8_t
dp_sip_probe_answer(struct dp_lcore *lc, const struct dp_snap *snap,
		    const struct dp_udp_meta *meta, const struct dp_sip_pkt *p)
{
	const char *b = p->info.via.branch.ptr + DP_PROBE_MAGIC_LEN;
	uint32_t gen, t, round, *a;
	struct rules_dest d;
	struct dp_ip from;
	char mac[16];

	if (snap == NULL || snap->probe_ans == NULL ||
	    p->msg.status == 503 || lc->idx >= snap->nworkers ||
	    !dp_hex8(b, &gen) || b[8] != '.' || !dp_hex8(b + 9, &t) ||
	    b[17] != '.' || !dp_hex8(b + 18, &round) || round == 0 ||
	    b[26] != '.')
		goto stale;
	/* Ours only with the hash right (dp_probe_mac()). */
	fmt_hex64(mac, sizeof(mac), dp_probe_mac(snap, gen, t, round), 16);
	if (memcmp(mac, p->info.via.branch.ptr + DP_PROBE_MAC_OFF, 16) != 0)
		goto stale;
	/* A round sent before the last swap, numbered by its generation. */
	if (gen != (uint32_t)snap->generation) {
		if (snap->probe_remap == NULL || t >= snap->probe_remap_n ||
		    gen != __atomic_load_n(&snap->probe_sent_gen,
					   __ATOMIC_RELAXED))
			goto stale;
		t = snap->probe_remap[t];
	}
	if (t >= snap->ntargets)
		goto stale;
	/* From the target probed (any port): a copy from elsewhere proves
	 * nothing of it. */
	if (rules_db_target(snap->db, t, &d) != 0)
		goto stale;
	dp_ip_set(&from, d.addr, d.af);
	if (!dp_ip_eq(&from, &meta->src))
		goto stale;
	a = &snap->probe_ans[(size_t)lc->idx * snap->pstride + t];
	if (round > *a)
		__atomic_store_n(a, round, __ATOMIC_RELAXED);
	dp_cnt_add(lc, DP_CNT_PROBE_ANSWER, 1);
	return DP_SV_DROP;
stale:
	dp_cnt_add(lc, DP_CNT_PROBE_STALE, 1);
	return DP_SV_DROP;
}

/* Pass 1 for one datagram: DESIGN §3.2 steps 1-8. */
static uint8_t
dp_sip_classify(struct dp_lcore *lc, const struct dp_snap *snap,
		struct rte_mbuf *m, const struct dp_udp_meta *meta,
		struct dp_sip_pkt *p, char *unsup)
{
	const struct dp_conf *c = lc->conf;
	const struct sip_uri *u;
	enum sip_perr v;
	bool options, to_us;

	p->info_ok = 0;
	p->flow_ok = 0;
	p->rl_exempt = 0;
	p->rule = RULES_NO_RULE;
	p->code = 0;
	p->unsupported = SPAN_NULL;
	v = sip_parse(&p->msg, rte_pktmbuf_mtod_offset(m, const char *,
						       meta->payload_off),
		      meta->payload_len);
	if (v == SIP_PERR_OK)
		v = sip_msg_check(&p->msg, &p->info);
	if (unlikely(v != SIP_PERR_OK))
		return dp_sip_bad_from(lc, snap, meta, p, v);
	p->info_ok = 1;

	if (!p->msg.is_request) {
		dp_cnt_add(lc, DP_CNT_SIP_RESP_IN, 1);
		/* Our probes' answers, in either mode. */
		if (unlikely(p->info.via.branch.len == DP_PROBE_BRANCH_LEN &&
			     memcmp(p->info.via.branch.ptr, DP_PROBE_MAGIC,
				    DP_PROBE_MAGIC_LEN) == 0))
			return dp_sip_probe_answer(lc, snap, meta, p);
		if (c->mode == DP_MODE_PROXY)
			return DP_SV_PROXY;
		/* A redirect server sends no request, so no response is ours. */
		dp_cnt_add(lc, DP_CNT_SIP_RESP_DROP, 1);
		return DP_SV_DROP;
	}
	dp_cnt_add(lc, DP_CNT_SIP_REQ, 1);
	dp_cnt_inc(&lc->sip_method[p->msg.method]);

	/*
	 * 2. Source address lists and rate, when the settings ask for them.
	 * A redirect server absorbs an ACK whoever sent it: nothing to
	 * refuse, nothing to count twice.
	 */
	if (dp_sip_policy_on(snap) &&
	    (p->msg.method != SIP_METHOD_ACK || c->mode == DP_MODE_PROXY)) {
		uint8_t sv = dp_sip_source(lc, &snap->acl, meta, p);

		if (sv != DP_SV_ROUTE)
			return sv;
	}

	u = &p->info.ruri;
	options = p->msg.method == SIP_METHOD_OPTIONS;
	/* Only OPTIONS and REGISTER ask whether the R-URI is the router's
	 * (its host is parsed again for that: 130 instructions an INVITE
	 * need not spend). */
	to_us = (options || p->msg.method == SIP_METHOD_REGISTER) &&
		(u->scheme_id == SIP_SCHEME_SIP ||
		 u->scheme_id == SIP_SCHEME_SIPS) &&
		dp_sip_host_is_ours(c, u) && dp_sip_port_is_ours(c, u);

	/* 3. Max-Forwards (RFC 3261 §16.3 item 3; §11 for OPTIONS). */
	if (p->info.max_forwards == 0) {
		if (options && to_us && u->user.len == 0) {
			dp_cnt_add(lc, DP_CNT_SIP_TO_ROUTER, 1);
			return dp_sip_reply(lc, p, 200);
		}
		if (p->msg.method != SIP_METHOD_ACK)
			dp_cnt_add(lc, DP_CNT_SIP_MAXFWD, 1);
		return dp_sip_reply(lc, p, 483);
	}
	/* 4. Loop detection (RFC 3261 §16.3 item 4): before the checks
	 * below, so that a looped request is told it looped. */
	if (c->mode == DP_MODE_PROXY) {
		enum dp_proxy_loop l = dp_proxy_loop_check(c,
			&((struct dp_sip_lcore *)lc->sip)->proxy_key,
			&p->msg, &p->info);

		if (l == DP_LOOP_LOOP) {
			dp_cnt_add(lc, DP_CNT_PROXY_LOOP, 1);
			/* A looped ACK is absorbed (dropped), counted so. */
			return dp_sip_reply(lc, p, 482);
		}
		if (l == DP_LOOP_SPIRAL)
			dp_cnt_add(lc, DP_CNT_PROXY_SPIRAL, 1);
	}
	/*
	 * 5. Proxy-Require: we support no option (RFC 3261 §16.3 item 5);
	 * nor any Require option where the router answers as a UAS (a
	 * redirect server, a request to the router itself; §8.2.2.3). The
	 * 420 lists them all. ACK and CANCEL are never rejected for them.
	 */
	if (p->msg.method != SIP_METHOD_ACK &&
	    p->msg.method != SIP_METHOD_CANCEL) {
		bool uas = (c->mode != DP_MODE_PROXY || to_us) &&
			   sip_msg_hdr(&p->msg, SIP_HDR_REQUIRE) != NULL;

		if (sip_msg_hdr(&p->msg, SIP_HDR_PROXY_REQUIRE) != NULL ||
		    uas)
			return dp_sip_refuse_options(lc, p, uas, unsup);
	}
	/* 6. Keepalives addressed to the router itself. */
	if (options && to_us && u->user.len == 0) {
		dp_cnt_add(lc, DP_CNT_SIP_TO_ROUTER, 1);
		return dp_sip_reply(lc, p, 200);
	}
	/* 7. REGISTER for a local domain: the registrar comes later. */
	if (p->msg.method == SIP_METHOD_REGISTER && to_us) {
		dp_cnt_add(lc, DP_CNT_SIP_REGISTER_LOCAL, 1);
		return dp_sip_reply(lc, p, 501);
	}
	/* 8. Mode-specific: redirect (dp_redirect.c) or proxy. */
	if (c->mode != DP_MODE_PROXY)
		return dp_redirect_classify(lc, p);
	if (sip_msg_hdr(&p->msg, SIP_HDR_ROUTE) != NULL ||
	    !span_is_null(p->info.to.tag))
		return DP_SV_PROXY;
	return DP_SV_ROUTE;
}

/*
 * A CANCEL or an ACK that generation N would answer (no rule, a reject
 * or a redirect rule: its INVITE may have been forwarded under N-1) while
 * N-1 is kept (sl->prev, set in proxy mode only): it goes to
 * the proxy stage, which sends it where N-1 routes it if that is a
 * forward (DESIGN §4.3, dp_proxy.c), or answers it as N would.
 */
static bool
dp_sip_prev_may(const struct dp_lcore *lc, const struct dp_snap *snap,
		const struct dp_sip_pkt *p, uint32_t rule)
{
	const struct dp_sip_lcore *sl = lc->sip;
	struct rules_hit hit;

	if (sl->prev->db == NULL ||
	    (p->msg.method != SIP_METHOD_CANCEL &&
	     p->msg.method != SIP_METHOD_ACK))
		return false;
	if (rule == RULES_NO_RULE)
		return true;
	return rule != RULES_MATCH_ERROR &&
	       rules_hit_get(snap->db, rule, &hit) == 0 &&
	       hit.action != RULES_ACTION_FORWARD;
}

/*
 * Route the @p nk requests with verdict DP_SV_ROUTE whose keys are in
 * sl->keys (DESIGN §3.2 step 9, §4.1): one rules_match_burst() call.
 */
static void
dp_sip_route(struct dp_lcore *lc, const struct dp_snap *snap,
	     struct dp_sip_pkt **rp, uint16_t nk)
{
	struct dp_sip_lcore *sl = lc->sip;
	struct rules_scratch *scr = NULL;
	struct rules_hit hit;
	uint64_t *hits = NULL;
	uint16_t k;

	if (snap == NULL || snap->db == NULL) {
		/* No rules: the INVITE got the no-route code, so its CANCEL
		 * gets 200 as below. */
		dp_cnt_add(lc, DP_CNT_SIP_NO_SNAP, nk);
		for (k = 0; k < nk; k++) {
			if (unlikely(rp[k]->msg.method == SIP_METHOD_CANCEL)) {
				dp_cnt_add(lc, DP_CNT_SIP_CANCEL, 1);
				rp[k]->verdict = dp_sip_reply(lc, rp[k], 200);
				continue;
			}
			dp_cnt_add(lc, DP_CNT_SIP_NO_ROUTE, 1);
			rp[k]->verdict = dp_sip_reply(lc, rp[k],
						      lc->conf->no_route_code);
		}
		return;
	}
	if (lc->idx < snap->nworkers) {
		scr = snap->scratch[lc->idx];
		hits = snap->hits + (size_t)lc->idx * snap->stride;
	}
	rules_match_burst(snap->db, scr, sl->keys, nk, sl->rules);
	/*
	 * At 1M rules the winning rule's record is itself a cache miss:
	 * touching all of them before reading any overlaps the misses
	 * (match + pick 166 -> 119 ns/key, bench_rules_match "burst + pick",
	 * perf/results/rules_match.csv).
	 */
	for (k = 0; k < nk; k++)
		rules_hit_prefetch(snap->db, sl->rules[k]);
	for (k = 0; k < nk; k++) {
		struct dp_sip_pkt *p = rp[k];
		uint32_t rule = sl->rules[k];

		if (unlikely(sl->prev != NULL) && dp_sip_prev_may(lc, snap, p,
								  rule)) {
			/* The proxy stage looks it up again, in N and N-1. */
			p->rule = RULES_NO_RULE;
			p->verdict = DP_SV_PROXY;
			continue;
		}
		/*
		 * A CANCEL whose INVITE the router answered itself (no rule,
		 * a reject rule): that transaction is over, and a UAS
		 * answers such a CANCEL 200 (RFC 3261 §9.2), as it does for
		 * a redirect rule; not the INVITE's final code.
		 */
		if (unlikely(p->msg.method == SIP_METHOD_CANCEL) &&
		    (rule == RULES_NO_RULE ||
		     (rule != RULES_MATCH_ERROR &&
		      rules_hit_get(snap->db, rule, &hit) == 0 &&
		      hit.action == RULES_ACTION_REJECT))) {
			dp_cnt_add(lc, DP_CNT_SIP_CANCEL, 1);
			p->verdict = dp_sip_reply(lc, p, 200);
			continue;
		}
		if (rule == RULES_NO_RULE) {
			dp_cnt_add(lc, DP_CNT_SIP_NO_ROUTE, 1);
			p->verdict = dp_sip_reply(lc, p,
						  lc->conf->no_route_code);
			continue;
		}
		if (unlikely(rule == RULES_MATCH_ERROR ||
			     rules_hit_get(snap->db, rule, &hit) != 0)) {
			dp_cnt_add(lc, DP_CNT_SIP_MATCH_ERR, 1);
			p->verdict = dp_sip_reply(lc, p, 500);
			continue;
		}
		if (hits != NULL && rule < snap->nrules)
			dp_cnt_inc(&hits[rule]);
		p->rule = rule;
		switch (hit.action) {
		case RULES_ACTION_REJECT:
			dp_cnt_add(lc, DP_CNT_SIP_REJECT, 1);
			p->verdict = dp_sip_reply(lc, p, hit.code);
			break;
		case RULES_ACTION_FORWARD:
			if (lc->conf->mode == DP_MODE_PROXY) {
				p->verdict = DP_SV_PROXY;
				break;
			}
			/* Redirect mode redirects forward rules too. */
			/* fall through */
		default:
			if (p->msg.method == SIP_METHOD_ACK) {
				p->verdict = dp_sip_reply(lc, p, 0);
				break;
			}
			/*
			 * Proxy mode meets a redirect rule: the 3xx makes the
			 * router the UAS, which supports no Require option
			 * (RFC 3261 §8.2.2.3), as redirect mode checked in
			 * step 5 already.
			 */
			if (unlikely(lc->conf->mode == DP_MODE_PROXY &&
				     p->msg.method != SIP_METHOD_CANCEL &&
				     sip_msg_hdr(&p->msg, SIP_HDR_REQUIRE) !=
				     NULL)) {
				p->verdict = dp_sip_refuse_options(lc, p, true,
					sl->unsup[p - sl->pkt]);
				break;
			}
			p->verdict = DP_SV_REDIRECT;
			break;
		}
	}
}

uint16_t
dp_sip_burst(struct dp_lcore *lc, struct rte_mbuf **pkts,
	     const struct dp_udp_meta *meta, uint16_t n)
{
	struct dp_sip_lcore *sl = lc->sip;
	struct rte_mbuf *drop[DP_BURST], *fwd[DP_BURST];
	struct dp_udp_meta fmeta[DP_BURST];
	struct dp_sip_pkt *rp[DP_BURST], *fp[DP_BURST];
	const struct dp_snap *snap;
	uint16_t i, nk = 0, nfwd = 0, ndrop = 0, nsent = 0, nfree = 0, bad;

	if (unlikely(sl == NULL)) {
		rte_pktmbuf_free_bulk(pkts, n);
		dp_cnt_add(lc, DP_CNT_DROP, n);
		return 0;
	}
	/* One snapshot for the whole burst (H5): every packet sees one
	 * generation, and the pointer is not kept past this call. */
	snap = rcu_dereference(dp_snap_current);
	sl->snap_gen = snap != NULL ? snap->generation : 0;
	/* N-1, which only proxy mode consults (dp_proxy.c). */
	sl->prev = lc->conf->mode == DP_MODE_PROXY ?
		   rcu_dereference(dp_snap_prev) : NULL;
	if (lc->conf->mode == DP_MODE_PROXY) {
		struct hash_key k;

		dp_proxy_snap_key(snap, &k);
		/* A new key (another secret, or the first generation): the
		 * old one still checks the responses to what went out under
		 * it (dp_proxy_response()). */
		if (unlikely(k.k0 != sl->proxy_key.k0 ||
			     k.k1 != sl->proxy_key.k1)) {
			sl->proxy_key_prev = sl->proxy_key;
			sl->proxy_key_until = rte_rdtsc() + dp_keep_tsc();
			sl->proxy_key = k;
		}
	}
	if (snap != NULL && snap->acl.rl_rps != 0)
		sl->now_tsc = rte_rdtsc();

	/* Pass 1: parse and decide. */
	for (i = 0; i < n; i++) {
		struct dp_sip_pkt *p = &sl->pkt[i];

		if (i + DP_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod_offset(
				pkts[i + DP_PREFETCH], void *,
				meta[i + DP_PREFETCH].payload_off));
		p->verdict = dp_sip_classify(lc, snap, pkts[i], &meta[i], p,
					     sl->unsup[i]);
		if (p->verdict != DP_SV_ROUTE)
			continue;
		bad = dp_key_make(&p->info, &sl->keys[nk]);
		if (unlikely(bad != 0)) {
			dp_cnt_add(lc, DP_CNT_SIP_BAD_KEY, 1);
			p->verdict = dp_sip_reply(lc, p, bad);
			continue;
		}
		p->key_idx = (uint8_t)nk;
		rp[nk++] = p;
	}
	if (nk != 0)
		dp_sip_route(lc, snap, rp, nk);

	/* Pass 2: act, grouped by verdict. Requests answered locally are
	 * freed after their answers are built (the answers copy from them). */
	for (i = 0; i < n; i++) {
		if (sl->pkt[i].verdict == DP_SV_ANSWER)
			nsent = (uint16_t)(nsent + dp_sip_answer(lc, snap,
				&meta[i], &sl->pkt[i], sl->pkt[i].code));
	}
	for (i = 0; i < n; i++) {
		if (sl->pkt[i].verdict == DP_SV_REDIRECT)
			nsent = (uint16_t)(nsent + dp_redirect_answer(lc, snap,
				&meta[i], &sl->pkt[i]));
	}
	for (i = 0; i < n; i++) {
		switch (sl->pkt[i].verdict) {
		case DP_SV_PROXY:
			fwd[nfwd] = pkts[i];
			fmeta[nfwd] = meta[i];
			fp[nfwd++] = &sl->pkt[i];
			break;
		case DP_SV_ANSWER:
		case DP_SV_REDIRECT:
			drop[nfree++] = pkts[i];
			break;
		default:
			ndrop++;
			drop[nfree++] = pkts[i];
			break;
		}
	}
	if (nfree != 0)
		rte_pktmbuf_free_bulk(drop, nfree);
	if (ndrop != 0)
		dp_cnt_add(lc, DP_CNT_DROP, ndrop);
	if (nfwd != 0) {
		dp_cnt_add(lc, DP_CNT_SIP_PROXY, nfwd);
		nsent = (uint16_t)(nsent + dp_proxy_burst(lc, snap, fwd, fmeta,
							  fp, nfwd));
	}
	return nsent;
}
