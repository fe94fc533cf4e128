/* SPDX-License-Identifier: MIT */
/*
 * sip_move_priv.h - moves of at most 16 bytes without a call (private to
 * the SIP library: sip_resp.c and sip_rewrite.c).
 *
 * Every byte is loaded before any is stored (two overlapping 8- or 4-byte
 * words, or three single bytes), so source and destination may overlap.
 */
#ifndef SIPEDGE_SIP_SIP_MOVE_PRIV_H
#define SIPEDGE_SIP_SIP_MOVE_PRIV_H

#include <stdint.h>
#include <string.h>

/* memmove() of @p n <= 16 bytes. */
static inline __attribute__((always_inline)) void
sip_move16(char *dst, const char *src, uint32_t n)
{
	uint64_t a, b;
	uint32_t c, d;
	char x, y, z;

	if (n >= 8) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&c, src, 4);
		memcpy(&d, src + n - 4, 4);
		memcpy(dst, &c, 4);
		memcpy(dst + n - 4, &d, 4);
	} else if (n != 0) {
		x = src[0];
		y = src[n >> 1];
		z = src[n - 1];
		dst[0] = x;
		dst[n >> 1] = y;
		dst[n - 1] = z;
	}
}

#endif /* SIPEDGE_SIP_SIP_MOVE_PRIV_H */
