#include "parser.hpp"

#include <map>

#include "fwsim/error.hpp"

namespace fwsim::rules::detail {

namespace {

std::string line_of(const std::string& text, uint32_t line) {
    size_t start = 0;
    for (uint32_t l = 1; l < line; ++l) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) return {};
        start = nl + 1;
    }
    size_t end = text.find('\n', start);
    std::string s = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s;
}

std::string describe(const Token& t) {
    switch (t.kind) {
    case Token::Kind::eof: return "end of file";
    case Token::Kind::newline: return "newline";
    case Token::Kind::string: return "string \"" + t.text + "\"";
    case Token::Kind::variable: return "$" + t.text;
    case Token::Kind::setref: return "@" + t.text;
    case Token::Kind::punct: return "'" + t.text + "'";
    case Token::Kind::word: return t.text;
    }
    return t.text;
}

// Words nft's scanner makes keywords that can never be a value (statements,
// verdicts, selectors that are not also protocol names).
bool is_keyword(std::string_view w) {
    static constexpr std::string_view kws[] = {
        "accept", "drop", "reject", "jump", "goto", "return", "continue", "counter", "log", "limit",
        "masquerade", "redirect", "notrack", "iifname", "oifname", "iif", "oif", "meta",
        "ct", "comment", "vmap", "map", "queue", "quota", "th", "saddr", "daddr", "sport", "dport", "inet", "arp",
        "bridge", "netdev", "table", "chain"};
    for (auto k : kws)
        if (k == w) return true;
    return false;
}

bool is_verdict_word(const Token& t) {
    return t.kind == Token::Kind::word &&
           (t.text == "accept" || t.text == "drop" || t.text == "return" || t.text == "continue" ||
            t.text == "jump" || t.text == "goto");
}

std::string dirname_of(const std::string& p) {
    size_t s = p.rfind('/');
    return s == std::string::npos ? std::string() : p.substr(0, s + 1);
}

constexpr size_t kMaxExpansions = 100000;

class Parser {
public:
    Parser(RulesetAst& ast, const FileReader& reader) : ast_(ast), reader_(reader) {}

    void parse_file(const std::string& path, const std::string& text) {
        uint32_t file = uint32_t(ast_.sources.size());
        ast_.sources.push_back(Source{path, text});
        LexResult lr = lex(text, file);
        if (!lr.error.empty()) fail(lr.error_loc, lr.error);
        std::vector<Token> saved = std::move(toks_);
        size_t saved_pos = pos_;
        toks_ = std::move(lr.tokens);
        pos_ = 0;
        include_stack_.push_back(path);
        parse_top();
        include_stack_.pop_back();
        toks_ = std::move(saved);
        pos_ = saved_pos;
    }

private:
    RulesetAst& ast_;
    const FileReader& reader_;
    std::vector<Token> toks_;
    size_t pos_ = 0;
    std::map<std::string, std::vector<Token>> defines_;
    std::vector<std::string> include_stack_;
    size_t expansions_ = 0;

    [[noreturn]] void fail(Loc loc, const std::string& msg) { fail_at(ast_.sources, loc, msg); }
    [[noreturn]] void unexpected(const Token& t, std::string_view expecting = {}) {
        std::string m = "syntax error, unexpected " + describe(t);
        if (!expecting.empty()) m += ", expecting " + std::string(expecting);
        fail(t.loc, m);
    }

    // Expands $variables at positions pos_..pos_+k (nft substitutes the
    // defined expression where the variable is used).
    void ensure(size_t k) {
        for (size_t i = pos_; i <= pos_ + k && i < toks_.size(); ++i) {
            while (toks_[i].kind == Token::Kind::variable) {
                Token v = toks_[i];
                auto it = defines_.find(v.text);
                if (it == defines_.end()) fail(v.loc, "undefined variable \"$" + v.text + "\"");
                if (++expansions_ > kMaxExpansions) fail(v.loc, "variable \"$" + v.text + "\" expands recursively");
                toks_.erase(toks_.begin() + long(i));
                toks_.insert(toks_.begin() + long(i), it->second.begin(), it->second.end());
            }
        }
    }
    const Token& peek(size_t k = 0) {
        ensure(k);
        size_t i = pos_ + k;
        return i < toks_.size() ? toks_[i] : toks_.back();
    }
    Token next() {
        ensure(0);
        Token t = toks_[pos_];
        if (t.kind != Token::Kind::eof) ++pos_;
        return t;
    }
    bool accept(std::string_view p) {
        const Token& t = peek();
        if ((t.kind == Token::Kind::punct || t.kind == Token::Kind::word) && t.text == p) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect(std::string_view p) {
        if (!accept(p)) unexpected(peek(), "'" + std::string(p) + "'");
    }
    std::string expect_name(std::string_view what) {
        const Token& t = peek();
        if (t.kind == Token::Kind::string) return next().text;
        if (t.kind == Token::Kind::word && !is_keyword(t.text) && t.text != "ip" && t.text != "ip6")
            return next().text;
        unexpected(t, what);
    }
    void skip_seps() {
        while (peek().is_sep()) next();
    }
    void skip_newlines() {
        while (peek().kind == Token::Kind::newline) next();
    }
    // A command or block item must end with a newline or ';' (nft's
    // stmt_separator); at top level the end of the file also ends it.
    void end_item(bool top) {
        const Token& t = peek();
        if (t.is_sep()) { next(); return; }
        if (top && t.kind == Token::Kind::eof) return;
        unexpected(t, "newline or semicolon");
    }

    // ---------------------------------------------------------------- top level
    void parse_top() {
        for (;;) {
            skip_seps();
            const Token& t = peek();
            if (t.kind == Token::Kind::eof) return;
            parse_command();
            end_item(true);
        }
    }

    void parse_command() {
        Token t = next();
        if (t.is_word("table")) {
            TableAst& tb = table_decl(true);
            if (peek().is("{")) table_block(tb);
        } else if (t.is_word("add") || t.is_word("create") || t.is_word("chain") || t.is_word("rule") ||
                   t.is_word("set") || t.is_word("map") || t.is_word("element")) {
            // `add` is optional before an object (base_cmd: add_cmd in parser_bison.y)
            Token what = (t.is_word("add") || t.is_word("create")) ? next() : t;
            if (what.is_word("table")) {
                TableAst& tb = table_decl(true);
                if (peek().is("{")) table_block(tb);
            } else if (what.is_word("chain")) {
                TableAst& tb = table_decl(false);
                ChainAst& c = chain_decl(tb);
                if (peek().is("{")) chain_block(c);
            } else if (what.is_word("rule")) {
                TableAst& tb = table_decl(false);
                ChainAst& c = existing_chain(tb);
                c.rules.push_back(parse_rule());
            } else if (what.is_word("set") || what.is_word("map")) {
                TableAst& tb = table_decl(false);
                set_decl(tb, what.text == "map");
            } else if (what.is_word("element")) {
                TableAst& tb = table_decl(false);
                Token n = peek();
                std::string name = expect_name("set name");
                SetAst* s = tb.set(name);
                if (!s) fail(n.loc, "set \"" + name + "\" does not exist");
                Val v = parse_set();
                for (auto& e : v.kids) s->elements.push_back(std::move(e));
            } else if (what.kind == Token::Kind::word && (t.is_word("add") || t.is_word("create"))) {
                // `add inet f input tcp dport 22 accept`: the rule keyword is optional
                --pos_;
                TableAst& tb = table_decl(false);
                ChainAst& c = existing_chain(tb);
                c.rules.push_back(parse_rule());
            } else {
                unexpected(what, "table, chain, rule, set, map or element");
            }
        } else if (t.is_word("insert")) {
            Token what = next();
            if (!what.is_word("rule")) unexpected(what, "rule");
            TableAst& tb = table_decl(false);
            ChainAst& c = existing_chain(tb);
            if (accept("position") || accept("handle") || accept("index")) next();
            c.rules.insert(c.rules.begin(), parse_rule());
        } else if (t.is_word("flush")) {
            Token what = next();
            if (what.is_word("ruleset")) {
                if (peek().kind == Token::Kind::word) {
                    std::string fam = family_word();
                    std::erase_if(ast_.tables, [&](const TableAst& x) { return x.family_name == fam; });
                } else {
                    ast_.tables.clear();
                }
            } else if (what.is_word("table")) {
                TableAst& tb = table_decl(false);
                for (auto& c : tb.chains) c.rules.clear();
            } else if (what.is_word("chain")) {
                TableAst& tb = table_decl(false);
                existing_chain(tb).rules.clear();
            } else {
                unexpected(what, "ruleset, table or chain");
            }
        } else if (t.is_word("delete") || t.is_word("destroy")) {
            Token what = next();
            if (what.is_word("table")) {
                TableAst& tb = table_decl(false);
                std::erase_if(ast_.tables, [&](const TableAst& x) { return &x == &tb; });
            } else if (what.is_word("chain")) {
                TableAst& tb = table_decl(false);
                ChainAst& c = existing_chain(tb);
                std::erase_if(tb.chains, [&](const ChainAst& x) { return &x == &c; });
            } else {
                fail(what.loc, "delete " + what.text + " is not supported by fwsim (only table and chain)");
            }
        } else if (t.is_word("define") || t.is_word("redefine")) {
            Token n = next();
            if (n.kind != Token::Kind::word) unexpected(n, "variable name");
            expect("=");
            std::vector<Token> value;
            int depth = 0;
            for (;;) {
                const Token& v = toks_[pos_];  // not expanded: nft expands on use
                if (v.kind == Token::Kind::eof) break;
                if (depth == 0 && v.is_sep()) break;
                if (v.is("{")) ++depth;
                if (v.is("}")) --depth;
                if (v.kind != Token::Kind::newline) value.push_back(v);
                ++pos_;
            }
            if (depth != 0) fail(n.loc, "unbalanced '{' in the value of \"" + n.text + "\"");
            if (value.empty()) unexpected(peek(), "a value");
            defines_[n.text] = std::move(value);
        } else if (t.is_word("undefine")) {
            Token n = next();
            defines_.erase(n.text);
        } else if (t.is_word("include")) {
            Token f = next();
            if (f.kind != Token::Kind::string) unexpected(f, "string");
            do_include(f);
        } else {
            unexpected(t);
        }
    }

    void do_include(const Token& f) {
        std::string path = f.text;
        if (path.find_first_of("*?[") != std::string::npos)
            fail(f.loc, "include with wildcards is not supported by fwsim");
        if (!path.empty() && path[0] != '/') path = dirname_of(include_stack_.back()) + path;
        for (const auto& p : include_stack_)
            if (p == path) fail(f.loc, "include loop: \"" + path + "\" includes itself");
        std::optional<std::string> text = reader_ ? reader_(path) : std::nullopt;
        if (!text) fail(f.loc, "cannot read included file \"" + path + "\"");
        parse_file(path, *text);
    }

    std::string family_word() {
        const Token& t = peek();
        static constexpr std::string_view fams[] = {"ip", "ip6", "inet", "arp", "bridge", "netdev"};
        for (auto f : fams) {
            if (t.is_word(f)) {
                if (f == "arp" || f == "bridge" || f == "netdev")
                    fail(t.loc, "unsupported family \"" + t.text + "\"");
                return next().text;
            }
        }
        return "ip";  // nft's default family
    }

    // [family] name; creates the table when `create`.
    TableAst& table_decl(bool create) {
        std::string fam = family_word();
        Token n = peek();
        std::string name = expect_name("table name");
        TableAst* tb = ast_.table(fam, name);
        if (tb) return *tb;
        if (!create) fail(n.loc, "table \"" + fam + " " + name + "\" does not exist");
        TableAst nt;
        nt.family_name = fam;
        nt.family = fam == "ip" ? Family::ipv4 : fam == "ip6" ? Family::ipv6 : Family::none;
        nt.name = name;
        nt.loc = n.loc;
        ast_.tables.push_back(std::move(nt));
        return ast_.tables.back();
    }

    ChainAst& chain_decl(TableAst& tb) {
        Token n = peek();
        std::string name = expect_name("chain name");
        if (ChainAst* c = tb.chain(name)) return *c;
        ChainAst c;
        c.name = name;
        c.loc = n.loc;
        tb.chains.push_back(std::move(c));
        return tb.chains.back();
    }

    ChainAst& existing_chain(TableAst& tb) {
        Token n = peek();
        std::string name = expect_name("chain name");
        ChainAst* c = tb.chain(name);
        if (!c) fail(n.loc, "unknown chain \"" + name + "\"");
        return *c;
    }

    // ---------------------------------------------------------------- blocks
    void table_block(TableAst& tb) {
        expect("{");
        for (;;) {
            skip_seps();
            Token t = peek();
            if (t.is("}")) { next(); return; }
            next();
            if (t.is_word("chain")) {
                ChainAst& c = chain_decl(tb);
                chain_block(c);
            } else if (t.is_word("set") || t.is_word("map")) {
                set_decl(tb, t.text == "map");
            } else if (t.is_word("flags")) {
                do {
                    Token f = next();
                    if (f.is_word("dormant"))
                        tb.dormant = true;
                    else if (!(f.is_word("owner") || f.is_word("persist")))
                        unexpected(f, "dormant, owner or persist");
                } while (accept(","));
            } else if (t.is_word("comment")) {
                expect_name("string");
            } else if (t.is_word("counter")) {
                std::string name = expect_name("counter name");
                expect("{");
                for (;;) {  // `packets N bytes M` as nft lists it
                    skip_seps();
                    if (accept("}")) break;
                    Token k = next();
                    if (!(k.is_word("packets") || k.is_word("bytes") || k.is_word("comment")))
                        unexpected(k, "packets, bytes or '}'");
                    next();
                }
                tb.counters.push_back(name);
            } else {
                unexpected(t, "chain, set, map, counter, flags or '}'");
            }
            end_item(false);
        }
    }

    void chain_block(ChainAst& c) {
        expect("{");
        for (;;) {
            skip_seps();
            const Token& t = peek();
            if (t.is("}")) { next(); return; }
            if (t.is_word("type")) {
                parse_chain_type(c);
            } else if (t.is_word("policy")) {
                Token p = next();
                Token v = next();
                if (v.is_word("accept")) c.policy_drop = false;
                else if (v.is_word("drop")) c.policy_drop = true;
                else fail(v.loc, "invalid policy \"" + v.text + "\", expecting accept or drop");
                if (!c.base) fail(p.loc, "policy is only allowed in base chains");
            } else if (t.is_word("comment") && peek(1).kind == Token::Kind::string) {
                next();
                next();
            } else if (t.is_word("flags")) {
                next();
                Token f = next();
                if (!f.is_word("offload")) unexpected(f, "offload");
            } else if (t.is_word("devices") || t.is_word("device")) {
                fail(t.loc, "device hooks (netdev) are not supported by fwsim");
            } else {
                c.rules.push_back(parse_rule());
            }
            end_item(false);
        }
    }

    void parse_chain_type(ChainAst& c) {
        Token kw = next();  // type
        const bool was_base = c.base;
        const ChainType old_type = c.type;
        const Hook old_hook = c.hook;
        Token ty = next();
        c.type_loc = ty.loc;
        if (ty.is_word("filter")) c.type = ChainType::filter;
        else if (ty.is_word("nat")) c.type = ChainType::nat;
        else if (ty.is_word("route")) c.type = ChainType::route;
        else fail(ty.loc, "unknown chain type \"" + ty.text + "\"");
        expect("hook");
        Token h = next();
        c.hook_loc = h.loc;
        if (h.is_word("prerouting")) c.hook = Hook::prerouting;
        else if (h.is_word("input")) c.hook = Hook::input;
        else if (h.is_word("forward")) c.hook = Hook::forward;
        else if (h.is_word("output")) c.hook = Hook::output;
        else if (h.is_word("postrouting")) c.hook = Hook::postrouting;
        else if (h.is_word("ingress") || h.is_word("egress"))
            fail(h.loc, "hook \"" + h.text + "\" is not supported by fwsim");
        else fail(h.loc, "unknown chain hook \"" + h.text + "\"");
        if (accept("device")) next();
        Token pk = peek();
        expect("priority");
        c.prio_loc = peek().loc;
        c.priority = parse_priority(c, pk);
        if (was_base && (old_type != c.type || old_hook != c.hook))
            fail(h.loc, "chain \"" + c.name + "\" already exists on another hook or with another type");
        c.base = true;
        // nft_chain_parse_hook() in nf_tables_api.c: the chain type's hook mask
        // (nat: not forward; route: output only) and no nat at or before conntrack.
        if (c.type == ChainType::nat && c.hook == Hook::forward)
            fail(h.loc, "nat chains are not supported on the forward hook");
        if (c.type == ChainType::route && c.hook != Hook::output)
            fail(h.loc, "route chains are only supported on the output hook");
        if (c.type == ChainType::nat && c.priority <= -200)
            fail(c.prio_loc, "nat chain priority must be greater than -200 (conntrack)");
        (void)kw;
    }

    int32_t parse_priority(const ChainAst& c, const Token& pk) {
        Token v = next();
        int32_t base = 0;
        bool neg = false;
        if (v.is("-")) {
            neg = true;
            v = next();
        }
        static constexpr std::pair<std::string_view, int32_t> names[] = {
            {"raw", -300}, {"mangle", -150}, {"dstnat", -100},
            {"filter", 0}, {"security", 50}, {"srcnat", 100}};
        bool named = false;
        for (auto& [n, p] : names) {
            if (v.is_word(n) && !neg) {
                base = p;
                named = true;
                // std_prio_family_hook_compat() in nftables: dstnat only on
                // prerouting, srcnat only on postrouting.
                if ((n == "dstnat" && c.hook != Hook::prerouting) ||
                    (n == "srcnat" && c.hook != Hook::postrouting))
                    fail(pk.loc, "invalid priority expression value in this context.");
            }
        }
        if (!named) {
            auto n = parse_int(v);
            if (!n) fail(v.loc, "invalid priority \"" + v.text + "\"");
            base = int32_t(neg ? -*n : *n);
        }
        if (named && (peek().is("+") || peek().is("-"))) {
            bool minus = next().text == "-";
            Token o = next();
            auto n = parse_int(o);
            if (!n) fail(o.loc, "invalid priority offset \"" + o.text + "\"");
            base += int32_t(minus ? -*n : *n);
        }
        return base;
    }

    // nft's time format: 1d2h3m4s5ms, or a number of seconds.
    uint64_t parse_time(const Token& t) {
        if (auto n = parse_int(t)) return uint64_t(*n) * 1000;
        uint64_t total = 0;
        const std::string& x = t.text;
        size_t i = 0;
        bool any = false;
        while (i < x.size()) {
            uint64_t v = 0;
            size_t d = i;
            while (i < x.size() && x[i] >= '0' && x[i] <= '9') v = v * 10 + uint64_t(x[i++] - '0');
            if (i == d || v > (uint64_t(1) << 40)) fail(t.loc, "invalid time \"" + x + "\"");
            std::string unit;
            while (i < x.size() && x[i] >= 'a' && x[i] <= 'z') unit += x[i++];
            uint64_t mul = unit == "d" ? 86400000 : unit == "h" ? 3600000 : unit == "m" ? 60000
                           : unit == "s" ? 1000 : unit == "ms" ? 1 : 0;
            if (mul == 0) fail(t.loc, "invalid time \"" + x + "\"");
            total += v * mul;
            any = true;
        }
        if (!any) fail(t.loc, "invalid time \"" + x + "\"");
        return total;
    }

    // N bytes|kbytes|mbytes (quota)
    uint64_t parse_bytes() {
        Token n = next();
        auto v = parse_int(n);
        if (!v) unexpected(n, "number");
        Token u = next();
        uint64_t mul = u.is_word("bytes") ? 1 : u.is_word("kbytes") ? 1024 : u.is_word("mbytes") ? 1024 * 1024 : 0;
        if (!mul) unexpected(u, "bytes, kbytes or mbytes");
        return uint64_t(*v) * mul;
    }

    void number() {
        Token n = next();
        if (!parse_int(n)) unexpected(n, "number");
    }

    static std::optional<int64_t> parse_int(const Token& t) {
        if (t.kind != Token::Kind::word || t.text.empty()) return std::nullopt;
        int64_t v = 0;
        for (char ch : t.text) {
            if (ch < '0' || ch > '9') return std::nullopt;
            v = v * 10 + (ch - '0');
            if (v > (int64_t(1) << 40)) return std::nullopt;
        }
        return v;
    }

    void set_decl(TableAst& tb, bool is_map) {
        Token n = peek();
        std::string name = expect_name("set name");
        SetAst* s = tb.set(name);
        if (!s) {
            SetAst ns;
            ns.name = name;
            ns.loc = n.loc;
            ns.is_map = is_map;
            tb.sets.push_back(std::move(ns));
            s = &tb.sets.back();
        }
        expect("{");
        for (;;) {
            skip_seps();
            Token t = next();
            if (t.is("}")) break;
            if (t.is_word("type")) {
                s->type_loc = t.loc;
                s->key.clear();
                do {
                    Token ty = next();
                    auto tt = type_by_name(ty.text);
                    if (!tt || *tt == Type::verdict) fail(ty.loc, "unknown or unsupported set type \"" + ty.text + "\"");
                    s->key.push_back(*tt);
                } while (accept("."));
                if (accept(":")) {
                    Token ty = next();
                    auto tt = type_by_name(ty.text);
                    if (!tt) fail(ty.loc, "unknown or unsupported map type \"" + ty.text + "\"");
                    s->has_data = true;
                    s->data = *tt;
                }
            } else if (t.is_word("typeof")) {
                s->type_loc = t.loc;
                s->key.clear();
                do {
                    SelRef r = selector_required();
                    s->key.push_back(sel_info(r.sel).type);
                } while (accept("."));
                if (accept(":")) {
                    if (accept("verdict")) {
                        s->data = Type::verdict;
                    } else {
                        SelRef r = selector_required();
                        s->data = sel_info(r.sel).type;
                    }
                    s->has_data = true;
                }
            } else if (t.is_word("flags")) {
                do {
                    Token f = next();
                    if (f.is_word("interval")) s->interval = true;
                    else if (f.is_word("dynamic")) s->dynamic = true;
                    else if (f.is_word("timeout")) s->has_timeout_flag = true;
                    else if (!f.is_word("constant"))
                        fail(f.loc, "unknown set flag \"" + f.text + "\"");
                } while (accept(","));
            } else if (t.is_word("timeout")) {
                s->timeout_ms = parse_time(next());
                s->has_timeout_flag = true;
            } else if (t.is_word("size")) {
                Token n = next();
                auto v = parse_int(n);
                if (!v || *v == 0 || *v > UINT32_MAX) fail(n.loc, "invalid set size \"" + n.text + "\"");
                s->size = uint32_t(*v);
            } else if (t.is_word("elements")) {
                expect("=");
                Val v = parse_set();
                for (auto& e : v.kids) s->elements.push_back(std::move(e));
            } else if (t.is_word("gc-interval") || t.is_word("policy") || t.is_word("comment")) {
                next();
            } else if (t.is_word("auto-merge") || t.is_word("counter")) {
            } else {
                unexpected(t, "type, typeof, flags, elements or '}'");
            }
            if (peek().is("}")) continue;
            end_item(false);
        }
        if (s->key.empty()) fail(n.loc, "set \"" + name + "\" has no type");
        if (is_map && !s->has_data) fail(s->type_loc, "map \"" + name + "\" needs a data type (type KEY : DATA)");
        if (!is_map && s->has_data) fail(s->type_loc, "a set has no data type; use map");
    }

    // ---------------------------------------------------------------- rules
    std::optional<SelRef> try_selector() {
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
    SelRef selector_required() {
        auto s = try_selector();
        if (!s) unexpected(peek(), "a selector (ip saddr, tcp dport, ...)");
        return *s;
    }

    static bool rule_end(const Token& t) {
        return t.is_sep() || t.kind == Token::Kind::eof || t.is("}");
    }

    RuleAst parse_rule() {
        RuleAst r;
        r.loc = peek().loc;
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
        for (size_t i = start; i < pos_; ++i) {
            const Token& t = toks_[i];
            if (!r.text.empty() && !t.is(",")) r.text += ' ';
            if (t.kind == Token::Kind::string) r.text += '"' + t.text + '"';
            else if (t.kind == Token::Kind::setref) r.text += '@' + t.text;
            else r.text += t.text;
        }
        return r;
    }

    static bool is_terminal(const StmtAst& s) {
        if (s.k == StmtAst::K::verdict) return s.verdict != "continue";
        return s.k == StmtAst::K::reject || s.k == StmtAst::K::nat;
    }

    StmtAst stmt(StmtAst::K k, Loc loc) {
        StmtAst s;
        s.k = k;
        s.loc = loc;
        return s;
    }

    void parse_item(RuleAst& r) {
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
        } else if (w == "limit") {
            next();
            r.items.push_back(parse_limit(t));
        } else if (w == "quota") {
            next();
            StmtAst s = stmt(StmtAst::K::quota, t.loc);
            if (accept("over")) s.over = true;
            else accept("until");
            s.quota_bytes = parse_bytes();
            if (accept("used")) s.quota_used = parse_bytes();
            r.items.push_back(std::move(s));
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
            if (c.kind != Token::Kind::string && c.kind != Token::Kind::word) unexpected(c, "string");
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
            if (!sel) unexpected(t);
            parse_match(r, *sel);
        }
    }

    // { key [timeout T] [limit rate ...] [counter] } of add/update/delete/meter
    void dynset_body(StmtAst& s) {
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

    void parse_match(RuleAst& r, SelRef first) {
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
    Val parse_flag_value() {
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

    Val parse_rhs() {
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

    Val parse_concat() {
        Val v = parse_primary();
        if (!peek().is(".")) return v;
        Val c;
        c.k = Val::K::concat;
        c.loc = v.loc;
        c.kids.push_back(std::move(v));
        while (accept(".")) c.kids.push_back(parse_primary());
        return c;
    }

    Val parse_primary() {
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
        if (t.is("-")) {  // a negative number
            next();
            Token n = next();
            if (n.kind != Token::Kind::word) unexpected(n, "a number");
            v.k = Val::K::atom;
            v.text = "-" + n.text;
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

    Val parse_verdict_val() {
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

    // nft's opt_newline: one newline at most
    void opt_newline() {
        if (peek().kind == Token::Kind::newline) next();
    }

    Val parse_set() {
        Val s;
        s.k = Val::K::set;
        s.loc = peek().loc;
        expect("{");
        opt_newline();
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

    Val parse_map_ref() {
        const Token& t = peek();
        if (t.is("{")) return parse_set();
        if (t.kind == Token::Kind::setref) return parse_primary();
        unexpected(t, "'{' or @map");
    }

    StmtAst parse_reject(const Token& kw) {
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

    StmtAst parse_log(const Token& kw) {
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

    StmtAst parse_limit(const Token& kw) {
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

    StmtAst parse_nat(const Token& kw) {
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

    void nat_flags(StmtAst& s) {
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
};

}  // namespace

[[noreturn]] void fail_at(const std::vector<Source>& sources, Loc loc, const std::string& message) {
    if (loc.file < sources.size()) {
        const Source& s = sources[loc.file];
        throw InputError(s.path, loc.line, loc.col, message, line_of(s.text, loc.line));
    }
    throw InputError(message);
}

RulesetAst parse_ruleset(const std::string& path, const std::string& text, const FileReader& reader) {
    RulesetAst ast;
    Parser p(ast, reader);
    p.parse_file(path, text);
    return ast;
}

}  // namespace fwsim::rules::detail
