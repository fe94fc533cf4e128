/* SPDX-License-Identifier: MIT */
/* sip_hdr.c - placeholder while being written */
#include "sip.h"
