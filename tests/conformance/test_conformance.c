/* SPDX-License-Identifier: MIT */
/*
 * test_conformance.c - the RFC 4475 and RFC 5118 torture messages through
 * the SIP library, as a proxy sees them.
 *
 * Each row of rfc_expect.tsv names a message in the shared conformance
 * folder (used as it is), the verdicts allowed, the outcome a proxy must
 * produce (route, accept, drop or a response code) and fields to check.
 * Every message is placed flush against a guard page. One cmocka test per
 * row; a table of all rows is printed at the end.
 *
 * usage: test_conformance [CONFORMANCE_DIR [EXPECT_TSV]]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sip.h>

#include "guard_buf.h"

#define MAX_ROWS        128
#define MAX_FILE        (256 * 1024)

struct row {
	char             name[64];
	char             file[160];
	char             verdicts[160];
	char             outcome[32];
	char             fields[512];
	/* results */
	char             got_verdict[32];
	char             got_outcome[16];
	int              ran;
	int              ok;
};

static struct row rows[MAX_ROWS];
static unsigned int nrows;
static const char *conf_dir = CONFORMANCE_DIR;
static struct guard_buf *gb;

static int
load_rows(const char *path)
{
	char line[2048];
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL && nrows < MAX_ROWS) {
		struct row *r = &rows[nrows];
		char *col[5] = { NULL };
		char *p = line, *save = NULL;
		int n = 0;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (p = strtok_r(line, "\t", &save); p != NULL && n < 5;
		     p = strtok_r(NULL, "\t", &save))
			col[n++] = p;
		if (n < 4) {
			fprintf(stderr, "%s: malformed row '%s'\n", path, line);
			fclose(f);
			return -1;
		}
		snprintf(r->name, sizeof(r->name), "%s", col[0]);
		snprintf(r->file, sizeof(r->file), "%s", col[1]);
		snprintf(r->verdicts, sizeof(r->verdicts), "%s", col[2]);
		snprintf(r->outcome, sizeof(r->outcome), "%s", col[3]);
		snprintf(r->fields, sizeof(r->fields), "%s", n > 4 ? col[4] : "");
		nrows++;
	}
	fclose(f);
	return 0;
}

/* Is @word one of the '|'-separated alternatives in @list? */
static int
in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (*p != '\0') {
		const char *e = strchr(p, '|');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);

		if (len == n && memcmp(p, word, n) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	assert_non_null(f);
	buf = malloc(MAX_FILE);
	assert_non_null(buf);
	*len = fread(buf, 1, MAX_FILE, f);
	fclose(f);
	return buf;
}

static int
span_is(struct span s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* Check one "key=value" field against the parsed message. */
static void
check_field(const struct row *r, const struct sip_msg *msg,
	    const struct sip_info *info, const char *key, const char *val)
{
	long long want = strtoll(val, NULL, 10);
	long long got = 0;
	int is_num = 1;

	if (strcmp(key, "method") == 0) {
		is_num = 0;
		if (!span_is(msg->method_name, val))
			fail_msg("%s: method '%.*s', want '%s'", r->name,
				 (int)msg->method_name.len, msg->method_name.ptr, val);
	} else if (strcmp(key, "callid") == 0) {
		is_num = 0;
		if (!span_is(info->call_id, val))
			fail_msg("%s: Call-ID '%.*s', want '%s'", r->name,
				 (int)info->call_id.len, info->call_id.ptr, val);
	} else if (strcmp(key, "ruri_host") == 0) {
		is_num = 0;
		if (!span_is(info->ruri.host, val))
			fail_msg("%s: R-URI host '%.*s', want '%s'", r->name,
				 (int)info->ruri.host.len, info->ruri.host.ptr, val);
	} else if (strcmp(key, "via_host") == 0) {
		is_num = 0;
		if (!span_is(info->via.host, val))
			fail_msg("%s: Via host '%.*s', want '%s'", r->name,
				 (int)info->via.host.len, info->via.host.ptr, val);
	} else if (strcmp(key, "via_branch") == 0) {
		is_num = 0;
		if (!span_is(info->via.branch, val))
			fail_msg("%s: branch '%.*s', want '%s'", r->name,
				 (int)info->via.branch.len, info->via.branch.ptr, val);
	} else if (strcmp(key, "status") == 0) {
		got = msg->status;
	} else if (strcmp(key, "cseq") == 0) {
		got = info->cseq.num;
	} else if (strcmp(key, "maxfwd") == 0) {
		got = info->max_forwards;
	} else if (strcmp(key, "nvia") == 0) {
		got = msg->nvia;
	} else if (strcmp(key, "clen") == 0) {
		got = msg->clen;
	} else if (strcmp(key, "body_len") == 0) {
		got = msg->body_len;
	} else if (strcmp(key, "msg_len") == 0) {
		got = msg->msg_len;
	} else if (strcmp(key, "ruri_port") == 0) {
		got = info->ruri.port;
	} else if (strcmp(key, "via_port") == 0) {
		got = info->via.port;
	} else {
		fail_msg("%s: unknown field '%s' in the expectation table",
			 r->name, key);
	}
	if (is_num && got != want)
		fail_msg("%s: %s=%lld, want %lld", r->name, key, got, want);
}

/*
 * What a proxy does with a message (DESIGN.md §3.2 steps 1, 3 and 5 as far
 * as they depend on the message alone): answer, drop, or route. A bad
 * request without a Via is dropped: nothing would carry the answer.
 */
static void
proxy_outcome(const struct sip_msg *msg, const struct sip_info *info,
	      enum sip_perr v, char *out, size_t cap)
{
	uint16_t code;

	if (v != SIP_PERR_OK) {
		code = sip_perr_status(v);
		if (msg->is_request && code != 0 &&
		    sip_msg_hdr(msg, SIP_HDR_VIA) != NULL)
			snprintf(out, cap, "%u", code);
		else
			snprintf(out, cap, "drop");
		return;
	}
	if (!msg->is_request) {
		snprintf(out, cap, "accept");
		return;
	}
	if (sip_msg_hdr(msg, SIP_HDR_PROXY_REQUIRE) != NULL)
		snprintf(out, cap, "420");      /* we support no extension */
	else if (info->max_forwards == 0)
		snprintf(out, cap, "483");
	else
		snprintf(out, cap, "route");
}

static void
test_conformance_message(void **state)
{
	struct row *r = *state;
	struct sip_info info;
	struct sip_msg msg;
	enum sip_perr v;
	char path[512], fields[512];
	char *buf, *save = NULL, *kv;
	const char *in;
	size_t len;

	if (strncmp(r->file, "tests:", 6) == 0)
		snprintf(path, sizeof(path), "%s/%s", SRC_DIR, r->file + 6);
	else
		snprintf(path, sizeof(path), "%s/%s", conf_dir, r->file);
	buf = read_file(path, &len);
	in = guard_buf_put(gb, buf, len);
	free(buf);

	memset(&info, 0, sizeof(info));
	v = sip_parse(&msg, in, (uint32_t)len);
	if (v == SIP_PERR_OK)
		v = sip_msg_check(&msg, &info);
	snprintf(r->got_verdict, sizeof(r->got_verdict), "%s", sip_perr_name(v));
	proxy_outcome(&msg, &info, v, r->got_outcome, sizeof(r->got_outcome));
	r->ran = 1;

	if (!in_list(r->verdicts, r->got_verdict))
		fail_msg("%s: verdict %s at offset %u, want %s", r->name,
			 r->got_verdict, msg.err_off, r->verdicts);
	if (!in_list(r->outcome, r->got_outcome))
		fail_msg("%s: outcome %s, want %s", r->name, r->got_outcome,
			 r->outcome);
	if (v == SIP_PERR_OK) {
		snprintf(fields, sizeof(fields), "%s", r->fields);
		for (kv = strtok_r(fields, " ", &save); kv != NULL;
		     kv = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(kv, '=');

			assert_non_null(eq);
			*eq = '\0';
			check_field(r, &msg, &info, kv, eq + 1);
		}
	}
	r->ok = 1;
}

static int
group_setup(void **state)
{
	(void)state;
	gb = guard_buf_new(MAX_FILE);
	return gb != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	unsigned int i, pass = 0;

	(void)state;
	printf("\n%-34s %-16s %-8s %-22s %s\n", "message", "verdict",
	       "outcome", "expected", "result");
	for (i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		printf("%-34s %-16s %-8s %-22s %s\n", r->name, r->got_verdict,
		       r->got_outcome, r->outcome,
		       r->ok ? "ok" : (r->ran ? "FAIL" : "not run"));
		pass += r->ok;
	}
	printf("conformance: %u of %u messages handled as expected\n",
	       pass, nrows);
	guard_buf_free(gb);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct CMUnitTest tests[MAX_ROWS];
	char expect[512];
	unsigned int i;

	if (argc > 1)
		conf_dir = argv[1];
	if (argc > 2)
		snprintf(expect, sizeof(expect), "%s", argv[2]);
	else
		snprintf(expect, sizeof(expect), "%s", EXPECT_TSV);
	if (load_rows(expect) != 0 || nrows == 0)
		return 1;
	for (i = 0; i < nrows; i++) {
		tests[i].name = rows[i].name;
		tests[i].test_func = test_conformance_message;
		tests[i].setup_func = NULL;
		tests[i].teardown_func = NULL;
		tests[i].initial_state = &rows[i];
	}
	return _cmocka_run_group_tests("conformance", tests, nrows,
				       group_setup, group_teardown);
}
