/* SPDX-License-Identifier: MIT */
/*
 * sip_rewrite.c - edits a stateless proxy makes to a message it forwards
 * (RFC 3261 §16.6, §16.11, §18.2.1; RFC 3581), collected as a short list
 * of (offset, delete, insert) records and applied in one pass.
 *
 * HOT PATH: no allocation, no stdio, no NUL-terminated string functions.
 * Builders only record edits; nothing is written until sip_rw_apply() or
 * sip_rw_apply_inplace(). Inserted spans are borrowed, not copied: they
 * must stay valid, and @p ed must not move (numbers live in ed->num),
 * until the edits are applied.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <compiler.h>
#include <fmt.h>
#include <span.h>

#include "sip.h"
#include "sip_move_priv.h"

/* ---- edit list ---------------------------------------------------------- */

void
sip_edits_init(struct sip_edits *ed)
{
	ed->n = 0;
	ed->overflow = 0;
	ed->nnum = 0;
}

int
sip_edit_add(struct sip_edits *ed, uint32_t off, uint32_t del,
	     struct span ins)
{
	struct sip_edit *e;

	if (ed->n >= SIP_EDIT_MAX) {
		ed->overflow = 1;
		return -ENOSPC;
	}
	e = &ed->e[ed->n++];
	e->off = off;
	e->del = del;
	e->ins = ins;
	return 0;
}

/*
 * A builder that needs several edits adds all of them or none, so a full
 * list never holds half a header.
 */
static bool
sip_rw_room(struct sip_edits *ed, unsigned int nedit, unsigned int nnum)
{
	if (ed->n + nedit > SIP_EDIT_MAX ||
	    ed->nnum + nnum > SIPEDGE_ARRAY_SIZE(ed->num)) {
		ed->overflow = 1;
		return false;
	}
	return true;
}

/* Format [prefix]v into the next number slot; the caller checked room. */
static struct span
sip_rw_num(struct sip_edits *ed, char prefix, uint32_t v)
{
	char *p = ed->num[ed->nnum++];
	uint32_t n = 0;

	if (prefix != 0)
		p[n++] = prefix;
	n += fmt_u64(p + n, (uint32_t)sizeof(ed->num[0]) - n, v);
	return span_make(p, n);
}

/* Offset of a pointer into the framed message, or -EINVAL if outside it. */
static int
sip_rw_off(const struct sip_msg *msg, const char *p, uint32_t *off)
{
	if (p == NULL || p < msg->buf || p > msg->buf + msg->msg_len)
		return -EINVAL;
	*off = (uint32_t)(p - msg->buf);
	return 0;
}

static uint32_t
sip_rw_line_end(const struct sip_hdr *h)
{
	return h->off + h->line_len;
}

/* Where the empty line ending the header section starts. */
static uint32_t
sip_rw_hdrs_end(const struct sip_msg *msg)
{
	uint32_t i, end = msg->hdr_off;

	for (i = 0; i < msg->nhdr; i++) {
		if (sip_rw_line_end(&msg->hdr[i]) > end)
			end = sip_rw_line_end(&msg->hdr[i]);
	}
	return end;
}

/* ---- value and parameter scanning --------------------------------------- */

/*
 * First byte at or after @p p that is ',', '"' or '<' (the bytes that
 * change sip_rw_first_value()'s state outside quotes and <>), or @p end.
 * SSE2 compares 16 bytes at a time, never reading at or past @p end.
 * sip_rw_pop_via() of a relayed 180's ~70-byte top Via: 1,256 -> 234
 * instructions (callgrind).
 */
static inline const char *
sip_rw_skip_plain(const char *p, const char *end)
{
#if defined(__SSE2__)
	const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"');
	const __m128i lt = _mm_set1_epi8('<');

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		int m = _mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, comma),
				     _mm_cmpeq_epi8(v, quote)),
			_mm_cmpeq_epi8(v, lt)));

		if (m != 0)
			return p + __builtin_ctz((unsigned int)m);
		p += 16;
	}
#endif
	for (; p < end; p++) {
		if (*p == ',' || *p == '"' || *p == '<')
			break;
	}
	return p;
}

/*
 * Split the first comma-separated value off a header field value. Commas
 * inside quoted strings and <...> do not split (RFC 3261 §7.3.1, §25.1).
 * *val is the first value trimmed of LWS; *next the first byte of the
 * following value (after the comma and any LWS, folded lines included), or
 * the end of @p field when there is no comma.
 *
 * Returns 0, or -EBADMSG for an unterminated quoted string or '<'.
 */
static int
sip_rw_first_value(struct span field, struct span *val, const char **next)
{
	const char *p = field.ptr, *end = span_end(field);
	bool quoted = false, angle = false;

	for (; p < end; p++) {
		if (!quoted && !angle)
			p = sip_rw_skip_plain(p, end);
		if (p == end)
			break;
		if (quoted) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				quoted = false;
			continue;
		}
		if (angle) {
			if (*p == '>')
				angle = false;
			continue;
		}
		if (*p == '"') {
			quoted = true;
		} else if (*p == '<') {
			angle = true;
		} else if (*p == ',') {
			*val = span_trim(span_range(field.ptr, p));
			for (p++; p < end && span_is_lws((unsigned char)*p); p++)
				;
			*next = p;
			return 0;
		}
	}
	if (quoted || angle)
		return -EBADMSG;
	*val = span_trim(field);
	*next = end;
	return 0;
}

/*
 * Remove the first value of header line @p h: the whole line with its CRLF
 * (and folded continuations) when it is the only value, else the value and
 * the comma and LWS that follow it, so the next value moves up in place.
 */
static int
sip_rw_pop_first(struct sip_edits *ed, const struct sip_msg *msg,
		 const struct sip_hdr *h)
{
	const char *next, *p, *end = span_end(h->value);
	struct span val;
	uint32_t off;
	int rc;

	rc = sip_rw_first_value(h->value, &val, &next);
	if (rc != 0)
		return rc;
	/* Only empty values (",,") after it: the line carries nothing else. */
	for (p = next; p < end && (*p == ',' || span_is_lws((unsigned char)*p));
	     p++)
		;
	if (p == end)
		return sip_edit_add(ed, h->off, h->line_len, SPAN_NULL);
	rc = sip_rw_off(msg, h->value.ptr, &off);
	if (rc != 0)
		return rc;
	return sip_edit_add(ed, off, (uint32_t)(next - h->value.ptr),
			    SPAN_NULL);
}

/* ---- builders ----------------------------------------------------------- */

/**
 * Push our Via (RFC 3261 §16.6 step 8): "Via: <value>\r\n" is inserted at
 * the start of the first Via line, so it becomes the top value whatever
 * form (compact "v:", several values per line) the next one is written in.
 *
 * @param value
 *   The via-parm, e.g. "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK...";
 *   borrowed until the edits are applied.
 * @return
 *   0; -ENOSPC when the edit list is full; -EINVAL without a Via.
 */
int
sip_rw_push_via(struct sip_edits *ed, const struct sip_msg *msg,
		struct span value)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_VIA);

	if (h == NULL)
		return -EINVAL;
	if (!sip_rw_room(ed, 3, 0))
		return -ENOSPC;
	sip_edit_add(ed, h->off, 0, SPAN_LIT("Via: "));
	sip_edit_add(ed, h->off, 0, value);
	sip_edit_add(ed, h->off, 0, SPAN_LIT("\r\n"));
	return 0;
}

int
sip_via_stamp_plan(const struct sip_msg *msg, const struct sip_info *info,
		   struct span received, uint16_t rport,
		   struct sip_via_stamp *st)
{
	const struct span top = info->via.value, rp = info->via.rport;
	const struct span rv = info->via.received;
	/* A message sip_parse() refused (msg_len 0) is answered from what
	 * it holds: its top Via lies in the received bytes. */
	const char *end = msg->buf + (msg->msg_len != 0 ? msg->msg_len :
							  msg->len);
	struct sip_via_edit *e;
	uint32_t k;

	st->n = 0;
	if (top.ptr == NULL || top.ptr < msg->buf || span_end(top) > end ||
	    (!span_is_null(rp) &&
	     (rp.ptr < top.ptr || span_end(rp) > span_end(top))) ||
	    (!span_is_null(rv) &&
	     (rv.ptr < top.ptr || span_end(rv) > span_end(top))))
		return -EINVAL;
	/* rport first: as the last parameter it shares its offset with an
	 * appended received, and must stay in front of it. */
	if (rport != 0 && !span_is_null(rp)) {
		st->port[0] = '=';
		k = 1 + fmt_u64(st->port + 1, sizeof(st->port) - 1, rport);
		e = &st->e[st->n++];
		e->off = (uint32_t)(rp.ptr - msg->buf);
		e->del = (uint32_t)rp.len;
		e->pfx = SPAN_NULL;
		e->ins = rp.len == 0 ? span_make(st->port, k) :
				       span_make(st->port + 1, k - 1);
	}
	if (span_is_null(received))
		return 0;
	e = &st->e[st->n++];
	if (!span_is_null(rv)) {
		e->off = (uint32_t)(rv.ptr - msg->buf);
		e->del = (uint32_t)rv.len;
		e->pfx = SPAN_NULL;
	} else {
		e->off = (uint32_t)(span_end(top) - msg->buf);
		e->del = 0;
		e->pfx = SPAN_LIT(";received=");
	}
	e->ins = received;
	/* In offset order; at the same offset rport stays first. */
	if (st->n == 2 && st->e[1].off < st->e[0].off) {
		struct sip_via_edit t = st->e[0];

		st->e[0] = st->e[1];
		st->e[1] = t;
	}
	return 0;
}

int
sip_rw_via_stamp(struct sip_edits *ed, const struct sip_msg *msg,
		 const struct sip_info *info, struct span received,
		 uint16_t rport)
{
	struct sip_via_stamp st;
	uint32_t k, nedit, nnum;
	int rc;

	rc = sip_via_stamp_plan(msg, info, received, rport, &st);
	if (rc != 0)
		return rc;
	/* The received edit inserts @p received; the other is rport's,
	 * whose text (in st) goes into the edits' own number room. */
	for (k = 0, nedit = 0, nnum = 0; k < st.n; k++) {
		nedit += span_is_null(st.e[k].pfx) ? 1 : 2;
		nnum += st.e[k].ins.ptr != received.ptr;
	}
	if (!sip_rw_room(ed, nedit, nnum))
		return -ENOSPC;
	for (k = 0; k < st.n; k++) {
		const struct sip_via_edit *e = &st.e[k];

		if (!span_is_null(e->pfx))
			sip_edit_add(ed, e->off, 0, e->pfx);
		sip_edit_add(ed, e->off, e->del,
			     e->ins.ptr == received.ptr ? e->ins :
			     sip_rw_num(ed, e->ins.ptr[0] == '=' ? '=' : 0,
					rport));
	}
	return 0;
}

/**
 * Remove the top Via value (a response on its way back, RFC 3261 §18.1.2):
 * the whole first Via line when it holds one value, else that value with
 * the comma and LWS after it.
 *
 * @return
 *   0; -ENOSPC when the edit list is full; -ENOENT without a Via;
 *   -EBADMSG for an unterminated quoted string or '<'.
 */
int
sip_rw_pop_via(struct sip_edits *ed, const struct sip_msg *msg,
	       const struct sip_info *info)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_VIA);

	(void)info;     /* the wire is the reference: the line is what goes */
	if (h == NULL)
		return -ENOENT;
	return sip_rw_pop_first(ed, msg, h);
}

/**
 * Decrement Max-Forwards (RFC 3261 §16.6 step 3), or insert
 * "Max-Forwards: 70\r\n" after the last Via line (before the first header
 * when there is no Via) when the request has none.
 *
 * @return
 *   0; -ENOSPC when the edit list or number scratch is full; -EINVAL when
 *   the value is not a number from 1 to 255 (0 must be answered with 483,
 *   not forwarded).
 */
int
sip_rw_max_forwards(struct sip_edits *ed, const struct sip_msg *msg,
		    const struct sip_info *info)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_MAX_FORWARDS);
	const struct sip_hdr *v;
	uint64_t mf;
	uint32_t off;
	int rc;

	if (h == NULL) {
		off = msg->hdr_off;
		for (v = sip_msg_hdr(msg, SIP_HDR_VIA); v != NULL;
		     v = sip_msg_hdr_next(msg, v))
			off = sip_rw_line_end(v);
		return sip_edit_add(ed, off, 0,
				    SPAN_LIT("Max-Forwards: 70\r\n"));
	}

	if (info != NULL && info->max_forwards >= 0) {
		mf = (uint64_t)info->max_forwards;
	} else {
		rc = span_to_u64(h->value, 255, &mf);
		if (rc != 0)
			return -EINVAL;
	}
	if (mf == 0 || mf > 255)
		return -EINVAL;
	rc = sip_rw_off(msg, h->value.ptr, &off);
	if (rc != 0)
		return rc;
	if (!sip_rw_room(ed, 1, 1))
		return -ENOSPC;
	return sip_edit_add(ed, off, h->value.len,
			    sip_rw_num(ed, 0, (uint32_t)mf - 1));
}

/**
 * Record-Route ourselves (RFC 3261 §16.6 step 4): "Record-Route: <uri>\r\n"
 * inserted before the first Record-Route line, so our value comes first,
 * or at the end of the header section when there is none.
 *
 * @param uri
 *   Our URI, normally with ";lr"; written inside <> (RFC 3261 §20.30
 *   requires name-addr form). A value that already starts with '<' is
 *   written as is. Borrowed until the edits are applied.
 * @return
 *   0; -ENOSPC when the edit list is full.
 */
int
sip_rw_record_route(struct sip_edits *ed, const struct sip_msg *msg,
		    struct span uri)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE);
	bool wrap = !(uri.len != 0 && uri.ptr[0] == '<');
	uint32_t off;

	off = h != NULL ? h->off : sip_rw_hdrs_end(msg);
	if (!sip_rw_room(ed, 3, 0))
		return -ENOSPC;
	sip_edit_add(ed, off, 0, wrap ? SPAN_LIT("Record-Route: <") :
					SPAN_LIT("Record-Route: "));
	sip_edit_add(ed, off, 0, uri);
	sip_edit_add(ed, off, 0, wrap ? SPAN_LIT(">\r\n") : SPAN_LIT("\r\n"));
	return 0;
}

/**
 * Replace the whole Request-URI with @p ruri (borrowed until applied).
 *
 * @return
 *   0; -ENOSPC when the edit list is full; -EINVAL for a response.
 */
int
sip_rw_ruri(struct sip_edits *ed, const struct sip_msg *msg,
	    struct span ruri)
{
	uint32_t off;
	int rc;

	if (!msg->is_request)
		return -EINVAL;
	rc = sip_rw_off(msg, msg->ruri.ptr, &off);
	if (rc != 0)
		return rc;
	return sip_edit_add(ed, off, msg->ruri.len, ruri);
}

/**
 * Replace the user part of the Request-URI (number manipulation). The
 * password, host, port, parameters and headers are kept. When the URI has
 * no user part, "user@" is inserted before the host. An empty @p user
 * leaves no user part: the user, password and '@' go ("sip:@host" is no
 * URI), and a URI without one is left as it is; -EINVAL for tel:.
 *
 * @param info
 *   From sip_msg_check(); info->ruri must point into msg->buf.
 * @param user
 *   New user part, already escaped as RFC 3261 §25.1 requires; borrowed
 *   until the edits are applied.
 * @return
 *   0; -ENOSPC when the edit list is full; -EINVAL for a URI without a
 *   user part or host (unknown schemes), or an empty @p user without a
 *   host.
 */
int
sip_rw_ruri_user(struct sip_edits *ed, const struct sip_msg *msg,
		 const struct sip_info *info, struct span user)
{
	const struct sip_uri *u = &info->ruri;
	uint32_t off;
	int rc;

	if (!msg->is_request)
		return -EINVAL;
	if (user.len == 0) {
		/* no user part: user, password and '@' go (tel: has no host) */
		if (span_is_null(u->host))
			return -EINVAL;
		if (span_is_null(u->user))
			return 0;
		rc = sip_rw_off(msg, u->user.ptr, &off);
		if (rc != 0)
			return rc;
		return sip_edit_add(ed, off,
				    (uint32_t)(u->host.ptr - u->user.ptr),
				    SPAN_NULL);
	}
	if (!span_is_null(u->user)) {
		rc = sip_rw_off(msg, u->user.ptr, &off);
		if (rc != 0)
			return rc;
		return sip_edit_add(ed, off, u->user.len, user);
	}
	if (span_is_null(u->host))
		return -EINVAL;
	rc = sip_rw_off(msg, u->host.ptr, &off);
	if (rc != 0)
		return rc;
	if (!sip_rw_room(ed, 2, 0))
		return -ENOSPC;
	sip_edit_add(ed, off, 0, user);
	sip_edit_add(ed, off, 0, SPAN_LIT("@"));
	return 0;
}

/**
 * Remove the first Route value (loose routing, RFC 3261 §16.4): the whole
 * first Route line when it holds one value, else that value with the comma
 * and LWS after it.
 *
 * @return
 *   0; -ENOSPC when the edit list is full; -ENOENT without a Route;
 *   -EBADMSG for an unterminated quoted string or '<'.
 */
int
sip_rw_pop_route(struct sip_edits *ed, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_ROUTE);

	if (h == NULL)
		return -ENOENT;
	return sip_rw_pop_first(ed, msg, h);
}

int
sip_rw_pop_routes(struct sip_edits *ed, const struct sip_msg *msg,
		  unsigned int n)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_ROUTE);
	const char *cut, *p, *end;
	struct span rest, val;
	uint32_t off;
	int rc;

	for (; n > 0 && h != NULL; h = sip_msg_hdr_next(msg, h)) {
		end = span_end(h->value);
		rest = h->value;
		cut = h->value.ptr;
		while (n > 0 && rest.len != 0) {
			rc = sip_rw_first_value(rest, &val, &cut);
			if (rc != 0)
				return rc;
			if (val.len != 0)
				n--;
			rest = span_range(cut, end);
		}
		/* Only empty values (",,") left: the line goes whole. */
		for (p = cut; p < end && (*p == ',' ||
					  span_is_lws((unsigned char)*p)); p++)
			;
		if (p == end) {
			rc = sip_edit_add(ed, h->off, h->line_len, SPAN_NULL);
		} else {
			rc = sip_rw_off(msg, h->value.ptr, &off);
			if (rc == 0)
				rc = sip_edit_add(ed, off,
						  (uint32_t)(cut - h->value.ptr),
						  SPAN_NULL);
		}
		if (rc != 0)
			return rc;
	}
	return n == 0 ? 0 : -ENOENT;
}

/* ---- apply -------------------------------------------------------------- */

/*
 * Whether edit @p e lies inside a message of @p msg_len bytes and its
 * insertion, if any, has bytes.
 */
static inline bool
sip_rw_edit_fits(const struct sip_edit *e, uint32_t msg_len)
{
	return e->off <= msg_len && e->del <= msg_len - e->off &&
	       (e->ins.len == 0 || e->ins.ptr != NULL);
}

/*
 * The order edits apply in: by offset; at equal offsets a pure insertion
 * before a deletion (an insertion where a deleted line starts, such as
 * Max-Forwards where a popped Route line was, whatever order they were
 * added in), otherwise as added (so "Via: ", value, CRLF stay in
 * sequence). Does @p a go after @p b, added after it?
 */
static inline bool
sip_rw_goes_after(const struct sip_edit *a, const struct sip_edit *b)
{
	return a->off > b->off ||
	       (a->off == b->off && a->del != 0 && b->del == 0);
}

void
sip_edits_sort(struct sip_edits *ed)
{
	struct sip_edit e;
	unsigned int i, j;

	for (i = 1; i < ed->n && i < SIP_EDIT_MAX; i++) {
		e = ed->e[i];
		for (j = i; j > 0 && sip_rw_goes_after(&ed->e[j - 1], &e); j--)
			ed->e[j] = ed->e[j - 1];
		ed->e[j] = e;
	}
}

/*
 * Sort edit indexes in apply order (sip_rw_goes_after()) and check them:
 * each edit starts at or after the end of the bytes the previous one
 * deleted and stays inside [0, msg_len). *new_len is the length after
 * applying.
 */
static int
sip_rw_plan(const struct sip_edits *ed, const struct sip_msg *msg,
	    uint8_t idx[SIP_EDIT_MAX], uint64_t *new_len)
{
	uint64_t len = msg->msg_len;
	uint32_t cursor = 0;
	unsigned int i, j;
	uint8_t cur;

	if (ed->overflow || ed->n > SIP_EDIT_MAX)
		return -ENOSPC;
	for (i = 0; i < ed->n; i++) {
		cur = (uint8_t)i;
		for (j = i; j > 0 && sip_rw_goes_after(&ed->e[idx[j - 1]],
						       &ed->e[cur]); j--)
			idx[j] = idx[j - 1];
		idx[j] = cur;
	}
	for (i = 0; i < ed->n; i++) {
		const struct sip_edit *e = &ed->e[idx[i]];

		if (e->off < cursor || !sip_rw_edit_fits(e, msg->msg_len))
			return -EINVAL;
		cursor = e->off + e->del;
		len = len - e->del + e->ins.len;
	}
	*new_len = len;
	return 0;
}

/**
 * Apply the edits, writing the edited message to @p out (which must not
 * overlap msg->buf). Bytes past msg->msg_len are not copied (RFC 3261
 * §18.3). Nothing useful is in @p out on error.
 *
 * @return
 *   0 and *out_len set; -ENOSPC if @p cap is too small or an edit did not
 *   fit the list; -EINVAL if edits overlap or fall outside the message.
 */
int
sip_rw_apply(const struct sip_edits *ed, const struct sip_msg *msg,
	     char *out, uint32_t cap, uint32_t *out_len)
{
	uint8_t idx[SIP_EDIT_MAX];
	uint32_t cursor = 0, w = 0, i;
	uint64_t new_len;
	int rc;

	rc = sip_rw_plan(ed, msg, idx, &new_len);
	if (rc != 0)
		return rc;
	if (new_len > cap)
		return -ENOSPC;

	for (i = 0; i < ed->n; i++) {
		const struct sip_edit *e = &ed->e[idx[i]];

		if (e->off > cursor) {
			memcpy(out + w, msg->buf + cursor, e->off - cursor);
			w += e->off - cursor;
		}
		if (e->ins.len != 0) {
			memcpy(out + w, e->ins.ptr, e->ins.len);
			w += e->ins.len;
		}
		cursor = e->off + e->del;
	}
	if (msg->msg_len > cursor) {
		memcpy(out + w, msg->buf + cursor, msg->msg_len - cursor);
		w += msg->msg_len - cursor;
	}
	*out_len = w;
	return 0;
}

/*
 * memmove() of up to 128 bytes without a call: every byte is loaded (16
 * at a time, the first and last blocks overlapping) before any is stored,
 * so source and destination may overlap; longer moves go to memmove().
 */
#if defined(__SSE2__)
typedef __m128i sip_rw_v16;
#define SIP_RW_LD(p)    _mm_loadu_si128((const __m128i *)(const void *)(p))
#define SIP_RW_ST(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))
#else
typedef struct {
	uint64_t         w[2];
} sip_rw_v16;

static inline sip_rw_v16
sip_rw_ld(const char *p)
{
	sip_rw_v16 v;

	memcpy(&v, p, 16);
	return v;
}

#define SIP_RW_LD(p)    sip_rw_ld(p)
#define SIP_RW_ST(p, v) memcpy((p), &(v), 16)
#endif

static inline __attribute__((always_inline)) void
sip_rw_move(char *dst, const char *src, uint32_t n)
{
	sip_rw_v16 v0, v1, v2, v3, v4, v5, v6, v7;

	if (n > 128) {
		memmove(dst, src, n);
	} else if (n > 64) {
		v0 = SIP_RW_LD(src);
		v1 = SIP_RW_LD(src + 16);
		v2 = SIP_RW_LD(src + 32);
		v3 = SIP_RW_LD(src + 48);
		v4 = SIP_RW_LD(src + n - 64);
		v5 = SIP_RW_LD(src + n - 48);
		v6 = SIP_RW_LD(src + n - 32);
		v7 = SIP_RW_LD(src + n - 16);
		SIP_RW_ST(dst, v0);
		SIP_RW_ST(dst + 16, v1);
		SIP_RW_ST(dst + 32, v2);
		SIP_RW_ST(dst + 48, v3);
		SIP_RW_ST(dst + n - 64, v4);
		SIP_RW_ST(dst + n - 48, v5);
		SIP_RW_ST(dst + n - 32, v6);
		SIP_RW_ST(dst + n - 16, v7);
	} else if (n > 32) {
		v0 = SIP_RW_LD(src);
		v1 = SIP_RW_LD(src + 16);
		v2 = SIP_RW_LD(src + n - 32);
		v3 = SIP_RW_LD(src + n - 16);
		SIP_RW_ST(dst, v0);
		SIP_RW_ST(dst + 16, v1);
		SIP_RW_ST(dst + n - 32, v2);
		SIP_RW_ST(dst + n - 16, v3);
	} else if (n > 16) {
		v0 = SIP_RW_LD(src);
		v1 = SIP_RW_LD(src + n - 16);
		SIP_RW_ST(dst, v0);
		SIP_RW_ST(dst + n - 16, v1);
	} else {
		sip_move16(dst, src, n);
	}
}

/* Kept segment @p i ends where edit @p e starts; the next starts after it. */
static inline void
sip_rw_lay(const struct sip_edit *e, uint32_t i, uint32_t *src, uint32_t *len,
	   int64_t *shift, uint32_t *cursor, int64_t *d, bool *left)
{
	src[i] = *cursor;
	len[i] = e->off - *cursor;
	shift[i] = *d;
	*left |= *d < 0;
	*d += (int64_t)e->ins.len - e->del;
	*cursor = e->off + e->del;
}

/**
 * Apply the edits inside the message's own buffer; the result is the same
 * bytes sip_rw_apply() writes. Kept segments move by the net size change
 * of the edits before them: those moving left are moved first, left to
 * right, then those moving right, right to left, so no segment is
 * overwritten before it has moved; inserted bytes are written last.
 * Edits already in offset order (what dp_proxy.c hands over) are not
 * sorted again; one pass checks and lays them out; segments and
 * insertions up to 128 bytes are moved inline (sip_rw_move()). A
 * forwarded ~1 KB INVITE: 1,336 instructions with 8 edits before, 721
 * with the 5 dp_proxy.c now makes, 599 with inline moves and, through
 * sip_rw_apply_inplace_head(), the start moved left into the headroom
 * (callgrind, perf/bench_pipeline_proxy.sh, 100k rules).
 *
 * @param buf
 *   msg->buf, writable, with @p cap bytes. Inserted spans must not point
 *   into it (they would be overwritten): -EINVAL.
 * @return
 *   As sip_rw_apply(); on error @p buf is unchanged. Spans of @p msg are
 *   invalid after success.
 */
int
sip_rw_apply_inplace(const struct sip_edits *ed, const struct sip_msg *msg,
		     char *buf, uint32_t cap, uint32_t *out_len)
{
	char *out;

	return sip_rw_apply_inplace_head(ed, msg, buf, 0, cap, &out, out_len);
}

/*
 * As sip_rw_apply_inplace(), with @p head writable bytes before @p buf:
 * when the edits grow the message by no more than that, the message's end
 * stays where it is and its start moves left, so only the bytes before
 * the last edit move (a forwarded ~1 KB INVITE's edits are all in its
 * first lines: about 150 bytes moved left instead of ~900 right).
 */
int
sip_rw_apply_inplace_head(const struct sip_edits *ed,
			  const struct sip_msg *msg, char *buf, uint32_t head,
			  uint32_t cap, char **out, uint32_t *out_len)
{
	/* Kept segment k is [src[k], src[k] + len[k]), moving by shift[k]. */
	uint32_t src[SIP_EDIT_MAX + 1], len[SIP_EDIT_MAX + 1];
	int64_t shift[SIP_EDIT_MAX + 1], d = 0, base = 0;
	const struct sip_edit *ord[SIP_EDIT_MAX];
	const uint32_t n = ed->n, msg_len = msg->msg_len;
	uint32_t cursor = 0, i, j;
	bool sorted = true, bad = false, left = false;

	if (buf != msg->buf || cap < msg_len)
		return -EINVAL;
	/*
	 * One pass checks the insertions and, while the edits come in
	 * offset order, lays out the segments. The errors keep their
	 * precedence: an insertion inside the buffer, then a full list, then
	 * a misplaced edit (sip_rw_plan()).
	 */
	for (i = 0; i < n && i < SIP_EDIT_MAX; i++) {
		const struct sip_edit *e = &ed->e[i];

		if (e->ins.len != 0 && e->ins.ptr < buf + cap &&
		    span_end(e->ins) > buf - head)
			return -EINVAL;
		ord[i] = e;
		if (!sorted)
			continue;
		if (e->off < cursor) {
			/* Before the previous edit's end: unsorted, or bad. */
			if (i != 0 && sip_rw_goes_after(ord[i - 1], e)) {
				sorted = false;
				continue;
			}
			bad = true;
		}
		if (!sip_rw_edit_fits(e, msg_len))
			bad = true;
		sip_rw_lay(e, i, src, len, shift, &cursor, &d, &left);
	}
	if (ed->overflow || n > SIP_EDIT_MAX)
		return -ENOSPC;
	if (!sorted) {
		/* Stable, in apply order (sip_rw_goes_after()). */
		for (i = 1; i < n; i++) {
			const struct sip_edit *e = ord[i];

			for (j = i; j > 0 && sip_rw_goes_after(ord[j - 1], e);
			     j--)
				ord[j] = ord[j - 1];
			ord[j] = e;
		}
		cursor = 0;
		d = 0;
		left = false;
		for (i = 0; i < n; i++) {
			const struct sip_edit *e = ord[i];

			if (e->off < cursor || !sip_rw_edit_fits(e, msg_len))
				return -EINVAL;
			sip_rw_lay(e, i, src, len, shift, &cursor, &d, &left);
		}
	} else if (bad) {
		return -EINVAL;
	}
	src[n] = cursor;
	len[n] = msg_len - cursor;
	shift[n] = d;
	left |= d < 0;
	if (d > 0 && d <= (int64_t)head) {
		/* The start moves left by d; the last segment stays. */
		for (i = 0; i <= n; i++)
			shift[i] -= d;
		left = true;
		base = d;
	} else if ((int64_t)msg_len + d > (int64_t)cap) {
		return -ENOSPC;
	}

	for (i = 0; left && i <= n; i++) {
		if (shift[i] < 0 && len[i] != 0)
			sip_rw_move(buf + src[i] + shift[i], buf + src[i],
				    len[i]);
	}
	/*
	 * Right to left: segment k, then edit k's insertion right after it.
	 * The insertion starts at or after the old end of segment k when
	 * segment k moves right, so no segment still to move lies under it;
	 * when segment k moved left, every segment left of it that moves
	 * right ends, moved, before the insertion starts.
	 */
	for (i = n + 1; i > 0; i--) {
		const uint32_t k = i - 1;

		if (shift[k] > 0 && len[k] != 0)
			sip_rw_move(buf + src[k] + shift[k], buf + src[k],
				    len[k]);
		if (k < n && ord[k]->ins.len != 0)
			sip_rw_move(buf + (int64_t)src[k] + shift[k] + len[k],
				    ord[k]->ins.ptr, ord[k]->ins.len);
	}
	*out = buf - base;
	*out_len = (uint32_t)((int64_t)msg_len + d);
	return 0;
}
