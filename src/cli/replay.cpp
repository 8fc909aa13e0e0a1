// fwsim replay: a capture through the ruleset; verdicts, flows, statistics, summary.
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "fwsim/decode/decoder.hpp"
#include "fwsim/error.hpp"
#include "fwsim/engine/shards.hpp"
#include "io/output/out_file.hpp"
#include "io/output/record_pipe.hpp"
#include "io/output/sha256.hpp"
#include "io/output/sinks.hpp"

namespace fwsim::cli {

namespace {

struct ReplayOptions {
    std::string capture;
    CoreOptions core;
    OutputOptions out;
    double stats_interval = 0;
    std::string dump_state, dump_state_out;
    unsigned threads = 1;
    bool quiet = false;
};

// --dump-state AT: a capture timestamp in seconds, or "end".
bool parse_dump_at(const std::string& s, Nanos* at) {
    if (s == "end") return false;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (!end || *end || !(v >= 0)) throw InputError("--dump-state " + s + ": expected a capture time in seconds or \"end\"");
    *at = Nanos(std::llround(v * 1e9));
    return true;
}

int finish_run(const ReplayOptions& o, const OutputOptions& out, const Core& core, Outputs& sinks,
               const ReadResult& rr, const EnginePeak& peak, const rules::RuntimeState& counts,
               const std::string& digest, const std::string& dump_text);

// Why `--threads` runs this replay on one engine instead of shards; empty
// when shards may run (docs/performance.md, "Shards"). Shards that meet
// something only one engine can do mid-run are caught by the merge instead.
std::string why_one_engine(const ReplayOptions& o, const OutputOptions& out, const rules::Ruleset& rs) {
    if (!o.dump_state.empty()) return "--dump-state reads one table";
    if (const std::string_view what = rs.shared_state(); !what.empty())
        return "the ruleset has state shared across connections (" + std::string(what) + ")";
    // A run the merge gives up on is repeated: its outputs must be files it
    // can throw away (the summary is written only at the end).
    for (const std::string* p : {&out.verdicts, &out.flows, &out.stats, &out.write_pcap})
        if (!OutFile::rewindable(*p)) return "an output is written to standard output, a pipe or a device";
    return {};
}

int run(const ReplayOptions& o) {
    Core core = load_core(o.core);
    if (o.stats_interval > 0) core.cfg.stats_interval = o.stats_interval;
    OutputOptions out = o.out;
    // Standard input or a pipe: copied to a file first (and hashed on the
    // way when the summary needs the digest).
    const CaptureSource capture(o.capture, !out.summary.empty());
    capture_format(capture, &out.ts_digits, &out.linktype);

    // The digest (for the summary file only) is read in parallel with the
    // replay: the file is in the page cache either way. A copied capture
    // was hashed while it was copied.
    std::string digest = capture.sha256();
    std::thread hasher;
    if (!out.summary.empty() && !capture.spooled())
        hasher = std::thread([&] { digest = sha256_file(capture.path()); });
    struct Join {
        std::thread& t;
        ~Join() {
            if (t.joinable()) t.join();
        }
    } join{hasher};

    EngineOptions eo;
    eo.stats = !out.stats.empty();
    eo.stats_interval = Nanos(std::llround(core.cfg.stats_interval * 1e9));
    if (eo.stats_interval <= 0) throw InputError("--stats-interval must be positive");
    const bool progress = !o.quiet && stderr_is_terminal();

    // --threads N >= 3: N - 1 shards (the reader takes a thread, the merge
    // and the outputs this one) when the run allows it, checked as it goes;
    // a run the shards cannot stand for is repeated on one engine (below).
    if (o.threads >= 3) {
        const std::string why = why_one_engine(o, out, core.rules);
        if (!why.empty() && !o.quiet)
            std::fprintf(stderr, "fwsim: note: --threads %u: one engine: %s\n", o.threads, why.c_str());
        if (why.empty()) {
            Outputs sinks(out, core.cfg, core.rules, core.topo);
            std::vector<std::unique_ptr<Shard>> shards;
            std::vector<Shard*> view;
            for (unsigned k = 0; k + 1 < o.threads; ++k) {
                shards.push_back(std::make_unique<Shard>(core.cfg, core.topo, core.rules, eo));
                view.push_back(shards.back().get());
            }
            ShardMerger merger(core.cfg, eo.denied_flow_limit, view.size(), !out.verdicts.empty(), sinks);
            const ShardKeys keys(core.topo);
            const ShardedResult r = feed_sharded(capture, view, merger, keys, progress);
            if (r.merged) {
                rules::RuntimeState counts = shards[0]->engine().rule_state();
                for (size_t k = 1; k < shards.size(); ++k) counts.add_counts(shards[k]->engine().rule_state());
                if (hasher.joinable()) hasher.join();
                return finish_run(o, out, core, sinks, r.read, merger.peak(), counts, digest, "");
            }
            sinks.discard();
            if (!o.quiet)
                std::fprintf(stderr, "fwsim: note: --threads %u: replayed again on one engine: %s\n", o.threads,
                             merger.why().c_str());
        }
    }

    Outputs sinks(out, core.cfg, core.rules, core.topo);
    // --threads >= 2 on one engine: formatting and writing the outputs run on
    // a thread of their own too (the reader has another).
    std::optional<RecordPipe> pipe;
    if (o.threads >= 2)
        pipe.emplace(sinks, !out.write_pcap.empty() ? RecordPipe::Copy::frame
                            : !out.verdicts.empty() ? RecordPipe::Copy::packet
                                                    : RecordPipe::Copy::record);
    Engine engine(core.cfg, core.topo, core.rules, pipe ? static_cast<EngineObserver&>(*pipe) : sinks, eo);

    Nanos dump_at = 0;
    const bool dump_time = !o.dump_state.empty() && parse_dump_at(o.dump_state, &dump_at);
    bool dumped = false;
    std::string dump_text;
    auto before = [&](Nanos ts) {
        if (dump_time && !dumped && ts > dump_at) {
            engine.advance_to(dump_at);
            dump_text = engine.dump_state();
            dumped = true;
        }
    };
    ReadResult rr = feed(capture, engine, progress, 0, dump_time ? std::function<void(Nanos)>(before) : nullptr,
                         nullptr, nullptr, o.threads);
    if (!o.dump_state.empty() && !dumped) {
        if (dump_time) engine.advance_to(dump_at);
        dump_text = engine.dump_state();
    }
    engine.finish();
    if (pipe) pipe->drain();
    if (hasher.joinable()) hasher.join();
    return finish_run(o, out, core, sinks, rr, engine.peak(), engine.rule_state(), digest, dump_text);
}

// What every replay does once the capture is through: the summary's facts,
// --dump-state's text, the outputs committed (or kept as .partial when the
// capture broke off).
int finish_run(const ReplayOptions& o, const OutputOptions& out, const Core& core, Outputs& sinks,
               const ReadResult& rr, const EnginePeak& peak, const rules::RuntimeState& counts,
               const std::string& digest, const std::string& dump_text) {
    RunInfo info;
    info.capture_path = o.capture;
    info.capture_sha256 = digest;
    info.rules_label = core.rules_label;
    info.topology_label = core.topology_label;
    info.error = rr.error;
    info.peak = peak;
    info.linktype = out.linktype;
    info.linktype_supported = linktype_supported(out.linktype);

    if (!o.dump_state.empty()) {
        if (o.dump_state_out.empty() || o.dump_state_out == "-") {
            std::fputs(dump_text.c_str(), stdout);
        } else {
            OutFile f;
            f.open(o.dump_state_out);
            f.write(dump_text);
            f.commit();
        }
    }
    if (!rr.error.empty()) {
        sinks.abort();
        throw InputError(o.capture + ": " + rr.error + " (" + std::to_string(rr.packets) +
                         " packets before it were replayed; outputs were kept as *.partial)");
    }
    sinks.commit(info, counts);
    const bool any_output = !out.verdicts.empty() || !out.flows.empty() || !out.stats.empty() ||
                            !out.summary.empty() || !out.write_pcap.empty() || !o.dump_state.empty();
    if (!any_output && !o.quiet) std::fputs(sinks.human_summary(info).c_str(), stdout);
    return 0;
}

}  // namespace

void add_replay(CLI::App& app, std::function<int()>& action) {
    auto o = std::make_shared<ReplayOptions>();
    CLI::App* c = app.add_subcommand("replay", "Replay a capture through the ruleset and report every packet's verdict");
    c->add_option("capture", o->capture, "pcap or pcapng file, or - for standard input")->required();
    add_core_options(*c, o->core);
    c->add_option("--verdicts", o->out.verdicts, "per-packet verdict records, JSON Lines (- = stdout)");
    c->add_option("--verdicts-filter", o->out.verdicts_filter,
                  "only these records: comma-separated verdicts/reasons, ct=STATE, hook=HOOK, proto=NAME, nat");
    c->add_option("--flows", o->out.flows, "flow records, JSON Lines");
    c->add_option("--stats", o->out.stats, "table-pressure records, JSON Lines");
    c->add_option("--stats-interval", o->stats_interval, "seconds of capture time per --stats record (default 1)")
        ->check(CLI::PositiveNumber);
    c->add_option("--summary", o->out.summary, "run summary, JSON (- = stdout)");
    c->add_option("--write-pcap", o->out.write_pcap, "write the packets as they leave the firewall (after NAT)");
    c->add_option("--write-filter", o->out.write_filter, "which packets --write-pcap writes (same terms as --verdicts-filter)");
    c->add_option("--dump-state", o->dump_state,
                  "write the conntrack table at capture time AT (seconds) or at the end, as /proc/net/nf_conntrack");
    c->add_option("--dump-state-out", o->dump_state_out, "where --dump-state writes (default: stdout)");
    c->add_option("--threads", o->threads, "threads: 2 reads and decodes the capture on a thread of its own and writes the outputs on another; N >= 3 also splits the connections over N-1 engines (shards); outputs are identical whatever N")->check(CLI::Range(1u, 64u));
    c->add_flag("--quiet,-q", o->quiet, "no human summary, no progress");
    c->callback([o, &action] { action = [o] { return run(*o); }; });
}

}  // namespace fwsim::cli
