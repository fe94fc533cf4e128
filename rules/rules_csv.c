/* SPDX-License-Identifier: MIT */
/*
 * rules_csv.c - incremental CSV reader (RFC 4180 quoting, '#' comments,
 * blank lines, LF or CRLF line ends) and CSV writer for rule sets.
 * Slow path (control process). The reader keeps one row in memory, never
 * the file: bytes may arrive in chunks split anywhere.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <fmt.h>

#include "rules_priv.h"

#define RULES_CSV_ROW_MAX       65536   /* bytes in one row */
#define RULES_CSV_FIELDS_MAX    16      /* fields remembered per row */

enum rules_csv_state {
	CSV_FIELD_START,        /* at the start of a field */
	CSV_UNQUOTED,
	CSV_QUOTED,
	CSV_QUOTE_SEEN,         /* '"' inside a quoted field */
	CSV_AFTER_QUOTE,        /* blanks after a field's closing quote */
	CSV_AFTER_CR,           /* record ended by CR; swallow one LF */
	CSV_COMMENT,            /* '#' line: skip to the line end */
	CSV_SKIP,               /* broken row: skip to a line end outside quotes */
};

struct rules_csv {
	struct rules_set        *set;
	struct rules_errors      errs;
	char                    *buf;           /* current row, unquoted */
	uint32_t                 len;
	uint32_t                 cap;
	uint32_t                 fstart[RULES_CSV_FIELDS_MAX];
	uint32_t                 fend[RULES_CSV_FIELDS_MAX];
	uint32_t                 nf;            /* fields ended in this row */
	uint32_t                 cur_start;     /* start of the open field */
	uint32_t                 line;          /* current line, 1-based */
	uint32_t                 row_line;      /* line the row started on */
	uint64_t                 rows;
	uint8_t                  state;
	bool                     row_open;      /* any byte of the row seen */
	bool                     quoted;        /* open field was quoted */
	bool                     row_bad;       /* reported; drop the row */
	bool                     header_seen;
	bool                     finished;
	uint8_t                  bom;           /* UTF-8 BOM bytes matched */
	bool                     skip_q;        /* CSV_SKIP: inside quotes */
	bool                     skip_plain;    /* CSV_SKIP: quotes are text */
	bool                     qcr;           /* in quotes: last byte was CR */
	struct rules_target      tbuf[RULES_TARGETS_MAX];
};

static const char rules_csv_header[] =
	"id,kind,pattern,action,targets,rank,strip,prepend,code";

int
rules_csv_new(struct rules_csv **out)
{
	struct rules_csv *csv;
	int rc;

	csv = calloc(1, sizeof(*csv));
	if (csv == NULL)
		return -ENOMEM;
	rc = rules_set_new(&csv->set);
	if (rc != 0)
		goto out_free_csv;
	csv->cap = 4096;
	csv->buf = malloc(csv->cap);
	if (csv->buf == NULL) {
		rc = -ENOMEM;
		goto out_free_set;
	}
	csv->line = 1;
	csv->row_line = 1;
	*out = csv;
	return 0;

out_free_set:
	rules_set_free(csv->set);
out_free_csv:
	free(csv);
	return rc;
}

void
rules_csv_free(struct rules_csv *csv)
{
	if (csv == NULL)
		return;
	rules_set_free(csv->set);
	free(csv->buf);
	free(csv);
}

const struct rules_errors *
rules_csv_errors(const struct rules_csv *csv)
{
	return &csv->errs;
}

uint64_t
rules_csv_rows(const struct rules_csv *csv)
{
	return csv->rows;
}

static void
rules_csv_row_reset(struct rules_csv *csv)
{
	csv->len = 0;
	csv->nf = 0;
	csv->cur_start = 0;
	csv->row_open = false;
	csv->quoted = false;
	csv->row_bad = false;
}

/* The row's first error, in @p f; later ones are not reported. */
static void
rules_csv_error_in(struct rules_csv *csv, enum rules_field f,
		   const char *msg)
{
	if (!csv->row_bad)
		rules_errors_add(&csv->errs, csv->row_line, f, "%s", msg);
	csv->row_bad = true;
}

static void
rules_csv_row_error(struct rules_csv *csv, const char *msg)
{
	rules_csv_error_in(csv, RULES_FIELD_NONE, msg);
}

/*
 * A quoting error in the field being read: named by its column (the row
 * for the header row and for a tenth field or more).
 */
static void
rules_csv_field_error(struct rules_csv *csv, const char *msg)
{
	enum rules_field f = RULES_FIELD_NONE;

	if (csv->header_seen && csv->nf < RULES_FIELD__COUNT - 1)
		f = (enum rules_field)(RULES_FIELD_ID + csv->nf);
	rules_csv_error_in(csv, f, msg);
}

static void
rules_csv_end_field(struct rules_csv *csv)
{
	uint32_t s = csv->cur_start, e = csv->len;

	if (!csv->quoted) {
		/* Unquoted fields are trimmed: "a, b" is "a" and "b". */
		while (e > s && (csv->buf[e - 1] == ' ' ||
				 csv->buf[e - 1] == '\t'))
			e--;
	}
	if (csv->nf < RULES_CSV_FIELDS_MAX) {
		csv->fstart[csv->nf] = s;
		csv->fend[csv->nf] = e;
	}
	csv->nf++;
	csv->cur_start = csv->len;
	csv->quoted = false;
}

static bool
rules_csv_is_header(const struct rules_csv *csv)
{
	const char *h = rules_csv_header;
	uint32_t i;

	for (i = 0; i < csv->nf && i < RULES_CSV_FIELDS_MAX; i++) {
		const char *comma = strchr(h, ',');
		size_t n = comma != NULL ? (size_t)(comma - h) : strlen(h);
		struct span f = span_make(csv->buf + csv->fstart[i],
					  csv->fend[i] - csv->fstart[i]);

		if (!span_eq_nocase(f, span_make(h, n)))
			return false;
		if (comma == NULL)
			return i + 1 == csv->nf;
		h = comma + 1;
	}
	return false;
}

static int
rules_csv_end_row(struct rules_csv *csv)
{
	struct span f[RULES_CSV_FIELDS_MAX];
	struct rules_rule r;
	uint32_t i, nf;
	int rc;

	if (!csv->row_open)
		goto out;
	rules_csv_end_field(csv);
	if (csv->row_bad)
		goto out;
	/* A line of blanks is a blank line. */
	if (csv->nf == 1 && csv->fend[0] == csv->fstart[0] &&
	    csv->len == 0)
		goto out;
	if (!csv->header_seen) {
		csv->header_seen = true;
		if (rules_csv_is_header(csv))
			goto out;
		rules_errors_add(&csv->errs, csv->row_line, RULES_FIELD_NONE,
				 "missing header row: expected \"%s\"",
				 rules_csv_header);
		/* Treat it as data unless it was meant as a header. */
		if (csv->fend[0] - csv->fstart[0] == 2 &&
		    span_eq_nocase(span_make(csv->buf + csv->fstart[0], 2),
				   SPAN_LIT("id")))
			goto out;
	}
	csv->rows++;
	nf = csv->nf < RULES_CSV_FIELDS_MAX ? csv->nf : RULES_CSV_FIELDS_MAX;
	for (i = 0; i < nf; i++)
		f[i] = span_make(csv->buf + csv->fstart[i],
				 csv->fend[i] - csv->fstart[i]);
	rc = rules_fields_to_rule(f, csv->nf, csv->row_line, &r, csv->tbuf,
				  &csv->errs);
	if (rc != 0 && csv->nf != RULES_FIELD__COUNT - 1)
		goto out;
	rc = rules_set_insert(csv->set, &r, false, false, &csv->errs);
	if (rc == -ENOMEM)
		return rc;
out:
	rules_csv_row_reset(csv);
	return 0;
}

static int
rules_csv_push(struct rules_csv *csv, char c)
{
	if (csv->len == csv->cap) {
		char *b;

		if (csv->cap >= RULES_CSV_ROW_MAX) {
			rules_csv_row_error(csv, csv->state == CSV_QUOTED ?
					    "row longer than 65536 bytes (unterminated quote?)" :
					    "row longer than 65536 bytes");
			csv->skip_q = csv->state == CSV_QUOTED;
			csv->skip_plain = false;
			csv->state = CSV_SKIP;
			return 0;
		}
		b = realloc(csv->buf, csv->cap * 2);
		if (b == NULL)
			return -ENOMEM;
		csv->buf = b;
		csv->cap *= 2;
	}
	csv->buf[csv->len++] = c;
	return 0;
}

/* Append a run of ordinary bytes to the row. */
static int
rules_csv_append(struct rules_csv *csv, const unsigned char *p, size_t n)
{
	while (csv->len + n > csv->cap) {
		char *b;

		if (csv->cap >= RULES_CSV_ROW_MAX) {
			rules_csv_row_error(csv, "row longer than 65536 bytes");
			csv->skip_q = false;
			csv->skip_plain = false;
			csv->state = CSV_SKIP;
			return 0;
		}
		b = realloc(csv->buf, csv->cap * 2);
		if (b == NULL)
			return -ENOMEM;
		csv->buf = b;
		csv->cap *= 2;
	}
	memcpy(csv->buf + csv->len, p, n);
	csv->len += (uint32_t)n;
	return 0;
}

/* Bytes that end a run inside an unquoted field. */
static const bool rules_csv_special[256] = {
	[','] = true, ['\n'] = true, ['\r'] = true, ['"'] = true,
};

/*
 * Count the line ends inside a quoted field: LF, CRLF and a lone CR are
 * one line each, as outside quotes.
 */
static inline void
rules_csv_qline(struct rules_csv *csv, unsigned char c)
{
	if (c == '\r' || (c == '\n' && !csv->qcr))
		csv->line++;
	csv->qcr = c == '\r';
}

int
rules_csv_feed(struct rules_csv *csv, const void *data, size_t n)
{
	const unsigned char *p = data, *end = p + n;
	int rc;

	if (csv->finished)
		return -EINVAL;
	for (; p < end; p++) {
		unsigned char c = *p;

		/* A UTF-8 byte order mark before the header is ignored. */
		if (csv->bom < 3 && csv->line == 1 && !csv->row_open &&
		    csv->state == CSV_FIELD_START) {
			static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

			if (c == bom[csv->bom]) {
				csv->bom++;
				continue;
			}
			if (csv->bom != 0)
				rules_errors_add(&csv->errs, 1,
						 RULES_FIELD_NONE,
						 "the file starts with %u of the 3 bytes of a UTF-8 byte order mark (EF BB BF)",
						 (unsigned int)csv->bom);
			csv->bom = 3;
		}

		switch (csv->state) {
		case CSV_AFTER_CR:
			csv->state = CSV_FIELD_START;
			if (c == '\n')
				continue;
			SIPEDGE_FALLTHROUGH;
		case CSV_FIELD_START:
			if (!csv->row_open) {
				csv->row_line = csv->line;
				if (c == '#') {
					csv->state = CSV_COMMENT;
					continue;
				}
			}
			if (c == ' ' || c == '\t') {
				csv->row_open = true;
				continue;
			}
			if (c == '"') {
				csv->row_open = true;
				csv->quoted = true;
				csv->qcr = false;
				csv->state = CSV_QUOTED;
				continue;
			}
			csv->state = CSV_UNQUOTED;
			SIPEDGE_FALLTHROUGH;
		case CSV_UNQUOTED:
			if (!rules_csv_special[c]) {
				/* Fast path: the rest of the run in one copy. */
				const unsigned char *q = p + 1;

				while (q < end && !rules_csv_special[*q])
					q++;
				csv->row_open = true;
				rc = rules_csv_append(csv, p, (size_t)(q - p));
				if (rc != 0)
					return rc;
				p = q - 1;
			} else if (c == ',') {
				csv->row_open = true;
				rules_csv_end_field(csv);
				csv->state = CSV_FIELD_START;
			} else if (c == '\n' || c == '\r') {
				rc = rules_csv_end_row(csv);
				if (rc != 0)
					return rc;
				csv->line++;
				csv->state = c == '\r' ? CSV_AFTER_CR :
					     CSV_FIELD_START;
			} else if (c == '"') {
				rules_csv_field_error(csv,
						      "quote inside an unquoted field (quote the whole field and double the quote)");
				/* Which of its quotes pair up is anyone's
				 * guess: the row ends at the line end. */
				csv->skip_q = false;
				csv->skip_plain = true;
				csv->state = CSV_SKIP;
			}
			break;
		case CSV_QUOTED:
			rules_csv_qline(csv, c);
			if (c == '"') {
				csv->state = CSV_QUOTE_SEEN;
				break;
			}
			rc = rules_csv_push(csv, (char)c);
			if (rc != 0)
				return rc;
			break;
		case CSV_QUOTE_SEEN:
		case CSV_AFTER_QUOTE:
			if (c == '"' && csv->state == CSV_QUOTE_SEEN) {
				/* "" inside the quotes; after a blank, a quote
				 * is text after the field (an error below) */
				csv->state = CSV_QUOTED;
				rc = rules_csv_push(csv, '"');
				if (rc != 0)
					return rc;
			} else if (c == ' ' || c == '\t') {
				csv->state = CSV_AFTER_QUOTE;
			} else if (c == ',') {
				rules_csv_end_field(csv);
				csv->state = CSV_FIELD_START;
			} else if (c == '\n' || c == '\r') {
				rc = rules_csv_end_row(csv);
				if (rc != 0)
					return rc;
				csv->line++;
				csv->state = c == '\r' ? CSV_AFTER_CR :
					     CSV_FIELD_START;
			} else {
				rules_csv_field_error(csv,
						      "text after the closing quote of a field");
				/* a quote here opens a quoted run */
				csv->skip_q = c == '"';
				csv->qcr = false;
				csv->skip_plain = false;
				csv->state = CSV_SKIP;
			}
			break;
		case CSV_COMMENT:
			if (c == '\n' || c == '\r') {
				csv->line++;
				csv->state = c == '\r' ? CSV_AFTER_CR :
					     CSV_FIELD_START;
			}
			break;
		case CSV_SKIP:
			if (csv->skip_plain && c == '"') {
				/* quotes are text in this row */
			} else if (csv->skip_q) {
				rules_csv_qline(csv, c);
				csv->skip_q = c != '"';
			} else if (c == '"') {
				csv->skip_q = true;
				csv->qcr = false;
			} else if (c == '\n' || c == '\r') {
				csv->row_open = true;
				rc = rules_csv_end_row(csv);
				if (rc != 0)
					return rc;
				csv->line++;
				csv->state = c == '\r' ? CSV_AFTER_CR :
					     CSV_FIELD_START;
			}
			break;
		}
	}
	return 0;
}

int
rules_csv_finish(struct rules_csv *csv, struct rules_set **out)
{
	int rc;

	*out = NULL;
	if (csv->finished)
		return -EINVAL;
	if (csv->state == CSV_QUOTED) {
		rules_csv_row_error(csv, "unterminated quoted field at end of file");
	}
	if (csv->state != CSV_COMMENT) {
		rc = rules_csv_end_row(csv);
		if (rc != 0)
			return rc;
	}
	csv->finished = true;
	if (!csv->header_seen)
		rules_errors_add(&csv->errs, 1, RULES_FIELD_NONE,
				 "empty input: missing header row \"%s\"",
				 rules_csv_header);
	if (csv->errs.total != 0)
		return -EINVAL;
	*out = csv->set;
	csv->set = NULL;
	return 0;
}

int
rules_csv_parse(const void *buf, size_t len, struct rules_set **out,
		struct rules_errors *errs)
{
	struct rules_csv *csv;
	int rc;

	*out = NULL;
	rc = rules_csv_new(&csv);
	if (rc != 0)
		return rc;
	rc = rules_csv_feed(csv, buf, len);
	if (rc == 0)
		rc = rules_csv_finish(csv, out);
	if (errs != NULL)
		memcpy(errs, &csv->errs, sizeof(*errs));
	rules_csv_free(csv);
	return rc;
}

/* ------------------------------------------------------------------ */
/* One row given as text (route add)                                  */

/**
 * Split one CSV row into fields, unquoting into @p buf.
 *
 * @return
 *   0; -EINVAL for broken quoting; -E2BIG if it does not fit.
 */
int
rules_csv_split_row(const char *row, size_t len, struct span *f,
		    uint32_t maxf, uint32_t *nf, char *buf, size_t cap)
{
	const char *p = row, *end = row + len;
	size_t o = 0;
	uint32_t k = 0;

	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (;;) {
		size_t start;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		start = o;
		if (p < end && *p == '"') {
			p++;
			for (;;) {
				if (p == end)
					return -EINVAL;
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						p++;
					} else {
						p++;
						break;
					}
				}
				if (o == cap)
					return -E2BIG;
				buf[o++] = *p++;
			}
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p < end && *p != ',')
				return -EINVAL;
		} else {
			while (p < end && *p != ',') {
				if (*p == '"')
					return -EINVAL;
				if (o == cap)
					return -E2BIG;
				buf[o++] = *p++;
			}
			while (o > start && (buf[o - 1] == ' ' ||
					     buf[o - 1] == '\t'))
				o--;
		}
		if (k == maxf)
			return -E2BIG;
		f[k++] = span_make(buf + start, o - start);
		if (p == end)
			break;
		p++;    /* the comma */
	}
	*nf = k;
	return 0;
}

int
rules_set_add_csv_row(struct rules_set *set, const char *row, size_t len,
		      uint32_t line, struct rules_errors *errs)
{
	struct rules_target tbuf[RULES_TARGETS_MAX];
	struct span f[RULES_CSV_FIELDS_MAX];
	struct rules_rule r;
	uint32_t nf;
	char *buf;
	int rc;

	buf = malloc(len + 1);
	if (buf == NULL)
		return -ENOMEM;
	{
		/* A line end before the trailing ones: two rows, or a quoted
		 * field across lines. */
		const char *e = row + len;

		while (e > row && (e[-1] == '\n' || e[-1] == '\r'))
			e--;
		if (memchr(row, '\n', (size_t)(e - row)) != NULL ||
		    memchr(row, '\r', (size_t)(e - row)) != NULL)
			rc = -EMLINK;
		else
			rc = rules_csv_split_row(row, len, f,
						 RULES_CSV_FIELDS_MAX, &nf,
						 buf, len + 1);
	}
	if (rc != 0) {
		rules_errors_add(errs, line, RULES_FIELD_NONE, "%s",
				 rc == -E2BIG ? "more fields than the 9 of a rule row (id,kind,pattern,action,targets,rank,strip,prepend,code)" :
				 rc == -EMLINK ? "one rule row only: the text holds a line end" :
				 "malformed CSV row (a quote inside an unquoted field, text after a closing quote, or an unterminated quote)");
		rc = -EINVAL;
		goto out_free;
	}
	rc = rules_fields_to_rule(f, nf, line, &r, tbuf, errs);
	if (rc != 0 && nf != RULES_FIELD__COUNT - 1)
		goto out_free;
	{
		/* A row with a field that did not parse is still checked (to
		 * report every problem), but never added. */
		int rc2 = rules_set_insert(set, &r, false, rc != 0, errs);

		if (rc == 0)
			rc = rc2;
	}
out_free:
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Writer                                                             */

static bool
rules_csv_needs_quotes(struct span s, bool first)
{
	uint32_t i;

	if (s.len == 0)
		return false;
	if (s.ptr[0] == ' ' || s.ptr[0] == '\t' || s.ptr[s.len - 1] == ' ' ||
	    s.ptr[s.len - 1] == '\t' || (first && s.ptr[0] == '#'))
		return true;
	for (i = 0; i < s.len; i++)
		if (s.ptr[i] == ',' || s.ptr[i] == '"' || s.ptr[i] == '\n' ||
		    s.ptr[i] == '\r')
			return true;
	return false;
}

static void
rules_csv_put_field(struct fmt_buf *b, struct span s, bool first)
{
	uint32_t i;

	if (!rules_csv_needs_quotes(s, first)) {
		fmt_buf_span(b, s);
		return;
	}
	fmt_buf_lit(b, "\"");
	for (i = 0; i < s.len; i++) {
		if (s.ptr[i] == '"')
			fmt_buf_lit(b, "\"");
		fmt_buf_mem(b, &s.ptr[i], 1);
	}
	fmt_buf_lit(b, "\"");
}

static void
rules_csv_put_target(struct fmt_buf *b, const struct rules_target *t)
{
	char a[64];

	if (t->af == RULES_AF_NAME) {
		fmt_buf_mem(b, t->name, t->name_len);
	} else if (t->af == RULES_AF_INET6) {
		inet_ntop(AF_INET6, t->addr, a, sizeof(a));
		fmt_buf_lit(b, "[");
		fmt_buf_mem(b, a, (uint32_t)strlen(a));
		fmt_buf_lit(b, "]");
	} else {
		inet_ntop(AF_INET, t->addr, a, sizeof(a));
		fmt_buf_mem(b, a, (uint32_t)strlen(a));
	}
	fmt_buf_lit(b, ":");
	fmt_buf_u64(b, t->port);
	fmt_buf_lit(b, "/");
	fmt_buf_u64(b, t->priority);
	fmt_buf_lit(b, "/");
	fmt_buf_u64(b, t->weight);
}

int
rules_rule_to_csv(const struct rules_rule *r, char *out, size_t cap,
		  size_t *len)
{
	const char *kn = rules_kind_name(r->kind);
	const char *an = rules_action_name(r->action);
	struct fmt_buf b;
	uint32_t i;

	fmt_buf_init(&b, out, cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap);
	rules_csv_put_field(&b, r->id, true);
	fmt_buf_lit(&b, ",");
	fmt_buf_mem(&b, kn, (uint32_t)strlen(kn));
	fmt_buf_lit(&b, ",");
	rules_csv_put_field(&b, r->pattern, false);
	fmt_buf_lit(&b, ",");
	fmt_buf_mem(&b, an, (uint32_t)strlen(an));
	fmt_buf_lit(&b, ",");
	for (i = 0; i < r->ntargets; i++) {
		if (i != 0)
			fmt_buf_lit(&b, "|");
		rules_csv_put_target(&b, &r->targets[i]);
	}
	fmt_buf_lit(&b, ",");
	fmt_buf_u64(&b, r->rank);
	fmt_buf_lit(&b, ",");
	if (r->strip != 0)
		fmt_buf_u64(&b, r->strip);
	fmt_buf_lit(&b, ",");
	rules_csv_put_field(&b, r->prepend, false);
	fmt_buf_lit(&b, ",");
	if (r->code != 0)
		fmt_buf_u64(&b, r->code);
	if (b.overflow)
		return -ENOSPC;
	*len = (size_t)(b.p - out);
	return 0;
}

int
rules_set_export_csv(const struct rules_set *set, rules_write_fn *fn,
		     void *arg)
{
	enum { CHUNK = 65536, ROW = 4 * RULES_PATTERN_MAX + 2048 };
	struct rules_rule r;
	size_t used = 0, n;
	uint32_t i;
	char *buf;
	int rc;

	buf = malloc(CHUNK);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, rules_csv_header, sizeof(rules_csv_header) - 1);
	used = sizeof(rules_csv_header) - 1;
	buf[used++] = '\n';
	for (i = 0; i < set->n; i++) {
		if (CHUNK - used < ROW) {
			rc = fn(arg, buf, used);
			if (rc != 0)
				goto out_free;
			used = 0;
		}
		rules_srule_view(set, &set->rule[i], &r);
		rc = rules_rule_to_csv(&r, buf + used, CHUNK - used - 1, &n);
		if (rc == -ENOSPC && used != 0) {
			/* A row longer than ROW (16 host names near 253
			 * bytes, a pattern of quotes): an empty chunk
			 * holds any row. */
			rc = fn(arg, buf, used);
			if (rc != 0)
				goto out_free;
			used = 0;
			rc = rules_rule_to_csv(&r, buf, CHUNK - 1, &n);
		}
		if (rc != 0)
			goto out_free;
		used += n;
		buf[used++] = '\n';
	}
	rc = used != 0 ? fn(arg, buf, used) : 0;
out_free:
	free(buf);
	return rc;
}
