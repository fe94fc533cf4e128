/* SPDX-License-Identifier: MIT */
/*
 * dp_proxy.h - the stateless proxy's decisions over a parsed message
 * (RFC 3261 §16.3, §16.4, §16.6, §16.11, §18.2; RFC 3581): branch and
 * loop-detection hashes, our Via, the response Via check, the next hop,
 * and the edits of a forwarded request or relayed response.
 *
 * These functions touch no mbuf and no DPDK state, so they are tested
 * without EAL (tests/dataplane/test_dp_proxy_logic.c). The burst entry
 * point that sends the results, dp_proxy_burst(), is declared in dp.h.
 * Implemented in dp_proxy.c: HOT PATH (dataplane/HOTPATH.md).
 */
#ifndef SIPEDGE_DATAPLANE_DP_PROXY_H
#define SIPEDGE_DATAPLANE_DP_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include <hash.h>
#include <rules_types.h>
#include <sip.h>

#include "dp_types.h"

/*
 * Our branch: "z9hG4bK", 16 lower-case hex digits of the transaction part,
 * '.', 16 hex digits of the loop-detection part (RFC 3261 §16.6 step 8).
 */
#define DP_PROXY_MAGIC          "z9hG4bK"
#define DP_PROXY_MAGIC_LEN      7
#define DP_PROXY_BRANCH_LEN     (DP_PROXY_MAGIC_LEN + 16 + 1 + 16)

/* "[" full IPv6 "]" is 41 bytes; ":65535" 6 more. */
#define DP_PROXY_HOST_MAX       48
/* "Via: SIP/2.0/UDP " host ":" port ";branch=" branch CRLF, and slack. */
#define DP_PROXY_VIA_MAX        (17 + DP_PROXY_HOST_MAX + 8 + DP_PROXY_BRANCH_LEN + 2 + 8)
/* ";received=" in front of the address in dp_proxy_out.recv. */
#define DP_PROXY_RECV_PFX       10
/* "<sip:" host ";lr>", twice with ", " between (double Record-Route). */
#define DP_PROXY_RR_MAX         (2 * (5 + DP_PROXY_HOST_MAX + 4) + 8)
#define DP_PROXY_USER_MAX       (3 * RULES_USER_OUT_MAX)
#define DP_PROXY_RURI_MAX       (SIP_MAX_URI_LEN + 16)
/*
 * The Route line rewritten for a strict next hop (RFC 3261 §16.6 step 7):
 * the Route values left, then the Request-URI as received in <>.
 */
#define DP_PROXY_ROUTE_MAX      (SIP_MAX_URI_LEN + 1024)

/* What to do with a message. */
enum dp_proxy_act {
	DP_PA_DROP = 0,         /* out->why says why; free and count */
	DP_PA_SEND,             /* apply out->ed, send src:sport -> dst:dport */
	DP_PA_ANSWER,           /* answer locally with out->code */
	DP_PA_TABLE,            /* consult the route table, then call
				 * dp_proxy_to_target() */
	DP_PA_DONE,             /* answered already (burst function only) */
};

/* Why: one counter each in the burst function. */
enum dp_proxy_why {
	DP_PW_NONE = 0,
	DP_PW_TABLE,            /* forwarded to a route-table target */
	DP_PW_ROUTE,            /* forwarded to a Route header */
	DP_PW_DIALOG,           /* in-dialog, forwarded to the Request-URI */
	DP_PW_NOT_IP,           /* next hop is a host name: 503 or drop */
	DP_PW_NO_SRC,           /* no local address of the target's family */
	DP_PW_REWRITE,          /* edits did not fit, or malformed values */
	DP_PW_NO_DIALOG,        /* in-dialog request addressed to us: 481 */
	DP_PW_FOREIGN_VIA,      /* response whose top Via is not ours */
	DP_PW_NO_VIA,           /* response without a Via below ours */
	DP_PW_RELAY,            /* response relayed */
	DP_PW_MAXFWD,           /* Max-Forwards 0: 483 */
	DP_PW_SIPS,             /* sips: hop, no TLS here: 416 */
	DP_PW_BAD_DST,          /* next hop: no unicast address of another host */
	DP_PW_VIA_MADDR,        /* top Via's maddr is not the source: 403 */
};

/* Per-installation inputs: read-only for the duration of a burst. */
struct dp_proxy_self {
	const struct dp_conf *conf;     /* our addresses and SIP ports */
	struct hash_key  key;           /* branch and loop-part key (secret) */
	const struct hash_key *key_prev; /* the key before it, for 64*T1
					 * after a change; NULL: none */
	bool             record_route;  /* add Record-Route: <sip:us;lr> */
};

/*
 * The result of a decision. Edits borrow the buffers in this struct:
 * it must not move until they are applied.
 */
struct dp_proxy_out {
	struct sip_edits ed;
	struct dp_ip     src;           /* our address to send from */
	struct dp_ip     dst;
	uint16_t         sport;
	uint16_t         dport;
	uint16_t         code;          /* DP_PA_ANSWER */
	uint8_t          why;           /* enum dp_proxy_why */
	uint8_t          rr_done;       /* strict-route or pop edits made */
	uint64_t         loop;          /* loop part of this request */
	/* Kept from one forward to the next: via holds our Via line up to
	 * "branch=" (via_pfx bytes, 0: nothing yet) for via_ip:via_port.
	 * Zero it before the first call. */
	struct dp_ip     via_ip;
	uint16_t         via_port;
	uint16_t         via_pfx;
	char             via[DP_PROXY_VIA_MAX];
	char             recv[DP_PROXY_RECV_PFX + DP_PROXY_HOST_MAX];
	char             rport[8];      /* "=PORT" */
	char             mf[4];         /* Max-Forwards - 1 */
	char             rr[DP_PROXY_RR_MAX];
	char             hostport[DP_PROXY_HOST_MAX + 8];
	/* The target's "host:port" text when the caller has it (IPv4 only),
	 * else SPAN_NULL; dp_proxy_request() clears it. */
	struct span      hp_hint;
	char             user[DP_PROXY_USER_MAX];
	char             ruri[DP_PROXY_RURI_MAX];
	char             route[DP_PROXY_ROUTE_MAX];
};

/**
 * Loop-detection part of a request (RFC 3261 §16.6 step 8, §16.3 item 4):
 * a keyed hash of the fields that affect its routing here, the
 * Request-URI as received and every Route value, and of the From tag,
 * Call-ID and CSeq number. Not Via, not Max-Forwards: those change when a
 * request comes back. Not the To tag, Proxy-Require or
 * Proxy-Authorization: a CANCEL need not repeat the last two (RFC 3261
 * §9.1), the ACK of a non-2xx response has a To tag its INVITE had not,
 * and none of them routes a request here (a Proxy-Require is answered
 * 420), so the CANCEL and ACK of an INVITE share its branch.
 *
 * Context: any thread, hot-path safe; deterministic.
 */
uint64_t dp_proxy_loop_hash(const struct hash_key *key,
			    const struct sip_msg *msg,
			    const struct sip_info *info);

/**
 * Transaction part of our branch (RFC 3261 §16.11): a keyed hash of the
 * received top Via's branch, sent-by and maddr when the branch has the
 * magic cookie; otherwise of the From tag, Call-ID, CSeq number and the
 * top Via's sent-by and maddr (RFC 3261 §16.11's list without the To tag,
 * the Request-URI and the method); and of where its responses go back to
 * without maddr, @p rdst and @p rport: the request's source address, and
 * its source port when the Via has rport, else the sent-by port (5060
 * when absent), which is what the received and rport we stamp say
 * (dp_proxy_via_rdst()). A retransmission, its CANCEL and the ACK of a
 * non-2xx final response get the same value; so does every response to
 * it, from the Via below ours (dp_proxy_txn_hash_via()), which is how a
 * relayed response is known to answer a request we sent, and to go
 * where that request came from: a received or rport changed in it makes
 * another transaction, which is not ours.
 *
 * Context: any thread, hot-path safe; deterministic.
 */
uint64_t dp_proxy_txn_hash(const struct hash_key *key,
			   const struct sip_info *info,
			   const struct dp_ip *rdst, uint16_t rport);
/* dp_proxy_txn_hash() with @p via as the request's top Via. */
uint64_t dp_proxy_txn_hash_via(const struct hash_key *key,
			       const struct sip_via *via,
			       const struct sip_info *info,
			       const struct dp_ip *rdst, uint16_t rport);
/*
 * Where a response goes back to under @p via, a Via below ours as it was
 * forwarded, without its maddr: received (else sent-by, an IP literal)
 * into @p rdst, rport (else the sent-by port, else 5060) into @p rport.
 * False when the address is no IP literal.
 */
bool dp_proxy_via_rdst(const struct sip_via *via, struct dp_ip *rdst,
		       uint16_t *rport);

/**
 * Write our branch ("z9hG4bK" txn "." loop) into @p out; returns
 * DP_PROXY_BRANCH_LEN. Not terminated.
 */
uint32_t dp_proxy_branch_fmt(uint64_t txn, uint64_t loop,
			     char out[DP_PROXY_BRANCH_LEN]);

/**
 * True if @p via was put there by this installation: sent-by is one of
 * our addresses (an IP literal) and SIP ports (5060 when absent), and the
 * branch has our shape. The loop part is returned in *loop (may be NULL).
 *
 * Context: any thread, hot-path safe.
 */
bool dp_proxy_via_is_ours(const struct dp_conf *conf,
			  const struct sip_via *via, uint64_t *loop);

/* True if @p uri (sip/sips) has one of our addresses as host and one of
 * our SIP ports (5060 when absent). */
bool dp_proxy_uri_is_us(const struct dp_conf *conf, const struct sip_uri *uri);
/*
 * Route value @p v names us (parsed into @p na and @p ru on the way): one
 * of our addresses, or a --domain name of ours (an outbound proxy its
 * clients know by name), on one of our SIP ports (RFC 3261 §16.4).
 */
bool dp_proxy_route_is_us(const struct dp_conf *conf, struct span v,
			  struct sip_naddr *na, struct sip_uri *ru);

/* Format an address as text: IPv4 dotted quad; IPv6 as RFC 5952 says
 * (lower case, "::" for the longest zero run), within brackets if
 * @p brackets. Returns the length of the text (<= 41); an IPv4 address
 * may write one byte more (@p out needs 16 bytes). */
uint32_t dp_proxy_ip_fmt(const struct dp_ip *ip, bool brackets, char *out);

/*
 * What a server transport stamps on the top Via of a request from
 * @p meta (RFC 3261 §18.2.1, RFC 3581 §4): returns whether received is
 * due (always with rport; else when sent-by is a name or another
 * address); the source address as text in @p addr (*n bytes; room for
 * 41), and in *rport the source port when the top Via has an rport (bare,
 * or with a value RFC 3581 §3 forbids in requests), else 0. @p info is
 * from sip_msg_check().
 */
bool dp_via_stamp_want(const struct dp_udp_meta *meta,
		       const struct sip_info *info, char *addr, uint32_t *n,
		       uint16_t *rport);

/** What dp_proxy_loop_check() found. */
enum dp_proxy_loop {
	DP_LOOP_NONE,           /* no Via of ours */
	DP_LOOP_SPIRAL,         /* a Via of ours, another loop part: forward */
	DP_LOOP_LOOP,           /* a Via of ours with this loop part: 482 */
};

/**
 * Loop detection (DESIGN §3.2 step 4; RFC 3261 §16.3 item 4 with the
 * loop part of §16.6 step 8): every Via value of ours (dp_proxy_via_is_ours())
 * is compared with the loop part dp_proxy_loop_hash() gives this request
 * under @p key, which is computed only when such a Via is there. The
 * same request coming back is a loop; one whose routing fields changed
 * (another Request-URI, Route set, Call-ID, CSeq or From tag) spirals.
 *
 * Context: any thread, hot-path safe.
 */
enum dp_proxy_loop dp_proxy_loop_check(const struct dp_conf *conf,
				       const struct hash_key *key,
				       const struct sip_msg *msg,
				       const struct sip_info *info);

/**
 * First step for a request that passed DESIGN §3.2 steps 1-7 (loop
 * detection is dp_proxy_loop_check()): Route processing (§16.4:
 * strict-routing compatibility and removal of our own Route value), then
 * the next hop: the next Route
 * value (loose routing, no table), the Request-URI host of an in-dialog
 * request (To-tag present; no table), or the route table.
 *
 * @param meta
 *   Who sent it to which of our addresses (received/rport, our Via).
 * @param out
 *   Initialised here. DP_PA_SEND: edits complete, src/dst set.
 *   DP_PA_TABLE: edits so far kept, out->loop set; look the R-URI up and
 *   call dp_proxy_to_target(). DP_PA_ANSWER: out->code. DP_PA_DROP.
 *
 * Context: any thread, hot-path safe.
 */
enum dp_proxy_act dp_proxy_request(const struct dp_proxy_self *self,
				   const struct sip_msg *msg,
				   const struct sip_info *info,
				   const struct dp_udp_meta *meta,
				   struct dp_proxy_out *out);

/**
 * Second step after DP_PA_TABLE: forward to a route-table target. The
 * Request-URI gets @p user (already the rule's strip/prepend of the
 * number, unescaped; SPAN_NULL keeps the user part as received) and the
 * target's host and port.
 *
 * @return
 *   DP_PA_SEND, or DP_PA_DROP (out->why) when the edits do not fit or no
 *   local address has the target's family.
 *
 * Context: any thread, hot-path safe.
 */
enum dp_proxy_act dp_proxy_to_target(const struct dp_proxy_self *self,
				     const struct sip_msg *msg,
				     const struct sip_info *info,
				     const struct dp_udp_meta *meta,
				     const struct rules_dest *dest,
				     struct span user,
				     struct dp_proxy_out *out);

/**
 * A response (RFC 3261 §16.11, §18.2.2, RFC 3581 §4): the top Via must be
 * ours, else DP_PA_DROP (DP_PW_FOREIGN_VIA). It is removed and the result
 * goes to the next Via's maddr (with its sent-by port), else received
 * (else sent-by, an IP literal) and rport (else sent-by port, else 5060),
 * from the address and port of our Via. Ours means: one of our addresses
 * and SIP ports, and a branch whose transaction part is the one the
 * request below it would get under @p self's key, from where the next
 * Via now says responses go (dp_proxy_txn_hash_via()); anything else was
 * not sent by us, or goes elsewhere than its request came from, and a
 * relay of it would let anyone send through us to any address.
 * A next hop that is no unicast address of another host (0/8, loopback,
 * multicast, broadcast, ours) is a counted drop too (DP_PW_BAD_DST).
 *
 * Context: any thread, hot-path safe.
 */
enum dp_proxy_act dp_proxy_response(const struct dp_proxy_self *self,
				    const struct sip_msg *msg,
				    const struct sip_info *info,
				    struct dp_proxy_out *out);

/**
 * The branch and loop-part key of a snapshot: derived from the
 * installation secret it carries (snap->tag_key), distinct from the
 * To-tag key itself. @p snap may be NULL (no generation loaded yet).
 *
 * Context: any thread, hot-path safe.
 */
void dp_proxy_snap_key(const struct dp_snap *snap, struct hash_key *key);

#endif /* SIPEDGE_DATAPLANE_DP_PROXY_H */
