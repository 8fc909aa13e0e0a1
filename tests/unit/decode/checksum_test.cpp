// csum_partial() against a byte-at-a-time RFC 1071 reference: the fast sum
// takes 8 bytes per step and folds at the end, so lengths, alignments and
// carries are where it could go wrong.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "fwsim/checksum.hpp"

using fwsim::csum_fold;
using fwsim::csum_partial;

namespace {

// The plain RFC 1071 loop: 16-bit big-endian words, the odd byte padded.
uint32_t reference_sum(const uint8_t* d, size_t n, uint32_t sum) {
    uint64_t s = sum;
    size_t i = 0;
    for (; i + 1 < n; i += 2) s += uint32_t(d[i]) << 8 | d[i + 1];
    if (i < n) s += uint32_t(d[i]) << 8;
    while (s >> 32) s = (s & 0xffffffff) + (s >> 32);
    return uint32_t(s);
}

// One's-complement equality of two unfolded sums: the same 16-bit fold.
uint16_t fold16(uint32_t s) { return uint16_t(~csum_fold(s)); }

}  // namespace

BOOST_AUTO_TEST_SUITE(checksum)

BOOST_AUTO_TEST_CASE(csum_partial_matches_reference_for_every_length_and_alignment) {
    std::mt19937 rng(7);
    std::vector<uint8_t> buf(1600 + 8);
    for (auto& b : buf) b = uint8_t(rng());
    const uint32_t seeds[] = {0, 1, 0xffff, 0x1234abcd, 0xffffffff};
    size_t checked = 0;
    for (size_t len = 0; len <= 1600; ++len) {
        for (size_t align = 0; align < 8; ++align) {
            const uint32_t seed = seeds[(len + align) % 5];
            const uint32_t want = reference_sum(buf.data() + align, len, seed);
            const uint32_t got = csum_partial({buf.data() + align, len}, seed);
            if (fold16(got) != fold16(want) || csum_fold(got) != csum_fold(want)) {
                BOOST_ERROR("len " << len << " align " << align << " seed " << seed << ": got " << got
                                   << " want " << want);
                return;
            }
            ++checked;
        }
    }
    BOOST_TEST(checked == 1601u * 8u);
}

BOOST_AUTO_TEST_CASE(csum_partial_carries_with_all_ones_bytes) {
    // 0xff everywhere makes every 64-bit add carry.
    std::vector<uint8_t> ones(1600, 0xff);
    for (size_t len = 0; len <= ones.size(); len += 7)
        for (uint32_t seed : {0u, 0xffffffffu, 0xfffeu}) {
            const uint32_t want = reference_sum(ones.data(), len, seed);
            BOOST_TEST(csum_fold(csum_partial({ones.data(), len}, seed)) == csum_fold(want));
        }
}

BOOST_AUTO_TEST_CASE(csum_partial_of_zeros_is_zero_not_negative_zero) {
    // csum_fold() tells +0 (0xffff after inversion) from -0: an all-zero
    // buffer must stay +0, a sum of 0xffff words must stay -0.
    std::vector<uint8_t> zeros(100, 0);
    BOOST_TEST(csum_partial({zeros.data(), zeros.size()}) == 0u);
    BOOST_TEST(csum_fold(csum_partial({zeros.data(), zeros.size()})) == 0xffff);
    const uint8_t ffff[] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
    BOOST_TEST(csum_fold(csum_partial(ffff)) == 0);
    BOOST_TEST(csum_fold(reference_sum(ffff, sizeof ffff, 0)) == 0);
}

BOOST_AUTO_TEST_CASE(csum_partial_chains_like_one_sum) {
    // Summing a buffer in two even-length pieces, the first result as the
    // second's start, is summing it whole (how the pseudo-header is added).
    std::mt19937 rng(11);
    std::vector<uint8_t> buf(301);
    for (auto& b : buf) b = uint8_t(rng());
    for (size_t cut = 0; cut <= 300; cut += 2) {
        const uint32_t first = csum_partial({buf.data(), cut});
        const uint32_t whole = csum_partial({buf.data(), buf.size()});
        BOOST_TEST(csum_fold(csum_partial({buf.data() + cut, buf.size() - cut}, first)) == csum_fold(whole));
    }
}

BOOST_AUTO_TEST_CASE(ipv4_header_with_its_checksum_sums_to_zero) {
    // A real IPv4 header (checksum 0xb1e6 filled in): the sum over it folds to 0.
    const uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06,
                             0xb1, 0xe6, 0xac, 0x10, 0x0a, 0x63, 0xac, 0x10, 0x0a, 0x0c};
    BOOST_TEST(csum_fold(csum_partial(hdr)) == 0);
    uint8_t bad[20];
    std::copy(hdr, hdr + 20, bad);
    bad[11] ^= 1;
    BOOST_TEST(csum_fold(csum_partial(bad)) != 0);
}

BOOST_AUTO_TEST_CASE(csum_pseudo_matches_reference_for_both_families) {
    // The pseudo-header of RFC 793 / RFC 8200 8.1: addresses, protocol, length.
    std::mt19937 rng(13);
    for (int i = 0; i < 2000; ++i) {
        fwsim::IpAddr s, d;
        const bool v4 = i % 2 == 0;
        const size_t n = v4 ? 4 : 16;
        for (size_t k = 0; k < n; ++k) {
            s.b[k] = uint8_t(rng());
            d.b[k] = uint8_t(i % 7 == 1 ? 0xff : rng());
        }
        const uint8_t proto = uint8_t(rng());
        const uint32_t len = i % 5 == 0 ? rng() : rng() % 70000;
        uint32_t want = reference_sum(s.b.data(), n, 0);
        want = reference_sum(d.b.data(), n, want);
        uint64_t w = uint64_t(want) + proto + (len >> 16) + (len & 0xffff);
        const uint32_t got = fwsim::csum_pseudo(v4 ? fwsim::Family::ipv4 : fwsim::Family::ipv6, s, d, proto, len);
        BOOST_TEST(fold16(got) == fold16(uint32_t(w % 0xffff == 0 && w != 0 ? 0xffff : w % 0xffff)));
        // and as the start of a segment's sum
        const uint8_t seg[7] = {1, 2, 3, 4, 5, 6, 7};
        BOOST_TEST(csum_fold(csum_partial(seg, got)) == csum_fold(reference_sum(seg, 7, uint32_t(w % 0xffff))));
    }
    const fwsim::IpAddr zero;
    BOOST_TEST(fwsim::csum_pseudo(fwsim::Family::ipv4, zero, zero, 0, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(portable_and_wide_sums_match_reference_on_random_buffers) {
    // Both sums behind csum_partial() (the AVX2 one when the CPU has it),
    // every length 0..2000 at random start offsets (odd ones included) with
    // random starting sums; and the two give the very same value, so which
    // one ran never shows in a result.
    namespace cd = fwsim::csum_detail;
    std::mt19937 rng(17);
    std::vector<uint8_t> buf(2000 + 64);
    for (auto& b : buf) b = uint8_t(rng());
    size_t checked = 0;
    for (size_t len = 0; len <= 2000; ++len) {
        for (int k = 0; k < 4; ++k) {
            const size_t off = rng() % 64;
            const uint32_t seed = k == 0 ? 0 : k == 1 ? 0xffffffffu : uint32_t(rng());
            const uint8_t* d = buf.data() + off;
            const uint32_t want = reference_sum(d, len, seed);
            const uint32_t port = cd::partial_portable({d, len}, seed);
            const uint32_t wide = cd::partial_wide({d, len}, seed);
            if (csum_fold(port) != csum_fold(want) || csum_fold(wide) != csum_fold(want) || port != wide ||
                csum_partial({d, len}, seed) != port) {
                BOOST_ERROR("len " << len << " off " << off << " seed " << seed << ": portable " << port
                                   << " wide " << wide << " want " << want);
                return;
            }
            ++checked;
        }
    }
    BOOST_TEST(checked == 2001u * 4u);
    BOOST_TEST_MESSAGE("wide (AVX2) sum available: " << cd::wide_available());
}

BOOST_AUTO_TEST_CASE(wide_sum_carries_with_all_ones_and_zero_bytes) {
    // 0xff bytes fill every lane's high bits; zeros must stay +0 (not 0xffff).
    namespace cd = fwsim::csum_detail;
    std::vector<uint8_t> ones(4096 + 3, 0xff), zeros(4096, 0);
    for (size_t len = 0; len <= 4096; len += 61)
        for (size_t off : {0u, 1u, 3u}) {
            const uint32_t want = reference_sum(ones.data() + off, len, 0xffff);
            BOOST_TEST(csum_fold(cd::partial_wide({ones.data() + off, len}, 0xffff)) == csum_fold(want));
            BOOST_TEST(cd::partial_wide({ones.data() + off, len}, 0xffff) ==
                       cd::partial_portable({ones.data() + off, len}, 0xffff));
        }
    BOOST_TEST(cd::partial_wide({zeros.data(), zeros.size()}) == 0u);
    BOOST_TEST(csum_partial({zeros.data(), zeros.size()}) == 0u);
}

BOOST_AUTO_TEST_CASE(csum_sum_verifies_is_folding_to_ffff) {
    // The multiply-and-compare test against folding with the end-around carry.
    auto fold_is_ffff = [](uint64_t s) {
        while (s >> 16) s = (s & 0xffff) + (s >> 16);
        return s == 0xffff;
    };
    std::mt19937_64 rng(23);
    const uint64_t edges[] = {0, 1, 0xfffe, 0xffff, 0x10000, 0x1fffe, 0xffff0000u, 0xffffffffu,
                              0xfffffffffffeull, 0xffffffffffffffffull, 0xfffffffffffffffeull};
    for (uint64_t s : edges) BOOST_TEST(fwsim::csum_sum_verifies(s) == fold_is_ffff(s), "sum " << s);
    int yes = 0;
    for (int i = 0; i < 200000; ++i) {
        // Every other value a multiple of 0xffff, so both outcomes are common.
        const uint64_t s = i % 2 ? rng() : (rng() >> 17) * 0xffff + (i % 3 == 0);
        if (fwsim::csum_sum_verifies(s) != fold_is_ffff(s)) {
            BOOST_ERROR("sum " << s);
            return;
        }
        yes += fold_is_ffff(s);
    }
    BOOST_TEST(yes > 50000);
}

BOOST_AUTO_TEST_CASE(csum_l4_ok_is_the_two_step_test) {
    // csum_l4_ok() in one pass against csum_fold(csum_partial(seg,
    // csum_pseudo(...))) == 0, on segments whose checksum field is right
    // (filled in), off by one bit, or random, for both families.
    std::mt19937 rng(19);
    std::vector<uint8_t> seg(1600);
    int ok = 0, bad = 0;
    for (int i = 0; i < 6000; ++i) {
        const bool v4 = i % 2 == 0;
        const fwsim::Family f = v4 ? fwsim::Family::ipv4 : fwsim::Family::ipv6;
        fwsim::IpAddr s, d;
        for (size_t k = 0; k < (v4 ? 4u : 16u); ++k) {
            s.b[k] = uint8_t(rng());
            d.b[k] = uint8_t(rng());
        }
        const uint8_t proto = uint8_t(i % 3 == 0 ? 6 : i % 3 == 1 ? 17 : rng());
        const size_t len = i % 10 == 0 ? rng() % 1600 : 8 + rng() % 200;
        for (size_t k = 0; k < len; ++k) seg[k] = uint8_t(i % 50 == 0 ? 0 : rng());
        const std::span<const uint8_t> sp(seg.data(), len);
        if (len >= 8 && i % 3 != 2) {
            // Fill in the checksum at offset 6 (UDP's place) so the sum verifies.
            seg[6] = seg[7] = 0;
            const uint16_t c = csum_fold(csum_partial(sp, fwsim::csum_pseudo(f, s, d, proto, uint32_t(len))));
            seg[6] = uint8_t(c >> 8);
            seg[7] = uint8_t(c);
            if (i % 7 == 0) seg[rng() % len] ^= uint8_t(1u << (rng() % 8));
        }
        const uint32_t plen = i % 13 == 0 ? uint32_t(rng()) : uint32_t(len);
        const bool want = csum_fold(csum_partial(sp, fwsim::csum_pseudo(f, s, d, proto, plen))) == 0;
        const bool got = fwsim::csum_l4_ok(f, s, d, proto, plen, sp);
        // The overload without a length takes the segment's own.
        const bool got_own = fwsim::csum_l4_ok(f, s, d, proto, sp) ==
                             (csum_fold(csum_partial(sp, fwsim::csum_pseudo(f, s, d, proto, uint32_t(len)))) == 0);
        if (got != want || !got_own) {
            BOOST_ERROR("case " << i << " len " << len << ": got " << got << " want " << want);
            return;
        }
        (want ? ok : bad)++;
    }
    // Both outcomes were exercised.
    BOOST_TEST(ok > 1000);
    BOOST_TEST(bad > 1000);
    const fwsim::IpAddr zero;
    BOOST_TEST(!fwsim::csum_l4_ok(fwsim::Family::ipv4, zero, zero, 0, 0, {}));
}

BOOST_AUTO_TEST_SUITE_END()
