/* SPDX-License-Identifier: MIT */
/*
 * test_dp_conf.c - the RFC 4475 and RFC 5118 torture messages through the
 * router in redirect mode (the default), in process.
 *
 * Each row of tests/conformance/rfc_expect.tsv names a message and the
 * outcome a proxy must produce; a redirect server produces the same
 * checks' answers and, where a proxy would route, an answer of its own.
 * Every message is sent from the peer (in IPv4 fragments when larger than
 * the MTU) to a router whose only rule is a default redirect to
 * 198.19.0.3:5060, and:
 *   route    -> an answer back to the peer: the 302 with the target's
 *               Contact, or what the redirect mode answers instead (200
 *               to CANCEL, 481 in a dialog); nothing for an ACK;
 *   accept   -> a response from outside: dropped and counted;
 *   drop     -> nothing sent;
 *   NNN      -> an answer with that code (none for an ACK).
 * Every answer parses, carries a To-tag, and goes to the peer's address
 * at the port RFC 3261 §18.2.2 names (the top Via's, or the source port
 * with rport or when the top Via does not parse); no
 * crash; every mbuf is back in its pool after each message (t_end()).
 *
 * usage: test_dp_conf [CONFORMANCE_DIR [EXPECT_TSV]]
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
	"all,default,,redirect,198.19.0.3:5060,,,,\n";

static const char *t_dir = CONFORMANCE_DIR;
static unsigned int t_redirected, t_answered, t_dropped;

static uint8_t t_msg[MAX_MSG];
static size_t t_msg_len;
static uint8_t t_out[MAX_MSG];
static size_t t_out_len;

/* Every answer is a well-formed response with a To-tag. */
static void
t_check_answer(const struct t_conf_row *r, const uint8_t dst[4],
	       uint16_t dport)
{
	static struct sip_msg msg;
	struct sip_value_iter it;
	struct sip_info info;
	struct sip_via via;
	struct span v;
	uint16_t want = 5062;           /* the source port */

	/* RFC 3261 §18.2.2: a request without rport is answered at its top
	 * Via's sent-by port (5060 when it names none), also when another
	 * of its fields is bad, as long as that Via parses. */
	(void)sip_parse(&msg, (const char *)t_msg, (uint32_t)t_msg_len);
	if (sip_msg_hdr(&msg, SIP_HDR_VIA) != NULL) {
		sip_values_init(&it, &msg, SIP_HDR_VIA);
		if (sip_values_next(&it, &v) == 1 && v.len != 0 &&
		    sip_via_parse(&via, v) == SIP_PERR_OK &&
		    span_is_null(via.rport))
			want = via.port != 0 ? via.port : 5060;
	}
	assert_memory_equal(dst, t_ip4_peer, 4);
	assert_int_equal(dport, want);
	if (sip_parse(&msg, (const char *)t_out, (uint32_t)t_out_len) !=
	    SIP_PERR_OK)
		fail_msg("%s: the answer does not parse", r->name);
	assert_false(msg.is_request);
	assert_int_equal(msg.msg_len, t_out_len);
	/* Every answer carries a To-tag (RFC 3261 §8.2.6.2). */
	if (sip_msg_check(&msg, &info) == SIP_PERR_OK &&
	    span_is_null(info.to.tag))
		fail_msg("%s: answer without a To-tag", r->name);
}

static void
test_dp_conf_row(void **state)
{
	const struct t_conf_row *r = *state;
	uint8_t dst[4];
	uint16_t dport = 0;
	int sent, code, is_ack;

	t_msg_len = t_conf_read(r, t_dir, SRC_CONF_DIR, t_msg, sizeof(t_msg));

	t_begin();
	t_send_frag4(t_msg, t_msg_len);
	sent = t_collect_datagram(t_out, sizeof(t_out), &t_out_len, dst,
				  &dport, 0);
	is_ack = t_msg_len > 4 && memcmp(t_msg, "ACK ", 4) == 0;
	code = sent ? t_conf_code(t_out, t_out_len) : 0;
	if (sent)
		t_check_answer(r, dst, dport);

	if (strncmp(r->outcome, "route", 5) == 0 && sent && code == 302) {
		if (t_memmem(t_out, t_out_len,
			     "Contact: <sip:", 14) == NULL ||
		    t_memmem(t_out, t_out_len, "@198.19.0.3:5060>;q=1.0\r\n",
			     25) == NULL)
			if (t_memmem(t_out, t_out_len,
				     "Contact: <sip:198.19.0.3:5060>;q=1.0\r\n",
				     38) == NULL)
				fail_msg("%s: 302 without the target's Contact",
					 r->name);
		t_redirected++;
	} else if (strncmp(r->outcome, "route", 5) == 0 && sent &&
		   (code == 481 || code == 200 || t_code_in(r->outcome, code))) {
		t_answered++;
	} else if (strncmp(r->outcome, "route", 5) == 0 && !sent && is_ack) {
		assert_int_equal(t_cnt(DP_CNT_SIP_ACK_ABSORBED), 1);
		t_dropped++;
	} else if (strcmp(r->outcome, "accept") == 0 && !sent) {
		assert_int_equal(t_cnt(DP_CNT_SIP_RESP_DROP), 1);
		t_dropped++;
	} else if (strcmp(r->outcome, "drop") == 0 && !sent) {
		assert_int_equal(t_cnt(DP_CNT_SIP_PARSE_DROP), 1);
		t_dropped++;
	} else if (r->outcome[0] >= '1' && r->outcome[0] <= '6' && sent &&
		   t_code_in(r->outcome, code)) {
		t_answered++;
	} else if (r->outcome[0] >= '1' && r->outcome[0] <= '6' && !sent &&
		   is_ack) {
		t_dropped++;
	} else {
		fail_msg("%s: expected %s, got %s (code %d, %zu bytes)",
			 r->name, r->outcome, sent ? "a datagram" : "nothing",
			 code, sent ? t_out_len : 0);
	}
	t_end();
}

static int
t_group_setup(void **state)
{
	(void)state;
	if (t_env_setup("test_dp_conf", "0") != 0)
		return -1;
	t_begin();
	t_snap_csv(t_csv, 1);
	return 0;
}

static int
t_group_teardown(void **state)
{
	(void)state;
	printf("redirect conformance: %u redirected, %u answered otherwise, "
	       "%u dropped\n", t_redirected, t_answered, t_dropped);
	t_snap_clear();
	t_env_teardown();
	return 0;
}

int
main(int argc, char **argv)
{
	return t_conf_main(argc, argv, "dp_conf", &t_dir, EXPECT_TSV, test_dp_conf_row,
			   t_group_setup, t_group_teardown);
}
