/* SPDX-License-Identifier: MIT */
/*
 * test_pcaps.c - every SIP message in the shared captures through the
 * SIP library.
 *
 * Decodes Ethernet (with VLAN tags), Linux cooked, raw-IP and BSD loopback
 * link types; IPv4 and IPv6, IP-in-IP and IPv6-in-IPv4 tunnels, IPv4 and
 * IPv6 fragments (reassembled here); UDP datagrams and TCP segments that
 * carry SIP. A datagram counts as SIP when a port is 5060/5061 or its
 * first line looks like a SIP start line; other traffic (RTP) is skipped.
 * pcap_expect.tsv gives, per capture, how many messages it holds and how
 * many of them get each verdict; the verdicts other than OK are what the
 * capture's description implies (junk before a request, a non-numeric
 * Content-Length, ...).
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

#include "sip_pcap.h"

#define MAX_ROWS        32

struct row {
	char             file[160];
	char             expect[256];   /* "udp=N tcp=N OK=N VERDICT=N ..." */
	unsigned int     verdict[SIP_PERR__COUNT];
	unsigned int     udp, tcp;
};

static struct row rows[MAX_ROWS];
static unsigned int nrows;
static struct sip_pcap decoder;

static void
handle_sip(struct row *r, const uint8_t *p, uint32_t len, int tcp)
{
	struct sip_info info;
	struct sip_msg msg;
	enum sip_perr v;
	char *copy;

	/* An exact-size heap copy, so AddressSanitizer sees a read past the end. */
	copy = malloc(len != 0 ? len : 1);
	assert_non_null(copy);
	memcpy(copy, p, len);
	v = sip_parse(&msg, copy, len);
	if (v == SIP_PERR_OK)
		v = sip_msg_check(&msg, &info);
	r->verdict[v]++;
	if (tcp)
		r->tcp++;
	else
		r->udp++;
	if (v != SIP_PERR_OK)
		printf("  %s (%s) at offset %u: %.60s\n", sip_perr_name(v),
		       sip_perr_desc(v), msg.err_off,
		       sip_pcap_looks_like_sip(p, len) ? (const char *)p :
							  "(not a start line)");
	free(copy);
}

static void
on_payload(void *arg, const uint8_t *p, uint32_t len, int tcp)
{
	handle_sip(arg, p, len, tcp);
}

static void
test_conformance_pcap(void **state)
{
	struct row *r = *state;
	char path[512], expect[256], err[256];
	char *kv, *save = NULL;
	unsigned int i;

	snprintf(path, sizeof(path), "%s/%s", CONFORMANCE_DIR, r->file);
	printf("%s\n", r->file);
	if (sip_pcap_read(&decoder, path, on_payload, r, err) < 0)
		fail_msg("%s", err);

	printf("  udp=%u tcp=%u", r->udp, r->tcp);
	for (i = 0; i < SIP_PERR__COUNT; i++)
		if (r->verdict[i] != 0)
			printf(" %s=%u", sip_perr_name(i), r->verdict[i]);
	printf("\n");

	snprintf(expect, sizeof(expect), "%s", r->expect);
	for (kv = strtok_r(expect, " ", &save); kv != NULL;
	     kv = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(kv, '=');
		unsigned int want, got = 0, found = 0;

		assert_non_null(eq);
		*eq = '\0';
		want = (unsigned int)strtoul(eq + 1, NULL, 10);
		if (strcmp(kv, "udp") == 0) {
			got = r->udp;
			found = 1;
		} else if (strcmp(kv, "tcp") == 0) {
			got = r->tcp;
			found = 1;
		}
		for (i = 0; i < SIP_PERR__COUNT && !found; i++) {
			if (strcmp(kv, sip_perr_name(i)) == 0) {
				got = r->verdict[i];
				found = 1;
			}
		}
		if (!found)
			fail_msg("%s: unknown key '%s'", r->file, kv);
		if (got != want)
			fail_msg("%s: %s=%u, want %u", r->file, kv, got, want);
	}
}

static int
load_rows(const char *path)
{
	char line[400];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && nrows < MAX_ROWS) {
		char *tab;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		tab = strchr(line, '\t');
		if (tab == NULL)
			continue;
		*tab = '\0';
		snprintf(rows[nrows].file, sizeof(rows[nrows].file), "%.159s", line);
		snprintf(rows[nrows].expect, sizeof(rows[nrows].expect), "%.255s",
			 tab + 1);
		nrows++;
	}
	fclose(f);
	return 0;
}

int
main(void)
{
	static struct CMUnitTest tests[MAX_ROWS];
	unsigned int i;

	if (load_rows(EXPECT_TSV) != 0 || nrows == 0)
		return 1;
	for (i = 0; i < nrows; i++) {
		tests[i].name = rows[i].file;
		tests[i].test_func = test_conformance_pcap;
		tests[i].initial_state = &rows[i];
	}
	return _cmocka_run_group_tests("pcaps", tests, nrows, NULL, NULL);
}
