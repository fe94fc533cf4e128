/* SPDX-License-Identifier: MIT */
/*
 * bench_sip_parse.c - cost of parsing a SIP message completely.
 *
 * "Completely" means what a router does with a request: sip_parse() (start
 * line, every header located and classified, Content-Length framing),
 * sip_msg_check() (top Via, From, To, Call-ID, CSeq, Max-Forwards,
 * Request-URI resolved and validated), then every other accessor the
 * library offers: Contact values with q and expires, Route and
 * Record-Route URIs and ;lr, Expires, Session-Expires, Min-SE,
 * Proxy-Require/Require/Supported option tags, User-Agent, and the
 * unescaped Request-URI user part.
 *
 * Inputs: a realistic 900-byte INVITE with SDP (below), and every SIP
 * message of the shared captures (when built with libpcap).
 *
 * Output: one line per scenario, "key=value" pairs, median ns/message over
 * many batches: invite_sdp (full), and the same INVITE with sip_parse()
 * only (invite_sdp_parse) and with sip_parse() + sip_msg_check()
 * (invite_sdp_parse_check), to show where the time goes. With
 * [--level parse|parse_check|full] --iters N it runs N iterations of the
 * INVITE only and prints nothing else (for instruction counts under
 * callgrind; see run_parse_bench.sh).
 *
 * With --corpus FILE.pcap (built with libpcap), it loads every SIP message
 * of the capture that parses and checks (the "varied" corpus, e.g. the
 * pipeline benchmark's 4,096 different INVITEs) and a "repeated" corpus of
 * as many separately allocated copies of the first message (same count,
 * same allocation sizes where the first message fits, so the same memory
 * footprint). For each level it prints
 *   scenario=corpus_varied level=L messages=N mean_bytes=B median_ns=...
 *   scenario=corpus_repeated level=L ...
 * medians over CORPUS_BATCHES batches of each, taken alternately (varied,
 * repeated, varied, ...) so that changes of the machine's speed hit both;
 * a batch is enough passes over the corpus for about CORPUS_BATCH_MSGS
 * messages. If the two agree, the branch predictor learning one message is
 * not what makes the single-INVITE figure fast. With
 * --corpus FILE [--repeated] --level L --iters N it runs N passes over the
 * varied (or repeated) corpus at level L and prints nothing (callgrind).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sip.h>

#ifdef HAVE_SIP_PCAP
#include "sip_pcap.h"
#endif

static const char invite[] =
	"INVITE sip:+12125550123@edge.carrier.example;user=phone SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.51.100.17:5060;branch=z9hG4bK776asdhds-4f2a;rport\r\n"
	"Max-Forwards: 70\r\n"
	"Route: <sip:edge.carrier.example;lr>\r\n"
	"From: \"Alice Example\" <sip:+14155550100@pbx.example.org;user=phone>;tag=1928301774\r\n"
	"To: <sip:+12125550123@edge.carrier.example;user=phone>\r\n"
	"Call-ID: a84b4c76e66710-8821@198.51.100.17\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:+14155550100@198.51.100.17:5060;transport=udp>;expires=3600\r\n"
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO\r\n"
	"Supported: timer, 100rel, replaces\r\n"
	"Session-Expires: 1800;refresher=uac\r\n"
	"Min-SE: 90\r\n"
	"P-Asserted-Identity: <sip:+14155550100@pbx.example.org;user=phone>\r\n"
	"User-Agent: ExamplePBX/4.2.1\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 254\r\n"
	"\r\n"
	"v=0\r\n"
	"o=pbx 2890844526 2890844526 IN IP4 198.51.100.17\r\n"
	"s=-\r\n"
	"c=IN IP4 198.51.100.17\r\n"
	"t=0 0\r\n"
	"m=audio 49170 RTP/AVP 0 8 18 101\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:18 G729/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-16\r\n"
	"a=sendrecv\r\n";

/* Sink that keeps the compiler from discarding the work. */
static volatile uint64_t sink;

static uint64_t
resolve_names(const struct sip_msg *msg, enum sip_hdr_id id)
{
	struct sip_value_iter it;
	struct sip_naddr na;
	struct sip_uri uri;
	struct span v, lr;
	uint64_t acc = 0;
	uint16_t q;

	sip_values_init(&it, msg, id);
	while (sip_values_next(&it, &v) == 1) {
		if (sip_naddr_parse(&na, v) != SIP_PERR_OK)
			continue;
		if (sip_naddr_q(&na, &q) == 0)
			acc += q;
		if (sip_param_get(na.params, SPAN_LIT("expires"), &lr))
			acc += lr.len;
		if (sip_uri_parse(&uri, na.uri) == SIP_PERR_OK &&
		    sip_param_get(uri.params, SPAN_LIT("lr"), &lr))
			acc++;
		acc += uri.port;
	}
	return acc;
}

static uint64_t
resolve_tags(const struct sip_msg *msg, enum sip_hdr_id id)
{
	struct sip_value_iter it;
	struct span v;
	uint64_t acc = 0;

	sip_values_init(&it, msg, id);
	while (sip_values_next(&it, &v) == 1)
		acc += v.len;
	return acc;
}

static uint64_t
resolve_delta(const struct sip_msg *msg, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, id);
	struct span params;
	uint32_t secs = 0;

	if (h != NULL && sip_delta_parse(h->value, &secs, &params) == 0)
		return secs + params.len;
	return 0;
}

/* How far parse_level() goes. */
enum level {
	LEVEL_PARSE = 0,        /* sip_parse() only */
	LEVEL_CHECK,            /* + sip_msg_check() */
	LEVEL_FULL,             /* + every other accessor */
};

static const char *const level_name[] = { "parse", "parse_check", "full" };

static enum level bench_level = LEVEL_FULL;

/* One message, parsed completely. Returns 0 when it parsed and checked. */
static int
parse_all(const char *buf, uint32_t len)
{
	struct sip_info info;
	struct sip_msg msg;
	const struct sip_hdr *ua;
	uint64_t acc;
	char user[64];
	int n;

	if (sip_parse(&msg, buf, len) != SIP_PERR_OK)
		return -1;
	if (bench_level == LEVEL_PARSE) {
		sink += msg.nhdr;
		return 0;
	}
	if (sip_msg_check(&msg, &info) != SIP_PERR_OK)
		return -1;
	if (bench_level == LEVEL_CHECK) {
		sink += info.cseq.num;
		return 0;
	}
	acc = info.cseq.num + (uint64_t)info.max_forwards + info.via.port;
	acc += resolve_names(&msg, SIP_HDR_CONTACT);
	acc += resolve_names(&msg, SIP_HDR_ROUTE);
	acc += resolve_names(&msg, SIP_HDR_RECORD_ROUTE);
	acc += resolve_tags(&msg, SIP_HDR_PROXY_REQUIRE);
	acc += resolve_tags(&msg, SIP_HDR_REQUIRE);
	acc += resolve_tags(&msg, SIP_HDR_SUPPORTED);
	acc += resolve_delta(&msg, SIP_HDR_EXPIRES);
	acc += resolve_delta(&msg, SIP_HDR_SESSION_EXPIRES);
	acc += resolve_delta(&msg, SIP_HDR_MIN_SE);
	ua = sip_msg_hdr(&msg, SIP_HDR_USER_AGENT);
	if (ua != NULL)
		acc += ua->value.len;
	if (msg.is_request) {
		n = sip_unescape(info.ruri.user, user, sizeof(user));
		if (n > 0)
			acc += (uint64_t)n;
	}
	sink += acc;
	return 0;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @p ns; returns its median and sets the 10th and 90th percentiles. */
static double
summarize(double *ns, unsigned int n, double *p10, double *p90)
{
	qsort(ns, n, sizeof(*ns), cmp_double);
	*p10 = ns[n / 10];
	*p90 = ns[n * 9 / 10];
	return ns[n / 2];
}

struct corpus {
	char           **msg;
	uint32_t        *len;
	unsigned int     n;
	unsigned int     cap;
	unsigned int     bad;
};

/* One batch: @p reps passes over @p c; returns ns per message. */
static double
measure_batch(const struct corpus *c, unsigned int reps)
{
	uint64_t t0 = now_ns();
	unsigned int r, i;

	for (r = 0; r < reps; r++)
		for (i = 0; i < c->n; i++)
			(void)parse_all(c->msg[i], c->len[i]);
	return (double)(now_ns() - t0) / ((double)reps * c->n);
}

/* Median over @p batches of ns per message, each batch @p reps passes. */
static double
measure(const struct corpus *c, unsigned int batches, unsigned int reps,
	double *p10, double *p90)
{
	double *ns = calloc(batches, sizeof(*ns));
	unsigned int b;
	double med;

	for (b = 0; b < batches; b++)
		ns[b] = measure_batch(c, reps);
	med = summarize(ns, batches, p10, p90);
	free(ns);
	return med;
}

/* Appends a copy of @p p in its own allocation of @p size (>= @p len) bytes. */
static void
corpus_add_sized(struct corpus *c, const uint8_t *p, uint32_t len,
		 uint32_t size)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->msg = realloc(c->msg, c->cap * sizeof(*c->msg));
		c->len = realloc(c->len, c->cap * sizeof(*c->len));
		if (c->msg == NULL || c->len == NULL)
			abort();
	}
	c->msg[c->n] = malloc(size ? size : 1);
	if (c->msg[c->n] == NULL)
		abort();
	memcpy(c->msg[c->n], p, len);
	c->len[c->n] = len;
	c->n++;
}

static void
corpus_add(struct corpus *c, const uint8_t *p, uint32_t len)
{
	corpus_add_sized(c, p, len, len);
}

static void
corpus_free(struct corpus *c)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		free(c->msg[i]);
	free(c->msg);
	free(c->len);
}

#ifdef HAVE_SIP_PCAP
static void
on_payload(void *arg, const uint8_t *p, uint32_t len, int tcp)
{
	struct corpus *c = arg;
	struct sip_msg msg;
	struct sip_info info;

	(void)tcp;
	/* Only messages that parse: a rejected one costs less and would flatter. */
	if (sip_parse(&msg, (const char *)p, len) != SIP_PERR_OK ||
	    sip_msg_check(&msg, &info) != SIP_PERR_OK) {
		c->bad++;
		return;
	}
	corpus_add(c, p, len);
}

static const char *const captures[] = {
	"pcaps/sngrep__aaa.pcap",
	"pcaps/pcap2sipp__example.pcap",
	"pcaps/sngrep__ipv6frag.pcap",
	"pcaps/pcapplusplus__sip_reqs.pcap",
	"pcaps/pcapplusplus__sip_resp.pcap",
	"pcaps/heplify__ipip0.pcap",
};

static void
bench_captures(unsigned int batches)
{
	static struct sip_pcap dec;
	struct corpus c = { 0 };
	char path[512], err[256];
	double med, p10, p90;
	uint64_t bytes = 0;
	unsigned int i;

	for (i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", CONFORMANCE_DIR,
			 captures[i]);
		if (sip_pcap_read(&dec, path, on_payload, &c, err) < 0)
			fprintf(stderr, "bench_sip_parse: %s\n", err);
	}
	if (c.n == 0)
		return;
	for (i = 0; i < c.n; i++)
		bytes += c.len[i];
	med = measure(&c, batches, 200, &p10, &p90);
	printf("scenario=captures messages=%u skipped=%u mean_bytes=%llu "
	       "median_ns=%.1f p10_ns=%.1f p90_ns=%.1f\n", c.n, c.bad,
	       (unsigned long long)(bytes / c.n), med, p10, p90);
	corpus_free(&c);
}

/* Batches of each corpus per level, and messages per batch (about). */
#define CORPUS_BATCHES          31
#define CORPUS_BATCH_MSGS       80000

/*
 * Loads the SIP messages of @p path that parse and check into @p varied,
 * and as many separate copies of the first one into @p repeated, each
 * allocated with the size of the varied message at the same index (or the
 * first message's size, if larger).
 */
static int
corpus_load(const char *path, struct corpus *varied, struct corpus *repeated)
{
	static struct sip_pcap dec;
	char err[256];
	unsigned int i;

	if (sip_pcap_read(&dec, path, on_payload, varied, err) < 0) {
		fprintf(stderr, "bench_sip_parse: %s\n", err);
		return -1;
	}
	if (varied->n == 0) {
		fprintf(stderr, "bench_sip_parse: no SIP message in %s parses "
			"and checks\n", path);
		return -1;
	}
	if (varied->bad != 0)
		fprintf(stderr, "bench_sip_parse: %u messages of %s skipped "
			"(they do not parse or check)\n", varied->bad, path);
	for (i = 0; i < varied->n; i++) {
		uint32_t size = varied->len[i] > varied->len[0] ?
				varied->len[i] : varied->len[0];

		corpus_add_sized(repeated, (const uint8_t *)varied->msg[0],
				 varied->len[0], size);
	}
	return 0;
}

static uint64_t
corpus_bytes(const struct corpus *c)
{
	uint64_t bytes = 0;
	unsigned int i;

	for (i = 0; i < c->n; i++)
		bytes += c->len[i];
	return bytes;
}

/* Varied and repeated corpus, batches alternated, every level. */
static void
bench_corpus(const struct corpus *varied, const struct corpus *repeated)
{
	const struct corpus *const cs[2] = { varied, repeated };
	static const char *const name[2] = { "corpus_varied",
					     "corpus_repeated" };
	unsigned int reps = (CORPUS_BATCH_MSGS + varied->n - 1) / varied->n;
	double ns[2][CORPUS_BATCHES], med, p10, p90;
	unsigned int l, b, k;

	for (l = 0; l < 3; l++) {
		bench_level = (enum level)l;
		/* One untimed pass of each: page faults, caches. */
		(void)measure_batch(varied, 1);
		(void)measure_batch(repeated, 1);
		for (b = 0; b < CORPUS_BATCHES; b++)
			for (k = 0; k < 2; k++)
				ns[k][b] = measure_batch(cs[k], reps);
		for (k = 0; k < 2; k++) {
			med = summarize(ns[k], CORPUS_BATCHES, &p10, &p90);
			printf("scenario=%s level=%s messages=%u mean_bytes=%llu "
			       "median_ns=%.1f p10_ns=%.1f p90_ns=%.1f\n",
			       name[k], level_name[l], cs[k]->n,
			       (unsigned long long)(corpus_bytes(cs[k]) /
						    cs[k]->n),
			       med, p10, p90);
		}
		fflush(stdout);
	}
	bench_level = LEVEL_FULL;
}

/*
 * --corpus FILE [--repeated] [--level L --iters N]: the corpus scenario,
 * or N untimed passes over one corpus (callgrind).
 */
static int
corpus_main(int argc, char **argv)
{
	struct corpus varied = { 0 }, repeated = { 0 };
	const char *path = argv[2];
	unsigned long iters, it;
	int use_repeated = 0, ret = 1;
	unsigned int i;
	int level = -1;

	argv += 3;
	argc -= 3;
	if (argc > 0 && strcmp(argv[0], "--repeated") == 0) {
		use_repeated = 1;
		argv++;
		argc--;
	}
	if (argc == 4 && strcmp(argv[0], "--level") == 0 &&
	    strcmp(argv[2], "--iters") == 0) {
		for (i = 0; i < 3; i++)
			if (strcmp(argv[1], level_name[i]) == 0)
				level = (int)i;
	}
	if ((argc != 0 || use_repeated) && level < 0) {
		fprintf(stderr, "usage: bench_sip_parse --corpus FILE.pcap "
			"[[--repeated] --level parse|parse_check|full "
			"--iters N]\n");
		return 2;
	}
	if (corpus_load(path, &varied, &repeated) != 0)
		goto out_free;
	if (level < 0) {
		bench_corpus(&varied, &repeated);
		ret = 0;
		goto out_free;
	}
	/* Callgrind mode: fixed work, no timing, no output. */
	bench_level = (enum level)level;
	iters = strtoul(argv[3], NULL, 10);
	for (it = 0; it < iters; it++) {
		const struct corpus *c = use_repeated ? &repeated : &varied;

		for (i = 0; i < c->n; i++)
			if (parse_all(c->msg[i], c->len[i]) != 0)
				goto out_free;
	}
	ret = 0;
out_free:
	corpus_free(&varied);
	corpus_free(&repeated);
	return ret;
}
#endif

int
main(int argc, char **argv)
{
	const uint32_t len = sizeof(invite) - 1;
	struct corpus c = { 0 };
	double med, p10, p90;
	unsigned long iters;
	unsigned int i;

	if (argc >= 3 && strcmp(argv[1], "--corpus") == 0) {
#ifdef HAVE_SIP_PCAP
		return corpus_main(argc, argv);
#else
		fprintf(stderr, "bench_sip_parse: --corpus needs a build "
			"with libpcap\n");
		return 2;
#endif
	}
	if (argc == 5 && strcmp(argv[1], "--level") == 0) {
		/* --level parse|parse_check|full, then the usual arguments. */
		for (i = 0; i < 3; i++)
			if (strcmp(argv[2], level_name[i]) == 0)
				bench_level = (enum level)i;
		argv += 2;
		argc -= 2;
	}
	if (argc == 3 && strcmp(argv[1], "--iters") == 0) {
		/* Callgrind mode: fixed work, no timing, no output. */
		char *copy = malloc(len);

		if (copy == NULL)
			return 1;
		memcpy(copy, invite, len);
		iters = strtoul(argv[2], NULL, 10);
		for (i = 0; i < iters; i++)
			if (parse_all(copy, len) != 0)
				return 1;
		free(copy);
		return 0;
	}

	corpus_add(&c, (const uint8_t *)invite, len);
	if (parse_all(c.msg[0], len) != 0) {
		fprintf(stderr, "bench_sip_parse: the INVITE does not parse\n");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		bench_level = (enum level)i;
		med = measure(&c, 101, 20000, &p10, &p90);
		printf("scenario=invite_sdp%s bytes=%u median_ns=%.1f "
		       "p10_ns=%.1f p90_ns=%.1f\n",
		       i == LEVEL_FULL ? "" : (i == LEVEL_PARSE ? "_parse" :
					       "_parse_check"),
		       len, med, p10, p90);
	}
	bench_level = LEVEL_FULL;
	corpus_free(&c);
#ifdef HAVE_SIP_PCAP
	bench_captures(51);
#endif
	return 0;
}
