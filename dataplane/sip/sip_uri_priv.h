/* SPDX-License-Identifier: MIT */
/*
 * sip_uri_priv.h - character classes and small scanners shared by
 * sip_uri.c and sip_addr.c. Private to dataplane/sip/.
 *
 * HOT PATH: table lookups only; every scanner is bounded by its end pointer.
 */
#ifndef SIPEDGE_SIP_SIP_URI_PRIV_H
#define SIPEDGE_SIP_SIP_URI_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <compiler.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "sip_scan.h"
#include "sip_types.h"

/*
 * One bit per character class of RFC 3261 §25.1 (and RFC 3966 for tel:).
 * '%' is in none of the URI component classes: an escape is checked as a
 * whole ("%" HEXDIG HEXDIG) by the URI parser.
 */
enum {
	SIP_CC_USER     = 1 << 0,       /* unreserved / user-unreserved */
	SIP_CC_PASS     = 1 << 1,       /* unreserved / "&=+$," */
	SIP_CC_PARAM    = 1 << 2,       /* unreserved / param-unreserved */
	SIP_CC_HDR      = 1 << 3,       /* unreserved / hnv-unreserved */
	SIP_CC_TOKEN    = 1 << 4,       /* token (includes '%') */
	SIP_CC_URIC     = 1 << 5,       /* any URI character (RFC 3986 + '%') */
	SIP_CC_HOST     = 1 << 6,       /* alphanum / "-" / "." */
	SIP_CC_HEX      = 1 << 7,
	SIP_CC_LWS      = 1 << 8,       /* SP HTAB CR LF */
	SIP_CC_DIGIT    = 1 << 9,
	SIP_CC_ALPHA    = 1 << 10,
	SIP_CC_SCHEME   = 1 << 11,      /* alphanum / "+" / "-" / "." */
	SIP_CC_TELNAME  = 1 << 12,      /* RFC 3966 pname: alphanum / "-" */
	SIP_CC_QTEXT    = 1 << 13,      /* qdtext: LWS, %x20-7E but '"' '\\', UTF-8 */
};

#define SIP_CC_UNRES_   (SIP_CC_USER | SIP_CC_PASS | SIP_CC_PARAM | \
			 SIP_CC_HDR | SIP_CC_URIC)
#define SIP_CC_ALNUM_   (SIP_CC_UNRES_ | SIP_CC_TOKEN | SIP_CC_HOST | \
			 SIP_CC_SCHEME | SIP_CC_TELNAME | SIP_CC_QTEXT)

static const uint16_t sip_cc[256] = {
	['0' ... '9']   = SIP_CC_ALNUM_ | SIP_CC_HEX | SIP_CC_DIGIT,
	['A' ... 'F']   = SIP_CC_ALNUM_ | SIP_CC_HEX | SIP_CC_ALPHA,
	['G' ... 'Z']   = SIP_CC_ALNUM_ | SIP_CC_ALPHA,
	['a' ... 'f']   = SIP_CC_ALNUM_ | SIP_CC_HEX | SIP_CC_ALPHA,
	['g' ... 'z']   = SIP_CC_ALNUM_ | SIP_CC_ALPHA,
	/* mark */
	['-']           = SIP_CC_QTEXT | SIP_CC_UNRES_ | SIP_CC_TOKEN |
			  SIP_CC_HOST | SIP_CC_SCHEME | SIP_CC_TELNAME,
	['.']           = SIP_CC_QTEXT | SIP_CC_UNRES_ | SIP_CC_TOKEN |
			  SIP_CC_HOST | SIP_CC_SCHEME,
	['_']           = SIP_CC_QTEXT | SIP_CC_UNRES_ | SIP_CC_TOKEN,
	['!']           = SIP_CC_QTEXT | SIP_CC_UNRES_ | SIP_CC_TOKEN,
	['~']           = SIP_CC_QTEXT | SIP_CC_UNRES_ | SIP_CC_TOKEN,
	['*']           = SIP_CC_QTEXT | SIP_CC_UNRES_ | SIP_CC_TOKEN,
	['\'']          = SIP_CC_QTEXT | SIP_CC_UNRES_ | SIP_CC_TOKEN,
	['(']           = SIP_CC_QTEXT | SIP_CC_UNRES_,
	[')']           = SIP_CC_QTEXT | SIP_CC_UNRES_,
	/* reserved and the rest */
	['%']           = SIP_CC_QTEXT | SIP_CC_TOKEN | SIP_CC_URIC,
	['+']           = SIP_CC_QTEXT | SIP_CC_USER | SIP_CC_PASS |
			  SIP_CC_PARAM | SIP_CC_HDR | SIP_CC_TOKEN |
			  SIP_CC_URIC | SIP_CC_SCHEME,
	['`']           = SIP_CC_QTEXT | SIP_CC_TOKEN,
	['&']           = SIP_CC_QTEXT | SIP_CC_USER | SIP_CC_PASS |
			  SIP_CC_PARAM | SIP_CC_URIC,
	['$']           = SIP_CC_QTEXT | SIP_CC_USER | SIP_CC_PASS | SIP_CC_PARAM |
			  SIP_CC_HDR | SIP_CC_URIC,
	[',']           = SIP_CC_QTEXT | SIP_CC_USER | SIP_CC_PASS | SIP_CC_URIC,
	['=']           = SIP_CC_QTEXT | SIP_CC_USER | SIP_CC_PASS | SIP_CC_URIC,
	[';']           = SIP_CC_QTEXT | SIP_CC_USER | SIP_CC_URIC,
	['?']           = SIP_CC_QTEXT | SIP_CC_USER | SIP_CC_HDR | SIP_CC_URIC,
	['/']           = SIP_CC_QTEXT | SIP_CC_USER | SIP_CC_PARAM |
			  SIP_CC_HDR | SIP_CC_URIC,
	[':']           = SIP_CC_QTEXT | SIP_CC_PARAM | SIP_CC_HDR | SIP_CC_URIC,
	['[']           = SIP_CC_QTEXT | SIP_CC_PARAM | SIP_CC_HDR | SIP_CC_URIC,
	[']']           = SIP_CC_QTEXT | SIP_CC_PARAM | SIP_CC_HDR | SIP_CC_URIC,
	['@']           = SIP_CC_QTEXT | SIP_CC_URIC,
	['#']           = SIP_CC_QTEXT | SIP_CC_URIC,
	[' ']           = SIP_CC_QTEXT | SIP_CC_LWS,
	['\t']          = SIP_CC_QTEXT | SIP_CC_LWS,
	['\r']          = SIP_CC_QTEXT | SIP_CC_LWS,
	['\n']          = SIP_CC_QTEXT | SIP_CC_LWS,
	/* the rest of qdtext */
	['<']           = SIP_CC_QTEXT,
	['>']           = SIP_CC_QTEXT,
	['^']           = SIP_CC_QTEXT,
	['{']           = SIP_CC_QTEXT,
	['}']           = SIP_CC_QTEXT,
	['|']           = SIP_CC_QTEXT,
	[0x80 ... 0xff] = SIP_CC_QTEXT,
};

static inline bool
sip_cc_is(unsigned char c, uint16_t cls)
{
	return (sip_cc[c] & cls) != 0;
}

/* First byte at or after p that is not in @p cls, or end. */
static inline const char *
sip_cc_span(const char *p, const char *end, uint16_t cls)
{
	while (p < end && sip_cc_is((unsigned char)*p, cls))
		p++;
	return p;
}

static inline const char *
sip_skip_lws(const char *p, const char *end)
{
	return sip_cc_span(p, end, SIP_CC_LWS);
}

/* Value of a hex digit; c must be in SIP_CC_HEX. */
static inline unsigned int
sip_hexval(unsigned char c)
{
	return c <= '9' ? (unsigned int)(c - '0') :
			  (unsigned int)((c | 0x20) - 'a' + 10);
}

/*
 * First index at or after i (below n) of a byte of p outside class @cls,
 * or n: a table lookup per byte, one bound check per four bytes. Short
 * runs (a URI part is a handful of bytes) cost less this way than a
 * vector scan's setup and call.
 */
static inline __attribute__((always_inline)) uint32_t
sip_cc_run(const char *p, uint32_t i, uint32_t n, uint16_t cls)
{
	const unsigned char *q = (const unsigned char *)p;

	for (; i + 4 <= n; i += 4) {
		if (!(sip_cc[q[i]] & cls))
			return i;
		if (!(sip_cc[q[i + 1]] & cls))
			return i + 1;
		if (!(sip_cc[q[i + 2]] & cls))
			return i + 2;
		if (!(sip_cc[q[i + 3]] & cls))
			return i + 3;
	}
	while (i < n && (sip_cc[q[i]] & cls))
		i++;
	return i;
}

/*
 * The masks of sip_scan_ops()->umask with AVX2 (sip_val_scan.c), used
 * when sip_val_avx2 is set: at load time when the CPU has AVX2, or by
 * sip_val_select() (tests compare the two, benchmarks pick one).
 */
extern bool sip_val_avx2;
void sip_val_umask_avx2(const char *p, uint32_t n, struct sip_umask *m);

/* First byte of [p, end) outside SIP_CC_QTEXT, or end (AVX2). */
const char *sip_val_qtext_avx2(const char *p, const char *end);

/* 0; -ENOTSUP when @avx2 is asked for and the CPU lacks it. Slow path. */
int sip_val_select(bool avx2);

static inline __attribute__((always_inline)) void
sip_val_umask(const struct sip_scan_ops *ops, const char *p, uint32_t n,
	      struct sip_umask *m)
{
	if (likely(sip_val_avx2))
		sip_val_umask_avx2(p, n, m);
	else
		ops->umask(p, n, m);
}

/* First index at or after i (below n) of a byte outside SIP_CC_QTEXT. */
static inline __attribute__((always_inline)) uint32_t
sip_val_qtext(const char *p, uint32_t i, uint32_t n)
{
	if (likely(sip_val_avx2))
		return (uint32_t)(sip_val_qtext_avx2(p + i, p + n) - p);
	return sip_cc_run(p, i, n, SIP_CC_QTEXT);
}

/*
 * End of a quoted-string (RFC 3261 §25.1) that starts at p (p[0] == '"'):
 * the byte after the closing quote, or NULL when it is unterminated or
 * holds a control character outside a quoted-pair. A run of qdtext is one
 * AVX2 scan (sip_val_scan.c), or one table lookup per byte without it.
 */
static inline const char *
sip_quoted_end(const char *p, const char *end)
{
	uint32_t n = (uint32_t)(end - p), i = 1;
	unsigned char c;

	for (;;) {
		i = sip_val_qtext(p, i, n);
		if (i == n)
			return NULL;
		if (p[i] == '"')
			return p + i + 1;
		if (p[i] != '\\')
			return NULL;    /* a control byte */
		/* quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) */
		if (++i == n)
			return NULL;
		c = (unsigned char)p[i];
		if (c == '\r' || c == '\n' || c > 0x7f)
			return NULL;
		i++;
	}
}

/* One IPv4 part: 1*3DIGIT, 0..255; reads only q[0, len). */
static inline __attribute__((always_inline)) bool
sip_ip4_part_ok(const unsigned char *q, uint32_t len)
{
	uint32_t d0, d1, d2;

	if (len - 1 > 2)
		return false;
	d0 = (uint32_t)q[0] - '0';
	if (d0 > 9)
		return false;
	if (len == 1)
		return true;
	d1 = (uint32_t)q[1] - '0';
	if (d1 > 9)
		return false;
	if (len == 2)
		return true;
	d2 = (uint32_t)q[2] - '0';
	return d2 <= 9 && d0 * 100 + d1 * 10 + d2 <= 255;
}

/*
 * Whether every byte of [p, p + n) (n <= 15) that is not a '.' bit of
 * @dots is a digit: one 16-byte SSE2 load when the 16 bytes from p lie in
 * p's page (the bytes from p + n are masked off), else a loop.
 */
__attribute__((no_sanitize_address))
static inline bool
sip_ip4_digits_ok(const char *p, uint32_t n, uint64_t dots)
{
	uint32_t i;

#if defined(__x86_64__)
	if (((uintptr_t)p & 4095) <= 4096 - 16) {
		const __m128i v = _mm_sub_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)p),
			_mm_set1_epi8('0'));
		uint32_t dig = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
			_mm_min_epu8(v, _mm_set1_epi8(9)), v));
		uint32_t want = (1u << n) - 1;

		return ((dig | (uint32_t)dots) & want) == want;
	}
#endif
	for (i = 0; i < n; i++) {
		if ((unsigned char)(p[i] - '0') > 9 && !((dots >> i) & 1))
			return false;
	}
	return true;
}

/* A part of 1..3 digits is at most 255: only three digits can exceed. */
static inline __attribute__((always_inline)) bool
sip_ip4_part_le255(const unsigned char *q, uint32_t len)
{
	return len != 3 ||
	       (q[0] - '0') * 100 + (q[1] - '0') * 10 + (q[2] - '0') <= 255;
}

/*
 * IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, parts
 * 0..255 (RFC 3261 §25.1), for [p, p + n) whose '.' bytes are the bits of
 * @dots (a vector scan found them): the parts are cut by bit position, so
 * there is no loop over bytes looking for dots; their lengths are four
 * compares, their digits one vector test (sip_ip4_digits_ok()), and only
 * a three-digit part needs its value.
 */
static inline __attribute__((always_inline)) bool
sip_ip4_dots_ok(const char *p, uint32_t n, uint64_t dots)
{
	const unsigned char *q = (const unsigned char *)p;
	uint64_t all = dots;
	uint32_t a, b, c;

	if (dots == 0)
		return false;
	a = (uint32_t)__builtin_ctzll(dots);
	dots &= dots - 1;
	if (dots == 0)
		return false;
	b = (uint32_t)__builtin_ctzll(dots);
	dots &= dots - 1;
	if (dots == 0)
		return false;
	c = (uint32_t)__builtin_ctzll(dots);
	if ((dots & (dots - 1)) != 0)
		return false;
	/* every part 1..3 bytes (so n <= 15) */
	if (a - 1 > 2 || b - a - 2 > 2 || c - b - 2 > 2 || n - c - 2 > 2)
		return false;
	return sip_ip4_digits_ok(p, n, all) &&
	       sip_ip4_part_le255(q, a) &&
	       sip_ip4_part_le255(q + a + 1, b - a - 1) &&
	       sip_ip4_part_le255(q + b + 1, c - b - 1) &&
	       sip_ip4_part_le255(q + c + 1, n - c - 1);
}

/* IPv4address (RFC 3261 §25.1), exactly the n bytes at p. */
static inline __attribute__((always_inline)) bool
sip_ip4_ok(const char *p, uint32_t n)
{
	const unsigned char *q = (const unsigned char *)p;
	uint32_t i = 0, k, s;

	for (k = 0; k < 4; k++) {
		s = i;
		while (i < n && i - s < 3 && (unsigned char)(q[i] - '0') <= 9)
			i++;
		if (!sip_ip4_part_ok(q + s, i - s))
			return false;
		if (k == 3)
			break;
		if (i == n || q[i] != '.')
			return false;
		i++;
	}
	return i == n;
}

/*
 * A hostname or IPv4address (RFC 3261 §25.1) at p[i], in one pass over
 * its labels: the index after the host (after the run of alphanum / "-" /
 * "." bytes, which is where the general parser ends it too) with *type
 * set, or 0 when the general parser must decide (an IPv6 reference, and
 * every host that is not valid).
 */
static inline __attribute__((always_inline)) uint32_t
sip_host_fast(const char *p, uint32_t i, uint32_t n, int *type)
{
	const unsigned char *q = (const unsigned char *)p;
	uint32_t h0 = i, lab;

	for (;;) {
		/* label: alphanum, then alphanum / "-", not ending in "-" */
		lab = i;
		if (i == n || !(sip_cc[q[i]] & (SIP_CC_ALPHA | SIP_CC_DIGIT)))
			return 0;
		i = sip_cc_run(p, i + 1, n, SIP_CC_TELNAME);
		if (q[i - 1] == '-')
			return 0;
		if (i == n || q[i] != '.')
			break;
		i++;
		if (i == n || !(sip_cc[q[i]] & SIP_CC_HOST))
			break;          /* trailing '.' */
	}
	if (sip_cc[q[lab]] & SIP_CC_ALPHA) {
		*type = SIP_HOST_NAME;
		return i;
	}
	if (!sip_ip4_ok(p + h0, i - h0))
		return 0;
	*type = SIP_HOST_IPV4;
	return i;
}

/*
 * An IPv4address (RFC 3261 §25.1) at p as a whole host: its length when
 * the n bytes at p start with one that no other host byte follows, else 0
 * (then the host is something else, or invalid: sip_host_check() decides).
 * One pass, the digits of each part unrolled; sip_ip4_run() without its
 * vector path (test_sip_uri compares the two).
 */
static inline __attribute__((always_inline)) uint32_t
sip_ip4_run_scalar(const char *p, uint32_t n)
{
	const unsigned char *q = (const unsigned char *)p;
	uint32_t i = 0, k, v, d;

	for (k = 0; k < 4; k++) {
		if (i >= n || (v = (uint32_t)q[i] - '0') > 9)
			return 0;
		i++;
		if (i < n && (d = (uint32_t)q[i] - '0') <= 9) {
			v = v * 10 + d;
			i++;
			if (i < n && (d = (uint32_t)q[i] - '0') <= 9) {
				v = v * 10 + d;
				i++;
			}
		}
		if (v > 255)
			return 0;
		if (k < 3) {
			if (i >= n || q[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && sip_cc_is(q[i], SIP_CC_HOST))
		return 0;
	return i;
}

/*
 * sip_ip4_run() for the 16 bytes from p when they lie in p's page: the
 * run of digits and dots from p (at most 15 bytes can be an IPv4address,
 * and a longer run is none, as the byte after its fourth part would be
 * a host byte) cut into parts by its dot bits. UINT32_MAX when the load
 * could cross into the next page: the byte loop decides. No load for an
 * empty host (p may be the end of the buffer).
 */
__attribute__((no_sanitize_address))
static inline uint32_t
sip_ip4_run_vec(const char *p, uint32_t n)
{
#if defined(__x86_64__)
	__m128i v, d;
	uint32_t dig, dot, run;

	if (n == 0)
		return 0;
	if (((uintptr_t)p & 4095) > 4096 - 16)
		return UINT32_MAX;
	v = _mm_loadu_si128((const __m128i *)(const void *)p);
	d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
	dig = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
		_mm_min_epu8(d, _mm_set1_epi8(9)), d));
	dot = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
		_mm_set1_epi8('.')));
	if (n < 16) {
		dig &= (1u << n) - 1;
		dot &= (1u << n) - 1;
	}
	run = (uint32_t)__builtin_ctz(~(dig | dot));
	if (run > 15 || !sip_ip4_dots_ok(p, run, dot & ((1u << run) - 1)))
		return 0;
	if (run < n && sip_cc_is((unsigned char)p[run], SIP_CC_HOST))
		return 0;
	return run;
#else
	(void)p;
	(void)n;
	return UINT32_MAX;
#endif
}

/* sip_ip4_run_scalar(), one vector test when the bytes allow it. */
static inline __attribute__((always_inline)) uint32_t
sip_ip4_run(const char *p, uint32_t n)
{
	uint32_t len = sip_ip4_run_vec(p, n);

	return len != UINT32_MAX ? len : sip_ip4_run_scalar(p, n);
}

/*
 * Check a host (RFC 3261 §25.1 host, RFC 5118 IPv6 references) that runs
 * exactly from p to end: a hostname, an IPv4 address or "[" IPv6 "]".
 * Returns the enum sip_host_type, or -EINVAL.
 */
int sip_host_check(const char *p, const char *end);

/*
 * sip_uri_parse() without its fast path for the common shape: the general
 * parser alone, which tests compare the fast path with.
 */
enum sip_perr sip_uri_parse_general(struct sip_uri *uri, struct span s);

/* What sip_uri_parse_inline() falls back to: all but its own fast path. */
enum sip_perr sip_uri_parse_slow(struct sip_uri *uri, struct span s);

/* sip_param_next() without its fast path, for the same tests. */
int sip_param_next_general(struct span *rest, struct span *name,
			   struct span *value);

/*
 * sip_param_next(), inlined into the parameter loops of this directory.
 * The common shape first: [";"] name [ "=" value ] up to the next ';' or
 * the end, without LWS or quotes. Names are short and scanned byte by
 * byte; values (branch, tag, received) are often long and take one vector
 * class scan. Anything else goes to the general walker from the same
 * place, so both give the same answer (test_sip_uri checks).
 */
static inline __attribute__((always_inline)) int
sip_param_next_inline(struct span *rest, struct span *name,
		      struct span *value)
{
	const char *p, *end, *q, *v, *ve;

	if (rest->len == 0)
		return 0;
	p = rest->ptr;
	end = p + rest->len;
	if (*p == ';')
		p++;
	q = sip_cc_span(p, end, SIP_CC_TOKEN | SIP_CC_PARAM);
	if (q == p)
		return sip_param_next_general(rest, name, value);
	if (q == end || *q == ';') {
		*name = span_range(p, q);
		*value = SPAN_NULL;
		*rest = span_range(q, end);
		return 1;
	}
	if (*q != '=')
		return sip_param_next_general(rest, name, value);
	v = q + 1;
	ve = sip_cspan(sip_scan_get(), v, end, SIP_CSET_PTOKEN);
	if (ve == v || (ve != end && *ve != ';'))
		return sip_param_next_general(rest, name, value);
	*name = span_range(p, q);
	*value = span_range(v, ve);
	*rest = span_range(ve, end);
	return 1;
}

/*
 * span_eq_nocase() for a literal @lit of @len (<= 8) lower-case letters,
 * in one or two loads: for letters, setting bit 5 is exactly folding the
 * case, and a non-letter with bit 5 set is no letter.
 */
static inline __attribute__((always_inline)) bool
sip_name_eq(struct span n, const char *lit, uint32_t len)
{
	uint64_t a = 0, b = 0;

	if (n.len != len)
		return false;
	memcpy(&a, n.ptr, len);
	memcpy(&b, lit, len);
	return (a | (0x2020202020202020ull >> (64 - 8 * len))) == b;
}

#define SIP_NAME_EQ(n, lit)     sip_name_eq((n), (lit), sizeof(lit) - 1)

/*
 * The run of token / paramchar bytes at p[v] (a parameter value): its end,
 * with *tok set when all of it is token bytes. Values (branch, tag) are
 * long enough for the vector class scan to pay.
 */
static inline __attribute__((always_inline)) uint32_t
sip_value_run(const char *p, uint32_t v, uint32_t n, bool *tok)
{
	const struct sip_scan_ops *ops = sip_scan_get();
	const char *t;

	t = sip_cspan(ops, p + v, p + n, SIP_CSET_TOKEN);
	*tok = true;
	if (t == p + n || !sip_cc_is((unsigned char)*t, SIP_CC_PARAM))
		return (uint32_t)(t - p);
	*tok = false;
	return (uint32_t)(sip_cspan(ops, t, p + n, SIP_CSET_PTOKEN) - p);
}

/*
 * One parameter of a list in the common shape, at p[i] == ';' (of the n
 * bytes at p): ";" name [ "=" value ], token / paramchar bytes only. The
 * index after it, with *name, *value (SPAN_NULL when there is no '=') and
 * *tok (the value is a token; pass NULL when that does not matter) set;
 * 0 for an empty name or value. The
 * caller checks that a ';' or the end follows, else the general walker
 * (sip_param_next()) must decide: LWS, quotes, junk.
 */
static inline __attribute__((always_inline)) uint32_t
sip_param_step(const char *p, uint32_t i, uint32_t n, struct span *name,
	       struct span *value, bool *tok)
{
	uint32_t s = i + 1, v;

	i = sip_cc_run(p, s, n, SIP_CC_TOKEN | SIP_CC_PARAM);
	if (i == s)
		return 0;
	*name = span_range(p + s, p + i);
	*value = SPAN_NULL;
	if (tok != NULL)
		*tok = false;
	if (i < n && p[i] == '=') {
		v = i + 1;
		/* a value that need not be a token is short: a table run */
		i = tok != NULL ? sip_value_run(p, v, n, tok) :
			sip_cc_run(p, v, n, SIP_CC_TOKEN | SIP_CC_PARAM);
		if (i == v)
			return 0;
		*value = span_range(p + v, p + i);
	}
	return i;
}

/*
 * End of a host at p: after the ']' of an IPv6 reference (p unchanged when
 * it has none), else after the run of hostname characters.
 */
static inline const char *
sip_host_end(const char *p, const char *end)
{
	const char *q;

	if (p < end && *p == '[') {
		q = memchr(p, ']', (size_t)(end - p));
		return q != NULL ? q + 1 : p;
	}
	return sip_cc_span(p, end, SIP_CC_HOST);
}

/*
 * SIP-URI grammar (sip_uri.c) for the common shape, from the bit masks
 * (@mp, sip_val_umask()) of the whole URI after "sip:", [p, end) (1 to
 * SIP_UMASK_MAX bytes):
 * [ user "@" ] host [ ":" port ] *( ";" pname [ "=" pvalue ] ), at most
 * SIP_UMASK_MAX bytes, no escapes, no password, no headers, no IPv6
 * reference. Each part is then a test of its bytes' class mask, and the
 * delimiters are found with one count-trailing-zeros each. Returns 1 with
 * @uri filled when the URI has that shape and is valid; 0 when the general
 * parser must decide (any other shape, and every invalid URI), so the two
 * never disagree on what they both accept (test_sip_uri checks). About
 * 300 instructions per URI of the bench_sip_parse INVITE with the AVX2
 * masks (sip_val_scan.c), 470 with the SSE4.2 ones, against 775 for the
 * general parser before it (callgrind).
 */
static inline __attribute__((always_inline)) int
sip_uri_sip_masks(struct sip_uri *uri, const char *p, const char *end,
		  const struct sip_umask *mp)
{
	uint32_t n = (uint32_t)(end - p), f, h0 = 0, he, pos, e, i, last;
	uint64_t valid, x, dd, hh, se, lo;
	const struct sip_umask m = *mp;
	unsigned int eqs;
	unsigned int v, d;
	int type;

	valid = (1ull << n) - 1;

	/* userinfo: the run of user characters, if an '@' ends it */
	x = m.nuser | ~valid;
	f = x != 0 ? (uint32_t)__builtin_ctzll(x) : 64;
	if (f < n) {
		if (p[f] == '@') {
			if (f == 0)
				return 0;
			h0 = f + 1;
		} else if (p[f] != ':' || memchr(p + f, '@', n - f) != NULL) {
			return 0;       /* escape, password, '[', junk */
		}
	}

	/* host: hostname or IPv4address */
	x = (m.nhost | ~valid) >> h0;
	if (x == 0)
		return 0;
	he = h0 + (uint32_t)__builtin_ctzll(x);
	if (he == h0)
		return 0;
	dd = m.dot >> h0;
	hh = m.dash >> h0;
	e = he - h0;
	if ((dd >> (e - 1)) & 1)
		e--;            /* trailing '.' */
	if (e == 0)
		return 0;
	lo = (1ull << e) - 1;
	dd &= lo;
	hh &= lo;
	if ((((dd | hh) & 1) | (dd & (dd >> 1)) | (hh & (dd >> 1)) |
	     (dd & (hh >> 1)) | (((dd | hh) >> (e - 1)) & 1)) != 0)
		return 0;
	last = dd != 0 ? 64u - (uint32_t)__builtin_clzll(dd) : 0;
	if (sip_cc_is((unsigned char)p[h0 + last], SIP_CC_ALPHA))
		type = SIP_HOST_NAME;
	else if (e == he - h0 && sip_ip4_dots_ok(p + h0, e, dd))
		type = SIP_HOST_IPV4;
	else
		return 0;

	/* port = 1*DIGIT, at most 65535 */
	pos = he;
	v = 0;
	if (pos < n && p[pos] == ':') {
		for (i = pos + 1; i < n &&
		     (d = (unsigned char)p[i] - '0') <= 9; i++) {
			v = v * 10 + d;
			if (v > 65535)
				return 0;
		}
		if (i == pos + 1)
			return 0;
		uri->port_str = span_range(p + pos + 1, p + i);
		pos = i;
	}

	/*
	 * uri-parameters: paramchar, ';' and '=' only; every ';' and '='
	 * followed by a paramchar (no empty name or value); one '=' per
	 * parameter at most.
	 */
	if (pos < n) {
		if (p[pos] != ';')
			return 0;
		lo = valid & ~((1ull << pos) - 1);
		se = m.sep & lo;
		if ((m.nparam & lo & ~se) != 0 ||
		    ((se << 1) & ~(~m.nparam & valid)) != 0)
			return 0;
		for (eqs = 0; se != 0; se &= se - 1) {
			if (p[__builtin_ctzll(se)] == ';')
				eqs = 0;
			else if (eqs++ != 0)
				return 0;
		}
		uri->params = span_range(p + pos, end);
	}

	if (h0 != 0)
		uri->user = span_range(p, p + h0 - 1);
	uri->host = span_range(p + h0, p + he);
	uri->host_type = (uint8_t)type;
	uri->port = (uint16_t)v;
	return 1;
}

/* sip_uri_sip_masks() on the masks of the n bytes at p (1..48). */
static inline __attribute__((always_inline)) int
sip_uri_parse_sip_fast(const struct sip_scan_ops *ops, struct sip_uri *uri,
		       const char *p, const char *end)
{
	uint32_t n = (uint32_t)(end - p);
	struct sip_umask m;

	if (n == 0 || n > SIP_UMASK_MAX)
		return 0;
	sip_val_umask(ops, p, n, &m);
	return sip_uri_sip_masks(uri, p, end, &m);
}

/*
 * sip_uri_parse(), with the fast path for "sip:" URIs inline (name-addr
 * values parse one per call); every other URI, and every one the fast
 * path declines, goes to the general parser.
 */
static inline __attribute__((always_inline)) enum sip_perr
sip_uri_parse_inline(struct sip_uri *uri, struct span s)
{
	uint32_t w;

	/* "sip:" in any case, one load: bit 5 folds only the three letters */
	if (s.len > 4) {
		memcpy(&w, s.ptr, 4);
		if ((w | 0x00202020u) == 0x3a706973u) {     /* "sip:" LE */
			/*
			 * Field by field: the compiler turns a compound
			 * literal of this size into a string store.
			 */
			uri->scheme = span_make(s.ptr, 3);
			uri->user = uri->password = SPAN_NULL;
			uri->port_str = uri->params = SPAN_NULL;
			uri->headers = SPAN_NULL;
			uri->opaque = span_make(s.ptr + 4, s.len - 4);
			uri->port = 0;
			uri->scheme_id = SIP_SCHEME_SIP;
			if (sip_uri_parse_sip_fast(sip_scan_get(), uri,
						   s.ptr + 4, span_end(s)))
				return SIP_PERR_OK;
		}
	}
	return sip_uri_parse_slow(uri, s);
}

#endif /* SIPEDGE_SIP_SIP_URI_PRIV_H */
