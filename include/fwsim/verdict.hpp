// The words of a verdict, named as the SPEC and the kernel name them.
#pragma once

#include <cstdint>
#include <string_view>

namespace fwsim {

enum class Verdict : uint8_t { accept, drop, reject, ignored };

// Why a packet got its verdict when no rule decided it.
enum class Reason : uint8_t {
    none,                  // a rule decided
    policy,                // a base chain's policy
    invalid,               // conntrack found it invalid and something dropped it for that
    malformed,             // the decoder rejected it (Packet::error says why)
    table_full,            // no room in the conntrack table, early drop failed
    not_ip,
    unsupported_linktype,
    nat_port_exhausted,
    insert_failed,         // conntrack confirm clashed (nf_conntrack_confirm)
    fragment_incomplete,   // a fragment whose datagram never completed (timeout or end of capture)
    no_route,              // no interface routes the destination
    ttl_exceeded,          // forwarded with TTL/hop limit <= 1
};

enum class Hook : uint8_t { prerouting, input, forward, output, postrouting };
inline constexpr int kHookCount = 5;

// Conntrack's view of a packet (ctinfo), as `ct state` sees it.
enum class CtState : uint8_t { new_, established, related, invalid, untracked };
enum class CtDir : uint8_t { original, reply };

// TCP conntrack states in the kernel's order (enum tcp_conntrack).
enum class TcpState : uint8_t {
    none, syn_sent, syn_recv, established, fin_wait, close_wait, last_ack, time_wait, close,
    syn_sent2,
};

std::string_view to_string(Verdict v);
std::string_view to_string(Reason r);
std::string_view to_string(Hook h);
std::string_view to_string(CtState s);
std::string_view to_string(CtDir d);
std::string_view to_string(TcpState s);

}  // namespace fwsim
