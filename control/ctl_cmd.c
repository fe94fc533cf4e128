/* SPDX-License-Identifier: MIT */
/*
 * ctl_cmd.c - the command table: one row per command, one action function
 * each. Handlers read the request object and write the members of the
 * reply's "result" object; the reply envelope is built by ctl_server.c.
 * Shapes are documented in control/PROTOCOL.md and are stable.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <compiler.h>

#include "ctl_priv.h"

static void
ctl_cmd_kinds(struct ctl_jw *w, const char *key, const uint32_t *v,
	      bool total)
{
	uint64_t sum = 0;
	unsigned int k;

	ctl_jw_obj(w, key);
	for (k = 0; k < RULES_KIND__COUNT; k++) {
		ctl_jw_u64(w, rules_kind_name(k), v[k]);
		sum += v[k];
	}
	if (total)
		ctl_jw_u64(w, "total", sum);
	ctl_jw_obj_end(w);
}

static void
ctl_cmd_errors(struct ctl_reply *r, const struct ctl_result *res,
	       uint64_t limit)
{
	const struct rules_errors *e = res->errs;
	uint32_t i;

	if (e == NULL)
		return;
	ctl_jw_arr(&r->w, "errors");
	for (i = 0; i < e->n && i < limit; i++) {
		ctl_jw_obj(&r->w, NULL);
		ctl_jw_u64(&r->w, "line", e->e[i].line);
		ctl_jw_str(&r->w, "field", rules_field_name(e->e[i].field));
		ctl_jw_str(&r->w, "message", e->e[i].msg);
		ctl_jw_obj_end(&r->w);
	}
	ctl_jw_arr_end(&r->w);
	ctl_jw_u64(&r->w, "error_count", e->total);
}

static void
ctl_cmd_result_fail(struct ctl_reply *r, const struct ctl_result *res)
{
	ctl_reply_fail(r, res->rc, res->code != NULL ? res->code : "internal",
		       "%s", res->msg);
}

/* Change replies (import, route add/del) share one shape. */
static void
ctl_cmd_change_result(struct ctl_server *srv, struct ctl_reply *r,
		      const struct ctl_result *res, bool dry_run,
		      const char *mode)
{
	uint64_t limit = RULES_ERRORS_KEEP;

	ctl_setting_u64(srv->cs, "import.max_errors", &limit);
	if (mode != NULL)
		ctl_jw_str(&r->w, "mode", mode);
	ctl_jw_bool(&r->w, "dry_run", dry_run);
	ctl_jw_bool(&r->w, "committed", res->rc == 0 && !dry_run);
	ctl_jw_u64(&r->w, "generation", res->generation);
	ctl_jw_u64(&r->w, "rows", res->rows);
	if (res->rc == 0) {
		ctl_jw_u64(&r->w, "rules", res->nrules);
		ctl_cmd_kinds(&r->w, "by_kind", res->by_kind, false);
		ctl_cmd_kinds(&r->w, "added", res->diff.added, true);
		ctl_cmd_kinds(&r->w, "removed", res->diff.removed, true);
		ctl_cmd_kinds(&r->w, "changed", res->diff.changed, true);
		ctl_jw_u64(&r->w, "unchanged", res->diff.unchanged);
		ctl_jw_u64(&r->w, "image_bytes", res->image_len);
	}
	ctl_jw_obj(&r->w, "timing_ms");
	ctl_jw_u64(&r->w, "parse", res->parse_us / 1000);
	ctl_jw_u64(&r->w, "compile", res->compile_us / 1000);
	ctl_jw_u64(&r->w, "commit", res->commit_us / 1000);
	ctl_jw_u64(&r->w, "total", res->total_us / 1000);
	ctl_jw_obj_end(&r->w);
	ctl_cmd_errors(r, res, limit);
	if (res->rc != 0)
		ctl_cmd_result_fail(r, res);
}

/* routes.import -------------------------------------------------- */

void
ctl_cmd_import_begin(struct ctl_server *srv, struct ctl_conn *c,
		     const struct ctl_jval *req, struct ctl_reply *r)
{
	struct ctl_import_opts o = { 0 };
	const char *mode = ctl_json_str(req, "mode", "replace");
	int rc;

	if (strcmp(mode, "merge") == 0) {
		o.merge = true;
	} else if (strcmp(mode, "replace") != 0) {
		ctl_reply_fail(r, -EINVAL, "bad_request",
			       "mode must be \"replace\" or \"merge\"");
		return;
	}
	o.dry_run = ctl_json_bool(req, "dry_run", false);
	rc = ctl_import_begin(srv->cs, &o, &c->imp);
	if (rc != 0) {
		ctl_reply_fail(r, rc, "internal", "cannot start import: %s",
			       strerror(-rc));
		return;
	}
	ctl_log(CTL_LOG_INFO, "client %llu: import (%s%s) started",
		(unsigned long long)c->id, mode, o.dry_run ? ", dry run" : "");
	c->imp_opts = o;
}

void
ctl_cmd_import_finish(struct ctl_server *srv, struct ctl_conn *c,
		      struct ctl_reply *r)
{
	bool dry_run = c->imp_opts.dry_run;
	bool merge = c->imp_opts.merge;
	struct ctl_result res;

	ctl_import_finish(c->imp, &res);
	ctl_cmd_change_result(srv, r, &res, dry_run,
			      merge ? "merge" : "replace");
	if (res.rc == 0)
		ctl_log(CTL_LOG_INFO,
			"client %llu: import %s: %" PRIu64 " rows, %" PRIu64 " rules, %.3f s",
			(unsigned long long)c->id,
			dry_run ? "checked (dry run)" : "committed", res.rows,
			res.nrules, (double)res.total_us / 1e6);
	else
		ctl_log(CTL_LOG_WARN, "client %llu: import failed: %s",
			(unsigned long long)c->id, res.msg);
	ctl_result_fini(&res);
}

/* Never called: the server drives uploads itself. */
static void
ctl_cmd_upload_only(struct ctl_server *srv, struct ctl_conn *c,
		    const struct ctl_jval *req, struct ctl_reply *r)
{
	(void)srv;
	(void)c;
	(void)req;
	ctl_reply_fail(r, -EPROTO, "protocol", "upload command");
}

/* routes.export -------------------------------------------------- */

struct ctl_export {
	struct ctl_server       *srv;
	struct ctl_conn         *c;
	struct ctl_buf           chunk;
	uint64_t                 bytes;
};

static int
ctl_cmd_export_write(void *arg, const char *buf, size_t len)
{
	struct ctl_export *x = arg;

	ctl_buf_add(&x->chunk, buf, len);
	if (x->chunk.err != 0)
		return x->chunk.err;
	x->bytes += len;
	if (x->chunk.len >= (256u << 10)) {
		ctl_frame_put(&x->c->out, CTL_FRAME_DATA, x->chunk.p,
			      x->chunk.len);
		ctl_buf_reset(&x->chunk);
		/* Send what the socket takes now, so the queue stays short. */
		ctl_conn_flush(x->srv, x->c);
	}
	return x->c->out.err;
}

static void
ctl_cmd_export(struct ctl_server *srv, struct ctl_conn *c,
	       const struct ctl_jval *req, struct ctl_reply *r)
{
	struct ctl_export x = { .srv = srv, .c = c };
	struct ctl_conn *o;
	int rc;

	(void)req;
	/*
	 * An export is queued whole (up to ~90 MB for a million rules):
	 * while another client leaves more than CTL_OUT_HOLD unread, one
	 * more is refused, so that clients that do not read cannot make
	 * the server hold one export each.
	 */
	for (o = srv->conns; o != NULL; o = o->next) {
		if (o == c || o->out.len <= CTL_OUT_HOLD)
			continue;
		ctl_frame_put(&c->out, CTL_FRAME_END, NULL, 0);
		ctl_reply_fail(r, -EBUSY, "busy",
			       "client %llu has %zu MiB of replies not yet "
			       "read; nothing exported, retry when it has",
			       (unsigned long long)o->id, o->out.len >> 20);
		return;
	}
	ctl_buf_init(&x.chunk);
	rc = ctl_export_csv(ctl_state_rules(srv->cs), ctl_cmd_export_write,
			    &x);
	if (rc == 0 && x.chunk.len != 0)
		ctl_frame_put(&c->out, CTL_FRAME_DATA, x.chunk.p, x.chunk.len);
	ctl_buf_fini(&x.chunk);
	/* The data stream always ends, so the client can find the reply. */
	ctl_frame_put(&c->out, CTL_FRAME_END, NULL, 0);
	ctl_jw_u64(&r->w, "generation", ctl_state_generation(srv->cs));
	ctl_jw_u64(&r->w, "rules", rules_set_count(ctl_state_rules(srv->cs),
						    NULL));
	ctl_jw_u64(&r->w, "bytes", x.bytes);
	if (rc != 0)
		ctl_reply_fail(r, rc, "internal", "export failed: %s",
			       strerror(-rc));
}

/* route.* -------------------------------------------------------- */

static void
ctl_cmd_route_add(struct ctl_server *srv, struct ctl_conn *c,
		  const struct ctl_jval *req, struct ctl_reply *r)
{
	const char *row = ctl_json_str(req, "row", NULL);
	struct ctl_result res;

	(void)c;
	if (row == NULL) {
		ctl_reply_fail(r, -EINVAL, "bad_request",
			       "\"row\" (one CSV data row) is required");
		return;
	}
	ctl_route_add(srv->cs, row, strlen(row),
		      ctl_json_bool(req, "replace", false), &res);
	ctl_cmd_change_result(srv, r, &res, false, NULL);
	ctl_result_fini(&res);
}

static void
ctl_cmd_route_del(struct ctl_server *srv, struct ctl_conn *c,
		  const struct ctl_jval *req, struct ctl_reply *r)
{
	const char *id = ctl_json_str(req, "id", NULL);
	struct ctl_result res;

	(void)c;
	if (id == NULL) {
		ctl_reply_fail(r, -EINVAL, "bad_request", "\"id\" is required");
		return;
	}
	ctl_route_del(srv->cs, span_make(id, strlen(id)), &res);
	ctl_cmd_change_result(srv, r, &res, false, NULL);
	ctl_result_fini(&res);
}

static void
ctl_cmd_route_show(struct ctl_server *srv, struct ctl_conn *c,
		   const struct ctl_jval *req, struct ctl_reply *r)
{
	const char *id = ctl_json_str(req, "id", NULL);
	char hosts[RULES_TARGETS_MAX][48];
	struct rules_rule rule;
	struct schema_rule *s;
	char row[8192];
	size_t len;
	uint32_t i;

	(void)c;
	if (id == NULL) {
		ctl_reply_fail(r, -EINVAL, "bad_request", "\"id\" is required");
		return;
	}
	if (rules_set_find(ctl_state_rules(srv->cs), span_make(id, strlen(id)),
			   &rule) != 0) {
		ctl_reply_fail(r, -ENOENT, "not_found", "no rule '%s'", id);
		return;
	}
	/* The stored form has the targets as text. */
	s = malloc(sizeof(*s));
	if (s == NULL || ctl_rule_to_schema(&rule, s, hosts) != 0) {
		free(s);
		ctl_reply_fail(r, -ENOMEM, "internal", "cannot render rule");
		return;
	}
	ctl_jw_u64(&r->w, "generation", ctl_state_generation(srv->cs));
	ctl_jw_obj(&r->w, "rule");
	ctl_jw_strn(&r->w, "id", rule.id.ptr, rule.id.len);
	ctl_jw_str(&r->w, "kind", rules_kind_name(rule.kind));
	ctl_jw_strn(&r->w, "pattern", rule.pattern.ptr, rule.pattern.len);
	ctl_jw_str(&r->w, "action", rules_action_name(rule.action));
	ctl_jw_arr(&r->w, "targets");
	for (i = 0; i < rule.ntargets; i++) {
		ctl_jw_obj(&r->w, NULL);
		ctl_jw_strn(&r->w, "host", s->target[i].host.ptr,
			    s->target[i].host.len);
		ctl_jw_u64(&r->w, "port", rule.targets[i].port);
		ctl_jw_u64(&r->w, "priority", rule.targets[i].priority);
		ctl_jw_u64(&r->w, "weight", rule.targets[i].weight);
		ctl_jw_obj_end(&r->w);
	}
	ctl_jw_arr_end(&r->w);
	ctl_jw_u64(&r->w, "rank", rule.rank);
	ctl_jw_u64(&r->w, "strip", rule.strip);
	ctl_jw_strn(&r->w, "prepend", rule.prepend.ptr, rule.prepend.len);
	ctl_jw_u64(&r->w, "code", rule.code);
	if (rules_rule_to_csv(&rule, row, sizeof(row), &len) == 0)
		ctl_jw_strn(&r->w, "csv", row, len);
	ctl_jw_obj_end(&r->w);
	free(s);
}

static void
ctl_cmd_explain(struct ctl_server *srv, struct ctl_conn *c,
		const struct ctl_jval *req, struct ctl_reply *r)
{
	const char *uri = ctl_json_str(req, "uri", NULL);
	struct rules_explain *ex;
	struct ctl_result res;
	char *buf;
	size_t len, cap = 1u << 16;
	int rc;

	(void)c;
	if (uri == NULL) {
		ctl_reply_fail(r, -EINVAL, "bad_request", "\"uri\" is required");
		return;
	}
	ex = calloc(1, sizeof(*ex));
	buf = malloc(cap);
	if (ex == NULL || buf == NULL) {
		ctl_reply_fail(r, -ENOMEM, "internal", "out of memory");
		goto out_free;
	}
	if (ctl_explain(srv->cs, uri, ex, &res) != 0) {
		ctl_cmd_result_fail(r, &res);
		goto out_free;
	}
	/* Many long patterns that all match can make it larger than the
	 * first buffer: doubled until it fits (a reply frame holds 4 MiB). */
	while ((rc = rules_explain_json(ex, buf, cap, &len)) == -ENOSPC ||
	       (rc == 0 &&
		(rc = rules_explain_text(ex, buf, cap, &len)) == -ENOSPC)) {
		char *nb = cap < CTL_FRAME_MAX / 4 ? realloc(buf, 2 * cap) :
			   NULL;

		if (nb == NULL) {
			ctl_reply_fail(r, -E2BIG, "internal", "the explanation "
				       "is too long to send (over %zu bytes)",
				       cap);
			goto out_free;
		}
		buf = nb;
		cap *= 2;
	}
	if (rc != 0) {
		ctl_reply_fail(r, rc, "internal", "explanation failed: %s",
			       strerror(-rc));
		goto out_free;
	}
	ctl_jw_str(&r->w, "uri", uri);
	ctl_jw_u64(&r->w, "generation", res.generation);
	rc = rules_explain_json(ex, buf, cap, &len);
	if (rc == 0)
		ctl_jw_raw(&r->w, "explain", buf, len);
	if (rc == 0)
		rc = rules_explain_text(ex, buf, cap, &len);
	if (rc == 0)
		ctl_jw_strn(&r->w, "text", buf, len);
out_free:
	free(buf);
	free(ex);
}

/* status --------------------------------------------------------- */

static void
ctl_cmd_status(struct ctl_server *srv, struct ctl_conn *c,
	       const struct ctl_jval *req, struct ctl_reply *r)
{
	static const char *const dbi_names[] = {
#define X(sym, name) [SCHEMA_DBI_##sym] = (name),
		SCHEMA_DBI_MAP(X)
#undef X
	};
	struct ctl_store *st = ctl_state_store(srv->cs);
	struct schema_import_summary sum;
	struct ctl_store_stat ss;
	struct schema_meta_gen g;
	uint32_t counts[RULES_KIND__COUNT];
	uint64_t gens[SCHEMA_KEEP_MAX + 1], keep = 0, img = 0;
	size_t ngens = 0, i;
	int rc;

	(void)c;
	(void)req;
	rc = ctl_store_generation(st, &g);
	if (rc == 0)
		rc = ctl_store_stat(st, &ss);
	if (rc != 0) {
		ctl_reply_fail(r, rc, "store_error", "%s", strerror(-rc));
		return;
	}
	ctl_jw_u64(&r->w, "generation", g.generation);
	ctl_jw_u64(&r->w, "committed_us", g.committed_us);
	/* A clock set back reads as no age, not as centuries. */
	ctl_jw_u64(&r->w, "age_s", g.committed_us != 0 &&
		   ctl_now_us() > g.committed_us ?
		   (ctl_now_us() - g.committed_us) / 1000000 : 0);
	ctl_jw_u64(&r->w, "rules", rules_set_count(ctl_state_rules(srv->cs),
						    counts));
	ctl_cmd_kinds(&r->w, "by_kind", counts, false);
	ctl_jw_u64(&r->w, "targets", ss.entries[SCHEMA_DBI_TARGETS]);
	ctl_jw_u64(&r->w, "registrations", ss.entries[SCHEMA_DBI_REGISTRATIONS]);

	ctl_jw_obj(&r->w, "store");
	ctl_jw_u64(&r->w, "map_size", ss.map_size);
	ctl_jw_u64(&r->w, "used_bytes", ss.used_bytes);
	ctl_jw_u64(&r->w, "file_bytes", ss.file_bytes);
	ctl_jw_u64(&r->w, "readers", ss.readers);
	ctl_jw_obj(&r->w, "entries");
	for (i = 0; i < SCHEMA_DBI__COUNT; i++)
		ctl_jw_u64(&r->w, dbi_names[i], ss.entries[i]);
	ctl_jw_obj_end(&r->w);
	ctl_jw_obj_end(&r->w);

	ctl_store_artefact_gens(st, gens, SIPEDGE_ARRAY_SIZE(gens), &ngens);
	ctl_setting_u64(srv->cs, "artefacts.keep", &keep);
	if (g.generation != 0)
		ctl_store_artefact_size(st, g.generation,
					SCHEMA_ART_RULES_IMAGE, &img);
	ctl_jw_obj(&r->w, "artefacts");
	ctl_jw_u64(&r->w, "keep", keep);
	ctl_jw_u64(&r->w, "image_bytes", img);
	ctl_jw_arr(&r->w, "generations");
	for (i = 0; i < ngens; i++)
		ctl_jw_u64(&r->w, NULL, gens[i]);
	ctl_jw_arr_end(&r->w);
	ctl_jw_obj_end(&r->w);

	if (ctl_store_last_import(st, &sum) == 0) {
		static const char *const modes[] = {
			[SCHEMA_IMPORT_REPLACE] = "replace",
			[SCHEMA_IMPORT_MERGE] = "merge",
			[SCHEMA_IMPORT_SINGLE] = "single",
			[SCHEMA_IMPORT_RESOLVE] = "resolve",
		};

		ctl_jw_obj(&r->w, "last_import");
		ctl_jw_u64(&r->w, "generation", sum.generation);
		ctl_jw_str(&r->w, "mode", modes[sum.mode]);
		ctl_jw_u64(&r->w, "finished_us", sum.finished_us);
		ctl_jw_u64(&r->w, "duration_ms", sum.duration_us / 1000);
		ctl_jw_u64(&r->w, "rows", sum.rows);
		ctl_jw_u64(&r->w, "added", sum.added);
		ctl_jw_u64(&r->w, "removed", sum.removed);
		ctl_jw_u64(&r->w, "changed", sum.changed);
		ctl_jw_u64(&r->w, "unchanged", sum.unchanged);
		ctl_jw_obj_end(&r->w);
	} else {
		ctl_jw_null(&r->w, "last_import");
	}
	ctl_jw_bool(&r->w, "import_in_progress", srv->importer != NULL);
	ctl_jw_u64(&r->w, "subscribers", srv->nsubs);
	ctl_jw_u64(&r->w, "pid", (uint64_t)getpid());
	ctl_jw_u64(&r->w, "uptime_s", (ctl_mono_us() - srv->started_us) /
		   1000000);
}

/* config.* ------------------------------------------------------- */

static const char *
ctl_cmd_type_name(uint8_t t)
{
	switch (t) {
	case SCHEMA_SETTING_U64:
		return "u64";
	case SCHEMA_SETTING_BOOL:
		return "bool";
	default:
		return "string";
	}
}

static void
ctl_cmd_setting(struct ctl_server *srv, struct ctl_reply *r,
		const struct schema_setting_def *d)
{
	/* What an absent string setting means. */
	const char *def_str = d->def_str != NULL ? d->def_str : "";
	struct schema_setting s;
	char *str = malloc(CTL_SETTING_STR_MAX + 1);
	int rc;

	rc = str == NULL ? -ENOMEM :
	     ctl_store_setting_get(ctl_state_store(srv->cs), d->name, &s, str,
				   CTL_SETTING_STR_MAX + 1);
	ctl_jw_obj(&r->w, NULL);
	ctl_jw_str(&r->w, "name", d->name);
	ctl_jw_str(&r->w, "type", ctl_cmd_type_name(d->type));
	if (rc != 0 || s.type != d->type) {
		s.type = d->type;
		s.u = d->def;
		s.str = span_make(def_str, strlen(def_str));
		ctl_jw_str(&r->w, "source", "default");
	} else {
		ctl_jw_str(&r->w, "source", "stored");
	}
	if (d->type == SCHEMA_SETTING_U64)
		ctl_jw_u64(&r->w, "value", s.u);
	else if (d->type == SCHEMA_SETTING_BOOL)
		ctl_jw_bool(&r->w, "value", s.u != 0);
	else
		ctl_jw_strn(&r->w, "value", s.str.ptr, s.str.len);
	if (d->type == SCHEMA_SETTING_U64) {
		ctl_jw_u64(&r->w, "default", d->def);
		ctl_jw_u64(&r->w, "min", d->min);
		ctl_jw_u64(&r->w, "max", d->max);
	} else if (d->type == SCHEMA_SETTING_STR && !d->secret) {
		ctl_jw_str(&r->w, "default", def_str);
	}
	ctl_jw_str(&r->w, "help", d->help);
	ctl_jw_obj_end(&r->w);
	free(str);
}

static void
ctl_cmd_config_get(struct ctl_server *srv, struct ctl_conn *c,
		   const struct ctl_jval *req, struct ctl_reply *r)
{
	const char *key = ctl_json_str(req, "key", NULL);
	const struct schema_setting_def *d;

	(void)c;
	if (key != NULL) {
		d = schema_setting_find(span_make(key, strlen(key)));
		if (d == NULL) {
			ctl_reply_fail(r, -ENOENT, "not_found",
				       "unknown setting '%s'", key);
			return;
		}
		ctl_jw_arr(&r->w, "settings");
		ctl_cmd_setting(srv, r, d);
		ctl_jw_arr_end(&r->w);
		return;
	}
	ctl_jw_arr(&r->w, "settings");
	for (d = schema_setting_defs(); d->name != NULL; d++)
		ctl_cmd_setting(srv, r, d);
	ctl_jw_arr_end(&r->w);
}

static void
ctl_cmd_config_set(struct ctl_server *srv, struct ctl_conn *c,
		   const struct ctl_jval *req, struct ctl_reply *r)
{
	const char *key = ctl_json_str(req, "key", NULL);
	const char *val = ctl_json_str(req, "value", NULL);
	const struct schema_setting_def *d;
	struct schema_setting s = { 0 };
	unsigned long long u;
	char *end, err[160];
	int rc;

	(void)c;
	if (key == NULL || val == NULL) {
		ctl_reply_fail(r, -EINVAL, "bad_request",
			       "\"key\" and \"value\" (a string) are required");
		return;
	}
	d = schema_setting_find(span_make(key, strlen(key)));
	if (d == NULL) {
		ctl_reply_fail(r, -ENOENT, "not_found", "unknown setting '%s'",
			       key);
		return;
	}
	s.type = d->type;
	switch (d->type) {
	case SCHEMA_SETTING_U64:
		errno = 0;
		u = strtoull(val, &end, 10);
		/* Digits only: strtoull() would take " 3", "+3", "-1". */
		if (*val < '0' || *val > '9' || *end != '\0' || errno != 0 ||
		    u < d->min || u > d->max) {
			ctl_reply_fail(r, -ERANGE, "invalid",
				       "%s must be an integer in %llu..%llu",
				       d->name, (unsigned long long)d->min,
				       (unsigned long long)d->max);
			return;
		}
		s.u = u;
		break;
	case SCHEMA_SETTING_BOOL:
		if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0) {
			s.u = 1;
		} else if (strcmp(val, "false") != 0 && strcmp(val, "0") != 0) {
			ctl_reply_fail(r, -EINVAL, "invalid",
				       "%s must be true or false", d->name);
			return;
		}
		break;
	default:
		s.str = span_make(val, strlen(val));
		if (s.str.len > CTL_SETTING_STR_MAX) {
			ctl_reply_fail(r, -E2BIG, "invalid",
				       "%s: value longer than %u bytes",
				       d->name, CTL_SETTING_STR_MAX);
			return;
		}
		if (d->check != NULL && d->check(s.str, err, sizeof(err)) != 0) {
			ctl_reply_fail(r, -EINVAL, "invalid", "%s: %s", d->name,
				       err);
			return;
		}
		break;
	}
	rc = ctl_store_setting_put(ctl_state_store(srv->cs), d->name, &s);
	if (rc != 0) {
		ctl_reply_fail(r, rc, ctl_commit_code(rc),
			       "cannot store %s: %s", d->name, strerror(-rc));
		return;
	}
	ctl_log(CTL_LOG_INFO, "setting %s = %s", d->name,
		d->secret ? "(secret, not logged)" : val);
	ctl_state_setting_changed(srv->cs, d->name);
	ctl_jw_arr(&r->w, "settings");
	ctl_cmd_setting(srv, r, d);
	ctl_jw_arr_end(&r->w);
}

static void
ctl_cmd_subscribe(struct ctl_server *srv, struct ctl_conn *c,
		  const struct ctl_jval *req, struct ctl_reply *r)
{
	(void)req;
	if (!c->subscribed) {
		c->subscribed = true;
		srv->nsubs++;
	}
	ctl_jw_u64(&r->w, "generation", ctl_state_generation(srv->cs));
}

static void
ctl_cmd_ping(struct ctl_server *srv, struct ctl_conn *c,
	     const struct ctl_jval *req, struct ctl_reply *r)
{
	(void)c;
	(void)req;
	ctl_jw_u64(&r->w, "generation", ctl_state_generation(srv->cs));
}

static void
ctl_cmd_names(struct ctl_server *srv, struct ctl_conn *c,
	      const struct ctl_jval *req, struct ctl_reply *r)
{
	uint64_t v = 0;

	(void)c;
	(void)req;
	ctl_jw_u64(&r->w, "generation", ctl_state_generation(srv->cs));
	if (ctl_setting_u64(srv->cs, "targets.resolve_interval", &v) == 0)
		ctl_jw_u64(&r->w, "resolve_interval_s", v);
	ctl_jw_bool(&r->w, "lookups_running",
		    ctl_resolver_running(ctl_state_resolver(srv->cs)));
	ctl_resolver_report(ctl_state_resolver(srv->cs),
			    ctl_state_rules(srv->cs), &r->w);
}

/* Prometheus syntax: @p s (@p len bytes) a metric name, or (@p label) a
 * label name. */
static bool
ctl_prom_name_ok(const char *s, size_t len, bool label)
{
	size_t i;

	if (len == 0 || len > 200)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      ch == '_' || (!label && ch == ':') ||
		      (i != 0 && ch >= '0' && ch <= '9')))
			return false;
	}
	return true;
}

/* Labels a sample of stats.report may carry (the dataplane sends two). */
#define CTL_STATS_LABELS_MAX    16

/*
 * The first member of object @p o that is an array or an object and not
 * one of the NULL-terminated @p known, or NULL: a report's values nest no
 * deeper than PROTOCOL.md shows, so that a `stats` reply, one level
 * deeper, stays within what its readers parse.
 */
static const struct ctl_jval *
ctl_stats_nested(const struct ctl_jval *o, const char *const *known)
{
	const struct ctl_jval *v;
	const char *const *k;

	for (v = o->child; v != NULL; v = v->next) {
		if (v->type != CTL_JARR && v->type != CTL_JOBJ)
			continue;
		for (k = known; *k != NULL && strcmp(*k, v->key) != 0; k++)
			;
		if (*k == NULL)
			return v;
	}
	return NULL;
}

static int
ctl_stats_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The name two metrics of @p m (@p n of them, names checked) share, or
 * NULL: the text format has one HELP and TYPE line per metric name. -1
 * in @p err when out of memory.
 */
static const char *
ctl_stats_dup_name(const struct ctl_jval *m, unsigned int n, int *err)
{
	const struct ctl_jval *v;
	const char **names, *dup = NULL;
	unsigned int i;

	*err = 0;
	if (n < 2)
		return NULL;
	names = calloc(n, sizeof(*names));
	if (names == NULL) {
		*err = -1;
		return NULL;
	}
	for (i = 0, v = m->child; v != NULL; v = v->next, i++)
		names[i] = ctl_json_get(v, "name")->str;
	qsort(names, n, sizeof(*names), ctl_stats_name_cmp);
	for (i = 1; i < n && dup == NULL; i++) {
		if (strcmp(names[i - 1], names[i]) == 0)
			dup = names[i];
	}
	free(names);
	return dup;
}

/*
 * A report as PROTOCOL.md "stats.report" describes it, or -EINVAL with @p
 * r failed naming the metric and field at fault: what is stored is served
 * to every `stats` client, and printed in the Prometheus text format.
 */
static int
ctl_stats_report_check(const struct ctl_jval *req, struct ctl_reply *r)
{
	static const char *const metric_known[] = { "samples", NULL };
	static const char *const sample_known[] = { "labels", NULL };
	const struct ctl_jval *v, *m, *s, *l, *f, *g;
	const char *type, *dup;
	unsigned int i, k;
	int err;

	for (v = req->child; v != NULL; v = v->next) {
		if (strcmp(v->key, "metrics") != 0 &&
		    (v->type == CTL_JARR || v->type == CTL_JOBJ)) {
			ctl_reply_fail(r, -EINVAL, "bad_request",
				       "\"%s\" must be a string, number or "
				       "boolean", v->key);
			return -EINVAL;
		}
	}
	m = ctl_json_get(req, "metrics");
	for (i = 0, v = m->child; v != NULL; v = v->next, i++) {
		type = ctl_json_str(v, "type", "");
		f = ctl_json_get(v, "help");
		l = ctl_json_get(v, "name");
		if (v->type != CTL_JOBJ || l == NULL || l->type != CTL_JSTR ||
		    !ctl_prom_name_ok(l->str, l->len, false)) {
			ctl_reply_fail(r, -EINVAL, "bad_request",
				       "metric %u: \"name\" must be a "
				       "Prometheus metric name", i);
			return -EINVAL;
		}
		if ((strcmp(type, "counter") != 0 &&
		     strcmp(type, "gauge") != 0) ||
		    (f != NULL && f->type != CTL_JSTR)) {
			ctl_reply_fail(r, -EINVAL, "bad_request",
				       "metric %u: \"type\" must be counter "
				       "or gauge, \"help\" a string", i);
			return -EINVAL;
		}
		s = ctl_json_get(v, "samples");
		if (s == NULL || s->type != CTL_JARR) {
			ctl_reply_fail(r, -EINVAL, "bad_request",
				       "metric %u: \"samples\" (an array) "
				       "is required", i);
			return -EINVAL;
		}
		f = ctl_stats_nested(v, metric_known);
		if (f != NULL) {
			ctl_reply_fail(r, -EINVAL, "bad_request",
				       "metric %u: \"%s\" must be a string, "
				       "number or boolean", i, f->key);
			return -EINVAL;
		}
		for (s = s->child; s != NULL; s = s->next) {
			f = ctl_json_get(s, "value");
			l = ctl_json_get(s, "labels");
			if (s->type != CTL_JOBJ || f == NULL ||
			    f->type != CTL_JNUM ||
			    (l != NULL && l->type != CTL_JOBJ) ||
			    ctl_stats_nested(s, sample_known) != NULL) {
				ctl_reply_fail(r, -EINVAL, "bad_request",
					       "metric %u: a sample needs a "
					       "numeric \"value\" and at most "
					       "a \"labels\" object", i);
				return -EINVAL;
			}
			for (k = 0, l = l != NULL ? l->child : NULL; l != NULL;
			     l = l->next, k++) {
				for (g = l->next; g != NULL &&
				     strcmp(g->key, l->key) != 0; g = g->next)
					;
				if (!ctl_prom_name_ok(l->key, strlen(l->key),
						      true) ||
				    l->type != CTL_JSTR ||
				    strlen(l->str) != l->len || g != NULL ||
				    k >= CTL_STATS_LABELS_MAX) {
					ctl_reply_fail(r, -EINVAL,
						       "bad_request",
						       "metric %u: label %u: a "
						       "label name given once "
						       "(%u labels at most) and "
						       "a string value", i, k,
						       CTL_STATS_LABELS_MAX);
					return -EINVAL;
				}
			}
		}
	}
	dup = ctl_stats_dup_name(m, i, &err);
	if (err != 0) {
		ctl_reply_fail(r, -ENOMEM, "internal", "out of memory");
		return -ENOMEM;
	}
	if (dup != NULL) {
		ctl_reply_fail(r, -EINVAL, "bad_request",
			       "metric name \"%s\" given twice", dup);
		return -EINVAL;
	}
	return 0;
}

/*
 * A dataplane's counters (PROTOCOL.md "stats.report"): kept as the latest
 * report, whole, for "stats" to serve. Sent every second by each
 * dataplane's loader thread; with several dataplanes the latest wins.
 */
static void
ctl_cmd_stats_report(struct ctl_server *srv, struct ctl_conn *c,
		     const struct ctl_jval *req, struct ctl_reply *r)
{
	const struct ctl_jval *m = ctl_json_get(req, "metrics");
	const struct ctl_jval *v;
	struct ctl_buf nb;
	struct ctl_jw w;

	(void)c;
	if (m == NULL || m->type != CTL_JARR) {
		ctl_reply_fail(r, -EINVAL, "bad_request",
			       "\"metrics\" (an array) is required");
		return;
	}
	if (ctl_stats_report_check(req, r) != 0)
		return;
	/* Written aside: a report refused leaves the previous one served. */
	ctl_buf_init(&nb);
	ctl_jw_init(&w, &nb);
	ctl_jw_obj(&w, NULL);
	for (v = req->child; v != NULL; v = v->next) {
		if (strcmp(v->key, "cmd") != 0)
			ctl_jw_value(&w, v->key, v);
	}
	ctl_jw_obj_end(&w);
	if (nb.err != 0) {
		ctl_buf_fini(&nb);
		ctl_reply_fail(r, -ENOMEM, "internal", "out of memory");
		return;
	}
	/* Served inside a reply, which must stay a frame (4 MiB). */
	if (nb.len > CTL_STATS_MAX) {
		ctl_buf_fini(&nb);
		ctl_reply_fail(r, -EMSGSIZE, "bad_request",
			       "report longer than %u bytes as stored",
			       CTL_STATS_MAX);
		return;
	}
	ctl_buf_fini(&srv->stats);
	srv->stats = nb;
	srv->stats_us = ctl_now_us();
	ctl_jw_bool(&r->w, "stored", true);
}

static void
ctl_cmd_stats(struct ctl_server *srv, struct ctl_conn *c,
	      const struct ctl_jval *req, struct ctl_reply *r)
{
	uint64_t now = ctl_now_us();

	(void)c;
	(void)req;
	if (srv->stats_us == 0) {
		ctl_reply_fail(r, -ENOENT, "not_found",
			       "no dataplane has reported its counters yet");
		return;
	}
	ctl_jw_u64(&r->w, "received_us", srv->stats_us);
	ctl_jw_u64(&r->w, "age_ms",
		   now > srv->stats_us ? (now - srv->stats_us) / 1000 : 0);
	ctl_jw_raw(&r->w, "report", srv->stats.p, srv->stats.len);
}

static const struct ctl_cmd ctl_cmds[] = {
	{ "routes.import", CTL_CMD_MUTATES | CTL_CMD_UPLOAD,
	  ctl_cmd_upload_only, "stream a CSV rule table" },
	{ "routes.export", 0, ctl_cmd_export, "the rule table as CSV" },
	{ "routes.explain", 0, ctl_cmd_explain, "why a URI routes as it does" },
	{ "route.add", CTL_CMD_MUTATES, ctl_cmd_route_add, "add one rule" },
	{ "route.del", CTL_CMD_MUTATES, ctl_cmd_route_del, "delete one rule" },
	{ "route.show", 0, ctl_cmd_route_show, "show one rule" },
	{ "status", 0, ctl_cmd_status, "generation, counts, sizes" },
	{ "targets.names", 0, ctl_cmd_names,
	  "target host names, their addresses and lookups" },
	{ "config.get", 0, ctl_cmd_config_get, "read settings" },
	{ "config.set", CTL_CMD_MUTATES, ctl_cmd_config_set, "change a setting" },
	{ "subscribe", 0, ctl_cmd_subscribe, "receive generation events" },
	{ "ping", 0, ctl_cmd_ping, "liveness" },
	{ "stats.report", 0, ctl_cmd_stats_report,
	  "a dataplane's counters (sent by the dataplane)" },
	{ "stats", 0, ctl_cmd_stats, "the latest dataplane counters" },
};

const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	}
	return NULL;
}
