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
// Whether a TCP/UDP/ICMPv6 segment's checksum verifies:
// csum_fold(csum_partial(seg, csum_pseudo(f, src, dst, proto, len))) == 0, in one pass, not folded.
bool csum_l4_ok(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t len,
                std::span<const uint8_t> seg);
// The same with len = seg.size() (all but UDP-Lite's partial coverage): six
// arguments, all in registers, so a caller can end with a jump to it.
bool csum_l4_ok(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, std::span<const uint8_t> seg);
// Whether a one's-complement sum of machine-order words (any width up to 64
// bits, carries wrapped around or not yet added back) folds to 0xffff, as the
// sum over data that include their own checksum does when it verifies: it is
// then a non-zero multiple of 2^16-1 (which divides 2^32-1 and 2^64-1, and
// 0xffff reads the same in both byte orders). A multiply and a compare where
// folding takes five shifts and adds.
inline bool csum_sum_verifies(uint64_t s) { return s != 0 && s % 0xffff == 0; }
// RFC 1624 eqn. 3: the new checksum after a 16-bit word changes from old to new.
uint16_t csum_replace2(uint16_t check, uint16_t old_word, uint16_t new_word);
// The same for a 4-byte and a 16-byte field (addresses).
uint16_t csum_replace_addr(uint16_t check, Family f, const IpAddr& old_a, const IpAddr& new_a);

// The two sums behind csum_partial(), for tests and benchmarks: the portable
// one (any CPU) and the AVX2 one, which csum_partial() takes from 64 bytes on
// when the CPU has AVX2 (partial_wide() is the portable sum on other CPUs).
namespace csum_detail {
uint32_t partial_portable(std::span<const uint8_t> data, uint32_t sum = 0);
uint32_t partial_wide(std::span<const uint8_t> data, uint32_t sum = 0);
bool wide_available();
}  // namespace csum_detail

}  // namespace fwsim
