/* SPDX-License-Identifier: MIT */
/*
 * test_dp_proxy_logic.c - the stateless proxy's decisions (dp_proxy.c)
 * over parsed messages, without EAL: branch and loop parts, Via check,
 * next hop, and the exact bytes of forwarded requests and relayed
 * responses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_ip.h>

#include <hash.h>
#include <sip.h>

#include "dp_cksum.h"
#include "dp_proxy.h"
#include "dp_proxy_fixture.h"

/* Us: 192.0.2.1 and 2001:db8::1, SIP port 5060. */
static struct dp_conf t_conf;
static struct dp_proxy_self t_self;
static struct dp_udp_meta t_meta;       /* from 192.0.2.10:5062 to us */

static struct sip_msg t_msg;
static struct sip_info t_info;
static char t_in[4096];
static char t_outbuf[8192];
static struct dp_proxy_out t_out;

static void
t_setup_conf(void)
{
	static const uint8_t src4[4] = { 192, 0, 2, 10 };

	t_proxy_fixture(&t_conf, 0, &t_self);

	memset(&t_meta, 0, sizeof(t_meta));
	t_meta.src.family = DP_AF_V4;
	memcpy(&t_meta.src.v4, src4, 4);
	t_meta.dst = t_conf.addr4[0].ip;
	t_meta.sport = 5062;
	t_meta.dport = 5060;
}

static int
t_setup(void **state)
{
	(void)state;
	t_setup_conf();
	return 0;
}

/* Parse and check @p text (kept in t_in). */
static void
t_parse(const char *text)
{
	size_t n = strlen(text);

	assert_true(n < sizeof(t_in));
	memcpy(t_in, text, n);
	assert_int_equal(sip_parse(&t_msg, t_in, (uint32_t)n), SIP_PERR_OK);
	assert_int_equal(sip_msg_check(&t_msg, &t_info), SIP_PERR_OK);
}

/*
 * t_parse() of a response whose top Via is OURS: its branch's transaction
 * part made what the proxy gave the request below it (the Via under ours).
 */
static void
t_parse_resp(const char *text)
{
	struct sip_value_iter it;
	struct sip_via next;
	struct dp_ip rd;
	struct span v;
	char hex[17];
	uint16_t rp;
	char *at;

	t_parse(text);
	at = strstr(t_in, "z9hG4bK0123456789abcdef.");
	assert_non_null(at);
	sip_values_init(&it, &t_msg, SIP_HDR_VIA);
	assert_int_equal(sip_values_next(&it, &v), 1);
	assert_int_equal(sip_values_next(&it, &v), 1);
	assert_int_equal(sip_via_parse(&next, v), SIP_PERR_OK);
	/* (A next Via that names no address is dropped before.) */
	if (!dp_proxy_via_rdst(&next, &rd, &rp))
		return;
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)
		 dp_proxy_txn_hash_via(&t_self.key, &next, &t_info, &rd, rp));
	memcpy(at + 7, hex, 16);
	assert_int_equal(sip_parse(&t_msg, t_in, t_msg.len), SIP_PERR_OK);
	assert_int_equal(sip_msg_check(&t_msg, &t_info), SIP_PERR_OK);
}

/* Apply t_out's edits; the result is NUL-terminated in t_outbuf. */
static const char *
t_apply(void)
{
	uint32_t len, i;

	if (sip_rw_apply(&t_out.ed, &t_msg, t_outbuf, sizeof(t_outbuf) - 1,
			 &len) != 0)
		for (i = 0; i < t_out.ed.n; i++)
			print_message("edit %u: off %u del %u ins %u\n", i,
				      t_out.ed.e[i].off, t_out.ed.e[i].del,
				      t_out.ed.e[i].ins.len);
	assert_int_equal(sip_rw_apply(&t_out.ed, &t_msg, t_outbuf,
				      sizeof(t_outbuf) - 1, &len), 0);
	t_outbuf[len] = '\0';
	return t_outbuf;
}

static struct rules_dest
t_dest4(uint8_t last, uint16_t port)
{
	struct rules_dest d;

	memset(&d, 0, sizeof(d));
	d.af = RULES_AF_INET;
	d.addr[0] = 192;
	d.addr[1] = 0;
	d.addr[2] = 2;
	d.addr[3] = last;
	d.port = port;
	return d;
}

/* Forward @p text through the table to 192.0.2.20:5070 with @p user. */
static const char *
t_forward(const char *text, struct span user)
{
	struct rules_dest d = t_dest4(20, 5070);

	t_parse(text);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_TABLE);
	assert_int_equal(dp_proxy_to_target(&t_self, &t_msg, &t_info, &t_meta,
					    &d, user, &t_out), DP_PA_SEND);
	return t_apply();
}

/* Parse @p text, which goes out (not by the table); the bytes sent. */
static const char *
t_request_sent(const char *text)
{
	t_parse(text);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	return t_apply();
}

/* The transaction part of our branch for t_info from t_meta's source. */
static uint64_t
t_txn(void)
{
	uint16_t rp = !span_is_null(t_info.via.rport) ? t_meta.sport :
		      t_info.via.port != 0 ? t_info.via.port : 5060;

	return dp_proxy_txn_hash(&t_self.key, &t_info, &t_meta.src, rp);
}

/* The branch we push for the message in t_msg. */
static void
t_branch(char out[DP_PROXY_BRANCH_LEN + 1])
{
	dp_proxy_branch_fmt(t_txn(),
			    dp_proxy_loop_hash(&t_self.key, &t_msg, &t_info),
			    out);
	out[DP_PROXY_BRANCH_LEN] = '\0';
}

#define INVITE_HDRS(ruri, via, extra)                                    \
	"INVITE " ruri " SIP/2.0\r\n"                                     \
	"Via: " via "\r\n"                                                \
	"Max-Forwards: 70\r\n"                                            \
	"To: <sip:+12125550100@192.0.2.1>\r\n"                            \
	"From: \"Alice\" <sip:alice@192.0.2.10>;tag=a1\r\n"               \
	"Call-ID: c1@192.0.2.10\r\n"                                      \
	"CSeq: 7 INVITE\r\n"                                              \
	extra                                                             \
	"X-Unknown:   kept   as is\r\n"                                   \
	"Content-Type: application/sdp\r\n"                               \
	"Content-Length: 4\r\n"                                           \
	"\r\n"                                                            \
	"v=0\n"

static const char invite[] = INVITE_HDRS(
	"sip:+12125550100@192.0.2.1",
	"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1", "");

static void
test_dp_proxy_forward_exact_bytes(void **state)
{
	char br[DP_PROXY_BRANCH_LEN + 1], want[2048];
	const char *got;

	(void)state;
	got = t_forward(invite, SPAN_LIT("0012125550100"));
	t_branch(br);
	snprintf(want, sizeof(want),
		 "INVITE sip:0012125550100@192.0.2.20:5070 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1\r\n"
		 "Max-Forwards: 69\r\n"
		 "To: <sip:+12125550100@192.0.2.1>\r\n"
		 "From: \"Alice\" <sip:alice@192.0.2.10>;tag=a1\r\n"
		 "Call-ID: c1@192.0.2.10\r\n"
		 "CSeq: 7 INVITE\r\n"
		 "X-Unknown:   kept   as is\r\n"
		 "Content-Type: application/sdp\r\n"
		 "Content-Length: 4\r\n"
		 "\r\n"
		 "v=0\n", br);
	assert_string_equal(got, want);
	assert_int_equal(t_out.dst.family, DP_AF_V4);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x14", 4);
	assert_int_equal(t_out.dport, 5070);
	assert_int_equal(t_out.sport, 5060);
	assert_memory_equal(&t_out.src.v4, "\xc0\x00\x02\x01", 4);
	assert_int_equal(t_out.why, DP_PW_TABLE);
	assert_int_equal(dp_proxy_loop_check(&t_conf, &t_self.key, &t_msg,
					     &t_info), DP_LOOP_NONE);
}

/* User kept (SPAN_NULL), received and rport, Max-Forwards inserted, RR. */
static void
test_dp_proxy_forward_received_rport_mf_rr(void **state)
{
	static const char in[] =
		"OPTIONS sip:bob@192.0.2.1;transport=udp SIP/2.0\r\n"
		"v: SIP/2.0/UDP host.example:5062;rport;branch=z9hG4bKx\r\n"
		"Record-Route: <sip:p1.example;lr>\r\n"
		"t: <sip:bob@example.com>\r\n"
		"f: <sip:alice@example.com>;tag=f\r\n"
		"i: c2\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"l: 0\r\n"
		"\r\n";
	char br[DP_PROXY_BRANCH_LEN + 1], want[2048];
	const char *got;

	(void)state;
	t_self.record_route = true;
	got = t_forward(in, SPAN_NULL);
	t_self.record_route = false;
	t_branch(br);
	snprintf(want, sizeof(want),
		 "OPTIONS sip:bob@192.0.2.20:5070;transport=udp SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
		 "v: SIP/2.0/UDP host.example:5062;rport=5062;branch=z9hG4bKx"
		 ";received=192.0.2.10\r\n"
		 "Max-Forwards: 70\r\n"
		 "Record-Route: <sip:192.0.2.1:5060;lr>\r\n"
		 "Record-Route: <sip:p1.example;lr>\r\n"
		 "t: <sip:bob@example.com>\r\n"
		 "f: <sip:alice@example.com>;tag=f\r\n"
		 "i: c2\r\n"
		 "CSeq: 1 OPTIONS\r\n"
		 "l: 0\r\n"
		 "\r\n", br);
	assert_string_equal(got, want);
}

/*
 * A received the client wrote (sent-by its own address, no rport) is
 * replaced by the source: responses are relayed where received says,
 * and must not go wherever a client chose.
 */
static void
test_dp_proxy_forward_forged_received_replaced(void **state)
{
	static const char in[] = INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062;received=198.51.100.99;"
		"branch=z9hG4bK-a1", "");
	const char *got;

	(void)state;
	got = t_forward(in, SPAN_NULL);
	assert_non_null(strstr(got, "\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;"
				    "received=192.0.2.10;branch=z9hG4bK-a1\r\n"));
	assert_null(strstr(got, "198.51.100.99"));
}

/*
 * The loop part hashes Route values, not their layout over lines: a
 * CANCEL carries its INVITE's Route values (RFC 3261 §9.1), maybe written
 * otherwise, and must get the INVITE's branch. Other values differ.
 */
static void
test_dp_proxy_loop_hash_route_layout(void **state)
{
	static const char *const same[] = {
		INVITE_HDRS("sip:+12125550100@192.0.2.1",
			"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1",
			"Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n"
			"Route: <sip:p3.example;lr>\r\n"),
		INVITE_HDRS("sip:+12125550100@192.0.2.1",
			"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1",
			"Route: <sip:p1.example;lr>\r\n"
			"Route: <sip:p2.example;lr>,<sip:p3.example;lr>\r\n"),
		INVITE_HDRS("sip:+12125550100@192.0.2.1",
			"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1",
			"Route: <sip:p1.example;lr>\r\n"
			"Route: <sip:p2.example;lr>\r\n"
			"Route:   <sip:p3.example;lr> \r\n"),
	};
	static const char other[] = INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1",
		"Route: <sip:p1.example;lr>, <sip:p3.example;lr>\r\n"
		"Route: <sip:p2.example;lr>\r\n");
	uint64_t h0;
	size_t i;

	(void)state;
	t_parse(same[0]);
	h0 = dp_proxy_loop_hash(&t_self.key, &t_msg, &t_info);
	for (i = 1; i < sizeof(same) / sizeof(same[0]); i++) {
		t_parse(same[i]);
		assert_true(dp_proxy_loop_hash(&t_self.key, &t_msg, &t_info) ==
			    h0);
	}
	t_parse(other);
	assert_true(dp_proxy_loop_hash(&t_self.key, &t_msg, &t_info) != h0);
}

/* Retransmission, CANCEL and the ACK of a non-2xx: same branch. */
static void
test_dp_proxy_branch_same_for_retrans_cancel_ack(void **state)
{
	static const char cancel[] =
		"CANCEL sip:+12125550100@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:+12125550100@192.0.2.1>\r\n"
		"From: \"Alice\" <sip:alice@192.0.2.10>;tag=a1\r\n"
		"Call-ID: c1@192.0.2.10\r\n"
		"CSeq: 7 CANCEL\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char ack[] =
		"ACK sip:+12125550100@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:+12125550100@192.0.2.1>;tag=uas9\r\n"
		"From: \"Alice\" <sip:alice@192.0.2.10>;tag=a1\r\n"
		"Call-ID: c1@192.0.2.10\r\n"
		"CSeq: 7 ACK\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char other[] = INVITE_HDRS(
		"sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a2", "");
	char b1[DP_PROXY_BRANCH_LEN + 1], b2[DP_PROXY_BRANCH_LEN + 1];

	(void)state;
	t_parse(invite);
	t_branch(b1);
	t_parse(invite);
	t_branch(b2);
	assert_string_equal(b1, b2);
	t_parse(cancel);
	t_branch(b2);
	assert_string_equal(b1, b2);
	t_parse(ack);
	t_branch(b2);
	assert_string_equal(b1, b2);
	/* The ACK goes through the table (it names us), like its INVITE. */
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_TABLE);
	t_parse(other);
	t_branch(b2);
	assert_string_not_equal(b1, b2);
	assert_memory_equal(b1, "z9hG4bK", 7);
}

/*
 * An INVITE sent again with credentials after a 407 and its CANCEL
 * without them (RFC 3261 §9.1 does not ask for them), and a re-INVITE
 * and the ACK of its non-2xx response (both with a To tag): one branch
 * each pair, with the magic cookie and without (RFC 2543 peers).
 */
static void
test_dp_proxy_branch_same_for_auth_and_reinvite(void **state)
{
	static const char *const vias[] = {
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a3",
		"SIP/2.0/UDP 192.0.2.10:5062",
	};
	char b1[DP_PROXY_BRANCH_LEN + 1], b2[DP_PROXY_BRANCH_LEN + 1];
	static char in[2048];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		snprintf(in, sizeof(in),
			 "INVITE sip:+12125550100@192.0.2.1 SIP/2.0\r\n"
			 "Via: %s\r\nMax-Forwards: 70\r\n"
			 "To: <sip:+12125550100@192.0.2.1>\r\n"
			 "From: <sip:alice@192.0.2.10>;tag=a1\r\n"
			 "Call-ID: c3@192.0.2.10\r\nCSeq: 8 INVITE\r\n"
			 "Proxy-Authorization: Digest username=\"a\", "
			 "realm=\"r\", nonce=\"n\", uri=\"sip:x\", "
			 "response=\"0\"\r\n"
			 "Content-Length: 0\r\n\r\n", vias[i]);
		t_parse(in);
		t_branch(b1);
		snprintf(in, sizeof(in),
			 "CANCEL sip:+12125550100@192.0.2.1 SIP/2.0\r\n"
			 "Via: %s\r\nMax-Forwards: 70\r\n"
			 "To: <sip:+12125550100@192.0.2.1>\r\n"
			 "From: <sip:alice@192.0.2.10>;tag=a1\r\n"
			 "Call-ID: c3@192.0.2.10\r\nCSeq: 8 CANCEL\r\n"
			 "Content-Length: 0\r\n\r\n", vias[i]);
		t_parse(in);
		t_branch(b2);
		assert_string_equal(b1, b2);

		snprintf(in, sizeof(in),
			 "INVITE sip:bob@198.51.100.9 SIP/2.0\r\n"
			 "Via: %s\r\nMax-Forwards: 70\r\n"
			 "Route: <sip:192.0.2.1;lr>, <sip:198.51.100.5;lr>\r\n"
			 "To: <sip:bob@example.net>;tag=T9\r\n"
			 "From: <sip:alice@192.0.2.10>;tag=a1\r\n"
			 "Call-ID: c4@192.0.2.10\r\nCSeq: 9 INVITE\r\n"
			 "Content-Length: 0\r\n\r\n", vias[i]);
		t_parse(in);
		t_branch(b1);
		snprintf(in, sizeof(in),
			 "ACK sip:bob@198.51.100.9 SIP/2.0\r\n"
			 "Via: %s\r\nMax-Forwards: 70\r\n"
			 "Route: <sip:192.0.2.1;lr>, <sip:198.51.100.5;lr>\r\n"
			 "To: <sip:bob@example.net>;tag=T9\r\n"
			 "From: <sip:alice@192.0.2.10>;tag=a1\r\n"
			 "Call-ID: c4@192.0.2.10\r\nCSeq: 9 ACK\r\n"
			 "Content-Length: 0\r\n\r\n", vias[i]);
		t_parse(in);
		t_branch(b2);
		assert_string_equal(b1, b2);
	}
}

/* RFC 2543 branch (no magic cookie): the §16.11 field list. */
static void
test_dp_proxy_branch_without_cookie(void **state)
{
	static const char a[] = INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062", "");
	static const char b[] = INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5063", "");
	uint64_t h1, h2;

	(void)state;
	t_parse(a);
	h1 = t_txn();
	t_parse(a);
	assert_true(h1 == t_txn());
	t_parse(b);
	h2 = t_txn();
	assert_true(h1 != h2);
}

/* The forwarded request coming back unchanged is a loop: 482. */
static void
test_dp_proxy_loop_482_spiral_forwarded(void **state)
{
	char br[DP_PROXY_BRANCH_LEN + 1], looped[2048], spiral[2048];
	struct rules_dest d = t_dest4(20, 5070);

	(void)state;
	t_parse(invite);
	t_branch(br);
	/* Back to us: our Via on top of theirs, the R-URI as it came. */
	snprintf(looped, sizeof(looped), INVITE_HDRS(
		"sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.77;branch=z9hG4bKdown\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1", ""), br);
	t_parse(looped);
	assert_int_equal(dp_proxy_loop_check(&t_conf, &t_self.key, &t_msg,
					     &t_info), DP_LOOP_LOOP);
	/* Under another installation's key it is not ours to judge. */
	{
		struct hash_key k = t_self.key;

		k.k0 ^= 1;
		assert_int_equal(dp_proxy_loop_check(&t_conf, &k, &t_msg,
						     &t_info), DP_LOOP_SPIRAL);
	}

	/* Our Via on top, single Via line. */
	snprintf(looped, sizeof(looped), INVITE_HDRS(
		"sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.1:5060;branch=%s", ""), br);
	t_parse(looped);
	assert_int_equal(dp_proxy_loop_check(&t_conf, &t_self.key, &t_msg,
					     &t_info), DP_LOOP_LOOP);

	/* Same Via, another Request-URI: a spiral, forwarded. */
	snprintf(spiral, sizeof(spiral), INVITE_HDRS(
		"sip:+12125550199@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.77;branch=z9hG4bKdown\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s", ""), br);
	t_parse(spiral);
	assert_int_equal(dp_proxy_loop_check(&t_conf, &t_self.key, &t_msg,
					     &t_info), DP_LOOP_SPIRAL);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_TABLE);
	assert_int_equal(dp_proxy_to_target(&t_self, &t_msg, &t_info, &t_meta,
					    &d, SPAN_NULL, &t_out),
			 DP_PA_SEND);
	/* A Via of another host with our branch shape is not ours. */
	snprintf(spiral, sizeof(spiral), INVITE_HDRS(
		"sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.99:5060;branch=%s", ""), br);
	t_parse(spiral);
	assert_int_equal(dp_proxy_loop_check(&t_conf, &t_self.key, &t_msg,
					     &t_info), DP_LOOP_NONE);
}

/* Our Route is removed; the next one is the destination; no table. */
static void
test_dp_proxy_route_pop_and_loose_route(void **state)
{
	static const char in[] = INVITE_HDRS(
		"sip:bob@198.51.100.9",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-r",
		"Route: <sip:192.0.2.1;lr>,<sip:192.0.2.30:5080;lr>\r\n"
		"Route: <sip:192.0.2.31;lr>\r\n");
	const char *got;

	(void)state;
	got = t_request_sent(in);
	assert_int_equal(t_out.why, DP_PW_ROUTE);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x1e", 4);
	assert_int_equal(t_out.dport, 5080);
	assert_non_null(strstr(got, "INVITE sip:bob@198.51.100.9 SIP/2.0\r\n"));
	assert_non_null(strstr(got, "\r\nRoute: <sip:192.0.2.30:5080;lr>\r\n"
				    "Route: <sip:192.0.2.31;lr>\r\n"));
	assert_null(strstr(got, "192.0.2.1;lr"));
}

/* A rewritten sip: telephone-subscriber keeps its parameters (npdi, rn:
 * RFC 4694) but phone-context; one the rule leaves alone keeps them all. */
static void
test_dp_proxy_rewrite_keeps_user_params(void **state)
{
	static const char in[] = INVITE_HDRS(
		"sip:+12125550100;npdi;rn=+12125550000;phone-context=+1"
		"@192.0.2.1;user=phone",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-np", "");
	const char *got;

	(void)state;
	got = t_forward(in, SPAN_LIT("0012125550100"));
	assert_non_null(strstr(got, "INVITE sip:0012125550100;npdi;"
				    "rn=+12125550000@192.0.2.20:5070;"
				    "user=phone SIP/2.0\r\n"));
	got = t_forward(in, SPAN_NULL);
	assert_non_null(strstr(got, "INVITE sip:+12125550100;npdi;"
				    "rn=+12125550000;phone-context=+1"
				    "@192.0.2.20:5070;user=phone SIP/2.0\r\n"));
}

/* Route values without <>: ";lr" is then a header parameter, and the next
 * hop is still a loose router (the Request-URI stays). */
static void
test_dp_proxy_route_unbracketed_lr(void **state)
{
	static const char in[] =
		"BYE sip:bob@198.51.100.50:5070 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-ub\r\n"
		"Route: sip:192.0.2.1:5060;lr\r\n"
		"Route: sip:198.51.100.77;lr\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: ub1\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n";
	static const char strict[] =
		"BYE sip:bob@198.51.100.50:5070 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-us\r\n"
		"Route: sip:192.0.2.1:5060;lr\r\n"
		"Route: sip:198.51.100.77\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: us1\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n";
	const char *got;

	(void)state;
	got = t_request_sent(in);
	assert_int_equal(t_out.why, DP_PW_ROUTE);
	assert_memory_equal(&t_out.dst.v4, "\xc6\x33\x64\x4d", 4);
	assert_non_null(strstr(got, "BYE sip:bob@198.51.100.50:5070 SIP/2.0\r\n"));
	assert_non_null(strstr(got, "\r\nRoute: sip:198.51.100.77;lr\r\n"));
	/* Without ;lr anywhere: a strict router, as before. */
	got = t_request_sent(strict);
	assert_non_null(strstr(got, "BYE sip:198.51.100.77 SIP/2.0\r\n"));
}

/*
 * A first Route naming us by a --domain name of ours (an outbound proxy
 * its clients know by name) is ours and removed (RFC 3261 §16.4); on
 * another port, or another name, it is not.
 */
static void
test_dp_proxy_route_our_domain_popped(void **state)
{
	static const char in[] = INVITE_HDRS(
		"sip:bob@198.51.100.9",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-r",
		"Route: <sip:Edge.Example.NET.;lr>, <sip:192.0.2.30:5080;lr>\r\n");
	static const char other_port[] = INVITE_HDRS(
		"sip:bob@198.51.100.9",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-r",
		"Route: <sip:edge.example.net:5099;lr>\r\n");
	const char *got;

	(void)state;
	t_conf.domain[0] = "edge.example.net";
	t_conf.domain_len[0] = 16;
	t_conf.ndomain = 1;
	got = t_request_sent(in);
	assert_int_equal(t_out.why, DP_PW_ROUTE);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x1e", 4);
	assert_int_equal(t_out.dport, 5080);
	assert_non_null(strstr(got, "\r\nRoute: <sip:192.0.2.30:5080;lr>\r\n"));
	assert_null(strstr(got, "Edge.Example"));
	t_parse(other_port);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 503);
	t_conf.ndomain = 0;
}

/*
 * A sips: Request-URI, or a sips: next hop, asks for TLS on the hop (RFC
 * 3261 §26.2.2): this UDP router answers 416 instead of forwarding in the
 * clear; our own sips: Route is still removed first.
 */
static void
test_dp_proxy_sips_refused(void **state)
{
	static const char *const in[] = {
		INVITE_HDRS("sips:bob@198.51.100.9",
			"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s", ""),
		INVITE_HDRS("sip:bob@198.51.100.9",
			"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s",
			"Route: <sip:192.0.2.1;lr>, <sips:192.0.2.30;lr>\r\n"),
		INVITE_HDRS("sip:bob@198.51.100.9",
			"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s",
			"Route: <sips:192.0.2.30;lr>\r\n"),
	};
	static const char ours[] = INVITE_HDRS("sip:bob@198.51.100.9",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s",
		"Route: <sips:192.0.2.1;lr>, <sip:192.0.2.30;lr>\r\n");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		t_parse(in[i]);
		assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info,
						  &t_meta, &t_out),
				 DP_PA_ANSWER);
		assert_int_equal(t_out.code, 416);
		assert_int_equal(t_out.why, DP_PW_SIPS);
	}
	t_parse(ours);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x1e", 4);
}

/*
 * RFC 3261 §16.4: a Request-URI maddr naming us is removed before the
 * request is routed, by a Route too (it would bring the request back);
 * another maddr stays.
 */
static void
test_dp_proxy_route_keeps_ruri_but_our_maddr(void **state)
{
	static const char in[] = INVITE_HDRS(
		"sip:bob@example.com;maddr=192.0.2.1;transport=udp",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-m",
		"Route: <sip:192.0.2.30;lr>\r\n");
	static const char other[] = INVITE_HDRS(
		"sip:bob@example.com;maddr=198.51.100.4",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-m",
		"Route: <sip:192.0.2.30;lr>\r\n");
	const char *got;

	(void)state;
	got = t_request_sent(in);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x1e", 4);
	assert_non_null(strstr(got, "INVITE sip:bob@example.com;transport=udp "
				    "SIP/2.0\r\n"));
	got = t_request_sent(other);
	assert_non_null(strstr(got, "INVITE sip:bob@example.com;"
				    "maddr=198.51.100.4 SIP/2.0\r\n"));
}

/* A Route not ours is the next hop as it is; a name is a 503. */
static void
test_dp_proxy_route_foreign_and_name(void **state)
{
	static const char in[] = INVITE_HDRS(
		"sip:bob@198.51.100.9",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-r",
		"Route: <sip:[2001:db8::44]:5090;lr>\r\n");
	static const char name[] = INVITE_HDRS(
		"sip:bob@198.51.100.9",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-r",
		"Route: <sip:proxy.example;lr>\r\n");
	const char *got;

	(void)state;
	t_parse(in);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	assert_int_equal(t_out.dst.family, DP_AF_V6);
	assert_int_equal(t_out.dport, 5090);
	/* IPv6 next hop: our IPv6 address in Via, the v4 Via stamped. */
	got = t_apply();
	assert_non_null(strstr(got, "Via: SIP/2.0/UDP [2001:db8::1]"
				    ":5060;branch=z9hG4bK"));
	assert_non_null(strstr(got, "Route: <sip:[2001:db8::44]:5090;lr>"));
	t_parse(name);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 503);
	assert_int_equal(t_out.why, DP_PW_NOT_IP);
}

/*
 * The ACK of a non-2xx response to an INVITE the table routed has the
 * INVITE's Request-URI (RFC 3261 §17.1.1.3): when that names a domain
 * (ours or not) or a tel: number, it goes through the table as its
 * INVITE did, also behind an outbound proxy's Route of ours. Another
 * in-dialog request to a name still has nowhere to go (503).
 */
static void
test_dp_proxy_ack_to_name_uses_table(void **state)
{
	static const char *const ruris[] = {
		"sip:+12125550100@carrier.example",
		"sip:+12125550100@edge.example;user=phone",
		"tel:+12125550100",
	};
	static const char *const routes[] = {
		"", "Route: <sip:192.0.2.1;lr>\r\n",
	};
	static char in[1024];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(ruris) / sizeof(ruris[0]); i++) {
		for (j = 0; j < 2; j++) {
			snprintf(in, sizeof(in),
				 "ACK %s SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.10:5062"
				 ";branch=z9hG4bK-k\r\n"
				 "Max-Forwards: 70\r\n%s"
				 "To: <sip:+12125550100@carrier.example>"
				 ";tag=u1\r\n"
				 "From: <sip:alice@192.0.2.10>;tag=a1\r\n"
				 "Call-ID: k1\r\nCSeq: 3 ACK\r\n"
				 "Content-Length: 0\r\n\r\n",
				 ruris[i], routes[j]);
			t_parse(in);
			assert_int_equal(dp_proxy_request(&t_self, &t_msg,
							  &t_info, &t_meta,
							  &t_out),
					 DP_PA_TABLE);
		}
	}
	t_parse("BYE sip:bob@carrier.example SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-k2\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:bob@carrier.example>;tag=u1\r\n"
		"From: <sip:alice@192.0.2.10>;tag=a1\r\n"
		"Call-ID: k1\r\nCSeq: 4 BYE\r\n"
		"Content-Length: 0\r\n\r\n");
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 503);
	assert_int_equal(t_out.why, DP_PW_NOT_IP);
}

/*
 * Behind a NAT or a load balancer, callers address the router by a public
 * address that is not on its port. With that address an --alias, the
 * ACK of a non-2xx response naming it goes through the table as its
 * INVITE did (without, it went to that address), a Route naming it is
 * popped, and an in-dialog request naming it belongs to no dialog (481).
 */
static void
test_dp_proxy_alias_names_us(void **state)
{
	static const char ack[] =
		"ACK sip:+12125550100@203.0.113.5 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-n\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:+12125550100@203.0.113.5>;tag=u1\r\n"
		"From: <sip:alice@192.0.2.10>;tag=a1\r\n"
		"Call-ID: n1\r\nCSeq: 3 ACK\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char bye[] =
		"BYE sip:bob@203.0.113.5 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-n2\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:bob@203.0.113.5>;tag=u1\r\n"
		"From: <sip:alice@192.0.2.10>;tag=a1\r\n"
		"Call-ID: n1\r\nCSeq: 4 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char routed[] = INVITE_HDRS(
		"sip:+12125550100@carrier.example",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-n3",
		"Route: <sip:203.0.113.5;lr>\r\n");
	static const uint8_t vip[4] = { 203, 0, 113, 5 };
	const char *got;

	(void)state;
	/* Without the alias: a remote target like any other. */
	t_parse(ack);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	assert_memory_equal(&t_out.dst.v4, vip, 4);

	t_conf.alias[0].family = DP_AF_V4;
	memcpy(&t_conf.alias[0].v4, vip, 4);
	t_conf.nalias = 1;
	t_parse(ack);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_TABLE);
	t_parse(bye);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 481);
	got = t_forward(routed, SPAN_NULL);
	assert_null(strstr(got, "Route:"));
	assert_non_null(strstr(got, "INVITE sip:+12125550100@192.0.2.20:5070 "));
	t_setup_conf();
}

/* Only our Route: popped, then the table (no To-tag) or R-URI (tag). */
static void
test_dp_proxy_route_only_ours(void **state)
{
	static const char initial[] = INVITE_HDRS(
		"sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-r",
		"Route: <sip:192.0.2.1:5060;lr>\r\n");
	static const char bye[] =
		"BYE sip:bob@192.0.2.50:5066 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-b\r\n"
		"Route: <sip:192.0.2.1;lr>\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: d1\r\n"
		"CSeq: 8 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	const char *got;

	(void)state;
	got = t_forward(initial, SPAN_NULL);
	assert_null(strstr(got, "Route:"));
	assert_non_null(strstr(got, "INVITE sip:+12125550100@192.0.2.20:5070 "));

	got = t_request_sent(bye);
	assert_int_equal(t_out.why, DP_PW_DIALOG);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x32", 4);
	assert_int_equal(t_out.dport, 5066);
	assert_null(strstr(got, "Route:"));
	assert_non_null(strstr(got, "Max-Forwards: 70\r\n"));
}

/* In-dialog without Route: R-URI host; us -> 481; a name -> 503. */
static void
test_dp_proxy_in_dialog_bypasses_table(void **state)
{
	static const char bye[] =
		"BYE sip:bob@192.0.2.50 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-b\r\n"
		"Max-Forwards: 10\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: d1\r\n"
		"CSeq: 8 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char bye_us[] =
		"BYE sip:+12125550100@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-b\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: d1\r\n"
		"CSeq: 8 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char bye_name[] =
		"BYE sip:bob@host.example SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-b\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: d1\r\n"
		"CSeq: 8 BYE\r\n"
		"Content-Length: 0\r\n\r\n";

	(void)state;
	t_parse(bye);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	assert_int_equal(t_out.dport, 5060);
	assert_non_null(strstr(t_apply(), "Max-Forwards: 9\r\n"));
	t_parse(bye_us);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 481);
	t_parse(bye_name);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 503);
}

/* RFC 3261 §16.4: our Record-Route URI as R-URI (a strict router). */
static void
test_dp_proxy_strict_route_compat(void **state)
{
	static const char in[] =
		"BYE sip:192.0.2.1:5060;lr SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s\r\n"
		"Route: <sip:192.0.2.61;lr>, <sip:bob@192.0.2.62:5099>\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: s1\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char last[] =
		"BYE sip:192.0.2.1;lr SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s\r\n"
		"Route: <sip:bob@192.0.2.62:5099>\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: s1\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	const char *got;

	(void)state;
	got = t_request_sent(in);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x3d", 4);
	assert_non_null(strstr(got, "BYE sip:bob@192.0.2.62:5099 SIP/2.0\r\n"));
	assert_non_null(strstr(got, "Route: <sip:192.0.2.61;lr>\r\n"));

	got = t_request_sent(last);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x3e", 4);
	assert_int_equal(t_out.dport, 5099);
	assert_non_null(strstr(got, "BYE sip:bob@192.0.2.62:5099 SIP/2.0\r\n"));
	assert_null(strstr(got, "Route:"));

	/* A Request-URI naming us without lr is none of our Record-Route
	 * URIs: loose routing, the Request-URI as it is. */
	{
		static const char plain[] =
			"MESSAGE sip:192.0.2.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-m\r\n"
			"Route: <sip:192.0.2.61;lr>\r\n"
			"To: <sip:bob@example.com>\r\n"
			"From: <sip:alice@example.com>;tag=a\r\n"
			"Call-ID: s2\r\n"
			"CSeq: 1 MESSAGE\r\n"
			"Content-Length: 0\r\n\r\n";

		t_parse(plain);
		assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info,
						  &t_meta, &t_out), DP_PA_SEND);
		assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x3d", 4);
		got = t_apply();
		assert_non_null(strstr(got, "MESSAGE sip:192.0.2.1 SIP/2.0\r\n"));
		assert_non_null(strstr(got, "Route: <sip:192.0.2.61;lr>\r\n"));
	}
}

/*
 * RFC 3261 §16.6 step 7: the next hop's Route URI has no lr (a strict
 * router): it becomes the Request-URI and the Request-URI goes to the end
 * of the Route list; the Route lines left become one line in place.
 */
static void
test_dp_proxy_strict_next_hop(void **state)
{
	static const char in[] = INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-n",
		"Route: <sip:192.0.2.1;lr>, <sip:192.0.2.70:5080>\r\n");
	static const char lines[] =
		"BYE sip:bob@192.0.2.50 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-l\r\n"
		"Route: <sip:192.0.2.70:5080>,<sip:192.0.2.71;lr>\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"Route: \"P\" <sip:192.0.2.72;lr;x=1>;hp=1\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: l1\r\n"
		"CSeq: 3 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	/* §16.4 then step 7: the last Route value is the R-URI, and stays. */
	static const char both[] =
		"BYE sip:192.0.2.1:5060;lr SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s\r\n"
		"Route: <sip:192.0.2.61>, <sip:bob@192.0.2.62:5099>\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: s1\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	char br[DP_PROXY_BRANCH_LEN + 1], want[2048];
	const char *got;

	(void)state;
	t_parse(in);
	t_branch(br);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	assert_int_equal(t_out.why, DP_PW_ROUTE);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x46", 4);
	assert_int_equal(t_out.dport, 5080);
	got = t_apply();
	snprintf(want, sizeof(want), INVITE_HDRS("sip:192.0.2.70:5080",
		 "SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-n",
		 "Route: <sip:+12125550100@192.0.2.1>\r\n"), br);
	assert_non_null(strstr(want, "Max-Forwards: 70\r\n"));
	memcpy(strstr(want, "Max-Forwards: 70\r\n"), "Max-Forwards: 69", 16);
	assert_string_equal(got, want);

	t_parse(lines);
	t_branch(br);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x46", 4);
	assert_int_equal(t_out.dport, 5080);
	got = t_apply();
	snprintf(want, sizeof(want),
		 "BYE sip:192.0.2.70:5080 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-l\r\n"
		 "Max-Forwards: 70\r\n"
		 "Route: <sip:192.0.2.71;lr>, \"P\" <sip:192.0.2.72;lr;x=1>;"
		 "hp=1, <sip:bob@192.0.2.50>\r\n"
		 "To: <sip:bob@example.com>;tag=b\r\n"
		 "From: <sip:alice@example.com>;tag=a\r\n"
		 "Call-ID: l1\r\n"
		 "CSeq: 3 BYE\r\n"
		 "Content-Length: 0\r\n\r\n", br);
	assert_string_equal(got, want);

	/* Route line longer than DP_PROXY_ROUTE_MAX: a counted drop. */
	{
		char big[4096], user[1601], param[1601];

		memset(user, 'u', sizeof(user) - 1);
		user[sizeof(user) - 1] = '\0';
		memset(param, 'p', sizeof(param) - 1);
		param[sizeof(param) - 1] = '\0';
		snprintf(big, sizeof(big),
			 "BYE sip:%s@192.0.2.50 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-g\r\n"
			 "Route: <sip:192.0.2.70>, <sip:192.0.2.71;lr;x=%s>\r\n"
			 "To: <sip:bob@example.com>;tag=b\r\n"
			 "From: <sip:alice@example.com>;tag=a\r\n"
			 "Call-ID: g1\r\nCSeq: 3 BYE\r\n"
			 "Content-Length: 0\r\n\r\n", user, param);
		t_parse(big);
		assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info,
						  &t_meta, &t_out), DP_PA_DROP);
		assert_int_equal(t_out.why, DP_PW_REWRITE);
	}

	got = t_request_sent(both);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x3d", 4);
	assert_int_equal(t_out.dport, 5060);
	assert_non_null(strstr(got, "BYE sip:192.0.2.61 SIP/2.0\r\n"));
	assert_non_null(strstr(got, "\r\nRoute: <sip:bob@192.0.2.62:5099>\r\n"
				    "To: "));
	assert_null(strstr(strstr(got, "Route:") + 1, "Route:"));
}

/*
 * RFC 5658 double Record-Route: a request leaving by another address than
 * it came to (IPv4 in, an IPv6 target) is record-routed with both, the
 * outgoing one first; an in-dialog request bringing both back as Route
 * values has both removed, before loose or strict routing.
 */
static void
test_dp_proxy_double_record_route(void **state)
{
	static const char bye[] =
		"BYE sip:bob@198.51.100.9 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-d\r\n"
		"Route: <sip:192.0.2.1;lr>, <sip:[2001:db8::1];lr>, "
		"<sip:192.0.2.70;lr>\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: d1\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n";
	static const char strict[] =
		"BYE sip:bob@198.51.100.9 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-d\r\n"
		"Route: <sip:[2001:db8::1]:5060;lr>\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"Route: <sip:192.0.2.1:5060;lr>,<sip:192.0.2.71>\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: d1\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n";
	static const char only[] =
		"BYE sip:bob@198.51.100.9 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-d\r\n"
		"Route: <sip:192.0.2.1;lr>, <sip:[2001:db8::1];lr>\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: d1\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n";
	struct rules_dest d;
	const char *got;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.af = RULES_AF_INET6;
	memcpy(d.addr, t_conf.addr6[0].ip.v6, 16);
	d.addr[15] = 0x20;
	d.port = 5070;
	t_self.record_route = true;
	t_parse(invite);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_TABLE);
	assert_int_equal(dp_proxy_to_target(&t_self, &t_msg, &t_info, &t_meta,
					    &d, SPAN_NULL, &t_out), DP_PA_SEND);
	got = t_apply();
	assert_non_null(strstr(got, "\r\nRecord-Route: <sip:[2001:db8::1]:5060"
				    ";lr>, <sip:192.0.2.1:5060;lr>\r\n"));
	/* The same family in and out: one value, as before. */
	got = t_forward(invite, SPAN_NULL);
	assert_non_null(strstr(got, "\r\nRecord-Route: <sip:192.0.2.1:5060;lr>"
				    "\r\n"));
	t_self.record_route = false;

	got = t_request_sent(bye);
	assert_int_equal(t_out.why, DP_PW_ROUTE);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x46", 4);
	assert_non_null(strstr(got, "\r\nRoute: <sip:192.0.2.70;lr>\r\nTo: "));
	assert_non_null(strstr(got, "BYE sip:bob@198.51.100.9 SIP/2.0\r\n"));

	got = t_request_sent(strict);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x47", 4);
	assert_non_null(strstr(got, "BYE sip:192.0.2.71 SIP/2.0\r\n"));
	assert_non_null(strstr(got, "\r\nRoute: <sip:bob@198.51.100.9>\r\n"
				    "To: "));
	assert_null(strstr(strstr(got, "Route:") + 1, "Route:"));

	t_parse(only);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	assert_int_equal(t_out.why, DP_PW_DIALOG);
	assert_null(strstr(t_apply(), "Route:"));
	/* Both of ours on two lines above a long Route set, from a client
	 * behind NAT (received and rport to stamp) with Record-Route on:
	 * the two are removed where they are, the rest stays line by line
	 * (rewriting every line took more edits than a request may have). */
	{
		static char big[4096];
		int n, k;

		n = snprintf(big, sizeof(big),
			"BYE sip:bob@198.51.100.9 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 10.0.0.7:5062;branch=z9hG4bK-l;rport\r\n"
			"Route: <sip:192.0.2.1;lr>\r\n"
			"Route: <sip:[2001:db8::1];lr>,<sip:192.0.2.70;lr>\r\n");
		for (k = 0; k < 14; k++)
			n += snprintf(big + n, sizeof(big) - (size_t)n,
				      "Route: <sip:198.51.100.%d;lr>\r\n", k + 1);
		snprintf(big + n, sizeof(big) - (size_t)n,
			 "To: <sip:bob@example.com>;tag=b\r\n"
			 "From: <sip:alice@example.com>;tag=a\r\n"
			 "Call-ID: d2\r\nCSeq: 9 BYE\r\n"
			 "Content-Length: 0\r\n\r\n");
		t_self.record_route = true;
		got = t_request_sent(big);
		t_self.record_route = false;
		assert_int_equal(t_out.why, DP_PW_ROUTE);
		assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x46", 4);
		assert_non_null(strstr(got, "\r\nRoute: <sip:192.0.2.70;lr>\r\n"
					    "Route: <sip:198.51.100.1;lr>\r\n"));
		assert_non_null(strstr(got, "Route: <sip:198.51.100.14;lr>\r\n"
					    "To: "));
		assert_null(strstr(got, "2001:db8::1"));
		assert_null(strstr(got, "<sip:192.0.2.1;lr>"));
		assert_non_null(strstr(got, ";received=192.0.2.10"));
	}
}

/* tel: becomes sip:number@target;user=phone; '#' is escaped. */
static void
test_dp_proxy_tel_uri_and_escaping(void **state)
{
	static const char in[] = INVITE_HDRS("tel:+1-212-555-0100",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-t", "");
	const char *got;

	(void)state;
	got = t_forward(in, SPAN_LIT("12125550100#9"));
	assert_non_null(strstr(got, "INVITE sip:12125550100%239@192.0.2.20:5070"
				    ";user=phone SIP/2.0\r\n"));
}

/* The forwarded message parses and passes sip_msg_check(). */
static void
t_recheck(const char *out)
{
	struct sip_info info;
	struct sip_msg msg;

	assert_int_equal(sip_parse(&msg, out, (uint32_t)strlen(out)),
			 SIP_PERR_OK);
	assert_int_equal(sip_msg_check(&msg, &info), SIP_PERR_OK);
}

/*
 * A local tel: number's '#' is escaped in the sip: user part too; a
 * rule's empty user (the whole number stripped) leaves no user part, as
 * in a redirect's Contacts, instead of "sip:@host".
 */
static void
test_dp_proxy_tel_hash_and_empty_user(void **state)
{
	static const char tel[] = INVITE_HDRS("tel:5550100#9",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-t", "");
	static const char pw[] = INVITE_HDRS("sip:alice:pw@192.0.2.1;x=1",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-t", "");
	const char *got;

	(void)state;
	got = t_forward(tel, SPAN_NULL);
	assert_non_null(strstr(got, "INVITE sip:5550100%239@192.0.2.20:5070"
				    ";user=phone SIP/2.0\r\n"));
	t_recheck(got);
	got = t_forward(tel, span_make("", 0));
	assert_non_null(strstr(got, "INVITE sip:192.0.2.20:5070;user=phone "
				    "SIP/2.0\r\n"));
	t_recheck(got);
	got = t_forward(invite, span_make("", 0));
	assert_non_null(strstr(got, "INVITE sip:192.0.2.20:5070 SIP/2.0\r\n"));
	t_recheck(got);
	got = t_forward(pw, span_make("", 0));
	assert_non_null(strstr(got, "INVITE sip:192.0.2.20:5070;x=1 SIP/2.0\r\n"));
	t_recheck(got);
}

/*
 * A tel: URI's parameters go into the sip: user part (RFC 3261 §19.1.6),
 * escaped as a user part with their %HH kept; a rule's rewrite of the
 * number leaves phone-context out.
 */
static void
test_dp_proxy_tel_params(void **state)
{
	static const char tel[] = INVITE_HDRS(
		"tel:5550100;phone-context=+1212;isub=a%20b:c",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-t", "");
	const char *got;

	(void)state;
	got = t_forward(tel, SPAN_NULL);
	assert_non_null(strstr(got, "INVITE sip:5550100;phone-context=+1212;"
				    "isub=a%20b%3Ac@192.0.2.20:5070;user=phone "
				    "SIP/2.0\r\n"));
	t_recheck(got);
	got = t_forward(tel, SPAN_LIT("12125550100"));
	assert_non_null(strstr(got, "INVITE sip:12125550100;isub=a%20b%3Ac@"
				    "192.0.2.20:5070;user=phone SIP/2.0\r\n"));
	t_recheck(got);
}

/*
 * §16.4 gives a Request-URI naming us again (our Record-Route URI, and
 * our own URI as the only Route value), no dialog: 404, not a forward
 * to ourselves.
 */
static void
test_dp_proxy_strict_compat_back_to_us(void **state)
{
	static const char in[] = INVITE_HDRS("sip:192.0.2.1;lr",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-u",
		"Route: <sip:192.0.2.1:5060;lr>, <sip:192.0.2.1;lr>\r\n");

	(void)state;
	t_parse(in);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 404);
}

/*
 * §16.4 then our own first Route value on the same line: the last value
 * becomes the Request-URI, ours is removed, and the line goes whole
 * (the two removals met at the comma: overlapping edits).
 */
static void
test_dp_proxy_strict_compat_ours_same_line(void **state)
{
	static const char two[] =
		"BYE sip:192.0.2.1;lr SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s\r\n"
		"Route: <sip:192.0.2.1;lr>, <sip:bob@192.0.2.62:5099>\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: s1\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char lws[] =
		"BYE sip:192.0.2.1;lr SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s\r\n"
		"Route:  <sip:192.0.2.1;lr> ,\t<sip:bob@192.0.2.62:5099> \r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: s1\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char one[] = INVITE_HDRS("sip:192.0.2.1;lr",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s",
		"Route: <sip:192.0.2.1;lr>\r\n");
	const char *got;

	(void)state;
	got = t_request_sent(two);
	assert_int_equal(t_out.why, DP_PW_DIALOG);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x3e", 4);
	assert_int_equal(t_out.dport, 5099);
	assert_non_null(strstr(got, "BYE sip:bob@192.0.2.62:5099 SIP/2.0\r\n"));
	assert_null(strstr(got, "Route"));

	got = t_request_sent(lws);
	assert_non_null(strstr(got, "BYE sip:bob@192.0.2.62:5099 SIP/2.0\r\n"));
	assert_null(strstr(got, "Route"));

	/* The only value is both: the Request-URI names us again, and
	 * nothing is left to route on (no dialog): 404. */
	t_parse(one);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 404);
}

/*
 * A Route URI that would become a Request-URI sip_msg_check() refuses
 * (another scheme, URI headers) is not forwarded: a counted drop.
 */
static void
test_dp_proxy_strict_ruri_refused(void **state)
{
	static const char *const bad[] = {
		/* §16.4: the last Route value */
		"BYE sip:192.0.2.1;lr SIP/2.0\r\n"
		"Route: <sip:192.0.2.61;lr>, <ssp:bob@192.0.2.62:5099>\r\n",
		"BYE sip:192.0.2.1;lr SIP/2.0\r\n"
		"Route: <sip:192.0.2.61;lr>, <sip:bob@192.0.2.62?X=1>\r\n",
		/* §16.6 step 7: a next hop without lr */
		"BYE sip:bob@192.0.2.50 SIP/2.0\r\n"
		"Route: <sip:192.0.2.70:5080?X=1>\r\n",
	};
	char in[1024];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in), "%s"
			 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s\r\n"
			 "To: <sip:bob@example.com>;tag=b\r\n"
			 "From: <sip:alice@example.com>;tag=a\r\n"
			 "Call-ID: s1\r\n"
			 "CSeq: 2 BYE\r\n"
			 "Content-Length: 0\r\n\r\n", bad[i]);
		t_parse(in);
		assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info,
						  &t_meta, &t_out), DP_PA_DROP);
		assert_int_equal(t_out.why, DP_PW_REWRITE);
	}
}

static void
test_dp_proxy_max_forwards_zero_483(void **state)
{
	static const char in[] =
		"INVITE sip:x@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-m\r\n"
		"Max-Forwards: 0\r\n"
		"To: <sip:x@example.com>\r\n"
		"From: <sip:a@example.com>;tag=a\r\n"
		"Call-ID: m\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	t_parse(in);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 483);
}

#define RESP(via1, via2)                                                  \
	"SIP/2.0 180 Ringing\r\n"                                         \
	"Via: " via1 "\r\n"                                               \
	"Via: " via2 "\r\n"                                               \
	"To: <sip:bob@example.com>;tag=b\r\n"                             \
	"From: <sip:alice@example.com>;tag=a\r\n"                         \
	"Call-ID: r1\r\n"                                                 \
	"CSeq: 1 INVITE\r\n"                                              \
	"Content-Length: 0\r\n\r\n"

#define OURS "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK" \
	"0123456789abcdef.0123456789abcdef"

static void
test_dp_proxy_response_relayed(void **state)
{
	static const char r1[] = RESP(OURS,
		"SIP/2.0/UDP host.example:5062;rport=40000;received=192.0.2.10"
		";branch=z9hG4bK-a1");
	static const char r2[] = RESP(OURS,
		"SIP/2.0/UDP 192.0.2.11;branch=z9hG4bK-a1");
	static const char r3[] = RESP(OURS,
		"SIP/2.0/UDP host.example:5062;branch=z9hG4bK-a1");
	static const char r4[] =
		"SIP/2.0 200 OK\r\n"
		"Via: " OURS ", SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bKq\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: r1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	t_parse_resp(r1);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_SEND);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x0a", 4);
	assert_int_equal(t_out.dport, 40000);
	assert_memory_equal(&t_out.src.v4, "\xc0\x00\x02\x01", 4);
	assert_int_equal(t_out.sport, 5060);
	assert_string_equal(t_apply(),
		"SIP/2.0 180 Ringing\r\n"
		"Via: SIP/2.0/UDP host.example:5062;rport=40000;"
		"received=192.0.2.10;branch=z9hG4bK-a1\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: r1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n");

	t_parse_resp(r2);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_SEND);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x0b", 4);
	assert_int_equal(t_out.dport, 5060);

	/* No received under a host name: no Via we forwarded. */
	t_parse_resp(r3);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_FOREIGN_VIA);

	t_parse_resp(r4);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_SEND);
	assert_int_equal(t_out.dst.family, DP_AF_V6);
	assert_int_equal(t_out.dport, 5070);
	/* From our IPv6 address: the caller is of the other family. */
	assert_int_equal(t_out.src.family, DP_AF_V6);
	assert_memory_equal(t_out.src.v6, t_conf.addr6[0].ip.v6, 16);
	assert_int_equal(t_out.sport, 5060);
	assert_non_null(strstr(t_apply(),
		"\r\nVia: SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bKq\r\n"));
}

/*
 * maddr: a URI's overrides its host (RFC 3263 §4); a response's next Via
 * maddr comes before received and rport (RFC 3261 §18.2.2), with the
 * sent-by port. A name there is no IP literal: 503 or a counted drop.
 */
static void
test_dp_proxy_maddr(void **state)
{
	static const char route[] = INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-m",
		"Route: <sip:edge.example:5090;maddr=192.0.2.80;lr>\r\n");
	static const char dialog[] =
		"BYE sip:bob@host.example;maddr=[2001:db8::81] SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-d\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: m1\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n";
	static const char named[] = INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-m",
		"Route: <sip:192.0.2.80;maddr=edge.example;lr>\r\n");
	static const char resp[] = RESP(OURS,
		"SIP/2.0/UDP host.example:5062;maddr=192.0.2.82;rport=40000"
		";received=192.0.2.10;branch=z9hG4bK-a1");
	static const char resp_named[] = RESP(OURS,
		"SIP/2.0/UDP 192.0.2.11;maddr=mc.example;branch=z9hG4bK-a1");

	(void)state;
	t_parse(route);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x50", 4);
	assert_int_equal(t_out.dport, 5090);
	assert_non_null(strstr(t_apply(), "\r\nRoute: <sip:edge.example:5090;"
				    "maddr=192.0.2.80;lr>\r\n"));

	t_parse(dialog);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_SEND);
	assert_int_equal(t_out.dst.family, DP_AF_V6);
	assert_int_equal(t_out.dst.v6[15], 0x81);
	assert_int_equal(t_out.dport, 5060);

	t_parse(named);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 503);

	t_parse_resp(resp);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_SEND);
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x52", 4);
	assert_int_equal(t_out.dport, 5062);

	t_parse_resp(resp_named);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_NOT_IP);
}

/*
 * RFC 3261 §16.4: a Request-URI maddr naming us is removed and the
 * request goes on as if it had none (to its host, in a dialog); a table
 * forward sets the target as host and removes any maddr, which would
 * send the next element elsewhere.
 */
static void
test_dp_proxy_maddr_ours_and_table(void **state)
{
	static const char dialog[] =
		"BYE sip:bob@198.51.100.9;maddr=192.0.2.1;transport=udp SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-mo\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: mo1\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n";
	static const char table[] = INVITE_HDRS(
		"sip:+12125550100@192.0.2.1;maddr=198.51.100.66;user=phone",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-mt", "");
	const char *got;

	(void)state;
	got = t_request_sent(dialog);
	assert_memory_equal(&t_out.dst.v4, "\xc6\x33\x64\x09", 4);
	assert_int_equal(t_out.dport, 5060);
	assert_memory_equal(got, "BYE sip:bob@198.51.100.9;transport=udp "
			    "SIP/2.0\r\n", 47);

	got = t_forward(table, SPAN_NULL);
	assert_memory_equal(got, "INVITE sip:+12125550100@192.0.2.20:5070"
			    ";user=phone SIP/2.0\r\n", 60);
}

/*
 * A response made from the bytes the proxy forwarded (its Via lines as
 * sent, as a next hop returns them) is relayed, whatever the caller's Via
 * looks like: magic cookie or RFC 2543, a valued rport, a maddr, an IPv6
 * sent-by; under a key that changed since, only while the old one is
 * offered as self->key_prev.
 */
static void
test_dp_proxy_response_to_own_forward(void **state)
{
	static const char *const vias[] = {
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-own1;rport",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=rfc2543-1",
		"SIP/2.0/UDP 192.0.2.10:5062",
		"SIP/2.0/UDP host.example;rport=5062;branch=z9hG4bK-own2",
		"SIP/2.0/UDP 192.0.2.10;maddr=192.0.2.10;branch=z9hG4bK-own3",
		"SIP/2.0/UDP [2001:db8::10]:5070;branch=z9hG4bK-own4",
	};
	struct hash_key other = t_self.key;
	char in[2048], resp[4096];
	const char *got, *p, *e;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(vias) / sizeof(vias[0]); i++) {
		snprintf(in, sizeof(in), INVITE_HDRS(
			"sip:+12125550100@192.0.2.1", "%s", ""), vias[i]);
		got = t_forward(in, SPAN_NULL);
		/* The 180: every Via line as forwarded, From, To with a tag,
		 * Call-ID and CSeq copied. */
		n = snprintf(resp, sizeof(resp), "SIP/2.0 180 Ringing\r\n");
		for (p = strstr(got, "\r\nVia: "); p != NULL;
		     p = strstr(e, "\r\nVia: ")) {
			e = strstr(p + 2, "\r\n");
			n += snprintf(resp + n, sizeof(resp) - (size_t)n, "%.*s",
				      (int)(e - p - 2), p + 2);
			n += snprintf(resp + n, sizeof(resp) - (size_t)n, "\r\n");
		}
		n += snprintf(resp + n, sizeof(resp) - (size_t)n,
			"From: \"Alice\" <sip:alice@192.0.2.10>;tag=a1\r\n"
			"To: <sip:+12125550100@192.0.2.1>;tag=b%zu\r\n"
			"Call-ID: c1@192.0.2.10\r\n"
			"CSeq: 7 INVITE\r\n"
			"Content-Length: 0\r\n\r\n", i);
		t_parse(resp);
		assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info,
						   &t_out), DP_PA_SEND);
		assert_int_equal(t_out.why, DP_PW_RELAY);
		/* Under another key it is foreign, unless the old one is
		 * still offered. */
		other.k0 = t_self.key.k0 ^ 0x5a;
		{
			struct dp_proxy_self s2 = t_self;

			s2.key = other;
			assert_int_equal(dp_proxy_response(&s2, &t_msg, &t_info,
							   &t_out), DP_PA_DROP);
			assert_int_equal(t_out.why, DP_PW_FOREIGN_VIA);
			s2.key_prev = &t_self.key;
			assert_int_equal(dp_proxy_response(&s2, &t_msg, &t_info,
							   &t_out), DP_PA_SEND);
		}
	}
}

/*
 * A Via maddr other than the source would have every response sent
 * where the client chose (RFC 3261 §18.2.2 puts it first): 403, on the
 * table's way and on a dialog's.
 */
static void
test_dp_proxy_via_maddr_refused(void **state)
{
	static const char inv[] = INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:7;maddr=198.51.100.7;branch=z9hG4bK-1",
		"");
	static const char bye[] =
		"BYE sip:bob@198.51.100.9 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5062;maddr=[2001:db8::7]"
		";branch=z9hG4bK-d\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: m1\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n";
	struct rules_dest d = t_dest4(20, 5070);

	(void)state;
	t_parse(inv);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_TABLE);
	assert_int_equal(dp_proxy_to_target(&t_self, &t_msg, &t_info, &t_meta,
					    &d, SPAN_NULL, &t_out),
			 DP_PA_ANSWER);
	assert_int_equal(t_out.code, 403);
	assert_int_equal(t_out.why, DP_PW_VIA_MADDR);
	t_parse(bye);
	assert_int_equal(dp_proxy_request(&t_self, &t_msg, &t_info, &t_meta,
					  &t_out), DP_PA_ANSWER);
	assert_int_equal(t_out.code, 403);
	assert_int_equal(t_out.why, DP_PW_VIA_MADDR);
}

/*
 * A branch of our shape on our address is not enough: its transaction
 * part must be the keyed hash of the Via below it, as a request we sent
 * would have it. Else anyone could have a response sent from us to any
 * address (the next Via's). A real one whose next hop is no unicast
 * address of another host is dropped too.
 */
static void
test_dp_proxy_response_forged_dropped(void **state)
{
	static const char forged[] = RESP(OURS,
		"SIP/2.0/UDP 10.20.30.40:53;branch=z9hG4bKv");
	static const char mcast[] = RESP(OURS,
		"SIP/2.0/UDP 192.0.2.10;received=224.0.0.1;branch=z9hG4bKv");
	static const char self[] = RESP(OURS,
		"SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKv");
	static const char lo6[] = RESP(OURS,
		"SIP/2.0/UDP [::1]:5062;branch=z9hG4bKv");
	char *at;

	(void)state;
	/* A made-up transaction part. */
	t_parse(forged);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_FOREIGN_VIA);
	/* The right one for that Via: relayed. */
	t_parse_resp(forged);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_SEND);
	/* The same branch over another next Via (its port changed): not a
	 * response to what we sent. */
	at = strstr(t_in, ":53;");
	assert_non_null(at);
	at[2] = '4';
	assert_int_equal(sip_parse(&t_msg, t_in, t_msg.len), SIP_PERR_OK);
	assert_int_equal(sip_msg_check(&t_msg, &t_info), SIP_PERR_OK);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_FOREIGN_VIA);
	/* Under another installation's key: not ours either. */
	t_parse_resp(forged);
	t_self.key.k1 ^= 1;
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	t_self.key.k1 ^= 1;
	assert_int_equal(t_out.why, DP_PW_FOREIGN_VIA);
	/* Ours, but the next hop is multicast, our own address, loopback. */
	t_parse_resp(mcast);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_BAD_DST);
	t_parse_resp(self);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_BAD_DST);
	t_parse_resp(lo6);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_BAD_DST);
}

/*
 * A 486 to the INVITE_HDRS() request forwarded as @p fwd (the bytes sent):
 * our Via as sent, then @p via2; relayed (to 192.0.2.10:5062) or dropped
 * as foreign, as @p act says.
 */
static void
t_486_relay(const char *fwd, const char *via2, enum dp_proxy_act act)
{
	const char *via = strstr(fwd, ";branch=z9hG4bK");
	char resp[1024];

	assert_non_null(via);
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 486 Busy Here\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%.*s\r\n"
		 "Via: %s\r\n"
		 "To: <sip:+12125550100@192.0.2.1>;tag=b\r\n"
		 "From: \"Alice\" <sip:alice@192.0.2.10>;tag=a1\r\n"
		 "Call-ID: c1@192.0.2.10\r\nCSeq: 7 INVITE\r\n"
		 "Content-Length: 0\r\n\r\n", DP_PROXY_BRANCH_LEN, via + 8,
		 via2);
	t_parse(resp);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 act);
	if (act == DP_PA_DROP) {
		assert_int_equal(t_out.why, DP_PW_FOREIGN_VIA);
		return;
	}
	assert_memory_equal(&t_out.dst.v4, "\xc0\x00\x02\x0a", 4);
	assert_int_equal(t_out.dport, 5062);
}

/*
 * The branch covers where responses go back to: a response that answers
 * what we forwarded but adds a received and rport of its own to the Via
 * below ours (to have us send it anywhere) is not ours; the received and
 * rport we stamped are.
 */
static void
test_dp_proxy_response_redirected_dropped(void **state)
{
	static const char inv[] = INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-p1", "");
	static const char inv_nat[] = INVITE_HDRS(
		"sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bK-p2", "");
	const char *out;

	(void)state;
	/* Forwarded as it came (sent-by is the source): responses go to
	 * 192.0.2.10:5062; not with a received and rport of the
	 * responder's. */
	out = t_forward(inv, SPAN_NULL);
	t_486_relay(out, "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-p1",
		    DP_PA_SEND);
	t_486_relay(out, "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-p1"
		    ";received=203.0.113.66;rport=53", DP_PA_DROP);

	/* Behind a NAT: we stamp received and rport; a response carrying
	 * them goes there, one with another rport does not. */
	out = t_forward(inv_nat, SPAN_NULL);
	assert_non_null(strstr(out, "Via: SIP/2.0/UDP 10.1.1.1:5060;rport=5062"
			       ";branch=z9hG4bK-p2;received=192.0.2.10\r\n"));
	t_486_relay(out, "SIP/2.0/UDP 10.1.1.1:5060;rport=5062"
		    ";branch=z9hG4bK-p2;received=192.0.2.10", DP_PA_SEND);
	t_486_relay(out, "SIP/2.0/UDP 10.1.1.1:5060;rport=5063"
		    ";branch=z9hG4bK-p2;received=192.0.2.10", DP_PA_DROP);
}

static void
test_dp_proxy_response_foreign_dropped(void **state)
{
	static const char other_host[] = RESP(
		"SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK"
		"0123456789abcdef.0123456789abcdef",
		"SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-a1");
	static const char other_port[] = RESP(
		"SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK"
		"0123456789abcdef.0123456789abcdef",
		"SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-a1");
	static const char other_branch[] = RESP(
		"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnotours",
		"SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-a1");
	static const char only_ours[] =
		"SIP/2.0 200 OK\r\n"
		"Via: " OURS "\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"From: <sip:alice@example.com>;tag=a\r\n"
		"Call-ID: r1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	t_parse(other_host);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_FOREIGN_VIA);
	t_parse(other_port);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	t_parse(other_branch);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_FOREIGN_VIA);
	t_parse(only_ours);
	assert_int_equal(dp_proxy_response(&t_self, &t_msg, &t_info, &t_out),
			 DP_PA_DROP);
	assert_int_equal(t_out.why, DP_PW_NO_VIA);
}

/* Our own forwarded request's Via passes the response check. */
static void
test_dp_proxy_our_via_recognised(void **state)
{
	struct sip_via via;
	char br[DP_PROXY_BRANCH_LEN + 1], v[256];
	uint64_t loop;

	(void)state;
	t_parse(invite);
	t_branch(br);
	snprintf(v, sizeof(v), "SIP/2.0/UDP 192.0.2.1:5060;branch=%s", br);
	assert_int_equal(sip_via_parse(&via, span_make(v, strlen(v))),
			 SIP_PERR_OK);
	assert_true(dp_proxy_via_is_ours(&t_conf, &via, &loop));
	assert_true(loop == dp_proxy_loop_hash(&t_self.key, &t_msg, &t_info));
	snprintf(v, sizeof(v), "SIP/2.0/UDP 192.0.2.1;branch=%s", br);
	assert_int_equal(sip_via_parse(&via, span_make(v, strlen(v))),
			 SIP_PERR_OK);
	assert_true(dp_proxy_via_is_ours(&t_conf, &via, NULL));
}

/*
 * The loop part read back from our branch: every value, and every byte
 * that is not a lower-case hex digit, at each of the 16 positions.
 */
static void
test_dp_proxy_via_loop_hex(void **state)
{
	static const char bad[] = "/:@`gAF G\x7f\x80\xff";
	char br[DP_PROXY_BRANCH_LEN + 1];
	struct sip_via via;
	uint64_t want, loop, x = 88172645463325252ULL;
	size_t i, k;

	(void)state;
	memset(&via, 0, sizeof(via));
	via.host = SPAN_LIT("192.0.2.1");
	for (i = 0; i < 2000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		want = i < 16 ? (uint64_t)0xf << (4 * i) : x;
		dp_proxy_branch_fmt(~want, want, br);
		via.branch = span_make(br, DP_PROXY_BRANCH_LEN);
		assert_true(dp_proxy_via_is_ours(&t_conf, &via, &loop));
		assert_true(loop == want);
	}
	for (k = 0; k < 16; k++) {
		for (i = 0; i < sizeof(bad) - 1; i++) {
			dp_proxy_branch_fmt(1, 0x0123456789abcdefULL, br);
			br[DP_PROXY_MAGIC_LEN + 17 + k] = bad[i];
			via.branch = span_make(br, DP_PROXY_BRANCH_LEN);
			assert_false(dp_proxy_via_is_ours(&t_conf, &via,
							  &loop));
		}
	}
}

static size_t
t_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
	return 4;
}

/* Where responses go back to, as the hash takes it: 192.0.2.10:5062. */
static size_t
t_put_rdst(unsigned char *p)
{
	static const unsigned char a[4] = { 192, 0, 2, 10 };

	t_put_u32(p, (uint32_t)DP_AF_V4 << 16 | 5062);
	memcpy(p + 4, a, 4);
	return 8;
}

static size_t
t_put_field(unsigned char *p, const char *s, size_t n)
{
	size_t k = t_put_u32(p, s == NULL ? UINT32_MAX : (uint32_t)n);

	if (s != NULL)
		memcpy(p + k, s, n);
	return k + (s == NULL ? 0 : n);
}

/* SipHash-c-d written from the paper, one byte at a time. */
static uint64_t
t_siphash_cd(const struct hash_key *key, const unsigned char *p, size_t len,
	     int c, int d)
{
	struct hash_sip_state s = {
		key->k0 ^ 0x736f6d6570736575ULL, key->k1 ^ 0x646f72616e646f6dULL,
		key->k0 ^ 0x6c7967656e657261ULL, key->k1 ^ 0x7465646279746573ULL,
	};
	uint64_t m = 0;
	size_t i;
	int r;

	for (i = 0; i <= len; i++) {
		if (i == len)
			m |= (uint64_t)(len & 0xff) << 56;
		else
			m |= (uint64_t)p[i] << (8 * (i & 7));
		if (i == len || (i & 7) == 7) {
			s.v3 ^= m;
			for (r = 0; r < c; r++)
				hash_sip_round(&s);
			s.v0 ^= m;
			m = 0;
		}
	}
	s.v2 ^= 0xff;
	for (r = 0; r < d; r++)
		hash_sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

static uint64_t
t_siphash13(const struct hash_key *key, const unsigned char *p, size_t len)
{
	return t_siphash_cd(key, p, len, 1, 3);
}

/* The reference is SipHash when c, d = 2, 4 and 1, 3 (siphash24() and
 * siphash13() in hash.h). */
static void
test_dp_proxy_siphash_reference(void **state)
{
	unsigned char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 1);
	for (i = 0; i <= sizeof(buf); i++) {
		assert_true(t_siphash_cd(&t_self.key, buf, i, 2, 4) ==
			    siphash24(&t_self.key, buf, i));
		assert_true(t_siphash13(&t_self.key, buf, i) ==
			    siphash13(&t_self.key, buf, (uint32_t)i));
	}
}

/* The loop part is SipHash-1-3 of the length-prefixed fields, in order. */
static void
test_dp_proxy_loop_hash_is_siphash_of_fields(void **state)
{
	static const char *const ruri = "sip:+12125550100@192.0.2.1";
	unsigned char buf[512];
	size_t n = 0;
	char callid[300];
	static char in[1024];

	(void)state;
	/* A Call-ID long enough to cross the gathering buffer. */
	memset(callid, 'c', sizeof(callid) - 1);
	callid[sizeof(callid) - 1] = '\0';
	snprintf(in, sizeof(in), INVITE_HDRS("sip:+12125550100@192.0.2.1",
		"SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-a1", ""));
	memcpy(strstr(in, "c1@192.0.2.10"), "c1@192.0.2.1x", 13);
	t_parse(in);
	n += t_put_u32(buf + n, 0x6c6f6f70);
	n += t_put_field(buf + n, ruri, strlen(ruri));
	n += t_put_field(buf + n, "a1", 2);
	n += t_put_field(buf + n, "c1@192.0.2.1x", 13);
	n += t_put_u32(buf + n, 7);
	assert_true(dp_proxy_loop_hash(&t_self.key, &t_msg, &t_info) ==
		    t_siphash13(&t_self.key, buf, n));

	snprintf(in, sizeof(in), "OPTIONS sip:x@192.0.2.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKq\r\n"
		 "To: <sip:x@192.0.2.1>\r\nFrom: <sip:y@192.0.2.10>;tag=f\r\n"
		 "Call-ID: %s\r\nCSeq: 9 OPTIONS\r\n\r\n", callid);
	t_parse(in);
	n = 0;
	n += t_put_u32(buf + n, 0x6c6f6f70);
	n += t_put_field(buf + n, "sip:x@192.0.2.1", 15);
	n += t_put_field(buf + n, "f", 1);
	n += t_put_field(buf + n, callid, strlen(callid));
	n += t_put_u32(buf + n, 9);
	assert_true(dp_proxy_loop_hash(&t_self.key, &t_msg, &t_info) ==
		    t_siphash13(&t_self.key, buf, n));
}

/*
 * Fields of every length from 0 to 40 around the 8-byte words, in both
 * hashes: the streaming form equals the reference over the concatenation.
 */
static void
test_dp_proxy_loop_hash_every_alignment(void **state)
{
	unsigned char buf[512];
	char callid[48], tag[16], br[32], route[64];
	static char in[1024];
	size_t n, i, j;

	(void)state;
	for (i = 1; i <= 40; i++) {
		for (j = 0; j <= 9; j++) {
			memset(callid, 'a' + (int)(i % 26), i);
			callid[i] = '\0';
			memset(tag, 'A' + (int)j, j);
			tag[j] = '\0';
			memset(br, 'b', j + i % 7 + 1);
			br[j + i % 7 + 1] = '\0';
			snprintf(in, sizeof(in),
				 "OPTIONS sip:x@192.0.2.1 SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.10:5062"
				 ";branch=z9hG4bK%s\r\n"
				 "Route: <sip:192.0.2.7;lr>, <sip:a%s>\r\n"
				 "To: <sip:x@192.0.2.1>\r\n"
				 "From: <sip:y@192.0.2.10>;tag=f%s\r\n"
				 "Call-ID: %s\r\nCSeq: %zu OPTIONS\r\n\r\n",
				 br, tag, tag, callid, i);
			t_parse(in);
			n = 0;
			n += t_put_u32(buf + n, 0x6c6f6f70);
			n += t_put_field(buf + n, "sip:x@192.0.2.1", 15);
			buf[n + 4] = 'f';
			memcpy(buf + n + 5, tag, j);
			n += t_put_u32(buf + n, (uint32_t)j + 1) + j + 1;
			n += t_put_field(buf + n, callid, i);
			n += t_put_u32(buf + n, (uint32_t)i);
			/* the Route values, one field each */
			n += t_put_field(buf + n, "<sip:192.0.2.7;lr>", 18);
			snprintf(route, sizeof(route), "<sip:a%s>", tag);
			n += t_put_field(buf + n, route, strlen(route));
			assert_true(dp_proxy_loop_hash(&t_self.key, &t_msg,
						       &t_info) ==
				    t_siphash13(&t_self.key, buf, n));

			n = 0;
			n += t_put_u32(buf + n, 0x62726e64);
			memcpy(buf + n + 4, "z9hG4bK", 7);
			memcpy(buf + n + 11, br, strlen(br));
			n += t_put_u32(buf + n, (uint32_t)(7 + strlen(br))) +
			     7 + strlen(br);
			n += t_put_field(buf + n, "192.0.2.10", 10);
			n += t_put_u32(buf + n, 5062);
			n += t_put_u32(buf + n, UINT32_MAX);    /* no maddr */
			n += t_put_rdst(buf + n);
			assert_true(t_txn() ==
				    t_siphash13(&t_self.key, buf, n));
		}
	}
}

/* A branch too long to gather is streamed: the same SipHash-1-3. */
static void
test_dp_proxy_txn_hash_long_branch(void **state)
{
	unsigned char buf[512];
	char br[301];
	static char in[1024];
	size_t n = 0;

	(void)state;
	memset(br, 'q', sizeof(br) - 1);
	br[sizeof(br) - 1] = '\0';
	snprintf(in, sizeof(in), "OPTIONS sip:x@192.0.2.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK%s\r\n"
		 "To: <sip:x@192.0.2.1>\r\nFrom: <sip:y@192.0.2.10>;tag=f\r\n"
		 "Call-ID: c\r\nCSeq: 9 OPTIONS\r\n\r\n", br);
	t_parse(in);
	n += t_put_u32(buf + n, 0x62726e64);
	memcpy(buf + n + 4, "z9hG4bK", 7);
	memcpy(buf + n + 11, br, 300);
	n += t_put_u32(buf + n, 307) + 307;
	n += t_put_field(buf + n, "192.0.2.10", 10);
	n += t_put_u32(buf + n, 5062);
	n += t_put_u32(buf + n, UINT32_MAX);            /* no maddr */
	n += t_put_rdst(buf + n);
	assert_true(t_txn() == t_siphash13(&t_self.key, buf, n));
}

/* The branch's hex digits are printf's %016llx. */
static void
test_dp_proxy_branch_fmt_hex(void **state)
{
	static const uint64_t v[] = {
		0, 1, 0x0123456789abcdefULL, 0xfedcba9876543210ULL,
		0xffffffffffffffffULL, 0xa0b0c0d0e0f0a9b8ULL, 0x9999aaaa0000ffffULL,
	};
	char got[DP_PROXY_BRANCH_LEN + 1], want[DP_PROXY_BRANCH_LEN + 1];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
			assert_int_equal(dp_proxy_branch_fmt(v[i], v[j], got),
					 DP_PROXY_BRANCH_LEN);
			got[DP_PROXY_BRANCH_LEN] = '\0';
			snprintf(want, sizeof(want), "z9hG4bK%016llx.%016llx",
				 (unsigned long long)v[i],
				 (unsigned long long)v[j]);
			assert_string_equal(got, want);
		}
	}
}

/* Every octet value in dotted-quad form, as printf writes it. */
static void
test_dp_proxy_ip_fmt_every_octet(void **state)
{
	struct dp_ip ip = { .family = DP_AF_V4 };
	char got[64], want[64];
	unsigned int v;
	uint8_t *b = (uint8_t *)&ip.v4;
	uint32_t n;

	(void)state;
	for (v = 0; v < 256; v++) {
		b[0] = (uint8_t)v;
		b[1] = (uint8_t)(255 - v);
		b[2] = (uint8_t)(v * 7);
		b[3] = (uint8_t)(v ^ 0x5a);
		n = dp_proxy_ip_fmt(&ip, true, got);
		got[n] = '\0';
		snprintf(want, sizeof(want), "%u.%u.%u.%u", b[0], b[1], b[2],
			 b[3]);
		assert_string_equal(got, want);
	}
}

/* RFC 1071 one 16-bit word at a time, folded, as rte_raw_cksum(). */
static uint32_t
t_cksum_ref(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1)
		sum += p[len - 1];
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) + (sum >> 16);
}

/* The IPv4 header and pseudo-header sums are DPDK's, for any fields. */
static void
test_dp_proxy_cksum_ipv4_as_dpdk(void **state)
{
	struct rte_ipv4_hdr ip;
	uint32_t x = 12345, i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		unsigned char *b = (unsigned char *)&ip;
		size_t k;

		for (k = 0; k < sizeof(ip); k++) {
			x = x * 1103515245u + 12345u;
			b[k] = (unsigned char)(x >> 16);
		}
		ip.version_ihl = RTE_IPV4_VHL_DEF;
		ip.hdr_checksum = 0;
		if (i % 3 == 0)
			ip.total_length = rte_cpu_to_be_16(
				(uint16_t)(20 + (x >> 8) % 1500));
		if (rte_be_to_cpu_16(ip.total_length) < 20)
			ip.total_length = rte_cpu_to_be_16(20);
		assert_int_equal(dp_cksum_ipv4_hdr(&ip), rte_ipv4_cksum(&ip));
		assert_int_equal(dp_cksum_ipv4_phdr(ip.src_addr, ip.dst_addr,
				ip.next_proto_id,
				(uint16_t)(rte_be_to_cpu_16(ip.total_length) - 20)),
				rte_ipv4_phdr_cksum(&ip, 0));
	}
}

/*
 * The AVX2 and scalar checksums against the reference, every length up
 * to 600 and every start offset mod 4, flush against a PROT_NONE page;
 * all-0xff bytes (the largest lanes) and 0x80 bytes (the bias) too.
 */
static void
test_dp_proxy_cksum_simd_vs_scalar(void **state)
{
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *area, *end, *p;
	size_t len, fill, i;
	uint32_t want;

	(void)state;
	area = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(area != MAP_FAILED);
	assert_int_equal(mprotect(area + pg, pg, PROT_NONE), 0);
	end = area + pg;
	for (fill = 0; fill < 3; fill++) {
		for (i = 0; i < pg; i++)
			area[i] = fill == 0 ? (unsigned char)(i * 131 + 7) :
				  fill == 1 ? 0xff : 0x80;
		for (len = 0; len <= 600; len++) {
			p = end - len;
			want = t_cksum_ref(p, len);
			assert_int_equal(dp_cksum_raw_scalar(p, len), want);
			assert_int_equal(dp_cksum_raw(p, len), want);
#if defined(__x86_64__)
			if (dp_cksum_has_avx2())
				assert_int_equal(dp_cksum_raw_avx2(p, len),
						 want);
#endif
			/* Not flush: the start at every offset mod 4. */
			for (i = 1; i < 4 && len + i < pg; i++)
				assert_int_equal(dp_cksum_raw(end - len - i, len),
						 t_cksum_ref(end - len - i, len));
		}
	}
	munmap(area, 2 * pg);
}

static void
test_dp_proxy_ip_fmt(void **state)
{
	char buf[64];
	uint32_t n;

	(void)state;
	n = dp_proxy_ip_fmt(&t_conf.addr4[0].ip, true, buf);
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "192.0.2.1", 9);
	n = dp_proxy_ip_fmt(&t_conf.addr6[0].ip, false, buf);
	buf[n] = '\0';
	assert_string_equal(buf, "2001:db8::1");
	{
		struct dp_ip a = { .family = DP_AF_V6,
			.v6 = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0 } };
		struct dp_ip z = { .family = DP_AF_V6 };

		n = dp_proxy_ip_fmt(&a, true, buf);
		buf[n] = '\0';
		assert_string_equal(buf, "[0:1::2:0:0]");
		n = dp_proxy_ip_fmt(&z, false, buf);
		buf[n] = '\0';
		assert_string_equal(buf, "::");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_proxy_forward_exact_bytes),
		cmocka_unit_test(test_dp_proxy_alias_names_us),
		cmocka_unit_test(test_dp_proxy_forward_received_rport_mf_rr),
		cmocka_unit_test(test_dp_proxy_forward_forged_received_replaced),
		cmocka_unit_test(test_dp_proxy_loop_hash_route_layout),
		cmocka_unit_test(test_dp_proxy_branch_same_for_retrans_cancel_ack),
		cmocka_unit_test(test_dp_proxy_branch_same_for_auth_and_reinvite),
		cmocka_unit_test(test_dp_proxy_ack_to_name_uses_table),
		cmocka_unit_test(test_dp_proxy_branch_without_cookie),
		cmocka_unit_test(test_dp_proxy_loop_482_spiral_forwarded),
		cmocka_unit_test(test_dp_proxy_route_pop_and_loose_route),
		cmocka_unit_test(test_dp_proxy_route_unbracketed_lr),
		cmocka_unit_test(test_dp_proxy_rewrite_keeps_user_params),
		cmocka_unit_test(test_dp_proxy_route_foreign_and_name),
		cmocka_unit_test(test_dp_proxy_route_our_domain_popped),
		cmocka_unit_test(test_dp_proxy_sips_refused),
		cmocka_unit_test(test_dp_proxy_route_keeps_ruri_but_our_maddr),
		cmocka_unit_test(test_dp_proxy_route_only_ours),
		cmocka_unit_test(test_dp_proxy_in_dialog_bypasses_table),
		cmocka_unit_test(test_dp_proxy_strict_route_compat),
		cmocka_unit_test(test_dp_proxy_strict_next_hop),
		cmocka_unit_test(test_dp_proxy_double_record_route),
		cmocka_unit_test(test_dp_proxy_tel_uri_and_escaping),
		cmocka_unit_test(test_dp_proxy_tel_hash_and_empty_user),
		cmocka_unit_test(test_dp_proxy_tel_params),
		cmocka_unit_test(test_dp_proxy_strict_compat_back_to_us),
		cmocka_unit_test(test_dp_proxy_strict_compat_ours_same_line),
		cmocka_unit_test(test_dp_proxy_strict_ruri_refused),
		cmocka_unit_test(test_dp_proxy_max_forwards_zero_483),
		cmocka_unit_test(test_dp_proxy_response_relayed),
		cmocka_unit_test(test_dp_proxy_maddr),
		cmocka_unit_test(test_dp_proxy_maddr_ours_and_table),
		cmocka_unit_test(test_dp_proxy_response_foreign_dropped),
		cmocka_unit_test(test_dp_proxy_response_forged_dropped),
		cmocka_unit_test(test_dp_proxy_response_redirected_dropped),
		cmocka_unit_test(test_dp_proxy_via_maddr_refused),
		cmocka_unit_test(test_dp_proxy_response_to_own_forward),
		cmocka_unit_test(test_dp_proxy_our_via_recognised),
		cmocka_unit_test(test_dp_proxy_via_loop_hex),
		cmocka_unit_test(test_dp_proxy_siphash_reference),
		cmocka_unit_test(test_dp_proxy_loop_hash_is_siphash_of_fields),
		cmocka_unit_test(test_dp_proxy_loop_hash_every_alignment),
		cmocka_unit_test(test_dp_proxy_txn_hash_long_branch),
		cmocka_unit_test(test_dp_proxy_ip_fmt),
		cmocka_unit_test(test_dp_proxy_branch_fmt_hex),
		cmocka_unit_test(test_dp_proxy_ip_fmt_every_octet),
		cmocka_unit_test(test_dp_proxy_cksum_simd_vs_scalar),
		cmocka_unit_test(test_dp_proxy_cksum_ipv4_as_dpdk),
	};

	return cmocka_run_group_tests_name("dp_proxy_logic", tests,
					   t_setup, NULL);
}
