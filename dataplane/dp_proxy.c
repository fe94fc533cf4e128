/* SPDX-License-Identifier: MIT */
/*
 * dp_proxy.c - stateless proxy mode (DESIGN §3.3; RFC 3261 §16.11).
 *
 * HOT PATH (dataplane/HOTPATH.md): no allocation, locks, syscalls or
 * logging; problems are returned as a reason and counted by the caller.
 * The decision functions work on a parsed message only (see dp_proxy.h);
 * nothing is written to the packet until the caller applies the edits.
 *
 * Policy choices (counters in dp_types.h, proxy_*):
 *   - next hops are IP literals only (no DNS per packet): a Route or an
 *     in-dialog Request-URI naming a host is answered 503 (the caller
 *     may try another element, RFC 3263 §4.3 style); a response whose
 *     next Via has a host name and no received is dropped; a URI's
 *     maddr, when present, is the next hop instead of its host (RFC 3263
 *     §4), and must be an IP literal too; so is a response's next Via
 *     maddr (RFC 3261 §18.2.2: before received and rport);
 *   - an in-dialog request (To-tag) without Route goes to its
 *     Request-URI; one addressed to us answers 481 (no dialog of ours),
 *     except an ACK: that is the ACK of a non-2xx final response, whose
 *     Request-URI and branch are its INVITE's (RFC 3261 §17.1.1.3), and
 *     it is routed through the table to the INVITE's target;
 *   - a request whose Route names only us is routed as if it had none;
 *   - strict routing: a Request-URI equal to one of our Record-Route
 *     URIs (no user part, our address and port) is replaced by the last
 *     Route value (§16.4); a next hop whose Route URI has no ;lr is a
 *     strict router (§16.6 step 7): it becomes the Request-URI, and the
 *     Request-URI goes to the end of the Route list;
 *   - the loop and branch hashes leave out the To tag of an ACK, so the
 *     ACK of a non-2xx response gets its INVITE's branch (§17.1.1.3);
 *   - Record-Route (dp_conf.record_route, option --record-route)
 *     names the address and port the request came to, so
 *     retransmissions get the same bytes; leaving by another address
 *     (the other family), both, the outgoing one first (RFC 5658), and
 *     our first two Route values are then both removed;
 *   - for 32 s after a swap, a CANCEL or ACK that generation N-1 routes
 *     elsewhere than N is sent there too (dp_proxy_prev(), DESIGN §4.3);
 *   - the key is derived from the installation secret in the snapshot;
 *     after a secret change, branches change: in-flight transactions'
 *     CANCELs and ACKs then carry another branch downstream.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <compiler.h>
#include <fmt.h>
#include <hash.h>
#include <rules.h>
#include <sip.h>
#include <span.h>

#include "dp.h"
#include "dp_classify.h"
#include "dp_proxy.h"

/* ---- hashed fields ------------------------------------------------------ */

/*
 * The hashed fields are fed to one SipHash-1-3 stream (hash_sip13_*(),
 * common/hash.h) from where they lie. Loop part of a ~1 KB INVITE:
 * 1,395 -> 624 instructions, transaction part 797 -> 314 (SipHash-2-4
 * through a gather buffer before; callgrind,
 * perf/bench_pipeline_proxy.sh).
 */
#define DP_SH_INLINE    static inline __attribute__((always_inline))

/* A field with its length in front, so adjacent fields cannot run together
 * ("ab"+"c" and "a"+"bc" differ). Absent fields hash as length 0xffffffff. */
DP_SH_INLINE void
dp_sh_field(struct hash_sip13 *h, struct span s)
{
	if (span_is_null(s)) {
		hash_sip13_u32(h, UINT32_MAX);
		return;
	}
	hash_sip13_u32(h, s.len);
	if (s.len != 0)
		hash_sip13_update(h, s.ptr, s.len);
}

/*
 * Every value of the header lines with @p id, each as written but for the
 * LWS around it: how the values are spread over lines, and the spaces
 * after their commas, are the sender's (RFC 3261 §7.3.1), and a CANCEL
 * need only carry its INVITE's Route values (§9.1), not their layout.
 * Lines without a comma (the usual case) are their values as they are,
 * without a split.
 */
DP_SH_INLINE void
dp_sh_values(struct hash_sip13 *h, const struct sip_msg *msg,
	     enum sip_hdr_id id)
{
	const struct sip_hdr *hd;
	struct sip_value_iter it;
	struct span v;

	for (hd = sip_msg_hdr(msg, id); hd != NULL;
	     hd = sip_msg_hdr_next(msg, hd))
		if (memchr(hd->value.ptr, ',', hd->value.len) != NULL)
			break;
	if (likely(hd == NULL)) {
		for (hd = sip_msg_hdr(msg, id); hd != NULL;
		     hd = sip_msg_hdr_next(msg, hd))
			dp_sh_field(h, hd->value);
		return;
	}
	sip_values_init(&it, msg, id);
	while (sip_values_next(&it, &v) == 1)
		dp_sh_field(h, v);
}

/* ---- hashes and branch -------------------------------------------------- */

uint64_t
dp_proxy_loop_hash(const struct hash_key *key, const struct sip_msg *msg,
		   const struct sip_info *info)
{
	struct hash_sip13 h;

	hash_sip13_init(&h, key);
	hash_sip13_u32(&h, 0x6c6f6f70); /* domain separation: "loop" */
	dp_sh_field(&h, msg->ruri);
	dp_sh_field(&h, info->from.tag);
	dp_sh_field(&h, info->call_id);
	hash_sip13_u32(&h, info->cseq.num);
	dp_sh_values(&h, msg, SIP_HDR_ROUTE);
	return hash_sip13_final(&h);
}

static bool
dp_proxy_has_magic(struct span branch)
{
	return branch.len > DP_PROXY_MAGIC_LEN &&
	       memcmp(branch.ptr, DP_PROXY_MAGIC, DP_PROXY_MAGIC_LEN) == 0;
}

uint64_t
dp_proxy_txn_hash_via(const struct hash_key *key, const struct sip_via *v,
		      const struct sip_info *info, const struct dp_ip *rdst,
		      uint16_t rport)
{
	struct hash_sip13 h;

	hash_sip13_init(&h, key);
	hash_sip13_u32(&h, 0x62726e64); /* "brnd" */
	if (!span_is_null(v->branch) && dp_proxy_has_magic(v->branch)) {
		/* RFC 3261 §17.2.3: branch and sent-by identify the
		 * transaction; the method does not (CANCEL, ACK follow). */
		dp_sh_field(&h, v->branch);
	} else {
		/* RFC 2543 peer: the §16.11 field list but the To tag, which
		 * the ACK of a non-2xx response has and its INVITE may not,
		 * and but what a response does not echo (the Request-URI) or
		 * we change in it (the Via's received and rport). */
		dp_sh_field(&h, info->from.tag);
		dp_sh_field(&h, info->call_id);
		hash_sip13_u32(&h, info->cseq.num);
	}
	dp_sh_field(&h, v->host);
	hash_sip13_u32(&h, v->port);
	/* maddr, received and rport steer responses (§18.2.2, RFC 3581
	 * §4): one added to or changed in a response's Via makes another
	 * transaction, which is not ours. */
	dp_sh_field(&h, v->maddr);
	hash_sip13_u32(&h, (uint32_t)rdst->family << 16 | rport);
	if (rdst->family == DP_AF_V4)
		hash_sip13_update(&h, &rdst->v4, 4);
	else
		hash_sip13_update(&h, rdst->v6, 16);
	return hash_sip13_final(&h);
}

uint64_t
dp_proxy_txn_hash(const struct hash_key *key, const struct sip_info *info,
		  const struct dp_ip *rdst, uint16_t rport)
{
	return dp_proxy_txn_hash_via(key, &info->via, info, rdst, rport);
}

bool
dp_proxy_via_rdst(const struct sip_via *via, struct dp_ip *rdst,
		  uint16_t *rport)
{
	uint8_t addr[16];
	uint64_t port;
	int fam = -1;

	if (!span_is_null(via->received))
		fam = sip_host_to_ip(via->received, addr);
	if (fam < 0)
		fam = sip_host_to_ip(via->host, addr);
	if (fam < 0)
		return false;
	dp_ip_set(rdst, addr, fam);
	if (!span_is_null(via->rport) && via->rport.len != 0 &&
	    span_to_u64(via->rport, 65535, &port) == 0 && port != 0)
		*rport = (uint16_t)port;
	else
		*rport = via->port != 0 ? via->port : 5060;
	return true;
}

/*
 * 16 lower-case hex digits of @p v, most significant first, without a
 * table: each nibble is spread to a byte, and 'a' - '0' - 10 added to
 * those above 9 (SWAR over two 64-bit words).
 */
static inline void
dp_proxy_hex_fmt16(char out[16], uint64_t v)
{
	uint64_t w[2];
	int i;

	for (i = 0; i < 2; i++) {
		/* The high 32 bits first, each nibble spread to one byte. */
		uint64_t x = (uint32_t)(v >> (32 - 32 * i));

		x = (x | x << 16) & 0x0000ffff0000ffffULL;
		x = (x | x << 8) & 0x00ff00ff00ff00ffULL;
		x = (x | x << 4) & 0x0f0f0f0f0f0f0f0fULL;
		/* Big-endian digit order in a little-endian word. */
		x = __builtin_bswap64(x);
		x += 0x3030303030303030ULL +
		     (((x + 0x0606060606060606ULL) >> 4) &
		      0x0101010101010101ULL) * 0x27;
		w[i] = x;
	}
	memcpy(out, w, 16);
}

uint32_t
dp_proxy_branch_fmt(uint64_t txn, uint64_t loop,
		    char out[DP_PROXY_BRANCH_LEN])
{
	memcpy(out, DP_PROXY_MAGIC, DP_PROXY_MAGIC_LEN);
	dp_proxy_hex_fmt16(out + DP_PROXY_MAGIC_LEN, txn);
	out[DP_PROXY_MAGIC_LEN + 16] = '.';
	dp_proxy_hex_fmt16(out + DP_PROXY_MAGIC_LEN + 17, loop);
	return DP_PROXY_BRANCH_LEN;
}

/* Parse 16 lower-case hex digits; false if any is not one. */
static bool
dp_proxy_hex16(const char *p, uint64_t *v)
{
	uint32_t a, b;

	if (!dp_hex8(p, &a) || !dp_hex8(p + 8, &b))
		return false;
	*v = (uint64_t)a << 32 | b;
	return true;
}

/* ---- our addresses ------------------------------------------------------ */

static bool
dp_proxy_ip_eq(const struct dp_ip *ip, const uint8_t *addr, int fam)
{
	if (fam == 4)
		return ip->family == DP_AF_V4 && memcmp(&ip->v4, addr, 4) == 0;
	return ip->family == DP_AF_V6 && memcmp(ip->v6, addr, 16) == 0;
}

/* Our --addr matching an IP literal, or NULL. */
static const struct dp_ip *
dp_proxy_our_ip(const struct dp_conf *conf, const uint8_t *addr, int fam)
{
	unsigned int i;

	if (fam == 4) {
		for (i = 0; i < conf->naddr4; i++)
			if (dp_proxy_ip_eq(&conf->addr4[i].ip, addr, 4))
				return &conf->addr4[i].ip;
	} else {
		for (i = 0; i < conf->naddr6; i++)
			if (dp_proxy_ip_eq(&conf->addr6[i].ip, addr, 16))
				return &conf->addr6[i].ip;
	}
	return NULL;
}

static bool
dp_proxy_our_port(const struct dp_conf *conf, uint16_t port)
{
	unsigned int i;

	if (port == 0)
		port = 5060;
	for (i = 0; i < conf->nsip_port; i++)
		if (conf->sip_port[i] == port)
			return true;
	return false;
}

/* dp_proxy_via_is_ours(), and the sent-by address in @p addr (family
 * returned, -1 when not ours). */
static int
dp_proxy_via_ours(const struct dp_conf *conf, const struct sip_via *via,
		  uint64_t *loop, uint8_t addr[16])
{
	uint64_t l;
	int fam;

	if (via->branch.len != DP_PROXY_BRANCH_LEN ||
	    !dp_proxy_has_magic(via->branch) ||
	    via->branch.ptr[DP_PROXY_MAGIC_LEN + 16] != '.' ||
	    !dp_proxy_hex16(via->branch.ptr + DP_PROXY_MAGIC_LEN + 17, &l))
		return -1;
	if (!dp_proxy_our_port(conf, via->port))
		return -1;
	fam = sip_host_to_ip(via->host, addr);
	if (fam < 0 || dp_proxy_our_ip(conf, addr, fam) == NULL)
		return -1;
	if (loop != NULL)
		*loop = l;
	return fam;
}

bool
dp_proxy_via_is_ours(const struct dp_conf *conf, const struct sip_via *via,
		     uint64_t *loop)
{
	uint8_t addr[16];

	return dp_proxy_via_ours(conf, via, loop, addr) >= 0;
}

bool
dp_proxy_uri_is_us(const struct dp_conf *conf, const struct sip_uri *uri)
{
	uint8_t addr[16];
	int fam;

	if (uri->scheme_id != SIP_SCHEME_SIP &&
	    uri->scheme_id != SIP_SCHEME_SIPS)
		return false;
	if (!dp_proxy_our_port(conf, uri->port))
		return false;
	fam = sip_host_to_ip(uri->host, addr);
	return fam > 0 && dp_conf_ip_is_ours(conf, addr, fam);
}

static const char dp_proxy_hexdig[] = "0123456789abcdef";

/* Every byte in decimal: up to 3 digits, then the count in the 4th. */
#define DP_DEC_D(v)     ((char)('0' + (v)))
#define DP_DEC(v)       {                                               \
	DP_DEC_D((v) >= 100 ? (v) / 100 : (v) >= 10 ? (v) / 10 : (v)),  \
	DP_DEC_D((v) >= 100 ? (v) / 10 % 10 : (v) % 10),                \
	DP_DEC_D((v) % 10),                                             \
	(char)((v) >= 100 ? 3 : (v) >= 10 ? 2 : 1) }
#define DP_DEC4(v)      DP_DEC(v), DP_DEC((v) + 1), DP_DEC((v) + 2), DP_DEC((v) + 3)
#define DP_DEC16(v)     DP_DEC4(v), DP_DEC4((v) + 4), DP_DEC4((v) + 8), DP_DEC4((v) + 12)
#define DP_DEC64(v)     DP_DEC16(v), DP_DEC16((v) + 16), DP_DEC16((v) + 32), DP_DEC16((v) + 48)

static const char dp_proxy_dec[256][4] = {
	DP_DEC64(0), DP_DEC64(64), DP_DEC64(128), DP_DEC64(192),
};

/* A byte in decimal; writes 4 bytes, returns the 1..3 that count. */
static inline uint32_t
dp_proxy_u8_fmt(char *out, unsigned int v)
{
	memcpy(out, dp_proxy_dec[v], 4);
	return (uint32_t)dp_proxy_dec[v][3];
}

/* A port in decimal (1..5 digits). */
static inline uint32_t
dp_proxy_port_fmt(char *out, unsigned int v)
{
	uint32_t n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 :
		     v < 10000 ? 4 : 5, i;

	for (i = n; i > 0; i--) {
		out[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return n;
}

uint32_t
dp_proxy_ip_fmt(const struct dp_ip *ip, bool brackets, char *out)
{
	unsigned int i, zpos = 0, zlen = 0;
	const uint8_t *b;
	uint32_t n = 0;

	if (ip->family == DP_AF_V4) {
		b = (const uint8_t *)&ip->v4;
		for (i = 0; i < 4; i++) {
			if (i != 0)
				out[n++] = '.';
			n += dp_proxy_u8_fmt(out + n, b[i]);
		}
		return n;
	}
	/* RFC 5952: the longest run of two or more zero groups (the first
	 * of equal runs) becomes "::". */
	for (i = 0; i < 8; i++) {
		unsigned int j = i;

		while (j < 8 && ip->v6[2 * j] == 0 && ip->v6[2 * j + 1] == 0)
			j++;
		if (j - i > zlen && j - i >= 2) {
			zlen = j - i;
			zpos = i;
		}
		if (j > i)
			i = j;
	}
	if (brackets)
		out[n++] = '[';
	for (i = 0; i < 8; i++) {
		unsigned int g = (unsigned int)ip->v6[2 * i] << 8 | ip->v6[2 * i + 1];
		bool lead = true;
		int s;

		if (zlen != 0 && i == zpos) {
			out[n++] = ':';
			out[n++] = ':';
			i += zlen - 1;
			continue;
		}
		if (i != 0 && !(zlen != 0 && i == zpos + zlen))
			out[n++] = ':';
		for (s = 12; s >= 0; s -= 4) {
			unsigned int d = (g >> s) & 0xf;

			if (lead && d == 0 && s != 0)
				continue;
			lead = false;
			out[n++] = dp_proxy_hexdig[d];
		}
	}
	if (brackets)
		out[n++] = ']';
	return n;
}

/* "host:port" of an address (brackets for IPv6) into @p out. */
static uint32_t
dp_proxy_hostport_fmt(const struct dp_ip *ip, uint16_t port, char *out)
{
	uint32_t n = dp_proxy_ip_fmt(ip, true, out);

	out[n++] = ':';
	return n + dp_proxy_port_fmt(out + n, port);
}

/* ---- shared steps of a forward ------------------------------------------ */

static enum dp_proxy_act
dp_proxy_drop(struct dp_proxy_out *out, enum dp_proxy_why why)
{
	out->why = (uint8_t)why;
	return DP_PA_DROP;
}

static enum dp_proxy_act
dp_proxy_answer(struct dp_proxy_out *out, enum dp_proxy_why why,
		uint16_t code)
{
	out->why = (uint8_t)why;
	out->code = code;
	return DP_PA_ANSWER;
}

/*
 * Local address to send to out->dst from: the one the request came to if
 * the family matches, else our first of that family.
 */
static bool
dp_proxy_pick_src(const struct dp_conf *conf, const struct dp_udp_meta *meta,
		  struct dp_proxy_out *out)
{
	if (meta->dst.family == out->dst.family) {
		out->src = meta->dst;
	} else if (out->dst.family == DP_AF_V4 && conf->naddr4 != 0) {
		out->src = conf->addr4[0].ip;
	} else if (out->dst.family == DP_AF_V6 && conf->naddr6 != 0) {
		out->src = conf->addr6[0].ip;
	} else {
		return false;
	}
	out->sport = meta->dport;
	return true;
}

/*
 * The top Via stamp (sip_via_stamp_plan(), as local answers get it) into
 * out's edits: ";received=ADDR" appended as one edit (out->recv holds
 * the prefix and the @p n bytes of the address), the port text copied to
 * out->rport (the plan's is on this stack).
 */
static int
dp_proxy_via_stamp(struct dp_proxy_out *out, const struct sip_msg *msg,
		   const struct sip_info *info, bool recv, uint32_t n,
		   uint16_t rport)
{
	const struct span addr = span_make(out->recv + DP_PROXY_RECV_PFX, n);
	struct sip_via_stamp st;
	struct span ins;
	uint32_t k;

	if (sip_via_stamp_plan(msg, info, recv ? addr : SPAN_NULL, rport,
			       &st) != 0)
		return -EINVAL;
	for (k = 0; k < st.n; k++) {
		const struct sip_via_edit *e = &st.e[k];

		if (e->ins.ptr == addr.ptr) {
			/* received: with its prefix, one edit */
			ins = span_is_null(e->pfx) ? addr :
				span_make(out->recv, DP_PROXY_RECV_PFX + n);
		} else {
			memcpy(out->rport, e->ins.ptr, e->ins.len);
			ins = span_make(out->rport, (uint32_t)e->ins.len);
		}
		if (sip_edit_add(&out->ed, e->off, e->del, ins) != 0)
			return -ENOSPC;
	}
	return 0;
}

bool
dp_via_stamp_want(const struct dp_udp_meta *meta, const struct sip_info *info,
		  char *addr, uint32_t *n, uint16_t *rport)
{
	uint8_t a[16];
	int fam;

	/*
	 * received when sent-by is a name or another address (§18.2.1),
	 * always with rport (RFC 3581 §4). The source as text first: a
	 * sent-by written the same way is that address without parsing it.
	 */
	*n = dp_proxy_ip_fmt(&meta->src, false, addr);
	/* A valued rport (RFC 3581 §3 wants it bare) gets the source port
	 * too: replies must reach the NAT binding, not the port claimed. */
	if (!span_is_null(info->via.rport)) {
		*rport = meta->sport;
		return true;
	}
	*rport = 0;
	/* A received the client wrote itself is replaced by the source:
	 * responses go where it says (§18.2.2), and must not be sent
	 * wherever a client chose. */
	if (!span_is_null(info->via.received))
		return true;
	if (meta->src.family == DP_AF_V4 && info->via.host.len == *n &&
	    memcmp(info->via.host.ptr, addr, *n) == 0)
		return false;
	fam = sip_host_to_ip(info->via.host, a);
	return fam < 0 || !dp_proxy_ip_eq(&meta->src, a, fam);
}

/* Does the top Via's maddr name the address the request came from? */
static bool
dp_proxy_via_maddr_is_src(const struct dp_udp_meta *meta,
			  const struct sip_info *info)
{
	uint8_t a[16];
	int fam = sip_host_to_ip(info->via.maddr, a);

	return fam > 0 && dp_proxy_ip_eq(&meta->src, a, fam);
}

/*
 * The edits every forwarded request gets (RFC 3261 §16.6 steps 3, 4, 8;
 * §18.2.1; RFC 3581): received/rport on the received top Via, our Via on
 * top, Max-Forwards decremented (70 inserted), Record-Route.
 */
static enum dp_proxy_act
dp_proxy_finish(const struct dp_proxy_self *self, const struct sip_msg *msg,
		const struct sip_info *info, const struct dp_udp_meta *meta,
		struct dp_proxy_out *out)
{
	const struct sip_hdr *h;
	uint16_t rport = 0;
	struct fmt_buf b;
	bool recv;
	uint32_t n;

	/* A next hop the message named (Route, maddr, a dialog's remote
	 * target) or the table holds: never a group, broadcast, loopback
	 * or our own address (403; an ACK is dropped). */
	if (unlikely(!dp_ip_other_host(self->conf, &out->dst)))
		return dp_proxy_answer(out, DP_PW_BAD_DST, 403);
	/* Responses go to a Via's maddr before all else (§18.2.2): one
	 * other than the request's source would have them sent wherever
	 * the client chose, to any host (403; an ACK is dropped). */
	if (unlikely(!span_is_null(info->via.maddr)) &&
	    !dp_proxy_via_maddr_is_src(meta, info))
		return dp_proxy_answer(out, DP_PW_VIA_MADDR, 403);
	if (!dp_proxy_pick_src(self->conf, meta, out))
		return dp_proxy_drop(out, DP_PW_NO_SRC);

	memcpy(out->recv, ";received=", DP_PROXY_RECV_PFX);
	recv = dp_via_stamp_want(meta, info, out->recv + DP_PROXY_RECV_PFX, &n,
				 &rport);

	/* Our Via line, whole, above the first Via line: one edit. */
	h = sip_msg_hdr(msg, SIP_HDR_VIA);
	if (h == NULL)
		return dp_proxy_drop(out, DP_PW_REWRITE);
	fmt_buf_init(&b, out->via, sizeof(out->via));
	if (out->via_pfx != 0 && out->via_port == out->sport &&
	    dp_ip_eq(&out->via_ip, &out->src)) {
		/* The same address as the last forward: only the branch. */
		b.p += out->via_pfx;
	} else {
		fmt_buf_lit(&b, "Via: SIP/2.0/UDP ");
		b.p += dp_proxy_hostport_fmt(&out->src, out->sport, b.p);
		fmt_buf_lit(&b, ";branch=");
		out->via_ip = out->src;
		out->via_port = out->sport;
		out->via_pfx = b.overflow ? 0 : (uint16_t)(b.p - out->via);
	}
	if (!b.overflow && (uint32_t)(b.end - b.p) >= DP_PROXY_BRANCH_LEN + 2) {
		/* Responses go back to the source: received stamped, or
		 * the sent-by that names it; to the rport stamped (its
		 * port), else the sent-by port. */
		uint16_t rp = rport != 0 ? rport :
			      info->via.port != 0 ? info->via.port : 5060;

		b.p += dp_proxy_branch_fmt(dp_proxy_txn_hash(&self->key, info,
							     &meta->src, rp),
					   out->loop, b.p);
		*b.p++ = '\r';
		*b.p++ = '\n';
	} else {
		b.overflow = 1;
	}
	if (b.overflow ||
	    sip_edit_add(&out->ed, h->off, 0, span_range(out->via, b.p)) != 0)
		return dp_proxy_drop(out, DP_PW_REWRITE);

	/* After the Via line: the edits go in offset order (fewer moves in
	 * sip_edits_sort()). */
	if ((recv || rport != 0) &&
	    dp_proxy_via_stamp(out, msg, info, recv, n, rport) != 0)
		return dp_proxy_drop(out, DP_PW_REWRITE);

	/* Max-Forwards (checked: 0 was answered 483) is a byte. */
	h = sip_msg_hdr(msg, SIP_HDR_MAX_FORWARDS);
	if (h != NULL && info->max_forwards >= 1 && info->max_forwards <= 255 &&
	    h->value.ptr >= msg->buf &&
	    span_end(h->value) <= msg->buf + msg->msg_len) {
		n = dp_proxy_u8_fmt(out->mf, (unsigned int)info->max_forwards - 1);
		if (sip_edit_add(&out->ed, (uint32_t)(h->value.ptr - msg->buf),
				 h->value.len, span_make(out->mf, n)) != 0)
			return dp_proxy_drop(out, DP_PW_REWRITE);
	} else if (sip_rw_max_forwards(&out->ed, msg, info) != 0) {
		return dp_proxy_drop(out, DP_PW_REWRITE);
	}

	if (self->record_route) {
		/*
		 * Facing the upstream: the address the request came to, so
		 * retransmissions get the same bytes. Leaving by another
		 * address (the other family), double Record-Route (RFC
		 * 5658): first the address facing the downstream, which
		 * it sends to, then that one; in-dialog requests bring both
		 * back as Route values, and both are removed.
		 */
		fmt_buf_init(&b, out->rr, sizeof(out->rr));
		fmt_buf_lit(&b, "<sip:");
		if (!dp_ip_eq(&out->src, &meta->dst) ||
		    out->sport != meta->dport) {
			b.p += dp_proxy_hostport_fmt(&out->src, out->sport,
						     b.p);
			fmt_buf_lit(&b, ";lr>, <sip:");
		}
		b.p += dp_proxy_hostport_fmt(&meta->dst, meta->dport, b.p);
		fmt_buf_lit(&b, ";lr>");
		if (b.overflow ||
		    sip_rw_record_route(&out->ed, msg,
					span_range(out->rr, b.p)) != 0)
			return dp_proxy_drop(out, DP_PW_REWRITE);
	}
	sip_edits_sort(&out->ed);      /* the in-place apply needs no sort */
	return DP_PA_SEND;
}

/*
 * The Request-URI's ";maddr=VALUE" parameter as it is written (the ';'
 * included), for removal; false without one. URIs hold no LWS, so the
 * name lies right before the value.
 */
static bool
dp_proxy_maddr_param(const struct sip_uri *u, struct span *param,
		     struct span *value)
{
	const char *name;
	uint32_t i;

	if (span_is_null(u->params))
		return false;
	/* Most Request-URIs carry no maddr: no parameter starting with an
	 * 'm' means none, without parsing them (sip_param_get()). */
	for (i = 0; i + 1 < u->params.len; i++)
		if (u->params.ptr[i] == ';' &&
		    (u->params.ptr[i + 1] | 0x20) == 'm')
			break;
	if (i + 1 >= u->params.len ||
	    !sip_param_get(u->params, SPAN_LIT("maddr"), value) ||
	    span_is_null(*value))
		return false;
	name = value->ptr - 7;
	if (name < u->params.ptr || name[0] != ';' || name[6] != '=')
		return false;
	*param = span_range(name, span_end(*value));
	return true;
}

/*
 * Whether the Request-URI has an maddr naming us (RFC 3261 §16.4: the
 * request is then processed as if it had none); its ";maddr=VALUE" in
 * *@p param.
 */
static bool
dp_proxy_maddr_ours(const struct dp_proxy_self *self, const struct sip_uri *u,
		    struct span *param)
{
	struct span value;
	uint8_t addr[16];
	int fam;

	if (!dp_proxy_maddr_param(u, param, &value))
		return false;
	fam = sip_host_to_ip(value, addr);
	return fam > 0 && dp_conf_ip_is_ours(self->conf, addr, fam);
}

/* An edit removing the parameter @p param of the Request-URI. */
static int
dp_proxy_param_del(const struct sip_msg *msg, struct span param,
		   struct dp_proxy_out *out)
{
	return sip_edit_add(&out->ed, (uint32_t)(param.ptr - msg->buf),
			    param.len, SPAN_LIT(""));
}

/*
 * Next hop from a URI: its maddr when it has one (and @p maddr_ok), else
 * its host (RFC 3263 §4: maddr overrides the host), an IP literal either
 * way; its port, else 5060.
 */
static bool
dp_proxy_uri_dest_m(const struct sip_uri *u, bool maddr_ok,
		    struct dp_proxy_out *out)
{
	struct span host = u->host, maddr;
	uint8_t addr[16];
	int fam;

	if (u->scheme_id != SIP_SCHEME_SIP && u->scheme_id != SIP_SCHEME_SIPS)
		return false;
	if (maddr_ok && sip_param_get(u->params, SPAN_LIT("maddr"), &maddr))
		host = maddr;
	fam = sip_host_to_ip(host, addr);
	if (fam < 0)
		return false;
	dp_ip_set(&out->dst, addr, fam);
	out->dport = u->port != 0 ? u->port : 5060;
	return true;
}

static bool
dp_proxy_uri_dest(const struct sip_uri *u, struct dp_proxy_out *out)
{
	return dp_proxy_uri_dest_m(u, true, out);
}

enum dp_proxy_loop
dp_proxy_loop_check(const struct dp_conf *conf, const struct hash_key *key,
		    const struct sip_msg *msg, const struct sip_info *info)
{
	enum dp_proxy_loop found = DP_LOOP_NONE;
	struct sip_value_iter it;
	struct sip_via via;
	struct span v;
	uint64_t l, loop = 0;
	bool first = true;

	if (msg->nvia <= 1) {
		if (!dp_proxy_via_is_ours(conf, &info->via, &l))
			return DP_LOOP_NONE;
		return l == dp_proxy_loop_hash(key, msg, info) ?
		       DP_LOOP_LOOP : DP_LOOP_SPIRAL;
	}
	sip_values_init(&it, msg, SIP_HDR_VIA);
	while (sip_values_next(&it, &v) == 1) {
		if (first) {
			first = false;
			via = info->via;
		} else if (sip_via_parse(&via, v) != SIP_PERR_OK) {
			continue;
		}
		if (!dp_proxy_via_is_ours(conf, &via, &l))
			continue;
		/* The loop part only once a Via of ours is there. */
		if (found == DP_LOOP_NONE)
			loop = dp_proxy_loop_hash(key, msg, info);
		if (l == loop)
			return DP_LOOP_LOOP;
		found = DP_LOOP_SPIRAL;
	}
	return found;
}

/*
 * A Route URI about to become the Request-URI (§16.4, §16.6 step 7) must
 * be one sip_msg_check() accepts there, or the next hop refuses what we
 * forward: sip, sips or tel, no URI headers, at most SIP_MAX_URI_LEN.
 */
static bool
dp_proxy_ruri_ok(const struct sip_uri *u, struct span text)
{
	return text.len <= SIP_MAX_URI_LEN && span_is_null(u->headers) &&
	       (u->scheme_id == SIP_SCHEME_SIP ||
		u->scheme_id == SIP_SCHEME_SIPS ||
		u->scheme_id == SIP_SCHEME_TEL);
}

/*
 * Strict-routing compatibility (RFC 3261 §16.4): a Request-URI that is a
 * URI we put in a Record-Route means the previous hop is a strict router.
 * The last Route value becomes the Request-URI and is removed.
 * Returns 0, 1 when done (*ruri set to the new R-URI), or -1 on error.
 */
static int
dp_proxy_strict_compat(const struct sip_msg *msg, struct dp_proxy_out *out,
		       struct sip_uri *ruri)
{
	const struct sip_hdr *h, *last = NULL;
	struct sip_value_iter it;
	struct span v, lastv = SPAN_NULL;
	struct sip_naddr na;
	const char *p, *from;
	uint32_t off;

	for (h = sip_msg_hdr(msg, SIP_HDR_ROUTE); h != NULL;
	     h = sip_msg_hdr_next(msg, h))
		last = h;
	if (last == NULL)
		return 0;
	sip_values_init(&it, msg, SIP_HDR_ROUTE);
	while (sip_values_next(&it, &v) == 1)
		lastv = v;
	if (span_is_null(lastv) || lastv.ptr < last->value.ptr ||
	    span_end(lastv) > span_end(last->value))
		return -1;
	if (sip_naddr_parse(&na, lastv) != SIP_PERR_OK ||
	    na.uri.len > sizeof(out->ruri))
		return -1;
	memcpy(out->ruri, na.uri.ptr, na.uri.len);
	if (sip_uri_parse(ruri, span_make(out->ruri, na.uri.len)) !=
	    SIP_PERR_OK || !dp_proxy_ruri_ok(ruri, na.uri))
		return -1;
	if (sip_rw_ruri(&out->ed, msg, span_make(out->ruri, na.uri.len)) != 0)
		return -1;

	/* Remove the value: its line, or ", value" at the end of the line. */
	if (lastv.ptr == last->value.ptr)
		return sip_edit_add(&out->ed, last->off, last->line_len,
				    SPAN_NULL) == 0 ? 1 : -1;
	for (p = lastv.ptr; p > last->value.ptr && p[-1] != ','; p--)
		;
	if (p == last->value.ptr)
		return -1;
	from = p - 1;
	while (from > last->value.ptr && span_is_lws((unsigned char)from[-1]))
		from--;
	off = (uint32_t)(from - msg->buf);
	return sip_edit_add(&out->ed, off,
			    (uint32_t)(span_end(lastv) - from), SPAN_NULL) == 0 ?
		1 : -1;
}

/*
 * After §16.4 compatibility removed the last Route value, the removal of
 * the first (ours, sip_rw_pop_route()) may meet it on the one Route line:
 * the same value when it was the only one, or the comma between the two.
 * The line then carries nothing else: one edit removes it whole, instead
 * of two that overlap.
 */
static void
dp_proxy_pop_merge(const struct sip_msg *msg, struct dp_proxy_out *out)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_ROUTE);
	struct sip_edit *rm, *pop;

	if (out->ed.n < 2 || h == NULL || h->next != SIP_HDR_NONE)
		return;
	rm = &out->ed.e[out->ed.n - 2];
	pop = &out->ed.e[out->ed.n - 1];
	if (pop->off + pop->del < rm->off)
		return;
	rm->off = h->off;
	rm->del = h->line_len;
	rm->ins = SPAN_NULL;
	out->ed.n--;
}

/*
 * The Route lines redone as one line, at the first one's place: the
 * values after the first @p skip (copied byte for byte, in their order),
 * then @p tail in <> when it is not null; the other Route lines removed.
 * Nothing left: the first line goes too. 0, or -1 when it does not fit.
 */
static int
dp_proxy_routes_redo(const struct sip_msg *msg, struct dp_proxy_out *out,
		     uint32_t skip, struct span tail)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_ROUTE);
	struct sip_value_iter it;
	struct fmt_buf b;
	struct span v;
	uint32_t i = 0, n = 0;
	int rc;

	if (h == NULL)
		return -1;
	fmt_buf_init(&b, out->route, sizeof(out->route));
	fmt_buf_lit(&b, "Route: ");
	sip_values_init(&it, msg, SIP_HDR_ROUTE);
	while ((rc = sip_values_next(&it, &v)) == 1) {
		if (i++ < skip || v.len == 0)
			continue;
		if (n++ != 0)
			fmt_buf_lit(&b, ", ");
		fmt_buf_span(&b, v);
	}
	if (rc != 0)
		return -1;
	if (!span_is_null(tail)) {
		if (n++ != 0)
			fmt_buf_lit(&b, ", ");
		fmt_buf_lit(&b, "<");
		fmt_buf_span(&b, tail);
		fmt_buf_lit(&b, ">");
	}
	fmt_buf_lit(&b, "\r\n");
	if (b.overflow ||
	    sip_edit_add(&out->ed, h->off, h->line_len,
			 n != 0 ? span_range(out->route, b.p) : SPAN_NULL) != 0)
		return -1;
	while ((h = sip_msg_hdr_next(msg, h)) != NULL)
		if (sip_edit_add(&out->ed, h->off, h->line_len, SPAN_NULL) != 0)
			return -1;
	return 0;
}

/*
 * Strict-routing compatibility toward the next hop (RFC 3261 §16.6 step
 * 7): the first Route value left after ours (@p skip values are ours and
 * the next hop's) names a URI, @p hop, without lr. That URI becomes the
 * Request-URI and leaves the Route list, and the Request-URI goes to the
 * end of the list; after §16.4 compatibility (out->rr_done) that URI is
 * the last Route value, which then simply stays. Every edit made so far
 * is dropped; the Route lines are redone (dp_proxy_routes_redo()) with
 * the Request-URI as received in <> at the end. 0, or -1 when it does
 * not fit.
 */
static int
dp_proxy_strict_next(const struct sip_msg *msg, struct dp_proxy_out *out,
		     uint32_t skip, struct span hop)
{
	if (hop.len > sizeof(out->ruri))
		return -1;
	sip_edits_init(&out->ed);
	memcpy(out->ruri, hop.ptr, hop.len);
	if (sip_rw_ruri(&out->ed, msg, span_make(out->ruri, hop.len)) != 0)
		return -1;
	return dp_proxy_routes_redo(msg, out, skip,
				    out->rr_done ? SPAN_NULL : msg->ruri);
}

bool
dp_proxy_route_is_us(const struct dp_conf *conf, struct span v,
		     struct sip_naddr *na, struct sip_uri *ru)
{
	if (sip_naddr_parse(na, v) != SIP_PERR_OK ||
	    sip_uri_parse(ru, na->uri) != SIP_PERR_OK)
		return false;
	if (ru->host_type == SIP_HOST_NAME)
		return (ru->scheme_id == SIP_SCHEME_SIP ||
			ru->scheme_id == SIP_SCHEME_SIPS) &&
		       dp_proxy_our_port(conf, ru->port) &&
		       dp_conf_domain_is_ours(conf, ru->host);
	return dp_proxy_uri_is_us(conf, ru);
}

enum dp_proxy_act
dp_proxy_request(const struct dp_proxy_self *self, const struct sip_msg *msg,
		 const struct sip_info *info, const struct dp_udp_meta *meta,
		 struct dp_proxy_out *out)
{
	struct sip_value_iter it;
	struct sip_uri ruri = info->ruri, ru;
	struct sip_naddr na;
	struct span v = SPAN_NULL, lr;
	uint32_t skip = 1;      /* Route values before the next hop's, incl. */
	int rc;

	sip_edits_init(&out->ed);
	out->hp_hint = SPAN_NULL;
	out->why = DP_PW_NONE;
	out->rr_done = 0;
	out->code = 0;

	out->loop = dp_proxy_loop_hash(&self->key, msg, info);
	if (info->max_forwards == 0)
		return dp_proxy_answer(out, DP_PW_MAXFWD, 483);
	/*
	 * A sips: Request-URI asks for TLS on every hop (RFC 3261 §26.2.2);
	 * this router forwards over UDP only, so it does not serve the
	 * scheme (416) rather than send the request on in the clear.
	 */
	if (unlikely(ruri.scheme_id == SIP_SCHEME_SIPS))
		return dp_proxy_answer(out, DP_PW_SIPS, 416);

	if (sip_msg_hdr(msg, SIP_HDR_ROUTE) != NULL) {
		/* Our Record-Route URIs have no user part and carry lr
		 * (§16.4: a value this proxy placed in a Record-Route);
		 * another Request-URI naming us is routed as it is. */
		if (ruri.user.len == 0 &&
		    sip_param_get(ruri.params, SPAN_LIT("lr"), &lr) &&
		    dp_proxy_uri_is_us(self->conf, &ruri)) {
			rc = dp_proxy_strict_compat(msg, out, &ruri);
			if (rc < 0)
				return dp_proxy_drop(out, DP_PW_REWRITE);
			out->rr_done = (uint8_t)rc;
		}
		sip_values_init(&it, msg, SIP_HDR_ROUTE);
		if (sip_values_next(&it, &v) == 1 &&
		    dp_proxy_route_is_us(self->conf, v, &na, &ru)) {
			if (sip_rw_pop_route(&out->ed, msg) != 0)
				return dp_proxy_drop(out, DP_PW_REWRITE);
			if (out->rr_done)
				dp_proxy_pop_merge(msg, out);
			skip = 2;
			if (sip_values_next(&it, &v) != 1)
				goto no_route;
			/*
			 * Our second value: the two of a double Record-Route
			 * (RFC 5658, dp_proxy_finish()) go together. (After
			 * §16.4 a strict router upstream has taken the first
			 * already.) The first pop is redone as one of both.
			 */
			if (!out->rr_done &&
			    dp_proxy_route_is_us(self->conf, v, &na, &ru)) {
				/* Both removed where they are, one edit per
				 * line they are on: a long Route set is left
				 * as it came, not rewritten. */
				sip_edits_init(&out->ed);
				if (sip_rw_pop_routes(&out->ed, msg, 2) != 0)
					return dp_proxy_drop(out,
							     DP_PW_REWRITE);
				skip = 3;
				if (sip_values_next(&it, &v) != 1)
					goto no_route;
			}
			/* The value we will strict-remove is not a next hop. */
			if (out->rr_done && sip_values_next(&it, &(struct span){0}) != 1)
				goto no_route;
			if (sip_naddr_parse(&na, v) != SIP_PERR_OK ||
			    sip_uri_parse(&ru, na.uri) != SIP_PERR_OK)
				return dp_proxy_answer(out, DP_PW_NOT_IP, 503);
		} else if (out->rr_done) {
			/* Only the strict-route value was there. */
			sip_values_init(&it, msg, SIP_HDR_ROUTE);
			sip_values_next(&it, &v);
			if (sip_values_next(&it, &(struct span){0}) != 1)
				goto no_route;
			if (sip_naddr_parse(&na, v) != SIP_PERR_OK ||
			    sip_uri_parse(&ru, na.uri) != SIP_PERR_OK)
				return dp_proxy_answer(out, DP_PW_NOT_IP, 503);
		} else if (span_is_null(v) ||
			   sip_naddr_parse(&na, v) != SIP_PERR_OK ||
			   sip_uri_parse(&ru, na.uri) != SIP_PERR_OK) {
			return dp_proxy_answer(out, DP_PW_NOT_IP, 503);
		}
		/* Loose routing (§16.6 step 6): the Route value is the next
		 * hop; the Request-URI stays, unless the hop is a strict
		 * router (step 7). A sips: hop wants TLS, as above. */
		if (ru.scheme_id == SIP_SCHEME_SIPS)
			return dp_proxy_answer(out, DP_PW_SIPS, 416);
		if (!dp_proxy_uri_dest(&ru, out))
			return dp_proxy_answer(out, DP_PW_NOT_IP, 503);
		/* A Route value written without <> (the grammar wants them,
		 * RFC 3261 §20.34, but it is met) reads its ;lr as a header
		 * parameter: still a loose router. */
		if (!sip_param_get(ru.params, SPAN_LIT("lr"), &lr) &&
		    (na.bracketed ||
		     !sip_param_get(na.params, SPAN_LIT("lr"), &lr))) {
			if (!dp_proxy_ruri_ok(&ru, na.uri) ||
			    dp_proxy_strict_next(msg, out, skip, na.uri) != 0)
				return dp_proxy_drop(out, DP_PW_REWRITE);
		} else if (!out->rr_done) {
			/* The Request-URI goes on as it is, but for an
			 * maddr naming us (§16.4: as if it had none), which
			 * would bring the request back here. */
			struct span mp;

			if (dp_proxy_maddr_ours(self, &ruri, &mp) &&
			    dp_proxy_param_del(msg, mp, out) != 0)
				return dp_proxy_drop(out, DP_PW_REWRITE);
		}
		out->why = DP_PW_ROUTE;
		return dp_proxy_finish(self, msg, info, meta, out);
	}

no_route:
	if (!span_is_null(info->to.tag)) {
		/*
		 * In-dialog: the Request-URI is the remote target. One that
		 * names us belongs to no dialog we know (481), except an ACK:
		 * that is the ACK of a non-2xx final response, whose
		 * Request-URI is its INVITE's (§17.1.1.3): it goes where the
		 * INVITE went, through the table. So does an ACK whose
		 * Request-URI is no IP literal (a domain of ours or another,
		 * a tel: URI): no remote target a dialog could have here,
		 * but what its INVITE was routed by.
		 */
		struct span mp;
		bool mine = !out->rr_done &&
			    dp_proxy_maddr_ours(self, &ruri, &mp);
		bool us = dp_proxy_uri_is_us(self->conf, &ruri);
		/* §16.4: an maddr naming us goes; the host is the hop. */
		bool hop = !us && dp_proxy_uri_dest_m(&ruri, !mine, out);

		if (msg->method == SIP_METHOD_ACK && !out->rr_done && !hop)
			return DP_PA_TABLE;
		if (us)
			return dp_proxy_answer(out, DP_PW_NO_DIALOG, 481);
		if (!hop)
			return dp_proxy_answer(out, DP_PW_NOT_IP, 503);
		if (mine && dp_proxy_param_del(msg, mp, out) != 0)
			return dp_proxy_drop(out, DP_PW_REWRITE);
		out->why = DP_PW_DIALOG;
		return dp_proxy_finish(self, msg, info, meta, out);
	}
	if (out->rr_done) {
		/*
		 * §16.4 gave a Request-URI that names us again, with no
		 * dialog and no Route left: nowhere to send it (not to
		 * ourselves): 404, as a request without a route gets.
		 */
		if (dp_proxy_uri_is_us(self->conf, &ruri))
			return dp_proxy_answer(out, DP_PW_NONE, 404);
		if (!dp_proxy_uri_dest(&ruri, out))
			return dp_proxy_answer(out, DP_PW_NOT_IP, 503);
		out->why = DP_PW_DIALOG;
		return dp_proxy_finish(self, msg, info, meta, out);
	}
	return DP_PA_TABLE;
}

enum dp_proxy_act
dp_proxy_to_target(const struct dp_proxy_self *self,
		   const struct sip_msg *msg, const struct sip_info *info,
		   const struct dp_udp_meta *meta,
		   const struct rules_dest *dest, struct span user,
		   struct dp_proxy_out *out)
{
	const struct sip_uri *u = &info->ruri;
	struct span esc = SPAN_NULL, hp, mp, mv;
	struct fmt_buf b;
	const char *hend;
	uint32_t off;
	int k;

	dp_ip_set(&out->dst, dest->addr, dest->af);
	out->dport = dest->port;
	if (!span_is_null(out->hp_hint) && dest->af != RULES_AF_INET6) {
		hp = out->hp_hint;
		out->hp_hint = SPAN_NULL;
	} else {
		hp = span_make(out->hostport,
			       dp_proxy_hostport_fmt(&out->dst, out->dport,
						     out->hostport));
	}
	if (!span_is_null(user)) {
		k = sip_user_escape(user, false, out->user, sizeof(out->user));
		if (k < 0)
			return dp_proxy_drop(out, DP_PW_REWRITE);
		esc = span_make(out->user, (uint32_t)k);
	}

	if (u->scheme_id == SIP_SCHEME_SIP || u->scheme_id == SIP_SCHEME_SIPS) {
		/* A telephone-subscriber's parameters (npdi, rn, isub...) go
		 * on with the rewritten number (RFC 3261 §19.1.6), but the
		 * phone-context of the number as received; unless the
		 * rewritten user has them already (a user that is no number
		 * is its own key, parameters and all, rules_key_make()). */
		if (esc.len != 0 && memchr(user.ptr, ';', user.len) == NULL) {
			k = sip_user_params(u->user, true, out->user + esc.len,
					    (uint32_t)sizeof(out->user) -
					    esc.len);
			if (k < 0)
				return dp_proxy_drop(out, DP_PW_REWRITE);
			esc.len += (uint32_t)k;
		}
		/* Edit in place: everything but user and host:port stays. An
		 * empty user (the rule stripped the whole number) leaves no
		 * user part (sip_rw_ruri_user()), as in a redirect's Contacts
		 * (dp_redirect.c). */
		if (!span_is_null(esc) &&
		    sip_rw_ruri_user(&out->ed, msg, info, esc) != 0)
			return dp_proxy_drop(out, DP_PW_REWRITE);
		hend = !span_is_null(u->port_str) ? span_end(u->port_str) :
						    span_end(u->host);
		off = (uint32_t)(u->host.ptr - msg->buf);
		if (sip_edit_add(&out->ed, off, (uint32_t)(hend - u->host.ptr),
				 hp) != 0)
			return dp_proxy_drop(out, DP_PW_REWRITE);
		/* The target is the next hop: an maddr would send the
		 * element after it elsewhere (RFC 3263 §4). */
		if (dp_proxy_maddr_param(u, &mp, &mv) &&
		    dp_proxy_param_del(msg, mp, out) != 0)
			return dp_proxy_drop(out, DP_PW_REWRITE);
	} else {
		/* tel: (RFC 3966 §... / RFC 3261 §19.1.6): sip:number@target;user=phone.
		 * The number as received is escaped as a user part too: a
		 * local number's '#' is not allowed there unescaped. */
		fmt_buf_init(&b, out->ruri, sizeof(out->ruri));
		fmt_buf_lit(&b, "sip:");
		if (!span_is_null(esc)) {
			fmt_buf_span(&b, esc);
		} else {
			k = sip_user_escape(u->user, false, b.p,
					    (uint32_t)(b.end - b.p));
			if (k < 0)
				return dp_proxy_drop(out, DP_PW_REWRITE);
			b.p += k;
		}
		/* No user part at all when the rule left no number. */
		if (!span_is_null(u->params) &&
		    (span_is_null(esc) || esc.len != 0)) {
			k = sip_tel_params_user(u->params, !span_is_null(esc),
						b.p, (uint32_t)(b.end - b.p));
			if (k < 0)
				return dp_proxy_drop(out, DP_PW_REWRITE);
			b.p += k;
		}
		if (b.p != out->ruri + 4)
			fmt_buf_lit(&b, "@");
		fmt_buf_span(&b, hp);
		fmt_buf_lit(&b, ";user=phone");
		if (b.overflow ||
		    sip_rw_ruri(&out->ed, msg, span_range(out->ruri, b.p)) != 0)
			return dp_proxy_drop(out, DP_PW_REWRITE);
	}
	out->why = DP_PW_TABLE;
	return dp_proxy_finish(self, msg, info, meta, out);
}

enum dp_proxy_act
dp_proxy_response(const struct dp_proxy_self *self, const struct sip_msg *msg,
		  const struct sip_info *info, struct dp_proxy_out *out)
{
	const struct dp_conf *conf = self->conf;
	struct sip_value_iter it;
	struct sip_via next;
	struct span v;
	uint8_t addr[16];
	uint64_t txn;
	int fam;

	sip_edits_init(&out->ed);
	out->why = DP_PW_NONE;
	out->code = 0;
	fam = dp_proxy_via_ours(conf, &info->via, NULL, addr);
	if (fam < 0)
		return dp_proxy_drop(out, DP_PW_FOREIGN_VIA);
	dp_ip_set(&out->src, addr, fam);
	out->sport = info->via.port != 0 ? info->via.port : 5060;

	sip_values_init(&it, msg, SIP_HDR_VIA);
	if (sip_values_next(&it, &v) != 1 || sip_values_next(&it, &v) != 1 ||
	    sip_via_parse(&next, v) != SIP_PERR_OK)
		return dp_proxy_drop(out, DP_PW_NO_VIA);
	/* RFC 3581 §4: received and rport, then sent-by. A host name
	 * without received is none we forwarded (we stamp one then). */
	if (!dp_proxy_via_rdst(&next, &out->dst, &out->dport))
		return dp_proxy_drop(out, DP_PW_FOREIGN_VIA);
	/* Our branch's transaction part is the keyed hash of the Via below
	 * it and of where that says responses go: a branch of our shape
	 * over any other Via, or sending elsewhere, is not ours. */
	if (!dp_proxy_hex16(info->via.branch.ptr + DP_PROXY_MAGIC_LEN, &txn) ||
	    (txn != dp_proxy_txn_hash_via(&self->key, &next, info, &out->dst,
					  out->dport) &&
	     (self->key_prev == NULL ||
	      txn != dp_proxy_txn_hash_via(self->key_prev, &next, info,
					   &out->dst, out->dport))))
		return dp_proxy_drop(out, DP_PW_FOREIGN_VIA);

	/*
	 * RFC 3261 §18.2.2: an maddr comes first, with the sent-by port
	 * (5060 when absent). One that is not an IP literal is a counted
	 * drop.
	 */
	if (!span_is_null(next.maddr)) {
		fam = sip_host_to_ip(next.maddr, addr);
		if (fam < 0)
			return dp_proxy_drop(out, DP_PW_NOT_IP);
		dp_ip_set(&out->dst, addr, fam);
		out->dport = next.port != 0 ? next.port : 5060;
	}
	/* ... a unicast address of another host (dp_ip_other_host(): to
	 * us, the response would come back here) */
	if (unlikely(!dp_ip_other_host(conf, &out->dst)))
		return dp_proxy_drop(out, DP_PW_BAD_DST);
	/* A caller of the other family than the target: answer it from our
	 * address of its family. */
	if (out->src.family != out->dst.family) {
		if (out->dst.family == DP_AF_V4 && conf->naddr4 != 0)
			out->src = conf->addr4[0].ip;
		else if (out->dst.family == DP_AF_V6 && conf->naddr6 != 0)
			out->src = conf->addr6[0].ip;
		else
			return dp_proxy_drop(out, DP_PW_NO_SRC);
	}
	if (sip_rw_pop_via(&out->ed, msg, info) != 0)
		return dp_proxy_drop(out, DP_PW_REWRITE);
	out->why = DP_PW_RELAY;
	return DP_PA_SEND;
}

/* ---- the burst ---------------------------------------------------------- */

/*
 * The branch and loop-part key: derived from the installation secret the
 * snapshot carries, apart from the To-tag key it also keys.
 */
void
dp_proxy_snap_key(const struct dp_snap *snap, struct hash_key *key)
{
	/* No generation loaded yet: a fixed key, as dp_sip.c's To-tags. */
	uint64_t k0 = snap != NULL ? snap->tag_key[0] : 0;
	uint64_t k1 = snap != NULL ? snap->tag_key[1] : 0;

	key->k0 = hash_mix64(k0 ^ 0x7369706564676531ULL);
	key->k1 = hash_mix64(k1 ^ 0x6272616e63686b31ULL);
}

static void
dp_proxy_count_why(struct dp_lcore *lc, uint8_t why)
{
	switch (why) {
	case DP_PW_SIPS:
		dp_cnt_add(lc, DP_CNT_PROXY_SIPS, 1);
		break;
	case DP_PW_NOT_IP:
		dp_cnt_add(lc, DP_CNT_PROXY_NOT_IP, 1);
		break;
	case DP_PW_NO_SRC:
		dp_cnt_add(lc, DP_CNT_NO_SRC, 1);
		break;
	case DP_PW_REWRITE:
		dp_cnt_add(lc, DP_CNT_PROXY_EDIT_FAIL, 1);
		break;
	case DP_PW_NO_DIALOG:
		dp_cnt_add(lc, DP_CNT_PROXY_NO_DIALOG, 1);
		break;
	case DP_PW_FOREIGN_VIA:
		dp_cnt_add(lc, DP_CNT_PROXY_FOREIGN_VIA, 1);
		break;
	case DP_PW_BAD_DST:
		dp_cnt_add(lc, DP_CNT_PROXY_BAD_DST, 1);
		break;
	case DP_PW_VIA_MADDR:
		dp_cnt_add(lc, DP_CNT_PROXY_VIA_MADDR, 1);
		break;
	case DP_PW_NO_VIA:
		dp_cnt_add(lc, DP_CNT_PROXY_RESP_NO_VIA, 1);
		break;
	case DP_PW_MAXFWD:
		dp_cnt_add(lc, DP_CNT_SIP_MAXFWD, 1);
		break;
	default:
		break;
	}
}

/*
 * The route table for a request the SIP stage did not look up (a Route
 * naming only us, the ACK of a non-2xx response): rule, or RULES_NO_RULE
 * with *code the answer, answered and counted as the SIP stage does
 * (dp_sip.c): a Request-URI that makes no key 400 or 414, no rule the
 * no-route code, a failed match 500.
 */
static uint32_t
dp_proxy_lookup(struct dp_lcore *lc, const struct dp_snap *snap,
		struct dp_sip_pkt *p, struct rules_key *key, uint16_t *code,
		bool alt)
{
	struct rules_scratch *scr = NULL;
	struct rules_hit hit;
	enum dp_counter cnt;
	uint32_t rule;
	uint16_t bad;
	int rc;

	*code = lc->conf->no_route_code;
	cnt = DP_CNT_SIP_NO_ROUTE;
	if (snap != NULL && snap->db != NULL && lc->idx < snap->nworkers)
		scr = snap->scratch[lc->idx];
	if (snap == NULL || snap->db == NULL) {
		rc = -ENOENT;
	} else if ((bad = dp_key_make(&p->info, key)) != 0) {
		rc = -EINVAL;
		*code = bad;
		cnt = DP_CNT_SIP_BAD_KEY;
	} else {
		rc = rules_match(snap->db, scr, key, &rule);
		if (rc == 0 && rules_hit_get(snap->db, rule, &hit) != 0)
			rc = -EIO;
		if (rc != 0 && rc != -ENOENT) {
			*code = 500;
			cnt = DP_CNT_SIP_MATCH_ERR;
		}
	}
	if (rc != 0) {
		if (!alt)
			dp_cnt_add(lc, cnt, 1);
		return RULES_NO_RULE;
	}
	if (!alt && lc->idx < snap->nworkers && rule < snap->nrules)
		dp_cnt_inc(&snap->hits[(size_t)lc->idx * snap->stride + rule]);
	if (hit.action == RULES_ACTION_REJECT) {
		if (!alt)
			dp_cnt_add(lc, DP_CNT_SIP_REJECT, 1);
		*code = hit.code;
		return RULES_NO_RULE;
	}
	return rule;
}

/*
 * Forward through rule p->rule (or a lookup of our own), to a target @p up
 * holds up (the bitmap of @p snap, or another: NULL, all up). @p alt:
 * a copy (dp_proxy_prev()) under generation N-1 or under the targets'
 * health before its last change: always a lookup of our own, nothing
 * counted, and anything but a forward is DP_PA_DROP. @p quiet: a copy
 * goes out instead of a local answer, so a redirect rule's answer (a
 * CANCEL's 200) is not sent.
 */
static inline __attribute__((always_inline)) enum dp_proxy_act
dp_proxy_table(struct dp_lcore *lc, const struct dp_snap *snap,
	       const uint64_t *up, const struct dp_proxy_self *self,
	       const struct dp_udp_meta *meta, struct dp_sip_pkt *p,
	       struct dp_proxy_out *out, bool alt, bool quiet)
{
	struct dp_sip_lcore *sl = lc->sip;
	const struct rules_key *kp;
	struct rules_key key;
	struct rules_dest dest;
	struct rules_hit hit;
	struct span user = SPAN_NULL;
	uint32_t rule = alt ? RULES_NO_RULE : p->rule, len;
	uint16_t code;

	if (rule == RULES_NO_RULE) {
		rule = dp_proxy_lookup(lc, snap, p, &key, &code, alt);
		if (alt && rule == RULES_NO_RULE)
			return DP_PA_DROP;
		if (rule == RULES_NO_RULE) {
			/* A CANCEL of an INVITE answered here (no rule, a
			 * reject rule) is answered 200, as dp_sip.c does. */
			if (p->msg.method == SIP_METHOD_CANCEL &&
			    code != 400 && code != 500) {
				dp_cnt_add(lc, DP_CNT_SIP_CANCEL, 1);
				code = 200;
			}
			out->code = code;
			out->why = DP_PW_NONE;
			return DP_PA_ANSWER;
		}
		kp = &key;
	} else {
		kp = &sl->keys[p->key_idx];
	}
	if (snap == NULL || snap->db == NULL ||
	    rules_hit_get(snap->db, rule, &hit) != 0) {
		if (!alt)
			dp_cnt_add(lc, DP_CNT_SIP_MATCH_ERR, 1);
		out->code = 500;
		out->why = DP_PW_NONE;
		return DP_PA_ANSWER;
	}
	if (alt && hit.action != RULES_ACTION_FORWARD)
		return DP_PA_DROP;
	if (hit.action != RULES_ACTION_FORWARD) {
		/*
		 * A redirect rule met on our own lookup: answer as the SIP
		 * stage would have (dp_redirect.c), which reads the key from
		 * the stage's key slot: lend it ours for the call.
		 */
		out->why = DP_PW_NONE;
		out->code = 0;
		if (p->msg.method != SIP_METHOD_ACK && !quiet) {
			struct rules_key saved = sl->keys[p->key_idx];

			p->rule = rule;
			sl->keys[p->key_idx] = key;
			out->code = (uint16_t)dp_redirect_answer(lc, snap,
								 meta, p);
			sl->keys[p->key_idx] = saved;
		}
		return DP_PA_DONE;
	}
	/* With one target the draw cannot change the choice: no keyed hash
	 * of the Call-ID (~350 instructions). The hash is kept in p->flow
	 * for a local answer's To-tag (dp_sip_respond()). */
	if (hit.ntargets > 1 && !p->flow_ok && !alt) {
		p->flow = dp_sip_flow_hash(snap, &p->info);
		p->flow_ok = 1;
	}
	/* N-1 draws with its own key (a secret change may lie between). */
	if (rules_pick_target(snap->db, rule, hit.ntargets <= 1 ? 0 :
			      alt ? dp_sip_flow_hash(snap, &p->info) : p->flow,
			      up, &dest) != 0) {
		if (alt)
			return DP_PA_DROP;
		dp_cnt_add(lc, DP_CNT_PROXY_ALL_DOWN, 1);
		out->code = 503;
		out->why = DP_PW_NONE;
		return DP_PA_ANSWER;
	}
	if (hit.strip != 0 || hit.prepend.len != 0) {
		if (rules_rewrite_user(snap->db, rule, kp, sl->user,
				       sizeof(sl->user), &len) != 0) {
			out->why = DP_PW_REWRITE;
			return DP_PA_DROP;
		}
		user = span_make(sl->user, len);
	}
	if (!alt && lc->idx < snap->nworkers && dest.target < snap->ntargets)
		dp_cnt_inc(&snap->hits[(size_t)lc->idx * snap->stride +
				       snap->nrules + dest.target]);
	/*
	 * The snapshot wrote each target's "host:port>;q=" once for the
	 * Contacts of a redirect (dp_snap.c): an IPv4 target's host:port is
	 * its start, byte for byte what dp_proxy_hostport_fmt() writes.
	 */
	out->hp_hint = SPAN_NULL;
	if (snap->chost != NULL && dest.target < snap->ntargets) {
		const struct dp_chost *c = &snap->chost[dest.target];

		if (c->len > 4 && c->len <= sizeof(c->txt) &&
		    memcmp(c->txt + c->len - 4, ">;q=", 4) == 0)
			out->hp_hint = span_make(c->txt, c->len - 4u);
	}
	return dp_proxy_to_target(self, &p->msg, &p->info, meta, &dest, user,
				  out);
}

/*
 * Apply the edits in the mbuf and send it: 1 if queued, 0 if the send
 * failed (counted, @p m consumed), -1 if the edits do not fit (counted;
 * @p m and @p msg untouched, still the caller's).
 */
static int
dp_proxy_send(struct dp_lcore *lc, struct rte_mbuf *m,
	      const struct dp_udp_meta *meta, const struct sip_msg *msg,
	      const struct dp_proxy_out *out)
{
	uint32_t cap, len, head;
	char *buf, *start;

	rte_pktmbuf_adj(m, meta->payload_off);
	buf = rte_pktmbuf_mtod(m, char *);
	cap = (uint32_t)rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m);
	/*
	 * What dp_udp_send() does not need of the headroom (the received
	 * headers' room, mostly) takes the edits' growth: the message's
	 * start moves left instead of its ~900 bytes after the edits right.
	 */
	head = out->dst.family == DP_AF_V4 ? DP_TX_HEADROOM4 : DP_TX_HEADROOM;
	head = rte_pktmbuf_headroom(m) > head ?
	       rte_pktmbuf_headroom(m) - head : 0;
	/* A failed apply has moved nothing (sip_rw_apply_inplace_head()). */
	if (unlikely(buf != msg->buf ||
		     sip_rw_apply_inplace_head(&out->ed, msg, buf, head, cap,
					       &start, &len) != 0)) {
		dp_cnt_add(lc, DP_CNT_PROXY_EDIT_FAIL, 1);
		return -1;
	}
	if (unlikely(len > UINT16_MAX)) {       /* no mbuf holds it */
		dp_cnt_add(lc, DP_CNT_PROXY_EDIT_FAIL, 1);
		dp_cnt_add(lc, DP_CNT_DROP, 1);
		rte_pktmbuf_free(m);
		return 0;
	}
	if (start != buf)
		rte_pktmbuf_prepend(m, (uint16_t)(buf - start));
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return dp_udp_send(lc, m, &out->src, out->sport, &out->dst,
			   out->dport) == 0;
}

/* Where a copy for generation N-1 goes (dp_proxy_prev()). */
struct dp_proxy_alt {
	struct rte_mbuf *m;
	struct dp_ip     src;
	struct dp_ip     dst;
	uint16_t         sport;
	uint16_t         dport;
	enum dp_counter  cnt;           /* counted when the copy went out */
};

/*
 * DESIGN §4.3 and RFC 3261 §16.11: for DP_SNAP_KEEP_US after a swap, a
 * CANCEL or an ACK the table routes may belong to an INVITE forwarded
 * under generation N-1, and a stateless proxy cannot tell. So it is
 * forwarded as N-1 would forward it, into a new mbuf, before N's edits
 * are made (both use out's buffers); the caller sends the copy when N
 * sends the request elsewhere or not at all. The element that has no
 * such transaction answers the CANCEL 481 and drops the ACK (§9.2,
 * §17.2.3). The branch is the same (a hash of the received request);
 * the Request-URI is N-1's rule's. alt->m is the copy, or NULL; out->ed
 * is dp_proxy_request()'s again either way.
 *
 * So too for DP_SNAP_KEEP_US after probes changed the targets' health
 * (dp_probe.c): @p prev is then generation N itself and @p up the bitmap
 * before that change, which picked the INVITE's target.
 */
static void
dp_proxy_prev(struct dp_lcore *lc, const struct dp_snap *prev,
	      const uint64_t *up, const struct dp_proxy_self *self,
	      const struct dp_udp_meta *meta, struct dp_sip_pkt *p,
	      struct dp_proxy_out *out, struct dp_proxy_alt *alt)
{
	const struct sip_edits ed = out->ed;
	struct rte_mbuf *m = NULL;
	uint32_t need, len, i;

	alt->m = NULL;
	if (dp_proxy_table(lc, prev, up, self, meta, p, out, true, false) !=
	    DP_PA_SEND)
		goto out;
	need = p->msg.len;
	for (i = 0; i < out->ed.n; i++)
		need += out->ed.e[i].ins.len;
	m = dp_pkt_alloc(lc, need);
	if (m == NULL)
		goto out;
	if (sip_rw_apply(&out->ed, &p->msg, rte_pktmbuf_mtod(m, char *),
			 rte_pktmbuf_tailroom(m), &len) != 0 ||
	    len > UINT16_MAX) {
		dp_cnt_add(lc, DP_CNT_PROXY_EDIT_FAIL, 1);
		rte_pktmbuf_free(m);
		goto out;
	}
	rte_pktmbuf_append(m, (uint16_t)len);
	alt->m = m;
	alt->src = out->src;
	alt->dst = out->dst;
	alt->sport = out->sport;
	alt->dport = out->dport;
out:
	out->ed = ed;
}

/* Whether probes changed @p s's health less than 64*T1 ago. */
static inline bool
dp_proxy_health_moved(const struct dp_snap *s)
{
	uint64_t t;

	if (s == NULL || s->up_prev_bits == NULL)
		return false;
	t = __atomic_load_n(&s->up_change_tsc, __ATOMIC_ACQUIRE);
	return t != 0 && rte_rdtsc() - t < dp_keep_tsc();
}

/*
 * A CANCEL or an ACK the table routes: a copy to where its INVITE may have
 * gone, when that may be elsewhere than now: under N-1 after a swap, or
 * under the targets' health before probes last changed it.
 */
static void
dp_proxy_follow(struct dp_lcore *lc, const struct dp_snap *snap,
		const struct dp_snap *prev, const struct dp_proxy_self *self,
		const struct dp_udp_meta *meta, struct dp_sip_pkt *p,
		struct dp_proxy_out *out, struct dp_proxy_alt *alt)
{
	if (prev != NULL) {
		/* N-1, and its health before a change still in its window
		 * (the new generation took the health after it). */
		alt->cnt = DP_CNT_PROXY_PREV_GEN;
		dp_proxy_prev(lc, prev, dp_proxy_health_moved(prev) ?
			      prev->up_prev_bits : prev->up, self, meta, p,
			      out, alt);
		return;
	}
	if (!dp_proxy_health_moved(snap))
		return;
	alt->cnt = DP_CNT_PROXY_PREV_HEALTH;
	dp_proxy_prev(lc, snap, snap->up_prev_bits, self, meta, p, out, alt);
}

/*
 * @p q's edits do not fit (its message, or its mbuf): a request but an
 * ACK is told so (500), not left to retransmit into the same wall; an ACK
 * or a response is a counted drop (*@p lost). The answers sent.
 */
static uint16_t
dp_proxy_unfit(struct dp_lcore *lc, const struct dp_snap *snap,
	       const struct dp_udp_meta *meta, struct dp_sip_pkt *q,
	       uint16_t *lost)
{
	if (q->msg.is_request && q->msg.method != SIP_METHOD_ACK)
		return (uint16_t)dp_sip_answer(lc, snap, meta, q, 500);
	(*lost)++;
	return 0;
}

uint16_t
dp_proxy_burst(struct dp_lcore *lc, const struct dp_snap *snap,
	       struct rte_mbuf **pkts, const struct dp_udp_meta *meta,
	       struct dp_sip_pkt **p, uint16_t n)
{
	struct rte_mbuf *drop[DP_BURST];
	struct dp_proxy_self self;
	struct dp_proxy_out out;
	struct dp_proxy_alt alt;
	struct dp_sip_lcore *sl = lc->sip;
	const struct dp_snap *prev = sl->prev;
	enum dp_proxy_act act;
	uint16_t i, nsent = 0, ndrop = 0, nlost = 0;
	int rc;

	self.conf = lc->conf;
	self.record_route = lc->conf->record_route;
	out.via_pfx = 0;
	self.key = sl->proxy_key;
	self.key_prev = NULL;
	/* Responses to what went out under the key before a change (a new
	 * secret) for 64*T1, as N-1 routes requests. */
	if (unlikely(sl->proxy_key_until != 0)) {
		if (rte_rdtsc() < sl->proxy_key_until)
			self.key_prev = &sl->proxy_key_prev;
		else
			sl->proxy_key_until = 0;
	}

	for (i = 0; i < n; i++) {
		struct dp_sip_pkt *q = p[i];

		if (!q->msg.is_request) {
			act = dp_proxy_response(&self, &q->msg, &q->info,
						&out);
		} else {
			act = dp_proxy_request(&self, &q->msg, &q->info,
					       &meta[i], &out);
			alt.m = NULL;
			if (act == DP_PA_TABLE) {
				if (unlikely(q->msg.method ==
					     SIP_METHOD_CANCEL ||
					     q->msg.method == SIP_METHOD_ACK))
					dp_proxy_follow(lc, snap, prev, &self,
							&meta[i], q, &out,
							&alt);
				act = dp_proxy_table(lc, snap, snap != NULL ?
						     snap->up : NULL, &self,
						     &meta[i], q, &out, false,
						     alt.m != NULL);
			}
			if (unlikely(alt.m != NULL)) {
				if (act == DP_PA_SEND &&
				    out.dport == alt.dport &&
				    dp_ip_eq(&out.dst, &alt.dst)) {
					rte_pktmbuf_free(alt.m);
				} else {
					int sent = dp_udp_send(lc, alt.m,
						&alt.src, alt.sport, &alt.dst,
						alt.dport) == 0;

					/* A failed send is counted as such. */
					if (sent)
						dp_cnt_add(lc, alt.cnt, 1);
					/* When N does not send it, the copy is
					 * what this datagram led to, and N's
					 * answer, if any, is not sent. */
					if (act != DP_PA_SEND) {
						nsent = (uint16_t)(nsent + sent);
						drop[ndrop++] = pkts[i];
						continue;
					}
				}
			}
		}
		switch (act) {
		case DP_PA_SEND:
			/* Counted once it went out (or waits for its next
			 * hop); a failed edit or send is counted as such. */
			rc = dp_proxy_send(lc, pkts[i], &meta[i], &q->msg,
					   &out);
			if (rc == 0)
				continue;
			if (unlikely(rc < 0)) {
				/* edits too big for the mbuf */
				nsent = (uint16_t)(nsent + dp_proxy_unfit(lc,
						snap, &meta[i], q, &nlost));
				break;
			}
			nsent++;
			if (!q->msg.is_request) {
				dp_cnt_add(lc, DP_CNT_PROXY_RELAY, 1);
				if (q->msg.status >= 100 && q->msg.status < 700)
					dp_cnt_add(lc, (enum dp_counter)
						   (DP_CNT_PROXY_RESP_1XX +
						    q->msg.status / 100 - 1), 1);
			} else {
				dp_cnt_add(lc, DP_CNT_PROXY_FWD, 1);
				dp_cnt_add(lc, out.why == DP_PW_TABLE ?
					   DP_CNT_PROXY_FWD_TABLE :
					   out.why == DP_PW_ROUTE ?
					   DP_CNT_PROXY_FWD_ROUTE :
					   DP_CNT_PROXY_FWD_DIALOG, 1);
			}
			continue;
		case DP_PA_ANSWER:
			dp_proxy_count_why(lc, out.why);
			/* ACK is never answered (RFC 3261 §17.2.1): a
			 * drop, counted as one. */
			if (q->msg.method == SIP_METHOD_ACK) {
				dp_cnt_add(lc, DP_CNT_SIP_ACK_ABSORBED, 1);
				nlost++;
				break;
			}
			nsent = (uint16_t)(nsent + dp_sip_answer(lc, snap,
					&meta[i], q, out.code));
			break;
		case DP_PA_DONE:
			/* A redirect rule's answer (a failed one is counted
			 * where it failed); the ACK of that 3xx is absorbed,
			 * as the SIP stage absorbs it in redirect mode. */
			if (q->msg.method == SIP_METHOD_ACK) {
				dp_cnt_add(lc, DP_CNT_SIP_ACK_ABSORBED, 1);
				nlost++;
				break;
			}
			nsent = (uint16_t)(nsent + out.code);
			break;
		default:
			dp_proxy_count_why(lc, out.why);
			/* edits that do not fit the message (a Route set
			 * too long for one line, say) */
			if (out.why == DP_PW_REWRITE)
				nsent = (uint16_t)(nsent + dp_proxy_unfit(lc,
						snap, &meta[i], q, &nlost));
			else
				nlost++;
			break;
		}
		drop[ndrop++] = pkts[i];
	}
	/* Answered requests too: their answers were built from copies. */
	if (ndrop != 0)
		rte_pktmbuf_free_bulk(drop, ndrop);
	if (nlost != 0)
		dp_cnt_add(lc, DP_CNT_DROP, nlost);
	return nsent;
}
