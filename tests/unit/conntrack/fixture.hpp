// Hand-made packets and a small driver for the conntrack tests: no decoder.
#pragma once

#include <optional>
#include <ostream>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/conntrack/table.hpp"
#include "fwsim/net.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/rules/eval_context.hpp"
#include "fwsim/tuple.hpp"

namespace fwsim {
// Printable enums for BOOST_TEST messages.
inline std::ostream& operator<<(std::ostream& o, TcpState s) { return o << to_string(s); }
inline std::ostream& operator<<(std::ostream& o, CtState s) { return o << to_string(s); }
inline std::ostream& operator<<(std::ostream& o, CtDir s) { return o << to_string(s); }
namespace ct {
inline std::ostream& operator<<(std::ostream& o, EndReason s) { return o << to_string(s); }
}  // namespace ct
}  // namespace fwsim

namespace fwsim::test {

namespace tf = tcpflag;
namespace cs = rules::ctstatus;

inline IpAddr ip(const char* s, Family* f = nullptr) {
    Family fam = Family::none;
    auto a = parse_addr(s, &fam);
    if (f) *f = fam;
    return a.value_or(IpAddr{});
}

inline void set_l3(Packet& p, const char* src, const char* dst, uint8_t l4, uint32_t l4_len) {
    Family f;
    p.status = DecodeStatus::ok;
    p.src = ip(src, &f);
    p.dst = ip(dst);
    p.family = f;
    p.l4proto = l4;
    p.has_l4 = true;
    p.ip_hdr_len = f == Family::ipv4 ? 20 : 40;
    p.ip_len = p.ip_hdr_len + l4_len;
    p.l4_len = l4_len;
}

struct TcpOpts {
    int8_t wscale = -1;
    bool sack_perm = false;
    uint32_t sack_right = 0;  // 0: no SACK blocks
};

inline Packet tcp_pkt(const char* src, uint16_t sp, const char* dst, uint16_t dp, uint8_t flags,
                      uint32_t seq, uint32_t ack, uint32_t len = 0, uint16_t win = 65535,
                      TcpOpts o = {}) {
    Packet p;
    const bool has_opts = o.wscale >= 0 || o.sack_perm || o.sack_right;
    const uint8_t doff = has_opts ? 32 : 20;
    set_l3(p, src, dst, proto::tcp, doff + len);
    p.sport = sp;
    p.dport = dp;
    p.payload_len = len;
    p.tcp.seq = seq;
    p.tcp.ack = ack;
    p.tcp.window = win;
    p.tcp.flags = flags;
    p.tcp.doff = doff;
    p.tcp.wscale = o.wscale;
    p.tcp.sack_perm = o.sack_perm;
    p.tcp.has_sack = o.sack_right != 0;
    p.tcp.sack_max_right = o.sack_right;
    return p;
}

inline Packet udp_pkt(const char* src, uint16_t sp, const char* dst, uint16_t dp,
                      uint32_t len = 10, uint8_t l4 = proto::udp) {
    Packet p;
    set_l3(p, src, dst, l4, 8 + len);
    p.sport = sp;
    p.dport = dp;
    p.payload_len = len;
    return p;
}

inline Packet icmp_pkt(const char* src, const char* dst, uint8_t type, uint8_t code = 0,
                       uint16_t id = 0) {
    Packet p;
    Family f;
    ip(src, &f);
    set_l3(p, src, dst, f == Family::ipv4 ? proto::icmp : proto::icmpv6, 8);
    p.icmp_type = type;
    p.icmp_code = code;
    p.icmp_id = id;
    return p;
}

// An ICMP error from `src` to `dst` quoting a packet isrc:isp -> idst:idp.
inline Packet icmp_err(const char* src, const char* dst, uint8_t type, uint8_t code, uint8_t l4,
                       const char* isrc, uint16_t isp, const char* idst, uint16_t idp) {
    Packet p = icmp_pkt(src, dst, type, code);
    p.ip_len += 28;
    p.inner.present = true;
    p.inner.has_ports = true;
    p.inner.family = p.family;
    p.inner.l4proto = l4;
    p.inner.src = ip(isrc);
    p.inner.dst = ip(idst);
    p.inner.sport = isp;
    p.inner.dport = idp;
    return p;
}

inline Packet raw_pkt(const char* src, const char* dst, uint8_t l4, uint32_t len = 20) {
    Packet p;
    set_l3(p, src, dst, l4, len);
    return p;
}

struct Recorder final : ct::Observer {
    struct Event {
        ct::FlowInfo f;
        ct::EndReason why;
        Nanos when;
    };
    std::vector<Event> ev;
    void on_flow_end(const ct::FlowInfo& f, ct::EndReason why, Nanos when) override {
        ev.push_back({f, why, when});
    }
};

inline constexpr const char* C = "10.0.0.1";
inline constexpr const char* S = "192.0.2.1";
inline constexpr uint16_t CP = 40000, SP = 80;

// Drives one table like the engine: advance, in, confirm what is new.
struct Fx {
    Config cfg;
    Recorder obs;
    std::optional<ct::Table> t;
    Nanos now = 1000 * kSecond;
    bool auto_confirm = true;
    bool prepare = true;  // as Engine::prepare(): packets carry their tuple's hash (ct_key)

    explicit Fx(Config c = {}, uint32_t htable = ct::kDefaultHtableSize) : cfg(c) {
        t.emplace(cfg, htable);
    }

    ct::Result feed(const Packet& p, bool checksum_ok = true) {
        t->advance(now, obs);
        Packet q = p;
        if (prepare) {
            Tuple x;
            q.prep.done = true;
            if (tuple_of(q, &x)) q.prep.ct_key = hash(x);
        }
        ct::Result r = t->in(q, now, checksum_ok, obs);
        if (r.unconfirmed && auto_confirm) t->confirm(r.entry, 7);
        return r;
    }
    // client -> server / server -> client on the default TCP connection
    ct::Result c(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len = 0,
                 uint16_t win = 65535, TcpOpts o = {}) {
        return feed(tcp_pkt(C, CP, S, SP, flags, seq, ack, len, win, o));
    }
    ct::Result s(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len = 0,
                 uint16_t win = 65535, TcpOpts o = {}) {
        return feed(tcp_pkt(S, SP, C, CP, flags, seq, ack, len, win, o));
    }
    // client ISN 1000, server ISN 5000: next seqs are 1001 / 5001.
    void handshake() {
        c(tf::syn, 1000, 0);
        s(tf::syn | tf::ack, 5000, 1001);
        c(tf::ack, 1001, 5001);
    }
    Tuple tcp_tuple() const {
        Tuple x;
        tuple_of(tcp_pkt(C, CP, S, SP, tf::ack, 0, 0), &x);
        return x;
    }
    ct::EntryId tcp_entry() const { return t->find(tcp_tuple()); }
    TcpState tcp_state() const {
        const ct::EntryId e = tcp_entry();
        return e == ct::kNoEntry ? TcpState::none : t->get(e).tcp.state;
    }
    // Seconds left on an entry (kernel's nf_ct_expires()/HZ, exact here).
    int64_t left(ct::EntryId e) const { return (t->get(e).deadline - now) / kSecond; }
    int64_t tcp_left() const { return left(tcp_entry()); }
};

}  // namespace fwsim::test
