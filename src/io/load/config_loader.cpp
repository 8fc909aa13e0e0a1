#include "io/load/config_loader.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fwsim/error.hpp"

namespace fwsim {

void load_config_file(const std::string& path, Config& cfg) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot read configuration file");
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(ss.str());
    } catch (const nlohmann::json::parse_error& e) {
        throw InputError(path + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw InputError(path + ": expected a JSON object of \"key\": value pairs");
    for (const auto& [key, value] : j.items()) {
        std::string text;
        if (value.is_number_unsigned() || value.is_number_integer()) text = std::to_string(value.get<int64_t>());
        else if (value.is_number_float()) text = value.dump();
        else if (value.is_string()) text = value.get<std::string>();
        else throw InputError(path + ": \"" + key + "\": expected a number or a string");
        const std::string err = set_config(cfg, key, text);
        if (!err.empty()) throw InputError(path + ": " + err);
    }
}

void apply_set(std::string_view a, Config& cfg) {
    const auto eq = a.find('=');
    if (eq == std::string_view::npos || eq == 0)
        throw InputError("--set " + std::string(a) + ": expected KEY=VALUE");
    const std::string err = set_config(cfg, a.substr(0, eq), a.substr(eq + 1));
    if (!err.empty()) throw InputError("--set " + std::string(a) + ": " + err);
}

std::string config_to_json(const Config& cfg) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& k : config_keys()) {
        const std::string v = get_config(cfg, k);
        nlohmann::ordered_json e;
        e["value"] = k.is_double ? nlohmann::ordered_json(std::stod(v)) : nlohmann::ordered_json(std::stoull(v));
        if (!k.sysctl.empty()) e["sysctl"] = k.sysctl;
        e["help"] = k.help;
        out[std::string(k.key)] = e;
    }
    return out.dump(2);
}

}  // namespace fwsim
