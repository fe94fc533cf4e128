/* SPDX-License-Identifier: MIT */
/*
 * hash.h - keyed and unkeyed hashes shared by the dataplane and control.
 *
 * siphash24() is SipHash-2-4 (Aumasson and Bernstein): a keyed PRF, used
 * where the output leaves the box and must not be forgeable or predictable
 * (Via branches, loop-detection parts, To-tags). hash_mix64() is the
 * splitmix64 finaliser, used to combine an already-keyed hash with a small
 * integer (rendezvous hashing of targets).
 *
 * Both are pure, allocation-free and hot-path safe. Endianness: input bytes
 * are read little-endian, so results are the same on every host.
 */
#ifndef SIPEDGE_COMMON_HASH_H
#define SIPEDGE_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_key {
	uint64_t         k0;
	uint64_t         k1;
};

static inline uint64_t
hash_rotl64(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
hash_load_le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

struct hash_sip_state {
	uint64_t         v0, v1, v2, v3;
};

static inline void
hash_sip_round(struct hash_sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = hash_rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = hash_rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = hash_rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = hash_rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = hash_rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = hash_rotl64(s->v2, 32);
}

/**
 * SipHash-2-4 of @p len bytes at @p data under @p key.
 *
 * Context: any thread, hot-path safe. Reads exactly @p len bytes.
 */
static inline uint64_t
siphash24(const struct hash_key *key, const void *data, size_t len)
{
	const unsigned char *p = data;
	const unsigned char *end = p + (len & ~(size_t)7);
	struct hash_sip_state s;
	uint64_t m, b = (uint64_t)len << 56;
	size_t left = len & 7;

	s.v0 = key->k0 ^ 0x736f6d6570736575ULL;
	s.v1 = key->k1 ^ 0x646f72616e646f6dULL;
	s.v2 = key->k0 ^ 0x6c7967656e657261ULL;
	s.v3 = key->k1 ^ 0x7465646279746573ULL;

	for (; p != end; p += 8) {
		m = hash_load_le64(p);
		s.v3 ^= m;
		hash_sip_round(&s);
		hash_sip_round(&s);
		s.v0 ^= m;
	}
	while (left > 0) {
		left--;
		b |= (uint64_t)p[left] << (8 * left);
	}
	s.v3 ^= b;
	hash_sip_round(&s);
	hash_sip_round(&s);
	s.v0 ^= b;
	s.v2 ^= 0xff;
	hash_sip_round(&s);
	hash_sip_round(&s);
	hash_sip_round(&s);
	hash_sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* splitmix64 finaliser: a bijective 64-bit mix with full avalanche. */
static inline uint64_t
hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#endif /* SIPEDGE_COMMON_HASH_H */
