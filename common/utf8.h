/* SPDX-License-Identifier: MIT */
/*
 * utf8.h - UTF-8 validation (RFC 3629): what the control protocol's JSON
 * (RFC 8259 §8.1) and rule ids must be.
 */
#ifndef SIPEDGE_COMMON_UTF8_H
#define SIPEDGE_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Length of the valid multi-byte UTF-8 sequence at @p s (@p n bytes
 * available, at least 1), 0 if there is none: ASCII, a stray continuation
 * byte, an overlong form, a surrogate or a code point past U+10FFFF.
 */
static inline size_t
utf8_seq_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		len = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		len = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (u[0] == 0xe0)
		lo = 0xa0;
	else if (u[0] == 0xed)
		hi = 0x9f;              /* no surrogates */
	else if (u[0] == 0xf0)
		lo = 0x90;
	else if (u[0] == 0xf4)
		hi = 0x8f;              /* nothing past U+10FFFF */
	if (n < len || u[1] < lo || u[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return 0;
	return len;
}

/* Are the @p n bytes at @p s valid UTF-8? */
static inline bool
utf8_valid(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_seq_len(s + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

#endif /* SIPEDGE_COMMON_UTF8_H */
