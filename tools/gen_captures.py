#!/usr/bin/python3
"""Generates fwsim's scenario captures into captures/ (or the directory given).

Run with the system Python, which has scapy:  /usr/bin/python3 tools/gen_captures.py
Everything is fixed (timestamps, addresses, ids, sequence numbers), so two runs
give byte-identical files. Scapy only builds the packets; the pcap/pcapng
files are written here, byte by byte, so that no library default (snaplen,
version, options) can change them.
"""
import os
import struct
import sys

from scapy.all import (ARP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether,
                       ICMPv6EchoReply, ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, Raw, fragment, fragment6)

T0 = 1_700_000_000 * 10**9  # 2023-11-14T22:13:20Z, in ns

# The built-in home router (see SPEC.md): LAN 192.168.1.0/24 + fd00::/64,
# WAN address 203.0.113.1 / 2001:db8:ffff::1.
MAC_LAN_HOST = "02:00:00:00:01:0a"
MAC_LAN_HOST2 = "02:00:00:00:01:0b"
MAC_FW_LAN = "02:00:00:00:00:01"
MAC_FW_WAN = "02:00:00:00:00:02"
MAC_ISP = "02:00:00:00:ff:01"
LAN_A, LAN_B, LAN6 = "192.168.1.10", "192.168.1.11", "fd00::10"
WAN, WAN6 = "203.0.113.1", "2001:db8:ffff::1"
WEB, WEB2, DNS_SRV, SCANNER = "93.184.216.34", "198.51.100.7", "9.9.9.9", "198.51.100.99"
WEB6 = "2001:db8:beef::80"

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP = 0, 1, 101, 108
LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 = 113, 276


# --------------------------------------------------------------- file writers
def write_pcap(path, linktype, records, nano=False, snaplen=262144):
    """records: (ts_ns, bytes[, wire_len])"""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for r in records:
            ts, data = r[0], bytes(r[1])
            wire = r[2] if len(r) > 2 else len(data)
            sec, frac = divmod(ts, 10**9)
            f.write(struct.pack("<IIII", sec, frac if nano else frac // 1000, len(data), wire))
            f.write(data)


def _opt(code, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("<HH", code, len(value)) + value + b"\0" * pad


def _block(btype, body):
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(path, interfaces, records):
    """interfaces: [(name, linktype)], nanosecond if_tsresol; records: (ts_ns, bytes, if_id)"""
    out = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for name, linktype in interfaces:
        opts = _opt(2, name.encode()) + _opt(9, bytes([9])) + _opt(0, b"")
        out += _block(1, struct.pack("<HHI", linktype, 0, 262144) + opts)
    for ts, data, if_id in records:
        data = bytes(data)
        pad = (4 - len(data) % 4) % 4
        out += _block(6, struct.pack("<IIIII", if_id, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
                      + data + b"\0" * pad)
    with open(path, "wb") as f:
        f.write(out)


# ------------------------------------------------------------------ builders
def lan(l3, src_mac=MAC_LAN_HOST):
    return Ether(src=src_mac, dst=MAC_FW_LAN) / l3


def wan(l3):
    return Ether(src=MAC_ISP, dst=MAC_FW_WAN) / l3


class TcpFlow:
    """A TCP connection seen at the firewall's input: the client side as sent
    from the LAN, the server side as it arrives on the WAN (addressed to the
    masqueraded address, same port)."""

    def __init__(self, ip_cls, client, server, masq, sport, dport, cseq, sseq, client_mac=MAC_LAN_HOST):
        self.ip, self.client, self.server, self.masq = ip_cls, client, server, masq
        self.sport, self.dport, self.cseq, self.sseq = sport, dport, cseq, sseq
        self.client_mac = client_mac

    def c(self, flags, data=b"", opts=None):
        l3 = self.ip(src=self.client, dst=self.server)
        seg = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=self.cseq,
                  ack=self.sseq if "A" in flags else 0, window=64240, options=opts or [])
        self.cseq += len(data) + (1 if "S" in flags else 0) + (1 if "F" in flags else 0)
        return lan(l3 / seg / (Raw(data) if data else b""), self.client_mac)

    def s(self, flags, data=b"", opts=None):
        l3 = self.ip(src=self.server, dst=self.masq)
        seg = TCP(sport=self.dport, dport=self.sport, flags=flags, seq=self.sseq,
                  ack=self.cseq if "A" in flags else 0, window=65160, options=opts or [])
        self.sseq += len(data) + (1 if "S" in flags else 0) + (1 if "F" in flags else 0)
        return wan(l3 / seg / (Raw(data) if data else b""))

    def handshake(self):
        syn_opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]
        return [self.c("S", opts=syn_opts),
                self.s("SA", opts=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (5000, 1000)),
                                   ("NOP", None), ("WScale", 7)]),
                self.c("A")]


def v4(**kw):
    return IP(id=kw.pop("id", 1), ttl=kw.pop("ttl", 64), **kw)


def v6(**kw):
    return IPv6(hlim=kw.pop("hlim", 64), **kw)


def home_packets():
    """The README demo for the built-in home router: (packet, side) in order."""
    pk = []
    # 1. HTTPS from 192.168.1.10: handshake, request, response, client closes.
    a = TcpFlow(v4, LAN_A, WEB, WAN, 51000, 443, 1_000_000, 7_000_000)
    pk += [(p, "lan") if i % 2 == 0 else (p, "wan") for i, p in enumerate(a.handshake())]
    pk += [(a.c("PA", b"\x16\x03\x01" + b"C" * 97), "lan"),
           (a.s("A"), "wan"),
           (a.s("PA", b"\x16\x03\x03" + b"S" * 997), "wan"),
           (a.c("A"), "lan")]
    # 2. DNS over UDP.
    pk += [(lan(v4(src=LAN_A, dst=DNS_SRV) / UDP(sport=53000, dport=53) /
                DNS(id=0x1a2b, rd=1, qd=DNSQR(qname="example.com", qtype="A"))), "lan"),
           (wan(v4(src=DNS_SRV, dst=WAN) / UDP(sport=53, dport=53000) /
                DNS(id=0x1a2b, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.com", qtype="A"),
                    an=DNSRR(rrname="example.com", type="A", ttl=300, rdata=WEB))), "wan")]
    # 3. ICMP echo.
    for seq in (1, 2):
        pk += [(lan(v4(src=LAN_A, dst=WEB) / ICMP(type=8, id=0x1234, seq=seq) / Raw(b"ping" * 8)), "lan"),
               (wan(v4(src=WEB, dst=WAN, ttl=55) / ICMP(type=0, id=0x1234, seq=seq) / Raw(b"ping" * 8)), "wan")]
    # 4. HTTP from 192.168.1.11; the server closes first.
    b = TcpFlow(v4, LAN_B, WEB2, WAN, 51001, 80, 2_000_000, 9_000_000, MAC_LAN_HOST2)
    pk += [(p, "lan") if i % 2 == 0 else (p, "wan") for i, p in enumerate(b.handshake())]
    pk += [(b.c("PA", b"GET / HTTP/1.1\r\nHost: www.example.net\r\n\r\n"), "lan"),
           (b.s("A"), "wan"),
           (b.s("PA", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), "wan"),
           (b.c("A"), "lan"),
           (b.s("FA"), "wan"),
           (b.c("A"), "lan"),
           (b.c("FA"), "lan"),
           (b.s("A"), "wan")]
    # 5. Unsolicited inbound SYNs (dropped by the input policy).
    for port in (22, 3389, 23):
        pk.append((wan(v4(src=SCANNER, dst=WAN, ttl=240) / TCP(sport=40000 + port, dport=port, flags="S", seq=4242)), "wan"))
    # 6. ARP (ignored: not IP).
    pk.append((Ether(src=MAC_LAN_HOST, dst="ff:ff:ff:ff:ff:ff") /
               ARP(op=1, hwsrc=MAC_LAN_HOST, psrc=LAN_A, pdst="192.168.1.1"), "lan"))
    # 7. IPv6 HTTPS from fd00::10 (masqueraded to 2001:db8:ffff::1 by inet nat).
    c = TcpFlow(v6, LAN6, WEB6, WAN6, 52000, 443, 3_000_000, 11_000_000)
    pk += [(p, "lan") if i % 2 == 0 else (p, "wan") for i, p in enumerate(c.handshake())]
    pk += [(c.c("PA", b"hello over ipv6"), "lan"),
           (c.s("PA", b"hi"), "wan"),
           (c.c("A"), "lan"),
           (c.c("FA"), "lan"),
           (c.s("FA"), "wan"),
           (c.c("A"), "lan")]
    # 8. The HTTPS connection of 1: more data, then it closes.
    for n in range(3):
        pk += [(a.s("PA", bytes([0x17, 3, 3]) + bytes([65 + n]) * 700), "wan"), (a.c("A"), "lan")]
    pk += [(a.s("PA", b"\x17\x03\x03" + b"D" * 500), "wan"),
           (a.c("A"), "lan"),
           (a.c("FA"), "lan"),
           (a.s("FA"), "wan"),
           (a.c("A"), "lan")]
    # 9. One malformed packet: an IPv4 header length of 16 bytes (IHL 4).
    bad = bytearray(bytes(lan(v4(src=LAN_A, dst=WEB) / UDP(sport=53001, dport=53) / Raw(b"x" * 8))))
    bad[14] = 0x44
    pk.append((bad, "lan"))
    # 10. More: DNS AAAA, NTP, packets for the router itself, a traceroute-style UDP probe answered by an ICMP port
    # unreachable that quotes the masqueraded probe (related).
    pk += [(lan(v4(src=LAN_B, dst=DNS_SRV) / UDP(sport=53002, dport=53) /
                DNS(id=0x2b3c, rd=1, qd=DNSQR(qname="example.com", qtype="AAAA"))), "lan"),
           (wan(v4(src=DNS_SRV, dst=WAN) / UDP(sport=53, dport=53002) /
                DNS(id=0x2b3c, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.com", qtype="AAAA"),
                    an=DNSRR(rrname="example.com", type="AAAA", ttl=300, rdata=WEB6))), "wan"),
           (lan(v4(src=LAN_A, dst="162.159.200.1") / UDP(sport=123, dport=123) / Raw(b"\x23" + b"\0" * 47)), "lan"),
           (wan(v4(src="162.159.200.1", dst=WAN) / UDP(sport=123, dport=123) / Raw(b"\x24" + b"\0" * 47)), "wan")]
    # Packets for the router itself from the LAN (input hook): a ping and a DNS query.
    pk += [(lan(v4(src=LAN_B, dst="192.168.1.1") / ICMP(type=8, id=0x4321, seq=1) / Raw(b"gw")), "lan"),
           (lan(v4(src=LAN_B, dst="192.168.1.1") / UDP(sport=53003, dport=53) /
                DNS(id=0x3c4d, rd=1, qd=DNSQR(qname="router.lan", qtype="A"))), "lan")]
    probe = v4(src=LAN_A, dst=WEB2, ttl=64) / UDP(sport=33000, dport=33434) / Raw(b"probe")
    pk.append((lan(probe), "lan"))
    quoted = v4(src=WAN, dst=WEB2, ttl=1) / UDP(sport=33000, dport=33434) / Raw(b"probe")
    pk.append((wan(v4(src=WEB2, dst=WAN, ttl=50) / ICMP(type=3, code=3) / quoted), "wan"))
    # 11. A ping6 from the LAN and its reply; an unsolicited UDP probe from the internet.
    pk += [(lan(v6(src=LAN6, dst=WEB6) / ICMPv6EchoRequest(id=7, seq=1, data=b"v6ping")), "lan"),
           (wan(v6(src=WEB6, dst=WAN6) / ICMPv6EchoReply(id=7, seq=1, data=b"v6ping")), "wan"),
           (wan(v4(src=SCANNER, dst=WAN, ttl=240) / UDP(sport=50000, dport=161) / Raw(b"\x30\x26")), "wan")]
    return pk


def home_records(nano):
    recs = []
    for i, (p, side) in enumerate(home_packets()):
        ts = T0 + i * 1_500_000 + (i * 7919 % 1000 if nano else 0)  # 1.5 ms apart; ns digits in the pcapng
        recs.append((ts, bytes(p), 0 if side == "lan" else 1))
    return recs


# ---------------------------------------------------------- link-type variety
def sample_l3():
    """A few IP packets every link-type capture carries, after its header."""
    f = TcpFlow(v4, LAN_A, WEB, WAN, 51500, 443, 500, 900)
    return [bytes(p[IP]) for p in f.handshake()[:2]] + [
        bytes(v4(src=LAN_A, dst=DNS_SRV) / UDP(sport=53100, dport=53) / DNS(id=7, qd=DNSQR(qname="example.org"))),
        bytes(v6(src=LAN6, dst=WEB6) / ICMPv6EchoRequest(id=9, seq=1)),
    ]


def sll_header(proto, pkttype=0):
    return struct.pack(">HHH8sH", pkttype, 1, 6, bytes.fromhex("02000000010a") + b"\0\0", proto)


def sll2_header(proto, ifindex, pkttype=0):
    return struct.pack(">HHIHBB8s", proto, 0, ifindex, 1, pkttype, 6, bytes.fromhex("02000000010a") + b"\0\0")


def ethertype_of(l3):
    return 0x0800 if l3[0] >> 4 == 4 else 0x86DD


def linktype_captures(out):
    l3s = sample_l3()
    ts = lambda i: T0 + i * 1000_000
    # Ethernet with 802.1Q, QinQ (802.1ad outer + 802.1Q inner) and the old 0x9100 outer tag.
    eth = [
        Ether(src=MAC_LAN_HOST, dst=MAC_FW_LAN) / Dot1Q(vlan=10) / IP(l3s[0]),
        Ether(src=MAC_ISP, dst=MAC_FW_WAN) / Dot1AD(vlan=100) / Dot1Q(vlan=10) / IP(l3s[1]),
        Ether(src=MAC_LAN_HOST, dst=MAC_FW_LAN) / Dot1Q(vlan=10) / IP(l3s[2]),
        Ether(src=MAC_LAN_HOST, dst=MAC_FW_LAN) / Dot1AD(vlan=200) / Dot1Q(vlan=20) / IPv6(l3s[3]),
        Ether(src=MAC_LAN_HOST, dst=MAC_FW_LAN, type=0x9100) / Dot1Q(vlan=30) / IP(l3s[2]),
        Ether(src=MAC_LAN_HOST, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=10) / ARP(psrc=LAN_A, pdst="192.168.1.1", hwsrc=MAC_LAN_HOST),
    ]
    # Ether(type=0x9100)/Dot1Q: scapy keeps the 0x9100 as the outer TPID.
    write_pcap(os.path.join(out, "linktype-ethernet-vlan.pcap"), LINKTYPE_ETHERNET,
               [(ts(i), bytes(p)) for i, p in enumerate(eth)])
    write_pcap(os.path.join(out, "linktype-sll.pcap"), LINKTYPE_LINUX_SLL,
               [(ts(i), sll_header(ethertype_of(l3), 4 if i == 1 else 0) + l3) for i, l3 in enumerate(l3s)]
               + [(ts(9), sll_header(0x0806) + bytes(ARP(psrc=LAN_A, pdst="192.168.1.1")))])
    write_pcap(os.path.join(out, "linktype-sll2.pcap"), LINKTYPE_LINUX_SLL2,
               [(ts(i), sll2_header(ethertype_of(l3), 3 if i % 2 == 0 else 2) + l3) for i, l3 in enumerate(l3s)])
    write_pcap(os.path.join(out, "linktype-raw.pcap"), LINKTYPE_RAW, [(ts(i), l3) for i, l3 in enumerate(l3s)])
    # NULL: the AF in the capturing host's order (little-endian here; 30 = macOS AF_INET6).
    write_pcap(os.path.join(out, "linktype-null.pcap"), LINKTYPE_NULL,
               [(ts(i), struct.pack("<I", 2 if l3[0] >> 4 == 4 else 30) + l3) for i, l3 in enumerate(l3s)])
    # LOOP: network order (24 = OpenBSD AF_INET6).
    write_pcap(os.path.join(out, "linktype-loop.pcap"), LINKTYPE_LOOP,
               [(ts(i), struct.pack(">I", 2 if l3[0] >> 4 == 4 else 24) + l3) for i, l3 in enumerate(l3s)])


# ---------------------------------------------------------------- fragments
def fragments_capture(out):
    recs = []
    big = bytes(range(256)) * 12  # 3072 bytes of UDP payload
    dg1 = v4(src=LAN_A, dst=WEB2, id=0x1001) / UDP(sport=40000, dport=5000) / Raw(big)
    dg2 = v4(src=LAN_A, dst=WEB2, id=0x1002) / UDP(sport=40001, dport=5000) / Raw(big[:2000])
    dg3 = v6(src=LAN6, dst=WEB6) / IPv6ExtHdrFragment(id=0x2001) / UDP(sport=40002, dport=5000) / Raw(big)
    dg4 = v4(src=LAN_A, dst=WEB2, id=0x1003) / UDP(sport=40003, dport=5000) / Raw(big[:2000])
    f1 = fragment(dg1, fragsize=1480)              # 3 fragments, in order
    f2 = fragment(dg2, fragsize=1000)              # 3 fragments, sent last, first, middle
    f3 = fragment6(dg3, 1280)                      # IPv6, in order
    f4 = fragment(dg4, fragsize=1480)[:1]          # the first fragment only: never completes
    order = list(f1) + [f2[2], f2[0], f2[1]] + list(f3) + f4
    for i, p in enumerate(order):
        recs.append((T0 + i * 100_000, bytes(lan(p))))
    write_pcap(os.path.join(out, "fragments.pcap"), LINKTYPE_ETHERNET, recs)


# ---------------------------------------------------------------- malformed
def malformed_capture(out):
    """One broken packet per record; tests/unit/decode checks each error text."""
    def eth(l3):
        return bytearray(bytes(Ether(src=MAC_LAN_HOST, dst=MAC_FW_LAN) / l3))

    udp = v4(src=LAN_A, dst=WEB) / UDP(sport=1000, dport=53) / Raw(b"q" * 12)
    tcp = v4(src=LAN_A, dst=WEB) / TCP(sport=1000, dport=80, flags="S", seq=1)
    recs = []

    p = eth(udp); p[14] = 0x44                                   # IHL 4
    recs.append(p)
    p = eth(udp); p[14] = 0x55                                   # version 5
    recs.append(p)
    p = eth(v4(src=LAN_A, dst=WEB, len=1500) / UDP(sport=1000, dport=53) / Raw(b"q" * 12))  # total length > bytes
    recs.append(p)
    p = eth(udp); p[24] ^= 0xFF                                  # header checksum
    recs.append(p)
    p = eth(tcp); p[14 + 20 + 12] = 0x30                         # data offset 3
    recs.append(p)
    p = eth(v4(src=LAN_A, dst=WEB) / UDP(sport=1000, dport=53, len=4) / Raw(b"q" * 12))  # UDP length 4
    recs.append(p)
    p = eth(v6(src=LAN6, dst=WEB6, plen=400) / UDP(sport=1000, dport=53) / Raw(b"q" * 12))  # payload length > bytes
    recs.append(p)
    chain = IPv6ExtHdrDestOpt()
    for _ in range(16):
        chain = chain / IPv6ExtHdrDestOpt()
    recs.append(eth(v6(src=LAN6, dst=WEB6) / chain / UDP(sport=1000, dport=53)))  # 17 extension headers
    recs.append(bytearray(bytes.fromhex("02000000000102000000010a08")))          # 13-byte Ethernet frame
    p = eth(v4(src=LAN_A, dst=WEB, proto=1) / Raw(b"\x08\x00\xf7\xff"))           # ICMP, 4 bytes
    recs.append(p)
    p = eth(tcp); p[14 + 20 + 12] = 0xF0                         # data offset 15 > 20-byte segment
    recs.append(p)
    p = eth(v4(src=LAN_A, dst=WEB, len=12) / Raw(b"x" * 8))     # total length 12 < 20
    recs.append(p)
    write_pcap(os.path.join(out, "malformed.pcap"), LINKTYPE_ETHERNET,
               [(T0 + i * 1000, bytes(r)) for i, r in enumerate(recs)])


def truncated_capture(out):
    """home-mixed's first 6 records, the file cut in the middle of record 6."""
    recs = [(ts, data) for ts, data, _ in home_records(False)[:6]]
    path = os.path.join(out, "truncated.pcap")
    write_pcap(path, LINKTYPE_ETHERNET, recs)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - len(recs[-1][1]) // 2)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "captures")
    os.makedirs(out, exist_ok=True)
    recs = home_records(False)
    write_pcap(os.path.join(out, "home-mixed.pcap"), LINKTYPE_ETHERNET, [(t, d) for t, d, _ in recs])
    write_pcapng(os.path.join(out, "home-mixed-ns.pcapng"), [("lan0", LINKTYPE_ETHERNET), ("wan0", LINKTYPE_ETHERNET)],
                 home_records(True))
    linktype_captures(out)
    fragments_capture(out)
    malformed_capture(out)
    truncated_capture(out)


if __name__ == "__main__":
    main()
