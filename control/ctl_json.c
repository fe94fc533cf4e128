/* SPDX-License-Identifier: MIT */
/*
 * ctl_json.c - the JSON of the control protocol: a streaming writer into a
 * ctl_buf, and a small DOM parser for requests (server) and replies
 * (sipedgectl). Inputs are bounded by CTL_FRAME_MAX, nesting by
 * CTL_JSON_DEPTH_MAX, so recursion depth is bounded too.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8.h>

#include "ctl.h"

void
ctl_jw_init(struct ctl_jw *w, struct ctl_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

static void
ctl_jw_escape(struct ctl_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	size_t i;
	char esc[6];

	ctl_buf_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;
		size_t rlen = 2;

		switch (c) {
		case '"':
			rep = "\\\"";
			break;
		case '\\':
			rep = "\\\\";
			break;
		case '\n':
			rep = "\\n";
			break;
		case '\r':
			rep = "\\r";
			break;
		case '\t':
			rep = "\\t";
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				rep = esc;
				rlen = 6;
			} else if (c >= 0x80) {
				/* JSON text is UTF-8 (RFC 8259 §8.1): a byte
				 * of no valid sequence (a cut excerpt, a
				 * binary id) becomes U+FFFD. */
				size_t k = utf8_seq_len(s + i, n - i);

				if (k != 0) {
					i += k - 1;
					continue;
				}
				rep = "\\ufffd";
				rlen = 6;
			}
			break;
		}
		if (rep == NULL)
			continue;
		ctl_buf_add(b, run, (size_t)(s + i - run));
		ctl_buf_add(b, rep, rlen);
		run = s + i + 1;
	}
	ctl_buf_add(b, run, (size_t)(s + n - run));
	ctl_buf_add(b, "\"", 1);
}

/* Comma and key before a value. */
static void
ctl_jw_pre(struct ctl_jw *w, const char *key)
{
	if (w->comma[w->depth])
		ctl_buf_add(w->b, ",", 1);
	w->comma[w->depth] = true;
	if (key != NULL) {
		ctl_jw_escape(w->b, key, strlen(key));
		ctl_buf_add(w->b, ":", 1);
	}
}

static void
ctl_jw_open(struct ctl_jw *w, const char *key, const char *tok)
{
	ctl_jw_pre(w, key);
	ctl_buf_add(w->b, tok, 1);
	if (w->depth + 1 < CTL_JSON_DEPTH_MAX)
		w->depth++;
	w->comma[w->depth] = false;
}

static void
ctl_jw_close(struct ctl_jw *w, const char *tok)
{
	ctl_buf_add(w->b, tok, 1);
	if (w->depth > 0)
		w->depth--;
}

void
ctl_jw_obj(struct ctl_jw *w, const char *key)
{
	ctl_jw_open(w, key, "{");
}

void
ctl_jw_obj_end(struct ctl_jw *w)
{
	ctl_jw_close(w, "}");
}

void
ctl_jw_arr(struct ctl_jw *w, const char *key)
{
	ctl_jw_open(w, key, "[");
}

void
ctl_jw_arr_end(struct ctl_jw *w)
{
	ctl_jw_close(w, "]");
}

void
ctl_jw_strn(struct ctl_jw *w, const char *key, const char *s, size_t n)
{
	ctl_jw_pre(w, key);
	ctl_jw_escape(w->b, s, n);
}

void
ctl_jw_str(struct ctl_jw *w, const char *key, const char *s)
{
	if (s == NULL) {
		ctl_jw_null(w, key);
		return;
	}
	ctl_jw_strn(w, key, s, strlen(s));
}

void
ctl_jw_u64(struct ctl_jw *w, const char *key, uint64_t v)
{
	ctl_jw_pre(w, key);
	ctl_buf_addf(w->b, "%llu", (unsigned long long)v);
}

void
ctl_jw_i64(struct ctl_jw *w, const char *key, int64_t v)
{
	ctl_jw_pre(w, key);
	ctl_buf_addf(w->b, "%lld", (long long)v);
}

void
ctl_jw_bool(struct ctl_jw *w, const char *key, bool v)
{
	ctl_jw_pre(w, key);
	if (v)
		ctl_buf_add(w->b, "true", 4);
	else
		ctl_buf_add(w->b, "false", 5);
}

void
ctl_jw_null(struct ctl_jw *w, const char *key)
{
	ctl_jw_pre(w, key);
	ctl_buf_add(w->b, "null", 4);
}

void
ctl_jw_raw(struct ctl_jw *w, const char *key, const char *json, size_t n)
{
	ctl_jw_pre(w, key);
	ctl_buf_add(w->b, json, n);
}

void
ctl_jw_value(struct ctl_jw *w, const char *key, const struct ctl_jval *v)
{
	const struct ctl_jval *c;
	char num[32];
	int n;

	switch (v->type) {
	case CTL_JNULL:
		ctl_jw_null(w, key);
		break;
	case CTL_JBOOL:
		ctl_jw_bool(w, key, v->b);
		break;
	case CTL_JNUM:
		if (v->is_int)
			n = snprintf(num, sizeof(num), "%lld", (long long)v->i);
		else if (v->num == 0)
			n = snprintf(num, sizeof(num), "0");    /* and -0 */
		else
			n = snprintf(num, sizeof(num), "%.17g", v->num);
		ctl_jw_raw(w, key, num, (size_t)n);
		break;
	case CTL_JSTR:
		ctl_jw_strn(w, key, v->str, v->len);
		break;
	case CTL_JARR:
		ctl_jw_arr(w, key);
		for (c = v->child; c != NULL; c = c->next)
			ctl_jw_value(w, NULL, c);
		ctl_jw_arr_end(w);
		break;
	default:
		ctl_jw_obj(w, key);
		for (c = v->child; c != NULL; c = c->next)
			ctl_jw_value(w, c->key, c);
		ctl_jw_obj_end(w);
		break;
	}
}

/* Parser ------------------------------------------------------------ */

struct ctl_jp {
	const char      *p;
	const char      *end;
	uint32_t         nodes;         /* values so far */
};

static void
ctl_jp_ws(struct ctl_jp *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
				   *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static int
ctl_jp_hex4(struct ctl_jp *jp, uint32_t *cp)
{
	uint32_t v = 0;
	int i;

	if (jp->end - jp->p < 4)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		char c = jp->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	jp->p += 4;
	*cp = v;
	return 0;
}

static void
ctl_jp_utf8(struct ctl_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	ctl_buf_add(b, u, n);
}

/* A string after its opening quote; result in a fresh NUL-terminated copy. */
static int
ctl_jp_string(struct ctl_jp *jp, char **out, size_t *outlen)
{
	struct ctl_buf b;
	uint32_t cp, lo;
	int rc = -EINVAL;

	ctl_buf_init(&b);
	ctl_buf_add(&b, "", 0);
	while (jp->p < jp->end) {
		char c = *jp->p++;

		if (c == '"') {
			char *fit;

			if (b.err != 0) {
				rc = b.err;
				break;
			}
			/* The string's own size, not the buffer's. */
			fit = realloc(b.p, b.len + 1);
			*out = fit != NULL ? fit : b.p;
			*outlen = b.len;
			return 0;
		}
		if ((unsigned char)c < 0x20)
			break;
		if ((unsigned char)c >= 0x80) {
			/* JSON text is UTF-8 (RFC 8259 §8.1): a byte of no
			 * valid sequence makes the text malformed. */
			size_t k = utf8_seq_len(jp->p - 1,
						(size_t)(jp->end - jp->p + 1));

			if (k == 0)
				break;
			ctl_buf_add(&b, jp->p - 1, k);
			jp->p += k - 1;
			continue;
		}
		if (c != '\\') {
			ctl_buf_add(&b, &c, 1);
			continue;
		}
		if (jp->p >= jp->end)
			break;
		c = *jp->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			ctl_buf_add(&b, &c, 1);
			continue;
		case 'b':
			ctl_buf_add(&b, "\b", 1);
			continue;
		case 'f':
			ctl_buf_add(&b, "\f", 1);
			continue;
		case 'n':
			ctl_buf_add(&b, "\n", 1);
			continue;
		case 'r':
			ctl_buf_add(&b, "\r", 1);
			continue;
		case 't':
			ctl_buf_add(&b, "\t", 1);
			continue;
		case 'u':
			if (ctl_jp_hex4(jp, &cp) != 0)
				goto out_fail;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (jp->end - jp->p < 6 || jp->p[0] != '\\' ||
				    jp->p[1] != 'u')
					goto out_fail;
				jp->p += 2;
				if (ctl_jp_hex4(jp, &lo) != 0 || lo < 0xdc00 ||
				    lo > 0xdfff)
					goto out_fail;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				goto out_fail;  /* a lone low surrogate */
			}
			ctl_jp_utf8(&b, cp);
			continue;
		default:
			goto out_fail;
		}
	}
out_fail:
	ctl_buf_fini(&b);
	return rc;
}

static int ctl_jp_value(struct ctl_jp *jp, struct ctl_jval *v,
			unsigned int depth);

/* RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?, all
 * of @p s (NUL-terminated). strtod() takes more ("+1", "01", "1.", "0x1"). */
static bool
ctl_jp_number_ok(const char *s)
{
	const char *d;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		d = ++s;
		while (*s >= '0' && *s <= '9')
			s++;
		if (s == d)
			return false;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		d = s;
		while (*s >= '0' && *s <= '9')
			s++;
		if (s == d)
			return false;
	}
	return *s == '\0';
}

static int
ctl_jp_number(struct ctl_jp *jp, struct ctl_jval *v)
{
	const char *s = jp->p;
	char tmp[64];
	size_t n;
	char *end;

	while (jp->p < jp->end && (strchr("+-0123456789.eE", *jp->p) != NULL))
		jp->p++;
	n = (size_t)(jp->p - s);
	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (!ctl_jp_number_ok(tmp))
		return -EINVAL;
	v->type = CTL_JNUM;
	v->num = strtod(tmp, &end);
	/* JSON has no infinity: 1e999 would come back as "inf", no JSON. */
	if (end != tmp + n || !isfinite(v->num))
		return -EINVAL;
	if (strpbrk(tmp, ".eE") == NULL) {
		errno = 0;
		v->i = strtoll(tmp, &end, 10);
		v->is_int = errno == 0 && end == tmp + n;
	}
	return 0;
}

static int
ctl_jp_lit(struct ctl_jp *jp, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, lit, n) != 0)
		return -EINVAL;
	jp->p += n;
	return 0;
}

struct ctl_jkey {
	uint64_t         h;
	const char      *key;
};

static int
ctl_jkey_cmp(const void *a, const void *b)
{
	const struct ctl_jkey *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return strcmp(x->key, y->key);
}

/*
 * Whether object @p v names a member twice (RFC 8259 §4: names SHOULD be
 * unique; a reader keeping the first and one keeping the last would see
 * two different requests). -EEXIST when it does.
 */
static int
ctl_jp_unique(const struct ctl_jval *v)
{
	const struct ctl_jval *c, *d;
	struct ctl_jkey *k;
	size_t i, n = 0;
	int rc = 0;

	if (v->len <= 8) {
		for (c = v->child; c != NULL; c = c->next)
			for (d = c->next; d != NULL; d = d->next)
				if (strcmp(c->key, d->key) == 0)
					return -EEXIST;
		return 0;
	}
	k = malloc(v->len * sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	for (c = v->child; c != NULL; c = c->next) {
		k[n].h = ctl_str_hash(c->key);
		k[n++].key = c->key;
	}
	qsort(k, n, sizeof(*k), ctl_jkey_cmp);
	for (i = 1; i < n && rc == 0; i++)
		if (k[i].h == k[i - 1].h && strcmp(k[i].key, k[i - 1].key) == 0)
			rc = -EEXIST;
	free(k);
	return rc;
}

static int
ctl_jp_container(struct ctl_jp *jp, struct ctl_jval *v, unsigned int depth,
		 bool obj)
{
	struct ctl_jval **tail = &v->child;
	struct ctl_jval *c;
	char close = obj ? '}' : ']';
	int rc;

	if (depth >= CTL_JSON_DEPTH_MAX)
		return -EINVAL;
	v->type = obj ? CTL_JOBJ : CTL_JARR;
	ctl_jp_ws(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		return 0;
	}
	for (;;) {
		if (++jp->nodes > CTL_JSON_NODES_MAX)
			return -E2BIG;
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			return -ENOMEM;
		*tail = c;
		tail = &c->next;
		v->len++;
		ctl_jp_ws(jp);
		if (obj) {
			size_t klen;

			if (jp->p >= jp->end || *jp->p != '"')
				return -EINVAL;
			jp->p++;
			rc = ctl_jp_string(jp, &c->key, &klen);
			if (rc != 0)
				return rc;
			/* A name is a C string to every reader here. */
			if (memchr(c->key, '\0', klen) != NULL)
				return -EINVAL;
			ctl_jp_ws(jp);
			if (jp->p >= jp->end || *jp->p != ':')
				return -EINVAL;
			jp->p++;
		}
		rc = ctl_jp_value(jp, c, depth + 1);
		if (rc != 0)
			return rc;
		ctl_jp_ws(jp);
		if (jp->p >= jp->end)
			return -EINVAL;
		if (*jp->p == ',') {
			jp->p++;
			continue;
		}
		if (*jp->p != close)
			return -EINVAL;
		jp->p++;
		return obj ? ctl_jp_unique(v) : 0;
	}
}

static int
ctl_jp_value(struct ctl_jp *jp, struct ctl_jval *v, unsigned int depth)
{
	ctl_jp_ws(jp);
	if (jp->p >= jp->end)
		return -EINVAL;
	switch (*jp->p) {
	case '{':
		jp->p++;
		return ctl_jp_container(jp, v, depth, true);
	case '[':
		jp->p++;
		return ctl_jp_container(jp, v, depth, false);
	case '"':
		jp->p++;
		v->type = CTL_JSTR;
		return ctl_jp_string(jp, &v->str, &v->len);
	case 't':
		v->type = CTL_JBOOL;
		v->b = true;
		return ctl_jp_lit(jp, "true");
	case 'f':
		v->type = CTL_JBOOL;
		return ctl_jp_lit(jp, "false");
	case 'n':
		v->type = CTL_JNULL;
		return ctl_jp_lit(jp, "null");
	default:
		return ctl_jp_number(jp, v);
	}
}

int
ctl_json_parse(const char *s, size_t len, struct ctl_jval **out)
{
	return ctl_json_parse_at(s, len, out, NULL);
}

int
ctl_json_parse_at(const char *s, size_t len, struct ctl_jval **out,
		  size_t *err_off)
{
	struct ctl_jp jp = { .p = s, .end = s + len };
	struct ctl_jval *v;
	int rc;

	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	rc = ctl_jp_value(&jp, v, 0);
	if (rc == 0) {
		ctl_jp_ws(&jp);
		if (jp.p != jp.end)
			rc = -EINVAL;
	}
	if (rc != 0) {
		if (err_off != NULL)
			*err_off = (size_t)(jp.p - s);
		ctl_json_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

void
ctl_json_free(struct ctl_jval *v)
{
	struct ctl_jval *next;

	while (v != NULL) {
		next = v->next;
		ctl_json_free(v->child);
		free(v->str);
		free(v->key);
		free(v);
		v = next;
	}
}

const struct ctl_jval *
ctl_json_get(const struct ctl_jval *obj, const char *key)
{
	const struct ctl_jval *c;

	if (obj == NULL || obj->type != CTL_JOBJ)
		return NULL;
	for (c = obj->child; c != NULL; c = c->next) {
		if (strcmp(c->key, key) == 0)
			return c;
	}
	return NULL;
}

const char *
ctl_json_str(const struct ctl_jval *obj, const char *key, const char *dflt)
{
	const struct ctl_jval *v = ctl_json_get(obj, key);

	return v != NULL && v->type == CTL_JSTR ? v->str : dflt;
}

int64_t
ctl_json_int(const struct ctl_jval *obj, const char *key, int64_t dflt)
{
	const struct ctl_jval *v = ctl_json_get(obj, key);

	return v != NULL && v->type == CTL_JNUM && v->is_int ? v->i : dflt;
}

bool
ctl_json_bool(const struct ctl_jval *obj, const char *key, bool dflt)
{
	const struct ctl_jval *v = ctl_json_get(obj, key);

	return v != NULL && v->type == CTL_JBOOL ? v->b : dflt;
}
