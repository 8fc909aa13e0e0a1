// The slot keeps ids and counters in 32 bits and no key of its own timer
// element (include/fwsim/conntrack/table.hpp, Memory): values past 2^32 must
// still be exact everywhere they are read (get(), flow records, dump()), and
// a deadline moved earlier then later must still fire once, at the deadline.
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace fwsim::ct {
// Declared a friend of Table: puts a table where 2^32 is near without
// creating four billion connections or packets.
struct TableTestAccess {
    static void set_next_id(Table& t, uint64_t id) { t.next_id_ = id; }
    static void set_pkts_low(Table& t, EntryId e, int d, uint32_t lo) { t.slots_[e].pkts[d] = lo; }
};
}  // namespace fwsim::ct

using namespace fwsim;
using namespace fwsim::test;

namespace {
Packet query(uint16_t sport) { return udp_pkt("10.1.2.3", sport, "192.0.2.53", 53); }
}  // namespace

BOOST_AUTO_TEST_CASE(bytes_past_4_gb_in_one_direction_are_exact) {
    Fx fx;
    Packet p = query(5000);
    p.ip_len = 0x7fffffffu;  // three of these pass 2^32 (and 2^33)
    const auto r = fx.feed(p);
    fx.feed(p);
    fx.feed(p);
    const uint64_t want = 3ull * 0x7fffffffu;
    BOOST_TEST(fx.t->get(r.entry).bytes[0] == want);
    BOOST_TEST(fx.t->get(r.entry).bytes[1] == 0u);
    BOOST_TEST(fx.t->get(r.entry).pkts[0] == 3u);
    BOOST_TEST(fx.t->flow_info(r.entry).orig_bytes == want);
    BOOST_TEST(fx.t->dump(fx.now).find("packets=3 bytes=" + std::to_string(want) + " ") != std::string::npos);
    BOOST_TEST(fx.t->check() == "");
    fx.t->finish(fx.now, fx.obs);
    BOOST_REQUIRE(fx.obs.ev.size() == 1u);
    BOOST_TEST(fx.obs.ev[0].f.orig_bytes == want);
}

BOOST_AUTO_TEST_CASE(packet_count_past_2_32_is_exact) {
    Fx fx;
    const auto r = fx.feed(query(5000));
    ct::TableTestAccess::set_pkts_low(*fx.t, r.entry, 0, 0xfffffffeu);
    fx.feed(query(5000));  // 0xffffffff
    fx.feed(query(5000));  // 2^32: the low half wraps
    fx.feed(query(5000));
    BOOST_TEST(fx.t->get(r.entry).pkts[0] == (1ull << 32) + 1);
    BOOST_TEST(fx.t->flow_info(r.entry).orig_pkts == (1ull << 32) + 1);
    BOOST_TEST(fx.t->check() == "");
}

BOOST_AUTO_TEST_CASE(ids_past_2_32_are_exact_and_expire_in_id_order) {
    Fx fx;
    ct::TableTestAccess::set_next_id(*fx.t, (1ull << 32) - 1);
    const auto a = fx.feed(query(5001));
    const auto b = fx.feed(query(5002));
    BOOST_TEST(fx.t->get(a.entry).id == (1ull << 32) - 1);
    BOOST_TEST(fx.t->get(b.entry).id == (1ull << 32));
    BOOST_TEST(fx.t->entry_id(b.entry) == (1ull << 32));
    BOOST_TEST(fx.t->check() == "");
    // Same deadline: the lower id first, across the wrap of the low halves.
    fx.now += 31 * kSecond;
    fx.t->advance(fx.now, fx.obs);
    BOOST_REQUIRE(fx.obs.ev.size() == 2u);
    BOOST_TEST(fx.obs.ev[0].f.id == (1ull << 32) - 1);
    BOOST_TEST(fx.obs.ev[1].f.id == (1ull << 32));
    // The freed slot's high half does not leak into the next entry there.
    const auto c = fx.feed(query(5003));
    BOOST_TEST(fx.t->get(c.entry).id == (1ull << 32) + 1);
    ct::TableTestAccess::set_next_id(*fx.t, 7);
    fx.now += 31 * kSecond;
    const auto d = fx.feed(query(5004));  // c expires, d may take its slot
    BOOST_TEST(fx.t->get(d.entry).id == 7u);
    BOOST_TEST(fx.t->check() == "");
}

// FIN (120 s) and FIN/ACK (30 s) each move the deadline earlier and push a
// timer element; the last ACK (TIME_WAIT, 120 s) moves it later again. The
// elements left behind are re-armed, not fired: one end, at the deadline.
BOOST_AUTO_TEST_CASE(deadline_moved_earlier_twice_then_later_fires_once_at_the_deadline) {
    Fx fx;
    fx.handshake();
    fx.c(tf::ack | tf::psh, 1001, 5001, 10);
    fx.s(tf::ack, 5001, 1011);
    const Nanos t0 = fx.now;
    fx.c(tf::fin | tf::ack, 1011, 5001);
    fx.now = t0 + 10 * kSecond;
    fx.s(tf::fin | tf::ack, 5001, 1012);
    BOOST_TEST(fx.tcp_state() == TcpState::last_ack);
    fx.now = t0 + 20 * kSecond;
    fx.c(tf::ack, 1012, 5002);
    BOOST_TEST(fx.tcp_state() == TcpState::time_wait);
    BOOST_TEST(fx.t->check() == "");
    const Nanos deadline = t0 + 140 * kSecond;
    for (Nanos at : {t0 + 40 * kSecond, t0 + 120 * kSecond, deadline - 1}) {
        fx.t->advance(at, fx.obs);
        BOOST_TEST(fx.obs.ev.empty());
        BOOST_TEST(fx.t->check() == "");
    }
    fx.t->advance(deadline + 1000 * kSecond, fx.obs);
    BOOST_REQUIRE(fx.obs.ev.size() == 1u);
    BOOST_TEST(fx.obs.ev[0].when == deadline);
    BOOST_TEST((fx.obs.ev[0].why == ct::EndReason::timeout));
    BOOST_TEST(fx.t->size() == 0u);
    BOOST_TEST(fx.t->check() == "");
}

BOOST_AUTO_TEST_CASE(slot_and_tcp_record_sizes_are_as_documented) {
    BOOST_TEST(sizeof(ct::detail::Slot) == 96u);
    BOOST_TEST(alignof(ct::detail::Slot) == 32u);
    BOOST_TEST(sizeof(ct::TcpTrack) == 56u);
}

// Timer elements carry no id: entries due at the same instant must still
// end in id order when a newer entry sits in a lower slot (here the slot of
// a connection that a RST closed).
BOOST_AUTO_TEST_CASE(entries_due_together_end_in_id_order_whatever_their_slots) {
    Fx fx;
    fx.c(tf::syn, 1000, 0);                           // id 1, slot 0
    const auto b = fx.feed(query(5001));              // id 2, slot 1
    BOOST_REQUIRE(fx.c(tf::rst, 1001, 0).entry != ct::kNoEntry);  // id 1 closed: slot 0 free
    fx.now += kSecond;
    const auto c = fx.feed(query(5002));              // id 3, reuses slot 0
    BOOST_TEST(c.entry < b.entry);
    fx.feed(query(5001));                             // id 2 refreshed: due with id 3
    BOOST_TEST(fx.t->get(b.entry).deadline == fx.t->get(c.entry).deadline);
    fx.t->advance(fx.now + 1000 * kSecond, fx.obs);
    BOOST_REQUIRE(fx.obs.ev.size() == 3u);            // the RST's record, then the two timeouts
    BOOST_TEST(fx.obs.ev[1].f.id == 2u);
    BOOST_TEST(fx.obs.ev[2].f.id == 3u);
    BOOST_TEST(fx.obs.ev[1].when == fx.obs.ev[2].when);
    BOOST_TEST(fx.t->check() == "");
}
