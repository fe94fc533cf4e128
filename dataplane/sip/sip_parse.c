/* SPDX-License-Identifier: MIT */
/* sip_parse.c - placeholder while being written */
#include "sip.h"
