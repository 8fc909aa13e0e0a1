// Choosing the translated tuple, as get_unique_tuple() and its helpers in
// net/netfilter/nf_nat_core.c.
#include <cstring>

#include "fwsim/nat/nat.hpp"
#include "fwsim/splitmix.hpp"

namespace fwsim::nat {

namespace {

// struct nf_nat_range2, reduced to what nft's NAT statements set.
struct Range {
    bool map_ips = false;          // NF_NAT_RANGE_MAP_IPS
    bool proto_specified = false;  // NF_NAT_RANGE_PROTO_SPECIFIED
    bool random_all = false;       // NF_NAT_RANGE_PROTO_RANDOM_ALL
    bool persistent = false;       // NF_NAT_RANGE_PERSISTENT
    IpAddr min_addr, max_addr;
    uint16_t min_proto = 0, max_proto = 0;
};

uint32_t rol32(uint32_t w, unsigned s) { return (w << s) | (w >> (32 - s)); }

// jhash2() from include/linux/jhash.h (lookup3, Bob Jenkins, public domain).
uint32_t jhash2(const uint32_t* k, uint32_t length, uint32_t initval) {
    uint32_t a, b, c;
    a = b = c = 0xdeadbeef + (length << 2) + initval;
    while (length > 3) {
        a += k[0];
        b += k[1];
        c += k[2];
        a -= c; a ^= rol32(c, 4);  c += b;
        b -= a; b ^= rol32(a, 6);  a += c;
        c -= b; c ^= rol32(b, 8);  b += a;
        a -= c; a ^= rol32(c, 16); c += b;
        b -= a; b ^= rol32(a, 19); a += c;
        c -= b; c ^= rol32(b, 4);  b += a;
        length -= 3;
        k += 3;
    }
    switch (length) {
        case 3: c += k[2]; [[fallthrough]];
        case 2: b += k[1]; [[fallthrough]];
        case 1:
            a += k[0];
            c ^= b; c -= rol32(b, 14);
            a ^= c; a -= rol32(c, 11);
            b ^= a; b -= rol32(a, 25);
            c ^= b; c -= rol32(b, 16);
            a ^= c; a -= rol32(c, 4);
            b ^= a; b -= rol32(a, 14);
            c ^= b; c -= rol32(b, 24);
            break;
        default: break;
    }
    return c;
}

// The kernel reads union nf_inet_addr as native u32 words (__be32 memory):
// on the little-endian machines the oracle runs on, that is a LE load.
uint32_t raw_word(const IpAddr& a, unsigned i) {
    const uint8_t* p = a.b.data() + 4 * i;
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint32_t be_word(const IpAddr& a, unsigned i) {  // ntohl(all[i])
    const uint8_t* p = a.b.data() + 4 * i;
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
void set_be_word(IpAddr& a, unsigned i, uint32_t v) {
    uint8_t* p = a.b.data() + 4 * i;
    p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}

uint32_t reciprocal_scale(uint32_t val, uint32_t ep_ro) {
    return uint32_t((uint64_t(val) * ep_ro) >> 32);
}

bool is_icmp(uint8_t p) { return p == proto::icmp || p == proto::icmpv6; }

// nf_nat_used_tuple(): the candidate's reply must not be anyone's tuple.
bool used(const Tuple& t, TakenFn taken) {
    Tuple reply;
    if (!invert(t, &reply)) return false;
    return taken(reply);
}

// nf_nat_inet_in_range(): on the source address (only asked for SRC).
bool inet_in_range(const Tuple& t, const Range& r) {
    return t.src >= r.min_addr && t.src <= r.max_addr;  // byte order compare = ntohl/ipv6_addr_cmp
}

// l4proto_in_range()
bool l4proto_in_range(const Tuple& t, Manip m, const Range& r) {
    if (is_icmp(t.proto)) return t.sport >= r.min_proto && t.sport <= r.max_proto;
    if (proto::has_ports(t.proto)) {
        const uint16_t port = m == Manip::src ? t.sport : t.dport;
        return port >= r.min_proto && port <= r.max_proto;
    }
    return true;
}

// in_range(): only for the source manip.
bool in_range(const Tuple& t, const Range& r) {
    if (r.map_ips && !inet_in_range(t, r)) return false;
    if (!r.proto_specified) return true;
    return l4proto_in_range(t, Manip::src, r);
}

// find_best_ips_proto(): a hash of the addresses picks one in the range, so
// that a client keeps its address across connections (bit-exact with the
// kernel; zone id 0).
void find_best_ips_proto(Tuple* t, const Range& r, Manip m) {
    if (!r.map_ips) return;
    IpAddr& var = m == Manip::src ? t->src : t->dst;
    if (r.min_addr == r.max_addr) {
        var = r.min_addr;
        return;
    }
    const unsigned max = t->family == Family::ipv4 ? 0 : 3;
    uint32_t words[4];
    for (unsigned i = 0; i < 4; ++i) words[i] = raw_word(t->src, i);
    uint32_t j = jhash2(words, 4, r.persistent ? 0 : raw_word(t->dst, max));
    const IpAddr dst = t->dst;  // before var changes it (DNAT)
    bool full_range = false;
    for (unsigned i = 0; i <= max; ++i) {
        uint32_t minip, dist;
        if (!full_range) {
            minip = be_word(r.min_addr, i);
            dist = be_word(r.max_addr, i) - minip + 1;
        } else {
            minip = 0;
            dist = ~0u;
        }
        set_be_word(var, i, minip + reciprocal_scale(j, dist));
        if (be_word(var, i) != be_word(r.max_addr, i)) full_range = true;
        if (!r.persistent) j ^= raw_word(dst, i);
    }
}

// The kernel's get_random_u16() offsets, made deterministic: splitmix64.
struct Prng {
    SplitMix64 g;
    uint16_t next() { return uint16_t(g.next() >> 16); }
};

// nf_nat_l4proto_unique_tuple(). Returns false when nothing free was found.
bool l4proto_unique_tuple(Tuple* t, const Range& r, Manip m, TakenFn taken, Prng& rng) {
    uint16_t* key;
    unsigned min, range_size;
    if (is_icmp(t->proto)) {
        key = &t->sport;  // the echo id is the same for either direction
        if (!r.proto_specified) {
            min = 0;
            range_size = 65536;
        } else {
            min = r.min_proto;
            range_size = unsigned(r.max_proto) - r.min_proto + 1;
        }
    } else if (proto::has_ports(t->proto)) {
        key = m == Manip::src ? &t->sport : &t->dport;
        if (!r.proto_specified) {
            if (m == Manip::dst) return !used(*t, taken);  // can't change a DNAT port unasked
            if (*key < 1024) {
                // "Loose convention: >> 512 is credential passing"
                if (*key < 512) {
                    min = 1;
                    range_size = 511 - min + 1;
                } else {
                    min = 600;
                    range_size = 1023 - min + 1;
                }
            } else {
                min = 1024;
                range_size = 65535 - 1024 + 1;
            }
        } else {
            unsigned lo = r.min_proto, hi = r.max_proto;
            if (hi < lo) std::swap(lo, hi);
            min = lo;
            range_size = hi - lo + 1;
        }
    } else {
        // GRE without a PPTP master, generic protocols: nothing to vary.
        return !used(*t, taken);
    }

    uint16_t off = rng.next();
    unsigned attempts = range_size < 128 ? range_size : 128;
    for (;;) {
        for (unsigned i = 0; i < attempts; ++i, ++off) {
            *key = uint16_t(min + off % range_size);
            if (!used(*t, taken)) return true;
        }
        // Halving rounds from a new offset, as the kernel bounds its search.
        if (attempts >= range_size || attempts < 16) return false;
        attempts /= 2;
        off = rng.next();
    }
}

}  // namespace

Status unique_tuple(const Tuple& orig, Manip m, const rules::NatRequest& req,
                    const IpAddr* resolved_addr, TakenFn taken, Tuple* out, FindSrcFn find_src) {
    using Kind = rules::NatRequest::Kind;
    Range r;
    if (req.kind == Kind::masquerade || req.kind == Kind::redirect) {
        // nf_nat_masquerade_ipv4() / nf_nat_redirect_ipv4(): one address,
        // the rule's port range and flags kept.
        if (!resolved_addr) {
            *out = orig;
            return Status::no_address;
        }
        r.map_ips = true;
        r.min_addr = r.max_addr = *resolved_addr;
    } else if (req.has_addr) {
        r.map_ips = true;
        r.min_addr = req.addr_min;
        r.max_addr = req.addr_max;
    }
    if (req.has_port) {
        r.proto_specified = true;
        r.min_proto = req.port_min;
        r.max_proto = req.port_max;
    }
    r.random_all = req.random || req.fully_random;
    r.persistent = req.persistent;

    // 1) SNAT: keep the tuple if it is in range and free, or reuse the
    //    mapping an existing connection from the same source has.
    if (m == Manip::src && !r.random_all) {
        if (in_range(orig, r)) {
            if (!used(orig, taken)) {
                *out = orig;
                return Status::ok;
            }
        } else if (find_src) {
            Tuple mapped;
            if (find_src(orig, &mapped)) {
                mapped.dst = orig.dst;
                mapped.dport = orig.dport;
                if (in_range(mapped, r) && !used(mapped, taken)) {
                    *out = mapped;
                    return Status::ok;
                }
            }
        }
    }

    // 2) The address.
    Tuple t = orig;
    find_best_ips_proto(&t, r, m);

    // 3) Only search a port if the current one is out of range or taken.
    if (!r.random_all) {
        const bool ok = r.proto_specified ? l4proto_in_range(t, m, r) && !used(t, taken)
                                          : !used(t, taken);
        if (ok) {
            *out = t;
            return Status::ok;
        }
    }

    // 4) Search, from a deterministic offset (the kernel: get_random_u16()).
    Prng rng{{hash(orig) ^ (m == Manip::src ? 0x5a5a5a5aull : 0xa5a5a5a5ull)}};
    const bool found = l4proto_unique_tuple(&t, r, m, taken, rng);
    *out = t;
    return found ? Status::ok : Status::exhausted;
}

}  // namespace fwsim::nat
