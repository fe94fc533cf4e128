/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ctl_json.c - the control protocol's JSON reader and writer
 * (control/ctl_json.c), which read every request a client or dataplane
 * sends to sipedge-control.
 *
 * Any input: the parser returns a value or an error, never faults. A
 * value it accepts holds UTF-8 strings only (RFC 8259 §8.1), written back
 * it parses again, and written back a second time gives the same bytes
 * (the writer is stable on what the reader accepts).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8.h>

#include "ctl.h"

/* Every string (member names and values) of @p v is UTF-8. */
static void
check_utf8(const struct ctl_jval *v)
{
	const struct ctl_jval *c;

	if (v->key != NULL && !utf8_valid(v->key, strlen(v->key)))
		abort();
	if (v->type == CTL_JSTR && !utf8_valid(v->str, v->len))
		abort();
	for (c = v->child; c != NULL; c = c->next)
		check_utf8(c);
}

static void
write_value(const struct ctl_jval *v, struct ctl_buf *b)
{
	struct ctl_jw w;

	ctl_buf_init(b);
	ctl_jw_init(&w, b);
	ctl_jw_value(&w, NULL, v);
	if (b->err != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_jval *v = NULL, *again = NULL;
	struct ctl_buf b1, b2;

	if (ctl_json_parse((const char *)data, size, &v) != 0)
		return 0;
	check_utf8(v);
	write_value(v, &b1);
	if (ctl_json_parse(b1.p, b1.len, &again) != 0)
		abort();
	write_value(again, &b2);
	if (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len) != 0)
		abort();
	ctl_buf_fini(&b1);
	ctl_buf_fini(&b2);
	ctl_json_free(again);
	ctl_json_free(v);
	return 0;
}
