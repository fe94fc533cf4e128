/* SPDX-License-Identifier: MIT */
/*
 * dp.h - dataplane-internal API: the worker loop, the transmit helpers the
 * SIP stage uses, the SIP stage entry point, and the slow-path setup,
 * service and stats functions. Types are in dp_types.h.
 *
 * The seam between L2/L3 and SIP, per worker and per rx burst:
 *
 *   dp_worker_poll()  rx burst -> classify (ARP, ND, ICMP, IPv4/IPv6, UDP,
 *                     checksums, VLAN, fragments) -> act by verdict
 *     -> dp_sip_burst(lc, pkts, meta, n)   once, with every UDP datagram
 *                     for a SIP port (reassembled, single segment, VLAN
 *                     tag stripped; struct dp_udp_meta says who sent what
 *                     to which of our addresses and where the payload is)
 *        -> dp_udp_reply(lc, m, &meta[i], dport)  answer the source
 *                     address at the port the Via names (3xx, 4xx, 200 to
 *                     OPTIONS, responses along Via received/rport when
 *                     that is the source)
 *        -> dp_udp_send(lc, m, src, sport, dst, dport)  forward to a target
 *                     or a Via address; next hop, ARP/ND through the
 *                     service thread, fragmentation are handled here
 *        dp_pkt_alloc() gives a fresh mbuf for a locally built message.
 *   -> tx burst at the end of the iteration; one QSBR quiescent state per
 *      iteration in dp_worker_main(), so dp_sip_burst() may read the RCU
 *      snapshot once per call and must not keep it.
 */
#ifndef SIPEDGE_DATAPLANE_DP_H
#define SIPEDGE_DATAPLANE_DP_H

#include <stdint.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <hash.h>

#include "dp_types.h"

/*
 * Set by the signal handler (or a test) to stop the worker and service
 * loops. Written with a relaxed store, read once per loop iteration.
 */
extern volatile int dp_quit;

/* Log type "user.sipedge.dp"; slow-path threads only (STYLE.md 2.6). */
extern int dp_logtype;

#define DP_LOG(level, fmt, ...)                                         \
	rte_log(RTE_LOG_##level, dp_logtype, "sipedge-dp: " fmt "\n",   \
		##__VA_ARGS__)

/* ---- worker (hot, dp_worker.c) ---------------------------------------- */

/**
 * Poll loop of one worker lcore; started with rte_eal_remote_launch().
 *
 * @param arg
 *   This lcore's struct dp_lcore, owned by main.c for the process lifetime.
 * @return
 *   0 when dp_quit is set.
 *
 * Context: EAL worker lcore. Registers as a QSBR reader and reports one
 * quiescent state per loop iteration.
 */
int dp_worker_main(void *arg);

/**
 * One iteration of the worker loop without the RCU bookkeeping: rx burst,
 * classify, act, drain the service's inject ring, flush tx.
 *
 * @param lc
 *   The calling lcore's state.
 * @return
 *   Number of packets received from the port.
 *
 * Context: the thread that owns @p lc (a worker lcore, or a test thread
 * driving the loop by hand). Hot-path safe.
 */
uint16_t dp_worker_poll(struct dp_lcore *lc);

/* ---- SIP stage (hot, dp_sip.c) ---------------------------------------- */

/**
 * Hand a group of UDP datagrams addressed to a SIP port to the SIP stage.
 *
 * @param lc
 *   The calling lcore's state (counters, tx queue, scratch).
 * @param pkts
 *   Datagrams; each a single-segment mbuf whose UDP payload is at
 *   meta[i].payload_off from rte_pktmbuf_mtod() for meta[i].payload_len
 *   bytes. Ownership of all @p n mbufs passes to the callee, which sends
 *   (dp_udp_reply(), dp_udp_send()), keeps or frees each of them.
 * @param meta
 *   One descriptor per datagram; valid for the duration of the call only.
 * @param n
 *   Number of datagrams, at most DP_BURST.
 * @return
 *   Number of datagrams that led to a transmission; the rest were freed
 *   and counted by the callee.
 *
 * Context: worker lcore, inside its loop iteration (QSBR online); called
 * at most once per rx burst. Hot-path rules apply.
 */
uint16_t dp_sip_burst(struct dp_lcore *lc, struct rte_mbuf **pkts,
		      const struct dp_udp_meta *meta, uint16_t n);

/**
 * Answer a request locally (DESIGN §3.5): build the response with
 * sip_resp_build() into a fresh mbuf and send it to the request's source
 * address (what RFC 3261 §18.2.2 calls received) at its top Via's port
 * (5060 when it names none), or at the source port when that Via has
 * rport (RFC 3581) or does not parse; the top Via is stamped with
 * received/rport as our transport saw the request. A To-tag is added when the request has none: for a
 * checked request a SipHash under the snapshot's key of its flow hash
 * (p->flow, computed here if the caller has not), CSeq number, From tag
 * and top Via branch (dp_sip.c); otherwise of its bytes. 420 carries
 * Unsupported, 503 Retry-After (--retry-after).
 *
 * @param req
 *   The request; not consumed (the caller frees it after the burst).
 * @param p
 *   Its parsed state from pass 1.
 * @return
 *   1 if a response was queued, 0 if it was dropped (counted).
 *
 * Context: worker lcore, inside dp_sip_burst(); hot-path rules apply.
 */
int dp_sip_answer(struct dp_lcore *lc, const struct dp_snap *snap,
		  const struct dp_udp_meta *meta, struct dp_sip_pkt *p,
		  uint16_t code);

/**
 * Send the response @p r (code, Contacts, extra headers set by the caller)
 * to @p p's request, as dp_sip_answer() does; @p extra is the room the
 * caller's additions need beyond the copied request headers.
 *
 * @return
 *   1 if queued, 0 if dropped (counted).
 *
 * Context: worker lcore, inside dp_sip_burst().
 */
int dp_sip_respond(struct dp_lcore *lc, const struct dp_snap *snap,
		   const struct dp_udp_meta *meta, struct dp_sip_pkt *p,
		   struct sip_resp *r, uint32_t extra);

/* Count a local response with @p code (sip_code_* counters). */
void dp_sip_count_code(struct dp_lcore *lc, uint16_t code);

/* ---- redirect-only mode (hot, dp_redirect.c) --------------------------- */

/**
 * Redirect-mode decisions for a checked request that is not for the
 * router itself (DESIGN §3.4, RFC 3261 §8.2.7 stateless UAS): ACK is
 * absorbed, CANCEL answered 200, an in-dialog request (To-tag) 481;
 * everything else is routed. Route headers are ignored: as a UAS the
 * redirect server does not process them (RFC 3261 §8.2).
 *
 * @return
 *   DP_SV_DROP, DP_SV_ANSWER (p->code set) or DP_SV_ROUTE.
 *
 * Context: worker lcore, pass 1 of dp_sip_burst().
 */
uint8_t dp_redirect_classify(struct dp_lcore *lc, struct dp_sip_pkt *p);

/**
 * Answer a routed request with a redirect: one Contact per up target of
 * rule p->rule, ordered by rules_contacts() (tier, then rendezvous order
 * over the Call-ID's flow hash), q-values from the order, the user part
 * after the rule's strip/prepend; 503 with Retry-After when no target is
 * up. A CANCEL (proxy mode reaches a redirect rule with one) gets 200, as
 * a stateless UAS answers it in redirect mode.
 *
 * @return
 *   1 if a response was queued, 0 if dropped (counted).
 *
 * Context: worker lcore, pass 2 of dp_sip_burst(); @p snap is the one
 * the burst read and p->rule belongs to.
 */
int dp_redirect_answer(struct dp_lcore *lc, const struct dp_snap *snap,
		       const struct dp_udp_meta *meta, struct dp_sip_pkt *p);

/* Flow hash of a request: SipHash of its Call-ID under snap->flow_key. */
uint64_t dp_sip_flow_hash(const struct dp_snap *snap,
			  const struct sip_info *info);

/* ---- proxy mode (hot, dp_proxy.c) -------------------------------------- */

/**
 * The stateless proxy stage (--mode proxy, DESIGN §3.3). Receives, per
 * burst, every datagram the SIP stage did not answer itself: responses
 * (parsed), and requests that passed DESIGN §3.2 steps 1-7. For those,
 * p[i]->rule is the winning rule (its action forward or redirect), or
 * RULES_NO_RULE when the request has a Route header or a To-tag (no
 * route-table lookup, §3.2 step 8); rejects and no-route answers were
 * already sent.
 *
 * @param pkts
 *   Ownership of all @p n mbufs passes to the callee: it sends
 *   (dp_udp_send() after editing in place), or frees and counts them.
 * @param p
 *   Parsed state of each, valid during the call only; may be answered
 *   with dp_sip_answer().
 * @return
 *   Number of datagrams that led to a transmission.
 *
 * Context: worker lcore, pass 2 of dp_sip_burst(), with the burst's
 * snapshot (NULL before the first generation is loaded; then only
 * responses and Route/in-dialog requests arrive). Hot-path rules apply.
 */
uint16_t dp_proxy_burst(struct dp_lcore *lc, const struct dp_snap *snap,
			struct rte_mbuf **pkts, const struct dp_udp_meta *meta,
			struct dp_sip_pkt **p, uint16_t n);

/* ---- Target health probing (slow, dp_probe.c) ---------------------------- */

/*
 * Our probes' Via branch: DP_PROBE_MAGIC, then the generation's low 32
 * bits, the target number and the round, 8 lower-case hex digits each,
 * and a keyed hash of the three (dp_probe_mac(), 16 hex digits),
 * separated by '.': an answer is only counted with the hash right, so
 * one cannot be forged for a target (to keep a dead one up) without
 * having seen its probe.
 */
#define DP_PROBE_MAGIC          "z9hG4bK-sep."
#define DP_PROBE_MAGIC_LEN      12
#define DP_PROBE_MAC_OFF        (DP_PROBE_MAGIC_LEN + 8 + 1 + 8 + 1 + 8 + 1)
#define DP_PROBE_BRANCH_LEN     (DP_PROBE_MAC_OFF + 16)

/* DP_SNAP_KEEP_US (64*T1) in TSC cycles: how long what a change replaced
 * (the proxy's branch key, the targets' health) still routes and checks
 * CANCELs, ACKs and responses. */
static inline uint64_t
dp_keep_tsc(void)
{
	return DP_SNAP_KEEP_US * (rte_get_tsc_hz() / 1000000u);
}

/* Target @p t's bit of target-state bitmap @p w (1: up). Workers may be
 * reading @p w: loaded and stored a whole word at a time. */
static inline bool
dp_up_get(const uint64_t *w, uint32_t t)
{
	return (__atomic_load_n(&w[t / 64], __ATOMIC_RELAXED) >> (t % 64)) & 1;
}

/* Set target @p t's bit of @p w to @p on, one whole-word store. */
static inline void
dp_up_set(uint64_t *w, uint32_t t, bool on)
{
	uint64_t v = __atomic_load_n(&w[t / 64], __ATOMIC_RELAXED);
	uint64_t b = 1ull << (t % 64);

	if (((v & b) != 0) != on)
		__atomic_store_n(&w[t / 64], on ? v | b : v & ~b,
				 __ATOMIC_RELAXED);
}

/*
 * The keyed hash of a probe's generation, target and round, under the
 * process's own random key: a secret change keeps the round in flight,
 * and a restart makes branches no one has seen.
 */
static inline uint64_t
dp_probe_mac(const struct dp_snap *s, uint32_t gen, uint32_t t,
	     uint32_t round)
{
	const struct hash_key k = { s->probe_key[0], s->probe_key[1] };
	uint32_t w[3] = { gen, t, round };

	return siphash24(&k, w, sizeof(w));
}
#define DP_PROBE_MAX            8192u   /* targets probed per round */
#define DP_PROBE_POOL           4095u   /* mbufs of ifc->probe, and the
					 * probe ring's size (+1) */
#define DP_PROBE_PER_WORKER     256u    /* ... and per worker lcore: a
					 * quarter of its inject ring */

/**
 * Give snapshot @p s (not yet published) the probe state of
 * conf->probe_interval_ms != 0: answer slices, miss counts, and a
 * target-state bitmap that is targets.down's (s->up_bits so far) with
 * every target healthy. Nothing when probing is off.
 *
 * @return
 *   0; -ENOMEM.
 *
 * Context: the loader thread (or a test).
 */
int dp_probe_prepare(const struct dp_conf *conf, struct dp_snap *s);

/*
 * The latest probe round target @p t of @p s has answered, over every
 * worker's slice (0: none). Context: the loader thread (atomic loads;
 * workers write the slices).
 */
uint32_t dp_probe_answered(const struct dp_snap *s, uint32_t t);

/*
 * Carry health from @p old (the snapshot @p s replaces, still current) to
 * @p s (prepared by dp_probe_prepare(), not yet published) by target
 * "host:port": misses and health bits, so a target found dead stays out
 * after a route import; and the probe round in flight (where it went, the
 * answers in so far, and a map of its target numbers to @p s's for the
 * answers to come), so that swaps more frequent than probe rounds do not
 * keep a dead target up. Context: the loader thread (dp_snap.c, which
 * carries the counters the same way).
 */
void dp_snap_carry_health(const struct dp_conf *conf, struct dp_snap *s,
			  const struct dp_snap *old);

/*
 * After the grace period that took @p old out of the workers' hands
 * (@p s published in its place): the probe answers recorded in @p old
 * after dp_snap_carry_health() copied them, into @p s, so that an answer
 * a worker took during the swap is not lost. Context: the loader thread.
 */
void dp_snap_carry_answers(struct dp_snap *s, const struct dp_snap *old);

struct addr_port;

/**
 * The target-state bitmap of @p s (not yet published): down are the @p n
 * entries at @p down (targets.down), and every target the router may not
 * send to: one of our addresses, or a broadcast address of one of our
 * prefixes (what an import cannot know; dp_ip_other_host(), logged), so
 * that a forward fails over to the next target and a redirect leaves it
 * out, instead of answering 403. Nothing stays allocated when no target
 * is down: s->up is NULL (all up). 0, or -ENOMEM.
 *
 * Context: the loader thread (or a test), before dp_probe_prepare().
 */
int dp_snap_mark_down(const struct dp_conf *conf, struct dp_snap *s,
		      const struct addr_port *down, uint32_t n);

/**
 * One probing round over @p s (the loader's current snapshot). First the
 * last round is judged: a target that answered none of its last
 * conf->probe_down probes is down, one that answered is up again; the
 * target-state bitmap is updated word by word (workers read it while it
 * changes; a word is written whole). Then round @p round (never 0) sends
 * an OPTIONS to every target (at most DP_PROBE_PER_WORKER per worker,
 * what the probe ring and pool have room for and DP_PROBE_MAX in all, in
 * turn: more targets are probed every few rounds), built as an IP packet
 * the service thread resolves and hands to a worker. The probe pool and
 * ring are the loader's own, so that it never stops the workers' rings
 * when the scheduler preempts it.
 *
 * @return
 *   The number of probes handed to the service; *@p fail those that could
 *   not be (no mbuf, ring full, no route or source address, a target that
 *   is no unicast address of another host).
 *
 * Context: the loader thread (or a test); owns @p s's probe state.
 */
uint32_t dp_probe_round(const struct dp_conf *conf,
			const struct dp_service *svc, struct dp_snap *s,
			uint32_t round, uint64_t *fail);

/* ---- SIP stage set-up (slow, dp_sip_setup.c) ---------------------------- */

/**
 * Allocate the SIP stage's per-lcore state (lc->sip) on @p socket.
 *
 * @return
 *   0; -ENOMEM.
 *
 * Context: main thread, before the lcore starts. Undone by
 * dp_sip_lcore_fini().
 */
int dp_sip_lcore_init(struct dp_lcore *lc, int socket);

/* Free lc->sip; NULL-safe. Context: main thread, lcore stopped. */
void dp_sip_lcore_fini(struct dp_lcore *lc);

/* ---- snapshots (slow, dp_snap.c) --------------------------------------- */

/*
 * The current snapshot. Written only by the loader thread (or a test)
 * with rcu_assign_pointer(); read by workers with rcu_dereference() once
 * per burst, inside their QSBR read-side (between quiescent states). NULL
 * until the first snapshot (then every routable request gets the no-route
 * answer).
 */
extern struct dp_snap *dp_snap_current;

/*
 * Generation N-1 for DP_SNAP_KEEP_US after a swap (DESIGN §4.3), else
 * NULL; written and read as dp_snap_current. Proxy mode routes a CANCEL
 * or an ACK through it too (dp_proxy.c); it is never counted into.
 */
extern struct dp_snap *dp_snap_prev;

/**
 * Build a snapshot from a compiled rules image (rules_compile()).
 *
 * @param image
 *   The image in dataplane memory (copied out of LMDB by the caller):
 *   malloc()ed, 8-byte aligned; used in place (rules_db_load_inplace())
 *   and owned by the snapshot on success, still the caller's on error.
 *   NULL builds an empty snapshot (no rules: the no-route answer).
 * @param secret
 *   16-byte installation secret: keys the To-tags and the flow hashes.
 * @param nworkers
 *   Worker lcores: one matching scratch and one counter slice each.
 * @return
 *   0 and *out; -EBADMSG (bad image), -ENOMEM, -EIO.
 *
 * Context: loader thread (or a test): allocates.
 */
int dp_snap_build(void *image, size_t len, uint64_t generation,
		  const uint8_t secret[16], uint16_t nworkers,
		  struct dp_snap **out);

/* Free a snapshot no worker can see any more; NULL-safe. Context: loader. */
void dp_snap_free(struct dp_snap *s);

/**
 * Publish @p s as the current snapshot and return the previous one, which
 * workers may still be reading until a grace period has elapsed.
 *
 * Context: the single publisher (loader thread, or a test).
 */
struct dp_snap *dp_snap_publish(struct dp_snap *s);

/* The same for dp_snap_prev (NULL: no N-1 to consult). */
struct dp_snap *dp_snap_publish_prev(struct dp_snap *s);

/**
 * Sum a snapshot's per-lcore rule-hit and target-pick counters: hits[r]
 * for rule r, picks[t] for target t (either may be NULL; sized nrules and
 * ntargets). Relaxed loads of single-writer counters.
 *
 * Context: any slow-path thread holding the snapshot alive (the loader).
 */
void dp_snap_sum(const struct dp_snap *s, uint64_t *hits, uint64_t *picks);

/**
 * dp_snap_sum() plus what earlier snapshots counted for the same rule id
 * and the same target (carried at each swap, dp_loader_swap()): counters
 * that run on across generations for the rules and targets that stay.
 *
 * Context: the loader thread (it owns the carried counts).
 */
void dp_snap_totals(const struct dp_snap *s, uint64_t *hits, uint64_t *picks);

/* ---- transmit helpers (hot, dp_tx.c) ---------------------------------- */

/**
 * Allocate an mbuf for a UDP payload of @p len bytes, with DP_TX_HEADROOM
 * reserved for the headers dp_udp_reply()/dp_udp_send() prepend.
 *
 * @return
 *   An empty mbuf (data_len 0) whose tailroom holds @p len bytes, from the
 *   direct pool or, for payloads larger than its buffers, the jumbo pool;
 *   NULL (counted as NO_MBUF) if the pool is empty or @p len too large.
 *
 * Context: worker lcore. Owned by the caller until passed to a send helper.
 */
struct rte_mbuf *dp_pkt_alloc(struct dp_lcore *lc, uint32_t len);

/**
 * Send a UDP payload back to the source of a received datagram, from the
 * address and port it was sent to, on its VLAN, to the MAC it came from.
 *
 * @param m
 *   Single-segment mbuf holding exactly the UDP payload from
 *   rte_pktmbuf_mtod(); at least DP_TX_HEADROOM bytes of headroom (mbufs
 *   from dp_pkt_alloc(), or a received one after rte_pktmbuf_adj() to its
 *   payload). Consumed in every case.
 * @param req
 *   The received datagram's descriptor: the answer goes to its source
 *   address, from the address and port it was sent to.
 * @param dport
 *   The answer's destination port (the source port, or what the top Via
 *   names, RFC 3261 §18.2.2).
 * @return
 *   0 if queued for transmission (fragmented if larger than the MTU);
 *   -ENOSPC (no headroom) or -ENOBUFS (fragmentation failed): freed and
 *   counted.
 *
 * Context: worker lcore. Checksums by offload when the port has it.
 */
int dp_udp_reply(struct dp_lcore *lc, struct rte_mbuf *m,
		 const struct dp_udp_meta *req, uint16_t dport);

/* The next hop for @p dst: itself if on-link, else the gateway; -ENOENT
 * without either. Context: any thread. */
int dp_route(const struct dp_conf *conf, const struct dp_ip *dst,
	     struct dp_ip *nh);

/**
 * Send a UDP payload to @p dst:@p dport, resolving the next hop (on-link
 * prefix or gateway) through the neighbour table.
 *
 * @param m
 *   As for dp_udp_reply(). Consumed in every case.
 * @param src
 *   Local source address (same family as @p dst), or NULL for the --addr
 *   whose prefix holds @p dst (else the first of that family).
 * @param sport
 *   Source port, host order.
 * @param dst
 *   Destination address.
 * @param dport
 *   Destination port, host order.
 * @return
 *   0 if queued, or held by the service thread until the next hop
 *   resolves; -EHOSTUNREACH (no route), -EADDRNOTAVAIL (no source),
 *   -EINVAL (@p src of another family), -ENOSPC, -ENOBUFS: freed and
 *   counted.
 *
 * Context: worker lcore. Never sends ARP/ND itself: a miss passes the
 * packet to the service thread through its ring.
 */
int dp_udp_send(struct dp_lcore *lc, struct rte_mbuf *m,
		const struct dp_ip *src, uint16_t sport,
		const struct dp_ip *dst, uint16_t dport);

/**
 * Prepend UDP and IP headers, both checksums computed, to the payload in
 * @p m, as dp_udp_send() does but without a worker lcore: the loader's
 * probes (dp_probe.c), which the service thread then routes. @p dscp:
 * the DSCP (--dscp) to mark it with.
 *
 * @return
 *   0, or -ENOSPC (no headroom, not contiguous, too long) with @p m
 *   unchanged.
 *
 * Context: any thread.
 */
int dp_udp_prepend(struct rte_mbuf *m, const struct dp_ip *src,
		   uint16_t sport, const struct dp_ip *dst, uint16_t dport,
		   uint8_t dscp);

/**
 * Route an IP packet (no L2 header) held in @p m: next hop, neighbour
 * lookup, Ethernet/VLAN header, fragmentation, tx queue.
 *
 * @return
 *   0 if queued or held for resolution; a negative errno if dropped
 *   (counted). @p m is consumed in every case.
 *
 * Context: worker lcore. IP and UDP checksums must already be final
 * unless the matching RTE_MBUF_F_TX_* offload flags are set.
 */
int dp_ip_output(struct dp_lcore *lc, struct rte_mbuf *m);

/**
 * Look up a neighbour's MAC address.
 *
 * @return
 *   0 and *mac filled if reachable; -ENOENT otherwise.
 *
 * Context: any thread; never waits (sequence count, bounded retries).
 */
int dp_neigh_lookup(const struct dp_neigh_tbl *t, const struct dp_ip *ip,
		    struct rte_ether_addr *mac);

/**
 * Queue a complete frame for transmission on the lcore's TX queue; flushes
 * first when the buffer is full. @p m is consumed.
 *
 * Context: the thread that owns @p lc. The worker flushes at the end of
 * every loop iteration.
 */
void dp_txq_push(struct dp_lcore *lc, struct rte_mbuf *m);

/**
 * Transmit everything queued; what the port refuses is freed and counted
 * (TX_FULL).
 *
 * Context: the thread that owns @p lc.
 */
void dp_txq_flush(struct dp_lcore *lc);

/* ---- setup (slow, dp_port.c) ------------------------------------------ */

/**
 * Create the mempools of one socket: direct (@p nb_mbufs, each holding a
 * whole frame of @p mtu), indirect (for fragmentation) and jumbo
 * (@p nb_jumbo, for reassembled datagrams and large answers), and with
 * @p probes (--probe-interval) the loader's own (DP_PROBE_POOL mbufs).
 *
 * @return
 *   0, or -ENOMEM / -EEXIST (names are per socket).
 *
 * Context: main thread, after rte_eal_init(), before any lcore starts.
 */
int dp_pools_create(struct dp_iface *ifc, int socket, uint32_t nb_mbufs,
		    uint32_t nb_jumbo, uint16_t mtu, bool probes);

/** Free the pools created by dp_pools_create(). Context: main thread. */
void dp_pools_free(struct dp_iface *ifc);

/**
 * Configure and start @p port with @p nb_queues RX/TX queue pairs: RSS on
 * IP/UDP when the port has it, checksum offloads when the port has them,
 * MTU from the configuration.
 *
 * @param ifc
 *   Pools already created; filled with the port's MAC and offloads.
 * @return
 *   0 or a negative errno from the ethdev layer.
 *
 * Context: main thread, before any lcore starts.
 */
int dp_port_init(struct dp_iface *ifc, const struct dp_conf *conf,
		 uint16_t port, uint16_t nb_queues);

/**
 * Print the port's own counters (rte_eth_stats: rx, tx, missed, errors).
 *
 * Context: any slow-path thread.
 */
void dp_port_stats_print(FILE *f, const struct dp_iface *ifc);

/** Stop and close the port. Context: main thread, lcores stopped. */
void dp_port_fini(struct dp_iface *ifc);

/**
 * Prepare one worker's state: its queue, reassembly table, inject ring.
 *
 * @return
 *   0, -ENOMEM.
 *
 * Context: main thread, before the lcore starts. Undone by dp_lcore_fini().
 */
int dp_lcore_init(struct dp_lcore *lc, const struct dp_iface *ifc,
		  const struct dp_neigh_tbl *neigh, struct rte_ring *svc_ring,
		  uint16_t idx, int socket);

/**
 * Free what dp_lcore_init() set up, and any packet still queued.
 *
 * Context: main thread, after the lcore has returned.
 */
void dp_lcore_fini(struct dp_lcore *lc);

/* ---- neighbours and service (slow, dp_neigh.c, dp_service.c) ---------- */

/**
 * Allocate a neighbour table of @p size entries (rounded up to a power of
 * two, at least 16).
 *
 * @return
 *   0 and *@p out, or -ENOMEM. Freed with dp_neigh_tbl_free().
 *
 * Context: main thread, before the workers start.
 */
int dp_neigh_tbl_new(uint32_t size, int socket, struct dp_neigh_tbl **out);

/**
 * Free a table and any packet held in it. NULL is a no-op.
 *
 * Context: main thread, workers and service stopped.
 */
void dp_neigh_tbl_free(struct dp_neigh_tbl *t);

/**
 * Process one mbuf from the service ring: learn from an ARP reply / NA,
 * or hold an output for an unresolved next hop and ask for it.
 *
 * Context: service thread only.
 */
void dp_neigh_input(struct dp_service *svc, struct rte_mbuf *m, uint64_t now);

/**
 * Retry incomplete entries, drop their held outputs after the last try,
 * age out stale entries. Context: service thread only.
 */
void dp_neigh_age(struct dp_service *svc, uint64_t now);

/**
 * Send an MLDv2 Report (RFC 3810 §5.2) for the solicited-node groups of
 * our IPv6 addresses (RFC 4861 §7.2.1 joins them), so that switches that
 * snoop MLD forward neighbour solicitations for our addresses to us.
 * @p change: Filter Mode Change records (CHANGE_TO_EXCLUDE, the reports
 * of a join), else Current State ones (MODE_IS_EXCLUDE, the refresh).
 * Nothing without an IPv6 address.
 *
 * @return
 *   1 if a report was built and handed to a worker's inject ring (a full
 *   ring drops it, counted as dp_svc_inject_full), else 0.
 *
 * Context: service thread only.
 */
int dp_neigh_mld_report(struct dp_service *svc, bool change);

/**
 * Set up the service state and its ring (@p ring_size entries).
 *
 * @return
 *   0, -ENOMEM.
 *
 * Context: main thread, before the workers (which need svc->ring) start.
 */
int dp_service_init(struct dp_service *svc, const struct dp_iface *ifc,
		    struct dp_neigh_tbl *neigh, unsigned int ring_size,
		    int socket);

/**
 * Attach the worker array the service sends frames through (their inject
 * rings). Context: main thread, before dp_service_run().
 */
void dp_service_set_workers(struct dp_service *svc, struct dp_lcore *workers,
			    uint16_t nb_workers);

/**
 * One pass of the service: drain the ring, age the table when due.
 *
 * @return
 *   Number of ring entries processed.
 *
 * Context: service thread (or a test thread driving it by hand).
 */
unsigned int dp_service_poll(struct dp_service *svc);

/**
 * Run dp_service_poll() until dp_quit, sleeping 100 us when idle.
 *
 * Context: the service thread (the main lcore in sipedge-dataplane).
 */
int dp_service_run(struct dp_service *svc);

/** Free the ring; drain it first. Context: main thread, lcores stopped. */
void dp_service_fini(struct dp_service *svc);

/**
 * Start the loader: load the current generation now (or publish an empty
 * snapshot when there is none, no --data-dir, or LMDB cannot be read),
 * then, if @p thread, start the loader thread: subscribe to --control
 * (reconnecting with backoff), load each announced generation, check
 * LMDB every second anyway, keep N-1 for 32 s, push stats every second.
 *
 * @return
 *   0, or a negative errno (no snapshot could be built, thread failed).
 *
 * Context: main thread, before the workers start. The thread is an
 * ordinary pthread, not an EAL lcore, and no RCU reader: it only writes
 * dp_snap_current and waits for grace periods.
 */
int dp_loader_start(struct dp_loader *ld, const struct dp_conf *conf,
		    const struct dp_lcore *lcs, uint16_t nworkers,
		    const struct dp_service *svc, bool thread);

/**
 * Load the current generation from LMDB and publish it if it differs
 * from the loaded one (or always, with @p force).
 *
 * @return
 *   1 if a snapshot was published, 0 if nothing changed, a negative
 *   errno if loading failed (the current snapshot stays).
 *
 * Context: the loader thread, or the main thread when no loader thread
 * runs (tests).
 */
int dp_loader_load(struct dp_loader *ld, bool force);

/* Stop the thread, free every snapshot, close LMDB. Context: main thread,
 * workers stopped. */
void dp_loader_stop(struct dp_loader *ld);

/* ---- control socket client (slow, dp_ctl.c) ---------------------------- */

/* Bytes of a control socket path, its NUL included (sockaddr_un). */
#define DP_CTL_PATH_MAX         108

/* Connect to the control socket: fd or a negative errno. */
int dp_ctl_connect(const char *path);
/* Send one frame (PROTOCOL.md 1): 0 or a negative errno. */
int dp_ctl_send(int fd, char type, const void *payload, uint32_t len);
/*
 * Next complete frame at the start of @p buf (@p len bytes): 1 and its
 * type and payload (pointing into @p buf); 0 if incomplete; -EPROTO if
 * too long. dp_ctl_frame_consume() removes it.
 */
int dp_ctl_frame_next(char *buf, size_t *len, char *type, char **payload,
		      uint32_t *plen);
void dp_ctl_frame_consume(char *buf, size_t *len, uint32_t plen);
/* One request on its own connection: the reply, NUL-terminated, in
 * @p reply. 0 or a negative errno. */
int dp_ctl_request(const char *path, const char *json, size_t jlen,
		   char *reply, size_t cap, size_t *rlen);
/* The first "key": unsigned number in a JSON text: 0 or -ENOENT. */
int dp_ctl_json_u64(const char *json, size_t len, const char *key,
		    uint64_t *out);

/* ---- options (slow, dp_opts.c) ---------------------------------------- */

/**
 * Defaults: SIP port 5060, redirect mode, 302/404, MTU 1500, untagged,
 * 8191 mbufs, port 0. Context: main thread, start-up.
 */
void dp_conf_defaults(struct dp_conf *conf);

/**
 * Parse the application options (after the EAL's).
 *
 * @return
 *   0; 1 if --help was given (usage printed); -EINVAL with a message on
 *   stderr. Strings in @p conf point into @p argv.
 *
 * Context: main thread, start-up.
 */
int dp_opts_parse(struct dp_conf *conf, int argc, char **argv);

/** Print the option summary. Context: main thread. */
void dp_opts_usage(FILE *f, const char *prog);

/**
 * Parse "IP" or "IP/PREFIX" (IPv4 or IPv6). Without a prefix the host
 * length (32/128) is used.
 *
 * @return
 *   0 or -EINVAL.
 */
int dp_prefix_parse(const char *s, struct dp_prefix *out);

/* ---- stats (slow, dp_stats.c) ----------------------------------------- */

/**
 * Counter name ("ARP_REQ") and description, from DP_COUNTER_MAP. Static
 * strings. Context: any thread.
 */
const char *dp_counter_name(enum dp_counter c);
const char *dp_counter_desc(enum dp_counter c);

/**
 * Sum the counters of @p n lcores with relaxed loads.
 *
 * Context: any thread; values are a consistent-enough snapshot per counter.
 */
void dp_stats_sum(const struct dp_lcore *lcs, unsigned int n,
		  uint64_t out[DP_CNT__COUNT]);

/**
 * Write the stats report the loader pushes to the control process: one
 * JSON request {"cmd":"stats.report", ..., "metrics":[...]} with every
 * counter as a Prometheus-style metric (name, help, labelled samples):
 * per-lcore counters summed, SIP counters by method, verdict and code,
 * the current snapshot's per-rule hits and per-target picks (non-zero
 * ones, summed over lcores), and the loader's generation and swaps.
 *
 * Context: the loader thread (it owns the snapshot it reads).
 */
void dp_stats_report(FILE *f, const struct dp_lcore *lcs, unsigned int n,
		     const struct dp_service *svc, const struct dp_loader *ld);

/**
 * Print the non-zero counters of the workers (summed) and of the service,
 * one "name value" line each, names in lower case.
 *
 * Context: any slow-path thread.
 */
void dp_stats_print(FILE *f, const struct dp_lcore *lcs, unsigned int n,
		    const struct dp_service *svc);

#endif /* SIPEDGE_DATAPLANE_DP_H */
