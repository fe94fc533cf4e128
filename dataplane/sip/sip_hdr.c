/* SPDX-License-Identifier: MIT */
/*
 * sip_hdr.c - verdict, header-name and method tables of the SIP library.
 *
 * Hot path. Header names are classified with a switch on length and first
 * letter, which leaves at most two candidates to compare; compact forms are
 * one switch on the letter (RFC 3261 §7.3.3). Every table here is derived
 * from the X-macro lists in sip_types.h, so adding a name there adds it here.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <compiler.h>
#include <span.h>

#include "sip.h"
#include "sip_hdr_priv.h"

static const uint16_t sip_perr_status_tab[SIP_PERR__COUNT] = {
#define X(sym, code, desc) [SIP_PERR_##sym] = (code),
	SIP_PERR_MAP(X)
#undef X
};

static const char *const sip_perr_name_tab[SIP_PERR__COUNT] = {
#define X(sym, code, desc) [SIP_PERR_##sym] = #sym,
	SIP_PERR_MAP(X)
#undef X
};

static const char *const sip_perr_desc_tab[SIP_PERR__COUNT] = {
#define X(sym, code, desc) [SIP_PERR_##sym] = desc,
	SIP_PERR_MAP(X)
#undef X
};

static const char *const sip_hdr_name_tab[SIP_HDR__COUNT] = {
#define X(sym, name, compact) [SIP_HDR_##sym] = name,
	SIP_HDR_MAP(X)
#undef X
};

static const char *const sip_method_name_tab[SIP_METHOD__COUNT] = {
#define X(sym, text) [SIP_METHOD_##sym] = text,
	SIP_METHOD_MAP(X)
#undef X
};

uint16_t
sip_perr_status(enum sip_perr e)
{
	if ((unsigned int)e >= SIP_PERR__COUNT)
		return 0;
	return sip_perr_status_tab[e];
}

const char *
sip_perr_name(enum sip_perr e)
{
	if ((unsigned int)e >= SIP_PERR__COUNT)
		return "UNKNOWN";
	return sip_perr_name_tab[e];
}

const char *
sip_perr_desc(enum sip_perr e)
{
	if ((unsigned int)e >= SIP_PERR__COUNT)
		return "unknown verdict";
	return sip_perr_desc_tab[e];
}

const char *
sip_hdr_name(enum sip_hdr_id id)
{
	if ((unsigned int)id >= SIP_HDR__COUNT)
		return "";
	return sip_hdr_name_tab[id];
}

const char *
sip_method_name(enum sip_method m)
{
	if ((unsigned int)m >= SIP_METHOD__COUNT)
		return "";
	return sip_method_name_tab[m];
}

enum sip_hdr_id
sip_hdr_classify(struct span name)
{
	return sip_hdr_classify_inline(name);
}

/*
 * Methods are case-sensitive: RFC 3261 §25.1 spells each one as %x octets.
 * Anything else is an extension method (SIP_METHOD_OTHER), not an error.
 */
enum sip_method
sip_method_from_span(struct span tok)
{
	switch (tok.len) {
	case 3:
		if (memcmp(tok.ptr, "ACK", 3) == 0)
			return SIP_METHOD_ACK;
		if (memcmp(tok.ptr, "BYE", 3) == 0)
			return SIP_METHOD_BYE;
		break;
	case 4:
		if (memcmp(tok.ptr, "INFO", 4) == 0)
			return SIP_METHOD_INFO;
		break;
	case 5:
		if (memcmp(tok.ptr, "PRACK", 5) == 0)
			return SIP_METHOD_PRACK;
		if (memcmp(tok.ptr, "REFER", 5) == 0)
			return SIP_METHOD_REFER;
		break;
	case 6:
		if (memcmp(tok.ptr, "INVITE", 6) == 0)
			return SIP_METHOD_INVITE;
		if (memcmp(tok.ptr, "CANCEL", 6) == 0)
			return SIP_METHOD_CANCEL;
		if (memcmp(tok.ptr, "UPDATE", 6) == 0)
			return SIP_METHOD_UPDATE;
		if (memcmp(tok.ptr, "NOTIFY", 6) == 0)
			return SIP_METHOD_NOTIFY;
		break;
	case 7:
		if (memcmp(tok.ptr, "OPTIONS", 7) == 0)
			return SIP_METHOD_OPTIONS;
		if (memcmp(tok.ptr, "MESSAGE", 7) == 0)
			return SIP_METHOD_MESSAGE;
		if (memcmp(tok.ptr, "PUBLISH", 7) == 0)
			return SIP_METHOD_PUBLISH;
		break;
	case 8:
		if (memcmp(tok.ptr, "REGISTER", 8) == 0)
			return SIP_METHOD_REGISTER;
		break;
	case 9:
		if (memcmp(tok.ptr, "SUBSCRIBE", 9) == 0)
			return SIP_METHOD_SUBSCRIBE;
		break;
	default:
		break;
	}
	return SIP_METHOD_OTHER;
}
