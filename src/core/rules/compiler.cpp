// RulesetAst -> Program: resolves chains, sets and interfaces, types every
// value, checks what nft and the kernel check at load (jump loops, jump
// depth, NAT and reject hooks), and registers base chains per hook.
#include "compiler.hpp"

#include <algorithm>

#include "parser.hpp"

namespace fwsim::rules::detail {

Program Compiler::run() {
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
    integer_keys();
    rule_heads();
    fill_ct_leads(p_);
    check_loops();
    check_hooks();
    register_hooks();
    return std::move(p_);
}

std::string Compiler::key(const TableAst& t, const std::string& n) {
    return t.family_name + " " + t.name + " " + n;
}

Verdict_ Compiler::verdict_of(const std::string& w, const std::string& target, Loc tloc, const TableAst& t, uint32_t from_chain) {
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

std::string Compiler::sel_names(const std::vector<SelRef>& l) {
    std::string s;
    for (auto& r : l) {
        if (!s.empty()) s += " . ";
        s += sel_info(r.sel).name;
    }
    return s;
}

// The network family a selector implies (nft's protocol dependency).
Family Compiler::sel_family(Sel s) {
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

Compiler::KeyShape Compiler::shape_of(const std::vector<SelRef>& l) {
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

void Compiler::fill_sels(const std::vector<SelRef>& l, std::array<Sel, kMaxConcat>& sel, uint8_t& n, uint8_t& w) {
    n = uint8_t(l.size());
    w = 0;
    for (size_t i = 0; i < l.size(); ++i) {
        sel[i] = l[i].sel;
        w = uint8_t(w + type_width(sel_info(l[i].sel).type));
    }
}

void Compiler::compile_rule(TableAst& t, ChainAst& c, uint32_t cid, RuleAst& r) {
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
            if (st.k == StmtAst::K::nat && (st.nat_has_port || st.nat_addr_port) && !transport)
                fail(st.nat_has_port ? st.nat_port.loc : st.map.loc,
                     "transport protocol mapping is only valid after transport protocol match");
            compile_stmt(t, c, cid, st);
        }
    }
    p_.rules.push_back(std::move(rule));
    p_.rule_info.push_back(std::move(info));
    p_.chains[cid].rules.push_back(rid);
}

void Compiler::rule_heads() {
    for (Chain& ch : p_.chains) {
        for (uint32_t rid : ch.rules) {
            Rule& r = p_.rules[rid];
            // the leading matches that are scalar comparisons or lookups in
            // static integer-keyed sets (dynamic flags are final by now)
            r.first_test = uint32_t(p_.tests.size());
            r.ntests = 0;
            for (const Op& op : r.ops) {
                if (!op.is_match) break;
                const Match& m = p_.matches[op.index];
                if (!m.scalar && !(m.scalar_lookup && !p_.sets[m.set].dynamic)) break;
                p_.tests.push_back(ScalarTest{m.mask64, m.v64, m.hi64, m.sel[0], m.op, m.set});
                ++r.ntests;
            }
            RuleHead head{rid, r.first_test, r.ntests, Tail::ops};
            if (r.ntests == r.ops.size()) {
                head.tail = Tail::matched;
            } else if (r.ntests + 1 == r.ops.size() && !r.ops.back().is_match) {
                const Stmt& last = p_.stmts[r.ops.back().index];
                if (last.k == Stmt::K::verdict && last.verdict.k == Verdict_::K::accept) head.tail = Tail::accept;
                if (last.k == Stmt::K::verdict && last.verdict.k == Verdict_::K::drop) head.tail = Tail::drop;
            }
            ch.heads.push_back(head);
        }
    }
}

uint8_t Compiler::sel_proto(Sel s) {
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

std::string Compiler::l4_name(uint8_t p) {
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

// Payload expressions imply their protocols; two that cannot both hold
// in one packet are an error, as nft's "conflicting protocols specified".
void Compiler::protocol_context(const MatchAst& m) {
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

bool Compiler::is_transport(Sel s) {
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

void Compiler::add_match(Match m, std::string text) {
    if (m.width > 0 && m.width <= 8) {
        m.v64 = get_be(m.value.b.data(), m.width);
        m.hi64 = get_be(m.hi.b.data(), m.width);
        m.mask64 = m.masked ? get_be(m.mask.b.data(), m.width) : ~uint64_t(0);
        m.scalar = m.nsel == 1 && m.sel[0] != Sel::ip6_saddr && m.sel[0] != Sel::ip6_daddr &&
                   m.op >= MatchOp::eq && m.op <= MatchOp::not_range;
    }
    p_.matches.push_back(m);
    cur_->ops.push_back(Op{true, uint32_t(p_.matches.size() - 1)});
    cur_->op_text.push_back(std::move(text));
}

void Compiler::add_stmt(Stmt s, std::string text) {
    p_.stmts.push_back(s);
    cur_->ops.push_back(Op{false, uint32_t(p_.stmts.size() - 1)});
    cur_->op_text.push_back(std::move(text));
}

void Compiler::compile_match(TableAst& t, MatchAst& m) {
    Match x;
    std::string text;
    if (m.ct_count) {
        // nft_connlimit: each expression keeps its own list of connections.
        const std::string& n = m.rhs.text;
        uint64_t limit = 0;
        bool ok = m.rhs.k == Val::K::atom && !n.empty() && n.size() <= 10;
        for (char ch : n) ok = ok && ch >= '0' && ch <= '9';
        if (ok) limit = std::stoull(n);
        if (!ok || limit > 0xffffffffull) fail(m.rhs.loc, "ct count expects a number of connections, got \"" + n + "\"");
        x.op = MatchOp::conncount;
        x.set = p_.conncount_count++;
        x.v64 = limit;
        x.masked = m.count_over;
        p_.uses_ct = true;
        add_match(x, std::string("ct count ") + (m.count_over ? "over " : "") + n);
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
        const bool eq = m.op == RelOp::implicit || m.op == RelOp::eq;
        if (eq || m.op == RelOp::ne) x.op = (eq != e.inverted) ? MatchOp::range : MatchOp::not_range;
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

Program compile(RulesetAst& ast, std::span<const std::string> interfaces) {
    Compiler c(ast, interfaces);
    return c.run();
}

}  // namespace fwsim::rules::detail
