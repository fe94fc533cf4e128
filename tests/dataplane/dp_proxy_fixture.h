/* SPDX-License-Identifier: MIT */
/*
 * dp_proxy_fixture.h - the router the proxy decision tests and the proxy
 * fuzz target (tests/fuzz/fuzz_proxy.c) both use: no EAL, no packets.
 */
#ifndef SIPEDGE_TESTS_DATAPLANE_DP_PROXY_FIXTURE_H
#define SIPEDGE_TESTS_DATAPLANE_DP_PROXY_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "dp_proxy.h"

/*
 * Proxy mode at 192.0.2.1/24 and 2001:db8::1/64, SIP port 5060 (and
 * @p port2 unless 0); @p self decides for it with a fixed branch key.
 */
static inline void
t_proxy_fixture(struct dp_conf *c, uint16_t port2, struct dp_proxy_self *self)
{
	static const uint8_t us4[4] = { 192, 0, 2, 1 };
	static const uint8_t us6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	memset(c, 0, sizeof(*c));
	c->addr4[0].ip.family = DP_AF_V4;
	memcpy(&c->addr4[0].ip.v4, us4, 4);
	c->addr4[0].len = 24;
	c->naddr4 = 1;
	c->addr6[0].ip.family = DP_AF_V6;
	memcpy(c->addr6[0].ip.v6, us6, 16);
	c->addr6[0].len = 64;
	c->naddr6 = 1;
	c->sip_port[0] = 5060;
	c->nsip_port = 1;
	if (port2 != 0)
		c->sip_port[c->nsip_port++] = port2;
	c->mode = DP_MODE_PROXY;

	memset(self, 0, sizeof(*self));
	self->conf = c;
	self->key.k0 = 0x0706050403020100ULL;
	self->key.k1 = 0x0f0e0d0c0b0a0908ULL;
}

#endif /* SIPEDGE_TESTS_DATAPLANE_DP_PROXY_FIXTURE_H */
