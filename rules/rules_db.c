/* SPDX-License-Identifier: MIT */
/*
 * rules_db.c - image validation and loading, per-lcore scratch, CRC32C.
 * Slow path (control process, dataplane loader thread).
 *
 * Loading is validate + copy + hs_deserialize_database(): the image is
 * used in place, nothing is rebuilt. Validation checks the header, the
 * checksum and every offset a worker will follow, so a corrupt or hostile
 * image is refused here rather than read out of bounds on a worker.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "rules_priv.h"

/* ------------------------------------------------------------------ */
/* CRC32C (Castagnoli), software slice-by-8 and SSE4.2 variants       */

static uint32_t rules_crc_tab[8][256];
static pthread_once_t rules_crc_once = PTHREAD_ONCE_INIT;

static void
rules_crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		rules_crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			rules_crc_tab[j][i] = (rules_crc_tab[j - 1][i] >> 8) ^
				rules_crc_tab[0][rules_crc_tab[j - 1][i] & 0xff];
}

static uint32_t
rules_crc32c_sw(uint32_t crc, const unsigned char *p, size_t len)
{
	pthread_once(&rules_crc_once, rules_crc_init);
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		v ^= crc;
		crc = rules_crc_tab[7][v & 0xff] ^
		      rules_crc_tab[6][(v >> 8) & 0xff] ^
		      rules_crc_tab[5][(v >> 16) & 0xff] ^
		      rules_crc_tab[4][(v >> 24) & 0xff] ^
		      rules_crc_tab[3][(v >> 32) & 0xff] ^
		      rules_crc_tab[2][(v >> 40) & 0xff] ^
		      rules_crc_tab[1][(v >> 48) & 0xff] ^
		      rules_crc_tab[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len-- != 0)
		crc = (crc >> 8) ^ rules_crc_tab[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t
rules_crc32c_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len-- != 0)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}

static bool
rules_has_sse42(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t
rules_crc32c_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	return rules_crc32c_sw(crc, p, len);
}

static bool
rules_has_sse42(void)
{
	return false;
}
#endif

/**
 * CRC32C of @p len bytes, continuing from @p crc (0 to start); the same
 * value with or without SSE4.2 (the test suite checks both).
 */
uint32_t
rules_crc32c(uint32_t crc, const void *buf, size_t len)
{
	crc = ~crc;
	if (rules_has_sse42())
		crc = rules_crc32c_hw(crc, buf, len);
	else
		crc = rules_crc32c_sw(crc, buf, len);
	return ~crc;
}

/* Exposed for the tests: the portable variant alone. */
uint32_t rules_crc32c_portable(uint32_t crc, const void *buf, size_t len);

uint32_t
rules_crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
	return ~rules_crc32c_sw(~crc, buf, len);
}

/* ------------------------------------------------------------------ */
/* Validation                                                         */

static uint64_t
rules_pow10(uint32_t k)
{
	uint64_t p = 1;

	while (k-- != 0)
		p *= 10;
	return p;
}

static int
rules_image_check_header(const unsigned char *img, size_t len)
{
	struct rules_ihdr h;
	unsigned int s;

	if (len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, img, sizeof(h));
	if (memcmp(h.magic, RULES_IMG_MAGIC, sizeof(h.magic)) != 0 ||
	    h.version != RULES_IMG_VERSION || h.hdr_size != sizeof(h) ||
	    h.total_size != len)
		return -EBADMSG;
	for (s = 0; s < RULES_SEC__COUNT; s++) {
		if (h.sec[s].off > len || h.sec[s].len > len - h.sec[s].off ||
		    h.sec[s].off % RULES_IMG_ALIGN != 0 ||
		    h.sec[s].off < sizeof(h))
			return -EBADMSG;
	}
	if (h.sec[RULES_SEC_RULES].len != (uint64_t)h.nrules * 16 ||
	    h.sec[RULES_SEC_TARGETS].len != (uint64_t)h.ntargets * 32 ||
	    h.sec[RULES_SEC_TRIE].len != (uint64_t)h.nnodes * 16 ||
	    h.nnodes == 0 || h.nrules == RULES_NO_RULE ||
	    (h.dom_slots & (h.dom_slots - 1)) != 0 ||
	    h.sec[RULES_SEC_DOMAINS].len < (uint64_t)h.dom_slots * 4 ||
	    h.dir_digits > RULES_TRIE_DIR_MAX ||
	    h.sec[RULES_SEC_TRIE_DIR].len !=
	    (h.dir_digits != 0 ? rules_pow10(h.dir_digits) * 4 : 0))
		return -EBADMSG;
	return 0;
}

int
rules_image_validate(const void *buf, size_t len)
{
	unsigned char *copy;
	struct rules_ihdr h;
	uint32_t crc;
	int rc;

	rc = rules_image_check_header(buf, len);
	if (rc != 0)
		return rc;
	memcpy(&h, buf, sizeof(h));
	/* The checksum is computed with its own field zeroed. */
	copy = malloc(sizeof(h));
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, buf, sizeof(h));
	memset(copy + offsetof(struct rules_ihdr, checksum), 0, 4);
	crc = rules_crc32c(0, copy, sizeof(h));
	free(copy);
	crc = rules_crc32c(crc, (const unsigned char *)buf + sizeof(h),
			   len - sizeof(h));
	return crc == h.checksum ? 0 : -EBADMSG;
}

static bool
rules_rule_ok(const struct rules_db *db, uint32_t r)
{
	return r == RULES_NO_RULE || r < db->nrules;
}

/* Is @p r none, or a rule of @p kind? (Called once r is known valid.) */
static bool
rules_first_is(const struct rules_db *db, uint32_t r, uint8_t kind)
{
	return r == RULES_NO_RULE || db->rules[r].kind == kind;
}

/* Every offset and index a worker may follow stays inside the image. */
static int
rules_db_check_deep(const struct rules_db *db)
{
	uint32_t i, k;

	/*
	 * The first rule of each kind, where the matcher starts an engine:
	 * of that kind, and a domain one only with a domain table (the
	 * regex database is checked against min_regex when it is loaded).
	 */
	if (!rules_rule_ok(db, db->best_default) ||
	    !rules_rule_ok(db, db->min_regex) ||
	    !rules_rule_ok(db, db->min_domain) ||
	    (db->min_domain == RULES_NO_RULE) != (db->dom_slots == NULL) ||
	    !rules_first_is(db, db->best_default, RULES_KIND_DEFAULT) ||
	    !rules_first_is(db, db->min_regex, RULES_KIND_REGEX) ||
	    !rules_first_is(db, db->min_domain, RULES_KIND_DOMAIN))
		return -EBADMSG;
	for (i = 0; i < db->nrules; i++) {
		const struct rules_irule *r = &db->rules[i];
		const unsigned char *p;
		uint16_t n, plen;

		if (r->kind >= RULES_KIND__COUNT ||
		    r->action >= RULES_ACTION__COUNT ||
		    (r->tlist_off & 3) != 0 ||  /* rules_tlist() casts it */
		    (size_t)r->str_off + 4 > db->strings_len ||
		    (size_t)r->tlist_off + 4 > db->tlists_len)
			return -EBADMSG;
		p = db->strings + r->str_off;
		if ((size_t)r->str_off + 4 + p[0] > db->strings_len)
			return -EBADMSG;
		p += 1 + p[0];
		if ((size_t)(p - db->strings) + 3 + p[0] > db->strings_len)
			return -EBADMSG;
		p += 1 + p[0];
		memcpy(&plen, p, 2);
		if ((size_t)(p - db->strings) + 2 + plen > db->strings_len)
			return -EBADMSG;
		memcpy(&n, db->tlists + r->tlist_off, 2);
		if (n > RULES_TARGETS_MAX ||
		    (size_t)r->tlist_off + 4 + (size_t)n * 8 > db->tlists_len)
			return -EBADMSG;
		/* What an import admits (rules_set.c): a reject rule's code
		 * is 400-699 and it has no targets; no other rule has a
		 * code. A 200 or a 3xx from a reject rule would answer an
		 * INVITE as no stateless router may. */
		if (r->action == RULES_ACTION_REJECT ?
		    r->code < 400 || r->code > 699 || n != 0 : r->code != 0)
			return -EBADMSG;
		for (k = 0; k < n; k++) {
			struct rules_ient e;

			memcpy(&e, db->tlists + r->tlist_off + 4 + k * 8, 8);
			if (e.target >= db->ntargets || e.weight == 0)
				return -EBADMSG;
		}
	}
	/* Targets: IPv4 or IPv6, a port (what a worker sends to and what
	 * a Contact names must agree; port 0 is no port). */
	for (i = 0; i < db->ntargets; i++) {
		const struct rules_itarget *t = &db->targets[i];

		if ((t->af != RULES_AF_INET && t->af != RULES_AF_INET6) ||
		    t->port == 0)
			return -EBADMSG;
	}
	for (i = 0; i < db->nnodes; i++) {
		const struct rules_inode *n = &db->nodes[i];
		uint32_t nc = rules_popcount16(n->bits);

		if (n->bits >> (RULES_TRIE_END + 1) != 0 ||
		    n->nskip > RULES_TRIE_SKIP_MAX ||
		    !rules_rule_ok(db, n->best) ||
		    (nc != 0 && (n->first <= i ||
				 (uint64_t)n->first + nc > db->nnodes)))
			return -EBADMSG;
	}
	/* Directory: a node, and a key position no further than the
	 * digits it was looked up by (so the walk stays inside the key). */
	for (i = 0; db->dir != NULL && i < rules_pow10(db->dir_digits); i++)
		if ((db->dir[i] >> 4) >= db->nnodes ||
		    (db->dir[i] & 15) > db->dir_digits)
			return -EBADMSG;
	for (i = 0, k = 0; i <= db->dom_mask && db->dom_slots != NULL; i++) {
		struct rules_idom e;
		uint32_t off = db->dom_slots[i];

		if (off == UINT32_MAX) {
			k++;            /* probing stops at an empty slot */
			continue;
		}
		if ((off & 3) != 0 || (size_t)off + sizeof(e) > db->dom_len)
			return -EBADMSG;
		memcpy(&e, db->dom + off, sizeof(e));
		if (e.len > RULES_HOST_MAX ||
		    (size_t)off + sizeof(e) + e.len > db->dom_len ||
		    !rules_rule_ok(db, e.best_exact) ||
		    !rules_rule_ok(db, e.best_wild))
			return -EBADMSG;
	}
	if (db->dom_slots != NULL && k == 0)
		return -EBADMSG;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Loading                                                            */

static void
rules_img_free(struct rules_db *db)
{
	if (db->owns_img)
		free(db->img);
}

static void
rules_db_free_regex(struct rules_db *db)
{
	uint32_t i;

	for (i = 0; i < 1 + RULES_RE_BUCKETS; i++)
		if (db->hs_sub[i] != NULL)
			hs_free_database(db->hs_sub[i]);
	if (db->hs != NULL)
		hs_free_database(db->hs);
}

/* The regex section's table (rules_priv.h), then each database in it. */
static int
rules_db_load_regex(struct rules_db *db)
{
	const struct rules_isec *sec = &db->hdr->sec[RULES_SEC_HSDB];
	const unsigned char *p = db->img + sec->off;
	hs_database_t **to;
	struct rules_isec e;
	uint32_t ndb, i;
	hs_error_t he;

	/* A regex database exactly when there are regex rules. */
	if ((sec->len == 0) != (db->min_regex == RULES_NO_RULE) ||
	    (sec->len == 0) != (db->hdr->counts[RULES_KIND_REGEX] == 0))
		return -EBADMSG;
	if (sec->len == 0)
		return 0;
	if (sec->len < 8)
		return -EBADMSG;
	memcpy(&ndb, p, 4);
	if ((ndb != 1 && ndb != RULES_RE_NDB) ||
	    sec->len < 8 + (uint64_t)ndb * sizeof(e))
		return -EBADMSG;
	for (i = 0; i < ndb; i++) {
		memcpy(&e, p + 8 + i * sizeof(e), sizeof(e));
		if (e.off < 8 + (uint64_t)ndb * sizeof(e) || e.off > sec->len ||
		    e.len > sec->len - e.off || (e.off & 7) != 0 ||
		    (i == 0 && e.len == 0))
			return -EBADMSG;
		if (e.len == 0)
			continue;
		to = i == 0 ? &db->hs : &db->hs_sub[i - 1];
		he = hs_deserialize_database((const char *)p + e.off, e.len, to);
		if (he != HS_SUCCESS)
			return he == HS_NOMEM ? -ENOMEM : -EIO;
	}
	db->hs_split = ndb == RULES_RE_NDB;
	return 0;
}

/* Exposed for the tests: match as if the image had one regex database,
 * or no trie directory. */
void rules_db_regex_split_set(struct rules_db *db, bool on);
bool rules_db_regex_split(const struct rules_db *db);
void rules_db_trie_dir_set(struct rules_db *db, bool on);
uint32_t rules_db_trie_dir_digits(const struct rules_db *db);

void
rules_db_trie_dir_set(struct rules_db *db, bool on)
{
	db->dir = on ? db->dir_img : NULL;
}

uint32_t
rules_db_trie_dir_digits(const struct rules_db *db)
{
	return db->dir_img != NULL ? db->dir_digits : 0;
}

void
rules_db_regex_split_set(struct rules_db *db, bool on)
{
	db->hs_split = on;
}

bool
rules_db_regex_split(const struct rules_db *db)
{
	return db->hs_split;
}

static int
rules_db_open(const void *buf, size_t len, bool copy, struct rules_db **out)
{
	const struct rules_ihdr *h;
	struct rules_db *db;
	int rc;

	rc = rules_image_validate(buf, len);
	if (rc != 0)
		return rc;
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return -ENOMEM;
	if (copy) {
		db->img = aligned_alloc(RULES_IMG_ALIGN,
					(len + RULES_IMG_ALIGN - 1) &
					~(size_t)(RULES_IMG_ALIGN - 1));
		if (db->img == NULL) {
			rc = -ENOMEM;
			goto out_free_db;
		}
		memcpy(db->img, buf, len);
		db->owns_img = true;
	} else {
		db->img = (unsigned char *)(uintptr_t)buf;     /* never written */
	}
	db->len = len;
	h = (const struct rules_ihdr *)(const void *)db->img;
	db->hdr = h;
	db->rules = (const void *)(db->img + h->sec[RULES_SEC_RULES].off);
	db->targets = (const void *)(db->img + h->sec[RULES_SEC_TARGETS].off);
	db->tlists = db->img + h->sec[RULES_SEC_TLISTS].off;
	db->tlists_len = h->sec[RULES_SEC_TLISTS].len;
	db->strings = db->img + h->sec[RULES_SEC_STRINGS].off;
	db->strings_len = h->sec[RULES_SEC_STRINGS].len;
	db->nodes = (const void *)(db->img + h->sec[RULES_SEC_TRIE].off);
	if (h->dir_digits != 0) {
		db->dir = (const void *)(db->img + h->sec[RULES_SEC_TRIE_DIR].off);
		db->dir_img = db->dir;
		db->dir_digits = h->dir_digits;
	}
	if (h->dom_slots != 0) {
		db->dom_slots = (const void *)(db->img +
					       h->sec[RULES_SEC_DOMAINS].off);
		db->dom = db->img + h->sec[RULES_SEC_DOMAINS].off +
			  (size_t)h->dom_slots * 4;
		db->dom_len = h->sec[RULES_SEC_DOMAINS].len -
			      (size_t)h->dom_slots * 4;
		db->dom_mask = h->dom_slots - 1;
	}
	db->nrules = h->nrules;
	db->ntargets = h->ntargets;
	db->nnodes = h->nnodes;
	db->best_default = h->best_default;
	db->min_regex = h->min_regex;
	db->min_domain = h->min_domain;
	rc = rules_db_check_deep(db);
	if (rc != 0)
		goto out_free_img;
	rc = rules_db_load_regex(db);
	if (rc != 0)
		goto out_free_hs;
	*out = db;
	return 0;

out_free_hs:
	rules_db_free_regex(db);
out_free_img:
	rules_img_free(db);
out_free_db:
	free(db);
	return rc;
}

int
rules_db_load(const void *buf, size_t len, struct rules_db **out)
{
	return rules_db_open(buf, len, true, out);
}

int
rules_db_load_inplace(const void *buf, size_t len, struct rules_db **out)
{
	if (((uintptr_t)buf & 7) != 0)
		return -EINVAL;
	return rules_db_open(buf, len, false, out);
}

void
rules_db_free(struct rules_db *db)
{
	if (db == NULL)
		return;
	rules_db_free_regex(db);
	rules_img_free(db);
	free(db);
}

uint32_t
rules_db_rule_count(const struct rules_db *db)
{
	return db->nrules;
}

uint32_t
rules_db_target_count(const struct rules_db *db)
{
	return db->ntargets;
}

uint32_t
rules_db_checksum(const struct rules_db *db)
{
	return db->hdr->checksum;
}

uint32_t
rules_db_find(const struct rules_db *db, struct span id)
{
	uint32_t i;

	for (i = 0; i < db->nrules; i++) {
		struct span rid, pre, pat;

		rules_db_strings(db, i, &rid, &pre, &pat);
		if (span_eq(rid, id))
			return i;
	}
	return RULES_NO_RULE;
}

void
rules_db_sizes(const struct rules_db *db, struct rules_db_sizes *out)
{
	const struct rules_ihdr *h = db->hdr;

	out->total = db->len;
	out->trie = h->sec[RULES_SEC_TRIE].len + h->sec[RULES_SEC_TRIE_DIR].len;
	out->domains = h->sec[RULES_SEC_DOMAINS].len;
	out->regex = h->sec[RULES_SEC_HSDB].len;
	out->rules = h->sec[RULES_SEC_RULES].len;
	out->targets = h->sec[RULES_SEC_TARGETS].len +
		       h->sec[RULES_SEC_TLISTS].len;
	out->strings = h->sec[RULES_SEC_STRINGS].len;
	out->trie_nodes = db->nnodes;
}

/* ------------------------------------------------------------------ */
/* Scratch                                                            */

int
rules_scratch_new(const struct rules_db *db, struct rules_scratch **out)
{
	struct rules_scratch *scr;
	uint32_t i;

	scr = calloc(1, sizeof(*scr));
	if (scr == NULL)
		return -ENOMEM;
	/* One scratch grown to fit every regex database of the image. */
	if (db->hs != NULL && hs_alloc_scratch(db->hs, &scr->hs) != HS_SUCCESS)
		goto out_free_scr;
	for (i = 0; i < 1 + RULES_RE_BUCKETS; i++)
		if (db->hs_sub[i] != NULL &&
		    hs_alloc_scratch(db->hs_sub[i], &scr->hs) != HS_SUCCESS)
			goto out_free_scr;
	*out = scr;
	return 0;

out_free_scr:
	if (scr->hs != NULL)
		hs_free_scratch(scr->hs);
	free(scr);
	return -ENOMEM;
}

void
rules_scratch_free(struct rules_scratch *scr)
{
	if (scr == NULL)
		return;
	if (scr->hs != NULL)
		hs_free_scratch(scr->hs);
	free(scr);
}

uint32_t
rules_up_bitmap(const struct rules_db *db, const struct addr_port *down,
		uint32_t n, uint64_t *up)
{
	uint32_t nt = rules_db_target_count(db), t, i, ndown = 0;
	struct rules_dest d;

	memset(up, 0xff, (size_t)(nt + 63) / 64 * sizeof(*up));
	if (nt % 64 != 0)
		up[nt / 64] = (1ull << (nt % 64)) - 1;  /* no bits past nt */
	for (t = 0; t < nt && n != 0; t++) {
		if (rules_db_target(db, t, &d) != 0)
			continue;
		for (i = 0; i < n; i++) {
			if (down[i].port == d.port && down[i].af == d.af &&
			    memcmp(down[i].addr, d.addr,
				   d.af == RULES_AF_INET6 ? 16 : 4) == 0) {
				up[t / 64] &= ~(1ull << (t % 64));
				ndown++;
				break;
			}
		}
	}
	return ndown;
}
