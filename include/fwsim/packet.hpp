// The decoded packet: a compact value the decoder fills from a frame's bytes
// and every later stage reads. It never owns the bytes (see `frame`).
#pragma once

#include <cstdint>
#include <span>

#include "fwsim/net.hpp"
#include "fwsim/time.hpp"

namespace fwsim {

enum class DecodeStatus : uint8_t {
    ok,                    // an IP packet, decoded
    not_ip,                // ARP, LLDP, ...: verdict "ignored", reason "not_ip"
    unsupported_linktype,  // verdict "ignored"
    malformed,             // verdict "drop", reason "malformed", see Packet::error
};

// TCP flag bits as in the TCP header's 13th byte (plus ECE/CWR).
namespace tcpflag {
inline constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10,
                         urg = 0x20, ece = 0x40, cwr = 0x80;
}

struct TcpInfo {
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint16_t window = 0;   // raw, unscaled
    uint8_t flags = 0;     // tcpflag bits
    uint8_t doff = 0;      // header length in bytes
    uint16_t mss = 0;      // 0 when absent
    int8_t wscale = -1;    // -1 when absent (clamped to 14 as the kernel does)
    bool sack_perm = false;
    bool has_sack = false; // SACK blocks present
    bool has_ts = false;
    uint32_t sack_max_right = 0;  // highest right edge among SACK blocks
    uint32_t tsval = 0, tsecr = 0;
};

// The header an ICMP/ICMPv6 error quotes, decoded (as far as it was quoted).
struct InnerHeader {
    bool present = false;   // an error message with a decodable quoted IP header
    bool has_ports = false; // at least 8 bytes of the quoted L4 header
    Family family = Family::none;
    uint8_t l4proto = 0;
    IpAddr src, dst;
    uint16_t sport = 0, dport = 0;          // TCP/UDP/UDP-Lite/SCTP
    uint8_t icmp_type = 0, icmp_code = 0;   // quoted ICMP
    uint16_t icmp_id = 0;
};

struct Packet {
    // --- the capture record
    uint64_t index = 0;       // 1-based record number = Wireshark frame number
    Nanos ts = 0;
    uint32_t wire_len = 0;    // original length on the wire
    uint32_t cap_len = 0;     // bytes captured
    int32_t capture_if = -1;  // pcapng interface id or cooked-v2 ifindex, -1 if none
    std::span<const uint8_t> frame;  // the bytes as captured; valid while the packet is processed

    // --- outcome of decoding
    DecodeStatus status = DecodeStatus::ok;
    char error[96] = {};      // for malformed: "tcp: data offset 3 < 5"

    // --- link layer
    uint16_t ethertype = 0;   // after VLAN tags (0x0800, 0x86dd, ...)
    uint8_t vlan_depth = 0;
    uint16_t l3_offset = 0;   // into frame

    // --- network layer
    Family family = Family::none;
    uint8_t l4proto = 0;      // after IPv6 extension headers
    uint8_t ttl = 0;          // hop limit for IPv6
    uint8_t tos = 0;          // traffic class for IPv6
    IpAddr src, dst;
    uint32_t ip_len = 0;      // IPv4 total length / IPv6 40 + payload length (conntrack counts these bytes)
    uint16_t ip_hdr_len = 0;  // IPv4 header / IPv6 header plus extension headers
    uint16_t ip_id = 0;       // IPv4 identification

    // --- fragments (IPv4 flags/offset, IPv6 fragment header)
    bool is_fragment = false; // offset != 0 or more-fragments set
    bool more_frags = false;
    bool dont_frag = false;
    uint16_t frag_offset = 0; // in bytes
    uint32_t frag_id = 0;     // IPv4 id or IPv6 identification

    // --- transport layer (valid when status == ok and not a non-first fragment)
    bool has_l4 = false;      // the transport header was decoded
    uint16_t l4_offset = 0;   // into frame (or into the reassembled datagram)
    uint32_t l4_len = 0;      // transport header + payload, per the IP length
    uint32_t payload_len = 0; // transport payload bytes
    uint16_t sport = 0, dport = 0;  // TCP/UDP/UDP-Lite/SCTP ports
    TcpInfo tcp;
    uint8_t icmp_type = 0, icmp_code = 0;  // ICMP or ICMPv6
    uint16_t icmp_id = 0, icmp_seq = 0;    // echo request/reply
    InnerHeader inner;        // for ICMP errors

    // --- what the engine works out from the packet alone, before its turn
    // (Engine::prepare(), on the reader thread with --threads 2); the engine
    // computes it itself when `done` is false (e.g. a reassembled datagram).
    struct Prepared {
        bool done = false;
        bool l4_checksum_ok = true;  // the L4 checksum verdict (checked only when ct.checksum is on)
        bool local_src = false;      // the source is one of the firewall's own addresses
        bool local_dst = false;      // the destination is local, multicast or broadcast (input hook)
        uint16_t iif = 0xffff;       // ingress interface (topology)
        uint16_t oif = 0xffff;       // route to the destination as captured (before any DNAT)
        uint64_t ct_key = 0;         // hash(tuple_of(packet)): the look-ahead and conntrack's lookup
                                     // use it (nothing changes a tuple before conntrack)
    } prep;

    bool ok() const { return status == DecodeStatus::ok; }
    bool is_icmp() const { return l4proto == proto::icmp || l4proto == proto::icmpv6; }
};

}  // namespace fwsim
