#include "fwsim/checksum.hpp"

#include <bit>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FWSIM_CSUM_AVX2 1
#else
#define FWSIM_CSUM_AVX2 0
#endif

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

// load_tail(p, n) for 0 < n < 8 when the 8 - n bytes before p are part of
// the buffer too: one load of the 8 bytes that end at p + n, the bytes
// already summed shifted out (a shift, not the three branches of load_tail()).
inline uint64_t load_tail_overlapping(const uint8_t* p, size_t n) {
    const uint64_t w = load64(p + n - 8);
    if constexpr (std::endian::native == std::endian::little) return w >> (64 - 8 * n);
    return w << (64 - 8 * n);
}

// A 64-bit one's-complement sum folded to 16 bits with the end-around carry:
// 0 only for 0, otherwise the one representative in 1..0xffff (a positive
// sum never becomes 0). Still in machine byte order.
inline uint32_t fold16(uint64_t s) {
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return uint32_t(s);
}

// fold16() as a sum of big-endian words: byte-swapped on a little-endian
// machine (RFC 1071 2.(B): the sum is byte-order independent up to that swap).
inline uint32_t fold_to_be16(uint64_t s) {
    uint32_t f = fold16(s);
    if constexpr (std::endian::native == std::endian::little) f = uint16_t(f >> 8 | f << 8);
    return f;
}

// A sum of big-endian 16-bit words (at most 2^32) as a term of a machine-order
// sum: on a little-endian machine, times 256, which is swapping the bytes of a
// 16-bit one's-complement number (2^16 = 1 modulo 2^16-1).
inline uint64_t be_words_to_machine(uint64_t be_sum) {
    if constexpr (std::endian::native == std::endian::little) return be_sum << 8;
    return be_sum;
}

// The RFC 1071 sum, 8 bytes per step as the kernel's do_csum() (lib/checksum.c)
// and csum_partial() (arch/x86/lib/csum-partial_64.c) do: 64-bit words in the
// machine's byte order with the end-around carry, unfolded. Any CPU.
uint64_t sum_portable(const uint8_t* p, size_t n) {
    // Below 8 bytes there is nothing before the tail to overlap with.
    if (n < 8) return load_tail(p, n);
    // Two independent chains: the carries of one do not wait for the other.
    uint64_t a = 0, b = 0;
    for (; n >= 32; p += 32, n -= 32) {
        a = add_oc(a, load64(p));
        b = add_oc(b, load64(p + 8));
        a = add_oc(a, load64(p + 16));
        b = add_oc(b, load64(p + 24));
    }
    for (; n >= 8; p += 8, n -= 8) a = add_oc(a, load64(p));
    if (n > 0) b = add_oc(b, load_tail_overlapping(p, n));
    return add_oc(a, b);
}

#if FWSIM_CSUM_AVX2
// 16 bytes as four 32-bit machine-order words in 64-bit lanes (vpmovzxdq
// with the load folded in).
__attribute__((target("avx2"))) inline __m256i widen16(const uint8_t* p) {
    return _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// The same sum with AVX2, 64 bytes per step in two instructions per 16 bytes
// (the portable loop takes two per 8): each 32-bit word is added, zero-
// extended, to a 64-bit lane, so no carry is lost until a lane has taken
// 2^32 words (2^38 bytes and more). A sum of 32-bit words is the same
// one's-complement sum as that of 64-bit words, modulo 2^16-1, and it is 0
// only for zero bytes, as the portable one: fold16() gives both the same result.
// (widen16() comes first in each add, and the four accumulators are merged
// before the 32- and 16-byte steps: otherwise GCC 12 copied every
// accumulator once more per 64 bytes.)
__attribute__((target("avx2"))) uint64_t sum_avx2(const uint8_t* p, size_t n) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (; n >= 64; p += 64, n -= 64) {
        a = _mm256_add_epi64(widen16(p), a);
        b = _mm256_add_epi64(widen16(p + 16), b);
        c = _mm256_add_epi64(widen16(p + 32), c);
        d = _mm256_add_epi64(widen16(p + 48), d);
    }
    a = _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d));
    if (n >= 32) {
        a = _mm256_add_epi64(widen16(p), a);
        a = _mm256_add_epi64(widen16(p + 16), a);
        p += 32;
        n -= 32;
    }
    if (n >= 16) {
        a = _mm256_add_epi64(widen16(p), a);
        p += 16;
        n -= 16;
    }
    const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    uint64_t s = uint64_t(_mm_cvtsi128_si64(s2)) + uint64_t(_mm_extract_epi64(s2, 1));
    if (n >= 8) {
        s = add_oc(s, load64(p));
        p += 8;
        n -= 8;
    }
    if (n > 0) s = add_oc(s, load_tail_overlapping(p, n));  // n >= 64 on entry
    return s;
}

// Chosen once at start-up, for the CPU the program runs on (the binary runs
// on any x86-64). Until this initialiser has run the value is false, so a
// call from another static initialiser would take the portable sum: the same
// result. __builtin_cpu_init() because this may run before libgcc's own
// constructor has filled in the CPU model.
const bool kHaveAvx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}();

// Below this many bytes the vector set-up and reduction cost more than they
// save (callgrind, instructions per sum: about even from 64 to 96 bytes,
// 66 vs 88 at 200, 275 vs 502 at 1400); TCP ACKs (20-32 bytes) stay portable.
constexpr size_t kWideMin = 64;
#endif

#if FWSIM_CSUM_AVX2
// csum_l4_ok()'s test with the AVX2 sum, in one function so that csum_l4_ok()
// ends with a jump here and needs no stack frame of its own.
__attribute__((target("avx2"))) bool verifies_avx2(const uint8_t* p, size_t n, uint64_t pseudo) {
    return csum_sum_verifies(add_oc(pseudo, sum_avx2(p, n)));
}
#endif

inline uint64_t sum_bytes(const uint8_t* p, size_t n) {
#if FWSIM_CSUM_AVX2
    if (n >= kWideMin && kHaveAvx2) return sum_avx2(p, n);
#endif
    return sum_portable(p, n);
}

// Folds a machine-order sum into csum_partial()'s result: the 16-bit sum of
// big-endian words plus `sum`, with the carry out of 32 bits wrapped around.
inline uint32_t finish(uint64_t machine_sum, uint32_t sum) {
    const uint64_t s = uint64_t(fold_to_be16(machine_sum)) + sum;
    return uint32_t((s & 0xffffffff) + (s >> 32));
}

// The pseudo-header (addresses, protocol, length) as a machine-order sum.
inline uint64_t pseudo_machine(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t len) {
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
    return add_oc(a, be_words_to_machine(uint64_t(proto) + (len >> 16) + (len & 0xffff)));
}

}  // namespace

namespace csum_detail {

uint32_t partial_portable(std::span<const uint8_t> d, uint32_t sum) {
    return finish(sum_portable(d.data(), d.size()), sum);
}

uint32_t partial_wide(std::span<const uint8_t> d, uint32_t sum) {
#if FWSIM_CSUM_AVX2
    if (kHaveAvx2) return finish(sum_avx2(d.data(), d.size()), sum);
#endif
    return partial_portable(d, sum);
}

bool wide_available() {
#if FWSIM_CSUM_AVX2
    return kHaveAvx2;
#else
    return false;
#endif
}

}  // namespace csum_detail

// csum_fold() of the result equals that of the byte-at-a-time sum; the value
// itself does not depend on which of the two sums ran (see fold16()).
uint32_t csum_partial(std::span<const uint8_t> d, uint32_t sum) {
    return finish(sum_bytes(d.data(), d.size()), sum);
}

uint16_t csum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

uint32_t csum_pseudo(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t len) {
    return fold_to_be16(pseudo_machine(f, src, dst, proto, len));
}

// One pass and no fold: the pseudo-header and the segment in one machine-
// order sum, tested by csum_sum_verifies(). Both this and the two-step form
// are +0, and fail, only when every byte and the protocol and length are 0;
// otherwise both test the sum modulo 2^16-1.
bool csum_l4_ok(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t len,
                std::span<const uint8_t> seg) {
    const uint64_t pseudo = pseudo_machine(f, src, dst, proto, len);
#if FWSIM_CSUM_AVX2
    if (seg.size() >= kWideMin && kHaveAvx2) return verifies_avx2(seg.data(), seg.size(), pseudo);
#endif
    return csum_sum_verifies(add_oc(pseudo, sum_portable(seg.data(), seg.size())));
}

bool csum_l4_ok(Family f, const IpAddr& src, const IpAddr& dst, uint8_t proto, std::span<const uint8_t> seg) {
    return csum_l4_ok(f, src, dst, proto, uint32_t(seg.size()), seg);
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
