/* SPDX-License-Identifier: MIT */
/*
 * dp_acl.c - source address lists and per-source rate limit (dp_acl.h).
 *
 * HOT PATH (dataplane/HOTPATH.md): called by workers for every request
 * once the acl.* or ratelimit.* settings are set; nothing here allocates,
 * locks or logs.
 */
#include <string.h>

#include <compiler.h>
#include <hash.h>

#include "dp_acl.h"

/*
 * Is @p x in one of the @p n ranges [lo[i], hi[i]]? A branch-free binary
 * search for the last lo <= x (the compiler makes each step a compare
 * and a conditional move), then one compare with its hi. One function
 * per address width.
 */
#define DP_ACL_IN(name, T)                                                  \
static inline bool                                                          \
name(const T *lo, const T *hi, uint32_t n, T x)                             \
{                                                                           \
	const T *b = lo;                                                    \
									    \
	if (n == 0)                                                         \
		return false;                                               \
	while (n > 1) {                                                     \
		uint32_t h = n / 2;                                         \
									    \
		b = b[h] <= x ? b + h : b;                                  \
		n -= h;                                                     \
	}                                                                   \
	return *b <= x && x <= hi[b - lo];                                  \
}

DP_ACL_IN(dp_acl_in4, uint32_t)
DP_ACL_IN(dp_acl_in6, unsigned __int128)

static inline bool
dp_acl_has(const struct dp_acl_list *l, int family, const uint8_t *addr)
{
	if (family == 4)
		return dp_acl_in4(l->lo4, l->hi4, l->n4, dp_acl_addr4(addr));
	return dp_acl_in6(l->lo6, l->hi6, l->n6, dp_acl_addr6(addr));
}

int
dp_acl_refused(const struct dp_acl *acl, int family, const uint8_t *addr)
{
	if (unlikely(acl->refuse_all))
		return acl->acl_action;
	if (acl->ndeny != 0 && dp_acl_has(&acl->deny, family, addr))
		return acl->acl_action;
	if (acl->nallow != 0 && !dp_acl_has(&acl->allow, family, addr))
		return acl->acl_action;
	return -1;
}

bool
dp_rl_accept(struct dp_rl *rl, const struct dp_acl *acl, int family,
	     const uint8_t *addr, uint64_t now)
{
	struct dp_rl_entry *set, *e, *victim;
	uint64_t k0, k1, tat;
	uint32_t w;

	if (family == 4) {
		uint32_t v4;

		/* The bytes of ::ffff:a.b.c.d, as an IPv6 source's key. */
		memcpy(&v4, addr, 4);
		k0 = 0;
		k1 = (uint64_t)v4 << 32 | 0xffff0000ull;
	} else {
		/* The source's prefix (ratelimit.ipv6_prefix): a client
		 * holding a /64 is one source, however it rotates. */
		memcpy(&k0, addr, 8);
		memcpy(&k1, addr + 8, 8);
		k0 &= acl->rl_mask6[0];
		k1 &= acl->rl_mask6[1];
	}
	set = &rl->e[(hash_mix64(k0 ^ hash_mix64(k1 ^ rl->seed)) & rl->mask) *
		     DP_RL_WAYS];
	victim = set;
	for (w = 0; w < DP_RL_WAYS; w++) {
		e = &set[w];
		if (e->tat != 0 && e->k0 == k0 && e->k1 == k1)
			goto found;
		if (e->tat < victim->tat)
			victim = e;
	}
	/* A new source: it starts with a full bucket. */
	if (victim->tat > now)      /* read by the stats report */
		__atomic_store_n(&rl->evicted, rl->evicted + 1,
				 __ATOMIC_RELAXED);
	e = victim;
	e->k0 = k0;
	e->k1 = k1;
	e->tat = now;
found:
	tat = e->tat > now ? e->tat : now;
	/* A debt run up under an older, looser policy is no deeper than
	 * this policy allows (its change takes effect at once). */
	if (tat - now > acl->rl_tolerance + acl->rl_interval)
		tat = now + acl->rl_tolerance + acl->rl_interval;
	if (tat - now > acl->rl_tolerance) {
		e->tat = tat;
		return false;
	}
	e->tat = tat + acl->rl_interval;
	return true;
}
