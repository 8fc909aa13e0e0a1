// The compiled ruleset: flat vectors of chains, rules, matches, statements
// and sets, indexed by number. Values are big-endian byte keys so that
// comparisons, ranges, prefixes and concatenations are one memcmp.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "chain_index.hpp"
#include "fwsim/rules/ruleset.hpp"
#include "symbols.hpp"

namespace fwsim::rules {

inline constexpr int kMaxKey = 40;      // ipv6 . ipv6 . port . port = 36
inline constexpr int kMaxConcat = 4;
inline constexpr int kJumpStack = 16;   // NFT_JUMP_STACK_SIZE in include/net/netfilter/nf_tables.h

struct Key {
    std::array<uint8_t, kMaxKey> b{};
};

enum class MatchOp : uint8_t {
    eq, ne, lt, gt, le, ge,
    range, not_range,     // lo <= v <= hi
    lookup, not_lookup,   // set membership
    always, never,        // folded (e.g. unknown interface)
    conncount,            // `ct count [over] N`: set = list id, v64 = N, masked = over
};

struct Match {
    std::array<detail::Sel, kMaxConcat> sel{};
    uint8_t nsel = 0;
    uint8_t width = 0;  // bytes of the (concatenated) key
    // A comparison (eq .. not_range) of one selector of 8 bytes or less:
    // evaluated on the selector loaded as an integer (load_scalar() in
    // evaluator.cpp), with no key bytes built. Set by add_match().
    bool scalar = false;
    // A lookup (lookup, not_lookup) of one selector of 8 bytes or less in a
    // set with integer keys (Set::ints). Set by Compiler::integer_keys().
    bool scalar_lookup = false;
    // value, hi and mask read as big-endian integers (keys of 8 bytes or
    // less; `ct count`: v64 is the limit)
    uint64_t v64 = 0, hi64 = 0, mask64 = ~uint64_t(0);
    MatchOp op = MatchOp::eq;
    bool masked = false;
    Key mask;           // applied to the loaded key before comparing
    Key value, hi;
    uint32_t set = 0;   // for lookups
};

// A match on one selector of 8 bytes or less in 32 bytes: a comparison
// (Match::scalar) or a lookup in a static set with integer keys
// (Match::scalar_lookup). The leading such matches of every rule are copied
// here (Program::tests, Rule::first_test) by Compiler::rule_heads(), so that
// walking a chain reads a few dense cache lines instead of a Match (three
// 40-byte keys) per rule.
struct ScalarTest {
    uint64_t mask = ~uint64_t(0), lo = 0, hi = 0;  // Match::mask64, v64, hi64
    detail::Sel sel{};
    MatchOp op = MatchOp::eq;
    uint32_t set = 0;  // lookups
};

struct Verdict_ {
    enum class K : uint8_t { accept, drop, jump, goto_, return_, continue_ };
    K k = K::accept;
    uint32_t chain = 0;  // jump/goto target
};

struct LimitSpec {
    bool bytes = false, over = false;
    uint64_t rate = 0, nsecs = 0, burst = 0;
    uint64_t tokens_max = 0, cost = 0;  // cost: packets only
};

struct NatSpec {
    NatRequest req;                 // the static part
    bool map = false;               // address (and port) from a map lookup
    std::array<detail::Sel, kMaxConcat> sel{};
    uint8_t nsel = 0, width = 0;
    uint32_t set = 0;
};

// add/update/delete @set { key ... } (nft_dynset.c)
struct DynSpec {
    enum class Op : uint8_t { add, update, delete_ } op = Op::add;
    uint32_t set = 0;
    int64_t timeout_ns = 0;  // 0: the set's
    bool has_limit = false, counter = false;
    LimitSpec limit;
    std::array<detail::Sel, kMaxConcat> sel{};
    uint8_t nsel = 0, width = 0;
};

struct Stmt {
    enum class K : uint8_t {
        verdict, counter, log, limit, meta_mark_set, ct_mark_set, notrack, nat, reject, vmap, dynset, quota,
    };
    K k = K::verdict;
    Verdict_ verdict;
    uint32_t index = 0;  // counter id, log id, limit id, nat id, set id (vmap)
    // mark set
    uint8_t mark_src = 0;  // 0 value, 1 meta mark, 2 ct mark
    uint32_t mark = 0;
    // reject
    RejectKind reject = RejectKind::none;
    uint8_t reject_type = 0, reject_code = 0;
    // vmap key
    std::array<detail::Sel, kMaxConcat> sel{};
    uint8_t nsel = 0, width = 0;
};

struct Op {
    bool is_match = true;
    uint32_t index = 0;
};

struct Rule {
    uint32_t chain = 0;
    // ops[0, ntests) are matches copied as ScalarTests in Program::tests
    // from first_test on; the evaluator runs them there and the rest from ops.
    uint32_t first_test = 0;
    uint32_t ntests = 0;
    std::vector<Op> ops;
    std::vector<std::string> op_text;  // for traces: each op as written
};

// What a rule does once its leading scalar matches (its tests) hold, for
// the common shapes; chosen at load time so that the evaluator needs
// nothing of such a rule but its RuleHead.
enum class Tail : uint8_t {
    ops,      // anything else: the rest of Rule::ops runs (RuleRun::run in evaluator.cpp)
    matched,  // nothing more: a rule of matches only
    accept,   // a lone `accept` statement
    drop,     // a lone `drop` statement
};

// A rule as its chain's walk sees it (Chain::heads, by position).
struct RuleHead {
    uint32_t rid = 0;
    uint32_t first_test = 0, ntests = 0;  // as Rule::first_test, ntests
    Tail tail = Tail::ops;
};

// The rules at the head of a chain that test nothing but `ct state` and end
// in a lone accept or drop (`ct state invalid drop`, `ct state
// established,related accept`, the opening of most stateful rulesets): which
// of them decides a packet depends only on its ct state bit, so the walk
// looks the decision up instead of testing them one by one
// (ChainWalk::run(); fill_ct_leads() in evaluator.cpp builds it).
struct CtLead {
    static constexpr size_t kBits = 7;  // ct state bits 1 (invalid) .. 64 (untracked), by bit position
    uint32_t len = 0;                   // leading rules covered; 0: none, the walk starts at rule 0
    std::array<uint32_t, kBits> rid{};  // the rule among them that decides a packet with that bit, or kNoRule
    std::array<Tail, kBits> tail{};     // its verdict (Tail::accept or Tail::drop)
};

struct Chain {
    std::string table_family;  // ip, ip6, inet
    std::string table;
    std::string name;
    bool base = false;
    ChainType type = ChainType::filter;
    Hook hook = Hook::prerouting;
    int32_t priority = 0;
    Verdict policy = Verdict::accept;
    Family family = Family::none;
    bool dormant = false;         // table `flags dormant`: not registered on its hook
    std::vector<uint32_t> rules;  // rule ids in order
    std::vector<RuleHead> heads;  // the same rules, by position, for the evaluator
    CtLead ct_lead;               // its leading `ct state` rules, for the evaluator
};

// A set or map: elements with per-component inclusive [lo, hi] ranges.
struct Set {
    std::string name;
    uint8_t width = 0;
    std::array<uint8_t, kMaxConcat> comp_width{};
    uint8_t ncomp = 0;
    bool exact = true;      // every element a single value: binary search on lo
    bool single_comp = true;
    struct Elem {
        Key lo, hi;
        uint32_t data = 0;  // map: index into verdicts/nat_data
    };
    bool dynamic = false;     // rules add elements at run time (RuntimeState::dyn_)
    uint32_t max_elems = 65535;
    int64_t timeout_ns = 0;   // default timeout of added elements, 0: none
    std::vector<Elem> elems;  // sorted by lo (exact or single-component intervals, non-overlapping)
    bool has_wildcard = false;
    uint32_t wildcard_data = 0;
    // Keys of 8 bytes or less in a sorted set (exact or single component):
    // lo64/hi64 are elems' lo/hi read as big-endian integers, in the same
    // order, so that a lookup is a binary search over 8-byte integers (100k
    // addresses: 800 KB) instead of memcmp over 84-byte elements. Filled by
    // Compiler::integer_keys().
    bool ints = false;
    std::vector<uint64_t> lo64, hi64;
    // Large integer-keyed sets: bucket_start[b] is the first element whose
    // lo >= b << bucket_shift, for every value b of the key's top bits (and
    // one past the last), so a lookup binary-searches only its bucket's
    // elements (100k addresses: 2 steps instead of 17). Empty: search all.
    uint8_t bucket_shift = 0;
    std::vector<uint32_t> bucket_start;
};

struct NatData {
    Family family = Family::none;
    IpAddr addr_min, addr_max;
    bool has_port = false;
    uint16_t port_min = 0, port_max = 0;
};

struct Program {
    std::vector<Chain> chains;
    std::vector<Rule> rules;
    std::vector<RuleInfo> rule_info;
    std::vector<Match> matches;
    std::vector<ScalarTest> tests;  // the rules' leading scalar matches (Rule::first_test)
    std::vector<Stmt> stmts;
    std::vector<Set> sets;
    std::vector<Verdict_> map_verdicts;
    std::vector<NatData> nat_data;
    std::vector<NatSpec> nats;
    std::vector<LimitSpec> limits;
    std::vector<DynSpec> dynsets;
    struct Quota {
        uint64_t bytes = 0, used = 0;
        bool over = false;  // NFT_QUOTA_F_INV
    };
    std::vector<Quota> quotas;
    std::vector<std::string> log_prefixes;
    uint32_t counter_count = 0;
    uint32_t conncount_count = 0;  // `ct count` expressions, each with its own connection list
    bool uses_ct = false;
    std::vector<BaseChain> hooks[kHookCount][2];  // [hook][0 ipv4, 1 ipv6]
    std::vector<ChainIndex> chain_index;          // by chain (chain_index.hpp); empty: walk every rule
};

// Compiles the parsed ruleset (see compiler.cpp).
namespace detail {
struct RulesetAst;
Program compile(RulesetAst& ast, std::span<const std::string> interfaces);
}  // namespace detail

// Fills every chain's ct_lead from its heads (evaluator.cpp: it decides with
// the evaluator's own test of a ScalarTest).
void fill_ct_leads(Program& p);

// Key helpers.
inline int key_cmp(const uint8_t* a, const uint8_t* b, int n) { return std::memcmp(a, b, size_t(n)); }

}  // namespace fwsim::rules
