/* SPDX-License-Identifier: MIT */
/*
 * test_ctl_json.c - the JSON writer and parser and the frame codec of the
 * control protocol.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../control/ctl.h"

static void
test_ctl_json_writer_escapes_and_nests(void **state)
{
	struct ctl_buf b;
	struct ctl_jw w;

	(void)state;
	ctl_buf_init(&b);
	ctl_jw_init(&w, &b);
	ctl_jw_obj(&w, NULL);
	ctl_jw_str(&w, "s", "a\"b\\c\n\x01");
	ctl_jw_arr(&w, "a");
	ctl_jw_u64(&w, NULL, 1);
	ctl_jw_i64(&w, NULL, -2);
	ctl_jw_bool(&w, NULL, true);
	ctl_jw_null(&w, NULL);
	ctl_jw_obj(&w, NULL);
	ctl_jw_obj_end(&w);
	ctl_jw_arr_end(&w);
	ctl_jw_raw(&w, "r", "{\"x\":1}", 7);
	ctl_jw_obj_end(&w);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.p,
		"{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"a\":[1,-2,true,null,{}],\"r\":{\"x\":1}}");
	ctl_buf_fini(&b);
}

/* Replies are UTF-8: valid sequences pass, any other byte is U+FFFD. */
static void
test_ctl_json_writer_utf8_only(void **state)
{
	static const char in[] =
		"\xc3\xa9"            /* é */
		"\xe2\x82\xac"        /* € */
		"\xf0\x9f\x98\x80"    /* U+1F600 */
		"|\xc3"                /* cut: a lead byte, then '|' */
		"|\xff\xfe"            /* never UTF-8 */
		"|\xc0\xaf"            /* overlong '/' */
		"|\xed\xa0\x80"        /* a surrogate */
		"|\xe2\x82";           /* cut at the end */
	struct ctl_jval *v = NULL;
	struct ctl_buf b;
	struct ctl_jw w;

	(void)state;
	ctl_buf_init(&b);
	ctl_jw_init(&w, &b);
	ctl_jw_obj(&w, NULL);
	ctl_jw_strn(&w, "s", in, sizeof(in) - 1);
	ctl_jw_obj_end(&w);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.p,
		"{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
		"|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd"
		"|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"}");
	assert_int_equal(ctl_json_parse(b.p, b.len, &v), 0);
	ctl_json_free(v);
	ctl_buf_fini(&b);
}

static void
test_ctl_json_parse_round_trip(void **state)
{
	static const char in[] =
		" {\"cmd\":\"routes.import\",\"n\":-42,\"f\":1.5e3,\"t\":true,"
		"\"z\":null,\"u\":\"\\u00e9\\ud83d\\ude00\\/\",\"a\":[1,[2],{}]} ";
	struct ctl_jval *v;
	const struct ctl_jval *a;

	(void)state;
	assert_int_equal(ctl_json_parse(in, sizeof(in) - 1, &v), 0);
	assert_string_equal(ctl_json_str(v, "cmd", ""), "routes.import");
	assert_int_equal(ctl_json_int(v, "n", 0), -42);
	assert_int_equal(ctl_json_int(v, "f", 7), 7);   /* not an integer */
	assert_true(ctl_json_get(v, "f")->num == 1500.0);
	assert_true(ctl_json_bool(v, "t", false));
	assert_int_equal(ctl_json_get(v, "z")->type, CTL_JNULL);
	assert_string_equal(ctl_json_str(v, "u", ""), "\xc3\xa9\xf0\x9f\x98\x80/");
	a = ctl_json_get(v, "a");
	assert_int_equal(a->type, CTL_JARR);
	assert_int_equal(a->len, 3);
	assert_int_equal(a->child->next->child->i, 2);
	assert_null(ctl_json_get(v, "missing"));
	ctl_json_free(v);
}

static void
test_ctl_json_parse_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "tru",
		"\"\\x\"", "\"a\nb\"", "{} x", "\"\\ud800\"", "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]",
		"{\"a\":1}}",
		/* not UTF-8 (RFC 8259 §8.1): raw bytes, a lone low surrogate */
		"\"a\xff" "b\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
		"{\"\xe2\x82\":1}", "\"\\udc00\"",
		/* numbers as RFC 8259 §6 writes them, not as strtod() reads */
		"-0.", "1.", ".5", "+1", "01", "-", "1e", "1e+", "0x1", "--1",
	};
	struct ctl_jval *v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ctl_json_parse(bad[i], strlen(bad[i]), &v),
				 -EINVAL);
}

static void
test_ctl_frame_put_and_peek(void **state)
{
	struct ctl_buf b;
	const char *p;
	uint32_t len;
	size_t total;
	uint8_t type;

	(void)state;
	ctl_buf_init(&b);
	ctl_frame_put(&b, CTL_FRAME_REQUEST, "{}", 2);
	ctl_frame_put(&b, CTL_FRAME_END, NULL, 0);
	assert_int_equal(b.len, 5 + 2 + 5);
	assert_memory_equal(b.p, "Q\0\0\0\2{}", 7);
	assert_int_equal(ctl_frame_peek(&b, &type, &p, &len, &total), 1);
	assert_int_equal(type, 'Q');
	assert_int_equal(len, 2);
	assert_int_equal(total, 7);
	ctl_buf_consume(&b, total);
	assert_int_equal(ctl_frame_peek(&b, &type, &p, &len, &total), 1);
	assert_int_equal(type, 'E');
	assert_int_equal(len, 0);
	/* Incomplete header and payload: need more. */
	b.len = 3;
	assert_int_equal(ctl_frame_peek(&b, &type, &p, &len, &total), 0);
	ctl_buf_reset(&b);
	ctl_buf_add(&b, "D\0\0\0\5abc", 8);
	assert_int_equal(ctl_frame_peek(&b, &type, &p, &len, &total), 0);
	/* Unknown type, oversized length. */
	ctl_buf_reset(&b);
	ctl_buf_add(&b, "X\0\0\0\0", 5);
	assert_int_equal(ctl_frame_peek(&b, &type, &p, &len, &total), -EPROTO);
	ctl_buf_reset(&b);
	ctl_buf_add(&b, "D\0\x40\0\1", 5);
	assert_int_equal(ctl_frame_peek(&b, &type, &p, &len, &total),
			 -EMSGSIZE);
	ctl_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_json_writer_escapes_and_nests),
		cmocka_unit_test(test_ctl_json_writer_utf8_only),
		cmocka_unit_test(test_ctl_json_parse_round_trip),
		cmocka_unit_test(test_ctl_json_parse_rejects_malformed),
		cmocka_unit_test(test_ctl_frame_put_and_peek),
	};

	return cmocka_run_group_tests_name("ctl_json", tests, NULL, NULL);
}
