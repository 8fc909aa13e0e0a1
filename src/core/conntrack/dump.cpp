// /proc/net/nf_conntrack text, as ct_seq_show() in
// net/netfilter/nf_conntrack_standalone.c prints it:
//   "%-8s %u %-8s %u %ld " l3 name/number, l4 name/number, seconds left,
//   TCP state name, original tuple, "packets=%llu bytes=%llu " (when
//   accounting is on), "[UNREPLIED] ", reply tuple, its counters,
//   "[ASSURED] ", "mark=%u ", "zone=%u " (ct_show_zone() for the default
//   zone, always printed), "use=%u\n".
// use= is 2: the table's reference plus the one ct_seq_show() takes while
// printing (refcount_inc_not_zero()). Checked against /proc/net/nf_conntrack
// of Linux 6.18: "... mark=0 zone=0 use=2".
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "fwsim/conntrack/table.hpp"
#include "fwsim/rules/eval_context.hpp"

namespace fwsim::ct {

namespace {

const char* l4_name(uint8_t p) {
    switch (p) {
        case proto::tcp: return "tcp";
        case proto::udp: return "udp";
        case proto::udplite: return "udplite";
        case proto::icmp: return "icmp";
        case proto::icmpv6: return "icmpv6";
        case proto::sctp: return "sctp";
        case proto::gre: return "gre";
        case 33: return "dccp";
    }
    return "unknown";
}

const char* tcp_state_name(TcpState s) {  // tcp_conntrack_names[]
    static const char* const names[] = {"NONE",       "SYN_SENT", "SYN_RECV",  "ESTABLISHED",
                                        "FIN_WAIT",   "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT",
                                        "CLOSE",      "SYN_SENT2"};
    return names[size_t(s)];
}

void append_addr(std::string& out, Family f, const IpAddr& a) {
    char buf[48];
    if (f == Family::ipv4) {
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a.b[0], a.b[1], a.b[2], a.b[3]);
    } else {  // %pI6: eight groups of four hex digits, not compressed
        std::snprintf(buf, sizeof buf, "%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x",
                      a.b[0], a.b[1], a.b[2], a.b[3], a.b[4], a.b[5], a.b[6], a.b[7], a.b[8],
                      a.b[9], a.b[10], a.b[11], a.b[12], a.b[13], a.b[14], a.b[15]);
    }
    out += buf;
}

void append_tuple(std::string& out, const Tuple& t) {  // print_tuple()
    char buf[64];
    out += "src=";
    append_addr(out, t.family, t.src);
    out += " dst=";
    append_addr(out, t.family, t.dst);
    out += ' ';
    switch (t.proto) {
        case proto::tcp:
        case proto::udp:
        case proto::udplite:
        case proto::sctp:
        case 33:
            std::snprintf(buf, sizeof buf, "sport=%u dport=%u ", t.sport, t.dport);
            out += buf;
            break;
        case proto::icmp:
        case proto::icmpv6:
            std::snprintf(buf, sizeof buf, "type=%u code=%u id=%u ", unsigned(t.dport >> 8),
                          unsigned(t.dport & 0xff), t.sport);
            out += buf;
            break;
        case proto::gre:
            out += "srckey=0x0 dstkey=0x0 ";  // GRE version 0: no keys
            break;
        default:
            break;
    }
}

void append_acct(std::string& out, uint64_t pkts, uint64_t bytes) {  // seq_print_acct()
    char buf[64];
    std::snprintf(buf, sizeof buf, "packets=%" PRIu64 " bytes=%" PRIu64 " ", pkts, bytes);
    out += buf;
}

}  // namespace

std::string Table::dump(Nanos now) const {
    std::vector<std::pair<uint64_t, EntryId>> order;
    for (EntryId e = 0; e < slots_.size(); ++e) {
        const Slot& en = slots_[e];
        if (en.live && en.confirmed && !en.dying) order.emplace_back(entry_id(e), e);
    }
    std::sort(order.begin(), order.end());

    std::string out;
    char buf[96];
    for (const auto& [id, e] : order) {
        const Slot& en = slots_[e];
        const Tuple o = tuple_at(en, 0);
        const bool v4 = o.family == Family::ipv4;
        const Nanos left = std::max<Nanos>(en.deadline - now, 0);
        std::snprintf(buf, sizeof buf, "%-8s %u %-8s %u %lld ", v4 ? "ipv4" : "ipv6", v4 ? 2u : 10u,
                      l4_name(o.proto), unsigned(o.proto), static_cast<long long>(left / kSecond));
        out += buf;
        if (o.proto == proto::tcp) {  // tcp_print_conntrack()
            out += tcp_state_name(tcp_state_of(en));
            out += ' ';
        } else if (o.proto == proto::gre) {  // gre_print_conntrack(): the default timeouts
            out += "timeout=30, stream_timeout=180 ";
        }
        append_tuple(out, o);
        if (cfg_.ct_acct) append_acct(out, count_of(en, e, Wide::pkts0), count_of(en, e, Wide::bytes0));
        if (!(en.status & rules::ctstatus::seen_reply)) out += "[UNREPLIED] ";
        append_tuple(out, tuple_at(en, 1));
        if (cfg_.ct_acct) append_acct(out, count_of(en, e, Wide::pkts1), count_of(en, e, Wide::bytes1));
        if (en.status & rules::ctstatus::assured) out += "[ASSURED] ";
        std::snprintf(buf, sizeof buf, "mark=%u zone=0 use=2\n", en.mark);
        out += buf;
    }
    return out;
}

}  // namespace fwsim::ct
