#!/usr/bin/env python3
"""Check a capture written by fwsim-gen (stdlib only; used by ctest).

    check_capture.py FILE.pcap [--max-gap SECONDS]

Verifies, packet by packet: libpcap header and record framing; timestamps
never go back; Ethernet type; IPv4 header checksum and total length; TCP,
UDP, ICMP and ICMPv6 checksums; for every TCP connection, that each side's
sequence number continues where its last segment ended (SYN and FIN count
one) and that every ACK acknowledges all the other side has sent; that no
connection is silent longer than --max-gap (default 30 s, the UDP and ICMP
timeouts); that after masquerade no two connections share a reply tuple
(server address, server port, client port, protocol). Prints a one-line
summary; exits 1 on the first problem, with its packet index.
"""
import argparse
import struct
import sys


def csum(data, start=0):
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def fail(index, msg):
    print(f"packet {index}: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--max-gap", type=float, default=30.0)
    args = ap.parse_args()
    with open(args.pcap, "rb") as f:
        data = f.read()
    magic, major, minor, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    if magic != 0xA1B2C3D4 or (major, minor) != (2, 4) or linktype != 1:
        fail(0, "not a little-endian microsecond Ethernet pcap")
    pos, index, last_ts = 24, 0, 0.0
    tcp = {}       # (client, cport, server, sport) -> [client next seq, server next seq]
    last_seen = {}  # flow key -> timestamp
    owner = {}     # reply tuple key -> flow key
    counts = {"tcp": 0, "udp": 0, "icmp": 0, "v6": 0, "flood": 0}
    while pos < len(data):
        index += 1
        if pos + 16 > len(data):
            fail(index, "truncated record header")
        sec, usec, caplen, origlen = struct.unpack("<IIII", data[pos:pos + 16])
        frame = data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
        if len(frame) != caplen or caplen != origlen:
            fail(index, "truncated frame")
        ts = sec + usec / 1e6
        if ts < last_ts:
            fail(index, "time goes back")
        last_ts = ts
        etype = struct.unpack("!H", frame[12:14])[0]
        if etype == 0x0800:
            ip = frame[14:]
            if csum(ip[:20]) != 0xFFFF:
                fail(index, "bad IPv4 header checksum")
            if struct.unpack("!H", ip[2:4])[0] != len(ip):
                fail(index, "IPv4 total length does not match the frame")
            proto, src, dst, l4 = ip[9], ip[12:16], ip[16:20], ip[20:]
            pseudo = csum(src + dst) + proto + len(l4)
            v6 = False
        elif etype == 0x86DD:
            ip = frame[14:]
            if struct.unpack("!H", ip[4:6])[0] != len(ip) - 40:
                fail(index, "IPv6 payload length does not match the frame")
            proto, src, dst, l4 = ip[6], ip[8:24], ip[24:40], ip[40:]
            pseudo = csum(src + dst) + proto + len(l4)
            v6 = True
            counts["v6"] += 1
        else:
            fail(index, f"unexpected ethertype {etype:#x}")
        from_lan = src[:2] == b"\xc0\xa8" or src[:2] == b"\xfd\x00"
        if proto in (6, 17, 58):  # pseudo-header checksums
            if csum(l4, pseudo) != 0xFFFF:
                fail(index, f"bad L4 checksum (proto {proto})")
        if proto == 1 and csum(l4) != 0xFFFF:
            fail(index, "bad ICMP checksum")
        if proto == 6:
            sp, dp, seq, ack = struct.unpack("!HHII", l4[:12])
            doff, flags = (l4[12] >> 4) * 4, l4[13]
            plen = len(l4) - doff
            if not from_lan and flags == 0x02:  # a flood SYN from the internet
                counts["flood"] += 1
                continue
            if from_lan:
                key = (src, sp, dst, dp)
            else:
                # A reply: find the connection by server and client port.
                key = owner.get((src, sp, dp, 6))
                if key is None:
                    fail(index, "TCP reply to an unknown connection")
            if flags & 0x02 and from_lan:  # SYN opens a connection
                rkey = (dst, dp, sp, 6)
                if rkey in owner:
                    fail(index, "reply tuple reused after masquerade")
                owner[rkey] = key
                tcp[key] = [seq, None]
                counts["tcp"] += 1
            st = tcp.get(key)
            if st is None:
                fail(index, "TCP segment of an unknown connection")
            me, other = (0, 1) if from_lan else (1, 0)
            if st[me] is None:
                st[me] = seq
            if seq != st[me]:
                fail(index, f"sequence {seq} where {st[me]} was expected")
            if flags & 0x10 and st[other] is not None and ack != st[other]:
                fail(index, f"ack {ack} where {st[other]} was expected")
            st[me] = (seq + plen + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
            flow = key
        elif proto == 17:
            sp, dp = struct.unpack("!HH", l4[:4])
            flow = (src, sp, dst, dp) if from_lan else owner.get((src, sp, dp, 17))
            if from_lan and (dst, dp, sp, 17) not in owner:
                owner[(dst, dp, sp, 17)] = flow
                counts["udp"] += 1
            elif from_lan and owner[(dst, dp, sp, 17)] != flow:
                fail(index, "UDP reply tuple shared by two flows")
            if flow is None:
                fail(index, "UDP reply to an unknown flow")
        elif proto in (1, 58):
            ident = struct.unpack("!H", l4[4:6])[0]
            flow = (src, ident, dst) if from_lan else owner.get((src, ident, proto))
            if from_lan and (dst, ident, proto) not in owner:
                owner[(dst, ident, proto)] = flow
                counts["icmp"] += 1
            elif from_lan and owner[(dst, ident, proto)] != flow:
                fail(index, "ICMP echo id shared by two flows to one server")
            if flow is None:
                fail(index, "ICMP reply to an unknown echo")
        else:
            fail(index, f"unexpected protocol {proto}")
        prev = last_seen.get(flow)
        if prev is not None and ts - prev > args.max_gap:
            fail(index, f"connection silent for {ts - prev:.1f} s")
        last_seen[flow] = ts
    print(f"{args.pcap}: {index} packets ok: {counts['tcp']} TCP, {counts['udp']} UDP, {counts['icmp']} ICMP "
          f"connections, {counts['v6']} IPv6 packets, {counts['flood']} flood SYNs, {last_ts - 1700000000:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
