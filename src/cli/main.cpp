// fwsim: an offline, deterministic stateful-firewall simulator.
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/common.hpp"

int main(int argc, char** argv) {
    CLI::App app{"fwsim: replay a capture through a Linux-compatible firewall (nftables, conntrack, NAT)"};
    app.set_version_flag("--version", std::string("fwsim ") + FWSIM_VERSION);
    app.require_subcommand(1);
    std::function<int()> action;
    fwsim::cli::add_replay(app, action);
    fwsim::cli::add_explain(app, action);
    fwsim::cli::add_config(app, action);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "fwsim: error: %s\n", e.what());
        std::fprintf(stderr, "Run with --help for more information.\n");
        return 2;
    }
    try {
        return action ? action() : 2;
    } catch (const std::exception& e) {
        return fwsim::cli::report(e);
    }
}
