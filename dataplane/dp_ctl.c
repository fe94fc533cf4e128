/* SPDX-License-Identifier: MIT */
/*
 * dp_ctl.c - the dataplane's client side of the control socket
 * (control/PROTOCOL.md): frames, the "subscribe" connection that tells
 * the loader "generation N ready", and one-shot requests (stats reports).
 *
 * SLOW PATH: the loader thread only. Blocking calls with short timeouts.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dp.h"

#define DP_CTL_TIMEOUT_MS       1000

/* CLOCK_MONOTONIC in milliseconds. */
static int64_t
dp_ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == DP_CTL_PATH_MAX,
	       "DP_CTL_PATH_MAX");

int
dp_ctl_connect(const char *path)
{
	struct sockaddr_un sa;
	struct timeval tv = { .tv_sec = DP_CTL_TIMEOUT_MS / 1000 };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	/* Neither the connect (a server whose backlog is full: it is hung
	 * or busy) nor a write blocks the loader for long. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int
dp_ctl_send(int fd, char type, const void *payload, uint32_t len)
{
	uint8_t hdr[5];
	const uint8_t *p = payload;
	size_t off = 0;
	ssize_t k;

	hdr[0] = (uint8_t)type;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
	while (off < sizeof(hdr) + len) {
		if (off < sizeof(hdr))
			k = send(fd, hdr + off, sizeof(hdr) - off, MSG_NOSIGNAL);
		else
			k = send(fd, p + off - sizeof(hdr),
				 sizeof(hdr) + len - off, MSG_NOSIGNAL);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)k;
	}
	return 0;
}

int
dp_ctl_frame_next(char *buf, size_t *len, char *type, char **payload,
		  uint32_t *plen)
{
	uint32_t n;

	if (*len < 5)
		return 0;
	n = (uint32_t)(uint8_t)buf[1] << 24 | (uint32_t)(uint8_t)buf[2] << 16 |
	    (uint32_t)(uint8_t)buf[3] << 8 | (uint32_t)(uint8_t)buf[4];
	if (n > DP_CTL_FRAME_MAX)
		return -EPROTO;
	if (*len < 5 + (size_t)n)
		return 0;
	*type = buf[0];
	*payload = buf + 5;
	*plen = n;
	return 1;
}

void
dp_ctl_frame_consume(char *buf, size_t *len, uint32_t plen)
{
	size_t n = 5 + (size_t)plen;

	memmove(buf, buf + n, *len - n);
	*len -= n;
}

int
dp_ctl_request(const char *path, const char *json, size_t jlen, char *reply,
	       size_t cap, size_t *rlen)
{
	struct pollfd pfd;
	char *buf, *pl, type;
	int64_t deadline, left;
	size_t len = 0;
	uint32_t plen;
	ssize_t k;
	int fd, rc;

	buf = malloc(DP_CTL_REPLY_MAX);
	if (buf == NULL)
		return -ENOMEM;
	deadline = dp_ctl_now_ms() + 2 * DP_CTL_TIMEOUT_MS;
	fd = dp_ctl_connect(path);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	rc = dp_ctl_send(fd, 'Q', json, (uint32_t)jlen);
	while (rc == 0) {
		rc = dp_ctl_frame_next(buf, &len, &type, &pl, &plen);
		if (rc == 1) {
			if (type != 'R') {
				dp_ctl_frame_consume(buf, &len, plen);
				rc = 0;
				continue;
			}
			if (plen >= cap) {
				rc = -ENOSPC;
				break;
			}
			memcpy(reply, pl, plen);
			reply[plen] = '\0';
			*rlen = plen;
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		if (len == DP_CTL_REPLY_MAX) {
			rc = -ENOSPC;
			break;
		}
		/* One deadline for the whole reply, however it trickles. */
		left = deadline - dp_ctl_now_ms();
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (left <= 0 || poll(&pfd, 1, (int)left) != 1) {
			rc = -ETIMEDOUT;
			break;
		}
		k = recv(fd, buf + len, DP_CTL_REPLY_MAX - len, 0);
		if (k == 0) {
			rc = -ECONNRESET;
		} else if (k == -1) {
			rc = errno == EINTR ? 0 : -errno;
		} else {
			len += (size_t)k;
		}
	}
	close(fd);
	free(buf);
	return rc;
}

int
dp_ctl_json_u64(const char *json, size_t len, const char *key,
		uint64_t *out)
{
	char pat[64];
	const char *p, *end = json + len;
	size_t n;
	uint64_t v = 0;

	n = (size_t)snprintf(pat, sizeof(pat), "\"%s\"", key);
	for (p = json; p + n <= end; p++) {
		const char *q;

		if (memcmp(p, pat, n) != 0)
			continue;
		/* A member name is followed by ':'; the same text as a
		 * value ("event":"generation",) is not the member. */
		for (q = p + n; q < end && (*q == ' ' || *q == '\t'); q++)
			;
		if (q == end || *q != ':')
			continue;
		for (q++; q < end && (*q == ' ' || *q == '\t'); q++)
			;
		if (q == end || *q < '0' || *q > '9')
			return -ENOENT;
		while (q < end && *q >= '0' && *q <= '9')
			v = v * 10 + (uint64_t)(*q++ - '0');
		*out = v;
		return 0;
	}
	return -ENOENT;
}
