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

// The last n < 8 bytes as load64() would read them zero-padded: byte i keeps
// its place in the word, so odd lengths pad as RFC 1071 says.
inline uint64_t load_tail(const uint8_t* p, size_t n) {
    uint64_t t = 0;
    if constexpr (std::endian::native == std::endian::little) {
        // Chunks of 4, 2, 1 bytes: byte i goes to bits 8i.
        unsigned shift = 0;
        if (n & 4) {
            uint32_t v;
            std::memcpy(&v, p, 4);
            t = v;
            p += 4;
            shift = 32;
        }
        if (n & 2) {
            uint16_t v;
            std::memcpy(&v, p, 2);
            t |= uint64_t(v) << shift;
            p += 2;
            shift += 16;
        }
        if (n & 1) t |= uint64_t(*p) << shift;
    } else {
        std::memcpy(&t, p, n);
    }
    return t;
}

// A 64-bit one's-complement sum of machine-order words, as a 16-bit sum of
// big-endian words: folded with the end-around carry (a positive sum never
// becomes 0), then byte-swapped on a little-endian machine (RFC 1071 2.(B):
// the sum is byte-order independent up to that swap).
inline uint32_t fold_to_be16(uint64_t s) {
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    if constexpr (std::endian::native == std::endian::little) s = uint16_t(s >> 8 | s << 8);
    return uint32_t(s);
}

}  // namespace

// The RFC 1071 sum, 8 bytes per step as the kernel's do_csum() (lib/checksum.c)
// and csum_partial() (arch/x86/lib/csum-partial_64.c) do: 64-bit words in the
// machine's byte order with the end-around carry, folded to 16 bits once at
// the end. csum_fold() of the result equals that of the byte-at-a-time sum.
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
    if (n > 0) b = add_oc(b, load_tail(p, n));
    const uint64_t s = uint64_t(fold_to_be16(add_oc(a, b))) + sum;
    return uint32_t((s & 0xffffffff) + (s >> 32));
}

uint16_t csum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

uint32_t csum_pseudo(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t len) {
    // The addresses' words summed in machine order, as csum_partial() does;
    // IPv4 uses b[0..3] only.
    uint64_t a;
    if (f == Family::ipv4) {
        uint32_t s4, d4;
        std::memcpy(&s4, src.b.data(), 4);
        std::memcpy(&d4, dst.b.data(), 4);
        a = uint64_t(s4) + d4;
    } else {
        a = add_oc(add_oc(load64(src.b.data()), load64(src.b.data() + 8)),
                   add_oc(load64(dst.b.data()), load64(dst.b.data() + 8)));
    }
    // At most 0xffff + 0xff + 0xffff + 0xffff: no carry out of 32 bits.
    return fold_to_be16(a) + proto + (len >> 16) + (len & 0xffff);
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
