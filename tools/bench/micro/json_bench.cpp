// Micro-benchmarks of the per-packet JSON output (issue 7: --verdicts at
// 1.5M packets/s or more): a whole verdict record and a flow record written
// through Outputs (as `fwsim replay --verdicts/--flows` does, file writes
// included), and the JsonLine formatters one by one.
//
//   fwsim-micro-json [--benchmark_filter=...] [--benchmark_repetitions=5]
//
// The records vary (addresses, ports, index, timestamps) over a table of 1024
// packets so that branches on value sizes are not trivially predicted. The
// output files go to $TMPDIR (default /tmp) and are deleted afterwards.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/engine/records.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/topology/topology.hpp"
#include "io/load/ruleset_loader.hpp"
#include "io/output/json_line.hpp"
#include "io/output/sinks.hpp"

namespace {

using namespace fwsim;

constexpr size_t kVariants = 1024;

uint32_t mix(uint32_t i) { return i * 2654435761u; }

std::string tmp_path(const char* name) {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/fwsim-micro-json-" + std::to_string(::getpid()) + "-" + name;
}

void remove_outputs(const std::string& path) {
    std::remove(path.c_str());
    std::remove((path + ".partial").c_str());
    std::remove((path + ".fwsim-tmp").c_str());
}

// A forwarded TCP packet from the LAN, masqueraded: the most common record of
// the benchmark captures (~430 bytes).
std::vector<Packet> lan_tcp_packets() {
    std::vector<Packet> v(kVariants);
    for (uint32_t i = 0; i < kVariants; ++i) {
        Packet& p = v[i];
        const uint32_t h = mix(i + 1);
        p.index = 1 + uint64_t(i) * 7919;
        p.ts = 1'700'000'000 * kSecond + Nanos(i) * 64'123'000;
        p.wire_len = 54 + h % 1400;
        p.status = DecodeStatus::ok;
        p.family = Family::ipv4;
        p.l4proto = proto::tcp;
        p.has_l4 = true;
        p.src = IpAddr::from_v4(0xc0a80000u | (h >> 16));
        p.dst = IpAddr::from_v4(h ^ 0x5a5a5a5au);
        p.sport = uint16_t(1024 + h % 64000);
        p.dport = (h & 1) ? 443 : 80;
        p.tcp.flags = (h & 2) ? tcpflag::ack : uint8_t(tcpflag::ack | tcpflag::psh);
    }
    return v;
}

PacketRecord lan_tcp_record(const Packet& p, uint32_t rule) {
    PacketRecord r;
    r.pkt = &p;
    r.verdict = Verdict::accept;
    r.iif = 0;
    r.oif = 1;
    r.has_hook = true;
    r.hook = Hook::forward;
    r.has_ct = true;
    r.ct_id = uint32_t(p.index / 3 + 1);
    r.ct_dir = CtDir::original;
    r.ct_state = CtState::established;
    r.has_tcp_state = true;
    r.tcp_state = TcpState::established;
    r.rule = rule;
    r.nat.src = true;
    r.nat.new_src = IpAddr::from_v4(0xcb007101u);  // 203.0.113.1
    return r;
}

struct Fixture {
    Config cfg;
    Topology topo = Topology::home_router();
    rules::Ruleset rules = load_builtin_ruleset(topo.names());
};

void BM_verdict_record(benchmark::State& state) {
    Fixture fx;
    const std::string path = tmp_path("verdicts.jsonl");
    const auto pkts = lan_tcp_packets();
    std::vector<PacketRecord> recs;
    for (const auto& p : pkts) recs.push_back(lan_tcp_record(p, 0));
    {
        OutputOptions opt;
        opt.verdicts = path;
        Outputs out(opt, fx.cfg, fx.rules, fx.topo);
        size_t i = 0;
        for (auto _ : state) {
            out.on_packet(recs[i]);
            i = (i + 1) % kVariants;
        }
        out.abort();
    }
    remove_outputs(path);
    state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_verdict_record)->Iterations(1'000'000);

void BM_flow_record(benchmark::State& state) {
    Fixture fx;
    const std::string path = tmp_path("flows.jsonl");
    std::vector<FlowRecord> flows(kVariants);
    for (uint32_t i = 0; i < kVariants; ++i) {
        const uint32_t h = mix(i + 7);
        FlowRecord& f = flows[i];
        f.id = 1000 + i;
        f.orig = {IpAddr::from_v4(0xc0a80000u | (h >> 16)), IpAddr::from_v4(h), uint16_t(1024 + h % 60000), 443,
                  Family::ipv4, proto::tcp};
        f.reply = {f.orig.dst, IpAddr::from_v4(0xcb007101u), 443, f.orig.sport, Family::ipv4, proto::tcp};
        f.first_ts = 1'700'000'000 * kSecond + Nanos(i) * 1'000'001'000;
        f.last_ts = f.first_ts + Nanos(h % 100'000) * 1000;
        f.orig_pkts = h % 200;
        f.orig_bytes = h % 200'000;
        f.reply_pkts = h % 300;
        f.reply_bytes = h % 3'000'000;
        f.has_tcp_state = true;
        f.tcp_state = TcpState::time_wait;
        f.assured = true;
        f.end = FlowEnd::closed;
        f.end_ts = f.last_ts + 120 * kSecond;
        f.rule = 0;
    }
    {
        OutputOptions opt;
        opt.flows = path;
        Outputs out(opt, fx.cfg, fx.rules, fx.topo);
        size_t i = 0;
        for (auto _ : state) {
            out.on_flow(flows[i]);
            i = (i + 1) % kVariants;
        }
        out.abort();
    }
    remove_outputs(path);
    state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_flow_record)->Iterations(1'000'000);

// The formatters alone, 16 fields a line, into a string that is cleared
// before it grows past the cache.
template <class Fn>
void run_fields(benchmark::State& state, Fn&& field) {
    std::string out;
    out.reserve(1 << 16);
    uint32_t i = 0;
    for (auto _ : state) {
        {
            JsonLine j(out);
            j.begin();
            for (int k = 0; k < 16; ++k, ++i) field(j, i);
            j.end().newline();
        }
        if (out.size() > (1 << 15)) out.clear();
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * 16);
}

void BM_field_addr_v4(benchmark::State& state) {
    std::vector<IpAddr> a(kVariants);
    for (uint32_t i = 0; i < kVariants; ++i) a[i] = IpAddr::from_v4(mix(i + 3));
    run_fields(state, [&](JsonLine& j, uint32_t i) { j.addr("src", Family::ipv4, a[i % kVariants]); });
}
BENCHMARK(BM_field_addr_v4);

void BM_field_addr_v6(benchmark::State& state) {
    std::vector<IpAddr> a(kVariants);
    for (uint32_t i = 0; i < kVariants; ++i) {
        a[i].b = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        const uint32_t h = mix(i + 5);
        a[i].b[12] = uint8_t(h >> 24);
        a[i].b[14] = uint8_t(h >> 8);
        a[i].b[15] = uint8_t(h);
    }
    run_fields(state, [&](JsonLine& j, uint32_t i) { j.addr("src", Family::ipv6, a[i % kVariants]); });
}
BENCHMARK(BM_field_addr_v6);

void BM_field_num(benchmark::State& state) {
    // Mostly small numbers (ports, lengths, indexes) with some large ones.
    std::vector<uint64_t> v(kVariants);
    for (uint32_t i = 0; i < kVariants; ++i) v[i] = mix(i + 9) >> (i % 29);
    run_fields(state, [&](JsonLine& j, uint32_t i) { j.num("sport", v[i % kVariants]); });
}
BENCHMARK(BM_field_num);

void BM_field_ts6(benchmark::State& state) {
    run_fields(state, [&](JsonLine& j, uint32_t i) {
        j.ts("ts", 1'700'000'000 * kSecond + Nanos(mix(i)) * 1000, 6);
    });
}
BENCHMARK(BM_field_ts6);

void BM_field_ts9(benchmark::State& state) {
    run_fields(state, [&](JsonLine& j, uint32_t i) { j.ts("ts", 1'700'000'000 * kSecond + Nanos(mix(i)), 9); });
}
BENCHMARK(BM_field_ts9);

void BM_field_raw_str(benchmark::State& state) {
    static constexpr std::string_view names[] = {"established", "new", "related", "invalid"};
    run_fields(state, [&](JsonLine& j, uint32_t i) { j.raw_str("state", names[i & 3]); });
}
BENCHMARK(BM_field_raw_str);

}  // namespace

BENCHMARK_MAIN();
