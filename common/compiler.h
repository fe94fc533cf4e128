/* SPDX-License-Identifier: MIT */
/*
 * compiler.h - compiler hints shared by every module.
 *
 * likely()/unlikely() are defined the way DPDK defines them, under #ifndef,
 * so pure-C modules get them without DPDK and DPDK code sees no redefinition.
 */
#ifndef SIPEDGE_COMMON_COMPILER_H
#define SIPEDGE_COMMON_COMPILER_H

#include <assert.h>

#ifndef likely
#define likely(x)       __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x)     __builtin_expect(!!(x), 0)
#endif

/* Slow paths called from hot code: kept out of line and out of the way. */
#define SIPEDGE_COLD    __attribute__((cold, noinline))

#define SIPEDGE_UNUSED  __attribute__((unused))

#define SIPEDGE_FALLTHROUGH __attribute__((fallthrough))

/* Compile-time check, usable at file and block scope. */
#define BUILD_ASSERT(cond, msg) _Static_assert(cond, msg)

#define SIPEDGE_ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))

/* Debug-build invariant checks; compiled out with NDEBUG. */
#ifdef NDEBUG
#define SIPEDGE_ASSERT(x)       ((void)0)
#else
#define SIPEDGE_ASSERT(x)       assert(x)
#endif

#endif /* SIPEDGE_COMMON_COMPILER_H */
