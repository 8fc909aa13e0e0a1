// The firewall's interfaces, their addresses, the subnets behind them and the
// routes: what decides a packet's input interface, whether it is for the
// firewall (input hook) and its output interface. Built once at load time;
// every lookup is allocation-free (sorted prefix tables, longest prefix first).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fwsim/net.hpp"
#include "fwsim/packet.hpp"

namespace fwsim {

inline constexpr uint16_t kNoIf = 0xffff;  // same value as rules::kNoIf

struct Interface {
    std::string name;                // 1-15 chars of [A-Za-z0-9_-] (IFNAMSIZ - 1)
    std::vector<Prefix> addrs;       // the firewall's addresses, host bits kept ("192.168.1.1/24")
    std::vector<Prefix> subnets;     // networks behind this interface (masked)
    bool is_default = false;         // carries the default routes; unknown sources come in here
    std::vector<int32_t> capture_ifs;  // pcapng interface ids / cooked-v2 ifindexes meaning "came in here"
};

struct Route {
    Prefix dst;       // masked
    uint16_t iface;   // index into interfaces()
    std::optional<IpAddr> via;  // gateway (informational: no neighbour resolution in fwsim)
};

class Topology {
public:
    // The SPEC's built-in default: lan0 192.168.1.1/24 + fd00::1/64 with
    // RFC 1918, ULA fc00::/7 and link-local fe80::/10 behind it; wan0
    // 203.0.113.1/24 + 2001:db8:ffff::1/64, default route.
    static Topology home_router();

    Topology() = default;  // no interfaces: every lookup answers kNoIf
    // Validates (names, duplicates, overlapping addresses, two defaults,
    // route interfaces, capture ids used twice); throws InputError with a
    // message naming the field ("interfaces.lan0.addrs[1]: ...").
    Topology(std::vector<Interface> ifs, std::vector<Route> routes);

    const std::vector<Interface>& interfaces() const { return ifs_; }
    const std::vector<Route>& routes() const { return routes_; }
    // Index order = the interface numbers used everywhere (iif/oif).
    std::vector<std::string> names() const;
    std::string_view name(uint16_t iface) const;  // "" for kNoIf / out of range
    uint16_t find(std::string_view name) const;   // kNoIf if unknown
    uint16_t default_iface() const { return default_; }

    // Ingress: capture_if mapping if present; else the interface whose subnets
    // or connected prefixes (of its addrs) hold the source, longest prefix
    // first; else the default interface; else kNoIf.
    uint16_t ingress(const Packet& p) const { return ingress_of(p.family, p.src, p.capture_if); }
    uint16_t ingress_of(Family f, const IpAddr& src, int32_t capture_if = -1) const {
        if (capture_if >= 0 && !capture_map_.empty()) {
            const uint16_t i = mapped_iface(capture_if);
            if (i != kNoIf) return i;
        }
        const uint16_t i = src_flat_.lookup(f, src);
        return i != kNoIf ? i : default_;
    }

    // One of the firewall's own addresses (on any interface).
    bool is_local(Family f, const IpAddr& a) const { return local_iface(f, a) != kNoIf; }
    // The interface that holds local address a, kNoIf if not local.
    uint16_t local_iface(Family f, const IpAddr& a) const { return local_flat_.lookup(f, a); }

    // Route lookup on a (post-DNAT) destination: longest prefix over
    // connected prefixes, subnets and routes; then the default interface;
    // kNoIf if none.
    uint16_t route(Family f, const IpAddr& dst) const {
        const uint16_t i = route_flat_.lookup(f, dst);
        return i != kNoIf ? i : default_;
    }

    // Masquerade's source address, as nf_nat_masquerade_ipv4() picks it with
    // inet_select_addr(out, rt_nexthop(rt, daddr)) (net/ipv4/devinet.c): an
    // address of that family on oif whose prefix holds the next hop (a
    // route's `via` if the route to dst through oif has one, else dst) if
    // any, else the first (primary) one; nullopt when oif has none. IPv6
    // uses the same rule (the kernel's ipv6_dev_get_saddr() is richer).
    std::optional<IpAddr> source_addr(uint16_t oif, Family f, const IpAddr& dst) const;
    // The first address of the family on iface (redirect's target, as
    // nf_nat_redirect_ipv4() takes the first address of the in-device; for
    // IPv6 the kernel also skips addresses of another scope than dst's, which
    // this does not).
    std::optional<IpAddr> primary_addr(uint16_t iface, Family f) const;

    // For tests: whether the IPv4 lookups through the first-byte buckets
    // (is_local, ingress_of, route and the static-route pick) give, for `a`,
    // what a walk over every row in order gives.
    bool octet_index_agrees(const IpAddr& a) const;

private:
    struct Entry {  // one row of a lookup table, sorted by len descending
        Prefix p;
        uint16_t iface;
        uint16_t route = kNoIf;  // index into routes_ for static routes
    };
    // The per-packet lookups (ingress, is_local, route) run on these, inline
    // (the engine calls four per packet): the same rows as a table of Entry,
    // in the same order, split by family and flattened to masked words, so
    // that a match is one AND and compare per word instead of a byte loop (a
    // home router has a handful of rows; the whole table is a cache line or
    // two). Words hold the address bytes in memory order (memcpy), so no
    // byte swapping is needed.
    struct Flat4 {
        uint32_t net, mask;
        uint16_t iface;
        uint16_t route;  // as Entry::route
    };
    struct Flat6 {
        uint64_t net[2], mask[2];
        uint16_t iface;
        uint16_t route;
    };
    struct FlatTable {
        std::vector<Flat4> v4;
        std::vector<Flat6> v6;
        // The IPv4 rows again, by the first byte of the address: bucket o
        // (v4_by_octet[v4_start[o] .. v4_start[o + 1]]) holds, in table order,
        // the rows that can hold an address starting with o. An address from
        // the internet meets no row of a home router's subnets at all, one
        // from the LAN one or two: the lookup tests those instead of every row.
        std::vector<Flat4> v4_by_octet;
        std::array<uint32_t, 257> v4_start{};
        static FlatTable of(std::span<const Entry> table);
        // The interface of the first row that holds a, else kNoIf.
        [[gnu::always_inline]] uint16_t lookup(Family f, const IpAddr& a) const {
            return first(f, a, [](const auto& r) { return r.iface; });
        }
        // The static route of the first row that holds a; kNoIf if that row
        // is a connected prefix or subnet, or no row holds a.
        [[gnu::always_inline]] uint16_t route_of(Family f, const IpAddr& a) const {
            return first(f, a, [](const auto& r) { return r.route; });
        }
        // These three are always inlined: GCC otherwise keeps one
        // out-of-line copy once a translation unit has many callers
        // (engine.cpp: ~60 instructions a packet).
        template <class Pick>
        [[gnu::always_inline]] uint16_t first(Family f, const IpAddr& a, Pick pick) const {
            if (f == Family::ipv4) {
                uint32_t w;
                std::memcpy(&w, a.b.data(), 4);
                const Flat4* r = v4_by_octet.data() + v4_start[a.b[0]];
                const Flat4* const end = v4_by_octet.data() + v4_start[size_t(a.b[0]) + 1];
                for (; r != end; ++r)
                    if ((w & r->mask) == r->net) return pick(*r);
            } else if (f == Family::ipv6) {
                uint64_t w[2];
                std::memcpy(w, a.b.data(), 16);
                for (const Flat6& r : v6)
                    if ((w[0] & r.mask[0]) == r.net[0] && (w[1] & r.mask[1]) == r.net[1]) return pick(r);
            }
            return kNoIf;
        }
    };
    uint16_t mapped_iface(int32_t capture_if) const;  // capture_map_'s interface, kNoIf if unmapped

    std::vector<Interface> ifs_;
    std::vector<Route> routes_;
    uint16_t default_ = kNoIf;
    std::vector<Entry> src_table_;    // subnets + connected prefixes: ingress
    std::vector<Entry> route_table_;  // connected + subnets + routes: egress
    std::vector<Entry> local_;        // host addresses (full length)
    std::vector<std::pair<int32_t, uint16_t>> capture_map_;  // sorted by capture id
    FlatTable src_flat_, route_flat_, local_flat_;             // src_table_, route_table_, local_ flattened
};

}  // namespace fwsim
