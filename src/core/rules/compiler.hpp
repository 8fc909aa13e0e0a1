// The compiler's state, shared by its parts: compiler.cpp (driver, rules,
// matches), compile_sets.cpp (sets and maps), compile_statements.cpp
// (statements), compile_checks.cpp (loops, jump depth, hooks, registration).
#pragma once

#include <array>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "ast.hpp"
#include "parser.hpp"
#include "program.hpp"
#include "values.hpp"

namespace fwsim::rules::detail {

struct Edge {
    uint32_t to;
    Loc loc;
};

// A statement whose validity depends on the base chain that reaches it.
struct HookCheck {
    uint32_t chain;
    Loc loc;
    bool needs_nat_chain;
    uint32_t hook_mask;  // 1 << Hook
    std::string what;
};

constexpr uint32_t bit(Hook h) { return 1u << static_cast<unsigned>(h); }

class Compiler {
public:
    Compiler(RulesetAst& ast, std::span<const std::string> ifs) : ast_(ast), vc_{&ast.sources, ifs} {}

    Program run();

private:
    RulesetAst& ast_;
    ValueContext vc_;
    Program p_;
    std::map<std::string, uint32_t> chain_ids_;
    std::map<std::string, uint32_t> set_ids_;
    std::map<std::string, uint32_t> named_counters_, named_limits_, named_quotas_;
    std::vector<Loc> chain_locs_;
    std::vector<std::vector<Edge>> edges_;
    std::vector<HookCheck> checks_;

    static std::string key(const TableAst& t, const std::string& n);
    [[noreturn]] void fail(Loc l, const std::string& m) { fail_at(ast_.sources, l, m); }

    // ------------------------------------------------------------ sets
    struct KeyShape {
        std::vector<Type> types;
        std::string what;
    };

    void encode_elem(const KeyShape& ks, const Val& v, Set& s, Set::Elem& e, bool& ranged,
                     std::vector<std::vector<uint16_t>>* if_expansions);

    void shape_set(Set& s, const KeyShape& ks);

    // data_type: the values of a map (verdicts, addresses, `addr . port`).
    uint32_t build_set(const std::string& name, const KeyShape& ks, const std::vector<Val>& elems,
                       bool is_map, Type data_type, bool interval_declared, bool named, Loc loc,
                       uint32_t owner_chain, const TableAst& t);

    void finish_set(Set& s, bool is_map, Loc loc);
    // Once every set and rule is compiled: Set::ints and Match::scalar_lookup.
    void integer_keys();
    // Then each rule's leading tests (Program::tests) and its chain's RuleHead.
    void rule_heads();

    uint32_t compile_data(const Val& dv, Type data_type, uint32_t owner_chain, const TableAst& t,
                          const std::string& what);

    void compile_named_set(TableAst& t, SetAst& s);
    std::map<uint32_t, SetAst*> named_sets_;

    // ------------------------------------------------------------ verdicts
    Verdict_ verdict_of(const std::string& w, const std::string& target, Loc tloc, const TableAst& t,
                        uint32_t from_chain);

    // ------------------------------------------------------------ rules
    std::string sel_names(const std::vector<SelRef>& l);

    // The network family a selector implies (nft's protocol dependency).
    static Family sel_family(Sel s);
    const TableAst* cur_table_ = nullptr;

    KeyShape shape_of(const std::vector<SelRef>& l);

    void fill_sels(const std::vector<SelRef>& l, std::array<Sel, kMaxConcat>& sel, uint8_t& n, uint8_t& w);

    uint32_t set_ref(const TableAst& t, const Val& v, const KeyShape& ks, bool want_map, Type* data_type,
                     uint32_t chain);
    void add_map_edge(uint32_t chain, uint32_t verdict_index);

    void compile_rule(TableAst& t, ChainAst& c, uint32_t cid, RuleAst& r);
    Rule* cur_ = nullptr;
    // the rule's network and transport protocols so far (nft's proto_ctx)
    Family cur_l3_ = Family::none;
    uint8_t cur_l4_ = 0;

    static uint8_t sel_proto(Sel s);
    static std::string l4_name(uint8_t p);
    static std::string l3_name(Family f) { return f == Family::ipv6 ? "ip6" : "ip"; }

    // Payload expressions imply their protocols; two that cannot both hold
    // in one packet are an error, as nft's "conflicting protocols specified".
    void protocol_context(const MatchAst& m);

    static bool is_transport(Sel s);

    void add_match(Match m, std::string text);
    void add_stmt(Stmt s, std::string text);

    static void copy_key(Key& k, const std::vector<uint8_t>& b) { std::copy(b.begin(), b.end(), k.b.begin()); }

    void compile_match(TableAst& t, MatchAst& m);

    void compile_stmt(TableAst& t, ChainAst& c, uint32_t cid, StmtAst& s);

    void compile_dynset(TableAst& t, StmtAst& s);
    std::map<uint32_t, std::vector<Type>> meter_types_;

    LimitSpec limit_spec(const StmtAst& s);

    void compile_reject(TableAst& t, uint32_t cid, StmtAst& s);

    void compile_nat(TableAst& t, uint32_t cid, StmtAst& s);

    // nf_tables_check_loops() in nf_tables_api.c: no chain may reach itself.
    void check_loops();

    // nft_chain_validate(): jump depth (NFT_JUMP_STACK_SIZE) and the hooks of
    // expressions reached from each base chain.
    void check_hooks();
    // Each chain is walked again only when reached deeper than before, so a
    // crafted DAG of chains costs at most kJumpStack walks per chain.
    std::vector<int> best_level_;
    void walk(uint32_t base, uint32_t c, int level, Loc via);

    void register_hooks();
};

}  // namespace fwsim::rules::detail
