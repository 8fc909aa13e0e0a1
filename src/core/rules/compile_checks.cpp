// Whole-ruleset checks: jump loops, jump depth, the hooks and chain types
// statements need; then base chains registered per hook and family.
#include <algorithm>

#include "compiler.hpp"
#include "parser.hpp"

namespace fwsim::rules::detail {

// nf_tables_check_loops() in nf_tables_api.c: no chain may reach itself.
void Compiler::check_loops() {
    // iterative DFS (a long chain of chains must not exhaust the stack)
    std::vector<uint8_t> color(p_.chains.size(), 0);
    std::vector<std::pair<uint32_t, size_t>> stack;  // chain, next edge
    for (uint32_t root = 0; root < p_.chains.size(); ++root) {
        if (color[root] != 0) continue;
        color[root] = 1;
        stack.push_back({root, 0});
        while (!stack.empty()) {
            auto& [c, next] = stack.back();
            if (next == edges_[c].size()) {
                color[c] = 2;
                stack.pop_back();
                continue;
            }
            const Edge& e = edges_[c][next++];
            if (color[e.to] == 1)
                fail(e.loc, "jump loop detected: chain \"" + p_.chains[e.to].name + "\" reaches itself");
            if (color[e.to] == 0) {
                color[e.to] = 1;
                stack.push_back({e.to, 0});
            }
        }
    }
}

// nft_chain_validate(): jump depth (NFT_JUMP_STACK_SIZE) and the hooks of
// expressions reached from each base chain.
void Compiler::check_hooks() {
    for (uint32_t b = 0; b < p_.chains.size(); ++b) {
        if (!p_.chains[b].base) continue;
        best_level_.assign(p_.chains.size(), -1);
        walk(b, b, 0, Loc{});
    }
    // statements in chains that no base chain reaches are not judged,
    // as the kernel only validates what a base chain can reach
}

void Compiler::walk(uint32_t base, uint32_t c, int level, Loc via) {
    if (level >= kJumpStack) fail(via, "too many jump levels (the kernel allows 16)");
    if (level <= best_level_[c]) return;
    bool first = best_level_[c] < 0;
    best_level_[c] = level;
    const Chain& bc = p_.chains[base];
    for (const HookCheck& h : checks_) {
        if (!first) break;
        if (h.chain != c) continue;
        if (h.needs_nat_chain && bc.type != ChainType::nat)
            fail(h.loc, h.what + ": nat statement not allowed in " +
                            (bc.type == ChainType::filter ? "filter" : "route") + " chain \"" + bc.name +
                            "\" (only in type nat chains)");
        if (!(h.hook_mask & bit(bc.hook)))
            fail(h.loc, h.what + " is not allowed in the " + std::string(to_string(bc.hook)) + " hook");
    }
    for (const Edge& e : edges_[c]) walk(base, e.to, level + 1, e.loc);
}

void Compiler::register_hooks() {
    for (uint32_t c = 0; c < p_.chains.size(); ++c) {
        const Chain& ch = p_.chains[c];
        if (!ch.base || ch.dormant) continue;
        BaseChain bc{c, ch.type, ch.hook, ch.priority, ch.family};
        int h = static_cast<int>(ch.hook);
        if (ch.family != Family::ipv6) p_.hooks[h][0].push_back(bc);
        if (ch.family != Family::ipv4) p_.hooks[h][1].push_back(bc);
    }
    for (auto& hk : p_.hooks)
        for (auto& v : hk)
            std::stable_sort(v.begin(), v.end(),
                             [](const BaseChain& a, const BaseChain& b) { return a.priority < b.priority; });
}

}  // namespace fwsim::rules::detail
