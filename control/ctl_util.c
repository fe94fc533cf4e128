/* SPDX-License-Identifier: MIT */
/*
 * ctl_util.c - logging, clocks and the growable buffer of the control
 * process and sipedgectl.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl.h"

static int ctl_log_max = CTL_LOG_INFO;

static const char *const ctl_log_names[] = {
	[CTL_LOG_ERR] = "error",
	[CTL_LOG_WARN] = "warning",
	[CTL_LOG_INFO] = "info",
	[CTL_LOG_DEBUG] = "debug",
};

void
ctl_log_set_level(int level)
{
	ctl_log_max = level;
}

int
ctl_log_level_parse(const char *s)
{
	int i;

	for (i = CTL_LOG_ERR; i <= CTL_LOG_DEBUG; i++) {
		if (strcasecmp(s, ctl_log_names[i]) == 0)
			return i;
	}
	if (strcasecmp(s, "warn") == 0)
		return CTL_LOG_WARN;
	return -EINVAL;
}

void
ctl_log(int level, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (level > ctl_log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		     ctl_log_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent writers do not interleave. */
	fprintf(stderr, "%s\n", line);
}

uint64_t
ctl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
ctl_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
ctl_buf_init(struct ctl_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
ctl_buf_fini(struct ctl_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
ctl_buf_reset(struct ctl_buf *b)
{
	b->len = 0;
	b->err = 0;
}

int
ctl_buf_reserve(struct ctl_buf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->err != 0)
		return b->err;
	if (b->cap - b->len > extra)
		return 0;
	cap = b->cap != 0 ? b->cap : 256;
	while (cap - b->len <= extra)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void
ctl_buf_add(struct ctl_buf *b, const void *p, size_t n)
{
	if (ctl_buf_reserve(b, n) != 0)
		return;
	if (n != 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';    /* reserve keeps one spare byte */
}

void
ctl_buf_addf(struct ctl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || ctl_buf_reserve(b, (size_t)n + 1) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
ctl_buf_consume(struct ctl_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

uint64_t
ctl_str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}
