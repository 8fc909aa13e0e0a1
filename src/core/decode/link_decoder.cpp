// Link layers: Ethernet (+ 802.1Q/802.1ad tags), Linux cooked v1/v2, raw IP,
// BSD NULL/LOOP. Each finds the ethertype (or IP version) and hands over to
// decode_l3().
#include <cstddef>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "decode_util.hpp"
#include "fwsim/decode/decoder.hpp"

namespace fwsim {

using namespace decode_detail;

namespace {

constexpr uint16_t kEthIpv4 = 0x0800, kEthIpv6 = 0x86dd;

bool is_vlan_tpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

// A packet as decode_frame() starts it: every field at its default.
constexpr Packet kFresh{};

// Where the fields after the error text start: everything from there on is
// reset by one copy from kFresh.
constexpr size_t kTail = offsetof(Packet, ethertype);
static_assert(offsetof(Packet, error) + sizeof(Packet::error) <= kTail,
              "reset() relies on the error text lying before ethertype");
static_assert(std::is_trivially_copyable_v<Packet> && std::is_standard_layout_v<Packet>);

// Resets everything decode_frame() owns, keeping the capture record fields.
// The 96-byte error text is not cleared: set_malformed() writes it whenever
// status becomes malformed, and it is read only then (an empty string
// otherwise). Copying the ~300 other bytes from a constant costs a few vector
// moves, where `p = Packet{}` built and copied the whole packet.
void reset(Packet& p, std::span<const uint8_t> frame) {
    p.frame = frame;
    p.status = DecodeStatus::ok;
    p.error[0] = 0;
    std::memcpy(reinterpret_cast<char*>(&p) + kTail, reinterpret_cast<const char*>(&kFresh) + kTail,
                sizeof(Packet) - kTail);
}

// An ethertype after the link header (and any VLAN tags starting at `off`).
// Inlined into decode_frame(): one call less per packet on the way to
// decode_l3().
[[gnu::always_inline]] inline void decode_ethertype(Packet& p, uint16_t type, size_t off, const char* link) {
    // IPv4 and IPv6 are no VLAN TPIDs: for them, the loop would not start.
    if (type == kEthIpv4 || type == kEthIpv6) [[likely]] {
        p.ethertype = type;
        decode_l3(p, off, type == kEthIpv4 ? 4 : 6);
        return;
    }
    const auto f = p.frame;
    while (is_vlan_tpid(type)) {
        if (p.vlan_depth >= kMaxVlanTags) {
            set_malformed(p, "%s: more than %u VLAN tags", link, kMaxVlanTags);
            return;
        }
        if (f.size() < off + 4) {
            set_malformed(p, "%s: VLAN tag truncated", link);
            return;
        }
        type = be16(&f[off + 2]);
        off += 4;
        ++p.vlan_depth;
    }
    p.ethertype = type;
    if (type != kEthIpv4 && type != kEthIpv6) {
        p.status = DecodeStatus::not_ip;
        return;
    }
    decode_l3(p, off, type == kEthIpv4 ? 4 : 6);
}

// BSD address families for IPv4/IPv6 (AF_INET6 is 24, 28 or 30 by OS).
int af_version(uint32_t af) {
    if (af == 2) return 4;
    if (af == 24 || af == 28 || af == 30) return 6;
    return 0;
}

void decode_null(Packet& p, bool network_order) {
    const auto f = p.frame;
    const char* link = network_order ? "loop" : "null";
    if (f.size() < 4) {
        set_malformed(p, "%s: frame %zu bytes < 4", link, f.size());
        return;
    }
    const uint32_t be = be32(&f[0]);
    const uint32_t le = uint32_t(f[3]) << 24 | uint32_t(f[2]) << 16 | uint32_t(f[1]) << 8 | f[0];
    // DLT_NULL is in the byte order of the machine that captured, which the
    // file does not say: take whichever order names a known family (as
    // Wireshark's packet-null.c does). DLT_LOOP is always network order.
    int v = af_version(be);
    if (!network_order && v == 0) v = af_version(le);
    if (v == 0) {
        p.status = DecodeStatus::not_ip;
        return;
    }
    p.ethertype = v == 4 ? kEthIpv4 : kEthIpv6;
    decode_l3(p, 4, v);
}

}  // namespace

bool linktype_supported(int d) {
    switch (d) {
        case dlt::null: case dlt::en10mb: case dlt::raw: case dlt::linktype_raw: case dlt::loop:
        case dlt::linux_sll: case dlt::ipv4: case dlt::ipv6: case dlt::linux_sll2:
            return true;
    }
    return false;
}

void decode_frame(int d, std::span<const uint8_t> frame, Packet& p) {
    reset(p, frame);
    // Ethernet before the switch: nearly every capture is Ethernet, and the
    // switch would test for it after other link types.
    if (d == dlt::en10mb) [[likely]] {
        if (frame.size() < 14) {
            set_malformed(p, "ethernet: frame %zu bytes < 14", frame.size());
            return;
        }
        // Below 0x0600 the field is an 802.3 length (LLC/SNAP): not IP.
        decode_ethertype(p, be16(&frame[12]), 14, "ethernet");
        return;
    }
    switch (d) {
        case dlt::linux_sll:
            // sll_header: pkttype(2) hatype(2) halen(2) addr(8) protocol(2)
            if (frame.size() < 16) {
                set_malformed(p, "sll: frame %zu bytes < 16", frame.size());
                return;
            }
            decode_ethertype(p, be16(&frame[14]), 16, "sll");
            return;
        case dlt::linux_sll2:
            // sll2_header: protocol(2) reserved(2) ifindex(4) hatype(2)
            // pkttype(1) halen(1) addr(8)
            if (frame.size() < 20) {
                set_malformed(p, "sll2: frame %zu bytes < 20", frame.size());
                return;
            }
            if (p.capture_if < 0) p.capture_if = int32_t(be32(&frame[4]));
            decode_ethertype(p, be16(&frame[0]), 20, "sll2");
            return;
        case dlt::raw:
        case dlt::linktype_raw:
        case dlt::ipv4:
        case dlt::ipv6: {
            if (frame.empty()) {
                set_malformed(p, "raw: empty frame");
                return;
            }
            const int v = d == dlt::ipv4 ? 4 : d == dlt::ipv6 ? 6 : frame[0] >> 4;
            if (v != 4 && v != 6) {
                set_malformed(p, "raw: IP version %d", frame[0] >> 4);
                return;
            }
            p.ethertype = v == 4 ? kEthIpv4 : kEthIpv6;
            decode_l3(p, 0, v);
            return;
        }
        case dlt::null:
            decode_null(p, false);
            return;
        case dlt::loop:
            decode_null(p, true);
            return;
    }
    p.status = DecodeStatus::unsupported_linktype;
}

void decode_ip(std::span<const uint8_t> ip, Packet& p) {
    reset(p, ip);
    if (ip.empty()) {
        set_malformed(p, "ip: empty datagram");
        return;
    }
    const int v = ip[0] >> 4;
    if (v != 4 && v != 6) {
        set_malformed(p, "ip: version %d", v);
        return;
    }
    p.ethertype = v == 4 ? kEthIpv4 : kEthIpv6;
    decode_l3(p, 0, v);
}

MalformedLayer malformed_layer(const Packet& p) {
    if (p.status != DecodeStatus::malformed) return MalformedLayer::none;
    const std::string_view e(p.error);
    if (e.starts_with("ipv4:") || e.starts_with("ipv6:") || e.starts_with("ip:"))
        return MalformedLayer::ip;
    if (e.starts_with("tcp:") || e.starts_with("udp:") || e.starts_with("udplite:") ||
        e.starts_with("sctp:") || e.starts_with("icmp:") || e.starts_with("icmpv6:"))
        return MalformedLayer::l4;
    return MalformedLayer::link;
}

}  // namespace fwsim
