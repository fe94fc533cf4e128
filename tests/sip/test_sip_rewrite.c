/* SPDX-License-Identifier: MIT */
/*
 * test_sip_rewrite.c - unit tests of dataplane/sip/sip_rewrite.c.
 *
 * Every case parses its input from a guard-page buffer, builds edits,
 * applies them into a guard-page output of exactly the expected size and,
 * again, in place; both must give the expected bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sip.h>

#include "guard_buf.h"

#define TEST_BUF_MAX    8192u

struct rw_state {
	struct guard_buf *in;
	struct guard_buf *out;
};

typedef int rw_build_fn(struct sip_edits *ed, const struct sip_msg *msg,
			const struct sip_info *info);

static char zeros[TEST_BUF_MAX];
static char scratch[TEST_BUF_MAX];

static void
parse_ok(struct sip_msg *msg, struct sip_info *info, const char *buf,
	 uint32_t len)
{
	assert_int_equal(sip_parse(msg, buf, len), SIP_PERR_OK);
	memset(info, 0, sizeof(*info));
	assert_int_equal(sip_msg_check(msg, info), SIP_PERR_OK);
}

/*
 * Parse @p in, run @p build, and check that both sip_rw_apply() and
 * sip_rw_apply_inplace() give exactly @p exp, that one byte less of room
 * is -ENOSPC, and that a failed in-place apply leaves the buffer alone.
 */
static void
check_rw(struct rw_state *st, const char *in, size_t in_len,
	 rw_build_fn *build, const char *exp, size_t exp_len)
{
	struct sip_edits ed;
	struct sip_info info;
	struct sip_msg msg;
	uint32_t out_len = 0, cap;
	char *buf, *out;

	assert_true(in_len <= TEST_BUF_MAX && exp_len <= TEST_BUF_MAX);

	/* Into another buffer, flush against a guard page. */
	buf = guard_buf_put(st->in, in, in_len);
	parse_ok(&msg, &info, buf, (uint32_t)in_len);
	sip_edits_init(&ed);
	assert_int_equal(build(&ed, &msg, &info), 0);
	out = guard_buf_put(st->out, zeros, exp_len);
	assert_int_equal(sip_rw_apply(&ed, &msg, out, (uint32_t)exp_len,
				      &out_len), 0);
	assert_int_equal(out_len, exp_len);
	assert_memory_equal(out, exp, exp_len);
	if (exp_len != 0) {
		out = guard_buf_put(st->out, zeros, exp_len - 1);
		assert_int_equal(sip_rw_apply(&ed, &msg, out,
					      (uint32_t)exp_len - 1,
					      &out_len), -ENOSPC);
	}

	/* In place, with exactly the room the result needs. */
	cap = (uint32_t)(exp_len > in_len ? exp_len : in_len);
	memset(scratch, 'X', cap);
	memcpy(scratch, in, in_len);
	buf = guard_buf_put(st->in, scratch, cap);
	parse_ok(&msg, &info, buf, (uint32_t)in_len);
	sip_edits_init(&ed);
	assert_int_equal(build(&ed, &msg, &info), 0);
	assert_int_equal(sip_rw_apply_inplace(&ed, &msg, buf, cap, &out_len),
			 0);
	assert_int_equal(out_len, exp_len);
	assert_memory_equal(buf, exp, exp_len);

	if (exp_len > in_len) {
		buf = guard_buf_put(st->in, scratch, cap - 1);
		parse_ok(&msg, &info, buf, (uint32_t)in_len);
		sip_edits_init(&ed);
		assert_int_equal(build(&ed, &msg, &info), 0);
		assert_int_equal(sip_rw_apply_inplace(&ed, &msg, buf, cap - 1,
						      &out_len), -ENOSPC);
		assert_memory_equal(buf, scratch, cap - 1);
	}
}

#define CHECK_RW(st, in, build, exp) \
	check_rw((st), (in), sizeof(in) - 1, (build), (exp), sizeof(exp) - 1)

#define REQ_TAIL                                                        \
	"To: <sip:+15550100@edge.example>\r\n"                          \
	"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"            \
	"Call-ID: t1@192.0.2.10\r\n"                                    \
	"CSeq: 1 INVITE\r\n"                                            \
	"Content-Length: 0\r\n"                                         \
	"\r\n"

#define RESP_TAIL                                                       \
	"To: <sip:+15550100@edge.example>;tag=u1\r\n"                   \
	"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"            \
	"Call-ID: t1@192.0.2.10\r\n"                                    \
	"CSeq: 1 INVITE\r\n"                                            \
	"Content-Length: 0\r\n"                                         \
	"\r\n"

#define REQ_LINE        "INVITE sip:+15550100@edge.example SIP/2.0\r\n"
#define RESP_LINE       "SIP/2.0 200 OK\r\n"

static const struct span our_via =
	SPAN_LIT("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1");
static const struct span src_addr = SPAN_LIT("198.51.100.7");

/* ---- builders used by the cases ----------------------------------------- */

static int
build_push_via(struct sip_edits *ed, const struct sip_msg *msg,
	       const struct sip_info *info)
{
	(void)info;
	return sip_rw_push_via(ed, msg, our_via);
}

static int
build_stamp(struct sip_edits *ed, const struct sip_msg *msg,
	    const struct sip_info *info)
{
	return sip_rw_via_stamp(ed, msg, info, src_addr, 40000);
}

static int
build_stamp_received_only(struct sip_edits *ed, const struct sip_msg *msg,
			  const struct sip_info *info)
{
	return sip_rw_via_stamp(ed, msg, info, src_addr, 0);
}

static int
build_stamp_rport_only(struct sip_edits *ed, const struct sip_msg *msg,
		       const struct sip_info *info)
{
	return sip_rw_via_stamp(ed, msg, info, SPAN_NULL, 5062);
}

static int
build_pop_via(struct sip_edits *ed, const struct sip_msg *msg,
	      const struct sip_info *info)
{
	return sip_rw_pop_via(ed, msg, info);
}

static int
build_max_forwards(struct sip_edits *ed, const struct sip_msg *msg,
		   const struct sip_info *info)
{
	return sip_rw_max_forwards(ed, msg, info);
}

static int
build_record_route(struct sip_edits *ed, const struct sip_msg *msg,
		   const struct sip_info *info)
{
	(void)info;
	return sip_rw_record_route(ed, msg, SPAN_LIT("sip:edge.example;lr"));
}

static int
build_record_route_bracketed(struct sip_edits *ed, const struct sip_msg *msg,
			     const struct sip_info *info)
{
	(void)info;
	return sip_rw_record_route(ed, msg,
				   SPAN_LIT("<sip:edge.example;lr>;x=1"));
}

static int
build_ruri(struct sip_edits *ed, const struct sip_msg *msg,
	   const struct sip_info *info)
{
	(void)info;
	return sip_rw_ruri(ed, msg, SPAN_LIT("sip:+15550199@gw1.example:5080"));
}

static int
build_ruri_user(struct sip_edits *ed, const struct sip_msg *msg,
		const struct sip_info *info)
{
	return sip_rw_ruri_user(ed, msg, info, SPAN_LIT("+4930123456"));
}

static int
build_ruri_user_empty(struct sip_edits *ed, const struct sip_msg *msg,
		      const struct sip_info *info)
{
	return sip_rw_ruri_user(ed, msg, info, span_make("", 0));
}

static int
build_pop_route(struct sip_edits *ed, const struct sip_msg *msg,
		const struct sip_info *info)
{
	(void)info;
	return sip_rw_pop_route(ed, msg);
}

static int
build_pop_routes2(struct sip_edits *ed, const struct sip_msg *msg,
		  const struct sip_info *info)
{
	(void)info;
	return sip_rw_pop_routes(ed, msg, 2);
}

static int
build_nothing(struct sip_edits *ed, const struct sip_msg *msg,
	      const struct sip_info *info)
{
	(void)ed;
	(void)msg;
	(void)info;
	return 0;
}

/* What a forwarding proxy does to a request (DESIGN §3.3). */
static int
build_proxy(struct sip_edits *ed, const struct sip_msg *msg,
	    const struct sip_info *info)
{
	int rc;

	rc = sip_rw_push_via(ed, msg, our_via);
	if (rc == 0)
		rc = sip_rw_via_stamp(ed, msg, info, src_addr, 40000);
	if (rc == 0)
		rc = sip_rw_max_forwards(ed, msg, info);
	if (rc == 0)
		rc = sip_rw_record_route(ed, msg,
					 SPAN_LIT("sip:edge.example;lr"));
	if (rc == 0)
		rc = sip_rw_ruri_user(ed, msg, info, SPAN_LIT("+15550100"));
	return rc;
}

/* ---- Via push ----------------------------------------------------------- */

static void
test_sip_rewrite_push_via_above_first(void **state)
{
	static const char in[] =
		REQ_LINE
		"Max-Forwards: 70\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-t0\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Max-Forwards: 70\r\n"
		"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-t0\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_push_via, exp);
}

static void
test_sip_rewrite_push_via_compact_form(void **state)
{
	static const char in[] =
		REQ_LINE
		"v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1"
		", SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-t0\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1\r\n"
		"v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1"
		", SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-t0\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_push_via, exp);
}

/* ---- Via stamp ---------------------------------------------------------- */

static void
test_sip_rewrite_via_stamp_received_appended(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP client.example.org:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP client.example.org:5060;branch=z9hG4bK-t1"
		";received=198.51.100.7\r\n"
		REQ_TAIL;

	/* rport asked for but the client did not send ;rport: not added. */
	CHECK_RW(*state, in, build_stamp, exp);
}

static void
test_sip_rewrite_via_stamp_bare_rport_last(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK-t1;rport\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK-t1;rport=40000"
		";received=198.51.100.7\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_stamp, exp);
}

static void
test_sip_rewrite_via_stamp_bare_rport_middle(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;rport=40000;branch=z9hG4bK-t1"
		";received=198.51.100.7\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_stamp, exp);
}

static void
test_sip_rewrite_via_stamp_rport_with_value_replaced(void **state)
{
	/* RFC 3581 §3 wants rport bare: one a client gave a value gets the
	 * source port, where replies must go (the NAT binding). */
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;rport=4540;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;rport=40000;branch=z9hG4bK-t1"
		";received=198.51.100.7\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_stamp, exp);
}

static void
test_sip_rewrite_via_stamp_rport_zero_skips(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK-t1;rport\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK-t1;rport;received=198.51.100.7\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_stamp_received_only, exp);
}

static void
test_sip_rewrite_via_stamp_rport_only(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK-t1;RPort\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK-t1;RPort=5062\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_stamp_rport_only, exp);
}

static void
test_sip_rewrite_via_stamp_multi_value_line(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK-t1;rport "
		", SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-t0;rport\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK-t1;rport=40000"
		";received=198.51.100.7 , SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-t0;rport\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_stamp, exp);
}

static void
test_sip_rewrite_via_stamp_compact_folded(void **state)
{
	static const char in[] =
		REQ_LINE
		"v: SIP/2.0/UDP 10.1.1.1:4540\r\n"
		"\t;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"v: SIP/2.0/UDP 10.1.1.1:4540\r\n"
		"\t;branch=z9hG4bK-t1;received=198.51.100.7\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_stamp, exp);
}

static void
test_sip_rewrite_via_stamp_existing_received_replaced(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;received=10.9.9.9;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 10.1.1.1:4540;received=198.51.100.7;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_stamp, exp);
}

/* ---- Via pop ------------------------------------------------------------ */

static void
test_sip_rewrite_pop_via_single_line_removed(void **state)
{
	static const char in[] =
		RESP_LINE
		"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1;received=198.51.100.7\r\n"
		RESP_TAIL;
	static const char exp[] =
		RESP_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1;received=198.51.100.7\r\n"
		RESP_TAIL;

	CHECK_RW(*state, in, build_pop_via, exp);
}

static void
test_sip_rewrite_pop_via_multi_value_first_removed(void **state)
{
	static const char in[] =
		RESP_LINE
		"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1 "
		",  SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		RESP_TAIL;
	static const char exp[] =
		RESP_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		RESP_TAIL;

	CHECK_RW(*state, in, build_pop_via, exp);
}

static void
test_sip_rewrite_pop_via_folded_multi_value(void **state)
{
	static const char in[] =
		RESP_LINE
		"v: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1,\r\n"
		" SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		RESP_TAIL;
	static const char exp[] =
		RESP_LINE
		"v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		RESP_TAIL;

	CHECK_RW(*state, in, build_pop_via, exp);
}

static void
test_sip_rewrite_pop_via_folded_single_line_removed(void **state)
{
	static const char in[] =
		RESP_LINE
		"Via: SIP/2.0/UDP 203.0.113.1:5060\r\n"
		"  ;branch=z9hG4bK-e1\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		RESP_TAIL;
	static const char exp[] =
		RESP_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		RESP_TAIL;

	CHECK_RW(*state, in, build_pop_via, exp);
}

/* ---- Max-Forwards ------------------------------------------------------- */

static void
test_sip_rewrite_max_forwards_decremented(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Max-Forwards: 70\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Max-Forwards: 69\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_max_forwards, exp);
}

static void
test_sip_rewrite_max_forwards_shorter_number(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"max-forwards:10 \r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"max-forwards:9 \r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_max_forwards, exp);
}

static void
test_sip_rewrite_max_forwards_one_to_zero(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Max-Forwards: 1\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Max-Forwards: 0\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_max_forwards, exp);
}

static void
test_sip_rewrite_max_forwards_absent_inserted_after_last_via(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"To: <sip:+15550100@edge.example>\r\n"
		"v: SIP/2.0/UDP 192.0.2.9\r\n"
		" ;branch=z9hG4bK-t0\r\n"
		"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: t1@192.0.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"\r\n";
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"To: <sip:+15550100@edge.example>\r\n"
		"v: SIP/2.0/UDP 192.0.2.9\r\n"
		" ;branch=z9hG4bK-t0\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: t1@192.0.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"\r\n";

	CHECK_RW(*state, in, build_max_forwards, exp);
}

static void
test_sip_rewrite_max_forwards_zero_rejected(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Max-Forwards: 0\r\n"
		REQ_TAIL;
	struct rw_state *st = *state;
	struct sip_edits ed;
	struct sip_info info;
	struct sip_msg msg;
	const char *buf;

	buf = guard_buf_put(st->in, in, sizeof(in) - 1);
	parse_ok(&msg, &info, buf, sizeof(in) - 1);
	sip_edits_init(&ed);
	assert_int_equal(sip_rw_max_forwards(&ed, &msg, &info), -EINVAL);
	assert_int_equal(ed.n, 0);
}

/* ---- Record-Route ------------------------------------------------------- */

static void
test_sip_rewrite_record_route_before_existing(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Record-Route: <sip:p2.example.org;lr>, <sip:p1.example.org;lr>\r\n"
		"Record-Route: <sip:p0.example.org;lr>\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Record-Route: <sip:edge.example;lr>\r\n"
		"Record-Route: <sip:p2.example.org;lr>, <sip:p1.example.org;lr>\r\n"
		"Record-Route: <sip:p0.example.org;lr>\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_record_route, exp);
}

static void
test_sip_rewrite_record_route_absent_at_end(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"To: <sip:+15550100@edge.example>\r\n"
		"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: t1@192.0.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n"
		"Record-Route: <sip:edge.example;lr>\r\n"
		"\r\n";

	CHECK_RW(*state, in, build_record_route, exp);
}

static void
test_sip_rewrite_record_route_bracketed_as_is(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Record-Route: <sip:p1.example.org;lr>\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Record-Route: <sip:edge.example;lr>;x=1\r\n"
		"Record-Route: <sip:p1.example.org;lr>\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_record_route_bracketed, exp);
}

/* ---- Request-URI -------------------------------------------------------- */

static void
test_sip_rewrite_ruri_replaced(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		"INVITE sip:+15550199@gw1.example:5080 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_ruri, exp);
}

static void
test_sip_rewrite_ruri_user_password_kept(void **state)
{
	static const char in[] =
		"INVITE sip:5550100:secret@edge.example:5060;user=phone SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		"INVITE sip:+4930123456:secret@edge.example:5060;user=phone SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_ruri_user, exp);
}

static void
test_sip_rewrite_ruri_user_inserted_when_absent(void **state)
{
	static const char in[] =
		"INVITE sip:edge.example;transport=udp SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		"INVITE sip:+4930123456@edge.example;transport=udp SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_ruri_user, exp);
}

static void
test_sip_rewrite_ruri_user_tel(void **state)
{
	static const char in[] =
		"INVITE tel:+15550100;npdi SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		"INVITE tel:+4930123456;npdi SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_ruri_user, exp);
}

/* An empty user leaves no user part: user, password and '@' go. */
static void
test_sip_rewrite_ruri_user_empty(void **state)
{
	static const char in[] =
		"INVITE sip:5550100:secret@edge.example:5060;user=phone SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char exp[] =
		"INVITE sip:edge.example:5060;user=phone SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	static const char none[] =
		"INVITE sip:edge.example;transport=udp SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_ruri_user_empty, exp);
	CHECK_RW(*state, none, build_ruri_user_empty, none);
}

/* ---- Route pop ---------------------------------------------------------- */

static void
test_sip_rewrite_pop_route_line_removed(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Route: <sip:edge.example;lr>\r\n"
		"Route: <sip:next.example;lr>\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Route: <sip:next.example;lr>\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_pop_route, exp);
}

static void
test_sip_rewrite_pop_route_first_value_removed(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Route: \"a,b\" <sip:a,b@edge.example;lr>,<sip:next.example;lr>"
		", <sip:last.example;lr>\r\n"
		REQ_TAIL;
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Route: <sip:next.example;lr>, <sip:last.example;lr>\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_pop_route, exp);
}

static void
test_sip_rewrite_pop_route_absent_enoent(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	struct rw_state *st = *state;
	struct sip_edits ed;
	struct sip_info info;
	struct sip_msg msg;
	const char *buf;

	buf = guard_buf_put(st->in, in, sizeof(in) - 1);
	parse_ok(&msg, &info, buf, sizeof(in) - 1);
	sip_edits_init(&ed);
	assert_int_equal(sip_rw_pop_route(&ed, &msg), -ENOENT);
	assert_int_equal(ed.n, 0);
}

/* What sip_rw_pop_routes(2) leaves of the two messages below. */
static const char pop_routes_exp[] =
	REQ_LINE
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
	"Route: <sip:c.example;lr>\r\n"
	"Route: <sip:d.example;lr>\r\n"
	REQ_TAIL;

/* sip_rw_pop_routes(): two values off one line, the rest kept. */
static void
test_sip_rewrite_pop_routes_same_line(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Route: <sip:a.example;lr>, \"x,y\" <sip:b.example;lr>,"
		"<sip:c.example;lr>\r\n"
		"Route: <sip:d.example;lr>\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_pop_routes2, pop_routes_exp);
}

/* Over two lines (compact and empty values too): a line left with
 * nothing goes whole, the next one loses its first value. */
static void
test_sip_rewrite_pop_routes_two_lines(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Route: <sip:a.example;lr>,, \r\n"
		"Route: <sip:b.example;lr>, <sip:c.example;lr>\r\n"
		"Route: <sip:d.example;lr>\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_pop_routes2, pop_routes_exp);
}

/* Fewer values than asked: -ENOENT. */
static void
test_sip_rewrite_pop_routes_too_few(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"Route: <sip:a.example;lr>\r\n"
		REQ_TAIL;
	struct rw_state *st = *state;
	struct sip_edits ed;
	struct sip_info info;
	struct sip_msg msg;
	const char *buf;

	buf = guard_buf_put(st->in, in, sizeof(in) - 1);
	parse_ok(&msg, &info, buf, sizeof(in) - 1);
	sip_edits_init(&ed);
	assert_int_equal(sip_rw_pop_routes(&ed, &msg, 2), -ENOENT);
}

/* ---- combinations ------------------------------------------------------- */

static void
test_sip_rewrite_proxy_full_set(void **state)
{
	static const char in[] =
		"INVITE sip:5550100@edge.example;user=phone SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c1;rport\r\n"
		"Max-Forwards: 10\r\n"
		"To: <sip:5550100@edge.example>\r\n"
		"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: c1@192.0.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"X-Custom: a, b ;x=1\r\n"
		"Record-Route: <sip:p1.example.org;lr>\r\n"
		"Contact: <sip:alice@192.0.2.10:5060>\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 10\r\n"
		"\r\n"
		"v=0\r\n"
		"o=-\r\n";
	static const char exp[] =
		"INVITE sip:+15550100@edge.example;user=phone SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c1;rport=40000"
		";received=198.51.100.7\r\n"
		"Max-Forwards: 9\r\n"
		"To: <sip:5550100@edge.example>\r\n"
		"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: c1@192.0.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"X-Custom: a, b ;x=1\r\n"
		"Record-Route: <sip:edge.example;lr>\r\n"
		"Record-Route: <sip:p1.example.org;lr>\r\n"
		"Contact: <sip:alice@192.0.2.10:5060>\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 10\r\n"
		"\r\n"
		"v=0\r\n"
		"o=-\r\n";

	CHECK_RW(*state, in, build_proxy, exp);
}

/* No Max-Forwards, no Record-Route, two Via lines, trailing datagram bytes. */
static void
test_sip_rewrite_proxy_inserts_and_drops_trailing(void **state)
{
	static const char in[] =
		"OPTIONS sip:5550100@edge.example SIP/2.0\r\n"
		"v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c2;rport"
		", SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK-c1\r\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-c0\r\n"
		"t: <sip:5550100@edge.example>\r\n"
		"f: <sip:alice@example.org>;tag=t1\r\n"
		"i: c2@192.0.2.10\r\n"
		"CSeq: 7 OPTIONS\r\n"
		"X-Folded: one,\r\n"
		" two\r\n"
		"m: <sip:alice@192.0.2.10>;expires=60, <sip:alice@[2001:db8::9]>\r\n"
		"l: 4\r\n"
		"\r\n"
		"BODY"
		"trailing bytes of the datagram";
	static const char exp[] =
		"OPTIONS sip:+15550100@edge.example SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1\r\n"
		"v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c2;rport=40000"
		";received=198.51.100.7, SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK-c1\r\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-c0\r\n"
		"Max-Forwards: 70\r\n"
		"t: <sip:5550100@edge.example>\r\n"
		"f: <sip:alice@example.org>;tag=t1\r\n"
		"i: c2@192.0.2.10\r\n"
		"CSeq: 7 OPTIONS\r\n"
		"X-Folded: one,\r\n"
		" two\r\n"
		"m: <sip:alice@192.0.2.10>;expires=60, <sip:alice@[2001:db8::9]>\r\n"
		"l: 4\r\n"
		"Record-Route: <sip:edge.example;lr>\r\n"
		"\r\n"
		"BODY";

	CHECK_RW(*state, in, build_proxy, exp);
}

static void
test_sip_rewrite_no_edits_drops_trailing(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL
		"junk";
	static const char exp[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;

	CHECK_RW(*state, in, build_nothing, exp);
}

/* Loose routing: pop our Route, push Via, decrement: shrink and grow. */
static int
build_loose_route(struct sip_edits *ed, const struct sip_msg *msg,
		  const struct sip_info *info)
{
	int rc;

	rc = sip_rw_pop_route(ed, msg);
	if (rc == 0)
		rc = sip_rw_push_via(ed, msg, our_via);
	if (rc == 0)
		rc = sip_rw_max_forwards(ed, msg, info);
	return rc;
}

static void
test_sip_rewrite_loose_route_pop_and_push(void **state)
{
	static const char in[] =
		"BYE sip:bob@192.0.2.20:5060 SIP/2.0\r\n"
		"Route: <sip:edge.example;lr;ftag=t1>\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b1\r\n"
		"Max-Forwards: 100\r\n"
		"Route: <sip:p9.example.org;lr>\r\n"
		"To: <sip:bob@example.net>;tag=u1\r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: b1@192.0.2.10\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	static const char exp[] =
		"BYE sip:bob@192.0.2.20:5060 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b1\r\n"
		"Max-Forwards: 99\r\n"
		"Route: <sip:p9.example.org;lr>\r\n"
		"To: <sip:bob@example.net>;tag=u1\r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: b1@192.0.2.10\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";

	CHECK_RW(*state, in, build_loose_route, exp);
}

/* The same two edits, added in either order. */
static int
build_pop_then_mf(struct sip_edits *ed, const struct sip_msg *msg,
		  const struct sip_info *info)
{
	int rc = sip_rw_pop_route(ed, msg);

	return rc != 0 ? rc : sip_rw_max_forwards(ed, msg, info);
}

static int
build_mf_then_pop(struct sip_edits *ed, const struct sip_msg *msg,
		  const struct sip_info *info)
{
	int rc = sip_rw_max_forwards(ed, msg, info);

	return rc != 0 ? rc : sip_rw_pop_route(ed, msg);
}

/*
 * Max-Forwards inserted where the popped Route line starts (right after
 * the last Via): the insertion goes first whatever order the edits were
 * added in, in both apply functions.
 */
static void
test_sip_rewrite_insert_at_deleted_line_any_order(void **state)
{
	static const char in[] =
		"BYE sip:bob@192.0.2.20:5060 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b1\r\n"
		"Route: <sip:198.19.0.1;lr>\r\n"
		"To: <sip:bob@example.net>;tag=u1\r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: b1@192.0.2.10\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	static const char exp[] =
		"BYE sip:bob@192.0.2.20:5060 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b1\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:bob@example.net>;tag=u1\r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: b1@192.0.2.10\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";

	CHECK_RW(*state, in, build_pop_then_mf, exp);
	CHECK_RW(*state, in, build_mf_then_pop, exp);
}

/* ---- edit list and apply ------------------------------------------------ */

static void
fake_msg(struct sip_msg *msg, const char *buf, uint32_t msg_len)
{
	memset(msg, 0, sizeof(*msg));
	memset(msg->first, SIP_HDR_NONE, sizeof(msg->first));
	msg->buf = buf;
	msg->len = msg_len;
	msg->msg_len = msg_len;
}

static void
test_sip_rewrite_apply_equal_offsets_keep_order(void **state)
{
	static const char text[] = "0123456789";
	struct rw_state *st = *state;
	struct sip_edits ed;
	struct sip_msg msg;
	uint32_t out_len;
	char out[64], *buf;

	buf = guard_buf_put(st->in, text, sizeof(text) - 1);
	fake_msg(&msg, buf, sizeof(text) - 1);
	sip_edits_init(&ed);
	assert_int_equal(sip_edit_add(&ed, 5, 0, SPAN_LIT("c")), 0);
	assert_int_equal(sip_edit_add(&ed, 2, 1, SPAN_LIT("X")), 0);
	assert_int_equal(sip_edit_add(&ed, 5, 0, SPAN_LIT("d")), 0);
	assert_int_equal(sip_edit_add(&ed, 0, 0, SPAN_LIT("a")), 0);
	assert_int_equal(sip_edit_add(&ed, 5, 2, SPAN_LIT("e")), 0);
	assert_int_equal(sip_edit_add(&ed, 10, 0, SPAN_LIT("z")), 0);
	assert_int_equal(sip_rw_apply(&ed, &msg, out, sizeof(out), &out_len),
			 0);
	assert_int_equal(out_len, 13);
	assert_memory_equal(out, "a01X34cde789z", 13);
}

static void
test_sip_rewrite_apply_overlap_einval(void **state)
{
	static const char text[] = "0123456789";
	struct rw_state *st = *state;
	struct sip_edits ed;
	struct sip_msg msg;
	uint32_t out_len;
	char out[64], *buf;

	buf = guard_buf_put(st->in, text, sizeof(text) - 1);
	fake_msg(&msg, buf, sizeof(text) - 1);

	sip_edits_init(&ed);
	sip_edit_add(&ed, 2, 3, SPAN_NULL);
	sip_edit_add(&ed, 4, 1, SPAN_LIT("x"));
	assert_int_equal(sip_rw_apply(&ed, &msg, out, sizeof(out), &out_len),
			 -EINVAL);
	assert_int_equal(sip_rw_apply_inplace(&ed, &msg, buf, 10, &out_len),
			 -EINVAL);
	assert_memory_equal(buf, text, 10);

	/* A replacement, then an insertion at the same offset: no overlap,
	 * the insertion goes first (sip_edits_sort()). */
	sip_edits_init(&ed);
	sip_edit_add(&ed, 2, 3, SPAN_LIT("x"));
	sip_edit_add(&ed, 2, 0, SPAN_LIT("y"));
	assert_int_equal(sip_rw_apply(&ed, &msg, out, sizeof(out), &out_len),
			 0);
	assert_int_equal(out_len, 9);
	assert_memory_equal(out, "01yx56789", 9);
	/* Two replacements at one offset do overlap. */
	sip_edits_init(&ed);
	sip_edit_add(&ed, 2, 3, SPAN_LIT("x"));
	sip_edit_add(&ed, 2, 1, SPAN_LIT("y"));
	assert_int_equal(sip_rw_apply(&ed, &msg, out, sizeof(out), &out_len),
			 -EINVAL);

	/* Past the end of the framed message. */
	sip_edits_init(&ed);
	sip_edit_add(&ed, 8, 3, SPAN_NULL);
	assert_int_equal(sip_rw_apply(&ed, &msg, out, sizeof(out), &out_len),
			 -EINVAL);
	sip_edits_init(&ed);
	sip_edit_add(&ed, 11, 0, SPAN_LIT("x"));
	assert_int_equal(sip_rw_apply(&ed, &msg, out, sizeof(out), &out_len),
			 -EINVAL);
	sip_edits_init(&ed);
	sip_edit_add(&ed, 1, UINT32_MAX, SPAN_NULL);
	assert_int_equal(sip_rw_apply(&ed, &msg, out, sizeof(out), &out_len),
			 -EINVAL);
}

static void
test_sip_rewrite_apply_inplace_ins_in_buffer_einval(void **state)
{
	static const char text[] = "0123456789";
	struct rw_state *st = *state;
	struct sip_edits ed;
	struct sip_msg msg;
	uint32_t out_len;
	char *buf, *start;

	buf = guard_buf_put(st->in, text, sizeof(text) - 1);
	fake_msg(&msg, buf, sizeof(text) - 1);
	sip_edits_init(&ed);
	sip_edit_add(&ed, 0, 0, span_make(buf + 5, 2));
	assert_int_equal(sip_rw_apply_inplace(&ed, &msg, buf, 10, &out_len),
			 -EINVAL);
	assert_memory_equal(buf, text, 10);

	/* From the headroom sip_rw_apply_inplace_head() may write: -EINVAL;
	 * the same bytes are fine when they are not writable room. */
	memcpy(buf - 4, "ab", 2);
	sip_edits_init(&ed);
	sip_edit_add(&ed, 0, 0, span_make(buf - 4, 2));
	assert_int_equal(sip_rw_apply_inplace_head(&ed, &msg, buf, 8, 10,
						   &start, &out_len), -EINVAL);
	assert_memory_equal(buf, text, 10);
	assert_int_equal(sip_rw_apply_inplace_head(&ed, &msg, buf, 2, 12,
						   &start, &out_len), 0);
	assert_ptr_equal(start, buf - 2);
	assert_int_equal(out_len, 12);
	assert_memory_equal(start, "ab0123456789", 12);
}

static void
test_sip_rewrite_edit_list_full_enospc(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1;rport\r\n"
		"Max-Forwards: 70\r\n"
		REQ_TAIL;
	struct rw_state *st = *state;
	struct sip_edits ed;
	struct sip_info info;
	struct sip_msg msg;
	uint32_t out_len, i;
	const char *buf;
	char *out;

	buf = guard_buf_put(st->in, in, sizeof(in) - 1);
	parse_ok(&msg, &info, buf, sizeof(in) - 1);

	/* A builder adds all its edits or none. */
	sip_edits_init(&ed);
	for (i = 0; i < SIP_EDIT_MAX - 2; i++)
		assert_int_equal(sip_edit_add(&ed, 0, 0, SPAN_LIT("")), 0);
	assert_int_equal(sip_rw_push_via(&ed, &msg, our_via), -ENOSPC);
	assert_int_equal(ed.n, SIP_EDIT_MAX - 2);
	assert_int_equal(sip_rw_via_stamp(&ed, &msg, &info, src_addr, 40000),
			 -ENOSPC);
	assert_int_equal(ed.n, SIP_EDIT_MAX - 2);
	assert_int_equal(sip_rw_max_forwards(&ed, &msg, &info), 0);
	assert_int_equal(sip_edit_add(&ed, 0, 0, SPAN_LIT("")), 0);
	assert_int_equal(ed.n, SIP_EDIT_MAX);
	assert_int_equal(sip_edit_add(&ed, 0, 0, SPAN_LIT("")), -ENOSPC);
	assert_int_equal(sip_rw_record_route(&ed, &msg, SPAN_LIT("sip:e;lr")),
			 -ENOSPC);

	/* A list that lost an edit is never applied. */
	out = guard_buf_put(st->out, zeros, TEST_BUF_MAX);
	assert_int_equal(sip_rw_apply(&ed, &msg, out, TEST_BUF_MAX, &out_len),
			 -ENOSPC);

	/* Number scratch: four decrements fit, the fifth does not. */
	sip_edits_init(&ed);
	for (i = 0; i < 4; i++)
		assert_int_equal(sip_rw_max_forwards(&ed, &msg, &info), 0);
	assert_int_equal(sip_rw_max_forwards(&ed, &msg, &info), -ENOSPC);
	assert_int_equal(ed.n, 4);
}

static void
test_sip_rewrite_apply_out_too_small_enospc(void **state)
{
	static const char in[] =
		REQ_LINE
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		REQ_TAIL;
	struct rw_state *st = *state;
	struct sip_edits ed;
	struct sip_info info;
	struct sip_msg msg;
	uint32_t out_len, cap;
	const char *buf;
	char *out;

	buf = guard_buf_put(st->in, in, sizeof(in) - 1);
	parse_ok(&msg, &info, buf, sizeof(in) - 1);
	sip_edits_init(&ed);
	assert_int_equal(build_proxy(&ed, &msg, &info), 0);
	for (cap = 0; cap < 1024; cap++) {
		int rc;

		out = guard_buf_put(st->out, zeros, cap);
		rc = sip_rw_apply(&ed, &msg, out, cap, &out_len);
		if (rc == 0) {
			assert_int_equal(out_len, cap);
			break;
		}
		assert_int_equal(rc, -ENOSPC);
	}
	assert_true(cap < 1024);
	assert_true(cap > sizeof(in) - 1);
}

/* Deterministic generator for the differential test. */
static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/*
 * Random non-overlapping edit lists, added in random order: the in-place
 * result must equal the out-of-buffer one, and both a simple reference.
 */
static void
test_sip_rewrite_apply_inplace_matches_random(void **state)
{
	static const char *pool[] = { "", "a", "bc", "def", "ghijklmnop",
		"Record-Route: <sip:edge.example;lr>\r\n" };
	struct rw_state *st = *state;
	static char text[2048], ref[2048], out[2048];
	uint32_t seed = 12345, iter, i, n, off, ref_len, out_len, cap, head;
	uint32_t nmoved = 0;
	struct sip_edit e[SIP_EDIT_MAX];
	uint8_t order[SIP_EDIT_MAX];
	struct sip_edits ed;
	struct sip_msg msg;
	char *buf, *start;
	bool grows;

	for (iter = 0; iter < 2000; iter++) {
		uint32_t len = 1 + lcg(&seed) % 300;

		for (i = 0; i < len; i++)
			text[i] = (char)('A' + lcg(&seed) % 26);
		n = lcg(&seed) % (SIP_EDIT_MAX + 1);
		off = 0;
		ref_len = 0;
		for (i = 0; i < n; i++) {
			uint32_t gap = lcg(&seed) % 20, del;

			/* Strictly increasing offsets: order is unambiguous. */
			if (i > 0 && gap == 0 && e[i - 1].del == 0)
				gap = 1;
			if (off + gap > len)
				break;
			off += gap;
			del = lcg(&seed) % 12;
			if (del > len - off)
				del = len - off;
			e[i].off = off;
			e[i].del = del;
			e[i].ins = span_make(pool[lcg(&seed) % 6], 0);
			e[i].ins.len = (uint32_t)strlen(e[i].ins.ptr);
			off += del;
		}
		n = i;

		/* Reference. */
		off = 0;
		for (i = 0; i < n; i++) {
			memcpy(ref + ref_len, text + off, e[i].off - off);
			ref_len += e[i].off - off;
			memcpy(ref + ref_len, e[i].ins.ptr, e[i].ins.len);
			ref_len += e[i].ins.len;
			off = e[i].off + e[i].del;
		}
		memcpy(ref + ref_len, text + off, len - off);
		ref_len += len - off;

		for (i = 0; i < n; i++)
			order[i] = (uint8_t)i;
		for (i = n; i > 1; i--) {
			uint32_t j = lcg(&seed) % i;
			uint8_t t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		sip_edits_init(&ed);
		for (i = 0; i < n; i++)
			assert_int_equal(sip_edit_add(&ed, e[order[i]].off,
						      e[order[i]].del,
						      e[order[i]].ins), 0);

		cap = ref_len > len ? ref_len : len;
		memset(text + len, '#', cap - len);
		buf = guard_buf_put(st->in, text, cap);
		fake_msg(&msg, buf, len);
		assert_int_equal(sip_rw_apply(&ed, &msg, out, sizeof(out),
					      &out_len), 0);
		assert_int_equal(out_len, ref_len);
		assert_memory_equal(out, ref, ref_len);
		assert_int_equal(sip_rw_apply_inplace(&ed, &msg, buf, cap,
						      &out_len), 0);
		assert_int_equal(out_len, ref_len);
		assert_memory_equal(buf, ref, ref_len);

		/* With headroom: when the growth fits it, the start moves
		 * left, the end stays and no room after the message is
		 * needed; otherwise as without. */
		head = lcg(&seed) % 80;
		grows = ref_len > len && ref_len - len <= head;
		buf = guard_buf_put(st->in, text, grows ? len : cap);
		memset(buf - head, '@', head);
		fake_msg(&msg, buf, len);
		assert_int_equal(sip_rw_apply_inplace_head(&ed, &msg, buf, head,
							   grows ? len : cap,
							   &start, &out_len),
				 0);
		assert_ptr_equal(start, grows ? buf - (ref_len - len) : buf);
		assert_int_equal(out_len, ref_len);
		assert_memory_equal(start, ref, ref_len);
		nmoved += grows;
	}
	assert_true(nmoved > 200);
}

/*
 * One edit at a varying offset, so that one kept segment of every length
 * up to 200 moves by every shift from -40 to +40 (the inline moves of up
 * to 128 bytes and memmove() beyond), in place and into headroom, exactly
 * as out of place.
 */
static void
test_sip_rewrite_apply_inplace_every_move(void **state)
{
	static const char ins[] = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
	struct rw_state *st = *state;
	static char text[512], ref[512];
	uint32_t len, k, out_len, ref_len, cap, head;
	struct sip_edits ed;
	struct sip_msg msg;
	char *buf, *start;
	int shift;

	for (len = 1; len <= 200; len++) {
		for (k = 0; k < len + 60; k++)
			text[k] = (char)('a' + (len * 7 + k) % 26);
		for (shift = -40; shift <= 40; shift++) {
			uint32_t del = shift < 0 ? (uint32_t)-shift : 0;
			uint32_t add = shift > 0 ? (uint32_t)shift : 0;

			if (del > len)
				continue;
			/* The edit at offset 0 moves the rest by shift. */
			sip_edits_init(&ed);
			assert_int_equal(sip_edit_add(&ed, 0, del,
						      span_make(ins, add)), 0);
			memcpy(ref, ins, add);
			memcpy(ref + add, text + del, len - del);
			ref_len = len - del + add;
			for (head = 0; head <= 40; head += 40) {
				cap = ref_len > len ? ref_len : len;
				buf = guard_buf_put(st->in, text, cap);
				fake_msg(&msg, buf, len);
				assert_int_equal(sip_rw_apply_inplace_head(&ed,
					&msg, buf, head, cap, &start,
					&out_len), 0);
				assert_int_equal(out_len, ref_len);
				assert_memory_equal(start, ref, ref_len);
			}
		}
	}
}

/* Every builder at once: only the edits that apply are kept. */
static int
build_everything(struct sip_edits *ed, const struct sip_msg *msg,
		 const struct sip_info *info)
{
	sip_rw_pop_route(ed, msg);
	sip_rw_push_via(ed, msg, our_via);
	sip_rw_via_stamp(ed, msg, info, src_addr, 40000);
	sip_rw_max_forwards(ed, msg, info);
	sip_rw_record_route(ed, msg, SPAN_LIT("sip:edge.example;lr"));
	sip_rw_ruri_user(ed, msg, info, SPAN_LIT("+15550100"));
	return 0;
}

/*
 * Randomly mutated requests: whatever parses and checks must rewrite
 * without reading outside the datagram, and in place exactly as out of
 * place.
 */
static void
test_sip_rewrite_mutated_inputs_inplace_matches(void **state)
{
	static const char base[] =
		"INVITE sip:5550100@edge.example;user=phone SIP/2.0\r\n"
		"Route: <sip:edge.example;lr>, <sip:p2.example;lr>\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c1;rport\r\n"
		"v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-c0, SIP/2.0/UDP h\r\n"
		"Max-Forwards: 10\r\n"
		"To: <sip:5550100@edge.example>\r\n"
		"From: \"A, b\" <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: c1@192.0.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Record-Route: <sip:p1.example.org;lr>\r\n"
		"Content-Length: 3\r\n"
		"\r\n"
		"abc";
	static const char alphabet[] = ",;\"<>= \t\r\n:@a1";
	struct rw_state *st = *state;
	static char text[sizeof(base) + 1024], out[2048];
	uint32_t seed = 777, iter, len, out_len, out2_len, cap, k, nok = 0;
	struct sip_edits ed;
	struct sip_info info;
	struct sip_msg msg;
	char *buf;
	int rc;

	for (iter = 0; iter < 20000; iter++) {
		len = sizeof(base) - 1;
		memcpy(text, base, len);
		for (k = 1 + lcg(&seed) % 3; k > 0; k--)
			text[lcg(&seed) % len] =
				alphabet[lcg(&seed) % (sizeof(alphabet) - 1)];

		buf = guard_buf_put(st->in, text, len);
		if (sip_parse(&msg, buf, len) != SIP_PERR_OK)
			continue;
		memset(&info, 0, sizeof(info));
		if (sip_msg_check(&msg, &info) != SIP_PERR_OK)
			continue;
		sip_edits_init(&ed);
		build_everything(&ed, &msg, &info);
		rc = sip_rw_apply(&ed, &msg, out, sizeof(out), &out_len);
		assert_int_equal(rc, 0);

		cap = out_len > len ? out_len : len;
		memset(text + len, '#', cap - len);
		buf = guard_buf_put(st->in, text, cap);
		assert_int_equal(sip_parse(&msg, buf, len), SIP_PERR_OK);
		memset(&info, 0, sizeof(info));
		assert_int_equal(sip_msg_check(&msg, &info), SIP_PERR_OK);
		sip_edits_init(&ed);
		build_everything(&ed, &msg, &info);
		assert_int_equal(sip_rw_apply_inplace(&ed, &msg, buf, cap,
						      &out2_len), 0);
		assert_int_equal(out2_len, out_len);
		assert_memory_equal(buf, out, out_len);
		nok++;
	}
	/* The mutations must leave enough valid messages to mean something. */
	assert_true(nok > 1000);
}

static int
setup_guard(void **state)
{
	static struct rw_state st;

	st.in = guard_buf_new(TEST_BUF_MAX);
	st.out = guard_buf_new(TEST_BUF_MAX);
	if (st.in == NULL || st.out == NULL)
		return -1;
	*state = &st;
	return 0;
}

static int
teardown_guard(void **state)
{
	struct rw_state *st = *state;

	guard_buf_free(st->in);
	guard_buf_free(st->out);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sip_rewrite_push_via_above_first),
		cmocka_unit_test(test_sip_rewrite_push_via_compact_form),
		cmocka_unit_test(test_sip_rewrite_via_stamp_received_appended),
		cmocka_unit_test(test_sip_rewrite_via_stamp_bare_rport_last),
		cmocka_unit_test(test_sip_rewrite_via_stamp_bare_rport_middle),
		cmocka_unit_test(test_sip_rewrite_via_stamp_rport_with_value_replaced),
		cmocka_unit_test(test_sip_rewrite_via_stamp_rport_zero_skips),
		cmocka_unit_test(test_sip_rewrite_via_stamp_rport_only),
		cmocka_unit_test(test_sip_rewrite_via_stamp_multi_value_line),
		cmocka_unit_test(test_sip_rewrite_via_stamp_compact_folded),
		cmocka_unit_test(test_sip_rewrite_via_stamp_existing_received_replaced),
		cmocka_unit_test(test_sip_rewrite_pop_via_single_line_removed),
		cmocka_unit_test(test_sip_rewrite_pop_via_multi_value_first_removed),
		cmocka_unit_test(test_sip_rewrite_pop_via_folded_multi_value),
		cmocka_unit_test(test_sip_rewrite_pop_via_folded_single_line_removed),
		cmocka_unit_test(test_sip_rewrite_max_forwards_decremented),
		cmocka_unit_test(test_sip_rewrite_max_forwards_shorter_number),
		cmocka_unit_test(test_sip_rewrite_max_forwards_one_to_zero),
		cmocka_unit_test(test_sip_rewrite_max_forwards_absent_inserted_after_last_via),
		cmocka_unit_test(test_sip_rewrite_max_forwards_zero_rejected),
		cmocka_unit_test(test_sip_rewrite_record_route_before_existing),
		cmocka_unit_test(test_sip_rewrite_record_route_absent_at_end),
		cmocka_unit_test(test_sip_rewrite_record_route_bracketed_as_is),
		cmocka_unit_test(test_sip_rewrite_ruri_replaced),
		cmocka_unit_test(test_sip_rewrite_ruri_user_password_kept),
		cmocka_unit_test(test_sip_rewrite_ruri_user_inserted_when_absent),
		cmocka_unit_test(test_sip_rewrite_ruri_user_tel),
		cmocka_unit_test(test_sip_rewrite_ruri_user_empty),
		cmocka_unit_test(test_sip_rewrite_pop_route_line_removed),
		cmocka_unit_test(test_sip_rewrite_pop_route_first_value_removed),
		cmocka_unit_test(test_sip_rewrite_pop_route_absent_enoent),
		cmocka_unit_test(test_sip_rewrite_pop_routes_same_line),
		cmocka_unit_test(test_sip_rewrite_pop_routes_two_lines),
		cmocka_unit_test(test_sip_rewrite_pop_routes_too_few),
		cmocka_unit_test(test_sip_rewrite_proxy_full_set),
		cmocka_unit_test(test_sip_rewrite_proxy_inserts_and_drops_trailing),
		cmocka_unit_test(test_sip_rewrite_no_edits_drops_trailing),
		cmocka_unit_test(test_sip_rewrite_loose_route_pop_and_push),
		cmocka_unit_test(test_sip_rewrite_insert_at_deleted_line_any_order),
		cmocka_unit_test(test_sip_rewrite_apply_equal_offsets_keep_order),
		cmocka_unit_test(test_sip_rewrite_apply_overlap_einval),
		cmocka_unit_test(test_sip_rewrite_apply_inplace_ins_in_buffer_einval),
		cmocka_unit_test(test_sip_rewrite_edit_list_full_enospc),
		cmocka_unit_test(test_sip_rewrite_apply_out_too_small_enospc),
		cmocka_unit_test(test_sip_rewrite_apply_inplace_matches_random),
		cmocka_unit_test(test_sip_rewrite_apply_inplace_every_move),
		cmocka_unit_test(test_sip_rewrite_mutated_inputs_inplace_matches),
	};

	return cmocka_run_group_tests_name("sip_rewrite", tests,
					   setup_guard, teardown_guard);
}
