/* SPDX-License-Identifier: MIT */
/*
 * test_sip_resp.c - unit tests of dataplane/sip/sip_resp.c: reason
 * phrases, locally built responses (byte-exact), deterministic To-tags.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <hash.h>
#include <sip.h>

#include "guard_buf.h"

#define TEST_BUF_MAX    8192u

struct resp_state {
	struct guard_buf *in;
	struct guard_buf *out;
};

static char zeros[TEST_BUF_MAX];

static const struct hash_key key1 = {
	.k0 = 0x0706050403020100ULL, .k1 = 0x0f0e0d0c0b0a0908ULL,
};
static const struct hash_key key2 = { .k0 = 1, .k1 = 2 };

#define VIA_LINES                                                       \
	"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1"            \
	", SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-x\r\n"                  \
	"Max-Forwards: 69\r\n"                                          \
	"v: SIP/2.0/UDP 192.0.2.10:5060\r\n"                            \
	" ;branch=z9hG4bK-t1;received=198.51.100.7\r\n"

#define VIA_COPIED                                                      \
	"Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK-e1"            \
	", SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-x\r\n"                  \
	"v: SIP/2.0/UDP 192.0.2.10:5060\r\n"                            \
	" ;branch=z9hG4bK-t1;received=198.51.100.7\r\n"

static const char invite[] =
	"INVITE sip:+15550100@edge.example SIP/2.0\r\n"
	VIA_LINES
	"To: \"Bob\" <sip:+15550100@edge.example>\r\n"
	"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"
	"i: r1@192.0.2.10\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@192.0.2.10>\r\n"
	"X-Unknown: stays out\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 4\r\n"
	"\r\n"
	"v=0\n";

#define COPIED_TAIL                                                     \
	"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"            \
	"To: \"Bob\" <sip:+15550100@edge.example>;tag=0123456789abcdef\r\n" \
	"i: r1@192.0.2.10\r\n"                                          \
	"CSeq: 314159 INVITE\r\n"

static const struct span tag = SPAN_LIT("0123456789abcdef");

static void
parse_req(struct resp_state *st, const char *text, size_t len,
	  struct sip_msg *msg, struct sip_info *info)
{
	const char *buf = guard_buf_put(st->in, text, len);

	assert_int_equal(sip_parse(msg, buf, (uint32_t)len), SIP_PERR_OK);
	memset(info, 0, sizeof(*info));
	assert_int_equal(sip_msg_check(msg, info), SIP_PERR_OK);
}

/*
 * Build into an output of exactly the expected size, flush against a
 * guard page, and check every smaller capacity fails with -ENOSPC.
 */
static void
check_resp(struct resp_state *st, const struct sip_msg *msg,
	   const struct sip_info *info, const struct sip_resp *r,
	   const char *exp, size_t exp_len)
{
	uint32_t out_len = 0, cap;
	char *out;

	out = guard_buf_put(st->out, zeros, exp_len);
	assert_int_equal(sip_resp_build(msg, info, r, out, (uint32_t)exp_len,
					&out_len), 0);
	assert_int_equal(out_len, exp_len);
	assert_memory_equal(out, exp, exp_len);

	for (cap = 0; cap < exp_len; cap++) {
		out = guard_buf_put(st->out, zeros, cap);
		assert_int_equal(sip_resp_build(msg, info, r, out, cap,
						&out_len), -ENOSPC);
	}
}

#define CHECK_RESP(st, msg, info, r, exp) \
	check_resp((st), (msg), (info), (r), (exp), sizeof(exp) - 1)

/* ---- reason phrases ----------------------------------------------------- */

static void
expect_phrase(uint16_t code, const char *text)
{
	struct span s = sip_reason_phrase(code);

	assert_non_null(s.ptr);
	assert_int_equal(s.len, strlen(text));
	assert_memory_equal(s.ptr, text, s.len);
}

static void
test_sip_resp_reason_phrase_table(void **state)
{
	(void)state;
	expect_phrase(100, "Trying");
	expect_phrase(180, "Ringing");
	expect_phrase(200, "OK");
	expect_phrase(302, "Moved Temporarily");
	expect_phrase(400, "Bad Request");
	expect_phrase(404, "Not Found");
	expect_phrase(408, "Request Timeout");
	expect_phrase(413, "Request Entity Too Large");
	expect_phrase(414, "Request-URI Too Long");
	expect_phrase(416, "Unsupported URI Scheme");
	expect_phrase(420, "Bad Extension");
	expect_phrase(421, "Extension Required");
	expect_phrase(422, "Session Interval Too Small");
	expect_phrase(423, "Interval Too Brief");
	expect_phrase(429, "Provide Referrer Identity");
	expect_phrase(433, "Anonymity Disallowed");
	expect_phrase(480, "Temporarily Unavailable");
	expect_phrase(481, "Call/Transaction Does Not Exist");
	expect_phrase(482, "Loop Detected");
	expect_phrase(483, "Too Many Hops");
	expect_phrase(484, "Address Incomplete");
	expect_phrase(485, "Ambiguous");
	expect_phrase(486, "Busy Here");
	expect_phrase(487, "Request Terminated");
	expect_phrase(488, "Not Acceptable Here");
	expect_phrase(489, "Bad Event");
	expect_phrase(491, "Request Pending");
	expect_phrase(493, "Undecipherable");
	expect_phrase(494, "Security Agreement Required");
	expect_phrase(500, "Server Internal Error");
	expect_phrase(501, "Not Implemented");
	expect_phrase(503, "Service Unavailable");
	expect_phrase(505, "Version Not Supported");
	expect_phrase(513, "Message Too Large");
	expect_phrase(580, "Precondition Failure");
	expect_phrase(600, "Busy Everywhere");
	expect_phrase(603, "Decline");
	expect_phrase(604, "Does Not Exist Anywhere");
	expect_phrase(606, "Not Acceptable");
}

static void
test_sip_resp_reason_phrase_unknown_empty(void **state)
{
	(void)state;
	expect_phrase(0, "");
	expect_phrase(299, "");
	expect_phrase(490, "");
	expect_phrase(492, "");
	expect_phrase(699, "");
	expect_phrase(65535, "");
}

/* ---- building ----------------------------------------------------------- */

static void
test_sip_resp_build_404_copies_fields_adds_tag(void **state)
{
	static const char exp[] =
		"SIP/2.0 404 Not Found\r\n"
		VIA_COPIED
		COPIED_TAIL
		"Server: sipedge\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_resp r = {
		.code = 404, .to_tag = tag, .server = SPAN_LIT("sipedge"),
	};
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, invite, sizeof(invite) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

static void
test_sip_resp_build_to_tag_kept_when_present(void **state)
{
	static const char req[] =
		"BYE sip:bob@192.0.2.20 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b1\r\n"
		"Max-Forwards: 70\r\n"
		"To: <sip:bob@example.net>;TAG=u1 \r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: b1@192.0.2.10\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	static const char exp[] =
		"SIP/2.0 481 Call/Transaction Does Not Exist\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b1\r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"To: <sip:bob@example.net>;TAG=u1 \r\n"
		"Call-ID: b1@192.0.2.10\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_resp r = { .code = 481, .to_tag = tag };
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, req, sizeof(req) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

/* A request with bare-LF line ends gets CRLF ones, the To-tag before the
 * line end; the length computed ahead is exact (CHECK_RESP). */
static void
test_sip_resp_build_bare_lf_made_crlf(void **state)
{
	static const char req[] =
		"BYE sip:bob@192.0.2.20 SIP/2.0\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b2\n"
		"v: SIP/2.0/UDP 192.0.2.9\r\n"
		"Max-Forwards: 70\n"
		"To: <sip:bob@example.net>\n"
		"From: <sip:alice@example.org>;tag=t1\n"
		"Call-ID: b2@192.0.2.10\n"
		"CSeq: 2 BYE\n"
		"Content-Length: 0\n"
		"\n";
	static const char exp[] =
		"SIP/2.0 481 Call/Transaction Does Not Exist\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b2\r\n"
		"v: SIP/2.0/UDP 192.0.2.9\r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"To: <sip:bob@example.net>;tag=0123456789abcdef\r\n"
		"Call-ID: b2@192.0.2.10\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_resp r = { .code = 481, .to_tag = tag };
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, req, sizeof(req) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

/*
 * A lone CR in a copied line (a quoted display name, a Via parameter,
 * CSeq's LWS) becomes SP in the answer: a receiver that ends lines at a
 * lone CR would otherwise read "Contact: <sip:evil@...>" as a header of
 * our 302. Folds (CRLF SP) stay.
 */
static void
test_sip_resp_build_lone_cr_not_copied(void **state)
{
	static const char req[] =
		"INVITE sip:bob@192.0.2.20 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c1;x=\"a\rb\"\r\n"
		"Max-Forwards: 70\r\n"
		"To: \"b\rContact: <sip:evil@203.0.113.9>\" <sip:bob@example.net>\r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: c1@192.0.2.10\r\n"
		"CSeq: 1\r\n INVITE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	static const char exp[] =
		"SIP/2.0 302 Moved Temporarily\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c1;x=\"a b\"\r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"To: \"b Contact: <sip:evil@203.0.113.9>\" <sip:bob@example.net>"
		";tag=0123456789abcdef\r\n"
		"Call-ID: c1@192.0.2.10\r\n"
		"CSeq: 1\r\n INVITE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_resp r = { .code = 302, .to_tag = tag };
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, req, sizeof(req) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

static void
test_sip_resp_build_to_tag_bare_addr_spec_kept(void **state)
{
	static const char req[] =
		"BYE sip:bob@192.0.2.20 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b1\r\n"
		"t: sip:bob@example.net ; tag = u1\r\n"
		"f: sip:alice@example.org;tag=t1\r\n"
		"i: b1@192.0.2.10\r\n"
		"CSeq: 2 BYE\r\n"
		"\r\n";
	static const char exp[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-b1\r\n"
		"f: sip:alice@example.org;tag=t1\r\n"
		"t: sip:bob@example.net ; tag = u1\r\n"
		"i: b1@192.0.2.10\r\n"
		"CSeq: 2 BYE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_resp r = { .code = 200, .to_tag = tag };
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, req, sizeof(req) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

/* ";tag=" inside <> is a URI parameter, not the dialog tag. */
static void
test_sip_resp_build_to_tag_added_uri_param_and_lws(void **state)
{
	static const char req[] =
		"OPTIONS sip:edge.example SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-o1\r\n"
		"To: \"x;tag=1\" <sip:edge.example;tag=2>;foo=bar  \r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"Call-ID: o1@192.0.2.10\r\n"
		"CSeq: 9 OPTIONS\r\n"
		"\r\n";
	static const char exp[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-o1\r\n"
		"From: <sip:alice@example.org>;tag=t1\r\n"
		"To: \"x;tag=1\" <sip:edge.example;tag=2>;foo=bar;tag=0123456789abcdef  \r\n"
		"Call-ID: o1@192.0.2.10\r\n"
		"CSeq: 9 OPTIONS\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_resp r = { .code = 200, .to_tag = tag };
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, req, sizeof(req) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

static void
test_sip_resp_build_302_three_contacts(void **state)
{
	static const char exp[] =
		"SIP/2.0 302 Moved Temporarily\r\n"
		VIA_COPIED
		COPIED_TAIL
		"Contact: <sip:+15550100@gw1.example:5060>;q=1.0;expires=60\r\n"
		"Contact: <sip:+15550100@gw2.example;user=phone>;q=0.85\r\n"
		"Contact: <sip:+15550100@[2001:db8::1]>;q=0.001;expires=0\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	static const struct sip_contact_out c[] = {
		{ SPAN_LIT("sip:+15550100@gw1.example:5060"), 1000, 60 },
		{ SPAN_LIT("sip:+15550100@gw2.example;user=phone"), 850,
		  SIP_EXPIRES_NONE },
		{ SPAN_LIT("sip:+15550100@[2001:db8::1]"), 1, 0 },
	};
	struct sip_resp r = {
		.code = 302, .to_tag = tag, .contacts = c, .ncontacts = 3,
	};
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, invite, sizeof(invite) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

static void
test_sip_resp_build_q_values_formatted(void **state)
{
	static const char exp[] =
		"SIP/2.0 300 Multiple Choices\r\n"
		VIA_COPIED
		COPIED_TAIL
		"Contact: <sip:a@x>;q=0.0\r\n"
		"Contact: <sip:a@x>;q=0.01\r\n"
		"Contact: <sip:a@x>;q=0.1\r\n"
		"Contact: <sip:a@x>;q=0.5\r\n"
		"Contact: <sip:a@x>;q=0.9\r\n"
		"Contact: <sip:a@x>;q=0.999\r\n"
		"Contact: <sip:a@x>;q=0.123\r\n"
		"Contact: <sip:a@x>\r\n"
		"Contact: <sip:a@x>;expires=4294967294\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	static const struct sip_contact_out c[] = {
		{ SPAN_LIT("sip:a@x"), 0, SIP_EXPIRES_NONE },
		{ SPAN_LIT("sip:a@x"), 10, SIP_EXPIRES_NONE },
		{ SPAN_LIT("sip:a@x"), 100, SIP_EXPIRES_NONE },
		{ SPAN_LIT("sip:a@x"), 500, SIP_EXPIRES_NONE },
		{ SPAN_LIT("sip:a@x"), 900, SIP_EXPIRES_NONE },
		{ SPAN_LIT("sip:a@x"), 999, SIP_EXPIRES_NONE },
		{ SPAN_LIT("sip:a@x"), 123, SIP_EXPIRES_NONE },
		{ SPAN_LIT("sip:a@x"), SIP_Q_NONE, SIP_EXPIRES_NONE },
		{ SPAN_LIT("sip:a@x"), SIP_Q_NONE, 4294967294u },
	};
	struct sip_resp r = {
		.code = 300, .to_tag = tag, .contacts = c, .ncontacts = 9,
	};
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, invite, sizeof(invite) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

static void
test_sip_resp_build_420_unsupported(void **state)
{
	static const char exp[] =
		"SIP/2.0 420 Bad Extension\r\n"
		VIA_COPIED
		COPIED_TAIL
		"Unsupported: foo, bar\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_resp r = {
		.code = 420, .to_tag = tag,
		.unsupported = SPAN_LIT("foo, bar"),
	};
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, invite, sizeof(invite) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

static void
test_sip_resp_build_503_retry_after(void **state)
{
	static const char exp[] =
		"SIP/2.0 503 Service Unavailable\r\n"
		VIA_COPIED
		COPIED_TAIL
		"Retry-After: 30\r\n"
		"Server: sipedge\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_resp r = {
		.code = 503, .to_tag = tag, .retry_after = 30,
		.server = SPAN_LIT("sipedge"),
	};
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, invite, sizeof(invite) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

static void
test_sip_resp_build_all_fields_order(void **state)
{
	static const char exp[] =
		"SIP/2.0 422 Too Small Here\r\n"
		VIA_COPIED
		COPIED_TAIL
		"Contact: <sip:a@x>\r\n"
		"Unsupported: timer\r\n"
		"Retry-After: 5\r\n"
		"Min-SE: 90\r\n"
		"Server: sipedge/0.1\r\n"
		"Warning: 399 edge \"x\"\r\n"
		"Allow: INVITE, ACK\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	static const struct sip_contact_out c[] = {
		{ SPAN_LIT("sip:a@x"), SIP_Q_NONE, SIP_EXPIRES_NONE },
	};
	struct sip_resp r = {
		.code = 422, .reason = SPAN_LIT("Too Small Here"),
		.to_tag = tag, .contacts = c, .ncontacts = 1,
		.unsupported = SPAN_LIT("timer"), .retry_after = 5,
		.min_se = 90, .server = SPAN_LIT("sipedge/0.1"),
		.extra = SPAN_LIT("Warning: 399 edge \"x\"\r\n"
				  "Allow: INVITE, ACK\r\n"),
	};
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, invite, sizeof(invite) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

static void
test_sip_resp_build_no_tag_requested(void **state)
{
	static const char exp[] =
		"SIP/2.0 100 Trying\r\n"
		VIA_COPIED
		"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"
		"To: \"Bob\" <sip:+15550100@edge.example>\r\n"
		"i: r1@192.0.2.10\r\n"
		"CSeq: 314159 INVITE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_resp r = { .code = 100 };
	struct sip_info info;
	struct sip_msg msg;

	parse_req(*state, invite, sizeof(invite) - 1, &msg, &info);
	CHECK_RESP(*state, &msg, &info, &r, exp);
}

/* A 400 for a request without From: what exists is copied. */
static void
test_sip_resp_build_missing_header_skipped(void **state)
{
	static const char req[] =
		"INVITE sip:+15550100@edge.example SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"To: <sip:+15550100@edge.example>\r\n"
		"Call-ID: t1@192.0.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"\r\n";
	static const char exp[] =
		"SIP/2.0 400 Bad Request\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"To: <sip:+15550100@edge.example>;tag=0123456789abcdef\r\n"
		"Call-ID: t1@192.0.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct resp_state *st = *state;
	struct sip_resp r = { .code = 400, .to_tag = tag };
	struct sip_msg msg;
	const char *buf;

	buf = guard_buf_put(st->in, req, sizeof(req) - 1);
	assert_int_equal(sip_parse(&msg, buf, sizeof(req) - 1), SIP_PERR_OK);
	CHECK_RESP(st, &msg, NULL, &r, exp);
}

/* Build the 200 for @p req with the stamp asked; compare with @p exp. */
static void
check_stamp(struct resp_state *st, const char *req, const char *exp,
	    const char *received, uint16_t rport)
{
	struct sip_resp r = { .code = 200 };
	struct sip_info info;
	struct sip_msg msg;

	if (received != NULL)
		r.via_received = span_make(received, strlen(received));
	r.via_rport = rport;
	parse_req(st, req, strlen(req), &msg, &info);
	check_resp(st, &msg, &info, &r, exp, strlen(exp));
}

#define STAMP_REQ(via1)                                                 \
	"OPTIONS sip:edge.example SIP/2.0\r\n"                          \
	via1                                                            \
	"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-2\r\n"                \
	"From: <sip:a@example.org>;tag=f\r\nTo: <sip:edge.example>;tag=t\r\n" \
	"Call-ID: s1\r\nCSeq: 1 OPTIONS\r\n\r\n"
#define STAMP_RESP(via1)                                                \
	"SIP/2.0 200 OK\r\n"                                            \
	via1                                                            \
	"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-2\r\n"                \
	"From: <sip:a@example.org>;tag=f\r\nTo: <sip:edge.example>;tag=t\r\n" \
	"Call-ID: s1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"

/*
 * RFC 3581 §4, RFC 3261 §18.2.1: the top Via of a local answer is the
 * request's as the transport stamped it: a bare rport filled, received
 * appended after the top value (also when more values follow on its
 * line) or its value replaced; lower Vias untouched.
 */
static void
test_sip_resp_build_via_stamped(void **state)
{
	struct resp_state *st = *state;
	struct sip_resp r = { .code = 200 };
	struct sip_info info;
	struct sip_msg msg;
	uint32_t len;
	char out[512];

	check_stamp(st,
		STAMP_REQ("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport\r\n"),
		STAMP_RESP("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport=40000;received=198.51.100.7\r\n"),
		"198.51.100.7", 40000);
	/* rport in the middle, a second value on the same line */
	check_stamp(st,
		STAMP_REQ("v: SIP/2.0/UDP h.example;rport;branch=z9hG4bK-1 , SIP/2.0/UDP 10.0.0.9\r\n"),
		STAMP_RESP("v: SIP/2.0/UDP h.example;rport=5062;branch=z9hG4bK-1;received=192.0.2.2 , SIP/2.0/UDP 10.0.0.9\r\n"),
		"192.0.2.2", 5062);
	/* received already there (before rport): its value replaced */
	check_stamp(st,
		STAMP_REQ("Via: SIP/2.0/UDP h.example;received=10.1.1.1;rport;branch=z9hG4bK-1\r\n"),
		STAMP_RESP("Via: SIP/2.0/UDP h.example;received=2001:db8::2;rport=7;branch=z9hG4bK-1\r\n"),
		"2001:db8::2", 7);
	/* rport with a value (RFC 3581 §3 wants it bare): the source port
	 * replaces it, so the answer reaches the NAT binding */
	check_stamp(st,
		STAMP_REQ("Via: SIP/2.0/UDP h.example;branch=z9hG4bK-1;rport=9\r\n"),
		STAMP_RESP("Via: SIP/2.0/UDP h.example;branch=z9hG4bK-1;rport=40312;received=192.0.2.2\r\n"),
		"192.0.2.2", 40312);
	/* no rport asked */
	check_stamp(st,
		STAMP_REQ("Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\r\n"),
		STAMP_RESP("Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\r\n"),
		NULL, 0);
	/* the same request without its sip_info: copied as it is */
	r.via_received = SPAN_LIT("192.0.2.2");
	r.via_rport = 5062;
	parse_req(st, STAMP_REQ("Via: SIP/2.0/UDP h;branch=z9hG4bK-1;rport\r\n"),
		  strlen(STAMP_REQ("Via: SIP/2.0/UDP h;branch=z9hG4bK-1;rport\r\n")),
		  &msg, &info);
	assert_int_equal(sip_resp_build(&msg, NULL, &r, out, sizeof(out), &len),
			 0);
	assert_non_null(strstr(out, "branch=z9hG4bK-1;rport\r\n"));
}

/* No Via: nothing would carry the response; refused. */
static void
test_sip_resp_build_no_via_refused(void **state)
{
	static const char req[] =
		"INVITE sip:+15550100@edge.example SIP/2.0\r\n"
		"To: <sip:+15550100@edge.example>\r\n"
		"Call-ID: t1@192.0.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"\r\n";
	struct resp_state *st = *state;
	struct sip_resp r = { .code = 400, .to_tag = tag };
	struct sip_msg msg;
	uint32_t len;
	char out[512];
	const char *buf;

	buf = guard_buf_put(st->in, req, sizeof(req) - 1);
	assert_int_equal(sip_parse(&msg, buf, sizeof(req) - 1), SIP_PERR_OK);
	assert_int_equal(sip_resp_build(&msg, NULL, &r, out, sizeof(out), &len),
			 -EBADMSG);
}

static void
test_sip_resp_build_bad_args_einval(void **state)
{
	static const struct sip_contact_out c[] = {
		{ SPAN_LIT("sip:a@x"), 1001, SIP_EXPIRES_NONE },
	};
	struct resp_state *st = *state;
	struct sip_resp r = { .code = 99 };
	struct sip_info info;
	struct sip_msg msg;
	uint32_t out_len;
	char *out;

	parse_req(st, invite, sizeof(invite) - 1, &msg, &info);
	out = guard_buf_put(st->out, zeros, 1024);
	assert_int_equal(sip_resp_build(&msg, &info, &r, out, 1024, &out_len),
			 -EINVAL);
	r.code = 700;
	assert_int_equal(sip_resp_build(&msg, &info, &r, out, 1024, &out_len),
			 -EINVAL);
	r.code = 302;
	r.contacts = c;
	r.ncontacts = 1;
	assert_int_equal(sip_resp_build(&msg, &info, &r, out, 1024, &out_len),
			 -EINVAL);
}

/* ---- To-tags ------------------------------------------------------------ */

static void
info_fake(struct sip_info *info, const char *call_id, const char *from_tag,
	  uint32_t cseq, const char *branch)
{
	memset(info, 0, sizeof(*info));
	info->call_id = span_make(call_id, strlen(call_id));
	info->from.tag = from_tag != NULL ?
			 span_make(from_tag, strlen(from_tag)) : SPAN_NULL;
	info->cseq.num = cseq;
	info->via.branch = span_make(branch, strlen(branch));
}

/* The flow hash a caller has for the Call-ID (the key is another). */
static uint64_t
flow_of(const struct sip_info *info)
{
	return siphash13(&key2, info->call_id.ptr, info->call_id.len);
}

/* sip_to_tag() with the Call-ID's flow hash. */
static void
tag_of(const struct sip_info *info, const struct hash_key *key, char out[16])
{
	sip_to_tag(info, key, flow_of(info), out);
}

/* The documented construction, computed with the one-shot siphash13(). */
static uint64_t
tag_reference(const struct sip_info *info, const struct hash_key *key)
{
	static unsigned char buf[4096];
	uint64_t flow = flow_of(info);
	size_t n = 16, i;

	for (i = 0; i < 8; i++)
		buf[i] = (unsigned char)(flow >> (8 * i));
	for (i = 0; i < 4; i++)
		buf[8 + i] = (unsigned char)(info->cseq.num >> (8 * i));
	buf[12] = (unsigned char)info->from.tag.len;
	buf[13] = (unsigned char)(info->from.tag.len >> 8);
	buf[14] = (unsigned char)info->via.branch.len;
	buf[15] = (unsigned char)(info->via.branch.len >> 8);
	if (info->from.tag.len != 0)
		memcpy(buf + n, info->from.tag.ptr, info->from.tag.len);
	n += info->from.tag.len;
	memcpy(buf + n, info->via.branch.ptr, info->via.branch.len);
	n += info->via.branch.len;
	return siphash13(key, buf, (uint32_t)n);
}

static void
test_sip_resp_to_tag_hex_and_matches_reference(void **state)
{
	static const char hex[] = "0123456789abcdef";
	static char call_id[80];
	struct sip_info info;
	uint64_t ref;
	char out[16];
	uint32_t len, i;

	(void)state;
	/* Every length mod 8 for the incremental hash's tail handling. */
	for (len = 0; len < sizeof(call_id) - 1; len++) {
		memset(call_id, 0, sizeof(call_id));
		for (i = 0; i < len; i++)
			call_id[i] = (char)('a' + (i * 7 + len) % 26);
		info_fake(&info, call_id, len % 3 == 0 ? NULL : "t1",
			  len * 1000003u, "z9hG4bK-t1");
		tag_of(&info, &key1, out);
		ref = tag_reference(&info, &key1);
		for (i = 0; i < 16; i++)
			assert_int_equal(out[i], hex[(ref >> (60 - 4 * i)) & 0xf]);
	}
}

/*
 * Long fields, every length of the branch mod 8 (the streamed hash's
 * tail): the tag is the same function.
 */
static void
test_sip_resp_to_tag_long_fields_match_reference(void **state)
{
	static const char hex[] = "0123456789abcdef";
	static char call_id[1200], branch[64];
	struct sip_info info;
	uint64_t ref;
	char out[16];
	uint32_t len, i;

	(void)state;
	for (i = 0; i < sizeof(branch) - 1; i++)
		branch[i] = (char)('A' + i % 26);
	for (len = 250; len < sizeof(call_id) - 1;
	     len += len < 420 ? 1 : 97) {
		memset(call_id, 0, sizeof(call_id));
		for (i = 0; i < len; i++)
			call_id[i] = (char)('a' + (i * 5 + len) % 26);
		info_fake(&info, call_id, "tag-77", len, branch);
		tag_of(&info, &key1, out);
		ref = tag_reference(&info, &key1);
		for (i = 0; i < 16; i++)
			assert_int_equal(out[i], hex[(ref >> (60 - 4 * i)) & 0xf]);
	}
}

static void
test_sip_resp_to_tag_differs_by_field_and_key(void **state)
{
	struct sip_info info;
	char a[16], b[16];

	(void)state;
	info_fake(&info, "c1@host", "t1", 1, "z9hG4bK-1");
	tag_of(&info, &key1, a);
	tag_of(&info, &key1, b);
	assert_memory_equal(a, b, 16);

	info_fake(&info, "c2@host", "t1", 1, "z9hG4bK-1");
	tag_of(&info, &key1, b);
	assert_memory_not_equal(a, b, 16);

	info_fake(&info, "c1@host", "t2", 1, "z9hG4bK-1");
	tag_of(&info, &key1, b);
	assert_memory_not_equal(a, b, 16);

	info_fake(&info, "c1@host", "t1", 2, "z9hG4bK-1");
	tag_of(&info, &key1, b);
	assert_memory_not_equal(a, b, 16);

	info_fake(&info, "c1@host", "t1", 1, "z9hG4bK-2");
	tag_of(&info, &key1, b);
	assert_memory_not_equal(a, b, 16);

	info_fake(&info, "c1@host", "t1", 1, "z9hG4bK-1");
	tag_of(&info, &key2, b);
	assert_memory_not_equal(a, b, 16);
}

/* Moving bytes from one field to the next must change the tag. */
static void
test_sip_resp_to_tag_fields_do_not_alias(void **state)
{
	struct sip_info info;
	char a[16], b[16];

	(void)state;
	info_fake(&info, "ab", "c", 1, "z9hG4bK-1");
	tag_of(&info, &key1, a);
	info_fake(&info, "a", "bc", 1, "z9hG4bK-1");
	tag_of(&info, &key1, b);
	assert_memory_not_equal(a, b, 16);

	info_fake(&info, "a", "", 1, "z9hG4bK-1");
	tag_of(&info, &key1, a);
	info_fake(&info, "a", NULL, 1, "z9hG4bK-1");
	tag_of(&info, &key1, b);
	assert_memory_equal(a, b, 16);  /* absent and empty tag are alike */
}

/* A retransmission parsed at another address gets the same answer. */
static void
test_sip_resp_to_tag_stable_for_retransmission(void **state)
{
	struct resp_state *st = *state;
	static char first[2048];
	struct sip_info info;
	struct sip_msg msg;
	struct sip_resp r = { .code = 404 };
	char t1[16], t2[16], *out;
	uint32_t len1, len2;

	parse_req(st, invite, sizeof(invite) - 1, &msg, &info);
	tag_of(&info, &key1, t1);
	r.to_tag = span_make(t1, 16);
	out = guard_buf_put(st->out, zeros, sizeof(first));
	assert_int_equal(sip_resp_build(&msg, &info, &r, out, sizeof(first),
					&len1), 0);
	memcpy(first, out, len1);

	/* Same bytes, placed elsewhere (the guard buffer moves them). */
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(sip_parse(&msg, invite, sizeof(invite) - 1),
			 SIP_PERR_OK);
	memset(&info, 0, sizeof(info));
	assert_int_equal(sip_msg_check(&msg, &info), SIP_PERR_OK);
	tag_of(&info, &key1, t2);
	assert_memory_equal(t1, t2, 16);
	r.to_tag = span_make(t2, 16);
	out = guard_buf_put(st->out, zeros, sizeof(first));
	assert_int_equal(sip_resp_build(&msg, &info, &r, out, sizeof(first),
					&len2), 0);
	assert_int_equal(len1, len2);
	assert_memory_equal(first, out, len1);
}

static void
test_sip_resp_to_tag_differs_for_call_id(void **state)
{
	static const char other[] =
		"INVITE sip:+15550100@edge.example SIP/2.0\r\n"
		VIA_LINES
		"To: \"Bob\" <sip:+15550100@edge.example>\r\n"
		"From: \"Alice\" <sip:alice@example.org>;tag=t1\r\n"
		"i: r2@192.0.2.10\r\n"
		"CSeq: 314159 INVITE\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct resp_state *st = *state;
	struct sip_info info;
	struct sip_msg msg;
	char t1[16], t2[16];

	parse_req(st, invite, sizeof(invite) - 1, &msg, &info);
	tag_of(&info, &key1, t1);
	parse_req(st, other, sizeof(other) - 1, &msg, &info);
	tag_of(&info, &key1, t2);
	assert_memory_not_equal(t1, t2, 16);
}

/* Deterministic generator for the mutation test. */
static uint32_t
lcg_next(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/*
 * Randomly mutated requests that only sip_parse() accepted (a 400 is built
 * for those too): the builder stays inside its output and is exact.
 */
static void
test_sip_resp_build_mutated_requests_bounded(void **state)
{
	static const char alphabet[] = ",;\"<>= \t\r\n:@a";
	static const struct sip_contact_out c[] = {
		{ SPAN_LIT("sip:a@x"), 500, 60 },
	};
	struct resp_state *st = *state;
	static char text[sizeof(invite)], ref[4096];
	struct sip_resp r = {
		.code = 302, .to_tag = tag, .contacts = c, .ncontacts = 1,
	};
	uint32_t seed = 4242, iter, k, len, ref_len, out_len, nok = 0;
	struct sip_msg msg;
	char *buf, *out;

	for (iter = 0; iter < 20000; iter++) {
		len = sizeof(invite) - 1;
		memcpy(text, invite, len);
		for (k = 1 + lcg_next(&seed) % 3; k > 0; k--)
			text[lcg_next(&seed) % len] =
				alphabet[lcg_next(&seed) % (sizeof(alphabet) - 1)];
		buf = guard_buf_put(st->in, text, len);
		if (sip_parse(&msg, buf, len) != SIP_PERR_OK)
			continue;
		if (sip_msg_hdr(&msg, SIP_HDR_VIA) == NULL) {
			/* nothing would carry the answer: refused */
			assert_int_equal(sip_resp_build(&msg, NULL, &r, ref,
							sizeof(ref), &ref_len),
					 -EBADMSG);
			continue;
		}
		assert_int_equal(sip_resp_build(&msg, NULL, &r, ref, sizeof(ref),
						&ref_len), 0);
		out = guard_buf_put(st->out, zeros, ref_len);
		assert_int_equal(sip_resp_build(&msg, NULL, &r, out, ref_len,
						&out_len), 0);
		assert_int_equal(out_len, ref_len);
		assert_memory_equal(out, ref, ref_len);
		out = guard_buf_put(st->out, zeros, ref_len - 1);
		assert_int_equal(sip_resp_build(&msg, NULL, &r, out,
						ref_len - 1, &out_len), -ENOSPC);
		nok++;
	}
	assert_true(nok > 1000);
}

static int
setup_guard(void **state)
{
	static struct resp_state st;

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
	struct resp_state *st = *state;

	guard_buf_free(st->in);
	guard_buf_free(st->out);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sip_resp_reason_phrase_table),
		cmocka_unit_test(test_sip_resp_reason_phrase_unknown_empty),
		cmocka_unit_test(test_sip_resp_build_bare_lf_made_crlf),
		cmocka_unit_test(test_sip_resp_build_lone_cr_not_copied),
		cmocka_unit_test(test_sip_resp_build_404_copies_fields_adds_tag),
		cmocka_unit_test(test_sip_resp_build_to_tag_kept_when_present),
		cmocka_unit_test(test_sip_resp_build_via_stamped),
		cmocka_unit_test(test_sip_resp_build_no_via_refused),
		cmocka_unit_test(test_sip_resp_build_to_tag_bare_addr_spec_kept),
		cmocka_unit_test(test_sip_resp_build_to_tag_added_uri_param_and_lws),
		cmocka_unit_test(test_sip_resp_build_302_three_contacts),
		cmocka_unit_test(test_sip_resp_build_q_values_formatted),
		cmocka_unit_test(test_sip_resp_build_420_unsupported),
		cmocka_unit_test(test_sip_resp_build_503_retry_after),
		cmocka_unit_test(test_sip_resp_build_all_fields_order),
		cmocka_unit_test(test_sip_resp_build_no_tag_requested),
		cmocka_unit_test(test_sip_resp_build_missing_header_skipped),
		cmocka_unit_test(test_sip_resp_build_bad_args_einval),
		cmocka_unit_test(test_sip_resp_build_mutated_requests_bounded),
		cmocka_unit_test(test_sip_resp_to_tag_hex_and_matches_reference),
		cmocka_unit_test(test_sip_resp_to_tag_long_fields_match_reference),
		cmocka_unit_test(test_sip_resp_to_tag_differs_by_field_and_key),
		cmocka_unit_test(test_sip_resp_to_tag_fields_do_not_alias),
		cmocka_unit_test(test_sip_resp_to_tag_stable_for_retransmission),
		cmocka_unit_test(test_sip_resp_to_tag_differs_for_call_id),
	};

	return cmocka_run_group_tests_name("sip_resp", tests,
					   setup_guard, teardown_guard);
}
