-- SPDX-License-Identifier: MIT
-- invite_flood_1m_rules.lua - INVITE flood at a fixed rate against a
-- router holding 1M prefix rules (redirect-only mode).
--
-- Setup (see README.md): import a 1M-rule table into sipedge-control and
-- start sipedge-dataplane in redirect mode on the NIC under test, then
--   gen_routes.py --rules 1000000 -o routes-1m.csv
--   gen_invites.py --routes routes-1m.csv -n 65536 \
--       --dst-mac ROUTER_MAC --dst-ip ROUTER_IP -o invites-1m.pcap
--   pktgen -l 0-2 -n 4 -a PCI -- -P -m "[1:2].0" -s 0:invites-1m.pcap \
--       -f invite_flood_1m_rules.lua
-- Environment: SIPEDGE_RATE (percent of line rate, default 100),
-- SIPEDGE_SECONDS (default 30).
-- sipedge_common.lua beside this script, wherever pktgen runs from
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or ""
package.path = package.path .. ";" .. here .. "?.lua;?.lua"
local se = require("sipedge_common")

local rate = tonumber(os.getenv("SIPEDGE_RATE") or "100")
local seconds = tonumber(os.getenv("SIPEDGE_SECONDS") or "30")

pktgen.screen("off")
se.run(se.port, rate, seconds, "invite_flood_1m_rules")
pktgen.quit()
