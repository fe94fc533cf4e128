/* SPDX-License-Identifier: MIT */
/*
 * test_sip_uri.c - unit tests of dataplane/sip/sip_uri.c: URIs (RFC 3261,
 * RFC 3966 tel:, RFC 4475 and RFC 5118 cases), parameter lists, %HH
 * unescaping and IP literals. Every input sits flush against a PROT_NONE
 * page, so a read past its end faults.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sip.h>

#include "../harness/guard_buf.h"
#include "sip_corpus.h"
#include "sip_test_span.h"
#include "sip_scan.h"
#include "sip_uri_priv.h"

/* ---- helpers ------------------------------------------------------------- */

/* Input of @p n bytes placed against the guard page, as a span. */

static void
t_span_str(struct span sp, const char *s)
{
	check_span(sp, s, s != NULL ? strlen(s) : 0);
}

/* Every non-NULL span of @p u lies inside @p in. */
static void
t_uri_inside(const struct sip_uri *u, struct span in)
{
	const struct span *all[] = {
		&u->scheme, &u->user, &u->password, &u->host, &u->port_str,
		&u->params, &u->headers, &u->opaque,
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i]->ptr == NULL)
			continue;
		assert_true(all[i]->ptr >= in.ptr);
		assert_true(all[i]->ptr + all[i]->len <= in.ptr + in.len);
	}
}

static enum sip_perr
parse_str(void **state, struct sip_uri *u, const char *s)
{
	return sip_uri_parse(u, put_str(state, s));
}

/* ---- expected parses ----------------------------------------------------- */

struct uri_case {
	const char      *in;
	uint8_t          scheme_id;
	const char      *user;
	const char      *password;
	const char      *host;
	uint8_t          host_type;
	const char      *port_str;
	uint16_t         port;
	const char      *params;
	const char      *headers;
};

static void
run_uri_cases(void **state, const struct uri_case *c, size_t n)
{
	struct sip_uri u;
	struct span in;
	size_t i;

	for (i = 0; i < n; i++) {
		in = put_str(state, c[i].in);
		assert_int_equal(sip_uri_parse(&u, in), SIP_PERR_OK);
		t_uri_inside(&u, in);
		assert_int_equal(u.scheme_id, c[i].scheme_id);
		t_span_str(u.user, c[i].user);
		t_span_str(u.password, c[i].password);
		t_span_str(u.host, c[i].host);
		assert_int_equal(u.host_type, c[i].host_type);
		t_span_str(u.port_str, c[i].port_str);
		assert_int_equal(u.port, c[i].port);
		t_span_str(u.params, c[i].params);
		t_span_str(u.headers, c[i].headers);
		/* opaque is always everything after the first ':' */
		assert_ptr_equal(u.opaque.ptr, u.scheme.ptr + u.scheme.len + 1);
		assert_ptr_equal(u.opaque.ptr + u.opaque.len, in.ptr + in.len);
	}
}

#define RUN_CASES(state, arr)   run_uri_cases((state), (arr), \
					      sizeof(arr) / sizeof((arr)[0]))

static void
run_bad_uris(void **state, const char *const *bad, size_t n)
{
	struct sip_uri u;
	size_t i;

	for (i = 0; i < n; i++) {
		if (parse_str(state, &u, bad[i]) != SIP_PERR_BAD_URI)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

#define RUN_BAD(state, arr)     run_bad_uris((state), (arr), \
					     sizeof(arr) / sizeof((arr)[0]))

#define S       SIP_SCHEME_SIP
#define SS      SIP_SCHEME_SIPS
#define T       SIP_SCHEME_TEL
#define NAME    SIP_HOST_NAME
#define V4      SIP_HOST_IPV4
#define V6      SIP_HOST_IPV6

static const struct uri_case basic_cases[] = {
	{ "sip:alice:secret@example.com:5070;transport=udp;lr?subject=hi&x=",
	  S, "alice", "secret", "example.com", NAME, "5070", 5070,
	  ";transport=udp;lr", "subject=hi&x=" },
	{ "sip:example.com", S, NULL, NULL, "example.com", NAME, NULL, 0,
	  NULL, NULL },
	{ "sips:bob@192.0.2.4", SS, "bob", NULL, "192.0.2.4", V4, NULL, 0,
	  NULL, NULL },
	{ "sip:+15550100@edge.example;user=phone", S, "+15550100", NULL,
	  "edge.example", NAME, NULL, 0, ";user=phone", NULL },
	{ "sip:u:@h", S, "u", "", "h", NAME, NULL, 0, NULL, NULL },
	{ "sip:h?a=b", S, NULL, NULL, "h", NAME, NULL, 0, NULL, "a=b" },
	{ "sip:h:0", S, NULL, NULL, "h", NAME, "0", 0, NULL, NULL },
	{ "sip:h:65535", S, NULL, NULL, "h", NAME, "65535", 65535, NULL, NULL },
	{ "sip:h:0005060", S, NULL, NULL, "h", NAME, "0005060", 5060, NULL,
	  NULL },
	{ "sip:services.example.com;lr;unknownwith=value;unknown-no-value",
	  S, NULL, NULL, "services.example.com", NAME, NULL, 0,
	  ";lr;unknownwith=value;unknown-no-value", NULL },
	{ "sip:h;maddr=[2001:db8::1];x=a/b:c&d+e$f", S, NULL, NULL, "h", NAME,
	  NULL, 0, ";maddr=[2001:db8::1];x=a/b:c&d+e$f", NULL },
};

static void
test_sip_uri_parse_basic_fields(void **state)
{
	RUN_CASES(state, basic_cases);
}

static const struct uri_case case_cases[] = {
	{ "SIP:a@B.example", S, "a", NULL, "B.example", NAME, NULL, 0, NULL,
	  NULL },
	{ "SiPs:a@b", SS, "a", NULL, "b", NAME, NULL, 0, NULL, NULL },
	{ "TEL:+1-212-555-0100", T, "+1-212-555-0100", NULL, NULL, 0, NULL, 0,
	  NULL, NULL },
};

static void
test_sip_uri_parse_scheme_case_insensitive(void **state)
{
	RUN_CASES(state, case_cases);
}

static const struct uri_case hostname_cases[] = {
	{ "sip:example.com.", S, NULL, NULL, "example.com.", NAME, NULL, 0,
	  NULL, NULL },
	{ "sip:a", S, NULL, NULL, "a", NAME, NULL, 0, NULL, NULL },
	{ "sip:1a-b.example-2.org", S, NULL, NULL, "1a-b.example-2.org", NAME,
	  NULL, 0, NULL, NULL },
	{ "sip:255.255.255.255", S, NULL, NULL, "255.255.255.255", V4, NULL, 0,
	  NULL, NULL },
	{ "sip:0.0.0.0:1", S, NULL, NULL, "0.0.0.0", V4, "1", 1, NULL, NULL },
};

static void
test_sip_uri_parse_hostname_forms(void **state)
{
	RUN_CASES(state, hostname_cases);
}

/* RFC 4475 §3.1.1.3 esc01: escapes in the user part stay escaped. */
static void
test_sip_uri_parse_rfc4475_esc01(void **state)
{
	static const struct uri_case c[] = {
		{ "sip:sips%3Auser%40example.com@example.net", S,
		  "sips%3Auser%40example.com", NULL, "example.net", NAME,
		  NULL, 0, NULL, NULL },
		{ "sip:%75se%72@example.com", S, "%75se%72", NULL,
		  "example.com", NAME, NULL, 0, NULL, NULL },
		{ "sip:I%20have%20spaces@example.net", S, "I%20have%20spaces",
		  NULL, "example.net", NAME, NULL, 0, NULL, NULL },
		{ "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
		  S, "cal%6Cer", NULL, "host5.example.net", NAME, NULL, 0,
		  ";%6C%72;n%61me=v%61lue%25%34%31", NULL },
	};
	struct sip_uri u;
	char out[64];
	int n;

	RUN_CASES(state, c);
	assert_int_equal(parse_str(state, &u,
		"sip:sips%3Auser%40example.com@example.net"), SIP_PERR_OK);
	n = sip_unescape(u.user, out, sizeof(out));
	assert_int_equal(n, 21);
	assert_memory_equal(out, "sips:user@example.com", 21);
}

/* RFC 4475 §3.1.1.4 escnull: %00 is a valid escape, kept as written. */
static void
test_sip_uri_parse_rfc4475_escnull(void **state)
{
	static const struct uri_case c[] = {
		{ "sip:null-%00-null@example.com", S, "null-%00-null", NULL,
		  "example.com", NAME, NULL, 0, NULL, NULL },
		{ "sip:%00@host5.example.com", S, "%00", NULL,
		  "host5.example.com", NAME, NULL, 0, NULL, NULL },
		{ "sip:%00%00@host5.example.com", S, "%00%00", NULL,
		  "host5.example.com", NAME, NULL, 0, NULL, NULL },
	};
	struct sip_uri u;
	char out[16];

	RUN_CASES(state, c);
	assert_int_equal(parse_str(state, &u, "sip:null-%00-null@example.com"),
			 SIP_PERR_OK);
	assert_int_equal(sip_unescape(u.user, out, sizeof(out)), 11);
	assert_memory_equal(out, "null-\0-null", 11);
}

/* RFC 4475 §3.1.1.9 semiuri: ';' belongs to the user part before '@'. */
static void
test_sip_uri_parse_rfc4475_semiuri(void **state)
{
	static const struct uri_case c[] = {
		{ "sip:user;par=u%40example.net@example.com", S,
		  "user;par=u%40example.net", NULL, "example.com", NAME, NULL,
		  0, NULL, NULL },
	};

	RUN_CASES(state, c);
}

/* RFC 4475 §3.1.1.2 intmeth: every legal odd character in user/password. */
static void
test_sip_uri_parse_rfc4475_intmeth(void **state)
{
	static const struct uri_case c[] = {
		{ "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:"
		  "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com", S,
		  "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
		  "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", "example.com",
		  NAME, NULL, 0, NULL, NULL },
		{ "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
		  "@example.com", S,
		  "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", NULL,
		  "example.com", NAME, NULL, 0, NULL, NULL },
	};

	RUN_CASES(state, c);
}

/* RFC 4475 §3.3.14 regescrt and §3.1.2.11 escruri: escaped URI headers. */
static void
test_sip_uri_parse_rfc4475_escaped_headers(void **state)
{
	static const struct uri_case c[] = {
		{ "sip:user@example.com?Route=%3Csip:sip.example.com%3E", S,
		  "user", NULL, "example.com", NAME, NULL, 0, NULL,
		  "Route=%3Csip:sip.example.com%3E" },
		{ "sip:user@example.com?Route=%3Csip:example.com%3E", S, "user",
		  NULL, "example.com", NAME, NULL, 0, NULL,
		  "Route=%3Csip:example.com%3E" },
		{ "sip:h;lr?a=1&b=%20&c=[]/?:+$", S, NULL, NULL, "h", NAME,
		  NULL, 0, ";lr", "a=1&b=%20&c=[]/?:+$" },
	};

	RUN_CASES(state, c);
}

/* RFC 4475 §3.3.2 unkscm, §3.3.3 novelsc, §3.3.4 unksm2. */
static void
test_sip_uri_parse_rfc4475_other_schemes(void **state)
{
	static const char *const in[] = {
		"nobodyKnowsThisScheme:totallyopaquecontent",
		"soap.beep://192.0.2.103:3002",
		"isbn:2983792873",
		"http://www.example.com",
		"name:John_Smith",
		"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
		"mailto:a@b.example?subject=x%20y#frag",
		"sipx:user@host",
		"si:x",
	};
	struct sip_uri u;
	struct span s;
	size_t i, sl;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		s = put_str(state, in[i]);
		assert_int_equal(sip_uri_parse(&u, s), SIP_PERR_OK);
		assert_int_equal(u.scheme_id, SIP_SCHEME_OTHER);
		sl = (size_t)((const char *)memchr(in[i], ':', strlen(in[i])) -
			      in[i]);
		check_span(u.scheme, in[i], sl);
		check_span(u.opaque, in[i] + sl + 1, strlen(in[i]) - sl - 1);
		t_span_absent(u.user);
		t_span_absent(u.host);
		assert_int_equal(u.host_type, SIP_HOST_NONE);
		t_span_absent(u.params);
	}
}

/* RFC 4475 §3.1.2.7 ltgtruri and §3.1.2.8 lwsruri. */
static void
test_sip_uri_parse_rfc4475_bad_request_uris(void **state)
{
	static const char *const bad[] = {
		"<sip:user@example.com>",
		"sip:user@example.com; lr",
		"sip:user@example.com ;lr",
		"sip:user@example.com;\r\n lr",
	};

	RUN_BAD(state, bad);
}

/* RFC 5118 §4.1, §4.3, §4.4, §4.9, §4.10: IPv6 references. */
static void
test_sip_uri_parse_rfc5118_ipv6(void **state)
{
	static const struct uri_case c[] = {
		{ "sip:[2001:db8::10]", S, NULL, NULL, "[2001:db8::10]", V6,
		  NULL, 0, NULL, NULL },
		{ "sip:[2001:db8::10:5070]", S, NULL, NULL,
		  "[2001:db8::10:5070]", V6, NULL, 0, NULL, NULL },
		{ "sip:[2001:db8::10]:5070", S, NULL, NULL, "[2001:db8::10]",
		  V6, "5070", 5070, NULL, NULL },
		{ "sip:caller@[2001:db8::1]", S, "caller", NULL,
		  "[2001:db8::1]", V6, NULL, 0, NULL, NULL },
		{ "sip:ted@[::ffff:192.0.2.2]", S, "ted", NULL,
		  "[::ffff:192.0.2.2]", V6, NULL, 0, NULL, NULL },
		{ "sip:user@[2001:db8::192.0.2.1]", S, "user", NULL,
		  "[2001:db8::192.0.2.1]", V6, NULL, 0, NULL, NULL },
		{ "sip:user@[2001:db8:::192.0.2.1]", S, "user", NULL,
		  "[2001:db8:::192.0.2.1]", V6, NULL, 0, NULL, NULL },
		{ "sips:[::1]:5061;transport=tls", SS, NULL, NULL, "[::1]", V6,
		  "5061", 5061, ";transport=tls", NULL },
		{ "sip:[2001:DB8:0:0:0:0:0:1]", S, NULL, NULL,
		  "[2001:DB8:0:0:0:0:0:1]", V6, NULL, 0, NULL, NULL },
	};
	static const uint8_t amb[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x10, 0x50, 0x70,
	};
	struct sip_uri u;
	uint8_t a[16];

	RUN_CASES(state, c);

	/* §4.3: the ":5070" is the last group of the address, not a port. */
	assert_int_equal(parse_str(state, &u, "sip:[2001:db8::10:5070]"),
			 SIP_PERR_OK);
	assert_int_equal(sip_host_to_ip(u.host, a), 16);
	assert_memory_equal(a, amb, 16);
}

/* RFC 5118 §4.2 ipv6-bad: an IPv6 address needs its brackets. */
static void
test_sip_uri_parse_rfc5118_bare_ipv6_rejected(void **state)
{
	static const char *const bad[] = {
		"sip:2001:db8::10",
		"sip:user@2001:db8::10",
		"sip:::1",
		"sip:[2001:db8::10",
		"sip:2001:db8::10]",
		"sip:[]",
		"sip:[:]",
		"sip:[::1]x",
		"sip:[::1]:",
		"sip:[::1]:x",
		"sip:[::1]5060",
		"sip:[1:2:3:4:5:6:7:8:9]",
		"sip:[1::2::3]",
		"sip:[12345::]",
		"sip:[g::1]",
		"sip:[192.0.2.1]",
		"sip:[::1%eth0]",
		"sip:[[::1]]",
	};

	RUN_BAD(state, bad);
}

static const struct uri_case tel_cases[] = {
	{ "tel:+1-212-555-0100", T, "+1-212-555-0100", NULL, NULL, 0, NULL, 0,
	  NULL, NULL },
	{ "tel:+1-212-555-0100;ext=123", T, "+1-212-555-0100", NULL, NULL, 0,
	  NULL, 0, ";ext=123", NULL },
	{ "tel:7042;phone-context=example.com", T, "7042", NULL, NULL, 0, NULL,
	  0, ";phone-context=example.com", NULL },
	{ "tel:863-1234;phone-context=+1-914-555", T, "863-1234", NULL, NULL,
	  0, NULL, 0, ";phone-context=+1-914-555", NULL },
	{ "tel:+(44).20.7946.0000;isub=1234;npdi;rn=+1-800-555", T,
	  "+(44).20.7946.0000", NULL, NULL, 0, NULL, 0,
	  ";isub=1234;npdi;rn=+1-800-555", NULL },
	{ "tel:*67#;phone-context=example.net", T, "*67#", NULL, NULL, 0, NULL,
	  0, ";phone-context=example.net", NULL },
	{ "tel:ABCD", T, "ABCD", NULL, NULL, 0, NULL, 0, NULL, NULL },
	{ "tel:+1;x=%20", T, "+1", NULL, NULL, 0, NULL, 0, ";x=%20", NULL },
};

static void
test_sip_uri_parse_tel_numbers(void **state)
{
	RUN_CASES(state, tel_cases);
}

static void
test_sip_uri_parse_tel_rejected(void **state)
{
	static const char *const bad[] = {
		"tel:",
		"tel:+",
		"tel:+-",
		"tel:--",
		"tel:+1x",
		"tel:+1A",
		"tel:12G",
		"tel:;a=b",
		"tel:123;",
		"tel:123;;a",
		"tel:123;=x",
		"tel:123;a=",
		"tel:123;a_b=1",
		"tel:123;a=b c",
		"tel:+1 212",
		"tel:123?x=y",
		"tel:123@host",
		"tel:+1;x=%2",
		"tel:+1;x=%zz",
	};

	RUN_BAD(state, bad);
}

static void
test_sip_uri_parse_errors_rejected(void **state)
{
	static const char *const bad[] = {
		/* scheme */
		"", "sip", ":foo", "1sip:host", "s_p:host", "-x:y",
		"foo:", "foo: bar", "foo:a\"b", "foo:<x>", "foo:a\\b",
		"foo:{x}", "foo:a|b", "foo:a^b", "foo:a`b",
		/* userinfo */
		"sip:", "sip:@host", "sip::pw@host", "sip:user@",
		"sip:a@b@c", "sip:%4@host", "sip:%zz@host", "sip:%@host",
		"sip:us%4", "sip:user:pass:word@host", "sip:user:p;w@host",
		"sip:\"user\"@host", "sip:<user>@host", "sip:us[er@host",
		"sip:us#er@host",
		/* host */
		"sip:-host", "sip:host-", "sip:host..com", "sip:.host",
		"sip:.", "sip:ho_st", "sip:example.1com", "sip:192.0.2.256",
		"sip:1.2.3", "sip:1.2.3.4.5", "sip:1234", "sip:01234.1.1.1",
		"sip:a.-b.c", "sip:host/path", "sip:host#frag",
		/* port */
		"sip:host:", "sip:host:abc", "sip:host:65536",
		"sip:host:99999999999999999999999", "sip:host:5060:5060",
		"sip:host:-1", "sip:host:+1",
		/* params */
		"sip:host;", "sip:host;;lr", "sip:host;=x", "sip:host;a=",
		"sip:host;lr;", "sip:host;a==b", "sip:host;a=b=c",
		"sip:host;a=%", "sip:host;a=\"b\"",
		"sip:host;a=<b>", "sip:host;a=b,c", "sip:host;a=b@",
		/* headers */
		"sip:host?", "sip:host?a", "sip:host?=b", "sip:host?a=b&",
		"sip:host?&a=b", "sip:host?a=b&c", "sip:host?a=b=c",
		"sip:host?a=%2", "sip:host?a=;", "sip:host;lr?a=b?c=d;e",
		/* LWS, controls, non-ASCII */
		"sip:ho st", "sip:host\t", "sip:host\r\n", " sip:host",
		"sip:host ", ("sip:us\x7f" "er@host"), "sip:user@hos\x80t",
		"sip:user@host;a=\x01", "sip:\xc3\xa9@host",
	};

	RUN_BAD(state, bad);
}

/* A NUL byte is data, not a terminator: it must be rejected, not skipped. */
static void
test_sip_uri_parse_embedded_nul_rejected(void **state)
{
	static const char in1[] = "sip:user@host\0";
	static const char in2[] = "sip:us\0er@host";
	static const char in3[] = "x\0y:opaque";
	static const char in4[] = "other:a\0b";
	struct sip_uri u;

	assert_int_equal(sip_uri_parse(&u, PUT(state, in1)), SIP_PERR_BAD_URI);
	assert_int_equal(sip_uri_parse(&u, PUT(state, in2)), SIP_PERR_BAD_URI);
	assert_int_equal(sip_uri_parse(&u, PUT(state, in3)), SIP_PERR_BAD_URI);
	assert_int_equal(sip_uri_parse(&u, PUT(state, in4)), SIP_PERR_BAD_URI);
}

/* Every byte value at every position of a URI: no fault, sane verdict. */
static void
test_sip_uri_parse_any_byte_never_faults(void **state)
{
	static const char base[] =
		"sips:us%41er:pw@[2001:db8::1]:5061;a=b;lr?h=v&i=j";
	char buf[sizeof(base)];
	struct sip_uri u;
	struct span in;
	size_t pos;
	unsigned int c;

	for (pos = 0; pos < sizeof(base) - 1; pos++) {
		for (c = 0; c < 256; c++) {
			memcpy(buf, base, sizeof(base) - 1);
			buf[pos] = (char)c;
			in = put(state, buf, sizeof(base) - 1);
			if (sip_uri_parse(&u, in) == SIP_PERR_OK) {
				t_uri_inside(&u, in);
				/* no control or space is ever accepted */
				assert_true(c > 0x20 && c < 0x7f);
			}
		}
	}
}

static const char *const valid_uris[] = {
	"sip:alice:secret@example.com:5070;transport=udp;lr?subject=hi&x=",
	"sips:bob@192.0.2.4:5061",
	"sip:user;par=u%40example.net@example.com",
	"sip:[2001:db8::10]:5070;maddr=[::1]",
	"sip:ted@[::ffff:192.0.2.2]",
	"sip:user@[2001:db8:::192.0.2.1]",
	"tel:+1-212-555-0100;ext=123",
	"nobodyKnowsThisScheme:totallyopaquecontent",
	("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:"
	 "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com"),
	"sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	"sip:user@example.com?Route=%3Csip:sip.example.com%3E",
};

/* Strict prefixes of valid URIs: any verdict, never a read past the end. */
static void
test_sip_uri_parse_prefixes_never_fault(void **state)
{
	struct sip_uri u;
	struct span in;
	size_t i, n, len;

	for (i = 0; i < sizeof(valid_uris) / sizeof(valid_uris[0]); i++) {
		len = strlen(valid_uris[i]);
		assert_int_equal(parse_str(state, &u, valid_uris[i]),
				 SIP_PERR_OK);
		for (n = 0; n < len; n++) {
			in = put(state, valid_uris[i], n);
			if (sip_uri_parse(&u, in) == SIP_PERR_OK)
				t_uri_inside(&u, in);
		}
	}
}

/* Prefixes that cut a mandatory element are rejected. */
static void
test_sip_uri_parse_truncated_prefix_rejected(void **state)
{
	static const char *const bad[] = {
		"s", "si", "sip", "sip:", "sip:alice:secret@",
		"sip:alice:secret@example.com:", "sip:a@b;", "sip:a@b;x=",
		"sip:a@b?", "sip:a@b?x", "sip:[2001:db8::10", "sip:[2001:db8::10]:",
		"sip:a%", "sip:a%4", "tel:", "tel:+", "tel:+1;", "other:",
	};

	RUN_BAD(state, bad);
}

/* ---- parameter lists ----------------------------------------------------- */

static void
test_sip_uri_param_next_walks_list(void **state)
{
	struct span rest, n, v;

	rest = PUT(state, ";a=b;c;d=\"x; y\";e=[2001:db8::9:255];f=1:2");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "a");
	t_span(v, "b");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "c");
	t_span_absent(v);
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "d");
	t_span(v, "x; y");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "e");
	t_span(v, "[2001:db8::9:255]");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "f");
	t_span(v, "1:2");
	assert_int_equal(sip_param_next(&rest, &n, &v), 0);
	assert_int_equal(rest.len, 0);
	assert_int_equal(sip_param_next(&rest, &n, &v), 0);

	/* rest stops on the next ';', after trailing LWS */
	rest = PUT(state, "a = 1 ;b");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	assert_int_equal(rest.len, 2);
	assert_memory_equal(rest.ptr, ";b", 2);
}

/* RFC 4475 §3.1.1.1 wsinv: LWS (with folding) around ';' and '='. */
static void
test_sip_uri_param_next_lws_accepted(void **state)
{
	struct span rest, n, v;

	rest = PUT(state, " ;   tag    = 1918181833n");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "tag");
	t_span(v, "1918181833n");
	assert_int_equal(sip_param_next(&rest, &n, &v), 0);

	rest = PUT(state, "\r\n  ;\r\n  tag = 98asjd8 ; x\t;\ty\t=\t\"q\\\"\" ");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "tag");
	t_span(v, "98asjd8");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "x");
	t_span_absent(v);
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "y");
	t_span(v, "q\\\"");
	assert_int_equal(sip_param_next(&rest, &n, &v), 0);

	/* the leading ';' is optional */
	rest = PUT(state, "lr");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	t_span(n, "lr");
	assert_int_equal(sip_param_next(&rest, &n, &v), 0);

	rest = PUT(state, "");
	assert_int_equal(sip_param_next(&rest, &n, &v), 0);
	rest = PUT(state, " \r\n ");
	assert_int_equal(sip_param_next(&rest, &n, &v), 0);
}

static void
test_sip_uri_param_next_malformed_rejected(void **state)
{
	static const char *const bad[] = {
		";", ";;", "; ;", ";=b", ";a=", ";a= ", ";a b", ";a=b c",
		";a=\"unterminated", ";a=\"x\"y", ";a=b,c", ";a=<b>", ",a",
		";a=\"\x01\"", ";a=\"x\\", ";a@b", ";a=\"\\\r\"", "=b", ";\"a\"=b",
	};
	struct span rest, n, v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rest = put_str(state, bad[i]);
		while ((rc = sip_param_next(&rest, &n, &v)) == 1)
			;
		if (rc != -EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}

	/* a trailing ';' after good params is an error at its turn */
	rest = PUT(state, ";a=1;b;");
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	assert_int_equal(sip_param_next(&rest, &n, &v), 1);
	assert_int_equal(sip_param_next(&rest, &n, &v), -EBADMSG);
}

static void
test_sip_uri_param_get_finds_case_insensitive(void **state)
{
	struct span params, v;

	params = PUT(state, ";Branch=z9hG4bK776;LR;TTL = 16;q=\"0.5\"");
	assert_true(sip_param_get(params, SPAN_LIT("branch"), &v));
	t_span(v, "z9hG4bK776");
	assert_true(sip_param_get(params, SPAN_LIT("lr"), &v));
	assert_non_null(v.ptr);
	assert_int_equal(v.len, 0);
	assert_ptr_equal(v.ptr, params.ptr + 21);
	assert_true(sip_param_get(params, SPAN_LIT("ttl"), &v));
	t_span(v, "16");
	assert_true(sip_param_get(params, SPAN_LIT("q"), &v));
	t_span(v, "0.5");
	assert_false(sip_param_get(params, SPAN_LIT("bran"), &v));
	assert_false(sip_param_get(params, SPAN_LIT("maddr"), &v));

	/* first match wins; leading ';' optional */
	params = PUT(state, "tag=a;tag=b");
	assert_true(sip_param_get(params, SPAN_LIT("tag"), &v));
	t_span(v, "a");
}

static void
test_sip_uri_param_get_missing_or_malformed(void **state)
{
	struct span params, v;

	assert_false(sip_param_get(SPAN_NULL, SPAN_LIT("tag"), &v));
	params = PUT(state, "");
	assert_false(sip_param_get(params, SPAN_LIT("tag"), &v));
	/* found before the error; not found after it */
	params = PUT(state, ";a=1;;tag=x");
	assert_true(sip_param_get(params, SPAN_LIT("a"), &v));
	assert_false(sip_param_get(params, SPAN_LIT("tag"), &v));
}

/* URI params from sip_uri_parse() walk the same way. */
static void
test_sip_uri_param_get_on_uri_params(void **state)
{
	struct sip_uri u;
	struct span v;

	assert_int_equal(parse_str(state, &u,
		"sip:h;transport=TCP;maddr=[2001:db8::1];lr;x=a/b$c"),
		SIP_PERR_OK);
	assert_true(sip_param_get(u.params, SPAN_LIT("transport"), &v));
	t_span(v, "TCP");
	assert_true(sip_param_get(u.params, SPAN_LIT("maddr"), &v));
	t_span(v, "[2001:db8::1]");
	assert_true(sip_param_get(u.params, SPAN_LIT("lr"), &v));
	assert_int_equal(v.len, 0);
	assert_true(sip_param_get(u.params, SPAN_LIT("x"), &v));
	t_span(v, "a/b$c");
}

/* Every prefix of a parameter list: walk it without faulting. */
static void
test_sip_uri_param_next_prefixes_never_fault(void **state)
{
	static const char list[] =
		" ;\r\n tag = \"a\\\"b\" ;lr;received=[2001:db8::1];q=0.5";
	struct span rest, n, v;
	size_t len;
	int rc, guard;

	for (len = 0; len <= sizeof(list) - 1; len++) {
		rest = put(state, list, len);
		guard = 0;
		while ((rc = sip_param_next(&rest, &n, &v)) == 1) {
			assert_true(++guard < 16);
			assert_true(n.len > 0);
		}
		assert_true(rc == 0 || rc == -EBADMSG);
	}
}

/* ---- unescape ------------------------------------------------------------ */

static void
test_sip_uri_unescape_decodes(void **state)
{
	char out[32];

	assert_int_equal(sip_unescape(PUT(state, "%75se%72"), out,
				      sizeof(out)), 4);
	assert_memory_equal(out, "user", 4);
	assert_int_equal(sip_unescape(PUT(state, "a%2fb%2Fc"), out,
				      sizeof(out)), 5);
	assert_memory_equal(out, "a/b/c", 5);
	assert_int_equal(sip_unescape(PUT(state, "%00%00"), out,
				      sizeof(out)), 2);
	assert_memory_equal(out, "\0\0", 2);
	assert_int_equal(sip_unescape(PUT(state, "%ff%FF"), out,
				      sizeof(out)), 2);
	assert_memory_equal(out, "\xff\xff", 2);
	assert_int_equal(sip_unescape(PUT(state, ""), out, sizeof(out)), 0);
	assert_int_equal(sip_unescape(PUT(state, "plain"), out, 5), 5);
	assert_memory_equal(out, "plain", 5);
}

/* ---- escaping a user part ------------------------------------------------ */

/*
 * sip_user_escape(): unreserved and user-unreserved bytes stay, the rest
 * is %HH (upper case); a '%' too unless the input is escaped already; a
 * short buffer is -ENOSPC, at every length below the result's.
 */
static void
test_sip_uri_user_escape(void **state)
{
	static const struct {
		const char *in;
		bool keep_pct;
		const char *out;
	} c[] = {
		{ "", false, "" },
		{ "12125550100", false, "12125550100" },
		{ "1234567890123456", false, "1234567890123456" },
		{ "+1-212-555-0100", false, "+1-212-555-0100" },
		{ "5550100#9", false, "5550100%239" },
		{ "bob smith", false, "bob%20smith" },
		{ "a;b=c&d+$,?/", false, "a;b=c&d+$,?/" },
		{ "-_.!~*'()", false, "-_.!~*'()" },
		{ "12345678@x:y", false, "12345678%40x%3Ay" },
		{ "a%20b", false, "a%2520b" },
		{ ";isub=a%20b:c", true, ";isub=a%20b%3Ac" },
		{ "\x01\xff\"<>", false, "%01%FF%22%3C%3E" },
	};
	char out[64];
	size_t i;
	uint32_t cap, n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct span in = span_make(c[i].in, (uint32_t)strlen(c[i].in));

		n = (uint32_t)strlen(c[i].out);
		assert_int_equal(sip_user_escape(in, c[i].keep_pct, out,
						 sizeof(out)), (int)n);
		assert_memory_equal(out, c[i].out, n);
		for (cap = 0; cap < n; cap++)
			assert_int_equal(sip_user_escape(in, c[i].keep_pct,
							 out, cap), -ENOSPC);
		assert_int_equal(sip_user_escape(in, c[i].keep_pct, out, n),
				 (int)n);
	}
	(void)state;
}

/*
 * sip_tel_params_user(): a tel: URI's parameters as a sip: user part
 * takes them (RFC 3261 §19.1.6), phone-context left out on request.
 */
static void
test_sip_uri_tel_params_user(void **state)
{
	struct sip_uri u;
	char out[128];

	assert_int_equal(sip_uri_parse(&u, PUT(state,
		"tel:5550100;phone-context=+1212;isub=a%20b:c;ext=12")),
		SIP_PERR_OK);
	assert_int_equal(sip_tel_params_user(u.params, false, out,
					     sizeof(out)), 42);
	assert_memory_equal(out, ";phone-context=+1212;isub=a%20b%3Ac;ext=12",
			    42);
	assert_int_equal(sip_tel_params_user(u.params, true, out,
					     sizeof(out)), 22);
	assert_memory_equal(out, ";isub=a%20b%3Ac;ext=12", 22);
	assert_int_equal(sip_tel_params_user(u.params, false, out, 41),
			 -ENOSPC);
	assert_int_equal(sip_tel_params_user(SPAN_NULL, false, out,
					     sizeof(out)), 0);
	assert_int_equal(sip_tel_params_user(PUT(state, ";;x"), false, out,
					     sizeof(out)), -EBADMSG);
}

/*
 * sip_user_params(): a sip: user part's telephone-subscriber parameters,
 * as written, phone-context left out on request.
 */
static void
test_sip_uri_user_params(void **state)
{
	char out[128];

	assert_int_equal(sip_user_params(PUT(state,
		"+12125550100;npdi;rn=+12125550000;phone-context=+1"), false,
		out, sizeof(out)), 38);
	assert_memory_equal(out, ";npdi;rn=+12125550000;phone-context=+1",
			    38);
	assert_int_equal(sip_user_params(PUT(state,
		"5550100;Phone-Context=+1212;npdi;isub=a%20b"), true, out,
		sizeof(out)), 16);
	assert_memory_equal(out, ";npdi;isub=a%20b", 16);
	assert_int_equal(sip_user_params(PUT(state, "+12125550100"), true,
					 out, sizeof(out)), 0);
	assert_int_equal(sip_user_params(SPAN_NULL, true, out, sizeof(out)),
			 0);
	assert_int_equal(sip_user_params(PUT(state, "1;npdi;rn=2"), false,
					 out, 9), -ENOSPC);
	assert_int_equal(sip_user_params(PUT(state, "1;;x"), false, out,
					 sizeof(out)), 3);
	assert_memory_equal(out, ";;x", 3);
	(void)state;
}

/* RFC 4475 §3.1.1.3: never unescape recursively. */
static void
test_sip_uri_unescape_not_recursive(void **state)
{
	char out[32];

	assert_int_equal(sip_unescape(PUT(state, "v%61lue%25%34%31"), out,
				      sizeof(out)), 8);
	assert_memory_equal(out, "value%41", 8);
	assert_int_equal(sip_unescape(PUT(state, "%2541"), out,
				      sizeof(out)), 3);
	assert_memory_equal(out, "%41", 3);
}

static void
test_sip_uri_unescape_bad_escape_rejected(void **state)
{
	static const char *const bad[] = {
		"%", "%4", "a%", "a%4", "%zz", "%4g", "%g4", "%Z%45", "%%41",
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sip_unescape(put_str(state, bad[i]), out,
					      sizeof(out)), -EBADMSG);
}

/* Prefixes cut escapes anywhere: a cut "%4" is an error, never a read. */
static void
test_sip_uri_unescape_prefixes_never_fault(void **state)
{
	static const char in[] = "a%41%4a%00b%ff";
	static const int want[] = { 0, 1, -EBADMSG, -EBADMSG, 2, -EBADMSG,
				    -EBADMSG, 3, -EBADMSG, -EBADMSG, 4, 5,
				    -EBADMSG, -EBADMSG };
	char out[16];
	size_t n;

	for (n = 0; n < sizeof(in) - 1; n++)
		assert_int_equal(sip_unescape(put(state, in, n), out,
					      sizeof(out)), want[n]);
	assert_int_equal(sip_unescape(PUT(state, in), out, sizeof(out)), 6);
	assert_memory_equal(out, "aAJ\0b\xff", 6);
}

static void
test_sip_uri_unescape_small_buffer_rejected(void **state)
{
	char out[4];

	assert_int_equal(sip_unescape(PUT(state, "abcde"), out, 4), -ENOSPC);
	assert_int_equal(sip_unescape(PUT(state, "%41%42%43%44%45"), out, 4),
			 -ENOSPC);
	assert_int_equal(sip_unescape(PUT(state, "%41%42%43%44"), out, 4), 4);
	assert_memory_equal(out, "ABCD", 4);
	assert_int_equal(sip_unescape(PUT(state, "a"), out, 0), -ENOSPC);
}

/* ---- IP literals --------------------------------------------------------- */

struct ip_case {
	const char      *in;
	int              family;
	uint8_t          addr[16];
};

static const struct ip_case ip_good[] = {
	{ "192.0.2.1", 4, { 192, 0, 2, 1 } },
	{ "0.0.0.0", 4, { 0 } },
	{ "255.255.255.255", 4, { 255, 255, 255, 255 } },
	{ "010.001.0.09", 4, { 10, 1, 0, 9 } },
	{ "[2001:db8::10]", 16, { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x00,
				  [15] = 0x10 } },
	{ "2001:db8::10", 16, { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 } },
	{ "::", 16, { 0 } },
	{ "[::]", 16, { 0 } },
	{ "::1", 16, { [15] = 1 } },
	{ "1::", 16, { 0x00, 0x01 } },
	{ "::ffff:192.0.2.10", 16, { [10] = 0xff, [11] = 0xff, [12] = 192,
				     [13] = 0, [14] = 2, [15] = 10 } },
	{ "[::ffff:192.0.2.2]", 16, { [10] = 0xff, [11] = 0xff, [12] = 192,
				      [13] = 0, [14] = 2, [15] = 2 } },
	{ "2001:db8:0:0:0:0:0:1", 16, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	{ "1:2:3:4:5:6:7:8", 16, { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7,
				   0, 8 } },
	{ "1:2:3:4:5:6:7::", 16, { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7,
				   0, 0 } },
	{ "::2:3:4:5:6:7:8", 16, { 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7,
				   0, 8 } },
	{ "1:2:3:4:5:6:1.2.3.4", 16, { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6,
				       1, 2, 3, 4 } },
	{ "::1.2.3.4", 16, { [12] = 1, [13] = 2, [14] = 3, [15] = 4 } },
	{ "FFFF:abcd::Ef01", 16, { 0xff, 0xff, 0xab, 0xcd, [14] = 0xef,
				   [15] = 0x01 } },
	{ "2001:db8::9:255", 16, { 0x20, 0x01, 0x0d, 0xb8, [12] = 0,
				   [13] = 9, [14] = 0x02, [15] = 0x55 } },
	/* RFC 5118 §4.10: ":::" read as "::" */
	{ "[2001:db8:::192.0.2.1]", 16, { 0x20, 0x01, 0x0d, 0xb8, [12] = 192,
					  [13] = 0, [14] = 2, [15] = 1 } },
	{ "[2001:db8::192.0.2.1]", 16, { 0x20, 0x01, 0x0d, 0xb8, [12] = 192,
					 [13] = 0, [14] = 2, [15] = 1 } },
};

static void
test_sip_uri_host_to_ip_parses(void **state)
{
	uint8_t a[16];
	size_t i;

	for (i = 0; i < sizeof(ip_good) / sizeof(ip_good[0]); i++) {
		memset(a, 0xaa, sizeof(a));
		if (sip_host_to_ip(put_str(state, ip_good[i].in), a) !=
		    ip_good[i].family)
			fail_msg("not parsed: \"%s\"", ip_good[i].in);
		assert_memory_equal(a, ip_good[i].addr,
				    (size_t)ip_good[i].family);
	}
}

static void
test_sip_uri_host_to_ip_rejected(void **state)
{
	static const char *const bad[] = {
		"", "[", "]", "[]", "[::1", "::1]", "[::1]]", "example.com",
		"1.2.3.4.5", "256.1.1.1", "1.2.3", "1..2.3", "1.2.3.", ".1.2.3",
		"1234.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", ":", ":::",
		":1", "1:", "1:2", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::",
		"g::", "1:2:3:4:5:6:7::8", "::1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "::1.2.3.256",
		"::1.2.3.4:5", "1.2.3.4::", "::ffff:1.2.3.4.5", "[1.2.3.4]",
		"fe80::1%eth0", "::-1", "1::2:", "[::1]:5060",
		/* ":::" only right before an IPv4 tail (RFC 5118 §4.10) */
		"[2001:db8:::]", "[2001:::1]", "2001:db8:::1", "[1:::2:1.2.3.4]",
	};
	uint8_t a[16];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_host_to_ip(put_str(state, bad[i]), a) != -EINVAL)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void
test_sip_uri_host_to_ip_prefixes_never_fault(void **state)
{
	static const char *const in[] = {
		"[2001:db8:0:0:0:0:0:1]", "::ffff:192.0.2.10", "255.255.255.255",
		"[2001:db8:::192.0.2.1]",
	};
	uint8_t a[16];
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		for (n = 0; n < strlen(in[i]); n++) {
			rc = sip_host_to_ip(put(state, in[i], n), a);
			assert_true(rc == 4 || rc == 16 || rc == -EINVAL);
		}
	}
}

/* ---- properties over random mutations ---------------------------------- */

static uint32_t
xorshift32(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Bytes that steer the parser into its branches more often than random. */
static const char interesting[] = "@:;?=&%[].-+/\"<> \t\r\n\0\x7f\x80"
				  "09afAFsiptel";

/*
 * Mutate valid URIs (replace, insert, delete, truncate) and check what an
 * accepted URI promises: every span inside the input, host_type agreeing
 * with sip_host_to_ip(), and params/headers walking cleanly.
 */
static void
test_sip_uri_parse_mutations_keep_invariants(void **state)
{
	uint32_t seed = 0x9e3779b9u, r;
	char buf[160];
	struct sip_uri u;
	struct span in, rest, n, v;
	uint8_t a[16];
	size_t len, pos, k;
	int iter, rc;

	for (iter = 0; iter < 200000; iter++) {
		const char *src = valid_uris[xorshift32(&seed) %
			(sizeof(valid_uris) / sizeof(valid_uris[0]))];

		len = strlen(src);
		memcpy(buf, src, len);
		for (k = 1 + xorshift32(&seed) % 3; k > 0; k--) {
			r = xorshift32(&seed);
			pos = len != 0 ? r % len : 0;
			switch ((r >> 8) % 4) {
			case 0:
				buf[pos] = interesting[(r >> 12) %
						       (sizeof(interesting) - 1)];
				break;
			case 1:
				if (len + 1 < sizeof(buf)) {
					memmove(buf + pos + 1, buf + pos,
						len - pos);
					buf[pos] = interesting[(r >> 12) %
						(sizeof(interesting) - 1)];
					len++;
				}
				break;
			case 2:
				if (len != 0) {
					memmove(buf + pos, buf + pos + 1,
						len - pos - 1);
					len--;
				}
				break;
			default:
				len = pos;
				break;
			}
		}
		in = put(state, buf, len);
		if (sip_uri_parse(&u, in) != SIP_PERR_OK)
			continue;
		t_uri_inside(&u, in);
		assert_non_null(u.scheme.ptr);
		switch (u.host_type) {
		case SIP_HOST_IPV4:
			assert_int_equal(sip_host_to_ip(u.host, a), 4);
			break;
		case SIP_HOST_IPV6:
			assert_int_equal(u.host.ptr[0], '[');
			assert_int_equal(sip_host_to_ip(u.host, a), 16);
			break;
		case SIP_HOST_NAME:
			assert_int_equal(sip_host_to_ip(u.host, a), -EINVAL);
			break;
		default:
			assert_true(u.scheme_id == SIP_SCHEME_TEL ||
				    u.scheme_id == SIP_SCHEME_OTHER);
			assert_null(u.host.ptr);
			break;
		}
		if (u.scheme_id == SIP_SCHEME_SIP ||
		    u.scheme_id == SIP_SCHEME_SIPS)
			assert_non_null(u.host.ptr);
		/* URI parameters are a valid parameter list */
		rest = u.params;
		while ((rc = sip_param_next(&rest, &n, &v)) == 1)
			;
		if (u.scheme_id != SIP_SCHEME_OTHER && rc != 0)
			fail_msg("params of \"%.*s\" do not walk",
				 (int)in.len, in.ptr);
	}
}

/* A dotted-decimal part with a leading zero ("010"): inet_pton() refuses it. */
static bool
has_leading_zero_octet(const char *s, size_t n)
{
	size_t i;

	if (memchr(s, '.', n) == NULL)
		return false;
	for (i = 0; i + 1 < n; i++) {
		if (s[i] == '0' && (i == 0 || s[i - 1] == '.' || s[i - 1] == ':') &&
		    s[i + 1] >= '0' && s[i + 1] <= '9')
			return true;
	}
	return false;
}

/*
 * Differential check against the C library's inet_pton() on mutated
 * address text: same verdict and bytes, except for the two documented
 * leniencies (":::" per RFC 5118 §4.10, leading zeros in IPv4 parts).
 */
static void
test_sip_uri_host_to_ip_matches_inet_pton(void **state)
{
	static const char *const seeds[] = {
		"2001:db8::10", "::ffff:192.0.2.10", "1:2:3:4:5:6:7:8", "::",
		"192.0.2.1", "fe80::1:2", "1:2:3:4:5:6:1.2.3.4", "::1.2.3.4",
		"a:b::c:d", "255.255.255.255",
	};
	static const char alpha[] = "0123456789abcdefABCDEFg:.:.";
	uint32_t seed = 0xdeadbeefu, r;
	char buf[64];
	uint8_t a[16], b[16];
	size_t len, pos;
	int iter, rc, k, pton;

	for (iter = 0; iter < 300000; iter++) {
		const char *src = seeds[xorshift32(&seed) %
					(sizeof(seeds) / sizeof(seeds[0]))];

		len = strlen(src);
		memcpy(buf, src, len);
		for (k = (int)(xorshift32(&seed) % 3); k > 0; k--) {
			r = xorshift32(&seed);
			pos = len != 0 ? r % len : 0;
			switch ((r >> 8) % 3) {
			case 0:
				if (len != 0)
					buf[pos] = alpha[(r >> 12) %
							 (sizeof(alpha) - 1)];
				break;
			case 1:
				if (len + 2 < sizeof(buf)) {
					memmove(buf + pos + 1, buf + pos,
						len - pos);
					buf[pos] = alpha[(r >> 12) %
							 (sizeof(alpha) - 1)];
					len++;
				}
				break;
			default:
				if (len != 0) {
					memmove(buf + pos, buf + pos + 1,
						len - pos - 1);
					len--;
				}
				break;
			}
		}
		rc = sip_host_to_ip(put(state, buf, len), a);
		buf[len] = '\0';
		if (memchr(buf, '.', len) != NULL &&
		    memchr(buf, ':', len) == NULL)
			pton = inet_pton(AF_INET, buf, b) == 1 ? 4 : -EINVAL;
		else
			pton = inet_pton(AF_INET6, buf, b) == 1 ? 16 : -EINVAL;
		if (rc == pton) {
			if (rc > 0)
				assert_memory_equal(a, b, (size_t)rc);
			continue;
		}
		/* only the leniencies may differ, and only by accepting */
		if (rc < 0 ||
		    (strstr(buf, ":::") == NULL &&
		     !has_leading_zero_octet(buf, len)))
			fail_msg("\"%s\": got %d, inet_pton %d", buf, rc, pton);
	}
}

/* Absent (NULL) spans are handled like empty ones, without dereferencing. */
static void
test_sip_uri_null_spans_rejected(void **state)
{
	struct sip_uri u;
	struct span rest = SPAN_NULL, n, v;
	uint8_t a[16];
	char out[4];

	(void)state;
	assert_int_equal(sip_uri_parse(&u, SPAN_NULL), SIP_PERR_BAD_URI);
	assert_int_equal(sip_param_next(&rest, &n, &v), 0);
	assert_false(sip_param_get(SPAN_NULL, SPAN_LIT("lr"), &v));
	assert_int_equal(sip_unescape(SPAN_NULL, out, sizeof(out)), 0);
	assert_int_equal(sip_host_to_ip(SPAN_NULL, a), -EINVAL);
}

/* ---- fast paths against the general parsers ------------------------------ */

static bool
span_same(struct span a, struct span b)
{
	return a.ptr == b.ptr && a.len == b.len;
}

struct uri_diff {
	struct guard_buf *gb;
	unsigned int     n;             /* inputs compared */
	unsigned int     fast_ok;       /* of them, accepted */
};

/* sip_uri_parse() (fast path first) and the general parser agree. */
static void
uri_diff_one(void *arg, const char *s, size_t n)
{
	struct uri_diff *d = arg;
	struct sip_uri a, b;
	enum sip_perr ra, rb;
	struct span in;

	if (n > 200)
		return;
	in = span_make(guard_buf_put(d->gb, s, n), n);
	ra = sip_uri_parse(&a, in);
	rb = sip_uri_parse_general(&b, in);
	d->n++;
	if (ra != rb) {
		print_error("\"%.*s\": fast %d, general %d\n", (int)n, s, ra, rb);
		fail();
	}
	if (ra != SIP_PERR_OK)
		return;
	d->fast_ok++;
	if (!span_same(a.scheme, b.scheme) || !span_same(a.user, b.user) ||
	    !span_same(a.password, b.password) ||
	    !span_same(a.host, b.host) || !span_same(a.port_str, b.port_str) ||
	    !span_same(a.params, b.params) ||
	    !span_same(a.headers, b.headers) ||
	    !span_same(a.opaque, b.opaque) || a.port != b.port ||
	    a.scheme_id != b.scheme_id || a.host_type != b.host_type) {
		print_error("\"%.*s\": fields differ\n", (int)n, s);
		fail();
	}
}

/* Every piece of the corpus, then mutants of each, with @impl's scans. */
static void
uri_diff_run(void **state, enum sip_scan_impl impl)
{
	static const char alphabet[] = "sip:@;=.-:0123456789abcXYZ%2F?&[]<> \t"
				       ",+_~!*'()$/\x00\xc3";
	static struct corpus c;
	struct uri_diff d = { .gb = *state };
	char buf[256];
	uint32_t x = 11;
	bool avx2;
	unsigned int i, r;

	if (sip_scan_select(impl) != 0)
		skip();
	/* the scalar run takes the scan table's masks, not the AVX2 ones */
	avx2 = sip_val_avx2;
	if (impl == SIP_SCAN_SCALAR)
		assert_int_equal(sip_val_select(false), 0);
	corpus_load(&c);
	assert_true(c.n > 20);
	corpus_pieces(&c, uri_diff_one, &d);
	/* The benchmark's shapes, and mutants of every one of them. */
	{
		static const char *const uris[] = {
			"sip:+12125550123@edge.carrier.example;user=phone",
			"sip:+14155550100@198.51.100.17:5060;transport=udp",
			"sip:edge.carrier.example;lr", "sip:198.51.100.17:5060",
			"sip:alice@example.org", "SIP:bob@EXAMPLE.org:0;a;b=c",
			"sip:a@b.c.;x=y", "sip:u:p@h", "sip:%61@h", "sip:h?a=b",
			"sip:[::1]:5060", "sips:a@b", "tel:+1-555", "sip:1.2.3.4",
			"sip:1.2.3.256", "sip:a@-h", "sip:a@h-", "sip:a@h..c",
			"sip:a@h;=x", "sip:a@h;x=", "sip:a@h;x==y", "sip:a@h;x=y=z",
			"sip:a@h;;x", "sip:a@h:", "sip:a@h:65536", "sip:a@h:00065535",
			"sip:@h", "sip:a@", "sip:a@1.2.3.a", "sip:a@h;x=[::1]",
		};

		for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++)
			uri_diff_one(&d, uris[i], strlen(uris[i]));
		for (r = 0; r < 60000; r++) {
			const char *u = uris[r % (sizeof(uris) / sizeof(uris[0]))];
			size_t n = strlen(u);

			memcpy(buf, u, n);
			n = corpus_mutate(buf, n, sizeof(buf), alphabet, &x);
			uri_diff_one(&d, buf, n);
			/* and a prefix of it */
			uri_diff_one(&d, buf, n != 0 ? corpus_rand(&x) % n : 0);
		}
	}
	/* Mutants of the corpus pieces that look like SIP URIs. */
	for (i = 0; i < c.n; i++) {
		const char *m = c.msg[i].data, *e = m + c.msg[i].len, *p;

		for (p = m; p + 4 < e; p++) {
			const char *q = p;
			size_t n;

			if (memcmp(p, "sip:", 4) != 0)
				continue;
			while (q < e && *q != '>' && *q != ' ' && *q != '\r' &&
			       *q != '\n')
				q++;
			n = (size_t)(q - p) < sizeof(buf) ? (size_t)(q - p) : 0;
			uri_diff_one(&d, p, n);
			for (r = 0; r < 200 && n != 0; r++) {
				size_t k;

				memcpy(buf, p, n);
				k = corpus_mutate(buf, n, sizeof(buf), alphabet, &x);
				uri_diff_one(&d, buf, k);
			}
		}
	}
	corpus_free(&c);
	assert_int_equal(sip_scan_select(SIP_SCAN_AUTO), 0);
	assert_int_equal(sip_val_select(avx2), 0);
	/* The fast path was exercised: many inputs were accepted. */
	assert_true(d.fast_ok > 1000);
}

static void
test_sip_uri_fast_path_matches_general_vector(void **state)
{
	uri_diff_run(state, SIP_SCAN_SSE42);
}

static void
test_sip_uri_fast_path_matches_general_scalar(void **state)
{
	uri_diff_run(state, SIP_SCAN_SCALAR);
}

/* sip_param_next() (fast path first) and the general walker agree. */
static void
param_diff_one(void *arg, const char *s, size_t n)
{
	struct uri_diff *d = arg;
	struct span ra, rb, na, nb, va, vb;
	int ka, kb, steps;

	if (n > 200)
		return;
	ra = span_make(guard_buf_put(d->gb, s, n), n);
	rb = ra;
	/* Each step consumes at least one byte: bounded by n + 1 steps. */
	for (steps = 0; steps <= (int)n + 1; steps++) {
		na = nb = va = vb = SPAN_NULL;
		ka = sip_param_next(&ra, &na, &va);
		kb = sip_param_next_general(&rb, &nb, &vb);
		d->n++;
		if (ka != kb || !span_same(ra, rb) ||
		    (ka == 1 && (!span_same(na, nb) || !span_same(va, vb)))) {
			print_error("params \"%.*s\" step %d: %d/%d\n",
				    (int)n, s, steps, ka, kb);
			fail();
		}
		if (ka != 1)
			return;
		d->fast_ok++;
	}
	fail();
}

static void
param_diff_run(void **state, enum sip_scan_impl impl)
{
	static const char alphabet[] = ";=\" \t\r\nab0.-_[]:/%,&?@()";
	static const char *const lists[] = {
		";branch=z9hG4bK776asdhds-4f2a;rport", ";tag=1928301774",
		";expires=3600", ";user=phone", ";lr", ";transport=udp;lr",
		";refresher=uac", ";q=0.5;expires=60", "a=b", ";a", ";a=",
		";=b", ";;", "; a = b ;c", ";a=\"x;y\";b", ";maddr=[::1];ttl=1",
		";received=192.0.2.1;branch=z9hG4bK.x~'*!%", "",
	};
	static struct corpus c;
	struct uri_diff d = { .gb = *state };
	char buf[256];
	uint32_t x = 5;
	unsigned int i, r;

	if (sip_scan_select(impl) != 0)
		skip();
	corpus_load(&c);
	/* Header values and their ";..." tails. */
	corpus_pieces(&c, param_diff_one, &d);
	for (i = 0; i < c.n; i++) {
		const char *m = c.msg[i].data, *e = m + c.msg[i].len, *p, *q;

		for (p = m; p < e; p++) {
			if (*p != ';')
				continue;
			for (q = p; q < e && *q != '\n' && *q != '>' &&
			     *q != ','; q++)
				;
			param_diff_one(&d, p, (size_t)(q - p));
		}
	}
	for (r = 0; r < 60000; r++) {
		const char *l = lists[r % (sizeof(lists) / sizeof(lists[0]))];
		size_t n = strlen(l);

		memcpy(buf, l, n);
		n = corpus_mutate(buf, n, sizeof(buf), alphabet, &x);
		param_diff_one(&d, buf, n);
	}
	corpus_free(&c);
	assert_int_equal(sip_scan_select(SIP_SCAN_AUTO), 0);
	assert_true(d.fast_ok > 1000);
}

static void
test_sip_uri_param_fast_path_matches_general_vector(void **state)
{
	param_diff_run(state, SIP_SCAN_SSE42);
}

static void
test_sip_uri_param_fast_path_matches_general_scalar(void **state)
{
	param_diff_run(state, SIP_SCAN_SCALAR);
}

/* One input: the AVX2 masks equal the scalar scan's. */
static void
umask_cmp(const struct sip_scan_ops *ref, const char *p, uint32_t n)
{
	struct sip_umask a, b;

	memset(&a, 0x5a, sizeof(a));
	sip_val_umask_avx2(p, n, &a);
	ref->umask(p, n, &b);
	assert_memory_equal(&a, &b, sizeof(a));
}

/*
 * sip_val_umask_avx2() against the scalar umask for every length up to
 * SIP_UMASK_MAX: flush against a guard page (the aligned-block loads) and
 * at every offset of a 32-byte block (the loads from p), on URI bytes,
 * delimiters, high bytes and NUL.
 */
static void
test_sip_uri_umask_avx2_matches_scalar(void **state)
{
	static const char alphabet[] = "sip:@;=.-:0123456789abcXYZ%2F?&[]<> "
				       "\t,+_~!*'()$/\x00\x80\xc3\xff";
	const struct sip_scan_ops *ref = sip_scan_ops_get(SIP_SCAN_SCALAR);
	char src[SIP_UMASK_MAX], blk[160] __attribute__((aligned(32)));
	uint32_t n, off, r, i, x = 7;

	if (sip_val_select(true) != 0)
		skip();
	assert_non_null(ref);
	for (n = 0; n <= SIP_UMASK_MAX; n++) {
		for (r = 0; r < 64; r++) {
			for (i = 0; i < n; i++) {
				x = x * 1103515245u + 12345u;
				src[i] = alphabet[(x >> 16) %
						  (sizeof(alphabet) - 1)];
			}
			umask_cmp(ref, guard_buf_put(*state, src, n), n);
			off = r % 32;
			memset(blk, ';', sizeof(blk));
			memcpy(blk + off, src, n);
			umask_cmp(ref, blk + off, n);
		}
	}
}

/* RFC 3986 unescaping with a room test per byte, for the test below. */
static int
unescape_ref(const char *s, uint32_t len, char *out, uint32_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const char *h1, *h2;
	uint32_t i, n = 0;
	char c;

	for (i = 0; i < len; i++, n++) {
		c = s[i];
		if (c == '%') {
			if (len - i < 3 || s[i + 1] == '\0' || s[i + 2] == '\0')
				return -EBADMSG;
			h1 = strchr(hex, tolower((unsigned char)s[i + 1]));
			h2 = strchr(hex, tolower((unsigned char)s[i + 2]));
			if (h1 == NULL || h2 == NULL)
				return -EBADMSG;
			c = (char)((h1 - hex) << 4 | (h2 - hex));
			i += 2;
		}
		if (n == cap)
			return -ENOSPC;
		out[n] = c;
	}
	return (int)n;
}

/*
 * sip_unescape() (plain bytes copied without a room test when the input
 * fits) against the per-byte loop: the result and every byte of the
 * output, for every room from 0 to one more than the input.
 */
static void
test_sip_uri_unescape_matches_reference(void **state)
{
	static const char alphabet[] = "ab+1%2F%4g%%";
	char src[20], a[24], b[24];
	uint32_t n, r, i, cap, x = 9;
	const char *p;

	for (r = 0; r < 20000; r++) {
		x = x * 1103515245u + 12345u;
		n = (x >> 16) % sizeof(src);
		for (i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			src[i] = (x >> 20) % 3 != 0 ? 'u' :
				 alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
		}
		p = guard_buf_put(*state, src, n);
		for (cap = 0; cap <= n + 1; cap++) {
			memset(a, 0x5a, sizeof(a));
			memset(b, 0x5a, sizeof(b));
			assert_int_equal(sip_unescape(span_make(p, n), a, cap),
					 unescape_ref(p, n, b, cap));
			assert_memory_equal(a, b, sizeof(a));
		}
	}
}

/*
 * sip_ip4_dots_ok() (dots by bit position, digits by one vector test)
 * against sip_ip4_ok() (one byte at a time), and sip_ip4_run() against
 * sip_ip4_run_scalar(), on strings of digits, dots and other host and
 * delimiter bytes up to 17 bytes, flush against the guard page (the
 * loops) and inside it (the vector loads).
 */
static void
test_sip_uri_ip4_vector_matches_bytes(void **state)
{
	static const char alphabet[] = "0123456789..25a:;-";
	char src[17];
	uint32_t n, r, i, x = 5;
	uint64_t dots;
	const char *p;

	for (r = 0; r < 200000; r++) {
		x = x * 1103515245u + 12345u;
		n = 1 + (x >> 16) % sizeof(src);
		for (i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			src[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		p = guard_buf_put(*state, src, n);
		if (r & 1)
			p = memcpy((char *)p - 64, src, n);
		for (dots = 0, i = 0; i < n; i++)
			dots |= (uint64_t)(p[i] == '.') << i;
		assert_int_equal(sip_ip4_dots_ok(p, n, dots), sip_ip4_ok(p, n));
		assert_int_equal(sip_ip4_run(p, n), sip_ip4_run_scalar(p, n));
	}
}

/*
 * sip_val_qtext_avx2() against the qdtext table run, for every length up
 * to 80 and every offset in a 32-byte block, flush against a guard page.
 */
static void
test_sip_uri_qtext_avx2_matches_scalar(void **state)
{
	static const char alphabet[] = "abc XYZ<>@;\t\r\n\"\\\x00\x01\x1f\x7f"
				       "\x80\xc3\xff~";
	char src[80], blk[160] __attribute__((aligned(32)));
	uint32_t n, r, i, off, x = 3, k;
	const char *p;

	if (sip_val_select(true) != 0)
		skip();
	for (n = 0; n <= sizeof(src); n++) {
		for (r = 0; r < 64; r++) {
			for (i = 0; i < n; i++) {
				x = x * 1103515245u + 12345u;
				/* mostly qdtext, so runs get long */
				k = (x >> 16) % 64;
				src[i] = k < sizeof(alphabet) - 1 ?
					 alphabet[k] : 'q';
			}
			p = guard_buf_put(*state, src, n);
			assert_ptr_equal(sip_val_qtext_avx2(p, p + n),
					 p + sip_cc_run(p, 0, n, SIP_CC_QTEXT));
			off = r % 32;
			memcpy(blk + off, src, n);
			p = blk + off;
			assert_ptr_equal(sip_val_qtext_avx2(p, p + n),
					 p + sip_cc_run(p, 0, n, SIP_CC_QTEXT));
		}
	}
	/* every byte value, alone and after 33 qdtext bytes */
	for (k = 0; k < 256; k++) {
		memset(src, 'q', 40);
		for (i = 0; i < 34; i += 33) {
			src[i] = (char)k;
			p = guard_buf_put(*state, src, 40);
			assert_ptr_equal(sip_val_qtext_avx2(p, p + 40),
					 p + sip_cc_run(p, 0, 40, SIP_CC_QTEXT));
			src[i] = 'q';
		}
	}
}

/*
 * sip_ip4_run() takes a host only where sip_host_end() and
 * sip_host_check() (what the general parsers use) give the same end and
 * IPv4 for it; it must also take the plain dotted quads.
 */
static void
test_sip_uri_ip4_run_matches_host_check(void **state)
{
	static const char alphabet[] = "0123456789...25:;a-[]";
	static const char *const ok[] = {
		"198.51.100.17", "0.0.0.0:5060", "255.255.255.255;x",
		"1.2.3.4 ", "010.1.1.1",
	};
	char src[24];
	const char *p;
	uint32_t n, r, i, len, taken = 0, x = 5;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = (uint32_t)strlen(ok[i]);
		p = guard_buf_put(*state, ok[i], n);
		assert_int_not_equal(sip_ip4_run(p, n), 0);
	}
	for (r = 0; r < 200000; r++) {
		/* a good one with up to two bytes changed, maybe cut short */
		n = (uint32_t)strlen(ok[r % (sizeof(ok) / sizeof(ok[0]))]);
		memcpy(src, ok[r % (sizeof(ok) / sizeof(ok[0]))], n);
		for (i = 0; i < r % 3; i++) {
			x = x * 1103515245u + 12345u;
			src[(x >> 16) % n] =
				alphabet[(x >> 8) % (sizeof(alphabet) - 1)];
		}
		x = x * 1103515245u + 12345u;
		if ((x >> 16) % 4 == 0)
			n = (x >> 8) % (n + 1);
		p = guard_buf_put(*state, src, n);
		len = sip_ip4_run(p, n);
		if (len == 0)
			continue;
		taken++;
		assert_ptr_equal(sip_host_end(p, p + n), p + len);
		assert_int_equal(sip_host_check(p, p + len), SIP_HOST_IPV4);
	}
	assert_true(taken > 100);
}

/* SIP_NAME_EQ() agrees with span_eq_nocase() on every byte in every place. */
static void
test_sip_uri_name_eq_matches_span_eq_nocase(void **state)
{
	static const char *const lits[] = {
		"tag", "branch", "rport", "received", "t", "ttl",
	};
	char buf[8];
	uint32_t i, pos, c, len;
	struct span n, lit;
	const char *p;

	for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		len = (uint32_t)strlen(lits[i]);
		lit = span_make(lits[i], len);
		for (pos = 0; pos < len; pos++) {
			for (c = 0; c < 256; c++) {
				memcpy(buf, lits[i], len);
				buf[pos] = (char)c;
				p = guard_buf_put(*state, buf, len);
				n = span_make(p, len);
				assert_int_equal(sip_name_eq(n, lits[i], len),
						 span_eq_nocase(n, lit));
				/* and shorter, so lengths must match too */
				n = span_make(p + 1, len - 1);
				assert_false(sip_name_eq(n, lits[i], len));
			}
		}
	}
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
		cmocka_unit_test(test_sip_uri_parse_basic_fields),
		cmocka_unit_test(test_sip_uri_parse_scheme_case_insensitive),
		cmocka_unit_test(test_sip_uri_parse_hostname_forms),
		cmocka_unit_test(test_sip_uri_parse_rfc4475_esc01),
		cmocka_unit_test(test_sip_uri_parse_rfc4475_escnull),
		cmocka_unit_test(test_sip_uri_parse_rfc4475_semiuri),
		cmocka_unit_test(test_sip_uri_parse_rfc4475_intmeth),
		cmocka_unit_test(test_sip_uri_parse_rfc4475_escaped_headers),
		cmocka_unit_test(test_sip_uri_parse_rfc4475_other_schemes),
		cmocka_unit_test(test_sip_uri_parse_rfc4475_bad_request_uris),
		cmocka_unit_test(test_sip_uri_parse_rfc5118_ipv6),
		cmocka_unit_test(test_sip_uri_parse_rfc5118_bare_ipv6_rejected),
		cmocka_unit_test(test_sip_uri_parse_tel_numbers),
		cmocka_unit_test(test_sip_uri_parse_tel_rejected),
		cmocka_unit_test(test_sip_uri_parse_errors_rejected),
		cmocka_unit_test(test_sip_uri_parse_embedded_nul_rejected),
		cmocka_unit_test(test_sip_uri_parse_any_byte_never_faults),
		cmocka_unit_test(test_sip_uri_parse_prefixes_never_fault),
		cmocka_unit_test(test_sip_uri_parse_truncated_prefix_rejected),
		cmocka_unit_test(test_sip_uri_param_next_walks_list),
		cmocka_unit_test(test_sip_uri_param_next_lws_accepted),
		cmocka_unit_test(test_sip_uri_param_next_malformed_rejected),
		cmocka_unit_test(test_sip_uri_param_get_finds_case_insensitive),
		cmocka_unit_test(test_sip_uri_param_get_missing_or_malformed),
		cmocka_unit_test(test_sip_uri_param_get_on_uri_params),
		cmocka_unit_test(test_sip_uri_param_next_prefixes_never_fault),
		cmocka_unit_test(test_sip_uri_unescape_decodes),
		cmocka_unit_test(test_sip_uri_user_params),
		cmocka_unit_test(test_sip_uri_unescape_not_recursive),
		cmocka_unit_test(test_sip_uri_user_escape),
		cmocka_unit_test(test_sip_uri_tel_params_user),
		cmocka_unit_test(test_sip_uri_unescape_bad_escape_rejected),
		cmocka_unit_test(test_sip_uri_unescape_small_buffer_rejected),
		cmocka_unit_test(test_sip_uri_unescape_prefixes_never_fault),
		cmocka_unit_test(test_sip_uri_host_to_ip_parses),
		cmocka_unit_test(test_sip_uri_host_to_ip_rejected),
		cmocka_unit_test(test_sip_uri_host_to_ip_prefixes_never_fault),
		cmocka_unit_test(test_sip_uri_parse_mutations_keep_invariants),
		cmocka_unit_test(test_sip_uri_host_to_ip_matches_inet_pton),
		cmocka_unit_test(test_sip_uri_null_spans_rejected),
		cmocka_unit_test(test_sip_uri_fast_path_matches_general_vector),
		cmocka_unit_test(test_sip_uri_fast_path_matches_general_scalar),
		cmocka_unit_test(test_sip_uri_param_fast_path_matches_general_vector),
		cmocka_unit_test(test_sip_uri_param_fast_path_matches_general_scalar),
		cmocka_unit_test(test_sip_uri_umask_avx2_matches_scalar),
		cmocka_unit_test(test_sip_uri_ip4_run_matches_host_check),
		cmocka_unit_test(test_sip_uri_qtext_avx2_matches_scalar),
		cmocka_unit_test(test_sip_uri_ip4_vector_matches_bytes),
		cmocka_unit_test(test_sip_uri_unescape_matches_reference),
		cmocka_unit_test(test_sip_uri_name_eq_matches_span_eq_nocase),
	};

	return cmocka_run_group_tests_name("sip_uri", tests,
					   setup_guard, teardown_guard);
}
