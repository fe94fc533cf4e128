/* SPDX-License-Identifier: MIT */
/*
 * ctl_resolve.c - target host names turned into addresses (DESIGN.md 4.1:
 * names are resolved by the control process, never per packet).
 *
 * A cache maps each name to the addresses last found for it. Before a
 * rule set is compiled, ctl_resolver_prepare() looks up the names the
 * cache has no addresses for (all of them when targets.resolve_interval
 * is 0), all at once with getaddrinfo_a() and at most CTL_RESOLVE_WAIT_MS
 * in all: the import that brings a name waits for it, no longer. The
 * compile then takes addresses from the cache only. In the background
 * the names of the current set are looked up again every
 * targets.resolve_interval seconds (getaddrinfo_a(), polled from the
 * event loop); ctl_state.c compiles again when any name's addresses
 * changed. A lookup that fails keeps the addresses found before, so a
 * name server outage does not take routes down; it is logged and shown
 * by "names". A lookup glibc cannot cancel keeps its request memory
 * until it ends (a "zombie" batch), also past ctl_resolver_free().
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
	uint64_t                 mark;          /* walk (batch, save) last
						   seen in: each entry once */
	char                     err[128];      /* last failure */
};

/* Lookups started together with getaddrinfo_a(). */
struct ctl_rbatch {
	struct gaicb            *cbs;
	struct gaicb           **list;
	struct ctl_rname       **who;
	uint8_t                 *done;          /* settled: glibc is done */
	uint32_t                 n;
	uint64_t                 t0;            /* started, monotonic */
	struct ctl_rbatch       *next;          /* zombies */
};

/* A background round still running after this long is cut short. */
#define CTL_ROUND_MAX_US        (60u * 1000000u)

struct ctl_resolver {
	struct ctl_rname       **tab;           /* open addressing by name */
	uint32_t                 n;
	uint32_t                 mask;
	struct ctl_rbatch       *round;         /* background round, or NULL */
	struct ctl_rbatch       *zombies;       /* timed out, still running */
	struct addrinfo          hints;
	uint64_t                 serial;        /* walks over a set's names */
	bool                     late_change;   /* a zombie's late result */
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

/* A batch's memory and results (its lookups all over). */
static void
ctl_rbatch_free(struct ctl_rbatch *b)
{
	uint32_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		if (b->cbs[i].ar_result != NULL)
			freeaddrinfo(b->cbs[i].ar_result);
	free(b->cbs);
	free(b->list);
	free(b->who);
	free(b->done);
	free(b);
}

static uint32_t ctl_resolver_reap(struct ctl_resolver *r, bool force);

void
ctl_resolver_free(struct ctl_resolver *r)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
	uint32_t i, tries, busy;

	if (r == NULL)
		return;
	if (r->round != NULL) {
		r->round->next = r->zombies;
		r->zombies = r->round;
		r->round = NULL;
	}
	/* Cancel what is queued; lookups glibc already runs cannot be:
	 * give them 2 s, then leave all their memory (names, hints,
	 * requests) to the exiting process rather than free it under them. */
	for (tries = 0; (busy = ctl_resolver_reap(r, true)) != 0 &&
	     tries < 20; tries++)
		nanosleep(&ts, NULL);
	if (busy != 0) {
		ctl_log(CTL_LOG_WARN,
			"%u host name lookups still running at exit", busy);
		return;
	}
	for (i = 0; i <= r->mask; i++)
		free(r->tab[i]);
	free(r->tab);
	free(r);
}

/*
 * The slot of @p name (any case) in the table, lower-cased into @p key:
 * its entry, or the empty slot it would take. UINT32_MAX: no name.
 */
static uint32_t
ctl_resolver_slot(const struct ctl_resolver *r, struct span name,
		  char key[RULES_NAME_MAX + 1])
{
	uint32_t i;

	if (name.len == 0 || name.len > RULES_NAME_MAX)
		return UINT32_MAX;
	for (i = 0; i < name.len; i++)
		key[i] = (char)tolower((unsigned char)name.ptr[i]);
	key[i] = '\0';
	for (i = (uint32_t)ctl_str_hash(key) & r->mask; r->tab[i] != NULL;
	     i = (i + 1) & r->mask)
		if (strcmp(r->tab[i]->name, key) == 0)
			break;
	return i;
}

/* The entry of @p name (any case), or NULL. */
static struct ctl_rname *
ctl_resolver_find(const struct ctl_resolver *r, struct span name)
{
	char key[RULES_NAME_MAX + 1];
	uint32_t i = ctl_resolver_slot(r, name, key);

	return i != UINT32_MAX ? r->tab[i] : NULL;
}

/* The entry of @p name (any case), created if none; NULL: ENOMEM. */
static struct ctl_rname *
ctl_resolver_entry(struct ctl_resolver *r, struct span name)
{
	char key[RULES_NAME_MAX + 1];
	struct ctl_rname *e;
	uint32_t i = ctl_resolver_slot(r, name, key), k;

	if (i == UINT32_MAX)
		return NULL;
	if (r->tab[i] != NULL)
		return r->tab[i];
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
		if (rules_addr_usable(a.af, a.addr))
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
	if (rc == 0 && ai == NULL)
		rc = EAI_SYSTEM;        /* glibc could not make the request */
	if (rc == 0)
		n = ctl_resolver_collect(ai, got);
	if (n == 0) {
		e->failures++;
		if (rc == 0)
			snprintf(e->err, sizeof(e->err),
				 "no address a router can send to");
		else
			snprintf(e->err, sizeof(e->err), "%s",
				 rc == EAI_CANCELED ? "lookup timed out" :
				 rc == EAI_SYSTEM ?
				 "lookup could not be started (resources)" :
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
	struct ctl_rname *e;
	uint32_t n;

	e = ctl_resolver_find(r, name);
	if (e == NULL || e->n == 0) {
		snprintf(why, why_len, "%s", e != NULL && e->err[0] != '\0' ?
			 e->err : "not looked up");
		return -ENOENT;
	}
	n = e->n < max ? e->n : max;
	memcpy(out, e->addr, n * sizeof(out[0]));
	return (int)n;
}

/*
 * Settle what can be settled of @p b: each lookup glibc has finished is
 * recorded (@p record) and marked done; with @p force, each still queued
 * is cancelled and recorded as timed out, and one glibc reports finished
 * without a result (never really queued) as not started. *@p changed
 * (may be NULL) is set if a name's addresses changed.
 *
 * @return
 *   Lookups glibc still runs (their memory must stay).
 */
static uint32_t
ctl_rbatch_settle(struct ctl_rbatch *b, bool force, bool record,
		  bool *changed)
{
	uint32_t i, busy = 0;
	int err, c;

	for (i = 0; i < b->n; i++) {
		if (b->done[i])
			continue;
		err = gai_error(&b->cbs[i]);
		if (err == EAI_INPROGRESS && force) {
			/* EAI_CANCELED: taken off glibc's queue, which
			 * never touches it again (gai_error() still says
			 * in progress). EAI_ALLDONE: finished meanwhile, or
			 * never queued (gai_error() still in progress). */
			c = gai_cancel(&b->cbs[i]);
			if (c == EAI_CANCELED) {
				err = EAI_CANCELED;
			} else if (c == EAI_ALLDONE) {
				err = gai_error(&b->cbs[i]);
				if (err == EAI_INPROGRESS)
					err = EAI_SYSTEM;
			}
		}
		if (err == EAI_INPROGRESS) {
			/* Running and out of time: what an import reports;
			 * the result is recorded when it comes. */
			if (force && record && b->who[i]->n == 0)
				snprintf(b->who[i]->err, sizeof(b->who[i]->err),
					 "lookup timed out (still running)");
			busy++;
			continue;
		}
		b->done[i] = 1;
		if (record && ctl_resolver_record(b->who[i], err,
						  err == 0 ?
						  b->cbs[i].ar_result : NULL) &&
		    changed != NULL)
			*changed = true;
	}
	return busy;
}

/*
 * Settle the zombie batches (recording late results: a name an import
 * waited for in vain has its addresses when the import is tried again),
 * and free those all done. With @p force, cancel what is queued.
 *
 * @return
 *   Lookups glibc still runs.
 */
static uint32_t
ctl_resolver_reap(struct ctl_resolver *r, bool force)
{
	struct ctl_rbatch **pp = &r->zombies, *b;
	uint32_t busy = 0, k;
	bool changed = false;

	while ((b = *pp) != NULL) {
		k = ctl_rbatch_settle(b, force, !force, &changed);
		if (k == 0) {
			*pp = b->next;
			ctl_rbatch_free(b);
			continue;
		}
		busy += k;
		pp = &b->next;
	}
	if (changed)
		r->late_change = true;
	return busy;
}

/* Cancel every lookup of @p b still queued, recording nothing. */
static void
ctl_rbatch_cancel_all(struct ctl_rbatch *b)
{
	ctl_rbatch_settle(b, true, false, NULL);
}

/*
 * A batch of lookups of the names of @p set that @p want picks, each
 * entry once (names differing in case only are one lookup), started;
 * *out NULL when none was wanted.
 */
static int
ctl_rbatch_start(struct ctl_resolver *r, const struct rules_set *set,
		 bool (*want)(const struct ctl_rname *e, void *arg),
		 void *arg, struct ctl_rbatch **out)
{
	struct ctl_rbatch *b;
	uint32_t cur = 0, n = 0;
	uint64_t mark = ++r->serial;
	const char *name;
	int rc;

	*out = NULL;
	while (rules_set_name_next(set, &cur) != NULL)
		n++;
	if (n == 0)
		return 0;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->cbs = calloc(n, sizeof(*b->cbs));
	b->list = calloc(n, sizeof(*b->list));
	b->who = calloc(n, sizeof(*b->who));
	b->done = calloc(n, sizeof(*b->done));
	if (b->cbs == NULL || b->list == NULL || b->who == NULL ||
	    b->done == NULL) {
		ctl_rbatch_free(b);
		return -ENOMEM;
	}
	cur = 0;
	while (b->n < n && (name = rules_set_name_next(set, &cur)) != NULL) {
		struct ctl_rname *e;

		e = ctl_resolver_entry(r, span_make(name, strlen(name)));
		if (e == NULL) {
			ctl_rbatch_free(b);
			return -ENOMEM;
		}
		if (e->mark == mark || !want(e, arg))
			continue;
		e->mark = mark;
		b->who[b->n] = e;
		b->cbs[b->n].ar_name = e->name;
		b->cbs[b->n].ar_request = &r->hints;
		b->list[b->n] = &b->cbs[b->n];
		b->n++;
	}
	if (b->n == 0) {
		ctl_rbatch_free(b);
		return 0;
	}
	b->t0 = ctl_mono_us();
	rc = getaddrinfo_a(GAI_NOWAIT, b->list, (int)b->n, NULL);
	/* On an error some requests may be queued all the same: the batch
	 * is settled like any other (ctl_rbatch_settle() tells the rest). */
	if (rc != 0)
		ctl_log(CTL_LOG_ERR, "host name lookups: %s", gai_strerror(rc));
	*out = b;
	return 0;
}

struct ctl_prep {
	bool             fresh;
	uint64_t         max_age_us;    /* 0: any age */
	uint64_t         now_us;        /* wall clock */
};

static bool
ctl_prep_want(const struct ctl_rname *e, void *arg)
{
	const struct ctl_prep *p = arg;

	/* No addresses; every name (fresh); or addresses older than the
	 * interval (a name back in the rules after a while). */
	return e->n == 0 || p->fresh ||
	       (p->max_age_us != 0 && p->now_us - e->ok_us > p->max_age_us);
}

int
ctl_resolver_prepare(struct ctl_resolver *r, const struct rules_set *set,
		     bool fresh, uint64_t max_age_us, uint32_t wait_ms,
		     bool *changed)
{
	struct ctl_prep pp = { .fresh = fresh, .max_age_us = max_age_us,
			       .now_us = ctl_now_us() };
	uint64_t end = ctl_mono_us() + (uint64_t)wait_ms * 1000u, now;
	uint64_t step = 1000u, d;
	struct timespec ts;
	struct ctl_rbatch *b;
	int rc;

	ctl_resolver_reap(r, false);
	rc = ctl_rbatch_start(r, set, ctl_prep_want, &pp, &b);
	if (rc != 0 || b == NULL)
		return rc;
	/* glibc serves requests in order: the background round's queued
	 * lookups must not make these wait (the next round redoes them). */
	if (r->round != NULL)
		ctl_rbatch_cancel_all(r->round);
	/* Polled (1 ms, doubling to 16 ms), not gai_suspend(): glibc's
	 * gai_suspend() links a wait entry on its own stack to each request
	 * and on return unlinks only those gai_error() still calls in
	 * progress; a lookup that finished meanwhile (its result is stored
	 * before its thread takes the lock to notify) keeps the entry, and
	 * that thread then reads and writes it after gai_suspend() returned,
	 * in stack memory this thread is reusing. A request glibc dropped
	 * (gai_error() in progress for ever) now waits out the bound. */
	while (ctl_rbatch_settle(b, false, true, changed) != 0 &&
	       (now = ctl_mono_us()) < end) {
		d = end - now < step ? end - now : step;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(d * 1000u);
		nanosleep(&ts, NULL);
		if (step < 16000u)
			step *= 2;
	}
	/* Out of time: what is queued fails ("timed out"); what runs keeps
	 * its memory, and its result is recorded when it comes. */
	if (ctl_rbatch_settle(b, true, true, changed) != 0) {
		b->next = r->zombies;
		r->zombies = b;
		return 0;
	}
	ctl_rbatch_free(b);
	return 0;
}

static bool
ctl_round_want(const struct ctl_rname *e, void *arg)
{
	(void)e;
	(void)arg;
	return true;
}

int
ctl_resolver_refresh_start(struct ctl_resolver *r, const struct rules_set *set)
{
	if (r->round != NULL)
		return 0;
	ctl_resolver_reap(r, false);
	return ctl_rbatch_start(r, set, ctl_round_want, NULL, &r->round);
}

int
ctl_resolver_refresh_poll(struct ctl_resolver *r, bool *changed)
{
	bool force;

	ctl_resolver_reap(r, false);
	*changed = r->late_change;
	r->late_change = false;
	if (r->round == NULL)
		return 1;
	/* A round that hangs (a stuck name server module) is cut short so
	 * that the next one can start. */
	force = ctl_mono_us() - r->round->t0 > CTL_ROUND_MAX_US;
	if (ctl_rbatch_settle(r->round, force, true, changed) != 0) {
		if (!force)
			return 0;
		r->round->next = r->zombies;
		r->zombies = r->round;
	} else {
		ctl_rbatch_free(r->round);
	}
	r->round = NULL;
	return 1;
}

bool
ctl_resolver_busy(const struct ctl_resolver *r)
{
	return r->round != NULL || r->zombies != NULL;
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
	uint64_t mark;
	size_t len;
	int rc;

	ctl_buf_reset(out);
	rc = ctl_buf_reserve(out, SCHEMA_NAMES_HDR_LEN);
	if (rc != 0)
		return rc;
	out->len = SCHEMA_NAMES_HDR_LEN;
	/* Each entry once, however many spellings the set has. */
	mark = ++r->serial;
	while ((name = rules_set_name_next(set, &cur)) != NULL) {
		e = ctl_resolver_find(r, span_make(name, strlen(name)));
		if (e == NULL || e->n == 0 || e->mark == mark)
			continue;
		e->mark = mark;
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

	e = ctl_resolver_entry(r, rec->name);
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
	return r->round != NULL;
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
		e = ctl_resolver_find(r, span_make(name, strlen(name)));
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
