/* SPDX-License-Identifier: MIT */
/*
 * guard_buf.h - place test input flush against a PROT_NONE page, so a
 * parser that reads one byte too far faults instead of passing.
 */
#ifndef SIPEDGE_TESTS_GUARD_BUF_H
#define SIPEDGE_TESTS_GUARD_BUF_H

#include <stddef.h>

struct guard_buf;

/* Readable area of at least @p size bytes followed by one PROT_NONE page. */
struct guard_buf *guard_buf_new(size_t size);

/*
 * Copy @p n bytes (n <= size) so that the last one is the last readable
 * byte; returns where they start. The copy is writable (for in-place
 * rewrite tests) and valid until the next put or free.
 */
char *guard_buf_put(struct guard_buf *gb, const void *src, size_t n);

/* Bytes available in the readable area. */
size_t guard_buf_size(const struct guard_buf *gb);

void guard_buf_free(struct guard_buf *gb);

#endif /* SIPEDGE_TESTS_GUARD_BUF_H */
