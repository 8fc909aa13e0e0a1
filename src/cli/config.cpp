// fwsim config --defaults: the built-in topology and every configuration key.
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "io/load/config_loader.hpp"
#include "io/load/topology_loader.hpp"

namespace fwsim::cli {

namespace {

struct ConfigOptions {
    bool defaults = false;
    bool keys = false;
    bool json = false;
};

int run(const ConfigOptions& o) {
    const Config cfg;
    if (o.keys) {
        if (o.json) {
            std::printf("%s\n", config_to_json(cfg).c_str());
            return 0;
        }
        std::printf("%-28s %-10s %s\n", "KEY", "DEFAULT", "SYSCTL / MEANING");
        for (const auto& k : config_keys())
            std::printf("%-28.*s %-10s %.*s\n", int(k.key.size()), k.key.data(), get_config(cfg, k).c_str(),
                        int(k.sysctl.empty() ? k.help.size() : k.sysctl.size()),
                        k.sysctl.empty() ? k.help.data() : k.sysctl.data());
        return 0;
    }
    // A topology file (usable as --topology) whose sysctls spell out every default.
    std::printf("%s\n", topology_to_json(Topology::home_router(), cfg).c_str());
    return 0;
}

}  // namespace

void add_config(CLI::App& app, std::function<int()>& action) {
    auto o = std::make_shared<ConfigOptions>();
    CLI::App* c = app.add_subcommand("config", "Show the built-in defaults");
    c->add_flag("--defaults", o->defaults,
                "print the built-in topology with every conntrack default as a topology file");
    c->add_flag("--keys", o->keys, "list every configuration key (for --set and --config) with its default and sysctl");
    c->add_flag("--json", o->json, "with --keys: as JSON");
    c->callback([o, &action] {
        action = [o] {
            if (!o->defaults && !o->keys) {
                std::fprintf(stderr, "fwsim: error: config: say --defaults or --keys\n");
                return 2;
            }
            return run(*o);
        };
    });
}

}  // namespace fwsim::cli
