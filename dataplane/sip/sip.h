/* SPDX-License-Identifier: MIT */
/*
 * sip.h - the SIP library: parse, inspect, rewrite and answer SIP messages.
 *
 * Pure C11 over byte buffers: no DPDK, no allocation, no global state, no
 * syscalls. Every function here is hot-path safe and may be called from any
 * thread; all state lives in caller-owned structs. Spans returned point into
 * the caller's buffer and live as long as it does, unedited.
 */
#ifndef SIPEDGE_SIP_SIP_H
#define SIPEDGE_SIP_SIP_H

#include <stdbool.h>
#include <stdint.h>

#include <hash.h>
#include <span.h>

#include "sip_types.h"

/* ---- verdicts, names (sip_hdr.c) -------------------------------------- */

/**
 * Response code a proxy sends for a request rejected with @p e.
 *
 * @return
 *   400, 414, 416, 501, 505, 513..., or 0 when the request cannot be
 *   answered and must be dropped. 0 for SIP_PERR_OK.
 *
 * Context: any thread, hot-path safe.
 */
uint16_t sip_perr_status(enum sip_perr e);

/* Stable short name ("BAD_VIA") and description of a verdict; static strings. */
const char *sip_perr_name(enum sip_perr e);
const char *sip_perr_desc(enum sip_perr e);

/**
 * Classify a header name.
 *
 * @param name
 *   Header name as on the wire (no colon, no LWS); any case; compact forms.
 * @return
 *   The enum sip_hdr_id, SIP_HDR_OTHER for names the library does not know.
 *
 * Context: any thread, hot-path safe.
 */
enum sip_hdr_id sip_hdr_classify(struct span name);

/* Canonical name of a header id ("Call-ID"); static string. */
const char *sip_hdr_name(enum sip_hdr_id id);

/* Method from its token (case-sensitive, RFC 3261 §25.1). */
enum sip_method sip_method_from_span(struct span tok);

/* Method token of a known method; empty string for SIP_METHOD_OTHER. */
const char *sip_method_name(enum sip_method m);

/* Standard reason phrase for a status code (RFC 3261 §21 and extensions). */
struct span sip_reason_phrase(uint16_t code);

/* ---- parsing (sip_parse.c) --------------------------------------------- */

/**
 * Parse one SIP message held in one contiguous buffer (a UDP payload).
 *
 * Locates the start line and every header field, classifies names, counts
 * Via values, and frames the body by Content-Length (RFC 3261 §18.3: bytes
 * past it are not part of the message; a body shorter than it is
 * SIP_PERR_BODY_SHORT; without Content-Length the rest of the datagram is
 * the body). Does not validate header values: see sip_msg_check().
 *
 * @param msg
 *   Output, overwritten. Every span in it points into @p buf.
 * @param buf
 *   The datagram. Not modified, not retained beyond @p msg.
 * @param len
 *   Bytes in @p buf; the parser never reads beyond them.
 * @return
 *   SIP_PERR_OK, or the reason the message was rejected; msg->err_off
 *   then holds the offset where parsing stopped. After a bad Request-Line
 *   or header line, the headers a local answer copies (every Via, From,
 *   To, Call-ID, CSeq) are located among the lines after it too, so that
 *   the answer can be matched by its client; nothing else is.
 *
 * Lifetime: spans in @p msg are valid until @p buf is freed or edited.
 * Context: any thread, hot-path safe; O(len).
 */
enum sip_perr sip_parse(struct sip_msg *msg, const char *buf, uint32_t len);

/* Name of a header as written on the wire. */
static inline struct span
sip_hdr_name_span(const struct sip_msg *msg, const struct sip_hdr *h)
{
	return span_make(msg->buf + h->off, h->name_len);
}

/* First header with @p id, or NULL. */
static inline const struct sip_hdr *
sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id)
{
	uint8_t i = msg->first[id];

	return i == SIP_HDR_NONE ? (const struct sip_hdr *)0 : &msg->hdr[i];
}

/* Next header with the same id as @p h, or NULL. */
static inline const struct sip_hdr *
sip_msg_hdr_next(const struct sip_msg *msg, const struct sip_hdr *h)
{
	return h->next == SIP_HDR_NONE ? (const struct sip_hdr *)0 :
					 &msg->hdr[h->next];
}

/**
 * Validate and resolve the fields a router needs (RFC 3261 §16.3 item 1).
 *
 * Checks: Via present and every Via value well formed; From, To, Call-ID,
 * CSeq present exactly once and well formed; CSeq number <= 2**32-1 and,
 * for requests, its method equal to the request method; Max-Forwards
 * 0..255 and single; Request-URI well formed, no URI headers, scheme sip,
 * sips or tel; in a REGISTER, Contact values well formed ("*" only
 * alone). Other messages' Contacts are not looked at (RFC 3261 §16.3
 * item 1: what a proxy does not use SHOULD be ignored), and ncontact is 0.
 *
 * @param msg
 *   A message sip_parse() returned SIP_PERR_OK for.
 * @param info
 *   Output: top Via, From, To, Call-ID, CSeq, Max-Forwards, Request-URI.
 * @return
 *   SIP_PERR_OK or the first problem found (the order of the list above).
 *
 * Lifetime: spans in @p info live as long as msg->buf.
 * Context: any thread, hot-path safe.
 */
enum sip_perr sip_msg_check(const struct sip_msg *msg, struct sip_info *info);

/* ---- multi-value headers (sip_parse.c) --------------------------------- */

/* Start iterating the comma-separated values of every @p id header. */
void sip_values_init(struct sip_value_iter *it, const struct sip_msg *msg,
		     enum sip_hdr_id id);

/**
 * Next value: splits on commas outside quoted strings and <...>.
 *
 * @param value
 *   Output: the value, trimmed of LWS (may be empty for ",,").
 * @return
 *   1 with a value; 0 when there are no more; -EBADMSG for an unterminated
 *   quoted string or <.
 *
 * Context: any thread, hot-path safe.
 */
int sip_values_next(struct sip_value_iter *it, struct span *value);

/* ---- URIs and header values (sip_uri.c, sip_addr.c) -------------------- */

/**
 * Parse a URI: sip:, sips:, tel: and other schemes (opaque).
 *
 * Accepts RFC 3261 §25.1 SIP-URI syntax with IPv6 references per RFC 5118
 * (brackets required; the port follows ']'), tel: per RFC 3966. Rejects
 * empty hosts, ports above 65535, bytes outside the URI character set.
 *
 * @return
 *   SIP_PERR_OK or SIP_PERR_BAD_URI.
 *
 * Context: any thread, hot-path safe.
 */
enum sip_perr sip_uri_parse(struct sip_uri *uri, struct span s);

/**
 * Find a ;name[=value] parameter in a parameter list.
 *
 * @param params
 *   ";a=b;c;d=e" (a leading ';' is optional); LWS around ';' and '=' ok.
 * @param name
 *   Lower-case parameter name; compared case-insensitively.
 * @param value
 *   Output when found: the value, unquoted span as written; empty span
 *   with a non-NULL ptr for a parameter without '='.
 * @return
 *   true when found.
 *
 * Context: any thread, hot-path safe.
 */
bool sip_param_get(struct span params, struct span name, struct span *value);

/**
 * Walk a parameter list: one ;name[=value] per call.
 *
 * @return
 *   1 with *name and *value set (value SPAN_NULL without '='); 0 at the
 *   end; -EBADMSG for an empty or malformed parameter. *rest advances.
 */
int sip_param_next(struct span *rest, struct span *name, struct span *value);

/**
 * Is @p s a token (RFC 3261 §25.1: one or more of alphanum and
 * "-.!%*_+`'~"), as an option tag must be?
 *
 * Context: any thread, hot-path safe.
 */
bool sip_is_token(struct span s);

/**
 * Unescape %HH sequences into a caller buffer (RFC 3261 §19.1.2).
 *
 * @return
 *   Bytes written (NUL bytes from %00 included, nothing terminated);
 *   -EBADMSG for a '%' not followed by two hex digits; -ENOSPC when
 *   @p cap is too small.
 *
 * Context: any thread, hot-path safe. Never unescapes recursively.
 */
int sip_unescape(struct span in, char *out, uint32_t cap);

/**
 * Escape bytes as a SIP URI user part (RFC 3261 §25.1: user = 1*(unreserved
 * / escaped / user-unreserved)): every other byte becomes %HH.
 *
 * @param keep_pct
 *   Copy a '%' as it is: the input is escaped already (an RFC 3966
 *   pct-encoded tel: parameter).
 * @return
 *   Bytes written; -ENOSPC when @p cap is too small (@p out then holds
 *   part of the result).
 *
 * Context: any thread, hot-path safe.
 */
int sip_user_escape(struct span in, bool keep_pct, char *out, uint32_t cap);

/**
 * A tel: URI's parameters as they go into the user part of the sip: URI
 * standing for it (RFC 3261 §19.1.6: "tel:+358-555-1234567;postd=pp22" is
 * "sip:+358-555-1234567;postd=pp22@host;user=phone"), escaped by
 * sip_user_escape() with their %HH escapes kept.
 *
 * @param params
 *   The tel: URI's parameters (struct sip_uri params, from the first ';').
 * @param drop_context
 *   Leave phone-context out: the number was rewritten, and the context
 *   described the number as received.
 * @return
 *   Bytes written; -ENOSPC when @p cap is too small; -EBADMSG for a
 *   malformed parameter list.
 *
 * Context: any thread, hot-path safe.
 */
/**
 * The parameters of a telephone-subscriber written as a sip: user part
 * (RFC 3261 §19.1.6: "+12125550100;npdi;rn=+12125550000"), from its first
 * ';', as written (already escaped), to put back after a rewritten number
 * so that number portability data (RFC 4694 rn, npdi) and the like go on
 * with it; phone-context left out when @p drop_context.
 *
 * @return
 *   Bytes written (0: no parameters); -ENOSPC when @p cap is too small.
 *
 * Context: any thread, hot-path safe.
 */
int sip_user_params(struct span user, bool drop_context, char *out,
		    uint32_t cap);

int sip_tel_params_user(struct span params, bool drop_context, char *out,
			uint32_t cap);

/**
 * Parse an IPv4 literal or an IPv6 reference ("[...]" or bare) to bytes.
 *
 * @param addr
 *   Output: 4 bytes for IPv4, 16 for IPv6, network order.
 * @return
 *   4 or 16 for the family parsed; -EINVAL when @p host is not an IP
 *   literal.
 *
 * Context: any thread, hot-path safe.
 */
int sip_host_to_ip(struct span host, uint8_t addr[16]);

/* Parse one Via value (via-parm). Returns SIP_PERR_OK or SIP_PERR_BAD_VIA. */
enum sip_perr sip_via_parse(struct sip_via *via, struct span value);

/*
 * Parse a name-addr / addr-spec value with header params (From, To,
 * Contact incl. "*", Route, Record-Route). Returns SIP_PERR_OK or
 * SIP_PERR_BAD_VALUE; callers map that to their header's verdict.
 */
enum sip_perr sip_naddr_parse(struct sip_naddr *na, struct span value);

/* Parse a CSeq value. Returns SIP_PERR_OK or SIP_PERR_BAD_CSEQ. */
enum sip_perr sip_cseq_parse(struct sip_cseq *cseq, struct span value);

/**
 * Parse delta-seconds with optional ;params (Expires, Session-Expires,
 * Min-SE, Retry-After, Max-Forwards). Values above 2**32-1 saturate.
 *
 * @return
 *   0; -EBADMSG when the value does not start with a digit string.
 */
int sip_delta_parse(struct span value, uint32_t *secs, struct span *params);

/* Contact q-value in thousandths (q=0.5 -> 500); -EBADMSG when malformed,
 * -ENOENT when absent. */
int sip_naddr_q(const struct sip_naddr *na, uint16_t *q);

/* ---- rewriting (sip_rewrite.c) ----------------------------------------- */

/*
 * Edits are collected in a struct sip_edits and applied in one pass by
 * sip_rw_apply() (into another buffer) or sip_rw_apply_inplace(). Inserted
 * bytes must stay valid until then. Every other byte of the framed
 * message (msg_len) is copied unchanged, in order; bytes past msg_len
 * (RFC 3261 §18.3) are not copied. Builders return 0 or -ENOSPC when the
 * edit list is full.
 */
void sip_edits_init(struct sip_edits *ed);
int sip_edit_add(struct sip_edits *ed, uint32_t off, uint32_t del,
		 struct span ins);
/*
 * Put the edits in the order they apply in: by offset; at equal offsets
 * a pure insertion before a deletion, otherwise as added. The apply
 * functions use this order whatever the list's; a sorted list spares the
 * in-place one a sort.
 */
void sip_edits_sort(struct sip_edits *ed);

/* Insert "Via: <value>" above the first Via line. */
int sip_rw_push_via(struct sip_edits *ed, const struct sip_msg *msg,
		    struct span value);
/* One edit of the top Via: at off, del bytes replaced by pfx then ins. */
struct sip_via_edit {
	uint32_t         off;
	uint32_t         del;
	struct span      pfx;
	struct span      ins;
};

/* The stamp of a top Via: at most two edits, in offset order. */
struct sip_via_stamp {
	uint32_t         n;
	struct sip_via_edit e[2];
	char             port[6];       /* "=PORT" the rport edit points into */
};

/*
 * The stamp a server transport puts on the top Via (RFC 3261 §18.2.1,
 * RFC 3581 §4), as edits: ";received=<received>" appended to the top Via
 * value (which need not end its line) or the value of a received there
 * replaced; a bare rport given "=<rport>", and the value of one a client
 * gave a value (RFC 3581 §3 wants it bare) replaced: replies go to the
 * NAT binding, not to the port claimed. The rport and received are those
 * sip_msg_check() kept (the first of each). SPAN_NULL / 0 skip either; an
 * rport is only filled where there is one.
 *
 * Used by proxy forwarding (dp_proxy.c) and local answers
 * (sip_resp_build()): one decision for both.
 *
 * @return
 *   0 with *st filled (st->n 0..2; the spans point into @p st, @p msg
 *   and @p received); -EINVAL when info's top Via or its parameters are
 *   not inside msg's first msg_len bytes (len bytes when msg_len is 0:
 *   a message sip_parse() refused).
 */
int sip_via_stamp_plan(const struct sip_msg *msg, const struct sip_info *info,
		       struct span received, uint16_t rport,
		       struct sip_via_stamp *st);
/* The edits of sip_via_stamp_plan() into @p ed (-EINVAL, -ENOSPC). */
int sip_rw_via_stamp(struct sip_edits *ed, const struct sip_msg *msg,
		     const struct sip_info *info, struct span received,
		     uint16_t rport);
/* Remove the top Via value (its line when it is the only value). */
int sip_rw_pop_via(struct sip_edits *ed, const struct sip_msg *msg,
		   const struct sip_info *info);
/* Decrement Max-Forwards, or insert "Max-Forwards: 70" when absent. */
int sip_rw_max_forwards(struct sip_edits *ed, const struct sip_msg *msg,
			const struct sip_info *info);
/* Insert "Record-Route: <uri>" above existing Record-Route values. */
int sip_rw_record_route(struct sip_edits *ed, const struct sip_msg *msg,
			struct span uri);
/* Replace the Request-URI. */
int sip_rw_ruri(struct sip_edits *ed, const struct sip_msg *msg,
		struct span ruri);
/* Replace the user part of the Request-URI (info->ruri must be parsed). */
int sip_rw_ruri_user(struct sip_edits *ed, const struct sip_msg *msg,
		     const struct sip_info *info, struct span user);
/* Remove the first Route value (its line when it is the only value). */
int sip_rw_pop_route(struct sip_edits *ed, const struct sip_msg *msg);
/*
 * Remove the first @p n non-empty Route values, over as many lines as they
 * take, with one edit per line they touch (a line left with nothing goes
 * whole); the other values stay byte for byte. 0; -ENOENT when there are
 * fewer; -EBADMSG for an unclosed quote or <; -ENOSPC (edit list full).
 */
int sip_rw_pop_routes(struct sip_edits *ed, const struct sip_msg *msg,
		      unsigned int n);

/**
 * Apply edits, writing the new message to @p out.
 *
 * @return
 *   0 and *out_len set; -ENOSPC if @p cap is too small; -EINVAL if the
 *   edits overlap or fall outside the message.
 *
 * Context: any thread, hot-path safe.
 */
int sip_rw_apply(const struct sip_edits *ed, const struct sip_msg *msg,
		 char *out, uint32_t cap, uint32_t *out_len);

/**
 * Apply edits in the message's own buffer, which has @p cap bytes.
 * Spans of @p msg are invalid afterwards. Returns as sip_rw_apply().
 */
int sip_rw_apply_inplace(const struct sip_edits *ed, const struct sip_msg *msg,
			 char *buf, uint32_t cap, uint32_t *out_len);

/**
 * sip_rw_apply_inplace() where @p head bytes before @p buf are writable
 * too: the edited message starts at *@p out, @p buf or up to @p head bytes
 * before it (then it ends where @p msg ended). Inserted spans must not
 * point into [buf - head, buf + cap).
 */
int sip_rw_apply_inplace_head(const struct sip_edits *ed,
			      const struct sip_msg *msg, char *buf,
			      uint32_t head, uint32_t cap, char **out,
			      uint32_t *out_len);

/* ---- local responses (sip_resp.c) -------------------------------------- */

/**
 * Build a response to @p req (DESIGN §3.5, RFC 3261 §8.2.6).
 *
 * Copies every Via line, From, To (adding r->to_tag when To has no tag),
 * Call-ID and CSeq from the request, then adds what @p r asks for and
 * Content-Length: 0.
 *
 * @return
 *   0 and *out_len set; -ENOSPC when @p cap is too small.
 *
 * Context: any thread, hot-path safe.
 */
int sip_resp_build(const struct sip_msg *req, const struct sip_info *info,
		   const struct sip_resp *r, char *out, uint32_t cap,
		   uint32_t *out_len);

/**
 * @p q in thousandths as an RFC 3261 §25.1 qvalue: 1000 -> "1.0", 900 ->
 * "0.9", 850 -> "0.85", 1 -> "0.001" (@p q at most 1000).
 *
 * @return
 *   Its length, 3 to 5 (@p out has room for 5); not terminated.
 *
 * Context: any thread, hot-path safe.
 */
uint32_t sip_qvalue(char *out, uint16_t q);

/**
 * Deterministic To-tag for a stateless answer (RFC 3261 §8.2.6.2, §8.2.7
 * stateless UAS): a keyed hash (SipHash-1-3 under @p key) of @p flow, the
 * CSeq number, From tag and top Via branch, so a retransmission, which
 * repeats them, gets the same tag. Every input is 16 bytes or more.
 *
 * @param flow
 *   A keyed hash of the Call-ID (the dataplane's flow hash), so the
 *   Call-ID is hashed once for both.
 * @param out
 *   16 bytes of lower-case hex written here; not terminated.
 *
 * Context: any thread, hot-path safe.
 */
void sip_to_tag(const struct sip_info *info, const struct hash_key *key,
		uint64_t flow, char out[16]);

#endif /* SIPEDGE_SIP_SIP_H */
