/* SPDX-License-Identifier: MIT */
/*
 * ctl_sock.c - control socket framing (control/PROTOCOL.md) and the
 * blocking I/O helpers sipedgectl uses.
 *
 * A frame is a 5-byte header, type (1 byte, ASCII) then payload length
 * (u32 big-endian), followed by the payload.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

static bool
ctl_frame_type_is_valid(uint8_t t)
{
	switch (t) {
	case CTL_FRAME_REQUEST:
	case CTL_FRAME_DATA:
	case CTL_FRAME_END:
	case CTL_FRAME_REPLY:
	case CTL_FRAME_EVENT:
		return true;
	default:
		return false;
	}
}

void
ctl_frame_put(struct ctl_buf *out, uint8_t type, const void *p, size_t n)
{
	uint8_t hdr[CTL_FRAME_HDR_LEN];

	hdr[0] = type;
	hdr[1] = (uint8_t)(n >> 24);
	hdr[2] = (uint8_t)(n >> 16);
	hdr[3] = (uint8_t)(n >> 8);
	hdr[4] = (uint8_t)n;
	ctl_buf_add(out, hdr, sizeof(hdr));
	ctl_buf_add(out, p, n);
}

int
ctl_frame_peek(const struct ctl_buf *in, uint8_t *type, const char **payload,
	       uint32_t *len, size_t *total)
{
	const uint8_t *h = (const uint8_t *)in->p;
	uint32_t n;

	if (in->len < CTL_FRAME_HDR_LEN)
		return 0;
	n = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 |
	    (uint32_t)h[3] << 8 | h[4];
	if (!ctl_frame_type_is_valid(h[0]))
		return -EPROTO;
	if (n > CTL_FRAME_MAX)
		return -EMSGSIZE;
	if (in->len - CTL_FRAME_HDR_LEN < n)
		return 0;
	*type = h[0];
	*payload = in->p + CTL_FRAME_HDR_LEN;
	*len = n;
	*total = CTL_FRAME_HDR_LEN + n;
	return 1;
}

int
ctl_io_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, c, n, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
ctl_io_send_frame(int fd, uint8_t type, const void *p, size_t n)
{
	uint8_t hdr[CTL_FRAME_HDR_LEN];
	int rc;

	hdr[0] = type;
	hdr[1] = (uint8_t)(n >> 24);
	hdr[2] = (uint8_t)(n >> 16);
	hdr[3] = (uint8_t)(n >> 8);
	hdr[4] = (uint8_t)n;
	rc = ctl_io_write_all(fd, hdr, sizeof(hdr));
	if (rc == 0 && n != 0)
		rc = ctl_io_write_all(fd, p, n);
	return rc;
}

static int
ctl_io_read_full(int fd, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int
ctl_io_read_frame(int fd, uint8_t *type, struct ctl_buf *payload)
{
	uint8_t hdr[CTL_FRAME_HDR_LEN];
	uint32_t n;
	int rc;

	ctl_buf_reset(payload);
	rc = ctl_io_read_full(fd, hdr, sizeof(hdr));
	if (rc != 0)
		return rc;
	n = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 |
	    (uint32_t)hdr[3] << 8 | hdr[4];
	if (!ctl_frame_type_is_valid(hdr[0]) || n > CTL_FRAME_MAX)
		return -EPROTO;
	rc = ctl_buf_reserve(payload, n);
	if (rc != 0)
		return rc;
	rc = ctl_io_read_full(fd, payload->p, n);
	if (rc != 0)
		return rc;
	payload->len = n;
	payload->p[n] = '\0';
	*type = hdr[0];
	return 0;
}

int
ctl_io_connect(const char *path)
{
	return ctl_io_connect_timeout(path, 0);
}

int
ctl_io_connect_timeout(const char *path, unsigned int timeout_s)
{
	struct timeval tv = { .tv_sec = (time_t)timeout_s };
	struct sockaddr_un sa;
	int fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	/* Before connect(): a server that accepts no more (its backlog
	 * full) holds connect() on the send timeout. */
	if (timeout_s != 0 &&
	    (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	     setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (;;) {
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		if (rc == 0)
			return fd;
		if (errno != EINTR)
			break;
	}
	rc = -errno;
	close(fd);
	return rc;
}
