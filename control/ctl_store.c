/* SPDX-License-Identifier: MIT */
/*
 * ctl_store.c - the LMDB environment of the control process.
 *
 * The only file that calls mdb_*. Every value is encoded and validated by
 * lmdb-schema/; every LMDB return code is translated to a negative errno
 * here, once (STYLE.md 2.6). One write transaction per change: a new
 * generation is either fully in the file or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "ctl.h"

struct ctl_store {
	MDB_env         *env;
	int              lock_fd;       /* flock: one control process per dir */
	MDB_dbi          dbi[SCHEMA_DBI__COUNT];
	uint64_t         map_max;       /* the map grows up to this (bytes) */
	char             path[PATH_MAX];
};

/*
 * What ctl_store_errno() makes of MDB_MAP_FULL inside this file: a write
 * that ran out of map, which ctl_store_write() grows and retries. What
 * leaves the file is -ENOSPC (ctl_store_rc()).
 */
#define CTL_STORE_EMAPFULL      (-EDQUOT)

static const char *const ctl_store_dbi_names[] = {
#define X(sym, name) [SCHEMA_DBI_##sym] = (name),
	SCHEMA_DBI_MAP(X)
#undef X
};

/*
 * LMDB returns 0, a positive errno, or one of its own negative MDB_* codes.
 * Everything above this file sees negative errno only.
 */
static int
ctl_store_errno(int mdb_rc)
{
	switch (mdb_rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_MAP_FULL:
		return CTL_STORE_EMAPFULL;
	case MDB_TXN_FULL:
		return -EFBIG;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
		return -EPROTONOSUPPORT;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return -EBADMSG;
	case MDB_PANIC:
		/* A failed meta page write: the environment is unusable
		 * until it is opened again (a restart). */
		return -ENOTRECOVERABLE;
	default:
		return mdb_rc > 0 ? -mdb_rc : -EIO;
	}
}

/* A result as callers see it: a full map is -ENOSPC there. */
static int
ctl_store_rc(int rc)
{
	return rc == CTL_STORE_EMAPFULL ? -ENOSPC : rc;
}

/*
 * The map is full: make it larger, twice its size up to st->map_max.
 * No transaction may be open in this process (LMDB's rule for
 * mdb_env_set_mapsize()); every one of this file ends before it
 * returns, and the control process has no other thread using the store.
 * A dataplane reading the environment adopts the new size when its next
 * read transaction reports MDB_MAP_RESIZED. 0, or -ENOSPC at the limit.
 */
static int
ctl_store_grow(struct ctl_store *st)
{
	MDB_envinfo info;
	uint64_t cur, next;

	if (mdb_env_info(st->env, &info) != 0)
		return -ENOSPC;
	cur = (uint64_t)info.me_mapsize;
	next = cur > st->map_max / 2 ? st->map_max : cur * 2;
	if (next <= cur)
		return -ENOSPC;
	if (mdb_env_set_mapsize(st->env, (size_t)next) != 0)
		return -ENOSPC;
	ctl_log(CTL_LOG_WARN, "LMDB map full at %llu MiB: grown to %llu MiB "
		"(--map-size-max %llu MiB)", (unsigned long long)(cur >> 20),
		(unsigned long long)(next >> 20),
		(unsigned long long)(st->map_max >> 20));
	return 0;
}

/*
 * Runs the write transaction @p fn(st, arg) again after each growth of a
 * full map, until it fits or the map is at its limit (-ENOSPC then).
 * @p fn begins and ends its transaction, and changes nothing outside it
 * before it commits.
 */
static int
ctl_store_write(struct ctl_store *st, int (*fn)(struct ctl_store *, void *),
		void *arg)
{
	int rc;

	while ((rc = fn(st, arg)) == CTL_STORE_EMAPFULL)
		if (ctl_store_grow(st) != 0)
			break;
	return ctl_store_rc(rc);
}

/*
 * A write transaction. Reader slots of a process killed inside a read
 * transaction (a dataplane, mdb_stat) pin the pages of the snapshot they
 * read: every commit would then grow the file until the map is full.
 * They are cleared before each write, not only at start-up.
 */
static int
ctl_store_write_begin(struct ctl_store *st, MDB_txn **txn)
{
	int dead = 0;

	if (mdb_reader_check(st->env, &dead) == 0 && dead != 0)
		ctl_log(CTL_LOG_INFO, "cleared %d stale reader slot(s)", dead);
	return ctl_store_errno(mdb_txn_begin(st->env, NULL, 0, txn));
}

static MDB_val
ctl_store_val(const void *p, size_t n)
{
	MDB_val v = { .mv_size = n, .mv_data = (void *)p };

	return v;
}

static int
ctl_store_meta_get(MDB_txn *txn, struct ctl_store *st, const char *key,
		   MDB_val *val)
{
	MDB_val k = ctl_store_val(key, strlen(key));

	return ctl_store_errno(mdb_get(txn, st->dbi[SCHEMA_DBI_META], &k,
				       val));
}

static int
ctl_store_meta_put(MDB_txn *txn, struct ctl_store *st, const char *key,
		   const void *p, size_t n)
{
	MDB_val k = ctl_store_val(key, strlen(key));
	MDB_val v = ctl_store_val(p, n);

	return ctl_store_errno(mdb_put(txn, st->dbi[SCHEMA_DBI_META], &k, &v,
				       0));
}

/* Open every DBI, create meta["schema"] on a new environment, check it. */
static int
ctl_store_init_txn(struct ctl_store *st, void *arg)
{
	struct schema_meta_schema ms;
	uint8_t buf[SCHEMA_META_SCHEMA_LEN];
	MDB_txn *txn;
	MDB_val v;
	size_t len;
	int i, rc;

	(void)arg;
	rc = ctl_store_write_begin(st, &txn);
	if (rc != 0)
		return rc;
	for (i = 0; i < SCHEMA_DBI__COUNT; i++) {
		rc = ctl_store_errno(mdb_dbi_open(txn, ctl_store_dbi_names[i],
						  MDB_CREATE, &st->dbi[i]));
		if (rc != 0)
			goto out_abort_txn;
	}
	rc = ctl_store_meta_get(txn, st, SCHEMA_META_KEY_SCHEMA, &v);
	if (rc == -ENOENT) {
		ms.version = SCHEMA_VERSION;
		ms.created_us = ctl_now_us();
		rc = schema_meta_schema_encode(&ms, buf, sizeof(buf), &len);
		if (rc == 0)
			rc = ctl_store_meta_put(txn, st, SCHEMA_META_KEY_SCHEMA,
						buf, len);
		if (rc != 0)
			goto out_abort_txn;
		ctl_log(CTL_LOG_INFO, "initialised new environment (schema %u)",
			SCHEMA_VERSION);
	} else if (rc == 0) {
		rc = schema_meta_schema_decode(&ms, v.mv_data, v.mv_size);
		if (rc == 0 && ms.version != SCHEMA_VERSION)
			rc = -EPROTONOSUPPORT;
		if (rc != 0) {
			ctl_log(CTL_LOG_ERR,
				"meta[schema] unusable (%s): written by another version?",
				strerror(-rc));
			goto out_abort_txn;
		}
	} else {
		goto out_abort_txn;
	}
	return ctl_store_errno(mdb_txn_commit(txn));

out_abort_txn:
	mdb_txn_abort(txn);
	return rc;
}

int
ctl_store_open(const char *dir, uint64_t map_size, uint64_t map_max,
	       struct ctl_store **out)
{
	struct ctl_store *st;
	MDB_envinfo info;
	int rc;

	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		return -errno;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	/*
	 * LMDB would let a second writer process in; but each control
	 * process keeps the rule set in memory, so two would diverge.
	 */
	snprintf(st->path, sizeof(st->path), "%s/control.lock", dir);
	st->lock_fd = open(st->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd == -1) {
		rc = -errno;
		goto out_free_st;
	}
	while (flock(st->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (rc == -EBUSY)
			ctl_log(CTL_LOG_ERR,
				"%s is in use by another control process", dir);
		goto out_close_lock;
	}
	snprintf(st->path, sizeof(st->path), "%s/data.mdb", dir);
	rc = ctl_store_errno(mdb_env_create(&st->env));
	if (rc != 0)
		goto out_close_lock;
	rc = ctl_store_errno(mdb_env_set_maxdbs(st->env, SCHEMA_DBI__COUNT));
	/*
	 * No size before the open: LMDB then takes the one the environment
	 * records (a map that grew stays grown); a larger --map-size is set
	 * after it, before any transaction.
	 */
	if (rc == 0)
		rc = ctl_store_errno(mdb_env_open(st->env, dir, MDB_NOTLS,
						  0660));
	if (rc == 0)
		rc = ctl_store_errno(mdb_env_info(st->env, &info));
	if (rc == 0 && info.me_mapsize < map_size)
		rc = ctl_store_errno(mdb_env_set_mapsize(st->env,
							 (size_t)map_size));
	if (rc != 0)
		goto out_close_env;
	ctl_store_set_map_max(st, map_max);
	rc = ctl_store_write(st, ctl_store_init_txn, NULL);
	if (rc != 0)
		goto out_close_env;
	*out = st;
	return 0;

out_close_env:
	mdb_env_close(st->env);
out_close_lock:
	close(st->lock_fd);
out_free_st:
	free(st);
	return rc;
}

void
ctl_store_close(struct ctl_store *st)
{
	if (st == NULL)
		return;
	mdb_env_close(st->env);
	close(st->lock_fd);
	free(st);
}

static int
ctl_store_gen_txn(MDB_txn *txn, struct ctl_store *st,
		  struct schema_meta_gen *out)
{
	MDB_val v;
	int rc;

	rc = ctl_store_meta_get(txn, st, SCHEMA_META_KEY_GENERATION, &v);
	if (rc == -ENOENT) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (rc != 0)
		return rc;
	return schema_meta_gen_decode(out, v.mv_data, v.mv_size);
}

int
ctl_store_generation(struct ctl_store *st, struct schema_meta_gen *out)
{
	MDB_txn *txn;
	int rc;

	rc = ctl_store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		return rc;
	rc = ctl_store_gen_txn(txn, st, out);
	mdb_txn_abort(txn);
	return rc;
}

/* A malloc()ed copy of meta[@p key]: 0, -ENOENT, -errno. */
static int
ctl_store_meta_copy(struct ctl_store *st, const char *key, void **out,
		    size_t *len)
{
	MDB_txn *txn;
	MDB_val v;
	int rc;

	*out = NULL;
	*len = 0;
	rc = ctl_store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		return rc;
	rc = ctl_store_meta_get(txn, st, key, &v);
	if (rc == 0) {
		*out = malloc(v.mv_size != 0 ? v.mv_size : 1);
		if (*out == NULL) {
			rc = -ENOMEM;
		} else {
			memcpy(*out, v.mv_data, v.mv_size);
			*len = v.mv_size;
		}
	}
	mdb_txn_abort(txn);
	return rc;
}

int
ctl_store_last_import(struct ctl_store *st,
		      struct schema_import_summary *out)
{
	void *p;
	size_t len;
	int rc;

	rc = ctl_store_meta_copy(st, SCHEMA_META_KEY_LAST_IMPORT, &p, &len);
	if (rc == 0)
		rc = schema_import_summary_decode(out, p, len);
	free(p);
	return rc;
}

int
ctl_store_names_get(struct ctl_store *st, void **out, size_t *len)
{
	return ctl_store_meta_copy(st, SCHEMA_META_KEY_NAMES, out, len);
}

int
ctl_store_rules_foreach(struct ctl_store *st, ctl_store_rule_fn *fn,
			void *arg)
{
	struct schema_rule *r;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc, mrc;

	/* struct schema_rule holds 64 targets: keep it off the stack. */
	r = malloc(sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	rc = ctl_store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		goto out_free_r;
	rc = ctl_store_errno(mdb_cursor_open(txn, st->dbi[SCHEMA_DBI_RULES],
					     &cur));
	if (rc != 0)
		goto out_abort_txn;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		rc = schema_rule_decode(r, v.mv_data, v.mv_size);
		if (rc != 0) {
			ctl_log(CTL_LOG_ERR, "rules[%.*s]: %s", (int)k.mv_size,
				(const char *)k.mv_data, strerror(-rc));
			break;
		}
		r->id = span_make(k.mv_data, k.mv_size);
		rc = fn(arg, r);
		if (rc != 0)
			break;
	}
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = ctl_store_errno(mrc);
	mdb_cursor_close(cur);
out_abort_txn:
	mdb_txn_abort(txn);
out_free_r:
	free(r);
	return rc;
}

int
ctl_store_setting_get(struct ctl_store *st, const char *name,
		      struct schema_setting *out, char *strbuf, size_t cap)
{
	MDB_val k = ctl_store_val(name, strlen(name));
	MDB_txn *txn;
	MDB_val v;
	int rc;

	rc = ctl_store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		return rc;
	rc = ctl_store_errno(mdb_get(txn, st->dbi[SCHEMA_DBI_SETTINGS], &k,
				     &v));
	if (rc == 0)
		rc = schema_setting_decode(out, v.mv_data, v.mv_size);
	if (rc == 0 && out->type == SCHEMA_SETTING_STR) {
		if (strbuf == NULL || out->str.len >= cap) {
			rc = -ENOSPC;
		} else {
			memcpy(strbuf, out->str.ptr, out->str.len);
			strbuf[out->str.len] = '\0';
			out->str = span_make(strbuf, out->str.len);
		}
	}
	mdb_txn_abort(txn);
	return rc;
}

struct ctl_store_kv {
	MDB_dbi dbi;
	MDB_val k, v;
};

static int
ctl_store_put_txn(struct ctl_store *st, void *arg)
{
	struct ctl_store_kv *kv = arg;
	MDB_txn *txn;
	int rc;

	rc = ctl_store_write_begin(st, &txn);
	if (rc != 0)
		return rc;
	rc = ctl_store_errno(mdb_put(txn, kv->dbi, &kv->k, &kv->v, 0));
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	/* Commit frees the transaction whether it succeeds or not. */
	return ctl_store_errno(mdb_txn_commit(txn));
}

int
ctl_store_setting_put(struct ctl_store *st, const char *name,
		      const struct schema_setting *s)
{
	struct ctl_store_kv kv = {
		.dbi = st->dbi[SCHEMA_DBI_SETTINGS],
		.k = ctl_store_val(name, strlen(name)),
	};
	size_t cap = 16 + (s->type == SCHEMA_SETTING_STR ? s->str.len : 0);
	uint8_t *buf = malloc(cap);
	size_t len;
	int rc;

	if (buf == NULL)
		return -ENOMEM;
	rc = schema_setting_encode(s, buf, cap, &len);
	if (rc == 0) {
		kv.v = ctl_store_val(buf, len);
		rc = ctl_store_write(st, ctl_store_put_txn, &kv);
	}
	free(buf);
	return rc;
}

/* Put an artefact: header and payload written straight into the page. */
static int
ctl_store_art_put(MDB_txn *txn, struct ctl_store *st, uint64_t gen,
		  uint8_t kind, const void *p, size_t n, uint64_t now)
{
	struct schema_art_hdr h = {
		.kind = kind,
		.csum_alg = SCHEMA_CSUM_CRC32C,
		.csum = schema_crc32c(0, p, n),
		.size = n,
		.created_us = now,
	};
	uint8_t key[SCHEMA_ART_KEY_LEN];
	MDB_val k, v;
	int rc;

	schema_art_key_encode(key, gen, kind);
	k = ctl_store_val(key, sizeof(key));
	v = ctl_store_val(NULL, SCHEMA_ART_HDR_LEN + n);
	rc = ctl_store_errno(mdb_put(txn, st->dbi[SCHEMA_DBI_ARTEFACTS], &k,
				     &v, MDB_RESERVE));
	if (rc != 0)
		return rc;
	rc = schema_art_hdr_encode(&h, v.mv_data);
	if (rc != 0)
		return rc;
	if (n != 0)
		memcpy((uint8_t *)v.mv_data + SCHEMA_ART_HDR_LEN, p, n);
	return 0;
}

/* Delete every artefact of generations <= @p upto. */
static int
ctl_store_art_gc(MDB_txn *txn, struct ctl_store *st, uint64_t upto)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t gen;
	uint8_t kind;
	int rc, mrc;

	rc = ctl_store_errno(mdb_cursor_open(txn,
					     st->dbi[SCHEMA_DBI_ARTEFACTS],
					     &cur));
	if (rc != 0)
		return rc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		/* A key this schema did not write: reported, left alone
		 * (refusing every commit over it would help nobody). */
		if (schema_art_key_decode(k.mv_data, k.mv_size, &gen,
					  &kind) != 0) {
			ctl_log(CTL_LOG_WARN, "gc: artefact key of %zu bytes "
				"is not a generation's; skipped", k.mv_size);
			continue;
		}
		if (gen > upto)
			break;
		rc = ctl_store_errno(mdb_cursor_del(cur, 0));
		if (rc != 0)
			break;
		ctl_log(CTL_LOG_DEBUG, "gc: artefact %llu/%u",
			(unsigned long long)gen, kind);
	}
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = ctl_store_errno(mrc);
	mdb_cursor_close(cur);
	return rc;
}

static int
ctl_store_apply_changes(MDB_txn *txn, struct ctl_store *st,
			const struct ctl_commit *c)
{
	MDB_dbi dbi = st->dbi[SCHEMA_DBI_RULES];
	struct ctl_change *ch;
	MDB_val k, v;
	size_t n, len;
	int rc;

	if (c->clear_rules) {
		rc = ctl_store_errno(mdb_drop(txn, dbi, 0));
		if (rc != 0)
			return rc;
	}
	if (c->next == NULL)
		return 0;
	ch = malloc(sizeof(*ch));
	if (ch == NULL)
		return -ENOMEM;
	while ((rc = c->next(c->arg, ch)) == 1) {
		k = ctl_store_val(ch->id.ptr, ch->id.len);
		if (ch->id.len == 0 || ch->id.len > SCHEMA_ID_MAX) {
			rc = -EINVAL;
			break;
		}
		if (ch->del) {
			rc = ctl_store_errno(mdb_del(txn, dbi, &k, NULL));
			if (rc == -ENOENT)
				rc = 0;
		} else {
			n = schema_rule_size(&ch->rule);
			if (n == 0) {
				rc = -EINVAL;
				break;
			}
			v = ctl_store_val(NULL, n);
			rc = ctl_store_errno(mdb_put(txn, dbi, &k, &v,
						     MDB_RESERVE));
			if (rc == 0)
				rc = schema_rule_encode(&ch->rule, v.mv_data,
							n, &len);
		}
		if (rc != 0)
			break;
	}
	free(ch);
	return rc;
}

static int
ctl_store_put_targets(MDB_txn *txn, struct ctl_store *st,
		      const struct ctl_commit *c)
{
	MDB_dbi dbi = st->dbi[SCHEMA_DBI_TARGETS];
	uint8_t buf[SCHEMA_TARGET_REC_LEN];
	MDB_val k, v;
	size_t i, len;
	int rc;

	rc = ctl_store_errno(mdb_drop(txn, dbi, 0));
	for (i = 0; rc == 0 && i < c->ntargets; i++) {
		rc = schema_target_rec_encode(&c->targets[i].rec, buf,
					      sizeof(buf), &len);
		if (rc != 0)
			break;
		k = ctl_store_val(c->targets[i].key,
				  strlen(c->targets[i].key));
		v = ctl_store_val(buf, len);
		rc = ctl_store_errno(mdb_put(txn, dbi, &k, &v, 0));
	}
	return rc;
}

bool
ctl_store_disk_short(struct ctl_store *st, uint64_t need)
{
	struct statvfs v;

	if (statvfs(st->path, &v) != 0)
		return false;
	return (uint64_t)v.f_bavail * v.f_frsize < need;
}

struct ctl_store_commit_arg {
	const struct ctl_commit *c;
	uint64_t                 gen;
	uint32_t                 runs;
};

static int
ctl_store_commit_txn(struct ctl_store *st, void *arg)
{
	struct ctl_store_commit_arg *ca = arg;
	const struct ctl_commit *c = ca->c;
	uint8_t buf[128];
	struct schema_meta_gen g;
	struct schema_import_summary sum;
	MDB_stat ms;
	MDB_txn *txn;
	uint64_t now = ctl_now_us(), next;
	size_t len;
	int rc;

	rc = ctl_store_write_begin(st, &txn);
	if (rc != 0)
		return rc;
	/* A run after the map grew writes the changes from the first. */
	if (ca->runs++ != 0)
		c->rewind(c->arg);
	rc = ctl_store_gen_txn(txn, st, &g);
	if (rc != 0)
		goto out_abort_txn;
	next = g.generation + 1;

	rc = ctl_store_apply_changes(txn, st, c);
	if (rc != 0)
		goto out_abort_txn;
	rc = ctl_store_put_targets(txn, st, c);
	if (rc != 0)
		goto out_abort_txn;

	rc = schema_geninfo_encode(&c->geninfo, buf, sizeof(buf), &len);
	if (rc == 0)
		rc = ctl_store_art_put(txn, st, next, SCHEMA_ART_GENINFO, buf,
				       len, now);
	if (rc == 0)
		rc = ctl_store_art_put(txn, st, next, SCHEMA_ART_RULES_IMAGE,
				       c->image, c->image_len, now);
	if (rc != 0)
		goto out_abort_txn;
	if (c->keep != 0 && next > c->keep) {
		rc = ctl_store_art_gc(txn, st, next - c->keep);
		if (rc != 0)
			goto out_abort_txn;
	}

	rc = ctl_store_errno(mdb_stat(txn, st->dbi[SCHEMA_DBI_RULES], &ms));
	if (rc != 0)
		goto out_abort_txn;
	/* The times as close to the commit as the transaction allows. */
	now = ctl_now_us();
	g.generation = next;
	g.committed_us = now;
	g.nrules = ms.ms_entries;
	rc = schema_meta_gen_encode(&g, buf, sizeof(buf), &len);
	if (rc == 0)
		rc = ctl_store_meta_put(txn, st, SCHEMA_META_KEY_GENERATION,
					buf, len);
	if (rc != 0)
		goto out_abort_txn;
	sum = c->summary;
	sum.generation = next;
	sum.finished_us = now;
	sum.duration_us = ctl_mono_us() - c->t0_mono;
	rc = schema_import_summary_encode(&sum, buf, sizeof(buf), &len);
	if (rc == 0)
		rc = ctl_store_meta_put(txn, st, SCHEMA_META_KEY_LAST_IMPORT,
					buf, len);
	if (rc != 0)
		goto out_abort_txn;
	if (c->names_len != 0) {
		rc = ctl_store_meta_put(txn, st, SCHEMA_META_KEY_NAMES,
					c->names, c->names_len);
	} else {
		MDB_val k = ctl_store_val(SCHEMA_META_KEY_NAMES,
					  strlen(SCHEMA_META_KEY_NAMES));

		rc = ctl_store_errno(mdb_del(txn, st->dbi[SCHEMA_DBI_META],
					     &k, NULL));
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc != 0)
		goto out_abort_txn;

	/* Commit frees the transaction whether it succeeds or not. */
	rc = ctl_store_errno(mdb_txn_commit(txn));
	if (rc != 0)
		return rc;
	ca->gen = next;
	return 0;

out_abort_txn:
	mdb_txn_abort(txn);
	return rc;
}

int
ctl_store_commit(struct ctl_store *st, const struct ctl_commit *c,
		 uint64_t *gen)
{
	struct ctl_store_commit_arg ca = { .c = c };
	int rc;

	/* Changes that cannot start over are written once: no growth. */
	if (c->rewind == NULL)
		rc = ctl_store_rc(ctl_store_commit_txn(st, &ca));
	else
		rc = ctl_store_write(st, ctl_store_commit_txn, &ca);
	if (rc == 0)
		*gen = ca.gen;
	return rc;
}

void
ctl_store_set_map_max(struct ctl_store *st, uint64_t max)
{
	MDB_envinfo info;

	/* Never below the map as it is. */
	if (mdb_env_info(st->env, &info) == 0 && max < info.me_mapsize)
		max = info.me_mapsize;
	st->map_max = max;
}

int
ctl_store_artefact_get(struct ctl_store *st, uint64_t gen, uint8_t kind,
		       void **out, size_t *len)
{
	uint8_t key[SCHEMA_ART_KEY_LEN];
	struct span payload;
	MDB_txn *txn;
	MDB_val k, v;
	void *copy;
	int rc;

	schema_art_key_encode(key, gen, kind);
	k = ctl_store_val(key, sizeof(key));
	rc = ctl_store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		return rc;
	rc = ctl_store_errno(mdb_get(txn, st->dbi[SCHEMA_DBI_ARTEFACTS], &k,
				     &v));
	if (rc == 0)
		rc = schema_art_verify(v.mv_data, v.mv_size, &payload);
	if (rc != 0)
		goto out_abort_txn;
	/* Copy before the transaction ends: the page may be reused after. */
	copy = malloc(payload.len != 0 ? payload.len : 1);
	if (copy == NULL) {
		rc = -ENOMEM;
		goto out_abort_txn;
	}
	memcpy(copy, payload.ptr, payload.len);
	*out = copy;
	*len = payload.len;
out_abort_txn:
	mdb_txn_abort(txn);
	return rc;
}

int
ctl_store_artefact_size(struct ctl_store *st, uint64_t gen, uint8_t kind,
			uint64_t *size)
{
	uint8_t key[SCHEMA_ART_KEY_LEN];
	struct schema_art_hdr h;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	schema_art_key_encode(key, gen, kind);
	k = ctl_store_val(key, sizeof(key));
	rc = ctl_store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		return rc;
	rc = ctl_store_errno(mdb_get(txn, st->dbi[SCHEMA_DBI_ARTEFACTS], &k,
				     &v));
	if (rc == 0)
		rc = schema_art_hdr_decode(&h, v.mv_data, v.mv_size);
	if (rc == 0)
		*size = h.size;
	mdb_txn_abort(txn);
	return rc;
}

int
ctl_store_artefact_gens(struct ctl_store *st, uint64_t *gens, size_t cap,
			size_t *n)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	uint64_t gen;
	uint8_t kind;
	int rc, mrc;

	*n = 0;
	rc = ctl_store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		return rc;
	rc = ctl_store_errno(mdb_cursor_open(txn,
					     st->dbi[SCHEMA_DBI_ARTEFACTS],
					     &cur));
	if (rc != 0)
		goto out_abort_txn;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (schema_art_key_decode(k.mv_data, k.mv_size, &gen,
					  &kind) != 0)
			continue;
		if (kind != SCHEMA_ART_GENINFO || *n >= cap)
			continue;
		gens[(*n)++] = gen;
	}
	mdb_cursor_close(cur);
out_abort_txn:
	mdb_txn_abort(txn);
	return rc;
}

/* mdb_reader_list() callback: one line per live reader after a header. */
static int
ctl_store_reader_line(const char *msg, void *ctx)
{
	unsigned int *n = ctx;

	if (strstr(msg, "pid") == NULL && strstr(msg, "no active") == NULL)
		(*n)++;
	return 0;
}

/*
 * Readers alive now (me_numreaders counts every slot ever used); dead
 * ones are cleared first.
 */
static unsigned int
ctl_store_live_readers(struct ctl_store *st)
{
	unsigned int n = 0;
	int dead;

	(void)mdb_reader_check(st->env, &dead);
	if (mdb_reader_list(st->env, ctl_store_reader_line, &n) < 0)
		return 0;
	return n;
}

int
ctl_store_stat(struct ctl_store *st, struct ctl_store_stat *out)
{
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn;
	struct stat sb;
	int i, rc;

	memset(out, 0, sizeof(*out));
	rc = ctl_store_errno(mdb_env_info(st->env, &info));
	if (rc == 0)
		rc = ctl_store_errno(mdb_env_stat(st->env, &ms));
	if (rc != 0)
		return rc;
	out->map_size = info.me_mapsize;
	out->used_bytes = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	out->readers = ctl_store_live_readers(st);
	if (stat(st->path, &sb) == 0)
		out->file_bytes = (uint64_t)sb.st_size;
	rc = ctl_store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		return rc;
	for (i = 0; i < SCHEMA_DBI__COUNT; i++) {
		if (mdb_stat(txn, st->dbi[i], &ms) == 0)
			out->entries[i] = ms.ms_entries;
	}
	mdb_txn_abort(txn);
	return 0;
}

static void
ctl_store_hex(FILE *f, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;
	size_t i;

	for (i = 0; i < v->mv_size; i++)
		fprintf(f, "%02x", p[i]);
}

int
ctl_store_dump(struct ctl_store *st, FILE *f)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int i, rc, mrc;

	rc = ctl_store_errno(mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn));
	if (rc != 0)
		return rc;
	for (i = 0; i < SCHEMA_DBI__COUNT; i++) {
		fprintf(f, "[%s]\n", ctl_store_dbi_names[i]);
		rc = ctl_store_errno(mdb_cursor_open(txn, st->dbi[i], &cur));
		if (rc != 0)
			break;
		for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
		     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			ctl_store_hex(f, &k);
			fputc(' ', f);
			ctl_store_hex(f, &v);
			fputc('\n', f);
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc;
}
