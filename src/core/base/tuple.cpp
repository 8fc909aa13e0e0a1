#include "fwsim/tuple.hpp"

#include <cstring>

namespace fwsim {

namespace {

// icmp_invert_tuple() / icmpv6_invert_tuple(): only query types have an
// inverse; the table maps type+1 -> inverse+1 (0 = none).
bool invert_icmp_type(uint8_t proto, uint8_t type, uint8_t* out) {
    if (proto == proto::icmp) {
        switch (type) {
            case 8: *out = 0; return true;    // echo -> echo reply
            case 0: *out = 8; return true;
            case 13: *out = 14; return true;  // timestamp
            case 14: *out = 13; return true;
            case 15: *out = 16; return true;  // info
            case 16: *out = 15; return true;
            case 17: *out = 18; return true;  // address mask
            case 18: *out = 17; return true;
        }
        return false;
    }
    switch (type) {
        case 128: *out = 129; return true;  // echo request -> reply
        case 129: *out = 128; return true;
        case 139: *out = 140; return true;  // node information query -> reply
        case 140: *out = 139; return true;
    }
    return false;
}

// The tuple's "ports" of a packet: TCP/UDP/UDP-Lite/SCTP ports, ICMP echo
// id and type/code, 0 for protocols without ports.
[[gnu::always_inline]] inline void ports_of(const Packet& p, uint16_t* sport, uint16_t* dport) {
    switch (p.l4proto) {
        case proto::tcp:
        case proto::udp:
        case proto::udplite:
        case proto::sctp:
            *sport = p.sport;
            *dport = p.dport;
            break;
        case proto::icmp:
        case proto::icmpv6:
            *sport = p.icmp_id;
            *dport = uint16_t(p.icmp_type << 8 | p.icmp_code);
            break;
        default:
            *sport = *dport = 0;
    }
}

}  // namespace

bool tuple_of(const Packet& p, Tuple* t) {
    if (!p.ok() || !p.has_l4) return false;
    t->src = p.src;
    t->dst = p.dst;
    t->family = p.family;
    t->proto = p.l4proto;
    ports_of(p, &t->sport, &t->dport);
    return true;
}

bool invert(const Tuple& t, Tuple* out) {
    *out = t;
    out->src = t.dst;
    out->dst = t.src;
    if (t.proto == proto::icmp || t.proto == proto::icmpv6) {
        uint8_t inv;
        if (!invert_icmp_type(t.proto, uint8_t(t.dport >> 8), &inv)) return false;
        out->sport = t.sport;
        out->dport = uint16_t(inv << 8 | (t.dport & 0xff));
        return true;
    }
    out->sport = t.dport;
    out->dport = t.sport;
    return true;
}

namespace {

// FNV-1a over the fields, then a 64-bit mix: fast, seedless, deterministic.
// The bytes: source and destination address (4 bytes for IPv4, 16 for
// IPv6), sport and dport big-endian, family, protocol. The IPv4 case is
// unrolled (the per-packet lookups are almost all IPv4): the same value.
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull, kFnvPrime = 0x100000001b3ull;

[[gnu::always_inline]] inline uint64_t fnv(uint64_t h, uint8_t b) { return (h ^ b) * kFnvPrime; }

[[gnu::always_inline]] inline uint64_t hash_fields(Family family, const IpAddr& src, const IpAddr& dst,
                                                   uint16_t sport, uint16_t dport, uint8_t proto) {
    uint64_t h = kFnvBasis;
    if (family == Family::ipv4) {
        for (int i = 0; i < 4; ++i) h = fnv(h, src.b[size_t(i)]);
        for (int i = 0; i < 4; ++i) h = fnv(h, dst.b[size_t(i)]);
    } else {
        for (size_t i = 0; i < 16; ++i) h = fnv(h, src.b[i]);
        for (size_t i = 0; i < 16; ++i) h = fnv(h, dst.b[i]);
    }
    h = fnv(h, uint8_t(sport >> 8));
    h = fnv(h, uint8_t(sport));
    h = fnv(h, uint8_t(dport >> 8));
    h = fnv(h, uint8_t(dport));
    h = fnv(h, uint8_t(family));
    h = fnv(h, proto);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

}  // namespace

uint64_t hash(const Tuple& t) { return hash_fields(t.family, t.src, t.dst, t.sport, t.dport, t.proto); }

bool hash_of(const Packet& p, uint64_t* h) {
    if (!p.ok() || !p.has_l4) return false;
    uint16_t sport, dport;
    ports_of(p, &sport, &dport);
    *h = hash_fields(p.family, p.src, p.dst, sport, dport, p.l4proto);
    return true;
}

}  // namespace fwsim
