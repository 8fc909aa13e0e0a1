// A minimal, fast JSON writer for the per-packet outputs: appends to a
// reusable std::string, no DOM, no allocation once the buffer has grown.
// (nlohmann/json is for config, topology and small documents.)
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "fwsim/net.hpp"
#include "fwsim/time.hpp"

namespace fwsim {

// Appends s as a JSON string literal (quotes included), escaping as RFC 8259.
void append_json_string(std::string& out, std::string_view s);

class JsonLine {
public:
    explicit JsonLine(std::string& out) : out_(out) {}

    JsonLine& begin() { out_ += '{'; first_ = true; return *this; }
    JsonLine& end() { out_ += '}'; first_ = false; return *this; }
    // Starts a nested object under key.
    JsonLine& object(std::string_view key) { sep(key); out_ += '{'; first_ = true; return *this; }

    JsonLine& str(std::string_view key, std::string_view v) { sep(key); append_json_string(out_, v); return *this; }
    // A value known to need no escaping (enum names, addresses).
    JsonLine& raw_str(std::string_view key, std::string_view v) {
        sep(key);
        out_ += '"';
        out_ += v;
        out_ += '"';
        return *this;
    }
    // Pre-rendered JSON (e.g. a cached "rule" object).
    JsonLine& raw(std::string_view key, std::string_view json) { sep(key); out_ += json; return *this; }
    JsonLine& num(std::string_view key, uint64_t v) {
        sep(key);
        char b[24];
        out_.append(b, std::to_chars(b, b + sizeof b, v).ptr);
        return *this;
    }
    JsonLine& boolean(std::string_view key, bool v) { sep(key); out_ += v ? "true" : "false"; return *this; }
    JsonLine& ts(std::string_view key, Nanos t, int digits) { sep(key); append_ts(out_, t, digits); return *this; }
    JsonLine& addr(std::string_view key, Family f, const IpAddr& a);

private:
    void sep(std::string_view key) {
        if (!first_) out_ += ',';
        first_ = false;
        out_ += '"';
        out_ += key;
        out_ += "\":";
    }
    std::string& out_;
    bool first_ = true;
};

}  // namespace fwsim
