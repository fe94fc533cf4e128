/* SPDX-License-Identifier: MIT */
/*
 * dp_test.h - shared harness of the dataplane tests: one EAL per test
 * binary, a net_ring port (rte_eth_from_rings) whose rings the test fills
 * and drains, one worker state and the service driven by hand, and frame
 * builders with their own checksum code (independent of the code tested).
 */
#ifndef SIPEDGE_TESTS_DATAPLANE_DP_TEST_H
#define SIPEDGE_TESTS_DATAPLANE_DP_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp.h"

#define T_MAXQ          2

struct t_env {
	struct dp_conf   conf;
	struct dp_iface  ifc;
	struct dp_service svc;
	struct dp_neigh_tbl *neigh;
	struct dp_lcore *lc;            /* nq workers, one per queue pair */
	struct rte_ring *rx;            /* test -> port rx, queue 0 */
	struct rte_ring *tx;            /* port tx -> test, queue 0 */
	struct rte_ring *rxq[T_MAXQ];
	struct rte_ring *txq[T_MAXQ];
	uint16_t         nq;
	uint16_t         port;
	unsigned int     inuse0;        /* pool in-use count at test start */
};

extern struct t_env t_env;

/* Our side: 192.0.2.1/24, 2001:db8::1/64, gateways .254 and ::fe. */
extern const uint8_t t_ip4_us[4], t_ip4_peer[4], t_ip4_gw[4];
extern const uint8_t t_ip6_us[16], t_ip6_peer[16];
extern const struct rte_ether_addr t_mac_peer;

/* EAL with a per-binary --file-prefix on @p lcores ("0", "0-1"); 0 or -1. */
int t_env_setup(const char *file_prefix, const char *lcores);
/* The same with @p nq queue pairs and as many worker states. */
int t_env_setup_queues(const char *file_prefix, const char *lcores,
		       uint16_t nq);
void t_env_teardown(void);

/* Per-test: zero counters, restore the configuration, note pool usage. */
void t_begin(void);
/* Per-test: the service drains its ring; nothing left on the other rings;
 * pool usage back where it was. */
void t_end(void);

/* Frame in, worker iteration(s), frames out. */
void t_rx(const uint8_t *frame, size_t len);
unsigned int t_tx(struct rte_mbuf **out, unsigned int max);
void t_poll(void);
/* Queue @p q variants. */
void t_rx_q(uint16_t q, const uint8_t *frame, size_t len);
unsigned int t_tx_q(uint16_t q, struct rte_mbuf **out, unsigned int max);
void t_poll_q(uint16_t q);
uint64_t t_cnt(enum dp_counter c);

/* Exactly one frame out, equal to @p want (in one segment when
 * @p one_seg); freed. */
void t_expect_frame(const uint8_t *want, size_t len, int one_seg);
/* No frame out (any there are freed before failing). */
void t_expect_nothing(void);
/* Group teardown of the binaries with nothing else to undo. */
int t_env_group_teardown(void **state);
/*
 * One worker (lcore 0), snapshot 1 from @p csv, and the gateway
 * (192.0.2.254, behind which every target is) and the peer (IPv4 and
 * IPv6) resolved: the set-up of the proxy and probe tests.
 */
int t_env_setup_routed(const char *file_prefix, const char *csv);

/* Builders: return bytes written. */
uint16_t t_cksum(const void *p, size_t len, uint32_t sum);
/* Sum of the pseudo-header (RFC 768 / RFC 8200 §8.1) of the IP header at
 * @p ip, not complemented. */
uint32_t t_phdr(const uint8_t *ip, uint8_t proto, uint32_t len);
size_t t_eth(uint8_t *p, const struct rte_ether_addr *dst,
	     const struct rte_ether_addr *src, uint16_t type, uint16_t vlan);
size_t t_ip4(uint8_t *p, const uint8_t *src, const uint8_t *dst,
	     uint8_t proto, uint16_t l4len, uint16_t id, uint16_t frag);
size_t t_ip6(uint8_t *p, const uint8_t *src, const uint8_t *dst,
	     uint8_t proto, uint16_t plen, uint8_t hops);
/* UDP header + payload with the checksum over @p ip (v4 or v6 header). */
size_t t_udp(uint8_t *p, const uint8_t *ip, uint16_t sport, uint16_t dport,
	     const void *payload, uint16_t len);
/* Ethernet + ARP (RFC 826) frame, 42 bytes. */
size_t t_arp_frame(uint8_t *p, uint16_t op, const struct rte_ether_addr *edst,
		   const struct rte_ether_addr *sha, const uint8_t *spa,
		   const struct rte_ether_addr *tha, const uint8_t *tpa);
/* Fix an ICMPv6 checksum at @p ic of @p len bytes under @p ip6. */
void t_icmp6_cksum(const uint8_t *ip6, uint8_t *ic, uint16_t len);
/*
 * Ethernet + IPv6 + neighbour solicitation (@p type 135) or advertisement
 * (136, @p flags in its flag byte) for @p target, hop limit 255; with a
 * link-layer address option (source for an NS, target for an NA) holding
 * @p lla unless it is NULL, of @p optlen units of 8 bytes. Returns the
 * frame length.
 */
size_t t_nd_frame(uint8_t *f, const struct rte_ether_addr *dmac,
		  const struct rte_ether_addr *smac, const uint8_t *src,
		  const uint8_t *dst, uint8_t type, uint8_t flags,
		  const uint8_t *target, const struct rte_ether_addr *lla,
		  uint8_t optlen);

/* ---- SIP stage helpers ------------------------------------------------ */

/* The installation secret of the snapshots built by the tests. */
extern const uint8_t t_secret[16];

/* A UDP datagram from the IPv4 peer (192.0.2.2:5062) to us:5060. */
void t_sip_rx4(const void *payload, size_t len);
/* The same from IPv4 address @p src (port 5060), through the peer's MAC. */
void t_sip_rx4_from(const uint8_t src[4], const void *payload, size_t len);
/* The same from the IPv6 peer ([2001:db8::2]:5062). */
void t_sip_rx6(const void *payload, size_t len);

/*
 * Take one frame from the tx ring, check that it is a UDP datagram from
 * us:5060 to the peer's port 5062 (of @p v6's family, to the peer's MAC),
 * copy its payload NUL-terminated into @p out. Returns the payload length;
 * fails the test when no frame or a malformed one is there.
 */
size_t t_sip_tx(char *out, size_t cap, int v6);

/*
 * Compile @p csv with the rules API, build a snapshot of generation
 * @p gen for every worker of the environment, publish it and free the one
 * it replaces (tests drive the worker themselves, so no reader is
 * running). NULL @p csv publishes an empty snapshot; returns it.
 */
struct dp_snap *t_snap_csv(const char *csv, uint64_t gen);
/* The same with the source policy built from @p acl (NULL: none). */
struct dp_snap *t_snap_csv_acl(const char *csv, uint64_t gen,
			       const struct dp_acl_conf *acl);
/* Unpublish and free the current snapshot. */
void t_snap_clear(void);
/* t_snap_csv(), keeping the replaced snapshot as N-1 (dp_snap_prev). */
struct dp_snap *t_snap_csv_keep(const char *csv, uint64_t gen);
/* Free the kept N-1, as the loader does after its 32 s. */
void t_snap_prev_clear(void);

/* ---- Next hops, fragments, whole datagrams ------------------------------ */

/*
 * Resolve @p ip (a next hop) the way the router does: an output misses,
 * the service asks, the answer is learned, the held output leaves.
 */
void t_resolve(const uint8_t ip[4], const struct rte_ether_addr *mac);
/* The same for an IPv6 next hop, answered with a neighbour advertisement
 * carrying the target link-layer address (RFC 4861 §4.4). */
void t_resolve6(const uint8_t ip[16], const struct rte_ether_addr *mac);

/* Largest UDP payload t_send_frag4() takes. */
#define T_MAX_DGRAM     (64 * 1024)

/* A UDP datagram from the IPv4 peer (:5062) to us:5060, in IPv4 fragments
 * of 1480 bytes if needed, then one worker iteration. */
void t_send_frag4(const void *payload, size_t len);

/*
 * Collect what the router sent: one datagram (reassembled from its IPv4
 * fragments) whose UDP payload lands in @p out (@p cap bytes), its length
 * in *@p len. With @p v6, a single unfragmented IPv6 datagram is taken too
 * (dst[0] is then 0). Returns 0 when nothing was sent (*@p len untouched),
 * 1 otherwise; *@p dst / *@p dport say where it went.
 */
int t_collect_datagram(uint8_t *out, size_t cap, size_t *len, uint8_t dst[4],
		       uint16_t *dport, int v6);

/* memmem(3) without _GNU_SOURCE. */
void *t_memmem(const void *h, size_t hl, const void *n, size_t nl);

/* ---- RFC 4475/5118 conformance rows ------------------------------------- */

/* One row of tests/conformance/rfc_expect.tsv. */
struct t_conf_row {
	char             name[64];
	char             file[256];
	char             outcome[32];
};

/*
 * main() of a conformance test: one cmocka test @p row per row of @p tsv
 * (argv[2] overrides it; argv[1] replaces *@p dir, where the messages
 * are), run as group @p group with @p setup and @p teardown. Each test's
 * state is its struct t_conf_row. Exits when the table cannot be opened.
 */
int t_conf_main(int argc, char **argv, const char *group, const char **dir,
		const char *tsv, CMUnitTestFunction row,
		CMFixtureFunction setup, CMFixtureFunction teardown);
/* Read @p r's message ("tests:" names under @p src_dir, others under
 * @p dir) into @p buf; fails the test when it cannot be opened. */
size_t t_conf_read(const struct t_conf_row *r, const char *dir,
		   const char *src_dir, uint8_t *buf, size_t cap);
/* The status code of a response in @p p, -1 for anything else. */
int t_conf_code(const uint8_t *p, size_t len);
/* "400|505" contains @p code? */
int t_code_in(const char *set, int code);

#endif /* SIPEDGE_TESTS_DATAPLANE_DP_TEST_H */
