// Addresses, prefixes and protocol numbers: the vocabulary every module shares.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fwsim {

enum class Family : uint8_t { none = 0, ipv4 = 4, ipv6 = 6 };

// An IPv4 or IPv6 address in network byte order. IPv4 uses b[0..3], the rest
// stays zero, so that comparison and hashing need not look at the family.
struct IpAddr {
    std::array<uint8_t, 16> b{};

    static IpAddr from_v4(uint32_t host_order) {
        IpAddr a;
        a.b[0] = uint8_t(host_order >> 24);
        a.b[1] = uint8_t(host_order >> 16);
        a.b[2] = uint8_t(host_order >> 8);
        a.b[3] = uint8_t(host_order);
        return a;
    }
    uint32_t v4() const {
        return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
    }
    auto operator<=>(const IpAddr&) const = default;
    bool operator==(const IpAddr&) const = default;
};

// "192.168.1.1" or RFC 5952 text for IPv6.
std::string to_string(Family f, const IpAddr& a);
// Parses an address; sets *family. Returns nullopt on bad text.
std::optional<IpAddr> parse_addr(std::string_view text, Family* family);
// An IPv4 multicast (224.0.0.0/4) or limited broadcast address, or an IPv6
// multicast one (ff00::/8): never routed onward, delivered to the host.
inline bool is_multicast_or_broadcast(Family f, const IpAddr& a) {
    if (f == Family::ipv4) return (a.b[0] & 0xf0) == 0xe0 || a.v4() == 0xffffffffu;
    return a.b[0] == 0xff;
}

struct Prefix {
    Family family = Family::none;
    IpAddr addr;  // masked to len
    uint8_t len = 0;

    bool contains(Family f, const IpAddr& a) const;
    auto operator<=>(const Prefix&) const = default;
};
// "10.0.0.0/8", "2001:db8::/32", or a bare address (full length). Host bits
// are masked off unless keep_host is set (interface addresses keep them).
std::optional<Prefix> parse_prefix(std::string_view text, bool keep_host = false);
std::string to_string(const Prefix& p);
IpAddr mask_addr(Family f, const IpAddr& a, unsigned len);

// IP protocol numbers as in <netinet/in.h>, without the libc dependency.
namespace proto {
inline constexpr uint8_t hopopts = 0;
inline constexpr uint8_t icmp = 1;
inline constexpr uint8_t igmp = 2;
inline constexpr uint8_t tcp = 6;
inline constexpr uint8_t udp = 17;
inline constexpr uint8_t ipv6_route = 43;
inline constexpr uint8_t ipv6_frag = 44;
inline constexpr uint8_t gre = 47;
inline constexpr uint8_t esp = 50;
inline constexpr uint8_t ah = 51;
inline constexpr uint8_t icmpv6 = 58;
inline constexpr uint8_t ipv6_nonxt = 59;
inline constexpr uint8_t ipv6_dstopts = 60;
inline constexpr uint8_t sctp = 132;
inline constexpr uint8_t udplite = 136;

// The protocols whose conntrack tuple and NAT use 16-bit ports.
inline constexpr bool has_ports(uint8_t p) { return p == tcp || p == udp || p == udplite || p == sctp; }
}  // namespace proto

// "tcp", "udp", ... or the number as text; used in outputs.
std::string_view proto_name(uint8_t p);

}  // namespace fwsim
