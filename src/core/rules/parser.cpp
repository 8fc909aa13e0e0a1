#include "parser.hpp"

#include "fwsim/error.hpp"
#include "rule_parser.hpp"

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




std::string dirname_of(const std::string& p) {
    size_t s = p.rfind('/');
    return s == std::string::npos ? std::string() : p.substr(0, s + 1);
}


class Parser : public RuleParser {
public:
    Parser(RulesetAst& ast, const FileReader& reader) : RuleParser(ast.sources), ast_(ast), reader_(reader) {}

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
    std::vector<std::string> include_stack_;

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
            const bool create = t.is_word("create");  // create: an error if it exists
            if (what.is_word("table")) {
                TableAst& tb = table_decl(true, create);
                if (peek().is("{")) table_block(tb);
            } else if (what.is_word("chain")) {
                TableAst& tb = table_decl(false);
                if (create && peek().kind != Token::Kind::eof && tb.chain(peek().text))
                    fail(peek().loc, "chain \"" + peek().text + "\" already exists");
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
                tb.remove_chain(&c);
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
            if (t.is_word("define") && defines_.count(n.text))
                fail(n.loc, "redefinition of symbol '" + n.text + "' (use redefine)");
            defines_[n.text] = std::move(value);
        } else if (t.is_word("undefine")) {
            Token n = next();
            defines_.erase(n.text);
        } else if (t.is_word("list") || t.is_word("reset") || t.is_word("describe")) {
            // commands that show or reset state change no rule: skipped
            while (!peek().is_sep() && peek().kind != Token::Kind::eof) next();
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
    TableAst& table_decl(bool create, bool must_be_new = false) {
        std::string fam = family_word();
        Token n = peek();
        std::string name = expect_name("table name");
        TableAst* tb = ast_.table(fam, name);
        if (tb && must_be_new) fail(n.loc, "table \"" + fam + " " + name + "\" already exists");
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
        return tb.add_chain(std::move(c));
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
            } else if (t.is_word("limit") || t.is_word("quota")) {
                // named objects: limit NAME { rate ... }, quota NAME { [over] N unit }
                std::string name = expect_name("object name");
                expect("{");
                skip_seps();
                StmtAst obj = t.is_word("limit") ? parse_limit(t) : parse_quota(t);
                skip_seps();
                expect("}");
                (t.is_word("limit") ? tb.limits : tb.quotas).emplace_back(name, std::move(obj));
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
                unexpected(t, "chain, set, map, counter, limit, quota, flags or '}'");
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
