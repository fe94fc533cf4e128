/* SPDX-License-Identifier: MIT */
/* sip_rewrite.c - placeholder while being written */
#include "sip.h"
