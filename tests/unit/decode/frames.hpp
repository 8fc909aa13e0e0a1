// Frame builders for the decoder tests: bytes laid out by hand, checksums
// filled in with fwsim's own helpers.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "fwsim/checksum.hpp"
#include "fwsim/decode/decoder.hpp"
#include "fwsim/net.hpp"
#include "fwsim/packet.hpp"

namespace frames {

using Bytes = std::vector<uint8_t>;
using fwsim::Family;
using fwsim::IpAddr;

inline void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = uint8_t(v >> 8);
    b[at + 1] = uint8_t(v);
}
inline void put32(Bytes& b, size_t at, uint32_t v) {
    put16(b, at, uint16_t(v >> 16));
    put16(b, at + 2, uint16_t(v));
}
inline Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
inline Bytes fill(size_t n, uint8_t v = 0xab) { return Bytes(n, v); }

inline IpAddr addr(const std::string& s) {
    Family f;
    return *fwsim::parse_addr(s, &f);
}

inline Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq = 1000, uint32_t ack = 0,
                 const Bytes& options = {}, const Bytes& payload = {}) {
    Bytes b(20);
    put16(b, 0, sport);
    put16(b, 2, dport);
    put32(b, 4, seq);
    put32(b, 8, ack);
    b[12] = uint8_t(((20 + options.size()) / 4) << 4);
    b[13] = flags;
    put16(b, 14, 64240);
    return cat({b, options, payload});
}
inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload = {}) {
    Bytes b(8);
    put16(b, 0, sport);
    put16(b, 2, dport);
    put16(b, 4, uint16_t(8 + payload.size()));
    return cat({b, payload});
}
inline Bytes icmp(uint8_t type, uint8_t code, uint16_t id = 0, uint16_t seq = 0, const Bytes& payload = {}) {
    Bytes b(8);
    b[0] = type;
    b[1] = code;
    put16(b, 4, id);
    put16(b, 6, seq);
    return cat({b, payload});
}

// Fills the transport checksum of `l4` for protocol `proto`.
inline void fix_l4(Bytes& l4, Family f, const IpAddr& s, const IpAddr& d, uint8_t proto) {
    size_t at;
    bool pseudo = true;
    switch (proto) {
        case fwsim::proto::tcp: at = 16; break;
        case fwsim::proto::udp: at = 6; break;
        case fwsim::proto::icmp: at = 2; pseudo = false; break;
        case fwsim::proto::icmpv6: at = 2; break;
        default: return;
    }
    if (l4.size() < at + 2) return;
    put16(l4, at, 0);
    uint32_t sum = pseudo ? fwsim::csum_pseudo(f, s, d, proto, uint32_t(l4.size())) : 0;
    uint16_t c = fwsim::csum_fold(fwsim::csum_partial(l4, sum));
    if (proto == fwsim::proto::udp && c == 0) c = 0xffff;
    put16(l4, at, c);
}

struct V4 {
    std::string src = "192.168.1.10", dst = "93.184.216.34";
    uint16_t id = 1;
    uint16_t frag_offset = 0;  // bytes
    bool mf = false, df = false;
    Bytes options;
    bool fix_l4_csum = true;
    uint8_t ttl = 64;
};
inline Bytes ipv4(uint8_t proto, Bytes l4, const V4& o = {}) {
    const IpAddr s = addr(o.src), d = addr(o.dst);
    if (o.fix_l4_csum && o.frag_offset == 0 && !o.mf) fix_l4(l4, Family::ipv4, s, d, proto);
    Bytes h(20);
    h[0] = uint8_t(0x40 | (20 + o.options.size()) / 4);
    put16(h, 2, uint16_t(20 + o.options.size() + l4.size()));
    put16(h, 4, o.id);
    put16(h, 6, uint16_t((o.mf ? 0x2000 : 0) | (o.df ? 0x4000 : 0) | o.frag_offset / 8));
    h[8] = o.ttl;
    h[9] = proto;
    for (int i = 0; i < 4; ++i) {
        h[12 + i] = s.b[i];
        h[16 + i] = d.b[i];
    }
    h = cat({h, o.options});
    put16(h, 10, fwsim::csum_fold(fwsim::csum_partial(h)));
    return cat({h, l4});
}
// Recomputes the IPv4 header checksum after a test changed the header.
inline void refix_ipv4(Bytes& f, size_t off) {
    const size_t ihl = (f[off] & 0x0f) * 4u;
    put16(f, off + 10, 0);
    put16(f, off + 10, fwsim::csum_fold(fwsim::csum_partial({f.data() + off, ihl})));
}

struct V6 {
    std::string src = "fd00::10", dst = "2001:db8:beef::80";
    bool fix_l4_csum = true;
};
// `ext` are extension headers laid out by the caller; `nh` is the first next header.
inline Bytes ipv6(uint8_t nh, Bytes l4, const Bytes& ext = {}, uint8_t l4proto = 0, const V6& o = {}) {
    const IpAddr s = addr(o.src), d = addr(o.dst);
    if (o.fix_l4_csum) fix_l4(l4, Family::ipv6, s, d, l4proto ? l4proto : nh);
    Bytes h(40);
    h[0] = 0x60;
    put16(h, 4, uint16_t(ext.size() + l4.size()));
    h[6] = nh;
    h[7] = 64;
    for (int i = 0; i < 16; ++i) {
        h[8 + i] = s.b[i];
        h[24 + i] = d.b[i];
    }
    return cat({h, ext, l4});
}
// A generic 8-byte extension header (hop-by-hop, dstopts, routing) with next header nh.
inline Bytes ext8(uint8_t nh) {
    Bytes b(8);
    b[0] = nh;
    b[1] = 0;
    b[2] = 1;  // PadN
    b[3] = 4;
    return b;
}
inline Bytes frag_hdr(uint8_t nh, uint16_t offset, bool more, uint32_t id) {
    Bytes b(8);
    b[0] = nh;
    put16(b, 2, uint16_t(offset | (more ? 1 : 0)));
    put32(b, 4, id);
    return b;
}

inline Bytes eth(uint16_t type, const Bytes& payload) {
    Bytes h = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0x01, 0x0a, 0, 0};
    put16(h, 12, type);
    return cat({h, payload});
}

// Decodes f (which must outlive the packet) as a whole, uncut frame.
inline fwsim::Packet decode(int dlt, const Bytes& f) {
    fwsim::Packet p;
    p.wire_len = p.cap_len = uint32_t(f.size());
    fwsim::decode_frame(dlt, f, p);
    return p;
}
inline fwsim::Packet decode_eth(const Bytes& f) { return decode(fwsim::dlt::en10mb, f); }

}  // namespace frames
