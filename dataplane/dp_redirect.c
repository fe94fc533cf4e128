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

/*
 * RFC 3261 §25.1 user = 1*( unreserved / escaped / user-unreserved ): the
 * characters copied as they are; every other byte is escaped. A table, as
 * a per-byte switch was not inlined into the run scan (230 instructions
 * per 302 in callgrind, perf/bench_pipeline.sh steady, 20k rules).
 */
static const uint8_t dp_redirect_user_plain[256] = {
	['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1,
	['-'] = 1, ['_'] = 1, ['.'] = 1, ['!'] = 1, ['~'] = 1, ['*'] = 1,
	['\''] = 1, ['('] = 1, [')'] = 1,
	['&'] = 1, ['='] = 1, ['+'] = 1, ['$'] = 1, [','] = 1, [';'] = 1,
	['?'] = 1, ['/'] = 1,
};

static inline bool
dp_redirect_user_char(unsigned char ch)
{
	return dp_redirect_user_plain[ch] != 0;
}

static void
dp_redirect_user(struct fmt_buf *b, const char *u, uint32_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];
	uint32_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)u[i];
		uint32_t run;

		if (dp_redirect_user_char(ch)) {
			/* Copy a run of plain characters at once. */
			for (run = i + 1; run < n &&
			     dp_redirect_user_char((unsigned char)u[run]); run++)
				;
			fmt_buf_mem(b, &u[i], run - i);
			i = run - 1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[ch >> 4];
		esc[2] = hex[ch & 0xf];
		fmt_buf_mem(b, esc, 3);
	}
}

/* IPv6 text per RFC 5952: lower-case hex, longest zero run (>= 2) as "::". */
static void
dp_redirect_ip6(struct fmt_buf *b, const uint8_t a[16])
{
	uint16_t g[8];
	int i, best = -1, blen = 0, run = 0;

	for (i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	for (i = 0; i < 8; i++) {
		run = g[i] == 0 ? run + 1 : 0;
		if (run > blen) {
			blen = run;
			best = i - run + 1;
		}
	}
	if (blen < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			fmt_buf_lit(b, "::");
			i += blen - 1;
			continue;
		}
		if (i != 0 && i != best + blen)
			fmt_buf_lit(b, ":");
		if (g[i] >= 0x1000)
			fmt_buf_hex64(b, g[i], 4);
		else if (g[i] >= 0x100)
			fmt_buf_hex64(b, g[i], 3);
		else if (g[i] >= 0x10)
			fmt_buf_hex64(b, g[i], 2);
		else
			fmt_buf_hex64(b, g[i], 1);
	}
}

/* "00" .. "99": two digits per lookup. */
static const char dp_redirect_dec2[200] =
	"0001020304050607080910111213141516171819"
	"2021222324252627282930313233343536373839"
	"4041424344454647484950515253545556575859"
	"6061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/*
 * Decimal of @p v (< 100000) at @p p, no leading zeros; returns the length.
 * Two digits per step from a table: the digit-at-a-time loop cost 370
 * instructions per 302 for an IPv4 host and port (callgrind,
 * perf/bench_pipeline.sh steady, 20k rules).
 */
static inline uint32_t
dp_redirect_dec(char *p, uint32_t v)
{
	uint32_t n = v >= 10000 ? 5 : v >= 1000 ? 4 : v >= 100 ? 3 :
		     v >= 10 ? 2 : 1, pos = n;

	while (v >= 100) {
		pos -= 2;
		memcpy(p + pos, dp_redirect_dec2 + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(p, dp_redirect_dec2 + 2 * v, 2);
	else
		p[0] = (char)('0' + v);
	return n;
}

/* sip:USER@HOST:PORT, the IPv6 host in brackets (RFC 3261 §19.1.1). */
static uint32_t
dp_redirect_uri(char *out, uint32_t cap, const char *user, uint32_t ulen,
		const struct rules_dest *d)
{
	struct fmt_buf b;
	int i;

	fmt_buf_init(&b, out, cap);
	fmt_buf_lit(&b, "sip:");
	if (ulen != 0) {
		dp_redirect_user(&b, user, ulen);
		fmt_buf_lit(&b, "@");
	}
	if (d->af == RULES_AF_INET6) {
		fmt_buf_lit(&b, "[");
		dp_redirect_ip6(&b, d->addr);
		fmt_buf_lit(&b, "]");
		fmt_buf_lit(&b, ":");
		fmt_buf_u64(&b, d->port);
	} else {
		/* "a.b.c.d:port" in one local buffer, copied once. */
		char t[sizeof("255.255.255.255:65535")];
		uint32_t n = 0;

		for (i = 0; i < 4; i++) {
			n += dp_redirect_dec(t + n, d->addr[i]);
			t[n++] = i != 3 ? '.' : ':';
		}
		n += dp_redirect_dec(t + n, d->port);
		fmt_buf_mem(&b, t, n);
	}
	return b.overflow ? 0 : (uint32_t)(b.p - out);
}

int
dp_redirect_answer(struct dp_lcore *lc, const struct dp_snap *snap,
		   const struct dp_udp_meta *meta, struct dp_sip_pkt *p)
{
	struct dp_sip_lcore *sl = lc->sip;
	const struct rules_key *key = &sl->keys[p->key_idx];
	struct sip_resp r;
	uint32_t n = 0, i, ulen = 0, len, step, extra = 0;
	int rc;

	rc = rules_contacts(snap->db, p->rule, dp_sip_flow_hash(snap, &p->info),
			    snap->up, sl->dests, RULES_TARGETS_MAX, &n);
	if (rc != 0 || n == 0) {
		dp_cnt_add(lc, DP_CNT_SIP_ALL_DOWN, 1);
		return dp_sip_answer(lc, snap, meta, p, 503);
	}
	if (key->num_len != 0 &&
	    unlikely(rules_rewrite_user(snap->db, p->rule, key, sl->user,
					sizeof(sl->user), &ulen) != 0)) {
		dp_cnt_add(lc, DP_CNT_SIP_BUILD_FAIL, 1);
		return 0;
	}
	step = n > 10 ? 1000 / n : 100;
	for (i = 0; i < n; i++) {
		len = dp_redirect_uri(sl->uri[i], DP_CONTACT_MAX, sl->user,
				      ulen, &sl->dests[i]);
		if (unlikely(len == 0)) {
			dp_cnt_add(lc, DP_CNT_SIP_BUILD_FAIL, 1);
			return 0;
		}
		sl->contacts[i].uri = span_make(sl->uri[i], len);
		sl->contacts[i].q = (uint16_t)(1000 - i * step);
		sl->contacts[i].expires = lc->conf->redirect_expires != 0 ?
			lc->conf->redirect_expires : SIP_EXPIRES_NONE;
		/* "Contact: <" uri ">;q=0.xxx;expires=N" CRLF */
		extra += len + 48;
	}
	/* The preferred target is the one a forward would have picked. */
	if (lc->idx < snap->nworkers && sl->dests[0].target < snap->ntargets)
		dp_cnt_inc(&snap->hits[(size_t)lc->idx * snap->stride +
				       snap->nrules + sl->dests[0].target]);

	memset(&r, 0, sizeof(r));
	r.code = lc->conf->redirect_code;
	r.contacts = sl->contacts;
	r.ncontacts = (uint16_t)n;
	if (dp_sip_respond(lc, snap, meta, p, &r, extra) == 0)
		return 0;
	dp_cnt_add(lc, DP_CNT_SIP_REDIRECT, 1);
	return 1;
}
