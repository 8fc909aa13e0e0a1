// Splits nftables text into tokens, as nft's scanner.l does for the subset
// fwsim reads. Words keep embedded '.', ':', '-', '/' and '*' so that
// addresses, prefixes, ranges and rates stay one token; the parser splits
// them once it knows the type expected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fwsim::rules::detail {

struct Loc {
    uint32_t file = 0;  // index into the parser's source list
    uint32_t line = 0, col = 0;
};

struct Token {
    enum class Kind : uint8_t {
        word,      // identifiers, numbers, addresses: ssh, 22, 10.0.0.0/8, echo-request
        string,    // "quoted" (text without quotes)
        variable,  // $name (text = name)
        setref,    // @name (text = name)
        punct,     // { } ( ) ; , = == != < > <= >= & | ^ ! . : / - + *
        newline,
        eof,
    };
    Kind kind = Kind::eof;
    std::string text;
    Loc loc;
    uint32_t expansion = 0;  // 0: as written; else the $variable expansion it came from

    bool is(std::string_view p) const { return (kind == Kind::punct || kind == Kind::word) && text == p; }
    bool is_word(std::string_view w) const { return kind == Kind::word && text == w; }
    bool is_sep() const { return kind == Kind::newline || (kind == Kind::punct && text == ";"); }
};

// The lexer does not throw: a bad character or an unterminated string is
// reported in `error`/`error_loc` and the parser turns it into an InputError.
struct LexResult {
    std::vector<Token> tokens;  // ends with eof
    std::string error;          // empty on success
    Loc error_loc;
};

LexResult lex(std::string_view text, uint32_t file);

}  // namespace fwsim::rules::detail
