/* SPDX-License-Identifier: MIT */
/*
 * sip_pcap.h - find the SIP messages in a capture, for tests and benchmarks.
 *
 * Decodes Ethernet (with VLAN tags), Linux cooked, raw-IP and BSD loopback
 * link types; IPv4 and IPv6, IP-in-IP and IPv6-in-IPv4 tunnels, IPv4 and
 * IPv6 fragments (reassembled); UDP datagrams and TCP segments. A payload
 * counts as SIP when a port is 5060/5061 or its first line looks like a
 * SIP start line; other traffic (RTP) is skipped.
 */
#ifndef SIPEDGE_TESTS_SIP_PCAP_H
#define SIPEDGE_TESTS_SIP_PCAP_H

#include <stdint.h>

#define SIP_PCAP_REASM_SLOTS    16
#define SIP_PCAP_REASM_MAX      65536

typedef void sip_pcap_fn(void *arg, const uint8_t *payload, uint32_t len,
			 int tcp);

/* One datagram being reassembled from fragments. */
struct reasm {
	int              used;
	uint8_t          v6;
	uint8_t          proto;
	uint8_t          src[16], dst[16];
	uint32_t         id;
	uint32_t         total;         /* 0 until the last fragment is seen */
	uint32_t         have;          /* bytes received (no overlap assumed) */
	uint8_t          data[SIP_PCAP_REASM_MAX];
};

struct sip_pcap {
	sip_pcap_fn     *cb;
	void            *arg;
	int              bad_link;      /* link type not decoded, or 0 */
	struct reasm     reasm[SIP_PCAP_REASM_SLOTS];
};

/* Does the first line of @p p look like a SIP start line? */
int sip_pcap_looks_like_sip(const uint8_t *p, uint32_t len);

/*
 * Call @p cb for every SIP payload in the capture at @p path.
 * Returns the number of frames read, or -1 with a message in @p err
 * (at least 256 bytes) when the file cannot be read or its link type is
 * not decoded. @p d is caller-owned scratch (large: keep it static).
 */
int sip_pcap_read(struct sip_pcap *d, const char *path, sip_pcap_fn *cb,
		  void *arg, char *err);

#endif /* SIPEDGE_TESTS_SIP_PCAP_H */
