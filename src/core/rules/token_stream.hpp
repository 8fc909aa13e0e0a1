// The token stream the parsers read: lookahead with $variable expansion
// (nft substitutes a defined expression where it is used), and the error
// helpers that turn a token's location into an InputError.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ast.hpp"
#include "lexer.hpp"

namespace fwsim::rules::detail {

[[noreturn]] void fail_at(const std::vector<Source>& sources, Loc loc, const std::string& message);
std::string describe(const Token& t);
// Words nft's scanner makes keywords that can never be a value or a name.
bool is_keyword(std::string_view w);

inline constexpr size_t kMaxExpansions = 100000;

class TokenStream {
public:
    explicit TokenStream(const std::vector<Source>& sources) : sources_(sources) {}

protected:
    const std::vector<Source>& sources_;
    std::vector<Token> toks_;
    size_t pos_ = 0;
    std::map<std::string, std::vector<Token>> defines_;
    // $variable expansions: the variable, where it was used (the outermost
    // use for nested variables) and the outermost expansion's id
    struct Expansion {
        std::string name;
        Loc use;
        uint32_t top = 0;
    };
    std::vector<Expansion> expansion_{Expansion{}};  // id 0: not an expansion
    // Where a token stands in the text as written.
    Loc written_loc(const Token& t) const { return t.expansion ? expansion_[t.expansion].use : t.loc; }
    size_t expansions_ = 0;

    [[noreturn]] void fail(Loc loc, const std::string& msg) { fail_at(sources_, loc, msg); }
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
                // remember where the variable was used, for rule text and lines
                const uint32_t id = uint32_t(expansion_.size());
                const uint32_t top = v.expansion ? expansion_[v.expansion].top : id;
                expansion_.push_back(Expansion{v.text, v.expansion ? expansion_[v.expansion].use : v.loc, top});
                toks_.erase(toks_.begin() + long(i));
                auto at = toks_.insert(toks_.begin() + long(i), it->second.begin(), it->second.end());
                for (size_t j = 0; j < it->second.size(); ++j) at[long(j)].expansion = id;
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

    // nft's opt_newline: one newline at most
    void opt_newline() {
        if (peek().kind == Token::Kind::newline) next();
    }
};

}  // namespace fwsim::rules::detail
