// RecordPipe (--threads >= 2) delivers every record,
// in order per kind, with copies that do not depend on the engine's buffers.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "io/output/record_pipe.hpp"

using namespace fwsim;

namespace {

struct Seen {
    uint64_t index;
    std::string error;
    std::vector<uint8_t> frame;
    Verdict verdict;
    Reason reason = Reason::none;
    uint32_t rule = 0, chain = 0;
    bool has_ct = false;
    CtState ct_state = CtState::invalid;
};

class Recorder final : public EngineObserver {
public:
    void on_packet(const PacketRecord& r) override {
        if (!r.pkt) {  // RecordPipe::Copy::record: the record's own fields only
            packets.push_back({0, std::string(r.error), {}, r.verdict, r.reason, r.rule, r.chain, r.has_ct, r.ct_state});
            return;
        }
        packets.push_back({r.pkt->index, std::string(r.error), {r.pkt->frame.begin(), r.pkt->frame.end()}, r.verdict});
    }
    void on_flow(const FlowRecord& f) override { flows.push_back(f.id); }
    void on_stats(const TableStats& s) override { stats.push_back(s.ts); }
    std::vector<Seen> packets;
    std::vector<uint64_t> flows;
    std::vector<Nanos> stats;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(record_pipe)

BOOST_AUTO_TEST_CASE(every_record_arrives_in_order_with_its_own_copies) {
    Recorder direct, piped;
    {
        RecordPipe pipe(piped, RecordPipe::Copy::frame);
        std::string other_error;
        for (uint64_t i = 1; i <= 5000; ++i) {  // several chunks
            // The engine's buffers: reused (overwritten) for every record.
            uint8_t bytes[64];
            std::memset(bytes, int(i & 0xff), sizeof bytes);
            Packet p;
            p.index = i;
            p.frame = std::span<const uint8_t>(bytes, 1 + i % 64);
            PacketRecord r;
            r.pkt = &p;
            r.verdict = i % 3 ? Verdict::accept : Verdict::drop;
            if (i % 7 == 0) {  // the decoder's text, inside the packet
                std::snprintf(p.error, sizeof p.error, "tcp: bad %llu", (unsigned long long)i);
                r.error = p.error;
            } else if (i % 11 == 0) {  // a text elsewhere (the defragmenter's)
                other_error = "overlap " + std::to_string(i);
                r.error = other_error;
            }
            direct.on_packet(r);
            pipe.on_packet(r);
            if (i % 100 == 0) {
                FlowRecord f;
                f.id = i;
                direct.on_flow(f);
                pipe.on_flow(f);
            }
            if (i % 250 == 0) {
                TableStats s;
                s.ts = Nanos(i);
                direct.on_stats(s);
                pipe.on_stats(s);
            }
            std::memset(bytes, 0xee, sizeof bytes);  // the engine moves on
            std::memset(p.error, 'x', sizeof p.error - 1);
            other_error.assign(20, 'y');
        }
        pipe.drain();
    }
    BOOST_REQUIRE_EQUAL(piped.packets.size(), direct.packets.size());
    for (size_t i = 0; i < direct.packets.size(); ++i) {
        BOOST_REQUIRE_EQUAL(piped.packets[i].index, direct.packets[i].index);
        BOOST_REQUIRE_EQUAL(piped.packets[i].error, direct.packets[i].error);
        BOOST_REQUIRE(piped.packets[i].frame == direct.packets[i].frame);
        BOOST_REQUIRE(piped.packets[i].verdict == direct.packets[i].verdict);
    }
    BOOST_TEST(piped.flows == direct.flows);
    BOOST_TEST(piped.stats == direct.stats);
}

BOOST_AUTO_TEST_CASE(record_copies_carry_the_counted_fields_but_not_the_packet) {
    // Without per-packet outputs the sinks only count verdicts: the pipe
    // copies the record and leaves the packet (and its bytes) behind.
    Recorder rec;
    {
        RecordPipe pipe(rec, RecordPipe::Copy::record);
        for (uint64_t i = 1; i <= 3000; ++i) {
            Packet p;
            p.index = i;
            PacketRecord r;
            r.pkt = &p;
            r.verdict = i % 5 ? Verdict::accept : Verdict::drop;
            r.reason = i % 5 ? Reason::none : Reason::policy;
            r.rule = uint32_t(i);
            r.chain = uint32_t(i % 7);
            r.has_ct = i % 3 != 0;
            r.ct_state = i % 2 ? CtState::established : CtState::new_;
            r.error = "not copied";
            pipe.on_packet(r);
        }
        pipe.drain();
    }
    BOOST_REQUIRE_EQUAL(rec.packets.size(), 3000u);
    for (size_t i = 0; i < rec.packets.size(); ++i) {
        BOOST_REQUIRE_EQUAL(rec.packets[i].index, 0u);  // no packet on the other side
        BOOST_REQUIRE(rec.packets[i].error.empty());
        const uint64_t n = i + 1;
        BOOST_REQUIRE(rec.packets[i].verdict == (n % 5 ? Verdict::accept : Verdict::drop));
        BOOST_REQUIRE(rec.packets[i].reason == (n % 5 ? Reason::none : Reason::policy));
        BOOST_REQUIRE_EQUAL(rec.packets[i].rule, uint32_t(n));
        BOOST_REQUIRE_EQUAL(rec.packets[i].chain, uint32_t(n % 7));
        BOOST_REQUIRE_EQUAL(rec.packets[i].has_ct, n % 3 != 0);
        BOOST_REQUIRE(rec.packets[i].ct_state == (n % 2 ? CtState::established : CtState::new_));
    }
}

BOOST_AUTO_TEST_CASE(destroying_without_drain_stops_the_thread) {
    Recorder rec;
    {
        RecordPipe pipe(rec, RecordPipe::Copy::packet);
        Packet p;
        PacketRecord r;
        r.pkt = &p;
        for (int i = 0; i < 3000; ++i) pipe.on_packet(r);
    }  // must not hang or crash (an exception path in the replay)
    BOOST_TEST(rec.packets.size() <= 3000u);
}

BOOST_AUTO_TEST_SUITE_END()
