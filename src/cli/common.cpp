#include "cli/common.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "fwsim/decode/decoder.hpp"
#include "fwsim/error.hpp"
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

void capture_format(const std::string& capture, int* ts_digits, int* linktype) {
    PcapReader r(capture);
    *ts_digits = r.ts_digits();
    *linktype = r.linktype();
}

ReadResult feed(const std::string& capture, Engine& engine, bool progress, uint64_t stop_after,
                const std::function<void(Nanos)>& before_packet, int* ts_digits, int* linktype) {
    PcapReader reader(capture);
    if (ts_digits) *ts_digits = reader.ts_digits();
    if (linktype) *linktype = reader.linktype();
    const int dlt = reader.linktype();
    Progress prog(progress);
    RawRecord rec;
    Packet p;
    ReadResult res;
    while (reader.next(rec)) {
        p = Packet{};
        p.index = rec.index;
        p.ts = rec.ts;
        p.wire_len = rec.wire_len;
        p.cap_len = uint32_t(rec.data.size());
        p.capture_if = rec.capture_if;
        decode_frame(dlt, rec.data, p);
        if (before_packet) before_packet(p.ts);
        engine.process(p);
        ++res.packets;
        if (progress && (res.packets & 0xffff) == 0) prog.tick(res.packets, reader.bytes_read(), reader.file_size());
        if (stop_after && rec.index >= stop_after) return res;
    }
    res.error = reader.error();
    return res;
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
