// Every reachable TCP state x {SYN, SYN/ACK, FIN, ACK, RST, none} x both
// directions, with tcp.be_liberal=1 so that window tracking does not get in
// the way: what is left is tcp_conntracks[][][] plus the special cases of
// nf_conntrack_tcp_packet() (ignore, reopen, RST kills an unreplied entry).
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace fwsim;
using namespace fwsim::test;

namespace {

enum class Out { state, ignored, invalid, reopen, killed };
struct Want {
    Out out;
    TcpState st = TcpState::none;  // for Out::state
};
Want to(TcpState s) { return {Out::state, s}; }
const Want IG{Out::ignored}, IV{Out::invalid}, RO{Out::reopen}, KL{Out::killed};

using T = TcpState;
constexpr TcpState kStates[9] = {T::syn_sent, T::syn_recv, T::established, T::fin_wait,
                                 T::close_wait, T::last_ack, T::time_wait, T::close,
                                 T::syn_sent2};

struct Seqs {
    uint32_t c = 1001, s = 5000;  // next sequence number of client / server
};

// Brings the default connection into `st`.
Seqs reach(Fx& fx, TcpState st) {
    Seqs q;
    fx.c(tf::syn, 1000, 0);
    if (st == T::syn_sent) return q;
    if (st == T::syn_sent2) {
        fx.s(tf::syn, 5000, 0);
        q.s = 5001;
        return q;
    }
    fx.s(tf::syn | tf::ack, 5000, 1001);
    q.s = 5001;
    if (st == T::syn_recv) return q;
    fx.c(tf::ack, 1001, 5001);
    if (st == T::established) return q;
    if (st == T::close) {
        fx.c(tf::rst, 1001, 0);
        return q;
    }
    fx.c(tf::fin | tf::ack, 1001, 5001);
    q.c = 1002;
    if (st == T::fin_wait) return q;
    fx.s(tf::ack, 5001, 1002);
    if (st == T::close_wait) return q;
    fx.s(tf::fin | tf::ack, 5001, 1002);
    q.s = 5002;
    if (st == T::last_ack) return q;
    fx.c(tf::ack, 1002, 5002);
    return q;  // time_wait
}

enum class Kind { syn, synack, fin, ack, rst, none };

Packet probe(Kind k, CtDir d, const Seqs& q) {
    const bool orig = d == CtDir::original;
    const char* src = orig ? C : S;
    const char* dst = orig ? S : C;
    const uint16_t sp = orig ? CP : SP, dp = orig ? SP : CP;
    const uint32_t seq = orig ? q.c : q.s, ack = orig ? q.s : q.c;
    switch (k) {
        case Kind::syn: return tcp_pkt(src, sp, dst, dp, tf::syn, orig ? 90000 : 70000, 0);
        case Kind::synack:
            return tcp_pkt(src, sp, dst, dp, tf::syn | tf::ack, orig ? 1000 : 5000, ack);
        case Kind::fin: return tcp_pkt(src, sp, dst, dp, tf::fin | tf::ack, seq, ack);
        case Kind::ack: return tcp_pkt(src, sp, dst, dp, tf::ack, seq, ack);
        case Kind::rst: return tcp_pkt(src, sp, dst, dp, tf::rst, seq, 0);
        case Kind::none: return tcp_pkt(src, sp, dst, dp, 0, seq, ack);
    }
    return {};
}

void check_row(Kind k, CtDir d, const Want (&want)[9]) {
    for (int i = 0; i < 9; ++i) {
        Config cfg;
        cfg.tcp_be_liberal = 1;
        Fx fx(cfg);
        const Seqs q = reach(fx, kStates[i]);
        BOOST_TEST_REQUIRE(fx.tcp_state() == kStates[i]);
        const ct::EntryId before = fx.tcp_entry();
        const uint64_t id_before = fx.t->get(before).id;
        const ct::Result r = fx.feed(probe(k, d, q));
        BOOST_TEST_CONTEXT("from " << kStates[i]) {
            switch (want[i].out) {
                case Out::state:
                    BOOST_TEST(!r.ignored);
                    BOOST_TEST(r.state != CtState::invalid);
                    BOOST_TEST(r.tcp_state == want[i].st);
                    BOOST_TEST(fx.t->get(r.entry).id == id_before);
                    BOOST_TEST(fx.obs.ev.empty());
                    break;
                case Out::ignored:
                    BOOST_TEST(r.ignored);
                    BOOST_TEST(r.tcp_state == kStates[i]);
                    break;
                case Out::invalid:
                    BOOST_TEST(r.state == CtState::invalid);
                    BOOST_TEST(fx.tcp_state() == kStates[i]);
                    break;
                case Out::reopen:
                    BOOST_TEST(r.state == CtState::new_);
                    BOOST_TEST(r.tcp_state == TcpState::syn_sent);
                    BOOST_TEST(fx.t->get(r.entry).id == id_before + 1);
                    BOOST_TEST(fx.obs.ev.size() == 1u);
                    break;
                case Out::killed:
                    BOOST_TEST(r.tcp_state == TcpState::close);
                    BOOST_TEST(fx.t->size() == 0u);
                    BOOST_TEST(fx.obs.ev.size() == 1u);
                    break;
            }
        }
    }
}

const CtDir O = CtDir::original, R = CtDir::reply;

}  // namespace

//                                  sSS          sSR          sES          sFW          sCW          sLA          sTW          sCL          sS2
BOOST_AUTO_TEST_CASE(transitions_syn_original) {
    check_row(Kind::syn, O, {to(T::syn_sent), IG, IG, IG, IG, IG, RO, RO, to(T::syn_sent2)});
}
BOOST_AUTO_TEST_CASE(transitions_syn_reply) {
    check_row(Kind::syn, R, {to(T::syn_sent2), IV, IV, IV, IV, IV, RO, IV, to(T::syn_sent2)});
}
BOOST_AUTO_TEST_CASE(transitions_syn_ack_original) {
    check_row(Kind::synack, O, {IV, to(T::syn_recv), IV, IV, IV, IV, IV, IV, to(T::syn_recv)});
}
BOOST_AUTO_TEST_CASE(transitions_syn_ack_reply) {
    check_row(Kind::synack, R, {to(T::syn_recv), IG, IG, IG, IG, IG, IG, IG, to(T::syn_recv)});
}
BOOST_AUTO_TEST_CASE(transitions_fin_original) {
    check_row(Kind::fin, O,
              {IV, to(T::fin_wait), to(T::fin_wait), to(T::last_ack), to(T::last_ack),
               to(T::last_ack), to(T::time_wait), to(T::close), IV});
}
BOOST_AUTO_TEST_CASE(transitions_fin_reply) {
    check_row(Kind::fin, R,
              {IV, to(T::fin_wait), to(T::fin_wait), to(T::last_ack), to(T::last_ack),
               to(T::last_ack), to(T::time_wait), to(T::close), IV});
}
BOOST_AUTO_TEST_CASE(transitions_ack_original) {
    check_row(Kind::ack, O,
              {IV, to(T::established), to(T::established), to(T::close_wait),
               to(T::close_wait), to(T::time_wait), to(T::time_wait), to(T::close), IV});
}
BOOST_AUTO_TEST_CASE(transitions_ack_reply) {
    check_row(Kind::ack, R,
              {IG, to(T::syn_recv), to(T::established), to(T::close_wait), to(T::close_wait),
               to(T::time_wait), to(T::time_wait), to(T::close), IG});
}
BOOST_AUTO_TEST_CASE(transitions_rst_original) {
    check_row(Kind::rst, O,
              {KL, to(T::close), to(T::close), to(T::close), to(T::close), to(T::close),
               to(T::close), to(T::close), to(T::close)});
}
BOOST_AUTO_TEST_CASE(transitions_rst_reply) {
    check_row(Kind::rst, R,
              {KL, to(T::close), to(T::close), to(T::close), to(T::close), to(T::close),
               to(T::close), to(T::close), to(T::close)});
}
BOOST_AUTO_TEST_CASE(transitions_no_flags_original) {
    check_row(Kind::none, O, {IV, IV, IV, IV, IV, IV, IV, IV, IV});
}
BOOST_AUTO_TEST_CASE(transitions_no_flags_reply) {
    check_row(Kind::none, R, {IV, IV, IV, IV, IV, IV, IV, IV, IV});
}
