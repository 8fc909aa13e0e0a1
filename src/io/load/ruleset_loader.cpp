#include "io/load/ruleset_loader.hpp"

#include <fstream>
#include <sstream>

#include "fwsim/error.hpp"

namespace fwsim {

extern const std::string_view kHomeNft;

namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return ss.str();
}

}  // namespace

rules::Ruleset load_ruleset_file(const std::string& path, std::span<const std::string> interfaces) {
    auto text = read_file(path);
    if (!text) throw InputError(path, 0, 0, "cannot read ruleset file");
    return rules::Ruleset::load(path, *text, read_file, interfaces);
}

rules::Ruleset load_ruleset_text(const std::string& name, std::string_view text,
                                 std::span<const std::string> interfaces) {
    return rules::Ruleset::load(name, std::string(text), read_file, interfaces);
}

rules::Ruleset load_builtin_ruleset(std::span<const std::string> interfaces) {
    return rules::Ruleset::load("rules/home.nft", std::string(kHomeNft), read_file, interfaces);
}

}  // namespace fwsim
