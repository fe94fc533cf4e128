/* SPDX-License-Identifier: MIT */
/*
 * test_schema.c - round trips, version detection and malformed input for
 * every codec of lmdb-schema/schema.c; address lists, refuse actions and
 * the checks of the source address policy settings.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <compiler.h>
#include <schema.h>

static struct span
lit(const char *s)
{
	return span_make(s, strlen(s));
}

static void
test_schema_meta_round_trip(void **state)
{
	struct schema_meta_schema ms = { .version = SCHEMA_VERSION,
					 .created_us = 1234567 }, ms2;
	struct schema_meta_gen g = { .generation = 42, .committed_us = 99,
				     .nrules = 1000000 }, g2;
	uint8_t buf[64];
	size_t len;

	(void)state;
	assert_int_equal(schema_meta_schema_encode(&ms, buf, sizeof(buf), &len),
			 0);
	assert_int_equal(len, SCHEMA_META_SCHEMA_LEN);
	assert_int_equal(schema_meta_schema_decode(&ms2, buf, len), 0);
	assert_int_equal(ms2.version, SCHEMA_VERSION);
	assert_int_equal(ms2.created_us, 1234567);
	buf[5] ^= 1;    /* magic */
	assert_int_equal(schema_meta_schema_decode(&ms2, buf, len), -EBADMSG);

	assert_int_equal(schema_meta_gen_encode(&g, buf, sizeof(buf), &len), 0);
	assert_int_equal(schema_meta_gen_decode(&g2, buf, len), 0);
	assert_int_equal(g2.generation, 42);
	assert_int_equal(g2.committed_us, 99);
	assert_int_equal(g2.nrules, 1000000);
	assert_int_equal(schema_meta_gen_encode(&g, buf, 8, &len), -ENOSPC);
}

/* A value written by a newer layout is reported as such, not as garbage. */
static void
test_schema_unknown_version_rejected(void **state)
{
	struct schema_meta_gen g = { .generation = 1 }, g2;
	struct schema_setting s = { .type = SCHEMA_SETTING_U64, .u = 7 }, s2;
	uint8_t buf[64];
	size_t len;

	(void)state;
	assert_int_equal(schema_meta_gen_encode(&g, buf, sizeof(buf), &len), 0);
	buf[0] = 2;
	assert_int_equal(schema_meta_gen_decode(&g2, buf, len),
			 -EPROTONOSUPPORT);
	assert_int_equal(schema_setting_encode(&s, buf, sizeof(buf), &len), 0);
	buf[0] = 9;
	assert_int_equal(schema_setting_decode(&s2, buf, len),
			 -EPROTONOSUPPORT);
	assert_int_equal(schema_meta_gen_decode(&g2, buf, 0), -EBADMSG);
}

static void
fill_rule(struct schema_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->id = lit("nyc");
	r->kind = SCHEMA_KIND_PREFIX;
	r->action = SCHEMA_ACTION_FORWARD;
	r->rank = 100;
	r->strip = 1;
	r->pattern = lit("1212");
	r->prepend = lit("0044");
	r->ntargets = 2;
	r->target[0] = (struct schema_target){ .host = lit("198.19.0.3"),
		.port = 5060, .priority = 1, .weight = 70 };
	r->target[1] = (struct schema_target){ .host = lit("2001:db8::1"),
		.port = 5080, .priority = 2, .weight = 1 };
}

static void
test_schema_rule_round_trip(void **state)
{
	struct schema_rule r, r2;
	uint8_t buf[512];
	size_t len, i;

	(void)state;
	fill_rule(&r);
	assert_int_equal(schema_rule_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, schema_rule_size(&r));
	assert_int_equal(schema_rule_decode(&r2, buf, len), 0);
	assert_int_equal(r2.kind, r.kind);
	assert_int_equal(r2.action, r.action);
	assert_int_equal(r2.rank, 100);
	assert_int_equal(r2.strip, 1);
	assert_true(span_eq(r2.pattern, r.pattern));
	assert_true(span_eq(r2.prepend, r.prepend));
	assert_int_equal(r2.ntargets, 2);
	for (i = 0; i < 2; i++) {
		assert_true(span_eq(r2.target[i].host, r.target[i].host));
		assert_int_equal(r2.target[i].port, r.target[i].port);
		assert_int_equal(r2.target[i].priority, r.target[i].priority);
		assert_int_equal(r2.target[i].weight, r.target[i].weight);
	}
	/* Every strict prefix and one extra byte are malformed. */
	for (i = 0; i < len; i++)
		assert_int_not_equal(schema_rule_decode(&r2, buf, i), 0);
	buf[len] = 0;
	assert_int_equal(schema_rule_decode(&r2, buf, len + 1), -EBADMSG);
	assert_int_equal(schema_rule_encode(&r, buf, len - 1, &len), -ENOSPC);
}

static void
test_schema_rule_invalid_rejected(void **state)
{
	struct schema_rule r;
	uint8_t buf[512];
	size_t len;

	(void)state;
	fill_rule(&r);
	r.kind = 9;
	assert_int_equal(schema_rule_encode(&r, buf, sizeof(buf), &len),
			 -EINVAL);
	fill_rule(&r);
	r.action = SCHEMA_ACTION_REJECT;
	r.code = 403;
	assert_int_equal(schema_rule_encode(&r, buf, sizeof(buf), &len),
			 -EINVAL);      /* reject with targets */
	r.ntargets = 0;
	assert_int_equal(schema_rule_encode(&r, buf, sizeof(buf), &len), 0);
	fill_rule(&r);
	r.code = 404;
	assert_int_equal(schema_rule_encode(&r, buf, sizeof(buf), &len),
			 -EINVAL);      /* a code on a forward rule */
	fill_rule(&r);
	r.kind = SCHEMA_KIND_DEFAULT;
	assert_int_equal(schema_rule_encode(&r, buf, sizeof(buf), &len),
			 -EINVAL);      /* default with a pattern */
	r.pattern = span_make(NULL, 0);
	assert_int_equal(schema_rule_encode(&r, buf, sizeof(buf), &len), 0);
	/* A decoded value with a bad kind byte is malformed. */
	buf[1] = 0;
	assert_int_equal(schema_rule_decode(&r, buf, len), -EBADMSG);
}

/* Big-endian generation keys: memcmp order is numeric order. */
static void
test_schema_art_key_sorts_numerically(void **state)
{
	static const uint64_t gens[] = { 1, 255, 256, 65536, 1ull << 40 };
	uint8_t a[SCHEMA_ART_KEY_LEN], b[SCHEMA_ART_KEY_LEN];
	uint64_t g;
	uint8_t kind;
	size_t i;

	(void)state;
	for (i = 0; i + 1 < SIPEDGE_ARRAY_SIZE(gens); i++) {
		schema_art_key_encode(a, gens[i], SCHEMA_ART_RULES_IMAGE);
		schema_art_key_encode(b, gens[i + 1], SCHEMA_ART_GENINFO);
		assert_true(memcmp(a, b, sizeof(a)) < 0);
		assert_int_equal(schema_art_key_decode(a, sizeof(a), &g,
						       &kind), 0);
		assert_int_equal(g, gens[i]);
		assert_int_equal(kind, SCHEMA_ART_RULES_IMAGE);
	}
	assert_int_equal(schema_art_key_decode(a, 8, &g, &kind), -EBADMSG);
}

static void
test_schema_art_checksum_detects_corruption(void **state)
{
	static const char payload[] = "compiled rules image bytes";
	struct schema_art_hdr h = {
		.kind = SCHEMA_ART_RULES_IMAGE,
		.csum_alg = SCHEMA_CSUM_CRC32C,
		.size = sizeof(payload),
		.created_us = 5,
	};
	uint8_t buf[SCHEMA_ART_HDR_LEN + sizeof(payload)];
	struct schema_art_hdr h2;
	struct span out;

	(void)state;
	h.csum = schema_crc32c(0, payload, sizeof(payload));
	assert_int_equal(schema_art_hdr_encode(&h, buf), 0);
	memcpy(buf + SCHEMA_ART_HDR_LEN, payload, sizeof(payload));
	assert_int_equal(schema_art_verify(buf, sizeof(buf), &out), 0);
	assert_int_equal(out.len, sizeof(payload));
	assert_memory_equal(out.ptr, payload, sizeof(payload));
	assert_int_equal(schema_art_hdr_decode(&h2, buf, sizeof(buf)), 0);
	assert_int_equal(h2.created_us, 5);
	buf[SCHEMA_ART_HDR_LEN + 3] ^= 0x20;
	assert_int_equal(schema_art_verify(buf, sizeof(buf), &out), -EBADMSG);
	assert_int_equal(schema_art_verify(buf, sizeof(buf) - 1, &out),
			 -EBADMSG);
}

/* Published check values for CRC32C (RFC 3720 B.4 and "123456789"). */
static void
test_schema_crc32c_known_values(void **state)
{
	uint8_t zeros[32];
	uint32_t c;

	(void)state;
	memset(zeros, 0, sizeof(zeros));
	assert_int_equal(schema_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(schema_crc32c(0, zeros, sizeof(zeros)), 0x8a9136aau);
	c = schema_crc32c(0, "1234", 4);
	assert_int_equal(schema_crc32c(c, "56789", 5), 0xe3069283u);
}

static void
test_schema_summary_geninfo_target_round_trip(void **state)
{
	struct schema_import_summary s = {
		.generation = 3, .finished_us = 4, .duration_us = 5,
		.rows = 6, .mode = SCHEMA_IMPORT_MERGE, .added = 7,
		.removed = 8, .changed = 9, .unchanged = 10,
		.by_kind = { 0, 1, 2, 3, 4, 5 },
	}, s2;
	struct schema_geninfo g = { .nrules = 15,
				    .by_kind = { 0, 5, 4, 3, 2, 1 } }, g2;
	struct schema_target_rec t = { .family = 4, .port = 5060,
				       .addr = { 198, 19, 0, 3 },
				       .refs = 12 }, t2;
	uint8_t buf[256];
	size_t len;

	(void)state;
	assert_int_equal(schema_import_summary_encode(&s, buf, sizeof(buf),
						      &len), 0);
	assert_int_equal(schema_import_summary_decode(&s2, buf, len), 0);
	assert_memory_equal(&s.by_kind, &s2.by_kind, sizeof(s.by_kind));
	assert_int_equal(s2.mode, SCHEMA_IMPORT_MERGE);
	assert_int_equal(s2.unchanged, 10);
	assert_int_equal(s2.rows, 6);

	assert_int_equal(schema_geninfo_encode(&g, buf, sizeof(buf), &len), 0);
	assert_int_equal(schema_geninfo_decode(&g2, buf, len), 0);
	assert_int_equal(g2.nrules, 15);
	assert_memory_equal(&g.by_kind, &g2.by_kind, sizeof(g.by_kind));

	assert_int_equal(schema_target_rec_encode(&t, buf, sizeof(buf), &len),
			 0);
	assert_int_equal(schema_target_rec_decode(&t2, buf, len), 0);
	assert_int_equal(t2.refs, 12);
	assert_int_equal(t2.port, 5060);
	assert_memory_equal(t2.addr, t.addr, 16);
	t.family = 5;
	assert_int_equal(schema_target_rec_encode(&t, buf, sizeof(buf), &len),
			 -EINVAL);
}

static void
test_schema_reg_round_trip(void **state)
{
	struct schema_reg r, r2;
	uint8_t buf[1024];
	size_t len, i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.ncontacts = 2;
	r.contact[0] = (struct schema_contact){
		.expires_us = 1700000000000000ull, .cseq = 7, .q = 1000,
		.src_family = 4, .transport = 1,
		.src_addr = { 192, 0, 2, 10 }, .src_port = 5060,
		.uri = lit("sip:alice@192.0.2.10:5060"),
		.call_id = lit("abc@192.0.2.10"),
		.path = lit("<sip:edge1.example;lr>"),
	};
	r.contact[1] = (struct schema_contact){
		.expires_us = 1, .cseq = 1, .q = 500, .src_family = 6,
		.transport = 2, .src_addr = { 0x20, 0x01, 0x0d, 0xb8 },
		.src_port = 5070, .uri = lit("sip:alice@[2001:db8::1]"),
	};
	assert_int_equal(schema_reg_encode(&r, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, schema_reg_size(&r));
	assert_int_equal(schema_reg_decode(&r2, buf, len), 0);
	assert_int_equal(r2.ncontacts, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(r2.contact[i].expires_us,
				 r.contact[i].expires_us);
		assert_int_equal(r2.contact[i].q, r.contact[i].q);
		assert_int_equal(r2.contact[i].src_port,
				 r.contact[i].src_port);
		assert_memory_equal(r2.contact[i].src_addr,
				    r.contact[i].src_addr, 16);
		assert_true(span_eq(r2.contact[i].uri, r.contact[i].uri));
		assert_true(span_eq(r2.contact[i].call_id,
				    r.contact[i].call_id));
		assert_true(span_eq(r2.contact[i].path, r.contact[i].path));
	}
	for (i = 0; i < len; i++)
		assert_int_not_equal(schema_reg_decode(&r2, buf, i), 0);
	r.contact[1].q = 1001;
	assert_int_equal(schema_reg_encode(&r, buf, sizeof(buf), &len),
			 -EINVAL);
}

static void
test_schema_setting_round_trip(void **state)
{
	struct schema_setting s = { .type = SCHEMA_SETTING_STR,
				    .str = lit("edge.example") }, s2;
	const struct schema_setting_def *d;
	uint8_t buf[64];
	size_t len;

	(void)state;
	assert_int_equal(schema_setting_encode(&s, buf, sizeof(buf), &len), 0);
	assert_int_equal(schema_setting_decode(&s2, buf, len), 0);
	assert_int_equal(s2.type, SCHEMA_SETTING_STR);
	assert_true(span_eq(s2.str, s.str));
	s = (struct schema_setting){ .type = SCHEMA_SETTING_BOOL, .u = 2 };
	assert_int_equal(schema_setting_encode(&s, buf, sizeof(buf), &len),
			 -EINVAL);
	s.u = 1;
	assert_int_equal(schema_setting_encode(&s, buf, sizeof(buf), &len), 0);
	assert_int_equal(schema_setting_decode(&s2, buf, len), 0);
	assert_int_equal(s2.u, 1);
	buf[1] = 77;
	assert_int_equal(schema_setting_decode(&s2, buf, len), -EBADMSG);

	d = schema_setting_find(lit("artefacts.keep"));
	assert_non_null(d);
	assert_int_equal(d->def, 2);
	assert_null(schema_setting_find(lit("artefacts.kee")));
}

static void
test_schema_names_parse(void **state)
{
	(void)state;
	assert_int_equal(schema_kind_parse(lit("regex")), SCHEMA_KIND_REGEX);
	assert_int_equal(schema_kind_parse(lit("Regex")), -EINVAL);
	assert_string_equal(schema_kind_name(SCHEMA_KIND_DEFAULT), "default");
	assert_null(schema_kind_name(0));
	assert_int_equal(schema_action_parse(lit("redirect")),
			 SCHEMA_ACTION_REDIRECT);
	assert_string_equal(schema_action_name(SCHEMA_ACTION_REJECT), "reject");
}

/* ---- address lists, refuse actions, policy settings ------------------ */

/* Parse @p text expecting -EINVAL and exactly the message @p want. */
static void
cidr_expect_error(const char *text, const char *want)
{
	struct schema_cidr out[4];
	char err[160];

	memset(err, 'x', sizeof(err));
	assert_int_equal(schema_cidr_list_parse(lit(text), out, 4, err,
						sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	/* Counting only finds the same error. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(schema_cidr_list_parse(lit(text), NULL, 0, err,
						sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
}

static void
test_schema_cidr_list_empty_and_blank_are_zero(void **state)
{
	struct schema_cidr out[1];
	char err[80];

	(void)state;
	assert_int_equal(schema_cidr_list_parse(span_make("", 0), out, 1, err,
						sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(schema_cidr_list_parse(lit("\n"), NULL, 0, err,
						sizeof(err)), 0);
	assert_int_equal(schema_cidr_list_parse(lit(" \t\r\n , ,\n"), out, 1,
						err, sizeof(err)), 0);
	assert_string_equal(err, "");
	/* No room at all is fine when there is nothing to store. */
	assert_int_equal(schema_cidr_list_parse(lit("  "), out, 0, err,
						sizeof(err)), 0);
}

static void
test_schema_cidr_list_mixed_separators_parsed(void **state)
{
	static const char text[] =
		"  10.0.0.0/8,192.0.2.1\t2001:db8::/32\n"
		"::/0 ,, ::ffff:1.2.3.4/128\r\n0.0.0.0/0,\t198.51.100.128/25"
		",2001:db8:1::1\n";
	static const uint8_t v6_db8[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t v6_zero[16] = { 0 };
	static const uint8_t v4_mapped[16] = { 1, 2, 3, 4 };
	static const uint8_t v6_host[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t v4_a[16] = { 10 };
	static const uint8_t v4_b[16] = { 192, 0, 2, 1 };
	static const uint8_t v4_c[16] = { 198, 51, 100, 128 };
	const struct {
		uint8_t family, len;
		const uint8_t *addr;
	} want[8] = {
		{ 4, 8, v4_a }, { 4, 32, v4_b }, { 6, 32, v6_db8 },
		{ 6, 0, v6_zero }, { 4, 32, v4_mapped }, { 4, 0, v6_zero },
		{ 4, 25, v4_c }, { 6, 128, v6_host },
	};
	struct schema_cidr out[16];
	char err[80];
	int i;

	(void)state;
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(schema_cidr_list_parse(lit(text), out, 16, err,
						sizeof(err)), 8);
	assert_string_equal(err, "");

	/* Family, length (32 or 128 by default) and all 16 address bytes
	 * (IPv4 in bytes 0-3, the rest zero) of each entry, in order. */
	for (i = 0; i < 8; i++) {
		assert_int_equal(out[i].family, want[i].family);
		assert_int_equal(out[i].len, want[i].len);
		assert_memory_equal(out[i].addr, want[i].addr, 16);
	}

	/* Nothing written past the last entry. */
	assert_int_equal(out[8].family, 0xa5);

	/* Counting only gives the same number and writes nothing. */
	assert_int_equal(schema_cidr_list_parse(lit(text), NULL, 0, err,
						sizeof(err)), 8);
	/* A single entry without any separator. */
	assert_int_equal(schema_cidr_list_parse(lit("203.0.113.7"), out, 1,
						err, sizeof(err)), 1);
	assert_int_equal(out[0].len, 32);
}

/* An IPv4-mapped entry is the IPv4 prefix it names; nothing else moves. */
static void
test_schema_cidr_list_mapped_entries_become_ipv4(void **state)
{
	static const uint8_t v4_10[16] = { 10 };
	static const uint8_t v4_host[16] = { 192, 0, 2, 7 };
	static const uint8_t v6_95[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe };
	static const uint8_t v6_compat[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1 };
	struct schema_cidr out[5];
	char err[80];

	(void)state;
	assert_int_equal(schema_cidr_list_parse(lit("::ffff:10.0.0.0/104 "
		"::FFFF:c000:207 ::ffff:0.0.0.0/96 ::fffe:0:0/95 ::10.0.0.1"),
		out, 5, err, sizeof(err)), 5);
	assert_int_equal(out[0].family, 4);
	assert_int_equal(out[0].len, 8);
	assert_memory_equal(out[0].addr, v4_10, 16);
	assert_int_equal(out[1].family, 4);
	assert_int_equal(out[1].len, 32);
	assert_memory_equal(out[1].addr, v4_host, 16);
	/* the whole mapped block: every IPv4 source */
	assert_int_equal(out[2].family, 4);
	assert_int_equal(out[2].len, 0);
	/* shorter than the mapped block, or not mapped: IPv6 as written */
	assert_int_equal(out[3].family, 6);
	assert_int_equal(out[3].len, 95);
	assert_memory_equal(out[3].addr, v6_95, 16);
	assert_int_equal(out[4].family, 6);
	assert_int_equal(out[4].len, 128);
	assert_memory_equal(out[4].addr, v6_compat, 16);
	/* bits past the length are still refused, in the IPv6 form */
	cidr_expect_error("::ffff:10.0.0.1/104",
			  "entry 1 '::ffff:10.0.0.1/104': address has bits "
			  "set past the prefix length");
}

static void
test_schema_cidr_list_errors_name_entry_and_reason(void **state)
{
	char long_entry[100], want[160];

	(void)state;
	cidr_expect_error("10.0.0.0/8, 10.0.0.1/8",
		"entry 2 '10.0.0.1/8': address has bits set past the prefix "
		"length");
	cidr_expect_error("2001:db8::1/32",
		"entry 1 '2001:db8::1/32': address has bits set past the "
		"prefix length");
	cidr_expect_error("0.0.0.1/0",
		"entry 1 '0.0.0.1/0': address has bits set past the prefix "
		"length");
	cidr_expect_error("192.0.2.0/24\n192.0.2.1/31",
		"entry 2 '192.0.2.1/31': address has bits set past the prefix "
		"length");
	cidr_expect_error("10.0.0.0/33",
		"entry 1 '10.0.0.0/33': prefix length must be 0-32");
	cidr_expect_error("::1, 10.0.0.0/",
		"entry 2 '10.0.0.0/': prefix length must be 0-32");
	cidr_expect_error("10.0.0.0/abc",
		"entry 1 '10.0.0.0/abc': prefix length must be 0-32");
	cidr_expect_error("10.0.0.0/-8",
		"entry 1 '10.0.0.0/-8': prefix length must be 0-32");
	cidr_expect_error("10.0.0.0/1000",
		"entry 1 '10.0.0.0/1000': prefix length must be 0-32");
	cidr_expect_error("10.0.0.0/8/8",
		"entry 1 '10.0.0.0/8/8': prefix length must be 0-32");
	cidr_expect_error("::/129",
		"entry 1 '::/129': prefix length must be 0-128");
	cidr_expect_error("2001:db8::/x",
		"entry 1 '2001:db8::/x': prefix length must be 0-128");
	cidr_expect_error("10.0.0.0/8, 192.0.2.300",
		"entry 2 '192.0.2.300': not an IPv4 or IPv6 address");
	cidr_expect_error("1.2.3",
		"entry 1 '1.2.3': not an IPv4 or IPv6 address");
	cidr_expect_error("::1 [::1]",
		"entry 2 '[::1]': not an IPv4 or IPv6 address");
	cidr_expect_error("/",
		"entry 1 '/': not an IPv4 or IPv6 address");
	cidr_expect_error("/8",
		"entry 1 '/8': not an IPv4 or IPv6 address");
	cidr_expect_error("10.0.0.0;10.0.0.1",
		"entry 1 '10.0.0.0;10.0.0.1': not an IPv4 or IPv6 address");
	cidr_expect_error("a, b, host.example",
		"entry 1 'a': not an IPv4 or IPv6 address");
	cidr_expect_error("1.1.1.1 2.2.2.2 3.3.3.3 fe80::1%eth0",
		"entry 4 'fe80::1%eth0': not an IPv4 or IPv6 address");

	/* A long entry is quoted by its first 60 bytes. */
	memset(long_entry, '1', 70);
	long_entry[70] = '\0';
	snprintf(want, sizeof(want),
		 "entry 1 '%.60s': not an IPv4 or IPv6 address", long_entry);
	cidr_expect_error(long_entry, want);
}

static void
test_schema_cidr_list_error_buffer_is_bounded(void **state)
{
	char err[16];

	(void)state;
	/* No buffer at all. */
	assert_int_equal(schema_cidr_list_parse(lit("10.0.0.1/8"), NULL, 0,
						NULL, 0), -EINVAL);
	assert_int_equal(schema_cidr_list_parse(lit("10.0.0.0/8"), NULL, 0,
						NULL, 0), 1);
	/* A short one is truncated and terminated. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(schema_cidr_list_parse(lit("10.0.0.1/8"), NULL, 0,
						err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "entry 1 '10.0.0", sizeof(err) - 1);
}

/* "10.H.M.L" for entry @p i, /32 each; returns a malloc'd text. */
static char *
cidr_many(unsigned int n, size_t *len)
{
	char *t = malloc((size_t)n * 20 + 1);
	size_t off = 0;
	unsigned int i;

	assert_non_null(t);
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(t + off, "%s10.%u.%u.%u/32",
				       i == 0 ? "" : i % 3 == 0 ? "\n" : ", ",
				       (i >> 16) & 255, (i >> 8) & 255,
				       i & 255);
	*len = off;
	return t;
}

static void
test_schema_cidr_list_4096_accepted_4097_rejected(void **state)
{
	struct schema_cidr *out;
	char *text, err[160];
	size_t len;

	(void)state;
	out = calloc(SCHEMA_CIDR_MAX + 1, sizeof(*out));
	assert_non_null(out);
	assert_int_equal(SCHEMA_CIDR_MAX, 4096);

	text = cidr_many(4096, &len);
	assert_int_equal(schema_cidr_list_parse(span_make(text, len), out,
						SCHEMA_CIDR_MAX, err,
						sizeof(err)), 4096);
	assert_int_equal(out[4095].family, 4);
	assert_int_equal(out[4095].len, 32);
	assert_int_equal(out[4095].addr[0], 10);
	assert_int_equal(out[4095].addr[1], 0);
	assert_int_equal(out[4095].addr[2], 15);
	assert_int_equal(out[4095].addr[3], 255);
	assert_int_equal(schema_cidr_list_parse(span_make(text, len), NULL, 0,
						err, sizeof(err)), 4096);
	free(text);

	/* Even with room for more, the list itself is too long. */
	text = cidr_many(4097, &len);
	assert_int_equal(schema_cidr_list_parse(span_make(text, len), out,
						SCHEMA_CIDR_MAX + 1, err,
						sizeof(err)), -EINVAL);
	assert_string_equal(err, "entry 4097 '10.0.16.0/32': too many "
				 "entries (at most 4096)");
	assert_int_equal(schema_cidr_list_parse(span_make(text, len), NULL, 0,
						err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "entry 4097 '10.0.16.0/32': too many "
				 "entries (at most 4096)");
	free(text);
	free(out);
}

static void
test_schema_cidr_list_output_too_small_rejected(void **state)
{
	struct schema_cidr out[3];
	char err[160];

	(void)state;
	memset(out, 0, sizeof(out));
	assert_int_equal(schema_cidr_list_parse(lit("10.0.0.0/8 ::1 ::2"), out,
						2, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "entry 3 '::2': too many entries for the "
				 "output");
	assert_int_equal(out[2].family, 0);             /* not written */
	assert_int_equal(schema_cidr_list_parse(lit("10.0.0.0/8"), out, 0, err,
						sizeof(err)), -EINVAL);
	assert_int_equal(schema_cidr_list_parse(lit("10.0.0.0/8 ::1"), out, 2,
						err, sizeof(err)), 2);
	/* A bad entry is reported as such even past the room. */
	assert_int_equal(schema_cidr_list_parse(lit("::1 ::2 ::3/200"), out, 2,
						err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "entry 3 '::3/200': prefix length must be "
				 "0-128");
}

static void
test_schema_refuse_action_parse_drop_and_403_only(void **state)
{
	(void)state;
	assert_int_equal(schema_refuse_action_parse(lit("drop")),
			 SCHEMA_REFUSE_DROP);
	assert_int_equal(schema_refuse_action_parse(lit("403")),
			 SCHEMA_REFUSE_403);
	assert_int_equal(schema_refuse_action_parse(lit("")), -EINVAL);
	assert_int_equal(schema_refuse_action_parse(lit("reject")), -EINVAL);
	assert_int_equal(schema_refuse_action_parse(lit("Drop")), -EINVAL);
	assert_int_equal(schema_refuse_action_parse(lit("drop ")), -EINVAL);
	assert_int_equal(schema_refuse_action_parse(lit("dro")), -EINVAL);
	assert_int_equal(schema_refuse_action_parse(lit("4030")), -EINVAL);
	assert_int_equal(schema_refuse_action_parse(lit("404")), -EINVAL);
	/* Bounded by the span, not by a terminator. */
	assert_int_equal(schema_refuse_action_parse(span_make("dropped", 4)),
			 SCHEMA_REFUSE_DROP);
}

static void
test_schema_policy_settings_defined_and_checked(void **state)
{
	static const char *const lists[] = { "acl.allow", "acl.deny" };
	static const char *const actions[] = { "acl.action",
					       "ratelimit.action" };
	static const char *const rates[] = { "ratelimit.rps",
					     "ratelimit.burst" };
	const struct schema_setting_def *d;
	char err[160];
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		d = schema_setting_find(lit(lists[i]));
		assert_non_null(d);
		assert_string_equal(d->name, lists[i]);
		assert_int_equal(d->type, SCHEMA_SETTING_STR);
		assert_non_null(d->help);
		assert_non_null(d->check);
		assert_int_equal(d->check(lit(""), err, sizeof(err)), 0);
		assert_int_equal(d->check(lit("10.0.0.0/8, 2001:db8::/32"),
					  err, sizeof(err)), 0);
		assert_int_equal(d->check(lit("10.0.0.0/8, 192.0.2.300"), err,
					  sizeof(err)), -EINVAL);
		assert_string_equal(err, "entry 2 '192.0.2.300': not an IPv4 "
					 "or IPv6 address");
		assert_int_equal(d->check(lit("drop"), err, sizeof(err)),
				 -EINVAL);
	}
	for (i = 0; i < 2; i++) {
		d = schema_setting_find(lit(actions[i]));
		assert_non_null(d);
		assert_string_equal(d->name, actions[i]);
		assert_int_equal(d->type, SCHEMA_SETTING_STR);
		assert_non_null(d->help);
		assert_non_null(d->check);
		assert_int_equal(d->check(lit("drop"), err, sizeof(err)), 0);
		assert_int_equal(d->check(lit("403"), err, sizeof(err)), 0);
		assert_int_equal(d->check(lit("reject"), err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, "'reject': must be drop or 403");
		assert_int_equal(d->check(lit(""), err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "'': must be drop or 403");
		assert_int_equal(d->check(lit("10.0.0.0/8"), err, sizeof(err)),
				 -EINVAL);
	}
	for (i = 0; i < 2; i++) {
		d = schema_setting_find(lit(rates[i]));
		assert_non_null(d);
		assert_string_equal(d->name, rates[i]);
		assert_int_equal(d->type, SCHEMA_SETTING_U64);
		assert_non_null(d->help);
		assert_null(d->check);
		assert_int_equal(d->def, 0);
		assert_int_equal(d->min, 0);
		assert_int_equal(d->max, 10000000);
	}
	d = schema_setting_find(lit("ratelimit.ipv6_prefix"));
	assert_non_null(d);
	assert_int_equal(d->type, SCHEMA_SETTING_U64);
	assert_int_equal(d->def, 64);
	assert_int_equal(d->min, 1);
	assert_int_equal(d->max, 128);
	/* The secret: 16 bytes at least; no rules.default_rank (it had no
	 * effect). */
	d = schema_setting_find(lit("dataplane.secret"));
	assert_non_null(d);
	assert_non_null(d->check);
	assert_int_equal(d->check(lit("00112233445566778899aabbccddeeff"),
				  err, sizeof(err)), 0);
	assert_int_equal(d->check(lit("sixteen bytes ok"), err, sizeof(err)),
			 0);
	assert_int_equal(d->check(lit(""), err, sizeof(err)), -EINVAL);
	assert_int_equal(d->check(lit("x"), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too easy to guess"));
	assert_null(schema_setting_find(lit("rules.default_rank")));
	assert_null(schema_setting_find(lit("acl")));
	assert_null(schema_setting_find(lit("acl.allowx")));
	assert_null(schema_setting_find(lit("ratelimit.rp")));
}


/* targets.down: ADDR:PORT entries as route CSVs write targets. */
static void
test_schema_down_list_parsed_and_checked(void **state)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "198.19.0.3", "entry 1 '198.19.0.3': no ':PORT' after the "
				"address" },
		{ "198.19.0.3:5060 gw.example.net:5060",
		  "entry 2 'gw.example.net:5060': not an IP address (host "
		  "names are not targets)" },
		{ "198.19.0.3:0", "entry 1 '198.19.0.3:0': port must be "
				  "1-65535" },
		{ "198.19.0.3:65536", "entry 1 '198.19.0.3:65536': port must "
				      "be 1-65535" },
		{ "198.19.0.3:", "entry 1 '198.19.0.3:': port must be "
				 "1-65535" },
		{ "198.19.0.3:50x", "entry 1 '198.19.0.3:50x': port must be "
				    "1-65535" },
		{ "2001:db8::1:5060", "entry 1 '2001:db8::1:5060': an IPv6 "
				      "address goes in brackets: [ADDR]:PORT" },
		{ "[2001:db8::1]", "entry 1 '[2001:db8::1]': no ':PORT' after "
				   "the address" },
		{ "[2001:db8::1:5060", "entry 1 '[2001:db8::1:5060': no ']' "
				       "after the IPv6 address" },
		{ "[198.19.0.3]:5060", "entry 1 '[198.19.0.3]:5060': not an "
				       "IP address (host names are not "
				       "targets)" },
	};
	const struct schema_setting_def *d;
	struct addr_port out[4];
	char err[160];
	unsigned int i;

	(void)state;
	assert_int_equal(schema_down_list_parse(lit(" ,\t"), NULL, 0, err,
						sizeof(err)), 0);
	assert_int_equal(schema_down_list_parse(
		lit("198.19.0.3:5060,[2001:db8::1]:5070  198.19.0.4:1"), out, 4,
		err, sizeof(err)), 3);
	assert_int_equal(out[0].af, 4);
	assert_int_equal(out[0].port, 5060);
	assert_memory_equal(out[0].addr, ((const uint8_t[]){ 198, 19, 0, 3 }),
			    4);
	assert_int_equal(out[1].af, 6);
	assert_int_equal(out[1].port, 5070);
	assert_memory_equal(out[1].addr, v6, 16);
	assert_int_equal(out[2].port, 1);
	assert_int_equal(schema_down_list_parse(
		lit("198.19.0.3:5060 198.19.0.4:5060"), out, 1, err,
		sizeof(err)), -EINVAL);
	assert_string_equal(err, "entry 2 '198.19.0.4:5060': too many "
				 "entries for the output");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(schema_down_list_parse(lit(bad[i].text), NULL,
							0, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, bad[i].err);
	}
	d = schema_setting_find(lit("targets.down"));
	assert_non_null(d);
	assert_int_equal(d->type, SCHEMA_SETTING_STR);
	assert_non_null(d->help);
	assert_non_null(d->check);
	assert_int_equal(d->check(lit(""), err, sizeof(err)), 0);
	assert_int_equal(d->check(lit("[::1]:5060"), err, sizeof(err)), 0);
	assert_int_equal(d->check(lit("10.0.0.0/8"), err, sizeof(err)),
			 -EINVAL);
}

static int
names_count(void *arg, const struct schema_name_rec *r)
{
	uint32_t *n = arg;

	if (*n == 0) {
		assert_int_equal(r->name.len, 14);
		assert_memory_equal(r->name.ptr, "gw.example.net", 14);
		assert_int_equal(r->naddr, 2);
		assert_int_equal(r->af[1], 6);
		assert_int_equal(r->addr[1][15], 7);
	}
	(*n)++;
	return 0;
}

/* meta["names"]: entries round trip; any damage is -EBADMSG before a
 * single entry is handed out. */
static void
test_schema_names_round_trip_and_damage(void **state)
{
	struct schema_name_rec r = { .naddr = 2, .af = { 4, 6 } };
	uint8_t buf[1024];
	size_t len, n, off = SCHEMA_NAMES_HDR_LEN;
	uint32_t count = 0;

	(void)state;
	r.name = SPAN_LIT("gw.example.net");
	r.addr[0][0] = 198;
	r.addr[1][15] = 7;
	assert_int_equal(schema_names_hdr_encode(2, buf, sizeof(buf)), 0);
	assert_int_equal(schema_name_rec_encode(&r, buf + off,
						sizeof(buf) - off, &n), 0);
	off += n;
	r.name = SPAN_LIT("b.example.net");
	r.naddr = 1;
	assert_int_equal(schema_name_rec_encode(&r, buf + off,
						sizeof(buf) - off, &n), 0);
	off += n;
	len = off;
	assert_int_equal(schema_names_decode(buf, len, names_count, &count), 0);
	assert_int_equal(count, 2);

	for (n = 0; n < len; n++) {
		count = 0;
		assert_int_not_equal(schema_names_decode(buf, n, names_count,
							 &count), 0);
		assert_int_equal(count, 0);
	}
	buf[len] = 0;
	assert_int_equal(schema_names_decode(buf, len + 1, NULL, NULL),
			 -EBADMSG);
	buf[SCHEMA_NAMES_HDR_LEN] = 254;                /* name too long */
	assert_int_equal(schema_names_decode(buf, len, NULL, NULL), -EBADMSG);
	buf[SCHEMA_NAMES_HDR_LEN] = 14;
	buf[SCHEMA_NAMES_HDR_LEN + 2 + 14] = 5;         /* family 5 */
	assert_int_equal(schema_names_decode(buf, len, NULL, NULL), -EBADMSG);
	buf[0] = 2;
	assert_int_equal(schema_names_decode(buf, len, NULL, NULL),
			 -EPROTONOSUPPORT);
	r.naddr = 0;
	assert_int_equal(schema_name_rec_encode(&r, buf, sizeof(buf), &n),
			 -EINVAL);
	r.naddr = 1;
	r.af[0] = 0;
	assert_int_equal(schema_name_rec_encode(&r, buf, sizeof(buf), &n),
			 -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_names_round_trip_and_damage),
		cmocka_unit_test(test_schema_meta_round_trip),
		cmocka_unit_test(test_schema_unknown_version_rejected),
		cmocka_unit_test(test_schema_rule_round_trip),
		cmocka_unit_test(test_schema_rule_invalid_rejected),
		cmocka_unit_test(test_schema_art_key_sorts_numerically),
		cmocka_unit_test(test_schema_art_checksum_detects_corruption),
		cmocka_unit_test(test_schema_crc32c_known_values),
		cmocka_unit_test(test_schema_summary_geninfo_target_round_trip),
		cmocka_unit_test(test_schema_reg_round_trip),
		cmocka_unit_test(test_schema_setting_round_trip),
		cmocka_unit_test(test_schema_names_parse),
		cmocka_unit_test(
			test_schema_cidr_list_empty_and_blank_are_zero),
		cmocka_unit_test(test_schema_cidr_list_mixed_separators_parsed),
		cmocka_unit_test(
			test_schema_cidr_list_mapped_entries_become_ipv4),
		cmocka_unit_test(
			test_schema_cidr_list_errors_name_entry_and_reason),
		cmocka_unit_test(test_schema_cidr_list_error_buffer_is_bounded),
		cmocka_unit_test(
			test_schema_cidr_list_4096_accepted_4097_rejected),
		cmocka_unit_test(
			test_schema_cidr_list_output_too_small_rejected),
		cmocka_unit_test(
			test_schema_refuse_action_parse_drop_and_403_only),
		cmocka_unit_test(
			test_schema_policy_settings_defined_and_checked),
		cmocka_unit_test(test_schema_down_list_parsed_and_checked),
	};

	return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
