/* SPDX-License-Identifier: MIT */
/*
 * sip_scan.h - delimiter scans of the SIP library (private to dataplane/sip).
 *
 * Each scan looks for the first byte of a fixed set in [p, end) (for
 * token: the first byte outside the set) and returns its address, or @p end
 * when there is none. Two implementations exist: a
 * vector one (SSE2 compares for single bytes, SSE4.2 PCMPESTRI for sets) and
 * a portable scalar one. A third table, "avx2", holds the vector scans and
 * tells sip_parse() to frame the header block with its AVX2 pass
 * (sip_parse.c) instead of one scan per line. The choice is made once, at load time, from the CPU
 * features; callers fetch the table with sip_scan_ops() once per message and
 * call through it. The scalar scans never read outside [p, end); the
 * vector ones may read the rest of the aligned 16-byte blocks that hold
 * [p, end), which never cross a page, and ignore those bytes.
 */
#ifndef SIPEDGE_SIP_SIP_SCAN_H
#define SIPEDGE_SIP_SIP_SCAN_H

#include <stdint.h>

#include <compiler.h>
#include <span.h>

typedef const char *sip_scan_fn(const char *p, const char *end);

/*
 * A byte set for the class scans, in two forms that must agree (a unit
 * test checks all 256 bytes): the sip_cc[] class bits the scalar scan
 * tests, and a PSHUFB nibble table for the vector one, where byte b is in
 * the set when lo[b & 15] has bit (b >> 4) set (bytes >= 0x80 never are).
 */
struct sip_cset {
	uint8_t          lo[16] __attribute__((aligned(16)));
	uint16_t         cls;           /* SIP_CC_* bits, sip_uri_priv.h */
};

/* The sets the hot parsers scan (RFC 3261 §25.1 names in comments). */
enum sip_cset_id {
	SIP_CSET_USER,                  /* user: unreserved / user-unreserved */
	SIP_CSET_PASS,                  /* password characters */
	SIP_CSET_PARAM,                 /* paramchar, without '%' */
	SIP_CSET_HDR,                   /* hname / hvalue, without '%' */
	SIP_CSET_TOKEN,                 /* token */
	SIP_CSET_PTOKEN,                /* token / paramchar: generic params */
	SIP_CSET_HOST,                  /* alphanum / "-" / "." */
	SIP_CSET_URIC,                  /* any URI character */
	SIP_CSET_TELNAME,               /* RFC 3966 pname: alphanum / "-" */
	SIP_CSET__COUNT
};

extern const struct sip_cset sip_cset[SIP_CSET__COUNT];

/* First byte of [p, end) outside @cs, or end. */
typedef const char *sip_cspan_fn(const char *p, const char *end,
				 const struct sip_cset *cs);

/*
 * A host at p (RFC 3261 §25.1 host, RFC 5118 references): *hend gets its
 * end (after the ']' of "[...]", else after the run of alphanum / "-" /
 * "."), and the return value is the enum sip_host_type of [p, *hend), or
 * -EINVAL when those bytes are not a hostname, IPv4 address or IPv6
 * reference. The same as sip_host_end() then sip_host_check().
 */
typedef int sip_host_fn(const char *p, const char *end, const char **hend);

/*
 * Bit masks of a short URI, bit i for byte p[i] (i < n, n <= 48; bits at
 * and above n are 0): bytes outside the user, host and paramchar sets, and
 * the delimiters the URI grammar splits on.
 */
#define SIP_UMASK_MAX           48u

struct sip_umask {
	uint64_t         nuser;         /* not in SIP_CSET_USER */
	uint64_t         nhost;         /* not in SIP_CSET_HOST */
	uint64_t         nparam;        /* not in SIP_CSET_PARAM */
	uint64_t         sep;           /* ';' or '=' */
	uint64_t         dot;           /* '.' */
	uint64_t         dash;          /* '-' */
	uint64_t         gt;            /* '>': the end of a <URI> */
};

typedef void sip_umask_fn(const char *p, uint32_t n, struct sip_umask *m);

struct sip_scan_ops {
	sip_scan_fn     *lf;            /* '\n': line ends (CRLF or bare LF) */
	sip_scan_fn     *value;         /* ',' '"' '<': splitting value lists */
	sip_scan_fn     *quoted;        /* '"' '\\': inside a quoted-string */
	sip_scan_fn     *token;         /* first byte NOT in RFC 3261 token */
	sip_cspan_fn    *cspan;         /* first byte NOT in a struct sip_cset */
	sip_host_fn     *host;          /* host end and type, one pass */
	sip_umask_fn    *umask;         /* masks of a URI of <= 48 bytes */
	const char      *name;          /* "avx2", "sse4.2" or "scalar" */
	uint8_t          impl;          /* enum sip_scan_impl */
};

enum sip_scan_impl {
	SIP_SCAN_AUTO = 0,              /* best the CPU supports */
	SIP_SCAN_SCALAR,
	SIP_SCAN_SSE42,
	SIP_SCAN_AVX2,                  /* the SSE4.2 scans + AVX2 framing */
};

/**
 * The scan table in use.
 *
 * @return
 *   A static table; never NULL.
 *
 * Context: any thread, hot-path safe. Reads one pointer that is written
 * only at load time (and by sip_scan_select() in tests).
 */
const struct sip_scan_ops *sip_scan_ops(void);

/**
 * One implementation's table, for tests that compare them.
 *
 * @return
 *   The table, or NULL when this CPU (or build) cannot run it.
 */
const struct sip_scan_ops *sip_scan_ops_get(enum sip_scan_impl impl);

/**
 * Force an implementation (tests, benchmarks).
 *
 * @return
 *   0; -ENOTSUP when this CPU cannot run @p impl.
 *
 * Context: slow path only, before any thread parses: it writes the pointer
 * sip_scan_ops() reads, without synchronisation.
 */
int sip_scan_select(enum sip_scan_impl impl);

/*
 * Builds the header-name tables of sip_parse()'s AVX2 pass (sip_parse.c);
 * called before the "avx2" table is first returned. Idempotent; slow path.
 */
void sip_parse_avx2_init(void);

/* The pointer sip_scan_ops() returns; set before main() runs. */
extern const struct sip_scan_ops *sip_scan_cur;

/*
 * sip_scan_ops() without the call: the parsers fetch the table once per
 * value with one load.
 */
static inline const struct sip_scan_ops *
sip_scan_get(void)
{
	const struct sip_scan_ops *ops;

	ops = __atomic_load_n(&sip_scan_cur, __ATOMIC_RELAXED);
	return likely(ops != NULL) ? ops : sip_scan_ops();
}

/* First byte of [p, end) outside set @id, or end. */
static inline const char *
sip_cspan(const struct sip_scan_ops *ops, const char *p, const char *end,
	  enum sip_cset_id id)
{
	return ops->cspan(p, end, &sip_cset[id]);
}

/*
 * span_trim() for values that are trimmed already (sip_parse() trims
 * header values, sip_values_next() each list value): when both end bytes
 * are above SP, neither is LWS and @s is returned as it is, one test per
 * end instead of span_trim()'s four.
 */
static inline struct span
sip_trim(struct span s)
{
	if (likely(s.len != 0 && (unsigned char)s.ptr[0] > ' ' &&
		   (unsigned char)s.ptr[s.len - 1] > ' '))
		return s;
	return span_trim(s);
}

#endif /* SIPEDGE_SIP_SIP_SCAN_H */
