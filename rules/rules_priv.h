/* SPDX-License-Identifier: MIT */
/*
 * rules_priv.h - internals shared by the files of rules/ only: the rule-set
 * representation and the byte layout of compiled images (README.md).
 */
#ifndef SIPEDGE_RULES_RULES_PRIV_H
#define SIPEDGE_RULES_RULES_PRIV_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <hs/hs.h>

#include <compiler.h>

#include "rules.h"

BUILD_ASSERT(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	     "images are little-endian and read in place");

/* ------------------------------------------------------------------ */
/* Rule sets (control side)                                           */

/* One stored rule: strings and targets live in the set's arenas. */
struct rules_srule {
	uint64_t         str_off;       /* id, then pattern, then prepend */
	uint32_t         tgt_off;       /* first target in set->tgt */
	uint32_t         ntargets;
	uint32_t         rank;
	uint32_t         line;
	uint16_t         id_len;
	uint16_t         pat_len;
	uint16_t         pre_len;
	uint16_t         strip;
	uint16_t         code;
	uint8_t          kind;
	uint8_t          action;
};

/* A target host name of a set, and how many of its rules' targets name
 * it (rules_set_name_next() skips names no rule uses any more). */
struct rules_name {
	uint32_t         refs;
	uint8_t          len;
	char             s[];           /* NUL-terminated */
};

struct rules_set {
	struct rules_srule      *rule;
	uint32_t                 n;
	uint32_t                 cap;
	char                    *str;           /* string arena */
	uint64_t                 str_len;
	uint64_t                 str_cap;
	struct rules_target     *tgt;           /* target arena */
	uint32_t                 tgt_len;
	uint32_t                 tgt_cap;
	uint64_t                *idx;           /* hash << 32 | rule + 1; 0 empty */
	uint32_t                 idx_mask;
	uint32_t                 counts[RULES_KIND__COUNT];
	uint32_t                 last_tgt_off;  /* dedup of repeated lists */
	uint32_t                 last_ntargets;
	/* Target host names, each stored once (malloc()ed, never moved). */
	struct rules_name      **names;
	uint32_t                 names_n;
	uint32_t                 names_mask;    /* 0 until the first name */
};

/* ntargets of a row whose targets field did not parse (already reported). */
#define RULES_NTARGETS_BAD      UINT32_MAX

/* code of a row whose code field did not parse (already reported). */
#define RULES_CODE_BAD          UINT16_MAX

void rules_srule_view(const struct rules_set *set, const struct rules_srule *r,
		      struct rules_rule *out);
int rules_rule_check(const struct rules_rule *rule, struct rules_errors *errs);
int rules_set_insert(struct rules_set *set, const struct rules_rule *rule,
		     bool replace, bool check_only, struct rules_errors *errs);
int rules_fields_to_rule(const struct span *f, uint32_t nf, uint32_t line,
			 struct rules_rule *rule, struct rules_target *tbuf,
			 struct rules_errors *errs);
int rules_csv_split_row(const char *row, size_t len, struct span *f,
			uint32_t maxf, uint32_t *nf, char *buf, size_t cap);
uint64_t rules_hash_bytes(const void *p, size_t len);

/* Normalised literal pattern: "+44" and "44" are the same rule. */
static inline struct span
rules_literal_norm(struct span pat)
{
	if (pat.len != 0 && pat.ptr[0] == '+')
		return span_make(pat.ptr + 1, pat.len - 1);
	return pat;
}

/* ------------------------------------------------------------------ */
/* Image layout (all little-endian; README.md "Image format")         */

#define RULES_IMG_MAGIC         "SPEDRULE"
#define RULES_IMG_VERSION       3
#define RULES_IMG_ALIGN         64

enum rules_sec {
	RULES_SEC_RULES = 0,    /* struct rules_irule[nrules] */
	RULES_SEC_TARGETS,      /* struct rules_itarget[ntargets] */
	RULES_SEC_TLISTS,       /* u16 n, u16 0, struct rules_ient[n] ... */
	RULES_SEC_STRINGS,      /* u8 idlen id u8 prelen prepend u16 patlen pat */
	RULES_SEC_TRIE,         /* struct rules_inode[nnodes] */
	RULES_SEC_DOMAINS,      /* u32 slots[nslots]; entries */
	RULES_SEC_HSDB,         /* regex databases (see below) */
	RULES_SEC_TRIE_DIR,     /* u32 dir[10^dir_digits] */
	RULES_SEC__COUNT
};

struct rules_isec {
	uint64_t         off;
	uint64_t         len;
};

struct rules_ihdr {
	char             magic[8];
	uint32_t         version;
	uint32_t         hdr_size;      /* sizeof(struct rules_ihdr) */
	uint64_t         total_size;
	uint32_t         checksum;      /* CRC32C of the image, this field 0 */
	uint32_t         flags;
	uint32_t         nrules;
	uint32_t         ntargets;
	uint32_t         nnodes;
	uint32_t         dom_slots;     /* power of two, or 0 */
	uint32_t         best_default;  /* RULES_NO_RULE if none */
	uint32_t         min_regex;     /* lowest regex rule number */
	uint32_t         min_domain;    /* lowest domain rule number */
	uint32_t         counts[RULES_KIND__COUNT];
	uint32_t         dir_digits;    /* trie directory: key digits, or 0 */
	uint32_t         reserved[3];
	struct rules_isec sec[RULES_SEC__COUNT];
};
BUILD_ASSERT(sizeof(struct rules_ihdr) == 224, "image header layout");

/* Rule record; rule numbers are positions in the total order. */
struct rules_irule {
	uint32_t         str_off;       /* in RULES_SEC_STRINGS */
	uint32_t         tlist_off;     /* in RULES_SEC_TLISTS */
	uint16_t         rank;
	uint16_t         code;
	uint8_t          kind;
	uint8_t          action;
	uint8_t          strip;
	uint8_t          pad;
};
BUILD_ASSERT(sizeof(struct rules_irule) == 16, "rule record layout");

struct rules_itarget {
	uint8_t          af;
	uint8_t          pad;
	uint16_t         port;
	uint32_t         pad2;
	uint64_t         ident;         /* stable hash of address and port */
	uint8_t          addr[16];
};
BUILD_ASSERT(sizeof(struct rules_itarget) == 32, "target record layout");

struct rules_ient {
	uint32_t         target;
	uint16_t         priority;
	uint16_t         weight;
};

/*
 * Trie node (path-compressed). Children of a node are contiguous, in
 * symbol order, from first; symbols 0-9 are digits, RULES_TRIE_END the end
 * of an exact key. Entering a child consumes its symbol and then the
 * child's nskip digits (skip, 4 bits each, first digit lowest): chains of
 * nodes that neither branch nor hold a better rule are folded this way.
 * best is the lowest rule number among prefix rules on the path to this
 * node (for an END node: and the exact rules of that key).
 */
#define RULES_TRIE_END          10
#define RULES_TRIE_SKIP_MAX     8
struct rules_inode {
	uint32_t         first;
	uint32_t         best;
	uint16_t         bits;
	uint8_t          nskip;
	uint8_t          pad;
	uint32_t         skip;
};
BUILD_ASSERT(sizeof(struct rules_inode) == 16, "trie node layout");

/*
 * Trie directory: for a key whose first dir_digits characters are digits,
 * dir[those digits as a number] = node << 4 | pos says where the walk
 * from the root stands after them: at node, entered with its symbol
 * ending at key position pos (its folded digits, already known to match,
 * follow). The walk goes on from there exactly as it would have. Its
 * size follows the trie: the largest dir_digits <= RULES_TRIE_DIR_MAX with
 * 10^dir_digits <= 2 * nodes (about a quarter of the trie's bytes).
 */
/* 6 digits (a 4 MB directory) made single 1M-prefix lookups slower: 199
 * against 157 ns median, interleaved runs of bench_rules_match prefix_1m. */
#define RULES_TRIE_DIR_MAX      5
#define RULES_TRIE_DIR_NODES    (1u << 28)

/* Bits set in a node's child mask; portable and branch-free (no -mpopcnt). */
static inline uint32_t
rules_popcount16(uint32_t x)
{
	x = x - ((x >> 1) & 0x5555u);
	x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
	x = (x + (x >> 4)) & 0x0f0fu;
	return (x + (x >> 8)) & 0x1fu;
}

/*
 * Regex section (RULES_SEC_HSDB): u32 ndb, u32 0, then ndb x
 * struct rules_isec {offset from the section start, length} of serialised
 * Hyperscan databases, each 8-byte aligned. Database 0 holds every regex
 * rule. With RULES_RE_NDB databases, the rest split the same patterns by
 * the digits every match must start with: 1 those with no leading digit,
 * 2 + b those whose first two digits are b (00-99; a single leading digit
 * d is in all ten buckets d0-d9). A key that starts with two digits is
 * scanned against database 1 and its bucket; any other key against
 * database 0. A length of 0 is an empty database, not scanned.
 */
/*
 * Hyperscan flags of every regex rule, at compile and at import check: one
 * match is enough, a pattern may match the empty key, and '.' matches any
 * byte, a line break too (a key is an unescaped user part, which %0A can
 * put one in: ".*" must still match every key).
 */
#define RULES_HS_FLAGS_CHECK    (HS_FLAG_ALLOWEMPTY | HS_FLAG_DOTALL)
#define RULES_HS_FLAGS          (RULES_HS_FLAGS_CHECK | HS_FLAG_SINGLEMATCH)

#define RULES_RE_BUCKETS        100
#define RULES_RE_NDB            (2 + RULES_RE_BUCKETS)
#define RULES_RE_SPLIT_MIN      256     /* fewer regex rules: one database */

/* Domain entry, 4-byte aligned: exact-host and "*." wildcard winners. */
struct rules_idom {
	uint32_t         best_exact;
	uint32_t         best_wild;
	uint32_t         len;
	/* name bytes follow, lower case, padded to 4 */
};

/* ------------------------------------------------------------------ */
/* Loaded image                                                       */

struct rules_db {
	unsigned char                   *img;
	size_t                           len;
	const struct rules_ihdr         *hdr;
	const struct rules_irule        *rules;
	const struct rules_itarget      *targets;
	const unsigned char             *tlists;
	const unsigned char             *strings;
	const struct rules_inode        *nodes;
	const uint32_t                  *dir;           /* NULL: no directory */
	const uint32_t                  *dir_img;       /* in the image */
	uint32_t                         dir_digits;
	const uint32_t                  *dom_slots;
	const unsigned char             *dom;
	size_t                           tlists_len;
	size_t                           strings_len;
	size_t                           dom_len;
	hs_database_t                   *hs;            /* every regex rule */
	hs_database_t                   *hs_sub[1 + RULES_RE_BUCKETS];
	bool                             hs_split;      /* hs_sub is used */
	bool                             owns_img;      /* copied by load */
	uint32_t                         nrules;
	uint32_t                         ntargets;
	uint32_t                         nnodes;
	uint32_t                         dom_mask;
	uint32_t                         best_default;
	uint32_t                         min_regex;
	uint32_t                         min_domain;
};

struct rules_scratch {
	hs_scratch_t    *hs;
};

uint32_t rules_crc32c(uint32_t crc, const void *buf, size_t len);

/* Hash for domain names: the same in the compiler and the matcher. */
static inline uint64_t
rules_dom_hash(const char *p, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

/* Strings of a rule in the image: id, prepend, pattern. */
static inline void
rules_db_strings(const struct rules_db *db, uint32_t rule, struct span *id,
		 struct span *prepend, struct span *pattern)
{
	const unsigned char *p = db->strings + db->rules[rule].str_off;
	uint16_t plen;

	*id = span_make((const char *)p + 1, p[0]);
	p += 1 + p[0];
	*prepend = span_make((const char *)p + 1, p[0]);
	p += 1 + p[0];
	memcpy(&plen, p, sizeof(plen));
	*pattern = span_make((const char *)p + 2, plen);
}

/* hs_error_t to negative errno, once, at the module boundary. */
static inline int
rules_hs_errno(hs_error_t e)
{
	switch (e) {
	case HS_SUCCESS:
		return 0;
	case HS_NOMEM:
		return -ENOMEM;
	case HS_INVALID:
	case HS_COMPILER_ERROR:
		return -EINVAL;
	default:
		return -EIO;
	}
}

#endif /* SIPEDGE_RULES_RULES_PRIV_H */
