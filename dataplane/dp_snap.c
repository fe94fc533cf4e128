/* SPDX-License-Identifier: MIT */
/*
 * dp_snap.c - rule snapshots: build one from a compiled rules image,
 * publish it to the workers with RCU, sum its counters, free it.
 *
 * SLOW PATH: the loader thread (dp_loader.c) or a test; never a worker.
 *
 * A snapshot (struct dp_snap) is immutable once published: the loaded
 * rules_db, one rules_scratch per worker lcore (H11), the target-state
 * bitmap (all up for now), the keys derived from the installation secret,
 * and the per-lcore counter slices for rule hits and target picks, each
 * written by its own worker only and summed here with relaxed loads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <rte_common.h>
#include <urcu/urcu-qsbr.h>

#include <hash.h>
#include <rules.h>

#include "dp.h"

struct dp_snap *dp_snap_current;

static uint64_t
dp_snap_now_us(void)
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
	free(s->image);
	free(s->hits);
	free(s);
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
	s->loaded_us = dp_snap_now_us();
	k.k0 = hash_load_le64(secret);
	k.k1 = hash_load_le64(secret + 8);
	s->tag_key[0] = k.k0;
	s->tag_key[1] = k.k1;
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
