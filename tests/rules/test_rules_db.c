/* SPDX-License-Identifier: MIT */
/*
 * test_rules_db.c - image validation and loading, CRC32C.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include <rules.h>

#include "rules_test_util.h"

uint32_t rules_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t rules_crc32c_portable(uint32_t crc, const void *buf, size_t len);

static const char table[] = RT_HDR
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|198.19.0.6:5060/2,,0,,\n"
	"uk,prefix,+44,redirect,198.19.0.4:5060,,1,0044,\n"
	"premium,regex,^1900[0-9]{7}$,reject,,10,,,403\n"
	"corp,domain,*.example.com,forward,198.19.0.7:5060,,,,\n"
	"fallback,default,,forward,198.19.0.9:5060,,,,\n";

static void *
compile_table(size_t *len)
{
	struct rules_set *set = rt_set(table);
	void *img;

	assert_int_equal(rules_compile(set, &img, len, NULL), 0);
	rules_set_free(set);
	return img;
}

static void
test_rules_db_crc32c_known_value(void **state)
{
	unsigned char buf[1000];
	size_t i;

	(void)state;
	/* The CRC32C check value (RFC 3720 appendix B.4 family). */
	assert_int_equal(rules_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(rules_crc32c_portable(0, "123456789", 9), 0xe3069283);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (i = 0; i < sizeof(buf); i += 37) {
		assert_int_equal(rules_crc32c(0, buf, i),
				 rules_crc32c_portable(0, buf, i));
		/* Incremental equals one shot. */
		assert_int_equal(rules_crc32c(rules_crc32c(0, buf, i / 2),
					      buf + i / 2, i - i / 2),
				 rules_crc32c(0, buf, i));
	}
}

static void
test_rules_db_image_validates_and_loads(void **state)
{
	struct rules_db *db;
	size_t len;
	void *img = compile_table(&len);

	(void)state;
	assert_int_equal(len % 64, 0);
	assert_int_equal(rules_image_validate(img, len), 0);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	assert_int_equal(rules_db_rule_count(db), 5);
	assert_int_equal(rules_db_target_count(db), 6);
	assert_true(rules_db_has_regex(db));
	assert_int_not_equal(rules_db_checksum(db), 0);
	/* Rule numbers are the precedence order: premium has rank 10. */
	assert_int_equal(rules_db_find(db, SPAN_LIT("premium")), 0);
	assert_int_equal(rules_db_find(db, SPAN_LIT("fallback")), 4);
	assert_int_equal(rules_db_find(db, SPAN_LIT("nope")), RULES_NO_RULE);
	/* The loader copied the bytes: the caller may free them at once. */
	memset(img, 0, len);
	free(img);
	assert_int_equal(rules_db_find(db, SPAN_LIT("uk")), 2);
	rules_db_free(db);
	rules_db_free(NULL);
}

/* In place from a read-only mapping: no copy, same answers. */
static void
test_rules_db_inplace_from_readonly_mapping(void **state)
{
	struct rules_db *db;
	struct rules_key key;
	uint32_t rule;
	size_t len;
	void *img = compile_table(&len), *ro;

	(void)state;
	ro = mmap(NULL, len, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ro != MAP_FAILED);
	memcpy(ro, img, len);
	assert_int_equal(mprotect(ro, len, PROT_READ), 0);
	assert_int_equal(rules_db_load_inplace((char *)ro + 1, len, &db),
			 -EINVAL);
	assert_int_equal(rules_db_load_inplace(ro, len, &db), 0);
	assert_int_equal(rules_key_make(SPAN_LIT("12125550100"), SPAN_NULL,
					&key), 0);
	assert_int_equal(rules_match(db, NULL, &key, &rule), -EIO);
	{
		struct rules_scratch *scr;

		assert_int_equal(rules_scratch_new(db, &scr), 0);
		assert_int_equal(rules_match(db, scr, &key, &rule), 0);
		assert_int_equal(rule, rules_db_find(db, SPAN_LIT("nyc")));
		rules_scratch_free(scr);
	}
	rules_db_free(db);
	munmap(ro, len);
	free(img);
}

static void
test_rules_db_same_set_same_image(void **state)
{
	size_t l1, l2;
	void *a = compile_table(&l1), *b = compile_table(&l2);

	(void)state;
	assert_int_equal(l1, l2);
	/* The Hyperscan blob is deterministic for one build of it. */
	assert_memory_equal(a, b, l1);
	free(a);
	free(b);
}

static void
test_rules_db_corruption_rejected(void **state)
{
	struct rules_db *db = NULL;
	unsigned char *img;
	size_t len, i;

	(void)state;
	img = compile_table(&len);
	assert_int_equal(rules_image_validate(img, len - 1), -EBADMSG);
	assert_int_equal(rules_image_validate(img, 10), -EBADMSG);
	assert_int_equal(rules_image_validate(img, 0), -EBADMSG);
	/* Any single flipped bit anywhere is caught. */
	for (i = 0; i < len; i += 1 + i / 64) {
		img[i] ^= 0x10;
		assert_int_equal(rules_image_validate(img, len), -EBADMSG);
		assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
		img[i] ^= 0x10;
	}
	assert_int_equal(rules_image_validate(img, len), 0);
	/* Another version (here an older one) is refused. */
	img[8] = 1;
	assert_int_equal(rules_image_validate(img, len), -EBADMSG);
	free(img);
}

/* Header offsets from rules/README.md "Image format". */
#define IMG_CRC         24
#define IMG_NNODES      40
#define IMG_DIR_DIGITS  80
#define IMG_SEC_DIR     (96 + 7 * 16)

static uint32_t
img_u32(const unsigned char *img, size_t off)
{
	uint32_t v;

	memcpy(&v, img + off, sizeof(v));
	return v;
}

/* Store @p v at @p off and make the checksum right again. */
static void
img_put_u32(unsigned char *img, size_t len, size_t off, uint32_t v)
{
	uint32_t zero = 0, crc;

	memcpy(img + off, &v, sizeof(v));
	memcpy(img + IMG_CRC, &zero, sizeof(zero));
	crc = rules_crc32c_portable(0, img, len);
	memcpy(img + IMG_CRC, &crc, sizeof(crc));
}

/*
 * A trie directory entry that names a node outside the trie, or a key
 * position past the digits it is looked up by, is refused even when the
 * checksum is right (a worker would follow it).
 */
static void
test_rules_db_trie_directory_checked(void **state)
{
	struct rules_set *set;
	struct rules_db *db = NULL;
	unsigned char *img;
	uint64_t dir_off;
	uint32_t nnodes, digits, good;
	char csv[16384];
	size_t len, n;
	uint32_t i;
	void *v;

	(void)state;
	n = (size_t)snprintf(csv, sizeof(csv), "%s", RT_HDR);
	for (i = 0; i < 300; i++)
		n += (size_t)snprintf(csv + n, sizeof(csv) - n,
				      "p%u,prefix,%u,forward,192.0.2.1:5060,,,,\n",
				      i, 1000 + i * 7);
	set = rt_set(csv);
	assert_int_equal(rules_compile(set, &v, &len, NULL), 0);
	rules_set_free(set);
	img = v;
	nnodes = img_u32(img, IMG_NNODES);
	digits = img_u32(img, IMG_DIR_DIGITS);
	memcpy(&dir_off, img + IMG_SEC_DIR, sizeof(dir_off));
	assert_true(digits >= 2);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	rules_db_free(db);

	good = img_u32(img, dir_off + 4 * 37);
	img_put_u32(img, len, dir_off + 4 * 37, nnodes << 4);
	assert_int_equal(rules_image_validate(img, len), 0);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, dir_off + 4 * 37, (good & ~15u) | (digits + 1));
	assert_int_equal(rules_image_validate(img, len), 0);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, dir_off + 4 * 37, good);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	rules_db_free(db);
	/* A digit count the section length does not agree with. */
	img_put_u32(img, len, IMG_DIR_DIGITS, digits + 1);
	assert_int_equal(rules_image_validate(img, len), -EBADMSG);
	free(img);
}

#define IMG_NRULES      32
#define IMG_MIN_REGEX   52
#define IMG_MIN_DOMAIN  56
#define IMG_SEC_TRIE    (96 + 4 * 16)
#define IMG_SEC_RULES   96

/* Compile @p csv; the image, its length in *len. */
static unsigned char *
compile_csv(const char *csv, size_t *len)
{
	struct rules_set *set = rt_set(csv);
	void *v;

	assert_int_equal(rules_compile(set, &v, len, NULL), 0);
	rules_set_free(set);
	return v;
}

/*
 * Damage with a right checksum that a worker would otherwise follow out
 * of the image: a trie node claiming more children than there are nodes
 * (the bound must not wrap), a first domain rule without a domain table,
 * a first regex rule without a regex database, and the opposite.
 */
static void
test_rules_db_counts_and_firsts_checked(void **state)
{
	struct rules_db *db = NULL;
	struct rules_scratch *scr = NULL;
	struct rules_explain ex;
	struct rules_key key;
	unsigned char *img;
	uint64_t trie_off, rules_off;
	uint32_t rule, kw;
	size_t len;

	(void)state;
	/* Two trie nodes: the root and the one for "1". */
	img = compile_csv(RT_HDR "p,prefix,1,forward,192.0.2.1:5060,,,,\n"
			  "z,default,,forward,192.0.2.2:5060,,,,\n", &len);
	assert_int_equal(img_u32(img, IMG_NNODES), 2);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	rules_db_free(db);
	memcpy(&trie_off, img + IMG_SEC_TRIE, sizeof(trie_off));
	/* root: children 0-9 and end (11), the first of them node 1 */
	img_put_u32(img, len, trie_off + 8, 0x7ff);
	assert_int_equal(rules_image_validate(img, len), 0);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	free(img);

	img = compile_csv(RT_HDR "p,prefix,1,forward,192.0.2.1:5060,,,,\n"
			  "z,default,,forward,192.0.2.2:5060,,,,\n", &len);
	img_put_u32(img, len, IMG_MIN_DOMAIN, 0);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, IMG_MIN_DOMAIN, UINT32_MAX);
	img_put_u32(img, len, IMG_MIN_REGEX, 1);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, IMG_MIN_REGEX, UINT32_MAX);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	rules_db_free(db);
	free(img);

	/* A regex database, no first regex rule; and one whose first
	 * regex rule is not a regex. */
	img = compile_csv(RT_HDR "d,default,,forward,192.0.2.2:5060,5,,,\n"
			  "r,regex,[0-9]+,forward,192.0.2.1:5060,,,,\n", &len);
	assert_int_equal(img_u32(img, IMG_MIN_REGEX), 1);
	img_put_u32(img, len, IMG_MIN_REGEX, UINT32_MAX);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, IMG_MIN_REGEX, 0);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	free(img);

	/* Hyperscan reports a rule that the record says is no regex: the
	 * match is refused, not followed; explain leaves it out. */
	img = compile_csv(RT_HDR "r1,regex,[0-9]+,forward,192.0.2.1:5060,1,,,\n"
			  "r2,regex,5.*,forward,192.0.2.2:5060,2,,,\n", &len);
	memcpy(&rules_off, img + IMG_SEC_RULES, sizeof(rules_off));
	kw = img_u32(img, rules_off + 16 + 12);
	assert_int_equal(kw & 0xff, RULES_KIND_REGEX);
	img_put_u32(img, len, rules_off + 16 + 12,
		    (kw & ~0xffu) | RULES_KIND_EXACT);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	assert_int_equal(rules_scratch_new(db, &scr), 0);
	assert_int_equal(rules_key_make(SPAN_LIT("55"), SPAN_NULL, &key), 0);
	assert_int_equal(rules_match(db, scr, &key, &rule), 0);
	assert_int_equal(rule, 0);
	assert_int_equal(rules_key_make(SPAN_LIT("5a"), SPAN_NULL, &key), 0);
	assert_int_equal(rules_match(db, scr, &key, &rule), -EIO);
	assert_int_equal(rules_explain(db, scr, &key, 0, NULL, &ex), 0);
	assert_int_equal(ex.nmatch, 0);
	rules_scratch_free(scr);
	rules_db_free(db);
	free(img);
}

#define IMG_SEC_TARGETS (96 + 16)

/*
 * Damage with a right checksum that would lead a worker astray without
 * leaving the image: a reject rule answering 200 (or 3xx), a code on a
 * forward rule, a target of no address family or without a port. An
 * import admits none of them.
 */
static void
test_rules_db_meaning_checked(void **state)
{
	struct rules_db *db = NULL;
	unsigned char *img;
	uint64_t rules_off, tgt_off;
	uint32_t w, i, rej = 2, fwd = 2;
	size_t len;

	(void)state;
	img = compile_csv(RT_HDR "x,prefix,1,reject,,,,,403\n"
			  "f,prefix,2,forward,192.0.2.1:5060,,,,\n", &len);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	rules_db_free(db);
	memcpy(&rules_off, img + IMG_SEC_RULES, sizeof(rules_off));
	memcpy(&tgt_off, img + IMG_SEC_TARGETS, sizeof(tgt_off));
	for (i = 0; i < 2; i++) {
		if (img[rules_off + 16 * i + 13] == RULES_ACTION_REJECT)
			rej = i;
		else
			fwd = i;
	}
	assert_true(rej < 2 && fwd < 2);
	/* rank and code share a word: code in the high half */
	w = img_u32(img, rules_off + 16 * rej + 8);
	assert_int_equal(w >> 16, 403);
	img_put_u32(img, len, rules_off + 16 * rej + 8, (w & 0xffff) | 200u << 16);
	assert_int_equal(rules_image_validate(img, len), 0);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, rules_off + 16 * rej + 8, (w & 0xffff) | 302u << 16);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, rules_off + 16 * rej + 8, w);
	w = img_u32(img, rules_off + 16 * fwd + 8);
	img_put_u32(img, len, rules_off + 16 * fwd + 8, (w & 0xffff) | 403u << 16);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, rules_off + 16 * fwd + 8, w);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	rules_db_free(db);

	/* the target: af in the low byte, the port in the high half */
	w = img_u32(img, tgt_off);
	assert_int_equal(w & 0xff, RULES_AF_INET);
	assert_int_equal(w >> 16, 5060);
	img_put_u32(img, len, tgt_off, (w & ~0xffu) | 5);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, tgt_off, w & 0xffff);
	assert_int_equal(rules_db_load(img, len, &db), -EBADMSG);
	img_put_u32(img, len, tgt_off, w);
	assert_int_equal(rules_db_load(img, len, &db), 0);
	rules_db_free(db);
	free(img);
}

static void
test_rules_db_scratch_optional_without_regex(void **state)
{
	struct rules_key key;
	struct rt_db t;
	uint32_t rule;

	(void)state;
	t = rt_db(RT_HDR "a,prefix,1,forward,192.0.2.1:5060,,,,\n");
	assert_false(rules_db_has_regex(t.db));
	assert_int_equal(rules_key_make(SPAN_LIT("12"), SPAN_NULL, &key), 0);
	assert_int_equal(rules_match(t.db, NULL, &key, &rule), 0);
	rt_free(&t);

	t = rt_db(RT_HDR "r,regex,1.*,forward,192.0.2.1:5060,,,,\n");
	assert_int_equal(rules_match(t.db, NULL, &key, &rule), -EIO);
	assert_int_equal(rules_match(t.db, t.scr, &key, &rule), 0);
	rt_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_db_crc32c_known_value),
		cmocka_unit_test(test_rules_db_meaning_checked),
		cmocka_unit_test(test_rules_db_image_validates_and_loads),
		cmocka_unit_test(test_rules_db_inplace_from_readonly_mapping),
		cmocka_unit_test(test_rules_db_same_set_same_image),
		cmocka_unit_test(test_rules_db_corruption_rejected),
		cmocka_unit_test(test_rules_db_scratch_optional_without_regex),
		cmocka_unit_test(test_rules_db_counts_and_firsts_checked),
		cmocka_unit_test(test_rules_db_trie_directory_checked),
	};

	return cmocka_run_group_tests_name("rules_db", tests, NULL, NULL);
}
