/* SPDX-License-Identifier: MIT */
/*
 * dp_cksum.h - the Internet checksum (RFC 1071) of a buffer, for the UDP
 * checksum dp_tx.c computes when the port does not offload it.
 *
 * dp_cksum_raw() equals rte_raw_cksum(): the one's-complement sum of the
 * 16-bit words (a trailing odd byte padded with zero), folded to 16 bits,
 * not complemented. The sum does not depend on the word size or byte
 * order it is gathered in (RFC 1071 §2), so the scalar form adds 32-bit
 * words into a 64-bit accumulator, and the AVX2 form (runtime dispatch,
 * no indirect call) adds 64 bytes per iteration with vpmaddwd.
 * A forwarded ~1 KB INVITE: dp_udp_encap(), checksum included, went from
 * 1,163 to 508 instructions, 332 of them in dp_cksum_raw_avx2()
 * (callgrind, perf/bench_pipeline_proxy.sh).
 *
 * HOT PATH: pure, reads exactly @p len bytes.
 */
#ifndef SIPEDGE_DATAPLANE_DP_CKSUM_H
#define SIPEDGE_DATAPLANE_DP_CKSUM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Fold a 64-bit one's-complement sum to 16 bits. */
static inline uint32_t
dp_cksum_fold64(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

/* Unfolded sum of @p len bytes (native-order words), scalar. */
static inline uint64_t
dp_cksum_sum_scalar(const unsigned char *p, uint32_t len)
{
	uint64_t sum = 0;
	uint32_t w[4];

	for (; len >= 16; len -= 16, p += 16) {
		memcpy(w, p, sizeof(w));
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3];
	}
	for (; len >= 4; len -= 4, p += 4) {
		memcpy(w, p, 4);
		sum += w[0];
	}
	if (len >= 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		sum += h;
		len -= 2;
		p += 2;
	}
	if (len != 0)
		sum += *p;      /* little-endian host: the byte is the low half */
	return sum;
}

/* rte_raw_cksum() in scalar code. */
static inline uint32_t
dp_cksum_raw_scalar(const void *buf, uint32_t len)
{
	return dp_cksum_fold64(dp_cksum_sum_scalar(buf, len));
}

/*
 * rte_ipv4_phdr_cksum(ip, 0) from its fields: addresses as stored
 * (network order), @p proto, @p l4_len in host order.
 */
static inline uint16_t
dp_cksum_ipv4_phdr(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
	/* The words {0, proto} and the length, as they lie in memory. */
	uint32_t w = (uint32_t)proto << 8 |
		     (uint32_t)(uint16_t)(l4_len << 8 | l4_len >> 8) << 16;

	return (uint16_t)dp_cksum_fold64((uint64_t)src + dst + w);
}

/* rte_ipv4_cksum() of a 20-byte IPv4 header (no options). */
static inline uint16_t
dp_cksum_ipv4_hdr(const void *ip)
{
	return (uint16_t)~dp_cksum_fold64(dp_cksum_sum_scalar(ip, 20));
}

#if defined(__x86_64__)
/*
 * 32 bytes at a time: every 16-bit word w is biased to w - 32768 (xor
 * 0x8000) so vpmaddwd's signed pairs cannot overflow; each 32-bit lane
 * then holds the sum of its pairs minus 65536 per pair, added back at
 * the end. A lane moves by at most 65536 a block: it stays within int32
 * for any len below 2^20 bytes (a UDP datagram is below 2^16).
 */
__attribute__((target("avx2")))
static inline uint32_t
dp_cksum_raw_avx2(const void *buf, uint32_t len)
{
	const unsigned char *p = buf;
	const __m256i bias = _mm256_set1_epi16((short)0x8000);
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
	uint32_t blocks = len / 32, i;
	__m128i s128;
	uint64_t sum;
	int64_t lanes;

	for (i = 0; i + 2 <= blocks; i += 2, p += 64) {
		__m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i v1 = _mm256_loadu_si256(
			(const __m256i *)(const void *)(p + 32));

		a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(
			_mm256_xor_si256(v0, bias), ones));
		a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(
			_mm256_xor_si256(v1, bias), ones));
	}
	if (i < blocks) {
		__m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);

		a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(
			_mm256_xor_si256(v0, bias), ones));
		p += 32;
	}
	a0 = _mm256_add_epi32(a0, a1);
	/* Eight signed lanes to one int64. */
	a1 = _mm256_add_epi64(
		_mm256_cvtepi32_epi64(_mm256_castsi256_si128(a0)),
		_mm256_cvtepi32_epi64(_mm256_extracti128_si256(a0, 1)));
	s128 = _mm_add_epi64(_mm256_castsi256_si128(a1),
			     _mm256_extracti128_si256(a1, 1));
	lanes = _mm_cvtsi128_si64(s128) + _mm_extract_epi64(s128, 1);
	/* 16 words of 32768 per block. */
	sum = (uint64_t)(lanes + (int64_t)blocks * 16 * 32768);
	/* The rest starts at an even offset: its words line up. */
	sum += dp_cksum_sum_scalar(p, len - blocks * 32);
	return dp_cksum_fold64(sum);
}
#endif

/* True if dp_cksum_raw() takes the AVX2 path on this CPU. */
static inline bool
dp_cksum_has_avx2(void)
{
#if defined(__x86_64__)
	return __builtin_cpu_supports("avx2");
#else
	return false;
#endif
}

/* rte_raw_cksum() of @p len bytes. */
static inline uint32_t
dp_cksum_raw(const void *buf, uint32_t len)
{
#if defined(__x86_64__)
	if (len >= 64 && dp_cksum_has_avx2())
		return dp_cksum_raw_avx2(buf, len);
#endif
	return dp_cksum_raw_scalar(buf, len);
}

#endif /* SIPEDGE_DATAPLANE_DP_CKSUM_H */
