#include "symbols.hpp"

#include <array>

namespace fwsim::rules::detail {

namespace {

struct Sym {
    std::string_view name;
    uint64_t value;
};

// Service names as in a Debian /etc/services (the ones rulesets use).
constexpr Sym kServices[] = {
    {"ftp-data", 20}, {"ftp", 21}, {"ssh", 22}, {"telnet", 23}, {"smtp", 25}, {"domain", 53},
    {"bootps", 67}, {"bootpc", 68}, {"tftp", 69}, {"http", 80}, {"www", 80}, {"kerberos", 88},
    {"pop3", 110}, {"sunrpc", 111}, {"ntp", 123}, {"netbios-ns", 137}, {"netbios-dgm", 138},
    {"netbios-ssn", 139}, {"imap", 143}, {"imap2", 143}, {"snmp", 161}, {"snmp-trap", 162},
    {"bgp", 179}, {"ldap", 389}, {"https", 443}, {"microsoft-ds", 445}, {"isakmp", 500},
    {"syslog", 514}, {"submissions", 465}, {"submission", 587}, {"ldaps", 636},
    {"imaps", 993}, {"pop3s", 995}, {"openvpn", 1194}, {"ms-sql-s", 1433}, {"mysql", 3306},
    {"ms-wbt-server", 3389}, {"ipsec-nat-t", 4500}, {"sip", 5060}, {"postgresql", 5432},
    {"http-alt", 8080}, {"domain-s", 853}, {"rsync", 873}, {"mdns", 5353},
};
constexpr Sym kProtos[] = {
    {"icmp", 1}, {"igmp", 2}, {"ipip", 4}, {"tcp", 6}, {"egp", 8}, {"udp", 17}, {"dccp", 33},
    {"ipv6", 41}, {"gre", 47}, {"esp", 50}, {"ah", 51}, {"icmpv6", 58}, {"ipv6-icmp", 58},
    {"comp", 108}, {"vrrp", 112}, {"l2tp", 115}, {"sctp", 132}, {"udplite", 136},
};
constexpr Sym kIcmpTypes[] = {
    {"echo-reply", 0}, {"destination-unreachable", 3}, {"source-quench", 4}, {"redirect", 5},
    {"echo-request", 8}, {"router-advertisement", 9}, {"router-solicitation", 10},
    {"time-exceeded", 11}, {"parameter-problem", 12}, {"timestamp-request", 13},
    {"timestamp-reply", 14}, {"info-request", 15}, {"info-reply", 16},
    {"address-mask-request", 17}, {"address-mask-reply", 18},
};
constexpr Sym kIcmpCodes[] = {
    {"net-unreachable", 0}, {"host-unreachable", 1}, {"prot-unreachable", 2},
    {"port-unreachable", 3}, {"frag-needed", 4}, {"net-prohibited", 9},
    {"host-prohibited", 10}, {"admin-prohibited", 13},
};
constexpr Sym kIcmpv6Types[] = {
    {"destination-unreachable", 1}, {"packet-too-big", 2}, {"time-exceeded", 3},
    {"parameter-problem", 4}, {"echo-request", 128}, {"echo-reply", 129},
    {"mld-listener-query", 130}, {"mld-listener-report", 131}, {"mld-listener-done", 132},
    {"mld-listener-reduction", 132}, {"nd-router-solicit", 133}, {"nd-router-advert", 134},
    {"nd-neighbor-solicit", 135}, {"nd-neighbor-advert", 136}, {"nd-redirect", 137},
    {"router-renumbering", 138}, {"ind-neighbor-solicit", 141}, {"ind-neighbor-advert", 142},
    {"mld2-listener-report", 143},
};
constexpr Sym kIcmpv6Codes[] = {
    {"no-route", 0}, {"admin-prohibited", 1}, {"addr-unreachable", 3},
    {"port-unreachable", 4}, {"policy-fail", 5}, {"reject-route", 6},
};
constexpr Sym kIcmpxCodes[] = {
    {"no-route", 0}, {"port-unreachable", 1}, {"host-unreachable", 2}, {"admin-prohibited", 3},
};
// The kernel's ct state bits: NF_CT_STATE_BIT(ctinfo), NF_CT_STATE_UNTRACKED_BIT.
constexpr Sym kCtStates[] = {
    {"invalid", 1}, {"established", 2}, {"related", 4}, {"new", 8}, {"untracked", 64},
};
constexpr Sym kCtStatus[] = {
    {"expected", 1}, {"seen-reply", 2}, {"assured", 4}, {"confirmed", 8}, {"snat", 16},
    {"dnat", 32}, {"dying", 512},
};
constexpr Sym kCtDir[] = {{"original", 0}, {"reply", 1}};
constexpr Sym kTcpFlags[] = {
    {"fin", 0x01}, {"syn", 0x02}, {"rst", 0x04}, {"psh", 0x08}, {"ack", 0x10}, {"urg", 0x20},
    {"ecn", 0x40}, {"cwr", 0x80},
};
constexpr Sym kPkttype[] = {{"host", 0}, {"unicast", 0}, {"broadcast", 1}, {"multicast", 2}, {"other", 3}};
constexpr Sym kNfproto[] = {{"ipv4", 2}, {"ipv6", 10}};
// DSCP names as nftables' dscp_type (RFC 2474, 2597, 3246, 8622)
constexpr Sym kDscp[] = {
    {"cs0", 0}, {"cs1", 8}, {"cs2", 16}, {"cs3", 24}, {"cs4", 32}, {"cs5", 40}, {"cs6", 48}, {"cs7", 56},
    {"df", 0}, {"be", 0}, {"lephb", 1}, {"af11", 10}, {"af12", 12}, {"af13", 14}, {"af21", 18}, {"af22", 20},
    {"af23", 22}, {"af31", 26}, {"af32", 28}, {"af33", 30}, {"af41", 34}, {"af42", 36}, {"af43", 38},
    {"va", 44}, {"ef", 46},
};
constexpr Sym kDays[] = {
    {"Sunday", 0}, {"Monday", 1}, {"Tuesday", 2}, {"Wednesday", 3}, {"Thursday", 4}, {"Friday", 5}, {"Saturday", 6},
};
constexpr Sym kEthertype[] = {{"ip", 0x0800}, {"arp", 0x0806}, {"ip6", 0x86dd}, {"vlan", 0x8100}};

template <size_t N>
std::optional<uint64_t> find(const Sym (&t)[N], std::string_view name) {
    for (const auto& s : t)
        if (s.name == name) return s.value;
    return std::nullopt;
}

constexpr SelInfo kSels[] = {
    {Sel::ip_saddr, "ip saddr", Type::ipv4, false},
    {Sel::ip_daddr, "ip daddr", Type::ipv4, false},
    {Sel::ip_protocol, "ip protocol", Type::proto, false},
    {Sel::ip_ttl, "ip ttl", Type::u8, false},
    {Sel::ip_length, "ip length", Type::u16, false},
    {Sel::ip6_saddr, "ip6 saddr", Type::ipv6, false},
    {Sel::ip6_daddr, "ip6 daddr", Type::ipv6, false},
    {Sel::ip6_nexthdr, "ip6 nexthdr", Type::proto, false},
    {Sel::ip6_hoplimit, "ip6 hoplimit", Type::u8, false},
    {Sel::meta_l4proto, "meta l4proto", Type::proto, false},
    {Sel::meta_nfproto, "meta nfproto", Type::nfproto, false},
    {Sel::meta_iifname, "meta iifname", Type::ifname, false},
    {Sel::meta_oifname, "meta oifname", Type::ifname, false},
    {Sel::meta_iif, "meta iif", Type::iface, false},
    {Sel::meta_oif, "meta oif", Type::iface, false},
    {Sel::meta_mark, "meta mark", Type::mark, false},
    {Sel::meta_length, "meta length", Type::u32, false},
    {Sel::meta_pkttype, "meta pkttype", Type::pkttype, false},
    {Sel::meta_protocol, "meta protocol", Type::ethertype, false},
    {Sel::tcp_sport, "tcp sport", Type::service, false},
    {Sel::tcp_dport, "tcp dport", Type::service, false},
    {Sel::udp_sport, "udp sport", Type::service, false},
    {Sel::udp_dport, "udp dport", Type::service, false},
    {Sel::udplite_sport, "udplite sport", Type::service, false},
    {Sel::udplite_dport, "udplite dport", Type::service, false},
    {Sel::sctp_sport, "sctp sport", Type::service, false},
    {Sel::sctp_dport, "sctp dport", Type::service, false},
    {Sel::th_sport, "th sport", Type::service, false},
    {Sel::th_dport, "th dport", Type::service, false},
    {Sel::tcp_flags, "tcp flags", Type::tcp_flags, false},
    {Sel::icmp_type, "icmp type", Type::icmp_type, false},
    {Sel::icmp_code, "icmp code", Type::icmp_code, false},
    {Sel::icmpv6_type, "icmpv6 type", Type::icmpv6_type, false},
    {Sel::icmpv6_code, "icmpv6 code", Type::icmpv6_code, false},
    {Sel::ct_state, "ct state", Type::ct_state, true},
    {Sel::ct_status, "ct status", Type::ct_status, true},
    {Sel::ct_direction, "ct direction", Type::ct_dir, true},
    {Sel::ct_mark, "ct mark", Type::mark, true},
    {Sel::ip_dscp, "ip dscp", Type::dscp, false},
    {Sel::ip6_dscp, "ip6 dscp", Type::dscp, false},
    {Sel::ip_id, "ip id", Type::u16, false},
    {Sel::ip_version, "ip version", Type::u8, false},
    {Sel::icmp_id, "icmp id", Type::u16, false},
    {Sel::icmp_sequence, "icmp sequence", Type::u16, false},
    {Sel::icmpv6_id, "icmpv6 id", Type::u16, false},
    {Sel::icmpv6_sequence, "icmpv6 sequence", Type::u16, false},
    {Sel::tcp_sequence, "tcp sequence", Type::u32, false},
    {Sel::tcp_ackseq, "tcp ackseq", Type::u32, false},
    {Sel::tcp_window, "tcp window", Type::u16, false},
    {Sel::udp_length, "udp length", Type::u16, false},
    {Sel::meta_day, "meta day", Type::day, false},
    {Sel::meta_hour, "meta hour", Type::hour, false},
};

}  // namespace

uint8_t type_width(Type t) {
    switch (t) {
    case Type::ipv4: return 4;
    case Type::ipv6: return 16;
    case Type::service: return 2;
    case Type::proto: return 1;
    case Type::mark: return 4;
    case Type::ifname: return 2;  // compiled to the interface index
    case Type::iface: return 2;
    case Type::ct_state: return 4;
    case Type::ct_status: return 4;
    case Type::ct_dir: return 1;
    case Type::tcp_flags: return 1;
    case Type::icmp_type: case Type::icmp_code: case Type::icmpv6_type:
    case Type::icmpv6_code: case Type::icmpx_code: return 1;
    case Type::pkttype: return 1;
    case Type::nfproto: return 1;
    case Type::ethertype: return 2;
    case Type::u8: return 1;
    case Type::u16: return 2;
    case Type::u32: return 4;
    case Type::verdict: return 4;
    case Type::dscp: return 1;
    case Type::day: return 1;
    case Type::hour: return 4;
    }
    return 4;
}

std::string_view type_desc(Type t) {
    switch (t) {
    case Type::ipv4: return "an IPv4 address";
    case Type::ipv6: return "an IPv6 address";
    case Type::service: return "a port number or service name";
    case Type::proto: return "a protocol name or number";
    case Type::mark: return "a mark (32-bit integer)";
    case Type::ifname: return "an interface name";
    case Type::iface: return "an interface name";
    case Type::ct_state: return "a ct state (new, established, related, invalid, untracked)";
    case Type::ct_status: return "a ct status (expected, seen-reply, assured, confirmed, snat, dnat, dying)";
    case Type::ct_dir: return "a ct direction (original, reply)";
    case Type::tcp_flags: return "a TCP flag (fin, syn, rst, psh, ack, urg, ecn, cwr)";
    case Type::icmp_type: return "an ICMP type";
    case Type::icmp_code: return "an ICMP code";
    case Type::icmpv6_type: return "an ICMPv6 type";
    case Type::icmpv6_code: return "an ICMPv6 code";
    case Type::icmpx_code: return "an icmpx code";
    case Type::pkttype: return "a packet type (host, broadcast, multicast, other)";
    case Type::nfproto: return "ipv4 or ipv6";
    case Type::ethertype: return "an ethernet type";
    case Type::u8: return "an 8-bit integer";
    case Type::u16: return "a 16-bit integer";
    case Type::u32: return "a 32-bit integer";
    case Type::verdict: return "a verdict";
    case Type::dscp: return "a DSCP value (cs0..cs7, af11..af43, ef, ...)";
    case Type::day: return "a day (\"Monday\" ... \"Sunday\", or 0-6 from Sunday)";
    case Type::hour: return "a time of day (\"HH:MM\" or \"HH:MM:SS\")";
    }
    return "a value";
}

namespace {
constexpr std::pair<std::string_view, Type> kTypeNames[] = {
    {"ipv4_addr", Type::ipv4}, {"ipv6_addr", Type::ipv6}, {"inet_service", Type::service},
    {"inet_proto", Type::proto}, {"mark", Type::mark}, {"ifname", Type::ifname},
    {"iface_index", Type::iface}, {"ct_state", Type::ct_state}, {"ct_status", Type::ct_status},
    {"ct_dir", Type::ct_dir}, {"tcp_flag", Type::tcp_flags}, {"icmp_type", Type::icmp_type},
    {"icmp_code", Type::icmp_code}, {"icmpv6_type", Type::icmpv6_type},
    {"icmpv6_code", Type::icmpv6_code}, {"icmpx_code", Type::icmpx_code},
    {"pkt_type", Type::pkttype}, {"nf_proto", Type::nfproto}, {"ether_type", Type::ethertype},
    {"verdict", Type::verdict}, {"dscp", Type::dscp},
};
}

std::optional<Type> type_by_name(std::string_view name) {
    for (auto& [n, t] : kTypeNames)
        if (n == name) return t;
    return std::nullopt;
}

std::string_view type_name(Type t) {
    for (auto& [n, tt] : kTypeNames)
        if (tt == t) return n;
    switch (t) {
    case Type::u8: return "integer(8)";
    case Type::u16: return "integer(16)";
    default: return "integer(32)";
    }
}

bool type_is_bitmask(Type t) {
    return t == Type::ct_state || t == Type::ct_status || t == Type::tcp_flags;
}

std::optional<uint64_t> symbol_value(Type t, std::string_view name) {
    switch (t) {
    case Type::service: return find(kServices, name);
    case Type::proto: return find(kProtos, name);
    case Type::icmp_type: return find(kIcmpTypes, name);
    case Type::icmp_code: return find(kIcmpCodes, name);
    case Type::icmpv6_type: return find(kIcmpv6Types, name);
    case Type::icmpv6_code: return find(kIcmpv6Codes, name);
    case Type::icmpx_code: return find(kIcmpxCodes, name);
    case Type::ct_state: return find(kCtStates, name);
    case Type::ct_status: return find(kCtStatus, name);
    case Type::ct_dir: return find(kCtDir, name);
    case Type::tcp_flags: return find(kTcpFlags, name);
    case Type::pkttype: return find(kPkttype, name);
    case Type::nfproto: return find(kNfproto, name);
    case Type::ethertype: return find(kEthertype, name);
    case Type::dscp: return find(kDscp, name);
    case Type::day: return find(kDays, name);
    default: return std::nullopt;
    }
}

const SelInfo& sel_info(Sel s) { return kSels[static_cast<size_t>(s)]; }

std::optional<Sel> find_selector(std::string_view first, std::string_view second) {
    if (second.empty()) {
        // nft's unqualified meta keys (meta_key_unqualified in parser_bison.y)
        if (first == "iifname") return Sel::meta_iifname;
        if (first == "oifname") return Sel::meta_oifname;
        if (first == "iif") return Sel::meta_iif;
        if (first == "oif") return Sel::meta_oif;
        if (first == "mark") return Sel::meta_mark;
        if (first == "pkttype") return Sel::meta_pkttype;
        return std::nullopt;
    }
    for (const auto& s : kSels) {
        std::string_view n = s.name;
        size_t sp = n.find(' ');
        if (n.substr(0, sp) == first && n.substr(sp + 1) == second) return s.sel;
    }
    return std::nullopt;
}

bool is_selector_prefix(std::string_view first) {
    return first == "ip" || first == "ip6" || first == "meta" || first == "tcp" || first == "udp" ||
           first == "udplite" || first == "sctp" || first == "th" || first == "icmp" ||
           first == "icmpv6" || first == "ct";
}

}  // namespace fwsim::rules::detail
