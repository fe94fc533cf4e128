/* SPDX-License-Identifier: MIT */
/*
 * sip_test_span.h - span helpers shared by the SIP library's unit tests:
 * inputs placed flush against the guard page, and span checks.
 */
#ifndef SIPEDGE_TESTS_SIP_TEST_SPAN_H
#define SIPEDGE_TESTS_SIP_TEST_SPAN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <span.h>

#include "../harness/guard_buf.h"

/* @p n bytes of @p s, ending at the last readable byte before the guard page. */
static inline struct span
put(void **state, const char *s, size_t n)
{
	return span_make(guard_buf_put(*state, s, n), n);
}

#define PUT(state, lit)         put((state), (lit), sizeof(lit) - 1)

static inline struct span
put_str(void **state, const char *s)
{
	return put(state, s, strlen(s));
}

/* @p sp holds exactly @p lit; NULL lit means the span is absent. */
static inline void
check_span(struct span sp, const char *lit, size_t n)
{
	if (lit == NULL) {
		assert_null(sp.ptr);
		assert_int_equal(sp.len, 0);
		return;
	}
	assert_non_null(sp.ptr);
	assert_int_equal(sp.len, n);
	if (n != 0)
		assert_memory_equal(sp.ptr, lit, n);
}

#define t_span(sp, lit)         check_span((sp), (lit), sizeof(lit) - 1)
#define t_span_absent(sp)       check_span((sp), NULL, 0)

/* Present and empty. */
static inline void
t_span_empty(struct span sp)
{
	assert_non_null(sp.ptr);
	assert_int_equal(sp.len, 0);
}

#endif /* SIPEDGE_TESTS_SIP_TEST_SPAN_H */
