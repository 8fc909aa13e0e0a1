// Statements: verdicts, counters, logs, limits, marks, reject, NAT and
// dynamic sets, with the checks nft makes on each.
#include <algorithm>

#include "compiler.hpp"
#include "parser.hpp"

namespace fwsim::rules::detail {

void Compiler::compile_stmt(TableAst& t, ChainAst& c, uint32_t cid, StmtAst& s) {
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
        if (!s.counter_name.empty()) {  // limit name X: one bucket shared by its users
            auto it = std::find_if(t.limits.begin(), t.limits.end(),
                                   [&](const auto& o) { return o.first == s.counter_name; });
            if (it == t.limits.end()) fail(s.target_loc, "limit \"" + s.counter_name + "\" does not exist");
            auto [slot, fresh] = named_limits_.try_emplace(key(t, s.counter_name), uint32_t(p_.limits.size()));
            if (fresh) p_.limits.push_back(limit_spec(it->second));
            x.index = slot->second;
        } else {
            x.index = uint32_t(p_.limits.size());
            p_.limits.push_back(limit_spec(s));
        }
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
        if (!s.counter_name.empty()) {  // quota name X: one budget shared by its users
            auto it = std::find_if(t.quotas.begin(), t.quotas.end(),
                                   [&](const auto& o) { return o.first == s.counter_name; });
            if (it == t.quotas.end()) fail(s.target_loc, "quota \"" + s.counter_name + "\" does not exist");
            auto [slot, fresh] = named_quotas_.try_emplace(key(t, s.counter_name), uint32_t(p_.quotas.size()));
            if (fresh) {
                const StmtAst& q = it->second;
                p_.quotas.push_back(Program::Quota{q.quota_bytes, q.quota_used, q.over});
            }
            x.index = slot->second;
        } else {
            x.index = uint32_t(p_.quotas.size());
            p_.quotas.push_back(Program::Quota{s.quota_bytes, s.quota_used, s.over});
        }
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

void Compiler::compile_dynset(TableAst& t, StmtAst& s) {
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

LimitSpec Compiler::limit_spec(const StmtAst& s) {
    // as nft_limit_init() in net/netfilter/nft_limit.c
    LimitSpec l;
    l.bytes = s.bytes;
    l.over = s.over;
    l.rate = s.rate;
    l.nsecs = s.unit_secs * 1'000'000'000ull;
    l.burst = s.burst;
    if (!l.bytes && l.burst == 0) l.burst = 5;  // NFT_LIMIT_PKT_BURST_DEFAULT
    // the kernel refuses configurations whose token arithmetic overflows
    // (check_mul_overflow()/check_add_overflow() in nft_limit_init())
    if (!l.bytes) {
        l.cost = l.nsecs / l.rate;
        if (l.cost != 0 && l.burst > UINT64_MAX / l.cost) fail(s.rate_loc, "limit burst too large");
        l.tokens_max = l.cost * l.burst;
    } else {
        uint64_t rb = l.rate + l.burst;
        if (rb < l.rate || rb > UINT64_MAX / l.nsecs) fail(s.rate_loc, "limit rate too large");
        l.tokens_max = l.nsecs * rb / l.rate;
    }
    return l;
}

void Compiler::compile_reject(TableAst& t, uint32_t cid, StmtAst& s) {
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

void Compiler::compile_nat(TableAst& t, uint32_t cid, StmtAst& s) {
    NatSpec n;
    n.req.kind = s.nat_kind;
    n.req.random = s.random;
    n.req.fully_random = s.fully_random;
    n.req.persistent = s.persistent;
    Family fam = s.nat_family;
    if (fam != Family::none && cur_l3_ != Family::none && fam != cur_l3_ && t.family == Family::none)
        fail(s.loc, "conflicting protocols specified: " + l3_name(cur_l3_) + " vs. " + l3_name(fam) +
                        ". You must specify ip or ip6 family in nat statement");
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

}  // namespace fwsim::rules::detail
