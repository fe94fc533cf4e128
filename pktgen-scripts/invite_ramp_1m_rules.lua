-- SPDX-License-Identifier: MIT
-- invite_ramp_1m_rules.lua - highest INVITE rate the router answers in
-- full (RFC 2544 style binary search on the offered rate), 1M rules.
--
-- Same setup as invite_flood_1m_rules.lua. A trial passes when at least
-- SIPEDGE_ANSWERED (default 0.9999) of the INVITEs are answered.
-- Environment: SIPEDGE_SECONDS per trial (default 10).
package.path = package.path .. ";?.lua"
local se = require("sipedge_common")

local seconds = tonumber(os.getenv("SIPEDGE_SECONDS") or "10")
local want = tonumber(os.getenv("SIPEDGE_ANSWERED") or "0.9999")

pktgen.screen("off")
local lo, hi, best = 1, 100, 0
while hi - lo > 1 do
	local mid = math.floor((lo + hi) / 2)
	local sent, answered, ratio = se.run(se.port, mid, seconds, "ramp")
	if ratio >= want then
		lo, best = mid, sent / seconds
	else
		hi = mid
	end
end
printf("invite_ramp_1m_rules: highest passing rate %d%% of line rate, "
       .. "%.0f INVITEs/s answered\n", lo, best)
pktgen.quit()
