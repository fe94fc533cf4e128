/* SPDX-License-Identifier: MIT */
/*
 * rules.h - the routing module: rule model, CSV reader and writer, compiler
 * into a pointer-free image, image loader, matcher, target choice, explain.
 *
 * Life of a rule table:
 *
 *   control process                          dataplane loader / workers
 *   ---------------                          --------------------------
 *   rules_csv_new / _feed / _finish
 *     -> struct rules_set (validated)
 *   rules_set_add / _put / _del (route add|del)
 *   rules_compile -> image bytes  --LMDB-->  rules_db_load (validate + copy +
 *                                              hs_deserialize) -> rules_db
 *                                            rules_scratch_new per lcore
 *                                            rules_key_make, rules_match,
 *                                            rules_pick_target (workers, hot)
 *
 * Errors: 0 or a negative errno (STYLE.md 2.6). Problems with the input
 * rows are not call failures of the reader: they are collected in a
 * struct rules_errors with line and field, and the set is then withheld.
 *
 * Context, unless a declaration says otherwise: slow path (control
 * process, dataplane loader thread); every rules_set, rules_csv and
 * rules_scratch has a single owner and no internal locking; a loaded
 * rules_db is immutable and may be read by any number of threads. The
 * functions marked HOT are the only ones for worker lcores.
 */
#ifndef SIPEDGE_RULES_RULES_H
#define SIPEDGE_RULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <addrport.h>
#include <span.h>

#include "rules_types.h"

struct rules_set;       /* a validated, mutable rule set (control side) */
struct rules_csv;       /* an incremental CSV reader */
struct rules_db;        /* a loaded, immutable image (dataplane side) */
struct rules_scratch;   /* per-lcore matching scratch for one rules_db */

/* Sink for rendered text; returns 0 or a negative errno to stop. */
typedef int rules_write_fn(void *arg, const char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Names                                                              */

/* Static strings ("prefix", "redirect", "targets", ...); "?" if unknown. */
const char *rules_kind_name(unsigned int kind);
const char *rules_action_name(unsigned int action);
const char *rules_field_name(unsigned int field);
const char *rules_why_desc(unsigned int why);

/* ------------------------------------------------------------------ */
/* Rule sets                                                          */

/**
 * Create an empty rule set.
 *
 * @return
 *   0 and *out set; -ENOMEM.
 *
 * Context: control process, any thread; the set has a single owner and no
 * internal locking.
 */
int rules_set_new(struct rules_set **out);

/* Free a set and everything it owns; NULL is a no-op. */
void rules_set_free(struct rules_set *set);

/* Number of rules, and counts by kind (counts may be NULL). */
uint32_t rules_set_count(const struct rules_set *set,
			 uint32_t counts[RULES_KIND__COUNT]);

/**
 * Read rule number @p idx (0 <= idx < rules_set_count()).
 *
 * @return
 *   0 and *out filled; -ENOENT if out of range.
 *
 * Lifetime: spans and the target array in *out point into the set and are
 * valid until the set is changed (add/put/del) or freed. Iteration order is
 * insertion order until the first rules_set_del(), which moves the last
 * rule into the freed slot.
 */
int rules_set_get(const struct rules_set *set, uint32_t idx,
		  struct rules_rule *out);

/* Look a rule up by id: 0 and *out filled (lifetime as above); -ENOENT. */
int rules_set_find(const struct rules_set *set, struct span id,
		   struct rules_rule *out);

/**
 * Validate and add one rule (route add). Everything is copied.
 *
 * @param errs
 *   Optional; receives every problem found, with @p rule->line.
 * @return
 *   0; -EEXIST if the id is taken (also reported in @p errs); -EINVAL if
 *   the rule is invalid; -ENOMEM. On error the set is unchanged.
 */
int rules_set_add(struct rules_set *set, const struct rules_rule *rule,
		  struct rules_errors *errs);

/* As rules_set_add(), but replaces a rule with the same id. */
int rules_set_put(struct rules_set *set, const struct rules_rule *rule,
		  struct rules_errors *errs);

/**
 * Parse, validate and add one CSV data row (no header), e.g. the argument
 * of "route add". @p line is used in error reports.
 *
 * @return
 *   As rules_set_add(); -EINVAL also for malformed CSV.
 */
int rules_set_add_csv_row(struct rules_set *set, const char *row, size_t len,
			  uint32_t line, struct rules_errors *errs);

/* Remove the rule with this id: 0 or -ENOENT. */
int rules_set_del(struct rules_set *set, struct span id);

/* Copy every rule of @p src into @p dst, replacing same ids (--merge). */
int rules_set_merge(struct rules_set *dst, const struct rules_set *src);

/* True if both rules have the same content (line numbers are ignored). */
bool rules_rule_equal(const struct rules_rule *a, const struct rules_rule *b);

/**
 * Is @p h a host name a target may carry: labels of 1-63 letters, digits,
 * '-' (not first or last) or '_', separated by single dots, at most
 * RULES_NAME_MAX bytes, the last label not all digits, and no IPv4
 * address in another notation ("0xc6.0x12.0.3", which resolvers read as
 * one): a mistyped address is never taken for a name.
 */
bool rules_host_name_ok(struct span h);

/**
 * Is @p addr (@p af RULES_AF_INET: its first 4 bytes; RULES_AF_INET6) an
 * address a router may send to: not 0/8, loopback, multicast, reserved or
 * broadcast (224/4 and up), ::, ::1, ff00::/8, IPv4-mapped or link-local
 * (the zone is lost)? What a target literal must be, and what a target
 * name's addresses are kept for.
 */
bool rules_addr_usable(uint8_t af, const uint8_t addr[16]);

/**
 * The target host names the rules of a set name, each once (as written;
 * names differing in case are two): start with *@p cursor 0 and call
 * until NULL.
 *
 * @return
 *   A NUL-terminated name, valid while the set is, or NULL at the end.
 */
const char *rules_set_name_next(const struct rules_set *set,
				uint32_t *cursor);

/**
 * Count what changes from @p from to @p to (dry-run import): added,
 * removed and changed rules by kind. Either set may be NULL (empty).
 *
 * @return
 *   0; -ENOMEM.
 */
int rules_set_diff(const struct rules_set *from, const struct rules_set *to,
		   struct rules_diff *out);

/* ------------------------------------------------------------------ */
/* CSV (DESIGN.md 4.1)                                                */

/**
 * Create an incremental reader. Feed it bytes in chunks of any size (split
 * anywhere, even inside a quoted field or a CRLF), then finish it.
 *
 * @return
 *   0 and *out set; -ENOMEM.
 *
 * Context: control process; one reader per import, single owner.
 */
int rules_csv_new(struct rules_csv **out);

/**
 * Consume @p len bytes. Row problems are recorded, not returned: reading
 * continues so that every error in the file is reported.
 *
 * @return
 *   0; -ENOMEM; -EINVAL if called after rules_csv_finish().
 */
int rules_csv_feed(struct rules_csv *csv, const void *buf, size_t len);

/**
 * End of input: check the last row and hand over the rule set.
 *
 * @param out
 *   Receives the set if and only if the whole file is valid; the caller
 *   then owns it (rules_set_free()). Set to NULL otherwise.
 * @return
 *   0; -EINVAL if there was any error (see rules_csv_errors()); -ENOMEM.
 */
int rules_csv_finish(struct rules_csv *csv, struct rules_set **out);

/* The errors found so far; valid until rules_csv_free(). */
const struct rules_errors *rules_csv_errors(const struct rules_csv *csv);

/* Rows read so far (data rows, not comments or blank lines). */
uint64_t rules_csv_rows(const struct rules_csv *csv);

void rules_csv_free(struct rules_csv *csv);

/* Convenience: whole buffer in one call; *out as rules_csv_finish(). */
int rules_csv_parse(const void *buf, size_t len, struct rules_set **out,
		    struct rules_errors *errs);

/**
 * Render the set as CSV (header row first) that re-imports to the same
 * set. Output goes to @p fn in pieces.
 *
 * @return
 *   0, or the first non-zero value returned by @p fn.
 */
int rules_set_export_csv(const struct rules_set *set, rules_write_fn *fn,
			 void *arg);

/* One rule as a CSV row without line end; -ENOSPC if @p cap is short. */
int rules_rule_to_csv(const struct rules_rule *rule, char *buf, size_t cap,
		      size_t *len);

/* Append an error (used by the module; exposed for callers' own checks). */
void rules_errors_add(struct rules_errors *errs, uint32_t line,
		      unsigned int field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Empty an error list. */
void rules_errors_reset(struct rules_errors *errs);

/* ------------------------------------------------------------------ */
/* Compiler and image                                                 */

/**
 * Compile a set into one self-contained image: digit trie, domain table,
 * Hyperscan database, rule table, target table (README.md "Image format").
 *
 * @param image
 *   Receives a malloc()ed buffer; the caller stores it and free()s it.
 * @param len
 *   Receives its size in bytes.
 * @param errs
 *   Optional; regex patterns Hyperscan refuses are reported with the
 *   rule's line and Hyperscan's message.
 * @return
 *   0; -EINVAL if a pattern does not compile; -E2BIG if the set exceeds
 *   the image format's limits; -ENOMEM.
 *
 * Context: control process; may take seconds for large regex sets.
 */
int rules_compile(const struct rules_set *set, void **image, size_t *len,
		  struct rules_errors *errs);

/**
 * The addresses of a target host name, for rules_compile_resolved().
 *
 * @param name
 *   The name as the rule wrote it.
 * @param out
 *   Room for @p max addresses.
 * @param why
 *   On failure, a message for the operator (NUL-terminated, @p why_len
 *   bytes of room).
 * @return
 *   The number of addresses written (1..max), or a negative errno.
 */
typedef int rules_resolve_fn(void *arg, struct span name,
			     struct rules_addr *out, uint32_t max, char *why,
			     size_t why_len);

/**
 * As rules_compile(), for a set whose targets may name hosts: each name
 * target becomes the addresses @p resolve gives for it (at most
 * RULES_NAME_ADDRS_MAX, in the order given), each with the target's port,
 * priority and weight. An address the rule reaches twice at one port (a
 * literal and a name, or two names) is listed once, with the better (lower)
 * priority of the two and that entry's weight.
 *
 * @return
 *   As rules_compile(); -EINVAL also when a name does not resolve or a
 *   rule's resolved list exceeds RULES_TARGETS_MAX (reported in @p errs
 *   with the rule's line and field "targets").
 */
int rules_compile_resolved(const struct rules_set *set,
			   rules_resolve_fn *resolve, void *arg, void **image,
			   size_t *len, struct rules_errors *errs);

/**
 * Check an image's header, section bounds and checksum without loading it.
 *
 * @return
 *   0; -EBADMSG if it is truncated, corrupt or of another version.
 */
int rules_image_validate(const void *buf, size_t len);

/**
 * Validate an image and make it usable for matching. The bytes are copied
 * (so an LMDB read transaction can end right away) and the Hyperscan
 * database is deserialised; nothing is rebuilt.
 *
 * @return
 *   0 and *out set; -EBADMSG (see rules_image_validate()); -ENOMEM; -EIO
 *   if Hyperscan refuses the embedded database.
 *
 * Context: slow path (control process, dataplane loader thread).
 */
int rules_db_load(const void *buf, size_t len, struct rules_db **out);

/**
 * As rules_db_load(), but use @p buf in place: nothing is copied except
 * what Hyperscan deserialises. For a read-only mapping that outlives the
 * db (a file, or an LMDB value inside a long-lived read transaction).
 *
 * @return
 *   As rules_db_load(); -EINVAL if @p buf is not 8-byte aligned.
 *
 * Lifetime: @p buf must stay mapped and unchanged until rules_db_free().
 * Context: slow path.
 */
int rules_db_load_inplace(const void *buf, size_t len, struct rules_db **out);

/* Free a db; NULL is a no-op. No scratch for it may be in use. */
void rules_db_free(struct rules_db *db);

/* Number of rules and targets in the image. */
uint32_t rules_db_rule_count(const struct rules_db *db);
uint32_t rules_db_target_count(const struct rules_db *db);

/* Generation-independent identity of the image: its stored checksum. */
uint32_t rules_db_checksum(const struct rules_db *db);

/* Rule number of an id (slow path: linear scan); RULES_NO_RULE if none. */
uint32_t rules_db_find(const struct rules_db *db, struct span id);

/* Sizes in bytes of each part of the image, for benchmarks and status. */
struct rules_db_sizes {
	size_t           total;
	size_t           trie;
	size_t           domains;
	size_t           regex;
	size_t           rules;
	size_t           targets;
	size_t           strings;
	uint32_t         trie_nodes;
};
void rules_db_sizes(const struct rules_db *db, struct rules_db_sizes *out);

/**
 * Allocate matching scratch for @p db (the Hyperscan scratch inside).
 * One per worker lcore per db; never shared, never resized while in use.
 *
 * @return
 *   0 and *out set; -ENOMEM.
 *
 * Context: slow path only (dataplane loader thread): it allocates.
 */
int rules_scratch_new(const struct rules_db *db, struct rules_scratch **out);

/* NULL is a no-op. Only after the owning worker stopped using it. */
void rules_scratch_free(struct rules_scratch *scr);

/* ------------------------------------------------------------------ */
/* Matching (HOT: rules_match.c; no allocation, locks or syscalls)    */

/**
 * Build the match key (DESIGN.md 4.1) from a R-URI user part (or a tel:
 * number) and host, both as they appear on the wire.
 *
 * The user part is %HH-unescaped. If it is a telephone-subscriber style
 * number (digits, "*", "#", visual separators "-.()", a leading "+",
 * optional ";params"), separators and params are removed and a leading "+"
 * dropped. Other user parts are kept as unescaped. The host is lower-cased,
 * one trailing "." (a fully qualified name) dropped and IPv6 brackets kept
 * as given.
 *
 * @return
 *   0; -EINVAL for a bad %-escape anywhere in the user part (params
 *   included: the whole user part is unescaped first); -ENAMETOOLONG if
 *   a user part with an escape unescapes to more than 2 * RULES_KEY_MAX +
 *   2 bytes before its first ";" (separators count there), or the
 *   number as normalised (its "+", separators and params do not count),
 *   another user part as unescaped, or the host exceeds RULES_KEY_MAX or
 *   RULES_HOST_MAX.
 *
 * Context: any thread, hot-path safe.
 */
int rules_key_make(struct span user, struct span host, struct rules_key *key);

/**
 * Find the winning rule for a key per DESIGN.md 4.1: lowest rank, then
 * exact > longest prefix > regex > domain > default, then lower id.
 *
 * @param scr
 *   This lcore's scratch for @p db; may be NULL if the db has no regex
 *   rules (rules_db_has_regex()).
 * @return
 *   0 and *rule set to the rule number; -ENOENT if no rule matches;
 *   -EIO if the regex scan failed (counted by the caller).
 *
 * Context: worker lcore, hot: no allocation, locks or syscalls; reads
 * @p db only. O(key length) plus one Hyperscan scan when a regex rule
 * could still win.
 */
int rules_match(const struct rules_db *db, struct rules_scratch *scr,
		const struct rules_key *key, uint32_t *rule);

/**
 * rules_match() for a burst of keys: the trie walks of all keys advance
 * together, one level at a time, with the next node of each prefetched,
 * so their memory latencies overlap. Same winners as rules_match().
 *
 * @param rules
 *   Output, @p n entries: the rule number, RULES_NO_RULE if nothing
 *   matched, or RULES_MATCH_ERROR if the regex scan failed.
 * @return
 *   The number of keys that have a rule.
 *
 * Context: worker lcore, hot (as rules_match()).
 */
uint32_t rules_match_burst(const struct rules_db *db,
			   struct rules_scratch *scr,
			   const struct rules_key *keys, uint32_t n,
			   uint32_t *rules);

/**
 * Start loading what rules_hit_get(), rules_pick_target() and
 * rules_contacts() read first for rule number @p rule (its record). After
 * rules_match_burst(), call it for every key before handling the first,
 * so that the loads overlap: in a large image that record is a cache
 * miss. Match and pick a target per key in a burst of 32, median of 3
 * interleaved runs of bench_rules_match on 2 shared Xeon cores: 1M
 * prefixes 166 -> 119 ns, 100k 96 -> 62 ns.
 *
 * @param rule
 *   A rule number; RULES_NO_RULE, RULES_MATCH_ERROR and any other number
 *   out of range are ignored.
 *
 * Context: any thread, hot-path safe; a hint only, it changes nothing.
 */
void rules_hit_prefetch(const struct rules_db *db, uint32_t rule);

/* True if the image has regex rules (workers then need a scratch). */
bool rules_db_has_regex(const struct rules_db *db);

/**
 * What to do for rule number @p rule.
 *
 * @return
 *   0 and *hit filled (spans point into @p db); -ENOENT if out of range.
 *
 * Context: any thread, hot-path safe.
 */
int rules_hit_get(const struct rules_db *db, uint32_t rule,
		  struct rules_hit *hit);

/**
 * Choose the target for a forward: weighted rendezvous hashing of
 * @p flow_hash (a keyed hash of the Call-ID) over the up targets of the
 * lowest-numbered priority tier that has one.
 *
 * @param up
 *   Target-state bitmap indexed by target number (bit t of up[t / 64]);
 *   NULL means every target is up.
 * @return
 *   0 and *out set; -ENOENT if the rule has no up target (or none at all).
 *
 * Context: any thread, hot-path safe; deterministic.
 */
int rules_pick_target(const struct rules_db *db, uint32_t rule,
		      uint64_t flow_hash, const uint64_t *up,
		      struct rules_dest *out);

/**
 * Ordered Contact list for a redirect: up targets by tier (ascending
 * priority), and within a tier in rendezvous order for @p flow_hash (so
 * out[0] is what rules_pick_target() returns).
 *
 * @return
 *   0 and *n set (at most @p cap entries written, the best first);
 *   -ENOENT if no target is up.
 *
 * Context: any thread, hot-path safe.
 */
int rules_contacts(const struct rules_db *db, uint32_t rule,
		   uint64_t flow_hash, const uint64_t *up,
		   struct rules_dest *out, uint32_t cap, uint32_t *n);

/**
 * Where target number @p t (below rules_db_target_count()) sends: address
 * family, address and port; priority and weight are left 0 (they belong
 * to a rule's list). For the loader, which formats each target once.
 *
 * @return
 *   0 and *out set; -ENOENT if @p t is out of range.
 *
 * Context: any thread.
 */
int rules_db_target(const struct rules_db *db, uint32_t t,
		    struct rules_dest *out);

/**
 * The header field a final response with status @p code must carry and a
 * router's local answer does not (RFC 3261 §21.4: 401 WWW-Authenticate,
 * 405 Allow, 407 Proxy-Authenticate, 420 Unsupported, 421 Require, 423
 * Min-Expires; RFC 4028 422 Min-SE; RFC 3329 494 Security-Server), or
 * NULL: a reject rule or --no-route-code may not use these codes.
 */
static inline const char *
rules_code_needs_header(unsigned int code)
{
	switch (code) {
	case 401: return "WWW-Authenticate";
	case 405: return "Allow";
	case 407: return "Proxy-Authenticate";
	case 420: return "Unsupported";
	case 421: return "Require";
	case 422: return "Min-SE";
	case 423: return "Min-Expires";
	case 494: return "Security-Server";
	default: return NULL;
	}
}

_Static_assert(RULES_AF_INET == 4 && RULES_AF_INET6 == 6,
	       "struct addr_port's af takes enum rules_af values");

/**
 * The target-state bitmap of rules_pick_target() and rules_contacts():
 * every target up but those whose family, address and port one of the
 * @p n entries of @p down names (entries naming no target are ignored).
 *
 * @param up
 *   Room for (rules_db_target_count() + 63) / 64 words, all written (no
 *   bit set past the last target).
 * @return
 *   The number of targets marked down.
 *
 * Context: slow path (the dataplane's loader, the control process).
 */
uint32_t rules_up_bitmap(const struct rules_db *db,
			 const struct addr_port *down, uint32_t n,
			 uint64_t *up);

/**
 * Apply the rule's number manipulation to the normalised number: drop
 * `strip` leading characters, then put `prepend` in front.
 *
 * @return
 *   0 and *len set; -ENOSPC if @p cap is too small.
 *
 * Context: any thread, hot-path safe.
 */
int rules_rewrite_user(const struct rules_db *db, uint32_t rule,
		       const struct rules_key *key, char *buf, uint32_t cap,
		       uint32_t *len);

/**
 * Whether rule @p rule manipulates the number (a strip or a prepend):
 * without, a router keeps the Request-URI's user part as it came.
 *
 * Context: any thread, hot-path safe.
 */
bool rules_rewrites_user(const struct rules_db *db, uint32_t rule);

/* ------------------------------------------------------------------ */
/* Explain (slow path)                                                */

/**
 * Explain the routing of one key: every matching rule (best first, the
 * first RULES_EXPLAIN_KEEP kept, all counted), the tie-break that made the
 * winner win, the chosen target and the Contact list.
 *
 * @return
 *   0 (also when nothing matched: out->winner is RULES_NO_RULE);
 *   -EIO if the regex scan failed.
 *
 * Context: slow path: it checks every rule of the image (milliseconds for
 * a million rules). @p scr must not be in use by a worker.
 */
int rules_explain(const struct rules_db *db, struct rules_scratch *scr,
		  const struct rules_key *key, uint64_t flow_hash,
		  const uint64_t *up, struct rules_explain *out);

/* Render an explanation as text / as one JSON object, NUL-terminated.
 * Return 0 and *len (without the NUL); -ENOSPC if @p cap is too small. */
int rules_explain_text(const struct rules_explain *ex, char *buf, size_t cap,
		       size_t *len);
int rules_explain_json(const struct rules_explain *ex, char *buf, size_t cap,
		       size_t *len);

#endif /* SIPEDGE_RULES_RULES_H */
