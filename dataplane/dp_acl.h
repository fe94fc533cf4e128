/* SPDX-License-Identifier: MIT */
/*
 * dp_acl.h - source address policy of DESIGN §3.2 step 2: the address
 * lists acl.allow / acl.deny and the per-source request rate limit
 * (settings, lmdb-schema/SCHEMA.md §3.6).
 *
 * Pure C, no DPDK: built by the snapshot loader (dp_acl_build.c, slow
 * path), read by workers (dp_acl.c, hot path), tested without an EAL.
 *
 * Lists are held as sorted, disjoint, merged address ranges, one array per
 * family, so a lookup is a binary search: about log2(ranges) steps.
 *
 * The rate limiter is per worker lcore (no sharing, no atomics): a
 * set-associative table of sources, each with the generic cell rate
 * algorithm's theoretical arrival time (TAT) in TSC ticks. A request is
 * accepted when TAT - now <= tolerance, and then TAT moves on by one
 * interval (1/rate). A source not in the table takes the way of its set
 * with the oldest TAT (an idle source first, whose bucket is full anyway).
 */
#ifndef SIPEDGE_DATAPLANE_DP_ACL_H
#define SIPEDGE_DATAPLANE_DP_ACL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <span.h>

/* What a refused request gets (= enum schema_refuse_action). */
#define DP_ACL_DROP             0       /* counted, no answer */
#define DP_ACL_403              1       /* 403 Forbidden */

/*
 * One list (acl.allow or acl.deny): sorted, disjoint address ranges
 * [lo[i], hi[i]] per family, each address as a number (host order), IPv4
 * in 32 bits so that its search compares words.
 */
struct dp_acl_list {
	uint32_t         n4;
	uint32_t         n6;
	uint32_t        *lo4;           /* [n4] */
	uint32_t        *hi4;
	unsigned __int128 *lo6;         /* [n6] */
	unsigned __int128 *hi6;
};

/* An address (network order) as the number the ranges hold. */
static inline uint32_t
dp_acl_addr4(const uint8_t *a)
{
	uint32_t w;

	memcpy(&w, a, 4);
	return __builtin_bswap32(w);
}

static inline unsigned __int128
dp_acl_addr6(const uint8_t *a)
{
	uint64_t hi, lo;

	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return (unsigned __int128)__builtin_bswap64(hi) << 64 |
	       __builtin_bswap64(lo);
}

/* The policy of one snapshot; all zero means "serve everyone". */
struct dp_acl {
	struct dp_acl_list allow;       /* empty: everyone not denied */
	struct dp_acl_list deny;
	uint32_t         nallow;        /* entries as configured */
	uint32_t         ndeny;
	uint8_t          acl_action;    /* DP_ACL_DROP or DP_ACL_403 */
	uint8_t          refuse_all;    /* the policy could not be read */
	uint8_t          rl_action;
	uint64_t         rl_rps;        /* 0: no rate limit */
	uint64_t         rl_burst;      /* as configured (0: = rps) */
	uint64_t         rl_interval;   /* TSC ticks per request */
	uint64_t         rl_tolerance;  /* TSC ticks a source may run ahead */
	uint64_t         rl_mask6[2];   /* IPv6 source bits that make the key
					 * (the address's bytes in memory
					 * order): ratelimit.ipv6_prefix */
	uint8_t          rl_prefix6;    /* as configured (1-128) */
};

/* The settings text of a policy, as the loader reads them. */
struct dp_acl_conf {
	struct span      allow;
	struct span      deny;
	struct span      acl_action;    /* empty: drop */
	struct span      rl_action;
	uint64_t         rl_rps;
	uint64_t         rl_burst;
	uint64_t         rl_prefix6;    /* 0: the default (64) */
};

/* One source in the rate limiter. */
struct dp_rl_entry {
	uint64_t         k0;            /* address bytes, IPv4 as ::ffff:a.b.c.d,
					 * IPv6 cut to ratelimit.ipv6_prefix */
	uint64_t         k1;
	uint64_t         tat;           /* 0: free */
};

#define DP_RL_WAYS              4u
#define DP_RL_SETS_DEFAULT      4096u   /* 16,384 sources per lcore */

struct dp_rl {
	struct dp_rl_entry *e;          /* [sets * DP_RL_WAYS] */
	uint32_t         mask;          /* sets - 1 */
	uint64_t         seed;          /* keys the set index */
	uint64_t         evicted;       /* active sources displaced */
};

/*
 * Build @p acl from @p conf for a TSC of @p hz ticks per second. 0, or
 * -EINVAL with @p err naming the setting and entry, or -ENOMEM. On
 * failure @p acl holds nothing to free.
 */
int dp_acl_build(struct dp_acl *acl, const struct dp_acl_conf *conf,
		 uint64_t hz, char *err, size_t errcap);
void dp_acl_free(struct dp_acl *acl);

/* @p sets a power of two; the table starts empty. 0 or -EINVAL/-ENOMEM. */
int dp_rl_init(struct dp_rl *rl, uint32_t sets, uint64_t seed);
void dp_rl_fini(struct dp_rl *rl);

/*
 * Hot path. Is a request from @p addr (4 bytes for @p family 4, 16 for 6,
 * network order) refused by the lists? -1 not refused, else the action
 * (DP_ACL_DROP or DP_ACL_403).
 */
int dp_acl_refused(const struct dp_acl *acl, int family, const uint8_t *addr);

/*
 * Hot path. Account one request from @p addr at TSC @p now: true when
 * within the rate. Only called when acl->rl_rps != 0.
 */
bool dp_rl_accept(struct dp_rl *rl, const struct dp_acl *acl, int family,
		  const uint8_t *addr, uint64_t now);

#endif /* SIPEDGE_DATAPLANE_DP_ACL_H */
