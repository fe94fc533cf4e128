/* SPDX-License-Identifier: MIT */
/*
 * sip_parse.c - start line, header framing and value lists of a SIP message.
 *
 * Hot path. One forward pass over the bytes: the start line, then one
 * header line at a time (name end and line end by the vector scans of
 * sip_scan.c), then the body framed by Content-Length (RFC 3261 §18.3).
 * Header values are located, classified and linked by id but not validated
 * here, except the two the framing depends on: Content-Length, and the
 * number of Via values (limit SIP_MAX_VIA). Every loop is bounded by the
 * datagram length.
 *
 * Cost, measured with callgrind on tests/fixtures/sip/valid/invite_sdp.sip
 * (966 bytes, 15 header lines): about 3,450 instructions per sip_parse().
 */
#include <errno.h>
#include <stdbool.h>
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
	if (!span_eq_nocase(span_range(buf, sp), SPAN_LIT("sip/2.0")))
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
sip_parse_request_line(struct sip_msg *msg, const char *sp1, const char *eol)
{
	const char *buf = msg->buf, *sp2, *uri;
	uint32_t ulen;

	/*
	 * A method token followed by SP makes this a request, whatever is
	 * wrong after it: the caller answers it (400, 414, 505) once the
	 * headers are located.
	 */
	msg->is_request = 1;
	msg->method_name = span_range(buf, sp1);
	msg->method = (uint8_t)sip_method_from_span(msg->method_name);

	/* The version is short: find the last SP scanning back from the end. */
	sp2 = eol;
	while (sp2 > sp1 && sp2[-1] != ' ')
		sp2--;
	sp2--;
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
	{
		const char *ws = memchr(uri, ' ', ulen);
		const char *tab = memchr(uri, '\t', ulen);

		if (ws == NULL || (tab != NULL && tab < ws))
			ws = tab;
		if (ws != NULL)
			return sip_fail(msg, SIP_PERR_BAD_REQ_LINE, ws);
	}
	if (!span_eq_nocase(span_range(sp2 + 1, eol), SPAN_LIT("sip/2.0")))
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

	nl = ops->lf(buf, end);
	if (nl == end)
		return sip_fail(msg, SIP_PERR_TRUNCATED, end);
	eol = (nl > buf && nl[-1] == '\r') ? nl - 1 : nl;
	*next = nl + 1;

	if (eol - buf >= 4 &&
	    span_eq_nocase(span_make(buf, 4), SPAN_LIT("sip/")))
		return sip_parse_status_line(msg, eol);

	p = ops->token(buf, eol);
	if (p == buf || p == eol || *p != ' ')
		return sip_fail(msg, SIP_PERR_BAD_START, p);
	return sip_parse_request_line(msg, p, eol);
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

/*
 * message-header = field-name HCOLON field-value CRLF, with LWS = [*WSP
 * CRLF] 1*WSP folding (RFC 3261 §7.3.1, §25.1); bare LF line ends are
 * accepted as well. On success *next is the first body byte.
 */
static enum sip_perr
sip_parse_headers(struct sip_msg *msg, const struct sip_scan_ops *ops,
		  const char *p, const char **next)
{
	const char *buf = msg->buf, *end = buf + msg->len;
	uint8_t last[SIP_HDR__COUNT];
	uint32_t n = 0, nvia = 0;
	enum sip_perr rc;

	for (;;) {
		const char *name, *ne, *v, *ve, *nl;
		struct sip_hdr *h;
		enum sip_hdr_id id;

		if (p >= end)
			return sip_fail(msg, SIP_PERR_TRUNCATED, end);
		if (*p == '\r' || *p == '\n') {
			if (*p == '\r') {
				if (end - p < 2)
					return sip_fail(msg, SIP_PERR_TRUNCATED,
							end);
				if (p[1] != '\n')
					return sip_fail(msg, SIP_PERR_BAD_HDR,
							p);
				p++;
			}
			*next = p + 1;
			break;
		}
		if (n == SIP_MAX_HDRS)
			return sip_fail(msg, SIP_PERR_TOO_MANY_HDRS, p);

		name = p;
		p = ops->token(p, end);
		if (p == name)
			return sip_fail(msg, SIP_PERR_BAD_HDR, p);
		ne = p;
		if (p == end || *p != ':') {
			while (p < end && sip_is_wsp(*p))
				p++;
			if (p == end)
				return sip_fail(msg, SIP_PERR_TRUNCATED, end);
			if (*p != ':')
				return sip_fail(msg, SIP_PERR_BAD_HDR, p);
		}
		id = sip_hdr_classify_inline(span_range(name, ne));

		/* Line end; a following SP or HTAB folds the next line in. */
		v = ++p;
		for (;;) {
			nl = ops->lf(p, end);
			if (end - nl < 2)
				return sip_fail(msg, SIP_PERR_TRUNCATED, end);
			if (!sip_is_wsp(nl[1]))
				break;
			p = nl + 1;
		}
		/*
		 * Trailing LWS first, so an empty value stays after the colon.
		 * The common "name: value CRLF" costs two compares here.
		 */
		ve = nl;
		if (ve[-1] == '\r' && ve > v)
			ve--;
		while (ve > v && sip_is_lws(ve[-1]))
			ve--;
		if (*v == ' ' && v < ve)
			v++;
		while (v < ve && sip_is_lws(*v))
			v++;

		h = &msg->hdr[n];
		h->value = span_range(v, ve);
		h->off = (uint32_t)(name - buf);
		h->name_len = (uint16_t)(ne - name);
		h->line_len = (uint16_t)(nl + 1 - name);
		h->id = (uint8_t)id;
		h->next = SIP_HDR_NONE;
		if (msg->first[id] == SIP_HDR_NONE)
			msg->first[id] = (uint8_t)n;
		else
			msg->hdr[last[id]].next = (uint8_t)n;
		last[id] = (uint8_t)n;
		/*
		 * Kept current, so that after a failure the headers seen so
		 * far can still be copied into a 400 (sip_resp_build()).
		 */
		msg->nhdr = (uint16_t)(n + 1);

		switch (id) {
		case SIP_HDR_VIA:
			nvia += sip_via_count(ops, v, ve);
			msg->nvia = (uint16_t)nvia;
			if (nvia > SIP_MAX_VIA)
				return sip_fail(msg, SIP_PERR_TOO_MANY_VIA, v);
			break;
		case SIP_HDR_CONTENT_LENGTH:
			rc = sip_parse_clen(msg, h->value);
			if (rc != SIP_PERR_OK)
				return rc;
			break;
		default:
			break;
		}
		n++;
		p = nl + 1;
	}
	return SIP_PERR_OK;
}

enum sip_perr
sip_parse(struct sip_msg *msg, const char *buf, uint32_t len)
{
	const struct sip_scan_ops *ops;
	const char *p, *body;
	enum sip_perr rc;
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
		(void)sip_parse_headers(msg, ops, p, &body);
		msg->err_off = err_off;
		return rc;
	}
	msg->hdr_off = (uint32_t)(p - buf);

	rc = sip_parse_headers(msg, ops, p, &body);
	if (rc != SIP_PERR_OK)
		return rc;

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
			*value = span_trim(span_range(it->p, q));
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
