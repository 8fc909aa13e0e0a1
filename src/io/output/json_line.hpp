// A minimal, fast JSON writer for the per-packet outputs: a record is built
// in a buffer on the stack with plain pointer writes and appended to the
// output string once (flushed early only if a long string could overflow
// it). No DOM, no allocation once the output buffer has grown.
// (nlohmann/json is for config, topology and small documents.)
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fwsim/net.hpp"
#include "fwsim/time.hpp"

namespace fwsim {

// Appends s as a JSON string literal (quotes included), escaping as RFC 8259.
void append_json_string(std::string& out, std::string_view s);

class JsonLine {
public:
    explicit JsonLine(std::string& out) : out_(out), p_(buf_) {}
    ~JsonLine() { flush(); }
    JsonLine(const JsonLine&) = delete;
    JsonLine& operator=(const JsonLine&) = delete;

    JsonLine& begin() { put('{'); first_ = true; return *this; }
    JsonLine& end() { put('}'); first_ = false; return *this; }
    // Starts a nested object under key.
    JsonLine& object(std::string_view key) { sep(key); put('{'); first_ = true; return *this; }

    JsonLine& str(std::string_view key, std::string_view v) { sep(key); string(v); return *this; }
    // A value known to need no escaping (enum names, addresses).
    JsonLine& raw_str(std::string_view key, std::string_view v) {
        sep(key);
        room(v.size() + 2);
        *p_++ = '"';
        copy(v);
        *p_++ = '"';
        return *this;
    }
    // Pre-rendered JSON (e.g. a cached "rule" object).
    JsonLine& raw(std::string_view key, std::string_view json) { sep(key); room(json.size()); copy(json); return *this; }
    JsonLine& num(std::string_view key, uint64_t v) {
        sep(key);
        room(24);
        p_ = std::to_chars(p_, p_ + 24, v).ptr;
        return *this;
    }
    JsonLine& boolean(std::string_view key, bool v) { sep(key); room(5); copy(v ? "true" : "false"); return *this; }
    JsonLine& ts(std::string_view key, Nanos t, int digits);
    JsonLine& addr(std::string_view key, Family f, const IpAddr& a);
    // An array of strings under key.
    template <class It, class Fn>
    JsonLine& str_array(std::string_view key, It b, It e, Fn&& to_text) {
        sep(key);
        put('[');
        for (It i = b; i != e; ++i) {
            if (i != b) put(',');
            string(to_text(*i));
        }
        put(']');
        return *this;
    }
    // Ends the line: '}' must have been written by end().
    JsonLine& newline() { put('\n'); return *this; }
    // Moves what was built into the output string.
    void flush() {
        out_.append(buf_, size_t(p_ - buf_));
        p_ = buf_;
    }

private:
    static constexpr size_t kBuf = 4096;
    void room(size_t n) {
        if (size_t(buf_ + kBuf - p_) < n) flush();
    }
    void put(char c) {
        room(1);
        *p_++ = c;
    }
    void copy(std::string_view s) {  // caller made room (or s is longer than the buffer)
        if (s.size() > kBuf) {
            flush();
            out_.append(s);
            return;
        }
        std::memcpy(p_, s.data(), s.size());
        p_ += s.size();
    }
    void string(std::string_view s);
    void sep(std::string_view key) {
        room(key.size() + 4);
        if (!first_) *p_++ = ',';
        first_ = false;
        *p_++ = '"';
        std::memcpy(p_, key.data(), key.size());
        p_ += key.size();
        *p_++ = '"';
        *p_++ = ':';
    }

    std::string& out_;
    char buf_[kBuf];
    char* p_;
    bool first_ = true;
};

}  // namespace fwsim
