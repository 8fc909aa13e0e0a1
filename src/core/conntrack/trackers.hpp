// The per-protocol trackers (l4proto->packet() in the kernel), internal to
// the conntrack module. Each one looks at one packet against one entry and
// says what the core should do; the core (table.cpp) owns timers, hashing and
// accounting.
#pragma once

#include <cstdint>

#include "fwsim/config.hpp"
#include "fwsim/conntrack/table.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/time.hpp"

namespace fwsim::ct::detail {

struct Outcome {
    enum Kind : uint8_t {
        accept,   // NF_ACCEPT
        invalid,  // -NF_ACCEPT: the packet gets no conntrack (ct state invalid)
        ignore,   // NF_ACCEPT without refreshing the entry (TCP sIG / NFCT_TCP_IGNORE)
        reopen,   // -NF_REPEAT: kill the entry and look the packet up again
    };
    Kind kind = accept;
    bool refresh = false;  // nf_ct_refresh_acct(): set timeout and count the packet
    bool kill = false;     // nf_ct_kill_acct(): count the packet, then delete the entry
    Nanos timeout = 0;     // relative, when refresh
};

// What a tracker reads and changes of one entry (the table stores entries
// compactly, so trackers get this view).
struct Conn {
    uint16_t& status;  // rules::ctstatus bits (detail::Slot::status)
    Nanos& deadline;   // absolute timeout
    TcpTrack& tcp;     // TCP only
    Nanos first_ts;
    uint8_t proto;     // original direction
    uint16_t dport;    // original direction (ICMP: type << 8 | code)
    // UDP: ct->proto.udp.stream_ts, 2 s after the first packet
    Nanos stream_ts() const { return first_ts + 2 * kSecond; }
};

// nf_conntrack_tcp_packet() (net/netfilter/nf_conntrack_proto_tcp.c).
// `confirmed` false means a new entry (tcp_new() runs first).
Outcome tcp_packet(Conn& en, bool confirmed, CtDir dir, const Packet& pkt, Nanos now,
                   bool checksum_bad, const Config& cfg);

// nf_conntrack_udp_packet() / nf_conntrack_udplite_packet().
Outcome udp_packet(Conn& en, bool confirmed, Nanos now, bool checksum_bad, const Config& cfg);

// nf_conntrack_icmp_packet() / nf_conntrack_icmpv6_packet().
Outcome icmp_packet(const Conn& en, bool confirmed, const Config& cfg);

// nf_conntrack_gre_packet() (nf_conntrack_proto_gre.c), GRE version 0: keys
// are 0 (no PPTP helper, so no call-id keymap).
Outcome gre_packet(Conn& en);

// nf_conntrack_generic_packet(): also SCTP and DCCP in fwsim (documented difference).
Outcome generic_packet(const Config& cfg);

inline Nanos secs(uint32_t s) { return Nanos(s) * kSecond; }

}  // namespace fwsim::ct::detail
