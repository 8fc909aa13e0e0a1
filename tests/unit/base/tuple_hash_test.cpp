// fwsim::hash() decides conntrack's buckets and early_drop()'s victims, so
// its values are part of the outputs: the unrolled version must give the
// byte-at-a-time FNV-1a values, and hash_of(packet) those of
// hash(tuple_of(packet)).
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

#include "fwsim/tuple.hpp"
#include "../splitmix.hpp"

using namespace fwsim;

namespace {

// The definition, byte by byte: FNV-1a over src, dst (4 or 16 bytes),
// sport and dport big-endian, family, proto; then the 64-bit mix.
uint64_t reference_hash(const Tuple& t) {
    uint64_t h = 0xcbf29ce484222325ull;
    std::vector<uint8_t> bytes;
    const size_t alen = t.family == Family::ipv4 ? 4 : 16;
    bytes.insert(bytes.end(), t.src.b.begin(), t.src.b.begin() + long(alen));
    bytes.insert(bytes.end(), t.dst.b.begin(), t.dst.b.begin() + long(alen));
    for (uint8_t b : {uint8_t(t.sport >> 8), uint8_t(t.sport), uint8_t(t.dport >> 8), uint8_t(t.dport),
                      uint8_t(t.family), t.proto})
        bytes.push_back(b);
    for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

using fwsim::test::Rng;

Packet random_packet(Rng& r) {
    Packet p;
    p.status = DecodeStatus::ok;
    p.has_l4 = true;
    p.family = r.next() % 4 == 0 ? Family::ipv6 : Family::ipv4;
    for (size_t i = 0; i < (p.family == Family::ipv4 ? 4u : 16u); ++i) {
        p.src.b[i] = uint8_t(r.next());
        p.dst.b[i] = uint8_t(r.next());
    }
    static constexpr uint8_t kProtos[] = {proto::tcp, proto::udp, proto::udplite, proto::sctp,
                                          proto::icmp, proto::icmpv6, 47 /* gre */, 50 /* esp */};
    p.l4proto = kProtos[r.next() % 8];
    p.sport = uint16_t(r.next());
    p.dport = uint16_t(r.next());
    p.icmp_type = uint8_t(r.next());
    p.icmp_code = uint8_t(r.next());
    p.icmp_id = uint16_t(r.next());
    return p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(tuple_hash_is_fnv1a_of_the_fields_byte_by_byte) {
    Rng r{7};
    for (int i = 0; i < 20000; ++i) {
        const Packet p = random_packet(r);
        Tuple t;
        BOOST_REQUIRE(tuple_of(p, &t));
        BOOST_TEST(hash(t) == reference_hash(t), "packet " << i);
    }
}

BOOST_AUTO_TEST_CASE(packet_hash_equals_the_hash_of_its_tuple) {
    Rng r{11};
    for (int i = 0; i < 20000; ++i) {
        const Packet p = random_packet(r);
        Tuple t;
        BOOST_REQUIRE(tuple_of(p, &t));
        uint64_t h = 0;
        BOOST_REQUIRE(hash_of(p, &h));
        BOOST_TEST(h == hash(t), "packet " << i << " proto " << int(p.l4proto));
    }
    Packet later_fragment = random_packet(r);
    later_fragment.has_l4 = false;  // no tuple: nothing to hash, as tuple_of()
    uint64_t h = 0;
    BOOST_TEST(!hash_of(later_fragment, &h));
}
