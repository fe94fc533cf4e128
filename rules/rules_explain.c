/* SPDX-License-Identifier: MIT */
/*
 * rules_explain.c - "routes explain": every rule that matches a key, why
 * the winner won, where the call would go; rendered as text or JSON.
 * Slow path: it checks every rule of the image independently of the trie
 * and reports whether the fast matcher agrees.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include <fmt.h>
#include <utf8.h>

#include "rules_priv.h"

/* What the explain scan's callback fills: one bit per regex rule. */
struct rules_explain_bits {
	const struct rules_db *db;
	uint64_t        *bits;
};

static int
rules_explain_on_match(unsigned int id, unsigned long long from,
		       unsigned long long to, unsigned int flags, void *ctx)
{
	const struct rules_explain_bits *eb = ctx;

	(void)from;
	(void)to;
	(void)flags;
	/* An id that names no regex rule is not one (a damaged image). */
	if (id < eb->db->nrules &&
	    eb->db->rules[id].kind == RULES_KIND_REGEX)
		eb->bits[id / 64] |= 1ull << (id % 64);
	return 0;
}

static bool
rules_explain_matches(const struct rules_db *db, uint32_t i,
		      const struct rules_key *key, const uint64_t *rebits)
{
	struct span id, pre, pat;
	struct span host = span_make(key->host, key->host_len);

	rules_db_strings(db, i, &id, &pre, &pat);
	switch (db->rules[i].kind) {
	case RULES_KIND_EXACT:
		return span_eq(pat, span_make(key->num, key->num_len));
	case RULES_KIND_PREFIX:
		return key->num_len >= pat.len &&
		       memcmp(key->num, pat.ptr, pat.len) == 0;
	case RULES_KIND_REGEX:
		return rebits != NULL && (rebits[i / 64] >> (i % 64) & 1) != 0;
	case RULES_KIND_DOMAIN:
		if (pat.len >= 2 && pat.ptr[0] == '*' && pat.ptr[1] == '.') {
			pat = span_make(pat.ptr + 1, pat.len - 1);   /* ".suffix" */
			return host.len > pat.len &&
			       memcmp(host.ptr + host.len - pat.len, pat.ptr,
				      pat.len) == 0;
		}
		return span_eq(host, pat);
	case RULES_KIND_DEFAULT:
		return true;
	default:
		return false;
	}
}

static uint8_t
rules_explain_why(const struct rules_db *db, uint32_t w, uint32_t r)
{
	const struct rules_irule *a = &db->rules[w], *b = &db->rules[r];
	struct span id, pre, pa, pb;

	if (a->rank != b->rank)
		return RULES_WHY_RANK;
	if (a->kind != b->kind)
		return RULES_WHY_KIND;
	if (a->kind == RULES_KIND_PREFIX) {
		rules_db_strings(db, w, &id, &pre, &pa);
		rules_db_strings(db, r, &id, &pre, &pb);
		if (pa.len != pb.len)
			return RULES_WHY_PREFIX_LEN;
	}
	return RULES_WHY_ID;
}

int
rules_explain(const struct rules_db *db, struct rules_scratch *scr,
	      const struct rules_key *key, uint64_t flow_hash,
	      const uint64_t *up, struct rules_explain *out)
{
	uint64_t *rebits = NULL;
	uint32_t i, fast = RULES_NO_RULE, second = RULES_NO_RULE;
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(&out->key, key, sizeof(*key));
	out->winner = RULES_NO_RULE;
	out->target_rc = -ENOENT;

	if (db->hs != NULL) {
		struct rules_explain_bits eb;

		if (scr == NULL || scr->hs == NULL)
			return -EINVAL;
		rebits = calloc((db->nrules + 63) / 64, sizeof(*rebits));
		if (rebits == NULL)
			return -ENOMEM;
		eb.db = db;
		eb.bits = rebits;
		if (hs_scan(db->hs, key->num, key->num_len, 0, scr->hs,
			    rules_explain_on_match, &eb) != HS_SUCCESS) {
			free(rebits);
			return -EIO;
		}
	}
	/* Rule numbers are the precedence order: the first match wins. */
	for (i = 0; i < db->nrules; i++) {
		struct rules_explain_match *m;
		struct span pre;

		if (!rules_explain_matches(db, i, key, rebits))
			continue;
		if (out->nmatch == 0)
			out->winner = i;
		else if (out->nmatch == 1)
			second = i;
		out->nmatch++;
		if (out->nkept == RULES_EXPLAIN_KEEP)
			continue;
		m = &out->match[out->nkept++];
		m->rule = i;
		m->rank = db->rules[i].rank;
		m->kind = db->rules[i].kind;
		m->action = db->rules[i].action;
		m->code = db->rules[i].code;
		rules_db_strings(db, i, &m->id, &pre, &m->pattern);
	}
	free(rebits);

	if (out->winner == RULES_NO_RULE)
		out->why = RULES_WHY_NO_MATCH;
	else if (second == RULES_NO_RULE)
		out->why = RULES_WHY_ONLY;
	else
		out->why = rules_explain_why(db, out->winner, second);

	rc = rules_match(db, scr, key, &fast);
	out->fast_agrees = (rc == 0 && fast == out->winner) ||
			   (rc == -ENOENT && out->winner == RULES_NO_RULE);

	if (out->winner == RULES_NO_RULE ||
	    db->rules[out->winner].action == RULES_ACTION_REJECT)
		return 0;
	out->target_rc = rules_pick_target(db, out->winner, flow_hash, up,
					   &out->target);
	if (rules_contacts(db, out->winner, flow_hash, up, out->contacts,
			   RULES_TARGETS_MAX, &out->ncontacts) != 0)
		out->ncontacts = 0;
	if (rules_rewrite_user(db, out->winner, key, out->user_out,
			       sizeof(out->user_out), &out->user_out_len) != 0)
		out->user_out_len = 0;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rendering                                                          */

static void
rules_put_str(struct fmt_buf *b, const char *s)
{
	fmt_buf_mem(b, s, (uint32_t)strlen(s));
}

static void
rules_put_dest(struct fmt_buf *b, const struct rules_dest *d)
{
	char a[64];

	inet_ntop(d->af == RULES_AF_INET6 ? AF_INET6 : AF_INET, d->addr, a,
		  sizeof(a));
	if (d->af == RULES_AF_INET6)
		fmt_buf_lit(b, "[");
	rules_put_str(b, a);
	if (d->af == RULES_AF_INET6)
		fmt_buf_lit(b, "]");
	fmt_buf_lit(b, ":");
	fmt_buf_u64(b, d->port);
}

/* JSON string body: escapes '"', '\' and control bytes. */
static void
rules_put_json(struct fmt_buf *b, struct span s)
{
	uint32_t i;

	fmt_buf_lit(b, "\"");
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (c == '"' || c == '\\') {
			fmt_buf_lit(b, "\\");
			fmt_buf_mem(b, &s.ptr[i], 1);
		} else if (c < 0x20 || c == 0x7f) {
			fmt_buf_lit(b, "\\u00");
			fmt_buf_hex64(b, c, 2);
		} else if (c < 0x80) {
			fmt_buf_mem(b, &s.ptr[i], 1);
		} else {
			/* JSON is UTF-8 (RFC 8259 §8.1): a byte of no valid
			 * sequence (an unescaped %FF) is U+FFFD. */
			size_t n = utf8_seq_len(s.ptr + i, s.len - i);

			if (n == 0) {
				fmt_buf_lit(b, "\\ufffd");
			} else {
				fmt_buf_mem(b, &s.ptr[i], (uint32_t)n);
				i += (uint32_t)n - 1;
			}
		}
	}
	fmt_buf_lit(b, "\"");
}

/* Text: keys and ids may hold anything; show non-printables as \xHH. */
static void
rules_put_text(struct fmt_buf *b, struct span s)
{
	uint32_t i;

	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (c < 0x20 || c >= 0x7f) {
			fmt_buf_lit(b, "\\x");
			fmt_buf_hex64(b, c, 2);
		} else {
			fmt_buf_mem(b, &s.ptr[i], 1);
		}
	}
}

static int
rules_finish(struct fmt_buf *b, char *buf, size_t *len)
{
	fmt_buf_mem(b, "", 1);  /* the NUL */
	if (b->overflow)
		return -ENOSPC;
	*len = (size_t)(b->p - buf) - 1;
	return 0;
}

int
rules_explain_text(const struct rules_explain *ex, char *buf, size_t cap,
		   size_t *len)
{
	struct fmt_buf b;
	uint32_t i;

	fmt_buf_init(&b, buf, cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap);
	fmt_buf_lit(&b, "key: number \"");
	rules_put_text(&b, span_make(ex->key.num, ex->key.num_len));
	fmt_buf_lit(&b, "\" host \"");
	rules_put_text(&b, span_make(ex->key.host, ex->key.host_len));
	fmt_buf_lit(&b, "\"\nmatching rules: ");
	fmt_buf_u64(&b, ex->nmatch);
	if (ex->nkept < ex->nmatch) {
		fmt_buf_lit(&b, " (first ");
		fmt_buf_u64(&b, ex->nkept);
		fmt_buf_lit(&b, " shown)");
	}
	fmt_buf_lit(&b, "\n");
	for (i = 0; i < ex->nkept; i++) {
		const struct rules_explain_match *m = &ex->match[i];

		if (i == 0)
			fmt_buf_lit(&b, "  * ");
		else
			fmt_buf_lit(&b, "    ");
		rules_put_text(&b, m->id);
		fmt_buf_lit(&b, " kind=");
		rules_put_str(&b, rules_kind_name(m->kind));
		fmt_buf_lit(&b, " pattern=");
		rules_put_text(&b, m->pattern);
		fmt_buf_lit(&b, " rank=");
		fmt_buf_u64(&b, m->rank);
		fmt_buf_lit(&b, " action=");
		rules_put_str(&b, rules_action_name(m->action));
		if (m->code != 0) {
			fmt_buf_lit(&b, " code=");
			fmt_buf_u64(&b, m->code);
		}
		fmt_buf_lit(&b, "\n");
	}
	fmt_buf_lit(&b, "winner: ");
	if (ex->winner == RULES_NO_RULE) {
		fmt_buf_lit(&b, "none");
	} else {
		rules_put_text(&b, ex->match[0].id);
		fmt_buf_lit(&b, " (");
		rules_put_str(&b, rules_why_desc(ex->why));
		fmt_buf_lit(&b, ")");
	}
	fmt_buf_lit(&b, "\nfast path: ");
	rules_put_str(&b, ex->fast_agrees ? "agrees" : "DISAGREES");
	fmt_buf_lit(&b, "\n");
	if (ex->winner != RULES_NO_RULE &&
	    ex->match[0].action != RULES_ACTION_REJECT) {
		fmt_buf_lit(&b, "target: ");
		if (ex->target_rc == 0) {
			rules_put_dest(&b, &ex->target);
			fmt_buf_lit(&b, " priority ");
			fmt_buf_u64(&b, ex->target.priority);
			fmt_buf_lit(&b, " weight ");
			fmt_buf_u64(&b, ex->target.weight);
		} else {
			fmt_buf_lit(&b, "none up");
		}
		fmt_buf_lit(&b, "\ncontacts:");
		for (i = 0; i < ex->ncontacts; i++) {
			fmt_buf_lit(&b, " ");
			rules_put_dest(&b, &ex->contacts[i]);
		}
		fmt_buf_lit(&b, "\nuser: ");
		rules_put_text(&b, span_make(ex->user_out, ex->user_out_len));
		fmt_buf_lit(&b, "\n");
	}
	return rules_finish(&b, buf, len);
}

static void
rules_put_json_dest(struct fmt_buf *b, const struct rules_dest *d)
{
	char a[64];

	inet_ntop(d->af == RULES_AF_INET6 ? AF_INET6 : AF_INET, d->addr, a,
		  sizeof(a));
	fmt_buf_lit(b, "{\"address\":\"");
	rules_put_str(b, a);
	fmt_buf_lit(b, "\",\"port\":");
	fmt_buf_u64(b, d->port);
	fmt_buf_lit(b, ",\"priority\":");
	fmt_buf_u64(b, d->priority);
	fmt_buf_lit(b, ",\"weight\":");
	fmt_buf_u64(b, d->weight);
	fmt_buf_lit(b, ",\"target\":");
	fmt_buf_u64(b, d->target);
	fmt_buf_lit(b, "}");
}

int
rules_explain_json(const struct rules_explain *ex, char *buf, size_t cap,
		   size_t *len)
{
	struct fmt_buf b;
	uint32_t i;
	bool routed;

	fmt_buf_init(&b, buf, cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap);
	fmt_buf_lit(&b, "{\"key\":{\"number\":");
	rules_put_json(&b, span_make(ex->key.num, ex->key.num_len));
	fmt_buf_lit(&b, ",\"host\":");
	rules_put_json(&b, span_make(ex->key.host, ex->key.host_len));
	fmt_buf_lit(&b, "},\"matches\":");
	fmt_buf_u64(&b, ex->nmatch);
	fmt_buf_lit(&b, ",\"rules\":[");
	for (i = 0; i < ex->nkept; i++) {
		const struct rules_explain_match *m = &ex->match[i];

		if (i != 0)
			fmt_buf_lit(&b, ",");
		fmt_buf_lit(&b, "{\"id\":");
		rules_put_json(&b, m->id);
		fmt_buf_lit(&b, ",\"kind\":\"");
		rules_put_str(&b, rules_kind_name(m->kind));
		fmt_buf_lit(&b, "\",\"pattern\":");
		rules_put_json(&b, m->pattern);
		fmt_buf_lit(&b, ",\"rank\":");
		fmt_buf_u64(&b, m->rank);
		fmt_buf_lit(&b, ",\"action\":\"");
		rules_put_str(&b, rules_action_name(m->action));
		fmt_buf_lit(&b, "\"");
		if (m->code != 0) {
			fmt_buf_lit(&b, ",\"code\":");
			fmt_buf_u64(&b, m->code);
		}
		fmt_buf_lit(&b, "}");
	}
	fmt_buf_lit(&b, "],\"winner\":");
	if (ex->winner == RULES_NO_RULE)
		fmt_buf_lit(&b, "null");
	else
		rules_put_json(&b, ex->match[0].id);
	fmt_buf_lit(&b, ",\"why\":\"");
	rules_put_str(&b, rules_why_desc(ex->why));
	fmt_buf_lit(&b, "\",\"fast_path_agrees\":");
	rules_put_str(&b, ex->fast_agrees ? "true" : "false");
	routed = ex->winner != RULES_NO_RULE &&
		 ex->match[0].action != RULES_ACTION_REJECT;
	fmt_buf_lit(&b, ",\"target\":");
	if (routed && ex->target_rc == 0)
		rules_put_json_dest(&b, &ex->target);
	else
		fmt_buf_lit(&b, "null");
	fmt_buf_lit(&b, ",\"contacts\":[");
	for (i = 0; routed && i < ex->ncontacts; i++) {
		if (i != 0)
			fmt_buf_lit(&b, ",");
		rules_put_json_dest(&b, &ex->contacts[i]);
	}
	fmt_buf_lit(&b, "],\"user\":");
	if (routed)
		rules_put_json(&b, span_make(ex->user_out, ex->user_out_len));
	else
		fmt_buf_lit(&b, "null");
	fmt_buf_lit(&b, "}");
	return rules_finish(&b, buf, len);
}
