#include "cli/common.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <cstdio>
#include <memory>
#include <thread>

#include "fwsim/decode/decoder.hpp"
#include "fwsim/error.hpp"
#include "io/handoff.hpp"
#include "io/load/config_loader.hpp"
#include "io/load/ruleset_loader.hpp"
#include "io/load/topology_loader.hpp"
#include "io/pcap/pcap_reader.hpp"

namespace fwsim::cli {

void add_core_options(CLI::App& app, CoreOptions& o) {
    app.add_option("--rules,-r", o.rules, "nftables ruleset (default: the built-in rules/home.nft)");
    app.add_option("--topology,-t", o.topology,
                   "topology JSON (default: the built-in home router; see fwsim config --defaults)");
    app.add_option("--set", o.sets, "KEY=VALUE configuration (repeatable; keys: fwsim config --defaults)")
        ->take_all();
    app.add_option("--config", o.config_file, "configuration JSON {\"key\": value, ...}");
}

Core load_core(const CoreOptions& o) {
    Core c;
    if (o.topology.empty()) {
        c.topo = Topology::home_router();
        c.topology_label = "built-in home router";
    } else {
        c.topo = load_topology(o.topology, &c.cfg);
        c.topology_label = o.topology;
    }
    if (!o.config_file.empty()) load_config_file(o.config_file, c.cfg);
    for (const auto& s : o.sets) apply_set(s, c.cfg);
    const auto names = c.topo.names();
    if (o.rules.empty()) {
        c.rules = load_builtin_ruleset(names);
        c.rules_label = "built-in rules/home.nft";
    } else {
        c.rules = load_ruleset_file(o.rules, names);
        c.rules_label = o.rules;
    }
    return c;
}

bool stderr_is_terminal() { return isatty(2) == 1; }

namespace {

class Progress {
public:
    explicit Progress(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}
    void tick(uint64_t packets, uint64_t bytes, uint64_t total) {
        if (!on_) return;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(250)) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        std::fprintf(stderr, "\r%llu packets, %.2f Mpkt/s, %3.0f%% ", (unsigned long long)packets,
                     secs > 0 ? packets / secs / 1e6 : 0.0, total ? 100.0 * double(bytes) / double(total) : 0.0);
        shown_ = true;
    }
    ~Progress() {
        if (shown_) std::fprintf(stderr, "\r\033[K");
    }

private:
    bool on_, shown_ = false;
    std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace

void capture_format(const CaptureSource& capture, int* ts_digits, int* linktype) {
    PcapReader r(capture.path(), capture.name());
    *ts_digits = r.ts_digits();
    *linktype = r.linktype();
}

namespace {

// A run of records read and decoded ahead of the engine: the bytes live in
// one arena so that a batch is handed over (and recycled) whole.
struct Batch {
    std::vector<uint8_t> arena;
    std::vector<Packet> packets;
    std::vector<std::pair<size_t, size_t>> spans;  // offset, length into arena
    bool last = false;
    std::string error;
    uint64_t bytes_read = 0;  // file position after the batch (read on the reader thread)
};

constexpr size_t kBatchPackets = 2048;

// The capture record's fields; decode_frame() resets every other field.
void fill_packet(const RawRecord& rec, Packet& p) {
    p.index = rec.index;
    p.ts = rec.ts;
    p.wire_len = rec.wire_len;
    p.cap_len = uint32_t(rec.data.size());
    p.capture_if = rec.capture_if;
}

// Reads up to kBatchPackets records into b, decodes and prepares them.
void read_batch(PcapReader& reader, int dlt, const Engine& engine, Batch& b) {
    b.arena.clear();
    b.spans.clear();
    b.packets.resize(kBatchPackets);
    size_t n = 0;
    RawRecord rec;
    while (n < kBatchPackets && reader.next(rec)) {
        fill_packet(rec, b.packets[n]);
        b.spans.emplace_back(b.arena.size(), rec.data.size());
        b.arena.insert(b.arena.end(), rec.data.begin(), rec.data.end());
        ++n;
    }
    b.packets.resize(n);
    b.bytes_read = reader.bytes_read();
    for (size_t i = 0; i < n; ++i) {
        decode_frame(dlt, {b.arena.data() + b.spans[i].first, b.spans[i].second}, b.packets[i]);
        engine.prepare(b.packets[i]);
    }
    if (n < kBatchPackets) {
        b.last = true;
        b.error = reader.error();
    }
}

// Runs the engine over one decoded batch, in order, with the conntrack
// look-ahead (Engine::prefetch_bucket/prefetch_entry) a few packets ahead.
// False once stop_after is reached.
bool run_batch(const Batch& b, Engine& engine, uint64_t stop_after, const std::function<void(Nanos)>& before_packet,
               ReadResult& res) {
    const size_t n = b.packets.size();
    const Packet* pk = b.packets.data();
    constexpr size_t kAhead = 4;  // prefetch_bucket this far ahead, prefetch_entry half as far
    for (size_t j = 0; j < kAhead && j < n; ++j) engine.prefetch_bucket(pk[j].prep.ct_key);
    for (size_t i = 0; i < n; ++i) {
        if (i + kAhead < n) engine.prefetch_bucket(pk[i + kAhead].prep.ct_key);
        if (i + kAhead / 2 < n) engine.prefetch_entry(pk[i + kAhead / 2].prep.ct_key);
        if (before_packet) before_packet(pk[i].ts);
        engine.process(pk[i]);
        ++res.packets;
        if (stop_after && pk[i].index >= stop_after) return false;
    }
    return true;
}

// --threads >= 2: the reader thread reads and decodes, this thread runs the
// engine. The engine sees the same packets in the same order, so outputs are
// byte-identical to --threads 1.
ReadResult feed_pipelined(PcapReader& reader, Engine& engine, Progress& prog, bool progress,
                          const std::function<void(Nanos)>& before_packet) {
    const int dlt = reader.linktype();
    Handoff<Batch> q(4);
    std::thread producer([&] {
        for (;;) {
            auto b = q.take_free();
            if (!b) return;
            read_batch(reader, dlt, engine, *b);
            const bool last = b->last;
            q.give_full(std::move(b));
            if (last) return;
        }
    });
    ReadResult res;
    try {
        for (;;) {
            auto b = q.take_full();
            if (!b) break;
            run_batch(*b, engine, 0, before_packet, res);
            if (progress) prog.tick(res.packets, b->bytes_read, reader.file_size());
            const bool last = b->last;
            if (last) res.error = b->error;
            q.give_free(std::move(b));
            if (last) break;
        }
    } catch (...) {
        q.stop();
        producer.join();
        throw;
    }
    q.stop();
    producer.join();
    return res;
}

}  // namespace

ShardedResult feed_sharded(const CaptureSource& capture, std::span<Shard* const> shards, ShardMerger& merger,
                           const ShardKeys& keys, bool progress) {
    PcapReader reader(capture.path(), capture.name());
    const int dlt = reader.linktype();
    Progress prog(progress);
    const size_t n_shards = shards.size();

    // A ring of batches: the reader fills slot b % kSlots once the merge of
    // the batch that used it last is done; every shard runs every batch into
    // its own ShardOutput of the slot; the merge takes them in order.
    struct Slot {
        Batch batch;
        std::vector<ShardSlot> slots;          // each packet's time and the shard that walks it
        std::vector<ShardOutput> outs;   // one per shard
        std::vector<ShardOutput*> view;  // the same, for the merger
    };
    constexpr size_t kSlots = 4;
    std::vector<Slot> slots(kSlots);
    for (Slot& s : slots) {
        s.outs.resize(n_shards);
        for (ShardOutput& o : s.outs) s.view.push_back(&o);
    }
    std::mutex m;
    std::condition_variable cv;
    uint64_t produced = 0, merged = 0;
    std::vector<uint64_t> done(n_shards, 0);
    bool stop = false;
    std::exception_ptr failure;
    auto fail = [&](std::exception_ptr e) {
        std::lock_guard<std::mutex> g(m);
        if (!failure) failure = e;
        stop = true;
        cv.notify_all();
    };

    std::vector<std::thread> threads;
    threads.emplace_back([&] {  // the reader
        try {
            for (uint64_t b = 0;; ++b) {
                {
                    std::unique_lock<std::mutex> g(m);
                    cv.wait(g, [&] { return stop || produced - merged < kSlots; });
                    if (stop) return;
                }
                Slot& s = slots[b % kSlots];
                read_batch(reader, dlt, shards[0]->engine(), s.batch);
                s.slots.resize(s.batch.packets.size());
                for (size_t i = 0; i < s.slots.size(); ++i) {
                    const Packet& p = s.batch.packets[i];
                    s.slots[i] = {p.ts, uint16_t(keys.of(p) % n_shards), p.ok() && p.is_fragment};
                }
                const bool last = s.batch.last;
                {
                    std::lock_guard<std::mutex> g(m);
                    ++produced;
                }
                cv.notify_all();
                if (last) return;
            }
        } catch (...) {
            fail(std::current_exception());
        }
    });
    for (size_t k = 0; k < n_shards; ++k) {
        threads.emplace_back([&, k] {
            try {
                for (uint64_t b = 0;; ++b) {
                    {
                        std::unique_lock<std::mutex> g(m);
                        cv.wait(g, [&] { return stop || done[k] < produced; });
                        if (stop) return;
                    }
                    Slot& s = slots[b % kSlots];
                    s.outs[k].clear();
                    shards[k]->run(s.batch.packets, s.slots, uint16_t(k), s.outs[k]);
                    // Read before handing the slot on: once merged, the reader refills it.
                    const bool last = s.batch.last;
                    {
                        std::lock_guard<std::mutex> g(m);
                        ++done[k];
                    }
                    cv.notify_all();
                    if (last) return;
                }
            } catch (...) {
                fail(std::current_exception());
            }
        });
    }

    ShardedResult res;
    bool ended = false;  // the last batch was merged
    try {
        for (uint64_t b = 0; !ended; ++b) {
            {
                std::unique_lock<std::mutex> g(m);
                cv.wait(g, [&] {
                    return stop || std::all_of(done.begin(), done.end(), [&](uint64_t d) { return d > b; });
                });
                if (stop) break;
            }
            Slot& s = slots[b % kSlots];
            const bool ok = merger.merge(s.batch.packets, s.slots, s.view);
            res.read.packets += s.batch.packets.size();
            if (progress) prog.tick(res.read.packets, s.batch.bytes_read, reader.file_size());
            ended = s.batch.last;
            if (ended) res.read.error = s.batch.error;
            {
                std::lock_guard<std::mutex> g(m);
                ++merged;
                if (!ok) stop = true;
            }
            cv.notify_all();
            if (!ok) {
                res.merged = false;
                break;
            }
        }
    } catch (...) {
        fail(std::current_exception());
    }
    for (std::thread& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
    if (!res.merged) return res;
    // End of capture: each shard ends its flows on a thread of its own, in
    // chunks (a handoff of two per shard keeps memory bounded whatever the
    // number of open flows); the merger takes them in id order.
    std::vector<std::unique_ptr<Handoff<ShardOutput>>> ends;
    for (size_t k = 0; k < n_shards; ++k) ends.push_back(std::make_unique<Handoff<ShardOutput>>(2));
    threads.clear();
    for (size_t k = 0; k < n_shards; ++k) {
        threads.emplace_back([&, k] {
            Handoff<ShardOutput>& q = *ends[k];
            std::unique_ptr<ShardOutput> cur = q.take_free();
            if (!cur) return;
            try {
                // A full chunk goes to the merge for a free one; once the
                // merge has stopped (no free one comes), chunks are dropped.
                shards[k]->finish(cur.get(), [&](ShardOutput*) {
                    std::unique_ptr<ShardOutput> next = q.take_free();
                    if (next) {
                        q.give_full(std::move(cur));
                        cur = std::move(next);
                    }
                    cur->clear();
                    return cur.get();
                });
                q.give_full(std::move(cur));
                q.close();
            } catch (...) {
                fail(std::current_exception());
                for (auto& e : ends) e->stop();
            }
        });
    }
    std::vector<std::unique_ptr<ShardOutput>> held(n_shards);
    try {
        res.merged = merger.merge_end([&](size_t k) -> ShardOutput* {
            if (held[k]) ends[k]->give_free(std::move(held[k]));
            held[k] = ends[k]->take_full();
            return held[k].get();
        });
    } catch (...) {
        fail(std::current_exception());
    }
    for (auto& e : ends) e->stop();
    for (std::thread& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
    return res;
}

ReadResult feed(const CaptureSource& capture, Engine& engine, bool progress, uint64_t stop_after,
                const std::function<void(Nanos)>& before_packet, int* ts_digits, int* linktype, unsigned threads) {
    PcapReader reader(capture.path(), capture.name());
    if (ts_digits) *ts_digits = reader.ts_digits();
    if (linktype) *linktype = reader.linktype();
    const int dlt = reader.linktype();
    Progress prog(progress);
    if (threads >= 2 && stop_after == 0) return feed_pipelined(reader, engine, prog, progress, before_packet);
    // One thread: the same batches, read and run in turn.
    Batch b;
    ReadResult res;
    for (;;) {
        read_batch(reader, dlt, engine, b);
        if (!run_batch(b, engine, stop_after, before_packet, res)) return res;  // an error past it is not seen
        if (progress) prog.tick(res.packets, b.bytes_read, reader.file_size());
        if (b.last) {
            res.error = b.error;
            return res;
        }
    }
}

int report(const std::exception& e) {
    if (const auto* ie = dynamic_cast<const InputError*>(&e)) {
        std::fprintf(stderr, "fwsim: error: %s\n", ie->render().c_str());
    } else {
        std::fprintf(stderr, "fwsim: error: %s\n", e.what());
    }
    return 2;
}

}  // namespace fwsim::cli
