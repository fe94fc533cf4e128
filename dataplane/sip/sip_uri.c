/* SPDX-License-Identifier: MIT */
/* sip_uri.c - placeholder while being written */
#include "sip.h"
