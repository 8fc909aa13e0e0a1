// Micro-benchmarks of ct::Table: lookup of existing tuples, the per-packet
// refresh of an existing connection, insert + confirm + expiry churn, and the
// memory per tracked connection (RSS delta over a filled table).
//
//   fwsim-micro [--benchmark_filter=...]
//
// Traffic is IPv4 like the fwsim-gen captures: 60% TCP (SYN), 30% UDP, 10%
// ICMP echo; lookups and refreshes visit connections in a pseudo-random order
// so that the table does not sit in the cache.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/conntrack/table.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/tuple.hpp"

namespace {

using namespace fwsim;

struct NullObserver final : ct::Observer {
    uint64_t ended = 0;
    void on_flow_end(const ct::FlowInfo&, ct::EndReason, Nanos) override { ++ended; }
};

// Connection i: client 10.x.y.z:port -> server 203.0.113.(i % 200):443/53.
Packet packet_of(uint32_t i, bool reply = false) {
    Packet p;
    p.status = DecodeStatus::ok;
    p.family = Family::ipv4;
    p.has_l4 = true;
    const uint32_t kind = (i * 2654435761u >> 8) % 10;  // 0-5 tcp, 6-8 udp, 9 icmp
    IpAddr client = IpAddr::from_v4(0x0a000000u | (i >> 4));
    IpAddr server = IpAddr::from_v4(0xcb007100u | (i % 200));
    const uint16_t cport = uint16_t(10000 + (i & 15) * 3000 + (i % 2999));
    p.src = reply ? server : client;
    p.dst = reply ? client : server;
    if (kind < 6) {
        p.l4proto = proto::tcp;
        p.sport = reply ? 443 : cport;
        p.dport = reply ? cport : 443;
        p.tcp.flags = reply ? (tcpflag::syn | tcpflag::ack) : tcpflag::syn;
        p.tcp.seq = i * 7919u;
        p.tcp.ack = reply ? i * 7919u + 1 : 0;
        p.tcp.window = 64240;
        p.tcp.doff = 20;
        p.ip_len = 40;
        p.l4_len = 20;
    } else if (kind < 9) {
        p.l4proto = proto::udp;
        p.sport = reply ? 53 : cport;
        p.dport = reply ? cport : 53;
        p.ip_len = 60;
        p.l4_len = 40;
        p.payload_len = 32;
    } else {
        p.l4proto = proto::icmp;
        p.icmp_type = reply ? 0 : 8;
        p.icmp_id = uint16_t(i);
        p.ip_len = 84;
        p.l4_len = 64;
    }
    p.ip_hdr_len = 20;
    return p;
}

Config config_for(uint64_t n) {
    Config c;
    c.ct_max = n * 2;
    c.ct_checksum = 0;
    return c;
}

// A table holding n confirmed connections (their first packet only).
std::unique_ptr<ct::Table> filled(uint64_t n, Nanos now) {
    auto t = std::make_unique<ct::Table>(config_for(n));
    NullObserver obs;
    for (uint32_t i = 0; i < n; ++i) {
        const ct::Result r = t->in(packet_of(i), now, true, obs);
        if (r.unconfirmed) t->confirm(r.entry, 0);
    }
    return t;
}

std::vector<uint32_t> shuffled(uint32_t n) {
    std::vector<uint32_t> v(n);
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < n; ++i) v[i] = i;
    for (uint32_t i = n; i > 1; --i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        std::swap(v[i - 1], v[x % i]);
    }
    return v;
}

void BM_find(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    const Nanos now = kSecond;
    auto t = filled(n, now);
    std::vector<Tuple> keys;
    for (uint32_t i : shuffled(n)) {
        Tuple k;
        tuple_of(packet_of(i, (i & 1) != 0), &k);  // half of them by the reply tuple
        keys.push_back(k);
    }
    size_t i = 0, found = 0;
    for (auto _ : state) {
        found += t->find(keys[i]) != ct::kNoEntry;
        if (++i == keys.size()) i = 0;
    }
    benchmark::DoNotOptimize(found);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_find)->Arg(10000)->Arg(130000)->Arg(1000000);

// The same lookups with Table::prefetch() a few keys ahead, as the engine
// does: how much of a lookup's cache misses the look-ahead hides.
void BM_find_prefetched(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    const Nanos now = kSecond;
    auto t = filled(n, now);
    std::vector<Tuple> keys;
    std::vector<uint64_t> hashes;
    for (uint32_t i : shuffled(n)) {
        Tuple k;
        tuple_of(packet_of(i, (i & 1) != 0), &k);
        keys.push_back(k);
        hashes.push_back(hash(k));
    }
    size_t i = 0, found = 0;
    const size_t m = keys.size();
    for (auto _ : state) {
        t->prefetch_bucket(hashes[(i + 8) % m]);
        t->prefetch_entry(hashes[(i + 4) % m]);
        found += t->find(keys[i]) != ct::kNoEntry;
        if (++i == m) i = 0;
    }
    benchmark::DoNotOptimize(found);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_find_prefetched)->Arg(10000)->Arg(130000)->Arg(1000000);

// in() on existing connections: lookup, tracker, counters, timeout.
void BM_refresh(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    Nanos now = kSecond;
    auto t = filled(n, now);
    std::vector<Packet> pkts;
    for (uint32_t i : shuffled(n)) pkts.push_back(packet_of(i, true));  // replies: SYN/ACK, answers
    NullObserver obs;
    size_t i = 0;
    for (auto _ : state) {
        now += 1000;
        const ct::Result r = t->in(pkts[i], now, true, obs);
        benchmark::DoNotOptimize(r);
        if (++i == pkts.size()) i = 0;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_refresh)->Arg(10000)->Arg(130000)->Arg(1000000);

// New connections at a steady rate with n live: insert + confirm, and the
// expiry of old ones (UDP, 30 s unreplied timeout) through advance().
void BM_insert_expire(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    ct::Table t(config_for(n));
    NullObserver obs;
    const Nanos step = 30 * kSecond / n;  // n live at any time
    Nanos now = kSecond;
    uint32_t i = 0;
    for (uint32_t k = 0; k < n; ++k, ++i) {  // warm up to steady state
        now += step;
        t.advance(now, obs);
        Packet p = packet_of(i * 10 + 6);
        const ct::Result r = t.in(p, now, true, obs);
        if (r.unconfirmed) t.confirm(r.entry, 0);
    }
    for (auto _ : state) {
        now += step;
        t.advance(now, obs);
        const ct::Result r = t.in(packet_of(i++ * 10 + 6), now, true, obs);
        if (r.unconfirmed) t.confirm(r.entry, 0);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["live"] = double(t.size());
}
BENCHMARK(BM_insert_expire)->Arg(10000)->Arg(130000);

long rss_bytes() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * 4096;
}

// Resident bytes per connection of a table holding 1M (the table only).
void BM_bytes_per_conn(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    double per = 0;
    for (auto _ : state) {
        const long before = rss_bytes();
        auto t = filled(n, kSecond);
        const long after = rss_bytes();
        per = double(after - before) / double(t->size());
        benchmark::DoNotOptimize(t);
    }
    state.counters["bytes_per_conn"] = per;
}
BENCHMARK(BM_bytes_per_conn)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond);

// The same with churn: after the fill, n/2 more TCP connections are opened
// and reset before any reply (nf_ct_kill_acct()), as a SYN flood answered by
// RSTs would: their timer elements go stale, which the table must not keep.
void BM_bytes_per_conn_churn(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    double per = 0;
    for (auto _ : state) {
        const long before = rss_bytes();
        auto t = filled(n, kSecond);
        NullObserver obs;
        for (uint32_t i = n, opened = 0; opened < n / 2; ++i) {
            Packet p = packet_of(i);
            if (p.l4proto != proto::tcp) continue;
            ++opened;
            const ct::Result r = t->in(p, 2 * kSecond, true, obs);
            if (r.unconfirmed) t->confirm(r.entry, 0);
            p.tcp.flags = tcpflag::rst;
            p.tcp.seq += 1;
            t->in(p, 2 * kSecond, true, obs);
        }
        const long after = rss_bytes();
        per = double(after - before) / double(t->size());
        benchmark::DoNotOptimize(t);
    }
    state.counters["bytes_per_conn"] = per;
}
BENCHMARK(BM_bytes_per_conn_churn)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
