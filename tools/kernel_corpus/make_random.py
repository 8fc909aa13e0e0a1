#!/usr/bin/python3
"""Seeded generator of small mixed kernel-corpus scenarios.

usage: /usr/bin/python3 tools/kernel_corpus/make_random.py --seed S --count N [--out tests/kernel/random]

Each scenario: a random small ruleset (allow/deny rules over interfaces,
addresses, ports, sets and ct state, optional masquerade), a home or DMZ
topology (sometimes with tcp_loose 0 or be_liberal 1), and a few random flows
(TCP/UDP/ICMP, IPv4/IPv6, in random directions) whose handshake, data and close
are randomly omitted or reordered, with injected invalid packets (out of
window, SYN-ACK without SYN, bad RST, stray ACKs, unsolicited replies). Flows
are interleaved at random. Scenario k depends only on (seed, k), so
`--count` can grow without changing earlier scenarios. Goldens come from
tools/kernel_corpus/regen-goldens.
"""

import argparse
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as L  # noqa: E402
from corpus_lib import Scenario, Tcp, tcp, udp, echo, icmp_error  # noqa: E402

WAN4, WAN6 = "203.0.113.1", "2001:db8:ffff::1"
HOSTS = {
    "lan0": (["192.168.1.10", "192.168.1.11", "192.168.1.12"], ["2001:db8:1::10", "2001:db8:1::11"]),
    "dmz0": (["10.0.2.10", "10.0.2.11"], ["2001:db8:2::10"]),
    "wan0": (["198.51.100.20", "198.51.100.21", "198.51.100.200", "192.0.2.7"],
             ["2001:db8:beef::20", "2001:db8:beef::21", "2001:db8:bad::1"]),
}
FW_ADDR = {"lan0": ("192.168.1.1", "2001:db8:1::1"), "dmz0": ("10.0.2.1", "2001:db8:2::1"),
           "wan0": (WAN4, WAN6)}
TCP_PORTS = [22, 25, 80, 443, 8080, 3389]
UDP_PORTS = [53, 123, 161, 514, 5060]


# ------------------------------------------------------------- rulesets


def rand_rule(rng, ifaces, hook):
    parts = []
    if rng.random() < 0.5:
        i = rng.choice(ifaces)
        parts.append('iifname "%s"' % i)
        if hook == "forward" and rng.random() < 0.3:
            o = rng.choice([x for x in ifaces if x != i])
            parts.append('oifname "%s"' % o)
    r = rng.random()
    if r < 0.15:
        fam = rng.choice(["ip", "ip6"])
        if fam == "ip":
            parts.append("ip %s %s" % (rng.choice(["saddr", "daddr"]),
                                       rng.choice(["198.51.100.0/24", "192.168.1.10", "198.51.100.128/25",
                                                   "10.0.2.0/24", "@bad4"])))
        else:
            parts.append("ip6 %s %s" % (rng.choice(["saddr", "daddr"]),
                                        rng.choice(["2001:db8:beef::/48", "2001:db8:1::10", "@bad6"])))
    r = rng.random()
    if r < 0.45:
        ports = rng.sample(TCP_PORTS, rng.randint(1, 3))
        parts.append("tcp dport %s" % (ports[0] if len(ports) == 1 else "{ %s }" % ", ".join(map(str, sorted(ports)))))
    elif r < 0.65:
        ports = rng.sample(UDP_PORTS, rng.randint(1, 2))
        parts.append("udp dport %s" % (ports[0] if len(ports) == 1 else "{ %s }" % ", ".join(map(str, sorted(ports)))))
    elif r < 0.72:
        parts.append("tcp dport @svc")
    elif r < 0.8:
        parts.append(rng.choice(["icmp type echo-request", "icmpv6 type echo-request",
                                 "meta l4proto { icmp, ipv6-icmp }"]))
    if rng.random() < 0.2:
        parts.append("ct state %s" % rng.choice(["new", "established", "new,established"]))
    if not parts:
        parts.append("meta l4proto %s" % rng.choice(["tcp", "udp"]))
    v = rng.random()
    if v < 0.5:
        verdict = "accept"
    elif v < 0.8:
        verdict = "drop"
    elif v < 0.9:
        verdict = "counter accept"
    else:
        verdict = "reject" if "ct state" not in " ".join(parts) else "drop"
    return " ".join(parts + [verdict])


def rand_ruleset(rng, ifaces, masq):
    lines = ["flush ruleset", "", "table inet filter {",
             "\tset bad4 {", "\t\ttype ipv4_addr", "\t\tflags interval",
             "\t\telements = { 198.51.100.200, 192.0.2.0/24 }", "\t}", "",
             "\tset bad6 {", "\t\ttype ipv6_addr", "\t\telements = { 2001:db8:bad::1 }", "\t}", "",
             "\tset svc {", "\t\ttype inet_service",
             "\t\telements = { %s }" % ", ".join(map(str, sorted(rng.sample(TCP_PORTS, 3)))), "\t}"]
    for hook in ("input", "forward"):
        policy = "drop" if rng.random() < 0.75 else "accept"
        lines += ["", "\tchain %s {" % hook,
                  "\t\ttype filter hook %s priority filter; policy %s;" % (hook, policy)]
        stateful = rng.random() < 0.8
        if stateful and rng.random() < 0.7:
            lines.append("\t\tct state invalid drop")
        if stateful:
            lines.append("\t\tct state established,related accept")
        for _ in range(rng.randint(1, 6)):
            lines.append("\t\t" + rand_rule(rng, ifaces, hook))
        if rng.random() < 0.5:
            lines.append('\t\tiifname "lan0" accept')
        lines.append("\t}")
    lines.append("}")
    if masq:
        lines += ["", "table ip nat {", "\tchain postrouting {",
                  "\t\ttype nat hook postrouting priority srcnat; policy accept;",
                  '\t\toifname "wan0" ip saddr 192.168.1.0/24 masquerade', "\t}", "}"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- flows


class Ports:
    def __init__(self, rng):
        self.next = 20000 + rng.randint(0, 20000)

    def take(self):
        self.next += 1
        return self.next


def endpoints(rng, ifaces, v6):
    """Pick (client, server, client_iface, server_iface); server may be the fw."""
    ci = rng.choice(ifaces)
    si = rng.choice([i for i in ifaces if i != ci] + ["fw"])
    c = rng.choice(HOSTS[ci][1 if v6 else 0])
    if si == "fw":
        s = FW_ADDR[rng.choice([ci, ci, "wan0"])][1 if v6 else 0]
    else:
        s = rng.choice(HOSTS[si][1 if v6 else 0])
    return c, s, ci, si


def tcp_flow(rng, c, cport, s, sport, reply_to):
    t = Tcp(c, cport, s, sport, reply=(s, sport) + reply_to, iss_c=rng.randint(1, 2**31),
            iss_s=rng.randint(1, 2**31))
    pkts = []
    midstream = rng.random() < 0.15
    if midstream:
        t.c_seq += 1
        t.s_seq += 1
    else:
        pkts.append(t.c("S"))
        if rng.random() < 0.1:
            pkts.append(L.tcp(c, cport, s, sport, t.c_seq - 1, 0, "S"))  # SYN retransmission
        if rng.random() < 0.9:
            pkts.append(t.s("SA"))
        else:
            t.s_seq += 1
        pkts.append(t.c("A"))
    for _ in range(rng.randint(0, 3)):
        pkts.append(t.c("PA", b"req" * rng.randint(1, 20)))
        if rng.random() < 0.9:
            pkts.append(t.s("PA", b"resp" * rng.randint(1, 40)))
        pkts.append(t.c("A"))
    bad = rng.random()
    if bad < 0.1:
        pkts.append(t.s("PA", b"oow", seq=t.s_seq + rng.choice([3000000, -3000000])))
    elif bad < 0.18:
        pkts.append(t.c("R", seq=t.c_seq + 5000000))
    elif bad < 0.24:
        pkts.append(t.s("A", ack=t.c_seq + 4000000))
    end = rng.random()
    if end < 0.5:
        pkts += t.close()
    elif end < 0.7:
        pkts.append(rng.choice([t.c, t.s])("R"))
        if rng.random() < 0.5:
            pkts.append(t.s("PA", b"after rst"))
    # random omission: each packet after the first survives with 90%
    pkts = pkts[:1] + [p for p in pkts[1:] if rng.random() < 0.9]
    # occasional local reordering
    if len(pkts) > 3 and rng.random() < 0.15:
        k = rng.randrange(1, len(pkts) - 1)
        pkts[k], pkts[k + 1] = pkts[k + 1], pkts[k]
    return pkts


def udp_flow(rng, c, cport, s, sport, reply_to):
    pkts = []
    for k in range(rng.randint(1, 4)):
        pkts.append(udp(c, cport, s, sport, b"q%d" % k))
        if rng.random() < 0.7:
            pkts.append(udp(s, sport, reply_to[0], reply_to[1], b"a%d" % k))
    return pkts


def icmp_flow(rng, c, s, ident, reply_dst):
    pkts = []
    for seq in range(1, rng.randint(2, 4)):
        pkts.append(echo(c, s, ident, seq))
        if rng.random() < 0.75:
            pkts.append(echo(s, reply_dst, ident, seq, reply=True))
    return pkts


def src_of(l3):
    return L.op.parse_l3(l3).src


def make(seed, k):
    rng = random.Random("%d-%d" % (seed, k))
    dmz = rng.random() < 0.3
    ifaces = ["lan0", "dmz0", "wan0"] if dmz else ["lan0", "wan0"]
    masq = rng.random() < 0.5
    sysctls = {}
    r = rng.random()
    if r < 0.1:
        sysctls["net.netfilter.nf_conntrack_tcp_loose"] = 0
    elif r < 0.15:
        sysctls["net.netfilter.nf_conntrack_tcp_be_liberal"] = 1
    topo = L.topology(L.DMZ if dmz else L.HOME, sysctls)
    name = "r%03d_s%d_%s%s" % (k, seed, "dmz" if dmz else "home", "_masq" if masq else "")
    s = Scenario(name, "random scenario %d (seed %d): %s topology%s%s" % (
        k, seed, "dmz" if dmz else "home", ", masquerade on wan0" if masq else "",
        "".join(", %s=%s" % (a.split(".")[-1], b) for a, b in sorted(sysctls.items()))),
        rand_ruleset(rng, ifaces, masq), topo)
    ports = Ports(rng)
    flows = []
    for _ in range(rng.randint(2, 6)):
        v6 = rng.random() < 0.35
        c, srv, ci, si = endpoints(rng, ifaces, v6)
        natted = masq and not v6 and ci == "lan0" and si == "wan0"
        kind = rng.random()
        cport = ports.take()
        if kind < 0.55:
            sport = rng.choice(TCP_PORTS)
            reply_to = (WAN4 if natted else c, cport)
            flows.append(tcp_flow(rng, c, cport, srv, sport, reply_to))
        elif kind < 0.8:
            sport = rng.choice(UDP_PORTS)
            reply_to = (WAN4 if natted else c, cport)
            flows.append(udp_flow(rng, c, cport, srv, sport, reply_to))
        else:
            flows.append(icmp_flow(rng, c, srv, cport & 0xFFFF, WAN4 if natted else c))
    # injected strays: unsolicited replies, SYN-ACKs without SYN, ICMP errors about nothing
    for _ in range(rng.randint(0, 3)):
        v6 = rng.random() < 0.3
        w = rng.choice(HOSTS["wan0"][1 if v6 else 0])
        dst = rng.choice([WAN6 if v6 else WAN4, rng.choice(HOSTS["lan0"][1 if v6 else 0])])
        x = rng.random()
        p = ports.take()
        if x < 0.35:
            flows.append([tcp(w, rng.choice(TCP_PORTS), dst, p, rng.randint(1, 2**31), rng.randint(1, 2**31),
                              rng.choice(["SA", "A", "R", "PA", "FA"]), b"" if rng.random() < 0.5 else b"stray")])
        elif x < 0.7:
            flows.append([udp(w, rng.choice(UDP_PORTS), dst, p, b"unsolicited")])
        else:
            rtr = "2001:db8:beef::fe" if v6 else "198.51.100.254"
            flows.append([icmp_error(rtr, dst, udp(dst, p, w, 53, b"q"))])
    # the fw's own stack answers locally delivered packets; a capture never
    # carries packets *from* the fw's addresses (they would be martians).
    # The stack's answers (TCP RST, echo reply) also move the kernel's entry
    # on, which fwsim does not model (docs/kernel-differences.md, "Packets
    # from the firewall itself"): TCP and ICMP flows to the fw keep only their
    # first packet; UDP ones (answered by ICMP errors, which do not) keep all.
    own = {a for pair in FW_ADDR.values() for a in pair}
    flows = [[p for p in f if src_of(p) not in own] for f in flows]
    flows = [f[:1] if f and L.op.parse_l3(f[0]).dst in own and L.op.parse_l3(f[0]).proto != 17 else f
             for f in flows]
    # interleave, keeping each flow's order
    queues = [list(f) for f in flows if f]
    while queues:
        q = rng.choice(queues)
        s.add(q.pop(0))
        if not q:
            queues.remove(q)
    return s


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", default=os.path.join(L.REPO, "tests", "kernel", "random"))
    ap.add_argument("--clean", action="store_true", help="remove --out first (goldens too)")
    a = ap.parse_args(argv)
    if a.clean and os.path.isdir(a.out):
        shutil.rmtree(a.out)
    total = 0
    for k in range(a.count):
        total += make(a.seed, k).write(a.out)
    print("wrote %d random scenarios, %d packets, to %s" % (a.count, total, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
