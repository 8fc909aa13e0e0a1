#include "fwsim/rules/ruleset.hpp"

#include "dynamic_set.hpp"
#include "parser.hpp"
#include "program.hpp"

namespace fwsim::rules {

Ruleset::Ruleset() : prog_(std::make_shared<Program>()) {}
Ruleset::~Ruleset() = default;
Ruleset::Ruleset(const Ruleset&) = default;
Ruleset::Ruleset(Ruleset&&) noexcept = default;
Ruleset& Ruleset::operator=(const Ruleset&) = default;
Ruleset& Ruleset::operator=(Ruleset&&) noexcept = default;

Ruleset Ruleset::load(const std::string& path, const std::string& text, const FileReader& reader,
                      std::span<const std::string> interfaces) {
    detail::RulesetAst ast = detail::parse_ruleset(path, text, reader);
    Ruleset rs;
    Program prog = detail::compile(ast, interfaces);
    detail::build_chain_indexes(prog);
    rs.prog_ = std::make_shared<Program>(std::move(prog));
    return rs;
}

std::span<const BaseChain> Ruleset::base_chains(Hook h, Family f) const {
    int fi = f == Family::ipv6 ? 1 : 0;
    return prog_->hooks[static_cast<int>(h)][fi];
}

size_t Ruleset::rule_count() const { return prog_->rules.size(); }
const RuleInfo& Ruleset::rule_info(uint32_t rule) const { return prog_->rule_info.at(rule); }
std::string_view Ruleset::log_prefix(uint32_t id) const { return prog_->log_prefixes.at(id); }
size_t Ruleset::chain_count() const { return prog_->chains.size(); }

std::string Ruleset::chain_label(uint32_t chain) const {
    const Chain& c = prog_->chains.at(chain);
    return c.table_family + " " + c.table + " " + c.name;
}

bool Ruleset::uses_ct() const { return prog_->uses_ct; }

std::string_view Ruleset::shared_state() const {
    if (!prog_->limits.empty()) return "limit";
    if (!prog_->quotas.empty()) return "quota";
    if (!prog_->dynsets.empty()) return "a dynamic set";
    if (prog_->conncount_count != 0) return "ct count";
    return {};
}

RuntimeState::RuntimeState(const Ruleset& rs)
    : hits_(rs.program().rules.size()),
      counters_(rs.program().counter_count),
      limits_(rs.program().limits.size()),
      dyn_(rs.program().sets.size()),
      conncount_(rs.program().conncount_count) {
    for (const auto& q : rs.program().quotas) quota_used_.push_back(q.used);
}

void RuntimeState::add_counts(const RuntimeState& o) {
    auto add = [](std::vector<RuleCounter>& to, const std::vector<RuleCounter>& from) {
        for (size_t i = 0; i < to.size() && i < from.size(); ++i) {
            to[i].packets += from[i].packets;
            to[i].bytes += from[i].bytes;
        }
    };
    add(hits_, o.hits_);
    add(counters_, o.counters_);
}

size_t RuntimeState::dyn_size(uint32_t set, int64_t now) const {
    return set < dyn_.size() ? detail::dyn_live(dyn_[set], now) : 0;
}

}  // namespace fwsim::rules
