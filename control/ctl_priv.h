/* SPDX-License-Identifier: MIT */
/*
 * ctl_priv.h - shared by ctl_server.c and ctl_cmd.c only: connections and
 * the command table.
 */
#ifndef SIPEDGE_CONTROL_CTL_PRIV_H
#define SIPEDGE_CONTROL_CTL_PRIV_H

#include "ctl.h"

enum ctl_conn_state {
	CTL_CONN_IDLE,          /* waiting for a request frame */
	CTL_CONN_UPLOAD,        /* import data frames go to conn->imp */
	CTL_CONN_DISCARD,       /* request refused: skip data up to END */
};

/*
 * Replies queued for a client above which the server reads and serves no
 * more of its requests until it has taken them (a client that pipelines
 * requests without reading could otherwise grow the queue without bound).
 */
#define CTL_OUT_HOLD            (32u << 20)
/* Largest stats.report kept (its JSON as stored): a `stats` reply holds it. */
#define CTL_STATS_MAX           (3u << 20)
/* Connections served at once; more are accepted and closed at once. */
#define CTL_CONN_MAX            256u
/* A connection that sends nothing, or reads nothing of what waits for it,
 * this long is closed (subscribers may sit silent). */
#define CTL_IDLE_US             (600ull * 1000000u)

struct ctl_conn {
	int                      fd;
	uint64_t                 id;
	struct ctl_buf           in;
	struct ctl_buf           out;
	uint8_t                  state;         /* enum ctl_conn_state */
	bool                     subscribed;
	bool                     closing;       /* close once out is sent */
	bool                     epollout;
	bool                     held;          /* input paused: out over
						 * CTL_OUT_HOLD, or closing */
	bool                     ready;         /* whole frames left unserved
						 * (its turn is over) */
	uint64_t                 last_us;       /* last whole frame (monotonic) */
	uint64_t                 sent_us;       /* last bytes it took */
	struct ctl_import       *imp;
	struct ctl_import_opts   imp_opts;
	const struct ctl_cmd    *cmd;           /* request being served */
	struct ctl_conn         *next;
};

struct ctl_server {
	struct ctl_state        *cs;
	int                      lfd;
	int                      efd;
	int                      sfd;
	char                     path[108];
	struct ctl_conn         *conns;
	struct ctl_conn         *importer;      /* at most one import at a time */
	uint64_t                 upload_idle_us; /* 0: imports never time out */
	uint64_t                 next_id;
	uint64_t                 started_us;    /* monotonic */
	uint32_t                 nsubs;
	uint32_t                 nconns;
	int                      spare_fd;      /* given up to accept at EMFILE */
	uint64_t                 refuse_log_us; /* last "refused" log line */
	uint64_t                 nrefused;      /* connections refused since */
	bool                     stop;
	struct ctl_buf           stats;         /* latest dataplane report */
	uint64_t                 stats_us;      /* when it arrived, 0: never */
};

/* What a command handler reports besides its result members. */
struct ctl_reply {
	struct ctl_jw            w;             /* writes into "result" */
	struct ctl_buf           result;
	const char              *code;          /* NULL on success */
	int                      err;           /* negative errno */
	char                     msg[320];
};

typedef void ctl_cmd_fn(struct ctl_server *srv, struct ctl_conn *c,
			const struct ctl_jval *req, struct ctl_reply *r);

struct ctl_cmd {
	const char      *name;
	unsigned int     flags;         /* enum ctl_cmd_flags */
	ctl_cmd_fn      *fn;
	const char      *help;
};

const struct ctl_cmd *ctl_cmd_find(const char *name);

/* Import streaming, driven by ctl_server.c. */
void ctl_cmd_import_begin(struct ctl_server *srv, struct ctl_conn *c,
			  const struct ctl_jval *req, struct ctl_reply *r);
void ctl_cmd_import_finish(struct ctl_server *srv, struct ctl_conn *c,
			   struct ctl_reply *r);

void ctl_reply_fail(struct ctl_reply *r, int err, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Queue the final reply frame of the current request. */
void ctl_conn_reply(struct ctl_conn *c, const char *cmd, struct ctl_reply *r);
/* Try to send queued output now; registers for EPOLLOUT if needed. */
void ctl_conn_flush(struct ctl_server *srv, struct ctl_conn *c);

#endif /* SIPEDGE_CONTROL_CTL_PRIV_H */
