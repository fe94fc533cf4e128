/* SPDX-License-Identifier: MIT */
/*
 * schema.c - encode, decode and validate the values of SCHEMA.md.
 *
 * Pure functions over caller buffers: no LMDB, no allocation, no globals
 * beyond constant tables. Every decoder checks the layout version first,
 * then every length against the buffer, so a reader never trusts a value
 * it did not validate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "schema.h"

/* Layout version of each value type (first byte of the value). */
#define SCHEMA_V_META_SCHEMA    1u
#define SCHEMA_V_META_GEN       1u
#define SCHEMA_V_IMPORT         1u
#define SCHEMA_V_NAMES          1u
#define SCHEMA_V_RULE           1u
#define SCHEMA_V_TARGET         1u
#define SCHEMA_V_ART            1u
#define SCHEMA_V_GENINFO        1u
#define SCHEMA_V_REG            1u
#define SCHEMA_V_SETTING        1u

#define SCHEMA_RULE_FIXED       20u     /* bytes before the pattern */
#define SCHEMA_TARGET_FIXED     7u      /* bytes before the host */
#define SCHEMA_CONTACT_FIXED    44u     /* bytes before the strings */

/* Little-endian writers and readers over unaligned bytes. */
static inline void
schema_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
schema_put_le32(uint8_t *p, uint32_t v)
{
	schema_put_le16(p, (uint16_t)v);
	schema_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void
schema_put_le64(uint8_t *p, uint64_t v)
{
	schema_put_le32(p, (uint32_t)v);
	schema_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t
schema_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
schema_get_le32(const uint8_t *p)
{
	return (uint32_t)schema_get_le16(p) |
	       (uint32_t)schema_get_le16(p + 2) << 16;
}

static inline uint64_t
schema_get_le64(const uint8_t *p)
{
	return (uint64_t)schema_get_le32(p) |
	       (uint64_t)schema_get_le32(p + 4) << 32;
}

/* Check the version byte; distinguishes "unknown" from "garbage". */
static int
schema_check_version(const uint8_t *p, size_t len, uint8_t want)
{
	if (len < 1)
		return -EBADMSG;
	if (p[0] != want)
		return -EPROTONOSUPPORT;
	return 0;
}

const char *
schema_kind_name(unsigned int kind)
{
	switch (kind) {
#define X(sym, val, name) case (val): return (name);
	SCHEMA_KIND_MAP(X)
#undef X
	}
	return NULL;
}

const char *
schema_action_name(unsigned int action)
{
	switch (action) {
#define X(sym, val, name) case (val): return (name);
	SCHEMA_ACTION_MAP(X)
#undef X
	}
	return NULL;
}

int
schema_kind_parse(struct span s)
{
#define X(sym, val, name)                                               \
	if (span_eq(s, SPAN_LIT(name)))                                 \
		return (val);
	SCHEMA_KIND_MAP(X)
#undef X
	return -EINVAL;
}

int
schema_action_parse(struct span s)
{
#define X(sym, val, name)                                               \
	if (span_eq(s, SPAN_LIT(name)))                                 \
		return (val);
	SCHEMA_ACTION_MAP(X)
#undef X
	return -EINVAL;
}

/*
 * CRC32C, slicing-by-8 over a table built on first use. The table is
 * derived data, identical in every thread, so a racing double build is
 * harmless; it is written before the flag with release order.
 */
static uint32_t schema_crc_tab[8][256];
static int schema_crc_ready;

static void
schema_crc32c_init(void)
{
	uint32_t c;
	unsigned int i, j;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		schema_crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = schema_crc_tab[0][i];
		for (j = 1; j < 8; j++) {
			c = schema_crc_tab[0][c & 0xff] ^ (c >> 8);
			schema_crc_tab[j][i] = c;
		}
	}
	__atomic_store_n(&schema_crc_ready, 1, __ATOMIC_RELEASE);
}

uint32_t
schema_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	uint32_t lo, hi;

	if (!__atomic_load_n(&schema_crc_ready, __ATOMIC_ACQUIRE))
		schema_crc32c_init();

	while (len >= 8) {
		lo = schema_get_le32(p) ^ c;
		hi = schema_get_le32(p + 4);
		c = schema_crc_tab[7][lo & 0xff] ^
		    schema_crc_tab[6][(lo >> 8) & 0xff] ^
		    schema_crc_tab[5][(lo >> 16) & 0xff] ^
		    schema_crc_tab[4][lo >> 24] ^
		    schema_crc_tab[3][hi & 0xff] ^
		    schema_crc_tab[2][(hi >> 8) & 0xff] ^
		    schema_crc_tab[1][(hi >> 16) & 0xff] ^
		    schema_crc_tab[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len > 0) {
		c = schema_crc_tab[0][(c ^ *p) & 0xff] ^ (c >> 8);
		p++;
		len--;
	}
	return ~c;
}

/* meta["schema"]: ver, pad[3], magic[8], version u32, created_us u64. */
int
schema_meta_schema_encode(const struct schema_meta_schema *m, void *buf,
			  size_t cap, size_t *len)
{
	uint8_t *p = buf;

	if (cap < SCHEMA_META_SCHEMA_LEN)
		return -ENOSPC;
	memset(p, 0, SCHEMA_META_SCHEMA_LEN);
	p[0] = SCHEMA_V_META_SCHEMA;
	memcpy(p + 4, SCHEMA_MAGIC, SCHEMA_MAGIC_LEN);
	schema_put_le32(p + 12, m->version);
	schema_put_le64(p + 16, m->created_us);
	*len = SCHEMA_META_SCHEMA_LEN;
	return 0;
}

int
schema_meta_schema_decode(struct schema_meta_schema *m, const void *buf,
			  size_t len)
{
	const uint8_t *p = buf;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_META_SCHEMA);
	if (rc != 0)
		return rc;
	if (len != SCHEMA_META_SCHEMA_LEN ||
	    memcmp(p + 4, SCHEMA_MAGIC, SCHEMA_MAGIC_LEN) != 0)
		return -EBADMSG;
	m->version = schema_get_le32(p + 12);
	m->created_us = schema_get_le64(p + 16);
	return 0;
}

/* meta["generation"]: ver, pad[7], generation, committed_us, nrules. */
int
schema_meta_gen_encode(const struct schema_meta_gen *g, void *buf,
		       size_t cap, size_t *len)
{
	uint8_t *p = buf;

	if (cap < SCHEMA_META_GEN_LEN)
		return -ENOSPC;
	memset(p, 0, 8);
	p[0] = SCHEMA_V_META_GEN;
	schema_put_le64(p + 8, g->generation);
	schema_put_le64(p + 16, g->committed_us);
	schema_put_le64(p + 24, g->nrules);
	*len = SCHEMA_META_GEN_LEN;
	return 0;
}

int
schema_meta_gen_decode(struct schema_meta_gen *g, const void *buf,
		       size_t len)
{
	const uint8_t *p = buf;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_META_GEN);
	if (rc != 0)
		return rc;
	if (len != SCHEMA_META_GEN_LEN)
		return -EBADMSG;
	g->generation = schema_get_le64(p + 8);
	g->committed_us = schema_get_le64(p + 16);
	g->nrules = schema_get_le64(p + 24);
	return 0;
}

/*
 * meta["last_import"]: ver, mode, pad[6], generation, finished_us,
 * duration_us, rows, added, removed, changed, unchanged (u32 each),
 * by_kind[SCHEMA_KIND__COUNT] (u32 each).
 */
int
schema_import_summary_encode(const struct schema_import_summary *s,
			     void *buf, size_t cap, size_t *len)
{
	uint8_t *p = buf;
	unsigned int i;

	if (cap < SCHEMA_IMPORT_SUMMARY_LEN)
		return -ENOSPC;
	if (s->mode < SCHEMA_IMPORT_REPLACE || s->mode > SCHEMA_IMPORT_RESOLVE)
		return -EINVAL;
	memset(p, 0, 8);
	p[0] = SCHEMA_V_IMPORT;
	p[1] = s->mode;
	schema_put_le64(p + 8, s->generation);
	schema_put_le64(p + 16, s->finished_us);
	schema_put_le64(p + 24, s->duration_us);
	schema_put_le64(p + 32, s->rows);
	schema_put_le32(p + 40, s->added);
	schema_put_le32(p + 44, s->removed);
	schema_put_le32(p + 48, s->changed);
	schema_put_le32(p + 52, s->unchanged);
	for (i = 0; i < SCHEMA_KIND__COUNT; i++)
		schema_put_le32(p + 56 + 4 * i, s->by_kind[i]);
	*len = SCHEMA_IMPORT_SUMMARY_LEN;
	return 0;
}

/*
 * meta["names"]: version, pad[3], count (u32); then per entry the name
 * length N (u8), the address count A (u8), N name bytes, and A times a
 * family (u8: 4 or 6) and 16 address bytes.
 */
int
schema_names_hdr_encode(uint32_t count, void *buf, size_t cap)
{
	uint8_t *p = buf;

	if (cap < SCHEMA_NAMES_HDR_LEN)
		return -ENOSPC;
	memset(p, 0, SCHEMA_NAMES_HDR_LEN);
	p[0] = SCHEMA_V_NAMES;
	schema_put_le32(p + 4, count);
	return 0;
}

int
schema_name_rec_encode(const struct schema_name_rec *r, void *buf,
		       size_t cap, size_t *len)
{
	size_t need = 2 + (size_t)r->name.len + 17u * r->naddr;
	uint8_t *p = buf;
	unsigned int i;

	if (r->name.len == 0 || r->name.len > SCHEMA_NAME_MAX ||
	    r->naddr == 0 || r->naddr > SCHEMA_NAME_ADDRS_MAX)
		return -EINVAL;
	for (i = 0; i < r->naddr; i++)
		if (r->af[i] != 4 && r->af[i] != 6)
			return -EINVAL;
	if (cap < need)
		return -ENOSPC;
	p[0] = (uint8_t)r->name.len;
	p[1] = r->naddr;
	memcpy(p + 2, r->name.ptr, r->name.len);
	p += 2 + r->name.len;
	for (i = 0; i < r->naddr; i++, p += 17) {
		p[0] = r->af[i];
		memcpy(p + 1, r->addr[i], 16);
	}
	*len = need;
	return 0;
}

/* One pass over the entries: checks them, and with @p fn hands them out. */
static int
schema_names_walk(const uint8_t *p, size_t len, schema_name_fn *fn,
		  void *arg)
{
	struct schema_name_rec r;
	uint32_t count = schema_get_le32(p + 4), k;
	size_t off = SCHEMA_NAMES_HDR_LEN;
	unsigned int i;
	int rc;

	for (k = 0; k < count; k++) {
		if (len - off < 2)
			return -EBADMSG;
		memset(&r, 0, sizeof(r));
		r.name = span_make((const char *)p + off + 2, p[off]);
		r.naddr = p[off + 1];
		if (r.name.len == 0 || r.name.len > SCHEMA_NAME_MAX ||
		    r.naddr == 0 ||
		    r.naddr > SCHEMA_NAME_ADDRS_MAX ||
		    len - off - 2 < r.name.len + 17u * r.naddr)
			return -EBADMSG;
		off += 2 + r.name.len;
		for (i = 0; i < r.naddr; i++, off += 17) {
			r.af[i] = p[off];
			if (r.af[i] != 4 && r.af[i] != 6)
				return -EBADMSG;
			memcpy(r.addr[i], p + off + 1, 16);
		}
		if (fn != NULL) {
			rc = fn(arg, &r);
			if (rc != 0)
				return rc;
		}
	}
	return off == len ? 0 : -EBADMSG;
}

int
schema_names_decode(const void *buf, size_t len, schema_name_fn *fn,
		    void *arg)
{
	const uint8_t *p = buf;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_NAMES);
	if (rc != 0)
		return rc;
	if (len < SCHEMA_NAMES_HDR_LEN)
		return -EBADMSG;
	rc = schema_names_walk(p, len, NULL, NULL);
	return rc != 0 ? rc : schema_names_walk(p, len, fn, arg);
}

int
schema_import_summary_decode(struct schema_import_summary *s,
			     const void *buf, size_t len)
{
	const uint8_t *p = buf;
	unsigned int i;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_IMPORT);
	if (rc != 0)
		return rc;
	if (len != SCHEMA_IMPORT_SUMMARY_LEN || p[1] < SCHEMA_IMPORT_REPLACE ||
	    p[1] > SCHEMA_IMPORT_RESOLVE)
		return -EBADMSG;
	s->mode = p[1];
	s->generation = schema_get_le64(p + 8);
	s->finished_us = schema_get_le64(p + 16);
	s->duration_us = schema_get_le64(p + 24);
	s->rows = schema_get_le64(p + 32);
	s->added = schema_get_le32(p + 40);
	s->removed = schema_get_le32(p + 44);
	s->changed = schema_get_le32(p + 48);
	s->unchanged = schema_get_le32(p + 52);
	for (i = 0; i < SCHEMA_KIND__COUNT; i++)
		s->by_kind[i] = schema_get_le32(p + 56 + 4 * i);
	return 0;
}

bool
schema_rule_is_valid(const struct schema_rule *r)
{
	unsigned int i;

	if (schema_kind_name(r->kind) == NULL ||
	    schema_action_name(r->action) == NULL)
		return false;
	if (r->pattern.len > SCHEMA_PATTERN_MAX ||
	    r->prepend.len > SCHEMA_PREPEND_MAX ||
	    r->ntargets > SCHEMA_RULE_MAX_TARGETS)
		return false;
	if (r->kind == SCHEMA_KIND_DEFAULT ? r->pattern.len != 0 :
	    r->pattern.len == 0)
		return false;
	if (r->action == SCHEMA_ACTION_REJECT) {
		if (r->code < 400 || r->code > 699 || r->ntargets != 0)
			return false;
	} else if (r->ntargets == 0 || r->code != 0) {
		return false;
	}
	for (i = 0; i < r->ntargets; i++) {
		if (r->target[i].host.len == 0 ||
		    r->target[i].host.len > SCHEMA_HOST_MAX)
			return false;
	}
	return true;
}

size_t
schema_rule_size(const struct schema_rule *r)
{
	size_t n;
	unsigned int i;

	if (!schema_rule_is_valid(r))
		return 0;
	n = SCHEMA_RULE_FIXED + r->pattern.len + r->prepend.len;
	for (i = 0; i < r->ntargets; i++)
		n += SCHEMA_TARGET_FIXED + r->target[i].host.len;
	return n;
}

/*
 * rules[id]: ver, kind, action, ntargets, rank u32, code u16, strip u16,
 * pattern_len u16, prepend_len u16, pad[4], pattern, prepend, then per
 * target: port u16, priority u16, weight u16, host_len u8, host.
 */
int
schema_rule_encode(const struct schema_rule *r, void *buf, size_t cap,
		   size_t *len)
{
	uint8_t *p = buf;
	size_t n = schema_rule_size(r);
	unsigned int i;

	if (n == 0)
		return -EINVAL;
	if (n > cap)
		return -ENOSPC;
	p[0] = SCHEMA_V_RULE;
	p[1] = r->kind;
	p[2] = r->action;
	p[3] = (uint8_t)r->ntargets;
	schema_put_le32(p + 4, r->rank);
	schema_put_le16(p + 8, r->code);
	schema_put_le16(p + 10, r->strip);
	schema_put_le16(p + 12, (uint16_t)r->pattern.len);
	schema_put_le16(p + 14, (uint16_t)r->prepend.len);
	memset(p + 16, 0, 4);
	p += SCHEMA_RULE_FIXED;
	if (r->pattern.len != 0)
		memcpy(p, r->pattern.ptr, r->pattern.len);
	p += r->pattern.len;
	if (r->prepend.len != 0)
		memcpy(p, r->prepend.ptr, r->prepend.len);
	p += r->prepend.len;
	for (i = 0; i < r->ntargets; i++) {
		const struct schema_target *t = &r->target[i];

		schema_put_le16(p, t->port);
		schema_put_le16(p + 2, t->priority);
		schema_put_le16(p + 4, t->weight);
		p[6] = (uint8_t)t->host.len;
		memcpy(p + SCHEMA_TARGET_FIXED, t->host.ptr, t->host.len);
		p += SCHEMA_TARGET_FIXED + t->host.len;
	}
	*len = n;
	return 0;
}

int
schema_rule_decode(struct schema_rule *r, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	const uint8_t *end = p + len;
	uint16_t plen, xlen;
	unsigned int i;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_RULE);
	if (rc != 0)
		return rc;
	if (len < SCHEMA_RULE_FIXED)
		return -EBADMSG;
	r->id = span_make(NULL, 0);
	r->kind = p[1];
	r->action = p[2];
	r->ntargets = p[3];
	r->rank = schema_get_le32(p + 4);
	r->code = schema_get_le16(p + 8);
	r->strip = schema_get_le16(p + 10);
	plen = schema_get_le16(p + 12);
	xlen = schema_get_le16(p + 14);
	p += SCHEMA_RULE_FIXED;
	if (r->ntargets > SCHEMA_RULE_MAX_TARGETS ||
	    (size_t)(end - p) < (size_t)plen + xlen)
		return -EBADMSG;
	r->pattern = span_make((const char *)p, plen);
	p += plen;
	r->prepend = span_make((const char *)p, xlen);
	p += xlen;
	for (i = 0; i < r->ntargets; i++) {
		struct schema_target *t = &r->target[i];

		if (end - p < (ptrdiff_t)SCHEMA_TARGET_FIXED)
			return -EBADMSG;
		t->port = schema_get_le16(p);
		t->priority = schema_get_le16(p + 2);
		t->weight = schema_get_le16(p + 4);
		if (end - p - SCHEMA_TARGET_FIXED < p[6])
			return -EBADMSG;
		t->host = span_make((const char *)p + SCHEMA_TARGET_FIXED,
				    p[6]);
		p += SCHEMA_TARGET_FIXED + p[6];
	}
	if (p != end || !schema_rule_is_valid(r))
		return -EBADMSG;
	return 0;
}

/* targets[host:port]: ver, family, port u16, refs u32, addr[16], pad[4]. */
int
schema_target_rec_encode(const struct schema_target_rec *t, void *buf,
			 size_t cap, size_t *len)
{
	uint8_t *p = buf;

	if (t->family != 0 && t->family != 4 && t->family != 6)
		return -EINVAL;
	if (cap < SCHEMA_TARGET_REC_LEN)
		return -ENOSPC;
	p[0] = SCHEMA_V_TARGET;
	p[1] = t->family;
	schema_put_le16(p + 2, t->port);
	schema_put_le32(p + 4, t->refs);
	memcpy(p + 8, t->addr, 16);
	memset(p + 24, 0, 4);
	*len = SCHEMA_TARGET_REC_LEN;
	return 0;
}

int
schema_target_rec_decode(struct schema_target_rec *t, const void *buf,
			 size_t len)
{
	const uint8_t *p = buf;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_TARGET);
	if (rc != 0)
		return rc;
	if (len != SCHEMA_TARGET_REC_LEN ||
	    (p[1] != 0 && p[1] != 4 && p[1] != 6))
		return -EBADMSG;
	t->family = p[1];
	t->port = schema_get_le16(p + 2);
	t->refs = schema_get_le32(p + 4);
	memcpy(t->addr, p + 8, 16);
	return 0;
}

void
schema_art_key_encode(uint8_t key[SCHEMA_ART_KEY_LEN], uint64_t gen,
		      uint8_t kind)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		key[i] = (uint8_t)(gen >> (56 - 8 * i));
	key[8] = kind;
}

int
schema_art_key_decode(const void *key, size_t len, uint64_t *gen,
		      uint8_t *kind)
{
	const uint8_t *p = key;
	uint64_t g = 0;
	unsigned int i;

	if (len != SCHEMA_ART_KEY_LEN)
		return -EBADMSG;
	for (i = 0; i < 8; i++)
		g = g << 8 | p[i];
	*gen = g;
	*kind = p[8];
	return 0;
}

/*
 * Artefact header: ver, kind, csum_alg, pad, csum u32, size u64,
 * created_us u64, pad[8].
 */
int
schema_art_hdr_encode(const struct schema_art_hdr *h,
		      uint8_t buf[SCHEMA_ART_HDR_LEN])
{
	if (h->csum_alg != SCHEMA_CSUM_CRC32C)
		return -EINVAL;
	memset(buf, 0, SCHEMA_ART_HDR_LEN);
	buf[0] = SCHEMA_V_ART;
	buf[1] = h->kind;
	buf[2] = h->csum_alg;
	schema_put_le32(buf + 4, h->csum);
	schema_put_le64(buf + 8, h->size);
	schema_put_le64(buf + 16, h->created_us);
	return 0;
}

int
schema_art_hdr_decode(struct schema_art_hdr *h, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_ART);
	if (rc != 0)
		return rc;
	if (len < SCHEMA_ART_HDR_LEN || p[2] != SCHEMA_CSUM_CRC32C)
		return -EBADMSG;
	h->kind = p[1];
	h->csum_alg = p[2];
	h->csum = schema_get_le32(p + 4);
	h->size = schema_get_le64(p + 8);
	h->created_us = schema_get_le64(p + 16);
	if (h->size != len - SCHEMA_ART_HDR_LEN)
		return -EBADMSG;
	return 0;
}

int
schema_art_verify(const void *buf, size_t len, struct span *payload)
{
	const uint8_t *p = buf;
	struct schema_art_hdr h;
	int rc;

	rc = schema_art_hdr_decode(&h, buf, len);
	if (rc != 0)
		return rc;
	if (schema_crc32c(0, p + SCHEMA_ART_HDR_LEN, h.size) != h.csum)
		return -EBADMSG;
	if (payload != NULL)
		*payload = span_make((const char *)p + SCHEMA_ART_HDR_LEN,
				     h.size);
	return 0;
}

/* Geninfo payload: ver, pad[7], nrules u64, by_kind u32[]. */
int
schema_geninfo_encode(const struct schema_geninfo *g, void *buf, size_t cap,
		      size_t *len)
{
	uint8_t *p = buf;
	unsigned int i;

	if (cap < SCHEMA_GENINFO_LEN)
		return -ENOSPC;
	memset(p, 0, 8);
	p[0] = SCHEMA_V_GENINFO;
	schema_put_le64(p + 8, g->nrules);
	for (i = 0; i < SCHEMA_KIND__COUNT; i++)
		schema_put_le32(p + 16 + 4 * i, g->by_kind[i]);
	*len = SCHEMA_GENINFO_LEN;
	return 0;
}

int
schema_geninfo_decode(struct schema_geninfo *g, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	unsigned int i;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_GENINFO);
	if (rc != 0)
		return rc;
	if (len != SCHEMA_GENINFO_LEN)
		return -EBADMSG;
	g->nrules = schema_get_le64(p + 8);
	for (i = 0; i < SCHEMA_KIND__COUNT; i++)
		g->by_kind[i] = schema_get_le32(p + 16 + 4 * i);
	return 0;
}

static bool
schema_contact_is_valid(const struct schema_contact *c)
{
	return (c->src_family == 4 || c->src_family == 6) &&
	       c->transport >= 1 && c->transport <= 3 && c->q <= 1000 &&
	       c->uri.len != 0 && c->uri.len <= UINT16_MAX &&
	       c->call_id.len <= UINT16_MAX && c->path.len <= UINT16_MAX;
}

size_t
schema_reg_size(const struct schema_reg *r)
{
	size_t n = 4;
	unsigned int i;

	if (r->ncontacts > SCHEMA_REG_MAX_CONTACTS)
		return 0;
	for (i = 0; i < r->ncontacts; i++) {
		const struct schema_contact *c = &r->contact[i];

		if (!schema_contact_is_valid(c))
			return 0;
		n += SCHEMA_CONTACT_FIXED + c->uri.len + c->call_id.len +
		     c->path.len;
	}
	return n;
}

/*
 * registrations[AOR]: ver, ncontacts u8, pad[2], then per contact:
 * expires_us u64, cseq u32, q u16, src_family u8, transport u8,
 * src_addr[16], src_port u16, uri_len u16, call_id_len u16, path_len u16,
 * pad[4], uri, call_id, path.
 */
int
schema_reg_encode(const struct schema_reg *r, void *buf, size_t cap,
		  size_t *len)
{
	uint8_t *p = buf;
	size_t n = schema_reg_size(r);
	unsigned int i;

	if (n == 0)
		return -EINVAL;
	if (n > cap)
		return -ENOSPC;
	p[0] = SCHEMA_V_REG;
	p[1] = (uint8_t)r->ncontacts;
	p[2] = 0;
	p[3] = 0;
	p += 4;
	for (i = 0; i < r->ncontacts; i++) {
		const struct schema_contact *c = &r->contact[i];

		schema_put_le64(p, c->expires_us);
		schema_put_le32(p + 8, c->cseq);
		schema_put_le16(p + 12, c->q);
		p[14] = c->src_family;
		p[15] = c->transport;
		memcpy(p + 16, c->src_addr, 16);
		schema_put_le16(p + 32, c->src_port);
		schema_put_le16(p + 34, (uint16_t)c->uri.len);
		schema_put_le16(p + 36, (uint16_t)c->call_id.len);
		schema_put_le16(p + 38, (uint16_t)c->path.len);
		memset(p + 40, 0, 4);
		p += SCHEMA_CONTACT_FIXED;
		memcpy(p, c->uri.ptr, c->uri.len);
		p += c->uri.len;
		if (c->call_id.len != 0)
			memcpy(p, c->call_id.ptr, c->call_id.len);
		p += c->call_id.len;
		if (c->path.len != 0)
			memcpy(p, c->path.ptr, c->path.len);
		p += c->path.len;
	}
	*len = n;
	return 0;
}

int
schema_reg_decode(struct schema_reg *r, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	const uint8_t *end = p + len;
	unsigned int i;
	size_t ulen, clen, plen;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_REG);
	if (rc != 0)
		return rc;
	if (len < 4 || p[1] > SCHEMA_REG_MAX_CONTACTS)
		return -EBADMSG;
	r->ncontacts = p[1];
	p += 4;
	for (i = 0; i < r->ncontacts; i++) {
		struct schema_contact *c = &r->contact[i];

		if (end - p < (ptrdiff_t)SCHEMA_CONTACT_FIXED)
			return -EBADMSG;
		c->expires_us = schema_get_le64(p);
		c->cseq = schema_get_le32(p + 8);
		c->q = schema_get_le16(p + 12);
		c->src_family = p[14];
		c->transport = p[15];
		memcpy(c->src_addr, p + 16, 16);
		c->src_port = schema_get_le16(p + 32);
		ulen = schema_get_le16(p + 34);
		clen = schema_get_le16(p + 36);
		plen = schema_get_le16(p + 38);
		p += SCHEMA_CONTACT_FIXED;
		if ((size_t)(end - p) < ulen + clen + plen)
			return -EBADMSG;
		c->uri = span_make((const char *)p, ulen);
		p += ulen;
		c->call_id = span_make((const char *)p, clen);
		p += clen;
		c->path = span_make((const char *)p, plen);
		p += plen;
		if (!schema_contact_is_valid(c))
			return -EBADMSG;
	}
	if (p != end)
		return -EBADMSG;
	return 0;
}

/* settings[name]: ver, type, pad[6], then u64 (U64, BOOL) or bytes (STR). */
int
schema_setting_encode(const struct schema_setting *s, void *buf, size_t cap,
		      size_t *len)
{
	uint8_t *p = buf;
	size_t n;

	switch (s->type) {
	case SCHEMA_SETTING_U64:
	case SCHEMA_SETTING_BOOL:
		if (s->type == SCHEMA_SETTING_BOOL && s->u > 1)
			return -EINVAL;
		n = 16;
		break;
	case SCHEMA_SETTING_STR:
		n = 8 + (size_t)s->str.len;
		break;
	default:
		return -EINVAL;
	}
	if (n > cap)
		return -ENOSPC;
	memset(p, 0, 8);
	p[0] = SCHEMA_V_SETTING;
	p[1] = s->type;
	if (s->type == SCHEMA_SETTING_STR) {
		if (s->str.len != 0)
			memcpy(p + 8, s->str.ptr, s->str.len);
	} else {
		schema_put_le64(p + 8, s->u);
	}
	*len = n;
	return 0;
}

int
schema_setting_decode(struct schema_setting *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int rc;

	rc = schema_check_version(p, len, SCHEMA_V_SETTING);
	if (rc != 0)
		return rc;
	if (len < 8)
		return -EBADMSG;
	s->type = p[1];
	s->u = 0;
	s->str = span_make(NULL, 0);
	switch (s->type) {
	case SCHEMA_SETTING_U64:
	case SCHEMA_SETTING_BOOL:
		if (len != 16)
			return -EBADMSG;
		s->u = schema_get_le64(p + 8);
		if (s->type == SCHEMA_SETTING_BOOL && s->u > 1)
			return -EBADMSG;
		return 0;
	case SCHEMA_SETTING_STR:
		s->str = span_make((const char *)p + 8, len - 8);
		return 0;
	default:
		return -EBADMSG;
	}
}

/* ---- source address policy -------------------------------------------- */

static bool
schema_cidr_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * An IPv4-mapped IPv6 prefix (::ffff:a.b.c.d, length 96 or more) as the
 * IPv4 prefix it names: IPv4 sources arrive as IPv4 and such an address
 * never appears as an IPv6 source (RFC 4291 §2.5.5.2), so as IPv6 the
 * entry would match nothing.
 */
static void
schema_cidr_unmap(struct schema_cidr *c)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};

	if (c->family != 6 || c->len < 96 ||
	    memcmp(c->addr, mapped, sizeof(mapped)) != 0)
		return;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, 12);
	c->family = 4;
	c->len = (uint8_t)(c->len - 96);
}

/* One entry "ADDR[/LEN]" into @p c; NULL, or what is wrong with it. */
static const char *
schema_cidr_entry(const char *t, size_t n, void *one)
{
	struct schema_cidr *c = one;
	char addr[64];
	const char *slash = memchr(t, '/', n), *badlen;
	size_t alen = slash != NULL ? (size_t)(slash - t) : n;
	unsigned int len = 0, max, i, bits;
	size_t k;

	memset(c, 0, sizeof(*c));
	if (alen == 0 || alen >= sizeof(addr))
		return "not an IPv4 or IPv6 address";
	memcpy(addr, t, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = 6;
		max = 128;
	} else {
		return "not an IPv4 or IPv6 address";
	}
	badlen = max == 32 ? "prefix length must be 0-32" :
			     "prefix length must be 0-128";
	if (slash == NULL)
		len = max;
	else if (slash + 1 == t + n || n - alen - 1 > 3)
		return badlen;
	for (k = alen + 1; k < n; k++) {
		if (t[k] < '0' || t[k] > '9')
			return badlen;
		len = len * 10 + (unsigned int)(t[k] - '0');
	}
	if (len > max)
		return badlen;
	c->len = (uint8_t)len;
	for (i = len; i < max; i++) {
		bits = (unsigned int)c->addr[i / 8] >> (7 - i % 8) & 1;
		if (bits != 0)
			return "address has bits set past the prefix length";
	}
	schema_cidr_unmap(c);
	return NULL;
}

/*
 * A list of entries separated by commas and/or whitespace, each parsed by
 * @p entry into @p one (@p size bytes) and copied to @p out[n] (room for
 * @p cap, or NULL); at most @p max entries. Returns the count, or -EINVAL
 * with @p err naming the entry (1-based), its text and what is wrong.
 */
static int
schema_list_parse(struct span text,
		  const char *(*entry)(const char *t, size_t n, void *one),
		  void *one, size_t size, void *out, uint32_t cap,
		  uint32_t max, char *err, size_t errcap)
{
	const char *p = text.ptr, *end = text.ptr + text.len, *t, *why;
	uint32_t n = 0;

	if (errcap != 0)
		err[0] = '\0';
	for (;;) {
		while (p < end && schema_cidr_sep(*p))
			p++;
		if (p == end)
			return (int)n;
		for (t = p; p < end && !schema_cidr_sep(*p); p++)
			;
		why = entry(t, (size_t)(p - t), one);
		if (why == NULL && n == max)
			why = "too many entries (at most 4096)";
		if (why == NULL && out != NULL && n == cap)
			why = "too many entries for the output";
		if (why != NULL) {
			if (errcap != 0)
				snprintf(err, errcap, "entry %u '%.*s': %s",
					 n + 1, (int)(p - t > 60 ? 60 : p - t),
					 t, why);
			return -EINVAL;
		}
		if (out != NULL)
			memcpy((char *)out + (size_t)n * size, one, size);
		n++;
	}
}

_Static_assert(SCHEMA_CIDR_MAX == 4096 && SCHEMA_TARGET_DOWN_MAX == 4096,
	       "the list error message says 4096");


int
schema_cidr_list_parse(struct span text, struct schema_cidr *out,
		       uint32_t cap, char *err, size_t errcap)
{
	struct schema_cidr c;

	return schema_list_parse(text, schema_cidr_entry, &c, sizeof(c),
				 out, cap, SCHEMA_CIDR_MAX, err, errcap);
}

/* One entry "ADDR:PORT" / "[ADDR6]:PORT" into @p t; NULL, or what is wrong. */
static const char *
schema_down_entry(const char *e, size_t n, void *one)
{
	struct span host;

	switch (addr_port_parse(span_make(e, (uint32_t)n), one, &host)) {
	case ADDR_PORT_OK:
		return NULL;
	case ADDR_PORT_NO_PORT:
		return e[0] == '[' && memchr(e, ']', n) == NULL ?
		       "no ']' after the IPv6 address" :
		       "no ':PORT' after the address";
	case ADDR_PORT_V6_UNBRACKETED:
		return "an IPv6 address goes in brackets: [ADDR]:PORT";
	case ADDR_PORT_BAD_ADDR:
		return "not an IP address (host names are not targets)";
	case ADDR_PORT_BAD_PORT:
	default:
		return "port must be 1-65535";
	}
}


int
schema_down_list_parse(struct span text, struct addr_port *out,
		       uint32_t cap, char *err, size_t errcap)
{
	struct addr_port t;

	return schema_list_parse(text, schema_down_entry, &t, sizeof(t),
				 out, cap, SCHEMA_TARGET_DOWN_MAX, err, errcap);
}

int
schema_down_list_new(struct span text, struct addr_port **out, char *err,
		     size_t errcap)
{
	int n = schema_down_list_parse(text, NULL, 0, err, errcap);

	*out = NULL;
	if (n <= 0)
		return n;
	*out = calloc((size_t)n, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	return schema_down_list_parse(text, *out, (uint32_t)n, err, errcap);
}

int
schema_refuse_action_parse(struct span s)
{
	if (span_eq(s, SPAN_LIT("drop")))
		return SCHEMA_REFUSE_DROP;
	if (span_eq(s, SPAN_LIT("403")))
		return SCHEMA_REFUSE_403;
	return -EINVAL;
}

static int
schema_check_cidr_list(struct span v, char *err, size_t errcap)
{
	int rc = schema_cidr_list_parse(v, NULL, 0, err, errcap);

	return rc < 0 ? rc : 0;
}

static int
schema_check_down_list(struct span v, char *err, size_t errcap)
{
	int rc = schema_down_list_parse(v, NULL, 0, err, errcap);

	return rc < 0 ? rc : 0;
}

static int
schema_check_action(struct span v, char *err, size_t errcap)
{
	if (schema_refuse_action_parse(v) >= 0)
		return 0;
	if (errcap != 0)
		snprintf(err, errcap, "'%.*s': must be drop or 403",
			 (int)(v.len > 60 ? 60 : v.len), v.ptr);
	return -EINVAL;
}

/* A secret others cannot guess: 16 bytes at least (32 hex digits are
 * used as the 16-byte key; other text is hashed into one). */
static int
schema_check_secret(struct span v, char *err, size_t errcap)
{
	if (v.len >= 16)
		return 0;
	if (errcap != 0)
		snprintf(err, errcap, "a secret of %u bytes is too easy to "
			 "guess: give 32 hex digits (or at least 16 bytes)",
			 v.len);
	return -EINVAL;
}

static const struct schema_setting_def schema_settings[] = {
	{
		.name = "artefacts.keep", .type = SCHEMA_SETTING_U64,
		.def = 2, .min = 1, .max = SCHEMA_KEEP_MAX,
		.help = "generations whose artefacts are kept (current included)",
	},
	{
		.name = "targets.resolve_interval", .type = SCHEMA_SETTING_U64,
		.def = 60, .min = 0, .max = 86400,
		.help = "seconds between lookups of the target host names of "
			"the rules; a name whose addresses changed makes a new "
			"generation; 0: no background lookups, every change of "
			"the rules looks all names up again",
	},
	{
		.name = "import.max_rows", .type = SCHEMA_SETTING_U64,
		.def = 10000000, .min = 1, .max = 1000000000,
		.help = "rows one import may send; past them the upload is "
			"abandoned (protocol error), nothing committed",
	},
	{
		.name = "import.max_errors", .type = SCHEMA_SETTING_U64,
		.def = 100, .min = 1, .max = 100,
		.help = "errors listed in an import reply, at most 100 (all "
			"are counted)",
	},
	{
		.name = "dataplane.secret", .type = SCHEMA_SETTING_STR,
		.help = "installation secret (32 hex digits, or a passphrase "
			"of at least 16 bytes) keying To-tags, Via branches "
			"and flow hashes; created at random by sipedge-control "
			"when absent; give every router of a cluster the same "
			"value",
		.check = schema_check_secret,
		.secret = true,
	},
	{
		.name = "acl.allow", .type = SCHEMA_SETTING_STR,
		.help = "source addresses whose requests are served (IPv4/IPv6 "
			"prefixes, comma or space separated); empty: every "
			"source not denied",
		.check = schema_check_cidr_list,
	},
	{
		.name = "acl.deny", .type = SCHEMA_SETTING_STR,
		.help = "source addresses whose requests are refused, even if "
			"acl.allow lists them (prefixes as acl.allow)",
		.check = schema_check_cidr_list,
	},
	{
		.name = "acl.action", .type = SCHEMA_SETTING_STR,
		.def_str = "drop",
		.help = "what a request refused by acl.allow/acl.deny gets: "
			"drop (default) or 403",
		.check = schema_check_action,
	},
	{
		.name = "ratelimit.rps", .type = SCHEMA_SETTING_U64,
		.def = 0, .min = 0, .max = 10000000,
		.help = "requests per second accepted from one source address "
			"by each worker lcore; 0: no limit",
	},
	{
		.name = "ratelimit.burst", .type = SCHEMA_SETTING_U64,
		.def = 0, .min = 0, .max = 10000000,
		.help = "requests one source may send back to back above the "
			"rate; 0: one second's worth (ratelimit.rps)",
	},
	{
		.name = "ratelimit.ipv6_prefix", .type = SCHEMA_SETTING_U64,
		.def = 64, .min = 1, .max = 128,
		.help = "prefix length by which IPv6 sources are told apart "
			"for the rate limit: every address of one /64 (the "
			"default) shares one rate; 128: each address its own",
	},
	{
		.name = "ratelimit.action", .type = SCHEMA_SETTING_STR,
		.def_str = "drop",
		.help = "what a request over the rate gets: drop (default) or "
			"403",
		.check = schema_check_action,
	},
	{
		.name = "targets.down", .type = SCHEMA_SETTING_STR,
		.help = "targets taken out of service (ADDR:PORT as in route "
			"CSVs, [IPv6]:PORT; comma or space separated): no "
			"request is forwarded or redirected to them; a rule "
			"with none left up answers 503",
		.check = schema_check_down_list,
	},
	{ .name = NULL },
};

const struct schema_setting_def *
schema_setting_defs(void)
{
	return schema_settings;
}

const struct schema_setting_def *
schema_setting_find(struct span name)
{
	const struct schema_setting_def *d;

	for (d = schema_settings; d->name != NULL; d++) {
		if (span_eq(name, span_make(d->name, strlen(d->name))))
			return d;
	}
	return NULL;
}
