/* SPDX-License-Identifier: MIT */
/* sip_scan.c - placeholder while being written */
#include "sip.h"
