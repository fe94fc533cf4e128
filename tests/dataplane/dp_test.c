/* SPDX-License-Identifier: MIT */
/*
 * dp_test.c - harness of the dataplane tests (see dp_test.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <rules.h>

#include "dp_test.h"

struct t_env t_env;

const uint8_t t_ip4_us[4] = { 192, 0, 2, 1 };
const uint8_t t_ip4_peer[4] = { 192, 0, 2, 2 };
const uint8_t t_ip4_gw[4] = { 192, 0, 2, 254 };
const uint8_t t_ip6_us[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
const uint8_t t_ip6_peer[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x02 };
const struct rte_ether_addr t_mac_peer = {
	.addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 } };

static void
t_conf(struct dp_conf *c)
{
	dp_conf_defaults(c);
	c->addr4[0].ip.family = DP_AF_V4;
	memcpy(&c->addr4[0].ip.v4, t_ip4_us, 4);
	c->addr4[0].len = 24;
	c->naddr4 = 1;
	c->addr6[0].ip.family = DP_AF_V6;
	memcpy(c->addr6[0].ip.v6, t_ip6_us, 16);
	c->addr6[0].len = 64;
	c->naddr6 = 1;
	c->gw4.family = DP_AF_V4;
	memcpy(&c->gw4.v4, t_ip4_gw, 4);
	c->has_gw4 = true;
	c->mbufs = 4095;
}

int
t_env_setup_queues(const char *file_prefix, const char *lcores, uint16_t nq)
{
	char prefix[64], cores[16], name[32];
	char *argv[] = { "test", "--no-huge", "--no-pci", "-m", "256",
		"--no-shconf", prefix, "-l", cores, "--log-level", "*:error",
		NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	uint16_t q;
	int p;

	if (nq == 0 || nq > T_MAXQ)
		return -1;
	/* The pid keeps overlapping runs of one test out of each other's
	 * runtime directory; t_env_teardown() removes the one EAL used. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s-%ld", file_prefix,
		 (long)getpid());
	snprintf(cores, sizeof(cores), "%s", lcores);
	if (rte_eal_init(argc, argv) < 0)
		return -1;
	t_conf(&t_env.conf);
	t_env.nq = nq;
	for (q = 0; q < nq; q++) {
		snprintf(name, sizeof(name), "t_rx%u", q);
		t_env.rxq[q] = rte_ring_create(name, 1024, SOCKET_ID_ANY,
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "t_tx%u", q);
		t_env.txq[q] = rte_ring_create(name, 1024, SOCKET_ID_ANY,
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (t_env.rxq[q] == NULL || t_env.txq[q] == NULL)
			return -1;
	}
	t_env.rx = t_env.rxq[0];
	t_env.tx = t_env.txq[0];
	p = rte_eth_from_rings("t_ring0", t_env.rxq, nq, t_env.txq, nq, 0);
	if (p < 0)
		return -1;
	t_env.port = (uint16_t)p;
	if (dp_pools_create(&t_env.ifc, 0, t_env.conf.mbufs * nq, 31,
			    t_env.conf.mtu, true) != 0)
		return -1;
	if (dp_port_init(&t_env.ifc, &t_env.conf, t_env.port, nq) != 0)
		return -1;
	if (dp_neigh_tbl_new(64, 0, &t_env.neigh) != 0)
		return -1;
	if (dp_service_init(&t_env.svc, &t_env.ifc, t_env.neigh, 256, 0) != 0)
		return -1;
	t_env.lc = rte_zmalloc("t_lc", nq * sizeof(*t_env.lc),
			       RTE_CACHE_LINE_SIZE);
	if (t_env.lc == NULL)
		return -1;
	for (q = 0; q < nq; q++) {
		if (dp_lcore_init(&t_env.lc[q], &t_env.ifc, t_env.neigh,
				  t_env.svc.ring, q, 0) != 0)
			return -1;
		if (dp_sip_lcore_init(&t_env.lc[q], 0) != 0)
			return -1;
	}
	dp_service_set_workers(&t_env.svc, t_env.lc, nq);
	return 0;
}

int
t_env_setup(const char *file_prefix, const char *lcores)
{
	return t_env_setup_queues(file_prefix, lcores, 1);
}

/* Remove directory @p dir and the files in it (EAL's runtime directory
 * holds files only). */
static void
t_rm_dir(const char *dir)
{
	char path[1024];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void
t_env_teardown(void)
{
	char dir[512];
	uint16_t q;

	for (q = 0; q < t_env.nq; q++) {
		dp_sip_lcore_fini(&t_env.lc[q]);
		dp_lcore_fini(&t_env.lc[q]);
	}
	dp_service_fini(&t_env.svc);
	dp_port_fini(&t_env.ifc);
	dp_neigh_tbl_free(t_env.neigh);
	rte_free(t_env.lc);
	dp_pools_free(&t_env.ifc);
	/* EAL leaves its runtime directory (telemetry socket) behind. */
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (dir[0] != '\0')
		t_rm_dir(dir);
}

void
t_begin(void)
{
	uint16_t q;

	t_conf(&t_env.conf);
	for (q = 0; q < t_env.nq; q++) {
		memset(t_env.lc[q].cnt, 0, sizeof(t_env.lc[q].cnt));
		memset(t_env.lc[q].sip_method, 0,
		       sizeof(t_env.lc[q].sip_method));
		memset(t_env.lc[q].sip_perr, 0, sizeof(t_env.lc[q].sip_perr));
		memset(t_env.lc[q].sip_code, 0, sizeof(t_env.lc[q].sip_code));
	}
	memset(t_env.svc.cnt, 0, sizeof(t_env.svc.cnt));
	t_env.inuse0 = rte_mempool_in_use_count(t_env.ifc.pool);
}

void
t_end(void)
{
	uint16_t q;

	/* What workers passed to the service (gleaned ARP/NS) is its job. */
	while (dp_service_poll(&t_env.svc) != 0)
		;
	for (q = 0; q < t_env.nq; q++) {
		assert_int_equal(rte_ring_count(t_env.rxq[q]), 0);
		assert_int_equal(rte_ring_count(t_env.txq[q]), 0);
		assert_int_equal(rte_ring_count(t_env.lc[q].inject), 0);
	}
	assert_int_equal(rte_mempool_in_use_count(t_env.ifc.pool),
			 t_env.inuse0);
	assert_int_equal(rte_mempool_in_use_count(t_env.ifc.indirect), 0);
	assert_int_equal(rte_mempool_in_use_count(t_env.ifc.jumbo), 0);
}

void
t_rx_q(uint16_t q, const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t_env.ifc.pool);
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, frame, len);
	assert_int_equal(rte_ring_enqueue(t_env.rxq[q], m), 0);
}

unsigned int
t_tx_q(uint16_t q, struct rte_mbuf **out, unsigned int max)
{
	return rte_ring_dequeue_burst(t_env.txq[q], (void **)out, max, NULL);
}

void
t_poll_q(uint16_t q)
{
	dp_worker_poll(&t_env.lc[q]);
}

void
t_rx(const uint8_t *frame, size_t len)
{
	t_rx_q(0, frame, len);
}

unsigned int
t_tx(struct rte_mbuf **out, unsigned int max)
{
	return t_tx_q(0, out, max);
}

void
t_poll(void)
{
	t_poll_q(0);
}

uint64_t
t_cnt(enum dp_counter c)
{
	return t_env.lc->cnt[c];
}

void
t_expect_frame(const uint8_t *want, size_t len, int one_seg)
{
	struct rte_mbuf *out[4];
	unsigned int n = t_tx(out, 4);

	assert_int_equal(n, 1);
	assert_int_equal(rte_pktmbuf_pkt_len(out[0]), len);
	if (one_seg)
		assert_int_equal(out[0]->nb_segs, 1);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], void *), want, len);
	rte_pktmbuf_free(out[0]);
}

void
t_expect_nothing(void)
{
	struct rte_mbuf *out[4];
	unsigned int n = t_tx(out, 4);

	if (n != 0)
		rte_pktmbuf_free_bulk(out, n);
	assert_int_equal(n, 0);
}

int
t_env_group_teardown(void **state)
{
	(void)state;
	t_snap_clear();
	t_env_teardown();
	return 0;
}

int
t_env_setup_routed(const char *file_prefix, const char *csv)
{
	const struct rte_ether_addr gw = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x77, 0xfe } };

	if (t_env_setup(file_prefix, "0") != 0)
		return -1;
	t_begin();
	t_snap_csv(csv, 1);
	t_resolve(t_ip4_gw, &gw);
	t_resolve(t_ip4_peer, &t_mac_peer);
	t_resolve6(t_ip6_peer, &t_mac_peer);
	return 0;
}

uint16_t
t_cksum(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
t_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t
t_eth(uint8_t *p, const struct rte_ether_addr *dst,
      const struct rte_ether_addr *src, uint16_t type, uint16_t vlan)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	if (vlan != 0) {
		t_put16(p + 12, 0x8100);
		t_put16(p + 14, vlan);
		t_put16(p + 16, type);
		return 18;
	}
	t_put16(p + 12, type);
	return 14;
}

size_t
t_ip4(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint8_t proto,
      uint16_t l4len, uint16_t id, uint16_t frag)
{
	p[0] = 0x45;
	p[1] = 0;
	t_put16(p + 2, (uint16_t)(20 + l4len));
	t_put16(p + 4, id);
	t_put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	t_put16(p + 10, 0);
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	t_put16(p + 10, t_cksum(p, 20, 0));
	return 20;
}

size_t
t_ip6(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint8_t proto,
      uint16_t plen, uint8_t hops)
{
	memset(p, 0, 4);
	p[0] = 0x60;
	t_put16(p + 4, plen);
	p[6] = proto;
	p[7] = hops;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return 40;
}

uint32_t
t_phdr(const uint8_t *ip, uint8_t proto, uint32_t len)
{
	uint32_t sum = proto + (len >> 16) + (len & 0xffff);
	const uint8_t *a = ip + ((ip[0] >> 4) == 4 ? 12 : 8);
	size_t n = (ip[0] >> 4) == 4 ? 8 : 32, i;

	for (i = 0; i < n; i += 2)
		sum += (uint32_t)(a[i] << 8 | a[i + 1]);
	return sum;
}

size_t
t_udp(uint8_t *p, const uint8_t *ip, uint16_t sport, uint16_t dport,
      const void *payload, uint16_t len)
{
	uint16_t ulen = (uint16_t)(8 + len), ck;

	t_put16(p, sport);
	t_put16(p + 2, dport);
	t_put16(p + 4, ulen);
	t_put16(p + 6, 0);
	memcpy(p + 8, payload, len);
	ck = t_cksum(p, ulen, t_phdr(ip, 17, ulen));
	t_put16(p + 6, ck == 0 ? 0xffff : ck);
	return ulen;
}

void
t_icmp6_cksum(const uint8_t *ip6, uint8_t *ic, uint16_t len)
{
	t_put16(ic + 2, 0);
	t_put16(ic + 2, t_cksum(ic, len, t_phdr(ip6, 58, len)));
}

size_t
t_nd_frame(uint8_t *f, const struct rte_ether_addr *dmac,
	   const struct rte_ether_addr *smac, const uint8_t *src,
	   const uint8_t *dst, uint8_t type, uint8_t flags,
	   const uint8_t *target, const struct rte_ether_addr *lla,
	   uint8_t optlen)
{
	uint16_t len = lla != NULL ? 32 : 24;
	uint8_t *ip, *ic;
	size_t n;

	n = t_eth(f, dmac, smac, 0x86dd, 0);
	ip = f + n;
	n += t_ip6(ip, src, dst, 58, len, 255);
	ic = f + n;
	memset(ic, 0, len);
	ic[0] = type;
	ic[4] = flags;
	memcpy(ic + 8, target, 16);
	if (lla != NULL) {
		ic[24] = type == 135 ? 1 : 2;
		ic[25] = optlen;
		memcpy(ic + 26, lla, 6);
	}
	t_icmp6_cksum(ip, ic, len);
	return n + len;
}

size_t
t_arp_frame(uint8_t *p, uint16_t op, const struct rte_ether_addr *edst,
	    const struct rte_ether_addr *sha, const uint8_t *spa,
	    const struct rte_ether_addr *tha, const uint8_t *tpa)
{
	size_t n = t_eth(p, edst, sha, 0x0806, 0);

	t_put16(p + n, 1);              /* Ethernet */
	t_put16(p + n + 2, 0x0800);     /* IPv4 */
	p[n + 4] = 6;
	p[n + 5] = 4;
	t_put16(p + n + 6, op);
	memcpy(p + n + 8, sha, 6);
	memcpy(p + n + 14, spa, 4);
	memcpy(p + n + 18, tha, 6);
	memcpy(p + n + 24, tpa, 4);
	return n + 28;
}

/* ---- SIP stage helpers ------------------------------------------------ */

const uint8_t t_secret[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
			       14, 15, 16 };

static void
t_sip_rx4_at(const uint8_t src[4], uint16_t sport, const void *payload,
	     size_t len)
{
	static uint8_t f[9216];
	size_t n = t_eth(f, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
	uint8_t *ip = f + n;

	assert_true(len + 64 < sizeof(f));
	n += t_ip4(ip, src, t_ip4_us, 17, (uint16_t)(8 + len), 1, 0);
	n += t_udp(f + n, ip, sport, 5060, payload, (uint16_t)len);
	t_rx(f, n);
}

void
t_sip_rx4(const void *payload, size_t len)
{
	t_sip_rx4_at(t_ip4_peer, 5062, payload, len);
}

void
t_sip_rx4_from(const uint8_t src[4], const void *payload, size_t len)
{
	t_sip_rx4_at(src, 5060, payload, len);
}

void
t_sip_rx6(const void *payload, size_t len)
{
	static uint8_t f[9216];
	size_t n = t_eth(f, &t_env.ifc.mac, &t_mac_peer, 0x86dd, 0);
	uint8_t *ip = f + n;

	assert_true(len + 80 < sizeof(f));
	n += t_ip6(ip, t_ip6_peer, t_ip6_us, 17, (uint16_t)(8 + len), 64);
	n += t_udp(f + n, ip, 5062, 5060, payload, (uint16_t)len);
	t_rx(f, n);
}

size_t
t_sip_tx(char *out, size_t cap, int v6)
{
	struct rte_mbuf *m;
	const uint8_t *f;
	size_t l3 = RTE_ETHER_HDR_LEN, l4, len;

	assert_int_equal(t_tx(&m, 1), 1);
	assert_int_equal(m->nb_segs, 1);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_memory_equal(f, &t_mac_peer, 6);
	if (v6) {
		assert_int_equal(f[12] << 8 | f[13], 0x86dd);
		assert_int_equal(f[l3 + 6], 17);
		assert_memory_equal(f + l3 + 8, t_ip6_us, 16);
		assert_memory_equal(f + l3 + 24, t_ip6_peer, 16);
		l4 = l3 + 40;
	} else {
		assert_int_equal(f[12] << 8 | f[13], 0x0800);
		assert_int_equal(f[l3 + 9], 17);
		assert_memory_equal(f + l3 + 12, t_ip4_us, 4);
		assert_memory_equal(f + l3 + 16, t_ip4_peer, 4);
		l4 = l3 + (size_t)(f[l3] & 0xf) * 4;
	}
	assert_int_equal(f[l4] << 8 | f[l4 + 1], 5060);
	assert_int_equal(f[l4 + 2] << 8 | f[l4 + 3], 5062);
	len = (size_t)(f[l4 + 4] << 8 | f[l4 + 5]) - 8;
	assert_int_equal(rte_pktmbuf_pkt_len(m), l4 + 8 + len);
	assert_true(len < cap);
	memcpy(out, f + l4 + 8, len);
	out[len] = '\0';
	rte_pktmbuf_free(m);
	return len;
}

struct dp_snap *
t_snap_csv(const char *csv, uint64_t gen)
{
	return t_snap_csv_acl(csv, gen, NULL);
}

/* The snapshot built from @p csv (NULL: empty), not yet published. */
static struct dp_snap *
t_snap_make(const char *csv, uint64_t gen, const struct dp_acl_conf *acl)
{
	struct rules_set *set = NULL;
	struct dp_snap *s = NULL;
	void *image = NULL;
	size_t len = 0;
	char err[160];

	if (csv != NULL) {
		assert_int_equal(rules_csv_parse(csv, strlen(csv), &set, NULL),
				 0);
		assert_int_equal(rules_compile(set, &image, &len, NULL), 0);
		rules_set_free(set);
	}
	assert_int_equal(dp_snap_build(image, len, gen, t_secret, t_env.nq,
				       &s), 0);
	if (acl != NULL)
		assert_int_equal(dp_acl_build(&s->acl, acl, rte_get_tsc_hz(),
					      err, sizeof(err)), 0);
	return s;
}

struct dp_snap *
t_snap_csv_acl(const char *csv, uint64_t gen, const struct dp_acl_conf *acl)
{
	struct dp_snap *s = t_snap_make(csv, gen, acl);

	t_snap_prev_clear();
	dp_snap_free(dp_snap_publish(s));
	return s;
}

struct dp_snap *
t_snap_csv_keep(const char *csv, uint64_t gen)
{
	struct dp_snap *s = t_snap_make(csv, gen, NULL);

	dp_snap_free(dp_snap_publish_prev(dp_snap_publish(s)));
	return s;
}

void
t_snap_prev_clear(void)
{
	dp_snap_free(dp_snap_publish_prev(NULL));
}

void
t_snap_clear(void)
{
	t_snap_prev_clear();
	dp_snap_free(dp_snap_publish(NULL));
}

/* ---- Next hops, fragments, whole datagrams ------------------------------ */

void
t_resolve(const uint8_t ip[4], const struct rte_ether_addr *mac)
{
	struct dp_ip dst = { .family = DP_AF_V4 };
	struct rte_mbuf *m, *out[4];
	uint8_t in[64] = { 0 };
	unsigned int n;

	memcpy(&dst.v4, ip, 4);
	m = dp_pkt_alloc(t_env.lc, 8);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, 4), "ping", 4);
	assert_int_equal(dp_udp_send(t_env.lc, m, NULL, 5060, &dst, 9), 0);
	while (dp_service_poll(&t_env.svc) != 0)
		;
	t_poll();
	n = t_tx(out, 4);                       /* the ARP request */
	if (n != 0)
		rte_pktmbuf_free_bulk(out, n);
	t_arp_frame(in, 2, &t_env.ifc.mac, mac, ip, &t_env.ifc.mac,
		    t_ip4_us);
	t_rx(in, 60);
	t_poll();
	while (dp_service_poll(&t_env.svc) != 0)
		;
	t_poll();
	n = t_tx(out, 4);                       /* the held datagram */
	if (n != 0)
		rte_pktmbuf_free_bulk(out, n);
}

void
t_resolve6(const uint8_t ip[16], const struct rte_ether_addr *mac)
{
	struct dp_ip dst = { .family = DP_AF_V6 };
	struct rte_mbuf *m, *out[4];
	uint8_t f[128] = { 0 };
	unsigned int n;
	size_t l;

	memcpy(dst.v6, ip, 16);
	m = dp_pkt_alloc(t_env.lc, 8);
	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, 4), "ping", 4);
	assert_int_equal(dp_udp_send(t_env.lc, m, NULL, 5060, &dst, 9), 0);
	while (dp_service_poll(&t_env.svc) != 0)
		;
	t_poll();
	n = t_tx(out, 4);                       /* the solicitation */
	if (n != 0)
		rte_pktmbuf_free_bulk(out, n);
	/* solicited, override, with the target link-layer address */
	l = t_nd_frame(f, &t_env.ifc.mac, mac, ip, t_ip6_us, 136, 0x60, ip,
		       mac, 1);
	t_rx(f, l);
	t_poll();
	while (dp_service_poll(&t_env.svc) != 0)
		;
	t_poll();
	n = t_tx(out, 4);                       /* the held datagram */
	if (n != 0)
		rte_pktmbuf_free_bulk(out, n);
}

void
t_send_frag4(const void *payload, size_t len)
{
	static uint8_t udp[T_MAX_DGRAM + 8], f[2048];
	static uint16_t id = 100;
	uint8_t iph[20];
	size_t off, n, chunk, l;

	t_ip4(iph, t_ip4_peer, t_ip4_us, 17, (uint16_t)(8 + len), id, 0);
	l = t_udp(udp, iph, 5062, 5060, payload, (uint16_t)len);
	for (off = 0; off < l; off += chunk) {
		chunk = l - off > 1480 ? 1480 : l - off;
		n = t_eth(f, &t_env.ifc.mac, &t_mac_peer, 0x0800, 0);
		n += t_ip4(f + n, t_ip4_peer, t_ip4_us, 17, (uint16_t)chunk, id,
			   (uint16_t)((off + chunk < l ? 0x2000 : 0) |
				      (off / 8)));
		memcpy(f + n, udp + off, chunk);
		t_rx(f, n + chunk);
	}
	id++;
	t_poll();
}

int
t_collect_datagram(uint8_t *out, size_t cap, size_t *len, uint8_t dst[4],
		   uint16_t *dport, int v6)
{
	struct rte_mbuf *m[64];
	unsigned int n, i;
	size_t total = 0;

	n = t_tx(m, 64);
	if (n == 0)
		return 0;
	*len = 0;
	for (i = 0; i < n; i++) {
		/* Fragments are chains (header mbuf + indirect data). */
		static uint8_t fb[9216];
		const uint8_t *f = rte_pktmbuf_read(m[i], 0,
						   rte_pktmbuf_pkt_len(m[i]),
						   fb);
		const uint8_t *ip = f + RTE_ETHER_HDR_LEN;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		size_t iplen = (size_t)(ip[2] << 8 | ip[3]);

		assert_non_null(f);
		uint16_t fr = (uint16_t)(ip[6] << 8 | ip[7]);
		size_t foff = (size_t)(fr & 0x1fff) * 8;

		if (v6 && (f[12] << 8 | f[13]) == 0x86dd && n == 1 &&
		    ip[6] == 17) {
			/* An IPv6 next hop (RFC 5118), unfragmented. */
			iplen = (size_t)(ip[4] << 8 | ip[5]);
			memcpy(out, ip + 40, iplen);
			total = iplen;
			dst[0] = 0;
			*dport = (uint16_t)(ip[42] << 8 | ip[43]);
			continue;
		}
		if ((f[12] << 8 | f[13]) != 0x0800)
			fail_msg("frame %u/%u of type %04x", i, n,
				 f[12] << 8 | f[13]);
		assert_true(foff + iplen - ihl <= cap);
		memcpy(out + foff, ip + ihl, iplen - ihl);
		if (foff + iplen - ihl > total)
			total = foff + iplen - ihl;
		if (foff == 0) {
			memcpy(dst, ip + 16, 4);
			*dport = (uint16_t)(ip[ihl + 2] << 8 | ip[ihl + 3]);
		}
	}
	rte_pktmbuf_free_bulk(m, n);
	assert_true(total >= 8);
	if ((size_t)(out[4] << 8 | out[5]) != total)
		fail_msg("%u frames, %zu bytes, UDP header %02x%02x %02x%02x "
			 "%02x%02x %02x%02x", n, total, out[0], out[1],
			 out[2], out[3], out[4], out[5], out[6],
			 out[7]);
	/* One datagram: its UDP length covers everything collected. */
	assert_int_equal((size_t)(out[4] << 8 | out[5]), total);
	*len = total - 8;
	memmove(out, out + 8, *len);
	return 1;
}

void *
t_memmem(const void *h, size_t hl, const void *n, size_t nl)
{
	const uint8_t *p = h;
	size_t i;

	for (i = 0; nl <= hl && i <= hl - nl; i++)
		if (memcmp(p + i, n, nl) == 0)
			return (void *)(p + i);
	return NULL;
}

/* ---- RFC 4475/5118 conformance rows ------------------------------------- */

/* Load up to @p max rows of @p tsv (exits when it cannot be opened). */
static unsigned int
t_conf_load(const char *tsv, struct t_conf_row *rows, unsigned int max)
{
	char line[2048];
	unsigned int nrows = 0;
	FILE *f = fopen(tsv, "r");

	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", tsv);
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL && nrows < max) {
		char *fields[5] = { 0 }, *p = line, *tab;
		unsigned int k = 0;
		struct t_conf_row *r;

		if (line[0] == '#' || line[0] == '\n' || line[0] == '\0')
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		while (k < 5) {
			fields[k++] = p;
			tab = strchr(p, '\t');
			if (tab == NULL)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		if (k < 4)
			continue;
		r = &rows[nrows++];
		snprintf(r->name, sizeof(r->name), "%s", fields[0]);
		snprintf(r->file, sizeof(r->file), "%s", fields[1]);
		snprintf(r->outcome, sizeof(r->outcome), "%s", fields[3]);
	}
	fclose(f);
	return nrows;
}

#define T_CONF_MAX_ROWS 128

int
t_conf_main(int argc, char **argv, const char *group, const char **dir,
	    const char *tsv, CMUnitTestFunction row, CMFixtureFunction setup,
	    CMFixtureFunction teardown)
{
	static struct t_conf_row rows[T_CONF_MAX_ROWS];
	static struct CMUnitTest tests[T_CONF_MAX_ROWS];
	unsigned int i, n;

	if (argc > 1)
		*dir = argv[1];
	if (argc > 2)
		tsv = argv[2];
	n = t_conf_load(tsv, rows, T_CONF_MAX_ROWS);
	for (i = 0; i < n; i++) {
		tests[i].name = rows[i].name;
		tests[i].test_func = row;
		tests[i].initial_state = &rows[i];
	}
	return _cmocka_run_group_tests(group, tests, n, setup, teardown);
}

size_t
t_conf_read(const struct t_conf_row *r, const char *dir, const char *src_dir,
	    uint8_t *buf, size_t cap)
{
	char path[512];
	size_t len;
	FILE *f;

	if (strncmp(r->file, "tests:", 6) == 0)
		snprintf(path, sizeof(path), "%s/%s", src_dir, r->file + 6);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, r->file);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("%s: cannot open %s", r->name, path);
	len = fread(buf, 1, cap, f);
	fclose(f);
	return len;
}

int
t_conf_code(const uint8_t *p, size_t len)
{
	if (len < 12 || memcmp(p, "SIP/2.0 ", 8) != 0)
		return -1;
	return (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
}

int
t_code_in(const char *set, int code)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%d", code);
	while (*set != '\0') {
		if (strncmp(set, buf, 3) == 0 &&
		    (set[3] == '\0' || set[3] == '|'))
			return 1;
		set = strchr(set, '|');
		if (set == NULL)
			break;
		set++;
	}
	return 0;
}
