/* SPDX-License-Identifier: MIT */
/*
 * ctl_state.c - the committed state of the control process and every
 * change to it.
 *
 * The current rule set lives in memory, mirroring the rules database of
 * the current generation; it is replaced only after LMDB committed the
 * next generation. A change is built completely (parse, validate,
 * compile) before the write transaction starts, so the transaction does
 * nothing that can fail on bad input.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <compiler.h>
#include <sip.h>

#include "ctl.h"

BUILD_ASSERT(RULES_KIND_EXACT + 1 == SCHEMA_KIND_EXACT &&
	     RULES_KIND_DEFAULT + 1 == SCHEMA_KIND_DEFAULT &&
	     RULES_KIND__COUNT + 1 == SCHEMA_KIND__COUNT,
	     "schema kinds are rules kinds + 1");
BUILD_ASSERT(RULES_ACTION_FORWARD + 1 == SCHEMA_ACTION_FORWARD &&
	     RULES_ACTION_REJECT + 1 == SCHEMA_ACTION_REJECT,
	     "schema actions are rules actions + 1");
BUILD_ASSERT(RULES_TARGETS_MAX <= SCHEMA_RULE_MAX_TARGETS,
	     "every rule fits the stored layout");

struct ctl_state {
	struct ctl_store        *st;
	struct rules_set        *cur;
	uint64_t                 gen;
	ctl_publish_fn          *publish;
	void                    *publish_arg;
	/* Loaded image of the current generation, for explain; lazy. */
	struct rules_db         *db;
	struct rules_scratch    *scr;
	uint64_t                 db_gen;
	/* Target host names (ctl_resolve.c) and their refresh rounds. */
	struct ctl_resolver     *res;
	uint64_t                 res_next_us;   /* next round, monotonic */
	uint64_t                 res_interval_us;
	uint64_t                 res_read_us;   /* setting last read */
	bool                     res_started;   /* a round since open */
	bool                     res_pending;   /* compile again when idle */
	bool                     res_dirty;     /* the cache is ahead of the
						   generation (a commit failed) */
};

static void
ctl_result_fail(struct ctl_result *res, int rc, const char *code,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
ctl_result_fail(struct ctl_result *res, int rc, const char *code,
		const char *fmt, ...)
{
	va_list ap;

	res->rc = rc;
	res->code = code;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
}

void
ctl_result_fini(struct ctl_result *res)
{
	free(res->errs);
	res->errs = NULL;
}

/* Conversions ------------------------------------------------------ */

int
ctl_rule_to_schema(const struct rules_rule *r, struct schema_rule *s,
		   char hosts[][48])
{
	uint32_t i;

	if (r->ntargets > RULES_TARGETS_MAX)
		return -EINVAL;
	s->id = r->id;
	s->kind = (uint8_t)(r->kind + 1);
	s->action = (uint8_t)(r->action + 1);
	s->code = r->action == RULES_ACTION_REJECT ? r->code : 0;
	s->rank = r->rank;
	s->strip = r->strip;
	s->pattern = r->kind == RULES_KIND_DEFAULT ? span_make(NULL, 0) :
		     r->pattern;
	s->prepend = r->prepend;
	s->ntargets = (uint16_t)r->ntargets;
	for (i = 0; i < r->ntargets; i++) {
		const struct rules_target *t = &r->targets[i];

		if (t->af == RULES_AF_NAME)
			s->target[i].host = span_make(t->name, t->name_len);
		else if (inet_ntop(t->af == RULES_AF_INET6 ? AF_INET6 :
				   AF_INET, t->addr, hosts[i], 48) == NULL)
			return -EINVAL;
		else
			s->target[i].host = span_make(hosts[i],
						      strlen(hosts[i]));
		s->target[i].port = t->port;
		s->target[i].priority = t->priority;
		s->target[i].weight = t->weight;
	}
	return 0;
}

int
ctl_rule_from_schema(const struct schema_rule *s, struct rules_rule *r,
		     struct rules_target *targets)
{
	char host[SCHEMA_HOST_MAX + 1];
	uint16_t i;

	if (s->ntargets > RULES_TARGETS_MAX)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->id = s->id;
	r->kind = (uint8_t)(s->kind - 1);
	r->action = (uint8_t)(s->action - 1);
	r->code = s->code;
	r->rank = s->rank;
	r->strip = s->strip;
	r->pattern = s->pattern;
	r->prepend = s->prepend;
	r->ntargets = s->ntargets;
	r->targets = targets;
	for (i = 0; i < s->ntargets; i++) {
		struct rules_target *t = &targets[i];

		memset(t, 0, sizeof(*t));
		memcpy(host, s->target[i].host.ptr, s->target[i].host.len);
		host[s->target[i].host.len] = '\0';
		if (inet_pton(AF_INET, host, t->addr) == 1) {
			t->af = RULES_AF_INET;
		} else if (inet_pton(AF_INET6, host, t->addr) == 1) {
			t->af = RULES_AF_INET6;
		} else if (rules_host_name_ok(s->target[i].host)) {
			/* Valid while @p s is; the set keeps its own copy. */
			t->af = RULES_AF_NAME;
			t->name = s->target[i].host.ptr;
			t->name_len = (uint8_t)s->target[i].host.len;
		} else {
			return -EINVAL;
		}
		t->port = s->target[i].port;
		t->priority = s->target[i].priority;
		t->weight = s->target[i].weight;
	}
	return 0;
}

/* Open and load ---------------------------------------------------- */

struct ctl_load {
	struct rules_set        *set;
	struct rules_errors     *errs;
	uint64_t                 n;
};

static int
ctl_state_load_one(void *arg, const struct schema_rule *s)
{
	struct rules_target targets[RULES_TARGETS_MAX];
	struct ctl_load *ld = arg;
	struct rules_rule r;
	int rc;

	rc = ctl_rule_from_schema(s, &r, targets);
	if (rc == 0)
		rc = rules_set_add(ld->set, &r, ld->errs);
	if (rc != 0) {
		ctl_log(CTL_LOG_ERR, "stored rule '%.*s' does not load: %s%s%s",
			(int)s->id.len, s->id.ptr, strerror(-rc),
			ld->errs->n != 0 ? ": " : "",
			ld->errs->n != 0 ? ld->errs->e[0].msg : "");
		return -EBADMSG;
	}
	ld->n++;
	return 0;
}

/*
 * The installation secret the dataplane keys its To-tags and hashes with
 * (SCHEMA.md 3.6 "dataplane.secret"): created at random on first open,
 * never changed by us afterwards.
 */
static int
ctl_state_secret(struct ctl_store *st)
{
	static const char hex[] = "0123456789abcdef";
	struct schema_setting s;
	uint8_t rnd[16];
	char buf[64];
	size_t i;
	int rc;

	rc = ctl_store_setting_get(st, "dataplane.secret", &s, buf,
				   sizeof(buf));
	if (rc == 0 || rc == -ENOSPC)
		return 0;
	if (rc != -ENOENT)
		return rc;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	for (i = 0; i < sizeof(rnd); i++) {
		buf[2 * i] = hex[rnd[i] >> 4];
		buf[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	memset(&s, 0, sizeof(s));
	s.type = SCHEMA_SETTING_STR;
	s.str = span_make(buf, 2 * sizeof(rnd));
	rc = ctl_store_setting_put(st, "dataplane.secret", &s);
	if (rc == 0)
		ctl_log(CTL_LOG_INFO, "created setting dataplane.secret");
	return rc;
}

/*
 * The addresses the names had at the last commit: what compiles until a
 * lookup says otherwise. Only a cache: a bad value is logged and ignored.
 */
static void
ctl_state_load_names(struct ctl_state *cs)
{
	void *buf;
	size_t len;
	int rc;

	rc = ctl_store_names_get(cs->st, &buf, &len);
	if (rc == 0)
		rc = ctl_resolver_load(cs->res, buf, len);
	if (rc != 0 && rc != -ENOENT)
		ctl_log(CTL_LOG_WARN,
			"stored target name addresses unusable (%s): names are looked up anew",
			strerror(-rc));
	free(buf);
}

int
ctl_state_open(const char *dir, uint64_t map_size, uint64_t map_max,
	       struct ctl_state **out)
{
	struct schema_meta_gen g;
	struct ctl_state *cs;
	struct ctl_load ld;
	int rc;

	cs = calloc(1, sizeof(*cs));
	if (cs == NULL)
		return -ENOMEM;
	memset(&ld, 0, sizeof(ld));
	ld.errs = calloc(1, sizeof(*ld.errs));
	if (ld.errs == NULL) {
		rc = -ENOMEM;
		goto out_free_cs;
	}
	rc = ctl_resolver_new(&cs->res);
	if (rc != 0)
		goto out_free_errs;
	rc = ctl_store_open(dir, map_size, map_max, &cs->st);
	if (rc != 0)
		goto out_free_errs;
	rc = ctl_state_secret(cs->st);
	if (rc != 0)
		goto out_close_store;
	rc = ctl_store_generation(cs->st, &g);
	if (rc != 0)
		goto out_close_store;
	rc = rules_set_new(&cs->cur);
	if (rc != 0)
		goto out_close_store;
	ld.set = cs->cur;
	rc = ctl_store_rules_foreach(cs->st, ctl_state_load_one, &ld);
	if (rc != 0)
		goto out_free_set;
	if (ld.n != g.nrules) {
		ctl_log(CTL_LOG_ERR, "meta says %llu rules, found %llu",
			(unsigned long long)g.nrules,
			(unsigned long long)ld.n);
		rc = -EBADMSG;
		goto out_free_set;
	}
	cs->gen = g.generation;
	ctl_state_load_names(cs);
	free(ld.errs);
	ctl_log(CTL_LOG_INFO, "opened %s: generation %llu, %llu rules", dir,
		(unsigned long long)cs->gen, (unsigned long long)ld.n);
	*out = cs;
	return 0;

out_free_set:
	rules_set_free(cs->cur);
out_close_store:
	ctl_store_close(cs->st);
out_free_errs:
	ctl_resolver_free(cs->res);
	free(ld.errs);
out_free_cs:
	free(cs);
	return rc;
}

static void
ctl_state_drop_db(struct ctl_state *cs)
{
	rules_scratch_free(cs->scr);
	cs->scr = NULL;
	rules_db_free(cs->db);
	cs->db = NULL;
	cs->db_gen = 0;
}

void
ctl_state_close(struct ctl_state *cs)
{
	if (cs == NULL)
		return;
	ctl_state_drop_db(cs);
	ctl_resolver_free(cs->res);
	rules_set_free(cs->cur);
	ctl_store_close(cs->st);
	free(cs);
}

void
ctl_state_set_publish(struct ctl_state *cs, ctl_publish_fn *fn, void *arg)
{
	cs->publish = fn;
	cs->publish_arg = arg;
}

struct ctl_store *
ctl_state_store(struct ctl_state *cs)
{
	return cs->st;
}

const struct rules_set *
ctl_state_rules(const struct ctl_state *cs)
{
	return cs->cur;
}

uint64_t
ctl_state_generation(const struct ctl_state *cs)
{
	return cs->gen;
}

struct ctl_resolver *
ctl_state_resolver(struct ctl_state *cs)
{
	return cs->res;
}

int
ctl_setting_u64(struct ctl_state *cs, const char *name, uint64_t *v)
{
	const struct schema_setting_def *d;
	struct schema_setting s;
	int rc;

	d = schema_setting_find(span_make(name, strlen(name)));
	if (d == NULL || d->type == SCHEMA_SETTING_STR)
		return -EINVAL;
	rc = ctl_store_setting_get(cs->st, name, &s, NULL, 0);
	if (rc == -ENOENT) {
		*v = d->def;
		return 0;
	}
	if (rc != 0)
		return rc;
	*v = s.u;
	return 0;
}

/* Building a generation -------------------------------------------- */

/* Distinct targets of a set: open addressing on (af, addr, port). */
struct ctl_tmap {
	struct ctl_target_ent   *ent;
	size_t                   cap;
	size_t                   n;
};

static int
ctl_tmap_add(struct ctl_tmap *m, const struct rules_target *t);

static int
ctl_tmap_grow(struct ctl_tmap *m)
{
	struct ctl_tmap big = { .cap = m->cap != 0 ? m->cap * 2 : 64 };
	size_t i;

	big.ent = calloc(big.cap, sizeof(*big.ent));
	if (big.ent == NULL)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		struct ctl_target_ent *e = &m->ent[i], *d;
		size_t j;

		if (e->rec.refs == 0)
			continue;
		j = ctl_str_hash(e->key) & (big.cap - 1);
		while (big.ent[j].rec.refs != 0)
			j = (j + 1) & (big.cap - 1);
		d = &big.ent[j];
		*d = *e;
		big.n++;
	}
	free(m->ent);
	*m = big;
	return 0;
}

/* The table's key is the target as text: one key, one next hop. */
static int
ctl_tmap_add(struct ctl_tmap *m, const struct rules_target *t)
{
	struct ctl_target_ent *e;
	char host[48], key[sizeof(e->key)];
	size_t j, i;
	int rc;

	if (2 * (m->n + 1) > m->cap) {
		rc = ctl_tmap_grow(m);
		if (rc != 0)
			return rc;
	}
	if (t->af == RULES_AF_NAME) {
		/* Names are one host whatever their case. */
		for (i = 0; i < t->name_len; i++)
			key[i] = (char)tolower((unsigned char)t->name[i]);
		snprintf(key + i, sizeof(key) - i, ":%u", t->port);
	} else {
		inet_ntop(t->af == RULES_AF_INET6 ? AF_INET6 : AF_INET,
			  t->addr, host, sizeof(host));
		snprintf(key, sizeof(key),
			 t->af == RULES_AF_INET6 ? "[%s]:%u" : "%s:%u", host,
			 t->port);
	}
	j = ctl_str_hash(key) & (m->cap - 1);
	for (;;) {
		e = &m->ent[j];
		if (e->rec.refs == 0)
			break;
		if (strcmp(e->key, key) == 0) {
			e->rec.refs++;
			return 0;
		}
		j = (j + 1) & (m->cap - 1);
	}
	memset(&e->rec, 0, sizeof(e->rec));
	e->rec.family = t->af;
	e->rec.port = t->port;
	if (t->af != RULES_AF_NAME)
		memcpy(e->rec.addr, t->addr, 16);
	e->rec.refs = 1;
	memcpy(e->key, key, sizeof(key));
	m->n++;
	return 0;
}

/* Compact the table into a dense array (in place). */
static int
ctl_tmap_build(const struct rules_set *set, struct ctl_tmap *m)
{
	struct rules_rule r;
	uint32_t i, n = rules_set_count(set, NULL), t;
	size_t k, d = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < n; i++) {
		rc = rules_set_get(set, i, &r);
		for (t = 0; rc == 0 && t < r.ntargets; t++)
			rc = ctl_tmap_add(m, &r.targets[t]);
		if (rc != 0) {
			free(m->ent);
			return rc;
		}
	}
	for (k = 0; k < m->cap; k++) {
		if (m->ent[k].rec.refs != 0)
			m->ent[d++] = m->ent[k];
	}
	m->n = d;
	return 0;
}

/* Changes from cur to next: puts of new/changed rules, then deletions. */
struct ctl_diff_iter {
	const struct rules_set  *cur;
	const struct rules_set  *next;
	uint32_t                 i;
	uint32_t                 phase;
	uint32_t                 phase0;        /* where it starts */
	char                     hosts[RULES_TARGETS_MAX][48];
};

static void
ctl_diff_rewind(void *arg)
{
	struct ctl_diff_iter *it = arg;

	it->i = 0;
	it->phase = it->phase0;
}

/* Target host names written byte for byte alike (rules_rule_equal()
 * compares them as hosts, without case). */
static bool
ctl_names_same_text(const struct rules_rule *a, const struct rules_rule *b)
{
	uint32_t i;

	for (i = 0; i < a->ntargets; i++) {
		const struct rules_target *x = &a->targets[i];
		const struct rules_target *y = &b->targets[i];

		if (x->af == RULES_AF_NAME &&
		    memcmp(x->name, y->name, x->name_len) != 0)
			return false;
	}
	return true;
}

static int
ctl_diff_next(void *arg, struct ctl_change *c)
{
	struct ctl_diff_iter *it = arg;
	struct rules_rule r, old;
	int rc;

	while (it->phase == 0) {
		if (rules_set_get(it->next, it->i, &r) != 0) {
			it->phase = 1;
			it->i = 0;
			break;
		}
		it->i++;
		/*
		 * Unchanged for matching is not enough to skip the write:
		 * "+44" for "44", a domain's or a target host name's case is
		 * a change of the text the operator sees in export, and must
		 * survive a restart.
		 */
		if (it->cur != NULL && rules_set_find(it->cur, r.id, &old) == 0 &&
		    rules_rule_equal(&r, &old) && span_eq(r.pattern, old.pattern) &&
		    ctl_names_same_text(&r, &old))
			continue;
		c->del = false;
		c->id = r.id;
		rc = ctl_rule_to_schema(&r, &c->rule, it->hosts);
		return rc != 0 ? rc : 1;
	}
	while (it->cur != NULL) {
		if (rules_set_get(it->cur, it->i, &old) != 0)
			break;
		it->i++;
		if (rules_set_find(it->next, old.id, &r) == 0)
			continue;
		c->del = true;
		c->id = old.id;
		return 1;
	}
	return 0;
}

static void
ctl_diff_totals(const struct rules_diff *d, uint32_t *a, uint32_t *r,
		uint32_t *c)
{
	unsigned int k;

	*a = *r = *c = 0;
	for (k = 0; k < RULES_KIND__COUNT; k++) {
		*a += d->added[k];
		*r += d->removed[k];
		*c += d->changed[k];
	}
}

static void
ctl_errs_copy(struct ctl_result *res, const struct rules_errors *e)
{
	if (res->errs == NULL)
		res->errs = malloc(sizeof(*res->errs));
	if (res->errs != NULL)
		memcpy(res->errs, e, sizeof(*e));
}

const char *
ctl_commit_code(int rc)
{
	switch (rc) {
	case -ENOSPC:
	case -EFBIG:
		return "store_full";
	default:
		return "store_error";
	}
}

/* targets.resolve_interval in seconds (its default if unreadable). */
static uint64_t
ctl_state_resolve_interval(struct ctl_state *cs)
{
	uint64_t v;

	if (ctl_setting_u64(cs, "targets.resolve_interval", &v) != 0)
		v = 60;
	return v;
}

/* Is @p image the rules image of the current generation? */
static bool
ctl_state_image_current(struct ctl_state *cs, const void *image, size_t len)
{
	void *cur = NULL;
	size_t clen = 0;
	bool same;

	if (cs->gen == 0 || ctl_store_artefact_get(cs->st, cs->gen,
						   SCHEMA_ART_RULES_IMAGE,
						   &cur, &clen) != 0)
		return false;
	same = clen == len && memcmp(cur, image, len) == 0;
	free(cur);
	return same;
}

/*
 * Compile @p next and, unless @p dry_run, commit it as the next generation.
 * Consumes @p next: on success it becomes the current set, otherwise it is
 * freed. @p next may be the current set itself (mode "resolve": the same
 * rules, names resolved anew), which is kept, and committed only if the
 * image differs from the current one. Fills the counts, timings and error
 * of @p res.
 */
static int
ctl_state_apply(struct ctl_state *cs, struct rules_set *next, uint8_t mode,
		bool dry_run, uint64_t rows, uint64_t t0,
		struct ctl_result *res)
{
	struct ctl_diff_iter *it = NULL;
	struct rules_errors *errs;
	struct ctl_commit c;
	struct ctl_tmap tm = { 0 };
	void *image = NULL;
	uint64_t t1, gen;
	uint32_t counts[RULES_KIND__COUNT], a, r, ch;
	unsigned int k;
	size_t len = 0;
	bool same = next == cs->cur, names_changed = false;
	struct ctl_buf names;
	uint64_t iv;
	int rc;

	ctl_buf_init(&names);
	errs = calloc(1, sizeof(*errs));
	if (errs == NULL) {
		rc = -ENOMEM;
		ctl_result_fail(res, rc, "internal", "out of memory");
		goto out_free_next;
	}
	res->rows = rows;
	res->nrules = rules_set_count(next, counts);
	for (k = 0; k < RULES_KIND__COUNT; k++)
		res->by_kind[k] = counts[k];
	if (same) {
		memset(&res->diff, 0, sizeof(res->diff));
		res->diff.unchanged = (uint32_t)res->nrules;
		rc = 0;
	} else {
		rc = rules_set_diff(cs->cur, next, &res->diff);
	}
	if (rc != 0) {
		ctl_result_fail(res, rc, "internal", "diff failed: %s",
				strerror(-rc));
		goto out_free_errs;
	}

	t1 = ctl_mono_us();
	/* Names the cache cannot answer (every name when nothing looks
	 * them up in the background) are looked up first, within bounds. */
	iv = ctl_state_resolve_interval(cs);
	rc = ctl_resolver_prepare(cs->res, next, iv == 0 && !same,
				  iv * 1000000u, CTL_RESOLVE_WAIT_MS,
				  &names_changed);
	/* The cache is now ahead of the generation in use, unless this
	 * commits (a dry run, rules that do not compile, a failed commit
	 * do not): the next round compiles the rules in use again. */
	if (names_changed)
		cs->res_dirty = true;
	if (rc == 0)
		rc = rules_compile_resolved(next, ctl_resolver_lookup,
					    cs->res, &image, &len, errs);
	res->compile_us = ctl_mono_us() - t1;
	res->image_len = len;
	if (rc == 0 && same && ctl_state_image_current(cs, image, len)) {
		res->generation = cs->gen;
		cs->res_dirty = false;
		goto out_free_image;
	}
	if (rc != 0) {
		ctl_errs_copy(res, errs);
		ctl_result_fail(res, rc, rc == -EINVAL ? "invalid" : "compile",
				"rule set does not compile: %s%s%s; nothing committed",
				strerror(-rc), errs->n != 0 ? ": " : "",
				errs->n != 0 ? errs->e[0].msg : "");
		goto out_free_errs;
	}
	if (dry_run) {
		res->generation = cs->gen;
		rc = 0;
		goto out_free_image;
	}

	rc = ctl_tmap_build(next, &tm);
	if (rc != 0) {
		ctl_result_fail(res, rc, "internal", "out of memory");
		goto out_free_image;
	}
	it = calloc(1, sizeof(*it));
	if (it == NULL) {
		rc = -ENOMEM;
		ctl_result_fail(res, rc, "internal", "out of memory");
		goto out_free_tmap;
	}
	it->cur = same ? NULL : cs->cur;
	it->next = next;
	it->phase = same ? 1 : 0;       /* the same rules: nothing to write */
	it->phase0 = it->phase;

	rc = ctl_resolver_save(cs->res, next, &names);
	if (rc != 0) {
		ctl_result_fail(res, rc, "internal", "out of memory");
		goto out_free_it;
	}

	memset(&c, 0, sizeof(c));
	c.next = ctl_diff_next;
	c.rewind = ctl_diff_rewind;
	c.arg = it;
	c.targets = tm.ent;
	c.ntargets = tm.n;
	c.image = image;
	c.image_len = len;
	c.names = names.p;
	c.names_len = names.len;
	c.geninfo.nrules = res->nrules;
	for (k = 0; k < RULES_KIND__COUNT; k++)
		c.geninfo.by_kind[k + 1] = counts[k];
	c.summary.mode = mode;
	c.summary.rows = rows;
	ctl_diff_totals(&res->diff, &a, &r, &ch);
	c.summary.added = a;
	c.summary.removed = r;
	c.summary.changed = ch;
	c.summary.unchanged = res->diff.unchanged;
	memcpy(c.summary.by_kind, c.geninfo.by_kind, sizeof(c.geninfo.by_kind));
	rc = ctl_setting_u64(cs, "artefacts.keep", &c.keep);
	if (rc != 0)
		c.keep = 2;
	c.t0_mono = t0;

	t1 = ctl_mono_us();
	rc = ctl_store_commit(cs->st, &c, &gen);
	res->commit_us = ctl_mono_us() - t1;
	/* A full disk cuts a write short, which LMDB reports as EIO. */
	if (rc == -EIO && ctl_store_disk_short(cs->st, 2 * (uint64_t)len +
						   (16u << 20)))
		rc = -ENOSPC;
	if (rc != 0) {
		if (rc == -ENOSPC || rc == -EFBIG)
			ctl_result_fail(res, rc, ctl_commit_code(rc),
					"the LMDB map or the disk is full (%s); nothing committed, generation %llu is still current; free disk space, or restart with a larger --map-size-max (the map grows by itself up to it)",
					strerror(-rc),
					(unsigned long long)cs->gen);
		else if (rc == -ENOTRECOVERABLE)
			ctl_result_fail(res, rc, ctl_commit_code(rc),
					"the store hit a fatal LMDB error; nothing committed, generation %llu is still current; restart sipedge-control to reopen it",
					(unsigned long long)cs->gen);
		else
			ctl_result_fail(res, rc, ctl_commit_code(rc),
					"commit failed: %s; nothing committed, generation %llu is still current",
					strerror(-rc),
					(unsigned long long)cs->gen);
		ctl_log(CTL_LOG_ERR, "%s", res->msg);
		goto out_free_it;
	}

	if (!same)
		rules_set_free(cs->cur);
	cs->cur = next;
	next = NULL;
	cs->gen = gen;
	cs->res_dirty = false;  /* the image has the cache's addresses */
	ctl_state_drop_db(cs);
	res->generation = gen;
	ctl_log(CTL_LOG_INFO,
		"generation %llu committed: %llu rules (+%u -%u ~%u), image %zu bytes, commit %.3f s",
		(unsigned long long)gen, (unsigned long long)res->nrules, a, r,
		ch, len, (double)res->commit_us / 1e6);
	if (cs->publish != NULL)
		cs->publish(cs->publish_arg, gen, res->nrules);

out_free_it:
	ctl_buf_fini(&names);
	free(it);
out_free_tmap:
	free(tm.ent);
out_free_image:
	free(image);
out_free_errs:
	free(errs);
out_free_next:
	if (!same)
		rules_set_free(next);
	res->total_us = ctl_mono_us() - t0;
	return rc;
}

int
ctl_state_reresolve(struct ctl_state *cs, struct ctl_result *res)
{
	memset(res, 0, sizeof(*res));
	res->generation = cs->gen;
	return ctl_state_apply(cs, cs->cur, SCHEMA_IMPORT_RESOLVE, false, 0,
			       ctl_mono_us(), res);
}

void
ctl_state_setting_changed(struct ctl_state *cs, const char *name)
{
	/* Read at the next tick, not a second later (the loop may sleep). */
	if (strcmp(name, "targets.resolve_interval") == 0)
		cs->res_read_us = 0;
}

int
ctl_state_resolve_tick(struct ctl_state *cs, bool busy)
{
	uint64_t now = ctl_mono_us(), v;
	struct ctl_result res;
	bool changed;
	int rc;

	/* The interval is read at most once a second. */
	if (cs->res_read_us == 0 || now - cs->res_read_us >= 1000000u) {
		cs->res_read_us = now;
		v = ctl_state_resolve_interval(cs);
		if (v * 1000000u != cs->res_interval_us && cs->res_started)
			cs->res_next_us = now + v * 1000000u;
		cs->res_interval_us = v * 1000000u;
	}
	if (ctl_resolver_running(cs->res)) {
		if (ctl_resolver_refresh_poll(cs->res, &changed) == 0)
			return 100;
		/* After a restart the image may predate what names give;
		 * after a failed commit the cache is ahead of the image. */
		if (changed || !cs->res_started || cs->res_dirty)
			cs->res_pending = true;
		cs->res_started = true;
	} else if (ctl_resolver_busy(cs->res) &&
		   ctl_resolver_refresh_poll(cs->res, &changed) == 1 &&
		   changed) {
		/* A lookup an import gave up on came back with news. */
		cs->res_pending = true;
	}
	if (!ctl_resolver_running(cs->res) && cs->res_interval_us != 0 &&
	    (!cs->res_started || now >= cs->res_next_us)) {
		cs->res_next_us = now + cs->res_interval_us;
		rc = ctl_resolver_refresh_start(cs->res, cs->cur);
		if (rc == 0 && ctl_resolver_running(cs->res))
			return 100;
		cs->res_started = true;
	}
	if (cs->res_pending && !busy) {
		cs->res_pending = false;
		rc = ctl_state_reresolve(cs, &res);
		if (rc != 0) {
			/* A commit that failed (a full disk) is tried again
			 * after the next round; rules that do not compile
			 * wait for a change (of the rules, or of a name). */
			if (res.code != NULL &&
			    strncmp(res.code, "store_", 6) == 0)
				cs->res_dirty = true;
			ctl_log(CTL_LOG_ERR,
				"host names resolved anew: %s", res.msg);
		}
		ctl_result_fini(&res);
	}
	if (cs->res_pending || ctl_resolver_busy(cs->res))
		return 1000;
	if (cs->res_interval_us == 0)
		return -1;
	return (int)((cs->res_next_us > now ? cs->res_next_us - now : 0) /
		     1000u) + 1;
}

/* Imports ---------------------------------------------------------- */

struct ctl_import {
	struct ctl_state        *cs;
	struct rules_csv        *csv;
	struct ctl_import_opts   o;
	uint64_t                 t0;
	uint64_t                 bytes;
	uint64_t                 max_rows;      /* import.max_rows */
};

int
ctl_import_begin(struct ctl_state *cs, const struct ctl_import_opts *o,
		 struct ctl_import **out)
{
	struct ctl_import *imp;
	int rc;

	imp = calloc(1, sizeof(*imp));
	if (imp == NULL)
		return -ENOMEM;
	rc = rules_csv_new(&imp->csv);
	if (rc != 0) {
		free(imp);
		return rc;
	}
	imp->cs = cs;
	imp->o = *o;
	imp->t0 = ctl_mono_us();
	if (ctl_setting_u64(cs, "import.max_rows", &imp->max_rows) != 0)
		imp->max_rows = UINT64_MAX;
	*out = imp;
	return 0;
}

int
ctl_import_feed(struct ctl_import *imp, const void *buf, size_t len)
{
	int rc;

	imp->bytes += len;
	rc = rules_csv_feed(imp->csv, buf, len);
	if (rc == 0 && rules_csv_rows(imp->csv) > imp->max_rows)
		return -EFBIG;
	return rc;
}

uint64_t
ctl_import_max_rows(const struct ctl_import *imp)
{
	return imp->max_rows;
}

void
ctl_import_abort(struct ctl_import *imp)
{
	if (imp == NULL)
		return;
	rules_csv_free(imp->csv);
	free(imp);
}

int
ctl_import_finish(struct ctl_import *imp, struct ctl_result *res)
{
	struct ctl_state *cs = imp->cs;
	struct rules_set *parsed = NULL, *next = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = rules_csv_finish(imp->csv, &parsed);
	res->rows = rules_csv_rows(imp->csv);
	if (rc != 0) {
		const struct rules_errors *e = rules_csv_errors(imp->csv);

		ctl_errs_copy(res, e);
		if (rc == -EINVAL)
			ctl_result_fail(res, rc, "invalid",
					"%llu error%s in the input; nothing committed",
					(unsigned long long)e->total,
					e->total == 1 ? "" : "s");
		else
			ctl_result_fail(res, rc, "internal", "reader: %s",
					strerror(-rc));
		res->generation = cs->gen;
		goto out_free;
	}
	if (imp->o.merge) {
		rc = rules_set_new(&next);
		if (rc == 0)
			rc = rules_set_merge(next, cs->cur);
		if (rc == 0)
			rc = rules_set_merge(next, parsed);
		rules_set_free(parsed);
		parsed = NULL;
		if (rc != 0) {
			rules_set_free(next);
			ctl_result_fail(res, rc, "internal", "merge: %s",
					strerror(-rc));
			goto out_free;
		}
	} else {
		next = parsed;
	}
	/* Parsing happens while the bytes stream in: count from the start. */
	res->parse_us = ctl_mono_us() - imp->t0;
	rc = ctl_state_apply(cs, next, imp->o.merge ? SCHEMA_IMPORT_MERGE :
			     SCHEMA_IMPORT_REPLACE, imp->o.dry_run, res->rows,
			     imp->t0, res);
out_free:
	res->rc = rc;
	if (rc != 0 && res->generation == 0)
		res->generation = cs->gen;
	ctl_import_abort(imp);
	return rc;
}

/* Single-rule changes ---------------------------------------------- */

/* A copy of the current set with one change applied, for compile+commit. */
static int
ctl_state_copy(const struct rules_set *src, struct rules_set **out)
{
	struct rules_set *s;
	int rc;

	rc = rules_set_new(&s);
	if (rc != 0)
		return rc;
	rc = rules_set_merge(s, src);
	if (rc != 0) {
		rules_set_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
ctl_route_add(struct ctl_state *cs, const char *row, size_t len,
	      bool replace, struct ctl_result *res)
{
	struct rules_set *next = NULL;
	struct rules_errors *errs;
	uint64_t t0 = ctl_mono_us();
	int rc;

	memset(res, 0, sizeof(*res));
	res->generation = cs->gen;
	errs = calloc(1, sizeof(*errs));
	if (errs == NULL) {
		ctl_result_fail(res, -ENOMEM, "internal", "out of memory");
		return -ENOMEM;
	}
	rc = ctl_state_copy(cs->cur, &next);
	if (rc != 0) {
		ctl_result_fail(res, rc, "internal", "out of memory");
		goto out_free_errs;
	}
	{
		/* The row alone first, so its errors are its own; then an
		 * id that exists is refused unless replacing. */
		struct rules_set *one = NULL;
		struct rules_rule r, old;

		rc = rules_set_new(&one);
		if (rc == 0)
			rc = rules_set_add_csv_row(one, row, len, 1, errs);
		if (rc == 0)
			rc = rules_set_get(one, 0, &r);
		if (rc == 0 && !replace &&
		    rules_set_find(next, r.id, &old) == 0) {
			rules_errors_add(errs, 1, RULES_FIELD_ID,
					 "rule '%.*s' exists (replace it with --replace, \"replace\": true)",
					 (int)(r.id.len > 64 ? 64 : r.id.len),
					 r.id.ptr);
			rc = -EEXIST;
		}
		if (rc == 0)
			rc = rules_set_put(next, &r, errs);
		rules_set_free(one);
	}
	if (rc != 0) {
		ctl_errs_copy(res, errs);
		ctl_result_fail(res, rc, rc == -EEXIST ? "exists" : "invalid",
				"%s; nothing committed",
				errs->n != 0 ? errs->e[0].msg : strerror(-rc));
		rules_set_free(next);
		goto out_free_errs;
	}
	rc = ctl_state_apply(cs, next, SCHEMA_IMPORT_SINGLE, false, 1, t0, res);
out_free_errs:
	free(errs);
	return rc;
}

int
ctl_route_del(struct ctl_state *cs, struct span id, struct ctl_result *res)
{
	struct rules_set *next = NULL;
	struct rules_rule r;
	int rc;

	memset(res, 0, sizeof(*res));
	res->generation = cs->gen;
	if (rules_set_find(cs->cur, id, &r) != 0) {
		ctl_result_fail(res, -ENOENT, "not_found", "no rule '%.*s'",
				(int)id.len, id.ptr);
		return -ENOENT;
	}
	rc = ctl_state_copy(cs->cur, &next);
	if (rc == 0)
		rc = rules_set_del(next, id);
	if (rc != 0) {
		rules_set_free(next);
		ctl_result_fail(res, rc, "internal", "%s", strerror(-rc));
		return rc;
	}
	return ctl_state_apply(cs, next, SCHEMA_IMPORT_SINGLE, false, 0,
			       ctl_mono_us(), res);
}

/* Export ----------------------------------------------------------- */

struct ctl_id_ref {
	struct span      id;
	uint32_t         idx;
};

static int
ctl_id_cmp(const void *a, const void *b)
{
	const struct ctl_id_ref *x = a, *y = b;
	uint32_t n = x->id.len < y->id.len ? x->id.len : y->id.len;
	int c = memcmp(x->id.ptr, y->id.ptr, n);

	if (c != 0)
		return c;
	return x->id.len < y->id.len ? -1 : x->id.len > y->id.len;
}

int
ctl_export_csv(const struct rules_set *set, rules_write_fn *fn, void *arg)
{
	static const char hdr[] =
		"id,kind,pattern,action,targets,rank,strip,prepend,code\n";
	uint32_t i, n = rules_set_count(set, NULL);
	struct ctl_id_ref *refs;
	struct rules_rule r;
	char row[8192];
	size_t len;
	int rc;

	refs = calloc(n != 0 ? n : 1, sizeof(*refs));
	if (refs == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = rules_set_get(set, i, &r);
		if (rc != 0)
			goto out_free;
		refs[i].id = r.id;
		refs[i].idx = i;
	}
	qsort(refs, n, sizeof(*refs), ctl_id_cmp);
	rc = fn(arg, hdr, sizeof(hdr) - 1);
	for (i = 0; rc == 0 && i < n; i++) {
		rc = rules_set_get(set, refs[i].idx, &r);
		if (rc == 0)
			rc = rules_rule_to_csv(&r, row, sizeof(row) - 1, &len);
		if (rc == 0) {
			row[len++] = '\n';
			rc = fn(arg, row, len);
		}
	}
out_free:
	free(refs);
	return rc;
}

/* Explain ---------------------------------------------------------- */

int
ctl_uri_split(const char *uri, struct span *user, struct span *host)
{
	const char *p = uri, *at, *h, *e;
	struct sip_uri u;

	*user = span_make(NULL, 0);
	*host = span_make(NULL, 0);
	/*
	 * A sip:, sips: or tel: URI is read by the dataplane's own parser,
	 * so explain splits it, and refuses it, as the router does.
	 */
	if (strncasecmp(p, "sip:", 4) == 0 || strncasecmp(p, "sips:", 5) == 0 ||
	    strncasecmp(p, "tel:", 4) == 0) {
		if (sip_uri_parse(&u, span_make(p, strlen(p))) != SIP_PERR_OK)
			return -EINVAL;
		*user = u.user;
		*host = u.host;
		return user->len != 0 || host->len != 0 ? 0 : -EINVAL;
	}
	if (strchr(p, ':') != NULL && strchr(p, '@') == NULL &&
	    strchr(p, '.') == NULL)
		return -EPROTONOSUPPORT;
	/* No scheme: take "user@host" or a bare number as given; the user
	 * part may carry ";params" (user=phone numbers). */
	e = p + strcspn(p, "?");
	at = memchr(p, '@', (size_t)(e - p));
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		*user = span_make(p, (size_t)((colon != NULL ? colon : at) - p));
		h = at + 1;
		e = h + strcspn(h, ";?");
	} else {
		e = p + strcspn(p, ";?");
		*user = span_make(p, (size_t)(e - p));
		return user->len != 0 ? 0 : -EINVAL;
	}
	if (h < e && *h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (rb == NULL)
			return -EINVAL;
		*host = span_make(h, (size_t)(rb + 1 - h));
	} else {
		const char *colon = memchr(h, ':', (size_t)(e - h));

		*host = span_make(h, (size_t)((colon != NULL ? colon : e) - h));
	}
	/* A name with an empty label (".a", "a..b") is no host name. */
	if (host->len != 0 && *h != '[' &&
	    (host->ptr[0] == '.' ||
	     memmem(host->ptr, host->len, "..", 2) != NULL))
		return -EINVAL;
	return user->len != 0 || host->len != 0 ? 0 : -EINVAL;
}

static int
ctl_state_load_db(struct ctl_state *cs, struct ctl_result *res)
{
	void *image;
	size_t len;
	int rc;

	if (cs->db != NULL && cs->db_gen == cs->gen)
		return 0;
	ctl_state_drop_db(cs);
	if (cs->gen == 0) {
		ctl_result_fail(res, -ENOENT, "no_generation",
				"nothing has been committed yet");
		return -ENOENT;
	}
	rc = ctl_store_artefact_get(cs->st, cs->gen, SCHEMA_ART_RULES_IMAGE,
				    &image, &len);
	if (rc != 0) {
		ctl_result_fail(res, rc, "store_error",
				"generation %llu image unreadable: %s",
				(unsigned long long)cs->gen, strerror(-rc));
		return rc;
	}
	rc = rules_db_load(image, len, &cs->db);
	free(image);
	if (rc == 0)
		rc = rules_scratch_new(cs->db, &cs->scr);
	if (rc != 0) {
		ctl_state_drop_db(cs);
		ctl_result_fail(res, rc, "store_error",
				"generation %llu image does not load: %s",
				(unsigned long long)cs->gen, strerror(-rc));
		return rc;
	}
	cs->db_gen = cs->gen;
	return 0;
}

/*
 * The target-state bitmap that the targets.down setting gives for cs->db,
 * as the dataplane builds it: *@p up NULL when no target of it is down.
 * A value that does not parse (not this release's) counts as empty.
 */
static int
ctl_state_up(struct ctl_state *cs, uint64_t **up)
{
	char *str = malloc(CTL_SETTING_STR_MAX + 1);
	struct addr_port *down = NULL;
	struct schema_setting st;
	uint64_t *bits = NULL;
	uint32_t ndown = 0;
	int rc, n;

	*up = NULL;
	if (str == NULL)
		return -ENOMEM;
	rc = ctl_store_setting_get(cs->st, "targets.down", &st, str,
				   CTL_SETTING_STR_MAX + 1);
	n = rc == 0 && st.type == SCHEMA_SETTING_STR ?
	    schema_down_list_new(st.str, &down, NULL, 0) : 0;
	rc = rc == -ENOENT ? 0 : rc;
	if (rc == 0 && n == -ENOMEM)
		rc = -ENOMEM;
	if (rc != 0 || n <= 0)
		goto out;
	bits = calloc((rules_db_target_count(cs->db) + 63) / 64 + 1,
		      sizeof(*bits));
	if (bits == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	ndown = rules_up_bitmap(cs->db, down, (uint32_t)n, bits);
out:
	if (ndown != 0)
		*up = bits;
	else
		free(bits);
	free(down);
	free(str);
	return rc;
}

int
ctl_explain(struct ctl_state *cs, const char *uri, struct rules_explain *ex,
	    struct ctl_result *res)
{
	uint64_t *up = NULL;
	struct span user, host;
	struct rules_key key;
	int rc;

	memset(res, 0, sizeof(*res));
	res->generation = cs->gen;
	rc = ctl_uri_split(uri, &user, &host);
	if (rc != 0) {
		ctl_result_fail(res, rc, "invalid", "cannot parse URI '%s'",
				uri);
		return rc;
	}
	rc = rules_key_make(user, host, &key);
	if (rc != 0) {
		ctl_result_fail(res, rc, "invalid", "bad match key: %s",
				rc == -ENAMETOOLONG ?
				"user part longer than a match key (128 bytes)" :
				rc == -EINVAL ? "bad %HH escape in the user part" :
				strerror(-rc));
		return rc;
	}
	rc = ctl_state_load_db(cs, res);
	if (rc != 0)
		return rc;
	rc = ctl_state_up(cs, &up);
	if (rc != 0) {
		ctl_result_fail(res, rc, "store_error", "targets.down: %s",
				strerror(-rc));
		return rc;
	}
	/* Targets out of service are left out, as the dataplane does. */
	rc = rules_explain(cs->db, cs->scr, &key, 0, up, ex);
	free(up);
	if (rc != 0)
		ctl_result_fail(res, rc, "internal", "explain: %s",
				strerror(-rc));
	return rc;
}
