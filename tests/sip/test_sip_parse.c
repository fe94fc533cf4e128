/* SPDX-License-Identifier: MIT */
/*
 * test_sip_parse.c - sip_parse() and the value-list iterator.
 *
 * Every input is placed flush against a PROT_NONE page, so a read past the
 * end faults. Valid fixtures are also parsed at every strict prefix length,
 * with both scan implementations.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <sip.h>
#include <sip_scan.h>

#include "guard_buf.h"
#include "sip_fixture.h"

#define GUARD_SIZE      (128 * 1024)

static const char invite[] =
	"INVITE sip:+15550100@edge.example SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:+15550100@edge.example>\r\n"
	"From: <sip:alice@example.org>;tag=t1\r\n"
	"Call-ID: t1@192.0.2.10\r\n"
	"CSeq: 1 INVITE\r\n"
	"X-Unknown: opaque\r\n"
	"Content-Length: 4\r\n"
	"\r\n"
	"v=0\n";

static enum sip_perr
parse_mem(struct guard_buf *gb, struct sip_msg *msg, const void *s, size_t n)
{
	const char *in = guard_buf_put(gb, s, n);

	return sip_parse(msg, in, (uint32_t)n);
}

static enum sip_perr
parse_str(struct guard_buf *gb, struct sip_msg *msg, const char *s)
{
	return parse_mem(gb, msg, s, strlen(s));
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

/* Every header is on exactly one first[]/next chain, the one of its id. */
static void
assert_chains_consistent(const struct sip_msg *msg)
{
	uint8_t seen[SIP_MAX_HDRS] = { 0 };
	unsigned int id, n = 0;

	for (id = 0; id < SIP_HDR__COUNT; id++) {
		const struct sip_hdr *h = sip_msg_hdr(msg, id);
		unsigned int prev = 0;
		int first = 1;

		for (; h != NULL; h = sip_msg_hdr_next(msg, h)) {
			unsigned int i = (unsigned int)(h - msg->hdr);

			assert_true(i < msg->nhdr);
			assert_int_equal(h->id, id);
			assert_int_equal(seen[i], 0);
			if (!first)
				assert_true(i > prev);
			seen[i] = 1;
			prev = i;
			first = 0;
			n++;
		}
	}
	assert_int_equal(n, msg->nhdr);
}

/* Spans of a parsed message lie inside the header section, in order. */
static void
assert_layout_consistent(const struct sip_msg *msg)
{
	uint32_t i, off = msg->hdr_off;

	for (i = 0; i < msg->nhdr; i++) {
		const struct sip_hdr *h = &msg->hdr[i];

		assert_int_equal(h->off, off);
		assert_true(h->name_len > 0 && h->name_len < h->line_len);
		assert_true(h->value.ptr >= msg->buf + h->off + h->name_len);
		assert_true(span_end(h->value) <= msg->buf + h->off +
			    h->line_len);
		assert_int_equal(msg->buf[h->off + h->line_len - 1], '\n');
		off += h->line_len;
	}
	assert_true(off < msg->body_off);
	assert_true(msg->body_off <= msg->msg_len);
	assert_true(msg->msg_len <= msg->len);
	assert_int_equal(msg->body_len, msg->msg_len - msg->body_off);
	assert_chains_consistent(msg);
}

/* ---- fields ------------------------------------------------------------ */

static void
test_sip_parse_invite_fields(void **state)
{
	struct sip_msg msg;
	const struct sip_hdr *h;

	assert_int_equal(parse_str(*state, &msg, invite), SIP_PERR_OK);
	assert_int_equal(msg.is_request, 1);
	assert_int_equal(msg.method, SIP_METHOD_INVITE);
	assert_span_str(msg.method_name, "INVITE");
	assert_span_str(msg.ruri, "sip:+15550100@edge.example");
	assert_int_equal(msg.hdr_off, strlen("INVITE sip:+15550100@edge.example SIP/2.0\r\n"));
	assert_int_equal(msg.nhdr, 8);
	assert_int_equal(msg.nvia, 1);
	assert_int_equal(msg.clen, 4);
	assert_int_equal(msg.body_len, 4);
	assert_int_equal(msg.msg_len, sizeof(invite) - 1);
	assert_int_equal(msg.body_off, sizeof(invite) - 1 - 4);
	assert_memory_equal(msg.buf + msg.body_off, "v=0\n", 4);

	h = sip_msg_hdr(&msg, SIP_HDR_VIA);
	assert_non_null(h);
	assert_int_equal(h->off, msg.hdr_off);
	assert_int_equal(h->name_len, 3);
	assert_int_equal(h->line_len,
			 strlen("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"));
	assert_span_str(h->value, "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1");
	assert_null(sip_msg_hdr_next(&msg, h));

	assert_span_str(sip_msg_hdr(&msg, SIP_HDR_CALL_ID)->value, "t1@192.0.2.10");
	assert_span_str(sip_msg_hdr(&msg, SIP_HDR_CSEQ)->value, "1 INVITE");
	assert_span_str(sip_msg_hdr(&msg, SIP_HDR_OTHER)->value, "opaque");
	assert_span_str(sip_hdr_name_span(&msg, sip_msg_hdr(&msg, SIP_HDR_OTHER)),
			"X-Unknown");
	assert_int_equal(msg.first[SIP_HDR_ROUTE], SIP_HDR_NONE);
	assert_null(sip_msg_hdr(&msg, SIP_HDR_CONTACT));
	assert_layout_consistent(&msg);
}

static void
test_sip_parse_response_fields(void **state)
{
	struct sip_msg msg;

	assert_int_equal(parse_str(*state, &msg,
		"SIP/2.0 486 Busy Here, try later\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n"
		"Content-Length: 0\r\n\r\n"), SIP_PERR_OK);
	assert_int_equal(msg.is_request, 0);
	assert_int_equal(msg.status, 486);
	assert_span_str(msg.reason, "Busy Here, try later");
	assert_null(msg.ruri.ptr);
	assert_null(msg.method_name.ptr);
	assert_int_equal(msg.nhdr, 2);
	assert_int_equal(msg.nvia, 1);
	assert_layout_consistent(&msg);
}

static void
test_sip_parse_status_empty_reason_accepted(void **state)
{
	struct sip_msg msg;

	assert_int_equal(parse_str(*state, &msg,
		"SIP/2.0 180 \r\nVia: SIP/2.0/UDP h\r\n\r\n"), SIP_PERR_OK);
	assert_int_equal(msg.status, 180);
	assert_int_equal(msg.reason.len, 0);
	assert_int_equal(parse_str(*state, &msg,
		"sip/2.0 699\r\nVia: SIP/2.0/UDP h\r\n\r\n"), SIP_PERR_OK);
	assert_int_equal(msg.status, 699);
	assert_int_equal(msg.reason.len, 0);
}

static void
test_sip_parse_compact_forms_linked(void **state)
{
	struct sip_msg msg;
	const struct sip_hdr *h;

	assert_int_equal(parse_str(*state, &msg,
		"OPTIONS sip:a@b SIP/2.0\r\n"
		"v: SIP/2.0/UDP h1\r\n"
		"i: cid\r\n"
		"VIA: SIP/2.0/UDP h2, SIP/2.0/UDP h3\r\n"
		"V: SIP/2.0/UDP h4\r\n"
		"l: 0\r\n\r\n"), SIP_PERR_OK);
	assert_int_equal(msg.nvia, 4);
	h = sip_msg_hdr(&msg, SIP_HDR_VIA);
	assert_span_str(h->value, "SIP/2.0/UDP h1");
	h = sip_msg_hdr_next(&msg, h);
	assert_span_str(h->value, "SIP/2.0/UDP h2, SIP/2.0/UDP h3");
	h = sip_msg_hdr_next(&msg, h);
	assert_span_str(h->value, "SIP/2.0/UDP h4");
	assert_null(sip_msg_hdr_next(&msg, h));
	assert_span_str(sip_msg_hdr(&msg, SIP_HDR_CALL_ID)->value, "cid");
	assert_int_equal(msg.clen, 0);
	assert_layout_consistent(&msg);
}

static void
test_sip_parse_folded_value_kept(void **state)
{
	struct sip_msg msg;
	const struct sip_hdr *h;

	assert_int_equal(parse_str(*state, &msg,
		"INVITE sip:a@b SIP/2.0\r\n"
		"Subject:\r\n first\r\n\t second  \r\n"
		"To: x\r\n\r\n"), SIP_PERR_OK);
	assert_int_equal(msg.nhdr, 2);
	h = sip_msg_hdr(&msg, SIP_HDR_SUBJECT);
	assert_span_str(h->value, "first\r\n\t second");
	assert_int_equal(h->line_len, strlen("Subject:\r\n first\r\n\t second  \r\n"));
	assert_span_str(sip_msg_hdr(&msg, SIP_HDR_TO)->value, "x");
	assert_layout_consistent(&msg);
}

static void
test_sip_parse_bare_lf_accepted(void **state)
{
	struct sip_msg msg;

	assert_int_equal(parse_str(*state, &msg,
		"BYE sip:a@b SIP/2.0\n"
		"Via: SIP/2.0/UDP h\n"
		"Subject: one\n two\n"
		"Content-Length: 2\n"
		"\n"
		"ab"), SIP_PERR_OK);
	assert_int_equal(msg.method, SIP_METHOD_BYE);
	assert_span_str(msg.ruri, "sip:a@b");
	assert_int_equal(msg.nhdr, 3);
	assert_span_str(sip_msg_hdr(&msg, SIP_HDR_SUBJECT)->value, "one\n two");
	assert_int_equal(msg.body_len, 2);
	assert_layout_consistent(&msg);
}

static void
test_sip_parse_lws_before_colon_accepted(void **state)
{
	struct sip_msg msg;
	const struct sip_hdr *h;

	assert_int_equal(parse_str(*state, &msg,
		"INVITE sip:a@b SIP/2.0\r\n"
		"Call-ID \t :   x@y  \t\r\n\r\n"), SIP_PERR_OK);
	h = sip_msg_hdr(&msg, SIP_HDR_CALL_ID);
	assert_non_null(h);
	assert_int_equal(h->name_len, 7);
	assert_span_str(h->value, "x@y");
}

static void
test_sip_parse_empty_value_accepted(void **state)
{
	struct sip_msg msg;
	const struct sip_hdr *h;

	assert_int_equal(parse_str(*state, &msg,
		"INVITE sip:a@b SIP/2.0\r\nSubject:\r\nTo:   \r\n\r\n"),
		SIP_PERR_OK);
	h = sip_msg_hdr(&msg, SIP_HDR_SUBJECT);
	assert_int_equal(h->value.len, 0);
	assert_non_null(h->value.ptr);
	assert_int_equal(sip_msg_hdr(&msg, SIP_HDR_TO)->value.len, 0);
}

/* ---- Via count --------------------------------------------------------- */

static void
test_sip_parse_via_quoted_commas_not_counted(void **state)
{
	struct sip_msg msg;

	assert_int_equal(parse_str(*state, &msg,
		"INVITE sip:a@b SIP/2.0\r\n"
		"Via: SIP/2.0/UDP h1;x=\"a,b\\\",c\", SIP/2.0/UDP h2\r\n"
		"Via: SIP/2.0/UDP h3,,SIP/2.0/UDP h4,\r\n\r\n"), SIP_PERR_OK);
	/* 2 on the first line; h3, "", h4, "" on the second */
	assert_int_equal(msg.nvia, 6);
}

static void
test_sip_parse_too_many_via_rejected(void **state)
{
	static char buf[4096];
	struct sip_msg msg;
	const char *via_at;
	size_t n;
	unsigned int i;

	n = (size_t)sprintf(buf, "INVITE sip:a@b SIP/2.0\r\nVia: h0");
	for (i = 1; i < SIP_MAX_VIA; i++)
		n += (size_t)sprintf(buf + n, ",h%u", i);
	memcpy(buf + n, "\r\n\r\n", 5);
	assert_int_equal(parse_str(*state, &msg, buf), SIP_PERR_OK);
	assert_int_equal(msg.nvia, SIP_MAX_VIA);

	memcpy(buf + n, "\r\nv: one-more\r\n\r\n", 18);
	assert_int_equal(parse_str(*state, &msg, buf), SIP_PERR_TOO_MANY_VIA);
	via_at = strstr(buf, "one-more");
	assert_int_equal(msg.err_off, via_at - buf);
}

/* ---- Content-Length framing ------------------------------------------- */

static void
test_sip_parse_clen_equal_duplicates_accepted(void **state)
{
	struct sip_msg msg;

	assert_int_equal(parse_str(*state, &msg,
		"INVITE sip:a@b SIP/2.0\r\nContent-Length: 3\r\nl: 003\r\n\r\nabc"),
		SIP_PERR_OK);
	assert_int_equal(msg.clen, 3);
	assert_int_equal(msg.body_len, 3);
}

static void
test_sip_parse_clen_trailing_bytes_excluded(void **state)
{
	static const char m[] =
		"INVITE sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\nabJUNK";
	struct sip_msg msg;

	assert_int_equal(parse_str(*state, &msg, m), SIP_PERR_OK);
	assert_int_equal(msg.len, sizeof(m) - 1);
	assert_int_equal(msg.msg_len, sizeof(m) - 1 - 4);
	assert_int_equal(msg.body_len, 2);
}

static void
test_sip_parse_no_clen_takes_rest(void **state)
{
	static const char m[] = "INVITE sip:a@b SIP/2.0\r\nTo: x\r\n\r\nbody\0bytes";
	struct sip_msg msg;

	assert_int_equal(parse_mem(*state, &msg, m, sizeof(m) - 1), SIP_PERR_OK);
	assert_int_equal(msg.clen, -1);
	assert_int_equal(msg.msg_len, sizeof(m) - 1);
	assert_int_equal(msg.body_len, 10);
}

static void
test_sip_parse_clen_errors_rejected(void **state)
{
	static const struct {
		const char *m;
		enum sip_perr want;
		const char *at;         /* err_off points here */
	} cases[] = {
#define RL "INVITE sip:a@b SIP/2.0\r\n"
		{ RL "l: 1\r\nl: 2\r\n\r\nab", SIP_PERR_BAD_CLEN, "2\r\n\r\n" },
		{ RL "l: -1\r\n\r\n", SIP_PERR_BAD_CLEN, "-1" },
		{ RL "l: +1\r\n\r\na", SIP_PERR_BAD_CLEN, "+1" },
		{ RL "l: 1 2\r\n\r\na", SIP_PERR_BAD_CLEN, "1 2" },
		{ RL "l:\r\n\r\n", SIP_PERR_BAD_CLEN, "\r\n\r\n" },
		{ RL "l: 2147483648\r\n\r\n", SIP_PERR_BAD_CLEN, "2147" },
		{ RL "l: 18446744073709551617\r\n\r\n", SIP_PERR_BAD_CLEN,
		  "1844" },
		{ RL "l: 2147483647\r\n\r\nab", SIP_PERR_BODY_SHORT, NULL },
		{ RL "l: 3\r\n\r\nab", SIP_PERR_BODY_SHORT, NULL },
#undef RL
	};
	struct sip_msg msg;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *m = cases[i].m;

		assert_int_equal(parse_str(*state, &msg, m), cases[i].want);
		if (cases[i].at != NULL)
			assert_int_equal(msg.err_off, strstr(m, cases[i].at) - m);
		else
			assert_int_equal(msg.err_off, strlen(m));
	}
}

/* ---- start line -------------------------------------------------------- */

struct line_case {
	const char      *line;
	enum sip_perr    want;
	int              err_off;
};

static void
run_line_cases(struct guard_buf *gb, const struct line_case *c, unsigned int n)
{
	static char buf[8192];
	struct sip_msg msg;
	unsigned int i;

	for (i = 0; i < n; i++) {
		enum sip_perr rc;

		snprintf(buf, sizeof(buf), "%s\r\nVia: SIP/2.0/UDP h\r\n\r\n",
			 c[i].line);
		rc = parse_str(gb, &msg, buf);
		if (rc != c[i].want || (int)msg.err_off != c[i].err_off) {
			print_error("'%s': got %s at %u, want %s at %d\n",
				    c[i].line, sip_perr_name(rc), msg.err_off,
				    sip_perr_name(c[i].want), c[i].err_off);
			fail();
		}
	}
}

static void
test_sip_parse_request_line_errors_rejected(void **state)
{
	static const struct line_case cases[] = {
		{ "INVITE sip:a@b SIP/2.0", SIP_PERR_OK, 0 },
		{ "INVITE sip:a@b sip/2.0", SIP_PERR_OK, 0 },
		{ "INVITE sip:a@b SIP/2.1", SIP_PERR_BAD_VERSION, 15 },
		{ "INVITE sip:a@b SIP/2.00", SIP_PERR_BAD_VERSION, 15 },
		{ "INVITE sip:a@b HTTP/1.1", SIP_PERR_BAD_VERSION, 15 },
		{ "INVITE  sip:a@b SIP/2.0", SIP_PERR_BAD_REQ_LINE, 7 },
		{ "INVITE sip:a@b  SIP/2.0", SIP_PERR_BAD_REQ_LINE, 14 },
		{ "INVITE sip:a@b SIP/2.0 ", SIP_PERR_BAD_REQ_LINE, 22 },
		{ "INVITE sip:a@b;\tlr SIP/2.0", SIP_PERR_BAD_REQ_LINE, 15 },
		{ "INVITE sip:a@b; lr SIP/2.0", SIP_PERR_BAD_REQ_LINE, 15 },
		{ "INVITE sip:a@b", SIP_PERR_BAD_REQ_LINE, 14 },
		{ "INVITE  SIP/2.0", SIP_PERR_BAD_REQ_LINE, 7 },
		{ "INVITE", SIP_PERR_BAD_START, 6 },
		{ "INVITE\tsip:a@b SIP/2.0", SIP_PERR_BAD_START, 6 },
		{ " INVITE sip:a@b SIP/2.0", SIP_PERR_BAD_START, 0 },
		{ "", SIP_PERR_BAD_START, 0 },
		{ "IN(VITE sip:a@b SIP/2.0", SIP_PERR_BAD_START, 2 },
	};

	run_line_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_sip_parse_status_line_errors_rejected(void **state)
{
	static const struct line_case cases[] = {
		{ "SIP/2.0 200 OK", SIP_PERR_OK, 0 },
		{ "SIP/2.0 100", SIP_PERR_OK, 0 },
		{ "SIP/2.0 099 x", SIP_PERR_BAD_STATUS, 8 },
		{ "SIP/2.0 700 x", SIP_PERR_BAD_STATUS, 8 },
		{ "SIP/2.0 2000 OK", SIP_PERR_BAD_STATUS, 8 },
		{ "SIP/2.0 20 OK", SIP_PERR_BAD_STATUS, 8 },
		{ "SIP/2.0 2x0 OK", SIP_PERR_BAD_STATUS, 8 },
		{ "SIP/2.0 4294967301 Huge", SIP_PERR_BAD_STATUS, 8 },
		{ "SIP/2.0", SIP_PERR_BAD_STATUS, 7 },
		{ "SIP/2.0 ", SIP_PERR_BAD_STATUS, 8 },
		{ "SIP/3.0 200 OK", SIP_PERR_BAD_VERSION, 0 },
		{ "SIP/2.0/UDP 200 OK", SIP_PERR_BAD_VERSION, 0 },
	};

	run_line_cases(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_sip_parse_uri_length_limit(void **state)
{
	static char buf[SIP_MAX_URI_LEN + 128];
	struct sip_msg msg;
	size_t n;

	n = (size_t)sprintf(buf, "INVITE sip:");
	memset(buf + n, 'a', SIP_MAX_URI_LEN - 4);
	n += SIP_MAX_URI_LEN - 4;
	strcpy(buf + n, " SIP/2.0\r\n\r\n");
	assert_int_equal(parse_str(*state, &msg, buf), SIP_PERR_OK);
	assert_int_equal(msg.ruri.len, SIP_MAX_URI_LEN);

	memset(buf + n, 'a', 1);
	strcpy(buf + n + 1, " SIP/2.0\r\n\r\n");
	assert_int_equal(parse_str(*state, &msg, buf), SIP_PERR_URI_TOO_LONG);
	assert_int_equal(msg.err_off, 7);
}

static void
test_sip_parse_too_big_rejected(void **state)
{
	static char buf[SIP_MAX_MSG_LEN + 1];
	static const char head[] = "MESSAGE sip:a@b SIP/2.0\r\n\r\n";
	struct sip_msg msg;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, head, sizeof(head) - 1);
	assert_int_equal(parse_mem(*state, &msg, buf, SIP_MAX_MSG_LEN),
			 SIP_PERR_OK);
	assert_int_equal(msg.body_len, SIP_MAX_MSG_LEN - (sizeof(head) - 1));
	assert_int_equal(parse_mem(*state, &msg, buf, SIP_MAX_MSG_LEN + 1),
			 SIP_PERR_TOO_BIG);
	assert_int_equal(msg.err_off, SIP_MAX_MSG_LEN);
}

static void
test_sip_parse_too_many_hdrs_rejected(void **state)
{
	static char buf[8192];
	struct sip_msg msg;
	size_t n, last = 0;
	unsigned int i;

	n = (size_t)sprintf(buf, "INVITE sip:a@b SIP/2.0\r\n");
	for (i = 0; i < SIP_MAX_HDRS; i++) {
		last = n;
		n += (size_t)sprintf(buf + n, "X-H%u: %u\r\n", i, i);
	}
	strcpy(buf + n, "\r\n");
	assert_int_equal(parse_str(*state, &msg, buf), SIP_PERR_OK);
	assert_int_equal(msg.nhdr, SIP_MAX_HDRS);
	assert_int_equal(msg.hdr[SIP_MAX_HDRS - 1].off, last);
	assert_chains_consistent(&msg);

	strcpy(buf + n, "To: x\r\n\r\n");
	assert_int_equal(parse_str(*state, &msg, buf), SIP_PERR_TOO_MANY_HDRS);
	assert_int_equal(msg.err_off, n);
}

static void
test_sip_parse_bad_header_rejected(void **state)
{
	static const struct {
		const char *m;
		enum sip_perr want;
		int err_off;
	} cases[] = {
		{ "A sip:a@b SIP/2.0\r\nNoColon\r\n\r\n", SIP_PERR_BAD_HDR, 26 },
		{ "A sip:a@b SIP/2.0\r\nTo x: y\r\n\r\n", SIP_PERR_BAD_HDR, 22 },
		{ "A sip:a@b SIP/2.0\r\n: y\r\n\r\n", SIP_PERR_BAD_HDR, 19 },
		{ "A sip:a@b SIP/2.0\r\n To: y\r\n\r\n", SIP_PERR_BAD_HDR, 19 },
		{ "A sip:a@b SIP/2.0\r\nTo: y\r\n\rX\r\n", SIP_PERR_BAD_HDR, 26 },
		{ "A sip:a@b SIP/2.0\r\nT{o: y\r\n\r\n", SIP_PERR_BAD_HDR, 20 },
		{ "A sip:a@b SIP/2.0\r\nTo: y\r\n", SIP_PERR_TRUNCATED, 26 },
		{ "A sip:a@b SIP/2.0\r\nTo: y\r\n\r", SIP_PERR_TRUNCATED, 27 },
		{ "A sip:a@b SIP/2.0\r\nTo", SIP_PERR_TRUNCATED, 21 },
		{ "A sip:a@b SIP/2.0", SIP_PERR_TRUNCATED, 17 },
		{ "", SIP_PERR_TRUNCATED, 0 },
	};
	struct sip_msg msg;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum sip_perr rc = parse_str(*state, &msg, cases[i].m);

		if (rc != cases[i].want || (int)msg.err_off != cases[i].err_off) {
			print_error("case %u: got %s at %u\n", i,
				    sip_perr_name(rc), msg.err_off);
			fail();
		}
	}
}

/*
 * A malformed Request-Line still leaves a request to answer (400, 505):
 * the verdict and its offset are the Request-Line's, and the headers are
 * located for the response builder.
 */
static void
test_sip_parse_bad_request_line_headers_located(void **state)
{
	static const char m[] =
		"OPTIONS sip:t@example.com SIP/7.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKv7\r\n"
		"To: <sip:t@example.com>\r\n"
		"From: <sip:f@example.com>;tag=1\r\n"
		"Call-ID: v7@192.0.2.1\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"\r\n";
	static const char sp[] =
		"INVITE  sip:t@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKsp\r\n"
		"\r\n";
	struct sip_msg msg;

	assert_int_equal(parse_str(*state, &msg, m), SIP_PERR_BAD_VERSION);
	assert_int_equal(msg.err_off, 26);
	assert_true(msg.is_request);
	assert_int_equal(msg.method, SIP_METHOD_OPTIONS);
	assert_int_equal(msg.nhdr, 5);
	assert_int_equal(msg.nvia, 1);
	assert_int_equal(msg.first[SIP_HDR_VIA], 0);
	assert_int_equal(msg.first[SIP_HDR_CSEQ], 4);

	assert_int_equal(parse_str(*state, &msg, sp), SIP_PERR_BAD_REQ_LINE);
	assert_true(msg.is_request);
	assert_int_equal(msg.method, SIP_METHOD_INVITE);
	assert_int_equal(msg.nhdr, 1);
	assert_int_equal(msg.first[SIP_HDR_VIA], 0);
}

/* Headers seen before a malformed line stay available. */
static void
test_sip_parse_bad_header_keeps_earlier(void **state)
{
	struct sip_msg msg;

	assert_int_equal(parse_str(*state, &msg,
			 "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
			 "Call-ID: c\r\nNoColon\r\n\r\n"), SIP_PERR_BAD_HDR);
	assert_true(msg.is_request);
	assert_int_equal(msg.nhdr, 2);
	assert_int_equal(msg.first[SIP_HDR_CALL_ID], 1);
}

/*
 * After a bad line, the headers an answer copies are located among the
 * lines after it (every Via; From, To, Call-ID, CSeq once; folded ones
 * with their continuation lines; nothing past the empty line); the
 * verdict and offset stay the bad line's. After too many Vias, no
 * further Via is taken; after too many header lines, they are located
 * from the line that was one too many, in slots of their own.
 */
static void
test_sip_parse_bad_header_answer_headers_located(void **state)
{
	static const char m[] =
		"INVITE sip:a@b SIP/2.0\r\n"
		"Max-Forwards: 70\r\n"
		"NoColon\r\n"
		"Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
		"X-Other: x\r\n"
		"v : SIP/2.0/UDP h2 \r\n"
		"From: <sip:f@x>;tag=1\r\n"
		"To: <sip:t@x>\r\n"
		" ;folded=1\r\n"
		"t: <sip:t2@x>\n"
		"Call-ID: c1\r\n"
		"CSeq: 1 INVITE\r\n"
		"Call-ID: c2\r\n"
		"\r\n"
		"Content-Length: 0\r\n";
	static char buf[4096];
	const struct sip_hdr *h;
	struct sip_msg msg;
	size_t n;
	unsigned int i;

	assert_int_equal(parse_str(*state, &msg, m), SIP_PERR_BAD_HDR);
	assert_int_equal(msg.err_off, strstr(m, "NoColon") + 7 - m);
	assert_int_equal(msg.nhdr, 7);
	h = sip_msg_hdr(&msg, SIP_HDR_VIA);
	assert_non_null(h);
	assert_true(span_eq(h->value,
			    SPAN_LIT("SIP/2.0/UDP h1;branch=z9hG4bK1")));
	assert_int_equal(h->line_len, 37);
	h = sip_msg_hdr_next(&msg, h);
	assert_non_null(h);
	assert_true(span_eq(h->value, SPAN_LIT("SIP/2.0/UDP h2")));
	assert_int_equal(h->name_len, 1);
	assert_null(sip_msg_hdr_next(&msg, h));
	assert_true(span_eq(sip_msg_hdr(&msg, SIP_HDR_FROM)->value,
			    SPAN_LIT("<sip:f@x>;tag=1")));
	h = sip_msg_hdr(&msg, SIP_HDR_TO);
	assert_true(span_eq(h->value, SPAN_LIT("<sip:t@x>\r\n ;folded=1")));
	assert_int_equal(h->line_len, 27);
	assert_null(sip_msg_hdr_next(&msg, h));
	assert_true(span_eq(sip_msg_hdr(&msg, SIP_HDR_CALL_ID)->value,
			    SPAN_LIT("c1")));
	assert_non_null(sip_msg_hdr(&msg, SIP_HDR_CSEQ));
	assert_null(sip_msg_hdr(&msg, SIP_HDR_CONTENT_LENGTH));

	n = (size_t)sprintf(buf, "INVITE sip:a@b SIP/2.0\r\n");
	for (i = 0; i <= SIP_MAX_VIA; i++)
		n += (size_t)sprintf(buf + n, "Via: SIP/2.0/UDP h%u\r\n", i);
	sprintf(buf + n, "Via: SIP/2.0/UDP late\r\nCSeq: 1 INVITE\r\n\r\n");
	assert_int_equal(parse_str(*state, &msg, buf), SIP_PERR_TOO_MANY_VIA);
	/* the Via lines up to the one over the limit, then CSeq */
	assert_int_equal(msg.nhdr, SIP_MAX_VIA + 2);
	for (i = 0, h = sip_msg_hdr(&msg, SIP_HDR_VIA); h != NULL;
	     h = sip_msg_hdr_next(&msg, h))
		i++;
	assert_int_equal(i, SIP_MAX_VIA + 1);
	assert_non_null(sip_msg_hdr(&msg, SIP_HDR_CSEQ));

	n = (size_t)sprintf(buf, "INVITE sip:a@b SIP/2.0\r\n");
	for (i = 0; i < SIP_MAX_HDRS; i++)
		n += (size_t)sprintf(buf + n, "X-H%u: v\r\n", i);
	sprintf(buf + n, "Via: SIP/2.0/UDP late;branch=z9hG4bK9\r\n"
		"From: <sip:f@x>;tag=1\r\nTo: <sip:t@x>\r\n"
		"Call-ID: c9\r\nCSeq: 9\r\n INVITE\r\n\r\n");
	assert_int_equal(parse_str(*state, &msg, buf), SIP_PERR_TOO_MANY_HDRS);
	assert_int_equal(msg.nhdr, SIP_MAX_HDRS + 5);
	assert_true(span_eq(sip_msg_hdr(&msg, SIP_HDR_VIA)->value,
			    SPAN_LIT("SIP/2.0/UDP late;branch=z9hG4bK9")));
	assert_non_null(sip_msg_hdr(&msg, SIP_HDR_FROM));
	assert_non_null(sip_msg_hdr(&msg, SIP_HDR_TO));
	assert_non_null(sip_msg_hdr(&msg, SIP_HDR_CALL_ID));
	assert_true(span_eq(sip_msg_hdr(&msg, SIP_HDR_CSEQ)->value,
			    SPAN_LIT("9\r\n INVITE")));
}

static void
test_sip_parse_truncated_prefix_rejected(void **state)
{
	struct sip_msg msg;
	uint32_t len;

	for (len = 0; len < sizeof(invite) - 1; len++) {
		enum sip_perr rc = parse_mem(*state, &msg, invite, len);

		assert_true(rc == SIP_PERR_TRUNCATED || rc == SIP_PERR_BODY_SHORT);
		assert_true(msg.err_off <= len);
	}
}

/* Deterministic mutations of a valid message: any verdict, never a fault. */
static void
test_sip_parse_mutations_no_fault(void **state)
{
	static const char alphabet[] = "\r\n \t:,;\"<>\\0aZ\x00\xff";
	char buf[sizeof(invite)];
	struct sip_msg msg;
	uint32_t x = 12345, i, k;

	for (i = 0; i < 4000; i++) {
		uint32_t len = sizeof(invite) - 1;

		memcpy(buf, invite, len);
		for (k = 0; k < 1 + i % 4; k++) {
			x = x * 1103515245u + 12345u;
			buf[(x >> 8) % len] = alphabet[(x >> 20) % (sizeof(alphabet) - 1)];
		}
		x = x * 1103515245u + 12345u;
		if (i & 1)
			len -= (x >> 8) % len;
		if (parse_mem(*state, &msg, buf, len) == SIP_PERR_OK)
			assert_layout_consistent(&msg);
		else
			assert_true(msg.err_off <= len);
	}
}

/* ---- value lists ------------------------------------------------------- */

static void
test_sip_parse_values_split(void **state)
{
	static const char *const want[] = {
		"\"A, B\" <sip:ab@h;x=1,2>", "", "sip:c@h", "<sip:d@h>",
		"\"q\\\",\" <sip:e@h>", "",
	};
	struct sip_value_iter it;
	struct sip_msg msg;
	struct span v;
	unsigned int n = 0;
	int rc;

	assert_int_equal(parse_str(*state, &msg,
		"REGISTER sip:h SIP/2.0\r\n"
		"Contact:  \"A, B\" <sip:ab@h;x=1,2> , ,sip:c@h\r\n"
		"To: x\r\n"
		"m: <sip:d@h>,\r\n"
		" \"q\\\",\" <sip:e@h>,\r\n\r\n"), SIP_PERR_OK);
	sip_values_init(&it, &msg, SIP_HDR_CONTACT);
	while ((rc = sip_values_next(&it, &v)) == 1) {
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_span_str(v, want[n]);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	assert_int_equal(sip_values_next(&it, &v), 0);
}

static void
test_sip_parse_values_unterminated_rejected(void **state)
{
	static const char *const msgs[] = {
		"A sip:h SIP/2.0\r\nContact: \"open, <sip:a@h>\r\n\r\n",
		"A sip:h SIP/2.0\r\nContact: <sip:a@h, <sip:b@h\r\n\r\n",
		"A sip:h SIP/2.0\r\nContact: \"esc\\\r\n\r\n",
		"A sip:h SIP/2.0\r\nContact: <sip:a@h>, \"x\\\"\r\n\r\n",
	};
	struct sip_value_iter it;
	struct sip_msg msg;
	struct span v;
	unsigned int i;
	int rc;

	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		assert_int_equal(parse_str(*state, &msg, msgs[i]), SIP_PERR_OK);
		sip_values_init(&it, &msg, SIP_HDR_CONTACT);
		while ((rc = sip_values_next(&it, &v)) == 1)
			;
		assert_int_equal(rc, -EBADMSG);
		assert_int_equal(sip_values_next(&it, &v), 0);
	}
}

static void
test_sip_parse_values_absent_header_empty(void **state)
{
	struct sip_value_iter it;
	struct sip_msg msg;
	struct span v;

	assert_int_equal(parse_str(*state, &msg, invite), SIP_PERR_OK);
	sip_values_init(&it, &msg, SIP_HDR_ROUTE);
	assert_int_equal(sip_values_next(&it, &v), 0);
	sip_values_init(&it, &msg, SIP_HDR_VIA);
	assert_int_equal(sip_values_next(&it, &v), 1);
	assert_span_str(v, "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1");
	assert_int_equal(sip_values_next(&it, &v), 0);
}

/* ---- fixtures ---------------------------------------------------------- */

static void
fx_expect_u(const struct fixture *fx, const char *key, long got)
{
	const char *want = fixture_get(fx, key);

	if (want != NULL && strtol(want, NULL, 10) != got) {
		print_error("%s: %s=%ld, want %s\n", fx->name, key, got, want);
		fail();
	}
}

static void
fx_expect_span(const struct fixture *fx, const char *key, struct span got)
{
	const char *want = fixture_get(fx, key);

	if (want == NULL)
		return;
	if (got.ptr == NULL || got.len != strlen(want) ||
	    memcmp(got.ptr, want, got.len) != 0) {
		print_error("%s: %s='%.*s', want '%s'\n", fx->name, key,
			    (int)got.len, got.ptr != NULL ? got.ptr : "",
			    want);
		fail();
	}
}

static void
fx_expect_headers(const struct fixture *fx, const struct sip_msg *msg)
{
	unsigned int i, k;

	for (i = 0; i < fx->nkv; i++) {
		const char *name = fx->kv[i].key;
		const struct sip_hdr *h = NULL;
		enum sip_hdr_id id;

		if (strncmp(name, "hdr.", 4) != 0)
			continue;
		name += 4;
		/* Known names by id (compact forms match), others by text. */
		id = sip_hdr_classify(span_make(name, strlen(name)));
		if (id != SIP_HDR_OTHER)
			h = sip_msg_hdr(msg, id);
		for (k = 0; k < msg->nhdr && h == NULL; k++) {
			struct span n = sip_hdr_name_span(msg, &msg->hdr[k]);

			if (n.len == strlen(name) &&
			    strncasecmp(n.ptr, name, n.len) == 0)
				h = &msg->hdr[k];
		}
		if (h == NULL) {
			print_error("%s: no header %s\n", fx->name, name);
			fail();
		}
		fx_expect_span(fx, fx->kv[i].key, h->value);
	}
}

static void
fx_check(struct guard_buf *gb, const struct fixture *fx)
{
	const char *want = fixture_get(fx, "verdict");
	const char *mid = fixture_get(fx, "method_id");
	struct sip_msg msg;
	enum sip_perr rc;

	assert_non_null(want);
	rc = parse_mem(gb, &msg, fx->data, fx->len);
	if (strcmp(sip_perr_name(rc), want) != 0) {
		print_error("%s: verdict %s at %u, want %s\n", fx->name,
			    sip_perr_name(rc), msg.err_off, want);
		fail();
	}
	if (rc != SIP_PERR_OK) {
		assert_non_null(fixture_get(fx, "err_off"));
		fx_expect_u(fx, "err_off", msg.err_off);
		return;
	}
	fx_expect_u(fx, "is_request", msg.is_request);
	fx_expect_span(fx, "method", msg.method_name);
	fx_expect_span(fx, "ruri", msg.ruri);
	fx_expect_u(fx, "status", msg.status);
	fx_expect_span(fx, "reason", msg.reason);
	fx_expect_u(fx, "hdr_off", msg.hdr_off);
	fx_expect_u(fx, "nhdr", msg.nhdr);
	fx_expect_u(fx, "nvia", msg.nvia);
	fx_expect_u(fx, "body_off", msg.body_off);
	fx_expect_u(fx, "clen", msg.clen);
	fx_expect_u(fx, "body_len", msg.body_len);
	fx_expect_u(fx, "msg_len", msg.msg_len);
	if (mid != NULL) {
		if (strcmp(mid, "OTHER") == 0)
			assert_int_equal(msg.method, SIP_METHOD_OTHER);
		else
			assert_string_equal(sip_method_name(msg.method), mid);
	}
	fx_expect_headers(fx, &msg);
	assert_layout_consistent(&msg);
}

/*
 * Every strict prefix of a valid message is rejected as incomplete, unless
 * it is itself complete: the whole framed message (bytes past msg_len are
 * not part of it) or, without Content-Length, anything past the headers.
 */
static void
fx_check_prefixes(struct guard_buf *gb, const struct fixture *fx)
{
	struct sip_msg full, msg;
	uint32_t len;

	assert_int_equal(parse_mem(gb, &full, fx->data, fx->len), SIP_PERR_OK);
	for (len = 0; len < fx->len; len++) {
		enum sip_perr rc = parse_mem(gb, &msg, fx->data, len);

		if (rc == SIP_PERR_OK) {
			if (full.clen >= 0)
				assert_true(len >= full.msg_len);
			else
				assert_true(len >= full.body_off);
			assert_int_equal(msg.nhdr, full.nhdr);
			continue;
		}
		if (rc != SIP_PERR_TRUNCATED && rc != SIP_PERR_BODY_SHORT) {
			print_error("%s: prefix %u: %s\n", fx->name, len,
				    sip_perr_name(rc));
			fail();
		}
		assert_true(msg.err_off <= len);
	}
}

static void
run_fixture_dir(struct guard_buf *gb, const char *sub, int prefixes)
{
	static char names[FX_MAX_FILES][FX_NAME_LEN];
	static const enum sip_scan_impl impls[] = {
		SIP_SCAN_AUTO, SIP_SCAN_SCALAR, SIP_SCAN_SSE42, SIP_SCAN_AVX2,
	};
	struct fixture fx;
	unsigned int k;
	int i, n;

	n = fixture_list(sub, names, FX_MAX_FILES);
	assert_true(n > 0);
	for (k = 0; k < sizeof(impls) / sizeof(impls[0]); k++) {
		if (sip_scan_select(impls[k]) != 0)
			continue;       /* not on this CPU */
		for (i = 0; i < n; i++) {
			assert_int_equal(fixture_load(&fx, sub, names[i]), 0);
			fx_check(gb, &fx);
			if (prefixes)
				fx_check_prefixes(gb, &fx);
			fixture_free(&fx);
		}
	}
	assert_int_equal(sip_scan_select(SIP_SCAN_AUTO), 0);
	print_message("%s: %d fixtures\n", sub, n);
}

static void
test_sip_parse_fixtures_valid(void **state)
{
	run_fixture_dir(*state, "valid", 1);
}

static void
test_sip_parse_fixtures_invalid(void **state)
{
	run_fixture_dir(*state, "invalid", 0);
}

/*
 * The framing of every implementation against the scalar one, on random
 * header blocks built from lines of every shape the AVX2 pass treats
 * apart (WSP before ':', names of 31 and 32+ bytes, compact and unknown
 * names, folding, empty values, bare LF, bad names, lines crossing 64-byte
 * chunks), at every prefix length, each flush against the guard page.
 */
static const char *const diff_lines[] = {
	"Via: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/TCP x;rport\r\n",
	"v:SIP/2.0/UDP a;x=\"q,r\"\r\n",
	"Content-Length: 4\r\n",
	"l: 4 \r\n",
	"Content-Length: x\r\n",
	"X-Header-Name-Of-Thirty-One-Byt: 31\r\n",
	"X-Header-Name-Of-Thirty-Two-Byte: 32\r\n",
	"X-A-Header-Name-Much-Longer-Than-Thirty-Two-Bytes: long\r\n",
	"Subject :  spaced  \r\n",
	"Subject\t:\ttab\t\r\n",
	"From: \"A, B\" <sip:a@b>;tag=1\r\n",
	"To:\r\n",
	"To: \r\n",
	"To:  \t \r\n",
	"Contact: <sip:x@y>,\r\n <sip:z@w>\r\n",
	"Contact:\r\n\t<sip:x@y>\r\n",
	"Bad Header: x\r\n",
	":novalue\r\n",
	"Na~me!%*_+`'.-: token\r\n",
	"CALL-ID: upper\r\n",
	"call-id: lower\r\n",
	"i:compact\r\n",
	"P-Asserted-Identity: <sip:p@q>\r\n",
	"Proxy-Authorization: Digest x=\"y\"\r\n",
	"Referred-By: <sip:r@s>\r\n",
	"Retry-After: 5\r\n",
	"Record-Route: <sip:a;lr>, <sip:b;lr>\r\n",
	"bare: lf\n",
	"\xc3\x9cmlaut: x\r\n",
	"Foo: a\rb\r\n",
	"Via : x\r\n",
	"Route: <sip:a;lr>\r\n",
	"X-Pad: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n",
	"x: a\n \n b\r\n",
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-one-value-only\r\n",
	"Via: SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.200;branch=z9hG4bK-a-value-longer-than-a-chunk\r\n",
	"Content-Length: 0000000004\r\n",
	"Content-Length: 2147483648\r\n",
	"Content-Length: 4x\r\n",
	"l:\r\n",
};

static uint32_t
diff_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
assert_msg_equal(const struct sip_msg *a, const struct sip_msg *b,
		 enum sip_perr ra, enum sip_perr rb)
{
	unsigned int i;

	assert_int_equal(ra, rb);
	assert_int_equal(a->err_off, b->err_off);
	assert_int_equal(a->nhdr, b->nhdr);
	assert_int_equal(a->nvia, b->nvia);
	assert_int_equal(a->clen, b->clen);
	assert_int_equal(a->hdr_off, b->hdr_off);
	assert_int_equal(a->body_off, b->body_off);
	assert_int_equal(a->msg_len, b->msg_len);
	assert_memory_equal(a->first, b->first, sizeof(a->first));
	for (i = 0; i < a->nhdr; i++) {
		assert_int_equal(a->hdr[i].off, b->hdr[i].off);
		assert_int_equal(a->hdr[i].name_len, b->hdr[i].name_len);
		assert_int_equal(a->hdr[i].line_len, b->hdr[i].line_len);
		assert_int_equal(a->hdr[i].id, b->hdr[i].id);
		assert_int_equal(a->hdr[i].next, b->hdr[i].next);
		assert_ptr_equal(a->hdr[i].value.ptr, b->hdr[i].value.ptr);
		assert_int_equal(a->hdr[i].value.len, b->hdr[i].value.len);
	}
}

/* Every prefix of @buf, flush against the guard page, framed alike. */
static void
diff_check(struct guard_buf *gb, const char *buf, uint32_t n)
{
	static const enum sip_scan_impl impls[] = {
		SIP_SCAN_SSE42, SIP_SCAN_AVX2,
	};
	static struct sip_msg ref, got;
	enum sip_perr rr, rg;
	const char *in;
	uint32_t len, k;

	for (len = 0; len <= n; len++) {
		in = guard_buf_put(gb, buf, len);
		assert_int_equal(sip_scan_select(SIP_SCAN_SCALAR), 0);
		rr = sip_parse(&ref, in, len);
		for (k = 0; k < sizeof(impls) / sizeof(impls[0]); k++) {
			if (sip_scan_select(impls[k]) != 0)
				continue;       /* not on this CPU */
			rg = sip_parse(&got, in, len);
			assert_msg_equal(&ref, &got, rr, rg);
		}
	}
}

static void
test_sip_parse_impls_frame_alike(void **state)
{
	static char buf[4096];
	uint32_t seed = 1, n, i, k, nl;

	for (i = 0; i < 400; i++) {
		n = (uint32_t)snprintf(buf, sizeof(buf), "%s",
				       i & 1 ? "SIP/2.0 200 OK\r\n" :
					       "INVITE sip:a@b SIP/2.0\r\n");
		nl = diff_rand(&seed) % 14;
		for (k = 0; k < nl; k++) {
			const char *l = diff_lines[diff_rand(&seed) %
				(sizeof(diff_lines) / sizeof(diff_lines[0]))];

			n += (uint32_t)snprintf(buf + n, sizeof(buf) - n, "%s", l);
		}
		n += (uint32_t)snprintf(buf + n, sizeof(buf) - n, "%s",
					diff_rand(&seed) % 4 ? "\r\nbody" : "\n");
		diff_check(*state, buf, n);
	}
	/* every known name, as written, upper and lower case, and one off */
	for (i = 1; i < SIP_HDR__COUNT; i++) {
		const char *name = sip_hdr_name((enum sip_hdr_id)i);
		size_t len = strlen(name);

		n = (uint32_t)snprintf(buf, sizeof(buf), "BYE sip:a@b SIP/2.0\r\n");
		for (k = 0; k < 4; k++) {
			char nm[64];
			size_t j;

			for (j = 0; j < len; j++)
				nm[j] = k == 1 ? (char)toupper((unsigned char)name[j]) :
					k == 2 ? (char)tolower((unsigned char)name[j]) :
						 name[j];
			if (k == 3)
				nm[len - 1] = (char)(nm[len - 1] ^ 1);
			nm[len] = '\0';
			n += (uint32_t)snprintf(buf + n, sizeof(buf) - n,
						"%s: %u\r\n", nm, k);
		}
		n += (uint32_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
		diff_check(*state, buf, n);
	}
	/* every one-letter name (compact forms) */
	n = (uint32_t)snprintf(buf, sizeof(buf), "BYE sip:a@b SIP/2.0\r\n");
	for (k = 0; k < 26; k++)
		n += (uint32_t)snprintf(buf + n, sizeof(buf) - n,
					"%c: a\r\n%c:b\r\n", 'a' + k, 'A' + k);
	n += (uint32_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	diff_check(*state, buf, n);
	/* the limits: Via values, header lines */
	for (i = 0; i < 2; i++) {
		n = (uint32_t)snprintf(buf, sizeof(buf), "BYE sip:a@b SIP/2.0\r\n");
		for (k = 0; k < 100; k++)
			n += (uint32_t)snprintf(buf + n, sizeof(buf) - n, "%s",
						i == 0 ? "Via: SIP/2.0/UDP h\r\n" :
							 "X: y\r\n");
		n += (uint32_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
		diff_check(*state, buf, n);
	}
	assert_int_equal(sip_scan_select(SIP_SCAN_AUTO), 0);
}

static int
setup_guard(void **state)
{
	*state = guard_buf_new(GUARD_SIZE);
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
		cmocka_unit_test(test_sip_parse_invite_fields),
		cmocka_unit_test(test_sip_parse_response_fields),
		cmocka_unit_test(test_sip_parse_status_empty_reason_accepted),
		cmocka_unit_test(test_sip_parse_compact_forms_linked),
		cmocka_unit_test(test_sip_parse_folded_value_kept),
		cmocka_unit_test(test_sip_parse_bare_lf_accepted),
		cmocka_unit_test(test_sip_parse_lws_before_colon_accepted),
		cmocka_unit_test(test_sip_parse_empty_value_accepted),
		cmocka_unit_test(test_sip_parse_via_quoted_commas_not_counted),
		cmocka_unit_test(test_sip_parse_too_many_via_rejected),
		cmocka_unit_test(test_sip_parse_clen_equal_duplicates_accepted),
		cmocka_unit_test(test_sip_parse_clen_trailing_bytes_excluded),
		cmocka_unit_test(test_sip_parse_no_clen_takes_rest),
		cmocka_unit_test(test_sip_parse_clen_errors_rejected),
		cmocka_unit_test(test_sip_parse_request_line_errors_rejected),
		cmocka_unit_test(test_sip_parse_status_line_errors_rejected),
		cmocka_unit_test(test_sip_parse_uri_length_limit),
		cmocka_unit_test(test_sip_parse_too_big_rejected),
		cmocka_unit_test(test_sip_parse_too_many_hdrs_rejected),
		cmocka_unit_test(test_sip_parse_bad_header_rejected),
		cmocka_unit_test(test_sip_parse_bad_request_line_headers_located),
		cmocka_unit_test(test_sip_parse_bad_header_keeps_earlier),
		cmocka_unit_test(test_sip_parse_bad_header_answer_headers_located),
		cmocka_unit_test(test_sip_parse_truncated_prefix_rejected),
		cmocka_unit_test(test_sip_parse_mutations_no_fault),
		cmocka_unit_test(test_sip_parse_values_split),
		cmocka_unit_test(test_sip_parse_values_unterminated_rejected),
		cmocka_unit_test(test_sip_parse_values_absent_header_empty),
		cmocka_unit_test(test_sip_parse_fixtures_valid),
		cmocka_unit_test(test_sip_parse_fixtures_invalid),
		cmocka_unit_test(test_sip_parse_impls_frame_alike),
	};

	return cmocka_run_group_tests_name("sip_parse", tests,
					   setup_guard, teardown_guard);
}
