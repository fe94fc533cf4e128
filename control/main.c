/* SPDX-License-Identifier: MIT */
/*
 * main.c - sipedge-control: option parsing, store open, serve, shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define CTL_SOCKET_DEFAULT      "/run/sipedge/control.sock"

static void
ctl_usage(FILE *f)
{
	fprintf(f,
		"usage: sipedge-control --data-dir DIR [--socket PATH] [options]\n"
		"\n"
		"Serves the sipedge control socket and owns the LMDB store.\n"
		"Runs in the foreground and logs to stderr.\n"
		"\n"
		"  -d, --data-dir DIR     LMDB environment directory (created if missing)\n"
		"  -s, --socket PATH      control socket (default %s)\n"
		"  -m, --map-size SIZE    LMDB map size, suffix K, M or G (default 4G:\n"
		"                         room for 1M rules, 1M registrations and the\n"
		"                         kept generations' artefacts)\n"
		"      --map-size-max SIZE  a full map doubles, up to SIZE\n"
		"                         (default 64G; the file is sparse and\n"
		"                         grows only with what is stored)\n"
		"      --socket-mode MODE permissions of the socket, octal (default 0660)\n"
		"      --upload-timeout S an import that completes no frame for S\n"
		"                         seconds is abandoned, nothing committed;\n"
		"                         a connection holding half a frame that\n"
		"                         long is closed (default 60; 0: never)\n"
		"  -l, --log-level LEVEL  error, warning, info (default) or debug\n"
		"  -h, --help             this text\n"
		"\n"
		"SIGTERM or SIGINT stop it cleanly. Exit status: 0 after a clean stop,\n"
		"1 on a start-up or runtime error, 2 on a usage error.\n",
		CTL_SOCKET_DEFAULT);
}

static int
ctl_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;         /* strtoull() would take "-1" */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0)
		return -EINVAL;
	switch (*end) {
	case '\0':
		shift = 0;
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (shift != 0) {
		if (v > UINT64_MAX >> shift)
			return -ERANGE;         /* would wrap */
		v <<= shift;
		end++;
	}
	if (*end != '\0' || v < (1u << 16))
		return -EINVAL;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "map-size", required_argument, NULL, 'm' },
		{ "map-size-max", required_argument, NULL, 'X' },
		{ "socket-mode", required_argument, NULL, 'M' },
		{ "upload-timeout", required_argument, NULL, 'U' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_server_opts so = {
		.socket_path = CTL_SOCKET_DEFAULT,
		.socket_mode = 0660,
		.upload_idle_s = 60,
	};
	uint64_t map_size = CTL_MAP_SIZE_DEFAULT;
	uint64_t map_max = CTL_MAP_MAX_DEFAULT;
	const char *dir = NULL;
	struct ctl_server *srv;
	struct ctl_state *cs;
	unsigned long ul;
	char *end;
	int c, rc;

	/* A log reader gone (stderr a closed pipe) is an EPIPE, not death
	 * between a commit and its reply; sockets send with MSG_NOSIGNAL. */
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "d:s:m:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 's':
			so.socket_path = optarg;
			break;
		case 'm':
			if (ctl_parse_size(optarg, &map_size) != 0) {
				fprintf(stderr, "sipedge-control: bad --map-size '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'X':
			if (ctl_parse_size(optarg, &map_max) != 0) {
				fprintf(stderr, "sipedge-control: bad --map-size-max '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'M':
			/* range-checked before the cast: 0x100000000 is no 0 */
			ul = strtoul(optarg, &end, 8);
			if (*optarg < '0' || *optarg > '7' || *end != '\0' ||
			    ul > 0777) {
				fprintf(stderr, "sipedge-control: bad --socket-mode '%s'\n",
					optarg);
				return 2;
			}
			so.socket_mode = (unsigned int)ul;
			break;
		case 'U':
			ul = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    ul > 86400) {
				fprintf(stderr, "sipedge-control: bad --upload-timeout '%s' (seconds, 0-86400)\n",
					optarg);
				return 2;
			}
			so.upload_idle_s = (unsigned int)ul;
			break;
		case 'l':
			rc = ctl_log_level_parse(optarg);
			if (rc < 0) {
				fprintf(stderr, "sipedge-control: bad --log-level '%s'\n",
					optarg);
				return 2;
			}
			ctl_log_set_level(rc);
			break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	if (dir == NULL || optind != argc) {
		ctl_usage(stderr);
		return 2;
	}

	rc = ctl_state_open(dir, map_size, map_max, &cs);
	if (rc != 0) {
		ctl_log(CTL_LOG_ERR, "cannot open store in %s: %s", dir,
			strerror(-rc));
		return 1;
	}
	rc = ctl_server_new(cs, &so, &srv);
	if (rc != 0) {
		ctl_log(CTL_LOG_ERR, "cannot serve %s: %s", so.socket_path,
			strerror(-rc));
		ctl_state_close(cs);
		return 1;
	}
	rc = ctl_server_run(srv);
	ctl_server_free(srv);
	ctl_state_close(cs);
	ctl_log(CTL_LOG_INFO, "stopped");
	return rc == 0 ? 0 : 1;
}
