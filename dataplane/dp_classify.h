/* SPDX-License-Identifier: MIT */
/*
 * dp_classify.h - small static inline helpers for the per-packet stages:
 * address and port membership, prefix matching, the neighbour hash, the
 * hex fields of our Via branches (proxy and probes).
 *
 * HOT PATH (dataplane/HOTPATH.md). Also included by slow files that must
 * agree with the workers (the neighbour table uses the same hash).
 */
#ifndef SIPEDGE_DATAPLANE_DP_CLASSIFY_H
#define SIPEDGE_DATAPLANE_DP_CLASSIFY_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rules.h>

#include "dp_cksum.h"
#include "dp_types.h"

/* IPv6 neighbour discovery (RFC 4861 §4.3, §4.4, §4.6.1). */
#define DP_ND_NS                135
#define DP_ND_NA                136
#define DP_ND_OPT_SLLA          1
#define DP_ND_OPT_TLLA          2
#define DP_ND_FLAG_S            0x40
#define DP_ND_FLAG_O            0x20

/*
 * RFC 4861 §7.1.1, §7.1.2: every option of the NS or NA at @p ic
 * (@p plen bytes) has a length above zero and ends inside the message.
 * @p slla is set when a source link-layer address option is among them.
 */
static inline bool
dp_nd_opts_ok(const uint8_t *ic, uint32_t plen, bool *slla)
{
	uint32_t off, len;

	*slla = false;
	for (off = 24; off < plen; off += len) {
		if (plen - off < 2)
			return false;
		len = (uint32_t)ic[off + 1] * 8;
		if (len == 0 || len > plen - off)
			return false;
		if (ic[off] == DP_ND_OPT_SLLA)
			*slla = true;
	}
	return true;
}

/* Is @p v6 the unspecified address :: ? */
static inline bool
dp_ip6_unspec(const uint8_t *v6)
{
	static const uint8_t unspec[16];

	return memcmp(v6, unspec, 16) == 0;
}

/* Is @p v6 the loopback address ::1? */
static inline bool
dp_ip6_loopback(const uint8_t *v6)
{
	static const uint8_t lo[16] = { [15] = 1 };

	return memcmp(v6, lo, 16) == 0;
}

/* Is @p v6 an IPv4-mapped address, ::ffff:0:0/96? */
static inline bool
dp_ip6_v4mapped(const uint8_t *v6)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(v6, pfx, 12) == 0;
}

/* Is @p v6 the all-nodes multicast address ff02::1? */
static inline bool
dp_is_all_nodes6(const uint8_t *v6)
{
	static const uint8_t all[16] = { 0xff, 0x02, [15] = 0x01 };

	return memcmp(v6, all, 16) == 0;
}

/* Does @p ip fall inside @p p (same family, first p->len bits equal)? */
static inline bool
dp_prefix_has(const struct dp_prefix *p, const struct dp_ip *ip)
{
	const uint8_t *a, *b;
	unsigned int full, rest;

	if (p->ip.family != ip->family)
		return false;
	if (ip->family == DP_AF_V4) {
		uint32_t mask = p->len == 0 ? 0 :
			~UINT32_C(0) << (32 - p->len);

		return ((rte_be_to_cpu_32(p->ip.v4) ^
			 rte_be_to_cpu_32(ip->v4)) & mask) == 0;
	}
	a = p->ip.v6;
	b = ip->v6;
	full = p->len / 8u;
	rest = p->len % 8u;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

static inline bool
dp_ip_eq(const struct dp_ip *a, const struct dp_ip *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == DP_AF_V4)
		return a->v4 == b->v4;
	return memcmp(a->v6, b->v6, 16) == 0;
}

/* Is @p v4 (network order) one of our --addr? */
static inline bool
dp_is_local4(const struct dp_conf *conf, rte_be32_t v4)
{
	unsigned int i;

	for (i = 0; i < conf->naddr4; i++) {
		if (conf->addr4[i].ip.v4 == v4)
			return true;
	}
	return false;
}

/* Is @p v6 one of our --addr? */
static inline bool
dp_is_local6(const struct dp_conf *conf, const uint8_t *v6)
{
	unsigned int i;

	for (i = 0; i < conf->naddr6; i++) {
		if (memcmp(conf->addr6[i].ip.v6, v6, 16) == 0)
			return true;
	}
	return false;
}

/*
 * Does @p v4 (network order) name a host other than us, as a source to
 * answer or a destination to send to (RFC 1122 §3.2.1.3)? Not 0/8 ("this
 * network"), loopback, multicast, reserved, 255.255.255.255, nor the
 * network or broadcast address of a prefix of ours (/30 and shorter),
 * nor one of our addresses.
 */
static inline bool
dp_ip4_other_host(const struct dp_conf *conf, rte_be32_t v4)
{
	uint32_t a = rte_be_to_cpu_32(v4), mask;
	unsigned int i;

	if ((a >> 24) == 0 || (a >> 24) == 127 || a >= 0xe0000000u)
		return false;
	for (i = 0; i < conf->naddr4; i++) {
		const struct dp_prefix *p = &conf->addr4[i];

		if (p->ip.v4 == v4)
			return false;
		if (p->len == 0 || p->len > 30)
			continue;
		mask = ~UINT32_C(0) << (32 - p->len);
		if (((a ^ rte_be_to_cpu_32(p->ip.v4)) & mask) == 0 &&
		    ((a & ~mask) == 0 || (a & ~mask) == ~mask))
			return false;
	}
	return true;
}

/*
 * Does @p v6 name a host other than us: not multicast (RFC 4291 §2.7),
 * ::, ::1, an IPv4-mapped address (never on the wire, RFC 4942 §2.1.4),
 * nor one of our addresses?
 */
static inline bool
dp_ip6_other_host(const struct dp_conf *conf, const uint8_t *v6)
{
	return v6[0] != 0xff && !dp_ip6_unspec(v6) && !dp_ip6_loopback(v6) &&
	       !dp_ip6_v4mapped(v6) && !dp_is_local6(conf, v6);
}

/* dp_ip4_other_host() or dp_ip6_other_host() by @p ip's family: an
 * address the router may send a datagram to. */
static inline bool
dp_ip_other_host(const struct dp_conf *conf, const struct dp_ip *ip)
{
	if (ip->family == DP_AF_V4)
		return dp_ip4_other_host(conf, ip->v4);
	return ip->family == DP_AF_V6 && dp_ip6_other_host(conf, ip->v6);
}

/* Is @p v6 the solicited-node multicast group of one of our addresses
 * (ff02::1:ffXX:XXXX, RFC 4291 §2.7.1)? */
static inline bool
dp_is_solicited6(const struct dp_conf *conf, const uint8_t *v6)
{
	static const uint8_t sn[13] = {
		0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	unsigned int i;

	if (memcmp(v6, sn, sizeof(sn)) != 0)
		return false;
	for (i = 0; i < conf->naddr6; i++) {
		if (memcmp(conf->addr6[i].ip.v6 + 13, v6 + 13, 3) == 0)
			return true;
	}
	return false;
}

/* Is @p port (host order) one of the SIP ports? */
static inline bool
dp_is_sip_port(const struct dp_conf *conf, uint16_t port)
{
	unsigned int i;

	for (i = 0; i < conf->nsip_port; i++) {
		if (conf->sip_port[i] == port)
			return true;
	}
	return false;
}

/* Source address for @p dst: the --addr whose prefix holds it, else the
 * first one of the family. */
static inline int
dp_src_select(const struct dp_conf *conf, const struct dp_ip *dst,
	      struct dp_ip *src)
{
	const struct dp_prefix *p;
	unsigned int i, n;

	p = dst->family == DP_AF_V4 ? conf->addr4 : conf->addr6;
	n = dst->family == DP_AF_V4 ? conf->naddr4 : conf->naddr6;
	if (n == 0)
		return -EADDRNOTAVAIL;
	for (i = 0; i < n; i++) {
		if (dp_prefix_has(&p[i], dst)) {
			*src = p[i].ip;
			return 0;
		}
	}
	*src = p[0].ip;
	return 0;
}

/* Bucket hash of the neighbour table; shared by workers and the service. */
static inline uint32_t
dp_neigh_hash(const struct dp_ip *ip)
{
	if (ip->family == DP_AF_V4)
		return rte_hash_crc_4byte(ip->v4, DP_AF_V4);
	return rte_hash_crc(ip->v6, 16, DP_AF_V6);
}

/* Bytes of the key as stored in struct dp_neigh_entry.ip. */
static inline unsigned int
dp_ip_len(const struct dp_ip *ip)
{
	return ip->family == DP_AF_V4 ? 4u : 16u;
}

static inline const uint8_t *
dp_ip_bytes(const struct dp_ip *ip)
{
	return ip->family == DP_AF_V4 ? (const uint8_t *)&ip->v4 : ip->v6;
}

static inline uint16_t
dp_cksum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Internet checksum of an upper-layer message of @p len contiguous bytes
 * over IPv4 or IPv6, pseudo-header included, as it goes into the header
 * (complemented; the caller zeroes the field first). The same sum over a
 * message that carries its checksum is 0 when the checksum is right.
 */
static inline uint16_t
dp_l4_cksum4(const struct rte_ipv4_hdr *ip, const void *l4, uint32_t len)
{
	uint32_t sum = dp_cksum_raw(l4, len);

	sum += rte_ipv4_phdr_cksum(ip, 0);
	return (uint16_t)~dp_cksum_fold(sum);
}

/*
 * The upper-layer checksum check over @p len bytes at @p l4, with the
 * pseudo-header's length @p len (RFC 8200 §8.1: the upper-layer packet
 * length, a UDP datagram's own length when the payload has padding
 * after it), not the IPv6 payload length.
 */
static inline uint16_t
dp_l4_cksum6(const struct rte_ipv6_hdr *ip, const void *l4, uint32_t len)
{
	const uint8_t tail[8] = {
		(uint8_t)(len >> 24), (uint8_t)(len >> 16),
		(uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, ip->proto,
	};
	uint32_t sum = dp_cksum_raw(l4, len);

	sum += dp_cksum_raw(ip->src_addr, 32);
	sum += dp_cksum_raw(tail, sizeof(tail));
	return (uint16_t)~dp_cksum_fold(sum);
}

/* Store a 16-bit field at any alignment (ICMPv6 checksum in place). */
static inline void
dp_put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* @p ip from the network-order bytes at @p addr: IPv4 when @p fam is 4
 * (sip_host_to_ip(), enum rules_af), else IPv6. */
static inline void
dp_ip_set(struct dp_ip *ip, const uint8_t *addr, int fam)
{
	memset(ip, 0, sizeof(*ip));
	if (fam == 4) {
		ip->family = DP_AF_V4;
		memcpy(&ip->v4, addr, 4);
	} else {
		ip->family = DP_AF_V6;
		memcpy(ip->v6, addr, 16);
	}
}

/*
 * Does the address at @p a (4 bytes when @p af is 4, as sip_host_to_ip()
 * gives it, else 16) name us in a URI: one of --addr's, or an --alias (a
 * NAT's public address, a load balancer's VIP)?
 */
static inline bool
dp_conf_ip_is_ours(const struct dp_conf *c, const uint8_t *a, int af)
{
	struct dp_ip ip;
	uint8_t i;

	dp_ip_set(&ip, a, af);
	if (af == 4 ? dp_is_local4(c, ip.v4) : dp_is_local6(c, ip.v6))
		return true;
	for (i = 0; i < c->nalias; i++) {
		if (dp_ip_eq(&c->alias[i], &ip))
			return true;
	}
	return false;
}

/*
 * 8 lower-case hex digits (p[0] most significant) to *v; false if any is
 * not one. SWAR: for bytes below 0x80, adding 0x80 - k sets a byte's top
 * bit exactly when it is >= k, without carries between bytes.
 */
static inline bool
dp_hex8(const char *p, uint32_t *v)
{
	const uint64_t hi = 0x8080808080808080ULL, lo = 0x0101010101010101ULL;
	uint64_t x, dig, let, y;

	memcpy(&x, p, 8);       /* little-endian: p[0] in the low byte */
	if ((x & hi) != 0)
		return false;
	dig = (x + 0x50 * lo) & ~(x + 0x46 * lo) & hi;   /* '0'..'9' */
	let = (x + 0x1f * lo) & ~(x + 0x19 * lo) & hi;   /* 'a'..'f' */
	if ((dig | let) != hi)
		return false;
	y = (x & 0x0f * lo) + (let >> 7) * 9;
	y = __builtin_bswap64(y);
	y = (y | y >> 4) & 0x00ff00ff00ff00ffULL;
	y = (y | y >> 8) & 0x0000ffff0000ffffULL;
	y = (y | y >> 16) & 0x00000000ffffffffULL;
	*v = (uint32_t)y;
	return true;
}

/*
 * The match key of a request's Request-URI (rules_key_make()). A user
 * part too long for a key holds no number any rule could (patterns are
 * shorter): the key is then made of the host alone, so that domain and
 * default rules still apply. 0, or the code to answer when there is no
 * key: 400 for a bad %-escape, 414 for a host too long for one.
 */
static inline uint16_t
dp_key_make(const struct sip_info *info, struct rules_key *key)
{
	int rc = rules_key_make(info->ruri.user, info->ruri.host, key);

	if (unlikely(rc == -ENAMETOOLONG))
		rc = rules_key_make(SPAN_NULL, info->ruri.host, key);
	if (likely(rc == 0))
		return 0;
	return rc == -ENAMETOOLONG ? 414 : 400;
}

#endif /* SIPEDGE_DATAPLANE_DP_CLASSIFY_H */
