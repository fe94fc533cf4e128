/* SPDX-License-Identifier: MIT */
/*
 * rules_match.c - HOT: match key, winning rule, target choice and number
 * manipulation for worker lcores. No allocation, locks, syscalls, stdio or
 * NUL-terminated string functions (STYLE.md 2.8; checked by the build).
 * Reads a loaded, immutable rules_db and the caller's scratch only.
 * Built with -mpopcnt where the compiler supports it (rules/meson.build):
 * __builtin_popcount() is then one instruction on the trie's critical path.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <hs/hs.h>

#include <compiler.h>
#include <hash.h>

#include "rules_priv.h"

/* ------------------------------------------------------------------ */
/* Match key (DESIGN.md 4.1)                                          */

static int
rules_hexval(unsigned char c)
{
	if (span_is_digit(c))
		return c - '0';
	c = span_ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Character classes of a telephone-subscriber (RFC 3966 section 3), one
 * lookup per character: RULES_KC_OK for what may appear in a number
 * (digits, "*", "#", visual separators; a leading "+" is handled apart),
 * RULES_KC_SEP for visual separators (left out of the key), RULES_KC_END
 * for the ";" that starts the parameters.
 */
#define RULES_KC_DIGIT  1u
#define RULES_KC_OK     2u
#define RULES_KC_SEP    4u
#define RULES_KC_END    8u

static const uint8_t rules_kc[256] = {
	['0' ... '9'] = RULES_KC_DIGIT | RULES_KC_OK,
	['*'] = RULES_KC_OK, ['#'] = RULES_KC_OK,
	['-'] = RULES_KC_OK | RULES_KC_SEP, ['.'] = RULES_KC_OK | RULES_KC_SEP,
	['('] = RULES_KC_OK | RULES_KC_SEP, [')'] = RULES_KC_OK | RULES_KC_SEP,
	[';'] = RULES_KC_END,
};

/* ASCII upper case of eight bytes to lower case; other bytes unchanged. */
static inline uint64_t
rules_lower8(uint64_t w)
{
	const uint64_t h = 0x8080808080808080ull, b = w & ~h;
	uint64_t upper;

	upper = (b + 0x3f3f3f3f3f3f3f3full) &          /* >= 'A' */
		~(b + 0x2525252525252525ull) &          /* <= 'Z' */
		~w & h;                                 /* ASCII */
	return w | upper >> 2;
}

/*
 * Room for the unescaped user up to its parameters when it is a number:
 * a "+" and RULES_KEY_MAX digits, each after a visual separator.
 */
#define RULES_KEY_RAW_MAX       (2 * RULES_KEY_MAX + 2)

int
rules_key_make(struct span user, struct span host, struct rules_key *key)
{
	char tmp[RULES_KEY_RAW_MAX];
	const char *u = user.ptr;
	uint32_t i, n = user.len, k = 0;
	unsigned int all = RULES_KC_OK, any = 0;
	bool cut = false;

	/* %HH-unescape (RFC 3261 section 25.1 escaped), only when there is
	 * an escape: most users are copied once, below. What does not fit
	 * is left out once a ';' has ended the number part (parameters are
	 * not part of the key); a user that is not a number must fit the
	 * key whole, checked below. */
	if (n != 0 && memchr(u, '%', n) != NULL) {
		for (i = 0, n = 0; i < user.len; i++) {
			unsigned char c = (unsigned char)user.ptr[i];

			if (c == '%') {
				int hi, lo;

				if (user.len - i < 3)
					return -EINVAL;
				hi = rules_hexval((unsigned char)user.ptr[i + 1]);
				lo = rules_hexval((unsigned char)user.ptr[i + 2]);
				if (hi < 0 || lo < 0)
					return -EINVAL;
				c = (unsigned char)(hi << 4 | lo);
				i += 2;
			}
			if (n == sizeof(tmp)) {
				/* a ';' here ends the number part too */
				if (c != ';' && memchr(tmp, ';', n) == NULL)
					return -ENAMETOOLONG;
				cut = true;
				break;
			}
			tmp[n++] = (char)c;
		}
		u = tmp;
	}

	/*
	 * telephone-subscriber (RFC 3966 section 3): digits, "*", "#",
	 * visual separators, one leading "+", then ";params" which are not
	 * part of the number. The number is copied without "+" and
	 * separators while it is classified; anything else is the key as
	 * it is. The limit is on the number as copied.
	 */
	i = n != 0 && u[0] == '+' ? 1 : 0;
	/* Eight digits at a time while there are (the usual number): high
	 * nibble 3 and low nibble at most 9 in every byte. */
	for (; n - i >= 8 && k <= RULES_KEY_MAX - 8; i += 8) {
		uint64_t w;

		memcpy(&w, u + i, 8);
		if ((w & 0xf0f0f0f0f0f0f0f0ull) != 0x3030303030303030ull ||
		    ((w + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) !=
		    0x3030303030303030ull)
			break;
		memcpy(key->num + k, &w, 8);
		k += 8;
		any |= RULES_KC_DIGIT;
	}
	for (; i < n; i++) {
		unsigned int c = rules_kc[(unsigned char)u[i]];

		if (c & RULES_KC_END)
			break;
		all &= c;
		any |= c;
		if (c & RULES_KC_SEP)
			continue;
		if (k == RULES_KEY_MAX) {
			/* longer than any key: a number or not */
			return -ENAMETOOLONG;
		}
		key->num[k++] = u[i];
	}
	if (!(all & RULES_KC_OK) || !(any & RULES_KC_DIGIT)) {
		if (n > RULES_KEY_MAX || cut)
			return -ENAMETOOLONG;
		if (n != 0)
			memcpy(key->num, u, n);
		k = n;
	}
	key->num_len = k;

	/* A fully qualified name may end in '.' (RFC 3261 toplabel ["."]);
	 * the rules name hosts without it. */
	if (host.len > 1 && host.ptr[host.len - 1] == '.')
		host.len--;
	if (host.len > RULES_HOST_MAX)
		return -ENAMETOOLONG;
	for (i = 0; host.len - i >= 8; i += 8) {
		uint64_t w;

		memcpy(&w, host.ptr + i, 8);
		w = rules_lower8(w);
		memcpy(key->host + i, &w, 8);
	}
	for (; i < host.len; i++)
		key->host[i] = (char)span_ascii_lower((unsigned char)host.ptr[i]);
	key->host_len = host.len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Winning rule                                                       */

/*
 * Where a walk starts: for a key led by dir_digits digits, *ok is set and
 * the result is the index of their directory entry (rules_priv.h), which
 * gives the start node and the key position right after its symbol;
 * otherwise the walk starts at the root.
 */
static inline uint32_t
rules_trie_dir_index(const struct rules_db *db, const char *num, uint32_t len,
		     bool *ok)
{
	uint64_t v, bad;

	*ok = false;
	if (db->dir == NULL || len < db->dir_digits)
		return 0;
	/*
	 * All dir_digits (<= 5) leading bytes digits? Eight bytes at once
	 * (num has RULES_KEY_MAX bytes): b = c ^ '0' is c's value for a
	 * digit; (b & 0x7f) + 0x76 sets the top bit of a byte iff b > 9
	 * with b < 0x80, and never carries into the next byte.
	 */
	memcpy(&v, num, sizeof(v));
	v ^= 0x3030303030303030ULL;
	bad = (((v & 0x7f7f7f7f7f7f7f7fULL) + 0x7676767676767676ULL) | v) &
	      0x8080808080808080ULL & ((1ULL << (8 * db->dir_digits)) - 1);
	if (bad != 0)
		return 0;
	/* Their value: shift them to the top of an 8-digit number with
	 * leading zeros, then add up pairs, quads and octets. */
	v <<= 8 * (8 - db->dir_digits);
	v = (v * 10 + (v >> 8)) & 0x00ff00ff00ff00ffULL;
	v = (v * 100 + (v >> 16)) & 0x0000ffff0000ffffULL;
	v = (v * 10000 + (v >> 32)) & 0xffffffffULL;
	*ok = true;
	return (uint32_t)v;
}

/*
 * Enter node @p c, whose symbol ended at key position *i: check and
 * consume its folded digits. False if the key leaves the trie inside
 * them (the best rule so far stands: a fold holds no better rule).
 */
static inline bool
rules_trie_enter(const struct rules_inode *c, const char *num, uint32_t len,
		 uint32_t *i)
{
	uint64_t v, want, mask;
	uint32_t k, skip, n = c->nskip;

	if (n == 0)
		return true;
	if (len - *i < n)
		return false;
	if (*i + 8 <= RULES_KEY_MAX) {
		/* All folded digits at once: spread the nibbles of skip
		 * into bytes and compare with the key's bytes ^ '0'. */
		memcpy(&v, num + *i, sizeof(v));
		want = c->skip;
		want = (want | want << 16) & 0x0000ffff0000ffffULL;
		want = (want | want << 8) & 0x00ff00ff00ff00ffULL;
		want = (want | want << 4) & 0x0f0f0f0f0f0f0f0fULL;
		mask = n == 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
		if (((v ^ 0x3030303030303030ULL ^ want) & mask) != 0)
			return false;
	} else {
		skip = c->skip;
		for (k = 0; k < n; k++, skip >>= 4)
			if ((uint32_t)((unsigned char)num[*i + k] - '0') !=
			    (skip & 15))
				return false;
	}
	*i += n;
	return true;
}

/* Best rule at the end of the key: @p n's own, or its END child's. */
static inline uint32_t
rules_trie_end(const struct rules_db *db, const struct rules_inode *n)
{
	uint32_t bits = n->bits;

	if ((bits & (1u << RULES_TRIE_END)) != 0)
		return db->nodes[n->first + __builtin_popcount(bits & 0x3ffu)].best;
	return n->best;
}

/* Child of @p n for key position i, or NULL if the key leaves the trie. */
static inline const struct rules_inode *
rules_trie_child(const struct rules_db *db, const struct rules_inode *n,
		 const char *num, uint32_t i)
{
	uint32_t d = (uint32_t)((unsigned char)num[i] - '0');

	if (d > 9 || (n->bits & (1u << d)) == 0)
		return NULL;
	return &db->nodes[n->first + __builtin_popcount(n->bits & ((1u << d) - 1))];
}

/* Longest-prefix walk: lowest rule number among matching literals. */
static inline uint32_t
rules_trie_best(const struct rules_db *db, const char *num, uint32_t len)
{
	const struct rules_inode *c = &db->nodes[0];
	uint32_t best = RULES_NO_RULE, i = 0, x;
	bool ok;

	x = rules_trie_dir_index(db, num, len, &ok);
	if (ok) {
		c = &db->nodes[db->dir[x] >> 4];
		i = db->dir[x] & 15;
	}
	for (;;) {
		if (!rules_trie_enter(c, num, len, &i))
			return best;
		if (i == len)
			return rules_trie_end(db, c);
		best = c->best;
		c = rules_trie_child(db, c, num, i);
		if (c == NULL)
			return best;
		i++;
	}
}

static inline const struct rules_idom *
rules_dom_find(const struct rules_db *db, const char *p, uint32_t len)
{
	uint32_t s = (uint32_t)rules_dom_hash(p, len) & db->dom_mask, off;

	while ((off = db->dom_slots[s]) != UINT32_MAX) {
		const struct rules_idom *e =
			(const struct rules_idom *)(const void *)(db->dom + off);

		if (e->len == len && memcmp(e + 1, p, len) == 0)
			return e;
		s = (s + 1) & db->dom_mask;
	}
	return NULL;
}

/* Exact host, then every "*.suffix" that covers it. */
static uint32_t
rules_domain_best(const struct rules_db *db, const char *host, uint32_t len,
		  uint32_t best)
{
	const struct rules_idom *e;
	uint32_t i;

	if (len == 0)
		return best;
	e = rules_dom_find(db, host, len);
	if (e != NULL && e->best_exact < best)
		best = e->best_exact;
	/* From 1: a leading dot leaves an empty label, which no name
	 * strictly below the suffix has (as rules_explain() decides). */
	for (i = 1; i + 1 < len; i++) {
		if (host[i] != '.')
			continue;
		e = rules_dom_find(db, host + i + 1, len - i - 1);
		if (e != NULL && e->best_wild < best)
			best = e->best_wild;
	}
	return best;
}

/* Hyperscan callback (H11): records the id, never stops the scan. */
static int
rules_hs_on_match(unsigned int id, unsigned long long from,
		  unsigned long long to, unsigned int flags, void *ctx)
{
	uint32_t *best = ctx;

	(void)from;
	(void)to;
	(void)flags;
	if (id < *best)
		*best = id;
	return 0;
}

/*
 * Lowest regex rule matching the key, into *best. A key led by two digits
 * needs only the patterns without leading digits and those of its bucket
 * (rules_priv.h, RULES_SEC_HSDB); any other key, all of them.
 */
static inline int
rules_regex_best(const struct rules_db *db, struct rules_scratch *scr,
		 const struct rules_key *key, uint32_t *best)
{
	const hs_database_t *g, *b;
	uint32_t d0, d1;

	if (db->hs_split && key->num_len >= 2) {
		d0 = (uint32_t)((unsigned char)key->num[0] - '0');
		d1 = (uint32_t)((unsigned char)key->num[1] - '0');
		if (d0 <= 9 && d1 <= 9) {
			g = db->hs_sub[0];
			b = db->hs_sub[1 + d0 * 10 + d1];
			if (g != NULL &&
			    hs_scan(g, key->num, key->num_len, 0, scr->hs,
				    rules_hs_on_match, best) != HS_SUCCESS)
				return -EIO;
			if (b != NULL &&
			    hs_scan(b, key->num, key->num_len, 0, scr->hs,
				    rules_hs_on_match, best) != HS_SUCCESS)
				return -EIO;
			return 0;
		}
	}
	if (hs_scan(db->hs, key->num, key->num_len, 0, scr->hs,
		    rules_hs_on_match, best) != HS_SUCCESS)
		return -EIO;
	return 0;
}

/* Default, domain and regex candidates after the trie's best. */
static inline int
rules_match_rest(const struct rules_db *db, struct rules_scratch *scr,
		 const struct rules_key *key, uint32_t best, uint32_t *rule)
{
	if (db->best_default < best)
		best = db->best_default;
	/* Later engines run only if one of their rules could still win. */
	if (db->min_domain < best)
		best = rules_domain_best(db, key->host, key->host_len, best);
	if (db->min_regex < best) {
		uint32_t before = best;

		if (unlikely(scr == NULL || scr->hs == NULL))
			return -EIO;
		if (unlikely(rules_regex_best(db, scr, key, &best) != 0))
			return -EIO;
		/* The database's ids are regex rules (a damaged image's
		 * might not be: refused, not followed). */
		if (unlikely(best != before &&
			     (best >= db->nrules ||
			      db->rules[best].kind != RULES_KIND_REGEX)))
			return -EIO;
	}
	if (best == RULES_NO_RULE)
		return -ENOENT;
	*rule = best;
	return 0;
}

int
rules_match(const struct rules_db *db, struct rules_scratch *scr,
	    const struct rules_key *key, uint32_t *rule)
{
	return rules_match_rest(db, scr, key,
				rules_trie_best(db, key->num, key->num_len),
				rule);
}

/* One key's walk in a burst: the node to enter next, prefetched. */
struct rules_walk {
	const struct rules_inode        *c;
	uint32_t                         i;
	uint32_t                         best;
};

/*
 * One step of a walk: enter w->c (prefetched by the step before) and find
 * the next node, which is only prefetched, so that each step touches one
 * node and the loads of all walks overlap. False when the walk is over
 * (w->best is then the trie's answer). Same logic as rules_trie_best().
 */
static inline bool
rules_walk_step(const struct rules_db *db, const struct rules_key *key,
		struct rules_walk *w)
{
	const struct rules_inode *c = w->c;

	if (!rules_trie_enter(c, key->num, key->num_len, &w->i))
		return false;
	if (w->i == key->num_len) {
		w->best = rules_trie_end(db, c);
		return false;
	}
	w->best = c->best;
	c = rules_trie_child(db, c, key->num, w->i);
	if (c == NULL)
		return false;
	__builtin_prefetch(c);
	w->c = c;
	w->i++;
	return true;
}

uint32_t
rules_match_burst(const struct rules_db *db, struct rules_scratch *scr,
		  const struct rules_key *keys, uint32_t n, uint32_t *rules)
{
	struct rules_walk w[RULES_BURST_MAX];
	uint32_t x[RULES_BURST_MAX];
	uint8_t act[RULES_BURST_MAX];
	uint32_t base, k, m, j, nact, found = 0;
	bool ok;

	for (base = 0; base < n; base += m) {
		m = n - base < RULES_BURST_MAX ? n - base : RULES_BURST_MAX;
		/*
		 * Directory entries of all keys first, prefetched; then the
		 * start nodes, prefetched; then all walks one level at a
		 * time. Tries are latency bound: the loads of different keys
		 * overlap instead of queueing behind each other. Finished
		 * walks leave the active list.
		 */
		for (k = 0; k < m; k++) {
			const struct rules_key *key = &keys[base + k];

			x[k] = rules_trie_dir_index(db, key->num, key->num_len,
						    &ok);
			if (ok)
				__builtin_prefetch(&db->dir[x[k]]);
			else
				x[k] = UINT32_MAX;
		}
		for (k = 0; k < m; k++) {
			w[k].best = RULES_NO_RULE;
			if (x[k] != UINT32_MAX) {
				w[k].c = &db->nodes[db->dir[x[k]] >> 4];
				w[k].i = db->dir[x[k]] & 15;
				__builtin_prefetch(w[k].c);
			} else {
				w[k].c = &db->nodes[0];
				w[k].i = 0;
			}
			act[k] = (uint8_t)k;
		}
		nact = m;
		while (nact != 0) {
			for (j = 0; j < nact;) {
				k = act[j];
				if (rules_walk_step(db, &keys[base + k], &w[k]))
					j++;
				else
					act[j] = act[--nact];
			}
		}
		for (k = 0; k < m; k++) {
			uint32_t b = w[k].best;
			int rc;

			/* Most keys need no other engine: decide here. */
			if (db->best_default < b)
				b = db->best_default;
			if (db->min_domain >= b && db->min_regex >= b &&
			    b != RULES_NO_RULE) {
				rules[base + k] = b;
				found++;
				continue;
			}
			rc = rules_match_rest(db, scr, &keys[base + k], b,
					      &rules[base + k]);

			if (rc == 0)
				found++;
			else
				rules[base + k] = rc == -ENOENT ? RULES_NO_RULE :
						  RULES_MATCH_ERROR;
		}
	}
	return found;
}

void
rules_hit_prefetch(const struct rules_db *db, uint32_t rule)
{
	if (rule < db->nrules)
		__builtin_prefetch(&db->rules[rule]);
}

bool
rules_db_has_regex(const struct rules_db *db)
{
	return db->hs != NULL;
}

int
rules_hit_get(const struct rules_db *db, uint32_t rule, struct rules_hit *hit)
{
	const struct rules_irule *r;
	struct span pattern;
	uint16_t n;

	if (rule >= db->nrules)
		return -ENOENT;
	r = &db->rules[rule];
	hit->rule = rule;
	hit->rank = r->rank;
	hit->code = r->code;
	hit->strip = r->strip;
	hit->kind = r->kind;
	hit->action = r->action;
	memcpy(&n, db->tlists + r->tlist_off, sizeof(n));
	hit->ntargets = n;
	rules_db_strings(db, rule, &hit->id, &hit->prepend, &pattern);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Targets: weighted rendezvous hashing without floating point        */

/* log2(1 + i/256) in Q20, i = 0..256 (generated with libm, rounded). */
static const uint32_t rules_log2_tab[257] = {
	0, 5898, 11773, 17625, 23454, 29262, 35047, 40810,
	46551, 52270, 57968, 63644, 69300, 74934, 80547, 86140,
	91711, 97263, 102794, 108305, 113796, 119267, 124719, 130151,
	135563, 140956, 146330, 151685, 157021, 162339, 167637, 172917,
	178179, 183423, 188648, 193856, 199045, 204217, 209372, 214508,
	219628, 224730, 229815, 234883, 239934, 244968, 249985, 254986,
	259971, 264939, 269891, 274826, 279746, 284650, 289537, 294409,
	299266, 304107, 308932, 313742, 318537, 323317, 328082, 332831,
	337566, 342286, 346991, 351682, 356359, 361020, 365668, 370301,
	374920, 379526, 384117, 388694, 393257, 397807, 402343, 406866,
	411375, 415870, 420353, 424822, 429278, 433720, 438150, 442567,
	446971, 451362, 455741, 460107, 464460, 468801, 473129, 477445,
	481749, 486041, 490320, 494587, 498843, 503086, 507318, 511537,
	515745, 519942, 524126, 528300, 532461, 536612, 540750, 544878,
	548995, 553100, 557194, 561277, 565349, 569410, 573460, 577500,
	581529, 585547, 589554, 593551, 597537, 601513, 605478, 609433,
	613378, 617312, 621236, 625150, 629054, 632948, 636832, 640706,
	644570, 648424, 652269, 656103, 659928, 663744, 667549, 671345,
	675132, 678909, 682677, 686436, 690185, 693925, 697655, 701377,
	705089, 708792, 712487, 716172, 719848, 723515, 727174, 730823,
	734464, 738096, 741720, 745335, 748941, 752538, 756127, 759708,
	763280, 766844, 770399, 773946, 777484, 781015, 784537, 788051,
	791557, 795055, 798544, 802026, 805500, 808965, 812423, 815873,
	819315, 822749, 826176, 829594, 833005, 836409, 839804, 843192,
	846573, 849946, 853311, 856669, 860020, 863363, 866699, 870027,
	873348, 876662, 879969, 883268, 886561, 889846, 893124, 896394,
	899658, 902915, 906165, 909408, 912644, 915873, 919095, 922310,
	925518, 928720, 931915, 935103, 938284, 941459, 944627, 947789,
	950944, 954092, 957234, 960369, 963498, 966620, 969736, 972846,
	975949, 979046, 982136, 985220, 988298, 991370, 994435, 997494,
	1000547, 1003594, 1006635, 1009670, 1012698, 1015721, 1018737, 1021748,
	1024752, 1027751, 1030743, 1033730, 1036711, 1039686, 1042655, 1045618,
	1048576,
};

/*
 * log2(x) in Q20 fixed point for x >= 1: integer part from the leading
 * bit, fraction from the table with linear interpolation on the next 12
 * bits (error < 2^-17). Integer-only: no FP on the hot path.
 */
static inline uint32_t
rules_log2_q20(uint64_t x)
{
	uint32_t k = 63u - (uint32_t)__builtin_clzll(x), i, t;
	uint64_t m = k >= 20 ? x >> (k - 20) : x << (20 - k);  /* 1.20 bits */

	i = (uint32_t)(m >> 12) & 255;
	t = (uint32_t)m & 0xfff;
	return (k << 20) + rules_log2_tab[i] +
	       (((rules_log2_tab[i + 1] - rules_log2_tab[i]) * t) >> 12);
}

/*
 * Draw of one target: -log2(u) with u uniform in (0, 1], from the flow
 * hash and the target's stable identity. The target with the smallest
 * draw / weight wins (an exponential race: P(win) = w / sum(w)), which is
 * straw2 / weighted rendezvous; removing a target only moves its share.
 */
static inline uint32_t
rules_draw(uint64_t flow_hash, uint64_t ident)
{
	uint64_t u = (hash_mix64(flow_hash ^ ident) >> 16) + 1;    /* 1..2^48 */

	return (48u << 20) - rules_log2_q20(u);
}

/* a beats b: a.draw / a.w < b.draw / b.w, ties to the lower target. */
static inline bool
rules_beats(uint32_t da, uint32_t wa, uint32_t ta, uint32_t db_, uint32_t wb,
	    uint32_t tb)
{
	uint64_t l = (uint64_t)da * wb, r = (uint64_t)db_ * wa;

	return l < r || (l == r && ta < tb);
}

static inline bool
rules_target_up(const uint64_t *up, uint32_t t)
{
	return up == NULL || (up[t / 64] >> (t % 64) & 1) != 0;
}

static inline void
rules_dest_fill(const struct rules_db *db, const struct rules_ient *e,
		struct rules_dest *out)
{
	const struct rules_itarget *t = &db->targets[e->target];

	out->target = e->target;
	out->port = t->port;
	out->priority = e->priority;
	out->weight = e->weight;
	out->af = t->af;
	out->pad = 0;
	memcpy(out->addr, t->addr, sizeof(out->addr));
}

static inline const struct rules_ient *
rules_tlist(const struct rules_db *db, uint32_t rule, uint32_t *n)
{
	const unsigned char *p = db->tlists + db->rules[rule].tlist_off;
	uint16_t n16;

	memcpy(&n16, p, sizeof(n16));
	*n = n16;
	return (const struct rules_ient *)(const void *)(p + 4);
}

int
rules_pick_target(const struct rules_db *db, uint32_t rule,
		  uint64_t flow_hash, const uint64_t *up,
		  struct rules_dest *out)
{
	const struct rules_ient *e;
	uint32_t n, i, best = UINT32_MAX, bd = 0;

	if (rule >= db->nrules)
		return -ENOENT;
	e = rules_tlist(db, rule, &n);
	/* Entries are sorted by priority: stop at the end of the first tier
	 * that has an up target. */
	for (i = 0; i < n; i++) {
		uint32_t d;

		if (best != UINT32_MAX && e[i].priority != e[best].priority)
			break;
		if (!rules_target_up(up, e[i].target))
			continue;
		d = rules_draw(flow_hash, db->targets[e[i].target].ident);
		if (best == UINT32_MAX ||
		    rules_beats(d, e[i].weight, e[i].target, bd,
				e[best].weight, e[best].target)) {
			best = i;
			bd = d;
		}
	}
	if (best == UINT32_MAX)
		return -ENOENT;
	rules_dest_fill(db, &e[best], out);
	return 0;
}

int
rules_contacts(const struct rules_db *db, uint32_t rule, uint64_t flow_hash,
	       const uint64_t *up, struct rules_dest *out, uint32_t cap,
	       uint32_t *nout)
{
	uint32_t draw[RULES_TARGETS_MAX], idx[RULES_TARGETS_MAX];
	const struct rules_ient *e;
	uint32_t n, i, j, m = 0, tier_start = 0;

	if (rule >= db->nrules)
		return -ENOENT;
	e = rules_tlist(db, rule, &n);
	for (i = 0; i < n; i++) {
		if (!rules_target_up(up, e[i].target))
			continue;
		if (m != 0 && e[idx[m - 1]].priority != e[i].priority)
			tier_start = m;
		draw[m] = rules_draw(flow_hash, db->targets[e[i].target].ident);
		idx[m] = i;
		/* Insertion sort inside the current tier (<= 16 entries). */
		for (j = m; j > tier_start; j--) {
			uint32_t a = idx[j], b = idx[j - 1], t;

			if (!rules_beats(draw[j], e[a].weight, e[a].target,
					 draw[j - 1], e[b].weight, e[b].target))
				break;
			idx[j] = b;
			idx[j - 1] = a;
			t = draw[j];
			draw[j] = draw[j - 1];
			draw[j - 1] = t;
		}
		m++;
	}
	if (m == 0)
		return -ENOENT;
	for (i = 0; i < m && i < cap; i++)
		rules_dest_fill(db, &e[idx[i]], &out[i]);
	*nout = i;
	return 0;
}

int
rules_db_target(const struct rules_db *db, uint32_t t, struct rules_dest *out)
{
	struct rules_ient e = { .target = t };

	if (t >= db->ntargets)
		return -ENOENT;
	rules_dest_fill(db, &e, out);
	out->priority = 0;
	out->weight = 0;
	return 0;
}

bool
rules_rewrites_user(const struct rules_db *db, uint32_t rule)
{
	struct span id, pre, pat;

	if (rule >= db->nrules)
		return false;
	rules_db_strings(db, rule, &id, &pre, &pat);
	return db->rules[rule].strip != 0 || pre.len != 0;
}

int
rules_rewrite_user(const struct rules_db *db, uint32_t rule,
		   const struct rules_key *key, char *buf, uint32_t cap,
		   uint32_t *len)
{
	struct span id, pre, pat;
	uint32_t strip, rest;

	if (rule >= db->nrules)
		return -ENOENT;
	rules_db_strings(db, rule, &id, &pre, &pat);
	strip = db->rules[rule].strip;
	if (strip > key->num_len)
		strip = key->num_len;
	rest = key->num_len - strip;
	if (pre.len + rest > cap)
		return -ENOSPC;
	if (pre.len != 0)
		memcpy(buf, pre.ptr, pre.len);
	if (rest != 0)
		memcpy(buf + pre.len, key->num + strip, rest);
	*len = pre.len + rest;
	return 0;
}
