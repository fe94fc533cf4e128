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

/* Is @p x in one of the ranges? A binary search for the last lo <= x. */
static inline bool
dp_acl_in(const struct dp_acl_ranges *r, unsigned __int128 x)
{
	uint32_t a = 0, b = r->n;

	while (a < b) {
		uint32_t m = a + (b - a) / 2;

		if (r->lo[m] <= x)
			a = m + 1;
		else
			b = m;
	}
	return a != 0 && x <= r->hi[a - 1];
}

static inline bool
dp_acl_has(const struct dp_acl_list *l, int family, const uint8_t *addr)
{
	const struct dp_acl_ranges *r = family == 4 ? &l->v4 : &l->v6;
	unsigned __int128 x = 0;
	int i;

	if (r->n == 0)
		return false;
	for (i = 0; i < (family == 4 ? 4 : 16); i++)
		x = x << 8 | addr[i];
	return dp_acl_in(r, x);
}

int
dp_acl_refused(const struct dp_acl *acl, int family, const uint8_t *addr)
{
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

		memcpy(&v4, addr, 4);
		k0 = 0;
		k1 = 0xffff00000000ull | v4;
	} else {
		memcpy(&k0, addr, 8);
		memcpy(&k1, addr + 8, 8);
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
	if (victim->tat > now)
		rl->evicted++;
	e = victim;
	e->k0 = k0;
	e->k1 = k1;
	e->tat = now;
found:
	tat = e->tat > now ? e->tat : now;
	if (tat - now > acl->rl_tolerance)
		return false;
	e->tat = tat + acl->rl_interval;
	return true;
}
