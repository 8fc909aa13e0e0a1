#!/usr/bin/python3
"""Write the hand-written kernel-differential scenarios.

usage: /usr/bin/python3 tools/kernel_corpus/make_scenarios.py [--out tests/kernel/scenarios]

Each scenario is a directory with capture.pcap, rules.nft, topology.json and
scenario.json. Deterministic: fixed timestamps, fixed sequence numbers, no
randomness. Goldens are made by tools/kernel_corpus/regen-goldens.
Replies are addressed as they arrive at the firewall: to the masquerade
address and the port the kernel keeps (flows never clash unless that is the
point of the scenario).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as L  # noqa: E402
import rulesets as R  # noqa: E402
from corpus_lib import Scenario, Tcp, tcp, udp, echo, icmp_error  # noqa: E402

WAN4 = "203.0.113.1"
WAN6 = "2001:db8:ffff::1"
LAN4 = "192.168.1.1"
LAN6 = "2001:db8:1::1"
C4, C4b, C4c = "192.168.1.10", "192.168.1.11", "192.168.1.12"
C6, C6b = "2001:db8:1::10", "2001:db8:1::11"
S4, S4b, DNS4 = "198.51.100.20", "198.51.100.21", "198.51.100.53"
S6, DNS6 = "2001:db8:beef::20", "2001:db8:beef::53"
RTR4, RTR6 = "198.51.100.254", "2001:db8:beef::fe"

SCENARIOS = []


def scenario(fn):
    SCENARIOS.append(fn)
    return fn


def nat_reply(cport, wan=WAN4):
    return lambda srv, sport: (srv, sport, wan, cport)


# ---------------------------------------------------------- home router


@scenario
def home_tcp_v4_masquerade():
    s = Scenario("home_tcp_v4_masquerade",
                 "home router: LAN TCP connections through masquerade, replies to the WAN address accepted",
                 R.HOME, L.topology(L.HOME))
    for i, (cl, port, srv, dport) in enumerate([(C4, 40001, S4, 80), (C4b, 40002, S4, 443),
                                                 (C4, 40003, S4b, 8080)]):
        t = Tcp(cl, port, srv, dport, reply=(srv, dport, WAN4, port), iss_c=1000 + i * 7919,
                iss_s=900000 + i * 104729)
        s.add(t.full(), note="flow %d: handshake, request/response, close" % (i + 1) if i == 0 else None)
    return s


@scenario
def home_tcp_v6_routed():
    s = Scenario("home_tcp_v6_routed",
                 "home router masquerading IPv4 only: IPv6 TCP routed unchanged, replies accepted",
                 R.HOME_NAT4, L.topology(L.HOME))
    for i, (cl, port, dport) in enumerate([(C6, 41001, 80), (C6b, 41002, 443)]):
        t = Tcp(cl, port, S6, dport, iss_c=5000 + i, iss_s=700000 + i * 3)
        s.add(t.full())
    return s


@scenario
def home_unsolicited_v4():
    s = Scenario("home_unsolicited_v4",
                 "home router: unsolicited inbound IPv4 (SYN, UDP, ping, to LAN hosts and to the fw) dropped",
                 R.HOME, L.topology(L.HOME))
    s.add(tcp(S4, 50000, WAN4, 22, 1, 0, "S"), note="SYN to the fw's ssh from wan: input policy drop")
    s.add(tcp(S4, 50001, C4, 80, 1, 0, "S"), note="SYN routed to a LAN host: forward policy drop")
    s.add(tcp(S4, 50002, WAN4, 40001, 1, 0, "S"))
    s.add(udp(S4, 50003, WAN4, 53, b"q" * 20))
    s.add(udp(S4, 50004, C4, 5060, b"INVITE"))
    s.add(echo(S4, WAN4, 7, 1))
    s.add(echo(S4, C4, 7, 2))
    s.add(tcp(S4, 80, WAN4, 40005, 5000, 1001, "A"), note="stray ACK: loose pickup makes it new, then dropped")
    s.add(tcp(S4, 80, WAN4, 40006, 5000, 1001, "SA"), note="SYN-ACK without SYN: invalid")
    s.add(tcp(S4, 80, WAN4, 40007, 5000, 0, "R"))
    # and one legitimate LAN flow in between, to show the ruleset is alive
    t = Tcp(C4, 40010, S4, 80, reply=(S4, 80, WAN4, 40010))
    s.add(t.handshake())
    s.add(tcp(S4b, 80, WAN4, 40010, 900000, 1001, "A"), note="right port, wrong server: not the flow")
    s.add(t.close())
    return s


@scenario
def home_unsolicited_v6():
    s = Scenario("home_unsolicited_v6",
                 "home router: unsolicited inbound IPv6 to LAN hosts and the fw dropped, LAN flow fine",
                 R.HOME_NAT4, L.topology(L.HOME))
    s.add(tcp(S6, 50000, WAN6, 22, 1, 0, "S"))
    s.add(tcp(S6, 50001, C6, 22, 1, 0, "S"))
    s.add(tcp(S6, 50002, C6, 443, 1, 0, "S"))
    s.add(udp(S6, 50003, C6, 53, b"x" * 30))
    s.add(echo(S6, C6, 9, 1))
    s.add(echo(S6, WAN6, 9, 2))
    s.add(tcp(S6, 443, C6, 41000, 123, 456, "A"))
    t = Tcp(C6, 41005, S6, 443)
    s.add(t.handshake() + t.exchange())
    s.add(tcp(S6, 443, C6, 41006, 900000, 1001, "PA", b"nope"), note="neighbouring port: no flow")
    s.add(t.close())
    return s


@scenario
def dns_udp_v4():
    s = Scenario("dns_udp_v4", "DNS over UDP through masquerade: replies accepted, strays dropped",
                 R.HOME, L.topology(L.HOME))
    for i, cl in enumerate([C4, C4b, C4c]):
        port = 53001 + i
        s.add(udp(cl, port, DNS4, 53, b"\x12\x34query-%d" % i))
        s.add(udp(DNS4, 53, WAN4, port, b"\x12\x34answer-%d" % i))
    s.add(udp(DNS4, 53, WAN4, 53010, b"late answer"), note="answer to a query never sent")
    s.add(udp(C4, 53020, DNS4, 53, b"q2"))
    s.add(udp(S4, 53, WAN4, 53020, b"spoof"), note="answer from the wrong server")
    s.add(udp(DNS4, 5353, WAN4, 53020, b"spoof"), note="answer from the wrong port")
    s.add(udp(DNS4, 53, WAN4, 53020, b"real"))
    s.add(udp(DNS4, 53, WAN4, 53020, b"dup"), note="second answer: still established")
    s.add(udp(C4, 53020, DNS4, 53, b"q3"))
    return s


@scenario
def dns_udp_v6():
    s = Scenario("dns_udp_v6", "DNS over UDP/IPv6, routed: replies accepted, strays dropped",
                 R.HOME_NAT4, L.topology(L.HOME))
    for i, cl in enumerate([C6, C6b]):
        port = 54001 + i
        s.add(udp(cl, port, DNS6, 53, b"query-%d" % i))
        s.add(udp(DNS6, 53, cl, port, b"answer-%d" % i))
    s.add(udp(DNS6, 53, C6, 54010, b"late"))
    s.add(udp(S6, 53, C6, 54001, b"spoof"))
    s.add(udp(DNS6, 53, C6, 54001, b"again"))
    s.add(udp(C6, 54001, DNS6, 53, b"another query same ports"))
    return s


@scenario
def icmp_echo_v4():
    s = Scenario("icmp_echo_v4", "ping through masquerade and to the fw; unsolicited echo replies dropped",
                 R.HOME, L.topology(L.HOME))
    for seq in range(1, 4):
        s.add(echo(C4, S4, 0x1111, seq))
        s.add(echo(S4, WAN4, 0x1111, seq, reply=True))
    s.add(echo(C4b, S4, 0x2222, 1))
    s.add(echo(S4, WAN4, 0x2222, 1, reply=True))
    s.add(echo(C4, LAN4, 0x3333, 1), note="ping to the fw from the LAN: input accept")
    s.add(echo(S4, WAN4, 0x4444, 1, reply=True), note="echo reply nobody asked for")
    s.add(echo(S4, WAN4, 0x1111, 9, reply=True), note="reply with a known id but new seq")
    s.add(echo(C4, S4b, 0x5555, 1))
    s.add(echo(S4, WAN4, 0x5555, 1, reply=True), note="reply from another host than pinged")
    s.add(echo(S4b, WAN4, 0x5555, 1, reply=True))
    return s


@scenario
def icmp_echo_v6():
    s = Scenario("icmp_echo_v6", "ICMPv6 echo routed and to the fw; unsolicited echo replies dropped",
                 R.HOME_NAT4, L.topology(L.HOME))
    for seq in range(1, 4):
        s.add(echo(C6, S6, 0x1111, seq))
        s.add(echo(S6, C6, 0x1111, seq, reply=True))
    s.add(echo(C6, LAN6, 0x3333, 1))
    s.add(echo(S6, C6, 0x4444, 1, reply=True))
    s.add(echo(S6, C6b, 0x1111, 1, reply=True))
    s.add(echo(S6, C6, 0x1111, 1))
    return s


@scenario
def icmp_errors_v4():
    s = Scenario("icmp_errors_v4",
                 "ICMP errors quoting tracked flows are related and un-NATed; forged errors are dropped",
                 R.HOME, L.topology(L.HOME))
    syn = s.add(tcp(C4, 40020, S4, 81, 777, 0, "S"))
    quoted = tcp(WAN4, 40020, S4, 81, 777, 0, "S")
    s.add(icmp_error(S4, WAN4, quoted, 3, 3), note="port unreachable from the server quoting the NATed SYN")
    s.add(udp(C4, 33434, S4b, 33435, b"trace", ttl=5))
    s.add(icmp_error(RTR4, WAN4, udp(WAN4, 33434, S4b, 33435, b"trace", ttl=1), 11, 0),
          note="time exceeded from a router: related")
    s.add(udp(C4b, 40021, S4, 7000, b"x" * 40))
    s.add(icmp_error(RTR4, WAN4, udp(WAN4, 40021, S4, 7000, b"x" * 40), 3, 4),
          note="frag needed: related")
    s.add(icmp_error(RTR4, WAN4, udp(WAN4, 40099, S4, 7000, b"x" * 40), 3, 1),
          note="forged: quotes a flow that does not exist")
    s.add(icmp_error(RTR4, WAN4, tcp(WAN4, 40020, S4, 81, 999999, 0, "S"), 3, 1),
          note="quotes the flow's ports (kernel does not check the quoted seq)")
    s.add(icmp_error(RTR4, C4, udp(C4, 40021, S4, 7000, b"x" * 40), 3, 1),
          note="quotes the pre-NAT addresses, sent to the LAN host directly")
    s.add(echo(C4, S4b, 0x77, 1))
    s.add(icmp_error(RTR4, WAN4, echo(WAN4, S4b, 0x77, 1), 3, 1), note="error about a ping")
    assert syn
    return s


@scenario
def icmp_errors_v6():
    s = Scenario("icmp_errors_v6", "ICMPv6 errors quoting tracked flows are related; forged ones dropped",
                 R.HOME_NAT4, L.topology(L.HOME))
    s.add(tcp(C6, 41020, S6, 81, 777, 0, "S"))
    s.add(icmp_error(S6, C6, tcp(C6, 41020, S6, 81, 777, 0, "S"), 1, 4))
    s.add(udp(C6, 41021, S6, 33435, b"trace", ttl=3))
    s.add(icmp_error(RTR6, C6, udp(C6, 41021, S6, 33435, b"trace", ttl=1), 3, 0))
    s.add(udp(C6b, 41022, S6, 7000, b"y" * 60))
    s.add(icmp_error(RTR6, C6b, udp(C6b, 41022, S6, 7000, b"y" * 60), 2, 0,), note="packet too big")
    s.add(icmp_error(RTR6, C6b, udp(C6b, 41099, S6, 7000, b"y" * 60), 1, 0), note="forged")
    s.add(icmp_error(RTR6, C6, udp(C6b, 41022, S6, 7000, b"y" * 60), 1, 3),
          note="quotes a real flow but is sent to another host")
    return s


# ----------------------------------------------------------- TCP invalid

def _tcp_established(s, cl, cport, srv, sport, **kw):
    t = Tcp(cl, cport, srv, sport, **kw)
    s.add(t.handshake() + t.exchange())
    return t


def _invalid_case(kind, ruleset, rname):
    name = "tcp_%s_%s" % (kind, rname)
    desc = {"oow_above": "TCP segments with SEQ above the window",
            "oow_below": "TCP segments with SEQ far below the window",
            "bad_rst": "RST with SEQ outside the window",
            "synack_nosyn": "SYN-ACK with no SYN seen",
            "data_after_rst": "data after the connection was reset"}[kind]
    desc += {"drop": ", ruleset drops ct state invalid",
             "keep": ", ruleset has no invalid rule (LAN-side invalids accepted by iifname)",
             "permissive": ", accept-all ruleset (conntrack's view only)"}[rname]
    s = Scenario(name, desc, ruleset, L.topology(L.HOME))
    t = _tcp_established(s, C4, 42000, S4, 80, iss_c=10000, iss_s=2000000)
    if kind == "oow_above":
        s.add(t.s("PA", b"far ahead", seq=t.s_seq + 5000000), note="server SEQ far above window")
        s.add(t.c("PA", b"far ahead", seq=t.c_seq + 5000000), note="client SEQ far above window")
        s.add(t.s("A", seq=t.s_seq, ack=t.c_seq + 5000000), note="ACK of data never sent")
        s.add(t.exchange())
        s.add(t.close())
    elif kind == "oow_below":
        s.add(t.s("PA", b"ancient", seq=t.s_seq - 3000000), note="server SEQ far below window")
        s.add(t.c("PA", b"ancient", seq=t.c_seq - 3000000), note="client SEQ far below window")
        s.add(t.s("PA", b"dup", seq=t.s_seq - 10), note="overlapping retransmission: in window")
        s.add(t.exchange())
        s.add(t.close())
    elif kind == "bad_rst":
        s.add(t.s("R", seq=t.s_seq + 3000000), note="RST far outside window")
        s.add(t.c("R", seq=t.c_seq - 3000000), note="RST far below window")
        s.add(t.exchange())
        s.add(t.s("R"), note="in-window RST closes")
        s.add(t.c("PA", b"after"))
    elif kind == "synack_nosyn":
        s.add(tcp(S4b, 443, C4b, 42001, 300, 400, "SA"), note="SYN-ACK from wan, no SYN")
        s.add(tcp(C4b, 42002, S4b, 443, 300, 400, "SA"), note="SYN-ACK from lan, no SYN")
        s.add(tcp(S4b, 443, C4b, 42002, 400, 301, "A"))
        s.add(t.exchange())
        s.add(t.close())
    elif kind == "data_after_rst":
        s.add(t.c("R"), note="client resets")
        s.add(t.s("PA", b"more data"), note="server data after RST (entry kept in CLOSE, still established)")
        s.add(t.c("PA", b"client data after its RST"))
        s.add(t.s("A"))
    return s


for _kind in ("oow_above", "oow_below", "bad_rst", "synack_nosyn", "data_after_rst"):
    for _rn, _rs in (("drop", R.ROUTED_DROP_INVALID), ("keep", R.ROUTED_KEEP_INVALID)):
        SCENARIOS.append(lambda k=_kind, rs=_rs, rn=_rn: _invalid_case(k, rs, rn))
SCENARIOS.append(lambda: _invalid_case("oow_above", R.PERMISSIVE, "permissive"))
SCENARIOS.append(lambda: _invalid_case("bad_rst", R.PERMISSIVE, "permissive"))


@scenario
def tcp_window_scaling():
    s = Scenario("tcp_window_scaling",
                 "window scaling negotiated: large in-window data accepted, beyond scaled window invalid",
                 R.PERMISSIVE, L.topology(L.HOME))
    ws7 = b"\x02\x04\x05\xb4\x01\x03\x03\x07"  # MSS 1460, NOP, WS 7
    t = Tcp(C4, 42100, S4, 80, iss_c=100, iss_s=200000, win=65535)
    s.add(t.c("S", win=65535) if False else L.tcp(C4, 42100, S4, 80, 100, 0, "S", win=65535, opts=ws7))
    t.c_seq = 101
    s.add(L.tcp(S4, 80, C4, 42100, 200000, 101, "SA", win=65535, opts=ws7))
    t.s_seq = 200001
    s.add(t.c("A", win=2048))
    s.add(t.c("PA", b"GET", win=2048))
    s.add(t.s("PA", b"D" * 1000, seq=t.s_seq + 100000, win=2048), note="within the client's 2048<<7 window")
    s.add(t.s("PA", b"D" * 1000, seq=t.s_seq + 400000, win=2048),
          note="SEQ 400000 ahead: beyond 2048<<7 from the client's last ACK (the kernel's verdict is the golden's)")
    s.add(t.s("PA", b"D" * 1000, seq=t.s_seq + 6000000, win=2048), note="SEQ 6000000 ahead: far beyond")
    s.add(t.s("PA", b"ok", win=2048))
    s.add(t.c("A", win=2048))
    return s


@scenario
def tcp_midstream_loose1():
    s = Scenario("tcp_midstream_loose1",
                 "mid-stream pickup with nf_conntrack_tcp_loose=1: LAN ACK creates an entry, replies established",
                 R.ROUTED_DROP_INVALID, L.topology(L.HOME, {"net.netfilter.nf_conntrack_tcp_loose": 1}))
    t = Tcp(C4, 43000, S4, 80, iss_c=123456, iss_s=654321)
    s.add(t.c("PA", b"GET / HTTP/1.1\r\n\r\n"), note="first packet of the capture is mid-stream")
    s.add(t.s("A"))
    s.add(t.s("PA", b"body" * 50))
    s.add(t.c("A"))
    s.add(t.close())
    u = Tcp(S4b, 22, C4b, 43001, iss_c=5555, iss_s=7777)
    s.add(u.c("PA", b"ssh-data"), note="mid-stream from wan: new, not allowed from wan")
    s.add(u.s("A"), note="LAN side answers: picked up as new from lan")
    s.add(u.c("PA", b"ssh-more"))
    return s


@scenario
def tcp_midstream_loose0():
    s = Scenario("tcp_midstream_loose0",
                 "mid-stream with nf_conntrack_tcp_loose=0: no pickup, packets invalid and dropped",
                 R.ROUTED_DROP_INVALID, L.topology(L.HOME, {"net.netfilter.nf_conntrack_tcp_loose": 0}))
    t = Tcp(C4, 43000, S4, 80, iss_c=123456, iss_s=654321)
    s.add(t.c("PA", b"GET / HTTP/1.1\r\n\r\n"))
    s.add(t.s("A"))
    s.add(t.s("PA", b"body" * 50))
    s.add(t.c("A"))
    t2 = Tcp(C4b, 43002, S4, 80)
    s.add(t2.full(), note="a proper handshake still works")
    return s


@scenario
def tcp_midstream_loose0_keep():
    s = Scenario("tcp_midstream_loose0_keep",
                 "mid-stream with tcp_loose=0 and no invalid rule: LAN packets accepted by iifname, replies dropped",
                 R.ROUTED_KEEP_INVALID, L.topology(L.HOME, {"net.netfilter.nf_conntrack_tcp_loose": 0}))
    t = Tcp(C4, 43010, S4, 80, iss_c=123456, iss_s=654321)
    s.add(t.c("PA", b"GET /"))
    s.add(t.s("A"))
    s.add(t.s("PA", b"resp"))
    s.add(t.c("A"))
    s.add(t.c("FA"))
    s.add(t.s("FA"))
    return s


@scenario
def tcp_rst_and_reopen():
    s = Scenario("tcp_rst_and_reopen",
                 "connection reset by the server, then the same ports reopened with a new SYN",
                 R.ROUTED_DROP_INVALID, L.topology(L.HOME))
    t = _tcp_established(s, C4, 43100, S4, 80, iss_c=1000, iss_s=5000)
    s.add(t.s("R"))
    s.add(t.c("PA", b"late"), note="client data after RST")
    t2 = Tcp(C4, 43100, S4, 80, iss_c=900000, iss_s=800000)
    s.add(t2.full(), note="new SYN on the same tuple")
    return s


@scenario
def tcp_time_wait_reuse():
    s = Scenario("tcp_time_wait_reuse", "full close to TIME_WAIT, then a new SYN reuses the tuple; SYN retransmit",
                 R.HOME, L.topology(L.HOME))
    t = Tcp(C4, 43200, S4, 80, reply=(S4, 80, WAN4, 43200), iss_c=1000, iss_s=5000)
    s.add(t.full())
    t2 = Tcp(C4, 43200, S4, 80, reply=(S4, 80, WAN4, 43200), iss_c=70000, iss_s=9000)
    s.add(t2.c("S"))
    s.add(L.tcp(C4, 43200, S4, 80, 70000, 0, "S"), note="SYN retransmission")
    s.add(t2.s("SA"))
    s.add(t2.c("A"))
    s.add(t2.exchange())
    s.add(t2.s("FA"))
    s.add(t2.c("FA"))
    s.add(t2.s("A"))
    return s


@scenario
def tcp_simultaneous_and_odd_flags():
    s = Scenario("tcp_odd_flags",
                 "odd TCP flag combinations (SYN+FIN, no flags, FIN without ACK) against a stateful ruleset",
                 R.ROUTED_KEEP_INVALID, L.topology(L.HOME))
    s.add(tcp(C4, 43300, S4, 80, 1, 0, "SF"), note="SYN+FIN")
    s.add(tcp(C4, 43301, S4, 80, 1, 0, ""), note="no flags")
    s.add(tcp(C4, 43302, S4, 80, 1, 0, "F"), note="FIN only")
    s.add(tcp(C4, 43303, S4, 80, 1, 0, "SR"), note="SYN+RST")
    s.add(tcp(C4, 43304, S4, 80, 1, 0, "FSRPAU"), note="christmas tree")
    t = Tcp(C4, 43305, S4, 80)
    s.add(t.full())
    return s


# ------------------------------------------------------------------ NAT


@scenario
def masquerade_mixed():
    s = Scenario("masquerade_mixed", "several LAN hosts, TCP/UDP/ICMP through masquerade, interleaved",
                 R.HOME, L.topology(L.HOME))
    ts = [Tcp(C4, 44001, S4, 443, reply=(S4, 443, WAN4, 44001)),
          Tcp(C4b, 44002, S4, 443, reply=(S4, 443, WAN4, 44002), iss_c=31337),
          Tcp(C4c, 44003, S4b, 80, reply=(S4b, 80, WAN4, 44003), iss_c=4242)]
    hs = [t.handshake() for t in ts]
    for step in range(3):
        for h in hs:
            s.add(h[step])
    s.add(udp(C4, 44010, DNS4, 53, b"q"))
    s.add(echo(C4b, S4, 0x9999, 1))
    for t in ts:
        s.add(t.exchange())
    s.add(udp(DNS4, 53, WAN4, 44010, b"a"))
    s.add(echo(S4, WAN4, 0x9999, 1, reply=True))
    for t in ts:
        s.add(t.close())
    return s


@scenario
def masquerade_port_clash():
    s = Scenario("masquerade_port_clash",
                 "two LAN hosts use the same source port to the same server: the second is remapped (random port)",
                 R.HOME, L.topology(L.HOME))
    t1 = Tcp(C4, 44100, S4, 80, reply=(S4, 80, WAN4, 44100))
    s.add(t1.handshake())
    c1 = s.add(tcp(C4b, 44100, S4, 80, 5000, 0, "S"), note="clashes: kernel picks a random port")
    s.add(t1.exchange())
    s.add(t1.close())
    s.add(udp(C4, 44200, DNS4, 53, b"q1"))
    c2 = s.add(udp(C4b, 44200, DNS4, 53, b"q2"), note="UDP clash: random port")
    s.add(udp(DNS4, 53, WAN4, 44200, b"a1"), note="answer to the first flow")
    s.nondeterministic = [{"index": c1, "field": "nat"}, {"index": c2, "field": "nat"}]
    return s


@scenario
def nat66_masquerade():
    s = Scenario("nat66_masquerade", "NAT66: ULA LAN masqueraded to the wan0 global IPv6 address",
                 R.NAT66, L.topology(L.HOME_ULA))
    u1, u2 = "fd00:1::10", "fd00:1::11"
    t = Tcp(u1, 45001, S6, 443, reply=(S6, 443, WAN6, 45001))
    s.add(t.full())
    s.add(udp(u2, 45002, DNS6, 53, b"q"))
    s.add(udp(DNS6, 53, WAN6, 45002, b"a"))
    s.add(echo(u1, S6, 0x66, 1))
    s.add(echo(S6, WAN6, 0x66, 1, reply=True))
    s.add(udp(DNS6, 53, WAN6, 45003, b"unsolicited"))
    s.add(tcp(S6, 443, u1, 45001, 1, 2, "A"), note="direct to the ULA from wan: not the flow")
    t4 = Tcp(C4, 45004, S4, 80, reply=(S4, 80, WAN4, 45004))
    s.add(t4.handshake())
    return s


@scenario
def snat_explicit():
    s = Scenario("snat_explicit", "explicit snat to a second WAN address for one host, masquerade for others",
                 R.SNAT_EXPLICIT, L.topology(L.HOME))
    t = Tcp(C4, 45100, S4, 80, reply=(S4, 80, "203.0.113.5", 45100))
    s.add(t.full())
    t2 = Tcp(C4b, 45101, S4, 80, reply=(S4, 80, WAN4, 45101))
    s.add(t2.handshake() + t2.exchange())
    s.add(tcp(S4, 80, "203.0.113.5", 45101, 1, 2, "PA", b"x"), note="reply to the wrong NAT address")
    return s


@scenario
def dnat_port_forward_v4():
    s = Scenario("dnat_port_forward_v4",
                 "DNAT port forward wan:8080 -> 192.168.1.20:80 and a UDP range; replies SNATed back",
                 R.DNAT_PORT_FORWARD, L.topology(L.HOME))
    ext = "198.51.100.77"
    t = Tcp(ext, 46001, WAN4, 8080, reply=("192.168.1.20", 80, ext, 46001), iss_c=10, iss_s=20)
    s.add(t.full())
    s.add(udp(ext, 46002, WAN4, 5005, b"game"))
    s.add(udp("192.168.1.21", 5005, ext, 46002, b"game-reply"))
    s.add(tcp(ext, 46003, WAN4, 8081, 1, 0, "S"), note="not forwarded: dropped at input")
    s.add(tcp(ext, 46004, "192.168.1.20", 80, 1, 0, "S"), note="direct to the inside address: no dnat")
    s.add(udp(ext, 46005, WAN4, 5011, b"out of range"))
    t2 = Tcp(C4, 46006, S4, 80, reply=(S4, 80, WAN4, 46006))
    s.add(t2.handshake())
    return s


@scenario
def dnat_port_forward_v6():
    s = Scenario("dnat_port_forward_v6", "IPv6 DNAT port forward to a LAN server, replies rewritten back",
                 R.DNAT_PORT_FORWARD, L.topology(L.HOME))
    t = Tcp(S6, 46101, WAN6, 8080, reply=("2001:db8:1::20", 80, S6, 46101))
    s.add(t.full())
    s.add(tcp(S6, 46102, WAN6, 8081, 1, 0, "S"))
    t2 = Tcp(C6, 46103, S6, 80)
    s.add(t2.handshake())
    return s


@scenario
def redirect_to_fw():
    s = Scenario("redirect_to_fw",
                 "redirect LAN web and DNS to local proxy ports: delivered locally with the new port",
                 R.REDIRECT, L.topology(L.HOME))
    s.add(tcp(C4, 47001, S4, 80, 100, 0, "S"), note="redirected to :3128 on the fw")
    s.add(tcp(C4, 47001, S4, 80, 101, 1, "A"))
    s.add(udp(C4b, 47002, DNS4, 53, b"query"), note="redirected to :5353")
    s.add(udp(C4b, 47002, DNS4, 53, b"query again"))
    s.add(tcp(C4, 47003, S4, 443, 100, 0, "S"), note="not redirected: forwarded")
    s.add(tcp(C6, 47004, S6, 80, 100, 0, "S"), note="IPv6 redirect")
    s.add(tcp(C4, 47005, LAN4, 3128, 100, 0, "S"), note="direct to the proxy port")
    s.add(tcp(S4, 47006, WAN4, 3128, 100, 0, "S"), note="proxy port from wan: dropped")
    return s


@scenario
def hairpin_nat():
    s = Scenario("hairpin_nat",
                 "hairpin: LAN client reaches the LAN server via the public address (DNAT + masquerade on lan0)",
                 R.HAIRPIN, L.topology(L.HOME))
    t = Tcp(C4, 48001, WAN4, 8080, reply=("192.168.1.20", 80, LAN4, 48001), iss_c=10, iss_s=99)
    s.add(t.full())
    ext = "198.51.100.77"
    t2 = Tcp(ext, 48002, WAN4, 8080, reply=("192.168.1.20", 80, ext, 48002))
    s.add(t2.handshake() + t2.close())
    return s


@scenario
def home_many_flows_v4():
    s = Scenario("home_many_flows_v4", "home router: 16 interleaved LAN TCP flows through masquerade, full lifecycles",
                 R.HOME, L.topology(L.HOME))
    clients = [C4, C4b, C4c, "192.168.1.13"]
    flows = []
    for i in range(16):
        cl = clients[i % 4]
        port = 62000 + i
        srv = (S4, S4b, DNS4)[i % 3]
        dport = (80, 443, 8080, 22)[i % 4]
        t = Tcp(cl, port, srv, dport, reply=(srv, dport, WAN4, port), iss_c=1000 + 977 * i,
                iss_s=3000000 + 7919 * i)
        flows.append(t.full())
    # round-robin interleave, the way a busy capture looks
    for step in range(max(len(f) for f in flows)):
        for f in flows:
            if step < len(f):
                s.add(f[step])
    return s


@scenario
def home_many_flows_v6():
    s = Scenario("home_many_flows_v6", "8 interleaved IPv6 TCP and UDP flows, routed, with strays in between",
                 R.HOME_NAT4, L.topology(L.HOME))
    flows = []
    for i in range(6):
        t = Tcp((C6, C6b)[i % 2], 63000 + i, S6, (80, 443, 993)[i % 3], iss_c=500 + i * 1237,
                iss_s=8000000 + i * 4441)
        flows.append(t.full())
    for i in range(2):
        port = 63100 + i
        flows.append([udp(C6, port, DNS6, 53, b"q%d" % k) if k % 2 == 0 else udp(DNS6, 53, C6, port, b"a%d" % k)
                      for k in range(6)])
    for step in range(max(len(f) for f in flows)):
        for f in flows:
            if step < len(f):
                s.add(f[step])
        if step % 4 == 3:
            s.add(tcp(S6, 443, C6, 63050 + step, 1, 1, "A"), note="stray ACK from wan")
    return s


# --------------------------------------------------------------- timeouts


@scenario
def timeout_udp():
    sc = {"net.netfilter.nf_conntrack_udp_timeout": 2, "net.netfilter.nf_conntrack_udp_timeout_stream": 3}
    s = Scenario("timeout_udp",
                 "UDP timeouts 2 s (udp_timeout) / 3 s (stream, only once a replied flow is older than 2 s)",
                 R.HOME, L.topology(L.HOME, sc), honour_gaps=True)
    s.add(udp(C4, 49001, DNS4, 53, b"a"))
    s.add(udp(C4b, 49002, DNS4, 53, b"b"))
    s.add(udp(C4c, 49003, DNS4, 53, b"c"))
    s.wait(1.0)
    s.add(udp(DNS4, 53, WAN4, 49003, b"c-reply"), note="1.0 s: in time")
    s.wait(0.5)
    s.add(udp(DNS4, 53, WAN4, 49001, b"a-reply"), note="1.5 s after the query: in time")
    s.wait(1.0)  # 2.5 s after the second query
    s.add(udp(DNS4, 53, WAN4, 49002, b"b-reply"), note="2.5 s after the query: expired")
    s.wait(0.5)  # 3.0: flow a idle 1.5 s; replied and older than 2 s -> stream timeout from now
    s.add(udp(C4, 49001, DNS4, 53, b"a-again"), note="flow a now older than 2 s: stream timeout (3 s)")
    s.add(udp(DNS4, 53, WAN4, 49003, b"c-late"),
          note="flow c replied at 1.0 s, idle 2.0 s under the 2 s timeout: expired (replied too early for stream)")
    s.wait(2.5)
    s.add(udp(DNS4, 53, WAN4, 49001, b"a-more"), note="idle 2.5 s: alive only thanks to the stream timeout")
    s.wait(3.6)
    s.add(udp(DNS4, 53, WAN4, 49001, b"a-late"), note="3.6 s idle: expired")
    s.add(udp(C4, 49001, DNS4, 53, b"a-new"), note="new entry")
    return s


@scenario
def timeout_udp_via_set():
    """The same UDP timeouts given on the command line (oracle --sysctl, fwsim --set)."""
    base = timeout_udp()
    s = Scenario("timeout_udp_via_set",
                 "timeout_udp with the sysctls passed as --sysctl (oracle) / --set (fwsim), not in topology.json",
                 R.HOME, L.topology(L.HOME), honour_gaps=True,
                 sysctls=base.topo["sysctls"])
    s.frames, s.notes = base.frames, base.notes
    return s


@scenario
def tcp_midstream_loose0_via_set():
    base = tcp_midstream_loose0()
    s = Scenario("tcp_midstream_loose0_via_set",
                 "tcp_midstream_loose0 with nf_conntrack_tcp_loose=0 passed as --sysctl / --set",
                 R.ROUTED_DROP_INVALID, L.topology(L.HOME), sysctls={"net.netfilter.nf_conntrack_tcp_loose": 0})
    s.frames, s.notes = base.frames, base.notes
    return s


@scenario
def timeout_tcp():
    sc = {"net.netfilter.nf_conntrack_tcp_timeout_established": 3,
          "net.netfilter.nf_conntrack_tcp_timeout_syn_sent": 2}
    s = Scenario("timeout_tcp",
                 "TCP established timeout 3 s and syn_sent 2 s: idle flows expire, late packets dropped",
                 R.HOME, L.topology(L.HOME, sc), honour_gaps=True)
    t = Tcp(C4, 49101, S4, 80, reply=(S4, 80, WAN4, 49101))
    s.add(t.handshake())
    s.add(udp(C4b, 49150, DNS4, 53, b"keep"))
    s.wait(2.4)
    s.add(t.s("PA", b"still there"), note="2.4 s idle: alive")
    s.add(t.c("A"))
    s.add(tcp(C4b, 49102, S4, 80, 500, 0, "S"), note="SYN; its SYN-ACK comes too late")
    s.wait(2.5)
    s.add(tcp(S4, 80, WAN4, 49102, 9000, 501, "SA"), note="2.5 s after SYN: syn_sent expired")
    s.wait(1.2)  # flow 1 idle 3.7 s
    s.add(t.s("PA", b"too late"), note="3.7 s idle: expired, loose pickup from wan dropped")
    s.add(t.c("PA", b"client speaks"), note="client picks it up again (loose)")
    s.add(t.s("A"), note="reply to the picked-up flow")
    return s


@scenario
def timeout_icmp():
    s = Scenario("timeout_icmp", "ICMP timeout lowered to 2 s: echo reply after 2.5 s is dropped",
                 R.HOME, L.topology(L.HOME, {"net.netfilter.nf_conntrack_icmp_timeout": 2}),
                 honour_gaps=True)
    s.add(echo(C4, S4, 0x10, 1))
    s.add(echo(C4, S4b, 0x11, 1))
    s.wait(1.4)
    s.add(echo(S4, WAN4, 0x10, 1, reply=True), note="1.4 s: in time")
    s.wait(1.1)
    s.add(echo(S4b, WAN4, 0x11, 1, reply=True), note="2.5 s: expired")
    return s


@scenario
def timeout_tcp_close():
    sc = {"net.netfilter.nf_conntrack_tcp_timeout_time_wait": 2,
          "net.netfilter.nf_conntrack_tcp_timeout_close": 1}
    s = Scenario("timeout_tcp_close",
                 "TIME_WAIT 2 s and CLOSE 1 s: last ACK retransmission in time, late packets new",
                 R.ROUTED_DROP_INVALID, L.topology(L.HOME, sc), honour_gaps=True)
    t = Tcp(C4, 49201, S4, 80)
    s.add(t.full())
    s.wait(1.0)
    s.add(t.s("FA", seq=t.s_seq - 1), note="FIN retransmitted 1 s into TIME_WAIT")
    s.wait(2.5)
    s.add(t.s("FA", seq=t.s_seq - 1), note="after TIME_WAIT expired: FIN cannot start a flow, invalid")
    u = Tcp(C4b, 49202, S4, 80)
    s.add(u.handshake())
    s.add(u.s("R"))
    s.wait(1.6)
    s.add(u.s("PA", b"zombie"), note="after CLOSE expired")
    return s


# ------------------------------------------------------------- fragments


@scenario
def ipv4_fragments():
    s = Scenario("ipv4_fragments",
                 "IPv4 fragments: reassembled before conntrack/NAT; in order, out of order, incomplete",
                 R.HOME, L.topology(L.HOME))
    big = udp(C4, 50001, DNS4, 53, bytes(range(256)) * 10, ip_id=0x1001)
    s.add_fragments(L.ipv4_fragments(L.ipv4_clear_df(big), 1024), note="3 fragments in order")
    s.add(udp(DNS4, 53, WAN4, 50001, b"small answer", ip_id=0x2001))
    ans = udp(DNS4, 53, WAN4, 50001, b"A" * 2000, ip_id=0x2002)
    f = L.ipv4_fragments(L.ipv4_clear_df(ans), 800)
    s.add_fragments([f[2], f[0], f[1]], note="answer fragments out of order")
    ping = echo(C4b, S4, 0x42, 1, data=b"P" * 1800, ip_id=0x1003)
    s.add_fragments(L.ipv4_fragments(L.ipv4_clear_df(ping), 1200), note="fragmented ping")
    s.add(echo(S4, WAN4, 0x42, 1, reply=True, data=b"pong", ip_id=0x2003))
    lost = udp(C4, 50002, DNS4, 53, b"L" * 1500, ip_id=0x1004)
    s.add_fragments(L.ipv4_fragments(L.ipv4_clear_df(lost), 1024)[:1], note="first fragment only: never completes")
    unsol = udp(S4, 5000, WAN4, 50009, b"U" * 1500, ip_id=0x2004)
    s.add_fragments(L.ipv4_fragments(L.ipv4_clear_df(unsol), 1024), note="unsolicited fragmented datagram")
    return s


@scenario
def ipv6_fragments():
    s = Scenario("ipv6_fragments",
                 "IPv6 fragments (fragment header): reassembled before conntrack; in order, reversed, incomplete",
                 R.HOME_NAT4, L.topology(L.HOME))
    big = udp(C6, 50101, DNS6, 53, bytes(range(256)) * 8)
    s.add_fragments(L.ipv6_fragments(big, 1024, 0x11111111), note="2 fragments in order")
    ans = udp(DNS6, 53, C6, 50101, b"B" * 2500)
    f = L.ipv6_fragments(ans, 1024, 0x22222222)
    s.add_fragments(list(reversed(f)), note="answer fragments in reverse order")
    lost = udp(C6b, 50102, DNS6, 53, b"L" * 1500)
    s.add_fragments(L.ipv6_fragments(lost, 1024, 0x33333333)[1:], note="first fragment missing: never completes")
    unsol = udp(S6, 5000, C6, 50109, b"U" * 1500)
    s.add_fragments(L.ipv6_fragments(unsol, 1024, 0x44444444), note="unsolicited fragmented datagram")
    s.add(udp(DNS6, 53, C6, 50101, b"small"))
    return s


@scenario
def bad_checksums():
    s = Scenario("bad_checksums",
                 "bad TCP/UDP checksums are invalid to conntrack (nf_conntrack_checksum=1); bad IPv4 header dropped",
                 R.HOME, L.topology(L.HOME))
    t = Tcp(C4, 50201, S4, 80, reply=(S4, 80, WAN4, 50201))
    s.add(L.corrupt_l4_checksum(t.c("S", seq=t.c_seq)), note="SYN with a bad checksum: invalid")
    s.add(t.handshake())
    s.add(L.corrupt_l4_checksum(t.s("PA", b"corrupt", seq=t.s_seq)), note="reply data with a bad checksum")
    s.add(t.exchange())
    s.add(L.corrupt_l4_checksum(udp(C4, 50202, DNS4, 53, b"q")), note="UDP bad checksum")
    s.add(udp(C4, 50203, DNS4, 53, b"q"))
    s.add(L.corrupt_ipv4_header_checksum(udp(C4, 50204, DNS4, 53, b"q")), note="bad IPv4 header checksum")
    s.add(L.corrupt_l4_checksum(tcp(C6, 50205, S6, 80, 1, 0, "S")), note="IPv6 TCP bad checksum")
    return s


@scenario
def bad_checksums_nocheck():
    s = Scenario("bad_checksums_nocheck",
                 "same bad checksums with nf_conntrack_checksum=0: conntrack tracks them",
                 R.HOME, L.topology(L.HOME, {"net.netfilter.nf_conntrack_checksum": 0}))
    t = Tcp(C4, 50201, S4, 80, reply=(S4, 80, WAN4, 50201))
    s.add(L.corrupt_l4_checksum(t.c("S", seq=t.c_seq)))
    s.add(t.handshake())
    s.add(L.corrupt_l4_checksum(t.s("PA", b"corrupt", seq=t.s_seq)))
    s.add(L.corrupt_l4_checksum(udp(C4, 50202, DNS4, 53, b"q")))
    s.add(L.corrupt_ipv4_header_checksum(udp(C4, 50204, DNS4, 53, b"q")), note="bad IPv4 header checksum")
    return s


@scenario
def tcp_be_liberal():
    s = Scenario("tcp_be_liberal",
                 "nf_conntrack_tcp_be_liberal=1: out-of-window segments, even an RST, are not invalid",
                 R.ROUTED_DROP_INVALID, L.topology(L.HOME, {"net.netfilter.nf_conntrack_tcp_be_liberal": 1}))
    t = _tcp_established(s, C4, 50301, S4, 80, iss_c=10000, iss_s=2000000)
    s.add(t.s("PA", b"far ahead", seq=t.s_seq + 5000000))
    s.add(t.c("PA", b"far ahead", seq=t.c_seq + 5000000))
    s.add(t.s("R", seq=t.s_seq + 3000000), note="RST far outside window: accepted, the entry stays")
    s.add(t.exchange())
    s.add(t.close())
    return s


# --------------------------------------------------------------- reject


@scenario
def reject_v4():
    s = Scenario("reject_v4", "reject with tcp reset, icmp port unreachable, host-prohibited, icmpx (IPv4)",
                 R.REJECT, L.topology(L.HOME))
    s.add(tcp(C4, 51001, S4, 23, 1, 0, "S"), note="forward: tcp reset")
    s.add(udp(C4, 51002, S4, 69, b"tftp"), note="forward: icmp port unreachable")
    s.add(echo(C4, "198.51.100.99", 5, 1), note="host-prohibited")
    s.add(tcp(C4, 51003, S4, 25, 1, 0, "S"), note="icmpx admin-prohibited")
    s.add(tcp(C4, 51004, LAN4, 22, 1, 0, "S"), note="input: tcp reset")
    s.add(udp(C4, 51005, LAN4, 161, b"snmp"), note="input: icmp port unreachable")
    s.add(tcp(S4, 51006, C4, 23, 1, 0, "S"), note="wan: forward reject comes before the wan drop")
    t = Tcp(C4, 51007, S4, 80)
    s.add(t.handshake())
    return s


@scenario
def reject_v6():
    s = Scenario("reject_v6", "reject with tcp reset, icmpv6 port unreachable, admin-prohibited (IPv6)",
                 R.REJECT, L.topology(L.HOME))
    s.add(tcp(C6, 51101, S6, 23, 1, 0, "S"))
    s.add(udp(C6, 51102, S6, 69, b"tftp"))
    s.add(echo(C6, "2001:db8:beef::99", 5, 1))
    s.add(tcp(C6, 51103, S6, 25, 1, 0, "S"))
    s.add(tcp(C6, 51104, LAN6, 22, 1, 0, "S"))
    s.add(udp(C6, 51105, LAN6, 161, b"snmp"))
    t = Tcp(C6, 51107, S6, 80)
    s.add(t.handshake())
    return s


# ------------------------------------------------------- chains and sets


@scenario
def jump_goto_sets_v4():
    s = Scenario("jump_goto_sets_v4", "jump/goto/return, verdict maps, named and anonymous sets, intervals (IPv4)",
                 R.JUMP_GOTO_SETS, L.topology(L.HOME))
    for port in (80, 443, 8443, 8080):
        t = Tcp(C4, 52000 + port % 1000, S4, port)
        s.add(t.handshake())
    s.add(tcp(C4, 52100, "198.51.100.200", 80, 1, 0, "S"), note="in blocked interval")
    s.add(tcp(C4, 52101, "192.0.2.7", 443, 1, 0, "S"), note="blocked single address")
    s.add(tcp(C4, 52102, "198.51.100.22", 22, 1, 0, "S"), note="goto ssh_out: allowed host")
    s.add(tcp(C4, 52103, S4, 22, 1, 0, "S"), note="goto ssh_out: drop")
    s.add(udp(C4, 52104, DNS4, 53, b"q"))
    s.add(udp(C4, 52105, DNS4, 123, b"ntp"), note="from_lan returns, falls to policy")
    s.add(echo(C4, S4, 1, 1))
    s.add(tcp(S4, 52106, C4, 80, 1, 0, "S"), note="from wan, port 80 accepted by vmap")
    s.add(tcp(S4, 52107, C4, 25, 1, 0, "S"), note="from wan, port 25 dropped by vmap")
    s.add(tcp(S4, 52108, C4, 8080, 1, 0, "S"), note="goto from_wan returns to base policy")
    s.add(tcp(C4, 52109, LAN4, 22, 1, 0, "S"), note="input jump lan_in accepts")
    s.add(udp(C4, 52110, LAN4, 53, b"q"))
    s.add(tcp(C4, 52111, LAN4, 80, 1, 0, "S"), note="lan_in returns: input policy drop")
    s.add(echo(C4, LAN4, 2, 1))
    return s


@scenario
def jump_goto_sets_v6():
    s = Scenario("jump_goto_sets_v6", "jump/goto/vmap/sets with IPv6 traffic",
                 R.JUMP_GOTO_SETS, L.topology(L.HOME))
    for port in (80, 443, 25):
        t = Tcp(C6, 53000 + port, S6, port)
        s.add(t.handshake())
    s.add(tcp(C6, 53100, "2001:db8:bad::1", 443, 1, 0, "S"))
    s.add(udp(C6, 53101, DNS6, 53, b"q"))
    s.add(echo(C6, S6, 3, 1))
    s.add(tcp(S6, 53102, C6, 443, 1, 0, "S"))
    s.add(tcp(S6, 53103, C6, 25, 1, 0, "S"))
    s.add(tcp(C6, 53104, LAN6, 53, 1, 0, "S"))
    s.add(echo(C6, LAN6, 3, 2))
    return s


@scenario
def base_chain_priorities():
    s = Scenario("base_chain_priorities",
                 "three forward base chains (-10, 0, 10) and a prerouting -150 chain: accept ends only its chain",
                 R.PRIORITIES, L.topology(L.HOME))
    t = Tcp(C4, 54001, S4, 80)
    s.add(t.handshake(), note="accepted by early? no rule; late allows 80")
    s.add(tcp(C4, 54002, S4, 6666, 1, 0, "S"), note="early drops: drop ends everything")
    s.add(tcp(C4, 54003, S4, 7000, 1, 0, "S"), note="early accepts, late drops (policy)")
    s.add(udp(C4, 54004, S4, 9999, b"x"), note="early accepts, mid drops")
    s.add(udp(C4, 54005, DNS4, 53, b"q"))
    s.add(udp(DNS4, 53, C4, 54005, b"a"))
    s.add(tcp("192.0.2.66", 54006, C4, 80, 1, 0, "S"), note="prerouting -150 drop")
    s.add(tcp(S4, 54007, C4, 80, 1, 0, "S"), note="wan to lan:80 accepted by late")
    s.add(tcp(C6, 54008, S6, 80, 1, 0, "S"))
    s.add(tcp("2001:db8:bad::66", 54009, C6, 80, 1, 0, "S"))
    s.add(tcp(C6, 54010, S6, 7000, 1, 0, "S"))
    return s


@scenario
def limit_rate():
    s = Scenario("limit_rate", "limit rate 1/minute with bursts: first packets pass, the rest dropped",
                 R.LIMIT, L.topology(L.HOME), honour_gaps=True)
    for i in range(8):
        s.add(echo(C4, S4, 0x50, i + 1), gap=0.05)
    for i in range(5):
        s.add(echo(C6, S6, 0x51, i + 1), gap=0.05)
    for i in range(8):
        s.add(udp(C4, 55000 + i, S4, 514, b"syslog %d" % i), gap=0.05)
    return s


# ------------------------------------------------------------------ DMZ


@scenario
def dmz_three_interfaces_v4():
    s = Scenario("dmz_three_interfaces_v4",
                 "lan/dmz/wan: lan->any, dmz->wan web+dns only, wan->dmz server web, dmz->lan denied",
                 R.DMZ, L.topology(L.DMZ))
    srv = "10.0.2.10"
    t = Tcp(C4, 56001, srv, 443)
    s.add(t.handshake() + t.exchange())
    s.add(tcp(srv, 56002, C4, 22, 1, 0, "S"), note="dmz -> lan denied")
    t2 = Tcp(srv, 56003, S4, 80)
    s.add(t2.handshake(), note="dmz -> wan web, not masqueraded (only LAN is)")
    s.add(tcp(srv, 56004, S4, 25, 1, 0, "S"), note="dmz -> wan smtp denied")
    t3 = Tcp(S4, 56005, srv, 443)
    s.add(t3.full(), note="wan -> dmz server")
    s.add(tcp(S4, 56006, "10.0.2.11", 443, 1, 0, "S"), note="wan -> other dmz host denied")
    s.add(tcp(S4, 56007, C4, 443, 1, 0, "S"), note="wan -> lan denied")
    t4 = Tcp(C4b, 56008, S4, 80, reply=(S4, 80, WAN4, 56008))
    s.add(t4.handshake(), note="lan -> wan masqueraded")
    s.add(echo(srv, "10.0.2.1", 1, 1), note="ping fw from dmz")
    s.add(tcp(srv, 56009, "10.0.2.1", 22, 1, 0, "S"), note="ssh to fw from dmz denied")
    s.add(udp(srv, 56010, DNS4, 53, b"q"))
    s.add(udp(DNS4, 53, srv, 56010, b"a"))
    return s


@scenario
def dmz_three_interfaces_v6():
    s = Scenario("dmz_three_interfaces_v6", "lan/dmz/wan policy with IPv6 (no NAT)", R.DMZ, L.topology(L.DMZ))
    srv = "2001:db8:2::10"
    t = Tcp(C6, 56101, srv, 80)
    s.add(t.handshake())
    s.add(tcp(srv, 56102, C6, 22, 1, 0, "S"))
    t3 = Tcp(S6, 56103, srv, 443)
    s.add(t3.handshake() + t3.close())
    s.add(tcp(S6, 56104, srv, 22, 1, 0, "S"))
    s.add(tcp(srv, 56105, S6, 443, 1, 0, "S"))
    s.add(echo(srv, "2001:db8:2::1", 1, 1))
    return s


# -------------------------------------------------- misc stateful features


@scenario
def ct_mark_and_notrack():
    s = Scenario("ct_mark_and_notrack",
                 "notrack in raw (untracked NTP), ct mark set on the first packet and matched on replies",
                 R.CT_MARK_NOTRACK, L.topology(L.HOME))
    s.add(udp(C4, 123, S4, 123, b"ntp"), note="untracked")
    s.add(udp(S4, 123, C4, 123, b"ntp reply"), note="untracked reply")
    t = Tcp(C4, 57001, S4, 80)
    s.add(t.handshake() + t.exchange(), note="ct mark 1: established accepted")
    u = Tcp(C4, 57002, S4, 8888)
    s.add(u.handshake(), note="ct mark 2 set on SYN; SYN-ACK dropped by the mark rule")
    s.add(udp(S4, 5000, C4, 5000, b"unsolicited"))
    return s


@scenario
def ct_new_until_reply():
    s = Scenario("ct_new_until_reply",
                 "UDP: original-direction packets stay ct new until the first reply, then established",
                 R.PERMISSIVE, L.topology(L.HOME))
    for i in range(3):
        s.add(udp(C4, 58001, S4, 9000, b"ping %d" % i))
    s.add(udp(S4, 9000, C4, 58001, b"pong"))
    s.add(udp(C4, 58001, S4, 9000, b"ping 4"))
    t = Tcp(C4, 58002, S4, 80)
    s.add(t.c("S"))
    s.add(L.tcp(C4, 58002, S4, 80, t.c_seq - 1, 0, "S"))
    s.add(t.s("SA"))
    s.add(t.c("A"))
    s.add(echo(C4, S4, 0x1, 1))
    s.add(echo(C4, S4, 0x1, 2))
    s.add(echo(S4, C4, 0x1, 1, reply=True))
    return s


@scenario
def stateless_ruleset():
    s = Scenario("stateless_ruleset", "a stateless ip-family ruleset (no ct matches): port-based accept both ways",
                 R.STATELESS, L.topology(L.HOME), compare=["verdict", "nat"])
    s.add(udp(C4, 59001, DNS4, 53, b"q"))
    s.add(udp(DNS4, 53, C4, 59001, b"a"))
    s.add(udp(S4, 53, C4, 6000, b"sport 53 passes statelessly"))
    s.add(tcp(C4, 59002, S4, 80, 1, 0, "S"))
    s.add(echo(C4, S4, 1, 1))
    s.add(echo(S4, C4, 1, 1, reply=True))
    s.add(tcp(C6, 59003, S6, 53, 1, 0, "S"), note="IPv6 not matched by the ip table: accepted")
    return s


@scenario
def input_services():
    s = Scenario("input_services", "services on the firewall itself: allowed per interface and source",
                 R.INPUT_SERVICES, L.topology(L.HOME))
    s.add(tcp(C4, 60001, LAN4, 22, 1, 0, "S"))
    s.add(tcp(C4, 60002, LAN4, 23, 1, 0, "S"))
    s.add(udp(C4, 68, LAN4, 67, b"dhcp"))
    s.add(udp(C4, 60003, LAN4, 53, b"dns"))
    s.add(tcp(S4, 60004, WAN4, 22, 1, 0, "S"))
    s.add(tcp(S4, 60005, WAN4, 443, 1, 0, "S"))
    s.add(tcp("192.0.2.50", 60006, WAN4, 443, 1, 0, "S"))
    s.add(echo(S4, WAN4, 1, 1))
    s.add(echo(S6, WAN6, 1, 1))
    s.add(tcp(C6, 60007, LAN6, 53, 1, 0, "S"))
    s.add(tcp(C4, 60008, WAN4, 22, 1, 0, "S"), note="LAN host to the fw's WAN address")
    s.add(tcp(C4, 60009, S4, 80, 1, 0, "S"), note="forward policy drop")
    return s


@scenario
def ttl_expiry():
    s = Scenario("ttl_expiry", "forwarded packets with TTL/hop limit 1 are dropped by routing (time exceeded)",
                 R.PERMISSIVE, L.topology(L.HOME))
    s.add(udp(C4, 61001, S4, 33434, b"t", ttl=1))
    s.add(udp(C4, 61002, S4, 33434, b"t", ttl=2))
    s.add(udp(C6, 61003, S6, 33434, b"t", ttl=1))
    s.add(udp(C6, 61004, S6, 33434, b"t", ttl=2))
    s.add(echo(C4, LAN4, 1, 1, ttl=1), note="TTL 1 to the fw itself: delivered")
    return s


@scenario
def hardening_flags_connlimit():
    s = Scenario("hardening_flags_connlimit",
                 "tcp flag checks in prerouting, new-but-not-SYN drop, ct count over N, meta mark, log",
                 R.HARDENING, L.topology(L.HOME))
    srv = "192.168.1.20"
    s.add(tcp(C4, 64001, S4, 80, 1, 0, "SF"), note="SYN+FIN dropped in prerouting")
    s.add(tcp(C4, 64002, S4, 80, 1, 0, "SR"), note="SYN+RST dropped in prerouting")
    s.add(tcp(C4, 64003, S4, 80, 1, 0, ""), note="no flags dropped in prerouting")
    s.add(tcp(C4, 64004, S4, 80, 1, 2, "A"), note="new (loose pickup) but not SYN: dropped")
    t = Tcp(C4, 64005, S4, 80)
    s.add(t.handshake() + t.exchange())
    conns = []
    for k in range(4):
        c = Tcp(S4, 64010 + k, srv, 80, iss_c=100 * k + 1)
        conns.append(c)
        s.add(c.c("S"), note="inbound web connection %d (ct count over 2: third and later dropped)" % (k + 1)
              if k in (0, 2) else None)
    for c in conns[:2]:
        s.add(c.s("SA"))
        s.add(c.c("A"))
    s.add(tcp(S4b, 64023, srv, 80, 1, 0, "S"), note="other source: still limited by ct count")
    return s


@scenario
def dynamic_set_trap():
    s = Scenario("dynamic_set_trap", "a trap port adds the source to a dynamic set that is then dropped",
                 R.DYNAMIC_SET, L.topology(L.HOME))
    srv = "192.168.1.20"
    t = Tcp(S4b, 64030, srv, 80)
    s.add(t.handshake(), note="allowed before the trap")
    s.add(tcp(S4b, 64020, WAN4, 2323, 1, 0, "S"), note="trap port: source added to the set")
    s.add(tcp(S4b, 64021, srv, 80, 1, 0, "S"), note="blocklisted source, new connection")
    s.add(t.c("PA", b"x"), note="blocklisted source, established flow: prerouting drop comes first")
    s.add(udp(S4b, 64022, C4, 53, b"x"), note="blocklisted source, UDP")
    s.add(tcp(S4, 64023, srv, 80, 1, 0, "S"), note="other source unaffected")
    return s


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(L.REPO, "tests", "kernel", "scenarios"))
    a = ap.parse_args(argv)
    total = 0
    names = set()
    for fn in SCENARIOS:
        s = fn()
        assert s.name not in names, s.name
        names.add(s.name)
        total += s.write(a.out)
    print("wrote %d scenarios, %d packets, to %s" % (len(names), total, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
