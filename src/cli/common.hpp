// What the commands share: the options that choose the ruleset, topology and
// configuration, loading them, and reading a capture into an engine.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cli/capture_source.hpp"
#include "fwsim/config.hpp"
#include "fwsim/engine/engine.hpp"
#include "fwsim/engine/shards.hpp"
#include "fwsim/rules/ruleset.hpp"
#include "fwsim/topology/topology.hpp"

namespace fwsim::cli {

struct CoreOptions {
    std::string rules, topology, config_file;
    std::vector<std::string> sets;
};
void add_core_options(CLI::App& app, CoreOptions& o);

struct Core {
    Config cfg;
    Topology topo;
    rules::Ruleset rules;
    std::string rules_label, topology_label;
};
// Configuration precedence, lowest first: defaults, the topology's sysctls,
// --config, --set. Throws InputError.
Core load_core(const CoreOptions& o);


struct ReadResult {
    uint64_t packets = 0;
    std::string error;  // non-empty when the capture broke off
};
// Reads the capture into the engine (up to and including `stop_after`
// when non-zero). Shows progress on stderr when `progress` is set.
// `before_packet` (may be empty) runs before each packet with its ts.
// threads >= 2: reading and decoding run on their own thread, ahead of the
// engine (a pipeline; the engine itself stays serial, so outputs are the same).
ReadResult feed(const CaptureSource& capture, Engine& engine, bool progress, uint64_t stop_after,
                const std::function<void(Nanos)>& before_packet, int* ts_digits, int* linktype,
                unsigned threads = 1);

// --threads N with shards (fwsim/engine/shards.hpp): a reader thread reads,
// decodes and keys each batch, N threads run one shard each over every
// batch, and this thread merges their reports into `merger` (which passes
// them on to the outputs), then ends each shard's capture. `merged` is false
// when the merger found the shards cannot stand for one engine (its why());
// the run is then to be repeated on one engine.
struct ShardedResult {
    ReadResult read;
    bool merged = true;
};
ShardedResult feed_sharded(const CaptureSource& capture, std::span<Shard* const> shards, ShardMerger& merger,
                           const ShardKeys& keys, bool progress);

// Capture precision and link type without reading packets (opens the file).
void capture_format(const CaptureSource& capture, int* ts_digits, int* linktype);

// Prints "fwsim: error: ..." and returns exit code 2.
int report(const std::exception& e);

bool stderr_is_terminal();

}  // namespace fwsim::cli
