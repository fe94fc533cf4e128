/* SPDX-License-Identifier: MIT */
/*
 * test_sip_hdr.c - header-name classification, method tokens and the
 * verdict tables. Every name is placed flush against a PROT_NONE page, so
 * a classifier that reads past the name faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sip.h>

#include "guard_buf.h"

static enum sip_hdr_id
classify(struct guard_buf *gb, const char *name, size_t n)
{
	return sip_hdr_classify(span_make(guard_buf_put(gb, name, n), n));
}

static enum sip_hdr_id
classify_str(struct guard_buf *gb, const char *name)
{
	return classify(gb, name, strlen(name));
}

static void
test_sip_hdr_classify_canonical_names(void **state)
{
	unsigned int id;

	for (id = 1; id < SIP_HDR__COUNT; id++) {
		const char *name = sip_hdr_name(id);

		assert_true(strlen(name) > 0);
		assert_int_equal(classify_str(*state, name), id);
	}
}

/* RFC 3261 §7.3.1: field names are case-insensitive. */
static void
test_sip_hdr_classify_any_case(void **state)
{
	char buf[64];
	unsigned int id, i;

	for (id = 1; id < SIP_HDR__COUNT; id++) {
		const char *name = sip_hdr_name(id);
		size_t n = strlen(name);

		for (i = 0; i < n; i++)
			buf[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ?
					name[i] - 32 : name[i]);
		assert_int_equal(classify(*state, buf, n), id);
		for (i = 0; i < n; i++)
			buf[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
					name[i] + 32 : name[i]);
		assert_int_equal(classify(*state, buf, n), id);
		for (i = 0; i < n; i++)
			buf[i] = (char)(i % 2 != 0 && buf[i] >= 'a' &&
					buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
		assert_int_equal(classify(*state, buf, n), id);
	}
	assert_int_equal(classify_str(*state, "cALL-iD"), SIP_HDR_CALL_ID);
	assert_int_equal(classify_str(*state, "WWW-AUTHENTICATE"),
			 SIP_HDR_WWW_AUTHENTICATE);
}

static void
test_sip_hdr_classify_compact_forms(void **state)
{
	static const struct {
		char c;
		enum sip_hdr_id id;
	} cases[] = {
		{ 'v', SIP_HDR_VIA }, { 'f', SIP_HDR_FROM }, { 't', SIP_HDR_TO },
		{ 'i', SIP_HDR_CALL_ID }, { 'm', SIP_HDR_CONTACT },
		{ 'l', SIP_HDR_CONTENT_LENGTH }, { 'c', SIP_HDR_CONTENT_TYPE },
		{ 'e', SIP_HDR_CONTENT_ENCODING }, { 'k', SIP_HDR_SUPPORTED },
		{ 'x', SIP_HDR_SESSION_EXPIRES }, { 's', SIP_HDR_SUBJECT },
		{ 'o', SIP_HDR_EVENT }, { 'u', SIP_HDR_ALLOW_EVENTS },
		{ 'r', SIP_HDR_REFER_TO }, { 'b', SIP_HDR_REFERRED_BY },
	};
	unsigned int i;
	char c;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = cases[i].c;
		assert_int_equal(classify(*state, &c, 1), cases[i].id);
		c = (char)(c - 32);
		assert_int_equal(classify(*state, &c, 1), cases[i].id);
	}
	for (c = 'a'; c <= 'z'; c++) {
		if (strchr("vftimlcekxsourb", c) == NULL)
			assert_int_equal(classify(*state, &c, 1), SIP_HDR_OTHER);
	}
	c = '-';
	assert_int_equal(classify(*state, &c, 1), SIP_HDR_OTHER);
}

static void
test_sip_hdr_classify_unknown_is_other(void **state)
{
	static const char *const names[] = {
		"", "X-Foo", "Vias", "Vi", "Call_ID", "Call ID", "CallID",
		"Contacts", "Contac", "Content-Lengt", "Content-Length2",
		"From:", " From", "Tø", "P-Asserted-Identit",
		"UnknownHeaderWithUnusualValue", "Proxy-Authorizatio",
		"Max_Forwards", "Route-Record",
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(classify_str(*state, names[i]), SIP_HDR_OTHER);
	/* Bytes that fold onto letters with |0x20 are not letters. */
	assert_int_equal(classify(*state, "Call\rID", 7), SIP_HDR_OTHER);
	assert_int_equal(classify(*state, "T\0", 2), SIP_HDR_OTHER);
	assert_int_equal(classify(*state, "\x16ia", 3), SIP_HDR_OTHER);
	assert_int_equal(classify(*state, "Vi\x01", 3), SIP_HDR_OTHER);
}

static void
test_sip_hdr_name_canonical(void **state)
{
	(void)state;
	assert_string_equal(sip_hdr_name(SIP_HDR_CALL_ID), "Call-ID");
	assert_string_equal(sip_hdr_name(SIP_HDR_CSEQ), "CSeq");
	assert_string_equal(sip_hdr_name(SIP_HDR_WWW_AUTHENTICATE),
			    "WWW-Authenticate");
	assert_string_equal(sip_hdr_name(SIP_HDR_OTHER), "");
	assert_string_equal(sip_hdr_name(SIP_HDR__COUNT), "");
}

static void
test_sip_hdr_method_round_trip(void **state)
{
	unsigned int m;

	for (m = 1; m < SIP_METHOD__COUNT; m++) {
		const char *name = sip_method_name(m);
		size_t n = strlen(name);

		assert_true(n > 0);
		assert_int_equal(sip_method_from_span(span_make(
			guard_buf_put(*state, name, n), n)), m);
	}
	assert_string_equal(sip_method_name(SIP_METHOD_OTHER), "");
	assert_string_equal(sip_method_name(SIP_METHOD__COUNT), "");
}

/* RFC 3261 §25.1: methods are case-sensitive; others are extensions. */
static void
test_sip_hdr_method_case_sensitive(void **state)
{
	static const char *const others[] = {
		"invite", "Invite", "INVITEX", "INVIT", "REGISTE", "",
		"RE%47IST%45R", "NEWMETHOD", "ack", "SUBSCRIBE ", "OPTION",
	};
	unsigned int i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		size_t n = strlen(others[i]);

		assert_int_equal(sip_method_from_span(span_make(
			guard_buf_put(*state, others[i], n), n)),
			SIP_METHOD_OTHER);
	}
	/* a known method cut out of a longer buffer */
	assert_int_equal(sip_method_from_span(span_make(
		guard_buf_put(*state, "PRACKX", 6), 5)), SIP_METHOD_PRACK);
	assert_int_equal(sip_method_from_span(span_make(
		guard_buf_put(*state, "ACK", 3) + 1, 2)), SIP_METHOD_OTHER);
}

static void
test_sip_hdr_perr_status_codes(void **state)
{
	(void)state;
	assert_int_equal(sip_perr_status(SIP_PERR_OK), 0);
	assert_int_equal(sip_perr_status(SIP_PERR_TRUNCATED), 0);
	assert_int_equal(sip_perr_status(SIP_PERR_BAD_START), 0);
	assert_int_equal(sip_perr_status(SIP_PERR_NO_VIA), 0);
	assert_int_equal(sip_perr_status(SIP_PERR_BAD_REQ_LINE), 400);
	assert_int_equal(sip_perr_status(SIP_PERR_BAD_VERSION), 505);
	assert_int_equal(sip_perr_status(SIP_PERR_TOO_BIG), 513);
	assert_int_equal(sip_perr_status(SIP_PERR_TOO_MANY_HDRS), 513);
	assert_int_equal(sip_perr_status(SIP_PERR_URI_TOO_LONG), 414);
	assert_int_equal(sip_perr_status(SIP_PERR_BAD_SCHEME), 416);
	assert_int_equal(sip_perr_status(SIP_PERR_EXT_MISMATCH), 501);
	assert_int_equal(sip_perr_status(SIP_PERR_CSEQ_MISMATCH), 400);
	assert_int_equal(sip_perr_status(SIP_PERR_BAD_VALUE), 400);
	assert_int_equal(sip_perr_status(SIP_PERR__COUNT), 0);
	assert_int_equal(sip_perr_status((enum sip_perr)-1), 0);
}

static void
test_sip_hdr_perr_names_and_descs(void **state)
{
	unsigned int e, f;

	(void)state;
	assert_string_equal(sip_perr_name(SIP_PERR_OK), "OK");
	assert_string_equal(sip_perr_name(SIP_PERR_BAD_VIA), "BAD_VIA");
	assert_string_equal(sip_perr_name(SIP_PERR_BAD_VALUE), "BAD_VALUE");
	assert_string_equal(sip_perr_desc(SIP_PERR_BAD_VERSION),
			    "SIP-Version is not SIP/2.0");
	for (e = 0; e < SIP_PERR__COUNT; e++) {
		assert_true(strlen(sip_perr_name(e)) > 0);
		assert_true(strlen(sip_perr_desc(e)) > 0);
		for (f = 0; f < e; f++)
			assert_string_not_equal(sip_perr_name(e),
						sip_perr_name(f));
	}
	assert_string_equal(sip_perr_name(SIP_PERR__COUNT), "UNKNOWN");
	assert_non_null(sip_perr_desc(SIP_PERR__COUNT));
}

static int
setup_guard(void **state)
{
	*state = guard_buf_new(4096);
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
		cmocka_unit_test(test_sip_hdr_classify_canonical_names),
		cmocka_unit_test(test_sip_hdr_classify_any_case),
		cmocka_unit_test(test_sip_hdr_classify_compact_forms),
		cmocka_unit_test(test_sip_hdr_classify_unknown_is_other),
		cmocka_unit_test(test_sip_hdr_name_canonical),
		cmocka_unit_test(test_sip_hdr_method_round_trip),
		cmocka_unit_test(test_sip_hdr_method_case_sensitive),
		cmocka_unit_test(test_sip_hdr_perr_status_codes),
		cmocka_unit_test(test_sip_hdr_perr_names_and_descs),
	};

	return cmocka_run_group_tests_name("sip_hdr", tests,
					   setup_guard, teardown_guard);
}
