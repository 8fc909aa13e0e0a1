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

}  // namespace

bool tuple_of(const Packet& p, Tuple* t) {
    if (!p.ok() || !p.has_l4) return false;
    t->src = p.src;
    t->dst = p.dst;
    t->family = p.family;
    t->proto = p.l4proto;
    switch (p.l4proto) {
        case proto::tcp:
        case proto::udp:
        case proto::udplite:
        case proto::sctp:
            t->sport = p.sport;
            t->dport = p.dport;
            break;
        case proto::icmp:
        case proto::icmpv6:
            t->sport = p.icmp_id;
            t->dport = uint16_t(p.icmp_type << 8 | p.icmp_code);
            break;
        default:
            t->sport = t->dport = 0;
    }
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

uint64_t hash(const Tuple& t) {
    // FNV-1a over the fields, then a 64-bit mix: fast, seedless, deterministic.
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&h](const uint8_t* p, size_t n) {
        for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    };
    const size_t alen = t.family == Family::ipv4 ? 4 : 16;
    mix(t.src.b.data(), alen);
    mix(t.dst.b.data(), alen);
    const uint8_t rest[6] = {uint8_t(t.sport >> 8), uint8_t(t.sport), uint8_t(t.dport >> 8),
                             uint8_t(t.dport), uint8_t(t.family), t.proto};
    mix(rest, sizeof rest);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

}  // namespace fwsim
