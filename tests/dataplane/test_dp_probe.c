/* SPDX-License-Identifier: MIT */
/*
 * test_dp_probe.c - target health probing in process: a round's OPTIONS
 * taken from the tx ring byte by byte, answers sent back through the
 * worker, the next rounds' verdicts on the target-state bitmap seen in
 * where INVITEs are forwarded (proxy mode), and health carried to a new
 * snapshot by target.
 *
 * Targets are behind the gateway (192.0.2.254), resolved once at start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <fmt.h>
#include <rules.h>

#include "dp_test.h"

/* nyc: .3 and .5 (weights 70/30) in tier 1, .6 in tier 2. */
static const char t_csv[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|"
	"198.19.0.6:5060/2,,0,,\n";
/* The same targets in another order, and a new one. */
static const char t_csv2[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"new,prefix,1999,forward,198.19.0.9:5060,,0,,\n"
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|"
	"198.19.0.6:5060/2,,0,,\n";

static char t_buf[4096];
static char t_probe[4096];      /* the probe to the target t_round() wants */

/* One IPv4 UDP datagram from the tx ring: payload into t_buf, the
 * destination's last byte returned. */
static int
t_take(uint16_t *dport)
{
	struct rte_mbuf *m;
	const uint8_t *f;
	size_t l3 = RTE_ETHER_HDR_LEN, l4, len;
	int last;

	assert_int_equal(t_tx(&m, 1), 1);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(f[12] << 8 | f[13], 0x0800);
	assert_int_equal(f[l3 + 9], 17);
	/* the IPv4 header checksum verifies */
	assert_int_equal(t_cksum(f + l3, 20, 0), 0);
	last = f[l3 + 19];
	l4 = l3 + (size_t)(f[l3] & 0xf) * 4;
	*dport = (uint16_t)(f[l4 + 2] << 8 | f[l4 + 3]);
	len = (size_t)(f[l4 + 4] << 8 | f[l4 + 5]) - 8;
	/* and the UDP checksum */
	assert_int_not_equal(f[l4 + 6] << 8 | f[l4 + 7], 0);
	assert_int_equal(t_cksum(f + l4, len + 8,
				 t_phdr(f + l3, 17, (uint32_t)len + 8)), 0);
	assert_true(len < sizeof(t_buf));
	memcpy(t_buf, f + l4 + 8, len);
	t_buf[len] = '\0';
	rte_pktmbuf_free(m);
	return last;
}

/* A round: judged, probes sent through the service to the worker; the
 * Via branch of the probe to 198.19.0.@p want_last (if any) into @p br. */
static uint32_t
t_round(struct dp_snap *s, uint32_t round, int want_last, char *br)
{
	uint64_t fail;
	uint32_t n, i;
	uint16_t port;
	int last;

	n = dp_probe_round(&t_env.conf, &t_env.svc, s, round, &fail);
	assert_int_equal(fail, 0);
	assert_int_equal(n, s->ntargets);
	dp_service_poll(&t_env.svc);
	t_poll();
	for (i = 0; i < n; i++) {
		last = t_take(&port);
		assert_int_equal(port, 5060);
		assert_memory_equal(t_buf, "OPTIONS sip:198.19.0.", 21);
		if (last == want_last) {
			const char *b = strstr(t_buf, ";branch=") + 8;

			memcpy(br, b, DP_PROBE_BRANCH_LEN);
			br[DP_PROBE_BRANCH_LEN] = '\0';
			strcpy(t_probe, t_buf);
		}
	}
	t_expect_nothing();
	return n;
}

/*
 * The answer @p code of 198.19.0.@p last to the probe with branch @p br,
 * sent from 198.19.0.@p from.
 */
static void
t_answer_from(int code, const char *br, int last, int from)
{
	const uint8_t src[4] = { 198, 19, 0, (uint8_t)from };
	char resp[1024];
	int n;

	n = snprintf(resp, sizeof(resp),
		     "SIP/2.0 %d Whatever\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s;rport=5060\r\n"
		     "From: <sip:sipedge@192.0.2.1:5060>;tag=x\r\n"
		     "To: <sip:198.19.0.%d:5060>;tag=t%d\r\n"
		     "Call-ID: %s@192.0.2.1:5060\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "Content-Length: 0\r\n\r\n", code, br, last, last, br + 8);
	t_sip_rx4_from(src, resp, (size_t)n);
	t_poll();
	t_expect_nothing();
}

/* The answer @p code of 198.19.0.@p last, from it. */
static void
t_answer(int code, const char *br, int last)
{
	t_answer_from(code, br, last, last);
}

/* Where an INVITE for 1212... with Call-ID @p id is forwarded. */
static int
t_invite(const char *id)
{
	char req[1024];
	uint16_t port;
	int n;

	n = snprintf(req, sizeof(req),
		     "INVITE sip:12125550100@192.0.2.1 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK%s\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@192.0.2.2>;tag=a1\r\n"
		     "To: <sip:bob@example.com>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: 1 INVITE\r\n"
		     "Content-Length: 0\r\n\r\n", id, id);
	t_sip_rx4(req, (size_t)n);
	t_poll();
	return t_take(&port);
}

/* Do 20 Call-IDs land only on targets of @p set ("356")? */
static void
t_invites_on(const char *set)
{
	char id[32], c;
	int i, last;

	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "pr%d", i);
		last = t_invite(id);
		c = (char)('0' + last);
		if (last < 0 || last > 9 || strchr(set, c) == NULL)
			fail_msg("INVITE %d went to .%d, not one of %s", i,
				 last, set);
	}
}

/*
 * A swap to t_csv2 as generation @p gen, as the loader makes it: the new
 * snapshot prepared for probing, health carried from the one it replaces
 * (kept as N-1 until t_snap_prev_clear()).
 */
static struct dp_snap *
t_swap(uint64_t gen)
{
	struct dp_snap *s = t_snap_csv_keep(t_csv2, gen);

	assert_int_equal(dp_probe_prepare(&t_env.conf, s), 0);
	dp_snap_carry_health(&t_env.conf, s, dp_snap_prev);
	return s;
}

static void
test_dp_probe_options_answers_and_health(void **state)
{
	char br3[64], br5[64], br6[64];
	struct dp_snap *s;

	(void)state;
	t_begin();
	t_env.conf.mode = DP_MODE_PROXY;
	t_env.conf.probe_interval_ms = 1000;
	t_env.conf.probe_down = 2;
	s = t_snap_csv(t_csv, 7);
	assert_int_equal(dp_probe_prepare(&t_env.conf, s), 0);
	assert_non_null(s->up);

	/* Round 1: one OPTIONS per target, exactly these bytes; the
	 * branch ends in the keyed hash of generation, target and round. */
	t_round(s, 1, 3, br3);
	{
		char want[1024], mac[17];

		fmt_hex64(mac, sizeof(mac), dp_probe_mac(s, 7, 0, 1), 16);
		mac[16] = '\0';
		/* Keyed by the process, not the installation secret: a new
		 * secret keeps the round in flight answerable. */
		{
			static const uint8_t other[16] = { 0xa5, [15] = 0x5a };
			struct dp_snap *o = NULL;

			assert_int_equal(dp_snap_build(NULL, 0, 7, other,
						       t_env.nq, &o), 0);
			assert_true(o->tag_key[0] != s->tag_key[0]);
			assert_true(dp_probe_mac(o, 7, 0, 1) ==
				    dp_probe_mac(s, 7, 0, 1));
			dp_snap_free(o);
		}
		snprintf(want, sizeof(want),
			 "z9hG4bK-sep.00000007.00000000.00000001.%s", mac);
		assert_string_equal(br3, want);
		snprintf(want, sizeof(want),
			"OPTIONS sip:198.19.0.3:5060 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-sep."
			"00000007.00000000.00000001.%s;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:sipedge@192.0.2.1:5060>;tag=00000001\r\n"
			"To: <sip:198.19.0.3:5060>\r\n"
			"Call-ID: sep.00000007.00000000.00000001@192.0.2.1:5060\r\n"
			"CSeq: 1 OPTIONS\r\n"
			"Content-Length: 0\r\n\r\n", mac);
		assert_string_equal(t_probe, want);
	}
	t_round(s, 2, 6, br6);  /* round 1 unanswered: one miss each */
	assert_int_equal(s->nunhealthy, 0);
	t_invites_on("35");

	/* Only .6 answers round 2: .3 and .5 reach two misses at round 3
	 * and are down; tier 2 takes the calls. An answer whose hash is
	 * wrong (forged: the round pushed up, or the hash guessed) does not
	 * count. */
	{
		char forged[64];

		strcpy(forged, br6);
		forged[DP_PROBE_BRANCH_LEN - 1] ^= 1;
		t_answer(200, forged, 3);
		strcpy(forged, br6);
		memcpy(forged + DP_PROBE_MAGIC_LEN + 18, "ffffffff", 8);
		t_answer(200, forged, 5);
		assert_int_equal(t_cnt(DP_CNT_PROBE_STALE), 2);
		assert_int_equal(t_cnt(DP_CNT_PROBE_ANSWER), 0);
	}
	/* .6's own answer copied by someone else proves nothing of .6 */
	t_answer_from(200, br6, 6, 5);
	assert_int_equal(t_cnt(DP_CNT_PROBE_STALE), 3);
	assert_int_equal(t_cnt(DP_CNT_PROBE_ANSWER), 0);
	t_answer(200, br6, 6);
	assert_int_equal(t_cnt(DP_CNT_PROBE_ANSWER), 1);
	t_round(s, 3, 6, br6);
	assert_int_equal(s->nunhealthy, 2);
	t_invites_on("6");

	/* A 503 is no answer; another generation's is stale; .5 answers
	 * round 3 with a 404: alive again at round 4. */
	t_round(s, 4, 5, br5);
	t_answer(503, br5, 5);
	assert_int_equal(t_cnt(DP_CNT_PROBE_STALE), 4);
	memcpy(br5 + DP_PROBE_MAGIC_LEN, "00000006", 8);
	t_answer(200, br5, 5);
	assert_int_equal(t_cnt(DP_CNT_PROBE_STALE), 5);
	memcpy(br5 + DP_PROBE_MAGIC_LEN, "00000007", 8);
	t_answer(404, br5, 5);
	t_round(s, 5, 5, br5);
	assert_int_equal(s->nunhealthy, 2);     /* .3, and .6 now */
	t_invites_on("5");

	/* Health carried to a new generation by target, not by number:
	 * .3 and .6 stay down, the new .9 starts up. */
	s = t_swap(8);
	assert_int_equal(s->nunhealthy, 2);
	t_invites_on("5");
	/* An answer a worker recorded in 7 after the health was copied (it
	 * had not seen 8 yet) is carried after the grace period: .6 is
	 * target 2 in 7, 3 in 8. */
	{
		struct dp_snap *o = dp_snap_prev;
		uint32_t *late = &o->probe_ans[(size_t)(o->nworkers - 1) *
					       o->pstride + 2];
		uint32_t was = *late, before = dp_probe_answered(s, 3);

		*late = before + 7;
		dp_snap_carry_answers(s, o);
		assert_int_equal(dp_probe_answered(s, 3), before + 7);
		/* (as it was, for what follows) */
		*late = was;
		s->probe_ans[3] = before;
		assert_int_equal(dp_probe_answered(s, 3), before);
	}

	t_snap_prev_clear();

	/* So is round 5, in flight: .5's answer, numbered by generation 7,
	 * counts in 8 (.5 is target 1 there, 2 here), and round 6 finds it
	 * answered. */
	t_answer(200, br5, 5);
	assert_int_equal(t_cnt(DP_CNT_PROBE_ANSWER), 3);
	assert_int_equal(t_cnt(DP_CNT_PROBE_STALE), 5);
	t_round(s, 6, 0, br3);
	assert_int_equal(s->nunhealthy, 2);
	t_invites_on("5");

	/* Nothing answers, and a swap comes before every round: each round
	 * is still judged at the next, so .5 and .9 are down at round 8 and
	 * everything is: 503. */
	s = t_swap(9);
	t_snap_prev_clear();
	t_round(s, 7, 0, br3);
	assert_int_equal(s->nunhealthy, 2);
	s = t_swap(10);
	t_snap_prev_clear();
	t_round(s, 8, 0, br3);
	assert_int_equal(s->nunhealthy, 4);
	{
		char inv[512];
		int n = snprintf(inv, sizeof(inv),
			"INVITE sip:12125550100@192.0.2.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKall\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:alice@192.0.2.2>;tag=a1\r\n"
			"To: <sip:bob@example.com>\r\n"
			"Call-ID: all-down\r\n"
			"CSeq: 1 INVITE\r\n"
			"Content-Length: 0\r\n\r\n");

		t_sip_rx4(inv, (size_t)n);
		t_poll();
		t_sip_tx(t_buf, sizeof(t_buf), 0);
		assert_memory_equal(t_buf, "SIP/2.0 503 ", 12);
	}
	t_env.conf.probe_interval_ms = 0;
	t_snap_csv(t_csv, 9);
	t_end();
}

/* The CANCEL of the INVITE t_invite(@p id) sent; where each copy went
 * (the destinations' last bytes, in sending order) into @p last. */
static int
t_cancel(const char *id, int last[2])
{
	struct rte_mbuf *m[4];
	const uint8_t *f;
	char req[1024];
	unsigned int k, got;
	int n;

	n = snprintf(req, sizeof(req),
		     "CANCEL sip:12125550100@192.0.2.1 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK%s\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@192.0.2.2>;tag=a1\r\n"
		     "To: <sip:bob@example.com>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: 1 CANCEL\r\n"
		     "Content-Length: 0\r\n\r\n", id, id);
	t_sip_rx4(req, (size_t)n);
	t_poll();
	got = t_tx(m, 4);
	assert_true(got <= 2);
	for (k = 0; k < got; k++) {
		f = rte_pktmbuf_mtod(m[k], const uint8_t *);
		last[k] = f[RTE_ETHER_HDR_LEN + 19];
		assert_memory_equal(f + RTE_ETHER_HDR_LEN + 28,
				    "CANCEL sip:12125550100@198.19.0.", 32);
	}
	if (got != 0)
		rte_pktmbuf_free_bulk(m, got);
	return (int)got;
}

/*
 * The targets' health changes between an INVITE and its CANCEL: the
 * CANCEL goes where the table routes it now, and a copy where it routed
 * the INVITE (the bitmap before the change), for 64*T1 after the change
 * (DESIGN §3.3: CANCEL follows its INVITE).
 */
static void
test_dp_probe_health_change_cancel_follows(void **state)
{
	char br3[64], br6[64];
	struct dp_snap *s;
	int last[2];

	(void)state;
	t_begin();
	t_env.conf.mode = DP_MODE_PROXY;
	t_env.conf.probe_interval_ms = 1000;
	t_env.conf.probe_down = 1;
	s = t_snap_csv(t_csv, 12);
	assert_int_equal(dp_probe_prepare(&t_env.conf, s), 0);
	/* Only .6 answers round 1: at round 2 tier 1 (.3, .5) is down. */
	t_round(s, 1, 6, br6);
	t_answer(200, br6, 6);
	t_round(s, 2, 3, br3);
	assert_int_equal(s->nunhealthy, 2);
	assert_int_equal(t_invite("hc1"), 6);
	/* .3 answers round 2: up at round 3, and the calls go there. */
	t_answer(200, br3, 3);
	t_round(s, 3, 0, br3);
	assert_int_equal(t_invite("hc2"), 3);
	/* hc1's CANCEL: to .3 as the table says now, and to .6, where
	 * its INVITE went. */
	assert_int_equal(t_cancel("hc1", last), 2);
	assert_int_equal(last[0], 6);
	assert_int_equal(last[1], 3);
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_HEALTH), 1);
	/* hc2's INVITE went out after the change, but a stateless proxy
	 * cannot tell: its CANCEL is copied to .6 too (which answers 481). */
	assert_int_equal(t_cancel("hc2", last), 2);
	assert_int_equal(last[1], 3);
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_HEALTH), 2);
	/* A setting changes: the loader rebuilds the same generation and
	 * replaces the snapshot (no N-1 kept). The health before the
	 * change, and when it changed, are carried: the copy goes on. */
	{
		struct dp_snap *s2 = t_snap_csv_keep(t_csv, 12);

		assert_int_equal(dp_probe_prepare(&t_env.conf, s2), 0);
		dp_snap_carry_health(&t_env.conf, s2, s);
		assert_int_equal(s2->up_change_tsc, s->up_change_tsc);
		t_snap_prev_clear();
		s = s2;
	}
	assert_int_equal(t_cancel("hc1", last), 2);
	assert_int_equal(last[0], 6);
	assert_int_equal(last[1], 3);
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_HEALTH), 3);
	/* 64*T1 after the change, no copy any more. */
	s->up_change_tsc = rte_rdtsc() - 33 * rte_get_tsc_hz();
	assert_int_equal(t_cancel("hc1", last), 1);
	assert_int_equal(last[0], 3);
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_HEALTH), 3);
	t_env.conf.probe_interval_ms = 0;
	t_snap_csv(t_csv, 13);
	t_end();
}

/*
 * Targets the router may not send to, which an import cannot know: our
 * own address (on another port) and our prefix's broadcast address. A
 * forward there is answered 403; taken out of rotation when the snapshot
 * is built, they leave the calls to the next tier.
 */
static void
test_dp_probe_unusable_targets_out_of_rotation(void **state)
{
	static const char csv[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"own,prefix,1212,forward,192.0.2.1:5070/1|192.0.2.255:5060/1|"
		"198.19.0.6:5060/2,,0,,\n";
	struct dp_snap *s;

	(void)state;
	t_begin();
	t_env.conf.mode = DP_MODE_PROXY;
	s = t_snap_csv(csv, 15);
	/* tier 1 first: a 403 back to the caller (.2) */
	assert_int_equal(t_invite("un1"), 2);
	assert_int_equal(t_cnt(DP_CNT_PROXY_BAD_DST), 1);
	assert_int_equal(dp_snap_mark_down(&t_env.conf, s, NULL, 0), 0);
	assert_int_equal(s->ndown, 2);
	t_invites_on("6");
	assert_int_equal(t_cnt(DP_CNT_PROXY_BAD_DST), 1);
	t_snap_csv(t_csv, 16);
	t_end();
}

/* An IPv6 target (the peer, on-link): its probe comes from our IPv6
 * address, with a valid UDP checksum, and its answer counts. */
static void
test_dp_probe_ipv6_target(void **state)
{
	static const char csv6[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"v6,prefix,1555,forward,[2001:db8::2]:5070,,0,,\n";
	char resp[1024], br[DP_PROBE_BRANCH_LEN + 1];
	struct rte_mbuf *m;
	const uint8_t *f;
	struct dp_snap *s;
	size_t l3 = RTE_ETHER_HDR_LEN, l4 = l3 + 40, len;
	uint64_t fail;
	int n;

	(void)state;
	t_begin();
	t_env.conf.probe_interval_ms = 1000;
	t_env.conf.probe_down = 1;
	s = t_snap_csv(csv6, 11);
	assert_int_equal(dp_probe_prepare(&t_env.conf, s), 0);
	assert_int_equal(dp_probe_round(&t_env.conf, &t_env.svc, s, 1, &fail),
			 1);
	dp_service_poll(&t_env.svc);
	t_poll();
	assert_int_equal(t_tx(&m, 1), 1);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(f[12] << 8 | f[13], 0x86dd);
	assert_int_equal(f[l3 + 6], 17);
	assert_memory_equal(f + l3 + 8, t_ip6_us, 16);
	assert_memory_equal(f + l3 + 24, t_ip6_peer, 16);
	assert_int_equal(f[l4 + 2] << 8 | f[l4 + 3], 5070);
	len = (size_t)(f[l4 + 4] << 8 | f[l4 + 5]);
	assert_int_equal(t_cksum(f + l4, len, t_phdr(f + l3, 17,
						      (uint32_t)len)), 0);
	memcpy(t_buf, f + l4 + 8, len - 8);
	t_buf[len - 8] = '\0';
	rte_pktmbuf_free(m);
	{
		static const char want[] =
			"OPTIONS sip:[2001:db8::2]:5070 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP [2001:db8::1]:5060;branch="
			"z9hG4bK-sep.0000000b.00000000.00000001.";

		assert_memory_equal(t_buf, want, sizeof(want) - 1);
	}
	memcpy(br, strstr(t_buf, ";branch=") + 8, DP_PROBE_BRANCH_LEN);
	br[DP_PROBE_BRANCH_LEN] = '\0';

	/* Answered: still up at the next round; then unanswered: down. */
	n = snprintf(resp, sizeof(resp),
		     "SIP/2.0 200 OK\r\n"
		     "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=%s;rport\r\n"
		     "From: <sip:sipedge@[2001:db8::1]:5060>;tag=x\r\n"
		     "To: <sip:[2001:db8::2]:5070>;tag=y\r\n"
		     "Call-ID: %s@[2001:db8::1]:5060\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "Content-Length: 0\r\n\r\n", br, br + 8);
	t_sip_rx6(resp, (size_t)n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_PROBE_ANSWER), 1);
	dp_probe_round(&t_env.conf, &t_env.svc, s, 2, &fail);
	assert_int_equal(s->nunhealthy, 0);
	dp_service_poll(&t_env.svc);
	t_poll();
	assert_int_equal(t_tx(&m, 1), 1);
	rte_pktmbuf_free(m);
	dp_probe_round(&t_env.conf, &t_env.svc, s, 3, &fail);
	assert_int_equal(s->nunhealthy, 1);
	assert_int_equal(s->up[0] & 1, 0);
	dp_service_poll(&t_env.svc);
	t_poll();
	assert_int_equal(t_tx(&m, 1), 1);
	rte_pktmbuf_free(m);
	t_env.conf.probe_interval_ms = 0;
	t_snap_csv(t_csv, 12);
	t_end();
}

/*
 * More targets than a round takes (bounded per worker and by the room in
 * the service's ring): each round probes the next ones in turn, and a
 * target is judged only on a probe that went out.
 */
static void
test_dp_probe_rounds_take_turns(void **state)
{
	static char csv[32768];
	struct rte_mbuf *m[64];
	struct dp_snap *s;
	uint32_t sent, got, k;
	uint64_t fail;
	size_t o;
	int r, t;

	(void)state;
	t_begin();
	o = (size_t)snprintf(csv, sizeof(csv), "id,kind,pattern,action,"
			     "targets,rank,strip,prepend,code\n");
	for (r = 0; r < 36; r++) {
		o += (size_t)snprintf(csv + o, sizeof(csv) - o,
				      "r%d,prefix,77%02d,forward,", r, r);
		for (t = 0; t < 16; t++)
			o += (size_t)snprintf(csv + o, sizeof(csv) - o,
					      "%s198.19.%d.%d:5060",
					      t != 0 ? "|" : "", 10 + r, t + 1);
		o += (size_t)snprintf(csv + o, sizeof(csv) - o, ",,,,\n");
	}
	t_env.conf.probe_interval_ms = 1000;
	t_env.conf.probe_down = 1;
	s = t_snap_csv(csv, 13);
	assert_int_equal(s->ntargets, 576);
	assert_int_equal(dp_probe_prepare(&t_env.conf, s), 0);
	for (r = 1; r <= 3; r++) {
		sent = dp_probe_round(&t_env.conf, &t_env.svc, s, (uint32_t)r,
				      &fail);
		/* per worker (the test has one): fewer than the targets */
		assert_int_equal(sent, DP_PROBE_PER_WORKER);
		assert_int_equal(fail, 0);
		/* each round judges the last one's targets, other ones */
		assert_int_equal(s->nunhealthy, (uint32_t)(r - 1) * sent);
		for (got = 0, k = 0; got < sent && k < 100; k++) {
			unsigned int n;

			dp_service_poll(&t_env.svc);
			t_poll();
			n = t_tx(m, 64);
			got += n;
			rte_pktmbuf_free_bulk(m, n);
		}
		assert_int_equal(got, sent);
	}
	t_env.conf.probe_interval_ms = 0;
	t_snap_csv(t_csv, 14);
	t_end();
}

static int
t_setup(void **state)
{
	(void)state;
	return t_env_setup_routed("test_dp_probe", t_csv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_probe_options_answers_and_health),
		cmocka_unit_test(test_dp_probe_health_change_cancel_follows),
		cmocka_unit_test(test_dp_probe_ipv6_target),
		cmocka_unit_test(test_dp_probe_unusable_targets_out_of_rotation),
		cmocka_unit_test(test_dp_probe_rounds_take_turns),
	};

	return cmocka_run_group_tests_name("dp_probe", tests, t_setup,
					   t_env_group_teardown);
}
