#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>

#include "fwsim/error.hpp"
#include "io/load/topology_loader.hpp"

using namespace fwsim;

namespace {

// The message of the InputError the text raises ("" if none).
std::string error_of(const std::string& text, Config* cfg = nullptr) {
    try {
        parse_topology(text, "topo.json", cfg);
    } catch (const InputError& e) {
        return e.render();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(loads_interfaces_in_file_order) {
    const Topology t = parse_topology(R"({"interfaces": {
        "wan0": {"addrs": ["203.0.113.1/24"], "default": true, "mac": "02:00:00:00:00:01"},
        "lan0": {"addrs": ["192.168.1.1/24"], "subnets": ["10.0.0.0/8"], "capture_ifs": [2]}},
        "mtu": 1500,
        "routes": [{"dst": "172.16.0.0/12", "via": "192.168.1.254", "dev": "lan0"}]})",
                                      "t.json", nullptr);
    BOOST_TEST(t.names() == (std::vector<std::string>{"wan0", "lan0"}));
    BOOST_TEST(t.default_iface() == 0);
    BOOST_TEST(t.interfaces()[0].addrs[0].len == 24);
    BOOST_TEST(t.interfaces()[0].addrs[0].addr.b[3] == 1);  // host bits kept
    BOOST_TEST(t.routes().size() == 1u);
    Family f;
    BOOST_TEST(t.route(Family::ipv4, *parse_addr("172.20.1.1", &f)) == 1);
    BOOST_TEST(t.ingress_of(Family::ipv4, *parse_addr("8.8.8.8", &f), 2) == 1);
}

BOOST_AUTO_TEST_CASE(bad_prefix_names_field_and_value) {
    BOOST_TEST(error_of(R"({"interfaces": {"lan0": {"addrs": ["10.0.0.1/24", "10.0.0.1/33"]}}})") ==
               R"(topo.json: interfaces.lan0.addrs[1]: bad prefix "10.0.0.1/33")");
}

BOOST_AUTO_TEST_CASE(unknown_field_suggests_spelling) {
    BOOST_TEST(error_of(R"({"interfaces": {"lan0": {"subnet": ["10.0.0.0/8"]}}})") ==
               R"(topo.json: interfaces.lan0: unknown field "subnet" (did you mean "subnets"?))");
    BOOST_TEST(error_of(R"({"interfaces": {"lan0": {}}, "colour": 1})") ==
               R"(topo.json: unknown field "colour")");
}

BOOST_AUTO_TEST_CASE(overlapping_addresses_are_rejected) {
    BOOST_TEST(error_of(R"({"interfaces": {"a0": {"addrs": ["10.0.0.1/24"]},
                                            "b0": {"addrs": ["10.0.0.1/24"]}}})") ==
               "topo.json: interfaces.b0.addrs[0]: address 10.0.0.1 is also on a0");
    BOOST_TEST(error_of(R"({"interfaces": {"a0": {"addrs": ["10.0.0.1/16"]},
                                            "b0": {"addrs": ["10.0.5.1/24"]}}})") ==
               "topo.json: interfaces.b0.addrs[0]: 10.0.5.1/24 overlaps 10.0.0.1/16 on a0");
}

BOOST_AUTO_TEST_CASE(unknown_interface_in_route_is_rejected) {
    BOOST_TEST(error_of(R"({"interfaces": {"lan0": {}}, "routes": [{"dst": "10.0.0.0/8", "dev": "eth9"}]})") ==
               R"(topo.json: routes[0].dev: unknown interface "eth9")");
}

BOOST_AUTO_TEST_CASE(two_default_interfaces_are_rejected) {
    BOOST_TEST(error_of(R"({"interfaces": {"a0": {"default": true}, "b0": {"default": true}}})") ==
               "topo.json: interfaces.b0.default: two default interfaces (a0 and b0)");
}

BOOST_AUTO_TEST_CASE(bad_json_reports_line_and_column) {
    try {
        parse_topology("{\"interfaces\": {\n  \"lan0\": {,}\n}}", "topo.json", nullptr);
        BOOST_FAIL("no error");
    } catch (const InputError& e) {
        BOOST_TEST(e.file() == "topo.json");
        BOOST_TEST(e.line() == 2u);
        BOOST_TEST(e.col() == 12u);
        BOOST_TEST(std::string(e.what()).rfind("bad JSON: ", 0) == 0u);
    }
}

BOOST_AUTO_TEST_CASE(sysctls_set_configuration) {
    Config c;
    parse_topology(R"({"interfaces": {"lan0": {}}, "sysctls": {
        "net.netfilter.nf_conntrack_tcp_loose": "0",
        "net.netfilter.nf_conntrack_max": 1000,
        "net.ipv4.ip_forward": "1"}})",
                   "t.json", &c);
    BOOST_TEST(c.tcp_loose == 0u);
    BOOST_TEST(c.ct_max == 1000u);
    BOOST_TEST(error_of(R"({"interfaces": {"lan0": {}}, "sysctls": {"net.netfilter.nf_conntrack_tcp_lose": "0"}})", &c) ==
               "topo.json: sysctls.net.netfilter.nf_conntrack_tcp_lose: unknown conntrack sysctl "
               "(fwsim config --defaults lists them)");
}

BOOST_AUTO_TEST_CASE(defaults_round_trip_through_json) {
    Config c;
    const std::string text = topology_to_json(Topology::home_router(), c);
    Config c2;
    c2.tcp_loose = 0;
    const Topology t = parse_topology(text, "defaults.json", &c2);
    BOOST_TEST(t.names() == Topology::home_router().names());
    BOOST_TEST(t.interfaces()[0].subnets == Topology::home_router().interfaces()[0].subnets);
    BOOST_TEST(t.interfaces()[1].is_default);
    BOOST_TEST(c2.tcp_loose == 1u);
}

BOOST_AUTO_TEST_CASE(shipped_topologies_load) {
    for (const char* f : {"home.json", "dmz.json", "server.json"}) {
        BOOST_TEST_CONTEXT(f) {
            Config c;
            const Topology t = load_topology(std::string(FWSIM_SOURCE_DIR) + "/topologies/" + f, &c);
            BOOST_TEST(!t.interfaces().empty());
        }
    }
    const Topology home = load_topology(std::string(FWSIM_SOURCE_DIR) + "/topologies/home.json", nullptr);
    const Topology builtin = Topology::home_router();
    BOOST_TEST(home.names() == builtin.names());
    for (size_t i = 0; i < home.interfaces().size(); ++i) {
        BOOST_TEST(home.interfaces()[i].addrs == builtin.interfaces()[i].addrs);
        BOOST_TEST(home.interfaces()[i].subnets == builtin.interfaces()[i].subnets);
        BOOST_TEST(home.interfaces()[i].is_default == builtin.interfaces()[i].is_default);
    }
}
