// The record writers of Outputs: whole verdict, flow and stats lines, as
// docs/outputs.md specifies them.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "fwsim/config.hpp"
#include "fwsim/engine/records.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/rules/ruleset.hpp"
#include "fwsim/topology/topology.hpp"
#include "io/load/ruleset_loader.hpp"
#include "io/output/json_line.hpp"
#include "io/output/sinks.hpp"

using namespace fwsim;

namespace {

constexpr const char* kRules = R"(table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" log prefix "fwd \"new\" " accept
	}
}
)";

struct Sinks {
    Config cfg;
    Topology topo = Topology::home_router();
    rules::Ruleset rules;
    std::filesystem::path dir;

    Sinks() {
        const auto names = topo.names();
        rules = load_ruleset_text("test.nft", kRules, names);
        dir = std::filesystem::temp_directory_path() / ("fwsim-output-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
    }
    ~Sinks() { std::filesystem::remove_all(dir); }

    OutputOptions options() const {
        OutputOptions o;
        o.verdicts = (dir / "v.jsonl").string();
        o.flows = (dir / "f.jsonl").string();
        o.stats = (dir / "s.jsonl").string();
        return o;
    }
    static std::string read(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

Packet tcp_packet() {
    Packet p;
    p.index = 1;
    p.ts = 1'700'000'000'000'064'000;
    p.wire_len = 62;
    p.status = DecodeStatus::ok;
    p.family = Family::ipv4;
    p.l4proto = proto::tcp;
    p.has_l4 = true;
    p.src = IpAddr::from_v4(0xc0a851dfu);  // 192.168.81.223
    p.dst = IpAddr::from_v4(0x1b80e319u);  // 27.128.227.25
    p.sport = 36769;
    p.dport = 443;
    p.tcp.flags = tcpflag::syn;
    return p;
}

PacketRecord forwarded(const Packet& p) {
    PacketRecord r;
    r.pkt = &p;
    r.iif = 0;
    r.oif = 1;
    r.has_hook = true;
    r.hook = Hook::forward;
    r.has_ct = true;
    r.ct_id = 1;
    r.ct_state = CtState::new_;
    r.has_tcp_state = true;
    r.tcp_state = TcpState::syn_sent;
    r.rule = 1;
    r.nat.src = true;
    r.nat.new_src = IpAddr::from_v4(0xcb007101u);
    r.nat.sport = true;
    r.nat.new_sport = 1024;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(verdict_record_of_a_masqueraded_syn_has_every_field_in_order) {
    Sinks s;
    const auto o = s.options();
    {
        Outputs out(o, s.cfg, s.rules, s.topo);
        const Packet p = tcp_packet();
        PacketRecord r = forwarded(p);
        r.log_count = 1;
        r.logs[0] = 0;
        out.on_packet(r);
        out.commit(RunInfo{}, rules::RuntimeState(s.rules));
    }
    BOOST_TEST(Sinks::read(o.verdicts) ==
               "{\"index\":1,\"ts\":1700000000.000064,\"len\":62,\"iif\":\"lan0\",\"oif\":\"wan0\",\"hook\":\"forward\","
               "\"l3\":\"ipv4\",\"proto\":\"tcp\",\"src\":\"192.168.81.223\",\"sport\":36769,\"dst\":\"27.128.227.25\","
               "\"dport\":443,\"tcp_flags\":\"S\",\"ct\":{\"id\":1,\"dir\":\"original\",\"state\":\"new\","
               "\"tcp_state\":\"syn_sent\"},\"verdict\":\"accept\",\"rule\":{\"file\":\"test.nft\",\"line\":5,"
               "\"table\":\"inet filter\",\"chain\":\"forward\"},\"nat\":{\"src\":\"203.0.113.1\",\"sport\":1024},"
               "\"log\":[\"fwd \\\"new\\\" \"]}\n");
}

BOOST_AUTO_TEST_CASE(verdict_record_of_a_non_ip_frame_has_its_ethertype_in_hex) {
    Sinks s;
    const auto o = s.options();
    {
        Outputs out(o, s.cfg, s.rules, s.topo);
        Packet p;
        p.index = 7;
        p.ts = 5 * kSecond;
        p.wire_len = 42;
        p.status = DecodeStatus::not_ip;
        p.ethertype = 0x0806;
        PacketRecord r;
        r.pkt = &p;
        r.verdict = Verdict::ignored;
        r.reason = Reason::not_ip;
        r.iif = 0;
        out.on_packet(r);
        p.ethertype = 0xabcd;
        out.on_packet(r);
        out.commit(RunInfo{}, rules::RuntimeState(s.rules));
    }
    BOOST_TEST(Sinks::read(o.verdicts) ==
               "{\"index\":7,\"ts\":5.000000,\"len\":42,\"iif\":\"lan0\",\"ethertype\":\"0x0806\","
               "\"verdict\":\"ignored\",\"reason\":\"not_ip\"}\n"
               "{\"index\":7,\"ts\":5.000000,\"len\":42,\"iif\":\"lan0\",\"ethertype\":\"0xabcd\","
               "\"verdict\":\"ignored\",\"reason\":\"not_ip\"}\n");
}

BOOST_AUTO_TEST_CASE(verdict_record_of_an_icmp_echo_fragment_and_policy_drop) {
    Sinks s;
    auto o = s.options();
    o.ts_digits = 9;
    {
        Outputs out(o, s.cfg, s.rules, s.topo);
        Packet p;
        p.index = 3;
        p.ts = 2 * kSecond + 5;
        p.wire_len = 98;
        p.family = Family::ipv6;
        p.l4proto = proto::icmpv6;
        p.has_l4 = true;
        p.src = IpAddr{{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};
        p.dst = IpAddr{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
        p.icmp_type = 128;
        p.icmp_id = 77;
        p.is_fragment = true;
        p.more_frags = true;
        p.frag_id = 99;
        PacketRecord r;
        r.pkt = &p;
        r.verdict = Verdict::drop;
        r.reason = Reason::policy;
        r.chain = 0;
        r.iif = 0;
        r.datagram = 4;
        out.on_packet(r);
        out.commit(RunInfo{}, rules::RuntimeState(s.rules));
    }
    BOOST_TEST(Sinks::read(o.verdicts) ==
               "{\"index\":3,\"ts\":2.000000005,\"len\":98,\"iif\":\"lan0\",\"l3\":\"ipv6\",\"proto\":\"icmpv6\","
               "\"src\":\"fd00::2\",\"dst\":\"2001:db8::1\",\"icmp_type\":128,\"icmp_code\":0,\"icmp_id\":77,"
               "\"frag\":{\"id\":99,\"offset\":0,\"more\":true},\"datagram\":4,\"verdict\":\"drop\","
               "\"reason\":\"policy\",\"chain\":" +
                   [&] {
                       std::string c;
                       append_json_string(c, s.rules.chain_label(0));
                       return c;
                   }() +
                   "}\n");
}

BOOST_AUTO_TEST_CASE(flow_record_has_both_tuples_counters_and_end) {
    Sinks s;
    const auto o = s.options();
    {
        Outputs out(o, s.cfg, s.rules, s.topo);
        FlowRecord f;
        f.id = 12;
        f.orig = {IpAddr::from_v4(0xc0a80002u), IpAddr::from_v4(0x08080808u), 5000, 53, Family::ipv4, proto::udp};
        f.reply = {IpAddr::from_v4(0x08080808u), IpAddr::from_v4(0xcb007101u), 53, 5000, Family::ipv4, proto::udp};
        f.first_ts = 10 * kSecond + 1000;
        f.last_ts = 11 * kSecond;
        f.orig_pkts = 1;
        f.orig_bytes = 60;
        f.reply_pkts = 1;
        f.reply_bytes = 120;
        f.mark = 5;
        f.end = FlowEnd::timeout;
        f.end_ts = 41 * kSecond;
        f.rule = 1;
        out.on_flow(f);
        FlowRecord icmp;
        icmp.orig = {IpAddr::from_v4(0xc0a80002u), IpAddr::from_v4(0x01010101u), 9, 8 << 8, Family::ipv4, proto::icmp};
        icmp.has_reply = false;
        icmp.verdict = Verdict::drop;
        icmp.reason = Reason::table_full;
        out.on_flow(icmp);
        out.commit(RunInfo{}, rules::RuntimeState(s.rules));
    }
    BOOST_TEST(Sinks::read(o.flows) ==
               "{\"id\":12,\"l3\":\"ipv4\",\"proto\":\"udp\",\"orig\":{\"src\":\"192.168.0.2\",\"sport\":5000,"
               "\"dst\":\"8.8.8.8\",\"dport\":53},\"reply\":{\"src\":\"8.8.8.8\",\"sport\":53,\"dst\":\"203.0.113.1\","
               "\"dport\":5000},\"first_ts\":10.000001,\"last_ts\":11.000000,\"orig_pkts\":1,\"orig_bytes\":60,"
               "\"reply_pkts\":1,\"reply_bytes\":120,\"verdict\":\"accept\",\"assured\":false,\"mark\":5,"
               "\"end\":\"timeout\",\"end_ts\":41.000000,\"rule\":{\"file\":\"test.nft\",\"line\":5}}\n"
               "{\"l3\":\"ipv4\",\"proto\":\"icmp\",\"orig\":{\"src\":\"192.168.0.2\",\"dst\":\"1.1.1.1\",\"type\":8,"
               "\"code\":0,\"id\":9},\"first_ts\":0.000000,\"last_ts\":0.000000,\"orig_pkts\":0,\"orig_bytes\":0,"
               "\"reply_pkts\":0,\"reply_bytes\":0,\"verdict\":\"drop\",\"reason\":\"table_full\",\"assured\":false,"
               "\"end\":\"end_of_capture\",\"end_ts\":0.000000}\n");
}

BOOST_AUTO_TEST_CASE(stats_record_lists_only_nonzero_protocols_and_states) {
    Sinks s;
    const auto o = s.options();
    {
        Outputs out(o, s.cfg, s.rules, s.topo);
        TableStats t;
        t.ts = 3 * kSecond;
        t.ct_entries = 5;
        t.ct_max = 262144;
        t.by_proto[0] = 4;  // tcp
        t.by_proto[3] = 1;  // icmp
        t.by_tcp_state[size_t(TcpState::established)] = 4;
        t.new_ = 6;
        t.expired = 1;
        out.on_stats(t);
        TableStats empty;
        out.on_stats(empty);
        out.commit(RunInfo{}, rules::RuntimeState(s.rules));
    }
    BOOST_TEST(Sinks::read(o.stats) ==
               "{\"ts\":3.000000,\"ct_entries\":5,\"ct_max\":262144,\"ct_by_proto\":{\"tcp\":4,\"icmp\":1},"
               "\"ct_by_tcp_state\":{\"established\":4},\"new\":6,\"destroyed\":0,\"expired\":1,\"early_drop\":0,"
               "\"insert_failed\":0,\"table_full_drops\":0,\"nat_bindings\":0,\"nat_port_exhausted\":0}\n"
               "{\"ts\":0.000000,\"ct_entries\":0,\"ct_max\":0,\"ct_by_proto\":{},\"ct_by_tcp_state\":{},\"new\":0,"
               "\"destroyed\":0,\"expired\":0,\"early_drop\":0,\"insert_failed\":0,\"table_full_drops\":0,"
               "\"nat_bindings\":0,\"nat_port_exhausted\":0}\n");
}
