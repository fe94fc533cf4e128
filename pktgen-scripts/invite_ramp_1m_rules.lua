-- SPDX-License-Identifier: MIT
-- invite_ramp_1m_rules.lua - highest INVITE rate the router answers in
-- full (RFC 2544 style binary search on the offered rate), 1M rules.
--
-- Same setup as invite_flood_1m_rules.lua. A trial passes when at least
-- SIPEDGE_ANSWERED (default 0.9999) of the INVITEs are answered.
-- Environment: SIPEDGE_SECONDS per trial (default 10).
-- sipedge_common.lua beside this script, wherever pktgen runs from
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or ""
package.path = package.path .. ";" .. here .. "?.lua;?.lua"
local se = require("sipedge_common")

local seconds = tonumber(os.getenv("SIPEDGE_SECONDS") or "10")
local want = tonumber(os.getenv("SIPEDGE_ANSWERED") or "0.9999")

pktgen.screen("off")
-- Line rate first: a router that keeps up there is done. Otherwise
-- search (0, 100): lo is the highest rate that passed (0: none yet), hi
-- the lowest that failed; every rate reported was tried.
local lo, hi, best = 0, 100, 0
local sent, answered, ratio = se.run(se.port, 100, seconds, "ramp")
if ratio >= want then
	lo, best = 100, answered / seconds
end
while hi - lo > 1 do
	local mid = math.floor((lo + hi) / 2)
	sent, answered, ratio = se.run(se.port, mid, seconds, "ramp")
	if ratio >= want then
		lo, best = mid, answered / seconds
	else
		hi = mid
	end
end
if lo == 0 then
	printf("invite_ramp_1m_rules: no rate passed (1%% of line rate "
	       .. "answered below %.4f)\n", want)
else
	printf("invite_ramp_1m_rules: highest passing rate %d%% of line "
	       .. "rate, %.0f INVITEs/s answered\n", lo, best)
end
pktgen.quit()
