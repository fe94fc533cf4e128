/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - the control process and sipedgectl: store, import, commands,
 * socket framing, JSON, logging.
 *
 * Layers, bottom up:
 *   ctl_store.c   LMDB environment and transactions (the only mdb_* user)
 *   ctl_state.c   the committed state: current rule set, generation, and
 *                 every change to it (imports, route add/del, settings)
 *   ctl_cmd.c     the command table: JSON request -> action -> JSON reply
 *   ctl_server.c  epoll loop, control socket, connections, subscribers
 *   ctl_sock.c    frame encoding and blocking client I/O
 *   ctl_json.c    JSON writer and a small DOM parser
 *
 * Context: everything here runs on the control process's single thread
 * unless a function says otherwise; nothing is thread-safe by itself.
 */
#ifndef SIPEDGE_CONTROL_CTL_H
#define SIPEDGE_CONTROL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rules.h>
#include <schema.h>
#include <span.h>

/* ------------------------------------------------------------------ */
/* Logging (stderr, one line per event)                               */

enum ctl_log_level {
	CTL_LOG_ERR = 0,
	CTL_LOG_WARN,
	CTL_LOG_INFO,
	CTL_LOG_DEBUG,
};

void ctl_log_set_level(int level);
int ctl_log_level_parse(const char *s);        /* level or -EINVAL */
void ctl_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* FNV-1a of a NUL-terminated string, for the control process's tables. */
uint64_t ctl_str_hash(const char *s);

/* Monotonic and wall clocks in microseconds. */
uint64_t ctl_now_us(void);
uint64_t ctl_mono_us(void);

/* ------------------------------------------------------------------ */
/* Growable byte buffer                                               */

struct ctl_buf {
	char            *p;
	size_t           len;
	size_t           cap;
	int              err;           /* sticky -ENOMEM */
};

void ctl_buf_init(struct ctl_buf *b);
void ctl_buf_fini(struct ctl_buf *b);
void ctl_buf_reset(struct ctl_buf *b);
int ctl_buf_reserve(struct ctl_buf *b, size_t extra);
void ctl_buf_add(struct ctl_buf *b, const void *p, size_t n);
void ctl_buf_addf(struct ctl_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drop the first @p n bytes. */
void ctl_buf_consume(struct ctl_buf *b, size_t n);

/* ------------------------------------------------------------------ */
/* JSON                                                               */

#define CTL_JSON_DEPTH_MAX      16
#define CTL_JSON_NODES_MAX      200000  /* values in one text */

/* Writer: keys are NULL inside arrays and at the top level. */
struct ctl_jw {
	struct ctl_buf  *b;
	uint32_t         depth;
	bool             comma[CTL_JSON_DEPTH_MAX];
};

/* Write a parsed value (and everything under it) as JSON. Recursion is
 * bounded by the parser's CTL_JSON_DEPTH_MAX. */
struct ctl_jval;
void ctl_jw_value(struct ctl_jw *w, const char *key, const struct ctl_jval *v);
void ctl_jw_init(struct ctl_jw *w, struct ctl_buf *b);
void ctl_jw_obj(struct ctl_jw *w, const char *key);
void ctl_jw_obj_end(struct ctl_jw *w);
void ctl_jw_arr(struct ctl_jw *w, const char *key);
void ctl_jw_arr_end(struct ctl_jw *w);
void ctl_jw_str(struct ctl_jw *w, const char *key, const char *s);
void ctl_jw_strn(struct ctl_jw *w, const char *key, const char *s, size_t n);
void ctl_jw_u64(struct ctl_jw *w, const char *key, uint64_t v);
void ctl_jw_i64(struct ctl_jw *w, const char *key, int64_t v);
void ctl_jw_bool(struct ctl_jw *w, const char *key, bool v);
void ctl_jw_null(struct ctl_jw *w, const char *key);
/* Insert already-serialised JSON. */
void ctl_jw_raw(struct ctl_jw *w, const char *key, const char *json,
		size_t n);

enum ctl_jtype {
	CTL_JNULL,
	CTL_JBOOL,
	CTL_JNUM,
	CTL_JSTR,
	CTL_JARR,
	CTL_JOBJ,
};

/* A parsed JSON value; children are a singly linked list. */
struct ctl_jval {
	uint8_t                  type;          /* enum ctl_jtype */
	bool                     b;
	bool                     is_int;
	int64_t                  i;
	double                   num;
	char                    *str;           /* NUL-terminated, unescaped */
	size_t                   len;
	char                    *key;           /* member name inside objects */
	struct ctl_jval         *child;
	struct ctl_jval         *next;
};

/**
 * Parse one JSON value (RFC 8259) with nesting up to CTL_JSON_DEPTH_MAX
 * and at most CTL_JSON_NODES_MAX values; member names must be unique
 * within their object and hold no NUL.
 *
 * @return
 *   0 and *out set (free with ctl_json_free()); -EINVAL for malformed
 *   input or trailing bytes; -EEXIST for a member named twice; -E2BIG for
 *   too many values; -ENOMEM.
 */
int ctl_json_parse(const char *s, size_t len, struct ctl_jval **out);
/* ctl_json_parse(), and on failure the byte offset where it stopped. */
int ctl_json_parse_at(const char *s, size_t len, struct ctl_jval **out,
		      size_t *err_off);
void ctl_json_free(struct ctl_jval *v);
/* Member of an object, or NULL. */
const struct ctl_jval *ctl_json_get(const struct ctl_jval *obj,
				    const char *key);
/* Typed member getters; return the fallback if absent or of another type. */
const char *ctl_json_str(const struct ctl_jval *obj, const char *key,
			 const char *dflt);
int64_t ctl_json_int(const struct ctl_jval *obj, const char *key,
		     int64_t dflt);
bool ctl_json_bool(const struct ctl_jval *obj, const char *key, bool dflt);

/* ------------------------------------------------------------------ */
/* Framing (control/PROTOCOL.md)                                      */

#define CTL_FRAME_HDR_LEN       5u
#define CTL_FRAME_MAX           (4u << 20)
/* Longest string setting (an acl.* list of 4,096 IPv6 prefixes fits). */
#define CTL_SETTING_STR_MAX     (256u << 10)
#define CTL_FRAME_REQUEST       'Q'
#define CTL_FRAME_DATA          'D'
#define CTL_FRAME_END           'E'
#define CTL_FRAME_REPLY         'R'
#define CTL_FRAME_EVENT         'V'

/* Append one frame to @p out. */
void ctl_frame_put(struct ctl_buf *out, uint8_t type, const void *p,
		   size_t n);

/**
 * Look for one complete frame at the start of @p in.
 *
 * @return
 *   1 and the frame's type, payload and total size (header included);
 *   0 if more bytes are needed; -EPROTO for an unknown type, -EMSGSIZE
 *   for a length above CTL_FRAME_MAX.
 */
int ctl_frame_peek(const struct ctl_buf *in, uint8_t *type,
		   const char **payload, uint32_t *len, size_t *total);

/* Blocking I/O for clients. EINTR is retried. */
int ctl_io_write_all(int fd, const void *p, size_t n);
int ctl_io_send_frame(int fd, uint8_t type, const void *p, size_t n);
/* Read one frame into @p payload (reset first): 0, -EPIPE on EOF, -errno. */
int ctl_io_read_frame(int fd, uint8_t *type, struct ctl_buf *payload);
/* Connect to a Unix stream socket: fd or -errno. */
int ctl_io_connect(const char *path);
/*
 * ctl_io_connect() whose connect, reads and writes each wait at most
 * @p timeout_s (0: no bound); a wait that runs out is -EAGAIN.
 */
int ctl_io_connect_timeout(const char *path, unsigned int timeout_s);

/* ------------------------------------------------------------------ */
/* Store (ctl_store.c: the only file that calls LMDB)                 */

struct ctl_store;

#define CTL_MAP_SIZE_DEFAULT    (4ull << 30)
#define CTL_MAP_MAX_DEFAULT     (64ull << 30)

/**
 * Open (creating if needed) the environment in @p dir, its map at least
 * @p map_size bytes (an environment whose map grew keeps its size), and
 * growing up to @p map_max (ctl_store_set_map_max()).
 *
 * @return
 *   0 and *out set; -EPROTONOSUPPORT if the schema version is unknown;
 *   -EBADMSG if meta is malformed; another negative errno.
 *
 * Context: control thread, once.
 */
int ctl_store_open(const char *dir, uint64_t map_size, uint64_t map_max,
		   struct ctl_store **out);
void ctl_store_close(struct ctl_store *st);

/**
 * Let the LMDB map grow up to @p max bytes (never below its size now):
 * a write that finds the map full doubles it (at most to @p max) and runs
 * again. ctl_store_open() sets the first limit.
 *
 * Context: control thread.
 */
void ctl_store_set_map_max(struct ctl_store *st, uint64_t max);

int ctl_store_generation(struct ctl_store *st, struct schema_meta_gen *out);
/* -ENOENT if nothing was ever imported. */
/* meta["names"] as stored (malloc()ed copy): 0, -ENOENT, -errno. */
int ctl_store_names_get(struct ctl_store *st, void **out, size_t *len);
int ctl_store_last_import(struct ctl_store *st,
			  struct schema_import_summary *out);

/* Iterate every stored rule in key order; stops at a non-zero return. */
typedef int ctl_store_rule_fn(void *arg, const struct schema_rule *r);
int ctl_store_rules_foreach(struct ctl_store *st, ctl_store_rule_fn *fn,
			    void *arg);

/*
 * Settings. get copies a string value into @p strbuf (NUL-terminated,
 * -ENOSPC if it does not fit); -ENOENT if the key is absent.
 */
int ctl_store_setting_get(struct ctl_store *st, const char *name,
			  struct schema_setting *out, char *strbuf,
			  size_t cap);
int ctl_store_setting_put(struct ctl_store *st, const char *name,
			  const struct schema_setting *s);

/* One change of the rules database, produced on demand during a commit. */
struct ctl_change {
	bool                     del;
	struct span              id;
	struct schema_rule       rule;          /* put only */
};
/* 1 and *c filled; 0 at the end; negative errno to abort the commit. */
typedef int ctl_change_fn(void *arg, struct ctl_change *c);
/* Starts the changes over from the first. */
typedef void ctl_rewind_fn(void *arg);

struct ctl_target_ent {
	char                     key[RULES_NAME_MAX + 8]; /* host:port;
					   names in lower case */
	struct schema_target_rec rec;
};

/* Everything a new generation consists of. */
struct ctl_commit {
	ctl_change_fn                   *next;          /* rule changes */
	ctl_rewind_fn                   *rewind;        /* NULL: the commit is
							 * not run again after
							 * the map grew */
	void                            *arg;
	bool                             clear_rules;   /* drop all rules first */
	const struct ctl_target_ent     *targets;       /* full new table */
	size_t                           ntargets;
	const void                      *image;         /* rules image */
	size_t                           image_len;
	const void                      *names;         /* meta["names"], */
	size_t                           names_len;     /* 0: none (removed) */
	struct schema_geninfo            geninfo;
	struct schema_import_summary     summary;       /* generation, times filled in */
	uint64_t                         t0_mono;       /* ctl_mono_us() at the first byte */
	uint64_t                         keep;          /* artefacts.keep */
};

/*
 * Whether the file system holding the store has less than @p need bytes
 * free: LMDB reports a write cut short by a full disk as an I/O error.
 */
bool ctl_store_disk_short(struct ctl_store *st, uint64_t need);

/**
 * Commit a new generation in ONE write transaction: rule changes, the
 * targets table, the artefacts of generation N+1, garbage collection of
 * generations <= N+1-keep, meta["generation"] and meta["last_import"].
 *
 * @param gen
 *   Receives N+1 on success.
 * @return
 *   0; -ENOSPC if the map (or disk) is full; another negative errno. On
 *   any error nothing is committed and generation N stays current.
 */
int ctl_store_commit(struct ctl_store *st, const struct ctl_commit *c,
		     uint64_t *gen);

/* Copy of an artefact's payload after checking its header and CRC. */
int ctl_store_artefact_get(struct ctl_store *st, uint64_t gen, uint8_t kind,
			   void **out, size_t *len);
/* Payload size of an artefact (header checked, CRC not): 0 or -ENOENT. */
int ctl_store_artefact_size(struct ctl_store *st, uint64_t gen, uint8_t kind,
			    uint64_t *size);
/* Generations that still have artefacts, ascending; *n set. */
int ctl_store_artefact_gens(struct ctl_store *st, uint64_t *gens, size_t cap,
			    size_t *n);

struct ctl_store_stat {
	uint64_t         map_size;
	uint64_t         used_bytes;    /* (last page + 1) * page size */
	uint64_t         file_bytes;
	uint64_t         entries[SCHEMA_DBI__COUNT];
	uint32_t         readers;
};
int ctl_store_stat(struct ctl_store *st, struct ctl_store_stat *out);

/* Text dump of every database (keys and values in hex), for tests. */
int ctl_store_dump(struct ctl_store *st, FILE *f);

/* ------------------------------------------------------------------ */
/* Target host names (ctl_resolve.c)                                  */

struct ctl_resolver;

int ctl_resolver_new(struct ctl_resolver **out);
/* Waits up to 2 s for background lookups glibc cannot cancel. */
void ctl_resolver_free(struct ctl_resolver *r);

/* The longest an import waits for the lookups of the names it brings. */
#define CTL_RESOLVE_WAIT_MS     5000u

/*
 * Before compiling @p set: look up, all at once and for at most @p wait_ms
 * in all, its names the cache has no addresses for or has had for longer
 * than @p max_age_us (0: any age), or (@p fresh) all of them. Queued
 * lookups of a background round are cancelled first (glibc serves in
 * order). A lookup that fails or runs out of time is recorded as failed
 * (addresses found before are kept); one still running when time is up
 * is recorded when it ends.
 *
 * @return
 *   0; -ENOMEM.
 */
int ctl_resolver_prepare(struct ctl_resolver *r, const struct rules_set *set,
			 bool fresh, uint64_t max_age_us, uint32_t wait_ms,
			 bool *changed);

/*
 * rules_resolve_fn for rules_compile_resolved(): the addresses the cache
 * has for the name (never a lookup); -ENOENT with the last error.
 */
int ctl_resolver_lookup(void *arg, struct span name, struct rules_addr *out,
			uint32_t max, char *why, size_t why_len);

/*
 * Background lookups of every name of @p set: start a round (nothing if
 * one runs or the set names no host), then poll it from the event loop.
 * poll returns 0 while lookups run, 1 when the round is over (or none
 * ran; a round is cut short after 60 s), with *changed set if any name
 * now has other addresses (also from a late result of a lookup an
 * import gave up waiting for).
 */
int ctl_resolver_refresh_start(struct ctl_resolver *r,
			       const struct rules_set *set);
int ctl_resolver_refresh_poll(struct ctl_resolver *r, bool *changed);
bool ctl_resolver_running(const struct ctl_resolver *r);
/* A round or lookups an import gave up on still run (poll again soon). */
bool ctl_resolver_busy(const struct ctl_resolver *r);

/*
 * meta["names"] for a commit of @p set: the addresses of its names, as
 * compiled. Empty (len 0) when it names no host with addresses.
 */
int ctl_resolver_save(struct ctl_resolver *r, const struct rules_set *set,
		      struct ctl_buf *out);
/* Seed the cache from a stored meta["names"]: 0, -EBADMSG, -ENOMEM. */
int ctl_resolver_load(struct ctl_resolver *r, const void *buf, size_t len);

/* "names": every host name of @p set, its addresses and lookup state. */
void ctl_resolver_report(const struct ctl_resolver *r,
			 const struct rules_set *set, struct ctl_jw *w);

/* ------------------------------------------------------------------ */
/* Committed state and changes (ctl_state.c)                          */

struct ctl_state;

/* Called after each commit with the new generation. */
typedef void ctl_publish_fn(void *arg, uint64_t gen, uint64_t nrules);

/**
 * Open the store and load the current rule set into memory.
 *
 * Context: control thread, once.
 */
int ctl_state_open(const char *dir, uint64_t map_size, uint64_t map_max,
		   struct ctl_state **out);
void ctl_state_close(struct ctl_state *cs);
void ctl_state_set_publish(struct ctl_state *cs, ctl_publish_fn *fn,
			   void *arg);
struct ctl_store *ctl_state_store(struct ctl_state *cs);
const struct rules_set *ctl_state_rules(const struct ctl_state *cs);
uint64_t ctl_state_generation(const struct ctl_state *cs);
struct ctl_resolver *ctl_state_resolver(struct ctl_state *cs);

/**
 * Keep target host names current: every targets.resolve_interval seconds
 * (and once after start) look the names of the current rules up again in
 * the background; when a round ends with other addresses than the current
 * generation was compiled with, compile the current rules again and
 * commit the image as a new generation (mode "resolve") unless it is the
 * same image. Nothing is committed while @p busy (an import is open): it
 * waits for the next call.
 *
 * @return
 *   Milliseconds until it needs to be called again, or -1 (no deadline).
 *
 * Context: control thread, every event loop iteration.
 */
int ctl_state_resolve_tick(struct ctl_state *cs, bool busy);

/* A setting was changed (config.set): what depends on it looks again. */
void ctl_state_setting_changed(struct ctl_state *cs, const char *name);

/**
 * Compile the current rules with the names' current addresses and commit
 * the image as a new generation if it differs from the current one.
 *
 * @return
 *   0 (res->generation is the new or the unchanged current generation);
 *   as an import's commit otherwise, with res filled.
 */
struct ctl_result;
int ctl_state_reresolve(struct ctl_state *cs, struct ctl_result *res);

/* Human-readable reason of the last failure (static or state-owned). */
struct ctl_result {
	int                      rc;            /* 0 or negative errno */
	char                     msg[256];      /* set when rc != 0 */
	const char              *code;          /* stable error code string */
	uint64_t                 generation;    /* new (or current) */
	uint64_t                 rows;
	uint64_t                 nrules;
	uint32_t                 by_kind[RULES_KIND__COUNT];
	struct rules_diff        diff;
	uint64_t                 parse_us;
	uint64_t                 compile_us;
	uint64_t                 commit_us;
	uint64_t                 total_us;
	size_t                   image_len;
	struct rules_errors     *errs;          /* owned; may be NULL */
};

void ctl_result_fini(struct ctl_result *res);

struct ctl_import;

struct ctl_import_opts {
	bool             merge;         /* default: replace */
	bool             dry_run;
};

/**
 * Start an import. Bytes are parsed as they are fed; nothing touches the
 * store before ctl_import_finish().
 *
 * @return
 *   0 and *out set (owned by the caller until finish or abort); -ENOMEM.
 *
 * Context: control thread; at most one import should be open at a time
 * (the server enforces it), because finish commits against the state as
 * it is then.
 */
int ctl_import_begin(struct ctl_state *cs, const struct ctl_import_opts *o,
		     struct ctl_import **out);
/* Feed CSV bytes, split anywhere: 0; -EFBIG past import.max_rows rows
 * (abandon it); -ENOMEM. */
int ctl_import_feed(struct ctl_import *imp, const void *buf, size_t len);
/* The import.max_rows the import was begun under. */
uint64_t ctl_import_max_rows(const struct ctl_import *imp);
/**
 * End of input: validate, compile, diff, and (unless dry-run) commit a new
 * generation in one write transaction, then publish it.
 *
 * @param res
 *   Fully overwritten: counts, timings, the error code and message, and
 *   (res->errs, owned, free with ctl_result_fini()) the input errors.
 * @return
 *   0; -EINVAL for rejected input; -ENOSPC if the store is full; another
 *   negative errno. On any error nothing is committed.
 *
 * Context: control thread; blocks for the compile and the commit (about
 * 3 s for 1M rows, perf/results/import.csv). The import is freed either
 * way.
 */
int ctl_import_finish(struct ctl_import *imp, struct ctl_result *res);
/* Abandon an import (client went away): nothing is committed. */
void ctl_import_abort(struct ctl_import *imp);

/*
 * route add (one CSV data row, no header) / route del: each builds the
 * whole next set (O(rules)) and commits one generation; same result and
 * error conventions as ctl_import_finish(). Context: control thread.
 */
int ctl_route_add(struct ctl_state *cs, const char *row, size_t len,
		  bool replace, struct ctl_result *res);
int ctl_route_del(struct ctl_state *cs, struct span id,
		  struct ctl_result *res);

/*
 * Explain a Request-URI against the current generation's image as stored
 * in LMDB (loaded, checked and cached like a dataplane would). @p ex is
 * caller-allocated (it is large); its spans live until the next commit.
 * Context: control thread.
 */
int ctl_explain(struct ctl_state *cs, const char *uri,
		struct rules_explain *ex, struct ctl_result *res);

/**
 * Render the current rule set as CSV, header first, rows in id byte order,
 * so that the output is the same for the same set whatever the history.
 *
 * @return
 *   0, the first non-zero value of @p fn, or -ENOMEM.
 */
int ctl_export_csv(const struct rules_set *set, rules_write_fn *fn,
		   void *arg);

/* The reply code of a failed store write: store_full or store_error. */
const char *ctl_commit_code(int rc);

/* Settings with defaults applied. */
int ctl_setting_u64(struct ctl_state *cs, const char *name, uint64_t *v);

/* Split a SIP/SIPS/tel URI into user part and host (both may be empty). */
int ctl_uri_split(const char *uri, struct span *user, struct span *host);

/* Convert between the rules/ model and the stored layout. */
int ctl_rule_to_schema(const struct rules_rule *r, struct schema_rule *s,
		       char hosts[][48]);
int ctl_rule_from_schema(const struct schema_rule *s, struct rules_rule *r,
			 struct rules_target *targets);

/* ------------------------------------------------------------------ */
/* Commands and server                                                */

struct ctl_server;

/* Exit codes of sipedgectl (also documented in control/README.md). */
#define CTL_EXIT_OK             0
#define CTL_EXIT_FAIL           1       /* command failed (server said so) */
#define CTL_EXIT_USAGE          2
#define CTL_EXIT_CONNECT        3       /* cannot reach the control socket */
#define CTL_EXIT_BUSY           4       /* another import is running */
#define CTL_EXIT_INVALID        5       /* input rejected: nothing committed */
#define CTL_EXIT_PROTO          6       /* protocol or I/O error */

struct ctl_server_opts {
	const char      *socket_path;
	unsigned int     socket_mode;   /* default 0660 */
	unsigned int     upload_idle_s; /* an import that sends nothing for
					 * this long is abandoned; 0: never */
};

int ctl_server_new(struct ctl_state *cs, const struct ctl_server_opts *o,
		   struct ctl_server **out);
/* Serve until SIGTERM/SIGINT: 0 on a clean stop. */
int ctl_server_run(struct ctl_server *srv);
void ctl_server_free(struct ctl_server *srv);

/* Connection-facing command interface used by ctl_server.c. */
struct ctl_conn;

enum ctl_cmd_flags {
	CTL_CMD_MUTATES = 1u << 0,      /* refused while an import streams */
	CTL_CMD_UPLOAD = 1u << 1,       /* request is followed by D* E */
};

#endif /* SIPEDGE_CONTROL_CTL_H */
