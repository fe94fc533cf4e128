/* SPDX-License-Identifier: MIT */
/*
 * sip_scan.h - delimiter scans of the SIP library (private to dataplane/sip).
 *
 * Each scan looks for the first byte of a fixed set in [p, end) (for
 * token: the first byte outside the set) and returns its address, or @p end
 * when there is none. Two implementations exist: a
 * vector one (SSE2 compares for single bytes, SSE4.2 PCMPESTRI for sets) and
 * a portable scalar one. The choice is made once, at load time, from the CPU
 * features; callers fetch the table with sip_scan_ops() once per message and
 * call through it. No scan reads outside [p, end).
 */
#ifndef SIPEDGE_SIP_SIP_SCAN_H
#define SIPEDGE_SIP_SIP_SCAN_H

typedef const char *sip_scan_fn(const char *p, const char *end);

struct sip_scan_ops {
	sip_scan_fn     *lf;            /* '\n': line ends (CRLF or bare LF) */
	sip_scan_fn     *value;         /* ',' '"' '<': splitting value lists */
	sip_scan_fn     *quoted;        /* '"' '\\': inside a quoted-string */
	sip_scan_fn     *token;         /* first byte NOT in RFC 3261 token */
	const char      *name;          /* "sse4.2" or "scalar" */
};

enum sip_scan_impl {
	SIP_SCAN_AUTO = 0,              /* best the CPU supports */
	SIP_SCAN_SCALAR,
	SIP_SCAN_SSE42,
};

/**
 * The scan table in use.
 *
 * @return
 *   A static table; never NULL.
 *
 * Context: any thread, hot-path safe. Reads one pointer that is written
 * only at load time (and by sip_scan_select() in tests).
 */
const struct sip_scan_ops *sip_scan_ops(void);

/**
 * One implementation's table, for tests that compare them.
 *
 * @return
 *   The table, or NULL when this CPU (or build) cannot run it.
 */
const struct sip_scan_ops *sip_scan_ops_get(enum sip_scan_impl impl);

/**
 * Force an implementation (tests, benchmarks).
 *
 * @return
 *   0; -ENOTSUP when this CPU cannot run @p impl.
 *
 * Context: slow path only, before any thread parses: it writes the pointer
 * sip_scan_ops() reads, without synchronisation.
 */
int sip_scan_select(enum sip_scan_impl impl);

#endif /* SIPEDGE_SIP_SIP_SCAN_H */
