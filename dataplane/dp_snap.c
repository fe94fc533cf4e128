/* SPDX-License-Identifier: MIT */
/*
 * dp_snap.c - rule snapshots and their loader thread: build a snapshot
 * from a compiled rules image, publish it to the workers with RCU, keep
 * generation N-1 for 32 s, free it after a grace period; the loader
 * subscribes to the control socket for "generation N ready" and reads
 * generation N from LMDB (read-only, the dataplane's only LMDB code).
 *
 * SLOW PATH: the loader thread (below) or a test; never a worker.
 *
 * A snapshot (struct dp_snap) is immutable once published: the loaded
 * rules_db, one rules_scratch per worker lcore (H11), the target-state
 * bitmap (targets.down), the keys derived from the installation secret,
 * and the per-lcore counter slices for rule hits and target picks, each
 * written by its own worker only and summed here with relaxed loads.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_random.h>
#include <urcu/urcu-qsbr.h>

#include <fmt.h>
#include <hash.h>
#include <rules.h>
#include <schema.h>

#include "dp.h"
#include "dp_classify.h"

struct dp_snap *dp_snap_current;
struct dp_snap *dp_snap_prev;

/*
 * The loader's clock for its deadlines (N-1's 32 s, polling, probing,
 * reports, reconnects): monotonic, so that a step of the wall clock
 * neither stops them nor cuts N-1's time short.
 */
static uint64_t
dp_snap_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Wall clock, for what is shown to people. */
static uint64_t
dp_snap_wall_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

void
dp_snap_free(struct dp_snap *s)
{
	uint16_t i;

	if (s == NULL)
		return;
	if (s->scratch != NULL) {
		for (i = 0; i < s->nworkers; i++)
			rules_scratch_free(s->scratch[i]);
		free(s->scratch);
	}
	rules_db_free(s->db);
	dp_acl_free(&s->acl);
	free(s->chost);
	free(s->image);
	free(s->hits);
	free(s->carry);
	free(s->up_bits);
	free(s->admin_bits);
	free(s->up_prev_bits);
	free(s->probe_ans);
	free(s->probe_sent);
	free(s->probe_miss);
	free(s->probe_remap);
	free(s);
}

/* IPv6 text per RFC 5952: lower-case hex, longest zero run (>= 2) as "::". */
static void
dp_snap_ip6(struct fmt_buf *b, const uint8_t a[16])
{
	uint16_t g[8];
	int i, best = -1, blen = 0, run = 0;

	for (i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	for (i = 0; i < 8; i++) {
		run = g[i] == 0 ? run + 1 : 0;
		if (run > blen) {
			blen = run;
			best = i - run + 1;
		}
	}
	if (blen < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			fmt_buf_lit(b, "::");
			i += blen - 1;
			continue;
		}
		if (i != 0 && i != best + blen)
			fmt_buf_lit(b, ":");
		if (g[i] >= 0x1000)
			fmt_buf_hex64(b, g[i], 4);
		else if (g[i] >= 0x100)
			fmt_buf_hex64(b, g[i], 3);
		else if (g[i] >= 0x10)
			fmt_buf_hex64(b, g[i], 2);
		else
			fmt_buf_hex64(b, g[i], 1);
	}
}

/*
 * HOST:PORT>;q= of @p d into @p c, the IPv6 host in brackets (RFC 3261
 * §19.1.1). Once per target when a snapshot is built.
 */
static int
dp_snap_chost(struct dp_chost *c, const struct rules_dest *d)
{
	struct fmt_buf b;
	int i;

	memset(c, 0, sizeof(*c));
	fmt_buf_init(&b, c->txt, sizeof(c->txt));
	if (d->af == RULES_AF_INET6) {
		fmt_buf_lit(&b, "[");
		dp_snap_ip6(&b, d->addr);
		fmt_buf_lit(&b, "]");
	} else {
		for (i = 0; i < 4; i++) {
			if (i != 0)
				fmt_buf_lit(&b, ".");
			fmt_buf_u64(&b, d->addr[i]);
		}
	}
	fmt_buf_lit(&b, ":");
	fmt_buf_u64(&b, d->port);
	fmt_buf_lit(&b, ">;q=");
	if (b.overflow)
		return -ENOSPC;
	c->len = (uint8_t)(b.p - c->txt);
	return 0;
}

/*
 * Every target's Contact text (dp_snap_chost()), so that a redirect
 * copies bytes instead of formatting addresses per message.
 */
static int
dp_snap_chosts(struct dp_snap *s)
{
	struct rules_dest d;
	uint32_t t;
	int rc;

	s->chost = calloc(s->ntargets != 0 ? s->ntargets : 1,
			  sizeof(*s->chost));
	if (s->chost == NULL)
		return -ENOMEM;
	for (t = 0; t < s->ntargets; t++) {
		rc = rules_db_target(s->db, t, &d);
		if (rc == 0)
			rc = dp_snap_chost(&s->chost[t], &d);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The probe key of this process (dp_snap.probe_key), made once. */
static uint64_t dp_snap_probe_key[2];
static pthread_once_t dp_snap_probe_key_once = PTHREAD_ONCE_INIT;

static void
dp_snap_probe_key_make(void)
{
	if (getrandom(dp_snap_probe_key, sizeof(dp_snap_probe_key), 0) !=
	    (ssize_t)sizeof(dp_snap_probe_key)) {
		/* No kernel source: DPDK's generator, seeded at start. */
		dp_snap_probe_key[0] = rte_rand();
		dp_snap_probe_key[1] = rte_rand() ^ dp_snap_wall_us();
	}
}

int
dp_snap_build(void *image, size_t len, uint64_t generation,
	      const uint8_t secret[16], uint16_t nworkers,
	      struct dp_snap **out)
{
	struct hash_key k;
	struct dp_snap *s;
	size_t bytes;
	uint16_t i;
	int rc;

	*out = NULL;
	if (nworkers == 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->generation = generation;
	s->nworkers = nworkers;
	s->loaded_us = dp_snap_wall_us();
	k.k0 = hash_load_le64(secret);
	k.k1 = hash_load_le64(secret + 8);
	s->tag_key[0] = k.k0;
	s->tag_key[1] = k.k1;
	pthread_once(&dp_snap_probe_key_once, dp_snap_probe_key_make);
	s->probe_key[0] = dp_snap_probe_key[0];
	s->probe_key[1] = dp_snap_probe_key[1];
	/* A separate key for flow hashes, so To-tags reveal nothing of it. */
	s->flow_key[0] = siphash24(&k, "flow-key-0", 10);
	s->flow_key[1] = siphash24(&k, "flow-key-1", 10);

	s->scratch = calloc(nworkers, sizeof(*s->scratch));
	if (s->scratch == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	if (image != NULL) {
		rc = rules_db_load_inplace(image, len, &s->db);
		if (rc != 0)
			goto out_free;
		s->nrules = rules_db_rule_count(s->db);
		s->ntargets = rules_db_target_count(s->db);
		rc = dp_snap_chosts(s);
		if (rc != 0)
			goto out_free;
		for (i = 0; i < nworkers && rules_db_has_regex(s->db); i++) {
			rc = rules_scratch_new(s->db, &s->scratch[i]);
			if (rc != 0)
				goto out_free;
		}
	}
	/* One slice per worker, a whole number of cache lines each. */
	s->stride = RTE_ALIGN_CEIL(s->nrules + s->ntargets + 1,
				   RTE_CACHE_LINE_SIZE / sizeof(uint64_t));
	bytes = (size_t)nworkers * s->stride * sizeof(uint64_t);
	s->hits = aligned_alloc(RTE_CACHE_LINE_SIZE, bytes);
	if (s->hits == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	memset(s->hits, 0, bytes);
	s->image = image;       /* owned from here on */
	s->image_len = image != NULL ? len : 0;
	*out = s;
	return 0;

out_free:
	dp_snap_free(s);        /* not the image: the caller keeps it */
	return rc;
}

struct dp_snap *
dp_snap_publish(struct dp_snap *s)
{
	return rcu_xchg_pointer(&dp_snap_current, s);
}

struct dp_snap *
dp_snap_publish_prev(struct dp_snap *s)
{
	return rcu_xchg_pointer(&dp_snap_prev, s);
}

void
dp_snap_sum(const struct dp_snap *s, uint64_t *hits, uint64_t *picks)
{
	uint32_t w, i;

	if (hits != NULL)
		memset(hits, 0, s->nrules * sizeof(*hits));
	if (picks != NULL)
		memset(picks, 0, s->ntargets * sizeof(*picks));
	for (w = 0; w < s->nworkers; w++) {
		const uint64_t *c = s->hits + (size_t)w * s->stride;

		for (i = 0; hits != NULL && i < s->nrules; i++)
			hits[i] += __atomic_load_n(&c[i], __ATOMIC_RELAXED);
		for (i = 0; picks != NULL && i < s->ntargets; i++)
			picks[i] += __atomic_load_n(&c[s->nrules + i],
						    __ATOMIC_RELAXED);
	}
}

void
dp_snap_totals(const struct dp_snap *s, uint64_t *hits, uint64_t *picks)
{
	uint32_t i;

	dp_snap_sum(s, hits, picks);
	if (s->carry == NULL)
		return;
	for (i = 0; hits != NULL && i < s->nrules; i++)
		hits[i] += s->carry[i];
	for (i = 0; picks != NULL && i < s->ntargets; i++)
		picks[i] += s->carry[s->nrules + i];
}

/* ---- counters carried across swaps -------------------------------------- */

/*
 * Counts by key (a rule id, a target's Contact text), open addressing:
 * the keys are borrowed from the snapshot whose counts are carried.
 */
struct dp_carry {
	struct dp_carry_slot {
		const char      *key;
		uint32_t         len;
		uint64_t         n;
	}               *slot;
	uint32_t         mask;
};

static uint64_t
dp_carry_hash(const char *key, uint32_t len)
{
	static const struct hash_key k = { .k0 = 0x6361727279000001ULL,
					   .k1 = 0x6361727279000002ULL };

	return siphash13(&k, key, len);
}

/* A table for @p n keys; false without memory. */
static bool
dp_carry_init(struct dp_carry *c, uint32_t n)
{
	uint32_t size = 16;

	while (size < 2 * (uint64_t)n)
		size *= 2;
	c->slot = calloc(size, sizeof(*c->slot));
	c->mask = size - 1;
	return c->slot != NULL;
}

static struct dp_carry_slot *
dp_carry_find(const struct dp_carry *c, const char *key, uint32_t len)
{
	uint32_t i = (uint32_t)dp_carry_hash(key, len) & c->mask;

	for (;; i = (i + 1) & c->mask) {
		struct dp_carry_slot *e = &c->slot[i];

		if (e->key == NULL ||
		    (e->len == len && memcmp(e->key, key, len) == 0))
			return e;
	}
}

/* Adds @p n to @p key's count (at most the init count of distinct keys). */
static void
dp_carry_add(struct dp_carry *c, const char *key, uint32_t len, uint64_t n)
{
	struct dp_carry_slot *e = dp_carry_find(c, key, len);

	e->key = key;
	e->len = len;
	e->n += n;
}

static uint64_t
dp_carry_get(const struct dp_carry *c, const char *key, uint32_t len)
{
	return dp_carry_find(c, key, len)->n;
}

/* Rule @p r's id in @p s; false when it has none. */
static bool
dp_snap_rule_id(const struct dp_snap *s, uint32_t r, struct span *id)
{
	struct rules_hit h;

	if (rules_hit_get(s->db, r, &h) != 0)
		return false;
	*id = h.id;
	return true;
}

/*
 * Carry the rule hits and target picks of @p old, which no worker can
 * reach any more (a grace period has passed), into @p s: by rule id and
 * by target (its Contact text, "host:port"), so that the counters of
 * what stays run on across generations, and those of rules and targets
 * that are gone drop out. Costs one id lookup per rule of @p s when any
 * rule was hit and the image changed (about 0.1 s for a million rules,
 * loader thread; a copy when only settings changed). Without
 * memory, the counts restart from zero (documented in dataplane/README).
 */
static void
dp_snap_carry(struct dp_snap *s, const struct dp_snap *old)
{
	struct dp_carry rc = { .slot = NULL }, tc = { .slot = NULL };
	struct rules_db_sizes so, sn;
	uint32_t r, t, nr = 0, nt = 0;
	uint64_t *tot;
	struct span id;

	if (old == NULL || old->db == NULL || s->db == NULL)
		return;
	tot = calloc((size_t)old->nrules + old->ntargets + 1, sizeof(*tot));
	if (tot == NULL)
		return;
	dp_snap_totals(old, tot, tot + old->nrules);
	for (r = 0; r < old->nrules; r++)
		nr += tot[r] != 0;
	for (t = 0; t < old->ntargets; t++)
		nt += tot[old->nrules + t] != 0;
	if (old->chost == NULL || s->chost == NULL)
		nt = 0;
	if (nr + nt == 0)
		goto out;
	s->carry = calloc((size_t)s->nrules + s->ntargets + 1,
			  sizeof(*s->carry));
	if (s->carry == NULL)
		goto out;
	/* The same image, byte for byte (a settings change): the rule and
	 * target numbers are the same too, no lookups. */
	rules_db_sizes(old->db, &so);
	rules_db_sizes(s->db, &sn);
	if (so.total == sn.total && old->image != NULL && s->image != NULL &&
	    memcmp(old->image, s->image, so.total) == 0) {
		memcpy(s->carry, tot,
		       ((size_t)s->nrules + s->ntargets) * sizeof(*tot));
		goto out;
	}
	if (nr != 0 && dp_carry_init(&rc, nr)) {
		for (r = 0; r < old->nrules; r++)
			if (tot[r] != 0 && dp_snap_rule_id(old, r, &id))
				dp_carry_add(&rc, id.ptr, id.len, tot[r]);
		for (r = 0; r < s->nrules; r++)
			if (dp_snap_rule_id(s, r, &id))
				s->carry[r] = dp_carry_get(&rc, id.ptr, id.len);
	}
	if (nt != 0 && dp_carry_init(&tc, nt)) {
		for (t = 0; t < old->ntargets; t++)
			if (tot[old->nrules + t] != 0 &&
			    old->chost[t].len != 0)
				dp_carry_add(&tc, old->chost[t].txt,
					     old->chost[t].len,
					     tot[old->nrules + t]);
		for (t = 0; t < s->ntargets; t++)
			if (s->chost[t].len != 0)
				s->carry[s->nrules + t] = dp_carry_get(&tc,
					s->chost[t].txt, s->chost[t].len);
	}
out:
	free(rc.slot);
	free(tc.slot);
	free(tot);
}

/*
 * @p old's target number -> @p s's (UINT32_MAX: none there), by
 * host:port, in an array the caller frees; NULL without memory.
 */
static uint32_t *
dp_snap_target_map(const struct dp_snap *s, const struct dp_snap *old)
{
	struct dp_carry mc = { .slot = NULL };
	uint32_t t, t1, *map;

	map = malloc(((size_t)old->ntargets + 1) * sizeof(*map));
	if (map == NULL || !dp_carry_init(&mc, s->ntargets)) {
		free(map);
		return NULL;
	}
	for (t = 0; t < s->ntargets; t++)
		if (s->chost[t].len != 0)
			dp_carry_add(&mc, s->chost[t].txt, s->chost[t].len,
				     t + 1);
	for (t1 = 0; t1 < old->ntargets; t1++)
		map[t1] = old->chost[t1].len == 0 ? UINT32_MAX :
			  (uint32_t)dp_carry_get(&mc, old->chost[t1].txt,
						 old->chost[t1].len) - 1;
	free(mc.slot);
	return map;
}

void
dp_snap_carry_health(const struct dp_conf *conf, struct dp_snap *s,
		     const struct dp_snap *old)
{
	uint32_t t, t1, n_from, *map = NULL, *remap = NULL;
	uint64_t tsc;
	bool own;

	if (s->probe_miss == NULL || old == NULL || old->probe_miss == NULL ||
	    old->chost == NULL || s->chost == NULL)
		return;
	map = dp_snap_target_map(s, old);
	if (map == NULL)
		return;         /* every target starts healthy, as at start */

	/*
	 * The round in flight, numbered by old's generation when old sent
	 * it, else by the one old carried it from: where it went, the
	 * answers in so far (into worker 0's slice, not yet published),
	 * and the numbering map for the answers still to come
	 * (dp_sip_probe_answer()).
	 */
	own = __atomic_load_n(&old->probe_sent_gen, __ATOMIC_RELAXED) ==
	      (uint32_t)old->generation;
	n_from = own ? old->ntargets : old->probe_remap_n;
	if (!own && old->probe_remap == NULL)
		n_from = 0;
	remap = n_from != 0 ? malloc((size_t)n_from * sizeof(*remap)) : NULL;
	for (t = 0; remap != NULL && t < n_from; t++) {
		t1 = own ? t : old->probe_remap[t];
		remap[t] = t1 < old->ntargets ? map[t1] : UINT32_MAX;
	}
	if (remap != NULL) {
		s->probe_remap = remap;
		s->probe_remap_n = n_from;
		s->probe_sent_gen = old->probe_sent_gen;
	}
	s->nunhealthy = 0;
	for (t1 = 0; t1 < old->ntargets; t1++) {
		t = map[t1];
		if (t >= s->ntargets)
			continue;
		s->probe_miss[t] = old->probe_miss[t1];
		if (remap == NULL || old->probe_sent[t1] == 0)
			continue;
		s->probe_sent[t] = old->probe_sent[t1];
		s->probe_ans[t] = dp_probe_answered(old, t1);
	}
	for (t = 0; t < s->ntargets; t++) {
		if (s->probe_miss[t] >= conf->probe_down) {
			dp_up_set(s->up_bits, t, false);
			s->nunhealthy++;
		}
	}
	/*
	 * The health before its last change, and when: for 32 s CANCELs
	 * and ACKs are copied where it sent their INVITEs (dp_proxy.c). A
	 * rebuild (a setting changed, a new generation) must not forget
	 * it, or those copies stop.
	 */
	tsc = __atomic_load_n(&old->up_change_tsc, __ATOMIC_ACQUIRE);
	if (tsc != 0 && old->up_prev_bits != NULL && s->up_prev_bits != NULL) {
		for (t1 = 0; t1 < old->ntargets; t1++)
			if (map[t1] < s->ntargets)
				dp_up_set(s->up_prev_bits, map[t1],
					  dp_up_get(old->up_prev_bits, t1));
		s->up_change_tsc = tsc;
	}
	free(map);
}

/*
 * Workers wrote answers into @p old until they saw @p s: they go into
 * worker 0's slice of @p s, where that worker writes too: a larger round
 * only, by CAS.
 */
void
dp_snap_carry_answers(struct dp_snap *s, const struct dp_snap *old)
{
	uint32_t t, t1, a, cur, *map, *slot;

	if (old == NULL || s->probe_ans == NULL || old->probe_ans == NULL ||
	    old->chost == NULL || s->chost == NULL)
		return;
	map = dp_snap_target_map(s, old);
	if (map == NULL)
		return;
	for (t1 = 0; t1 < old->ntargets; t1++) {
		t = map[t1];
		if (t >= s->ntargets)
			continue;
		a = dp_probe_answered(old, t1);
		slot = &s->probe_ans[t];
		cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
		while (a > cur &&
		       !__atomic_compare_exchange_n(slot, &cur, a, false,
						    __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED))
			;
	}
	free(map);
}

/* ---- the loader thread: LMDB in, snapshots out ------------------------- */

/*
 * This is the dataplane's only LMDB user (dataplane/README.md,
 * "Layering"): it opens the control process's environment read-only,
 * copies the current generation's rules image out of a short read
 * transaction and never keeps one open.
 */

static int
dp_loader_mdb_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return -EBADMSG;
	case MDB_MAP_RESIZED:
		return -EAGAIN;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

static void
dp_loader_close_env(struct dp_loader *ld)
{
	if (ld->env != NULL)
		mdb_env_close(ld->env);
	ld->env = NULL;
}

static int
dp_loader_open_env(struct dp_loader *ld)
{
	char path[4096];
	struct stat st;
	MDB_env *env;
	int rc;

	/*
	 * A data file replaced under the open environment (a backup
	 * restored, the directory made again) reads on as the old, deleted
	 * file: the file is looked at each time, and a new one reopened.
	 */
	snprintf(path, sizeof(path), "%s/data.mdb", ld->conf->data_dir);
	if (stat(path, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (ld->env != NULL && ((uint64_t)st.st_dev != ld->env_dev ||
				(uint64_t)st.st_ino != ld->env_ino)) {
		DP_LOG(INFO, "%s was replaced: reopening it", path);
		dp_loader_close_env(ld);
		/* its generation numbers are its own: nothing carries */
		ld->env_new = true;
	}
	if (ld->env != NULL)
		return 0;
	rc = mdb_env_create(&env);
	if (rc != 0)
		return dp_loader_mdb_err(rc);
	mdb_env_set_maxdbs(env, 8);
	rc = mdb_env_open(env, ld->conf->data_dir, MDB_RDONLY | MDB_NOTLS,
			  0644);
	if (rc != 0) {
		mdb_env_close(env);
		return dp_loader_mdb_err(rc);
	}
	ld->env = env;
	ld->env_dev = (uint64_t)st.st_dev;
	ld->env_ino = (uint64_t)st.st_ino;
	return 0;
}


/* The installation secret: 32 hex digits, or any other text hashed. */
static void
dp_loader_secret(const struct span s, uint8_t out[16])
{
	static const struct hash_key k0 = { 0x7365637265740000ull, 0 };
	struct hash_key k1 = { 1, 0 };
	uint64_t a, b;
	size_t i;
	int hi, lo;

	if (s.len == 32) {
		for (i = 0; i < 16; i++) {
			hi = isxdigit((unsigned char)s.ptr[2 * i]) ? 1 : -1;
			lo = isxdigit((unsigned char)s.ptr[2 * i + 1]) ? 1 :
									 -1;
			if (hi < 0 || lo < 0)
				break;
		}
		if (i == 16) {
			for (i = 0; i < 16; i++) {
				char h[3] = { s.ptr[2 * i], s.ptr[2 * i + 1],
					      0 };

				out[i] = (uint8_t)strtoul(h, NULL, 16);
			}
			return;
		}
	}
	a = siphash24(&k0, s.ptr, s.len);
	b = siphash24(&k1, s.ptr, s.len);
	for (i = 0; i < 8; i++) {
		out[i] = (uint8_t)(a >> (8 * i));
		out[8 + i] = (uint8_t)(b >> (8 * i));
	}
}

/* Setting @p name: 1 read, 0 absent, -1 stored but not decodable. */
static int
dp_loader_setting_read(MDB_txn *txn, MDB_dbi set, const char *name,
		       struct schema_setting *st)
{
	MDB_val k = { .mv_size = strlen(name), .mv_data = (void *)name }, v;

	if (set == 0 || mdb_get(txn, set, &k, &v) != 0)
		return 0;
	return schema_setting_decode(st, v.mv_data, v.mv_size) == 0 ? 1 : -1;
}

/*
 * Setting @p name from the settings database @p set of @p txn (0: there
 * is none) into @p st; false when it is absent or does not decode (the
 * default applies then).
 */
static bool
dp_loader_setting(MDB_txn *txn, MDB_dbi set, const char *name,
		  struct schema_setting *st)
{
	return dp_loader_setting_read(txn, set, name, st) > 0;
}

/* The settings of the source policy, in the order they are digested. */
static const char *const dp_acl_settings[] = {
	"acl.allow", "acl.deny", "acl.action", "ratelimit.rps",
	"ratelimit.burst", "ratelimit.action", "ratelimit.ipv6_prefix",
};

/*
 * The source policy from the settings database of @p txn into @p acl,
 * and a digest of its settings' values to tell a change. 0, or -EINVAL
 * (logged once per distinct message) when a value does not build: the
 * control process validates them, so that is another writer's or a newer
 * release's value.
 */
static int
dp_loader_acl(struct dp_loader *ld, MDB_txn *txn, MDB_dbi set,
	      struct dp_acl *acl, uint64_t *digest)
{
	static const struct hash_key dk = { 0x61636c2d64696765ull, 0 };
	struct dp_acl_conf conf;
	struct schema_setting st;
	struct span str[RTE_DIM(dp_acl_settings)];
	uint64_t u[RTE_DIM(dp_acl_settings)], d = 0;
	char err[160];
	size_t i;
	int rc = 0, got;

	err[0] = '\0';
	for (i = 0; i < RTE_DIM(dp_acl_settings); i++) {
		/* rps, burst and ipv6_prefix are numbers, the others text */
		bool num = i == 3 || i == 4 || i == 6;

		str[i] = span_make("", 0);
		u[i] = 0;
		got = dp_loader_setting_read(txn, set, dp_acl_settings[i], &st);
		if (got > 0 && (st.type == SCHEMA_SETTING_U64) == num) {
			if (num)
				u[i] = st.u;
			else
				str[i] = st.str;
		} else if (got != 0 && rc == 0) {
			/* Not ignored: a policy read wrong is no policy. */
			snprintf(err, sizeof(err), "%s: the stored value %s",
				 dp_acl_settings[i], got < 0 ?
				 "does not decode" : "has the wrong type");
			rc = -EINVAL;
		}
		d = siphash24(&dk, str[i].ptr, str[i].len) ^ hash_mix64(d ^ u[i]);
	}
	conf = (struct dp_acl_conf){
		.allow = str[0], .deny = str[1], .acl_action = str[2],
		.rl_rps = u[3], .rl_burst = u[4], .rl_action = str[5],
		.rl_prefix6 = u[6],
	};
	if (rc == 0)
		rc = dp_acl_build(acl, &conf, rte_get_tsc_hz(), err,
				  sizeof(err));
	if (rc != 0 && strcmp(err, ld->acl_err) != 0)
		DP_LOG(WARNING, "source policy not loaded: %s", err);
	snprintf(ld->acl_err, sizeof(ld->acl_err), "%s", rc != 0 ? err : "");
	*digest = d;
	return rc;
}

/*
 * The targets taken out of service (setting targets.down) into *@p down
 * (malloc()ed, *@p n entries; NULL when none), and a digest of the value.
 * A value that does not parse (the control process validates it, so
 * another writer's) is logged once and taken as empty.
 */
static void
dp_loader_down(struct dp_loader *ld, MDB_txn *txn, MDB_dbi set,
	       struct addr_port **down, uint32_t *n, uint64_t *digest)
{
	static const struct hash_key dk = { 0x746172676574732dull, 0 };
	struct schema_setting st;
	struct span v = span_make("", 0);
	char err[160] = "";
	int rc;

	*down = NULL;
	*n = 0;
	if (dp_loader_setting(txn, set, "targets.down", &st) &&
	    st.type == SCHEMA_SETTING_STR)
		v = st.str;
	*digest = siphash24(&dk, v.ptr, v.len);
	rc = schema_down_list_new(v, down, err, sizeof(err));
	if (rc < 0) {
		if (strcmp(err, ld->down_err) != 0)
			DP_LOG(WARNING, "targets.down not applied: %s",
			       rc == -ENOMEM ? "out of memory" : err);
		free(*down);
		*down = NULL;
		rc = 0;
	}
	snprintf(ld->down_err, sizeof(ld->down_err), "%s", err);
	*n = (uint32_t)rc;
}

int
dp_snap_mark_down(const struct dp_conf *conf, struct dp_snap *s,
		  const struct addr_port *down, uint32_t n)
{
	struct rules_dest d;
	struct dp_ip ip;
	uint32_t t;

	if (s->db == NULL || s->ntargets == 0)
		return 0;
	s->up_bits = malloc((size_t)(s->ntargets + 63) / 64 *
			    sizeof(uint64_t));
	if (s->up_bits == NULL)
		return -ENOMEM;
	s->ndown = rules_up_bitmap(s->db, down, n, s->up_bits);
	for (t = 0; t < s->ntargets; t++) {
		if (rules_db_target(s->db, t, &d) != 0)
			continue;
		dp_ip_set(&ip, d.addr, d.af);
		if (dp_ip_other_host(conf, &ip) || !dp_up_get(s->up_bits, t))
			continue;
		dp_up_set(s->up_bits, t, false);
		s->ndown++;
		if (s->chost != NULL && s->chost[t].len > 4)
			DP_LOG(WARNING, "target %.*s is one of our addresses or "
			       "a broadcast address of our prefixes: out of "
			       "rotation", (int)s->chost[t].len - 4,
			       s->chost[t].txt);
	}
	if (s->ndown == 0) {
		free(s->up_bits);
		s->up_bits = NULL;
	}
	s->up = s->up_bits;
	return 0;
}

/*
 * Read the current generation: meta, the secret, the source policy, the
 * targets out of service, the rules image (verified and copied), but for
 * generation @p have_gen (the one in use: UINT64_MAX for none), whose
 * image is not read again (a million rules are tens of MB, checked and
 * copied each poll otherwise). The transaction ends before the snapshot
 * is built.
 */
static int
dp_loader_read(struct dp_loader *ld, uint64_t have_gen, uint64_t *gen,
	       void **image, size_t *len, uint8_t secret[16],
	       struct dp_acl *acl, bool *acl_ok, struct addr_port **down,
	       uint32_t *ndown, uint64_t *digest)
{
	uint64_t down_digest = 0;
	struct schema_meta_schema ms;
	struct schema_meta_gen mg;
	struct schema_setting st;
	uint8_t key[SCHEMA_ART_KEY_LEN];
	MDB_dbi meta = 0, art, set = 0;
	MDB_txn *txn;
	MDB_val k, v;
	struct span payload;
	int rc;

	*image = NULL;
	*len = 0;
	memset(secret, 0, 16);
	ld->art_damaged = false;
	rc = mdb_txn_begin(ld->env, NULL, MDB_RDONLY, &txn);
	if (rc == MDB_MAP_RESIZED) {
		/* The control process grew the map: adopt its size. */
		mdb_env_set_mapsize(ld->env, 0);
		rc = mdb_txn_begin(ld->env, NULL, MDB_RDONLY, &txn);
	}
	rc = dp_loader_mdb_err(rc);
	if (rc != 0)
		return rc;
	/* No meta database, or no generation in it: an environment the
	 * control process has not committed anything to yet (SCHEMA.md 3.1). */
	*gen = 0;
	rc = dp_loader_mdb_err(mdb_dbi_open(txn, "meta", 0, &meta));
	if (rc == -ENOENT) {
		/* as no store at all: no policy was given */
		*acl_ok = true;
		rc = 0;
	}
	if (rc != 0 || meta == 0)
		goto out_abort;
	k.mv_data = (void *)SCHEMA_META_KEY_SCHEMA;
	k.mv_size = strlen(SCHEMA_META_KEY_SCHEMA);
	rc = dp_loader_mdb_err(mdb_get(txn, meta, &k, &v));
	if (rc == 0)
		rc = schema_meta_schema_decode(&ms, v.mv_data, v.mv_size);
	if (rc == 0 && ms.version != SCHEMA_VERSION)
		rc = -EPROTONOSUPPORT;
	if (rc != 0)
		goto out_abort;
	k.mv_data = (void *)SCHEMA_META_KEY_GENERATION;
	k.mv_size = strlen(SCHEMA_META_KEY_GENERATION);
	rc = dp_loader_mdb_err(mdb_get(txn, meta, &k, &v));
	if (rc == 0)
		rc = schema_meta_gen_decode(&mg, v.mv_data, v.mv_size);
	else if (rc == -ENOENT)
		rc = 0, mg.generation = 0;
	if (rc != 0)
		goto out_abort;
	*gen = mg.generation;

	if (mdb_dbi_open(txn, "settings", 0, &set) != 0)
		set = 0;
	if (dp_loader_setting(txn, set, DP_SECRET_SETTING, &st) &&
	    st.type == SCHEMA_SETTING_STR)
		dp_loader_secret(st.str, secret);
	rc = dp_loader_acl(ld, txn, set, acl, digest);
	if (rc != 0)
		goto out_abort;
	*acl_ok = true;
	dp_loader_down(ld, txn, set, down, ndown, &down_digest);
	*digest ^= hash_mix64(down_digest);

	if (mg.generation == 0 || mg.generation == have_gen)
		goto out_abort;         /* nothing committed, or the image in
					 * use: rc is 0, no image */
	rc = dp_loader_mdb_err(mdb_dbi_open(txn, "artefacts", 0, &art));
	if (rc != 0)
		goto out_abort;
	schema_art_key_encode(key, mg.generation, SCHEMA_ART_RULES_IMAGE);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc = dp_loader_mdb_err(mdb_get(txn, art, &k, &v));
	if (rc == 0) {
		rc = schema_art_verify(v.mv_data, v.mv_size, &payload);
		if (rc != 0) {
			ld->cnt_bad++;
			ld->art_damaged = true;
		}
	}
	if (rc != 0)
		goto out_abort;
	/* Copy out of the map: the transaction ends right after. */
	*image = aligned_alloc(RTE_CACHE_LINE_SIZE,
			       RTE_ALIGN_CEIL(payload.len, RTE_CACHE_LINE_SIZE));
	if (*image == NULL) {
		rc = -ENOMEM;
		goto out_abort;
	}
	memcpy(*image, payload.ptr, payload.len);
	*len = payload.len;
out_abort:
	mdb_txn_abort(txn);
	/* The policy and targets.down, when they were read, stay: the
	 * caller may need them without the rules (dp_loader_policy_only()),
	 * and frees them. */
	return rc;
}

/*
 * Free the kept generation N-1 once its 32 s are over (DESIGN §4.3):
 * unpublished first, then freed after a grace period, as workers may be
 * reading it (dp_proxy.c).
 */
static void
dp_loader_retire(struct dp_loader *ld)
{
	if (ld->prev == NULL || dp_snap_now_us() < ld->prev_until_us)
		return;
	dp_snap_publish_prev(NULL);
	urcu_qsbr_synchronize_rcu();
	dp_snap_free(ld->prev);
	ld->prev = NULL;
}

/*
 * Publish @p s; keep the replaced one as N-1 for DP_SNAP_KEEP_US. A
 * snapshot of the same generation (its settings changed: the policy,
 * targets.down, the secret) replaces the current one only: the kept N-1
 * stays what it is, with the rest of its 32 s (DESIGN §4.3).
 */
static void
dp_loader_swap(struct dp_loader *ld, struct dp_snap *s)
{
	/* The loader is the one writer: the pointer it last published. */
	struct dp_snap *old = __atomic_load_n(&dp_snap_current,
					      __ATOMIC_ACQUIRE);

	if (old != NULL && old->generation == s->generation) {
		dp_snap_publish(s);
		urcu_qsbr_synchronize_rcu();
		dp_snap_carry(s, old);
		dp_snap_carry_answers(s, old);
		dp_snap_free(old);
		__atomic_store_n(&ld->swaps, ld->swaps + 1, __ATOMIC_RELAXED);
		return;
	}

	/* N becomes N-1 before N+1 is current (the older N-1, if its 32 s
	 * are not over, goes now): a burst between the two stores sees N
	 * twice, never N+1 with the older N-1, which would miss the copy
	 * of a CANCEL or ACK of an INVITE that N routed. */
	dp_snap_publish_prev(old);
	dp_snap_publish(s);
	/* Every worker has left the bursts that may have seen @p old as
	 * current, or the older one as N-1. */
	urcu_qsbr_synchronize_rcu();
	dp_snap_carry(s, old);
	dp_snap_carry_answers(s, old);
	dp_snap_free(ld->prev);
	ld->prev = old;
	ld->prev_until_us = dp_snap_now_us() + DP_SNAP_KEEP_US;
	__atomic_store_n(&ld->generation, s->generation, __ATOMIC_RELAXED);
	__atomic_store_n(&ld->swaps, ld->swaps + 1, __ATOMIC_RELAXED);
}

/*
 * Build the snapshot of generation @p gen from @p image (owned from here
 * on: freed on failure too), with targets.down, the probe state and the
 * health found so far, give it @p acl (taken on success) and the digest
 * of its settings, and publish it. 0, or -errno with nothing published.
 */
static int
dp_loader_install(struct dp_loader *ld, void *image, size_t len,
		  uint64_t gen, const uint8_t secret[16], struct dp_acl *acl,
		  const struct addr_port *down, uint32_t ndown,
		  uint64_t digest)
{
	struct dp_snap *s;
	int rc;

	rc = dp_snap_build(image, len, gen, secret, ld->nworkers, &s);
	if (rc != 0) {
		free(image);
		return rc;
	}
	if (s->db != NULL) {
		rc = dp_snap_mark_down(ld->conf, s, down, ndown);
		if (rc == 0)
			rc = dp_probe_prepare(ld->conf, s);
		if (rc != 0) {
			dp_snap_free(s);        /* and the image with it */
			return rc;
		}
		/* Health as found so far, before anyone sees s. */
		dp_snap_carry_health(ld->conf, s, ld->cur);
	}
	s->acl = *acl;          /* owned by the snapshot from here on */
	memset(acl, 0, sizeof(*acl));
	s->set_digest = digest;
	memcpy(ld->secret, secret, 16);
	ld->cur = s;
	dp_loader_swap(ld, s);
	return 0;
}

/*
 * The settings changed (source policy, targets.down, the secret) but not
 * the generation, or the rules of a new generation could not be read (a
 * damaged artefact) while the settings could: the snapshot in use is
 * rebuilt with them, from a copy of its own image (the same bytes LMDB
 * holds), so that an operator can still refuse a source or take a target
 * out of service while the trouble with the rules lasts. Takes @p acl. 0,
 * or -errno with nothing changed.
 */
static int
dp_loader_policy_only(struct dp_loader *ld, struct dp_acl *acl,
		      const struct addr_port *down, uint32_t ndown,
		      uint64_t digest, const uint8_t secret[16])
{
	const struct dp_snap *cur = ld->cur;
	void *image = NULL;
	int rc;

	if (cur->image != NULL) {
		image = aligned_alloc(RTE_CACHE_LINE_SIZE,
				      RTE_ALIGN_CEIL(cur->image_len,
						     RTE_CACHE_LINE_SIZE));
		if (image == NULL)
			return -ENOMEM;
		memcpy(image, cur->image, cur->image_len);
	}
	rc = dp_loader_install(ld, image, cur->image_len, cur->generation,
			       secret, acl, down, ndown, digest);
	if (rc != 0)
		return rc;
	DP_LOG(INFO, "generation %llu kept with the settings as they are now: "
	       "source policy %u allowed, %u denied prefixes, %llu requests/s "
	       "per source; %u targets down",
	       (unsigned long long)ld->cur->generation, ld->cur->acl.nallow,
	       ld->cur->acl.ndeny, (unsigned long long)ld->cur->acl.rl_rps,
	       ld->cur->ndown);
	return 0;
}

/*
 * The rules of the store's generation cannot be used (a damaged artefact,
 * rules that do not load): the settings read with them, when they changed,
 * apply on the rules in use (dp_loader_policy_only()); a new secret waits
 * for rules that load. 0 when a snapshot was installed, else -EALREADY
 * (nothing to do) or -errno. Takes @p acl when it installs.
 */
static int
dp_loader_settings_alone(struct dp_loader *ld, struct dp_acl *acl,
			 const struct addr_port *down, uint32_t ndown,
			 uint64_t digest, const uint8_t secret[16])
{
	const struct dp_snap *cur = ld->cur;

	if (cur == NULL || digest == cur->set_digest ||
	    memcmp(secret, ld->secret, 16) != 0)
		return -EALREADY;
	return dp_loader_policy_only(ld, acl, down, ndown, digest, secret);
}

/*
 * Generation @p gen's rules could not be loaded (@p rc: an image that
 * fails its checksum, a Hyperscan database this CPU cannot run, an image
 * of another format after an upgrade of one process, no memory): it is
 * remembered, so that its image is not read again each poll (after no
 * memory, again after DP_SNAP_RETRY_US), and the settings read with it
 * apply all the same (dp_loader_policy_only()): on the rules in use, or,
 * at start, on none (every request gets the no-route answer) rather than
 * no router at all. Takes @p acl when it installs.
 */
static void
dp_loader_rules_unusable(struct dp_loader *ld, int rc, uint64_t gen,
			 struct dp_acl *acl, const struct addr_port *down,
			 uint32_t ndown, uint64_t digest,
			 const uint8_t secret[16])
{
	const struct dp_snap *cur = ld->cur;
	const bool again = gen == ld->bad_gen && rc == ld->bad_rc;

	/* Remembered: not read again while it is the current generation,
	 * for good when a new read would fail alike (an image of another
	 * format, damaged inside, a database this CPU cannot run), for
	 * DP_SNAP_RETRY_US after another failure (no memory), which may
	 * pass. Logged once. */
	ld->bad_gen = gen;
	ld->bad_rc = rc;
	ld->bad_until_us = rc == -EBADMSG || rc == -EIO ||
			   rc == -EPROTONOSUPPORT || rc == -EINVAL ? 0 :
			   dp_snap_now_us() + DP_SNAP_RETRY_US;
	if (!again)
		DP_LOG(ERR, "generation %llu: its rules cannot be loaded (%s); "
		       "%s", (unsigned long long)gen, strerror(-rc),
		       cur != NULL ? "the rules in use stay, under the "
		       "settings as they are now" : "starting with no "
		       "rules, under the settings as they are now");
	if (cur == NULL)
		(void)dp_loader_install(ld, NULL, 0, 0, secret, acl, NULL, 0,
					digest);
	else
		(void)dp_loader_settings_alone(ld, acl, down, ndown, digest,
					       secret);
}

int
dp_loader_load(struct dp_loader *ld, bool force)
{
	struct dp_snap *s, *cur = ld->cur;
	struct dp_acl acl = { .acl_action = 0 };
	struct addr_port *down = NULL;
	uint64_t gen = 0, digest = 0;
	bool acl_ok = false, rules_failed = false;
	uint32_t ndown = 0;
	uint8_t secret[16];
	void *image = NULL;
	size_t len = 0;
	int rc;

	if (ld->conf->data_dir == NULL) {
		if (cur != NULL)
			return 0;
		memset(secret, 0, sizeof(secret));
		image = NULL;
		len = 0;
	} else {
		rc = dp_loader_open_env(ld);
		/* A store replaced (or a new one) is read whole once it can
		 * be: its generation numbers are its own. */
		if (ld->env_new)
			force = true;
		if (rc == 0) {
			uint64_t have = cur != NULL && !force ?
					cur->generation : UINT64_MAX;

			/* A generation whose rules could not be loaded is
			 * not read again (tens of MB each poll), or not
			 * before its retry time */
			if (!force && ld->bad_gen != 0 &&
			    (ld->bad_until_us == 0 ||
			     dp_snap_now_us() < ld->bad_until_us))
				have = ld->bad_gen;
			rc = dp_loader_read(ld, have, &gen, &image, &len,
					    secret, &acl, &acl_ok, &down,
					    &ndown, &digest);
			if (rc == 0)
				ld->env_new = false;
			/* the settings read, the rules not */
			rules_failed = rc != 0 && acl_ok;
			if (rules_failed && ld->art_damaged && gen != 0) {
				/* Its image fails its checksum: it would at
				 * every read, so it is remembered as one
				 * that does not load (not read, counted nor
				 * logged again), and the store, sound, is
				 * not reopened. (A store just replaced is
				 * still read whole at each check until one
				 * of its generations loads: its numbers are
				 * its own.) */
				dp_loader_rules_unusable(ld, rc, gen, &acl,
							 down, ndown, digest,
							 secret);
				free(down);
				dp_acl_free(&acl);
				goto out_fail;
			}
			if (rc == 0 && ld->bad_gen != 0 && have == ld->bad_gen &&
			    gen == have) {
				/* Still the generation whose rules do not
				 * load: only the settings may apply. Not a
				 * new failure (logged and counted once),
				 * nor a reason to reopen the store. */
				(void)dp_loader_settings_alone(ld, &acl, down,
							       ndown, digest,
							       secret);
				free(down);
				dp_acl_free(&acl);
				return ld->bad_rc;
			}
		} else if (rc == -ENOENT)
			acl_ok = true;  /* no store yet: no policy given */
		if (rc == -EAGAIN || rc == -EBADMSG) {
			/* The map grew or the file was replaced: reopen. */
			dp_loader_close_env(ld);
		}
		if (rc != 0) {
			if (rules_failed &&
			    dp_loader_settings_alone(ld, &acl, down, ndown,
						     digest, secret) == 0)
				cur = ld->cur;
			free(down);
			down = NULL;
			ndown = 0;
			if (cur != NULL || ld->conf->data_dir == NULL) {
				dp_acl_free(&acl);
				goto out_fail;
			}
			/*
			 * Start with no rules rather than not at all, under
			 * the source policy when it could be read, else
			 * refusing every request: the router does not run
			 * without a policy it may have been given.
			 */
			if (!acl_ok) {
				dp_acl_free(&acl);
				acl.refuse_all = 1;
				DP_LOG(WARNING, "the store could not be read "
				       "(%s): every request is refused until "
				       "its source policy can be",
				       strerror(-rc));
			}
			memset(secret, 0, sizeof(secret));
			image = NULL;
			len = 0;
			gen = 0;
			digest = 0;
		} else if (cur != NULL && !force && gen == cur->generation) {
			/* The rules in use (their image not read again):
			 * nothing to do, or new settings on them. */
			if (memcmp(secret, ld->secret, 16) == 0 &&
			    digest == cur->set_digest)
				rc = 0;
			else if ((rc = dp_loader_policy_only(ld, &acl, down,
							     ndown, digest,
							     secret)) == 0)
				rc = 1;
			/* read when a bad generation was skipped instead
			 * (the store went back to the one in use): that one
			 * is not current any more */
			free(image);
			ld->bad_gen = 0;
			free(down);
			dp_acl_free(&acl);
			if (rc < 0)
				goto out_fail;
			ld->last_rc = 0;
			return rc;
		}
	}
	rc = dp_loader_install(ld, image, len, gen, secret, &acl, down, ndown,
			       digest);
	if (rc != 0 && image != NULL)
		dp_loader_rules_unusable(ld, rc, gen, &acl, down, ndown, digest,
					 secret);
	free(down);
	if (rc != 0) {
		dp_acl_free(&acl);
		goto out_fail;
	}
	ld->bad_gen = 0;
	ld->last_rc = 0;
	s = ld->cur;
	DP_LOG(INFO, "generation %llu loaded: %u rules, %u targets (%u down); "
	       "source policy: %u allowed, %u denied prefixes, %llu "
	       "requests/s per source", (unsigned long long)gen, s->nrules,
	       s->ntargets, s->ndown, s->acl.nallow, s->acl.ndeny,
	       (unsigned long long)s->acl.rl_rps);
	return 1;

out_fail:
	__atomic_store_n(&ld->cnt_fail, ld->cnt_fail + 1, __ATOMIC_RELAXED);
	if (rc != ld->last_rc)  /* once per kind of failure, not per second */
		DP_LOG(WARNING, "loading the current generation failed: %s",
		       strerror(-rc));
	ld->last_rc = rc;
	return rc;
}

/* Subscription: (re)connect with backoff, read events. */
static void
dp_loader_subscribe(struct dp_loader *ld, uint64_t now)
{
	static const char req[] = "{\"cmd\":\"subscribe\"}";
	int fd;

	if (ld->fd >= 0 || now < ld->next_connect_us)
		return;
	fd = dp_ctl_connect(ld->conf->control_path);
	if (fd >= 0 && dp_ctl_send(fd, 'Q', req, sizeof(req) - 1) != 0) {
		close(fd);
		fd = -EPIPE;
	}
	if (fd < 0) {
		/* Once per reason: a control process that is not there is
		 * told, not retried in silence (no stats reach it). */
		if (-fd != ld->conn_err) {
			DP_LOG(WARNING, "control socket %s: %s; retrying",
			       ld->conf->control_path, strerror(-fd));
			ld->conn_err = -fd;
		}
		ld->backoff_ms = ld->backoff_ms == 0 ? 100 :
			RTE_MIN(ld->backoff_ms * 2, DP_CTL_BACKOFF_MAX_MS);
		ld->next_connect_us = now + ld->backoff_ms * 1000ull;
		return;
	}
	ld->fd = fd;
	ld->rlen = 0;
	/* The backoff is reset by the reply (dp_loader_events()): a server
	 * that closes at once (at its connection limit) is retried ever
	 * less often. */
	ld->cnt_connects++;
	ld->conn_err = 0;
	DP_LOG(INFO, "subscribed to %s", ld->conf->control_path);
}

static void
dp_loader_drop_conn(struct dp_loader *ld, uint64_t now)
{
	close(ld->fd);
	ld->fd = -1;
	ld->backoff_ms = ld->backoff_ms == 0 ? 100 :
		RTE_MIN(ld->backoff_ms * 2, DP_CTL_BACKOFF_MAX_MS);
	ld->next_connect_us = now + ld->backoff_ms * 1000ull;
	DP_LOG(INFO, "control connection closed; reconnecting");
}

/* Read what arrived; true if a generation event (or reply) was seen. */
static bool
dp_loader_events(struct dp_loader *ld, int timeout_ms, uint64_t now)
{
	struct pollfd pfd;
	char type, *pl;
	uint32_t plen;
	uint64_t gen;
	bool seen = false;
	ssize_t k;
	int rc;

	if (ld->fd < 0) {
		poll(NULL, 0, timeout_ms);
		return false;
	}
	pfd.fd = ld->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	k = recv(ld->fd, ld->rbuf + ld->rlen, sizeof(ld->rbuf) - ld->rlen,
		 MSG_DONTWAIT);
	if (k == 0 || (k == -1 && errno != EINTR && errno != EAGAIN)) {
		dp_loader_drop_conn(ld, now);
		return false;
	}
	if (k > 0)
		ld->rlen += (size_t)k;
	while ((rc = dp_ctl_frame_next(ld->rbuf, &ld->rlen, &type, &pl,
				       &plen)) == 1) {
		if (type == 'R')
			ld->backoff_ms = 0;     /* subscribed */
		if ((type == 'R' || type == 'V') &&
		    dp_ctl_json_u64(pl, plen, "generation", &gen) == 0) {
			ld->want_gen = gen;
			seen = true;
		}
		dp_ctl_frame_consume(ld->rbuf, &ld->rlen, plen);
	}
	if (rc < 0 || ld->rlen == sizeof(ld->rbuf))
		dp_loader_drop_conn(ld, now);
	return seen;
}

/* One stats report to the control process; false when it was not taken. */
static bool
dp_loader_report(struct dp_loader *ld)
{
	char *json = NULL, reply[512];
	size_t len = 0, rlen;
	bool ok = false;
	FILE *f;

	f = open_memstream(&json, &len);
	if (f == NULL)
		return false;
	dp_stats_report(f, ld->lcs, ld->nworkers, ld->svc, ld);
	if (fclose(f) != 0) {
		free(json);
		return false;
	}
	if (dp_ctl_request(ld->conf->control_path, json, len, reply,
			   sizeof(reply), &rlen) == 0) {
		ld->cnt_reports++;
		ok = true;
	}
	free(json);
	return ok;
}

static void *
dp_loader_main(void *arg)
{
	struct dp_loader *ld = arg;
	uint64_t now, next_poll = 0, next_report = 0;

	while (!__atomic_load_n(&ld->stop, __ATOMIC_RELAXED)) {
		now = dp_snap_now_us();
		dp_loader_subscribe(ld, now);
		if (dp_loader_events(ld, 100, now) ||
		    (ld->conf->data_dir != NULL && now >= next_poll)) {
			/* An event, or the periodic check that covers a
			 * control process that is down or restarting. */
			dp_loader_load(ld, false);
			next_poll = now + DP_SNAP_POLL_US;
		}
		dp_loader_retire(ld);
		if (ld->conf->probe_interval_ms != 0 &&
		    now >= ld->next_probe_us) {
			uint64_t fail;

			if (++ld->probe_round == 0)
				ld->probe_round = 1;
			__atomic_store_n(&ld->cnt_probes, ld->cnt_probes +
					 dp_probe_round(ld->conf, ld->svc,
							ld->cur,
							ld->probe_round, &fail),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&ld->cnt_probe_fail,
					 ld->cnt_probe_fail + fail,
					 __ATOMIC_RELAXED);
			ld->next_probe_us = now +
				(uint64_t)ld->conf->probe_interval_ms * 1000;
		}
		if (now >= next_report) {
			/* Timed from its end: a control process that takes
			 * connections but never answers holds the loader up
			 * for a report's time-out, so after a failure the
			 * next waits DP_STATS_BACKOFF_US. */
			bool ok = ld->fd < 0 || dp_loader_report(ld);

			next_report = dp_snap_now_us() +
				(ok ? DP_STATS_REPORT_US : DP_STATS_BACKOFF_US);
		}
	}
	/* The workers have stopped (main.c): their final counts. */
	if (ld->fd >= 0)
		dp_loader_report(ld);
	return NULL;
}

int
dp_loader_start(struct dp_loader *ld, const struct dp_conf *conf,
		const struct dp_lcore *lcs, uint16_t nworkers,
		const struct dp_service *svc, bool thread)
{
	int rc;

	memset(ld, 0, sizeof(*ld));
	ld->conf = conf;
	ld->lcs = lcs;
	ld->nworkers = nworkers;
	ld->svc = svc;
	ld->fd = -1;
	/* The first snapshot before any worker starts: the current
	 * generation, or an empty one. */
	rc = dp_loader_load(ld, true);
	if (rc < 0 && ld->cur == NULL)
		return rc;
	if (!thread)
		return 0;
	/* A control thread: on the CPUs of the process that no lcore
	 * takes (the main lcore's when every CPU is one), so that building
	 * a snapshot of a million rules does not hold up the service. */
	rc = rte_ctrl_thread_create(&ld->thread, "dp-loader", NULL,
				    dp_loader_main, ld);
	if (rc != 0)
		return rc < 0 ? rc : -rc;
	ld->running = true;
	return 0;
}

void
dp_loader_stop(struct dp_loader *ld)
{
	__atomic_store_n(&ld->stop, 1, __ATOMIC_RELAXED);
	if (ld->running)
		pthread_join(ld->thread, NULL);
	ld->running = false;
	if (ld->fd >= 0)
		close(ld->fd);
	ld->fd = -1;
	/* Workers are stopped: no grace period needed. */
	dp_snap_free(dp_snap_publish(NULL));
	ld->cur = NULL;
	dp_snap_publish_prev(NULL);
	dp_snap_free(ld->prev);
	ld->prev = NULL;
	dp_loader_close_env(ld);
}
