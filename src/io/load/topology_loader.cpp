#include "io/load/topology_loader.hpp"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fwsim/error.hpp"

namespace fwsim {

namespace {

// ordered_json keeps the file's order: interface numbers follow it.
using Json = nlohmann::ordered_json;

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

[[noreturn]] void fail(const std::string& file, const std::string& msg) {
    throw InputError(file, 0, 0, msg);
}

void check_fields(const std::string& file, const std::string& where, const Json& obj,
                  std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : obj.items()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string msg = (where.empty() ? "" : where + ": ") + "unknown field \"" + key + "\"";
        std::string_view best;
        size_t best_d = 3;  // suggest only close spellings
        for (std::string_view k : known) {
            const size_t d = edit_distance(key, k);
            if (d < best_d) best_d = d, best = k;
        }
        if (!best.empty()) msg += " (did you mean \"" + std::string(best) + "\"?)";
        fail(file, msg);
    }
}

const Json& need_array(const std::string& file, const std::string& where, const Json& v) {
    if (!v.is_array()) fail(file, where + ": expected an array");
    return v;
}

std::vector<Prefix> prefixes(const std::string& file, const std::string& where, const Json& v,
                             bool keep_host) {
    std::vector<Prefix> out;
    size_t i = 0;
    for (const Json& e : need_array(file, where, v)) {
        const std::string w = where + "[" + std::to_string(i++) + "]";
        if (!e.is_string()) fail(file, w + ": expected a string such as \"10.0.0.1/24\"");
        const std::string s = e.get<std::string>();
        auto p = parse_prefix(s, keep_host);
        if (!p) fail(file, w + ": bad prefix \"" + s + "\"");
        out.push_back(*p);
    }
    return out;
}

std::string value_text(const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
    return v.dump();
}

void apply_sysctls(const std::string& file, const Json& s, Config* cfg) {
    if (!s.is_object()) fail(file, "sysctls: expected an object of \"name\": value");
    for (const auto& [key, value] : s.items()) {
        const std::string where = "sysctls." + key;
        if (!value.is_string() && !value.is_number() && !value.is_boolean())
            fail(file, where + ": expected a string or a number");
        const ConfigKey* k = find_config_key(key);
        if (!k) {
            // The oracle sets any sysctl; only conntrack's own ones change
            // fwsim's behaviour. A misspelt one of those is an error.
            if (key.rfind("net.netfilter.", 0) == 0)
                fail(file, where + ": unknown conntrack sysctl (fwsim config --defaults lists them)");
            continue;
        }
        if (cfg) {
            const std::string err = set_config(*cfg, key, value_text(value));
            if (!err.empty()) fail(file, where + ": " + err);
        }
    }
}

Interface parse_interface(const std::string& file, const std::string& name, const Json& v) {
    const std::string where = "interfaces." + name;
    if (!v.is_object()) fail(file, where + ": expected an object");
    check_fields(file, where, v, {"addrs", "subnets", "default", "mac", "peer_mac", "capture_ifs"});
    Interface in;
    in.name = name;
    if (v.contains("addrs")) in.addrs = prefixes(file, where + ".addrs", v["addrs"], true);
    if (v.contains("subnets")) in.subnets = prefixes(file, where + ".subnets", v["subnets"], false);
    if (v.contains("default")) {
        if (!v["default"].is_boolean()) fail(file, where + ".default: expected true or false");
        in.is_default = v["default"].get<bool>();
    }
    for (const char* mac : {"mac", "peer_mac"})
        if (v.contains(mac) && !v[mac].is_string())
            fail(file, where + "." + mac + ": expected a string such as \"02:00:00:00:00:01\"");
    if (v.contains("capture_ifs")) {
        size_t i = 0;
        for (const Json& c : need_array(file, where + ".capture_ifs", v["capture_ifs"])) {
            const std::string w = where + ".capture_ifs[" + std::to_string(i++) + "]";
            if (!c.is_number_integer() || c.get<int64_t>() < 0 || c.get<int64_t>() > INT32_MAX)
                fail(file, w + ": expected a capture interface id (a number >= 0)");
            in.capture_ifs.push_back(int32_t(c.get<int64_t>()));
        }
    }
    return in;
}

std::vector<Route> parse_routes(const std::string& file, const Json& v,
                                const std::vector<Interface>& ifs) {
    std::vector<Route> routes;
    size_t i = 0;
    for (const Json& r : need_array(file, "routes", v)) {
        const std::string where = "routes[" + std::to_string(i++) + "]";
        if (!r.is_object()) fail(file, where + ": expected an object");
        check_fields(file, where, r, {"dst", "via", "dev"});
        if (!r.contains("dst") || !r["dst"].is_string()) fail(file, where + ".dst: missing prefix");
        if (!r.contains("dev") || !r["dev"].is_string()) fail(file, where + ".dev: missing interface");
        Route rt;
        const std::string dst = r["dst"].get<std::string>();
        auto p = parse_prefix(dst);
        if (!p) fail(file, where + ".dst: bad prefix \"" + dst + "\"");
        rt.dst = *p;
        const std::string dev = r["dev"].get<std::string>();
        auto it = std::find_if(ifs.begin(), ifs.end(), [&](const Interface& x) { return x.name == dev; });
        if (it == ifs.end()) fail(file, where + ".dev: unknown interface \"" + dev + "\"");
        rt.iface = uint16_t(it - ifs.begin());
        if (r.contains("via")) {
            Family f = Family::none;
            std::optional<IpAddr> via;
            if (r["via"].is_string()) via = parse_addr(r["via"].get<std::string>(), &f);
            if (!via) fail(file, where + ".via: bad address");
            if (f != rt.dst.family) fail(file, where + ".via: address family differs from dst");
            rt.via = via;
        }
        routes.push_back(rt);
    }
    return routes;
}

// nlohmann's parse_error gives a byte offset; users want line and column.
void line_col(std::string_view text, size_t byte, uint32_t* line, uint32_t* col,
              std::string* src_line) {
    byte = std::min(byte, text.size());
    // The reported byte is one past the offending character.
    const size_t pos = byte > 0 ? byte - 1 : 0;
    *line = 1;
    size_t start = 0;
    for (size_t i = 0; i < pos && i < text.size(); ++i)
        if (text[i] == '\n') ++*line, start = i + 1;
    *col = uint32_t(pos - start + 1);
    const size_t end = text.find('\n', start);
    *src_line = std::string(text.substr(start, end == std::string_view::npos ? text.npos : end - start));
}

}  // namespace

Topology parse_topology(std::string_view text, const std::string& name, Config* cfg) {
    Json doc;
    try {
        doc = Json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        uint32_t line = 0, col = 0;
        std::string src;
        line_col(text, e.byte, &line, &col, &src);
        std::string msg = e.what();
        // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
        if (auto p = msg.find(": "); p != std::string::npos) msg = msg.substr(p + 2);
        throw InputError(name, line, col, "bad JSON: " + msg, src);
    }
    if (!doc.is_object()) fail(name, "expected a JSON object with \"interfaces\"");
    check_fields(name, "", doc, {"interfaces", "mtu", "sysctls", "routes"});
    if (!doc.contains("interfaces") || !doc["interfaces"].is_object() || doc["interfaces"].empty())
        fail(name, "interfaces: expected an object with at least one interface");
    if (doc.contains("mtu") && (!doc["mtu"].is_number_unsigned() || doc["mtu"].get<uint64_t>() < 68 ||
                                doc["mtu"].get<uint64_t>() > 65535))
        fail(name, "mtu: expected a number from 68 to 65535");
    std::vector<Interface> ifs;
    for (const auto& [ifname, v] : doc["interfaces"].items())
        ifs.push_back(parse_interface(name, ifname, v));
    std::vector<Route> routes;
    if (doc.contains("routes")) routes = parse_routes(name, doc["routes"], ifs);
    if (doc.contains("sysctls")) apply_sysctls(name, doc["sysctls"], cfg);
    try {
        return Topology(std::move(ifs), std::move(routes));
    } catch (const InputError& e) {
        fail(name, e.what());
    }
}

Topology load_topology(const std::string& path, Config* cfg) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, 0, 0, "cannot read topology file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw InputError(path, 0, 0, "cannot read topology file");
    return parse_topology(ss.str(), path, cfg);
}

std::string topology_to_json(const Topology& t, const Config& cfg) {
    Json doc;
    Json ifs = Json::object();
    for (const Interface& in : t.interfaces()) {
        Json j = Json::object();
        Json addrs = Json::array(), subnets = Json::array();
        for (const Prefix& p : in.addrs) addrs.push_back(to_string(p));
        for (const Prefix& p : in.subnets) subnets.push_back(to_string(p));
        j["addrs"] = addrs;
        j["subnets"] = subnets;
        if (in.is_default) j["default"] = true;
        if (!in.capture_ifs.empty()) j["capture_ifs"] = in.capture_ifs;
        ifs[in.name] = j;
    }
    doc["interfaces"] = ifs;
    if (!t.routes().empty()) {
        Json routes = Json::array();
        for (const Route& r : t.routes()) {
            Json j = Json::object();
            j["dst"] = to_string(r.dst);
            if (r.via) j["via"] = to_string(r.dst.family, *r.via);
            j["dev"] = std::string(t.name(r.iface));
            routes.push_back(j);
        }
        doc["routes"] = routes;
    }
    Json sys = Json::object();
    for (const ConfigKey& k : config_keys())
        if (!k.sysctl.empty()) sys[std::string(k.sysctl)] = get_config(cfg, k);
    doc["sysctls"] = sys;
    return doc.dump(2) + "\n";
}

}  // namespace fwsim
