/* SPDX-License-Identifier: MIT */
/*
 * dp_opts.c - application options (after the EAL's "--"): addresses,
 * gateways, SIP ports, mode and the settings the SIP stage reads.
 *
 * SLOW PATH: main thread, start-up only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rules.h>

#include "dp.h"

#define DP_DEFAULT_MBUFS        8191

enum {
	DP_OPT_ADDR = 256,
	DP_OPT_GATEWAY,
	DP_OPT_SIP_PORT,
	DP_OPT_MODE,
	DP_OPT_DOMAIN,
	DP_OPT_REDIRECT_CODE,
	DP_OPT_NO_ROUTE_CODE,
	DP_OPT_CONTROL,
	DP_OPT_MBUFS,
	DP_OPT_MTU,
	DP_OPT_VLAN,
	DP_OPT_PORT,
	DP_OPT_DATA_DIR,
	DP_OPT_REDIRECT_EXPIRES,
	DP_OPT_RETRY_AFTER,
	DP_OPT_RECORD_ROUTE,
	DP_OPT_PROBE_INTERVAL,
	DP_OPT_PROBE_DOWN,
	DP_OPT_DSCP,
	DP_OPT_ALIAS,
};

static const struct option dp_longopts[] = {
	{ "addr",          required_argument, NULL, DP_OPT_ADDR },
	{ "gateway",       required_argument, NULL, DP_OPT_GATEWAY },
	{ "sip-port",      required_argument, NULL, DP_OPT_SIP_PORT },
	{ "mode",          required_argument, NULL, DP_OPT_MODE },
	{ "domain",        required_argument, NULL, DP_OPT_DOMAIN },
	{ "redirect-code", required_argument, NULL, DP_OPT_REDIRECT_CODE },
	{ "no-route-code", required_argument, NULL, DP_OPT_NO_ROUTE_CODE },
	{ "control",       required_argument, NULL, DP_OPT_CONTROL },
	{ "mbufs",         required_argument, NULL, DP_OPT_MBUFS },
	{ "mtu",           required_argument, NULL, DP_OPT_MTU },
	{ "vlan",          required_argument, NULL, DP_OPT_VLAN },
	{ "port",          required_argument, NULL, DP_OPT_PORT },
	{ "data-dir",      required_argument, NULL, DP_OPT_DATA_DIR },
	{ "redirect-expires", required_argument, NULL, DP_OPT_REDIRECT_EXPIRES },
	{ "retry-after",   required_argument, NULL, DP_OPT_RETRY_AFTER },
	{ "record-route",  no_argument,       NULL, DP_OPT_RECORD_ROUTE },
	{ "probe-interval", required_argument, NULL, DP_OPT_PROBE_INTERVAL },
	{ "probe-down",    required_argument, NULL, DP_OPT_PROBE_DOWN },
	{ "dscp",          required_argument, NULL, DP_OPT_DSCP },
	{ "alias",         required_argument, NULL, DP_OPT_ALIAS },
	{ "help",          no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void
dp_opts_usage(FILE *f, const char *prog)
{
	fprintf(f,
"usage: %s [EAL options] -- [options]\n"
"\n"
"  --addr IP/PREFIX       local address and on-link prefix (IPv4 or IPv6;\n"
"                         repeatable, up to %d per family)\n"
"  --gateway IP           default gateway (one IPv4 and/or one IPv6)\n"
"  --sip-port N           UDP port to serve SIP on (repeatable, up to %d;\n"
"                         default 5060)\n"
"  --mode redirect|proxy  answer with redirects or forward statelessly\n"
"                         (default redirect)\n"
"  --domain NAME          a local domain (repeatable, up to %d)\n"
"  --alias IP             an address that names the router in URIs but is\n"
"                         not on the port: a NAT's public address, a load\n"
"                         balancer's VIP (IPv4 or IPv6; repeatable, up to\n"
"                         %d)\n"
"  --redirect-code N      3xx code of redirect answers (default 302)\n"
"  --redirect-expires N   add ;expires=N to redirect Contacts (seconds;\n"
"                         default 0: none)\n"
"  --retry-after N        Retry-After of 503 when every target of the\n"
"                         matching rule is down (1..86400, default 30)\n"
"  --record-route         proxy mode: add Record-Route: <sip:US;lr> to\n"
"                         forwarded requests, so in-dialog requests come\n"
"                         back through the router (default off)\n"
"  --probe-interval MS    send every target of the rules an OPTIONS every\n"
"                         MS milliseconds (100..3600000; default 0: no\n"
"                         probes, every target counts as up)\n"
"  --probe-down N         a target that answered none of its last N\n"
"                         probes is down until it answers (1..100,\n"
"                         default 3); a 503 is no answer\n"
"  --no-route-code N      code when no route matches, 4xx-6xx (usually\n"
"                         404, 480 or 604; default 404); not one whose\n"
"                         response needs a header (401, 405, 407, 420-423,\n"
"                         494)\n"
"  --control PATH         control socket of sipedge-control\n"
"                         (default /run/sipedge/control.sock): generation\n"
"                         events in, stats reports out; reconnects\n"
"  --data-dir DIR         LMDB environment of sipedge-control, opened\n"
"                         read-only; without it no rules are loaded and\n"
"                         every routable request gets --no-route-code\n"
"  --mbufs N              packet buffers per NUMA socket (default %d)\n"
"  --dscp N               DSCP of every SIP datagram the router sends\n"
"                         (answers, forwards, relayed responses, probes;\n"
"                         0..63, default 0; 24 is CS3, 26 AF31, 46 EF)\n"
"  --mtu N                IP MTU of the port; larger outputs are\n"
"                         fragmented (576..9000, default 1500; at least\n"
"                         1280 with an IPv6 --addr)\n"
"  --vlan ID              accept and send 802.1Q frames of this VLAN only\n"
"                         (1..4094; default: untagged only)\n"
"  --port N               DPDK port to use (default 0)\n"
"  -h, --help             this text\n",
		prog, DP_MAX_ADDRS, DP_MAX_SIP_PORTS, DP_MAX_DOMAINS,
		DP_MAX_ALIASES, DP_DEFAULT_MBUFS);
}

void
dp_conf_defaults(struct dp_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->sip_port[0] = 5060;
	conf->nsip_port = 1;
	conf->mode = DP_MODE_REDIRECT;
	conf->redirect_code = 302;
	conf->no_route_code = 404;
	conf->mtu = 1500;
	conf->mbufs = DP_DEFAULT_MBUFS;
	conf->control_path = "/run/sipedge/control.sock";
	conf->retry_after = 30;
	conf->probe_down = 3;
}

static int
dp_ip_parse(const char *s, struct dp_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->v4) == 1) {
		ip->family = DP_AF_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->v6) == 1) {
		ip->family = DP_AF_V6;
		return 0;
	}
	return -EINVAL;
}

static int
dp_num_parse(const char *s, unsigned long lo, unsigned long hi,
	     unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int
dp_prefix_parse(const char *s, struct dp_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned long len;
	size_t n;

	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (dp_ip_parse(buf, &out->ip) != 0)
		return -EINVAL;
	if (slash == NULL) {
		out->len = out->ip.family == DP_AF_V4 ? 32 : 128;
		return 0;
	}
	if (dp_num_parse(slash + 1, 0, out->ip.family == DP_AF_V4 ? 32 : 128,
			 &len) != 0)
		return -EINVAL;
	out->len = (uint8_t)len;
	return 0;
}

static int
dp_opt_addr(struct dp_conf *conf, const char *arg)
{
	struct dp_prefix p;

	if (dp_prefix_parse(arg, &p) != 0)
		return -EINVAL;
	if (p.ip.family == DP_AF_V4) {
		if (conf->naddr4 == DP_MAX_ADDRS)
			return -ENOSPC;
		conf->addr4[conf->naddr4++] = p;
	} else {
		if (conf->naddr6 == DP_MAX_ADDRS)
			return -ENOSPC;
		conf->addr6[conf->naddr6++] = p;
	}
	return 0;
}

static int
dp_opt_gateway(struct dp_conf *conf, const char *arg)
{
	struct dp_ip ip;

	if (dp_ip_parse(arg, &ip) != 0)
		return -EINVAL;
	if (ip.family == DP_AF_V4) {
		conf->gw4 = ip;
		conf->has_gw4 = true;
	} else {
		conf->gw6 = ip;
		conf->has_gw6 = true;
	}
	return 0;
}

static int
dp_opt_one(struct dp_conf *conf, int c, const char *arg, bool *port_given)
{
	unsigned long v;

	switch (c) {
	case DP_OPT_ADDR:
		return dp_opt_addr(conf, arg);
	case DP_OPT_GATEWAY:
		return dp_opt_gateway(conf, arg);
	case DP_OPT_SIP_PORT:
		if (dp_num_parse(arg, 1, 65535, &v) != 0)
			return -EINVAL;
		if (!*port_given) {
			conf->nsip_port = 0;
			*port_given = true;
		}
		if (conf->nsip_port == DP_MAX_SIP_PORTS)
			return -ENOSPC;
		conf->sip_port[conf->nsip_port++] = (uint16_t)v;
		return 0;
	case DP_OPT_MODE:
		if (strcmp(arg, "redirect") == 0)
			conf->mode = DP_MODE_REDIRECT;
		else if (strcmp(arg, "proxy") == 0)
			conf->mode = DP_MODE_PROXY;
		else
			return -EINVAL;
		return 0;
	case DP_OPT_DOMAIN:
		if (conf->ndomain == DP_MAX_DOMAINS)
			return -ENOSPC;
		if (arg[0] == '\0' || strlen(arg) > 255)
			return -EINVAL;
		conf->domain_len[conf->ndomain] = (uint8_t)strlen(arg);
		conf->domain[conf->ndomain++] = arg;
		return 0;
	case DP_OPT_ALIAS:
		if (conf->nalias == DP_MAX_ALIASES)
			return -ENOSPC;
		if (dp_ip_parse(arg, &conf->alias[conf->nalias]) != 0)
			return -EINVAL;
		conf->nalias++;
		return 0;
	case DP_OPT_REDIRECT_CODE:
		if (dp_num_parse(arg, 300, 399, &v) != 0)
			return -EINVAL;
		conf->redirect_code = (uint16_t)v;
		return 0;
	case DP_OPT_NO_ROUTE_CODE:
		/* Not a code whose response needs a header we do not add. */
		if (dp_num_parse(arg, 400, 699, &v) != 0 ||
		    rules_code_needs_header((unsigned int)v) != NULL)
			return -EINVAL;
		conf->no_route_code = (uint16_t)v;
		return 0;
	case DP_OPT_CONTROL:
		/* a path connect(2) can take (sun_path, 108 bytes) */
		if (arg[0] == '\0' || strlen(arg) >= DP_CTL_PATH_MAX)
			return -EINVAL;
		conf->control_path = arg;
		return 0;
	case DP_OPT_MBUFS:
		if (dp_num_parse(arg, 1024, UINT32_MAX, &v) != 0)
			return -EINVAL;
		conf->mbufs = (uint32_t)v;
		return 0;
	case DP_OPT_MTU:
		if (dp_num_parse(arg, 576, 9000, &v) != 0)
			return -EINVAL;
		conf->mtu = (uint16_t)v;
		return 0;
	case DP_OPT_VLAN:
		if (dp_num_parse(arg, 1, 4094, &v) != 0)
			return -EINVAL;
		conf->vlan = (uint16_t)v;
		return 0;
	case DP_OPT_PORT:
		if (dp_num_parse(arg, 0, RTE_MAX_ETHPORTS - 1, &v) != 0)
			return -EINVAL;
		conf->port_id = (uint16_t)v;
		return 0;
	case DP_OPT_DATA_DIR:
		if (arg[0] == '\0')
			return -EINVAL;
		conf->data_dir = arg;
		return 0;
	case DP_OPT_REDIRECT_EXPIRES:
		if (dp_num_parse(arg, 0, UINT32_MAX - 1, &v) != 0)
			return -EINVAL;
		conf->redirect_expires = (uint32_t)v;
		return 0;
	case DP_OPT_RETRY_AFTER:
		if (dp_num_parse(arg, 1, 86400, &v) != 0)
			return -EINVAL;
		conf->retry_after = (uint32_t)v;
		return 0;
	case DP_OPT_RECORD_ROUTE:
		conf->record_route = true;
		return 0;
	case DP_OPT_DSCP:
		if (dp_num_parse(arg, 0, 63, &v) != 0)
			return -EINVAL;
		conf->dscp = (uint8_t)v;
		return 0;
	case DP_OPT_PROBE_INTERVAL:
		if (dp_num_parse(arg, 0, 3600000, &v) != 0 ||
		    (v != 0 && v < 100))
			return -EINVAL;
		conf->probe_interval_ms = (uint32_t)v;
		return 0;
	case DP_OPT_PROBE_DOWN:
		if (dp_num_parse(arg, 1, 100, &v) != 0)
			return -EINVAL;
		conf->probe_down = (uint8_t)v;
		return 0;
	default:
		return -EINVAL;
	}
}

int
dp_opts_parse(struct dp_conf *conf, int argc, char **argv)
{
	bool port_given = false;
	int c, rc, li = 0;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "h", dp_longopts, &li)) != -1) {
		if (c == 'h') {
			dp_opts_usage(stdout, argv[0]);
			return 1;
		}
		if (c == '?') {
			dp_opts_usage(stderr, argv[0]);
			return -EINVAL;
		}
		rc = dp_opt_one(conf, c, optarg, &port_given);
		if (rc != 0) {
			fprintf(stderr, "%s: --%s %s: %s\n", argv[0],
				dp_longopts[li].name, optarg,
				rc == -ENOSPC ? "too many" : "invalid value");
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0],
			argv[optind]);
		return -EINVAL;
	}
	if (conf->naddr4 + conf->naddr6 == 0) {
		fprintf(stderr, "%s: at least one --addr is required\n",
			argv[0]);
		return -EINVAL;
	}
	if (conf->naddr6 != 0 && conf->mtu < 1280) {
		fprintf(stderr, "%s: --mtu %u is below IPv6's minimum link MTU "
			"of 1280 (RFC 8200 section 5); IPv6 outputs could not be "
			"fragmented for it\n", argv[0], conf->mtu);
		return -EINVAL;
	}
	return 0;
}
