#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen_invites.py - write a pcap of realistic SIP INVITEs over UDP.

Each packet is one INVITE with an SDP offer, as a carrier's SBC sends it:
a unique Call-ID, Via branch and From tag per packet, a Request-URI
number drawn from a route table (a prefix or exact rule's digits, extended
with random digits to a full E.164 length), a calling number, and a source
address from a pool of peers. Ethernet, IPv4 (or IPv6) and UDP headers are
complete, with correct IP and UDP checksums (or, with --udp-checksum zero,
IPv4 UDP checksums left zero, as RFC 768 allows), so the packets pass the
dataplane's L2/L3 checks unchanged.

The default destination MAC is the one DPDK's net_pcap driver gives its
first port (02:70:63:61:70:00), so the pcap can be replayed into
sipedge-dataplane with --vdev net_pcap0,rx_pcap=FILE,infinite_rx=1; give
--dst-mac for a real NIC (Pktgen-DPDK, tcpreplay).

usage: gen_invites.py --routes FILE [-n COUNT] [-o FILE.pcap]
                      [--dst-ip IP] [--dst-ip6 IP] [--ipv6-share F] ...
"""
import argparse
import csv
import ipaddress
import random
import socket
import struct
import sys

SDP = (
    "v=0\r\n"
    "o=- {sess} {sess} IN IP{v} {src}\r\n"
    "s=-\r\n"
    "c=IN IP{v} {src}\r\n"
    "t=0 0\r\n"
    "m=audio {rtp} RTP/AVP 0 8 18 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n"
)

INVITE = (
    "INVITE sip:+{num}@{dsth}:{dport};user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP {srch}:{sport};branch=z9hG4bK{branch};rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:+{cli}@{srch};user=phone>;tag={tag}\r\n"
    "To: <sip:+{num}@{dsth};user=phone>\r\n"
    "Call-ID: {callid}@{srch}\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:+{cli}@{srch}:{sport};transport=udp>\r\n"
    "P-Asserted-Identity: <sip:+{cli}@{srch};user=phone>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK\r\n"
    "Supported: timer, 100rel\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "User-Agent: sipedge-pktgen/1.0\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: {clen}\r\n"
    "\r\n"
    "{body}"
)


def mac_bytes(s):
    b = bytes(int(x, 16) for x in s.split(":"))
    if len(b) != 6:
        raise ValueError("bad MAC address %r" % s)
    return b


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def udp_ipv4(src, dst, sport, dport, payload, ident, with_csum):
    ulen = 8 + len(payload)
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    pseudo = s + d + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    if with_csum:
        c = csum16(pseudo + udp) or 0xffff
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ident, 0x4000,
                     64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum16(ip)) + ip[12:]
    return 0x0800, ip + udp


def udp_ipv6(src, dst, sport, dport, payload):
    ulen = 8 + len(payload)
    s = socket.inet_pton(socket.AF_INET6, src)
    d = socket.inet_pton(socket.AF_INET6, dst)
    pseudo = s + d + struct.pack("!I3xB", ulen, 17)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = csum16(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!IHBB16s16s", 0x60000000, ulen, 17, 64, s, d)
    return 0x86DD, ip + udp


def sample_patterns(path, k, rng):
    """Reservoir sample of k literal (exact/prefix) patterns of a CSV."""
    picked = []
    seen = 0
    with open(path, newline="") as f:
        rows = csv.reader(line for line in f
                          if line.strip() and not line.startswith("#"))
        header = [h.strip().lower() for h in next(rows)]
        ik, ip = header.index("kind"), header.index("pattern")
        for row in rows:
            if len(row) <= max(ik, ip):
                continue
            kind = row[ik].strip()
            if kind not in ("prefix", "exact"):
                continue
            pat = row[ip].strip().lstrip("+")
            if not pat.isdigit():
                continue
            seen += 1
            if len(picked) < k:
                picked.append((kind, pat))
            else:
                j = rng.randrange(seen)
                if j < k:
                    picked[j] = (kind, pat)
    if not picked:
        raise SystemExit("gen_invites: no exact or prefix rule in %s" % path)
    return picked, seen


def full_number(kind, pat, rng):
    """Extend a prefix to a plausible E.164 length (at most 15 digits)."""
    if kind == "exact":
        return pat
    want = 11 if pat.startswith("1") else 12
    want = min(15, max(want, len(pat) + 2))
    return pat + "".join(str(rng.randint(0, 9))
                         for _ in range(want - len(pat)))


def write_pcap(out, frames):
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, frame in enumerate(frames):
        sec, usec = 1767225600 + i // 1000000, i % 1000000
        out.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
        out.write(frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--routes", required=True,
                    help="route table CSV to draw numbers from")
    ap.add_argument("-n", "--count", type=int, default=16384,
                    help="packets (default 16384)")
    ap.add_argument("-o", "--output", default="invites.pcap",
                    help="output pcap (default invites.pcap)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dst-ip", default="198.18.0.2",
                    help="router IPv4 address (default 198.18.0.2)")
    ap.add_argument("--dst-ip6", default="fd00:5ed:9e::2",
                    help="router IPv6 address (default fd00:5ed:9e::2)")
    ap.add_argument("--dst-port", type=int, default=5060)
    ap.add_argument("--dst-mac", default="02:70:63:61:70:00",
                    help="router MAC (default: DPDK net_pcap port 0)")
    ap.add_argument("--src-net", default="198.18.128.0/24",
                    help="IPv4 peers (default 198.18.128.0/24)")
    ap.add_argument("--src-net6", default="fd00:5ed:9e::1:0/112",
                    help="IPv6 peers (default fd00:5ed:9e::1:0/112)")
    ap.add_argument("--peers", type=int, default=64,
                    help="distinct peer addresses (default 64)")
    ap.add_argument("--ipv6-share", type=float, default=0.0,
                    help="share of packets over IPv6 (default 0)")
    ap.add_argument("--udp-checksum", choices=("full", "zero"),
                    default="full",
                    help="IPv4 UDP checksum: computed (default) or zero, "
                    "i.e. not used (RFC 768); zero stands for a NIC that "
                    "verifies checksums (IPv6 always carries one)")
    ap.add_argument("--numbers", type=int, default=65536,
                    help="rules sampled from the table (default 65536)")
    a = ap.parse_args()

    rng = random.Random(a.seed)
    pats, nrules = sample_patterns(a.routes, a.numbers, rng)
    dst_mac = mac_bytes(a.dst_mac)
    net4 = ipaddress.ip_network(a.src_net)
    net6 = ipaddress.ip_network(a.src_net6)
    peers4 = [str(net4[1 + i % (net4.num_addresses - 2)])
              for i in range(a.peers)]
    peers6 = [str(net6[1 + i % (net6.num_addresses - 2)])
              for i in range(a.peers)]

    frames = []
    sizes = 0
    for i in range(a.count):
        v6 = rng.random() < a.ipv6_share
        p = rng.randrange(a.peers)
        src = peers6[p] if v6 else peers4[p]
        dst = a.dst_ip6 if v6 else a.dst_ip
        srch = "[%s]" % src if v6 else src
        dsth = "[%s]" % dst if v6 else dst
        kind, pat = pats[rng.randrange(len(pats))]
        num = full_number(kind, pat, rng)
        cli = "1" + "".join(str(rng.randint(0, 9)) for _ in range(10))
        body = SDP.format(sess=rng.randrange(1 << 31), v=6 if v6 else 4,
                          src=src, rtp=2 * rng.randrange(8000, 16000))
        sport = 5060
        msg = INVITE.format(num=num, dsth=dsth, dport=a.dst_port,
                            srch=srch, sport=sport,
                            branch="%016x" % rng.getrandbits(64),
                            cli=cli, tag="%08x" % rng.getrandbits(32),
                            callid="%032x%06x" % (rng.getrandbits(128), i),
                            clen=len(body), body=body).encode()
        if v6:
            etype, l3 = udp_ipv6(src, dst, sport, a.dst_port, msg)
        else:
            etype, l3 = udp_ipv4(src, dst, sport, a.dst_port, msg,
                                 i & 0xffff, a.udp_checksum == "full")
        src_mac = bytes((0x02, 0x00, 0x5e, 0x10, p >> 8 & 0xff, p & 0xff))
        frame = dst_mac + src_mac + struct.pack("!H", etype) + l3
        frames.append(frame)
        sizes += len(frame)

    out = sys.stdout.buffer if a.output == "-" else open(a.output, "wb")
    try:
        write_pcap(out, frames)
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    print("gen_invites: %d INVITEs (%.0f bytes average), numbers from %d "
          "of %d literal rules, %s"
          % (a.count, sizes / max(1, a.count), len(pats), nrules, a.output),
          file=sys.stderr)


if __name__ == "__main__":
    main()
