/* SPDX-License-Identifier: MIT */
/*
 * sip_scan.c - delimiter scans with a vector and a scalar implementation.
 *
 * Hot path. The vector scans look at 16 bytes at a time: delimiters with
 * one PCMPEQB each (NUL bytes in the data are ordinary bytes), character
 * classes (token, URI parts, host) with a PSHUFB nibble lookup, which tests
 * a set of any shape in the same few instructions. Every load is an aligned
 * block holding part of [p, end), so no load crosses a page the range does
 * not touch, and short ranges need no scalar head or tail. The scalar
 * implementation (one table lookup per byte) is the fallback and the
 * reference the tests compare with. The implementation is chosen once, from
 * CPUID, before main() runs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <compiler.h>

#include "sip.h"
#include "sip_scan.h"
#include "sip_uri_priv.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SIP_SCAN_HAVE_SSE42     1
#else
#define SIP_SCAN_HAVE_SSE42     0
#endif

/*
 * Generated from sip_cc[] (bit h of lo[l] set when byte h << 4 | l is in
 * the class); test_sip_scan checks every byte against sip_cc[].
 */
const struct sip_cset sip_cset[SIP_CSET__COUNT] = {
	[SIP_CSET_USER] = { .cls = SIP_CC_USER, .lo = {
		0xa8, 0xfc, 0xf8, 0xf8, 0xfc, 0xf8, 0xfc, 0xfc,
		0xfc, 0xfc, 0xf4, 0x5c, 0x54, 0x5c, 0xd4, 0x7c } },
	[SIP_CSET_PASS] = { .cls = SIP_CC_PASS, .lo = {
		0xa8, 0xfc, 0xf8, 0xf8, 0xfc, 0xf8, 0xfc, 0xfc,
		0xfc, 0xfc, 0xf4, 0x54, 0x54, 0x5c, 0xd4, 0x70 } },
	[SIP_CSET_PARAM] = { .cls = SIP_CC_PARAM, .lo = {
		0xa8, 0xfc, 0xf8, 0xf8, 0xfc, 0xf8, 0xfc, 0xfc,
		0xfc, 0xfc, 0xfc, 0x74, 0x50, 0x74, 0xd4, 0x74 } },
	[SIP_CSET_HDR] = { .cls = SIP_CC_HDR, .lo = {
		0xa8, 0xfc, 0xf8, 0xf8, 0xfc, 0xf8, 0xf8, 0xfc,
		0xfc, 0xfc, 0xfc, 0x74, 0x50, 0x74, 0xd4, 0x7c } },
	[SIP_CSET_TOKEN] = { .cls = SIP_CC_TOKEN, .lo = {
		0xe8, 0xfc, 0xf8, 0xf8, 0xf8, 0xfc, 0xf8, 0xfc,
		0xf8, 0xf8, 0xf4, 0x54, 0x50, 0x54, 0xd4, 0x70 } },
	[SIP_CSET_PTOKEN] = { .cls = SIP_CC_TOKEN | SIP_CC_PARAM, .lo = {
		0xe8, 0xfc, 0xf8, 0xf8, 0xfc, 0xfc, 0xfc, 0xfc,
		0xfc, 0xfc, 0xfc, 0x74, 0x50, 0x74, 0xd4, 0x74 } },
	[SIP_CSET_HOST] = { .cls = SIP_CC_HOST, .lo = {
		0xa8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8,
		0xf8, 0xf8, 0xf0, 0x50, 0x50, 0x54, 0x54, 0x50 } },
	[SIP_CSET_URIC] = { .cls = SIP_CC_URIC, .lo = {
		0xb8, 0xfc, 0xf8, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc,
		0xfc, 0xfc, 0xfc, 0x7c, 0x54, 0x7c, 0xd4, 0x7c } },
	[SIP_CSET_TELNAME] = { .cls = SIP_CC_TELNAME, .lo = {
		0xa8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8, 0xf8,
		0xf8, 0xf8, 0xf0, 0x50, 0x50, 0x54, 0x50, 0x50 } },
};

/* ---- scalar ------------------------------------------------------------ */

static const char *
sip_scan_lf_scalar(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '\n')
			return p;
	}
	return end;
}

static const char *
sip_scan_value_scalar(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == ',' || *p == '"' || *p == '<')
			return p;
	}
	return end;
}

static const char *
sip_scan_quoted_scalar(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '"' || *p == '\\')
			return p;
	}
	return end;
}

/*
 * token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
 *            "'" / "~")                                 (RFC 3261 §25.1)
 */
static const uint8_t sip_scan_tok[256] = {
	['0' ... '9'] = 1,
	['A' ... 'Z'] = 1,
	['a' ... 'z'] = 1,
	['-'] = 1, ['.'] = 1, ['!'] = 1, ['%'] = 1, ['*'] = 1,
	['_'] = 1, ['+'] = 1, ['`'] = 1, ['\''] = 1, ['~'] = 1,
};

static const char *
sip_scan_token_scalar(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (sip_scan_tok[(unsigned char)*p] == 0)
			return p;
	}
	return end;
}

static const char *
sip_scan_cspan_scalar(const char *p, const char *end, const struct sip_cset *cs)
{
	return sip_cc_span(p, end, cs->cls);
}

static int
sip_scan_host_scalar(const char *p, const char *end, const char **hend)
{
	const char *q = sip_host_end(p, end);

	*hend = q;
	return sip_host_check(p, q);
}

static void
sip_scan_umask_scalar(const char *p, uint32_t n, struct sip_umask *m)
{
	uint32_t i;

	*m = (struct sip_umask){ .nuser = 0 };
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		uint64_t bit = 1ull << i;

		if (!sip_cc_is(c, SIP_CC_USER))
			m->nuser |= bit;
		if (!sip_cc_is(c, SIP_CC_HOST))
			m->nhost |= bit;
		if (!sip_cc_is(c, SIP_CC_PARAM))
			m->nparam |= bit;
		m->sep |= c == ';' || c == '=' ? bit : 0;
		m->dot |= c == '.' ? bit : 0;
		m->dash |= c == '-' ? bit : 0;
		m->gt |= c == '>' ? bit : 0;
	}
}

static const struct sip_scan_ops sip_scan_scalar_ops = {
	.lf = sip_scan_lf_scalar,
	.value = sip_scan_value_scalar,
	.quoted = sip_scan_quoted_scalar,
	.token = sip_scan_token_scalar,
	.cspan = sip_scan_cspan_scalar,
	.host = sip_scan_host_scalar,
	.umask = sip_scan_umask_scalar,
	.name = "scalar",
	.impl = SIP_SCAN_SCALAR,
};

/* ---- SSE2 / SSE4.2 ----------------------------------------------------- */

#if SIP_SCAN_HAVE_SSE42

/*
 * Loads are the aligned 16-byte blocks holding [p, end): an aligned block
 * never crosses a page, so the bytes around the range it also reads cannot
 * fault; they are shifted or masked off. Sanitizers would flag exactly
 * those bytes, hence no_sanitize_address on the functions that load this
 * way. No scalar head or tail: a 5-byte value costs one block.
 */
#define SIP_SCAN_ALIGNED_LOADS \
	__attribute__((target("sse4.2"), no_sanitize_address))

static inline const __m128i *
sip_scan_block(const char *p)
{
	return (const __m128i *)(uintptr_t)((uintptr_t)p & ~(uintptr_t)15);
}

/* First byte equal to @a, @b or @c in [p, end), or end. */
SIP_SCAN_ALIGNED_LOADS
static inline const char *
sip_scan_find3(const char *p, const char *end, char a, char b, char c)
{
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
	const __m128i vc = _mm_set1_epi8(c);
	const __m128i *blk;
	__m128i v;
	uint32_t m;

	if (p >= end)
		return end;
	blk = sip_scan_block(p);
	v = _mm_load_si128(blk);
	m = (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
		_mm_cmpeq_epi8(v, vc))) >> ((uintptr_t)p & 15);
	while (m == 0) {
		blk++;
		p = (const char *)blk;
		if (p >= end)
			return end;
		v = _mm_load_si128(blk);
		m = (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
			_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
			_mm_cmpeq_epi8(v, vc)));
	}
	p += __builtin_ctz(m);
	return p < end ? p : end;
}

/*
 * Class scans: PSHUFB looks up both nibbles of 16 bytes at once, so a byte
 * set of any shape costs the same few instructions per block.
 * Bit i set when byte i of @v is not in the set of nibble table @lo.
 */
__attribute__((target("sse4.2")))
static inline uint32_t
sip_scan_nonmember(__m128i v, __m128i lo)
{
	const __m128i hi = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)0x80,
					 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i nib = _mm_set1_epi8(0x0f);
	__m128i l, h;

	l = _mm_shuffle_epi8(lo, _mm_and_si128(v, nib));
	h = _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi16(v, 4), nib));
	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(l, h),
							  _mm_setzero_si128()));
}

SIP_SCAN_ALIGNED_LOADS
static const char *
sip_scan_cspan_sse42(const char *p, const char *end, const struct sip_cset *cs)
{
	const __m128i lo = _mm_load_si128((const __m128i *)(const void *)cs->lo);
	const __m128i *b;
	uint32_t m;

	if (p >= end)
		return end;
	b = sip_scan_block(p);
	m = sip_scan_nonmember(_mm_load_si128(b), lo) >> ((uintptr_t)p & 15);
	while (m == 0) {
		b++;
		p = (const char *)b;
		if (p >= end)
			return end;
		m = sip_scan_nonmember(_mm_load_si128(b), lo);
	}
	p += __builtin_ctz(m);
	return p < end ? p : end;
}

/*
 * Ranges of 16 bytes or more: unaligned loads from p, the last one ending
 * exactly at end; PCMPESTRI for byte sets (one instruction per block).
 * Shorter ranges: one aligned block (above), no scalar loop.
 */
#define SIP_SCAN_SET_MODE \
	(_SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY | _SIDD_LEAST_SIGNIFICANT)

SIP_SCAN_ALIGNED_LOADS
static const char *
sip_scan_lf_sse42(const char *p, const char *end)
{
	const __m128i nl = _mm_set1_epi8('\n');
	unsigned int m;

	if (end - p < 16)
		return sip_scan_find3(p, end, '\n', '\n', '\n');
	while (end - p > 16) {
		m = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)p), nl));
		if (m != 0)
			return p + __builtin_ctz(m);
		p += 16;
	}
	/* 1..16 bytes left: one load ending at end, overlapping clean bytes. */
	p = end - 16;
	m = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(
		_mm_loadu_si128((const __m128i *)(const void *)p), nl));
	return m != 0 ? p + __builtin_ctz(m) : end;
}

/* First byte of the @nset bytes in @set within [p, end); end - p >= 16. */
SIP_SCAN_ALIGNED_LOADS
static inline const char *
sip_scan_set_sse42(const char *p, const char *end, __m128i set, int nset)
{
	__m128i v;
	int i;

	while (end - p > 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		i = _mm_cmpestri(set, nset, v, 16, SIP_SCAN_SET_MODE);
		if (i < 16)
			return p + i;
		p += 16;
	}
	p = end - 16;
	v = _mm_loadu_si128((const __m128i *)(const void *)p);
	i = _mm_cmpestri(set, nset, v, 16, SIP_SCAN_SET_MODE);
	return i < 16 ? p + i : end;
}

SIP_SCAN_ALIGNED_LOADS
static const char *
sip_scan_value_sse42(const char *p, const char *end)
{
	if (end - p < 16)
		return sip_scan_find3(p, end, ',', '"', '<');
	return sip_scan_set_sse42(p, end, _mm_setr_epi8(',', '"', '<', 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 3);
}

SIP_SCAN_ALIGNED_LOADS
static const char *
sip_scan_quoted_sse42(const char *p, const char *end)
{
	if (end - p < 16)
		return sip_scan_find3(p, end, '"', '\\', '\\');
	return sip_scan_set_sse42(p, end, _mm_setr_epi8('"', '\\', 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 2);
}

/*
 * PCMPESTRI takes at most 8 byte ranges; token needs 9 ("0-9", "A-Z",
 * "_-z" (which is '_', '`' and a-z), "*-+", "--.", "!", "%", "'" and "~").
 * The rare '~' is left out of the vector ranges and stepped over here.
 */
#define SIP_SCAN_TOKEN_MODE \
	(_SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_NEGATIVE_POLARITY | \
	 _SIDD_LEAST_SIGNIFICANT)

SIP_SCAN_ALIGNED_LOADS
static const char *
sip_scan_token_sse42(const char *p, const char *end)
{
	const __m128i ranges = _mm_setr_epi8('0', '9', 'A', 'Z', '_', 'z',
		'*', '+', '-', '.', '!', '!', '%', '%', '\'', '\'');
	__m128i v;
	int i;

	while (end - p >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		i = _mm_cmpestri(ranges, 16, v, 16, SIP_SCAN_TOKEN_MODE);
		if (i == 16) {
			p += 16;
		} else if (p[i] == '~') {
			p += i + 1;
		} else {
			return p + i;
		}
	}
	return sip_scan_cspan_sse42(p, end, &sip_cset[SIP_CSET_TOKEN]);
}

/*
 * sip_host_end() and sip_host_check() for a hostname or IPv4 address of
 * fewer than 64 bytes, from bit masks of one pass: the host ends at the
 * first byte outside alphanum / "-" / "."; the label rules of RFC 3261
 * §25.1 hostname are then pairwise tests of the '.' and '-' masks. IPv6
 * references and longer hosts take the scalar path; a top label that
 * starts with a digit is an IPv4 address or nothing valid.
 */
SIP_SCAN_ALIGNED_LOADS
static int
sip_scan_host_sse42(const char *p, const char *end, const char **hend)
{
	const __m128i lo = _mm_load_si128(
		(const __m128i *)(const void *)sip_cset[SIP_CSET_HOST].lo);
	const __m128i dot = _mm_set1_epi8('.'), dash = _mm_set1_epi8('-');
	const __m128i *b;
	uint64_t nh = 0, d = 0, h = 0, m, dd, hh;
	unsigned int k, off, n, e, last;
	uintptr_t lim;
	__m128i v;

	if (p >= end || *p == '[')
		return sip_scan_host_scalar(p, end, hend);
	b = sip_scan_block(p);
	off = (unsigned int)((uintptr_t)p & 15);
	for (k = 0; k < 4 && (const char *)(b + k) < end; k++) {
		v = _mm_load_si128(b + k);
		nh |= (uint64_t)sip_scan_nonmember(v, lo) << (16 * k);
		d |= (uint64_t)(uint32_t)_mm_movemask_epi8(
			_mm_cmpeq_epi8(v, dot)) << (16 * k);
		h |= (uint64_t)(uint32_t)_mm_movemask_epi8(
			_mm_cmpeq_epi8(v, dash)) << (16 * k);
		if ((nh >> off) != 0)
			break;
	}
	nh >>= off;
	d >>= off;
	h >>= off;
	/*
	 * The four blocks hold 64 - off bytes from p: a host that ends, with
	 * the input, past them was not all seen (its last bytes would pass
	 * as members with no '.' or '-'): the scalar path.
	 */
	lim = (uintptr_t)(end - p);
	if (lim < 64 - off)
		nh |= ~0ull << lim;
	if (nh == 0)
		return sip_scan_host_scalar(p, end, hend);
	n = (unsigned int)__builtin_ctzll(nh);
	*hend = p + n;
	if (n == 0)
		return -EINVAL;

	/* hostname = *( domainlabel "." ) toplabel [ "." ] */
	e = (d >> (n - 1)) & 1 ? n - 1 : n;
	if (e == 0)
		return -EINVAL;
	m = (1ull << e) - 1;
	dd = d & m;
	hh = h & m;
	if ((((dd | hh) & 1) | (dd & (dd >> 1)) | (hh & (dd >> 1)) |
	     (dd & (hh >> 1)) | (((dd | hh) >> (e - 1)) & 1)) != 0)
		return -EINVAL;
	last = dd != 0 ? 64u - (unsigned int)__builtin_clzll(dd) : 0;
	if (sip_cc_is((unsigned char)p[last], SIP_CC_ALPHA))
		return SIP_HOST_NAME;
	/* A top label that starts with a digit: IPv4address or nothing. */
	return e == n && sip_ip4_dots_ok(p, n, dd) ? SIP_HOST_IPV4 : -EINVAL;
}

/*
 * All URI masks from one load per block: the three class lookups share the
 * high-nibble lookup (PSHUFB ignores bits 4-6 of the index and gives 0 for
 * bytes >= 0x80, so the low nibble needs no masking), the delimiters are
 * one compare each. n <= 48, so every block of [p, p + n) lands in one
 * 64-bit mask at a constant shift from the aligned base, and one shift by
 * the offset of p aligns them.
 */
SIP_SCAN_ALIGNED_LOADS
static void
sip_scan_umask_sse42(const char *p, uint32_t n, struct sip_umask *m)
{
	const __m128i lu = _mm_load_si128(
		(const __m128i *)(const void *)sip_cset[SIP_CSET_USER].lo);
	const __m128i lh = _mm_load_si128(
		(const __m128i *)(const void *)sip_cset[SIP_CSET_HOST].lo);
	const __m128i lp = _mm_load_si128(
		(const __m128i *)(const void *)sip_cset[SIP_CSET_PARAM].lo);
	const __m128i hi = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)0x80,
					 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i nib = _mm_set1_epi8(0x0f), z = _mm_setzero_si128();
	const __m128i semi = _mm_set1_epi8(';'), eq = _mm_set1_epi8('=');
	const __m128i dot = _mm_set1_epi8('.'), dash = _mm_set1_epi8('-');
	const __m128i gt = _mm_set1_epi8('>');
	const __m128i *b = sip_scan_block(p);
	unsigned int off = (unsigned int)((uintptr_t)p & 15);
	unsigned int nb = (off + n + 15) / 16;
	uint64_t nu = 0, nh = 0, np = 0, se = 0, dt = 0, da = 0, g = 0, valid;

#define SIP_UMASK_MM(x) ((uint64_t)(uint32_t)_mm_movemask_epi8(x))
#define SIP_UMASK_BLOCK(k) do {                                           \
		__m128i v = _mm_load_si128(b + (k)), h;                   \
									  \
		h = _mm_shuffle_epi8(hi, _mm_and_si128(                   \
			_mm_srli_epi16(v, 4), nib));                      \
		nu |= SIP_UMASK_MM(_mm_cmpeq_epi8(_mm_and_si128(          \
			_mm_shuffle_epi8(lu, v), h), z)) << (16 * (k));   \
		nh |= SIP_UMASK_MM(_mm_cmpeq_epi8(_mm_and_si128(          \
			_mm_shuffle_epi8(lh, v), h), z)) << (16 * (k));   \
		np |= SIP_UMASK_MM(_mm_cmpeq_epi8(_mm_and_si128(          \
			_mm_shuffle_epi8(lp, v), h), z)) << (16 * (k));   \
		se |= SIP_UMASK_MM(_mm_or_si128(_mm_cmpeq_epi8(v, semi),  \
			_mm_cmpeq_epi8(v, eq))) << (16 * (k));            \
		dt |= SIP_UMASK_MM(_mm_cmpeq_epi8(v, dot)) << (16 * (k)); \
		da |= SIP_UMASK_MM(_mm_cmpeq_epi8(v, dash)) << (16 * (k)); \
		g |= SIP_UMASK_MM(_mm_cmpeq_epi8(v, gt)) << (16 * (k));   \
	} while (0)

	if (n == 0) {
		*m = (struct sip_umask){ .nuser = 0 };
		return;
	}
	SIP_UMASK_BLOCK(0);
	if (nb > 1)
		SIP_UMASK_BLOCK(1);
	if (nb > 2)
		SIP_UMASK_BLOCK(2);
	if (nb > 3)
		SIP_UMASK_BLOCK(3);
#undef SIP_UMASK_BLOCK
#undef SIP_UMASK_MM
	valid = (1ull << n) - 1;
	m->nuser = (nu >> off) & valid;
	m->nhost = (nh >> off) & valid;
	m->nparam = (np >> off) & valid;
	m->sep = (se >> off) & valid;
	m->dot = (dt >> off) & valid;
	m->dash = (da >> off) & valid;
	m->gt = (g >> off) & valid;
}

#define SIP_SCAN_SSE42_FNS \
	.lf = sip_scan_lf_sse42, .value = sip_scan_value_sse42, \
	.quoted = sip_scan_quoted_sse42, .token = sip_scan_token_sse42, \
	.cspan = sip_scan_cspan_sse42, .host = sip_scan_host_sse42, \
	.umask = sip_scan_umask_sse42

static const struct sip_scan_ops sip_scan_sse42_ops = {
	SIP_SCAN_SSE42_FNS,
	.name = "sse4.2",
	.impl = SIP_SCAN_SSE42,
};

/* The same scans; sip_parse() frames headers with its AVX2 pass. */
static const struct sip_scan_ops sip_scan_avx2_ops = {
	SIP_SCAN_SSE42_FNS,
	.name = "avx2",
	.impl = SIP_SCAN_AVX2,
};

static int
sip_scan_cpu_has_sse42(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.2");
}

static int
sip_scan_cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.2") &&
	       __builtin_cpu_supports("avx2") &&
	       __builtin_cpu_supports("bmi");
}

static const struct sip_scan_ops *
sip_scan_sse42_table(void)
{
	return &sip_scan_sse42_ops;
}

static const struct sip_scan_ops *
sip_scan_avx2_table(void)
{
	sip_parse_avx2_init();
	return &sip_scan_avx2_ops;
}

#else /* !SIP_SCAN_HAVE_SSE42 */

static int
sip_scan_cpu_has_sse42(void)
{
	return 0;
}

static int
sip_scan_cpu_has_avx2(void)
{
	return 0;
}

static const struct sip_scan_ops *
sip_scan_sse42_table(void)
{
	return NULL;
}

static const struct sip_scan_ops *
sip_scan_avx2_table(void)
{
	return NULL;
}

#endif /* SIP_SCAN_HAVE_SSE42 */

/* ---- selection --------------------------------------------------------- */

/* Written before main() (and by sip_scan_select() in tests); read-only after. */
const struct sip_scan_ops *sip_scan_cur;

const struct sip_scan_ops *
sip_scan_ops_get(enum sip_scan_impl impl)
{
	switch (impl) {
	case SIP_SCAN_SCALAR:
		return &sip_scan_scalar_ops;
	case SIP_SCAN_SSE42:
		return sip_scan_cpu_has_sse42() ? sip_scan_sse42_table() : NULL;
	case SIP_SCAN_AVX2:
		return sip_scan_cpu_has_avx2() ? sip_scan_avx2_table() : NULL;
	case SIP_SCAN_AUTO:
	default:
		if (sip_scan_cpu_has_avx2())
			return sip_scan_avx2_table();
		return sip_scan_cpu_has_sse42() ? sip_scan_sse42_table() :
						  &sip_scan_scalar_ops;
	}
}

int
sip_scan_select(enum sip_scan_impl impl)
{
	const struct sip_scan_ops *ops = sip_scan_ops_get(impl);

	if (ops == NULL)
		return -ENOTSUP;
	__atomic_store_n(&sip_scan_cur, ops, __ATOMIC_RELAXED);
	return 0;
}

__attribute__((constructor))
static void
sip_scan_init(void)
{
	__atomic_store_n(&sip_scan_cur, sip_scan_ops_get(SIP_SCAN_AUTO),
			 __ATOMIC_RELAXED);
}

const struct sip_scan_ops *
sip_scan_ops(void)
{
	const struct sip_scan_ops *ops;

	ops = __atomic_load_n(&sip_scan_cur, __ATOMIC_RELAXED);
	/* Only when called from another constructor that ran before ours. */
	if (unlikely(ops == NULL)) {
		ops = sip_scan_ops_get(SIP_SCAN_AUTO);
		__atomic_store_n(&sip_scan_cur, ops, __ATOMIC_RELAXED);
	}
	return ops;
}
