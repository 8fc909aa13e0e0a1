// Transport headers: TCP (+ options), UDP, UDP-Lite, SCTP, ICMP, ICMPv6, and
// the header an ICMP error quotes. Every other protocol is "generic": it has
// an L4 (conntrack tracks it by addresses) but no ports.
#include <algorithm>
#include <cstring>

#include "decode_util.hpp"
#include "fwsim/decode/decoder.hpp"

namespace fwsim::decode_detail {

namespace {

// seq_a after seq_b in sequence space (after() in include/net/tcp.h).
bool seq_after(uint32_t a, uint32_t b) { return int32_t(b - a) < 0; }

const char* l4_name(uint8_t proto) {
    switch (proto) {
        case proto::tcp: return "tcp";
        case proto::udp: return "udp";
        case proto::udplite: return "udplite";
        case proto::sctp: return "sctp";
        case proto::icmp: return "icmp";
        default: return "icmpv6";
    }
}

// have_header() when the header is not all there: out of line, so that the
// usual case is two compares in the caller (and, returning nothing, a jump).
[[gnu::noinline, gnu::cold]] void header_missing(Packet& p, size_t hdr, size_t captured, bool first_frag) {
    if (first_frag) return;
    if (p.l4_len < hdr)
        set_malformed(p, "%s: packet %u bytes < %zu", l4_name(p.l4proto), p.l4_len, hdr);
    else
        set_malformed(p, "%s: header truncated by capture (%zu of %zu bytes)", l4_name(p.l4proto),
                      captured, hdr);
}

// Is the fixed header of `hdr` bytes there? A first fragment that lacks it is
// left without L4 (reassembly will tell), never called malformed.
inline bool have_header(Packet& p, size_t hdr, size_t captured, bool first_frag) {
    if (p.l4_len >= hdr && captured >= hdr) [[likely]] return true;
    header_missing(p, hdr, captured, first_frag);
    return false;
}

// TCP options as tcp_options() and tcp_sack() in
// net/netfilter/nf_conntrack_proto_tcp.c read them: a bad option length ends
// the parse silently (the kernel neither drops nor marks the packet for it),
// window scale is clamped to TCP_MAX_WSCALE (14), and only the first SACK
// option counts, its blocks' highest right edge.
void parse_tcp_options(TcpInfo& t, const uint8_t* ptr, int length) {
    // Most segments of an established Linux connection carry exactly
    // NOP NOP TS (RFC 7323 Appendix A): the loop below would read the same.
    if (length == 12 && be32(ptr) == 0x0101080a) {
        t.has_ts = true;
        t.tsval = be32(ptr + 4);
        t.tsecr = be32(ptr + 8);
        return;
    }
    while (length > 0) {
        const uint8_t opcode = *ptr++;
        if (opcode == 0) return;  // TCPOPT_EOL
        if (opcode == 1) {        // TCPOPT_NOP
            --length;
            continue;
        }
        if (length < 2) return;
        const int opsize = *ptr++;
        if (opsize < 2 || opsize > length) return;  // "silly" or partial option
        switch (opcode) {
            case 2:  // MSS
                if (opsize == 4) t.mss = be16(ptr);
                break;
            case 3:  // window scale
                if (opsize == 3) t.wscale = int8_t(ptr[0] > 14 ? 14 : ptr[0]);
                break;
            case 4:  // SACK permitted
                if (opsize == 2) t.sack_perm = true;
                break;
            case 5:  // SACK blocks: 8 bytes each
                if (!t.has_sack && opsize >= 10 && (opsize - 2) % 8 == 0) {
                    t.has_sack = true;
                    t.sack_max_right = be32(ptr + 4);
                    for (int i = 8; i < opsize - 2; i += 8) {
                        const uint32_t right = be32(ptr + i + 4);
                        if (seq_after(right, t.sack_max_right)) t.sack_max_right = right;
                    }
                }
                break;
            case 8:  // timestamps
                if (opsize == 10) {
                    t.has_ts = true;
                    t.tsval = be32(ptr);
                    t.tsecr = be32(ptr + 4);
                }
                break;
        }
        ptr += opsize - 2;
        length -= opsize;
    }
}

void decode_tcp(Packet& p, const uint8_t* h, size_t captured, bool first_frag) {
    if (!have_header(p, 20, captured, first_frag)) return;
    // The header checks of tcp_error() (nf_conntrack_proto_tcp.c): "bad tcp offset".
    const unsigned doff = (h[12] >> 4) * 4u;
    if (doff < 20) {
        if (!first_frag) set_malformed(p, "tcp: data offset %u < 5", doff / 4);
        return;
    }
    if (doff > p.l4_len) {
        if (!first_frag) set_malformed(p, "tcp: data offset %u (%u bytes) > segment %u bytes", doff / 4, doff, p.l4_len);
        return;
    }
    if (doff > captured) {
        if (!first_frag) set_malformed(p, "tcp: options truncated by capture (%zu of %u bytes)", captured, doff);
        return;
    }
    p.has_l4 = true;
    p.sport = be16(h);
    p.dport = be16(h + 2);
    TcpInfo& t = p.tcp;
    t.seq = be32(h + 4);
    t.ack = be32(h + 8);
    t.flags = h[13];
    t.window = be16(h + 14);
    t.doff = uint8_t(doff);
    parse_tcp_options(t, h + 20, int(doff) - 20);
    p.payload_len = p.l4_len - doff;
}

void decode_udp(Packet& p, const uint8_t* h, size_t captured, bool first_frag) {
    if (!have_header(p, 8, captured, first_frag)) return;
    const unsigned len = be16(h + 4);
    // A first fragment's UDP length is the whole datagram's: not checkable.
    if (!first_frag) {
        if (p.l4proto == proto::udp) {
            // udp_error(): "short packet" / "truncated/malformed packet"
            if (len < 8) {
                set_malformed(p, "udp: length %u < 8", len);
                return;
            }
            if (len > p.l4_len) {
                set_malformed(p, "udp: length %u > ip payload %u", len, p.l4_len);
                return;
            }
        } else if (len != 0 && (len < 8 || len > p.l4_len)) {
            // udplite_error(): the length field is the checksum coverage, 0 = all
            set_malformed(p, "udplite: checksum coverage %u invalid for %u bytes", len, p.l4_len);
            return;
        }
    }
    p.has_l4 = true;
    p.sport = be16(h);
    p.dport = be16(h + 2);
    if (p.l4proto == proto::udp && !first_frag)
        p.payload_len = len - 8;  // bytes after the UDP length are padding
    else
        p.payload_len = p.l4_len - 8;
}

// ICMP types with an id (and a conntrack inverse): echo, timestamp, info,
// address mask; ICMPv6 echo and node information.
bool icmp_has_id(uint8_t proto, uint8_t type) {
    if (proto == proto::icmp) return type == 0 || type == 8 || (type >= 13 && type <= 18);
    return type == 128 || type == 129 || type == 139 || type == 140;
}

bool icmp_is_error(uint8_t proto, uint8_t type) {
    if (proto == proto::icmp)  // icmp_is_err(): unreach, source quench, redirect, time exceeded, param
        return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    // nf_conntrack_icmpv6_error(): every type below 128 is an error message
    return type < 128;
}

// The quoted packet's tuple as nf_ct_get_tuplepr() would read it for
// icmp_error_message(): the IP header (a later fragment has no tuple), then
// 4 bytes of ports for TCP/UDP/UDP-Lite/SCTP (nf_ct_get_tuple_ports()),
// 8 bytes for ICMP (icmp_pkt_to_tuple()), nothing for other protocols.
// has_ports is set when that much is there.
void decode_inner(InnerHeader& in, const uint8_t* q, size_t n, Family outer) {
    size_t l4 = 0;
    if (outer == Family::ipv4) {
        if (n < 20 || (q[0] >> 4) != 4) return;
        const size_t ihl = (q[0] & 0x0f) * 4u;
        if (ihl < 20 || ihl > n) return;
        in.present = true;
        in.family = Family::ipv4;
        in.l4proto = q[9];
        std::memcpy(in.src.b.data(), q + 12, 4);
        std::memcpy(in.dst.b.data(), q + 16, 4);
        if (be16(q + 6) & 0x1fff) return;  // ipv4_get_l4proto(): fragment
        l4 = ihl;
    } else {
        if (n < 40 || (q[0] >> 4) != 6) return;
        in.present = true;
        in.family = Family::ipv6;
        std::memcpy(in.src.b.data(), q + 8, 16);
        std::memcpy(in.dst.b.data(), q + 24, 16);
        ExtChain c;
        in.l4proto = q[6];
        if (!walk_ipv6_ext({q, n}, q[6], 40, false, &c)) return;
        in.l4proto = c.nh;
        if (c.frag_off != 0) return;  // ipv6_get_l4proto(): not the first fragment
        l4 = c.end;
    }
    const uint8_t* h = q + l4;
    const size_t rest = n - l4;
    switch (in.l4proto) {
        case proto::tcp:
        case proto::udp:
        case proto::udplite:
        case proto::sctp:
            if (rest < 4) return;
            in.sport = be16(h);
            in.dport = be16(h + 2);
            break;
        case proto::icmp:
        case proto::icmpv6:
            if (rest < 8) return;
            in.icmp_type = h[0];
            in.icmp_code = h[1];
            in.icmp_id = be16(h + 4);
            break;
        default:
            break;
    }
    in.has_ports = true;
}

// Out of line: its quoted-header walk needs a large frame (ExtChain) that the
// TCP and UDP paths should not set up.
[[gnu::noinline]] void decode_icmp(Packet& p, const uint8_t* h, size_t captured, bool first_frag) {
    // icmp_error() / icmpv6_error(): the 8-byte header must be there.
    if (!have_header(p, 8, captured, first_frag)) return;
    p.has_l4 = true;
    p.icmp_type = h[0];
    p.icmp_code = h[1];
    p.payload_len = p.l4_len - 8;
    if (icmp_has_id(p.l4proto, p.icmp_type)) {
        p.icmp_id = be16(h + 4);
        p.icmp_seq = be16(h + 6);
    }
    // An ICMPv4 error quotes IPv4, an ICMPv6 error IPv6. A short quote is
    // not the outer packet's fault: inner.present/has_ports say how far it goes.
    const Family quoted = p.l4proto == proto::icmp ? Family::ipv4 : Family::ipv6;
    if (icmp_is_error(p.l4proto, p.icmp_type) && p.family == quoted) {
        const size_t q = std::min<size_t>(captured, p.l4_len);
        decode_inner(p.inner, h + 8, q - 8, quoted);
    }
}

}  // namespace

void decode_l4(Packet& p, size_t captured, bool first_frag) {
    const uint8_t* h = p.frame.data() + p.l4_offset;
    // TCP first: most packets are TCP, and the switch below tests them last.
    if (p.l4proto == proto::tcp) [[likely]] {
        decode_tcp(p, h, captured, first_frag);
        return;
    }
    switch (p.l4proto) {
        case proto::udp:
        case proto::udplite:
            decode_udp(p, h, captured, first_frag);
            return;
        case proto::sctp:
            // The 12-byte common header; sctp_error() needs it whole.
            if (!have_header(p, 12, captured, first_frag)) return;
            p.has_l4 = true;
            p.sport = be16(h);
            p.dport = be16(h + 2);
            p.payload_len = p.l4_len - 12;
            return;
        case proto::icmp:
        case proto::icmpv6:
            // ICMP over IPv6 or ICMPv6 over IPv4 is tracked as generic.
            if ((p.l4proto == proto::icmp) == (p.family == Family::ipv4)) {
                decode_icmp(p, h, captured, first_frag);
                return;
            }
            break;
        default:
            break;
    }
    p.has_l4 = true;  // generic: GRE, ESP, AH payloads, no-next-header, ...
    p.payload_len = p.l4_len;
}

}  // namespace fwsim::decode_detail
