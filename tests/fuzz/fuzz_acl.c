/* SPDX-License-Identifier: MIT */
/*
 * fuzz_acl.c - libFuzzer target for the source address policy: the
 * address-list parser (schema_cidr_list_parse()) and the policy built from
 * it (dp_acl_build()), checked against a plain reading of the lists.
 *
 * Input: "allow text" NUL "deny text" NUL "addresses", where the addresses
 * are 17-byte records (family byte, 16 address bytes). Every list that
 * parses must build, and for every address dp_acl_refused() must agree
 * with a linear walk over the parsed entries (deny wins, a non-empty
 * allow list refuses what it does not hold).
 *
 * The allow text is also read as a target list (schema_down_list_parse(),
 * setting targets.down): what parses is written back as ADDR:PORT entries
 * that must parse to the same entries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <dp_acl.h>
#include <schema.h>

static int
t_list(struct span text, struct schema_cidr **out)
{
	char err[160];
	int n = schema_cidr_list_parse(text, NULL, 0, err, sizeof(err));

	*out = NULL;
	if (n <= 0)
		return n;
	*out = calloc((size_t)n, sizeof(**out));
	if (*out == NULL)
		abort();
	if (schema_cidr_list_parse(text, *out, (uint32_t)n, err,
				   sizeof(err)) != n)
		abort();
	return n;
}

/* Does one of the @p n entries hold @p addr of @p family? */
static int
t_has(const struct schema_cidr *c, int n, int family, const uint8_t *addr)
{
	int i;
	unsigned int b;

	for (i = 0; i < n; i++) {
		if (c[i].family != family)
			continue;
		for (b = 0; b < c[i].len; b++) {
			if (((addr[b / 8] ^ c[i].addr[b / 8]) >> (7 - b % 8)) & 1)
				break;
		}
		if (b == c[i].len)
			return 1;
	}
	return 0;
}

/* dp_acl_refused() against the walk, for @p addr. */
static void
t_check(const struct dp_acl *acl, const struct schema_cidr *allow, int na,
	const struct schema_cidr *deny, int nd, int family,
	const uint8_t *addr)
{
	int want = t_has(deny, nd, family, addr) ||
		   (na > 0 && !t_has(allow, na, family, addr));

	if ((dp_acl_refused(acl, family, addr) >= 0) != want)
		abort();
}

/* An entry's first and last address and their neighbours, checked. */
static void
t_edges(const struct dp_acl *acl, const struct schema_cidr *allow, int na,
	const struct schema_cidr *deny, int nd, const struct schema_cidr *c)
{
	unsigned int bytes = c->family == 4 ? 4 : 16, b;
	uint8_t lo[16], hi[16], x[16];
	int i;

	memcpy(lo, c->addr, 16);
	memcpy(hi, c->addr, 16);
	for (b = c->len; b < bytes * 8; b++)
		hi[b / 8] |= (uint8_t)(0x80 >> (b % 8));
	t_check(acl, allow, na, deny, nd, c->family, lo);
	t_check(acl, allow, na, deny, nd, c->family, hi);
	memcpy(x, lo, 16);      /* lo - 1 */
	for (i = (int)bytes - 1; i >= 0 && x[i]-- == 0; i--)
		;
	t_check(acl, allow, na, deny, nd, c->family, x);
	memcpy(x, hi, 16);      /* hi + 1 */
	for (i = (int)bytes - 1; i >= 0 && ++x[i] == 0; i--)
		;
	t_check(acl, allow, na, deny, nd, c->family, x);
}

/* The target-list round trip for @p text (see the top). */
static void
t_down(struct span text)
{
	struct addr_port *a, *b;
	char err[160], addr[INET6_ADDRSTRLEN], *out, *o;
	int n, i;

	n = schema_down_list_parse(text, NULL, 0, err, sizeof(err));
	if (n <= 0)
		return;
	a = calloc((size_t)n, sizeof(*a));
	b = calloc((size_t)n, sizeof(*b));
	out = malloc((size_t)n * 56 + 1);
	if (a == NULL || b == NULL || out == NULL)
		abort();
	if (schema_down_list_parse(text, a, (uint32_t)n, err,
				   sizeof(err)) != n)
		abort();
	o = out;
	for (i = 0; i < n; i++) {
		if ((a[i].af != 4 && a[i].af != 6) || a[i].port == 0 ||
		    inet_ntop(a[i].af == 4 ? AF_INET : AF_INET6, a[i].addr,
			      addr, sizeof(addr)) == NULL)
			abort();
		o += sprintf(o, a[i].af == 4 ? "%s:%u%s" : "[%s]:%u%s",
			     addr, a[i].port, i + 1 < n ? ", " : "");
	}
	if (schema_down_list_parse(span_make(out, (uint32_t)(o - out)), b,
				   (uint32_t)n, err, sizeof(err)) != n ||
	    memcmp(a, b, (size_t)n * sizeof(*a)) != 0)
		abort();
	free(a);
	free(b);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *z1, *z2;
	struct dp_acl_conf conf = { .acl_action = SPAN_LIT("403") };
	struct schema_cidr *allow, *deny;
	struct dp_acl acl;
	const uint8_t *r;
	char err[160];
	int na, nd, rc, i;

	z1 = memchr(p, '\0', size);
	if (z1 == NULL)
		z1 = end;
	z2 = z1 < end ? memchr(z1 + 1, '\0', (size_t)(end - z1 - 1)) : NULL;
	if (z2 == NULL)
		z2 = end;
	conf.allow = span_make(p, (uint32_t)(z1 - p));
	conf.deny = z1 < end ? span_make(z1 + 1, (uint32_t)(z2 - z1 - 1)) :
			       span_make("", 0);
	t_down(conf.allow);
	na = t_list(conf.allow, &allow);
	nd = t_list(conf.deny, &deny);
	rc = dp_acl_build(&acl, &conf, 1000000, err, sizeof(err));
	if ((na < 0 || nd < 0) != (rc != 0))
		abort();
	if (rc == 0) {
		if (acl.nallow != (uint32_t)na || acl.ndeny != (uint32_t)nd)
			abort();
		for (r = (const uint8_t *)z2 + (z2 < end);
		     r + 17 <= (const uint8_t *)end; r += 17)
			t_check(&acl, allow, na, deny, nd, r[0] & 1 ? 6 : 4,
				r + 1);
		for (i = 0; i < na; i++)
			t_edges(&acl, allow, na, deny, nd, &allow[i]);
		for (i = 0; i < nd; i++)
			t_edges(&acl, allow, na, deny, nd, &deny[i]);
		dp_acl_free(&acl);
	}
	free(allow);
	free(deny);
	return 0;
}
