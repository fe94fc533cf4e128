/* SPDX-License-Identifier: MIT */
/*
 * test_sip_check.c - sip_msg_check(): the verdict for each rule, the order
 * of the rules, the fields it resolves, and the check= lines of the
 * fixtures. Every message is placed flush against a PROT_NONE page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sip.h>

#include "guard_buf.h"
#include "sip_fixture.h"

#define OMIT    "\x01"          /* leave the header out */

/* One message: NULL fields take the defaults below. */
struct mcase {
	const char      *start;
	const char      *via;
	const char      *from;
	const char      *to;
	const char      *callid;
	const char      *cseq;
	const char      *maxfwd;
	const char      *contact;
	const char      *extra;         /* whole lines, CRLF-terminated */
	enum sip_perr    want;
};

static size_t
put_hdr(char *buf, size_t n, const char *name, const char *v, const char *def)
{
	if (v == NULL)
		v = def;
	if (strcmp(v, OMIT) == 0)
		return n;
	return n + (size_t)sprintf(buf + n, "%s: %s\r\n", name, v);
}

static size_t
build(char *buf, const struct mcase *c)
{
	size_t n;

	n = (size_t)sprintf(buf, "%s\r\n", c->start != NULL ? c->start :
			    "INVITE sip:bob@example.com SIP/2.0");
	n = put_hdr(buf, n, "Via", c->via,
		    "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c1");
	n = put_hdr(buf, n, "Max-Forwards", c->maxfwd, "70");
	n = put_hdr(buf, n, "From", c->from, "<sip:alice@example.org>;tag=f1");
	n = put_hdr(buf, n, "To", c->to, "<sip:bob@example.com>");
	n = put_hdr(buf, n, "Call-ID", c->callid, "c1@192.0.2.10");
	n = put_hdr(buf, n, "CSeq", c->cseq, "1 INVITE");
	n = put_hdr(buf, n, "Contact", c->contact, "<sip:alice@192.0.2.10>");
	n += (size_t)sprintf(buf + n, "%sContent-Length: 0\r\n\r\n",
			     c->extra != NULL ? c->extra : "");
	return n;
}

static enum sip_perr
check_case(struct guard_buf *gb, const struct mcase *c, struct sip_msg *msg,
	   struct sip_info *info)
{
	static char buf[4096];
	size_t n = build(buf, c);
	const char *in = guard_buf_put(gb, buf, n);

	assert_int_equal(sip_parse(msg, in, (uint32_t)n), SIP_PERR_OK);
	return sip_msg_check(msg, info);
}

static void
run_cases(struct guard_buf *gb, const struct mcase *c, unsigned int n)
{
	static struct sip_msg msg;
	struct sip_info info;
	unsigned int i;

	for (i = 0; i < n; i++) {
		enum sip_perr rc = check_case(gb, &c[i], &msg, &info);

		if (rc != c[i].want) {
			print_error("case %u: %s, want %s\n", i,
				    sip_perr_name(rc), sip_perr_name(c[i].want));
			fail();
		}
	}
}

static void
assert_span_str(struct span s, const char *want)
{
	assert_non_null(s.ptr);
	if (s.len != strlen(want) || memcmp(s.ptr, want, s.len) != 0) {
		print_error("span '%.*s' != '%s'\n", (int)s.len, s.ptr, want);
		fail();
	}
}

static void
test_sip_check_request_info_resolved(void **state)
{
	static struct sip_msg msg;
	struct sip_info info;
	const struct mcase c = {
		.via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c1, "
		       "SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK-c0",
		.extra = "v: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-c00\r\n"
			 "m: <sip:alice@192.0.2.11>;q=0.5\r\n",
	};

	assert_int_equal(check_case(*state, &c, &msg, &info), SIP_PERR_OK);
	assert_int_equal(info.nvia, 3);
	assert_int_equal(info.nvia, msg.nvia);
	assert_span_str(info.via.host, "192.0.2.10");
	assert_int_equal(info.via.port, 5060);
	assert_span_str(info.via.branch, "z9hG4bK-c1");
	assert_span_str(info.via.transport, "UDP");
	assert_span_str(info.from.uri, "sip:alice@example.org");
	assert_span_str(info.from.tag, "f1");
	assert_span_str(info.to.uri, "sip:bob@example.com");
	assert_null(info.to.tag.ptr);
	assert_span_str(info.call_id, "c1@192.0.2.10");
	assert_int_equal(info.cseq.num, 1);
	assert_int_equal(info.cseq.method, SIP_METHOD_INVITE);
	assert_int_equal(info.max_forwards, 70);
	assert_int_equal(info.ruri.scheme_id, SIP_SCHEME_SIP);
	assert_span_str(info.ruri.user, "bob");
	assert_span_str(info.ruri.host, "example.com");
	/* An INVITE's Contacts are not looked at (RFC 3261 §16.3 item 1). */
	assert_int_equal(info.ncontact, 0);
}

/*
 * One Via line and one Contact line are taken whole when they hold one
 * value (no value iterator); commas inside quotes or <> keep them one
 * value, and every other shape goes through the iterator with the same
 * verdicts and counts.
 */
static void
test_sip_check_single_line_values(void **state)
{
	static const struct {
		const char      *via, *contact;
		enum sip_perr    want;
		unsigned int     nvia, ncontact;
	} t[] = {
		{ NULL, "\"A, B\" <sip:a,b@c>;x=\"1,2\";q=0.5",
		  SIP_PERR_OK, 1, 1 },
		{ NULL, "<sip:a@b>, <sip:c@d>", SIP_PERR_OK, 1, 2 },
		{ NULL, "<sip:a@b>,", SIP_PERR_BAD_CONTACT, 1, 0 },
		{ NULL, "<sip:a@b>;x=<y>", SIP_PERR_BAD_CONTACT, 1, 0 },
		{ NULL, "<sip:a@b", SIP_PERR_BAD_CONTACT, 1, 0 },
		{ NULL, "\"x <sip:a@b>", SIP_PERR_BAD_CONTACT, 1, 0 },
		{ NULL, "sip:a,b@c", SIP_PERR_BAD_CONTACT, 1, 0 },
		{ NULL, "Bob <sip:a@b>", SIP_PERR_OK, 1, 1 },
		{ NULL, "*", SIP_PERR_OK, 1, 1 },
		{ "SIP/2.0/UDP h;x=\"a,b\";branch=z9hG4bK1", NULL,
		  SIP_PERR_OK, 1, 1 },
		{ "SIP/2.0/UDP h;x=\"a;branch=z9hG4bK1", NULL,
		  SIP_PERR_BAD_VIA, 1, 0 },
		{ "SIP/2.0/UDP h<x;branch=z9hG4bK1", NULL,
		  SIP_PERR_BAD_VIA, 1, 0 },
		{ "SIP/2.0/UDP h;branch=z9hG4bK1 ,", NULL,
		  SIP_PERR_BAD_VIA, 2, 0 },
	};
	static struct sip_msg msg;
	struct sip_info info;
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct mcase c = {
			.start = "REGISTER sip:example.com SIP/2.0",
			.cseq = "2 REGISTER", .via = t[i].via,
			.contact = t[i].contact };

		assert_int_equal(check_case(*state, &c, &msg, &info),
				 t[i].want);
		assert_int_equal(msg.nvia, t[i].nvia);
		if (t[i].want != SIP_PERR_OK)
			continue;
		assert_int_equal(info.nvia, t[i].nvia);
		assert_int_equal(info.ncontact, t[i].ncontact);
	}
}

static void
test_sip_check_response_skips_request_rules(void **state)
{
	static struct sip_msg msg;
	struct sip_info info;
	const struct mcase c = {
		.start = "SIP/2.0 200 OK",
		.cseq = "7 BYE",
		.maxfwd = OMIT,
		.to = "<sip:bob@example.com>;tag=t2",
	};

	assert_int_equal(check_case(*state, &c, &msg, &info), SIP_PERR_OK);
	assert_int_equal(info.cseq.num, 7);
	assert_int_equal(info.cseq.method, SIP_METHOD_BYE);
	assert_int_equal(info.max_forwards, -1);
	assert_span_str(info.to.tag, "t2");
}

static void
test_sip_check_valid_variants_accepted(void **state)
{
	static const struct mcase cases[] = {
		{ .maxfwd = OMIT, .want = SIP_PERR_OK },
		{ .maxfwd = "0", .want = SIP_PERR_OK },
		{ .maxfwd = "255", .want = SIP_PERR_OK },
		{ .maxfwd = "0068", .want = SIP_PERR_OK },
		{ .contact = OMIT, .want = SIP_PERR_OK },
		{ .start = "ACK sip:bob@example.com SIP/2.0", .cseq = "1 ACK",
		  .want = SIP_PERR_OK },
		{ .start = "NEWMETHOD sip:bob@example.com SIP/2.0",
		  .cseq = "1 NEWMETHOD", .want = SIP_PERR_OK },
		{ .start = "INVITE sips:bob@example.com SIP/2.0", .want = SIP_PERR_OK },
		{ .start = "INVITE tel:+15550100 SIP/2.0", .want = SIP_PERR_OK },
		{ .start = "INVITE SIP:bob@example.com SIP/2.0", .want = SIP_PERR_OK },
		{ .start = "REGISTER sip:example.com SIP/2.0", .cseq = "2 REGISTER",
		  .contact = "*", .extra = "Expires: 0\r\n", .want = SIP_PERR_OK },
		{ .callid = "a-b.c!d%e*f_g+h`i'j~k(l)m<n>o:p\\q\"r/s[t]u?v{w}x@y",
		  .want = SIP_PERR_OK },
		{ .from = "\"Alice, A.\" <sip:alice@example.org>;tag=f1",
		  .want = SIP_PERR_OK },
		/* Only a REGISTER's Contacts are read, so only they are
		 * checked (RFC 3261 §16.3 item 1): not an INVITE's, not a
		 * response's. */
		{ .contact = "<sip:a@192.0.2.10>,,", .want = SIP_PERR_OK },
		{ .contact = "", .want = SIP_PERR_OK },
		{ .contact = "*", .want = SIP_PERR_OK },
		{ .start = "SIP/2.0 302 Moved Temporarily", .maxfwd = OMIT,
		  .contact = "<sip:a@192.0.2.10", .want = SIP_PERR_OK },
	};

	run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_sip_check_missing_and_duplicate_rejected(void **state)
{
	static const struct mcase cases[] = {
		{ .via = OMIT, .want = SIP_PERR_NO_VIA },
		{ .via = OMIT, .from = OMIT, .want = SIP_PERR_NO_VIA },
		{ .from = OMIT, .want = SIP_PERR_MISSING_HDR },
		{ .to = OMIT, .want = SIP_PERR_MISSING_HDR },
		{ .callid = OMIT, .want = SIP_PERR_MISSING_HDR },
		{ .cseq = OMIT, .want = SIP_PERR_MISSING_HDR },
		{ .cseq = OMIT, .extra = "From: <sip:x@y>;tag=2\r\n",
		  .want = SIP_PERR_MISSING_HDR },
		{ .extra = "f: <sip:x@y>;tag=2\r\n", .want = SIP_PERR_DUP_HDR },
		{ .extra = "t: <sip:x@y>\r\n", .want = SIP_PERR_DUP_HDR },
		{ .extra = "i: other@h\r\n", .want = SIP_PERR_DUP_HDR },
		{ .extra = "CSeq: 1 INVITE\r\n", .want = SIP_PERR_DUP_HDR },
		{ .extra = "Max-Forwards: 70\r\n", .want = SIP_PERR_DUP_HDR },
		{ .from = "bad <", .extra = "f: <sip:x@y>;tag=2\r\n",
		  .want = SIP_PERR_DUP_HDR },
	};

	run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_sip_check_bad_values_rejected(void **state)
{
	static const struct mcase cases[] = {
		{ .via = "", .want = SIP_PERR_BAD_VIA },
		{ .via = "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1,,",
		  .want = SIP_PERR_BAD_VIA },
		{ .via = ",SIP/2.0/UDP 192.0.2.10", .want = SIP_PERR_BAD_VIA },
		{ .via = "SIP/2.0/UDP 192.0.2.10;x=\"open", .want = SIP_PERR_BAD_VIA },
		{ .via = "garbage", .want = SIP_PERR_BAD_VIA },
		{ .extra = "Via: \r\n", .want = SIP_PERR_BAD_VIA },
		{ .from = "\"unterminated <sip:alice@example.org>;tag=f1",
		  .want = SIP_PERR_BAD_FROM },
		{ .from = "", .want = SIP_PERR_BAD_FROM },
		{ .from = "*", .want = SIP_PERR_BAD_FROM },
		{ .to = "<sip:bob@example.com", .want = SIP_PERR_BAD_TO },
		{ .to = "", .want = SIP_PERR_BAD_TO },
		{ .callid = "", .want = SIP_PERR_BAD_CALLID },
		{ .callid = "a b", .want = SIP_PERR_BAD_CALLID },
		{ .callid = "@host", .want = SIP_PERR_BAD_CALLID },
		{ .callid = "id@", .want = SIP_PERR_BAD_CALLID },
		{ .callid = "a@b@c", .want = SIP_PERR_BAD_CALLID },
		{ .callid = "a,b", .want = SIP_PERR_BAD_CALLID },
		{ .cseq = "x INVITE", .want = SIP_PERR_BAD_CSEQ },
		{ .cseq = "4294967296 INVITE", .want = SIP_PERR_BAD_CSEQ },
		{ .cseq = "1", .want = SIP_PERR_BAD_CSEQ },
		{ .maxfwd = "256", .want = SIP_PERR_BAD_MAXFWD },
		{ .maxfwd = "-1", .want = SIP_PERR_BAD_MAXFWD },
		{ .maxfwd = "7a", .want = SIP_PERR_BAD_MAXFWD },
		{ .maxfwd = "", .want = SIP_PERR_BAD_MAXFWD },
		{ .maxfwd = "99999999999999999999999", .want = SIP_PERR_BAD_MAXFWD },
#define T_REG   .start = "REGISTER sip:example.com SIP/2.0", .cseq = "2 REGISTER"
		{ T_REG, .contact = "<sip:a@192.0.2.10>,,",
		  .want = SIP_PERR_BAD_CONTACT },
		{ T_REG, .contact = "", .want = SIP_PERR_BAD_CONTACT },
		{ T_REG, .contact = "<sip:a@192.0.2.10",
		  .want = SIP_PERR_BAD_CONTACT },
		{ T_REG, .contact = "*, <sip:a@192.0.2.10>",
		  .want = SIP_PERR_BAD_CONTACT },
		{ T_REG, .contact = "<sip:a@192.0.2.10>, *",
		  .want = SIP_PERR_BAD_CONTACT },
#undef T_REG
	};

	run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

/* RFC 3261 §8.2.3, RFC 4475 §3.1.2.17-18. */
static void
test_sip_check_cseq_method_mismatch(void **state)
{
	static const struct mcase cases[] = {
		{ .cseq = "1 ACK", .want = SIP_PERR_CSEQ_MISMATCH },
		{ .cseq = "1 invite", .want = SIP_PERR_CSEQ_MISMATCH },
		{ .cseq = "1 NEWMETHOD", .want = SIP_PERR_CSEQ_MISMATCH },
		{ .start = "OPTIONS sip:bob@example.com SIP/2.0",
		  .want = SIP_PERR_CSEQ_MISMATCH },
		{ .start = "NEWMETHOD sip:bob@example.com SIP/2.0",
		  .want = SIP_PERR_EXT_MISMATCH },
		{ .start = "NEWMETHOD sip:bob@example.com SIP/2.0",
		  .cseq = "1 NEWMETHOd", .want = SIP_PERR_EXT_MISMATCH },
	};

	run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_sip_check_request_uri_rejected(void **state)
{
	static const struct mcase cases[] = {
		{ .start = "INVITE mailto:bob@example.com SIP/2.0",
		  .want = SIP_PERR_BAD_SCHEME },
		{ .start = "INVITE nobodyKnowsThisScheme:totallyopaque SIP/2.0",
		  .want = SIP_PERR_BAD_SCHEME },
		{ .start = "INVITE urn:service:sos SIP/2.0",
		  .want = SIP_PERR_BAD_SCHEME },
		{ .start = "INVITE sip:bob@example.com?Route=%3Csip:x%3E SIP/2.0",
		  .want = SIP_PERR_BAD_URI },
		{ .start = "INVITE <sip:bob@example.com> SIP/2.0",
		  .want = SIP_PERR_BAD_URI },
		{ .start = "INVITE sip: SIP/2.0", .want = SIP_PERR_BAD_URI },
		{ .start = "INVITE sip:bob@example.com:99999 SIP/2.0",
		  .want = SIP_PERR_BAD_URI },
		{ .start = "INVITE 1sip:bob@example.com SIP/2.0",
		  .want = SIP_PERR_BAD_URI },
		/* Rules come in sip.h's order: CSeq before the Request-URI. */
		{ .start = "INVITE mailto:bob@example.com SIP/2.0",
		  .cseq = "1 BYE", .want = SIP_PERR_CSEQ_MISMATCH },
		{ .start = "INVITE mailto:bob@example.com SIP/2.0",
		  .maxfwd = "300", .want = SIP_PERR_BAD_MAXFWD },
		{ .start = "INVITE mailto:bob@example.com SIP/2.0",
		  .contact = ",", .want = SIP_PERR_BAD_SCHEME },
	};

	run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

/* The check= line of every fixture that parses. */
static void
run_fixture_dir(struct guard_buf *gb, const char *sub)
{
	static char names[FX_MAX_FILES][FX_NAME_LEN];
	static struct sip_msg msg;
	struct sip_info info;
	struct fixture fx;
	int i, n, checked = 0;

	n = fixture_list(sub, names, FX_MAX_FILES);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		const char *want, *in;
		enum sip_perr rc;

		assert_int_equal(fixture_load(&fx, sub, names[i]), 0);
		want = fixture_get(&fx, "check");
		if (want != NULL) {
			in = guard_buf_put(gb, fx.data, fx.len);
			assert_int_equal(sip_parse(&msg, in, (uint32_t)fx.len),
					 SIP_PERR_OK);
			rc = sip_msg_check(&msg, &info);
			if (strcmp(sip_perr_name(rc), want) != 0) {
				print_error("%s: check %s, want %s\n", fx.name,
					    sip_perr_name(rc), want);
				fail();
			}
			if (rc == SIP_PERR_OK)
				assert_int_equal(info.nvia, msg.nvia);
			checked++;
		}
		fixture_free(&fx);
	}
	assert_true(checked > 0);
	print_message("%s: %d fixtures checked\n", sub, checked);
}

static void
test_sip_check_fixtures_valid(void **state)
{
	run_fixture_dir(*state, "valid");
}

static void
test_sip_check_fixtures_invalid(void **state)
{
	run_fixture_dir(*state, "invalid");
}

static int
setup_guard(void **state)
{
	*state = guard_buf_new(8192);
	return *state != NULL ? 0 : -1;
}

static int
teardown_guard(void **state)
{
	guard_buf_free(*state);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sip_check_request_info_resolved),
		cmocka_unit_test(test_sip_check_single_line_values),
		cmocka_unit_test(test_sip_check_response_skips_request_rules),
		cmocka_unit_test(test_sip_check_valid_variants_accepted),
		cmocka_unit_test(test_sip_check_missing_and_duplicate_rejected),
		cmocka_unit_test(test_sip_check_bad_values_rejected),
		cmocka_unit_test(test_sip_check_cseq_method_mismatch),
		cmocka_unit_test(test_sip_check_request_uri_rejected),
		cmocka_unit_test(test_sip_check_fixtures_valid),
		cmocka_unit_test(test_sip_check_fixtures_invalid),
	};

	return cmocka_run_group_tests_name("sip_check", tests,
					   setup_guard, teardown_guard);
}
