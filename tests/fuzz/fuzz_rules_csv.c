/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rules_csv.c - libFuzzer target for the rules CSV reader.
 *
 * The input is fed in chunks whose sizes come from the first byte, so
 * splits inside quotes and CRLFs are exercised. A file that is accepted
 * must export to CSV that re-imports to the same set, and small sets are
 * compiled, loaded and matched with explain's independent check.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rules.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	char    *buf;
	size_t   len;
};

static int
sink_write(void *arg, const char *buf, size_t len)
{
	struct sink *s = arg;
	char *p = realloc(s->buf, s->len + len);

	if (p == NULL)
		return -1;
	memcpy(p + s->len, buf, len);
	s->buf = p;
	s->len += len;
	return 0;
}

static void
check_roundtrip(const struct rules_set *set)
{
	struct rules_set *again = NULL;
	struct sink s = { NULL, 0 };
	struct rules_diff d;
	unsigned int k;

	if (rules_set_export_csv(set, sink_write, &s) != 0)
		abort();
	if (rules_csv_parse(s.buf, s.len, &again, NULL) != 0)
		abort();
	rules_set_diff(set, again, &d);
	for (k = 0; k < RULES_KIND__COUNT; k++)
		if (d.added[k] != 0 || d.removed[k] != 0 || d.changed[k] != 0)
			abort();
	rules_set_free(again);
	free(s.buf);
}

/* Names resolve to 1-3 addresses drawn from their bytes (the control
 * process's resolver is the system's; the compiler only sees the list). */
static int
fuzz_resolve(void *arg, struct span name, struct rules_addr *out,
	     uint32_t max, char *why, size_t why_len)
{
	uint32_t h = 2166136261u, i, n;

	(void)arg;
	for (i = 0; i < name.len; i++)
		h = (h ^ (unsigned char)name.ptr[i]) * 16777619u;
	if ((h & 7) == 0) {
		snprintf(why, why_len, "no such host");
		return -ENOENT;
	}
	n = 1 + (h >> 3) % 3;
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].af = RULES_AF_INET;
		out[i].addr[0] = 198;
		out[i].addr[1] = 18;
		out[i].addr[2] = (uint8_t)(h >> 8);
		out[i].addr[3] = (uint8_t)((h >> 16) + i % 2);
	}
	return (int)n;
}

static void
check_match(const struct rules_set *set, const uint8_t *data, size_t size)
{
	struct rules_explain *ex;
	struct rules_scratch *scr = NULL;
	struct rules_db *db = NULL;
	struct rules_key key;
	size_t len, i;
	void *img;

	if (rules_set_count(set, NULL) > 32 ||
	    rules_compile_resolved(set, fuzz_resolve, NULL, &img, &len,
				   NULL) != 0)
		return;
	if (rules_db_load(img, len, &db) != 0 ||
	    rules_scratch_new(db, &scr) != 0)
		abort();
	free(img);
	ex = malloc(sizeof(*ex));
	if (ex == NULL)
		abort();
	/* Keys: slices of the input itself. */
	for (i = 0; i + 1 < size && i < 64; i += 8) {
		size_t n = size - i < 20 ? size - i : 20;

		if (rules_key_make(span_make((const char *)data + i, n),
				   span_make((const char *)data + i, n / 2),
				   &key) != 0)
			continue;
		if (rules_explain(db, scr, &key, i, NULL, ex) != 0)
			continue;
		if (!ex->fast_agrees)
			abort();
	}
	free(ex);
	rules_scratch_free(scr);
	rules_db_free(db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules_csv *csv;
	struct rules_set *set = NULL;
	size_t off = 1, chunk;

	if (size == 0)
		return 0;
	chunk = 1 + data[0] % 64;
	if (rules_csv_new(&csv) != 0)
		return 0;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (rules_csv_feed(csv, data + off, n) != 0)
			break;
		off += n;
	}
	if (rules_csv_finish(csv, &set) == 0) {
		check_roundtrip(set);
		check_match(set, data + 1, size - 1);
		rules_set_free(set);
	} else if (rules_csv_errors(csv)->total == 0) {
		abort();        /* refused without saying why */
	}
	rules_csv_free(csv);
	return 0;
}
