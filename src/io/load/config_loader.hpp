// --config FILE.json and --set KEY=VALUE: both take the keys of
// `fwsim config --defaults` (or the kernel sysctl names they mirror).
#pragma once

#include <string>
#include <string_view>

#include "fwsim/config.hpp"

namespace fwsim {

// A JSON object {"timeout.tcp.established": 300, "net.netfilter.nf_conntrack_max": "1000", ...}.
// Throws InputError naming the file and the key.
void load_config_file(const std::string& path, Config& cfg);
// "KEY=VALUE"; throws InputError ("--set timeout.tcp.establshed=1: unknown configuration key ...").
void apply_set(std::string_view assignment, Config& cfg);
// Every key with its value and sysctl, as JSON, for `fwsim config --defaults`.
std::string config_to_json(const Config& cfg);

}  // namespace fwsim
