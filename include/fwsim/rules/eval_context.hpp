// What a rule sees of a packet and what it can decide: the contract between
// the engine (which walks the hooks) and the rules evaluator.
#pragma once

#include <cstdint>

#include "fwsim/net.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/time.hpp"
#include "fwsim/tuple.hpp"
#include "fwsim/verdict.hpp"

namespace fwsim::rules {

inline constexpr uint16_t kNoIf = 0xffff;
inline constexpr uint32_t kNoRule = 0xffffffff;

// conntrack status bits, as enum ip_conntrack_status (IPS_*_BIT) so that
// `ct status` matches the kernel's values.
namespace ctstatus {
inline constexpr uint32_t expected = 1u << 0, seen_reply = 1u << 1, assured = 1u << 2,
                          confirmed = 1u << 3, src_nat = 1u << 4, dst_nat = 1u << 5,
                          seq_adjust = 1u << 6, src_nat_done = 1u << 7,
                          dst_nat_done = 1u << 8, dying = 1u << 9, fixed_timeout = 1u << 10,
                          template_ = 1u << 11, untracked = 1u << 12, helper = 1u << 13,
                          offload = 1u << 14;
}

// A NAT statement that fired (snat/dnat/masquerade/redirect), handed to NAT.
struct NatRequest {
    enum class Kind : uint8_t { none, snat, dnat, masquerade, redirect };
    Kind kind = Kind::none;
    Family family = Family::none;  // of the addresses, when has_addr
    bool has_addr = false;
    bool has_port = false;
    IpAddr addr_min, addr_max;
    uint16_t port_min = 0, port_max = 0;
    // NF_NAT_RANGE_PROTO_RANDOM, _RANDOM_FULLY, _PERSISTENT
    bool random = false, fully_random = false, persistent = false;
};

enum class RejectKind : uint8_t {
    none,
    icmp_port_unreachable,  // default for ip (and inet with IPv4)
    icmpx,                  // `with icmpx type ...` (mapped per family)
    icmp,                   // `with icmp type X`
    icmpv6,                 // `with icmpv6 type X`
    tcp_reset,
};

// One evaluation of one base chain. The engine fills the inputs, the
// evaluator writes the outputs. Field names follow nft's selectors.
struct EvalContext {
    // ---- inputs
    const Packet* pkt = nullptr;  // addresses/ports as they are now (after any NAT so far)
    Hook hook = Hook::prerouting;
    Nanos now = 0;                // capture time, for `limit`
    uint16_t iif = kNoIf;         // topology interface index
    uint16_t oif = kNoIf;         // kNoIf before routing (prerouting)
    uint8_t pkttype = 0;          // PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3
    // conntrack (has_ct false: no entry, `ct state` reads invalid or untracked)
    bool has_ct = false;
    CtState ct_state = CtState::invalid;
    CtDir ct_dir = CtDir::original;
    uint32_t ct_status = 0;
    uint32_t ct_id = 0;
    // For `ct count` (nft_connlimit): the original tuple of the packet's
    // connection (null: none; the packet's own tuple is used), and a lookup
    // that says whether a confirmed connection with that original tuple
    // exists and whether it is a TCP connection already closed
    // (TIME_WAIT/CLOSE). Null lookup: `ct count` sees no live connections.
    const Tuple* ct_orig = nullptr;
    bool (*ct_alive)(const void* owner, const Tuple& orig, bool* closed) = nullptr;
    const void* ct_owner = nullptr;

    // ---- inputs that statements may change
    uint32_t meta_mark = 0;
    uint32_t ct_mark = 0;
    bool ct_mark_set = false;     // `ct mark set` ran: the engine stores ct_mark in the entry

    // ---- outputs
    Verdict verdict = Verdict::accept;  // accept, drop or reject
    bool by_policy = false;       // decided by the base chain's policy
    uint32_t rule = kNoRule;      // the deciding rule (see Ruleset::rule_info)
    RejectKind reject = RejectKind::none;
    uint8_t reject_type = 0, reject_code = 0;
    NatRequest nat;               // set by a NAT statement in a nat chain
    bool notrack = false;
    // `log` statements that fired, as ids into Ruleset::log_prefix(); at most
    // kMaxLogs are kept per packet, `logs_dropped` counts the rest.
    static constexpr int kMaxLogs = 8;
    uint32_t logs[kMaxLogs] = {};
    uint8_t log_count = 0;
    uint16_t logs_dropped = 0;
};

}  // namespace fwsim::rules
