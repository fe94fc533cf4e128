/* SPDX-License-Identifier: MIT */
/*
 * addrport.h - "ADDR:PORT" as operators write a target: an IPv4 dotted
 * quad, or an IPv6 address in brackets, then ':' and a port 1-65535.
 * Route CSVs (rules/rules_set.c) and the targets.down setting
 * (lmdb-schema/schema.c) read targets with this one parser; each says
 * what is wrong in its own words.
 *
 * Slow path only (inet_pton()).
 */
#ifndef SIPEDGE_COMMON_ADDRPORT_H
#define SIPEDGE_COMMON_ADDRPORT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "span.h"

/* An address and port; af is 4 or 6 (enum rules_af has the same values). */
struct addr_port {
	uint8_t          af;
	uint8_t          pad;
	uint16_t         port;
	uint8_t          addr[16];      /* network order; IPv4 in addr[0..3] */
};

/* What addr_port_parse() found wrong. */
enum addr_port_err {
	ADDR_PORT_OK = 0,
	ADDR_PORT_NO_PORT,              /* no ':PORT' (or "[ADDR" without ']') */
	ADDR_PORT_V6_UNBRACKETED,       /* an IPv6 address without brackets */
	ADDR_PORT_BAD_ADDR,             /* the address part is no IP address */
	ADDR_PORT_BAD_PORT,             /* not a number in 1-65535 */
};

/**
 * Parse @p s as "A.B.C.D:PORT" or "[IPV6]:PORT".
 *
 * @param host
 *   Set to the address text (without brackets) once the form is
 *   recognised, so that a caller can tell a host name from a bad address.
 * @return
 *   ADDR_PORT_OK with *@p out set, or what is wrong.
 */
static inline enum addr_port_err
addr_port_parse(struct span s, struct addr_port *out, struct span *host)
{
	const char *end = span_end(s), *colon = NULL, *p;
	struct span port;
	uint64_t v;
	char buf[64];

	memset(out, 0, sizeof(*out));
	*host = SPAN_NULL;
	if (s.len != 0 && s.ptr[0] == '[') {
		const char *rb = span_chr(s, ']');

		if (rb == NULL || rb + 1 == end || rb[1] != ':')
			return ADDR_PORT_NO_PORT;
		*host = span_range(s.ptr + 1, rb);
		port = span_range(rb + 2, end);
		out->af = 6;
	} else {
		for (p = s.ptr; p < end; p++)
			if (*p == ':')
				colon = p;
		if (colon == NULL)
			return ADDR_PORT_NO_PORT;
		*host = span_range(s.ptr, colon);
		if (span_chr(*host, ':') != NULL)
			return ADDR_PORT_V6_UNBRACKETED;
		port = span_range(colon + 1, end);
		out->af = 4;
	}
	if (host->len == 0 || host->len >= sizeof(buf) ||
	    memchr(host->ptr, '\0', host->len) != NULL)
		return ADDR_PORT_BAD_ADDR;
	memcpy(buf, host->ptr, host->len);
	buf[host->len] = '\0';
	if (inet_pton(out->af == 4 ? AF_INET : AF_INET6, buf, out->addr) != 1)
		return ADDR_PORT_BAD_ADDR;
	if (span_to_u64(port, 65535, &v) != 0 || v == 0)
		return ADDR_PORT_BAD_PORT;
	out->port = (uint16_t)v;
	return ADDR_PORT_OK;
}

#endif /* SIPEDGE_COMMON_ADDRPORT_H */
