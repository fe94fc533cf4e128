/* SPDX-License-Identifier: MIT */
/*
 * sip_scan.c - delimiter scans with a vector and a scalar implementation.
 *
 * Hot path. The vector scans compare 16 bytes at a time: single bytes with
 * SSE2 PCMPEQB/PMOVMSKB (cheaper than PCMPESTRI for one byte), byte sets
 * with SSE4.2 PCMPESTRI in "equal any" mode, which handles NUL bytes in the
 * data (PCMPISTRI would stop at them). No load ever crosses @end: the last
 * block is loaded so that it ends exactly at @end, overlapping bytes already
 * known not to match, and ranges shorter than 16 bytes use the scalar scan.
 * The implementation is chosen once, from CPUID, before main() runs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <compiler.h>

#include "sip_scan.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SIP_SCAN_HAVE_SSE42     1
#else
#define SIP_SCAN_HAVE_SSE42     0
#endif

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

static const struct sip_scan_ops sip_scan_scalar_ops = {
	.lf = sip_scan_lf_scalar,
	.value = sip_scan_value_scalar,
	.quoted = sip_scan_quoted_scalar,
	.token = sip_scan_token_scalar,
	.name = "scalar",
};

/* ---- SSE2 / SSE4.2 ----------------------------------------------------- */

#if SIP_SCAN_HAVE_SSE42

#define SIP_SCAN_SET_MODE \
	(_SIDD_UBYTE_OPS | _SIDD_CMP_EQUAL_ANY | _SIDD_LEAST_SIGNIFICANT)

__attribute__((target("sse4.2")))
static const char *
sip_scan_lf_sse42(const char *p, const char *end)
{
	const __m128i nl = _mm_set1_epi8('\n');
	unsigned int m;

	if (end - p < 16)
		return sip_scan_lf_scalar(p, end);
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
__attribute__((target("sse4.2")))
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

__attribute__((target("sse4.2")))
static const char *
sip_scan_value_sse42(const char *p, const char *end)
{
	if (end - p < 16)
		return sip_scan_value_scalar(p, end);
	return sip_scan_set_sse42(p, end, _mm_setr_epi8(',', '"', '<', 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 3);
}

__attribute__((target("sse4.2")))
static const char *
sip_scan_quoted_sse42(const char *p, const char *end)
{
	if (end - p < 16)
		return sip_scan_quoted_scalar(p, end);
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

__attribute__((target("sse4.2")))
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
	return sip_scan_token_scalar(p, end);
}

static const struct sip_scan_ops sip_scan_sse42_ops = {
	.lf = sip_scan_lf_sse42,
	.value = sip_scan_value_sse42,
	.quoted = sip_scan_quoted_sse42,
	.token = sip_scan_token_sse42,
	.name = "sse4.2",
};

static int
sip_scan_cpu_has_sse42(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("sse4.2");
}

static const struct sip_scan_ops *
sip_scan_sse42_table(void)
{
	return &sip_scan_sse42_ops;
}

#else /* !SIP_SCAN_HAVE_SSE42 */

static int
sip_scan_cpu_has_sse42(void)
{
	return 0;
}

static const struct sip_scan_ops *
sip_scan_sse42_table(void)
{
	return NULL;
}

#endif /* SIP_SCAN_HAVE_SSE42 */

/* ---- selection --------------------------------------------------------- */

/* Written before main() (and by sip_scan_select() in tests); read-only after. */
static const struct sip_scan_ops *sip_scan_cur;

const struct sip_scan_ops *
sip_scan_ops_get(enum sip_scan_impl impl)
{
	switch (impl) {
	case SIP_SCAN_SCALAR:
		return &sip_scan_scalar_ops;
	case SIP_SCAN_SSE42:
		return sip_scan_cpu_has_sse42() ? sip_scan_sse42_table() : NULL;
	case SIP_SCAN_AUTO:
	default:
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
