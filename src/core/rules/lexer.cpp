#include "lexer.hpp"

#include <cctype>

namespace fwsim::rules::detail {

namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool hexish(char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; }

// A run holding ':' stays one word only when it looks like an IPv6 address
// (or a prefix/range of them, or a MAC address): two colons or more and hex
// digits only. Otherwise it is cut at the first ':' so that "1.2.3.4:80" and
// "80:accept" lex as separate tokens, as nft's scanner does.
size_t cut_colon(std::string_view run) {
    size_t first = run.find(':');
    if (first == std::string_view::npos) return run.size();
    size_t colons = 0;
    bool ok = true;
    for (char c : run) {
        if (c == ':') ++colons;
        else if (c == '/' || c == '-') continue;
        else if (!hexish(c)) ok = false;
    }
    if (ok && colons >= 2) return run.size();
    return first;
}

}  // namespace

LexResult lex(std::string_view text, uint32_t file) {
    LexResult r;
    uint32_t line = 1;
    size_t line_start = 0;
    size_t i = 0;
    auto loc_at = [&](size_t pos) { return Loc{file, line, uint32_t(pos - line_start + 1)}; };
    auto push = [&](Token::Kind k, std::string t, size_t pos) {
        r.tokens.push_back(Token{k, std::move(t), loc_at(pos)});
    };
    while (i < text.size()) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\r') { ++i; continue; }
        if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '\n' || text[i + 1] == '\r')) {
            // line continuation: the newline is not a separator
            i += 1;
            if (text[i] == '\r') ++i;
            if (i < text.size() && text[i] == '\n') ++i;
            ++line;
            line_start = i;
            continue;
        }
        if (c == '#') {
            while (i < text.size() && text[i] != '\n') ++i;
            // A line holding only a comment gives no newline token (nft's
            // scanner), which matters where one newline at most is allowed.
            bool alone = r.tokens.empty() || r.tokens.back().loc.line != line || r.tokens.back().loc.file != file;
            if (alone && i < text.size()) {
                ++i;
                ++line;
                line_start = i;
            }
            continue;
        }
        if (c == '\n') {
            push(Token::Kind::newline, "\n", i);
            ++i;
            ++line;
            line_start = i;
            continue;
        }
        if (c == '"') {
            size_t start = i++;
            std::string s;
            while (i < text.size() && text[i] != '"' && text[i] != '\n') {
                if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '"') ++i;
                s += text[i++];
            }
            if (i >= text.size() || text[i] != '"') {
                r.error = "unterminated string";
                r.error_loc = loc_at(start);
                return r;
            }
            ++i;
            push(Token::Kind::string, std::move(s), start);
            continue;
        }
        if ((c == '$' || c == '@') && i + 1 < text.size() &&
            (word_char(text[i + 1]))) {
            size_t start = i++;
            size_t b = i;
            while (i < text.size() && (word_char(text[i]) || text[i] == '-' || text[i] == '.')) ++i;
            push(c == '$' ? Token::Kind::variable : Token::Kind::setref,
                 std::string(text.substr(b, i - b)), start);
            continue;
        }
        bool starts_v6 = c == ':' && i + 1 < text.size() && text[i + 1] == ':';
        if (word_char(c) || starts_v6) {
            size_t start = i;
            while (i < text.size()) {
                char d = text[i];
                if (word_char(d) || d == '*') { ++i; continue; }
                char n = i + 1 < text.size() ? text[i + 1] : '\0';
                if ((d == '.' || d == '/' || d == '-') && word_char(n)) { ++i; continue; }
                if (d == '-' && n == ':') { ++i; continue; }
                if (d == ':' && (word_char(n) || n == ':' || n == '/' )) { ++i; continue; }
                if (d == ':' && i > start && text[i - 1] == ':') { ++i; continue; }  // trailing "::"
                break;
            }
            std::string_view run = text.substr(start, i - start);
            size_t keep = cut_colon(run);
            if (keep == 0) keep = run.size();
            i = start + keep;
            push(Token::Kind::word, std::string(run.substr(0, keep)), start);
            continue;
        }
        static constexpr std::string_view two[] = {"==", "!=", "<=", ">="};
        bool done = false;
        for (auto t : two) {
            if (text.substr(i, 2) == t) {
                push(Token::Kind::punct, std::string(t), i);
                i += 2;
                done = true;
                break;
            }
        }
        if (done) continue;
        static constexpr std::string_view one = "{}();,=<>&|^!.:/-+*[]";
        if (one.find(c) != std::string_view::npos) {
            push(Token::Kind::punct, std::string(1, c), i);
            ++i;
            continue;
        }
        r.error = std::string("syntax error, unexpected character '") + c + "'";
        r.error_loc = loc_at(i);
        return r;
    }
    push(Token::Kind::eof, "", i);
    return r;
}

}  // namespace fwsim::rules::detail
