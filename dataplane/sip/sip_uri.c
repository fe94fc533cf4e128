/* SPDX-License-Identifier: MIT */
/*
 * sip_uri.c - URIs (RFC 3261 §19.1, §25.1; RFC 3966 tel:; RFC 5118 IPv6
 * references), header and URI parameter lists, %HH unescaping and IP
 * literals.
 *
 * HOT PATH: no allocation, no NUL-terminated or locale-aware libc, no
 * global state. Character classes are one table lookup (sip_uri_priv.h);
 * every loop is bounded by the span it scans.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <span.h>

#include "sip.h"
#include "sip_scan.h"
#include "sip_uri_priv.h"

/* ---- IP literals -------------------------------------------------------- */

/*
 * IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT
 * (RFC 3261 §25.1), each part 0..255, exactly from p to end.
 */
static int
sip_ip4_parse(const char *p, const char *end, uint8_t out[4])
{
	unsigned int i, v, d;

	/* Unrolled: 1 to 3 digits per part, no loop counter per digit. */
	for (i = 0; i < 4; i++) {
		if (p == end || (v = (unsigned char)*p - '0') > 9)
			return -EINVAL;
		p++;
		if (p < end && (d = (unsigned char)*p - '0') <= 9) {
			v = v * 10 + d;
			p++;
			if (p < end && (d = (unsigned char)*p - '0') <= 9) {
				v = v * 10 + d;
				p++;
			}
		}
		if (v > 255)
			return -EINVAL;
		out[i] = (uint8_t)v;
		if (i == 3)
			break;
		if (p == end || *p != '.')
			return -EINVAL;
		p++;
	}
	return p == end ? 0 : -EINVAL;
}

/*
 * IPv6address (RFC 4291 §2.2, as in RFC 3261 §25.1): up to eight groups of
 * 1..4 hex digits, at most one "::", optionally an IPv4 tail, exactly from
 * p to end (no brackets). A ":::" right before the IPv4 tail is read as
 * "::": RFC 5118 §4.10 lets a robust element accept that product of the
 * RFC 3261 ABNF bug; anywhere else it is invalid.
 */
static int
sip_ip6_parse(const char *p, const char *end, uint8_t out[16])
{
	uint16_t w[8];
	int n = 0, gap = -1, i, j;
	uint8_t v4[4];

	if (p == end)
		return -EINVAL;
	if (*p == ':') {
		if (end - p < 2 || p[1] != ':')
			return -EINVAL;
		p += 2;
		gap = 0;
	}
	while (p < end) {
		const char *g = p;
		unsigned int v = 0;

		while (p < end && p - g < 4 &&
		       sip_cc_is((unsigned char)*p, SIP_CC_HEX)) {
			v = v << 4 | sip_hexval((unsigned char)*p);
			p++;
		}
		if (p == g)
			return -EINVAL;
		if (p < end && *p == '.') {
			/* IPv4 tail: the last 32 bits. */
			if (n > 6 || sip_ip4_parse(g, end, v4) != 0)
				return -EINVAL;
			w[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
			w[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
			p = end;
			break;
		}
		if (n == 8)
			return -EINVAL;
		w[n++] = (uint16_t)v;
		if (p == end)
			break;
		if (*p != ':')
			return -EINVAL;
		p++;
		if (p < end && *p == ':') {
			if (gap >= 0)
				return -EINVAL;
			gap = n;
			p++;
			/* ":::" leniency, see above: only before the IPv4
			 * tail the ABNF bug produces ("2001:db8:::192.0.2.1"). */
			if (p < end && *p == ':') {
				p++;
				if (memchr(p, ':', (size_t)(end - p)) != NULL ||
				    memchr(p, '.', (size_t)(end - p)) == NULL)
					return -EINVAL;
			}
		} else if (p == end) {
			return -EINVAL; /* trailing single ':' */
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return -EINVAL;

	memset(out, 0, 16);
	if (gap < 0)
		gap = n;
	for (i = 0; i < gap; i++) {
		out[2 * i] = (uint8_t)(w[i] >> 8);
		out[2 * i + 1] = (uint8_t)w[i];
	}
	for (i = n - 1, j = 7; i >= gap; i--, j--) {
		out[2 * j] = (uint8_t)(w[i] >> 8);
		out[2 * j + 1] = (uint8_t)w[i];
	}
	return 0;
}

int
sip_host_to_ip(struct span host, uint8_t addr[16])
{
	const char *p, *end;

	if (host.len == 0)
		return -EINVAL;
	p = host.ptr;
	end = host.ptr + host.len;
	if (*p == '[') {
		if (host.len < 2 || end[-1] != ']')
			return -EINVAL;
		return sip_ip6_parse(p + 1, end - 1, addr) == 0 ? 16 : -EINVAL;
	}
	if (sip_ip4_parse(p, end, addr) == 0)
		return 4;
	return sip_ip6_parse(p, end, addr) == 0 ? 16 : -EINVAL;
}

/*
 * hostname = *( domainlabel "." ) toplabel [ "." ]
 * domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum
 * toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum
 * (RFC 3261 §25.1). A name whose last label starts with a digit is not a
 * hostname, which is what keeps "192.0.2.300" from passing as one.
 */
static bool
sip_hostname_ok(const char *p, const char *end)
{
	const char *label;

	if (p < end && end[-1] == '.')
		end--;
	if (p == end)
		return false;
	for (;;) {
		label = p;
		while (p < end && *p != '.') {
			if (!sip_cc_is((unsigned char)*p, SIP_CC_HOST))
				return false;
			p++;
		}
		if (p == label || *label == '-' || p[-1] == '-')
			return false;
		if (p == end)
			return sip_cc_is((unsigned char)*label, SIP_CC_ALPHA);
		p++;    /* '.' */
	}
}

int
sip_host_check(const char *p, const char *end)
{
	uint8_t a[16];

	if (p == end)
		return -EINVAL;
	if (*p == '[') {
		if (end - p < 2 || end[-1] != ']' ||
		    sip_ip6_parse(p + 1, end - 1, a) != 0)
			return -EINVAL;
		return SIP_HOST_IPV6;
	}
	if (sip_ip4_parse(p, end, a) == 0)
		return SIP_HOST_IPV4;
	return sip_hostname_ok(p, end) ? SIP_HOST_NAME : -EINVAL;
}

/* ---- URIs --------------------------------------------------------------- */

/*
 * First byte at or after p that is neither in set @p id nor the start of a
 * complete "%" HEXDIG HEXDIG escape: a vector class scan per run between
 * escapes.
 */
static const char *
sip_uri_scan(const struct sip_scan_ops *ops, const char *p, const char *end,
	     enum sip_cset_id id)
{
	for (;;) {
		p = sip_cspan(ops, p, end, id);
		if (p == end || *p != '%' || end - p < 3 ||
		    !sip_cc_is((unsigned char)p[1], SIP_CC_HEX) ||
		    !sip_cc_is((unsigned char)p[2], SIP_CC_HEX))
			return p;
		p += 3;
	}
}

/*
 * uri-parameters = *( ";" uri-parameter ), uri-parameter = pname [ "=" pvalue ]
 * with pname and pvalue 1*paramchar (RFC 3261 §25.1), from p. RFC 3966
 * tel: parameters have the same shape except that a pname is
 * 1*( alphanum / "-" ): @p name_cls says which. Returns the first byte
 * after the list (the caller checks what it is), or NULL for an empty
 * name or value.
 */
static const char *
sip_uri_params_end(const struct sip_scan_ops *ops, const char *p,
		   const char *end, enum sip_cset_id name_id)
{
	const char *q;

	while (p < end && *p == ';') {
		q = sip_uri_scan(ops, p + 1, end, name_id);
		if (q == p + 1)
			return NULL;
		p = q;
		if (p < end && *p == '=') {
			q = sip_uri_scan(ops, p + 1, end, SIP_CSET_PARAM);
			if (q == p + 1)
				return NULL;
			p = q;
		}
	}
	return p;
}

/* headers = header *( "&" header ), header = hname "=" hvalue (§25.1). */
static bool
sip_uri_headers_ok(const struct sip_scan_ops *ops, const char *p,
		   const char *end)
{
	const char *q;

	for (;;) {
		q = sip_uri_scan(ops, p, end, SIP_CSET_HDR);
		if (q == p || q == end || *q != '=')
			return false;
		p = sip_uri_scan(ops, q + 1, end, SIP_CSET_HDR);
		if (p == end)
			return true;
		if (*p != '&')
			return false;
		p++;
	}
}

/*
 * SIP-URI / SIPS-URI after "sip:" / "sips:" (RFC 3261 §19.1.1, §25.1):
 *   [ userinfo "@" ] hostport uri-parameters [ headers ]
 * The user part may hold ';', '?' and '/' (RFC 4475 §3.1.1.9 semiuri), so
 * userinfo is whatever user (and ":" password) characters run up to an
 * '@'. Without one the same bytes are the host: '@' is legal nowhere else,
 * so a later '@' fails wherever it lands.
 */
static enum sip_perr
sip_uri_parse_sip(struct sip_uri *uri, const char *p, const char *end,
		  bool fast)
{
	const struct sip_scan_ops *ops = sip_scan_get();
	const char *q, *at;
	uint64_t port;
	int type;

	if (fast && sip_uri_parse_sip_fast(ops, uri, p, end))
		return SIP_PERR_OK;
	*uri = (struct sip_uri){ .scheme = uri->scheme, .opaque = uri->opaque,
				 .scheme_id = uri->scheme_id };

	q = sip_uri_scan(ops, p, end, SIP_CSET_USER);
	if (q < end && (*q == '@' || *q == ':')) {
		at = *q == '@' ? q : sip_uri_scan(ops, q + 1, end,
						   SIP_CSET_PASS);
		if (at < end && *at == '@') {
			if (q == p)
				return SIP_PERR_BAD_URI;        /* empty user */
			uri->user = span_range(p, q);
			if (q != at)
				uri->password = span_range(q + 1, at);
			p = at + 1;
		}
	}

	type = ops->host(p, end, &q);
	if (type < 0)
		return SIP_PERR_BAD_URI;
	uri->host = span_range(p, q);
	uri->host_type = (uint8_t)type;
	p = q;

	if (p < end && *p == ':') {
		q = sip_cc_span(++p, end, SIP_CC_DIGIT);
		if (span_to_u64(span_range(p, q), 65535, &port) != 0)
			return SIP_PERR_BAD_URI;
		uri->port_str = span_range(p, q);
		uri->port = (uint16_t)port;
		p = q;
	}
	if (p < end && *p == ';') {
		q = sip_uri_params_end(ops, p, end, SIP_CSET_PARAM);
		if (q == NULL)
			return SIP_PERR_BAD_URI;
		uri->params = span_range(p, q);
		p = q;
	}
	if (p < end && *p == '?') {
		if (!sip_uri_headers_ok(ops, p + 1, end))
			return SIP_PERR_BAD_URI;
		uri->headers = span_range(p + 1, end);
		p = end;
	}
	return p == end ? SIP_PERR_OK : SIP_PERR_BAD_URI;
}

/*
 * telephone-subscriber (RFC 3966 §3): global-number-digits = "+" *phonedigit
 * DIGIT *phonedigit, or local-number-digits = *phonedigit-hex (HEXDIG / "*"
 * / "#") *phonedigit-hex, visual separators "-" "." "(" ")", then *par.
 * The phone-context a local number should carry is not enforced: routing
 * decides what a local number means.
 */
static enum sip_perr
sip_uri_parse_tel(struct sip_uri *uri, const char *p, const char *end)
{
	const char *ne, *q;
	bool global, seen = false;

	ne = memchr(p, ';', (size_t)(end - p));
	if (ne == NULL)
		ne = end;
	if (ne == p)
		return SIP_PERR_BAD_URI;
	global = *p == '+';
	for (q = global ? p + 1 : p; q < ne; q++) {
		unsigned char c = (unsigned char)*q;

		if (c == '-' || c == '.' || c == '(' || c == ')')
			continue;
		if (global ? !span_is_digit(c) :
			     !(sip_cc_is(c, SIP_CC_HEX) || c == '*' || c == '#'))
			return SIP_PERR_BAD_URI;
		seen = true;
	}
	if (!seen)
		return SIP_PERR_BAD_URI;
	uri->user = span_range(p, ne);
	if (ne != end) {
		if (sip_uri_params_end(sip_scan_get(), ne, end,
				       SIP_CSET_TELNAME) != end)
			return SIP_PERR_BAD_URI;
		uri->params = span_range(ne, end);
	}
	return SIP_PERR_OK;
}

/*
 * Every URI; @fast_sips tries the fast path for "sips:" URIs (the inline
 * sip_uri_parse_inline() already tried it for "sip:" ones).
 */
static enum sip_perr
sip_uri_parse_any(struct sip_uri *uri, struct span s, bool fast_sips)
{
	const char *p, *end, *q;
	struct span scheme;
	uint32_t w;

	*uri = (struct sip_uri){ .port = 0 };
	if (s.len == 0)
		return SIP_PERR_BAD_URI;
	p = s.ptr;
	end = s.ptr + s.len;

	/* "sip:" in any case, one load: bit 5 folds only the three letters */
	if (s.len > 4) {
		memcpy(&w, p, 4);
		if ((w | 0x00202020u) == 0x3a706973u) {     /* "sip:" LE */
			uri->scheme = span_make(p, 3);
			uri->opaque = span_range(p + 4, end);
			uri->scheme_id = SIP_SCHEME_SIP;
			return sip_uri_parse_sip(uri, p + 4, end, false);
		}
	}

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1) */
	if (!sip_cc_is((unsigned char)*p, SIP_CC_ALPHA))
		return SIP_PERR_BAD_URI;
	q = sip_cc_span(p + 1, end, SIP_CC_SCHEME);
	if (q == end || *q != ':')
		return SIP_PERR_BAD_URI;
	scheme = span_range(p, q);
	uri->scheme = scheme;
	p = q + 1;
	uri->opaque = span_range(p, end);

	switch (scheme.len) {
	case 3:
		if (span_eq_nocase(scheme, SPAN_LIT("sip"))) {
			uri->scheme_id = SIP_SCHEME_SIP;
			return sip_uri_parse_sip(uri, p, end, false);
		}
		if (span_eq_nocase(scheme, SPAN_LIT("tel"))) {
			uri->scheme_id = SIP_SCHEME_TEL;
			return sip_uri_parse_tel(uri, p, end);
		}
		break;
	case 4:
		if (span_eq_nocase(scheme, SPAN_LIT("sips"))) {
			uri->scheme_id = SIP_SCHEME_SIPS;
			return sip_uri_parse_sip(uri, p, end, fast_sips);
		}
		break;
	}

	/* absoluteURI: opaque to us, but still URI characters only. */
	uri->scheme_id = SIP_SCHEME_OTHER;
	if (p == end || sip_cc_span(p, end, SIP_CC_URIC) != end)
		return SIP_PERR_BAD_URI;
	return SIP_PERR_OK;
}

enum sip_perr
sip_uri_parse(struct sip_uri *uri, struct span s)
{
	return sip_uri_parse_inline(uri, s);
}

enum sip_perr
sip_uri_parse_general(struct sip_uri *uri, struct span s)
{
	return sip_uri_parse_any(uri, s, false);
}

enum sip_perr
sip_uri_parse_slow(struct sip_uri *uri, struct span s)
{
	return sip_uri_parse_any(uri, s, true);
}

/* ---- parameter lists ---------------------------------------------------- */

/*
 * generic-param = token [ EQUAL gen-value ], gen-value = token / host /
 * quoted-string (RFC 3261 §25.1), with LWS around ';' and '='. Names and
 * unquoted values may also hold the URI paramchar set, so the same walker
 * serves every list sip_uri_parse() accepts (Route ;lr, ;transport=,
 * ;maddr=[v6]); the structure (no empty parameter, no empty value after
 * '=', nothing but ';' between parameters) is what it enforces.
 */
int
sip_param_next_general(struct span *rest, struct span *name,
		       struct span *value)
{
	const char *p, *end, *q;
	struct span n, v = SPAN_NULL;

	if (rest->len == 0)
		return 0;
	p = rest->ptr;
	end = rest->ptr + rest->len;
	p = sip_skip_lws(p, end);
	if (p == end) {
		*rest = span_range(end, end);
		return 0;
	}
	if (*p == ';')
		p = sip_skip_lws(p + 1, end);
	q = sip_cc_span(p, end, SIP_CC_TOKEN | SIP_CC_PARAM);
	if (q == p)
		return -EBADMSG;        /* ";;", trailing ';', junk */
	n = span_range(p, q);
	p = sip_skip_lws(q, end);
	if (p < end && *p == '=') {
		p = sip_skip_lws(p + 1, end);
		if (p < end && *p == '"') {
			q = sip_quoted_end(p, end);
			if (q == NULL)
				return -EBADMSG;
			v = span_range(p + 1, q - 1);
		} else {
			q = sip_cc_span(p, end, SIP_CC_TOKEN | SIP_CC_PARAM);
			if (q == p)
				return -EBADMSG;
			v = span_range(p, q);
		}
		p = sip_skip_lws(q, end);
	}
	if (p < end && *p != ';')
		return -EBADMSG;
	*name = n;
	*value = v;
	*rest = span_range(p, end);
	return 1;
}

int
sip_param_next(struct span *rest, struct span *name, struct span *value)
{
	return sip_param_next_inline(rest, name, value);
}

/* sip_param_get() by the general walker, out of line: the rare case. */
static __attribute__((noinline)) bool
sip_param_get_general(struct span params, struct span name,
		      struct span *value)
{
	struct span n, v;

	/* Each call consumes at least one byte: bounded by params.len. */
	while (sip_param_next_inline(&params, &n, &v) == 1) {
		if (span_eq_nocase(n, name)) {
			*value = v.ptr != NULL ? v : span_make(span_end(n), 0);
			return true;
		}
	}
	return false;
}

bool
sip_is_token(struct span s)
{
	uint32_t i;

	if (s.len == 0)
		return false;
	for (i = 0; i < s.len; i++)
		if (!(sip_cc[(unsigned char)s.ptr[i]] & SIP_CC_TOKEN))
			return false;
	return true;
}

bool
sip_param_get(struct span params, struct span name, struct span *value)
{
	const char *p = params.ptr;
	uint32_t i = 0, len = params.len;
	struct span n, v;
	unsigned char c0;

	if (len == 0)
		return false;
	/*
	 * The common shape first (sip_param_step()): a name is compared only
	 * when its length and first byte match. Anything else is walked again
	 * from the start by the general walker, which gives the same answer
	 * on what both accept.
	 */
	if (p[0] != ';' || name.len == 0)
		return sip_param_get_general(params, name, value);
	c0 = (unsigned char)name.ptr[0];
	do {
		i = sip_param_step(p, i, len, &n, &v, NULL);
		if (i == 0 || (i < len && p[i] != ';'))
			return sip_param_get_general(params, name, value);
		if (n.len == name.len &&
		    span_ascii_lower((unsigned char)n.ptr[0]) == c0 &&
		    span_eq_nocase(n, name)) {
			*value = v.ptr != NULL ? v : span_make(span_end(n), 0);
			return true;
		}
	} while (i < len);
	return false;
}

/* ---- escapes ------------------------------------------------------------ */

int
sip_unescape(struct span in, char *out, uint32_t cap)
{
	const char *p, *end;
	uint32_t n = 0;
	unsigned char c;

	if (in.len == 0)
		return 0;
	p = in.ptr;
	end = in.ptr + in.len;
	/*
	 * Bytes before the first escape, when all of the input fits: copied
	 * as they are looked at (no room test per byte); the loop below goes
	 * on from the first '%' with the same state it would have reached.
	 */
	if (in.len <= cap) {
		while (p < end && *p != '%')
			out[n++] = *p++;
		if (p == end)
			return (int)n;
	}
	while (p < end) {
		c = (unsigned char)*p;
		if (c == '%') {
			if (end - p < 3 ||
			    !sip_cc_is((unsigned char)p[1], SIP_CC_HEX) ||
			    !sip_cc_is((unsigned char)p[2], SIP_CC_HEX))
				return -EBADMSG;
			c = (unsigned char)(sip_hexval((unsigned char)p[1]) << 4 |
					    sip_hexval((unsigned char)p[2]));
			p += 3;
		} else {
			p++;
		}
		if (n == cap)
			return -ENOSPC;
		out[n++] = (char)c;
	}
	return (int)n;
}

/* Are the eight bytes of @p w all decimal digits? */
static inline bool
sip_digits8(uint64_t w)
{
	const uint64_t h = 0x8080808080808080ull, w7 = w & ~h;

	return ((w | ~(w7 + 0x5050505050505050ull) |
		 (w7 + 0x4646464646464646ull)) & h) == 0;
}

int
sip_user_escape(struct span in, bool keep_pct, char *out, uint32_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint32_t n = (uint32_t)in.len;
	const char *u = in.ptr;
	uint32_t i = 0, run, o = 0;
	uint64_t w;

	/* Eight digits at a time: a number's usual content. */
	for (; n - i >= 8 && i + 8 <= cap; i += 8) {
		memcpy(&w, u + i, 8);
		if (!sip_digits8(w))
			break;
		memcpy(out + i, u + i, 8);
	}
	o = i;
	while (i < n) {
		unsigned char ch = (unsigned char)u[i];

		if (sip_cc_is(ch, SIP_CC_USER) || (keep_pct && ch == '%')) {
			run = sip_cc_run(u, i + 1, n, SIP_CC_USER);
			if (run - i > cap - o)
				return -ENOSPC;
			memcpy(out + o, u + i, run - i);
			o += run - i;
			i = run;
			continue;
		}
		if (cap - o < 3)
			return -ENOSPC;
		out[o] = '%';
		out[o + 1] = hex[ch >> 4];
		out[o + 2] = hex[ch & 0xf];
		o += 3;
		i++;
	}
	return (int)o;
}

int
sip_user_params(struct span user, bool drop_context, char *out, uint32_t cap)
{
	const char *p, *end, *seg, *eq;
	uint32_t n = 0, len;

	if (user.len == 0)
		return 0;       /* ptr may be NULL */
	end = span_end(user);
	p = memchr(user.ptr, ';', user.len);
	while (p != NULL && p < end) {
		seg = p;
		p = memchr(seg + 1, ';', (size_t)(end - seg - 1));
		if (p == NULL)
			p = end;
		len = (uint32_t)(p - seg);
		eq = memchr(seg + 1, '=', len - 1);
		if (drop_context &&
		    span_eq_nocase(span_range(seg + 1, eq != NULL ? eq : p),
				   SPAN_LIT("phone-context")))
			continue;
		if (len > cap - n)
			return -ENOSPC;
		memcpy(out + n, seg, len);
		n += len;
	}
	return (int)n;
}

int
sip_tel_params_user(struct span params, bool drop_context, char *out,
		    uint32_t cap)
{
	struct span rest = params, name, value;
	const char *start;
	uint32_t n = 0;
	int rc, k;

	for (;;) {
		start = rest.ptr;
		rc = sip_param_next(&rest, &name, &value);
		if (rc != 1)
			return rc == 0 ? (int)n : rc;
		if (drop_context &&
		    span_eq_nocase(name, SPAN_LIT("phone-context")))
			continue;
		k = sip_user_escape(span_range(start, rest.ptr), true, out + n,
				    cap - n);
		if (k < 0)
			return k;
		n += (uint32_t)k;
	}
}
