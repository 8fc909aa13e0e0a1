// RulesetAst -> Program: resolves chains, sets and interfaces, types every
// value, checks what nft and the kernel check at load (jump loops, jump
// depth, NAT and reject hooks), and registers base chains per hook.
#include <algorithm>
#include <map>

#include "ast.hpp"
#include "parser.hpp"
#include "program.hpp"
#include "values.hpp"

namespace fwsim::rules::detail {

namespace {

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

    Program run() {
        // chain ids first, so that jumps can point forward
        for (auto& t : ast_.tables) {
            for (auto& c : t.chains) {
                Chain pc;
                pc.table_family = t.family_name;
                pc.table = t.name;
                pc.name = c.name;
                pc.base = c.base;
                pc.type = c.type;
                pc.hook = c.hook;
                pc.priority = c.priority;
                pc.policy = c.policy_drop ? Verdict::drop : Verdict::accept;
                pc.family = t.family;
                pc.dormant = t.dormant;
                chain_ids_[key(t, c.name)] = uint32_t(p_.chains.size());
                chain_locs_.push_back(c.loc);
                p_.chains.push_back(std::move(pc));
            }
        }
        edges_.resize(p_.chains.size());
        for (auto& t : ast_.tables) {
            for (auto& s : t.sets) compile_named_set(t, s);
        }
        for (auto& t : ast_.tables) {
            for (auto& c : t.chains) {
                uint32_t cid = chain_ids_[key(t, c.name)];
                for (auto& r : c.rules) compile_rule(t, c, cid, r);
            }
        }
        check_loops();
        check_hooks();
        register_hooks();
        return std::move(p_);
    }

private:
    RulesetAst& ast_;
    ValueContext vc_;
    Program p_;
    std::map<std::string, uint32_t> chain_ids_;
    std::map<std::string, uint32_t> set_ids_;
    std::map<std::string, uint32_t> named_counters_;
    std::vector<Loc> chain_locs_;
    std::vector<std::vector<Edge>> edges_;
    std::vector<HookCheck> checks_;

    static std::string key(const TableAst& t, const std::string& n) {
        return t.family_name + " " + t.name + " " + n;
    }
    [[noreturn]] void fail(Loc l, const std::string& m) { fail_at(ast_.sources, l, m); }

    // ------------------------------------------------------------ sets
    struct KeyShape {
        std::vector<Type> types;
        std::string what;
    };

    void encode_elem(const KeyShape& ks, const Val& v, Set& s, Set::Elem& e, bool& ranged,
                     std::vector<std::vector<uint16_t>>* if_expansions) {
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

    void shape_set(Set& s, const KeyShape& ks) {
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
    uint32_t build_set(const std::string& name, const KeyShape& ks, const std::vector<Val>& elems,
                       bool is_map, Type data_type, bool interval_declared, bool named, Loc loc,
                       uint32_t owner_chain, const TableAst& t) {
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

    void finish_set(Set& s, bool is_map, Loc loc) {
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

    uint32_t compile_data(const Val& dv, Type data_type, uint32_t owner_chain, const TableAst& t,
                          const std::string& what) {
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

    void compile_named_set(TableAst& t, SetAst& s) {
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
    std::map<uint32_t, SetAst*> named_sets_;

    // ------------------------------------------------------------ verdicts
    Verdict_ verdict_of(const std::string& w, const std::string& target, Loc tloc, const TableAst& t,
                        uint32_t from_chain) {
        Verdict_ v;
        if (w == "accept") v.k = Verdict_::K::accept;
        else if (w == "drop") v.k = Verdict_::K::drop;
        else if (w == "return") v.k = Verdict_::K::return_;
        else if (w == "continue") v.k = Verdict_::K::continue_;
        else {
            v.k = w == "jump" ? Verdict_::K::jump : Verdict_::K::goto_;
            auto it = chain_ids_.find(key(t, target));
            if (it == chain_ids_.end()) fail(tloc, "unknown chain \"" + target + "\"");
            if (p_.chains[it->second].base)
                fail(tloc, "cannot " + w + " to base chain \"" + target + "\"");
            v.chain = it->second;
            if (from_chain != UINT32_MAX) edges_[from_chain].push_back(Edge{v.chain, tloc});
        }
        return v;
    }

    // ------------------------------------------------------------ rules
    std::string sel_names(const std::vector<SelRef>& l) {
        std::string s;
        for (auto& r : l) {
            if (!s.empty()) s += " . ";
            s += sel_info(r.sel).name;
        }
        return s;
    }

    // The network family a selector implies (nft's protocol dependency).
    static Family sel_family(Sel s) {
        switch (s) {
        case Sel::ip_saddr: case Sel::ip_daddr: case Sel::ip_protocol: case Sel::ip_ttl: case Sel::ip_length:
        case Sel::ip_dscp: case Sel::ip_id: case Sel::ip_version:
            return Family::ipv4;
        case Sel::ip6_saddr: case Sel::ip6_daddr: case Sel::ip6_nexthdr: case Sel::ip6_hoplimit:
        case Sel::ip6_dscp:
            return Family::ipv6;
        default:
            return Family::none;
        }
    }
    const TableAst* cur_table_ = nullptr;

    KeyShape shape_of(const std::vector<SelRef>& l) {
        KeyShape ks;
        for (auto& r : l) {
            Family f = sel_family(r.sel);
            if (cur_table_ && cur_table_->family != Family::none && f != Family::none && f != cur_table_->family)
                fail(r.loc, "conflicting protocols specified: " + cur_table_->family_name + " table vs. " +
                                std::string(sel_info(r.sel).name));
            ks.types.push_back(sel_info(r.sel).type);
            if (sel_info(r.sel).needs_ct) p_.uses_ct = true;
        }
        ks.what = sel_names(l);
        if (l.size() > size_t(kMaxConcat)) fail(l[0].loc, "concatenation too long");
        return ks;
    }

    void fill_sels(const std::vector<SelRef>& l, std::array<Sel, kMaxConcat>& sel, uint8_t& n, uint8_t& w) {
        n = uint8_t(l.size());
        w = 0;
        for (size_t i = 0; i < l.size(); ++i) {
            sel[i] = l[i].sel;
            w = uint8_t(w + type_width(sel_info(l[i].sel).type));
        }
    }

    uint32_t set_ref(const TableAst& t, const Val& v, const KeyShape& ks, bool want_map, Type* data_type,
                     uint32_t chain) {
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
    void add_map_edge(uint32_t chain, uint32_t verdict_index) {
        const Verdict_& v = p_.map_verdicts[verdict_index];
        if (v.k == Verdict_::K::jump || v.k == Verdict_::K::goto_)
            edges_[chain].push_back(Edge{v.chain, chain_locs_[v.chain]});
    }

    void compile_rule(TableAst& t, ChainAst& c, uint32_t cid, RuleAst& r) {
        uint32_t rid = uint32_t(p_.rules.size());
        Rule rule;
        rule.chain = cid;
        RuleInfo info;
        info.file = ast_.sources[r.loc.file].path;
        info.line = r.loc.line;
        info.table = t.family_name + " " + t.name;
        info.chain = c.name;
        info.text = r.text;
        cur_ = &rule;
        cur_table_ = &t;
        cur_l3_ = t.family;
        cur_l4_ = 0;
        bool transport = false;
        for (auto& item : r.items) {
            if (auto* m = std::get_if<MatchAst>(&item)) {
                protocol_context(*m);
                compile_match(t, *m);
                for (const auto& sr : m->lhs) transport = transport || is_transport(sr.sel);
            } else {
                auto& st = std::get<StmtAst>(item);
                // nft's stmt_evaluate_nat(): "transport protocol mapping is only
                // valid after transport protocol match"
                if (st.k == StmtAst::K::nat && st.nat_has_port && !transport)
                    fail(st.nat_port.loc, "transport protocol mapping is only valid after transport protocol match");
                compile_stmt(t, c, cid, st);
            }
        }
        p_.rules.push_back(std::move(rule));
        p_.rule_info.push_back(std::move(info));
        p_.chains[cid].rules.push_back(rid);
    }
    Rule* cur_ = nullptr;
    Family cur_l3_ = Family::none;  // the rule's network protocol so far (nft's proto_ctx)
    uint8_t cur_l4_ = 0;            // and its transport protocol

    static uint8_t sel_proto(Sel s) {
        switch (s) {
        case Sel::tcp_sport: case Sel::tcp_dport: case Sel::tcp_flags: case Sel::tcp_sequence:
        case Sel::tcp_ackseq: case Sel::tcp_window:
            return proto::tcp;
        case Sel::udp_sport: case Sel::udp_dport: case Sel::udp_length: return proto::udp;
        case Sel::udplite_sport: case Sel::udplite_dport: return proto::udplite;
        case Sel::sctp_sport: case Sel::sctp_dport: return proto::sctp;
        case Sel::icmp_type: case Sel::icmp_code: case Sel::icmp_id: case Sel::icmp_sequence: return proto::icmp;
        case Sel::icmpv6_type: case Sel::icmpv6_code: case Sel::icmpv6_id: case Sel::icmpv6_sequence:
            return proto::icmpv6;
        default: return 0;
        }
    }
    static std::string l4_name(uint8_t p) {
        switch (p) {
        case proto::tcp: return "tcp";
        case proto::udp: return "udp";
        case proto::udplite: return "udplite";
        case proto::sctp: return "sctp";
        case proto::icmp: return "icmp";
        case proto::icmpv6: return "icmpv6";
        default: return std::to_string(p);
        }
    }
    static std::string l3_name(Family f) { return f == Family::ipv6 ? "ip6" : "ip"; }

    // Payload expressions imply their protocols; two that cannot both hold
    // in one packet are an error, as nft's "conflicting protocols specified".
    void protocol_context(const MatchAst& m) {
        if (m.ct_count) return;
        // expr_evaluate_meta() in nftables' evaluate.c
        if (m.lhs.size() == 1 && m.lhs[0].sel == Sel::meta_nfproto && cur_table_->family != Family::none)
            fail(m.lhs[0].loc, "meta nfproto is only useful in the inet family");
        for (const auto& sr : m.lhs) {
            if (uint8_t p = sel_proto(sr.sel)) {
                if (cur_l4_ && cur_l4_ != p)
                    fail(sr.loc, "conflicting protocols specified: " + l4_name(cur_l4_) + " vs. " + l4_name(p));
                cur_l4_ = p;
            }
            Family f = sel_family(sr.sel);
            if (f != Family::none) {
                if (cur_l3_ != Family::none && cur_l3_ != f)
                    fail(sr.loc, "conflicting protocols specified: " + l3_name(cur_l3_) + " vs. " + l3_name(f));
                cur_l3_ = f;
            }
        }
        // `meta nfproto ipv4`, `meta l4proto tcp`, `ip protocol tcp` set the context
        if (m.lhs.size() == 1 && (m.op == RelOp::implicit || m.op == RelOp::eq) && m.rhs.k == Val::K::atom) {
            Sel s = m.lhs[0].sel;
            if (s == Sel::meta_nfproto) {
                auto v = symbol_value(Type::nfproto, m.rhs.text);
                if (v) cur_l3_ = *v == 10 ? Family::ipv6 : Family::ipv4;
            } else if (s == Sel::meta_l4proto || s == Sel::ip_protocol || s == Sel::ip6_nexthdr) {
                auto v = symbol_value(Type::proto, m.rhs.text);
                if (v) cur_l4_ = uint8_t(*v);
            }
        }
    }

    static bool is_transport(Sel s) {
        switch (s) {
        case Sel::tcp_sport: case Sel::tcp_dport: case Sel::udp_sport: case Sel::udp_dport:
        case Sel::udplite_sport: case Sel::udplite_dport: case Sel::sctp_sport: case Sel::sctp_dport:
        case Sel::th_sport: case Sel::th_dport: case Sel::tcp_flags: case Sel::meta_l4proto:
        case Sel::ip_protocol: case Sel::ip6_nexthdr:
            return true;
        default:
            return false;
        }
    }

    void add_match(Match m, std::string text) {
        if (m.width > 0 && m.width <= 8) {
            m.small = true;
            m.v64 = get_be(m.value.b.data(), m.width);
            m.hi64 = get_be(m.hi.b.data(), m.width);
            m.mask64 = m.masked ? get_be(m.mask.b.data(), m.width) : ~uint64_t(0);
        }
        p_.matches.push_back(m);
        cur_->ops.push_back(Op{true, uint32_t(p_.matches.size() - 1)});
        cur_->op_text.push_back(std::move(text));
    }
    void add_stmt(Stmt s, std::string text) {
        p_.stmts.push_back(s);
        cur_->ops.push_back(Op{false, uint32_t(p_.stmts.size() - 1)});
        cur_->op_text.push_back(std::move(text));
    }

    static void copy_key(Key& k, const std::vector<uint8_t>& b) { std::copy(b.begin(), b.end(), k.b.begin()); }

    void compile_match(TableAst& t, MatchAst& m) {
        Match x;
        std::string text;
        if (m.ct_count) {
            // fwsim keeps no per-key connection counts: `ct count N` is taken
            // as always under the limit (documented difference).
            x.op = m.count_over ? MatchOp::never : MatchOp::always;
            p_.uses_ct = true;
            add_match(x, "ct count");
            return;
        }
        KeyShape ks = shape_of(m.lhs);
        fill_sels(m.lhs, x.sel, x.nsel, x.width);
        text = ks.what;
        bool concat = m.lhs.size() > 1;
        Type ty = ks.types[0];
        const Val& rhs = m.rhs;
        auto set_op = [&](bool neg_ok) {
            if (m.op == RelOp::implicit || m.op == RelOp::eq) return MatchOp::lookup;
            if (m.op == RelOp::ne && neg_ok) return MatchOp::not_lookup;
            fail(m.loc, "relational operator not supported with sets");
        };
        if (rhs.k == Val::K::set) {
            if (m.has_mask) fail(m.loc, "a mask with a set lookup is not supported by fwsim");
            if (rhs.kids.empty()) fail(rhs.loc, "Set is empty");
            x.op = set_op(true);
            x.set = build_set("", ks, rhs.kids, false, Type::verdict, true, false, rhs.loc, UINT32_MAX, t);
            add_match(x, text);
            return;
        }
        if (rhs.k == Val::K::setref) {
            x.op = set_op(true);
            x.set = set_ref(t, rhs, ks, false, nullptr, 0);
            add_match(x, text);
            return;
        }
        if (concat) fail(rhs.loc, "Use concatenations with sets and maps, not singleton values");
        // interface wildcards: a set of the matching interface indexes
        if (ty == Type::ifname && rhs.k == Val::K::string && is_wildcard(rhs.text)) {
            x.op = set_op(true);
            Set s;
            shape_set(s, ks);
            for (uint16_t idx : expand_ifname(vc_.interfaces, rhs.text)) {
                Set::Elem e;
                put_be(e.lo.b.data(), idx, 2);
                e.hi = e.lo;
                s.elems.push_back(e);
            }
            p_.sets.push_back(std::move(s));
            x.set = uint32_t(p_.sets.size() - 1);
            add_match(x, text);
            return;
        }
        int w = x.width;
        if (m.slash) {
            if (!type_is_bitmask(ty)) fail(m.loc, ks.what + " is not a bitmask: '/' needs flags");
            x.masked = true;
            put_be(x.mask.b.data(), flags_value(vc_, ty, m.slash_mask, ks.what), w);
            put_be(x.value.b.data(), flags_value(vc_, ty, rhs, ks.what), w);
            if (m.op == RelOp::implicit || m.op == RelOp::eq) x.op = MatchOp::eq;
            else if (m.op == RelOp::ne) x.op = MatchOp::ne;
            else fail(m.loc, "only == and != can be used with '/'");
            add_match(x, text);
            return;
        }
        if (m.has_mask) {
            x.masked = true;
            if (type_is_bitmask(ty)) {
                put_be(x.mask.b.data(), flags_value(vc_, ty, m.mask, ks.what), w);
            } else {
                Encoded me = encode_value(vc_, ty == Type::ipv4 || ty == Type::ipv6 ? ty : Type::u32, m.mask,
                                          ks.what);
                if (int(me.lo.size()) > w) {  // integer mask given for a narrower field
                    uint64_t v = get_be(me.lo.data(), int(me.lo.size()));
                    put_be(x.mask.b.data(), v, w);
                } else {
                    copy_key(x.mask, me.lo);
                }
            }
        }
        if (m.op == RelOp::neg) {
            // `tcp flags ! fin,syn`: none of the flags set (nft's OP_NEG)
            if (!type_is_bitmask(ty) || m.has_mask)
                fail(m.loc, "negation can only be used with singleton bitmask values.  Did you mean \"!=\"?");
            x.masked = true;
            put_be(x.mask.b.data(), flags_value(vc_, ty, rhs, ks.what), w);
            x.op = MatchOp::eq;
            add_match(x, text);
            return;
        }
        if (rhs.k == Val::K::list) {
            if (!type_is_bitmask(ty))
                fail(rhs.loc, "a comma-separated list needs a bitmask type; " + ks.what +
                                          " is not one (use a set: { a, b })");
            // `ct state established,related`: (v & flags) != 0
            uint64_t f = flags_value(vc_, ty, rhs, ks.what);
            x.masked = true;
            put_be(x.mask.b.data(), f, w);
            x.op = (m.op == RelOp::ne) ? MatchOp::eq : MatchOp::ne;
            add_match(x, text);
            return;
        }
        if (type_is_bitmask(ty) && m.op == RelOp::implicit && !m.has_mask) {
            // implicit match of flags: (v & value) != 0, as nft's flagcmp
            uint64_t f = flags_value(vc_, ty, rhs, ks.what);
            x.masked = true;
            put_be(x.mask.b.data(), f, w);
            x.op = MatchOp::ne;
            add_match(x, text);
            return;
        }
        Encoded e = encode_value(vc_, ty, rhs, ks.what);
        copy_key(x.value, e.lo);
        copy_key(x.hi, e.hi);
        if (x.masked) {
            for (int i = 0; i < w; ++i) {
                x.value.b[size_t(i)] &= x.mask.b[size_t(i)];
                x.hi.b[size_t(i)] &= x.mask.b[size_t(i)];
            }
        }
        if (e.is_range) {
            if (m.op == RelOp::implicit || m.op == RelOp::eq) x.op = MatchOp::range;
            else if (m.op == RelOp::ne) x.op = MatchOp::not_range;
            else fail(m.loc, "relational operator not supported with ranges");
        } else {
            switch (m.op) {
            case RelOp::implicit: case RelOp::eq: x.op = MatchOp::eq; break;
            case RelOp::ne: x.op = MatchOp::ne; break;
            case RelOp::lt: x.op = MatchOp::lt; break;
            case RelOp::gt: x.op = MatchOp::gt; break;
            case RelOp::le: x.op = MatchOp::le; break;
            case RelOp::ge: x.op = MatchOp::ge; break;
            case RelOp::neg: break;  // handled above
            }
        }
        add_match(x, text);
    }

    void compile_stmt(TableAst& t, ChainAst& c, uint32_t cid, StmtAst& s) {
        Stmt x;
        switch (s.k) {
        case StmtAst::K::verdict:
            x.k = Stmt::K::verdict;
            x.verdict = verdict_of(s.verdict, s.target, s.target_loc, t, cid);
            add_stmt(x, s.verdict + (s.target.empty() ? "" : " " + s.target));
            return;
        case StmtAst::K::counter:
            x.k = Stmt::K::counter;
            if (!s.counter_name.empty()) {
                if (std::find(t.counters.begin(), t.counters.end(), s.counter_name) == t.counters.end())
                    fail(s.target_loc, "counter \"" + s.counter_name + "\" does not exist");
                auto [it, fresh] = named_counters_.try_emplace(key(t, s.counter_name), p_.counter_count);
                if (fresh) ++p_.counter_count;
                x.index = it->second;
            } else {
                x.index = p_.counter_count++;
            }
            add_stmt(x, "counter");
            return;
        case StmtAst::K::log:
            x.k = Stmt::K::log;
            x.index = uint32_t(p_.log_prefixes.size());
            p_.log_prefixes.push_back(s.prefix);
            add_stmt(x, "log");
            return;
        case StmtAst::K::limit: {
            x.k = Stmt::K::limit;
            x.index = uint32_t(p_.limits.size());
            p_.limits.push_back(limit_spec(s));
            add_stmt(x, "limit");
            return;
        }
        case StmtAst::K::meta_mark_set:
        case StmtAst::K::ct_mark_set:
            x.k = s.k == StmtAst::K::meta_mark_set ? Stmt::K::meta_mark_set : Stmt::K::ct_mark_set;
            if (x.k == Stmt::K::ct_mark_set) p_.uses_ct = true;
            x.mark_src = uint8_t(s.mark_src);
            if (s.mark_src == StmtAst::MarkSrc::value) {
                Encoded e = encode_value(vc_, Type::mark, s.mark_value, "mark");
                if (e.is_range) fail(s.mark_value.loc, "a mark must be a single value");
                x.mark = uint32_t(get_be(e.lo.data(), 4));
            }
            add_stmt(x, x.k == Stmt::K::meta_mark_set ? "meta mark set" : "ct mark set");
            return;
        case StmtAst::K::notrack:
            x.k = Stmt::K::notrack;
            // nft_notrack_ops has no .validate: any hook (it only has an effect
            // before conntrack, which the engine decides)
            add_stmt(x, "notrack");
            return;
        case StmtAst::K::reject:
            compile_reject(t, cid, s);
            return;
        case StmtAst::K::nat:
            compile_nat(t, cid, s);
            return;
        case StmtAst::K::dynset:
            compile_dynset(t, s);
            return;
        case StmtAst::K::quota:
            x.k = Stmt::K::quota;
            x.index = uint32_t(p_.quotas.size());
            p_.quotas.push_back(Program::Quota{s.quota_bytes, s.quota_used, s.over});
            add_stmt(x, "quota");
            return;
        case StmtAst::K::vmap: {
            x.k = Stmt::K::vmap;
            KeyShape ks = shape_of(s.map_lhs);
            fill_sels(s.map_lhs, x.sel, x.nsel, x.width);
            if (s.map.k == Val::K::setref) {
                Type dt;
                x.index = set_ref(t, s.map, ks, true, &dt, cid);
                if (dt != Type::verdict) fail(s.map.loc, "map \"" + s.map.text + "\" is not a verdict map");
            } else {
                if (s.map.kids.empty()) fail(s.map.loc, "Set is empty");
                x.index = build_set("", ks, s.map.kids, true, Type::verdict, true, false, s.map.loc, cid, t);
            }
            add_stmt(x, ks.what + " vmap");
            return;
        }
        }
        (void)c;
    }

    void compile_dynset(TableAst& t, StmtAst& s) {
        KeyShape ks = shape_of(s.dyn_key);
        DynSpec d;
        d.op = s.dyn_op == "add" ? DynSpec::Op::add : s.dyn_op == "update" ? DynSpec::Op::update : DynSpec::Op::delete_;
        fill_sels(s.dyn_key, d.sel, d.nsel, d.width);
        auto it = set_ids_.find(key(t, s.dyn_set));
        if (s.meter) {
            // a meter is a dynamic set of its own name (nft turns it into one)
            if (it == set_ids_.end()) {
                Set ms;
                ms.name = s.dyn_set;
                shape_set(ms, ks);
                ms.dynamic = true;
                ms.max_elems = s.meter_size;
                p_.sets.push_back(std::move(ms));
                it = set_ids_.emplace(key(t, s.dyn_set), uint32_t(p_.sets.size() - 1)).first;
                meter_types_[it->second] = ks.types;
            } else if (!meter_types_.count(it->second) || meter_types_[it->second] != ks.types) {
                fail(s.target_loc, "meter \"" + s.dyn_set + "\" clashes with a set or meter of another type");
            }
        } else {
            if (it == set_ids_.end()) fail(s.target_loc, "set \"" + s.dyn_set + "\" does not exist");
            auto nit = named_sets_.find(it->second);
            if (nit != named_sets_.end()) {
                SetAst* sa = nit->second;
                if (sa->is_map) fail(s.target_loc, "adding to maps from rules is not supported by fwsim");
                if (sa->key != ks.types)
                    fail(s.target_loc, "type mismatch: " + ks.what + " cannot be added to \"" + s.dyn_set + "\"");
                if (s.dyn_timeout_ms && !sa->has_timeout_flag)
                    fail(s.loc, "set \"" + s.dyn_set + "\" needs 'flags timeout' for element timeouts");
            }
            p_.sets[it->second].dynamic = true;
        }
        d.set = it->second;
        d.timeout_ns = int64_t(s.dyn_timeout_ms) * 1'000'000;
        d.counter = s.dyn_has_counter;
        if (s.dyn_has_limit) {
            d.has_limit = true;
            d.limit = limit_spec(s.dyn_stmts[0]);
        }
        p_.dynsets.push_back(d);
        Stmt x;
        x.k = Stmt::K::dynset;
        x.index = uint32_t(p_.dynsets.size() - 1);
        add_stmt(x, (s.meter ? "meter " : s.dyn_op + " @") + s.dyn_set);
    }
    std::map<uint32_t, std::vector<Type>> meter_types_;

    LimitSpec limit_spec(const StmtAst& s) {
        // as nft_limit_init() in net/netfilter/nft_limit.c
        LimitSpec l;
        l.bytes = s.bytes;
        l.over = s.over;
        l.rate = s.rate;
        l.nsecs = s.unit_secs * 1'000'000'000ull;
        l.burst = s.burst;
        if (!l.bytes && l.burst == 0) l.burst = 5;  // NFT_LIMIT_PKT_BURST_DEFAULT
        if (!l.bytes) {
            l.tokens_max = (l.nsecs / l.rate) * l.burst;
            l.cost = l.nsecs / l.rate;
        } else {
            uint64_t rb = l.rate + l.burst;
            if (rb / l.nsecs > 0 && rb > UINT64_MAX / l.nsecs) fail(s.rate_loc, "limit rate too large");
            if (rb > UINT64_MAX / l.nsecs) fail(s.rate_loc, "limit rate too large");
            l.tokens_max = l.nsecs * rb / l.rate;
        }
        return l;
    }

    void compile_reject(TableAst& t, uint32_t cid, StmtAst& s) {
        Stmt x;
        x.k = Stmt::K::reject;
        x.reject = s.reject;
        std::string fam = t.family_name;
        switch (s.reject) {
        case RejectKind::none:
            if (fam == "ip") { x.reject = RejectKind::icmp_port_unreachable; x.reject_type = 3; x.reject_code = 3; }
            else if (fam == "ip6") { x.reject = RejectKind::icmpv6; x.reject_type = 1; x.reject_code = 4; }
            else { x.reject = RejectKind::icmpx; x.reject_code = 1; }  // NFT_REJECT_ICMPX_PORT_UNREACH
            break;
        case RejectKind::icmp: {
            if (fam == "ip6") fail(s.loc, "reject with icmp is not allowed in an ip6 table");
            Encoded e = encode_value(vc_, Type::icmp_code, s.reject_code, "reject with icmp");
            x.reject_type = 3;
            x.reject_code = e.lo[0];
            break;
        }
        case RejectKind::icmpv6: {
            if (fam == "ip") fail(s.loc, "reject with icmpv6 is not allowed in an ip table");
            Encoded e = encode_value(vc_, Type::icmpv6_code, s.reject_code, "reject with icmpv6");
            x.reject_type = 1;
            x.reject_code = e.lo[0];
            break;
        }
        case RejectKind::icmpx: {
            if (fam != "inet") fail(s.loc, "reject with icmpx is only allowed in inet tables");
            Encoded e = encode_value(vc_, Type::icmpx_code, s.reject_code, "reject with icmpx");
            x.reject_code = e.lo[0];
            break;
        }
        case RejectKind::tcp_reset: {
            if (cur_l4_ && cur_l4_ != proto::tcp) fail(s.loc, "you cannot use tcp reset with this protocol");
            // nft adds the dependency `meta l4proto tcp`
            Match m;
            m.sel[0] = Sel::meta_l4proto;
            m.nsel = 1;
            m.width = 1;
            m.op = MatchOp::eq;
            m.value.b[0] = 6;
            add_match(m, "meta l4proto tcp");
            break;
        }
        case RejectKind::icmp_port_unreachable:
            break;
        }
        // nft_reject_validate() in net/netfilter/nft_reject.c
        checks_.push_back(HookCheck{cid, s.loc, false,
                                    bit(Hook::prerouting) | bit(Hook::input) | bit(Hook::forward) | bit(Hook::output),
                                    "reject"});
        add_stmt(x, "reject");
    }

    void compile_nat(TableAst& t, uint32_t cid, StmtAst& s) {
        NatSpec n;
        n.req.kind = s.nat_kind;
        n.req.random = s.random;
        n.req.fully_random = s.fully_random;
        n.req.persistent = s.persistent;
        Family fam = s.nat_family;
        if (fam != Family::none && t.family != Family::none && fam != t.family)
            fail(s.loc, "conflicting protocols specified: " + l3_name(t.family) + " vs. " + l3_name(fam) +
                            ". You must specify ip or ip6 family in nat statement");
        if (fam == Family::none) fam = t.family;
        if (fam == Family::none) fam = cur_l3_;
        bool addr_kind = s.nat_kind == NatRequest::Kind::snat || s.nat_kind == NatRequest::Kind::dnat;
        if (addr_kind && fam == Family::none && (s.nat_has_addr || s.nat_map))
            fail(s.loc, "ip or ip6 must be specified with address for inet tables.");
        if (s.nat_map) {
            KeyShape ks = shape_of(s.map_lhs);
            fill_sels(s.map_lhs, n.sel, n.nsel, n.width);
            n.map = true;
            Type dt = fam == Family::ipv6 ? Type::ipv6 : Type::ipv4;
            if (s.map.k == Val::K::setref) {
                Type got;
                n.set = set_ref(t, s.map, ks, true, &got, cid);
                if (got != Type::ipv4 && got != Type::ipv6 && got != Type::service)
                    fail(s.map.loc, "map \"" + s.map.text + "\" does not map to addresses");
            } else {
                if (fam == Family::none) {  // inet: guess from the first value
                    for (const auto& e : s.map.kids) {
                        if (e.k != Val::K::mapping) continue;
                        const Val& d = e.kids[1].k == Val::K::concat ? e.kids[1].kids[0] : e.kids[1];
                        Family f = Family::none;
                        if (parse_addr(d.text, &f)) dt = f == Family::ipv6 ? Type::ipv6 : Type::ipv4;
                        break;
                    }
                }
                n.set = build_set("", ks, s.map.kids, true, dt, true, false, s.map.loc, cid, t);
            }
            n.req.family = dt == Type::ipv6 ? Family::ipv6 : Family::ipv4;
            n.req.has_addr = true;
        } else if (s.nat_has_addr) {
            const Val& a = s.nat_addr;
            Family f = Family::none;
            std::string first = a.k == Val::K::range ? a.kids[0].text : a.text;
            size_t dash = first.find('-');
            if (auto pf = parse_prefix(first)) f = pf->family;  // an address or a prefix (a range)
            else if (dash != std::string::npos) parse_addr(first.substr(0, dash), &f);
            if (f == Family::none) fail(a.loc, "type mismatch: " + std::string(s.nat_kind == NatRequest::Kind::snat ? "snat" : "dnat") +
                                                   " to expects an address, got " + first);
            if (fam != Family::none && f != fam)
                fail(a.loc, std::string("address family mismatch: ") + (f == Family::ipv4 ? "IPv4" : "IPv6") +
                                " address in " + (fam == Family::ipv4 ? "an IPv4" : "an IPv6") + " NAT statement");
            Type ty = f == Family::ipv4 ? Type::ipv4 : Type::ipv6;
            Encoded e = encode_value(vc_, ty, a, "nat address");
            n.req.family = f;
            n.req.has_addr = true;
            std::copy(e.lo.begin(), e.lo.end(), n.req.addr_min.b.begin());
            std::copy(e.hi.begin(), e.hi.end(), n.req.addr_max.b.begin());
        }
        if (s.nat_has_port) {
            Encoded e = encode_value(vc_, Type::service, s.nat_port, "nat port");
            n.req.has_port = true;
            n.req.port_min = uint16_t(get_be(e.lo.data(), 2));
            n.req.port_max = uint16_t(get_be(e.hi.data(), 2));
        }
        uint32_t mask = 0;
        std::string what;
        switch (s.nat_kind) {
        case NatRequest::Kind::snat: mask = bit(Hook::postrouting) | bit(Hook::input); what = "snat"; break;
        case NatRequest::Kind::dnat: mask = bit(Hook::prerouting) | bit(Hook::output); what = "dnat"; break;
        case NatRequest::Kind::masquerade: mask = bit(Hook::postrouting); what = "masquerade"; break;
        case NatRequest::Kind::redirect: mask = bit(Hook::prerouting) | bit(Hook::output); what = "redirect"; break;
        case NatRequest::Kind::none: break;
        }
        // nft_nat_validate(), nft_masq_validate(), nft_redir_validate(): nat chains only, these hooks
        checks_.push_back(HookCheck{cid, s.loc, true, mask, what});
        p_.nats.push_back(n);
        Stmt x;
        x.k = Stmt::K::nat;
        x.index = uint32_t(p_.nats.size() - 1);
        add_stmt(x, what);
    }

    // ------------------------------------------------------------ checks
    // nf_tables_check_loops() in nf_tables_api.c: no chain may reach itself.
    void check_loops() {
        std::vector<uint8_t> color(p_.chains.size(), 0);
        for (uint32_t c = 0; c < p_.chains.size(); ++c)
            if (color[c] == 0) dfs(c, color);
    }
    void dfs(uint32_t c, std::vector<uint8_t>& color) {
        color[c] = 1;
        for (const Edge& e : edges_[c]) {
            if (color[e.to] == 1) fail(e.loc, "jump loop detected: chain \"" + p_.chains[e.to].name +
                                                  "\" reaches itself");
            if (color[e.to] == 0) dfs(e.to, color);
        }
        color[c] = 2;
    }

    // nft_chain_validate(): jump depth (NFT_JUMP_STACK_SIZE) and the hooks of
    // expressions reached from each base chain.
    void check_hooks() {
        for (uint32_t b = 0; b < p_.chains.size(); ++b) {
            if (!p_.chains[b].base) continue;
            best_level_.assign(p_.chains.size(), -1);
            walk(b, b, 0, Loc{});
        }
        // statements in chains that no base chain reaches are not judged,
        // as the kernel only validates what a base chain can reach
    }
    // Each chain is walked again only when reached deeper than before, so a
    // crafted DAG of chains costs at most kJumpStack walks per chain.
    std::vector<int> best_level_;
    void walk(uint32_t base, uint32_t c, int level, Loc via) {
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

    void register_hooks() {
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
};

}  // namespace

}  // namespace fwsim::rules::detail

namespace fwsim::rules::detail {
Program compile(RulesetAst& ast, std::span<const std::string> interfaces) {
    Compiler c(ast, interfaces);
    return c.run();
}
}  // namespace fwsim::rules::detail
