/* SPDX-License-Identifier: MIT */
/*
 * ctl_server.c - the control socket: a single-threaded epoll loop over the
 * listening socket, a signalfd and the client connections.
 *
 * Requests are served one frame at a time in arrival order. An import
 * streams over many loop iterations, so other clients (status, export,
 * subscribers) keep being served while it uploads; a second import, or
 * any other change, is refused while one is in progress (code "busy").
 * A client that goes away before the END frame commits nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_priv.h"

#define CTL_READ_CHUNK  (256u << 10)
/* Upload frames one connection's turn takes (ctl_conn_readable()). */
#define CTL_TURN_DATA   16u
#define CTL_EV_LISTEN   ((void *)1)
#define CTL_EV_SIGNAL   ((void *)2)

void
ctl_reply_fail(struct ctl_reply *r, int err, const char *code,
	       const char *fmt, ...)
{
	va_list ap;

	r->err = err;
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

static void
ctl_reply_init(struct ctl_reply *r)
{
	memset(r, 0, sizeof(*r));
	ctl_buf_init(&r->result);
	ctl_jw_init(&r->w, &r->result);
	ctl_jw_obj(&r->w, NULL);
}

static void
ctl_reply_fini(struct ctl_reply *r)
{
	ctl_buf_fini(&r->result);
}

/* The reply object of @p r into @p b; "result" null unless @p result. */
static void
ctl_reply_envelope(struct ctl_buf *b, const char *cmd,
		   const struct ctl_reply *r, bool result)
{
	struct ctl_jw w;

	ctl_jw_init(&w, b);
	ctl_jw_obj(&w, NULL);
	ctl_jw_bool(&w, "ok", r->code == NULL);
	ctl_jw_str(&w, "cmd", cmd);
	if (r->code != NULL) {
		ctl_jw_obj(&w, "error");
		ctl_jw_str(&w, "code", r->code);
		ctl_jw_i64(&w, "errno", -r->err);
		ctl_jw_str(&w, "message", r->msg);
		ctl_jw_obj_end(&w);
	}
	if (result && r->result.err == 0)
		ctl_jw_raw(&w, "result", r->result.p, r->result.len);
	else
		ctl_jw_null(&w, "result");
	ctl_jw_obj_end(&w);
}

void
ctl_conn_reply(struct ctl_conn *c, const char *cmd, struct ctl_reply *r)
{
	struct ctl_buf b;

	ctl_jw_obj_end(&r->w);
	ctl_buf_init(&b);
	ctl_reply_envelope(&b, cmd, r, true);
	if (b.err == 0 && b.len > CTL_FRAME_MAX) {
		/* No frame may be longer (PROTOCOL.md §1): the client is
		 * told so instead. */
		ctl_reply_fail(r, -EMSGSIZE, "internal",
			       "reply longer than 4 MiB");
		ctl_buf_reset(&b);
		ctl_reply_envelope(&b, cmd, r, false);
	}
	if (b.err == 0)
		ctl_frame_put(&c->out, CTL_FRAME_REPLY, b.p, b.len);
	else
		c->closing = true;
	ctl_buf_fini(&b);
}

/* Read while the reply queue is below CTL_OUT_HOLD and the connection is
 * not closing; write while the queue holds anything. */
static void
ctl_conn_events(struct ctl_server *srv, struct ctl_conn *c)
{
	bool want_out = c->out.len != 0,
	     hold = c->out.len > CTL_OUT_HOLD || c->closing;
	struct epoll_event ev = { .events = 0, .data.ptr = c };

	if (want_out == c->epollout && hold == c->held)
		return;
	ev.events = (hold ? 0 : EPOLLIN) | (want_out ? EPOLLOUT : 0);
	if (epoll_ctl(srv->efd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
		c->epollout = want_out;
		c->held = hold;
	}
}

void
ctl_conn_flush(struct ctl_server *srv, struct ctl_conn *c)
{
	size_t off = 0;
	ssize_t w;

	while (off < c->out.len) {
		w = send(c->fd, c->out.p + off, c->out.len - off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* Peer gone: drop what is queued; EPOLLHUP closes it. */
			c->closing = true;
			off = c->out.len;
			break;
		}
		off += (size_t)w;
	}
	if (off != 0)
		c->sent_us = ctl_mono_us();
	ctl_buf_consume(&c->out, off);
	ctl_conn_events(srv, c);
}

/* The import @p c uploads, if any, abandoned (@p how it ended, logged). */
static void
ctl_conn_import_drop(struct ctl_server *srv, struct ctl_conn *c,
		     const char *how)
{
	if (srv->importer != c)
		return;
	ctl_log(CTL_LOG_WARN, "client %llu %s during an import; nothing committed",
		(unsigned long long)c->id, how);
	ctl_import_abort(c->imp);
	c->imp = NULL;
	srv->importer = NULL;
}

static void
ctl_conn_close(struct ctl_server *srv, struct ctl_conn *c)
{
	struct ctl_conn **pp;

	ctl_conn_import_drop(srv, c, "went away");
	if (c->subscribed)
		srv->nsubs--;
	srv->nconns--;
	for (pp = &srv->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	epoll_ctl(srv->efd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	ctl_buf_fini(&c->in);
	ctl_buf_fini(&c->out);
	ctl_log(CTL_LOG_DEBUG, "client %llu closed", (unsigned long long)c->id);
	free(c);
}

static void
ctl_conn_proto_error(struct ctl_server *srv, struct ctl_conn *c,
		     const char *what)
{
	struct ctl_reply r;

	ctl_reply_init(&r);
	ctl_reply_fail(&r, -EPROTO, "protocol", "%s", what);
	ctl_conn_reply(c, c->cmd != NULL ? c->cmd->name : "", &r);
	ctl_reply_fini(&r);
	ctl_log(CTL_LOG_WARN, "client %llu: protocol error: %s",
		(unsigned long long)c->id, what);
	if (srv->importer == c) {
		ctl_import_abort(c->imp);
		c->imp = NULL;
		srv->importer = NULL;
	}
	c->closing = true;
}


/*
 * The request members commands read, with their types (PROTOCOL.md §3).
 * A member of the wrong type is refused rather than taken as absent: a
 * "dry_run": "true" read as false would commit what was meant as a check.
 */
static const struct {
	const char      *name;
	uint8_t          type;          /* enum ctl_jtype */
	const char      *what;
} ctl_request_members[] = {
	{ "cmd", CTL_JSTR, "a string" },
	{ "mode", CTL_JSTR, "a string" },
	{ "dry_run", CTL_JBOOL, "true or false" },
	{ "replace", CTL_JBOOL, "true or false" },
	{ "row", CTL_JSTR, "a string" },
	{ "id", CTL_JSTR, "a string" },
	{ "uri", CTL_JSTR, "a string" },
	{ "key", CTL_JSTR, "a string" },
	{ "value", CTL_JSTR, "a string" },
	{ "metrics", CTL_JARR, "an array" },
};

/*
 * 0 if @p req has "cmd" and every member of ctl_request_members[] it holds
 * has its type (strings without NUL, which the commands would cut at);
 * else -EINVAL with @p r failed as bad_request.
 */
static int
ctl_request_check(const struct ctl_jval *req, struct ctl_reply *r)
{
	const struct ctl_jval *v;
	size_t i;

	for (i = 0; i < sizeof(ctl_request_members) /
		    sizeof(ctl_request_members[0]); i++) {
		v = ctl_json_get(req, ctl_request_members[i].name);
		if (v == NULL) {
			if (i != 0)
				continue;
			ctl_reply_fail(r, -EINVAL, "bad_request",
				       "\"cmd\" (a string) is required");
			return -EINVAL;
		}
		if (v->type != ctl_request_members[i].type) {
			ctl_reply_fail(r, -EINVAL, "bad_request",
				       "\"%s\" must be %s",
				       ctl_request_members[i].name,
				       ctl_request_members[i].what);
			return -EINVAL;
		}
		if (v->type == CTL_JSTR && strlen(v->str) != v->len) {
			ctl_reply_fail(r, -EINVAL, "bad_request",
				       "\"%s\" holds a NUL character",
				       ctl_request_members[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

static void
ctl_conn_request(struct ctl_server *srv, struct ctl_conn *c,
		 const char *p, uint32_t len)
{
	const struct ctl_cmd *cmd = NULL;
	struct ctl_jval *req = NULL;
	struct ctl_reply r;
	const char *name = "";
	size_t at = 0;
	int rc;

	ctl_reply_init(&r);
	rc = ctl_json_parse_at(p, len, &req, &at);
	if (rc == -ENOMEM) {
		ctl_reply_fail(&r, rc, "internal", "out of memory");
		goto out_reply;
	}
	if (rc == -E2BIG) {
		ctl_reply_fail(&r, -EINVAL, "bad_request",
			       "request holds more than %u JSON values",
			       CTL_JSON_NODES_MAX);
		goto out_reply;
	}
	if (rc == -EEXIST) {
		ctl_reply_fail(&r, -EINVAL, "bad_request",
			       "request names a member twice in the object "
			       "ending at byte %zu", at);
		goto out_reply;
	}
	if (rc != 0) {
		ctl_reply_fail(&r, -EINVAL, "bad_request",
			       "request is not valid JSON (byte %zu)", at);
		goto out_reply;
	}
	if (req->type != CTL_JOBJ) {
		ctl_reply_fail(&r, -EINVAL, "bad_request",
			       "request is not a JSON object");
		goto out_reply;
	}
	name = ctl_json_str(req, "cmd", "");
	cmd = ctl_cmd_find(name);
	if (ctl_request_check(req, &r) != 0) {
		/* An upload's data frames follow; they are dropped. */
		if (cmd != NULL && (cmd->flags & CTL_CMD_UPLOAD))
			c->state = CTL_CONN_DISCARD;
		goto out_reply;
	}
	if (cmd == NULL) {
		ctl_reply_fail(&r, -EINVAL, "unknown_command",
			       "unknown command '%s'", name);
		goto out_reply;
	}
	c->cmd = cmd;
	if ((cmd->flags & CTL_CMD_MUTATES) && srv->importer != NULL) {
		ctl_reply_fail(&r, -EBUSY, "busy",
			       "another import is in progress (client %llu); nothing was changed, retry when it has finished",
			       (unsigned long long)srv->importer->id);
		ctl_log(CTL_LOG_INFO, "client %llu: %s refused: import by client %llu in progress",
			(unsigned long long)c->id, cmd->name,
			(unsigned long long)srv->importer->id);
		if (cmd->flags & CTL_CMD_UPLOAD)
			c->state = CTL_CONN_DISCARD;
		goto out_reply;
	}
	if (cmd->flags & CTL_CMD_UPLOAD) {
		ctl_cmd_import_begin(srv, c, req, &r);
		if (r.code == NULL) {
			/* The reply comes after the END frame. */
			c->state = CTL_CONN_UPLOAD;
			srv->importer = c;
			ctl_reply_fini(&r);
			ctl_json_free(req);
			return;
		}
		c->state = CTL_CONN_DISCARD;
		goto out_reply;
	}
	cmd->fn(srv, c, req, &r);
out_reply:
	ctl_conn_reply(c, cmd != NULL ? cmd->name : name, &r);
	ctl_reply_fini(&r);
	ctl_json_free(req);
	/* Served; an upload's data frames may still follow, to discard: a
	 * protocol error among them names the command they belong to. */
	c->cmd = c->state == CTL_CONN_DISCARD ? cmd : NULL;
}

/* One complete frame. */
static void
ctl_conn_frame(struct ctl_server *srv, struct ctl_conn *c, uint8_t type,
	       const char *p, uint32_t len)
{
	struct ctl_reply r;

	/* An upload's end frame is empty, whether the upload is taken or
	 * discarded. */
	if (c->state != CTL_CONN_IDLE && type == CTL_FRAME_END && len != 0) {
		ctl_conn_proto_error(srv, c, "an end frame carries nothing");
		return;
	}
	switch (c->state) {
	case CTL_CONN_IDLE:
		if (type != CTL_FRAME_REQUEST) {
			ctl_conn_proto_error(srv, c, "expected a request frame");
			return;
		}
		ctl_conn_request(srv, c, p, len);
		return;
	case CTL_CONN_UPLOAD:
		if (type == CTL_FRAME_DATA) {
			int rc = ctl_import_feed(c->imp, p, len);
			char what[128];

			if (rc == -EFBIG) {
				snprintf(what, sizeof(what),
					 "import abandoned past import.max_rows "
					 "(%llu rows); nothing committed",
					 (unsigned long long)
					 ctl_import_max_rows(c->imp));
				ctl_conn_proto_error(srv, c, what);
			} else if (rc != 0) {
				ctl_conn_proto_error(srv, c, "out of memory");
			}
			return;
		}
		if (type != CTL_FRAME_END) {
			ctl_conn_proto_error(srv, c,
					     "expected a data or end frame");
			return;
		}
		ctl_reply_init(&r);
		ctl_cmd_import_finish(srv, c, &r);
		c->imp = NULL;
		srv->importer = NULL;
		c->state = CTL_CONN_IDLE;
		ctl_conn_reply(c, c->cmd->name, &r);
		ctl_reply_fini(&r);
		c->cmd = NULL;
		return;
	case CTL_CONN_DISCARD:
		if (type == CTL_FRAME_END) {
			c->state = CTL_CONN_IDLE;
			c->cmd = NULL;
		} else if (type != CTL_FRAME_DATA) {
			ctl_conn_proto_error(srv, c,
					     "expected a data or end frame");
		}
		return;
	}
}

static void
ctl_conn_readable(struct ctl_server *srv, struct ctl_conn *c)
{
	unsigned int turn = CTL_TURN_DATA;
	const char *payload;
	bool eof = false;
	uint32_t len;
	size_t total, off;
	uint8_t type;
	ssize_t n;
	int rc;

	/* A closing connection is read no more: what it sends now could
	 * only pile up. Nor is more than one whole frame held unserved. */
	for (;;) {
		if (c->closing ||
		    c->in.len >= CTL_FRAME_MAX + CTL_FRAME_HDR_LEN)
			break;
		if (ctl_buf_reserve(&c->in, CTL_READ_CHUNK) != 0) {
			ctl_conn_close(srv, c);
			return;
		}
		n = read(c->fd, c->in.p + c->in.len, CTL_READ_CHUNK);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			ctl_conn_close(srv, c);
			return;
		}
		if (n == 0) {
			/* Serve what arrived before the end, then close. */
			eof = true;
			break;
		}
		c->in.len += (size_t)n;
	}

	/* Handle the complete frames of this connection's turn, then
	 * compact once; frames beyond a full reply queue wait until the
	 * client has read it (and are taken up again when a flush makes
	 * room at once). A turn is one request, or CTL_TURN_DATA upload
	 * frames: a client that pipelines requests (each of which may take
	 * a second at a million rules) does not hold up the others, whose
	 * requests are served in between (ctl_server_run()). */
	do {
		off = 0;
		while (!c->closing && c->out.len <= CTL_OUT_HOLD) {
			struct ctl_buf view = {
				.p = c->in.p + off,
				.len = c->in.len - off,
			};

			rc = ctl_frame_peek(&view, &type, &payload, &len,
					    &total);
			if (rc == 0)
				break;
			if (rc < 0) {
				ctl_conn_proto_error(srv, c, rc == -EMSGSIZE ?
						     "frame longer than 4 MiB" :
						     "malformed frame header");
				break;
			}
			if (turn == 0)
				break;
			/* An upload's time out counts from its last whole
			 * frame that brought something: neither trickled
			 * bytes nor empty data frames hold the slot. */
			if (len != 0 || type != CTL_FRAME_DATA)
				c->last_us = ctl_mono_us();
			ctl_conn_frame(srv, c, type, payload, len);
			off += total;
			turn = type == CTL_FRAME_REQUEST ? 0 : turn - 1;
		}
		ctl_buf_consume(&c->in, off);
		if (c->closing || c->out.len <= CTL_OUT_HOLD)
			break;
		ctl_conn_flush(srv, c);
	} while (!c->closing && !c->held);
	/* Whole frames left (its turn ended, or its replies wait to be
	 * read): more turns; the end is seen again then. */
	{
		struct ctl_buf view = { .p = c->in.p, .len = c->in.len };

		c->ready = ctl_frame_peek(&view, &type, &payload, &len,
					  &total) == 1;
	}
	if (eof && !c->ready) {
		/*
		 * A client that half-closed may still read: the replies
		 * queued are sent (EPOLLOUT) before the connection closes;
		 * requests not yet served and an upload without its END
		 * frame are abandoned.
		 */
		ctl_conn_import_drop(srv, c, "closed its side");
		c->closing = true;
	}
	ctl_conn_flush(srv, c);
	if (c->closing && c->out.len == 0)
		ctl_conn_close(srv, c);
}

/*
 * A connection refused (too many, or out of descriptors): counted, and
 * logged at most every ten seconds with the count, not once each (a
 * client retrying in a loop would flood the log).
 */
static void
ctl_server_refused(struct ctl_server *srv, const char *why)
{
	uint64_t now = ctl_mono_us();

	srv->nrefused++;
	if (srv->refuse_log_us != 0 && now - srv->refuse_log_us < 10000000u)
		return;
	ctl_log(CTL_LOG_WARN, "connections refused: %s (%llu since the last "
		"report)", why, (unsigned long long)srv->nrefused);
	srv->refuse_log_us = now;
	srv->nrefused = 0;
}

/*
 * Out of descriptors: the pending connection is accepted with the spare
 * one given up, and closed, so the listening socket does not stay
 * readable for nothing (a busy loop); the spare is taken back.
 */
static bool
ctl_server_accept_shed(struct ctl_server *srv, int err)
{
	int fd;

	ctl_server_refused(srv, strerror(err));
	if (srv->spare_fd == -1) {
		srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		return false;
	}
	close(srv->spare_fd);
	fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd != -1)
		close(fd);
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd != -1;
}

static void
ctl_server_accept(struct ctl_server *srv)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_conn *c;
	int fd;

	for (;;) {
		fd = accept4(srv->lfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				if (ctl_server_accept_shed(srv, errno))
					continue;
				return;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ctl_log(CTL_LOG_WARN, "accept: %s",
					strerror(errno));
			return;
		}
		if (srv->nconns >= CTL_CONN_MAX) {
			close(fd);
			ctl_server_refused(srv, "too many connections");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = ++srv->next_id;
		c->last_us = ctl_mono_us();
		c->sent_us = c->last_us;
		ctl_buf_init(&c->in);
		ctl_buf_init(&c->out);
		ev.data.ptr = c;
		if (epoll_ctl(srv->efd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			free(c);
			continue;
		}
		c->next = srv->conns;
		srv->conns = c;
		srv->nconns++;
		ctl_log(CTL_LOG_DEBUG, "client %llu connected",
			(unsigned long long)c->id);
	}
}

/* Tell every subscriber that a generation is ready (PROTOCOL.md). */
static void
ctl_server_publish(void *arg, uint64_t gen, uint64_t nrules)
{
	struct ctl_server *srv = arg;
	struct ctl_conn *c, *next;
	char ev[160];
	int n;

	n = snprintf(ev, sizeof(ev),
		     "{\"event\":\"generation\",\"generation\":%llu,\"state\":\"ready\",\"rules\":%llu}",
		     (unsigned long long)gen, (unsigned long long)nrules);
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (!c->subscribed)
			continue;
		ctl_frame_put(&c->out, CTL_FRAME_EVENT, ev, (size_t)n);
		ctl_conn_flush(srv, c);
	}
	ctl_log(CTL_LOG_INFO, "generation %llu ready; %u subscriber(s) told",
		(unsigned long long)gen, srv->nsubs);
}

static int
ctl_server_listen(struct ctl_server *srv, const struct ctl_server_opts *o)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(o->socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, o->socket_path);
	strcpy(srv->path, o->socket_path);

	/* A stale socket from a killed process: remove it if nobody answers. */
	if (lstat(o->socket_path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode))
			return -EEXIST;
		fd = ctl_io_connect(o->socket_path);
		if (fd >= 0) {
			close(fd);
			return -EADDRINUSE;
		}
		if (unlink(o->socket_path) == -1)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto out_close_fd;
	if (chmod(o->socket_path, o->socket_mode != 0 ? o->socket_mode :
		  0660) == -1)
		goto out_unlink;
	if (listen(fd, 64) == -1)
		goto out_unlink;
	srv->lfd = fd;
	return 0;

out_unlink:
	rc = -errno;
	unlink(o->socket_path);
	close(fd);
	return rc;
out_close_fd:
	rc = -errno;
	close(fd);
	return rc;
}

int
ctl_server_new(struct ctl_state *cs, const struct ctl_server_opts *o,
	       struct ctl_server **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_server *srv;
	sigset_t mask;
	int rc;

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	srv->cs = cs;
	srv->lfd = srv->efd = srv->sfd = -1;
	/* Given up when descriptors run out (ctl_server_accept_shed()). */
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	srv->upload_idle_us = (uint64_t)o->upload_idle_s * 1000000u;
	srv->started_us = ctl_mono_us();

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		goto out_errno;
	srv->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv->sfd == -1)
		goto out_errno;
	srv->efd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->efd == -1)
		goto out_errno;
	rc = ctl_server_listen(srv, o);
	if (rc != 0)
		goto out_free;
	ev.data.ptr = CTL_EV_LISTEN;
	if (epoll_ctl(srv->efd, EPOLL_CTL_ADD, srv->lfd, &ev) == -1)
		goto out_errno;
	ev.data.ptr = CTL_EV_SIGNAL;
	if (epoll_ctl(srv->efd, EPOLL_CTL_ADD, srv->sfd, &ev) == -1)
		goto out_errno;
	ctl_state_set_publish(cs, ctl_server_publish, srv);
	*out = srv;
	return 0;

out_errno:
	rc = -errno;
out_free:
	ctl_server_free(srv);
	return rc;
}

static bool
ctl_server_has_conn(const struct ctl_server *srv, const struct ctl_conn *c)
{
	const struct ctl_conn *x;

	for (x = srv->conns; x != NULL; x = x->next) {
		if (x == c)
			return true;
	}
	return false;
}

/*
 * An import whose client has sent nothing for upload_idle_us holds the
 * import slot for nobody: it is abandoned (nothing committed), the client
 * told so, and its connection closed. So is a connection holding half a
 * frame that long (its memory, a connection slot). A connection that is
 * not subscribed and has sent, and been sent, nothing for CTL_IDLE_US is
 * closed: the slots (CTL_CONN_MAX) are for clients that talk.
 */
static void
ctl_server_timeouts(struct ctl_server *srv)
{
	struct ctl_conn *c, *next;
	uint64_t now = ctl_mono_us();
	char what[96];

	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (c->out.len != 0 && now - c->sent_us >= CTL_IDLE_US) {
			ctl_log(CTL_LOG_WARN, "client %llu read nothing for "
				"%u s (%zu bytes waiting): closed",
				(unsigned long long)c->id,
				(unsigned int)(CTL_IDLE_US / 1000000u),
				c->out.len);
			ctl_conn_close(srv, c);
			continue;
		}
		if (c->closing || c->held)
			continue;
		if (srv->upload_idle_us != 0 &&
		    (c == srv->importer || c->in.len != 0) &&
		    now - c->last_us >= srv->upload_idle_us) {
			snprintf(what, sizeof(what), c == srv->importer ?
				 "import abandoned: no data for %llu s; "
				 "nothing committed" :
				 "frame incomplete for %llu s",
				 (unsigned long long)(srv->upload_idle_us /
						      1000000u));
			ctl_conn_proto_error(srv, c, what);
			ctl_conn_flush(srv, c);
			ctl_conn_close(srv, c);
			continue;
		}
		/* Half a frame counts as silence too (--upload-timeout 0). */
		if (!c->subscribed && c != srv->importer && c->out.len == 0 &&
		    now - (c->last_us > c->sent_us ? c->last_us : c->sent_us) >=
		    CTL_IDLE_US) {
			ctl_log(CTL_LOG_INFO, "client %llu idle for %u s: "
				"closed", (unsigned long long)c->id,
				(unsigned int)(CTL_IDLE_US / 1000000u));
			ctl_conn_close(srv, c);
		}
	}
}

/*
 * Stopping: an import in progress is told it was abandoned (nothing
 * committed), and every client gets what is queued for it as far as its
 * socket takes it now; ctl_server_free() closes them.
 */
static void
ctl_server_shutdown(struct ctl_server *srv)
{
	struct ctl_conn *c;

	if (srv->importer != NULL)
		ctl_conn_proto_error(srv, srv->importer,
				     "server shutting down: import abandoned, "
				     "nothing committed");
	for (c = srv->conns; c != NULL; c = c->next)
		ctl_conn_flush(srv, c);
}

int
ctl_server_run(struct ctl_server *srv)
{
	struct epoll_event evs[64];
	struct signalfd_siginfo si;
	struct ctl_conn *c, *next;
	int i, n, err, wait_ms;

	ctl_log(CTL_LOG_INFO, "listening on %s", srv->path);
	while (!srv->stop) {
		ctl_server_timeouts(srv);
		wait_ms = ctl_state_resolve_tick(srv->cs,
						 srv->importer != NULL);
		/* Once a second while any client is connected, to time it
		 * out (a subscriber that stops reading too). */
		if (srv->nconns != 0 && (wait_ms < 0 || wait_ms > 1000))
			wait_ms = 1000;
		/* Connections whose turn ended with frames left go on
		 * without waiting. */
		for (c = srv->conns; c != NULL; c = c->next)
			if (c->ready && !c->held && !c->closing)
				wait_ms = 0;
		n = epoll_wait(srv->efd, evs, 64, wait_ms);
		if (n == -1) {
			err = errno;
			if (err == EINTR)
				continue;
			ctl_log(CTL_LOG_ERR, "epoll_wait: %s", strerror(err));
			return -err;
		}
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			c = p;

			if (p == CTL_EV_LISTEN) {
				ctl_server_accept(srv);
				continue;
			}
			if (p == CTL_EV_SIGNAL) {
				while (read(srv->sfd, &si, sizeof(si)) ==
				       (ssize_t)sizeof(si)) {
					ctl_log(CTL_LOG_INFO,
						"signal %u: shutting down",
						si.ssi_signo);
					srv->stop = true;
				}
				continue;
			}
			/* It may have been closed earlier in this batch. */
			if (!ctl_server_has_conn(srv, c))
				continue;
			if (evs[i].events & EPOLLOUT) {
				ctl_conn_flush(srv, c);
				if (c->closing && c->out.len == 0) {
					ctl_conn_close(srv, c);
					continue;
				}
				/* Requests read while the queue was full are
				 * served once it is not; the socket's, when
				 * EPOLLIN says so. */
				if (!c->held && c->in.len != 0 &&
				    !(evs[i].events & EPOLLIN))
					ctl_conn_readable(srv, c);
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				ctl_conn_readable(srv, c);
		}
		/* Then one more turn of each that has frames left (a turn
		 * closes at most its own connection). */
		for (c = srv->conns; c != NULL; c = next) {
			next = c->next;
			if (c->ready && !c->held && !c->closing)
				ctl_conn_readable(srv, c);
		}
	}
	ctl_server_shutdown(srv);
	return 0;
}

void
ctl_server_free(struct ctl_server *srv)
{
	if (srv == NULL)
		return;
	while (srv->conns != NULL)
		ctl_conn_close(srv, srv->conns);
	if (srv->lfd != -1) {
		close(srv->lfd);
		unlink(srv->path);
	}
	if (srv->efd != -1)
		close(srv->efd);
	if (srv->sfd != -1)
		close(srv->sfd);
	if (srv->spare_fd != -1)
		close(srv->spare_fd);
	ctl_state_set_publish(srv->cs, NULL, NULL);
	ctl_buf_fini(&srv->stats);
	free(srv);
}
