/* SPDX-License-Identifier: MIT */
/*
 * test_dp_conf.c - the RFC 4475 and RFC 5118 torture messages through the
 * router in redirect mode (the default), in process.
 *
 * Each row of tests/conformance/rfc_expect.tsv names a message and the
 * outcome a proxy must produce; a redirect server produces the same
 * checks' answers and, where a proxy would route, an answer of its own.
 * Every message is sent from the peer (in IPv4 fragments when larger than
 * the MTU) to a router whose only rule is a default redirect to
 * 198.19.0.3:5060, and:
 *   route    -> an answer back to the peer: the 302 with the target's
 *               Contact, or what the redirect mode answers instead (200
 *               to CANCEL, 481 in a dialog); nothing for an ACK;
 *   accept   -> a response from outside: dropped and counted;
 *   drop     -> nothing sent;
 *   NNN      -> an answer with that code (none for an ACK).
 * Every answer parses, carries a To-tag, and goes to the peer's port; no
 * crash; every mbuf is back in its pool after each message (t_end()).
 *
 * usage: test_dp_conf [CONFORMANCE_DIR [EXPECT_TSV]]
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
	"all,default,,redirect,198.19.0.3:5060,,,,\n";

struct row {
	char             name[64];
	char             file[256];
	char             outcome[32];
};

static struct row t_rows[MAX_ROWS];
static unsigned int t_nrows;
static const char *t_dir = CONFORMANCE_DIR;
static const char *t_tsv = EXPECT_TSV;
static unsigned int t_redirected, t_answered, t_dropped;

static uint8_t t_msg[MAX_MSG];
static size_t t_msg_len;
static uint8_t t_out[MAX_MSG];
static size_t t_out_len;

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

/* Every answer is a well-formed response with a To-tag. */
static void
t_check_answer(const struct row *r, const uint8_t dst[4], uint16_t dport)
{
	static struct sip_msg msg;
	struct sip_info info;

	assert_memory_equal(dst, t_ip4_peer, 4);
	assert_int_equal(dport, 5062);
	if (sip_parse(&msg, (const char *)t_out, (uint32_t)t_out_len) !=
	    SIP_PERR_OK)
		fail_msg("%s: the answer does not parse", r->name);
	assert_false(msg.is_request);
	assert_int_equal(msg.msg_len, t_out_len);
	/* Every answer carries a To-tag (RFC 3261 §8.2.6.2). */
	if (sip_msg_check(&msg, &info) == SIP_PERR_OK &&
	    span_is_null(info.to.tag))
		fail_msg("%s: answer without a To-tag", r->name);
}

static void
test_dp_conf_row(void **state)
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
	t_send(t_msg, t_msg_len);
	sent = t_collect(dst, &dport);
	is_ack = t_msg_len > 4 && memcmp(t_msg, "ACK ", 4) == 0;
	code = sent ? t_code() : 0;
	if (sent)
		t_check_answer(r, dst, dport);

	if (strncmp(r->outcome, "route", 5) == 0 && sent && code == 302) {
		if (t_memmem(t_out, t_out_len,
			     "Contact: <sip:", 14) == NULL ||
		    t_memmem(t_out, t_out_len, "@198.19.0.3:5060>;q=1.0\r\n",
			     25) == NULL)
			if (t_memmem(t_out, t_out_len,
				     "Contact: <sip:198.19.0.3:5060>;q=1.0\r\n",
				     38) == NULL)
				fail_msg("%s: 302 without the target's Contact",
					 r->name);
		t_redirected++;
	} else if (strncmp(r->outcome, "route", 5) == 0 && sent &&
		   (code == 481 || code == 200 || t_code_in(r->outcome, code))) {
		t_answered++;
	} else if (strncmp(r->outcome, "route", 5) == 0 && !sent && is_ack) {
		assert_int_equal(t_cnt(DP_CNT_SIP_ACK_ABSORBED), 1);
		t_dropped++;
	} else if (strcmp(r->outcome, "accept") == 0 && !sent) {
		assert_int_equal(t_cnt(DP_CNT_SIP_RESP_DROP), 1);
		t_dropped++;
	} else if (strcmp(r->outcome, "drop") == 0 && !sent) {
		assert_int_equal(t_cnt(DP_CNT_SIP_PARSE_DROP), 1);
		t_dropped++;
	} else if (r->outcome[0] >= '1' && r->outcome[0] <= '6' && sent &&
		   t_code_in(r->outcome, code)) {
		t_answered++;
	} else if (r->outcome[0] >= '1' && r->outcome[0] <= '6' && !sent &&
		   is_ack) {
		t_dropped++;
	} else {
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
	(void)state;
	if (t_env_setup("test_dp_conf", "0") != 0)
		return -1;
	t_begin();
	t_snap_csv(t_csv, 1);
	return 0;
}

static int
t_group_teardown(void **state)
{
	(void)state;
	printf("redirect conformance: %u redirected, %u answered otherwise, "
	       "%u dropped\n", t_redirected, t_answered, t_dropped);
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
		tests[i].test_func = test_dp_conf_row;
		tests[i].initial_state = &t_rows[i];
	}
	return _cmocka_run_group_tests("dp_conf", tests, t_nrows,
				       t_group_setup, t_group_teardown);
}
