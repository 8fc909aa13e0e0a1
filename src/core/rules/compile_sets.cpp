// Sets, maps and verdict maps: typed elements, sorted and merged for
// binary search; references to named sets.
#include <algorithm>

#include "compiler.hpp"
#include "parser.hpp"

namespace fwsim::rules::detail {

void Compiler::encode_elem(const KeyShape& ks, const Val& v, Set& s, Set::Elem& e, bool& ranged, std::vector<std::vector<uint16_t>>* if_expansions) {
    std::vector<const Val*> comps;
    if (v.k == Val::K::concat) {
        for (auto& k : v.kids) comps.push_back(&k);
    } else {
        comps.push_back(&v);
    }
    if (comps.size() != ks.types.size())
        fail(v.loc, "element has " + std::to_string(comps.size()) + " components, " + ks.what +
                        " expects " + std::to_string(ks.types.size()));
    int off = 0;
    for (size_t i = 0; i < comps.size(); ++i) {
        Type t = ks.types[i];
        const Val& c = *comps[i];
        int w = type_width(t);
        if (t == Type::ifname && c.k == Val::K::string && is_wildcard(c.text) && if_expansions) {
            if (comps.size() != 1) fail(c.loc, "interface wildcards are not supported in concatenations");
            if_expansions->push_back(expand_ifname(vc_.interfaces, c.text));
            put_be(e.lo.b.data() + off, 0, w);
            put_be(e.hi.b.data() + off, 0, w);
        } else {
            Encoded en = encode_value(vc_, t, c, ks.what);
            std::copy(en.lo.begin(), en.lo.end(), e.lo.b.begin() + off);
            std::copy(en.hi.begin(), en.hi.end(), e.hi.b.begin() + off);
            ranged = ranged || en.is_range;
            if (if_expansions) if_expansions->push_back({});
        }
        off += w;
    }
    (void)s;
}

void Compiler::shape_set(Set& s, const KeyShape& ks) {
    s.ncomp = uint8_t(ks.types.size());
    int w = 0;
    for (size_t i = 0; i < ks.types.size(); ++i) {
        s.comp_width[i] = type_width(ks.types[i]);
        w += s.comp_width[i];
    }
    if (w > kMaxKey || ks.types.size() > size_t(kMaxConcat))
        fail(Loc{}, "concatenation too long");
    s.width = uint8_t(w);
    s.single_comp = ks.types.size() == 1;
}

// data_type: for maps; `nat_port` allows `addr . port` data.
uint32_t Compiler::build_set(const std::string& name, const KeyShape& ks, const std::vector<Val>& elems, bool is_map, Type data_type, bool interval_declared, bool named, Loc loc, uint32_t owner_chain, const TableAst& t) {
    Set s;
    s.name = name;
    shape_set(s, ks);
    bool any_range = false;
    Loc range_loc = loc;
    for (const Val& v0 : elems) {
        const Val* kv = &v0;
        const Val* dv = nullptr;
        if (v0.k == Val::K::mapping) {
            kv = &v0.kids[0];
            dv = &v0.kids[1];
        }
        if (is_map && !dv) fail(v0.loc, "map element needs a value (key : value)");
        if (!is_map && dv) fail(v0.loc, "set element cannot have a value; use a map");
        uint32_t data = 0;
        if (dv) data = compile_data(*dv, data_type, owner_chain, t, name);
        if (kv->k == Val::K::wildcard) {
            s.has_wildcard = true;
            s.wildcard_data = data;
            continue;
        }
        if (kv->k == Val::K::set) {  // nested anonymous set: flatten
            for (const auto& k : kv->kids) {
                Set::Elem e;
                bool r = false;
                encode_elem(ks, k, s, e, r, nullptr);
                any_range = any_range || r;
                e.data = data;
                s.elems.push_back(e);
            }
            continue;
        }
        Set::Elem e;
        e.data = data;
        bool r = false;
        std::vector<std::vector<uint16_t>> exp;
        encode_elem(ks, *kv, s, e, r, &exp);
        if (ks.types.size() == 1 && ks.types[0] == Type::ifname && kv->k == Val::K::string &&
            is_wildcard(kv->text)) {
            // nft stores "eth*" as a prefix: it needs an interval set
            if (!any_range) range_loc = kv->loc;
            any_range = true;
            for (uint16_t idx : exp[0]) {
                Set::Elem x = e;
                put_be(x.lo.b.data(), idx, 2);
                put_be(x.hi.b.data(), idx, 2);
                s.elems.push_back(x);
            }
            continue;
        }
        if (r && !any_range) range_loc = kv->loc;
        any_range = any_range || r;
        s.elems.push_back(e);
    }
    if (named && any_range && !interval_declared)
        fail(range_loc, "set \"" + name + "\" has range or prefix elements but no 'flags interval'");
    s.exact = !any_range;
    finish_set(s, is_map, loc);
    p_.sets.push_back(std::move(s));
    return uint32_t(p_.sets.size() - 1);
}

void Compiler::finish_set(Set& s, bool is_map, Loc loc) {
    int w = s.width;
    auto less = [w](const Set::Elem& a, const Set::Elem& b) {
        int c = key_cmp(a.lo.b.data(), b.lo.b.data(), w);
        if (c != 0) return c < 0;
        return key_cmp(a.hi.b.data(), b.hi.b.data(), w) < 0;
    };
    if (!s.exact && !s.single_comp) return;  // concatenated ranges: linear scan
    std::stable_sort(s.elems.begin(), s.elems.end(), less);
    std::vector<Set::Elem> out;
    for (const auto& e : s.elems) {
        if (!out.empty()) {
            Set::Elem& l = out.back();
            bool dup = key_cmp(l.lo.b.data(), e.lo.b.data(), w) == 0 &&
                       key_cmp(l.hi.b.data(), e.hi.b.data(), w) == 0;
            bool overlap = key_cmp(e.lo.b.data(), l.hi.b.data(), w) <= 0;
            if (dup && (!is_map || l.data == e.data)) continue;
            if (overlap) {
                if (is_map) fail(loc, "conflicting intervals specified in map \"" + s.name + "\"");
                // sets merge overlapping intervals (nft's auto-merge)
                if (key_cmp(e.hi.b.data(), l.hi.b.data(), w) > 0) l.hi = e.hi;
                continue;
            }
        }
        out.push_back(e);
    }
    s.elems = std::move(out);
}

void Compiler::integer_keys() {
    for (Set& s : p_.sets) {
        // the sets set_lookup() binary-searches (the others are scanned)
        s.ints = (s.exact || s.single_comp) && s.width > 0 && s.width <= 8;
        if (!s.ints) continue;
        for (const Set::Elem& e : s.elems) {
            s.lo64.push_back(get_be(e.lo.b.data(), s.width));
            s.hi64.push_back(get_be(e.hi.b.data(), s.width));
        }
        // about one element per bucket, at most 2^16 buckets
        constexpr size_t kMinBucketed = 64;
        const size_t n = s.lo64.size();
        if (n < kMinBucketed || s.width < 2) continue;
        int bits = 1;
        while (bits < 16 && (size_t(2) << bits) <= n) ++bits;
        s.bucket_shift = uint8_t(8 * s.width - bits);
        const size_t nb = size_t(1) << bits;
        s.bucket_start.resize(nb + 1);
        size_t i = 0;
        for (size_t b = 0; b < nb; ++b) {
            while (i < n && (s.lo64[i] >> s.bucket_shift) < b) ++i;
            s.bucket_start[b] = uint32_t(i);
        }
        s.bucket_start[nb] = uint32_t(n);
    }
    for (Match& m : p_.matches) {
        const bool lookup = m.op == MatchOp::lookup || m.op == MatchOp::not_lookup;
        m.scalar_lookup = lookup && m.nsel == 1 && m.sel[0] != Sel::ip6_saddr && m.sel[0] != Sel::ip6_daddr &&
                          p_.sets[m.set].ints;
    }
}

uint32_t Compiler::compile_data(const Val& dv, Type data_type, uint32_t owner_chain, const TableAst& t, const std::string& what) {
    if (data_type == Type::verdict) {
        if (dv.k != Val::K::verdict) fail(dv.loc, "map \"" + what + "\" expects a verdict");
        Verdict_ v = verdict_of(dv.text, dv.target, dv.target_loc, t, owner_chain);
        p_.map_verdicts.push_back(v);
        return uint32_t(p_.map_verdicts.size() - 1);
    }
    if (data_type == Type::ipv4 || data_type == Type::ipv6) {
        NatData nd;
        const Val* a = &dv;
        const Val* port = nullptr;
        if (dv.k == Val::K::concat) {
            if (dv.kids.size() != 2) fail(dv.loc, "expected address . port");
            a = &dv.kids[0];
            port = &dv.kids[1];
        }
        Encoded e = encode_value(vc_, data_type, *a, what);
        nd.family = data_type == Type::ipv4 ? Family::ipv4 : Family::ipv6;
        std::copy(e.lo.begin(), e.lo.end(), nd.addr_min.b.begin());
        std::copy(e.hi.begin(), e.hi.end(), nd.addr_max.b.begin());
        if (port) {
            Encoded pe = encode_value(vc_, Type::service, *port, what);
            nd.has_port = true;
            nd.port_min = uint16_t(get_be(pe.lo.data(), 2));
            nd.port_max = uint16_t(get_be(pe.hi.data(), 2));
        }
        p_.nat_data.push_back(nd);
        return uint32_t(p_.nat_data.size() - 1);
    }
    // other data types (marks, ports): stored as NAT port data for dnat port maps
    Encoded e = encode_value(vc_, data_type, dv, what);
    NatData nd;
    nd.has_port = true;
    nd.port_min = uint16_t(get_be(e.lo.data(), int(e.lo.size())));
    nd.port_max = uint16_t(get_be(e.hi.data(), int(e.hi.size())));
    p_.nat_data.push_back(nd);
    return uint32_t(p_.nat_data.size() - 1);
}

void Compiler::compile_named_set(TableAst& t, SetAst& s) {
    KeyShape ks{s.key, "set \"" + s.name + "\""};
    // owner chain for map verdict jumps: none (uint32 max) - checked on use
    uint32_t id = build_set(s.name, ks, s.elements, s.is_map, s.data, s.interval, true, s.loc,
                            UINT32_MAX, t);
    Set& ps = p_.sets[id];
    ps.dynamic = s.dynamic || s.has_timeout_flag;
    ps.max_elems = s.size;
    ps.timeout_ns = int64_t(s.timeout_ms) * 1'000'000;
    set_ids_[key(t, s.name)] = id;
    named_sets_[id] = &s;
}

uint32_t Compiler::set_ref(const TableAst& t, const Val& v, const KeyShape& ks, bool want_map, Type* data_type, uint32_t chain) {
    auto it = set_ids_.find(key(t, v.text));
    if (it == set_ids_.end()) fail(v.loc, std::string(want_map ? "map" : "set") + " \"" + v.text + "\" does not exist");
    SetAst* s = named_sets_[it->second];
    if (s->is_map != want_map)
        fail(v.loc, "\"" + v.text + "\" is a " + (s->is_map ? "map" : "set") + ", expected a " +
                        (want_map ? "map" : "set"));
    if (s->key != ks.types) {
        std::string tn;
        for (auto ty : s->key) tn += (tn.empty() ? "" : " . ") + std::string(type_name(ty));
        fail(v.loc, "type mismatch: " + ks.what + " cannot be looked up in \"" + v.text +
                        "\" of type " + tn);
    }
    if (data_type) *data_type = s->data;
    // verdict jumps inside a named map count from every chain that uses it
    if (s->is_map && s->data == Type::verdict) {
        for (const auto& e : p_.sets[it->second].elems) add_map_edge(chain, e.data);
        if (p_.sets[it->second].has_wildcard) add_map_edge(chain, p_.sets[it->second].wildcard_data);
    }
    return it->second;
}

void Compiler::add_map_edge(uint32_t chain, uint32_t verdict_index) {
    const Verdict_& v = p_.map_verdicts[verdict_index];
    if (v.k == Verdict_::K::jump || v.k == Verdict_::K::goto_)
        edges_[chain].push_back(Edge{v.chain, chain_locs_[v.chain]});
}

}  // namespace fwsim::rules::detail
