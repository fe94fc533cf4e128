/* SPDX-License-Identifier: MIT */
/*
 * bench_rules_match.c - route table build and lookup.
 *
 * Generates E.164-shaped prefix tables (10k, 100k, 1M rules: country
 * code, area code, 4-12 digits in all) and regex tables (100, 1,000
 * rules), imports them through the CSV reader, compiles and loads the
 * image, and measures lookups. Prints one CSV line per figure:
 *
 *   scenario,metric,value,unit
 *
 * Timing goals (DESIGN.md 4.2, the routing issue): 1M prefixes built in
 * < 2 s into < 64 MB with a median lookup < 50 ns; 1,000 regexes
 * compiled in < 10 s and matched in < 300 ns. Never pass/fail here.
 *
 * Lookup keys (prefix tables): 3/4 are a prefix drawn uniformly from the
 * table itself, extended with random digits to 11-15 digits; 1/4 are
 * random 11-15 digit strings. Regex keys: a country code and random
 * digits, 10-15 in all. Single-key figures time rules_match() one key
 * after another; burst figures time rules_match_burst() on 32 keys and
 * divide by 32 (per key in a burst).
 *
 * usage: bench_rules_match [--quick] [scenario...]
 *   --quick: skip the 1M table; scenarios: run only these (prefix_10k,
 *   prefix_100k, prefix_1m, regex_100, regex_1000, regex_1000_cc_led).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <rules.h>

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint32_t
rng(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used by this process (user + system): unlike wall time,
 * not inflated when other jobs share the cores. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Reset the peak-RSS counter (Linux >= 4.0), then read it in kB. */
static void
peak_rss_reset(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f != NULL) {
		fputs("5", f);
		fclose(f);
	}
}

static long
peak_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
put(const char *scenario, const char *metric, double v, const char *unit)
{
	printf("%s,%s,%.6g,%s\n", scenario, metric, v, unit);
	fflush(stdout);
}

struct text {
	char    *p;
	size_t   len;
	size_t   cap;
};

static void
text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		if (t->p == NULL)
			abort();
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static const char *const cc[] = {
	"1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40",
	"41", "43", "44", "45", "46", "47", "48", "49", "52", "54", "55",
	"61", "62", "63", "64", "65", "66", "81", "82", "84", "86", "90",
	"91", "92", "234", "254", "351", "353", "358", "420", "852", "971",
	"972", "966",
};

/* One E.164-shaped prefix: country code, area code, 4-12 digits. */
static uint32_t
gen_prefix(char *p)
{
	const char *c = cc[rng(sizeof(cc) / sizeof(cc[0]))];
	uint32_t n = (uint32_t)strlen(c), total = 4 + rng(9), i;

	memcpy(p, c, n);
	/* area codes: 1-3 digits, not starting with 0 */
	for (i = 0; i < 1 + rng(3) && n < total; i++)
		p[n++] = (char)('1' + (i == 0 ? rng(9) : rng(9)));
	while (n < total)
		p[n++] = (char)('0' + rng(10));
	p[n] = '\0';
	return n;
}

static const char *const gw[] = {
	"198.19.0.1:5060/1/70|198.19.0.2:5060/1/30|198.19.1.1:5060/2",
	"198.19.0.3:5060",
	"198.19.0.4:5060/1/50|198.19.0.5:5060/1/50",
	"[2001:db8::10]:5060/1|198.19.0.6:5060/2",
	"198.19.0.7:5080/1/10|198.19.0.8:5080/1/10|198.19.0.9:5080/1/10",
};

static struct rules_set *
import(const struct text *csv, const char *scenario)
{
	struct rules_errors *errs = calloc(1, sizeof(*errs));
	struct rules_csv *rd;
	struct rules_set *set;
	size_t off;
	double t0, c0;

	if (errs == NULL || rules_csv_new(&rd) != 0)
		abort();
	t0 = now_s();
	c0 = cpu_s();
	/* The control process gets the file over a socket: 64 KiB chunks. */
	for (off = 0; off < csv->len; off += 65536)
		rules_csv_feed(rd, csv->p + off,
			       csv->len - off < 65536 ? csv->len - off : 65536);
	if (rules_csv_finish(rd, &set) != 0) {
		const struct rules_errors *e = rules_csv_errors(rd);

		fprintf(stderr, "%s: import failed: line %u: %s\n", scenario,
			e->e[0].line, e->e[0].msg);
		exit(1);
	}
	put(scenario, "csv_import_s", now_s() - t0, "s");
	put(scenario, "csv_import_cpu_s", cpu_s() - c0, "s");
	put(scenario, "csv_bytes", (double)csv->len, "B");
	rules_csv_free(rd);
	free(errs);
	return set;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

#define NKEYS   (1u << 20)
#define BATCH   1024

/* Median over batches of per-lookup nanoseconds. */
static void
measure_lookups(const char *scenario, struct rules_db *db,
		struct rules_scratch *scr, char (*keys)[16], uint32_t *klen)
{
	uint32_t nb = NKEYS / BATCH, *ns = malloc(nb * sizeof(*ns));
	uint32_t *nsk = malloc(nb * sizeof(*nsk));
	uint64_t sink = 0, hits = 0;
	struct rules_key k;
	struct rules_dest d;
	uint32_t i, b, rule;

	if (ns == NULL || nsk == NULL)
		abort();
	/*
	 * A worker builds its key on the stack from the packet: the key
	 * struct here is reused, the digits come from a compact array read
	 * in order, so the figure is the matcher's, not the key array's.
	 */
	memset(&k, 0, sizeof(k));
	for (i = 0; i < NKEYS; i++) {           /* warm up */
		memcpy(k.num, keys[i], 16);
		k.num_len = klen[i];
		if (rules_match(db, scr, &k, &rule) == 0)
			sink += rule;
	}
	for (b = 0; b < nb; b++) {
		double t0 = now_s();

		for (i = b * BATCH; i < (b + 1) * BATCH; i++) {
			memcpy(k.num, keys[i], 16);
			k.num_len = klen[i];
			if (rules_match(db, scr, &k, &rule) == 0) {
				sink += rule;
				hits++;
			}
		}
		ns[b] = (uint32_t)((now_s() - t0) * 1e9 / BATCH + 0.5);
	}
	/* The whole worker step: key from the wire, match, pick a target. */
	for (b = 0; b < nb; b++) {
		double t0 = now_s();

		for (i = b * BATCH; i < (b + 1) * BATCH; i++) {
			rules_key_make((struct span){ keys[i], klen[i] },
				       SPAN_NULL, &k);
			if (rules_match(db, scr, &k, &rule) == 0 &&
			    rules_pick_target(db, rule, i * 0x9e3779b97f4a7c15ULL,
					      NULL, &d) == 0)
				sink += d.port;
		}
		nsk[b] = (uint32_t)((now_s() - t0) * 1e9 / BATCH + 0.5);
	}
	/* Bursts of 32 keys, as a worker classifies an rx burst. */
	{
		struct rules_key *bk = malloc(32 * sizeof(*bk));
		uint32_t *nsb = malloc(nb * sizeof(*nsb)), out[32], j;

		if (bk == NULL || nsb == NULL)
			abort();
		memset(bk, 0, 32 * sizeof(*bk));
		for (b = 0; b < nb; b++) {
			double t0 = now_s();

			for (i = b * BATCH; i < (b + 1) * BATCH; i += 32) {
				for (j = 0; j < 32; j++) {
					memcpy(bk[j].num, keys[i + j], 16);
					bk[j].num_len = klen[i + j];
				}
				hits += rules_match_burst(db, scr, bk, 32, out);
				sink += out[0];
			}
			nsb[b] = (uint32_t)((now_s() - t0) * 1e9 / BATCH + 0.5);
		}
		qsort(nsb, nb, sizeof(*nsb), cmp_u32);
		put(scenario, "lookup_burst32_median_ns", nsb[nb / 2], "ns");
		put(scenario, "lookup_burst32_p99_ns", nsb[nb * 99 / 100], "ns");
		/* A worker's burst: match 32 keys, start loading their rules,
		 * then a target for each. */
		for (b = 0; b < nb; b++) {
			double t0 = now_s();

			for (i = b * BATCH; i < (b + 1) * BATCH; i += 32) {
				for (j = 0; j < 32; j++) {
					memcpy(bk[j].num, keys[i + j], 16);
					bk[j].num_len = klen[i + j];
				}
				rules_match_burst(db, scr, bk, 32, out);
				for (j = 0; j < 32; j++)
					rules_hit_prefetch(db, out[j]);
				for (j = 0; j < 32; j++)
					if (out[j] < RULES_MATCH_ERROR &&
					    rules_pick_target(db, out[j],
							      (i + j) * 0x9e3779b97f4a7c15ULL,
							      NULL, &d) == 0)
						sink += d.port;
			}
			nsb[b] = (uint32_t)((now_s() - t0) * 1e9 / BATCH + 0.5);
		}
		qsort(nsb, nb, sizeof(*nsb), cmp_u32);
		put(scenario, "burst32_match_pick_median_ns", nsb[nb / 2], "ns");
		hits /= 2;      /* counted by both loops */
		free(nsb);
		free(bk);
	}
	qsort(ns, nb, sizeof(*ns), cmp_u32);
	qsort(nsk, nb, sizeof(*nsk), cmp_u32);
	put(scenario, "lookup_median_ns", ns[nb / 2], "ns");
	put(scenario, "lookup_p99_ns", ns[nb * 99 / 100], "ns");
	put(scenario, "key_match_pick_median_ns", nsk[nb / 2], "ns");
	put(scenario, "hit_ratio", (double)hits / NKEYS, "ratio");
	if (sink == 42)
		fputs("", stderr);
	free(nsk);
	free(ns);
}

static void
build_and_measure(const char *scenario, struct rules_set *set,
		  char (*keys)[16], uint32_t *klen, uint32_t *trie_nodes,
		  size_t *trie_bytes)
{
	struct rules_errors *errs = calloc(1, sizeof(*errs));
	struct rules_db_sizes sz;
	struct rules_scratch *scr;
	struct rules_db *db;
	size_t len;
	void *img;
	double t0, c0;
	int rc;

	peak_rss_reset();
	put(scenario, "rss_before_build_mb", (double)peak_rss_kb() / 1024, "MB");
	t0 = now_s();
	c0 = cpu_s();
	rc = rules_compile(set, &img, &len, errs);
	if (rc != 0) {
		fprintf(stderr, "%s: compile: %d %s\n", scenario, rc,
			errs->n != 0 ? errs->e[0].msg : "");
		exit(1);
	}
	put(scenario, "build_s", now_s() - t0, "s");
	put(scenario, "build_cpu_s", cpu_s() - c0, "s");
	put(scenario, "build_peak_rss_mb", (double)peak_rss_kb() / 1024, "MB");
	put(scenario, "image_mb", (double)len / (1024 * 1024), "MB");
	t0 = now_s();
	if (rules_db_load(img, len, &db) != 0 ||
	    rules_scratch_new(db, &scr) != 0)
		abort();
	put(scenario, "load_s", now_s() - t0, "s");
	free(img);
	rules_db_sizes(db, &sz);
	put(scenario, "trie_mb", (double)sz.trie / (1024 * 1024), "MB");
	put(scenario, "trie_nodes", sz.trie_nodes, "nodes");
	put(scenario, "regex_db_mb", (double)sz.regex / (1024 * 1024), "MB");
	if (trie_nodes != NULL) {
		*trie_nodes = sz.trie_nodes;
		*trie_bytes = sz.trie;
	}
	measure_lookups(scenario, db, scr, keys, klen);
	rules_scratch_free(scr);
	rules_db_free(db);
	free(errs);
}

static void
bench_prefixes(uint32_t n, const char *scenario, uint32_t *nodes,
	       size_t *bytes)
{
	char (*keys)[16] = malloc((size_t)NKEYS * sizeof(*keys));
	char (*pats)[16] = malloc((size_t)n * sizeof(*pats));
	uint32_t *klen = malloc((size_t)NKEYS * sizeof(*klen));
	struct text csv = { 0 };
	struct rules_set *set;
	char row[256];
	uint32_t i;

	if (keys == NULL || pats == NULL || klen == NULL)
		abort();
	rng_state = 0x2545f4914f6cdd1dULL ^ n;  /* same table whatever runs */
	text_add(&csv, "id,kind,pattern,action,targets,rank,strip,prepend,code\n", 55);
	for (i = 0; i < n; i++) {
		int m;

		gen_prefix(pats[i]);
		m = snprintf(row, sizeof(row), "p%07u,prefix,+%s,forward,%s,,,,\n",
			     i, pats[i], gw[rng(5)]);
		text_add(&csv, row, (size_t)m);
	}
	text_add(&csv, "fallback,default,,forward,198.19.0.9:5060,,,,\n", 46);
	/* Keys: 3/4 extend a table prefix to 11-15 digits, 1/4 random. */
	for (i = 0; i < NKEYS; i++) {
		uint32_t l, want = 11 + rng(5);

		if (rng(4) != 0) {
			const char *p = pats[rng(n)];

			l = (uint32_t)strlen(p);
			memcpy(keys[i], p, l);
		} else {
			l = 0;
		}
		while (l < want)
			keys[i][l++] = (char)('0' + rng(10));
		klen[i] = l;
	}
	set = import(&csv, scenario);
	free(csv.p);
	build_and_measure(scenario, set, keys, klen, nodes, bytes);
	rules_set_free(set);
	free(klen);
	free(pats);
	free(keys);
}

/*
 * Regex shapes an operator writes: premium ranges and area alternatives
 * led by a country code (shapes 0-1, like DESIGN.md's ^1900[0-9]{7}$),
 * and harder ones with a leading class or an open repeat (shapes 2-3).
 */
static int
gen_regex(char *p, size_t cap, uint32_t shapes)
{
	const char *c = cc[rng(sizeof(cc) / sizeof(cc[0]))];

	switch (rng(shapes)) {
	case 0:
		return snprintf(p, cap, "^%s%u[0-9]{%u}$", c, 100 + rng(900),
				4 + rng(5));
	case 1:
		return snprintf(p, cap, "%s(%u|%u|%u)[0-9]{%u,%u}", c,
				10 + rng(90), 100 + rng(900), 1 + rng(9),
				4 + rng(3), 7 + rng(3));
	case 2:
		return snprintf(p, cap, "[2-9][0-9]{2}%u[0-9]{4}",
				100 + rng(900));
	default:
		return snprintf(p, cap, "%s[1-9][0-9]?%u[0-9]*%u", c,
				rng(100), rng(10));
	}
}

static void
bench_regex(uint32_t n, uint32_t shapes, const char *scenario)
{
	char (*keys)[16] = malloc((size_t)NKEYS * sizeof(*keys));
	uint32_t *klen = malloc((size_t)NKEYS * sizeof(*klen));
	struct text csv = { 0 };
	struct rules_set *set;
	char row[256], re[128];
	uint32_t i;

	if (keys == NULL || klen == NULL)
		abort();
	rng_state = 0x2545f4914f6cdd1dULL ^ n ^ (uint64_t)shapes << 32;
	text_add(&csv, "id,kind,pattern,action,targets,rank,strip,prepend,code\n", 55);
	for (i = 0; i < n; i++) {
		int m;

		gen_regex(re, sizeof(re), shapes);
		m = snprintf(row, sizeof(row), "re%05u,regex,\"%s\",forward,%s,,,,\n",
			     i, re, gw[rng(5)]);
		text_add(&csv, row, (size_t)m);
	}
	for (i = 0; i < NKEYS; i++) {
		const char *c = cc[rng(sizeof(cc) / sizeof(cc[0]))];
		uint32_t l = (uint32_t)strlen(c), want = 10 + rng(6);

		memcpy(keys[i], c, l);
		while (l < want)
			keys[i][l++] = (char)('0' + rng(10));
		klen[i] = l;
	}
	set = import(&csv, scenario);
	free(csv.p);
	build_and_measure(scenario, set, keys, klen, NULL, NULL);
	rules_set_free(set);
	free(klen);
	free(keys);
}

static bool
wanted(int argc, char **argv, const char *scenario)
{
	bool any = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			continue;
		any = true;
		if (strcmp(argv[i], scenario) == 0)
			return true;
	}
	return !any;
}

int
main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	uint32_t nodes[3] = { 0 };
	size_t bytes[3] = { 0 };

	printf("scenario,metric,value,unit\n");
	if (wanted(argc, argv, "prefix_10k"))
		bench_prefixes(10000, "prefix_10k", &nodes[0], &bytes[0]);
	if (wanted(argc, argv, "prefix_100k"))
		bench_prefixes(100000, "prefix_100k", &nodes[1], &bytes[1]);
	if (!quick && wanted(argc, argv, "prefix_1m"))
		bench_prefixes(1000000, "prefix_1m", &nodes[2], &bytes[2]);
	if (wanted(argc, argv, "regex_100"))
		bench_regex(100, 4, "regex_100");
	if (wanted(argc, argv, "regex_1000"))
		bench_regex(1000, 4, "regex_1000");
	if (wanted(argc, argv, "regex_1000_cc_led"))
		bench_regex(1000, 2, "regex_1000_cc_led");
	fprintf(stderr, "trie sizes: 10k %u nodes %.2f MB | 100k %u nodes %.2f MB | 1M %u nodes %.2f MB\n",
		nodes[0], (double)bytes[0] / 1048576, nodes[1],
		(double)bytes[1] / 1048576, nodes[2],
		(double)bytes[2] / 1048576);
	return 0;
}
