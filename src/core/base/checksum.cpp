#include "fwsim/checksum.hpp"

#include <bit>
#include <cstring>

namespace fwsim {

namespace {

// Adds with the end-around carry of one's-complement arithmetic: a 64-bit
// one's-complement sum, foldable to 16 bits because 2^16-1 divides 2^64-1.
inline uint64_t add_oc(uint64_t a, uint64_t b) {
    uint64_t s;
    const bool carry = __builtin_add_overflow(a, b, &s);
    return s + carry;  // never wraps: a carry means s <= 2^64-2
}

inline uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

}  // namespace

// The RFC 1071 sum, 8 bytes per step as the kernel's do_csum() (lib/checksum.c)
// and csum_partial() (arch/x86/lib/csum-partial_64.c) do: 64-bit words in the
// machine's byte order with the end-around carry, folded to 16 bits at the end
// and byte-swapped back on a little-endian machine (RFC 1071 2.(B): the sum is
// byte-order independent up to that swap). Positive sums never fold to 0, so
// csum_fold() of the result equals that of the byte-at-a-time sum exactly.
uint32_t csum_partial(std::span<const uint8_t> d, uint32_t sum) {
    const uint8_t* p = d.data();
    size_t n = d.size();
    // Two independent chains: the carries of one do not wait for the other.
    uint64_t a = 0, b = 0;
    for (; n >= 32; p += 32, n -= 32) {
        a = add_oc(a, load64(p));
        b = add_oc(b, load64(p + 8));
        a = add_oc(a, load64(p + 16));
        b = add_oc(b, load64(p + 24));
    }
    for (; n >= 8; p += 8, n -= 8) a = add_oc(a, load64(p));
    if (n > 0) {  // the tail, zero-padded: byte i of it keeps its word position
        uint64_t t = 0;
        std::memcpy(&t, p, n);
        b = add_oc(b, t);
    }
    uint64_t s = add_oc(a, b);
    s = (s & 0xffffffff) + (s >> 32);  // fold to 16 bits, end-around
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    if constexpr (std::endian::native == std::endian::little) s = uint16_t(s >> 8 | s << 8);
    s += sum;
    return uint32_t((s & 0xffffffff) + (s >> 32));
}

uint16_t csum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

uint32_t csum_pseudo(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t len) {
    const size_t n = f == Family::ipv4 ? 4 : 16;
    uint32_t s = csum_partial({src.b.data(), n});
    s = csum_partial({dst.b.data(), n}, s);
    uint64_t t = uint64_t(s) + proto + (len >> 16) + (len & 0xffff);
    while (t >> 32) t = (t & 0xffffffff) + (t >> 32);
    return uint32_t(t);
}

uint16_t csum_replace2(uint16_t check, uint16_t old_word, uint16_t new_word) {
    // HC' = ~(~HC + ~m + m')
    uint32_t s = uint16_t(~check);
    s += uint16_t(~old_word);
    s += new_word;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(~s);
}

uint16_t csum_replace_addr(uint16_t check, Family f, const IpAddr& o, const IpAddr& n) {
    const size_t len = f == Family::ipv4 ? 4 : 16;
    for (size_t i = 0; i < len; i += 2)
        check = csum_replace2(check, uint16_t(o.b[i] << 8 | o.b[i + 1]), uint16_t(n.b[i] << 8 | n.b[i + 1]));
    return check;
}

}  // namespace fwsim
