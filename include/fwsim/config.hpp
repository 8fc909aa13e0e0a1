// Configuration: every knob mirrors a Linux sysctl, with the Linux default.
// The key table is the single source for `--set`, `--config`, the topology
// file's `sysctls`, the summary's "config" and `fwsim config --defaults`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace fwsim {

struct Config {
    // nf_conntrack_max. Linux sizes it from RAM: on a 64-bit machine with
    // more than 4 GiB, nf_conntrack_htable_size = 262144 and max = 1 * that
    // (nf_conntrack_init_start() in net/netfilter/nf_conntrack_core.c).
    uint64_t ct_max = 262144;
    uint32_t ct_checksum = 1;          // nf_conntrack_checksum
    uint32_t ct_acct = 1;              // accounting is always on in fwsim's outputs; kept for symmetry

    // TCP (nf_conntrack_proto_tcp.c, tcp_timeouts[]), seconds
    uint32_t tcp_syn_sent = 120;
    uint32_t tcp_syn_recv = 60;
    uint32_t tcp_established = 432000;
    uint32_t tcp_fin_wait = 120;
    uint32_t tcp_close_wait = 60;
    uint32_t tcp_last_ack = 30;
    uint32_t tcp_time_wait = 120;
    uint32_t tcp_close = 10;
    uint32_t tcp_max_retrans_timeout = 300;  // nf_conntrack_tcp_timeout_max_retrans
    uint32_t tcp_unacknowledged = 300;       // nf_conntrack_tcp_timeout_unacknowledged
    uint32_t tcp_loose = 1;
    uint32_t tcp_be_liberal = 0;
    uint32_t tcp_max_retrans = 3;
    uint32_t tcp_ignore_invalid_rst = 0;

    // UDP (nf_conntrack_proto_udp.c), seconds
    uint32_t udp_unreplied = 30;
    uint32_t udp_stream = 120;
    // ICMP / ICMPv6, generic
    uint32_t icmp = 30;
    uint32_t icmpv6 = 30;
    uint32_t generic = 600;
    // SCTP is tracked as generic by fwsim (documented difference); GRE likewise.

    // Fragment reassembly (net.ipv4.ipfrag_*, net.ipv6.ip6frag_*)
    uint32_t frag_timeout = 30;
    uint64_t frag_high_thresh = 4 * 1024 * 1024;
    uint32_t frag6_timeout = 60;
    uint64_t frag6_high_thresh = 4 * 1024 * 1024;

    // Sinks
    double stats_interval = 1.0;  // --stats-interval, seconds of capture time
};

struct ConfigKey {
    std::string_view key;     // fwsim name: "timeout.tcp.established"
    std::string_view sysctl;  // "net.netfilter.nf_conntrack_tcp_timeout_established" ("" if none)
    std::string_view help;
    bool is_double;
    uint64_t Config::*u64 = nullptr;
    uint32_t Config::*u32 = nullptr;
    double Config::*f64 = nullptr;
};

std::span<const ConfigKey> config_keys();
const ConfigKey* find_config_key(std::string_view key_or_sysctl);

// Sets one key from text; returns an error message, empty on success.
std::string set_config(Config& c, std::string_view key_or_sysctl, std::string_view value);
// The value as text ("432000", "1.0").
std::string get_config(const Config& c, const ConfigKey& k);

}  // namespace fwsim
