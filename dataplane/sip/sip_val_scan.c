/* SPDX-License-Identifier: MIT */
/*
 * sip_val_scan.c - the bit masks of a short URI (struct sip_umask) and
 * the qdtext run of a quoted-string with AVX2, for the value parsers of
 * sip_uri_priv.h.
 *
 * Hot path. Two 32-byte loads cover a URI of up to 48 bytes, against
 * three or four 16-byte blocks for the SSE4.2 scan of sip_scan.c; each
 * class is one PSHUFB nibble lookup of the sip_cset[] tables. When the 64
 * bytes from the URI lie in its first byte's page, the two loads start at
 * the URI (no shifts); else they are the aligned 32-byte blocks holding
 * [p, p + n) (up to three), as an aligned block never crosses a page.
 * Either way no load can fault, and the bytes around the URI are masked
 * off. The qdtext scan reads aligned 32-byte blocks only. Where AVX2 is
 * missing (or a test asks), the scan table's umask (sip_scan.c) and a
 * table run are used instead; the unit tests compare each pair, flush
 * against a guard page and at every offset. About 135 instructions for
 * the seven masks of a 44-byte URI (120 for six, before the '>' mask that
 * ends a name-addr's <URI>), against 210 with SSE4.2 (callgrind).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <compiler.h>

#include "sip.h"
#include "sip_scan.h"
#include "sip_uri_priv.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define SIP_VAL_HAVE_AVX2       1
#else
#define SIP_VAL_HAVE_AVX2       0
#endif

bool sip_val_avx2;

#if SIP_VAL_HAVE_AVX2

/* The seven class masks of one 32-byte block, bit i for byte i. */
struct sip_val_blk {
	uint32_t         nu, nh, np, se, dt, da, gt;
};

__attribute__((target("avx2"), no_sanitize_address))
static inline void
sip_val_block(const void *b, struct sip_val_blk *o)
{
	const __m256i lu = _mm256_broadcastsi128_si256(_mm_load_si128(
		(const __m128i *)(const void *)sip_cset[SIP_CSET_USER].lo));
	const __m256i lh = _mm256_broadcastsi128_si256(_mm_load_si128(
		(const __m128i *)(const void *)sip_cset[SIP_CSET_HOST].lo));
	const __m256i lp = _mm256_broadcastsi128_si256(_mm_load_si128(
		(const __m128i *)(const void *)sip_cset[SIP_CSET_PARAM].lo));
	const __m256i hi = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)0x80,
					    0, 0, 0, 0, 0, 0, 0, 0,
					    1, 2, 4, 8, 16, 32, 64, (char)0x80,
					    0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i v = _mm256_loadu_si256((const __m256i *)b);
	const __m256i z = _mm256_setzero_si256();
	const __m256i h = _mm256_shuffle_epi8(hi, _mm256_and_si256(
		_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f)));

	o->nu = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
		_mm256_and_si256(_mm256_shuffle_epi8(lu, v), h), z));
	o->nh = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
		_mm256_and_si256(_mm256_shuffle_epi8(lh, v), h), z));
	o->np = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
		_mm256_and_si256(_mm256_shuffle_epi8(lp, v), h), z));
	o->se = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(
		_mm256_cmpeq_epi8(v, _mm256_set1_epi8(';')),
		_mm256_cmpeq_epi8(v, _mm256_set1_epi8('='))));
	o->dt = (uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(v, _mm256_set1_epi8('.')));
	o->da = (uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(v, _mm256_set1_epi8('-')));
	o->gt = (uint32_t)_mm256_movemask_epi8(
		_mm256_cmpeq_epi8(v, _mm256_set1_epi8('>')));
}

#define SIP_VAL_JOIN(f) \
	(((uint64_t)x[0].f | (uint64_t)x[1].f << 32) >> off | \
	 (uint64_t)x[2].f << 32 << (32 - off))

__attribute__((target("avx2"), no_sanitize_address))
void
sip_val_umask_avx2(const char *p, uint32_t n, struct sip_umask *m)
{
	const __m256i *b = (const __m256i *)(uintptr_t)((uintptr_t)p &
							~(uintptr_t)31);
	unsigned int off = (unsigned int)((uintptr_t)p & 31);
	uint64_t valid = (1ull << n) - 1;       /* n <= SIP_UMASK_MAX */
	struct sip_val_blk x[3];

	if (n == 0) {
		*m = (struct sip_umask){ .nuser = 0 };
		return;
	}
	/*
	 * Two loads from p when the 64 bytes from p are in p's page (no
	 * fault possible, no shifts); else only the aligned blocks that hold
	 * bytes of [p, p + n), none of which crosses a page.
	 */
	if (((uintptr_t)p & 4095) <= 4096 - 64) {
		struct sip_val_blk a, c;

		sip_val_block(p, &a);
		sip_val_block(p + 32, &c);
		m->nuser = ((uint64_t)a.nu | (uint64_t)c.nu << 32) & valid;
		m->nhost = ((uint64_t)a.nh | (uint64_t)c.nh << 32) & valid;
		m->nparam = ((uint64_t)a.np | (uint64_t)c.np << 32) & valid;
		m->sep = ((uint64_t)a.se | (uint64_t)c.se << 32) & valid;
		m->dot = ((uint64_t)a.dt | (uint64_t)c.dt << 32) & valid;
		m->dash = ((uint64_t)a.da | (uint64_t)c.da << 32) & valid;
		m->gt = ((uint64_t)a.gt | (uint64_t)c.gt << 32) & valid;
		return;
	}
	x[1] = x[2] = (struct sip_val_blk){ .nu = 0 };
	sip_val_block(b, &x[0]);
	if (off + n > 32)
		sip_val_block(b + 1, &x[1]);
	if (off + n > 64)
		sip_val_block(b + 2, &x[2]);
	m->nuser = SIP_VAL_JOIN(nu) & valid;
	m->nhost = SIP_VAL_JOIN(nh) & valid;
	m->nparam = SIP_VAL_JOIN(np) & valid;
	m->sep = SIP_VAL_JOIN(se) & valid;
	m->dot = SIP_VAL_JOIN(dt) & valid;
	m->dash = SIP_VAL_JOIN(da) & valid;
	m->gt = SIP_VAL_JOIN(gt) & valid;
}
#undef SIP_VAL_JOIN

/*
 * Bytes that are not qdtext, by nibbles: bit k of sip_val_nq_hi[c >> 4]
 * and of sip_val_nq_lo[c & 15] both set. 1: 0x00-0x0f but HT LF CR;
 * 2: 0x10-0x1f; 4: '"'; 8: '\\'; 16: DEL. High bytes (UTF-8) are in no
 * row, so one PSHUFB per nibble classifies 32 bytes.
 */
static const uint8_t sip_val_nq_lo[16] __attribute__((aligned(16))) = {
	[0x0] = 1 | 2, [0x1] = 1 | 2, [0x2] = 1 | 2 | 4, [0x3] = 1 | 2,
	[0x4] = 1 | 2, [0x5] = 1 | 2, [0x6] = 1 | 2, [0x7] = 1 | 2,
	[0x8] = 1 | 2, [0x9] = 2, [0xa] = 2, [0xb] = 1 | 2,
	[0xc] = 1 | 2 | 8, [0xd] = 2, [0xe] = 1 | 2, [0xf] = 1 | 2 | 16,
};
static const uint8_t sip_val_nq_hi[16] __attribute__((aligned(16))) = {
	[0x0] = 1, [0x1] = 2, [0x2] = 4, [0x5] = 8, [0x7] = 16,
};

/*
 * First byte of [p, end) that is not qdtext (sip_uri_priv.h SIP_CC_QTEXT:
 * '"', '\\', a control byte other than HT, LF and CR, or DEL), or end:
 * aligned 32-byte blocks, the bytes before p shifted off the first mask.
 */
__attribute__((target("avx2"), no_sanitize_address))
const char *
sip_val_qtext_avx2(const char *p, const char *end)
{
	const __m256i lo = _mm256_broadcastsi128_si256(_mm_load_si128(
		(const __m128i *)(const void *)sip_val_nq_lo));
	const __m256i hi = _mm256_broadcastsi128_si256(_mm_load_si128(
		(const __m128i *)(const void *)sip_val_nq_hi));
	const __m256i nib = _mm256_set1_epi8(0x0f);
	const __m256i *b;
	uint32_t m, off;
	__m256i v;

	if (p >= end)
		return end;
	b = (const __m256i *)(uintptr_t)((uintptr_t)p & ~(uintptr_t)31);
	off = (uint32_t)((uintptr_t)p & 31);
	for (;;) {
		v = _mm256_load_si256(b);
		m = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
			_mm256_and_si256(
				_mm256_shuffle_epi8(lo, _mm256_and_si256(v, nib)),
				_mm256_shuffle_epi8(hi, _mm256_and_si256(
					_mm256_srli_epi16(v, 4), nib))),
			_mm256_setzero_si256())) >> off << off;
		if (m != 0) {
			p = (const char *)b + __builtin_ctz(m);
			return p < end ? p : end;
		}
		b++;
		off = 0;
		if ((const char *)b >= end)
			return end;
	}
}

static bool
sip_val_cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

#else

void
sip_val_umask_avx2(const char *p, uint32_t n, struct sip_umask *m)
{
	sip_scan_ops_get(SIP_SCAN_SCALAR)->umask(p, n, m);
}

const char *
sip_val_qtext_avx2(const char *p, const char *end)
{
	return p + sip_cc_run(p, 0, (uint32_t)(end - p), SIP_CC_QTEXT);
}

static bool
sip_val_cpu_has_avx2(void)
{
	return false;
}

#endif /* SIP_VAL_HAVE_AVX2 */

int
sip_val_select(bool avx2)
{
	if (avx2 && !sip_val_cpu_has_avx2())
		return -ENOTSUP;
	sip_val_avx2 = avx2;
	return 0;
}

__attribute__((constructor))
static void
sip_val_init(void)
{
	sip_val_avx2 = sip_val_cpu_has_avx2();
}
