// The parsed ruleset, before names (chains, sets, interfaces) are resolved
// and values are typed. Produced by the parser, consumed by the compiler.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "fwsim/net.hpp"
#include "fwsim/rules/eval_context.hpp"
#include "fwsim/rules/ruleset.hpp"
#include "lexer.hpp"
#include "symbols.hpp"

namespace fwsim::rules::detail {

// A value as written: typed later, when the selector it is compared with is known.
struct Val {
    enum class K : uint8_t {
        atom,     // a word: 22, ssh, 10.0.0.0/8, 1024-2048, echo-request
        string,   // "eth*"
        range,    // a - b written with spaces (kids[0], kids[1])
        set,      // { kids }
        list,     // a,b (bitmask flags)
        orlist,   // a|b (bitmask flags)
        concat,   // a . b
        setref,   // @name
        mapping,  // key : data (kids[0], kids[1]) inside a set
        verdict,  // accept, drop, jump <target>, ...
        wildcard, // * (catch-all map element)
    };
    K k = K::atom;
    std::string text;    // atom/string/setref text, verdict word
    std::string target;  // jump/goto target
    Loc loc;
    Loc target_loc;
    std::vector<Val> kids;
};

struct SelRef {
    Sel sel;
    Loc loc;
};

enum class RelOp : uint8_t { implicit, eq, ne, lt, gt, le, ge, neg /* ! flags */ };

struct MatchAst {
    std::vector<SelRef> lhs;  // more than one: a concatenation
    bool has_mask = false;    // lhs & mask
    Val mask;
    bool slash = false;       // `tcp flags syn / syn,ack`: (lhs & slash_mask) == rhs
    Val slash_mask;
    RelOp op = RelOp::implicit;
    Val rhs;
    Loc loc;
    bool ct_count = false;    // `ct count [over] N` (connlimit)
    bool count_over = false;
};

struct StmtAst {
    enum class K : uint8_t {
        verdict, counter, log, limit, meta_mark_set, ct_mark_set, notrack, nat, reject, vmap, dynset, quota,
    };
    K k = K::verdict;
    Loc loc;
    // quota [over|until] N bytes [used M bytes]
    uint64_t quota_bytes = 0, quota_used = 0;
    // dynset: add/update/delete @set { key [timeout T] [limit ...] [counter] }, or meter
    std::string dyn_op;              // add, update, delete
    std::string dyn_set;             // set name (meter: the meter's name)
    bool meter = false;
    uint32_t meter_size = 65535;
    uint64_t dyn_timeout_ms = 0;     // 0: the set's timeout
    std::vector<SelRef> dyn_key;
    bool dyn_has_limit = false, dyn_has_counter = false;
    std::vector<StmtAst> dyn_stmts;  // the element's limit (at most one)
    // verdict: accept drop return continue jump goto (reject is its own kind)
    std::string verdict;
    std::string target;
    Loc target_loc;
    // log
    std::string prefix;
    // counter/limit/quota name NAME (a named object of the table)
    std::string counter_name;
    // limit: rate per `unit_secs`, in packets or bytes
    uint64_t rate = 0, unit_secs = 1, burst = 0;
    bool bytes = false, over = false, has_burst = false;
    Loc rate_loc;
    // mark set: value, or from the other mark
    enum class MarkSrc : uint8_t { value, meta_mark, ct_mark } mark_src = MarkSrc::value;
    Val mark_value;
    // nat
    NatRequest::Kind nat_kind = NatRequest::Kind::none;
    Family nat_family = Family::none;  // `snat ip to` / `dnat ip6 to`
    bool nat_has_addr = false;
    Val nat_addr;                     // atom (address or range) when not a map
    bool nat_has_port = false;
    Val nat_port;                     // atom: port or range
    bool nat_map = false;
    bool nat_addr_port = false;       // `dnat ip addr . port to ... map`
    std::vector<SelRef> map_lhs;      // the key of `... map { }` (nat) / `vmap`
    Val map;                          // set or setref
    bool random = false, fully_random = false, persistent = false;
    // reject
    RejectKind reject = RejectKind::none;
    Val reject_code;                  // code name/number (icmp, icmpv6, icmpx)
};

struct RuleAst {
    Loc loc;
    std::string text;
    std::vector<std::variant<MatchAst, StmtAst>> items;
};

struct ChainAst {
    std::string name;
    Loc loc;
    bool base = false;
    ChainType type = ChainType::filter;
    Hook hook = Hook::prerouting;
    int32_t priority = 0;
    bool policy_drop = false;
    Loc type_loc, hook_loc, prio_loc;
    std::vector<RuleAst> rules;
};

struct SetAst {
    std::string name;
    Loc loc;
    bool is_map = false;
    std::vector<Type> key;   // concatenation of types
    bool has_data = false;
    Type data = Type::verdict;
    bool interval = false;
    bool dynamic = false;          // flags dynamic, or a meter
    bool has_timeout_flag = false; // flags timeout
    uint64_t timeout_ms = 0;       // default element timeout, 0: none
    uint32_t size = 65535;         // at most this many elements (nft's default size)
    std::vector<Val> elements;
    Loc type_loc;
};

struct TableAst {
    Family family = Family::none;  // none: inet
    std::string family_name;       // ip, ip6, inet
    std::string name;
    Loc loc;
    std::vector<ChainAst> chains;
    std::vector<SetAst> sets;
    std::vector<std::string> counters;  // named counter objects
    std::vector<std::pair<std::string, StmtAst>> limits, quotas;  // named limit and quota objects
    bool dormant = false;               // `flags dormant`: its chains see no packets

    std::map<std::string, size_t> chain_index;  // name -> position in chains

    ChainAst* chain(const std::string& n) {
        auto it = chain_index.find(n);
        return it == chain_index.end() ? nullptr : &chains[it->second];
    }
    ChainAst& add_chain(ChainAst c) {
        chain_index[c.name] = chains.size();
        chains.push_back(std::move(c));
        return chains.back();
    }
    void remove_chain(const ChainAst* c) {
        std::erase_if(chains, [&](const ChainAst& x) { return &x == c; });
        chain_index.clear();
        for (size_t i = 0; i < chains.size(); ++i) chain_index[chains[i].name] = i;
    }
    SetAst* set(const std::string& n) {
        for (auto& s : sets)
            if (s.name == n) return &s;
        return nullptr;
    }
};

struct Source {
    std::string path;
    std::string text;
};

struct RulesetAst {
    std::vector<TableAst> tables;
    std::vector<Source> sources;  // by Loc::file

    TableAst* table(const std::string& fam, const std::string& n) {
        for (auto& t : tables)
            if (t.family_name == fam && t.name == n) return &t;
        return nullptr;
    }
};

}  // namespace fwsim::rules::detail
