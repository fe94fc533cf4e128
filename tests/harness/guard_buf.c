/* SPDX-License-Identifier: MIT */
/*
 * guard_buf.c - test inputs flush against a PROT_NONE page.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard_buf.h"

struct guard_buf {
	char            *base;          /* start of the readable area */
	size_t           size;          /* readable bytes, page multiple */
	size_t           page;
};

struct guard_buf *
guard_buf_new(size_t size)
{
	struct guard_buf *gb;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t area = (size + page - 1) / page * page;
	char *m;

	gb = calloc(1, sizeof(*gb));
	if (gb == NULL)
		return NULL;
	m = mmap(NULL, area + page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		goto out_free_gb;
	if (mprotect(m + area, page, PROT_NONE) == -1)
		goto out_unmap;

	gb->base = m;
	gb->size = area;
	gb->page = page;
	return gb;

out_unmap:
	munmap(m, area + page);
out_free_gb:
	free(gb);
	return NULL;
}

char *
guard_buf_put(struct guard_buf *gb, const void *src, size_t n)
{
	char *dst;

	assert(n <= gb->size);
	dst = gb->base + gb->size - n;
	if (n != 0)
		memcpy(dst, src, n);
	return dst;
}

size_t
guard_buf_size(const struct guard_buf *gb)
{
	return gb->size;
}

void
guard_buf_free(struct guard_buf *gb)
{
	if (gb == NULL)
		return;
	munmap(gb->base, gb->size + gb->page);
	free(gb);
}
