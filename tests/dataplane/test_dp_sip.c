/* SPDX-License-Identifier: MIT */
/*
 * test_dp_sip.c - the SIP stage in redirect mode, in process: crafted
 * frames into a net_ring port, one worker iteration, the answers compared
 * byte by byte. Snapshots are compiled from CSV with the rules API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <fmt.h>
#include <hash.h>
#include <rules.h>
#include <sip.h>

#include "dp_test.h"

static const char t_csv[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|"
	"198.19.0.6:5060/2,,0,,\n"
	"uk,prefix,+44,redirect,198.19.0.4:5060,,1,0044,\n"
	"premium,regex,^1900[0-9]{7}$,reject,,10,,,403\n"
	"v6,prefix,33,redirect,[2001:db8::5]:5080|[2001:db8:0:1::1:0]:5060/2,"
	",,,\n"
	"corp,domain,*.example.com,forward,198.19.0.7:5062,,,,\n";

static char t_buf[8192];
static char t_want[8192];

/* A request as a UA would send it; @p extra are whole header lines. */
static size_t
t_req(char *out, const char *method, const char *ruri, const char *branch,
      const char *to_tag, const char *extra)
{
	return (size_t)snprintf(out, 4096,
		"%s %s SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK%s;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Alice\" <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <%s>%s%s\r\n"
		"Call-ID: %s-call@192.0.2.2\r\n"
		"CSeq: 7 %s\r\n"
		"%s"
		"Content-Length: 0\r\n\r\n",
		method, ruri, branch, ruri, to_tag != NULL ? ";tag=" : "",
		to_tag != NULL ? to_tag : "", branch, method,
		extra != NULL ? extra : "");
}

/*
 * The To-tag the router must add to the answer of @p req, computed here
 * from its definition (dataplane/dp_sip.c): SipHash-1-3 under the secret
 * of flow hash, CSeq number, From tag and branch lengths, the two fields;
 * the flow hash is the Call-ID's SipHash-1-3 under the derived flow key.
 */
static void
t_tag(const char *req, size_t len, int zero_key, char tag[17])
{
	static struct sip_msg msg;
	struct sip_info info;
	struct hash_key k = { 0, 0 }, fk = { 0, 0 };
	unsigned char b[2048];
	uint64_t flow;
	uint32_t n = 16, i;

	assert_int_equal(sip_parse(&msg, req, (uint32_t)len), SIP_PERR_OK);
	assert_int_equal(sip_msg_check(&msg, &info), SIP_PERR_OK);
	if (!zero_key) {
		k.k0 = hash_load_le64(t_secret);
		k.k1 = hash_load_le64(t_secret + 8);
		fk.k0 = siphash24(&k, "flow-key-0", 10);
		fk.k1 = siphash24(&k, "flow-key-1", 10);
	}
	flow = siphash13(&fk, info.call_id.ptr, (uint32_t)info.call_id.len);
	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(flow >> (8 * i));
	for (i = 0; i < 4; i++)
		b[8 + i] = (unsigned char)(info.cseq.num >> (8 * i));
	assert_true(n + info.from.tag.len + info.via.branch.len <= sizeof(b));
	b[12] = (unsigned char)info.from.tag.len;
	b[13] = (unsigned char)(info.from.tag.len >> 8);
	b[14] = (unsigned char)info.via.branch.len;
	b[15] = (unsigned char)(info.via.branch.len >> 8);
	memcpy(b + n, info.from.tag.ptr, info.from.tag.len);
	n += info.from.tag.len;
	memcpy(b + n, info.via.branch.ptr, info.via.branch.len);
	n += info.via.branch.len;
	assert_int_equal(fmt_hex64(tag, 17, siphash13(&k, b, n), 16), 16);
	tag[16] = '\0';
}

/*
 * The source address the next answers' top Via gets as received (RFC
 * 3581 §4: the requests ask with a bare rport); the peer's IPv4 address
 * unless a test sends over IPv6.
 */
static const char *t_src = "192.0.2.2";

/* The answer: status line, copied fields, To-tag, @p extra lines. */
static size_t
t_resp(char *out, const char *status, const char *method, const char *ruri,
       const char *branch, const char *to_tag, const char *tag,
       const char *extra)
{
	return (size_t)snprintf(out, 4096,
		"SIP/2.0 %s\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK%s;rport=5062"
		";received=%s\r\n"
		"From: \"Alice\" <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <%s>;tag=%s\r\n"
		"Call-ID: %s-call@192.0.2.2\r\n"
		"CSeq: 7 %s\r\n"
		"%s"
		"Content-Length: 0\r\n\r\n",
		status, branch, t_src, ruri, to_tag != NULL ? to_tag : tag,
		branch, method, extra != NULL ? extra : "");
}

/* Send a request, expect exactly one answer equal to the expected one. */
static void
t_check(const char *method, const char *ruri, const char *branch,
	const char *extra, const char *status, const char *rextra,
	int zero_key)
{
	char req[4096], tag[17];
	size_t n = t_req(req, method, ruri, branch, NULL, extra), got;

	t_tag(req, n, zero_key, tag);
	t_resp(t_want, status, method, ruri, branch, NULL, tag, rextra);
	t_sip_rx4(req, n);
	t_poll();
	got = t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_string_equal(t_buf, t_want);
	assert_int_equal(got, strlen(t_want));
}

/*
 * What the router's 200 to OPTIONS for itself adds in redirect mode (RFC
 * 3261 §11.2): the methods it answers as a UAS, and what it accepts.
 */
#define T_OPT200 "Allow: INVITE, ACK, CANCEL, OPTIONS\r\n" \
		 "Accept: application/sdp\r\nAccept-Language: en\r\n"

/* The UDP payload t_tx_dport4() took last, and whether it holds @p lit. */
static uint8_t t_last[4096];
static size_t t_last_len;
#define T_LAST_HAS(lit) \
	assert_non_null(t_memmem(t_last, t_last_len, lit, sizeof(lit) - 1))

/* The UDP destination port of the one frame sent (IPv4), freed. */
static uint16_t
t_tx_dport4(void)
{
	struct rte_mbuf *m;
	const uint8_t *f;
	size_t l4;
	uint16_t port;

	assert_int_equal(t_tx(&m, 1), 1);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	l4 = RTE_ETHER_HDR_LEN + (size_t)(f[RTE_ETHER_HDR_LEN] & 0xf) * 4;
	port = (uint16_t)(f[l4 + 2] << 8 | f[l4 + 3]);
	/* The answer's text, for the caller to look at. */
	t_last_len = rte_pktmbuf_data_len(m) - (l4 + 8);
	assert_true(t_last_len < sizeof(t_last));
	memcpy(t_last, f + l4 + 8, t_last_len);
	rte_pktmbuf_free(m);
	return port;
}

/*
 * RFC 3261 §18.2.2: an answer goes to the source address and the top
 * Via's sent-by port (5060 when it names none); with rport (RFC 3581
 * §4) to the source port. The requests come from port 5062.
 */
static void
test_dp_sip_answer_port_follows_via(void **state)
{
	static const struct {
		const char *via;        /* the Via header's value */
		bool checked;           /* else no Call-ID: 400 */
		uint16_t port;
		const char *has;        /* in the answer, or NULL */
	} c[] = {
		{ "SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bKp1", true, 5070,
		  NULL },
		{ "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKp2", true, 5060, NULL },
		{ "SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bKp3;rport", true,
		  5062, NULL },
		{ "SIP/2.0/UDP pbx.example.org:5080;branch=z9hG4bKp4", true,
		  5080, NULL },
		/* A request that fails its checks with a good top Via: that
		 * Via's port, and the Via stamped as a good one's is. */
		{ "SIP/2.0/UDP pbx.example.org:5070;branch=z9hG4bKp5", false,
		  5070, "Via: SIP/2.0/UDP pbx.example.org:5070;"
			"branch=z9hG4bKp5;received=192.0.2.2\r\n" },
		/* A good top Via over a bad second one: the top one's. */
		{ "SIP/2.0/UDP 192.0.2.2:5072;branch=z9hG4bKp8, "
		  "SIP/2.0/UDP ;branch=z9hG4bKbad", true, 5072,
		  "SIP/2.0 400 " },
		/* An empty first Via value: the source port. */
		{ ", SIP/2.0/UDP 192.0.2.2:5072;branch=z9hG4bKp9", true, 5062,
		  "SIP/2.0 400 " },
		/* A failed one with rport: the source port, stamped. */
		{ "SIP/2.0/UDP 192.0.2.2:5070;branch=z9hG4bKp6;rport", false,
		  5062, "branch=z9hG4bKp6;rport=5062;received=192.0.2.2\r\n" },
		/* A top Via that does not parse: the source port, Via as
		 * it came. */
		{ "SIP/2.0/UDP 192.0.2.2:5070:9;branch=z9hG4bKp7", true, 5062,
		  "Via: SIP/2.0/UDP 192.0.2.2:5070:9;branch=z9hG4bKp7\r\n" },
	};
	char req[1024], callid[64];
	size_t i;
	int n;

	(void)state;
	t_begin();
	t_snap_clear();
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(callid, sizeof(callid),
			 "Call-ID: port-%zu@192.0.2.2\r\n", i);
		n = snprintf(req, sizeof(req),
			     "OPTIONS sip:192.0.2.1 SIP/2.0\r\n"
			     "Via: %s\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:a@192.0.2.2>;tag=p\r\n"
			     "To: <sip:192.0.2.1>\r\n"
			     "%s"
			     "CSeq: 1 OPTIONS\r\n"
			     "Content-Length: 0\r\n\r\n", c[i].via,
			     c[i].checked ? callid : "");
		t_sip_rx4(req, (size_t)n);
		t_poll();
		assert_int_equal(t_tx_dport4(), c[i].port);
		if (!c[i].checked)
			T_LAST_HAS("SIP/2.0 400 ");
		if (c[i].has != NULL)
			assert_non_null(t_memmem(t_last, t_last_len, c[i].has,
						 strlen(c[i].has)));
	}

	/* A request the parser refuses (505, 400 for a short body) is
	 * stamped and sent as the others are. */
	for (i = 0; i < 4; i++) {
		n = snprintf(req, sizeof(req),
			     "OPTIONS sip:192.0.2.1 SIP/%s\r\n"
			     "Via: SIP/2.0/UDP %s;branch=z9hG4bKq%zu%s\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:a@192.0.2.2>;tag=p\r\n"
			     "To: <sip:192.0.2.1>\r\n"
			     "Call-ID: parse-%zu@192.0.2.2\r\n"
			     "CSeq: 1 OPTIONS\r\n"
			     "Content-Length: %s\r\n\r\n",
			     i % 2 ? "2.0" : "3.0",
			     i < 2 ? "192.0.2.2:5070" : "pbx.example.org:5070",
			     i, i < 2 ? ";rport" : "", i, i % 2 ? "9" : "0");
		t_sip_rx4(req, (size_t)n);
		t_poll();
		assert_int_equal(t_tx_dport4(), i < 2 ? 5062 : 5070);
		T_LAST_HAS(i % 2 ? "SIP/2.0 400 " : "SIP/2.0 505 ");
		snprintf(callid, sizeof(callid), "branch=z9hG4bKq%zu%s\r\n", i,
			 i < 2 ? ";rport=5062;received=192.0.2.2" :
				 ";received=192.0.2.2");
		assert_non_null(t_memmem(t_last, t_last_len, callid,
					 strlen(callid)));
	}
	t_end();
}

static void
test_dp_sip_options_to_router_200(void **state)
{
	char req[1024], tag[17];
	size_t n;

	(void)state;
	t_begin();
	t_snap_clear();
	t_check("OPTIONS", "sip:192.0.2.1", "o1", NULL, "200 OK", T_OPT200, 1);
	t_check("OPTIONS", "sip:192.0.2.1:5060;transport=udp", "o2", NULL,
		"200 OK", T_OPT200, 1);
	/* IPv6, over IPv6. */
	n = t_req(req, "OPTIONS", "sip:[2001:db8::1]", "o3", NULL, NULL);
	t_tag(req, n, 1, tag);
	t_src = "2001:db8::2";
	t_resp(t_want, "200 OK", "OPTIONS", "sip:[2001:db8::1]", "o3", NULL,
	       tag, T_OPT200);
	t_src = "192.0.2.2";
	t_sip_rx6(req, n);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 1);
	assert_string_equal(t_buf, t_want);
	/* IPv6 payload longer than the UDP datagram: the checksum's
	 * pseudo-header has the UDP length (RFC 8200 §8.1). */
	{
		static uint8_t f[2048];
		size_t k = t_eth(f, &t_env.ifc.mac, &t_mac_peer, 0x86dd, 0);
		uint8_t *ip = f + k;

		k += t_ip6(ip, t_ip6_peer, t_ip6_us, 17, (uint16_t)(8 + n + 4),
			   64);
		k += t_udp(f + k, ip, 5062, 5060, req, (uint16_t)n);
		memset(f + k, 0, 4);
		t_rx(f, k + 4);
		t_poll();
		t_sip_tx(t_buf, sizeof(t_buf), 1);
		assert_string_equal(t_buf, t_want);
	}
	/* Through a --domain name, any case, trailing dot. */
	t_env.conf.domain[0] = "edge.example.net";
	t_env.conf.domain_len[0] = 16;
	t_env.conf.ndomain = 1;
	t_check("OPTIONS", "sip:EDGE.example.net.", "o4", NULL, "200 OK",
		T_OPT200, 1);
	/* Max-Forwards 0 is fine for a keepalive to us. */
	n = t_req(req, "OPTIONS", "sip:192.0.2.1", "o5", NULL, NULL);
	memcpy(strstr(req, "Max-Forwards: 70"), "Max-Forwards: 00", 16);
	t_tag(req, n, 1, tag);
	t_resp(t_want, "200 OK", "OPTIONS", "sip:192.0.2.1", "o5", NULL, tag,
	       T_OPT200);
	t_sip_rx4(req, n);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_string_equal(t_buf, t_want);
	assert_int_equal(t_cnt(DP_CNT_SIP_TO_ROUTER), 6);
	assert_int_equal(t_env.lc[0].sip_code[200 - DP_CODE_MIN], 6);
	assert_int_equal(t_env.lc[0].sip_method[SIP_METHOD_OPTIONS], 6);
	/* Port 0 is a port, and not ours: not for the router (no rules
	 * yet, so the no-route answer). */
	t_check("OPTIONS", "sip:192.0.2.1:0", "o6", NULL, "404 Not Found",
		NULL, 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_TO_ROUTER), 6);
	t_end();
}

static void
test_dp_sip_checks_answered(void **state)
{
	char req[1024], tag[17];
	size_t n;

	(void)state;
	t_begin();
	t_snap_clear();
	/* 483: Max-Forwards 0 to anyone else. */
	n = t_req(req, "INVITE", "sip:12125550100@192.0.2.1", "m1", NULL,
		  NULL);
	memcpy(strstr(req, "Max-Forwards: 70"), "Max-Forwards: 00", 16);
	t_tag(req, n, 1, tag);
	t_resp(t_want, "483 Too Many Hops", "INVITE",
	       "sip:12125550100@192.0.2.1", "m1", NULL, tag, NULL);
	t_sip_rx4(req, n);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_string_equal(t_buf, t_want);
	assert_int_equal(t_cnt(DP_CNT_SIP_MAXFWD), 1);

	/* 420 with every unsupported option. */
	t_check("INVITE", "sip:12125550100@192.0.2.1", "p1",
		"Proxy-Require: foo, bar\r\nProxy-Require: baz\r\n",
		"420 Bad Extension", "Unsupported: foo, bar, baz\r\n", 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_PROXY_REQUIRE), 1);
	/* A redirect server answers as a UAS: Require too (RFC 3261
	 * §8.2.2.3), listed after Proxy-Require's; so does an OPTIONS to
	 * the router. A CANCEL is never refused for it. */
	t_check("INVITE", "sip:12125550100@192.0.2.1", "q1",
		"Require: 100rel\r\nProxy-Require: foo\r\nRequire: bar\r\n",
		"420 Bad Extension", "Unsupported: foo, 100rel, bar\r\n", 1);
	t_check("OPTIONS", "sip:192.0.2.1", "q2", "Require: timer\r\n",
		"420 Bad Extension", "Unsupported: timer\r\n", 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_REQUIRE), 2);
	t_check("CANCEL", "sip:12125550100@192.0.2.1", "q3",
		"Require: 100rel\r\n", "200 OK", NULL, 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_REQUIRE), 2);
	/* No option tag to name (an empty header): 400, never a 420 with
	 * an empty Unsupported (RFC 3261 §20.40 wants one tag at least). */
	t_check("INVITE", "sip:12125550100@192.0.2.1", "q4",
		"Proxy-Require: ,\r\n", "400 Bad Request", NULL, 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_PROXY_REQUIRE), 2);
	/* A value that is no option tag (a token: here a lone CR and a
	 * header after it) is not listed, so its bytes never reach the
	 * answer; with no tag left, 400. */
	t_check("INVITE", "sip:12125550100@192.0.2.1", "q5",
		"Proxy-Require: foo\rContact: <sip:evil@203.0.113.9>, bar\r\n",
		"420 Bad Extension", "Unsupported: bar\r\n", 1);
	t_check("INVITE", "sip:12125550100@192.0.2.1", "q6",
		"Proxy-Require: foo\rContact: <sip:evil@203.0.113.9>\r\n",
		"400 Bad Request", NULL, 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_PROXY_REQUIRE), 4);

	/* 501: REGISTER for our own domain (no registrar yet). */
	t_check("REGISTER", "sip:192.0.2.1", "r1", NULL,
		"501 Not Implemented", NULL, 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_REGISTER_LOCAL), 1);

	/* 481: in-dialog request; a redirect server has no dialogs. */
	n = t_req(req, "BYE", "sip:bob@198.19.0.3", "d1", "b7", NULL);
	t_resp(t_want, "481 Call/Transaction Does Not Exist", "BYE",
	       "sip:bob@198.19.0.3", "d1", "b7", NULL, NULL);
	t_sip_rx4(req, n);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_string_equal(t_buf, t_want);
	assert_int_equal(t_cnt(DP_CNT_SIP_IN_DIALOG), 1);
	t_end();
}

/*
 * A request failing its checks: the answer's To-tag hashes the request's
 * bytes (no snapshot here: the all-zero key).
 */
static void
t_bad(const char *req, size_t len, const char *fmt)
{
	static const struct hash_key zero;
	char tag[17];
	const char *at;

	snprintf(tag, sizeof(tag), "%016llx",
		 (unsigned long long)siphash24(&zero, req, len));
	at = strstr(fmt, "%s");
	assert_non_null(at);
	snprintf(t_want, sizeof(t_want), "%.*s%s%s", (int)(at - fmt), fmt, tag,
		 at + 2);
	t_sip_rx4(req, len);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_string_equal(t_buf, t_want);
	/* A retransmission: the same bytes. */
	t_sip_rx4(req, len);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_string_equal(t_buf, t_want);
}

static void
test_dp_sip_parse_errors_answered(void **state)
{
	static const char badvers[] =
		"INVITE sip:1@192.0.2.1 SIP/7.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKv\r\n"
		"Max-Forwards: 70\r\nFrom: <sip:a@192.0.2.2>;tag=1\r\n"
		"To: <sip:1@192.0.2.1>\r\nCall-ID: v@x\r\nCSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char badvers_want[] =
		"SIP/2.0 505 Version Not Supported\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKv\r\n"
		"From: <sip:a@192.0.2.2>;tag=1\r\n"
		"To: <sip:1@192.0.2.1>;tag=%s\r\nCall-ID: v@x\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char nocallid[] =
		"INVITE sip:1@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKc\r\n"
		"Max-Forwards: 70\r\nFrom: <sip:a@192.0.2.2>;tag=1\r\n"
		"To: <sip:1@192.0.2.1>\r\nCSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char nocallid_want[] =
		"SIP/2.0 400 Bad Request\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKc\r\n"
		"From: <sip:a@192.0.2.2>;tag=1\r\n"
		"To: <sip:1@192.0.2.1>;tag=%s\r\nCSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char scheme[] =
		"INVITE name:1@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKs\r\n"
		"Max-Forwards: 70\r\nFrom: <sip:a@192.0.2.2>;tag=1\r\n"
		"To: <name:1@192.0.2.1>\r\nCall-ID: s@x\r\nCSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char scheme_want[] =
		"SIP/2.0 416 Unsupported URI Scheme\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKs\r\n"
		"From: <sip:a@192.0.2.2>;tag=1\r\n"
		"To: <name:1@192.0.2.1>;tag=%s\r\nCall-ID: s@x\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	/* A bad line before Via and a bare-LF line: the 400 still carries
	 * the headers after it, every line ending in CRLF. */
	static const char badline[] =
		"INVITE sip:1@192.0.2.1 SIP/2.0\r\n"
		"Max-Forwards: 70\r\nNo colon here\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKl\n"
		"From: <sip:a@192.0.2.2>;tag=1\r\n"
		"To: <sip:1@192.0.2.1>\r\nCall-ID: l@x\r\nCSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char badline_want[] =
		"SIP/2.0 400 Bad Request\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKl\r\n"
		"From: <sip:a@192.0.2.2>;tag=1\r\n"
		"To: <sip:1@192.0.2.1>;tag=%s\r\nCall-ID: l@x\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char garbage[] = "\x16\x03\x01 hello\r\n\r\n";
	static const char ack_bad[] =
		"ACK sip:1@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKa\r\n"
		"To: <sip:1@192.0.2.1>\r\nCSeq: 1 ACK\r\n\r\n";

	(void)state;
	t_begin();
	t_snap_clear();
	t_bad(badvers, sizeof(badvers) - 1, badvers_want);
	t_bad(nocallid, sizeof(nocallid) - 1, nocallid_want);
	t_bad(scheme, sizeof(scheme) - 1, scheme_want);
	t_bad(badline, sizeof(badline) - 1, badline_want);
	/* Unanswerable: dropped, counted by verdict. */
	t_sip_rx4(garbage, sizeof(garbage) - 1);
	t_sip_rx4(ack_bad, sizeof(ack_bad) - 1);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_PARSE_ERR), 10);
	assert_int_equal(t_cnt(DP_CNT_SIP_PARSE_DROP), 2);
	assert_int_equal(t_env.lc[0].sip_perr[SIP_PERR_BAD_VERSION], 2);
	assert_int_equal(t_env.lc[0].sip_perr[SIP_PERR_MISSING_HDR], 3);
	assert_int_equal(t_env.lc[0].sip_perr[SIP_PERR_BAD_SCHEME], 2);
	assert_int_equal(t_env.lc[0].sip_perr[SIP_PERR_BAD_START], 1);
	assert_int_equal(t_cnt(DP_CNT_DROP), 2);
	t_end();
}

/*
 * A user part too long for a match key (no number a rule could hold) is
 * matched by its host: the domain rule answers, not a 400.
 */
static void
test_dp_sip_long_user_matched_by_host(void **state)
{
	char ruri[300], req[4096];
	uint64_t bad;
	size_t n;

	(void)state;
	t_begin();
	t_snap_csv(t_csv, 1);
	bad = t_cnt(DP_CNT_SIP_BAD_KEY);
	memcpy(ruri, "sip:", 4);
	memset(ruri + 4, 'a', 140);
	snprintf(ruri + 144, sizeof(ruri) - 144, "@sales.example.com");
	n = t_req(req, "INVITE", ruri, "lu1", NULL, NULL);
	t_sip_rx4(req, n);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 302 ", 12);
	assert_non_null(strstr(t_buf, "@198.19.0.7:5062"));
	/* a number too long for a key: no number rule, the no-route code */
	memset(ruri + 4, '1', 140);
	snprintf(ruri + 144, sizeof(ruri) - 144, "@192.0.2.1");
	n = t_req(req, "INVITE", ruri, "lu2", NULL, NULL);
	t_sip_rx4(req, n);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 404 ", 12);
	assert_int_equal(t_cnt(DP_CNT_SIP_BAD_KEY), bad);
	t_expect_nothing();
	t_end();
}

static void
test_dp_sip_no_route_codes(void **state)
{
	(void)state;
	t_begin();
	/* No generation loaded: everything routable gets the no-route code. */
	t_snap_clear();
	t_check("INVITE", "sip:12125550100@192.0.2.1", "n1", NULL,
		"404 Not Found", NULL, 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_NO_SNAP), 1);
	/* A generation without a matching rule. */
	t_snap_csv(t_csv, 1);
	t_check("INVITE", "sip:5551234@192.0.2.1", "n2", NULL,
		"404 Not Found", NULL, 0);
	t_env.conf.no_route_code = 480;
	t_check("INVITE", "sip:5551234@192.0.2.1", "n3", NULL,
		"480 Temporarily Unavailable", NULL, 0);
	t_env.conf.no_route_code = 604;
	t_check("MESSAGE", "tel:+1-555-1234", "n4", NULL,
		"604 Does Not Exist Anywhere", NULL, 0);
	assert_int_equal(t_cnt(DP_CNT_SIP_NO_ROUTE), 4);
	/* A reject rule's code. */
	t_check("INVITE", "sip:19005551234@192.0.2.1", "j1", NULL,
		"403 Forbidden", NULL, 0);
	assert_int_equal(t_cnt(DP_CNT_SIP_REJECT), 1);
	t_snap_clear();
	t_end();
}

/* Contact lines for the nyc rule in rules_contacts() order. */
static void
t_nyc_contacts(const struct dp_snap *s, const char *req, size_t len,
	       const char *user, const char *uparams, const char *params,
	       char *out, size_t cap)
{
	static struct sip_msg msg;
	struct sip_info info;
	struct rules_dest d[RULES_TARGETS_MAX];
	static const char *const q[] = { "1.0", "0.9", "0.8" };
	uint32_t n, i;
	size_t o = 0;

	assert_int_equal(sip_parse(&msg, req, (uint32_t)len), SIP_PERR_OK);
	assert_int_equal(sip_msg_check(&msg, &info), SIP_PERR_OK);
	assert_int_equal(rules_contacts(s->db, rules_db_find(s->db,
				SPAN_LIT("nyc")), dp_sip_flow_hash(s, &info),
				NULL, d, RULES_TARGETS_MAX, &n), 0);
	assert_int_equal(n, 3);
	/* The tier-2 target comes last. */
	assert_int_equal(d[2].addr[3], 6);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o,
			"Contact: <sip:%s@198.19.0.%u:5060%s>;q=%s%s\r\n", user,
			d[i].addr[3], uparams, q[i], params);
}

static void
test_dp_sip_redirect_contacts(void **state)
{
	char req[1024], contacts[1024];
	struct dp_snap *s;
	size_t n;

	(void)state;
	t_begin();
	s = t_snap_csv(t_csv, 2);
	/* No strip or prepend: the user part as it came (a global number
	 * stays one, RFC 3261 §19.1.6, and says so), three Contacts. */
	n = t_req(req, "INVITE", "sip:+1-212-555-0100@192.0.2.1;user=phone",
		  "r1", NULL, NULL);
	t_nyc_contacts(s, req, n, "+1-212-555-0100", ";user=phone", "",
		       contacts, sizeof(contacts));
	t_check("INVITE", "sip:+1-212-555-0100@192.0.2.1;user=phone", "r1",
		NULL, "302 Moved Temporarily", contacts, 0);
	/* Strip 1, prepend 0044. */
	t_check("INVITE", "sip:+44-20-7946-0000@192.0.2.1", "r2", NULL,
		"302 Moved Temporarily",
		"Contact: <sip:004442079460000@198.19.0.4:5060>;q=1.0\r\n", 0);
	/* A sip: telephone-subscriber keeps its parameters (number
	 * portability, RFC 4694) with the rewritten number, but its
	 * phone-context. */
	t_check("INVITE", "sip:+44-20-7946-0000;npdi;rn=+442079460001;"
		"phone-context=+44@192.0.2.1;user=phone", "r2a", NULL,
		"302 Moved Temporarily",
		"Contact: <sip:004442079460000;npdi;rn=+442079460001"
		"@198.19.0.4:5060;user=phone>;q=1.0\r\n", 0);
	/* A rewritten tel: number keeps its parameters in the user part
	 * (RFC 3261 §19.1.6) but phone-context, which described the number
	 * as received. */
	t_check("INVITE", "tel:44-20-7946-0000;phone-context=example.com;isub=9",
		"r2b", NULL, "302 Moved Temporarily",
		"Contact: <sip:004442079460000;isub=9@198.19.0.4:5060;user=phone>;q=1.0\r\n",
		0);
	/* IPv6 targets in brackets, tiers in order; a tel: URI's number
	 * with its parameters, phone-context too as nothing rewrote it;
	 * their escapes kept, what a user part may not hold escaped. */
	t_check("INVITE", "tel:33-1-23;isub=7%20a;phone-context=+33", "r3",
		NULL, "302 Moved Temporarily",
		"Contact: <sip:33-1-23;isub=7%20a;phone-context=+33@[2001:db8::5]:5080;user=phone>;q=1.0\r\n"
		"Contact: <sip:33-1-23;isub=7%20a;phone-context=+33@[2001:db8:0:1::1:0]:5060;user=phone>;q=0.9\r\n",
		0);
	/* A domain rule: no number, so no user part; other 3xx, expires. */
	t_env.conf.redirect_code = 301;
	t_env.conf.redirect_expires = 600;
	t_check("INVITE", "sip:sales.example.com", "r4", NULL,
		"301 Moved Permanently",
		"Contact: <sip:198.19.0.7:5062>;q=1.0;expires=600\r\n", 0);
	/* A user part that is no number is kept, escaped as needed. */
	t_check("INVITE", "sip:bob%20smith@Sales.Example.COM", "r5", NULL,
		"301 Moved Permanently",
		"Contact: <sip:bob%20smith@198.19.0.7:5062>;q=1.0;expires=600\r\n",
		0);
	assert_int_equal(t_cnt(DP_CNT_SIP_REDIRECT), 7);
	assert_int_equal(t_env.lc[0].sip_code[302 - DP_CODE_MIN], 5);
	assert_int_equal(t_env.lc[0].sip_code[301 - DP_CODE_MIN], 2);
	/* Per-rule hits of this generation. */
	{
		uint64_t hits[16];

		assert_true(s->nrules <= 16);
		dp_snap_sum(s, hits, NULL);
		assert_int_equal(hits[rules_db_find(s->db, SPAN_LIT("corp"))],
				 2);
		assert_int_equal(hits[rules_db_find(s->db, SPAN_LIT("uk"))], 3);
	}
	/* A tel: number longer than any rewritten user is still escaped;
	 * a user too long for a Contact is given as its number, global
	 * still ("+"). */
	{
		static char ruri[600], want[1200];
		size_t k, m;

		m = (size_t)snprintf(ruri, sizeof(ruri), "tel:33");
		for (k = 0; k < 90; k++)
			m += (size_t)snprintf(ruri + m, sizeof(ruri) - m, "-1");
		snprintf(ruri + m, sizeof(ruri) - m, "#");
		m = (size_t)snprintf(want, sizeof(want), "Contact: <sip:33");
		for (k = 0; k < 90; k++)
			m += (size_t)snprintf(want + m, sizeof(want) - m, "-1");
		snprintf(want + m, sizeof(want) - m,
			 "%%23@[2001:db8::5]:5080;user=phone>;q=1.0;expires=600\r\n"
			 "Contact: <sip:33");
		m = strlen(want);
		for (k = 0; k < 90; k++)
			m += (size_t)snprintf(want + m, sizeof(want) - m, "-1");
		snprintf(want + m, sizeof(want) - m,
			 "%%23@[2001:db8:0:1::1:0]:5060;user=phone>;q=0.9;expires=600\r\n");
		t_check("INVITE", ruri, "r6", NULL, "301 Moved Permanently",
			want, 0);

		m = (size_t)snprintf(ruri, sizeof(ruri), "sip:+33");
		memset(ruri + m, '-', 490);
		snprintf(ruri + m + 490, sizeof(ruri) - m - 490,
			 "1@192.0.2.1");
		t_check("INVITE", ruri, "r7", NULL, "301 Moved Permanently",
			"Contact: <sip:+331@[2001:db8::5]:5080>;q=1.0;expires=600\r\n"
			"Contact: <sip:+331@[2001:db8:0:1::1:0]:5060>;q=0.9;expires=600\r\n",
			0);
	}
	t_snap_clear();
	t_end();
}

static void
test_dp_sip_redirect_retransmission_identical(void **state)
{
	char req[1024], first[4096];
	size_t n, a, b;
	int i;

	(void)state;
	t_begin();
	t_snap_csv(t_csv, 3);
	n = t_req(req, "INVITE", "sip:12125550199@192.0.2.1", "rt", NULL,
		  NULL);
	t_sip_rx4(req, n);
	t_poll();
	a = t_sip_tx(first, sizeof(first), 0);
	for (i = 0; i < 3; i++) {
		t_sip_rx4(req, n);
		t_poll();
		b = t_sip_tx(t_buf, sizeof(t_buf), 0);
		assert_int_equal(a, b);
		assert_memory_equal(first, t_buf, a);
	}
	/* The same bytes from a snapshot rebuilt for the same rules. */
	t_snap_csv(t_csv, 4);
	t_sip_rx4(req, n);
	t_poll();
	b = t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_int_equal(a, b);
	assert_memory_equal(first, t_buf, a);
	assert_non_null(strstr(first, ";tag="));
	t_snap_clear();
	t_end();
}

static void
test_dp_sip_redirect_stateless_uas(void **state)
{
	static const char resp[] =
		"SIP/2.0 180 Ringing\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\n"
		"From: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:b@192.0.2.2>;tag=2\r\n"
		"Call-ID: r@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	char req[1024];
	size_t n;

	(void)state;
	t_begin();
	t_snap_csv(t_csv, 5);
	/* ACK (of our 3xx) absorbed. */
	n = t_req(req, "ACK", "sip:12125550100@192.0.2.1", "r1", "x9", NULL);
	t_sip_rx4(req, n);
	/* A response from outside: dropped. */
	t_sip_rx4(resp, sizeof(resp) - 1);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_ACK_ABSORBED), 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_RESP_DROP), 1);
	assert_int_equal(t_cnt(DP_CNT_DROP), 2);
	/* CANCEL: 200 and nothing else. */
	t_check("CANCEL", "sip:12125550100@192.0.2.1", "r1", NULL, "200 OK",
		NULL, 0);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_CANCEL), 1);
	t_snap_clear();
	t_end();
}

static void
test_dp_sip_all_targets_down_503(void **state)
{
	static const uint64_t down[4];  /* every bit 0: every target down */
	struct dp_snap *s;

	(void)state;
	t_begin();
	s = t_snap_csv(t_csv, 6);
	s->up = down;
	t_check("INVITE", "sip:12125550100@192.0.2.1", "u1", NULL,
		"503 Service Unavailable", "Retry-After: 30\r\n", 0);
	t_env.conf.retry_after = 120;
	t_check("INVITE", "sip:+44123@192.0.2.1", "u2", NULL,
		"503 Service Unavailable", "Retry-After: 120\r\n", 0);
	assert_int_equal(t_cnt(DP_CNT_SIP_ALL_DOWN), 2);
	t_snap_clear();
	t_end();
}

static void
test_dp_sip_burst_mixed(void **state)
{
	char req[1024];
	size_t n;
	int i;

	(void)state;
	t_begin();
	t_snap_csv(t_csv, 7);
	/* A full burst of mixed verdicts in one iteration. */
	for (i = 0; i < DP_BURST; i++) {
		switch (i % 4) {
		case 0:
			n = t_req(req, "INVITE", "sip:12125550100@192.0.2.1",
				  "b", NULL, NULL);
			break;
		case 1:
			n = t_req(req, "ACK", "sip:1@192.0.2.1", "b", "t", NULL);
			break;
		case 2:
			n = t_req(req, "OPTIONS", "sip:192.0.2.1", "b", NULL,
				  NULL);
			break;
		default:
			n = t_req(req, "INVITE", "sip:5550000@192.0.2.1", "b",
				  NULL, NULL);
			break;
		}
		t_sip_rx4(req, n);
	}
	t_poll();
	for (i = 0; i < DP_BURST * 3 / 4; i++)
		t_sip_tx(t_buf, sizeof(t_buf), 0);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_REDIRECT), DP_BURST / 4);
	assert_int_equal(t_cnt(DP_CNT_SIP_NO_ROUTE), DP_BURST / 4);
	assert_int_equal(t_cnt(DP_CNT_SIP_TO_ROUTER), DP_BURST / 4);
	assert_int_equal(t_cnt(DP_CNT_SIP_ACK_ABSORBED), DP_BURST / 4);
	t_snap_clear();
	t_end();
}

/* An INVITE for @p ruri with branch @p br from the peer, received. */
static void
t_invite_rx(const char *ruri, const char *br)
{
	char req[1024];
	size_t n = t_req(req, "INVITE", ruri, br, NULL, NULL);

	t_sip_rx4(req, n);
}

/*
 * DESIGN §3.2 step 2: acl.allow / acl.deny with both actions, and the
 * per-source rate limit, on a redirect-mode snapshot (the peer is
 * 192.0.2.2).
 */
static void
test_dp_sip_source_policy(void **state)
{
	struct dp_acl_conf acl = { .acl_action = SPAN_LIT("403") };
	const char *uk = "sip:+441234@192.0.2.1";
	struct rte_mbuf *m;
	char req[1024];
	size_t n;
	int i, n302 = 0, n403 = 0;

	(void)state;
	t_begin();
	/* Denied, answered 403 (to the source, with the usual To-tag). */
	acl.deny = SPAN_LIT("10.0.0.0/8, 192.0.2.2");
	t_snap_csv_acl(t_csv, 1, &acl);
	t_check("INVITE", uk, "d1", NULL, "403 Forbidden", NULL, 0);
	assert_int_equal(t_cnt(DP_CNT_SIP_ACL_REFUSED), 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_REDIRECT), 0);
	/* Denied, dropped. A redirect server absorbs an ACK before the
	 * policy: counted once, as absorbed, never refused. */
	acl.acl_action = SPAN_LIT("drop");
	t_snap_csv_acl(t_csv, 2, &acl);
	t_invite_rx(uk, "d2");
	n = t_req(req, "ACK", uk, "d3", "x", NULL);
	t_sip_rx4(req, n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_ACL_REFUSED), 2);
	assert_int_equal(t_cnt(DP_CNT_SIP_ACK_ABSORBED), 1);
	/* A malformed request from a denied source gets no 400 or 505
	 * either (counted as a parse error and as refused)... */
	{
		static const char vers[] =
			"INVITE sip:1@192.0.2.1 SIP/3.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKm1\r\n"
			"From: <sip:a@192.0.2.2>;tag=1\r\n"
			"To: <sip:1@192.0.2.1>\r\nCall-ID: m1@x\r\n"
			"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

		t_sip_rx4(vers, sizeof(vers) - 1);
		t_poll();
		t_expect_nothing();
		assert_int_equal(t_cnt(DP_CNT_SIP_ACL_REFUSED), 3);
		/* ... and with the 403 action its 403, not the 505. */
		acl.acl_action = SPAN_LIT("403");
		t_snap_csv_acl(t_csv, 2, &acl);
		t_sip_rx4(vers, sizeof(vers) - 1);
		t_poll();
		t_sip_tx(t_buf, sizeof(t_buf), 0);
		assert_memory_equal(t_buf, "SIP/2.0 403 ", 12);
		t_expect_nothing();
		assert_int_equal(t_cnt(DP_CNT_SIP_ACL_REFUSED), 4);
		acl.acl_action = SPAN_LIT("drop");
	}
	/* An allow list without the peer refuses it; deny wins over allow. */
	acl = (struct dp_acl_conf){ .allow = SPAN_LIT("192.0.2.128/25 2001:db8::/32"),
				    .acl_action = SPAN_LIT("403") };
	t_snap_csv_acl(t_csv, 3, &acl);
	t_check("INVITE", uk, "a1", NULL, "403 Forbidden", NULL, 0);
	acl.allow = SPAN_LIT("192.0.2.0/24");
	acl.deny = SPAN_LIT("192.0.2.2/32");
	t_snap_csv_acl(t_csv, 4, &acl);
	t_check("INVITE", uk, "a2", NULL, "403 Forbidden", NULL, 0);
	assert_int_equal(t_cnt(DP_CNT_SIP_ACL_REFUSED), 6);
	/* Allowed: redirected as without a policy. */
	acl.deny = SPAN_LIT("");
	t_snap_csv_acl(t_csv, 5, &acl);
	t_invite_rx(uk, "a3");
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 302 ", 12);
	assert_int_equal(t_cnt(DP_CNT_SIP_ACL_REFUSED), 6);

	/* 1 request/s with a burst of 3: of 8 back to back, 3 go on. */
	acl = (struct dp_acl_conf){ .rl_rps = 1, .rl_burst = 3,
				    .rl_action = SPAN_LIT("403") };
	t_snap_csv_acl(t_csv, 6, &acl);
	for (i = 0; i < 8; i++) {
		char br[8];

		snprintf(br, sizeof(br), "r%d", i);
		t_invite_rx(uk, br);
	}
	t_poll();
	for (i = 0; i < 8; i++) {
		t_sip_tx(t_buf, sizeof(t_buf), 0);
		n302 += memcmp(t_buf, "SIP/2.0 302 ", 12) == 0;
		n403 += memcmp(t_buf, "SIP/2.0 403 ", 12) == 0;
	}
	t_expect_nothing();
	assert_int_equal(n302, 3);
	assert_int_equal(n403, 5);
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 5);
	/* Over the rate and dropped: counted, no answer. */
	acl.rl_action = SPAN_LIT("");
	t_snap_csv_acl(t_csv, 7, &acl);
	t_invite_rx(uk, "r9");
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 6);
	/* A malformed one (no Call-ID) over the rate: no 400 either. */
	{
		static const char nocid[] =
			"INVITE sip:1@192.0.2.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKm2\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:a@192.0.2.2>;tag=1\r\n"
			"To: <sip:1@192.0.2.1>\r\n"
			"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

		t_sip_rx4(nocid, sizeof(nocid) - 1);
		t_poll();
		t_expect_nothing();
		assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 7);
	}
	/* Still over the rate: a redirect server admitted no transaction
	 * (the INVITE had its 3xx), so a CANCEL is rate limited too: one
	 * more 200 copying every Via to the source it names. */
	n = t_req(req, "CANCEL", uk, "r0", NULL, NULL);
	t_sip_rx4(req, n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 8);
	/* In proxy mode one the table forwards belongs to an INVITE
	 * forwarded: not limited. */
	t_env.conf.mode = DP_MODE_PROXY;
	t_resolve(t_ip4_gw, &t_mac_peer);       /* the targets' next hop */
	n = t_req(req, "CANCEL", "sip:12125550100@192.0.2.1", "r0", NULL,
		  NULL);
	t_sip_rx4(req, n);
	t_poll();
	assert_int_equal(t_tx(&m, 1), 1);       /* to the rule's target */
	assert_true(rte_pktmbuf_data_len(m) > 42 + 11);
	assert_memory_equal(rte_pktmbuf_mtod_offset(m, const char *, 42),
			    "CANCEL sip:", 11);   /* after Ethernet, IPv4, UDP */
	rte_pktmbuf_free(m);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD_TABLE), 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 8);
	/* One the router answers itself (here the table's redirect rule
	 * answers it 200) is one more answer: limited, dropped... */
	n = t_req(req, "CANCEL", uk, "r0", NULL, NULL);
	t_sip_rx4(req, n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 9);
	/* ... or answered 403 when that is the rate's action. */
	acl.rl_action = SPAN_LIT("403");
	t_snap_csv_acl(t_csv, 8, &acl);
	t_sip_rx4(req, n);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 403 ", 12);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 10);
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD_TABLE), 1);
	/* An ACK the message routes (a dialog's remote target, here an
	 * address not ours; or a Route) goes wherever it names: charged,
	 * and over the rate dropped (never answered)... */
	n = t_req(req, "ACK", "sip:bob@198.51.100.9", "a1", "x", NULL);
	t_sip_rx4(req, n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 11);
	n = t_req(req, "ACK", "sip:12125550100@192.0.2.1", "a2", "x",
		  "Route: <sip:198.51.100.9;lr>\r\n");
	t_sip_rx4(req, n);
	t_poll();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 12);
	/* ... one that follows its INVITE through the table is not. */
	n = t_req(req, "ACK", "sip:12125550100@192.0.2.1", "r0", "x", NULL);
	t_sip_rx4(req, n);
	t_poll();
	assert_int_equal(t_tx(&m, 1), 1);
	assert_memory_equal(rte_pktmbuf_mtod_offset(m, const char *, 42),
			    "ACK sip:", 8);
	rte_pktmbuf_free(m);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 12);
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD_TABLE), 2);
	/* Nor one whose Route names only us (its INVITE's outbound proxy):
	 * popped, and the table routes it. */
	n = t_req(req, "ACK", "sip:12125550100@192.0.2.1", "r0", "x",
		  "Route: <sip:192.0.2.1;lr>\r\n");
	t_sip_rx4(req, n);
	t_poll();
	assert_int_equal(t_tx(&m, 1), 1);
	rte_pktmbuf_free(m);
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_RATE_LIMITED), 12);
	assert_int_equal(t_cnt(DP_CNT_PROXY_FWD_TABLE), 3);
	t_env.conf.mode = DP_MODE_REDIRECT;
	t_snap_clear();
	t_end();
}

/* Contact hosts and ports of every decimal width, user parts escaped. */
static void
test_dp_sip_redirect_contact_widths(void **state)
{
	static const char csv[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"w,prefix,77,redirect,10.0.255.1:65535/1|1.22.133.4:5/2,,,,\n"
		"d,domain,*.example.org,redirect,"
		"223.255.255.255:10000/1|1.0.0.0:999/2,,,,\n";

	(void)state;
	t_begin();
	t_snap_csv(csv, 6);
	t_check("INVITE", "sip:7712@192.0.2.1", "w1", NULL,
		"302 Moved Temporarily",
		"Contact: <sip:7712@10.0.255.1:65535>;q=1.0\r\n"
		"Contact: <sip:7712@1.22.133.4:5>;q=0.9\r\n", 0);
	t_check("INVITE", "sip:a%7Eb.c%25d;x=1@host.example.org", "w2", NULL,
		"302 Moved Temporarily",
		"Contact: <sip:a%7Eb.c%25d;x=1@223.255.255.255:10000>;q=1.0\r\n"
		"Contact: <sip:a%7Eb.c%25d;x=1@1.0.0.0:999>;q=0.9\r\n", 0);
	t_snap_clear();
	t_end();
}

/*
 * The most Contacts a rule has: q-values in steps of 1/n below 1.0 (RFC
 * 3261 §25.1 qvalue, trailing zeros dropped), the widest IPv6 targets,
 * each line from the snapshot's text of its target.
 */
static void
test_dp_sip_redirect_sixteen_contacts(void **state)
{
	static const char csv[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"s,prefix,88,redirect,"
		"[efff:ffff:ffff:ffff:ffff:ffff:ffff:fff0]:65535/1"
		"|223.255.255.241:60001/2|[2001:db8::3]:5060/3"
		"|223.255.255.243:60003/4|[2001:db8::5]:5060/5"
		"|223.255.255.245:60005/6|[2001:db8::7]:5060/7"
		"|223.255.255.247:60007/8|[2001:db8::9]:5060/9"
		"|223.255.255.249:60009/10|[2001:db8::b]:5060/11"
		"|223.255.255.251:60011/12|[2001:db8::d]:5060/13"
		"|223.255.255.253:60013/14|[2001:db8::f]:5060/15"
		"|[efff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535/16"
		",,,,\n";

	(void)state;
	t_begin();
	t_snap_csv(csv, 7);
	t_check("INVITE", "sip:8812@192.0.2.1", "s1", NULL,
		"302 Moved Temporarily",
		"Contact: <sip:8812@[efff:ffff:ffff:ffff:ffff:ffff:ffff:fff0]"
		":65535>;q=1.0\r\n"
		"Contact: <sip:8812@223.255.255.241:60001>;q=0.938\r\n"
		"Contact: <sip:8812@[2001:db8::3]:5060>;q=0.876\r\n"
		"Contact: <sip:8812@223.255.255.243:60003>;q=0.814\r\n"
		"Contact: <sip:8812@[2001:db8::5]:5060>;q=0.752\r\n"
		"Contact: <sip:8812@223.255.255.245:60005>;q=0.69\r\n"
		"Contact: <sip:8812@[2001:db8::7]:5060>;q=0.628\r\n"
		"Contact: <sip:8812@223.255.255.247:60007>;q=0.566\r\n"
		"Contact: <sip:8812@[2001:db8::9]:5060>;q=0.504\r\n"
		"Contact: <sip:8812@223.255.255.249:60009>;q=0.442\r\n"
		"Contact: <sip:8812@[2001:db8::b]:5060>;q=0.38\r\n"
		"Contact: <sip:8812@223.255.255.251:60011>;q=0.318\r\n"
		"Contact: <sip:8812@[2001:db8::d]:5060>;q=0.256\r\n"
		"Contact: <sip:8812@223.255.255.253:60013>;q=0.194\r\n"
		"Contact: <sip:8812@[2001:db8::f]:5060>;q=0.132\r\n"
		"Contact: <sip:8812@[efff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]"
		":65535>;q=0.07\r\n", 0);
	t_snap_clear();
	t_end();
}

/*
 * Sixteen Contacts, each repeating a 412-byte user part: the answer
 * would be about 8 KB for a request of 650 bytes, whose source may be
 * forged.
 * The Contacts stop at max(1,200 bytes, the request's size): the first
 * two go, the rest are left out and counted.
 */
static void
test_dp_sip_redirect_contacts_bounded(void **state)
{
	static const char csv[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		"s,prefix,88,redirect,"
		"198.18.0.1:5060|198.18.0.2:5060|198.18.0.3:5060|198.18.0.4:5060"
		"|198.18.0.5:5060|198.18.0.6:5060|198.18.0.7:5060|198.18.0.8:5060"
		"|198.18.0.9:5060|198.18.0.10:5060|198.18.0.11:5060"
		"|198.18.0.12:5060|198.18.0.13:5060|198.18.0.14:5060"
		"|198.18.0.15:5060|198.18.0.16:5060,,,,\n";
	char req[4096], ruri[512];
	const char *c;
	size_t n;
	int k;

	(void)state;
	t_begin();
	t_snap_csv(csv, 9);
	n = (size_t)snprintf(ruri, sizeof(ruri), "sip:8812;x=%0400d@192.0.2.1",
			     0);
	assert_int_equal(n, 4 + 4 + 3 + 400 + 10);
	n = (size_t)snprintf(req, sizeof(req),
		"INVITE %s SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKcb1;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:alice@192.0.2.2>;tag=a1\r\n"
		"To: <sip:8812@192.0.2.1>\r\n"
		"Call-ID: cb1@192.0.2.2\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n", ruri);
	t_sip_rx4(req, n);
	t_poll();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
	assert_memory_equal(t_buf, "SIP/2.0 302 ", 12);
	for (k = 0, c = t_buf; (c = strstr(c, "\r\nContact: <sip:8812;x=")) !=
	     NULL; c++)
		k++;
	assert_int_equal(k, 2);
	assert_non_null(strstr(t_buf, ";q=1.0\r\n"));
	assert_int_equal(t_cnt(DP_CNT_SIP_CONTACTS_CUT), 1);
	assert_int_equal(t_cnt(DP_CNT_SIP_REDIRECT), 1);
	t_snap_clear();
	t_end();
}

/*
 * Long From tags and branches (up to 325 bytes together, past the
 * 240-byte gather limit of an earlier definition): still the defined tag.
 */
static void
test_dp_sip_redirect_to_tag_long_fields(void **state)
{
	char req[2048], tag[17], want[32], ftag[300];
	size_t n;
	int len;

	(void)state;
	t_begin();
	t_snap_csv(t_csv, 8);
	memset(ftag, 'f', sizeof(ftag));
	for (len = 200; len <= 260; len += 4) {
		n = (size_t)snprintf(req, sizeof(req),
			"INVITE sip:12125550100@192.0.2.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bK%.*s\r\n"
			"From: <sip:alice@192.0.2.2>;tag=%.*s\r\n"
			"To: <sip:12125550100@192.0.2.1>\r\n"
			"Call-ID: long@192.0.2.2\r\nCSeq: 1 INVITE\r\n"
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			len % 64 + 1, "0123456789abcdef0123456789abcdef"
			"0123456789abcdef0123456789abcdef", len, ftag);
		t_tag(req, n, 0, tag);
		snprintf(want, sizeof(want), ">;tag=%s\r\n", tag);
		t_sip_rx4(req, n);
		t_poll();
		t_sip_tx(t_buf, sizeof(t_buf), 0);
		assert_non_null(strstr(t_buf, want));
	}
	t_snap_clear();
	t_end();
}

/*
 * Answers computed without checksum offload carry the UDP checksum
 * rte_ipv4_udptcp_cksum() / rte_ipv6_udptcp_cksum() give, for every
 * datagram length mod 16 (odd lengths included), over IPv4 and IPv6.
 */
static void
test_dp_sip_redirect_udp_checksum(void **state)
{
	char req[1024], branch[32];
	struct rte_mbuf *m;
	struct rte_udp_hdr *udp;
	uint16_t got, want;
	size_t n;
	int i, v6;

	(void)state;
	t_begin();
	t_snap_csv(t_csv, 5);
	for (v6 = 0; v6 < 2; v6++) {
		for (i = 1; i <= 20; i++) {
			snprintf(branch, sizeof(branch), "ck%.*s", i,
				 "abcdefghijklmnopqrstuvwxyz");
			n = t_req(req, "INVITE", "sip:12125550100@192.0.2.1",
				  branch, NULL, NULL);
			if (v6)
				t_sip_rx6(req, n);
			else
				t_sip_rx4(req, n);
			t_poll();
			assert_int_equal(t_tx(&m, 1), 1);
			if (v6) {
				struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(
					m, struct rte_ipv6_hdr *, 14);

				udp = (struct rte_udp_hdr *)(ip + 1);
				got = udp->dgram_cksum;
				udp->dgram_cksum = 0;
				want = rte_ipv6_udptcp_cksum(ip, udp);
			} else {
				struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
					m, struct rte_ipv4_hdr *, 14);

				udp = (struct rte_udp_hdr *)(ip + 1);
				got = udp->dgram_cksum;
				udp->dgram_cksum = 0;
				want = rte_ipv4_udptcp_cksum(ip, udp);
			}
			assert_int_equal(got, want);
			rte_pktmbuf_free(m);
		}
	}
	t_snap_clear();
	t_end();
}

static int
setup_env(void **state)
{
	(void)state;
	return t_env_setup("dp_test_sip", "0");
}

static int
teardown_env(void **state)
{
	(void)state;
	t_snap_clear();
	t_env_teardown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_sip_options_to_router_200),
		cmocka_unit_test(test_dp_sip_answer_port_follows_via),
		cmocka_unit_test(test_dp_sip_checks_answered),
		cmocka_unit_test(test_dp_sip_parse_errors_answered),
		cmocka_unit_test(test_dp_sip_long_user_matched_by_host),
		cmocka_unit_test(test_dp_sip_no_route_codes),
		cmocka_unit_test(test_dp_sip_redirect_contacts),
		cmocka_unit_test(test_dp_sip_redirect_retransmission_identical),
		cmocka_unit_test(test_dp_sip_redirect_stateless_uas),
		cmocka_unit_test(test_dp_sip_all_targets_down_503),
		cmocka_unit_test(test_dp_sip_burst_mixed),
		cmocka_unit_test(test_dp_sip_source_policy),
		cmocka_unit_test(test_dp_sip_redirect_udp_checksum),
		cmocka_unit_test(test_dp_sip_redirect_contact_widths),
		cmocka_unit_test(test_dp_sip_redirect_sixteen_contacts),
		cmocka_unit_test(test_dp_sip_redirect_to_tag_long_fields),
		cmocka_unit_test(test_dp_sip_redirect_contacts_bounded),
	};

	return cmocka_run_group_tests_name("dp_sip", tests, setup_env,
					   teardown_env);
}
