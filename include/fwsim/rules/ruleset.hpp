// A compiled nftables ruleset: what the engine asks for a hook's base chains
// and evaluates them with. Parsing and compiling happen once, at load time
// (errors throw InputError with file:line:col); evaluation walks a compiled
// program with no allocation and no string compares.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fwsim/net.hpp"
#include "fwsim/rules/eval_context.hpp"
#include "fwsim/verdict.hpp"

namespace fwsim::rules {

struct Program;  // the compiled form (src/core/rules/program.hpp)

enum class ChainType : uint8_t { filter, nat, route };

// One base chain registered on a hook.
struct BaseChain {
    uint32_t chain = 0;  // chain index for eval()
    ChainType type = ChainType::filter;
    Hook hook = Hook::prerouting;
    int32_t priority = 0;
    Family family = Family::none;  // table family: ipv4 (ip), ipv6 (ip6), none = inet
};

// Where a rule is written.
struct RuleInfo {
    std::string file;   // the path as given (or the include path)
    uint32_t line = 0;  // 1-based line of the rule's first token
    std::string table;  // "inet filter"
    std::string chain;  // "forward"
    std::string text;   // the rule as written (one line, whitespace collapsed)
};

// Reads an included file; nullopt when it cannot be read. The core does no I/O.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

// The rule-by-rule record of one evaluation (for `fwsim explain`). Allocates;
// only filled when eval() is given a Trace.
struct TraceStep {
    enum class Kind : uint8_t {
        enter_chain,  // a base chain starts, or jump/goto entered `chain`
        rule,         // rule `rule` was evaluated
        return_,      // `chain` returned (explicit return or its end)
        policy,       // the base chain's policy decided
    };
    Kind kind = Kind::rule;
    uint32_t chain = 0;
    uint32_t rule = kNoRule;
    bool matched = false;
    int32_t failed_expr = -1;  // index of the first match that failed, -1 when all matched
    std::string text;          // human text: "rule 3 (line 12): ip saddr 10.0.0.0/8 -> no match at 'ip saddr 10.0.0.0/8'"
};
struct Trace {
    std::vector<TraceStep> steps;
};

class RuntimeState;

class Ruleset {
public:
    Ruleset();  // empty: no chains (every hook accepts)
    ~Ruleset();
    Ruleset(const Ruleset&);
    Ruleset(Ruleset&&) noexcept;
    Ruleset& operator=(const Ruleset&);
    Ruleset& operator=(Ruleset&&) noexcept;

    // Parses and compiles; throws fwsim::InputError(file, line, col, message,
    // source_line) on any error. interfaces: the topology's interface names in
    // topology order (index = iif/oif number in EvalContext).
    static Ruleset load(const std::string& path, const std::string& text, const FileReader& reader,
                        std::span<const std::string> interfaces);

    // Base chains on a hook for a packet family (ipv4/ipv6): those of ip/ip6
    // tables of that family and of inet tables, sorted by priority; equal
    // priority: declaration order.
    std::span<const BaseChain> base_chains(Hook h, Family f) const;

    // Evaluates one base chain (with jump/goto/return) into ctx's outputs.
    // accept ends this base chain (ctx.verdict accept, ctx.rule set); drop and
    // reject decide; at the end the policy decides (ctx.by_policy, ctx.rule =
    // kNoRule). A NAT statement fills ctx.nat and accepts for this chain.
    // log statements append to ctx.logs; counters/limits update `state`.
    // `trace` (nullable) records each rule looked at.
    void eval(const BaseChain& c, EvalContext& ctx, RuntimeState& state, Trace* trace) const;

    size_t rule_count() const;
    const RuleInfo& rule_info(uint32_t rule) const;
    std::string_view log_prefix(uint32_t id) const;
    size_t chain_count() const;
    std::string chain_label(uint32_t chain) const;  // "inet filter forward"
    bool uses_ct() const;  // any ct expression
    // A statement or expression whose state spans connections (`limit`,
    // `quota`, a dynamic set or meter, `ct count`): the verdict of one
    // connection's packet may then depend on other connections' packets, so
    // `--threads` runs the ruleset on one engine (docs/performance.md,
    // "Shards"). Empty when there is none, else what it is ("limit", ...).
    std::string_view shared_state() const;

    const Program& program() const { return *prog_; }

private:
    std::shared_ptr<const Program> prog_;
};

// Mutable per-run state (counters, limit and quota state, elements rules add
// to sets), so that several engines can share one compiled Ruleset.
class RuntimeState {
public:
    explicit RuntimeState(const Ruleset& rs);

    struct RuleCounter {
        uint64_t packets = 0, bytes = 0;
    };
    // By rule id: packets that reached the rule's first statement (every
    // match before it held); a rule of matches only counts when all held.
    std::span<const RuleCounter> hits() const { return hits_; }

    // Token-bucket state of one `limit` statement (nft_limit.c's struct nft_limit_priv).
    struct LimitState {
        int64_t tokens = 0;
        int64_t last = 0;  // capture time of the last refill, ns
        bool started = false;
    };
    // `counter` statement values, by counter id (see Program).
    std::span<const RuleCounter> counters() const { return counters_; }
    // Adds another run's rule hits and `counter` values to these (the shards
    // of `--threads`, each with its own state, add up to one run's). Only
    // for a ruleset without shared_state(): limits, quotas and sets do not add up.
    void add_counts(const RuntimeState& other);

    // Elements added at run time to a named set (`add @s { ip saddr }`,
    // `update @s { ... limit rate ... }`, `meter`): an open-addressing table
    // per dynamic set, grown when half full; expiry in capture time.
    struct DynEntry {
        std::array<uint8_t, 40> key{};
        int64_t expires = 0;  // capture ns; kNever: no timeout
        bool used = false;    // slot holds a key (it may have expired or been deleted)
        bool live = false;    // not deleted
        LimitState limit;     // the element's own `limit`
        RuleCounter counter;  // the element's own `counter`
    };
    struct DynTable {
        std::vector<DynEntry> slots;
        uint32_t used = 0;  // slots with a key
    };
    static constexpr int64_t kNever = INT64_MAX;
    // Live elements of dynamic set `set` (a Program set index) at time `now`.
    size_t dyn_size(uint32_t set, int64_t now) const;

    // Long chains are evaluated through an index that skips rules which
    // cannot match (src/core/rules/chain_index.hpp); the result is the same.
    // true: walk every rule, as `fwsim explain` does (tests compare both).
    void set_linear_walk(bool on) { linear_ = on; }

private:
    friend class Ruleset;
    friend struct DynAccess;
    friend struct RuleRun;
    friend struct ChainWalk;
    std::vector<RuleCounter> hits_;
    std::vector<RuleCounter> counters_;
    std::vector<LimitState> limits_;
    std::vector<DynTable> dyn_;  // by Program set index (empty tables for static sets)
    std::vector<uint64_t> quota_used_;  // bytes consumed, by quota statement
    bool linear_ = false;
    // `ct count` connection lists (nf_conncount_list), by expression; changed
    // while matching, hence mutable.
    mutable std::vector<std::vector<Tuple>> conncount_;
    friend bool conncount_match(const struct Match&, const EvalContext&, const RuntimeState&);
};

}  // namespace fwsim::rules
