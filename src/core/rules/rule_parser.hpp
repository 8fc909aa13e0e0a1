// The rule half of nft's grammar: matches, values (sets, ranges,
// concatenations), statements (verdicts, log, limit, NAT, reject, dynamic
// sets). The top-level parser (parser.cpp) builds on it.
#pragma once

#include <optional>

#include "token_stream.hpp"

namespace fwsim::rules::detail {

class RuleParser : public TokenStream {
public:
    using TokenStream::TokenStream;

protected:
    std::optional<SelRef> try_selector();
    SelRef selector_required();
    static bool rule_end(const Token& t);
    RuleAst parse_rule();
    static bool is_terminal(const StmtAst& s);
    StmtAst stmt(StmtAst::K k, Loc loc);
    void parse_item(RuleAst& r);
    void dynset_body(StmtAst& s);
    void parse_match(RuleAst& r, SelRef first);
    Val parse_flag_value();
    Val parse_rhs();
    Val parse_concat();
    Val parse_primary();
    Val parse_verdict_val();
    Val parse_set();
    Val parse_map_ref();
    StmtAst parse_reject(const Token& kw);
    StmtAst parse_log(const Token& kw);
    StmtAst parse_limit(const Token& kw);
    StmtAst parse_quota(const Token& kw);
    StmtAst parse_nat(const Token& kw);
    void nat_flags(StmtAst& s);
};

}  // namespace fwsim::rules::detail
