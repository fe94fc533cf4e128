/* SPDX-License-Identifier: MIT */
/*
 * sip_hdr_priv.h - header-name classification, private to dataplane/sip:
 * sip_hdr_classify() and the scan header loop of sip_parse() share this one
 * body, which the header loop inlines: no call and no register spills per
 * header line, 13,685 -> 13,540 instructions per bench_sip_parse INVITE
 * (callgrind). The AVX2 header loop (sip_parse.c) classifies with a table
 * built from the same SIP_HDR_MAP names and one masked 32-byte compare;
 * test_sip_parse checks that both give the same ids.
 *
 * Hot path. A switch on length and first letter leaves at most two
 * candidates, each compared with two or three word loads.
 */
#ifndef SIPEDGE_SIP_SIP_HDR_PRIV_H
#define SIPEDGE_SIP_SIP_HDR_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <span.h>

#include "sip_types.h"

static inline uint64_t
sip_hdr_load(const char *p, uint32_t n)
{
	uint64_t w = 0;

	/* n is 2, 4 or 8: a fixed-size copy compiles to one load. */
	switch (n) {
	case 8:
		memcpy(&w, p, 8);
		break;
	case 4: {
		uint32_t v;

		memcpy(&v, p, 4);
		w = v;
		break;
	}
	default: {
		uint16_t v;

		memcpy(&v, p, 2);
		w = v;
		break;
	}
	}
	return w;
}

/*
 * Case-insensitive equality of up to 8 bytes of wire text @w with the same
 * bytes of a lower-case literal @l made of letters and '-'. Bytes may differ
 * only in bit 5 (0x20), and only where the literal has a letter (bit 6 set):
 * so 'C' matches 'c' but CR (0x0d) does not match '-' (0x2d).
 */
static inline bool
sip_hdr_word_eq(uint64_t w, uint64_t l)
{
	return ((w ^ l) & ~((l & 0x4040404040404040ull) >> 1)) == 0;
}

/*
 * Compare a name of @len bytes (2..24, checked by the caller's switch on
 * length) with a lower-case literal of the same length, with two or three
 * overlapping loads that stay inside both: 2 to 5 instructions per word
 * instead of a loop over bytes.
 */
static inline bool
sip_hdr_eq(struct span name, const char *lit, uint32_t len)
{
	const char *p = name.ptr;
	uint32_t k = len >= 8 ? 8 : len >= 4 ? 4 : 2;

	if (!sip_hdr_word_eq(sip_hdr_load(p, k), sip_hdr_load(lit, k)) ||
	    !sip_hdr_word_eq(sip_hdr_load(p + len - k, k),
			     sip_hdr_load(lit + len - k, k)))
		return false;
	if (len > 16 && !sip_hdr_word_eq(sip_hdr_load(p + 8, 8),
					 sip_hdr_load(lit + 8, 8)))
		return false;
	return true;
}

/* Compact forms, RFC 3261 §7.3.3 and the IANA registry (sip_types.h). */
static inline enum sip_hdr_id
sip_hdr_compact(unsigned char c)
{
	switch (c) {
	case 'b':
		return SIP_HDR_REFERRED_BY;
	case 'c':
		return SIP_HDR_CONTENT_TYPE;
	case 'e':
		return SIP_HDR_CONTENT_ENCODING;
	case 'f':
		return SIP_HDR_FROM;
	case 'i':
		return SIP_HDR_CALL_ID;
	case 'k':
		return SIP_HDR_SUPPORTED;
	case 'l':
		return SIP_HDR_CONTENT_LENGTH;
	case 'm':
		return SIP_HDR_CONTACT;
	case 'o':
		return SIP_HDR_EVENT;
	case 'r':
		return SIP_HDR_REFER_TO;
	case 's':
		return SIP_HDR_SUBJECT;
	case 't':
		return SIP_HDR_TO;
	case 'u':
		return SIP_HDR_ALLOW_EVENTS;
	case 'v':
		return SIP_HDR_VIA;
	case 'x':
		return SIP_HDR_SESSION_EXPIRES;
	default:
		return SIP_HDR_OTHER;
	}
}

static inline enum sip_hdr_id
sip_hdr_classify_inline(struct span name)
{
	unsigned char c;

	if (name.len == 0)
		return SIP_HDR_OTHER;
	c = span_ascii_lower((unsigned char)name.ptr[0]);

	switch (name.len) {
	case 1:
		return sip_hdr_compact(c);
	case 2:
		switch (c) {
		case 't':
			if (sip_hdr_eq(name, "to", 2))
				return SIP_HDR_TO;
			break;
		}
		break;
	case 3:
		switch (c) {
		case 'v':
			if (sip_hdr_eq(name, "via", 3))
				return SIP_HDR_VIA;
			break;
		}
		break;
	case 4:
		switch (c) {
		case 'c':
			if (sip_hdr_eq(name, "cseq", 4))
				return SIP_HDR_CSEQ;
			break;
		case 'd':
			if (sip_hdr_eq(name, "date", 4))
				return SIP_HDR_DATE;
			break;
		case 'f':
			if (sip_hdr_eq(name, "from", 4))
				return SIP_HDR_FROM;
			break;
		case 'p':
			if (sip_hdr_eq(name, "path", 4))
				return SIP_HDR_PATH;
			break;
		}
		break;
	case 5:
		switch (c) {
		case 'a':
			if (sip_hdr_eq(name, "allow", 5))
				return SIP_HDR_ALLOW;
			break;
		case 'e':
			if (sip_hdr_eq(name, "event", 5))
				return SIP_HDR_EVENT;
			break;
		case 'r':
			if (sip_hdr_eq(name, "route", 5))
				return SIP_HDR_ROUTE;
			break;
		}
		break;
	case 6:
		switch (c) {
		case 'a':
			if (sip_hdr_eq(name, "accept", 6))
				return SIP_HDR_ACCEPT;
			break;
		case 'm':
			if (sip_hdr_eq(name, "min-se", 6))
				return SIP_HDR_MIN_SE;
			break;
		case 's':
			if (sip_hdr_eq(name, "server", 6))
				return SIP_HDR_SERVER;
			break;
		}
		break;
	case 7:
		switch (c) {
		case 'c':
			if (sip_hdr_eq(name, "call-id", 7))
				return SIP_HDR_CALL_ID;
			if (sip_hdr_eq(name, "contact", 7))
				return SIP_HDR_CONTACT;
			break;
		case 'e':
			if (sip_hdr_eq(name, "expires", 7))
				return SIP_HDR_EXPIRES;
			break;
		case 'r':
			if (sip_hdr_eq(name, "require", 7))
				return SIP_HDR_REQUIRE;
			break;
		case 's':
			if (sip_hdr_eq(name, "subject", 7))
				return SIP_HDR_SUBJECT;
			break;
		}
		break;
	case 8:
		switch (c) {
		case 'r':
			if (sip_hdr_eq(name, "refer-to", 8))
				return SIP_HDR_REFER_TO;
			break;
		}
		break;
	case 9:
		switch (c) {
		case 's':
			if (sip_hdr_eq(name, "supported", 9))
				return SIP_HDR_SUPPORTED;
			break;
		case 't':
			if (sip_hdr_eq(name, "timestamp", 9))
				return SIP_HDR_TIMESTAMP;
			break;
		}
		break;
	case 10:
		switch (c) {
		case 'u':
			if (sip_hdr_eq(name, "user-agent", 10))
				return SIP_HDR_USER_AGENT;
			break;
		}
		break;
	case 11:
		switch (c) {
		case 'm':
			if (sip_hdr_eq(name, "min-expires", 11))
				return SIP_HDR_MIN_EXPIRES;
			break;
		case 'r':
			if (sip_hdr_eq(name, "referred-by", 11))
				return SIP_HDR_REFERRED_BY;
			if (sip_hdr_eq(name, "retry-after", 11))
				return SIP_HDR_RETRY_AFTER;
			break;
		case 'u':
			if (sip_hdr_eq(name, "unsupported", 11))
				return SIP_HDR_UNSUPPORTED;
			break;
		}
		break;
	case 12:
		switch (c) {
		case 'a':
			if (sip_hdr_eq(name, "allow-events", 12))
				return SIP_HDR_ALLOW_EVENTS;
			break;
		case 'c':
			if (sip_hdr_eq(name, "content-type", 12))
				return SIP_HDR_CONTENT_TYPE;
			break;
		case 'm':
			if (sip_hdr_eq(name, "max-forwards", 12))
				return SIP_HDR_MAX_FORWARDS;
			break;
		case 'r':
			if (sip_hdr_eq(name, "record-route", 12))
				return SIP_HDR_RECORD_ROUTE;
			break;
		}
		break;
	case 13:
		switch (c) {
		case 'a':
			if (sip_hdr_eq(name, "authorization", 13))
				return SIP_HDR_AUTHORIZATION;
			break;
		case 'p':
			if (sip_hdr_eq(name, "proxy-require", 13))
				return SIP_HDR_PROXY_REQUIRE;
			break;
		}
		break;
	case 14:
		switch (c) {
		case 'c':
			if (sip_hdr_eq(name, "content-length", 14))
				return SIP_HDR_CONTENT_LENGTH;
			break;
		}
		break;
	case 15:
		switch (c) {
		case 's':
			if (sip_hdr_eq(name, "session-expires", 15))
				return SIP_HDR_SESSION_EXPIRES;
			break;
		}
		break;
	case 16:
		switch (c) {
		case 'c':
			if (sip_hdr_eq(name, "content-encoding", 16))
				return SIP_HDR_CONTENT_ENCODING;
			break;
		case 'w':
			if (sip_hdr_eq(name, "www-authenticate", 16))
				return SIP_HDR_WWW_AUTHENTICATE;
			break;
		}
		break;
	case 18:
		switch (c) {
		case 'p':
			if (sip_hdr_eq(name, "proxy-authenticate", 18))
				return SIP_HDR_PROXY_AUTHENTICATE;
			break;
		}
		break;
	case 19:
		switch (c) {
		case 'p':
			if (sip_hdr_eq(name, "proxy-authorization", 19))
				return SIP_HDR_PROXY_AUTHORIZATION;
			if (sip_hdr_eq(name, "p-asserted-identity", 19))
				return SIP_HDR_P_ASSERTED_IDENTITY;
			break;
		}
		break;
	}
	return SIP_HDR_OTHER;
}

#endif /* SIPEDGE_SIP_SIP_HDR_PRIV_H */
