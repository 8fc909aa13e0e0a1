// The output side of `fwsim replay`: verdict, flow and statistics records as
// JSON Lines, the rewritten capture, the summary (JSON and human text).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/engine/engine.hpp"
#include "io/output/out_file.hpp"
#include "io/output/record_filter.hpp"

namespace fwsim {

class PcapWriter;

struct OutputOptions {
    std::string verdicts, verdicts_filter;
    std::string flows, stats, summary;
    std::string write_pcap, write_filter;
    int ts_digits = 6;
    int linktype = 1;
};

// Everything the summary says about the run besides what the records count.
struct RunInfo {
    std::string capture_path;
    std::string capture_sha256;
    std::string rules_label;  // the ruleset file, or "built-in rules/home.nft"
    std::string topology_label;
    std::string error;        // non-empty when the capture broke off (truncated)
    int linktype = 1;         // the capture's DLT
    bool linktype_supported = true;
    EnginePeak peak;
};

class Outputs final : public EngineObserver {
public:
    Outputs(const OutputOptions& opt, const Config& cfg, const rules::Ruleset& rules, const Topology& topo);
    ~Outputs();

    void on_packet(const PacketRecord& r) override;
    void on_flow(const FlowRecord& f) override;
    void on_stats(const TableStats& s) override;

    // Writes the summary and moves every file into place.
    void commit(const RunInfo& info, const rules::RuntimeState& rs);
    // The run failed: files are left as PATH.partial.
    void abort();
    // The run starts over: what was written is thrown away (files must be
    // OutFile::rewindable()). The object is not to be used afterwards.
    void discard();
    // The short human summary for stdout.
    std::string human_summary(const RunInfo& info) const;

    struct Totals {
        uint64_t packets = 0, accepted = 0, dropped = 0, rejected = 0, ignored = 0, malformed = 0,
                 invalid = 0, flows_accepted = 0, flows_denied = 0;
        std::map<Reason, uint64_t> by_reason;
    };
    const Totals& totals() const { return totals_; }

private:
    void write_verdict(const PacketRecord& r);
    void write_pcap(const PacketRecord& r);
    std::string summary_json(const RunInfo& info, const rules::RuntimeState& rs) const;

    OutputOptions opt_;
    const Config& cfg_;
    const rules::Ruleset& rules_;
    const Topology& topo_;
    OutFile verdicts_, flows_, stats_, summary_;
    RecordFilter verdicts_filter_, write_filter_;
    std::unique_ptr<PcapWriter> pcap_;
    std::vector<uint8_t> scratch_;
    std::vector<std::string> rule_json_;   // cached {"file":..,"line":..,"table":..,"chain":..}
    std::vector<std::string> flow_rule_json_;
    std::vector<std::string> iface_json_;  // cached quoted interface names
    Totals totals_;
    std::map<uint32_t, uint64_t> drops_by_rule_;   // rule id -> packets
    std::map<uint32_t, uint64_t> drops_by_policy_; // chain id -> packets
};

}  // namespace fwsim
