/* SPDX-License-Identifier: MIT */
/*
 * ctl_resolve.c - target host names turned into addresses (DESIGN.md 4.1:
 * names are resolved by the control process, never per packet).
 *
 * A cache maps each name to the addresses last found for it. Compiling a
 * rule set takes them from the cache; a name the cache has no addresses
 * for is looked up there and then (getaddrinfo(), blocking: the import
 * that brings a name waits for it). In the background the names of the
 * current set are looked up again every targets.resolve_interval seconds
 * (getaddrinfo_a(), polled from the event loop); ctl_state.c compiles
 * again when any name's addresses changed. A lookup that fails keeps the
 * addresses found before, so a name server outage does not take routes
 * down; it is logged and shown by "names".
 *
 * Addresses are taken as A and AAAA records give them (a target names its
 * port, so no SRV or NAPTR lookup applies, RFC 3263 §4.2), without those
 * no router sends to (unspecified, loopback, multicast, broadcast), and
 * sorted (IPv4 first, then by address bytes) so that a name server
 * rotating its answers does not look like a change.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <compiler.h>

#include "ctl.h"

/* One name and what it resolved to. */
struct ctl_rname {
	char                     name[RULES_NAME_MAX + 1];      /* lower case */
	struct rules_addr        addr[RULES_NAME_ADDRS_MAX];
	uint32_t                 n;             /* 0: never resolved */
	uint64_t                 ok_us;         /* wall clock, last success */
	uint64_t                 fail_us;       /* last failure since, or 0 */
	uint64_t                 lookups;
	uint64_t                 failures;
	uint64_t                 pass;          /* compile pass last tried */
	uint64_t                 saved;         /* pass of the last save */
	char                     err[128];      /* last failure */
};

struct ctl_resolver {
	struct ctl_rname       **tab;           /* open addressing by name */
	uint32_t                 n;
	uint32_t                 mask;
	/* The background round in progress (running). */
	struct gaicb            *cbs;
	struct gaicb           **list;
	struct ctl_rname       **who;
	uint32_t                 npend;
	struct addrinfo          hints;
	bool                     running;
	uint64_t                 pass;          /* ctl_resolver_new_pass() */
};

int
ctl_resolver_new(struct ctl_resolver **out)
{
	struct ctl_resolver *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	r->mask = 63;
	r->tab = calloc(r->mask + 1, sizeof(*r->tab));
	if (r->tab == NULL) {
		free(r);
		return -ENOMEM;
	}
	r->hints.ai_family = AF_UNSPEC;
	r->hints.ai_socktype = SOCK_DGRAM;
	*out = r;
	return 0;
}

/* Forget the background round's requests (all finished or abandoned). */
static void
ctl_resolver_round_free(struct ctl_resolver *r)
{
	uint32_t i;

	for (i = 0; i < r->npend; i++)
		if (r->cbs[i].ar_result != NULL)
			freeaddrinfo(r->cbs[i].ar_result);
	free(r->cbs);
	free(r->list);
	free(r->who);
	r->cbs = NULL;
	r->list = NULL;
	r->who = NULL;
	r->npend = 0;
	r->running = false;
}

void
ctl_resolver_free(struct ctl_resolver *r)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
	uint32_t i, tries, busy = 0;

	if (r == NULL)
		return;
	if (r->running) {
		/* Lookups glibc already started cannot be cancelled: give
		 * them 2 s, then leave their memory to the exiting process. */
		for (i = 0; i < r->npend; i++)
			gai_cancel(&r->cbs[i]);
		for (tries = 0; tries < 20; tries++) {
			for (busy = 0, i = 0; i < r->npend; i++)
				busy += gai_error(&r->cbs[i]) == EAI_INPROGRESS;
			if (busy == 0)
				break;
			nanosleep(&ts, NULL);
		}
		if (busy != 0)
			ctl_log(CTL_LOG_WARN,
				"%u host name lookups still running at exit",
				busy);
		else
			ctl_resolver_round_free(r);
	}
	for (i = 0; i <= r->mask; i++)
		free(r->tab[i]);
	free(r->tab);
	free(r);
}

/* The entry of @p name (any case), created if @p add; NULL: none/ENOMEM. */
static struct ctl_rname *
ctl_resolver_entry(struct ctl_resolver *r, struct span name, bool add)
{
	char key[RULES_NAME_MAX + 1];
	struct ctl_rname *e;
	uint32_t i, k;

	if (name.len == 0 || name.len > RULES_NAME_MAX)
		return NULL;
	for (i = 0; i < name.len; i++)
		key[i] = (char)tolower((unsigned char)name.ptr[i]);
	key[i] = '\0';
	for (i = (uint32_t)ctl_str_hash(key) & r->mask; r->tab[i] != NULL;
	     i = (i + 1) & r->mask)
		if (strcmp(r->tab[i]->name, key) == 0)
			return r->tab[i];
	if (!add)
		return NULL;
	if (2 * (r->n + 1) > r->mask + 1) {
		uint32_t mask = 2 * r->mask + 1;
		struct ctl_rname **nt = calloc((size_t)mask + 1, sizeof(*nt));

		if (nt == NULL)
			return NULL;
		for (k = 0; k <= r->mask; k++) {
			if (r->tab[k] == NULL)
				continue;
			i = (uint32_t)ctl_str_hash(r->tab[k]->name) & mask;
			while (nt[i] != NULL)
				i = (i + 1) & mask;
			nt[i] = r->tab[k];
		}
		free(r->tab);
		r->tab = nt;
		r->mask = mask;
		i = (uint32_t)ctl_str_hash(key) & mask;
		while (r->tab[i] != NULL)
			i = (i + 1) & mask;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	memcpy(e->name, key, (size_t)name.len + 1);
	r->tab[i] = e;
	r->n++;
	return e;
}

static int
ctl_raddr_cmp(const void *a, const void *b)
{
	const struct rules_addr *x = a, *y = b;

	if (x->af != y->af)
		return x->af < y->af ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* An address a router may send to (not unspecified, loopback, multicast
 * or broadcast). */
static bool
ctl_raddr_usable(const struct rules_addr *a)
{
	static const uint8_t zero[16];

	if (a->af == RULES_AF_INET)
		return a->addr[0] != 0 && a->addr[0] != 127 &&
		       a->addr[0] < 224;
	return memcmp(a->addr, zero, 15) != 0 && a->addr[0] != 0xff;
}

/*
 * The usable addresses of lookup result @p ai, sorted and without repeats,
 * at most RULES_NAME_ADDRS_MAX (the first in that order) into @p out.
 */
static uint32_t
ctl_resolver_collect(const struct addrinfo *ai, struct rules_addr *out)
{
	struct rules_addr all[64];
	uint32_t n = 0, i, k = 0;

	for (; ai != NULL && n < 64; ai = ai->ai_next) {
		struct rules_addr a;

		memset(&a, 0, sizeof(a));
		if (ai->ai_family == AF_INET &&
		    ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			a.af = RULES_AF_INET;
			memcpy(a.addr, &((const struct sockaddr_in *)
					 (const void *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6 &&
			   ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			a.af = RULES_AF_INET6;
			memcpy(a.addr, &((const struct sockaddr_in6 *)
					 (const void *)ai->ai_addr)->sin6_addr,
			       16);
		} else {
			continue;
		}
		if (ctl_raddr_usable(&a))
			all[n++] = a;
	}
	qsort(all, n, sizeof(all[0]), ctl_raddr_cmp);
	for (i = 0; i < n && k < RULES_NAME_ADDRS_MAX; i++)
		if (k == 0 || ctl_raddr_cmp(&all[i], &out[k - 1]) != 0)
			out[k++] = all[i];
	return k;
}

/* @p n addresses as text, separated by ", ". */
static void
ctl_raddr_list(const struct rules_addr *a, uint32_t n, char *buf, size_t cap)
{
	char t[INET6_ADDRSTRLEN];
	size_t off = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < n && off < cap; i++) {
		inet_ntop(a[i].af == RULES_AF_INET6 ? AF_INET6 : AF_INET,
			  a[i].addr, t, sizeof(t));
		off += (size_t)snprintf(buf + off, cap - off, "%s%s",
					i != 0 ? ", " : "", t);
	}
}

/*
 * Record the outcome of a lookup of @p e: getaddrinfo()'s @p rc and result
 * @p ai. Returns true if @p e's addresses changed.
 */
static bool
ctl_resolver_record(struct ctl_rname *e, int rc, const struct addrinfo *ai)
{
	struct rules_addr got[RULES_NAME_ADDRS_MAX];
	uint32_t n = 0;
	bool changed;

	e->lookups++;
	if (rc == 0)
		n = ctl_resolver_collect(ai, got);
	if (n == 0) {
		e->failures++;
		if (rc == 0)
			snprintf(e->err, sizeof(e->err),
				 "no address a router can send to");
		else
			snprintf(e->err, sizeof(e->err), "%s",
				 rc == EAI_SYSTEM ? strerror(errno) :
				 gai_strerror(rc));
		if (e->fail_us == 0)
			ctl_log(CTL_LOG_WARN,
				"host name %s does not resolve: %s%s", e->name,
				e->err, e->n != 0 ?
				"; its last addresses stay in use" : "");
		e->fail_us = ctl_now_us();
		return false;
	}
	if (e->fail_us != 0 && e->n != 0)
		ctl_log(CTL_LOG_INFO, "host name %s resolves again", e->name);
	changed = n != e->n || memcmp(got, e->addr, n * sizeof(got[0])) != 0;
	if (changed) {
		char now[RULES_NAME_ADDRS_MAX * INET6_ADDRSTRLEN];
		char was[sizeof(now)];

		ctl_raddr_list(got, n, now, sizeof(now));
		ctl_raddr_list(e->addr, e->n, was, sizeof(was));
		ctl_log(CTL_LOG_INFO, "host name %s resolves to %s%s%s%s",
			e->name, now, e->n != 0 ? " (was " : "",
			e->n != 0 ? was : "", e->n != 0 ? ")" : "");
	}
	memcpy(e->addr, got, n * sizeof(got[0]));
	e->n = n;
	e->ok_us = ctl_now_us();
	e->fail_us = 0;
	e->err[0] = '\0';
	return changed;
}

int
ctl_resolver_lookup(void *arg, struct span name, struct rules_addr *out,
		    uint32_t max, char *why, size_t why_len)
{
	struct ctl_resolver *r = arg;
	struct addrinfo *ai = NULL;
	struct ctl_rname *e;
	uint32_t n;
	int rc;

	e = ctl_resolver_entry(r, name, true);
	if (e == NULL) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	/* A name that failed is tried once per compile, not once per rule. */
	if (e->n == 0 && e->pass != r->pass) {
		e->pass = r->pass;
		rc = getaddrinfo(e->name, NULL, &r->hints, &ai);
		ctl_resolver_record(e, rc, ai);
		if (ai != NULL)
			freeaddrinfo(ai);
	}
	if (e->n == 0) {
		snprintf(why, why_len, "%s", e->err);
		return -ENOENT;
	}
	n = e->n < max ? e->n : max;
	memcpy(out, e->addr, n * sizeof(out[0]));
	return (int)n;
}

void
ctl_resolver_new_pass(struct ctl_resolver *r)
{
	r->pass++;
}

int
ctl_resolver_refresh_start(struct ctl_resolver *r, const struct rules_set *set)
{
	uint32_t cur = 0, n = 0, i, k;
	const char *name;
	int rc;

	if (r->running)
		return 0;
	while (rules_set_name_next(set, &cur) != NULL)
		n++;
	if (n == 0)
		return 0;
	r->cbs = calloc(n, sizeof(*r->cbs));
	r->list = calloc(n, sizeof(*r->list));
	r->who = calloc(n, sizeof(*r->who));
	if (r->cbs == NULL || r->list == NULL || r->who == NULL) {
		ctl_resolver_round_free(r);
		return -ENOMEM;
	}
	cur = 0;
	for (i = 0; i < n && (name = rules_set_name_next(set, &cur)) != NULL;) {
		struct ctl_rname *e;

		e = ctl_resolver_entry(r, span_make(name, strlen(name)), true);
		if (e == NULL) {
			ctl_resolver_round_free(r);
			return -ENOMEM;
		}
		/* Names differing in case only are one lookup. */
		for (k = 0; k < i && r->who[k] != e; k++)
			;
		if (k < i)
			continue;
		r->who[i] = e;
		r->cbs[i].ar_name = e->name;
		r->cbs[i].ar_request = &r->hints;
		r->list[i] = &r->cbs[i];
		i++;
	}
	r->npend = i;
	rc = getaddrinfo_a(GAI_NOWAIT, r->list, (int)i, NULL);
	if (rc != 0) {
		ctl_log(CTL_LOG_ERR, "cannot start host name lookups: %s",
			rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		ctl_resolver_round_free(r);
		return -EAGAIN;
	}
	r->running = true;
	return 0;
}

int
ctl_resolver_refresh_poll(struct ctl_resolver *r, bool *changed)
{
	uint32_t i;

	*changed = false;
	if (!r->running)
		return 1;
	for (i = 0; i < r->npend; i++)
		if (gai_error(&r->cbs[i]) == EAI_INPROGRESS)
			return 0;
	for (i = 0; i < r->npend; i++)
		if (ctl_resolver_record(r->who[i], gai_error(&r->cbs[i]),
					r->cbs[i].ar_result))
			*changed = true;
	ctl_resolver_round_free(r);
	return 1;
}

BUILD_ASSERT(SCHEMA_NAME_ADDRS_MAX == RULES_NAME_ADDRS_MAX &&
	     SCHEMA_NAME_MAX == RULES_NAME_MAX,
	     "meta[names] holds what the cache does");

int
ctl_resolver_save(struct ctl_resolver *r, const struct rules_set *set,
		  struct ctl_buf *out)
{
	struct schema_name_rec rec;
	struct ctl_rname *e;
	uint32_t cur = 0, count = 0, i;
	const char *name;
	size_t len;
	int rc;

	ctl_buf_reset(out);
	rc = ctl_buf_reserve(out, SCHEMA_NAMES_HDR_LEN);
	if (rc != 0)
		return rc;
	out->len = SCHEMA_NAMES_HDR_LEN;
	/* Each entry once, however many spellings the set has. */
	r->pass++;
	while ((name = rules_set_name_next(set, &cur)) != NULL) {
		e = ctl_resolver_entry(r, span_make(name, strlen(name)), false);
		if (e == NULL || e->n == 0 || e->saved == r->pass)
			continue;
		e->saved = r->pass;
		memset(&rec, 0, sizeof(rec));
		rec.name = span_make(e->name, (uint32_t)strlen(e->name));
		rec.naddr = (uint8_t)e->n;
		for (i = 0; i < e->n; i++) {
			rec.af[i] = e->addr[i].af;
			memcpy(rec.addr[i], e->addr[i].addr, 16);
		}
		rc = ctl_buf_reserve(out, 2 + SCHEMA_NAME_MAX +
					  17 * SCHEMA_NAME_ADDRS_MAX);
		if (rc == 0)
			rc = schema_name_rec_encode(&rec, out->p + out->len,
						    out->cap - out->len, &len);
		if (rc != 0)
			return rc;
		out->len += len;
		count++;
	}
	if (count == 0) {
		out->len = 0;
		return 0;
	}
	return schema_names_hdr_encode(count, out->p, SCHEMA_NAMES_HDR_LEN);
}

static int
ctl_resolver_load_one(void *arg, const struct schema_name_rec *rec)
{
	struct ctl_resolver *r = arg;
	struct ctl_rname *e;
	uint32_t i;

	e = ctl_resolver_entry(r, rec->name, true);
	if (e == NULL)
		return -ENOMEM;
	for (i = 0; i < rec->naddr; i++) {
		e->addr[i].af = rec->af[i];
		memcpy(e->addr[i].addr, rec->addr[i], 16);
	}
	e->n = rec->naddr;
	return 0;
}

int
ctl_resolver_load(struct ctl_resolver *r, const void *buf, size_t len)
{
	return schema_names_decode(buf, len, ctl_resolver_load_one, r);
}

bool
ctl_resolver_running(const struct ctl_resolver *r)
{
	return r->running;
}

void
ctl_resolver_report(const struct ctl_resolver *r, const struct rules_set *set,
		    struct ctl_jw *w)
{
	const struct ctl_rname *e;
	uint32_t cur = 0, k;
	const char *name;
	char a[INET6_ADDRSTRLEN];

	ctl_jw_arr(w, "names");
	while ((name = rules_set_name_next(set, &cur)) != NULL) {
		e = ctl_resolver_entry((struct ctl_resolver *)r,
				       span_make(name, strlen(name)), false);
		ctl_jw_obj(w, NULL);
		ctl_jw_str(w, "name", name);
		ctl_jw_arr(w, "addresses");
		for (k = 0; e != NULL && k < e->n; k++) {
			inet_ntop(e->addr[k].af == RULES_AF_INET6 ? AF_INET6 :
				  AF_INET, e->addr[k].addr, a, sizeof(a));
			ctl_jw_str(w, NULL, a);
		}
		ctl_jw_arr_end(w);
		ctl_jw_str(w, "state", e == NULL ? "not looked up" :
			   e->lookups == 0 ? (e->n != 0 ?
			   "stored addresses, not looked up since start" :
			   "not looked up") : e->fail_us == 0 ? "ok" :
			   e->n != 0 ? "failing, last addresses in use" :
			   "failing");
		if (e != NULL && e->ok_us != 0)
			ctl_jw_u64(w, "resolved_us", e->ok_us);
		if (e != NULL && e->fail_us != 0) {
			ctl_jw_u64(w, "failed_us", e->fail_us);
			ctl_jw_str(w, "error", e->err);
		}
		ctl_jw_u64(w, "lookups", e != NULL ? e->lookups : 0);
		ctl_jw_u64(w, "failures", e != NULL ? e->failures : 0);
		ctl_jw_obj_end(w);
	}
	ctl_jw_arr_end(w);
}
