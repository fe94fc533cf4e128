/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sip_parse.c - libFuzzer target for the SIP library: the message
 * parser, the checks, every value sub-parser, rewriting and responses.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined only (-Dfuzz).
 * The input is copied into an exact-size heap block so AddressSanitizer
 * catches a read one byte too far.
 *
 * A 302 built for every checked request is parsed and checked again and
 * must carry the request's Vias, From, To (tagged), Call-ID and CSeq.
 *
 * Differential: the parse and the checks, and the name-addr, URI and Via
 * parsers on every header value, are run with the scalar scans, the
 * SSE4.2 scans and the AVX2 framing and value masks (those the CPU has),
 * and every verdict, offset, header and resolved field must be the same
 * (abort() otherwise): the vector paths are fast paths of one grammar,
 * not other parsers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sip.h>

#include "sip_scan.h"
#include "sip_uri_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One parse and check, kept to compare implementations. */
struct fuzz_res {
	enum sip_perr    pe;            /* sip_parse() */
	enum sip_perr    ce;            /* sip_msg_check(), when pe is OK */
	struct sip_msg   msg;
	struct sip_info  info;
};

/* The scan tables and value masks compared, the first the reference. */
static const struct {
	enum sip_scan_impl scan;
	bool             val_avx2;
} fuzz_impls[] = {
	{ SIP_SCAN_SCALAR, false },
	{ SIP_SCAN_SSE42, false },
	{ SIP_SCAN_AVX2, false },
	{ SIP_SCAN_AVX2, true },
};

#define FUZZ_SAME(c)    do { if (!(c)) abort(); } while (0)

static void
fuzz_span_same(struct span a, struct span b)
{
	FUZZ_SAME(a.ptr == b.ptr && a.len == b.len);
}

static void
fuzz_uri_same(const struct sip_uri *a, const struct sip_uri *b)
{
	fuzz_span_same(a->scheme, b->scheme);
	fuzz_span_same(a->user, b->user);
	fuzz_span_same(a->password, b->password);
	fuzz_span_same(a->host, b->host);
	fuzz_span_same(a->port_str, b->port_str);
	fuzz_span_same(a->params, b->params);
	fuzz_span_same(a->headers, b->headers);
	fuzz_span_same(a->opaque, b->opaque);
	FUZZ_SAME(a->port == b->port && a->scheme_id == b->scheme_id &&
		  a->host_type == b->host_type);
}

static void
fuzz_naddr_same(const struct sip_naddr *a, const struct sip_naddr *b)
{
	fuzz_span_same(a->display, b->display);
	fuzz_span_same(a->uri, b->uri);
	fuzz_span_same(a->params, b->params);
	fuzz_span_same(a->tag, b->tag);
	FUZZ_SAME(a->star == b->star && a->bracketed == b->bracketed);
}

static void
fuzz_res_same(const struct fuzz_res *a, const struct fuzz_res *b)
{
	const struct sip_msg *x = &a->msg, *y = &b->msg;
	unsigned int i;

	FUZZ_SAME(a->pe == b->pe);
	if (a->pe != SIP_PERR_OK) {
		FUZZ_SAME(x->err_off == y->err_off);
		return;
	}
	FUZZ_SAME(x->len == y->len && x->msg_len == y->msg_len &&
		  x->hdr_off == y->hdr_off && x->body_off == y->body_off &&
		  x->body_len == y->body_len && x->clen == y->clen &&
		  x->is_request == y->is_request && x->method == y->method &&
		  x->status == y->status && x->nhdr == y->nhdr &&
		  x->nvia == y->nvia);
	fuzz_span_same(x->method_name, y->method_name);
	fuzz_span_same(x->ruri, y->ruri);
	fuzz_span_same(x->reason, y->reason);
	FUZZ_SAME(memcmp(x->first, y->first, sizeof(x->first)) == 0);
	for (i = 0; i < x->nhdr; i++) {
		const struct sip_hdr *h = &x->hdr[i], *k = &y->hdr[i];

		fuzz_span_same(h->value, k->value);
		FUZZ_SAME(h->off == k->off && h->name_len == k->name_len &&
			  h->line_len == k->line_len && h->id == k->id &&
			  h->next == k->next);
	}
	FUZZ_SAME(a->ce == b->ce);
	if (a->ce != SIP_PERR_OK)
		return;
	fuzz_span_same(a->info.via.value, b->info.via.value);
	fuzz_span_same(a->info.via.proto, b->info.via.proto);
	fuzz_span_same(a->info.via.transport, b->info.via.transport);
	fuzz_span_same(a->info.via.host, b->info.via.host);
	fuzz_span_same(a->info.via.params, b->info.via.params);
	fuzz_span_same(a->info.via.branch, b->info.via.branch);
	fuzz_span_same(a->info.via.received, b->info.via.received);
	fuzz_span_same(a->info.via.rport, b->info.via.rport);
	fuzz_span_same(a->info.via.maddr, b->info.via.maddr);
	fuzz_span_same(a->info.via.ttl, b->info.via.ttl);
	FUZZ_SAME(a->info.via.port == b->info.via.port &&
		  a->info.via.host_type == b->info.via.host_type);
	fuzz_naddr_same(&a->info.from, &b->info.from);
	fuzz_naddr_same(&a->info.to, &b->info.to);
	fuzz_span_same(a->info.call_id, b->info.call_id);
	fuzz_span_same(a->info.cseq.method_name, b->info.cseq.method_name);
	FUZZ_SAME(a->info.cseq.num == b->info.cseq.num &&
		  a->info.cseq.method == b->info.cseq.method);
	if (x->is_request)
		fuzz_uri_same(&a->info.ruri, &b->info.ruri);
	FUZZ_SAME(a->info.max_forwards == b->info.max_forwards &&
		  a->info.nvia == b->info.nvia &&
		  a->info.ncontact == b->info.ncontact);
}

static void
fuzz_via_same(const struct sip_via *a, const struct sip_via *b)
{
	fuzz_span_same(a->value, b->value);
	fuzz_span_same(a->proto, b->proto);
	fuzz_span_same(a->transport, b->transport);
	fuzz_span_same(a->host, b->host);
	fuzz_span_same(a->params, b->params);
	fuzz_span_same(a->branch, b->branch);
	fuzz_span_same(a->received, b->received);
	fuzz_span_same(a->rport, b->rport);
	fuzz_span_same(a->maddr, b->maddr);
	fuzz_span_same(a->ttl, b->ttl);
	FUZZ_SAME(a->port == b->port && a->host_type == b->host_type);
}

/* The value parsers on one header value, results kept to compare. */
struct fuzz_vals {
	enum sip_perr    ne, ue, ve;
	struct sip_naddr na;
	struct sip_uri   uri;
	struct sip_via   via;
};

static void
fuzz_vals_run(struct span v, struct fuzz_vals *r)
{
	memset(r, 0, sizeof(*r));
	r->ne = sip_naddr_parse(&r->na, v);
	r->ue = r->ne == SIP_PERR_OK ? sip_uri_parse(&r->uri, r->na.uri) :
				       sip_uri_parse(&r->uri, v);
	r->ve = sip_via_parse(&r->via, v);
}

static void
fuzz_vals_same(const struct fuzz_vals *a, const struct fuzz_vals *b)
{
	FUZZ_SAME(a->ne == b->ne && a->ue == b->ue && a->ve == b->ve);
	if (a->ne == SIP_PERR_OK)
		fuzz_naddr_same(&a->na, &b->na);
	if (a->ue == SIP_PERR_OK)
		fuzz_uri_same(&a->uri, &b->uri);
	if (a->ve == SIP_PERR_OK)
		fuzz_via_same(&a->via, &b->via);
}

/*
 * Every header value of @p msg through the name-addr, URI and Via
 * parsers with each implementation: the same answers as the scalar ones
 * (Contact and Route values, say, which sip_msg_check() does not read in
 * an INVITE).
 */
static void
fuzz_values_differential(const struct sip_msg *msg)
{
	static struct fuzz_vals ref, got;
	unsigned int h, i;

	for (h = 0; h < msg->nhdr && h < 64; h++) {
		for (i = 0; i < sizeof(fuzz_impls) / sizeof(fuzz_impls[0]);
		     i++) {
			if (sip_scan_select(fuzz_impls[i].scan) != 0 ||
			    sip_val_select(fuzz_impls[i].val_avx2) != 0)
				continue;
			fuzz_vals_run(msg->hdr[h].value, i == 0 ? &ref : &got);
			if (i != 0)
				fuzz_vals_same(&ref, &got);
		}
	}
}

/*
 * Parse and check @p buf with every implementation the CPU has; they
 * must agree with the scalar one. The scan table chosen at load time is
 * put back.
 */
static void
fuzz_differential(const char *buf, uint32_t n)
{
	static struct fuzz_res ref, got;
	const bool val0 = sip_val_avx2;
	unsigned int i;

	for (i = 0; i < sizeof(fuzz_impls) / sizeof(fuzz_impls[0]); i++) {
		struct fuzz_res *r = i == 0 ? &ref : &got;

		if (sip_scan_select(fuzz_impls[i].scan) != 0 ||
		    sip_val_select(fuzz_impls[i].val_avx2) != 0)
			continue;
		memset(r, 0, sizeof(*r));
		r->pe = sip_parse(&r->msg, buf, n);
		r->ce = r->pe == SIP_PERR_OK ?
			sip_msg_check(&r->msg, &r->info) : SIP_PERR_OK;
		if (i != 0)
			fuzz_res_same(&ref, &got);
	}
	if (ref.pe == SIP_PERR_OK)
		fuzz_values_differential(&ref.msg);
	(void)sip_scan_select(SIP_SCAN_AUTO);
	(void)sip_val_select(val0);
}

static void
fuzz_values(const struct sip_msg *msg)
{
	static const enum sip_hdr_id ids[] = {
		SIP_HDR_VIA, SIP_HDR_CONTACT, SIP_HDR_ROUTE,
		SIP_HDR_RECORD_ROUTE, SIP_HDR_PROXY_REQUIRE,
	};
	struct sip_value_iter it;
	struct sip_naddr na;
	struct sip_via via;
	struct sip_uri uri;
	struct span v, name, val, rest;
	unsigned int i;
	uint16_t q;
	char out[256];

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sip_values_init(&it, msg, ids[i]);
		while (sip_values_next(&it, &v) == 1) {
			if (ids[i] == SIP_HDR_VIA) {
				(void)sip_via_parse(&via, v);
				continue;
			}
			if (sip_naddr_parse(&na, v) != SIP_PERR_OK)
				continue;
			(void)sip_naddr_q(&na, &q);
			if (sip_uri_parse(&uri, na.uri) == SIP_PERR_OK) {
				uint8_t addr[16];

				(void)sip_unescape(uri.user, out, sizeof(out));
				(void)sip_host_to_ip(uri.host, addr);
				rest = uri.params;
				while (sip_param_next(&rest, &name, &val) == 1)
					;
			}
		}
	}
}

static bool
fuzz_text_eq(struct span a, struct span b)
{
	return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/*
 * Request text @p a as an answer copies it into @p b: the same bytes, but
 * a CR that starts no CRLF, which becomes SP (sip_resp_build(): no lone
 * CR goes out). The byte after @p a is in its message (its line end at
 * least).
 */
static bool
fuzz_text_copied(struct span a, struct span b)
{
	uint32_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++)
		if (a.ptr[i] != b.ptr[i] &&
		    (a.ptr[i] != '\r' || b.ptr[i] != ' ' || a.ptr[i + 1] == '\n'))
			return false;
	return true;
}

/* The values of header @p id of @p a and @p b, one list, the same text
 * (fuzz_text_copied()). */
static void
fuzz_same_values(const struct sip_msg *a, const struct sip_msg *b,
		 enum sip_hdr_id id)
{
	struct sip_value_iter ia, ib;
	struct span va, vb;
	int ra, rb;

	sip_values_init(&ia, a, id);
	sip_values_init(&ib, b, id);
	do {
		ra = sip_values_next(&ia, &va);
		rb = sip_values_next(&ib, &vb);
		FUZZ_SAME(ra == rb);
		FUZZ_SAME(ra != 1 || fuzz_text_copied(va, vb));
	} while (ra == 1);
}

/*
 * A 302 built for a checked request (RFC 3261 §8.2.6): it parses and
 * passes the checks as a response; its Via values are the request's, in
 * order; From, Call-ID and CSeq are copied; To is the request's, with
 * ";tag=" @p tag appended when it had none; two Contacts; no body.
 */
static void
fuzz_resp_check(const struct sip_msg *req, const struct sip_info *rinfo,
		const char *out, uint32_t n, struct span tag)
{
	static struct sip_msg resp;
	static char want[SIP_MAX_MSG_LEN + 1];
	struct sip_info info;
	struct sip_value_iter it;
	struct span to, v;
	uint32_t k = 0;

	FUZZ_SAME(sip_parse(&resp, out, n) == SIP_PERR_OK);
	FUZZ_SAME(!resp.is_request && resp.status == 302 &&
		  resp.msg_len == n && resp.body_len == 0);
	FUZZ_SAME(sip_msg_check(&resp, &info) == SIP_PERR_OK);
	fuzz_same_values(req, &resp, SIP_HDR_VIA);
	FUZZ_SAME(fuzz_text_copied(sip_msg_hdr(req, SIP_HDR_FROM)->value,
				   sip_msg_hdr(&resp, SIP_HDR_FROM)->value));
	FUZZ_SAME(fuzz_text_eq(rinfo->call_id, info.call_id));
	FUZZ_SAME(fuzz_text_copied(sip_msg_hdr(req, SIP_HDR_CSEQ)->value,
				   sip_msg_hdr(&resp, SIP_HDR_CSEQ)->value));
	to = sip_msg_hdr(req, SIP_HDR_TO)->value;
	if (span_is_null(rinfo->to.tag)) {
		FUZZ_SAME(to.len + 5 + tag.len <= sizeof(want));
		memcpy(want, to.ptr, to.len);
		memcpy(want + to.len, ";tag=", 5);
		memcpy(want + to.len + 5, tag.ptr, tag.len);
		to = span_make(want, to.len + 5 + tag.len);
		FUZZ_SAME(fuzz_text_eq(info.to.tag, tag));
	}
	FUZZ_SAME(fuzz_text_copied(to, sip_msg_hdr(&resp, SIP_HDR_TO)->value));
	sip_values_init(&it, &resp, SIP_HDR_CONTACT);
	while (sip_values_next(&it, &v) == 1)
		k++;
	FUZZ_SAME(k == 2);
}

/* A stamped 302: parses, checks, and its top Via names the source. */
static void
fuzz_resp_stamp_check(const char *out, uint32_t n)
{
	static struct sip_msg resp;
	struct sip_info info;

	FUZZ_SAME(sip_parse(&resp, out, n) == SIP_PERR_OK);
	FUZZ_SAME(sip_msg_check(&resp, &info) == SIP_PERR_OK);
	FUZZ_SAME(fuzz_text_eq(info.via.received, SPAN_LIT("198.18.0.9")));
}

static void
fuzz_rewrite(const struct sip_msg *msg, const struct sip_info *info)
{
	static char out[SIP_MAX_MSG_LEN + 4096];
	static const struct sip_contact_out contacts[2] = {
		{ SPAN_LIT("sip:+15550100@198.18.0.2:5060"), 1000, 60 },
		{ SPAN_LIT("sip:+15550100@198.18.0.3"), 500, SIP_EXPIRES_NONE },
	};
	struct sip_resp r;
	struct sip_edits ed;
	struct hash_key key = { 1, 2 };
	char tag[16];
	uint32_t n;

	sip_edits_init(&ed);
	if (msg->is_request) {
		(void)sip_rw_push_via(&ed, msg,
			SPAN_LIT("SIP/2.0/UDP 198.18.0.1;branch=z9hG4bKfuzz"));
		(void)sip_rw_via_stamp(&ed, msg, info, SPAN_LIT("198.18.0.9"),
				       5062);
		(void)sip_rw_max_forwards(&ed, msg, info);
		(void)sip_rw_record_route(&ed, msg,
					  SPAN_LIT("sip:198.18.0.1;lr"));
		(void)sip_rw_ruri_user(&ed, msg, info, SPAN_LIT("0044207"));
		(void)sip_rw_pop_route(&ed, msg);
	} else {
		(void)sip_rw_pop_via(&ed, msg, info);
	}
	(void)sip_rw_apply(&ed, msg, out, sizeof(out), &n);

	if (!msg->is_request)
		return;
	sip_to_tag(info, &key, siphash13(&key, info->call_id.ptr,
					 info->call_id.len), tag);
	memset(&r, 0, sizeof(r));
	r.code = 302;
	r.to_tag = span_make(tag, sizeof(tag));
	r.contacts = contacts;
	r.ncontacts = 2;
	r.retry_after = 30;
	if (sip_resp_build(msg, info, &r, out, sizeof(out), &n) != 0)
		abort();
	fuzz_resp_check(msg, info, out, n, span_make(tag, sizeof(tag)));
	(void)sip_resp_build(msg, info, &r, out, 64, &n);
	/* The top Via stamped as a transport would: still a response that
	 * parses and checks, its top Via received the address given. */
	r.via_received = SPAN_LIT("198.18.0.9");
	r.via_rport = 5062;
	if (sip_resp_build(msg, info, &r, out, sizeof(out), &n) != 0)
		abort();
	fuzz_resp_stamp_check(out, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_info info;
	struct sip_msg msg;
	char *buf;

	if (size > SIP_MAX_MSG_LEN + 16)
		return 0;
	buf = malloc(size != 0 ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);

	fuzz_differential(buf, (uint32_t)size);
	if (sip_parse(&msg, buf, (uint32_t)size) == SIP_PERR_OK) {
		fuzz_values(&msg);
		if (sip_msg_check(&msg, &info) == SIP_PERR_OK)
			fuzz_rewrite(&msg, &info);
	}
	/* The sub-parsers also take the raw bytes directly. */
	{
		struct sip_uri uri;
		struct sip_via via;
		struct sip_naddr na;
		struct sip_cseq cs;
		struct span s = span_make(buf, size);
		uint32_t secs;
		struct span params;

		(void)sip_uri_parse(&uri, s);
		(void)sip_via_parse(&via, s);
		(void)sip_naddr_parse(&na, s);
		(void)sip_cseq_parse(&cs, s);
		(void)sip_delta_parse(s, &secs, &params);
	}
	free(buf);
	return 0;
}
