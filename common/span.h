/* SPDX-License-Identifier: MIT */
/*
 * span.h - borrowed byte ranges.
 *
 * A span never owns memory. It is valid for as long as the buffer it was
 * cut from: in the dataplane that is the mbuf, in control/ the read buffer.
 * Every helper here is bounded by the span's length and never relies on a
 * terminating NUL, so all of them are hot-path safe.
 */
#ifndef SIPEDGE_COMMON_SPAN_H
#define SIPEDGE_COMMON_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Pointer plus length: small enough to pass and return in registers. */
struct span {
	const char      *ptr;
	uint32_t         len;
};

/* s must be a string literal. */
#define SPAN_LIT(s)     ((struct span){ .ptr = (s), .len = sizeof(s) - 1 })

/* The empty span; ptr NULL means "absent", len 0 with a ptr "present, empty". */
#define SPAN_NULL       ((struct span){ .ptr = NULL, .len = 0 })

static inline struct span
span_make(const char *ptr, size_t len)
{
	return (struct span){ .ptr = ptr, .len = (uint32_t)len };
}

/* Span from p up to (not including) end; end >= p. */
static inline struct span
span_range(const char *p, const char *end)
{
	return (struct span){ .ptr = p, .len = (uint32_t)(end - p) };
}

static inline bool
span_is_null(struct span s)
{
	return s.ptr == NULL;
}

static inline const char *
span_end(struct span s)
{
	return s.ptr + s.len;
}

/* ASCII only: packet bytes are not locale text, so never call tolower(). */
static inline unsigned char
span_ascii_lower(unsigned char c)
{
	return (unsigned char)(c - 'A') < 26 ? (unsigned char)(c | 0x20) : c;
}

static inline bool
span_is_digit(unsigned char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* Exact byte comparison. */
static inline bool
span_eq(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/**
 * Compare a span with a literal, ignoring ASCII case.
 *
 * @param s
 *   Bytes from the wire; may contain anything, including NUL.
 * @param lit
 *   Expected text, already in lower case (usually SPAN_LIT("...")).
 * @return
 *   true if both have the same length and match case-insensitively.
 *
 * Context: any thread, hot-path safe. Reads at most s.len bytes.
 */
static inline bool
span_eq_nocase(struct span s, struct span lit)
{
	uint32_t i;

	if (s.len != lit.len)
		return false;
	for (i = 0; i < s.len; i++) {
		if (span_ascii_lower((unsigned char)s.ptr[i]) !=
		    (unsigned char)lit.ptr[i])
			return false;
	}
	return true;
}

/* Both sides from the wire: case-insensitive ASCII comparison. */
static inline bool
span_eq_nocase2(struct span a, struct span b)
{
	uint32_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++) {
		if (span_ascii_lower((unsigned char)a.ptr[i]) !=
		    span_ascii_lower((unsigned char)b.ptr[i]))
			return false;
	}
	return true;
}

/* First occurrence of c in s, or NULL. */
static inline const char *
span_chr(struct span s, char c)
{
	return s.len != 0 ? memchr(s.ptr, c, s.len) : NULL;
}

static inline bool
span_is_lws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Strip leading and trailing SP, HTAB, CR and LF (folded LWS). */
static inline struct span
span_trim(struct span s)
{
	const char *p = s.ptr, *e = s.ptr + s.len;

	while (p < e && span_is_lws((unsigned char)*p))
		p++;
	while (e > p && span_is_lws((unsigned char)e[-1]))
		e--;
	return span_range(p, e);
}

/**
 * Parse an unsigned decimal number that fills the whole span.
 *
 * @return
 *   0 and *out set; -EINVAL if the span is empty or has a non-digit;
 *   -ERANGE if the value exceeds @p max. Leading zeros are allowed.
 *
 * Context: any thread, hot-path safe.
 */
static inline int
span_to_u64(struct span s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	uint32_t i;

	if (s.len == 0)
		return -22;     /* -EINVAL, without pulling errno.h in */
	for (i = 0; i < s.len; i++) {
		unsigned char d = (unsigned char)(s.ptr[i] - '0');

		if (d > 9)
			return -22;
		if (v > (max - d) / 10)
			return -34;     /* -ERANGE */
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

#endif /* SIPEDGE_COMMON_SPAN_H */
