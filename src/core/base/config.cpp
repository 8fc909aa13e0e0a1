#include "fwsim/config.hpp"

#include <array>
#include <charconv>
#include <cstdio>

namespace fwsim {

namespace {

#define U32(k, s, h, m) ConfigKey{k, s, h, false, nullptr, &Config::m, nullptr}
#define U64(k, s, h, m) ConfigKey{k, s, h, false, &Config::m, nullptr, nullptr}
#define F64(k, s, h, m) ConfigKey{k, s, h, true, nullptr, nullptr, &Config::m}

constexpr std::string_view kNf = "net.netfilter.";

const std::array kKeys = {
    U64("ct.max", "net.netfilter.nf_conntrack_max", "conntrack table size limit", ct_max),
    U32("ct.checksum", "net.netfilter.nf_conntrack_checksum", "verify L4 checksums (bad ones are invalid)", ct_checksum),
    U32("ct.acct", "net.netfilter.nf_conntrack_acct", "per-flow packet/byte accounting", ct_acct),
    U32("timeout.tcp.syn_sent", "net.netfilter.nf_conntrack_tcp_timeout_syn_sent", "seconds", tcp_syn_sent),
    U32("timeout.tcp.syn_recv", "net.netfilter.nf_conntrack_tcp_timeout_syn_recv", "seconds", tcp_syn_recv),
    U32("timeout.tcp.established", "net.netfilter.nf_conntrack_tcp_timeout_established", "seconds", tcp_established),
    U32("timeout.tcp.fin_wait", "net.netfilter.nf_conntrack_tcp_timeout_fin_wait", "seconds", tcp_fin_wait),
    U32("timeout.tcp.close_wait", "net.netfilter.nf_conntrack_tcp_timeout_close_wait", "seconds", tcp_close_wait),
    U32("timeout.tcp.last_ack", "net.netfilter.nf_conntrack_tcp_timeout_last_ack", "seconds", tcp_last_ack),
    U32("timeout.tcp.time_wait", "net.netfilter.nf_conntrack_tcp_timeout_time_wait", "seconds", tcp_time_wait),
    U32("timeout.tcp.close", "net.netfilter.nf_conntrack_tcp_timeout_close", "seconds", tcp_close),
    U32("timeout.tcp.max_retrans", "net.netfilter.nf_conntrack_tcp_timeout_max_retrans", "seconds", tcp_max_retrans_timeout),
    U32("timeout.tcp.unacknowledged", "net.netfilter.nf_conntrack_tcp_timeout_unacknowledged", "seconds", tcp_unacknowledged),
    U32("tcp.loose", "net.netfilter.nf_conntrack_tcp_loose", "pick up connections mid-stream", tcp_loose),
    U32("tcp.be_liberal", "net.netfilter.nf_conntrack_tcp_be_liberal", "only RSTs out of window are invalid", tcp_be_liberal),
    U32("tcp.max_retrans", "net.netfilter.nf_conntrack_tcp_max_retrans", "retransmissions before the max_retrans timeout", tcp_max_retrans),
    U32("tcp.ignore_invalid_rst", "net.netfilter.nf_conntrack_tcp_ignore_invalid_rst", "out-of-window RSTs are ignored, not invalid", tcp_ignore_invalid_rst),
    U32("timeout.udp.unreplied", "net.netfilter.nf_conntrack_udp_timeout", "seconds", udp_unreplied),
    U32("timeout.udp.stream", "net.netfilter.nf_conntrack_udp_timeout_stream", "seconds", udp_stream),
    U32("timeout.icmp", "net.netfilter.nf_conntrack_icmp_timeout", "seconds", icmp),
    U32("timeout.icmpv6", "net.netfilter.nf_conntrack_icmpv6_timeout", "seconds", icmpv6),
    U32("timeout.generic", "net.netfilter.nf_conntrack_generic_timeout", "seconds", generic),
    U32("frag.timeout", "net.ipv4.ipfrag_time", "seconds an incomplete IPv4 datagram is kept", frag_timeout),
    U64("frag.high_thresh", "net.ipv4.ipfrag_high_thresh", "bytes of IPv4 fragments kept at most", frag_high_thresh),
    U32("frag6.timeout", "net.ipv6.ip6frag_time", "seconds an incomplete IPv6 datagram is kept", frag6_timeout),
    U64("frag6.high_thresh", "net.ipv6.ip6frag_high_thresh", "bytes of IPv6 fragments kept at most", frag6_high_thresh),
    F64("stats.interval", "", "seconds of capture time per --stats record", stats_interval),
};

}  // namespace

std::span<const ConfigKey> config_keys() { return kKeys; }

const ConfigKey* find_config_key(std::string_view name) {
    for (const auto& k : kKeys) {
        if (k.key == name || (!k.sysctl.empty() && k.sysctl == name)) return &k;
    }
    // Accept the sysctl without its "net.netfilter." prefix too.
    for (const auto& k : kKeys) {
        if (k.sysctl.starts_with(kNf) && k.sysctl.substr(kNf.size()) == name) return &k;
    }
    return nullptr;
}

std::string set_config(Config& c, std::string_view name, std::string_view value) {
    const ConfigKey* k = find_config_key(name);
    if (!k) return "unknown configuration key \"" + std::string(name) + "\" (fwsim config --defaults lists them)";
    const char* b = value.data();
    const char* e = b + value.size();
    if (k->is_double) {
        double v = 0;
        auto [p, ec] = std::from_chars(b, e, v);
        if (ec != std::errc() || p != e || !(v > 0))
            return "bad value \"" + std::string(value) + "\" for " + std::string(k->key) + ": expected a positive number";
        c.*(k->f64) = v;
        return {};
    }
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || p != e || value.empty())
        return "bad value \"" + std::string(value) + "\" for " + std::string(k->key) + ": expected a whole number";
    if (k->u32) {
        if (v > 0xffffffffull) return "value " + std::string(value) + " for " + std::string(k->key) + " is too large";
        c.*(k->u32) = uint32_t(v);
    } else {
        c.*(k->u64) = v;
    }
    return {};
}

std::string get_config(const Config& c, const ConfigKey& k) {
    if (k.is_double) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", c.*(k.f64));
        return buf;
    }
    return std::to_string(k.u32 ? uint64_t(c.*(k.u32)) : c.*(k.u64));
}

}  // namespace fwsim
