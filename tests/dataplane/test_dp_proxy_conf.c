/* SPDX-License-Identifier: MIT */
/*
 * test_dp_proxy_conf.c - the RFC 4475 and RFC 5118 torture messages
 * through the router in proxy mode, in process.
 *
 * Each row of tests/conformance/rfc_expect.tsv names a message and the
 * outcome a proxy must produce. Here every message is sent from the peer
 * (fragmented when larger than the MTU) to a router whose only rule is a
 * default forward to 198.19.0.3:5060, and:
 *   route    -> forwarded (to the target, a Route or the Request-URI of an
 *               in-dialog request), every unknown header line and the body
 *               byte-identical, the result parsing again; or, when the
 *               next hop is a host name (no DNS per packet), 503 and the
 *               counter, or when it is loopback (mpart01's Route), a
 *               group or one of ours, 403 and proxy_bad_dst; an ACK is
 *               never answered;
 *   accept   -> a response without our Via: dropped and counted;
 *   drop     -> nothing sent;
 *   NNN      -> an answer with that code (none for an ACK).
 * No crash, and every mbuf is back in its pool after each message.
 *
 * usage: test_dp_proxy_conf [CONFORMANCE_DIR [EXPECT_TSV]]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include <sip.h>

#include "dp_test.h"

#define MAX_MSG         T_MAX_DGRAM

static const char t_csv[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"all,default,,forward,198.19.0.3:5060,,,,\n";

static const char *t_dir = CONFORMANCE_DIR;
static unsigned int t_forwarded, t_answered, t_dropped;

static const uint8_t t_v6_10[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };

static uint8_t t_msg[MAX_MSG];
static size_t t_msg_len;
static uint8_t t_out[MAX_MSG];
static size_t t_out_len;

/* Unknown header lines and the body of the input are in the output. */
static void
t_check_forwarded(const struct t_conf_row *r)
{
	static struct sip_msg in, out;
	unsigned int i;

	assert_int_equal(sip_parse(&in, (const char *)t_msg,
				   (uint32_t)t_msg_len), SIP_PERR_OK);
	for (i = 0; i < in.nhdr; i++) {
		const struct sip_hdr *h = &in.hdr[i];

		if (h->id != SIP_HDR_OTHER)
			continue;
		if (t_memmem(t_out, t_out_len, t_msg + h->off,
			     h->line_len) == NULL)
			fail_msg("%s: unknown header line %u not kept", r->name,
				 i);
	}
	if (in.body_len != 0 &&
	    t_memmem(t_out, t_out_len, t_msg + in.body_off,
		     in.body_len) == NULL)
		fail_msg("%s: body changed", r->name);
	assert_int_equal(sip_parse(&out, (const char *)t_out,
				   (uint32_t)t_out_len), SIP_PERR_OK);
	assert_int_equal(out.msg_len, t_out_len);
	assert_true(t_memmem(t_out, t_out_len, "Via: SIP/2.0/UDP 192.0.2.1:5060"
			     ";branch=z9hG4bK", 46) != NULL ||
		    t_memmem(t_out, t_out_len, "Via: SIP/2.0/UDP [2001:db8::1]"
			     ":5060;branch=z9hG4bK", 50) != NULL);
}

static void
test_dp_proxy_conf_row(void **state)
{
	const struct t_conf_row *r = *state;
	uint8_t dst[4];
	uint16_t dport = 0;
	int sent, code, is_ack;

	t_msg_len = t_conf_read(r, t_dir, SRC_CONF_DIR, t_msg, sizeof(t_msg));

	t_begin();
	t_env.conf.mode = DP_MODE_PROXY;
	t_send_frag4(t_msg, t_msg_len);
	sent = t_collect_datagram(t_out, sizeof(t_out), &t_out_len, dst,
				  &dport, 1);
	is_ack = t_msg_len > 4 && memcmp(t_msg, "ACK ", 4) == 0;

	if (strncmp(r->outcome, "route", 5) == 0 && sent &&
	    t_conf_code(t_out, t_out_len) < 0) {
		t_check_forwarded(r);
		t_forwarded++;
	} else if (strncmp(r->outcome, "route", 5) == 0 && sent &&
		   t_conf_code(t_out, t_out_len) == 503 &&
		   t_cnt(DP_CNT_PROXY_NOT_IP) == 1) {
		t_answered++;
	} else if (strncmp(r->outcome, "route", 5) == 0 && sent &&
		   t_conf_code(t_out, t_out_len) == 403 &&
		   t_cnt(DP_CNT_PROXY_BAD_DST) == 1) {
		t_answered++;
	} else if (strncmp(r->outcome, "route", 5) == 0 && sent &&
		   t_code_in(r->outcome, t_conf_code(t_out, t_out_len))) {
		t_answered++;
	} else if (strcmp(r->outcome, "route") == 0 && !sent && is_ack) {
		t_dropped++;
	} else if (strcmp(r->outcome, "accept") == 0 && !sent) {
		assert_int_equal(t_cnt(DP_CNT_PROXY_FOREIGN_VIA), 1);
		t_dropped++;
	} else if (strcmp(r->outcome, "drop") == 0 && !sent) {
		t_dropped++;
	} else if (r->outcome[0] >= '1' && r->outcome[0] <= '6' && sent &&
		   t_code_in(r->outcome, t_conf_code(t_out, t_out_len))) {
		t_answered++;
	} else if (r->outcome[0] >= '1' && r->outcome[0] <= '6' && !sent &&
		   is_ack) {
		t_dropped++;
	} else {
		code = sent ? t_conf_code(t_out, t_out_len) : 0;
		fail_msg("%s: expected %s, got %s (code %d, %zu bytes)",
			 r->name, r->outcome, sent ? "a datagram" : "nothing",
			 code, sent ? t_out_len : 0);
	}
	t_end();
}

static int
t_group_setup(void **state)
{
	const struct rte_ether_addr gw = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x77, 0xfe } };

	(void)state;
	if (t_env_setup("test_dp_proxy_conf", "0") != 0)
		return -1;
	t_begin();
	t_snap_csv(t_csv, 1);
	t_resolve(t_ip4_gw, &gw);
	t_resolve(t_ip4_peer, &t_mac_peer);
	/* In-dialog IPv6 next hops of the RFC 5118 messages. */
	t_resolve6(t_v6_10, &gw);
	return 0;
}

static int
t_group_teardown(void **state)
{
	(void)state;
	printf("proxy conformance: %u forwarded, %u answered, %u dropped\n",
	       t_forwarded, t_answered, t_dropped);
	t_snap_clear();
	t_env_teardown();
	return 0;
}

int
main(int argc, char **argv)
{
	return t_conf_main(argc, argv, "dp_proxy_conf", &t_dir, EXPECT_TSV,
			   test_dp_proxy_conf_row, t_group_setup,
			   t_group_teardown);
}
