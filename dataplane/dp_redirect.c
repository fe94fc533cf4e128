/* SPDX-License-Identifier: MIT */
/*
 * dp_redirect.c - redirect-only mode (DESIGN §3.4): the router answers
 * every routable request with a 3xx listing the rule's targets and never
 * forwards. It behaves as a stateless UAS (RFC 3261 §8.2.7): no 1xx, no
 * retransmissions, a To-tag that is a keyed hash of the request so a
 * retransmission gets a byte-identical answer, ACK absorbed, CANCEL
 * answered 200 and nothing else.
 *
 * HOT PATH (dataplane/HOTPATH.md).
 *
 * Policy choices (dataplane/README.md "Redirect mode"):
 *   - in-dialog requests (To-tag present) get 481: a redirect server is
 *     never in a dialog's path, so no dialog of ours exists;
 *   - Route headers are ignored and the Request-URI routed: as a UAS the
 *     redirect server does not process Route (RFC 3261 §8.2), and the
 *     Contacts it returns are for the caller to retry through its own
 *     route set;
 *   - q-values follow the Contact order: 1.0, then down in steps of 0.1
 *     (of 1/n for more than 10 Contacts), so every Contact keeps q > 0.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include <fmt.h>
#include <rules.h>
#include <sip.h>
#include <span.h>

#include "dp.h"

uint8_t
dp_redirect_classify(struct dp_lcore *lc, struct dp_sip_pkt *p)
{
	switch (p->msg.method) {
	case SIP_METHOD_ACK:
		/* The ACK of our 3xx (RFC 3261 §17.2.1) or of nothing. */
		dp_cnt_add(lc, DP_CNT_SIP_ACK_ABSORBED, 1);
		return DP_SV_DROP;
	case SIP_METHOD_CANCEL:
		/* RFC 3261 §9.2: a stateless UAS has no transaction left to
		 * cancel; 200 to the CANCEL and nothing else. */
		dp_cnt_add(lc, DP_CNT_SIP_CANCEL, 1);
		p->code = 200;
		return DP_SV_ANSWER;
	default:
		break;
	}
	if (!span_is_null(p->info.to.tag)) {
		dp_cnt_add(lc, DP_CNT_SIP_IN_DIALOG, 1);
		p->code = 481;
		return DP_SV_ANSWER;
	}
	return DP_SV_ROUTE;
}

/* Bytes of Contact lines a 3xx may carry beyond the request's size. */
#define DP_REDIRECT_CONTACT_BUDGET      1200u

/* ";expires=N" (when configured) and CRLF: what follows each q-value. */
static void
dp_redirect_tail(struct dp_sip_lcore *sl, uint32_t exp)
{
	uint32_t n = 0;

	memset(sl->ctail, 0, sizeof(sl->ctail));
	if (exp != 0 && exp != SIP_EXPIRES_NONE) {
		memcpy(sl->ctail, ";expires=", 9);
		n = 9 + fmt_u64(sl->ctail + 9, sizeof(sl->ctail) - 11, exp);
	}
	sl->ctail[n++] = '\r';
	sl->ctail[n++] = '\n';
	sl->ctail_len = n;
	sl->ctail_exp = exp;
}

int
dp_redirect_answer(struct dp_lcore *lc, const struct dp_snap *snap,
		   const struct dp_udp_meta *meta, struct dp_sip_pkt *p)
{
	struct dp_sip_lcore *sl = lc->sip;
	const struct rules_key *key = &sl->keys[p->key_idx];
	const uint32_t exp = lc->conf->redirect_expires;
	struct sip_resp r;
	const uint32_t cap = 3 * RULES_USER_OUT_MAX;
	const struct span u = p->info.ruri.user;
	const bool tel = p->info.ruri.scheme_id == SIP_SCHEME_TEL;
	uint32_t n = 0, i, ulen = 0, elen = 0, step, budget;
	bool phone = false, rewritten = false;
	char *o;
	int rc;

	/* A CANCEL routed to a redirect rule (proxy mode; redirect mode
	 * answers it in dp_redirect_classify()): 200, not a 3xx. */
	if (unlikely(p->msg.method == SIP_METHOD_CANCEL)) {
		dp_cnt_add(lc, DP_CNT_SIP_CANCEL, 1);
		return dp_sip_answer(lc, snap, meta, p, 200);
	}
	/* One hash of the Call-ID for the targets' order and the To-tag. */
	p->flow = dp_sip_flow_hash(snap, &p->info);
	p->flow_ok = 1;
	rc = rules_contacts(snap->db, p->rule, p->flow, snap->up, sl->dests,
			    RULES_TARGETS_MAX, &n);
	if (rc != 0 || n == 0) {
		dp_cnt_add(lc, DP_CNT_SIP_ALL_DOWN, 1);
		return dp_sip_answer(lc, snap, meta, p, 503);
	}
	if (rules_rewrites_user(snap->db, p->rule)) {
		/* The rule's strip/prepend applied to the number. */
		if (unlikely(rules_rewrite_user(snap->db, p->rule, key,
						sl->user, sizeof(sl->user),
						&ulen) != 0)) {
			dp_cnt_add(lc, DP_CNT_SIP_BUILD_FAIL, 1);
			dp_cnt_add(lc, DP_CNT_DROP, 1);
			return 0;
		}
		/* "user@", escaped once for every Contact. */
		rc = sip_user_escape(span_make(sl->user, ulen), false,
				     sl->user_esc, cap);
		elen = rc > 0 ? (uint32_t)rc : 0;
		rewritten = true;
		/* A sip: telephone-subscriber's parameters (npdi, rn...) go
		 * on with the new number, but its phone-context (as a tel:
		 * URI's below); left out when they would not fit. */
		if (!tel && elen != 0 && memchr(sl->user, ';', ulen) == NULL) {
			rc = sip_user_params(u, true, sl->user_esc + elen,
					     cap - elen);
			if (rc > 0)
				elen += (uint32_t)rc;
		}
	} else if (u.len != 0) {
		/*
		 * No manipulation: the user part as it came, so "+1212..."
		 * stays a global number (RFC 3261 §19.1.6) and a name, user
		 * parameters and all, stays what it was. A sip: or sips:
		 * user is already escaped; a tel: number is escaped here.
		 * One whose Contact would not fit (over 480 bytes, escaped)
		 * is given as the number, with its "+".
		 */
		if (tel) {
			rc = sip_user_escape(u, false, sl->user_esc, cap);
		} else if (u.len <= cap) {
			memcpy(sl->user_esc, u.ptr, u.len);
			rc = (int)u.len;
		} else {
			rc = -ENOSPC;
		}
		if (rc > 0) {
			elen = (uint32_t)rc;
		} else if (key->num_len != 0) {
			/* The number, global still when it was (RFC 3261
			 * §19.1.6): its "+" back in front. */
			if (u.ptr[0] == '+')
				sl->user_esc[elen++] = '+';
			rc = sip_user_escape(span_make(key->num, key->num_len),
					     false, sl->user_esc + elen,
					     cap - elen);
			elen = rc > 0 ? elen + (uint32_t)rc : 0;
		}
	}
	/*
	 * A tel: URI's parameters go with its number (RFC 3261 §19.1.6), as
	 * in a forwarded request (dp_proxy.c); phone-context only with the
	 * number as received. Left out when they would not fit.
	 */
	if (tel && elen != 0 && p->info.ruri.params.len != 0) {
		rc = sip_tel_params_user(p->info.ruri.params, rewritten,
					 sl->user_esc + elen, cap - elen);
		if (rc > 0)
			elen += (uint32_t)rc;
	}
	/*
	 * A telephone number stays one (RFC 3261 §19.1.6): ";user=phone" in
	 * the Contacts when the request's was a tel: URI or said so.
	 */
	if (elen != 0) {
		const struct span prm = p->info.ruri.params;
		struct span v;

		/* ";user=phone" alone is the usual case: one compare. */
		phone = tel || (prm.len == 11 &&
			 memcmp(prm.ptr, ";user=phone", 11) == 0) ||
			(prm.len != 0 &&
			 sip_param_get(prm, SPAN_LIT("user"), &v) &&
			 span_eq_nocase(v, SPAN_LIT("phone")));
		sl->user_esc[elen++] = '@';
	}
	if (unlikely(sl->ctail_len == 0 || sl->ctail_exp != exp))
		dp_redirect_tail(sl, exp);

	/*
	 * The Contact lines, written here from the target texts the snapshot
	 * holds: sip_resp_build() puts r.extra where its own Contacts would
	 * go, as a 3xx has no Unsupported, Retry-After, Min-SE or Server.
	 * Fixed-size copies where the source has room (DP_CONTACT_SLACK).
	 */
	step = n > 10 ? 1000 / n : 100;
	o = sl->clines;
	/*
	 * At most max(DP_REDIRECT_CONTACT_BUDGET, the request's size) of
	 * Contacts: each repeats the user part (up to 480 bytes), and 16 of
	 * them would answer a short request, whose source may be forged,
	 * with fragments of ten times its size. The first always goes; the
	 * last are left out (they are the last resorts).
	 */
	budget = meta->payload_len > DP_REDIRECT_CONTACT_BUDGET ?
		 meta->payload_len : DP_REDIRECT_CONTACT_BUDGET;
	for (i = 0; i < n; i++) {
		if (i != 0 && (uint32_t)(o - sl->clines) + 14 + elen + 64 +
		    sl->ctail_len > budget) {
			dp_cnt_add(lc, DP_CNT_SIP_CONTACTS_CUT, 1);
			break;
		}
		const struct dp_chost *h = &snap->chost[sl->dests[i].target];

		memcpy(o, "Contact: <sip:  ", 16);
		o += 14;
		if (elen <= 32)
			memcpy(o, sl->user_esc, 32);
		else
			memcpy(o, sl->user_esc, elen);
		o += elen;
		memcpy(o, h->txt, sizeof(h->txt));
		o += h->len;
		if (phone) {
			/* before the entry's closing ">;q=" */
			memcpy(o - 4, ";user=phone>;q=", 15);
			o += 11;
		}
		o += sip_qvalue(o, (uint16_t)(1000 - i * step));
		memcpy(o, sl->ctail, sizeof(sl->ctail));
		o += sl->ctail_len;
	}
	/* The preferred target is the one a forward would have picked. */
	if (lc->idx < snap->nworkers && sl->dests[0].target < snap->ntargets)
		dp_cnt_inc(&snap->hits[(size_t)lc->idx * snap->stride +
				       snap->nrules + sl->dests[0].target]);

	memset(&r, 0, sizeof(r));
	r.code = lc->conf->redirect_code;
	r.extra = span_make(sl->clines, (uint32_t)(o - sl->clines));
	if (dp_sip_respond(lc, snap, meta, p, &r, r.extra.len) == 0)
		return 0;
	dp_cnt_add(lc, DP_CNT_SIP_REDIRECT, 1);
	return 1;
}
