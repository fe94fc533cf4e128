/* SPDX-License-Identifier: MIT */
/*
 * sip_addr.c - header values built on URIs and parameter lists: Via
 * (RFC 3261 §20.42), name-addr / addr-spec (From, To, Contact, Route,
 * Record-Route, §20.10 and §25.1), CSeq (§20.16), delta-seconds and
 * Contact q-values.
 *
 * HOT PATH: no allocation, no NUL-terminated or locale-aware libc, no
 * global state; every loop is bounded by the value it scans.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <span.h>

#include "sip.h"
#include "sip_scan.h"
#include "sip_uri_priv.h"

/*
 * A parameter value that must be a bare token (via-branch, tag-param):
 * present, not quoted, token characters only. sip_param_next() returns a
 * quoted value without its quotes, so the byte before it tells: '"' for a
 * quoted-string, '=' or LWS otherwise.
 */
static bool
sip_value_is_token(struct span v)
{
	return v.ptr != NULL && v.len != 0 && v.ptr[-1] != '"' &&
	       sip_cspan(sip_scan_get(), v.ptr, span_end(v), SIP_CSET_TOKEN) ==
	       span_end(v);
}

/* A parameter value that is present and not a quoted-string. */
static bool
sip_value_is_bare(struct span v)
{
	return v.ptr != NULL && v.len != 0 && v.ptr[-1] != '"';
}

/* ---- Via ---------------------------------------------------------------- */

/* A port: 1*DIGIT with a value of at most 65535 (leading zeros allowed). */
static bool
sip_port_ok(struct span s, uint16_t *port)
{
	uint32_t i, v = 0, d;

	if (s.len == 0)
		return false;
	/* Digits only (the caller scanned them); no division per digit. */
	for (i = 0; i < s.len; i++) {
		d = (uint32_t)(unsigned char)s.ptr[i] - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
		if (v > 65535)
			return false;
	}
	*port = (uint16_t)v;
	return true;
}

/* Check one via-params value we keep; false makes the Via BAD_VIA. */
static bool
sip_via_param(struct sip_via *via, struct span n, struct span v)
{
	uint8_t a[16];
	uint64_t ttl;
	uint16_t port;

	switch (n.len) {
	case 3:
		if (!SIP_NAME_EQ(n, "ttl"))
			return true;
		/* ttl = 1*3DIGIT ; 0 to 255 */
		if (!sip_value_is_bare(v) || v.len > 3 ||
		    span_to_u64(v, 255, &ttl) != 0)
			return false;
		if (via->ttl.ptr == NULL)
			via->ttl = v;
		return true;
	case 5:
		if (SIP_NAME_EQ(n, "rport")) {
			/* RFC 3581: bare in requests, a port in responses. */
			if (v.ptr == NULL)
				v = span_make(span_end(n), 0);
			else if (!sip_value_is_bare(v) || !sip_port_ok(v, &port))
				return false;
			if (via->rport.ptr == NULL)
				via->rport = v;
			return true;
		}
		if (SIP_NAME_EQ(n, "maddr")) {
			if (!sip_value_is_bare(v) ||
			    sip_host_check(v.ptr, span_end(v)) < 0)
				return false;
			if (via->maddr.ptr == NULL)
				via->maddr = v;
		}
		return true;
	case 6:
		if (!SIP_NAME_EQ(n, "branch"))
			return true;
		/* via-branch = "branch" EQUAL token */
		if (!sip_value_is_token(v))
			return false;
		if (via->branch.ptr == NULL)
			via->branch = v;
		return true;
	case 8:
		if (!SIP_NAME_EQ(n, "received"))
			return true;
		/* IPv4address / IPv6address; RFC 5118 §4.5: brackets tolerated */
		if (!sip_value_is_bare(v) || sip_host_to_ip(v, a) < 0)
			return false;
		if (via->received.ptr == NULL)
			via->received = v;
		return true;
	default:
		return true;
	}
}

/*
 * via-params in the common shape, from the first ';': *( ";" name [ "="
 * value ] ) with token / paramchar bytes only, no LWS, no quotes. 1 when
 * the list has that shape and every value we keep is good, with the
 * fields set as the general walk sets them; 0 when that walk must decide.
 * branch and rport, in every Via, are checked here: the value run stops
 * first at the end of its token bytes, so a branch needs no second scan.
 */
static inline __attribute__((always_inline)) int
sip_via_params_fast(struct sip_via *via, const char *p, const char *end)
{
	uint32_t n = (uint32_t)(end - p), i = 0;
	struct span name, v;
	uint16_t port;
	bool tok;

	do {
		i = sip_param_step(p, i, n, &name, &v, &tok);
		if (i == 0)
			return 0;
		if (name.len == 6 &&
		    SIP_NAME_EQ(name, "branch")) {
			/* via-branch = "branch" EQUAL token */
			if (v.ptr == NULL || !tok)
				return 0;
			if (via->branch.ptr == NULL)
				via->branch = v;
		} else if (name.len == 5 &&
			   SIP_NAME_EQ(name, "rport")) {
			if (v.ptr == NULL)
				v = span_make(p + i, 0);
			else if (!sip_port_ok(v, &port))
				return 0;
			if (via->rport.ptr == NULL)
				via->rport = v;
		} else if (!sip_via_param(via, name, v)) {
			return 0;
		}
	} while (i < n && p[i] == ';');
	return i == n;
}

/*
 * via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 * sent-protocol = protocol-name SLASH protocol-version SLASH transport
 * sent-by = host [ COLON port ]
 * SLASH, COLON and SEMI allow LWS on both sides (RFC 3261 §25.1).
 * Protocol name and version are checked for syntax only.
 */
enum sip_perr
sip_via_parse(struct sip_via *via, struct span value)
{
	const char *p, *end, *t, *q;
	struct span rest, n, v;
	int rc, type;
	uint64_t w;

	*via = (struct sip_via){ .port = 0 };
	if (value.len == 0)
		return SIP_PERR_BAD_VIA;
	value = sip_trim(value);
	via->value = value;
	p = value.ptr;
	end = span_end(value);

	/* "SIP/2.0/" in any case, one load: bit 5 folds the three letters */
	if (end - p > 8 && (memcpy(&w, p, 8),
			    (w | 0x202020ull) == 0x2f302e322f706973ull)) {
		via->proto = span_make(p, 7);
		p += 8;
	} else {
		/* protocol-name SLASH protocol-version */
		t = p;
		q = sip_cc_span(p, end, SIP_CC_TOKEN);
		if (q == p)
			return SIP_PERR_BAD_VIA;
		p = sip_skip_lws(q, end);
		if (p == end || *p != '/')
			return SIP_PERR_BAD_VIA;
		p = sip_skip_lws(p + 1, end);
		q = sip_cc_span(p, end, SIP_CC_TOKEN);
		if (q == p)
			return SIP_PERR_BAD_VIA;
		via->proto = span_range(t, q);

		/* SLASH */
		p = sip_skip_lws(q, end);
		if (p == end || *p != '/')
			return SIP_PERR_BAD_VIA;
		p++;
	}

	/* transport */
	p = sip_skip_lws(p, end);
	q = sip_cc_span(p, end, SIP_CC_TOKEN);
	if (q == p)
		return SIP_PERR_BAD_VIA;
	via->transport = span_range(p, q);

	/* LWS sent-by */
	p = sip_skip_lws(q, end);
	if (p == q)
		return SIP_PERR_BAD_VIA;
	q = p + sip_ip4_run(p, (uint32_t)(end - p));
	if (q != p) {
		type = SIP_HOST_IPV4;
	} else {
		type = sip_scan_get()->host(p, end, &q);
		if (type < 0)
			return SIP_PERR_BAD_VIA;
	}
	via->host = span_range(p, q);
	via->host_type = (uint8_t)type;

	p = sip_skip_lws(q, end);
	if (p < end && *p == ':') {
		/* port = 1*DIGIT, 1..65535: read as it is scanned */
		uint32_t port = 0, d;

		p = sip_skip_lws(p + 1, end);
		for (q = p; q < end &&
		     (d = (uint32_t)(unsigned char)*q - '0') <= 9; q++) {
			port = port * 10 + d;
			if (port > 65535)
				return SIP_PERR_BAD_VIA;
		}
		/* Port 0 reaches no one, and would read as "no port"
		 * (5060, RFC 3261 §18.2.2) to every user of via->port. */
		if (q == p || port == 0)
			return SIP_PERR_BAD_VIA;
		via->port = (uint16_t)port;
		p = sip_skip_lws(q, end);
	}

	via->params = span_range(p, end);
	if (p == end)
		return SIP_PERR_OK;
	if (*p != ';')
		return SIP_PERR_BAD_VIA;
	if (sip_via_params_fast(via, p, end))
		return SIP_PERR_OK;
	via->branch = via->received = via->rport = SPAN_NULL;
	via->maddr = via->ttl = SPAN_NULL;
	rest = via->params;
	while ((rc = sip_param_next_inline(&rest, &n, &v)) == 1) {
		if (!sip_via_param(via, n, v))
			return SIP_PERR_BAD_VIA;
	}
	return rc == 0 ? SIP_PERR_OK : SIP_PERR_BAD_VIA;
}

/* ---- name-addr / addr-spec ---------------------------------------------- */

/*
 * The header parameters of a name-addr in the common shape, from the
 * first ';': *( ";" name [ "=" value ] ) with names and values of token /
 * paramchar bytes only, no LWS, no quotes. 1 with na->tag set as the
 * general walk sets it; 0 when that walk must decide (any other shape,
 * and a bad tag). Names and values are table runs, and the first value
 * run stops at the end of the token bytes, which tells whether a tag is
 * a token without a second scan.
 */
static inline __attribute__((always_inline)) int
sip_naddr_params_fast(struct sip_naddr *na, const char *p, const char *end)
{
	uint32_t n = (uint32_t)(end - p), i = 0;
	struct span tag = SPAN_NULL, name, v;
	bool tok;

	do {
		i = sip_param_step(p, i, n, &name, &v, &tok);
		if (i == 0)
			return 0;
		if (tag.ptr == NULL &&
		    SIP_NAME_EQ(name, "tag")) {
			/* tag-param = "tag" EQUAL token */
			if (v.ptr == NULL || !tok)
				return 0;
			tag = v;
		}
	} while (i < n && p[i] == ';');
	if (i != n)
		return 0;
	na->tag = tag;
	return 1;
}

/*
 * "<sip:" URI ">" at p (p[0] == '<') with the AVX2 masks: one
 * sip_val_umask() of up to SIP_UMASK_MAX bytes after "<sip:" finds the
 * '>' and holds the URI's masks, so the URI costs no second pass and the
 * '>' no memchr(). The '>' with @u parsed as sip_uri_parse_inline() parses
 * it; end when that URI is invalid; NULL when this does not apply (not
 * "sip:", or no '>' in those bytes): memchr() and sip_uri_parse_inline()
 * then do it, with the same answer (test_sip_addr checks).
 */
static inline __attribute__((always_inline)) const char *
sip_naddr_sip_lt(struct sip_uri *u, const char *p, const char *end)
{
	struct sip_umask m;
	uint64_t valid;
	uint32_t n, k, w;
	const char *q;

	if (end - p <= 5)
		return NULL;
	memcpy(&w, p + 1, 4);
	if ((w | 0x00202020u) != 0x3a706973u)      /* "sip:" LE */
		return NULL;
	n = (uint32_t)(end - p - 5);
	if (n > SIP_UMASK_MAX)
		n = SIP_UMASK_MAX;
	sip_val_umask_avx2(p + 5, n, &m);
	if (m.gt == 0)
		return NULL;
	k = (uint32_t)__builtin_ctzll(m.gt);
	q = p + 5 + k;
	if (k != 0) {
		/* sip_uri_parse_inline(), on the masks of the k URI bytes */
		valid = (1ull << k) - 1;
		m.nuser &= valid;
		m.nhost &= valid;
		m.nparam &= valid;
		m.sep &= valid;
		m.dot &= valid;
		m.dash &= valid;
		u->scheme = span_make(p + 1, 3);
		u->user = u->password = SPAN_NULL;
		u->port_str = u->params = SPAN_NULL;
		u->headers = SPAN_NULL;
		u->opaque = span_make(p + 5, k);
		u->port = 0;
		u->scheme_id = SIP_SCHEME_SIP;
		if (sip_uri_sip_masks(u, p + 5, q, &m))
			return q;
	}
	return sip_uri_parse_slow(u, span_range(p + 1, q)) == SIP_PERR_OK ?
	       q : end;
}

/*
 * (name-addr / addr-spec) *( SEMI param ), or "*" (Contact, §20.10):
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *( token LWS ) / quoted-string
 * RFC 4475 §3.1.1.6 (lwsdisp): no LWS before '<' is accepted.
 * RFC 4475 §3.1.2.14 (badaspec): LWS inside <> is rejected (the URI parser
 * refuses LWS). RFC 4475 §3.1.2.15 (baddn): a non-token byte in an
 * unquoted display name is rejected.
 * A bare addr-spec ends at the first ';' or LWS: what follows are header
 * parameters (§20), and it may not carry URI headers ('?').
 */
enum sip_perr
sip_naddr_parse(struct sip_naddr *na, struct span value)
{
	const char *p, *end, *q, *last;
	struct span rest, n, v, uri;
	struct sip_uri u;
	int rc;

	*na = (struct sip_naddr){ .star = 0 };
	if (value.len == 0)
		return SIP_PERR_BAD_VALUE;
	value = sip_trim(value);
	p = value.ptr;
	end = span_end(value);
	if (p == end)
		return SIP_PERR_BAD_VALUE;
	if (value.len == 1 && *p == '*') {
		na->star = 1;
		na->params = span_range(end, end);
		return SIP_PERR_OK;
	}

	if (*p == '"') {
		q = sip_quoted_end(p, end);
		if (q == NULL)
			return SIP_PERR_BAD_VALUE;      /* RFC 4475 quotbal */
		na->display = span_range(p, q);
		p = sip_skip_lws(q, end);
		if (p == end || *p != '<')
			return SIP_PERR_BAD_VALUE;
	} else if (*p != '<') {
		/* Tokens separated by LWS: a display name if '<' follows. */
		q = p;
		last = p;
		while (q < end && sip_cc_is((unsigned char)*q, SIP_CC_TOKEN)) {
			q = sip_cc_span(q, end, SIP_CC_TOKEN);
			last = q;
			q = sip_skip_lws(q, end);
		}
		if (q < end && *q == '<') {
			na->display = span_range(p, last);
			p = q;
		} else {
			q = p;
			while (q < end && *q != ';' &&
			       !sip_cc_is((unsigned char)*q, SIP_CC_LWS))
				q++;
			uri = span_range(p, q);
			/* A URI holding ',' or '?' must be in <> (RFC 3261
			 * §20; ';' already ends it here). */
			if (span_chr(uri, '?') != NULL ||
			    span_chr(uri, ',') != NULL ||
			    sip_uri_parse_inline(&u, uri) != SIP_PERR_OK)
				return SIP_PERR_BAD_VALUE;
			na->uri = uri;
			p = q;
			goto params;
		}
	}

	/* p is at '<' */
	q = sip_val_avx2 ? sip_naddr_sip_lt(&u, p, end) : NULL;
	if (q == NULL) {
		q = memchr(p + 1, '>', (size_t)(end - p - 1));
		if (q == NULL)
			return SIP_PERR_BAD_VALUE;
		if (sip_uri_parse_inline(&u, span_range(p + 1, q)) !=
		    SIP_PERR_OK)
			return SIP_PERR_BAD_VALUE;
	} else if (q == end) {
		return SIP_PERR_BAD_VALUE;
	}
	uri = span_range(p + 1, q);
	na->uri = uri;
	na->bracketed = 1;
	p = q + 1;

params:
	p = sip_skip_lws(p, end);
	na->params = span_range(p, end);
	if (p == end)
		return SIP_PERR_OK;
	if (*p != ';')
		return SIP_PERR_BAD_VALUE;
	if (sip_naddr_params_fast(na, p, end))
		return SIP_PERR_OK;
	rest = na->params;
	while ((rc = sip_param_next_inline(&rest, &n, &v)) == 1) {
		if (na->tag.ptr == NULL && SIP_NAME_EQ(n, "tag")) {
			/* tag-param = "tag" EQUAL token */
			if (!sip_value_is_token(v))
				return SIP_PERR_BAD_VALUE;
			na->tag = v;
		}
	}
	return rc == 0 ? SIP_PERR_OK : SIP_PERR_BAD_VALUE;
}

/*
 * qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 * (RFC 3261 §25.1), returned in thousandths.
 */
int
sip_naddr_q(const struct sip_naddr *na, uint16_t *q)
{
	struct span v;
	uint32_t i, val, scale = 100;

	if (!sip_param_get(na->params, SPAN_LIT("q"), &v))
		return -ENOENT;
	if (!sip_value_is_bare(v) || (v.ptr[0] != '0' && v.ptr[0] != '1'))
		return -EBADMSG;
	val = (uint32_t)(v.ptr[0] - '0') * 1000;
	if (v.len > 1) {
		if (v.ptr[1] != '.' || v.len > 5)
			return -EBADMSG;
		for (i = 2; i < v.len; i++) {
			if (!span_is_digit((unsigned char)v.ptr[i]))
				return -EBADMSG;
			val += (uint32_t)(v.ptr[i] - '0') * scale;
			scale /= 10;
		}
		if (val > 1000)
			return -EBADMSG;
	}
	*q = (uint16_t)val;
	return 0;
}

/* ---- CSeq, delta-seconds ------------------------------------------------ */

/* CSeq = 1*DIGIT LWS Method (§20.16); the number is at most 2**32-1. */
enum sip_perr
sip_cseq_parse(struct sip_cseq *cseq, struct span value)
{
	const char *p, *end, *q, *m;
	uint64_t v = 0;
	uint32_t d;

	*cseq = (struct sip_cseq){ .num = 0 };
	if (value.len == 0)
		return SIP_PERR_BAD_CSEQ;
	value = sip_trim(value);
	p = value.ptr;
	end = span_end(value);

	for (q = p; q < end && (d = (uint32_t)(unsigned char)*q - '0') <= 9;
	     q++) {
		v = v * 10 + d;
		if (v > UINT32_MAX)
			return SIP_PERR_BAD_CSEQ;       /* RFC 4475 scalar02 */
	}
	if (q == p)
		return SIP_PERR_BAD_CSEQ;
	m = sip_skip_lws(q, end);
	if (m == q)
		return SIP_PERR_BAD_CSEQ;
	q = sip_cc_span(m, end, SIP_CC_TOKEN);
	if (q == m || q != end)
		return SIP_PERR_BAD_CSEQ;

	cseq->num = (uint32_t)v;
	cseq->method_name = span_range(m, q);
	cseq->method = (uint8_t)sip_method_from_span(cseq->method_name);
	return SIP_PERR_OK;
}

/*
 * End of a comment (RFC 3261 §25.1) that starts at p (p[0] == '('), with
 * nesting and quoted-pairs; NULL when unbalanced or when it holds a control
 * byte outside a quoted-pair (ctext is printable, UTF-8 or LWS).
 */
static const char *
sip_comment_end(const char *p, const char *end)
{
	uint32_t depth = 0;
	unsigned char c;

	for (; p < end; p++) {
		c = (unsigned char)*p;
		switch (c) {
		case '(':
			depth++;
			break;
		case ')':
			if (--depth == 0)
				return p + 1;
			break;
		case '\\':
			if (++p == end || *p == '\r' || *p == '\n')
				return NULL;
			break;
		default:
			if ((c < 0x20 && !sip_cc_is(c, SIP_CC_LWS)) || c == 0x7f)
				return NULL;
			break;
		}
	}
	return NULL;
}

/*
 * delta-seconds [ comment ] *( SEMI generic-param ): the shape shared by
 * Expires, Min-Expires, Session-Expires, Min-SE, Retry-After (§20.33, the
 * only one with a comment) and Max-Forwards.
 */
int
sip_delta_parse(struct span value, uint32_t *secs, struct span *params)
{
	const char *p, *end, *q;
	struct span rest, n, v;
	uint64_t val = 0;
	uint32_t i, len, d;
	int rc;

	if (value.len == 0)
		return -EBADMSG;
	value = sip_trim(value);
	p = value.ptr;
	end = span_end(value);

	for (q = p; q < end && (d = (uint32_t)(unsigned char)*q - '0') <= 9;
	     q++) {
		val = val * 10 + d;
		if (val > UINT32_MAX)
			val = UINT32_MAX;       /* saturate, keep scanning */
	}
	if (q == p)
		return -EBADMSG;
	p = sip_skip_lws(q, end);
	if (p < end && *p == '(') {
		p = sip_comment_end(p, end);
		if (p == NULL)
			return -EBADMSG;
		p = sip_skip_lws(p, end);
	}
	if (p < end) {
		if (*p != ';')
			return -EBADMSG;
		len = (uint32_t)(end - p);
		/* the common shape in table runs, else the general walker */
		for (i = 0; (i = sip_param_step(p, i, len, &n, &v, NULL)) != 0 &&
		     i < len && p[i] == ';';)
			;
		if (i != len) {
			rest = span_range(p, end);
			while ((rc = sip_param_next_inline(&rest, &n, &v)) == 1)
				;
			if (rc != 0)
				return -EBADMSG;
		}
	}
	*secs = (uint32_t)val;
	if (params != NULL)
		*params = span_range(p, end);
	return 0;
}
