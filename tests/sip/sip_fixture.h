/* SPDX-License-Identifier: MIT */
/*
 * sip_fixture.h - load tests/fixtures/sip/{valid,invalid}/<name>.sip and
 * its <name>.expect for the data-driven SIP tests.
 *
 * <name>.expect holds one key=value per line; '#' starts a comment line.
 * Values may use \r, \n, \t and \\ escapes. Keys: verdict (sip_parse()
 * verdict name), err_off, is_request, method (token), method_id (enum
 * name), ruri, status, reason, hdr_off, nhdr, nvia, body_off, clen,
 * body_len, msg_len, check (sip_msg_check() verdict name) and
 * hdr.<Header-Name> (trimmed value of the first such header).
 *
 * Test code only: uses stdio and the heap.
 */
#ifndef SIPEDGE_TESTS_SIP_FIXTURE_H
#define SIPEDGE_TESTS_SIP_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX_MAX_KV       40
#define FX_MAX_FILES    128
#define FX_NAME_LEN     96

struct fx_kv {
	char             key[64];
	char             val[512];
};

struct fixture {
	char             name[FX_NAME_LEN];
	char            *data;
	size_t           len;
	struct fx_kv     kv[FX_MAX_KV];
	unsigned int     nkv;
};

static int
fx_cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* snprintf that reports truncation, for paths and copied values. */
static inline int
fx_fmt(char *dst, size_t cap, const char *a, const char *b, const char *c,
       const char *ext)
{
	int n = snprintf(dst, cap, "%s%s%s%s", a, b, c, ext);

	return n >= 0 && (size_t)n < cap ? 0 : -1;
}

/* Names (without .sip) of the fixtures in @p sub, sorted; returns count. */
static inline int
fixture_list(const char *sub, char names[][FX_NAME_LEN], int max)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (fx_fmt(path, sizeof(path), FIXTURES_DIR "/", sub, "", "") != 0)
		return -1;
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && n < max) {
		size_t l = strlen(de->d_name);

		if (l < 5 || l - 4 >= FX_NAME_LEN ||
		    strcmp(de->d_name + l - 4, ".sip") != 0)
			continue;
		memcpy(names[n], de->d_name, l - 4);
		names[n][l - 4] = '\0';
		n++;
	}
	closedir(d);
	qsort(names, (size_t)n, FX_NAME_LEN, fx_cmp_names);
	return n;
}

static inline void
fx_unescape(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			*w++ = *s == 'r' ? '\r' : *s == 'n' ? '\n' :
			       *s == 't' ? '\t' : *s;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Load @p sub/@p name.sip and .expect; 0 or -1. Free with fixture_free(). */
static inline int
fixture_load(struct fixture *fx, const char *sub, const char *name)
{
	char path[512], line[1024];
	FILE *f;
	long sz;

	memset(fx, 0, sizeof(*fx));
	if (fx_fmt(fx->name, sizeof(fx->name), sub, "/", name, "") != 0 ||
	    fx_fmt(path, sizeof(path), FIXTURES_DIR "/", sub, "/", "") != 0 ||
	    strlen(path) + strlen(name) + 8 > sizeof(path))
		return -1;
	strcat(path, name);
	strcat(path, ".sip");
	f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	fx->data = malloc((size_t)sz + 1);
	if (fx->data == NULL ||
	    fread(fx->data, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		return -1;
	}
	fclose(f);
	fx->len = (size_t)sz;

	strcpy(path + strlen(path) - 4, ".expect");
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && fx->nkv < FX_MAX_KV) {
		struct fx_kv *kv = &fx->kv[fx->nkv];
		char *eq;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (fx_fmt(kv->key, sizeof(kv->key), line, "", "", "") != 0 ||
		    fx_fmt(kv->val, sizeof(kv->val), eq + 1, "", "", "") != 0)
			continue;
		fx_unescape(kv->val);
		fx->nkv++;
	}
	fclose(f);
	return 0;
}

/* Value of @p key, or NULL when the .expect file does not name it. */
static inline const char *
fixture_get(const struct fixture *fx, const char *key)
{
	unsigned int i;

	for (i = 0; i < fx->nkv; i++) {
		if (strcmp(fx->kv[i].key, key) == 0)
			return fx->kv[i].val;
	}
	return NULL;
}

static inline void
fixture_free(struct fixture *fx)
{
	free(fx->data);
	fx->data = NULL;
}

#endif /* SIPEDGE_TESTS_SIP_FIXTURE_H */
