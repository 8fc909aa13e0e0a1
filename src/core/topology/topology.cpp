#include "fwsim/topology/topology.hpp"

#include <algorithm>
#include <cstring>

#include "fwsim/error.hpp"

namespace fwsim {

namespace {

// Prefix match without building masked copies: compares whole bytes, then
// the leading bits of the last partial byte. Allocation-free, per packet.
bool matches(const Prefix& p, Family f, const IpAddr& a) {
    if (p.family != f) return false;
    const unsigned full = p.len / 8, rest = p.len % 8;
    for (unsigned i = 0; i < full; ++i)
        if (p.addr.b[i] != a.b[i]) return false;
    if (rest) {
        const uint8_t m = uint8_t(0xff00 >> rest);
        if ((p.addr.b[full] & m) != (a.b[full] & m)) return false;
    }
    return true;
}

Prefix connected(const Prefix& host) {
    Prefix p = host;
    p.addr = mask_addr(host.family, host.addr, host.len);
    return p;
}

unsigned max_len(Family f) { return f == Family::ipv4 ? 32 : 128; }

bool overlaps(const Prefix& a, const Prefix& b) {
    if (a.family != b.family) return false;
    const Prefix& shorter = a.len <= b.len ? a : b;
    const Prefix& longer = a.len <= b.len ? b : a;
    return matches(shorter, longer.family, longer.addr);
}

bool is_link_local(const Prefix& p) {
    return p.family == Family::ipv6 && p.addr.b[0] == 0xfe && (p.addr.b[1] & 0xc0) == 0x80;
}

bool valid_name(const std::string& n) {
    // IFNAMSIZ is 16 with the NUL; the oracle accepts [A-Za-z0-9_-].
    if (n.empty() || n.size() > 15) return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

}  // namespace

Topology Topology::home_router() {
    auto pf = [](const char* s, bool host = false) { return *parse_prefix(s, host); };
    Interface lan;
    lan.name = "lan0";
    lan.addrs = {pf("192.168.1.1/24", true), pf("fd00::1/64", true)};
    lan.subnets = {pf("10.0.0.0/8"), pf("172.16.0.0/12"), pf("192.168.0.0/16"), pf("fc00::/7"),
                   pf("fe80::/10")};
    Interface wan;
    wan.name = "wan0";
    wan.addrs = {pf("203.0.113.1/24", true), pf("2001:db8:ffff::1/64", true)};
    wan.is_default = true;
    return Topology({std::move(lan), std::move(wan)}, {});
}

Topology::Topology(std::vector<Interface> ifs, std::vector<Route> routes)
    : ifs_(std::move(ifs)), routes_(std::move(routes)) {
    if (ifs_.size() >= kNoIf) throw InputError("interfaces: too many interfaces");
    for (size_t i = 0; i < ifs_.size(); ++i) {
        const Interface& in = ifs_[i];
        const std::string where = "interfaces." + in.name;
        if (!valid_name(in.name))
            throw InputError(where + ": bad interface name \"" + in.name +
                             "\" (1-15 characters of A-Z a-z 0-9 _ -)");
        for (size_t j = 0; j < i; ++j)
            if (ifs_[j].name == in.name) throw InputError(where + ": interface defined twice");
        if (in.is_default) {
            if (default_ != kNoIf)
                throw InputError(where + ".default: two default interfaces (" + ifs_[default_].name +
                                 " and " + in.name + ")");
            default_ = uint16_t(i);
        }
        for (size_t a = 0; a < in.addrs.size(); ++a) {
            const Prefix& p = in.addrs[a];
            const std::string aw = where + ".addrs[" + std::to_string(a) + "]";
            if (p.family == Family::none || p.len > max_len(p.family))
                throw InputError(aw + ": bad prefix");
            // Same address twice, or connected prefixes of two interfaces
            // overlapping (ingress would be ambiguous). IPv6 link-local
            // prefixes are per link and may repeat.
            for (size_t j = 0; j <= i; ++j) {
                const auto& other = ifs_[j].addrs;
                const size_t n = j == i ? a : other.size();
                for (size_t b = 0; b < n; ++b) {
                    if (other[b].family != p.family) continue;
                    if (other[b].addr == p.addr)
                        throw InputError(aw + ": address " + to_string(p.family, p.addr) +
                                         " is also on " + ifs_[j].name);
                    if (j != i && !is_link_local(connected(p)) &&
                        overlaps(connected(p), connected(other[b])))
                        throw InputError(aw + ": " + to_string(p) + " overlaps " +
                                         to_string(other[b]) + " on " + ifs_[j].name);
                }
            }
            src_table_.push_back({connected(p), uint16_t(i)});
            route_table_.push_back({connected(p), uint16_t(i)});
            Prefix host = p;
            host.len = uint8_t(max_len(p.family));
            local_.push_back({host, uint16_t(i)});
        }
        for (const Prefix& s : in.subnets) {
            src_table_.push_back({s, uint16_t(i)});
            route_table_.push_back({s, uint16_t(i)});
        }
        for (int32_t c : in.capture_ifs) {
            for (const auto& [id, idx] : capture_map_)
                if (id == c)
                    throw InputError(where + ".capture_ifs: capture interface " + std::to_string(c) +
                                     " is also mapped to " + ifs_[idx].name);
            capture_map_.emplace_back(c, uint16_t(i));
        }
    }
    for (size_t r = 0; r < routes_.size(); ++r) {
        if (routes_[r].iface >= ifs_.size())
            throw InputError("routes[" + std::to_string(r) + "].dev: unknown interface");
        route_table_.push_back({routes_[r].dst, routes_[r].iface, uint16_t(r)});
    }
    // Longest prefix first; stable so that, at equal length, connected
    // prefixes win over subnets and routes, and file order decides the rest.
    auto by_len = [](const Entry& a, const Entry& b) { return a.p.len > b.p.len; };
    std::stable_sort(src_table_.begin(), src_table_.end(), by_len);
    std::stable_sort(route_table_.begin(), route_table_.end(), by_len);
    std::sort(capture_map_.begin(), capture_map_.end());
    src_flat_ = FlatTable::of(src_table_);
    route_flat_ = FlatTable::of(route_table_);
    local_flat_ = FlatTable::of(local_);
}

Topology::FlatTable Topology::FlatTable::of(std::span<const Entry> table) {
    FlatTable t;
    for (const Entry& e : table) {
        // The mask as bytes in memory order, like the address it is ANDed with.
        IpAddr all;
        all.b.fill(0xff);
        const IpAddr ones = mask_addr(e.p.family, all, e.p.len);
        const IpAddr net = mask_addr(e.p.family, e.p.addr, e.p.len);
        if (e.p.family == Family::ipv4) {
            Flat4 r{0, 0, e.iface, e.route};
            std::memcpy(&r.net, net.b.data(), 4);
            std::memcpy(&r.mask, ones.b.data(), 4);
            t.v4.push_back(r);
        } else if (e.p.family == Family::ipv6) {
            Flat6 r{{0, 0}, {0, 0}, e.iface, e.route};
            std::memcpy(r.net, net.b.data(), 16);
            std::memcpy(r.mask, ones.b.data(), 16);
            t.v6.push_back(r);
        }
    }
    // The words hold the address bytes in memory order: byte 0 of net and
    // mask is the address's first byte.
    for (size_t o = 0; o < 256; ++o) {
        t.v4_start[o] = uint32_t(t.v4_by_octet.size());
        for (const Flat4& r : t.v4) {
            uint8_t net0, mask0;
            std::memcpy(&net0, &r.net, 1);
            std::memcpy(&mask0, &r.mask, 1);
            if ((uint8_t(o) & mask0) == net0) t.v4_by_octet.push_back(r);
        }
    }
    t.v4_start[256] = uint32_t(t.v4_by_octet.size());
    return t;
}

std::vector<std::string> Topology::names() const {
    std::vector<std::string> n;
    n.reserve(ifs_.size());
    for (const auto& i : ifs_) n.push_back(i.name);
    return n;
}

std::string_view Topology::name(uint16_t iface) const {
    return iface < ifs_.size() ? std::string_view(ifs_[iface].name) : std::string_view();
}

uint16_t Topology::find(std::string_view n) const {
    for (size_t i = 0; i < ifs_.size(); ++i)
        if (ifs_[i].name == n) return uint16_t(i);
    return kNoIf;
}

uint16_t Topology::mapped_iface(int32_t capture_if) const {
    auto it = std::lower_bound(capture_map_.begin(), capture_map_.end(), std::pair<int32_t, uint16_t>(capture_if, 0));
    return it != capture_map_.end() && it->first == capture_if ? it->second : kNoIf;
}

std::optional<IpAddr> Topology::source_addr(uint16_t oif, Family f, const IpAddr& dst) const {
    if (oif >= ifs_.size()) return std::nullopt;
    // rt_nexthop(): the gateway of the route used, else the destination.
    IpAddr nh = dst;
    const uint16_t r = route_flat_.route_of(f, dst);  // the longest prefix holding dst, if a static route
    if (r != kNoIf && routes_[r].iface == oif && routes_[r].via) nh = *routes_[r].via;
    // inet_select_addr(): prefer an address whose subnet holds the next hop,
    // else the interface's primary address. (matches() reads only the
    // prefix's first len bits: the host bits of p need no masking.)
    const IpAddr* first = nullptr;
    for (const Prefix& p : ifs_[oif].addrs) {
        if (p.family != f) continue;
        if (!first) first = &p.addr;
        if (matches(p, f, nh)) return p.addr;
    }
    if (first) return *first;
    return std::nullopt;
}

std::optional<IpAddr> Topology::primary_addr(uint16_t iface, Family f) const {
    if (iface >= ifs_.size()) return std::nullopt;
    for (const Prefix& p : ifs_[iface].addrs)
        if (p.family == f) return p.addr;
    return std::nullopt;
}

bool Topology::octet_index_agrees(const IpAddr& a) const {
    uint32_t w;
    std::memcpy(&w, a.b.data(), 4);
    auto linear = [&](const FlatTable& t, bool route) -> uint16_t {
        for (const Flat4& r : t.v4)
            if ((w & r.mask) == r.net) return route ? r.route : r.iface;
        return kNoIf;
    };
    for (const FlatTable* t : {&src_flat_, &route_flat_, &local_flat_}) {
        if (t->lookup(Family::ipv4, a) != linear(*t, false)) return false;
        if (t->route_of(Family::ipv4, a) != linear(*t, true)) return false;
    }
    return true;
}

}  // namespace fwsim
