#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_hot_symbols.sh - STYLE.md H12: hot-path objects must not reference
# allocation, locking, stdio, syscalls or NUL-terminated string functions.
#
# usage: check_hot_symbols.sh SRCDIR LIB.a [LIB.a ...]
#   SRCDIR is the source root; the hot sources listed in HOT_SOURCES are
#   also grepped for DPDK's inline locks, which nm cannot see.
set -u

srcdir=$1
shift

banned='^(malloc|free|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|'
banned+='pthread_mutex_.*|pthread_rwlock_.*|pthread_spin_.*|'
banned+='printf|fprintf|sprintf|snprintf|vprintf|vfprintf|vsprintf|vsnprintf|dprintf|'
banned+='__printf_chk|__fprintf_chk|__sprintf_chk|__snprintf_chk|__vsnprintf_chk|__vfprintf_chk|'
banned+='puts|fputs|putchar|fwrite|syslog|vsyslog|write|writev|send|sendto|'
banned+='clock_gettime|gettimeofday|time|'
banned+='rte_malloc.*|rte_zmalloc.*|rte_calloc.*|rte_free|rte_log|rte_vlog|rte_exit|'
banned+='strlen|strnlen|strchr|strrchr|strstr|strtol|strtoul|strtoll|strtoull|'
banned+='atoi|atol|sscanf|__isoc99_sscanf|tolower|toupper|__ctype_b_loc|__ctype_tolower_loc|'
banned+='hs_alloc_scratch)$'

status=0
for lib in "$@"; do
	if [ ! -f "$lib" ]; then
		echo "check_hot_symbols: $lib: not found"
		status=1
		continue
	fi
	bad=$(nm -u --format=posix "$lib" 2>/dev/null | awk '{print $1}' |
	      sed 's/@.*//' | grep -E "$banned" | sort -u)
	if [ -n "$bad" ]; then
		echo "check_hot_symbols: $(basename "$lib") references banned symbols:"
		echo "$bad" | sed 's/^/  /'
		status=1
	else
		echo "check_hot_symbols: $(basename "$lib") clean"
	fi
done

# DPDK's locks are inline: look for them in the hot sources themselves.
hot_sources=$(cd "$srcdir" && ls dataplane/sip/*.c dataplane/sip/*.h \
	rules/rules_match.c dataplane/dp_worker.c dataplane/dp_classify.h \
	dataplane/dp_tx.c dataplane/dp_tx.h dataplane/dp_sip.c \
	dataplane/dp_redirect.c dataplane/dp_proxy.c dataplane/dp_acl.c \
	2>/dev/null)
for f in $hot_sources; do
	if grep -nE 'rte_(spinlock|rwlock|mcslock)_' "$srcdir/$f"; then
		echo "check_hot_symbols: $f uses a DPDK lock"
		status=1
	fi
done

if [ $status -eq 0 ]; then
	echo "1 passed, 0 failed"
else
	echo "0 passed, 1 failed"
fi
exit $status
