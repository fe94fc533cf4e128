/* SPDX-License-Identifier: MIT */
/*
 * rules_set.c - the rule model: rule sets, validation of one rule, parsing
 * of the text fields of a row, diff and merge. Slow path (control process).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include <addrport.h>
#include <hash.h>
#include <utf8.h>

#include "rules_priv.h"

static const char *const rules_kind_names[] = {
#define X(sym, name) name,
	RULES_KIND_MAP(X)
#undef X
};

static const char *const rules_action_names[] = {
#define X(sym, name) name,
	RULES_ACTION_MAP(X)
#undef X
};

static const char *const rules_field_names[] = {
#define X(sym, name) name,
	RULES_FIELD_MAP(X)
#undef X
};

static const char *const rules_why_descs[] = {
#define X(sym, desc) desc,
	RULES_WHY_MAP(X)
#undef X
};

const char *
rules_kind_name(unsigned int kind)
{
	return kind < RULES_KIND__COUNT ? rules_kind_names[kind] : "?";
}

const char *
rules_action_name(unsigned int action)
{
	return action < RULES_ACTION__COUNT ? rules_action_names[action] : "?";
}

const char *
rules_field_name(unsigned int field)
{
	return field < RULES_FIELD__COUNT ? rules_field_names[field] : "?";
}

const char *
rules_why_desc(unsigned int why)
{
	return why < RULES_WHY__COUNT ? rules_why_descs[why] : "?";
}

void
rules_errors_reset(struct rules_errors *errs)
{
	if (errs != NULL) {
		errs->total = 0;
		errs->n = 0;
	}
}

void
rules_errors_add(struct rules_errors *errs, uint32_t line, unsigned int field,
		 const char *fmt, ...)
{
	struct rules_error *e;
	va_list ap;

	if (errs == NULL)
		return;
	errs->total++;
	if (errs->n >= RULES_ERRORS_KEEP)
		return;
	e = &errs->e[errs->n++];
	e->line = line;
	e->field = (uint8_t)field;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Printable excerpt of a field for messages: at most 40 bytes, quoted. */
#define RULES_SHOW(s)   (int)((s).len > 40 ? 40 : (s).len), (s).ptr, \
			((s).len > 40 ? "..." : "")

uint64_t
rules_hash_bytes(const void *p, size_t len)
{
	static const struct hash_key k = {
		.k0 = 0x736970656467652dULL, .k1 = 0x72756c65732d6964ULL,
	};

	return siphash24(&k, p, len);
}

/* ------------------------------------------------------------------ */
/* Sets                                                               */

int
rules_set_new(struct rules_set **out)
{
	struct rules_set *set;

	set = calloc(1, sizeof(*set));
	if (set == NULL)
		return -ENOMEM;
	set->idx_mask = 1023;
	set->idx = calloc(set->idx_mask + 1, sizeof(*set->idx));
	if (set->idx == NULL) {
		free(set);
		return -ENOMEM;
	}
	set->last_tgt_off = UINT32_MAX;
	*out = set;
	return 0;
}

void
rules_set_free(struct rules_set *set)
{
	uint32_t i;

	if (set == NULL)
		return;
	for (i = 0; i <= set->names_mask && set->names != NULL; i++)
		free(set->names[i]);
	free(set->names);
	free(set->rule);
	free(set->str);
	free(set->tgt);
	free(set->idx);
	free(set);
}

uint32_t
rules_set_count(const struct rules_set *set, uint32_t counts[RULES_KIND__COUNT])
{
	if (counts != NULL)
		memcpy(counts, set->counts, sizeof(set->counts));
	return set->n;
}

void
rules_srule_view(const struct rules_set *set, const struct rules_srule *r,
		 struct rules_rule *out)
{
	const char *s = set->str + r->str_off;

	out->id = span_make(s, r->id_len);
	out->pattern = span_make(s + r->id_len, r->pat_len);
	out->prepend = span_make(s + r->id_len + r->pat_len, r->pre_len);
	out->targets = r->ntargets != 0 ? set->tgt + r->tgt_off : NULL;
	out->ntargets = r->ntargets;
	out->rank = r->rank;
	out->line = r->line;
	out->strip = r->strip;
	out->code = r->code;
	out->kind = r->kind;
	out->action = r->action;
}

int
rules_set_get(const struct rules_set *set, uint32_t idx, struct rules_rule *out)
{
	if (idx >= set->n)
		return -ENOENT;
	rules_srule_view(set, &set->rule[idx], out);
	return 0;
}

static bool
rules_srule_id_eq(const struct rules_set *set, const struct rules_srule *r,
		  struct span id)
{
	return r->id_len == id.len &&
	       memcmp(set->str + r->str_off, id.ptr, id.len) == 0;
}

#define RULES_IDX_RULE(v)       ((uint32_t)(v))
#define RULES_IDX_HASH(v)       ((uint32_t)((v) >> 32))

/*
 * Slot of @p id in the index: the slot holding it, or the empty one.
 * Slots keep the id's hash, so probing and growing rarely touch the
 * string arena (one cache miss per comparison at a million rules).
 */
static uint32_t
rules_set_slot_h(const struct rules_set *set, struct span id, uint32_t h)
{
	uint32_t i = h & set->idx_mask;
	uint64_t v;

	while ((v = set->idx[i]) != 0) {
		if (RULES_IDX_HASH(v) == h &&
		    rules_srule_id_eq(set, &set->rule[RULES_IDX_RULE(v) - 1], id))
			break;
		i = (i + 1) & set->idx_mask;
	}
	return i;
}

static uint32_t
rules_id_hash(struct span id)
{
	return (uint32_t)rules_hash_bytes(id.ptr, id.len);
}

static uint32_t
rules_set_slot(const struct rules_set *set, struct span id)
{
	return rules_set_slot_h(set, id, rules_id_hash(id));
}

static uint32_t
rules_set_lookup(const struct rules_set *set, struct span id)
{
	uint64_t v = set->idx[rules_set_slot(set, id)];

	return v != 0 ? RULES_IDX_RULE(v) - 1 : UINT32_MAX;
}

int
rules_set_find(const struct rules_set *set, struct span id,
	       struct rules_rule *out)
{
	uint32_t i = rules_set_lookup(set, id);

	if (i == UINT32_MAX)
		return -ENOENT;
	rules_srule_view(set, &set->rule[i], out);
	return 0;
}

static int
rules_set_grow_idx(struct rules_set *set)
{
	uint64_t *old = set->idx;
	uint32_t oldmask = set->idx_mask, i, j;
	uint32_t mask = oldmask * 2 + 1;

	set->idx = calloc((size_t)mask + 1, sizeof(*set->idx));
	if (set->idx == NULL) {
		set->idx = old;
		return -ENOMEM;
	}
	set->idx_mask = mask;
	for (i = 0; i <= oldmask; i++) {
		if (old[i] == 0)
			continue;
		j = RULES_IDX_HASH(old[i]) & mask;
		while (set->idx[j] != 0)
			j = (j + 1) & mask;
		set->idx[j] = old[i];
	}
	free(old);
	return 0;
}

/* Remove slot @p i from the linear-probing index (backward shift). */
static void
rules_set_idx_remove(struct rules_set *set, uint32_t i)
{
	uint32_t j = i, k;

	for (;;) {
		set->idx[i] = 0;
		for (;;) {
			j = (j + 1) & set->idx_mask;
			if (set->idx[j] == 0)
				return;
			k = RULES_IDX_HASH(set->idx[j]) & set->idx_mask;
			/* Move j back to i unless its home k lies in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		set->idx[i] = set->idx[j];
		i = j;
	}
}

static int
rules_set_reserve(struct rules_set *set, size_t nstr, uint32_t ntgt)
{
	if (set->n == set->cap) {
		uint32_t cap = set->cap != 0 ? set->cap * 2 : 1024;
		struct rules_srule *r;

		r = realloc(set->rule, (size_t)cap * sizeof(*r));
		if (r == NULL)
			return -ENOMEM;
		set->rule = r;
		set->cap = cap;
	}
	if (set->str_len + nstr > set->str_cap) {
		uint64_t cap = set->str_cap != 0 ? set->str_cap * 2 : 65536;
		char *s;

		while (cap < set->str_len + nstr)
			cap *= 2;
		s = realloc(set->str, cap);
		if (s == NULL)
			return -ENOMEM;
		set->str = s;
		set->str_cap = cap;
	}
	if (set->tgt_len + ntgt > set->tgt_cap) {
		uint32_t cap = set->tgt_cap != 0 ? set->tgt_cap * 2 : 1024;
		struct rules_target *t;

		while (cap < set->tgt_len + ntgt)
			cap *= 2;
		t = realloc(set->tgt, (size_t)cap * sizeof(*t));
		if (t == NULL)
			return -ENOMEM;
		set->tgt = t;
		set->tgt_cap = cap;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Validation of one rule                                             */

static bool
rules_is_host_char(unsigned char c)
{
	return span_is_digit(c) || (unsigned char)((c | 0x20) - 'a') < 26 ||
	       c == '-' || c == '.';
}

static void
rules_check_literal(const struct rules_rule *r, struct rules_errors *errs,
		    int *bad)
{
	struct span p = rules_literal_norm(r->pattern);
	uint32_t i;

	if (p.len == 0) {
		rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
				 "%s pattern has no digits (use kind default to match everything)",
				 rules_kind_name(r->kind));
		*bad = 1;
		return;
	}
	if (p.len > RULES_KEY_MAX) {
		rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
				 "pattern longer than %d digits", RULES_KEY_MAX);
		*bad = 1;
		return;
	}
	for (i = 0; i < p.len; i++) {
		if (!span_is_digit((unsigned char)p.ptr[i])) {
			rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
					 "bad digit '%c' at position %u in '%.*s%s': %s patterns are digits with an optional leading +",
					 p.ptr[i] >= 0x20 && p.ptr[i] < 0x7f ? p.ptr[i] : '?',
					 (unsigned int)(i + 1 + (p.ptr != r->pattern.ptr)),
					 RULES_SHOW(r->pattern),
					 rules_kind_name(r->kind));
			*bad = 1;
			return;
		}
	}
}

static void
rules_check_regex(const struct rules_rule *r, struct rules_errors *errs,
		  int *bad)
{
	char buf[RULES_PATTERN_MAX + 1], wrapped[RULES_PATTERN_MAX + 10];
	hs_compile_error_t *cerr = NULL;
	hs_expr_info_t *info = NULL;

	if (r->pattern.len == 0 || r->pattern.len > RULES_PATTERN_MAX) {
		rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
				 r->pattern.len == 0 ? "empty regex" :
				 "regex longer than %d bytes",
				 RULES_PATTERN_MAX);
		*bad = 1;
		return;
	}
	if (memchr(r->pattern.ptr, '\0', r->pattern.len) != NULL) {
		rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
				 "regex contains a NUL byte");
		*bad = 1;
		return;
	}
	memcpy(buf, r->pattern.ptr, r->pattern.len);
	buf[r->pattern.len] = '\0';
	if (hs_expression_info(buf, RULES_HS_FLAGS_CHECK, &info, &cerr) !=
	    HS_SUCCESS) {
		rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
				 "regex '%.*s%s' rejected by Hyperscan: %s",
				 RULES_SHOW(r->pattern),
				 cerr != NULL ? cerr->message : "unknown error");
		hs_free_compile_error(cerr);
		*bad = 1;
		return;
	}
	free(info);
	info = NULL;

	/*
	 * The compiler anchors the pattern to the whole key as \A(?:...)\z.
	 * A pattern that is valid alone can swallow that suffix (an open \Q,
	 * a (?x) comment): check the anchored form too.
	 */
	memcpy(wrapped, "\\A(?:", 5);
	memcpy(wrapped + 5, r->pattern.ptr, r->pattern.len);
	memcpy(wrapped + 5 + r->pattern.len, ")\\z", 4);
	if (hs_expression_info(wrapped, RULES_HS_FLAGS_CHECK, &info, &cerr) !=
	    HS_SUCCESS) {
		rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
				 "regex '%.*s%s' cannot be anchored to the whole key (an open \\Q or (?x) comment, or a leading (*VERB), which the anchoring cannot follow?): %s",
				 RULES_SHOW(r->pattern),
				 cerr != NULL ? cerr->message : "unknown error");
		hs_free_compile_error(cerr);
		*bad = 1;
		return;
	}
	free(info);
}

static void
rules_check_domain(const struct rules_rule *r, struct rules_errors *errs,
		   int *bad)
{
	struct span p = r->pattern;
	uint32_t i;

	if (p.len >= 2 && p.ptr[0] == '*' && p.ptr[1] == '.')
		p = span_make(p.ptr + 2, p.len - 2);
	if (p.len == 0 || p.len > RULES_HOST_MAX) {
		rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
				 "domain must be a host name or *.suffix of at most %d bytes",
				 RULES_HOST_MAX);
		*bad = 1;
		return;
	}
	for (i = 0; i < p.len; i++) {
		if (!rules_is_host_char((unsigned char)p.ptr[i])) {
			rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
					 "bad character in domain '%.*s%s' (letters, digits, '-', '.', and a leading '*.' only)",
					 RULES_SHOW(r->pattern));
			*bad = 1;
			return;
		}
	}
	if (p.ptr[0] == '.' || p.ptr[p.len - 1] == '.') {
		rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
				 "domain '%.*s%s' starts or ends with '.'",
				 RULES_SHOW(r->pattern));
		*bad = 1;
	}
}

/* Same next hop: family, port and address, or the host name (no case). */
static bool
rules_target_same(const struct rules_target *a, const struct rules_target *b)
{
	if (a->af != b->af || a->port != b->port)
		return false;
	if (a->af == RULES_AF_NAME)
		return a->name_len == b->name_len &&
		       strncasecmp(a->name, b->name, a->name_len) == 0;
	return memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

bool
rules_addr_usable(uint8_t af, const uint8_t addr[16])
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (af == RULES_AF_INET)
		return addr[0] != 0 && addr[0] != 127 && addr[0] < 224;
	return af == RULES_AF_INET6 && memcmp(addr, zero, 15) != 0 &&
	       addr[0] != 0xff && memcmp(addr, mapped, 12) != 0 &&
	       !(addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80);
}

bool
rules_host_name_ok(struct span h)
{
	char buf[RULES_NAME_MAX + 1];
	uint32_t i, label = 0;
	struct in_addr a;
	bool alpha = false;

	if (h.len == 0 || h.len > RULES_NAME_MAX)
		return false;
	for (i = 0; i < h.len; i++) {
		unsigned char c = (unsigned char)h.ptr[i];

		if (c == '.') {
			if (label == 0 || h.ptr[i - 1] == '-')
				return false;
			label = 0;
			alpha = false;
			continue;
		}
		if (!rules_is_host_char(c) && c != '_')
			return false;
		if ((c == '-' && label == 0) || ++label > 63)
			return false;
		if (!span_is_digit(c))
			alpha = true;
	}
	/* The last label is not all digits: "10.0.0.256" is no name. */
	if (label == 0 || h.ptr[h.len - 1] == '-' || !alpha)
		return false;
	/* Nor is what inet_aton() reads as an address ("0x7f.1"). */
	memcpy(buf, h.ptr, h.len);
	buf[h.len] = '\0';
	return inet_aton(buf, &a) == 0;
}

/**
 * Check one rule against DESIGN.md 4.1 and report every problem.
 * Fields whose text did not parse carry an out-of-range kind or action;
 * checks that depend on them are skipped (the parse error is reported).
 *
 * @return
 *   0, or -EINVAL if anything was reported.
 */
int
rules_rule_check(const struct rules_rule *r, struct rules_errors *errs)
{
	uint32_t i, j;
	int bad = 0;

	if (r->id.len == 0) {
		rules_errors_add(errs, r->line, RULES_FIELD_ID, "empty id");
		bad = 1;
	} else if (r->id.len > RULES_ID_MAX) {
		rules_errors_add(errs, r->line, RULES_FIELD_ID,
				 "id longer than %d bytes", RULES_ID_MAX);
		bad = 1;
	} else {
		for (i = 0; i < r->id.len; i++) {
			unsigned char c = (unsigned char)r->id.ptr[i];

			if (c <= 0x20 || c == 0x7f) {
				rules_errors_add(errs, r->line, RULES_FIELD_ID,
						 "id contains a space or control character");
				bad = 1;
				break;
			}
		}
		/* Ids go into JSON replies and come back as arguments. */
		if (!bad && !utf8_valid(r->id.ptr, r->id.len)) {
			rules_errors_add(errs, r->line, RULES_FIELD_ID,
					 "id is not valid UTF-8");
			bad = 1;
		}
	}

	switch (r->kind) {
	case RULES_KIND_EXACT:
	case RULES_KIND_PREFIX:
		rules_check_literal(r, errs, &bad);
		break;
	case RULES_KIND_REGEX:
		rules_check_regex(r, errs, &bad);
		break;
	case RULES_KIND_DOMAIN:
		rules_check_domain(r, errs, &bad);
		break;
	case RULES_KIND_DEFAULT:
		if (r->pattern.len != 0) {
			rules_errors_add(errs, r->line, RULES_FIELD_PATTERN,
					 "default rules take no pattern");
			bad = 1;
		}
		break;
	default:
		bad = 1;        /* reported by the field parser */
		break;
	}

	switch (r->action) {
	case RULES_ACTION_FORWARD:
	case RULES_ACTION_REDIRECT:
		if (r->ntargets == 0) {
			rules_errors_add(errs, r->line, RULES_FIELD_TARGETS,
					 "%s needs at least one target",
					 rules_action_name(r->action));
			bad = 1;
		}
		if (r->code == RULES_CODE_BAD) {
			bad = 1;
		} else if (r->code != 0) {
			rules_errors_add(errs, r->line, RULES_FIELD_CODE,
					 "code is only for reject");
			bad = 1;
		}
		break;
	case RULES_ACTION_REJECT:
		if (r->code == RULES_CODE_BAD) {
			bad = 1;
		} else if (r->code < 400 || r->code > 699) {
			rules_errors_add(errs, r->line, RULES_FIELD_CODE,
					 r->code == 0 ? "reject needs a code (400-699)" :
					 "reject code %u out of range 400-699",
					 r->code);
			bad = 1;
		}
		if (r->ntargets != 0 && r->ntargets != RULES_NTARGETS_BAD) {
			rules_errors_add(errs, r->line, RULES_FIELD_TARGETS,
					 "reject takes no targets");
			bad = 1;
		}
		break;
	default:
		bad = 1;
		break;
	}

	if (r->ntargets == RULES_NTARGETS_BAD) {
		bad = 1;        /* reported by the field parser */
	} else if (r->ntargets > RULES_TARGETS_MAX) {
		rules_errors_add(errs, r->line, RULES_FIELD_TARGETS,
				 "more than %d targets", RULES_TARGETS_MAX);
		bad = 1;
	} else {
		for (i = 0; i < r->ntargets; i++) {
			const struct rules_target *t = &r->targets[i];

			if ((t->af != RULES_AF_INET && t->af != RULES_AF_INET6 &&
			     t->af != RULES_AF_NAME) ||
			    t->port == 0 || t->weight == 0) {
				rules_errors_add(errs, r->line, RULES_FIELD_TARGETS,
						 "target %u: bad address family, port 0 or weight 0",
						 i + 1);
				bad = 1;
			} else if (t->af == RULES_AF_NAME &&
				   (t->name == NULL ||
				    !rules_host_name_ok(span_make(t->name,
								  t->name_len)))) {
				rules_errors_add(errs, r->line, RULES_FIELD_TARGETS,
						 "target %u: bad host name",
						 i + 1);
				bad = 1;
			}
			for (j = 0; j < i; j++) {
				if (rules_target_same(t, &r->targets[j])) {
					rules_errors_add(errs, r->line,
							 RULES_FIELD_TARGETS,
							 "target %u repeats target %u",
							 i + 1, j + 1);
					bad = 1;
					break;
				}
			}
		}
	}

	if (r->rank > RULES_RANK_MAX) {
		rules_errors_add(errs, r->line, RULES_FIELD_RANK,
				 "rank %u out of range 0-%d", r->rank,
				 RULES_RANK_MAX);
		bad = 1;
	}
	if (r->strip > RULES_KEY_MAX) {
		rules_errors_add(errs, r->line, RULES_FIELD_STRIP,
				 "strip %u exceeds %d", r->strip, RULES_KEY_MAX);
		bad = 1;
	}
	if (r->prepend.len > RULES_PREPEND_MAX) {
		rules_errors_add(errs, r->line, RULES_FIELD_PREPEND,
				 "prepend longer than %d characters",
				 RULES_PREPEND_MAX);
		bad = 1;
	} else {
		for (i = 0; i < r->prepend.len; i++) {
			unsigned char c = (unsigned char)r->prepend.ptr[i];

			if (!span_is_digit(c) && c != '+' && c != '*' &&
			    c != '#') {
				rules_errors_add(errs, r->line,
						 RULES_FIELD_PREPEND,
						 "prepend '%.*s%s' may hold digits, '+', '*' and '#' only",
						 RULES_SHOW(r->prepend));
				bad = 1;
				break;
			}
		}
	}
	return bad ? -EINVAL : 0;
}

/* ------------------------------------------------------------------ */
/* Insert, delete, merge, diff                                        */

/*
 * The set's own copy of host name @p name (@p len bytes), added if it has
 * none: a stored target's name outlives what the caller passed, and one
 * name written on many rows is kept once. NULL when out of memory.
 */
static const char *
rules_set_name(struct rules_set *set, const char *name, uint8_t len)
{
	uint32_t h = (uint32_t)rules_hash_bytes(name, len), i, k;
	struct rules_name *e;

	if ((set->names_n + 1) * 2 > set->names_mask) {
		uint32_t mask = set->names_mask != 0 ?
				set->names_mask * 2 + 1 : 63;
		struct rules_name **nt = calloc((size_t)mask + 1, sizeof(*nt));

		if (nt == NULL)
			return NULL;
		for (k = 0; set->names != NULL && k <= set->names_mask; k++) {
			struct rules_name *q = set->names[k];

			if (q == NULL)
				continue;
			i = (uint32_t)rules_hash_bytes(q->s, q->len) & mask;
			while (nt[i] != NULL)
				i = (i + 1) & mask;
			nt[i] = q;
		}
		free(set->names);
		set->names = nt;
		set->names_mask = mask;
	}
	for (i = h & set->names_mask; set->names[i] != NULL;
	     i = (i + 1) & set->names_mask) {
		e = set->names[i];
		if (e->len == len && memcmp(e->s, name, len) == 0)
			return e->s;
	}
	e = malloc(sizeof(*e) + (size_t)len + 1);
	if (e == NULL)
		return NULL;
	e->refs = 0;
	e->len = len;
	memcpy(e->s, name, len);
	e->s[len] = '\0';
	set->names[i] = e;
	set->names_n++;
	return e->s;
}

/* Count @p d (+1 or -1) on the names of the @p n stored targets at
 * @p off (a set with no target yet has no target arena). */
static void
rules_set_name_refs(const struct rules_set *set, uint32_t off, uint32_t n,
		    int d)
{
	const struct rules_target *t;
	uint32_t i;

	if (n == 0)
		return;
	t = set->tgt + off;
	for (i = 0; i < n; i++) {
		if (t[i].af != RULES_AF_NAME)
			continue;
		/* A stored name is the s member of its struct rules_name. */
		((struct rules_name *)(void *)(t[i].name -
			offsetof(struct rules_name, s)))->refs += (uint32_t)d;
	}
}

const char *
rules_set_name_next(const struct rules_set *set, uint32_t *cursor)
{
	while (set->names != NULL && *cursor <= set->names_mask) {
		const struct rules_name *e = set->names[(*cursor)++];

		if (e != NULL && e->refs != 0)
			return e->s;
	}
	return NULL;
}

/* Store the targets of @p r (names as the set's own); UINT32_MAX: ENOMEM. */
static uint32_t
rules_set_store_targets(struct rules_set *set, const struct rules_rule *r)
{
	struct rules_target tl[RULES_TARGETS_MAX];
	const struct rules_target *src = r->targets;
	uint32_t off, i;

	if (r->ntargets == 0)
		return 0;
	for (i = 0; i < r->ntargets; i++) {
		if (src[i].af != RULES_AF_NAME)
			continue;
		if (src == r->targets) {
			memcpy(tl, r->targets, r->ntargets * sizeof(*tl));
			src = tl;
		}
		tl[i].name = rules_set_name(set, r->targets[i].name,
					    r->targets[i].name_len);
		if (tl[i].name == NULL)
			return UINT32_MAX;
	}
	/* Bulk files repeat the same list row after row: store it once. */
	if (set->last_tgt_off != UINT32_MAX &&
	    set->last_ntargets == r->ntargets &&
	    memcmp(set->tgt + set->last_tgt_off, src,
		   r->ntargets * sizeof(*src)) == 0)
		return set->last_tgt_off;
	off = set->tgt_len;
	memcpy(set->tgt + off, src, r->ntargets * sizeof(*src));
	set->tgt_len += r->ntargets;
	set->last_tgt_off = off;
	set->last_ntargets = r->ntargets;
	return off;
}

/* Does [p, p + len) lie in the arena [base, base + cap)? */
static bool
rules_in_arena(const void *p, size_t len, const void *base, size_t cap)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;

	return base != NULL && len != 0 && a >= b && a < b + cap;
}

/*
 * A rule read from @p set itself (rules_set_get(), then put back changed)
 * points into arenas that growing them moves: copy what it points to into
 * @p tmp, @p sbuf and @p tl first. Returns the rule to insert.
 */
static const struct rules_rule *
rules_set_detach(const struct rules_set *set, const struct rules_rule *r,
		 struct rules_rule *tmp,
		 char sbuf[RULES_ID_MAX + RULES_PATTERN_MAX + RULES_PREPEND_MAX],
		 struct rules_target tl[RULES_TARGETS_MAX])
{
	size_t n = 0;

	if (!rules_in_arena(r->id.ptr, r->id.len, set->str, set->str_cap) &&
	    !rules_in_arena(r->pattern.ptr, r->pattern.len, set->str,
			    set->str_cap) &&
	    !rules_in_arena(r->prepend.ptr, r->prepend.len, set->str,
			    set->str_cap) &&
	    !rules_in_arena(r->targets, r->ntargets * sizeof(*r->targets),
			    set->tgt, set->tgt_cap * sizeof(*set->tgt)))
		return r;
	*tmp = *r;
	memcpy(sbuf, r->id.ptr, r->id.len);
	tmp->id = span_make(sbuf, r->id.len);
	n = r->id.len;
	if (r->pattern.len != 0)
		memcpy(sbuf + n, r->pattern.ptr, r->pattern.len);
	tmp->pattern = span_make(sbuf + n, r->pattern.len);
	n += r->pattern.len;
	if (r->prepend.len != 0)
		memcpy(sbuf + n, r->prepend.ptr, r->prepend.len);
	tmp->prepend = span_make(sbuf + n, r->prepend.len);
	if (r->ntargets != 0)
		memcpy(tl, r->targets, r->ntargets * sizeof(*tl));
	tmp->targets = tl;
	return tmp;
}

int
rules_set_insert(struct rules_set *set, const struct rules_rule *r,
		 bool replace, bool check_only, struct rules_errors *errs)
{
	char sbuf[RULES_ID_MAX + RULES_PATTERN_MAX + RULES_PREPEND_MAX];
	struct rules_target tl[RULES_TARGETS_MAX];
	struct rules_rule tmp;
	struct rules_srule *sr;
	uint32_t slot, old, h, tgt_off;
	size_t nstr;
	int rc, bad;

	bad = rules_rule_check(r, errs);
	if (r->id.len == 0 || r->id.len > RULES_ID_MAX)
		return -EINVAL;

	h = rules_id_hash(r->id);
	slot = rules_set_slot_h(set, r->id, h);
	old = set->idx[slot] != 0 ? RULES_IDX_RULE(set->idx[slot]) - 1 :
	      UINT32_MAX;
	if (old != UINT32_MAX && !replace) {
		rules_errors_add(errs, r->line, RULES_FIELD_ID,
				 "duplicate id '%.*s%s' (first defined on line %u)",
				 RULES_SHOW(r->id), set->rule[old].line);
		return -EEXIST;
	}
	if (bad != 0 || check_only)
		return bad;
	/* Checked: the lengths are within the limits the buffers take. */
	r = rules_set_detach(set, r, &tmp, sbuf, tl);

	nstr = (size_t)r->id.len + r->pattern.len + r->prepend.len;
	rc = rules_set_reserve(set, nstr, r->ntargets);
	if (rc != 0)
		return rc;
	tgt_off = rules_set_store_targets(set, r);
	if (tgt_off == UINT32_MAX)
		return -ENOMEM;

	if (old != UINT32_MAX) {
		sr = &set->rule[old];
		set->counts[sr->kind]--;
		rules_set_name_refs(set, sr->tgt_off, sr->ntargets, -1);
	} else {
		if ((set->n + 1) * 2 > set->idx_mask + 1) {
			rc = rules_set_grow_idx(set);
			if (rc != 0)
				return rc;
			slot = rules_set_slot_h(set, r->id, h);
		}
		sr = &set->rule[set->n];
		set->idx[slot] = (uint64_t)h << 32 | ++set->n;
	}
	sr->str_off = set->str_len;
	memcpy(set->str + set->str_len, r->id.ptr, r->id.len);
	set->str_len += r->id.len;
	if (r->pattern.len != 0)
		memcpy(set->str + set->str_len, r->pattern.ptr, r->pattern.len);
	set->str_len += r->pattern.len;
	if (r->prepend.len != 0)
		memcpy(set->str + set->str_len, r->prepend.ptr, r->prepend.len);
	set->str_len += r->prepend.len;
	sr->id_len = (uint16_t)r->id.len;
	sr->pat_len = (uint16_t)r->pattern.len;
	sr->pre_len = (uint16_t)r->prepend.len;
	sr->tgt_off = tgt_off;
	rules_set_name_refs(set, tgt_off, r->ntargets, 1);
	sr->ntargets = r->ntargets;
	sr->rank = r->rank;
	sr->line = r->line;
	sr->strip = r->strip;
	sr->code = r->code;
	sr->kind = r->kind;
	sr->action = r->action;
	set->counts[sr->kind]++;
	return 0;
}

int
rules_set_add(struct rules_set *set, const struct rules_rule *rule,
	      struct rules_errors *errs)
{
	return rules_set_insert(set, rule, false, false, errs);
}

int
rules_set_put(struct rules_set *set, const struct rules_rule *rule,
	      struct rules_errors *errs)
{
	return rules_set_insert(set, rule, true, false, errs);
}

int
rules_set_del(struct rules_set *set, struct span id)
{
	uint32_t slot = rules_set_slot(set, id), i, last;

	if (set->idx[slot] == 0)
		return -ENOENT;
	i = RULES_IDX_RULE(set->idx[slot]) - 1;
	set->counts[set->rule[i].kind]--;
	rules_set_name_refs(set, set->rule[i].tgt_off, set->rule[i].ntargets,
			    -1);
	rules_set_idx_remove(set, slot);
	last = set->n - 1;
	if (i != last) {
		struct rules_srule *m = &set->rule[last];

		slot = rules_set_slot(set, span_make(set->str + m->str_off,
						     m->id_len));
		set->rule[i] = *m;
		set->idx[slot] = (set->idx[slot] & ~(uint64_t)UINT32_MAX) |
				 (i + 1);
	}
	set->n--;
	set->last_tgt_off = UINT32_MAX;
	return 0;
}

int
rules_set_merge(struct rules_set *dst, const struct rules_set *src)
{
	struct rules_rule r;
	uint32_t i;
	int rc;

	for (i = 0; i < src->n; i++) {
		rules_srule_view(src, &src->rule[i], &r);
		rc = rules_set_put(dst, &r, NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

bool
rules_rule_equal(const struct rules_rule *a, const struct rules_rule *b)
{
	uint32_t i;

	if (a->kind != b->kind || a->action != b->action ||
	    a->rank != b->rank || a->strip != b->strip || a->code != b->code ||
	    a->ntargets != b->ntargets || !span_eq(a->id, b->id) ||
	    !span_eq(a->prepend, b->prepend))
		return false;
	/* Compare what matching sees: "+44" is "44", hosts ignore case. */
	switch (a->kind) {
	case RULES_KIND_EXACT:
	case RULES_KIND_PREFIX:
		if (!span_eq(rules_literal_norm(a->pattern),
			     rules_literal_norm(b->pattern)))
			return false;
		break;
	case RULES_KIND_DOMAIN:
		if (!span_eq_nocase2(a->pattern, b->pattern))
			return false;
		break;
	default:
		if (!span_eq(a->pattern, b->pattern))
			return false;
		break;
	}
	for (i = 0; i < a->ntargets; i++) {
		const struct rules_target *x = &a->targets[i];
		const struct rules_target *y = &b->targets[i];

		if (!rules_target_same(x, y) || x->priority != y->priority ||
		    x->weight != y->weight)
			return false;
	}
	return true;
}

int
rules_set_diff(const struct rules_set *from, const struct rules_set *to,
	       struct rules_diff *out)
{
	struct rules_rule a, b;
	uint32_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; to != NULL && i < to->n; i++) {
		rules_srule_view(to, &to->rule[i], &b);
		if (from == NULL || rules_set_find(from, b.id, &a) != 0)
			out->added[b.kind]++;
		else if (!rules_rule_equal(&a, &b))
			out->changed[b.kind]++;
		else
			out->unchanged++;
	}
	for (i = 0; from != NULL && i < from->n; i++) {
		rules_srule_view(from, &from->rule[i], &a);
		if (to == NULL || rules_set_find(to, a.id, &b) != 0)
			out->removed[a.kind]++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Text fields of one row                                             */

static const struct span rules_kind_spans[] = {
#define X(sym, name) SPAN_LIT(name),
	RULES_KIND_MAP(X)
#undef X
};

static const struct span rules_action_spans[] = {
#define X(sym, name) SPAN_LIT(name),
	RULES_ACTION_MAP(X)
#undef X
};

static int
rules_parse_kind(struct span s)
{
	unsigned int k;

	for (k = 0; k < RULES_KIND__COUNT; k++)
		if (span_eq_nocase(s, rules_kind_spans[k]))
			return (int)k;
	return -1;
}

static int
rules_parse_action(struct span s)
{
	unsigned int a;

	for (a = 0; a < RULES_ACTION__COUNT; a++)
		if (span_eq_nocase(s, rules_action_spans[a]))
			return (int)a;
	return -1;
}

static int
rules_parse_num(struct span s, uint32_t dflt, uint32_t max, uint32_t line,
		unsigned int field, struct rules_errors *errs, uint32_t *out)
{
	uint64_t v;

	if (s.len == 0) {
		*out = dflt;
		return 0;
	}
	if (span_to_u64(s, max, &v) != 0) {
		*out = dflt;
		rules_errors_add(errs, line, field,
				 "%s '%.*s%s' is not a number in 0-%u",
				 rules_field_name(field), RULES_SHOW(s), max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static bool
rules_looks_like_hostname(struct span h)
{
	bool alpha = false;
	uint32_t i;

	for (i = 0; i < h.len; i++) {
		unsigned char c = (unsigned char)h.ptr[i];

		if (!rules_is_host_char(c) && c != '_')
			return false;
		if ((unsigned char)((c | 0x20) - 'a') < 26)
			alpha = true;
	}
	return alpha;
}

/* One "host:port[/priority[/weight]]"; @p n is its 1-based position. */
static int
rules_parse_target(struct span s, uint32_t n, uint32_t line,
		   struct rules_errors *errs, struct rules_target *t)
{
	struct span hp = s, host, rest = SPAN_NULL;
	const char *slash = span_chr(s, '/');
	struct addr_port ap;
	uint64_t v;

	memset(t, 0, sizeof(*t));
	t->priority = RULES_PRIORITY_DEFAULT;
	t->weight = RULES_WEIGHT_DEFAULT;
	if (slash != NULL) {
		hp = span_range(s.ptr, slash);
		rest = span_range(slash + 1, span_end(s));
	}
	switch (addr_port_parse(hp, &ap, &host)) {
	case ADDR_PORT_OK:
		break;
	case ADDR_PORT_NO_PORT:
		if (hp.len != 0 && hp.ptr[0] != '[' &&
		    rules_looks_like_hostname(hp)) {
			rules_errors_add(errs, line, RULES_FIELD_TARGETS,
					 "target %u '%.*s%s': a host name needs a port (name:port); DNS SRV is not looked up",
					 n, RULES_SHOW(s));
			return -EINVAL;
		}
		goto bad_form;
	case ADDR_PORT_V6_UNBRACKETED:
		rules_errors_add(errs, line, RULES_FIELD_TARGETS,
				 "target %u '%.*s%s': IPv6 addresses go in brackets, [addr]:port",
				 n, RULES_SHOW(s));
		return -EINVAL;
	case ADDR_PORT_BAD_ADDR:
		if (ap.af == RULES_AF_INET && rules_looks_like_hostname(host))
			goto hostname;
		if (host.len == 0 || host.len >= 64)
			goto bad_form;
		rules_errors_add(errs, line, RULES_FIELD_TARGETS,
				 "target %u '%.*s%s': bad IPv%d address",
				 n, RULES_SHOW(s), ap.af);
		return -EINVAL;
	case ADDR_PORT_BAD_PORT:
		rules_errors_add(errs, line, RULES_FIELD_TARGETS,
				 "target %u '%.*s%s': port out of range 1-65535",
				 n, RULES_SHOW(s));
		return -EINVAL;
	}
	if (!rules_addr_usable(ap.af, ap.addr)) {
		rules_errors_add(errs, line, RULES_FIELD_TARGETS,
				 "target %u '%.*s%s': no address a router may send to (0/8, loopback, multicast, broadcast, IPv4-mapped or link-local)",
				 n, RULES_SHOW(s));
		return -EINVAL;
	}
	t->af = ap.af;
	memcpy(t->addr, ap.addr, sizeof(ap.addr));
	t->port = ap.port;
weights:
	if (!span_is_null(rest)) {
		const char *s2 = span_chr(rest, '/');
		struct span pr = rest, wt = SPAN_NULL;

		if (s2 != NULL) {
			pr = span_range(rest.ptr, s2);
			wt = span_range(s2 + 1, span_end(rest));
		}
		if (span_to_u64(pr, 65535, &v) != 0) {
			rules_errors_add(errs, line, RULES_FIELD_TARGETS,
					 "target %u '%.*s%s': priority is not a number in 0-65535",
					 n, RULES_SHOW(s));
			return -EINVAL;
		}
		t->priority = (uint16_t)v;
		if (!span_is_null(wt)) {
			if (span_to_u64(wt, 65535, &v) != 0 || v == 0) {
				rules_errors_add(errs, line, RULES_FIELD_TARGETS,
						 "target %u '%.*s%s': weight is not a number in 1-65535",
						 n, RULES_SHOW(s));
				return -EINVAL;
			}
			t->weight = (uint16_t)v;
		}
	}
	return 0;

hostname:
	/* addr_port_parse() stopped at the address: the port is ours. */
	if (span_to_u64(span_range(span_end(host) + 1, span_end(hp)), 65535,
			&v) != 0 || v == 0) {
		rules_errors_add(errs, line, RULES_FIELD_TARGETS,
				 "target %u '%.*s%s': port out of range 1-65535",
				 n, RULES_SHOW(s));
		return -EINVAL;
	}
	if (!rules_host_name_ok(host)) {
		rules_errors_add(errs, line, RULES_FIELD_TARGETS,
				 "target %u '%.*s%s': bad host name (labels of 1-63 letters, digits, '-' or '_', at most %d bytes, the last not all digits, no IPv4 address in another notation)",
				 n, RULES_SHOW(s), RULES_NAME_MAX);
		return -EINVAL;
	}
	t->af = RULES_AF_NAME;
	t->name = host.ptr;
	t->name_len = (uint8_t)host.len;
	t->port = (uint16_t)v;
	goto weights;
bad_form:
	rules_errors_add(errs, line, RULES_FIELD_TARGETS,
			 "target %u '%.*s%s': expected host:port[/priority[/weight]] with an IPv4 address or [IPv6]",
			 n, RULES_SHOW(s));
	return -EINVAL;
}

static int
rules_parse_targets(struct span s, uint32_t line, struct rules_errors *errs,
		    struct rules_target *tbuf, uint32_t *n)
{
	const char *p = s.ptr, *end = span_end(s), *bar;
	uint32_t k = 0;
	int rc = 0;

	*n = 0;
	if (s.len == 0)
		return 0;
	for (;;) {
		struct span one;

		bar = memchr(p, '|', (size_t)(end - p));
		one = span_trim(span_range(p, bar != NULL ? bar : end));
		if (k == RULES_TARGETS_MAX) {
			rules_errors_add(errs, line, RULES_FIELD_TARGETS,
					 "more than %d targets", RULES_TARGETS_MAX);
			return -EINVAL;
		}
		if (rules_parse_target(one, k + 1, line, errs, &tbuf[k]) != 0)
			rc = -EINVAL;
		k++;
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	*n = k;
	return rc;
}

/* Does domain @p d (a "*." in front allowed) have a label of more than 63
 * characters, or one that starts or ends with '-' (RFC 1035 §2.3.1)? */
static bool
rules_bad_label(struct span d)
{
	uint32_t i, start = 0;

	if (d.len >= 2 && d.ptr[0] == '*' && d.ptr[1] == '.')
		start = 2;
	for (i = start; i <= d.len; i++) {
		if (i < d.len && d.ptr[i] != '.')
			continue;
		if (i - start > 63 || (i > start && (d.ptr[start] == '-' ||
						     d.ptr[i - 1] == '-')))
			return true;
		start = i + 1;
	}
	return false;
}

/* Does the domain @p d hold ".." (an empty label)? */
static bool
rules_has_empty_label(struct span d)
{
	uint32_t i;

	for (i = 1; i < d.len; i++)
		if (d.ptr[i] == '.' && d.ptr[i - 1] == '.')
			return true;
	return false;
}

/**
 * Turn the nine text fields of a data row into a rule (not yet checked by
 * rules_rule_check()). Spans in @p rule point into @p f; targets go into
 * @p tbuf (RULES_TARGETS_MAX entries).
 *
 * @return
 *   0, or -EINVAL if any field did not parse (each is reported).
 */
int
rules_fields_to_rule(const struct span *f, uint32_t nf, uint32_t line,
		     struct rules_rule *r, struct rules_target *tbuf,
		     struct rules_errors *errs)
{
	uint32_t v;
	int k, rc = 0;

	memset(r, 0, sizeof(*r));
	r->line = line;
	r->kind = 0xff;
	r->action = 0xff;
	if (nf != RULES_FIELD__COUNT - 1) {
		rules_errors_add(errs, line, RULES_FIELD_NONE,
				 "expected %d fields, found %u",
				 RULES_FIELD__COUNT - 1, nf);
		return -EINVAL;
	}
	r->id = f[RULES_FIELD_ID - 1];
	r->pattern = f[RULES_FIELD_PATTERN - 1];
	r->prepend = f[RULES_FIELD_PREPEND - 1];

	k = rules_parse_kind(f[RULES_FIELD_KIND - 1]);
	if (k < 0) {
		rules_errors_add(errs, line, RULES_FIELD_KIND,
				 "unknown kind '%.*s%s' (exact, prefix, regex, domain or default)",
				 RULES_SHOW(f[RULES_FIELD_KIND - 1]));
		rc = -EINVAL;
	} else {
		r->kind = (uint8_t)k;
	}
	k = rules_parse_action(f[RULES_FIELD_ACTION - 1]);
	if (k < 0) {
		rules_errors_add(errs, line, RULES_FIELD_ACTION,
				 "unknown action '%.*s%s' (forward, redirect or reject)",
				 RULES_SHOW(f[RULES_FIELD_ACTION - 1]));
		rc = -EINVAL;
	} else {
		r->action = (uint8_t)k;
	}
	if (rules_parse_targets(f[RULES_FIELD_TARGETS - 1], line, errs, tbuf,
				&r->ntargets) != 0) {
		r->ntargets = RULES_NTARGETS_BAD;
		rc = -EINVAL;
	}
	r->targets = tbuf;
	if (rules_parse_num(f[RULES_FIELD_RANK - 1], RULES_RANK_DEFAULT,
			    RULES_RANK_MAX, line, RULES_FIELD_RANK, errs,
			    &r->rank) != 0)
		rc = -EINVAL;
	if (rules_parse_num(f[RULES_FIELD_STRIP - 1], 0, RULES_KEY_MAX, line,
			    RULES_FIELD_STRIP, errs, &v) != 0)
		rc = -EINVAL;
	r->strip = (uint16_t)v;
	/* The range is the action's (rules_rule_check()): parsed as 3 digits. */
	if (rules_parse_num(f[RULES_FIELD_CODE - 1], 0, 999, line,
			    RULES_FIELD_CODE, errs, &v) != 0) {
		v = RULES_CODE_BAD;
		rc = -EINVAL;
	}
	r->code = (uint16_t)v;
	/*
	 * New input only (stored rules load without these checks, so a
	 * store written before them still opens): a domain with an empty
	 * label, which no host name matches; a code whose response needs a
	 * header a router's answer does not have.
	 */
	if (r->kind == RULES_KIND_DOMAIN && rules_has_empty_label(r->pattern)) {
		rules_errors_add(errs, line, RULES_FIELD_PATTERN,
				 "domain '%.*s%s' has an empty label ('..')",
				 RULES_SHOW(r->pattern));
		rc = -EINVAL;
	} else if (r->kind == RULES_KIND_DOMAIN &&
		   rules_bad_label(r->pattern)) {
		rules_errors_add(errs, line, RULES_FIELD_PATTERN,
				 "domain '%.*s%s' has a label longer than 63 characters or starting or ending with '-'",
				 RULES_SHOW(r->pattern));
		rc = -EINVAL;
	}
	if (r->action == RULES_ACTION_REJECT &&
	    rules_code_needs_header(r->code) != NULL) {
		rules_errors_add(errs, line, RULES_FIELD_CODE,
				 "reject code %u: its response must carry %s, which the router does not send; use another code (403, 404, 480, 603...)",
				 r->code, rules_code_needs_header(r->code));
		rc = -EINVAL;
	}
	return rc;
}
