// Frame decoding: link layer -> IPv4/IPv6 (+ extension headers) -> TCP, UDP,
// UDP-Lite, SCTP, ICMP, ICMPv6 (incl. the header an ICMP error quotes).
// Pure functions over the captured bytes: no I/O, no allocation, never reads
// past the span it is given. A broken packet is a value (status malformed and
// a specific `error` text), never an exception.
#pragma once

#include <cstdint>
#include <span>

#include "fwsim/packet.hpp"

namespace fwsim {

// Link types by DLT / LINKTYPE number.
namespace dlt {
inline constexpr int null = 0;         // BSD loopback, AF in the capturing host's byte order
inline constexpr int en10mb = 1;       // Ethernet
inline constexpr int raw = 12;         // raw IP (DLT_RAW on most systems)
inline constexpr int linktype_raw = 101;
inline constexpr int loop = 108;       // OpenBSD loopback, AF in network byte order
inline constexpr int linux_sll = 113;  // Linux cooked v1
inline constexpr int ipv4 = 228;
inline constexpr int ipv6 = 229;
inline constexpr int linux_sll2 = 276; // Linux cooked v2
}  // namespace dlt

bool linktype_supported(int dlt);

// Decodes one frame into p. Sets p.frame, p.status, p.error and every decoded
// field of Packet; leaves p.index, p.ts, p.wire_len, p.cap_len alone (the
// caller sets them, before the call: wire_len is used by the snaplen rule
// below). For DLT_LINUX_SLL2 it sets p.capture_if from the header's
// interface index when p.capture_if < 0.
//
// Snaplen rule: when the capture cut the frame (wire_len > captured bytes),
// lengths in IP headers are checked against the bytes on the wire, not the
// captured ones, and the packet is decoded from the headers that were
// captured; it is malformed only if a header we need (IP header, IPv6
// extension headers, the fixed part of the L4 header, TCP options) was cut.
// Accounting (ip_len, l4_len, payload_len) always follows the IP lengths.
void decode_frame(int dlt, std::span<const uint8_t> frame, Packet& p);

// Decodes bytes that start at an IP header (used for reassembled datagrams).
// Same contract as decode_frame; ethertype is set from the IP version.
void decode_ip(std::span<const uint8_t> ip, Packet& p);

// Which layer a malformed packet broke at. The kernel drops packets with a
// bad link/IP header before netfilter sees them (ip_rcv_core(), ipv6_rcv()),
// while a bad transport header only makes conntrack call the packet invalid
// (tcp_error(), udp_error(), icmp_error() return -NF_ACCEPT).
enum class MalformedLayer : uint8_t { none, link, ip, l4 };
MalformedLayer malformed_layer(const Packet& p);

// The transport checksum of p, as conntrack verifies it when ct.checksum=1
// (nf_checksum() called from tcp_error()/udp_error()/icmp_error()...).
// True when it is right, when there is none (UDP checksum 0, as udp_error()),
// or when it cannot be checked (fragment, bytes cut by the snaplen, protocols
// conntrack does not verify in fwsim: SCTP, generic).
bool l4_checksum_ok(const Packet& p);

}  // namespace fwsim
