#include "rule_parser.hpp"

namespace fwsim::rules::detail {

namespace {

bool is_verdict_word(const Token& t) {
    return t.kind == Token::Kind::word &&
           (t.text == "accept" || t.text == "drop" || t.text == "return" || t.text == "continue" ||
            t.text == "jump" || t.text == "goto");
}

}  // namespace

std::optional<SelRef> RuleParser::try_selector() {
    const Token& t0 = peek();
    if (t0.kind != Token::Kind::word) return std::nullopt;
    Loc loc = t0.loc;
    std::string first = t0.text;
    if (is_selector_prefix(first)) {
        const Token& t1 = peek(1);
        if (t1.kind != Token::Kind::word) return std::nullopt;
        if (first == "ct" && t1.text == "count") return std::nullopt;
        auto s = find_selector(first, t1.text);
        if (!s) fail(t1.loc, "unsupported expression \"" + first + " " + t1.text + "\"");
        next();
        next();
        return SelRef{*s, loc};
    }
    auto s = find_selector(first, "");
    if (!s) return std::nullopt;
    next();
    return SelRef{*s, loc};
}

SelRef RuleParser::selector_required() {
    auto s = try_selector();
    if (!s) unexpected(peek(), "a selector (ip saddr, tcp dport, ...)");
    return *s;
}

bool RuleParser::rule_end(const Token& t) {
    return t.is_sep() || t.kind == Token::Kind::eof || t.is("}");
}

RuleAst RuleParser::parse_rule() {
    RuleAst r;
    r.loc = written_loc(peek());
    size_t start = pos_;
    while (!rule_end(peek())) {
        // nft's rule_evaluate(): nothing may follow a terminal statement
        if (!r.items.empty() && !peek().is_word("comment")) {
            if (const auto* s = std::get_if<StmtAst>(&r.items.back()); s && is_terminal(*s))
                fail(peek().loc, "Statement after terminal statement has no effect");
        }
        parse_item(r);
    }
    if (r.items.empty()) unexpected(peek(), "a rule");
    // the rule as written: a $variable stands for the tokens it expanded to
    uint32_t last_top = 0;
    for (size_t i = start; i < pos_; ++i) {
        const Token& t = toks_[i];
        const uint32_t top = t.expansion ? expansion_[t.expansion].top : 0;
        if (top != 0 && top == last_top) continue;
        last_top = top;
        if (!r.text.empty() && !(top == 0 && t.is(","))) r.text += ' ';
        if (top != 0) r.text += '$' + expansion_[top].name;
        else if (t.kind == Token::Kind::string) r.text += '"' + t.text + '"';
        else if (t.kind == Token::Kind::setref) r.text += '@' + t.text;
        else r.text += t.text;
    }
    return r;
}

bool RuleParser::is_terminal(const StmtAst& s) {
    if (s.k == StmtAst::K::verdict) return s.verdict != "continue";
    return s.k == StmtAst::K::reject || s.k == StmtAst::K::nat;
}

StmtAst RuleParser::stmt(StmtAst::K k, Loc loc) {
    StmtAst s;
    s.k = k;
    s.loc = loc;
    return s;
}

void RuleParser::parse_item(RuleAst& r) {
    Token t = peek();
    if (t.kind != Token::Kind::word) unexpected(t);
    const std::string& w = t.text;
    if (w == "accept" || w == "drop" || w == "return" || w == "continue") {
        next();
        StmtAst s = stmt(StmtAst::K::verdict, t.loc);
        s.verdict = w;
        r.items.push_back(std::move(s));
    } else if (w == "jump" || w == "goto") {
        next();
        StmtAst s = stmt(StmtAst::K::verdict, t.loc);
        s.verdict = w;
        s.target_loc = peek().loc;
        s.target = expect_name("chain name");
        r.items.push_back(std::move(s));
    } else if (w == "reject") {
        next();
        r.items.push_back(parse_reject(t));
    } else if (w == "counter") {
        next();
        if (accept("packets")) number();
        if (accept("bytes")) number();
        StmtAst s = stmt(StmtAst::K::counter, t.loc);
        if (accept("name")) {
            s.target_loc = peek().loc;
            s.counter_name = expect_name("counter name");
        }
        r.items.push_back(std::move(s));
    } else if (w == "log") {
        next();
        r.items.push_back(parse_log(t));
    } else if ((w == "limit" || w == "quota") && peek(1).is_word("name")) {
        next();
        next();
        StmtAst s = stmt(w == "limit" ? StmtAst::K::limit : StmtAst::K::quota, t.loc);
        s.target_loc = peek().loc;
        s.counter_name = expect_name("object name");
        r.items.push_back(std::move(s));
    } else if (w == "limit") {
        next();
        r.items.push_back(parse_limit(t));
    } else if (w == "quota") {
        next();
        r.items.push_back(parse_quota(t));
    } else if (w == "notrack") {
        next();
        r.items.push_back(stmt(StmtAst::K::notrack, t.loc));
    } else if (w == "snat" || w == "dnat" || w == "masquerade" || w == "redirect") {
        next();
        r.items.push_back(parse_nat(t));
    } else if (w == "meta" && peek(1).is_word("nftrace") && peek(2).is_word("set")) {
        // tracing has no effect on verdicts: kept as a no-op
        next();
        next();
        next();
        next();
        StmtAst s = stmt(StmtAst::K::verdict, t.loc);
        s.verdict = "continue";
        r.items.push_back(std::move(s));
    } else if (w == "comment") {
        next();
        Token c = next();
        if (c.kind != Token::Kind::string && (c.kind != Token::Kind::word || is_keyword(c.text)))
            unexpected(c, "string");
    } else if ((w == "add" || w == "update" || w == "delete") && peek(1).kind == Token::Kind::setref) {
        next();
        StmtAst s = stmt(StmtAst::K::dynset, t.loc);
        s.dyn_op = w;
        Token ref = next();
        s.dyn_set = ref.text;
        s.target_loc = ref.loc;
        dynset_body(s);
        r.items.push_back(std::move(s));
    } else if (w == "meter") {
        next();
        StmtAst s = stmt(StmtAst::K::dynset, t.loc);
        s.dyn_op = "update";
        s.meter = true;
        s.target_loc = peek().loc;
        s.dyn_set = expect_name("meter name");
        if (accept("size")) {
            Token n = next();
            auto v = parse_int(n);
            if (!v || *v == 0 || *v > UINT32_MAX) fail(n.loc, "invalid meter size \"" + n.text + "\"");
            s.meter_size = uint32_t(*v);
        }
        dynset_body(s);
        r.items.push_back(std::move(s));
    } else if (w == "ct" && peek(1).is_word("count")) {
        next();
        next();
        MatchAst m;
        m.loc = t.loc;
        m.ct_count = true;
        m.count_over = accept("over");
        m.rhs = parse_primary();
        r.items.push_back(std::move(m));
    } else {
        auto sel = try_selector();
        if (!sel) {
            // nft expressions fwsim does not model: say so rather than "syntax error"
            static constexpr std::string_view unsupported[] = {
                "fib", "socket", "osf", "ether", "vlan", "arp", "rt", "exthdr", "hbh", "frag", "dst", "mh",
                "srh", "numgen", "jhash", "symhash", "ipsec", "tunnel", "queue", "dup", "fwd", "synproxy",
                "flow", "tproxy", "secmark", "synproxy", "gre", "geneve", "vxlan", "ah", "esp", "comp",
                "dccp", "igmp", "cgroupv2", "xt"};
            for (auto u : unsupported)
                if (w == u) fail(t.loc, "\"" + w + "\" expressions and statements are not supported by fwsim");
            unexpected(t);
        }
        parse_match(r, *sel);
    }
}

// { key [timeout T] [limit rate ...] [counter] } of add/update/delete/meter
void RuleParser::dynset_body(StmtAst& s) {
    expect("{");
    s.dyn_key.push_back(selector_required());
    while (accept(".")) s.dyn_key.push_back(selector_required());
    for (;;) {
        Token t = peek();
        if (t.is("}")) {
            next();
            break;
        }
        if (t.is_word("timeout")) {
            next();
            s.dyn_timeout_ms = parse_time(next());
        } else if (t.is_word("limit")) {
            next();
            if (s.dyn_has_limit) fail(t.loc, "one limit per element is supported by fwsim");
            s.dyn_has_limit = true;
            s.dyn_stmts.push_back(parse_limit(t));
        } else if (t.is_word("counter")) {
            next();
            if (accept("packets")) number();
            if (accept("bytes")) number();
            s.dyn_has_counter = true;
        } else {
            unexpected(t, "timeout, limit, counter or '}'");
        }
    }
    if (s.dyn_op == "delete" && (s.dyn_has_limit || s.dyn_has_counter || s.dyn_timeout_ms))
        fail(s.loc, "delete takes only a key");
}

void RuleParser::parse_match(RuleAst& r, SelRef first) {
    MatchAst m;
    m.loc = first.loc;
    m.lhs.push_back(first);
    while (peek().is(".")) {
        next();
        m.lhs.push_back(selector_required());
    }
    const Token& t = peek();
    if (t.is_word("vmap")) {
        next();
        StmtAst s = stmt(StmtAst::K::vmap, first.loc);
        s.map_lhs = std::move(m.lhs);
        s.map = parse_map_ref();
        r.items.push_back(std::move(s));
        return;
    }
    if (t.is_word("set")) {
        Sel sl = first.sel;
        if (m.lhs.size() != 1 || (sl != Sel::meta_mark && sl != Sel::ct_mark))
            fail(t.loc, "only meta mark and ct mark can be set by fwsim");
        next();
        StmtAst s = stmt(sl == Sel::meta_mark ? StmtAst::K::meta_mark_set : StmtAst::K::ct_mark_set,
                         first.loc);
        auto src = try_selector();
        if (src) {
            if (src->sel == Sel::meta_mark) s.mark_src = StmtAst::MarkSrc::meta_mark;
            else if (src->sel == Sel::ct_mark) s.mark_src = StmtAst::MarkSrc::ct_mark;
            else fail(src->loc, "mark can only be set from a value, meta mark or ct mark");
        } else {
            s.mark_value = parse_primary();
        }
        r.items.push_back(std::move(s));
        return;
    }
    if (t.is("&")) {
        next();
        m.has_mask = true;
        m.mask = parse_flag_value();
    }
    const Token& o = peek();
    static constexpr std::pair<std::string_view, RelOp> ops[] = {
        {"==", RelOp::eq}, {"!=", RelOp::ne}, {"<", RelOp::lt}, {">", RelOp::gt},
        {"<=", RelOp::le}, {">=", RelOp::ge}, {"eq", RelOp::eq}, {"ne", RelOp::ne},
        {"lt", RelOp::lt}, {"gt", RelOp::gt}, {"le", RelOp::le}, {"ge", RelOp::ge}, {"!", RelOp::neg}};
    for (auto& [s, op] : ops) {
        if ((o.kind == Token::Kind::punct || o.kind == Token::Kind::word) && o.text == s) {
            m.op = op;
            next();
            break;
        }
    }
    if (rule_end(peek())) unexpected(peek(), "a value");
    m.rhs = parse_rhs();
    if (peek().is("/")) {  // `tcp flags syn / syn,ack`, `tcp flags != syn / fin,syn,rst,ack`
        next();
        m.slash = true;
        m.slash_mask = parse_rhs();
    }
    r.items.push_back(std::move(m));
}

// After `&`: a value, a|b, or (a|b).
Val RuleParser::parse_flag_value() {
    if (accept("(")) {
        Val v = parse_rhs();
        expect(")");
        return v;
    }
    Val v = parse_primary();
    if (peek().is("|")) {
        Val l;
        l.k = Val::K::orlist;
        l.loc = v.loc;
        l.kids.push_back(std::move(v));
        while (accept("|")) l.kids.push_back(parse_primary());
        return l;
    }
    return v;
}

Val RuleParser::parse_rhs() {
    Val v = parse_concat();
    if (peek().is(",") || peek().is("|")) {
        std::string sep = peek().text;
        Val l;
        l.k = sep == "," ? Val::K::list : Val::K::orlist;
        l.loc = v.loc;
        l.kids.push_back(std::move(v));
        while (accept(sep)) l.kids.push_back(parse_concat());
        return l;
    }
    return v;
}

Val RuleParser::parse_concat() {
    Val v = parse_primary();
    if (!peek().is(".")) return v;
    Val c;
    c.k = Val::K::concat;
    c.loc = v.loc;
    c.kids.push_back(std::move(v));
    while (accept(".")) c.kids.push_back(parse_primary());
    return c;
}

Val RuleParser::parse_primary() {
    Token t = peek();
    Val v;
    v.loc = t.loc;
    if (t.is("{")) return parse_set();
    if (t.is("(")) {
        next();
        v = parse_rhs();
        expect(")");
        return v;
    }
    if (t.is("[")) {  // [ipv6]
        next();
        Token a = next();
        if (a.kind != Token::Kind::word) unexpected(a, "an IPv6 address");
        expect("]");
        v.k = Val::K::atom;
        v.text = a.text;
        return v;
    }
    if (t.is("*")) {
        next();
        v.k = Val::K::wildcard;
        return v;
    }
    if (t.kind == Token::Kind::setref) {
        next();
        v.k = Val::K::setref;
        v.text = t.text;
        return v;
    }
    if (t.kind == Token::Kind::string) {
        next();
        v.k = Val::K::string;
        v.text = t.text;
        if (peek().is("-") && peek(1).kind == Token::Kind::string) {  // "08:00"-"17:00"
            next();
            Val hi;
            hi.loc = peek().loc;
            hi.k = Val::K::string;
            hi.text = next().text;
            Val r;
            r.k = Val::K::range;
            r.loc = v.loc;
            r.kids.push_back(std::move(v));
            r.kids.push_back(std::move(hi));
            return r;
        }
        return v;
    }
    if (t.kind != Token::Kind::word || is_keyword(t.text)) unexpected(t, "a value");
    next();
    v.k = Val::K::atom;
    v.text = t.text;
    if (peek().is("-") && peek(1).kind == Token::Kind::word) {  // spaced range a - b
        next();
        Val hi;
        hi.loc = peek().loc;
        hi.k = Val::K::atom;
        hi.text = next().text;
        Val r;
        r.k = Val::K::range;
        r.loc = v.loc;
        r.kids.push_back(std::move(v));
        r.kids.push_back(std::move(hi));
        return r;
    }
    return v;
}

Val RuleParser::parse_verdict_val() {
    Token t = next();
    Val v;
    v.k = Val::K::verdict;
    v.loc = t.loc;
    v.text = t.text;
    if (t.text == "jump" || t.text == "goto") {
        v.target_loc = peek().loc;
        v.target = expect_name("chain name");
    }
    return v;
}

Val RuleParser::parse_set() {
    Val s;
    s.k = Val::K::set;
    s.loc = peek().loc;
    expect("{");
    opt_newline();
    if (peek().is("}")) unexpected(peek(), "an element");  // nft's grammar has no empty set
    for (;;) {
        if (accept("}")) break;
        Val e = parse_concat();
        if (peek().is("|")) {  // flags: syn|ack
            Val l;
            l.k = Val::K::orlist;
            l.loc = e.loc;
            l.kids.push_back(std::move(e));
            while (accept("|")) l.kids.push_back(parse_primary());
            e = std::move(l);
        }
        if (accept(":")) {
            Val m;
            m.k = Val::K::mapping;
            m.loc = e.loc;
            m.kids.push_back(std::move(e));
            if (is_verdict_word(peek())) m.kids.push_back(parse_verdict_val());
            else m.kids.push_back(parse_concat());
            e = std::move(m);
        }
        // element options nft prints or accepts
        for (;;) {
            if (peek().is_word("comment") || peek().is_word("timeout") || peek().is_word("expires")) {
                next();
                next();
            } else if (peek().is_word("counter")) {
                next();
                if (accept("packets")) {
                    next();
                    expect("bytes");
                    next();
                }
            } else {
                break;
            }
        }
        s.kids.push_back(std::move(e));
        opt_newline();
        if (accept(",")) {
            opt_newline();
            continue;
        }
        if (accept("}")) break;
        unexpected(peek(), "',' or '}'");
    }
    return s;
}

Val RuleParser::parse_map_ref() {
    const Token& t = peek();
    if (t.is("{")) return parse_set();
    if (t.kind == Token::Kind::setref) return parse_primary();
    unexpected(t, "'{' or @map");
}

StmtAst RuleParser::parse_reject(const Token& kw) {
    StmtAst s = stmt(StmtAst::K::reject, kw.loc);
    if (!accept("with")) return s;
    Token w = next();
    if (w.is_word("tcp")) {
        expect("reset");
        s.reject = RejectKind::tcp_reset;
        return s;
    }
    if (w.is_word("icmp")) s.reject = RejectKind::icmp;
    else if (w.is_word("icmpv6")) s.reject = RejectKind::icmpv6;
    else if (w.is_word("icmpx")) s.reject = RejectKind::icmpx;
    else unexpected(w, "icmp, icmpv6, icmpx or tcp reset");
    accept("type");
    s.reject_code = parse_primary();
    return s;
}

StmtAst RuleParser::parse_log(const Token& kw) {
    StmtAst s = stmt(StmtAst::K::log, kw.loc);
    for (;;) {
        const Token& t = peek();
        if (t.is_word("prefix")) {
            next();
            Token p = next();
            if (p.kind != Token::Kind::string && p.kind != Token::Kind::word) unexpected(p, "string");
            s.prefix = p.text;
        } else if (t.is_word("level")) {
            next();
            Token l = next();
            static constexpr std::string_view levels[] = {"emerg", "alert", "crit", "err", "warn",
                                                          "notice", "info", "debug", "audit"};
            bool ok = false;
            for (auto lv : levels) ok = ok || l.text == lv;
            if (!ok) fail(l.loc, "invalid log level \"" + l.text + "\"");
        } else if (t.is_word("group") || t.is_word("snaplen") || t.is_word("queue-threshold")) {
            next();
            next();
        } else if (t.is_word("flags")) {
            next();
            do {
                Token f = next();
                if (f.is_word("tcp") || f.is_word("ip")) next();  // tcp sequence,options / ip options
            } while (accept(","));
        } else {
            return s;
        }
    }
}

StmtAst RuleParser::parse_quota(const Token& kw) {
    StmtAst s = stmt(StmtAst::K::quota, kw.loc);
    if (accept("over")) s.over = true;
    else accept("until");
    s.quota_bytes = parse_bytes();
    if (accept("used")) s.quota_used = parse_bytes();
    return s;
}

StmtAst RuleParser::parse_limit(const Token& kw) {
    StmtAst s = stmt(StmtAst::K::limit, kw.loc);
    expect("rate");
    if (accept("over")) s.over = true;
    else accept("until");
    Token r = next();
    s.rate_loc = r.loc;
    // "10/second" is one word; "10 mbytes/second" two.
    std::string rate_text = r.text, unit_text;
    size_t slash = rate_text.find('/');
    if (slash != std::string::npos) {
        unit_text = rate_text.substr(slash + 1);
        rate_text = rate_text.substr(0, slash);
    } else {
        Token u = next();
        if (u.kind != Token::Kind::word) unexpected(u, "a rate unit (second, minute, ...)");
        std::string ut = u.text;
        size_t sl = ut.find('/');
        if (sl == std::string::npos) {
            if (!accept("/")) unexpected(peek(), "'/'");
            Token u2 = next();
            unit_text = u2.text;
        } else {
            unit_text = ut.substr(sl + 1);
            ut = ut.substr(0, sl);
        }
        uint64_t mul = 0;
        if (ut == "bytes") mul = 1;
        else if (ut == "kbytes") mul = 1024;
        else if (ut == "mbytes") mul = 1024 * 1024;
        else fail(u.loc, "invalid rate unit \"" + ut + "\"");
        s.bytes = true;
        auto n = parse_int(Token{Token::Kind::word, rate_text, r.loc});
        if (!n || *n == 0) fail(r.loc, "invalid rate \"" + r.text + "\"");
        s.rate = uint64_t(*n) * mul;
    }
    if (!s.bytes) {
        auto n = parse_int(Token{Token::Kind::word, rate_text, r.loc});
        if (!n || *n == 0) fail(r.loc, "invalid rate \"" + r.text + "\"");
        s.rate = uint64_t(*n);
    }
    if (unit_text == "second") s.unit_secs = 1;
    else if (unit_text == "minute") s.unit_secs = 60;
    else if (unit_text == "hour") s.unit_secs = 3600;
    else if (unit_text == "day") s.unit_secs = 86400;
    else if (unit_text == "week") s.unit_secs = 604800;
    else fail(r.loc, "invalid time unit \"" + unit_text + "\"");
    if (accept("burst")) {
        Token b = next();
        auto n = parse_int(b);
        if (!n) fail(b.loc, "invalid burst \"" + b.text + "\"");
        Token u = next();
        uint64_t mul = 1;
        if (u.is_word("packets")) {
            if (s.bytes) fail(u.loc, "burst in packets for a byte rate");
        } else if (u.is_word("bytes") || u.is_word("kbytes") || u.is_word("mbytes")) {
            if (!s.bytes) fail(u.loc, "burst in bytes for a packet rate");
            mul = u.text == "bytes" ? 1 : u.text == "kbytes" ? 1024 : 1024 * 1024;
        } else {
            unexpected(u, "packets or bytes");
        }
        if (*n == 0) fail(b.loc, "limit burst must be greater than 0");
        s.burst = uint64_t(*n) * mul;
        s.has_burst = true;
    }
    return s;
}

StmtAst RuleParser::parse_nat(const Token& kw) {
    StmtAst s = stmt(StmtAst::K::nat, kw.loc);
    const std::string& w = kw.text;
    s.nat_kind = w == "snat" ? NatRequest::Kind::snat
                 : w == "dnat" ? NatRequest::Kind::dnat
                 : w == "masquerade" ? NatRequest::Kind::masquerade
                                     : NatRequest::Kind::redirect;
    bool addr_kind = s.nat_kind == NatRequest::Kind::snat || s.nat_kind == NatRequest::Kind::dnat;
    if (addr_kind) {
        if (accept("ip")) s.nat_family = Family::ipv4;
        else if (accept("ip6")) s.nat_family = Family::ipv6;
        if (s.nat_family != Family::none && accept("addr")) {  // dnat ip addr . port to ... map
            expect(".");
            expect("port");
            s.nat_addr_port = true;
        }
        if (s.nat_family != Family::none) expect("to");
        else accept("to");  // nft still reads the old `dnat 10.0.0.1`
        // `dnat to tcp dport map { ... }`
        const Token& t0 = peek();
        if (t0.kind == Token::Kind::word &&
            (is_selector_prefix(t0.text) || find_selector(t0.text, "")) &&
            !(peek(1).is(":") || peek(1).is_sep())) {
            s.nat_map = true;
            s.map_lhs.push_back(selector_required());
            while (accept(".")) s.map_lhs.push_back(selector_required());
            expect("map");
            s.map = parse_map_ref();
            s.nat_has_addr = true;
        } else if (!peek().is(":")) {
            s.nat_has_addr = true;
            s.nat_addr = parse_primary();
        } else if (s.nat_family != Family::none) {
            unexpected(peek(), "an address");  // `snat ip to :80`: a family needs an address
        }
    } else if (accept("to")) {
        // masquerade to :port / redirect to [:]port
    } else {
        nat_flags(s);
        return s;
    }
    if (accept(":") || (!addr_kind && !s.nat_has_addr && peek().kind == Token::Kind::word &&
                        peek().text[0] >= '0' && peek().text[0] <= '9')) {
        s.nat_has_port = true;
        s.nat_port = parse_primary();
    }
    if (!s.nat_has_addr && !s.nat_has_port) unexpected(peek(), "an address or :port");
    nat_flags(s);
    return s;
}

void RuleParser::nat_flags(StmtAst& s) {
    for (;;) {
        const Token& t = peek();
        if (t.is_word("random")) s.random = true;
        else if (t.is_word("fully-random")) s.fully_random = true;
        else if (t.is_word("persistent")) s.persistent = true;
        else return;
        next();
        accept(",");
    }
}

}  // namespace fwsim::rules::detail
