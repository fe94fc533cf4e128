-- SPDX-License-Identifier: MIT
-- sipedge_common.lua - helpers shared by the sipedge Pktgen-DPDK scenarios.
--
-- Pktgen sends the INVITE pcap given with -s P:FILE on port P; the router
-- answers each INVITE (302 or a reject code) to the source MAC, so the
-- answers come back on the same port and Pktgen's receive counters count
-- them. Written against the Lua API of Pktgen-DPDK 23.x.

local M = {}

-- Pktgen's Lua environment provides printf; plain Lua does not.
printf = printf or function(...) io.write(string.format(...)) end

M.port = os.getenv("SIPEDGE_PORT") or "0"

-- Reads the port's totals: packets sent and received, drops at the NIC.
function M.totals(port)
	local st = pktgen.portStats(port, "port")[tonumber(port)]
	return st.opackets, st.ipackets, st.imissed + st.ierrors
end

-- Sends at rate_pct of line rate for seconds; returns sent, answered,
-- and the answered/sent ratio. Prints one line per second.
function M.run(port, rate_pct, seconds, label)
	pktgen.stop(port)
	pktgen.clr()
	pktgen.set(port, "rate", rate_pct)
	pktgen.pcap(port, "on")
	pktgen.start(port)
	local tx0, rx0 = M.totals(port)
	local ptx, prx = tx0, rx0
	for s = 1, seconds do
		pktgen.delay(1000)
		local tx, rx = M.totals(port)
		printf("%s rate %3d%% t=%3ds sent %10d/s answered %10d/s lost %d\n",
		       label, rate_pct, s, tx - ptx, rx - prx,
		       (tx - ptx) - (rx - prx))
		ptx, prx = tx, rx
	end
	pktgen.stop(port)
	pktgen.delay(500)      -- let the last answers arrive
	local tx, rx, nicdrop = M.totals(port)
	local sent, answered = tx - tx0, rx - rx0
	local ratio = sent > 0 and answered / sent or 0
	printf("%s rate %3d%%: sent %d answered %d (%.4f%%) nic drops %d\n",
	       label, rate_pct, sent, answered, ratio * 100, nicdrop)
	return sent, answered, ratio
end

return M
