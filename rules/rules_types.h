/* SPDX-License-Identifier: MIT */
/*
 * rules_types.h - types, enums and limits of the routing module.
 *
 * Types only (STYLE.md 2.5): no functions. The API is in rules.h.
 */
#ifndef SIPEDGE_RULES_RULES_TYPES_H
#define SIPEDGE_RULES_RULES_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <span.h>

/* Limits. Values beyond them are validation errors, never truncated. */
#define RULES_ID_MAX            64      /* bytes in a rule id */
#define RULES_PATTERN_MAX       1024    /* bytes in a pattern */
#define RULES_PREPEND_MAX       32      /* bytes in a prepend string */
#define RULES_TARGETS_MAX       16      /* targets per rule (and per
					   compiled list, names resolved) */
#define RULES_NAME_MAX          253     /* bytes in a target host name */
#define RULES_NAME_ADDRS_MAX    8       /* addresses taken from one name */
#define RULES_KEY_MAX           128     /* bytes in a normalised number key */
#define RULES_HOST_MAX          256     /* bytes in a normalised host key */
#define RULES_USER_OUT_MAX      (RULES_KEY_MAX + RULES_PREPEND_MAX)
#define RULES_ERRORS_KEEP       100     /* errors kept; all are counted */
#define RULES_ERROR_MSG_MAX     192
#define RULES_EXPLAIN_KEEP      64      /* matching rules kept by explain */
#define RULES_RANK_DEFAULT      100
#define RULES_RANK_MAX          65535
#define RULES_PRIORITY_DEFAULT  1
#define RULES_WEIGHT_DEFAULT    1

/* Rule number meaning "no rule" in a compiled image. */
#define RULES_NO_RULE           UINT32_MAX
/* rules_match_burst(): the regex scan failed for this key. */
#define RULES_MATCH_ERROR       (UINT32_MAX - 1)
/* Keys walked together by rules_match_burst() (larger bursts are split). */
#define RULES_BURST_MAX         64

/*
 * Rule kinds, in tie-break order (DESIGN.md 4.1): at equal rank an exact
 * rule beats a prefix rule, which beats a regex rule, and so on. The values
 * are stable: they are stored in compiled images.
 */
#define RULES_KIND_MAP(X)                                               \
	X(EXACT,        "exact")                                        \
	X(PREFIX,       "prefix")                                       \
	X(REGEX,        "regex")                                        \
	X(DOMAIN,       "domain")                                       \
	X(DEFAULT,      "default")

enum rules_kind {
#define X(sym, name) RULES_KIND_##sym,
	RULES_KIND_MAP(X)
#undef X
	RULES_KIND__COUNT
};

/* Stable values: stored in compiled images. */
#define RULES_ACTION_MAP(X)                                             \
	X(FORWARD,      "forward")                                      \
	X(REDIRECT,     "redirect")                                     \
	X(REJECT,       "reject")

enum rules_action {
#define X(sym, name) RULES_ACTION_##sym,
	RULES_ACTION_MAP(X)
#undef X
	RULES_ACTION__COUNT
};

/* CSV columns, in header order; NONE is "the row" or "the file". */
#define RULES_FIELD_MAP(X)                                              \
	X(NONE,         "row")                                          \
	X(ID,           "id")                                           \
	X(KIND,         "kind")                                         \
	X(PATTERN,      "pattern")                                      \
	X(ACTION,       "action")                                       \
	X(TARGETS,      "targets")                                      \
	X(RANK,         "rank")                                         \
	X(STRIP,        "strip")                                        \
	X(PREPEND,      "prepend")                                      \
	X(CODE,         "code")

enum rules_field {
#define X(sym, name) RULES_FIELD_##sym,
	RULES_FIELD_MAP(X)
#undef X
	RULES_FIELD__COUNT
};

/*
 * Which tie-break decided between the winner and the best other matching
 * rule (DESIGN.md 4.1 total order).
 */
#define RULES_WHY_MAP(X)                                                \
	X(NO_MATCH,     "no rule matched")                              \
	X(ONLY,         "only matching rule")                           \
	X(RANK,         "lower rank")                                   \
	X(KIND,         "rule kind (exact > prefix > regex > domain > default)") \
	X(PREFIX_LEN,   "longer prefix")                                \
	X(ID,           "lower id in byte order")

enum rules_why {
#define X(sym, desc) RULES_WHY_##sym,
	RULES_WHY_MAP(X)
#undef X
	RULES_WHY__COUNT
};

/*
 * Address family of a target. Compiled images hold IP literals only; a
 * rule set may also name a host, which the control process resolves
 * before compiling (rules_compile_resolved()).
 */
enum rules_af {
	RULES_AF_NAME = 0,
	RULES_AF_INET = 4,
	RULES_AF_INET6 = 6,
};

/* One entry of a rule's target list: host:port/priority/weight. */
struct rules_target {
	uint8_t          af;            /* enum rules_af */
	uint8_t          name_len;      /* RULES_AF_NAME: bytes at name */
	uint16_t         port;          /* 1..65535 */
	uint16_t         priority;      /* lower is preferred */
	uint16_t         weight;        /* share within a priority tier, >= 1 */
	uint8_t          addr[16];      /* network order; IPv4 in addr[0..3] */
	const char      *name;          /* RULES_AF_NAME: host name, as
					   written; NULL for IP literals */
};

/* One address a host name resolves to (rules_resolve_fn). */
struct rules_addr {
	uint8_t          af;            /* RULES_AF_INET or RULES_AF_INET6 */
	uint8_t          addr[16];      /* network order; IPv4 in addr[0..3] */
};

/*
 * A rule as the application sees it: read from a rule set (spans point into
 * the set) or given to rules_set_add() (spans are copied).
 * Patterns are kept as written; the compiler normalises them.
 */
struct rules_rule {
	struct span                      id;
	struct span                      pattern;
	struct span                      prepend;
	const struct rules_target       *targets;
	uint32_t                         ntargets;
	uint32_t                         rank;          /* 0..RULES_RANK_MAX */
	uint32_t                         line;          /* CSV line, 0 if none */
	uint16_t                         strip;         /* leading chars removed */
	uint16_t                         code;          /* reject: 400..699 */
	uint8_t                          kind;          /* enum rules_kind */
	uint8_t                          action;        /* enum rules_action */
};

/* One validation or compile error. */
struct rules_error {
	uint32_t         line;          /* 1-based CSV line; 0 if none */
	uint8_t          field;         /* enum rules_field */
	char             msg[RULES_ERROR_MSG_MAX];     /* NUL-terminated */
};

/* The first RULES_ERRORS_KEEP errors, and how many there were in all. */
struct rules_errors {
	uint64_t                 total;
	uint32_t                 n;
	struct rules_error       e[RULES_ERRORS_KEEP];
};

/* Difference between two rule sets, by kind (of the new rule if changed). */
struct rules_diff {
	uint32_t         added[RULES_KIND__COUNT];
	uint32_t         removed[RULES_KIND__COUNT];
	uint32_t         changed[RULES_KIND__COUNT];
	uint32_t         unchanged;
};

/* A normalised match key (DESIGN.md 4.1); built by rules_key_make(). */
struct rules_key {
	uint32_t         num_len;
	uint32_t         host_len;
	char             num[RULES_KEY_MAX];
	char             host[RULES_HOST_MAX];
};

/* A chosen destination: one target of the winning rule. */
struct rules_dest {
	uint32_t         target;        /* index in the image's target table */
	uint16_t         port;
	uint16_t         priority;
	uint16_t         weight;
	uint8_t          af;            /* enum rules_af */
	uint8_t          pad;
	uint8_t          addr[16];
};

/* What a worker needs to act on the winning rule. Spans point into the db. */
struct rules_hit {
	uint32_t         rule;          /* rule number in the image */
	uint32_t         rank;
	uint32_t         ntargets;
	uint16_t         code;
	uint16_t         strip;
	uint8_t          kind;
	uint8_t          action;
	struct span      id;
	struct span      prepend;
};

/* One matching rule as reported by rules_explain(). */
struct rules_explain_match {
	uint32_t         rule;
	uint32_t         rank;
	uint8_t          kind;
	uint8_t          action;
	uint16_t         code;
	struct span      id;            /* points into the db */
	struct span      pattern;       /* normalised; points into the db */
};

/*
 * Everything explain knows about one key. Caller-allocated (it is large);
 * spans point into the db and live as long as it.
 */
struct rules_explain {
	struct rules_key                 key;
	uint32_t                         nmatch;        /* all matching rules */
	uint32_t                         nkept;         /* in match[], best first */
	struct rules_explain_match       match[RULES_EXPLAIN_KEEP];
	uint32_t                         winner;        /* RULES_NO_RULE if none */
	uint8_t                          why;           /* enum rules_why */
	bool                             fast_agrees;   /* rules_match() same */
	int                              target_rc;     /* rules_pick_target() */
	struct rules_dest                target;
	uint32_t                         ncontacts;
	struct rules_dest                contacts[RULES_TARGETS_MAX];
	uint32_t                         user_out_len;
	char                             user_out[RULES_USER_OUT_MAX];
};

#endif /* SIPEDGE_RULES_RULES_TYPES_H */
