/* SPDX-License-Identifier: MIT */
/*
 * sip_check.c - validation of the fields a router reads in every message.
 *
 * Hot path. sip_parse() only frames a message; this file checks what RFC
 * 3261 §16.3 item 1 ("reasonable syntax") asks of a proxy for the headers it
 * uses, and resolves them into a struct sip_info with the value parsers of
 * sip_uri.c and sip_addr.c. Checks run in the order sip.h documents, and the
 * first failure is the verdict.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <compiler.h>
#include <span.h>

#include "sip.h"
#include "sip_scan.h"

/*
 * word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
 *        "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" /
 *        "[" / "]" / "?" / "{" / "}")                   (RFC 3261 §25.1)
 */
static const uint8_t sip_word[256] = {
	['0' ... '9'] = 1,
	['A' ... 'Z'] = 1,
	['a' ... 'z'] = 1,
	['-'] = 1, ['.'] = 1, ['!'] = 1, ['%'] = 1, ['*'] = 1,
	['_'] = 1, ['+'] = 1, ['`'] = 1, ['\''] = 1, ['~'] = 1,
	['('] = 1, [')'] = 1, ['<'] = 1, ['>'] = 1, [':'] = 1,
	['\\'] = 1, ['"'] = 1, ['/'] = 1, ['['] = 1, [']'] = 1,
	['?'] = 1, ['{'] = 1, ['}'] = 1,
};

/*
 * callid = word [ "@" word ] (RFC 3261 §25.1). token is a subset of word,
 * so the vector token scan skips most of a Call-ID in one step and only
 * the other word characters and the '@' are looked at one by one.
 */
static bool
sip_callid_is_valid(const struct sip_scan_ops *ops, struct span v)
{
	const char *p = v.ptr, *end = span_end(v), *at = NULL;

	if (v.len == 0)
		return false;
	for (;;) {
		p = ops->token(p, end);
		if (p == end)
			break;
		if (*p == '@') {
			if (at != NULL)
				return false;
			at = p;
		} else if (sip_word[(unsigned char)*p] == 0) {
			return false;
		}
		p++;
	}
	return at == NULL || (at != v.ptr && at != end - 1);
}

/*
 * scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3261 §25.1).
 * True when @uri starts with a well-formed scheme that is not sip, sips or
 * tel: such a Request-URI is answered 416 even if the rest of it is not
 * something sip_uri_parse() accepts.
 */
static bool
sip_scheme_is_unknown(struct span uri)
{
	uint32_t i;

	if (uri.len == 0 || (unsigned char)((uri.ptr[0] | 0x20) - 'a') >= 26)
		return false;
	for (i = 1; i < uri.len && uri.ptr[i] != ':'; i++) {
		unsigned char c = (unsigned char)uri.ptr[i];

		if ((unsigned char)((c | 0x20) - 'a') >= 26 &&
		    !span_is_digit(c) && c != '+' && c != '-' && c != '.')
			return false;
	}
	if (i == uri.len)
		return false;
	return !span_eq_nocase(span_make(uri.ptr, i), SPAN_LIT("sip")) &&
	       !span_eq_nocase(span_make(uri.ptr, i), SPAN_LIT("sips")) &&
	       !span_eq_nocase(span_make(uri.ptr, i), SPAN_LIT("tel"));
}

/*
 * Every Via value, across lines; the first one goes to info->via. One
 * Via line that sip_parse() counted as one value (it splits as
 * sip_values_next() does) is that value, trimmed: no iterator. When that
 * split would fail (an unclosed '"' or '<'), the value is no via-parm
 * either, so the verdict is BAD_VIA both ways.
 */
static enum sip_perr
sip_check_via(const struct sip_msg *msg, struct sip_info *info)
{
	const struct sip_hdr *h;
	struct sip_value_iter it;
	struct sip_via tmp;
	struct span v;
	uint32_t n = 0;
	int rc;

	if (msg->first[SIP_HDR_VIA] == SIP_HDR_NONE)
		return SIP_PERR_NO_VIA;
	h = &msg->hdr[msg->first[SIP_HDR_VIA]];
	if (msg->nvia == 1 && h->next == SIP_HDR_NONE) {
		v = sip_trim(h->value);
		if (v.len == 0 || sip_via_parse(&info->via, v) != SIP_PERR_OK)
			return SIP_PERR_BAD_VIA;
		info->nvia = 1;
		return SIP_PERR_OK;
	}
	sip_values_init(&it, msg, SIP_HDR_VIA);
	while ((rc = sip_values_next(&it, &v)) == 1) {
		if (v.len == 0)
			return SIP_PERR_BAD_VIA;
		if (sip_via_parse(n == 0 ? &info->via : &tmp, v) !=
		    SIP_PERR_OK)
			return SIP_PERR_BAD_VIA;
		n++;
	}
	if (rc != 0)
		return SIP_PERR_BAD_VIA;
	info->nvia = (uint16_t)n;
	return SIP_PERR_OK;
}

static enum sip_perr
sip_check_naddr(const struct sip_msg *msg, enum sip_hdr_id id,
		struct sip_naddr *na, enum sip_perr bad)
{
	const struct sip_hdr *h = &msg->hdr[msg->first[id]];

	if (h->value.len == 0 || sip_naddr_parse(na, h->value) != SIP_PERR_OK ||
	    na->star != 0)
		return bad;
	return SIP_PERR_OK;
}

/*
 * Contact values of a REGISTER, each a name-addr/addr-spec or "*"; "*"
 * only alone (RFC 3261 §10.2.2, §20.10). Only a REGISTER's Contacts are
 * read by the router (the registrar binds them); in any other message
 * neither a stateless proxy nor a redirect server reads or changes them,
 * and RFC 3261 §16.3 item 1 says such components, well-formed or not,
 * SHOULD be ignored: so they are, and an INVITE costs one name-addr parse
 * less (about 590 instructions, bench_sip_parse --corpus).
 */
static enum sip_perr
sip_check_contact(const struct sip_msg *msg, struct sip_info *info)
{
	const struct sip_hdr *h;
	struct sip_value_iter it;
	struct sip_naddr na;
	struct span v;
	uint32_t n = 0;
	bool star = false;
	int rc;

	if (msg->first[SIP_HDR_CONTACT] == SIP_HDR_NONE ||
	    !msg->is_request || msg->method != SIP_METHOD_REGISTER)
		return SIP_PERR_OK;
	/*
	 * One Contact line holding one bracketed name-addr: that is the
	 * whole (trimmed) value, with no ',' outside its <> and its quoted
	 * strings (they are what the split skips), so no iterator. Any other
	 * line, and every failure, goes through the iterator.
	 */
	h = &msg->hdr[msg->first[SIP_HDR_CONTACT]];
	if (h->next == SIP_HDR_NONE && h->value.len != 0 &&
	    (h->value.ptr[0] == '<' || h->value.ptr[0] == '"') &&
	    sip_naddr_parse(&na, sip_trim(h->value)) == SIP_PERR_OK &&
	    na.bracketed) {
		info->ncontact = 1;
		return SIP_PERR_OK;
	}
	sip_values_init(&it, msg, SIP_HDR_CONTACT);
	while ((rc = sip_values_next(&it, &v)) == 1) {
		if (v.len == 0 || sip_naddr_parse(&na, v) != SIP_PERR_OK)
			return SIP_PERR_BAD_CONTACT;
		star |= na.star != 0;
		n++;
	}
	if (rc != 0)
		return SIP_PERR_BAD_CONTACT;
	if (star && n > 1)
		return SIP_PERR_BAD_CONTACT;
	info->ncontact = (uint16_t)n;
	return SIP_PERR_OK;
}

/* Request-URI: sip, sips or tel (416 otherwise), no URI headers. */
static enum sip_perr
sip_check_ruri(const struct sip_msg *msg, struct sip_info *info)
{
	if (sip_uri_parse(&info->ruri, msg->ruri) != SIP_PERR_OK)
		return sip_scheme_is_unknown(msg->ruri) ? SIP_PERR_BAD_SCHEME :
							  SIP_PERR_BAD_URI;
	if (info->ruri.scheme_id == SIP_SCHEME_OTHER)
		return SIP_PERR_BAD_SCHEME;
	if (!span_is_null(info->ruri.headers))
		return SIP_PERR_BAD_URI;
	return SIP_PERR_OK;
}

enum sip_perr
sip_msg_check(const struct sip_msg *msg, struct sip_info *info)
{
	static const uint8_t single[] = {
		SIP_HDR_FROM, SIP_HDR_TO, SIP_HDR_CALL_ID, SIP_HDR_CSEQ,
	};
	const struct sip_hdr *h;
	enum sip_perr rc;
	uint64_t mf;
	uint32_t i;

	info->max_forwards = -1;
	info->nvia = 0;
	info->ncontact = 0;
	info->call_id = SPAN_NULL;
	memset(&info->ruri, 0, sizeof(info->ruri));

	rc = sip_check_via(msg, info);
	if (rc != SIP_PERR_OK)
		return rc;

	for (i = 0; i < sizeof(single); i++) {
		if (msg->first[single[i]] == SIP_HDR_NONE)
			return SIP_PERR_MISSING_HDR;
	}
	for (i = 0; i < sizeof(single); i++) {
		if (msg->hdr[msg->first[single[i]]].next != SIP_HDR_NONE)
			return SIP_PERR_DUP_HDR;
	}

	rc = sip_check_naddr(msg, SIP_HDR_FROM, &info->from,
			     SIP_PERR_BAD_FROM);
	if (rc != SIP_PERR_OK)
		return rc;
	rc = sip_check_naddr(msg, SIP_HDR_TO, &info->to, SIP_PERR_BAD_TO);
	if (rc != SIP_PERR_OK)
		return rc;

	info->call_id = msg->hdr[msg->first[SIP_HDR_CALL_ID]].value;
	if (!sip_callid_is_valid(sip_scan_get(), info->call_id))
		return SIP_PERR_BAD_CALLID;

	h = &msg->hdr[msg->first[SIP_HDR_CSEQ]];
	if (sip_cseq_parse(&info->cseq, h->value) != SIP_PERR_OK)
		return SIP_PERR_BAD_CSEQ;
	/* RFC 3261 §8.2.3 / RFC 4475 §3.1.2.17-18: 501 for an unknown method. */
	if (msg->is_request &&
	    !span_eq(info->cseq.method_name, msg->method_name))
		return msg->method == SIP_METHOD_OTHER ?
		       SIP_PERR_EXT_MISMATCH : SIP_PERR_CSEQ_MISMATCH;

	h = sip_msg_hdr(msg, SIP_HDR_MAX_FORWARDS);
	if (h != NULL) {
		if (h->next != SIP_HDR_NONE)
			return SIP_PERR_DUP_HDR;
		/* Max-Forwards = 1*DIGIT, 0..255 (RFC 3261 §20.22) */
		if (span_to_u64(h->value, 255, &mf) != 0)
			return SIP_PERR_BAD_MAXFWD;
		info->max_forwards = (int32_t)mf;
	}

	if (msg->is_request) {
		rc = sip_check_ruri(msg, info);
		if (rc != SIP_PERR_OK)
			return rc;
	}

	return sip_check_contact(msg, info);
}
