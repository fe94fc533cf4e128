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
#include "sip_uri_priv.h"

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

/* Select @impl: -ENOTSUP when the CPU lacks it, else its table is in use. */
static void
check_select(enum sip_scan_impl impl, const char *name)
{
	int rc = sip_scan_select(impl);

	if (sip_scan_ops_get(impl) == NULL) {
		assert_int_equal(rc, -ENOTSUP);
		return;
	}
	assert_int_equal(rc, 0);
	assert_ptr_equal(sip_scan_ops(), sip_scan_ops_get(impl));
	assert_string_equal(sip_scan_ops()->name, name);
	assert_int_equal(sip_scan_ops()->impl, impl);
}

static void
test_sip_scan_select_forces_scalar(void **state)
{
	const struct sip_scan_ops *auto_ops = sip_scan_ops_get(SIP_SCAN_AUTO);

	(void)state;
	assert_non_null(sip_scan_ops());
	assert_ptr_equal(sip_scan_ops(), auto_ops);

	check_select(SIP_SCAN_SCALAR, "scalar");
	check_select(SIP_SCAN_SSE42, "sse4.2");
	check_select(SIP_SCAN_AVX2, "avx2");
	/* AUTO takes the best table the CPU runs */
	if (sip_scan_ops_get(SIP_SCAN_AVX2) != NULL)
		assert_ptr_equal(auto_ops, sip_scan_ops_get(SIP_SCAN_AVX2));

	assert_int_equal(sip_scan_select(SIP_SCAN_AUTO), 0);
	assert_ptr_equal(sip_scan_ops(), auto_ops);
}

/* The nibble tables of the class scans hold exactly the sip_cc[] classes. */
static void
test_sip_scan_cset_tables_match_classes(void **state)
{
	unsigned int id, b;

	(void)state;
	for (id = 0; id < SIP_CSET__COUNT; id++) {
		const struct sip_cset *cs = &sip_cset[id];

		assert_int_not_equal(cs->cls, 0);
		for (b = 0; b < 256; b++) {
			bool vec = b < 0x80 && (cs->lo[b & 15] >> (b >> 4) & 1);
			bool ref = (sip_cc[b] & cs->cls) != 0;

			if (vec != ref) {
				print_error("set %u byte 0x%02x: %d != %d\n",
					    id, b, vec, ref);
				fail();
			}
		}
	}
}

/* Bytes for random class-scan and host inputs: members and near misses. */
static const char cc_alphabet[] = "aZz09-._!~*'()%+`&$,=;?/:[]@#\"<> \t\r\n"
	"\x00\x7f\x80\xff{}^|";

static uint32_t
lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 16;
}

/* Vector and scalar class scans agree at every start and end offset. */
static void
test_sip_scan_cspan_vector_matches_scalar(void **state)
{
	const struct sip_scan_ops *sc = sip_scan_ops_get(SIP_SCAN_SCALAR);
	const struct sip_scan_ops *vx = sip_scan_ops_get(SIP_SCAN_SSE42);
	char buf[96];
	uint32_t x = 7;
	unsigned int id, round, k, a, z;

	if (vx == NULL)
		skip();
	for (round = 0; round < 200; round++) {
		for (id = 0; id < SIP_CSET__COUNT; id++) {
			/* Mostly members, so runs cross block boundaries. */
			for (k = 0; k < sizeof(buf); k++) {
				buf[k] = lcg(&x) % 8 != 0 ?
					 "aZ09-.x"[lcg(&x) % 7] :
					 cc_alphabet[lcg(&x) % (sizeof(cc_alphabet) - 1)];
			}
			{
				const char *in = guard_buf_put(*state, buf,
							       sizeof(buf));

				for (a = 0; a < 40; a++) {
					for (z = a; z <= sizeof(buf); z += 1 + z % 5) {
						const char *p = in + a, *e = in + z;

						assert_ptr_equal(
							vx->cspan(p, e, &sip_cset[id]),
							sc->cspan(p, e, &sip_cset[id]));
					}
				}
			}
		}
	}
}

static void
check_host(struct guard_buf *gb, const struct sip_scan_ops *sc,
	   const struct sip_scan_ops *vx, const char *s, size_t n)
{
	const char *in = guard_buf_put(gb, s, n);
	const char *e1 = NULL, *e2 = NULL;
	int t1, t2;

	t1 = sc->host(in, in + n, &e1);
	t2 = vx->host(in, in + n, &e2);
	if (t1 != t2 || (t1 >= 0 && e1 != e2) || e1 != e2) {
		print_error("host \"%.*s\": scalar %d/%td vector %d/%td\n",
			    (int)n, s, t1, e1 - in, t2, e2 - in);
		fail();
	}
}

/* The one-pass vector host check gives the scalar verdict and end. */
static void
test_sip_scan_host_vector_matches_scalar(void **state)
{
	static const char *const hosts[] = {
		"example.com", "example.com.", "a", "a.", ".", "..", "a..b",
		"-a.com", "a-.com", "a.-b", "a-b.c-d", "1.2.3.4", "1.2.3.4.",
		"255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4",
		"1.2.3.a", "a.1", "x1.y2", "192.0.2.300", "[::1]", "[::1",
		"[2001:db8::9:1]:5060", "host:5060;lr", "h;x", "h?x", "h@x",
		"edge.carrier.example;user=phone",
		"very-long-label-very-long-label-very-long-label.example.com",
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f",
		"", "-", "0", "0.", "a-", "1a.b2", "A.B.C",
	};
	const struct sip_scan_ops *sc = sip_scan_ops_get(SIP_SCAN_SCALAR);
	const struct sip_scan_ops *vx = sip_scan_ops_get(SIP_SCAN_SSE42);
	static const char mut[] = "a9.-:;[]_@Z0 .-";
	char buf[96];
	uint32_t x = 3;
	unsigned int i, r, k;
	size_t n;

	if (vx == NULL)
		skip();
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		n = strlen(hosts[i]);
		check_host(*state, sc, vx, hosts[i], n);
		for (r = 0; r < 300; r++) {
			memcpy(buf, hosts[i], n);
			for (k = 0; k < 1 + r % 3 && n != 0; k++)
				buf[lcg(&x) % n] = mut[lcg(&x) % (sizeof(mut) - 1)];
			check_host(*state, sc, vx, buf, n);
			/* and every prefix of the mutant */
			check_host(*state, sc, vx, buf, r % (n + 1));
		}
	}
	/* Random strings of host-like bytes, lengths 0..90. */
	for (r = 0; r < 20000; r++) {
		n = r % 91;
		for (k = 0; k < n; k++)
			buf[k] = lcg(&x) % 6 != 0 ? "ab9.-"[lcg(&x) % 5] :
						    mut[lcg(&x) % (sizeof(mut) - 1)];
		check_host(*state, sc, vx, buf, n);
	}
}

/*
 * A host that ends, with the input, past the four blocks the vector check
 * loads (64 - off bytes from p, p at offset off in its block): the bytes
 * it did not see must not pass for members without '.' or '-'. The
 * guard page ends every input on a block boundary, which never leaves
 * such a tail: here the input ends inside a block.
 */
static void
test_sip_scan_host_past_four_blocks(void **state)
{
	static const char *const tails[] = { ".1", "^a.com", "..com", ".com" };
	static _Alignas(64) char buf[192];
	const struct sip_scan_ops *sc = sip_scan_ops_get(SIP_SCAN_SCALAR);
	const struct sip_scan_ops *vx = sip_scan_ops_get(SIP_SCAN_SSE42);
	const char *p, *e1, *e2;
	unsigned int i, off, n;
	size_t t;

	(void)state;
	if (vx == NULL)
		skip();
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		t = strlen(tails[i]);
		for (off = 0; off < 16; off++) {
			for (n = 40; n + t < 64; n++) {
				memset(buf, 'x', sizeof(buf));
				p = buf + off;
				memset(buf + off, 'q', n);
				memcpy(buf + off + n, tails[i], t);
				e1 = e2 = NULL;
				assert_int_equal(vx->host(p, p + n + t, &e2),
						 sc->host(p, p + n + t, &e1));
				assert_ptr_equal(e1, e2);
			}
		}
	}
}

/* The vector URI mask builder gives the scalar masks, at every offset. */
static void
test_sip_scan_umask_vector_matches_scalar(void **state)
{
	const struct sip_scan_ops *sc = sip_scan_ops_get(SIP_SCAN_SCALAR);
	const struct sip_scan_ops *vx = sip_scan_ops_get(SIP_SCAN_SSE42);
	char buf[80];
	uint32_t x = 9, n, a, k, round;

	if (vx == NULL)
		skip();
	for (round = 0; round < 300; round++) {
		for (k = 0; k < sizeof(buf); k++)
			buf[k] = cc_alphabet[lcg(&x) % (sizeof(cc_alphabet) - 1)];
		{
			const char *in = guard_buf_put(*state, buf, sizeof(buf));

			for (a = 0; a < 32; a++) {
				for (n = 0; n <= SIP_UMASK_MAX &&
				     a + n <= sizeof(buf); n++) {
					struct sip_umask ms, mv;

					sc->umask(in + a, n, &ms);
					vx->umask(in + a, n, &mv);
					assert_memory_equal(&ms, &mv, sizeof(ms));
				}
			}
			/* flush against the guard page */
			for (n = 0; n <= SIP_UMASK_MAX; n++) {
				struct sip_umask ms, mv;
				const char *p = in + sizeof(buf) - n;

				sc->umask(p, n, &ms);
				vx->umask(p, n, &mv);
				assert_memory_equal(&ms, &mv, sizeof(ms));
			}
		}
	}
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

/*
 * sip_trim() returns what span_trim() returns, for every string of up to
 * four bytes over an alphabet of LWS, other control bytes, SP's
 * neighbours and letters, flush against the guard page.
 */
static void
test_sip_scan_trim_matches_span_trim(void **state)
{
	static const char alpha[] = { ' ', '\t', '\r', '\n', '\0', '\x1f',
				      '!', 'a', (char)0x80 };
	struct guard_buf *gb = *state;
	char buf[4];
	uint32_t len, k, code, na = sizeof(alpha);
	struct span a, b, in;

	for (len = 0; len <= 4; len++) {
		uint32_t total = 1;

		for (k = 0; k < len; k++)
			total *= na;
		for (code = 0; code < total; code++) {
			uint32_t c = code;

			for (k = 0; k < len; k++) {
				buf[k] = alpha[c % na];
				c /= na;
			}
			in = span_make(guard_buf_put(gb, buf, len), len);
			a = sip_trim(in);
			b = span_trim(in);
			assert_ptr_equal(a.ptr, b.ptr);
			assert_int_equal(a.len, b.len);
		}
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
		cmocka_unit_test(test_sip_scan_cset_tables_match_classes),
		cmocka_unit_test(test_sip_scan_cspan_vector_matches_scalar),
		cmocka_unit_test(test_sip_scan_host_vector_matches_scalar),
		cmocka_unit_test(test_sip_scan_host_past_four_blocks),
		cmocka_unit_test(test_sip_scan_umask_vector_matches_scalar),
		cmocka_unit_test(test_sip_scan_parse_same_with_scalar),
		cmocka_unit_test(test_sip_scan_trim_matches_span_trim),
	};

	return cmocka_run_group_tests_name("sip_scan", tests,
					   setup_guard, teardown_guard);
}
