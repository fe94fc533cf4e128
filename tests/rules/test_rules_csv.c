/* SPDX-License-Identifier: MIT */
/*
 * test_rules_csv.c - the incremental CSV reader and the CSV writer.
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

#include <rules.h>

#define HDR "id,kind,pattern,action,targets,rank,strip,prepend,code\n"

static const char design_example[] =
	HDR
	"nyc,prefix,1212,forward,198.19.0.3:5060/1/70|198.19.0.5:5060/1/30|198.19.0.6:5060/2,,0,,\n"
	"uk,prefix,+44,redirect,198.19.0.4:5060,,1,0044,\n"
	"premium,regex,^1900[0-9]{7}$,reject,,10,,,403\n"
	"corp,domain,*.example.com,forward,198.19.0.7:5060,,,,\n"
	"fallback,default,,forward,198.19.0.9:5060,,,,\n";

static struct rules_set *
parse_ok(const char *text)
{
	struct rules_errors *errs = calloc(1, sizeof(*errs));
	struct rules_set *set = NULL;
	int rc;

	assert_non_null(errs);
	rc = rules_csv_parse(text, strlen(text), &set, errs);
	if (rc != 0 && errs->n != 0)
		fprintf(stderr, "line %u field %s: %s\n", errs->e[0].line,
			rules_field_name(errs->e[0].field), errs->e[0].msg);
	assert_int_equal(rc, 0);
	assert_non_null(set);
	free(errs);
	return set;
}

/* Parse text expected to fail; returns the errors (caller frees). */
static struct rules_errors *
parse_bad(const char *text)
{
	struct rules_errors *errs = calloc(1, sizeof(*errs));
	struct rules_set *set = (void *)1;

	assert_non_null(errs);
	assert_int_equal(rules_csv_parse(text, strlen(text), &set, errs),
			 -EINVAL);
	assert_null(set);
	assert_true(errs->total > 0);
	return errs;
}

/* One bad row: exactly one error expected on @line in @field, message
 * containing @needle. */
static void
expect_one_error(const char *row, uint32_t line, unsigned int field,
		 const char *needle)
{
	char text[2048];
	struct rules_errors *errs;

	snprintf(text, sizeof(text), "%s%s\n", HDR, row);
	errs = parse_bad(text);
	if (errs->total != 1 || errs->e[0].line != line ||
	    errs->e[0].field != field || strstr(errs->e[0].msg, needle) == NULL)
		fprintf(stderr, "row '%s': %u errors; first line %u field %s: %s\n",
			row, (unsigned int)errs->total, errs->e[0].line,
			rules_field_name(errs->e[0].field), errs->e[0].msg);
	assert_int_equal(errs->total, 1);
	assert_int_equal(errs->e[0].line, line);
	assert_int_equal(errs->e[0].field, field);
	assert_non_null(strstr(errs->e[0].msg, needle));
	free(errs);
}

static void
test_rules_csv_design_example_parses(void **state)
{
	struct rules_set *set;
	uint32_t counts[RULES_KIND__COUNT];
	struct rules_rule r;

	(void)state;
	set = parse_ok(design_example);
	assert_int_equal(rules_set_count(set, counts), 5);
	assert_int_equal(counts[RULES_KIND_PREFIX], 2);
	assert_int_equal(counts[RULES_KIND_REGEX], 1);
	assert_int_equal(counts[RULES_KIND_DOMAIN], 1);
	assert_int_equal(counts[RULES_KIND_DEFAULT], 1);

	assert_int_equal(rules_set_find(set, SPAN_LIT("nyc"), &r), 0);
	assert_int_equal(r.kind, RULES_KIND_PREFIX);
	assert_int_equal(r.action, RULES_ACTION_FORWARD);
	assert_int_equal(r.ntargets, 3);
	assert_int_equal(r.rank, RULES_RANK_DEFAULT);
	assert_int_equal(r.line, 2);
	assert_int_equal(r.targets[0].af, RULES_AF_INET);
	assert_int_equal(r.targets[0].port, 5060);
	assert_int_equal(r.targets[0].priority, 1);
	assert_int_equal(r.targets[0].weight, 70);
	assert_int_equal(r.targets[2].priority, 2);
	assert_int_equal(r.targets[2].weight, RULES_WEIGHT_DEFAULT);
	assert_memory_equal(r.targets[1].addr, "\xc6\x13\x00\x05", 4);

	assert_int_equal(rules_set_find(set, SPAN_LIT("uk"), &r), 0);
	assert_int_equal(r.strip, 1);
	assert_true(span_eq(r.prepend, SPAN_LIT("0044")));
	assert_true(span_eq(r.pattern, SPAN_LIT("+44")));

	assert_int_equal(rules_set_find(set, SPAN_LIT("premium"), &r), 0);
	assert_int_equal(r.code, 403);
	assert_int_equal(r.rank, 10);
	assert_int_equal(rules_set_find(set, SPAN_LIT("nope"), &r), -ENOENT);
	rules_set_free(set);
}

static void
test_rules_csv_quoting_comments_blank_lines(void **state)
{
	struct rules_set *set;
	struct rules_rule r;

	(void)state;
	set = parse_ok("# leading comment\n"
		       "\n"
		       HDR
		       "   \n"
		       "# another, with \"quotes\"\n"
		       "\"a,b\",prefix,1,forward,192.0.2.1:5060,,,,\n"
		       "\"q\"\"x\" , regex , \"^(1|2)[0-9]{2,3}$\" ,reject,, 5 ,,,486\n"
		       "multi,regex,\"1\n2\",forward,\"[2001:db8::1]:5070/3/9\",,,,\n"
		       "last,default,,forward,192.0.2.1:5060,,,,");
	assert_int_equal(rules_set_count(set, NULL), 4);
	assert_int_equal(rules_set_find(set, SPAN_LIT("a,b"), &r), 0);
	assert_int_equal(r.line, 6);
	assert_int_equal(rules_set_find(set, SPAN_LIT("q\"x"), &r), 0);
	assert_true(span_eq(r.pattern, SPAN_LIT("^(1|2)[0-9]{2,3}$")));
	assert_int_equal(r.rank, 5);
	assert_int_equal(r.code, 486);
	assert_int_equal(rules_set_find(set, SPAN_LIT("multi"), &r), 0);
	assert_true(span_eq(r.pattern, SPAN_LIT("1\n2")));
	assert_int_equal(r.line, 8);
	assert_int_equal(r.targets[0].af, RULES_AF_INET6);
	assert_int_equal(r.targets[0].port, 5070);
	assert_int_equal(r.targets[0].priority, 3);
	assert_int_equal(r.targets[0].weight, 9);
	/* The quoted newline counts as a line. */
	assert_int_equal(rules_set_find(set, SPAN_LIT("last"), &r), 0);
	assert_int_equal(r.line, 10);
	rules_set_free(set);
}

static void
test_rules_csv_crlf_and_bom_accepted(void **state)
{
	struct rules_set *set;
	struct rules_rule r;

	(void)state;
	set = parse_ok("\xef\xbb\xbfid,kind,pattern,action,targets,rank,strip,prepend,code\r\n"
		       "# c\r\n"
		       "\r\n"
		       "a,prefix,1,forward,192.0.2.1:5060,,,,\r\n"
		       "b,prefix,2,forward,192.0.2.1:5060,,,,\r\n");
	assert_int_equal(rules_set_count(set, NULL), 2);
	assert_int_equal(rules_set_find(set, SPAN_LIT("b"), &r), 0);
	assert_int_equal(r.line, 5);
	assert_int_equal(r.code, 0);
	rules_set_free(set);

	/* Part of a byte order mark is an error, not silently eaten. */
	{
		struct rules_errors *errs = parse_bad(
			"\xef\xbbid,kind,pattern,action,targets,rank,strip,prepend,code\n"
			"a,prefix,1,forward,192.0.2.1:5060,,,,\n");

		assert_int_equal(errs->e[0].line, 1);
		assert_non_null(strstr(errs->e[0].msg, "2 of the 3 bytes"));
		free(errs);
	}
}

/*
 * Lone CRs (old Mac line ends) end lines everywhere: after a comment,
 * after a broken row, and inside quotes for the line numbers.
 */
static void
test_rules_csv_lone_cr_line_ends(void **state)
{
	struct rules_errors *errs;
	struct rules_set *set;
	struct rules_rule r;

	(void)state;
	set = parse_ok("id,kind,pattern,action,targets,rank,strip,prepend,code\r"
		       "# note\r"
		       "a1,exact,5551000,forward,198.19.0.1:5060,,,,\r"
		       "\r"
		       "a3,exact,5551002,forward,198.19.0.1:5060,,,,\r");
	assert_int_equal(rules_set_count(set, NULL), 2);
	assert_int_equal(rules_set_find(set, SPAN_LIT("a3"), &r), 0);
	assert_int_equal(r.line, 5);
	rules_set_free(set);

	/* After a broken row, the next row is read (and its error has its
	 * own line), also when the broken row's skipped rest holds a
	 * quoted line end. */
	errs = parse_bad("id,kind,pattern,action,targets,rank,strip,prepend,code\r"
			 "a1,exact,55\"51000,forward,198.19.0.1:5060,,,,\r"
			 "a2,exact,x,forward,198.19.0.1:5060,,,,\r"
			 "\"a3\"x,\"exact\r\",1,forward,198.19.0.1:5060,,,,\r"
			 "a4,exact,y,forward,198.19.0.1:5060,,,,\r"
			 "\"a\r5\",exact,1,forward,198.19.0.1:5060,,,,\r"
			 "a6,exact,z,forward,198.19.0.1:5060,,,,\r");
	assert_int_equal(errs->total, 6);
	assert_int_equal(errs->e[0].line, 2);
	assert_int_equal(errs->e[1].line, 3);
	assert_int_equal(errs->e[1].field, RULES_FIELD_PATTERN);
	assert_int_equal(errs->e[2].line, 4);
	assert_non_null(strstr(errs->e[2].msg, "after the closing quote"));
	assert_int_equal(errs->e[3].line, 6);
	assert_int_equal(errs->e[3].field, RULES_FIELD_PATTERN);
	assert_int_equal(errs->e[4].line, 7);
	assert_int_equal(errs->e[4].field, RULES_FIELD_ID);
	assert_int_equal(errs->e[5].line, 9);
	assert_int_equal(errs->e[5].field, RULES_FIELD_PATTERN);
	free(errs);
}

/* Any split of the input into chunks gives the same set. */
static void
test_rules_csv_chunked_feed_same_result(void **state)
{
	const char *text = design_example;
	size_t len = strlen(text), step;

	(void)state;
	for (step = 1; step <= 17; step++) {
		struct rules_csv *csv;
		struct rules_set *set;
		struct rules_rule r;
		size_t off;

		assert_int_equal(rules_csv_new(&csv), 0);
		for (off = 0; off < len; off += step)
			assert_int_equal(rules_csv_feed(csv, text + off,
					 len - off < step ? len - off : step), 0);
		assert_int_equal(rules_csv_finish(csv, &set), 0);
		assert_int_equal(rules_csv_rows(csv), 5);
		rules_csv_free(csv);
		assert_int_equal(rules_set_count(set, NULL), 5);
		assert_int_equal(rules_set_find(set, SPAN_LIT("nyc"), &r), 0);
		assert_int_equal(r.ntargets, 3);
		rules_set_free(set);
	}
}

static void
test_rules_csv_each_error_kind_reported(void **state)
{
	(void)state;
	expect_one_error("x,prefix,12a4,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_PATTERN, "bad digit 'a'");
	expect_one_error("x,prefix,+,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_PATTERN, "no digits");
	expect_one_error("x,regex,a(b,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_PATTERN, "Missing close parenthesis");
	expect_one_error("x,domain,exa mple.com,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_PATTERN, "bad character in domain");
	expect_one_error("x,default,123,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_PATTERN, "no pattern");
	expect_one_error("x,suffix,1,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_KIND, "unknown kind 'suffix'");
	expect_one_error("x,prefix,1,drop,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_ACTION, "unknown action 'drop'");
	expect_one_error("x,prefix,1,forward,192.0.2.1:70000,,,,", 2,
			 RULES_FIELD_TARGETS, "port out of range");
	expect_one_error("x,prefix,1,forward,192.0.2.1:0,,,,", 2,
			 RULES_FIELD_TARGETS, "port out of range");
	{
		/* A NUL in a target is no end of it (inet_pton() would stop
		 * there and take the address before it). */
		static const char nul[] = HDR
			"x,prefix,1,forward,192.0.2.1\0gw.example:5060,,,,\n";
		struct rules_errors *errs = calloc(1, sizeof(*errs));
		struct rules_set *set = NULL;

		assert_non_null(errs);
		assert_int_equal(rules_csv_parse(nul, sizeof(nul) - 1, &set,
						 errs), -EINVAL);
		assert_null(set);
		assert_int_equal(errs->total, 1);
		assert_int_equal(errs->e[0].field, RULES_FIELD_TARGETS);
		free(errs);
	}
	expect_one_error("x,domain,-bad-.example,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_PATTERN, "starting or ending with '-'");
	expect_one_error("x,domain,*.a-.example,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_PATTERN, "starting or ending with '-'");
	expect_one_error("x,domain,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example,forward,192.0.2.1:5060,,,,",
			 2, RULES_FIELD_PATTERN, "longer than 63");
	expect_one_error("x,prefix,1,forward,gw.example.net,,,,", 2,
			 RULES_FIELD_TARGETS, "a host name needs a port");
	expect_one_error("x,prefix,1,forward,gw..example.net:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "bad host name");
	expect_one_error("x,prefix,1,forward,-gw.example.net:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "bad host name");
	expect_one_error("x,prefix,1,forward,gw-.example.net:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "bad host name");
	expect_one_error("x,prefix,1,forward,gw.example.net.:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "bad host name");
	expect_one_error("x,prefix,1,forward,0xc6.0x12.0.0x3:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "bad host name");
	expect_one_error("x,prefix,1,forward,gw.example.net:0,,,,", 2,
			 RULES_FIELD_TARGETS, "port out of range");
	expect_one_error("x,prefix,1,forward,gw.example.net:50x,,,,", 2,
			 RULES_FIELD_TARGETS, "port out of range");
	expect_one_error("x,prefix,1,forward,GW.Example.net:5060|gw.example.net:5060/2,,,,",
			 2, RULES_FIELD_TARGETS, "repeats");
	{
		char row[400];

		memset(row, 0, sizeof(row));
		memcpy(row, "x,prefix,1,forward,", 19);
		memset(row + 19, 'a', 60);
		row[79] = '.';
		memset(row + 80, 'b', 64);      /* a 64-byte label */
		memcpy(row + 144, ".net:5060,,,,", 13);
		expect_one_error(row, 2, RULES_FIELD_TARGETS, "bad host name");
	}
	expect_one_error("x,prefix,1,forward,192.0.2.300:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "bad IPv4 address");
	expect_one_error("x,prefix,1,forward,2001:db8::1:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "brackets");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060/1/0,,,,", 2,
			 RULES_FIELD_TARGETS, "weight");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060|192.0.2.1:5060/2,,,,",
			 2, RULES_FIELD_TARGETS, "repeats");
	expect_one_error("x,prefix,1,reject,,,,,", 2, RULES_FIELD_CODE,
			 "reject needs a code");
	expect_one_error("x,prefix,1,reject,,,,,302", 2, RULES_FIELD_CODE,
			 "out of range");
	/* one error each, with the action's range, not a second one */
	expect_one_error("x,prefix,1,reject,,,,,700", 2, RULES_FIELD_CODE,
			 "reject code 700 out of range 400-699");
	expect_one_error("x,prefix,1,reject,,,,,4o4", 2, RULES_FIELD_CODE,
			 "code '4o4' is not a number");
	expect_one_error("x,prefix,1,reject,,,,,1000", 2, RULES_FIELD_CODE,
			 "is not a number");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060,,,,999", 2,
			 RULES_FIELD_CODE, "code is only for reject");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060,,,,x", 2,
			 RULES_FIELD_CODE, "is not a number");
	expect_one_error("x,domain,a..example.com,forward,192.0.2.1:5060,,,,",
			 2, RULES_FIELD_PATTERN, "empty label");
	expect_one_error("x,prefix,1,reject,,,,,401", 2, RULES_FIELD_CODE,
			 "must carry WWW-Authenticate");
	expect_one_error("x,prefix,1,reject,,,,,405", 2, RULES_FIELD_CODE,
			 "must carry Allow");
	expect_one_error("x,prefix,1,reject,192.0.2.1:5060,,,,404", 2,
			 RULES_FIELD_TARGETS, "reject takes no targets");
	expect_one_error("x,prefix,1,forward,,,,,", 2, RULES_FIELD_TARGETS,
			 "forward needs at least one target");
	expect_one_error("x,prefix,1,redirect,,,,,", 2, RULES_FIELD_TARGETS,
			 "redirect needs at least one target");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060,,,,404", 2,
			 RULES_FIELD_CODE, "only for reject");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060,high,,,", 2,
			 RULES_FIELD_RANK, "not a number");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060,70000,,,", 2,
			 RULES_FIELD_RANK, "not a number");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060,,999,,", 2,
			 RULES_FIELD_STRIP, "not a number");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060,,,12a,", 2,
			 RULES_FIELD_PREPEND, "digits");
	expect_one_error(",prefix,1,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_ID, "empty id");
	expect_one_error("a b,prefix,1,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_ID, "space");
	expect_one_error("\xff\xfe,prefix,1,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_ID, "not valid UTF-8");
	expect_one_error("r\xc3\x28,prefix,1,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_ID, "not valid UTF-8");
	expect_one_error("\xed\xa0\x80,prefix,1,forward,192.0.2.1:5060,,,,",
			 2, RULES_FIELD_ID, "not valid UTF-8");
	expect_one_error("x,prefix,1,forward", 2, RULES_FIELD_NONE,
			 "expected 9 fields, found 4");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060,,,,,", 2,
			 RULES_FIELD_NONE, "found 10");
	expect_one_error("x,prefix,\"1\"2,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_PATTERN, "after the closing quote");
	/* targets a router may not send to */
	expect_one_error("x,prefix,1,forward,127.0.0.1:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "no address a router may send to");
	expect_one_error("x,prefix,1,forward,192.0.2.1:5060|224.0.0.1:5060,,,,",
			 2, RULES_FIELD_TARGETS, "target 2 '224.0.0.1:5060'");
	expect_one_error("x,prefix,1,redirect,[ff02::1]:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "no address a router may send to");
	expect_one_error("x,prefix,1,forward,[::ffff:192.0.2.1]:5060,,,,", 2,
			 RULES_FIELD_TARGETS, "no address a router may send to");
	/* a second quoted part after a blank is no "" escape */
	expect_one_error("\"ab\" \"cd\",prefix,1,forward,192.0.2.1:5060,,,,",
			 2, RULES_FIELD_ID, "after the closing quote");
	expect_one_error("x,prefix,1\"2,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_PATTERN, "quote inside an unquoted field");
	expect_one_error("x,prefix,\"1,forward,192.0.2.1:5060,,,,", 2,
			 RULES_FIELD_NONE, "unterminated");
}

/*
 * After a quoting error the reader goes on at the next line, so the rows
 * after it are checked too: every error is reported.
 */
static void
test_rules_csv_rows_after_a_quote_error_checked(void **state)
{
	struct rules_errors *errs;

	(void)state;
	errs = parse_bad(HDR
			 "a,regex,1\"2\"3,forward,192.0.2.1:5060,,,,\n"
			 "b,exact,x,forward,192.0.2.1:5060,,,,\n"
			 "\"c\" \"d\",exact,1,forward,192.0.2.1:5060,,,,\n"
			 "e,exact,1,forward,192.0.2.1:5060|,,,,\n"
			 "f,exact,2,forward,\"192.0.2.1:5060\" x\"\n"
			 "\",,,,\n"
			 "g,bogus,1,forward,192.0.2.1:5060,,,,\n");
	assert_int_equal(errs->total, 6);
	assert_int_equal(errs->e[0].line, 2);
	assert_int_equal(errs->e[0].field, RULES_FIELD_PATTERN);
	assert_non_null(strstr(errs->e[0].msg, "quote inside"));
	assert_int_equal(errs->e[1].line, 3);
	assert_int_equal(errs->e[2].line, 4);
	assert_int_equal(errs->e[2].field, RULES_FIELD_ID);
	assert_int_equal(errs->e[3].line, 5);
	assert_int_equal(errs->e[3].field, RULES_FIELD_TARGETS);
	/* a quote after the closing one opens a quoted run: its line end
	 * is inside the row */
	assert_int_equal(errs->e[4].line, 6);
	assert_int_equal(errs->e[4].field, RULES_FIELD_TARGETS);
	assert_int_equal(errs->e[5].line, 8);
	assert_int_equal(errs->e[5].field, RULES_FIELD_KIND);
	free(errs);
}

static void
test_rules_csv_duplicate_id_reports_both_lines(void **state)
{
	struct rules_errors *errs;

	(void)state;
	errs = parse_bad(HDR
			 "a,prefix,1,forward,192.0.2.1:5060,,,,\n"
			 "b,prefix,2,forward,192.0.2.1:5060,,,,\n"
			 "a,prefix,3,forward,192.0.2.1:5060,,,,\n");
	assert_int_equal(errs->total, 1);
	assert_int_equal(errs->e[0].line, 4);
	assert_int_equal(errs->e[0].field, RULES_FIELD_ID);
	assert_non_null(strstr(errs->e[0].msg, "first defined on line 2"));
	free(errs);
}

static void
test_rules_csv_missing_header_rejected(void **state)
{
	struct rules_errors *errs;

	(void)state;
	errs = parse_bad("a,prefix,1,forward,192.0.2.1:5060,,,,\n");
	assert_int_equal(errs->total, 1);
	assert_int_equal(errs->e[0].line, 1);
	assert_non_null(strstr(errs->e[0].msg, "missing header"));
	free(errs);
	errs = parse_bad("");
	assert_int_equal(errs->total, 1);
	free(errs);
	errs = parse_bad("id,kind,pattern\n");
	assert_int_equal(errs->total, 1);
	free(errs);
}

/* All errors are counted; the first RULES_ERRORS_KEEP are kept. */
static void
test_rules_csv_every_error_counted(void **state)
{
	size_t cap = 300 * 64 + 100, len;
	struct rules_errors *errs;
	char *text = malloc(cap);
	int i;

	(void)state;
	assert_non_null(text);
	len = (size_t)snprintf(text, cap, "%s", HDR);
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"r%d,prefix,1x,forward,10.0.0.1:99999,,,,\n", i);
	errs = parse_bad(text);
	assert_int_equal(errs->total, 600);      /* two per row */
	assert_int_equal(errs->n, RULES_ERRORS_KEEP);
	assert_int_equal(errs->e[0].line, 2);
	assert_int_equal(errs->e[1].line, 2);
	assert_int_equal(errs->e[99].line, 51);
	free(errs);
	free(text);
}

static void
test_rules_csv_empty_file_with_header_is_empty_set(void **state)
{
	struct rules_set *set;

	(void)state;
	set = parse_ok(HDR);
	assert_int_equal(rules_set_count(set, NULL), 0);
	rules_set_free(set);
}

struct sink {
	char    *buf;
	size_t   len;
	size_t   cap;
};

static int
sink_write(void *arg, const char *buf, size_t len)
{
	struct sink *s = arg;

	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->buf = realloc(s->buf, s->cap + 1);
		assert_non_null(s->buf);
	}
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

/*
 * The longest rows there are (a 64-byte id, a pattern of 1,000 quotes,
 * 16 host names of 253 bytes, every number at its widest) export wherever
 * they fall in the exporter's buffer: after 1,000 to 1,300 short rows some
 * lands where less room is left than it takes.
 */
static void
test_rules_csv_export_longest_row(void **state)
{
	static char row[16384], id[65], pat[2100], tg[8000];
	struct rules_set *set;
	struct sink s = { 0 };
	int fill, i, k, o = 0, t = 0;

	(void)state;
	memset(id, 'i', 64);
	pat[o++] = '"';
	for (i = 0; i < 1000; i++) {
		pat[o++] = '"';
		pat[o++] = '"';
	}
	pat[o++] = '"';
	for (k = 0; k < 16; k++) {
		if (k != 0)
			tg[t++] = '|';
		for (i = 0; i < 3; i++) {
			memset(tg + t, 'a' + k, 63);
			t += 63;
			tg[t++] = '.';
		}
		memset(tg + t, 'z', 61);
		t += 61;
		t += sprintf(tg + t, ":65535/65535/65535");
	}
	for (fill = 1000; fill <= 1300; fill++) {
		assert_int_equal(rules_set_new(&set), 0);
		for (i = 0; i < fill; i++) {
			snprintf(row, sizeof(row),
				 "f%04d,prefix,1%04d,forward,192.0.2.1:5060,,,,",
				 i, i);
			assert_int_equal(rules_set_add_csv_row(set, row,
					 strlen(row), 1, NULL), 0);
		}
		snprintf(row, sizeof(row), "%s,regex,%s,forward,%s,65535,128,"
			 "01234567890123456789012345678901,", id, pat, tg);
		assert_int_equal(rules_set_add_csv_row(set, row, strlen(row),
						       1, NULL), 0);
		s.len = 0;
		assert_int_equal(rules_set_export_csv(set, sink_write, &s), 0);
		assert_non_null(strstr(s.buf, id));
		rules_set_free(set);
	}
	free(s.buf);
}

static void
test_rules_csv_export_reimports_same_set(void **state)
{
	struct rules_set *a, *b;
	struct rules_errors errs;
	struct rules_diff d;
	struct sink s = { 0 };
	unsigned int k;

	(void)state;
	errs.total = 0;
	a = parse_ok(design_example);
	assert_int_equal(rules_set_add_csv_row(a,
		"\"#odd,\"\"id\"\"\",regex,\"a,b\",forward,[2001:db8::1]:5060/0/3,7,2,+49,",
		0, 0, NULL), -EINVAL);  /* len 0: not a row */
	assert_int_equal(rules_set_add_csv_row(a,
		"\"#odd,\"\"id\"\"\",regex,\"a,b\",forward,[2001:db8::1]:5060/0/3,7,2,+49,",
		strlen("\"#odd,\"\"id\"\"\",regex,\"a,b\",forward,[2001:db8::1]:5060/0/3,7,2,+49,"),
		99, &errs), 0);
	assert_int_equal(rules_set_export_csv(a, sink_write, &s), 0);
	b = parse_ok(s.buf);
	assert_int_equal(rules_set_diff(a, b, &d), 0);
	for (k = 0; k < RULES_KIND__COUNT; k++) {
		assert_int_equal(d.added[k], 0);
		assert_int_equal(d.removed[k], 0);
		assert_int_equal(d.changed[k], 0);
	}
	assert_int_equal(d.unchanged, 6);
	free(s.buf);
	rules_set_free(a);
	rules_set_free(b);
}

static void
test_rules_csv_add_row_reports_line(void **state)
{
	struct rules_errors errs;
	struct rules_set *set;
	const char *row = "x,prefix,12,forward,gw.example,,,,";

	(void)state;
	assert_int_equal(rules_set_new(&set), 0);
	rules_errors_reset(&errs);
	assert_int_equal(rules_set_add_csv_row(set, row, strlen(row), 7, &errs),
			 -EINVAL);
	assert_int_equal(errs.total, 1);
	assert_int_equal(errs.e[0].line, 7);
	assert_int_equal(errs.e[0].field, RULES_FIELD_TARGETS);
	row = "x,prefix,12,forward,192.0.2.1:5060,,,,\r\n";
	assert_int_equal(rules_set_add_csv_row(set, row, strlen(row), 8, &errs),
			 0);
	assert_int_equal(rules_set_add_csv_row(set, row, strlen(row), 9, &errs),
			 -EEXIST);
	assert_int_equal(rules_set_count(set, NULL), 1);
	rules_set_free(set);
}

static void
test_rules_csv_feed_after_finish_rejected(void **state)
{
	struct rules_csv *csv;
	struct rules_set *set;

	(void)state;
	assert_int_equal(rules_csv_new(&csv), 0);
	assert_int_equal(rules_csv_feed(csv, HDR, strlen(HDR)), 0);
	assert_int_equal(rules_csv_finish(csv, &set), 0);
	assert_int_equal(rules_csv_feed(csv, "x", 1), -EINVAL);
	rules_csv_free(csv);
	rules_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_csv_design_example_parses),
		cmocka_unit_test(test_rules_csv_quoting_comments_blank_lines),
		cmocka_unit_test(test_rules_csv_crlf_and_bom_accepted),
		cmocka_unit_test(test_rules_csv_lone_cr_line_ends),
		cmocka_unit_test(test_rules_csv_chunked_feed_same_result),
		cmocka_unit_test(test_rules_csv_each_error_kind_reported),
		cmocka_unit_test(test_rules_csv_rows_after_a_quote_error_checked),
		cmocka_unit_test(test_rules_csv_duplicate_id_reports_both_lines),
		cmocka_unit_test(test_rules_csv_missing_header_rejected),
		cmocka_unit_test(test_rules_csv_every_error_counted),
		cmocka_unit_test(test_rules_csv_empty_file_with_header_is_empty_set),
		cmocka_unit_test(test_rules_csv_export_reimports_same_set),
		cmocka_unit_test(test_rules_csv_export_longest_row),
		cmocka_unit_test(test_rules_csv_add_row_reports_line),
		cmocka_unit_test(test_rules_csv_feed_after_finish_rejected),
	};

	return cmocka_run_group_tests_name("rules_csv", tests, NULL, NULL);
}
