/* SPDX-License-Identifier: MIT */
/*
 * test_dp_snap.c - the snapshot loader against a real sipedge-control:
 * the test starts the control process on a temporary data directory,
 * imports rule tables with sipedgectl, and watches the loader thread swap
 * generations while the worker (driven here, a QSBR reader) answers
 * INVITEs from each. Also: the secret the control process creates keys
 * the To-tags, source policy settings (acl.*) taking effect without a new
 * generation, the control process restarting, and the stats the loader
 * pushes ("sipedgectl stats", --json, --prometheus), and a generation
 * whose artefact fails its CRC32C (refused, counted, the previous one
 * kept).
 *
 * Arguments: the sipedge-control and sipedgectl binaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <lmdb.h>
#include <urcu/urcu-qsbr.h>

#include <schema.h>

#include "../control/ctl_test_util.h"
#include "dp_test.h"

static const char *t_ctl_bin, *t_cli_bin;
static char *t_dir;
static char t_sock[512], t_data[512], t_csv_path[512];
static struct dp_loader t_ld;

static const char t_invite[] =
	"INVITE sip:12125550100@192.0.2.1 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.2:5062;branch=z9hG4bKsnap\r\n"
	"Max-Forwards: 70\r\nFrom: <sip:a@192.0.2.2>;tag=1\r\n"
	"To: <sip:12125550100@192.0.2.1>\r\nCall-ID: snap@x\r\n"
	"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

static void
t_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Sleep @p ms with the test thread quiescent, so the loader can swap. */
static void
t_idle_ms(long ms)
{
	urcu_qsbr_thread_offline();
	t_sleep_ms(ms);
	urcu_qsbr_thread_online();
}

/*
 * Wait up to @p tries times 10 ms for the loader's counter @p v to equal
 * @p want (@p exact) or reach it; false when it never did.
 */
static bool
t_wait_loader(const uint64_t *v, uint64_t want, bool exact, int tries)
{
	uint64_t now;
	int i;

	for (i = 0; i < tries; i++) {
		now = __atomic_load_n(v, __ATOMIC_RELAXED);
		if (exact ? now == want : now >= want)
			return true;
		t_idle_ms(10);
	}
	return false;
}

/* Wait for the loader to publish @p gen. */
static void
t_wait_gen(uint64_t gen)
{
	if (!t_wait_loader(&t_ld.generation, gen, true, 1000))
		fail_msg("generation %llu never loaded (have %llu)",
			 (unsigned long long)gen,
			 (unsigned long long)t_ld.generation);
}

static void
t_import(const char *csv)
{
	const char *const argv[] = { "routes", "import", t_csv_path, NULL };

	assert_int_equal(ctl_test_write_file(t_csv_path, csv, strlen(csv)), 0);
	assert_int_equal(ctl_test_run_ctl(t_cli_bin, t_sock, "/dev/null",
					  argv), 0);
}

/* sipedgectl config set @p key @p value. */
static void
t_config(const char *key, const char *value)
{
	const char *const argv[] = { "config", "set", key, value, NULL };

	assert_int_equal(ctl_test_run_ctl(t_cli_bin, t_sock, "/dev/null",
					  argv), 0);
}

/* Wait for the loader's @p n-th swap. */
static void
t_wait_swaps(uint64_t n)
{
	if (!t_wait_loader(&t_ld.swaps, n, false, 500))
		fail_msg("swap %llu never happened (have %llu)",
			 (unsigned long long)n, (unsigned long long)t_ld.swaps);
}

/* One INVITE through the worker; the answer's payload into t_buf. */
static char t_buf[4096];

static void
t_invite_answer(void)
{
	t_sip_rx4(t_invite, sizeof(t_invite) - 1);
	t_poll();
	urcu_qsbr_quiescent_state();
	t_sip_tx(t_buf, sizeof(t_buf), 0);
}

/* Send the INVITE until it is answered @p status (up to 3 s): a load
 * the loader makes on its own, at its next check. */
static void
t_wait_answer(const char *status)
{
	int i;

	for (i = 0; i < 300; i++) {
		t_invite_answer();
		if (strstr(t_buf, status) != NULL)
			return;
		t_idle_ms(10);
	}
	fail_msg("never answered %s; last: %.40s", status, t_buf);
}

/* A write transaction on the store in @p dir, behind the control
 * process's back; t_store_commit() ends it. */
static MDB_txn *
t_store_write(const char *dir, MDB_env **env)
{
	MDB_txn *txn;

	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 8), 0);
	assert_int_equal(mdb_env_open(*env, dir, MDB_NOTLS, 0644), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, 0, &txn), 0);
	return txn;
}

static void
t_store_commit(MDB_env *env, MDB_txn *txn)
{
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/*
 * Commit generation N+1 behind the control process's back with a copy of
 * generation N's rules image whose last byte is flipped: its CRC32C no
 * longer matches the artefact header. With @p csum_ok, the image's first
 * bytes (its magic) are changed instead and the artefact's CRC32C is
 * computed again: the artefact is sound, its rules cannot be loaded (as
 * an image of another format, or a Hyperscan database this CPU cannot
 * run).
 */
static void
t_commit_bad_generation(bool csum_ok)
{
	struct schema_meta_gen mg;
	uint8_t key[SCHEMA_ART_KEY_LEN], gbuf[SCHEMA_META_GEN_LEN], *copy;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, art;
	MDB_val k, v;
	size_t len;

	txn = t_store_write(t_data, &env);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "artefacts", 0, &art), 0);
	k.mv_data = (void *)SCHEMA_META_KEY_GENERATION;
	k.mv_size = strlen(SCHEMA_META_KEY_GENERATION);
	assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
	assert_int_equal(schema_meta_gen_decode(&mg, v.mv_data, v.mv_size), 0);
	schema_art_key_encode(key, mg.generation, SCHEMA_ART_RULES_IMAGE);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	assert_int_equal(mdb_get(txn, art, &k, &v), 0);
	copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	if (csum_ok) {
		struct schema_art_hdr h;

		assert_int_equal(schema_art_hdr_decode(&h, copy, v.mv_size),
				 0);
		memcpy(copy + SCHEMA_ART_HDR_LEN, "XXXXXXXX", 8);
		h.csum = schema_crc32c(0, copy + SCHEMA_ART_HDR_LEN, h.size);
		assert_int_equal(schema_art_hdr_encode(&h, copy), 0);
	} else {
		copy[v.mv_size - 1] ^= 0x5a;
	}
	mg.generation++;
	schema_art_key_encode(key, mg.generation, SCHEMA_ART_RULES_IMAGE);
	v.mv_data = copy;
	assert_int_equal(mdb_put(txn, art, &k, &v, 0), 0);
	assert_int_equal(schema_meta_gen_encode(&mg, gbuf, sizeof(gbuf), &len),
			 0);
	k.mv_data = (void *)SCHEMA_META_KEY_GENERATION;
	k.mv_size = strlen(SCHEMA_META_KEY_GENERATION);
	v.mv_data = gbuf;
	v.mv_size = len;
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	t_store_commit(env, txn);
	free(copy);
}

/* Store setting @p st as @p name behind the control process. */
static void
t_put_setting(const char *dir, const char *name,
	      const struct schema_setting *st)
{
	uint8_t buf[256];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi set;
	MDB_val k, val;
	size_t len;

	assert_int_equal(schema_setting_encode(st, buf, sizeof(buf), &len), 0);
	txn = t_store_write(dir, &env);
	assert_int_equal(mdb_dbi_open(txn, "settings", 0, &set), 0);
	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	val.mv_data = buf;
	val.mv_size = len;
	assert_int_equal(mdb_put(txn, set, &k, &val, 0), 0);
	t_store_commit(env, txn);
}

static void
t_put_setting_u64(const char *dir, const char *name, uint64_t v)
{
	struct schema_setting st = { .type = SCHEMA_SETTING_U64, .u = v };

	t_put_setting(dir, name, &st);
}

static void
t_put_setting_str(const char *dir, const char *name, const char *v)
{
	struct schema_setting st = {
		.type = SCHEMA_SETTING_STR,
		.str = span_make(v, (uint32_t)strlen(v)),
	};

	t_put_setting(dir, name, &st);
}

/*
 * sipedge-control on @p data (@p extra: one more option, or NULL), and
 * the loader following it; returns the control process.
 */
static pid_t
t_start(const char *data, const char *extra)
{
	pid_t ctl = ctl_test_start_control(t_ctl_bin, data, t_sock, extra);

	assert_true(ctl > 0);
	t_env.conf.control_path = t_sock;
	t_env.conf.data_dir = data;
	assert_int_equal(dp_loader_start(&t_ld, &t_env.conf, t_env.lc,
					 t_env.nq, &t_env.svc, true), 0);
	return ctl;
}

static void
test_dp_snap_loader_follows_generations(void **state)
{
	pid_t ctl;

	(void)state;
	t_begin();
	ctl = t_start(t_data, NULL);
	/* Nothing committed: the no-route answer, keyed by the secret the
	 * control process created. */
	assert_int_equal(t_ld.generation, 0);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 404 Not Found\r\n"));
	{
		static const uint8_t zero[16];

		assert_memory_not_equal(t_ld.secret, zero, 16);
	}

	t_import("id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		 "nyc,prefix,1212,forward,198.19.0.3:5060,,,,\n");
	t_wait_gen(1);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 302 Moved Temporarily\r\n"));
	assert_non_null(strstr(t_buf,
		"Contact: <sip:12125550100@198.19.0.3:5060>;q=1.0\r\n"));

	t_import("id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		 "nyc,prefix,1212,forward,198.19.0.8:5070,,1,9,\n");
	t_wait_gen(2);
	t_invite_answer();
	assert_non_null(strstr(t_buf,
		"Contact: <sip:92125550100@198.19.0.8:5070>;q=1.0\r\n"));
	assert_int_equal(t_ld.swaps, 3);        /* 0 at start, 1, 2 */
	/* Generation 1 is kept as N-1, published for proxy mode. */
	assert_non_null(dp_snap_prev);
	assert_ptr_equal(dp_snap_prev, t_ld.prev);
	assert_int_equal(dp_snap_prev->generation, 1);

	/* The source policy settings: a new snapshot of the same
	 * generation within the loader's poll (about a second). */
	t_config("acl.action", "403");
	t_config("acl.deny", "198.18.0.0/15, 192.0.2.2/32");
	t_wait_swaps(4);
	assert_int_equal(t_ld.generation, 2);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 403 Forbidden\r\n"));
	t_config("acl.deny", "");
	t_wait_swaps(5);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 302 Moved Temporarily\r\n"));
	/* An allow list holding the peer: still answered, and the stats
	 * below report the policy in force. */
	t_config("acl.allow", "192.0.2.0/24 2001:db8::/32");
	t_wait_swaps(6);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 302 Moved Temporarily\r\n"));

	/* The rule's only target taken out of service (targets.down; the
	 * other entry is no target of these rules): 503 with Retry-After.
	 * Back in service: the 302 again. */
	t_config("targets.down", "[2001:db8::9]:5060 198.19.0.8:5070");
	t_wait_swaps(7);
	assert_int_equal(dp_snap_current->ndown, 1);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 503 Service Unavailable\r\n"));
	assert_non_null(strstr(t_buf, "\r\nRetry-After: "));
	assert_null(strstr(t_buf, "Contact:"));
	t_config("targets.down", "");
	t_wait_swaps(8);
	assert_int_equal(dp_snap_current->ndown, 0);
	assert_null(dp_snap_current->up);
	t_invite_answer();
	assert_non_null(strstr(t_buf,
		"Contact: <sip:92125550100@198.19.0.8:5070>;q=1.0\r\n"));

	/* The control process restarts: the loader reconnects (backoff)
	 * and follows the next generation. */
	assert_int_equal(ctl_test_stop_control(ctl), 0);
	ctl = ctl_test_start_control(t_ctl_bin, t_data, t_sock, NULL);
	assert_true(ctl > 0);
	t_import("id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		 "nyc,prefix,1212,reject,,,,,603\n"
		 "la,prefix,1213,forward,198.19.0.8:5070,,,,\n"
		 "z\xc3\xbcrich-\xe5\x8c\x97,prefix,1214,reject,,,,,486\n");
	t_wait_gen(3);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 603 Decline\r\n"));
	assert_true(t_ld.cnt_connects >= 2);
	{
		/* a hit on a rule whose id is not ASCII */
		char inv[sizeof(t_invite)];

		memcpy(inv, t_invite, sizeof(inv));
		memcpy(strstr(inv, "1212"), "1214", 4);
		t_sip_rx4(inv, sizeof(inv) - 1);
		t_poll();
		urcu_qsbr_quiescent_state();
		t_sip_tx(t_buf, sizeof(t_buf), 0);
		assert_non_null(strstr(t_buf, "SIP/2.0 486 Busy Here\r\n"));
	}

	/* The stats the loader pushes, through sipedgectl. */
	{
		const char *const plain[] = { "stats", NULL };
		const char *const json[] = { "stats", "--json", NULL };
		const char *const prom[] = { "stats", "--prometheus", NULL };
		char out[600];
		char *txt;
		size_t len;
		int i;

		snprintf(out, sizeof(out), "%s/stats.out", t_dir);
		for (i = 0; i < 30; i++) {
			if (ctl_test_run_ctl(t_cli_bin, t_sock, "/dev/null",
					     plain) == 0)
				break;
			t_idle_ms(100);
		}
		/* A report after the last answer: wait one period. */
		t_idle_ms(1300);
		assert_int_equal(ctl_test_run_ctl(t_cli_bin, t_sock, out,
						  plain), 0);
		txt = ctl_test_read_file(out, &len);
		assert_non_null(strstr(txt, "generation 3"));
		assert_non_null(strstr(txt, "sip_requests_total{method=\"INVITE\"} 10"));
		/*
		 * Rule hits and target picks run on across generations by
		 * rule id and target ("nyc" is rule 1 of generation 3, after
		 * "la"): 7 of the 9 INVITEs matched it (not the one before
		 * generation 1, not the refused one); 4 were redirected to
		 * 198.19.0.8:5070, still a target in generation 3 (not the
		 * one answered 503 while it was down).
		 */
		assert_non_null(strstr(txt, "rule_hits_total{rule=\"nyc\"} 7"));
		/* as the rule's id, UTF-8 as it was imported */
		assert_non_null(strstr(txt, "rule_hits_total{rule=\"z\xc3\xbc"
				       "rich-\xe5\x8c\x97\"} 1"));
		assert_non_null(strstr(txt,
			"target_picks_total{target=\"198.19.0.8:5070\"} 4"));
		assert_null(strstr(txt, "198.19.0.3:5060"));
		assert_non_null(strstr(txt,
			"source_policy_allowed_prefixes 2\n"));

		free(txt);
		assert_int_equal(ctl_test_run_ctl(t_cli_bin, t_sock, out,
						  json), 0);
		txt = ctl_test_read_file(out, &len);
		assert_non_null(strstr(txt, "\"ok\":true"));
		assert_non_null(strstr(txt, "\"name\":\"snapshot_generation\""));
		assert_non_null(strstr(txt,
			"\"name\":\"source_policy_denied_prefixes\""));
		assert_non_null(strstr(txt,
			"\"name\":\"rate_limiter_evictions_total\""));
		free(txt);
		assert_int_equal(ctl_test_run_ctl(t_cli_bin, t_sock, out,
						  prom), 0);
		txt = ctl_test_read_file(out, &len);
		assert_non_null(strstr(txt,
			"# TYPE sipedge_sip_local_responses_total counter\n"));
		assert_non_null(strstr(txt,
			"sipedge_sip_local_responses_total{code=\"302\"} 5\n"));
		assert_non_null(strstr(txt,
			"sipedge_sip_local_responses_total{code=\"503\"} 1\n"));
		assert_non_null(strstr(txt, "sipedge_targets_down 0\n"));
		assert_non_null(strstr(txt, "sipedge_snapshot_generation 3\n"));
		/* Generation 2 is kept for its 32 s. */
		assert_non_null(strstr(txt,
			"sipedge_snapshot_previous_generation 2\n"));
		assert_non_null(strstr(txt, "# HELP sipedge_dp_rx_total "));
		/* how old the report is; what the port itself counted */
		assert_non_null(strstr(txt,
			"# TYPE sipedge_stats_report_age_seconds gauge\n"
			"sipedge_stats_report_age_seconds "));
		assert_non_null(strstr(txt, "\nsipedge_port_rx_packets_total "));
		assert_non_null(strstr(txt, "\nsipedge_port_rx_missed_total 0\n"));
		assert_non_null(strstr(txt,
			"\nsipedge_control_connections_total "));
		free(txt);
	}

	/* A generation whose image fails its CRC32C is refused, counted,
	 * and the workers keep answering from generation 3. */
	assert_int_equal(ctl_test_stop_control(ctl), 0);
	t_commit_bad_generation(false);
	assert_true(t_wait_loader(&t_ld.cnt_bad, 1, false, 300));
	assert_int_equal(t_ld.generation, 3);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 603 Decline\r\n"));

	/* While the rules cannot be read, the policy still can: refusing
	 * the peer takes effect on the rules in use, generation 3. */
	t_put_setting_str(t_data, "acl.action", "403");
	t_put_setting_str(t_data, "acl.deny", "192.0.2.2");
	t_wait_answer("SIP/2.0 403 Forbidden\r\n");
	assert_int_equal(t_ld.generation, 3);
	/* Remembered: its image is not read (nor counted) again each poll. */
	assert_int_equal(t_ld.bad_gen, 4);
	t_idle_ms(2500);
	assert_int_equal(__atomic_load_n(&t_ld.cnt_bad, __ATOMIC_RELAXED), 1);

	/* A sound artefact whose rules do not load (generation 5): the
	 * rules in use stay, its image is not read again each poll, and
	 * the settings still apply. */
	t_commit_bad_generation(true);
	assert_true(t_wait_loader(&t_ld.bad_gen, 5, true, 300));
	assert_int_equal(t_ld.generation, 3);
	t_put_setting_str(t_data, "acl.deny", "192.0.2.99");
	t_wait_answer("SIP/2.0 603 Decline\r\n");
	assert_int_equal(t_ld.generation, 3);
	assert_int_equal(t_ld.bad_gen, 5);

	/* A router started on it starts, with no rules (the no-route
	 * answer), under the settings. */
	urcu_qsbr_thread_offline();
	dp_loader_stop(&t_ld);
	urcu_qsbr_thread_online();
	assert_int_equal(dp_loader_start(&t_ld, &t_env.conf, t_env.lc,
					 t_env.nq, &t_env.svc, true), 0);
	assert_int_equal(t_ld.bad_gen, 5);
	assert_int_equal(t_ld.generation, 0);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 404 Not Found\r\n"));
	t_put_setting_str(t_data, "acl.deny", "192.0.2.2");
	t_wait_answer("SIP/2.0 403 Forbidden\r\n");


	urcu_qsbr_thread_offline();
	dp_loader_stop(&t_ld);
	urcu_qsbr_thread_online();
	t_end();
}

/*
 * A policy setting stored with the wrong type (another writer's) is not
 * taken as absent: the policy does not build, the error is kept, and the
 * snapshot in force stays.
 */
static void
test_dp_snap_loader_wrong_policy_type_held(void **state)
{
	char data[600];
	pid_t ctl;
	int i;

	(void)state;
	t_begin();
	snprintf(data, sizeof(data), "%s/data-typed", t_dir);
	ctl = t_start(data, NULL);
	t_import("id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		 "nyc,prefix,1212,reject,,,,,603\n");
	t_wait_gen(1);
	assert_int_equal(ctl_test_stop_control(ctl), 0);
	t_put_setting_u64(data, "acl.deny", 7);
	for (i = 0; i < 300 && strstr(t_ld.acl_err, "acl.deny") == NULL; i++)
		t_idle_ms(10);
	assert_non_null(strstr(t_ld.acl_err,
			       "acl.deny: the stored value has the wrong type"));
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 603 Decline\r\n"));

	/* The store replaced under the loader (a backup restored, both
	 * files): it is reopened and loaded in full, although its
	 * generation has the same number as the one in use. */
	{
		char other[600], from[700], to[700];

		snprintf(other, sizeof(other), "%s/data-other", t_dir);
		ctl = ctl_test_start_control(t_ctl_bin, other, t_sock, NULL);
		assert_true(ctl > 0);
		t_import("id,kind,pattern,action,targets,rank,strip,prepend,code\n"
			 "nyc,prefix,1212,reject,,,,,486\n");
		assert_int_equal(ctl_test_stop_control(ctl), 0);
		snprintf(from, sizeof(from), "%s/lock.mdb", other);
		snprintf(to, sizeof(to), "%s/lock.mdb", data);
		assert_int_equal(rename(from, to), 0);
		snprintf(from, sizeof(from), "%s/data.mdb", other);
		snprintf(to, sizeof(to), "%s/data.mdb", data);
		assert_int_equal(rename(from, to), 0);
		t_wait_answer("SIP/2.0 486 Busy Here\r\n");
		assert_int_equal(t_ld.generation, 1);
		assert_string_equal(t_ld.acl_err, "");
	}
	urcu_qsbr_thread_offline();
	dp_loader_stop(&t_ld);
	urcu_qsbr_thread_online();
	t_end();
}

/*
 * The control process started with a 1 MiB map grows it for a table that
 * needs more (--map-size-max); the loader, whose read transaction then
 * reports MDB_MAP_RESIZED, adopts the new size and loads the generation.
 */
static void
test_dp_snap_loader_follows_map_growth(void **state)
{
	char data[600];
	size_t len;
	char *csv;
	pid_t ctl;

	(void)state;
	t_begin();
	snprintf(data, sizeof(data), "%s/data-grow", t_dir);
	ctl = t_start(data, "--map-size=1M");
	t_import("id,kind,pattern,action,targets,rank,strip,prepend,code\n"
		 "nyc,prefix,1212,forward,198.19.0.3:5060,,,,\n");
	t_wait_gen(1);
	/* 30,000 rules more: several MiB in the store. */
	csv = ctl_test_csv(30000, "bulk", &len);
	assert_non_null(csv);
	{
		static const char tail[] =
			"nyc,prefix,1212,forward,198.19.0.8:5070,,1,9,\n";
		char *all = malloc(len + sizeof(tail));

		assert_non_null(all);
		memcpy(all, csv, len);
		memcpy(all + len, tail, sizeof(tail));
		t_import(all);
		free(all);
	}
	free(csv);
	t_wait_gen(2);
	t_invite_answer();
	assert_non_null(strstr(t_buf,
		"Contact: <sip:92125550100@198.19.0.8:5070>;q=1.0\r\n"));
	{
		MDB_env *env;
		MDB_envinfo info;

		assert_int_equal(mdb_env_create(&env), 0);
		assert_int_equal(mdb_env_open(env, data, MDB_RDONLY, 0), 0);
		assert_int_equal(mdb_env_info(env, &info), 0);
		assert_true(info.me_mapsize > (1u << 20));
		mdb_env_close(env);
	}
	urcu_qsbr_thread_offline();
	dp_loader_stop(&t_ld);
	urcu_qsbr_thread_online();
	assert_int_equal(ctl_test_stop_control(ctl), 0);
	t_end();
}

/* Without a control process or data: the empty snapshot, no crash. */
static void
test_dp_snap_loader_without_control(void **state)
{
	(void)state;
	t_begin();
	t_env.conf.control_path = "/nonexistent/control.sock";
	t_env.conf.data_dir = "/nonexistent/data";
	assert_int_equal(dp_loader_start(&t_ld, &t_env.conf, t_env.lc,
					 t_env.nq, &t_env.svc, true), 0);
	t_invite_answer();
	assert_non_null(strstr(t_buf, "SIP/2.0 404 Not Found\r\n"));
	urcu_qsbr_thread_offline();
	t_sleep_ms(300);
	dp_loader_stop(&t_ld);
	urcu_qsbr_thread_online();
	t_end();
}

/*
 * A store that exists but cannot be read (here: a data file that is no
 * LMDB environment) at start-up: the router cannot know the source policy
 * it may have been given, so it refuses every request, counted, until
 * the store can be read; with no store at all it answers no-route.
 */
static void
test_dp_snap_loader_unreadable_store_refuses(void **state)
{
	char dir[600], path[700];
	FILE *f;

	(void)state;
	t_begin();
	snprintf(dir, sizeof(dir), "%s/garbage", t_dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not an LMDB environment\n", f);
	fclose(f);
	t_env.conf.control_path = "/nonexistent/control.sock";
	t_env.conf.data_dir = dir;
	assert_int_equal(dp_loader_start(&t_ld, &t_env.conf, t_env.lc,
					 t_env.nq, &t_env.svc, true), 0);
	t_sip_rx4(t_invite, sizeof(t_invite) - 1);
	t_poll();
	urcu_qsbr_quiescent_state();
	t_expect_nothing();
	assert_int_equal(t_cnt(DP_CNT_SIP_ACL_REFUSED), 1);
	urcu_qsbr_thread_offline();
	t_sleep_ms(300);
	dp_loader_stop(&t_ld);
	urcu_qsbr_thread_online();
	t_end();                /* the directory goes with t_dir */
}

static int
setup_env(void **state)
{
	(void)state;
	if (t_env_setup("dp_test_snap", "0") != 0)
		return -1;
	urcu_qsbr_register_thread();
	t_dir = ctl_test_tmpdir();
	if (t_dir == NULL)
		return -1;
	snprintf(t_sock, sizeof(t_sock), "%s/ctl.sock", t_dir);
	snprintf(t_data, sizeof(t_data), "%s/data", t_dir);
	snprintf(t_csv_path, sizeof(t_csv_path), "%s/rules.csv", t_dir);
	return 0;
}

static int
teardown_env(void **state)
{
	(void)state;
	urcu_qsbr_unregister_thread();
	ctl_test_rmdir(t_dir);
	t_env_teardown();
	return 0;
}

/*
 * The control process's messages as it sends them (control/ctl_server.c,
 * PROTOCOL.md): the generation event names "generation" as a value
 * before the member; the member is what counts.
 */
static void
test_dp_snap_ctl_generation_member(void **state)
{
	static const char ev[] = "{\"event\":\"generation\",\"generation\":13,"
				 "\"state\":\"ready\",\"rules\":4}";
	static const char rep[] = "{\"ok\":true,\"cmd\":\"subscribe\","
				  "\"result\":{\"generation\": 12}}";
	static const char none[] = "{\"event\":\"generation\"}";
	static const char str[] = "{\"generation\":\"x\"}";
	uint64_t g = 0;

	(void)state;
	assert_int_equal(dp_ctl_json_u64(ev, sizeof(ev) - 1, "generation", &g),
			 0);
	assert_int_equal(g, 13);
	assert_int_equal(dp_ctl_json_u64(rep, sizeof(rep) - 1, "generation",
					 &g), 0);
	assert_int_equal(g, 12);
	assert_int_equal(dp_ctl_json_u64(none, sizeof(none) - 1, "generation",
					 &g), -ENOENT);
	assert_int_equal(dp_ctl_json_u64(str, sizeof(str) - 1, "generation",
					 &g), -ENOENT);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dp_snap_ctl_generation_member),
		cmocka_unit_test(test_dp_snap_loader_follows_generations),
		cmocka_unit_test(test_dp_snap_loader_wrong_policy_type_held),
		cmocka_unit_test(test_dp_snap_loader_follows_map_growth),
		cmocka_unit_test(test_dp_snap_loader_without_control),
		cmocka_unit_test(test_dp_snap_loader_unreadable_store_refuses),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s SIPEDGE-CONTROL SIPEDGECTL\n",
			argv[0]);
		return 2;
	}
	t_ctl_bin = argv[1];
	t_cli_bin = argv[2];
	return cmocka_run_group_tests_name("dp_snap", tests, setup_env,
					   teardown_env);
}
