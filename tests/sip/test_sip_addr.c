/* SPDX-License-Identifier: MIT */
/*
 * test_sip_addr.c - unit tests of dataplane/sip/sip_addr.c: Via values,
 * name-addr / addr-spec, CSeq, delta-seconds and q-values, with the header
 * values of RFC 4475 and RFC 5118. Every input sits flush against a
 * PROT_NONE page, so a read past its end faults.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <sip.h>

#include "../harness/guard_buf.h"
#include "sip_corpus.h"
#include "sip_test_span.h"
#include "sip_uri_priv.h"

/* ---- helpers ------------------------------------------------------------- */


static void
t_inside(struct span sp, struct span in)
{
	if (sp.ptr == NULL)
		return;
	assert_true(sp.ptr >= in.ptr);
	assert_true(sp.ptr + sp.len <= in.ptr + in.len);
}

static void
assert_via_inside(const struct sip_via *v, struct span in)
{
	t_inside(v->value, in);
	t_inside(v->proto, in);
	t_inside(v->transport, in);
	t_inside(v->host, in);
	t_inside(v->params, in);
	t_inside(v->branch, in);
	t_inside(v->received, in);
	t_inside(v->rport, in);
	t_inside(v->maddr, in);
	t_inside(v->ttl, in);
}

static void
assert_naddr_inside(const struct sip_naddr *na, struct span in)
{
	t_inside(na->display, in);
	t_inside(na->uri, in);
	t_inside(na->params, in);
	t_inside(na->tag, in);
}

/* ---- Via ----------------------------------------------------------------- */

static void
test_sip_addr_via_parse_basic_fields(void **state)
{
	struct sip_via v;

	assert_int_equal(sip_via_parse(&v, PUT(state,
		" SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1;rport ")),
		SIP_PERR_OK);
	t_span(v.value, "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1;rport");
	t_span(v.proto, "SIP/2.0");
	t_span(v.transport, "UDP");
	t_span(v.host, "192.0.2.10");
	assert_int_equal(v.host_type, SIP_HOST_IPV4);
	assert_int_equal(v.port, 5060);
	t_span(v.params, ";branch=z9hG4bK-t1;rport");
	t_span(v.branch, "z9hG4bK-t1");
	t_span_empty(v.rport);
	t_span_absent(v.received);
	t_span_absent(v.maddr);
	t_span_absent(v.ttl);

	/* no params: an empty span at the end of the value */
	assert_int_equal(sip_via_parse(&v, PUT(state, "SIP/2.0/TCP example.com")),
			 SIP_PERR_OK);
	t_span(v.host, "example.com");
	assert_int_equal(v.host_type, SIP_HOST_NAME);
	assert_int_equal(v.port, 0);
	t_span_empty(v.params);
	assert_ptr_equal(v.params.ptr, v.value.ptr + v.value.len);
	t_span_absent(v.branch);
	t_span_absent(v.rport);
}

/* RFC 4475 §3.1.1.1 wsinv: LWS and folding around '/', ':', ';', '='. */
static void
test_sip_addr_via_parse_rfc4475_wsinv(void **state)
{
	struct sip_via v;

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw")),
		SIP_PERR_OK);
	t_span(v.proto, "SIP  /   2.0");
	t_span(v.transport, "UDP");
	t_span(v.host, "192.0.2.2");
	t_span(v.branch, "390skdjuw");

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP  / 2.0  / TCP     spindle.example.com   ;\r\n"
		"  branch  =   z9hG4bK9ikj8  ")), SIP_PERR_OK);
	t_span(v.transport, "TCP");
	t_span(v.host, "spindle.example.com");
	t_span(v.branch, "z9hG4bK9ikj8");

	assert_int_equal(sip_via_parse(&v, PUT(state,
		" SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n"
		" z9hG4bK30239")), SIP_PERR_OK);
	t_span(v.host, "192.168.255.111");
	t_span(v.branch, "z9hG4bK30239");

	/* COLON = SWS ":" SWS */
	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP host.example : 5070 ;x")), SIP_PERR_OK);
	t_span(v.host, "host.example");
	assert_int_equal(v.port, 5070);
}

/* RFC 4475 §3.1.1.10 transports, §3.2.1 badbranch, §3.3.10 bcast. */
static void
test_sip_addr_via_parse_rfc4475_transports(void **state)
{
	static const char *const tr[] = { "UDP", "SCTP", "TLS", "UNKNOWN",
					   "TCP", "WSS", "tls-sctp" };
	char buf[96];
	struct sip_via v;
	size_t i, n;

	for (i = 0; i < sizeof(tr) / sizeof(tr[0]); i++) {
		n = (size_t)snprintf(buf, sizeof(buf),
				     "SIP/2.0/%s t1.example.com;branch=z9hG4bKkdjuw",
				     tr[i]);
		assert_int_equal(sip_via_parse(&v, put(state, buf, n)),
				 SIP_PERR_OK);
		check_span(v.transport, tr[i], strlen(tr[i]));
	}

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK")), SIP_PERR_OK);
	t_span(v.branch, "z9hG4bK");

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23")),
		SIP_PERR_OK);
	assert_int_equal(v.host_type, SIP_HOST_IPV4);
}

/* RFC 5118 §4.5, §4.7, §4.9: IPv6 sent-by and received. */
static void
test_sip_addr_via_parse_rfc5118_ipv6(void **state)
{
	struct sip_via v;
	uint8_t a[16];

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111")),
		SIP_PERR_OK);
	t_span(v.host, "[2001:db8::9:1]");
	assert_int_equal(v.host_type, SIP_HOST_IPV6);
	assert_int_equal(v.port, 6050);

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];"
		"branch=z9hG4bKas3-111")), SIP_PERR_OK);
	assert_int_equal(v.port, 0);
	t_span(v.received, "[2001:db8::9:255]");
	assert_int_equal(sip_host_to_ip(v.received, a), 16);

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;"
		"branch=z9hG4bKas3")), SIP_PERR_OK);
	t_span(v.received, "2001:db8::9:255");
	t_span(v.branch, "z9hG4bKas3");

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;"
		"received=192.0.2.200")), SIP_PERR_OK);
	t_span(v.received, "192.0.2.200");

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19")),
		SIP_PERR_OK);
	t_span(v.host, "[::ffff:192.0.2.10]");
	assert_int_equal(v.port, 19823);
}

static void
test_sip_addr_via_parse_params(void **state)
{
	struct sip_via v;

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP h;MADDR=224.2.0.1;TTL=16;Rport=5062;"
		"Received=192.0.2.1;BRANCH=z9hG4bKa;x=\"q;v\";y;branch=other")),
		SIP_PERR_OK);
	t_span(v.maddr, "224.2.0.1");
	t_span(v.ttl, "16");
	t_span(v.rport, "5062");
	t_span(v.received, "192.0.2.1");
	t_span(v.branch, "z9hG4bKa");      /* first one wins */

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP h;maddr=[2001:db8::1];ttl=0;rport=0")),
		SIP_PERR_OK);
	t_span(v.maddr, "[2001:db8::1]");
	t_span(v.ttl, "0");
	t_span(v.rport, "0");

	assert_int_equal(sip_via_parse(&v, PUT(state,
		"SIP/2.0/UDP h:65535;maddr=relay.example.com;ttl=255")),
		SIP_PERR_OK);
	assert_int_equal(v.port, 65535);
	t_span(v.maddr, "relay.example.com");
}

static void
test_sip_addr_via_parse_errors_rejected(void **state)
{
	static const char *const bad[] = {
		"", " ", "SIP", "SIP/", "SIP/2.0", "SIP/2.0/", "SIP/2.0/UDP",
		"SIP/2.0/UDP ", "SIP/2.0/UDPhost", "SIP//2.0/UDP host",
		"SIP/2.0//UDP host", "/2.0/UDP host", "SIP/2.0 UDP host",
		"SIP 2.0/UDP host", "SIP/2.0/UDP/x host", "SIP/2.0/U@P host",
		/* sent-by */
		"SIP/2.0/UDP :5060", "SIP/2.0/UDP ;branch=x",
		"SIP/2.0/UDP host:", "SIP/2.0/UDP host:;branch=x",
		"SIP/2.0/UDP host:65536", "SIP/2.0/UDP host:abc",
		"SIP/2.0/UDP 192.0.2.1:0", "SIP/2.0/UDP host:00",
		"SIP/2.0/UDP host:5060:5060", "SIP/2.0/UDP 2001:db8::1",
		"SIP/2.0/UDP [2001:db8::1", "SIP/2.0/UDP [2001:db8::1]x",
		"SIP/2.0/UDP [zz::1]", "SIP/2.0/UDP host junk",
		"SIP/2.0/UDP host,", "SIP/2.0/UDP 192.0.2.256",
		"SIP/2.0/UDP -host", "SIP/2.0/UDP ho_st", "SIP/2.0/UDP \"h\"",
		/* params: RFC 4475 §3.1.2.1 badinv01 and friends */
		"SIP/2.0/UDP 192.0.2.15;;,;,,", "SIP/2.0/UDP 192.0.2.15;;",
		"SIP/2.0/UDP host;", "SIP/2.0/UDP host; ",
		"SIP/2.0/UDP host;;branch=x", "SIP/2.0/UDP host;branch=x;",
		"SIP/2.0/UDP host;branch", "SIP/2.0/UDP host;branch=",
		"SIP/2.0/UDP host;branch=\"\"", "SIP/2.0/UDP host;=x",
		"SIP/2.0/UDP host;received=example.com",
		"SIP/2.0/UDP host;received", "SIP/2.0/UDP host;received=1.2.3",
		"SIP/2.0/UDP host;rport=x", "SIP/2.0/UDP host;rport=65536",
		"SIP/2.0/UDP host;rport=", "SIP/2.0/UDP host;ttl=256",
		"SIP/2.0/UDP host;ttl=0001", "SIP/2.0/UDP host;ttl",
		"SIP/2.0/UDP host;maddr=", "SIP/2.0/UDP host;maddr",
		"SIP/2.0/UDP host;maddr=-x", "SIP/2.0/UDP host;x=\"open",
		"SIP/2.0/UDP host;branch=a b", "SIP/2.0/UDP host;branch=\"z9\"",
		"SIP/2.0/UDP host;branch=z9/x", "SIP/2.0/UDP host;branch=[z9]",
		"SIP/2.0/UDP host;received=\"192.0.2.1\"",
		"SIP/2.0/UDP host;rport=\"5060\"", "SIP/2.0/UDP host;ttl=\"1\"",
		"SIP/2.0/UDP host;maddr=\"h\"",
		"SIP/2.0/UDP host, SIP/2.0/UDP other",
	};
	struct sip_via v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_via_parse(&v, put_str(state, bad[i])) !=
		    SIP_PERR_BAD_VIA)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static const char *const valid_vias[] = {
	"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw",
	"SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111;rport",
	"SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z",
	"SIP/2.0/TCP h : 5070 ; maddr = 224.2.0.1 ; ttl = 16 ; x=\"a\\\"b\"",
};

static void
test_sip_addr_via_parse_prefixes_never_fault(void **state)
{
	struct sip_via v;
	struct span in;
	size_t i, n, len;

	for (i = 0; i < sizeof(valid_vias) / sizeof(valid_vias[0]); i++) {
		len = strlen(valid_vias[i]);
		in = put(state, valid_vias[i], len);
		assert_int_equal(sip_via_parse(&v, in), SIP_PERR_OK);
		assert_via_inside(&v, in);
		for (n = 0; n < len; n++) {
			in = put(state, valid_vias[i], n);
			if (sip_via_parse(&v, in) == SIP_PERR_OK)
				assert_via_inside(&v, in);
		}
	}
}

static void
test_sip_addr_via_parse_any_byte_never_faults(void **state)
{
	static const char base[] =
		"SIP/2.0/UDP [2001:db8::1]:5060;branch=z9;received=1.2.3.4;rport";
	char buf[sizeof(base)];
	struct sip_via v;
	struct span in;
	size_t pos;
	unsigned int c;

	for (pos = 0; pos < sizeof(base) - 1; pos++) {
		for (c = 0; c < 256; c++) {
			memcpy(buf, base, sizeof(base) - 1);
			buf[pos] = (char)c;
			in = put(state, buf, sizeof(base) - 1);
			if (sip_via_parse(&v, in) == SIP_PERR_OK)
				assert_via_inside(&v, in);
		}
	}
}

/* ---- name-addr / addr-spec ---------------------------------------------- */

/* RFC 4475 §3.1.1.1 wsinv: To, From and Contact values. */
static void
test_sip_addr_naddr_parse_rfc4475_wsinv(void **state)
{
	struct sip_naddr na;
	uint16_t q;

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n")),
		SIP_PERR_OK);
	t_span_absent(na.display);
	t_span(na.uri, "sip:vivekg@chair-dnrc.example.com");
	assert_int_equal(na.bracketed, 0);
	t_span(na.params, ";   tag    = 1918181833n");
	t_span(na.tag, "1918181833n");

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n"
		"  ;\r\n  tag = 98asjd8")), SIP_PERR_OK);
	t_span(na.display, "\"J Rosenberg \\\\\\\"\"");
	t_span(na.uri, "sip:jdrosen@example.com");
	assert_int_equal(na.bracketed, 1);
	t_span(na.tag, "98asjd8");

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; "
		"newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33")),
		SIP_PERR_OK);
	t_span(na.display, "\"Quoted string \\\"\\\"\"");
	t_span_absent(na.tag);
	assert_int_equal(sip_naddr_q(&na, &q), 0);
	assert_int_equal(q, 330);

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"<sip:services.example.com;lr;unknownwith=value;unknown-no-value>")),
		SIP_PERR_OK);
	t_span(na.uri,
		    "sip:services.example.com;lr;unknownwith=value;unknown-no-value");
	t_span_empty(na.params);
}

/* RFC 4475 §3.1.1.2 intmeth: control bytes quoted, odd token characters. */
static void
test_sip_addr_naddr_parse_rfc4475_intmeth(void **state)
{
	static const char to[] =
		"\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" "
		"<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>";
	static const char from[] =
		"token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;"
		"fromParam''~+*_!.-%=\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82"
		"\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9\";tag=_token~1'+`*%!-.";
	struct sip_naddr na;

	assert_int_equal(sip_naddr_parse(&na, PUT(state, to)), SIP_PERR_OK);
	assert_int_equal(na.display.len, 22);
	t_span(na.uri,
		    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");

	assert_int_equal(sip_naddr_parse(&na, PUT(state, from)), SIP_PERR_OK);
	t_span(na.display, "token1~` token2'+_ token3*%!.-");
	t_span(na.uri, "sip:mundane@example.com");
	t_span(na.tag, "_token~1'+`*%!-.");
}

/* RFC 4475 §3.1.1.3 esc01, §3.1.1.4 escnull, §3.1.1.6 lwsdisp. */
static void
test_sip_addr_naddr_parse_rfc4475_escapes_and_lwsdisp(void **state)
{
	struct sip_naddr na;

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\r\n  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>")),
		SIP_PERR_OK);
	t_span(na.uri,
		    "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"<sip:I%20have%20spaces@example.net>;tag=938")), SIP_PERR_OK);
	t_span(na.tag, "938");

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"sip:null-%00-null@example.com;tag=839923423")), SIP_PERR_OK);
	t_span(na.uri, "sip:null-%00-null@example.com");
	t_span(na.tag, "839923423");

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"<sip:%00%00@host5.example.com>")), SIP_PERR_OK);

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"caller<sip:caller@example.com>;tag=323")), SIP_PERR_OK);
	t_span(na.display, "caller");
	t_span(na.uri, "sip:caller@example.com");
	t_span(na.tag, "323");

	/* esc02: "%Z%45" is a quoted display name, not an escape */
	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23")),
		SIP_PERR_OK);
	t_span(na.display, "\"%Z%45\"");
}

/* RFC 4475 §3.3.4 unksm2, §3.3.12-14 cparam01/02, regescrt. */
static void
test_sip_addr_naddr_parse_rfc4475_schemes_and_params(void **state)
{
	struct sip_naddr na;

	assert_int_equal(sip_naddr_parse(&na, PUT(state, "isbn:2983792873")),
			 SIP_PERR_OK);
	t_span(na.uri, "isbn:2983792873");
	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"<http://www.example.com>;tag=3234233")), SIP_PERR_OK);
	t_span(na.uri, "http://www.example.com");
	assert_int_equal(sip_naddr_parse(&na, PUT(state, "<name:John_Smith>")),
			 SIP_PERR_OK);

	/* bare addr-spec: ;unknownparam is a header parameter */
	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"sip:+19725552222@gw1.example.net;unknownparam")), SIP_PERR_OK);
	t_span(na.uri, "sip:+19725552222@gw1.example.net");
	t_span(na.params, ";unknownparam");
	assert_int_equal(na.bracketed, 0);

	/* inside <> it is a URI parameter */
	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"<sip:+19725552222@gw1.example.net;unknownparam>")), SIP_PERR_OK);
	t_span(na.uri, "sip:+19725552222@gw1.example.net;unknownparam");
	t_span_empty(na.params);
	assert_int_equal(na.bracketed, 1);

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")),
		SIP_PERR_OK);
	t_span(na.uri, "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
}

/* RFC 5118 §4.1, §4.9: IPv6 references in Contact. */
static void
test_sip_addr_naddr_parse_rfc5118_ipv6(void **state)
{
	struct sip_naddr na;

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\"Caller\" <sip:caller@[2001:db8::1]>")), SIP_PERR_OK);
	t_span(na.display, "\"Caller\"");
	t_span(na.uri, "sip:caller@[2001:db8::1]");

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\"T. desk phone\" <sip:ted@[::ffff:192.0.2.2]>")), SIP_PERR_OK);
	t_span(na.uri, "sip:ted@[::ffff:192.0.2.2]");

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"sip:user@[2001:db8::10];tag=x")), SIP_PERR_OK);
	t_span(na.uri, "sip:user@[2001:db8::10]");
	t_span(na.tag, "x");
}

static void
test_sip_addr_naddr_parse_display_forms(void **state)
{
	struct sip_naddr na;

	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"Anonymous  User\t<sip:anon@example.org>")), SIP_PERR_OK);
	t_span(na.display, "Anonymous  User");
	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\"\" <sip:a@b>")), SIP_PERR_OK);
	t_span(na.display, "\"\"");
	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\"x\"<sip:a@b>")), SIP_PERR_OK);
	t_span(na.display, "\"x\"");
	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"\"caf\xc3\xa9 \\\\ \\\" \" <tel:+1-212-555-0100>")), SIP_PERR_OK);
	t_span(na.uri, "tel:+1-212-555-0100");
	assert_int_equal(sip_naddr_parse(&na, PUT(state, "<sip:a@b>")),
			 SIP_PERR_OK);
	t_span_absent(na.display);
	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"<sip:a@b>;tag=1;tag=2")), SIP_PERR_OK);
	t_span(na.tag, "1");
	assert_int_equal(sip_naddr_parse(&na, PUT(state,
		"<sip:a@b>;TAG=x;other=\"q\\\"uoted\"")), SIP_PERR_OK);
	t_span(na.tag, "x");
}

static void
test_sip_addr_naddr_parse_star(void **state)
{
	struct sip_naddr na;

	assert_int_equal(sip_naddr_parse(&na, PUT(state, "*")), SIP_PERR_OK);
	assert_int_equal(na.star, 1);
	t_span_absent(na.uri);
	assert_int_equal(sip_naddr_parse(&na, PUT(state, " \t*\r\n ")),
			 SIP_PERR_OK);
	assert_int_equal(na.star, 1);
	assert_int_equal(sip_naddr_parse(&na, PUT(state, "<sip:a@b>")),
			 SIP_PERR_OK);
	assert_int_equal(na.star, 0);
}

static void
test_sip_addr_naddr_parse_errors_rejected(void **state)
{
	static const char *const bad[] = {
		"", " ", "\r\n",
		/* RFC 4475 §3.1.2.6 quotbal */
		"\"Mr. J. User <sip:j.user@example.com>",
		"\"unterminated\\\" <sip:a@b>",
		/* RFC 4475 §3.1.2.14 badaspec */
		"\"Watson, Thomas\" < sip:t.watson@example.org >",
		"< sip:a@b>", "<sip:a@b >", "<sip:a@b\r\n >",
		/* RFC 4475 §3.1.2.15 baddn */
		"Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
		"Watson, Thomas <sip:t.watson@example.org>",
		"caf\xc3\xa9 <sip:a@b>", "a\"b\" <sip:a@b>", "a@b <sip:a@b>",
		/* RFC 4475 §3.1.2.1 badinv01 */
		"\"Joe\" <sip:joe@example.org>;;;;",
		/* RFC 4475 §3.1.2.13 regbadct: '?' needs <> */
		"sip:user@example.com?Route=%3Csip:sip.example.com%3E",
		/* ... and ',' too (RFC 3261 §20) */
		"sip:a,b@host", "sip:a,b@host;tag=1", "urn:x,y",
		/* structure */
		"<>", "<sip:a@b", "sip:a@b>", "<sip:a@b> junk", "<sip:a@b>x",
		"\"x\"", "\"x\" sip:a@b", "\"x\" \"y\" <sip:a@b>", "**", "*;q=1",
		"* x", "<*>", "display", "display name", "<sip:a@b><sip:c@d>",
		"sip:a@b sip:c@d", "sip:a@b,sip:c@d", "<sip:a@b>,<sip:c@d>",
		/* URI */
		"<sip:>", "<sip:a@>", "<2001:db8::1>", "<sip:2001:db8::1>",
		"<sip:a b@c>", "<:x>", "sip:", "sip:a@b:99999", "<sip:a@b;;lr>",
		/* params */
		"<sip:a@b>;", "<sip:a@b>; ", "<sip:a@b>;tag", "<sip:a@b>;tag=",
		"<sip:a@b>;tag=\"\"", "<sip:a@b>;=x", "<sip:a@b>;a b",
		"<sip:a@b>;x=\"open", "sip:a@b;", "sip:a@b;;tag=1",
		"<sip:a@b> tag=1", "<sip:a@b>;tag=\"quoted\"",
		"<sip:a@b>;tag=a/b", "<sip:a@b>;tag=[x]", "<sip:a@b>;tag=a:b",
		"\"ctl\x01\" <sip:a@b>",
	};
	struct sip_naddr na;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_naddr_parse(&na, put_str(state, bad[i])) !=
		    SIP_PERR_BAD_VALUE)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static const char *const valid_naddrs[] = {
	"\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
	"sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
	"caller<sip:caller@example.com>;tag=323",
	"token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=x",
	"\"Caller\" <sip:caller@[2001:db8::1]>;q=0.7;expires=3600",
	"<sip:user@example.com?Route=%3Csip:sip.example.com%3E>",
	"*",
};

static void
test_sip_addr_naddr_parse_prefixes_never_fault(void **state)
{
	struct sip_naddr na;
	struct span in;
	size_t i, n, len;

	for (i = 0; i < sizeof(valid_naddrs) / sizeof(valid_naddrs[0]); i++) {
		len = strlen(valid_naddrs[i]);
		in = put(state, valid_naddrs[i], len);
		assert_int_equal(sip_naddr_parse(&na, in), SIP_PERR_OK);
		assert_naddr_inside(&na, in);
		for (n = 0; n < len; n++) {
			in = put(state, valid_naddrs[i], n);
			if (sip_naddr_parse(&na, in) == SIP_PERR_OK)
				assert_naddr_inside(&na, in);
		}
	}
}

static void
test_sip_addr_naddr_parse_any_byte_never_faults(void **state)
{
	static const char base[] =
		"\"A \\\"B\\\"\" <sip:u@[::1]:5060;lr>;tag=x;q=0.5";
	char buf[sizeof(base)];
	struct sip_naddr na;
	struct span in;
	size_t pos;
	unsigned int c;

	for (pos = 0; pos < sizeof(base) - 1; pos++) {
		for (c = 0; c < 256; c++) {
			memcpy(buf, base, sizeof(base) - 1);
			buf[pos] = (char)c;
			in = put(state, buf, sizeof(base) - 1);
			if (sip_naddr_parse(&na, in) == SIP_PERR_OK)
				assert_naddr_inside(&na, in);
		}
	}
}

/* ---- q-values ------------------------------------------------------------ */

static void
test_sip_addr_naddr_q_values(void **state)
{
	static const struct {
		const char *in;
		uint16_t q;
	} good[] = {
		{ "<sip:a@b>;q=0", 0 }, { "<sip:a@b>;q=0.", 0 },
		{ "<sip:a@b>;q=0.5", 500 }, { "<sip:a@b>;q=0.05", 50 },
		{ "<sip:a@b>;q=0.123", 123 }, { "<sip:a@b>;q=1", 1000 },
		{ "<sip:a@b>;q=1.0", 1000 }, { "<sip:a@b>;q=1.000", 1000 },
		{ "<sip:a@b>; Q = 0.7 ;expires=60", 700 },
		{ "sip:a@b;expires=60;q=0.999", 999 },
	};
	static const char *const bad[] = {
		"<sip:a@b>;q", "<sip:a@b>;q=2", "<sip:a@b>;q=1.5",
		"<sip:a@b>;q=1.001", "<sip:a@b>;q=0.1234", "<sip:a@b>;q=.5",
		"<sip:a@b>;q=0.x", "<sip:a@b>;q=00.5",
		"<sip:a@b>;q=-0", "<sip:a@b>;q=01", "<sip:a@b>;q=\"0.5\"",
	};
	struct sip_naddr na;
	uint16_t q;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(sip_naddr_parse(&na, put_str(state, good[i].in)),
				 SIP_PERR_OK);
		q = 0xffff;
		assert_int_equal(sip_naddr_q(&na, &q), 0);
		assert_int_equal(q, good[i].q);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_naddr_parse(&na, put_str(state, bad[i])) != SIP_PERR_OK)
			fail_msg("not parsed: \"%s\"", bad[i]);
		if (sip_naddr_q(&na, &q) != -EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}

	assert_int_equal(sip_naddr_parse(&na, PUT(state, "<sip:a@b;q=0.5>")),
			 SIP_PERR_OK);
	assert_int_equal(sip_naddr_q(&na, &q), -ENOENT);
	assert_int_equal(sip_naddr_parse(&na, PUT(state, "*")), SIP_PERR_OK);
	assert_int_equal(sip_naddr_q(&na, &q), -ENOENT);
}

/* ---- CSeq ---------------------------------------------------------------- */

static void
test_sip_addr_cseq_parse_values(void **state)
{
	struct sip_cseq c;

	assert_int_equal(sip_cseq_parse(&c, PUT(state, "1 INVITE")),
			 SIP_PERR_OK);
	assert_int_equal(c.num, 1);
	assert_int_equal(c.method, SIP_METHOD_INVITE);
	t_span(c.method_name, "INVITE");

	/* RFC 4475 §3.1.1.1 wsinv: leading zeros, folded LWS */
	assert_int_equal(sip_cseq_parse(&c, PUT(state, " 0009\r\n  INVITE ")),
			 SIP_PERR_OK);
	assert_int_equal(c.num, 9);
	assert_int_equal(c.method, SIP_METHOD_INVITE);

	assert_int_equal(sip_cseq_parse(&c, PUT(state, "4294967295 REGISTER")),
			 SIP_PERR_OK);
	assert_int_equal(c.num, 4294967295u);
	assert_int_equal(c.method, SIP_METHOD_REGISTER);

	assert_int_equal(sip_cseq_parse(&c, PUT(state,
		"00000000000000000000000000000004294967295\tACK")), SIP_PERR_OK);
	assert_int_equal(c.num, 4294967295u);
	assert_int_equal(c.method, SIP_METHOD_ACK);

	assert_int_equal(sip_cseq_parse(&c, PUT(state, "0 OPTIONS")),
			 SIP_PERR_OK);
	assert_int_equal(c.num, 0);

	/* RFC 4475 intmeth and esc02: extension methods */
	assert_int_equal(sip_cseq_parse(&c, PUT(state,
		"139122385 !interesting-Method0123456789_*+`.%indeed'~")),
		SIP_PERR_OK);
	assert_int_equal(c.num, 139122385);
	assert_int_equal(c.method, SIP_METHOD_OTHER);
	t_span(c.method_name, "!interesting-Method0123456789_*+`.%indeed'~");
	assert_int_equal(sip_cseq_parse(&c, PUT(state, "29344 RE%47IST%45R")),
			 SIP_PERR_OK);
	assert_int_equal(c.method, SIP_METHOD_OTHER);

	/* methods are case-sensitive */
	assert_int_equal(sip_cseq_parse(&c, PUT(state, "2 invite")),
			 SIP_PERR_OK);
	assert_int_equal(c.method, SIP_METHOD_OTHER);
}

static void
test_sip_addr_cseq_parse_errors_rejected(void **state)
{
	static const char *const bad[] = {
		"", " ", "1", "1 ", "INVITE", " INVITE", "1INVITE",
		"1 INVITE x", "1 INVITE;x", "-1 INVITE", "+1 INVITE",
		"1.0 INVITE", "1 INV@ITE", "1 INV/ITE", "1 \"INVITE\"",
		"1,2 INVITE", "0x10 INVITE",
		/* RFC 4475 §3.1.2.4 scalar02, §3.1.2.5 scalarlg */
		"4294967296 INVITE", "36893488147419103232 REGISTER",
		"9292394834772304023312 OPTIONS",
		"99999999999999999999999999999999999999999 INVITE",
	};
	struct sip_cseq c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_cseq_parse(&c, put_str(state, bad[i])) !=
		    SIP_PERR_BAD_CSEQ)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
}

static void
test_sip_addr_cseq_parse_prefixes_never_fault(void **state)
{
	static const char in[] = " 0009\r\n  INVITE ";
	struct sip_cseq c;
	size_t n;

	for (n = 0; n < sizeof(in) - 1; n++) {
		enum sip_perr e = sip_cseq_parse(&c, put(state, in, n));

		/* "0009\r\n  INVIT" and shorter method names are tokens too */
		if (e == SIP_PERR_OK)
			assert_int_equal(c.num, 9);
		else
			assert_int_equal(e, SIP_PERR_BAD_CSEQ);
	}
}

/* ---- delta-seconds ------------------------------------------------------- */

static void
test_sip_addr_delta_parse_values(void **state)
{
	struct span params;
	uint32_t secs;

	assert_int_equal(sip_delta_parse(PUT(state, "3600"), &secs, &params), 0);
	assert_int_equal(secs, 3600);
	t_span_empty(params);

	assert_int_equal(sip_delta_parse(PUT(state, " 0068 "), &secs, &params),
			 0);
	assert_int_equal(secs, 68);

	assert_int_equal(sip_delta_parse(PUT(state, "18000;duration=3600"),
					 &secs, &params), 0);
	assert_int_equal(secs, 18000);
	t_span(params, ";duration=3600");

	assert_int_equal(sip_delta_parse(PUT(state,
		"4000 ; refresher = uac"), &secs, &params), 0);
	assert_int_equal(secs, 4000);
	t_span(params, "; refresher = uac");

	/* Retry-After comment, nested and with a quoted-pair */
	assert_int_equal(sip_delta_parse(PUT(state,
		"120 (I'm in a meeting)"), &secs, &params), 0);
	assert_int_equal(secs, 120);
	t_span_empty(params);
	assert_int_equal(sip_delta_parse(PUT(state,
		"5 (a (nested \\) one)) ;duration=1"), &secs, &params), 0);
	assert_int_equal(secs, 5);
	t_span(params, ";duration=1");

	/* saturation: RFC 4475 scalar02 Expires, scalarlg Retry-After */
	assert_int_equal(sip_delta_parse(PUT(state, "4294967295"), &secs, NULL),
			 0);
	assert_int_equal(secs, 4294967295u);
	assert_int_equal(sip_delta_parse(PUT(state, "4294967296"), &secs, NULL),
			 0);
	assert_int_equal(secs, 4294967295u);
	assert_int_equal(sip_delta_parse(PUT(state,
		"10000000000000000000000000000000000000000000000000000000000000"
		"000000000000000000000000000000000000000"), &secs, NULL), 0);
	assert_int_equal(secs, 4294967295u);
	assert_int_equal(sip_delta_parse(PUT(state,
		"949302838503028349304023988"), &secs, NULL), 0);
	assert_int_equal(secs, 4294967295u);
	assert_int_equal(sip_delta_parse(PUT(state,
		"7 (caf\xc3\xa9\r\n\tescaped \\\x01)"), &secs, NULL), 0);
	assert_int_equal(secs, 7);
	assert_int_equal(sip_delta_parse(PUT(state, "0"), &secs, NULL), 0);
	assert_int_equal(secs, 0);
}

static void
test_sip_addr_delta_parse_errors_rejected(void **state)
{
	static const char *const bad[] = {
		"", " ", "abc", "-1", "+1", "12x", "12 13", "1.5", "0x10",
		"12 (unbalanced", "12 (a))", "12 (a) (b)", "12 (a\\", "12;",
		"12;;a", "12; a=", "12;a b", ";a=1", "(c) 12", "12 ,",
		"12 (ctl\x01)", "12 (del\x7f)", "12 (a\\\r\n b)",
	};
	struct span params;
	uint32_t secs = 77;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_delta_parse(put_str(state, bad[i]), &secs, &params) !=
		    -EBADMSG)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(secs, 77);     /* untouched on error */
}

static void
test_sip_addr_delta_parse_prefixes_never_fault(void **state)
{
	static const char in[] = " 120 (nested (x) \\) y) ; duration = 60 ";
	struct span params;
	uint32_t secs;
	size_t n;
	int rc;

	for (n = 0; n < sizeof(in) - 1; n++) {
		rc = sip_delta_parse(put(state, in, n), &secs, &params);
		assert_true(rc == 0 || rc == -EBADMSG);
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

static const char interesting[] = "@:;?=&%[]<>\"\\()/,*. \t\r\n\0\x01\x7f\x80"
				  "09azAZ";

/* Replace, insert, delete or truncate 1..3 times; returns the new length. */
static size_t
mutate(char *buf, size_t len, size_t cap, uint32_t *seed)
{
	uint32_t r, k;
	size_t pos;

	for (k = 1 + xorshift32(seed) % 3; k > 0; k--) {
		r = xorshift32(seed);
		pos = len != 0 ? r % len : 0;
		switch ((r >> 8) % 4) {
		case 0:
			if (len != 0)
				buf[pos] = interesting[(r >> 12) %
						       (sizeof(interesting) - 1)];
			break;
		case 1:
			if (len + 1 < cap) {
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = interesting[(r >> 12) %
						       (sizeof(interesting) - 1)];
				len++;
			}
			break;
		case 2:
			if (len != 0) {
				memmove(buf + pos, buf + pos + 1, len - pos - 1);
				len--;
			}
			break;
		default:
			len = pos;
			break;
		}
	}
	return len;
}

/*
 * An accepted Via promises: spans inside the input, a host that
 * sip_host_to_ip() agrees with, params that walk, and branch/received/
 * rport equal to what sip_param_get() finds.
 */
static void
test_sip_addr_via_parse_mutations_keep_invariants(void **state)
{
	uint32_t seed = 0x2545f491u;
	char buf[160];
	struct sip_via v;
	struct span in, rest, n, pv;
	uint8_t a[16];
	size_t len;
	int iter, rc;

	for (iter = 0; iter < 100000; iter++) {
		const char *src = valid_vias[xorshift32(&seed) %
			(sizeof(valid_vias) / sizeof(valid_vias[0]))];

		len = strlen(src);
		memcpy(buf, src, len);
		len = mutate(buf, len, sizeof(buf), &seed);
		in = put(state, buf, len);
		if (sip_via_parse(&v, in) != SIP_PERR_OK)
			continue;
		assert_via_inside(&v, in);
		assert_true(v.proto.len > 0 && v.transport.len > 0);
		assert_true(v.host.len > 0);
		rc = sip_host_to_ip(v.host, a);
		if (v.host_type == SIP_HOST_NAME)
			assert_int_equal(rc, -EINVAL);
		else
			assert_int_equal(rc, v.host_type == SIP_HOST_IPV4 ? 4 : 16);
		rest = v.params;
		while ((rc = sip_param_next(&rest, &n, &pv)) == 1)
			;
		assert_int_equal(rc, 0);
		if (v.branch.ptr != NULL) {
			assert_true(sip_param_get(v.params, SPAN_LIT("branch"),
						  &pv));
			assert_ptr_equal(pv.ptr, v.branch.ptr);
		}
		if (v.received.ptr != NULL)
			assert_true(sip_host_to_ip(v.received, a) > 0);
	}
}

/*
 * An accepted name-addr promises: spans inside the input, a URI that
 * sip_uri_parse() accepts, params that walk, a non-empty tag.
 */
static void
test_sip_addr_naddr_parse_mutations_keep_invariants(void **state)
{
	uint32_t seed = 0x1234567u;
	char buf[160];
	struct sip_naddr na;
	struct sip_uri u;
	struct span in, rest, n, pv;
	size_t len;
	int iter, rc;

	for (iter = 0; iter < 100000; iter++) {
		const char *src = valid_naddrs[xorshift32(&seed) %
			(sizeof(valid_naddrs) / sizeof(valid_naddrs[0]))];

		len = strlen(src);
		memcpy(buf, src, len);
		len = mutate(buf, len, sizeof(buf), &seed);
		in = put(state, buf, len);
		if (sip_naddr_parse(&na, in) != SIP_PERR_OK)
			continue;
		assert_naddr_inside(&na, in);
		if (na.star) {
			assert_null(na.uri.ptr);
			continue;
		}
		assert_int_equal(sip_uri_parse(&u, na.uri), SIP_PERR_OK);
		if (!na.bracketed)
			assert_null(memchr(na.uri.ptr, '?', na.uri.len));
		if (na.display.ptr != NULL && na.display.ptr[0] == '"')
			assert_int_equal(na.display.ptr[na.display.len - 1], '"');
		rest = na.params;
		while ((rc = sip_param_next(&rest, &n, &pv)) == 1)
			;
		assert_int_equal(rc, 0);
		if (na.tag.ptr != NULL)
			assert_true(na.tag.len > 0);
	}
}

/* Absent (NULL) spans are rejected without being dereferenced. */
static void
test_sip_addr_null_spans_rejected(void **state)
{
	struct sip_via v;
	struct sip_naddr na;
	struct sip_cseq c;
	uint32_t secs;

	(void)state;
	assert_int_equal(sip_via_parse(&v, SPAN_NULL), SIP_PERR_BAD_VIA);
	assert_int_equal(sip_naddr_parse(&na, SPAN_NULL), SIP_PERR_BAD_VALUE);
	assert_int_equal(sip_cseq_parse(&c, SPAN_NULL), SIP_PERR_BAD_CSEQ);
	assert_int_equal(sip_delta_parse(SPAN_NULL, &secs, NULL), -EBADMSG);
}

/* ---- the "SIP/2.0/" fast path against the general sent-protocol path ---- */

struct via_diff {
	struct guard_buf *gb;
	unsigned int     fast_ok;
};

static bool
via_span_same(struct span a, struct span b)
{
	return a.ptr == b.ptr && a.len == b.len;
}

/*
 * A Via value starting "SIP/2.0/" (fast path) and the same value with
 * "SIP / 2.0 / " (general path, 4 bytes longer) parse to the same verdict
 * and the same fields after the protocol. Both are placed against the
 * guard page, so those fields sit at the same addresses.
 */
static void
via_diff_one(void *arg, const char *s, size_t n)
{
	struct via_diff *d = arg;
	static char b[300];
	struct sip_via va, vb;
	enum sip_perr ra, rb;
	const char *in;

	if (n < 8 || n > 250 || (strncmp(s, "SIP/2.0/", 8) != 0 &&
				 strncmp(s, "sip/2.0/", 8) != 0))
		return;
	memcpy(b, s, 3);
	memcpy(b + 3, " / 2.0 / ", 9);
	memcpy(b + 12, s + 8, n - 8);
	in = guard_buf_put(d->gb, s, n);
	ra = sip_via_parse(&va, span_make(in, n));
	in = guard_buf_put(d->gb, b, n + 4);
	rb = sip_via_parse(&vb, span_make(in, n + 4));
	if (ra != rb) {
		print_error("via \"%.*s\": fast %d, general %d\n", (int)n, s,
			    ra, rb);
		fail();
	}
	if (ra != SIP_PERR_OK)
		return;
	d->fast_ok++;
	if (va.proto.len != 7 || vb.proto.len != 9 ||
	    !via_span_same(va.transport, vb.transport) ||
	    !via_span_same(va.host, vb.host) ||
	    !via_span_same(va.params, vb.params) ||
	    !via_span_same(va.branch, vb.branch) ||
	    !via_span_same(va.received, vb.received) ||
	    !via_span_same(va.rport, vb.rport) ||
	    !via_span_same(va.maddr, vb.maddr) ||
	    !via_span_same(va.ttl, vb.ttl) ||
	    va.port != vb.port || va.host_type != vb.host_type) {
		print_error("via \"%.*s\": fields differ\n", (int)n, s);
		fail();
	}
}

static void
test_sip_addr_via_fast_protocol_matches_general(void **state)
{
	static const char alphabet[] = "SIP/2.0UDPTCP;=branch:rport 1.[]a-\t";
	static const char *const vias[] = {
		"SIP/2.0/UDP 198.51.100.17:5060;branch=z9hG4bK776asdhds-4f2a;rport",
		"SIP/2.0/TCP client.example.com:5060;branch=z9hG4bK74b43",
		"sip/2.0/udp [2001:db8::9:1];received=192.0.2.1;branch=z9hG4bK.x",
		"SIP/2.0/TLS h;maddr=224.2.0.1;ttl=16;branch=z9hG4bKx",
		"SIP/2.0/UDP h:0", "SIP/2.0/UDP", "SIP/2.0/ UDP h", "SIP/2.0/UDP  h",
	};
	static struct corpus c;
	struct via_diff d = { .gb = *state };
	char buf[300];
	uint32_t x = 3;
	unsigned int i, r;

	corpus_load(&c);
	corpus_pieces(&c, via_diff_one, &d);
	for (i = 0; i < sizeof(vias) / sizeof(vias[0]); i++)
		via_diff_one(&d, vias[i], strlen(vias[i]));
	for (r = 0; r < 30000; r++) {
		const char *v = vias[r % (sizeof(vias) / sizeof(vias[0]))];
		size_t n = strlen(v);

		memcpy(buf, v, n);
		/* mutate the tail only, so the prefix stays "SIP/2.0/" */
		n = 8 + corpus_mutate(buf + 8, n - 8, sizeof(buf) - 8,
				      alphabet, &x);
		via_diff_one(&d, buf, n);
	}
	corpus_free(&c);
	assert_true(d.fast_ok > 1000);
}

/*
 * "<sip:" name-addrs: the '>' and the URI from one AVX2 mask pass (the
 * default on an AVX2 CPU) give what memchr() and the URI parser give (the
 * path without AVX2), flush against the guard page, on seeds and random
 * edits of them with delimiters, LWS and high bytes.
 */
static void
test_sip_addr_naddr_lt_masks_match_memchr(void **state)
{
	static const char *const seeds[] = {
		"<sip:+14155550100@198.51.100.17:5060;transport=udp>;"
		"expires=3600",
		"\"A\" <sip:+12125550123@edge.carrier.example;user=phone>;"
		"tag=1",
		"<sip:edge.carrier.example;lr>",
		"<SIP:u@h.example.com:65535;a=b;c>;tag=x",
		"<sip:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@h>",
		"<sip:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@h>;tag=1",
		"<sip:%61@[2001:db8::1]:5061>", "<sip:>", "<sip:h>>", "<sip:h",
		"<sip:u:pw@h?x=y>", "<sip:h;a=b>;tag=x;tag=y", "<sips:h>",
	};
	static const char edit[] = "<>\"@:;=,. -\t\r\nsip0129a%?[]\\\x80";
	struct guard_buf *gb = *state;
	struct sip_naddr a, b;
	enum sip_perr ra, rb;
	char buf[96];
	uint32_t x = 11, r, k, n;
	const char *in;

	if (sip_val_select(true) != 0)
		skip();
	for (r = 0; r < 20000; r++) {
		const char *sd = seeds[r % (sizeof(seeds) / sizeof(seeds[0]))];

		n = (uint32_t)strlen(sd);
		memcpy(buf, sd, n);
		for (k = 0; r >= 100 && k < 1 + r % 3; k++) {
			x = x * 1103515245u + 12345u;
			buf[(x >> 8) % n] =
				edit[(x >> 20) % (sizeof(edit) - 1)];
		}
		in = guard_buf_put(gb, buf, n);
		assert_int_equal(sip_val_select(true), 0);
		ra = sip_naddr_parse(&a, span_make(in, n));
		assert_int_equal(sip_val_select(false), 0);
		rb = sip_naddr_parse(&b, span_make(in, n));
		assert_int_equal(ra, rb);
		if (ra != SIP_PERR_OK)
			continue;
		assert_true(via_span_same(a.display, b.display));
		assert_true(via_span_same(a.uri, b.uri));
		assert_true(via_span_same(a.params, b.params));
		assert_true(via_span_same(a.tag, b.tag));
		assert_int_equal(a.star, b.star);
		assert_int_equal(a.bracketed, b.bracketed);
	}
	assert_int_equal(sip_val_select(true), 0);
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
		cmocka_unit_test(test_sip_addr_via_parse_basic_fields),
		cmocka_unit_test(test_sip_addr_via_parse_rfc4475_wsinv),
		cmocka_unit_test(test_sip_addr_via_parse_rfc4475_transports),
		cmocka_unit_test(test_sip_addr_via_parse_rfc5118_ipv6),
		cmocka_unit_test(test_sip_addr_via_parse_params),
		cmocka_unit_test(test_sip_addr_via_parse_errors_rejected),
		cmocka_unit_test(test_sip_addr_via_parse_prefixes_never_fault),
		cmocka_unit_test(test_sip_addr_via_parse_any_byte_never_faults),
		cmocka_unit_test(test_sip_addr_naddr_parse_rfc4475_wsinv),
		cmocka_unit_test(test_sip_addr_naddr_parse_rfc4475_intmeth),
		cmocka_unit_test(test_sip_addr_naddr_parse_rfc4475_escapes_and_lwsdisp),
		cmocka_unit_test(test_sip_addr_naddr_parse_rfc4475_schemes_and_params),
		cmocka_unit_test(test_sip_addr_naddr_parse_rfc5118_ipv6),
		cmocka_unit_test(test_sip_addr_naddr_parse_display_forms),
		cmocka_unit_test(test_sip_addr_naddr_parse_star),
		cmocka_unit_test(test_sip_addr_naddr_parse_errors_rejected),
		cmocka_unit_test(test_sip_addr_naddr_parse_prefixes_never_fault),
		cmocka_unit_test(test_sip_addr_naddr_parse_any_byte_never_faults),
		cmocka_unit_test(test_sip_addr_naddr_q_values),
		cmocka_unit_test(test_sip_addr_cseq_parse_values),
		cmocka_unit_test(test_sip_addr_cseq_parse_errors_rejected),
		cmocka_unit_test(test_sip_addr_cseq_parse_prefixes_never_fault),
		cmocka_unit_test(test_sip_addr_delta_parse_values),
		cmocka_unit_test(test_sip_addr_delta_parse_errors_rejected),
		cmocka_unit_test(test_sip_addr_delta_parse_prefixes_never_fault),
		cmocka_unit_test(test_sip_addr_via_parse_mutations_keep_invariants),
		cmocka_unit_test(test_sip_addr_via_fast_protocol_matches_general),
		cmocka_unit_test(test_sip_addr_naddr_parse_mutations_keep_invariants),
		cmocka_unit_test(test_sip_addr_null_spans_rejected),
		cmocka_unit_test(test_sip_addr_naddr_lt_masks_match_memchr),
	};

	return cmocka_run_group_tests_name("sip_addr", tests,
					   setup_guard, teardown_guard);
}
