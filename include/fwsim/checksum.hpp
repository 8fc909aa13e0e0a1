// The Internet checksum (RFC 1071) and its incremental update (RFC 1624),
// used to verify checksums (nf_conntrack_checksum) and to fix them after NAT.
#pragma once

#include <cstdint>
#include <span>

#include "fwsim/net.hpp"

namespace fwsim {

// One's-complement sum of the bytes, folded to 16 bits, not inverted.
uint32_t csum_partial(std::span<const uint8_t> data, uint32_t sum = 0);
uint16_t csum_fold(uint32_t sum);  // folds and inverts
// The pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 or IPv6.
uint32_t csum_pseudo(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t len);
// RFC 1624 eqn. 3: the new checksum after a 16-bit word changes from old to new.
uint16_t csum_replace2(uint16_t check, uint16_t old_word, uint16_t new_word);
// The same for a 4-byte and a 16-byte field (addresses).
uint16_t csum_replace_addr(uint16_t check, Family f, const IpAddr& old_a, const IpAddr& new_a);

}  // namespace fwsim
