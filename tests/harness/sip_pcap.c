/* SPDX-License-Identifier: MIT */
/*
 * sip_pcap.c - find the SIP messages in a capture (see sip_pcap.h).
 */
#define _GNU_SOURCE     /* memmem */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "sip_pcap.h"

static void handle_ip(struct sip_pcap *d, const uint8_t *p, uint32_t len);

/* One datagram being reassembled from fragments. */



int
sip_pcap_looks_like_sip(const uint8_t *p, uint32_t len)
{
	const uint8_t *eol = memchr(p, '\n', len);
	uint32_t n = eol != NULL ? (uint32_t)(eol - p) : len;

	if (n >= 8 && memcmp(p, "SIP/2.0 ", 8) == 0)
		return 1;
	return n >= 9 && memmem(p, n, " SIP/2.0", 8) != NULL;
}

static void
handle_l4(struct sip_pcap *d, uint8_t proto, const uint8_t *p, uint32_t len)
{
	uint16_t sport, dport;
	uint32_t off;
	int sip_port;

	if (proto == 4 || proto == 41) {                /* IP-in-IP, 6in4 */
		handle_ip(d, p, len);
		return;
	}
	if (proto == 17) {
		if (len < 8)
			return;
		sport = (uint16_t)(p[0] << 8 | p[1]);
		dport = (uint16_t)(p[2] << 8 | p[3]);
		off = 8;
	} else if (proto == 6) {
		if (len < 20)
			return;
		sport = (uint16_t)(p[0] << 8 | p[1]);
		dport = (uint16_t)(p[2] << 8 | p[3]);
		off = (uint32_t)(p[12] >> 4) * 4;
		if (off < 20 || off > len)
			return;
	} else {
		return;
	}
	if (off == len)
		return;
	sip_port = sport == 5060 || dport == 5060 || sport == 5061 ||
		   dport == 5061;
	if (!sip_port && !sip_pcap_looks_like_sip(p + off, len - off))
		return;
	d->cb(d->arg, p + off, len - off, proto == 6);
}

static struct reasm *
reasm_slot(struct sip_pcap *d, uint8_t v6, const uint8_t *src, const uint8_t *dst, uint32_t id,
	   uint8_t proto)
{
	unsigned int alen = v6 ? 16 : 4, i;
	struct reasm *free_slot = NULL;

	for (i = 0; i < SIP_PCAP_REASM_SLOTS; i++) {
		struct reasm *s = &d->reasm[i];

		if (!s->used) {
			if (free_slot == NULL)
				free_slot = s;
			continue;
		}
		if (s->v6 == v6 && s->id == id && s->proto == proto &&
		    memcmp(s->src, src, alen) == 0 &&
		    memcmp(s->dst, dst, alen) == 0)
			return s;
	}
	if (free_slot == NULL)
		return NULL;
	memset(free_slot, 0, offsetof(struct reasm, data));
	free_slot->used = 1;
	free_slot->v6 = v6;
	free_slot->id = id;
	free_slot->proto = proto;
	memcpy(free_slot->src, src, alen);
	memcpy(free_slot->dst, dst, alen);
	return free_slot;
}

static void
reasm_add(struct sip_pcap *d, struct reasm *s, uint32_t frag_off, int more,
	  const uint8_t *p, uint32_t len)
{
	if (s == NULL || frag_off + len > SIP_PCAP_REASM_MAX)
		return;
	memcpy(s->data + frag_off, p, len);
	s->have += len;
	if (!more)
		s->total = frag_off + len;
	if (s->total != 0 && s->have >= s->total) {
		s->used = 0;
		handle_l4(d, s->proto, s->data, s->total);
	}
}

static void
handle_ipv4(struct sip_pcap *d, const uint8_t *p, uint32_t len)
{
	uint32_t ihl, tot, frag;

	if (len < 20)
		return;
	ihl = (uint32_t)(p[0] & 0xf) * 4;
	tot = (uint32_t)(p[2] << 8 | p[3]);
	if (ihl < 20 || tot < ihl || tot > len)
		tot = len;              /* truncated capture: use what we have */
	if (ihl > tot)
		return;
	frag = (uint32_t)((p[6] & 0x1f) << 8 | p[7]) * 8;
	if ((p[6] & 0x20) != 0 || frag != 0) {
		reasm_add(d, reasm_slot(d, 0, p + 12, p + 16,
					(uint32_t)(p[4] << 8 | p[5]), p[9]),
			  frag, (p[6] & 0x20) != 0, p + ihl, tot - ihl);
		return;
	}
	handle_l4(d, p[9], p + ihl, tot - ihl);
}

static void
handle_ipv6(struct sip_pcap *d, const uint8_t *p, uint32_t len)
{
	uint32_t plen, off = 40;
	uint8_t nh;

	if (len < 40)
		return;
	plen = (uint32_t)(p[4] << 8 | p[5]);
	if (40 + plen < len)
		len = 40 + plen;
	nh = p[6];
	for (;;) {
		if (nh == 0 || nh == 43 || nh == 60) {  /* HBH, routing, dest */
			if (off + 8 > len)
				return;
			nh = p[off];
			off += (uint32_t)(p[off + 1] + 1) * 8;
			continue;
		}
		if (nh == 44) {                         /* fragment */
			uint32_t fo, id;
			int more;

			if (off + 8 > len)
				return;
			fo = (uint32_t)(p[off + 2] << 8 | (p[off + 3] & 0xf8));
			more = p[off + 3] & 1;
			id = (uint32_t)p[off + 4] << 24 | (uint32_t)p[off + 5] << 16 |
			     (uint32_t)p[off + 6] << 8 | p[off + 7];
			reasm_add(d, reasm_slot(d, 1, p + 8, p + 24, id, p[off]),
				  fo, more, p + off + 8, len - off - 8);
			return;
		}
		break;
	}
	if (off > len)
		return;
	handle_l4(d, nh, p + off, len - off);
}

static void
handle_ip(struct sip_pcap *d, const uint8_t *p, uint32_t len)
{
	if (len == 0)
		return;
	if ((p[0] >> 4) == 4)
		handle_ipv4(d, p, len);
	else if ((p[0] >> 4) == 6)
		handle_ipv6(d, p, len);
}

static void
handle_ether_type(struct sip_pcap *d, uint16_t type, const uint8_t *p, uint32_t len)
{
	while ((type == 0x8100 || type == 0x88a8) && len >= 4) {
		type = (uint16_t)(p[2] << 8 | p[3]);
		p += 4;
		len -= 4;
	}
	if (type == 0x0800 || type == 0x86dd)
		handle_ip(d, p, len);
}

static void
handle_frame(struct sip_pcap *d, int dlt, const uint8_t *p, uint32_t len)
{
	switch (dlt) {
	case DLT_EN10MB:
		if (len >= 14)
			handle_ether_type(d, (uint16_t)(p[12] << 8 | p[13]),
					  p + 14, len - 14);
		break;
	case DLT_LINUX_SLL:
		if (len >= 16)
			handle_ether_type(d, (uint16_t)(p[14] << 8 | p[15]),
					  p + 16, len - 16);
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		handle_ip(d, p, len);
		break;
	case DLT_NULL:
		if (len >= 4)
			handle_ip(d, p + 4, len - 4);
		break;
	default:
		d->bad_link = dlt;
	}
}

int
sip_pcap_read(struct sip_pcap *d, const char *path, sip_pcap_fn *cb,
	      void *arg, char *err)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const uint8_t *data;
	pcap_t *pc;
	int dlt, n = 0;

	memset(d, 0, offsetof(struct sip_pcap, reasm));
	memset(d->reasm, 0, sizeof(d->reasm));
	d->cb = cb;
	d->arg = arg;
	pc = pcap_open_offline(path, errbuf);
	if (pc == NULL) {
		snprintf(err, 256, "%.100s: %.150s", path, errbuf);
		return -1;
	}
	dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &data) == 1 && d->bad_link == 0) {
		handle_frame(d, dlt, data, h->caplen);
		n++;
	}
	pcap_close(pc);
	if (d->bad_link != 0) {
		snprintf(err, 256, "%.200s: link type %d not decoded", path, dlt);
		return -1;
	}
	return n;
}
