/* SPDX-License-Identifier: MIT */
/*
 * sip_parse.c - start line, header framing and value lists of a SIP message.
 *
 * Hot path. One forward pass over the bytes: the start line, then one
 * header line at a time (name end and line end by the vector scans of
 * sip_scan.c, or, on AVX2 CPUs, from the bit masks of one structural pass
 * over the header block), then the body framed by Content-Length (RFC 3261
 * §18.3).
 * Header values are located, classified and linked by id but not validated
 * here, except the two the framing depends on: Content-Length, and the
 * number of Via values (limit SIP_MAX_VIA). Every loop is bounded by the
 * datagram length.
 *
 * Cost, measured with callgrind on the INVITE of perf/bench_sip_parse.c
 * (1,029 bytes, 16 header lines): about 2,450 instructions per sip_parse()
 * with the AVX2 pass, of which about 100 per header line; about 3,550 with
 * one scan call per delimiter (the "sse4.2" table) and 7,400 with the
 * scalar scans.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <compiler.h>
#include <span.h>

#include "sip.h"
#include "sip_hdr_priv.h"
#include "sip_scan.h"

static inline enum sip_perr
sip_fail(struct sip_msg *msg, enum sip_perr e, const char *at)
{
	msg->err_off = (uint32_t)(at - msg->buf);
	return e;
}

static inline bool
sip_is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* SP, HTAB, CR or LF: one compare and one bit test. */
static inline bool
sip_is_lws(char c)
{
	unsigned char u = (unsigned char)c;

	return u <= ' ' && ((0x100002600ull >> u) & 1) != 0;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* The AVX2 pass (see sip_parse_headers_avx2()); aligned loads, see there. */
#define SIP_FRAME_FN \
	__attribute__((target("avx2,bmi,bmi2"), no_sanitize_address))

/*
 * The start line's whitespace in one pass over the aligned 32-byte blocks
 * that hold [s, e): *ws gets the first SP or HTAB (or e), *sp the last SP
 * (or NULL).
 */
SIP_FRAME_FN
static void
sip_frame_ws(const char *s, const char *e, const char **ws, const char **sp)
{
	const char *b = (const char *)((uintptr_t)s & ~(uintptr_t)31);
	uint32_t msp, mht;
	__m256i v;

	*ws = e;
	*sp = NULL;
	for (; b < e; b += 32) {
		v = _mm256_load_si256((const __m256i *)(const void *)b);
		msp = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v,
			_mm256_set1_epi8(' ')));
		mht = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v,
			_mm256_set1_epi8('\t')));
		if (b < s) {
			msp &= ~0u << (s - b);
			mht &= ~0u << (s - b);
		}
		if (e - b < 32) {
			msp = _bzhi_u32(msp, (unsigned int)(e - b));
			mht = _bzhi_u32(mht, (unsigned int)(e - b));
		}
		if (*ws == e && (msp | mht) != 0)
			*ws = b + _tzcnt_u32(msp | mht);
		if (msp != 0)
			*sp = b + 31 - __builtin_clz(msp);
	}
}

/* First LF in [p, end), or end, from the aligned 32-byte blocks. */
SIP_FRAME_FN
static const char *
sip_frame_first_lf(const char *p, const char *end)
{
	const char *b = (const char *)((uintptr_t)p & ~(uintptr_t)31);
	uint32_t m;

	for (; b < end; b += 32) {
		m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
			_mm256_load_si256((const __m256i *)(const void *)b),
			_mm256_set1_epi8('\n')));
		if (b < p)
			m &= ~0u << (p - b);
		if (m != 0) {
			b += _tzcnt_u32(m);
			return b < end ? b : end;
		}
	}
	return end;
}
#endif /* __x86_64__ */

/*
 * Where the value list starting at @p ends: the first ',' outside a
 * quoted-string and outside <...> (RFC 3261 §7.3.1), or @p end. NULL when a
 * quoted-string or a '<' is not closed before @p end.
 */
static const char *
sip_value_split(const struct sip_scan_ops *ops, const char *p, const char *end)
{
	while ((p = ops->value(p, end)) != end) {
		switch (*p) {
		case ',':
			return p;
		case '"':
			p++;
			for (;;) {
				p = ops->quoted(p, end);
				if (p == end)
					return NULL;
				if (*p == '"')
					break;
				/* quoted-pair: '\' and the byte it escapes */
				if (end - p < 2)
					return NULL;
				p += 2;
			}
			p++;
			break;
		default:        /* '<' */
			p = memchr(p + 1, '>', (size_t)(end - p - 1));
			if (p == NULL)
				return NULL;
			p++;
			break;
		}
	}
	return end;
}

/* SIP-Version, case-insensitive: two word compares (sip_hdr_priv.h). */
static inline bool
sip_is_version(struct span v)
{
	return v.len == 7 && sip_hdr_eq(v, "sip/2.0", 7);
}

/*
 * Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
 * (RFC 3261 §7.2). A missing SP before an empty Reason-Phrase is tolerated.
 */
static enum sip_perr
sip_parse_status_line(struct sip_msg *msg, const char *eol)
{
	const char *buf = msg->buf, *sp, *d;

	sp = memchr(buf, ' ', (size_t)(eol - buf));
	if (sp == NULL)
		return sip_fail(msg, SIP_PERR_BAD_STATUS, eol);
	if (!sip_is_version(span_range(buf, sp)))
		return sip_fail(msg, SIP_PERR_BAD_VERSION, buf);

	d = sp + 1;
	if (eol - d < 3 || (unsigned char)(d[0] - '1') > 5 ||
	    !span_is_digit((unsigned char)d[1]) ||
	    !span_is_digit((unsigned char)d[2]) ||
	    (eol - d > 3 && d[3] != ' '))
		return sip_fail(msg, SIP_PERR_BAD_STATUS, d);

	msg->is_request = 0;
	msg->status = (uint16_t)((d[0] - '0') * 100 + (d[1] - '0') * 10 +
				 (d[2] - '0'));
	msg->reason = eol - d > 3 ? span_range(d + 4, eol) : span_make(eol, 0);
	return SIP_PERR_OK;
}

/*
 * Request-Line = Method SP Request-URI SP SIP-Version CRLF
 * (RFC 3261 §25.1). The line is split on its first and its last SP, so an
 * extra SP anywhere lands in the Request-URI (or leaves the version empty)
 * and is rejected as BAD_REQ_LINE (RFC 4475 §3.1.2.8-3.1.2.10) rather than
 * silently skipped. @sp1 is the SP after the method token.
 */
static enum sip_perr
sip_parse_request_line(struct sip_msg *msg, const struct sip_scan_ops *ops,
		       const char *sp1, const char *eol)
{
	const char *buf = msg->buf, *sp2, *uri, *ws = NULL;
	uint32_t ulen;

	/*
	 * A method token followed by SP makes this a request, whatever is
	 * wrong after it: the caller answers it (400, 414, 505) once the
	 * headers are located.
	 */
	msg->is_request = 1;
	msg->method_name = span_range(buf, sp1);
	msg->method = (uint8_t)sip_method_from_span(msg->method_name);

#if defined(__x86_64__)
	if (ops->impl == SIP_SCAN_AVX2) {
		/* one pass: the last SP, and the first SP or HTAB */
		sip_frame_ws(sp1 + 1, eol, &ws, &sp2);
		if (sp2 == NULL)
			sp2 = sp1;
	} else
#endif
	{
		/* The version is short: the last SP, scanning back. */
		sp2 = eol;
		while (sp2 > sp1 && sp2[-1] != ' ')
			sp2--;
		sp2--;
	}
	(void)ops;
	if (sp2 == sp1)
		return sip_fail(msg, SIP_PERR_BAD_REQ_LINE, eol);
	if (sp2 + 1 == eol)
		return sip_fail(msg, SIP_PERR_BAD_REQ_LINE, sp2);

	uri = sp1 + 1;
	ulen = (uint32_t)(sp2 - uri);
	if (ulen == 0)
		return sip_fail(msg, SIP_PERR_BAD_REQ_LINE, uri);
	if (ulen > SIP_MAX_URI_LEN)
		return sip_fail(msg, SIP_PERR_URI_TOO_LONG, uri);
	if (ws == NULL) {
		const char *tab = memchr(uri, '\t', ulen);

		ws = memchr(uri, ' ', ulen);
		if (ws == NULL || (tab != NULL && tab < ws))
			ws = tab;
	}
	if (ws != NULL && ws < sp2)
		return sip_fail(msg, SIP_PERR_BAD_REQ_LINE, ws);
	if (!sip_is_version(span_range(sp2 + 1, eol)))
		return sip_fail(msg, SIP_PERR_BAD_VERSION, sp2 + 1);

	msg->ruri = span_make(uri, ulen);
	return SIP_PERR_OK;
}

/* Request-Line verdicts that still leave a request worth answering. */
static bool
sip_is_answerable_start_err(const struct sip_msg *msg, enum sip_perr rc)
{
	return msg->is_request &&
	       (rc == SIP_PERR_BAD_REQ_LINE || rc == SIP_PERR_BAD_VERSION ||
		rc == SIP_PERR_URI_TOO_LONG);
}

/*
 * *next is the first byte after the start line's LF, also when the
 * Request-Line is malformed (see sip_is_answerable_start_err()).
 */
static enum sip_perr
sip_parse_start_line(struct sip_msg *msg, const struct sip_scan_ops *ops,
		     const char **next)
{
	const char *buf = msg->buf, *end = buf + msg->len;
	const char *nl, *eol, *p;

#if defined(__x86_64__)
	if (ops->impl == SIP_SCAN_AVX2)
		nl = sip_frame_first_lf(buf, end);
	else
#endif
		nl = ops->lf(buf, end);
	if (nl == end)
		return sip_fail(msg, SIP_PERR_TRUNCATED, end);
	eol = (nl > buf && nl[-1] == '\r') ? nl - 1 : nl;
	*next = nl + 1;

	if (eol - buf >= 4 && sip_hdr_eq(span_make(buf, 4), "sip/", 4))
		return sip_parse_status_line(msg, eol);

	p = ops->token(buf, eol);
	if (p == buf || p == eol || *p != ' ')
		return sip_fail(msg, SIP_PERR_BAD_START, p);
	return sip_parse_request_line(msg, ops, p, eol);
}

/* Count the values of one Via line; unclosed quotes end the count. */
static uint32_t
sip_via_count(const struct sip_scan_ops *ops, const char *p, const char *end)
{
	uint32_t n = 1;

	for (;;) {
		p = sip_value_split(ops, p, end);
		if (p == NULL || p == end)
			return n;
		p++;
		n++;
	}
}

/*
 * Content-Length = 1*DIGIT (RFC 3261 §20.14). Repeated headers must agree
 * (RFC 7230 §3.3.2 practice); a sign, a non-digit or a value beyond
 * INT32_MAX is BAD_CLEN.
 */
static enum sip_perr
sip_parse_clen(struct sip_msg *msg, struct span v)
{
	uint64_t n;

	if (span_to_u64(v, INT32_MAX, &n) != 0)
		return sip_fail(msg, SIP_PERR_BAD_CLEN, v.ptr);
	if (msg->clen >= 0 && (uint64_t)msg->clen != n)
		return sip_fail(msg, SIP_PERR_BAD_CLEN, v.ptr);
	msg->clen = (int32_t)n;
	return SIP_PERR_OK;
}

/* One header line located: name [name, ne), value from v, LF at nl. */
struct sip_line {
	const char      *ne;
	const char      *v;
	const char      *nl;
	enum sip_hdr_id  id;
};

/*
 * Locate the header line at @p with one scan per delimiter: the name (a
 * token), optional WSP, ':', then the line end; a line end followed by SP
 * or HTAB folds the next line in. The reference for every verdict and
 * offset; the AVX2 pass below takes it for any line it does not frame.
 */
static inline __attribute__((always_inline)) enum sip_perr
sip_hdr_line(struct sip_msg *msg, const struct sip_scan_ops *ops,
	     const char *p, struct sip_line *ln, bool slow)
{
	const char *end = msg->buf + msg->len, *name = p, *nl;

	p = ops->token(p, end);
	if (p == name)
		return sip_fail(msg, SIP_PERR_BAD_HDR, p);
	ln->ne = p;
	if (p == end || *p != ':') {
		while (p < end && sip_is_wsp(*p))
			p++;
		if (p == end)
			return sip_fail(msg, SIP_PERR_TRUNCATED, end);
		if (*p != ':')
			return sip_fail(msg, SIP_PERR_BAD_HDR, p);
	}
	/* one inlined copy of the classifier, in the scan loop */
	ln->id = slow ? sip_hdr_classify(span_range(name, ln->ne)) :
			sip_hdr_classify_inline(span_range(name, ln->ne));

	ln->v = ++p;
	for (;;) {
		nl = ops->lf(p, end);
		if (end - nl < 2)
			return sip_fail(msg, SIP_PERR_TRUNCATED, end);
		if (!sip_is_wsp(nl[1]))
			break;
		p = nl + 1;
	}
	ln->nl = nl;
	return SIP_PERR_OK;
}

/*
 * The value of a header line: from @v (after the ':') to the LF at @nl,
 * without LWS at either end. Trailing LWS first, so an empty value stays
 * after the colon.
 */
static inline struct span
sip_value_trim(const char *v, const char *nl)
{
	const char *ve = nl;

	if (ve[-1] == '\r' && ve > v)
		ve--;
	while (ve > v && sip_is_lws(ve[-1]))
		ve--;
	if (*v == ' ' && v < ve)
		v++;
	while (v < ve && sip_is_lws(*v))
		v++;
	return span_range(v, ve);
}

/* Per-message state of the header loops. */
struct sip_hdr_state {
	uint32_t         n;             /* headers recorded */
	uint32_t         nvia;
	uint8_t          last[SIP_HDR__COUNT];
};

/* Link header @n, of id @id, into its id's chain. */
static inline __attribute__((always_inline)) void
sip_hdr_link(struct sip_msg *msg, struct sip_hdr_state *st,
	     enum sip_hdr_id id, uint32_t n)
{
	if (msg->first[id] == SIP_HDR_NONE)
		msg->first[id] = (uint8_t)n;
	else
		msg->hdr[st->last[id]].next = (uint8_t)n;
	st->last[id] = (uint8_t)n;
}

/*
 * The two values framing depends on: the number of Via values (limit
 * SIP_MAX_VIA) and Content-Length. Nothing for other ids.
 */
static inline __attribute__((always_inline)) enum sip_perr
sip_hdr_frame_check(struct sip_msg *msg, const struct sip_scan_ops *ops,
		    struct sip_hdr_state *st, enum sip_hdr_id id,
		    struct span value)
{
	switch (id) {
	case SIP_HDR_VIA:
		st->nvia += sip_via_count(ops, value.ptr, span_end(value));
		msg->nvia = (uint16_t)st->nvia;
		if (st->nvia > SIP_MAX_VIA)
			return sip_fail(msg, SIP_PERR_TOO_MANY_VIA, value.ptr);
		return SIP_PERR_OK;
	case SIP_HDR_CONTENT_LENGTH:
		return sip_parse_clen(msg, value);
	default:
		return SIP_PERR_OK;
	}
}

/*
 * msg->hdr[@n] for header line @ln starting at @name, not yet linked
 * into its id's chain.
 */
static inline __attribute__((always_inline)) struct sip_hdr *
sip_hdr_fill(struct sip_msg *msg, uint32_t n, const char *name,
	     const struct sip_line *ln)
{
	struct sip_hdr *h = &msg->hdr[n];

	h->value = sip_value_trim(ln->v, ln->nl);
	h->off = (uint32_t)(name - msg->buf);
	h->name_len = (uint16_t)(ln->ne - name);
	h->line_len = (uint16_t)(ln->nl + 1 - name);
	h->id = (uint8_t)ln->id;
	h->next = SIP_HDR_NONE;
	return h;
}

/*
 * Record header line @ln starting at @name as msg->hdr[st->n], link it
 * into its id's chain, and check the two values framing depends on.
 */
static inline __attribute__((always_inline)) enum sip_perr
sip_hdr_put(struct sip_msg *msg, const struct sip_scan_ops *ops,
	    struct sip_hdr_state *st, const char *name, const struct sip_line *ln)
{
	uint32_t n = st->n;
	struct sip_hdr *h;

	h = sip_hdr_fill(msg, n, name, ln);
	sip_hdr_link(msg, st, ln->id, n);
	/*
	 * Kept current, so that after a failure the headers seen so far can
	 * still be copied into a 400 (sip_resp_build()).
	 */
	st->n = n + 1;
	msg->nhdr = (uint16_t)(n + 1);
	return sip_hdr_frame_check(msg, ops, st, ln->id, h->value);
}

/*
 * One step of the scan loop at *p: 1 at the empty line that ends the
 * headers (*next is then the first body byte), -1 with *rc set on an
 * error, 0 when a header line was recorded (*p is then the next line).
 */
static inline __attribute__((always_inline)) int
sip_hdr_step(struct sip_msg *msg, const struct sip_scan_ops *ops,
	     struct sip_hdr_state *st, const char **pp, const char **next,
	     enum sip_perr *rc, bool slow)
{
	const char *end = msg->buf + msg->len, *p = *pp;
	struct sip_line ln;

	if (p >= end) {
		*rc = sip_fail(msg, SIP_PERR_TRUNCATED, end);
		return -1;
	}
	if (*p == '\r' || *p == '\n') {
		if (*p == '\r') {
			if (end - p < 2) {
				*rc = sip_fail(msg, SIP_PERR_TRUNCATED, end);
				return -1;
			}
			if (p[1] != '\n') {
				*rc = sip_fail(msg, SIP_PERR_BAD_HDR, p);
				return -1;
			}
			p++;
		}
		*next = p + 1;
		return 1;
	}
	if (st->n == SIP_MAX_HDRS) {
		*rc = sip_fail(msg, SIP_PERR_TOO_MANY_HDRS, p);
		return -1;
	}
	*rc = sip_hdr_line(msg, ops, p, &ln, slow);
	if (*rc == SIP_PERR_OK)
		*rc = sip_hdr_put(msg, ops, st, p, &ln);
	if (*rc != SIP_PERR_OK)
		return -1;
	*pp = ln.nl + 1;
	return 0;
}

/* sip_hdr_step() out of line, for the lines the AVX2 loop leaves. */
static __attribute__((noinline)) int
sip_hdr_step_slow(struct sip_msg *msg, const struct sip_scan_ops *ops,
		  struct sip_hdr_state *st, const char **pp, const char **next,
		  enum sip_perr *rc)
{
	return sip_hdr_step(msg, ops, st, pp, next, rc, true);
}

/*
 * message-header = field-name HCOLON field-value CRLF, with LWS = [*WSP
 * CRLF] 1*WSP folding (RFC 3261 §7.3.1, §25.1); bare LF line ends are
 * accepted as well. On success *next is the first body byte.
 */
static enum sip_perr
sip_parse_headers_scan(struct sip_msg *msg, const struct sip_scan_ops *ops,
		       const char *p, const char **next)
{
	struct sip_hdr_state st = { .n = 0, .nvia = 0 };
	enum sip_perr rc = SIP_PERR_OK;
	int k;

	do {
		k = sip_hdr_step(msg, ops, &st, &p, next, &rc, false);
	} while (k == 0);
	return k > 0 ? SIP_PERR_OK : rc;
}

#if defined(__x86_64__)
/*
 * AVX2 framing. Line ends come from one pass over the header block, 64
 * bytes (two aligned 32-byte loads) at a time, into a bit mask walked with
 * TZCNT; the pass moves on only as lines are consumed, so it stops with the
 * 64-byte chunk that holds the empty line and never scans the body. An
 * aligned 64-byte chunk never crosses a page, and a chunk is loaded only
 * when it holds a byte of [buf, end); mask bits after end are cleared, bits
 * before the line being looked at are ignored.
 *
 * The name of a line comes from one unaligned 32-byte load at its start
 * (taken only when 32 bytes remain): a ':' mask and a token-class mask
 * (PSHUFB nibble lookup) give the name length when the name is a token
 * directly followed by ':', and the name is classified by (length, first
 * letter) then one masked compare with its lower-case literal. Any other
 * line (WSP before ':', a bad name, a short tail, folding at the end) goes
 * through sip_hdr_line(), so every verdict and offset is that of the scan
 * loop.
 */

/* A header name as the AVX2 classifier compares it. */
struct sip_hname {
	uint8_t          lit[32];       /* lower-case name, zero padded */
	uint8_t          fold[32];      /* 0x20 where lit has a letter */
};

static struct sip_hname sip_hname[SIP_HDR__COUNT] __attribute__((aligned(32)));
/* First id of each (length, first letter & 31); 0 (OTHER) when none. */
static uint8_t sip_hname_idx[32][32];
/* Next id with the same (length, first letter & 31), or 0. */
static uint8_t sip_hname_alt[SIP_HDR__COUNT];

/*
 * Built once, when the "avx2" scan table is first handed out
 * (sip_scan_ops_get()), so before any parse can use them.
 */
void
sip_parse_avx2_init(void)
{
	static bool done;
	unsigned int id, len;
	uint8_t *slot;

	if (done)
		return;
	done = true;
	for (id = 1; id < SIP_HDR__COUNT; id++) {
		const char *name = sip_hdr_name((enum sip_hdr_id)id);

		for (len = 0; name[len] != '\0' && len < 32; len++) {
			unsigned char c = span_ascii_lower((unsigned char)name[len]);

			sip_hname[id].lit[len] = c;
			sip_hname[id].fold[len] = c >= 'a' && c <= 'z' ? 0x20 : 0;
		}
		if (len < 2 || len > 31)
			continue;
		slot = &sip_hname_idx[len][sip_hname[id].lit[0] & 31];
		while (*slot != 0)
			slot = &sip_hname_alt[*slot];
		*slot = (uint8_t)id;
	}
}

/* Header ids fit the 64-bit masks of the AVX2 loop. */
_Static_assert(SIP_HDR__COUNT <= 64, "SIP_HDR__COUNT");

/* LF bits of the aligned 64-byte chunk at @base, none at or after @end. */
SIP_FRAME_FN
static inline uint64_t
sip_frame_lf(const char *base, const char *end)
{
	const __m256i *b = (const __m256i *)(const void *)base;
	const __m256i nl = _mm256_set1_epi8('\n');
	uint64_t lf, room = (uint64_t)(end - base);

	lf = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
		_mm256_load_si256(b), nl)) |
	     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
		_mm256_load_si256(b + 1), nl)) << 32;
	return room < 64 ? _bzhi_u64(lf, (unsigned int)room) : lf;
}

/*
 * off, name_len, line_len, id and next (SIP_HDR_NONE) of @h in two stores;
 * the layout is checked at compile time.
 */
_Static_assert(offsetof(struct sip_hdr, name_len) ==
	       offsetof(struct sip_hdr, off) + 4 &&
	       offsetof(struct sip_hdr, line_len) ==
	       offsetof(struct sip_hdr, off) + 6 &&
	       offsetof(struct sip_hdr, next) == offsetof(struct sip_hdr, id) + 1,
	       "struct sip_hdr layout");

static inline void
sip_hdr_set(struct sip_hdr *h, uint32_t off, uint32_t name_len,
	    uint32_t line_len, unsigned int id)
{
	uint64_t w = off | (uint64_t)name_len << 32 | (uint64_t)line_len << 48;
	uint16_t t = (uint16_t)(id | SIP_HDR_NONE << 8);

	memcpy(&h->off, &w, sizeof(w));
	memcpy(&h->id, &t, sizeof(t));
}

/* sip_value_trim() out of line, for the AVX2 loop's uncommon values. */
static __attribute__((noinline)) struct span
sip_value_trim_slow(const char *v, const char *nl)
{
	return sip_value_trim(v, nl);
}

/*
 * Whether value @v holds a ','; without one a Via line is one value. The
 * loads are the aligned 32-byte blocks that hold @v.
 */
SIP_FRAME_FN
static inline bool
sip_frame_has_comma(struct span v)
{
	const char *b = (const char *)((uintptr_t)v.ptr & ~(uintptr_t)31);
	const char *ve = span_end(v);
	uint32_t m;

	for (; b < ve; b += 32) {
		m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
			_mm256_load_si256((const __m256i *)(const void *)b),
			_mm256_set1_epi8(',')));
		if (b < v.ptr)
			m &= ~0u << (v.ptr - b);
		if (ve - b < 32)
			m = _bzhi_u32(m, (unsigned int)(ve - b));
		if (m != 0)
			return true;
	}
	return false;
}

/*
 * sip_parse_clen() for the common value of 1 to 9 digits (below
 * INT32_MAX); false, with nothing changed, for anything else.
 */
static inline bool
sip_frame_clen(struct sip_msg *msg, struct span v)
{
	uint32_t i, d, x = 0;

	if (v.len - 1 >= 9)
		return false;
	for (i = 0; i < v.len; i++) {
		d = (uint32_t)(unsigned char)v.ptr[i] - '0';
		if (d > 9)
			return false;
		x = x * 10 + d;
	}
	if (msg->clen >= 0 && (uint32_t)msg->clen != x)
		return false;
	msg->clen = (int32_t)x;
	return true;
}

/*
 * The header loop. The inner loop takes the common lines and calls
 * nothing, so its vector constants stay in registers; it leaves for a line
 * it does not frame (sip_hdr_line() then does, with the same verdicts and
 * offsets as sip_parse_headers_scan()), for the empty line, and after a Via
 * or Content-Length line, whose value the outer loop then checks.
 * Invariant: lf holds the LFs of the chunk at base from p on.
 */
SIP_FRAME_FN
static enum sip_perr
sip_parse_headers_avx2(struct sip_msg *msg, const struct sip_scan_ops *ops,
		       const char *p, const char **next)
{
	const __m256i colon = _mm256_set1_epi8(':');
	const __m256i nib = _mm256_set1_epi8(0x0f);
	const __m256i tlo = _mm256_broadcastsi128_si256(_mm_load_si128(
		(const __m128i *)(const void *)sip_cset[SIP_CSET_TOKEN].lo));
	const __m256i thi = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)0x80,
		0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, (char)0x80,
		0, 0, 0, 0, 0, 0, 0, 0);
	const char *buf = msg->buf, *end = buf + msg->len, *base, *nl, *v, *ve;
	struct sip_hdr_state st;
	struct sip_hdr *h, *hlast = NULL;
	enum sip_perr rc = SIP_PERR_OK;
	unsigned int id, pend;
	uint32_t n, c, t;
	uint64_t lf = 0;
	__m256i w, m;
	int k;

	st.n = 0;               /* st.last[id] is read only once set */
	st.nvia = 0;
	base = (const char *)((uintptr_t)p & ~(uintptr_t)63);
	if (p < end)
		lf = sip_frame_lf(base, end);
	for (;;) {
		if ((uint64_t)(p - base) >= 64 && p < end) {
			base = (const char *)((uintptr_t)p & ~(uintptr_t)63);
			lf = sip_frame_lf(base, end);
		}
		if ((uint64_t)(p - base) < 64)
			lf &= ~0ull << (p - base);
		n = st.n;
		pend = SIP_HDR_OTHER;
		while (end - p >= 32 && n < SIP_MAX_HDRS) {
			w = _mm256_loadu_si256((const __m256i *)(const void *)p);
			c = _tzcnt_u32((uint32_t)_mm256_movemask_epi8(
				_mm256_cmpeq_epi8(w, colon)));
			if (c - 1 >= 31)
				break;
			/*
			 * A known name equals its literal, so it is a token
			 * and holds no LF; any other name must be a token
			 * that ends at the ':'.
			 */
			if (c == 1) {
				id = sip_hdr_compact(
					span_ascii_lower((unsigned char)*p));
			} else {
				id = sip_hname_idx[c][*p & 31];
				while (id != 0) {
					const struct sip_hname *hn = &sip_hname[id];
					uint32_t eq = (uint32_t)_mm256_movemask_epi8(
						_mm256_cmpeq_epi8(_mm256_or_si256(w,
						_mm256_load_si256((const __m256i *)
							(const void *)hn->fold)),
						_mm256_load_si256((const __m256i *)
							(const void *)hn->lit)));

					if (_bzhi_u32(~eq, c) == 0)
						break;
					id = sip_hname_alt[id];
				}
			}
			if (id == SIP_HDR_OTHER) {
				m = _mm256_and_si256(
					_mm256_shuffle_epi8(tlo,
						_mm256_and_si256(w, nib)),
					_mm256_shuffle_epi8(thi, _mm256_and_si256(
						_mm256_srli_epi16(w, 4), nib)));
				t = _tzcnt_u32((uint32_t)_mm256_movemask_epi8(
					_mm256_cmpeq_epi8(m,
						_mm256_setzero_si256())));
				if (t != c)
					break;
			}
			while (lf == 0 && base + 64 < end) {
				base += 64;
				lf = sip_frame_lf(base, end);
			}
			if (lf == 0)
				break;
			nl = base + _tzcnt_u64(lf);
			if (nl + 1 >= end || nl[1] == ' ' || nl[1] == '\t')
				break;
			lf = _blsr_u64(lf);

			/*
			 * "name: value CRLF" is trimmed without a loop: when
			 * both ends are above SP they are not LWS (and the
			 * value is not empty, as v would be at the CR or LF).
			 */
			h = &msg->hdr[n];
			v = p + c + 1;
			ve = nl - (nl[-1] == '\r');
			v += *v == ' ';
			if ((unsigned char)*v > ' ' && (unsigned char)ve[-1] > ' ')
				h->value = span_range(v, ve);
			else
				h->value = sip_value_trim_slow(p + c + 1, nl);
			sip_hdr_set(h, (uint32_t)(p - buf), c,
				    (uint32_t)(nl + 1 - p), id);
			sip_hdr_link(msg, &st, (enum sip_hdr_id)id, n);
			n++;
			p = nl + 1;
			if (((1ull << SIP_HDR_VIA |
			      1ull << SIP_HDR_CONTENT_LENGTH) >> id) & 1) {
				/* one Via value, or Content-Length: 1*9DIGIT */
				if (id == SIP_HDR_VIA ?
				    st.nvia < SIP_MAX_VIA &&
				    !sip_frame_has_comma(h->value) :
				    sip_frame_clen(msg, h->value)) {
					if (id == SIP_HDR_VIA)
						msg->nvia = (uint16_t)++st.nvia;
					continue;
				}
				pend = id;
				hlast = h;
				break;
			}
		}
		st.n = n;
		msg->nhdr = (uint16_t)n;

		if (pend != SIP_HDR_OTHER) {
			rc = sip_hdr_frame_check(msg, ops, &st,
						 (enum sip_hdr_id)pend,
						 hlast->value);
			if (rc != SIP_PERR_OK)
				return rc;
			continue;
		}

		/* the empty line, else one line by the scans */
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			*next = p + 2;
			return SIP_PERR_OK;
		}
		k = sip_hdr_step_slow(msg, ops, &st, &p, next, &rc);
		if (k != 0)
			return k > 0 ? SIP_PERR_OK : rc;
	}
}
#else /* !__x86_64__ */

void
sip_parse_avx2_init(void)
{
}
#endif /* __x86_64__ */

static enum sip_perr
sip_parse_headers(struct sip_msg *msg, const struct sip_scan_ops *ops,
		  const char *p, const char **next)
{
#if defined(__x86_64__)
	if (ops->impl == SIP_SCAN_AVX2)
		return sip_parse_headers_avx2(msg, ops, p, next);
#endif
	return sip_parse_headers_scan(msg, ops, p, next);
}

/*
 * After header framing stopped at a bad line (verdict @p rc), locate the
 * header lines a local answer copies (RFC 3261 §8.2.6.2: every Via,
 * From, To, Call-ID, CSeq) among the lines after it (from the line that
 * was one too many, for SIP_PERR_TOO_MANY_HDRS), so that the 400 or 513
 * the request gets can be matched by its client (§17.1.3). Lines are
 * taken as they are: "name: value" up to the empty line, a folded header
 * with its continuation lines, names classified as sip_parse() does; an
 * id already located is not taken again, but Via lines are (none after
 * SIP_PERR_TOO_MANY_VIA). Nothing else is recorded; the slots past
 * SIP_MAX_HDRS are there for them. Slow path.
 */
static void
sip_parse_salvage(struct sip_msg *msg, enum sip_perr rc)
{
	const char *buf = msg->buf, *end = buf + msg->len, *p, *nl, *colon;
	uint32_t n = msg->nhdr;
	struct sip_line ln;
	enum sip_hdr_id id;
	uint8_t *link;

	if (msg->err_off >= msg->len)
		return;
	p = rc == SIP_PERR_TOO_MANY_HDRS ? buf + msg->err_off - 1 :
	    memchr(buf + msg->err_off, '\n', msg->len - msg->err_off);
	for (; p != NULL && p + 1 < end &&
	       n < SIP_MAX_HDRS + SIP_SALVAGE_HDRS; p = nl) {
		p++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL || nl == p || (nl == p + 1 && *p == '\r'))
			return;         /* no whole line left, or the empty one */
		if (sip_is_wsp(*p))
			continue;       /* the rest of a header not taken */
		/* A folded header: its continuation lines too. */
		while (nl != NULL && nl + 1 < end && sip_is_wsp(nl[1]))
			nl = memchr(nl + 1, '\n', (size_t)(end - nl - 1));
		if (nl == NULL)
			return;
		colon = memchr(p, ':', (size_t)(nl - p));
		if (colon == NULL)
			continue;
		for (ln.ne = colon; ln.ne > p && sip_is_wsp(ln.ne[-1]); ln.ne--)
			;
		id = sip_hdr_classify(span_range(p, ln.ne));
		if (id == SIP_HDR_VIA ? rc == SIP_PERR_TOO_MANY_VIA :
		    (id != SIP_HDR_FROM && id != SIP_HDR_TO &&
		     id != SIP_HDR_CALL_ID && id != SIP_HDR_CSEQ) ||
		    msg->first[id] != SIP_HDR_NONE)
			continue;
		ln.v = colon + 1;
		ln.nl = nl;
		ln.id = id;
		sip_hdr_fill(msg, n, p, &ln);
		for (link = &msg->first[id]; *link != SIP_HDR_NONE;
		     link = &msg->hdr[*link].next)
			;
		*link = (uint8_t)n;
		msg->nhdr = (uint16_t)++n;
	}
}

enum sip_perr
sip_parse(struct sip_msg *msg, const char *buf, uint32_t len)
{
	const struct sip_scan_ops *ops;
	const char *p, *body;
	enum sip_perr rc, hrc;
	uint32_t off, err_off;

	msg->buf = buf;
	msg->len = len;
	msg->msg_len = 0;
	msg->hdr_off = 0;
	msg->body_off = 0;
	msg->body_len = 0;
	msg->err_off = 0;
	msg->clen = -1;
	msg->is_request = 0;
	msg->method = SIP_METHOD_OTHER;
	msg->status = 0;
	msg->nhdr = 0;
	msg->nvia = 0;
	msg->method_name = SPAN_NULL;
	msg->ruri = SPAN_NULL;
	msg->reason = SPAN_NULL;
	memset(msg->first, SIP_HDR_NONE, sizeof(msg->first));

	if (len > SIP_MAX_MSG_LEN) {
		msg->err_off = SIP_MAX_MSG_LEN;
		return SIP_PERR_TOO_BIG;
	}

	ops = sip_scan_ops();
	rc = sip_parse_start_line(msg, ops, &p);
	if (rc != SIP_PERR_OK) {
		if (!sip_is_answerable_start_err(msg, rc))
			return rc;
		/*
		 * A malformed Request-Line is answered (400, 414, 505), and the
		 * answer copies Via, From, To, Call-ID and CSeq: locate the
		 * headers, then report the Request-Line's verdict and offset.
		 */
		err_off = msg->err_off;
		msg->hdr_off = (uint32_t)(p - buf);
		hrc = sip_parse_headers(msg, ops, p, &body);
		if (hrc != SIP_PERR_OK)
			sip_parse_salvage(msg, hrc);
		msg->err_off = err_off;
		return rc;
	}
	msg->hdr_off = (uint32_t)(p - buf);

	rc = sip_parse_headers(msg, ops, p, &body);
	if (rc != SIP_PERR_OK) {
		err_off = msg->err_off;
		sip_parse_salvage(msg, rc);
		msg->err_off = err_off;
		return rc;
	}

	off = (uint32_t)(body - buf);
	msg->body_off = off;
	if (msg->clen < 0) {
		msg->msg_len = len;
	} else {
		if ((uint32_t)msg->clen > len - off)
			return sip_fail(msg, SIP_PERR_BODY_SHORT, buf + len);
		msg->msg_len = off + (uint32_t)msg->clen;
	}
	msg->body_len = msg->msg_len - off;
	return SIP_PERR_OK;
}

/* ---- value lists ------------------------------------------------------- */

void
sip_values_init(struct sip_value_iter *it, const struct sip_msg *msg,
		enum sip_hdr_id id)
{
	it->msg = msg;
	it->id = (uint8_t)id;
	it->hdr = (unsigned int)id < SIP_HDR__COUNT ? msg->first[id] :
						      SIP_HDR_NONE;
	if (it->hdr != SIP_HDR_NONE) {
		it->p = msg->hdr[it->hdr].value.ptr;
		it->end = span_end(msg->hdr[it->hdr].value);
	} else {
		it->p = NULL;
		it->end = NULL;
	}
}

/*
 * it->p is the start of the next value of line it->hdr, or NULL once that
 * line is used up. A line always yields at least one (maybe empty) value,
 * so "Via:" with nothing after it is seen by sip_msg_check().
 */
int
sip_values_next(struct sip_value_iter *it, struct span *value)
{
	const struct sip_hdr *h;
	const char *q;

	while (it->hdr != SIP_HDR_NONE) {
		if (it->p != NULL) {
			q = sip_value_split(sip_scan_get(), it->p, it->end);
			if (q == NULL) {
				it->hdr = SIP_HDR_NONE;
				it->p = NULL;
				return -EBADMSG;
			}
			*value = sip_trim(span_range(it->p, q));
			it->p = q < it->end ? q + 1 : NULL;
			return 1;
		}
		it->hdr = it->msg->hdr[it->hdr].next;
		if (it->hdr != SIP_HDR_NONE) {
			h = &it->msg->hdr[it->hdr];
			it->p = h->value.ptr;
			it->end = span_end(h->value);
		}
	}
	return 0;
}
