/* SPDX-License-Identifier: MIT */
/*
 * dp_types.h - dataplane types: configuration, per-lcore state, counters,
 * the datagram descriptor handed to the SIP stage. Types only (STYLE.md
 * 2.5); prototypes live in dp.h.
 */
#ifndef SIPEDGE_DATAPLANE_DP_TYPES_H
#define SIPEDGE_DATAPLANE_DP_TYPES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip_frag.h>

#include <hash.h>
#include <rules_types.h>
#include <sip_types.h>

#include "dp_acl.h"

#define DP_BURST                32
#define DP_PREFETCH             3       /* packets ahead; change only with a perf/ result */
#define DP_TXQ_LEN              128     /* > DP_BURST: in-place replies plus fragments */
/* Fragments of one output datagram: a 16 KiB one (the largest reassembled
 * request, edited) at the smallest --mtu, 576 (552 bytes a fragment). */
#define DP_MAX_FRAGS            32
#define DP_MAX_ADDRS            8       /* --addr per family */
#define DP_MAX_ALIASES          8       /* --alias in all */
#define DP_MAX_SIP_PORTS        8
#define DP_MAX_DOMAINS          16
#define DP_MAX_WORKERS          RTE_MAX_LCORE

/* Headroom every mbuf handed to dp_udp_reply()/dp_udp_send() must have:
 * Ethernet + 802.1Q + IPv6 + UDP; an IPv4 datagram needs only
 * DP_TX_HEADROOM4 (Ethernet + 802.1Q + IPv4 + UDP). */
#define DP_TX_HEADROOM          (RTE_ETHER_HDR_LEN + 4 + 40 + 8)
#define DP_TX_HEADROOM4         (RTE_ETHER_HDR_LEN + 4 + 20 + 8)

/* Address family tags used in struct dp_ip (not the socket AF_ values). */
#define DP_AF_V4                4
#define DP_AF_V6                6

/*
 * Per-lcore counters. Values are stable names for the stats export.
 * Single writer (the owning lcore), relaxed stores, summed by dp_stats.c.
 */
#define DP_COUNTER_MAP(X)                                                       \
	X(RX,                   "packets received")                             \
	X(TX,                   "packets transmitted")                          \
	X(TX_FULL,              "dropped: tx queue full")                       \
	X(DROP,                 "freed without transmit (all reasons)")         \
	X(NOT_IP,               "dropped: not ARP, IPv4 or IPv6")               \
	X(NOT_FOR_US,           "dropped: MAC or IP address not ours")          \
	X(VLAN_MISMATCH,        "dropped: VLAN tag not the configured one")     \
	X(BAD_L2,               "dropped: truncated Ethernet/VLAN header, or a group, zero or own source MAC") \
	X(BAD_IP,               "dropped: malformed IP header, bogus source, UDP source port 0") \
	X(BAD_CKSUM,            "dropped: IP, UDP or ICMP checksum wrong")      \
	X(IP_OPTIONS,           "dropped: IPv4 options or IPv6 ext headers")    \
	X(PROTO_OTHER,          "dropped: IP protocol we do not serve")         \
	X(ARP_REQ,              "ARP requests for our address answered")        \
	X(ARP_REPLY_IN,         "ARP replies received, passed to the service")  \
	X(ARP_GRATUITOUS,       "gratuitous ARPs: their sender updates a known neighbour") \
	X(ARP_OTHER,            "dropped: ARP not for us or malformed")         \
	X(ND_NS,                "neighbour solicitations answered")             \
	X(ND_NA_IN,             "neighbour advertisements passed to the service") \
	X(ND_OTHER,             "dropped: ND not for us, malformed, hop limit") \
	X(ICMP_ECHO,            "ICMP echo requests answered")                  \
	X(ICMP6_ECHO,           "ICMPv6 echo requests answered")                \
	X(ICMP_OTHER,           "dropped: other ICMP/ICMPv6 messages")          \
	X(UDP_NOT_SIP,          "dropped: UDP to a port we do not serve")       \
	X(FRAG_IN,              "IP fragments received")                        \
	X(FRAG_REASSEMBLED,     "datagrams reassembled from fragments")         \
	X(FRAG_DROP,            "fragments (table full, expired, bad) or reassembled datagrams (too big, bad) dropped") \
	X(SIP_RX,               "UDP datagrams for a SIP port (SIP stage input)") \
	X(UDP_TX,               "UDP datagrams the SIP stage handed to output (tx_full: lost there)") \
	X(TX_FRAG,              "fragments sent for datagrams over the MTU")    \
	X(TX_FRAG_FAIL,         "dropped: fragmentation failed")                \
	X(NO_ROUTE,             "dropped: no on-link prefix or gateway")        \
	X(TX_BAD_DST,           "dropped: output to no unicast address of another host (multicast, broadcast, loopback, ours)") \
	X(NO_SRC,               "dropped: no local address of that family")     \
	X(NO_MBUF,              "dropped: mbuf pool empty")                     \
	X(NEIGH_MISS,           "outputs passed to the service for resolution") \
	X(NEIGH_RESOLVED,       "held outputs sent after resolution")           \
	X(SVC_RING_FULL,        "dropped: service ring full")             \
	X(SIP_REQ,              "SIP requests parsed (see sip_method_*)")       \
	X(SIP_ACL_REFUSED,      "requests refused by acl.allow/acl.deny")       \
	X(SIP_RATE_LIMITED,     "requests over ratelimit.rps from their source") \
	X(SIP_RESP_IN,          "SIP responses received")                       \
	X(SIP_PARSE_ERR,        "messages failing sip_parse/sip_msg_check (see sip_perr_*)") \
	X(SIP_PARSE_DROP,       "dropped: malformed and not answerable")        \
	X(SIP_RESP_DROP,        "dropped: responses (redirect mode relays none)") \
	X(SIP_ACK_ABSORBED,     "ACKs absorbed (stateless UAS)")                \
	X(SIP_CANCEL,           "CANCELs answered 200")                         \
	X(SIP_LOCAL_RESP,       "responses built and handed to output by the SIP stage (see sip_code_*)") \
	X(SIP_REDIRECT,         "requests answered with a 3xx and Contacts")    \
	X(SIP_CONTACTS_CUT,     "3xx answers whose last Contacts were left out to stay within max(1,200 bytes, the request's size)") \
	X(SIP_NO_ROUTE,         "requests matching no rule (--no-route-code)")  \
	X(SIP_REJECT,           "requests matching a reject rule")              \
	X(SIP_ALL_DOWN,         "requests whose rule has no target up (503)")   \
	X(SIP_TO_ROUTER,        "OPTIONS addressed to the router (200)")        \
	X(SIP_MAXFWD,           "requests with Max-Forwards 0 (483)")           \
	X(SIP_PROXY_REQUIRE,    "requests with Proxy-Require (420)")            \
	X(SIP_REQUIRE,          "requests to the router as UAS with Require (420)") \
	X(SIP_REGISTER_LOCAL,   "REGISTERs for a local domain (501 for now)")   \
	X(SIP_IN_DIALOG,        "in-dialog requests in redirect mode (481)")    \
	X(SIP_BAD_KEY,          "Request-URI user part unusable as a match key") \
	X(SIP_MATCH_ERR,        "rule matching failed (regex scan error)")      \
	X(SIP_NO_SNAP,          "requests routed while no generation is loaded") \
	X(SIP_PROXY,            "messages handed to the proxy stage")           \
	X(SIP_BUILD_FAIL,       "dropped: local response did not fit or no mbuf") \
	X(PROXY_FWD,            "proxy: requests forwarded (all kinds)")        \
	X(PROXY_FWD_TABLE,      "proxy: requests forwarded to a route-table target") \
	X(PROXY_FWD_ROUTE,      "proxy: requests forwarded to a Route header")  \
	X(PROXY_FWD_DIALOG,     "proxy: in-dialog requests sent to the R-URI")  \
	X(PROXY_LOOP,           "proxy: looped requests (482; an ACK dropped)") \
	X(PROXY_SPIRAL,         "proxy: spiralling requests (our Via, other routing fields)") \
	X(PROXY_PREV_HEALTH,    "proxy: CANCEL/ACK copies sent where the targets' health before its last change routes them") \
	X(PROXY_PREV_GEN,       "proxy: CANCELs and ACKs also sent where generation N-1 routes them") \
	X(PROBE_ANSWER,         "answers to our target probes (OPTIONS)")      \
	X(PROBE_STALE,          "answers to probes of another generation or 503s") \
	X(PROXY_NOT_IP,         "proxy: next hop not an IP literal (503 or drop)") \
	X(PROXY_BAD_DST,        "proxy: requests (403) and responses (dropped) whose next hop is no unicast address of another host") \
	X(PROXY_VIA_MADDR,      "proxy: requests (403) whose top Via has an maddr other than their source address") \
	X(PROXY_SIPS,           "proxy: sips: requests or next hops, no TLS here (416)") \
	X(PROXY_NO_DIALOG,      "proxy: in-dialog request addressed to us (481)") \
	X(PROXY_ALL_DOWN,       "proxy: forward rule without an up target (503)") \
	X(PROXY_EDIT_FAIL,      "proxy: edits did not fit (requests answered 500)") \
	X(PROXY_RELAY,          "proxy: responses relayed (see proxy_resp_Nxx)") \
	X(PROXY_RESP_1XX,       "proxy: 1xx responses relayed")                 \
	X(PROXY_RESP_2XX,       "proxy: 2xx responses relayed")                 \
	X(PROXY_RESP_3XX,       "proxy: 3xx responses relayed")                 \
	X(PROXY_RESP_4XX,       "proxy: 4xx responses relayed")                 \
	X(PROXY_RESP_5XX,       "proxy: 5xx responses relayed")                 \
	X(PROXY_RESP_6XX,       "proxy: 6xx responses relayed")                 \
	X(PROXY_FOREIGN_VIA,    "proxy: dropped responses whose top Via is not ours") \
	X(PROXY_RESP_NO_VIA,    "proxy: dropped responses without a Via below ours")

enum dp_counter {
#define X(sym, desc) DP_CNT_##sym,
	DP_COUNTER_MAP(X)
#undef X
	DP_CNT__COUNT
};

/* Service-thread counters: single writer (the service thread). */
#define DP_SVC_COUNTER_MAP(X)                                                   \
	X(ARP_REQ_SENT,         "ARP requests sent")                            \
	X(NS_SENT,              "neighbour solicitations sent")                 \
	X(MLD_SENT,             "MLDv2 reports sent (our solicited-node groups)") \
	X(NEIGH_LEARNED,        "neighbour entries resolved or refreshed")      \
	X(NEIGH_IGNORED,        "advertisements ignored: no MAC, no Override")\
	X(NEIGH_EXPIRED,        "neighbour entries aged out")                   \
	X(NEIGH_FULL,           "resolutions refused: table full")              \
	X(NEIGH_RATE,           "resolutions refused: more new next hops a second than DP_NEIGH_NEW_PER_S") \
	X(NEIGH_EVICTED,        "unresolved entries evicted for a new next hop") \
	X(HELD,                 "outputs held waiting for resolution")          \
	X(HELD_RELEASED,        "held outputs released after resolution")       \
	X(HELD_DROP,            "outputs not held or held ones dropped: queue or hold cap full, evicted, timeout") \
	X(INJECT_FULL,          "dropped: worker inject ring full")             \
	X(NO_MBUF,              "dropped: mbuf pool empty")

enum dp_svc_counter {
#define X(sym, desc) DP_SVC_##sym,
	DP_SVC_COUNTER_MAP(X)
#undef X
	DP_SVC__COUNT
};

/* Local responses are counted per code from DP_CODE_MIN to DP_CODE_MAX. */
#define DP_CODE_MIN             100
#define DP_CODE_MAX             699
#define DP_NCODES               (DP_CODE_MAX - DP_CODE_MIN + 1)

/* What the worker decided for one received packet (STYLE.md H6). */
enum dp_verdict {
	DP_V_DROP = 0,          /* counted already; freed in bulk */
	DP_V_ARP_REPLY,         /* answer an ARP request in place */
	DP_V_ND_NA,             /* answer a neighbour solicitation in place */
	DP_V_ECHO4,             /* answer an ICMP echo request in place */
	DP_V_ECHO6,             /* answer an ICMPv6 echo request in place */
	DP_V_PUNT,              /* ARP reply / NA: learned by the service */
	DP_V_FRAG4,             /* IPv4 UDP fragment for reassembly */
	DP_V_FRAG6,             /* IPv6 UDP fragment for reassembly */
	DP_V_SIP,               /* UDP datagram for a SIP port */
};

/* What the SIP stage decided for one datagram (dp_sip.c, pass 1). */
enum dp_sip_verdict {
	DP_SV_DROP = 0,         /* counted already; freed in bulk */
	DP_SV_ANSWER,           /* local response with dp_sip_pkt.code */
	DP_SV_ROUTE,            /* look the Request-URI up (rules_match_burst) */
	DP_SV_REDIRECT,         /* 3xx with the rule's targets (dp_redirect.c) */
	DP_SV_PROXY,            /* the proxy stage (dp_proxy.c) */
};

/* An IPv4 or IPv6 address; v4 is in network byte order. */
struct dp_ip {
	uint8_t          family;        /* DP_AF_V4 or DP_AF_V6 */
	uint8_t          pad[3];
	union {
		rte_be32_t       v4;
		uint8_t          v6[16];
	};
};

/* One --addr: an address and its on-link prefix length. */
struct dp_prefix {
	struct dp_ip     ip;
	uint8_t          len;
};

enum dp_mode {
	DP_MODE_REDIRECT = 0,
	DP_MODE_PROXY,
};

/*
 * Options, filled by dp_opts_parse() before any lcore starts and read-only
 * afterwards: workers and the service thread read it without locks.
 */
struct dp_conf {
	struct dp_prefix addr4[DP_MAX_ADDRS];
	struct dp_prefix addr6[DP_MAX_ADDRS];
	uint8_t          naddr4;
	uint8_t          naddr6;
	bool             has_gw4;
	bool             has_gw6;
	struct dp_ip     gw4;
	struct dp_ip     gw6;
	uint16_t         sip_port[DP_MAX_SIP_PORTS];    /* host order */
	uint8_t          nsip_port;
	uint8_t          mode;                          /* enum dp_mode */
	bool             record_route;                  /* proxy: add Record-Route */
	uint16_t         redirect_code;                 /* default 302 */
	uint16_t         no_route_code;                 /* default 404 */
	uint16_t         mtu;                           /* IP MTU, default 1500 */
	uint16_t         vlan;                          /* VLAN ID, 0: untagged */
	uint32_t         mbufs;                         /* direct mbufs per socket */
	uint16_t         port_id;                       /* DPDK port, default 0 */
	struct dp_ip     alias[DP_MAX_ALIASES];         /* names us, not on the port */
	uint8_t          nalias;
	const char      *domain[DP_MAX_DOMAINS];        /* points into argv */
	uint8_t          ndomain;
	uint8_t          domain_len[DP_MAX_DOMAINS];    /* strlen of each, at parse time */
	const char      *control_path;                  /* points into argv */
	const char      *data_dir;                      /* points into argv; NULL: none */
	uint32_t         redirect_expires;              /* ;expires= on Contacts, 0: none */
	uint32_t         retry_after;                   /* 503 Retry-After seconds */
	uint8_t          dscp;                          /* DSCP of what we send */
	uint32_t         probe_interval_ms;             /* target OPTIONS probes, 0: off */
	uint8_t          probe_down;                    /* unanswered probes -> down */
};

/* Is host name @p h one of --domain's (no case; a final '.' allowed)? */
static inline bool
dp_conf_domain_is_ours(const struct dp_conf *c, struct span h)
{
	uint8_t i;

	if (h.len > 1 && h.ptr[h.len - 1] == '.')
		h.len--;
	for (i = 0; i < c->ndomain; i++) {
		if (span_eq_nocase2(h, span_make(c->domain[i],
						 c->domain_len[i])))
			return true;
	}
	return false;
}

/*
 * An immutable rule generation as workers see it (DESIGN §4.3). Built and
 * freed by the loader (dp_snap.c) only; published through dp_snap_current
 * with rcu_assign_pointer(). Its routing state is never written after
 * publication; what is: the per-lcore counter slices in @hits and the
 * probe answers in @probe_ans (each slice by its own worker), and the
 * health the loader keeps (@up_bits word by word, @probe_sent,
 * @probe_miss, @nunhealthy) and @carry, which only the loader reads.
 */
struct dp_snap {
	uint64_t         generation;    /* 0: nothing committed yet */
	struct rules_db *db;            /* NULL when generation is 0 */
	struct rules_scratch **scratch; /* [nworkers]; entries NULL without regex */
	const uint64_t  *up;            /* target-state bitmap; NULL: all up */
	uint64_t        *up_bits;       /* what up points to, owned; NULL: all up.
					 * With probing, written word by word by
					 * the loader (dp_probe.c) */
	uint32_t         ndown;         /* targets marked down (targets.down) */
	/* Health probing (dp_probe.c), NULL/0 when off. */
	uint64_t        *admin_bits;    /* targets.down alone; NULL: all up */
	uint64_t        *up_prev_bits;  /* up_bits before their last change
					 * by probes (loader writes), and */
	uint64_t         up_change_tsc; /* when (TSC, atomic; 0: never) */
	uint32_t        *probe_ans;     /* [nworkers][pstride]: round of the last
					 * answer, each slice by its own worker */
	uint32_t        *probe_sent;    /* [ntargets]: round last probed (loader) */
	uint8_t         *probe_miss;    /* [ntargets]: unanswered in a row (loader) */
	uint32_t         probe_sent_gen; /* generation the round in flight was
					 * numbered by (atomic; loader writes) */
	uint32_t        *probe_remap;   /* [probe_remap_n]: that generation's
					 * target number -> ours, UINT32_MAX: none;
					 * NULL when the round is our own */
	uint32_t         probe_remap_n;
	uint32_t         pstride;
	uint32_t         nunhealthy;    /* targets down for want of answers */
	uint64_t        *hits;          /* [nworkers][stride]: rule hits then target picks */
	uint64_t        *carry;         /* [nrules + ntargets] or NULL: counts of earlier
					 * snapshots, by rule id and target (loader only) */
	uint32_t         stride;        /* counters per worker, cache-line multiple */
	uint32_t         nrules;
	uint32_t         ntargets;
	uint16_t         nworkers;
	uint64_t         tag_key[2];    /* SipHash key of To-tags (the installation secret) */
	uint64_t         probe_key[2];  /* SipHash key of probe branches: random,
					 * the same for every snapshot of a process */
	uint64_t         flow_key[2];   /* SipHash key of Call-ID flow hashes */
	struct dp_chost *chost;         /* [ntargets]: Contact text of each */
	struct dp_acl    acl;           /* source policy (settings acl.*, ratelimit.*) */
	uint64_t         set_digest;    /* of the settings it was built from
					 * (acl.*, ratelimit.*, targets.down) */
	void            *image;         /* the rules image, owned (copied out of LMDB) */
	size_t           image_len;
	uint64_t         loaded_us;     /* wall clock when built */
};

/* The loader thread (dp_snap.c). */
#define DP_SNAP_KEEP_US         32000000ull     /* N-1 kept 64*T1 (DESIGN 4.3) */
#define DP_SNAP_POLL_US         1000000ull      /* LMDB checked without events */
#define DP_SNAP_RETRY_US        60000000ull     /* a generation whose load
						 * failed for want of memory
						 * is read again after */
#define DP_STATS_REPORT_US      1000000ull      /* stats pushed to the control */
#define DP_STATS_BACKOFF_US     10000000ull     /* ... after one not taken */
#define DP_CTL_BACKOFF_MAX_MS   5000u           /* reconnect backoff cap */
#define DP_CTL_FRAME_MAX        (4u << 20)      /* PROTOCOL.md 1 */
#define DP_CTL_REPLY_MAX        (1u << 20)      /* one-shot replies we read */
#define DP_SECRET_SETTING       "dataplane.secret"

struct dp_service;

/*
 * The loader: owns every snapshot (current, and N-1 for DP_SNAP_KEEP_US),
 * the read-only LMDB environment and the control connection. Its counters
 * have a single writer (the loader thread) and are read with relaxed
 * loads by the stats report.
 */
struct dp_loader {
	const struct dp_conf *conf;
	const struct dp_lcore *lcs;     /* workers, for the stats report */
	const struct dp_service *svc;
	uint16_t         nworkers;
	bool             running;
	int              stop;
	pthread_t        thread;
	void            *env;           /* MDB_env, read-only */
	uint64_t         env_dev;       /* data.mdb it has open (st_dev, */
	uint64_t         env_ino;       /* st_ino): replaced, it is reopened */
	bool             env_new;       /* reopened so: load in full once */
	uint64_t         bad_gen;       /* generation whose rules did not load */
	int              bad_rc;        /* ... and why (-errno) */
	uint64_t         bad_until_us;  /* ... read again after (0: never) */
	bool             art_damaged;   /* last read: the image failed its check */
	struct dp_snap  *cur;           /* what dp_snap_current points to */
	struct dp_snap  *prev;          /* generation N-1, kept alive */
	uint64_t         prev_until_us;
	uint8_t          secret[16];
	int              fd;            /* subscribe connection, -1 if none */
	uint32_t         backoff_ms;
	int              conn_err;              /* last logged connect errno */
	uint64_t         next_connect_us;
	uint64_t         want_gen;      /* newest generation announced */
	uint64_t         generation;    /* loaded */
	uint64_t         swaps;
	uint64_t         cnt_fail;      /* loads that failed */
	uint64_t         cnt_bad;       /* artefacts failing the CRC32C/header */
	uint64_t         cnt_connects;
	uint64_t         cnt_reports;
	int              last_rc;       /* last load failure, logged once */
	char             acl_err[160];  /* last policy error, logged once */
	char             down_err[160]; /* last targets.down error, likewise */
	uint32_t         probe_round;   /* last probing round sent, 0: none */
	uint64_t         next_probe_us;
	uint64_t         cnt_probes;    /* probes handed to the service */
	uint64_t         cnt_probe_fail; /* probes not sent: no mbuf, ring full */
	size_t           rlen;
	char             rbuf[65536];
};

/* Per-packet state of the SIP stage between its two passes (dp_sip.c). */
struct dp_sip_pkt {
	struct sip_msg   msg;
	struct sip_info  info;
	uint32_t         rule;          /* winning rule, or RULES_NO_RULE */
	uint16_t         code;          /* local answer */
	uint8_t          verdict;       /* enum dp_sip_verdict */
	uint8_t          info_ok;       /* info is valid (sip_msg_check passed) */
	uint8_t          key_idx;       /* index in dp_sip_lcore.keys */
	uint8_t          flow_ok;       /* flow is set */
	uint8_t          rl_exempt;     /* an ACK/CANCEL the rate let by
					 * (dp_sip_source()) */
	uint8_t          pad[1];
	uint64_t         flow;          /* dp_sip_flow_hash(), once computed */
	struct span      unsupported;   /* 420: Unsupported value */
};

/*
 * A target's part of a redirect's Contact line, formatted once per
 * snapshot (dp_snap_build): "host:port>;q=", an IPv6 host in brackets.
 * The redirect copies the whole entry and advances by len.
 */
struct dp_chost {
	char             txt[63];
	uint8_t          len;
};

/*
 * One Contact line of a redirect: "Contact: <sip:" user "@" host entry
 * (";user=phone" in it for a number), q-value, ";expires=N" and CRLF, the
 * user escaped; and the slack the
 * fixed-size copies of dp_redirect_answer() write past a line's end.
 */
#define DP_CONTACT_LINE_MAX     (14 + 3 * RULES_USER_OUT_MAX + 1 + 63 + \
				 11 + 5 + 21)
#define DP_CONTACT_SLACK        64
#define DP_UNSUP_MAX            256

/* Header lines of the router's 200 to OPTIONS for itself (dp_sip_answer). */
#define DP_OPTIONS_ALLOW        "Allow: INVITE, ACK, CANCEL, OPTIONS\r\n"
#define DP_OPTIONS_ACCEPT       "Accept: application/sdp\r\n" \
				"Accept-Language: en\r\n"

/*
 * Per-lcore state of the SIP stage (lc->sip), allocated by
 * dp_sip_lcore_init() before the lcore starts and only touched by it.
 */
struct dp_sip_lcore {
	struct dp_sip_pkt pkt[DP_BURST];
	struct rules_key keys[DP_BURST];
	uint32_t         rules[DP_BURST];
	struct rules_dest dests[RULES_TARGETS_MAX];
	char             user[RULES_USER_OUT_MAX];
	char             user_esc[3 * RULES_USER_OUT_MAX + 1 + DP_CONTACT_SLACK];
	char             clines[RULES_TARGETS_MAX * DP_CONTACT_LINE_MAX +
				DP_CONTACT_SLACK];
	char             ctail[32];     /* ";expires=N" CRLF after each q */
	uint32_t         ctail_len;     /* 0: not yet built */
	uint32_t         ctail_exp;     /* the redirect_expires it was built for */
	char             unsup[DP_BURST][DP_UNSUP_MAX];
	uint64_t         snap_gen;      /* generation of the last burst's snapshot */
	const struct dp_snap *prev;     /* dp_snap_prev for the burst; NULL
					 * outside proxy mode */
	uint64_t         now_tsc;       /* TSC at the start of the burst */
	struct hash_key  proxy_key;     /* branch and loop-part key for the
					 * burst's snapshot (proxy mode) */
	struct hash_key  proxy_key_prev; /* the one before it, until */
	uint64_t         proxy_key_until; /* this TSC (0: none) */
	struct dp_rl     rl;            /* per-source rate limiter (dp_acl.h) */
};

/*
 * The port as workers and the service see it, fixed after dp_port_init().
 */
struct dp_iface {
	const struct dp_conf *conf;
	struct rte_ether_addr mac;
	uint16_t         port;
	uint16_t         nb_queues;
	uint64_t         tx_offloads;   /* RTE_ETH_TX_OFFLOAD_* enabled */
	uint64_t         rx_offloads;   /* RTE_ETH_RX_OFFLOAD_* enabled */
	struct rte_mempool *pool;       /* direct mbufs, DP_TX_HEADROOM+ */
	struct rte_mempool *indirect;   /* indirect mbufs for fragmentation */
	struct rte_mempool *jumbo;      /* large direct mbufs: reassembly */
	struct rte_mempool *probe;      /* the loader's probes (DP_PROBE_POOL):
					 * it alone allocates from it */
};

/*
 * Per-mbuf private area (every pool we create reserves it). Carries an
 * output waiting for neighbour resolution through the rings between a
 * worker and the service thread.
 */
enum dp_priv_kind {
	DP_PRIV_NONE = 0,
	DP_PRIV_L3,             /* IP packet without L2 header: route it */
	DP_PRIV_FRAME,          /* complete frame: transmit it */
	DP_PRIV_LEARN,          /* received ARP reply / NA: learn from it */
};

struct dp_mbuf_priv {
	struct dp_ip     nexthop;       /* DP_PRIV_L3 */
	uint16_t         worker;        /* index of the worker to return to */
	uint8_t          kind;          /* enum dp_priv_kind */
	uint8_t          pad;
};

/*
 * Description of one received UDP datagram for a SIP port, handed to
 * dp_sip_burst() alongside its mbuf. The mbuf is a single segment (a
 * reassembled datagram is copied into one), VLAN tag stripped.
 */
struct dp_udp_meta {
	struct dp_ip     src;           /* the remote party */
	struct dp_ip     dst;           /* our address it was sent to */
	uint16_t         sport;         /* host order */
	uint16_t         dport;         /* host order; one of conf->sip_port */
	uint16_t         vlan;          /* VLAN ID it arrived on, 0 untagged */
	uint16_t         payload_off;   /* UDP payload, from rte_pktmbuf_mtod() */
	uint16_t         payload_len;   /* bytes of UDP payload */
	uint8_t          reassembled;   /* 1 if it arrived in fragments */
	uint8_t          pad;
	struct rte_ether_addr src_mac;  /* L2 source: the next hop back */
};

/* Transmit buffer of one worker; flushed at the end of every iteration. */
struct dp_txq {
	uint16_t         n;
	struct rte_mbuf *pkts[DP_TXQ_LEN];
};

/*
 * Neighbour table (ARP and ND), open addressing with DP_NEIGH_PROBE slots
 * per key. Written by the service thread only; workers read the public
 * half under a sequence count and never wait (dp_tx.c).
 */
#define DP_NEIGH_PROBE          8
#define DP_NEIGH_HOLD           4       /* outputs held per unresolved entry */

enum dp_neigh_state {
	DP_NEIGH_FREE = 0,
	DP_NEIGH_INCOMPLETE,
	DP_NEIGH_REACHABLE,
};

struct dp_neigh_entry {
	uint32_t         seq;           /* odd while the service writes */
	uint8_t          state;         /* enum dp_neigh_state */
	uint8_t          family;        /* DP_AF_V4 or DP_AF_V6 */
	struct rte_ether_addr mac;
	uint8_t          ip[16];        /* IPv4 in the first 4 bytes */
	uint8_t          pad[4];
};

/* Service-private half of an entry: never read by workers. */
struct dp_neigh_svc {
	uint64_t         seen_tsc;      /* last confirmation */
	uint64_t         req_tsc;       /* last request sent */
	uint8_t          tries;
	uint8_t          nheld;
	struct rte_mbuf *held[DP_NEIGH_HOLD];
};

struct dp_neigh_tbl {
	uint32_t         mask;          /* size - 1, size a power of two */
	struct dp_neigh_entry *e;       /* shared with workers */
	struct dp_neigh_svc *s;         /* service only */
};

/*
 * One per worker lcore. Written by its lcore only (counters with relaxed
 * stores); read by dp_stats.c. Set up by dp_lcore_init() before launch.
 * The SIP stage may hang its own per-lcore state (parser scratch, matcher
 * scratch) on @sip before launch; nothing here touches it.
 */
struct __rte_cache_aligned dp_lcore {
	const struct dp_iface *ifc;
	const struct dp_conf *conf;
	const struct dp_neigh_tbl *neigh;       /* written by the service */
	struct rte_ring *svc_ring;              /* to the service (MP/SC) */
	struct rte_ring *inject;                /* from the service (SP/SC) */
	struct rte_ip_frag_tbl *frag_tbl;
	uint16_t         port;
	uint16_t         queue;
	uint16_t         idx;                   /* worker index */
	uint16_t         ip4_seq;               /* next datagram, see dp_ip4_id() */
	uint64_t         frag_gc_tsc;           /* next expiry sweep */
	uint64_t         frag_gc_period;        /* TSC ticks between sweeps */
	void            *sip;                   /* the SIP stage's per-lcore state */
	struct dp_txq    txq;
	uint64_t         cnt[DP_CNT__COUNT];
	/* SIP stage counters, single writer as cnt[]: requests by method,
	 * parse/check verdicts, local responses by code (index code - 100). */
	uint64_t         sip_method[SIP_METHOD__COUNT];
	uint64_t         sip_perr[SIP_PERR__COUNT];
	uint64_t         sip_code[DP_NCODES];
	struct rte_ip_frag_death_row dr;
	uint8_t          ip4_rk[4];             /* dp_ip4_id() round keys */
	uint8_t          ip4_sbox[256];         /* dp_ip4_id() round function */
};

/*
 * The IPv4 Identification of datagram @p seq of @p lc: a four-round
 * Feistel network over the two bytes of @p seq, keyed per worker at
 * random (dp_lcore_init()). A bijection, so a worker repeats no ID within
 * 65,536 datagrams (RFC 6864 §4.1 asks unique IDs of datagrams that may be
 * fragmented, and DF is clear on ours); keyed, so an observer cannot
 * count our datagrams from the IDs it sees, nor predict the next ID (RFC
 * 7739 §5) without the worker's key.
 */
static inline uint16_t
dp_ip4_id(const struct dp_lcore *lc, uint16_t seq)
{
	uint8_t l = (uint8_t)(seq >> 8), r = (uint8_t)seq, t;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		t = r;
		r = (uint8_t)(l ^ lc->ip4_sbox[(uint8_t)(r ^ lc->ip4_rk[i])]);
		l = t;
	}
	return (uint16_t)(l << 8 | r);
}

/*
 * The service thread: resolution requests from workers, ARP/ND requests,
 * neighbour ageing. Owned by main.c (or a test); one per process.
 */
struct dp_service {
	const struct dp_iface *ifc;
	struct dp_neigh_tbl *neigh;
	struct rte_ring *ring;          /* workers -> service, MP/SC */
	struct rte_ring *probe_ring;    /* loader -> service, SP/SC */
	struct dp_lcore *workers;       /* array of nb_workers */
	uint16_t         nb_workers;
	uint64_t         hz;            /* TSC ticks per second */
	uint64_t         next_age_tsc;
	uint32_t         nheld;         /* outputs held, all entries */
	uint32_t         held_max;      /* ... at most (an 8th of the pool) */
	uint32_t         new_left;      /* new unresolved entries this second */
	uint64_t         new_tsc;       /* start of that second */
	uint64_t         next_mld_tsc;  /* next MLD report (dp_service_run) */
	uint32_t         nmld;          /* reports sent so far */
	uint64_t         cnt[DP_SVC__COUNT];
};

/* Single writer, so a relaxed store of old + n is race-free and lock-free. */
static inline void
dp_cnt_add(struct dp_lcore *lc, enum dp_counter c, uint64_t n)
{
	__atomic_store_n(&lc->cnt[c], lc->cnt[c] + n, __ATOMIC_RELAXED);
}

/* The same for the SIP stage's arrays. */
static inline void
dp_cnt_inc(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

#endif /* SIPEDGE_DATAPLANE_DP_TYPES_H */
