#include <boost/test/unit_test.hpp>

#include <vector>

#include "frames.hpp"
#include "fwsim/config.hpp"
#include "fwsim/decode/defrag.hpp"

using namespace frames;
using namespace fwsim;

namespace {

// A UDP datagram (8 + 40 bytes) cut into fragments by hand. Frames are kept
// alive in `store` (the packets point into them).
struct Fragments {
    std::vector<std::unique_ptr<Bytes>> store;
    Bytes l4;  // the whole UDP message, checksum filled in

    explicit Fragments(size_t payload = 40, Family f = Family::ipv4) {
        if (f == Family::ipv4) {
            const Bytes whole = ipv4(proto::udp, udp(40000, 5000, fill(payload, 0x5a)));
            l4.assign(whole.begin() + 20, whole.end());
        } else {
            const Bytes whole = ipv6(proto::udp, udp(40000, 5000, fill(payload, 0x5a)));
            l4.assign(whole.begin() + 40, whole.end());
        }
    }
    Bytes slice(size_t from, size_t to) const { return Bytes(l4.begin() + long(from), l4.begin() + long(to)); }

    Packet v4(uint64_t index, Nanos ts, size_t from, size_t to, bool mf, uint16_t id = 0x1001) {
        V4 o;
        o.id = id;
        o.frag_offset = uint16_t(from);
        o.mf = mf;
        o.fix_l4_csum = false;
        return keep(index, ts, eth(0x0800, ipv4(proto::udp, slice(from, to), o)));
    }
    // IPv6 with a destination-options header before the fragment header.
    Packet v6(uint64_t index, Nanos ts, size_t from, size_t to, bool mf, uint32_t id = 0x2001) {
        const Bytes ext = cat({ext8(proto::ipv6_frag), frag_hdr(proto::udp, uint16_t(from), mf, id)});
        return keep(index, ts, eth(0x86dd, ipv6(proto::ipv6_dstopts, slice(from, to), ext, proto::udp,
                                                V6{.fix_l4_csum = false})));
    }
    Packet keep(uint64_t index, Nanos ts, Bytes f) {
        store.push_back(std::make_unique<Bytes>(std::move(f)));
        Packet p;
        p.index = index;
        p.ts = ts;
        p.wire_len = p.cap_len = uint32_t(store.back()->size());
        decode_frame(dlt::en10mb, *store.back(), p);
        BOOST_TEST_REQUIRE(p.ok());
        BOOST_TEST_REQUIRE(p.is_fragment);
        return p;
    }
};

using R = Defragmenter::Result;

std::vector<uint64_t> members(const Defragmenter& d) { return {d.members().begin(), d.members().end()}; }
std::vector<uint64_t> v(std::initializer_list<uint64_t> l) { return l; }

}  // namespace

BOOST_AUTO_TEST_SUITE(defrag)

BOOST_AUTO_TEST_CASE(in_order_fragments_complete_into_one_datagram) {
    Config cfg;
    Defragmenter d(cfg);
    Fragments f;
    Packet out;
    std::string_view why;
    BOOST_TEST(int(d.add(f.v4(1, 100, 0, 16, true), &out, &why)) == int(R::held));
    BOOST_TEST(int(d.add(f.v4(2, 200, 16, 32, true), &out, &why)) == int(R::held));
    BOOST_TEST(d.bytes_held() == 72u);
    BOOST_TEST(int(d.add(f.v4(3, 300, 32, 48, false), &out, &why)) == int(R::complete));
    BOOST_TEST(members(d) == v({1, 2, 3}));
    BOOST_TEST_REQUIRE(out.ok());
    BOOST_TEST(!out.is_fragment);
    BOOST_TEST(out.index == 3u);
    BOOST_TEST(out.ts == 300);
    BOOST_TEST(out.ip_len == 68u);
    BOOST_TEST(out.wire_len == 68u);
    BOOST_TEST(out.has_l4);
    BOOST_TEST(out.sport == 40000);
    BOOST_TEST(out.dport == 5000);
    BOOST_TEST(out.payload_len == 40u);
    BOOST_TEST(l4_checksum_ok(out));
    BOOST_TEST(d.bytes_held() == 0u);
    BOOST_TEST(d.queues() == 0u);
}

BOOST_AUTO_TEST_CASE(out_of_order_fragments_complete_when_the_last_gap_fills) {
    Defragmenter d{Config{}};
    Fragments f;
    Packet out;
    std::string_view why;
    BOOST_TEST(int(d.add(f.v4(1, 0, 32, 48, false), &out, &why)) == int(R::held));
    BOOST_TEST(int(d.add(f.v4(2, 0, 0, 16, true), &out, &why)) == int(R::held));
    BOOST_TEST(int(d.add(f.v4(3, 0, 16, 32, true), &out, &why)) == int(R::complete));
    BOOST_TEST(members(d) == v({1, 2, 3}));
    BOOST_TEST(out.sport == 40000);
    BOOST_TEST(l4_checksum_ok(out));
}

BOOST_AUTO_TEST_CASE(overlapping_fragment_drops_the_whole_queue) {
    Defragmenter d{Config{}};
    Fragments f;
    Packet out;
    std::string_view why;
    d.add(f.v4(1, 0, 0, 16, true), &out, &why);
    d.add(f.v4(2, 0, 32, 48, false), &out, &why);
    BOOST_TEST(int(d.add(f.v4(3, 0, 8, 24, true), &out, &why)) == int(R::dropped));
    BOOST_TEST(why == "overlapping fragment");
    BOOST_TEST(members(d) == v({1, 2, 3}));
    BOOST_TEST(d.queues() == 0u);
    BOOST_TEST(d.bytes_held() == 0u);
    // The datagram cannot complete any more: a later fragment starts afresh.
    BOOST_TEST(int(d.add(f.v4(4, 0, 16, 32, true), &out, &why)) == int(R::held));
}

BOOST_AUTO_TEST_CASE(fragment_overlapping_the_tail_is_an_overlap) {
    Defragmenter d{Config{}};
    Fragments f;
    Packet out;
    std::string_view why;
    d.add(f.v4(1, 0, 0, 16, true), &out, &why);
    BOOST_TEST(int(d.add(f.v4(2, 0, 8, 32, true), &out, &why)) == int(R::dropped));
    BOOST_TEST(why == "overlapping fragment");
    BOOST_TEST(members(d) == v({1, 2}));
}

BOOST_AUTO_TEST_CASE(duplicate_fragment_is_dropped_and_the_queue_kept) {
    Defragmenter d{Config{}};
    Fragments f;
    Packet out;
    std::string_view why;
    d.add(f.v4(1, 0, 0, 16, true), &out, &why);
    d.add(f.v4(2, 0, 16, 32, true), &out, &why);
    // Inside the run 0..32 made of fragments 1 and 2: a duplicate (IPFRAG_DUP).
    BOOST_TEST(int(d.add(f.v4(3, 0, 8, 24, true), &out, &why)) == int(R::dropped));
    BOOST_TEST(why == "duplicate fragment");
    BOOST_TEST(members(d) == v({3}));
    BOOST_TEST(d.queues() == 1u);
    BOOST_TEST(int(d.add(f.v4(4, 0, 32, 48, false), &out, &why)) == int(R::complete));
    BOOST_TEST(members(d) == v({1, 2, 4}));
}

BOOST_AUTO_TEST_CASE(fragments_of_different_datagrams_do_not_mix) {
    Defragmenter d{Config{}};
    Fragments f;
    Packet out;
    std::string_view why;
    d.add(f.v4(1, 0, 0, 16, true, 1), &out, &why);
    d.add(f.v4(2, 0, 0, 16, true, 2), &out, &why);
    BOOST_TEST(d.queues() == 2u);
    d.add(f.v4(3, 0, 16, 48, false, 2), &out, &why);
    BOOST_TEST(members(d) == v({2, 3}));
    BOOST_TEST(d.queues() == 1u);
}

BOOST_AUTO_TEST_CASE(incomplete_datagrams_are_flushed_at_end_of_capture) {
    Defragmenter d{Config{}};
    Fragments f;
    Packet out;
    std::string_view why;
    d.add(f.v4(1, 0, 0, 16, true, 1), &out, &why);
    d.add(f.v4(2, 5, 32, 48, false, 2), &out, &why);
    d.add(f.v4(3, 9, 16, 32, true, 1), &out, &why);
    std::vector<uint64_t> seen;
    d.flush_all([&](uint64_t i) { seen.push_back(i); });
    BOOST_TEST(seen == v({1, 3, 2}));  // by timer: datagram 1 first, its fragments in capture order
    BOOST_TEST(d.queues() == 0u);
    BOOST_TEST(d.bytes_held() == 0u);
}

BOOST_AUTO_TEST_CASE(timer_runs_from_the_first_fragment_and_is_not_rearmed) {
    Config cfg;  // frag.timeout 30 s
    Defragmenter d(cfg);
    Fragments f;
    Packet out;
    std::string_view why;
    d.add(f.v4(1, 0, 0, 16, true), &out, &why);
    d.add(f.v4(2, 20 * kSecond, 16, 32, true), &out, &why);
    std::vector<uint64_t> seen;
    d.expire(30 * kSecond - 1, [&](uint64_t i) { seen.push_back(i); });
    BOOST_TEST(seen.empty());
    d.expire(30 * kSecond, [&](uint64_t i) { seen.push_back(i); });
    BOOST_TEST(seen == v({1, 2}));
    // The last fragment comes too late: a new queue that cannot complete.
    BOOST_TEST(int(d.add(f.v4(3, 31 * kSecond, 32, 48, false), &out, &why)) == int(R::held));
}

BOOST_AUTO_TEST_CASE(ipv6_fragments_reassemble_behind_the_unfragmentable_part) {
    Config cfg;
    Defragmenter d(cfg);
    Fragments f(40, Family::ipv6);
    Packet out;
    std::string_view why;
    BOOST_TEST(int(d.add(f.v6(1, 0, 16, 48, false), &out, &why)) == int(R::held));
    BOOST_TEST(int(d.add(f.v6(2, 0, 0, 16, true), &out, &why)) == int(R::complete));
    BOOST_TEST(members(d) == v({1, 2}));
    BOOST_TEST_REQUIRE(out.ok());
    BOOST_TEST(!out.is_fragment);
    BOOST_TEST(int(out.family) == int(Family::ipv6));
    BOOST_TEST(out.l4proto == proto::udp);
    BOOST_TEST(out.ip_hdr_len == 48);  // IPv6 header + dstopts, fragment header gone
    BOOST_TEST(out.ip_len == 40u + 8u + 48u);
    BOOST_TEST(out.dport == 5000);
    BOOST_TEST(l4_checksum_ok(out));
}

BOOST_AUTO_TEST_CASE(ipv6_fragment_duplicate_and_misaligned_length) {
    Defragmenter d{Config{}};
    Fragments f(40, Family::ipv6);
    Packet out;
    std::string_view why;
    d.add(f.v6(1, 0, 0, 16, true), &out, &why);
    BOOST_TEST(int(d.add(f.v6(2, 0, 0, 16, true), &out, &why)) == int(R::dropped));
    BOOST_TEST(why == "duplicate fragment");
    // A non-last fragment whose length is not a multiple of 8 kills the queue
    // (nf_ct_frag6_queue(): "end of fragment not rounded to 8 bytes").
    BOOST_TEST(int(d.add(f.v6(3, 0, 16, 28, true), &out, &why)) == int(R::dropped));
    BOOST_TEST(why == "fragment length not a multiple of 8");
    BOOST_TEST(members(d) == v({1, 3}));
}

BOOST_AUTO_TEST_CASE(ipv4_datagram_larger_than_65535_is_dropped_at_reassembly) {
    Defragmenter d{Config{}};
    Fragments f(65536);  // UDP message of 65544 bytes
    Packet out;
    std::string_view why;
    BOOST_TEST(int(d.add(f.v4(1, 0, 0, 65000, true), &out, &why)) == int(R::held));
    BOOST_TEST(int(d.add(f.v4(2, 0, 65000, 65544, false), &out, &why)) == int(R::dropped));
    BOOST_TEST(why == "reassembled datagram 65564 bytes > 65535");
    BOOST_TEST(members(d) == v({1, 2}));
}

BOOST_AUTO_TEST_CASE(ipv6_fragment_ending_past_65535_is_dropped_alone) {
    Defragmenter d{Config{}};
    Fragments f(65536, Family::ipv6);
    Packet out;
    std::string_view why;
    BOOST_TEST(int(d.add(f.v6(1, 0, 65528, 65544, false), &out, &why)) == int(R::dropped));
    BOOST_TEST(why == "fragment ends at 65544 > 65535");
    BOOST_TEST(members(d) == v({1}));
}

BOOST_AUTO_TEST_CASE(fragments_above_high_thresh_are_refused) {
    Config cfg;
    cfg.frag_high_thresh = 50;
    Defragmenter d(cfg);
    Fragments f;
    Packet out;
    std::string_view why;
    BOOST_TEST(int(d.add(f.v4(1, 0, 0, 16, true), &out, &why)) == int(R::held));      // 0 held
    BOOST_TEST(int(d.add(f.v4(2, 0, 16, 32, true), &out, &why)) == int(R::held));     // 36 held
    BOOST_TEST(int(d.add(f.v4(3, 0, 32, 48, false), &out, &why)) == int(R::dropped)); // 72 > 50
    BOOST_TEST(why == "fragment memory above high_thresh");
    BOOST_TEST(members(d) == v({3}));
    BOOST_TEST(d.queues() == 1u);
    // IPv6 has its own budget.
    Fragments g(40, Family::ipv6);
    BOOST_TEST(int(d.add(g.v6(4, 0, 0, 16, true), &out, &why)) == int(R::held));
}

BOOST_AUTO_TEST_CASE(ipv4_last_fragments_that_disagree_kill_the_queue) {
    Defragmenter d{Config{}};
    Fragments f;
    Packet out;
    std::string_view why;
    d.add(f.v4(1, 0, 0, 16, true), &out, &why);
    d.add(f.v4(2, 0, 32, 48, false), &out, &why);
    BOOST_TEST(int(d.add(f.v4(3, 0, 16, 40, false), &out, &why)) == int(R::dropped));
    BOOST_TEST(why == "last fragment's end disagrees with the datagram");
    BOOST_TEST(members(d) == v({1, 2, 3}));
}

BOOST_AUTO_TEST_SUITE_END()
