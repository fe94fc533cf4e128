/* SPDX-License-Identifier: MIT */
/*
 * test_dp_proxy.c - proxy mode in process: requests from the peer into a
 * net_ring port, one worker iteration, forwarded frames and relayed
 * responses taken from the tx ring and compared byte by byte.
 *
 * Targets are behind the gateway (192.0.2.254), resolved once at start;
 * the peer (192.0.2.2) is resolved too, for relayed responses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include <hash.h>
#include <rules.h>
#include <sip.h>

#include "dp_proxy.h"
#include "dp_test.h"

static const char t_csv[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|"
	"198.19.0.6:5060/2,,0,,\n"
	"uk,prefix,44,forward,198.19.0.4:5070,,1,0044,\n"
	"premium,prefix,1900,reject,,10,,,403\n"
	"redir,prefix,33,redirect,198.19.0.9:5060,,,,\n";

static char t_buf[8192];
static char t_want[8192];

/* A forwarded (or relayed) datagram taken from the tx ring. */
struct t_out {
	uint8_t          dst[4];
	uint8_t          src[4];
	uint16_t         dport;
	uint16_t         sport;
	size_t           len;
};

/* Take one IPv4 UDP frame; payload NUL-terminated into t_buf. */
static void
t_take(struct t_out *o)
{
	struct rte_mbuf *m;
	const uint8_t *f;
	size_t l3 = RTE_ETHER_HDR_LEN, l4;

	assert_int_equal(t_tx(&m, 1), 1);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(f[12] << 8 | f[13], 0x0800);
	assert_int_equal(f[l3 + 9], 17);
	memcpy(o->src, f + l3 + 12, 4);
	memcpy(o->dst, f + l3 + 16, 4);
	l4 = l3 + (size_t)(f[l3] & 0xf) * 4;
	o->sport = (uint16_t)(f[l4] << 8 | f[l4 + 1]);
	o->dport = (uint16_t)(f[l4 + 2] << 8 | f[l4 + 3]);
	o->len = (size_t)(f[l4 + 4] << 8 | f[l4 + 5]) - 8;
	assert_true(o->len < sizeof(t_buf));
	assert_int_equal(rte_pktmbuf_pkt_len(m), l4 + 8 + o->len);
	memcpy(t_buf, f + l4 + 8, o->len);
	t_buf[o->len] = '\0';
	rte_pktmbuf_free(m);
}

/* A request from the peer; @p extra are whole header lines. */
static size_t
t_req(char *out, const char *method, const char *ruri, const char *callid,
      const char *branch, const char *to_tag, const char *extra)
{
	return (size_t)snprintf(out, 4096,
		"%s %s SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK%s;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Alice\" <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <sip:bob@example.com>%s%s\r\n"
		"Call-ID: %s\r\n"
		"CSeq: 7 %s\r\n"
		"%s"
		"X-Custom:  unknown ,  kept\r\n"
		"Content-Length: 5\r\n\r\n"
		"hello",
		method, ruri, branch, to_tag != NULL ? ";tag=" : "",
		to_tag != NULL ? to_tag : "", callid,
		strcmp(method, "ACK") == 0 ? "ACK" : method,
		extra != NULL ? extra : "");
}

/* The branch the router pushes for request @p req. */
static void
t_branch(const char *req, size_t len, char br[DP_PROXY_BRANCH_LEN + 1])
{
	static struct sip_msg msg;
	struct dp_ip rd = { .family = 0 };
	struct sip_info info;
	struct hash_key k;
	uint16_t rp;

	assert_int_equal(sip_parse(&msg, req, (uint32_t)len), SIP_PERR_OK);
	assert_int_equal(sip_msg_check(&msg, &info), SIP_PERR_OK);
	dp_proxy_snap_key(dp_snap_current, &k);
	/* sent by the IPv4 peer from port 5062 */
	rd.family = DP_AF_V4;
	memcpy(&rd.v4, t_ip4_peer, 4);
	rp = !span_is_null(info.via.rport) ? 5062 :
	     info.via.port != 0 ? info.via.port : 5060;
	dp_proxy_branch_fmt(dp_proxy_txn_hash(&k, &info, &rd, rp),
			    dp_proxy_loop_hash(&k, &msg, &info), br);
	br[DP_PROXY_BRANCH_LEN] = '\0';
}

/*
 * A response text whose top Via carries "z9hG4bK0123456789abcdef." as
 * ours, copied into @p out with the transaction part the router gave the
 * request below that Via (under the current snapshot's key).
 */
static size_t
t_resp_ours(const char *resp, char *out, size_t cap)
{
	static struct sip_msg msg;
	struct sip_value_iter it;
	struct sip_info info;
	struct sip_via next;
	struct hash_key k;
	struct dp_ip rd;
	struct span v;
	size_t n = strlen(resp);
	char hex[17], *at;
	uint16_t rp;

	assert_true(n < cap);
	memcpy(out, resp, n + 1);
	at = strstr(out, "z9hG4bK0123456789abcdef.");
	assert_non_null(at);
	assert_int_equal(sip_parse(&msg, out, (uint32_t)n), SIP_PERR_OK);
	assert_int_equal(sip_msg_check(&msg, &info), SIP_PERR_OK);
	sip_values_init(&it, &msg, SIP_HDR_VIA);
	assert_int_equal(sip_values_next(&it, &v), 1);
	assert_int_equal(sip_values_next(&it, &v), 1);
	assert_int_equal(sip_via_parse(&next, v), SIP_PERR_OK);
	dp_proxy_snap_key(dp_snap_current, &k);
	/* (A next Via that names no address is dropped before.) */
	if (!dp_proxy_via_rdst(&next, &rd, &rp))
		return n;
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)
		 dp_proxy_txn_hash_via(&k, &next, &info, &rd, rp));
	memcpy(at + 7, hex, 16);
	return n;
}

/* Per test: counters, configuration, proxy mode. */
static void
t_pbegin(void)
{
	t_begin();
	t_env.conf.mode = DP_MODE_PROXY;
}

static void
t_send(const char *req, size_t n)
{
	t_sip_rx4(req, n);
	t_poll();
}

/* Send request @p req (@p n bytes); it is answered @p status ("SIP/2.0
 * NNN "), the answer in t_buf. */
static void
t_send_answered(const char *req, size_t n, const char *status)
{
	t_send(req, n);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, status, strlen(status));
}

static int
t_ip_last(const struct t_out *o, uint8_t a, uint8_t b, uint8_t c)
{
	if (o->dst[0] != a || o->dst[1] != b || o->dst[2] != c)
		return -1;
	return o->dst[3];
}

static void
test_dp_proxy_invite_forwarded_exact(void **state)
{
	char req[4096], br[DP_PROXY_BRANCH_LEN + 1];
	struct t_out o;
	size_t n;
	int last;

	(void)state;
	t_pbegin();
	n = t_req(req, "INVITE", "sip:+1-212-555-0100@192.0.2.1;user=phone",
		  "fx1@192.0.2.2", "fx1", NULL, NULL);
	t_branch(req, n, br);
	t_send(req, n);
	t_take(&o);
	last = t_ip_last(&o, 198, 19, 0);
	assert_true(last == 3 || last == 5);
	assert_int_equal(o.dport, 5060);
	assert_int_equal(o.sport, 5060);
	assert_memory_equal(o.src, t_ip4_us, 4);
	snprintf(t_want, sizeof(t_want),
		 "INVITE sip:+1-212-555-0100@198.19.0.%d:5060;user=phone"
		 " SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKfx1"
		 ";rport=5062;received=192.0.2.2\r\n"
		 "Max-Forwards: 69\r\n"
		 "From: \"Alice\" <sip:alice@192.0.2.2>;tag=a1\r\n"
		 "To: <sip:bob@example.com>\r\n"
		 "Call-ID: fx1@192.0.2.2\r\n"
		 "CSeq: 7 INVITE\r\n"
		 "X-Custom:  unknown ,  kept\r\n"
		 "Content-Length: 5\r\n\r\n"
		 "hello", last, br);
	assert_string_equal(t_buf, t_want);
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD), 1);
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD_TABLE), 1);
	t_end();
}

/* strip 1, prepend 0044; Record-Route (at the end of the header
 * section when there is none yet) when asked. */
static void
test_dp_proxy_rewrite_and_record_route(void **state)
{
	char req[4096], br[DP_PROXY_BRANCH_LEN + 1];
	struct t_out o;
	size_t n;

	(void)state;
	t_pbegin();
	t_env.conf.record_route = true;
	n = t_req(req, "INVITE", "sip:442079460000@192.0.2.1", "rr1",
		  "rr1", NULL, NULL);
	t_branch(req, n, br);
	t_send(req, n);
	t_take(&o);
	assert_int_equal(t_ip_last(&o, 198, 19, 0), 4);
	assert_int_equal(o.dport, 5070);
	snprintf(t_want, sizeof(t_want),
		 "INVITE sip:004442079460000@198.19.0.4:5070 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKrr1"
		 ";rport=5062;received=192.0.2.2\r\n"
		 "Max-Forwards: 69\r\n"
		 "From: \"Alice\" <sip:alice@192.0.2.2>;tag=a1\r\n"
		 "To: <sip:bob@example.com>\r\n"
		 "Call-ID: rr1\r\n"
		 "CSeq: 7 INVITE\r\n"
		 "X-Custom:  unknown ,  kept\r\n"
		 "Content-Length: 5\r\n"
		 "Record-Route: <sip:192.0.2.1:5060;lr>\r\n\r\n"
		 "hello", br);
	assert_string_equal(t_buf, t_want);
	/* The retransmission: the same bytes. */
	t_send(req, n);
	t_take(&o);
	assert_string_equal(t_buf, t_want);
	t_env.conf.record_route = false;
	t_end();
}

/* Retransmission, CANCEL and non-2xx ACK: same target, same branch. */
static void
test_dp_proxy_retrans_cancel_ack_follow(void **state)
{
	static const char *const methods[] = { "INVITE", "INVITE", "CANCEL",
					       "ACK" };
	char req[4096], first[256] = "", via[256];
	uint8_t dst[4] = { 0 };
	struct t_out o;
	unsigned int i, c;
	size_t n;
	char *p;

	(void)state;
	t_pbegin();
	for (c = 0; c < 20; c++) {
		char callid[32];

		snprintf(callid, sizeof(callid), "follow-%u", c);
		for (i = 0; i < 4; i++) {
			n = t_req(req, methods[i], "sip:12125550100@192.0.2.1",
				  callid, callid,
				  i == 3 ? "uas-tag" : NULL, NULL);
			t_send(req, n);
			t_take(&o);
			p = strstr(t_buf, "\r\nVia: ");
			assert_non_null(p);
			snprintf(via, sizeof(via), "%.*s",
				 (int)(strstr(p + 2, "\r\n") - p), p);
			if (i == 0) {
				memcpy(dst, o.dst, 4);
				strcpy(first, via);
			} else {
				assert_memory_equal(o.dst, dst, 4);
				assert_string_equal(via, first);
			}
			assert_memory_equal(t_buf, methods[i],
					    strlen(methods[i]));
		}
	}
	t_end();
}

/* Weighted rendezvous: 70/30 between .3 and .5; .6 is a backup tier. */
static void
test_dp_proxy_spread_per_weights(void **state)
{
	const unsigned int total = 2000;
	unsigned int i, count[8] = { 0 };
	uint64_t picks[8] = { 0 }, hits[8] = { 0 };
	char req[4096], callid[48], branch[16];
	struct t_out o;
	size_t n;
	int last;

	(void)state;
	t_pbegin();
	t_snap_csv(t_csv, 2);   /* fresh rule-hit and target counters */
	for (i = 0; i < total; i++) {
		snprintf(branch, sizeof(branch), "%08x", i * 2654435761u);
		snprintf(callid, sizeof(callid), "%s-spread@192.0.2.2", branch);
		n = t_req(req, "INVITE", "sip:12125550100@192.0.2.1", callid,
			  branch, NULL, NULL);
		t_send(req, n);
		t_take(&o);
		last = t_ip_last(&o, 198, 19, 0);
		if (last < 0 || last >= 8)
			fail_msg("%u: %s", i, t_buf);
		count[last]++;
	}
	assert_int_equal(count[3] + count[5], total);
	/* 70 % +- 4 %. */
	assert_in_range(count[3], total * 66 / 100, total * 74 / 100);
	dp_snap_sum(dp_snap_current, hits, picks);
	assert_int_equal(hits[rules_db_find(dp_snap_current->db,
					    SPAN_LIT("nyc"))], total);
	for (i = 0; i < 8; i++)
		count[0] += (unsigned int)picks[i];
	assert_int_equal(count[0], total);
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD_TABLE), total);
	t_end();
}

/* A response to our forward goes to the peer's received/rport. */
static void
test_dp_proxy_response_relayed(void **state)
{
	char req[4096], resp[4096], via_ours[256], via_peer[256];
	struct t_out o;
	size_t n;
	char *p, *e;

	(void)state;
	t_pbegin();
	n = t_req(req, "INVITE", "sip:12125550100@192.0.2.1", "rsp1",
		  "rsp1", NULL, NULL);
	t_send(req, n);
	t_take(&o);
	p = strstr(t_buf, "Via: ");
	e = strstr(p, "\r\n");
	snprintf(via_ours, sizeof(via_ours), "%.*s", (int)(e - p), p);
	p = e + 2;
	e = strstr(p, "\r\n");
	snprintf(via_peer, sizeof(via_peer), "%.*s", (int)(e - p), p);

	n = (size_t)snprintf(resp, sizeof(resp),
		"SIP/2.0 180 Ringing\r\n"
		"%s\r\n%s\r\n"
		"From: \"Alice\" <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b9\r\n"
		"Call-ID: rsp1\r\n"
		"CSeq: 7 INVITE\r\n"
		"X-Downstream: yes\r\n"
		"Content-Length: 0\r\n\r\n", via_ours, via_peer);
	snprintf(t_want, sizeof(t_want),
		"SIP/2.0 180 Ringing\r\n"
		"%s\r\n"
		"From: \"Alice\" <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b9\r\n"
		"Call-ID: rsp1\r\n"
		"CSeq: 7 INVITE\r\n"
		"X-Downstream: yes\r\n"
		"Content-Length: 0\r\n\r\n", via_peer);
	/* It arrives from the "target" side; here through the same port. */
	t_send(resp, n);
	t_sip_tx(t_buf, sizeof(t_buf), 0);     /* us:5060 -> peer:5062 */
	assert_string_equal(t_buf, t_want);
	assert_int_equal(t_cnt(DP_CNT_PROXY_RELAY), 1);
	assert_int_equal(t_cnt(DP_CNT_PROXY_RESP_1XX), 1);

	/* 200 and 486 as well, counted by class; never a 100 of our own. */
	memcpy(strstr(resp, "180 Ringing"), "200 OK     ", 11);
	t_send(resp, n);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	memcpy(strstr(resp, "200 OK     "), "486 Busy   ", 11);
	t_send(resp, n);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_int_equal(t_cnt(DP_CNT_PROXY_RESP_2XX), 1);
	assert_int_equal(t_cnt(DP_CNT_PROXY_RESP_4XX), 1);
	assert_int_equal(t_env.lc[0].sip_code[100 - DP_CODE_MIN], 0);

	/* A new installation secret (the key of our branches changes):
	 * responses to what went out under the old one are still relayed
	 * for 64*T1, then are foreign. */
	dp_snap_current->tag_key[0] ^= 0x1234;
	t_send(resp, n);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_int_equal(t_cnt(DP_CNT_PROXY_RESP_4XX), 2);
	((struct dp_sip_lcore *)t_env.lc[0].sip)->proxy_key_until = 1;
	t_send(resp, n);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_PROXY_FOREIGN_VIA), 1);
	dp_snap_current->tag_key[0] ^= 0x1234;
	t_end();
}

static void
test_dp_proxy_foreign_via_dropped(void **state)
{
	static const char resp[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKforeign\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKx\r\n"
		"From: <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b9\r\n"
		"Call-ID: foreign\r\n"
		"CSeq: 7 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char name[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK"
		"0123456789abcdef.0123456789abcdef\r\n"
		"Via: SIP/2.0/UDP ua.example:5062;branch=z9hG4bKx\r\n"
		"From: <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b9\r\n"
		"Call-ID: name\r\n"
		"CSeq: 7 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";

	(void)state;
	t_pbegin();
	t_send(resp, sizeof(resp) - 1);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_PROXY_FOREIGN_VIA), 1);
	/* A branch of our shape that we did not make: foreign. So is one
	 * whose next Via names a host and no received: we stamp one on
	 * every request whose sent-by is not its source address. */
	t_send(name, sizeof(name) - 1);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_PROXY_FOREIGN_VIA), 2);
	t_end();
}

/* Our forward coming back unchanged: 482; with another R-URI: spiral. */
static void
test_dp_proxy_loop_and_spiral(void **state)
{
	char req[4096], again[4096], *via;
	struct t_out o;
	size_t n;

	(void)state;
	t_pbegin();
	n = t_req(req, "INVITE", "sip:12125550100@192.0.2.1", "loop1",
		  "loop1", NULL, NULL);
	t_send(req, n);
	t_take(&o);
	/* The downstream sends it back with the R-URI it was given first,
	 * its own Via on top. */
	via = strstr(t_buf, "Via: ");
	memmove(t_want, via, strlen(via) + 1);
	via = t_want;
	n = (size_t)snprintf(again, sizeof(again),
		"INVITE sip:12125550100@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKdown;rport\r\n"
		"%s", via);
	t_send(again, n);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 482 Loop Detected\r\n", 27);
	assert_int_equal(t_cnt(DP_CNT_PROXY_LOOP), 1);
	/* Loop detection comes before Proxy-Require (DESIGN §3.2 steps 4
	 * and 5): the looped request with an option we lack hears 482. */
	n = (size_t)snprintf(again, sizeof(again),
		"INVITE sip:12125550100@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKdown;rport\r\n"
		"Proxy-Require: x-nothing\r\n"
		"%s", via);
	t_send(again, n);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 482 Loop Detected\r\n", 27);
	assert_int_equal(t_cnt(DP_CNT_PROXY_LOOP), 2);
	assert_int_equal(t_cnt(DP_CNT_SIP_PROXY_REQUIRE), 0);
	/* Its CANCEL looped too: 482 (its loop part leaves the method out);
	 * its ACK: absorbed, nothing sent, counted as a loop and a drop. */
	{
		char *cl = strstr(via, "CSeq: 7 INVITE\r\n");
		uint64_t drop = t_cnt(DP_CNT_DROP);

		assert_non_null(cl);
		memcpy(cl, "CSeq: 7 CANCEL\r\n", 16);
		n = (size_t)snprintf(again, sizeof(again),
			"CANCEL sip:12125550100@192.0.2.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKdown;"
			"rport\r\n%s", via);
		t_send(again, n);
		t_sip_tx(t_buf, sizeof(t_buf), 0);
		assert_memory_equal(t_buf, "SIP/2.0 482 Loop Detected\r\n",
				    27);
		memcpy(cl, "CSeq: 7 ACK   \r\n", 16);
		n = (size_t)snprintf(again, sizeof(again),
			"ACK sip:12125550100@192.0.2.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKdown;"
			"rport\r\n%s", via);
		t_send(again, n);
		t_expect_nothing();
		assert_int_equal(t_cnt(DP_CNT_PROXY_LOOP), 4);
		assert_int_equal(t_cnt(DP_CNT_DROP), drop + 1);
		memcpy(cl, "CSeq: 7 INVITE\r\n", 16);
	}

	n = (size_t)snprintf(again, sizeof(again),
		"INVITE sip:12125550111@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKdown2;rport\r\n"
		"%s", via);
	t_send(again, n);
	t_take(&o);
	assert_int_equal(t_ip_last(&o, 198, 19, 0) >= 0, 1);
	assert_int_equal(t_cnt(DP_CNT_PROXY_SPIRAL), 1);
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD), 2);
	t_end();
}

/* Route: ours popped, the next one used, no table (no rule for it). */
static void
test_dp_proxy_route_and_dialog_bypass_table(void **state)
{
	char req[4096];
	struct t_out o;
	size_t n;

	(void)state;
	t_pbegin();
	n = t_req(req, "INVITE", "sip:nobody@203.0.113.5", "rt1", "rt1",
		  NULL, "Route: <sip:192.0.2.1;lr>,<sip:198.19.0.8:5080;lr>\r\n");
	t_send(req, n);
	t_take(&o);
	assert_int_equal(t_ip_last(&o, 198, 19, 0), 8);
	assert_int_equal(o.dport, 5080);
	assert_non_null(strstr(t_buf, "\r\nRoute: <sip:198.19.0.8:5080;lr>\r\n"));
	assert_null(strstr(t_buf, "<sip:192.0.2.1;lr>"));
	assert_non_null(strstr(t_buf, "INVITE sip:nobody@203.0.113.5 "));
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD_ROUTE), 1);

	/* In-dialog BYE: to its Request-URI, even one a rule would match. */
	n = t_req(req, "BYE", "sip:12125550100@198.19.0.77:5077", "dl1",
		  "dl1", "b9", NULL);
	t_send(req, n);
	t_take(&o);
	assert_int_equal(t_ip_last(&o, 198, 19, 0), 77);
	assert_int_equal(o.dport, 5077);
	assert_non_null(strstr(t_buf, "BYE sip:12125550100@198.19.0.77:5077 "));
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD_DIALOG), 1);

	/* An in-dialog request to a host name: 503, counted. */
	n = t_req(req, "BYE", "sip:bob@ua.example", "dl2", "dl2", "b9",
		  NULL);
	t_send_answered(req, n, "SIP/2.0 503 ");
	assert_int_equal(t_cnt(DP_CNT_PROXY_NOT_IP), 1);

	/* A strict next hop before a Route set of twenty lines: more edits
	 * than a request may take. Answered 500, counted, not dropped. */
	{
		char routes[1024];
		size_t k, m = 0;

		m += (size_t)snprintf(routes + m, sizeof(routes) - m,
				      "Route: <sip:198.19.0.77:5077>\r\n");
		for (k = 0; k < 20; k++)
			m += (size_t)snprintf(routes + m, sizeof(routes) - m,
					      "Route: <sip:198.19.0.%zu;lr>\r\n",
					      k + 100);
		n = t_req(req, "INVITE", "sip:bob@203.0.113.5", "ed1", "ed1",
			  NULL, routes);
		t_send_answered(req, n, "SIP/2.0 500 ");
		assert_int_equal(t_cnt(DP_CNT_PROXY_EDIT_FAIL), 1);
	}
	t_end();
}

/* Reject and redirect rules still answer in proxy mode; no rule: 404. */
static void
test_dp_proxy_other_actions(void **state)
{
	char req[4096];
	size_t n;

	(void)state;
	t_pbegin();
	n = t_req(req, "INVITE", "sip:19005550100@192.0.2.1", "o1", "o1",
		  NULL, NULL);
	t_send_answered(req, n, "SIP/2.0 403 ");
	n = t_req(req, "INVITE", "sip:33155550100@192.0.2.1", "o2", "o2",
		  NULL, NULL);
	t_send_answered(req, n, "SIP/2.0 302 ");
	/* Sending a 3xx makes the router the UAS: a Require option it
	 * does not support gets 420 (RFC 3261 §8.2.2.3), as in redirect
	 * mode. */
	n = t_req(req, "INVITE", "sip:33155550100@192.0.2.1", "o5", "o5",
		  NULL, "Require: 100rel\r\n");
	t_send_answered(req, n, "SIP/2.0 420 ");
	assert_non_null(strstr(t_buf, "\r\nUnsupported: 100rel\r\n"));
	assert_int_equal(t_cnt(DP_CNT_SIP_REQUIRE), 1);
	/* Its CANCEL: 200, as in redirect mode, not another 302. */
	n = t_req(req, "CANCEL", "sip:33155550100@192.0.2.1", "o2", "o2",
		  NULL, NULL);
	t_send_answered(req, n, "SIP/2.0 200 ");
	assert_int_equal(t_cnt(DP_CNT_SIP_CANCEL), 1);
	t_expect_nothing();
	n = t_req(req, "INVITE", "sip:999@192.0.2.1", "o3", "o3", NULL,
		  NULL);
	t_send_answered(req, n, "SIP/2.0 404 ");
	/* The CANCELs of INVITEs answered here (no rule, a reject rule):
	 * 200 too (RFC 3261 §9.2), not the INVITE's code again. */
	n = t_req(req, "CANCEL", "sip:999@192.0.2.1", "o3", "o3", NULL,
		  NULL);
	t_send_answered(req, n, "SIP/2.0 200 ");
	n = t_req(req, "CANCEL", "sip:19005550100@192.0.2.1", "o1", "o1",
		  NULL, NULL);
	t_send_answered(req, n, "SIP/2.0 200 ");
	assert_int_equal(t_cnt(DP_CNT_SIP_CANCEL), 3);
	t_expect_nothing();
	/* The ACKs of the 302 (our To-tag: the proxy stage meets the
	 * redirect rule) and of the 404 (no rule): absorbed, each counted
	 * as absorbed and as a drop, nothing sent. */
	{
		uint64_t drop = t_cnt(DP_CNT_DROP);

		n = t_req(req, "ACK", "sip:33155550100@192.0.2.1", "o2", "o2",
			  "t302", NULL);
		t_send(req, n);
		t_expect_nothing();
		n = t_req(req, "ACK", "sip:999@192.0.2.1", "o3", "o3", "t404",
			  NULL);
		t_send(req, n);
		t_expect_nothing();
		assert_int_equal(t_cnt(DP_CNT_SIP_ACK_ABSORBED), 2);
		assert_int_equal(t_cnt(DP_CNT_DROP), drop + 2);
	}
	/* OPTIONS to the router: 200 without Allow, which a proxy leaves
	 * out (RFC 3261 §11.2), with what it accepts. */
	n = t_req(req, "OPTIONS", "sip:192.0.2.1", "o4", "o4", NULL, NULL);
	t_send_answered(req, n, "SIP/2.0 200 ");
	assert_null(strstr(t_buf, "\r\nAllow:"));
	assert_non_null(strstr(t_buf, "\r\nCSeq: 7 OPTIONS\r\n"
				      "Accept: application/sdp\r\n"
				      "Accept-Language: en\r\n"
				      "Content-Length: 0\r\n\r\n"));
	assert_int_equal(t_cnt(DP_CNT_SIP_TO_ROUTER), 1);
	t_end();
}

/*
 * An IPv6 caller, an IPv4 target: our Via names our IPv4 address (the
 * family of the next hop), the caller's Via gets received=<IPv6>; the
 * response goes back over IPv6 to received/rport.
 */
static void
test_dp_proxy_ipv6_caller(void **state)
{
	char req[4096], resp[4096], vias[1024];
	struct t_out o;
	size_t n;
	char *p, *e;

	(void)state;
	t_pbegin();
	n = t_req(req, "INVITE", "sip:12125550100@[2001:db8::1]", "v6a",
		  "v6a", NULL, NULL);
	t_sip_rx6(req, n);
	t_poll();
	t_take(&o);
	assert_true(t_ip_last(&o, 198, 19, 0) == 3 ||
		    t_ip_last(&o, 198, 19, 0) == 5);
	assert_memory_equal(o.src, t_ip4_us, 4);
	p = strstr(t_buf, "\r\nVia: ");
	assert_non_null(p);
	assert_memory_equal(p, "\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK",
			    48);
	assert_non_null(strstr(t_buf, "\r\nVia: SIP/2.0/UDP 192.0.2.2:5062;"
				      "branch=z9hG4bKv6a;rport=5062;"
				      "received=2001:db8::2\r\n"));
	assert_non_null(strstr(t_buf, "INVITE sip:12125550100@198.19.0."));

	/* The 180 from the target, relayed over IPv6. */
	p += 2;
	e = strstr(strstr(p, "\r\n") + 2, "\r\n");
	snprintf(vias, sizeof(vias), "%.*s", (int)(e - p), p);
	n = (size_t)snprintf(resp, sizeof(resp),
		"SIP/2.0 180 Ringing\r\n%s\r\n"
		"From: \"Alice\" <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b9\r\n"
		"Call-ID: v6a\r\nCSeq: 7 INVITE\r\n"
		"Content-Length: 0\r\n\r\n", vias);
	t_send(resp, n);
	t_sip_tx(t_buf, sizeof(t_buf), 1);
	assert_memory_equal(t_buf, "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP "
			    "192.0.2.2:5062;branch=z9hG4bKv6a;", 53);
	t_end();
}

/* The next frame sent: its DSCP (IPv4 TOS or IPv6 Traffic Class >> 2). */
static unsigned int
t_take_dscp(void)
{
	struct rte_mbuf *m;
	const uint8_t *f;
	const size_t l3 = RTE_ETHER_HDR_LEN;
	unsigned int dscp, i, sum = 0;

	assert_int_equal(t_tx(&m, 1), 1);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	if ((f[12] << 8 | f[13]) == 0x0800) {
		dscp = f[l3 + 1] >> 2;
		assert_int_equal(f[l3 + 1] & 3, 0);     /* ECN not-ECT */
		/* The header checksum covers the TOS byte. */
		for (i = 0; i < (f[l3] & 0xfu) * 4; i += 2)
			sum += (unsigned int)(f[l3 + i] << 8 | f[l3 + i + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		assert_int_equal(sum, 0xffff);
	} else {
		assert_int_equal(f[12] << 8 | f[13], 0x86dd);
		assert_int_equal(f[l3] >> 4, 6);
		dscp = ((f[l3] & 0xfu) << 4 | f[l3 + 1] >> 4) >> 2;
		assert_int_equal((f[l3 + 1] >> 4) & 3, 0);
	}
	rte_pktmbuf_free(m);
	return dscp;
}

/* --dscp marks forwards and local answers, over IPv4 and IPv6 (relayed
 * responses leave as forwards do, through dp_udp_send()). */
static void
test_dp_proxy_dscp(void **state)
{
	char req[4096];
	size_t n;

	(void)state;
	t_pbegin();
	t_env.conf.dscp = 46;
	n = t_req(req, "INVITE", "sip:12125550100@192.0.2.1", "d1", "d1",
		  NULL, NULL);
	t_send(req, n);
	assert_int_equal(t_take_dscp(), 46);
	n = t_req(req, "INVITE", "sip:999@192.0.2.1", "d2", "d2", NULL, NULL);
	t_send(req, n);
	assert_int_equal(t_take_dscp(), 46);
	n = t_req(req, "INVITE", "sip:999@[2001:db8::1]", "d3", "d3", NULL,
		  NULL);
	t_sip_rx6(req, n);
	t_poll();
	assert_int_equal(t_take_dscp(), 46);
	t_env.conf.dscp = 0;
	n = t_req(req, "INVITE", "sip:999@192.0.2.1", "d4", "d4", NULL, NULL);
	t_send(req, n);
	assert_int_equal(t_take_dscp(), 0);
	t_end();
}

/* Before the first generation: responses and in-dialog requests still
 * pass (they need no table); a Route naming only us gets no-route. */
static void
test_dp_proxy_without_snapshot(void **state)
{
	static const char resp[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK"
		"0123456789abcdef.0123456789abcdef\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKx;rport=5062\r\n"
		"From: <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <sip:bob@example.com>;tag=b9\r\n"
		"Call-ID: nosnap\r\n"
		"CSeq: 7 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	char req[4096];
	struct t_out o;
	size_t n;

	(void)state;
	t_pbegin();
	t_snap_clear();
	t_send(t_want, t_resp_ours(resp, t_want, sizeof(t_want)));
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP "
			    "192.0.2.2:5062;", 38);
	n = t_req(req, "BYE", "sip:bob@198.19.0.77:5077", "ns1", "ns1", "b9",
		  NULL);
	t_send(req, n);
	t_take(&o);
	assert_int_equal(t_ip_last(&o, 198, 19, 0), 77);
	n = t_req(req, "INVITE", "sip:12125550100@192.0.2.1", "ns2", "ns2",
		  NULL, "Route: <sip:192.0.2.1;lr>\r\n");
	t_send_answered(req, n, "SIP/2.0 404 ");
	/* A CANCEL: 200, as when a loaded table has no rule for it. */
	{
		uint64_t cancels = t_cnt(DP_CNT_SIP_CANCEL);
		uint64_t none = t_cnt(DP_CNT_SIP_NO_ROUTE);

		n = t_req(req, "CANCEL", "sip:12125550100@192.0.2.1", "ns4",
			  "ns4", NULL, NULL);
		t_send_answered(req, n, "SIP/2.0 200 ");
		assert_int_equal(t_cnt(DP_CNT_SIP_CANCEL), cancels + 1);
		assert_int_equal(t_cnt(DP_CNT_SIP_NO_ROUTE), none);
	}
	t_snap_csv(t_csv, 3);
	/* Behind a Route of ours the table is looked up here, as without
	 * the Route: a user part too long for a key is matched by its host
	 * alone (no rule for it here: the no-route code, not 400). */
	{
		char ruri[300];
		uint64_t bad = t_cnt(DP_CNT_SIP_BAD_KEY);
		uint64_t none = t_cnt(DP_CNT_SIP_NO_ROUTE);

		memcpy(ruri, "sip:", 4);
		memset(ruri + 4, '1', 200);
		snprintf(ruri + 204, sizeof(ruri) - 204, "@192.0.2.1");
		n = t_req(req, "INVITE", ruri, "ns3", "ns3", NULL,
			  "Route: <sip:192.0.2.1;lr>\r\n");
		t_send_answered(req, n, "SIP/2.0 404 ");
		assert_int_equal(t_cnt(DP_CNT_SIP_BAD_KEY), bad);
		assert_int_equal(t_cnt(DP_CNT_SIP_NO_ROUTE), none + 1);
	}
	t_end();
}


/* The "uk" rule moved to another target, then removed. */
static const char t_csv_moved[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|"
	"198.19.0.6:5060/2,,0,,\n"
	"uk,prefix,44,forward,198.19.0.7:5080,,1,0044,\n";
static const char t_csv_redir[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"uk,prefix,44,redirect,198.19.0.9:5060,,,,\n";
static const char t_csv_gone[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|"
	"198.19.0.6:5060/2,,0,,\n";

/* Our Via line (the first) of the datagram in t_buf, into @p via. */
static void
t_top_via(char *via, size_t cap)
{
	const char *p = strstr(t_buf, "\r\nVia: "), *e;

	assert_non_null(p);
	e = strstr(p + 2, "\r\n");
	assert_non_null(e);
	snprintf(via, cap, "%.*s", (int)(e - p - 2), p + 2);
}

/*
 * Takes one datagram: @p method for 198.19.0.@p last:@p port with that
 * Request-URI (uk's rule rewrites the number), whose top Via is @p via;
 * with @p store, the top Via is stored into @p via (256 bytes) instead.
 */
static void
t_take_uk(const char *method, int last, uint16_t port, char *via,
	  bool store)
{
	char got[256], want[128];
	struct t_out o;

	t_take(&o);
	assert_int_equal(t_ip_last(&o, 198, 19, 0), last);
	assert_int_equal(o.dport, port);
	snprintf(want, sizeof(want), "%s sip:004442079460000@198.19.0.%d:%u "
		 "SIP/2.0\r\n", method, last, port);
	assert_memory_equal(t_buf, want, strlen(want));
	t_top_via(got, sizeof(got));
	if (store)
		strcpy(via, got);
	else
		assert_string_equal(got, via);
}

/* @p method of call @p id to 44 2079 460000, from the peer. */
static void
t_send_uk(const char *method, const char *id, const char *to_tag)
{
	char req[4096];

	t_send(req, t_req(req, method, "sip:442079460000@192.0.2.1", id, id,
			  to_tag, NULL));
}

/*
 * The two datagrams a CANCEL or an ACK of call @p id gives while N-1
 * routes it elsewhere: the copy to 198.19.0.@p old_last:@p old_port
 * (N-1's Request-URI), then N's to @p new_last:@p new_port; both carry
 * @p via. new_last 0: N answers, so only the copy goes.
 */
static void
t_two_ways(const char *method, const char *id, const char *to_tag,
	   char *via, int old_last, uint16_t old_port, int new_last,
	   uint16_t new_port)
{
	t_send_uk(method, id, to_tag);
	t_take_uk(method, old_last, old_port, via, false);
	if (new_last != 0)
		t_take_uk(method, new_last, new_port, via, false);
	t_expect_nothing();
}

/*
 * DESIGN §4.3: while generation N-1 is kept, a CANCEL or the ACK of a
 * non-2xx that N-1 routes elsewhere also goes there, with the INVITE's
 * branch; INVITEs and requests N-1 routes the same way go once.
 */
static void
test_dp_proxy_prev_generation(void **state)
{
	char req[4096], via[256], via2[256];
	struct t_out o;
	size_t n;

	(void)state;
	t_pbegin();
	/* Generation 5: the INVITE goes to uk's .4:5070. */
	t_snap_csv(t_csv, 5);
	t_send_uk("INVITE", "pg1", NULL);
	t_take_uk("INVITE", 4, 5070, via, true);

	/* Generation 6 moves uk to .7:5080; 5 is kept. */
	t_snap_csv_keep(t_csv_moved, 6);
	t_two_ways("CANCEL", "pg1", NULL, via, 4, 5070, 7, 5080);
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_GEN), 1);
	t_two_ways("ACK", "pg1", "uas-tag", via, 4, 5070, 7, 5080);
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_GEN), 2);
	/* A new INVITE, and a CANCEL N-1 routes the same way: once. */
	t_send_uk("INVITE", "pg2", NULL);
	t_take_uk("INVITE", 7, 5080, via2, true);
	t_expect_nothing();
	n = t_req(req, "CANCEL", "sip:12125550100@192.0.2.1", "pg3", "pg3",
		  NULL, NULL);
	t_send(req, n);
	t_take(&o);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_GEN), 2);
	/* Counted into N only: N-1's counters were carried at the swap. */
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD_TABLE), 5);

	/* Generation 7 removes uk; 6 is kept: pg2's CANCEL reaches .7
	 * and gets no answer of N's; an INVITE gets N's 404. */
	t_snap_csv_keep(t_csv_gone, 7);
	t_two_ways("CANCEL", "pg2", NULL, via2, 7, 5080, 0, 0);
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_GEN), 3);
	t_send_uk("INVITE", "pg4", NULL);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 404 ", 12);
	t_expect_nothing();

	/* N-1's 32 s are over: the CANCEL gets N's answer alone, which
	 * for a CANCEL meeting no rule is 200 (RFC 3261 §9.2). */
	t_snap_prev_clear();
	t_send_uk("CANCEL", "pg2", NULL);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 200 ", 12);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_GEN), 3);

	/* Generation 9 turns uk into a redirect, 8 forwarded it: pg5's
	 * CANCEL and ACK reach .7, and the CANCEL gets no 200 of N's; a new
	 * INVITE gets N's 302. */
	t_snap_csv(t_csv_moved, 8);
	t_send_uk("INVITE", "pg5", NULL);
	t_take_uk("INVITE", 7, 5080, via, true);
	t_snap_csv_keep(t_csv_redir, 9);
	t_two_ways("CANCEL", "pg5", NULL, via, 7, 5080, 0, 0);
	t_two_ways("ACK", "pg5", "uas-tag", via, 7, 5080, 0, 0);
	assert_int_equal(t_cnt(DP_CNT_PROXY_PREV_GEN), 5);
	t_send_uk("INVITE", "pg6", NULL);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 302 ", 12);
	t_expect_nothing();
	t_snap_prev_clear();
	t_send_uk("CANCEL", "pg5", NULL);
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 200 ", 12);
	t_expect_nothing();
	t_snap_csv(t_csv, 1);
	t_end();
}

static int
t_setup(void **state)
{
	(void)state;
	return t_env_setup_routed("test_dp_proxy", t_csv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_proxy_invite_forwarded_exact),
		cmocka_unit_test(test_dp_proxy_rewrite_and_record_route),
		cmocka_unit_test(test_dp_proxy_retrans_cancel_ack_follow),
		cmocka_unit_test(test_dp_proxy_spread_per_weights),
		cmocka_unit_test(test_dp_proxy_response_relayed),
		cmocka_unit_test(test_dp_proxy_foreign_via_dropped),
		cmocka_unit_test(test_dp_proxy_loop_and_spiral),
		cmocka_unit_test(test_dp_proxy_dscp),
		cmocka_unit_test(test_dp_proxy_route_and_dialog_bypass_table),
		cmocka_unit_test(test_dp_proxy_other_actions),
		cmocka_unit_test(test_dp_proxy_ipv6_caller),
		cmocka_unit_test(test_dp_proxy_without_snapshot),
		cmocka_unit_test(test_dp_proxy_prev_generation),
	};

	return cmocka_run_group_tests_name("dp_proxy", tests, t_setup,
					   t_env_group_teardown);
}
