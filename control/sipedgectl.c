/* SPDX-License-Identifier: MIT */
/*
 * sipedgectl.c - the operator's client for the control socket.
 *
 * Builds one request, streams data when the verb needs it (the server never
 * opens the operator's files), prints the reply for humans or, with
 * --json, as the reply object itself. Exit codes are CTL_EXIT_* (ctl.h,
 * documented in control/README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <utf8.h>

#include "ctl.h"

#define CTL_SOCKET_DEFAULT      "/run/sipedge/control.sock"
#define CTL_CHUNK               (1u << 20)
/* --timeout default: longer than any import or export takes (a million
 * rules compile in seconds), short of forever. */
#define CTL_TIMEOUT_DEFAULT     600

struct ctl_cli {
	const char      *socket;
	bool             json;
	int              fd;
	FILE            *data_out;      /* export destination */
	bool             quiet_busy;    /* --wait: retry instead of printing */
	unsigned int     timeout_s;     /* --timeout: per read/write, 0: none */
};

struct ctl_verb {
	const char      *name;          /* "routes import" */
	const char      *usage;
	const char      *help;
	int            (*fn)(struct ctl_cli *cli, int argc, char **argv);
};

static const struct ctl_verb ctl_verbs[];

static void
ctl_cli_usage(FILE *f)
{
	const struct ctl_verb *v;

	fprintf(f,
		"usage: sipedgectl [--socket PATH] [--json] [--timeout SECONDS] VERB [ARGS]\n"
		"\n"
		"Talks to sipedge-control over its Unix socket.\n"
		"  --socket PATH  control socket (default $SIPEDGE_SOCKET or %s)\n"
		"  --json         print the server's JSON reply instead of text\n"
		"  --timeout SECONDS  give up on a server that neither reads nor\n"
		"                 answers for this long (default %d; 0: never)\n"
		"  --help         this text; VERB --help for one verb\n"
		"\nverbs:\n", CTL_SOCKET_DEFAULT, CTL_TIMEOUT_DEFAULT);
	for (v = ctl_verbs; v->name != NULL; v++)
		fprintf(f, "  %-52s %s\n", v->usage, v->help);
	fprintf(f,
		"\nexit codes: 0 ok; 1 the command failed; 2 usage; 3 cannot connect;\n"
		"4 busy (another import is running); 5 input rejected, nothing\n"
		"committed; 6 protocol or I/O error.\n");
}

/* What to say of I/O error @p rc (-errno) on the control connection. */
static void
ctl_cli_io_error(const struct ctl_cli *cli, int rc)
{
	if (rc == -EAGAIN || rc == -EWOULDBLOCK)
		fprintf(stderr, "sipedgectl: %s did not answer within %u s "
			"(--timeout); what it was asked may still be done\n",
			cli->socket, cli->timeout_s);
	else
		fprintf(stderr, "sipedgectl: %s\n",
			rc == -EPIPE ? "the server closed the connection" :
			strerror(-rc));
}

/*
 * Connects; the connect, each read and each write wait at most
 * cli->timeout_s for the server (a control process stopped or wedged
 * would otherwise hold the command, and any script around it, for good).
 */
static int
ctl_cli_connect(struct ctl_cli *cli)
{
	cli->fd = ctl_io_connect_timeout(cli->socket, cli->timeout_s);
	if (cli->fd < 0) {
		if (cli->fd == -EAGAIN || cli->fd == -EWOULDBLOCK)
			ctl_cli_io_error(cli, cli->fd);
		else
			fprintf(stderr, "sipedgectl: cannot connect to %s: "
				"%s\n", cli->socket, strerror(-cli->fd));
		cli->fd = -1;
		return CTL_EXIT_CONNECT;
	}
	return 0;
}


static int
ctl_cli_exit_code(const char *code)
{
	if (code == NULL)
		return CTL_EXIT_OK;
	if (strcmp(code, "busy") == 0)
		return CTL_EXIT_BUSY;
	if (strcmp(code, "invalid") == 0 || strcmp(code, "exists") == 0 ||
	    strcmp(code, "bad_request") == 0)
		return CTL_EXIT_INVALID;
	if (strcmp(code, "protocol") == 0)
		return CTL_EXIT_PROTO;
	return CTL_EXIT_FAIL;
}

static void
ctl_cli_print_errors(const struct ctl_jval *res)
{
	const struct ctl_jval *errs = ctl_json_get(res, "errors"), *e;
	int64_t total = ctl_json_int(res, "error_count", 0), n = 0;

	if (errs == NULL)
		return;
	for (e = errs->child; e != NULL; e = e->next, n++) {
		int64_t line = ctl_json_int(e, "line", 0);

		if (line != 0)
			fprintf(stderr, "  line %" PRId64 ": %s: %s\n", line,
				ctl_json_str(e, "field", "?"),
				ctl_json_str(e, "message", ""));
		else
			fprintf(stderr, "  %s: %s\n",
				ctl_json_str(e, "field", "?"),
				ctl_json_str(e, "message", ""));
	}
	if (total > n)
		fprintf(stderr, "  ... and %" PRId64 " more\n", total - n);
}

typedef void ctl_cli_render_fn(const struct ctl_jval *res);

/*
 * Read frames up to the reply; data frames go to cli->data_out. Prints the
 * reply (JSON or rendered) and returns the exit code.
 */
static int
ctl_cli_finish(struct ctl_cli *cli, ctl_cli_render_fn *render)
{
	const struct ctl_jval *err, *res;
	struct ctl_jval *rep = NULL;
	struct ctl_buf p;
	const char *code = NULL;
	uint8_t type;
	int rc, ex;

	ctl_buf_init(&p);
	for (;;) {
		rc = ctl_io_read_frame(cli->fd, &type, &p);
		if (rc != 0) {
			ctl_cli_io_error(cli, rc);
			ctl_buf_fini(&p);
			return CTL_EXIT_PROTO;
		}
		if (type == CTL_FRAME_DATA && cli->data_out != NULL) {
			if (fwrite(p.p, 1, p.len, cli->data_out) != p.len) {
				fprintf(stderr, "sipedgectl: write: %s\n",
					strerror(errno));
				ctl_buf_fini(&p);
				return CTL_EXIT_PROTO;
			}
			continue;
		}
		if (type == CTL_FRAME_REPLY)
			break;
	}
	if (cli->data_out != NULL && fflush(cli->data_out) != 0) {
		fprintf(stderr, "sipedgectl: write: %s\n", strerror(errno));
		ctl_buf_fini(&p);
		return CTL_EXIT_PROTO;
	}
	if (ctl_json_parse(p.p, p.len, &rep) != 0) {
		fprintf(stderr, "sipedgectl: malformed reply\n");
		ctl_buf_fini(&p);
		return CTL_EXIT_PROTO;
	}
	err = ctl_json_get(rep, "error");
	res = ctl_json_get(rep, "result");
	if (!ctl_json_bool(rep, "ok", false))
		code = ctl_json_str(err, "code", "internal");
	ex = ctl_cli_exit_code(code);
	if (ex == CTL_EXIT_BUSY && cli->quiet_busy) {
		/* The caller retries; say nothing yet. */
	} else if (cli->json) {
		/* With a data stream on stdout the reply goes to stderr. */
		FILE *f = cli->data_out == stdout ? stderr : stdout;

		fprintf(f, "%s\n", p.p);
	} else if (code != NULL) {
		fprintf(stderr, "sipedgectl: %s: %s\n", code,
			ctl_json_str(err, "message", ""));
		ctl_cli_print_errors(res);
	} else if (render != NULL) {
		render(res);
	}
	ctl_json_free(rep);
	ctl_buf_fini(&p);
	return ex;
}

static int
ctl_cli_request(struct ctl_cli *cli, struct ctl_buf *req,
		ctl_cli_render_fn *render)
{
	int rc;

	if (req->err != 0)
		return CTL_EXIT_FAIL;
	rc = ctl_cli_connect(cli);
	if (rc != 0)
		return rc;
	rc = ctl_io_send_frame(cli->fd, CTL_FRAME_REQUEST, req->p, req->len);
	if (rc != 0) {
		fprintf(stderr, "sipedgectl: send: %s\n", strerror(-rc));
		return CTL_EXIT_PROTO;
	}
	return ctl_cli_finish(cli, render);
}

static bool
ctl_cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

static void
ctl_fmt_bytes(char *buf, size_t cap, uint64_t v)
{
	if (v >= (1ull << 30))
		snprintf(buf, cap, "%.1f GiB", (double)v / (1ull << 30));
	else if (v >= (1ull << 20))
		snprintf(buf, cap, "%.1f MiB", (double)v / (1ull << 20));
	else if (v >= (1ull << 10))
		snprintf(buf, cap, "%.1f KiB", (double)v / (1ull << 10));
	else
		snprintf(buf, cap, "%" PRIu64 " B", v);
}

static void
ctl_fmt_kinds(const struct ctl_jval *o, char *buf, size_t cap)
{
	const struct ctl_jval *c;
	size_t n = 0;

	buf[0] = '\0';
	if (o == NULL)
		return;
	for (c = o->child; c != NULL && n < cap; c = c->next) {
		if (strcmp(c->key, "total") == 0)
			continue;
		n += (size_t)snprintf(buf + n, cap - n, "%s%s %" PRId64,
				      n != 0 ? ", " : "", c->key, c->i);
	}
}

/* status ------------------------------------------------------------ */

static void
ctl_render_status(const struct ctl_jval *r)
{
	const struct ctl_jval *st = ctl_json_get(r, "store");
	const struct ctl_jval *art = ctl_json_get(r, "artefacts");
	const struct ctl_jval *li = ctl_json_get(r, "last_import");
	const struct ctl_jval *g;
	char kinds[256], a[32], b[32], c[32];
	time_t t = (time_t)(ctl_json_int(r, "committed_us", 0) / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (ctl_json_int(r, "generation", 0) == 0)
		printf("generation   0 (nothing committed yet)\n");
	else
		printf("generation   %" PRId64 " (committed %04d-%02d-%02dT%02d:%02d:%02dZ, %" PRId64 " s ago)\n",
		       ctl_json_int(r, "generation", 0), tm.tm_year + 1900,
		       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		       tm.tm_sec, ctl_json_int(r, "age_s", 0));
	ctl_fmt_kinds(ctl_json_get(r, "by_kind"), kinds, sizeof(kinds));
	printf("rules        %" PRId64 " (%s)\n", ctl_json_int(r, "rules", 0),
	       kinds);
	printf("targets      %" PRId64 "\n", ctl_json_int(r, "targets", 0));
	printf("registrations %" PRId64 "\n",
	       ctl_json_int(r, "registrations", 0));
	ctl_fmt_bytes(a, sizeof(a), (uint64_t)ctl_json_int(st, "used_bytes", 0));
	ctl_fmt_bytes(b, sizeof(b), (uint64_t)ctl_json_int(st, "map_size", 0));
	ctl_fmt_bytes(c, sizeof(c), (uint64_t)ctl_json_int(st, "file_bytes", 0));
	printf("store        %s used of a %s map, file %s\n", a, b, c);
	ctl_fmt_bytes(a, sizeof(a), (uint64_t)ctl_json_int(art, "image_bytes",
							    0));
	printf("artefacts    image %s; generations kept:", a);
	g = ctl_json_get(art, "generations");
	for (g = g != NULL ? g->child : NULL; g != NULL; g = g->next)
		printf(" %" PRId64, g->i);
	printf(" (keep %" PRId64 ")\n", ctl_json_int(art, "keep", 0));
	if (li != NULL && li->type == CTL_JOBJ)
		printf("last change  generation %" PRId64 ", %s, %" PRId64 " rows: +%" PRId64 " -%" PRId64 " ~%" PRId64 " =%" PRId64 ", %.3f s\n",
		       ctl_json_int(li, "generation", 0),
		       ctl_json_str(li, "mode", "?"),
		       ctl_json_int(li, "rows", 0),
		       ctl_json_int(li, "added", 0),
		       ctl_json_int(li, "removed", 0),
		       ctl_json_int(li, "changed", 0),
		       ctl_json_int(li, "unchanged", 0),
		       (double)ctl_json_int(li, "duration_ms", 0) / 1000);
	else
		printf("last change  none\n");
	printf("import       %s; %" PRId64 " subscriber(s)\n",
	       ctl_json_bool(r, "import_in_progress", false) ?
	       "in progress" : "none in progress",
	       ctl_json_int(r, "subscribers", 0));
}

/* A decimal count 0..@p max, all of @p s; 0 or -EINVAL. */
static int
ctl_cli_count(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * Send {"cmd": @cmd, @key[i]: @val[i], ...} and render the reply: the
 * request of every verb whose arguments are plain strings. A NULL
 * @val[i] leaves that key out.
 */
static int
ctl_cli_send(struct ctl_cli *cli, const char *cmd, const char *const *key,
	     const char *const *val, unsigned int n, ctl_cli_render_fn *render)
{
	struct ctl_buf b;
	struct ctl_jw w;
	unsigned int i;
	int rc;

	/* JSON carries UTF-8 only: another byte would be sent as U+FFFD,
	 * naming something (a rule id, a setting) other than was typed. */
	for (i = 0; i < n; i++) {
		if (val[i] != NULL && !utf8_valid(val[i], strlen(val[i]))) {
			fprintf(stderr, "sipedgectl: %s: not valid UTF-8\n",
				key[i]);
			return CTL_EXIT_USAGE;
		}
	}
	ctl_buf_init(&b);
	ctl_jw_init(&w, &b);
	ctl_jw_obj(&w, NULL);
	ctl_jw_str(&w, "cmd", cmd);
	for (i = 0; i < n; i++)
		if (val[i] != NULL)
			ctl_jw_str(&w, key[i], val[i]);
	ctl_jw_obj_end(&w);
	rc = ctl_cli_request(cli, &b, render);
	ctl_buf_fini(&b);
	return rc;
}

static int
ctl_verb_status(struct ctl_cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return -1;
	return ctl_cli_send(cli, "status", NULL, NULL, 0, ctl_render_status);
}

/* names ------------------------------------------------------------- */

static void
ctl_render_names(const struct ctl_jval *r)
{
	const struct ctl_jval *n = ctl_json_get(r, "names"), *e, *a;
	int64_t iv = ctl_json_int(r, "resolve_interval_s", 0);

	if (iv != 0)
		printf("looked up every %" PRId64 " s%s\n", iv,
		       ctl_json_bool(r, "lookups_running", false) ?
		       " (a round is running)" : "");
	else
		printf("looked up when an import brings them (targets.resolve_interval 0)\n");
	if (n == NULL || n->child == NULL) {
		printf("no rule names a target host\n");
		return;
	}
	for (e = n->child; e != NULL; e = e->next) {
		printf("%s: %s;", ctl_json_str(e, "name", "?"),
		       ctl_json_str(e, "state", "?"));
		a = ctl_json_get(e, "addresses");
		for (a = a != NULL ? a->child : NULL; a != NULL; a = a->next)
			printf(" %s", a->str != NULL ? a->str : "?");
		if (ctl_json_str(e, "error", NULL) != NULL)
			printf(" (%s)", ctl_json_str(e, "error", ""));
		printf("\n");
	}
}

static int
ctl_verb_names(struct ctl_cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return -1;
	return ctl_cli_send(cli, "targets.names", NULL, NULL, 0,
			    ctl_render_names);
}

/* routes import ------------------------------------------------------ */

static void
ctl_render_change(const struct ctl_jval *r)
{
	const struct ctl_jval *t = ctl_json_get(r, "timing_ms");
	char add[200], del[200], chg[200];
	bool dry = ctl_json_bool(r, "dry_run", false);

	ctl_fmt_kinds(ctl_json_get(r, "added"), add, sizeof(add));
	ctl_fmt_kinds(ctl_json_get(r, "removed"), del, sizeof(del));
	ctl_fmt_kinds(ctl_json_get(r, "changed"), chg, sizeof(chg));
	if (dry)
		printf("dry run: valid, nothing committed (generation %" PRId64 " stays current)\n",
		       ctl_json_int(r, "generation", 0));
	else
		printf("generation %" PRId64 " committed\n",
		       ctl_json_int(r, "generation", 0));
	printf("  %-12s %" PRId64 "\n  %-12s %" PRId64 "\n", "rows",
	       ctl_json_int(r, "rows", 0), "rules", ctl_json_int(r, "rules", 0));
	printf("  %-12s %" PRId64 " (%s)\n", dry ? "would add" : "added",
	       ctl_json_int(ctl_json_get(r, "added"), "total", 0), add);
	printf("  %-12s %" PRId64 " (%s)\n", dry ? "would remove" : "removed",
	       ctl_json_int(ctl_json_get(r, "removed"), "total", 0), del);
	printf("  %-12s %" PRId64 " (%s)\n", dry ? "would change" : "changed",
	       ctl_json_int(ctl_json_get(r, "changed"), "total", 0), chg);
	printf("  %-12s %" PRId64 "\n", "unchanged",
	       ctl_json_int(r, "unchanged", 0));
	printf("  time         %.3f s (parse %.3f, compile %.3f, commit %.3f)\n",
	       (double)ctl_json_int(t, "total", 0) / 1000,
	       (double)ctl_json_int(t, "parse", 0) / 1000,
	       (double)ctl_json_int(t, "compile", 0) / 1000,
	       (double)ctl_json_int(t, "commit", 0) / 1000);
}

/* Non-blocking check for an early reply (e.g. busy) while streaming. */
static bool
ctl_cli_reply_pending(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/* One attempt: upload @p fd and return the exit code of the reply. */
static int
ctl_cli_import_once(struct ctl_cli *cli, int fd, const char *path,
		    const char *mode, bool dry, char *chunk)
{
	struct ctl_buf b;
	struct ctl_jw w;
	ssize_t n;
	int rc;

	rc = ctl_cli_connect(cli);
	if (rc != 0)
		return rc;
	ctl_buf_init(&b);
	ctl_jw_init(&w, &b);
	ctl_jw_obj(&w, NULL);
	ctl_jw_str(&w, "cmd", "routes.import");
	ctl_jw_str(&w, "mode", mode);
	ctl_jw_bool(&w, "dry_run", dry);
	ctl_jw_obj_end(&w);
	rc = ctl_io_send_frame(cli->fd, CTL_FRAME_REQUEST, b.p, b.len);
	ctl_buf_fini(&b);
	if (rc != 0) {
		fprintf(stderr, "sipedgectl: send: %s\n", strerror(-rc));
		return CTL_EXIT_PROTO;
	}
	for (;;) {
		if (ctl_cli_reply_pending(cli->fd))
			break;  /* refused early: the reply says why */
		n = read(fd, chunk, CTL_CHUNK);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sipedgectl: %s: %s\n", path,
				strerror(errno));
			/* Closing without END: the server commits nothing. */
			return CTL_EXIT_USAGE;
		}
		if (n == 0) {
			ctl_io_send_frame(cli->fd, CTL_FRAME_END, NULL, 0);
			break;
		}
		if (ctl_io_send_frame(cli->fd, CTL_FRAME_DATA, chunk,
				      (size_t)n) != 0)
			break;
	}
	/* A send error may just mean the server replied and stopped reading. */
	return ctl_cli_finish(cli, ctl_render_change);
}

static int
ctl_verb_import(struct ctl_cli *cli, int argc, char **argv)
{
	const char *path = NULL, *mode = "replace";
	uint64_t deadline = 0, secs;
	bool dry = false;
	char *chunk;
	int i, fd, rc;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = true;
		else if (strcmp(argv[i], "--replace") == 0)
			mode = "replace";
		else if (strcmp(argv[i], "--merge") == 0)
			mode = "merge";
		else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc &&
			 ctl_cli_count(argv[i + 1], 86400, &secs) == 0) {
			deadline = ctl_mono_us() + secs * 1000000u;
			i++;
		}
		else if (path == NULL && (argv[i][0] != '-' ||
					  strcmp(argv[i], "-") == 0))
			path = argv[i];
		else
			return -1;
	}
	if (path == NULL)
		return -1;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd == -1) {
			fprintf(stderr, "sipedgectl: %s: %s\n", path,
				strerror(errno));
			return CTL_EXIT_USAGE;
		}
	}
	chunk = malloc(CTL_CHUNK);
	if (chunk == NULL) {
		rc = CTL_EXIT_FAIL;
		goto out_close;
	}
	/* Waiting needs a rewindable input: a file, not a pipe. */
	cli->quiet_busy = deadline != 0 && lseek(fd, 0, SEEK_CUR) != -1;
	for (i = 0;; i++) {
		rc = ctl_cli_import_once(cli, fd, path, mode, dry, chunk);
		if (rc != CTL_EXIT_BUSY || !cli->quiet_busy)
			break;
		close(cli->fd);
		cli->fd = -1;
		if (i == 0)
			fprintf(stderr, "sipedgectl: another import is running; waiting\n");
		if (ctl_mono_us() >= deadline || lseek(fd, 0, SEEK_SET) == -1) {
			cli->quiet_busy = false;
			fprintf(stderr, "sipedgectl: busy: gave up waiting; nothing was changed\n");
			break;
		}
		usleep(100000);
	}
	free(chunk);
out_close:
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

/* routes export / explain -------------------------------------------- */

/*
 * routes export [-o FILE]: with -o the table goes to FILE.tmp, renamed to
 * FILE once the export succeeded, so a failed one (no control process, a
 * connection lost half way) leaves an earlier FILE as it was.
 */
static int
ctl_verb_export(struct ctl_cli *cli, int argc, char **argv)
{
	struct ctl_buf b;
	struct ctl_jw w;
	FILE *f = stdout;
	char tmp[4096];
	int rc;

	if (argc == 2 && strcmp(argv[0], "-o") == 0) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]) >=
		    sizeof(tmp)) {
			fprintf(stderr, "sipedgectl: %s: name too long\n",
				argv[1]);
			return CTL_EXIT_USAGE;
		}
		f = fopen(tmp, "w");
		if (f == NULL) {
			fprintf(stderr, "sipedgectl: %s: %s\n", tmp,
				strerror(errno));
			return CTL_EXIT_USAGE;
		}
	} else if (argc != 0) {
		return -1;
	}
	cli->data_out = f;
	ctl_buf_init(&b);
	ctl_jw_init(&w, &b);
	ctl_jw_obj(&w, NULL);
	ctl_jw_str(&w, "cmd", "routes.export");
	ctl_jw_obj_end(&w);
	rc = ctl_cli_request(cli, &b, NULL);
	ctl_buf_fini(&b);
	if (f == stdout)
		return rc;
	if (fclose(f) != 0 && rc == 0) {
		fprintf(stderr, "sipedgectl: %s: %s\n", tmp, strerror(errno));
		rc = CTL_EXIT_PROTO;
	}
	if (rc == 0 && rename(tmp, argv[1]) != 0) {
		fprintf(stderr, "sipedgectl: %s: %s\n", argv[1],
			strerror(errno));
		rc = CTL_EXIT_PROTO;
	}
	if (rc != 0)
		unlink(tmp);
	return rc;
}

static void
ctl_render_explain(const struct ctl_jval *r)
{
	const char *text = ctl_json_str(r, "text", NULL);

	printf("generation %" PRId64 ", %s\n", ctl_json_int(r, "generation", 0),
	       ctl_json_str(r, "uri", ""));
	if (text != NULL)
		fputs(text, stdout);
	if (text != NULL && text[0] != '\0' && text[strlen(text) - 1] != '\n')
		fputc('\n', stdout);
}

static int
ctl_verb_explain(struct ctl_cli *cli, int argc, char **argv)
{
	static const char *const key[] = { "uri" };

	if (argc != 1)
		return -1;
	return ctl_cli_send(cli, "routes.explain", key,
			    (const char *const *)argv, 1, ctl_render_explain);
}

/* route add / del / show --------------------------------------------- */

/* RFC 4180 quoting when a field needs it. */
static void
ctl_csv_field(struct ctl_buf *b, const char *s, bool first)
{
	const char *p;
	size_t n;
	bool blank_end;

	if (!first)
		ctl_buf_add(b, ",", 1);
	if (s == NULL)
		return;
	/* Blanks at either end are kept only quoted: the server trims an
	 * unquoted field. */
	n = strlen(s);
	blank_end = n != 0 && (s[0] == ' ' || s[0] == '\t' ||
			       s[n - 1] == ' ' || s[n - 1] == '\t');
	if (!blank_end && strpbrk(s, ",\"\r\n") == NULL) {
		ctl_buf_add(b, s, n);
		return;
	}
	ctl_buf_add(b, "\"", 1);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			ctl_buf_add(b, "\"", 1);
		ctl_buf_add(b, p, 1);
	}
	ctl_buf_add(b, "\"", 1);
}

static void
ctl_render_single(const struct ctl_jval *r)
{
	printf("generation %" PRId64 " committed: %" PRId64 " rules\n",
	       ctl_json_int(r, "generation", 0), ctl_json_int(r, "rules", 0));
}

static int
ctl_verb_route_add(struct ctl_cli *cli, int argc, char **argv)
{
	const char *pos[5] = { NULL };
	const char *rank = NULL, *strip = NULL, *prepend = NULL, *code = NULL;
	const char *row = NULL;
	bool replace = false;
	struct ctl_buf csv, b;
	struct ctl_jw w;
	int i, npos = 0, rc;

	for (i = 0; i < argc; i++) {
		const char **opt = NULL;

		if (strcmp(argv[i], "--rank") == 0)
			opt = &rank;
		else if (strcmp(argv[i], "--strip") == 0)
			opt = &strip;
		else if (strcmp(argv[i], "--prepend") == 0)
			opt = &prepend;
		else if (strcmp(argv[i], "--code") == 0)
			opt = &code;
		else if (strcmp(argv[i], "--row") == 0)
			opt = &row;
		else if (strcmp(argv[i], "--replace") == 0)
			replace = true;
		else if (npos < 5)
			pos[npos++] = argv[i];
		else
			return -1;
		if (opt != NULL) {
			if (++i >= argc)
				return -1;
			*opt = argv[i];
		}
	}
	/* --row with the field options would drop them unsaid. */
	if (row != NULL &&
	    (rank != NULL || strip != NULL || prepend != NULL || code != NULL))
		return -1;
	ctl_buf_init(&csv);
	if (row != NULL) {
		if (npos != 0)
			return -1;
		ctl_buf_add(&csv, row, strlen(row));
	} else {
		if (npos < 4)
			return -1;
		/* id,kind,pattern,action,targets,rank,strip,prepend,code */
		ctl_csv_field(&csv, pos[0], true);
		ctl_csv_field(&csv, pos[1], false);
		ctl_csv_field(&csv, pos[2], false);
		ctl_csv_field(&csv, pos[3], false);
		ctl_csv_field(&csv, pos[4], false);
		ctl_csv_field(&csv, rank, false);
		ctl_csv_field(&csv, strip, false);
		ctl_csv_field(&csv, prepend, false);
		ctl_csv_field(&csv, code, false);
	}
	ctl_buf_add(&csv, "", 0);
	if (!utf8_valid(csv.p, csv.len)) {
		fprintf(stderr, "sipedgectl: the rule is not valid UTF-8\n");
		ctl_buf_fini(&csv);
		return CTL_EXIT_USAGE;
	}
	ctl_buf_init(&b);
	ctl_jw_init(&w, &b);
	ctl_jw_obj(&w, NULL);
	ctl_jw_str(&w, "cmd", "route.add");
	ctl_jw_strn(&w, "row", csv.p, csv.len);
	ctl_jw_bool(&w, "replace", replace);
	ctl_jw_obj_end(&w);
	rc = ctl_cli_request(cli, &b, ctl_render_single);
	ctl_buf_fini(&b);
	ctl_buf_fini(&csv);
	return rc;
}

static int
ctl_verb_route_id(struct ctl_cli *cli, int argc, char **argv,
		  const char *cmd, ctl_cli_render_fn *render)
{
	static const char *const key[] = { "id" };

	if (argc != 1)
		return -1;
	return ctl_cli_send(cli, cmd, key, (const char *const *)argv, 1,
			    render);
}

static int
ctl_verb_route_del(struct ctl_cli *cli, int argc, char **argv)
{
	return ctl_verb_route_id(cli, argc, argv, "route.del",
				 ctl_render_single);
}

static void
ctl_render_show(const struct ctl_jval *r)
{
	const struct ctl_jval *rule = ctl_json_get(r, "rule"), *t;

	printf("id        %s\nkind      %s\npattern   %s\naction    %s\n",
	       ctl_json_str(rule, "id", ""), ctl_json_str(rule, "kind", ""),
	       ctl_json_str(rule, "pattern", ""),
	       ctl_json_str(rule, "action", ""));
	t = ctl_json_get(rule, "targets");
	for (t = t != NULL ? t->child : NULL; t != NULL; t = t->next)
		printf("target    %s port %" PRId64 " priority %" PRId64 " weight %" PRId64 "\n",
		       ctl_json_str(t, "host", ""), ctl_json_int(t, "port", 0),
		       ctl_json_int(t, "priority", 0),
		       ctl_json_int(t, "weight", 0));
	printf("rank      %" PRId64 "\nstrip     %" PRId64 "\nprepend   %s\n",
	       ctl_json_int(rule, "rank", 0), ctl_json_int(rule, "strip", 0),
	       ctl_json_str(rule, "prepend", ""));
	if (ctl_json_int(rule, "code", 0) != 0)
		printf("code      %" PRId64 "\n", ctl_json_int(rule, "code", 0));
	printf("csv       %s\n", ctl_json_str(rule, "csv", ""));
}

static int
ctl_verb_route_show(struct ctl_cli *cli, int argc, char **argv)
{
	return ctl_verb_route_id(cli, argc, argv, "route.show",
				 ctl_render_show);
}

/* config ---------------------------------------------------------------- */

static void
ctl_render_settings(const struct ctl_jval *r)
{
	const struct ctl_jval *s = ctl_json_get(r, "settings"), *v;

	for (s = s != NULL ? s->child : NULL; s != NULL; s = s->next) {
		v = ctl_json_get(s, "value");
		printf("%-22s = ", ctl_json_str(s, "name", ""));
		if (v == NULL)
			printf("?");
		else if (v->type == CTL_JNUM)
			printf("%" PRId64, v->i);
		else if (v->type == CTL_JBOOL)
			printf("%s", v->b ? "true" : "false");
		else if (v->type == CTL_JSTR)
			printf("%s", v->str);
		printf("  (%s)  # %s\n", ctl_json_str(s, "source", ""),
		       ctl_json_str(s, "help", ""));
	}
}

static int
ctl_verb_config_get(struct ctl_cli *cli, int argc, char **argv)
{
	static const char *const key[] = { "key" };

	if (argc > 1)
		return -1;
	return ctl_cli_send(cli, "config.get", key, (const char *const *)argv,
			    (unsigned int)argc, ctl_render_settings);
}

static int
ctl_verb_config_set(struct ctl_cli *cli, int argc, char **argv)
{
	static const char *const key[] = { "key", "value" };

	if (argc != 2)
		return -1;
	return ctl_cli_send(cli, "config.set", key, (const char *const *)argv,
			    2, ctl_render_settings);
}

/* subscribe -------------------------------------------------------------- */

static int
ctl_verb_subscribe(struct ctl_cli *cli, int argc, char **argv)
{
	static const char req[] = "{\"cmd\":\"subscribe\"}";
	struct ctl_jval *ev;
	struct ctl_buf p;
	uint8_t type;
	long count = -1;
	uint64_t n;
	int rc;

	if (argc == 2 && strcmp(argv[0], "--count") == 0 &&
	    ctl_cli_count(argv[1], 1000000000, &n) == 0)
		count = (long)n;
	else if (argc != 0)
		return -1;
	cli->timeout_s = 0;     /* events come when they come */
	rc = ctl_cli_connect(cli);
	if (rc != 0)
		return rc;
	rc = ctl_io_send_frame(cli->fd, CTL_FRAME_REQUEST, req, sizeof(req) - 1);
	if (rc != 0)
		return CTL_EXIT_PROTO;
	ctl_buf_init(&p);
	while (count != 0) {
		rc = ctl_io_read_frame(cli->fd, &type, &p);
		if (rc != 0)
			break;
		if (type == CTL_FRAME_REPLY) {
			if (cli->json)
				printf("%s\n", p.p);
			else
				printf("subscribed\n");
			fflush(stdout);
			continue;
		}
		if (type != CTL_FRAME_EVENT)
			continue;
		if (cli->json || ctl_json_parse(p.p, p.len, &ev) != 0) {
			printf("%s\n", p.p);
		} else {
			printf("generation %" PRId64 " ready (%" PRId64 " rules)\n",
			       ctl_json_int(ev, "generation", 0),
			       ctl_json_int(ev, "rules", 0));
			ctl_json_free(ev);
		}
		fflush(stdout);
		if (count > 0)
			count--;
	}
	ctl_buf_fini(&p);
	return count == 0 ? CTL_EXIT_OK : CTL_EXIT_PROTO;
}

/* ---- stats ------------------------------------------------------------ */

static bool ctl_stats_prom;

/* A label value or HELP text per the Prometheus text format 0.0.4. */
static void
ctl_prom_escape(const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", stdout);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else if (quote && *s == '"')
			fputs("\\\"", stdout);
		else
			putchar(*s);
	}
}

/* name{k="v",...}: Prometheus spelling, also used for the text output. */
static void
ctl_stats_series(const char *prefix, const char *name,
		 const struct ctl_jval *labels)
{
	const struct ctl_jval *l;

	printf("%s%s", prefix, name);
	if (labels == NULL || labels->child == NULL)
		return;
	putchar('{');
	for (l = labels->child; l != NULL; l = l->next) {
		printf("%s%s=\"", l == labels->child ? "" : ",", l->key);
		ctl_prom_escape(l->type == CTL_JSTR ? l->str : "", true);
		putchar('"');
	}
	putchar('}');
}

static void
ctl_render_stats(const struct ctl_jval *r)
{
	const struct ctl_jval *rep = ctl_json_get(r, "report");
	const struct ctl_jval *m, *smp;
	const char *name, *type;

	m = ctl_json_get(rep, "metrics");
	if (!ctl_stats_prom)
		printf("dataplane pid %" PRId64 ", %" PRId64 " worker(s), "
		       "generation %" PRId64 " (report %" PRId64 " ms old)\n",
		       ctl_json_int(rep, "pid", 0),
		       ctl_json_int(rep, "workers", 0),
		       ctl_json_int(rep, "generation", 0),
		       ctl_json_int(r, "age_ms", 0));
	else
		/* How old the figures are: a dataplane that stopped
		 * reporting leaves them as they were, this grows. */
		printf("# HELP sipedge_stats_report_age_seconds seconds since "
		       "the dataplane's last report\n"
		       "# TYPE sipedge_stats_report_age_seconds gauge\n"
		       "sipedge_stats_report_age_seconds %.3f\n",
		       (double)ctl_json_int(r, "age_ms", 0) / 1000.0);
	for (m = m != NULL ? m->child : NULL; m != NULL; m = m->next) {
		name = ctl_json_str(m, "name", "unnamed");
		type = ctl_json_str(m, "type", "untyped");
		if (ctl_stats_prom) {
			printf("# HELP sipedge_%s ", name);
			ctl_prom_escape(ctl_json_str(m, "help", ""), false);
			printf("\n# TYPE sipedge_%s %s\n", name, type);
		}
		smp = ctl_json_get(m, "samples");
		for (smp = smp != NULL ? smp->child : NULL; smp != NULL;
		     smp = smp->next) {
			const struct ctl_jval *v = ctl_json_get(smp, "value");

			/* Text output: what happened, not every zero. */
			if (!ctl_stats_prom &&
			    (v == NULL || v->type != CTL_JNUM || v->num == 0))
				continue;
			if (!ctl_stats_prom)
				fputs("  ", stdout);
			ctl_stats_series(ctl_stats_prom ? "sipedge_" : "", name,
					 ctl_json_get(smp, "labels"));
			/* Integers as they are (a double would round 2^64-1),
			 * others as the shortest text that reads back. */
			if (v != NULL && v->type == CTL_JNUM && v->is_int)
				printf(" %" PRId64 "\n", v->i);
			else
				printf(" %.17g\n", v != NULL &&
				       v->type == CTL_JNUM ? v->num : 0.0);
		}
	}
}

static int
ctl_verb_stats(struct ctl_cli *cli, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--prometheus") == 0)
			ctl_stats_prom = true;
		else if (strcmp(argv[i], "--json") == 0)
			cli->json = true;
		else
			return -1;
	}
	return ctl_cli_send(cli, "stats", NULL, NULL, 0, ctl_render_stats);
}

static const struct ctl_verb ctl_verbs[] = {
	{ "status", "status", "generation, rule counts, store sizes, last change",
	  ctl_verb_status },
	{ "routes import",
	  "routes import FILE|- [--dry-run] [--replace|--merge] [--wait SECONDS]",
	  "commit a CSV rule table as one generation (--wait: retry while busy)",
	  ctl_verb_import },
	{ "routes export", "routes export [-o FILE]",
	  "the rule table as CSV (re-imports to the same set)",
	  ctl_verb_export },
	{ "routes explain", "routes explain URI",
	  "which rule a Request-URI matches, and why", ctl_verb_explain },
	{ "route add",
	  "route add ID KIND PATTERN ACTION [TARGETS] [--rank N] [--strip N] [--prepend P] [--code N] [--replace] | --row CSV",
	  "add (or with --replace, replace) one rule", ctl_verb_route_add },
	{ "route del", "route del ID", "delete one rule", ctl_verb_route_del },
	{ "route show", "route show ID", "show one rule", ctl_verb_route_show },
	{ "names", "names",
	  "target host names: the addresses they resolve to, lookup state",
	  ctl_verb_names },
	{ "config get", "config get [KEY]", "read settings",
	  ctl_verb_config_get },
	{ "config set", "config set KEY VALUE", "change a setting",
	  ctl_verb_config_set },
	{ "subscribe", "subscribe [--count N]",
	  "print generation events as they happen", ctl_verb_subscribe },
	{ "stats", "stats [--json|--prometheus]",
	  "the dataplane's counters (text, JSON, or Prometheus exposition)",
	  ctl_verb_stats },
	{ NULL, NULL, NULL, NULL },
};

int
main(int argc, char **argv)
{
	struct ctl_cli cli = { .fd = -1 };
	const struct ctl_verb *v, *found = NULL;
	const char *env = getenv("SIPEDGE_SOCKET");
	int i = 1, words, rc;

	cli.socket = env != NULL && env[0] != '\0' ? env : CTL_SOCKET_DEFAULT;
	cli.timeout_s = CTL_TIMEOUT_DEFAULT;
	for (; i < argc && argv[i][0] == '-'; i++) {
		uint64_t t;

		if (strcmp(argv[i], "--json") == 0) {
			cli.json = true;
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc &&
			   ctl_cli_count(argv[i + 1], 86400, &t) == 0) {
			cli.timeout_s = (unsigned int)t;
			i++;
		} else if (strcmp(argv[i], "--timeout") == 0) {
			fprintf(stderr, "sipedgectl: --timeout takes a number "
				"of seconds, 0 to 86400\n");
			return CTL_EXIT_USAGE;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			cli.socket = argv[++i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			cli.socket = argv[i] + 9;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			ctl_cli_usage(stdout);
			return CTL_EXIT_OK;
		} else {
			fprintf(stderr, "sipedgectl: unknown option '%s'\n",
				argv[i]);
			ctl_cli_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (i < argc && strcmp(argv[i], "help") == 0) {
		ctl_cli_usage(stdout);
		return CTL_EXIT_OK;
	}
	for (v = ctl_verbs; v->name != NULL && i < argc; v++) {
		size_t n = strlen(argv[i]);

		if (strncmp(v->name, argv[i], n) != 0)
			continue;
		if (v->name[n] == '\0') {
			found = v;
			words = 1;
			break;
		}
		if (v->name[n] == ' ' && i + 1 < argc &&
		    strcmp(v->name + n + 1, argv[i + 1]) == 0) {
			found = v;
			words = 2;
			break;
		}
	}
	if (found == NULL) {
		if (i < argc)
			fprintf(stderr, "sipedgectl: unknown verb '%s%s%s'\n",
				argv[i], i + 1 < argc ? " " : "",
				i + 1 < argc ? argv[i + 1] : "");
		ctl_cli_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	i += words;
	/* "--" first: what follows are the verb's words, "-h" included
	 * (a rule may be called that). */
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	else if (ctl_cli_wants_help(argc - i, argv + i)) {
		printf("usage: sipedgectl [--socket PATH] [--json] %s\n\n%s\n",
		       found->usage, found->help);
		return CTL_EXIT_OK;
	}
	rc = found->fn(&cli, argc - i, argv + i);
	if (rc < 0) {
		fprintf(stderr, "usage: sipedgectl %s\n", found->usage);
		rc = CTL_EXIT_USAGE;
	}
	if (cli.fd >= 0)
		close(cli.fd);
	return rc;
}
