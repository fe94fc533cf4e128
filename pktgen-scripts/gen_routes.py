#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen_routes.py - write a large route table of E.164 prefix rules (CSV).

The table looks like a carrier's least-cost routing export: prefixes of
4 to 10 digits under real country codes (NANP area code + exchange,
national destination codes elsewhere), nested where real tables nest
(a country, its mobile ranges, single exchanges), each rule redirecting to
one to three gateways in up to two priority tiers, a small share of
reject rules (403/404/603). Gateways are IPv4 literals in 198.19.0.0/16
(documentation/benchmark space); nothing ever sends to them.

The output is deterministic for a given --seed and --rules, so the pcap
written by gen_invites.py from one table matches a table regenerated
later.

usage: gen_routes.py [--rules N] [--seed S] [--gateways G]
                     [--reject-share F] [--default] [-o FILE]
"""
import argparse
import random
import sys

# (country code, national number length, weight): where prefixes are drawn.
# Weights follow the shape of real tables: NANP and a few large markets
# dominate; the rest is a long tail.
COUNTRIES = [
    ("1", 10, 40), ("44", 10, 6), ("49", 11, 6), ("33", 9, 4),
    ("34", 9, 3), ("39", 10, 3), ("31", 9, 2), ("32", 9, 1),
    ("41", 9, 1), ("43", 10, 1), ("46", 9, 1), ("47", 8, 1),
    ("45", 8, 1), ("48", 9, 2), ("351", 9, 1), ("353", 9, 1),
    ("61", 9, 2), ("64", 9, 1), ("81", 10, 3), ("82", 10, 2),
    ("86", 11, 5), ("852", 8, 1), ("65", 8, 1), ("91", 10, 5),
    ("55", 11, 3), ("52", 10, 3), ("54", 10, 1), ("57", 10, 1),
    ("27", 9, 1), ("234", 10, 1), ("20", 10, 1), ("971", 9, 1),
    ("90", 10, 1), ("7", 10, 2),
]

CSV_HEADER = "id,kind,pattern,action,targets,rank,strip,prepend,code"


def nanp_prefix(rng):
    """1 + NPA + NXX (+ optional line digits): N[2-9] rules respected."""
    npa = "%d%d%d" % (rng.randint(2, 9), rng.randint(0, 8), rng.randint(0, 9))
    nxx = "%d%02d" % (rng.randint(2, 9), rng.randint(0, 99))
    extra = rng.choice(("", "", "", "%d" % rng.randint(0, 9),
                        "%02d" % rng.randint(0, 99)))
    depth = rng.random()
    if depth < 0.03:
        return "1" + npa                # whole area code
    return "1" + npa + nxx + extra


def intl_prefix(rng, cc, nsn_len):
    """Country code plus 1 to 7 leading digits of the national number."""
    if rng.random() < 0.002:
        return cc                       # the whole country
    n = min(nsn_len - 2, rng.choice((1, 2, 3, 3, 4, 4, 5, 5, 6, 7)))
    first = str(rng.randint(1, 9))
    rest = "".join(str(rng.randint(0, 9)) for _ in range(n - 1))
    return cc + first + rest


def gateway(g):
    return "198.19.%d.%d:5060" % (g // 250, g % 250 + 1)


def targets(rng, ngw):
    """One to three gateways; the third (if any) in a backup tier."""
    k = rng.choice((1, 1, 2, 2, 2, 3))
    gws = rng.sample(range(ngw), k)
    out = []
    for i, g in enumerate(gws):
        if i < 2:
            weight = rng.choice((1, 10, 30, 50, 70))
            out.append("%s/1/%d" % (gateway(g), weight))
        else:
            out.append("%s/2" % gateway(g))
    return "|".join(out)


def generate(nrules, seed, ngw, reject_share, with_default, out):
    rng = random.Random(seed)
    ccs = [c for c, _, _ in COUNTRIES]
    nsn = {c: n for c, n, _ in COUNTRIES}
    weights = [w for _, _, w in COUNTRIES]
    seen = set()
    out.write(CSV_HEADER + "\n")
    i = 0
    while i < nrules:
        cc = rng.choices(ccs, weights)[0]
        if cc == "1":
            p = nanp_prefix(rng)
        else:
            p = intl_prefix(rng, cc, nsn[cc])
        if p in seen:
            continue
        seen.add(p)
        rid = "p%07d" % i
        if rng.random() < reject_share:
            code = rng.choice((403, 404, 603))
            out.write("%s,prefix,+%s,reject,,,,,%d\n" % (rid, p, code))
        else:
            out.write("%s,prefix,+%s,redirect,%s,,,,\n"
                      % (rid, p, targets(rng, ngw)))
        i += 1
    if with_default:
        out.write("fallback,default,,redirect,%s,,,,\n" % gateway(0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rules", type=int, default=1000000,
                    help="number of prefix rules (default 1000000)")
    ap.add_argument("--seed", type=int, default=1,
                    help="random seed (default 1)")
    ap.add_argument("--gateways", type=int, default=512,
                    help="size of the gateway pool (default 512, max 62500)")
    ap.add_argument("--reject-share", type=float, default=0.01,
                    help="share of reject rules (default 0.01)")
    ap.add_argument("--default", action="store_true",
                    help="add a default rule (redirect to the first gateway)")
    ap.add_argument("-o", "--output", default="-",
                    help="output CSV (default stdout)")
    a = ap.parse_args()
    if a.rules < 1 or not 3 <= a.gateways <= 62500:
        ap.error("--rules must be >= 1 and --gateways 3..62500")
    out = sys.stdout if a.output == "-" else open(a.output, "w")
    try:
        generate(a.rules, a.seed, a.gateways, a.reject_share, a.default, out)
    finally:
        if out is not sys.stdout:
            out.close()


if __name__ == "__main__":
    main()
