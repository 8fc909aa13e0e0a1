// A conntrack tuple (struct nf_conntrack_tuple): what identifies one direction
// of a connection. Shared by conntrack and NAT.
#pragma once

#include <cstdint>
#include <functional>

#include "fwsim/net.hpp"
#include "fwsim/packet.hpp"

namespace fwsim {

// For ICMP/ICMPv6 the kernel keys on src.u.icmp.id and dst.u.icmp.type/code;
// here `sport` holds the echo id and `dport` holds (type << 8) | code.
// Protocols without ports (generic, GRE) have both ports zero.
struct Tuple {
    IpAddr src, dst;
    uint16_t sport = 0, dport = 0;
    Family family = Family::none;
    uint8_t proto = 0;

    bool operator==(const Tuple&) const = default;
    auto operator<=>(const Tuple&) const = default;
};

// The original-direction tuple of a packet as nf_ct_get_tuple() builds it.
// Returns false when the packet has no tuple (not ok, or a later fragment).
bool tuple_of(const Packet& p, Tuple* out);
// nf_ct_invert_tuple(): swap ends; ICMP echo request <-> reply types.
// Returns false for ICMP types that have no inverse (the kernel's
// icmp_invert_tuple() fails: such packets are invalid as "new").
bool invert(const Tuple& t, Tuple* out);

// A 64-bit hash of the tuple (deterministic, no per-run seed).
uint64_t hash(const Tuple& t);
// hash() of the packet's tuple_of() without building the Tuple (the engine
// hashes every packet); false when the packet has no tuple.
bool hash_of(const Packet& p, uint64_t* h);

}  // namespace fwsim
