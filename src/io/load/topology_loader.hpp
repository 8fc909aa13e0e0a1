// Loading a topology file (the oracle's format plus fwsim's `routes` and
// `capture_ifs`) and printing one (for `fwsim config --defaults`).
#pragma once

#include <string>
#include <string_view>

#include "fwsim/config.hpp"
#include "fwsim/topology/topology.hpp"

namespace fwsim {

// Reads and validates the file; `sysctls` are applied to *cfg (when not null)
// via set_config(). Throws InputError naming the file and the field
// ("topo.json: interfaces.lan0.addrs[1]: bad prefix \"10.0.0.1/33\"") or, for
// bad JSON, the line and column.
Topology load_topology(const std::string& path, Config* cfg);
// The same from text; `name` is used in messages.
Topology parse_topology(std::string_view text, const std::string& name, Config* cfg);

// The topology as a topology file (2-space indented JSON), with every
// configuration key that has a sysctl under "sysctls".
std::string topology_to_json(const Topology& t, const Config& cfg);

}  // namespace fwsim
