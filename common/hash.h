/* SPDX-License-Identifier: MIT */
/*
 * hash.h - keyed and unkeyed hashes shared by the dataplane and control.
 *
 * siphash24() is SipHash-2-4 (Aumasson and Bernstein): a keyed PRF, used
 * where the output leaves the box and must not be forgeable or predictable.
 * The hash_sip13_*() stream is SipHash-1-3 (one compression round, three
 * finalisation rounds: the variant Rust's and Python's hash tables key
 * with a secret), still a keyed PRF for inputs an outsider chooses but
 * never sees hashed, fed from fields where they lie (Via branches,
 * loop-detection parts, To-tags); siphash13() is the same of one buffer.
 * hash_mix64() is the
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

/* The initial state under @p key (any SipHash variant). */
static inline void
hash_sip_init(struct hash_sip_state *s, const struct hash_key *key)
{
	s->v0 = key->k0 ^ 0x736f6d6570736575ULL;
	s->v1 = key->k1 ^ 0x646f72616e646f6dULL;
	s->v2 = key->k0 ^ 0x6c7967656e657261ULL;
	s->v3 = key->k1 ^ 0x7465646279746573ULL;
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

	hash_sip_init(&s, key);

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

/* ---- streaming SipHash-1-3 ---------------------------------------------- */

/*
 * Fields scattered over a message fed to one SipHash-1-3 stream cost one
 * finalisation instead of one per field. Whole 8-byte words are read from
 * the field where it lies; only the < 8 bytes left over between fields
 * are gathered in a word (tail). The result equals siphash13() of the
 * concatenation. The functions are inlined whole into each hash, so the
 * state stays in registers.
 */
#define HASH_SIP13_INLINE       static inline __attribute__((always_inline))

struct hash_sip13 {
	struct hash_sip_state s;
	uint64_t         tail;          /* ntail pending bytes, little-endian */
	uint32_t         ntail;
	uint32_t         total;
};

HASH_SIP13_INLINE void
hash_sip13_init(struct hash_sip13 *h, const struct hash_key *key)
{
	hash_sip_init(&h->s, key);
	h->tail = 0;
	h->ntail = 0;
	h->total = 0;
}

HASH_SIP13_INLINE void
hash_sip13_block(struct hash_sip13 *h, uint64_t m)
{
	h->s.v3 ^= m;
	hash_sip_round(&h->s);
	h->s.v0 ^= m;
}

/* Byte-wise little-endian loads: the compiler makes each one load. */
HASH_SIP13_INLINE uint64_t
hash_load_le32(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24;
}

/* @p len (0..7) bytes at @p p as a little-endian word; reads no further. */
HASH_SIP13_INLINE uint64_t
hash_load_partial(const unsigned char *p, uint32_t len)
{
	if (len >= 4)   /* two overlapping 4-byte reads */
		return hash_load_le32(p) |
		       hash_load_le32(p + len - 4) << (8 * (len - 4));
	if (len == 0)
		return 0;
	return (uint64_t)p[0] | (uint64_t)p[len >> 1] << (8 * (len >> 1)) |
	       (uint64_t)p[len - 1] << (8 * (len - 1));
}

/* Append the low @p n (1..8) bytes of @p v. */
HASH_SIP13_INLINE void
hash_sip13_word(struct hash_sip13 *h, uint64_t v, uint32_t n)
{
	uint32_t t = h->ntail;

	h->total += n;
	h->tail |= t != 0 ? v << (8 * t) : v;
	if (t + n < 8) {
		h->ntail = t + n;
		return;
	}
	hash_sip13_block(h, h->tail);
	h->ntail = t + n - 8;
	h->tail = t != 0 ? v >> (8 * (8 - t)) : 0;
}

/* Append @p len bytes at @p data. */
HASH_SIP13_INLINE void
hash_sip13_update(struct hash_sip13 *h, const void *data, uint32_t len)
{
	const unsigned char *p = data;
	uint32_t t = h->ntail, k;

	if (t != 0) {
		k = 8 - t;
		if (k > len)
			k = len;
		hash_sip13_word(h, hash_load_partial(p, k), k);
		p += k;
		len -= k;
	}
	/* Here the tail is empty unless len is 0. */
	h->total += len & ~7u;
	for (; len >= 8; p += 8, len -= 8)
		hash_sip13_block(h, hash_load_le64(p));
	if (len != 0)
		hash_sip13_word(h, hash_load_partial(p, len), len);
}

HASH_SIP13_INLINE void
hash_sip13_u32(struct hash_sip13 *h, uint32_t v)
{
	hash_sip13_word(h, v, 4);
}

HASH_SIP13_INLINE uint64_t
hash_sip13_final(struct hash_sip13 *h)
{
	hash_sip13_block(h, (uint64_t)h->total << 56 | h->tail);
	h->s.v2 ^= 0xff;
	hash_sip_round(&h->s);
	hash_sip_round(&h->s);
	hash_sip_round(&h->s);
	return h->s.v0 ^ h->s.v1 ^ h->s.v2 ^ h->s.v3;
}

/**
 * SipHash-1-3 of @p len bytes at @p data under @p key.
 *
 * Context: any thread, hot-path safe. Reads exactly @p len bytes.
 */
static inline uint64_t
siphash13(const struct hash_key *key, const void *data, uint32_t len)
{
	struct hash_sip13 h;

	hash_sip13_init(&h, key);
	hash_sip13_update(&h, data, len);
	return hash_sip13_final(&h);
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
