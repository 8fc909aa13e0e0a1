// One function per command: each registers its subcommand and, when chosen,
// sets `action` to the code that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace fwsim::cli {

void add_replay(CLI::App& app, std::function<int()>& action);
void add_explain(CLI::App& app, std::function<int()>& action);
void add_config(CLI::App& app, std::function<int()>& action);

}  // namespace fwsim::cli
