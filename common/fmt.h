/* SPDX-License-Identifier: MIT */
/*
 * fmt.h - bounded number and text formatting without stdio.
 *
 * The hot path may not call the printf family (STYLE.md H3/H12). These
 * helpers write into a caller buffer and return the number of bytes
 * written, or 0 when the buffer is too small (nothing is written then).
 */
#ifndef SIPEDGE_COMMON_FMT_H
#define SIPEDGE_COMMON_FMT_H

#include <stdint.h>
#include <string.h>

#include "span.h"

/* Decimal digits of v: 1..20. */
static inline uint32_t
fmt_u64_len(uint64_t v)
{
	uint32_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/**
 * Write @p v in decimal.
 *
 * @return
 *   Bytes written (1..20), or 0 if @p cap is too small.
 *
 * Context: any thread, hot-path safe.
 */
static inline uint32_t
fmt_u64(char *out, uint32_t cap, uint64_t v)
{
	uint32_t n = fmt_u64_len(v), i;

	if (n > cap)
		return 0;
	for (i = n; i > 0; i--) {
		out[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return n;
}

/* Lower-case hex of v, exactly @p digits digits (1..16). */
static inline uint32_t
fmt_hex64(char *out, uint32_t cap, uint64_t v, uint32_t digits)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t i;

	if (digits > cap || digits == 0 || digits > 16)
		return 0;
	for (i = digits; i > 0; i--) {
		out[i - 1] = hex[v & 0xf];
		v >>= 4;
	}
	return digits;
}

/* Copy a span; returns bytes written or 0 if it does not fit (or is empty). */
static inline uint32_t
fmt_span(char *out, uint32_t cap, struct span s)
{
	if (s.len > cap)
		return 0;
	if (s.len != 0)
		memcpy(out, s.ptr, s.len);
	return s.len;
}

/*
 * Append-style writer: a cursor that remembers overflow, so a sequence of
 * appends needs one check at the end instead of one per call.
 */
struct fmt_buf {
	char            *p;
	char            *end;
	int              overflow;
};

static inline void
fmt_buf_init(struct fmt_buf *b, char *out, uint32_t cap)
{
	b->p = out;
	b->end = out + cap;
	b->overflow = 0;
}

static inline void
fmt_buf_mem(struct fmt_buf *b, const void *src, uint32_t n)
{
	if (b->overflow || (uint32_t)(b->end - b->p) < n) {
		b->overflow = 1;
		return;
	}
	if (n != 0)
		memcpy(b->p, src, n);
	b->p += n;
}

static inline void
fmt_buf_span(struct fmt_buf *b, struct span s)
{
	fmt_buf_mem(b, s.ptr, s.len);
}

/* s must be a string literal. */
#define fmt_buf_lit(b, s)       fmt_buf_mem((b), (s), sizeof(s) - 1)

static inline void
fmt_buf_u64(struct fmt_buf *b, uint64_t v)
{
	uint32_t n;

	if (b->overflow)
		return;
	n = fmt_u64(b->p, (uint32_t)(b->end - b->p), v);
	if (n == 0)
		b->overflow = 1;
	b->p += n;
}

static inline void
fmt_buf_hex64(struct fmt_buf *b, uint64_t v, uint32_t digits)
{
	uint32_t n;

	if (b->overflow)
		return;
	n = fmt_hex64(b->p, (uint32_t)(b->end - b->p), v, digits);
	if (n == 0)
		b->overflow = 1;
	b->p += n;
}

#endif /* SIPEDGE_COMMON_FMT_H */
