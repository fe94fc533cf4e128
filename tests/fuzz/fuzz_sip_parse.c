/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sip_parse.c - libFuzzer target for the SIP library: the message
 * parser, the checks, every value sub-parser, rewriting and responses.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined only (-Dfuzz).
 * The input is copied into an exact-size heap block so AddressSanitizer
 * catches a read one byte too far.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sip.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_values(const struct sip_msg *msg)
{
	static const enum sip_hdr_id ids[] = {
		SIP_HDR_VIA, SIP_HDR_CONTACT, SIP_HDR_ROUTE,
		SIP_HDR_RECORD_ROUTE, SIP_HDR_PROXY_REQUIRE,
	};
	struct sip_value_iter it;
	struct sip_naddr na;
	struct sip_via via;
	struct sip_uri uri;
	struct span v, name, val, rest;
	unsigned int i;
	uint16_t q;
	char out[256];

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sip_values_init(&it, msg, ids[i]);
		while (sip_values_next(&it, &v) == 1) {
			if (ids[i] == SIP_HDR_VIA) {
				(void)sip_via_parse(&via, v);
				continue;
			}
			if (sip_naddr_parse(&na, v) != SIP_PERR_OK)
				continue;
			(void)sip_naddr_q(&na, &q);
			if (sip_uri_parse(&uri, na.uri) == SIP_PERR_OK) {
				uint8_t addr[16];

				(void)sip_unescape(uri.user, out, sizeof(out));
				(void)sip_host_to_ip(uri.host, addr);
				rest = uri.params;
				while (sip_param_next(&rest, &name, &val) == 1)
					;
			}
		}
	}
}

static void
fuzz_rewrite(const struct sip_msg *msg, const struct sip_info *info)
{
	static char out[SIP_MAX_MSG_LEN + 4096];
	static const struct sip_contact_out contacts[2] = {
		{ SPAN_LIT("sip:+15550100@198.18.0.2:5060"), 1000, 60 },
		{ SPAN_LIT("sip:+15550100@198.18.0.3"), 500, SIP_EXPIRES_NONE },
	};
	struct sip_resp r;
	struct sip_edits ed;
	struct hash_key key = { 1, 2 };
	char tag[16];
	uint32_t n;

	sip_edits_init(&ed);
	if (msg->is_request) {
		(void)sip_rw_push_via(&ed, msg,
			SPAN_LIT("SIP/2.0/UDP 198.18.0.1;branch=z9hG4bKfuzz"));
		(void)sip_rw_via_stamp(&ed, msg, info, SPAN_LIT("198.18.0.9"),
				       5062);
		(void)sip_rw_max_forwards(&ed, msg, info);
		(void)sip_rw_record_route(&ed, msg,
					  SPAN_LIT("sip:198.18.0.1;lr"));
		(void)sip_rw_ruri_user(&ed, msg, info, SPAN_LIT("0044207"));
		(void)sip_rw_pop_route(&ed, msg);
	} else {
		(void)sip_rw_pop_via(&ed, msg, info);
	}
	(void)sip_rw_apply(&ed, msg, out, sizeof(out), &n);

	if (!msg->is_request)
		return;
	sip_to_tag(info, &key, tag);
	memset(&r, 0, sizeof(r));
	r.code = 302;
	r.to_tag = span_make(tag, sizeof(tag));
	r.contacts = contacts;
	r.ncontacts = 2;
	r.retry_after = 30;
	(void)sip_resp_build(msg, info, &r, out, sizeof(out), &n);
	(void)sip_resp_build(msg, info, &r, out, 64, &n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_info info;
	struct sip_msg msg;
	char *buf;

	if (size > SIP_MAX_MSG_LEN + 16)
		return 0;
	buf = malloc(size != 0 ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);

	if (sip_parse(&msg, buf, (uint32_t)size) == SIP_PERR_OK) {
		fuzz_values(&msg);
		if (sip_msg_check(&msg, &info) == SIP_PERR_OK)
			fuzz_rewrite(&msg, &info);
	}
	/* The sub-parsers also take the raw bytes directly. */
	{
		struct sip_uri uri;
		struct sip_via via;
		struct sip_naddr na;
		struct sip_cseq cs;
		struct span s = span_make(buf, size);
		uint32_t secs;
		struct span params;

		(void)sip_uri_parse(&uri, s);
		(void)sip_via_parse(&via, s);
		(void)sip_naddr_parse(&na, s);
		(void)sip_cseq_parse(&cs, s);
		(void)sip_delta_parse(s, &secs, &params);
	}
	free(buf);
	return 0;
}
