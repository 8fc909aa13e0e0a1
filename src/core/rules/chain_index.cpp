// build_chain_indexes(): picks each rule's indexed match and fills the
// per-chain hash tables (see chain_index.hpp for why skipping is exact).
#include "chain_index.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "program.hpp"

namespace fwsim::rules::detail {

namespace {

// Fields worth indexing: they take many distinct values across rules.
int indexable_width(Sel s) {
    switch (s) {
    case Sel::ip_saddr: case Sel::ip_daddr: return 4;
    case Sel::ip6_saddr: case Sel::ip6_daddr: return 16;
    case Sel::tcp_sport: case Sel::tcp_dport: case Sel::udp_sport: case Sel::udp_dport:
    case Sel::udplite_sport: case Sel::udplite_dport: case Sel::sctp_sport: case Sel::sctp_dport:
    case Sel::th_sport: case Sel::th_dport:
    case Sel::meta_iifname: case Sel::meta_oifname: case Sel::meta_iif: case Sel::meta_oif:
        return 2;
    default: return 0;
    }
}

bool bit_of(const uint8_t* b, int i) { return (b[i / 8] >> (7 - i % 8)) & 1; }

// The prefix length when [lo, hi] is exactly one prefix, else -1.
int range_prefix(const uint8_t* lo, const uint8_t* hi, int w) {
    const int bits = 8 * w;
    int p = 0;
    while (p < bits && bit_of(lo, p) == bit_of(hi, p)) ++p;
    for (int i = p; i < bits; ++i)
        if (bit_of(lo, i) || !bit_of(hi, i)) return -1;
    return p;
}

// The prefix length when the mask is ones then zeros, else -1.
int mask_prefix(const uint8_t* m, int w) {
    const int bits = 8 * w;
    int p = 0;
    while (p < bits && bit_of(m, p)) ++p;
    for (int i = p; i < bits; ++i)
        if (bit_of(m, i)) return -1;
    return p;
}

// What an indexable match requires: the field masked to `prefix` equals one of `keys`.
struct Need {
    Sel sel{};
    uint8_t width = 0, prefix = 0;
    std::vector<IndexKey> keys;
};

constexpr size_t kMaxSetKeys = 64;  // a larger set costs more entries than the rule scan it saves

bool need_of(const Program& p, const Match& m, Need* n) {
    if (m.nsel != 1) return false;
    const int w = indexable_width(m.sel[0]);
    if (w == 0 || m.width != w) return false;
    n->sel = m.sel[0];
    n->width = uint8_t(w);
    n->keys.clear();
    int prefix = 8 * w;
    switch (m.op) {
    case MatchOp::eq:
        if (m.masked) prefix = mask_prefix(m.mask.b.data(), w);
        break;
    case MatchOp::range:
        if (m.masked) return false;  // (field & mask) in [lo, hi] is no prefix of the field
        prefix = range_prefix(m.value.b.data(), m.hi.b.data(), w);
        break;
    case MatchOp::lookup: {
        const Set& s = p.sets[m.set];
        // constant single values only: no rule adds to it, no `*`, no ranges
        if (s.dynamic || s.has_wildcard || !s.exact || !s.single_comp || s.width != w ||
            s.elems.size() > kMaxSetKeys)
            return false;
        n->prefix = uint8_t(prefix);
        for (const auto& e : s.elems) n->keys.push_back(index_key(e.lo.b.data(), w));
        return true;
    }
    default: return false;
    }
    if (prefix < 0) return false;
    n->prefix = uint8_t(prefix);
    IndexKey k = index_key(m.value.b.data(), w), mk = index_mask(prefix);
    n->keys.push_back(IndexKey{k.a & mk.a, k.b & mk.b});
    return true;
}

using GroupId = std::pair<Sel, uint8_t>;              // field, prefix
using KeyId = std::tuple<Sel, uint8_t, IndexKey>;     // field, prefix, value

// The indexable matches of a rule that come before anything with an effect.
// `never`: a match that cannot hold comes first, so the rule can do nothing.
std::vector<Need> needs_of(const Program& p, const Rule& r, bool* never) {
    std::vector<Need> out;
    *never = false;
    for (const Op& op : r.ops) {
        if (!op.is_match) break;
        const Match& m = p.matches[op.index];
        if (m.op == MatchOp::conncount) break;  // changes its connection list
        if (m.op == MatchOp::never) {
            *never = true;
            break;
        }
        Need n;
        if (need_of(p, m, &n)) out.push_back(std::move(n));
    }
    return out;
}

ChainIndex build_one(const Program& p, const Chain& ch) {
    ChainIndex ix;
    const size_t nrules = ch.rules.size();
    std::vector<std::vector<Need>> needs(nrules);
    std::vector<bool> never(nrules);
    std::map<KeyId, uint32_t> uses;
    for (size_t pos = 0; pos < nrules; ++pos) {
        bool nv = false;
        needs[pos] = needs_of(p, p.rules[ch.rules[pos]], &nv);
        never[pos] = nv;
        for (const Need& n : needs[pos])
            for (const IndexKey& k : n.keys) ++uses[KeyId{n.sel, n.prefix, k}];
    }
    // Each rule goes where the fewest rules share its bucket(s): the packet
    // that reaches that bucket then has the fewest candidates.
    std::map<GroupId, std::map<IndexKey, std::vector<uint32_t>>> groups;
    std::map<GroupId, uint32_t> group_rules;
    std::vector<int> chosen(nrules, -1);
    for (size_t pos = 0; pos < nrules; ++pos) {
        if (never[pos]) continue;
        uint64_t best = UINT64_MAX;
        for (size_t i = 0; i < needs[pos].size(); ++i) {
            uint64_t cost = 0;
            for (const IndexKey& k : needs[pos][i].keys) cost += uses[KeyId{needs[pos][i].sel, needs[pos][i].prefix, k}];
            if (cost < best) {
                best = cost;
                chosen[pos] = int(i);
            }
        }
        if (chosen[pos] >= 0) ++group_rules[GroupId{needs[pos][size_t(chosen[pos])].sel, needs[pos][size_t(chosen[pos])].prefix}];
    }
    // Keep the kIndexMaxGroups groups with most rules; the others' rules are always candidates.
    std::vector<std::pair<uint32_t, GroupId>> by_size;
    for (const auto& [g, n] : group_rules) by_size.emplace_back(n, g);
    std::stable_sort(by_size.begin(), by_size.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::map<GroupId, bool> kept;
    for (size_t i = 0; i < by_size.size(); ++i) kept[by_size[i].second] = i < size_t(kIndexMaxGroups);
    for (size_t pos = 0; pos < nrules; ++pos) {
        if (never[pos]) continue;
        if (chosen[pos] < 0) {
            ix.always.push_back(uint32_t(pos));
            continue;
        }
        const Need& n = needs[pos][size_t(chosen[pos])];
        const GroupId g{n.sel, n.prefix};
        if (!kept[g]) {
            ix.always.push_back(uint32_t(pos));
            continue;
        }
        for (const IndexKey& k : n.keys) {
            auto& list = groups[g][k];
            if (list.empty() || list.back() != pos) list.push_back(uint32_t(pos));  // a set may repeat a key
        }
    }
    if (ix.always.size() == nrules) return ix;  // nothing to skip
    ix.enabled = true;
    ix.first_indexed = UINT32_MAX;
    for (const auto& [gid, keys] : groups) {
        IndexGroup g;
        g.sel = gid.first;
        g.prefix = gid.second;
        g.width = uint8_t(indexable_width(gid.first));
        g.mask = index_mask(g.prefix);
        size_t cap = 4;
        while (cap < 2 * keys.size()) cap *= 2;
        g.slots.resize(cap);
        size_t words = 1;
        while (words * 64 < 16 * keys.size()) words *= 2;
        g.filter.resize(words);
        for (const auto& [k, list] : keys) {
            g.add_to_filter(index_hash(k));
            size_t i = index_hash(k) & (cap - 1);
            while (g.slots[i].count != 0) i = (i + 1) & (cap - 1);
            g.slots[i].key = k;
            g.slots[i].begin = uint32_t(ix.positions.size());
            g.slots[i].count = uint32_t(list.size());
            ix.positions.insert(ix.positions.end(), list.begin(), list.end());
            ix.first_indexed = std::min(ix.first_indexed, list.front());
        }
        ix.groups.push_back(std::move(g));
    }
    return ix;
}

}  // namespace

void build_chain_indexes(Program& p) {
    p.chain_index.clear();
    p.chain_index.resize(p.chains.size());
    for (size_t c = 0; c < p.chains.size(); ++c)
        if (p.chains[c].rules.size() > kIndexMinRules) p.chain_index[c] = build_one(p, p.chains[c]);
}

}  // namespace fwsim::rules::detail
