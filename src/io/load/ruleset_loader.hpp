// Loading rulesets from files: reads the file and its includes (relative to
// the including file; include loops are an error) and compiles them.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "fwsim/rules/ruleset.hpp"

namespace fwsim {

// Throws InputError with file/line/col/source_line on any error (including
// an unreadable file).
rules::Ruleset load_ruleset_file(const std::string& path, std::span<const std::string> interfaces);
// `name` is used in messages and RuleInfo.file; includes are read relative to
// the current directory.
rules::Ruleset load_ruleset_text(const std::string& name, std::string_view text,
                                 std::span<const std::string> interfaces);
// The built-in home-router ruleset (rules/home.nft compiled into the binary).
rules::Ruleset load_builtin_ruleset(std::span<const std::string> interfaces);

}  // namespace fwsim
