/* SPDX-License-Identifier: MIT */
/*
 * test_sip_scan.c - the delimiter scans, vector and scalar, against a
 * naive reference. Inputs sit flush against a PROT_NONE page, so a vector
 * load past the end faults; lengths cover 0..160 so every tail case of the
 * 16-byte blocks is hit, with matches at every position and NUL bytes in
 * the data (which PCMPISTRI would mistake for an end).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <sip.h>
#include <sip_scan.h>

#include "guard_buf.h"

#define MAX_LEN         160

enum which { LF, VALUE, QUOTED, TOKEN };

static const char *const sets[] = {
	[LF] = "\n",
	[VALUE] = ",\"<",
	[QUOTED] = "\"\\",
	/* TOKEN looks for the first byte outside this set (RFC 3261 §25.1) */
	[TOKEN] = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789-.!%*_+`'~"),
};

static sip_scan_fn *
scan_fn(const struct sip_scan_ops *ops, enum which w)
{
	switch (w) {
	case LF:
		return ops->lf;
	case VALUE:
		return ops->value;
	case QUOTED:
		return ops->quoted;
	default:
		return ops->token;
	}
}

static const char *
reference(const char *p, const char *end, const char *set, int outside)
{
	for (; p < end; p++) {
		if ((memchr(set, *p, strlen(set)) != NULL) != outside)
			return p;
	}
	return end;
}

/* Filler bytes that are in no set: NUL, CR, near misses, high bytes. */
static const char filler[] = { 0, '\r', ' ', '\t', ';', '>', ':', '@',
	(char)0xff, (char)0x8a, '/', '\x0b', ',', '[', '\x7f', '&' };

/* Filler for TOKEN: token bytes, including each range edge and '~'. */
static const char tok_filler[] = { 'a', 'z', 'A', 'Z', '0', '9', '-', '.',
	'!', '%', '*', '_', '+', '`', '\'', '~' };

/* Bytes that end a token, including the neighbours of every range. */
static const char tok_stop[] = { ' ', ':', '\0', '/', '@', '[', '{', '^',
	'"', '#', '&', ',', '(', '\x7f', (char)0xc3, '\t', '\r', '\n', '<',
	'$', '}' };

static void
check_impl(struct guard_buf *gb, const struct sip_scan_ops *ops)
{
	char buf[MAX_LEN];
	uint32_t x = 1;
	unsigned int w, len, pos, k;

	for (w = LF; w <= TOKEN; w++) {
		sip_scan_fn *fn = scan_fn(ops, w);
		const char *set = sets[w];
		int tok = w == TOKEN;

		for (len = 0; len <= MAX_LEN; len++) {
			/* pos == len: no match at all */
			for (pos = 0; pos <= len; pos++) {
				const char *in, *got;

				for (k = 0; k < len; k++) {
					x = x * 1103515245u + 12345u;
					buf[k] = tok ?
						tok_filler[(x >> 16) % sizeof(tok_filler)] :
						filler[(x >> 16) % sizeof(filler)];
				}
				if (pos < len) {
					buf[pos] = tok ?
						tok_stop[pos % sizeof(tok_stop)] :
						set[pos % strlen(set)];
					/* a later match must not win */
					if (pos + 3 < len)
						buf[len - 1] = tok ? ' ' : set[0];
				}
				in = guard_buf_put(gb, buf, len);
				got = fn(in, in + len);
				if (got != reference(in, in + len, set, tok)) {
					print_error("%s set %u len %u pos %u: %td\n",
						    ops->name, w, len, pos,
						    got - in);
					fail();
				}
			}
		}
	}
}

static void
test_sip_scan_scalar_matches_reference(void **state)
{
	const struct sip_scan_ops *ops = sip_scan_ops_get(SIP_SCAN_SCALAR);

	assert_non_null(ops);
	assert_string_equal(ops->name, "scalar");
	check_impl(*state, ops);
}

static void
test_sip_scan_vector_matches_reference(void **state)
{
	const struct sip_scan_ops *ops = sip_scan_ops_get(SIP_SCAN_SSE42);

	if (ops == NULL) {
		print_message("no SSE4.2 on this CPU: vector scan not tested\n");
		skip();
	}
	assert_string_equal(ops->name, "sse4.2");
	check_impl(*state, ops);
}

/* A span starting inside the buffer (unaligned) and ending at the guard. */
static void
test_sip_scan_unaligned_starts(void **state)
{
	static const enum sip_scan_impl impls[] = {
		SIP_SCAN_SCALAR, SIP_SCAN_SSE42,
	};
	char buf[64];
	unsigned int i, off;

	memset(buf, 'x', sizeof(buf));
	buf[40] = '\n';
	buf[41] = ',';
	buf[42] = '\\';
	for (i = 0; i < 2; i++) {
		const struct sip_scan_ops *ops = sip_scan_ops_get(impls[i]);
		const char *in = guard_buf_put(*state, buf, sizeof(buf));
		const char *end = in + sizeof(buf);

		if (ops == NULL)
			continue;
		for (off = 0; off <= sizeof(buf); off++) {
			const char *p = in + off;

			assert_ptr_equal(ops->lf(p, end), off <= 40 ? in + 40 : end);
			assert_ptr_equal(ops->value(p, end), off <= 41 ? in + 41 : end);
			assert_ptr_equal(ops->quoted(p, end), off <= 42 ? in + 42 : end);
		}
	}
}

static void
test_sip_scan_select_forces_scalar(void **state)
{
	const struct sip_scan_ops *auto_ops = sip_scan_ops_get(SIP_SCAN_AUTO);
	int rc;

	(void)state;
	assert_non_null(sip_scan_ops());
	assert_ptr_equal(sip_scan_ops(), auto_ops);

	assert_int_equal(sip_scan_select(SIP_SCAN_SCALAR), 0);
	assert_ptr_equal(sip_scan_ops(), sip_scan_ops_get(SIP_SCAN_SCALAR));
	assert_string_equal(sip_scan_ops()->name, "scalar");

	rc = sip_scan_select(SIP_SCAN_SSE42);
	if (sip_scan_ops_get(SIP_SCAN_SSE42) == NULL) {
		assert_int_equal(rc, -ENOTSUP);
	} else {
		assert_int_equal(rc, 0);
		assert_string_equal(sip_scan_ops()->name, "sse4.2");
	}

	assert_int_equal(sip_scan_select(SIP_SCAN_AUTO), 0);
	assert_ptr_equal(sip_scan_ops(), auto_ops);
}

/* Both implementations frame a long message identically. */
static void
test_sip_scan_parse_same_with_scalar(void **state)
{
	static char buf[4096];
	static struct sip_msg a, b;
	const char *in;
	size_t n = 0;
	unsigned int i;

	n += (size_t)sprintf(buf + n, "INVITE sip:a@b SIP/2.0\r\n");
	for (i = 0; i < 30; i++)
		n += (size_t)sprintf(buf + n,
			"Via: SIP/2.0/UDP h%u;x=\"q,%.*s\",<%u,>\r\n",
			i, (int)(i % 23), "abcdefghijklmnopqrstuvw", i);
	n += (size_t)sprintf(buf + n, "Subject: folded\r\n \r\n\tline\r\n\r\n");
	in = guard_buf_put(*state, buf, n);

	assert_int_equal(sip_scan_select(SIP_SCAN_SCALAR), 0);
	assert_int_equal(sip_parse(&a, in, (uint32_t)n), SIP_PERR_OK);
	assert_int_equal(sip_scan_select(SIP_SCAN_AUTO), 0);
	assert_int_equal(sip_parse(&b, in, (uint32_t)n), SIP_PERR_OK);

	assert_int_equal(a.nhdr, 31);
	assert_int_equal(a.nvia, 60);
	assert_int_equal(a.nhdr, b.nhdr);
	assert_int_equal(a.nvia, b.nvia);
	assert_int_equal(a.body_off, b.body_off);
	for (i = 0; i < a.nhdr; i++) {
		assert_int_equal(a.hdr[i].off, b.hdr[i].off);
		assert_int_equal(a.hdr[i].line_len, b.hdr[i].line_len);
		assert_ptr_equal(a.hdr[i].value.ptr, b.hdr[i].value.ptr);
		assert_int_equal(a.hdr[i].value.len, b.hdr[i].value.len);
	}
}

static int
setup_guard(void **state)
{
	*state = guard_buf_new(8192);
	return *state != NULL ? 0 : -1;
}

static int
teardown_guard(void **state)
{
	guard_buf_free(*state);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sip_scan_scalar_matches_reference),
		cmocka_unit_test(test_sip_scan_vector_matches_reference),
		cmocka_unit_test(test_sip_scan_unaligned_starts),
		cmocka_unit_test(test_sip_scan_select_forces_scalar),
		cmocka_unit_test(test_sip_scan_parse_same_with_scalar),
	};

	return cmocka_run_group_tests_name("sip_scan", tests,
					   setup_guard, teardown_guard);
}
