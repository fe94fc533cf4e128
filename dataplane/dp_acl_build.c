/* SPDX-License-Identifier: MIT */
/*
 * dp_acl_build.c - the source address policy built from its settings, and
 * the per-lcore rate limiter table (dp_acl.h).
 *
 * SLOW PATH: the snapshot loader and lcore setup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <schema.h>

#include "dp_acl.h"

_Static_assert(DP_ACL_DROP == SCHEMA_REFUSE_DROP &&
	       DP_ACL_403 == SCHEMA_REFUSE_403, "refuse actions");

struct dp_acl_range {
	unsigned __int128 lo;
	unsigned __int128 hi;
};

static int
dp_acl_range_cmp(const void *a, const void *b)
{
	const struct dp_acl_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge @p r[0..n) (overlapping or adjacent); the count left. */
static uint32_t
dp_acl_merge(struct dp_acl_range *r, uint32_t n)
{
	uint32_t i, o = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), dp_acl_range_cmp);
	for (i = 1; i < n; i++) {
		if (r[i].lo <= r[o].hi ||
		    (r[o].hi != ~(unsigned __int128)0 && r[i].lo == r[o].hi + 1)) {
			if (r[i].hi > r[o].hi)
				r[o].hi = r[i].hi;
		} else {
			r[++o] = r[i];
		}
	}
	return o + 1;
}

/* @p r[0..n) of @p family sorted and merged into @p l's arrays. */
static int
dp_acl_ranges_set(struct dp_acl_list *l, int family, struct dp_acl_range *r,
		  uint32_t n)
{
	uint32_t i;

	n = dp_acl_merge(r, n);
	if (family == 4) {
		l->lo4 = calloc(n + 1, sizeof(*l->lo4));
		l->hi4 = calloc(n + 1, sizeof(*l->hi4));
		if (l->lo4 == NULL || l->hi4 == NULL)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			l->lo4[i] = (uint32_t)r[i].lo;
			l->hi4[i] = (uint32_t)r[i].hi;
		}
		l->n4 = n;
		return 0;
	}
	l->lo6 = calloc(n + 1, sizeof(*l->lo6));
	l->hi6 = calloc(n + 1, sizeof(*l->hi6));
	if (l->lo6 == NULL || l->hi6 == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		l->lo6[i] = r[i].lo;
		l->hi6[i] = r[i].hi;
	}
	l->n6 = n;
	return 0;
}

static void
dp_acl_list_free(struct dp_acl_list *l)
{
	free(l->lo4);
	free(l->hi4);
	free(l->lo6);
	free(l->hi6);
	memset(l, 0, sizeof(*l));
}

/* One list from its text; @p name for messages. */
static int
dp_acl_list_build(struct dp_acl_list *l, uint32_t *count, struct span text,
		  const char *name, char *err, size_t errcap)
{
	struct schema_cidr *c = NULL;
	struct dp_acl_range *r4 = NULL, *r6 = NULL;
	char why[160];
	uint32_t i, n4 = 0, n6 = 0;
	int n, rc = -ENOMEM;

	memset(l, 0, sizeof(*l));
	*count = 0;
	n = schema_cidr_list_parse(text, NULL, 0, why, sizeof(why));
	if (n < 0) {
		snprintf(err, errcap, "%s: %s", name, why);
		return -EINVAL;
	}
	if (n == 0)
		return 0;
	c = calloc((size_t)n, sizeof(*c));
	r4 = calloc((size_t)n, sizeof(*r4));
	r6 = calloc((size_t)n, sizeof(*r6));
	if (c == NULL || r4 == NULL || r6 == NULL)
		goto out;
	n = schema_cidr_list_parse(text, c, (uint32_t)n, why, sizeof(why));
	for (i = 0; i < (uint32_t)n; i++) {
		unsigned int bits = c[i].family == 4 ? 32 : 128;
		unsigned int host = bits - c[i].len;
		unsigned __int128 a = c[i].family == 4 ?
			dp_acl_addr4(c[i].addr) : dp_acl_addr6(c[i].addr);
		unsigned __int128 span = host == 128 ? ~(unsigned __int128)0 :
			(((unsigned __int128)1 << host) - 1);
		struct dp_acl_range *r = c[i].family == 4 ? &r4[n4++] :
							    &r6[n6++];

		r->lo = a;
		r->hi = a | span;
	}
	rc = dp_acl_ranges_set(l, 4, r4, n4);
	if (rc == 0)
		rc = dp_acl_ranges_set(l, 6, r6, n6);
	if (rc == 0)
		*count = (uint32_t)n;
out:
	if (rc != 0) {
		dp_acl_list_free(l);
		snprintf(err, errcap, "%s: out of memory", name);
	}
	free(c);
	free(r4);
	free(r6);
	return rc;
}

/* The definition of setting @p name (lmdb-schema), which exists. */
static const struct schema_setting_def *
dp_acl_def(const char *name)
{
	return schema_setting_find(span_make(name, (uint32_t)strlen(name)));
}

/*
 * An action setting (acl.action, ratelimit.action): empty is the default,
 * drop; any other value must pass the setting's own check, whose message
 * (the one config set gives) is the error.
 */
static int
dp_acl_action(uint8_t *out, struct span s, const char *name, char *err,
	      size_t errcap)
{
	char why[160];

	*out = SCHEMA_REFUSE_DROP;
	if (s.len == 0)
		return 0;
	if (dp_acl_def(name)->check(s, why, sizeof(why)) != 0) {
		snprintf(err, errcap, "%s: %s", name, why);
		return -EINVAL;
	}
	*out = (uint8_t)schema_refuse_action_parse(s);
	return 0;
}

int
dp_acl_build(struct dp_acl *acl, const struct dp_acl_conf *conf,
	     uint64_t hz, char *err, size_t errcap)
{
	uint64_t burst;
	int rc;

	memset(acl, 0, sizeof(*acl));
	if (errcap != 0)
		err[0] = '\0';
	rc = dp_acl_action(&acl->acl_action, conf->acl_action, "acl.action",
			   err, errcap);
	if (rc == 0)
		rc = dp_acl_action(&acl->rl_action, conf->rl_action,
				   "ratelimit.action", err, errcap);
	if (rc == 0)
		rc = dp_acl_list_build(&acl->allow, &acl->nallow, conf->allow,
				       "acl.allow", err, errcap);
	if (rc == 0)
		rc = dp_acl_list_build(&acl->deny, &acl->ndeny, conf->deny,
				       "acl.deny", err, errcap);
	if (rc != 0) {
		dp_acl_free(acl);
		return rc;
	}
	if (conf->rl_rps != 0) {
		const struct schema_setting_def *dr =
			dp_acl_def("ratelimit.rps");
		const struct schema_setting_def *db =
			dp_acl_def("ratelimit.burst");
		const struct schema_setting_def *dp =
			dp_acl_def("ratelimit.ipv6_prefix");
		uint64_t plen = conf->rl_prefix6 != 0 ? conf->rl_prefix6 :
							dp->def;
		uint8_t m[16];
		uint32_t b;

		if (hz == 0) {
			dp_acl_free(acl);
			snprintf(err, errcap, "ratelimit: no timer frequency");
			return -EINVAL;
		}
		if (conf->rl_rps > dr->max || conf->rl_burst > db->max) {
			dp_acl_free(acl);
			snprintf(err, errcap, "%s %llu out of range (at most %llu)",
				 conf->rl_rps > dr->max ? dr->name : db->name,
				 (unsigned long long)(conf->rl_rps > dr->max ?
						      conf->rl_rps :
						      conf->rl_burst),
				 (unsigned long long)(conf->rl_rps > dr->max ?
						      dr->max : db->max));
			return -EINVAL;
		}
		if (plen > dp->max) {
			dp_acl_free(acl);
			snprintf(err, errcap, "%s %llu out of range (%llu-%llu)",
				 dp->name, (unsigned long long)plen,
				 (unsigned long long)dp->min,
				 (unsigned long long)dp->max);
			return -EINVAL;
		}
		/* The first plen bits of an address, in memory order. */
		memset(m, 0, sizeof(m));
		for (b = 0; b < plen; b++)
			m[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		memcpy(acl->rl_mask6, m, sizeof(m));
		acl->rl_prefix6 = (uint8_t)plen;
		burst = conf->rl_burst != 0 ? conf->rl_burst : conf->rl_rps;
		acl->rl_rps = conf->rl_rps;
		acl->rl_burst = conf->rl_burst;
		acl->rl_interval = hz / conf->rl_rps;
		if (acl->rl_interval == 0)
			acl->rl_interval = 1;
		acl->rl_tolerance = (burst - 1) * acl->rl_interval;
	}
	return 0;
}

void
dp_acl_free(struct dp_acl *acl)
{
	dp_acl_list_free(&acl->allow);
	dp_acl_list_free(&acl->deny);
	memset(acl, 0, sizeof(*acl));
}

int
dp_rl_init(struct dp_rl *rl, uint32_t sets, uint64_t seed)
{
	memset(rl, 0, sizeof(*rl));
	if (sets == 0 || (sets & (sets - 1)) != 0)
		return -EINVAL;
	rl->e = calloc((size_t)sets * DP_RL_WAYS, sizeof(*rl->e));
	if (rl->e == NULL)
		return -ENOMEM;
	rl->mask = sets - 1;
	rl->seed = seed;
	return 0;
}

void
dp_rl_fini(struct dp_rl *rl)
{
	free(rl->e);
	memset(rl, 0, sizeof(*rl));
}
