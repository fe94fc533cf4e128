/* SPDX-License-Identifier: MIT */
/*
 * sip_corpus.h - every SIP message the tests have (fixtures, RFC 4475 and
 * RFC 5118 torture messages), loaded whole, and the pieces the
 * differential tests feed to a fast path and its general parser: header
 * values, the text inside <...> and the Request-URI, plus random
 * mutations of each.
 *
 * Test code only: uses stdio and the heap.
 */
#ifndef SIPEDGE_TESTS_SIP_CORPUS_H
#define SIPEDGE_TESTS_SIP_CORPUS_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORPUS_MAX      512

struct corpus_msg {
	char            *data;
	size_t           len;
};

struct corpus {
	struct corpus_msg msg[CORPUS_MAX];
	unsigned int     n;
};

static inline void
corpus_load_dir(struct corpus *c, const char *dir, const char *ext)
{
	char path[1024];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && c->n < CORPUS_MAX) {
		size_t nl = strlen(de->d_name), el = strlen(ext);
		FILE *f;
		long sz;

		if (nl <= el || strcmp(de->d_name + nl - el, ext) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		f = fopen(path, "rb");
		if (f == NULL)
			continue;
		if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 &&
		    fseek(f, 0, SEEK_SET) == 0) {
			char *b = malloc((size_t)sz);

			if (b != NULL && fread(b, 1, (size_t)sz, f) == (size_t)sz) {
				c->msg[c->n].data = b;
				c->msg[c->n].len = (size_t)sz;
				c->n++;
			} else {
				free(b);
			}
		}
		fclose(f);
	}
	closedir(d);
}

/* Load everything; the conformance messages only when they are present. */
static inline void
corpus_load(struct corpus *c)
{
	c->n = 0;
	corpus_load_dir(c, FIXTURES_DIR "/valid", ".sip");
	corpus_load_dir(c, FIXTURES_DIR "/invalid", ".sip");
	corpus_load_dir(c, FIXTURES_DIR "/torture", ".sip");
#ifdef CONFORMANCE_DIR
	corpus_load_dir(c, CONFORMANCE_DIR "/rfc4475", ".dat");
	corpus_load_dir(c, CONFORMANCE_DIR "/rfc5118", ".dat");
#endif
}

static inline void
corpus_free(struct corpus *c)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		free(c->msg[i].data);
	c->n = 0;
}

typedef void corpus_piece_fn(void *arg, const char *p, size_t n);

/*
 * Call @fn for pieces of every message: each line's text after the first
 * ':' (a header value, untrimmed and trimmed), the text inside every
 * <...>, and the second space-separated word of the first line.
 */
static inline void
corpus_pieces(const struct corpus *c, corpus_piece_fn *fn, void *arg)
{
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		const char *b = c->msg[i].data, *e = b + c->msg[i].len;
		const char *p, *q, *nl;

		/* Request-URI */
		p = memchr(b, ' ', (size_t)(e - b));
		nl = memchr(b, '\n', (size_t)(e - b));
		if (p != NULL && nl != NULL && p < nl) {
			q = memchr(p + 1, ' ', (size_t)(nl - p - 1));
			if (q != NULL)
				fn(arg, p + 1, (size_t)(q - p - 1));
		}
		for (p = b; p < e; p = nl + 1) {
			const char *colon, *v, *ve;
			size_t ll;

			nl = memchr(p, '\n', (size_t)(e - p));
			if (nl == NULL)
				nl = e;
			ll = (size_t)(nl - p);
			if (ll != 0 && p[ll - 1] == '\r')
				ll--;
			ve = p + ll;
			colon = ll != 0 ? memchr(p, ':', ll) : NULL;
			if (colon != NULL) {
				fn(arg, colon + 1, (size_t)(ve - colon - 1));
				v = colon + 1;
				while (v < ve && (*v == ' ' || *v == '\t'))
					v++;
				fn(arg, v, (size_t)(ve - v));
			}
			for (q = p; q < ve; q++) {
				const char *gt;

				if (*q != '<')
					continue;
				gt = memchr(q, '>', (size_t)(ve - q));
				if (gt != NULL)
					fn(arg, q + 1, (size_t)(gt - q - 1));
			}
			if (nl == e)
				break;
		}
	}
}

static inline uint32_t
corpus_rand(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 16;
}

/*
 * Mutate @buf (n bytes, capacity cap) in place: replace, insert or delete
 * 1..3 bytes, drawn from @alphabet. Returns the new length.
 */
static inline size_t
corpus_mutate(char *buf, size_t n, size_t cap, const char *alphabet,
	      uint32_t *x)
{
	size_t na = strlen(alphabet), k, m = 1 + corpus_rand(x) % 3, i;

	for (k = 0; k < m; k++) {
		unsigned int op = corpus_rand(x) % 3;

		i = n != 0 ? corpus_rand(x) % n : 0;
		if (op == 0 && n != 0) {
			buf[i] = alphabet[corpus_rand(x) % na];
		} else if (op == 1 && n < cap) {
			memmove(buf + i + 1, buf + i, n - i);
			buf[i] = alphabet[corpus_rand(x) % na];
			n++;
		} else if (n != 0) {
			memmove(buf + i, buf + i + 1, n - i - 1);
			n--;
		}
	}
	return n;
}

#endif /* SIPEDGE_TESTS_SIP_CORPUS_H */
