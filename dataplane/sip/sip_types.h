/* SPDX-License-Identifier: MIT */
/*
 * sip_types.h - types, limits and X-macro lists of the SIP library.
 *
 * Types only: no prototypes, no inline bodies (STYLE.md 2.5). The numeric
 * values of the enums are stable: the dataplane indexes counters with them.
 */
#ifndef SIPEDGE_SIP_SIP_TYPES_H
#define SIPEDGE_SIP_SIP_TYPES_H

#include <stdint.h>

#include <span.h>

/* Limits. Each one exceeded has its own verdict (see SIP_PERR_MAP). */
#define SIP_MAX_MSG_LEN         65535u  /* bytes in one datagram: 513 */
#define SIP_MAX_HDRS            96u     /* header fields (lines): 513 */
/* Slots past SIP_MAX_HDRS for the lines a local answer copies, located
 * after a parse error (never used by a message that parses). */
#define SIP_SALVAGE_HDRS        8u
#define SIP_MAX_VIA             64u     /* Via values over all lines: 513 */
#define SIP_MAX_URI_LEN         2048u   /* Request-URI bytes: 414 */

#define SIP_HDR_NONE            0xffu   /* "no header" index in sip_msg */

/*
 * Parse and check verdicts: X(symbol, response code for a request, text).
 * Code 0 means the message cannot be answered and is dropped (counted).
 * Responses that fail parsing are always dropped, whatever the code says.
 */
#define SIP_PERR_MAP(X)                                                 \
	X(OK,             0,   "parsed")                                \
	X(TRUNCATED,      0,   "message ends before the end of the headers") \
	X(TOO_BIG,        513, "message larger than SIP_MAX_MSG_LEN")   \
	X(BAD_START,      0,   "start line is neither a request nor a status line") \
	X(BAD_REQ_LINE,   400, "malformed Request-Line (spacing, missing element)") \
	X(BAD_VERSION,    505, "SIP-Version is not SIP/2.0")            \
	X(BAD_STATUS,     0,   "malformed Status-Line or status code")  \
	X(BAD_HDR,        400, "malformed header line")                 \
	X(TOO_MANY_HDRS,  513, "more header lines than SIP_MAX_HDRS")   \
	X(TOO_MANY_VIA,   513, "more Via values than SIP_MAX_VIA")      \
	X(URI_TOO_LONG,   414, "Request-URI longer than SIP_MAX_URI_LEN") \
	X(BAD_URI,        400, "malformed Request-URI")                 \
	X(BAD_SCHEME,     416, "Request-URI scheme is not sip, sips or tel") \
	X(BAD_CLEN,       400, "Content-Length not a single non-negative number") \
	X(BODY_SHORT,     400, "body shorter than Content-Length")      \
	X(NO_VIA,         0,   "no Via header")                         \
	X(BAD_VIA,        400, "malformed Via value")                   \
	X(MISSING_HDR,    400, "From, To, Call-ID or CSeq missing")     \
	X(DUP_HDR,        400, "single-value header present more than once") \
	X(BAD_FROM,       400, "malformed From")                        \
	X(BAD_TO,         400, "malformed To")                          \
	X(BAD_CALLID,     400, "malformed Call-ID")                     \
	X(BAD_CSEQ,       400, "malformed CSeq or number above 2**32-1") \
	X(CSEQ_MISMATCH,  400, "CSeq method differs from the request method") \
	X(EXT_MISMATCH,   501, "unknown method whose CSeq names another method") \
	X(BAD_MAXFWD,     400, "Max-Forwards not a number from 0 to 255") \
	X(BAD_CONTACT,    400, "malformed Contact")                     \
	X(BAD_VALUE,      400, "malformed comma-separated value list")

enum sip_perr {
#define X(sym, code, desc) SIP_PERR_##sym,
	SIP_PERR_MAP(X)
#undef X
	SIP_PERR__COUNT
};

/* Methods. Extension methods are legal: SIP_METHOD_OTHER, not an error. */
#define SIP_METHOD_MAP(X)       \
	X(OTHER,     "")        \
	X(INVITE,    "INVITE")  \
	X(ACK,       "ACK")     \
	X(BYE,       "BYE")     \
	X(CANCEL,    "CANCEL")  \
	X(OPTIONS,   "OPTIONS") \
	X(REGISTER,  "REGISTER") \
	X(PRACK,     "PRACK")   \
	X(UPDATE,    "UPDATE")  \
	X(INFO,      "INFO")    \
	X(MESSAGE,   "MESSAGE") \
	X(SUBSCRIBE, "SUBSCRIBE") \
	X(NOTIFY,    "NOTIFY")  \
	X(REFER,     "REFER")   \
	X(PUBLISH,   "PUBLISH")

enum sip_method {
#define X(sym, text) SIP_METHOD_##sym,
	SIP_METHOD_MAP(X)
#undef X
	SIP_METHOD__COUNT
};

/*
 * Header fields the router knows by name: X(symbol, "Canonical-Name",
 * compact form or 0). Names compare case-insensitively (RFC 3261 §7.3.1);
 * compact forms per RFC 3261 §7.3.3 and the IANA SIP header registry.
 * Anything else is SIP_HDR_OTHER and kept as an opaque span.
 */
#define SIP_HDR_MAP(X)                                          \
	X(OTHER,               "",                    0)        \
	X(VIA,                 "Via",                 'v')      \
	X(FROM,                "From",                'f')      \
	X(TO,                  "To",                  't')      \
	X(CALL_ID,             "Call-ID",             'i')      \
	X(CSEQ,                "CSeq",                0)        \
	X(MAX_FORWARDS,        "Max-Forwards",        0)        \
	X(CONTACT,             "Contact",             'm')      \
	X(CONTENT_LENGTH,      "Content-Length",      'l')      \
	X(CONTENT_TYPE,        "Content-Type",        'c')      \
	X(CONTENT_ENCODING,    "Content-Encoding",    'e')      \
	X(ROUTE,               "Route",               0)        \
	X(RECORD_ROUTE,        "Record-Route",        0)        \
	X(EXPIRES,             "Expires",             0)        \
	X(MIN_EXPIRES,         "Min-Expires",         0)        \
	X(PROXY_REQUIRE,       "Proxy-Require",       0)        \
	X(REQUIRE,             "Require",             0)        \
	X(SUPPORTED,           "Supported",           'k')      \
	X(UNSUPPORTED,         "Unsupported",         0)        \
	X(SESSION_EXPIRES,     "Session-Expires",     'x')      \
	X(MIN_SE,              "Min-SE",              0)        \
	X(USER_AGENT,          "User-Agent",          0)        \
	X(SERVER,              "Server",              0)        \
	X(SUBJECT,             "Subject",             's')      \
	X(EVENT,               "Event",               'o')      \
	X(ALLOW_EVENTS,        "Allow-Events",        'u')      \
	X(REFER_TO,            "Refer-To",            'r')      \
	X(REFERRED_BY,         "Referred-By",         'b')      \
	X(ALLOW,               "Allow",               0)        \
	X(ACCEPT,              "Accept",              0)        \
	X(AUTHORIZATION,       "Authorization",       0)        \
	X(PROXY_AUTHORIZATION, "Proxy-Authorization", 0)        \
	X(WWW_AUTHENTICATE,    "WWW-Authenticate",    0)        \
	X(PROXY_AUTHENTICATE,  "Proxy-Authenticate",  0)        \
	X(RETRY_AFTER,         "Retry-After",         0)        \
	X(PATH,                "Path",                0)        \
	X(DATE,                "Date",                0)        \
	X(TIMESTAMP,           "Timestamp",           0)        \
	X(P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0)

enum sip_hdr_id {
#define X(sym, name, compact) SIP_HDR_##sym,
	SIP_HDR_MAP(X)
#undef X
	SIP_HDR__COUNT
};

/*
 * One header field. The line starts at buf + off with the name (name_len
 * bytes) and spans line_len bytes including its final CRLF and any folded
 * continuation lines. value is trimmed of LWS at both ends; folded LWS
 * inside it is kept as it was on the wire.
 */
struct sip_hdr {
	struct span      value;
	uint32_t         off;
	uint16_t         name_len;
	uint16_t         line_len;
	uint8_t          id;            /* enum sip_hdr_id */
	uint8_t          next;          /* next header with the same id, or SIP_HDR_NONE */
};

/*
 * A parsed message. Filled by sip_parse(); every span points into the
 * buffer given to it and is valid until that buffer is freed or edited.
 */
struct sip_msg {
	const char      *buf;
	uint32_t         len;           /* bytes given to sip_parse() */
	uint32_t         msg_len;       /* framed length: headers + body (<= len) */
	uint32_t         hdr_off;       /* first header line */
	uint32_t         body_off;      /* first body byte (after the empty line) */
	uint32_t         body_len;
	uint32_t         err_off;       /* where parsing stopped, on error */
	int32_t          clen;          /* Content-Length value, -1 when absent */
	uint8_t          is_request;
	uint8_t          method;        /* enum sip_method; requests only */
	uint16_t         status;        /* responses only */
	uint16_t         nhdr;
	uint16_t         nvia;          /* Via values counted during parsing */
	struct span      method_name;   /* requests: the method token */
	struct span      ruri;          /* requests: the Request-URI */
	struct span      reason;        /* responses: the Reason-Phrase */
	uint8_t          first[SIP_HDR__COUNT]; /* first header per id or SIP_HDR_NONE */
	struct sip_hdr   hdr[SIP_MAX_HDRS + SIP_SALVAGE_HDRS];
};

enum sip_scheme {
	SIP_SCHEME_OTHER = 0,
	SIP_SCHEME_SIP,
	SIP_SCHEME_SIPS,
	SIP_SCHEME_TEL,
};

enum sip_host_type {
	SIP_HOST_NONE = 0,
	SIP_HOST_NAME,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6,          /* the span keeps its [brackets] */
};

/*
 * A URI cut into parts (RFC 3261 §19.1.1, RFC 3966 for tel:). Absent parts
 * are SPAN_NULL. params starts at the first ';' (included) and runs to '?'
 * or the end; headers starts after '?'. For tel: URIs user is the number.
 * For unknown schemes only scheme and opaque are set.
 */
struct sip_uri {
	struct span      scheme;
	struct span      user;          /* still %-escaped */
	struct span      password;
	struct span      host;
	struct span      port_str;
	struct span      params;
	struct span      headers;
	struct span      opaque;        /* everything after "scheme:" */
	uint16_t         port;          /* 0 when absent */
	uint8_t          scheme_id;     /* enum sip_scheme */
	uint8_t          host_type;     /* enum sip_host_type */
};

/* One Via value (via-parm, RFC 3261 §20.42). Absent params are SPAN_NULL. */
struct sip_via {
	struct span      value;         /* the whole via-parm, trimmed */
	struct span      proto;         /* e.g. "SIP/2.0" as written (may hold LWS) */
	struct span      transport;     /* e.g. "UDP" */
	struct span      host;          /* sent-by host, [IPv6] keeps brackets */
	struct span      params;        /* from the first ';', or empty at value end */
	struct span      branch;
	struct span      received;
	struct span      rport;         /* value; empty but non-NULL for bare ;rport */
	struct span      maddr;
	struct span      ttl;
	uint16_t         port;          /* 0 when absent */
	uint8_t          host_type;     /* enum sip_host_type */
};

/*
 * A name-addr or addr-spec with header parameters (From, To, Contact,
 * Route, Record-Route, ...). display keeps its quotes. uri is the text
 * between < and >, or the bare addr-spec (which then cannot carry URI
 * parameters: they belong to the header, RFC 3261 §20).
 */
struct sip_naddr {
	struct span      display;
	struct span      uri;
	struct span      params;        /* header params from the first ';' */
	struct span      tag;           /* ;tag= value, SPAN_NULL when absent */
	uint8_t          star;          /* Contact: * */
	uint8_t          bracketed;     /* uri was inside <> */
};

struct sip_cseq {
	uint32_t         num;
	uint8_t          method;        /* enum sip_method */
	struct span      method_name;
};

/*
 * What sip_msg_check() resolves: the fields a router reads for every
 * message, each validated.
 */
struct sip_info {
	struct sip_via   via;           /* top Via value */
	struct sip_naddr from;
	struct sip_naddr to;
	struct span      call_id;
	struct sip_cseq  cseq;
	struct sip_uri   ruri;          /* requests only */
	int32_t          max_forwards;  /* -1 when absent */
	uint16_t         nvia;
	uint16_t         ncontact;
};

/* One Contact of a locally built response (3xx). */
#define SIP_Q_NONE              0xffffu
#define SIP_EXPIRES_NONE        0xffffffffu

struct sip_contact_out {
	struct span      uri;           /* written inside <> */
	uint16_t         q;             /* thousandths 0..1000, or SIP_Q_NONE */
	uint32_t         expires;       /* seconds, or SIP_EXPIRES_NONE */
};

/* What a local response adds to the copied request fields (DESIGN §3.5). */
struct sip_resp {
	uint16_t         code;
	struct span      reason;        /* SPAN_NULL: the standard phrase */
	struct span      to_tag;        /* added when the request's To has none */
	const struct sip_contact_out *contacts;
	uint16_t         ncontacts;
	struct span      unsupported;   /* Unsupported: value, or SPAN_NULL */
	uint32_t         retry_after;   /* seconds, 0: no Retry-After */
	uint32_t         min_se;        /* seconds, 0: no Min-SE */
	struct span      server;        /* Server: value, or SPAN_NULL */
	struct span      extra;         /* whole header lines with CRLFs, or SPAN_NULL */
	/*
	 * The top Via as a server transport stamps it (RFC 3261 §18.2.1,
	 * RFC 3581 §4), read from the sip_info given to sip_resp_build():
	 * ";received=<via_received>" appended to the top Via value (or the
	 * value of its received parameter replaced) unless SPAN_NULL; a
	 * bare ";rport" filled with "=<via_rport>" (a valued one's value
	 * replaced: RFC 3581 §3 wants it bare) unless 0.
	 */
	struct span      via_received;
	uint16_t         via_rport;
};

/* Edits for sip_rw_apply(): delete del bytes at off, then insert ins. */
#define SIP_EDIT_MAX            16u

struct sip_edit {
	uint32_t         off;
	uint32_t         del;
	struct span      ins;
};

struct sip_edits {
	uint16_t         n;
	uint16_t         overflow;      /* set when an edit did not fit */
	char             num[4][12];    /* scratch for numbers the edits insert */
	uint8_t          nnum;
	struct sip_edit  e[SIP_EDIT_MAX];
};

/* Iterator over comma-separated values of one header id, across lines. */
struct sip_value_iter {
	const struct sip_msg *msg;
	const char      *p;
	const char      *end;
	uint8_t          hdr;           /* index of the line being split */
	uint8_t          id;
};

#endif /* SIPEDGE_SIP_SIP_TYPES_H */
