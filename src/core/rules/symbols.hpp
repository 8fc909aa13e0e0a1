// The vocabulary of nft expressions fwsim understands: data types (with
// their symbolic constants) and selectors (`ip saddr`, `tcp dport`, ...).
// A small built-in table replaces /etc/services and /etc/protocols so that
// results do not depend on the machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fwsim::rules::detail {

enum class Type : uint8_t {
    ipv4, ipv6, service, proto, mark, ifname, iface, ct_state, ct_status, ct_dir, tcp_flags,
    icmp_type, icmp_code, icmpv6_type, icmpv6_code, icmpx_code, pkttype, nfproto, ethertype,
    u8, u16, u32, verdict, dscp, day, hour,
};

// Bytes of the value in a key (big-endian).
uint8_t type_width(Type t);
// "an IPv4 address", for messages.
std::string_view type_desc(Type t);
// nft's type names in set declarations: ipv4_addr, inet_service, ...
std::optional<Type> type_by_name(std::string_view name);
std::string_view type_name(Type t);
bool type_is_bitmask(Type t);
// Symbolic constants: "ssh" -> 22 (service), "echo-request" -> 8, ...
std::optional<uint64_t> symbol_value(Type t, std::string_view name);

enum class Sel : uint8_t {
    ip_saddr, ip_daddr, ip_protocol, ip_ttl, ip_length,
    ip6_saddr, ip6_daddr, ip6_nexthdr, ip6_hoplimit,
    meta_l4proto, meta_nfproto, meta_iifname, meta_oifname, meta_iif, meta_oif, meta_mark,
    meta_length, meta_pkttype, meta_protocol,
    tcp_sport, tcp_dport, udp_sport, udp_dport, udplite_sport, udplite_dport, sctp_sport,
    sctp_dport, th_sport, th_dport, tcp_flags,
    icmp_type, icmp_code, icmpv6_type, icmpv6_code,
    ct_state, ct_status, ct_direction, ct_mark,
    ip_dscp, ip6_dscp,
    ip_id, ip_version, icmp_id, icmp_sequence, icmpv6_id, icmpv6_sequence, tcp_sequence, tcp_ackseq,
    tcp_window, udp_length, meta_day, meta_hour,
};

struct SelInfo {
    Sel sel;
    std::string_view name;  // "ip saddr"
    Type type;
    bool needs_ct;
};
const SelInfo& sel_info(Sel s);
// Looks up "ip" + "saddr", "meta" + "l4proto", or a single unqualified word
// ("iifname", "mark") with second empty.
std::optional<Sel> find_selector(std::string_view first, std::string_view second);
// Whether `first` starts a two-word selector (ip, ip6, tcp, udp, meta, ct, ...).
bool is_selector_prefix(std::string_view first);

}  // namespace fwsim::rules::detail
