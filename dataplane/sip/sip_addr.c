/* SPDX-License-Identifier: MIT */
/* sip_addr.c - placeholder while being written */
#include "sip.h"
