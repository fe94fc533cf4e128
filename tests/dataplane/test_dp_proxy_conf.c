/* SPDX-License-Identifier: MIT */
/*
 * test_dp_proxy_conf.c - the RFC 4475 and RFC 5118 torture messages
 * through the router in proxy mode, in process.
 *
 * Each row of tests/conformance/rfc_expect.tsv names a message and the
 * outcome a proxy must produce. Here every message is sent from the peer
 * (fragmented when larger than the MTU) to a router whose only rule is a
 * default forward to 198.19.0.3:5060, and:
 *   route    -> forwarded (to the target, a Route or the Request-URI of an
 *               in-dialog request), every unknown header line and the body
 *               byte-identical, the result parsing again; or, when the
 *               next hop is a host name (no DNS per packet), 503 and the
 *               counter; an ACK is never answered;
 *   accept   -> a response without our Via: dropped and counted;
 *   drop     -> nothing sent;
 *   NNN      -> an answer with that code (none for an ACK).
 * No crash, and every mbuf is back in its pool after each message.
 *
 * usage: test_dp_proxy_conf [CONFORMANCE_DIR [EXPECT_TSV]]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include <sip.h>

#include "dp_test.h"

#define MAX_ROWS        128
#define MAX_MSG         (64 * 1024)

static const char t_csv[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code\n"
	"all,default,,forward,198.19.0.3:5060,,,,\n";

struct row {
	char             name[64];
	char             file[256];
	char             outcome[32];
};

static struct row t_rows[MAX_ROWS];
static unsigned int t_nrows;
static const char *t_dir = CONFORMANCE_DIR;
static const char *t_tsv = EXPECT_TSV;
static unsigned int t_forwarded, t_answered, t_dropped;

static const uint8_t t_v6_10[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };

static uint8_t t_msg[MAX_MSG];
static size_t t_msg_len;
static uint8_t t_out[MAX_MSG];
static size_t t_out_len;

/* Resolve a next hop through the service (as test_dp_proxy.c). */
static void
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
	n = t_tx(out, 4);
	if (n != 0)
		rte_pktmbuf_free_bulk(out, n);
	t_arp_frame(in, 2, &t_env.ifc.mac, mac, ip, &t_env.ifc.mac,
		    t_ip4_us);
	t_rx(in, 60);
	t_poll();
	while (dp_service_poll(&t_env.svc) != 0)
		;
	t_poll();
	n = t_tx(out, 4);
	if (n != 0)
		rte_pktmbuf_free_bulk(out, n);
}

/* The same for an IPv6 next hop: the answer is a neighbour advertisement
 * (RFC 4861 §4.4) with the target link-layer address option. */
static void
t_resolve6(const uint8_t ip[16], const struct rte_ether_addr *mac)
{
	struct dp_ip dst = { .family = DP_AF_V6 };
	struct rte_mbuf *m, *out[4];
	uint8_t f[128] = { 0 }, *ip6, *ic;
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
	l = t_eth(f, &t_env.ifc.mac, mac, 0x86dd, 0);
	ip6 = f + l;
	l += t_ip6(ip6, ip, t_ip6_us, 58, 32, 255);
	ic = f + l;
	ic[0] = 136;
	ic[4] = 0x60;                           /* solicited, override */
	memcpy(ic + 8, ip, 16);
	ic[24] = 2;                             /* target link-layer address */
	ic[25] = 1;
	memcpy(ic + 26, mac, 6);
	t_icmp6_cksum(ip6, ic, 32);
	t_rx(f, l + 32);
	t_poll();
	while (dp_service_poll(&t_env.svc) != 0)
		;
	t_poll();
	n = t_tx(out, 4);                       /* the held datagram */
	if (n != 0)
		rte_pktmbuf_free_bulk(out, n);
}

/* The message from the peer, in IPv4 fragments of 1480 bytes if needed. */
static void
t_send(const uint8_t *payload, size_t len)
{
	static uint8_t udp[MAX_MSG + 8], f[2048];
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

/*
 * Collect what the router sent: one datagram (reassembled from its
 * fragments) into t_out. Returns 0 when nothing was sent, 1 otherwise;
 * *dst / *dport say where it went.
 */
static int
t_collect(uint8_t dst[4], uint16_t *dport)
{
	struct rte_mbuf *m[64];
	unsigned int n, i;
	size_t total = 0;

	n = t_tx(m, 64);
	if (n == 0)
		return 0;
	t_out_len = 0;
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

		if ((f[12] << 8 | f[13]) == 0x86dd && n == 1 && ip[6] == 17) {
			/* An IPv6 next hop (RFC 5118 messages), unfragmented. */
			iplen = (size_t)(ip[4] << 8 | ip[5]);
			memcpy(t_out, ip + 40, iplen);
			total = iplen;
			dst[0] = 0;
			*dport = (uint16_t)(ip[42] << 8 | ip[43]);
			continue;
		}
		if ((f[12] << 8 | f[13]) != 0x0800)
			fail_msg("frame %u/%u of type %04x", i, n,
				 f[12] << 8 | f[13]);
		assert_true(foff + iplen - ihl <= sizeof(t_out));
		memcpy(t_out + foff, ip + ihl, iplen - ihl);
		if (foff + iplen - ihl > total)
			total = foff + iplen - ihl;
		if (foff == 0) {
			memcpy(dst, ip + 16, 4);
			*dport = (uint16_t)(ip[ihl + 2] << 8 | ip[ihl + 3]);
		}
	}
	rte_pktmbuf_free_bulk(m, n);
	assert_true(total >= 8);
	if ((size_t)(t_out[4] << 8 | t_out[5]) != total)
		fail_msg("%u frames, %zu bytes, UDP header %02x%02x %02x%02x "
			 "%02x%02x %02x%02x", n, total, t_out[0], t_out[1],
			 t_out[2], t_out[3], t_out[4], t_out[5], t_out[6],
			 t_out[7]);
	/* One datagram: its UDP length covers everything collected. */
	assert_int_equal((size_t)(t_out[4] << 8 | t_out[5]), total);
	t_out_len = total - 8;
	memmove(t_out, t_out + 8, t_out_len);
	return 1;
}

static void *
t_memmem(const void *h, size_t hl, const void *n, size_t nl)
{
	const uint8_t *p = h;
	size_t i;

	for (i = 0; nl <= hl && i <= hl - nl; i++)
		if (memcmp(p + i, n, nl) == 0)
			return (void *)(p + i);
	return NULL;
}

/* Unknown header lines and the body of the input are in the output. */
static void
t_check_forwarded(const struct row *r)
{
	static struct sip_msg in, out;
	unsigned int i;

	assert_int_equal(sip_parse(&in, (const char *)t_msg,
				   (uint32_t)t_msg_len), SIP_PERR_OK);
	for (i = 0; i < in.nhdr; i++) {
		const struct sip_hdr *h = &in.hdr[i];

		if (h->id != SIP_HDR_OTHER)
			continue;
		if (t_memmem(t_out, t_out_len, t_msg + h->off,
			     h->line_len) == NULL)
			fail_msg("%s: unknown header line %u not kept", r->name,
				 i);
	}
	if (in.body_len != 0 &&
	    t_memmem(t_out, t_out_len, t_msg + in.body_off,
		     in.body_len) == NULL)
		fail_msg("%s: body changed", r->name);
	assert_int_equal(sip_parse(&out, (const char *)t_out,
				   (uint32_t)t_out_len), SIP_PERR_OK);
	assert_int_equal(out.msg_len, t_out_len);
	assert_true(t_memmem(t_out, t_out_len, "Via: SIP/2.0/UDP 192.0.2.1:5060"
			     ";branch=z9hG4bK", 46) != NULL ||
		    t_memmem(t_out, t_out_len, "Via: SIP/2.0/UDP [2001:db8::1]"
			     ":5060;branch=z9hG4bK", 50) != NULL);
}

static int
t_code(void)
{
	if (t_out_len < 12 || memcmp(t_out, "SIP/2.0 ", 8) != 0)
		return -1;
	return (t_out[8] - '0') * 100 + (t_out[9] - '0') * 10 +
	       (t_out[10] - '0');
}

/* "400|505" contains @p code? */
static int
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

static void
test_dp_proxy_conf_row(void **state)
{
	const struct row *r = *state;
	char path[512];
	uint8_t dst[4];
	uint16_t dport = 0;
	FILE *f;
	int sent, code, is_ack;

	if (strncmp(r->file, "tests:", 6) == 0)
		snprintf(path, sizeof(path), "%s/%s", SRC_CONF_DIR, r->file + 6);
	else
		snprintf(path, sizeof(path), "%s/%s", t_dir, r->file);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("%s: cannot open %s", r->name, path);
	t_msg_len = fread(t_msg, 1, sizeof(t_msg), f);
	fclose(f);

	t_begin();
	t_env.conf.mode = DP_MODE_PROXY;
	t_send(t_msg, t_msg_len);
	sent = t_collect(dst, &dport);
	is_ack = t_msg_len > 4 && memcmp(t_msg, "ACK ", 4) == 0;

	if (strncmp(r->outcome, "route", 5) == 0 && sent &&
	    t_code() < 0) {
		t_check_forwarded(r);
		t_forwarded++;
	} else if (strncmp(r->outcome, "route", 5) == 0 && sent &&
		   t_code() == 503 && t_cnt(DP_CNT_PROXY_NOT_IP) == 1) {
		t_answered++;
	} else if (strncmp(r->outcome, "route", 5) == 0 && sent &&
		   t_code_in(r->outcome, t_code())) {
		t_answered++;
	} else if (strcmp(r->outcome, "route") == 0 && !sent && is_ack) {
		t_dropped++;
	} else if (strcmp(r->outcome, "accept") == 0 && !sent) {
		assert_int_equal(t_cnt(DP_CNT_PROXY_FOREIGN_VIA), 1);
		t_dropped++;
	} else if (strcmp(r->outcome, "drop") == 0 && !sent) {
		t_dropped++;
	} else if (r->outcome[0] >= '1' && r->outcome[0] <= '6' && sent &&
		   t_code_in(r->outcome, t_code())) {
		t_answered++;
	} else if (r->outcome[0] >= '1' && r->outcome[0] <= '6' && !sent &&
		   is_ack) {
		t_dropped++;
	} else {
		code = sent ? t_code() : 0;
		fail_msg("%s: expected %s, got %s (code %d, %zu bytes)",
			 r->name, r->outcome, sent ? "a datagram" : "nothing",
			 code, sent ? t_out_len : 0);
	}
	t_end();
}

static void
t_load_rows(void)
{
	char line[2048];
	FILE *f = fopen(t_tsv, "r");

	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", t_tsv);
		exit(1);
	}
	while (fgets(line, sizeof(line), f) != NULL && t_nrows < MAX_ROWS) {
		char *fields[5] = { 0 }, *p = line, *tab;
		unsigned int k = 0;
		struct row *r;

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
		r = &t_rows[t_nrows++];
		snprintf(r->name, sizeof(r->name), "%s", fields[0]);
		snprintf(r->file, sizeof(r->file), "%s", fields[1]);
		snprintf(r->outcome, sizeof(r->outcome), "%s", fields[3]);
	}
	fclose(f);
}

static int
t_group_setup(void **state)
{
	const struct rte_ether_addr gw = {
		.addr_bytes = { 0x02, 0, 0, 0, 0x77, 0xfe } };

	(void)state;
	if (t_env_setup("test_dp_proxy_conf", "0") != 0)
		return -1;
	t_begin();
	t_snap_csv(t_csv, 1);
	t_resolve(t_ip4_gw, &gw);
	t_resolve(t_ip4_peer, &t_mac_peer);
	/* In-dialog IPv6 next hops of the RFC 5118 messages. */
	t_resolve6(t_v6_10, &gw);
	return 0;
}

static int
t_group_teardown(void **state)
{
	(void)state;
	printf("proxy conformance: %u forwarded, %u answered, %u dropped\n",
	       t_forwarded, t_answered, t_dropped);
	t_snap_clear();
	t_env_teardown();
	return 0;
}

int
main(int argc, char **argv)
{
	static struct CMUnitTest tests[MAX_ROWS];
	unsigned int i;

	if (argc > 1)
		t_dir = argv[1];
	if (argc > 2)
		t_tsv = argv[2];
	t_load_rows();
	for (i = 0; i < t_nrows; i++) {
		tests[i].name = t_rows[i].name;
		tests[i].test_func = test_dp_proxy_conf_row;
		tests[i].initial_state = &t_rows[i];
	}
	return _cmocka_run_group_tests("dp_proxy_conf", tests, t_nrows,
				       t_group_setup, t_group_teardown);
}
