/* SPDX-License-Identifier: MIT */
/*
 * fuzz_proxy.c - libFuzzer target for the stateless proxy: the decisions
 * of dp_proxy.c over a parsed message (dp_proxy_request(),
 * dp_proxy_to_target(), dp_proxy_response()) and the edits they make,
 * applied by sip_rewrite.c both into another buffer and in place, with
 * headroom and tailroom, as dp_proxy_send() does.
 *
 * Input: a SIP message, optionally behind one flags byte (>= 0x80, which
 * no message starts with; without it the flags are a hash of the message):
 *   bit 0  Record-Route on; in a response whose top Via is ours in
 *          shape, the transaction part of its branch made right (else a
 *          made-up one: a foreign Via)
 *   bit 1  the sender is IPv6 (else IPv4)
 *   bit 2  the route-table target is IPv6 (else IPv4)
 *   bit 3-4  the table's user rewrite: none, digits, bytes to escape, empty
 *   bit 5  another sender address (not the Via's), to our second port
 *   bit 6  the snapshot's "host:port" text for an IPv4 target (hp_hint)
 *
 * What must hold, else abort():
 *  - a request is sent, answered with 400..699, or dropped with a reason;
 *    it is answered 482 exactly when its Max-Forwards is not 0 (483
 *    comes first) and a Via of ours (each value parsed on its own)
 *    carries its loop part;
 *    a response is sent or dropped with a reason, never answered;
 *  - the edits apply with sip_rw_apply(); deciding again with the struct
 *    the first decision left (our Via's prefix cached) and the other
 *    hp_hint choice gives the same bytes and addresses;
 *  - sip_rw_apply_inplace_head() with no room, headroom only, tailroom
 *    only and both gives those bytes, or -ENOSPC exactly when they fit
 *    neither way, and writes nowhere else (the rest is poisoned);
 *  - the result parses and passes sip_msg_check() (unless the edits took
 *    it past a parser limit the input was near); its start line but the
 *    Request-URI, the header lines the proxy does not edit and the body
 *    are the received bytes;
 *  - a request: our Via on top (dp_proxy_via_is_ours(), this request's
 *    loop part, the address and port it leaves from), then the received
 *    Via values, the first one equal but for received and rport, which
 *    name the sender (RFC 3581 §4); Max-Forwards one less, or 70 where
 *    there was none; with Record-Route, ours first, naming where the
 *    request came in; the Route set, Request-URI and next hop that RFC
 *    3261 §16.4 and §16.6 steps 6-7 give; through the table, the
 *    target's host:port and the user rewrite in the Request-URI;
 *  - a response: exactly its top Via value gone, sent to the next Via's
 *    maddr, else received, else sent-by, at rport, else its port.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined only (-Dfuzz). The
 * message lies in a buffer whose headroom and tailroom are poisoned for
 * AddressSanitizer, but for the room an in-place apply is given.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

#include <fmt.h>
#include <rules_types.h>
#include <sip.h>
#include <span.h>

#include "dp_proxy.h"
#include "dp_proxy_fixture.h"

#define T_HEAD          512u    /* room before the message (8-aligned) */
#define T_TAIL          16384u  /* room after it: more than edits can add */
#define T_OUT_CAP       (2u * SIP_MAX_MSG_LEN)
#define T_MAX_VALS      512u

#define T_RR            0x01u
#define T_SRC6          0x02u
#define T_DST6          0x04u
#define T_USER_SHIFT    3
#define T_ALT_SRC       0x20u
#define T_HINT          0x40u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Us: 192.0.2.1 and 2001:db8::1, SIP ports 5060 and 5080. */
static struct dp_conf t_conf;
static struct dp_proxy_self t_self;

static _Alignas(64) char t_room[T_HEAD + SIP_MAX_MSG_LEN + T_TAIL];
static char t_out[T_OUT_CAP];
static char t_out2[T_OUT_CAP];
static struct dp_proxy_out t_po;
static struct dp_proxy_out t_po2;
static struct sip_msg t_in;
static struct sip_info t_iin;
static struct sip_msg t_om;
static struct sip_info t_oin;

/* Comma-separated values of one header, empty ones left out. */
struct t_vals {
	uint32_t         n;
	struct span      v[T_MAX_VALS];
};

static struct t_vals t_vin, t_vout;

static void
t_setup(void)
{
	if (t_conf.nsip_port == 0)
		t_proxy_fixture(&t_conf, 5080, &t_self);
}

/* The sender and the address it sent to, from the flags. */
static void
t_meta(unsigned int flags, struct dp_udp_meta *meta)
{
	static const uint8_t src4[2][4] = {
		{ 192, 0, 2, 10 }, { 198, 51, 100, 7 },
	};
	static const uint8_t src6[2][16] = {
		{ 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 7 },
	};
	unsigned int alt = (flags & T_ALT_SRC) != 0;

	memset(meta, 0, sizeof(*meta));
	if (flags & T_SRC6) {
		meta->src.family = DP_AF_V6;
		memcpy(meta->src.v6, src6[alt], 16);
		meta->dst = t_conf.addr6[0].ip;
	} else {
		meta->src.family = DP_AF_V4;
		memcpy(&meta->src.v4, src4[alt], 4);
		meta->dst = t_conf.addr4[0].ip;
	}
	meta->sport = alt ? 40000 : 5062;
	meta->dport = alt ? 5080 : 5060;
}

static void
t_dest(unsigned int flags, struct rules_dest *d)
{
	static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x20 };
	static const uint8_t dst4[4] = { 192, 0, 2, 20 };

	memset(d, 0, sizeof(*d));
	if (flags & T_DST6) {
		d->af = RULES_AF_INET6;
		memcpy(d->addr, dst6, 16);
	} else {
		d->af = RULES_AF_INET;
		memcpy(d->addr, dst4, 4);
	}
	d->port = 5070;
}

static struct span
t_user(unsigned int flags)
{
	switch ((flags >> T_USER_SHIFT) & 3) {
	case 1:
		return SPAN_LIT("0012125550100");
	case 2:
		return SPAN_LIT("+1 (212) #5%;@:\x01\xff");
	case 3:
		return span_make("", 0);
	default:
		return SPAN_NULL;
	}
}

static bool
t_span_eq(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool
t_ip_eq(const struct dp_ip *a, const struct dp_ip *b)
{
	if (a->family != b->family)
		return false;
	return a->family == DP_AF_V4 ? memcmp(&a->v4, &b->v4, 4) == 0 :
				       memcmp(a->v6, b->v6, 16) == 0;
}

/* An IP literal (bracketed or not) equal to @p ip. */
static bool
t_host_is(struct span host, const struct dp_ip *ip)
{
	uint8_t addr[16];
	int fam = sip_host_to_ip(host, addr);

	if (fam == 4)
		return ip->family == DP_AF_V4 && memcmp(&ip->v4, addr, 4) == 0;
	if (fam == 16)
		return ip->family == DP_AF_V6 && memcmp(ip->v6, addr, 16) == 0;
	return false;
}

/* Values of every @p id line; false when the list is malformed or long. */
static bool
t_values(const struct sip_msg *msg, enum sip_hdr_id id, struct t_vals *out)
{
	struct sip_value_iter it;
	struct span v;
	int rc;

	out->n = 0;
	sip_values_init(&it, msg, id);
	while ((rc = sip_values_next(&it, &v)) == 1) {
		if (v.len == 0)
			continue;
		if (out->n == T_MAX_VALS)
			return false;
		out->v[out->n++] = v;
	}
	return rc == 0;
}

/* The URI of a name-addr value, parsed. */
static bool
t_value_uri(struct span v, struct sip_uri *uri, struct span *text)
{
	struct sip_naddr na;

	if (sip_naddr_parse(&na, v) != SIP_PERR_OK ||
	    sip_uri_parse(uri, na.uri) != SIP_PERR_OK)
		return false;
	if (text != NULL)
		*text = na.uri;
	return true;
}

/*
 * Is Route value @p v a loose router: lr in its URI, or, written without
 * <> (met though the grammar wants them), lr read as a header parameter.
 */
static bool
t_value_lr(struct span v, const struct sip_uri *uri)
{
	struct sip_naddr na;
	struct span lr;

	if (sip_param_get(uri->params, SPAN_LIT("lr"), &lr))
		return true;
	return sip_naddr_parse(&na, v) == SIP_PERR_OK && !na.bracketed &&
	       sip_param_get(na.params, SPAN_LIT("lr"), &lr);
}

/* Where a URI sends to: its maddr, else its host; its port, else 5060. */
static void
t_uri_hop_is(const struct sip_uri *u, const struct dp_proxy_out *po)
{
	struct span host = u->host, maddr;

	if (sip_param_get(u->params, SPAN_LIT("maddr"), &maddr))
		host = maddr;
	if (!t_host_is(host, &po->dst) ||
	    po->dport != (u->port != 0 ? u->port : 5060))
		abort();
}

/*
 * Header lines other than @p skip ids: the same bytes in the same order
 * in both messages.
 */
static void
t_same_other_lines(const struct sip_msg *a, const struct sip_msg *b,
		   const uint8_t *skip, unsigned int nskip)
{
	unsigned int i = 0, j = 0, k;

	for (;;) {
		const struct sip_hdr *ha = NULL, *hb = NULL;

		for (; i < a->nhdr && ha == NULL; i++) {
			for (k = 0; k < nskip && a->hdr[i].id != skip[k]; k++)
				;
			if (k == nskip)
				ha = &a->hdr[i];
		}
		for (; j < b->nhdr && hb == NULL; j++) {
			for (k = 0; k < nskip && b->hdr[j].id != skip[k]; k++)
				;
			if (k == nskip)
				hb = &b->hdr[j];
		}
		if (ha == NULL || hb == NULL) {
			if (ha != hb)
				abort();
			return;
		}
		if (ha->line_len != hb->line_len ||
		    memcmp(a->buf + ha->off, b->buf + hb->off, ha->line_len) != 0)
			abort();
	}
}

static void
t_same_body(const struct sip_msg *a, const struct sip_msg *b)
{
	if (a->body_len != b->body_len ||
	    memcmp(a->buf + a->body_off, b->buf + b->body_off, a->body_len) != 0)
		abort();
}

/*
 * A Via value without its received and rport parameters, as written: what
 * stamping it (RFC 3261 §18.2.1, RFC 3581 §4) leaves alone.
 */
static uint32_t
t_via_strip(struct span v, char *out, uint32_t cap)
{
	struct sip_via via;
	struct span rest, name, val;
	const char *start;
	uint32_t n;

	if (sip_via_parse(&via, v) != SIP_PERR_OK)
		abort();
	n = (uint32_t)(via.params.ptr - v.ptr);
	if (n > cap)
		abort();
	memcpy(out, v.ptr, n);
	rest = via.params;
	for (;;) {
		start = rest.ptr;
		if (sip_param_next(&rest, &name, &val) != 1)
			break;
		if (span_eq_nocase(name, SPAN_LIT("received")) ||
		    span_eq_nocase(name, SPAN_LIT("rport")))
			continue;
		if (n + (uint32_t)(rest.ptr - start) > cap)
			abort();
		memcpy(out + n, start, (size_t)(rest.ptr - start));
		n += (uint32_t)(rest.ptr - start);
	}
	return n;
}

/*
 * The Via values of a forwarded request: ours on top, naming the address
 * and port it leaves from with this request's loop part; then the
 * received ones, the first stamped with received and rport.
 */
static void
t_check_request_vias(const struct dp_udp_meta *meta,
		     const struct dp_proxy_out *po)
{
	static char a[SIP_MAX_MSG_LEN], b[SIP_MAX_MSG_LEN];
	struct sip_via ours, next;
	uint64_t loop, port;
	uint32_t i, na, nb;

	if (t_om.nvia != t_in.nvia + 1 || !t_values(&t_in, SIP_HDR_VIA, &t_vin) ||
	    !t_values(&t_om, SIP_HDR_VIA, &t_vout) ||
	    t_vout.n != t_vin.n + 1)
		abort();
	if (sip_via_parse(&ours, t_vout.v[0]) != SIP_PERR_OK ||
	    !dp_proxy_via_is_ours(&t_conf, &ours, &loop) || loop != po->loop ||
	    !t_host_is(ours.host, &po->src) || ours.port != po->sport)
		abort();
	na = t_via_strip(t_vin.v[0], a, sizeof(a));
	nb = t_via_strip(t_vout.v[1], b, sizeof(b));
	if (na != nb || memcmp(a, b, na) != 0)
		abort();
	for (i = 1; i < t_vin.n; i++)
		if (!t_span_eq(t_vin.v[i], t_vout.v[i + 1]))
			abort();

	/* RFC 3581 §4: with rport, received always, and rport the source
	 * port (a bare one filled, a valued one's value replaced). */
	if (sip_via_parse(&next, t_vout.v[1]) != SIP_PERR_OK)
		abort();
	if (!span_is_null(t_iin.via.rport)) {
		if (span_is_null(next.received) ||
		    !t_host_is(next.received, &meta->src) ||
		    span_is_null(next.rport) ||
		    span_to_u64(next.rport, 65535, &port) != 0)
			abort();
		if (port != meta->sport)
			abort();
	}
	/* received names the sender whenever sent-by does not. */
	if (!t_host_is(t_iin.via.host, &meta->src) &&
	    (span_is_null(next.received) ||
	     !t_host_is(next.received, &meta->src)))
		abort();
}

/*
 * @p text (inside which @p u was parsed) without the URI's ";maddr=VALUE"
 * when it has one (naming 192.0.2.1 or 2001:db8::1, when @p ours_only),
 * as the proxy removes it (RFC 3261 §16.4; table forwards); into @p buf,
 * or @p text itself when nothing goes.
 */
static struct span
t_maddr_gone(struct span text, const struct sip_uri *u, bool ours_only,
	     char *buf)
{
	struct span v;
	const char *name;
	uint8_t a[16];
	uint32_t k;
	int fam;

	if (span_is_null(u->params) ||
	    !sip_param_get(u->params, SPAN_LIT("maddr"), &v) ||
	    span_is_null(v))
		return text;
	name = v.ptr - 7;
	if (name < u->params.ptr || name[0] != ';' || name[6] != '=' ||
	    name < text.ptr || span_end(v) > span_end(text))
		return text;
	if (ours_only) {
		fam = sip_host_to_ip(v, a);
		if (!(fam == 4 && memcmp(&t_conf.addr4[0].ip.v4, a, 4) == 0) &&
		    !(fam == 16 && memcmp(t_conf.addr6[0].ip.v6, a, 16) == 0))
			return text;
	}
	k = (uint32_t)(name - text.ptr);
	memcpy(buf, text.ptr, k);
	memcpy(buf + k, span_end(v), (size_t)(span_end(text) - span_end(v)));
	return span_make(buf, text.len - (uint32_t)(span_end(v) - name));
}

/*
 * The Route set, Request-URI and next hop of a forwarded request against
 * RFC 3261 §16.4 (a Request-URI we record-routed: the last Route value
 * replaces it; a first Route value naming us is removed) and §16.6 steps
 * 6-7 (a next hop with lr: loose routing; without: it becomes the
 * Request-URI, which goes to the end of the Route set).
 */
static void
t_check_request_route(const struct dp_proxy_out *po)
{
	static char rin[SIP_MAX_URI_LEN + 2];
	struct sip_uri first, hop, ru;
	struct span hop_text, last_text = SPAN_NULL, lr;
	uint32_t n, lo, hi, i, k;
	bool compat, popped;

	if (!t_values(&t_in, SIP_HDR_ROUTE, &t_vin))
		return;         /* malformed list: the next-hop rules apply */
	if (!t_values(&t_om, SIP_HDR_ROUTE, &t_vout))
		abort();
	n = t_vin.n;
	/* a Request-URI of ours with lr, as our Record-Route URIs are */
	compat = n != 0 && t_iin.ruri.user.len == 0 &&
		 sip_param_get(t_iin.ruri.params, SPAN_LIT("lr"), &lr) &&
		 dp_proxy_uri_is_us(&t_conf, &t_iin.ruri);
	if (compat && !t_value_uri(t_vin.v[n - 1], &ru, &last_text))
		abort();
	/* After §16.4 the first value left, if any, is removed when ours;
	 * without §16.4, the second too when ours (RFC 5658). */
	popped = n > (compat ? 1u : 0u) &&
		 t_value_uri(t_vin.v[0], &first, NULL) &&
		 dp_proxy_uri_is_us(&t_conf, &first);
	lo = popped ? 1 : 0;
	if (popped && !compat && n > 1 &&
	    t_value_uri(t_vin.v[1], &first, NULL) &&
	    dp_proxy_uri_is_us(&t_conf, &first))
		lo = 2;
	hi = compat ? n - 1 : n;

	switch (po->why) {
	case DP_PW_ROUTE:
		if (hi <= lo || !t_value_uri(t_vin.v[lo], &hop, &hop_text))
			abort();
		t_uri_hop_is(&hop, po);
		if (t_value_lr(t_vin.v[lo], &hop)) {
			if (t_vout.n != hi - lo)
				abort();
			for (i = 0; i < t_vout.n; i++)
				if (!t_span_eq(t_vout.v[i], t_vin.v[lo + i]))
					abort();
			/* as it came, but for an maddr naming us (§16.4) */
			if (!t_span_eq(t_om.ruri, compat ? last_text :
				       t_maddr_gone(t_in.ruri, &t_iin.ruri,
						    true, rin)))
				abort();
			return;
		}
		/* Strict next hop: the values after it, then the old R-URI. */
		if (!t_span_eq(t_om.ruri, hop_text) || t_vout.n != hi - lo)
			abort();
		for (i = 0, k = lo + 1; k < hi; i++, k++)
			if (!t_span_eq(t_vout.v[i], t_vin.v[k]))
				abort();
		if (compat) {
			if (!t_span_eq(t_vout.v[i], t_vin.v[n - 1]))
				abort();
		} else {
			rin[0] = '<';
			memcpy(rin + 1, t_in.ruri.ptr, t_in.ruri.len);
			rin[t_in.ruri.len + 1] = '>';
			if (!t_span_eq(t_vout.v[i],
				       span_make(rin, t_in.ruri.len + 2)))
				abort();
		}
		return;
	case DP_PW_DIALOG:
		if (hi > lo || t_vout.n != 0 ||
		    !t_span_eq(t_om.ruri, compat ? last_text :
			       t_maddr_gone(t_in.ruri, &t_iin.ruri, true,
					    rin)))
			abort();
		/* The hop as the received Request-URI names it: its first
		 * maddr, unless that one is ours (§16.4: then its host);
		 * a second maddr that the removal bares is not a hop. */
		if (compat) {
			t_uri_hop_is(&t_oin.ruri, po);
		} else if (t_maddr_gone(t_in.ruri, &t_iin.ruri, true,
					rin).ptr != t_in.ruri.ptr) {
			struct sip_uri h = t_iin.ruri;

			h.params = SPAN_NULL;
			t_uri_hop_is(&h, po);
		} else {
			t_uri_hop_is(&t_iin.ruri, po);
		}
		return;
	case DP_PW_TABLE:
		if (hi > lo || compat || t_vout.n != 0)
			abort();
		return;
	default:
		abort();
	}
}

/* The Request-URI of a request forwarded to a route-table target. */
static void
t_check_table_ruri(const struct dp_proxy_out *po,
		   const struct rules_dest *dest, struct span user)
{
	static char un[SIP_MAX_URI_LEN], pbuf[SIP_MAX_URI_LEN];
	const struct sip_uri *a = &t_iin.ruri, *b = &t_oin.ruri;
	struct dp_ip ip;
	struct span want;
	int n;

	memset(&ip, 0, sizeof(ip));
	ip.family = dest->af == RULES_AF_INET6 ? DP_AF_V6 : DP_AF_V4;
	if (ip.family == DP_AF_V4)
		memcpy(&ip.v4, dest->addr, 4);
	else
		memcpy(ip.v6, dest->addr, 16);
	if (!t_ip_eq(&po->dst, &ip) || po->dport != dest->port ||
	    !t_host_is(b->host, &ip) || b->port != dest->port ||
	    span_is_null(b->port_str))
		abort();
	if (a->scheme_id == SIP_SCHEME_TEL) {
		if (b->scheme_id != SIP_SCHEME_SIP ||
		    !t_span_eq(b->params, SPAN_LIT(";user=phone")))
			abort();
	} else if (b->scheme_id != a->scheme_id ||
		   !t_span_eq(a->scheme, b->scheme) ||
		   !t_span_eq(t_maddr_gone(a->params, a, false, pbuf),
			      b->params) ||
		   !t_span_eq(a->headers, b->headers)) {
		abort();
	}
	/* An empty user leaves no user part (nor password). */
	if (!span_is_null(user) && user.len == 0) {
		if (!span_is_null(b->user) || !span_is_null(b->password))
			abort();
		return;
	}
	if (a->scheme_id != SIP_SCHEME_TEL &&
	    !t_span_eq(a->password, b->password))
		abort();
	/* A sip user part as received stays byte for byte; a tel number
	 * and a rewritten user are escaped. */
	if (span_is_null(user) && a->scheme_id != SIP_SCHEME_TEL) {
		if (!t_span_eq(a->user, b->user))
			abort();
		return;
	}
	want = !span_is_null(user) ? user : a->user;
	n = sip_unescape(b->user, un, sizeof(un));
	if (n < 0 || (uint32_t)n < want.len ||
	    !t_span_eq(span_make(un, want.len), want))
		abort();
	/* A tel: URI's parameters follow the number (RFC 3261 §19.1.6),
	 * phone-context left out when the rule rewrote the number. */
	if (a->scheme_id == SIP_SCHEME_TEL) {
		static char pr[SIP_MAX_URI_LEN], pu[SIP_MAX_URI_LEN];
		struct span rest = a->params, name, value;
		const char *start;
		uint32_t np = 0;
		int m;

		for (;;) {
			start = rest.ptr;
			if (sip_param_next(&rest, &name, &value) != 1)
				break;
			if (!span_is_null(user) &&
			    span_eq_nocase(name, SPAN_LIT("phone-context")))
				continue;
			memcpy(pr + np, start, (size_t)(rest.ptr - start));
			np += (uint32_t)(rest.ptr - start);
		}
		m = sip_unescape(span_make(pr, np), pu, sizeof(pu));
		if (m < 0 || (uint32_t)n - want.len != (uint32_t)m ||
		    memcmp(un + want.len, pu, (size_t)m) != 0)
			abort();
	} else if (!span_is_null(user) && a->user.len != 0 &&
		   memchr(a->user.ptr, ';', a->user.len) != NULL &&
		   memchr(user.ptr, ';', user.len) == NULL) {
		/* A rewritten sip: telephone-subscriber: its parameters,
		 * as written but phone-context, after the new number (which
		 * holds none of its own). */
		static char pr[SIP_MAX_URI_LEN], pu[SIP_MAX_URI_LEN];
		const char *q = memchr(a->user.ptr, ';', a->user.len);
		const char *e = span_end(a->user), *seg, *x;
		uint32_t np = 0;
		int m;

		while (q < e) {
			seg = q;
			for (q = seg + 1; q < e && *q != ';'; q++)
				;
			for (x = seg + 1; x < q && *x != '='; x++)
				;
			if (span_eq_nocase(span_range(seg + 1, x),
					   SPAN_LIT("phone-context")))
				continue;
			memcpy(pr + np, seg, (size_t)(q - seg));
			np += (uint32_t)(q - seg);
		}
		m = sip_unescape(span_make(pr, np), pu, sizeof(pu));
		if (m < 0 || (uint32_t)n - want.len != (uint32_t)m ||
		    memcmp(un + want.len, pu, (size_t)m) != 0)
			abort();
	} else if ((uint32_t)n != want.len) {
		abort();
	}
}

/*
 * Parse the output of an applied edit list into t_om/t_oin. A message
 * the edits pushed past the parser's own limits is not checked further.
 */
static bool
t_parse_out(const char *out, uint32_t len, bool table)
{
	enum sip_perr e;

	e = sip_parse(&t_om, out, len);
	if (e == SIP_PERR_TOO_BIG || e == SIP_PERR_TOO_MANY_HDRS ||
	    e == SIP_PERR_TOO_MANY_VIA || e == SIP_PERR_URI_TOO_LONG) {
		/* Only when the input was near the same limit (a table
		 * target's host:port may lengthen the Request-URI). */
		if (len <= SIP_MAX_MSG_LEN && t_in.nhdr + 3u <= SIP_MAX_HDRS &&
		    t_in.nvia + 1u <= SIP_MAX_VIA &&
		    (e != SIP_PERR_URI_TOO_LONG || !table))
			abort();
		return false;
	}
	if (e != SIP_PERR_OK || sip_msg_check(&t_om, &t_oin) != SIP_PERR_OK)
		abort();
	return true;
}

static void
t_check_request(const struct dp_udp_meta *meta, const struct dp_proxy_out *po,
		const struct rules_dest *dest, struct span user,
		const char *out, uint32_t len)
{
	static const uint8_t touched[] = {
		SIP_HDR_VIA, SIP_HDR_MAX_FORWARDS, SIP_HDR_ROUTE,
		SIP_HDR_RECORD_ROUTE,
	};
	struct sip_uri rr;
	struct span lr;
	uint32_t i, pre, ours;

	if (!t_parse_out(out, len, po->why == DP_PW_TABLE))
		return;
	if (!t_om.is_request || t_om.method != t_in.method ||
	    !t_span_eq(t_om.method_name, t_in.method_name))
		abort();
	/* The start line but for the Request-URI. */
	pre = (uint32_t)(t_in.ruri.ptr - t_in.buf);
	if ((uint32_t)(t_om.ruri.ptr - t_om.buf) != pre ||
	    memcmp(t_om.buf, t_in.buf, pre) != 0 ||
	    t_om.hdr_off - pre - t_om.ruri.len !=
	    t_in.hdr_off - pre - t_in.ruri.len ||
	    memcmp(span_end(t_om.ruri), span_end(t_in.ruri),
		   t_in.hdr_off - pre - t_in.ruri.len) != 0)
		abort();
	t_same_other_lines(&t_in, &t_om, touched, sizeof(touched));
	t_same_body(&t_in, &t_om);
	if (po->src.family != po->dst.family)
		abort();
	t_check_request_vias(meta, po);

	/* §16.6 step 3: one less, or 70 where there was none. */
	if (t_oin.max_forwards != (t_iin.max_forwards >= 0 ?
				   t_iin.max_forwards - 1 : 70))
		abort();

	/*
	 * §16.6 step 4: ours first, naming where the request came in;
	 * leaving by another address, two (RFC 5658): the one it leaves
	 * by, then that one.
	 */
	if (!t_values(&t_in, SIP_HDR_RECORD_ROUTE, &t_vin) ||
	    !t_values(&t_om, SIP_HDR_RECORD_ROUTE, &t_vout))
		goto route;
	ours = !t_self.record_route ? 0 :
	       t_ip_eq(&po->src, &meta->dst) && po->sport == meta->dport ?
	       1 : 2;
	if (t_vout.n != t_vin.n + ours)
		abort();
	for (i = 0; i < ours; i++) {
		const struct dp_ip *ip = i + 1 < ours ? &po->src : &meta->dst;
		uint16_t port = i + 1 < ours ? po->sport : meta->dport;

		if (!t_value_uri(t_vout.v[i], &rr, NULL) ||
		    !span_is_null(rr.user) || !t_host_is(rr.host, ip) ||
		    rr.port != port ||
		    !sip_param_get(rr.params, SPAN_LIT("lr"), &lr) ||
		    !dp_proxy_uri_is_us(&t_conf, &rr))
			abort();
	}
	for (i = ours; i < t_vout.n; i++)
		if (!t_span_eq(t_vout.v[i], t_vin.v[i - ours]))
			abort();
route:
	t_check_request_route(po);
	if (po->why == DP_PW_TABLE) {
		t_check_table_ruri(po, dest, user);
	}
}

/* Exactly the top Via value gone; the rest as it came. */
static void
t_check_response(const struct dp_proxy_out *po, const char *out, uint32_t len)
{
	static const uint8_t touched[] = { SIP_HDR_VIA };
	struct span host;
	uint64_t port;
	uint32_t i;

	if (!t_parse_out(out, len, false))
		return;
	if (t_om.is_request || t_om.status != t_in.status ||
	    t_om.hdr_off != t_in.hdr_off ||
	    memcmp(t_om.buf, t_in.buf, t_in.hdr_off) != 0)
		abort();
	t_same_other_lines(&t_in, &t_om, touched, sizeof(touched));
	t_same_body(&t_in, &t_om);
	if (t_om.nvia + 1 != t_in.nvia ||
	    !t_values(&t_in, SIP_HDR_VIA, &t_vin) ||
	    !t_values(&t_om, SIP_HDR_VIA, &t_vout) ||
	    t_vout.n + 1 != t_vin.n)
		abort();
	for (i = 0; i < t_vout.n; i++)
		if (!t_span_eq(t_vout.v[i], t_vin.v[i + 1]))
			abort();

	/* RFC 3261 §18.2.2, RFC 3581 §4: maddr, else received, else sent-by. */
	host = t_oin.via.host;
	if (!span_is_null(t_oin.via.maddr)) {
		host = t_oin.via.maddr;
	} else if (!span_is_null(t_oin.via.received)) {
		uint8_t addr[16];

		if (sip_host_to_ip(t_oin.via.received, addr) > 0)
			host = t_oin.via.received;
	}
	if (!t_host_is(host, &po->dst))
		abort();
	if (span_is_null(t_oin.via.maddr) && !span_is_null(t_oin.via.rport) &&
	    span_to_u64(t_oin.via.rport, 65535, &port) == 0 && port != 0) {
		if (po->dport != port)
			abort();
	} else if (po->dport != (t_oin.via.port != 0 ? t_oin.via.port : 5060)) {
		abort();
	}
	if (po->src.family != po->dst.family)
		abort();
}

/*
 * The in-place apply of dp_proxy_send() with @p head bytes before the
 * message and @p cap from its start: the bytes of @p want, or -ENOSPC
 * exactly when they fit neither way. Everything else of t_room is
 * poisoned meanwhile.
 */
static void
t_inplace(const struct dp_proxy_out *po, const char *orig, uint32_t len,
	  uint32_t head, uint32_t cap, const char *want, uint32_t want_len)
{
	char *buf = t_room + T_HEAD, *start;
	int64_t grow = (int64_t)want_len - t_in.msg_len;
	uint32_t n;
	int rc;

	ASAN_UNPOISON_MEMORY_REGION(t_room, sizeof(t_room));
	memcpy(buf, orig, len);
	ASAN_POISON_MEMORY_REGION(t_room, T_HEAD - head);
	ASAN_POISON_MEMORY_REGION(buf + cap, sizeof(t_room) - T_HEAD - cap);
	rc = sip_rw_apply_inplace_head(&po->ed, &t_in, buf, head, cap, &start,
				       &n);
	if (rc == -ENOSPC) {
		if ((grow > 0 && grow <= head) || t_in.msg_len + grow <= cap)
			abort();
		return;
	}
	if (rc != 0 || n != want_len || start < buf - head ||
	    start + n > buf + cap || memcmp(start, want, n) != 0)
		abort();
}

/* Put the message in t_room with poisoned room around it. */
static char *
t_place(const char *msg, uint32_t len)
{
	char *buf = t_room + T_HEAD;

	ASAN_UNPOISON_MEMORY_REGION(t_room, sizeof(t_room));
	memcpy(buf, msg, len);
	ASAN_POISON_MEMORY_REGION(t_room, T_HEAD);
	ASAN_POISON_MEMORY_REGION(buf + len, sizeof(t_room) - T_HEAD - len);
	return buf;
}

/* The transaction part of our branch in the response in @p buf, made
 * from its second Via (dp_proxy_txn_hash_via()); t_in re-parsed. */
static void
t_fix_branch(char *buf, uint32_t len)
{
	struct sip_value_iter it;
	struct sip_via next;
	struct dp_ip rd;
	struct span v;
	uint64_t loop;
	uint16_t rp;
	char hex[17];

	if (!dp_proxy_via_is_ours(&t_conf, &t_iin.via, &loop))
		return;
	sip_values_init(&it, &t_in, SIP_HDR_VIA);
	if (sip_values_next(&it, &v) != 1 || sip_values_next(&it, &v) != 1 ||
	    sip_via_parse(&next, v) != SIP_PERR_OK)
		return;
	if (!dp_proxy_via_rdst(&next, &rd, &rp))
		return;
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)
		 dp_proxy_txn_hash_via(&t_self.key, &next, &t_iin, &rd, rp));
	memcpy(buf + (t_iin.via.branch.ptr - buf) + DP_PROXY_MAGIC_LEN, hex,
	       16);
	if (sip_parse(&t_in, buf, len) != SIP_PERR_OK ||
	    sip_msg_check(&t_in, &t_iin) != SIP_PERR_OK)
		abort();        /* hex digits for hex digits */
}

/* One decision: request (with the table step) or response. */
static enum dp_proxy_act
t_decide(const struct dp_udp_meta *meta, const struct rules_dest *dest,
	 struct span user, bool hint, struct dp_proxy_out *po)
{
	static char hp[DP_PROXY_HOST_MAX + 8];
	enum dp_proxy_act act;
	uint32_t n;

	if (!t_in.is_request)
		return dp_proxy_response(&t_self, &t_in, &t_iin, po);
	/* dp_sip.c's steps 3 and 4, before the proxy stage. */
	if (t_iin.max_forwards == 0) {
		po->code = 483;
		return DP_PA_ANSWER;
	}
	if (dp_proxy_loop_check(&t_conf, &t_self.key, &t_in, &t_iin) ==
	    DP_LOOP_LOOP) {
		po->code = 482;
		return DP_PA_ANSWER;
	}
	act = dp_proxy_request(&t_self, &t_in, &t_iin, meta, po);
	if (act != DP_PA_TABLE)
		return act;
	if (hint && dest->af == RULES_AF_INET) {
		/* What dp_snap.c writes for an IPv4 target's Contact. */
		struct dp_ip ip = { .family = DP_AF_V4 };

		memcpy(&ip.v4, dest->addr, 4);
		n = dp_proxy_ip_fmt(&ip, false, hp);
		hp[n++] = ':';
		n += (uint32_t)fmt_u64(hp + n, 6, dest->port);
		po->hp_hint = span_make(hp, n);
	}
	return dp_proxy_to_target(&t_self, &t_in, &t_iin, meta, dest, user, po);
}

/*
 * Whether a Via of ours carries this request's loop part (RFC 3261 §16.3
 * item 4), every Via value parsed on its own: then, and only then, the
 * request must be answered 482.
 */
static bool
t_is_loop(void)
{
	struct sip_value_iter it;
	struct sip_via via;
	struct span v;
	uint64_t loop = dp_proxy_loop_hash(&t_self.key, &t_in, &t_iin), l;

	sip_values_init(&it, &t_in, SIP_HDR_VIA);
	while (sip_values_next(&it, &v) == 1) {
		if (sip_via_parse(&via, v) == SIP_PERR_OK &&
		    dp_proxy_via_is_ours(&t_conf, &via, &l) && l == loop)
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	struct dp_udp_meta meta;
	struct rules_dest dest;
	enum dp_proxy_act act, act2;
	unsigned int flags = 0;
	struct span user;
	uint32_t len, n, n2, i;
	char *buf;

	t_setup();
	if (size != 0 && data[0] >= 0x80) {
		flags = data[0];
		msg++;
		size--;
	} else {
		for (i = 0; i < size; i++)
			flags = flags * 31 + data[i];
		flags ^= flags >> 7;
	}
	if (size > SIP_MAX_MSG_LEN)
		return 0;
	len = (uint32_t)size;
	t_self.record_route = (flags & T_RR) != 0;
	t_meta(flags, &meta);
	t_dest(flags, &dest);
	user = t_user(flags);

	buf = t_place(msg, len);
	if (sip_parse(&t_in, buf, len) != SIP_PERR_OK ||
	    sip_msg_check(&t_in, &t_iin) != SIP_PERR_OK)
		return 0;
	/* A response whose top Via is ours in shape gets the transaction
	 * part the proxy would have made, so that the relay path is reached
	 * (a made-up one is only a foreign Via). */
	if (!t_in.is_request && (flags & T_RR) != 0)
		t_fix_branch(buf, len);

	memset(&t_po, 0, sizeof(t_po));
	act = t_decide(&meta, &dest, user, (flags & T_HINT) != 0, &t_po);
	if (t_in.is_request &&
	    (t_iin.max_forwards != 0 && t_is_loop()) !=
	    (act == DP_PA_ANSWER && t_po.code == 482))
		abort();
	switch (act) {
	case DP_PA_SEND:
		break;
	case DP_PA_ANSWER:
		if (t_po.code < 400 || t_po.code > 699 || !t_in.is_request)
			abort();
		return 0;
	case DP_PA_DROP:
		if (t_po.why == DP_PW_NONE)
			abort();
		return 0;
	default:
		abort();
	}
	if (sip_rw_apply(&t_po.ed, &t_in, t_out, sizeof(t_out), &n) != 0)
		abort();

	/* The same again with what the first forward left in the struct
	 * (our Via's cached prefix), and the other hp_hint choice. */
	if (t_in.is_request) {
		t_po2 = t_po;
		act2 = t_decide(&meta, &dest, user, (flags & T_HINT) == 0,
				&t_po2);
		if (act2 != act || t_po2.why != t_po.why ||
		    !t_ip_eq(&t_po2.dst, &t_po.dst) ||
		    !t_ip_eq(&t_po2.src, &t_po.src) ||
		    t_po2.dport != t_po.dport || t_po2.sport != t_po.sport ||
		    sip_rw_apply(&t_po2.ed, &t_in, t_out2, sizeof(t_out2),
				 &n2) != 0 ||
		    n2 != n || memcmp(t_out, t_out2, n) != 0)
			abort();
	}

	if (t_in.is_request)
		t_check_request(&meta, &t_po, &dest, user, t_out, n);
	else
		t_check_response(&t_po, t_out, n);

	/* In place: tight, headroom only, tailroom only, both. */
	t_inplace(&t_po, msg, len, 0, len, t_out, n);
	t_inplace(&t_po, msg, len, T_HEAD, len, t_out, n);
	t_inplace(&t_po, msg, len, 0, len + T_TAIL, t_out, n);
	t_inplace(&t_po, msg, len, 8, len + 64, t_out, n);
	ASAN_UNPOISON_MEMORY_REGION(t_room, sizeof(t_room));
	return 0;
}
