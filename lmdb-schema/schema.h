/* SPDX-License-Identifier: MIT */
/*
 * schema.h - the LMDB contract between sipedge-control and the dataplane.
 *
 * Pure encode/decode functions for every key and value stored in LMDB; the
 * layouts are specified in lmdb-schema/SCHEMA.md, which is authoritative.
 * Nothing here calls LMDB, allocates, or keeps state: encoders write into a
 * caller buffer, decoders fill caller structs whose spans point into the
 * decoded buffer (an LMDB value is valid until its transaction ends).
 *
 * Byte order: every multi-byte integer inside a value is little-endian;
 * integer keys whose sort order matters (generations) are big-endian so
 * that LMDB's memcmp order is numeric order.
 *
 * Errors: -EBADMSG for a malformed or truncated buffer, -EPROTONOSUPPORT
 * for a layout version this reader does not know, -EINVAL for a struct that
 * cannot be encoded, -ENOSPC for an output buffer that is too small.
 */
#ifndef SIPEDGE_LMDB_SCHEMA_SCHEMA_H
#define SIPEDGE_LMDB_SCHEMA_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <addrport.h>
#include <span.h>

/* Version of the whole environment layout, stored in meta["schema"]. */
#define SCHEMA_VERSION          1u
/* First bytes of meta["schema"]: identifies a sipedge environment. */
#define SCHEMA_MAGIC            "SPEDGEDB"
#define SCHEMA_MAGIC_LEN        8u

/* Named databases (mdb_dbi_open names); SCHEMA_DBI__COUNT is maxdbs. */
#define SCHEMA_DBI_MAP(X)                                               \
	X(META,          "meta")                                        \
	X(RULES,         "rules")                                       \
	X(TARGETS,       "targets")                                     \
	X(ARTEFACTS,     "artefacts")                                   \
	X(REGISTRATIONS, "registrations")                               \
	X(SETTINGS,      "settings")

enum schema_dbi {
#define X(sym, name) SCHEMA_DBI_##sym,
	SCHEMA_DBI_MAP(X)
#undef X
	SCHEMA_DBI__COUNT
};

/* Keys of the meta database (ASCII, no NUL). */
#define SCHEMA_META_KEY_SCHEMA          "schema"
#define SCHEMA_META_KEY_GENERATION      "generation"
#define SCHEMA_META_KEY_LAST_IMPORT     "last_import"
#define SCHEMA_META_KEY_NAMES           "names"

/* Rule kinds and actions; values are stored, never renumber. */
#define SCHEMA_KIND_MAP(X)                                              \
	X(EXACT,   1, "exact")                                          \
	X(PREFIX,  2, "prefix")                                         \
	X(REGEX,   3, "regex")                                          \
	X(DOMAIN,  4, "domain")                                         \
	X(DEFAULT, 5, "default")

enum schema_kind {
#define X(sym, val, name) SCHEMA_KIND_##sym = (val),
	SCHEMA_KIND_MAP(X)
#undef X
};
#define SCHEMA_KIND__COUNT      6       /* one past the largest value */

#define SCHEMA_ACTION_MAP(X)                                            \
	X(FORWARD,  1, "forward")                                       \
	X(REDIRECT, 2, "redirect")                                      \
	X(REJECT,   3, "reject")

enum schema_action {
#define X(sym, val, name) SCHEMA_ACTION_##sym = (val),
	SCHEMA_ACTION_MAP(X)
#undef X
};
#define SCHEMA_ACTION__COUNT    4

/* Limits enforced by the codecs (the rules/ module has its own). */
#define SCHEMA_ID_MAX           255u
#define SCHEMA_PATTERN_MAX      4096u
#define SCHEMA_PREPEND_MAX      255u
#define SCHEMA_HOST_MAX         255u
#define SCHEMA_RULE_MAX_TARGETS 64u

/* meta["schema"] */
struct schema_meta_schema {
	uint32_t         version;               /* SCHEMA_VERSION */
	uint64_t         created_us;            /* Unix time, microseconds */
};
#define SCHEMA_META_SCHEMA_LEN  24u

/* meta["generation"]: the generation a reader must load. */
struct schema_meta_gen {
	uint64_t         generation;            /* 0: nothing committed yet */
	uint64_t         committed_us;
	uint64_t         nrules;
};
#define SCHEMA_META_GEN_LEN     32u

/* meta["last_import"]: summary of the last committed import. */
struct schema_import_summary {
	uint64_t         generation;
	uint64_t         finished_us;
	uint64_t         duration_us;
	uint64_t         rows;                  /* data rows read */
	uint8_t          mode;                  /* enum schema_import_mode */
	uint32_t         added;
	uint32_t         removed;
	uint32_t         changed;
	uint32_t         unchanged;
	uint32_t         by_kind[SCHEMA_KIND__COUNT];   /* resulting set */
};
#define SCHEMA_IMPORT_SUMMARY_LEN       (40u + 16u + 4u * SCHEMA_KIND__COUNT)

enum schema_import_mode {
	SCHEMA_IMPORT_REPLACE = 1,
	SCHEMA_IMPORT_MERGE = 2,
	SCHEMA_IMPORT_SINGLE = 3,       /* route add/del */
	SCHEMA_IMPORT_RESOLVE = 4,      /* target host names re-resolved */
};

/* A next hop as written in the rule table: host:port/priority/weight. */
struct schema_target {
	struct span      host;          /* name or IP literal, IPv6 unbracketed */
	uint16_t         port;
	uint16_t         priority;      /* lower is preferred */
	uint16_t         weight;
};

/* rules[id]: one rule. The id is the key; it is not repeated in the value. */
struct schema_rule {
	struct span      id;
	uint8_t          kind;          /* enum schema_kind */
	uint8_t          action;        /* enum schema_action */
	uint16_t         code;          /* reject status, 0 if none */
	uint32_t         rank;
	uint16_t         strip;
	uint16_t         ntargets;
	struct span      pattern;
	struct span      prepend;
	struct schema_target target[SCHEMA_RULE_MAX_TARGETS];
};

/* targets[host ":" port]: one distinct next hop. */
struct schema_target_rec {
	uint8_t          family;        /* 0 name (unresolved), 4, 6 */
	uint16_t         port;
	uint8_t          addr[16];      /* network order; IPv4 in addr[0..3] */
	uint32_t         refs;          /* rules that name it */
};
#define SCHEMA_TARGET_REC_LEN   28u

/* artefacts[(generation, kind)] */
#define SCHEMA_ART_MAP(X)                                               \
	X(GENINFO,     0, "geninfo")                                    \
	X(RULES_IMAGE, 1, "rules-image")

enum schema_art {
#define X(sym, val, name) SCHEMA_ART_##sym = (val),
	SCHEMA_ART_MAP(X)
#undef X
};

#define SCHEMA_ART_KEY_LEN      9u
#define SCHEMA_ART_HDR_LEN      32u
#define SCHEMA_CSUM_CRC32C      1u

/* Header in front of every artefact payload. */
struct schema_art_hdr {
	uint8_t          kind;          /* enum schema_art */
	uint8_t          csum_alg;      /* SCHEMA_CSUM_CRC32C */
	uint32_t         csum;          /* CRC32C of the payload */
	uint64_t         size;          /* payload bytes after the header */
	uint64_t         created_us;
};

/* Payload of a SCHEMA_ART_GENINFO artefact: what the generation holds. */
struct schema_geninfo {
	uint64_t         nrules;
	uint32_t         by_kind[SCHEMA_KIND__COUNT];
};
#define SCHEMA_GENINFO_LEN      (16u + 4u * SCHEMA_KIND__COUNT)

/* registrations[AOR]: bindings of one address-of-record. */
#define SCHEMA_REG_MAX_CONTACTS 16u

struct schema_contact {
	uint64_t         expires_us;    /* absolute Unix time */
	uint32_t         cseq;
	uint16_t         q;             /* q-value * 1000, 0..1000 */
	uint8_t          src_family;    /* 4 or 6 */
	uint8_t          transport;     /* 1 UDP, 2 TCP, 3 TLS */
	uint8_t          src_addr[16];
	uint16_t         src_port;
	struct span      uri;           /* Contact URI */
	struct span      call_id;
	struct span      path;          /* Path header values, comma-joined */
};

struct schema_reg {
	uint16_t         ncontacts;
	struct schema_contact contact[SCHEMA_REG_MAX_CONTACTS];
};

/* settings[name]: typed values. */
enum schema_setting_type {
	SCHEMA_SETTING_U64 = 1,
	SCHEMA_SETTING_BOOL = 2,
	SCHEMA_SETTING_STR = 3,
};

struct schema_setting {
	uint8_t          type;          /* enum schema_setting_type */
	uint64_t         u;             /* U64 and BOOL */
	struct span      str;           /* STR */
};

/* Most generations whose artefacts a store keeps (setting artefacts.keep). */
#define SCHEMA_KEEP_MAX         1000

/* Settings the control process knows, with defaults and bounds. */
struct schema_setting_def {
	const char      *name;
	uint8_t          type;
	uint64_t         def;
	const char      *def_str;       /* STR: what absent means (NULL: "") */
	uint64_t         min;
	uint64_t         max;
	const char      *help;
	/* STR only, may be NULL: 0 when @v is a valid value, else -EINVAL
	 * with a message in @err (what is wrong, and where). */
	int            (*check)(struct span v, char *err, size_t errcap);
	bool             secret;        /* never written to a log */
};

/*
 * Source address policy (settings acl.*, ratelimit.*; SCHEMA.md 3.6).
 * An address list is entries "ADDR[/LEN]" (IPv4 dotted quad or IPv6 text
 * without brackets; LEN 0-32 or 0-128, the whole address when absent, no
 * bits set past LEN), separated by commas and/or whitespace. An
 * IPv4-mapped entry (::ffff:a.b.c.d, LEN 96 or more) is parsed as the IPv4
 * prefix it names.
 */
#define SCHEMA_CIDR_MAX         4096u   /* entries in one list */

struct schema_cidr {
	uint8_t          family;        /* 4 or 6 */
	uint8_t          len;           /* prefix length */
	uint8_t          pad[2];
	uint8_t          addr[16];      /* network order; IPv4 in bytes 0-3 */
};

/* What the dataplane does with a refused request (acl.action, ratelimit.action). */
enum schema_refuse_action {
	SCHEMA_REFUSE_DROP = 0,         /* "drop": counted, no answer */
	SCHEMA_REFUSE_403 = 1,          /* "403": answered 403 Forbidden */
};

/* Name of an X-map value, or NULL if unknown. */
const char *schema_kind_name(unsigned int kind);
const char *schema_action_name(unsigned int action);
int schema_kind_parse(struct span s);          /* enum value or -EINVAL */
int schema_action_parse(struct span s);

/**
 * CRC32C (Castagnoli), the checksum of artefacts.
 *
 * @param crc
 *   0 to start, or the result of a previous call to continue.
 * @return
 *   The running CRC. Same value as DPDK's rte_hash_crc() chain with an
 *   initial value of 0xffffffff and a final inversion.
 *
 * Context: any thread; pure.
 */
uint32_t schema_crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * Every encoder writes at most @p cap bytes to @p buf and stores the
 * length in *len; it returns -ENOSPC when @p cap is too small (nothing
 * useful is written then) and -EINVAL when the struct breaks a limit.
 * Every decoder reads exactly @p len bytes and accepts only a buffer its
 * encoder could have produced.
 *
 * Context: any thread; pure, no allocation.
 */
int schema_meta_schema_encode(const struct schema_meta_schema *m, void *buf,
			      size_t cap, size_t *len);
int schema_meta_schema_decode(struct schema_meta_schema *m, const void *buf,
			      size_t len);

int schema_meta_gen_encode(const struct schema_meta_gen *g, void *buf,
			   size_t cap, size_t *len);
int schema_meta_gen_decode(struct schema_meta_gen *g, const void *buf,
			   size_t len);

int schema_import_summary_encode(const struct schema_import_summary *s,
				 void *buf, size_t cap, size_t *len);
int schema_import_summary_decode(struct schema_import_summary *s,
				 const void *buf, size_t len);

/*
 * meta["names"]: the addresses the target host names of the committed
 * rules had (SCHEMA.md 2), so that a restarted control process compiles
 * with them while a name server is away. A header, then one entry per
 * name.
 */
#define SCHEMA_NAMES_HDR_LEN    8u
#define SCHEMA_NAME_MAX         253u
#define SCHEMA_NAME_ADDRS_MAX   8u

struct schema_name_rec {
	struct span      name;          /* 1..SCHEMA_NAME_MAX bytes */
	uint8_t          naddr;         /* 1..SCHEMA_NAME_ADDRS_MAX */
	uint8_t          af[SCHEMA_NAME_ADDRS_MAX];     /* 4 or 6 */
	uint8_t          addr[SCHEMA_NAME_ADDRS_MAX][16];
};

/* The header for @p count entries: 0, -ENOSPC. */
int schema_names_hdr_encode(uint32_t count, void *buf, size_t cap);
/* One entry: 0 and *len, -ENOSPC, -EINVAL (a field out of range). */
int schema_name_rec_encode(const struct schema_name_rec *r, void *buf,
			   size_t cap, size_t *len);

typedef int schema_name_fn(void *arg, const struct schema_name_rec *r);

/**
 * Check a whole meta["names"] value, then call @p fn for each entry (the
 * name points into @p buf).
 *
 * @return
 *   0; -EBADMSG if it is malformed (nothing called); -EPROTONOSUPPORT
 *   for another layout version; what @p fn returned if not 0.
 */
int schema_names_decode(const void *buf, size_t len, schema_name_fn *fn,
			void *arg);

/**
 * Encoded size of a rule value, or 0 if @p r breaks a limit.
 *
 * Context: any thread; pure.
 */
size_t schema_rule_size(const struct schema_rule *r);

/* The id is the key and is not encoded; decode leaves r->id empty. */
int schema_rule_encode(const struct schema_rule *r, void *buf, size_t cap,
		       size_t *len);
int schema_rule_decode(struct schema_rule *r, const void *buf, size_t len);

/* Validation shared by encode and by readers of foreign input. */
bool schema_rule_is_valid(const struct schema_rule *r);

int schema_target_rec_encode(const struct schema_target_rec *t, void *buf,
			     size_t cap, size_t *len);
int schema_target_rec_decode(struct schema_target_rec *t, const void *buf,
			     size_t len);

/* Artefact key: generation big-endian then kind. */
void schema_art_key_encode(uint8_t key[SCHEMA_ART_KEY_LEN], uint64_t gen,
			   uint8_t kind);
int schema_art_key_decode(const void *key, size_t len, uint64_t *gen,
			  uint8_t *kind);

/*
 * The header is followed by hdr->size payload bytes in the same value.
 * decode checks that @p len is exactly SCHEMA_ART_HDR_LEN + size;
 * schema_art_verify() also checks the checksum.
 */
int schema_art_hdr_encode(const struct schema_art_hdr *h,
			  uint8_t buf[SCHEMA_ART_HDR_LEN]);
int schema_art_hdr_decode(struct schema_art_hdr *h, const void *buf,
			  size_t len);
int schema_art_verify(const void *buf, size_t len, struct span *payload);

int schema_geninfo_encode(const struct schema_geninfo *g, void *buf,
			  size_t cap, size_t *len);
int schema_geninfo_decode(struct schema_geninfo *g, const void *buf,
			  size_t len);

size_t schema_reg_size(const struct schema_reg *r);
int schema_reg_encode(const struct schema_reg *r, void *buf, size_t cap,
		      size_t *len);
int schema_reg_decode(struct schema_reg *r, const void *buf, size_t len);

int schema_setting_encode(const struct schema_setting *s, void *buf,
			  size_t cap, size_t *len);
int schema_setting_decode(struct schema_setting *s, const void *buf,
			  size_t len);

/**
 * Look up a known setting by name.
 *
 * @return
 *   The definition (static storage), or NULL if @p name is not a setting.
 *
 * Context: any thread; pure.
 */
const struct schema_setting_def *schema_setting_find(struct span name);

/* The table of known settings, terminated by an entry with name NULL. */
const struct schema_setting_def *schema_setting_defs(void);

/**
 * Parse an address list (see struct schema_cidr).
 *
 * @param out
 *   Room for @p cap entries, or NULL to validate and count only.
 * @return
 *   The number of entries (0 for an empty or blank text), or -EINVAL with
 *   @p err naming the entry (1-based), its text and what is wrong.
 *
 * Context: any thread; pure.
 */
int schema_cidr_list_parse(struct span text, struct schema_cidr *out,
			   uint32_t cap, char *err, size_t errcap);

/* "drop" or "403" as enum schema_refuse_action, else -EINVAL. */
int schema_refuse_action_parse(struct span s);

/*
 * Targets taken out of service (setting targets.down; SCHEMA.md 3.6):
 * entries "ADDR:PORT" as a route CSV writes targets (IPv4 dotted quad, or
 * IPv6 in brackets; port 1-65535), separated by commas and/or whitespace.
 */
#define SCHEMA_TARGET_DOWN_MAX  4096u   /* entries in one list */

/**
 * Parse a target list into struct addr_port entries (common/addrport.h).
 *
 * @param out
 *   Room for @p cap entries, or NULL to validate and count only.
 * @return
 *   The number of entries (0 for an empty or blank text), or -EINVAL with
 *   @p err naming the entry (1-based), its text and what is wrong.
 *
 * Context: any thread; pure.
 */
int schema_down_list_parse(struct span text, struct addr_port *out,
			     uint32_t cap, char *err, size_t errcap);

/**
 * schema_down_list_parse() into a calloc()ed array (*@p out, NULL when
 * the list is empty or on error; the caller frees it).
 *
 * @return
 *   The number of entries, -EINVAL (@p err as schema_down_list_parse()
 *   has it) or -ENOMEM.
 */
int schema_down_list_new(struct span text, struct addr_port **out,
			 char *err, size_t errcap);

#endif /* SIPEDGE_LMDB_SCHEMA_SCHEMA_H */
