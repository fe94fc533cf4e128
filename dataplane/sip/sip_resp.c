/* SPDX-License-Identifier: MIT */
/* sip_resp.c - placeholder while being written */
#include "sip.h"
