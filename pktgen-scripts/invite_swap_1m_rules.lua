-- SPDX-License-Identifier: MIT
-- invite_swap_1m_rules.lua - a constant INVITE load while the route
-- table is replaced over and over: no INVITE may go unanswered because
-- of a swap (DESIGN.md 4.3).
--
-- Same setup as invite_flood_1m_rules.lua, plus, on the control host,
-- a loop that re-imports two 1M-rule tables for the duration:
--   sed 's/:5060/:5080/g' routes-1m.csv > routes-1m-b.csv
--   while :; do sipedgectl routes import routes-1m-b.csv --wait 60
--               sipedgectl routes import routes-1m.csv --wait 60; done
-- Run it first at a rate invite_ramp_1m_rules.lua found to pass with no
-- swaps; any loss here is then attributable to the swaps.
-- Environment: SIPEDGE_RATE (default 50), SIPEDGE_SECONDS (default 60).
-- sipedge_common.lua beside this script, wherever pktgen runs from
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or ""
package.path = package.path .. ";" .. here .. "?.lua;?.lua"
local se = require("sipedge_common")

local rate = tonumber(os.getenv("SIPEDGE_RATE") or "50")
local seconds = tonumber(os.getenv("SIPEDGE_SECONDS") or "60")

pktgen.screen("off")
local sent, answered = se.run(se.port, rate, seconds, "invite_swap_1m_rules")
printf("invite_swap_1m_rules: unanswered %d of %d\n", sent - answered, sent)
pktgen.quit()
