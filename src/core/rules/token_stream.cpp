#include "token_stream.hpp"

namespace fwsim::rules::detail {

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

}  // namespace fwsim::rules::detail
