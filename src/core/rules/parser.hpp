// nft syntax -> RulesetAst: table/chain/set blocks, the command forms
// (add/insert/flush/delete), define/$var, include, as nft's parser_bison.y.
#pragma once

#include <string>

#include "ast.hpp"
#include "fwsim/rules/ruleset.hpp"

namespace fwsim::rules::detail {

RulesetAst parse_ruleset(const std::string& path, const std::string& text, const FileReader& reader);

// Throws InputError at `loc` with the source line for the caret.
[[noreturn]] void fail_at(const std::vector<Source>& sources, Loc loc, const std::string& message);

}  // namespace fwsim::rules::detail
