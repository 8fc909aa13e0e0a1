"""Shared helpers for the kernel-differential corpus generators.

Builds small, deterministic captures (Ethernet, microsecond pcap) and writes
scenario directories: capture.pcap, rules.nft, topology.json, scenario.json.
Packet builders come from the oracle's oracle_pkt.py (../shared/oracle beside
the repository), so the corpus and the oracle agree on checksums and layout.
"""

import ipaddress
import json
import os
import struct
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ORACLE_DIR = os.path.join(REPO, "..", "shared", "oracle")
sys.path.insert(0, ORACLE_DIR)
import oracle_pkt as op  # noqa: E402

T0 = 1700000000.0  # every capture starts here (fixed: outputs are byte-stable)
PEER_MAC = "02:00:00:00:00:02"
FW_MAC = "02:00:00:00:00:01"
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD

# ------------------------------------------------------------ topologies

HOME = {
    "interfaces": {
        "lan0": {"addrs": ["192.168.1.1/24", "2001:db8:1::1/64"],
                 "subnets": ["192.168.1.0/24", "2001:db8:1::/64"]},
        "wan0": {"addrs": ["203.0.113.1/24", "2001:db8:ffff::1/64"], "default": True},
    }
}

HOME_ULA = {  # NAT66: ULA inside, masqueraded to the wan0 global address
    "interfaces": {
        "lan0": {"addrs": ["192.168.1.1/24", "fd00:1::1/64"],
                 "subnets": ["192.168.1.0/24", "fd00:1::/64"]},
        "wan0": {"addrs": ["203.0.113.1/24", "2001:db8:ffff::1/64"], "default": True},
    }
}

DMZ = {
    "interfaces": {
        "lan0": {"addrs": ["192.168.1.1/24", "2001:db8:1::1/64"],
                 "subnets": ["192.168.1.0/24", "2001:db8:1::/64"]},
        "dmz0": {"addrs": ["10.0.2.1/24", "2001:db8:2::1/64"],
                 "subnets": ["10.0.2.0/24", "2001:db8:2::/64"]},
        "wan0": {"addrs": ["203.0.113.1/24", "2001:db8:ffff::1/64"], "default": True},
    }
}


def topology(base, sysctls=None):
    t = json.loads(json.dumps(base))
    if sysctls:
        t["sysctls"] = {k: str(v) for k, v in sysctls.items()}
    return t


# ------------------------------------------------------------- packets


def is_v6(addr):
    return ipaddress.ip_address(addr).version == 6


def frame(l3):
    et = ETH_P_IPV6 if (l3[0] >> 4) == 6 else ETH_P_IP
    return op.ether(FW_MAC, PEER_MAC, et, l3)


def ip(src, dst, proto, seg, ttl=64, ip_id=0):
    if is_v6(src):
        return op.ipv6(src, dst, proto, seg, hlim=ttl)
    return op.ipv4(src, dst, proto, seg, ttl=ttl, ip_id=ip_id)


def tcp(src, sport, dst, dport, seq, ack, flags, data=b"", win=64240, opts=b"", ttl=64, ip_id=0):
    seg = op.tcp_seg(src, dst, sport, dport, seq, ack, flags, win=win, data=data, opts=opts)
    return ip(src, dst, 6, seg, ttl=ttl, ip_id=ip_id)


def udp(src, sport, dst, dport, data=b"", ttl=64, ip_id=0):
    return ip(src, dst, 17, op.udp_seg(src, dst, sport, dport, data), ttl=ttl, ip_id=ip_id)


def echo(src, dst, ident, seq, reply=False, data=b"fwsim-ping-payload", ttl=64, ip_id=0):
    if is_v6(src):
        typ = 129 if reply else 128
        return ip(src, dst, 58, op.icmp_msg(src, dst, typ, 0, struct.pack("!HH", ident, seq), data), ttl=ttl)
    typ = 0 if reply else 8
    return ip(src, dst, 1, op.icmp_msg(src, dst, typ, 0, struct.pack("!HH", ident, seq), data), ttl=ttl, ip_id=ip_id)


def icmp_error(src, dst, quoted, typ=None, code=None, ttl=64, ip_id=0):
    """ICMP(v6) error from src to dst quoting the (start of the) packet `quoted`."""
    q = quoted[:548] if not is_v6(src) else quoted[:1232]
    if is_v6(src):
        typ = 1 if typ is None else typ
        code = 4 if code is None else code  # port unreachable
        return ip(src, dst, 58, op.icmp_msg(src, dst, typ, code, b"\0\0\0\0", q), ttl=ttl)
    typ = 3 if typ is None else typ
    code = 3 if code is None else code
    return ip(src, dst, 1, op.icmp_msg(src, dst, typ, code, b"\0\0\0\0", q), ttl=ttl, ip_id=ip_id)


def ipv4_fragments(l3, size):
    """Split an IPv4 packet (no options) into fragments of `size` payload bytes
    (multiple of 8). DF is cleared on all of them."""
    assert size % 8 == 0
    hdr, payload = bytearray(l3[:20]), l3[20:]
    out = []
    off = 0
    while off < len(payload):
        chunk = payload[off:off + size]
        more = off + len(chunk) < len(payload)
        h = bytearray(hdr)
        h[2:4] = struct.pack("!H", 20 + len(chunk))
        h[6:8] = struct.pack("!H", (0x2000 if more else 0) | (off // 8))
        h[10:12] = b"\0\0"
        h[10:12] = struct.pack("!H", op.csum(bytes(h)))
        out.append(bytes(h) + chunk)
        off += len(chunk)
    return out


def ipv6_fragments(l3, size, ident):
    """Split an IPv6 packet without extension headers into fragments carrying
    `size` payload bytes each (multiple of 8), fragment id `ident`."""
    assert size % 8 == 0
    hdr, payload = bytearray(l3[:40]), l3[40:]
    nh = hdr[6]
    out = []
    off = 0
    while off < len(payload):
        chunk = payload[off:off + size]
        more = off + len(chunk) < len(payload)
        h = bytearray(hdr)
        h[4:6] = struct.pack("!H", 8 + len(chunk))
        h[6] = 44
        fh = struct.pack("!BBHI", nh, 0, off | (1 if more else 0), ident)
        out.append(bytes(h) + fh + chunk)
        off += len(chunk)
    return out


def corrupt_l4_checksum(l3):
    """Flip the transport checksum of an unfragmented IPv4/IPv6 TCP/UDP packet."""
    b = bytearray(l3)
    v6 = (b[0] >> 4) == 6
    off = 40 if v6 else (b[0] & 15) * 4
    proto = b[6] if v6 else b[9]
    pos = off + (16 if proto == 6 else 6)
    b[pos] ^= 0x5A
    return bytes(b)


def corrupt_ipv4_header_checksum(l3):
    b = bytearray(l3)
    b[10] ^= 0x5A
    return bytes(b)


def ipv4_clear_df(l3):
    h = bytearray(l3[:20])
    h[6:8] = b"\0\0"
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", op.csum(bytes(h)))
    return bytes(h) + l3[20:]


class Tcp:
    """One TCP connection as seen on the wire from both sides.

    orig = (client, cport, server, sport): addresses of client->server packets
    as they arrive at the fw. reply_addr = (src, sport, dst, dport) of the
    server->client packets as they arrive at the fw (after NAT on the way out
    these go to the fw's address / chosen port). Sequence numbers are tracked.
    """

    def __init__(self, client, cport, server, sport, reply=None, iss_c=1000, iss_s=50000,
                 win=64240):
        self.o = (client, cport, server, sport)
        self.r = reply or (server, sport, client, cport)
        self.c_seq = iss_c  # next seq the client sends
        self.s_seq = iss_s
        self.c_ack = 0
        self.s_ack = 0
        self.win = win

    def c(self, flags, data=b"", seq=None, ack=None, win=None):
        s, sp, d, dp = self.o
        sq = self.c_seq if seq is None else seq
        ak = (self.s_seq if "A" in flags else 0) if ack is None else ack
        p = tcp(s, sp, d, dp, sq, ak, flags, data=data, win=self.win if win is None else win)
        if seq is None:
            self.c_seq += len(data) + (1 if ("S" in flags or "F" in flags) else 0)
        return p

    def s(self, flags, data=b"", seq=None, ack=None, win=None):
        s, sp, d, dp = self.r
        sq = self.s_seq if seq is None else seq
        ak = (self.c_seq if "A" in flags else 0) if ack is None else ack
        p = tcp(s, sp, d, dp, sq, ak, flags, data=data, win=self.win if win is None else win)
        if seq is None:
            self.s_seq += len(data) + (1 if ("S" in flags or "F" in flags) else 0)
        return p

    def handshake(self):
        return [self.c("S"), self.s("SA"), self.c("A")]

    def exchange(self, req=b"GET / HTTP/1.0\r\n\r\n", resp=b"HTTP/1.0 200 OK\r\n\r\nhello"):
        return [self.c("PA", req), self.s("A"), self.s("PA", resp), self.c("A")]

    def close(self):
        return [self.c("FA"), self.s("A"), self.s("FA"), self.c("A")]

    def full(self):
        return self.handshake() + self.exchange() + self.close()


# ---------------------------------------------------------- scenario out


class Scenario:
    def __init__(self, name, description, rules, topo, honour_gaps=False, compare=None,
                 sysctls=None, wait_ms=None):
        self.name = name
        self.description = description
        self.rules = rules
        self.topo = topo
        self.honour_gaps = honour_gaps
        self.compare = compare or ["verdict", "nat", "ct"]
        self.sysctls = sysctls or {}  # extra, passed as --sysctl / --set
        self.wait_ms = wait_ms
        self.t = T0
        self.frames = []  # (ts, l3)
        self.datagrams = []  # lists of 1-based indexes of one fragmented datagram
        self.notes = {}  # index -> note on what the packet is meant to show
        # fields the kernel decides at random (NAT port on a clash): not compared
        self.nondeterministic = []

    def add(self, pkts, gap=0.001, note=None):
        """Append packet(s); each is `gap` seconds after the previous one."""
        if isinstance(pkts, (bytes, bytearray)):
            pkts = [pkts]
        first = len(self.frames) + 1
        for p in pkts:
            if self.frames:
                self.t += gap
            self.frames.append((round(self.t, 6), bytes(p)))
        if note:
            self.notes[first] = note
        return first

    def wait(self, seconds):
        self.t += seconds

    def add_fragments(self, frags, gap=0.001, note=None):
        first = self.add(frags, gap=gap, note=note)
        self.datagrams.append(list(range(first, first + len(frags))))
        return first

    def write(self, root):
        d = os.path.join(root, self.name)
        os.makedirs(d, exist_ok=True)
        op.write_pcap(os.path.join(d, "capture.pcap"), [(ts, frame(l3)) for ts, l3 in self.frames])
        with open(os.path.join(d, "rules.nft"), "w") as f:
            f.write(self.rules.strip("\n") + "\n")
        with open(os.path.join(d, "topology.json"), "w") as f:
            json.dump(self.topo, f, indent=1, sort_keys=True)
            f.write("\n")
        meta = {"description": self.description,
                "oracle": {"honour_gaps": self.honour_gaps},
                "sysctls": ["%s=%s" % (k, v) for k, v in sorted(self.sysctls.items())],
                "compare": self.compare,
                "packets": len(self.frames)}
        if self.wait_ms:
            meta["oracle"]["wait_ms"] = self.wait_ms
        if self.datagrams:
            meta["datagrams"] = self.datagrams
        if self.nondeterministic:
            meta["nondeterministic"] = self.nondeterministic
        if self.notes:
            meta["notes"] = {str(k): v for k, v in sorted(self.notes.items())}
        with open(os.path.join(d, "scenario.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
            f.write("\n")
        return len(self.frames)
