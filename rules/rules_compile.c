/* SPDX-License-Identifier: MIT */
/*
 * rules_compile.c - rule set -> one self-contained, pointer-free image:
 * rule table in precedence order, deduplicated targets and target lists,
 * string pool, digit trie, domain hash table and a serialised Hyperscan
 * database (layout in rules_priv.h and README.md). Slow path.
 *
 * Rule numbers are positions in the DESIGN.md 4.1 total order (rank, kind,
 * longer prefix first, id). Every tie-break is static, so the matcher only
 * has to find the lowest rule number among the rules that match.
 */
#define _GNU_SOURCE             /* qsort_r: no globals, compiles may overlap */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include <hash.h>

#include "rules_priv.h"

struct rules_ord {
	uint64_t         k1;            /* rank, kind, prefix length */
	uint64_t         k2;            /* first 8 id bytes, big-endian */
	uint32_t         idx;           /* rule in the set */
};

/* A literal for the trie: digits, then ':' (END) for exact rules. */
struct rules_lit {
	uint32_t         off;           /* in the literal buffer */
	uint32_t         len;
	uint32_t         rule;
};

struct rules_cc {
	const struct rules_set  *set;
	struct rules_errors     *errs;
	rules_resolve_fn        *resolve;       /* NULL: names refused */
	void                    *resolve_arg;
	/* The last name resolved (names are stored once per set). */
	const char              *last_name;
	struct rules_addr        last_addrs[RULES_NAME_ADDRS_MAX];
	int                      last_n;        /* count or -errno */
	char                     last_why[RULES_ERROR_MSG_MAX];
	bool                     unresolved;    /* a name failed: -EINVAL */
	struct rules_ord        *ord;
	uint32_t                 n;
	/* sections under construction */
	struct rules_irule      *rules;
	struct rules_itarget    *targets;
	uint32_t                 ntargets;
	uint32_t                 targets_cap;
	uint32_t                *tgt_ht;        /* target hash -> index + 1 */
	uint32_t                 tgt_mask;
	unsigned char           *tlists;
	size_t                   tlists_len;
	size_t                   tlists_cap;
	uint32_t                *tl_ht;         /* tlist hash -> off + 1 */
	uint32_t                 tl_mask;
	unsigned char           *strings;
	size_t                   strings_len;
	size_t                   strings_cap;
	struct rules_inode      *nodes;
	uint32_t                 nnodes;
	uint32_t                 nodes_cap;
	uint32_t                *dir;
	uint32_t                 dir_digits;
	uint32_t                 dir_len;       /* entries */
	uint32_t                *dom_slots;
	uint32_t                 dom_nslots;
	unsigned char           *dom;
	size_t                   dom_len;
	size_t                   dom_cap;
	char                    *hs_bytes;
	size_t                   hs_len;
	uint32_t                 best_default;
	uint32_t                 min_regex;
	uint32_t                 min_domain;
	uint32_t                 counts[RULES_KIND__COUNT];
};

static int
rules_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap != 0 ? *cap : 1024;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * elem);
	if (q == NULL)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Order                                                              */

static int
rules_ord_cmp(const void *a, const void *b)
{
	const struct rules_ord *x = a, *y = b;

	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	if (x->k2 != y->k2)
		return x->k2 < y->k2 ? -1 : 1;
	return 0;
}

/* Full id comparison for runs that tie on the first 8 bytes. */
static int
rules_ord_cmp_full(const void *a, const void *b, void *arg)
{
	const struct rules_set *set = arg;
	const struct rules_ord *x = a, *y = b;
	const struct rules_srule *rx = &set->rule[x->idx];
	const struct rules_srule *ry = &set->rule[y->idx];
	uint32_t n = rx->id_len < ry->id_len ? rx->id_len : ry->id_len;
	int c;

	c = memcmp(set->str + rx->str_off, set->str + ry->str_off, n);
	if (c != 0)
		return c;
	return (int)rx->id_len - (int)ry->id_len;
}

static int
rules_cc_order(struct rules_cc *cc)
{
	const struct rules_set *set = cc->set;
	uint32_t i, j;

	cc->ord = malloc((size_t)cc->n * sizeof(*cc->ord) + 1);
	if (cc->ord == NULL)
		return -ENOMEM;
	for (i = 0; i < cc->n; i++) {
		const struct rules_srule *r = &set->rule[i];
		const unsigned char *id = (const unsigned char *)set->str +
					  r->str_off;
		uint64_t plen = 0, k2 = 0;

		if (r->kind == RULES_KIND_PREFIX)
			plen = r->pat_len -
			       (set->str[r->str_off + r->id_len] == '+');
		for (j = 0; j < 8; j++)
			k2 = k2 << 8 | (j < r->id_len ? id[j] : 0);
		cc->ord[i].k1 = (uint64_t)r->rank << 32 |
				(uint64_t)r->kind << 16 | (0xffff - plen);
		cc->ord[i].k2 = k2;
		cc->ord[i].idx = i;
	}
	qsort(cc->ord, cc->n, sizeof(*cc->ord), rules_ord_cmp);
	/* Ids longer than 8 bytes that share their first 8: finish by id. */
	for (i = 0; i < cc->n; i = j) {
		for (j = i + 1; j < cc->n && cc->ord[j].k1 == cc->ord[i].k1 &&
		     cc->ord[j].k2 == cc->ord[i].k2; j++)
			;
		if (j - i > 1)
			qsort_r(cc->ord + i, j - i, sizeof(*cc->ord),
				rules_ord_cmp_full, (void *)set);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Targets and target lists                                           */

static uint64_t
rules_target_ident(const struct rules_target *t)
{
	unsigned char b[19];

	b[0] = t->af;
	b[1] = (unsigned char)(t->port >> 8);
	b[2] = (unsigned char)t->port;
	memcpy(b + 3, t->addr, 16);
	return rules_hash_bytes(b, sizeof(b));
}

static int
rules_cc_target(struct rules_cc *cc, const struct rules_target *t,
		uint32_t *out)
{
	uint64_t id = rules_target_ident(t);
	uint32_t i = (uint32_t)id & cc->tgt_mask, v;
	struct rules_itarget *it;
	size_t cap;
	int rc;

	while ((v = cc->tgt_ht[i]) != 0) {
		it = &cc->targets[v - 1];
		if (it->ident == id && it->af == t->af &&
		    it->port == t->port &&
		    memcmp(it->addr, t->addr, 16) == 0) {
			*out = v - 1;
			return 0;
		}
		i = (i + 1) & cc->tgt_mask;
	}
	if ((cc->ntargets + 1) * 2 > cc->tgt_mask + 1) {
		uint32_t *nt, mask = cc->tgt_mask * 2 + 1, k;

		nt = calloc((size_t)mask + 1, sizeof(*nt));
		if (nt == NULL)
			return -ENOMEM;
		for (k = 0; k < cc->ntargets; k++) {
			uint32_t s = (uint32_t)cc->targets[k].ident & mask;

			while (nt[s] != 0)
				s = (s + 1) & mask;
			nt[s] = k + 1;
		}
		free(cc->tgt_ht);
		cc->tgt_ht = nt;
		cc->tgt_mask = mask;
		i = (uint32_t)id & mask;
		while (cc->tgt_ht[i] != 0)
			i = (i + 1) & mask;
	}
	cap = cc->targets_cap;
	rc = rules_grow((void **)&cc->targets, &cap, cc->ntargets + 1,
			sizeof(*cc->targets));
	if (rc != 0)
		return rc;
	cc->targets_cap = (uint32_t)cap;
	it = &cc->targets[cc->ntargets];
	memset(it, 0, sizeof(*it));
	it->af = t->af;
	it->port = t->port;
	it->ident = id;
	memcpy(it->addr, t->addr, 16);
	cc->tgt_ht[i] = ++cc->ntargets;
	*out = cc->ntargets - 1;
	return 0;
}

static int
rules_ient_cmp(const void *a, const void *b)
{
	const struct rules_ient *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->target < y->target ? -1 : x->target > y->target;
}

/*
 * The addresses of name target @p t: cc->last_addrs / cc->last_n (a count,
 * or -errno with cc->last_why). Consecutive rules naming the same host
 * ask the resolver once.
 */
static void
rules_cc_resolve(struct rules_cc *cc, const struct rules_target *t)
{
	if (cc->last_name == t->name)
		return;
	cc->last_name = t->name;
	cc->last_why[0] = '\0';
	if (cc->resolve == NULL) {
		cc->last_n = -EINVAL;
		snprintf(cc->last_why, sizeof(cc->last_why),
			 "host names are resolved by the control process");
		return;
	}
	cc->last_n = cc->resolve(cc->resolve_arg,
				 span_make(t->name, t->name_len),
				 cc->last_addrs, RULES_NAME_ADDRS_MAX,
				 cc->last_why, sizeof(cc->last_why));
	if (cc->last_n == 0 || cc->last_n > RULES_NAME_ADDRS_MAX)
		cc->last_n = -ENOENT;
}

/*
 * Add target @p t (an IP literal) to the list @p ent of @p *n entries,
 * unless the list reaches it already. -E2BIG when the list is full.
 */
static int
rules_cc_ient_add(struct rules_cc *cc, const struct rules_target *t,
		  struct rules_ient *ent, uint32_t *n)
{
	uint32_t k, idx;
	int rc;

	rc = rules_cc_target(cc, t, &idx);
	if (rc != 0)
		return rc;
	for (k = 0; k < *n; k++) {
		if (ent[k].target != idx)
			continue;
		/* Listed twice: the better tier wins. */
		if (t->priority < ent[k].priority) {
			ent[k].priority = t->priority;
			ent[k].weight = t->weight;
		}
		return 0;
	}
	if (*n == RULES_TARGETS_MAX)
		return -E2BIG;
	ent[*n].target = idx;
	ent[*n].priority = t->priority;
	ent[*n].weight = t->weight;
	(*n)++;
	return 0;
}

/*
 * The target list of rule @p r with names resolved, in @p ent.
 * 0; -EINVAL after reporting a name that does not resolve or a list that
 * grows too long; -ENOMEM.
 */
static int
rules_cc_tlist_ents(struct rules_cc *cc, const struct rules_srule *r,
		    struct rules_ient *ent, uint32_t *n)
{
	struct rules_target lit;
	uint32_t i;
	int k, rc = 0;

	*n = 0;
	for (i = 0; i < r->ntargets && rc == 0; i++) {
		const struct rules_target *t = &cc->set->tgt[r->tgt_off + i];

		if (t->af != RULES_AF_NAME) {
			rc = rules_cc_ient_add(cc, t, ent, n);
			continue;
		}
		rules_cc_resolve(cc, t);
		if (cc->last_n < 0) {
			/* Named by id: a stored rule has no line (0). */
			if (cc->errs != NULL)
				rules_errors_add(cc->errs, r->line,
						 RULES_FIELD_TARGETS,
						 "rule '%.*s': target %u '%.*s:%u': host name does not resolve%s%s",
						 (int)r->id_len,
						 cc->set->str + r->str_off,
						 i + 1, (int)t->name_len,
						 t->name, t->port,
						 cc->last_why[0] != '\0' ?
						 ": " : "", cc->last_why);
			return -EINVAL;
		}
		lit = *t;
		lit.name = NULL;
		lit.name_len = 0;
		for (k = 0; k < cc->last_n && rc == 0; k++) {
			lit.af = cc->last_addrs[k].af;
			memcpy(lit.addr, cc->last_addrs[k].addr, 16);
			rc = rules_cc_ient_add(cc, &lit, ent, n);
		}
	}
	if (rc == -E2BIG) {
		if (cc->errs != NULL)
			rules_errors_add(cc->errs, r->line, RULES_FIELD_TARGETS,
					 "rule '%.*s': the targets' host names resolve to more than %d addresses",
					 (int)r->id_len,
					 cc->set->str + r->str_off,
					 RULES_TARGETS_MAX);
		return -EINVAL;
	}
	return rc;
}

/* Store the target list of a rule once; *off is its offset in TLISTS. */
static int
rules_cc_tlist(struct rules_cc *cc, const struct rules_srule *r,
	       uint32_t *off)
{
	struct rules_ient ent[RULES_TARGETS_MAX];
	unsigned char rec[4 + sizeof(ent)];
	uint32_t n, h, v;
	size_t len;
	uint16_t n16;
	int rc;

	rc = rules_cc_tlist_ents(cc, r, ent, &n);
	if (rc != 0)
		return rc;
	len = 4 + n * sizeof(struct rules_ient);
	n16 = (uint16_t)n;
	qsort(ent, n, sizeof(ent[0]), rules_ient_cmp);
	memset(rec, 0, 4);
	memcpy(rec, &n16, 2);
	memcpy(rec + 4, ent, n * sizeof(ent[0]));

	h = (uint32_t)rules_hash_bytes(rec, len) & cc->tl_mask;
	while ((v = cc->tl_ht[h]) != 0) {
		/* the count first: a shorter list may end the buffer */
		if (memcmp(cc->tlists + v - 1, rec, 4) == 0 &&
		    memcmp(cc->tlists + v - 1, rec, len) == 0) {
			*off = v - 1;
			return 0;
		}
		h = (h + 1) & cc->tl_mask;
	}
	rc = rules_grow((void **)&cc->tlists, &cc->tlists_cap,
			cc->tlists_len + len, 1);
	if (rc != 0)
		return rc;
	if (cc->tlists_len + len >= UINT32_MAX)
		return -E2BIG;
	*off = (uint32_t)cc->tlists_len;
	memcpy(cc->tlists + cc->tlists_len, rec, len);
	cc->tlists_len += len;
	cc->tl_ht[h] = *off + 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rules and strings                                                  */

static int
rules_cc_rules(struct rules_cc *cc)
{
	const struct rules_set *set = cc->set;
	uint32_t i;
	int rc;

	cc->rules = calloc((size_t)cc->n + 1, sizeof(*cc->rules));
	cc->tgt_mask = 255;
	cc->tgt_ht = calloc(cc->tgt_mask + 1, sizeof(*cc->tgt_ht));
	/* Distinct target lists are bounded by the rule count. */
	cc->tl_mask = 1023;
	while (cc->tl_mask + 1 < 2 * (size_t)cc->n)
		cc->tl_mask = cc->tl_mask * 2 + 1;
	cc->tl_ht = calloc((size_t)cc->tl_mask + 1, sizeof(*cc->tl_ht));
	if (cc->rules == NULL || cc->tgt_ht == NULL || cc->tl_ht == NULL)
		return -ENOMEM;
	cc->best_default = RULES_NO_RULE;
	cc->min_regex = RULES_NO_RULE;
	cc->min_domain = RULES_NO_RULE;

	for (i = 0; i < cc->n; i++) {
		const struct rules_srule *r = &set->rule[cc->ord[i].idx];
		const char *s = set->str + r->str_off;
		struct span pat = span_make(s + r->id_len, r->pat_len);
		struct rules_irule *ir = &cc->rules[i];
		size_t need;
		uint16_t plen;
		uint32_t k;

		if (r->kind == RULES_KIND_EXACT || r->kind == RULES_KIND_PREFIX)
			pat = rules_literal_norm(pat);
		need = cc->strings_len + 4 + r->id_len + r->pre_len + pat.len;
		rc = rules_grow((void **)&cc->strings, &cc->strings_cap, need, 1);
		if (rc != 0)
			return rc;
		if (need >= UINT32_MAX)
			return -E2BIG;
		ir->str_off = (uint32_t)cc->strings_len;
		unsigned char *p = cc->strings + cc->strings_len;

		*p++ = (unsigned char)r->id_len;
		memcpy(p, s, r->id_len);
		p += r->id_len;
		*p++ = (unsigned char)r->pre_len;
		memcpy(p, s + r->id_len + r->pat_len, r->pre_len);
		p += r->pre_len;
		plen = (uint16_t)pat.len;
		memcpy(p, &plen, 2);
		p += 2;
		for (k = 0; k < pat.len; k++)
			p[k] = r->kind == RULES_KIND_DOMAIN ?
			       span_ascii_lower((unsigned char)pat.ptr[k]) :
			       (unsigned char)pat.ptr[k];
		cc->strings_len = need;

		ir->rank = (uint16_t)r->rank;
		ir->code = r->code;
		ir->kind = r->kind;
		ir->action = r->action;
		ir->strip = (uint8_t)r->strip;
		ir->tlist_off = 0;
		rc = rules_cc_tlist(cc, r, &ir->tlist_off);
		/* Report every rule whose names fail, then stop. */
		if (rc == -EINVAL) {
			cc->unresolved = true;
			rc = 0;
		}
		if (rc != 0)
			return rc;
		cc->counts[r->kind]++;
		if (r->kind == RULES_KIND_DEFAULT && cc->best_default == RULES_NO_RULE)
			cc->best_default = i;
		if (r->kind == RULES_KIND_REGEX && cc->min_regex == RULES_NO_RULE)
			cc->min_regex = i;
		if (r->kind == RULES_KIND_DOMAIN && cc->min_domain == RULES_NO_RULE)
			cc->min_domain = i;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Digit trie                                                         */

static int
rules_lit_cmp(const void *a, const void *b, void *arg)
{
	const unsigned char *buf = arg;
	const struct rules_lit *x = a, *y = b;
	uint32_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(buf + x->off, buf + y->off, n);

	if (c != 0)
		return c;
	return (int)x->len - (int)y->len;
}

static int
rules_cc_node(struct rules_cc *cc)
{
	size_t cap = cc->nodes_cap;
	int rc;

	rc = rules_grow((void **)&cc->nodes, &cap, (size_t)cc->nnodes + 1,
			sizeof(*cc->nodes));
	if (rc != 0)
		return rc;
	if (cap > UINT32_MAX - 1)
		return -E2BIG;
	cc->nodes_cap = (uint32_t)cap;
	memset(&cc->nodes[cc->nnodes], 0, sizeof(cc->nodes[0]));
	cc->nodes[cc->nnodes].best = RULES_NO_RULE;
	cc->nnodes++;
	return 0;
}

/* A node that can be folded into the edge above it: one digit child, no
 * END child, and no better rule than its parent's path. */
static bool
rules_cc_foldable(const struct rules_inode *n, uint32_t parent_best)
{
	return n->best == parent_best && n->bits != 0 &&
	       (n->bits & (n->bits - 1)) == 0 &&
	       (n->bits & (1u << RULES_TRIE_END)) == 0;
}

/*
 * Path compression: rebuild the breadth-first array, folding chains of
 * foldable nodes (the random tails of long numbers) into their edges.
 * Roughly halves the nodes and the dependent loads of a lookup.
 */
static int
rules_cc_compress(struct rules_cc *cc)
{
	struct rules_inode *old = cc->nodes, *nw;
	uint32_t *orig, nold = cc->nnodes, head, tail;

	nw = malloc((size_t)nold * sizeof(*nw));
	orig = malloc((size_t)nold * sizeof(*orig));
	if (nw == NULL || orig == NULL) {
		free(nw);
		free(orig);
		return -ENOMEM;
	}
	/* orig[k]: the uncompressed node whose children new node k gets. */
	nw[0] = old[0];
	orig[0] = 0;
	tail = 1;
	for (head = 0; head < tail; head++) {
		const struct rules_inode *o = &old[orig[head]];
		uint32_t c, nc = rules_popcount16(o->bits);

		nw[head].first = nc != 0 ? tail : 0;
		for (c = 0; c < nc; c++) {
			uint32_t x = o->first + c, skip = 0, nskip = 0;
			struct rules_inode *n = &nw[tail];

			while (nskip < RULES_TRIE_SKIP_MAX &&
			       rules_cc_foldable(&old[x], o->best)) {
				uint32_t sym = (uint32_t)__builtin_ctz(old[x].bits);

				skip |= sym << (4 * nskip);
				nskip++;
				x = old[x].first;
			}
			*n = old[x];
			n->first = 0;
			n->nskip = (uint8_t)nskip;
			n->skip = skip;
			orig[tail++] = x;
		}
	}
	free(orig);
	free(old);
	cc->nodes = nw;
	cc->nnodes = tail;
	cc->nodes_cap = nold;
	return 0;
}

/*
 * Build level by level from the sorted literals: at depth d the distinct
 * (d+1)-prefixes, in sorted order, are exactly the nodes of level d+1 in
 * breadth-first order, and the children of one node come out contiguous
 * and in symbol order. O(total digits), two arrays of one word per literal.
 */
static int
rules_cc_trie(struct rules_cc *cc)
{
	struct rules_lit *lit = NULL;
	unsigned char *buf = NULL;
	uint32_t *act = NULL, *cur = NULL;
	uint32_t nlit = 0, nact, d, i, k;
	size_t blen = 0;
	int rc = -ENOMEM;

	rc = rules_cc_node(cc);         /* the root */
	if (rc != 0)
		return rc;
	nlit = cc->counts[RULES_KIND_EXACT] + cc->counts[RULES_KIND_PREFIX];
	if (nlit == 0)
		return 0;
	for (i = 0; i < cc->n; i++) {
		const struct rules_srule *r = &cc->set->rule[cc->ord[i].idx];

		if (r->kind == RULES_KIND_EXACT || r->kind == RULES_KIND_PREFIX)
			blen += (size_t)r->pat_len + 1;
	}
	lit = malloc((size_t)nlit * sizeof(*lit));
	act = malloc((size_t)nlit * sizeof(*act));
	cur = calloc(nlit, sizeof(*cur));
	buf = malloc(blen);
	blen = 0;
	rc = -ENOMEM;
	if (lit == NULL || act == NULL || cur == NULL || buf == NULL)
		goto out;

	k = 0;
	for (i = 0; i < cc->n; i++) {
		const struct rules_irule *ir = &cc->rules[i];
		struct span id, pre, pat;

		if (ir->kind != RULES_KIND_EXACT && ir->kind != RULES_KIND_PREFIX)
			continue;
		{
			struct rules_db tmp = { .strings = cc->strings,
						.rules = cc->rules };

			rules_db_strings(&tmp, i, &id, &pre, &pat);
		}
		lit[k].off = (uint32_t)blen;
		lit[k].len = pat.len + (ir->kind == RULES_KIND_EXACT);
		lit[k].rule = i;
		memcpy(buf + blen, pat.ptr, pat.len);
		blen += pat.len;
		if (ir->kind == RULES_KIND_EXACT)
			buf[blen++] = '0' + RULES_TRIE_END;     /* ':' */
		k++;
	}
	qsort_r(lit, nlit, sizeof(*lit), rules_lit_cmp, buf);

	for (i = 0; i < nlit; i++)
		act[i] = i;
	nact = nlit;
	for (d = 0; nact != 0; d++) {
		uint32_t prev_parent = UINT32_MAX, prev_sym = UINT32_MAX;
		uint32_t node = 0, nnext = 0;

		for (i = 0; i < nact; i++) {
			struct rules_lit *l = &lit[act[i]];
			uint32_t parent = cur[act[i]];
			uint32_t sym = (uint32_t)(buf[l->off + d] - '0');

			if (parent != prev_parent || sym != prev_sym) {
				rc = rules_cc_node(cc);
				if (rc != 0)
					goto out;
				node = cc->nnodes - 1;
				if (cc->nodes[parent].bits == 0)
					cc->nodes[parent].first = node;
				cc->nodes[parent].bits |= (uint16_t)(1u << sym);
				prev_parent = parent;
				prev_sym = sym;
			}
			cur[act[i]] = node;
			if (l->len == d + 1) {
				if (l->rule < cc->nodes[node].best)
					cc->nodes[node].best = l->rule;
			} else {
				act[nnext++] = act[i];
			}
		}
		nact = nnext;
	}
	/* Parents precede children: push the path minimum down. */
	for (i = 0; i < cc->nnodes; i++) {
		struct rules_inode *n = &cc->nodes[i];
		uint32_t c, nc = rules_popcount16(n->bits);

		for (c = 0; c < nc; c++)
			if (n->best < cc->nodes[n->first + c].best)
				cc->nodes[n->first + c].best = n->best;
	}
	rc = rules_cc_compress(cc);
out:
	free(buf);
	free(cur);
	free(act);
	free(lit);
	return rc;
}

/*
 * The trie directory (rules_priv.h): for every string of dir_digits
 * digits, walk from the root as the matcher would, but stop before a
 * step that would consume digits beyond the string.
 */
static int
rules_cc_trie_dir(struct rules_cc *cc)
{
	uint32_t k = 0, p10 = 1, x, j;

	while (k < RULES_TRIE_DIR_MAX &&
	       (uint64_t)p10 * 10 <= 2 * (uint64_t)cc->nnodes) {
		k++;
		p10 *= 10;
	}
	if (k == 0 || cc->nnodes >= RULES_TRIE_DIR_NODES)
		return 0;
	cc->dir = malloc((size_t)p10 * sizeof(*cc->dir));
	if (cc->dir == NULL)
		return -ENOMEM;
	for (x = 0; x < p10; x++) {
		unsigned char d[RULES_TRIE_DIR_MAX];
		uint32_t v = x, node = 0, pos = 0, after = 0;

		for (j = k; j-- > 0; v /= 10)
			d[j] = (unsigned char)(v % 10);
		while (pos < k) {
			const struct rules_inode *n = &cc->nodes[node], *c;
			uint32_t ci, skip;

			if ((n->bits & (1u << d[pos])) == 0)
				break;
			ci = n->first +
			     rules_popcount16(n->bits & ((1u << d[pos]) - 1));
			c = &cc->nodes[ci];
			if (pos + 1 + c->nskip > k)
				break;
			skip = c->skip;
			for (j = 0; j < c->nskip; j++, skip >>= 4)
				if (d[pos + 1 + j] != (skip & 15))
					break;
			if (j != c->nskip)
				break;
			node = ci;
			after = pos + 1;
			pos += 1 + c->nskip;
		}
		cc->dir[x] = node << 4 | after;
	}
	cc->dir_digits = k;
	cc->dir_len = p10;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Domains                                                            */

static int
rules_cc_domains(struct rules_cc *cc)
{
	uint32_t ndom = cc->counts[RULES_KIND_DOMAIN], i, mask;

	if (ndom == 0)
		return 0;
	cc->dom_nslots = 16;
	while (cc->dom_nslots < 2 * ndom)
		cc->dom_nslots *= 2;
	mask = cc->dom_nslots - 1;
	cc->dom_slots = malloc((size_t)cc->dom_nslots * sizeof(uint32_t));
	if (cc->dom_slots == NULL)
		return -ENOMEM;
	memset(cc->dom_slots, 0xff, (size_t)cc->dom_nslots * sizeof(uint32_t));

	for (i = cc->min_domain; i < cc->n; i++) {
		struct span id, pre, pat;
		struct rules_idom *e;
		struct rules_db tmp = { .strings = cc->strings,
					.rules = cc->rules };
		bool wild;
		uint32_t s, off;
		size_t need;
		int rc;

		if (cc->rules[i].kind != RULES_KIND_DOMAIN)
			continue;
		rules_db_strings(&tmp, i, &id, &pre, &pat);
		wild = pat.len >= 2 && pat.ptr[0] == '*' && pat.ptr[1] == '.';
		if (wild)
			pat = span_make(pat.ptr + 2, pat.len - 2);
		s = (uint32_t)rules_dom_hash(pat.ptr, pat.len) & mask;
		for (;;) {
			off = cc->dom_slots[s];
			if (off == UINT32_MAX)
				break;
			e = (struct rules_idom *)(void *)(cc->dom + off);
			if (e->len == pat.len &&
			    memcmp(e + 1, pat.ptr, pat.len) == 0)
				break;
			s = (s + 1) & mask;
		}
		if (off == UINT32_MAX) {
			need = cc->dom_len + sizeof(*e) + ((pat.len + 3) & ~3u);
			rc = rules_grow((void **)&cc->dom, &cc->dom_cap, need, 1);
			if (rc != 0)
				return rc;
			off = (uint32_t)cc->dom_len;
			e = (struct rules_idom *)(void *)(cc->dom + off);
			memset(e, 0, need - cc->dom_len);
			e->best_exact = RULES_NO_RULE;
			e->best_wild = RULES_NO_RULE;
			e->len = pat.len;
			memcpy(e + 1, pat.ptr, pat.len);
			cc->dom_len = need;
			cc->dom_slots[s] = off;
		}
		e = (struct rules_idom *)(void *)(cc->dom + off);
		/* Rules come in order: the first one seen is the best. */
		if (wild && e->best_wild == RULES_NO_RULE)
			e->best_wild = i;
		if (!wild && e->best_exact == RULES_NO_RULE)
			e->best_exact = i;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Hyperscan                                                          */

/*
 * Up to @p cap digits that every key matching @p pat (anchored at both
 * ends) must start with, into @p lead; returns how many. Conservative:
 * 0 whenever unsure. A top-level alternative could start with anything,
 * and options, lookarounds and \Q...\E quoting change how the rest reads
 * (a lone \E is no atom, so a quantifier after it applies to the digit
 * before), so those patterns have no lead. A digit followed by a
 * quantifier may be absent or repeated: the lead stops before it.
 */
static uint32_t
rules_re_lead(struct span pat, char *lead, uint32_t cap)
{
	const char *p = pat.ptr;
	uint32_t i, j, n = 0, len = (uint32_t)pat.len;
	bool in_class = false;
	int depth = 0;

	for (i = 0; i < len; i++) {
		char c = p[i];

		if (c == '\\') {
			/* \E without \Q is nothing: "12\E?3" matches 13 */
			if (i + 1 < len && (p[i + 1] == 'Q' || p[i + 1] == 'E'))
				return 0;
			i++;                    /* the escaped character */
			continue;
		}
		if (in_class) {
			if (c == '[')           /* [:alpha:] and the like */
				return 0;
			if (c == ']')
				in_class = false;
			continue;
		}
		switch (c) {
		case '[':
			/* A ']' first in a class (after an optional '^') is
			 * a member, not the end. */
			in_class = true;
			j = i + 1;
			if (j < len && p[j] == '^')
				j++;
			if (j < len && p[j] == ']')
				j++;
			i = j - 1;
			break;
		case '(':
			if (i + 1 < len && p[i + 1] == '?')
				return 0;
			depth++;
			break;
		case ')':
			if (--depth < 0)
				return 0;
			break;
		case '|':
			if (depth == 0)
				return 0;
			break;
		default:
			break;
		}
	}
	if (in_class || depth != 0)
		return 0;

	i = len != 0 && p[0] == '^' ? 1 : 0;
	while (n < cap && i < len && span_is_digit((unsigned char)p[i])) {
		if (i + 1 < len && (p[i + 1] == '?' || p[i + 1] == '*' ||
				    p[i + 1] == '+' || p[i + 1] == '{'))
			break;
		lead[n++] = p[i++];
	}
	return n;
}

/* Compile and serialise the patterns sel[0..n) of expr; none: empty. */
static int
rules_cc_re_group(const char **expr, const uint32_t *rule_of,
		  const uint32_t *sel, uint32_t n, char **bytes, size_t *len)
{
	const char **e = NULL;
	unsigned int *f = NULL, *id = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_database_t *hdb = NULL;
	hs_error_t he;
	uint32_t i;
	int rc = -ENOMEM;

	*bytes = NULL;
	*len = 0;
	if (n == 0)
		return 0;
	e = calloc(n, sizeof(*e));
	f = calloc(n, sizeof(*f));
	id = calloc(n, sizeof(*id));
	if (e == NULL || f == NULL || id == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		e[i] = expr[sel[i]];
		f[i] = RULES_HS_FLAGS;
		id[i] = rule_of[sel[i]];
	}
	he = hs_compile_multi(e, f, id, n, HS_MODE_BLOCK, NULL, &hdb, &cerr);
	if (he != HS_SUCCESS) {
		hs_free_compile_error(cerr);
		rc = rules_hs_errno(he);
		goto out;
	}
	he = hs_serialize_database(hdb, bytes, len);
	hs_free_database(hdb);
	rc = rules_hs_errno(he);
out:
	free(id);
	free(f);
	free(e);
	return rc;
}

/*
 * The regex section (rules_priv.h): database 0 with every pattern, and
 * for RULES_RE_SPLIT_MIN patterns or more the same patterns split by
 * their first two digits. One database of 1,000 mixed-shape patterns
 * scans a key in 435 ns (median of 3 runs); the key's bucket (a few dozen
 * patterns) plus the patterns without leading digits in 133 ns
 * (bench_rules_match regex_1000, 2 shared Xeon cores; results in
 * perf/results/rules_match.csv). Below RULES_RE_SPLIT_MIN one database
 * already scans in about 50 ns (regex_100). If a part fails to compile,
 * the image keeps database 0 alone: same answers, slower.
 */
static int
rules_cc_re_section(struct rules_cc *cc, hs_database_t *full,
		    const char **expr, const uint32_t *rule_of, uint32_t nre)
{
	char *bytes[RULES_RE_NDB] = { NULL };
	size_t lens[RULES_RE_NDB] = { 0 }, off, total;
	char (*lead)[2] = NULL;
	uint32_t *nlead = NULL, *sel = NULL, ndb = 1, g, i, n;
	unsigned char *sec;
	hs_error_t he;
	int rc;

	he = hs_serialize_database(full, &bytes[0], &lens[0]);
	rc = rules_hs_errno(he);
	if (rc != 0)
		return rc;
	if (nre >= RULES_RE_SPLIT_MIN) {
		lead = calloc(nre, sizeof(*lead));
		nlead = calloc(nre, sizeof(*nlead));
		sel = calloc(nre, sizeof(*sel));
		rc = -ENOMEM;
		if (lead == NULL || nlead == NULL || sel == NULL)
			goto out;
		for (i = 0; i < nre; i++) {
			struct rules_db tmp = { .strings = cc->strings,
						.rules = cc->rules };
			struct span id, pre, pat;

			rules_db_strings(&tmp, rule_of[i], &id, &pre, &pat);
			nlead[i] = rules_re_lead(pat, lead[i], 2);
		}
		ndb = RULES_RE_NDB;
		for (g = 1; g < RULES_RE_NDB && ndb == RULES_RE_NDB; g++) {
			uint32_t b = g - 2;

			for (i = 0, n = 0; i < nre; i++) {
				if (g == 1 ? nlead[i] == 0 :
				    nlead[i] == 1 ? (uint32_t)(lead[i][0] - '0') == b / 10 :
				    nlead[i] == 2 &&
				    (uint32_t)(lead[i][0] - '0') * 10 +
				    (uint32_t)(lead[i][1] - '0') == b)
					sel[n++] = i;
			}
			if (rules_cc_re_group(expr, rule_of, sel, n, &bytes[g],
					      &lens[g]) != 0)
				ndb = 1;
		}
	}

	off = 8 + (size_t)ndb * sizeof(struct rules_isec);
	total = off;
	for (g = 0; g < ndb; g++)
		total += (lens[g] + 7) & ~(size_t)7;
	rc = -ENOMEM;
	sec = calloc(1, total);
	if (sec == NULL)
		goto out;
	memcpy(sec, &ndb, 4);
	for (g = 0; g < ndb; g++) {
		struct rules_isec e = { .off = off, .len = lens[g] };

		memcpy(sec + 8 + g * sizeof(e), &e, sizeof(e));
		if (lens[g] != 0)
			memcpy(sec + off, bytes[g], lens[g]);
		off += (lens[g] + 7) & ~(size_t)7;
	}
	cc->hs_bytes = (char *)sec;
	cc->hs_len = total;
	rc = 0;
out:
	for (g = 0; g < RULES_RE_NDB; g++)
		free(bytes[g]);
	free(sel);
	free(nlead);
	free(lead);
	return rc;
}

static int
rules_cc_regex(struct rules_cc *cc)
{
	uint32_t nre = cc->counts[RULES_KIND_REGEX], i, k, tries;
	const char **expr = NULL;
	unsigned int *flags = NULL, *ids = NULL;
	uint32_t *rule_of = NULL;
	bool *skip = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_database_t *hdb = NULL;
	char *arena = NULL;
	size_t alen = 0;
	hs_error_t he;
	int rc = -ENOMEM;

	if (nre == 0)
		return 0;
	expr = calloc(nre, sizeof(*expr));
	flags = calloc(nre, sizeof(*flags));
	ids = calloc(nre, sizeof(*ids));
	rule_of = calloc(nre, sizeof(*rule_of));
	skip = calloc(nre, sizeof(*skip));
	arena = malloc((size_t)nre * 16 + cc->strings_len);
	if (expr == NULL || flags == NULL || ids == NULL || rule_of == NULL ||
	    skip == NULL || arena == NULL)
		goto out;

	/* "Matched against the whole match key" (DESIGN.md 4.1): \A...\z. */
	k = 0;
	for (i = cc->min_regex; i < cc->n && k < nre; i++) {
		struct rules_db tmp = { .strings = cc->strings,
					.rules = cc->rules };
		struct span id, pre, pat;

		if (cc->rules[i].kind != RULES_KIND_REGEX)
			continue;
		rules_db_strings(&tmp, i, &id, &pre, &pat);
		rule_of[k] = i;
		expr[k] = arena + alen;
		memcpy(arena + alen, "\\A(?:", 5);
		memcpy(arena + alen + 5, pat.ptr, pat.len);
		memcpy(arena + alen + 5 + pat.len, ")\\z", 4);
		alen += 5 + pat.len + 4;
		k++;
	}

	/*
	 * Every matching rule must be reported, not just the first, because
	 * the lowest rule number wins; SINGLEMATCH only stops repeats of one
	 * pattern (anchored at both ends, it has one match offset anyway).
	 * A pattern Hyperscan refuses is reported and left out, and the
	 * compile retried, so one run lists every bad pattern.
	 */
	for (tries = 0; tries <= nre; tries++) {
		uint32_t m = 0;

		for (i = 0; i < nre; i++) {
			if (skip[i])
				continue;
			expr[m] = expr[i];
			flags[m] = RULES_HS_FLAGS;
			ids[m] = rule_of[i];
			m++;
		}
		if (m == 0)
			break;
		he = hs_compile_multi(expr, flags, ids, m, HS_MODE_BLOCK, NULL,
				      &hdb, &cerr);
		if (he == HS_SUCCESS)
			break;
		if (cerr == NULL || cerr->expression < 0 ||
		    (uint32_t)cerr->expression >= m) {
			rules_errors_add(cc->errs, 0, RULES_FIELD_PATTERN,
					 "Hyperscan could not compile the regex rules: %s",
					 cerr != NULL ? cerr->message : "unknown error");
			hs_free_compile_error(cerr);
			rc = rules_hs_errno(he);
			goto out;
		}
		{
			uint32_t bad = ids[cerr->expression], j;
			const struct rules_srule *sr;
			struct span id, pre, pat;
			struct rules_db tmp = { .strings = cc->strings,
						.rules = cc->rules };

			rules_db_strings(&tmp, bad, &id, &pre, &pat);
			sr = &cc->set->rule[cc->ord[bad].idx];
			rules_errors_add(cc->errs, sr->line, RULES_FIELD_PATTERN,
					 "rule '%.*s': regex '%.*s' rejected by Hyperscan: %s",
					 (int)id.len, id.ptr,
					 (int)(pat.len > 60 ? 60 : pat.len),
					 pat.ptr, cerr->message);
			hs_free_compile_error(cerr);
			cerr = NULL;
			for (j = 0; j < nre; j++)
				if (rule_of[j] == bad)
					skip[j] = true;
			/* Restore the uncompacted expression list. */
			k = 0;
			alen = 0;
			for (j = 0; j < nre; j++) {
				struct span id2, pre2, pat2;

				rules_db_strings(&tmp, rule_of[j], &id2, &pre2,
						 &pat2);
				expr[j] = arena + alen;
				alen += 5 + pat2.len + 4;
			}
		}
		rc = -EINVAL;
	}
	if (rc == -EINVAL || hdb == NULL) {
		if (hdb != NULL)
			hs_free_database(hdb);
		rc = -EINVAL;
		goto out;
	}
	rc = rules_cc_re_section(cc, hdb, expr, rule_of, nre);
	hs_free_database(hdb);
out:
	free(arena);
	free(skip);
	free(rule_of);
	free(ids);
	free(flags);
	free(expr);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Assembly                                                           */

static size_t
rules_align(size_t v)
{
	return (v + RULES_IMG_ALIGN - 1) & ~(size_t)(RULES_IMG_ALIGN - 1);
}

static int
rules_cc_assemble(struct rules_cc *cc, void **image, size_t *len)
{
	const void *src[RULES_SEC__COUNT];
	size_t slen[RULES_SEC__COUNT], off, dom_hdr;
	struct rules_ihdr *h;
	unsigned char *img;
	unsigned int s;

	dom_hdr = (size_t)cc->dom_nslots * sizeof(uint32_t);
	src[RULES_SEC_RULES] = cc->rules;
	slen[RULES_SEC_RULES] = (size_t)cc->n * sizeof(*cc->rules);
	src[RULES_SEC_TARGETS] = cc->targets;
	slen[RULES_SEC_TARGETS] = (size_t)cc->ntargets * sizeof(*cc->targets);
	src[RULES_SEC_TLISTS] = cc->tlists;
	slen[RULES_SEC_TLISTS] = cc->tlists_len;
	src[RULES_SEC_STRINGS] = cc->strings;
	slen[RULES_SEC_STRINGS] = cc->strings_len;
	src[RULES_SEC_TRIE] = cc->nodes;
	slen[RULES_SEC_TRIE] = (size_t)cc->nnodes * sizeof(*cc->nodes);
	src[RULES_SEC_DOMAINS] = NULL;  /* two parts, copied below */
	slen[RULES_SEC_DOMAINS] = dom_hdr + cc->dom_len;
	src[RULES_SEC_HSDB] = cc->hs_bytes;
	slen[RULES_SEC_HSDB] = cc->hs_len;
	src[RULES_SEC_TRIE_DIR] = cc->dir;
	slen[RULES_SEC_TRIE_DIR] = (size_t)cc->dir_len * sizeof(*cc->dir);

	off = rules_align(sizeof(*h));
	for (s = 0; s < RULES_SEC__COUNT; s++)
		off = rules_align(off + slen[s]);
	img = calloc(1, off);
	if (img == NULL)
		return -ENOMEM;
	h = (struct rules_ihdr *)(void *)img;
	memcpy(h->magic, RULES_IMG_MAGIC, sizeof(h->magic));
	h->version = RULES_IMG_VERSION;
	h->hdr_size = sizeof(*h);
	h->total_size = off;
	h->nrules = cc->n;
	h->ntargets = cc->ntargets;
	h->nnodes = cc->nnodes;
	h->dom_slots = cc->dom_nslots;
	h->best_default = cc->best_default;
	h->min_regex = cc->min_regex;
	h->min_domain = cc->min_domain;
	h->dir_digits = cc->dir_digits;
	memcpy(h->counts, cc->counts, sizeof(h->counts));

	off = rules_align(sizeof(*h));
	for (s = 0; s < RULES_SEC__COUNT; s++) {
		h->sec[s].off = off;
		h->sec[s].len = slen[s];
		if (s == RULES_SEC_DOMAINS) {
			if (dom_hdr != 0)
				memcpy(img + off, cc->dom_slots, dom_hdr);
			if (cc->dom_len != 0)
				memcpy(img + off + dom_hdr, cc->dom, cc->dom_len);
		} else if (slen[s] != 0) {
			memcpy(img + off, src[s], slen[s]);
		}
		off = rules_align(off + slen[s]);
	}
	h->checksum = rules_crc32c(0, img, h->total_size);
	*image = img;
	*len = h->total_size;
	return 0;
}

int
rules_compile(const struct rules_set *set, void **image, size_t *len,
	      struct rules_errors *errs)
{
	return rules_compile_resolved(set, NULL, NULL, image, len, errs);
}

int
rules_compile_resolved(const struct rules_set *set, rules_resolve_fn *resolve,
		       void *arg, void **image, size_t *len,
		       struct rules_errors *errs)
{
	struct rules_cc cc;
	int rc;

	*image = NULL;
	*len = 0;
	memset(&cc, 0, sizeof(cc));
	cc.set = set;
	cc.errs = errs;
	cc.resolve = resolve;
	cc.resolve_arg = arg;
	cc.n = set->n;
	if (cc.n >= RULES_NO_RULE)
		return -E2BIG;

	rc = rules_cc_order(&cc);
	if (rc == 0)
		rc = rules_cc_rules(&cc);
	if (rc == 0 && cc.unresolved)
		rc = -EINVAL;
	if (rc == 0)
		rc = rules_cc_trie(&cc);
	if (rc == 0)
		rc = rules_cc_trie_dir(&cc);
	if (rc == 0)
		rc = rules_cc_domains(&cc);
	if (rc == 0)
		rc = rules_cc_regex(&cc);
	if (rc == 0)
		rc = rules_cc_assemble(&cc, image, len);

	free(cc.hs_bytes);
	free(cc.dom);
	free(cc.dom_slots);
	free(cc.dir);
	free(cc.nodes);
	free(cc.strings);
	free(cc.tl_ht);
	free(cc.tlists);
	free(cc.tgt_ht);
	free(cc.targets);
	free(cc.rules);
	free(cc.ord);
	return rc;
}
