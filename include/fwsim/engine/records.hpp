// What the engine reports: one record per packet, one per flow, one per
// statistics interval. Sinks (src/io/output) turn them into JSON; they never
// reach back into the engine.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "fwsim/packet.hpp"
#include "fwsim/rules/eval_context.hpp"
#include "fwsim/time.hpp"
#include "fwsim/tuple.hpp"
#include "fwsim/verdict.hpp"

namespace fwsim {

// The fields NAT rewrote, as the packet leaves the firewall.
struct NatChange {
    bool src = false, dst = false, sport = false, dport = false;
    IpAddr new_src, new_dst;
    uint16_t new_sport = 0, new_dport = 0;
    // An ICMP error RELATED to a NATed connection: the packet it quotes is
    // translated back too (nf_nat_icmp_reply_translation()).
    bool inner = false;
    Tuple inner_from, inner_to;
    bool any() const { return src || dst || sport || dport || inner; }
};

// The verdict record (SPEC "Verdict record"), one per capture record.
struct PacketRecord {
    const Packet* pkt = nullptr;  // as decoded (before NAT)
    Verdict verdict = Verdict::accept;
    Reason reason = Reason::none;
    std::string_view error;       // for reason malformed (decoder or defragmenter text)
    uint16_t iif = rules::kNoIf, oif = rules::kNoIf;
    bool has_hook = false;
    Hook hook = Hook::forward;    // forward, input or output: where the packet went
    bool has_ct = false;          // conntrack looked at it
    uint32_t ct_id = 0;           // 0: no entry (invalid without entry, untracked)
    CtDir ct_dir = CtDir::original;
    CtState ct_state = CtState::invalid;
    bool has_tcp_state = false;
    TcpState tcp_state = TcpState::none;
    uint32_t rule = rules::kNoRule;
    uint32_t chain = rules::kNoRule;  // the base chain whose rule or policy dropped/rejected it
    NatChange nat;
    uint8_t log_count = 0;
    uint32_t logs[rules::EvalContext::kMaxLogs] = {};
    uint64_t datagram = 0;        // for fragments: index of the packet that completed the datagram
};

enum class FlowEnd : uint8_t { closed, timeout, evicted, end_of_capture };
std::string_view to_string(FlowEnd e);

// The flow record (SPEC "Flow record").
struct FlowRecord {
    uint64_t id = 0;
    Tuple orig, reply;
    bool has_reply = true;        // false for denied flows whose reply tuple never existed
    Nanos first_ts = 0, last_ts = 0;
    uint64_t orig_pkts = 0, orig_bytes = 0, reply_pkts = 0, reply_bytes = 0;
    Verdict verdict = Verdict::accept;  // accept (had a conntrack entry) or drop (denied flow)
    Reason reason = Reason::none;       // for denied flows: why (policy, table_full, ...)
    bool has_tcp_state = false;
    TcpState tcp_state = TcpState::none;
    bool assured = false;
    uint32_t status = 0;
    uint32_t mark = 0;
    FlowEnd end = FlowEnd::end_of_capture;
    Nanos end_ts = 0;
    uint32_t rule = rules::kNoRule;
};

// The table-pressure record (SPEC "Table-pressure record"). Gauges are at
// `ts`; counters are for the interval that ends at `ts`.
struct TableStats {
    Nanos ts = 0;
    uint64_t ct_entries = 0, ct_max = 0;
    // by protocol: tcp, udp, udplite, icmp, icmpv6, other
    std::array<uint64_t, 6> by_proto{};
    std::array<uint64_t, 10> by_tcp_state{};  // indexed by TcpState
    uint64_t new_ = 0, destroyed = 0, expired = 0, early_drop = 0, insert_failed = 0,
             table_full_drops = 0, nat_bindings = 0, nat_port_exhausted = 0;
};
inline constexpr std::array<std::string_view, 6> kStatsProtoNames = {"tcp", "udp", "udplite",
                                                                     "icmp", "icmpv6", "other"};

class EngineObserver {
public:
    virtual void on_packet(const PacketRecord& r) = 0;
    virtual void on_flow(const FlowRecord& f) = 0;
    virtual void on_stats(const TableStats& s) = 0;

protected:
    ~EngineObserver() = default;
};

}  // namespace fwsim
