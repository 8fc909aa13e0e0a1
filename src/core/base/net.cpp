#include "fwsim/net.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace fwsim {

std::string to_string(Family f, const IpAddr& a) {
    char buf[INET6_ADDRSTRLEN];
    const int af = f == Family::ipv6 ? AF_INET6 : AF_INET;
    if (!inet_ntop(af, a.b.data(), buf, sizeof buf)) return "?";
    return buf;
}

std::optional<IpAddr> parse_addr(std::string_view text, Family* family) {
    char buf[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = 0;
    IpAddr a;
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, a.b.data()) != 1) return std::nullopt;
        if (family) *family = Family::ipv4;
    } else {
        if (inet_pton(AF_INET6, buf, a.b.data()) != 1) return std::nullopt;
        if (family) *family = Family::ipv6;
    }
    return a;
}

IpAddr mask_addr(Family f, const IpAddr& a, unsigned len) {
    const unsigned bits = f == Family::ipv4 ? 32 : 128;
    IpAddr m = a;
    for (unsigned i = 0; i < 16; ++i) {
        const unsigned lo = i * 8;
        if (lo >= bits || lo >= len + 8) {
            m.b[i] = 0;
        } else if (lo + 8 > len) {
            const unsigned keep = len > lo ? len - lo : 0;
            m.b[i] &= uint8_t(0xff00 >> keep);
        }
    }
    return m;
}

bool Prefix::contains(Family f, const IpAddr& a) const {
    return f == family && mask_addr(f, a, len) == mask_addr(f, addr, len);
}

std::optional<Prefix> parse_prefix(std::string_view text, bool keep_host) {
    Prefix p;
    const auto slash = text.find('/');
    auto a = parse_addr(text.substr(0, slash), &p.family);
    if (!a) return std::nullopt;
    const unsigned max = p.family == Family::ipv4 ? 32 : 128;
    unsigned len = max;
    if (slash != std::string_view::npos) {
        auto num = text.substr(slash + 1);
        auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), len);
        if (ec != std::errc() || ptr != num.data() + num.size() || num.empty() || len > max)
            return std::nullopt;
    }
    p.len = uint8_t(len);
    p.addr = keep_host ? *a : mask_addr(p.family, *a, len);
    return p;
}

std::string to_string(const Prefix& p) {
    return to_string(p.family, p.addr) + "/" + std::to_string(p.len);
}

std::string_view proto_name(uint8_t p) {
    switch (p) {
        case proto::icmp: return "icmp";
        case proto::igmp: return "igmp";
        case proto::tcp: return "tcp";
        case proto::udp: return "udp";
        case proto::gre: return "gre";
        case proto::esp: return "esp";
        case proto::ah: return "ah";
        case proto::icmpv6: return "icmpv6";
        case proto::sctp: return "sctp";
        case proto::udplite: return "udplite";
        default: break;
    }
    static const auto names = [] {
        std::array<std::array<char, 4>, 256> n{};
        for (int i = 0; i < 256; ++i) std::to_chars(n[i].data(), n[i].data() + 3, i);
        return n;
    }();
    return std::string_view(names[p].data());
}

}  // namespace fwsim
